"""The geometric distribution on ``1, 2, ...`` (``jax.scipy.stats.geom``)."""
from __future__ import annotations

from jaxel import numpy as jnp
from jaxel.scipy import special
from jaxel.scipy.stats._util import _promote


def logpmf(k, p, loc=0):
    k, p, loc = _promote(k, p, loc)
    x = k - loc
    ok = (x >= 1) & (x == jnp.floor(x))
    xs = jnp.where(ok, x, 1.0)
    return jnp.where(ok, special.xlog1py(xs - 1.0, -p) + jnp.log(p), -jnp.inf)


def pmf(k, p, loc=0):
    return jnp.exp(logpmf(k, p, loc))
