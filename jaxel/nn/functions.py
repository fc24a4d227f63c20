"""``jaxel.nn``'s functions (JAX's ``jax.nn``): activations, softmax family, normalisation,
one-hot encoding and dot-product attention, all compositions of jaxel.numpy/lax.

Where JAX pins a derivative convention at a kink (``relu`` and ``relu6`` have derivative 0 at
their corners), a ``custom_jvp`` does the same here.
"""
from __future__ import annotations

import math

import numpy as np

from jaxel import lax
from jaxel import numpy as jnp
from jaxel.custom_derivatives import custom_jvp


def _float(x):
    """``x`` as an inexact array (integers promote to the default float, as in JAX)."""
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        x = x.astype(jnp.result_type(float))
    return x


# ---- activations ---------------------------------------------------------------------------------
@custom_jvp
def relu(x):
    """Rectified linear unit ``max(x, 0)``; its derivative at 0 is 0 (as in JAX)."""
    return jnp.maximum(x, 0)


@relu.defjvp
def _relu_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return relu(x), jnp.where(x > 0, t, jnp.zeros_like(t))


@custom_jvp
def relu6(x):
    """``min(max(x, 0), 6)``; derivative 0 at both corners (as in JAX)."""
    return jnp.minimum(jnp.maximum(x, 0), 6.0)


@relu6.defjvp
def _relu6_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return relu6(x), jnp.where((x > 0) & (x < 6), t, jnp.zeros_like(t))


def sigmoid(x):
    """The logistic function ``1 / (1 + exp(-x))``."""
    return lax.logistic(_float(x))


def log_sigmoid(x):
    """``log(sigmoid(x))`` computed stably as ``-softplus(-x)``."""
    x = _float(x)
    return -softplus(-x)


def softplus(x):
    """``log(1 + exp(x))`` computed stably."""
    return jnp.logaddexp(_float(x), 0)


def sparse_plus(x):
    """0 for x <= -1, x for x >= 1, ``(x + 1)**2 / 4`` in between."""
    x = _float(x)
    return jnp.where(x <= -1.0, 0.0, jnp.where(x >= 1.0, x, (x + 1.0) ** 2 / 4))


def sparse_sigmoid(x):
    """The derivative of ``sparse_plus``: ``clip((x + 1) / 2, 0, 1)``."""
    return 0.5 * jnp.clip(_float(x) + 1.0, 0.0, 2.0)


def soft_sign(x):
    """``x / (|x| + 1)``."""
    x = _float(x)
    return x / (jnp.abs(x) + 1)


def silu(x):
    """Sigmoid-weighted linear unit ``x * sigmoid(x)`` (also ``swish``)."""
    x = _float(x)
    return x * sigmoid(x)


swish = silu


def hard_sigmoid(x):
    """``relu6(x + 3) / 6``."""
    return relu6(_float(x) + 3.0) / 6.0


def hard_silu(x):
    """``x * hard_sigmoid(x)`` (also ``hard_swish``)."""
    x = _float(x)
    return x * hard_sigmoid(x)


hard_swish = hard_silu


def hard_tanh(x):
    """``x`` clipped to [-1, 1]."""
    x = _float(x)
    return jnp.where(x > 1, 1.0, jnp.where(x < -1, -1.0, x)).astype(x.dtype)


def elu(x, alpha=1.0):
    """``x`` for x > 0, ``alpha * (exp(x) - 1)`` otherwise."""
    x = _float(x)
    safe = jnp.where(x > 0, 0.0, x).astype(x.dtype)  # keeps expm1's gradient finite
    return jnp.where(x > 0, x, alpha * jnp.expm1(safe)).astype(x.dtype)


def celu(x, alpha=1.0):
    """Continuously differentiable ELU: ``max(x, 0) + alpha * expm1(min(x, 0) / alpha)``."""
    x = _float(x)
    return jnp.maximum(x, 0.0) + alpha * jnp.expm1(jnp.minimum(x, 0.0) / alpha)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(x):
    """Scaled ELU with the self-normalising constants."""
    return _SELU_SCALE * elu(x, _SELU_ALPHA)


