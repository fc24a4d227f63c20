"""Segment reductions: combine the rows of ``data`` that share a segment id.

Each is a scatter into an array of ``num_segments`` rows filled with the reduction's identity,
so they differentiate, jit and vmap through the scatter primitives' own rules. With
``bucket_size`` the rows are first reduced within buckets of that many consecutive rows and the
bucket results are then reduced, which keeps long float sums and products more accurate.
"""
from __future__ import annotations

import numpy as np

from jaxel import dtypes as _dtypes
from jaxel import lax
from jaxel import numpy as jnp
from jaxel.errors import ConcretizationTypeError
from jaxel.lax.slicing import GatherScatterMode
from jaxel.numpy._util import check_arraylike
from jaxel.tracing.core import Tracer


def _identity(op: str, dtype):
    """The value a segment with no rows holds: the identity of ``op`` in ``dtype``."""
    if op == "add":
        return 0
    if op == "mul":
        return 1
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return op == "min"  # min of nothing is True, max of nothing is False
    if _dtypes.is_integer(dtype):
        info = _dtypes.iinfo(dtype)
        return info.max if op == "min" else info.min
    return float("inf") if op == "min" else -float("inf")


def _num_segments(name, num_segments, segment_ids):
    """``num_segments`` as a Python int: given, or ``max(segment_ids) + 1`` when concrete."""
    if num_segments is None:
        if isinstance(segment_ids, Tracer):
            raise ConcretizationTypeError(
                f"jaxel.ops.{name}: num_segments was not given, so it would be "
                f"max(segment_ids) + 1, but segment_ids is a traced array "
                f"{segment_ids.aval.str_short()}. The number of segments fixes the result's "
                "shape: pass num_segments as a Python int under jit and vmap.")
        ids = np.asarray(segment_ids)
        if ids.size == 0:
            raise ValueError(f"jaxel.ops.{name}: num_segments must be given when segment_ids "
                             "is empty.")
        num_segments = int(ids.max()) + 1
    elif isinstance(num_segments, Tracer):
        raise ConcretizationTypeError(
            f"jaxel.ops.{name}: num_segments must be a concrete integer (it is the size of the "
            f"result), got a traced array {num_segments.aval.str_short()}.")
    else:
        if np.ndim(num_segments) != 0:
            raise TypeError(f"jaxel.ops.{name}: num_segments must be an integer, got an array "
                            f"of shape {np.shape(num_segments)}.")
        num_segments = int(np.asarray(num_segments).item() if not isinstance(num_segments, int)
                           else num_segments)
    if num_segments < 0:
        raise ValueError(f"jaxel.ops.{name}: num_segments must be non-negative, got "
                         f"{num_segments}.")
    return num_segments


def _no_sharding(name, out_sharding):
    if out_sharding is not None:
        raise NotImplementedError(f"jaxel.ops.{name}: out_sharding is not supported "
                                  "(single-device arrays only); pass None.")


_REDUCERS = {"add": jnp.sum, "mul": jnp.prod, "max": jnp.max, "min": jnp.min}
# Scatters straight from lax, not x.at[ids]: a negative id must stay out of range (dropped, or
# clipped to segment 0), not count from the end as NumPy indexing would.
_SCATTERS = {"add": lax.scatter_add, "mul": lax.scatter_mul, "max": lax.scatter_max,
             "min": lax.scatter_min}


