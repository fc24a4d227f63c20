"""Samplers built on loops or linear algebra: ``gamma``/``loggamma`` (Marsaglia-Tsang with
rejection, one ``while_loop`` per element, vectorised with ``vmap`` inside the
``random_gamma_p`` primitive of gamma_primitive.py), ``beta``, ``dirichlet``,
``chisquare``, ``t``, ``poisson`` (Knuth / Hormann's transformed rejection), ``binomial``
(inversion / BTRS), ``multivariate_normal``, ``orthogonal``, ``ball``.

They follow JAX's algorithms and key usage, so results agree with JAX to float tolerance
(rejection loops consume the same subkeys in the same order).
"""
from __future__ import annotations

import functools
import math

import numpy as np

from jaxel import dtypes
from jaxel import lax
from jaxel import numpy as jnp
from jaxel.api import jit
from jaxel.random._util import (broadcast_param_shapes, canonical_shape, check_safe_cast,
                                check_shape, float_dtype)
from jaxel.random.gamma_primitive import random_gamma_p
from jaxel.random.key_reuse import consumes
from jaxel.random.keys import raw_data
from jaxel.random.samplers import (_exponential, _normal, _subkeys, _uniform, _rademacher_jit)


def _static_jit(*names):
    return functools.partial(jit, static_argnames=names)


# ---- gamma ------------------------------------------------------------------------------------
def _gamma_one(data, alpha, log_space):
    dt = alpha.dtype
    c_ = lambda v: np.array(v, dt)  # noqa: E731
    zero, one = c_(0), c_(1)
    boost_mask = lax.ge(alpha, one)
    alpha_orig = alpha
    alpha = lax.select(boost_mask, alpha, lax.add(alpha, one))
    d = lax.sub(alpha, c_(1 / 3))
    c = lax.div(c_(1 / 3), lax.sqrt(d))

    def cond(state):
        _, X, V, U = state
        return lax.bitwise_and(
            lax.ge(U, lax.sub(one, lax.mul(c_(0.0331), lax.mul(X, X)))),
            lax.ge(lax.log(U), lax.add(lax.mul(X, c_(0.5)),
                                       lax.mul(d, lax.add(lax.sub(one, V), lax.log(V))))))

    def body(state):
        def next_xv(kxv):
            k, sub = _subkeys(kxv[0], 2)
            x = _normal(sub, (), dt)
            return k, x, lax.add(one, lax.mul(x, c))

        k, x_key, u_key = _subkeys(state[0], 3)
        _, x, v = lax.while_loop(lambda kxv: lax.le(kxv[2], zero), next_xv,
                                 (x_key, zero, c_(-1)))
        X = lax.mul(x, x)
        V = lax.mul(lax.mul(v, v), v)
        U = _uniform(u_key, (), dt)
        return k, X, V, U

    k, sub = _subkeys(data, 2)
    _, _, V, _ = lax.while_loop(cond, body, (k, zero, one, c_(2)))
    if log_space:
        log_samples = lax.neg(_exponential(sub, (), dt))
        log_boost = lax.select(lax.bitwise_or(boost_mask, log_samples == 0), zero,
                               lax.mul(log_samples, lax.div(one, alpha_orig)))
        return lax.add(lax.add(lax.log(d), lax.log(V)), log_boost)
    samples = lax.sub(one, _uniform(sub, (), dt))
    boost = lax.select(boost_mask, one, lax.pow(samples, lax.div(one, alpha_orig)))
    return lax.mul(lax.mul(d, V), boost)


def _gamma(data, a, shape, dtype, log_space):
    a = jnp.broadcast_to(lax.convert_element_type(a, dtype), shape)
    n = math.prod(shape)
    if n == 0:
        return jnp.zeros(shape, dtype)
    # One primitive application (the key split n ways, vmapped _gamma_one), differentiable
    # in ``a``.
    return random_gamma_p.bind(data, a, log_space=log_space)


_gamma_jit = _static_jit("shape", "dtype", "log_space")(_gamma)


def _gamma_public(name, log_space):
    @consumes(name)
    def sampler(key, a, shape=None, dtype=None):
        data = raw_data(key, name)
        dt = float_dtype(dtype, name)
        shape = broadcast_param_shapes(name, shape, a)
        return _gamma_jit(data, a, shape=shape, dtype=dt, log_space=log_space)
    sampler.__name__ = sampler.__qualname__ = name
    return sampler


