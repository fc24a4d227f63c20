"""Samplers whose streams are bit-identical to JAX's: ``bits``, ``uniform``, ``normal``,
``randint``, ``permutation``, and the simple transforms of uniform/normal draws (``bernoulli``,
``gumbel``, ``categorical``, ``choice``, ``truncated_normal``, ``exponential``, ``laplace``,
``logistic``, ``cauchy``, ``rademacher``, ``geometric``).

Each public function checks its arguments, then calls a jitted implementation with the raw key
data and static shape/dtype, so an eager draw is one compiled XLA program (like JAX's) and a
draw inside ``jit``/``vmap`` inlines into the enclosing program. Implementations call one
another's traceable bodies (``_uniform`` ...), never the public wrappers.
"""
from __future__ import annotations

import functools
import math

import numpy as np

from jaxel import dtypes
from jaxel import lax
from jaxel import numpy as jnp
from jaxel.api import jit
from jaxel.random import threefry
from jaxel.random._util import (broadcast_param_shapes, canonical_shape, check_shape,
                                float_dtype, int_dtype)
from jaxel.random.key_reuse import consumes
from jaxel.random.keys import raw_data

_UINT = {8: np.dtype(np.uint8), 16: np.dtype(np.uint16), 32: np.dtype(np.uint32),
         64: np.dtype(np.uint64)}


def _static_jit(*names):
    return functools.partial(jit, static_argnames=names)


def _subkeys(data, n):
    """``n`` raw subkeys (a list) of a raw key, as ``split`` makes them."""
    ks = threefry.split_data(data, (n,))
    return [lax.index_in_dim(ks, i, keepdims=False) for i in range(n)]


# ---- bits / uniform / normal ------------------------------------------------------------------
@consumes("bits")
def bits(key, shape=(), dtype=None):
    """Uniform random bits of an unsigned integer dtype (default uint32)."""
    data = raw_data(key, "bits")
    dt = dtypes.default_uint_dtype() if dtype is None else \
        dtypes.check_and_canonicalize_user_dtype(dtype)
    if not dtypes.issubdtype(dt, np.unsignedinteger):
        raise ValueError(f"dtype argument to `bits` must be an unsigned int dtype, got {dt}")
    return threefry.bits_data(data, dt.itemsize * 8, canonical_shape(shape, "bits"))


def _uniform(data, shape, dtype, minval=0.0, maxval=1.0, rolled=False):
    fi = dtypes.finfo(dtype)
    nbits, nmant = fi.bits, fi.nmant
    rng_bits = 8 if nmant < 8 else nbits
    u = threefry.random_bits(data, rng_bits, shape, rolled)
    udt = _UINT[nbits]
    if rng_bits != nbits:
        u = lax.convert_element_type(u, udt)
    one_bits = int(np.array(1.0, dtype).view(udt))
    fbits = lax.bitwise_or(lax.shift_right_logical(u, rng_bits - nmant), one_bits)
    floats = lax.sub(lax.bitcast_convert_type(fbits, dtype), 1.0)
    minval = jnp.broadcast_to(lax.convert_element_type(minval, dtype), shape)
    maxval = jnp.broadcast_to(lax.convert_element_type(maxval, dtype), shape)
    return lax.max(minval, lax.add(lax.mul(floats, lax.sub(maxval, minval)), minval))


_uniform_jit = _static_jit("shape", "dtype")(_uniform)


@consumes("uniform")
def uniform(key, shape=(), dtype=None, minval=0.0, maxval=1.0):
    """Uniform floats in ``[minval, maxval)``."""
    data = raw_data(key, "uniform")
    dt = float_dtype(dtype, "uniform")
    shape = canonical_shape(shape, "uniform")
    check_shape("uniform", shape, np.shape(minval), np.shape(maxval))
    return _uniform_jit(data, shape=shape, dtype=dt, minval=minval, maxval=maxval)


def _normal_real(data, shape, dtype, rolled=False):
    lo = np.nextafter(np.array(-1.0, dtype), np.array(0.0, dtype), dtype=dtype)
    u = _uniform(data, shape, dtype, lo, np.array(1.0, dtype), rolled)
    return lax.mul(np.array(np.sqrt(2), dtype), lax.erf_inv(u))


def _normal(data, shape, dtype):
    if dtypes.issubdtype(dtype, np.complexfloating):
        real = np.dtype(np.float64 if dtype == np.complex128 else np.float32)
        k_re, k_im = _subkeys(data, 2)
        re = lax.convert_element_type(_normal_real(k_re, shape, real), dtype)
        im = lax.convert_element_type(_normal_real(k_im, shape, real), dtype)
        return lax.div(lax.add(re, lax.mul(im, np.array(1j, dtype))), np.array(np.sqrt(2), dtype))
    return _normal_real(data, shape, dtype)


