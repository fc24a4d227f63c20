"""Array creation: asarray/array, zeros/ones/full(_like), arange, linspace, eye, diag, ...

Everything here is a composition of ``jaxel.lax`` primitives (iota, broadcast_in_dim, select_n,
...). Host-side NumPy is used only to convert user *inputs* (lists, NumPy arrays) to device
arrays, never to compute a result.
"""
from __future__ import annotations

import math
import operator

import numpy as np

from jaxel import dtypes as _dtypes
from jaxel import lax
from jaxel.errors import ConcretizationTypeError
from jaxel.runtime.array import Array
from jaxel.runtime.transfer import canonical_numpy, device_put_value
from jaxel.tracing.core import Literal, Tracer, literal
from jaxel.numpy._util import aval_of

_python_scalars = (bool, int, float, complex)


def _requested_dtype(dtype, fun_name):
    """None, or the canonical dtype the user asked for (warning if 64-bit without x64)."""
    if dtype is None:
        return None
    return _dtypes.check_and_canonicalize_user_dtype(dtype, fun_name)


def _contains_tracer(obj):
    if isinstance(obj, Tracer):
        return True
    if isinstance(obj, (list, tuple)):
        return any(_contains_tracer(o) for o in obj)
    return False


# ---- asarray / array ---------------------------------------------------------------------------
def asarray(a, dtype=None, order=None, *, copy=None, device=None):
    """Convert ``a`` (array, scalar, nested lists, NumPy array) to a jaxel array.

    Python scalars keep their weak type, as in JAX (``asarray(1.0)`` is weakly typed float32).
    Nested lists take the JAX-promoted dtype of their elements (``[1, 2.5]`` is float32,
    ``[np.float16(1), 2]`` float16). Strings and objects raise TypeError.

    Args:
      a: the value to convert.
      dtype: optional dtype of the result (64-bit dtypes warn and narrow without x64).
      order: accepted for NumPy compatibility (no effect).
      copy: when true, a jaxel Array input is copied to a new buffer (host values always are).
      device: optional device to place a host value on.

    Returns:
      A jaxel Array (``a`` itself when it already is one of the right dtype and ``copy`` is
      not true).

    Example::

        >>> jnp.asarray([1, 2.5])
        Array([1. , 2.5], dtype=float32)
    """
    dt = _requested_dtype(dtype, "asarray")
    t = type(a)
    if t is Array or isinstance(a, Tracer):
        if dt is None or dt == a.dtype:
            # copy=True promises a buffer of its own: one that outlives ``a.delete()``.
            return a.copy() if copy and t is Array else a
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
    if a is None:
        raise ValueError("None is not a valid value for jaxel.numpy.asarray / array.")
    if isinstance(a, (list, tuple)) and _contains_tracer(a):
        from jaxel.numpy.shape import stack
        if dt is None:
            dt = _list_dtype(a)
        return stack([asarray(x, dt) for x in a])
    if hasattr(a, "__jax_array__"):
        return asarray(a.__jax_array__(), dtype)
    if isinstance(a, (list, tuple)):
        return device_put_value(_list_to_numpy(a, dt), False, _device_of(device))
    value = canonical_numpy(a, dtype=None)
    if dt is not None and value.dtype != dt:
        value = value.astype(dt)
    return device_put_value(value, False, _device_of(device))


def _iter_leaves(a):
    for x in a:
        if isinstance(x, (list, tuple)):
            yield from _iter_leaves(x)
        else:
            yield x


def _is_numeric_leaf(x) -> bool:
    return isinstance(x, (_python_scalars, np.generic, np.ndarray, Array, Tracer, Literal))


def _list_dtype(a):
    """JAX's dtype for a nested list: the promoted (non-weak) dtype of its leaves."""
    leaves = list(_iter_leaves(a))
    if not leaves:
        return _dtypes.default_float_dtype()  # jnp.array([]) is float32, as in JAX
    return _dtypes.result_type(*leaves)


