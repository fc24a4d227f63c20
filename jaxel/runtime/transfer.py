"""Moving values between the host and devices: device_put, DLPack, pickling."""
from __future__ import annotations

import numpy as np

from jaxel import dtypes as _dtypes
from jaxel import guards as _guards
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
    dev = be.local_devices[0] if device is None else device
    aval = ShapedArray(value.shape, value.dtype, weak_type)
    if _guards.active:
        _guards.check("host_to_device", lambda: f"aval={aval.str_short()}, dst={dev}")
    if not value.flags.c_contiguous:
        value = np.ascontiguousarray(value)
    buf = device_put_numpy(value, aval, dev, be.sharding(dev))
    return Array(buf, aval, device)


def host_value(arr: Array) -> np.ndarray:
    """``arr``'s value copied to a NumPy array."""
    from jaxel.runtime.xla import NO_DLPACK, host_copy
    if _guards.active:
        _guards.check("device_to_host", lambda: f"aval={arr.aval.str_short()}, "
                                                f"src={arr.device}")
        with _guards.quiet():  # blocks of a sharded value, a widening: one transfer
            return _host_value(arr)
    return _host_value(arr)


def _host_value(arr: Array) -> np.ndarray:
    from jaxel.runtime.xla import NO_DLPACK, host_copy
    placement = arr._device
    if placement is not None and not hasattr(placement, "platform"):
        from jaxel.runtime.sharded import global_value
        return global_value(arr)
    dtype = arr.aval.dtype
    wide = NO_DLPACK.get(dtype.name)
    if wide is not None:
        # XLA has no DLPack code for sub-byte types: widen on the device (exact), narrow here.
        # The widening runs eagerly even when a trace is current (printing a constant in jit).
        from jaxel import lax
        from jaxel.tracing.core import _state
        from jaxel.tracing.eval_trace import eval_trace
        saved, _state.trace = _state.trace, eval_trace
        try:
            widened = lax.convert_element_type(arr, np.dtype(wide))
        finally:
            _state.trace = saved
        return host_value(widened).astype(dtype)
    return host_copy(arr._buf, arr.device.platform)


def scalar_to_array(value, aval: ShapedArray, device=None) -> Array:
    """A device array for the scalar ``value`` with ``aval``, cached for reuse."""
    if _guards.active:
        # A host scalar becoming an operand is a host-to-device transfer for the guards (as in
        # JAX), whether or not jaxel's cache already holds its device copy.
        _guards.check("host_to_device", lambda: f"aval={aval.str_short()}, dst="
                                                f"{device or _client.default_device()}")
        with _guards.quiet():
            return _scalar_to_array(value, aval, device)
    return _scalar_to_array(value, aval, device)


def _scalar_to_array(value, aval: ShapedArray, device=None) -> Array:
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
    if x._device is not None and x._one_device() is None:
        raise BufferError("DLPack export needs an array on one device; this one is laid out over "
                          f"{len(x.sharding.device_set)} devices (export x.addressable_shards[i]"
                          ".data, or jaxel.device_put it to one device first).")
    return _jax.buffer_to_dlpack_managed_tensor(x._buf, stream=stream)


def dlpack_device(x: Array):
    """The ``(device_type, device_id)`` pair of DLPack (1 = CPU, 2 = CUDA)."""
    dev = x.device
    return (1 if dev.platform == "cpu" else 2, dev.id)


def from_dlpack(external, device=None, copy=None) -> Array:
    """An Array from any object with ``__dlpack__`` (NumPy, PyTorch, another jaxel Array).

    Host memory is copied to the device (jaxlib's zero-copy import makes its array through Python
    hooks that import JAX); GPU memory is imported by jaxlib directly.

    Example::

        >>> jaxel.dlpack.from_dlpack(np.arange(3.0))
    """
    if type(external) is Array:
        return external if not copy else external.copy()
    dl_type = external.__dlpack_device__()[0] if hasattr(external, "__dlpack_device__") else 1
    if dl_type == 1:  # kDLCPU
        host = np.from_dlpack(external) if hasattr(external, "__dlpack__") else \
            _from_capsule(external)
        return device_put_value(canonical_numpy(host), False, device)
    from jaxel.runtime.xla import _jax, _no_jax_import
    be = _client.backend("gpu")
    dev = device or be.local_devices[0]
    with _no_jax_import():
        buf = _jax.dlpack_managed_tensor_to_buffer(external.__dlpack__(), dev, None, copy)
    arr = Array(buf, ShapedArray(tuple(buf.shape), np.dtype(buf.dtype)), device)
    if _dtypes.canonicalize_dtype(arr.dtype) != arr.dtype:  # e.g. float64 data with x64 off
        return device_put_value(canonical_numpy(arr._value()), False, device)
    return arr


def _from_capsule(capsule):
    """A NumPy view of a bare DLPack capsule (the pre-``__dlpack__`` protocol)."""
    from jaxel.runtime.xla import _Capsule
    return np.from_dlpack(_Capsule(capsule))
