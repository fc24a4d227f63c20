"""The Laplace distribution (``jax.scipy.stats.laplace``)."""
from __future__ import annotations

import math

from jaxel import numpy as jnp
from jaxel.scipy.stats._util import standardize


def logpdf(x, loc=0, scale=1):
    y, log_scale = standardize(x, loc, scale)
    return -jnp.abs(y) - math.log(2.0) - log_scale


def pdf(x, loc=0, scale=1):
    return jnp.exp(logpdf(x, loc, scale))


def cdf(x, loc=0, scale=1):
    y, _ = standardize(x, loc, scale)
    half = 0.5 * jnp.exp(-jnp.abs(y))
    return jnp.where(y < 0, half, 1.0 - half)
