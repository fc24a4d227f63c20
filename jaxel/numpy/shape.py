"""Shape manipulation, composed from lax: reshape, transpose, stack, concatenate, ..."""
from __future__ import annotations

import builtins

import numpy as np

from jaxel import dtypes as _dtypes
from jaxel import lax
from jaxel.numpy._util import aval_of, broadcast_shapes, broadcast_to_shape, canonicalize_axis, \
    promote_dtypes


def _asarray(x):
    from jaxel.numpy.creation import asarray
    return asarray(x)


def reshape(a, shape, order="C", *, copy=None):
    """``a`` with a new ``shape`` (one entry may be -1)."""
    if order != "C":
        raise NotImplementedError("jaxel.numpy.reshape supports only order='C'.")
    a = _asarray(a)
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(int(d) for d in shape)
    if shape.count(-1) > 1:
        raise ValueError(f"can only specify one unknown dimension in {shape}")
    if -1 in shape:
        known = int(np.prod([d for d in shape if d != -1]))
        if known == 0 or a.size % known:
            raise ValueError(f"cannot reshape array of shape {a.shape} into shape {shape}")
        shape = tuple(a.size // known if d == -1 else d for d in shape)
    return lax.reshape(a, shape)


def ravel(a, order="C"):
    """The flattened array."""
    return reshape(a, (-1,), order)


def transpose(a, axes=None):
    """Permute dimensions (reverse them when ``axes`` is None)."""
    a = _asarray(a)
    axes = tuple(range(a.ndim))[::-1] if axes is None else \
        tuple(canonicalize_axis(x, a.ndim) for x in axes)
    return lax.transpose(a, axes)


permute_dims = transpose


def matrix_transpose(x):
    """Swap the last two dimensions."""
    x = _asarray(x)
    if x.ndim < 2:
        raise ValueError(f"matrix_transpose needs at least 2 dimensions, got shape {x.shape}")
    perm = tuple(range(x.ndim - 2)) + (x.ndim - 1, x.ndim - 2)
    return lax.transpose(x, perm)


def swapaxes(a, axis1, axis2):
    """Exchange two axes."""
    a = _asarray(a)
    perm = list(range(a.ndim))
    i, j = canonicalize_axis(axis1, a.ndim), canonicalize_axis(axis2, a.ndim)
    perm[i], perm[j] = perm[j], perm[i]
    return lax.transpose(a, tuple(perm))


def moveaxis(a, source, destination):
    """Move axes to new positions."""
    a = _asarray(a)
    src = [canonicalize_axis(s, a.ndim) for s in np.atleast_1d(source)]
    dst = [canonicalize_axis(d, a.ndim) for d in np.atleast_1d(destination)]
    order = [i for i in range(a.ndim) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return lax.transpose(a, tuple(order))


def squeeze(a, axis=None):
    """Remove size-1 dimensions (all, or those in ``axis``)."""
    a = _asarray(a)
    if axis is None:
        axes = tuple(i for i, d in enumerate(a.shape) if d == 1)
    else:
        axes = tuple(canonicalize_axis(x, a.ndim) for x in np.atleast_1d(axis))
    return lax.squeeze(a, axes)


def expand_dims(a, axis):
    """Insert size-1 dimensions at ``axis``."""
    a = _asarray(a)
    axes = np.atleast_1d(axis).tolist()
    return lax.expand_dims(a, tuple(axes))


def concatenate(arrays, axis=0, dtype=None):
    """Join arrays along an existing axis (flattened first if ``axis`` is None)."""
    arrays = [_asarray(x) for x in arrays]
    if not arrays:
        raise ValueError("need at least one array to concatenate")
    if axis is None:
        arrays = [ravel(x) for x in arrays]
        axis = 0
    if dtype is not None:
        arrays = [x.astype(dtype) for x in arrays]
    arrays = list(promote_dtypes(*arrays)) if len(arrays) > 1 else arrays
    if arrays[0].ndim == 0:
        raise ValueError("zero-dimensional arrays cannot be concatenated")
    return lax.concatenate(arrays, canonicalize_axis(axis, arrays[0].ndim))


concat = concatenate


def stack(arrays, axis=0, dtype=None):
    """Join arrays along a new axis."""
    arrays = [_asarray(x) for x in arrays]
    if not arrays:
        raise ValueError("need at least one array to stack")
    shapes = {x.shape for x in arrays}
    if len(shapes) != 1:
        raise ValueError(f"all input arrays must have the same shape, got {sorted(shapes)}")
    axis = canonicalize_axis(axis, arrays[0].ndim + 1)
    return concatenate([expand_dims(x, axis) for x in arrays], axis, dtype)


def hstack(tup, dtype=None):
    """Stack along the second axis (first for 1-D)."""
    arrs = [atleast_1d(x) for x in tup]
    return concatenate(arrs, 0 if arrs[0].ndim == 1 else 1, dtype)


def vstack(tup, dtype=None):
    """Stack along the first axis (1-D arrays become rows)."""
    return concatenate([atleast_2d(x) for x in tup], 0, dtype)


def atleast_1d(*arys):
    """Arrays with at least one dimension."""
    out = [reshape(a, (1,)) if _asarray(a).ndim == 0 else _asarray(a) for a in arys]
    return out[0] if len(out) == 1 else out


def atleast_2d(*arys):
    """Arrays with at least two dimensions."""
    out = []
    for a in arys:
        a = _asarray(a)
        out.append(reshape(a, (1,) * (2 - a.ndim) + a.shape) if a.ndim < 2 else a)
    return out[0] if len(out) == 1 else out


def broadcast_to(array, shape):
    """``array`` broadcast to ``shape``."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return broadcast_to_shape(_asarray(array), shape)


def broadcast_arrays(*args):
    """Broadcast all arguments to their common shape."""
    args = [_asarray(a) for a in args]
    shape = broadcast_shapes(*[a.shape for a in args])
    return [broadcast_to_shape(a, shape) for a in args]


def flip(m, axis=None):
    """Reverse the order of elements along ``axis`` (all axes if None)."""
    m = _asarray(m)
    axes = range(m.ndim) if axis is None else np.atleast_1d(axis).tolist()
    return lax.rev(m, tuple(canonicalize_axis(x, m.ndim) for x in axes))


def astype(x, dtype, /, *, copy=False, device=None):
    """``x`` converted to ``dtype``."""
    x = _asarray(x)
    dt = _dtypes.check_and_canonicalize_user_dtype(dtype, "astype")
    return x if dt == x.dtype and not x.weak_type else lax.convert_element_type(x, dt)


def shape(a):
    """The shape of ``a``."""
    return tuple(aval_of(a).shape) if not isinstance(a, (list, tuple)) else np.shape(a)


def ndim(a):
    """The number of dimensions of ``a``."""
    return len(shape(a))


def size(a, axis=None):
    """The number of elements (along ``axis``)."""
    s = shape(a)
    return int(np.prod(s)) if axis is None else s[axis]


__all__ = ["reshape", "ravel", "transpose", "permute_dims", "matrix_transpose", "swapaxes",
           "moveaxis", "squeeze", "expand_dims", "concatenate", "concat", "stack", "hstack",
           "vstack", "atleast_1d", "atleast_2d", "broadcast_to", "broadcast_arrays", "flip",
           "astype", "shape", "ndim", "size"]
del builtins
