"""NumPy indexing with JAX's semantics: ``x[idx]``, ``x.at[idx].set(y)`` and friends, ``take``,
``take_along_axis``. Pure composition of lax.

An index is parsed once into *entries*, one per operand dimension it consumes (plus new axes):
static slices, static ints, traced scalar ints and integer arrays (boolean masks become integer
arrays through ``np.nonzero`` of their concrete value). Then:

* basic indexing (no arrays) stages static ``slice``/``rev``, a ``dynamic_slice`` for traced
  scalar ints, and ``squeeze``/``reshape``: the jaxprs stay small and no gather is compiled;
* advanced indexing (integer arrays, boolean masks, scalar booleans) stages one ``gather``,
  and every ``.at[...]`` update one ``scatter``. Their dimension numbers follow NumPy's rule for
  where the broadcast index dimensions go: in place of the advanced indices when those are
  adjacent in the index, first otherwise.

Out of bounds (as JAX): retrieval clamps (``x[10]`` of a length-3 ``x`` is ``x[2]``), updates
are dropped; ``mode=`` of ``.at[...]`` methods chooses otherwise. Negative indices count from
the end.
"""
from __future__ import annotations

import math
import operator

import numpy as np

from jaxel._dslice import Slice, apply_slices
from jaxel import dtypes as _dtypes
from jaxel import lax
from jaxel.lax.slicing import GatherScatterMode, GatherDimensionNumbers, ScatterDimensionNumbers
from jaxel.numpy._util import aval_of, broadcast_to_shape, index_scalar, is_eager
from jaxel.runtime.array import Array
from jaxel.tracing.core import Tracer, literal

try:
    from jaxel.errors import NonConcreteBooleanIndexError
except ImportError:  # until jaxel.errors defines it (JAX's jax.errors has it)
    class NonConcreteBooleanIndexError(IndexError):
        """A boolean mask index whose value is not known at trace time (its result's shape
        would depend on the data)."""

_NEW, _SLICE, _INT, _DYN, _ADV, _BOOL = "new", "slice", "int", "dyn", "adv", "bool"
_ELLIPSIS, _MASK = "ellipsis", "mask"
_ADVANCED = (_ADV, _INT, _DYN)  # kinds that take part in advanced indexing (ints do, as NumPy)
_STATIC_INDEX_LIMIT = 4096  # all-static index arrays up to this size become one constant


class _Entry:
    """One parsed index item: its kind, value, position in the index tuple (NumPy places the
    advanced-index dimensions by these positions) and the operand dimension it consumes.

    ``value`` by kind: _SLICE ``(start, stop, step, length)`` normalised to the dimension;
    _INT a Python int (negative not yet wrapped); _DYN a traced or device scalar; _ADV an
    integer array (NumPy or traced); _BOOL a Python bool; _NEW None.
    """

    __slots__ = ("kind", "value", "pos", "dim")

    def __init__(self, kind, value, pos, dim=None):
        self.kind, self.value, self.pos, self.dim = kind, value, pos, dim

    def __repr__(self):
        return f"_Entry({self.kind}, {self.value!r}, pos={self.pos}, dim={self.dim})"


# ---- parsing ---------------------------------------------------------------------------------
def _float_index_error(item, pos, dtype):
    where = f" at position {pos} of the index" if pos is not None else ""
    return TypeError(f"Indexer must have integer or boolean type, got indexer {item!r:.80} with "
                     f"type {np.dtype(dtype).name}{where}. Convert it to an integer dtype first "
                     "(e.g. `idx.astype(int)` or `int(idx)`).")


def _as_tuple(idx):
    if isinstance(idx, tuple):
        return idx
    if isinstance(idx, (list, range)):
        raise TypeError(f"Using a non-tuple sequence for multidimensional indexing is not "
                        f"allowed (got the {type(idx).__name__} {idx!r:.60}); use "
                        "`x[jnp.array(seq)]` to index with an array of indices, or "
                        "`x[tuple(seq)]` for one index per dimension.")
    return (idx,)


def _sequence_to_array(seq, pos):
    """A list/tuple inside an index tuple: an index array (traced when it holds tracers)."""
    from jaxel.numpy.creation import _contains_tracer, asarray
    if _contains_tracer(seq) or any(isinstance(v, Array) for v in _flat(seq)):
        return asarray(seq)
    arr = np.asarray(seq)
    if arr.size == 0 and arr.dtype.kind == "f":  # `[]` is an empty integer index in NumPy
        arr = arr.astype(np.int64)
    if arr.dtype == object:
        raise TypeError(f"Index at position {pos} is a ragged sequence {seq!r:.60}; index "
                        "arrays must be rectangular.")
    return arr


def _flat(seq):
    for v in seq:
        if isinstance(v, (list, tuple)):
            yield from _flat(v)
        else:
            yield v


def _static_slice(s: slice, pos) -> slice:
    vals = []
    for name, v in (("start", s.start), ("stop", s.stop), ("step", s.step)):
        if v is None:
            vals.append(None)
            continue
        if isinstance(v, Tracer):
            raise IndexError(
                f"Slice {name} at position {pos} of the index is a traced value "
                f"{v.aval.str_short()}: slice bounds must be static integers, because the result's shape depends "
                "on them. To take a fixed-size slice at a traced position, use "
                "`lax.dynamic_slice` (or `lax.dynamic_update_slice` for updates).")
        try:
            vals.append(operator.index(v))
        except TypeError:
            raise TypeError(f"Slice {name} at position {pos} of the index must be an integer or "
                            f"None, got {v!r:.60} of type {type(v).__name__}.") from None
    if vals[2] == 0:
        raise ValueError("slice step cannot be zero")
    return slice(*vals)