def gelu(x, approximate: bool = True):
    """Gaussian error linear unit: the tanh approximation by default, the exact
    ``x * Phi(x)`` with ``approximate=False``."""
    x = _float(x)
    if approximate:
        c = math.sqrt(2 / math.pi)
        return 0.5 * x * (1 + jnp.tanh(c * (x + 0.044715 * x ** 3)))
    return (x * (lax.erf(x / math.sqrt(2)) + 1) / 2).astype(x.dtype)


def glu(x, axis: int = -1):
    """Gated linear unit: split ``x`` in two along ``axis``; ``a * sigmoid(b)``."""
    x = _float(x)
    n = x.shape[axis]
    if n % 2:
        raise ValueError(f"glu: axis {axis} has odd size {n}; it must split in two halves.")
    a, b = jnp.split(x, 2, axis=axis)
    return a * sigmoid(b)


def leaky_relu(x, negative_slope=0.01):
    """``x`` for x >= 0, ``negative_slope * x`` otherwise."""
    x = _float(x)
    return jnp.where(x >= 0, x, negative_slope * x)


def mish(x):
    """``x * tanh(softplus(x))``."""
    x = _float(x)
    return x * jnp.tanh(softplus(x))


def squareplus(x, b=4):
    """``(x + sqrt(x**2 + b)) / 2``."""
    x = _float(x)
    return (x + jnp.sqrt(x * x + b)) / 2


def log1mexp(x):
    """``log(1 - exp(-x))`` for x > 0, accurate near 0 and for large x."""
    x = _float(x)
    return jnp.where(x > math.log(2), jnp.log1p(-jnp.exp(-x)), jnp.log(-jnp.expm1(-x)))


def identity(x):
    """Returns ``x``."""
    return x


def tanh(x):
    """Hyperbolic tangent."""
    return jnp.tanh(x)


# ---- softmax family ------------------------------------------------------------------------------
def _axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    return tuple(a % ndim for a in (axis if isinstance(axis, (tuple, list)) else (axis,)))


def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False, where=None):
    """``log(sum(b * exp(a)))`` over ``axis``, computed stably (``jax.nn.logsumexp``).

    As JAX: entries with ``b == 0`` or ``where`` False are left out (``a`` is replaced there
    before anything is computed), so their derivatives are exactly 0 and an all-left-out slice
    gives ``-inf`` with zero (not NaN) gradients; a negative sum gives NaN unless
    ``return_sign``.
    """
    a = _float(a)
    axes = _axes(axis, a.ndim)
    if where is not None:
        a = jnp.where(where, a, 0.0)  # masked entries never reach exp (the sum skips them)
    if b is not None:
        a, b = jnp.broadcast_arrays(a, jnp.asarray(b, a.dtype))
        a = jnp.where(b != 0, a, -jnp.inf)
    amax = jnp.max(a, axis=axes, keepdims=True, where=where, initial=-jnp.inf)
    amax = lax.stop_gradient(jnp.where(jnp.isfinite(amax), amax, 0.0).astype(a.dtype))
    e = jnp.exp(a - amax)
    if b is not None:
        e = e * b
    s = jnp.sum(e, axis=axes, keepdims=True, where=where)
    sign = jnp.sign(s) if jnp.issubdtype(s.dtype, jnp.floating) else None
    if sign is not None:
        s = jnp.abs(s)
    out = jnp.log(s) + amax
    if not keepdims:
        out = jnp.squeeze(out, axis=axes)
        if sign is not None:
            sign = jnp.squeeze(sign, axis=axes)
    if return_sign:
        return out, sign
    if b is not None and sign is not None:
        out = jnp.where(sign < 0, jnp.nan, out)  # the log of a negative sum
    return out


