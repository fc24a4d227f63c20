"""Slicing primitives: dynamic_slice, dynamic_update_slice, gather and the scatter family.

Each primitive is declared once with its abstract evaluation and lowering; the public wrappers
keep ``jax.lax``'s names and signatures. Index conventions follow JAX: gather and scatter take
their index vectors along the *last* dimension of the indices array.

Out-of-bounds handling (``GatherScatterMode``) lives in the lowerings, not in the wrappers, so
a jaxpr holds one ``gather``/``scatter`` equation whose ``mode`` parameter says what happens
(as in JAX's jaxprs), and the autodiff and batching rules see a single primitive:

* gather: StableHLO's gather already clamps start indices so each slice lies in bounds, which
  is ``CLIP`` and a valid ``PROMISE_IN_BOUNDS``. ``FILL_OR_DROP`` lowers to a clamped gather
  followed by a select against an in-bounds mask built from the indices.
* scatter: StableHLO's scatter skips an update window that is not fully in bounds, which is
  ``FILL_OR_DROP`` (and a valid ``PROMISE_IN_BOUNDS``). ``CLIP`` clamps the indices first.

The composite lowerings are written with lax functions and inlined by ``_lower_composite``.
"""
from __future__ import annotations

import enum
import math
from typing import NamedTuple

import numpy as np

from jaxel import dtypes as _dtypes
from jaxel.lax import elementwise as _ew
from jaxel.lax import shape_ops as _shape
from jaxel.lax._rules import aval_of, as_operands, dtype_kind, INT, SINT
from jaxel.lowering.emitter import i64_array, tensor_type
from jaxel.tracing.avals import ShapedArray
from jaxel.tracing.core import Primitive, literal



# ---- shared helpers --------------------------------------------------------------------------
def _is_static_int(x) -> bool:
    """A Python or NumPy integer known at trace time (bools are not indices)."""
    if isinstance(x, (bool, np.bool_)):
        return False
    if isinstance(x, (int, np.integer)):
        return True
    return isinstance(x, np.ndarray) and x.ndim == 0 and x.dtype.kind in "iu"


def _check_index_scalar(fun: str, what: str, aval: ShapedArray):
    if aval.shape != () or dtype_kind(aval.dtype) not in INT:
        raise TypeError(f"lax.{fun}: {what} must be a scalar of integer type, got "
                        f"{aval.str_short()}.")


def _index_dtype(avals) -> np.dtype:
    """The one integer dtype for a group of index operands: their own if they agree and are
    32 or 64 bits wide, else int32 (int64 with x64 if one is 64-bit). Narrow indices widen so
    that ``i + dim`` (negative wrapping) cannot overflow."""
    dts = {a.dtype for a in avals}
    if len(dts) == 1:
        dt = next(iter(dts))
        if dt.itemsize >= 4 and dt.kind == "i":
            return dt
    wide = any(dt.itemsize == 8 for dt in dts)
    return _dtypes.canonicalize_dtype(np.dtype(np.int64 if wide else np.int32))


def _prepare_start_indices(fun, operand_shape, start_indices, allow_negative):
    """Scalar start-index operands of one dtype, negative values wrapped (``i + dim``) where
    ``allow_negative`` says so. Static Python/NumPy ints are wrapped at trace time and become
    Literals, so ``dynamic_slice(x, (i, 0), ...)`` stages no arithmetic for the 0."""
    if hasattr(start_indices, "shape") and not isinstance(start_indices, (list, tuple)):
        start_indices = _split_index_vector(fun, start_indices)
    start_indices = list(start_indices)
    if len(start_indices) != len(operand_shape):
        raise TypeError(f"lax.{fun}: got {len(start_indices)} start indices for an operand of "
                        f"rank {len(operand_shape)} (shape {tuple(operand_shape)}); pass one "
                        "per dimension.")
    if isinstance(allow_negative, (bool, np.bool_)):
        allow_negative = [bool(allow_negative)] * len(operand_shape)
    dynamic = []
    for k, i in enumerate(start_indices):
        if _is_static_int(i):
            continue
        if type(i) is float or (hasattr(i, "dtype") and dtype_kind(np.dtype(i.dtype)) not in INT):
            raise TypeError(f"lax.{fun}: start index {k} must be an integer, got {i!r:.60}.")
        dynamic.append(aval_of(i))
    for a in dynamic:
        _check_index_scalar(fun, "each start index", a)
    dt = _index_dtype(dynamic) if dynamic else np.dtype(np.int32)
    out = []
    for k, (i, dim) in enumerate(zip(start_indices, operand_shape)):
        if _is_static_int(i):
            i = int(i)
            if i < 0 and allow_negative[k]:
                i += dim
            # XLA clamps starts into [0, dim - size] anyway; clamping to [0, dim] first keeps
            # any Python int representable in the index dtype.
            out.append(literal(min(max(i, 0), dim), dt, False))
            continue
        if aval_of(i).dtype != dt:
            i = _ew.convert_element_type(i, dt)
        if allow_negative[k] and dtype_kind(dt) == SINT:
            i = _wrap_negative(i, dim)
        out.append(i)
    return out


def _wrap_negative(i, dim: int):
    """``i + dim`` where ``i < 0`` (NumPy's negative indices), for a traced integer ``i``."""
    return _ew.select(_ew.lt(i, 0), _ew.add(i, dim), i)


def _split_index_vector(fun, v):
    """The scalars of a rank-1 index array (JAX accepts an array of start indices)."""
    a = aval_of(v)
    if a.ndim != 1:
        raise TypeError(f"lax.{fun}: start_indices must be a sequence of scalars or a rank-1 "
                        f"array, got an array of shape {a.shape}.")
    if isinstance(v, np.ndarray):
        return list(v)
    return [_shape.reshape(_shape.slice(v, (k,), (k + 1,)), ()) for k in range(a.shape[0])]


def _lower_composite(ctx, fn, *names, **params):
    """Lower ``fn(*operands, **params)``, written with lax functions, inline at this point of
    the module: it is traced on the rule's input avals and its equations are emitted here."""
    from jaxel.lax._composite import emit_composition
    return emit_composition(ctx, lambda *xs: [fn(*xs, **params)], ctx.avals_in, names)[0]


# ---- dynamic_slice ---------------------------------------------------------------------------
dynamic_slice_p = Primitive("dynamic_slice")


def _dynamic_slice_abstract_eval(x, *idx, slice_sizes):
    if len(idx) != x.ndim or len(slice_sizes) != x.ndim:
        raise TypeError(f"lax.dynamic_slice: operand of shape {x.shape} needs {x.ndim} start "
                        f"indices and slice sizes, got {len(idx)} and {len(slice_sizes)}.")
    for a in idx:
        _check_index_scalar("dynamic_slice", "each start index", a)
    if len({a.dtype for a in idx}) > 1:
        raise TypeError("lax.dynamic_slice: start indices must share one integer dtype, got "
                        f"{[a.dtype.name for a in idx]}.")
    for d, s in zip(x.shape, slice_sizes):
        if not 0 <= s <= d:
            raise TypeError(f"lax.dynamic_slice: slice_sizes {tuple(slice_sizes)} must lie "
                            f"between 0 and the operand's shape {x.shape}.")
    return ShapedArray(tuple(slice_sizes), x.dtype, x.weak_type)


def _dynamic_slice_lowering(ctx, x, *idx, slice_sizes):
    # StableHLO clamps each start index to [0, dim - size], as JAX documents for dynamic_slice.
    return ctx.e.op1("stablehlo.dynamic_slice", [x, *idx], tensor_type(ctx.avals_out[0]),
                     f"slice_sizes = {i64_array(slice_sizes)}")


dynamic_slice_p.abstract_eval = _dynamic_slice_abstract_eval
dynamic_slice_p.lowering = _dynamic_slice_lowering


def dynamic_slice(operand, start_indices, slice_sizes, *, allow_negative_indices=True):
    """Slice of ``slice_sizes`` starting at traced ``start_indices`` (one scalar per dimension).

    Negative start indices count from the end (when ``allow_negative_indices``); indices are
    then clamped so the slice lies in bounds, as in XLA: the result shape is always
    ``slice_sizes``.

    Args:
      operand: the array to slice.
      start_indices: a sequence of integer scalars (or a rank-1 integer array).
      slice_sizes: the static size of the slice along each dimension.
      allow_negative_indices: a bool, or one per dimension.

    Returns:
      An array of shape ``slice_sizes``.

    Example::

        >>> lax.dynamic_slice(jnp.arange(6), (4,), (3,))   # clamped start 3
        Array([3, 4, 5], dtype=int32)
    """
    shape = aval_of(operand).shape
    idx = _prepare_start_indices("dynamic_slice", shape, start_indices, allow_negative_indices)
    return dynamic_slice_p.bind(operand, *idx, slice_sizes=tuple(int(s) for s in slice_sizes))


dynamic_update_slice_p = Primitive("dynamic_update_slice")


