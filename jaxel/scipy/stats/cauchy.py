"""The Cauchy distribution (``jax.scipy.stats.cauchy``)."""
from __future__ import annotations

import math

from jaxel import numpy as jnp
from jaxel.scipy.stats._util import standardize, _promote


def logpdf(x, loc=0, scale=1):
    y, log_scale = standardize(x, loc, scale)
    return -math.log(math.pi) - log_scale - jnp.log1p(y * y)


def pdf(x, loc=0, scale=1):
    return jnp.exp(logpdf(x, loc, scale))


def cdf(x, loc=0, scale=1):
    y, _ = standardize(x, loc, scale)
    return jnp.arctan2(jnp.ones_like(y), -y) / math.pi


def logcdf(x, loc=0, scale=1):
    return jnp.log(cdf(x, loc, scale))


def sf(x, loc=0, scale=1):
    y, _ = standardize(x, loc, scale)
    return jnp.arctan2(jnp.ones_like(y), y) / math.pi


def logsf(x, loc=0, scale=1):
    return jnp.log(sf(x, loc, scale))


def ppf(q, loc=0, scale=1):
    q, loc, scale = _promote(q, loc, scale)
    return jnp.tan(math.pi * (q - 0.5)) * scale + loc


def isf(q, loc=0, scale=1):
    q, loc, scale = _promote(q, loc, scale)
    return jnp.tan(math.pi * (0.5 - q)) * scale + loc
