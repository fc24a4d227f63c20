"""The truncated normal distribution on ``[a, b]`` in standard units
(``jax.scipy.stats.truncnorm``)."""
from __future__ import annotations

import math

from jaxel import numpy as jnp
from jaxel.scipy import special
from jaxel.scipy.stats._util import _promote

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _log_diff_exp(la, lb):
    """``log(exp(la) - exp(lb))`` for ``la >= lb``."""
    return la + jnp.log1p(-jnp.exp(lb - la))


def _log_mass(a, b):
    """``log(ndtr(b) - ndtr(a))``, from whichever tail keeps precision."""
    right = a > 0  # both in the right tail: use survival functions
    left_mass = _log_diff_exp(special.log_ndtr(b), special.log_ndtr(a))
    right_mass = _log_diff_exp(special.log_ndtr(-a), special.log_ndtr(-b))
    return jnp.where(right, right_mass, left_mass)


def _std(x, a, b, loc, scale):
    x, a, b, loc, scale = _promote(x, a, b, loc, scale)
    return (x - loc) / scale, a, b, scale


def logpdf(x, a, b, loc=0, scale=1):
    y, a, b, scale = _std(x, a, b, loc, scale)
    val = -0.5 * y * y - _HALF_LOG_2PI - jnp.log(scale) - _log_mass(a, b)
    return jnp.where((y < a) | (y > b), -jnp.inf, val)


def pdf(x, a, b, loc=0, scale=1):
    return jnp.exp(logpdf(x, a, b, loc, scale))


def logcdf(x, a, b, loc=0, scale=1):
    y, a, b, _ = _std(x, a, b, loc, scale)
    yc = jnp.clip(y, a, b)
    val = _log_mass(a, yc) - _log_mass(a, b)
    return jnp.where(y >= b, 0.0, jnp.where(y <= a, -jnp.inf, val))


def cdf(x, a, b, loc=0, scale=1):
    return jnp.exp(logcdf(x, a, b, loc, scale))


def logsf(x, a, b, loc=0, scale=1):
    y, a, b, _ = _std(x, a, b, loc, scale)
    yc = jnp.clip(y, a, b)
    val = _log_mass(yc, b) - _log_mass(a, b)
    return jnp.where(y <= a, 0.0, jnp.where(y >= b, -jnp.inf, val))


def sf(x, a, b, loc=0, scale=1):
    return jnp.exp(logsf(x, a, b, loc, scale))
