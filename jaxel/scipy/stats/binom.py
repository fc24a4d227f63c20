"""The binomial distribution (``jax.scipy.stats.binom``)."""
from __future__ import annotations

from jaxel import lax
from jaxel import numpy as jnp
from jaxel.scipy import special
from jaxel.scipy.stats._util import _promote


def logpmf(k, n, p, loc=0):
    k, n, p, loc = _promote(k, n, p, loc)
    x = k - loc
    ok = (x >= 0) & (x <= n) & (x == jnp.floor(x))
    xs = jnp.where(ok, x, 0.0)
    lcomb = lax.lgamma(n + 1.0) - lax.lgamma(xs + 1.0) - lax.lgamma(n - xs + 1.0)
    val = lcomb + special.xlogy(xs, p) + special.xlog1py(n - xs, -p)
    return jnp.where(ok, val, -jnp.inf)


def pmf(k, n, p, loc=0):
    return jnp.exp(logpmf(k, n, p, loc))
