"""Shape manipulation, composed from lax: reshape, transpose, stack, concatenate, split, tile,
repeat, roll, pad, ...

Shapes, axes, split points and repeat counts are static (Python values, or concrete arrays
read as such); the data is only ever touched by lax primitives.
"""
from __future__ import annotations

import builtins
import math
import operator

import numpy as np

from jaxel import dtypes as _dtypes
from jaxel import lax
from jaxel.errors import ConcretizationTypeError
from jaxel.numpy._util import aval_of, broadcast_shapes as _broadcast_shapes, \
    broadcast_to_shape, canonicalize_axis, index_scalar, is_eager, promote_dtypes
from jaxel.runtime.array import Array
from jaxel.tracing.core import Tracer, literal


def _asarray(x):
    from jaxel.numpy.creation import asarray
    return asarray(x)


def _static_ints(value, fun_name, arg_name):
    """A tuple of Python ints from an int or sequence (concrete arrays allowed)."""
    if isinstance(value, Tracer) or (isinstance(value, (list, tuple)) and
                                     any(isinstance(v, Tracer) for v in value)):
        raise ConcretizationTypeError(
            f"jaxel.numpy.{fun_name}: {arg_name} must be static (it determines the shape of "
            "the result), but a traced value was given. Pass Python ints, or mark the "
            "argument static in jit.")
    if isinstance(value, (Array, np.ndarray)):
        value = np.asarray(value).tolist()
    if not isinstance(value, (list, tuple)):
        value = (value,)
    try:
        return tuple(operator.index(v) for v in value)
    except TypeError:
        raise TypeError(f"jaxel.numpy.{fun_name}: {arg_name} must be integers, got "
                        f"{value!r}.") from None


