"""``jaxel.tree``: the short names for the pytree functions of ``jaxel.tree_util``.

``jaxel.tree.map(f, tree)`` is ``jaxel.tree_util.tree_map(f, tree)``, and so on; see
``jaxel.tree_util`` for what each does.

Example::

    >>> import jaxel
    >>> jaxel.tree.map(lambda x: x * 2, {"a": 1, "b": (2, 3)})
    {'a': 2, 'b': (4, 6)}
"""
from jaxel.tree_util import (  # noqa: F401
    tree_all as all,
    tree_broadcast as broadcast,
    tree_flatten as flatten,
    tree_flatten_with_path as flatten_with_path,
    tree_leaves as leaves,
    tree_leaves_with_path as leaves_with_path,
    tree_map as map,
    tree_map_with_path as map_with_path,
    tree_reduce as reduce,
    tree_reduce_associative as reduce_associative,
    tree_structure as structure,
    tree_transpose as transpose,
    tree_unflatten as unflatten,
)
import dataclasses as _dataclasses

__all__ = ["all", "broadcast", "flatten", "flatten_with_path", "leaves", "leaves_with_path",
           "map", "map_with_path", "reduce", "reduce_associative", "structure", "transpose",
           "unflatten", "static"]


def static(**kwargs):
    """A dataclass field that ``register_dataclass`` treats as static (aux data, not a child).

    Takes the arguments of ``dataclasses.field`` and adds ``static=True`` to its metadata::

        @jaxel.tree_util.register_dataclass
        @dataclasses.dataclass
        class Op:
            x: jaxel.Array
            kind: str = jaxel.tree.static(default="add")
    """
    metadata = dict(kwargs.pop("metadata", None) or {})
    metadata["static"] = True
    return _dataclasses.field(metadata=metadata, **kwargs)
