"""Sample summaries of ``jax.scipy.stats``: ``sem``, ``rankdata`` and ``mode``."""
from __future__ import annotations

from typing import NamedTuple

from jaxel import numpy as jnp
from jaxel.numpy._util import to_inexact_dtype


def sem(a, axis=0, ddof=1, nan_policy="propagate", *, keepdims=False):
    """The standard error of the mean, ``std(a, ddof) / sqrt(n)`` along ``axis``."""
    if nan_policy not in ("propagate", "omit"):
        raise ValueError(f"nan_policy {nan_policy!r} not supported (propagate or omit)")
    a = jnp.asarray(a)
    if not jnp.issubdtype(a.dtype, jnp.inexact):  # float32 below 64-bit ints, as JAX
        a = a.astype(to_inexact_dtype(a.dtype))
    if axis is None:
        a, axis = a.ravel(), 0
    if nan_policy == "omit":
        n = jnp.sum(~jnp.isnan(a), axis=axis, keepdims=keepdims)
        return jnp.nanstd(a, axis=axis, ddof=ddof, keepdims=keepdims) / jnp.sqrt(n)
    n = a.shape[axis]
    return jnp.std(a, axis=axis, ddof=ddof, keepdims=keepdims) / jnp.sqrt(float(n))


def _rank_1d(x, method):
    """Ranks in the default float dtype for every method, as JAX's rankdata."""
    return _rank_1d_exact(x, method).astype(jnp.result_type(float))


def _rank_1d_exact(x, method):
    s = jnp.sort(x)
    left = jnp.searchsorted(s, x, side="left")
    right = jnp.searchsorted(s, x, side="right")
    if method == "average":
        return 0.5 * (left + right + 1).astype(jnp.result_type(float))
    if method == "min":
        return left + 1
    if method == "max":
        return right
    if method == "ordinal":
        order = jnp.argsort(x, stable=True)
        return jnp.zeros(x.shape, order.dtype).at[order].set(jnp.arange(1, x.shape[0] + 1,
                                                                         dtype=order.dtype))
    # dense: how many distinct values are below, plus one
    is_new = jnp.concatenate([jnp.ones((1,), bool), s[1:] != s[:-1]])
    dense_sorted = jnp.cumsum(is_new)
    return dense_sorted[left]


def rankdata(a, method="average", *, axis=None, nan_policy="propagate"):
    """Ranks of the data, 1-based, ties resolved by ``method`` (average, min, max, dense,
    ordinal); along ``axis`` or over the flattened array."""
    if method not in ("average", "min", "max", "dense", "ordinal"):
        raise ValueError(f"unknown method {method!r}")
    if nan_policy != "propagate":
        raise NotImplementedError("only nan_policy='propagate' is supported")
    a = jnp.asarray(a)
    if axis is None:
        return _rank_1d(a.ravel(), method)
    from jaxel.batching import vmap
    moved = jnp.moveaxis(a, axis, -1)
    flat = moved.reshape((-1, moved.shape[-1]))
    ranks = vmap(lambda r: _rank_1d(r, method))(flat)
    return jnp.moveaxis(ranks.reshape(moved.shape), -1, axis)


class ModeResult(NamedTuple):
    mode: object
    count: object


def _mode_1d(x):
    s = jnp.sort(x)
    counts = jnp.searchsorted(s, s, side="right") - jnp.searchsorted(s, s, side="left")
    i = jnp.argmax(counts)  # first maximum: the smallest of the most common values
    return s[i], counts[i].astype(jnp.result_type(int))  # the default int, as JAX


def mode(a, axis=0, nan_policy="propagate", keepdims=False):
    """The most common value along ``axis`` (the smallest on ties) and its count."""
    if nan_policy != "propagate":
        raise NotImplementedError("only nan_policy='propagate' is supported")
    a = jnp.asarray(a)
    if axis is None:
        m, c = _mode_1d(a.ravel())
        if keepdims:
            m, c = m.reshape((1,) * a.ndim), c.reshape((1,) * a.ndim)
        return ModeResult(m, c)
    from jaxel.batching import vmap
    axis = axis % a.ndim
    moved = jnp.moveaxis(a, axis, -1)
    flat = moved.reshape((-1, moved.shape[-1]))
    m, c = vmap(_mode_1d)(flat)
    m, c = m.reshape(moved.shape[:-1]), c.reshape(moved.shape[:-1])
    if keepdims:
        m, c = jnp.expand_dims(m, axis), jnp.expand_dims(c, axis)
    return ModeResult(m, c)
