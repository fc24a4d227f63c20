"""where, clip, arange, isclose/allclose and other small compositions of lax."""
from __future__ import annotations

import numpy as np

from jaxel import dtypes as _dtypes
from jaxel import lax
from jaxel.numpy._util import check_arraylike, promote_and_broadcast
from jaxel.tracing.core import literal


def where(condition, x=None, y=None, /, *, size=None, fill_value=None):
    """``x`` where ``condition`` else ``y`` (broadcast, promoted). The one-argument form
    (``nonzero``) is not in this first NumPy layer."""
    if x is None or y is None:
        raise NotImplementedError("jaxel.numpy.where(condition) with one argument (nonzero) is "
                                  "not implemented yet; pass x and y.")
    check_arraylike("where", condition, x, y)
    from jaxel.numpy.creation import asarray
    condition = asarray(condition)
    if condition.dtype != np.bool_:
        condition = lax.ne(condition, 0)
    x, y = promote_and_broadcast("where", x, y)
    from jaxel.numpy._util import aval_of, broadcast_shapes, broadcast_to_shape
    shape = broadcast_shapes(aval_of(condition).shape, aval_of(x).shape, aval_of(y).shape)
    condition, x, y = (broadcast_to_shape(v, shape) for v in (condition, x, y))
    return lax.select_n(condition, y, x)


def clip(arr, min=None, max=None):  # noqa: A002
    """Limit values to ``[min, max]`` (either may be None)."""
    from jaxel.numpy.ufuncs import maximum, minimum
    if min is not None:
        arr = maximum(arr, min)
    if max is not None:
        arr = minimum(arr, max)
    return arr


def arange(start, stop=None, step=None, dtype=None):
    """Evenly spaced values in ``[start, stop)`` (static bounds), with JAX's dtypes."""
    if stop is None:
        start, stop = 0, start
    step = 1 if step is None else step
    for v, name in ((start, "start"), (stop, "stop"), (step, "step")):
        if hasattr(v, "aval") and not hasattr(v, "_buf"):
            raise TypeError(f"jaxel.numpy.arange needs concrete bounds; {name} is traced.")
    start, stop, step = (v.item() if hasattr(v, "item") else v for v in (start, stop, step))
    if dtype is None:
        dt = _dtypes.default_float_dtype() if any(isinstance(v, float) for v in
                                                  (start, stop, step)) \
            else _dtypes.default_int_dtype()
    else:
        dt = _dtypes.check_and_canonicalize_user_dtype(dtype, "arange")
    n = max(int(np.ceil((stop - start) / step)), 0)
    out = lax.iota(dt, n)
    if step != 1:
        out = lax.mul(out, literal(step, dt, False))
    if start != 0:
        out = lax.add(out, literal(start, dt, False))
    return out


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise ``|a - b| <= atol + rtol * |b|``."""
    from jaxel.numpy.ufuncs import abs, isnan, less_equal, subtract, multiply, add, isinf, equal
    a, b = promote_and_broadcast("isclose", a, b)
    close = less_equal(abs(subtract(a, b)), add(atol, multiply(rtol, abs(b))))
    close = close | (isinf(a) & isinf(b) & equal(a, b)) if _dtypes.is_inexact(a.dtype) else close
    if equal_nan:
        close = close | (isnan(a) & isnan(b))
    return close


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True if all elements are close (``isclose``)."""
    from jaxel.numpy.reductions import all as all_
    return all_(isclose(a, b, rtol, atol, equal_nan))


def array_equal(a1, a2, equal_nan=False):
    """True if the arrays have one shape and equal elements."""
    from jaxel.numpy.creation import asarray
    from jaxel.numpy.reductions import all as all_
    a1, a2 = asarray(a1), asarray(a2)
    if a1.shape != a2.shape:
        return asarray(False)
    return all_(a1 == a2)


__all__ = ["where", "clip", "arange", "isclose", "allclose", "array_equal"]