def _classify(item, pos):
    """(kind, value) of one non-slice, non-None, non-Ellipsis index item."""
    if isinstance(item, (bool, np.bool_)):
        return _BOOL, bool(item)
    if isinstance(item, (int, np.integer)):
        return _INT, int(item)
    if isinstance(item, (str, bytes)):
        raise TypeError(f"jaxel arrays do not support string indexing; got {item!r:.60} at "
                        f"position {pos} of the index.")
    if isinstance(item, (list, tuple)):
        item = _sequence_to_array(item, pos)
    if isinstance(item, (Tracer, Array)):
        dt = item.dtype
        if dt == np.bool_:
            if isinstance(item, Tracer):
                raise NonConcreteBooleanIndexError(
                    f"Boolean index {item.aval.str_short()} at position {pos} is a traced value: "
                    "a boolean mask selects a data-dependent number of elements, which a "
                    "traced computation cannot have. Use `jnp.where(mask, x, fill)` to keep "
                    "the shape, or `jnp.nonzero(mask, size=n)` / `x[jnp.nonzero(mask, "
                    "size=n)]` with a static bound `n`.")
            item = np.asarray(item)  # a concrete mask: handled like a NumPy one below
        elif dt.kind in "iu":
            return (_DYN if item.ndim == 0 else _ADV), item
        else:
            raise _float_index_error(item, pos, dt)
    if isinstance(item, (np.ndarray, np.generic)):
        item = np.asarray(item)
        if item.dtype == np.bool_:
            return (_BOOL, bool(item)) if item.ndim == 0 else (_MASK, item)
        if item.dtype.kind in "iu":
            return (_INT, int(item)) if item.ndim == 0 else (_ADV, item)
        raise _float_index_error(item, pos, item.dtype)
    if isinstance(item, (float, complex)):
        raise _float_index_error(item, pos, np.asarray(item).dtype)
    raise TypeError(f"Index at position {pos} has unsupported type {type(item).__name__}: "
                    f"{item!r:.60}. Use integers, slices, None, Ellipsis, or integer/boolean "
                    "arrays.")


def _parse(idx, shape):
    """The entries of ``idx`` for an operand of ``shape``: every operand dimension is consumed
    by exactly one _SLICE/_INT/_DYN/_ADV entry (Ellipsis and missing trailing dimensions become
    full slices, boolean masks become one integer array per masked dimension)."""
    items = _as_tuple(idx)
    raw = []
    has_ellipsis = False
    for pos, item in enumerate(items):
        if item is None:
            raw.append((_NEW, None, pos))
        elif item is Ellipsis:
            if has_ellipsis:
                raise IndexError("an index can only have a single ellipsis ('...')")
            has_ellipsis = True
            raw.append((_ELLIPSIS, None, pos))
        elif isinstance(item, slice):
            raw.append((_SLICE, _static_slice(item, pos), pos))
        else:
            raw.append((*_classify(item, pos), pos))
    ndim = len(shape)
    consumed = sum(v.ndim if k == _MASK else 1 for k, v, _ in raw
                   if k in (_SLICE, _INT, _DYN, _ADV, _MASK))
    if consumed > ndim:
        raise IndexError(f"Too many indices: array is {ndim}-dimensional, but {consumed} were "
                         "indexed.")
    if not has_ellipsis:
        raw.append((_ELLIPSIS, None, len(items)))  # trailing dimensions are taken whole
    entries = []
    dim = 0
    for kind, value, pos in raw:
        if kind == _ELLIPSIS:
            for _ in range(ndim - consumed):
                entries.append(_entry_slice(slice(None), pos, dim, shape[dim]))
                dim += 1
        elif kind == _MASK:
            want = shape[dim:dim + value.ndim]
            # A zero-length mask dimension selects nothing, so NumPy and JAX accept it against
            # any length (x[empty_mask] on a length-1 axis is empty, not an error).
            if len(want) != value.ndim or any(m not in (0, n) for m, n in zip(value.shape, want)):
                raise IndexError(f"boolean index did not match shape of indexed array in index "
                                 f"{pos}: got {value.shape}, expected {want}")
            for k, arr in enumerate(np.nonzero(value)):
                entries.append(_Entry(_ADV, arr, pos, dim + k))
            dim += value.ndim
        elif kind == _SLICE:
            entries.append(_entry_slice(value, pos, dim, shape[dim]))
            dim += 1
        elif kind in (_NEW, _BOOL):
            entries.append(_Entry(kind, value, pos))
        else:
            entries.append(_Entry(kind, value, pos, dim))
            dim += 1
    return entries


def _entry_slice(s: slice, pos, dim, n):
    start, stop, step = s.indices(n)
    return _Entry(_SLICE, (start, stop, step, len(range(start, stop, step))), pos, dim)


