"""Block-scaled (microscaling) matrix products: ``scaled_matmul``, ``scaled_dot_general`` and
``get_scaled_dot_general_config``, as in ``jax.nn``.

A block-scaled operand stores narrow values (float8 or float4) plus one scale per block of
``block_size`` consecutive entries along the contracted axis; its value is ``q * scale``.
XLA's CPU backend has no block-scaled dot, so everything here is the reference computation JAX
also runs off-GPU: dequantise in the output dtype, then an ordinary ``dot_general``. The
quantisation (scales from each block's absolute maximum, E8M0 scales rounded up) and the
backward pass (gradients quantised with the third config; straight-through estimator for
NVFP4) follow JAX's, so results agree with ``jax.nn`` on CPU.
"""
from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np

from jaxel import dtypes as _dtypes
from jaxel import lax
from jaxel import numpy as jnp
from jaxel.custom_derivatives import custom_vjp


@dataclasses.dataclass(slots=True)
class BlockScaleConfig:
    """How one operand of ``scaled_dot_general`` is quantised.

    Attributes:
      mode: ``'mxfp8'``, ``'mxfp4'`` or ``'nvfp4'``.
      block_size: entries of the contracted axis that share a scale (32, or 16 for NVFP4).
      data_type: dtype of the quantised values.
      scale_type: dtype of the block scales.
      global_scale: NVFP4's float32 tensor-wide scale (None for the MX formats).
      infer_only: accepted for JAX's signature; unused.
    """
    mode: str
    block_size: int
    data_type: object
    scale_type: object
    global_scale: object
    infer_only: bool


def get_scaled_dot_general_config(mode, global_scale=None):
    """The quantisation config of a block-scaled format, for ``scaled_dot_general``.

    Args:
      mode: ``'mxfp8'`` (float8_e4m3fn values, float8_e8m0fnu scales per 32), ``'mxfp4'``
        (float4_e2m1fn values, float8_e8m0fnu scales per 32) or ``'nvfp4'`` (float4_e2m1fn
        values, float8_e4m3fn scales per 16, and a float32 ``global_scale``, default 1).
      global_scale: NVFP4's tensor-wide scale; MXFP4 rejects one, MXFP8 ignores it.

    Returns:
      A ``BlockScaleConfig``.

    Example::

        >>> nn.get_scaled_dot_general_config("mxfp8").block_size
        32
    """
    # jnp's scalar types (as JAX's config holds), which also work wherever a dtype is taken
    if mode == "nvfp4":
        return BlockScaleConfig("nvfp4", 16, jnp.float4_e2m1fn, jnp.float8_e4m3fn,
                                jnp.asarray(1.0, np.float32) if global_scale is None
                                else global_scale, False)
    if mode == "mxfp8":
        return BlockScaleConfig("mxfp8", 32, jnp.float8_e4m3fn, jnp.float8_e8m0fnu,
                                None, False)
    if mode == "mxfp4":
        if global_scale is not None:
            raise ValueError("mxfp4 does not use a global_scale: its E8M0 block scales cover "
                             "the whole float range.")
        return BlockScaleConfig("mxfp4", 32, jnp.float4_e2m1fn, jnp.float8_e8m0fnu,
                                None, False)
    raise ValueError(f"Unsupported mode: {mode!r}; expected 'mxfp8', 'mxfp4' or 'nvfp4'.")


