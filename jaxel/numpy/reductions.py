"""Reductions, statistics, cumulative sums and sorting of the NumPy API, composed from lax.

Dtype rules follow JAX: ``sum``/``prod`` promote bools and narrow integers to the default
integer (``promote_integers``); ``mean``/``var``/``std``/``median``/``average`` of integers
are floating; ``float16``/``bfloat16`` sums and statistics accumulate in ``float32`` and
round once at the end; ``argmax``/``argmin``/``argsort``/``count_nonzero`` return the
default integer. ``out`` is never supported (arrays are immutable): it must be None.
"""
from __future__ import annotations

import builtins
import math
import operator

import numpy as np

from jaxel import dtypes as _dtypes
from jaxel import lax
from jaxel.numpy._util import (aval_of, broadcast_to_shape, canonicalize_axis, check_arraylike,
                               promote_dtypes_inexact, to_inexact_dtype)
from jaxel.tracing.core import literal

_LOW_PRECISION = (np.dtype(np.float16), np.dtype(_dtypes.bfloat16))


# ---- argument handling --------------------------------------------------------------------------
def _asarray(fun: str, a):
    """``a`` as a jaxel array (or tracer), with a TypeError naming ``fun`` otherwise."""
    check_arraylike(fun, a)
    if getattr(a, "aval", None) is None or not hasattr(a, "shape"):
        from jaxel.numpy.creation import asarray
        a = asarray(a)
    return a


def _check_out(fun: str, out):
    if out is not None:
        raise NotImplementedError(f"The 'out' argument to jnp.{fun} is not supported (jaxel "
                                  "arrays are immutable; use the returned array).")


