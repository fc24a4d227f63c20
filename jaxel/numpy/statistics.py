"""Searching, counting and order statistics: searchsorted, digitize, bincount, histograms,
quantile / percentile (and their NaN-ignoring forms), nanmedian, cov, corrcoef.

Everything runs on the device with static shapes: results whose length depends on the data
(``bincount`` without ``length``) need concrete input, and raise ``ConcretizationTypeError``
under ``jit`` naming the static argument to pass instead.
"""
from __future__ import annotations

import builtins
import math
import operator

import numpy as np

import jaxel.numpy as jnp
from jaxel import dtypes as _dtypes
from jaxel import lax
from jaxel.errors import ConcretizationTypeError
from jaxel.numpy._util import (canonicalize_axis, check_arraylike, promote_dtypes_inexact,
                               to_inexact_dtype)
from jaxel.tracing.core import Tracer


def _idx_dtype():
    return _dtypes.default_int_dtype()


def _search_dtype(n):
    """searchsorted's index dtype for ``a`` of length ``n`` (as JAX): int32 unless the
    positions need 64 bits, even with x64."""
    return np.dtype(np.int64) if n > np.iinfo(np.int32).max else np.dtype(np.int32)


# ---- searchsorted / digitize -------------------------------------------------------------------
def _lt(x, y):
    """``x < y`` in sort order: NaN after everything, equal to NaN."""
    if _dtypes.is_inexact(x.dtype) and not _dtypes.is_complex(x.dtype):
        return (x < y) | (~jnp.isnan(x) & jnp.isnan(y))
    if _dtypes.is_complex(x.dtype):
        xr, xi, yr, yi = jnp.real(x), jnp.imag(x), jnp.real(y), jnp.imag(y)
        return (xr < yr) | ((xr == yr) & (xi < yi))
    return x < y


def _searchsorted_compare_all(a, v, side):
    # count of a[i] (<, <=) v, summed over a's axis
    av, vv = a[(None,) * v.ndim + (slice(None),)], v[..., None]
    hit = _lt(av, vv) if side == "left" else ~_lt(vv, av)
    return jnp.sum(hit, axis=-1, dtype=_idx_dtype())


def _searchsorted_scan(a, v, side, unrolled):
    n = a.shape[0]
    it = _idx_dtype()
    steps = max(int(n).bit_length(), 1)
    lo = jnp.zeros(v.shape, it)
    hi = jnp.full(v.shape, n, it)

    def body(_, carry):
        lo, hi = carry
        mid = lo + (hi - lo) // 2
        am = a[jnp.clip(mid, 0, max(n - 1, 0))]
        go_right = _lt(am, v) if side == "left" else ~_lt(v, am)
        go_right = go_right & (lo < hi)
        move_left = ~go_right & (lo < hi)
        return jnp.where(go_right, mid + 1, lo), jnp.where(move_left, mid, hi)

    if n == 0:
        return lo
    if unrolled:
        carry = (lo, hi)
        for i in range(steps):
            carry = body(i, carry)
        return carry[0]
    return lax.fori_loop(0, steps, body, (lo, hi))[0]


def _searchsorted_sort(a, v, side):
    n = a.shape[0]
    it = _idx_dtype()
    flat = jnp.ravel(v)
    m = flat.shape[0]
    keys = jnp.concatenate([a, flat.astype(a.dtype)])
    is_a = jnp.concatenate([jnp.ones(n, it), jnp.zeros(m, it)])
    # Ties: for side='left' the queries sort before equal elements of ``a``.
    tie = is_a if side == "left" else 1 - is_a
    perm = lax.iota(it, n + m)
    _, _, perm = lax.sort((keys, tie, perm), 0, num_keys=2)
    is_a_sorted = is_a[perm]
    before = jnp.cumsum(is_a_sorted) - is_a_sorted
    placed = jnp.zeros(n + m, it).at[perm].set(before)
    return placed[n:].reshape(v.shape)