def _dynamic_update_slice_abstract_eval(x, update, *idx):
    if len(idx) != x.ndim:
        raise TypeError(f"lax.dynamic_update_slice: operand of shape {x.shape} needs {x.ndim} "
                        f"start indices, got {len(idx)}.")
    for a in idx:
        _check_index_scalar("dynamic_update_slice", "each start index", a)
    if len({a.dtype for a in idx}) > 1:
        raise TypeError("lax.dynamic_update_slice: start indices must share one integer dtype, "
                        f"got {[a.dtype.name for a in idx]}.")
    if update.dtype != x.dtype:
        raise TypeError(f"lax.dynamic_update_slice: update dtype {update.dtype.name} must equal "
                        f"the operand dtype {x.dtype.name}.")
    if update.ndim != x.ndim or any(u > d for u, d in zip(update.shape, x.shape)):
        raise TypeError(f"lax.dynamic_update_slice: update of shape {update.shape} does not fit "
                        f"in the operand of shape {x.shape} (same rank, no larger dimension).")
    return x


def _dynamic_update_slice_lowering(ctx, x, update, *idx):
    return ctx.e.op1("stablehlo.dynamic_update_slice", [x, update, *idx],
                     tensor_type(ctx.avals_out[0]))


dynamic_update_slice_p.abstract_eval = _dynamic_update_slice_abstract_eval
dynamic_update_slice_p.lowering = _dynamic_update_slice_lowering


def dynamic_update_slice(operand, update, start_indices, *, allow_negative_indices=True):
    """``operand`` with ``update`` written at traced ``start_indices`` (clamped to fit).

    Args:
      operand: the array to update.
      update: an array of ``operand``'s dtype and rank, no larger in any dimension.
      start_indices: one integer scalar per dimension (or a rank-1 integer array).
      allow_negative_indices: a bool, or one per dimension: negative starts count from the end.

    Returns:
      An array like ``operand``.

    Example::

        >>> lax.dynamic_update_slice(jnp.zeros(4), jnp.ones(2), (1,))
        Array([0., 1., 1., 0.], dtype=float32)
    """
    operand, update = as_operands(operand, update)
    shape = aval_of(operand).shape
    idx = _prepare_start_indices("dynamic_update_slice", shape, start_indices,
                                 allow_negative_indices)
    return dynamic_update_slice_p.bind(operand, update, *idx)


def _zero_starts(ndim, axis, start):
    starts = [0] * ndim
    starts[axis] = start
    return starts


def dynamic_slice_in_dim(operand, start_index, slice_size, axis=0, *,
                         allow_negative_indices=True):
    """``dynamic_slice`` along one ``axis``: ``slice_size`` elements from ``start_index``.

    Args:
      operand: the array to slice.
      start_index: integer scalar (may be traced; negative counts from the end).
      slice_size: static length of the slice.
      axis: the axis to slice; the other axes are kept whole.

    Returns:
      ``operand`` with ``axis`` cut to ``slice_size`` (the start is clamped to fit).

    Example::

        >>> lax.dynamic_slice_in_dim(jnp.arange(6), 2, 3)
        Array([2, 3, 4], dtype=int32)
    """
    shape = aval_of(operand).shape
    axis = _axis(axis, len(shape), "dynamic_slice_in_dim")
    sizes = list(shape)
    sizes[axis] = int(slice_size)
    return dynamic_slice(operand, _zero_starts(len(shape), axis, start_index), sizes,
                         allow_negative_indices=_per_dim(allow_negative_indices, axis,
                                                         len(shape)))


def dynamic_index_in_dim(operand, index, axis=0, keepdims=True, *,
                         allow_negative_indices=True):
    """Element ``index`` along ``axis`` (keeping the axis with size 1 if ``keepdims``).

    Args:
      operand: the array to index.
      index: integer scalar (may be traced; negative counts from the end; clamped).
      axis: the axis to index.
      keepdims: keep ``axis`` with size 1 instead of removing it.

    Returns:
      The selected sub-array.

    Example::

        >>> lax.dynamic_index_in_dim(jnp.arange(6).reshape(2, 3), 1, keepdims=False)
        Array([3, 4, 5], dtype=int32)
    """
    shape = aval_of(operand).shape
    axis = _axis(axis, len(shape), "dynamic_index_in_dim")
    out = dynamic_slice_in_dim(operand, index, 1, axis,
                               allow_negative_indices=allow_negative_indices)
    return out if keepdims else _shape.squeeze(out, (axis,))


def dynamic_update_slice_in_dim(operand, update, start_index, axis, *,
                                allow_negative_indices=True):
    """``dynamic_update_slice`` along one ``axis`` (other dimensions start at 0).

    Args:
      operand: the array to update.
      update: array of ``operand``'s dtype and rank.
      start_index: integer scalar start along ``axis`` (clamped so ``update`` fits).
      axis: the axis ``start_index`` refers to.

    Returns:
      An array like ``operand``.

    Example::

        >>> lax.dynamic_update_slice_in_dim(jnp.zeros(4), jnp.ones(2), 2, 0)
        Array([0., 0., 1., 1.], dtype=float32)
    """
    shape = aval_of(operand).shape
    axis = _axis(axis, len(shape), "dynamic_update_slice_in_dim")
    return dynamic_update_slice(operand, update, _zero_starts(len(shape), axis, start_index),
                                allow_negative_indices=_per_dim(allow_negative_indices, axis,
                                                                len(shape)))


def dynamic_update_index_in_dim(operand, update, index, axis, *, allow_negative_indices=True):
    """Write ``update`` at ``index`` along ``axis``; ``update`` may lack that axis.

    Args:
      operand: the array to update.
      update: array of ``operand``'s dtype, with ``axis`` of size 1 or without it.
      index: integer scalar position along ``axis`` (negative counts from the end).
      axis: the axis to write along.

    Returns:
      An array like ``operand``.

    Example::

        >>> lax.dynamic_update_index_in_dim(jnp.zeros((2, 2)), jnp.ones(2), 1, 0)
        Array([[0., 0.],
               [1., 1.]], dtype=float32)
    """
    shape = aval_of(operand).shape
    axis = _axis(axis, len(shape), "dynamic_update_index_in_dim")
    if aval_of(update).ndim == len(shape) - 1:
        update = _shape.expand_dims(update, (axis,))
    return dynamic_update_slice_in_dim(operand, update, index, axis,
                                       allow_negative_indices=allow_negative_indices)


def _axis(axis, ndim, fun):
    axis = int(axis)
    if not -ndim <= axis < ndim:
        raise ValueError(f"lax.{fun}: axis {axis} is out of bounds for an operand of rank "
                         f"{ndim}.")
    return axis % ndim


def _per_dim(allow, axis, ndim):
    # Only the sliced axis has a (possibly traced) index; the zeros elsewhere need no wrap.
    out = [False] * ndim
    out[axis] = bool(allow)
    return out


# ---- gather ----------------------------------------------------------------------------------
class GatherScatterMode(enum.Enum):
    """What gather and scatter do with out-of-bounds indices.

    * ``CLIP``: indices are clamped so the slice/window lies in bounds.
    * ``FILL_OR_DROP``: gather returns ``fill_value`` for out-of-bounds slices; scatter drops
      out-of-bounds updates.
    * ``PROMISE_IN_BOUNDS``: the caller promises in-bounds indices (gather then clamps, scatter
      drops, which is what XLA does natively).
    * ``ONE_HOT``: JAX's one-hot matmul formulation; not supported by jaxel.
    """
    CLIP = 1
    FILL_OR_DROP = 2
    PROMISE_IN_BOUNDS = 3
    ONE_HOT = 4

    @staticmethod
    def from_any(s) -> "GatherScatterMode":
        """Parse ``'clip'``, ``'fill'``/``'drop'``/None, ``'promise_in_bounds'``,
        ``'one_hot'`` or a ``GatherScatterMode``.

        Example::

            >>> GatherScatterMode.from_any("clip")
            <GatherScatterMode.CLIP: 1>
        """
        if isinstance(s, GatherScatterMode):
            return s
        if s is None or s == "fill" or s == "drop":
            return GatherScatterMode.FILL_OR_DROP
        if s == "clip":
            return GatherScatterMode.CLIP
        if s == "promise_in_bounds":
            return GatherScatterMode.PROMISE_IN_BOUNDS
        if s == "one_hot":
            return GatherScatterMode.ONE_HOT
        raise ValueError(f"Unknown gather/scatter mode {s!r}: use 'clip', 'fill', 'drop' or "
                         "'promise_in_bounds'.")


def _supported_mode(mode) -> GatherScatterMode:
    parsed = GatherScatterMode.from_any(mode)
    if parsed == GatherScatterMode.ONE_HOT:
        raise NotImplementedError("GatherScatterMode.ONE_HOT is not supported by jaxel; use "
                                  "'clip', 'fill'/'drop' or 'promise_in_bounds'.")
    return parsed


class GatherDimensionNumbers(NamedTuple):
    """How a gather maps its indices and slices (XLA's gather dimension numbers).

    Args:
      offset_dims: output dimensions that hold the (non-collapsed) slice dimensions, sorted.
      collapsed_slice_dims: operand dimensions of slice size 1 that the output drops, sorted.
      start_index_map: for each entry of an index vector, the operand dimension it indexes.
      operand_batching_dims: operand dimensions paired with ``start_indices_batching_dims``.
      start_indices_batching_dims: index-array dimensions paired with the operand's.

    The index vector is always the last dimension of the indices array (as in JAX).
    """
    offset_dims: tuple
    collapsed_slice_dims: tuple
    start_index_map: tuple
    operand_batching_dims: tuple = ()
    start_indices_batching_dims: tuple = ()


