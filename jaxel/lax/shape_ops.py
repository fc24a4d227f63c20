"""Shape primitives: broadcast_in_dim, reshape (more join them: transpose, squeeze, pad, ...).

Each primitive is declared once with its abstract evaluation and lowering.
"""
from __future__ import annotations

import numpy as np

from jaxel.lowering.emitter import i64_array, narrow_two_bit, tensor_type, widen_two_bit
from jaxel.tracing.avals import ShapedArray
from jaxel.tracing.core import Primitive

broadcast_in_dim_p = Primitive("broadcast_in_dim")


def _broadcast_in_dim_abstract_eval(x, *, shape, broadcast_dimensions, sharding=None):
    if len(broadcast_dimensions) != x.ndim:
        raise TypeError(f"lax.broadcast_in_dim: broadcast_dimensions {broadcast_dimensions} must "
                        f"have one entry per operand dimension (operand shape {x.shape}).")
    for i, d in enumerate(broadcast_dimensions):
        if not 0 <= d < len(shape) or x.shape[i] not in (1, shape[d]):
            raise TypeError(f"lax.broadcast_in_dim: operand shape {x.shape} cannot be broadcast "
                            f"to {shape} with broadcast_dimensions {broadcast_dimensions}.")
    if list(broadcast_dimensions) != sorted(set(broadcast_dimensions)):
        raise TypeError(f"lax.broadcast_in_dim: broadcast_dimensions {broadcast_dimensions} "
                        "must be strictly increasing.")
    return ShapedArray(shape, x.dtype, x.weak_type)


def _broadcast_in_dim_lowering(ctx, x, *, shape, broadcast_dimensions, sharding=None):
    return ctx.e.op1("stablehlo.broadcast_in_dim", [x], tensor_type(ctx.avals_out[0]),
                     f"broadcast_dimensions = {i64_array(broadcast_dimensions)}")


broadcast_in_dim_p.abstract_eval = _broadcast_in_dim_abstract_eval
broadcast_in_dim_p.lowering = _broadcast_in_dim_lowering

reshape_p = Primitive("reshape")


def _reshape_abstract_eval(x, *, new_sizes, dimensions=None, sharding=None):
    if int(np.prod(new_sizes)) != x.size or any(d < 0 for d in new_sizes):
        raise TypeError(f"lax.reshape: cannot reshape an array of shape {x.shape} "
                        f"({x.size} elements) into shape {tuple(new_sizes)}.")
    return ShapedArray(new_sizes, x.dtype, x.weak_type)


def _reshape_lowering(ctx, x, *, new_sizes, dimensions=None, sharding=None):
    if dimensions is not None and tuple(dimensions) != tuple(range(ctx.avals_in[0].ndim)):
        from jaxel.lax.shape_ops import _transpose_text
        x = _transpose_text(ctx, x, dimensions)
    return ctx.e.op1("stablehlo.reshape", [x], tensor_type(ctx.avals_out[0]))


def _transpose_text(ctx, x, perm):
    a = ctx.avals_in[0]
    t = tensor_type(a.update(shape=tuple(a.shape[p] for p in perm)))
    return ctx.e.op1("stablehlo.transpose", [x], t, f"permutation = {i64_array(perm)}")


reshape_p.abstract_eval = _reshape_abstract_eval
reshape_p.lowering = _reshape_lowering


def broadcast_in_dim(operand, shape, broadcast_dimensions, out_sharding=None):
    """Broadcast ``operand`` to ``shape``; operand dim i maps to ``broadcast_dimensions[i]``."""
    shape = tuple(int(d) for d in shape)
    dims = tuple(int(d) for d in broadcast_dimensions)
    aval = getattr(operand, "aval", None)
    if aval is not None and aval.shape == shape and dims == tuple(range(len(shape))):
        return operand
    return broadcast_in_dim_p.bind(operand, shape=shape, broadcast_dimensions=dims, sharding=None)


def reshape(operand, new_sizes, dimensions=None, out_sharding=None):
    """Reshape ``operand`` to ``new_sizes`` (after transposing by ``dimensions`` if given)."""
    new_sizes = tuple(int(d) for d in new_sizes)
    dims = None if dimensions is None else tuple(int(d) for d in dimensions)
    aval = getattr(operand, "aval", None)
    if aval is not None and aval.shape == new_sizes and dims is None:
        return operand
    return reshape_p.bind(operand, new_sizes=new_sizes, dimensions=dims, sharding=None)