def searchsorted(a, v, side="left", sorter=None, *, method="scan"):
    """Indices where ``v`` would be inserted into the sorted 1-D ``a`` to keep it sorted.

    Args:
      a: sorted 1-D array (or unsorted with ``sorter`` the permutation that sorts it).
      v: values to place (any shape).
      side: ``'left'`` (first suitable index) or ``'right'`` (last).
      sorter: optional indices that sort ``a``.
      method: ``'scan'`` (binary search in a ``fori_loop``), ``'scan_unrolled'``,
        ``'sort'`` (one joint sort) or ``'compare_all'`` (all comparisons, fast for small ``a``).

    Returns:
      indices of ``v``'s shape, of the default integer dtype (int32, or int64 with x64).

    Example::

        >>> jnp.searchsorted(jnp.array([1, 2, 2, 3]), jnp.array([2, 5]), side="right")
        Array([3, 4], dtype=int32)
    """
    out = _searchsorted(a, v, side, sorter, method)
    # The Array API's default indexing dtype (int64 with x64), as __array_namespace_info__
    # reports it; JAX returns int32 with x64 too, a deliberate difference (docs/array-api.md).
    it = _dtypes.default_int_dtype()
    return out if out.dtype.itemsize >= it.itemsize else out.astype(it)


def _searchsorted(a, v, side, sorter, method):
    """searchsorted with JAX's index dtype (int32 unless the positions need 64 bits)."""
    check_arraylike("searchsorted", a, v)
    a, v = jnp.asarray(a), jnp.asarray(v)
    if a.ndim != 1:
        raise ValueError(f"jaxel.numpy.searchsorted: a should be 1-dimensional, got shape "
                         f"{a.shape}.")
    if side not in ("left", "right"):
        raise ValueError(f"jaxel.numpy.searchsorted: side must be 'left' or 'right', got "
                         f"{side!r}.")
    if sorter is not None:
        check_arraylike("searchsorted", sorter)
        a = a[jnp.asarray(sorter)]
    dt = _dtypes.result_type(a, v)
    a, v = a.astype(dt), v.astype(dt)
    it = _search_dtype(a.shape[0])
    if method == "compare_all":
        return _searchsorted_compare_all(a, v, side).astype(it)
    if method in ("scan", "scan_unrolled"):
        return _searchsorted_scan(a, v, side, unrolled=method == "scan_unrolled").astype(it)
    if method == "sort":
        return _searchsorted_sort(a, v, side).astype(it)
    raise ValueError(f"jaxel.numpy.searchsorted: method must be one of 'scan', "
                     f"'scan_unrolled', 'sort', 'compare_all'; got {method!r}.")


def digitize(x, bins, right=False, *, method=None):
    """Index of the bin of ``bins`` (monotonic, increasing or decreasing) each ``x`` is in.

    Example::

        >>> jnp.digitize(jnp.array([0.5, 1.5, 3.0]), jnp.array([1.0, 2.0, 3.0]))
        Array([0, 1, 3], dtype=int32)
    """
    check_arraylike("digitize", x, bins)
    x, bins = jnp.asarray(x), jnp.asarray(bins)
    if bins.ndim != 1:
        raise ValueError(f"jaxel.numpy.digitize: bins must be a 1-dimensional array, got shape "
                         f"{bins.shape}.")
    if bins.shape[0] == 0:
        return jnp.zeros(x.shape, _search_dtype(0))
    side = "left" if right else "right"
    method = "scan" if method is None else method
    inc = _searchsorted(bins, x, side, None, method)
    dec = bins.shape[0] - _searchsorted(bins[::-1], x, side, None, method)
    return jnp.where(bins[-1] >= bins[0], inc, dec)


# ---- bincount / histograms ---------------------------------------------------------------------
def _static_length(name, value, arg, what):
    if isinstance(value, Tracer):
        raise ConcretizationTypeError(
            f"jaxel.numpy.{name}: the argument is traced ({value.aval.str_short()}), so "
            f"{what} is unknown and the result shape cannot be computed. Pass "
            f"{arg}=<static int> to get a fixed-length result.")


