"""Arrays over several devices: placing blocks, reading them back, reordering.

A sharded jaxel Array holds ONE runtime array spanning its devices (what executables take and
return) and, as its placement (``Array._device``), the jaxel Sharding it reports. The runtime
array's own sharding object fixes the order of its per-device buffers; programs want their
arguments' buffers in the program's device order, so ``in_device_order`` reorders (no copy)
when the two differ.
"""
from __future__ import annotations

import numpy as np

from jaxel.runtime.array import Array
from jaxel.tracing.avals import ShapedArray

# (sharding, ndim, devices) -> runtime sharding object. Shardings are few; entries are small.
_runtime_shardings: dict = {}


def runtime_sharding(sharding, ndim: int, devices=None):
    """The runtime sharding object for ``sharding`` of an ``ndim``-d array, its buffers in the
    order of ``devices`` (default: the sharding's own device assignment)."""
    da = sharding._device_assignment
    devices = da if devices is None else tuple(devices)
    key = (sharding, ndim, devices)
    rt = _runtime_shardings.get(key)
    if rt is None:
        from jaxel.runtime.xla import hlo_sharding, multi_device_sharding
        tiles, replicas, positions = sharding._tile_assignment(ndim)
        if devices != da:
            where = {d: i for i, d in enumerate(devices)}
            positions = np.vectorize(lambda p: where[da[p]], otypes=[np.int64])(positions)
        rt = multi_device_sharding(devices, hlo_sharding(tiles, replicas, positions),
                                   sharding.shard_shape, sharding.is_fully_addressable)
        if len(_runtime_shardings) > 4096:
            _runtime_shardings.clear()
        _runtime_shardings[key] = rt
    return rt


def _local(devices):
    from jaxel.sharding.mesh import _is_local
    return [d for d in devices if _is_local(d)]


def check_divisible(sharding, shape, what: str):
    """A ValueError naming ``what`` when ``sharding`` cannot split an array of ``shape``."""
    tiles, _, _ = sharding._tile_assignment(len(shape))
    for d, (n, t) in enumerate(zip(shape, tiles)):
        if n % t:
            spec = getattr(sharding, "spec", None)
            raise ValueError(
                f"{what}: the sharding {sharding!r} splits dimension {d} into {t} parts"
                + (f" (spec {spec!r})" if spec is not None else "")
                + f", so its size must be divisible by {t}, but the array's shape is "
                f"{tuple(shape)}. Pad the array or choose a spec that divides it.")


def put_global(value: np.ndarray, sharding, weak_type: bool = False, what="device_put"):
    """An Array with the global value ``value`` laid out as ``sharding`` (host -> devices)."""
    aval = ShapedArray(value.shape, value.dtype, weak_type)
    from jaxel import guards
    if guards.active:
        guards.check("host_to_device", lambda: f"aval={aval.str_short()}, dst={sharding}")
    check_divisible(sharding, value.shape, what)
    rt = runtime_sharding(sharding, value.ndim)
    index = sharding.devices_indices_map(value.shape)
    devices = _local(sharding._device_assignment)
    blocks = [np.asarray(value[index[d]], order="C") for d in devices]  # 0-d stays 0-d
    from jaxel.runtime.xla import put_shards
    return Array(put_shards(aval, rt, blocks, devices), aval, sharding)


def buffers_with_devices(arr: Array):
    """``[(device, single-device buffer)]`` of a sharded Array, in its runtime order."""
    from jaxel.runtime.xla import device_buffers
    arr._check_alive()
    devices = _local(arr._buf._sharding._devices)
    return list(zip(devices, device_buffers(arr._buf)))


def has_every_block(sharding, shape) -> bool:
    """Whether this process's devices hold every distinct block of an array laid out as
    ``sharding`` (a replicated array spanning several processes, say), so that its whole value
    can be read here."""
    def blocks(index_map):
        return {tuple((s.start, s.stop) for s in idx) for idx in index_map.values()}
    return blocks(sharding.addressable_devices_indices_map(shape)) == \
        blocks(sharding.devices_indices_map(shape))


