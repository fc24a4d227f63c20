"""The Dirichlet distribution (``jax.scipy.stats.dirichlet``)."""
from __future__ import annotations

from jaxel import lax
from jaxel import numpy as jnp
from jaxel.scipy import special
from jaxel.scipy.stats._util import _promote


def logpdf(x, alpha):
    """Log density of ``x`` (shape ``(K, ...)``, or ``(K - 1, ...)`` with the last component
    implied) for the concentration vector ``alpha`` (shape ``(K,)``); -inf off the simplex."""
    x, alpha = _promote(x, alpha)
    if alpha.ndim != 1:
        raise ValueError(f"`alpha` must be one-dimensional; got alpha.shape={alpha.shape}")
    K = alpha.shape[0]
    if x.shape[0] not in (K, K - 1):
        raise ValueError(f"`x` must have either the same number of entries as `alpha` or one "
                         f"entry fewer; got x.shape={x.shape}, alpha.shape={alpha.shape}")
    if x.shape[0] == K - 1:
        x = jnp.concatenate([x, (1.0 - jnp.sum(x, axis=0))[None]], axis=0)
    a = alpha.reshape((K,) + (1,) * (x.ndim - 1))
    normalize = jnp.sum(lax.lgamma(alpha)) - lax.lgamma(jnp.sum(alpha))
    val = jnp.sum(special.xlogy(a - 1.0, x), axis=0) - normalize
    tol = 1e-6 if x.dtype == jnp.float32 else 1e-12
    on_simplex = jnp.all(x >= 0, axis=0) & (jnp.abs(jnp.sum(x, axis=0) - 1.0) < tol)
    return jnp.where(on_simplex, val, -jnp.inf)


def pdf(x, alpha):
    return jnp.exp(logpdf(x, alpha))
