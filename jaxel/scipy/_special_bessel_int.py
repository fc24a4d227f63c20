"""Bessel functions of integer order and real argument: ``jn``, ``yn``, ``iv``, ``kn``.

* ``jn``: the order-``|n|`` row of ``bessel_jn`` (Miller's backward recurrence / Hankel).
* ``yn``: ``Y_0``, ``Y_1`` from Neumann's series in ``J_2k`` (``|x| <= 25``; all terms
  bounded, so no cancellation) or Hankel's expansions (beyond), then the forward recurrence,
  which is stable for ``Y``.
* ``iv``: ``i0e(x) e^|x|`` times the ratios ``I_k / I_(k-1) = x / (2k + x I_(k+1)/I_k)``
  accumulated by a backward recurrence from a static order (a ``fori_loop``); Hankel's
  expansion of ``e^-x I_v(x)`` for ``|x| > max(50, v^2)``.
* ``kn``: the integral ``K_n(x) = int_0^inf exp(-x cosh t) cosh(n t) dt`` by the trapezoidal
  rule, which converges exponentially for this analytic, doubly-exponentially decaying
  integrand; the step shrinks like ``1/sqrt(x)`` as the peak narrows, and the sum is taken in
  log space (no overflow of ``cosh(n t)``, no underflow of ``exp(-x)``).

Unlike JAX (whose versions also accept complex arguments), these take real arguments only.
The order must be a static Python integer, as in JAX. 16-bit floats are computed in float32.
Derivatives (any order) come from the order recurrences, e.g. ``K_n' = -(K_(n-1) + K_(n+1))/2``.
"""
from __future__ import annotations

import math
import operator

from jaxel import lax
from jaxel import numpy as jnp
from jaxel.custom_derivatives import custom_jvp
from jaxel.nn import logsumexp
from jaxel.scipy._special_bessel import _HANKEL, _HANKEL_TERMS, bessel_jn
from jaxel.scipy.special import _promote

__all__ = ["jn", "yn", "iv", "kn"]

_EULER = 0.5772156649015329


def _order(name, n):
    try:
        return operator.index(n)
    except TypeError:
        raise TypeError(f"The order argument of jaxel.scipy.special.{name} must be a static "
                        f"Python integer, got {n!r}.") from None


def _prepare(name, z):
    (z,) = _promote(z)
    if jnp.issubdtype(z.dtype, jnp.complexfloating):
        raise ValueError(f"jaxel.scipy.special.{name} takes real arguments only (JAX's also "
                         "accepts complex ones).")
    narrow = z.dtype in (jnp.float16, jnp.bfloat16)
    return (z.astype(jnp.float32) if narrow else z), z.dtype


def _by_order(impl, deriv):
    """``get(m)``: ``impl(m, x)`` for a static order ``m >= 0`` as a ``custom_jvp`` whose
    derivative comes from the order recurrences (``deriv(get, m, x)``), e.g.
    ``J_m' = (J_(m-1) - J_(m+1)) / 2``. Differentiating the loops themselves would be exact
    but, in float32, Miller's rescaled recurrence loses the derivative to cancellation."""
    cache = {}

    def get(m):
        f = cache.get(m)
        if f is None:
            f = custom_jvp(lambda x: impl(m, x))

            @f.defjvp
            def _rule(primals, tangents):
                (x,), (t,) = primals, tangents
                return f(x), t * deriv(get, m, x)

            cache[m] = f
        return f

    return get


def _jn_impl(m, x):
    # bessel_jn's own forward recurrence needs v >= 2 to run at all.
    return bessel_jn(x, v=max(m, 2))[m]


_jn = _by_order(_jn_impl, lambda get, m, x: -get(1)(x) if m == 0
                else 0.5 * (get(m - 1)(x) - get(m + 1)(x)))


def jn(n, z):
    """Bessel function of the first kind ``J_n(z)`` of static integer order ``n``
    (``J_-n = (-1)^n J_n``)."""
    n = _order("jn", n)
    x, dt = _prepare("jn", z)
    m = abs(n)
    out = _jn(m)(x)
    if n < 0 and m % 2:
        out = -out
    return jnp.where(jnp.isinf(x), 0.0, out).astype(dt)  # the limit, as JAX


# ---- Y_n ---------------------------------------------------------------------------------------
_NEUMANN_X = 25.0
_NEUMANN_K = 40  # J_2k is below rounding for 2k > 80 when |x| <= 25