# ---- basic indexing: static slices, rev, dynamic_slice ----------------------------------------
def _apply_static_slices(x, entries, ints_too: bool):
    """Apply every _SLICE entry (and static _INT entries when ``ints_too``) with one
    ``lax.slice`` and one ``lax.rev``; returns the new operand and entries whose slices are now
    whole dimensions."""
    shape = aval_of(x).shape
    starts, limits, strides = [0] * len(shape), list(shape), [1] * len(shape)
    rev_dims = []
    out = []
    for e in entries:
        if e.kind == _SLICE:
            start, _, step, length = e.value
            if length == 0:
                lo, hi, st = 0, 0, 1
            elif step > 0:
                lo, hi, st = start, start + (length - 1) * step + 1, step
            else:  # take the same elements ascending, then reverse them
                lo, hi, st = start + (length - 1) * step, start + 1, -step
                if length > 1:
                    rev_dims.append(e.dim)
            starts[e.dim], limits[e.dim], strides[e.dim] = lo, hi, st
            e = _Entry(_SLICE, (0, length, 1, length), e.pos, e.dim)
        elif e.kind == _INT and ints_too:
            n = shape[e.dim]
            if n == 0:
                raise IndexError(f"index {e.value} is out of bounds for axis {e.dim} with size 0")
            i = e.value + n if e.value < 0 else e.value
            i = min(max(i, 0), n - 1)  # JAX clamps out-of-bounds retrieval
            starts[e.dim], limits[e.dim] = i, i + 1
        out.append(e)
    if starts != [0] * len(shape) or limits != list(shape) or strides != [1] * len(shape):
        x = lax.slice(x, starts, limits, None if strides == [1] * len(shape) else strides)
    if rev_dims:
        x = lax.rev(x, rev_dims)
    return x, out


def _one_dynamic_slice(x, entries, only_dynamic=False):
    """One ``dynamic_slice`` for the traced scalar ints, with the static ints and contiguous
    slices too unless ``only_dynamic`` (those were applied already). Static starts are wrapped
    and clamped here; XLA clamps the traced ones."""
    shape = aval_of(x).shape
    starts, sizes = [0] * len(shape), list(shape)
    for e in entries:
        if e.kind == _SLICE and not only_dynamic:
            starts[e.dim] = e.value[0] if e.value[3] else 0
            sizes[e.dim] = e.value[3]
        elif e.kind == _DYN or (e.kind == _INT and not only_dynamic):
            n = shape[e.dim]
            if n == 0:
                raise IndexError(f"index is out of bounds for axis {e.dim} with size 0")
            i = e.value
            if e.kind == _INT:
                i = min(max(i + n if i < 0 else i, 0), n - 1)
            starts[e.dim], sizes[e.dim] = i, 1
    return lax.dynamic_slice(x, starts, sizes)


def _eager_basic_get(x, entries):
    """Basic indexing of a concrete array outside a trace, with every static start passed to
    one ``dynamic_slice`` as a device scalar: the executables then depend on the index's
    structure (window sizes, steps), not on its values, so a loop of ``x[i]`` over distinct
    ``i`` compiles once instead of once per ``i``. Starts are wrapped and clamped here, so they
    are in bounds and XLA's clamping never applies."""
    shape = aval_of(x).shape
    bound = max(shape, default=0)
    starts, windows, strides, rev_dims, out = [], [], [], [], []
    for e in entries:
        if e.kind == _SLICE:
            start, _, step, length = e.value
            if length == 0:
                lo, window, stride = 0, 0, 1
            elif step > 0:
                lo, window, stride = start, (length - 1) * step + 1, step
            else:  # the same elements ascending, then reversed
                lo, window, stride = start + (length - 1) * step, (length - 1) * -step + 1, -step
                if length > 1:
                    rev_dims.append(e.dim)
            e = _Entry(_SLICE, (0, length, 1, length), e.pos, e.dim)
        elif e.kind == _INT:
            n = shape[e.dim]
            if n == 0:
                raise IndexError(f"index {e.value} is out of bounds for axis {e.dim} with size 0")
            lo, window, stride = min(max(e.value + n if e.value < 0 else e.value, 0), n - 1), 1, 1
        else:  # _NEW, _BOOL: no operand dimension
            out.append(e)
            continue
        starts.append(index_scalar(lo, bound))
        windows.append(window)
        strides.append(stride)
        out.append(e)
    x = lax.dynamic_slice(x, starts, windows, allow_negative_indices=False)  # wrapped above
    if any(st != 1 for st in strides):
        x = lax.slice(x, [0] * len(windows), windows, strides)
    if rev_dims:
        x = lax.rev(x, rev_dims)
    return _remove_and_insert_axes(x, out)


def _basic_get(x, entries):
    """Indexing without arrays: static slices and clamped static ints, ``dynamic_slice`` for
    traced scalar ints, then removed and new axes."""
    dyn = [e for e in entries if e.kind == _DYN]
    if not dyn and is_eager(x) and any(
            e.kind == _INT or (e.kind == _SLICE and e.value[3] != aval_of(x).shape[e.dim])
            for e in entries):
        return _eager_basic_get(x, entries)
    if not dyn:
        x, entries = _apply_static_slices(x, entries, ints_too=True)
    elif all(e.kind != _SLICE or e.value[2] == 1 or e.value[3] <= 1 for e in entries):
        x = _one_dynamic_slice(x, entries)  # contiguous slices ride along: one op, as JAX
    else:  # strided slices first, then the traced ints
        x, entries = _apply_static_slices(x, entries, ints_too=True)
        x = _one_dynamic_slice(x, entries, only_dynamic=True)
    return _remove_and_insert_axes(x, entries)


