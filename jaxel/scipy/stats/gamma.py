"""The gamma distribution (``jax.scipy.stats.gamma``)."""
from __future__ import annotations

from jaxel import lax
from jaxel import numpy as jnp
from jaxel.scipy import special
from jaxel.scipy.stats._util import _promote


def logpdf(x, a, loc=0, scale=1):
    x, a, loc, scale = _promote(x, a, loc, scale)
    y = (x - loc) / scale
    ys = jnp.where(y >= 0, y, 1.0)
    val = special.xlogy(a - 1.0, ys) - ys - lax.lgamma(a) - jnp.log(scale)
    return jnp.where(y >= 0, val, -jnp.inf)


def pdf(x, a, loc=0, scale=1):
    return jnp.exp(logpdf(x, a, loc, scale))


def cdf(x, a, loc=0, scale=1):
    x, a, loc, scale = _promote(x, a, loc, scale)
    return special.gammainc(a, jnp.maximum((x - loc) / scale, 0.0))


def logcdf(x, a, loc=0, scale=1):
    return jnp.log(cdf(x, a, loc, scale))


def sf(x, a, loc=0, scale=1):
    x, a, loc, scale = _promote(x, a, loc, scale)
    return special.gammaincc(a, jnp.maximum((x - loc) / scale, 0.0))


def logsf(x, a, loc=0, scale=1):
    return jnp.log(sf(x, a, loc, scale))