def _y01_neumann(x):
    """(Y_0, Y_1) for 0 < x <= 25 from J_0 .. J_(2K+1):
    Y_0 = 2/pi [(log(x/2) + gamma) J_0 - 2 sum (-1)^k J_2k / k],
    Y_1 = -dY_0/dx = -2/pi [J_0 / x - (log(x/2) + gamma) J_1 - sum (-1)^k (J_2k-1 - J_2k+1) / k].
    """
    j = bessel_jn(x, v=2 * _NEUMANN_K + 1)
    lg = jnp.log(0.5 * x) + _EULER
    s0 = jnp.zeros_like(x)
    s1 = jnp.zeros_like(x)
    for k in range(1, _NEUMANN_K + 1):
        sign = -1.0 if k % 2 else 1.0
        s0 = s0 + (sign / k) * j[2 * k]
        s1 = s1 + (sign / k) * (j[2 * k - 1] - j[2 * k + 1])
    y0 = (2.0 / math.pi) * (lg * j[0] - 2.0 * s0)
    y1 = -(2.0 / math.pi) * (j[0] / x - lg * j[1] - s1)
    return y0, y1


def _y01_hankel(x):
    """(Y_0, Y_1) for x > 25 by Hankel's expansions: sqrt(2 / (pi x)) (P sin chi + Q cos chi)."""
    terms = _HANKEL_TERMS if x.dtype == jnp.float64 else 10
    inv = 1.0 / x
    inv2 = inv * inv
    c, s = jnp.cos(x), jnp.sin(x)
    out = []
    for nu in (0, 1):
        a = _HANKEL[nu]
        p = jnp.zeros_like(x)
        q = jnp.zeros_like(x)
        for k in reversed(range(terms)):
            sign = -1.0 if k % 2 else 1.0
            p = p * inv2 + sign * a[2 * k]
            q = q * inv2 + sign * a[2 * k + 1]
        q = q * inv
        # sqrt(2) cos(chi), sqrt(2) sin(chi) with chi = x - (nu / 2 + 1 / 4) pi
        cos_chi, sin_chi = ((c + s), (s - c)) if nu == 0 else ((s - c), -(s + c))
        out.append(jnp.sqrt(1.0 / (math.pi * x)) * (p * sin_chi + q * cos_chi))
    return out


def _yn_impl(m, x):
    near = (x <= _NEUMANN_X) & (x > 0)
    y0n, y1n = _y01_neumann(jnp.where(near, x, 1.0))
    y0h, y1h = _y01_hankel(jnp.where(near | ~jnp.isfinite(x), 2 * _NEUMANN_X, x))
    y_lo = jnp.where(near, y0n, y0h)
    y_hi = jnp.where(near, y1n, y1h)
    if m == 0:
        out = y_lo
    else:
        xs = jnp.where(x > 0, x, 1.0)
        for k in range(1, m):  # forward recurrence, stable for Y
            y_lo, y_hi = y_hi, (2.0 * k) / xs * y_hi - y_lo
        out = y_hi
    out = jnp.where(x == 0, -jnp.inf, jnp.where(x == jnp.inf, 0.0, out))
    return jnp.where((x < 0) | jnp.isnan(x), jnp.nan, out)


_yn = _by_order(_yn_impl, lambda get, m, x: -get(1)(x) if m == 0
                else 0.5 * (get(m - 1)(x) - get(m + 1)(x)))


def yn(n, z):
    """Bessel function of the second kind ``Y_n(z)`` of static integer order ``n``
    (``Y_-n = (-1)^n Y_n``; ``-inf`` at 0, NaN for ``z < 0``)."""
    n = _order("yn", n)
    x, dt = _prepare("yn", z)
    m = abs(n)
    out = _yn(m)(x)
    if n < 0 and m % 2:
        out = -out
    return out.astype(dt)


# ---- I_v ---------------------------------------------------------------------------------------
_ASYMP_TERMS = 30


def _iv_hankel_scaled(m, ax):
    """e^-x I_m(x) ~ (2 pi x)^-1/2 sum_k (-1)^k a_k(m) / x^k, for x > max(50, m^2)."""
    mu = 4.0 * m * m
    inv = 1.0 / ax
    term = jnp.ones_like(ax)
    s = term
    for k in range(1, _ASYMP_TERMS + 1):
        term = -term * (mu - (2 * k - 1) ** 2) / (8.0 * k) * inv
        s = s + term
    return s / jnp.sqrt(2.0 * math.pi * ax)