def _remove_and_insert_axes(x, entries):
    """Squeeze the axes of int entries and insert those of None/boolean entries."""
    shape = aval_of(x).shape
    removed = [e.dim for e in entries if e.kind in (_INT, _DYN)]
    if not any(e.kind in (_NEW, _BOOL) for e in entries):
        return lax.squeeze(x, removed) if removed else x
    final, empty = [], []
    for e in entries:
        if e.kind in (_NEW, _BOOL):
            if e.kind == _BOOL and not e.value:
                empty.append(len(final))
            final.append(1)
        elif e.kind == _SLICE:
            final.append(shape[e.dim])
    x = lax.reshape(x, final)
    if empty:  # x[False] adds an axis of length 0
        limits = list(final)
        for d in empty:
            limits[d] = 0
        x = lax.slice(x, [0] * len(final), limits)
    return x


# ---- advanced indexing: the gather/scatter plan ----------------------------------------------
def _expand_new_axes(x, entries):
    """Make every None and scalar-boolean entry an operand dimension of size 1 (a reshape):
    None becomes a whole slice of it, a boolean an index array of length 1 (True) or 0
    (False), which is NumPy's meaning of a scalar boolean index."""
    if not any(e.kind in (_NEW, _BOOL) for e in entries):
        return x, entries
    shape = aval_of(x).shape
    new_shape, out = [], []
    for e in entries:
        d = len(new_shape)
        if e.kind == _NEW:
            new_shape.append(1)
            out.append(_Entry(_SLICE, (0, 1, 1, 1), e.pos, d))
        elif e.kind == _BOOL:
            new_shape.append(1)
            out.append(_Entry(_ADV, np.zeros(1 if e.value else 0, np.int32), e.pos, d))
        else:
            new_shape.append(shape[e.dim])
            out.append(_Entry(e.kind, e.value, e.pos, d))
    return lax.reshape(x, new_shape), out


def _index_dtype(entries, shape):
    """int32, or int64 (with x64 enabled) when an index or a dimension needs 64 bits."""
    wide = any(d > np.iinfo(np.int32).max for d in shape)
    for e in entries:
        if e.kind in (_ADV, _DYN):
            wide = wide or np.dtype(e.value.dtype).itemsize == 8
        elif e.kind == _INT:
            wide = wide or not -2**31 <= e.value < 2**31
    return _dtypes.canonicalize_dtype(np.dtype(np.int64 if wide else np.int32))


def _normalize_index(e, n, dt, wrap_negative):
    """The index value of an advanced entry in dtype ``dt``, negative values wrapped."""
    v = e.value
    info = np.iinfo(dt)
    if e.kind == _INT:
        if wrap_negative and v < 0:
            v += n
        return int(min(max(v, info.min), info.max))  # still out of bounds, now representable
    if isinstance(v, np.ndarray):
        v = v.astype(np.int64)
        if wrap_negative:
            v = np.where(v < 0, v + n, v)
        return np.clip(v, info.min, info.max).astype(dt)
    if v.dtype != dt:
        v = lax.convert_element_type(v, dt)
    if wrap_negative:
        v = lax.select(lax.lt(v, 0), lax.add(v, n), v)
    return v


def _broadcast_index_shape(adv):
    """The broadcast shape of the advanced indices (NumPy rules; JAX raises ValueError)."""
    shapes = [tuple(np.shape(e.value)) for e in adv if e.kind != _INT]
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise ValueError(f"Incompatible shapes for broadcasting: the index arrays have shapes "
                         f"{shapes}, which do not broadcast together.") from None


def _adjacent(adv) -> bool:
    """True when the advanced indices sit next to each other in the index tuple (then their
    dimensions replace them in the result; otherwise they go first, as NumPy)."""
    positions = sorted({e.pos for e in adv})
    return not positions or positions == list(range(positions[0], positions[-1] + 1))


class _Plan:
    """The gather/scatter form of an index over an operand (entries consuming one operand
    dimension each): the index array, the dimension numbers and ``x[idx]``'s shape.

    Result dimensions, in NumPy's order: slices keep their place; the broadcast shape B of the
    advanced indices goes where they are when they are adjacent in the index, else first.
    Whole slices and step-1 slices (from a static start) are *window* dimensions; strided
    slices become an iota index over a batch dimension of their own. The index array's batch
    dimensions are the result's non-window dimensions, in the result's order, so neither the
    gather's output nor the scatter's updates need a transpose.
    """

    __slots__ = ("indices", "window_dims", "collapsed", "index_map", "slice_sizes",
                 "result_shape", "empty_axis", "_batch", "_block", "_comps", "_b_shape")

    def __init__(self, entries, shape, wrap_negative=True):
        adv = [e for e in entries if e.kind in _ADVANCED]
        self._b_shape = _broadcast_index_shape(adv)
        self.result_shape, self.window_dims, self._batch, self._block = [], [], [], None
        self._comps = []  # (value, batch dimensions it spans, operand dimension)
        self.collapsed, self.slice_sizes, self.empty_axis = [], list(shape), None
        if adv and not _adjacent(adv):
            self._place_block()
        for e in entries:
            if e.kind in _ADVANCED:
                self._add_advanced(e, shape[e.dim])
            else:
                self._add_slice(e)
        self._finish(adv, shape, wrap_negative, _index_dtype(entries, shape))

    def _place_block(self):
        self._block = tuple(range(len(self._batch), len(self._batch) + len(self._b_shape)))
        self._batch.extend(self._b_shape)
        self.result_shape.extend(self._b_shape)

    def _add_advanced(self, e, n):
        if self._block is None:
            self._place_block()
        self.collapsed.append(e.dim)
        self.slice_sizes[e.dim] = 1
        if n == 0 and self.empty_axis is None:
            self.empty_axis = e.dim

    def _add_slice(self, e):
        start, _, step, length = e.value
        if step == 1 or length <= 1:  # a window of contiguous elements from `start`
            self.window_dims.append(len(self.result_shape))
            self.slice_sizes[e.dim] = length
            if start != 0 and length > 0:
                self._comps.append((int(start), (), e.dim))
        else:  # strided: start, start + step, ... along a batch dimension of its own
            self._comps.append((np.arange(length, dtype=np.int64) * step + start,
                                (len(self._batch),), e.dim))
            self._batch.append(length)
            self.collapsed.append(e.dim)
            self.slice_sizes[e.dim] = 1
        self.result_shape.append(length)

    def _finish(self, adv, shape, wrap_negative, dt):
        block = self._block or ()
        comps = []
        for e in adv:  # an index of rank r spans the block's last r dimensions (broadcasting)
            v = _normalize_index(e, shape[e.dim], dt, wrap_negative)
            comps.append((v, block[len(block) - np.ndim(v):], e.dim))
        comps += self._comps
        self.indices = _index_array(comps, tuple(self._batch), dt)
        self.index_map = tuple(od for _, _, od in comps)
        self.window_dims = tuple(self.window_dims)
        self.collapsed = tuple(sorted(self.collapsed))
        self.slice_sizes = tuple(self.slice_sizes)
        self.result_shape = tuple(self.result_shape)


