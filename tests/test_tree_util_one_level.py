"""tree_util.flatten_one_level(_with_keys), is_tree_node, default_registry and tree.static,
against JAX 0.12.1."""
import collections
import dataclasses

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel import tree_util as tu

jax = pytest.importorskip("jax")
jtu = jax.tree_util

NT = collections.namedtuple("NT", "x y")
TREES = [{"a": 1, "b": (2, 3)}, (1, [2]), None, [5, 6], NT(1, 2),
         collections.OrderedDict(b=1, a=2), collections.defaultdict(int, {"a": 1})]


@pytest.mark.parametrize("tree", TREES, ids=lambda t: type(t).__name__)
def test_flatten_one_level_matches_jax(tree):
    ours, theirs = tu.flatten_one_level(tree), jtu.flatten_one_level(tree)
    assert list(ours[0]) == list(theirs[0]) and ours[1] == theirs[1]
    ours, theirs = tu.flatten_one_level_with_keys(tree), jtu.flatten_one_level_with_keys(tree)
    assert [(str(k), c) for k, c in ours[0]] == [(str(k), c) for k, c in theirs[0]]
    assert ours[1] == theirs[1]
    assert tu.default_registry.flatten_one_level(tree)[1] == theirs[1]


@pytest.mark.parametrize("leaf", [1, "a", object(), np.ones(2)], ids=lambda v: type(v).__name__)
def test_leaves_are_refused(leaf):
    with pytest.raises(ValueError, match="can't tree-flatten"):
        tu.flatten_one_level(leaf)
    with pytest.raises(ValueError, match="can't tree-flatten"):
        tu.flatten_one_level_with_keys(leaf)
    assert tu.default_registry.flatten_one_level(leaf) is None
    with pytest.raises(ValueError):
        tu.flatten_one_level(jnp.ones(2))


def test_is_tree_node_matches_jax():
    types = [int, type(None), tuple, list, dict, type(jnp.ones(2)), tu.Partial,
             collections.OrderedDict, str, NT]
    jtypes = [t if t not in (type(jnp.ones(2)), tu.Partial) else
              {type(jnp.ones(2)): type(jax.numpy.ones(2)), tu.Partial: jtu.Partial}[t]
              for t in types]
    assert [tu.is_tree_node(t) for t in types] == [jtu.is_tree_node(t) for t in jtypes]
    assert tu.is_tree_node(type(jaxel.random.key(0)))  # typed keys are pytree nodes
    with pytest.raises(TypeError):
        tu.is_tree_node(None)


def test_default_registry_methods():
    reg = tu.default_registry
    leaves, treedef = reg.flatten({"a": 1, "b": [2]})
    assert leaves == [1, 2] and treedef == tu.tree_structure({"a": 0, "b": [0]})
    assert reg.flatten((1, 2), leaf_predicate=lambda x: isinstance(x, tuple))[0] == [(1, 2)]
    paths, _ = reg.flatten_with_path({"a": 1})
    assert tu.keystr(paths[0][0]) == "['a']"
    assert reg.is_node(dict) and not reg.is_node(int)

    class Box:
        def __init__(self, v):
            self.v = v

    reg.register_node(Box, lambda b: ((b.v,), None), lambda _, ch: Box(ch[0]))
    assert tu.tree_leaves(Box(3)) == [3]


def test_tree_static_field():
    @tu.register_dataclass
    @dataclasses.dataclass
    class Op:
        x: object
        y: object
        op: str = jaxel.tree.static(default="add", metadata={"doc": "kept"})

    m = Op(1.0, 2.0)
    assert jaxel.tree.leaves(m) == [1.0, 2.0]
    assert jaxel.tree.unflatten(jaxel.tree.structure(m), [3.0, 4.0]) == Op(3.0, 4.0, "add")
    meta = dataclasses.fields(Op)[2].metadata
    assert meta["static"] is True and meta["doc"] == "kept"
    jf = dataclasses.field  # JAX's helper produces the same field metadata
    assert dict(jax.tree.static(default=1).metadata) == dict(jf(default=1, metadata={
        "static": True}).metadata)
