"""Index helpers: ``s_`` / ``index_exp``, ``r_`` / ``c_``, ``mgrid`` / ``ogrid``, ``ix_``,
diagonal and triangle index sets, ``ravel_multi_index`` / ``unravel_index``,
``fill_diagonal`` and ``fromfunction``.

Index sets that depend only on static sizes (``tril_indices(n)``, ...) are computed once from
those sizes and returned as arrays, as JAX does; anything depending on array values is
computed on the device.
"""
from __future__ import annotations

import builtins
import functools
import math
import operator

import numpy as np

import jaxel.numpy as jnp
from jaxel import dtypes as _dtypes
from jaxel.numpy._util import check_arraylike
from jaxel.tracing.core import Tracer


def _idt():
    return _dtypes.default_int_dtype()


# ---- s_ / index_exp ----------------------------------------------------------------------------
class _IndexExpression:
    """``s_[...]`` returns its index as written; ``index_exp[...]`` always as a tuple."""

    def __init__(self, maketuple):
        self.maketuple = maketuple

    def __getitem__(self, item):
        if self.maketuple and not isinstance(item, tuple):
            return (item,)
        return item


index_exp = _IndexExpression(maketuple=True)
s_ = _IndexExpression(maketuple=False)


# ---- mgrid / ogrid -----------------------------------------------------------------------------
def _slice_values(s):
    if not isinstance(s, builtins.slice):
        raise ValueError(f"mgrid/ogrid: expected slices, got {s!r}.")
    start = 0 if s.start is None else s.start
    step = 1 if s.step is None else s.step
    stop = s.stop
    for v in (start, stop, step):
        if isinstance(v, Tracer):
            raise ValueError("mgrid/ogrid: slice bounds must be static (not traced) values.")
    if isinstance(step, complex):
        return jnp.linspace(start, stop, int(abs(step)))
    return jnp.arange(start, stop, step)


class _Grid:
    def __init__(self, sparse):
        self.sparse = sparse

    def __getitem__(self, key):
        if isinstance(key, builtins.slice):
            return _slice_values(key)
        arrays = [_slice_values(k) for k in key]
        if not arrays:
            return jnp.arange(0) if self.sparse else jnp.zeros((0,), _idt())
        dt = _dtypes.result_type(*arrays)
        arrays = [a.astype(dt) for a in arrays]
        grids = jnp.meshgrid(*arrays, indexing="ij", sparse=self.sparse)
        return list(grids) if self.sparse else jnp.stack(grids, 0)


mgrid = _Grid(sparse=False)
ogrid = _Grid(sparse=True)


# ---- r_ / c_ -----------------------------------------------------------------------------------
class _Concatenator:
    def __init__(self, axis, ndmin, trans1d):
        self.axis, self.ndmin, self.trans1d = axis, ndmin, trans1d

    def __getitem__(self, key):
        if not isinstance(key, tuple):
            key = (key,)
        axis, ndmin, trans1d = self.axis, self.ndmin, self.trans1d
        items = []
        for i, item in enumerate(key):
            if isinstance(item, str):
                if i != 0:
                    raise ValueError("r_/c_: a string directive must come first.")
                if item in ("r", "c"):
                    raise NotImplementedError("r_/c_: matrix directives 'r' and 'c' are not "
                                              "supported (there is no matrix type).")
                parts = item.split(",")
                try:
                    vals = [int(p) for p in parts]
                except ValueError:
                    raise ValueError(f"r_/c_: could not understand directive {item!r}.") \
                        from None
                axis = vals[0]
                if len(vals) > 1:
                    ndmin = vals[1]
                if len(vals) > 2:
                    trans1d = vals[2]
                continue
            if isinstance(item, builtins.slice):
                arr = _slice_values(item)
            else:
                check_arraylike("r_", item)
                arr = jnp.asarray(item)
            if arr.ndim < ndmin:
                # NumPy's rule: prepend unit axes, then move the original axes to ``trans1d``.
                orig = arr.ndim
                arr = arr.reshape((1,) * (ndmin - orig) + arr.shape)
                if trans1d != -1:
                    k2 = ndmin - orig
                    k1 = trans1d + k2 + 1 if trans1d < 0 else trans1d
                    ax = list(builtins.range(ndmin))
                    arr = jnp.transpose(arr, ax[:k1] + ax[k2:] + ax[k1:k2])
            items.append(arr)
        if not items:
            return jnp.zeros((0,))
        items = [jnp.atleast_1d(a) for a in items]
        return jnp.concatenate(items, axis=axis)


