"""Samplers that are closed-form transforms of the basic draws, with JAX's streams:
``rayleigh``, ``pareto``, ``weibull_min``, ``lognormal``, ``triangular``, ``wald``, ``maxwell``,
``double_sided_maxwell`` (uniform/normal/exponential draws), and the gamma/binomial-based
``generalized_normal``, ``f`` and ``multinomial``.

Each public function checks its arguments, then calls a jitted body with the raw key data and
static shape/dtype (as ``samplers.py`` does). The bodies reuse the traceable implementations of
the existing samplers (``_uniform``, ``_normal``, ``_gamma`` ...), consuming subkeys in the same
order as JAX, so the results are bit-identical to ``jax.random``'s. ``maxwell`` (a sum of
three squares) hashes its bits with the rolled Threefry loop, as JAX does on CPU: XLA picks a
reduction's accumulation order per fusion, and only with the same fusion boundary does it pick
JAX's.
"""
from __future__ import annotations

import functools

import numpy as np

from jaxel import dtypes
from jaxel import lax
from jaxel import numpy as jnp
from jaxel.api import jit
from jaxel.random import threefry
from jaxel.random._util import (broadcast_param_shapes, canonical_shape, check_safe_cast,
                                check_shape, float_dtype)
from jaxel.random.distributions import _binomial_jit, _gamma
from jaxel.random.key_reuse import consumes
from jaxel.random.keys import raw_data
from jaxel.random.samplers import (_exponential, _normal, _normal_real, _rademacher_jit,
                                   _subkeys, _uniform)


def _static_jit(*names):
    return functools.partial(jit, static_argnames=names)


def _cast(x, dtype):
    return lax.convert_element_type(x, dtype)


def _shape_plus_params(name, shape, *params):
    """``shape`` broadcast with the parameters' shapes (for samplers whose ``shape`` argument
    defaults to ``()`` and whose parameters broadcast against the draw)."""
    shape = canonical_shape(shape, name)
    pshapes = [tuple(np.shape(p)) for p in params]
    try:
        return tuple(jnp.broadcast_shapes(shape, *pshapes))
    except ValueError:
        raise ValueError(f"jaxel.random.{name}: the parameter shapes {pshapes} do not broadcast "
                         f"with the shape argument {shape}.") from None


# ---- uniform-based ----------------------------------------------------------------------------
@_static_jit("shape", "dtype")
def _rayleigh_jit(data, scale, shape, dtype):
    u = _uniform(data, shape, dtype)
    scale = jnp.broadcast_to(_cast(scale, dtype), shape)
    return lax.mul(scale, lax.sqrt(lax.mul(lax.log(u), np.array(-2, dtype))))


@consumes("rayleigh")
def rayleigh(key, scale, shape=None, dtype=None):
    """Rayleigh draws with the given ``scale``: ``scale * sqrt(-2 log U)`` for a uniform ``U``.

    ``shape`` defaults to ``np.shape(scale)``; otherwise ``scale`` must broadcast to it.
    ``dtype`` must be a float dtype (default: the default float dtype).
    """
    data = raw_data(key, "rayleigh")
    dt = float_dtype(dtype, "rayleigh")
    check_safe_cast("rayleigh", dt, scale)
    shape = broadcast_param_shapes("rayleigh", shape, scale)
    return _rayleigh_jit(data, scale, shape=shape, dtype=dt)


@_static_jit("shape", "dtype")
def _weibull_min_jit(data, scale, concentration, shape, dtype):
    u = _uniform(data, shape, dtype)
    # parameters are not cast: they promote with the draw, as in JAX
    # inverse of the cdf 1 - exp(-(x / scale) ** concentration)
    return scale * (-jnp.log1p(-u)) ** (1 / concentration)


@consumes("weibull_min")
def weibull_min(key, scale, concentration, shape=(), dtype=None):
    """Weibull draws with density proportional to ``x**(c-1) exp(-(x/scale)**c)`` (``c`` the
    ``concentration``), by inverting the cdf of one uniform draw.

    As in JAX, ``shape`` (default ``()``) is the shape of the uniform draw, and the result has
    the broadcast shape of ``shape``, ``scale`` and ``concentration``.
    """
    data = raw_data(key, "weibull_min")
    dt = float_dtype(dtype, "weibull_min")
    _shape_plus_params("weibull_min", shape, scale, concentration)
    return _weibull_min_jit(data, scale, concentration,
                            shape=canonical_shape(shape, "weibull_min"), dtype=dt)


