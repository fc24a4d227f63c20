"""Tests for jaxel.tree_util, jaxel.tree and jaxel.flatten_util.

Most tests check expected results written out by hand; the ``test_oracle_*`` tests also
compare with ``jax.tree_util`` (skipped where jax is not installed).
"""
import collections
import dataclasses
import enum
import functools
import operator
import pickle
import sys

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from jaxel import tree_util as tu
from jaxel.tree_util import (
    DictKey, FlattenedIndexKey, GetAttrKey, Partial, PyTreeDef, SequenceKey, keystr,
    tree_flatten, tree_flatten_with_path, tree_leaves, tree_leaves_with_path, tree_map,
    tree_map_with_path, tree_structure, tree_unflatten,
)

Point = collections.namedtuple("Point", "x y")
Other = collections.namedtuple("Other", "x y")


# Module-level node types, so that treedefs holding them can be pickled.
class Pair:
    def __init__(self, a, b):
        self.a, self.b = a, b

    def __eq__(self, other):
        return type(other) is Pair and (self.a, self.b) == (other.a, other.b)

    def __repr__(self):
        return f"Pair({self.a!r}, {self.b!r})"


tu.register_pytree_node(Pair, lambda p: ((p.a, p.b), "pair-aux"), lambda aux, ch: Pair(*ch))


@tu.register_dataclass
@dataclasses.dataclass
class Layer:
    w: object
    b: object
    act: str = dataclasses.field(default="relu", metadata=dict(static=True))


class Color(enum.StrEnum):
    RED = "red"
    BLUE = "blue"


def roundtrip(tree, **kw):
    leaves, treedef = tree_flatten(tree, **kw)
    return tree_unflatten(treedef, leaves)


# ------------------------------------------------------------------------------------------
# Flattening and rebuilding the built-in containers.
# ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("tree, leaves, text", [
    (1, [1], "*"),
    (None, [], "None"),
    ((), [], "()"),
    ([], [], "[]"),
    ({}, [], "{}"),
    ((1,), [1], "(*,)"),
    ((1, {"a": 2}), [1, 2], "(*, {'a': *})"),
    ([1, None, (2,)], [1, 2], "[*, None, (*,)]"),
    ({"b": 1, "a": (2, 3)}, [2, 3, 1], "{'a': (*, *), 'b': *}"),
    ({2: "x", 1: "y"}, ["y", "x"], "{1: *, 2: *}"),
    ({"a": None}, [], "{'a': None}"),
    (Point(1, [2]), [1, 2], "CustomNode(namedtuple[Point], [*, [*]])"),
    (collections.OrderedDict(b=1, a=2), [1, 2], "CustomNode(OrderedDict[('b', 'a')], [*, *])"),
    (collections.defaultdict(list, b=1, a=2), [2, 1],
     "CustomNode(defaultdict[(<class 'list'>, ('a', 'b'))], [*, *])"),
    (Pair(1, (2,)), [1, 2], "CustomNode(Pair[pair-aux], [*, (*,)])"),
    (Layer(1, 2, "tanh"), [1, 2], "CustomNode(Layer[('tanh',)], [*, *])"),
])
def test_flatten_builtin_containers(tree, leaves, text):
    got_leaves, treedef = tree_flatten(tree)
    assert isinstance(treedef, PyTreeDef)
    assert got_leaves == leaves
    assert repr(treedef) == f"PyTreeDef({text})"
    assert treedef.num_leaves == len(leaves)
    rebuilt = tree_unflatten(treedef, got_leaves)
    assert rebuilt == tree and type(rebuilt) is type(tree)


def test_unflatten_uses_new_leaves_and_sorted_dict_keys():
    treedef = tree_structure({"b": 0, "a": (0, 0)})
    out = tree_unflatten(treedef, ["x", "y", "z"])
    assert out == {"a": ("x", "y"), "b": "z"}
    assert list(out) == ["a", "b"]  # rebuilt with sorted keys, as JAX does


def test_unflatten_accepts_any_iterable():
    treedef = tree_structure([0, (0, 0)])
    assert treedef.unflatten(iter([1, 2, 3])) == [1, (2, 3)]
    assert tree_unflatten(treedef, (x for x in "abc")) == ["a", ("b", "c")]
    assert tree_unflatten(treedef, "abc") == ["a", ("b", "c")]


def test_unflatten_returns_fresh_containers():
    leaves = [1, 2]
    out = tree_unflatten(tree_structure([0, 0]), leaves)
    assert out == leaves and out is not leaves


def test_none_is_an_empty_node():
    assert tree_leaves(None) == []
    assert tree_leaves([None, 1, {"a": None}]) == [1]
    assert tree_map(lambda x: x + 1, [None, 1]) == [None, 2]
    assert tree_structure(None) == tree_structure(None)
    assert tree_structure(None) != tree_structure(1)
    assert not tu.treedef_is_leaf(tree_structure(None))


def test_is_leaf():
    tree = [None, 1, (2, [3])]
    assert tree_leaves(tree, is_leaf=lambda x: x is None) == [None, 1, 2, 3]
    leaves, treedef = tree_flatten(tree, is_leaf=lambda x: isinstance(x, tuple))
    assert leaves == [1, (2, [3])]
    assert repr(treedef) == "PyTreeDef([None, *, *])"
    assert tree_flatten(1, is_leaf=lambda x: True) == ([1], tree_structure(0))
    assert tree_flatten(None, is_leaf=lambda x: True)[0] == [None]
    # is_leaf is asked about the outermost subtree first.
    assert tree_leaves({"a": [1, 2]}, is_leaf=lambda x: isinstance(x, dict)) == [{"a": [1, 2]}]
    mapped = tree_map(lambda x: "leaf", tree, is_leaf=lambda x: x is None)
    assert mapped == ["leaf", "leaf", ("leaf", ["leaf"])]


def test_dict_keys_that_cannot_be_compared_raise_like_jax():
    jax = pytest.importorskip("jax")
    for d in ({"b": 1, 2: 2}, {None: 1, "a": 2}, {(1, "a"): 1, (1, 2): 2}):
        for fn in (tree_flatten, tree_leaves, lambda t: tree_map(lambda x: x, t)):
            with pytest.raises(ValueError, match="sorting pytree dictionary keys"):
                fn(d)
        with pytest.raises(ValueError, match="sorting pytree dictionary keys"):
            jax.tree_util.tree_flatten(d)
    # Comparable keys of different types are fine (as in JAX); is_leaf can stop early.
    assert tree_leaves({1: "a", True: "b", 2.5: "c"}) == jax.tree_util.tree_leaves(
        {1: "a", True: "b", 2.5: "c"})
    assert tree_leaves({1: 2, "a": 3}, is_leaf=lambda x: isinstance(x, dict)) == [{1: 2, "a": 3}]
    assert tree_leaves(collections.OrderedDict([(1, 2), ("a", 3)])) == [2, 3]