gamma = _gamma_public("gamma", False)
gamma.__doc__ = "Gamma(a, 1) draws (Marsaglia-Tsang; JAX's stream)."
loggamma = _gamma_public("loggamma", True)
loggamma.__doc__ = "log of Gamma(a, 1) draws, computed in log space (accurate for small a)."


@consumes("beta")
def beta(key, a, b, shape=None, dtype=None):
    """Beta(a, b) draws, from two log-gamma draws."""
    data = raw_data(key, "beta")
    dt = float_dtype(dtype, "beta")
    check_safe_cast("beta", dt, a, b)
    shape = broadcast_param_shapes("beta", shape, a, b)
    return _beta_jit(data, a, b, shape=shape, dtype=dt)


@_static_jit("shape", "dtype")
def _beta_jit(data, a, b, shape, dtype):
    ka, kb = _subkeys(data, 2)
    lga = _gamma(ka, a, shape, dtype, True)
    lgb = _gamma(kb, b, shape, dtype, True)
    m = lax.max(lga, lgb)
    ga, gb = jnp.exp(lga - m), jnp.exp(lgb - m)
    return ga / (ga + gb)


@consumes("dirichlet")
def dirichlet(key, alpha, shape=None, dtype=None):
    """Dirichlet(alpha) draws over the last axis of ``alpha``."""
    data = raw_data(key, "dirichlet")
    dt = float_dtype(dtype, "dirichlet")
    if np.ndim(alpha) < 1:
        raise ValueError(f"dirichlet requires alpha.ndim >= 1, got alpha.ndim == {np.ndim(alpha)}")
    ashape = np.shape(alpha)
    if shape is None:
        shape = ashape[:-1]
    else:
        shape = canonical_shape(shape, "dirichlet")
        check_shape("dirichlet", shape, ashape[:-1])
    return _dirichlet_jit(data, alpha, shape=tuple(shape) + ashape[-1:], dtype=dt)


@_static_jit("shape", "dtype")
def _dirichlet_jit(data, alpha, shape, dtype):
    lg = _gamma(data, alpha, shape, dtype, True)
    lg = lg - jnp.max(lg, axis=-1, keepdims=True)
    e = jnp.exp(lg)
    return e / jnp.sum(e, axis=-1, keepdims=True)


@consumes("chisquare")
def chisquare(key, df, shape=None, dtype=None):
    """Chi-square(df) draws: 2 * Gamma(df / 2)."""
    data = raw_data(key, "chisquare")
    dt = float_dtype(dtype, "chisquare")
    check_safe_cast("chisquare", dt, df)
    shape = broadcast_param_shapes("chisquare", shape, df)
    return _chisquare_jit(data, df, shape=shape, dtype=dt)


@_static_jit("shape", "dtype")
def _chisquare_jit(data, df, shape, dtype):
    half = lax.div(lax.convert_element_type(df, dtype), np.array(2, dtype))
    return jnp.exp(_gamma(data, half, shape, dtype, True)) * np.array(2, dtype)


@consumes("t")
def t(key, df, shape=None, dtype=None):
    """Student's t(df) draws."""
    data = raw_data(key, "t")
    dt = float_dtype(dtype, "t")
    check_safe_cast("t", dt, df)
    shape = broadcast_param_shapes("t", shape, df)
    return _t_jit(data, df, shape=shape, dtype=dt)


@_static_jit("shape", "dtype")
def _t_jit(data, df, shape, dtype):
    kn, kg = _subkeys(data, 2)
    n = _normal(kn, shape, dtype)
    half = lax.div(lax.convert_element_type(df, dtype), np.array(2, dtype))
    g = _gamma(kg, half, shape, dtype, False)
    return n * jnp.sqrt(half / g)


# ---- poisson ----------------------------------------------------------------------------------
def _poisson_knuth(data, lam, shape, dtype, max_iters):
    def body(carry):
        i, k, key, log_prod = carry
        key, sub = _subkeys(key, 2)
        k = lax.select(log_prod > -lam, k + 1, k)
        u = _uniform(sub, shape, np.dtype(np.float32))
        return i + 1, k, key, log_prod + jnp.log(u)

    def cond(carry):
        i, log_prod = carry[0], carry[3]
        return jnp.any(log_prod > -lam) & (i < max_iters)

    init = (jnp.zeros((), np.int32), jnp.zeros(shape, dtype), data,
            jnp.zeros(shape, np.float32))
    k = lax.while_loop(cond, body, init)[1]
    return (k - 1).astype(dtype)


