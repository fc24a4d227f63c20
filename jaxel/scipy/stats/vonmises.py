"""The von Mises distribution (``jax.scipy.stats.vonmises``; periodic, as in JAX)."""
from __future__ import annotations

import math

from jaxel import numpy as jnp
from jaxel.scipy import special
from jaxel.scipy.stats._util import _promote


def logpdf(x, kappa):
    x, kappa = _promote(x, kappa)
    return kappa * (jnp.cos(x) - 1.0) - math.log(2 * math.pi) - jnp.log(special.i0e(kappa))


def pdf(x, kappa):
    return jnp.exp(logpdf(x, kappa))
