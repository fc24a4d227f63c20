"""Small lax functions built from other lax operations: filled arrays, broadcasting helpers,
``collapse``, ``index_take``, ``shape_as_value`` and ``platform_dependent``.

None of these is a primitive (nor is it in JAX); each is a composition, so every
transformation rule comes from the primitives it uses.
"""
from __future__ import annotations

import enum
import math
import operator

import numpy as np

from jaxel import dtypes as _dtypes
from jaxel.lax._rules import aval_of
from jaxel.lax.shape_ops import broadcast_in_dim, reshape
from jaxel.tracing.core import literal


def dtype(x):
    """The dtype of an array-like or dtype-like ``x``; Python scalars give the default dtypes
    (float32 for ``1.0`` unless x64 is enabled).

    Example::

        >>> lax.dtype(1.0)
        dtype('float32')
    """
    return _dtypes.dtype(x, canonicalize=type(x) in (bool, int, float, complex))


_PLATFORMS = ("cpu",)


class RoundingMethod(enum.IntEnum):
    """How ``lax.round`` breaks ties: ``AWAY_FROM_ZERO`` (0.5 -> 1, -0.5 -> -1) or
    ``TO_NEAREST_EVEN`` (0.5 -> 0, 1.5 -> 2)."""
    AWAY_FROM_ZERO = 0
    TO_NEAREST_EVEN = 1  # the platform jaxel compiles for


def _shape(shape, what):
    if isinstance(shape, (int, np.integer)):
        return (operator.index(shape),)
    try:
        out = tuple(operator.index(d) for d in shape)
    except TypeError:
        raise TypeError(f"lax.{what}: shapes must be sequences of integers, "
                        f"got {shape!r}.") from None
    if any(d < 0 for d in out):
        raise TypeError(f"lax.{what}: shape {out} has a negative dimension.")
    return out


def _scalar_of(value, dt, weak):
    """``value`` (a scalar: Python, NumPy or array) as a rank-0 operand of dtype ``dt``."""
    from jaxel.lax.elementwise import convert_element_type_p
    if hasattr(value, "aval") or hasattr(value, "_trace"):
        a = aval_of(value)
        if a.dtype == dt and a.weak_type == weak:
            return value
        return convert_element_type_p.bind(value, new_dtype=dt, weak_type=weak, sharding=None)
    return literal(np.asarray(value).item() if np.ndim(value) == 0 else value, dt, weak)


def _filled(scalar, shape):
    """``scalar`` broadcast to ``shape``; rank 0 still gives an array (not a Literal)."""
    if shape:
        return broadcast_in_dim(scalar, shape, ())
    from jaxel.lax.elementwise import convert_element_type_p
    a = aval_of(scalar)
    return convert_element_type_p.bind(scalar, new_dtype=a.dtype, weak_type=a.weak_type,
                                       sharding=None)


def full(shape, fill_value, dtype=None, *, sharding=None):
    """An array of ``shape`` filled with the scalar ``fill_value``.

    Args:
      shape: sequence of dimension sizes (or one int).
      fill_value: a scalar; an array raises TypeError (use ``broadcast_in_dim`` for those).
      dtype: result dtype; by default ``fill_value``'s, weakly typed for Python scalars.
      sharding: accepted for compatibility; jaxel runs on one device.

    Example::

        >>> lax.full((2,), 1.0)
        Array([1., 1.], dtype=float32, weak_type=True)
    """
    shape = _shape(shape, "full")
    if np.shape(fill_value):
        raise TypeError("full must be called with scalar fill_value, got fill_value.shape "
                        f"{np.shape(fill_value)}.")
    if dtype is None:
        weak = _dtypes.is_weakly_typed(fill_value)
        dt = _dtypes.dtype(fill_value, canonicalize=True)
    else:
        weak = False
        dt = _dtypes.check_and_canonicalize_user_dtype(dtype, "full")
    return _filled(_scalar_of(fill_value, dt, weak), shape)


def full_like(x, fill_value, dtype=None, shape=None, sharding=None):
    """An array like ``x`` (its shape, dtype and weak type unless overridden) filled with the
    scalar ``fill_value``.

    Example::

        >>> lax.full_like(jnp.ones(2, jnp.int32), 7)
        Array([7, 7], dtype=int32)
    """
    a = aval_of(x)
    if dtype is None:
        dt, weak = a.dtype, _dtypes.is_weakly_typed(x)
    else:
        dt, weak = _dtypes.check_and_canonicalize_user_dtype(dtype, "full_like"), False
    shape = a.shape if shape is None else _shape(shape, "full_like")
    if np.shape(fill_value):
        raise TypeError("full must be called with scalar fill_value, got fill_value.shape "
                        f"{np.shape(fill_value)}.")
    return _filled(_scalar_of(fill_value, dt, weak), shape)


def empty(shape, dtype, *, out_sharding=None):
    """An array of ``shape`` and ``dtype`` whose values are unspecified.

    XLA has no uninitialised buffers on CPU, so jaxel (like JAX on CPU) returns zeros.
    """
    dt = _dtypes.check_and_canonicalize_user_dtype(dtype, "empty")
    return _filled(literal(0, dt, False), _shape(shape, "empty"))


def broadcast_to_rank(x, rank):
    """``x`` with leading dimensions of size 1 added to make its rank ``rank``.

    Example::

        >>> lax.broadcast_to_rank(jnp.ones(3), 2).shape
        (1, 3)
    """
    from jaxel.lax.shape_ops import broadcast
    ndim = np.ndim(x) if not hasattr(x, "aval") else x.aval.ndim
    if ndim == rank:
        from jaxel.numpy import asarray
        return asarray(x)
    return broadcast(x, (1,) * (rank - ndim))