def _tuples(dn, cls):
    """``dn`` with every field a tuple of ints (so it hashes and compares as a parameter)."""
    if not isinstance(dn, cls):
        if not (isinstance(dn, (tuple, list)) and 3 <= len(dn) <= 5
                and all(isinstance(f, (tuple, list)) for f in dn)):
            raise TypeError(f"dimension_numbers must be a {cls.__name__}, got "
                            f"{type(dn).__name__}: {dn!r:.80}.")
        dn = cls(*dn)  # a plain tuple of the fields, in order
    return cls(*(tuple(int(d) for d in f) for f in dn))


def _check_dims(fun, what, dims, bound, sorted_=True):
    if any(not 0 <= d < bound for d in dims):
        raise TypeError(f"lax.{fun}: {what} {dims} must be dimensions in [0, {bound}).")
    if len(set(dims)) != len(dims):
        raise TypeError(f"lax.{fun}: {what} {dims} repeats a dimension.")
    if sorted_ and list(dims) != sorted(dims):
        raise TypeError(f"lax.{fun}: {what} {dims} must be sorted.")


def _gather_shape(operand, indices, dn: GatherDimensionNumbers, slice_sizes):
    """Check a gather's arguments (with messages that name the offending field) and return
    its output shape."""
    f = "gather"
    if dtype_kind(indices.dtype) not in INT:
        raise TypeError(f"lax.gather: indices must have an integer dtype, got "
                        f"{indices.dtype.name}.")
    if indices.ndim < 1:
        raise TypeError("lax.gather: indices must have rank >= 1 (the last dimension holds the "
                        "index vectors); got a scalar.")
    if len(slice_sizes) != operand.ndim:
        raise TypeError(f"lax.gather: slice_sizes {tuple(slice_sizes)} must have one entry per "
                        f"operand dimension (operand shape {operand.shape}).")
    for d, (s, n) in enumerate(zip(slice_sizes, operand.shape)):
        if not 0 <= s <= n:
            raise TypeError(f"lax.gather: slice size {s} of dimension {d} is out of range for "
                            f"operand shape {operand.shape}.")
    batch_shape = indices.shape[:-1]
    _check_dims(f, "collapsed_slice_dims", dn.collapsed_slice_dims, operand.ndim)
    _check_dims(f, "operand_batching_dims", dn.operand_batching_dims, operand.ndim)
    _check_dims(f, "start_index_map", dn.start_index_map, operand.ndim, sorted_=False)
    _check_dims(f, "start_indices_batching_dims", dn.start_indices_batching_dims,
                indices.ndim - 1, sorted_=False)
    if set(dn.collapsed_slice_dims) & set(dn.operand_batching_dims):
        raise TypeError("lax.gather: collapsed_slice_dims and operand_batching_dims overlap.")
    if set(dn.start_index_map) & set(dn.operand_batching_dims):
        raise TypeError("lax.gather: start_index_map and operand_batching_dims overlap.")
    for d in dn.collapsed_slice_dims + dn.operand_batching_dims:
        if slice_sizes[d] > 1:
            raise TypeError(f"lax.gather: slice_sizes[{d}] = {slice_sizes[d]} but collapsed and "
                            "batching dimensions need slice size at most 1.")
    if len(dn.operand_batching_dims) != len(dn.start_indices_batching_dims):
        raise TypeError("lax.gather: operand_batching_dims and start_indices_batching_dims "
                        "must have the same length.")
    for od, idd in zip(dn.operand_batching_dims, dn.start_indices_batching_dims):
        if operand.shape[od] != indices.shape[idd]:
            raise TypeError(f"lax.gather: batching dimension {od} of the operand (size "
                            f"{operand.shape[od]}) and {idd} of the indices (size "
                            f"{indices.shape[idd]}) differ.")
    if len(dn.start_index_map) != indices.shape[-1]:
        raise TypeError(f"lax.gather: start_index_map {dn.start_index_map} has "
                        f"{len(dn.start_index_map)} entries but the index vectors (last "
                        f"dimension of indices, shape {indices.shape}) have {indices.shape[-1]}.")
    kept = [d for d in range(operand.ndim)
            if d not in dn.collapsed_slice_dims and d not in dn.operand_batching_dims]
    if len(dn.offset_dims) != len(kept):
        raise TypeError(f"lax.gather: offset_dims {dn.offset_dims} must have one entry per "
                        f"operand dimension that is neither collapsed nor batching ({len(kept)}).")
    out_rank = len(batch_shape) + len(kept)
    _check_dims(f, "offset_dims", dn.offset_dims, out_rank)
    out = [0] * out_rank
    batch = iter(batch_shape)
    offsets = iter(slice_sizes[d] for d in kept)
    for i in range(out_rank):
        out[i] = next(offsets) if i in dn.offset_dims else next(batch)
    return tuple(out)


gather_p = Primitive("gather")


def _gather_abstract_eval(operand, indices, *, dimension_numbers, slice_sizes,
                          indices_are_sorted, unique_indices, mode, fill_value):
    shape = _gather_shape(operand, indices, dimension_numbers, slice_sizes)
    return ShapedArray(shape, operand.dtype, operand.weak_type)


def _gather_attrs(dn, index_vector_dim, slice_sizes, indices_are_sorted):
    def lst(v):
        return "[" + ", ".join(str(int(d)) for d in v) + "]"
    fields = [f"offset_dims = {lst(dn.offset_dims)}",
              f"collapsed_slice_dims = {lst(dn.collapsed_slice_dims)}"]
    if dn.operand_batching_dims:
        fields.append(f"operand_batching_dims = {lst(dn.operand_batching_dims)}")
        fields.append(f"start_indices_batching_dims = {lst(dn.start_indices_batching_dims)}")
    fields += [f"start_index_map = {lst(dn.start_index_map)}",
               f"index_vector_dim = {int(index_vector_dim)}"]
    return (f"dimension_numbers = #stablehlo.gather<{', '.join(fields)}>, "
            f"indices_are_sorted = {'true' if indices_are_sorted else 'false'}, "
            f"slice_sizes = {i64_array(slice_sizes)}")


def _gather_native_lowering(ctx, operand, indices, *, dimension_numbers, slice_sizes,
                            indices_are_sorted, **_):
    attrs = _gather_attrs(dimension_numbers, ctx.avals_in[1].ndim - 1, slice_sizes,
                          indices_are_sorted)
    return ctx.e.op1("stablehlo.gather", [operand, indices], tensor_type(ctx.avals_out[0]),
                     attrs)


def _in_bounds_mask(indices, upper):
    """Boolean array of the index vectors' batch shape: every component ``k`` lies in
    ``[0, upper[k]]``. ``None`` when there is nothing to check (no components)."""
    aval = aval_of(indices)
    batch = aval.shape[:-1]
    info = np.iinfo(aval.dtype)
    ok = None
    for k, hi in enumerate(upper):
        comp = _shape.reshape(_shape.slice_in_dim(indices, k, k + 1, axis=aval.ndim - 1), batch)
        conds = []
        if info.min < 0:
            conds.append(_ew.ge(comp, 0))
        if hi < info.max:  # a bound the dtype cannot exceed needs no check
            conds.append(_ew.le(comp, int(hi)))
        for c in conds:
            ok = c if ok is None else _ew.bitwise_and(ok, c)
    return ok


def _gather_fill(operand, indices, *, dimension_numbers, slice_sizes, indices_are_sorted,
                 unique_indices, mode, fill_value):
    dn = dimension_numbers
    out = gather_p.bind(operand, indices, dimension_numbers=dn, slice_sizes=slice_sizes,
                        indices_are_sorted=indices_are_sorted, unique_indices=unique_indices,
                        mode=GatherScatterMode.PROMISE_IN_BOUNDS, fill_value=None)
    oaval = aval_of(operand)
    upper = [oaval.shape[d] - slice_sizes[d] for d in dn.start_index_map]
    ok = _in_bounds_mask(indices, upper)
    if ok is None:
        return out
    out_aval = aval_of(out)
    batch_positions = tuple(i for i in range(out_aval.ndim) if i not in dn.offset_dims)
    mask = _shape.broadcast_in_dim(ok, out_aval.shape, batch_positions)
    if fill_value is None:
        fill_value = _default_fill(oaval.dtype)
    fill = _shape.broadcast_in_dim(literal(fill_value, oaval.dtype, False), out_aval.shape, ())
    return _ew.select(mask, out, fill)


def _gather_lowering(ctx, operand, indices, *, mode, **params):
    if mode == GatherScatterMode.FILL_OR_DROP:
        return _lower_composite(ctx, _gather_fill, operand, indices, mode=mode, **params)
    if mode == GatherScatterMode.ONE_HOT:
        raise NotImplementedError("GatherScatterMode.ONE_HOT is not supported by jaxel; use "
                                  "'clip', 'fill' or 'promise_in_bounds'.")
    # CLIP and PROMISE_IN_BOUNDS: StableHLO's gather clamps start indices into bounds.
    return _gather_native_lowering(ctx, operand, indices, **params)


gather_p.abstract_eval = _gather_abstract_eval
gather_p.lowering = _gather_lowering

_NAN = float("nan")  # one NaN object: parameters holding it compare equal (eager-op cache keys)