def _np_place(v, dims, batch_shape):
    """A NumPy index component laid out over ``batch_shape`` (its axes at ``dims``)."""
    shape = [1] * len(batch_shape)
    for i, d in enumerate(dims):
        shape[d] = np.shape(v)[i]
    return np.broadcast_to(np.reshape(v, shape), batch_shape)


def _lax_place(v, dims, batch_shape, dt):
    """An index component as a ``batch_shape + (1,)`` array, broadcast in the program."""
    target = batch_shape + (1,)
    if not isinstance(v, (Tracer, Array)) and np.size(v) == 1:
        return lax.broadcast_in_dim(literal(int(np.reshape(v, ())), dt, False), target, ())
    if isinstance(v, np.ndarray):
        v = v.astype(dt, copy=False)
    vshape = np.shape(v)
    keep = [i for i, d in enumerate(dims) if vshape[i] == batch_shape[d]]
    if len(keep) != len(vshape):  # size-1 axes that stretch are dropped, then broadcast
        new = tuple(vshape[i] for i in keep)
        v = np.reshape(v, new) if isinstance(v, np.ndarray) else lax.reshape(v, new)
    return lax.broadcast_in_dim(v, target, tuple(dims[i] for i in keep))


def _index_array(comps, batch_shape, dt):
    """Stack the index components along a new last axis (the index-vector dimension)."""
    static = all(not isinstance(v, (Tracer, Array)) for v, _, _ in comps)
    total = math.prod(batch_shape) * len(comps)
    if static and total <= _STATIC_INDEX_LIMIT:
        if not comps:
            return np.zeros(batch_shape + (0,), dt)
        return np.stack([_np_place(np.asarray(v, dt), d, batch_shape) for v, d, _ in comps],
                        axis=-1)
    if not comps:
        return np.zeros(batch_shape + (0,), dt)
    parts = [_lax_place(v, d, batch_shape, dt) for v, d, _ in comps]
    return parts[0] if len(parts) == 1 else lax.concatenate(parts, len(batch_shape))


def _zeros(shape, aval):
    return lax.broadcast_in_dim(literal(0, aval.dtype, aval.weak_type), shape, ())


def _gather_entries(x, entries, mode, fill_value, indices_are_sorted, unique_indices,
                    wrap_negative=True):
    """``x[idx]`` through one gather, for entries that consume one dimension each."""
    aval = aval_of(x)
    plan = _Plan(entries, aval.shape, wrap_negative)
    if plan.empty_axis is not None:
        if math.prod(plan.result_shape) == 0:
            return _zeros(plan.result_shape, aval)
        raise IndexError(f"index is out of bounds for axis {plan.empty_axis} with size 0")
    dn = GatherDimensionNumbers(offset_dims=plan.window_dims, collapsed_slice_dims=plan.collapsed,
                                start_index_map=plan.index_map)
    return lax.gather(x, plan.indices, dn, plan.slice_sizes, mode=mode, fill_value=fill_value,
                      indices_are_sorted=indices_are_sorted, unique_indices=unique_indices)


def _get(x, idx, *, mode=None, fill_value=None, indices_are_sorted=False,
         unique_indices=False):
    """``x[idx]`` with JAX's semantics; ``mode`` as for ``x.at[idx].get``."""
    if type(idx) is Slice or (type(idx) is tuple and Slice in map(type, idx)):
        x, idx = apply_slices(x, idx)  # jaxel.ds(start, size): dynamic starts
    aval = aval_of(x)
    entries = _parse(idx, aval.shape)
    gmode = GatherScatterMode.PROMISE_IN_BOUNDS if mode is None else \
        GatherScatterMode.from_any(mode)
    fill = gmode == GatherScatterMode.FILL_OR_DROP
    kinds = [e.kind for e in entries]
    n_bool = kinds.count(_BOOL)
    arrays = _ADV in kinds or n_bool > 1 or (n_bool and (_INT in kinds or _DYN in kinds))
    if not arrays and not (fill and (_INT in kinds or _DYN in kinds)):
        return _basic_get(x, entries)
    # Gather: strided slices are cheaper as a static slice first; new axes become operand axes.
    x, entries = _apply_static_slices(x, entries, ints_too=False)
    x, entries = _expand_new_axes(x, entries)
    return _gather_entries(x, entries, gmode, fill_value, indices_are_sorted, unique_indices)


