"""Student's t distribution (``jax.scipy.stats.t``)."""
from __future__ import annotations

import math

from jaxel import lax
from jaxel import numpy as jnp
from jaxel.scipy.stats._util import _promote


def logpdf(x, df, loc=0, scale=1):
    x, df, loc, scale = _promote(x, df, loc, scale)
    y = (x - loc) / scale
    half = 0.5 * (df + 1.0)
    return (lax.lgamma(half) - lax.lgamma(0.5 * df) - 0.5 * jnp.log(df * math.pi)
            - half * jnp.log1p(y * y / df) - jnp.log(scale))


def pdf(x, df, loc=0, scale=1):
    return jnp.exp(logpdf(x, df, loc, scale))