def _default_fill(dtype):
    """JAX's default gather fill: NaN (inexact), the minimum (signed), the maximum (unsigned),
    True (bool)."""
    dt = np.dtype(dtype)
    kind = dtype_kind(dt)
    if kind in ("float", "complex"):
        return _NAN
    if kind == "signed" or kind == "unsigned":
        info = _dtypes.iinfo(dt)
        return int(info.min if kind == "signed" else info.max)
    if kind == "bool":
        return True
    raise ValueError(f"No default gather fill value for dtype {dt}.")


def _canonical_fill(value):
    """A hashable Python scalar for a fill value (every NaN becomes the one ``_NAN``)."""
    if isinstance(value, (np.generic, np.ndarray)):
        if np.ndim(value) != 0:
            raise TypeError(f"fill_value must be a scalar, got an array of shape "
                            f"{np.shape(value)}.")
        value = value.item()
    if hasattr(value, "aval"):
        raise TypeError("fill_value must be a static Python or NumPy scalar, not an array.")
    if isinstance(value, float) and math.isnan(value):
        return _NAN
    return value


def gather(operand, start_indices, dimension_numbers, slice_sizes, *, unique_indices=False,
           indices_are_sorted=False, mode=None, fill_value=None):
    """XLA's gather: slices of ``slice_sizes`` at the index vectors in ``start_indices``.

    Args:
      operand: the array to gather from.
      start_indices: integer array whose last dimension holds the index vectors.
      dimension_numbers: a ``GatherDimensionNumbers``.
      slice_sizes: the static size of the slice in each operand dimension.
      unique_indices, indices_are_sorted: promises that let XLA generate faster code.
      mode: a ``GatherScatterMode`` or string; None means ``PROMISE_IN_BOUNDS`` (indices are
        clamped, as XLA does).
      fill_value: the value of out-of-bounds slices in ``'fill'`` mode; by default NaN for
        inexact dtypes, the minimum (signed) or maximum (unsigned) integer, True for bool.

    Returns:
      The gathered array (see ``GatherDimensionNumbers`` for its shape).

    Example::

        >>> dn = lax.GatherDimensionNumbers(offset_dims=(), collapsed_slice_dims=(0,),
        ...                                 start_index_map=(0,))
        >>> lax.gather(jnp.arange(5.0), jnp.array([[3], [1]]), dn, (1,))
        Array([3., 1.], dtype=float32)
    """
    dn = _tuples(dimension_numbers, GatherDimensionNumbers)
    parsed = GatherScatterMode.PROMISE_IN_BOUNDS if mode is None else \
        _supported_mode(mode)
    if parsed == GatherScatterMode.FILL_OR_DROP:
        dt = aval_of(operand).dtype
        fill_value = _canonical_fill(_default_fill(dt) if fill_value is None else fill_value)
    else:
        fill_value = None
    return gather_p.bind(operand, start_indices, dimension_numbers=dn,
                         slice_sizes=tuple(int(s) for s in slice_sizes),
                         indices_are_sorted=bool(indices_are_sorted),
                         unique_indices=bool(unique_indices), mode=parsed,
                         fill_value=fill_value)


# ---- scatter family --------------------------------------------------------------------------
class ScatterDimensionNumbers(NamedTuple):
    """How a scatter maps its indices and update windows (XLA's scatter dimension numbers).

    Args:
      update_window_dims: dimensions of ``updates`` that are window dimensions, sorted.
      inserted_window_dims: operand dimensions of window size 1 absent from ``updates``, sorted.
      scatter_dims_to_operand_dims: for each entry of an index vector, the operand dimension it
        indexes.
      operand_batching_dims: operand dimensions paired with ``scatter_indices_batching_dims``.
      scatter_indices_batching_dims: index-array dimensions paired with the operand's.

    The index vector is always the last dimension of the indices array (as in JAX).
    """
    update_window_dims: tuple
    inserted_window_dims: tuple
    scatter_dims_to_operand_dims: tuple
    operand_batching_dims: tuple = ()
    scatter_indices_batching_dims: tuple = ()


def _scatter_window_sizes(operand, updates, dn):
    """Window size of every operand dimension (1 for inserted and batching dimensions)."""
    sizes = [1] * operand.ndim
    windowed = [d for d in range(operand.ndim)
                if d not in dn.inserted_window_dims and d not in dn.operand_batching_dims]
    for d, u in zip(windowed, dn.update_window_dims):
        sizes[d] = updates.shape[u]
    return sizes


def _scatter_check(name, operand, indices, updates, dn: ScatterDimensionNumbers):
    f = name.replace("-", "_")  # the wrapper's name: lax.scatter_add
    if dtype_kind(indices.dtype) not in INT:
        raise TypeError(f"lax.{f}: scatter indices must have an integer dtype, got "
                        f"{indices.dtype.name}.")
    if indices.ndim < 1:
        raise TypeError(f"lax.{f}: scatter indices must have rank >= 1 (the last dimension "
                        "holds the index vectors); got a scalar.")
    if updates.dtype != operand.dtype:
        raise TypeError(f"lax.{f}: updates dtype {updates.dtype.name} must equal the operand "
                        f"dtype {operand.dtype.name}.")
    _check_dims(f, "update_window_dims", dn.update_window_dims, updates.ndim)
    _check_dims(f, "inserted_window_dims", dn.inserted_window_dims, operand.ndim)
    _check_dims(f, "operand_batching_dims", dn.operand_batching_dims, operand.ndim)
    _check_dims(f, "scatter_dims_to_operand_dims", dn.scatter_dims_to_operand_dims,
                operand.ndim, sorted_=False)
    _check_dims(f, "scatter_indices_batching_dims", dn.scatter_indices_batching_dims,
                indices.ndim - 1, sorted_=False)
    if set(dn.inserted_window_dims) & set(dn.operand_batching_dims):
        raise TypeError(f"lax.{f}: inserted_window_dims and operand_batching_dims overlap.")
    if len(dn.operand_batching_dims) != len(dn.scatter_indices_batching_dims):
        raise TypeError(f"lax.{f}: operand_batching_dims and scatter_indices_batching_dims "
                        "must have the same length.")
    if len(dn.scatter_dims_to_operand_dims) != indices.shape[-1]:
        raise TypeError(f"lax.{f}: scatter_dims_to_operand_dims {dn.scatter_dims_to_operand_dims}"
                        f" has {len(dn.scatter_dims_to_operand_dims)} entries but the index "
                        f"vectors (last dimension of indices, shape {indices.shape}) have "
                        f"{indices.shape[-1]}.")
    n_windowed = operand.ndim - len(dn.inserted_window_dims) - len(dn.operand_batching_dims)
    if len(dn.update_window_dims) != n_windowed:
        raise TypeError(f"lax.{f}: update_window_dims {dn.update_window_dims} must have one "
                        f"entry per operand dimension that is neither inserted nor batching "
                        f"({n_windowed}).")
    scatter_dims = [d for d in range(updates.ndim) if d not in dn.update_window_dims]
    want = indices.shape[:-1]
    got = tuple(updates.shape[d] for d in scatter_dims)
    if got != want:
        raise TypeError(f"lax.{f}: the scatter dimensions of updates (shape {updates.shape}, "
                        f"window dims {dn.update_window_dims}) have sizes {got}, which must "
                        f"equal the indices' batch shape {want}.")
    for d, w in enumerate(_scatter_window_sizes(operand, updates, dn)):
        if w > operand.shape[d]:
            raise TypeError(f"lax.{f}: update window of size {w} in operand dimension {d} is "
                            f"larger than the operand (shape {operand.shape}).")


def _scatter_attrs(dn, index_vector_dim, indices_are_sorted, unique_indices):
    def lst(v):
        return "[" + ", ".join(str(int(d)) for d in v) + "]"
    fields = [f"update_window_dims = {lst(dn.update_window_dims)}",
              f"inserted_window_dims = {lst(dn.inserted_window_dims)}"]
    if dn.operand_batching_dims:
        fields.append(f"input_batching_dims = {lst(dn.operand_batching_dims)}")
        fields.append(f"scatter_indices_batching_dims = {lst(dn.scatter_indices_batching_dims)}")
    fields += [f"scatter_dims_to_operand_dims = {lst(dn.scatter_dims_to_operand_dims)}",
               f"index_vector_dim = {int(index_vector_dim)}"]
    return (f"indices_are_sorted = {'true' if indices_are_sorted else 'false'}, "
            f"scatter_dimension_numbers = #stablehlo.scatter<{', '.join(fields)}>, "
            f"unique_indices = {'true' if unique_indices else 'false'}")


def _scatter_clip(operand, indices, updates, *, prim, dimension_numbers, **params):
    """Clamp every index component to ``[0, dim - window]``, then scatter natively."""
    dn = dimension_numbers
    oaval, iaval = aval_of(operand), aval_of(indices)
    sizes = _scatter_window_sizes(oaval, aval_of(updates), dn)
    upper = np.array([oaval.shape[d] - sizes[d] for d in dn.scatter_dims_to_operand_dims],
                     iaval.dtype)
    if upper.size:
        hi = _shape.broadcast_in_dim(upper, iaval.shape, (iaval.ndim - 1,))
        lo = _shape.broadcast_in_dim(literal(0, iaval.dtype, False), iaval.shape, ())
        indices = _ew.clamp(lo, indices, hi)
    params["mode"] = GatherScatterMode.FILL_OR_DROP
    return prim.bind(operand, indices, updates, dimension_numbers=dn, **params)