def _getitem(arr, idx):
    """``arr[idx]``: NumPy basic and advanced indexing with JAX's semantics.

    Integers (negative count from the end), slices with any step, None, Ellipsis, integer
    arrays (broadcast together) and boolean masks (concrete values only). Out-of-bounds
    integer indices are clamped, as in JAX.

    Args:
      arr: a jaxel array or tracer.
      idx: the index.

    Returns:
      The indexed array.

    Example::

        >>> x = jnp.arange(12).reshape(3, 4)
        >>> x[1:, ::-2]
        Array([[ 7,  5],
               [11,  9]], dtype=int32)
        >>> x[jnp.array([0, 2]), 1]
        Array([1, 9], dtype=int32)
    """
    return _get(arr, idx)


# ---- updates ---------------------------------------------------------------------------------
_SCATTERS = {"set": lax.scatter, "add": lax.scatter_add, "mul": lax.scatter_mul,
             "min": lax.scatter_min, "max": lax.scatter_max}


def _prepare_updates(y, aval, shape, method):
    """``y`` in the operand's dtype, broadcast to the indexed shape."""
    if isinstance(y, (list, tuple)):
        from jaxel.numpy.creation import asarray
        y = asarray(y)
    if type(y) in (bool, int, float, complex):
        y = literal(y, aval.dtype, False)
    elif isinstance(y, (np.ndarray, np.generic)):
        y = np.asarray(y).astype(aval.dtype, copy=False)
    elif isinstance(y, (Array, Tracer)):
        if y.dtype != aval.dtype:
            y = lax.convert_element_type(y, aval.dtype)
    else:
        raise TypeError(f"x.at[...].{method}() needs an array-like value, got "
                        f"{type(y).__name__}: {y!r:.60}.")
    try:
        return broadcast_to_shape(y, shape)
    except ValueError:
        raise ValueError(f"x.at[idx].{method}(values): values of shape {aval_of(y).shape} do not "
                         f"broadcast to the shape {shape} of x[idx].") from None


def _scatter_update(x, idx, y, op, *, mode=None, indices_are_sorted=False,
                    unique_indices=False, method=None):
    """``x`` with ``x[idx]`` combined with ``y`` by scatter ``op`` (a key of _SCATTERS)."""
    aval = aval_of(x)
    entries = _parse(idx, aval.shape)
    x2, entries = _expand_new_axes(x, entries)
    shape2 = aval_of(x2).shape
    plan = _Plan(entries, shape2)
    y = _prepare_updates(y, aval, plan.result_shape, method or op)
    if math.prod(shape2) == 0:
        return x  # nothing to update
    dn = ScatterDimensionNumbers(update_window_dims=plan.window_dims,
                                 inserted_window_dims=plan.collapsed,
                                 scatter_dims_to_operand_dims=plan.index_map)
    out = _SCATTERS[op](x2, plan.indices, y, dn, indices_are_sorted=indices_are_sorted,
                        unique_indices=unique_indices, mode=mode)
    return lax.reshape(out, aval.shape) if shape2 != aval.shape else out


class _IndexUpdateHelper:
    """The object behind ``x.at``: ``x.at[idx]`` is an ``_IndexUpdateRef``.

    Example::

        >>> x = jnp.zeros(3)
        >>> x.at[1].set(5.0)
        Array([0., 5., 0.], dtype=float32)
    """

    __slots__ = ("array",)

    def __init__(self, array):
        self.array = array

    def __getitem__(self, index):
        return _IndexUpdateRef(self.array, index)

    def __repr__(self):
        return f"_IndexUpdateHelper({self.array!r})"