__all__ = ["broadcast_in_dim", "reshape", "broadcast_in_dim_p", "reshape_p"]


# ---- transpose, squeeze, expand_dims, rev ----------------------------------------------------
transpose_p = Primitive("transpose")


def _transpose_abstract_eval(x, *, permutation):
    if sorted(permutation) != list(range(x.ndim)):
        raise TypeError(f"lax.transpose: permutation {permutation} is not a permutation of the "
                        f"operand's {x.ndim} dimensions (shape {x.shape}).")
    return ShapedArray(tuple(x.shape[p] for p in permutation), x.dtype, x.weak_type)


transpose_p.abstract_eval = _transpose_abstract_eval
transpose_p.lowering = lambda ctx, x, *, permutation: ctx.e.op1(
    "stablehlo.transpose", [x], tensor_type(ctx.avals_out[0]),
    f"permutation = {i64_array(permutation)}")


def transpose(operand, permutation):
    """Permute the dimensions of ``operand``."""
    permutation = tuple(int(p) for p in permutation)
    if permutation == tuple(range(len(permutation))) and getattr(operand, "aval", None) is not None \
            and operand.aval.ndim == len(permutation):
        return operand
    return transpose_p.bind(operand, permutation=permutation)


squeeze_p = Primitive("squeeze")


def _squeeze_abstract_eval(x, *, dimensions):
    for d in dimensions:
        if not 0 <= d < x.ndim or x.shape[d] != 1:
            raise ValueError(f"lax.squeeze: cannot squeeze dimension {d} of an array of shape "
                             f"{x.shape} (only dimensions of size 1 can be squeezed).")
    return ShapedArray(tuple(s for i, s in enumerate(x.shape) if i not in dimensions), x.dtype,
                       x.weak_type)


squeeze_p.abstract_eval = _squeeze_abstract_eval
squeeze_p.lowering = lambda ctx, x, *, dimensions: ctx.e.op1(
    "stablehlo.reshape", [x], tensor_type(ctx.avals_out[0]))


def squeeze(array, dimensions):
    """Remove the given size-1 dimensions."""
    ndim = _ndim(array)
    dims = tuple(sorted(int(d) % ndim if ndim else int(d) for d in dimensions))
    if not dims:
        return array
    return squeeze_p.bind(array, dimensions=dims)


def _ndim(x):
    a = getattr(x, "aval", None)
    return a.ndim if a is not None else np.ndim(x)


def expand_dims(array, dimensions):
    """Insert size-1 dimensions at ``dimensions`` (positions in the result)."""
    aval = getattr(array, "aval", None)
    shape = list(aval.shape if aval is not None else np.shape(array))
    out_ndim = len(shape) + len(dimensions)
    for d in sorted(int(d) % out_ndim for d in dimensions):
        shape.insert(d, 1)
    return reshape(array, tuple(shape))


rev_p = Primitive("rev")


def _rev_abstract_eval(x, *, dimensions):
    for d in dimensions:
        if not 0 <= d < x.ndim:
            raise ValueError(f"lax.rev: dimension {d} out of range for shape {x.shape}.")
    return x


rev_p.abstract_eval = _rev_abstract_eval
rev_p.lowering = lambda ctx, x, *, dimensions: ctx.e.op1(
    "stablehlo.reverse", [x], tensor_type(ctx.avals_out[0]),
    f"dimensions = {i64_array(dimensions)}")


def rev(operand, dimensions):
    """Reverse ``operand`` along ``dimensions``."""
    return rev_p.bind(operand, dimensions=tuple(int(d) for d in dimensions))


# ---- pad, concatenate, slice ------------------------------------------------------------------
pad_p = Primitive("pad")


