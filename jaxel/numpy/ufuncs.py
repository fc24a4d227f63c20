"""Elementwise NumPy functions, composed from lax primitives with NumPy's promotion and
broadcasting."""
from __future__ import annotations

import numpy as np

from jaxel import dtypes as _dtypes
from jaxel import lax
from jaxel.lax import elementwise as _ew
from jaxel.tracing.core import literal
from jaxel.runtime.array import Array
from jaxel.tracing.core import _state
from jaxel.tracing.eval_trace import UnaryFastPath, eval_trace
from jaxel.numpy._util import (aval_of, check_arraylike, promote_and_broadcast, promote_dtypes,
                               promote_dtypes_inexact)


_INT_OR_INEXACT = frozenset(np.dtype(d) for d in (
    np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
    np.float16, np.float32, np.float64, np.complex64, np.complex128, _dtypes.bfloat16))
_REAL_INEXACT = frozenset(np.dtype(d) for d in (np.float16, np.float32, np.float64,
                                                np.complex64, np.complex128, _dtypes.bfloat16))
# Python scalar type -> array dtypes it joins without changing them (the weak-type rule).
_SCALAR_KEEPS_DTYPE = {int: _INT_OR_INEXACT, float: _REAL_INEXACT}


def _binary(name, prim, doc, inexact=False):
    def f(x1, x2, /):
        ax = getattr(x1, "aval", None)
        if not inexact:
            ay = getattr(x2, "aval", None)
            if ax is not None:
                if ax is ay:
                    return prim.bind(x1, x2)  # fast path: same shape, dtype and weak type
                if ay is None:  # array op Python scalar: the scalar adopts the array's dtype
                    keeps = _SCALAR_KEEPS_DTYPE.get(type(x2))
                    if keeps is not None and ax.dtype in keeps:
                        return prim.bind(x1, literal(x2, ax.dtype, ax.weak_type))
            elif ay is not None:
                keeps = _SCALAR_KEEPS_DTYPE.get(type(x1))
                if keeps is not None and ay.dtype in keeps:
                    return prim.bind(literal(x1, ay.dtype, ay.weak_type), x2)
        check_arraylike(name, x1, x2)
        if inexact:
            x1, x2 = promote_dtypes_inexact(x1, x2)
        x1, x2 = promote_and_broadcast(name, x1, x2)
        return prim.bind(x1, x2)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = doc
    return f


_INEXACT_DTYPES = frozenset(np.dtype(d) for d in (
    np.float16, np.float32, np.float64, np.complex64, np.complex128, _dtypes.bfloat16))


def _unary(name, prim, doc, inexact=False):
    fast = UnaryFastPath(prim)
    ops = fast.ops

    def f(x, /):
        # UnaryFastPath.run, inlined (this is the whole cost of an eager jnp.sin beyond XLA's).
        if type(x) is Array and x._device is None:
            op = ops.get(x.aval)
            if op is not None and _state.trace is eval_trace:
                outs = op.exe.execute_sharded([x._buf]).consume_with_handlers(op.handlers)
                return Array(outs[0], op.aval0, None)
        aval = getattr(x, "aval", None)
        if aval is not None and (not inexact or aval.dtype in _INEXACT_DTYPES):
            out = prim.bind(x)  # an array that needs no conversion
            fast.learn(x)
            return out
        check_arraylike(name, x)
        if inexact:
            (x,) = promote_dtypes_inexact(x)
        elif type(x) in (int, float, complex, bool) or isinstance(x, (np.ndarray, np.generic)):
            from jaxel.numpy.creation import asarray
            x = asarray(x)
        return prim.bind(x)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = doc
    return f