def _scatter_primitive(name: str, combiner):
    """A scatter primitive whose update region is ``combiner(emitter, old, new, type)``."""
    p = Primitive(name)

    def abstract_eval(operand, indices, updates, *, dimension_numbers, indices_are_sorted,
                      unique_indices, mode):
        _scatter_check(name, operand, indices, updates, dimension_numbers)
        return operand

    def lowering(ctx, operand, indices, updates, *, dimension_numbers, indices_are_sorted,
                 unique_indices, mode):
        if mode == GatherScatterMode.CLIP:
            return _lower_composite(ctx, _scatter_clip, operand, indices, updates, prim=p,
                                    dimension_numbers=dimension_numbers,
                                    indices_are_sorted=indices_are_sorted,
                                    unique_indices=unique_indices)
        if mode == GatherScatterMode.ONE_HOT:
            raise NotImplementedError("GatherScatterMode.ONE_HOT is not supported by jaxel.")
        # FILL_OR_DROP and PROMISE_IN_BOUNDS: StableHLO's scatter skips windows that are not
        # fully in bounds, which is exactly "drop".
        e = ctx.e
        elem = tensor_type(ShapedArray((), ctx.avals_in[0].dtype))
        region = e.region([elem, elem], lambda old, new: combiner(e, old, new, elem))
        attrs = _scatter_attrs(dimension_numbers, ctx.avals_in[1].ndim - 1, indices_are_sorted,
                               unique_indices)
        return e.op1("stablehlo.scatter", [operand, indices, updates],
                     tensor_type(ctx.avals_out[0]), attrs, regions=[region])

    p.abstract_eval = abstract_eval
    p.lowering = lowering
    return p


def _binary_combiner(hlo_op):
    return lambda e, old, new, t: e.op1(hlo_op, [old, new], t)


scatter_p = _scatter_primitive("scatter", lambda e, old, new, t: new)
scatter_add_p = _scatter_primitive("scatter-add", _binary_combiner("stablehlo.add"))
scatter_sub_p = _scatter_primitive("scatter-sub", _binary_combiner("stablehlo.subtract"))
scatter_mul_p = _scatter_primitive("scatter-mul", _binary_combiner("stablehlo.multiply"))
scatter_min_p = _scatter_primitive("scatter-min", _binary_combiner("stablehlo.minimum"))
scatter_max_p = _scatter_primitive("scatter-max", _binary_combiner("stablehlo.maximum"))


def _scatter_wrapper(p, what: str, example: str):
    def f(operand, scatter_indices, updates, dimension_numbers, *, indices_are_sorted=False,
          unique_indices=False, mode=None):
        dn = _tuples(dimension_numbers, ScatterDimensionNumbers)
        operand, updates = as_operands(operand, updates)
        return p.bind(operand, scatter_indices, updates, dimension_numbers=dn,
                      indices_are_sorted=bool(indices_are_sorted),
                      unique_indices=bool(unique_indices),
                      mode=_supported_mode(mode))
    f.__name__ = p.name.replace("-", "_")
    f.__doc__ = f"""XLA's scatter {what}: windows of ``updates`` combined into ``operand`` at
    the index vectors in ``scatter_indices``.

    Args:
      operand: the array to update.
      scatter_indices: integer array whose last dimension holds the index vectors.
      updates: array of ``operand``'s dtype: scatter dimensions (the indices' batch shape)
        and window dimensions (``update_window_dims``).
      dimension_numbers: a ``ScatterDimensionNumbers``.
      indices_are_sorted, unique_indices: promises that let XLA generate faster code.
      mode: a ``GatherScatterMode`` or string; None means ``FILL_OR_DROP`` (out-of-bounds
        updates are dropped); ``'clip'`` clamps the indices into bounds.

    Returns:
      The updated array (``operand``'s shape and dtype).

    Example::

        >>> dn = lax.ScatterDimensionNumbers(update_window_dims=(), inserted_window_dims=(0,),
        ...                                  scatter_dims_to_operand_dims=(0,))
        {example}
    """
    return f


scatter = _scatter_wrapper(
    scatter_p, "(replacing values)",
    ">>> lax.scatter(jnp.zeros(3), jnp.array([[2]]), jnp.array([5.0]), dn)\n"
    "        Array([0., 0., 5.], dtype=float32)")
scatter_add = _scatter_wrapper(
    scatter_add_p, "adding (duplicates accumulate)",
    ">>> lax.scatter_add(jnp.zeros(3), jnp.array([[1], [1]]), jnp.array([1.0, 2.0]), dn)\n"
    "        Array([0., 3., 0.], dtype=float32)")
scatter_sub = _scatter_wrapper(
    scatter_sub_p, "subtracting (duplicates accumulate)",
    ">>> lax.scatter_sub(jnp.zeros(3), jnp.array([[1], [1]]), jnp.array([1.0, 2.0]), dn)\n"
    "        Array([ 0., -3.,  0.], dtype=float32)")
scatter_mul = _scatter_wrapper(
    scatter_mul_p, "multiplying",
    ">>> lax.scatter_mul(jnp.ones(3), jnp.array([[0]]), jnp.array([4.0]), dn)\n"
    "        Array([4., 1., 1.], dtype=float32)")
scatter_min = _scatter_wrapper(
    scatter_min_p, "taking the minimum",
    ">>> lax.scatter_min(jnp.ones(3), jnp.array([[0]]), jnp.array([-4.0]), dn)\n"
    "        Array([-4., 1., 1.], dtype=float32)")
scatter_max = _scatter_wrapper(
    scatter_max_p, "taking the maximum",
    ">>> lax.scatter_max(jnp.ones(3), jnp.array([[0]]), jnp.array([4.0]), dn)\n"
    "        Array([4., 1., 1.], dtype=float32)")


def scatter_apply(operand, scatter_indices, func, dimension_numbers, *, update_shape=(),
                  indices_are_sorted=False, unique_indices=False, mode=None, out_sharding=None):
    """``operand`` with the elementwise function ``func`` applied to the entries that a
    ``scatter`` with these indices and dimension numbers would update (``update_shape`` is the
    shape such a scatter's updates would have). An entry selected ``k`` times gets ``func``
    applied ``k`` times, as XLA does.

    With ``unique_indices=True`` this is a gather, ``func`` and a scatter (differentiable in
    both modes). Otherwise jaxel counts how often each entry is selected and applies ``func``
    that many times in a loop (forward-mode differentiable; JAX differentiates neither).

    Example::

        >>> dn = lax.ScatterDimensionNumbers(update_window_dims=(), inserted_window_dims=(0,),
        ...                                  scatter_dims_to_operand_dims=(0,))
        >>> lax.scatter_apply(jnp.arange(3.), jnp.array([[2], [2]]), lambda x: x + 1, dn,
        ...                   update_shape=(2,))
        Array([0., 1., 4.], dtype=float32)
    """
    dn = _tuples(dimension_numbers, ScatterDimensionNumbers)
    oaval = aval_of(operand)
    uaval = ShapedArray(tuple(int(d) for d in update_shape), oaval.dtype, oaval.weak_type)
    _scatter_check("scatter_apply", oaval, aval_of(scatter_indices), uaval, dn)
    smode = _supported_mode(mode)
    flags = dict(indices_are_sorted=bool(indices_are_sorted),
                 unique_indices=bool(unique_indices), mode=smode)
    if unique_indices:
        windows = _gather_from_scatter(operand, scatter_indices, uaval, dimension_numbers=dn,
                                       **flags)
        return scatter_p.bind(operand, scatter_indices, func(windows), dimension_numbers=dn,
                              **flags)
    from jaxel.lax.control_flow.while_loop import while_loop
    from jaxel.lax.reductions import reduce_max
    i32 = np.dtype(np.int32)
    zeros = _shape.broadcast_in_dim(literal(0, i32, False), oaval.shape, ())
    ones = _shape.broadcast_in_dim(literal(1, i32, False), uaval.shape, ())
    counts = scatter_add_p.bind(zeros, scatter_indices, ones, dimension_numbers=dn, **flags)
    rounds = reduce_max(counts, tuple(range(oaval.ndim)))

    def body(state):
        i, x = state
        bound = _shape.broadcast_in_dim(i, oaval.shape, ())
        return i + 1, _ew.select(_ew.gt(counts, bound), func(x), x)
    _, out = while_loop(lambda state: _ew.lt(state[0], rounds), body,
                        (literal(0, i32, False), operand))
    return out


__all__ = ["dynamic_slice", "dynamic_update_slice", "dynamic_slice_in_dim",
           "dynamic_index_in_dim", "dynamic_update_slice_in_dim", "dynamic_update_index_in_dim",
           "gather", "scatter", "scatter_add", "scatter_sub", "scatter_apply", "scatter_mul",
           "scatter_min", "scatter_max",
           "GatherDimensionNumbers", "ScatterDimensionNumbers", "GatherScatterMode",
           "dynamic_slice_p", "dynamic_update_slice_p", "gather_p", "scatter_p", "scatter_add_p",
           "scatter_sub_p", "scatter_mul_p", "scatter_min_p", "scatter_max_p"]


# ---- differentiation rules -------------------------------------------------------------------
# Index operands (start indices, gather/scatter indices) are never differentiated: their
# tangents are float0 zeros and their cotangents are None. JVP rules therefore do not use
# ``deflinear`` (which would instantiate the indices' float0 tangents) but apply the primitive
# to the operand tangents themselves.
from jaxel.transforms import ad_util as _ad  # noqa: E402