def broadcast_like(arr, like_arr):
    """``arr`` broadcast (NumPy rules: aligned at the trailing dimensions) to the shape of
    ``like_arr``.

    Example::

        >>> lax.broadcast_like(jnp.array([1, 2]), jnp.zeros((3, 2))).shape
        (3, 2)
    """
    shape = aval_of(like_arr).shape
    a = aval_of(arr)
    if a.ndim > len(shape):
        raise ValueError("Cannot broadcast to shape with fewer dimensions: "
                         f"arr_shape={a.shape} shape={shape}")
    lead = len(shape) - a.ndim
    for i, d in enumerate(a.shape):
        if d not in (1, shape[lead + i]):
            raise ValueError(f"Incompatible shapes for broadcasting: {a.shape} and requested "
                             f"shape {shape}")
    # Size-1 dimensions that grow are dropped first: broadcast_in_dim maps dimensions exactly.
    keep = [i for i, d in enumerate(a.shape) if d == shape[lead + i]]
    if len(keep) != a.ndim:
        arr = reshape(arr, tuple(a.shape[i] for i in keep))
    return broadcast_in_dim(arr, shape, tuple(lead + i for i in keep))


def broadcast_shapes(*shapes):
    """The shape that NumPy broadcasting gives ``shapes`` (ValueError if incompatible).

    Example::

        >>> lax.broadcast_shapes((2, 1), (3,))
        (2, 3)
    """
    from jaxel.numpy._util import broadcast_shapes as _bs
    return _bs(*[tuple(operator.index(d) for d in s) for s in shapes])


def collapse(operand, start_dimension, stop_dimension=None):
    """Merge dimensions ``[start_dimension, stop_dimension)`` into one (row-major order).

    Example::

        >>> lax.collapse(jnp.zeros((2, 3, 4)), 0, 2).shape
        (6, 4)
    """
    shape = aval_of(operand).shape
    lo, hi, _ = slice(start_dimension, stop_dimension).indices(len(shape))
    if hi < lo:
        raise ValueError(f"Invalid dimension range passed to collapse: {shape}"
                         f"[{start_dimension}:{stop_dimension}]")
    return reshape(operand, shape[:lo] + (math.prod(shape[lo:hi]),) + shape[hi:])


def shape_as_value(shape):
    """A shape as an integer array (int32, or int64 when a dimension needs it)."""
    shape = tuple(operator.index(d) for d in shape)
    big = any(d > np.iinfo(np.int32).max for d in shape)
    if not shape:
        return full((0,), np.int32(0))
    return np.asarray(shape, np.int64 if big else np.int32).reshape(len(shape))


def index_take(src, idxs, axes):
    """Gather from ``src`` at the points ``(idxs[0][k], idxs[1][k], ...)`` along ``axes``
    (indices wrap modulo each axis length), keeping the other dimensions whole.

    Example::

        >>> lax.index_take(jnp.arange(6.).reshape(2, 3), [jnp.array([1]), jnp.array([2])],
        ...                (0, 1))
        Array([5.], dtype=float32)
    """
    from jaxel.lax.elementwise import add, lt, rem, select
    from jaxel.lax.shape_ops import concatenate, expand_dims
    from jaxel.lax.slicing import GatherDimensionNumbers, gather
    axes = tuple(operator.index(a) for a in axes)
    shape = aval_of(src).shape
    indices = concatenate([expand_dims(i, (1,)) for i in idxs], 1)
    ia = aval_of(indices)
    bound = np.array([shape[a] for a in axes], ia.dtype).reshape((1,) * (ia.ndim - 1) + (-1,))
    bound = broadcast_in_dim(bound, ia.shape, tuple(range(ia.ndim)))
    # Python's modulo (as JAX's ``%``): negative indices count from the end.
    r = rem(indices, bound)
    indices = select(lt(r, full_like(r, 0)), add(r, bound), r)
    sizes = list(shape)
    for a in axes:
        sizes[a] = 1
    dn = GatherDimensionNumbers(offset_dims=tuple(range(1, len(shape) - len(axes) + 1)),
                                collapsed_slice_dims=axes, start_index_map=axes)
    return gather(src, indices, dn, tuple(sizes))


def platform_dependent(*args, default=None, **per_platform):
    """``per_platform[platform](*args)`` for the platform jaxel compiles for (CPU), else
    ``default(*args)``.

    JAX stages every branch and picks one while lowering; jaxel knows its platform while
    tracing, so it calls only the chosen branch (same values, smaller programs).

    Example::

        >>> lax.platform_dependent(2.0, cpu=lambda x: x + 1, default=lambda x: x)
        3.0
    """
    for name, branch in per_platform.items():
        if not callable(branch):
            raise TypeError(f"lax.platform_dependent: the '{name}' branch must be a callable.")
        if name == "gpu":
            raise ValueError("Use 'cuda', 'rocm', or 'oneapi' for lax.platform_dependent.")
    if default is not None and not callable(default):
        raise TypeError("lax.platform_dependent: the 'default' branch must be a callable.")
    for p in _PLATFORMS:
        if p in per_platform:
            return per_platform[p](*args)
    if default is None:
        raise NotImplementedError(
            f"lax.platform_dependent has branches for {sorted(per_platform)} and no default, "
            f"but jaxel runs on {', '.join(_PLATFORMS)}.")
    return default(*args)


__all__ = ["RoundingMethod", "dtype", "full", "full_like", "empty", "broadcast_to_rank",
           "broadcast_like", "broadcast_shapes", "collapse", "shape_as_value", "index_take",
           "platform_dependent"]
