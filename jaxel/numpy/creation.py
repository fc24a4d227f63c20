"""Array creation: asarray/array, zeros/ones/full(_like), arange, linspace, eye, ..."""
from __future__ import annotations

import numpy as np

from jaxel import dtypes as _dtypes
from jaxel import lax
from jaxel.runtime.array import Array
from jaxel.runtime.transfer import canonical_numpy, device_put_value
from jaxel.tracing.core import Literal, Tracer
from jaxel.numpy._util import aval_of

_python_scalars = (bool, int, float, complex)


def _requested_dtype(dtype, fun_name):
    if dtype is None:
        return None
    return _dtypes.check_and_canonicalize_user_dtype(dtype, fun_name)


def _contains_tracer(obj):
    if isinstance(obj, Tracer):
        return True
    if isinstance(obj, (list, tuple)):
        return any(_contains_tracer(o) for o in obj)
    return False


def asarray(a, dtype=None, order=None, *, copy=None, device=None):
    """Convert ``a`` (array, scalar, nested lists, NumPy array) to a jaxel array.

    Python scalars keep their weak type, as in JAX (``asarray(1.0)`` is weakly typed float32).
    """
    dt = _requested_dtype(dtype, "asarray")
    t = type(a)
    if t is Array or isinstance(a, Tracer):
        if dt is None or dt == a.dtype:
            return a
        return lax.convert_element_type(a, dt)
    if t is Literal:
        a = a.val
        t = type(a)
    if t in _python_scalars:
        weak = t is not bool and dt is None
        value = np.asarray(a, dt if dt is not None else _dtypes.canonicalize_dtype(
            _dtypes.python_scalar_dtypes[t]))
        from jaxel.runtime.transfer import scalar_to_array
        from jaxel.tracing.avals import ShapedArray
        return scalar_to_array(value, ShapedArray((), value.dtype, weak), _device_of(device))
    if isinstance(a, (list, tuple)) and _contains_tracer(a):
        from jaxel.numpy.shape import stack
        return stack([asarray(x, dtype) for x in a])
    if hasattr(a, "__jax_array__"):
        return asarray(a.__jax_array__(), dtype)
    if isinstance(a, (list, tuple)) and any(isinstance(x, Array) for x in _iter_leaves(a)):
        a = _to_numpy_nested(a)
    value = canonical_numpy(a, dtype=None)
    if dt is not None and value.dtype != dt:
        value = value.astype(dt)
    elif dt is None and not isinstance(a, np.ndarray):
        value = _default_dtypes(a, value)
    return device_put_value(value, False, _device_of(device))


def _iter_leaves(a):
    for x in a:
        if isinstance(x, (list, tuple)):
            yield from _iter_leaves(x)
        else:
            yield x


def _to_numpy_nested(a):
    return [(_to_numpy_nested(x) if isinstance(x, (list, tuple)) else np.asarray(x)) for x in a]


def _default_dtypes(a, value):
    # Nested Python lists: ints become int32 (int64 with x64), floats float32, as in JAX.
    return value.astype(_dtypes.canonicalize_dtype(value.dtype))


def _device_of(device):
    return device


def array(object, dtype=None, copy=True, order="K", ndmin=0, *, device=None):  # noqa: A002
    """Create an array (a copy) from ``object``; ``ndmin`` adds leading dimensions."""
    out = asarray(object, dtype=dtype, device=device)
    if ndmin > out.ndim:
        out = lax.reshape(out, (1,) * (ndmin - out.ndim) + out.shape)
    return out


def full(shape, fill_value, dtype=None, *, device=None):
    """An array of ``shape`` filled with ``fill_value``."""
    shape = _shape_tuple(shape)
    dt = _requested_dtype(dtype, "full")
    if isinstance(fill_value, (Array, Tracer)) and getattr(fill_value, "ndim", 0) > 0:
        from jaxel.numpy._util import broadcast_to_shape
        return broadcast_to_shape(asarray(fill_value, dt), shape)
    if dt is None:
        dt = _dtypes.dtype(fill_value, canonicalize=True)
    weak = dtype is None and type(fill_value) in (int, float, complex)
    if isinstance(fill_value, (Array, Tracer)):
        x = asarray(fill_value, dt)
    else:
        from jaxel.tracing.core import literal
        x = literal(fill_value, dt, weak)
    return lax.broadcast_in_dim_p.bind(x, shape=shape, broadcast_dimensions=(), sharding=None)


def _shape_tuple(shape):
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    try:
        return tuple(int(operator_index(d)) for d in shape)
    except TypeError:
        raise TypeError(f"Shapes must be sequences of integers, got {shape!r}.") from None


def operator_index(d):
    import operator
    return operator.index(d)


def zeros(shape, dtype=None, *, device=None):
    """An array of zeros (float32 by default)."""
    return full(shape, 0, dtype if dtype is not None else _dtypes.default_float_dtype())


def ones(shape, dtype=None, *, device=None):
    """An array of ones (float32 by default)."""
    return full(shape, 1, dtype if dtype is not None else _dtypes.default_float_dtype())


def empty(shape, dtype=None, *, device=None):
    """Like ``zeros`` (XLA has no uninitialised memory)."""
    return zeros(shape, dtype)


def full_like(a, fill_value, dtype=None, shape=None, *, device=None):
    """An array like ``a`` (shape, dtype) filled with ``fill_value``."""
    aval = aval_of(a)
    dt = _requested_dtype(dtype, "full_like") or aval.dtype
    shape = aval.shape if shape is None else _shape_tuple(shape)
    from jaxel.tracing.core import literal
    if isinstance(fill_value, (Array, Tracer)):
        from jaxel.numpy._util import broadcast_to_shape
        return broadcast_to_shape(lax.convert_element_type(fill_value, dt), shape)
    x = literal(fill_value, dt, aval.weak_type and dtype is None)
    return lax.broadcast_in_dim_p.bind(x, shape=shape, broadcast_dimensions=(), sharding=None)


def zeros_like(a, dtype=None, shape=None, *, device=None):
    """Zeros with the shape and dtype of ``a``."""
    return full_like(a, 0, dtype, shape)


def ones_like(a, dtype=None, shape=None, *, device=None):
    """Ones with the shape and dtype of ``a``."""
    return full_like(a, 1, dtype, shape)


def empty_like(a, dtype=None, shape=None, *, device=None):
    """Like ``zeros_like``."""
    return full_like(a, 0, dtype, shape)
