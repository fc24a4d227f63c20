"""Array manipulation: append / delete / insert / resize / rollaxis / block, choose,
compress / extract, functional updates (place, put, put_along_axis, which need
``inplace=False`` since arrays are immutable), partition / argpartition, lexsort, diagflat,
trim_zeros, packbits / unpackbits.

Sizes that depend on values (``delete`` with traced indices, ``compress`` without ``size``,
``trim_zeros``) need concrete input or a static ``size``; everything else traces under ``jit``.
"""
from __future__ import annotations

import builtins
import operator

import numpy as np

import jaxel.numpy as jnp
from jaxel import dtypes as _dtypes
from jaxel import lax
from jaxel.errors import ConcretizationTypeError
from jaxel.numpy._util import canonicalize_axis, check_arraylike
from jaxel.tracing.core import Tracer


def _idt():
    return _dtypes.default_int_dtype()


def _arr(name, x):
    check_arraylike(name, x)
    return jnp.asarray(x)


def _immutable(name, inplace):
    if inplace:
        raise ValueError(f"jaxel.numpy.{name} cannot modify arrays in place (jaxel arrays are "
                         "immutable); pass inplace=False to get an updated copy.")


# ---- append / delete / insert ------------------------------------------------------------------
def append(arr, values, axis=None):
    """``arr`` with ``values`` appended (both flattened when ``axis`` is None).

    Example::

        >>> jnp.append(jnp.array([1, 2]), jnp.array([3]))
        Array([1, 2, 3], dtype=int32)
    """
    check_arraylike("append", arr, values)
    arr, values = jnp.asarray(arr), jnp.asarray(values)
    if axis is None:
        return jnp.concatenate([jnp.ravel(arr), jnp.ravel(values)])
    return jnp.concatenate([arr, values], axis=axis)


def _static_indices(name, obj, n):
    """Concrete integer positions (a NumPy array) for a slice / int / concrete array."""
    if isinstance(obj, builtins.slice):
        return np.arange(n)[obj]
    if isinstance(obj, Tracer):
        return None
    o = np.asarray(obj)
    if not (np.issubdtype(o.dtype, np.integer) or o.dtype == np.bool_):
        raise TypeError(f"jaxel.numpy.{name}: index must be integer, got {o.dtype}.")
    if o.dtype == np.bool_:
        return np.nonzero(o)[0]
    return o


def delete(arr, obj, axis=None, *, assume_unique_indices=False):
    """``arr`` without the entries at ``obj`` (int, slice or index array) along ``axis``
    (of the flattened array when None).

    Traced indices need ``assume_unique_indices=True`` (then the result length is static).

    Example::

        >>> jnp.delete(jnp.arange(6), jnp.array([1, 3]))
        Array([0, 2, 4, 5], dtype=int32)
    """
    a = _arr("delete", arr)
    if axis is None:
        a, axis = jnp.ravel(a), 0
    axis = canonicalize_axis(axis, a.ndim)
    n = a.shape[axis]
    idx = _static_indices("delete", obj, n)
    if idx is None:
        if not assume_unique_indices:
            raise ConcretizationTypeError(
                "jaxel.numpy.delete: the indices are traced, so the result length is unknown. "
                "Pass assume_unique_indices=True (indices unique and in bounds) to delete "
                "traced indices.")
        o = jnp.ravel(obj)
        o = jnp.where(o < 0, o + n, o)
        keep = jnp.ones(n, np.bool_).at[o].set(False, mode="drop")
        rest = jnp.nonzero(keep, size=n - o.shape[0])[0]
        return jnp.take(a, rest, axis=axis)
    idx = idx.ravel()
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError(f"jaxel.numpy.delete: index out of bounds for axis {axis} with size "
                         f"{n}.")
    keep = np.ones(n, bool)
    keep[idx % n if n else idx] = False
    rest = np.nonzero(keep)[0]
    return jnp.take(a, jnp.asarray(rest.astype(np.int32)), axis=axis)