def _list_to_numpy(a, dt):
    """A nested list/tuple as a NumPy array of ``dt`` (or of its leaves' promoted dtype)."""
    leaves = list(_iter_leaves(a))
    if all(_is_numeric_leaf(x) for x in leaves):
        if dt is None:
            dt = _list_dtype(a)
        nested = _to_numpy_nested(a) if any(isinstance(x, Array) for x in leaves) else a
        # NumPy's own checks apply: ragged lists raise ValueError, out-of-range Python ints
        # for the chosen dtype raise OverflowError (as in JAX).
        return np.asarray(nested, dtype=dt)
    value = canonical_numpy(a)  # raises TypeError for strings, objects, None ...
    if dt is not None and value.dtype != dt:
        value = value.astype(dt)
    return value


def _to_numpy_nested(a):
    return [(_to_numpy_nested(x) if isinstance(x, (list, tuple)) else np.asarray(x)) for x in a]


def _device_of(device):
    return device


def array(object, dtype=None, copy=True, order="K", ndmin=0, *, device=None):  # noqa: A002
    """Create an array from ``object`` (a new buffer for a jaxel Array when ``copy``).

    Args:
      object: array, scalar, NumPy array or (nested) list of them.
      dtype: optional dtype of the result.
      copy: for a concrete jaxel Array, return a distinct buffer (default True).
      order: accepted for NumPy compatibility.
      ndmin: minimum number of dimensions (leading size-1 dimensions are added).
      device: optional device for host values.

    Returns:
      A jaxel Array.

    Example::

        >>> jnp.array([[1, 2], [3, 4]], dtype=jnp.float32, ndmin=3).shape
        (1, 2, 2)
    """
    out = asarray(object, dtype=dtype, device=device)
    if copy and out is object and type(out) is Array:
        out = out.copy()
    if ndmin > out.ndim:
        out = lax.reshape(out, (1,) * (ndmin - out.ndim) + out.shape)
    return out


def copy(a, order=None):
    """A copy of ``a`` (a distinct device buffer for a concrete array).

    Example::

        >>> y = jnp.copy(x)
    """
    return array(a, copy=True)


# ---- full / zeros / ones -----------------------------------------------------------------------
def full(shape, fill_value, dtype=None, *, device=None):
    """An array of ``shape`` filled with ``fill_value``.

    Args:
      shape: int or sequence of ints.
      fill_value: scalar or array broadcastable to ``shape``.
      dtype: result dtype (default: that of ``fill_value``; Python scalars stay weak).

    Example::

        >>> jnp.full((2,), 7)
        Array([7, 7], dtype=int32, weak_type=True)
    """
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
        x = literal(fill_value, dt, weak)
    return lax.broadcast_in_dim_p.bind(x, shape=shape, broadcast_dimensions=(), sharding=None)


def _shape_tuple(shape):
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    try:
        return tuple(int(operator.index(d)) for d in shape)
    except TypeError:
        raise TypeError(f"Shapes must be sequences of integers, got {shape!r}.") from None


def zeros(shape, dtype=None, *, device=None):
    """An array of zeros (float32 by default).

    Example::

        >>> jnp.zeros((2, 3)).shape
        (2, 3)
    """
    return full(shape, 0, dtype if dtype is not None else _dtypes.default_float_dtype())


def ones(shape, dtype=None, *, device=None):
    """An array of ones (float32 by default).

    Example::

        >>> jnp.ones(2, jnp.int32)
        Array([1, 1], dtype=int32)
    """
    return full(shape, 1, dtype if dtype is not None else _dtypes.default_float_dtype())


def empty(shape, dtype=None, *, device=None):
    """Like ``zeros`` (XLA has no uninitialised memory)."""
    return zeros(shape, dtype)


def full_like(a, fill_value, dtype=None, shape=None, *, device=None):
    """An array like ``a`` (shape, dtype, weak type) filled with ``fill_value``.

    Example::

        >>> jnp.full_like(jnp.ones(2), 3)
        Array([3., 3.], dtype=float32)
    """
    aval = aval_of(a)
    dt = _requested_dtype(dtype, "full_like") or aval.dtype
    shape = aval.shape if shape is None else _shape_tuple(shape)
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