def bincount(x, weights=None, minlength=0, *, length=None):
    """Count occurrences of each non-negative integer in the 1-D ``x`` (summing ``weights``
    instead of ones when given).

    Negative values count toward bin 0, values ``>= length`` are dropped. Without ``length``
    the result length is ``max(max(x) + 1, minlength)``, so ``x`` must be concrete: under
    ``jit`` pass ``length``.

    Example::

        >>> jnp.bincount(jnp.array([0, 1, 1, 3]))
        Array([1, 2, 0, 1], dtype=int32)
    """
    check_arraylike("bincount", x)
    x = jnp.asarray(x)
    if not (_dtypes.issubdtype(x.dtype, np.integer) or x.dtype == np.bool_):
        raise TypeError(f"jaxel.numpy.bincount: x must be an integer array, got {x.dtype}.")
    if x.ndim != 1:
        raise ValueError(f"jaxel.numpy.bincount: x must be one-dimensional, got shape "
                         f"{x.shape}.")
    minlength = operator.index(minlength)
    if minlength < 0:
        raise ValueError(f"jaxel.numpy.bincount: minlength must be non-negative, got "
                         f"{minlength}.")
    if length is None:
        _static_length("bincount", x, "length", "the number of bins (max(x) + 1)")
        length = max(minlength, int(jnp.max(x)) + 1 if x.size else 0)
    else:
        length = operator.index(length)
    if weights is None:
        w = jnp.ones(x.shape, _idx_dtype())
    else:
        check_arraylike("bincount", weights)
        w = jnp.asarray(weights)
        if w.shape != x.shape:
            raise ValueError(f"jaxel.numpy.bincount: weights shape {w.shape} must match x's "
                             f"shape {x.shape}.")
    return jnp.zeros(length, w.dtype).at[jnp.clip(x, 0)].add(w, mode="drop")


def histogram_bin_edges(a, bins=10, range=None, weights=None):  # noqa: A002
    """The bin edges ``histogram`` uses: ``bins + 1`` evenly spaced edges over ``range``
    (default ``(a.min(), a.max())``), or ``bins`` itself when it is an array.

    Example::

        >>> jnp.histogram_bin_edges(jnp.array([0.0, 1.0, 4.0]), bins=4)
        Array([0., 1., 2., 3., 4.], dtype=float32)
    """
    check_arraylike("histogram_bin_edges", a)
    a = jnp.ravel(jnp.asarray(a))
    (af,) = promote_dtypes_inexact(a)
    dt = af.dtype
    if not isinstance(bins, int) and np.ndim(bins) != 0:
        check_arraylike("histogram_bin_edges", bins)
        return jnp.asarray(bins)
    if isinstance(bins, str):
        raise NotImplementedError("jaxel.numpy.histogram_bin_edges: string bins are not "
                                  "supported.")
    bins = operator.index(bins)
    if bins < 1:
        raise ValueError(f"jaxel.numpy.histogram_bin_edges: bins must be positive, got {bins}.")
    if range is None:
        lo, hi = jnp.min(af), jnp.max(af)
    else:
        if np.ndim(range) != 1 or len(range) != 2:
            raise ValueError(f"jaxel.numpy.histogram_bin_edges: range must be a pair, got "
                             f"{range!r}.")
        lo, hi = jnp.asarray(range[0], dt), jnp.asarray(range[1], dt)
    same = lo == hi
    lo = jnp.where(same, lo - 0.5, lo).astype(dt)
    hi = jnp.where(same, hi + 0.5, hi).astype(dt)
    return jnp.linspace(lo, hi, bins + 1, dtype=dt)


def _bin_index(x, edges):
    """1..len(edges)-1 for values inside, 0 below, len(edges) above; the last edge is
    inclusive."""
    idx = searchsorted(edges, x, side="right")
    return jnp.where(x == edges[-1], edges.shape[0] - 1, idx)