def _axes(fun: str, axis, ndim: int) -> tuple:
    """Normalised reduction axes: None means all; an int or a sequence of ints otherwise."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (tuple, list)):
        axes = tuple(canonicalize_axis(operator.index(a), ndim) for a in axis)
        if len(set(axes)) != len(axes):
            raise ValueError(f"jnp.{fun}: duplicate value in 'axis': {tuple(axis)}")
        return axes
    try:
        ax = operator.index(axis)
    except TypeError:
        raise TypeError(f"jnp.{fun}: axis must be None, an integer or a tuple of integers, "
                        f"got {axis!r}.") from None
    return (canonicalize_axis(ax, ndim),)


def _user_dtype(fun: str, dtype):
    if dtype is None:
        return None
    dt = _dtypes.dtype(dtype)
    _dtypes.check_user_dtype_supported(dt, fun)
    return _dtypes.canonicalize_dtype(dt)


def _convert(x, dt):
    """``x`` as a (strongly typed) array of ``dt``; no op when it already is one."""
    a = aval_of(x)
    if a.dtype == dt and not a.weak_type:
        return x
    return lax.convert_element_type_p.bind(x, new_dtype=np.dtype(dt), weak_type=False,
                                           sharding=None)


def _full(value, dt, shape):
    """An array of ``shape`` filled with the scalar ``value`` of dtype ``dt``."""
    lit = literal(np.asarray(value, dt)[()], np.dtype(dt), False)
    # Bound even for shape (): a Literal must not escape as a result.
    return lax.broadcast_in_dim_p.bind(lit, shape=tuple(shape), broadcast_dimensions=(),
                                       sharding=None)


def _keepdims(x, axes, keepdims: bool):
    return lax.expand_dims(x, sorted(axes)) if keepdims and axes else x


def _where_mask(fun: str, where, shape):
    """``where`` as a bool array of ``shape`` (None stays None)."""
    if where is None:
        return None
    where = _asarray(fun, where)
    if aval_of(where).dtype != np.bool_:
        raise ValueError(f"jnp.{fun}: where must be None or a boolean array; got "
                         f"where.dtype={aval_of(where).dtype!r}.")
    try:
        return broadcast_to_shape(where, tuple(shape))
    except ValueError:
        raise ValueError(f"jnp.{fun}: where of shape {aval_of(where).shape} does not broadcast "
                         f"to the array's shape {tuple(shape)}.") from None


def _masked(x, mask, fill):
    """``x`` where ``mask`` holds, else the scalar ``fill``."""
    if mask is None:
        return x
    a = aval_of(x)
    return lax.select(mask, x, _full(fill, a.dtype, a.shape))


def _isnan(x):
    return lax.ne(x, x)


def _upcast(dt):
    """The dtype to accumulate ``dt`` in: float32 for the 16-bit floats."""
    return np.dtype(np.float32) if dt in _LOW_PRECISION else dt


def _promote_integers(dt):
    """Bools and integers narrower than the default integer widen to it (JAX's sum/prod)."""
    if dt == np.bool_:
        return _dtypes.default_int_dtype()
    if _dtypes.is_unsigned(dt):
        udef = _dtypes.default_uint_dtype()
        return udef if dt.itemsize < udef.itemsize else dt
    if _dtypes.is_integer(dt):
        idef = _dtypes.default_int_dtype()
        return idef if dt.itemsize < idef.itemsize else dt
    return dt


def _inexact(dt):
    """``dt`` if floating/complex, else the float JAX 0.12.1 computes it in (float32 for
    bools and integers narrower than 64 bits, even with x64)."""
    return to_inexact_dtype(dt)


def _real(dt):
    return np.dtype({np.dtype(np.complex64): np.float32,
                     np.dtype(np.complex128): np.float64}.get(np.dtype(dt), dt))


# ---- monoid reductions --------------------------------------------------------------------------
_REDUCERS = {"add": lax.reduce_sum, "mul": lax.reduce_prod, "max": lax.reduce_max,
             "min": lax.reduce_min, "and": lax.reduce_and, "or": lax.reduce_or}
_COMBINE = {"add": lax.add, "mul": lax.mul, "max": lax.max, "min": lax.min,
            "and": lax.bitwise_and, "or": lax.bitwise_or}


def _identity(op: str, dt):
    from jaxel.lax.reductions import identity_value
    return identity_value(op, dt)


def _reduction(fun: str, op: str, a, axis, dtype, out, keepdims, initial, where,
               promote_integers=False, has_identity=True):
    """The shared body of sum/prod/max/min/all/any.

    ``op`` is the monoid; the result dtype is ``dtype`` if given, else ``a``'s (promoted for
    sum/prod when ``promote_integers``). Bool results of sum/prod are OR/AND; 16-bit floats
    accumulate in float32.
    """
    _check_out(fun, out)
    a = _asarray(fun, a)
    shape = aval_of(a).shape
    axes = _axes(fun, axis, len(shape))
    in_dt = aval_of(a).dtype
    if dtype is not None:
        out_dt = _user_dtype(fun, dtype)
    elif promote_integers:
        out_dt = _promote_integers(in_dt)
    else:
        out_dt = in_dt
    if op in ("add", "mul") and out_dt == np.bool_:
        op = "or" if op == "add" else "and"
    comp_dt = _upcast(out_dt) if op in ("add", "mul") else out_dt
    mask = _where_mask(fun, where, shape)
    if not has_identity and initial is None:
        if mask is not None:
            raise ValueError(f"reduction operation {fun} does not have an identity, so to use "
                             "a where mask one has to specify 'initial'")
        if builtins.any(shape[ax] == 0 for ax in axes):
            raise ValueError(f"zero-size array to reduction operation {fun} which has no "
                             "identity")
    x = _masked(_convert(a, comp_dt), mask, _identity(op, comp_dt))
    result = _REDUCERS[op](x, axes)
    if initial is not None:
        result = _COMBINE[op](result, _initial_value(fun, initial, comp_dt))
    result = _convert(result, out_dt)
    return _keepdims(result, axes, keepdims)


def _initial_value(fun: str, initial, dt):
    if type(initial) in (bool, int, float, complex):
        return literal(np.asarray(initial).astype(dt)[()], np.dtype(dt), False)
    initial = _asarray(fun, initial)
    if aval_of(initial).shape != ():
        raise ValueError(f"jnp.{fun}: initial value must be a scalar. Got array of shape "
                         f"{aval_of(initial).shape}")
    return _convert(initial, dt)


def sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None,  # noqa: A001
        promote_integers=True):
    """Sum of array elements over the given axes.

    Args:
      a: the array.
      axis: None (all axes), an int or a tuple of ints.
      dtype: the result (and accumulation) dtype; by default ``a``'s, with bools and narrow
        integers widened to the default integer when ``promote_integers``.
      out: unsupported; must be None.
      keepdims: keep reduced axes as size-1 dimensions.
      initial: a scalar added to the sum.
      where: boolean mask broadcast to ``a``; only elements where it is True are summed.
      promote_integers: widen narrow integer inputs (see ``dtype``).

    Returns:
      The sums (0 for empty reductions).

    Example::

        >>> jnp.sum(jnp.array([[1, 2], [3, 4]]), axis=0)
        Array([4, 6], dtype=int32)
    """
    return _reduction("sum", "add", a, axis, dtype, out, keepdims, initial, where,
                      promote_integers)


def prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None,
         promote_integers=True):
    """Product of array elements over the given axes.

    Args: as ``jnp.sum`` (``initial`` multiplies the product).

    Returns:
      The products (1 for empty reductions).

    Example::

        >>> jnp.prod(jnp.array([1.0, 2.0, 3.0]))
        Array(6., dtype=float32)
    """
    return _reduction("prod", "mul", a, axis, dtype, out, keepdims, initial, where,
                      promote_integers)


def max(a, axis=None, out=None, keepdims=False, initial=None, where=None):  # noqa: A001
    """Maximum of array elements over the given axes (NaN propagates).

    Args:
      a: the array.
      axis: None (all axes), an int or a tuple of ints.
      out: unsupported; must be None.
      keepdims: keep reduced axes as size-1 dimensions.
      initial: a scalar lower bound of the result; required for empty reductions and with
        ``where``.
      where: boolean mask; only elements where it is True take part.

    Returns:
      The maxima, of ``a``'s dtype.

    Example::

        >>> jnp.max(jnp.array([[1, 5], [3, 2]]), axis=1)
        Array([5, 3], dtype=int32)
    """
    return _reduction("max", "max", a, axis, None, out, keepdims, initial, where,
                      has_identity=False)


