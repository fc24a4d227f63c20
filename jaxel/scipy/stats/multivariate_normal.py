"""The multivariate normal distribution (``jax.scipy.stats.multivariate_normal``)."""
from __future__ import annotations

import math

from jaxel import lax
from jaxel import numpy as jnp
from jaxel.scipy.stats._util import _promote


def logpdf(x, mean, cov, allow_singular=None):
    """Log density at ``x`` (``(..., n)``) of N(mean, cov); ``cov`` may be a scalar or a
    vector (diagonal) when ``mean`` is a vector, as in JAX; ``allow_singular`` unsupported."""
    if allow_singular is not None:
        raise NotImplementedError("allow_singular argument of multivariate_normal.logpdf")
    x, mean, cov = _promote(x, mean, cov)
    if mean.ndim == 0 and cov.ndim == 0:
        return (-0.5 * (x - mean) ** 2 / cov - 0.5 * (jnp.log(2 * math.pi) + jnp.log(cov)))
    n = mean.shape[-1]
    if cov.ndim < 2:
        # scalar or diagonal covariance
        diff = x - mean
        var = jnp.broadcast_to(cov, (n,)) if cov.ndim == 0 else cov
        return (-0.5 * jnp.sum(diff * diff / var, axis=-1)
                - 0.5 * n * math.log(2 * math.pi) - 0.5 * jnp.sum(jnp.log(var), axis=-1))
    chol = jnp.linalg.cholesky(cov)
    diff = x - mean
    batch = jnp.broadcast_shapes(diff.shape[:-1], chol.shape[:-2])
    diff_b = jnp.broadcast_to(diff, batch + (n,))[..., None]
    chol_b = jnp.broadcast_to(chol, batch + (n, n))
    y = lax.linalg.triangular_solve(chol_b, diff_b, left_side=True, lower=True)[..., 0]
    log_det = jnp.sum(jnp.log(jnp.abs(jnp.diagonal(chol, axis1=-2, axis2=-1))), axis=-1)
    return -0.5 * jnp.sum(y * y, axis=-1) - 0.5 * n * math.log(2 * math.pi) - log_det


def pdf(x, mean, cov):
    return jnp.exp(logpdf(x, mean, cov))