@_static_jit("shape", "dtype")
def _triangular_jit(data, left, mode, right, shape, dtype):
    left, mode, right = (jnp.broadcast_to(_cast(v, dtype), shape) for v in (left, mode, right))
    width = right - left
    cut = (mode - left) / width
    u = _uniform(data, shape, dtype)
    below = left + jnp.sqrt(u * width * (mode - left))
    above = right - jnp.sqrt((1 - u) * width * (right - mode))
    return jnp.where(u < cut, below, above)


@consumes("triangular")
def triangular(key, left, mode, right, shape=None, dtype=None):
    """Triangular draws on ``[left, right]`` peaking at ``mode``, by inverting the cdf.

    ``shape`` defaults to the broadcast shape of the three parameters, which must otherwise
    broadcast to it; ``dtype`` must be a float dtype.
    """
    data = raw_data(key, "triangular")
    dt = float_dtype(dtype, "triangular")
    check_safe_cast("triangular", dt, left, mode, right)
    shape = broadcast_param_shapes("triangular", shape, left, mode, right)
    return _triangular_jit(data, left, mode, right, shape=shape, dtype=dt)


# ---- exponential-based ------------------------------------------------------------------------
@_static_jit("shape", "dtype")
def _pareto_jit(data, b, shape, dtype):
    b = jnp.broadcast_to(_cast(b, dtype), shape)
    e = _exponential(data, shape, dtype)
    return lax.exp(e / b)


@consumes("pareto")
def pareto(key, b, shape=None, dtype=None):
    """Pareto draws with shape parameter ``b`` (support ``x >= 1``): ``exp(E / b)`` for a
    standard exponential ``E``.

    ``shape`` defaults to ``np.shape(b)``; ``dtype`` must be a float dtype.
    """
    data = raw_data(key, "pareto")
    dt = float_dtype(dtype, "pareto")
    check_safe_cast("pareto", dt, b)
    shape = broadcast_param_shapes("pareto", shape, b)
    return _pareto_jit(data, b, shape=shape, dtype=dt)


# ---- normal-based -----------------------------------------------------------------------------
@_static_jit("shape", "dtype")
def _lognormal_jit(data, sigma, shape, dtype):
    sigma = _cast(sigma, dtype)
    return jnp.exp(_normal(data, shape, dtype) * sigma)


@consumes("lognormal")
def lognormal(key, sigma=np.float32(1.0), shape=None, dtype=None):
    """Log-normal draws ``exp(sigma * Z)`` for a standard normal ``Z``.

    ``shape`` defaults to ``()`` (as in JAX, not to ``sigma``'s shape); ``sigma`` must broadcast
    to it. ``dtype`` must be a float (or complex) dtype.
    """
    data = raw_data(key, "lognormal")
    dt = dtypes.check_and_canonicalize_user_dtype(float if dtype is None else dtype)
    if not dtypes.issubdtype(dt, np.inexact):
        raise ValueError(f"dtype argument to `lognormal` must be a float or complex dtype, "
                         f"got {dt}")
    check_safe_cast("lognormal", dt, sigma)
    shape = () if shape is None else canonical_shape(shape, "lognormal")
    broadcast_param_shapes("lognormal", shape, sigma)
    return _lognormal_jit(data, sigma, shape=shape, dtype=dt)


def _maxwell(data, shape, dtype):
    # The bits come from the rolled hash: a fusion boundary before the float code, as in JAX,
    # so XLA picks the same accumulation order for the 3-term sum of squares.
    z = _normal_real(data, (*shape, 3), dtype, rolled=True)
    return jnp.linalg.norm(z, axis=-1)


_maxwell_jit = _static_jit("shape", "dtype")(_maxwell)


@consumes("maxwell")
def maxwell(key, shape=(), dtype=None):
    """Maxwell(-Boltzmann) draws: the length of a standard normal vector in three dimensions."""
    data = raw_data(key, "maxwell")
    dt = float_dtype(dtype, "maxwell")
    return _maxwell_jit(data, shape=canonical_shape(shape, "maxwell"), dtype=dt)