# ---- scaled_matmul ---------------------------------------------------------------------------
def _dequantise(x, scales, dtype):
    """``x`` (B, R, K) times its per-block ``scales`` (B, R, K // block), in ``dtype``."""
    b, r, k = x.shape
    nb = scales.shape[-1]
    blocks = jnp.reshape(x.astype(dtype), (b, r, nb, k // nb))
    return jnp.reshape(blocks * scales.astype(dtype)[..., None], (b, r, k))


def _matmul_3d(a, b, a_scales, b_scales, dtype):
    return lax.dot_general(_dequantise(a, a_scales, dtype), _dequantise(b, b_scales, dtype),
                           (((2,), (2,)), ((0,), (0,))), preferred_element_type=dtype)


def scaled_matmul(lhs, rhs, lhs_scales, rhs_scales, preferred_element_type=np.float32):
    """Block-scaled batched matmul ``C[b, m, n] = sum_k A[b, m, k] B[b, n, k]``, where
    ``A = lhs * repeat(lhs_scales, K // K_a, axis=-1)`` and likewise ``B``.

    Args:
      lhs: (B, M, K) values (any real dtype; float8/float4 in practice).
      rhs: (B, N, K) values.
      lhs_scales: (B, M, K_a) scales, ``K_a`` dividing ``K`` (the block size is ``K // K_a``).
      rhs_scales: (B, N, K_b) scales, with ``K_b == K_a``.
      preferred_element_type: dtype of the dequantisation and the result (default float32).

    Returns:
      The (B, M, N) product in ``preferred_element_type``.

    Example::

        >>> nn.scaled_matmul(jnp.ones((1, 1, 4)), jnp.ones((1, 1, 4)), jnp.ones((1, 1, 2)),
        ...                  jnp.full((1, 1, 2), 2.0))
        Array([[[8.]]], dtype=float32)
    """
    a, b, sa, sb = (jnp.asarray(v) for v in (lhs, rhs, lhs_scales, rhs_scales))
    if not all(v.ndim == 3 for v in (a, b, sa, sb)):
        raise ValueError("scaled_matmul requires all inputs to be 3-dimensional arrays, got "
                         f"shapes {a.shape}, {b.shape}, {sa.shape} and {sb.shape}.")
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[2]:
        raise ValueError("scaled_matmul requires inputs a and b to have matching batch (B) and "
                         f"contract (K) dimensions, but got shapes {a.shape} and {b.shape}")
    if sa.shape[0] != sb.shape[0] or sa.shape[2] != sb.shape[2]:
        raise ValueError("scaled_matmul requires scales to have matching batch (B) and "
                         f"contract (K) dimensions, but got shapes {sa.shape} and {sb.shape}")
    if sa.shape[1] != a.shape[1] or sb.shape[1] != b.shape[1]:
        raise ValueError("scaled_matmul requires scales to match non-contract dimensions of "
                         f"inputs, but got shapes a: {a.shape}, b: {b.shape}, a_scales: "
                         f"{sa.shape}, b_scales: {sb.shape}")
    if sa.shape[2] == 0 or a.shape[2] % sa.shape[2]:
        raise ValueError(f"scaled_matmul: the number of scales per row ({sa.shape[2]}) must "
                         f"divide the contracted size K = {a.shape[2]}.")
    dtype = _dtypes.check_and_canonicalize_user_dtype(preferred_element_type, "scaled_matmul")
    return _matmul_3d(a, b, sa, sb, dtype)


# ---- quantisation ----------------------------------------------------------------------------
def _e8m0_round_up(ratio):
    """The E8M0 code (a biased power-of-two exponent, uint8) of the smallest power of two that
    is at least the float32 ``ratio`` (>= 0), and that power as float32."""
    bits = lax.bitcast_convert_type(ratio, np.uint32)
    exp = lax.shift_right_logical(bits, np.uint32(23))
    mant = bits & np.uint32(0x7FFFFF)
    # Round up unless exact, already at the largest finite code, or small enough that the
    # smallest code (2**-127, which float32 holds as a subnormal) is the nearer one.
    up = (mant > 0) & (exp != 0xFE) & ~((exp == 0) & (mant <= 0x400000))
    exp = jnp.where(up, exp + np.uint32(1), exp)
    power = lax.bitcast_convert_type(lax.shift_left(exp, np.uint32(23)), np.float32)
    power = jnp.where(power == 0, np.float32(2.0 ** -127), power)
    code = lax.bitcast_convert_type(exp.astype(np.uint8), _dtypes.float8_e8m0fnu)
    return code, power


def _quantise(x, cfg):
    """``x`` (B, R, K) as ``(values, scales)`` in ``cfg``'s format, blocks along K."""
    b, r, k = x.shape
    if k < cfg.block_size or k % cfg.block_size:
        raise ValueError(f"scaled_dot_general ({cfg.mode}): the contracted size {k} must be a "
                         f"positive multiple of the block size {cfg.block_size}. (In the "
                         "backward pass the output's non-contracted sizes are contracted and "
                         "must be multiples too.)")
    blocks = jnp.reshape(x, (b, r, k // cfg.block_size, cfg.block_size))
    vmax = np.float32(_dtypes.finfo(cfg.data_type).max)
    if cfg.mode in ("mxfp8", "mxfp4"):
        if cfg.global_scale is not None:
            raise ValueError(f"scaled_dot_general: {cfg.mode} takes no global_scale.")
        ratio = jnp.max(jnp.abs(blocks), axis=-1, keepdims=True).astype(np.float32) / vmax
        scales, power = _e8m0_round_up(ratio)
        scaled = blocks.astype(np.float32) / power
    elif cfg.mode == "nvfp4":
        smax = np.asarray(_dtypes.finfo(cfg.scale_type).max).astype(x.dtype)
        blocks = blocks / cfg.global_scale
        ratio = jnp.max(jnp.abs(blocks), axis=-1, keepdims=True).astype(np.float32) / vmax
        scales = jnp.clip(ratio, 0, smax).astype(cfg.scale_type)
        scaled = blocks / scales.astype(np.float32)
    else:
        raise ValueError(f"scaled_dot_general: unrecognised block-scale mode {cfg.mode!r}.")
    values = jnp.clip(scaled, -vmax, vmax).astype(cfg.data_type)
    return jnp.reshape(values, (b, r, k)), scales[..., 0]


# ---- scaled_dot_general ----------------------------------------------------------------------
def _to_3d(x, contract, batch):
    """``x`` transposed to (batch, kept, contracted) and flattened to (B, R, K)."""
    kept = [d for d in range(x.ndim) if d not in contract and d not in batch]
    t = jnp.transpose(x, list(batch) + kept + list(contract))
    size = lambda dims: math.prod(x.shape[d] for d in dims)  # noqa: E731
    return jnp.reshape(t, (size(batch), size(kept), size(contract))), kept


def _contract(lhs, rhs, dn, dtype, cfg_l, cfg_r, quantised=True):
    """The dot_general of ``lhs`` and ``rhs`` (batch, lhs kept, rhs kept), computed from the
    quantised operands; ``quantised=False`` is the plain product (NVFP4's gradients)."""
    (lc, rc), (lb, rb) = dn
    # Pair contracted dims in lhs's order so both operands flatten K the same way.
    a, lkept = _to_3d(lhs, lc, lb)
    b, rkept = _to_3d(rhs, rc, rb)
    if quantised:
        aq, sa = _quantise(a, cfg_l)
        bq, sb = _quantise(b, cfg_r)
        nv = cfg_l.mode == "nvfp4"
        out = _matmul_3d(aq, bq, sa, sb, np.dtype(np.float32) if nv else dtype)
        if nv:
            out = (out * (cfg_l.global_scale * cfg_r.global_scale)).astype(dtype)
    else:
        out = lax.dot_general(a, b, (((2,), (2,)), ((0,), (0,))), preferred_element_type=dtype)
    shape = ([lhs.shape[d] for d in lb] + [lhs.shape[d] for d in lkept]
             + [rhs.shape[d] for d in rkept])
    return jnp.reshape(out, shape)


def _operand_grad(g, other, n_x, dn, dtype, cfg_g, cfg_other, x_first):
    """Cotangent of operand x (rank ``n_x``) of ``dot_general(x, other)`` (``x_first``) or of
    ``dot_general(other, x)``: contract ``g`` with ``other`` over other's kept dims."""
    (xc, oc), (xb, ob) = dn
    okept = [d for d in range(other.ndim) if d not in oc and d not in ob]
    xkept = [d for d in range(n_x) if d not in xc and d not in xb]
    nb = len(xb)
    g_batch = list(range(nb))
    if x_first:   # g is (batch, x kept, other kept)
        g_other = list(range(nb + len(xkept), g.ndim))
    else:         # g is (batch, other kept, x kept)
        g_other = list(range(nb, nb + len(okept)))
    # Result: (batch, x kept, other's contracted dims in other's order).
    out = _contract(g, other, ((g_other, okept), (g_batch, ob)), dtype, cfg_g, cfg_other,
                    quantised=cfg_g.mode != "nvfp4")
    order = np.argsort(oc)
    x_contract_by_other = [xc[i] for i in order]
    return jnp.transpose(out, np.argsort(list(xb) + xkept + x_contract_by_other).tolist())


def _scaled_dot(lhs, rhs, dn, dtype, configs):
    @custom_vjp
    def f(lhs, rhs):
        return _contract(lhs, rhs, dn, dtype, configs[0], configs[1])

    def fwd(lhs, rhs):
        return f(lhs, rhs), (lhs, rhs)

    def bwd(res, g):
        lhs, rhs = res
        (lc, rc), (lb, rb) = dn
        g_l = _operand_grad(g, rhs, lhs.ndim, dn, dtype, configs[2], configs[1], True)
        g_r = _operand_grad(g, lhs, rhs.ndim, ((rc, lc), (rb, lb)), dtype, configs[2],
                            configs[0], False)
        if configs[2].mode == "nvfp4":
            # Straight-through estimator: no gradient where quantisation clipped the input.
            vmax = float(_dtypes.finfo(configs[0].data_type).max)
            smax = float(_dtypes.finfo(configs[0].scale_type).max)
            g_l = jnp.where(jnp.abs(lhs) <= configs[0].global_scale * vmax * smax, g_l, 0)
            g_r = jnp.where(jnp.abs(rhs) <= configs[1].global_scale * vmax * smax, g_r, 0)
        return g_l.astype(lhs.dtype), g_r.astype(rhs.dtype)

    f.defvjp(fwd, bwd)
    return f(lhs, rhs)


def scaled_dot_general(lhs, rhs, dimension_numbers, preferred_element_type=np.float32,
                       configs=None, implementation=None):
    """``lax.dot_general`` with both operands block-scale quantised first.

    ``lhs`` and ``rhs`` are high-precision arrays; each is quantised along its contracted axes
    with ``configs[0]`` and ``configs[1]`` (see ``get_scaled_dot_general_config``), multiplied
    with ``scaled_matmul`` and reshaped to ``dot_general``'s layout. Gradients are block-scaled
    products too, the cotangent quantised with ``configs[2]`` (NVFP4 gradients are plain
    products, zeroed where the forward quantisation clipped). On CPU this is the dequantise-
    then-dot reference path.

    Args:
      lhs: left operand.
      rhs: right operand.
      dimension_numbers: ``((lhs_contracting, rhs_contracting), (lhs_batch, rhs_batch))``.
      preferred_element_type: result dtype: float32 (default), bfloat16 or float16.
      configs: three ``BlockScaleConfig`` (lhs, rhs, gradients); None means a plain
        ``lax.dot_general``.
      implementation: deprecated and ignored (a DeprecationWarning), as in JAX.

    Returns:
      The product, batch dims first, then lhs's and rhs's free dims.

    Example::

        >>> c = nn.get_scaled_dot_general_config("mxfp8")
        >>> nn.scaled_dot_general(jnp.ones((2, 32)), jnp.ones((4, 32)), (((1,), (1,)), ((), ())),
        ...                       configs=[c, c, c]).shape
        (2, 4)
    """
    if implementation is not None:
        warnings.warn("scaled_dot_general: implementation= is ignored (the backend chooses).",
                      DeprecationWarning, stacklevel=2)
    if configs is None:
        return lax.dot_general(lhs, rhs, dimension_numbers,
                               preferred_element_type=preferred_element_type)
    dtype = np.dtype(preferred_element_type)
    if dtype not in (np.dtype(np.float32), np.dtype(_dtypes.bfloat16), np.dtype(np.float16)):
        raise TypeError("scaled_dot_general: preferred_element_type must be float32, bfloat16 "
                        f"or float16, got {dtype}.")
    configs = list(configs)
    if len(configs) != 3:
        raise ValueError("scaled_dot_general: configs must hold three BlockScaleConfig (lhs, "
                         f"rhs, gradients), got {len(configs)}.")
    lhs, rhs = jnp.asarray(lhs), jnp.asarray(rhs)
    (lc, rc), (lb, rb) = dimension_numbers
    lc, rc, lb, rb = (tuple(int(d) for d in dims) for dims in (lc, rc, lb, rb))
    if len(lc) != len(rc) or len(lb) != len(rb):
        raise ValueError("scaled_dot_general: lhs and rhs need as many contracting and as many "
                         f"batch dimensions, got {dimension_numbers}.")
    if not lb:
        # The 3-D kernels need a batch axis: add a trailing size-1 one to both operands.
        lhs, rhs = lhs[..., None], rhs[..., None]
        out = _scaled_dot(lhs, rhs, ((lc, rc), ((lhs.ndim - 1,), (rhs.ndim - 1,))), dtype,
                          configs)
        return out[0]
    return _scaled_dot(lhs, rhs, ((lc, rc), (lb, rb)), dtype, configs)


__all__ = ["get_scaled_dot_general_config", "scaled_dot_general", "scaled_matmul"]
