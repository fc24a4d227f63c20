"""The exponential distribution (``jax.scipy.stats.expon``)."""
from __future__ import annotations

from jaxel import numpy as jnp
from jaxel.scipy.stats._util import standardize, _promote


def logpdf(x, loc=0, scale=1):
    y, log_scale = standardize(x, loc, scale)
    return jnp.where(y < 0, -jnp.inf, -y - log_scale)


def pdf(x, loc=0, scale=1):
    return jnp.exp(logpdf(x, loc, scale))


def cdf(x, loc=0, scale=1):
    y, _ = standardize(x, loc, scale)
    return jnp.where(y < 0, 0.0, -jnp.expm1(-jnp.maximum(y, 0.0)))


def logcdf(x, loc=0, scale=1):
    return jnp.log(cdf(x, loc, scale))


def sf(x, loc=0, scale=1):
    return jnp.exp(logsf(x, loc, scale))


def logsf(x, loc=0, scale=1):
    y, _ = standardize(x, loc, scale)
    return jnp.where(y < 0, 0.0, -y)


def ppf(q, loc=0, scale=1):
    q, loc, scale = _promote(q, loc, scale)
    out = -jnp.log1p(-q) * scale + loc
    return jnp.where((q < 0) | (q > 1), jnp.nan, out)