def _segment_reduce(name, op, data, segment_ids, num_segments, indices_are_sorted,
                    unique_indices, bucket_size, mode):
    check_arraylike(name, data, segment_ids)
    data = jnp.asarray(data)
    segment_ids = jnp.asarray(segment_ids)
    if data.ndim == 0:
        raise ValueError(f"jaxel.ops.{name}: data must have at least one dimension (its rows "
                         "are reduced), got a scalar.")
    if segment_ids.ndim != 1 or segment_ids.shape[0] != data.shape[0]:
        raise ValueError(f"jaxel.ops.{name}: segment_ids must be a vector with one id per row "
                         f"of data (shape ({data.shape[0]},)), got shape {segment_ids.shape}.")
    if not _dtypes.is_integer(segment_ids.dtype):
        raise TypeError(f"jaxel.ops.{name}: segment_ids must have an integer dtype, got "
                        f"{segment_ids.dtype}.")
    n = _num_segments(name, num_segments, segment_ids)
    mode = GatherScatterMode.FILL_OR_DROP if mode is None else GatherScatterMode.from_any(mode)
    dtype = data.dtype
    kw = dict(indices_are_sorted=bool(indices_are_sorted), unique_indices=bool(unique_indices),
              mode=mode)
    window = tuple(range(1, data.ndim))
    if bucket_size is None:
        out = jnp.full((n,) + data.shape[1:], _identity(op, dtype), dtype=dtype)
        dn = lax.ScatterDimensionNumbers(update_window_dims=window, inserted_window_dims=(0,),
                                         scatter_dims_to_operand_dims=(0,))
        return _SCATTERS[op](out, segment_ids[:, None], data, dn, **kw)
    bucket_size = int(bucket_size)
    if bucket_size <= 0:
        raise ValueError(f"jaxel.ops.{name}: bucket_size must be positive, got {bucket_size}.")
    rows = segment_ids.shape[0]
    n_buckets = -(-rows // bucket_size)
    out = jnp.full((n_buckets, n) + data.shape[1:], _identity(op, dtype), dtype=dtype)
    bucket = lax.div(jnp.arange(rows, dtype=segment_ids.dtype),
                     jnp.asarray(bucket_size, segment_ids.dtype))
    dn = lax.ScatterDimensionNumbers(update_window_dims=window, inserted_window_dims=(0, 1),
                                     scatter_dims_to_operand_dims=(0, 1))
    out = _SCATTERS[op](out, jnp.stack([bucket, segment_ids], axis=1), data, dn, **kw)
    return _REDUCERS[op](out, axis=0).astype(dtype)


def _doc(op_word, empty):
    return f"""The {op_word} of the rows of ``data`` within each segment.

    Row ``i`` of ``data`` belongs to segment ``segment_ids[i]``; row ``s`` of the result is the
    {op_word} of the rows in segment ``s`` ({empty} for a segment with no rows).

    Args:
      data: array whose leading axis is reduced.
      segment_ids: integer vector, one segment id per row of ``data``; ids need not be sorted
        or distinct.
      num_segments: number of segments (a concrete int; default ``max(segment_ids) + 1``,
        which needs concrete ``segment_ids``, so pass it under ``jit`` and ``vmap``).
      indices_are_sorted: promise that ``segment_ids`` is sorted (a hint for XLA).
      unique_indices: promise that no id repeats (a hint for XLA).
      bucket_size: if given, reduce within buckets of this many consecutive rows first, then
        across buckets (more accurate for long float sums and products).
      mode: what out-of-range ids do (a ``lax.GatherScatterMode`` or its name): the default
        ``'fill'``/``'drop'`` ignores their rows, ``'clip'`` sends them to the nearest segment.
      out_sharding: must be None (jaxel arrays live on one device).

    Returns:
      An array of shape ``(num_segments,) + data.shape[1:]`` and ``data``'s dtype.
    """


def segment_sum(data, segment_ids, num_segments=None, indices_are_sorted=False,
                unique_indices=False, bucket_size=None, mode=None, out_sharding=None):
    _no_sharding("segment_sum", out_sharding)
    return _segment_reduce("segment_sum", "add", data, segment_ids, num_segments,
                           indices_are_sorted, unique_indices, bucket_size, mode)


def segment_prod(data, segment_ids, num_segments=None, indices_are_sorted=False,
                 unique_indices=False, bucket_size=None, mode=None, out_sharding=None):
    _no_sharding("segment_prod", out_sharding)
    return _segment_reduce("segment_prod", "mul", data, segment_ids, num_segments,
                           indices_are_sorted, unique_indices, bucket_size, mode)


def segment_max(data, segment_ids, num_segments=None, indices_are_sorted=False,
                unique_indices=False, bucket_size=None, mode=None, out_sharding=None):
    _no_sharding("segment_max", out_sharding)
    return _segment_reduce("segment_max", "max", data, segment_ids, num_segments,
                           indices_are_sorted, unique_indices, bucket_size, mode)


def segment_min(data, segment_ids, num_segments=None, indices_are_sorted=False,
                unique_indices=False, bucket_size=None, mode=None, out_sharding=None):
    _no_sharding("segment_min", out_sharding)
    return _segment_reduce("segment_min", "min", data, segment_ids, num_segments,
                           indices_are_sorted, unique_indices, bucket_size, mode)


segment_sum.__doc__ = _doc("sum", "0")
segment_prod.__doc__ = _doc("product", "1")
segment_max.__doc__ = _doc("maximum", "the dtype's lowest value: -inf, iinfo.min or False")
segment_min.__doc__ = _doc("minimum", "the dtype's highest value: inf, iinfo.max or True")