def logmeanexp(x, axis=None, where=None, keepdims=False):
    """``log(mean(exp(x)))`` over ``axis``, computed stably."""
    x = _float(x)
    axes = _axes(axis, x.ndim)
    if where is None:
        n = int(np.prod([x.shape[i] for i in axes])) if axes else 1
    else:
        n = jnp.sum(jnp.broadcast_to(where, x.shape), axis=axes, keepdims=keepdims)
    return logsumexp(x, axis=axes, where=where, keepdims=keepdims) - jnp.log(n)


def softmax(x, axis=-1, where=None):
    """``exp(x) / sum(exp(x))`` along ``axis`` (masked entries, ``where=False``, get 0).

    Masked entries are replaced by ``-inf`` before anything is computed, so no gradient reaches
    them and a slice with no entry left gives 0s with zero gradients, as in JAX.
    """
    x = _float(x)
    axes = _axes(axis, x.ndim)
    xmax = jnp.max(x, axis=axes, keepdims=True, where=where, initial=-jnp.inf)
    x_safe = x if where is None else jnp.where(where, x, -jnp.inf)
    unnormalized = jnp.exp(x_safe - lax.stop_gradient(xmax))
    result = unnormalized / jnp.sum(unnormalized, axis=axes, keepdims=True, where=where)
    if where is not None:
        result = jnp.where(where, result, 0.0)
    return result


def log_softmax(x, axis=-1, where=None):
    """``x - logsumexp(x)`` along ``axis`` (masked entries, ``where=False``, get ``-inf``;
    as for ``softmax``, no gradient reaches them, even when a whole slice is masked)."""
    x = _float(x)
    axes = _axes(axis, x.ndim)
    xmax = jnp.max(x, axis=axes, keepdims=True, where=where, initial=-jnp.inf)
    x_safe = x if where is None else jnp.where(where, x, -jnp.inf)
    shifted = x_safe - lax.stop_gradient(xmax)
    out = shifted - jnp.log(jnp.sum(jnp.exp(shifted), axis=axes, keepdims=True, where=where))
    if where is not None:
        out = jnp.where(where, out, -jnp.inf)
    return out


def standardize(x, axis=-1, mean=None, variance=None, epsilon=1e-5, where=None):
    """``(x - mean) / sqrt(variance + epsilon)`` along ``axis``."""
    x = _float(x)
    if mean is None:
        mean = jnp.mean(x, axis=axis, keepdims=True, where=where)
    if variance is None:
        variance = jnp.mean(jnp.square(x), axis=axis, keepdims=True, where=where) - \
            jnp.square(mean)
    return (x - mean) * lax.rsqrt(variance + epsilon)


def one_hot(x, num_classes: int, *, dtype=None, axis=-1):
    """One-hot encode integer ``x`` into ``num_classes`` classes along a new ``axis``;
    out-of-range values give all-zero rows."""
    if not isinstance(num_classes, (int, np.integer)):
        raise TypeError("one_hot: num_classes must be a concrete int (it sets the output "
                        f"shape), got {type(num_classes).__name__}.")
    dtype = jnp.result_type(float) if dtype is None else dtype
    x = jnp.asarray(x)
    nd = x.ndim + 1
    axis = axis % nd
    classes = lax.broadcasted_iota(np.int32, tuple(1 if i != axis else num_classes
                                                   for i in range(nd)), axis)
    return (jnp.expand_dims(x, axis) == classes).astype(dtype)