def histogram(a, bins=10, range=None, weights=None, density=None):  # noqa: A002
    """Histogram of ``a`` (flattened): counts (or summed ``weights``) per bin, and the edges.

    Args:
      a: the data.
      bins: number of equal-width bins, or a 1-D array of monotonic edges.
      range: ``(lo, hi)`` for integer ``bins`` (default the data's min and max).
      weights: optional, one per element of ``a``.
      density: normalise so the histogram integrates to one.

    Example::

        >>> counts, edges = jnp.histogram(jnp.array([1.0, 2.0, 2.0, 4.0]), bins=3)
        >>> counts
        Array([1., 2., 1.], dtype=float32)
    """
    check_arraylike("histogram", a)
    a = jnp.ravel(jnp.asarray(a))
    if weights is None:
        (w,) = promote_dtypes_inexact(jnp.ones(a.shape, a.dtype))
    else:
        check_arraylike("histogram", weights)
        w = jnp.ravel(jnp.asarray(weights))
        if w.shape != a.shape:
            raise ValueError(f"jaxel.numpy.histogram: weights should have the same shape as a "
                             f"({jnp.shape(a)}), got {jnp.shape(weights)}.")
    edges = histogram_bin_edges(a, bins, range, weights)
    idx = _bin_index(a, edges)
    counts = jnp.zeros(edges.shape[0] + 1, w.dtype).at[idx].add(w, mode="drop")[1:-1]
    if density:
        (counts,) = promote_dtypes_inexact(counts)
        counts = counts / jnp.diff(edges) / jnp.sum(counts)
    return counts, edges


def histogramdd(sample, bins=10, range=None, weights=None, density=None):  # noqa: A002
    """Multi-dimensional histogram of ``sample`` (``(N, D)``: N points in D dimensions).

    ``bins``: an int for all dimensions, or a sequence with an int or an edge array per
    dimension; ``range``: None or one ``(lo, hi)`` (or None) per dimension.

    Example::

        >>> pts = jnp.array([[0.0, 0.0], [1.0, 1.0], [1.0, 0.0]])
        >>> jnp.histogramdd(pts, bins=2)[0]
        Array([[1, 0],
               [1, 1]], dtype=int32)
    """
    check_arraylike("histogramdd", sample)
    sample = jnp.asarray(sample)
    if sample.ndim != 2:
        raise ValueError(f"jaxel.numpy.histogramdd: sample must be 2-D (N, D), got shape "
                         f"{sample.shape}.")
    N, D = sample.shape
    if isinstance(bins, int) or (np.ndim(bins) == 0 and not isinstance(bins, (list, tuple))):
        bins = [bins] * D
    elif len(bins) != D:
        raise ValueError(f"jaxel.numpy.histogramdd: bins must have one entry per dimension "
                         f"({D}), got {len(bins)}.")
    if range is None:
        range = [None] * D  # noqa: A001
    elif len(range) != D:
        raise ValueError(f"jaxel.numpy.histogramdd: range must have one entry per dimension "
                         f"({D}), got {len(range)}.")
    if weights is None:
        w = jnp.ones((N,), _idx_dtype())  # integer counts, as in JAX
    else:
        check_arraylike("histogramdd", weights)
        w = jnp.asarray(weights)
        if w.shape != (N,):
            raise ValueError(f"jaxel.numpy.histogramdd: weights must have shape ({N},), got "
                             f"{w.shape}.")
    edges, idxs, dims = [], [], []
    for d in builtins.range(D):
        e = histogram_bin_edges(sample[:, d], bins[d], range[d])
        edges.append(e)
        idxs.append(_bin_index(sample[:, d], e))
        dims.append(e.shape[0] + 1)
    flat = jnp.ravel_multi_index(tuple(idxs), tuple(dims), mode="clip")
    counts = jnp.zeros(math.prod(dims), w.dtype).at[flat].add(w).reshape(dims)
    counts = counts[(slice(1, -1),) * D]
    if density:
        (counts,) = promote_dtypes_inexact(counts)
        counts = counts / jnp.sum(counts)
        for d in builtins.range(D):
            shape = [1] * D
            shape[d] = -1
            counts = counts / jnp.diff(edges[d]).reshape(shape)
    return counts, edges