def min(a, axis=None, out=None, keepdims=False, initial=None, where=None):  # noqa: A001
    """Minimum of array elements over the given axes (NaN propagates).

    Args: as ``jnp.max`` (``initial`` is an upper bound).

    Returns:
      The minima, of ``a``'s dtype.

    Example::

        >>> jnp.min(jnp.array([[1, 5], [3, 2]]), axis=1)
        Array([1, 2], dtype=int32)
    """
    return _reduction("min", "min", a, axis, None, out, keepdims, initial, where,
                      has_identity=False)


amax = max
amin = min


def all(a, axis=None, out=None, keepdims=False, *, where=None):  # noqa: A001
    """True where every element over the given axes is nonzero.

    Args:
      a: the array (any dtype; nonzero counts as True).
      axis: None (all axes), an int or a tuple of ints.
      out: unsupported; must be None.
      keepdims: keep reduced axes as size-1 dimensions.
      where: boolean mask; masked-out elements count as True.

    Returns:
      A bool array (True for empty reductions).

    Example::

        >>> jnp.all(jnp.array([1, 0, 2]))
        Array(False, dtype=bool)
    """
    return _reduction("all", "and", a, axis, np.bool_, out, keepdims, None, where)


def any(a, axis=None, out=None, keepdims=False, *, where=None):  # noqa: A001
    """True where some element over the given axes is nonzero.

    Args: as ``jnp.all`` (masked-out elements count as False).

    Returns:
      A bool array (False for empty reductions).

    Example::

        >>> jnp.any(jnp.array([0, 0, 2]))
        Array(True, dtype=bool)
    """
    return _reduction("any", "or", a, axis, np.bool_, out, keepdims, None, where)


def count_nonzero(a, axis=None, keepdims=False):
    """Number of nonzero elements over the given axes.

    Args:
      a: the array.
      axis: None (all axes), an int or a tuple of ints.
      keepdims: keep reduced axes as size-1 dimensions.

    Returns:
      Counts of the default integer dtype.

    Example::

        >>> jnp.count_nonzero(jnp.array([0, 3, 0, 1]))
        Array(2, dtype=int32)
    """
    a = _asarray("count_nonzero", a)
    if _dtypes.is_complex(a.dtype):  # lax's complex-to-bool conversion drops the imaginary part
        nz = lax.ne(a, lax.full_like(a, 0))
    else:
        nz = _convert(a, np.dtype(np.bool_))  # conversion to bool is x != 0
    return sum(nz, axis, _dtypes.default_int_dtype(), keepdims=keepdims)


def ptp(a, axis=None, out=None, keepdims=False):
    """Range (maximum minus minimum) over the given axes.

    Args:
      a: a numeric array.
      axis: None (all axes), an int or a tuple of ints.
      out: unsupported; must be None.
      keepdims: keep reduced axes as size-1 dimensions.

    Returns:
      ``max(a) - min(a)``, of ``a``'s dtype.

    Example::

        >>> jnp.ptp(jnp.array([4, 9, 2]))
        Array(7, dtype=int32)
    """
    _check_out("ptp", out)
    a = _asarray("ptp", a)
    if aval_of(a).dtype == np.bool_:
        raise TypeError("jnp.ptp does not accept bool arrays (subtracting booleans is not "
                        "defined); convert with a.astype(int) first.")
    return lax.sub(max(a, axis, keepdims=keepdims), min(a, axis, keepdims=keepdims))


# ---- statistics ---------------------------------------------------------------------------------
def _count(shape, axes, mask, dt):
    """Number of elements taking part in a reduction: static, or the mask's sum."""
    if mask is None:
        return math.prod(shape[ax] for ax in axes)
    return lax.reduce_sum(_convert(mask, dt), axes)


def mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=None):
    """Arithmetic mean over the given axes.

    Args:
      a: the array.
      axis: None (all axes), an int or a tuple of ints.
      dtype: the result dtype; by default ``a``'s if inexact, else the default float.
      out: unsupported; must be None.
      keepdims: keep reduced axes as size-1 dimensions.
      where: boolean mask; only elements where it is True are averaged.

    Returns:
      The means (NaN for empty reductions).

    Example::

        >>> jnp.mean(jnp.array([1, 2, 3, 4]))
        Array(2.5, dtype=float32)
    """
    _check_out("mean", out)
    a = _asarray("mean", a)
    shape = aval_of(a).shape
    axes = _axes("mean", axis, len(shape))
    out_dt = _user_dtype("mean", dtype) or _inexact(aval_of(a).dtype)
    comp_dt = _upcast(out_dt)
    mask = _where_mask("mean", where, shape)
    total = lax.reduce_sum(_masked(_convert(a, comp_dt), mask, 0), axes)
    n = _count(shape, axes, mask, comp_dt)
    result = lax.div(total, n if mask is not None else _python_scalar(n, comp_dt))
    return _keepdims(_convert(result, out_dt), axes, keepdims)