# ---- ranges ------------------------------------------------------------------------------------
def _concrete_scalar(x, fun_name, arg_name):
    """A Python scalar from a static argument; ConcretizationTypeError naming it if traced."""
    if isinstance(x, Tracer):
        raise ConcretizationTypeError(
            f"jaxel.numpy.{fun_name}: argument {arg_name!r} must be a concrete value (it "
            f"determines the shape of the result), but it is a traced array "
            f"{x.aval.str_short()}. Pass it as a Python number, or mark it static "
            "(jit's static_argnums / static_argnames).")
    if isinstance(x, (Array, np.ndarray, np.generic, Literal)):
        v = x.val if isinstance(x, Literal) else x
        if np.ndim(v) != 0:
            raise ValueError(f"jaxel.numpy.{fun_name}: argument {arg_name!r} must be a scalar, "
                             f"got an array of shape {np.shape(v)}.")
        return np.asarray(v).item()
    return x


def arange(start, stop=None, step=None, dtype=None, *, device=None):
    """Evenly spaced values in ``[start, stop)`` (bounds must be concrete), with JAX's dtypes:
    Python ints give int32 (int64 with x64), floats float32, NumPy scalars keep their dtype.

    Args:
      start: first value (or ``stop`` when ``stop`` is None).
      stop: end of the interval (exclusive).
      step: spacing (default 1; must not be 0).
      dtype: optional result dtype.

    Returns:
      A 1-D array of ``ceil((stop - start) / step)`` elements.

    Example::

        >>> jnp.arange(1, 7, 2)
        Array([1, 3, 5], dtype=int32)
    """
    args = [a for a in (start, stop, step) if a is not None]
    if dtype is None:
        dt = _dtypes.canonicalize_dtype(_dtypes.result_type(*args))
    else:
        dt = _dtypes.check_and_canonicalize_user_dtype(dtype, "arange")
    if dt == np.bool_:
        raise TypeError("jaxel.numpy.arange does not support dtype bool (its bounds are "
                        "boolean or dtype=bool was requested); use an integer dtype.")
    if stop is None:  # arange(stop): the one argument is the end, as in JAX's messages
        start, stop = 0, start
    start = _concrete_scalar(start, "arange", "start")
    stop = _concrete_scalar(stop, "arange", "stop")
    step = _concrete_scalar(step, "arange", "step")
    if step is None:
        step = 1
    if step == 0:
        raise ZeroDivisionError("jaxel.numpy.arange: step must not be zero.")
    n = max(int(math.ceil((stop - start) / step)), 0)
    if _dtypes.is_integer(dt):
        # NumPy's rule for integer results: the first two values are cast to the dtype and
        # their difference is the increment (arange(0, 5, 1.5, dtype=int) is 0, 1, 2, 3).
        first = int(start)
        delta = int(start + step) - first
        return _affine_iota(dt, dt, n, first, delta)
    # Low-precision floats count in float32 so large counts stay exact.
    work = np.dtype(np.float32) if dt.itemsize < 4 and not _dtypes.is_complex(dt) else dt
    return _affine_iota(work, dt, n, start, step)


def _affine_iota(work_dt, out_dt, n, first, delta):
    out = lax.iota(work_dt, n)
    if delta != 1:
        out = lax.mul(out, literal(delta, work_dt, False))
    if first != 0:
        out = lax.add(out, literal(first, work_dt, False))
    return out if work_dt == out_dt else lax.convert_element_type(out, out_dt)


def _static_count(num, fun_name):
    num = _concrete_scalar(num, fun_name, "num")
    try:
        num = operator.index(num)
    except TypeError:
        raise TypeError(f"jaxel.numpy.{fun_name}: num must be an integer, got {num!r}.") from None
    if num < 0:
        raise ValueError(f"Number of samples, {num}, must be non-negative.")
    return num


def _inexact_dtype(dt):
    """JAX's computation dtype for a requested dtype: 64-bit integers compute in float64
    (canonicalised), narrower integers and bools in float32."""
    if _dtypes.is_inexact(dt):
        return dt
    return _dtypes.canonicalize_dtype(np.float64 if dt.itemsize == 8 else np.float32)


