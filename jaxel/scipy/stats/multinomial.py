"""The multinomial distribution (``jax.scipy.stats.multinomial``)."""
from __future__ import annotations

from jaxel import lax
from jaxel import numpy as jnp
from jaxel.scipy import special
from jaxel.scipy.stats._util import _promote


def logpmf(x, n, p):
    """Log probability of the counts ``x`` (last axis) of ``n`` draws with probabilities
    ``p``; -inf where the counts do not sum to ``n``."""
    x, n, p = _promote(x, n, p)
    val = (lax.lgamma(n + 1.0)
           + jnp.sum(special.xlogy(x, p) - lax.lgamma(x + 1.0), axis=-1))
    return jnp.where(jnp.sum(x, axis=-1) == n, val, -jnp.inf)


def pmf(x, n, p):
    return jnp.exp(logpmf(x, n, p))
