"""Moving values between the host and devices: device_put, DLPack, pickling."""
from __future__ import annotations

import numpy as np

from jaxel import dtypes as _dtypes
from jaxel.runtime import client as _client
from jaxel.runtime.array import Array
from jaxel.tracing.avals import ShapedArray

# Device copies of small constants (the ``1.0`` in ``x + 1.0``), so eager code does not pay a
# host-to-device transfer per operation. Keyed by (aval, raw bytes): bytes, not values, so that
# 0.0 and -0.0 (equal as floats) get different entries and NaN finds its own.
_scalar_cache: dict = {}
_SCALAR_CACHE_SIZE = 4096

#: Every dtype a jaxel array can have (before 64-bit canonicalisation): the standard ones, the
#: narrow ml_dtypes types that XLA's runtime holds (PJRT packs sub-byte values itself), float0.
SUPPORTED_DTYPES = frozenset(
    dt for dt in _dtypes._EVERY if dt not in _dtypes._NO_RUNTIME) | {np.dtype(_dtypes.float0)}


def device_put_value(value: np.ndarray, weak_type: bool = False, device=None) -> Array:
    """Copy a NumPy value (already of a canonical dtype) to ``device`` as an Array."""
    from jaxel.runtime.xla import device_put_numpy
    be = _client.backend() if device is None else _client.backend_of_device(device)
    dev = be.devices[0] if device is None else device
    aval = ShapedArray(value.shape, value.dtype, weak_type)
    if not value.flags.c_contiguous:
        value = np.ascontiguousarray(value)
    buf = device_put_numpy(value, aval, dev, be.sharding(dev))
    return Array(buf, aval, device)


def scalar_to_array(value, aval: ShapedArray, device=None) -> Array:
    """A device array for the scalar ``value`` with ``aval``, cached for reuse."""
    value = np.asarray(value, aval.dtype)
    key = (aval, value.tobytes(), device)
    arr = _scalar_cache.get(key)
    if arr is None:
        if len(_scalar_cache) >= _SCALAR_CACHE_SIZE:
            _scalar_cache.clear()
        arr = device_put_value(value, aval.weak_type, device)
        arr._npy = value
        _scalar_cache[key] = arr
    return arr


def canonical_numpy(x, dtype=None) -> np.ndarray:
    """``x`` as a NumPy array of a canonical dtype (64-bit narrowed when x64 is off)."""
    arr = np.asarray(x, dtype=dtype)
    if arr.dtype not in SUPPORTED_DTYPES:
        why = _dtypes._NO_RUNTIME.get(arr.dtype)
        if why is not None:
            raise TypeError(f"jaxel cannot make arrays of dtype {arr.dtype}: {why}.")
        raise TypeError(f"jaxel arrays cannot hold values of dtype {arr.dtype} (strings, objects "
                        "and dates are not supported); convert to a numeric dtype first.")
    dt = _dtypes.canonicalize_dtype(arr.dtype) if arr.dtype != _dtypes.float0 else arr.dtype
    return arr if dt == arr.dtype else arr.astype(dt)


def _unpickle_array(value: np.ndarray, weak_type: bool) -> Array:
    return device_put_value(value, weak_type)


def to_dlpack(x: Array, stream=None, max_version=None, copy=None):
    """A DLPack capsule sharing (or copying) ``x``'s device buffer."""
    from jaxel.runtime.xla import _jax
    x._check_alive()
    return _jax.buffer_to_dlpack_managed_tensor(x._buf, stream=stream)


def dlpack_device(x: Array):
    """The ``(device_type, device_id)`` pair of DLPack (1 = CPU, 2 = CUDA)."""
    dev = x.device
    return (1 if dev.platform == "cpu" else 2, dev.id)


def from_dlpack(external, device=None, copy=None) -> Array:
    """An Array from any object with ``__dlpack__`` (NumPy, PyTorch, another jaxel Array).

    Example::

        >>> jaxel.dlpack.from_dlpack(np.arange(3.0))
    """
    from jaxel.runtime.xla import _jax
    if type(external) is Array:
        return external if not copy else external.copy()
    be = _client.backend("cpu")
    dev = device or be.devices[0]
    dl_type = None
    if hasattr(external, "__dlpack_device__"):
        dl_type, _ = external.__dlpack_device__()
        if dl_type != 1:
            be = _client.backend("gpu")
            dev = device or be.devices[0]
    # jaxlib 0.10.2 consumes unversioned ("dltensor") capsules only, so do not ask for v1.
    capsule = external.__dlpack__() if hasattr(external, "__dlpack__") else external
    buf = _jax.dlpack_managed_tensor_to_buffer(capsule, dev, None, copy)
    dt = np.dtype(buf.dtype) if hasattr(buf, "dtype") else None
    value_aval = ShapedArray(tuple(buf.shape), dt)
    arr = Array(buf, value_aval, device)
    canon = _dtypes.canonicalize_dtype(value_aval.dtype)
    if canon != value_aval.dtype:  # e.g. float64 data with x64 off: narrow as asarray would
        return device_put_value(canonical_numpy(arr._value()), False, device)
    return arr
