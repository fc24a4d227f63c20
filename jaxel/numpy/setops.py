"""Set operations: unique (and the array-API unique_* forms), isin, intersect1d, union1d,
setdiff1d, setxor1d.

Results whose length depends on the data take a static ``size`` (and ``fill_value``) so they
work under ``jit``; without ``size`` the input must be concrete, and a traced input raises
``ConcretizationTypeError`` naming ``size``. The work is a sort plus masks: entries are never
removed, only marked, and one compaction (``nonzero(mask, size=...)`` then a gather) builds the
result.
"""
from __future__ import annotations

import builtins
import operator
from typing import NamedTuple

import numpy as np

import jaxel.numpy as jnp
from jaxel import dtypes as _dtypes
from jaxel import lax
from jaxel.errors import ConcretizationTypeError
from jaxel.numpy._util import canonicalize_axis, check_arraylike
from jaxel.tracing.core import Tracer


def _idt():
    return _dtypes.default_int_dtype()


def _static_size(name, arr, size):
    if size is None:
        if isinstance(arr, Tracer):
            raise ConcretizationTypeError(
                f"jaxel.numpy.{name}: the argument is traced ({arr.aval.str_short()}), so the "
                "number of distinct elements is unknown and the result shape cannot be "
                "computed. Pass size=<static int> (and optionally fill_value=...) to get a "
                "fixed-length result.")
        return None
    try:
        size = operator.index(size)
    except TypeError:
        raise TypeError(f"jaxel.numpy.{name}: size must be a static integer, got "
                        f"{size!r}.") from None
    if size < 0:
        raise ValueError(f"jaxel.numpy.{name}: size must be non-negative, got {size}.")
    return size


def _count(mask):
    return int(jnp.sum(mask)) if mask.size else 0


def _neq_sorted(s, equal_nan):
    """``s[1:] != s[:-1]`` for sorted ``s`` (NaNs equal to each other when ``equal_nan``)."""
    hi, lo = s[1:], s[:-1]
    ne = hi != lo
    if equal_nan and _dtypes.is_inexact(s.dtype):
        ne = ne & ~(jnp.isnan(hi) & jnp.isnan(lo))
    return ne


def _first_mask(s, equal_nan=True):
    """True at the first element of each run of equal values of sorted 1-D ``s``."""
    if s.shape[0] == 0:
        return jnp.zeros((0,), np.bool_)
    return jnp.concatenate([jnp.ones((1,), np.bool_), _neq_sorted(s, equal_nan)])


def _positions(name, arr, mask, size):
    """Positions of the true entries of ``mask`` (length ``size``, padded with -1) and the
    result length."""
    size = _static_size(name, arr, size)
    n = _count(mask) if size is None else size
    pos = jnp.nonzero(mask, size=n, fill_value=-1)[0] if mask.shape[0] else \
        jnp.full((n,), -1, _idt())
    return pos, n


def _gather_fill(vals, pos, fill_value, default):
    """``vals[pos]`` with padded (-1) positions replaced by ``fill_value`` or ``default``."""
    valid = pos >= 0
    safe = jnp.where(valid, pos, 0)
    if vals.shape[0] == 0:
        got = jnp.zeros(pos.shape + vals.shape[1:], vals.dtype)
    else:
        got = vals[safe]
    fill = default if fill_value is None else jnp.asarray(fill_value).astype(vals.dtype)
    v = valid.reshape(valid.shape + (1,) * (got.ndim - 1))
    return jnp.where(v, got, fill)


# ---- unique ------------------------------------------------------------------------------------
def _lexsort_rows(x):
    """Stable lexicographic sort of the rows of 2-D ``x``: (sorted rows, permutation)."""
    n, k = x.shape
    iota = lax.iota(_idt(), n)
    if k == 0:
        return x, iota
    cols = tuple(x[:, j] for j in builtins.range(k))
    out = lax.sort(cols + (iota,), 0, num_keys=k)
    return jnp.stack(out[:-1], axis=1), out[-1]


def unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None, *,
           equal_nan=True, size=None, fill_value=None, sorted=True):  # noqa: A002
    """The sorted distinct elements of ``ar`` (or distinct slices along ``axis``).

    Args:
      ar: the array (flattened when ``axis`` is None).
      return_index: also return the index of each value's first occurrence.
      return_inverse: also return indices that rebuild ``ar`` from the values.
      return_counts: also return how often each value occurs.
      axis: compare whole slices along this axis instead of elements.
      equal_nan: treat all NaNs as one value.
      size: static result length (required under ``jit``): surplus values are dropped, missing
        ones padded with ``fill_value`` (default: the smallest value); padded indices repeat
        the smallest value's index, padded counts are 0.
      fill_value: see ``size``.
      sorted: must be True (results are always sorted).

    Example::

        >>> jnp.unique(jnp.array([3, 1, 3, 2]), return_counts=True)
        (Array([1, 2, 3], dtype=int32), Array([1, 1, 2], dtype=int32))
    """
    check_arraylike("unique", ar)
    arr = jnp.asarray(ar)
    if axis is None:
        orig_shape = arr.shape
        x = jnp.ravel(arr)
        n = x.shape[0]
        iota = lax.iota(_idt(), n)
        s, perm = lax.sort((x, iota), 0, num_keys=1) if n else (x, iota)
        first = _first_mask(s, equal_nan)
    else:
        axis = canonicalize_axis(axis, arr.ndim)
        moved = jnp.moveaxis(arr, axis, 0)
        rest = moved.shape[1:]
        n = moved.shape[0]
        x2 = moved.reshape((n, -1)) if n else moved.reshape((0, int(np.prod(rest))))
        s, perm = _lexsort_rows(x2)
        if n:
            ne = jnp.any(s[1:] != s[:-1], axis=1) if s.shape[1] else \
                jnp.zeros((n - 1,), np.bool_)
            first = jnp.concatenate([jnp.ones((1,), np.bool_), ne])
        else:
            first = jnp.zeros((0,), np.bool_)
    pos, m = _positions("unique", arr, first, size)
    default = s[0] if n else jnp.zeros(s.shape[1:], s.dtype)
    vals = _gather_fill(s, pos, fill_value, default)
    if axis is not None:
        vals = jnp.moveaxis(vals.reshape((m,) + rest), 0, axis)
    outs = [vals]
    if return_index:
        idx = perm[jnp.where(pos >= 0, pos, 0)] if n else jnp.zeros((m,), _idt())
        outs.append(idx)
    if return_inverse:
        rank = jnp.cumsum(first.astype(_idt())) - 1
        inv = jnp.zeros((n,), _idt()).at[perm].set(rank) if n else jnp.zeros((0,), _idt())
        outs.append(inv.reshape(orig_shape) if axis is None else inv)
    if return_counts:
        # occurrences per run: a histogram of each sorted element's run number
        rank = jnp.cumsum(first.astype(_idt())) - 1
        counts = jnp.zeros((m,), _idt()).at[rank].add(1, mode="drop") if n else \
            jnp.zeros((m,), _idt())
        counts = jnp.where(pos >= 0, counts, 0)
        outs.append(counts)
    return outs[0] if len(outs) == 1 else tuple(outs)


class _UniqueAllResult(NamedTuple):
    values: object
    indices: object
    inverse_indices: object
    counts: object


class _UniqueCountsResult(NamedTuple):
    values: object
    counts: object


class _UniqueInverseResult(NamedTuple):
    values: object
    inverse_indices: object


def unique_all(x, /, *, size=None, fill_value=None):
    """Array-API ``unique_all``: values, first indices, inverse indices and counts.

    Example::

        >>> jnp.unique_all(jnp.array([2, 1, 2])).counts
        Array([1, 2], dtype=int32)
    """
    v, i, inv, c = unique(x, True, True, True, equal_nan=False, size=size,
                          fill_value=fill_value)
    return _UniqueAllResult(v, i, inv, c)


def unique_counts(x, /, *, size=None, fill_value=None):
    """Array-API ``unique_counts``: the distinct values and their counts.

    Example::

        >>> jnp.unique_counts(jnp.array([2, 1, 2])).values
        Array([1, 2], dtype=int32)
    """
    v, c = unique(x, return_counts=True, equal_nan=False, size=size, fill_value=fill_value)
    return _UniqueCountsResult(v, c)