r_ = _Concatenator(0, 1, -1)
c_ = _Concatenator(-1, 2, 0)


# ---- ix_ ---------------------------------------------------------------------------------------
def ix_(*args):
    """Open mesh from 1-D sequences: ``a[ix_(rows, cols)]`` selects the cross product.

    Example::

        >>> r, c = jnp.ix_(jnp.array([0, 2]), jnp.array([1, 3]))
        >>> r.shape, c.shape
        ((2, 1), (1, 2))
    """
    check_arraylike("ix_", *args)
    n = len(args)
    out = []
    for i, a in enumerate(args):
        a = jnp.asarray(a)
        if a.ndim != 1:
            raise ValueError(f"Arguments to jax.numpy.ix_ must be 1-dimensional, got shape "
                             f"{a.shape}.")
        if a.dtype == np.bool_:
            raise NotImplementedError("Boolean arguments to jaxel.numpy.ix_ are not "
                                      "implemented (their length depends on the values).")
        shape = [1] * n
        shape[i] = a.shape[0]
        out.append(a.reshape(shape) if a.shape[0] else a.reshape(shape).astype(_idt()))
    return tuple(out)


# ---- diagonal / triangle index sets ------------------------------------------------------------
def _static(name, v, what):
    try:
        return operator.index(v)
    except TypeError:
        raise TypeError(f"jaxel.numpy.{name}: {what} must be a static integer, got "
                        f"{v!r:.60}.") from None


def diag_indices(n, ndim=2):
    """Indices of the main diagonal of an ``(n,) * ndim`` array.

    Example::

        >>> jnp.diag_indices(3)
        (Array([0, 1, 2], dtype=int32), Array([0, 1, 2], dtype=int32))
    """
    n, ndim = _static("diag_indices", n, "n"), _static("diag_indices", ndim, "ndim")
    if n < 0:
        raise ValueError(f"n argument to diag_indices must be nonnegative, got {n}")
    if ndim < 0:
        raise ValueError(f"ndim argument to diag_indices must be nonnegative, got {ndim}")
    return (jnp.arange(n, dtype=_idt()),) * ndim


def diag_indices_from(arr):
    """``diag_indices`` for ``arr`` (all of whose dimensions must be equal, ndim >= 2).

    Example::

        >>> jnp.diag_indices_from(jnp.zeros((2, 2)))
        (Array([0, 1], dtype=int32), Array([0, 1], dtype=int32))
    """
    check_arraylike("diag_indices_from", arr)
    shape = jnp.shape(arr)
    if len(shape) < 2:
        raise ValueError("input array must be at least 2-d")
    if len(set(shape)) != 1:
        raise ValueError(f"All dimensions of input must be of equal length, got {shape}.")
    return diag_indices(shape[0], len(shape))


def _tri_indices(name, fn, n, k, m):
    n = _static(name, n, "n")
    k = _static(name, k, "k")
    m = n if m is None else _static(name, m, "m")
    i, j = fn(n, k, m)
    return jnp.asarray(i.astype(np.int64)).astype(_idt()), \
        jnp.asarray(j.astype(np.int64)).astype(_idt())


def tril_indices(n, k=0, m=None):
    """Row and column indices of the lower triangle (on and below diagonal ``k``) of an
    ``(n, m)`` array.

    Example::

        >>> jnp.tril_indices(2)
        (Array([0, 1, 1], dtype=int32), Array([0, 0, 1], dtype=int32))
    """
    return _tri_indices("tril_indices", np.tril_indices, n, k, m)


def triu_indices(n, k=0, m=None):
    """Row and column indices of the upper triangle (on and above diagonal ``k``).

    Example::

        >>> jnp.triu_indices(2)
        (Array([0, 0, 1], dtype=int32), Array([0, 1, 1], dtype=int32))
    """
    return _tri_indices("triu_indices", np.triu_indices, n, k, m)