@_static_jit("shape", "dtype")
def _double_sided_maxwell_jit(data, loc, scale, shape, dtype):
    k_mag, k_sign = _subkeys(data, 2)
    mag = _maxwell(k_mag, shape, dtype)
    sign = _rademacher_jit(k_sign, shape=shape, dtype=dtype)
    return loc + scale * sign * mag   # parameters promote with the draw, as in JAX


@consumes("double_sided_maxwell")
def double_sided_maxwell(key, loc, scale, shape=(), dtype=None):
    """Double-sided Maxwell draws ``loc + scale * S * M``: ``M`` a Maxwell draw, ``S`` a random
    sign.

    As in JAX, ``shape`` is *prepended* to the broadcast shape ``P`` of ``loc`` and ``scale``:
    the result has shape ``shape + P`` (and ``P + P`` when ``shape`` is empty).
    """
    data = raw_data(key, "double_sided_maxwell")
    dt = float_dtype(dtype, "double_sided_maxwell")
    shape = canonical_shape(shape, "double_sided_maxwell")
    try:
        pshape = tuple(jnp.broadcast_shapes(np.shape(loc), np.shape(scale)))
    except ValueError:
        raise ValueError(f"jaxel.random.double_sided_maxwell: loc (shape {np.shape(loc)}) and "
                         f"scale (shape {np.shape(scale)}) do not broadcast together.") from None
    full = (shape or pshape) + pshape
    return _double_sided_maxwell_jit(data, loc, scale, shape=full, dtype=dt)


@_static_jit("shape", "dtype")
def _wald_jit(data, mean, shape, dtype):
    k_norm, k_unif = _subkeys(data, 2)
    mu = jnp.broadcast_to(_cast(mean, dtype), shape)
    z = _normal(k_norm, shape, dtype)
    u = _uniform(k_unif, shape, dtype)
    # Michael, Schucany & Haas: the smaller root of the chi-square(1) transform, or its
    # reflection mu**2 / x with probability x / (mu + x).
    y = z * z
    mu2 = mu * mu
    root = jnp.sqrt(4 * mu * y + mu2 * (y * y))
    x = mu + mu2 * y / 2 - mu / 2 * root
    return jnp.where(u <= mu / (mu + x), x, mu2 / x)


@consumes("wald")
def wald(key, mean, shape=None, dtype=None):
    """Wald (inverse Gaussian) draws with the given ``mean`` (and unit shape parameter).

    ``shape`` defaults to ``np.shape(mean)``; ``dtype`` must be a float dtype.
    """
    data = raw_data(key, "wald")
    dt = float_dtype(dtype, "wald")
    check_safe_cast("wald", dt, mean)
    shape = broadcast_param_shapes("wald", shape, mean)
    return _wald_jit(data, mean, shape=shape, dtype=dt)


# ---- gamma / binomial based -------------------------------------------------------------------
@_static_jit("shape", "dtype")
def _generalized_normal_jit(data, p, shape, dtype):
    k_gamma, k_sign = _subkeys(data, 2)
    g = _gamma(k_gamma, 1 / p, shape, dtype, False)
    sign = _rademacher_jit(k_sign, shape=shape, dtype=dtype)
    return sign * g ** (1 / p)


@consumes("generalized_normal")
def generalized_normal(key, p, shape=(), dtype=None):
    """Generalized normal draws, density proportional to ``exp(-|x|**p)``: a random sign times
    ``G**(1/p)`` for ``G ~ Gamma(1/p)``.

    ``p`` (> 0) is usually a scalar; an array ``p`` must broadcast to ``shape`` (default ``()``).
    ``dtype`` must be a float dtype.
    """
    data = raw_data(key, "generalized_normal")
    dt = float_dtype(dtype, "generalized_normal")
    shape = canonical_shape(shape, "generalized_normal")
    check_shape("generalized_normal", shape, np.shape(p))
    return _generalized_normal_jit(data, p, shape=shape, dtype=dt)