def _zeros(aval):
    return _ad.zeros_like_aval(ShapedArray(aval.shape, aval.dtype, aval.weak_type))


def _dynamic_slice_jvp(primals, tangents, *, slice_sizes):
    x, *idx = primals
    out = dynamic_slice_p.bind(x, *idx, slice_sizes=slice_sizes)
    tx = tangents[0]
    if type(tx) is _ad.Zero:
        return out, _ad.zero_like(out)
    return out, dynamic_slice_p.bind(tx, *idx, slice_sizes=slice_sizes)


def _dynamic_slice_transpose(ct, x, *idx, slice_sizes):
    if not _ad.is_undefined(x):
        return [None] * (1 + len(idx))
    # The update lands where the slice was read: both clamp the start indices the same way.
    cx = dynamic_update_slice_p.bind(_zeros(x.aval), ct, *idx)
    return [cx] + [None] * len(idx)


dynamic_slice_p.jvp = _dynamic_slice_jvp
dynamic_slice_p.transpose = _dynamic_slice_transpose


def _dynamic_update_slice_jvp(primals, tangents):
    x, u, *idx = primals
    out = dynamic_update_slice_p.bind(x, u, *idx)
    tx, tu = tangents[0], tangents[1]
    if type(tx) is _ad.Zero and type(tu) is _ad.Zero:
        return out, _ad.zero_like(out)
    return out, dynamic_update_slice_p.bind(_ad.instantiate(tx), _ad.instantiate(tu), *idx)


def _dynamic_update_slice_transpose(ct, x, u, *idx):
    u_aval = _ad.aval_of(u)
    cx = cu = None
    if _ad.is_undefined(x):
        cx = dynamic_update_slice_p.bind(ct, _zeros(u_aval), *idx)
    if _ad.is_undefined(u):
        cu = dynamic_slice_p.bind(ct, *idx, slice_sizes=tuple(u_aval.shape))
    return [cx, cu] + [None] * len(idx)


dynamic_update_slice_p.jvp = _dynamic_update_slice_jvp
dynamic_update_slice_p.transpose = _dynamic_update_slice_transpose


# gather <-> scatter dimension numbers: a gather's output and a scatter's updates have the same
# layout (batch dimensions from the indices, window dimensions from the operand).
def _gather_to_scatter_dn(dn: GatherDimensionNumbers) -> ScatterDimensionNumbers:
    return ScatterDimensionNumbers(
        update_window_dims=dn.offset_dims, inserted_window_dims=dn.collapsed_slice_dims,
        scatter_dims_to_operand_dims=dn.start_index_map,
        operand_batching_dims=dn.operand_batching_dims,
        scatter_indices_batching_dims=dn.start_indices_batching_dims)


def _scatter_to_gather_dn(dn: ScatterDimensionNumbers) -> GatherDimensionNumbers:
    return GatherDimensionNumbers(
        offset_dims=dn.update_window_dims, collapsed_slice_dims=dn.inserted_window_dims,
        start_index_map=dn.scatter_dims_to_operand_dims,
        operand_batching_dims=dn.operand_batching_dims,
        start_indices_batching_dims=dn.scatter_indices_batching_dims)


def _gather_mode_for_scatter(mode):
    """The gather mode that reads exactly the windows a scatter of ``mode`` writes: a
    clipping scatter clips; a dropping (or promised in-bounds, which XLA drops) scatter reads
    zeros for dropped windows."""
    return GatherScatterMode.CLIP if mode == GatherScatterMode.CLIP \
        else GatherScatterMode.FILL_OR_DROP


def _scatter_mode_for_gather(mode):
    """The scatter mode that writes exactly the windows a gather of ``mode`` reads: a filling
    gather's out-of-bounds windows are dropped; clip and promise-in-bounds gathers clamp."""
    return GatherScatterMode.FILL_OR_DROP if mode == GatherScatterMode.FILL_OR_DROP \
        else GatherScatterMode.CLIP


def _gather_from_scatter(operand, indices, updates_aval, *, dimension_numbers,
                         indices_are_sorted, unique_indices, mode, fill_value=0):
    """Read from ``operand`` (operand-shaped) one value per element of the scatter updates
    ``updates_aval``: the transpose of scattering with the same arguments."""
    dn = dimension_numbers
    sizes = tuple(_scatter_window_sizes(_ad.aval_of(operand), updates_aval, dn))
    gmode = _gather_mode_for_scatter(mode)
    return gather_p.bind(operand, indices, dimension_numbers=_scatter_to_gather_dn(dn),
                         slice_sizes=sizes, indices_are_sorted=indices_are_sorted,
                         unique_indices=unique_indices, mode=gmode,
                         fill_value=fill_value if gmode == GatherScatterMode.FILL_OR_DROP
                         else None)


def _gather_jvp(primals, tangents, *, dimension_numbers, slice_sizes, indices_are_sorted,
                unique_indices, mode, fill_value):
    x, idx = primals
    params = dict(dimension_numbers=dimension_numbers, slice_sizes=slice_sizes,
                  indices_are_sorted=indices_are_sorted, unique_indices=unique_indices,
                  mode=mode)
    out = gather_p.bind(x, idx, fill_value=fill_value, **params)
    tx = tangents[0]
    if type(tx) is _ad.Zero:
        return out, _ad.zero_like(out)
    # Filled (out-of-bounds) slices are constants: their tangent is zero.
    t_fill = 0 if mode == GatherScatterMode.FILL_OR_DROP else None
    return out, gather_p.bind(tx, idx, fill_value=t_fill, **params)


def _gather_transpose(ct, x, idx, *, dimension_numbers, slice_sizes, indices_are_sorted,
                      unique_indices, mode, fill_value):
    if not _ad.is_undefined(x):
        return [None, None]
    cx = scatter_add_p.bind(_zeros(x.aval), idx, ct,
                            dimension_numbers=_gather_to_scatter_dn(dimension_numbers),
                            indices_are_sorted=indices_are_sorted,
                            unique_indices=unique_indices,
                            mode=_scatter_mode_for_gather(mode))
    return [cx, None]


gather_p.jvp = _gather_jvp
gather_p.transpose = _gather_transpose


def _scatter_add_jvp(primals, tangents, **params):
    x, idx, u = primals
    out = scatter_add_p.bind(x, idx, u, **params)
    tx, tu = tangents[0], tangents[2]
    if type(tx) is _ad.Zero and type(tu) is _ad.Zero:
        return out, _ad.zero_like(out)
    return out, scatter_add_p.bind(_ad.instantiate(tx), idx, _ad.instantiate(tu), **params)


def _scatter_add_transpose(ct, x, idx, u, **params):
    cx = ct if _ad.is_undefined(x) else None
    cu = None
    if _ad.is_undefined(u):
        cu = _gather_from_scatter(ct, idx, u.aval, **params)
    return [cx, None, cu]


scatter_add_p.jvp = _scatter_add_jvp
scatter_add_p.transpose = _scatter_add_transpose


def _scatter_sub_jvp(primals, tangents, **params):
    x, idx, u = primals
    out = scatter_sub_p.bind(x, idx, u, **params)
    tx, tu = tangents[0], tangents[2]
    if type(tx) is _ad.Zero and type(tu) is _ad.Zero:
        return out, _ad.zero_like(out)
    return out, scatter_sub_p.bind(_ad.instantiate(tx), idx, _ad.instantiate(tu), **params)


def _scatter_sub_transpose(ct, x, idx, u, **params):
    cx = ct if _ad.is_undefined(x) else None
    cu = None
    if _ad.is_undefined(u):
        cu = _ew.neg(_gather_from_scatter(ct, idx, u.aval, **params))
    return [cx, None, cu]


scatter_sub_p.jvp = _scatter_sub_jvp
scatter_sub_p.transpose = _scatter_sub_transpose


def _as_dtype(mask, dtype):
    return _ew.convert_element_type_p.bind(mask, new_dtype=np.dtype(dtype), weak_type=False,
                                           sharding=None)


def _scatter_winners(x, idx, u, **params):
    """For a scatter (set) with possibly duplicate indices: float masks ``(keep_x, keep_u)``
    saying which operand entries survive (not written) and which update entries are the ones
    that land (each written operand entry gets exactly one). Found by scattering a distinct
    id per update element and reading the ids back."""
    x_aval, u_aval = _ad.aval_of(x), _ad.aval_of(u)
    dt = x_aval.dtype
    ids_dt = np.dtype(np.int32)
    n = int(np.prod(u_aval.shape, dtype=np.int64))
    ids = _shape.reshape(_ew.add(_shape.iota(ids_dt, n), literal(1, ids_dt, False)),
                         u_aval.shape) if u_aval.shape else literal(1, ids_dt, False)
    if not u_aval.shape:
        ids = _ew.convert_element_type(ids, ids_dt)
    zeros_ids = _zeros(ShapedArray(x_aval.shape, ids_dt))
    written = scatter_p.bind(zeros_ids, idx, ids, **params)
    read = _gather_from_scatter(written, idx, ShapedArray(u_aval.shape, ids_dt), fill_value=-1,
                                **params)
    keep_x = _as_dtype(_ew.eq(written, literal(0, ids_dt, False)), dt)
    keep_u = _as_dtype(_ew.eq(read, ids), dt)
    return keep_x, keep_u