def _python_scalar(n: int, dt):
    """A Python number for a static count, of the kind ``dt`` needs (so lax adopts ``dt``)."""
    if _dtypes.is_complex(dt):
        return complex(n)
    if _dtypes.is_inexact(dt):
        return float(n)
    return int(n)


def _var_comp(fun, a, axis, dtype, out, ddof, keepdims, where, mean_, correction):
    """Variance in the accumulation dtype; returns ``(var, result_dtype, axes)``."""
    _check_out(fun, out)
    if correction is not None:
        if ddof != 0:
            raise ValueError("ddof and correction can't be provided simultaneously.")
        ddof = correction
    a = _asarray(fun, a)
    shape = aval_of(a).shape
    axes = _axes(fun, axis, len(shape))
    in_dt = aval_of(a).dtype
    user_dt = _user_dtype(fun, dtype)
    if user_dt is not None and not _dtypes.is_inexact(user_dt):
        # As JAX: std refuses an exact dtype; var computes in the default float instead.
        if fun == "std" or user_dt == np.bool_:
            raise ValueError(f"dtype argument to jnp.{fun} must be inexact; got {user_dt}")
        user_dt = _dtypes.default_float_dtype()
    out_dt = user_dt or _real(_inexact(in_dt))
    comp_dt = _upcast(_inexact(in_dt))
    mask = _where_mask(fun, where, shape)
    x = _convert(a, comp_dt)
    if mean_ is None:
        kept = tuple(i for i in range(len(shape)) if i not in axes)
        centre = lax.broadcast_in_dim(mean(x, axes, where=mask), shape, kept)
    else:
        centre = _convert(_asarray(fun, mean_), comp_dt)
        if aval_of(centre).ndim != len(shape) and aval_of(centre).shape != ():
            centre = lax.expand_dims(centre, axes)
        centre = broadcast_to_shape(centre, shape)
    d = lax.sub(x, centre)
    if _dtypes.is_complex(comp_dt):
        sq = lax.add(lax.square(lax.real(d)), lax.square(lax.imag(d)))
    else:
        sq = lax.square(d)
    real_dt = _real(comp_dt)
    total = lax.reduce_sum(_masked(sq, mask, 0), axes)
    n = _count(shape, axes, mask, real_dt)
    if mask is None:
        dof = n - ddof
        var_ = lax.div(total, float(dof) if dof > 0 else float("nan"))
    else:
        dof = lax.sub(n, _python_scalar(ddof, real_dt))
        positive = lax.gt(dof, _python_scalar(0, real_dt))
        var_ = lax.select(positive, lax.div(total, dof),
                          _full(np.nan, real_dt, aval_of(total).shape))
    return var_, out_dt, axes


def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None, mean=None,
        correction=None):
    """Variance over the given axes: ``sum(|x - mean(x)|**2) / (N - ddof)``.

    Args:
      a: the array.
      axis: None (all axes), an int or a tuple of ints.
      dtype: the result dtype; by default the real dtype of ``a`` if inexact, else the
        default float.
      out: unsupported; must be None.
      ddof: "delta degrees of freedom" subtracted from the element count.
      keepdims: keep reduced axes as size-1 dimensions.
      where: boolean mask; only elements where it is True take part.
      mean: a precomputed mean (shaped as with ``keepdims=True``), to avoid recomputing it.
      correction: Array API name for ``ddof`` (give one or the other).

    Returns:
      The variances (NaN where ``N - ddof <= 0``).

    Example::

        >>> jnp.var(jnp.array([1.0, 2.0, 3.0, 4.0]))
        Array(1.25, dtype=float32)
    """
    v, out_dt, axes = _var_comp("var", a, axis, dtype, out, ddof, keepdims, where, mean,
                                correction)
    return _keepdims(_convert(v, out_dt), axes, keepdims)


def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None, mean=None,
        correction=None):
    """Standard deviation over the given axes: the square root of ``jnp.var``.

    Args: as ``jnp.var``.

    Returns:
      The standard deviations.

    Example::

        >>> jnp.std(jnp.array([1.0, 3.0]))
        Array(1., dtype=float32)
    """
    v, out_dt, axes = _var_comp("std", a, axis, dtype, out, ddof, keepdims, where, mean,
                                correction)
    return _keepdims(_convert(lax.sqrt(v), out_dt), axes, keepdims)


