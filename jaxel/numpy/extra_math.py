"""Smaller elementwise and calculus functions: array-API aliases, frexp / ldexp / modf,
gcd / lcm, spacing, i0, bit counting, differences (diff, ediff1d, gradient, unwrap),
trapezoid, cross, kron, trace, convolve / correlate, interp, piecewise, vander.

All are compositions of ``jaxel.numpy`` and ``jaxel.lax`` functions, so they trace under ``jit``
and ``vmap`` and differentiate wherever JAX's do.
"""
from __future__ import annotations

import math
import operator

import numpy as np

import jaxel.numpy as jnp
from jaxel import dtypes as _dtypes
from jaxel import lax
from jaxel.numpy._util import (aval_of, canonicalize_axis, check_arraylike, promote_dtypes,
                               promote_dtypes_inexact)
from jaxel.numpy.ufuncs import (arccos, arccosh, arcsin, arcsinh, arctan, arctan2, arctanh,
                                invert, left_shift, power, right_shift)

# ---- array-API aliases -------------------------------------------------------------------------
acos, acosh, asin, asinh, atan, atan2, atanh = (arccos, arccosh, arcsin, arcsinh, arctan,
                                                arctan2, arctanh)
pow = power  # noqa: A001
bitwise_invert, bitwise_left_shift, bitwise_right_shift = invert, left_shift, right_shift


def _arr(name, *xs):
    check_arraylike(name, *xs)
    return tuple(jnp.asarray(x) for x in xs) if len(xs) > 1 else jnp.asarray(xs[0])


def _int_dtype_like(dt):
    return np.dtype({2: np.int16, 4: np.int32, 8: np.int64}[np.dtype(dt).itemsize])


def _real_inexact(name, x):
    check_arraylike(name, x)
    (x,) = promote_dtypes_inexact(jnp.asarray(x))
    if _dtypes.is_complex(x.dtype):
        raise TypeError(f"jaxel.numpy.{name} does not support complex input (got {x.dtype}).")
    return x


# ---- elementwise -------------------------------------------------------------------------------
def fabs(x, /):
    """Absolute value as a float (complex input is an error, as in NumPy's ufunc).

    Example::

        >>> jnp.fabs(jnp.array([-2, 3]))
        Array([2., 3.], dtype=float32)
    """
    return lax.abs(_real_inexact("fabs", x))


def angle(z, deg=False):
    """The argument (phase) of complex ``z``, in radians (degrees when ``deg``).

    Example::

        >>> jnp.angle(jnp.array([1j, -1.0]))
        Array([1.5707964, 3.1415927], dtype=float32)
    """
    z = _arr("angle", z)
    if _dtypes.is_complex(z.dtype):
        re, im = lax.real(z), lax.imag(z)
    else:
        (re,) = promote_dtypes_inexact(z)
        im = jnp.zeros_like(re)
    out = lax.atan2(im, re)
    return out * (180.0 / np.pi) if deg else out


def frexp(x, /):
    """Split ``x`` into mantissa in ``[0.5, 1)`` (by magnitude) and integer exponent:
    ``x == mantissa * 2**exponent``. Zeros, infinities and NaN give ``(x, 0)``.

    Computed from the bits of ``x`` (subnormals are scaled into the normal range first).

    Example::

        >>> jnp.frexp(jnp.array([3.0, 0.25]))
        (Array([0.75, 0.5 ], dtype=float32), Array([ 2, -1], dtype=int32))
    """
    x = _real_inexact("frexp", x)
    dt = x.dtype
    info = _dtypes.finfo(dt)
    nmant, bias = int(info.nmant), int(info.maxexp) - 1
    nexp = np.dtype(dt).itemsize * 8 - 1 - nmant
    it = _int_dtype_like(dt)
    sub = (lax.abs(x) < float(info.smallest_normal)) & (x != 0)
    xs = jnp.where(sub, x * float(2.0 ** (nmant + 1)), x)
    bits = lax.bitcast_convert_type(xs, it)
    expo = (bits >> nmant) & ((1 << nexp) - 1)
    e = (expo - (bias - 1)) - jnp.where(sub, nmant + 1, 0).astype(it)
    mbits = (bits & ~np.array(((1 << nexp) - 1) << nmant).astype(it)) | \
        np.array((bias - 1) << nmant).astype(it)
    mant = lax.bitcast_convert_type(mbits, dt)
    special = (x == 0) | ~lax.is_finite(x)
    return (jnp.where(special, x, mant),
            jnp.where(special, 0, e).astype(np.int32))


