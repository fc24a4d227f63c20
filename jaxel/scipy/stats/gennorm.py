"""The generalised normal distribution (``jax.scipy.stats.gennorm``)."""
from __future__ import annotations


from jaxel import lax
from jaxel import numpy as jnp
from jaxel.scipy import special
from jaxel.scipy.stats._util import _promote


def logpdf(x, beta):
    x, beta = _promote(x, beta)
    return jnp.log(0.5 * beta) - lax.lgamma(1.0 / beta) - jnp.abs(x) ** beta


def pdf(x, beta):
    return jnp.exp(logpdf(x, beta))


def cdf(x, beta):
    x, beta = _promote(x, beta)
    return 0.5 + 0.5 * jnp.sign(x) * special.gammainc(1.0 / beta, jnp.abs(x) ** beta)
