"""The right-skewed Gumbel distribution (``jax.scipy.stats.gumbel_r``)."""
from __future__ import annotations

from jaxel import numpy as jnp
from jaxel.scipy.stats._util import standardize, _promote


def logpdf(x, loc=0, scale=1):
    y, log_scale = standardize(x, loc, scale)
    return -y - jnp.exp(-y) - log_scale


def pdf(x, loc=0, scale=1):
    return jnp.exp(logpdf(x, loc, scale))


def logcdf(x, loc=0, scale=1):
    y, _ = standardize(x, loc, scale)
    return -jnp.exp(-y)


def cdf(x, loc=0, scale=1):
    return jnp.exp(logcdf(x, loc, scale))


def sf(x, loc=0, scale=1):
    y, _ = standardize(x, loc, scale)
    return -jnp.expm1(-jnp.exp(-y))


def logsf(x, loc=0, scale=1):
    return jnp.log(sf(x, loc, scale))


def ppf(p, loc=0, scale=1):
    p, loc, scale = _promote(p, loc, scale)
    out = -jnp.log(-jnp.log(p)) * scale + loc
    return jnp.where((p <= 0) | (p >= 1), jnp.nan, out)  # NaN at 0 and 1, as JAX