add = _binary("add", _ew.add_p, "Elementwise x1 + x2 with NumPy broadcasting and promotion.")
subtract = _binary("subtract", _ew.sub_p, "Elementwise x1 - x2.")
multiply = _binary("multiply", _ew.mul_p, "Elementwise x1 * x2.")
maximum = _binary("maximum", _ew.max_p, "Elementwise maximum (NaN propagates).")
minimum = _binary("minimum", _ew.min_p, "Elementwise minimum (NaN propagates).")
arctan2 = _binary("arctan2", _ew.atan2_p, "Elementwise arctan(x1 / x2), quadrant-aware.",
                  inexact=True)
nextafter = _binary("nextafter", _ew.nextafter_p, "Next float after x1 towards x2.", inexact=True)
equal = _binary("equal", _ew.eq_p, "Elementwise x1 == x2.")
not_equal = _binary("not_equal", _ew.ne_p, "Elementwise x1 != x2.")
less = _binary("less", _ew.lt_p, "Elementwise x1 < x2.")
less_equal = _binary("less_equal", _ew.le_p, "Elementwise x1 <= x2.")
greater = _binary("greater", _ew.gt_p, "Elementwise x1 > x2.")
greater_equal = _binary("greater_equal", _ew.ge_p, "Elementwise x1 >= x2.")
bitwise_and = _binary("bitwise_and", _ew.and_p, "Elementwise bitwise AND.")
bitwise_or = _binary("bitwise_or", _ew.or_p, "Elementwise bitwise OR.")
bitwise_xor = _binary("bitwise_xor", _ew.xor_p, "Elementwise bitwise XOR.")

sin = _unary("sin", _ew.sin_p, "Elementwise sine.", inexact=True)
cos = _unary("cos", _ew.cos_p, "Elementwise cosine.", inexact=True)
tan = _unary("tan", _ew.tan_p, "Elementwise tangent.", inexact=True)
arcsin = _unary("arcsin", _ew.asin_p, "Elementwise arcsine.", inexact=True)
arccos = _unary("arccos", _ew.acos_p, "Elementwise arccosine.", inexact=True)
arctan = _unary("arctan", _ew.atan_p, "Elementwise arctangent.", inexact=True)
sinh = _unary("sinh", _ew.sinh_p, "Elementwise hyperbolic sine.", inexact=True)
cosh = _unary("cosh", _ew.cosh_p, "Elementwise hyperbolic cosine.", inexact=True)
tanh = _unary("tanh", _ew.tanh_p, "Elementwise hyperbolic tangent.", inexact=True)
arcsinh = _unary("arcsinh", _ew.asinh_p, "Elementwise inverse hyperbolic sine.", inexact=True)
arccosh = _unary("arccosh", _ew.acosh_p, "Elementwise inverse hyperbolic cosine.", inexact=True)
arctanh = _unary("arctanh", _ew.atanh_p, "Elementwise inverse hyperbolic tangent.", inexact=True)
exp = _unary("exp", _ew.exp_p, "Elementwise e**x.", inexact=True)
exp2 = _unary("exp2", _ew.exp2_p, "Elementwise 2**x.", inexact=True)
expm1 = _unary("expm1", _ew.expm1_p, "Elementwise e**x - 1.", inexact=True)
log = _unary("log", _ew.log_p, "Elementwise natural log.", inexact=True)
log1p = _unary("log1p", _ew.log1p_p, "Elementwise log(1 + x).", inexact=True)
sqrt = _unary("sqrt", _ew.sqrt_p, "Elementwise square root.", inexact=True)
cbrt = _unary("cbrt", _ew.cbrt_p, "Elementwise cube root.", inexact=True)
negative = _unary("negative", _ew.neg_p, "Elementwise -x.")
sign = _unary("sign", _ew.sign_p, "Elementwise sign.")
_floor = _unary("floor", _ew.floor_p, "Elementwise floor.", inexact=True)
_ceil = _unary("ceil", _ew.ceil_p, "Elementwise ceiling.", inexact=True)