def _bounds(fun_name, start, stop, dtype, *extra):
    """Result dtype, computation dtype and the broadcast bounds of linspace-like functions."""
    from jaxel.numpy._util import broadcast_shapes, broadcast_to_shape
    if dtype is None:
        dt = _dtypes.result_type(start, stop, float, *extra)
    else:
        dt = _dtypes.check_and_canonicalize_user_dtype(dtype, fun_name)
    work = _inexact_dtype(_dtypes.canonicalize_dtype(dt))
    start, stop = asarray(start, work), asarray(stop, work)
    shape = broadcast_shapes(start.shape, stop.shape)
    return dt, work, broadcast_to_shape(start, shape), broadcast_to_shape(stop, shape)


def _insert_axis(shape, num, axis, fun_name):
    nd = len(shape) + 1
    if not -nd <= axis < nd:
        raise ValueError(f"jaxel.numpy.{fun_name}: axis {axis} is out of bounds for a result "
                         f"of dimension {nd}.")
    axis %= nd
    return shape[:axis] + (num,) + shape[axis:], axis


def _convert_result(out, dt):
    if out.dtype == dt:
        return out
    if _dtypes.is_integer(dt) and not _dtypes.is_integer(out.dtype):
        out = lax.floor(out)  # integer linspace rounds down, as JAX (not towards zero)
    return lax.convert_element_type(out, dt)


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, *,
             device=None):
    """``num`` evenly spaced samples from ``start`` to ``stop`` (array bounds broadcast).

    Args:
      start, stop: scalars or arrays (broadcast against each other).
      num: number of samples (a concrete non-negative int).
      endpoint: include ``stop`` (default True).
      retstep: also return the spacing.
      dtype: result dtype (default: the promoted inexact dtype of the bounds).
      axis: where the samples axis goes in the result.

    Returns:
      The samples (and the step when ``retstep``).

    Example::

        >>> jnp.linspace(0, 1, 5)
        Array([0.  , 0.25, 0.5 , 0.75, 1.  ], dtype=float32)
    """
    num = _static_count(num, "linspace")
    dt, work, start, stop = _bounds("linspace", start, stop, dtype)
    bshape = start.shape
    out_shape, axis = _insert_axis(bshape, num, axis, "linspace")
    dims = tuple(d for d in range(len(out_shape)) if d != axis)
    div = num - 1 if endpoint else num
    delta = lax.sub(stop, start)
    if div > 0:
        step = lax.div(delta, literal(div, work, False))
    else:
        step = full(bshape, float("nan"), work)
    if num == 0:
        out = full(out_shape, 0, work)
    elif num == 1:
        out = lax.broadcast_in_dim(start, out_shape, dims)
    else:
        idx = lax.broadcasted_iota(work, out_shape, axis)
        out = lax.add(lax.broadcast_in_dim(start, out_shape, dims),
                      lax.mul(idx, lax.broadcast_in_dim(step, out_shape, dims)))
        if endpoint and num > 1:
            # The last sample is exactly ``stop`` (the product above may round away from it).
            last = lax.broadcast_in_dim(stop, _insert_axis(bshape, 1, axis, "linspace")[0],
                                        dims)
            out = lax.concatenate([lax.slice_in_dim(out, 0, num - 1, 1, axis), last], axis)
    out = _convert_result(out, _dtypes.canonicalize_dtype(dt))
    return (out, step) if retstep else out


def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    """``base ** linspace(start, stop, num)``: samples evenly spaced on a log scale.

    Example::

        >>> jnp.logspace(0, 2, 3)
        Array([  1.,  10., 100.], dtype=float32)
    """
    num = _static_count(num, "logspace")
    if dtype is None:
        dt = _dtypes.result_type(start, stop, float)
    else:
        dt = _dtypes.check_and_canonicalize_user_dtype(dtype, "logspace")
    work = _inexact_dtype(_dtypes.canonicalize_dtype(dt))
    lin = linspace(start, stop, num, endpoint=endpoint, dtype=work, axis=axis)
    base = asarray(base, work)
    out = lax.pow(_broadcast_like(base, lin, axis % lin.ndim), lin)
    return lax.convert_element_type(out, dt) if out.dtype != dt else out


