"""Polynomials as coefficient arrays, highest power first (NumPy's ``poly*`` API): poly,
polyval, polyadd, polysub, polymul, polydiv, polyder, polyint, polyfit, roots.

Lengths are static; coefficients may be traced and differentiated. ``roots``, ``poly`` of a
matrix and ``polyfit`` use ``jaxel.numpy.linalg`` (eigenvalues, least squares).
"""
from __future__ import annotations

import operator

import numpy as np

import jaxel.numpy as jnp
from jaxel import dtypes as _dtypes
from jaxel import lax
from jaxel.errors import ConcretizationTypeError
from jaxel.numpy._util import check_arraylike, promote_dtypes, promote_dtypes_inexact
from jaxel.tracing.core import Tracer


def _poly1d(name, p, inexact=False):
    check_arraylike(name, p)
    p = jnp.asarray(p)
    if inexact:
        (p,) = promote_dtypes_inexact(p)
    if p.ndim != 1:
        raise ValueError(f"jaxel.numpy.{name}: input must be a 1-D coefficient array, got "
                         f"shape {p.shape}.")
    return p


def _trim_leading_zeros(name, p):
    if isinstance(p, Tracer):
        raise ConcretizationTypeError(
            f"jaxel.numpy.{name}: trim_leading_zeros=True needs concrete coefficients (the "
            "result length depends on them).")
    nz = np.flatnonzero(np.asarray(p) != 0)
    return p[int(nz[0]):] if nz.size else p[-1:]


def polyval(p, x, *, unroll=16):
    """Evaluate the polynomial ``p`` at ``x`` (Horner's rule).

    Example::

        >>> jnp.polyval(jnp.array([1, 2, 3]), jnp.array([0, 1, 2]))
        Array([ 3,  6, 11], dtype=int32)
    """
    check_arraylike("polyval", p, x)
    p, x = promote_dtypes(jnp.asarray(p), jnp.asarray(x))
    if p.ndim != 1:
        raise ValueError(f"jaxel.numpy.polyval: p must be 1-D, got shape {p.shape}.")
    shape = jnp.broadcast_shapes(p.shape[1:], x.shape)
    y = jnp.zeros(shape, x.dtype)
    for i in range(p.shape[0]):
        y = y * x + p[i]
    return y


def polyadd(a1, a2):
    """Sum of two polynomials.

    Example::

        >>> jnp.polyadd(jnp.array([1, 2]), jnp.array([1, 1, 1]))
        Array([1, 2, 3], dtype=int32)
    """
    check_arraylike("polyadd", a1, a2)
    a1, a2 = promote_dtypes(_poly1d("polyadd", a1), _poly1d("polyadd", a2))
    n = max(a1.shape[0], a2.shape[0])
    return jnp.pad(a1, (n - a1.shape[0], 0)) + jnp.pad(a2, (n - a2.shape[0], 0))


def polysub(a1, a2):
    """Difference of two polynomials.

    Example::

        >>> jnp.polysub(jnp.array([1, 2]), jnp.array([1, 1, 1]))
        Array([-1,  0,  1], dtype=int32)
    """
    check_arraylike("polysub", a1, a2)
    return polyadd(a1, -jnp.asarray(a2))


def polymul(a1, a2, *, trim_leading_zeros=False):
    """Product of two polynomials (a convolution of the coefficients).

    Example::

        >>> jnp.polymul(jnp.array([1, 1]), jnp.array([1, -1]))
        Array([ 1.,  0., -1.], dtype=float32)
    """
    a1, a2 = _poly1d("polymul", a1, True), _poly1d("polymul", a2, True)
    if trim_leading_zeros:
        a1, a2 = _trim_leading_zeros("polymul", a1), _trim_leading_zeros("polymul", a2)
    if a1.shape[0] == 0:
        a1 = jnp.zeros((1,), a1.dtype)
    if a2.shape[0] == 0:
        a2 = jnp.zeros((1,), a2.dtype)
    return jnp.convolve(a1, a2, mode="full")