def insert(arr, obj, values, axis=None):
    """``arr`` with ``values`` inserted before the positions ``obj`` along ``axis``.

    ``obj`` may be an int (all of ``values`` go there), a slice or an index array (traced is
    fine: its length is static).

    Example::

        >>> jnp.insert(jnp.arange(4), 2, jnp.array([9, 8]))
        Array([0, 1, 9, 8, 2, 3], dtype=int32)
    """
    a = _arr("insert", arr)
    check_arraylike("insert", values)
    values = jnp.asarray(values).astype(a.dtype)
    if axis is None:
        a, axis = jnp.ravel(a), 0
    axis = canonicalize_axis(axis, a.ndim)
    n = a.shape[axis]
    if isinstance(obj, builtins.slice):
        obj = jnp.asarray(np.arange(n)[obj].astype(np.int32))
        scalar = False
    else:
        check_arraylike("insert", obj)
        obj = jnp.asarray(obj)
        if not _dtypes.issubdtype(obj.dtype, np.integer):
            raise TypeError(f"jaxel.numpy.insert: index must be integer, got {obj.dtype}.")
        scalar = obj.ndim == 0
    am = jnp.moveaxis(a, axis, 0)
    if values.ndim < a.ndim:
        values = values.reshape((1,) * (a.ndim - values.ndim) + values.shape)
    if scalar:
        # NumPy's rule: a scalar position inserts values[i] as the i-th new slice, i.e.
        # values is read with its *first* axis as the insertion axis.
        k = values.shape[0]
        pos = jnp.full((k,), obj.astype(_idt()))
        offs = jnp.arange(k, dtype=_idt())
    else:
        obj = jnp.ravel(obj).astype(_idt())
        k = obj.shape[0]
        values = jnp.moveaxis(values, axis, 0)
        pos = obj
        offs = None
    values = jnp.broadcast_to(values, (k,) + am.shape[1:])
    pos = jnp.where(pos < 0, pos + n, pos)
    pos = jnp.clip(pos, 0, n)
    if offs is None:
        order = jnp.argsort(pos, stable=True)
        new_pos = jnp.zeros((k,), _idt()).at[order].set(pos[order] + jnp.arange(k, dtype=_idt()))
    else:
        new_pos = pos + offs
    total = n + k
    is_new = jnp.zeros((total,), np.bool_).at[new_pos].set(True)
    old_pos = jnp.nonzero(~is_new, size=n)[0]
    out = jnp.zeros((total,) + am.shape[1:], a.dtype)
    out = out.at[old_pos].set(am).at[new_pos].set(values)
    return jnp.moveaxis(out, 0, axis)