def _broadcast_like(x, target, axis):
    """Broadcast a bound-shaped ``x`` into ``target``'s shape (which has the extra ``axis``)."""
    dims = tuple(d for d in range(target.ndim) if d != axis)
    from jaxel.numpy._util import broadcast_to_shape
    bshape = tuple(target.shape[d] for d in dims)
    return lax.broadcast_in_dim(broadcast_to_shape(x, bshape), target.shape, dims)


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """Samples evenly spaced on a log scale between ``start`` and ``stop`` (same sign; a zero
    bound gives NaN, as in JAX). The end points are exact.

    Example::

        >>> jnp.geomspace(1, 1000, 4)
        Array([   1.,   10.,  100., 1000.], dtype=float32)
    """
    num = _static_count(num, "geomspace")
    dt, work, start, stop = _bounds("geomspace", start, stop, dtype)
    sign = lax.sign(start)
    log_start = lax.log(lax.div(start, sign))
    log_stop = lax.log(lax.div(stop, sign))
    lin = linspace(log_start, log_stop, num, endpoint=endpoint, dtype=work, axis=axis)
    _, axis = _insert_axis(start.shape, num, axis, "geomspace")
    out = lax.mul(_broadcast_like(sign, lin, axis), lax.exp(lin))
    if num > 0:  # exact end points, as NumPy
        head = lax.expand_dims(start, (axis,))
        pieces = [head]
        if endpoint and num > 1:
            pieces += [lax.slice_in_dim(out, 1, num - 1, 1, axis), lax.expand_dims(stop, (axis,))]
        else:
            pieces += [lax.slice_in_dim(out, 1, num, 1, axis)]
        out = lax.concatenate(pieces, axis)
    return _convert_result(out, _dtypes.canonicalize_dtype(dt))


# ---- matrices ----------------------------------------------------------------------------------
def _dim(n, fun_name, arg_name):
    n = _concrete_scalar(n, fun_name, arg_name)
    try:
        n = operator.index(n)
    except TypeError:
        raise TypeError(f"jaxel.numpy.{fun_name}: {arg_name} must be an integer, got "
                        f"{n!r}.") from None
    if n < 0:
        raise ValueError(f"jaxel.numpy.{fun_name}: {arg_name} must be non-negative, got {n}.")
    return n


def _offset_mask(shape, k, compare):
    """``compare(row + k, col)`` over a 2-D ``shape`` (k may be a traced integer scalar)."""
    idt = _dtypes.default_int_dtype()
    rows = lax.broadcasted_iota(idt, shape, 0)
    cols = lax.broadcasted_iota(idt, shape, 1)
    if isinstance(k, (Array, Tracer)):
        rows = lax.add(rows, lax.convert_element_type(k, idt))
    elif k != 0:
        # A static offset past either edge selects the same cells as one just past it, so clamp:
        # any Python int k then fits the index dtype (eye(0, k=2**63) must not overflow).
        k = min(max(operator.index(k), -shape[0]), shape[1])
        rows = lax.add(rows, literal(k, idt, False))
    return compare(rows, cols)


def _float_or(dtype, fun_name):
    if dtype is None:
        return _dtypes.default_float_dtype()
    return _dtypes.check_and_canonicalize_user_dtype(dtype, fun_name)


def eye(N, M=None, k=0, dtype=None, *, device=None):
    """A 2-D array with ones on diagonal ``k`` and zeros elsewhere.

    Args:
      N: number of rows.
      M: number of columns (default ``N``).
      k: diagonal offset (positive: above the main diagonal); may be a traced integer.
      dtype: result dtype (default float32).

    Example::

        >>> jnp.eye(2, 3, k=1)
        Array([[0., 1., 0.],
               [0., 0., 1.]], dtype=float32)
    """
    n = _dim(N, "eye", "N")
    m = n if M is None else _dim(M, "eye", "M")
    dt = _float_or(dtype, "eye")
    return lax.convert_element_type(_offset_mask((n, m), k, lax.eq), dt)