def _integers_unchanged(float_fn, name):
    """Rounding functions return integer and boolean inputs unchanged (as JAX and the Array
    API do), and round floats."""
    def f(x, /):
        if type(x) in (int, bool):
            return _asarray_any(x)
        dt = getattr(x, "dtype", None)
        if dt is not None and (dt == np.bool_ or np.issubdtype(dt, np.integer)):
            return x if hasattr(x, "aval") else _asarray_any(x)
        return float_fn(x)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"Elementwise {name} (integers and booleans are returned unchanged)."
    return f


def _asarray_any(x):
    from jaxel.numpy.creation import asarray
    return asarray(x)


floor = _integers_unchanged(_floor, "floor")
ceil = _integers_unchanged(_ceil, "ceil")
invert = _unary("invert", _ew.not_p, "Elementwise bitwise NOT (logical NOT for bools).")
bitwise_not = invert


def positive(x, /):
    """Elementwise +x (a copy of x)."""
    check_arraylike("positive", x)
    from jaxel.numpy.creation import asarray
    return asarray(x)


def abs(x, /):  # noqa: A001
    """Elementwise absolute value."""
    check_arraylike("abs", x)
    from jaxel.numpy.creation import asarray
    x = asarray(x)
    if x.dtype == np.bool_ or np.issubdtype(x.dtype, np.unsignedinteger):
        return x
    return _ew.abs_p.bind(x)


absolute = abs


def true_divide(x1, x2, /):
    """Elementwise x1 / x2; integers divide as floats."""
    check_arraylike("true_divide", x1, x2)
    x1, x2 = promote_dtypes_inexact(x1, x2)
    x1, x2 = promote_and_broadcast("true_divide", x1, x2)
    return _ew.div_p.bind(x1, x2)


divide = true_divide


def floor_divide(x1, x2, /):
    """Elementwise floor(x1 / x2) (rounds toward minus infinity, as NumPy)."""
    check_arraylike("floor_divide", x1, x2)
    x1, x2 = promote_and_broadcast("floor_divide", x1, x2)
    dt = aval_of(x1).dtype
    if _dtypes.is_integer(dt) and not _dtypes.is_unsigned(dt):
        q = _ew.div_p.bind(x1, x2)
        r = _ew.rem_p.bind(x1, x2)
        zero = lax.full_like(r, 0) if hasattr(lax, "full_like") else r * 0
        adjust = (r != zero) & ((r < zero) != (x2 < zero))
        return lax.select(adjust, q - 1, q)
    if _dtypes.is_integer(dt) or dt == np.bool_:
        return _ew.div_p.bind(x1, x2)
    return _ew.floor_p.bind(_ew.div_p.bind(x1, x2))


def remainder(x1, x2, /):
    """Elementwise remainder with the sign of x2 (NumPy's ``mod``)."""
    check_arraylike("remainder", x1, x2)
    x1, x2 = promote_and_broadcast("remainder", x1, x2)
    r = _ew.rem_p.bind(x1, x2)
    dt = aval_of(r).dtype
    if _dtypes.is_unsigned(dt) or dt == np.bool_:
        return r
    zero = r * 0
    adjust = (r != zero) & ((r < zero) != (x2 < zero))
    return lax.select(adjust, r + x2, r)


mod = remainder


def divmod(x1, x2, /):  # noqa: A001
    """``(floor_divide(x1, x2), remainder(x1, x2))``."""
    return floor_divide(x1, x2), remainder(x1, x2)


def power(x1, x2, /):
    """Elementwise x1 ** x2 (integer powers by repeated multiplication when x2 is a Python int)."""
    check_arraylike("power", x1, x2)
    if type(x2) is int and not isinstance(x1, (int, float, complex)):
        from jaxel.numpy.creation import asarray
        x1 = asarray(x1)
        if x2 >= 0 or _dtypes.is_inexact(x1.dtype):
            return _ew.integer_pow_p.bind(x1, y=x2)
    x1, x2 = promote_and_broadcast("power", x1, x2)
    dt = aval_of(x1).dtype
    if _dtypes.is_inexact(dt):
        return _ew.pow_p.bind(x1, x2)
    return _integer_power(x1, x2)


