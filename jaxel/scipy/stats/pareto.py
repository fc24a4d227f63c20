"""The Pareto distribution (``jax.scipy.stats.pareto``)."""
from __future__ import annotations

from jaxel import numpy as jnp
from jaxel.scipy.stats._util import _promote


def _y(x, b, loc, scale):
    x, b, loc, scale = _promote(x, b, loc, scale)
    return (x - loc) / scale, b, scale


def logpdf(x, b, loc=0, scale=1):
    y, b, scale = _y(x, b, loc, scale)
    ys = jnp.where(y >= 1, y, 1.0)
    val = jnp.log(b) - (b + 1.0) * jnp.log(ys) - jnp.log(scale)
    return jnp.where(y >= 1, val, -jnp.inf)


def pdf(x, b, loc=0, scale=1):
    return jnp.exp(logpdf(x, b, loc, scale))


def logsf(x, b, loc=0, scale=1):
    y, b, _ = _y(x, b, loc, scale)
    return jnp.where(y >= 1, -b * jnp.log(jnp.maximum(y, 1.0)), 0.0)


def sf(x, b, loc=0, scale=1):
    return jnp.exp(logsf(x, b, loc, scale))


def cdf(x, b, loc=0, scale=1):
    return -jnp.expm1(logsf(x, b, loc, scale))


def logcdf(x, b, loc=0, scale=1):
    return jnp.log(cdf(x, b, loc, scale))


def ppf(q, b, loc=0, scale=1):
    q, b, loc, scale = _promote(q, b, loc, scale)
    out = jnp.exp(-jnp.log1p(-q) / b) * scale + loc
    return jnp.where((q < 0) | (q > 1), jnp.nan, out)