def _from(name, arr):
    check_arraylike(name, arr)
    shape = jnp.shape(arr)
    if len(shape) != 2:
        raise ValueError(f"jaxel.numpy.{name}: input array must be 2-d, got shape {shape}.")
    return shape


def tril_indices_from(arr, k=0):
    """``tril_indices`` for the 2-D ``arr``'s shape.

    Example::

        >>> jnp.tril_indices_from(jnp.zeros((2, 3)))
        (Array([0, 1, 1], dtype=int32), Array([0, 0, 1], dtype=int32))
    """
    n, m = _from("tril_indices_from", arr)
    return tril_indices(n, k, m)


def triu_indices_from(arr, k=0):
    """``triu_indices`` for the 2-D ``arr``'s shape.

    Example::

        >>> jnp.triu_indices_from(jnp.zeros((2, 3)))
        (Array([0, 0, 0, 1, 1], dtype=int32), Array([0, 1, 2, 1, 2], dtype=int32))
    """
    n, m = _from("triu_indices_from", arr)
    return triu_indices(n, k, m)


def mask_indices(n, mask_func, k=0, *, size=None):
    """Indices where ``mask_func(ones((n, n)), k)`` is non-zero (e.g. ``jnp.triu``).

    Example::

        >>> jnp.mask_indices(2, jnp.triu)
        (Array([0, 0, 1], dtype=int32), Array([0, 1, 1], dtype=int32))
    """
    n = _static("mask_indices", n, "n")
    return jnp.nonzero(mask_func(jnp.ones((n, n)), k), size=size)


# ---- ravel / unravel ---------------------------------------------------------------------------
def ravel_multi_index(multi_index, dims, mode="raise", order="C"):
    """Flat indices of the coordinate arrays ``multi_index`` into an array of shape ``dims``.

    ``mode``: ``'raise'`` (indices must be concrete and in bounds), ``'wrap'`` or
    ``'clip'``; ``order``: ``'C'`` or ``'F'``.

    Example::

        >>> jnp.ravel_multi_index((jnp.array([0, 1]), jnp.array([2, 0])), (2, 3))
        Array([2, 3], dtype=int32)
    """
    if len(multi_index) != len(dims):
        raise ValueError(f"jaxel.numpy.ravel_multi_index: {len(multi_index)} index arrays for "
                         f"{len(dims)} dimensions.")
    dims = tuple(_static("ravel_multi_index", d, "dims") for d in dims)
    check_arraylike("ravel_multi_index", *multi_index)
    idx = [jnp.asarray(i) for i in multi_index]
    for i in idx:
        if not _dtypes.issubdtype(i.dtype, np.integer):
            raise TypeError(f"jaxel.numpy.ravel_multi_index: only integer indices are "
                            f"permitted, got {i.dtype}.")
    if mode == "raise":
        if any(isinstance(i, Tracer) for i in idx):
            raise ValueError("jaxel.numpy.ravel_multi_index: mode='raise' needs concrete "
                             "indices (it checks bounds); under jit use mode='wrap' or "
                             "mode='clip'.")
        for i, d in zip(idx, dims):
            if i.size and (bool(jnp.any(i < 0)) or bool(jnp.any(i >= d))):
                raise ValueError("jaxel.numpy.ravel_multi_index: invalid entry in coordinates "
                                 "array (out of bounds; use mode='wrap' or 'clip').")
    elif mode == "wrap":
        idx = [i % d for i, d in zip(idx, dims)]
    elif mode == "clip":
        idx = [jnp.clip(i, 0, d - 1) for i, d in zip(idx, dims)]
    else:
        raise ValueError(f"jaxel.numpy.ravel_multi_index: invalid mode={mode!r}; expected "
                         "'raise', 'wrap' or 'clip'.")
    if order == "F":
        idx, dims = idx[::-1], dims[::-1]
    elif order != "C":
        raise ValueError(f"jaxel.numpy.ravel_multi_index: order must be 'C' or 'F', got "
                         f"{order!r}.")
    idx = jnp.broadcast_arrays(*idx)
    it = _idt()
    out = jnp.zeros(idx[0].shape if idx else (), it)
    stride = 1
    for i, d in zip(reversed(idx), reversed(dims)):
        out = out + i.astype(it) * stride
        stride *= d
    return out


