"""The Bernoulli distribution (``jax.scipy.stats.bernoulli``)."""
from __future__ import annotations

from jaxel import numpy as jnp
from jaxel.scipy import special
from jaxel.scipy.stats._util import _promote


def logpmf(k, p, loc=0):
    k, p, loc = _promote(k, p, loc)
    x = k - loc
    ok = (x == 0) | (x == 1)
    xs = jnp.where(ok, x, 0.0)
    val = special.xlogy(xs, p) + special.xlog1py(1.0 - xs, -p)
    return jnp.where(ok, val, -jnp.inf)


def pmf(k, p, loc=0):
    return jnp.exp(logpmf(k, p, loc))


def cdf(k, p):
    k, p = _promote(k, p)
    out = jnp.where(k < 0, 0.0, jnp.where(k < 1, 1.0 - p, 1.0))
    return jnp.where((p < 0) | (p > 1) | jnp.isnan(k), jnp.nan, out)


def ppf(q, p):
    q, p = _promote(q, p)
    out = jnp.where(q > 1.0 - p, 1.0, 0.0)
    return jnp.where((q < 0) | (q > 1) | (p < 0) | (p > 1) | jnp.isnan(q), jnp.nan, out)