def resize(a, new_shape):
    """An array of ``new_shape`` filled with ``a``'s flattened elements, repeated as needed.

    Example::

        >>> jnp.resize(jnp.array([1, 2, 3]), (2, 2))
        Array([[1, 2],
               [3, 1]], dtype=int32)
    """
    a = _arr("resize", a)
    if isinstance(new_shape, int):
        new_shape = (new_shape,)
    new_shape = tuple(operator.index(d) for d in new_shape)
    if any(d < 0 for d in new_shape):
        raise ValueError("All elements of `new_shape` must be non-negative")
    size = int(np.prod(new_shape))
    flat = jnp.ravel(a)
    if flat.shape[0] == 0 or size == 0:
        return jnp.zeros(new_shape, a.dtype)
    reps = -(-size // flat.shape[0])
    return jnp.tile(flat, reps)[:size].reshape(new_shape)


def rollaxis(a, axis, start=0):
    """Roll ``axis`` backwards until it lies before position ``start`` (prefer ``moveaxis``).

    Example::

        >>> jnp.rollaxis(jnp.zeros((2, 3, 4)), 2).shape
        (4, 2, 3)
    """
    a = _arr("rollaxis", a)
    n = a.ndim
    axis = canonicalize_axis(axis, n)
    if not -n <= start <= n:
        raise ValueError(f"start={start} must satisfy {-n} <= start <= {n}")
    if start < 0:
        start += n
    if axis < start:
        start -= 1
    if axis == start:
        return a
    return jnp.moveaxis(a, axis, start)


def block(arrays):
    """Assemble an array from nested lists of blocks (innermost lists join along the last
    axis, the next level along the second-to-last, ...).

    Example::

        >>> jnp.block([[jnp.ones((1, 2)), jnp.zeros((1, 1))], [jnp.zeros((1, 3))]])
        Array([[1., 1., 0.],
               [0., 0., 0.]], dtype=float32)
    """
    def depth_and_ndim(x, path):
        if isinstance(x, tuple):
            raise TypeError(f"jaxel.numpy.block: tuples are not allowed (at arrays{path}); use "
                            "lists.")
        if isinstance(x, list):
            if not x:
                raise ValueError(f"jaxel.numpy.block: empty list at arrays{path}.")
            res = [depth_and_ndim(e, path + f"[{i}]") for i, e in enumerate(x)]
            depths = {d for d, _ in res}
            if len(depths) != 1:
                raise ValueError("jaxel.numpy.block: list depths are mismatched (at "
                                 f"arrays{path}).")
            return depths.pop() + 1, builtins.max(nd for _, nd in res)
        check_arraylike("block", x)
        return 0, jnp.ndim(x)

    depth, max_nd = depth_and_ndim(arrays, "")
    ndim = builtins.max(depth, max_nd)

    def build(x, level):
        if not isinstance(x, list):
            x = jnp.asarray(x)
            return x.reshape((1,) * (ndim - x.ndim) + x.shape)
        parts = [build(e, level + 1) for e in x]
        return jnp.concatenate(parts, axis=-(depth - level))

    return build(arrays, 0)


# ---- choose / compress / extract ---------------------------------------------------------------
def choose(a, choices, out=None, mode="raise"):
    """Elementwise ``choices[a[i]][i]`` (all broadcast together).

    ``mode``: ``'raise'`` (``a`` must be concrete and in range), ``'wrap'`` or ``'clip'``.

    Example::

        >>> jnp.choose(jnp.array([0, 1, 0]), [jnp.array([1, 2, 3]), jnp.array([10, 20, 30])])
        Array([ 1, 20,  3], dtype=int32)
    """
    if out is not None:
        raise NotImplementedError("The 'out' argument to jnp.choose is not supported.")
    a = _arr("choose", a)
    if not _dtypes.issubdtype(a.dtype, np.integer):
        raise TypeError(f"jaxel.numpy.choose: a must be an integer array, got {a.dtype}.")
    choices = list(choices) if not hasattr(choices, "shape") else \
        [choices[i] for i in builtins.range(choices.shape[0])]
    check_arraylike("choose", *choices)
    n = len(choices)
    if mode == "raise":
        if isinstance(a, Tracer):
            raise ValueError("jaxel.numpy.choose: mode='raise' needs a concrete index array (it "
                             "checks bounds); under jit use mode='wrap' or mode='clip'.")
        if a.size and (bool(jnp.any(a < 0)) or bool(jnp.any(a >= n))):
            raise ValueError("invalid entry in choice array")
    elif mode == "wrap":
        a = a % n
    elif mode == "clip":
        a = jnp.clip(a, 0, n - 1)
    else:
        raise ValueError(f"jaxel.numpy.choose: invalid mode={mode!r}; expected 'raise', 'wrap' "
                         "or 'clip'.")
    arrs = jnp.broadcast_arrays(a, *[jnp.asarray(c) for c in choices])
    dt = _dtypes.result_type(*choices)
    stacked = jnp.stack([c.astype(dt) for c in arrs[1:]], axis=0)
    return jnp.take_along_axis(stacked, arrs[0][None].astype(_idt()), axis=0)[0]


def compress(condition, a, axis=None, *, size=None, fill_value=0, out=None):
    """The slices of ``a`` along ``axis`` (flattened when None) where the 1-D ``condition``
    holds. A ``size`` gives a static length (padded with ``fill_value``), needed under ``jit``.

    Example::

        >>> jnp.compress(jnp.array([True, False, True]), jnp.array([1, 2, 3]))
        Array([1, 3], dtype=int32)
    """
    if out is not None:
        raise NotImplementedError("The 'out' argument to jnp.compress is not supported.")
    check_arraylike("compress", condition, a)
    cond = jnp.asarray(condition)
    if cond.ndim != 1:
        raise ValueError(f"jaxel.numpy.compress: condition must be a 1D array, got shape "
                         f"{cond.shape}.")
    cond = cond.astype(np.bool_)
    arr = jnp.asarray(a)
    if axis is None:
        arr, axis = jnp.ravel(arr), 0
    axis = canonicalize_axis(axis, arr.ndim)
    arr = jnp.moveaxis(arr, axis, 0)
    n = arr.shape[0]
    extra = cond[n:]
    cond = cond[:n]
    arr = arr[:cond.shape[0]]
    if extra.shape[0] and not isinstance(extra, Tracer) and bool(jnp.any(extra)):
        raise ValueError("jaxel.numpy.compress: condition contains entries that are out of "
                         "bounds")
    if size is None:
        if isinstance(cond, Tracer):
            raise ConcretizationTypeError(
                f"jaxel.numpy.compress: the condition is traced ({cond.aval.str_short()}), so "
                "the result length is unknown. Pass size=<static int> (and optionally "
                "fill_value=...) to get a fixed-length result.")
        size = int(jnp.sum(cond)) if cond.shape[0] else 0
    pos = jnp.nonzero(cond, size=size, fill_value=-1)[0] if cond.shape[0] else \
        jnp.full((size,), -1, _idt())
    valid = (pos >= 0).reshape((size,) + (1,) * (arr.ndim - 1))
    got = arr[jnp.where(pos >= 0, pos, 0)] if arr.shape[0] else \
        jnp.zeros((size,) + arr.shape[1:], arr.dtype)
    res = jnp.where(valid, got, jnp.asarray(fill_value).astype(arr.dtype))
    return jnp.moveaxis(res, 0, axis)


def extract(condition, arr, *, size=None, fill_value=0):
    """Elements of ``arr`` where ``condition`` is non-zero (both flattened).

    Example::

        >>> x = jnp.arange(5)
        >>> jnp.extract(x > 2, x)
        Array([3, 4], dtype=int32)
    """
    check_arraylike("extract", condition, arr)
    return compress(jnp.ravel(jnp.asarray(condition)) != 0, jnp.ravel(jnp.asarray(arr)),
                    size=size, fill_value=fill_value)


# ---- functional updates ------------------------------------------------------------------------
def place(arr, mask, vals, *, inplace=True):
    """``arr`` with the positions where ``mask`` is true set to ``vals`` in order (cycled).

    Example::

        >>> x = jnp.arange(5)
        >>> jnp.place(x, x > 2, jnp.array([10, 20, 30]), inplace=False)
        Array([ 0,  1,  2, 10, 20], dtype=int32)
    """
    _immutable("place", inplace)
    check_arraylike("place", arr, mask, vals)
    a = jnp.asarray(arr)
    m = jnp.broadcast_to(jnp.asarray(mask).astype(np.bool_), a.shape)
    v = jnp.ravel(jnp.asarray(vals)).astype(a.dtype)
    if v.shape[0] == 0:
        return a
    rank = jnp.cumsum(jnp.ravel(m).astype(_idt())) - 1
    fill = v[jnp.clip(rank, 0) % v.shape[0]].reshape(a.shape)
    return jnp.where(m, fill, a)


def put(a, ind, v, mode=None, *, inplace=True):
    """``a`` with flat positions ``ind`` set to ``v`` (cycled); ``mode`` ``'wrap'`` or
    ``'clip'`` maps out-of-range indices, otherwise they are dropped.

    Example::

        >>> jnp.put(jnp.arange(4), jnp.array([0, 2]), jnp.array([9, 8]), inplace=False)
        Array([9, 1, 8, 3], dtype=int32)
    """
    _immutable("put", inplace)
    check_arraylike("put", a, ind, v)
    arr = jnp.asarray(a)
    flat = jnp.ravel(arr)
    i = jnp.ravel(jnp.asarray(ind))
    vals = jnp.ravel(jnp.asarray(v)).astype(arr.dtype)
    if i.shape[0] == 0 or vals.shape[0] == 0:
        return arr
    if vals.shape[0] < i.shape[0]:
        vals = jnp.tile(vals, -(-i.shape[0] // vals.shape[0]))
    vals = vals[:i.shape[0]]
    n = flat.shape[0]
    if mode == "wrap":
        i = i % n
    elif mode == "clip":
        i = jnp.clip(i, 0, n - 1)
    elif mode in (None, "fill", "drop", "raise"):
        i = jnp.where(i < 0, i + n, i)
    else:
        raise ValueError(f"jaxel.numpy.put: invalid mode={mode!r}.")
    return flat.at[i].set(vals, mode="drop").reshape(arr.shape)


def put_along_axis(arr, indices, values, axis, inplace=True, *, mode=None):
    """``arr`` with ``values`` written at ``indices`` along ``axis`` (the inverse of
    ``take_along_axis``).

    Example::

        >>> jnp.put_along_axis(jnp.zeros((2, 2)), jnp.array([[1], [0]]), 5.0, axis=1,
        ...                    inplace=False)
        Array([[0., 5.],
               [5., 0.]], dtype=float32)
    """
    _immutable("put_along_axis", inplace)
    check_arraylike("put_along_axis", arr, indices, values)
    a = jnp.asarray(arr)
    idx = jnp.asarray(indices)
    if axis is None:
        return put_along_axis(jnp.ravel(a), jnp.ravel(idx), jnp.ravel(jnp.asarray(values)), 0,
                              inplace=False, mode=mode).reshape(a.shape)
    axis = canonicalize_axis(axis, a.ndim)
    if idx.ndim != a.ndim:
        raise ValueError(f"jaxel.numpy.put_along_axis: indices must have the same number of "
                         f"dimensions as arr ({a.ndim}), got {idx.ndim}.")
    shape = tuple(idx.shape[d] if d == axis else builtins.max(idx.shape[d], 1)
                  for d in builtins.range(a.ndim))
    idx = jnp.broadcast_to(idx, shape)
    n = a.shape[axis]
    idx = jnp.where(idx < 0, idx + n, idx)
    full = tuple(idx if d == axis else lax.broadcasted_iota(_idt(), shape, d)
                 for d in builtins.range(a.ndim))
    vals = jnp.broadcast_to(jnp.asarray(values).astype(a.dtype), shape)
    return a.at[full].set(vals, mode="drop" if mode is None else mode)


# ---- ordering ----------------------------------------------------------------------------------
def partition(a, kth, axis=-1):
    """A copy of ``a`` with the ``kth`` element (along ``axis``) in its sorted place, smaller
    ones before and larger ones after (here: fully sorted, a valid partition).

    Example::

        >>> jnp.partition(jnp.array([3, 1, 2]), 1)[1]
        Array(2, dtype=int32)
    """
    a = _arr("partition", a)
    axis = canonicalize_axis(axis, a.ndim)
    kth = operator.index(kth)
    if not -a.shape[axis] <= kth < a.shape[axis]:
        raise ValueError(f"kth={kth} is out of bounds for axis of length {a.shape[axis]}.")
    return jnp.sort(a, axis=axis)


def argpartition(a, kth, axis=-1):
    """Indices that partition ``a`` around ``kth`` (see ``partition``).

    Example::

        >>> jnp.argpartition(jnp.array([3, 1, 2]), 1)[1]
        Array(2, dtype=int32)
    """
    a = _arr("argpartition", a)
    axis = canonicalize_axis(axis, a.ndim)
    kth = operator.index(kth)
    if not -a.shape[axis] <= kth < a.shape[axis]:
        raise ValueError(f"kth={kth} is out of bounds for axis of length {a.shape[axis]}.")
    return jnp.argsort(a, axis=axis)


def lexsort(keys, axis=-1):
    """Indices that sort by several keys: the *last* key is the primary one (stable).

    Example::

        >>> jnp.lexsort((jnp.array([1, 0, 1]), jnp.array([0, 0, 1])))
        Array([1, 0, 2], dtype=int32)
    """
    if hasattr(keys, "shape") and not isinstance(keys, (list, tuple)):
        keys = [keys[i] for i in builtins.range(keys.shape[0])]
    keys = list(keys)
    if not keys:
        raise TypeError("need sequence of keys with len > 0 in lexsort")
    check_arraylike("lexsort", *keys)
    ks = jnp.broadcast_arrays(*[jnp.asarray(k) for k in keys])
    if ks[0].ndim == 0:
        raise TypeError("jaxel.numpy.lexsort: keys must be at least 1-dimensional.")
    axis = canonicalize_axis(axis, ks[0].ndim)
    iota = lax.broadcasted_iota(_idt(), ks[0].shape, axis)
    return lax.sort(tuple(ks[::-1]) + (iota,), axis, num_keys=len(ks))[-1]


def diagflat(v, k=0):
    """A 2-D array with the flattened ``v`` on diagonal ``k``.

    Example::

        >>> jnp.diagflat(jnp.array([1, 2]))
        Array([[1, 0],
               [0, 2]], dtype=int32)
    """
    return jnp.diag(jnp.ravel(_arr("diagflat", v)), k)


def trim_zeros(filt, trim="fb", axis=None):
    """``filt`` without leading (``'f'``) and/or trailing (``'b'``) zeros along the given
    axes (all when None). The input must be concrete: the result length depends on it.

    Example::

        >>> jnp.trim_zeros(jnp.array([0, 0, 1, 0, 2, 0]))
        Array([1, 0, 2], dtype=int32)
    """
    a = _arr("trim_zeros", filt)
    if isinstance(a, Tracer):
        raise ConcretizationTypeError(
            f"jaxel.numpy.trim_zeros: the argument is traced ({a.aval.str_short()}), so the "
            "result shape depends on its values and cannot be computed under jit.")
    if a.ndim == 0:
        raise TypeError("jaxel.numpy.trim_zeros: the argument must be at least 1-D.")
    trim = trim.lower()
    if axis is None:
        axes = builtins.range(a.ndim)
    elif isinstance(axis, int):
        axes = [canonicalize_axis(axis, a.ndim)]
    else:
        axes = [canonicalize_axis(x, a.ndim) for x in axis]
    nz = a != 0
    out = a
    for ax in axes:
        others = tuple(d for d in builtins.range(a.ndim) if d != ax)
        m = jnp.any(nz, axis=others) if others else nz
        n = m.shape[0]
        if not bool(jnp.any(m)):
            start, stop = (n if "f" in trim else 0), n
            if "f" not in trim and "b" in trim:
                stop = 0
        else:
            start = int(jnp.argmax(m)) if "f" in trim else 0
            stop = n - int(jnp.argmax(m[::-1])) if "b" in trim else n
        out = lax.slice_in_dim(out, start, builtins.max(stop, start), axis=ax)
    return out


# ---- bits --------------------------------------------------------------------------------------
def packbits(a, axis=None, bitorder="big"):
    """Pack the truth of each element into the bits of uint8 (8 per byte, zero padded).

    Example::

        >>> jnp.packbits(jnp.array([1, 0, 1, 1, 0, 0, 0, 0, 1], dtype=jnp.uint8))
        Array([176, 128], dtype=uint8)
    """
    arr = _arr("packbits", a)
    if not (_dtypes.issubdtype(arr.dtype, np.integer) or arr.dtype == np.bool_):
        raise TypeError(f"jaxel.numpy.packbits: expected an integer or boolean array, got "
                        f"{arr.dtype}.")
    if bitorder not in ("big", "little"):
        raise ValueError("'order' must be either 'little' or 'big'")
    bits = (arr != 0).astype(np.uint8)
    if axis is None:
        bits, axis = jnp.ravel(bits), 0
    axis = canonicalize_axis(axis, bits.ndim)
    bits = jnp.moveaxis(bits, axis, -1)
    n = bits.shape[-1]
    pad = (-n) % 8
    if pad:
        bits = jnp.pad(bits, [(0, 0)] * (bits.ndim - 1) + [(0, pad)])
    bits = bits.reshape(bits.shape[:-1] + ((n + pad) // 8, 8))
    w = np.array([128, 64, 32, 16, 8, 4, 2, 1], np.uint8)
    if bitorder == "little":
        w = w[::-1].copy()
    packed = jnp.sum(bits * jnp.asarray(w), axis=-1, dtype=np.uint8)
    return jnp.moveaxis(packed, -1, axis)


def unpackbits(a, axis=None, count=None, bitorder="big"):
    """Unpack each uint8 into 8 bits (0/1 uint8), optionally keeping only ``count`` of them.

    Example::

        >>> jnp.unpackbits(jnp.array([5], dtype=jnp.uint8))
        Array([0, 0, 0, 0, 0, 1, 0, 1], dtype=uint8)
    """
    arr = _arr("unpackbits", a)
    if arr.dtype != np.uint8:
        raise TypeError(f"jaxel.numpy.unpackbits: expected an input array of unsigned byte "
                        f"data type, got {arr.dtype}.")
    if bitorder not in ("big", "little"):
        raise ValueError("'order' must be either 'little' or 'big'")
    shifts = np.arange(8, dtype=np.uint8)
    if bitorder == "big":
        shifts = shifts[::-1].copy()
    if axis is None:
        arr, axis = jnp.ravel(arr), 0
    axis = canonicalize_axis(axis, arr.ndim)
    x = jnp.moveaxis(arr, axis, -1)
    bits = (x[..., None] >> jnp.asarray(shifts)) & np.uint8(1)
    bits = bits.reshape(x.shape[:-1] + (x.shape[-1] * 8,))
    if count is not None:
        count = operator.index(count)
        m = bits.shape[-1]
        keep = count if count >= 0 else builtins.max(m + count, 0)
        if keep <= m:
            bits = bits[..., :keep]
        else:
            bits = jnp.pad(bits, [(0, 0)] * (bits.ndim - 1) + [(0, keep - m)])
    return jnp.moveaxis(bits, -1, axis)


__all__ = ["append", "delete", "insert", "resize", "rollaxis", "block", "choose", "compress",
           "extract", "place", "put", "put_along_axis", "partition", "argpartition", "lexsort",
           "diagflat", "trim_zeros", "packbits", "unpackbits"]
