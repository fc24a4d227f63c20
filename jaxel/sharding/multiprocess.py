"""Global Arrays from the data each process holds, and back: ``make_array_from_process_local_data``
when the sharding spans several processes, and the conversions under multihost_utils'
``host_local_array_to_global_array`` / ``global_array_to_host_local_array``.

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


# ---- host-local <-> global arrays over a mesh ----------------------------------------------
def _host_value(x):
    """``x`` as a NumPy array of the dtype a jaxel Array of it would have."""
    from jaxel.runtime.array import Array
    from jaxel.runtime.transfer import canonical_numpy
    if isinstance(x, Array):
        return np.asarray(x)
    if type(x) in (int, float, complex, bool):
        from jaxel.numpy import asarray
        return np.asarray(asarray(x))
    return canonical_numpy(np.asarray(x))


def _scaled_shape(shape, spec, mesh, local, to_global: bool, what: str):
    """The global shape of a process's block (or the block shape of a global array): each
    dimension split over mesh axes grows (shrinks) by the ratio of global to local axis sizes."""
    out = list(shape)
    for d, entry in enumerate(spec):
        if entry is None or not isinstance(entry, (str, tuple)):
            continue
        for name in (entry,) if isinstance(entry, str) else entry:
            ratio = mesh.shape[name] // local.shape[name]
            if to_global:
                out[d] *= ratio
            elif out[d] % ratio:
                raise ValueError(f"{what}: dimension {d} of size {out[d]} is split over mesh "
                                 f"axis {name!r} across {ratio} processes, which does not divide "
                                 f"it.")
            else:
                out[d] //= ratio
    return tuple(out)


def _check_spec(spec, what):
    if spec is None:
        raise ValueError(f"{what}: `None` is not a valid input to the pspecs argument. Please "
                         "use jaxel.sharding.PartitionSpec() if you wanted to replicate your "
                         "input.")


def _blocks_on(value, sharding, shape):
    """One single-device Array per addressable device of ``sharding``: its block of
    ``value`` (a host array of ``shape``)."""
    from jaxel.runtime.transfer import device_put_value
    return [device_put_value(np.asarray(value[idx], order="C"), False, d)  # keeps 0-d as 0-d
            for d, idx in sharding.addressable_devices_indices_map(shape).items()]


def host_local_to_global(x, mesh, spec):
    """The global Array over ``mesh`` laid out as ``spec`` whose part on this process is
    ``x`` (dimensions split across processes grow by the number of processes along them)."""
    from jaxel.runtime.array import Array
    from jaxel.sharding import NamedSharding
    from jaxel.sharding.api import make_array_from_single_device_arrays
    what = "host_local_array_to_global_array"
    _check_spec(spec, what)
    if isinstance(x, Array) and not x.is_fully_addressable:
        return x  # already global
    local = mesh.local_mesh
    local_sharding = NamedSharding(local, spec)
    if isinstance(x, Array) and x.sharding.is_equivalent_to(local_sharding, x.ndim):
        shape, dtype = x.shape, x.dtype
        arrays = [s.data for s in x.addressable_shards]
    else:
        value = _host_value(x)
        shape, dtype = value.shape, value.dtype
        arrays = _blocks_on(value, local_sharding, shape)
    gshape = _scaled_shape(shape, spec, mesh, local, True, what)
    return make_array_from_single_device_arrays(gshape, NamedSharding(mesh, spec), arrays,
                                                dtype=dtype)


def _identity(x):
    return x


def global_to_host_local(x, mesh, spec):
    """This process's part of the global Array ``x`` (resharded to ``spec`` first if laid out
    otherwise), as an Array over the process's block of ``mesh``."""
    from jaxel.runtime.array import Array
    from jaxel.sharding import NamedSharding
    from jaxel.sharding.api import make_array_from_single_device_arrays
    what = "global_array_to_host_local_array"
    _check_spec(spec, what)
    if isinstance(x, Array) and x.is_fully_addressable:
        return x  # already host-local
    local = mesh.local_mesh
    global_sharding = NamedSharding(mesh, spec)
    local_sharding = NamedSharding(local, spec)
    if isinstance(x, Array):
        if not x.sharding.is_equivalent_to(global_sharding, x.ndim):
            # One partitioned identity program moves the blocks (every process runs it);
            # device_put would read the whole value, which spans other processes.
            from jaxel.api import jit
            x = jit(_identity, out_shardings=global_sharding)(x)
        shape = x.shape
        by_device = {s.device: s.data for s in x.addressable_shards}
        arrays = [by_device[d] for d in local_sharding._device_assignment]
    else:  # a host value of the global shape: keep this process's part of it
        value = _host_value(x)
        shape = value.shape
        arrays = _blocks_on(value, global_sharding, shape)
    lshape = _scaled_shape(shape, spec, mesh, local, False, what)
    return make_array_from_single_device_arrays(lshape, local_sharding, arrays)