def _iv_ratio_scaled(m, x, n_start):
    """e^-|x| I_m(x) = i0e(x) prod_{k=1..m} r_k, r_k = I_k / I_(k-1) from the backward
    recurrence r_k = x / (2k + x r_(k+1)) started at r_(n_start + 1) = 0."""
    def body(i, c):
        r, prod = c
        k = (n_start - i).astype(x.dtype)
        r = x / (2.0 * k + x * r)
        return r, prod * jnp.where(k <= m, r, 1.0)

    _, prod = lax.fori_loop(0, n_start, body, (jnp.zeros_like(x), jnp.ones_like(x)))
    return lax.bessel_i0e(x) * prod


def _iv_impl(m, x):
    switch = max(50.0, float(m * m))
    n_start = m + int(math.ceil(math.sqrt(80.0 * switch))) + 20
    ax = jnp.abs(x)
    near = ax <= switch
    ratio = _iv_ratio_scaled(m, jnp.where(near, x, 1.0), n_start)
    asym = _iv_hankel_scaled(m, jnp.where(near, 2.0 * switch, ax))
    if m % 2:
        asym = jnp.where(x < 0, -asym, asym)
    scaled = jnp.where(near, ratio, asym)
    return jnp.exp(ax) * scaled


_iv = _by_order(_iv_impl, lambda get, m, x: get(1)(x) if m == 0
                else 0.5 * (get(m - 1)(x) + get(m + 1)(x)))


def iv(v, z):
    """Modified Bessel function of the first kind ``I_v(z)`` of static integer order ``v``
    (``I_-v = I_v``)."""
    v = _order("iv", v)
    x, dt = _prepare("iv", z)
    m = abs(v)
    out = _iv(m)(x)
    # I_m(+-inf) = inf, with the sign of (+-1)^m (as JAX)
    limit = jnp.where((x < 0) & (m % 2 == 1), -jnp.inf, jnp.inf)
    return jnp.where(jnp.isinf(x), limit, out).astype(dt)


# ---- K_n ---------------------------------------------------------------------------------------
_KN_POINTS = 160


def _kn_impl(m, x):
    ok = (x > 0) & jnp.isfinite(x)
    xs = jnp.where(ok, x, 1.0)[..., None]
    # Step 0.25 while the integrand is wide, 0.5 / sqrt(x) once its peak at t = 0 narrows;
    # finer (and more points) for high orders, whose cosh(m t) varies faster.
    refine = 1.0 + m / 8.0
    points = int(math.ceil(_KN_POINTS * refine))
    h = jnp.minimum(0.25, 0.5 / jnp.sqrt(xs)) / refine
    t = h * jnp.arange(points + 1, dtype=x.dtype)
    # log of exp(-x (cosh t - 1)) cosh(m t), with cosh t - 1 = 2 sinh^2(t / 2)
    log_cosh = m * t + jnp.log1p(jnp.exp(-2.0 * m * t)) - math.log(2.0)
    g = -2.0 * xs * jnp.sinh(0.5 * t) ** 2 + log_cosh
    w = jnp.where(jnp.arange(points + 1) == 0, 0.5, 1.0).astype(x.dtype)
    log_k = logsumexp(g, axis=-1, b=w) + jnp.log(h[..., 0])
    x1 = xs[..., 0]
    # exp(-x) apart where it is large: exp(log_k - x) would round log_k - x, an error of
    # x * eps relative.
    out = jnp.where(x1 > 1.0, jnp.exp(log_k) * jnp.exp(-x1), jnp.exp(log_k - x1))
    out = jnp.where(x == 0, jnp.inf, jnp.where(x == jnp.inf, 0.0, out))
    return jnp.where((x < 0) | jnp.isnan(x), jnp.nan, out)


_kn = _by_order(_kn_impl, lambda get, m, x: -get(1)(x) if m == 0
                else -0.5 * (get(m - 1)(x) + get(m + 1)(x)))


def kn(n, z):
    """Modified Bessel function of the second kind ``K_n(z)`` of static integer order ``n``
    (``K_-n = K_n``; ``inf`` at 0, NaN for ``z < 0``)."""
    n = _order("kn", n)
    x, dt = _prepare("kn", z)
    return _kn(abs(n))(x).astype(dt)