def unravel_index(indices, shape):
    """Coordinate arrays of the flat ``indices`` in an array of ``shape``.

    Negative indices count from the end; out-of-range ones are clipped (as in JAX).

    Example::

        >>> jnp.unravel_index(jnp.array([5, -1]), (2, 3))
        (Array([1, 1], dtype=int32), Array([2, 2], dtype=int32))
    """
    check_arraylike("unravel_index", indices)
    i = jnp.asarray(indices)
    if not _dtypes.issubdtype(i.dtype, np.integer):
        raise TypeError(f"jaxel.numpy.unravel_index: only integer indices are permitted, got "
                        f"{i.dtype}.")
    try:
        shape = tuple(operator.index(d) for d in shape)
    except TypeError:
        shape = (operator.index(shape),)
    if any(d < 0 for d in shape):
        raise ValueError(f"jaxel.numpy.unravel_index: negative dimensions in {shape}.")
    total = math.prod(shape)
    it = i.dtype
    if total == 0:
        if i.size:
            raise ValueError("jaxel.numpy.unravel_index: cannot unravel into an empty shape.")
        return tuple(jnp.zeros(i.shape, it) for _ in shape)
    flat = jnp.where(i < 0, i + total, i) if not _dtypes.issubdtype(i.dtype, np.unsignedinteger) \
        else i
    flat = jnp.clip(flat, 0, total - 1)
    out = []
    for d in reversed(shape):
        out.append(flat % d)
        flat = flat // d
    return tuple(reversed(out))


# ---- fill_diagonal / fromfunction --------------------------------------------------------------
def fill_diagonal(a, val, wrap=False, *, inplace=True):
    """``a`` with its main diagonal set to ``val`` (cycled); requires ``inplace=False`` since
    arrays are immutable.

    Example::

        >>> jnp.fill_diagonal(jnp.zeros((2, 2)), 5.0, inplace=False)
        Array([[5., 0.],
               [0., 5.]], dtype=float32)
    """
    if inplace:
        raise NotImplementedError("jaxel arrays are immutable, must use inplace=False")
    check_arraylike("fill_diagonal", a, val)
    a = jnp.asarray(a)
    if a.ndim < 2:
        raise ValueError("array must be at least 2-d")
    if a.ndim > 2 and len(set(a.shape)) != 1:
        raise ValueError("All dimensions of input must be of equal length")
    if a.ndim == 2:
        step = a.shape[1] + 1
        end = None if wrap else a.shape[1] * a.shape[1]
    else:
        step = 1 + int(np.cumprod(a.shape[:-1]).sum())
        end = None
    flat_idx = np.arange(a.size)[:end:step]
    count = flat_idx.shape[0]
    v = jnp.ravel(jnp.asarray(val)).astype(a.dtype)
    if v.size == 0:
        return a
    reps = -(-count // v.size)
    v = jnp.tile(v, reps)[:count]
    return jnp.ravel(a).at[jnp.asarray(flat_idx.astype(np.int32))].set(v).reshape(a.shape)


def fromfunction(function, shape, *, dtype=float, **kwargs):
    """Build an array by calling ``function`` on the coordinates of each element; the
    function is vectorised with ``vmap``, so it sees scalar coordinates.

    Example::

        >>> jnp.fromfunction(lambda i, j: i + j, (2, 2), dtype=int)
        Array([[0, 1],
               [1, 2]], dtype=int32)
    """
    import jaxel
    shape = tuple(_static("fromfunction", d, "shape") for d in shape)
    dt = _dtypes.canonicalize_dtype(np.dtype(dtype))
    fn = functools.partial(function, **kwargs) if kwargs else function
    for i in builtins.range(len(shape)):
        in_axes = [None] * len(shape)
        in_axes[len(shape) - 1 - i] = 0
        fn = jaxel.vmap(fn, in_axes=tuple(in_axes))
    return fn(*(jnp.arange(d, dtype=dt) for d in shape))


__all__ = ["index_exp", "s_", "mgrid", "ogrid", "r_", "c_", "ix_", "diag_indices",
           "diag_indices_from", "tril_indices", "triu_indices", "tril_indices_from",
           "triu_indices_from", "mask_indices", "ravel_multi_index", "unravel_index",
           "fill_diagonal", "fromfunction"]