def _exp2_int(k, dt):
    """Exactly ``2.0**k`` for integer ``k`` in the normal range of ``dt``, from its bits."""
    info = _dtypes.finfo(dt)
    nmant, bias = int(info.nmant), int(info.maxexp) - 1
    it = _int_dtype_like(dt)
    return lax.bitcast_convert_type(((k.astype(it) + bias) << nmant), dt)


def ldexp(x1, x2, /):
    """``x1 * 2**x2`` for integer ``x2``, exact (no intermediate overflow or rounding).

    Example::

        >>> jnp.ldexp(jnp.array([1.5, 3.0]), jnp.array([3, -1]))
        Array([12. ,  1.5], dtype=float32)
    """
    check_arraylike("ldexp", x1, x2)
    x2 = jnp.asarray(x2)
    if not _dtypes.issubdtype(x2.dtype, np.integer):
        raise TypeError(f"jaxel.numpy.ldexp: x2 must be an integer array, got {x2.dtype}.")
    x1 = _real_inexact("ldexp", x1)
    dt = x1.dtype
    info = _dtypes.finfo(dt)
    lim = int(info.maxexp) - 1  # largest normal exponent
    span = 2 * lim + int(info.nmant) + 2
    k = jnp.clip(x2.astype(np.int32) if np.dtype(x2.dtype).itemsize <= 4 else x2,
                 -span, span)
    # Three factors, each a normal power of two, cover every representable result.
    k1 = jnp.clip(k, -lim + 1, lim)
    r = k - k1
    k2 = jnp.clip(r, -lim + 1, lim)
    k3 = jnp.clip(r - k2, -lim + 1, lim)
    x1, k1, k2, k3 = jnp.broadcast_arrays(x1, k1, k2, k3)
    return x1 * _exp2_int(k1, dt) * _exp2_int(k2, dt) * _exp2_int(k3, dt)


def modf(x, /, out=None):
    """Fractional and integral parts of ``x`` (both with the sign of ``x``), as in JAX
    (``modf(inf)`` gives ``(nan, inf)``).

    Example::

        >>> jnp.modf(jnp.array([2.5, -1.25]))
        (Array([ 0.5 , -0.25], dtype=float32), Array([ 2., -1.], dtype=float32))
    """
    if out is not None:
        raise NotImplementedError("The 'out' argument to jnp.modf is not supported.")
    x = _real_inexact("modf", x)
    whole = jnp.where(x < 0, lax.ceil(x), lax.floor(x))
    return x - whole, whole


def _gcd_loop(a, b):
    def cond(c):
        return jnp.any(c[1] != 0)

    def body(c):
        x, y = c
        nz = y != 0
        safe = jnp.where(nz, y, 1)
        return jnp.where(nz, y, x), jnp.where(nz, lax.rem(x, safe), 0)
    return lax.while_loop(cond, body, (a, b))[0]


def _int_pair(name, x1, x2):
    check_arraylike(name, x1, x2)
    x1, x2 = promote_dtypes(x1, x2)
    x1, x2 = jnp.broadcast_arrays(x1, x2)
    if not _dtypes.issubdtype(x1.dtype, np.integer):
        raise TypeError(f"jaxel.numpy.{name} requires integer arguments, got {x1.dtype}.")
    return x1, x2


def gcd(x1, x2, /):
    """Greatest common divisor of ``|x1|`` and ``|x2|`` (Euclid's algorithm in a
    ``while_loop`` over the whole array).

    Example::

        >>> jnp.gcd(jnp.array([12, 7]), 18)
        Array([6, 1], dtype=int32)
    """
    x1, x2 = _int_pair("gcd", x1, x2)
    return _gcd_loop(jnp.abs(x1), jnp.abs(x2))