def _scatter_jvp(primals, tangents, *, dimension_numbers, indices_are_sorted, unique_indices,
                 mode):
    params = dict(dimension_numbers=dimension_numbers, indices_are_sorted=indices_are_sorted,
                  unique_indices=unique_indices, mode=mode)
    x, idx, u = primals
    out = scatter_p.bind(x, idx, u, **params)
    tx, tu = tangents[0], tangents[2]
    if type(tx) is _ad.Zero and type(tu) is _ad.Zero:
        return out, _ad.zero_like(out)
    tx, tu = _ad.instantiate(tx), _ad.instantiate(tu)
    if unique_indices:
        return out, scatter_p.bind(tx, idx, tu, **params)
    # Duplicate indices: which update lands is up to XLA. Scatter ids to find the winner of
    # each written entry, then express the tangent as a scatter-add of the winners' tangents
    # onto the operand tangent with the overwritten entries masked out. (This assumes XLA
    # picks the same winner for the ids as for the values, as it does on CPU and GPU for one
    # program.)
    keep_x, keep_u = _scatter_winners(x, idx, u, **params)
    t = scatter_add_p.bind(_ew.mul(tx, keep_x), idx, _ew.mul(tu, keep_u), **params)
    return out, t


def _scatter_transpose(ct, x, idx, u, *, dimension_numbers, indices_are_sorted, unique_indices,
                       mode):
    # ``scatter`` is linear in (operand, updates) jointly: out = operand with the written
    # entries replaced. Exact for unique indices; with duplicate indices every update
    # written to one entry receives that entry's cotangent (the JVP rule above avoids
    # staging ``scatter`` on tangents when indices may repeat).
    params = dict(dimension_numbers=dimension_numbers, indices_are_sorted=indices_are_sorted,
                  unique_indices=unique_indices, mode=mode)
    u_aval = _ad.aval_of(u)
    cx = cu = None
    if _ad.is_undefined(x):
        cx = scatter_p.bind(ct, idx, _zeros(u_aval), **params)
    if _ad.is_undefined(u):
        cu = _gather_from_scatter(ct, idx, u_aval, **params)
    return [cx, None, cu]


scatter_p.jvp = _scatter_jvp
scatter_p.transpose = _scatter_transpose


def _scatter_mul_jvp(primals, tangents, **params):
    x, idx, u = primals
    out = scatter_mul_p.bind(x, idx, u, **params)
    tx, tu = tangents[0], tangents[2]
    t = _ad.Zero(_ad.tangent_aval(_ad.aval_of(out)))
    if type(tx) is not _ad.Zero:
        t = scatter_mul_p.bind(tx, idx, u, **params)  # linear in the operand
    if type(tu) is not _ad.Zero:
        # d out[e] = x[e] * sum_k tu[k] * prod_{j != k} u[j], over the updates k written to e.
        # prod_{j != k} u[j] is computed without dividing by zero from the number of zero
        # updates at e and the product of the nonzero ones.
        x_aval, u_aval = _ad.aval_of(x), _ad.aval_of(u)
        dt = x_aval.dtype
        one_u = _shape.broadcast_in_dim(literal(1, dt, False), u_aval.shape, ())
        zero_u = _shape.broadcast_in_dim(literal(0, dt, False), u_aval.shape, ())
        one_x = _shape.broadcast_in_dim(literal(1, dt, False), x_aval.shape, ())
        is_zero = _ew.eq(u, zero_u)
        nonzero_u = _ew.select(is_zero, one_u, u)
        prod_nz = scatter_mul_p.bind(one_x, idx, nonzero_u, **params)
        n_zero = scatter_add_p.bind(_zeros(x_aval), idx, _as_dtype(is_zero, dt), **params)
        prod_nz_at = _gather_from_scatter(prod_nz, idx, u_aval, **params)
        n_zero_at = _gather_from_scatter(n_zero, idx, u_aval, **params)
        others = _ew.select(_ew.eq(n_zero_at, zero_u), _ew.div(prod_nz_at, nonzero_u),
                            _ew.select(_ew.bitwise_and(_ew.eq(n_zero_at, one_u), is_zero),
                                       prod_nz_at, zero_u))
        contrib = scatter_add_p.bind(_zeros(x_aval), idx, _ew.mul(tu, others), **params)
        t = _ad.add_tangents(t, _ew.mul(x, contrib))
    return out, t


def _scatter_mul_transpose(ct, x, idx, u, **params):
    if _ad.is_undefined(u):
        raise NotImplementedError("scatter_mul is not linear in its updates; this indicates "
                                  "a wrong JVP rule upstream.")
    cx = scatter_mul_p.bind(ct, idx, u, **params) if _ad.is_undefined(x) else None
    return [cx, None, None]


scatter_mul_p.jvp = _scatter_mul_jvp
scatter_mul_p.transpose = _scatter_mul_transpose


def _scatter_extremum_jvp(prim):
    """JVP of scatter-min/max: each output entry's tangent is the mean of the tangents of the
    candidates (the operand entry and the updates written there) that equal the result, so
    ties split the derivative evenly (as JAX's rule does)."""
    def jvp(primals, tangents, **params):
        x, idx, u = primals
        out = prim.bind(x, idx, u, **params)
        tx, tu = tangents[0], tangents[2]
        if type(tx) is _ad.Zero and type(tu) is _ad.Zero:
            return out, _ad.zero_like(out)
        x_aval, u_aval = _ad.aval_of(x), _ad.aval_of(u)
        dt = x_aval.dtype
        out_at = _gather_from_scatter(out, idx, u_aval, **params)
        hit_u = _as_dtype(_ew.eq(u, out_at), dt)
        hit_x = _as_dtype(_ew.eq(x, out), dt)
        count = _ew.add(hit_x, scatter_add_p.bind(_zeros(x_aval), idx, hit_u, **params))
        one_x = _shape.broadcast_in_dim(literal(1, dt, False), x_aval.shape, ())
        inv = _ew.div(one_x, _ew.max(count, one_x))  # a NaN result matches nothing: count 0
        inv_at = _gather_from_scatter(inv, idx, u_aval, **params)
        t = _ad.Zero(_ad.tangent_aval(_ad.aval_of(out)))
        if type(tx) is not _ad.Zero:
            t = _ew.mul(tx, _ew.mul(hit_x, inv))
        if type(tu) is not _ad.Zero:
            t = _ad.add_tangents(t, scatter_add_p.bind(
                _zeros(x_aval), idx, _ew.mul(tu, _ew.mul(hit_u, inv_at)), **params))
        return out, t
    return jvp


scatter_min_p.jvp = _scatter_extremum_jvp(scatter_min_p)
scatter_max_p.jvp = _scatter_extremum_jvp(scatter_max_p)


# ---- batching rules ---------------------------------------------------------------------------
# Conventions: ``dims`` hold batch positions in the batched values; per-example dimension ``j``
# of a value batched at ``d`` sits at ``j`` (``j < d``) or ``j + 1``. Gather and scatter keep
# their index vectors in the last dimension of the indices, so a batch dimension found there is
# moved one step forward. A batched operand meeting batched indices becomes an operand
# batching dimension (StableHLO's ``operand_batching_dims``): no iota indices are built.
from jaxel.transforms import batching as _batching  # noqa: E402


def _shift(dims, at: int) -> tuple:
    """Dimensions numbered before inserting a new dimension at ``at``, renumbered after."""
    return tuple(d + 1 if d >= at else d for d in dims)


def _insert(t, at: int, v) -> tuple:
    t = tuple(t)
    return t[:at] + (v,) + t[at:]


def _count_below(dims, bound: int) -> int:
    return sum(1 for d in dims if d < bound)


def _add_batching_pair(obd, ibd, d_operand: int, d_indices: int):
    """Operand/indices batching dims (already renumbered) with the pair ``(d_operand,
    d_indices)`` added, keeping ``obd`` sorted."""
    m = _count_below(obd, d_operand)
    return _insert(obd, m, d_operand), _insert(ibd, m, d_indices)


def _index_batch_off_vector_dim(idx, d):
    """Indices with their batch dimension ``d`` moved off the index-vector (last) dimension."""
    nd = aval_of(idx).ndim
    if d == nd - 1:
        return _batching.move_axis(idx, d, nd - 2), nd - 2
    return idx, d


