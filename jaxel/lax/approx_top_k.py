"""``approx_max_k`` / ``approx_min_k``: the TPU-oriented approximate top-k.

On CPU XLA computes them exactly (a stable sort, then the leading entries), and so does
jaxel. With ``aggregate_to_topk=False`` the result keeps more than ``k`` entries: as many as
the TPU algorithm would have left (``_reduction_output_size``), so shapes agree with JAX.
"""
from __future__ import annotations

import math

import numpy as np

from jaxel.lax._rules import aval_of, dtype_kind, FLOAT
from jaxel.lax.reductions import scalar_type
from jaxel.lowering.emitter import i64_array, tensor_type
from jaxel.tracing.avals import ShapedArray
from jaxel.tracing.core import Primitive
from jaxel.transforms import ad_util as _ad

approx_top_k_p = Primitive("approx_top_k", multiple_results=True)

_CHUNK = 1024  # the TPU tiling XLA's size rule assumes for rank-1 operands
_LANES = 128   # ... and for operands of higher rank


def _ceil_div(a, b):
    return -(-a // b)


def _reduction_output_size(n, rank, k, recall_target, aggregate_to_topk, size_override):
    """The length of the reduced dimension: ``k`` when aggregating, otherwise the number of
    candidates XLA's approximate algorithm keeps for the requested recall (at least a tile,
    reduced by a power of two)."""
    if aggregate_to_topk:
        return k
    tile = _CHUNK if rank == 1 else _LANES
    if n <= tile:
        return n
    if size_override >= 0 and n > size_override:
        raise ValueError(f"reduction_input_size_override ({size_override}) must be at least "
                         f"the size of the reduction dimension ({n}).")
    logical = size_override if size_override >= 0 else n
    if k == 1:
        return tile
    recall = float(np.float32(recall_target))  # XLA takes the recall as a C float
    if recall == 1.0:
        return n
    if not 0.0 < recall <= 1.0:
        raise ValueError("recall_target should range in (0,1]")
    # Expected recall with M windows is about exp((1 - k) / M): pick M for the target.
    windows = min(max(int((1.0 - k) / math.log(recall)), tile), logical)
    ratio = logical // windows
    shift = ratio.bit_length() - 1 if ratio else 0
    if shift <= 0:
        return n
    whole = n // tile  # reduce at most to about one tile per original tile
    shift = min(shift, (whole - 1).bit_length() if whole > 1 else 0)
    return _ceil_div(_ceil_div(n, tile), 1 << shift) * tile


def _abstract_eval(x, *, k, reduction_dimension, recall_target, is_max_k,
                   reduction_input_size_override, aggregate_to_topk):
    if k <= 0:
        raise ValueError(f"k must be positive, got {k}")
    if x.ndim == 0:
        raise TypeError(f"approx_top_k operand must have >= 1 dimension, got {x.shape}")
    if dtype_kind(x.dtype) != FLOAT:
        raise ValueError("operand must be a floating type")
    d = reduction_dimension % x.ndim
    n = x.shape[d]
    effective = (max(n, reduction_input_size_override)
                 if not aggregate_to_topk and reduction_input_size_override >= 0 else n)
    if effective < k:
        raise ValueError(f"k must be smaller than the size of reduction_dim {effective}, "
                         f"got {k}")
    shape = list(x.shape)
    shape[d] = _reduction_output_size(n, x.ndim, k, recall_target, aggregate_to_topk,
                                      reduction_input_size_override)
    shape = tuple(shape)
    return [ShapedArray(shape, x.dtype, x.weak_type), ShapedArray(shape, np.dtype(np.int32))]


def _lowering(ctx, x, *, k, reduction_dimension, recall_target, is_max_k,
              reduction_input_size_override, aggregate_to_topk):
    e = ctx.e
    xa = ctx.avals_in[0]
    d = reduction_dimension % xa.ndim
    i32 = np.dtype(np.int32)
    ia = xa.update(dtype=i32, weak_type=False)
    idx = e.op1("stablehlo.iota", [], tensor_type(ia), f"iota_dimension = {d} : i64")
    st, it = scalar_type(xa.dtype), scalar_type(i32)
    direction = "GT" if is_max_k else "LT"
    # IEEE total order: NaN ranks above +inf, so it leads a max-k and trails a min-k.
    region = e.region([st, st, it, it], lambda a, b, _i, _j: e.op1(
        "stablehlo.compare", [a, b], "tensor<i1>",
        f"comparison_direction = #stablehlo<comparison_direction {direction}>, "
        "compare_type = #stablehlo<comparison_type TOTALORDER>"))
    vals, inds = e.op("stablehlo.sort", [x, idx], [tensor_type(xa), tensor_type(ia)],
                      f"dimension = {d} : i64, is_stable = true", regions=[region])
    out = ctx.avals_out[0]
    if out.shape == xa.shape:
        return [vals, inds]
    attrs = (f"start_indices = {i64_array([0] * xa.ndim)}, "
             f"limit_indices = {i64_array(out.shape)}, strides = {i64_array([1] * xa.ndim)}")
    return [e.op1("stablehlo.slice", [vals], tensor_type(out), attrs),
            e.op1("stablehlo.slice", [inds], tensor_type(ctx.avals_out[1]), attrs)]


def _jvp(primals, tangents, **params):
    from jaxel.lax.reductions import _take_along_axis
    (x,), (t,) = primals, tangents
    vals, inds = approx_top_k_p.bind(x, **params)
    if type(t) is _ad.Zero:
        return [vals, inds], [_ad.zero_like(vals), _ad.zero_like(inds)]
    d = params["reduction_dimension"] % aval_of(x).ndim
    return [vals, inds], [_take_along_axis(t, inds, d), _ad.zero_like(inds)]


def _batch(args, dims, *, reduction_dimension, **params):
    (x,), (bd,) = args, dims
    nd = aval_of(x).ndim - 1
    r = reduction_dimension % nd
    r = r if r < bd else r + 1
    out = approx_top_k_p.bind(x, reduction_dimension=r, **params)
    return out, [bd, bd]


approx_top_k_p.abstract_eval = _abstract_eval
approx_top_k_p.lowering = _lowering
approx_top_k_p.jvp = _jvp
approx_top_k_p.batch = _batch


def _bind(operand, k, reduction_dimension, recall_target, reduction_input_size_override,
          aggregate_to_topk, is_max_k):
    vals, inds = approx_top_k_p.bind(
        operand, k=int(k), reduction_dimension=int(reduction_dimension),
        recall_target=float(recall_target), is_max_k=is_max_k,
        reduction_input_size_override=int(reduction_input_size_override),
        aggregate_to_topk=bool(aggregate_to_topk))
    return [vals, inds]


def approx_max_k(operand, k, reduction_dimension=-1, recall_target=0.95,
                 reduction_input_size_override=-1, aggregate_to_topk=True):
    """The ``k`` largest entries of a floating ``operand`` along ``reduction_dimension`` and
    their int32 indices, as ``[values, indices]`` in descending order.

    The recall options shape the result as on TPU, but on CPU the answer is exact (as in JAX):
    NaN ranks above +inf and ties keep index order. ``aggregate_to_topk=False`` returns the
    leading candidates (more than ``k``) instead of exactly ``k``.

    Example::

        >>> lax.approx_max_k(jnp.array([1.0, 4.0, 2.0]), 2)
        [Array([4., 2.], dtype=float32), Array([1, 2], dtype=int32)]
    """
    return _bind(operand, k, reduction_dimension, recall_target, reduction_input_size_override,
                 aggregate_to_topk, True)


def approx_min_k(operand, k, reduction_dimension=-1, recall_target=0.95,
                 reduction_input_size_override=-1, aggregate_to_topk=True):
    """The ``k`` smallest entries of a floating ``operand`` along ``reduction_dimension`` and
    their int32 indices, as ``[values, indices]`` in ascending order (exact on CPU; see
    ``approx_max_k``).

    Example::

        >>> lax.approx_min_k(jnp.array([1.0, 4.0, 2.0]), 2)
        [Array([1., 2.], dtype=float32), Array([0, 2], dtype=int32)]
    """
    return _bind(operand, k, reduction_dimension, recall_target, reduction_input_size_override,
                 aggregate_to_topk, False)


__all__ = ["approx_max_k", "approx_min_k", "approx_top_k_p"]
