"""The wrapped Cauchy distribution on ``[0, 2 pi]`` (``jax.scipy.stats.wrapcauchy``)."""
from __future__ import annotations

import math

from jaxel import numpy as jnp
from jaxel.scipy.stats._util import _promote


def logpdf(x, c):
    x, c = _promote(x, c)
    val = (jnp.log1p(-c * c) - math.log(2 * math.pi)
           - jnp.log(1.0 + c * c - 2.0 * c * jnp.cos(x)))
    inside = (x >= 0) & (x <= 2 * math.pi)
    return jnp.where(inside & (c > 0) & (c < 1), val, jnp.where(inside, jnp.nan, -jnp.inf))


def pdf(x, c):
    return jnp.exp(logpdf(x, c))