def _poisson_rejection(data, lam, shape, dtype, max_iters):
    log_lam = lax.log(lam)
    b = 0.931 + 2.53 * lax.sqrt(lam)
    a = -0.059 + 0.02483 * b
    inv_alpha = 1.1239 + 1.1328 / (b - 3.4)
    v_r = 0.9277 - 3.6224 / (b - 2)

    def body(carry):
        i, k_out, accepted, key = carry
        key, s0, s1 = _subkeys(key, 3)
        u = _uniform(s0, shape, lam.dtype) - 0.5
        v = _uniform(s1, shape, lam.dtype)
        us = 0.5 - abs(u)
        k = lax.floor((2 * a / us + b) * u + lam + 0.43)
        s = lax.log(v * inv_alpha / (a / (us * us) + b))
        tt = -lam + k * log_lam - lax.lgamma(k + 1)
        accept1 = (us >= 0.07) & (v <= v_r)
        reject = (k < 0) | ((us < 0.013) & (v > us))
        accept = accept1 | (~reject & (s <= tt))
        # the first accepted k is kept (JAX 0.12.1; 0.10 let a later acceptance overwrite it)
        return i + 1, lax.select(accept & ~accepted, k, k_out), accepted | accept, key

    def cond(carry):
        return jnp.any(~carry[2]) & (carry[0] < max_iters)

    init = (jnp.zeros((), np.int32), jnp.full(shape, -1, lam.dtype),
            jnp.zeros(shape, bool), data)
    return lax.while_loop(cond, body, init)[1].astype(dtype)


@_static_jit("shape", "dtype")
def _poisson_jit(data, lam, shape, dtype):
    use_knuth = ~jnp.isfinite(lam) | (lam < 10)
    lam_knuth = lax.select(lam < 10, lam, jnp.zeros_like(lam))
    lam_rej = lax.select(use_knuth, jnp.full_like(lam, 1e5), lam)
    max_iters = np.array(np.iinfo(np.int32).max, np.int32)
    result = lax.select(use_knuth, _poisson_knuth(data, lam_knuth, shape, dtype, max_iters),
                        _poisson_rejection(data, lam_rej, shape, dtype, max_iters))
    return lax.select(lam == 0, jnp.zeros_like(result), result)


@consumes("poisson")
def poisson(key, lam, shape=None, dtype=None):
    """Poisson(lam) draws (integer dtype, default int)."""
    data = raw_data(key, "poisson")
    dt = dtypes.check_and_canonicalize_user_dtype(int if dtype is None else dtype)
    shape = tuple(np.shape(lam)) if shape is None else canonical_shape(shape, "poisson")
    lam = lax.convert_element_type(jnp.broadcast_to(lam, shape), np.float32)
    return _poisson_jit(data, lam, shape=shape, dtype=dt)


# ---- binomial ---------------------------------------------------------------------------------
_STIRLING_TAIL = [0.0810614667953272, 0.0413406959554092, 0.0276779256849983,
                  0.02079067210376509, 0.0166446911898211, 0.0138761288230707,
                  0.0118967099458917, 0.0104112652619720, 0.00925546218271273,
                  0.00833056343336287]


def _stirling_tail(k):
    vals = jnp.asarray(np.array(_STIRLING_TAIL, k.dtype))
    use = k <= 9
    k = lax.clamp(np.array(0.0, k.dtype), k, np.array(9.0, k.dtype))
    kp1sq = (k + 1) * (k + 1)
    approx = (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / kp1sq) / kp1sq) / (k + 1)
    return lax.select(use, jnp.take(vals, jnp.floor(k).astype(np.int32)), approx)


def _binomial_inversion(data, count, prob, shape, dtype, max_iters):
    log1mp = jnp.log1p(-prob)

    def body(carry):
        i, num_geom, geom_sum, key = carry
        sub, key = _subkeys(key, 2)
        num_geom = lax.select(geom_sum <= count, num_geom + 1, num_geom)
        u = _uniform(sub, shape, prob.dtype)
        return i + 1, num_geom, geom_sum + jnp.ceil(jnp.log(u) / log1mp), key

    def cond(carry):
        return jnp.any(carry[2] <= count) & (carry[0] < max_iters)

    init = (jnp.zeros((), np.int32), jnp.zeros(shape, prob.dtype), jnp.zeros(shape, prob.dtype),
            data)
    return (lax.while_loop(cond, body, init)[1] - 1).astype(dtype)