def average(a, axis=None, weights=None, returned=False, keepdims=False):
    """Weighted average over the given axes.

    Args:
      a: the array.
      axis: None (all axes), an int or a tuple of ints.
      weights: None (plain mean), an array of ``a``'s shape, or, with ``axis``, an array of
        the shape of ``a`` along ``axis``.
      returned: also return the sum of the weights.
      keepdims: keep reduced axes as size-1 dimensions.

    Returns:
      The averages, or ``(averages, sum_of_weights)`` when ``returned``.

    Example::

        >>> jnp.average(jnp.array([1.0, 2.0, 4.0]), weights=jnp.array([1.0, 1.0, 2.0]))
        Array(2.75, dtype=float32)
    """
    a = _asarray("average", a)
    shape = aval_of(a).shape
    axes = _axes("average", axis, len(shape))
    if weights is None:
        avg = mean(a, axis, keepdims=keepdims)
        dt = aval_of(avg).dtype
        scl = _full(math.prod(shape[ax] for ax in axes), dt, aval_of(avg).shape)
    else:
        weights = _asarray("average", weights)
        a, weights = promote_dtypes_inexact(a, weights)
        wshape = aval_of(weights).shape
        if wshape != shape:
            if axis is None:
                raise ValueError("Axis must be specified when shapes of a and weights differ.")
            if wshape != tuple(shape[ax] for ax in axes):
                raise ValueError("Shape of weights must be consistent with shape of a along "
                                 f"specified axis: weights shape {wshape}, a shape {shape}, "
                                 f"axis {axis}.")
            order = sorted(range(len(axes)), key=lambda i: axes[i])
            if order != list(range(len(axes))):
                weights = lax.transpose(weights, order)
            weights = lax.broadcast_in_dim(weights, shape, tuple(sorted(axes)))
        dt = aval_of(a).dtype
        comp = _upcast(dt)
        w = _convert(weights, comp)
        scl = lax.reduce_sum(w, axes)
        avg = lax.div(lax.reduce_sum(lax.mul(_convert(a, comp), w), axes), scl)
        avg = _keepdims(_convert(avg, dt), axes, keepdims)
        scl = _keepdims(_convert(scl, dt), axes, keepdims)
    return (avg, scl) if returned else avg


# ---- NaN-ignoring variants ---------------------------------------------------------------------
def _nan_to(a, value):
    """``a`` with NaNs replaced by ``value`` (integers and bools have none)."""
    dt = aval_of(a).dtype
    if not _dtypes.is_inexact(dt):
        return a
    return lax.select(_isnan(a), _full(value, dt, aval_of(a).shape), a)


def nansum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    """``jnp.sum`` treating NaNs as zero.

    Args: as ``jnp.sum``.

    Returns:
      The sums of the non-NaN elements.

    Example::

        >>> jnp.nansum(jnp.array([1.0, jnp.nan, 2.0]))
        Array(3., dtype=float32)
    """
    a = _asarray("nansum", a)
    return sum(_nan_to(a, 0), axis, dtype, out, keepdims, initial, where)


def nanprod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    """``jnp.prod`` treating NaNs as one.

    Args: as ``jnp.prod``.

    Returns:
      The products of the non-NaN elements.

    Example::

        >>> jnp.nanprod(jnp.array([2.0, jnp.nan, 3.0]))
        Array(6., dtype=float32)
    """
    a = _asarray("nanprod", a)
    return prod(_nan_to(a, 1), axis, dtype, out, keepdims, initial, where)


def _nan_extreme(fun, op, a, axis, out, keepdims, initial, where):
    _check_out(fun, out)
    a = _asarray(fun, a)
    dt = aval_of(a).dtype
    reducer = max if op == "max" else min
    if not _dtypes.is_inexact(dt):
        return reducer(a, axis, None, keepdims, initial, where)
    fill = -np.inf if op == "max" else np.inf
    result = reducer(_nan_to(a, fill), axis, None, keepdims, initial, where)
    if initial is None:  # an all-NaN slice gives NaN (with an initial value, the initial)
        mask = _where_mask(fun, where, aval_of(a).shape)
        nan = _isnan(a) if mask is None else lax.bitwise_and(_isnan(a), mask)
        all_nan = all(nan, axis, keepdims=keepdims)
        result = lax.select(all_nan, _full(np.nan, dt, aval_of(result).shape), result)
    return result


def nanmax(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    """``jnp.max`` ignoring NaNs (NaN only where a slice is all NaN and no ``initial``).

    Args: as ``jnp.max``.

    Returns:
      The maxima of the non-NaN elements.

    Example::

        >>> jnp.nanmax(jnp.array([1.0, jnp.nan, 3.0]))
        Array(3., dtype=float32)
    """
    return _nan_extreme("nanmax", "max", a, axis, out, keepdims, initial, where)


def nanmin(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    """``jnp.min`` ignoring NaNs (NaN only where a slice is all NaN and no ``initial``).

    Args: as ``jnp.min``.

    Returns:
      The minima of the non-NaN elements.

    Example::

        >>> jnp.nanmin(jnp.array([1.0, jnp.nan, 3.0]))
        Array(1., dtype=float32)
    """
    return _nan_extreme("nanmin", "min", a, axis, out, keepdims, initial, where)


def _not_nan_mask(fun, a, where):
    mask = _where_mask(fun, where, aval_of(a).shape)
    if not _dtypes.is_inexact(aval_of(a).dtype):
        return mask
    ok = lax.bitwise_not(_isnan(a))
    return ok if mask is None else lax.bitwise_and(ok, mask)


def nanmean(a, axis=None, dtype=None, out=None, keepdims=False, where=None):
    """``jnp.mean`` ignoring NaNs (NaN where a slice is all NaN).

    Args: as ``jnp.mean``.

    Returns:
      The means of the non-NaN elements.

    Example::

        >>> jnp.nanmean(jnp.array([1.0, jnp.nan, 3.0]))
        Array(2., dtype=float32)
    """
    a = _asarray("nanmean", a)
    return mean(a, axis, dtype, out, keepdims, where=_not_nan_mask("nanmean", a, where))


def nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None, *,
           mean=None, correction=None):
    """``jnp.var`` ignoring NaNs.

    Args: as ``jnp.var``.

    Returns:
      The variances of the non-NaN elements.

    Example::

        >>> jnp.nanvar(jnp.array([1.0, jnp.nan, 3.0]))
        Array(1., dtype=float32)
    """
    a = _asarray("nanvar", a)
    return var(a, axis, dtype, out, ddof, keepdims, where=_not_nan_mask("nanvar", a, where),
               mean=mean, correction=correction)


def nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None, *,
           mean=None, correction=None):
    """``jnp.std`` ignoring NaNs.

    Args: as ``jnp.std``.

    Returns:
      The standard deviations of the non-NaN elements.

    Example::

        >>> jnp.nanstd(jnp.array([1.0, jnp.nan, 3.0]))
        Array(1., dtype=float32)
    """
    a = _asarray("nanstd", a)
    return std(a, axis, dtype, out, ddof, keepdims, where=_not_nan_mask("nanstd", a, where),
               mean=mean, correction=correction)