def unique_inverse(x, /, *, size=None, fill_value=None):
    """Array-API ``unique_inverse``: the distinct values and the inverse indices (shaped like
    ``x``).

    Example::

        >>> jnp.unique_inverse(jnp.array([2, 1, 2])).inverse_indices
        Array([1, 0, 1], dtype=int32)
    """
    v, inv = unique(x, return_inverse=True, equal_nan=False, size=size, fill_value=fill_value)
    return _UniqueInverseResult(v, inv)


def unique_values(x, /, *, size=None, fill_value=None):
    """Array-API ``unique_values``: the sorted distinct values.

    Example::

        >>> jnp.unique_values(jnp.array([2, 1, 2]))
        Array([1, 2], dtype=int32)
    """
    return unique(x, equal_nan=False, size=size, fill_value=fill_value)


# ---- membership --------------------------------------------------------------------------------
def isin(element, test_elements, assume_unique=False, invert=False, *, method="auto"):
    """True where ``element`` is one of ``test_elements`` (NaN never matches).

    ``method``: ``'compare_all'`` (every pair; fast for small inputs), ``'sort'`` (binary
    search in the sorted test elements) or ``'auto'``.

    Example::

        >>> jnp.isin(jnp.array([1, 2, 3]), jnp.array([3, 1]))
        Array([ True, False,  True], dtype=bool)
    """
    check_arraylike("isin", element, test_elements)
    element, test_elements = (_scalar_in_dtype_of(element, test_elements),
                              _scalar_in_dtype_of(test_elements, element))
    e, t = jnp.asarray(element), jnp.ravel(jnp.asarray(test_elements))
    if method == "auto":
        method = "compare_all" if e.size * t.size <= (1 << 16) else "sort"
    if t.shape[0] == 0:
        out = jnp.zeros(e.shape, np.bool_)
    elif method == "compare_all":
        out = jnp.any(e[..., None] == t, axis=-1)
    elif method in ("sort", "binary_search"):
        dt = _dtypes.result_type(e, t)
        e2, t2 = e.astype(dt), jnp.sort(t.astype(dt))
        i = jnp.clip(jnp.searchsorted(t2, e2), 0, t2.shape[0] - 1)
        out = t2[i] == e2
    else:
        raise ValueError(f"jaxel.numpy.isin: method must be 'auto', 'compare_all' or 'sort', "
                         f"got {method!r}.")
    return ~out if invert else out


def _scalar_in_dtype_of(v, other):
    """A Python int ``v`` met with an integer array ``other`` as an array of ``other``'s dtype,
    so every value of that dtype can be looked for (``2**63`` in a uint64 array: a bare
    Python int becomes an int64 first and would overflow). Anything else is returned as is."""
    dt = getattr(other, "dtype", None)
    if type(v) is not int or dt is None or np.dtype(dt).kind not in "iu":
        return v
    info = np.iinfo(dt)
    if not info.min <= v <= info.max:
        raise OverflowError(f"jaxel.numpy.isin: Python int {v} is out of range for the "
                            f"{np.dtype(dt).name} array it is compared with.")
    return np.asarray(v, dt)


def _sorted_unique_mask(name, ar):
    check_arraylike(name, ar)
    x = jnp.ravel(jnp.asarray(ar))
    iota = lax.iota(_idt(), x.shape[0])
    s, perm = lax.sort((x, iota), 0, num_keys=1) if x.shape[0] else (x, iota)
    return s, perm, _first_mask(s, equal_nan=False)


def _result_dtype(a, b):
    dt = _dtypes.result_type(a, b)
    return jnp.asarray(a).astype(dt), jnp.asarray(b).astype(dt)