def polydiv(u, v, *, trim_leading_zeros=False):
    """Quotient and remainder of ``u / v`` (the remainder keeps ``u``'s length unless
    ``trim_leading_zeros``).

    Example::

        >>> jnp.polydiv(jnp.array([1.0, 3.0, 2.0]), jnp.array([1.0, 1.0]))
        (Array([1., 2.], dtype=float32), Array([0., 0., 0.], dtype=float32))
    """
    check_arraylike("polydiv", u, v)
    u, v = promote_dtypes_inexact(_poly1d("polydiv", u), _poly1d("polydiv", v))
    m, n = u.shape[0] - 1, v.shape[0] - 1
    scale = 1.0 / v[0]
    q = jnp.zeros((max(m - n + 1, 1),), u.dtype)
    r = u
    for k in range(0, m - n + 1):
        d = scale * r[k]
        q = q.at[k].set(d)
        r = r.at[k:k + n + 1].add(-d * v)
    if trim_leading_zeros:
        r = _trim_leading_zeros("polydiv", r)
    return q, r


def polyder(p, m=1):
    """The ``m``-th derivative of the polynomial ``p``.

    Example::

        >>> jnp.polyder(jnp.array([3, 2, 1]))
        Array([6., 2.], dtype=float32)
    """
    p = _poly1d("polyder", p, True)
    m = operator.index(m)
    if m < 0:
        raise ValueError("Order of derivative must be positive")
    if m == 0:
        return p
    n = p.shape[0]
    if m >= n:
        return jnp.zeros((0,), p.dtype)
    # coefficient of x^(n-1-i) times (n-1-i)(n-2-i)...(n-m-i)
    powers = np.arange(n - 1, m - 1, -1)
    coef = np.ones(n - m)
    for j in range(m):
        coef = coef * (powers - j)
    return p[:n - m] * jnp.asarray(coef, dtype=p.dtype)


def polyint(p, m=1, k=None):
    """The ``m``-th antiderivative of ``p``, with integration constants ``k`` (scalar or one
    per integration, highest order first).

    Example::

        >>> jnp.polyint(jnp.array([3, 2, 1]))
        Array([1., 1., 1., 0.], dtype=float32)
    """
    p = _poly1d("polyint", p, True)
    m = operator.index(m)
    if m < 0:
        raise ValueError("Order of integral must be positive (see polyder)")
    if m == 0:
        return p
    if k is None:
        k = jnp.zeros((m,), p.dtype)
    else:
        check_arraylike("polyint", k)
        k = jnp.atleast_1d(jnp.asarray(k, dtype=p.dtype))
        if k.shape[0] == 1:
            k = jnp.broadcast_to(k, (m,))
        elif k.shape[0] != m:
            raise ValueError("k must be a scalar or a rank-1 array of length 1 or m.")
    for i in range(m):
        n = p.shape[0]
        div = jnp.asarray(np.arange(n, 0, -1), dtype=p.dtype)
        p = jnp.concatenate([p / div, k[i:i + 1]])
    return p


def polyfit(x, y, deg, rcond=None, full=False, w=None, cov=False):
    """Least-squares polynomial fit of degree ``deg`` to points ``(x, y)`` (``y`` may hold
    several data sets as columns).

    Returns the coefficients (highest power first); with ``full``, also residuals, rank,
    singular values and rcond; with ``cov``, also the covariance of the coefficients.

    Example::

        >>> jnp.round(jnp.polyfit(jnp.array([0.0, 1.0, 2.0]), jnp.array([1.0, 3.0, 5.0]), 1), 4)
        Array([2., 1.], dtype=float32)
    """
    check_arraylike("polyfit", x, y)
    x, y = promote_dtypes_inexact(jnp.asarray(x), jnp.asarray(y))
    deg = operator.index(deg)
    if deg < 0:
        raise ValueError("expected deg >= 0")
    if x.ndim != 1:
        raise TypeError("expected 1D vector for x")
    if x.shape[0] == 0:
        raise TypeError("expected non-empty vector for x")
    if y.ndim < 1 or y.ndim > 2:
        raise TypeError("expected 1D or 2D array for y")
    if x.shape[0] != y.shape[0]:
        raise TypeError("expected x and y to have same length")
    order = deg + 1
    if rcond is None:
        rcond = x.shape[0] * float(np.finfo(np.dtype(x.dtype)).eps)
    lhs = jnp.vander(x, order)
    rhs = y
    if w is not None:
        check_arraylike("polyfit", w)
        (w,) = promote_dtypes_inexact(jnp.asarray(w))
        if w.ndim != 1 or w.shape[0] != y.shape[0]:
            raise TypeError("expected a 1-d weight vector of the same length as y")
        lhs = lhs * w[:, None]
        rhs = rhs * (w if rhs.ndim == 1 else w[:, None])
    scale = jnp.sqrt(jnp.sum(lhs * lhs, axis=0))
    lhs = lhs / scale
    c, resids, rank, s = jnp.linalg.lstsq(lhs, rhs, rcond)
    c = (c.T / scale).T
    if full:
        return c, resids, rank, s, jnp.asarray(rcond)
    if cov:
        Vbase = jnp.linalg.inv(lhs.T @ lhs)
        Vbase = Vbase / jnp.outer(scale, scale)
        n = x.shape[0]
        if cov == "unscaled":
            fac = 1.0
        else:
            if n <= order:
                raise ValueError("the number of data points must exceed order to scale the "
                                 "covariance matrix")
            fac = resids / (n - order)
        if y.ndim == 1:
            return c, Vbase * fac
        return c, Vbase[:, :, None] * fac
    return c