# ---- reshape / transpose -----------------------------------------------------------------------
def reshape(a, shape, order="C", *, copy=None):
    """``a`` with a new ``shape`` (one entry may be -1: inferred from the size).

    Args:
      a: array-like.
      shape: int or sequence of ints.
      order: 'C' (row-major, default) or 'F' (column-major reading and writing).

    Returns:
      The reshaped array.

    Example::

        >>> jnp.reshape(jnp.arange(6), (2, -1)).shape
        (2, 3)
    """
    a = _asarray(a)
    shape = _static_ints(shape, "reshape", "shape")
    if shape.count(-1) > 1:
        raise TypeError(f"jaxel.numpy.reshape: can only specify one unknown dimension (-1), "
                        f"got {shape}.")
    if -1 in shape:
        known = math.prod(d for d in shape if d != -1)
        if known == 0 or a.size % known:
            raise TypeError(f"cannot reshape array of shape {a.shape} (size {a.size}) into "
                            f"shape {shape}: the product of the known sizes ({known}) does not "
                            f"divide {a.size}.")
        shape = tuple(a.size // known if d == -1 else d for d in shape)
    if math.prod(shape) != a.size or builtins.any(d < 0 for d in shape):
        raise TypeError(f"cannot reshape array of shape {a.shape} (size {a.size}) into shape "
                        f"{shape} (size {math.prod(shape)}).")
    if order == "F":
        # Column-major: reverse the axes on both sides of a row-major reshape.
        rev = lax.transpose(a, tuple(range(a.ndim))[::-1])
        out = lax.reshape(rev, shape[::-1])
        return lax.transpose(out, tuple(range(len(shape)))[::-1])
    if order not in ("C", "A"):
        raise ValueError(f"jaxel.numpy.reshape: order must be 'C', 'F' or 'A', got {order!r}.")
    if shape == a.shape:
        return a
    return lax.reshape(a, shape)


def ravel(a, order="C"):
    """The flattened array (``order`` 'C' or 'F').

    Example::

        >>> jnp.ravel(jnp.ones((2, 3))).shape
        (6,)
    """
    return reshape(a, (-1,), order)


def transpose(a, axes=None):
    """Permute dimensions (reverse them when ``axes`` is None).

    Example::

        >>> jnp.transpose(jnp.ones((2, 3, 4)), (1, 0, 2)).shape
        (3, 2, 4)
    """
    a = _asarray(a)
    axes = tuple(range(a.ndim))[::-1] if axes is None else \
        tuple(canonicalize_axis(x, a.ndim) for x in _static_ints(axes, "transpose", "axes"))
    return lax.transpose(a, axes)


def permute_dims(a, /, axes):
    """Array API name of ``transpose`` (``axes`` is required)."""
    return transpose(a, axes)


def matrix_transpose(x, /):
    """Swap the last two dimensions.

    Example::

        >>> jnp.matrix_transpose(jnp.ones((5, 2, 3))).shape
        (5, 3, 2)
    """
    x = _asarray(x)
    if x.ndim < 2:
        raise ValueError(f"matrix_transpose needs at least 2 dimensions, got shape {x.shape}")
    perm = tuple(range(x.ndim - 2)) + (x.ndim - 1, x.ndim - 2)
    return lax.transpose(x, perm)


def swapaxes(a, axis1, axis2):
    """Exchange two axes.

    Example::

        >>> jnp.swapaxes(jnp.ones((2, 3)), 0, 1).shape
        (3, 2)
    """
    a = _asarray(a)
    perm = list(range(a.ndim))
    i, j = canonicalize_axis(axis1, a.ndim), canonicalize_axis(axis2, a.ndim)
    perm[i], perm[j] = perm[j], perm[i]
    return lax.transpose(a, tuple(perm))


def moveaxis(a, source, destination):
    """Move axes ``source`` to positions ``destination`` (others keep their order).

    Example::

        >>> jnp.moveaxis(jnp.ones((2, 3, 4)), 0, -1).shape
        (3, 4, 2)
    """
    a = _asarray(a)
    src = [canonicalize_axis(s, a.ndim) for s in _static_ints(source, "moveaxis", "source")]
    dst = [canonicalize_axis(d, a.ndim) for d in
           _static_ints(destination, "moveaxis", "destination")]
    if len(src) != len(dst):
        raise ValueError(f"jaxel.numpy.moveaxis: source {source} and destination "
                         f"{destination} must have the same number of elements.")
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise ValueError(f"jaxel.numpy.moveaxis: repeated axis in source {source} or "
                         f"destination {destination}.")
    order = [i for i in range(a.ndim) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return lax.transpose(a, tuple(order))


def squeeze(a, axis=None):
    """Remove size-1 dimensions (all of them, or those in ``axis``).

    Example::

        >>> jnp.squeeze(jnp.ones((1, 3, 1))).shape
        (3,)
    """
    a = _asarray(a)
    if axis is None:
        axes = tuple(i for i, d in enumerate(a.shape) if d == 1)
    else:
        axes = tuple(canonicalize_axis(x, a.ndim) for x in _static_ints(axis, "squeeze", "axis"))
        bad = [x for x in axes if a.shape[x] != 1]
        if bad:
            raise ValueError(f"jaxel.numpy.squeeze: cannot squeeze axis {bad[0]} of an array of "
                             f"shape {a.shape}: its size is {a.shape[bad[0]]}, not 1.")
    return lax.squeeze(a, axes) if axes else a


def expand_dims(a, axis):
    """Insert size-1 dimensions at the positions ``axis`` of the result.

    Example::

        >>> jnp.expand_dims(jnp.ones((2, 3)), (0, -1)).shape
        (1, 2, 3, 1)
    """
    a = _asarray(a)
    raw = _static_ints(axis, "expand_dims", "axis")
    nd = a.ndim + len(raw)
    axes = [canonicalize_axis(x, nd) for x in raw]
    if len(set(axes)) != len(axes):
        raise ValueError(f"jaxel.numpy.expand_dims: repeated axis in {raw}.")
    shape = list(a.shape)
    for x in sorted(axes):
        shape.insert(x, 1)
    return lax.reshape(a, tuple(shape))


def unstack(x, /, *, axis=0):
    """The slices of ``x`` along ``axis``, as a tuple.

    Example::

        >>> [r.shape for r in jnp.unstack(jnp.ones((2, 3)))]
        [(3,), (3,)]
    """
    x = _asarray(x)
    if x.ndim == 0:
        raise ValueError("jaxel.numpy.unstack: a 0-d array cannot be unstacked.")
    axis = canonicalize_axis(axis, x.ndim)
    return tuple(lax.index_in_dim(x, i, axis, keepdims=False) for i in range(x.shape[axis]))


# ---- joining -----------------------------------------------------------------------------------
def _merge_leading(a, axis, fun_name):
    """``concatenate(a, axis)`` for an array ``a``: its rows joined along ``axis``."""
    if a.ndim < 2:
        raise ValueError(f"jaxel.numpy.{fun_name}: zero-dimensional arrays cannot be "
                         "concatenated (the input array has fewer than 2 dimensions).")
    axis = canonicalize_axis(axis, a.ndim - 1)
    moved = moveaxis(a, 0, axis)
    shape = moved.shape[:axis] + (moved.shape[axis] * moved.shape[axis + 1],) + \
        moved.shape[axis + 2:]
    return lax.reshape(moved, shape)


def concatenate(arrays, axis=0, dtype=None):
    """Join arrays along an existing axis (flattened first if ``axis`` is None).

    Args:
      arrays: a sequence of arrays (or one array, whose rows are joined).
      axis: the axis to join along, or None.
      dtype: optional dtype of the result (default: the promoted dtype).

    Example::

        >>> jnp.concatenate([jnp.ones(2), jnp.zeros(1)])
        Array([1., 1., 0.], dtype=float32)
    """
    if isinstance(arrays, (Array, Tracer)):
        if axis is None:
            return ravel(arrays if dtype is None else astype(arrays, dtype))
        out = _merge_leading(arrays, axis, "concatenate")
        return out if dtype is None else astype(out, dtype)
    arrays = [_asarray(x) for x in arrays]
    if not arrays:
        raise ValueError("jaxel.numpy.concatenate: need at least one array to concatenate.")
    if axis is None:
        arrays = [ravel(x) for x in arrays]
        axis = 0
    if dtype is not None:
        dt = _dtypes.check_and_canonicalize_user_dtype(dtype, "concatenate")
        arrays = [x if x.dtype == dt and not x.weak_type else
                  lax.convert_element_type(x, dt) for x in arrays]
    elif len(arrays) > 1:
        arrays = list(promote_dtypes(*arrays))
    if builtins.any(x.ndim == 0 for x in arrays):
        raise ValueError("Zero-dimensional arrays cannot be concatenated.")
    return lax.concatenate(arrays, canonicalize_axis(axis, arrays[0].ndim))


def concat(arrays, /, *, axis=0):
    """Array API name of ``concatenate``."""
    return concatenate(arrays, axis)


def stack(arrays, axis=0, out=None, dtype=None):
    """Join arrays of one shape along a new axis.

    Example::

        >>> jnp.stack([jnp.ones(2), jnp.zeros(2)], axis=1).shape
        (2, 2)
    """
    if out is not None:
        raise NotImplementedError("jaxel.numpy.stack: the 'out' argument is not supported "
                                  "(arrays are immutable).")
    if isinstance(arrays, (Array, Tracer)):
        if arrays.ndim == 0:
            raise ValueError("jaxel.numpy.stack: need a sequence of arrays, got a 0-d array.")
        out_ = moveaxis(arrays, 0, canonicalize_axis(axis, arrays.ndim))
        return out_ if dtype is None else astype(out_, dtype)
    arrays = [_asarray(x) for x in arrays]
    if not arrays:
        raise ValueError("jaxel.numpy.stack: need at least one array to stack.")
    shapes = [x.shape for x in arrays]
    if len(set(shapes)) != 1:
        raise ValueError(f"All input arrays must have the same shape; got "
                         f"{', '.join(map(str, shapes))}.")
    axis = canonicalize_axis(axis, arrays[0].ndim + 1)
    expanded = [lax.reshape(x, x.shape[:axis] + (1,) + x.shape[axis:]) for x in arrays]
    return concatenate(expanded, axis, dtype)


def hstack(tup, dtype=None):
    """Stack along the second axis (the first for 1-D inputs).

    Example::

        >>> jnp.hstack([jnp.ones(2), jnp.zeros(1)]).shape
        (3,)
    """
    arrs = _as_list(atleast_1d(*_seq(tup)))
    return concatenate(arrs, 0 if arrs[0].ndim == 1 else 1, dtype)


def vstack(tup, dtype=None):
    """Stack along the first axis (1-D arrays become rows).

    Example::

        >>> jnp.vstack([jnp.ones(2), jnp.zeros(2)]).shape
        (2, 2)
    """
    return concatenate(_as_list(atleast_2d(*_seq(tup))), 0, dtype)


def dstack(tup, dtype=None):
    """Stack along the third axis (inputs are made at least 3-D first).

    Example::

        >>> jnp.dstack([jnp.ones(2), jnp.zeros(2)]).shape
        (1, 2, 2)
    """
    return concatenate(_as_list(atleast_3d(*_seq(tup))), 2, dtype)


def column_stack(tup):
    """Stack 1-D arrays as columns (higher-dimensional arrays are joined on axis 1).

    Example::

        >>> jnp.column_stack([jnp.ones(2), jnp.zeros(2)]).shape
        (2, 2)
    """
    cols = []
    for x in _seq(tup):
        x = _asarray(x)
        cols.append(lax.reshape(x, (x.size, 1)) if x.ndim < 2 else x)
    return concatenate(cols, 1)


def _seq(tup):
    if isinstance(tup, (Array, Tracer)):
        return list(unstack(tup))
    seq = list(tup)
    if not seq:
        raise ValueError("need at least one array to concatenate")
    return seq


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def atleast_1d(*arys):
    """Arrays with at least one dimension (a tuple when several are given).

    Example::

        >>> jnp.atleast_1d(1.0).shape
        (1,)
    """
    return _atleast(arys, lambda s: (1,) if len(s) == 0 else s)


def atleast_2d(*arys):
    """Arrays with at least two dimensions (leading size-1 dimensions are added).

    Example::

        >>> jnp.atleast_2d(jnp.ones(3)).shape
        (1, 3)
    """
    return _atleast(arys, lambda s: (1,) * (2 - len(s)) + s if len(s) < 2 else s)


def atleast_3d(*arys):
    """Arrays with at least three dimensions: ``(n,)`` becomes ``(1, n, 1)`` and ``(m, n)``
    becomes ``(m, n, 1)``, as in NumPy.

    Example::

        >>> jnp.atleast_3d(jnp.ones(3)).shape
        (1, 3, 1)
    """
    def shape3(s):
        if len(s) == 0:
            return (1, 1, 1)
        if len(s) == 1:
            return (1,) + s + (1,)
        if len(s) == 2:
            return s + (1,)
        return s
    return _atleast(arys, shape3)


def _atleast(arys, new_shape):
    out = []
    for a in arys:
        a = _asarray(a)
        s = new_shape(a.shape)
        out.append(a if s == a.shape else lax.reshape(a, s))
    return out[0] if len(out) == 1 else tuple(out)  # a tuple, as NumPy 2 and JAX 0.12.1


# ---- splitting ---------------------------------------------------------------------------------
def _split_points(fun_name, n, indices_or_sections, even):
    if isinstance(indices_or_sections, (int, np.integer)) or (
            isinstance(indices_or_sections, (Array, np.ndarray)) and
            np.ndim(indices_or_sections) == 0):
        sections = operator.index(_static_ints(indices_or_sections, fun_name, "sections")[0])
        if sections <= 0:
            raise ValueError(f"jaxel.numpy.{fun_name}: the number of sections must be larger "
                             f"than 0, got {sections}.")
        if even and n % sections:
            raise ValueError(f"array split does not result in an equal division: an axis of "
                             f"size {n} cannot be split into {sections} equal sections.")
        size, extra = divmod(n, sections)
        sizes = [size + 1] * extra + [size] * (sections - extra)
        return list(np.cumsum([0] + sizes))
    points = _static_ints(indices_or_sections, fun_name, "indices_or_sections")
    # Python slice semantics, as NumPy: points past the end give empty pieces.
    return [0] + [builtins.min(builtins.max(p + n if p < 0 else p, 0), n) for p in points] + [n]


def _split(fun_name, ary, indices_or_sections, axis, even):
    ary = _asarray(ary)
    axis = canonicalize_axis(axis, ary.ndim)
    n = ary.shape[axis]
    bounds = _split_points(fun_name, n, indices_or_sections, even)
    out = []
    for start, stop in zip(bounds[:-1], bounds[1:]):
        stop = builtins.max(int(start), int(stop))
        out.append(lax.slice_in_dim(ary, int(start), stop, 1, axis))
    return out


def split(ary, indices_or_sections, axis=0):
    """Split into equal sections (an int) or at the given indices (a sequence).

    Example::

        >>> [p.shape for p in jnp.split(jnp.arange(6), [1, 4])]
        [(1,), (3,), (2,)]
    """
    return _split("split", ary, indices_or_sections, axis, even=True)


def array_split(ary, indices_or_sections, axis=0):
    """Like ``split``, but an int need not divide the axis (the first pieces are longer).

    Example::

        >>> [p.shape for p in jnp.array_split(jnp.arange(5), 3)]
        [(2,), (2,), (1,)]
    """
    return _split("array_split", ary, indices_or_sections, axis, even=False)


def hsplit(ary, indices_or_sections):
    """Split along axis 1 (axis 0 for 1-D arrays).

    Example::

        >>> [p.shape for p in jnp.hsplit(jnp.ones((2, 4)), 2)]
        [(2, 2), (2, 2)]
    """
    a = _asarray(ary)
    if a.ndim == 0:
        raise ValueError("jaxel.numpy.hsplit: a 0-d array cannot be split.")
    return split(a, indices_or_sections, axis=1 if a.ndim > 1 else 0)


def vsplit(ary, indices_or_sections):
    """Split along axis 0.

    Example::

        >>> [p.shape for p in jnp.vsplit(jnp.ones((4, 2)), 2)]
        [(2, 2), (2, 2)]
    """
    a = _asarray(ary)
    if a.ndim == 0:
        raise ValueError("jaxel.numpy.vsplit: a 0-d array cannot be split.")
    return split(a, indices_or_sections, axis=0)


def dsplit(ary, indices_or_sections):
    """Split along axis 2 (the array must be at least 3-D).

    Example::

        >>> [p.shape for p in jnp.dsplit(jnp.ones((1, 1, 4)), 2)]
        [(1, 1, 2), (1, 1, 2)]
    """
    a = _asarray(ary)
    if a.ndim < 3:
        raise ValueError(f"jaxel.numpy.dsplit only works on arrays of 3 or more dimensions, "
                         f"got shape {a.shape}.")
    return split(a, indices_or_sections, axis=2)


# ---- tiling and repeating ----------------------------------------------------------------------
def tile(A, reps):
    """``A`` repeated ``reps`` times along each axis.

    Example::

        >>> jnp.tile(jnp.array([1, 2]), 2)
        Array([1, 2, 1, 2], dtype=int32)
    """
    a = _asarray(A)
    reps = _static_ints(reps, "tile", "reps")
    if builtins.any(r < 0 for r in reps):
        raise ValueError(f"jaxel.numpy.tile: reps must be non-negative, got {reps}.")
    nd = builtins.max(len(reps), a.ndim)
    shape = (1,) * (nd - a.ndim) + a.shape
    reps = (1,) * (nd - len(reps)) + reps
    if builtins.all(r == 1 for r in reps):
        return reshape(a, shape)
    # Broadcast to (r0, s0, r1, s1, ...) then merge each (r, s) pair: row-major order makes
    # every copy of the block contiguous.
    inter = tuple(v for pair in zip(reps, shape) for v in pair)
    b = lax.broadcast_in_dim(reshape(a, shape), inter, tuple(range(1, 2 * nd, 2)))
    return lax.reshape(b, tuple(r * s for r, s in zip(reps, shape)))


def repeat(a, repeats, axis=None, *, total_repeat_length=None):
    """Repeat each element of ``a`` (along ``axis``; flattened if None) ``repeats`` times.

    Args:
      a: array-like.
      repeats: an int, or one count per element along ``axis``. Counts must be concrete
        unless ``total_repeat_length`` is given.
      axis: the axis to repeat along (None: the flattened array).
      total_repeat_length: the static length of the result; extra positions repeat the last
        element, surplus repeats are dropped (as in JAX).

    Returns:
      The repeated array.

    Example::

        >>> jnp.repeat(jnp.array([1, 2]), jnp.array([1, 3]))
        Array([1, 2, 2, 2], dtype=int32)
    """
    from jaxel.numpy._util import check_arraylike
    check_arraylike("repeat", a, repeats)
    a = _asarray(a)
    if axis is None:
        a = ravel(a)
        axis = 0
    axis = canonicalize_axis(axis, a.ndim)
    n = a.shape[axis]
    if total_repeat_length is not None:
        total_repeat_length = operator.index(total_repeat_length)
    scalar = np.ndim(repeats) == 0 if not hasattr(repeats, "aval") else repeats.ndim == 0
    traced = isinstance(repeats, Tracer)
    if scalar and not traced:
        r = operator.index(np.asarray(repeats).item())
        if r < 0:
            raise ValueError(f"jaxel.numpy.repeat: repeats must be non-negative, got {r}.")
        if total_repeat_length is None or total_repeat_length == n * r:
            return _repeat_uniform(a, r, axis)
        repeats = np.full((n,), r)
    if traced and total_repeat_length is None:
        raise ConcretizationTypeError(
            "jaxel.numpy.repeat: the repeat counts are traced, so the length of the result is "
            "unknown. Pass total_repeat_length=<static int>, or make repeats static.")
    if not traced:
        counts = np.asarray(repeats)
        if counts.ndim > 1 or counts.size not in (1, n):
            raise ValueError(f"jaxel.numpy.repeat: repeats of shape {counts.shape} does not "
                             f"match axis {axis} of size {n}.")
        if (counts < 0).any():
            raise ValueError("jaxel.numpy.repeat: repeats must be non-negative.")
        if counts.size == 1 or (counts.size and (counts == counts.flat[0]).all()):
            r = int(counts.flat[0])
            if total_repeat_length is None or total_repeat_length == n * r:
                return _repeat_uniform(a, r, axis)
        if total_repeat_length is None:
            total_repeat_length = int(counts.sum())  # the result's length: static metadata
        counts = np.broadcast_to(counts, (n,))
    elif repeats.ndim > 1 or repeats.shape not in ((), (1,), (n,)):
        raise ValueError(f"jaxel.numpy.repeat: repeats of shape {repeats.shape} does not "
                         f"match axis {axis} of size {n}.")
    else:
        repeats = broadcast_to_shape(repeats, (n,))
    return _repeat_counts(a, repeats if traced else counts, axis, total_repeat_length)


def _repeat_uniform(a, r, axis):
    """Each element ``r`` times: broadcast along a new axis after ``axis``, then merge."""
    shape = a.shape
    wide = shape[:axis + 1] + (r,) + shape[axis + 1:]
    dims = tuple(d if d <= axis else d + 1 for d in range(a.ndim))
    b = lax.broadcast_in_dim(a, wide, dims)
    return lax.reshape(b, shape[:axis] + (shape[axis] * r,) + shape[axis + 1:])


def _repeat_counts(a, counts, axis, total):
    """Per-element counts: the source index of each output position is the number of element
    boundaries at or before it (a scatter-add of boundary marks, then a cumulative sum)."""
    n = a.shape[axis]
    out_shape = a.shape[:axis] + (total,) + a.shape[axis + 1:]
    if total == 0:
        return lax.broadcast_in_dim(literal(0, a.dtype, a.weak_type), out_shape, ())
    if n == 0:
        raise ValueError(f"jaxel.numpy.repeat: cannot fill a result of length {total} from an "
                         "empty axis.")
    idt = np.dtype(np.int32)
    if n == 1:
        idx = lax.broadcast_in_dim(literal(0, idt, False), (total,), ())
    else:
        counts = lax.convert_element_type(_asarray(counts), idt) if isinstance(
            counts, (Array, Tracer)) else _asarray(np.asarray(counts, idt))
        starts = lax.slice(lax.cumsum(counts, 0), (0,), (n - 1,))  # where elements 1.. begin
        dn = lax.ScatterDimensionNumbers(update_window_dims=(), inserted_window_dims=(0,),
                                         scatter_dims_to_operand_dims=(0,))
        zeros = lax.broadcast_in_dim(literal(0, idt, False), (total,), ())
        ones = lax.broadcast_in_dim(literal(1, idt, False), (n - 1,), ())
        # Boundaries at or past ``total`` are dropped (the default FILL_OR_DROP mode).
        marks = lax.scatter_add(zeros, lax.reshape(starts, (n - 1, 1)), ones, dn,
                                indices_are_sorted=True)
        idx = lax.cumsum(marks, 0)
    dn = lax.GatherDimensionNumbers(
        offset_dims=tuple(d for d in range(a.ndim) if d != axis),
        collapsed_slice_dims=(axis,), start_index_map=(axis,))
    sizes = tuple(1 if d == axis else s for d, s in enumerate(a.shape))
    return lax.gather(a, lax.reshape(idx, (total, 1)), dn, sizes, indices_are_sorted=True,
                      mode="promise_in_bounds")


# ---- reversing and rotating --------------------------------------------------------------------
def flip(m, axis=None):
    """Reverse the order of elements along ``axis`` (all axes if None).

    Example::

        >>> jnp.flip(jnp.array([1, 2, 3]))
        Array([3, 2, 1], dtype=int32)
    """
    m = _asarray(m)
    axes = range(m.ndim) if axis is None else _static_ints(axis, "flip", "axis")
    axes = tuple(canonicalize_axis(x, m.ndim) for x in axes)
    return lax.rev(m, axes) if axes else m


def fliplr(m):
    """Reverse the second axis (left/right).

    Example::

        >>> jnp.fliplr(jnp.array([[1, 2]]))
        Array([[2, 1]], dtype=int32)
    """
    m = _asarray(m)
    if m.ndim < 2:
        raise ValueError(f"jaxel.numpy.fliplr: the input must be at least 2-D, got shape "
                         f"{m.shape}.")
    return flip(m, 1)


def flipud(m):
    """Reverse the first axis (up/down).

    Example::

        >>> jnp.flipud(jnp.array([1, 2]))
        Array([2, 1], dtype=int32)
    """
    m = _asarray(m)
    if m.ndim < 1:
        raise ValueError("jaxel.numpy.flipud: the input must be at least 1-D, got a 0-d array.")
    return flip(m, 0)


def roll(a, shift, axis=None):
    """Shift elements cyclically by ``shift`` along ``axis`` (the flattened array if None).

    ``shift`` may be a traced integer (then the roll is a dynamic slice of the doubled axis);
    ``shift`` and ``axis`` broadcast against each other, as in NumPy.

    Example::

        >>> jnp.roll(jnp.arange(5), 2)
        Array([3, 4, 0, 1, 2], dtype=int32)
    """
    a = _asarray(a)
    if axis is None:
        return reshape(roll(ravel(a), shift, 0), a.shape)
    axes = _static_ints(axis, "roll", "axis")
    if isinstance(shift, Tracer):
        if len(axes) != 1 or shift.ndim != 0:
            raise ValueError("jaxel.numpy.roll: a traced shift must be a scalar with one axis.")
        return _roll_dynamic(a, shift, canonicalize_axis(axes[0], a.ndim))
    shifts = _static_ints(shift, "roll", "shift")
    try:
        pairs = np.broadcast(np.asarray(shifts), np.asarray(axes))
    except ValueError:
        raise ValueError(f"jaxel.numpy.roll: shift {shift} and axis {axis} must broadcast "
                         "against each other.") from None
    total = {}
    for s, ax in pairs:
        ax = canonicalize_axis(int(ax), a.ndim)
        total[ax] = total.get(ax, 0) + int(s)
    for ax, s in total.items():
        a = _roll_static(a, s, ax)
    return a


def _roll_static(a, s, axis):
    n = a.shape[axis]
    if n == 0 or s % n == 0:
        return a
    s %= n
    if is_eager(a):  # the shift as an operand: one program for every shift (see is_eager)
        starts = [index_scalar(n - s, 2 * n) if d == axis else 0 for d in range(a.ndim)]
        return lax.dynamic_slice(lax.concatenate([a, a], axis), starts,
                                 a.shape[:axis] + (n,) + a.shape[axis + 1:],
                                 allow_negative_indices=False)
    return lax.concatenate([lax.slice_in_dim(a, n - s, n, 1, axis),
                            lax.slice_in_dim(a, 0, n - s, 1, axis)], axis)


def _roll_dynamic(a, shift, axis):
    n = a.shape[axis]
    if n == 0:
        return a
    idt = shift.dtype if _dtypes.is_integer(shift.dtype) else np.dtype(np.int32)
    s = lax.convert_element_type(shift, idt) if shift.dtype != idt else shift
    nn = literal(n, idt, False)
    s = lax.rem(lax.add(lax.rem(s, nn), nn), nn)  # in [0, n) for either sign
    doubled = lax.concatenate([a, a], axis)
    return lax.dynamic_slice_in_dim(doubled, lax.sub(nn, s), n, axis)


def rot90(m, k=1, axes=(0, 1)):
    """Rotate by 90 degrees ``k`` times in the plane of ``axes`` (from the first axis
    towards the second).

    Example::

        >>> jnp.rot90(jnp.array([[1, 2], [3, 4]]))
        Array([[2, 4],
               [1, 3]], dtype=int32)
    """
    m = _asarray(m)
    if m.ndim < 2:
        raise ValueError(f"jaxel.numpy.rot90 requires an array of at least 2 dimensions, got "
                         f"shape {m.shape}.")
    axes = _static_ints(axes, "rot90", "axes")
    if len(axes) != 2:
        raise ValueError(f"jaxel.numpy.rot90: axes must have length 2, got {axes}.")
    ax0, ax1 = (canonicalize_axis(x, m.ndim) for x in axes)
    if ax0 == ax1:
        raise ValueError(f"jaxel.numpy.rot90: axes must be different, got {axes}.")
    k = operator.index(k) % 4
    perm = list(range(m.ndim))
    perm[ax0], perm[ax1] = perm[ax1], perm[ax0]
    if k == 0:
        return m
    if k == 2:
        return flip(m, (ax0, ax1))
    if k == 1:
        return lax.transpose(flip(m, ax1), tuple(perm))
    return flip(lax.transpose(m, tuple(perm)), ax1)


# ---- broadcasting ------------------------------------------------------------------------------
def broadcast_to(array, shape):
    """``array`` broadcast to ``shape`` (NumPy's rules).

    Example::

        >>> jnp.broadcast_to(jnp.array([1, 2]), (3, 2)).shape
        (3, 2)
    """
    shape = _static_ints(shape, "broadcast_to", "shape")
    if builtins.any(d < 0 for d in shape):
        raise ValueError(f"jaxel.numpy.broadcast_to: negative dimensions in shape {shape}.")
    x = _asarray(array)
    if x.ndim > len(shape):
        raise ValueError(f"Cannot broadcast an array of shape {x.shape} to shape {shape} with "
                         "fewer dimensions.")
    return broadcast_to_shape(x, shape)


def broadcast_shapes(*shapes):
    """The shape that ``shapes`` broadcast to; ValueError naming them if incompatible.

    Example::

        >>> jnp.broadcast_shapes((2, 1), (3,))
        (2, 3)
    """
    shapes = [_static_ints(s, "broadcast_shapes", "shapes") for s in shapes]
    return _broadcast_shapes(*shapes)


def broadcast_arrays(*args):
    """All arguments broadcast to their common shape, as a tuple (as NumPy 2 and the Array API
    return; JAX returns a list).

    Example::

        >>> [x.shape for x in jnp.broadcast_arrays(jnp.ones(3), jnp.ones((2, 1)))]
        [(2, 3), (2, 3)]
    """
    args = [_asarray(a) for a in args]
    shape = _broadcast_shapes(*[a.shape for a in args])
    return tuple(broadcast_to_shape(a, shape) for a in args)


# ---- padding -----------------------------------------------------------------------------------
_PAD_KWARGS = {"constant": {"constant_values"}, "edge": set(), "wrap": set(),
               "reflect": {"reflect_type"}, "symmetric": {"reflect_type"},
               "linear_ramp": {"end_values"}, "maximum": {"stat_length"},
               "minimum": {"stat_length"}, "mean": {"stat_length"}, "median": {"stat_length"},
               "empty": set()}


def _pairs(value, nd, fun_name, what):
    """``value`` broadcast to one ``(before, after)`` pair per axis (NumPy's pad rules)."""
    arr = np.asarray(value)
    try:
        return np.broadcast_to(arr, (nd, 2)).tolist() if arr.ndim <= 2 else None
    except ValueError:
        pass
    raise ValueError(f"jaxel.numpy.{fun_name}: {what} of shape {arr.shape} cannot be "
                     f"broadcast to ({nd}, 2) (one (before, after) pair per axis).")


def pad(array, pad_width, mode="constant", **kwargs):
    """Pad an array (NumPy's ``pad``).

    Args:
      array: array-like.
      pad_width: ``n``, ``(before, after)`` or one pair per axis (static ints >= 0).
      mode: 'constant' (``constant_values``), 'edge', 'reflect' / 'symmetric'
        (``reflect_type``), 'wrap', 'linear_ramp' (``end_values``), 'maximum' / 'minimum' /
        'mean' / 'median' (``stat_length``) or 'empty' (zeros).

    Returns:
      The padded array (same dtype).

    Example::

        >>> jnp.pad(jnp.array([1, 2, 3]), (1, 2), mode="edge")
        Array([1, 1, 2, 3, 3, 3], dtype=int32)
    """
    x = _asarray(array)
    nd = x.ndim
    if callable(mode):
        raise NotImplementedError("jaxel.numpy.pad: callable modes are not supported.")
    if mode not in _PAD_KWARGS:
        raise NotImplementedError(f"jaxel.numpy.pad: unimplemented padding mode {mode!r}; "
                                  f"supported modes are {sorted(_PAD_KWARGS)}.")
    extra = set(kwargs) - _PAD_KWARGS[mode]
    if extra:
        raise ValueError(f"jaxel.numpy.pad: unsupported keyword arguments for mode "
                         f"{mode!r}: {sorted(extra)}.")
    if isinstance(pad_width, Tracer):
        _static_ints(pad_width, "pad", "pad_width")  # raises the concretization error
    pw = np.asarray(pad_width.tolist() if isinstance(pad_width, Array) else pad_width)
    if pw.dtype.kind not in "iub":
        raise TypeError(f"jaxel.numpy.pad: pad_width must be integers, got {pad_width!r}.")
    widths = [(int(b), int(a)) for b, a in _pairs(pw, nd, "pad", "pad_width")]
    if builtins.any(b < 0 or a < 0 for b, a in widths):
        raise ValueError(f"jaxel.numpy.pad: pad widths must be non-negative, got {widths}.")
    if mode in ("constant", "empty"):
        return _pad_constant(x, widths, kwargs.get("constant_values", 0))
    for axis, (before, after) in enumerate(widths):
        if before == 0 and after == 0:
            continue
        if x.shape[axis] == 0:
            raise ValueError(f"jaxel.numpy.pad: cannot extend the empty axis {axis} with mode "
                             f"{mode!r} (only 'constant' and 'empty' can).")
        x = _pad_axis(x, axis, before, after, mode, kwargs)
    return x


def _pad_constant(x, widths, values):
    if isinstance(values, (Array, Tracer)) and values.ndim == 0:
        v = lax.convert_element_type(values, x.dtype)
        return lax.pad(x, v, [(b, a, 0) for b, a in widths])
    if isinstance(values, (Array, Tracer)):
        values = np.asarray(values)
    arr = np.asarray(values)
    if arr.ndim == 0:
        return lax.pad(x, literal(arr.item(), x.dtype, x.weak_type),
                       [(b, a, 0) for b, a in widths])
    # Different values per axis or side: pad one axis at a time (later axes fill corners,
    # as in NumPy).
    vals = _pairs(arr, x.ndim, "pad", "constant_values")
    for axis, ((b, a), (vb, va)) in enumerate(zip(widths, vals)):
        for width, v, lo in ((b, vb, True), (a, va, False)):
            if width:
                cfg = [(0, 0, 0)] * x.ndim
                cfg[axis] = (width, 0, 0) if lo else (0, width, 0)
                x = lax.pad(x, literal(v, x.dtype, x.weak_type), cfg)
    return x


def _pad_axis(x, axis, before, after, mode, kwargs):
    n = x.shape[axis]
    if mode == "edge" or (mode == "reflect" and n == 1):
        return _join(x, axis, _edge(x, axis, 0, before), _edge(x, axis, n - 1, after))
    if mode in ("reflect", "symmetric", "wrap"):
        reflect_type = kwargs.get("reflect_type", "even")
        if reflect_type not in ("even", "odd"):
            raise ValueError(f"jaxel.numpy.pad: reflect_type must be 'even' or 'odd', got "
                             f"{reflect_type!r}.")
        even = _pad_periodic(x, axis, before, after, mode)
        if reflect_type == "even" or mode == "wrap":
            return even
        return _odd_reflection(x, even, axis, before, after, mode)
    if mode == "linear_ramp":
        return _pad_linear_ramp(x, axis, before, after, kwargs.get("end_values", 0))
    return _pad_stat(x, axis, before, after, mode, kwargs.get("stat_length"))


def _join(x, axis, lo, hi):
    parts = [p for p in (lo, x, hi) if p is not None]
    return lax.concatenate(parts, axis) if len(parts) > 1 else x


def _edge(x, axis, index, width):
    """Element ``index`` along ``axis`` repeated ``width`` times (None if width is 0)."""
    if width == 0:
        return None
    piece = lax.slice_in_dim(x, index, index + 1, 1, axis)
    return _repeat_uniform(piece, width, axis)


def _pad_periodic(x, axis, before, after, mode):
    """Reflect / symmetric / wrap as the periodic extension of one block: the result along
    ``axis`` is ``block[i mod period]`` for ``i`` from ``-before`` to ``n + after``."""
    n = x.shape[axis]
    if mode == "wrap":
        block = x
    elif mode == "symmetric":
        block = lax.concatenate([x, lax.rev(x, (axis,))], axis)
    elif n <= 2:  # reflect of one or two elements: the block is the axis itself
        block = x
    else:  # reflect: the edges are not repeated
        inner = lax.slice_in_dim(lax.rev(x, (axis,)), 1, n - 1, 1, axis)
        block = lax.concatenate([x, inner], axis)
    period = block.shape[axis]
    start = (-before) % period
    total = before + n + after
    copies = -(-(start + total) // period)
    tiled = lax.concatenate([block] * copies, axis) if copies > 1 else block
    return lax.slice_in_dim(tiled, start, start + total, 1, axis)


def _odd_reflection(x, even, axis, before, after, mode):
    """NumPy's reflect_type='odd' (``2 * edge - mirror``) for pads within one reflection."""
    n = x.shape[axis]
    limit = n - 1 if mode == "reflect" else n
    if before > limit or after > limit:
        raise NotImplementedError(f"jaxel.numpy.pad: reflect_type='odd' supports pad widths up "
                                  f"to {limit} on an axis of size {n}.")
    total = before + n + after
    lo = lax.slice_in_dim(even, 0, before, 1, axis)
    hi = lax.slice_in_dim(even, before + n, total, 1, axis)
    two = literal(2, x.dtype, x.weak_type)
    parts = []
    if before:
        first = _repeat_uniform(lax.slice_in_dim(x, 0, 1, 1, axis), before, axis)
        parts.append(lax.sub(lax.mul(two, first), lo))
    parts.append(x)
    if after:
        last = _repeat_uniform(lax.slice_in_dim(x, n - 1, n, 1, axis), after, axis)
        parts.append(lax.sub(lax.mul(two, last), hi))
    return lax.concatenate(parts, axis) if len(parts) > 1 else x


def _pad_linear_ramp(x, axis, before, after, end_values):
    from jaxel.numpy.creation import linspace
    n = x.shape[axis]
    ends = _pairs(np.asarray(end_values), x.ndim, "pad", "end_values")[axis]
    parts = []
    for width, edge_index, end, lo in ((before, 0, ends[0], True),
                                       (after, n - 1, ends[1], False)):
        if width == 0:
            parts.append(None)
            continue
        edge = lax.index_in_dim(x, edge_index, axis, keepdims=False)
        ramp = linspace(end, edge, width, endpoint=False, dtype=x.dtype, axis=axis)
        if x.weak_type:
            ramp = lax.convert_element_type_p.bind(ramp, new_dtype=x.dtype, weak_type=True,
                                                   sharding=None)
        parts.append(ramp if lo else lax.rev(ramp, (axis,)))
    return _join(x, axis, parts[0], parts[1])


def _pad_stat(x, axis, before, after, mode, stat_length):
    n = x.shape[axis]
    lengths = (n, n) if stat_length is None else tuple(
        _pairs(np.asarray(stat_length), x.ndim, "pad", "stat_length")[axis])
    parts = []
    for width, length, lo in ((before, lengths[0], True), (after, lengths[1], False)):
        if width == 0:
            parts.append(None)
            continue
        length = builtins.min(int(length), n)
        if length <= 0:
            raise ValueError(f"jaxel.numpy.pad: stat_length of {length} gives no value to pad "
                             f"axis {axis} with mode {mode!r}.")
        window = lax.slice_in_dim(x, 0, length, 1, axis) if lo else \
            lax.slice_in_dim(x, n - length, n, 1, axis)
        stat = lax.expand_dims(_stat(window, axis, mode), (axis,))
        parts.append(_repeat_uniform(stat, width, axis))
    return _join(x, axis, parts[0], parts[1])


def _stat(window, axis, mode):
    """The statistic ``mode`` of ``window`` along ``axis`` in its dtype (integer means and
    medians round half to even, as NumPy)."""
    if mode == "maximum":
        return lax.reduce_max(window, (axis,))
    if mode == "minimum":
        return lax.reduce_min(window, (axis,))
    dt = window.dtype
    work = dt if _dtypes.is_inexact(dt) else _dtypes.default_float_dtype()
    w = window if dt == work else lax.convert_element_type(window, work)
    length = window.shape[axis]
    if mode == "mean":
        value = lax.div(lax.reduce_sum(w, (axis,)), literal(length, work, False))
    else:  # median of the sorted window
        s = lax.sort(w, dimension=axis)
        hi = lax.index_in_dim(s, length // 2, axis, keepdims=False)
        if length % 2:
            value = hi
        else:
            lo_ = lax.index_in_dim(s, length // 2 - 1, axis, keepdims=False)
            value = lax.div(lax.add(lo_, hi), literal(2, work, False))
    if dt == work:
        return value
    if not _dtypes.is_bool(dt):
        value = lax.round(value, 1)
    return lax.convert_element_type(value, dt)


# ---- metadata and conversion -------------------------------------------------------------------
def astype(x, dtype, /, *, copy=False, device=None):
    """``x`` converted to ``dtype`` (the result is never weakly typed; ``copy=True`` gives a
    new buffer even when the dtype is unchanged). Complex to bool is ``x != 0``, as in JAX.

    Example::

        >>> jnp.astype(jnp.array([1.7, -1.7]), jnp.int32)
        Array([ 1, -1], dtype=int32)
    """
    x = _asarray(x)
    dt = _dtypes.check_and_canonicalize_user_dtype(dtype, "astype")
    if dt == x.dtype and not x.weak_type:
        return x.copy() if copy and type(x) is Array else x
    if dt == np.bool_ and _dtypes.is_complex(x.dtype):
        # truth of a complex value is x != 0: lax's conversion would drop the imaginary part
        return lax.ne(x, lax.full_like(x, 0))
    return lax.convert_element_type(x, dt)


def shape(a):
    """The shape of ``a`` (a tuple).

    Example::

        >>> jnp.shape(jnp.ones((2, 3)))
        (2, 3)
    """
    return tuple(aval_of(a).shape) if not isinstance(a, (list, tuple)) else np.shape(a)


def ndim(a):
    """The number of dimensions of ``a``.

    Example::

        >>> jnp.ndim(1.0)
        0
    """
    return len(shape(a))


def size(a, axis=None):
    """The number of elements of ``a`` (along ``axis`` if given).

    Example::

        >>> jnp.size(jnp.ones((2, 3)), 1)
        3
    """
    s = shape(a)
    return math.prod(s) if axis is None else s[canonicalize_axis(axis, len(s))]


__all__ = ["reshape", "ravel", "transpose", "permute_dims", "matrix_transpose", "swapaxes",
           "moveaxis", "squeeze", "expand_dims", "unstack", "concatenate", "concat", "stack",
           "hstack", "vstack", "dstack", "column_stack", "atleast_1d", "atleast_2d",
           "atleast_3d", "split", "array_split", "hsplit", "vsplit", "dsplit", "tile", "repeat",
           "flip", "fliplr", "flipud", "roll", "rot90", "broadcast_to", "broadcast_shapes",
           "broadcast_arrays", "pad", "astype", "shape", "ndim", "size"]
