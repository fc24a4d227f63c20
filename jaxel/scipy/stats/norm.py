"""The normal distribution (``jax.scipy.stats.norm``)."""
from __future__ import annotations

import math

from jaxel import numpy as jnp
from jaxel.scipy import special
from jaxel.scipy.stats._util import standardize, _promote

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def logpdf(x, loc=0, scale=1):
    y, log_scale = standardize(x, loc, scale)
    return -0.5 * y * y - _HALF_LOG_2PI - log_scale


def pdf(x, loc=0, scale=1):
    return jnp.exp(logpdf(x, loc, scale))


def cdf(x, loc=0, scale=1):
    y, _ = standardize(x, loc, scale)
    return special.ndtr(y)


def logcdf(x, loc=0, scale=1):
    y, _ = standardize(x, loc, scale)
    return special.log_ndtr(y)


def sf(x, loc=0, scale=1):
    y, _ = standardize(x, loc, scale)
    return special.ndtr(-y)


def logsf(x, loc=0, scale=1):
    y, _ = standardize(x, loc, scale)
    return special.log_ndtr(-y)


def ppf(q, loc=0, scale=1):
    q, loc, scale = _promote(q, loc, scale)
    return special.ndtri(q) * scale + loc


def isf(q, loc=0, scale=1):
    q, loc, scale = _promote(q, loc, scale)
    return -special.ndtri(q) * scale + loc
