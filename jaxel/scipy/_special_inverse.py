"""Inverse functions of ``jaxel.scipy.special``: ``erfcinv``, ``ndtri_exp``, ``gammaincinv``,
``gammainccinv``.

Each is a few Newton/Halley refinements of a closed-form first guess, with a ``custom_jvp``
giving the derivative of the inverse from the forward function's derivative (implicit
differentiation), so the iterations are never differentiated.
"""
from __future__ import annotations

import math


from jaxel import lax
from jaxel import numpy as jnp
from jaxel.custom_derivatives import custom_jvp
from jaxel.scipy.special import _promote, _promote_bcast, log_ndtr, ndtri

__all__ = ["erfcinv", "ndtri_exp", "gammaincinv", "gammainccinv"]

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
_LN2 = math.log(2.0)


def _real_only(name, x):
    if jnp.issubdtype(x.dtype, jnp.complexfloating):
        raise ValueError(f"{name} does not support complex-valued inputs.")


def erfcinv(y):
    """The inverse of ``erfc`` on ``[0, 2]``: ``-ndtri(y / 2) / sqrt(2)`` (accurate in both
    tails; ``inf`` at 0, ``-inf`` at 2, NaN outside)."""
    (y,) = _promote(y)
    _real_only("erfcinv", y)
    return -ndtri(0.5 * y) * (1.0 / math.sqrt(2.0))


# ---- ndtri_exp: ndtri(exp(y)) without underflow or cancellation -------------------------------
def _ndtri_exp_impl(y):
    dt = y.dtype
    tiny = float(jnp.finfo(dt).tiny)
    # Upper half (p = e^y > 1/2): x = -ndtri(1 - e^y), with 1 - e^y = -expm1(y) exactly.
    upper = -ndtri(-jnp.expm1(jnp.minimum(y, 0.0)))
    # Lower half: a first guess (ndtri of e^y while it is representable, the tail asymptote
    # x ~ -sqrt(-2y - log(-4 pi y)) beyond), then Newton steps on log_ndtr(x) = y.
    yl = jnp.minimum(y, -_LN2)
    far = yl < math.log(tiny) + 10.0
    guess_mid = ndtri(jnp.exp(jnp.where(far, -1.0, yl)))
    w = -2.0 * jnp.where(far, yl, -100.0)
    guess_far = -jnp.sqrt(w - jnp.log(2.0 * math.pi * w))
    x = jnp.where(far, guess_far, guess_mid)
    for _ in range(4):
        ln = log_ndtr(x)
        # d/dx log ndtr(x) = pdf / ndtr = exp(log pdf - log ndtr)
        slope = jnp.exp(-0.5 * x * x - _HALF_LOG_2PI - ln)
        x = x - (ln - yl) / slope
    out = jnp.where(y > -_LN2, upper, x)
    out = jnp.where(y == 0, jnp.inf, jnp.where(y == -jnp.inf, -jnp.inf, out))
    return jnp.where((y > 0) | jnp.isnan(y), jnp.nan, out)


@custom_jvp
def _ndtri_exp(y):
    return _ndtri_exp_impl(y)


@_ndtri_exp.defjvp
def _ndtri_exp_jvp(primals, tangents):
    (y,), (t,) = primals, tangents
    x = _ndtri_exp(y)
    # dx/dy = 1 / (d log_ndtr / dx) = ndtr(x) / pdf(x) = exp(y - log pdf(x))
    return x, t * jnp.exp(y + 0.5 * x * x + _HALF_LOG_2PI)


def ndtri_exp(y):
    """The inverse of ``log_ndtr``: ``ndtri(exp(y))`` for ``y <= 0``, accurate where ``exp(y)``
    underflows (``y << 0``) and near ``y = 0`` (``-inf`` at ``-inf``, ``inf`` at 0, NaN for
    ``y > 0``)."""
    (y,) = _promote(y)
    _real_only("ndtri_exp", y)
    return _ndtri_exp(y)


# ---- inverses of the regularised incomplete gamma functions --------------------------------------
def _gamma_log_density(a, x):
    return (a - 1.0) * jnp.log(x) - x - lax.lgamma(a)