def lcm(x1, x2, /):
    """Least common multiple of ``|x1|`` and ``|x2|`` (0 if either is 0).

    Example::

        >>> jnp.lcm(jnp.array([4, 6]), 10)
        Array([20, 30], dtype=int32)
    """
    x1, x2 = _int_pair("lcm", x1, x2)
    a, b = jnp.abs(x1), jnp.abs(x2)
    d = _gcd_loop(a, b)
    return jnp.where(d == 0, 0, a * lax.div(b, jnp.where(d == 0, 1, d)))


def spacing(x, /):
    """Distance from ``x`` to the next representable value away from zero.

    Example::

        >>> jnp.spacing(jnp.array([1.0, -1.0]))
        Array([ 1.1920929e-07, -1.1920929e-07], dtype=float32)
    """
    x = _real_inexact("spacing", x)
    toward = jnp.where(x < 0, -np.inf, np.inf).astype(x.dtype)
    return lax.nextafter(x, toward) - x


def _i0_small(x):
    # sum_k (x^2/4)^k / (k!)^2, nested (Horner); all terms positive: no cancellation.
    t = x * x * 0.25
    acc = jnp.ones_like(x)
    for k in range(60, 0, -1):
        acc = 1 + acc * t / float(k * k)
    return acc


def _i0_large(x):
    # exp(x) / sqrt(2 pi x) * sum_k ((2k-1)!!)^2 / (k! 8^k x^k)  (asymptotic, x > 30)
    acc = jnp.ones_like(x)
    for k in range(20, 0, -1):
        acc = 1 + acc * (float((2 * k - 1) ** 2) / float(8 * k)) / x
    return lax.exp(x - 0.5 * lax.log(2 * np.pi * x)) * acc


def i0(x):
    """Modified Bessel function of the first kind, order 0 (real input).

    A power series for ``|x| <= 30`` and the asymptotic expansion beyond; differentiable
    (the derivative is ``i1``).

    Example::

        >>> jnp.i0(jnp.array([0.0, 1.0]))
        Array([1.       , 1.2660658], dtype=float32)
    """
    x = _real_inexact("i0", x)
    ax = lax.abs(x)
    small = ax <= 30
    # Each branch sees only inputs in its own range, so no inf/NaN leaks into gradients.
    return jnp.where(small, _i0_small(jnp.where(small, ax, 0)),
                     _i0_large(jnp.where(small, 31, ax)))


def bitwise_count(x, /):
    """Number of 1 bits in ``|x|``, as uint8.

    Example::

        >>> jnp.bitwise_count(jnp.array([7, -3]))
        Array([3, 2], dtype=uint8)
    """
    x = _arr("bitwise_count", x)
    if not (_dtypes.issubdtype(x.dtype, np.integer) or x.dtype == np.bool_):
        raise TypeError(f"jaxel.numpy.bitwise_count requires integer input, got {x.dtype}.")
    if x.dtype == np.bool_:
        return x.astype(np.uint8)
    return lax.population_count(jnp.abs(x)).astype(np.uint8)


def iscomplex(x):
    """True where ``x`` has a non-zero imaginary part.

    Example::

        >>> jnp.iscomplex(jnp.array([1 + 1j, 2 + 0j]))
        Array([ True, False], dtype=bool)
    """
    x = _arr("iscomplex", x)
    return jnp.imag(x) != 0


def isreal(x):
    """True where ``x`` has a zero imaginary part.

    Example::

        >>> jnp.isreal(jnp.array([1 + 1j, 2 + 0j]))
        Array([False,  True], dtype=bool)
    """
    x = _arr("isreal", x)
    return jnp.imag(x) == 0


def _isinf_signed(name, x, sign):
    x = _arr(name, x)
    if _dtypes.is_complex(x.dtype):
        raise ValueError(f"jaxel.numpy.{name} is not well defined for complex input.")
    if not _dtypes.is_inexact(x.dtype):
        return jnp.zeros(x.shape, np.bool_)
    return x == sign * np.inf


def isposinf(x, /, out=None):
    """True where ``x`` is +inf.

    Example::

        >>> jnp.isposinf(jnp.array([1.0, jnp.inf, -jnp.inf]))
        Array([False,  True, False], dtype=bool)
    """
    return _isinf_signed("isposinf", x, 1)