def intersect1d(ar1, ar2, assume_unique=False, return_indices=False, *, size=None,
                fill_value=None):
    """Sorted values present in both arrays (flattened), optionally with the index of their
    first occurrence in each.

    Example::

        >>> jnp.intersect1d(jnp.array([5, 3, 3, 1]), jnp.array([1, 3, 7]))
        Array([1, 3], dtype=int32)
    """
    check_arraylike("intersect1d", ar1, ar2)
    ar1, ar2 = _result_dtype(ar1, ar2)
    s1, p1, f1 = _sorted_unique_mask("intersect1d", ar1)
    s2, p2, _ = _sorted_unique_mask("intersect1d", ar2)
    keep = f1 & isin(s1, s2) if s1.shape[0] else f1
    traced = ar1 if isinstance(ar1, Tracer) else ar2
    pos, m = _positions("intersect1d", traced, keep, size)
    valid = pos >= 0
    default = s1[jnp.where(valid, pos, 0)][0] if m and s1.shape[0] else \
        jnp.zeros((), s1.dtype)
    vals = _gather_fill(s1, pos, fill_value, default)
    if not return_indices:
        return vals
    n1, n2 = s1.shape[0], s2.shape[0]
    i1 = jnp.where(valid, p1[jnp.where(valid, pos, 0)] if n1 else 0, n1)
    j = jnp.clip(jnp.searchsorted(s2, vals), 0, max(n2 - 1, 0))
    i2 = jnp.where(valid, p2[j] if n2 else 0, n2)
    return vals, i1, i2


def union1d(ar1, ar2, *, size=None, fill_value=None):
    """Sorted values present in either array.

    Example::

        >>> jnp.union1d(jnp.array([3, 1]), jnp.array([2, 1]))
        Array([1, 2, 3], dtype=int32)
    """
    check_arraylike("union1d", ar1, ar2)
    ar1, ar2 = _result_dtype(ar1, ar2)
    return unique(jnp.concatenate([jnp.ravel(ar1), jnp.ravel(ar2)]), size=size,
                  fill_value=fill_value)


def setdiff1d(ar1, ar2, assume_unique=False, *, size=None, fill_value=None):
    """Values of ``ar1`` not in ``ar2``: sorted and distinct, or in ``ar1``'s order when
    ``assume_unique``. Padding (with ``size``) defaults to 0.

    Example::

        >>> jnp.setdiff1d(jnp.array([5, 3, 3, 1]), jnp.array([1, 7]))
        Array([3, 5], dtype=int32)
    """
    check_arraylike("setdiff1d", ar1, ar2)
    a1 = jnp.ravel(jnp.asarray(ar1))
    a2 = jnp.ravel(jnp.asarray(ar2))
    if assume_unique:
        s, keep = a1, isin(a1, a2, invert=True)
    else:
        s, _, f = _sorted_unique_mask("setdiff1d", a1)
        keep = f & isin(s, a2, invert=True)
    traced = a1 if isinstance(a1, Tracer) else a2
    pos, _ = _positions("setdiff1d", traced, keep, size)
    return _gather_fill(s, pos, fill_value, jnp.zeros((), s.dtype))


def setxor1d(ar1, ar2, assume_unique=False, *, size=None, fill_value=None):
    """Sorted values in exactly one of the two arrays.

    Example::

        >>> jnp.setxor1d(jnp.array([5, 3, 3, 1]), jnp.array([1, 7]))
        Array([3, 5, 7], dtype=int32)
    """
    check_arraylike("setxor1d", ar1, ar2)
    ar1, ar2 = _result_dtype(ar1, ar2)
    s1, _, f1 = _sorted_unique_mask("setxor1d", ar1)
    s2, _, f2 = _sorted_unique_mask("setxor1d", ar2)
    k1 = f1 & isin(s1, s2, invert=True)
    k2 = f2 & isin(s2, s1, invert=True)
    vals = jnp.concatenate([s1, s2])
    keep = jnp.concatenate([k1, k2])
    # The kept values are distinct: sort kept ones first, by value.
    drop = (~keep).astype(np.int8)
    if vals.shape[0]:
        _, vals = lax.sort((drop, vals), 0, num_keys=2)
        keep = jnp.sort(keep.astype(np.int8), descending=True).astype(np.bool_)
    traced = ar1 if isinstance(ar1, Tracer) else ar2
    pos, m = _positions("setxor1d", traced, keep, size)
    default = vals[0] if vals.shape[0] else jnp.zeros((), vals.dtype)
    return _gather_fill(vals, pos, fill_value, default)


__all__ = ["unique", "unique_all", "unique_counts", "unique_inverse", "unique_values", "isin",
           "intersect1d", "union1d", "setdiff1d", "setxor1d"]