# ---- attention ----------------------------------------------------------------------------------
def dot_product_attention(query, key, value, bias=None, mask=None, *, scale=None,
                          is_causal=False, query_seq_lengths=None, key_value_seq_lengths=None,
                          local_window_size=None, implementation=None):
    """Scaled dot-product attention (``jax.nn.dot_product_attention``).

    Shapes: ``query`` (B, T, N, H), ``key``/``value`` (B, S, K, H) with N a multiple of K
    (grouped-query attention), or the same without the batch dimension. ``bias`` is added to
    the logits and ``mask`` (boolean, True = keep) removes entries; both broadcast to
    (B, N, T, S). ``is_causal`` keeps key positions <= query position; sequence lengths and
    ``local_window_size=(left, right)`` restrict the keys further. Returns (B, T, N, H).
    """
    if implementation not in (None, "xla"):
        raise ValueError(f"dot_product_attention: implementation={implementation!r} is not "
                         "available in jaxel; use None or 'xla'.")
    q, k, v = jnp.asarray(query), jnp.asarray(key), jnp.asarray(value)
    unbatched = q.ndim == 3
    if unbatched:
        q, k, v = q[None], k[None], v[None]
    if q.ndim != 4 or k.ndim != 4 or v.ndim != 4:
        raise ValueError("dot_product_attention expects query/key/value of rank 4 (B, T, N, H) "
                         f"or 3 (T, N, H); got {query.shape}, {key.shape}, {value.shape}.")
    B, T, N, H = q.shape
    S, K = k.shape[1], k.shape[2]
    if N % K:
        raise ValueError(f"dot_product_attention: query heads ({N}) must be a multiple of "
                         f"key/value heads ({K}).")
    scale = 1.0 / math.sqrt(H) if scale is None else scale
    g = N // K
    qg = q.reshape(B, T, K, g, H)
    logits = jnp.einsum("btkgh,bskh->bkgts", qg, k) * jnp.asarray(scale, q.dtype)
    logits = logits.reshape(B, N, T, S).astype(jnp.float32)
    if bias is not None:
        b = jnp.asarray(bias)
        logits = logits + (b[None] if unbatched and b.ndim == 3 else b).astype(logits.dtype)
    keep = None

    def both(m):
        return m if keep is None else keep & m

    if mask is not None:
        m = jnp.asarray(mask, bool)
        keep = both(m[None] if unbatched and m.ndim == 3 else m)
    qpos = lax.broadcasted_iota(np.int32, (T, S), 0)
    kpos = lax.broadcasted_iota(np.int32, (T, S), 1)
    if is_causal:
        keep = both((kpos <= qpos)[None, None])
    if local_window_size is not None:
        left, right = (local_window_size if isinstance(local_window_size, tuple)
                       else (local_window_size, local_window_size))
        keep = both(((kpos >= qpos - left) & (kpos <= qpos + right))[None, None])
    if query_seq_lengths is not None:
        ql = jnp.asarray(query_seq_lengths).reshape(B, 1, 1, 1)
        keep = both(lax.broadcasted_iota(np.int32, (1, 1, T, 1), 2) < ql)
    if key_value_seq_lengths is not None:
        kl = jnp.asarray(key_value_seq_lengths).reshape(B, 1, 1, 1)
        keep = both(lax.broadcasted_iota(np.int32, (1, 1, 1, S), 3) < kl)
    if keep is not None:
        big_neg = jnp.finfo(logits.dtype).min
        logits = jnp.where(keep, logits, big_neg)
    probs = softmax(logits, axis=-1).astype(q.dtype)
    pg = probs.reshape(B, K, g, T, S)
    out = jnp.einsum("bkgts,bskh->btkgh", pg, v).reshape(B, T, N, v.shape[-1])
    return out[0] if unbatched else out


__all__ = ["relu", "relu6", "sigmoid", "log_sigmoid", "softplus", "sparse_plus",
           "sparse_sigmoid", "soft_sign", "silu", "swish", "hard_sigmoid", "hard_silu",
           "hard_swish", "hard_tanh", "elu", "celu", "selu", "gelu", "glu", "leaky_relu", "mish",
           "squareplus", "log1mexp", "identity", "tanh", "logsumexp", "logmeanexp", "softmax",
           "log_softmax", "standardize", "one_hot", "dot_product_attention"]