def test_dict_keys_keep_their_exact_objects():
    # Keys that are == to str keys but of another type must come back as themselves, also
    # on the cached fast path for flat str-keyed dicts.
    for _ in range(3):
        assert tree_flatten({"red": 1, "blue": 2})[0] == [2, 1]
        out = roundtrip({Color.RED: 1, Color.BLUE: 2})
        assert all(type(k) is Color for k in out)
    for _ in range(3):
        assert list(roundtrip({1: "a"})) == [1]
        out = roundtrip({True: "a"})
        assert list(out)[0] is True


def test_namedtuple_is_a_node_per_type():
    leaves, treedef = tree_flatten(Point(1, 2))
    assert leaves == [1, 2]
    assert tree_unflatten(treedef, [3, 4]) == Point(3, 4)
    assert type(tree_unflatten(treedef, [3, 4])) is Point
    assert treedef.node_data() == (Point, None)
    assert tree_structure(Point(1, 2)) != tree_structure(Other(1, 2))
    assert tree_structure(Point(1, 2)) != tree_structure((1, 2))


def test_ordereddict_keeps_insertion_order():
    a = collections.OrderedDict([("b", 1), ("a", 2)])
    leaves, treedef = tree_flatten(a)
    assert leaves == [1, 2]
    out = tree_unflatten(treedef, [10, 20])
    assert type(out) is collections.OrderedDict and list(out.items()) == [("b", 10), ("a", 20)]
    assert treedef.node_data() == (collections.OrderedDict, ("b", "a"))
    assert treedef != tree_structure(collections.OrderedDict([("a", 1), ("b", 2)]))
    assert treedef != tree_structure({"a": 1, "b": 2})


def test_defaultdict_keeps_its_factory():
    d = collections.defaultdict(list, {"b": 1, "a": 2})
    leaves, treedef = tree_flatten(d)
    assert leaves == [2, 1]
    out = tree_unflatten(treedef, [3, 4])
    assert type(out) is collections.defaultdict and out.default_factory is list
    assert dict(out) == {"a": 3, "b": 4}
    assert treedef.node_data() == (collections.defaultdict, (list, ("a", "b")))
    assert treedef != tree_structure(collections.defaultdict(set, {"b": 1, "a": 2}))


def test_subclasses_of_containers_are_leaves():
    class MyList(list):
        pass

    class MyDict(dict):
        pass

    assert tree_leaves([MyList([1, 2]), MyDict(a=1)]) == [MyList([1, 2]), MyDict(a=1)]


def test_everything_else_is_a_leaf():
    things = [1, 2.5, 1j, True, "s", b"b", np.float32(1), np.ones(3), object, len, range(3),
              {1, 2}, frozenset()]
    assert tree_leaves(things) is not things
    assert len(tree_leaves(things)) == len(things)
    assert tu.all_leaves(things)


def test_large_flat_containers_take_the_general_path():
    big = tuple(range(200))
    leaves, treedef = tree_flatten(big)
    assert leaves == list(big) and tree_unflatten(treedef, leaves) == big
    big_list = list(range(100))
    assert roundtrip(big_list) == big_list
    big_dict = {f"k{i}": i for i in range(100)}
    assert roundtrip(big_dict) == big_dict


def test_generated_builder_after_many_unflattens():
    tree = {"p": (1, [2, Point(3, 4)]), "q": Pair(5, {(1, "k"): 6, (0, "j"): 7}),
            "r": collections.OrderedDict(z=8, a=9), "s": None, "t": Layer(10, 11, "gelu"),
            "u": collections.defaultdict(int, {"a": 12}), "3": [(), [], {}]}
    leaves, treedef = tree_flatten(tree)
    for i in range(40):  # past the point where the structure gets a generated builder
        new = [x * 10 + i for x in leaves]
        out = tree_unflatten(treedef, new)
        assert tree_leaves(out) == new
        assert tree_structure(out) == treedef
    assert out["q"] == Pair(50 + i, {(1, "k"): 60 + i, (0, "j"): 70 + i})
    assert out["t"].act == "gelu"


def test_deep_structure_unflattens_many_times():
    tree = 0
    for _ in range(300):  # deeper than Python's parser takes nested brackets
        tree = [tree, 1]
    leaves, treedef = tree_flatten(tree)
    for _ in range(20):
        assert tree_unflatten(treedef, leaves) == tree


# ------------------------------------------------------------------------------------------
# PyTreeDef.
# ------------------------------------------------------------------------------------------

def test_treedef_counts():
    treedef = tree_structure((1, {"a": 2}, None, [3, []]))
    assert treedef.num_leaves == 3
    # tuple, 1, dict, 2, None, list, 3, [] = 8 nodes
    assert treedef.num_nodes == 8
    assert tree_structure(1).num_nodes == 1 and tree_structure(1).num_leaves == 1
    assert tree_structure(None).num_nodes == 1 and tree_structure(None).num_leaves == 0


def test_treedef_children_and_node_data():
    treedef = tree_structure((1, [2, 3], {"b": None, "a": 4}))
    assert treedef.children() == [tree_structure(0), tree_structure([0, 0]),
                                  tree_structure({"a": 0, "b": None})]
    assert [c.num_leaves for c in treedef.children()] == [1, 2, 1]
    assert tu.treedef_children(treedef) == treedef.children()
    assert treedef.node_data() == (tuple, None)
    assert treedef.children()[2].node_data() == (dict, ["a", "b"])
    assert tree_structure(1).node_data() is None
    assert tree_structure(1).children() == []
    assert tree_structure(Pair(1, 2)).node_data() == (Pair, "pair-aux")


def test_treedef_equality_and_hash():
    a = tree_structure((1, {"a": 2}))
    b = tree_structure(("x", {"a": [5]}), is_leaf=lambda x: isinstance(x, dict))
    assert a == tree_structure((7, {"a": 8}))
    assert hash(a) == hash(tree_structure((7, {"a": 8})))
    assert a != b and a != tree_structure([1, {"a": 2}]) and a != tree_structure((1, {"b": 2}))
    assert (a == 1) is False and (a != "x") is True
    assert len({a, tree_structure((7, {"a": 8})), tree_structure(None)}) == 2
    assert tree_structure(Layer(1, 2, "x")) != tree_structure(Layer(1, 2, "y"))
    with pytest.raises(TypeError):
        _ = a < a