def isneginf(x, /, out=None):
    """True where ``x`` is -inf.

    Example::

        >>> jnp.isneginf(jnp.array([1.0, jnp.inf, -jnp.inf]))
        Array([False, False,  True], dtype=bool)
    """
    return _isinf_signed("isneginf", x, -1)


def sort_complex(a):
    """Sort ``a`` (real part first, then imaginary) and return it as complex.

    Example::

        >>> jnp.sort_complex(jnp.array([3, 1, 2]))
        Array([1.+0.j, 2.+0.j, 3.+0.j], dtype=complex64)
    """
    a = _arr("sort_complex", a)
    if _dtypes.is_complex(a.dtype):
        re, im = lax.real(a), lax.imag(a)
        re, im = lax.sort((re, im), 0 if a.ndim == 0 else a.ndim - 1, num_keys=2) \
            if a.ndim else (re, im)
        return lax.complex(re, im)
    s = jnp.sort(a)
    (f,) = promote_dtypes_inexact(s)
    cdt = np.complex128 if np.dtype(f.dtype) == np.float64 else np.complex64
    return s.astype(_dtypes.canonicalize_dtype(cdt))


# ---- differences and integrals -----------------------------------------------------------------
def diff(a, n=1, axis=-1, prepend=None, append=None):
    """The ``n``-th discrete difference along ``axis`` (``!=`` for booleans).

    Example::

        >>> jnp.diff(jnp.array([1, 4, 9, 16]), n=2)
        Array([2, 2], dtype=int32)
    """
    a = _arr("diff", a)
    n = operator.index(n)
    if n < 0:
        raise ValueError(f"jaxel.numpy.diff: order must be non-negative, got n={n}.")
    if n == 0:
        return a
    if a.ndim == 0:
        raise ValueError("jaxel.numpy.diff requires input that is at least one dimensional; "
                         "got a 0-d array.")
    axis = canonicalize_axis(axis, a.ndim)
    parts = []
    for name, v in (("prepend", prepend), (None, a), ("append", append)):
        if v is None:
            continue
        if name is None:
            parts.append(v)
            continue
        check_arraylike("diff", v)
        v = jnp.asarray(v)
        if v.ndim == 0:
            shape = list(a.shape)
            shape[axis] = 1
            v = jnp.broadcast_to(v, tuple(shape))
        parts.append(v)
    if len(parts) > 1:
        a = jnp.concatenate(parts, axis)
    for _ in range(n):
        m = a.shape[axis]
        hi = lax.slice_in_dim(a, 1, m, axis=axis)
        lo = lax.slice_in_dim(a, 0, max(m - 1, 0), axis=axis)
        a = jnp.not_equal(hi, lo) if a.dtype == np.bool_ else jnp.subtract(hi, lo)
    return a


def ediff1d(ary, to_end=None, to_begin=None):
    """Differences of consecutive elements of the flattened ``ary``, with optional values
    before and after.

    Example::

        >>> jnp.ediff1d(jnp.array([1, 2, 4]), to_begin=jnp.array([0]))
        Array([0, 1, 2], dtype=int32)
    """
    a = jnp.ravel(_arr("ediff1d", ary))
    out = a[1:] - a[:-1]
    parts = []
    if to_begin is not None:
        check_arraylike("ediff1d", to_begin)
        parts.append(jnp.ravel(jnp.asarray(to_begin)).astype(out.dtype))
    parts.append(out)
    if to_end is not None:
        check_arraylike("ediff1d", to_end)
        parts.append(jnp.ravel(jnp.asarray(to_end)).astype(out.dtype))
    return jnp.concatenate(parts) if len(parts) > 1 else out


