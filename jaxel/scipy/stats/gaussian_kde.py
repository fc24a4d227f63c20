"""Kernel density estimation with Gaussian kernels (``jax.scipy.stats.gaussian_kde``).

The estimate is a weighted mixture of normal distributions, one centred on each data point,
all with the covariance ``covariance = factor**2 * cov(dataset, aweights=weights)``; the
bandwidth ``factor`` follows Scott's or Silverman's rule, or is given.  The class is a pytree
(leaves ``neff``, ``dataset``, ``weights``, ``covariance``, ``inv_cov``), so an estimate can
be passed through ``jit``, ``vmap`` and ``grad``.
"""
from __future__ import annotations

import math

from jaxel import numpy as jnp
from jaxel import random
from jaxel.scipy.special import logsumexp, ndtr
from jaxel.tree_util import register_pytree_node_class

__all__ = ["gaussian_kde"]


def _float_array(x, name):
    x = jnp.asarray(x)
    if jnp.issubdtype(x.dtype, jnp.complexfloating):
        raise NotImplementedError(f"gaussian_kde does not support complex {name}")
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(jnp.result_type(float))
    return x


@register_pytree_node_class
class gaussian_kde:
    """Gaussian kernel density estimate of the distribution of ``dataset``.

    Args:
      dataset: the data, shape ``(d, n)`` (``n`` points in ``d`` dimensions) or ``(n,)``
        for one dimension.
      bw_method: the bandwidth factor: ``None`` or ``"scott"`` (``neff ** (-1 / (d + 4))``),
        ``"silverman"`` (``(neff * (d + 2) / 4) ** (-1 / (d + 4))``), a scalar (used as
        is), or a callable taking the estimate and returning the factor.
      weights: optional non-negative weights of the points, shape ``(n,)``; they are
        normalised to sum to 1 (equal weights by default).

    Attributes:
      dataset: the ``(d, n)`` data; weights: normalised weights; d, n: dimensions and
      number of points; neff: the effective number of points ``1 / sum(weights**2)``;
      covariance: the kernel covariance; inv_cov: its inverse.

    Example::

        >>> kde = gaussian_kde(jnp.array([0.0, 1.0, 3.0]))
        >>> kde.pdf(jnp.array([1.0]))
        Array([0.21489537], dtype=float32)
    """

    def __init__(self, dataset, bw_method=None, weights=None):
        dataset = jnp.atleast_2d(_float_array(dataset, "dataset"))
        if dataset.ndim != 2:
            raise ValueError(f"`dataset` must be one- or two-dimensional; got shape "
                             f"{dataset.shape}")
        if not dataset.size > 1:
            raise ValueError("`dataset` input should have multiple elements.")
        d, n = dataset.shape
        if weights is None:
            weights = jnp.full((n,), 1.0 / n, dtype=dataset.dtype)
        else:
            weights = jnp.atleast_1d(_float_array(weights, "weights")).astype(dataset.dtype)
            if weights.ndim != 1:
                raise ValueError("`weights` input should be one-dimensional.")
            if weights.shape[0] != n:
                raise ValueError(f"`weights` input should be of length n ({n}); got "
                                 f"{weights.shape[0]}")
            weights = weights / jnp.sum(weights)
        self.dataset = dataset
        self.weights = weights
        self.neff = 1.0 / jnp.sum(weights * weights)

        if bw_method is None or (isinstance(bw_method, str) and bw_method == "scott"):
            factor = self.neff ** (-1.0 / (d + 4))
        elif isinstance(bw_method, str) and bw_method == "silverman":
            factor = (self.neff * (d + 2) / 4.0) ** (-1.0 / (d + 4))
        elif isinstance(bw_method, str):
            raise ValueError("`bw_method` should be 'scott', 'silverman', a scalar or a "
                             f"callable; got {bw_method!r}")
        elif callable(bw_method):
            factor = bw_method(self)
        elif jnp.ndim(bw_method) == 0:
            factor = bw_method
        else:
            raise ValueError("`bw_method` should be 'scott', 'silverman', a scalar or a "
                             f"callable; got an array of shape {jnp.shape(bw_method)}")
        factor = jnp.asarray(factor, dataset.dtype)
        data_cov = jnp.atleast_2d(jnp.cov(dataset, rowvar=True, bias=False,
                                          aweights=weights))
        self.covariance = data_cov * factor ** 2
        self.inv_cov = jnp.linalg.inv(data_cov) / factor ** 2

    # -- pytree --------------------------------------------------------------------------
    def tree_flatten(self):
        """Leaves ``(neff, dataset, weights, covariance, inv_cov)``; no static data."""
        return (self.neff, self.dataset, self.weights, self.covariance, self.inv_cov), None

    @classmethod
    def tree_unflatten(cls, aux_data, children):
        """Rebuild an estimate from ``tree_flatten``'s leaves (no bandwidth computation)."""
        del aux_data
        obj = object.__new__(cls)
        obj.neff, obj.dataset, obj.weights, obj.covariance, obj.inv_cov = children
        return obj

    @property
    def d(self):
        """Number of dimensions."""
        return self.dataset.shape[0]

    @property
    def n(self):
        """Number of data points."""
        return self.dataset.shape[1]

    # -- densities -----------------------------------------------------------------------
    def _points(self, points):
        points = jnp.atleast_2d(_float_array(points, "points")).astype(self.dataset.dtype)
        if points.ndim != 2:
            raise ValueError(f"points must be at most two-dimensional; got shape "
                             f"{points.shape}")
        d, m = points.shape
        if d != self.d:
            if d == 1 and m == self.d:  # a single point given as a row
                return points.reshape(self.d, 1)
            raise ValueError(f"points have dimension {d}, dataset has dimension {self.d}")
        return points

    def _log_kernel(self, points):
        """``log N(point; data_i, covariance)`` for every data point i and point: ``(n, m)``."""
        diff = self.dataset[:, :, None] - points[:, None, :]  # (d, n, m)
        energy = jnp.einsum("inm,ij,jnm->nm", diff, self.inv_cov, diff)
        _, log_det = jnp.linalg.slogdet(self.covariance)
        return -0.5 * energy - 0.5 * (self.d * math.log(2 * math.pi) + log_det)

    def evaluate(self, points):
        """The estimated density at ``points`` (shape ``(d, m)``, or ``(m,)`` when ``d`` is
        1, or ``(d,)`` for one point); returns shape ``(m,)``."""
        points = self._points(points)
        return jnp.sum(self.weights[:, None] * jnp.exp(self._log_kernel(points)), axis=0)

    def __call__(self, points):
        """Same as ``evaluate``."""
        return self.evaluate(points)

    def pdf(self, x):
        """Same as ``evaluate``."""
        return self.evaluate(x)

    def logpdf(self, x):
        """Log of the estimated density at ``x`` (computed with ``logsumexp``)."""
        points = self._points(x)
        return logsumexp(self._log_kernel(points), axis=0, b=self.weights[:, None])

    # -- integrals -----------------------------------------------------------------------
    def integrate_gaussian(self, mean, cov):
        """Integral of the product of the estimate and the normal density N(mean, cov)."""
        mean = jnp.atleast_1d(jnp.squeeze(_float_array(mean, "mean")))
        cov = jnp.atleast_2d(_float_array(cov, "cov"))
        if mean.shape != (self.d,):
            raise ValueError(f"mean does not have dimension {self.d}")
        if cov.shape != (self.d, self.d):
            raise ValueError(f"covariance does not have dimension {self.d}")
        return self._gaussian_overlap(self.dataset, self.weights, mean[:, None],
                                      jnp.ones((1,), self.dataset.dtype),
                                      self.covariance + cov)

    def integrate_box_1d(self, low, high):
        """Integral of a one-dimensional estimate between ``low`` and ``high``."""
        if self.d != 1:
            raise ValueError("integrate_box_1d() only handles 1D pdfs")
        stdev = jnp.sqrt(self.covariance[0, 0])
        lo = (jnp.asarray(low) - self.dataset[0]) / stdev
        hi = (jnp.asarray(high) - self.dataset[0]) / stdev
        return jnp.sum(self.weights * (ndtr(hi) - ndtr(lo)))

    def integrate_box(self, low_bounds, high_bounds, maxpts=None):
        """Not supported (as in JAX): use ``integrate_box_1d`` for one dimension."""
        raise NotImplementedError("only 1D box integrations are supported; use "
                                  "`integrate_box_1d`")

    def integrate_kde(self, other):
        """Integral of the product of this estimate and ``other`` (same ``d``)."""
        if not isinstance(other, gaussian_kde):
            raise TypeError(f"other must be a gaussian_kde; got {type(other).__name__}")
        if other.d != self.d:
            raise ValueError("KDEs are not the same dimensionality")
        return self._gaussian_overlap(self.dataset, self.weights, other.dataset,
                                      other.weights, self.covariance + other.covariance)

    @staticmethod
    def _gaussian_overlap(x, wx, y, wy, cov):
        """``sum_ij wx_i wy_j N(x_i - y_j; 0, cov)`` for point sets ``x`` (d, n), ``y`` (d, m)."""
        d = x.shape[0]
        diff = x[:, :, None] - y[:, None, :]
        inv = jnp.linalg.inv(cov)
        energy = jnp.einsum("inm,ij,jnm->nm", diff, inv, diff)
        _, log_det = jnp.linalg.slogdet(cov)
        dens = jnp.exp(-0.5 * energy - 0.5 * (d * math.log(2 * math.pi) + log_det))
        return jnp.sum(wx[:, None] * wy[None, :] * dens)

    # -- sampling ------------------------------------------------------------------------
    def resample(self, key, shape=()):
        """Draw samples of shape ``(d, *shape)`` from the estimate: pick data points by
        weight and add normal noise of the kernel covariance.

        Args:
          key: a PRNG key.
          shape: the batch shape of the samples.
        """
        shape = tuple(shape) if not isinstance(shape, int) else (shape,)
        ind_key, eps_key = random.split(key)
        ind = random.choice(ind_key, self.n, shape=shape, p=self.weights)
        eps = random.multivariate_normal(eps_key, jnp.zeros((self.d,), self.dataset.dtype),
                                         self.covariance, shape=shape,
                                         dtype=self.dataset.dtype)  # (*shape, d)
        return self.dataset[:, ind] + jnp.moveaxis(eps, -1, 0)

    def set_bandwidth(self, bw_method=None):
        """Not supported (as in JAX): build a new ``gaussian_kde`` instead."""
        raise NotImplementedError("dynamically changing the bandwidth method is not "
                                  "supported; construct a new gaussian_kde instead")