def _btrs(data, count, prob, shape, dtype, max_iters):
    stddev = jnp.sqrt(count * prob * (1 - prob))
    b = 1.15 + 2.53 * stddev
    a = -0.0873 + 0.0248 * b + 0.01 * prob
    c = count * prob + 0.5
    v_r = 0.92 - 4.2 / b
    r = prob / (1 - prob)
    alpha = (2.83 + 5.1 / b) * stddev
    m = jnp.floor((count + 1) * prob)

    def body(carry):
        i, k_out, accepted, key = carry
        key, s0, s1 = _subkeys(key, 3)
        u = _uniform(s0, shape, prob.dtype) - 0.5
        v = _uniform(s1, shape, prob.dtype)
        us = 0.5 - jnp.abs(u)
        accept1 = (us >= 0.07) & (v <= v_r)
        k = jnp.floor((2 * a / us + b) * u + c)
        reject = (k < 0) | (k > count)
        v = jnp.log(v * alpha / (a / (us * us) + b))
        ub = ((m + 0.5) * jnp.log((m + 1) / (r * (count - m + 1)))
              + (count + 1) * jnp.log((count - m + 1) / (count - k + 1))
              + (k + 0.5) * jnp.log(r * (count - k + 1) / (k + 1))
              + _stirling_tail(m) + _stirling_tail(count - m)
              - _stirling_tail(k) - _stirling_tail(count - k))
        accept = accept1 | (~reject & (v <= ub))
        # a later acceptance overwrites k (as JAX's binomial; its poisson keeps the first)
        return i + 1, lax.select(accept, k, k_out), accepted | accept, key

    def cond(carry):
        return jnp.any(~carry[2]) & (carry[0] < max_iters)

    init = (jnp.zeros((), np.int32), jnp.full(shape, -1, prob.dtype), jnp.zeros(shape, bool), data)
    return lax.while_loop(cond, body, init)[1].astype(dtype)


@_static_jit("shape", "dtype")
def _binomial_jit(data, count, prob, shape, dtype):
    count = jnp.broadcast_to(lax.convert_element_type(count, prob.dtype), shape)
    prob = jnp.broadcast_to(prob, shape)
    p_lt_half = prob < 0.5
    q = lax.select(p_lt_half, prob, 1.0 - prob)
    count_bad = jnp.isnan(count) | (count < 0.0)
    count_inf = jnp.isinf(count)
    q_nan = jnp.isnan(q)
    q_neg = q < 0.0
    q = lax.select(q_nan | q_neg, jnp.full_like(q, 0.01), q)
    use_inv = count_bad | (count * q <= 10.0)
    count = jnp.floor(count)
    count_inv = lax.select(use_inv, count, jnp.zeros_like(count))
    count_btrs = lax.select(use_inv, jnp.full_like(count, 1e4), count)
    q_btrs = lax.select(use_inv, jnp.full_like(q, 0.5), q)
    max_iters = np.array(np.iinfo(np.int32).max, np.int32)
    samples = lax.select(use_inv, _binomial_inversion(data, count_inv, q, shape, dtype, max_iters),
                         _btrs(data, count_btrs, q_btrs, shape, dtype, max_iters))
    invalid = q_neg | q_nan | count_bad
    samples = lax.select(invalid, jnp.full_like(samples, np.nan), samples)
    samples = lax.select(count_inf & ~invalid, jnp.full_like(samples, np.inf), samples)
    return lax.select(p_lt_half | count_bad | q_nan | count_inf, samples,
                      count.astype(dtype) - samples)


@consumes("binomial")
def binomial(key, n, p, shape=None, dtype=None):
    """Binomial(n, p) draws as floats (inversion for small n*p, BTRS otherwise)."""
    data = raw_data(key, "binomial")
    dt = float_dtype(dtype, "binomial")
    shape = broadcast_param_shapes("binomial", shape, n, p)
    p = jnp.asarray(p)
    if not dtypes.issubdtype(p.dtype, np.inexact):
        p = p.astype(dtypes.default_float_dtype())
    return _binomial_jit(data, n, p, shape=shape, dtype=dt)


# ---- linear-algebra based ---------------------------------------------------------------------
def _factor(cov, method):
    """A matrix ``F`` with ``F @ F.T == cov`` (batched), by JAX's ``method``."""
    if method == "cholesky":
        return jnp.linalg.cholesky(cov)
    if method == "eigh":
        w, v = jnp.linalg.eigh(cov)
        return v * jnp.sqrt(w[..., None, :])
    u, s, _ = jnp.linalg.svd(cov)
    return u * jnp.sqrt(s[..., None, :])