def test_treedef_pickles():
    trees = [1, None, (1, {"a": [2, None]}), Point(1, 2), collections.OrderedDict(b=1, a=2),
             collections.defaultdict(list, a=1), Pair(1, (2, 3)), Layer(1, 2),
             Partial(operator.add, 1), {1: 2, 3: 4}]
    for tree in trees:
        treedef = tree_structure(tree)
        for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
            back = pickle.loads(pickle.dumps(treedef, protocol))
            assert back == treedef and hash(back) == hash(treedef)
            assert back.num_leaves == treedef.num_leaves
            assert repr(back) == repr(treedef)
            leaves = tree_leaves(tree)
            rebuilt = back.unflatten(leaves)
            assert tree_leaves(rebuilt) == leaves


def test_flatten_up_to():
    treedef = tree_structure((0, {"a": 0}))
    assert treedef.flatten_up_to(([1, 2], {"a": (3,)})) == [[1, 2], (3,)]
    assert tree_structure(1).flatten_up_to({"x": 1}) == [{"x": 1}]
    assert tree_structure(None).flatten_up_to(None) == []
    with pytest.raises(ValueError, match=r"At key path \[1\]: the treedef has a dict with "
                                         r"keys \['a'\], but the tree has a dict with keys "
                                         r"\['a', 'b'\]"):
        treedef.flatten_up_to((1, {"a": 2, "b": 3}))
    with pytest.raises(ValueError, match="the treedef has a tuple of length 2, but the tree "
                                         "has a list of length 2"):
        treedef.flatten_up_to([1, {"a": 2}])
    with pytest.raises(ValueError, match="is_leaf=lambda x: x is None"):
        tree_structure([None]).flatten_up_to([1])
    with pytest.raises(ValueError, match=r"an OrderedDict with keys \['a', 'b'\], but the tree "
                                         r"has an OrderedDict with keys \['b', 'a'\]"):
        tree_structure(collections.OrderedDict(a=1, b=2)).flatten_up_to(
            collections.OrderedDict(b=1, a=2))


def test_compose_and_treedef_tuple():
    outer, inner = tree_structure((0, 0)), tree_structure([0, {"a": 0}])
    composed = outer.compose(inner)
    assert composed == tree_structure(([0, {"a": 0}], [0, {"a": 0}]))
    assert composed.num_leaves == 4
    both = tu.treedef_tuple([tree_structure(1), inner])
    assert both == tree_structure((1, [0, {"a": 0}]))
    assert both.num_leaves == 3
    assert tu.treedef_tuple([]) == tree_structure(())


def test_build_tree_and_from_iterable_tree():
    treedef = tree_structure({"a": 0, "b": (0, Point(0, 0))})
    assert tu.build_tree(treedef, [1, [2, [3, 4]]]) == {"a": 1, "b": (2, Point(3, 4))}
    assert treedef.from_iterable_tree([1, (2, (3, 4))]) == {"a": 1, "b": (2, Point(3, 4))}
    # At leaf positions values are taken as they are, even containers.
    assert tree_structure((0, 0)).from_iterable_tree([[1], {"x": 2}]) == ([1], {"x": 2})
    with pytest.raises(ValueError, match="children"):
        tu.build_tree(tree_structure((0, 0)), [1, 2, 3])


def test_treedef_is_leaf_and_all_leaves():
    assert tu.treedef_is_leaf(tree_structure(1))
    assert tu.treedef_is_leaf(tree_structure(np.ones(2)))
    assert not tu.treedef_is_leaf(tree_structure((1,)))
    assert not tu.treedef_is_leaf(tree_structure(None))
    assert tu.all_leaves([1, "a", np.ones(2)])
    assert not tu.all_leaves([1, None])
    assert not tu.all_leaves([1, (2,)])
    assert tu.all_leaves([1, None], is_leaf=lambda x: x is None)
    assert tu.all_leaves([])


# ------------------------------------------------------------------------------------------
# Errors.
# ------------------------------------------------------------------------------------------

def test_wrong_number_of_leaves():
    treedef = tree_structure((1, {"a": 2}))
    with pytest.raises(ValueError, match=r"^Too few leaves for PyTreeDef; expected 2, got 1"):
        tree_unflatten(treedef, [1])
    with pytest.raises(ValueError, match=r"^Too many leaves for PyTreeDef; expected 2, got 3"):
        treedef.unflatten([1, 2, 3])
    with pytest.raises(ValueError, match="Too many leaves for PyTreeDef; expected 0, got 1"):
        tree_unflatten(tree_structure(None), [1])
    with pytest.raises(ValueError, match="Too few leaves for PyTreeDef; expected 1, got 0"):
        tree_unflatten(tree_structure(1), [])


def test_tree_map_structure_mismatch_message():
    with pytest.raises(ValueError) as info:
        tree_map(lambda a, b: a, (1, {"a": 2}), (1, {"b": 2}))
    msg = str(info.value)
    assert "tree_map: rest[0] does not have the tree structure of tree." in msg
    assert ("At key path [1]: tree has a dict with keys ['a'], but rest[0] has a dict with "
            "keys ['b'].") in msg
    assert "PyTreeDef((*, {'a': *}))" in msg and "PyTreeDef((*, {'b': *}))" in msg


@pytest.mark.parametrize("first, other, where, expected, got", [
    ((1, 2), (1, 2, 3), "(the root)", "a tuple of length 2", "a tuple of length 3"),
    ([1, 2], (1, 2), "(the root)", "a list of length 2", "a tuple of length 2"),
    ({"a": [1]}, {"a": 1}, "['a']", "a list of length 1", "a leaf of type int"),
    ((1, None), (1, 2), "[1]", "None", "a leaf of type int"),
    (Point(1, 2), Other(1, 2), "(the root)", "a namedtuple Point", "a namedtuple Other"),
    ([Point(1, [2])], [Point(1, [2, 3])], "[0].y", "a list of length 1", "a list of length 2"),
    (Layer(1, 2, "a"), Layer(1, 2, "b"), "(the root)", "aux data ('a',)", "aux data ('b',)"),
])
def test_mismatch_messages_name_the_key_path(first, other, where, expected, got):
    with pytest.raises(ValueError) as info:
        tree_map(lambda *xs: None, first, first, other)
    msg = str(info.value)
    assert "rest[1]" in msg
    assert f"At key path {where}: tree has " in msg
    assert expected in msg and got in msg


def test_none_mismatch_gets_a_hint():
    with pytest.raises(ValueError, match="To treat None as a leaf"):
        tree_map(lambda a, b: a, [None], [1])


def test_rest_may_have_subtrees_at_leaves_and_none_leaves():
    assert tree_map(lambda x, y: (x, y), (1, 2), ((1, 3), None)) == ((1, (1, 3)), (2, None))
    assert tree_map(lambda x, *ys: ys, 1, [2], {"a": 3}) == ([2], {"a": 3})


