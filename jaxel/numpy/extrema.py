"""``minmax`` and ``top_k``: the extremes of an array, both ends at once or the k largest
(or smallest) along an axis."""
from __future__ import annotations

from jaxel import dtypes as _dtypes
from jaxel import lax
from jaxel.numpy._util import canonicalize_axis
from jaxel.numpy.reductions import _asarray, _reduction


def minmax(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    """The minimum and the maximum of ``a`` over ``axis``, as a pair (NaN propagates).

    Args:
      a: the array.
      axis: None (all axes), an int or a tuple of ints.
      out: unsupported; must be None.
      keepdims: keep reduced axes as size-1 dimensions.
      initial: a scalar bound for both results, or a pair ``(upper bound of the minimum,
        lower bound of the maximum)``; required for empty reductions and with ``where``.
      where: boolean mask; only elements where it is True take part.

    Returns:
      ``(a_min, a_max)``, of ``a``'s dtype.

    Example::

        >>> jnp.minmax(jnp.array([[2, 5, 1], [3, -7, 4]]), axis=1)
        (Array([ 1, -7], dtype=int32), Array([5, 4], dtype=int32))
    """
    init_min, init_max = initial if isinstance(initial, tuple) else (initial, initial)
    return (_reduction("minmax", "min", a, axis, None, out, keepdims, init_min, where,
                       has_identity=False),
            _reduction("minmax", "max", a, axis, None, out, keepdims, init_max, where,
                       has_identity=False))


def _reverse_order(x):
    """An order-reversing map that is its own inverse: NOT for integers and bools (exact over
    the whole range), negation for floats (NaN keeps ranking as NaN)."""
    if _dtypes.is_integer(x.dtype) or _dtypes.is_bool(x.dtype):
        return lax.bitwise_not(x)
    return lax.neg(x)


def top_k(a, k, /, *, axis=-1, mode="largest", sorted=True):  # noqa: A002
    """The ``k`` largest (or smallest) entries of ``a`` along ``axis``, with their indices.

    Ties keep index order; NaN ranks above every number (so it comes first for
    ``'largest'`` and last for ``'smallest'``).

    Args:
      a: a real or bool array of rank at least 1.
      k: how many entries (a static int, at most the size of ``axis``).
      axis: the axis searched (default the last).
      mode: ``'largest'`` (default) or ``'smallest'``.
      sorted: return the entries in order (always done; accepted for NumPy's signature).

    Returns:
      ``(values, indices)``: ``a``'s shape with ``axis`` of size ``k``; indices are int32.

    Example::

        >>> jnp.top_k(jnp.array([3, 1, 4, 1, 5]), 2, mode="smallest")
        (Array([1, 1], dtype=int32), Array([1, 3], dtype=int32))
    """
    a = _asarray("top_k", a)
    if _dtypes.is_complex(a.dtype):
        raise ValueError("jnp.top_k: complex inputs have no order; take the real part, the "
                         "absolute value or another real key first.")
    if mode not in ("largest", "smallest"):
        raise ValueError(f"jnp.top_k: mode must be 'largest' or 'smallest', got {mode!r}")
    if a.ndim == 0:
        raise ValueError("jnp.top_k: the input must have at least one dimension.")
    axis = canonicalize_axis(axis, a.ndim)
    if mode == "largest":
        return lax.top_k(a, k, axis=axis)
    values, indices = lax.top_k(_reverse_order(a), k, axis=axis)
    return _reverse_order(values), indices


__all__ = ["minmax", "top_k"]