def _pad_abstract_eval(x, padding_value, *, padding_config):
    if padding_value.shape != () or padding_value.dtype != x.dtype:
        raise TypeError(f"lax.pad: padding_value must be a scalar of the operand's dtype "
                        f"{x.dtype}, got {padding_value.str_short()}.")
    if len(padding_config) != x.ndim:
        raise TypeError(f"lax.pad: padding_config has {len(padding_config)} entries for an "
                        f"operand of rank {x.ndim}.")
    shape = []
    for d, (lo, hi, interior) in zip(x.shape, padding_config):
        if interior < 0:
            raise ValueError("lax.pad: interior padding must be non-negative.")
        size = lo + hi + d + max(d - 1, 0) * interior
        if size < 0:
            raise ValueError(f"lax.pad: padding {padding_config} makes a negative size.")
        shape.append(size)
    return ShapedArray(tuple(shape), x.dtype, x.weak_type and padding_value.weak_type)


def _pad_lowering(ctx, x, pv, *, padding_config):
    lo = [c[0] for c in padding_config]
    hi = [c[1] for c in padding_config]
    it = [c[2] for c in padding_config]
    return ctx.e.op1("stablehlo.pad", [x, pv], tensor_type(ctx.avals_out[0]),
                     f"edge_padding_low = {i64_array(lo)}, edge_padding_high = {i64_array(hi)}, "
                     f"interior_padding = {i64_array(it)}")


pad_p.abstract_eval = _pad_abstract_eval
pad_p.lowering = _pad_lowering


def pad(operand, padding_value, padding_config):
    """Pad ``operand``: ``padding_config`` is ``[(low, high, interior), ...]`` per dimension
    (negative low/high crop)."""
    from jaxel.lax._rules import as_operands
    operand, padding_value = as_operands(operand, padding_value)
    cfg = tuple((int(a), int(b), int(c)) for a, b, c in padding_config)
    return pad_p.bind(operand, padding_value, padding_config=cfg)


concatenate_p = Primitive("concatenate")


def _concatenate_abstract_eval(*xs, dimension):
    if not xs:
        raise ValueError("lax.concatenate needs at least one operand.")
    x0 = xs[0]
    if not 0 <= dimension < max(x0.ndim, 1):
        raise ValueError(f"lax.concatenate: dimension {dimension} out of range for rank "
                         f"{x0.ndim}.")
    for x in xs:
        if x.dtype != x0.dtype:
            raise TypeError("lax.concatenate requires operands of one dtype, got "
                            f"{[a.dtype.name for a in xs]}.")
        if x.ndim != x0.ndim or any(a != b for i, (a, b) in enumerate(zip(x.shape, x0.shape))
                                    if i != dimension):
            raise TypeError("lax.concatenate: operands must have equal shapes except along "
                            f"dimension {dimension}; got {[a.shape for a in xs]}.")
    shape = list(x0.shape)
    shape[dimension] = sum(x.shape[dimension] for x in xs)
    return ShapedArray(tuple(shape), x0.dtype, all(x.weak_type for x in xs))


concatenate_p.abstract_eval = _concatenate_abstract_eval


def _concatenate_lowering(ctx, *xs, dimension):
    # 2-bit elements are joined as 8-bit ones: XLA's CPU kernel aborts on them (widen_two_bit).
    e, out = ctx.e, ctx.avals_out[0]
    wide = [widen_two_bit(e, x, a) for x, a in zip(xs, ctx.avals_in)]
    joined = e.op1("stablehlo.concatenate", [x for x, _ in wide],
                   tensor_type(out.update(dtype=wide[0][1].dtype)),
                   f"dimension = {int(dimension)} : i64")
    return narrow_two_bit(e, joined, out)


concatenate_p.lowering = _concatenate_lowering


def concatenate(operands, dimension):
    """Join ``operands`` (same dtype and shapes but along ``dimension``)."""
    operands = list(operands)
    if len(operands) == 1:
        return operands[0]
    return concatenate_p.bind(*operands, dimension=int(dimension))


slice_p = Primitive("slice")


