"""Building global Arrays from per-device pieces, and ``reshard``."""
from __future__ import annotations

import numpy as np

from jaxel.sharding.placement import as_target


def _as_sharding(sharding, what):
    from jaxel.sharding.shardings import Sharding, single_device_sharding
    t = as_target(sharding, what)
    if t is None:
        raise TypeError(f"{what}: a sharding is required, got None.")
    return t if isinstance(t, Sharding) else single_device_sharding(t)


def make_array_from_callback(shape, sharding, data_callback, dtype=None):
    """A global Array of ``shape`` laid out as ``sharding``, asking ``data_callback(index)``
    for each addressable device's block (``index`` is a tuple of slices into the global array).

    Example::

        >>> data = np.arange(16.0).reshape(8, 2)
        >>> x = jaxel.make_array_from_callback(data.shape, NamedSharding(mesh, P('x')),
        ...                                    lambda idx: data[idx])
    """
    from jaxel.runtime.sharded import check_divisible, from_single_device_arrays
    from jaxel.runtime.transfer import canonical_numpy, device_put_value
    sharding = _as_sharding(sharding, "make_array_from_callback")
    shape = tuple(int(n) for n in shape)
    check_divisible(sharding, shape, "make_array_from_callback")
    want = sharding.shard_shape(shape)
    pieces = []
    for device, index in sharding.addressable_devices_indices_map(shape).items():
        block = data_callback(index)
        if hasattr(block, "aval"):
            block = np.asarray(block)
        block = canonical_numpy(block, dtype)
        if block.shape != want:
            raise ValueError(f"make_array_from_callback: the callback returned a block of shape "
                             f"{block.shape} for index {index}, but the sharding's blocks have "
                             f"shape {want}.")
        pieces.append(device_put_value(block, False, device))
    if len(sharding._device_assignment) == 1:
        return pieces[0]
    return from_single_device_arrays(shape, sharding, pieces)


def make_array_from_single_device_arrays(shape, sharding, arrays, *, dtype=None):
    """A global Array of ``shape`` from one single-device Array per addressable device of
    ``sharding`` (each holding that device's block)."""
    from jaxel.runtime.sharded import from_single_device_arrays
    sharding = _as_sharding(sharding, "make_array_from_single_device_arrays")
    arrays = list(arrays)
    if not arrays:
        raise ValueError("make_array_from_single_device_arrays: no arrays given.")
    if len(sharding._device_assignment) == 1:
        return arrays[0]
    return from_single_device_arrays(tuple(shape), sharding, arrays)


def make_array_from_process_local_data(sharding, local_data, global_shape=None):
    """A global Array laid out as ``sharding`` from the data this process holds. In one process
    ``local_data`` is the whole array."""
    from jaxel.runtime.sharded import put_global
    from jaxel.runtime.transfer import canonical_numpy
    sharding = _as_sharding(sharding, "make_array_from_process_local_data")
    value = canonical_numpy(np.asarray(local_data))
    if global_shape is not None and tuple(global_shape) != value.shape and \
            sharding.is_fully_addressable:
        raise ValueError(f"make_array_from_process_local_data: global_shape {global_shape} "
                         f"differs from the local data's shape {value.shape}, but this process "
                         "holds every device of the sharding.")
    if not sharding.is_fully_addressable:
        from jaxel.sharding import multiprocess
        return multiprocess.from_process_local_data(sharding, value, global_shape)
    if len(sharding._device_assignment) == 1:
        from jaxel.device import device_put
        return device_put(value, sharding._device_assignment[0])
    return put_global(value, sharding)


def reshard(xs, out_shardings):
    """``xs`` (a pytree) laid out as ``out_shardings`` (a sharding, a PartitionSpec over the
    current mesh, or a pytree prefix of those): ``device_put`` for arrays, a sharding
    constraint under ``jit``."""
    from jaxel.device import device_put
    return device_put(xs, out_shardings)