# ---- argmax / argmin ----------------------------------------------------------------------------
def _flatten(x):
    return lax.reshape(x, (aval_of(x).size,))


def _arg_extreme(fun, prim_fn, a, axis, out, keepdims):
    _check_out(fun, out)
    a = _asarray(fun, a)
    shape = aval_of(a).shape
    if axis is None:
        x, ax = _flatten(a), 0
    else:
        x, ax = a, _axes(fun, operator.index(axis), len(shape))[0]
    if aval_of(x).shape[ax] == 0:
        raise ValueError(f"attempt to get {fun} of an empty sequence")
    idx = prim_fn(x, ax, _dtypes.default_int_dtype())
    if keepdims:
        idx = lax.reshape(idx, (1,) * len(shape)) if axis is None else lax.expand_dims(idx, (ax,))
    return idx


def argmax(a, axis=None, out=None, keepdims=None):
    """Index of the maximum along ``axis`` (of the flattened array when None).

    Ties return the first occurrence; NaN counts as the maximum.

    Args:
      a: a bool, integer or floating array.
      axis: the axis, or None to search the flattened array.
      out: unsupported; must be None.
      keepdims: keep the reduced axis as size 1.

    Returns:
      Indices of the default integer dtype.

    Example::

        >>> jnp.argmax(jnp.array([1, 7, 7]))
        Array(1, dtype=int32)
    """
    return _arg_extreme("argmax", lax.argmax, a, axis, out, keepdims)


def argmin(a, axis=None, out=None, keepdims=None):
    """Index of the minimum along ``axis`` (of the flattened array when None).

    Args: as ``jnp.argmax``.

    Returns:
      Indices of the default integer dtype.

    Example::

        >>> jnp.argmin(jnp.array([4, 1, 1]))
        Array(1, dtype=int32)
    """
    return _arg_extreme("argmin", lax.argmin, a, axis, out, keepdims)


def _nan_arg(fun, prim_fn, fill, a, axis, out, keepdims):
    a = _asarray(fun, a)
    if not _dtypes.is_inexact(aval_of(a).dtype):
        return _arg_extreme(fun, prim_fn, a, axis, out, keepdims)
    idx = _arg_extreme(fun, prim_fn, _nan_to(a, fill), axis, out, keepdims)
    all_nan = all(_isnan(a), axis, keepdims=bool(keepdims))
    return lax.select(all_nan, _full(-1, aval_of(idx).dtype, aval_of(idx).shape), idx)


def nanargmax(a, axis=None, out=None, keepdims=None):
    """``jnp.argmax`` ignoring NaNs; -1 where a slice is all NaN.

    Args: as ``jnp.argmax``.

    Returns:
      Indices of the default integer dtype.

    Example::

        >>> jnp.nanargmax(jnp.array([1.0, jnp.nan, 3.0]))
        Array(2, dtype=int32)
    """
    return _nan_arg("nanargmax", lax.argmax, -np.inf, a, axis, out, keepdims)


def nanargmin(a, axis=None, out=None, keepdims=None):
    """``jnp.argmin`` ignoring NaNs; -1 where a slice is all NaN.

    Args: as ``jnp.argmin``.

    Returns:
      Indices of the default integer dtype.

    Example::

        >>> jnp.nanargmin(jnp.array([1.0, jnp.nan, 3.0]))
        Array(0, dtype=int32)
    """
    return _nan_arg("nanargmin", lax.argmin, np.inf, a, axis, out, keepdims)


