"""The continuous uniform distribution on ``[loc, loc + scale]``
(``jax.scipy.stats.uniform``)."""
from __future__ import annotations

from jaxel import numpy as jnp
from jaxel.scipy.stats._util import _promote


def logpdf(x, loc=0, scale=1):
    x, loc, scale = _promote(x, loc, scale)
    inside = (x >= loc) & (x <= loc + scale)
    return jnp.where(inside, -jnp.log(scale), -jnp.inf)


def pdf(x, loc=0, scale=1):
    return jnp.exp(logpdf(x, loc, scale))


def cdf(x, loc=0, scale=1):
    x, loc, scale = _promote(x, loc, scale)
    return jnp.clip((x - loc) / scale, 0.0, 1.0)


def ppf(q, loc=0, scale=1):
    q, loc, scale = _promote(q, loc, scale)
    return jnp.where((q < 0) | (q > 1), jnp.nan, q * scale + loc)