def _gammaincinv_impl(a, p, q):
    """x with P(a, x) = p (equivalently Q(a, x) = q; both given so neither is 1 - the other).

    First guess: Wilson-Hilferty's cube for a >= 1 (chi-square normal approximation); for
    a < 1 the small-x series ``(p Gamma(a + 1))^(1/a)`` in the lower tail and the large-x
    asymptote ``Q ~ x^(a-1) e^-x / Gamma(a)`` in the upper one. Then Newton steps on
    ``log P - log p`` (lower tail) or ``log Q - log q`` (upper), which converge from either
    side in the exponentially thin tails, as one ``fori_loop``."""
    dt = a.dtype
    floor = 1e-300 if dt == jnp.float64 else 1e-37
    # Solve with the tail that holds the smaller probability (it is known to full relative
    # precision); for a < 1 the mass piles up near 0, where log P is the better-behaved one.
    lower = p <= jnp.where(a < 1.0, 0.9, 0.5)
    log_p = jnp.log(jnp.maximum(p, floor))
    log_q = jnp.log(jnp.maximum(q, floor))
    z = jnp.where(lower, ndtri(jnp.clip(p, floor, 0.5)), -ndtri(jnp.clip(q, floor, 0.5)))
    s = 1.0 / (9.0 * jnp.maximum(a, 1e-3))
    wh = a * (1.0 - s + z * jnp.sqrt(s)) ** 3
    small = jnp.exp((log_p + lax.lgamma(a + 1.0)) / a)
    big = jnp.maximum(-log_q - lax.lgamma(a), 1.0)
    big = jnp.maximum(-log_q - lax.lgamma(a) + (a - 1.0) * jnp.log(big), 1.0)
    x = jnp.where(a < 1.0, jnp.where(lower, small, big), jnp.where(wh <= 0.01 * a, small, wh))
    x = jnp.clip(x, float(jnp.finfo(dt).tiny), float(jnp.finfo(dt).max))
    a_s = jnp.where((a > 0) & jnp.isfinite(a), a, 1.0)

    def step(_, x):
        log_dens = _gamma_log_density(a_s, x)
        log_f = jnp.where(lower, jnp.log(lax.igamma(a_s, x)), jnp.log(lax.igammac(a_s, x)))
        # d log P / dx = dens / P;  d log Q / dx = -dens / Q
        ratio = jnp.exp(log_f - log_dens)
        x_new = jnp.where(lower, x - (log_f - log_p) * ratio, x + (log_f - log_q) * ratio)
        return jnp.where(jnp.isfinite(x_new), jnp.where(x_new <= 0, 0.1 * x, x_new), x)

    x = lax.fori_loop(0, 20 if dt == jnp.float64 else 12, step, x)
    x = jnp.where(p == 0, 0.0, jnp.where(q == 0, jnp.inf, x))
    bad = ((p < 0) | (p > 1) | (a < 0) | jnp.isnan(a) | jnp.isnan(p)
           | (((a == 0) | jnp.isinf(a)) & (p > 0) & (p < 1)))
    return jnp.where(bad, jnp.nan, x)


def _inverse_jvp(primals, tangents, out, sign):
    (a, y), (ta, ty) = primals, tangents
    dens = jnp.exp(_gamma_log_density(a, out))
    # P(a, x(a, p)) = p: dx/dp = 1 / density; dx/da = -(dP/da) / density (for Q the signs of
    # both dQ/dx and dQ/da flip, so dx/da is the same and dx/dq = -1 / density).
    dx_da = -lax.igamma_grad_a(a, out) / dens
    return out, ta * dx_da + sign * ty / dens


@custom_jvp
def _gammaincinv(a, p):
    return _gammaincinv_impl(a, p, 1.0 - p)


@_gammaincinv.defjvp
def _gammaincinv_jvp(primals, tangents):
    return _inverse_jvp(primals, tangents, _gammaincinv(*primals), 1.0)


@custom_jvp
def _gammainccinv(a, q):
    return _gammaincinv_impl(a, 1.0 - q, q)


@_gammainccinv.defjvp
def _gammainccinv_jvp(primals, tangents):
    return _inverse_jvp(primals, tangents, _gammainccinv(*primals), -1.0)


def gammaincinv(a, y):
    """The inverse of ``gammainc`` in ``x``: ``x >= 0`` with ``gammainc(a, x) = y`` (0 at
    ``y = 0``, ``inf`` at ``y = 1``, NaN outside [0, 1] or for ``a < 0``). Differentiable in
    both arguments."""
    a, y = _promote_bcast(a, y)
    _real_only("gammaincinv", a)
    return _gammaincinv(a, y)


def gammainccinv(a, y):
    """The inverse of ``gammaincc`` in ``x``: ``x >= 0`` with ``gammaincc(a, x) = y`` (more
    accurate than ``gammaincinv(a, 1 - y)`` for small ``y``). Differentiable in both
    arguments."""
    a, y = _promote_bcast(a, y)
    _real_only("gammainccinv", a)
    return _gammainccinv(a, y)