# ---- cumulative ---------------------------------------------------------------------------------
def _cumulative(fun, prim_fn, a, axis, dtype, out, promote_integers=False):
    _check_out(fun, out)
    a = _asarray(fun, a)
    if axis is None:
        a, ax = _flatten(a), 0
    else:
        ax = _axes(fun, operator.index(axis), aval_of(a).ndim)[0]
    in_dt = aval_of(a).dtype
    out_dt = _user_dtype(fun, dtype)
    if out_dt is None:
        out_dt = _promote_integers(in_dt) if promote_integers else (
            _dtypes.default_int_dtype() if in_dt == np.bool_ else in_dt)
    if out_dt == np.bool_:  # OR/AND-accumulate, computed on 0/1 integers
        return _convert(prim_fn(_convert(a, np.dtype(np.int32)), ax), out_dt)
    return prim_fn(_convert(a, out_dt), ax)


def cumsum(a, axis=None, dtype=None, out=None):
    """Cumulative sum along ``axis`` (of the flattened array when None).

    Args:
      a: the array.
      axis: the axis, or None to accumulate the flattened array.
      dtype: the result dtype; by default ``a``'s (bools become the default integer).
      out: unsupported; must be None.

    Returns:
      The running sums.

    Example::

        >>> jnp.cumsum(jnp.array([1, 2, 3]))
        Array([1, 3, 6], dtype=int32)
    """
    return _cumulative("cumsum", lax.cumsum, a, axis, dtype, out)


def cumprod(a, axis=None, dtype=None, out=None):
    """Cumulative product along ``axis`` (of the flattened array when None).

    Args: as ``jnp.cumsum``.

    Returns:
      The running products.

    Example::

        >>> jnp.cumprod(jnp.array([1, 2, 3]))
        Array([1, 2, 6], dtype=int32)
    """
    return _cumulative("cumprod", lax.cumprod, a, axis, dtype, out)


def nancumsum(a, axis=None, dtype=None, out=None):
    """``jnp.cumsum`` treating NaNs as zero.

    Args: as ``jnp.cumsum``.

    Returns:
      The running sums of the non-NaN elements.

    Example::

        >>> jnp.nancumsum(jnp.array([1.0, jnp.nan, 2.0]))
        Array([1., 1., 3.], dtype=float32)
    """
    a = _asarray("nancumsum", a)
    return cumsum(_nan_to(a, 0), axis, dtype, out)


def nancumprod(a, axis=None, dtype=None, out=None):
    """``jnp.cumprod`` treating NaNs as one.

    Args: as ``jnp.cumprod``.

    Returns:
      The running products of the non-NaN elements.

    Example::

        >>> jnp.nancumprod(jnp.array([2.0, jnp.nan, 3.0]))
        Array([2., 2., 6.], dtype=float32)
    """
    a = _asarray("nancumprod", a)
    return cumprod(_nan_to(a, 1), axis, dtype, out)


def _array_api_cumulative(fun, prim_fn, identity, x, axis, dtype, include_initial,
                          promote_integers=True):
    x = _asarray(fun, x)
    ndim = aval_of(x).ndim
    if ndim == 0:
        raise ValueError(f"jnp.{fun}: the input must be non-scalar to take a cumulative "
                         "reduction, but a scalar was given.")
    if axis is None:
        if ndim != 1:
            raise ValueError(f"jnp.{fun}: the input array has rank {ndim}, but axis was not "
                             "set; axis is optional only for one-dimensional arrays.")
        axis = 0
    ax = _axes(fun, axis, ndim)[0]
    result = _cumulative(fun, prim_fn, x, ax, dtype, None, promote_integers=promote_integers)
    if include_initial:
        cfg = [(0, 0, 0)] * ndim
        cfg[ax] = (1, 0, 0)
        rdt = aval_of(result).dtype
        result = lax.pad(result, literal(np.asarray(identity, rdt)[()], rdt, False), cfg)
    return result


def cumulative_sum(x, /, *, axis=None, dtype=None, include_initial=False):
    """Cumulative sum (Array API): like ``cumsum``, but narrow integers widen as in ``sum``
    and ``axis`` is required for arrays of rank > 1.

    Args:
      x: an array of rank >= 1.
      axis: the axis (optional for 1-D input).
      dtype: the result dtype.
      include_initial: start the result with a 0 (the axis grows by one).

    Returns:
      The running sums.

    Example::

        >>> jnp.cumulative_sum(jnp.array([1, 2, 3]), include_initial=True)
        Array([0, 1, 3, 6], dtype=int32)
    """
    return _array_api_cumulative("cumulative_sum", lax.cumsum, 0, x, axis, dtype,
                                 include_initial)


def cumulative_prod(x, /, *, axis=None, dtype=None, include_initial=False):
    """Cumulative product (Array API); see ``cumulative_sum`` (the initial value is 1;
    narrow integers widen as in ``prod``).

    Args: as ``jnp.cumulative_sum``.

    Returns:
      The running products.

    Example::

        >>> jnp.cumulative_prod(jnp.array([1, 2, 3]))
        Array([1, 2, 6], dtype=int32)
    """
    # Narrow integers widen as in prod and cumulative_sum, as the Array API standard asks; a
    # deliberate difference: JAX's cumulative_prod keeps them (int8 stays int8).
    return _array_api_cumulative("cumulative_prod", lax.cumprod, 1, x, axis, dtype,
                                 include_initial)


