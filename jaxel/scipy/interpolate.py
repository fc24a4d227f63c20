"""``jaxel.scipy.interpolate`` (JAX's ``jax.scipy.interpolate``): ``RegularGridInterpolator``,
linear and nearest-neighbour interpolation on a rectilinear grid of any dimension.

For every query point and grid dimension the enclosing cell is found (by counting the
interior grid points below it for grids of up to 64 points, else with ``searchsorted``;
clipped to the first/last cell, which gives linear extrapolation outside the grid) and the
fractional position ``t`` inside it is computed.  The ``2 ** ndim`` corner values of all query
points are then read with one gather and combined with the products of the ``1 - t`` / ``t``
weights ("linear"), or the nearer corner is read ("nearest": ``t <= 1/2`` picks the lower
one, as SciPy).  Everything is a composition of ``jaxel.numpy`` operations, so the
interpolator works under ``jit``/``vmap`` and is differentiable with respect to the values,
the query points and the grid.

The interpolator is a pytree (children: the grid arrays, the values and the fill value;
static: ``method`` and ``bounds_error``), so it can be passed into and out of jitted functions.

Differences from SciPy (as in JAX): ``bounds_error=True`` raises ``NotImplementedError`` (a
data-dependent error cannot be raised under ``jit``) and only the methods "linear" and
"nearest" exist.  Unlike JAX, query points with a NaN coordinate give NaN for both methods
and grids may be strictly descending as well as ascending, as in SciPy.
"""
from __future__ import annotations

import numpy as np

from jaxel import numpy as jnp
from jaxel.errors import ConcretizationTypeError
from jaxel.runtime.array import Array
from jaxel.numpy._util import check_arraylike
from jaxel.tree_util import register_pytree_node_class

__all__ = ["RegularGridInterpolator"]

_METHODS = ("linear", "nearest")
_COMPARE_ALL_MAX = 64  # grids up to this size locate points by comparing with every point


def _check_method(method):
    if method not in _METHODS:
        raise ValueError(f"RegularGridInterpolator: method {method!r} is not defined; use one of "
                         f"{_METHODS}.")


def _inexact(dtype):
    return dtype if jnp.issubdtype(dtype, jnp.inexact) else jnp.result_type(dtype, float)


def _check_monotonic(dim, g):
    """ValueError if the concrete grid ``g`` is not strictly monotonic (skipped for tracers)."""
    if g.shape[0] < 2 or not isinstance(g, Array):  # nothing to check, or traced
        return
    step = jnp.diff(g)
    try:
        ok = bool(jnp.all(step > 0) | jnp.all(step < 0))
    except ConcretizationTypeError:
        return
    if not ok:
        raise ValueError(f"RegularGridInterpolator: the points in dimension {dim} must be "
                         "strictly ascending or descending.")