def _slice_abstract_eval(x, *, start_indices, limit_indices, strides):
    if not (len(start_indices) == len(limit_indices) == x.ndim) or \
            (strides is not None and len(strides) != x.ndim):
        raise TypeError(f"lax.slice: need one start/limit/stride per dimension of shape "
                        f"{x.shape}; got {start_indices}, {limit_indices}, {strides}.")
    strides = strides or (1,) * x.ndim
    shape = []
    for d, s, l, st in zip(x.shape, start_indices, limit_indices, strides):
        if not 0 <= s <= l <= d or st < 1:
            raise IndexError(f"lax.slice: start_indices {start_indices}, limit_indices "
                             f"{limit_indices}, strides {strides} are invalid for shape "
                             f"{x.shape}.")
        shape.append((l - s + st - 1) // st)
    return ShapedArray(tuple(shape), x.dtype, x.weak_type)


def _slice_lowering(ctx, x, *, start_indices, limit_indices, strides):
    strides = strides or (1,) * len(start_indices)
    return ctx.e.op1("stablehlo.slice", [x], tensor_type(ctx.avals_out[0]),
                     f"start_indices = {i64_array(start_indices)}, "
                     f"limit_indices = {i64_array(limit_indices)}, strides = {i64_array(strides)}")


def _slice_eager(x, *, start_indices, limit_indices, strides):
    """Eager ``slice``: its static starts become device-scalar operands of a
    ``dynamic_slice`` (then a stride-only ``slice`` from 0 if strided), so the executables
    depend on the window's shape, not on where it starts: a loop slicing at many offsets
    (``split``, ``x[i:i + k]``, ``index_in_dim``) compiles once, not once per offset. Under a
    trace ``slice`` stays static (this runs only on concrete operands)."""
    from jaxel.lax.slicing import dynamic_slice_p  # slicing imports this module
    from jaxel.runtime.array import Array
    from jaxel.runtime.transfer import scalar_to_array
    from jaxel.tracing.eval_trace import apply_primitive
    params = dict(start_indices=start_indices, limit_indices=limit_indices, strides=strides)
    if type(x) is not Array or x._device is not None or not any(start_indices):
        return apply_primitive(slice_p, (x,), params)
    window = tuple(hi - lo for lo, hi in zip(start_indices, limit_indices))
    dt = np.dtype(np.int32 if max(x.shape) < 2 ** 31 else np.int64)
    idt = ShapedArray((), dt)
    # the starts are in [0, dim - window], so dynamic_slice's clamping never moves them
    starts = [scalar_to_array(np.asarray(i, dt), idt, None) for i in start_indices]
    y = dynamic_slice_p.bind(x, *starts, slice_sizes=window)
    if strides is None or all(st == 1 for st in strides):
        return y
    return slice_p.bind(y, start_indices=(0,) * len(window), limit_indices=window,
                        strides=strides)


slice_p.abstract_eval = _slice_abstract_eval
slice_p.lowering = _slice_lowering
slice_p.impl = _slice_eager


def slice(operand, start_indices, limit_indices, strides=None):  # noqa: A001
    """Static slice ``operand[start:limit:stride]`` per dimension."""
    return slice_p.bind(operand, start_indices=tuple(int(i) for i in start_indices),
                        limit_indices=tuple(int(i) for i in limit_indices),
                        strides=None if strides is None else tuple(int(s) for s in strides))


def slice_in_dim(operand, start_index, limit_index, stride=1, axis=0):
    """``lax.slice`` along one axis."""
    shape = operand.shape
    axis = int(axis) % len(shape)
    start = [0] * len(shape)
    limit = list(shape)
    strides = [1] * len(shape)
    n = shape[axis]
    s = 0 if start_index is None else (start_index + n if start_index < 0 else start_index)
    e = n if limit_index is None else (limit_index + n if limit_index < 0 else limit_index)
    start[axis], limit[axis], strides[axis] = s, e, stride
    return slice(operand, start, limit, strides)


def index_in_dim(operand, index, axis=0, keepdims=True):
    """Take index ``index`` along ``axis`` (keeping the axis as size 1 if ``keepdims``)."""
    n = operand.shape[axis]
    index = index + n if index < 0 else index
    out = slice_in_dim(operand, index, index + 1, 1, axis)
    return out if keepdims else squeeze(out, (axis,))


# ---- iota --------------------------------------------------------------------------------------
iota_p = Primitive("iota")


def _iota_abstract_eval(*, dtype, shape, dimension, sharding=None):
    if not 0 <= dimension < len(shape):
        raise ValueError(f"lax.iota: dimension {dimension} out of range for shape {shape}.")
    return ShapedArray(shape, dtype, False)


iota_p.abstract_eval = _iota_abstract_eval
iota_p.lowering = lambda ctx, *, dtype, shape, dimension, sharding=None: ctx.e.op1(
    "stablehlo.iota", [], tensor_type(ctx.avals_out[0]), f"iota_dimension = {int(dimension)} : i64")


def iota(dtype, size):
    """``[0, 1, ..., size - 1]`` of ``dtype``."""
    from jaxel import dtypes as _dtypes
    dt = _dtypes.canonicalize_dtype(np.dtype(dtype))
    return iota_p.bind(dtype=dt, shape=(int(size),), dimension=0, sharding=None)


def broadcasted_iota(dtype, shape, dimension):
    """An array of ``shape`` whose values count along ``dimension``."""
    from jaxel import dtypes as _dtypes
    dt = _dtypes.canonicalize_dtype(np.dtype(dtype))
    shape = tuple(int(s) for s in shape)
    return iota_p.bind(dtype=dt, shape=shape, dimension=int(dimension) % len(shape),
                       sharding=None)


def broadcast(operand, sizes):
    """Add leading dimensions ``sizes`` to ``operand``."""
    nd = _ndim(operand)
    sizes = tuple(int(s) for s in sizes)
    shape = sizes + tuple(getattr(operand, "shape", np.shape(operand)))
    return broadcast_in_dim(operand, shape, tuple(range(len(sizes), len(sizes) + nd)))


__all__ = ["broadcast_in_dim", "reshape", "transpose", "squeeze", "expand_dims", "rev", "pad",
           "concatenate", "slice", "slice_in_dim", "index_in_dim", "iota", "broadcasted_iota",
           "broadcast", "broadcast_in_dim_p", "reshape_p", "transpose_p", "squeeze_p", "rev_p",
           "pad_p", "concatenate_p", "slice_p", "iota_p"]


# ---- differentiation rules -------------------------------------------------------------------
from jaxel.transforms import ad_util as _ad  # noqa: E402


def _broadcast_in_dim_transpose(ct, x, *, shape, broadcast_dimensions, sharding=None):
    from jaxel.lax.reductions import reduce_sum_p
    in_shape = x.aval.shape
    # Sum over the new dimensions and over the size-1 dimensions that were expanded.
    new_dims = tuple(d for d in range(len(shape)) if d not in broadcast_dimensions)
    expanded = tuple(bd for i, bd in enumerate(broadcast_dimensions)
                     if in_shape[i] == 1 and shape[bd] != 1)
    axes = tuple(sorted(new_dims + expanded))
    out = reduce_sum_p.bind(ct, axes=axes) if axes else ct
    if expanded:
        out = reshape_p.bind(out, new_sizes=in_shape, dimensions=None, sharding=None)
    return [out]


_ad.deflinear(broadcast_in_dim_p, _broadcast_in_dim_transpose)


def _reshape_transpose(ct, x, *, new_sizes, dimensions=None, sharding=None):
    in_shape = x.aval.shape
    if dimensions is None or tuple(dimensions) == tuple(range(len(in_shape))):
        return [reshape_p.bind(ct, new_sizes=in_shape, dimensions=None, sharding=None)]
    # Forward: transpose by ``dimensions``, then reshape. Backward: reshape to the transposed
    # shape, then apply the inverse permutation.
    perm = tuple(int(d) for d in dimensions)
    t_shape = tuple(in_shape[p] for p in perm)
    out = reshape_p.bind(ct, new_sizes=t_shape, dimensions=None, sharding=None)
    return [transpose_p.bind(out, permutation=tuple(int(i) for i in np.argsort(perm)))]


_ad.deflinear(reshape_p, _reshape_transpose)
_ad.deflinear(transpose_p, lambda ct, x, *, permutation: [
    transpose_p.bind(ct, permutation=tuple(int(i) for i in np.argsort(permutation)))])
_ad.deflinear(squeeze_p, lambda ct, x, *, dimensions: [
    reshape_p.bind(ct, new_sizes=x.aval.shape, dimensions=None, sharding=None)])
_ad.deflinear(rev_p, lambda ct, x, *, dimensions: [rev_p.bind(ct, dimensions=dimensions)])


def _unpad(ct, operand_shape, padding_config):
    """The entries of ``ct`` (a ``pad`` output) that came from the operand: the adjoint of
    ``pad`` in its operand. Cropped operand entries (negative edge padding) get zeros."""
    ct_aval = _ad.aval_of(ct)
    if any(lo < 0 or hi < 0 for lo, hi, _ in padding_config):
        zero = _ad.zeros_like_aval(ShapedArray((), ct_aval.dtype, ct_aval.weak_type))
        ct = pad_p.bind(ct, zero, padding_config=tuple(
            (max(-lo, 0), max(-hi, 0), 0) for lo, hi, _ in padding_config))
    shape = _ad.aval_of(ct).shape
    start = tuple(max(lo, 0) for lo, _, _ in padding_config)
    limit = tuple(n - max(hi, 0) for n, (_, hi, _) in zip(shape, padding_config))
    strides = tuple(it + 1 for _, _, it in padding_config)
    if all(s == 0 for s in start) and limit == shape and all(s == 1 for s in strides):
        out = ct
    else:
        out = slice_p.bind(ct, start_indices=start, limit_indices=limit,
                           strides=None if all(s == 1 for s in strides) else strides)
    assert _ad.aval_of(out).shape == tuple(operand_shape), (out, operand_shape)
    return out


def _pad_transpose(ct, x, padding_value, *, padding_config):
    from jaxel.lax.reductions import reduce_sum_p
    x_shape = _ad.aval_of(x).shape
    t_operand = _unpad(ct, x_shape, padding_config)
    cx = t_operand if _ad.is_undefined(x) else None
    cpv = None
    if _ad.is_undefined(padding_value):
        from jaxel.lax.elementwise import sub_p
        nd = len(x_shape)
        total = reduce_sum_p.bind(ct, axes=tuple(range(nd))) if nd else ct
        inner = reduce_sum_p.bind(t_operand, axes=tuple(range(nd))) if nd else t_operand
        cpv = sub_p.bind(total, inner)
    return [cx, cpv]


_ad.deflinear(pad_p, _pad_transpose)


def _concatenate_transpose(ct, *xs, dimension):
    out = []
    offset = 0
    ct_shape = _ad.aval_of(ct).shape
    for x in xs:
        n = _ad.aval_of(x).shape[dimension]
        if _ad.is_undefined(x):
            start = [0] * len(ct_shape)
            limit = list(ct_shape)
            start[dimension], limit[dimension] = offset, offset + n
            out.append(slice_p.bind(ct, start_indices=tuple(start), limit_indices=tuple(limit),
                                    strides=None))
        else:
            out.append(None)
        offset += n
    return out


_ad.deflinear(concatenate_p, _concatenate_transpose)


def _slice_transpose(ct, x, *, start_indices, limit_indices, strides):
    x_aval = x.aval
    ct_aval = _ad.aval_of(ct)
    strides = strides or (1,) * x_aval.ndim
    cfg = []
    for d, s, n, st in zip(x_aval.shape, start_indices, ct_aval.shape, strides):
        covered = (n - 1) * st + 1 if n > 0 else 0
        cfg.append((int(s), int(d - s - covered), int(st - 1)))
    zero = _ad.zeros_like_aval(ShapedArray((), ct_aval.dtype, ct_aval.weak_type))
    return [pad_p.bind(ct, zero, padding_config=tuple(cfg))]


_ad.deflinear(slice_p, _slice_transpose)
_ad.defjvp_zero(iota_p)


# ---- batching rules ----------------------------------------------------------------------------
# ``_val_dim(j, d)``: where logical (per-example) dimension j sits in a value batched at d.
from jaxel.transforms import batching as _batching  # noqa: E402


def _val_dim(j, d):
    return j if j < d else j + 1


def _broadcast_in_dim_batch(args, dims, *, shape, broadcast_dimensions, sharding=None):
    # Put the batch dimension right after the output dimension the previous operand dimension
    # maps to: the operand needs no transpose and broadcast_dimensions stay increasing.
    (x,), (d,) = args, dims
    bd = broadcast_dimensions
    p = bd[d - 1] + 1 if d > 0 else 0
    size = _ad.aval_of(x).shape[d]
    new_bd = tuple(b if b < p else b + 1 for b in bd[:d]) + (p,) + tuple(b + 1 for b in bd[d:])
    out_shape = tuple(shape[:p]) + (size,) + tuple(shape[p:])
    return broadcast_in_dim_p.bind(x, shape=out_shape, broadcast_dimensions=new_bd,
                                   sharding=sharding), p


def _reshape_batch(args, dims, *, new_sizes, dimensions=None, sharding=None):
    (x,), (d,) = args, dims
    x = _batching.move_axis(x, d, 0)
    if dimensions is not None:
        dimensions = (0,) + tuple(i + 1 for i in dimensions)
    size = _ad.aval_of(x).shape[0]
    return reshape_p.bind(x, new_sizes=(size,) + tuple(new_sizes), dimensions=dimensions,
                          sharding=sharding), 0


def _transpose_batch(args, dims, *, permutation):
    (x,), (d,) = args, dims
    perm = [_val_dim(p, d) for p in permutation]
    perm.insert(d, d)
    return transpose_p.bind(x, permutation=tuple(perm)), d


def _squeeze_batch(args, dims, *, dimensions):
    (x,), (d,) = args, dims
    new = tuple(_val_dim(j, d) for j in dimensions)
    return squeeze_p.bind(x, dimensions=new), d - sum(1 for j in new if j < d)


def _rev_batch(args, dims, *, dimensions):
    (x,), (d,) = args, dims
    return rev_p.bind(x, dimensions=tuple(_val_dim(j, d) for j in dimensions)), d


def _pad_batch(args, dims, *, padding_config):
    (x, pv), (d, dv) = args, dims
    size = _batching.batch_size_of(args, dims)
    if dv is None:
        cfg = list(padding_config)
        cfg.insert(d, (0, 0, 0))
        return pad_p.bind(x, pv, padding_config=tuple(cfg)), d
    # A padding value per example: pad with anything, then choose per element with a mask.
    from jaxel.lax.elementwise import select_n_p
    from jaxel.tracing.core import literal
    x = _batching.bdim_at_front(x, d, size)
    cfg = ((0, 0, 0),) + tuple(padding_config)
    zero = literal(0, _ad.aval_of(x).dtype, False)
    padded = pad_p.bind(x, zero, padding_config=cfg)
    ones = broadcast_in_dim_p.bind(literal(True, np.dtype(bool), False),
                                   shape=_ad.aval_of(x).shape, broadcast_dimensions=())
    mask = pad_p.bind(ones, literal(False, np.dtype(bool), False), padding_config=cfg)
    out_shape = _ad.aval_of(padded).shape
    pv = broadcast_in_dim_p.bind(_batching.move_axis(pv, dv, 0), shape=out_shape,
                                 broadcast_dimensions=(0,))
    return select_n_p.bind(mask, pv, padded), 0


def _concatenate_batch(args, dims, *, dimension):
    size = _batching.batch_size_of(args, dims)
    out_d = next(d for d in dims if d is not None)
    xs = [_batching.matchaxis(x, d, out_d, size) for x, d in zip(args, dims)]
    return concatenate_p.bind(*xs, dimension=_val_dim(dimension, out_d)), out_d


def _slice_batch(args, dims, *, start_indices, limit_indices, strides):
    (x,), (d,) = args, dims
    size = _ad.aval_of(x).shape[d]
    starts, limits = list(start_indices), list(limit_indices)
    starts.insert(d, 0)
    limits.insert(d, size)
    if strides is not None:
        strides = list(strides)
        strides.insert(d, 1)
        strides = tuple(strides)
    return slice_p.bind(x, start_indices=tuple(starts), limit_indices=tuple(limits),
                        strides=strides), d


broadcast_in_dim_p.batch = _broadcast_in_dim_batch
reshape_p.batch = _reshape_batch
transpose_p.batch = _transpose_batch
squeeze_p.batch = _squeeze_batch
rev_p.batch = _rev_batch
pad_p.batch = _pad_batch
concatenate_p.batch = _concatenate_batch
slice_p.batch = _slice_batch