def _integer_power(x, y):
    # Square-and-multiply over the bits of an integer exponent array (32 or 64 rounds).
    dt = aval_of(x).dtype
    bits = dt.itemsize * 8
    acc = x * 0 + 1
    base = x
    for _ in range(bits):
        acc = lax.select((y & 1) == 1, acc * base, acc)
        base = base * base
        y = _ew.shift_right_logical_p.bind(*promote_dtypes(y, 1))
    return acc


def square(x, /):
    """Elementwise x * x."""
    check_arraylike("square", x)
    from jaxel.numpy.creation import asarray
    return _ew.integer_pow_p.bind(asarray(x), y=2)


def reciprocal(x, /):
    """Elementwise 1 / x."""
    (x,) = promote_dtypes_inexact(x)
    return true_divide(1, x)


def left_shift(x1, x2, /):
    """Elementwise x1 << x2."""
    x1, x2 = promote_and_broadcast("left_shift", x1, x2)
    return _ew.shift_left_p.bind(x1, x2)


def right_shift(x1, x2, /):
    """Elementwise x1 >> x2 (arithmetic for signed, logical for unsigned)."""
    x1, x2 = promote_and_broadcast("right_shift", x1, x2)
    if _dtypes.is_unsigned(aval_of(x1).dtype):
        return _ew.shift_right_logical_p.bind(x1, x2)
    return _ew.shift_right_arithmetic_p.bind(x1, x2)


def isfinite(x, /):
    """Elementwise test for finite values (always True for integers)."""
    check_arraylike("isfinite", x)
    from jaxel.numpy.creation import asarray, full_like
    x = asarray(x)
    if not _dtypes.is_inexact(x.dtype):
        return full_like(x, True, dtype=bool)
    if _dtypes.is_complex(x.dtype):
        return isfinite(_ew.real_p.bind(x)) & isfinite(_ew.imag_p.bind(x))
    return _ew.is_finite_p.bind(x)


def isinf(x, /):
    """Elementwise test for +inf or -inf."""
    from jaxel.numpy.creation import asarray, full_like
    x = asarray(x)
    if not _dtypes.is_inexact(x.dtype):
        return full_like(x, False, dtype=bool)
    if _dtypes.is_complex(x.dtype):
        return isinf(_ew.real_p.bind(x)) | isinf(_ew.imag_p.bind(x))
    return _ew.eq_p.bind(_ew.abs_p.bind(x), *promote_dtypes(x, float("inf"))[1:])


def isnan(x, /):
    """Elementwise test for NaN."""
    from jaxel.numpy.creation import asarray
    x = asarray(x)
    return _ew.ne_p.bind(x, x)


def real(x, /):
    """Real part (the array itself for real inputs)."""
    from jaxel.numpy.creation import asarray
    x = asarray(x)
    return _ew.real_p.bind(x) if _dtypes.is_complex(x.dtype) else x


def imag(x, /):
    """Imaginary part (zeros for real inputs)."""
    from jaxel.numpy.creation import asarray, zeros_like
    x = asarray(x)
    return _ew.imag_p.bind(x) if _dtypes.is_complex(x.dtype) else zeros_like(x)


def conjugate(x, /):
    """Complex conjugate (the array itself for real inputs)."""
    from jaxel.numpy.creation import asarray
    x = asarray(x)
    return _ew.conj_p.bind(x) if _dtypes.is_complex(x.dtype) else x


conj = conjugate


def round(a, decimals=0, out=None):  # noqa: A001
    """Round to ``decimals`` places, halves to even (as NumPy)."""
    from jaxel.numpy.creation import asarray
    a = asarray(a)
    if not _dtypes.is_inexact(a.dtype):
        return a
    if decimals == 0:
        return _ew.round_p.bind(a, rounding_method=1)
    factor = 10.0 ** decimals
    return true_divide(_ew.round_p.bind(multiply(a, factor), rounding_method=1), factor)


around = round
