"""``jaxel.scipy.ndimage`` (JAX's ``jax.scipy.ndimage``): ``map_coordinates``, interpolation of
an n-d array at arbitrary (fractional) coordinates, with spline order 0 or 1.

The interpolated value is a weighted sum over the ``2 ** ndim`` neighbouring grid points (one
for order 0).  Each neighbour's integer index is first mapped into the array by the boundary
``mode``; all neighbours' values are then read with one gather, so the result is
differentiable with respect to both the input values and the coordinates (the order-1
weights are linear in the coordinates).
"""
from __future__ import annotations

from jaxel import numpy as jnp

__all__ = ["map_coordinates"]

_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")


def _round_half_away_from_zero(x):
    """Round to the nearest integer, ties away from zero (``trunc`` plus the exact fraction
    test avoids the float error of ``floor(x + 0.5)`` just below a half)."""
    t = jnp.trunc(x)
    return jnp.where(jnp.abs(x - t) >= 0.5, t + jnp.sign(x), t)


def _fix_index(index, size, mode):
    """Map integer ``index`` (any value) onto ``[0, size)`` as the boundary ``mode`` says,
    and return it with a validity mask (only ``constant`` mode has invalid points)."""
    if mode == "constant":
        valid = (index >= 0) & (index < size)
        return jnp.clip(index, 0, size - 1), valid
    if mode == "nearest":
        return jnp.clip(index, 0, size - 1), None
    if mode == "wrap":
        return jnp.mod(index, size), None
    if mode == "mirror":  # ... 2 1 | 0 1 2 ... n-1 | n-2 ...: period 2n - 2
        if size == 1:
            return jnp.zeros_like(index), None
        period = 2 * size - 2
        m = jnp.mod(index, period)
        return jnp.where(m < size, m, period - m), None
    # reflect: ... 1 0 | 0 1 ... n-1 | n-1 n-2 ...: period 2n
    period = 2 * size
    m = jnp.mod(index, period)
    return jnp.where(m < size, m, period - 1 - m), None


def _neighbours(coordinate, order):
    """The ``(index, weight)`` pairs of one coordinate array: the nearest point for order 0,
    the two bracketing points with linear weights for order 1."""
    if order == 0:
        return [(_round_half_away_from_zero(coordinate).astype(jnp.int32), None)]
    lower = jnp.floor(coordinate)
    upper_weight = coordinate - lower
    index = lower.astype(jnp.int32)
    return [(index, 1 - upper_weight), (index + 1, upper_weight)]


def map_coordinates(input, coordinates, order, mode="constant", cval=0.0):
    """Values of ``input`` interpolated at ``coordinates``, like
    ``scipy.ndimage.map_coordinates`` for ``order`` 0 or 1.

    Args:
      input: the n-d array to sample.
      coordinates: a sequence of ``input.ndim`` arrays (or an array whose leading axis has
        length ``input.ndim``), broadcast together; ``coordinates[i]`` indexes axis ``i``.
      order: 0 (nearest grid point, ties rounded away from zero) or 1 (multilinear).
        Higher orders raise ``NotImplementedError``.
      mode: how points beyond the edges are read: ``"constant"`` (a neighbour outside the
        array contributes ``cval``), ``"nearest"`` (edge value repeated), ``"wrap"``
        (periodic, period ``n``), ``"mirror"`` (reflected about the edge points, period
        ``2n - 2``) or ``"reflect"`` (reflected about the edges, period ``2n``).
      cval: the value outside the array in ``"constant"`` mode.

    Returns:
      An array of the coordinates' broadcast shape and ``input``'s dtype (integer inputs are
      rounded half away from zero).

    Example::

        >>> map_coordinates(jnp.array([0., 10., 20.]), [jnp.array([0.5, 1.25])], order=1)
        Array([ 5. , 12.5], dtype=float32)
    """
    input = jnp.asarray(input)
    if not isinstance(order, int) or isinstance(order, bool) or order < 0:
        raise ValueError(f"order must be a non-negative integer; got {order!r}")
    if order > 1:
        raise NotImplementedError(
            f"map_coordinates supports only order 0 and 1 (as jax.scipy.ndimage does); "
            f"got order={order}")
    if mode not in _MODES:
        raise NotImplementedError(f"map_coordinates does not support mode {mode!r}; the "
                                  f"supported modes are {_MODES}")
    coordinates = [jnp.asarray(c) for c in coordinates]
    if len(coordinates) != input.ndim:
        raise ValueError("coordinates must be a sequence of length input.ndim, but "
                         f"{len(coordinates)} != {input.ndim}")
    if input.ndim == 0:
        return input
    for c in coordinates:
        if jnp.issubdtype(c.dtype, jnp.complexfloating):
            raise TypeError("map_coordinates: coordinates must be real")
    coordinates = [c if jnp.issubdtype(c.dtype, jnp.floating) else c.astype(float)
                   for c in coordinates]
    coordinates = jnp.broadcast_arrays(*coordinates)
    cval = jnp.asarray(cval, input.dtype)

    # Every corner of the interpolation stencil at once: per axis, stack the neighbours'
    # (fixed) indices, masks and weights on a leading axis of their own, broadcast those
    # axes against each other, and read all corners with one gather from the flattened input.
    ndim, cshape = input.ndim, coordinates[0].shape
    flat_index, valid, weight = 0, None, None
    stride = 1
    for axis in reversed(range(ndim)):
        size = input.shape[axis]
        pieces = [(*_fix_index(i, size, mode), w)
                  for i, w in _neighbours(coordinates[axis], order)]
        stencil_shape = (1,) * axis + (len(pieces),) + (1,) * (ndim - axis - 1) + cshape

        def stack(k, pieces=pieces, stencil_shape=stencil_shape):
            return jnp.stack([p[k] for p in pieces]).reshape(stencil_shape)

        flat_index = flat_index + stack(0) * stride
        stride *= size
        if mode == "constant":
            valid = stack(1) if valid is None else valid & stack(1)
        if order == 1:
            weight = stack(2) if weight is None else weight * stack(2)
    corners = int(2 ** ndim) if order == 1 else 1
    flat_index = jnp.broadcast_to(flat_index, flat_index.shape[:ndim] + cshape)
    values = input.reshape(-1)[flat_index.reshape((corners,) + cshape)]
    if valid is not None:
        valid = jnp.broadcast_to(valid, flat_index.shape).reshape(values.shape)
        values = jnp.where(valid, values, cval)
    if weight is not None:
        values = values * jnp.broadcast_to(weight, flat_index.shape).reshape(values.shape)
    total = jnp.sum(values, axis=0)

    if jnp.issubdtype(input.dtype, jnp.integer):
        total = _round_half_away_from_zero(total)
    return total.astype(input.dtype)