def test_duplicate_registration_is_an_error():
    with pytest.raises(ValueError, match="already registered"):
        tu.register_pytree_node(tuple, lambda x: (x, None), lambda a, c: tuple(c))
    with pytest.raises(ValueError, match="already registered"):
        tu.register_pytree_node(Pair, lambda x: ((), None), lambda a, c: None)
    with pytest.raises(ValueError, match="already registered"):
        tu.register_dataclass(Layer)
    with pytest.raises(ValueError, match="already registered"):
        tu.register_static(Partial)


def test_transpose_mismatch_is_a_type_error():
    outer, inner = tree_structure([0, 0]), tree_structure((0, 0))
    with pytest.raises(TypeError, match="tree_transpose"):
        tu.tree_transpose(outer, inner, [(1, 2), (3, 4, 5)])
    with pytest.raises(TypeError, match="tree_transpose"):
        tu.tree_transpose(outer, inner, [(1, 2)])
    with pytest.raises(TypeError, match="tree_transpose"):
        tu.tree_transpose(outer, inner, [[1, 2], [3, 4]])


# ------------------------------------------------------------------------------------------
# Key paths.
# ------------------------------------------------------------------------------------------

def test_key_entries():
    assert str(SequenceKey(0)) == "[0]"
    assert str(DictKey("a")) == "['a']" and str(DictKey(1)) == "[1]"
    assert str(GetAttrKey("name")) == ".name"
    assert str(FlattenedIndexKey(3)) == "[<flat index 3>]"
    assert repr(SequenceKey(0)) == "SequenceKey(idx=0)"
    assert repr(DictKey("a")) == "DictKey(key='a')"
    assert repr(GetAttrKey("x")) == "GetAttrKey(name='x')"
    assert repr(FlattenedIndexKey(3)) == "FlattenedIndexKey(key=3)"
    assert SequenceKey(1) == SequenceKey(1) and hash(SequenceKey(1)) == hash(SequenceKey(1))
    assert SequenceKey(1) != DictKey(1) and DictKey("a") != GetAttrKey("a")
    assert FlattenedIndexKey(0) != SequenceKey(0)
    for key in [SequenceKey(2), DictKey((1, "a")), GetAttrKey("w"), FlattenedIndexKey(0)]:
        assert pickle.loads(pickle.dumps(key)) == key
    match DictKey("w"):
        case DictKey(key=k):
            assert k == "w"
    match SequenceKey(4):
        case SequenceKey(i):
            assert i == 4


def test_keystr():
    path = (SequenceKey(0), DictKey("a"), GetAttrKey("x"), FlattenedIndexKey(3))
    assert keystr(path) == "[0]['a'].x[<flat index 3>]"
    assert keystr(path, simple=True, separator="/") == "0/a/x/3"
    assert keystr(path, separator=" ") == "[0] ['a'] .x [<flat index 3>]"
    assert keystr(()) == ""
    assert keystr((DictKey(1), DictKey("a"), SequenceKey(2)), simple=True) == "1a2"


def test_flatten_with_path_for_each_node_kind():
    tree = {"a": [1, Point(2, 3)], "b": collections.OrderedDict(z=4),
            "c": collections.defaultdict(int, k=5), "d": (None, Pair(6, 7)),
            "e": Layer(8, 9), "f": Partial(max, 10, key=11)}
    pairs, treedef = tree_flatten_with_path(tree)
    assert [keystr(p) for p, _ in pairs] == [
        "['a'][0]", "['a'][1].x", "['a'][1].y", "['b']['z']", "['c']['k']",
        "['d'][1][<flat index 0>]", "['d'][1][<flat index 1>]", "['e'].w", "['e'].b",
        "['f'][<flat index 0>][0]", "['f'][<flat index 1>]['key']"]
    assert [x for _, x in pairs] == tree_leaves(tree)
    assert treedef == tree_structure(tree)
    assert tree_leaves_with_path(tree) == pairs


def test_flatten_with_path_edge_cases():
    assert tree_flatten_with_path(5) == ([((), 5)], tree_structure(0))
    assert tree_flatten_with_path(None) == ([], tree_structure(None))
    pairs, _ = tree_flatten_with_path([None, 5], is_leaf=lambda x: x is None)
    assert pairs == [((SequenceKey(0),), None), ((SequenceKey(1),), 5)]


def test_is_leaf_takes_path():
    tree = {"a": [1, 2], "b": [3]}
    pairs, treedef = tree_flatten_with_path(
        tree, is_leaf=lambda path, x: path == (DictKey("a"),), is_leaf_takes_path=True)
    assert pairs == [((DictKey("a"),), [1, 2]), ((DictKey("b"), SequenceKey(0)), 3)]
    assert repr(treedef) == "PyTreeDef({'a': *, 'b': [*]})"


def test_tree_map_with_path():
    out = tree_map_with_path(lambda p, x, y: (keystr(p), x + y), {"a": (1, 2)}, {"a": (10, 20)})
    assert out == {"a": (("['a'][0]", 11), ("['a'][1]", 22))}
    assert tree_map_with_path(lambda p, x: (p, x), 7) == ((), 7)
    out = tree_map_with_path(lambda p, x: len(p), [None, [1]], is_leaf=lambda x: x is None)
    assert out == [1, [2]]
    with pytest.raises(ValueError, match="tree_map_with_path: rest\\[0\\]"):
        tree_map_with_path(lambda p, x, y: x, [1], [1, 2])


# ------------------------------------------------------------------------------------------
# Custom nodes.
# ------------------------------------------------------------------------------------------

def test_register_pytree_node_with_generator_children():
    class Bag:
        def __init__(self, items):
            self.items = list(items)

    tu.register_pytree_node(Bag, lambda b: ((x for x in b.items), len(b.items)),
                            lambda n, ch: Bag(ch))
    leaves, treedef = tree_flatten(Bag([1, (2, 3)]))
    assert leaves == [1, 2, 3]
    assert tree_unflatten(treedef, [4, 5, 6]).items == [4, (5, 6)]
    assert tree_map(lambda x: x * 2, Bag([1, 2])).items == [2, 4]
    assert tree_map(lambda x, y: x + y, Bag([1, 2]), Bag([3, 4])).items == [4, 6]
    assert [keystr(p) for p, _ in tree_leaves_with_path(Bag([1]))] == ["[<flat index 0>]"]
    with pytest.raises(ValueError, match="aux data 2"):
        tree_map(lambda x, y: x, Bag([1, 2]), Bag([1]))