def histogram2d(x, y, bins=10, range=None, weights=None, density=None):  # noqa: A002
    """Two-dimensional histogram of points ``(x, y)``.

    Example::

        >>> h, xe, ye = jnp.histogram2d(jnp.array([0.0, 1.0]), jnp.array([0.0, 1.0]), bins=2)
        >>> h
        Array([[1, 0],
               [0, 1]], dtype=int32)
    """
    check_arraylike("histogram2d", x, y)
    x, y = jnp.asarray(x), jnp.asarray(y)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"jaxel.numpy.histogram2d: x and y must be 1-D of the same length, "
                         f"got shapes {x.shape} and {y.shape}.")
    try:
        n = len(bins)
    except TypeError:
        n = 1
    if n != 1 and n != 2:
        bins = [bins, bins]
    sample = jnp.stack(promote_dtypes_inexact(x, y) if x.dtype != y.dtype else (x, y), axis=1)
    h, (xe, ye) = histogramdd(sample, bins, range, weights, density)
    return h, xe, ye


# ---- quantiles ---------------------------------------------------------------------------------
_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile_dtypes(a, q):
    """As JAX: the result has ``a``'s floating dtype (float32 for integers narrower than 64
    bits, even with x64), whatever ``q``'s dtype; ``q`` is computed in it."""
    dt = to_inexact_dtype(a.dtype)
    return a.astype(dt), q.astype(dt)


def _quantile(name, a, q, axis, method, keepdims, ignore_nan):
    check_arraylike(name, a, q)
    a, q = jnp.asarray(a), jnp.asarray(q)
    if _dtypes.is_complex(a.dtype) or _dtypes.is_complex(q.dtype):
        raise ValueError(f"jaxel.numpy.{name} does not support complex input.")
    if method not in _METHODS:
        raise ValueError(f"jaxel.numpy.{name}: method must be one of {_METHODS}, got "
                         f"{method!r}.")
    if q.ndim > 1:
        raise ValueError(f"jaxel.numpy.{name}: q must be zero- or one-dimensional, got shape "
                         f"{q.shape}.")
    a, q = _quantile_dtypes(a, q)
    shape = a.shape
    if axis is None:
        axes = tuple(builtins.range(a.ndim))
    elif isinstance(axis, (tuple, list)):
        axes = tuple(sorted({canonicalize_axis(ax, a.ndim) for ax in axis}))
    else:
        axes = (canonicalize_axis(axis, a.ndim),)
    keep = [i for i in builtins.range(a.ndim) if i not in axes]
    kept_shape = tuple(shape[i] for i in keep)
    n = math.prod(shape[i] for i in axes)
    x = jnp.transpose(a, tuple(keep) + axes).reshape(kept_shape + (n,))
    qf = jnp.ravel(q)
    dt = x.dtype
    if n == 0:
        res = jnp.full(kept_shape + (qf.shape[0],), np.nan, dt)
    else:
        s = jnp.sort(x, axis=-1)  # NaNs last
        isnan = jnp.isnan(x)
        if ignore_nan:
            count = jnp.sum(~isnan, axis=-1, keepdims=True).astype(dt)
        else:
            count = jnp.full(kept_shape + (1,), n, dt)
        pos = qf * (count - 1)  # (..., Q)
        pos = jnp.clip(pos, 0, jnp.maximum(count - 1, 0))
        lo = jnp.floor(pos)
        hi = jnp.ceil(pos)
        it = _idx_dtype()
        lo_i = jnp.clip(lo.astype(it), 0, n - 1)
        hi_i = jnp.clip(hi.astype(it), 0, n - 1)
        lo_v = jnp.take_along_axis(s, lo_i, axis=-1)
        hi_v = jnp.take_along_axis(s, hi_i, axis=-1)
        if method == "linear":
            frac = pos - lo
            res = lo_v * (1 - frac) + hi_v * frac
        elif method == "lower":
            res = lo_v
        elif method == "higher":
            res = hi_v
        elif method == "midpoint":
            res = 0.5 * (lo_v + hi_v)
        else:
            # ties go to the lower neighbour (JAX's rule; NumPy rounds half to even)
            res = jnp.where(pos - lo <= 0.5, lo_v, hi_v)
        if ignore_nan:
            res = jnp.where(count == 0, np.nan, res)
        else:
            res = jnp.where(jnp.any(isnan, axis=-1, keepdims=True), np.nan, res)
    res = jnp.moveaxis(res, -1, 0)  # (Q, ...)
    if keepdims:
        full = list(shape)
        for ax in axes:
            full[ax] = 1
        res = res.reshape((qf.shape[0],) + tuple(full))
    if q.ndim == 0:
        res = res[0]
    return res.astype(dt)


def quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
             keepdims=False, *, interpolation=None):
    """The ``q``-th quantiles (``q`` in [0, 1], scalar or 1-D) of ``a`` along ``axis``.

    ``method``: ``'linear'`` (default), ``'lower'``, ``'higher'``, ``'midpoint'`` or
    ``'nearest'``. A slice containing NaN gives NaN. The quantile axis of a 1-D ``q`` leads
    the result. Differentiable (with respect to ``a``) for the interpolating methods.

    Example::

        >>> jnp.quantile(jnp.array([1.0, 2.0, 3.0, 4.0]), jnp.array([0.25, 0.5]))
        Array([1.75, 2.5 ], dtype=float32)
    """
    _no_out("quantile", out, interpolation)
    return _quantile("quantile", a, q, axis, method, keepdims, ignore_nan=False)


def nanquantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                keepdims=False, *, interpolation=None):
    """``quantile`` ignoring NaNs (an all-NaN slice gives NaN).

    Example::

        >>> jnp.nanquantile(jnp.array([1.0, jnp.nan, 3.0]), 0.5)
        Array(2., dtype=float32)
    """
    _no_out("nanquantile", out, interpolation)
    return _quantile("nanquantile", a, q, axis, method, keepdims, ignore_nan=True)


def _no_out(name, out, interpolation):
    if out is not None:
        raise ValueError(f"jaxel.numpy.{name}: the 'out' argument is not supported.")
    if interpolation is not None:
        raise TypeError(f"jaxel.numpy.{name}: 'interpolation' was renamed to 'method'.")


def percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
               keepdims=False, *, interpolation=None):
    """The ``q``-th percentiles (``q`` in [0, 100]); see ``quantile``.

    Example::

        >>> jnp.percentile(jnp.array([1.0, 2.0, 3.0, 4.0]), 50)
        Array(2.5, dtype=float32)
    """
    _no_out("percentile", out, interpolation)
    check_arraylike("percentile", a, q)
    a, q = _quantile_dtypes(jnp.asarray(a), jnp.asarray(q))
    return _quantile("percentile", a, q / 100, axis, method, keepdims, ignore_nan=False)


def nanpercentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                  keepdims=False, *, interpolation=None):
    """``percentile`` ignoring NaNs.

    Example::

        >>> jnp.nanpercentile(jnp.array([1.0, jnp.nan, 3.0]), 100)
        Array(3., dtype=float32)
    """
    _no_out("nanpercentile", out, interpolation)
    check_arraylike("nanpercentile", a, q)
    a, q = _quantile_dtypes(jnp.asarray(a), jnp.asarray(q))
    return _quantile("nanpercentile", a, q / 100, axis, method, keepdims, ignore_nan=True)