def identity(n, dtype=None):
    """The ``n`` x ``n`` identity matrix.

    Example::

        >>> jnp.identity(2, dtype=int)
        Array([[1, 0],
               [0, 1]], dtype=int32)
    """
    return eye(n, dtype=dtype)


def tri(N, M=None, k=0, dtype=None):
    """Ones at and below diagonal ``k`` (``j <= i + k``), zeros above.

    Example::

        >>> jnp.tri(3, 2, k=-1)
        Array([[0., 0.],
               [1., 0.],
               [1., 1.]], dtype=float32)
    """
    n = _dim(N, "tri", "N")
    m = n if M is None else _dim(M, "tri", "M")
    dt = _float_or(dtype, "tri")
    return lax.convert_element_type(_offset_mask((n, m), k, lax.ge), dt)


def _triangle(m, k, fun_name, compare):
    m = asarray(m)
    if m.ndim < 2:
        raise ValueError(f"Argument to jaxel.numpy.{fun_name} must be at least 2-D, got shape "
                         f"{m.shape}.")
    shape = m.shape
    mask = _offset_mask(shape[-2:], k, compare)
    mask = lax.broadcast_in_dim(mask, shape, (m.ndim - 2, m.ndim - 1))
    zeros_ = lax.broadcast_in_dim(literal(0, m.dtype, m.weak_type), shape, ())
    return lax.select_n(mask, zeros_, m)


def tril(m, k=0):
    """``m`` with the elements above diagonal ``k`` zeroed (last two axes).

    Example::

        >>> jnp.tril(jnp.ones((2, 2)))
        Array([[1., 0.],
               [1., 1.]], dtype=float32)
    """
    return _triangle(m, k, "tril", lax.ge)


def triu(m, k=0):
    """``m`` with the elements below diagonal ``k`` zeroed (last two axes).

    Example::

        >>> jnp.triu(jnp.ones((2, 2)))
        Array([[1., 1.],
               [0., 1.]], dtype=float32)
    """
    # Keep j >= i + k, i.e. zero where (i + k) - 1 >= j.
    return _triangle(m, k - 1 if not isinstance(k, (Array, Tracer)) else lax.sub(k, 1),
                     "triu", lambda r, c: lax.lt(r, c))


def diag(v, k=0):
    """For 1-D ``v``: a square matrix with ``v`` on diagonal ``k``; for 2-D: its diagonal ``k``.

    Example::

        >>> jnp.diag(jnp.array([1, 2]), k=-1)
        Array([[0, 0, 0],
               [1, 0, 0],
               [0, 2, 0]], dtype=int32)
    """
    v = asarray(v)
    k = operator.index(k)
    if v.ndim == 2:
        return diagonal(v, k)
    if v.ndim != 1:
        raise ValueError(f"jaxel.numpy.diag: input must be 1-D or 2-D, got shape {v.shape}.")
    n = v.shape[0] + abs(k)
    # Row i of the result holds v[i] (k >= 0) or v[i - |k|] (k < 0) at column i + k.
    lo, hi = (0, k) if k >= 0 else (-k, 0)
    row_vals = lax.pad(v, literal(0, v.dtype, v.weak_type), [(lo, hi, 0)])
    vals = lax.broadcast_in_dim(row_vals, (n, n), (0,))
    zeros_ = lax.broadcast_in_dim(literal(0, v.dtype, v.weak_type), (n, n), ())
    return lax.select_n(_offset_mask((n, n), k, lax.eq), zeros_, vals)