class _IndexUpdateRef:
    """``x.at[idx]``: functional updates of ``x`` at ``idx`` (each returns a new array).

    ``mode``: ``'clip'`` (clamp indices into bounds), ``'drop'``/``'fill'`` (updates: drop
    out-of-bounds ones, the default; ``get``: return ``fill_value``), or
    ``'promise_in_bounds'``. Negative indices count from the end in every mode.
    """

    __slots__ = ("array", "index")

    def __init__(self, array, index):
        self.array = array
        self.index = index

    def __repr__(self):
        return f"_IndexUpdateRef({self.array!r}, {self.index!r})"

    def get(self, *, indices_are_sorted=False, unique_indices=False, mode=None, fill_value=None,
            out_sharding=None):
        """``x[idx]``, with a choice of out-of-bounds ``mode`` and ``fill_value``.

        Example::

            >>> jnp.arange(3.0).at[5].get(mode="fill", fill_value=-1.0)
            Array(-1., dtype=float32)
        """
        return _get(self.array, self.index, mode=mode, fill_value=fill_value,
                    indices_are_sorted=indices_are_sorted, unique_indices=unique_indices)

    def _update(self, op, values, method, indices_are_sorted, unique_indices, mode):
        return _scatter_update(self.array, self.index, values, op, mode=mode,
                               indices_are_sorted=indices_are_sorted,
                               unique_indices=unique_indices, method=method)

    def set(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """``x`` with ``x[idx] = values`` (with repeated indices, one of the values wins).

        Example::

            >>> jnp.zeros(3).at[jnp.array([0, 2])].set(1.0)
            Array([1., 0., 1.], dtype=float32)
        """
        return self._update("set", values, "set", indices_are_sorted, unique_indices, mode)

    def add(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """``x`` with ``x[idx] += values``; repeated indices accumulate (as ``np.add.at``).

        Example::

            >>> jnp.zeros(3).at[jnp.array([1, 1])].add(1.0)
            Array([0., 2., 0.], dtype=float32)
        """
        return self._update("add", values, "add", indices_are_sorted, unique_indices, mode)

    def multiply(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """``x`` with ``x[idx] *= values``; repeated indices accumulate.

        Example::

            >>> jnp.ones(3).at[1].multiply(4.0)
            Array([1., 4., 1.], dtype=float32)
        """
        return self._update("mul", values, "multiply", indices_are_sorted, unique_indices, mode)

    mul = multiply

    def divide(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """``x`` with ``x[idx] /= values`` (true division: integer ``x`` gives floats, as JAX).

        Example::

            >>> jnp.ones(3).at[1].divide(4.0)
            Array([1.  , 0.25, 1.  ], dtype=float32)
        """
        from jaxel.numpy.ufuncs import true_divide
        return true_divide(self.array, self._scaled_ones(values, "divide", indices_are_sorted,
                                                         unique_indices, mode))

    def power(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """``x`` with ``x[idx] **= values``.

        Example::

            >>> jnp.full(3, 2.0).at[1].power(3.0)
            Array([2., 8., 2.], dtype=float32)
        """
        from jaxel.numpy.ufuncs import power
        return power(self.array, self._scaled_ones(values, "power", indices_are_sorted,
                                                   unique_indices, mode))

    def _scaled_ones(self, values, method, indices_are_sorted, unique_indices, mode):
        # divide/power: combine with a scatter-multiplied array of ones, so repeated indices
        # compose (x / (a*b)) and out-of-bounds updates leave x unchanged.
        aval = aval_of(self.array)
        ones = lax.broadcast_in_dim(literal(1, aval.dtype, aval.weak_type), aval.shape, ())
        return _scatter_update(ones, self.index, values, "mul", mode=mode,
                               indices_are_sorted=indices_are_sorted,
                               unique_indices=unique_indices, method=method)

    def apply(self, func, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """``x`` with ``x[idx] = func(x[idx])`` for an elementwise (unary) ``func``.

        Differs from JAX for repeated indices: JAX applies ``func`` once per occurrence of an
        index, jaxel once per distinct element (the README lists this difference).

        Example::

            >>> jnp.arange(3.0).at[1:].apply(jnp.negative)
            Array([ 0., -1., -2.], dtype=float32)
        """
        current = self.get(indices_are_sorted=indices_are_sorted,
                           unique_indices=unique_indices, mode=mode)
        return self._update("set", func(current), "apply", indices_are_sorted, unique_indices,
                            mode)

    def min(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """``x`` with ``x[idx] = minimum(x[idx], values)``; repeated indices accumulate.

        Example::

            >>> jnp.ones(3).at[1].min(-2.0)
            Array([ 1., -2.,  1.], dtype=float32)
        """
        return self._update("min", values, "min", indices_are_sorted, unique_indices, mode)

    def max(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """``x`` with ``x[idx] = maximum(x[idx], values)``; repeated indices accumulate.

        Example::

            >>> jnp.ones(3).at[1].max(5.0)
            Array([1., 5., 1.], dtype=float32)
        """
        return self._update("max", values, "max", indices_are_sorted, unique_indices, mode)


# ---- take, take_along_axis -------------------------------------------------------------------
def _as_operand(a, fun):
    if isinstance(a, (Array, Tracer)):
        return a
    if isinstance(a, (np.ndarray, np.generic)) or type(a) in (bool, int, float, complex):
        from jaxel.numpy.creation import asarray
        return asarray(a)
    raise TypeError(f"jaxel.numpy.{fun} requires array-like arguments, got {type(a).__name__}.")


def _int_indices(indices, fun):
    """Index operand of take/take_along_axis: an integer array (NumPy or traced)."""
    if isinstance(indices, (list, tuple)):
        indices = _sequence_to_array(indices, None)
    if isinstance(indices, (Tracer, Array)):
        dt = indices.dtype
    else:
        indices = np.asarray(indices)
        dt = indices.dtype
    if np.dtype(dt).kind not in "iu":
        raise TypeError(f"jaxel.numpy.{fun}: indices must have an integer dtype, got "
                        f"{np.dtype(dt).name}. Convert them with `.astype(int)`.")
    return indices


def _take_mode(mode, fun):
    if mode is None or mode == "fill":
        return GatherScatterMode.FILL_OR_DROP, True
    if mode == "clip":
        return GatherScatterMode.CLIP, False  # NumPy's clip: -1 means 0, not the last element
    if mode == "wrap":
        return GatherScatterMode.PROMISE_IN_BOUNDS, False
    if mode == "raise":
        raise NotImplementedError(f"The 'raise' mode of jnp.{fun} is not supported: traced "
                                  "code cannot raise on data. Use 'fill', 'clip' or 'wrap'.")
    return GatherScatterMode.from_any(mode), True


def _wrap_mod(indices, n):
    """``indices mod n`` (NumPy's 'wrap' mode), never negative."""
    if isinstance(indices, np.ndarray):
        return np.mod(indices, n) if n else indices
    from jaxel.numpy.ufuncs import remainder
    return remainder(indices, n) if n else indices


def _adv_entry(v, pos, dim):
    """The entry of an integer index operand of take/take_along_axis."""
    if isinstance(v, (Tracer, Array)):
        return _Entry(_ADV if v.ndim else _DYN, v, pos, dim)
    v = np.asarray(v)
    return _Entry(_ADV, v, pos, dim) if v.ndim else _Entry(_INT, int(v), pos, dim)


def take(a, indices, axis=None, out=None, mode=None, unique_indices=False,
         indices_are_sorted=False, fill_value=None):
    """Elements of ``a`` at ``indices`` along ``axis`` (the flattened array if None).

    Args:
      a: the array.
      indices: integer indices (any shape; it replaces the ``axis`` dimension).
      axis: the axis to index, or None to index ``a.ravel()``.
      out: unsupported (must be None).
      mode: ``'fill'`` (default: out-of-bounds give ``fill_value``, negative indices count from
        the end), ``'clip'`` (clamp into bounds, NumPy's), ``'wrap'`` (indices modulo the
        size), or ``'promise_in_bounds'``.
      unique_indices, indices_are_sorted: promises to XLA.
      fill_value: for ``'fill'``: NaN for inexact dtypes, the minimum signed / maximum unsigned
        integer, True for bool by default.

    Returns:
      An array of shape ``a.shape[:axis] + indices.shape + a.shape[axis + 1:]``.

    Example::

        >>> jnp.take(jnp.arange(5.0), jnp.array([1, 7, -1]))
        Array([ 1., nan,  4.], dtype=float32)
    """
    if out is not None:
        raise NotImplementedError("The 'out' argument to jnp.take is not supported (jaxel "
                                  "arrays are immutable).")
    a = _as_operand(a, "take")
    indices = _int_indices(indices, "take")
    gmode, wrap_negative = _take_mode(mode, "take")
    if axis is None:
        a = lax.reshape(a, (aval_of(a).size,))
        axis = 0
    shape = aval_of(a).shape
    if not shape:
        raise ValueError("jnp.take: cannot index a 0-d array along an axis.")
    axis = _canonical_axis(axis, len(shape), "take")
    if mode == "wrap":
        indices = _wrap_mod(indices, shape[axis])
    entries = [_entry_slice(slice(None), d, d, n) for d, n in enumerate(shape)]
    entries[axis] = _adv_entry(indices, axis, axis)
    return _gather_entries(a, entries, gmode, fill_value, indices_are_sorted, unique_indices,
                           wrap_negative)


def take_along_axis(arr, indices, axis=-1, mode=None, fill_value=None):
    """Pick ``arr`` elements along ``axis`` by ``indices`` of the same rank (as NumPy's).

    The other dimensions of ``arr`` and ``indices`` broadcast together.

    Args:
      arr: the array.
      indices: integer array with ``arr``'s number of dimensions.
      axis: the axis to take along (None: ``arr`` flattened, ``indices`` 1-D).
      mode: as for ``take`` (default ``'fill'``).
      fill_value: the out-of-bounds value in ``'fill'`` mode.

    Returns:
      An array of the broadcast shape of ``arr`` (with ``indices``' ``axis`` size) and
      ``indices``.

    Example::

        >>> x = jnp.array([[10, 30, 20], [60, 40, 50]])
        >>> jnp.take_along_axis(x, jnp.argsort(x, axis=1), axis=1)
        Array([[10, 20, 30],
               [40, 50, 60]], dtype=int32)
    """
    arr = _as_operand(arr, "take_along_axis")
    indices = _int_indices(indices, "take_along_axis")
    gmode, wrap_negative = _take_mode(mode, "take_along_axis")
    if axis is None:
        if np.ndim(indices) != 1:
            raise ValueError(f"jnp.take_along_axis with axis=None needs 1-D indices, got shape "
                             f"{np.shape(indices)}.")
        arr = lax.reshape(arr, (aval_of(arr).size,))
        axis = 0
    shape = aval_of(arr).shape
    ishape = tuple(np.shape(indices))
    if len(ishape) != len(shape):
        raise ValueError(f"jnp.take_along_axis: indices of shape {ishape} must have the same "
                         f"number of dimensions as the array of shape {shape}.")
    axis = _canonical_axis(axis, len(shape), "take_along_axis")
    if mode == "wrap":
        indices = _wrap_mod(indices, shape[axis])
    entries = []
    for d, n in enumerate(shape):
        if d == axis:
            entries.append(_adv_entry(indices, 0, d))
            continue
        if n != ishape[d] and 1 not in (n, ishape[d]):
            raise ValueError(f"jnp.take_along_axis: array shape {shape} and indices shape "
                             f"{ishape} do not broadcast in dimension {d}.")
        # Every other dimension is indexed by its own iota, laid out along dimension d.
        iota_shape = [1] * len(shape)
        iota_shape[d] = n
        iota = np.arange(n, dtype=np.int32).reshape(iota_shape) if n != 1 else \
            np.zeros([1] * len(shape), np.int32)
        entries.append(_Entry(_ADV, iota, 0, d))
    return _gather_entries(arr, entries, gmode, fill_value, False, False, wrap_negative)


def _canonical_axis(axis, ndim, fun):
    axis = operator.index(axis)
    if not -ndim <= axis < ndim:
        raise ValueError(f"jnp.{fun}: axis {axis} is out of bounds for an array of dimension "
                         f"{ndim}.")
    return axis % ndim


__all__ = ["_getitem", "_IndexUpdateHelper", "take", "take_along_axis"]