def global_value(arr: Array) -> np.ndarray:
    """The whole value of a sharded Array as one NumPy array (each block copied once)."""
    from jaxel.runtime.transfer import host_value
    sharding = arr._device
    if not sharding.is_fully_addressable and not has_every_block(sharding, arr.aval.shape):
        raise RuntimeError(
            "This array spans devices of other processes, so its value cannot be read here. "
            "Use jaxel.experimental.multihost_utils.process_allgather(x) to gather it, or read "
            "x.addressable_shards.")
    index = sharding.devices_indices_map(arr.aval.shape)
    out = np.empty(arr.aval.shape, arr.aval.dtype)
    done = set()
    for device, buf in buffers_with_devices(arr):
        idx = index[device]
        key = tuple((s.start, s.stop) for s in idx)
        if key in done:
            continue
        done.add(key)
        block = Array(_as_single(buf, arr.aval, sharding, device), ShapedArray(
            sharding.shard_shape(arr.aval.shape), arr.aval.dtype), device)
        out[idx] = host_value(block)
    return out


def _as_single(buf, aval, sharding, device):
    """A shard buffer with jaxel's own single-device runtime sharding and aval."""
    from jaxel.runtime import client as _client
    from jaxel.runtime.xla import rewrap
    shard_aval = ShapedArray(sharding.shard_shape(aval.shape), aval.dtype, aval.weak_type)
    return rewrap(buf, shard_aval, _client.backend_of_device(device).sharding(device))


class Shard:
    """One device's block of a sharded Array (``jax.Shard``): ``device``, ``index`` (a tuple
    of slices into the global array), ``replica_id`` and ``data`` (the block as an Array)."""

    __slots__ = ("device", "index", "replica_id", "_data")

    def __init__(self, device, index, replica_id, data):
        self.device = device
        self.index = index
        self.replica_id = replica_id
        self._data = data

    @property
    def data(self) -> Array:
        return self._data

    def __repr__(self):
        return (f"Shard(device={self.device!r}, index={self.index}, "
                f"replica_id={self.replica_id}, data={self._data})")


def shards(arr: Array) -> list:
    """The addressable shards of ``arr`` in the order of its sharding's device assignment."""
    sharding = arr.sharding
    shape = arr.aval.shape
    index = sharding.devices_indices_map(shape)
    replica = sharding._replica_ids(shape)
    shard_aval = ShapedArray(sharding.shard_shape(shape), arr.aval.dtype, arr.aval.weak_type)
    if not isinstance(arr._device, _sharding_types()):
        return [Shard(arr.device, index[arr.device], 0, arr)]
    by_device = {d: b for d, b in buffers_with_devices(arr)}
    out = []
    for d in sharding._device_assignment:
        b = by_device.get(d)
        if b is not None:
            out.append(Shard(d, index[d], replica[d],
                             Array(_as_single(b, arr.aval, sharding, d), shard_aval, d)))
    return out


def _sharding_types():
    from jaxel.sharding.shardings import Sharding
    return Sharding


def in_device_order(arr: Array, sharding, devices):
    """``arr``'s runtime array with its buffers in ``devices`` order, described by
    ``sharding`` (which must be equivalent to ``arr``'s own)."""
    rt = runtime_sharding(sharding, arr.aval.ndim, devices)
    buf = arr._buf
    if buf._sharding is rt:
        return buf
    from jaxel.runtime.xla import assemble
    by_device = dict(buffers_with_devices(arr))
    return assemble(arr.aval, rt, [by_device[d] for d in _local(devices)])


def from_single_device_arrays(shape, sharding, arrays) -> Array:
    """A global Array from one single-device Array per addressable device of ``sharding``."""
    from jaxel.runtime.xla import assemble
    first = arrays[0]
    aval = ShapedArray(tuple(shape), first.aval.dtype, first.aval.weak_type)
    want = sharding.shard_shape(aval.shape)
    by_device = {}
    for a in arrays:
        if a.aval.shape != want:
            raise ValueError(f"make_array_from_single_device_arrays: every array must have the "
                             f"shard shape {want} of the sharding for the global shape "
                             f"{aval.shape}; got one of shape {a.aval.shape}.")
        if a.aval.dtype != aval.dtype:
            raise ValueError(f"make_array_from_single_device_arrays: arrays of different dtypes "
                             f"({aval.dtype} and {a.aval.dtype}).")
        by_device[a.device] = a
    devices = _local(sharding._device_assignment)
    missing = [d for d in devices if d not in by_device]
    if missing or len(by_device) != len(devices):
        raise ValueError(f"make_array_from_single_device_arrays: need exactly one array on each "
                         f"addressable device of the sharding {list(devices)}; got arrays on "
                         f"{list(by_device)}.")
    rt = runtime_sharding(sharding, aval.ndim)
    return Array(assemble(aval, rt, [by_device[d]._buf for d in devices]), aval, sharding)
