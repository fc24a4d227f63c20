"""Per-device programs over meshes: ``shard_map`` (and ``smap``) and ``pmap`` built on it.

The named-axis collectives they use live in ``jaxel.lax`` (jaxel/lax/parallel.py), where each
collective's device lowering sits next to its other rules.
"""
from jaxel.parallel._api import shard_map, smap  # noqa: F401
from jaxel.parallel.primitive import shard_map_p  # noqa: F401
from jaxel.parallel.pmap import pmap  # noqa: F401

__all__ = ["shard_map", "smap", "pmap", "shard_map_p"]