@register_pytree_node_class
class RegularGridInterpolator:
    """Interpolation on a regular (rectilinear) grid in any number of dimensions, like
    ``scipy.interpolate.RegularGridInterpolator``.

    Args:
      points: a sequence of ``ndim`` 1-D arrays, the (strictly monotonic) grid coordinates.
      values: array of shape ``(len(points[0]), ..., len(points[-1]), *extra)``; trailing
        ``extra`` dimensions are interpolated independently.
      method: ``"linear"`` (default) or ``"nearest"``.
      bounds_error: must be ``False`` (``True`` raises ``NotImplementedError``, as in JAX).
      fill_value: value for query points outside the grid (default NaN); ``None``
        extrapolates from the edge cells.

    Example::

        >>> x, y = jnp.linspace(0, 1, 3), jnp.linspace(0, 2, 4)
        >>> f = RegularGridInterpolator((x, y), x[:, None] + y[None, :])
        >>> f(jnp.array([[0.25, 1.0]]))
        Array([1.25], dtype=float32)
    """

    def __init__(self, points, values, method="linear", bounds_error=False,
                 fill_value=np.nan):
        """Validate and store the grid, values and options (see the class docstring)."""
        _check_method(method)
        if bounds_error:
            raise NotImplementedError("RegularGridInterpolator: bounds_error=True is not "
                                      "supported (it would need a data-dependent error under "
                                      "jit); use bounds_error=False.")
        if not isinstance(points, (tuple, list)) and jnp.ndim(points) == 1:
            points = (points,)
        if not isinstance(points, (tuple, list)):
            points = tuple(points)
        check_arraylike("scipy.interpolate.RegularGridInterpolator", values, *points)
        grid = [jnp.asarray(p) for p in points]
        values = jnp.asarray(values)
        if len(grid) > values.ndim:
            raise ValueError(f"RegularGridInterpolator: there are {len(grid)} point arrays, but "
                             f"values has {values.ndim} dimensions.")
        for d, g in enumerate(grid):
            if g.ndim != 1:
                raise ValueError(f"RegularGridInterpolator: the points in dimension {d} must be "
                                 f"1-dimensional; got shape {g.shape}.")
            if jnp.iscomplexobj(g):
                raise ValueError(f"RegularGridInterpolator: the points in dimension {d} must be "
                                 "real.")
            if g.shape[0] != values.shape[d]:
                raise ValueError(f"RegularGridInterpolator: there are {g.shape[0]} points and "
                                 f"{values.shape[d]} values in dimension {d}.")
            if g.shape[0] == 0:
                raise ValueError(f"RegularGridInterpolator: dimension {d} has no points.")
            _check_monotonic(d, g)
        coord_dtype = _inexact(jnp.result_type(*grid))
        value_dtype = _inexact(jnp.result_type(values.dtype, coord_dtype))
        if fill_value is not None:
            fill = jnp.asarray(fill_value)
            if jnp.iscomplexobj(fill) and not jnp.iscomplexobj(values):
                raise ValueError("RegularGridInterpolator: fill_value must be None or of a type "
                                 "compatible with values (a complex fill needs complex values).")
            fill_value = fill.astype(value_dtype)
        self.method = method
        self.bounds_error = bounds_error
        self.grid = tuple(g.astype(coord_dtype) for g in grid)
        self.values = values.astype(value_dtype)
        self.fill_value = fill_value

    def tree_flatten(self):
        """Children ``(grid, values, fill_value)``; static ``(method, bounds_error)``."""
        return (self.grid, self.values, self.fill_value), (self.method, self.bounds_error)

    @classmethod
    def tree_unflatten(cls, aux, children):
        """Rebuild an interpolator from ``tree_flatten``'s output (no validation, so the
        children may be tracers or placeholders)."""
        obj = object.__new__(cls)
        obj.method, obj.bounds_error = aux
        obj.grid, obj.values, obj.fill_value = children
        return obj

    def _prepare_xi(self, xi):
        ndim = len(self.grid)
        if isinstance(xi, (tuple, list)):
            if len(xi) != ndim:
                raise ValueError(f"RegularGridInterpolator: the requested sample points xi have "
                                 f"{len(xi)} coordinate arrays, but this interpolator has "
                                 f"dimension {ndim}.")
            check_arraylike("scipy.interpolate.RegularGridInterpolator", *xi)
            parts = jnp.broadcast_arrays(*[jnp.asarray(c) for c in xi])
            xi = jnp.stack(parts, axis=-1)
        else:
            check_arraylike("scipy.interpolate.RegularGridInterpolator", xi)
            xi = jnp.asarray(xi)
            if xi.ndim == 0 or (xi.ndim == 1 and ndim == 1):
                xi = xi[..., None]
            elif xi.ndim == 1:
                xi = xi[None, :]
        if xi.shape[-1] != ndim:
            raise ValueError(f"RegularGridInterpolator: the requested sample points xi have "
                             f"dimension {xi.shape[-1]}, but this RegularGridInterpolator has "
                             f"dimension {ndim}.")
        if jnp.iscomplexobj(xi):
            raise ValueError("RegularGridInterpolator: the sample points xi must be real.")
        dtype = _inexact(jnp.result_type(xi.dtype, self.grid[0].dtype))
        return xi.astype(dtype)

    def _locate(self, xi):
        """Per dimension: lower cell index, upper cell index, fraction ``t`` in the cell and
        whether the grid descends; plus the out-of-bounds mask of all points."""
        cells, out = [], jnp.zeros(xi.shape[:-1], dtype=bool)
        for d, g in enumerate(self.grid):
            x = xi[..., d]
            g = g.astype(xi.dtype)
            n = g.shape[0]
            if n == 1:
                zero = jnp.zeros(x.shape, jnp.int32)
                cells.append((zero, zero, jnp.zeros_like(x), None))
                out = out | (x != g[0])
                continue
            sign = jnp.sign(g[-1] - g[0])  # +1 ascending, -1 descending
            gs, xs = g * sign, x * sign
            if n <= _COMPARE_ALL_MAX:  # count the interior points below x: no loop
                lo = jnp.sum(gs[1:-1] < xs[..., None], axis=-1, dtype=jnp.int32)
            else:  # binary search, clipped to the first/last cell
                lo = jnp.clip(jnp.searchsorted(gs, xs) - 1, 0, n - 2)
            hi = lo + 1
            t = (xs - gs[lo]) / (gs[hi] - gs[lo])
            cells.append((lo, hi, t, sign < 0))
            out = out | (xs < gs[0]) | (xs > gs[-1])
        return cells, out

    def _evaluate_linear(self, cells):
        ndim = len(cells)
        batch = cells[0][0].shape
        index, weight = [], None
        for d, (lo, hi, t, _) in enumerate(cells):
            shape = (1,) * d + (2,) + (1,) * (ndim - d - 1) + batch
            index.append(jnp.broadcast_to(jnp.stack([lo, hi]).reshape(shape),
                                          (2,) * ndim + batch))
            w = jnp.stack([1 - t, t]).reshape(shape)
            weight = w if weight is None else weight * w
        corners = self.values[tuple(index)]  # (2,)*ndim + batch + extra, one gather
        extra = self.values.ndim - ndim
        weight = weight.reshape(weight.shape + (1,) * extra).astype(corners.dtype)
        return jnp.sum(weight * corners, axis=tuple(range(ndim)))

    def _evaluate_nearest(self, cells):
        index = []
        for lo, hi, t, descending in cells:
            if descending is None:
                index.append(lo)
                continue
            # ties go to the smaller coordinate, as SciPy (the upper cell end if descending)
            upper = jnp.where(descending, t >= 0.5, t > 0.5)
            index.append(jnp.where(upper, hi, lo))
        return self.values[tuple(index)]

    def __call__(self, xi, method=None):
        """Interpolated values at ``xi``: an array of shape ``(..., ndim)`` (a single point
        may be given as a 1-D array) or a tuple of ``ndim`` broadcastable coordinate arrays.
        Returns shape ``xi.shape[:-1] + values.shape[ndim:]``; ``method`` overrides the
        interpolator's method for this call."""
        method = self.method if method is None else method
        _check_method(method)
        xi = self._prepare_xi(xi)
        cells, out = self._locate(xi)
        if method == "linear":
            result = self._evaluate_linear(cells)
        else:
            result = self._evaluate_nearest(cells)
        extra = (1,) * (self.values.ndim - len(self.grid))
        if self.fill_value is not None:
            fill = jnp.asarray(self.fill_value).astype(result.dtype)
            result = jnp.where(out.reshape(out.shape + extra), fill, result)
        # a NaN coordinate gives NaN, even where another coordinate is out of bounds (SciPy)
        nan_point = jnp.any(jnp.isnan(xi), axis=-1).reshape(out.shape + extra)
        return jnp.where(nan_point, jnp.array(np.nan, result.dtype), result)

    def __repr__(self):
        """``RegularGridInterpolator(ndim=..., method=...)``."""
        return (f"RegularGridInterpolator(ndim={len(self.grid)}, shape={self.values.shape}, "
                f"method={self.method!r})")