def _qr_positive(z):
    # Q of a QR factorisation, normalised so R has a positive diagonal (as JAX does).
    q, r = jnp.linalg.qr(z)
    d = jnp.diagonal(r, 0, -2, -1)
    return q * jnp.expand_dims(jnp.sign(d), -2)


@consumes("multivariate_normal")
def multivariate_normal(key, mean, cov, shape=None, dtype=None, method="cholesky"):
    """Multivariate normal draws ``mean + F @ z`` with ``F @ F.T == cov``, ``F`` from the
    ``method``: "cholesky" (default), "eigh" or "svd"."""
    data = raw_data(key, "multivariate_normal")
    if method not in ("cholesky", "eigh", "svd"):
        raise ValueError(f"multivariate_normal: method must be 'cholesky', 'eigh' or 'svd', "
                         f"got {method!r}.")
    mean, cov = jnp.asarray(mean), jnp.asarray(cov)
    dt0 = dtypes.result_type(mean, cov)
    if not dtypes.issubdtype(dt0, np.inexact):
        dt0 = dtypes.default_float_dtype()
    dt = dt0 if dtype is None else float_dtype(dtype, "multivariate_normal")
    if mean.ndim < 1:
        raise ValueError(f"multivariate_normal requires mean.ndim >= 1, got mean.ndim == {mean.ndim}")
    if cov.ndim < 2:
        raise ValueError(f"multivariate_normal requires cov.ndim >= 2, got cov.ndim == {cov.ndim}")
    n = mean.shape[-1]
    if cov.shape[-2:] != (n, n):
        raise ValueError(f"multivariate_normal requires cov.shape == (..., n, n) for n={n}, but "
                         f"got cov.shape == {cov.shape}.")
    if shape is None:
        shape = tuple(jnp.broadcast_shapes(mean.shape[:-1], cov.shape[:-2]))
    else:
        shape = canonical_shape(shape, "multivariate_normal")
        check_shape("normal", shape, mean.shape[:-1], cov.shape[:-2])
    return _mvn_jit(data, mean.astype(dt0), cov.astype(dt0), shape=shape, dtype=dt,
                    method=method)


@_static_jit("shape", "dtype", "method")
def _mvn_jit(data, mean, cov, shape, dtype, method):
    factor = _factor(cov, method)
    z = _normal(data, shape + mean.shape[-1:], dtype)
    return mean + jnp.einsum("...ij,...j->...i", factor, z)


@consumes("orthogonal")
def orthogonal(key, n, shape=(), dtype=None, m=None):
    """Haar-random ``n x m`` matrices with orthonormal columns (or rows when n < m)."""
    data = raw_data(key, "orthogonal")
    dt = float_dtype(dtype, "orthogonal")
    n = int(n)
    m = n if m is None else int(m)
    return _orthogonal_jit(data, n=n, m=m, shape=canonical_shape(shape, "orthogonal"), dtype=dt)


@_static_jit("n", "m", "shape", "dtype")
def _orthogonal_jit(data, n, m, shape, dtype):
    z = _normal(data, (*shape, max(n, m), min(n, m)), dtype)
    x = _qr_positive(z)
    return jnp.swapaxes(x, -1, -2) if n < m else x


@consumes("ball")
def ball(key, d, p=2, shape=(), dtype=None):
    """Uniform draws from the unit Lp ball in ``d`` dimensions; result shape ``(*shape, d)``."""
    data = raw_data(key, "ball")
    dt = float_dtype(dtype, "ball")
    return _ball_jit(data, p, d=int(d), shape=canonical_shape(shape, "ball"), dtype=dt)


@_static_jit("d", "shape", "dtype")
def _ball_jit(data, p, d, shape, dtype):
    k1, k2 = _subkeys(data, 2)
    # generalized normal: Gamma(1/p)^(1/p) with a random sign
    ka, kb = _subkeys(k1, 2)
    g = _gamma(ka, 1 / p, (*shape, d), dtype, False)
    r = _rademacher_jit(kb, shape=(*shape, d), dtype=dtype)
    g = r * g ** (1 / p)
    e = _exponential(k2, shape, dtype)
    return g / (((jnp.abs(g) ** p).sum(-1) + e) ** (1 / p))[..., None]