def gradient(f, *varargs, axis=None, edge_order=None):
    """Central differences in the interior, one-sided at the edges, along each axis.

    ``varargs``: none (unit spacing), one scalar for all axes, or one scalar or coordinate
    array per axis. ``edge_order`` is unsupported (as in JAX).

    Example::

        >>> jnp.gradient(jnp.array([1.0, 4.0, 9.0, 16.0]))
        Array([3., 4., 6., 7.], dtype=float32)
    """
    if edge_order is not None:
        raise NotImplementedError("The 'edge_order' argument to jnp.gradient is not supported.")
    check_arraylike("gradient", f)
    (f,) = promote_dtypes_inexact(jnp.asarray(f))
    if axis is None:
        axes = tuple(range(f.ndim))
    elif isinstance(axis, (tuple, list)):
        axes = tuple(canonicalize_axis(a, f.ndim) for a in axis)
    else:
        axes = (canonicalize_axis(axis, f.ndim),)
    if not axes:
        return []
    if len(varargs) == 0:
        spacing_ = [1.0] * len(axes)
    elif len(varargs) == 1 and np.ndim(varargs[0]) == 0:
        spacing_ = list(varargs) * len(axes)
    elif len(varargs) == len(axes):
        spacing_ = list(varargs)
    else:
        raise TypeError(f"jaxel.numpy.gradient: expected 0, 1 or {len(axes)} spacing "
                        f"arguments, got {len(varargs)}.")
    out = []
    for ax, h in zip(axes, spacing_):
        n = f.shape[ax]
        if n < 2:
            raise ValueError("Shape of array too small to calculate a numerical gradient, at "
                             "least 2 elements are required.")

        def sl(lo, hi, arr=f, ax=ax):
            return lax.slice_in_dim(arr, lo, hi, axis=ax)

        if np.ndim(h) == 0:
            inner = (sl(2, n) - sl(0, n - 2)) / (2.0 * h) if n > 2 else None
            first = (sl(1, 2) - sl(0, 1)) / h
            last = (sl(n - 1, n) - sl(n - 2, n - 1)) / h
        else:
            check_arraylike("gradient", h)
            h = jnp.asarray(h)
            if h.ndim != 1 or h.shape[0] != n:
                raise ValueError("jaxel.numpy.gradient: a coordinate array must be 1-D with the "
                                 f"length of its axis ({n}), got shape {h.shape}.")
            d = jnp.diff(h)
            shape = [1] * f.ndim
            shape[ax] = n - 1
            d = d.reshape(shape)
            dx1 = lax.slice_in_dim(d, 0, n - 2, axis=ax)
            dx2 = lax.slice_in_dim(d, 1, n - 1, axis=ax)
            inner = None
            if n > 2:
                a_ = -dx2 / (dx1 * (dx1 + dx2))
                b_ = (dx2 - dx1) / (dx1 * dx2)
                c_ = dx1 / (dx2 * (dx1 + dx2))
                inner = a_ * sl(0, n - 2) + b_ * sl(1, n - 1) + c_ * sl(2, n)
            first = (sl(1, 2) - sl(0, 1)) / lax.slice_in_dim(d, 0, 1, axis=ax)
            last = (sl(n - 1, n) - sl(n - 2, n - 1)) / lax.slice_in_dim(d, n - 2, n - 1, axis=ax)
        parts = [first] + ([inner] if inner is not None else []) + [last]
        out.append(jnp.concatenate(parts, ax))
    return out[0] if len(axes) == 1 else out


def unwrap(p, discont=None, axis=-1, period=2 * np.pi):
    """Unwrap phase jumps larger than ``discont`` (default ``period / 2``) along ``axis``.

    Example::

        >>> jnp.unwrap(jnp.array([0.0, 6.0, 12.0]))
        Array([ 0.      , -0.283185, -0.56637 ], dtype=float32)
    """
    check_arraylike("unwrap", p)
    (p,) = promote_dtypes_inexact(jnp.asarray(p))
    if _dtypes.is_complex(p.dtype):
        raise ValueError("jaxel.numpy.unwrap does not support complex input.")
    axis = canonicalize_axis(axis, p.ndim)
    if discont is None:
        discont = period / 2
    interval = period / 2
    dd = jnp.diff(p, axis=axis)
    ddmod = jnp.mod(dd + interval, period) - interval
    ddmod = jnp.where((ddmod == -interval) & (dd > 0), interval, ddmod)
    correction = jnp.where(jnp.abs(dd) < discont, 0, ddmod - dd)
    first = lax.slice_in_dim(p, 0, 1, axis=axis)
    corr = jnp.concatenate([jnp.zeros_like(first), jnp.cumsum(correction, axis=axis)], axis)
    return p + corr.astype(p.dtype)