@_static_jit("shape", "dtype")
def _f_jit(data, dfnum, dfden, shape, dtype):
    k_den, k_num = _subkeys(data, 2)
    dfnum = jnp.broadcast_to(_cast(dfnum, dtype), shape)
    dfden = jnp.broadcast_to(_cast(dfden, dtype), shape)
    # chi-square(df) = 2 * Gamma(df / 2), drawn in log space as ``chisquare`` does
    num = jnp.exp(_gamma(k_num, dfnum / 2, shape, dtype, True)) * np.array(2, dtype) / dfnum
    den = jnp.exp(_gamma(k_den, dfden / 2, shape, dtype, True)) * np.array(2, dtype) / dfden
    return num / den


@consumes("f")
def f(key, dfnum, dfden, shape=None, dtype=None):
    """F(dfnum, dfden) draws: the ratio of two chi-square draws, each divided by its degrees of
    freedom. ``shape`` defaults to the broadcast shape of ``dfnum`` and ``dfden``."""
    data = raw_data(key, "f")
    dt = float_dtype(dtype, "f")
    check_safe_cast("f", dt, dfnum, dfden)
    shape = broadcast_param_shapes("f", shape, dfnum, dfden)
    return _f_jit(data, dfnum, dfden, shape=shape, dtype=dt)


@_static_jit("shape", "dtype", "unroll")
def _multinomial_jit(data, n, p, shape, dtype, unroll):
    ncat = shape[-1]
    p = jnp.broadcast_to(p, shape)
    n = jnp.broadcast_to(_cast(n, p.dtype), shape[:-1])
    p = jnp.moveaxis(p, -1, 0)
    # Draw the categories in turn: category i gets Binomial(remaining trials, p_i / sum_{j>=i} p_j).
    tail = lax.cumsum(p, 0, reverse=True)
    cond = p / jnp.where(tail == 0, jnp.ones_like(tail), tail)
    keys = threefry.split_data(data, (ncat,))

    def step(remaining, xs):
        ratio, k = xs
        ratio = jnp.clip(ratio, 0, 1)
        count = _binomial_jit(k, remaining, ratio, shape=shape[:-1], dtype=remaining.dtype)
        return remaining - count, count

    _, counts = lax.scan(step, n, (cond, keys), unroll=unroll)
    return jnp.moveaxis(counts, 0, -1).astype(dtype)


@consumes("multinomial")
def multinomial(key, n, p, *, shape=None, dtype=None, unroll=1):
    """Multinomial draws: counts of ``n`` trials over the outcomes of the last axis of ``p``.

    As in JAX's implementation, ``shape`` (default ``p.shape``) is the full result shape,
    outcome axis included: ``p`` must broadcast to it and ``n`` to ``shape[:-1]``. (JAX's
    docstring calls ``shape`` the batch shape, but its code, and so jaxel, use the full shape.)
    The counts come back as ``dtype`` (default: the default float dtype; integer dtypes work
    too). ``unroll`` is passed to the ``lax.scan`` over outcomes.
    """
    data = raw_data(key, "multinomial")
    # like JAX, any dtype is accepted for the counts (they are cast at the end)
    dt = dtypes.check_and_canonicalize_user_dtype(float if dtype is None else dtype,
                                                  "multinomial")
    p = jnp.asarray(p)
    if p.ndim < 1:
        raise ValueError("jaxel.random.multinomial: p must have at least one dimension (the "
                         f"outcomes), got a scalar.")
    if not dtypes.issubdtype(p.dtype, np.inexact):
        p = p.astype(dtypes.default_float_dtype())
    shape = tuple(p.shape) if shape is None else canonical_shape(shape, "multinomial")
    if not shape:
        raise ValueError("jaxel.random.multinomial: shape must have at least one dimension (the "
                         "outcomes), got ().")
    try:
        ok = tuple(jnp.broadcast_shapes(shape, p.shape)) == shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"jaxel.random.multinomial: p of shape {tuple(p.shape)} does not "
                         f"broadcast to the shape argument {shape}.")
    try:
        ok = tuple(jnp.broadcast_shapes(shape[:-1], np.shape(n))) == shape[:-1]
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"jaxel.random.multinomial: n of shape {np.shape(n)} does not broadcast "
                         f"to the batch shape {shape[:-1]}.")
    return _multinomial_jit(data, n, p, shape=shape, dtype=dt, unroll=unroll)
