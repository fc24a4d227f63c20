"""XLA's "InspectSharding" hook: the SPMD partitioner reports the sharding it chose for a value.

A partitioned program may hold ``custom_call @InspectSharding(%x)`` whose ``backend_config`` is
a key from ``encode_inspect_sharding_callback``; while partitioning, XLA calls the Python function
behind the key with the HloSharding of ``%x`` and then drops the call. This module hands jaxel
code that sharding as a tile assignment, so no jaxlib object leaves jaxel/runtime.
"""
from __future__ import annotations

from jaxel.runtime.xla import _jax, tile_assignment_of

# The key is a raw pointer to the function: keep every function alive for the process's life,
# since a program text holding its key may be compiled again (one small closure per lowering).
_alive: list = []


def encode_callback(fn, ndim: int, num_devices: int) -> bytes:
    """A key for the program text; at partitioning time ``fn(layout)`` runs with the value's
    layout: ``(tiles, replicas, positions)``, ``("maximal", position, None)`` for a value on
    one device, or None when the value is manual (inside ``shard_map``) or of a kind jaxel does
    not model."""
    def on_sharding(hlo_sharding):
        if hlo_sharding.is_manual():
            return fn(None)
        return fn(tile_assignment_of(hlo_sharding.to_proto(), ndim, num_devices))
    _alive.append(on_sharding)
    return _jax.encode_inspect_sharding_callback(on_sharding)


def mlir_string(key: bytes) -> str:
    """``key`` as the body of an MLIR string attribute (every byte hex-escaped)."""
    return "".join(f"\\{b:02X}" for b in key)