def trapezoid(y, x=None, dx=1.0, axis=-1):
    """Integral of ``y`` along ``axis`` by the trapezoidal rule (sample points ``x`` or
    spacing ``dx``).

    Example::

        >>> jnp.trapezoid(jnp.array([1.0, 2.0, 3.0]))
        Array(4., dtype=float32)
    """
    if x is None:
        check_arraylike("trapezoid", y)
        (y,) = promote_dtypes_inexact(jnp.asarray(y))
        d = dx
    else:
        check_arraylike("trapezoid", y, x)
        y, x = promote_dtypes_inexact(jnp.asarray(y), jnp.asarray(x))
        if x.ndim == 1:
            d = jnp.diff(x)
        else:
            d = jnp.diff(x, axis=axis)
    y = jnp.moveaxis(y, axis, -1)
    if x is not None and x.ndim != 1:
        d = jnp.moveaxis(d, axis, -1)
    return 0.5 * jnp.sum(d * (y[..., 1:] + y[..., :-1]), axis=-1)


# ---- products ----------------------------------------------------------------------------------
def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Cross product of 3-vectors along the given axes (broadcast otherwise).

    As in JAX 0.12.1 and NumPy 2.5, both vector dimensions must be 3 (2-vectors were removed).

    Example::

        >>> jnp.cross(jnp.array([1.0, 0.0, 0.0]), jnp.array([0.0, 1.0, 0.0]))
        Array([0., 0., 1.], dtype=float32)
    """
    check_arraylike("cross", a, b)
    a, b = promote_dtypes(jnp.asarray(a), jnp.asarray(b))
    if axis is not None:
        axisa = axisb = axisc = axis
    a = jnp.moveaxis(a, axisa, -1)
    b = jnp.moveaxis(b, axisb, -1)
    if a.shape[-1] != 3 or b.shape[-1] != 3:
        raise ValueError("Dimension must be 3 for cross product (2-vectors are no longer "
                         f"supported, as in NumPy 2.5); got {a.shape[-1]} and {b.shape[-1]}.")
    a0, a1, a2 = a[..., 0], a[..., 1], a[..., 2]
    b0, b1, b2 = b[..., 0], b[..., 1], b[..., 2]
    c = jnp.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=-1)
    return jnp.moveaxis(c, -1, axisc)


def kron(a, b):
    """Kronecker product: blocks ``a[i, j] * b`` laid out in ``a``'s grid.

    Example::

        >>> jnp.kron(jnp.array([1, 2]), jnp.array([1, 10]))
        Array([ 1, 10,  2, 20], dtype=int32)
    """
    check_arraylike("kron", a, b)
    a, b = promote_dtypes(jnp.asarray(a), jnp.asarray(b))
    nd = max(a.ndim, b.ndim)
    a = a.reshape((1,) * (nd - a.ndim) + a.shape)
    b = b.reshape((1,) * (nd - b.ndim) + b.shape)
    ae = a.reshape(tuple(d for s in a.shape for d in (s, 1)))
    be = b.reshape(tuple(d for s in b.shape for d in (1, s)))
    return (ae * be).reshape(tuple(x * y for x, y in zip(a.shape, b.shape)))


def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    """Sum along a diagonal (``offset`` from the main one) of the ``(axis1, axis2)`` planes.

    Example::

        >>> jnp.trace(jnp.arange(9).reshape(3, 3))
        Array(12, dtype=int32)
    """
    if out is not None:
        raise NotImplementedError("The 'out' argument to jnp.trace is not supported.")
    a = _arr("trace", a)
    if a.ndim < 2:
        raise ValueError(f"jaxel.numpy.trace requires an array of at least 2 dimensions, got "
                         f"{a.ndim}.")
    return jnp.sum(jnp.diagonal(a, offset, axis1, axis2), axis=-1, dtype=dtype)


def _conv1d(name, a, v, mode, conj):
    check_arraylike(name, a, v)
    a, v = promote_dtypes_inexact(jnp.asarray(a), jnp.asarray(v))
    if a.ndim != 1 or v.ndim != 1:
        raise ValueError(f"jaxel.numpy.{name}: only 1-D inputs are supported, got shapes "
                         f"{a.shape} and {v.shape}.")
    if a.shape[0] == 0 or v.shape[0] == 0:
        raise ValueError(f"jaxel.numpy.{name}: inputs cannot be empty, got shapes {a.shape} and "
                         f"{v.shape}.")
    if conj and _dtypes.is_complex(v.dtype):
        v = jnp.conj(v)
    n, m = a.shape[0], v.shape[0]
    if name == "convolve":
        v = v[::-1]
    swapped = False
    if m > n:  # correlate(a, v) with a shorter than v is a reversed correlate(v, a)
        a, v, n, m, swapped = v, a, m, n, True
    if mode == "valid":
        pads = (0, 0)
    elif mode == "same":
        pads = (m // 2, m - 1 - m // 2)
    elif mode == "full":
        pads = (m - 1, m - 1)
    else:
        raise ValueError(f"jaxel.numpy.{name}: mode must be 'full', 'same' or 'valid', got "
                         f"{mode!r}.")
    out = _correlate_valid(jnp.pad(a, [pads]), v)
    return out[::-1] if swapped else out


def _correlate_valid(a, v):
    """out[k] = sum_j a[k + j] * v[j] for k in [0, len(a) - len(v)], as a gathered matmul."""
    n, m = a.shape[0], v.shape[0]
    idx = jnp.arange(n - m + 1)[:, None] + jnp.arange(m)[None, :]
    return jnp.matmul(a[idx], v)


def convolve(a, v, mode="full", *, precision=None, preferred_element_type=None):
    """Discrete linear convolution of 1-D ``a`` and ``v`` (modes full / same / valid).

    Example::

        >>> jnp.convolve(jnp.array([1.0, 2.0, 3.0]), jnp.array([0.0, 1.0, 0.5]))
        Array([0. , 1. , 2.5, 4. , 1.5], dtype=float32)
    """
    out = _conv1d("convolve", a, v, mode, conj=False)
    return out if preferred_element_type is None else out.astype(preferred_element_type)


def correlate(a, v, mode="valid", *, precision=None, preferred_element_type=None):
    """Cross-correlation of 1-D ``a`` and ``v`` (``v`` conjugated), modes full/same/valid.

    Example::

        >>> jnp.correlate(jnp.array([1.0, 2.0, 3.0]), jnp.array([0.0, 1.0, 0.5]))
        Array([3.5], dtype=float32)
    """
    out = _conv1d("correlate", a, v, mode, conj=True)
    return out if preferred_element_type is None else out.astype(preferred_element_type)


# ---- interpolation, piecewise, vander ----------------------------------------------------------
def interp(x, xp, fp, left=None, right=None, period=None):
    """Piecewise-linear interpolation of points ``(xp, fp)`` (``xp`` increasing) at ``x``.

    Outside ``xp``: ``left`` / ``right`` (default ``fp[0]`` / ``fp[-1]``); with ``period``,
    ``x`` and ``xp`` are taken modulo it. Differentiable in ``x``, ``xp`` and ``fp``.

    Example::

        >>> jnp.interp(jnp.array([0.5, 2.5]), jnp.array([0.0, 1.0, 2.0]),
        ...            jnp.array([0.0, 10.0, 20.0]))
        Array([ 5., 20.], dtype=float32)
    """
    check_arraylike("interp", x, xp, fp)
    x, xp = jnp.asarray(x), jnp.asarray(xp)
    fp = jnp.asarray(fp)
    if xp.ndim != 1 or fp.ndim != 1:
        raise ValueError("jaxel.numpy.interp: xp and fp must be one-dimensional.")
    if xp.shape[0] != fp.shape[0]:
        raise ValueError(f"jaxel.numpy.interp: xp and fp must have the same length, got "
                         f"{xp.shape[0]} and {fp.shape[0]}.")
    if xp.shape[0] == 0:
        raise ValueError("jaxel.numpy.interp: xp and fp must not be empty.")
    x, xp = promote_dtypes_inexact(x, xp)
    (fp,) = promote_dtypes_inexact(fp)
    if _dtypes.is_complex(x.dtype):
        raise ValueError("jaxel.numpy.interp: x and xp must be real.")
    if period is not None:
        if np.ndim(period) != 0:
            raise ValueError(f"jaxel.numpy.interp: period must be a scalar; got {period}.")
        period = jnp.abs(period)
        x = x % period
        xp = xp % period
        order = jnp.argsort(xp)
        xp, fp = xp[order], fp[order]
        xp = jnp.concatenate([xp[-1:] - period, xp, xp[:1] + period])
        fp = jnp.concatenate([fp[-1:], fp, fp[:1]])
    i = jnp.clip(jnp.searchsorted(xp, x, side="right"), 1, xp.shape[0] - 1)
    df = fp[i] - fp[i - 1]
    dx = xp[i] - xp[i - 1]
    delta = x - xp[i - 1]
    eps = np.finfo(np.dtype(dx.dtype)).eps
    dx0 = lax.abs(dx) <= eps  # avoid 0/0 for repeated xp
    f = jnp.where(dx0, fp[i], fp[i - 1] + (delta / jnp.where(dx0, 1, dx)) * df)
    if period is None:
        lv = fp[0] if left is None else left
        rv = fp[-1] if right is None else right
        f = jnp.where(x < xp[0], lv, f)
        f = jnp.where(x > xp[-1], rv, f)
    return f.astype(fp.dtype) if f.dtype != fp.dtype else f


def piecewise(x, condlist, funclist, *args, **kw):
    """Evaluate a piecewise function: ``funclist[i]`` (a function or a constant) where
    ``condlist[i]`` holds (the last one wins); one extra function is the default.

    Every function is applied to the whole of ``x`` and the results are selected.

    Example::

        >>> x = jnp.array([-2.0, 0.5, 3.0])
        >>> jnp.piecewise(x, [x < 0, x > 1], [lambda v: -v, lambda v: v * 10, 0.0])
        Array([ 2.,  0., 30.], dtype=float32)
    """
    x = _arr("piecewise", x)
    if isinstance(condlist, (list, tuple)):
        conds = [jnp.asarray(c) for c in condlist]
    else:
        condlist = jnp.asarray(condlist)
        conds = [condlist] if condlist.ndim == x.ndim and condlist.dtype == np.bool_ \
            and x.ndim != 0 and condlist.shape == x.shape else list(condlist)
        if condlist.ndim == 0:
            conds = [condlist]
    funclist = list(funclist)
    nc, nf = len(conds), len(funclist)
    if nf == nc + 1:
        default = funclist[-1]
        funclist = funclist[:-1]
    elif nf == nc:
        default = 0
    else:
        raise ValueError(f"jaxel.numpy.piecewise: with {nc} condition(s) there must be {nc} or "
                         f"{nc + 1} functions, got {nf}.")

    def value(fn):
        v = fn(x, *args, **kw) if callable(fn) else fn
        return jnp.broadcast_to(jnp.asarray(v, dtype=x.dtype), x.shape)

    out = value(default)
    for c, fn in zip(conds, funclist):
        out = jnp.where(c.astype(np.bool_), value(fn), out)
    return out


def vander(x, N=None, increasing=False):
    """Vandermonde matrix: columns are powers of the 1-D ``x`` (decreasing by default).

    Example::

        >>> jnp.vander(jnp.array([1, 2, 3]), 3)
        Array([[1, 1, 1],
               [4, 2, 1],
               [9, 3, 1]], dtype=int32)
    """
    x = _arr("vander", x)
    if x.ndim != 1:
        raise ValueError(f"jaxel.numpy.vander: x must be a one-dimensional array, got shape "
                         f"{x.shape}.")
    N = x.shape[0] if N is None else operator.index(N)
    if N < 0:
        raise ValueError(f"jaxel.numpy.vander: N must be nonnegative, got {N}.")
    cols = [jnp.ones_like(x)] if N else []
    for _ in range(1, N):
        cols.append(cols[-1] * x)
    out = jnp.stack(cols, axis=-1) if N else jnp.zeros((x.shape[0], 0), x.dtype)
    return out if increasing else out[:, ::-1]


__all__ = ["acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "pow",
           "bitwise_invert", "bitwise_left_shift", "bitwise_right_shift", "bitwise_count",
           "fabs", "angle", "frexp", "ldexp", "modf", "gcd", "lcm", "spacing", "i0",
           "iscomplex", "isreal", "isposinf", "isneginf", "sort_complex", "diff", "ediff1d",
           "gradient", "unwrap", "trapezoid", "cross", "kron", "trace", "convolve", "correlate",
           "interp", "piecewise", "vander"]
