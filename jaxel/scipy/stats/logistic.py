"""The logistic distribution (``jax.scipy.stats.logistic``)."""
from __future__ import annotations

from jaxel import numpy as jnp
from jaxel.scipy import special
from jaxel.scipy.stats._util import standardize, _promote


def logpdf(x, loc=0, scale=1):
    y, log_scale = standardize(x, loc, scale)
    ay = jnp.abs(y)
    return -ay - 2.0 * jnp.log1p(jnp.exp(-ay)) - log_scale


def pdf(x, loc=0, scale=1):
    return jnp.exp(logpdf(x, loc, scale))


def cdf(x, loc=0, scale=1):
    y, _ = standardize(x, loc, scale)
    return special.expit(y)


def sf(x, loc=0, scale=1):
    y, _ = standardize(x, loc, scale)
    return special.expit(-y)


def ppf(q, loc=0, scale=1):
    q, loc, scale = _promote(q, loc, scale)
    return special.logit(q) * scale + loc


def isf(q, loc=0, scale=1):
    q, loc, scale = _promote(q, loc, scale)
    return -special.logit(q) * scale + loc