def test_unflatten_gets_a_tuple_of_children():
    seen = []

    class Node:
        pass

    def unflatten(aux, children):
        seen.append(type(children))
        return Node()

    tu.register_pytree_node(Node, lambda n: ([1, 2], None), unflatten)
    tree_unflatten(tree_structure(Node()), [1, 2])
    tree_map(lambda x: x, [Node()])
    assert seen == [tuple, tuple]


def test_register_with_keys_and_derived_flatten():
    class Box:
        def __init__(self, v, w):
            self.v, self.w = v, w

    tu.register_pytree_with_keys(
        Box, lambda b: (((GetAttrKey("v"), b.v), (DictKey("w"), b.w)), "meta"),
        lambda aux, ch: Box(*ch))
    leaves, treedef = tree_flatten(Box(1, [2]))
    assert leaves == [1, 2] and repr(treedef) == "PyTreeDef(CustomNode(Box[meta], [*, [*]]))"
    assert [keystr(p) for p, _ in tree_leaves_with_path(Box(1, [2]))] == [".v", "['w'][0]"]
    out = tree_unflatten(treedef, [3, 4])
    assert (out.v, out.w) == (3, [4])


def test_register_classes_by_decorator():
    @tu.register_pytree_node_class
    class Scale:
        def __init__(self, w, name):
            self.w, self.name = w, name

        def tree_flatten(self):
            return (self.w,), self.name

        @classmethod
        def tree_unflatten(cls, name, children):
            return cls(children[0], name)

    out = tree_map(lambda x: x + 1, Scale(1, "s"))
    assert (out.w, out.name) == (2, "s")
    assert [keystr(p) for p, _ in tree_leaves_with_path(Scale(1, "s"))] == ["[<flat index 0>]"]

    @tu.register_pytree_with_keys_class
    class Keyed:
        def __init__(self, a):
            self.a = a

        def tree_flatten_with_keys(self):
            return ((GetAttrKey("a"), self.a),), None

        @classmethod
        def tree_unflatten(cls, aux, children):
            return cls(*children)

    assert tree_leaves_with_path(Keyed(3)) == [((GetAttrKey("a"),), 3)]
    assert tree_map(lambda x: -x, Keyed(3)).a == -3


def test_register_dataclass_inferred_fields():
    layer = Layer(w=[1, 2], b=3, act="tanh")
    leaves, treedef = tree_flatten(layer)
    assert leaves == [1, 2, 3]
    assert treedef.node_data() == (Layer, ("tanh",))
    assert tree_unflatten(treedef, [4, 5, 6]) == Layer([4, 5], 6, "tanh")
    assert [keystr(p) for p, _ in tree_leaves_with_path(layer)] == [".w[0]", ".w[1]", ".b"]


def test_register_dataclass_explicit_and_dropped_fields():
    @functools.partial(tu.register_dataclass, data_fields=["x"], meta_fields=["m"])
    @dataclasses.dataclass
    class D:
        x: int
        m: str

    assert tree_flatten(D(1, "hi"))[0] == [1]
    assert tree_map(lambda v: v + 1, D(1, "hi")) == D(2, "hi")

    @functools.partial(tu.register_dataclass, drop_fields=["cache"])
    @dataclasses.dataclass
    class E:
        x: int
        cache: object = None
        derived: int = dataclasses.field(init=False, default=0)

    assert tree_leaves(E(1, "c")) == [1]
    assert tree_map(lambda v: v, E(1, "c")) == E(1, None)


def test_register_dataclass_errors():
    @dataclasses.dataclass
    class F:
        x: int
        y: int = 0
        z: int = dataclasses.field(init=False, default=5)

    with pytest.raises(ValueError, match=r"unexpected \['z'\]"):
        tu.register_dataclass(F, data_fields=["x", "y", "z"], meta_fields=[])
    with pytest.raises(ValueError, match=r"missing \['y'\]"):
        tu.register_dataclass(F, data_fields=["x"], meta_fields=[])
    with pytest.raises(TypeError, match="both"):
        tu.register_dataclass(F, data_fields=["x", "y"])

    class NotADataclass:
        def __init__(self, x):
            self.x = x

    with pytest.raises(TypeError, match="not a dataclass"):
        tu.register_dataclass(NotADataclass)
    assert tu.register_dataclass(NotADataclass, ["x"], []) is NotADataclass
    assert tree_map(lambda v: v * 3, NotADataclass(2)).x == 6


def test_register_static():
    @tu.register_static
    class Config:
        def __init__(self, name):
            self.name = name

        def __eq__(self, other):
            return type(other) is Config and other.name == self.name

        def __hash__(self):
            return hash(self.name)

    c = Config("fast")
    leaves, treedef = tree_flatten([c, 1])
    assert leaves == [1]
    assert tree_unflatten(treedef, [2])[0] is c
    assert treedef == tree_structure([Config("fast"), 0])
    assert treedef != tree_structure([Config("slow"), 0])
    assert tree_leaves_with_path([c, 1]) == [((SequenceKey(1),), 1)]


def test_registering_a_type_already_seen_as_a_leaf():
    class Late:
        def __init__(self, v):
            self.v = v

    assert tree_leaves([Late(1)])[0].v == 1  # a leaf, and remembered as one
    tu.register_pytree_node(Late, lambda x: ((x.v,), None), lambda aux, ch: Late(*ch))
    assert tree_leaves([Late(1)]) == [1]
    assert tree_leaves(Late(2)) == [2]


def test_namedtuple_registered_explicitly_overrides_detection():
    Rec = collections.namedtuple("Rec", "a b")
    assert tree_leaves(Rec(1, 2)) == [1, 2]
    tu.register_pytree_node(Rec, lambda r: ((r.a,), r.b), lambda b, ch: Rec(ch[0], b))
    assert tree_leaves(Rec(1, 2)) == [1]
    assert tree_map(lambda x: x + 1, Rec(1, 2)) == Rec(2, 2)


def test_leaf_type_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(tu, "_MAX_LEAF_TYPES", len(tu._leaf_types) + 3)
    kinds = [type(f"T{i}", (), {}) for i in range(10)]
    for k in kinds:
        assert len(tree_leaves([k(), k()])) == 2
    assert len(tu._leaf_types) <= tu._MAX_LEAF_TYPES
    assert int in tu._leaf_types


# ------------------------------------------------------------------------------------------
# Partial.
# ------------------------------------------------------------------------------------------