def _gather_batch(args, dims, *, dimension_numbers, slice_sizes, indices_are_sorted,
                  unique_indices, mode, fill_value):
    (x, idx), (dx, di) = args, dims
    dn = dimension_numbers
    offs = tuple(dn.offset_dims)
    common = dict(mode=mode, fill_value=fill_value)
    if di is None:
        # Only the operand is batched: its batch dimension is one more offset dimension, taken
        # whole. It lands among the output's offset dimensions in operand order.
        size = aval_of(x).shape[dx]
        ndim = aval_of(x).ndim - 1
        kept = [j for j in range(ndim)
                if j not in dn.collapsed_slice_dims and j not in dn.operand_batching_dims]
        k = _count_below(kept, dx)
        p = offs[k - 1] + 1 if k else 0
        new_dn = GatherDimensionNumbers(
            offset_dims=offs[:k] + (p,) + tuple(o + 1 for o in offs[k:]),
            collapsed_slice_dims=_shift(dn.collapsed_slice_dims, dx),
            start_index_map=_shift(dn.start_index_map, dx),
            operand_batching_dims=_shift(dn.operand_batching_dims, dx),
            start_indices_batching_dims=dn.start_indices_batching_dims)
        out = gather_p.bind(x, idx, dimension_numbers=new_dn,
                            slice_sizes=_insert(slice_sizes, dx, size),
                            indices_are_sorted=indices_are_sorted,
                            unique_indices=unique_indices, **common)
        return out, p
    # Batched indices: the batch dimension is one more index batch dimension; the output puts
    # it among its batch (non-offset) dimensions in index order.
    idx, di = _index_batch_off_vector_dim(idx, di)
    out_rank = aval_of(idx).ndim - 2 + len(offs)  # per-example output rank
    batch_pos = [i for i in range(out_rank) if i not in offs]
    q = batch_pos[di - 1] + 1 if di else 0
    new_offs = _shift(offs, q)
    ibd = _shift(dn.start_indices_batching_dims, di)
    if dx is None:
        # Examples may repeat each other's indices, so uniqueness does not carry over.
        new_dn = dn._replace(offset_dims=new_offs, start_indices_batching_dims=ibd)
        out = gather_p.bind(x, idx, dimension_numbers=new_dn, slice_sizes=slice_sizes,
                            indices_are_sorted=False, unique_indices=False, **common)
        return out, q
    obd, ibd = _add_batching_pair(_shift(dn.operand_batching_dims, dx), ibd, dx, di)
    new_dn = GatherDimensionNumbers(
        offset_dims=new_offs, collapsed_slice_dims=_shift(dn.collapsed_slice_dims, dx),
        start_index_map=_shift(dn.start_index_map, dx), operand_batching_dims=obd,
        start_indices_batching_dims=ibd)
    out = gather_p.bind(x, idx, dimension_numbers=new_dn,
                        slice_sizes=_insert(slice_sizes, dx, 1), indices_are_sorted=False,
                        unique_indices=unique_indices, **common)
    return out, q


def _scatter_batch_rule(prim):
    def rule(args, dims, *, dimension_numbers, indices_are_sorted, unique_indices, mode):
        (x, idx, u), (dx, di, du) = args, dims
        dn = dimension_numbers
        size = _batching.batch_size_of(args, dims)
        uwd = tuple(dn.update_window_dims)
        x_ndim = aval_of(x).ndim - (dx is not None)  # per-example ranks
        u_ndim = aval_of(u).ndim - (du is not None)
        if di is None:
            # Unbatched indices: the batch dimension is one more (whole) update window. Every
            # example writes into its own copy, so an unbatched operand is broadcast, and so
            # are unbatched updates (the window needs that dimension).
            windowed = [j for j in range(x_ndim)
                        if j not in dn.inserted_window_dims and j not in dn.operand_batching_dims]
            if dx is None:
                k = _count_below(uwd, du)
                dx = windowed[k - 1] + 1 if k else 0
                x = _batching.broadcast_batched(x, size, dx)
            k = _count_below(windowed, dx)
            lo = uwd[k - 1] + 1 if k else 0
            hi = uwd[k] if k < len(uwd) else u_ndim
            if du is None or not lo <= du <= hi:
                u = _batching.matchaxis(u, du, lo, size)
                du = lo
            new_dn = ScatterDimensionNumbers(
                update_window_dims=uwd[:k] + (du,) + tuple(w + 1 for w in uwd[k:]),
                inserted_window_dims=_shift(dn.inserted_window_dims, dx),
                scatter_dims_to_operand_dims=_shift(dn.scatter_dims_to_operand_dims, dx),
                operand_batching_dims=_shift(dn.operand_batching_dims, dx),
                scatter_indices_batching_dims=dn.scatter_indices_batching_dims)
            out = prim.bind(x, idx, u, dimension_numbers=new_dn,
                            indices_are_sorted=indices_are_sorted,
                            unique_indices=unique_indices, mode=mode)
            return out, dx
        # Batched indices: the batch dimension pairs an operand batching dimension with an index
        # batch dimension; in the updates it is a scatter dimension in index order.
        idx, di = _index_batch_off_vector_dim(idx, di)
        scatter_dims = [j for j in range(u_ndim) if j not in uwd]
        if du is None:
            du = scatter_dims[di - 1] + 1 if di else 0
            u = _batching.broadcast_batched(u, size, du)
        else:
            t = _count_below(scatter_dims, du)
            if t != di:  # move the indices (usually the smaller array) to match the updates
                idx = _batching.move_axis(idx, di, t)
                di = t
        if dx is None:
            dx = 0
            x = _batching.broadcast_batched(x, size, 0)
        obd, ibd = _add_batching_pair(_shift(dn.operand_batching_dims, dx),
                                      _shift(dn.scatter_indices_batching_dims, di), dx, di)
        new_dn = ScatterDimensionNumbers(
            update_window_dims=_shift(uwd, du),
            inserted_window_dims=_shift(dn.inserted_window_dims, dx),
            scatter_dims_to_operand_dims=_shift(dn.scatter_dims_to_operand_dims, dx),
            operand_batching_dims=obd, scatter_indices_batching_dims=ibd)
        # Per-example uniqueness holds across examples too (each writes its own batch row).
        out = prim.bind(x, idx, u, dimension_numbers=new_dn, indices_are_sorted=False,
                        unique_indices=unique_indices, mode=mode)
        return out, dx
    return rule


def _batched_starts(idx, dims, size):
    """The scalar start indices of ``dynamic_(update_)slice`` as one ``(size, n)`` index array
    (unbatched ones repeated)."""
    cols = []
    for i, d in zip(idx, dims):
        if d is None:
            cols.append(_shape.broadcast_in_dim(i, (size, 1), ()))
        else:
            cols.append(_shape.broadcast_in_dim(i, (size, 1), (0,)))
    return cols[0] if len(cols) == 1 else _shape.concatenate(cols, 1)


def _dynamic_slice_batch(args, dims, *, slice_sizes):
    x, *idx = args
    dx, *di = dims
    size = _batching.batch_size_of(args, dims)
    if all(d is None for d in di):
        # Shared starts: still one dynamic_slice, starting at 0 along the batch dimension.
        dt = aval_of(idx[0]).dtype if idx else np.dtype(np.int32)
        idx = list(idx)
        idx.insert(dx, literal(0, dt, False))
        return dynamic_slice_p.bind(x, *idx, slice_sizes=_insert(slice_sizes, dx, size)), dx
    # Starts per example: a gather of whole windows, clamped into bounds as dynamic_slice is.
    starts = _batched_starts(idx, di, size)
    n = len(idx)
    if dx is None:
        dn = GatherDimensionNumbers(offset_dims=tuple(range(1, n + 1)), collapsed_slice_dims=(),
                                    start_index_map=tuple(range(n)))
        sizes = tuple(slice_sizes)
    else:
        dn = GatherDimensionNumbers(offset_dims=tuple(range(1, n + 1)), collapsed_slice_dims=(),
                                    start_index_map=_shift(range(n), dx),
                                    operand_batching_dims=(dx,), start_indices_batching_dims=(0,))
        sizes = _insert(slice_sizes, dx, 1)
    out = gather_p.bind(x, starts, dimension_numbers=dn, slice_sizes=sizes,
                        indices_are_sorted=False, unique_indices=False,
                        mode=GatherScatterMode.CLIP, fill_value=None)
    return out, 0


def _dynamic_update_slice_batch(args, dims):
    x, u, *idx = args
    dx, du, *di = dims
    size = _batching.batch_size_of(args, dims)
    if all(d is None for d in di):
        # Shared starts: one dynamic_update_slice writing every example (start 0 there).
        if dx is None:
            dx = du
            x = _batching.broadcast_batched(x, size, dx)
        else:
            u = _batching.matchaxis(u, du, dx, size)
        dt = aval_of(idx[0]).dtype if idx else np.dtype(np.int32)
        idx = list(idx)
        idx.insert(dx, literal(0, dt, False))
        return dynamic_update_slice_p.bind(x, u, *idx), dx
    # Starts per example: a scatter of one whole window per example, with the indices clamped
    # so the window fits (``CLIP``), as dynamic_update_slice clamps.
    starts = _batched_starts(idx, di, size)
    n = len(idx)
    if dx is None:
        dx = 0
        x = _batching.broadcast_batched(x, size, 0)
    if du is None:
        du = 0
        u = _batching.broadcast_batched(u, size, 0)
    dn = ScatterDimensionNumbers(
        update_window_dims=tuple(j for j in range(n + 1) if j != du), inserted_window_dims=(),
        scatter_dims_to_operand_dims=_shift(range(n), dx), operand_batching_dims=(dx,),
        scatter_indices_batching_dims=(0,))
    out = scatter_p.bind(x, starts, u, dimension_numbers=dn, indices_are_sorted=False,
                         unique_indices=True, mode=GatherScatterMode.CLIP)
    return out, dx


dynamic_slice_p.batch = _dynamic_slice_batch
dynamic_update_slice_p.batch = _dynamic_update_slice_batch
gather_p.batch = _gather_batch
for _p in (scatter_p, scatter_add_p, scatter_sub_p, scatter_mul_p, scatter_min_p, scatter_max_p):
    _p.batch = _scatter_batch_rule(_p)