def roots(p, *, strip_zeros=True):
    """The roots of the polynomial ``p`` (eigenvalues of its companion matrix), complex.

    Leading zeros are stripped (``p`` must then be concrete); trailing zeros give zero roots.
    With ``strip_zeros=False`` leading zeros yield NaN roots instead and tracing works.

    Example::

        >>> jnp.sort_complex(jnp.roots(jnp.array([1.0, -3.0, 2.0])))
        Array([1.+0.j, 2.+0.j], dtype=complex64)
    """
    p = _poly1d("roots", p, True)
    if strip_zeros:
        if isinstance(p, Tracer):
            raise ConcretizationTypeError(
                "jaxel.numpy.roots: strip_zeros=True needs concrete coefficients (the number "
                "of roots depends on them); under jit pass strip_zeros=False.")
        nz = np.flatnonzero(np.asarray(p) != 0)
        if nz.size == 0:
            return jnp.zeros((0,), _complex_of(p.dtype))
        lead, trail = int(nz[0]), p.shape[0] - 1 - int(nz[-1])
        core = p[lead:p.shape[0] - trail]
        r = _companion_roots(core)
        if trail:
            r = jnp.concatenate([r, jnp.zeros((trail,), r.dtype)])
        return r
    return _companion_roots(p)


def _complex_of(dt):
    return np.complex128 if np.dtype(dt) in (np.float64, np.complex128) else np.complex64


def _companion_roots(p):
    n = p.shape[0] - 1
    cdt = _complex_of(p.dtype)
    if n < 1:
        return jnp.zeros((0,), cdt)
    A = jnp.diag(jnp.ones((n - 1,), p.dtype), -1)
    A = A.at[0, :].set(-p[1:] / p[0])
    return jnp.linalg.eigvals(A).astype(cdt)


def poly(seq_of_zeros):
    """Coefficients of the monic polynomial with the given roots (or the characteristic
    polynomial of a square matrix).

    Example::

        >>> jnp.poly(jnp.array([1.0, 2.0]))
        Array([ 1., -3.,  2.], dtype=float32)
    """
    check_arraylike("poly", seq_of_zeros)
    z = jnp.asarray(seq_of_zeros)
    if z.ndim == 2 and z.shape[0] == z.shape[1] and z.shape[0] != 0:
        z = jnp.linalg.eigvals(z)
    elif z.ndim != 1 and z.ndim != 0:
        raise ValueError("input must be 1d or non-empty square 2d array.")
    z = jnp.atleast_1d(z)
    (z,) = promote_dtypes_inexact(z)
    a = jnp.ones((1,), z.dtype)
    for i in range(z.shape[0]):
        a = jnp.convolve(a, jnp.stack([jnp.ones((), z.dtype), -z[i]]), mode="full")
    if _dtypes.is_complex(a.dtype):
        # real coefficients when the roots come in conjugate pairs
        zs = jnp.sort_complex(z)
        zc = jnp.sort_complex(jnp.conj(z))
        is_real = jnp.all(zs == zc)
        return lax.select(jnp.broadcast_to(is_real, a.shape),
                          lax.complex(jnp.real(a), jnp.zeros_like(jnp.real(a))), a) \
            if isinstance(is_real, Tracer) else (jnp.real(a) if bool(is_real) else a)
    return a


__all__ = ["poly", "polyval", "polyadd", "polysub", "polymul", "polydiv", "polyder",
           "polyint", "polyfit", "roots"]