def test_partial_is_a_pytree():
    p = Partial(lambda a, b, c=0: a + b + c, 1, c=10)
    assert p(2) == 13
    leaves, treedef = tree_flatten(p)
    assert leaves == [1, 10]
    assert "CustomNode(Partial[" in repr(treedef)
    doubled = tree_map(lambda x: x * 2, p)
    assert isinstance(doubled, Partial) and doubled(2) == 24
    assert tree_structure(p) == tree_structure(Partial(p.func, 5, c=6))
    assert tree_structure(p) != tree_structure(Partial(p.func, 5))


def test_partial_of_partial_keeps_inner_arguments_static():
    inner = Partial(lambda a, b, c: (a, b, c), 1)
    outer = Partial(inner, 2)
    assert outer(3) == (1, 2, 3)
    assert outer.args == (2,)
    assert outer.func is inner
    assert tree_leaves(outer) == [2]
    assert tree_map(lambda x: x * 10, outer)(3) == (1, 20, 3)
    assert pickle.loads(pickle.dumps(Partial(Partial(operator.add, 1))))(2) == 3
    plain = Partial(functools.partial(operator.sub, 10), 3)
    assert plain() == 7 and tree_leaves(plain) == [3]


def test_partial_pickles():
    p = Partial(operator.add, 1)
    back = pickle.loads(pickle.dumps(p))
    assert back(2) == 3 and isinstance(back, Partial) and tree_leaves(back) == [1]


# ------------------------------------------------------------------------------------------
# Whole-tree functions.
# ------------------------------------------------------------------------------------------

def test_tree_map_basics():
    assert tree_map(lambda x: x + 1, {"a": 1, "b": (2, [3])}) == {"a": 2, "b": (3, [4])}
    assert tree_map(lambda x: x * 2, 5) == 10
    assert tree_map(lambda x: x, None) is None
    assert tree_map(lambda x, y, z: x + y + z, [1, 2], [10, 20], [100, 200]) == [111, 222]
    assert tree_map(lambda x: x, ()) == ()


def test_tree_reduce():
    assert tu.tree_reduce(operator.add, {"x": 1, "y": (2, 3)}) == 6
    assert tu.tree_reduce(operator.add, [1, 2, 3], 10) == 16
    assert tu.tree_reduce(operator.add, [], 0) == 0
    with pytest.raises(TypeError):
        tu.tree_reduce(operator.add, [])
    assert tu.tree_reduce(lambda a, b: a + [b], [None, 1], [], is_leaf=lambda x: x is None) \
        == [None, 1]


def test_tree_reduce_associative():
    assert tu.tree_reduce_associative(operator.add, [1, 2, 3, 4, 5]) == 15
    assert tu.tree_reduce_associative(operator.add, ([1], [2], [3]),
                                      is_leaf=lambda x: isinstance(x, list)) == [1, 2, 3]
    assert tu.tree_reduce_associative(operator.add, (), identity=0) == 0
    with pytest.raises(TypeError, match="identity"):
        tu.tree_reduce_associative(operator.add, ())


def test_tree_all():
    assert tu.tree_all([True, (1, "x")])
    assert not tu.tree_all({"a": 0, "b": 1})
    assert tu.tree_all([])
    assert tu.tree_all(None)
    assert not tu.tree_all([None], is_leaf=lambda x: x is None)


def test_tree_broadcast():
    assert tu.tree_broadcast((1, 2), ((0, 0), {"a": 0})) == ((1, 1), {"a": 2})
    assert tu.tree_broadcast({"a": 1, "b": (2, 3)}, {"a": [7, 8], "b": ({"x": 0}, 9)}) \
        == {"a": [1, 1], "b": ({"x": 2}, 3)}
    assert tu.tree_broadcast(5, [1, (2, 3)]) == [5, (5, 5)]
    assert tu.tree_broadcast([1], [[2, 3]], is_leaf=lambda x: isinstance(x, list)
                             and len(x) == 2) == [[1, 1]]
    with pytest.raises(ValueError, match="tree_broadcast: full_tree"):
        tu.tree_broadcast((1, None), ((3, 4), {"a": 5}))


def test_tree_transpose():
    outer, inner = tree_structure([0, 0]), tree_structure((0, {"a": 0}))
    tree = [(1, {"a": 2}), (3, {"a": 4})]
    assert tu.tree_transpose(outer, inner, tree) == ([1, 3], {"a": [2, 4]})
    assert tu.tree_transpose(outer, None, tree) == ([1, 3], {"a": [2, 4]})
    assert tu.tree_transpose(tree_structure(()), tree_structure([0, 0]), ()) == [(), ()]
    back = tu.tree_transpose(inner, outer, tu.tree_transpose(outer, inner, tree))
    assert back == tree