def diagonal(a, offset=0, axis1=0, axis2=1):
    """The diagonal ``offset`` of the 2-D slices of ``a`` over ``axis1`` and ``axis2``.

    The diagonal becomes the last axis of the result. It is extracted without a gather: the
    square block holding it is flattened, padded by one row and read with a stride of n + 1.

    Example::

        >>> jnp.diagonal(jnp.arange(6).reshape(2, 3), 1)
        Array([1, 5], dtype=int32)
    """
    a = asarray(a)
    if a.ndim < 2:
        raise ValueError(f"jaxel.numpy.diagonal requires an array of at least two dimensions, "
                         f"got shape {a.shape}.")
    from jaxel.numpy._util import canonicalize_axis
    ax1, ax2 = canonicalize_axis(axis1, a.ndim), canonicalize_axis(axis2, a.ndim)
    if ax1 == ax2:
        raise ValueError(f"jaxel.numpy.diagonal: axis1 and axis2 must differ, both are {ax1}.")
    offset = operator.index(offset)
    rest = [d for d in range(a.ndim) if d not in (ax1, ax2)]
    a = lax.transpose(a, tuple(rest) + (ax1, ax2))
    batch, (n, m) = a.shape[:-2], a.shape[-2:]
    if offset >= 0:
        size = max(0, min(n, m - offset))
        r0, c0 = 0, offset
    else:
        size = max(0, min(n + offset, m))
        r0, c0 = -offset, 0
    if size == 0:
        r0 = c0 = 0
    nb = len(batch)
    square = lax.slice(a, (0,) * nb + (r0, c0), batch + (r0 + size, c0 + size))
    if size <= 1:
        return lax.reshape(square, batch + (size,))
    flat = lax.reshape(square, batch + (size * size,))
    flat = lax.pad(flat, literal(0, a.dtype, a.weak_type), [(0, 0, 0)] * nb + [(0, size, 0)])
    rows = lax.reshape(flat, batch + (size, size + 1))
    first = lax.slice(rows, (0,) * (nb + 2), batch + (size, 1))
    return lax.reshape(first, batch + (size,))


# ---- grids -------------------------------------------------------------------------------------
def meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    """Coordinate arrays from 1-D coordinate vectors (``indexing`` 'xy' or 'ij'), as a tuple
    (as NumPy 2 and the Array API return; JAX returns a list).

    Example::

        >>> X, Y = jnp.meshgrid(jnp.arange(2), jnp.arange(3))
        >>> X.shape
        (3, 2)
    """
    if indexing not in ("xy", "ij"):
        raise ValueError(f"jaxel.numpy.meshgrid: indexing must be 'xy' or 'ij', got "
                         f"{indexing!r}.")
    args = [asarray(x) for x in xi]
    if any(x.ndim != 1 for x in args):
        raise ValueError("Arguments to jaxel.numpy.meshgrid must be 1-D, got shapes "
                         f"{[x.shape for x in args]}.")
    sizes = [x.shape[0] for x in args]
    dims = list(range(len(args)))
    if indexing == "xy" and len(args) >= 2:
        sizes[0], sizes[1] = sizes[1], sizes[0]
        dims[0], dims[1] = 1, 0
    out = []
    for x, d in zip(args, dims):
        if sparse:
            shape = tuple(s if i == d else 1 for i, s in enumerate(sizes))
            out.append(lax.reshape(x, shape))
        else:
            out.append(lax.broadcast_in_dim(x, tuple(sizes), (d,)))
    return tuple(out)


def indices(dimensions, dtype=None, sparse=False):
    """An array (or, if ``sparse``, a tuple of arrays) of the indices of a grid.

    Example::

        >>> jnp.indices((2, 3)).shape
        (2, 2, 3)
    """
    dims = _shape_tuple(dimensions)
    dt = _dtypes.default_int_dtype() if dtype is None else \
        _dtypes.check_and_canonicalize_user_dtype(dtype, "indices")
    nd = len(dims)
    if sparse:
        return tuple(lax.reshape(lax.iota(dt, s), tuple(s if j == i else 1 for j in range(nd)))
                     for i, s in enumerate(dims))
    if nd == 0:
        return full((0,), 0, dt)
    grids = [lax.broadcasted_iota(dt, (1,) + dims, i + 1) for i in range(nd)]
    return lax.concatenate(grids, 0)


__all__ = ["asarray", "array", "copy", "full", "zeros", "ones", "empty", "full_like",
           "zeros_like", "ones_like", "empty_like", "arange", "linspace", "logspace",
           "geomspace", "eye", "identity", "tri", "tril", "triu", "diag", "diagonal",
           "meshgrid", "indices"]
