"""Bessel functions of the first kind of integer order, ``bessel_jn``.

Two regimes, chosen per element:

* ``|z| < 5e-4``: the power series (four terms);
* ``|z| <= L = max(v, 25)``: Miller's backward recurrence ``J_(k-1) = (2k/z) J_k - J_(k+1)``
  from a static starting order ``N > L`` (a ``lax.fori_loop`` carrying the stack of orders
  ``0..v``, rescaled whenever it grows large), normalised by ``J_0 + 2 sum J_(2k) = 1``;
* ``|z| > L``: Hankel's asymptotic expansions of ``J_0`` and ``J_1`` (28 terms, accurate to
  rounding for ``|z| > 25``) and the forward recurrence, stable for orders below ``|z|``.
"""
from __future__ import annotations

import math
import operator

from jaxel import lax
from jaxel import numpy as jnp
from jaxel.scipy.special import _promote

__all__ = ["bessel_jn"]

_X_SWITCH = 25
_HANKEL_TERMS = 28


def _hankel_coefficients(nu, terms):
    """``a_k(nu) = prod_{j<=k} (4 nu^2 - (2j-1)^2) / (k! 8^k)`` for ``k < 2 terms``."""
    mu = 4.0 * nu * nu
    out, a = [], 1.0
    for k in range(2 * terms):
        out.append(a)
        a = a * (mu - (2 * k + 1) ** 2) / ((k + 1) * 8.0)
    return out


_HANKEL = {nu: _hankel_coefficients(nu, _HANKEL_TERMS) for nu in (0, 1)}


def _j01_hankel(x):
    """``(J_0(x), J_1(x))`` for ``x > 25`` by Hankel's expansions."""
    terms = _HANKEL_TERMS if x.dtype == jnp.float64 else 10
    inv = 1.0 / x
    inv2 = inv * inv
    c, s = jnp.cos(x), jnp.sin(x)
    out = []
    for nu in (0, 1):
        a = _HANKEL[nu]
        p = jnp.zeros_like(x)
        q = jnp.zeros_like(x)
        for k in reversed(range(terms)):  # Horner in 1/x^2, alternating signs
            sign = -1.0 if k % 2 else 1.0
            p = p * inv2 + sign * a[2 * k]
            q = q * inv2 + sign * a[2 * k + 1]
        q = q * inv
        # chi = x - (nu/2 + 1/4) pi
        if nu == 0:
            cos_chi, sin_chi = (c + s), (s - c)
        else:
            cos_chi, sin_chi = (s - c), -(s + c)
        out.append(jnp.sqrt(1.0 / (math.pi * x)) * (p * cos_chi - q * sin_chi))
    return out


def _miller(x, v, n_start):
    """``J_0..J_v`` (stacked on a new leading axis) by backward recurrence from ``n_start``."""
    f64 = x.dtype == jnp.float64
    big = 1e200 if f64 else 1e30
    orders = lax.broadcasted_iota(jnp.int32, (v + 1,) + x.shape, 0)
    two_over_x = 2.0 / x

    def body(i, c):
        j_hi, j_k, out, norm = c
        k = n_start - i  # the order j_k holds
        out = jnp.where(orders == k, j_k, out)
        norm = norm + jnp.where((k % 2 == 0) & (k > 0), 2.0 * j_k, 0.0)
        j_lo = k.astype(x.dtype) * two_over_x * j_k - j_hi
        scale = jnp.where(jnp.abs(j_lo) > big, 1.0 / big, 1.0)
        return j_k * scale, j_lo * scale, out * scale, norm * scale

    init = (jnp.zeros_like(x), jnp.full_like(x, 1e-30 if f64 else 1e-20),
            jnp.zeros((v + 1,) + x.shape, x.dtype), jnp.zeros_like(x))
    _, j0, out, norm = lax.fori_loop(0, n_start, body, init)
    out = jnp.where(orders == 0, j0, out)
    return out / (norm + j0)