def test_docstring_examples():
    import doctest
    globs = dict(vars(tu), dataclasses=dataclasses)
    result = doctest.testmod(tu, extraglobs=globs, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 30 and result.failed == 0


def test_tree_namespace():
    from jaxel import tree
    assert tree.map(lambda x: x * 2, {"a": 1, "b": (2, 3)}) == {"a": 2, "b": (4, 6)}
    assert tree.leaves([1, (2,)]) == [1, 2]
    leaves, treedef = tree.flatten((1, 2))
    assert tree.unflatten(treedef, leaves) == (1, 2)
    assert tree.structure((1, 2)) == treedef
    assert tree.reduce(operator.add, [1, 2]) == 3
    assert tree.all([1, 1]) and not tree.all([0])
    assert tree.broadcast(1, (0, 0)) == (1, 1)
    assert tree.transpose(tree_structure([0]), tree_structure((0,)), [(1,)]) == ([1],)
    assert tree.flatten_with_path([1])[0] == [((SequenceKey(0),), 1)]
    assert tree.leaves_with_path([1]) == [((SequenceKey(0),), 1)]
    assert tree.map_with_path(lambda p, x: keystr(p), [1]) == ["[0]"]
    assert tree.reduce_associative(operator.add, [1, 2, 3]) == 6
    for name in tree.__all__:
        assert callable(getattr(tree, name))


# ------------------------------------------------------------------------------------------
# Property-based: random nested trees.
# ------------------------------------------------------------------------------------------

_scalars = st.integers(-5, 5) | st.text(max_size=2) | st.booleans()


def _containers(children):
    # A dict's keys must be comparable with each other (they are sorted, as in JAX).
    return (st.lists(children, max_size=4)
            | st.lists(children, max_size=4).map(tuple)
            | st.dictionaries(st.text(max_size=2), children, max_size=4)
            | st.dictionaries(st.integers(-3, 3), children, max_size=4)
            | st.builds(Point, children, children)
            | st.dictionaries(st.text(max_size=2), children, max_size=3).map(
                collections.OrderedDict)
            | st.dictionaries(st.text(max_size=2), children, max_size=3).map(
                lambda d: collections.defaultdict(list, d))
            | st.builds(Pair, children, children))


_trees = st.recursive(_scalars | st.none(), _containers, max_leaves=25)


def _same(a, b):
    """Equal, with containers of the same types all the way down."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a) and (
            getattr(a, "default_factory", None) == getattr(b, "default_factory", None))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, Pair):
        return _same(a.a, b.a) and _same(a.b, b.b)
    return a == b


def _canonical(tree):
    """``tree`` with every plain dict rebuilt in sorted key order, as unflatten rebuilds it.

    """
    if isinstance(tree, Pair):
        return Pair(_canonical(tree.a), _canonical(tree.b))
    if type(tree) is dict:
        keys = sorted(tree)
        return {k: _canonical(tree[k]) for k in keys}
    if isinstance(tree, dict):  # OrderedDict and defaultdict keep their own key order
        out = type(tree)(tree.default_factory) if hasattr(tree, "default_factory") else type(tree)()
        for k in (sorted(tree) if hasattr(tree, "default_factory") else tree):
            out[k] = _canonical(tree[k])
        return out
    if isinstance(tree, Point):
        return Point(_canonical(tree.x), _canonical(tree.y))
    if isinstance(tree, (list, tuple)):
        return type(tree)(_canonical(x) for x in tree)
    return tree


@settings(max_examples=300, deadline=None)
@given(_trees)
def test_random_trees_round_trip(tree):
    leaves, treedef = tree_flatten(tree)
    assert treedef.num_leaves == len(leaves)
    rebuilt = tree_unflatten(treedef, leaves)
    assert tree_structure(rebuilt) == treedef
    assert tree_leaves(rebuilt) == leaves
    assert _same(rebuilt, _canonical(tree))
    assert pickle.loads(pickle.dumps(treedef)) == treedef
    pairs = tree_leaves_with_path(tree)
    assert [x for _, x in pairs] == leaves
    assert tree_flatten_with_path(tree)[1] == treedef
    assert tree_map(lambda x, y: x, tree, tree) == rebuilt
    assert treedef.flatten_up_to(tree) == leaves
    assert len(treedef.children()) == (0 if tu.treedef_is_leaf(treedef)
                                       else len(treedef._spec[2]))
    for _ in range(tu._COMPILE_AFTER + 1):  # also through the generated builder
        again = tree_unflatten(treedef, leaves)
    assert _same(again, rebuilt)


@settings(max_examples=200, deadline=None)
@given(_trees, _trees)
def test_random_treedef_equality_matches_hash(a, b):
    ta, tb = tree_structure(a), tree_structure(b)
    if ta == tb:
        assert hash(ta) == hash(tb)
        assert repr(ta) == repr(tb)
    else:
        assert tree_structure(a) != tb


# ------------------------------------------------------------------------------------------
# Oracle tests against jax.tree_util.
# ------------------------------------------------------------------------------------------

def _jax_tu():
    jax = pytest.importorskip("jax")
    return jax.tree_util


_ORACLE_TREES = [
    1, None, (), [], {}, (1, {"a": 2}), [1, None, (2,)], {"b": 1, "a": (2, 3)},
    {2: "x", 1: "y"}, {"a": None}, Point(1, [2]), collections.OrderedDict(b=1, a=2),
    collections.defaultdict(list, b=1, a=2), [[[1]], ({"x": (None, 2)},)],
    {"w": np.ones(2), "b": [np.zeros(1), 3.0]},
]


@pytest.mark.parametrize("tree", _ORACLE_TREES, ids=range(len(_ORACLE_TREES)))
def test_oracle_fixed_trees(tree):
    jtu = _jax_tu()
    leaves, treedef = tree_flatten(tree)
    jleaves, jtreedef = jtu.tree_flatten(tree)
    assert len(leaves) == len(jleaves) and all(x is y for x, y in zip(leaves, jleaves))
    assert repr(treedef) == repr(jtreedef)
    assert treedef.num_nodes == jtreedef.num_nodes
    assert treedef.num_leaves == jtreedef.num_leaves
    assert [repr(c) for c in treedef.children()] == [repr(c) for c in jtreedef.children()]
    mine_paths = [keystr(p) for p, _ in tree_leaves_with_path(tree)]
    jax_paths = [jtu.keystr(p) for p, _ in jtu.tree_leaves_with_path(tree)]
    assert mine_paths == jax_paths
    mine_node = treedef.node_data()
    jax_node = jtreedef.node_data()
    assert mine_node == jax_node


def _jax_friendly(tree):
    """Our Pair nodes -> (a, b) tuples, so jax (which does not know Pair) sees the same shape."""
    if isinstance(tree, Pair):
        return (_jax_friendly(tree.a), _jax_friendly(tree.b))
    if isinstance(tree, collections.defaultdict):
        return collections.defaultdict(tree.default_factory,
                                       {k: _jax_friendly(v) for k, v in tree.items()})
    if isinstance(tree, collections.OrderedDict):
        return collections.OrderedDict((k, _jax_friendly(v)) for k, v in tree.items())
    if isinstance(tree, dict):
        return {k: _jax_friendly(v) for k, v in tree.items()}
    if isinstance(tree, Point):
        return Point(_jax_friendly(tree.x), _jax_friendly(tree.y))
    if isinstance(tree, (list, tuple)):
        return type(tree)(_jax_friendly(x) for x in tree)
    return tree


def _sortable_keys(tree):
    """False if some dict mixes key types (jax refuses those; we sort them by a fallback)."""
    ok = True

    def visit(x):
        nonlocal ok
        if isinstance(x, dict):
            try:
                sorted(x)
            except TypeError:
                ok = False
            for v in x.values():
                visit(v)
        elif isinstance(x, (list, tuple)):
            for v in x:
                visit(v)
    visit(tree)
    return ok


@settings(max_examples=200, deadline=None)
@given(_trees, _trees)
def test_oracle_random_trees(a, b):
    jtu = _jax_tu()
    a, b = _jax_friendly(a), _jax_friendly(b)
    if not (_sortable_keys(a) and _sortable_keys(b)):
        return
    leaves, treedef = tree_flatten(a)
    jleaves, jtreedef = jtu.tree_flatten(a)
    assert leaves == jleaves
    assert repr(treedef) == repr(jtreedef)
    assert treedef.num_nodes == jtreedef.num_nodes
    assert (tree_structure(a) == tree_structure(b)) == (jtu.tree_structure(a)
                                                        == jtu.tree_structure(b))
    assert [keystr(p) for p, _ in tree_leaves_with_path(a)] == [
        jtu.keystr(p) for p, _ in jtu.tree_leaves_with_path(a)]
    mine_ok = jax_ok = True
    try:
        mine = tree_map(lambda x, y: (x, y), a, b)
    except ValueError:
        mine_ok = False
    try:
        theirs = jtu.tree_map(lambda x, y: (x, y), a, b)
    except ValueError:
        jax_ok = False
    assert mine_ok == jax_ok
    if mine_ok:
        assert mine == theirs


def test_oracle_whole_tree_functions():
    jtu = _jax_tu()
    import jax
    tree = {"a": [1, 2], "b": (3, {"c": 4})}
    assert tu.tree_reduce(operator.add, tree) == jtu.tree_reduce(operator.add, tree)
    assert tu.tree_all(tree) == jtu.tree_all(tree)
    assert tu.tree_broadcast((1, 2), ((0, 0), {"a": 0})) == jax.tree.broadcast(
        (1, 2), ((0, 0), {"a": 0}))
    outer, inner = [0, 0], (0, {"a": 0})
    tree = [(1, {"a": 2}), (3, {"a": 4})]
    assert tu.tree_transpose(tree_structure(outer), tree_structure(inner), tree) == \
        jtu.tree_transpose(jtu.tree_structure(outer), jtu.tree_structure(inner), tree)
    assert repr(tree_structure((0, 0)).compose(tree_structure([0]))) == repr(
        jtu.tree_structure((0, 0)).compose(jtu.tree_structure([0])))
    assert repr(tu.treedef_tuple([tree_structure(1), tree_structure([1])])) == repr(
        jtu.treedef_tuple([jtu.tree_structure(1), jtu.tree_structure([1])]))
    for path in [(SequenceKey(0), DictKey("a"), GetAttrKey("x"), FlattenedIndexKey(3))]:
        jpath = (jtu.SequenceKey(0), jtu.DictKey("a"), jtu.GetAttrKey("x"),
                 jtu.FlattenedIndexKey(3))
        assert keystr(path) == jtu.keystr(jpath)
        assert keystr(path, simple=True, separator="/") == jtu.keystr(jpath, simple=True,
                                                                      separator="/")
        assert [repr(k) for k in path] == [repr(k) for k in jpath]


def test_oracle_dataclass_and_partial_structures():
    jtu = _jax_tu()

    @dataclasses.dataclass
    class M:
        x: object
        y: object
        tag: str = dataclasses.field(default="t", metadata=dict(static=True))

    @dataclasses.dataclass
    class J:
        x: object
        y: object
        tag: str = dataclasses.field(default="t", metadata=dict(static=True))

    tu.register_dataclass(M)
    jtu.register_dataclass(J)
    mine = tree_flatten_with_path(M([1, 2], {"k": 3}, "q"))
    theirs = jtu.tree_flatten_with_path(J([1, 2], {"k": 3}, "q"))
    assert [keystr(p) for p, _ in mine[0]] == [jtu.keystr(p) for p, _ in theirs[0]]
    assert repr(mine[1]).replace("M[", "J[") == repr(theirs[1])
    p = tree_flatten_with_path(Partial(max, 1, key=2))
    jp = jtu.tree_flatten_with_path(jtu.Partial(max, 1, key=2))
    assert [keystr(k) for k, _ in p[0]] == [jtu.keystr(k) for k, _ in jp[0]]
    assert repr(p[1]) == repr(jp[1])


# ------------------------------------------------------------------------------------------
# ravel_pytree.
# ------------------------------------------------------------------------------------------

def _check_ravel(jnp, asnumpy):
    from jaxel.flatten_util import ravel_pytree
    tree = {"w": jnp.asarray(np.ones((2, 2), np.float32)),
            "b": [jnp.asarray(np.arange(3, dtype=np.float32))], "s": None}
    flat, unravel = ravel_pytree(tree)
    assert tuple(flat.shape) == (7,)
    assert np.array_equal(asnumpy(flat), [0, 1, 2, 1, 1, 1, 1])
    back = unravel(flat)
    assert tree_structure(back) == tree_structure(tree)
    assert tuple(back["w"].shape) == (2, 2) and back["s"] is None
    assert np.array_equal(asnumpy(back["b"][0]), [0, 1, 2])
    assert np.array_equal(asnumpy(unravel(flat * 2)["w"]), 2 * np.ones((2, 2)))
    with pytest.raises(ValueError, match="shape"):
        unravel(flat[:3])

    # Mixed dtypes: promoted in the flat vector, restored on the way back.
    mixed = (jnp.asarray(np.array([1, 2], np.int32)), jnp.asarray(np.array([0.5], np.float32)))
    flat, unravel = ravel_pytree(mixed)
    assert flat.dtype == jnp.result_type(np.int32, np.float32)
    back = unravel(flat)
    assert back[0].dtype == np.int32 and back[1].dtype == np.float32
    assert np.array_equal(asnumpy(back[0]), [1, 2])
    with pytest.raises(TypeError, match="dtype"):
        unravel(flat.astype(np.int32))

    flat, unravel = ravel_pytree({"a": None, "b": ()})
    assert tuple(flat.shape) == (0,) and flat.dtype == np.float32
    assert unravel(flat) == {"a": None, "b": ()}


def test_ravel_pytree_with_jaxel_numpy():
    try:
        import jaxel.numpy as jnp
    except Exception:
        pytest.skip("jaxel.numpy cannot be imported yet")
    missing = [n for n in ("ravel", "concatenate", "reshape", "asarray", "result_type")
               if not hasattr(jnp, n)]
    if missing:
        pytest.skip(f"jaxel.numpy lacks {missing}")
    _check_ravel(jnp, np.asarray)


def test_ravel_pytree_logic_with_numpy_standing_in(monkeypatch):
    # ravel_pytree only needs asarray/ravel/concatenate/reshape/result_type/astype/slicing,
    # which NumPy also has: this checks its own logic whatever the state of jaxel.numpy.
    import jaxel
    monkeypatch.setitem(sys.modules, "jaxel.numpy", np)
    monkeypatch.setattr(jaxel, "numpy", np, raising=False)
    _check_ravel(np, np.asarray)


def test_ravel_pytree_against_jax():
    jax = pytest.importorskip("jax")
    import jax.flatten_util  # noqa: F401
    try:
        import jaxel.numpy as jnp
        assert all(hasattr(jnp, n) for n in ("ravel", "concatenate", "reshape"))
    except Exception:
        pytest.skip("jaxel.numpy is not ready")
    from jaxel.flatten_util import ravel_pytree
    tree = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": (np.int32(7),)}
    flat, _ = ravel_pytree(tree)
    jflat, _ = jax.flatten_util.ravel_pytree(tree)
    assert flat.dtype == jflat.dtype
    assert np.array_equal(np.asarray(flat), np.asarray(jflat))