_normal_jit = _static_jit("shape", "dtype")(_normal)


@consumes("normal")
def normal(key, shape=(), dtype=None):
    """Standard normal draws (complex dtypes: real and imaginary parts each of variance 1/2)."""
    data = raw_data(key, "normal")
    shape = canonical_shape(shape, "normal")
    dt = dtypes.check_and_canonicalize_user_dtype(float if dtype is None else dtype)
    if not dtypes.issubdtype(dt, np.inexact):
        raise ValueError(f"dtype argument to `normal` must be a float or complex dtype, got {dt}")
    return _normal_jit(data, shape=shape, dtype=dt)


# ---- randint ----------------------------------------------------------------------------------
def _clip_convert(val, dtype):
    # Convert an integer array to ``dtype``, clipping to its range instead of wrapping.
    vi, di = dtypes.iinfo(val.dtype), dtypes.iinfo(dtype)
    lo, hi = max(int(di.min), int(vi.min)), min(int(di.max), int(vi.max))
    return lax.convert_element_type(jnp.clip(val, np.array(lo, val.dtype),
                                              np.array(hi, val.dtype)), dtype)


def _randint(data, shape, dtype, minval, maxval):
    minval, maxval = jnp.asarray(minval), jnp.asarray(maxval)
    if not dtypes.issubdtype(minval.dtype, np.integer):
        minval = minval.astype(int)
    if not dtypes.issubdtype(maxval.dtype, np.integer):
        maxval = maxval.astype(int)
    top = _clip_convert(jnp.asarray(np.array(dtypes.iinfo(dtype).max, dtype)), maxval.dtype)
    out_of_range = jnp.broadcast_to(lax.gt(maxval, top), shape)
    minval = jnp.broadcast_to(_clip_convert(minval, dtype), shape)
    maxval = jnp.broadcast_to(_clip_convert(maxval, dtype), shape)
    nbits = dtypes.iinfo(dtype).bits
    k1, k2 = _subkeys(data, 2)
    higher = threefry.random_bits(k1, nbits, shape)
    lower = threefry.random_bits(k2, nbits, shape)
    udt = _UINT[nbits]
    span = lax.convert_element_type(lax.sub(maxval, minval), udt)
    one = jnp.ones(shape, udt)
    span = lax.select(lax.le(maxval, minval), one, span)
    span = lax.select(lax.bitwise_and(out_of_range, lax.gt(maxval, minval)),
                      lax.add(span, one), span)
    mult = lax.rem(jnp.full(shape, 2 ** (nbits // 2), udt), span)
    mult = lax.rem(lax.mul(mult, mult), span)
    off = lax.add(lax.mul(lax.rem(higher, span), mult), lax.rem(lower, span))
    off = lax.rem(off, span)
    return lax.add(minval, lax.convert_element_type(off, dtype))


_randint_jit = _static_jit("shape", "dtype")(_randint)


def _randint_any(data, shape, dtype, minval, maxval):
    info = dtypes.iinfo(dtype)
    if info.bits < 32:
        i32 = np.dtype(np.int32)
        minval = jnp.clip(jnp.asarray(minval).astype(i32), int(info.min), int(info.max))
        maxval = jnp.clip(jnp.asarray(maxval).astype(i32), int(info.min), int(info.max) + 1)
        return _randint(data, shape, i32, minval, maxval).astype(dtype)
    return _randint(data, shape, dtype, minval, maxval)


_randint_any_jit = _static_jit("shape", "dtype")(_randint_any)


@consumes("randint")
def randint(key, shape, minval, maxval, dtype=None):
    """Integers uniform in ``[minval, maxval)`` (JAX's stream: two draws combined modulo)."""
    data = raw_data(key, "randint")
    dt = dtypes.check_and_canonicalize_user_dtype(int if dtype is None else dtype)
    if not dtypes.issubdtype(dt, np.integer):
        raise TypeError(f"randint only accepts integer dtypes, got {dt}")
    shape = canonical_shape(shape, "randint")
    check_shape("randint", shape, np.shape(minval), np.shape(maxval))
    return _randint_any_jit(data, shape=shape, dtype=dt, minval=minval, maxval=maxval)


# ---- permutation / choice ---------------------------------------------------------------------
def _shuffle(data, x, axis):
    rounds = int(np.ceil(3 * np.log(max(1, x.size)) / np.log(np.iinfo(np.uint32).max)))
    for _ in range(rounds):
        data, sub = _subkeys(data, 2)
        sort_keys = threefry.random_bits(sub, 32, x.shape)
        _, x = lax.sort_key_val(sort_keys, x, axis)
    return x


_shuffle_jit = _static_jit("axis")(_shuffle)


def _arange_jit(n):
    return jnp.arange(n)


@consumes("permutation")
def permutation(key, x, axis=0, independent=False):
    """A random permutation of ``arange(x)`` (int ``x``) or of ``x`` along ``axis``."""
    data = raw_data(key, "permutation")
    if not np.ndim(x):
        if isinstance(x, (bool, float)) or not dtypes.issubdtype(dtypes.dtype(x), np.integer):
            raise TypeError("x must be an integer or at least 1-dimensional")
        return _shuffle_jit(data, jnp.arange(int(x)), axis=0)
    x = jnp.asarray(x)
    axis = _canon_axis(axis, x.ndim, "permutation")
    if independent or x.ndim == 1:
        return _shuffle_jit(data, x, axis=axis)
    ind = _shuffle_jit(data, jnp.arange(x.shape[axis]), axis=0)
    return jnp.take(x, ind, axis=axis)


def _canon_axis(axis, ndim, name):
    axis = int(axis)
    if not -ndim <= axis < max(ndim, 1):
        raise ValueError(f"jaxel.random.{name}: axis {axis} is out of bounds for rank {ndim}.")
    return axis % max(ndim, 1)


@consumes("choice")
def choice(key, a, shape=(), replace=True, p=None, axis=0, mode=None):
    """Samples from ``a`` (an int: ``arange(a)``), with or without replacement, optionally with
    probabilities ``p``."""
    data = raw_data(key, "choice")
    if not isinstance(shape, (tuple, list)):
        raise TypeError("shape argument of jaxel.random.choice must be a sequence, "
                        f"got {shape}")
    shape = canonical_shape(shape, "choice")
    arr = jnp.asarray(a)
    if arr.ndim == 0:
        n_inputs = int(a)
    else:
        axis = _canon_axis(axis, arr.ndim, "choice")
        n_inputs = arr.shape[axis]
    n_draws = math.prod(shape)
    if n_draws == 0:
        return jnp.zeros(shape, dtype=arr.dtype)
    if n_inputs <= 0:
        raise ValueError("a must be greater than 0 unless no samples are taken")
    if not replace and n_draws > n_inputs:
        raise ValueError(f"Cannot take a larger sample (size {n_draws}) than population "
                         f"(size {n_inputs}) when 'replace=False'")
    if p is None:
        if replace:
            ind = _randint_any_jit(data, shape=shape, dtype=dtypes.canonicalize_dtype(int),
                                   minval=0, maxval=n_inputs)
            result = ind if arr.ndim == 0 else jnp.take(arr, ind, axis=axis)
        else:
            src = jnp.arange(n_inputs) if arr.ndim == 0 else arr
            perm = _shuffle_jit(data, src, axis=axis) if (arr.ndim <= 1) else jnp.take(
                src, _shuffle_jit(data, jnp.arange(n_inputs), axis=0), axis=axis)
            result = lax.slice_in_dim(perm, 0, n_draws, axis=axis if arr.ndim else 0)
    else:
        p_arr = jnp.asarray(p)
        if not dtypes.issubdtype(p_arr.dtype, np.inexact):
            p_arr = p_arr.astype(dtypes.default_float_dtype())
        if p_arr.shape != (n_inputs,):
            raise ValueError(
                "p must be None or a 1D vector with the same size as a.shape[axis]. "
                f"p has shape {p_arr.shape} and a.shape[axis] is {n_inputs}.")
        if replace:
            ind = _choice_p_replace(data, p_arr, shape=shape)
        else:
            g = _gumbel_jit(data, shape=(n_inputs,), dtype=p_arr.dtype,
                            mode=_gumbel_mode(mode)) + jnp.log(p_arr)
            ind = lax.top_k(g, n_draws)[1].astype(int)
        result = ind if arr.ndim == 0 else jnp.take(arr, ind, axis=axis)
    return result.reshape(shape if arr.ndim == 0 else
                          arr.shape[0:axis] + tuple(shape) + arr.shape[axis + 1:])


@_static_jit("shape")
def _choice_p_replace(data, p, shape):
    cum = jnp.cumsum(p)
    r = cum[-1] * (1 - _uniform(data, shape, cum.dtype))
    # searchsorted(cum, r, side="left") = number of entries strictly below r
    # Equal ranks on both sides, so the numpy_rank_promotion='raise' option accepts it.
    cum = jnp.reshape(cum, (1,) * jnp.ndim(r) + tuple(cum.shape))
    return jnp.sum(cum < jnp.expand_dims(r, -1), axis=-1).astype(int)


# ---- simple transforms ------------------------------------------------------------------------
def _gumbel_mode(mode):
    mode = "low" if mode is None else mode
    if mode not in ("high", "low"):
        raise ValueError(f"Must provide valid mode for gumbel got: {mode}")
    return mode


@_static_jit("shape", "dtype", "mode")
def _gumbel_jit(data, shape, dtype, mode):
    return _gumbel(data, shape, dtype, mode)


def _gumbel(data, shape, dtype, mode="low"):
    fi = dtypes.finfo(dtype)
    if mode == "high":
        u = _uniform(data, (2, *shape), dtype)
        high, low = u[0], u[1]
        x = jnp.where(high >= 0.5, high, high + 2.0 ** -fi.nmant * low + fi.tiny)
        return -jnp.log(-jnp.log1p(-x))
    return -jnp.log(-jnp.log(_uniform(data, shape, dtype, np.array(fi.tiny, dtype), 1.0)))


@consumes("gumbel")
def gumbel(key, shape=(), dtype=None, mode=None):
    """Standard Gumbel draws."""
    data = raw_data(key, "gumbel")
    return _gumbel_jit(data, shape=canonical_shape(shape, "gumbel"),
                       dtype=float_dtype(dtype, "gumbel"), mode=_gumbel_mode(mode))


@consumes("categorical")
def categorical(key, logits, axis=-1, shape=None, replace=True, mode=None):
    """Draws from categorical distributions given unnormalised log-probabilities (Gumbel-max;
    without replacement, Gumbel top-k)."""
    data = raw_data(key, "categorical")
    logits = jnp.asarray(logits)
    if not dtypes.issubdtype(logits.dtype, np.floating):
        logits = logits.astype(dtypes.default_float_dtype())
    axis = _canon_axis(axis, logits.ndim, "categorical")
    batch_shape = tuple(np.delete(logits.shape, axis))
    if shape is None:
        shape = batch_shape
    else:
        shape = canonical_shape(shape, "categorical")
        check_shape("categorical", shape, batch_shape)
    prefix = shape[:len(shape) - len(batch_shape)]
    if not replace and math.prod(prefix) > logits.shape[axis]:
        raise ValueError(f"Number of samples without replacement ({math.prod(prefix)}) cannot "
                         f"exceed number of categories ({logits.shape[axis]}).")
    return _categorical_jit(data, logits, shape=shape, batch_shape=batch_shape, axis=axis,
                            replace=replace, mode=_gumbel_mode(mode))


@_static_jit("shape", "batch_shape", "axis", "replace", "mode")
def _categorical_jit(data, logits, shape, batch_shape, axis, replace, mode):
    prefix = shape[:len(shape) - len(batch_shape)]
    if replace:
        ax = axis - logits.ndim
        lshape = list(shape[len(shape) - len(batch_shape):])
        lshape.insert(ax % logits.ndim, logits.shape[ax])
        g = _gumbel(data, (*prefix, *lshape), logits.dtype, mode)
        return jnp.argmax(g + lax.expand_dims(logits, tuple(range(len(prefix)))), axis=ax)
    logits = logits + _gumbel(data, logits.shape, logits.dtype, mode)
    k = math.prod(prefix)
    _, idx = lax.top_k(jnp.moveaxis(logits, axis, -1), k)
    return lax.reshape(idx, shape, (idx.ndim - 1, *range(idx.ndim - 1)))


@consumes("bernoulli")
def bernoulli(key, p=0.5, shape=None, mode="low"):
    """Booleans that are True with probability ``p``."""
    data = raw_data(key, "bernoulli")
    if mode not in ("high", "low"):
        raise ValueError(f"got mode={mode!r}, expected 'high' or 'low'")
    p = jnp.asarray(p)
    if not dtypes.issubdtype(p.dtype, np.floating):
        raise TypeError(f"bernoulli probability `p` must have a floating dtype, got {p.dtype}.")
    shape = tuple(p.shape) if shape is None else canonical_shape(shape, "bernoulli")
    check_shape("bernoulli", shape, p.shape)
    return _bernoulli_jit(data, p, shape=shape, mode=mode)


@_static_jit("shape", "mode")
def _bernoulli_jit(data, p, shape, mode):
    if mode == "high":
        u = _uniform(data, (2, *shape), p.dtype)
        u1, u2 = u[0], u[1] * 2.0 ** -dtypes.finfo(p.dtype).nmant
        return u2 < p - u1
    return _uniform(data, shape, p.dtype) < p


@_static_jit("shape", "dtype")
def _truncated_normal_jit(data, lower, upper, shape, dtype):
    sqrt2 = np.array(np.sqrt(2), dtype)
    lower = lax.convert_element_type(lower, dtype)
    upper = lax.convert_element_type(upper, dtype)
    a = lax.erf(lower / sqrt2)
    b = lax.erf(upper / sqrt2)
    u = _uniform(data, shape, dtype, a, b)
    out = sqrt2 * lax.erf_inv(u)
    return jnp.clip(out, lax.nextafter(lax.stop_gradient(lower), np.array(np.inf, dtype)),
                    lax.nextafter(lax.stop_gradient(upper), np.array(-np.inf, dtype)))


@consumes("truncated_normal")
def truncated_normal(key, lower, upper, shape=None, dtype=None):
    """Standard normal draws truncated to ``(lower, upper)``."""
    data = raw_data(key, "truncated_normal")
    dt = float_dtype(dtype, "truncated_normal")
    shape = broadcast_param_shapes("truncated_normal", shape, lower, upper)
    return _truncated_normal_jit(data, lower, upper, shape=shape, dtype=dt)


def _unary_sampler(name, body, doc):
    jitted = _static_jit("shape", "dtype")(body)

    @consumes(name)
    def sampler(key, shape=(), dtype=None):
        data = raw_data(key, name)
        return jitted(data, shape=canonical_shape(shape, name), dtype=float_dtype(dtype, name))

    sampler.__name__ = sampler.__qualname__ = name
    sampler.__doc__ = doc
    return sampler


def _exponential(data, shape, dtype):
    u = _uniform(data, shape, dtype)
    return lax.neg(lax.log1p(lax.neg(u)))


def _laplace(data, shape, dtype):
    u = _uniform(data, shape, dtype, np.array(-1.0 + dtypes.finfo(dtype).epsneg, dtype), 1.0)
    return lax.mul(lax.sign(u), lax.log1p(lax.neg(lax.abs(u))))


def _logistic(data, shape, dtype):
    x = _uniform(data, shape, dtype, np.array(dtypes.finfo(dtype).tiny, dtype), 1.0)
    return lax.sub(lax.log(x), lax.log1p(lax.neg(x)))


def _cauchy(data, shape, dtype):
    u = _uniform(data, shape, dtype, np.array(dtypes.finfo(dtype).eps, dtype), 1.0)
    return lax.tan(lax.mul(np.array(np.pi, dtype), lax.sub(u, np.array(0.5, dtype))))


exponential = _unary_sampler("exponential", _exponential, "Standard exponential draws.")
laplace = _unary_sampler("laplace", _laplace, "Standard Laplace draws.")
logistic = _unary_sampler("logistic", _logistic, "Standard logistic draws.")
cauchy = _unary_sampler("cauchy", _cauchy, "Standard Cauchy draws.")


@consumes("rademacher")
def rademacher(key, shape=(), dtype=None):
    """-1 or +1 with equal probability."""
    data = raw_data(key, "rademacher")
    dt = dtypes.check_and_canonicalize_user_dtype(int if dtype is None else dtype)
    return _rademacher_jit(data, shape=canonical_shape(shape, "rademacher"), dtype=dt)


@_static_jit("shape", "dtype")
def _rademacher_jit(data, shape, dtype):
    # a fair Bernoulli draw at the default float precision (float64 under x64), as in JAX
    fdt = dtypes.default_float_dtype()
    b = (_uniform(data, shape, fdt) < np.array(0.5, fdt)).astype(dtype)
    return (2 * b - 1).astype(dtype)


@consumes("geometric")
def geometric(key, p, shape=None, dtype=None):
    """Number of Bernoulli(p) trials up to and including the first success (>= 1)."""
    data = raw_data(key, "geometric")
    dt = int_dtype(dtype, "geometric")
    shape = broadcast_param_shapes("geometric", shape, p)
    p = jnp.asarray(p)
    if not dtypes.issubdtype(p.dtype, np.inexact):
        p = p.astype(dtypes.default_float_dtype())
    return _geometric_jit(data, p, shape=shape, dtype=dt)


@_static_jit("shape", "dtype")
def _geometric_jit(data, p, shape, dtype):
    u = _uniform(data, shape, p.dtype)
    u = jnp.where(u == 0, 1, u)
    g = lax.floor(lax.div(lax.log(u), jnp.broadcast_to(lax.log1p(-p), shape))) + 1
    return g.astype(dtype)