def _small_series(x, v):
    """``J_0..J_v`` for tiny ``x`` (``(x/2)^2 < 1e-7``): four terms of the power series, all
    orders at once along a leading axis."""
    n = lax.broadcasted_iota(x.dtype, (v + 1,) + x.shape, 0)
    y = 0.25 * x * x
    lead = jnp.where(n == 0, 1.0, jnp.exp(n * jnp.log(0.5 * x) - lax.lgamma(n + 1.0)))
    s, t = jnp.ones_like(n), jnp.ones_like(n)
    for k in range(1, 4):
        t = -t * y / (k * (n + k))
        s = s + t
    return lead * s


def _forward(j0, j1, x, v):
    """``J_0..J_v`` from ``J_0, J_1`` by the forward recurrence (stable for orders < ``x``)."""
    orders = lax.broadcasted_iota(jnp.int32, (v + 1,) + x.shape, 0)
    out = jnp.where(orders == 0, j0, jnp.where(orders == 1, j1, 0.0))

    def body(n, c):
        j_lo, j_n, out = c
        j_hi = (2.0 * n.astype(x.dtype)) / x * j_n - j_lo
        return j_n, j_hi, jnp.where(orders == n + 1, j_hi, out)

    return lax.fori_loop(1, max(v, 1), body, (j0, j1, out))[2]


def bessel_jn(z, *, v, n_iter=50):
    """Bessel functions of the first kind ``J_0(z) .. J_v(z)`` of integer order and real
    argument, stacked on a new leading axis: shape ``(v + 1, *z.shape)``, dtype of ``z``.

    Miller's backward recurrence (normalised by ``J_0 + 2 sum J_2k = 1``) where
    ``|z| <= max(v, 25)``, Hankel's expansions of ``J_0, J_1`` and the forward recurrence
    beyond. The recurrence starts at order ``max(L + sqrt(40 L) + 20, v + n_iter)`` with
    ``L = max(v, 25)``, so ``n_iter`` (JAX's accuracy knob) is only a lower bound here and the
    default is accurate everywhere. Against SciPy's ``jv`` in float64: absolute error about
    ``1e-15`` (relative ``1e-13`` away from the zeros of ``J_n`` and from deep underflow).
    ``J_n(-z) = (-1)^n J_n(z)``; ``z = 0`` gives ``1, 0, 0, ...``; infinite or NaN ``z`` gives
    NaN. Not differentiated by a custom rule (the loop is differentiable in forward mode).
    """
    try:
        v = operator.index(v)
    except TypeError:
        raise TypeError(f"bessel_jn: the order v must be an integer, got {v!r}") from None
    if v < 0:
        raise ValueError(f"bessel_jn: the order v must be non-negative, got {v}")
    n_iter = operator.index(n_iter)
    (z,) = _promote(z)
    x = jnp.abs(z)
    big_l = max(v, _X_SWITCH)
    n_start = max(big_l + int(math.sqrt(40 * big_l)) + 20, v + n_iter)
    n_start += n_start % 2
    tiny = x < 5e-4
    use_miller = (x <= big_l) & ~tiny
    xm = jnp.where(use_miller, x, 1.0)
    miller = _miller(xm, v, n_start)
    xf = jnp.where(use_miller | ~jnp.isfinite(x), 2.0 * big_l, x)
    j0, j1 = _j01_hankel(xf)
    forward = _forward(j0, j1, xf, v)
    out = jnp.where(use_miller, miller, forward)
    out = jnp.where(tiny, _small_series(jnp.where(tiny, x, 1e-4), v), out)
    orders = lax.broadcasted_iota(jnp.int32, out.shape, 0)
    out = jnp.where(x == 0, jnp.where(orders == 0, 1.0, 0.0), out)
    out = jnp.where((z < 0) & (orders % 2 == 1), -out, out)
    return jnp.where(jnp.isfinite(z), out, jnp.nan).astype(z.dtype)
