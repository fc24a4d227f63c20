"""Global Arrays from the data each process holds (``make_array_from_process_local_data`` when the
sharding spans several processes).

A process holds the blocks of its own devices. Along a dimension the sharding splits into
``t`` tiles of which this process's devices hold ``u`` distinct ones, its local data has
``u`` blocks back to back (in increasing global order), so the global size is
``local * t / u``; or the local data already has the global size along that dimension (every
process passes the same values there).
"""
from __future__ import annotations

import numpy as np


def _local_tile_starts(sharding, ndim):
    """Per dimension: the sorted tile coordinates held by this process's devices, and the
    number of tiles."""
    from jaxel.sharding.mesh import _is_local
    tiles, _, positions = sharding._tile_assignment(ndim)
    da = sharding._device_assignment
    held = [set() for _ in range(ndim)]
    for idx in np.ndindex(*tiles):
        if any(_is_local(da[p]) for p in positions[idx]):
            for d, c in enumerate(idx):
                held[d].add(c)
    return [sorted(h) for h in held], tiles


def global_shape_of(sharding, local_shape) -> tuple:
    """The global shape whose blocks on this process's devices, back to back, make an array
    of ``local_shape``."""
    held, tiles = _local_tile_starts(sharding, len(local_shape))
    out = []
    for d, (n, h, t) in enumerate(zip(local_shape, held, tiles)):
        if n % len(h):
            raise ValueError(
                f"make_array_from_process_local_data: dimension {d} of the local data has size "
                f"{n}, which this process's {len(h)} blocks along it do not divide.")
        out.append(n // len(h) * t)
    return tuple(out)


def from_process_local_data(sharding, value: np.ndarray, global_shape=None):
    """A global Array laid out as ``sharding`` whose blocks on this process come from ``value``
    (this process's part, see the module docstring)."""
    from jaxel.sharding.api import make_array_from_callback
    ndim = value.ndim
    if global_shape is None:
        global_shape = global_shape_of(sharding, value.shape)
    global_shape = tuple(int(n) for n in global_shape)
    if len(global_shape) != ndim:
        raise ValueError(f"make_array_from_process_local_data: global_shape {global_shape} has "
                         f"rank {len(global_shape)}, the local data {value.shape} rank {ndim}.")
    held, tiles = _local_tile_starts(sharding, ndim)
    block = sharding.shard_shape(global_shape)
    full = []
    for d, (n, g) in enumerate(zip(value.shape, global_shape)):
        full.append(n == g)
        if n != g and n != block[d] * len(held[d]):
            raise ValueError(
                f"make_array_from_process_local_data: invalid host data, each dimension should "
                f"match either the global or the process shape. In dimension {d}, the process "
                f"data has {n} elements; this process addresses {block[d] * len(held[d])} "
                f"elements and global_shape={global_shape}.")
    # Where a block starting at global index `start` sits in the local data, per dimension.
    where = [{c * block[d]: i * block[d] for i, c in enumerate(held[d])} for d in range(ndim)]

    def local_block(index):
        parts = []
        for d, sl in enumerate(index):
            if full[d]:
                parts.append(sl)
            else:
                start = where[d][sl.start or 0]
                parts.append(slice(start, start + block[d]))
        return value[tuple(parts)]

    return make_array_from_callback(global_shape, sharding, local_block)