def nanmedian(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """Median ignoring NaNs (an all-NaN slice gives NaN).

    Example::

        >>> jnp.nanmedian(jnp.array([1.0, jnp.nan, 3.0, 4.0]))
        Array(3., dtype=float32)
    """
    _no_out("nanmedian", out, None)
    return _quantile("nanmedian", a, 0.5, axis, "midpoint", keepdims, ignore_nan=True)


# ---- covariance --------------------------------------------------------------------------------
def cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None):
    """Covariance matrix of the variables in the rows (``rowvar``) or columns of ``m``
    (and ``y``), with optional integer frequency and real observation weights.

    Example::

        >>> jnp.cov(jnp.array([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]]))
        Array([[ 1., -1.],
               [-1.,  1.]], dtype=float32)
    """
    check_arraylike("cov", m)
    m = jnp.asarray(m)
    if m.ndim > 2:
        raise ValueError(f"jaxel.numpy.cov: m has more than 2 dimensions (shape {m.shape}).")
    (X,) = promote_dtypes_inexact(jnp.atleast_2d(m))
    if y is not None:
        check_arraylike("cov", y)
        y = jnp.asarray(y)
        if y.ndim > 2:
            raise ValueError(f"jaxel.numpy.cov: y has more than 2 dimensions (shape "
                             f"{y.shape}).")
        X, Y = promote_dtypes_inexact(X, jnp.atleast_2d(y))
        if not rowvar and Y.shape[0] != 1:
            Y = Y.T
    if not rowvar and X.shape[0] != 1:
        X = X.T
    if X.shape[0] == 0:
        return jnp.zeros((0, 0), X.dtype)
    if y is not None:
        X = jnp.concatenate([X, Y], axis=0)
    if ddof is None:
        ddof = 0 if bias else 1
    nobs = X.shape[1]
    w = None
    if fweights is not None:
        check_arraylike("cov", fweights)
        fw = jnp.asarray(fweights)
        if fw.ndim != 1 or fw.shape[0] != nobs:
            raise ValueError(f"jaxel.numpy.cov: fweights must be 1-D of length {nobs}, got "
                             f"shape {fw.shape}.")
        if not _dtypes.issubdtype(fw.dtype, np.integer):
            raise TypeError("jaxel.numpy.cov: fweights must be integer.")
        w = fw
    if aweights is not None:
        check_arraylike("cov", aweights)
        aw = jnp.asarray(aweights)
        if aw.ndim != 1 or aw.shape[0] != nobs:
            raise ValueError(f"jaxel.numpy.cov: aweights must be 1-D of length {nobs}, got "
                             f"shape {aw.shape}.")
        w = aw if w is None else w * aw
    if w is None:
        avg = jnp.mean(X, axis=1)
        w_sum = jnp.asarray(nobs, X.dtype)
        fact = nobs - ddof
    else:
        w = w.astype(X.dtype) if not _dtypes.is_inexact(w.dtype) else w
        avg, w_sum = jnp.average(X, axis=1, weights=w, returned=True)
        w_sum = w_sum[0]
        if ddof == 0:
            fact = w_sum
        elif aweights is None:
            fact = w_sum - ddof
        else:
            fact = w_sum - ddof * jnp.sum(w * aw) / w_sum
    X = X - avg[:, None]
    X_T = X.T if w is None else (X * w).T
    c = jnp.matmul(X, jnp.conj(X_T)) / fact
    return jnp.squeeze(c)


def corrcoef(x, y=None, rowvar=True):
    """Pearson correlation coefficients (``cov`` normalised by the standard deviations,
    clipped to [-1, 1]).

    Example::

        >>> jnp.corrcoef(jnp.array([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]]))
        Array([[ 1., -1.],
               [-1.,  1.]], dtype=float32)
    """
    c = cov(x, y, rowvar)
    if c.ndim == 0:
        return c / c
    d = jnp.diagonal(c)
    std = jnp.sqrt(jnp.real(d)).astype(c.dtype)
    c = c / std[:, None] / std[None, :]
    re = jnp.clip(jnp.real(c), -1, 1)
    if _dtypes.is_complex(c.dtype):
        return lax.complex(re, jnp.clip(jnp.imag(c), -1, 1))
    return re


__all__ = ["searchsorted", "digitize", "bincount", "histogram_bin_edges", "histogram",
           "histogram2d", "histogramdd", "quantile", "nanquantile", "percentile",
           "nanpercentile", "nanmedian", "cov", "corrcoef"]