# ---- sorting ------------------------------------------------------------------------------------
def _sort_args(fun, a, axis, kind, order):
    if kind is not None:
        raise TypeError(f"'kind' argument to {fun} is not supported. Use stable=True or "
                        "stable=False to specify sort stability.")
    if order is not None:
        raise TypeError(f"'order' argument to {fun} is not supported.")
    a = _asarray(fun, a)
    if axis is None:
        return _flatten(a), 0
    return a, _axes(fun, operator.index(axis), aval_of(a).ndim)[0]


def sort(a, axis=-1, *, kind=None, order=None, stable=True, descending=False):
    """Sorted copy of ``a`` along ``axis`` (of the flattened array when None).

    NaNs sort to the end (to the front when ``descending``).

    Args:
      a: the array.
      axis: the axis, or None to sort the flattened array.
      kind, order: unsupported; must be None.
      stable: keep equal elements in their original order.
      descending: sort from largest to smallest.

    Returns:
      The sorted array.

    Example::

        >>> jnp.sort(jnp.array([3, 1, 2]), descending=True)
        Array([3, 2, 1], dtype=int32)
    """
    x, ax = _sort_args("sort", a, axis, kind, order)
    if descending:
        return lax.rev(lax.sort(lax.rev(x, (ax,)), ax, is_stable=stable), (ax,))
    return lax.sort(x, ax, is_stable=stable)


def argsort(a, axis=-1, *, kind=None, order=None, stable=True, descending=False, dtype=None):
    """Indices that sort ``a`` along ``axis`` (of the flattened array when None).

    Args:
      a: the array.
      axis: the axis, or None to sort the flattened array.
      kind, order: unsupported; must be None.
      stable: equal elements keep their original order (also when ``descending``).
      descending: largest first.
      dtype: the index dtype (default: the default integer).

    Returns:
      Indices such that ``take_along_axis(a, indices, axis)`` is sorted.

    Example::

        >>> jnp.argsort(jnp.array([3, 1, 2]))
        Array([1, 2, 0], dtype=int32)
    """
    x, ax = _sort_args("argsort", a, axis, kind, order)
    it = _user_dtype("argsort", dtype) or _dtypes.default_int_dtype()
    shape = aval_of(x).shape
    iota = lax.broadcasted_iota(it, shape, ax)
    if not descending:
        return lax.sort((x, iota), ax, is_stable=stable, num_keys=1)[1]
    # Stable descending: sort the reversed array ascending and reverse back; equal elements
    # then come out in their original order. Positions in the reversed array map back as
    # n - 1 - p.
    _, pos = lax.sort((lax.rev(x, (ax,)), iota), ax, is_stable=stable, num_keys=1)
    n = shape[ax]
    return lax.rev(lax.sub(_full(n - 1, it, shape), pos), (ax,))


def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """Median along the given axes (NaN if a slice contains NaN).

    Args:
      a: a real array.
      axis: None (all axes), an int or a tuple of ints.
      out: unsupported; must be None.
      overwrite_input: ignored (jaxel arrays are immutable).
      keepdims: keep reduced axes as size-1 dimensions.

    Returns:
      The medians (mean of the two middle values for even counts), of ``a``'s dtype if
      inexact, else the default float.

    Example::

        >>> jnp.median(jnp.array([3.0, 1.0, 4.0, 2.0]))
        Array(2.5, dtype=float32)
    """
    _check_out("median", out)
    a = _asarray("median", a)
    shape = aval_of(a).shape
    if _dtypes.is_complex(aval_of(a).dtype):
        raise ValueError("jnp.median does not support complex input: complex numbers have no "
                         "natural order.")
    axes = _axes("median", axis, len(shape))
    (a,) = promote_dtypes_inexact(a)
    dt = aval_of(a).dtype
    # Move the reduced axes to the end and merge them into one.
    keep = [i for i in range(len(shape)) if i not in axes]
    x = lax.transpose(a, tuple(keep) + tuple(sorted(axes)))
    kept_shape = tuple(shape[i] for i in keep)
    n = math.prod(shape[i] for i in axes)
    x = lax.reshape(x, kept_shape + (n,))
    last = len(kept_shape)
    if n == 0:
        result = _full(np.nan, dt, kept_shape)
    else:
        s = lax.sort(x, last)
        hi = lax.index_in_dim(s, n // 2, last, keepdims=False)
        if n % 2:
            result = hi
        else:
            lo = lax.index_in_dim(s, n // 2 - 1, last, keepdims=False)
            result = lax.mul(lax.add(lo, hi), 0.5)
        has_nan = lax.reduce_or(_isnan(x), (last,))
        result = lax.select(has_nan, _full(np.nan, dt, kept_shape), result)
    return _keepdims(result, axes, keepdims)


__all__ = ["sum", "prod", "max", "min", "amax", "amin", "all", "any", "count_nonzero", "ptp",
           "mean", "var", "std", "average", "nansum", "nanprod", "nanmax", "nanmin", "nanmean",
           "nanvar", "nanstd", "argmax", "argmin", "nanargmax", "nanargmin", "cumsum", "cumprod",
           "nancumsum", "nancumprod", "cumulative_sum", "cumulative_prod", "sort", "argsort",
           "median"]
