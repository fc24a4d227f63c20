"""The Poisson distribution (``jax.scipy.stats.poisson``)."""
from __future__ import annotations

import math

from jaxel import lax
from jaxel import numpy as jnp
from jaxel.scipy import special
from jaxel.scipy.stats._util import _promote


def logpmf(k, mu, loc=0):
    k, mu, loc = _promote(k, mu, loc)
    x = k - loc
    ok = (x >= 0) & (x == jnp.floor(x))
    xs = jnp.where(ok, x, 0.0)
    val = special.xlogy(xs, mu) - lax.lgamma(xs + 1.0) - mu
    return jnp.where(ok, val, -jnp.inf)


def pmf(k, mu, loc=0):
    return jnp.exp(logpmf(k, mu, loc))


def cdf(k, mu, loc=0):
    k, mu, loc = _promote(k, mu, loc)
    x = jnp.floor(k - loc)
    out = special.gammaincc(jnp.maximum(x, 0.0) + 1.0, mu)
    return jnp.where(x < 0, 0.0, out)


_ENTROPY_TERMS = 256
_ENTROPY_SWITCH = 50.0


def entropy(mu, loc=0):
    """``-sum_k pmf(k) log pmf(k)``: a direct sum over ``k < 256`` for ``mu <= 50``, the
    asymptotic expansion ``0.5 log(2 pi e mu) - 1/(12 mu) - 1/(24 mu^2) - 19/(360 mu^3)``
    above."""
    mu, loc = _promote(mu, loc)
    del loc  # the entropy does not depend on the location
    ms = jnp.clip(mu, 0.0, _ENTROPY_SWITCH)[..., None]
    k = jnp.arange(_ENTROPY_TERMS, dtype=mu.dtype)
    lp = special.xlogy(k, ms) - lax.lgamma(k + 1.0) - ms
    direct = -jnp.sum(jnp.exp(lp) * lp, axis=-1)
    mb = jnp.maximum(mu, _ENTROPY_SWITCH)
    asym = (0.5 * jnp.log(2 * math.pi * math.e * mb) - 1.0 / (12.0 * mb)
            - 1.0 / (24.0 * mb * mb) - 19.0 / (360.0 * mb ** 3))
    out = jnp.where(mu > _ENTROPY_SWITCH, asym, direct)
    return jnp.where(mu < 0, jnp.nan, out)
