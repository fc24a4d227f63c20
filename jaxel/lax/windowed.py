"""Windowed reductions: ``reduce_window_sum``, ``reduce_window_max``, ``reduce_window_min``.

Each primitive is declared once with its abstract evaluation and lowering (one
``stablehlo.reduce_window`` whose body is the binary op and whose init value is the op's
identity, so padding and base-dilation holes never contribute). ``lax.reduce_window`` picks
the primitive from its ``computation`` and applies a non-identity ``init_value`` once per
window, which is what JAX computes.
"""
from __future__ import annotations

import numpy as np

from jaxel.lax._rules import NUMBER, aval_of, check_kinds
from jaxel.lax.reductions import _REAL, _combine_init, _is_identity, identity_value, scalar_type
from jaxel.lowering.emitter import i64_array, i64_dense, tensor_type
from jaxel.tracing.avals import ShapedArray
from jaxel.tracing.core import Primitive


def _dilated(size: int, dilation: int) -> int:
    """Length of ``size`` elements with ``dilation - 1`` holes between neighbours."""
    return 0 if size == 0 else (size - 1) * dilation + 1


def reduce_window_shape_tuple(operand_shape, window_dimensions, window_strides, padding,
                              base_dilation=None, window_dilation=None):
    """The result shape of a windowed reduction.

    Args:
      operand_shape: the operand's shape.
      window_dimensions, window_strides: window size and step per dimension.
      padding: ``(low, high)`` per dimension.
      base_dilation, window_dilation: dilation factors (default 1).

    Returns:
      A tuple: per dimension, the number of window positions that fit.

    Example::

        >>> lax.reduce_window_shape_tuple((5,), (2,), (1,), ((0, 0),))
        (4,)
    """
    n = len(operand_shape)
    base_dilation = base_dilation or (1,) * n
    window_dilation = window_dilation or (1,) * n
    out = []
    for d, w, s, (lo, hi), bd, wd in zip(operand_shape, window_dimensions, window_strides,
                                         padding, base_dilation, window_dilation):
        padded = _dilated(d, bd) + lo + hi
        win = _dilated(w, wd)
        out.append(0 if padded < win else (padded - win) // s + 1)
    return tuple(out)


def _reduce_window_primitive(name: str, op: str, hlo_op: str, kinds) -> Primitive:
    p = Primitive(name)

    def abstract_eval(x, *, window_dimensions, window_strides, padding, base_dilation,
                      window_dilation):
        check_kinds(name, x, kinds)
        params = {"window_dimensions": window_dimensions, "window_strides": window_strides,
                  "padding": padding, "base_dilation": base_dilation,
                  "window_dilation": window_dilation}
        for key, v in params.items():
            if len(v) != x.ndim:
                raise TypeError(f"lax.reduce_window: {key} has {len(v)} entries, but the "
                                f"operand has rank {x.ndim} (shape {x.shape}).")
        for key in ("window_dimensions", "window_strides", "base_dilation", "window_dilation"):
            if any(v < 1 for v in params[key]):
                raise TypeError(f"lax.reduce_window: {key} must be positive, got "
                                f"{params[key]}.")
        shape = reduce_window_shape_tuple(x.shape, window_dimensions, window_strides, padding,
                                          base_dilation, window_dilation)
        return ShapedArray(shape, x.dtype, x.weak_type)

    def lowering(ctx, x, *, window_dimensions, window_strides, padding, base_dilation,
                 window_dilation):
        e = ctx.e
        dt = ctx.avals_in[0].dtype
        ndim = ctx.avals_in[0].ndim
        if ndim == 0:  # the only window of a scalar is the scalar
            return x
        t = scalar_type(dt)
        init = e.constant(identity_value(op, dt), ShapedArray((), dt))
        region = e.region([t, t], lambda a, b: e.op1(hlo_op, [a, b], t))
        pads = i64_dense(np.asarray(padding, np.int64).reshape(ndim, 2), (ndim, 2))
        attrs = (f"window_dimensions = {i64_array(window_dimensions)}, "
                 f"window_strides = {i64_array(window_strides)}, "
                 f"base_dilations = {i64_array(base_dilation)}, "
                 f"window_dilations = {i64_array(window_dilation)}, "
                 f"padding = {pads}")
        return e.op1("stablehlo.reduce_window", [x, init], tensor_type(ctx.avals_out[0]), attrs,
                     regions=[region])

    p.abstract_eval = abstract_eval
    p.lowering = lowering
    return p


reduce_window_sum_p = _reduce_window_primitive("reduce_window_sum", "add", "stablehlo.add",
                                               NUMBER)
reduce_window_max_p = _reduce_window_primitive("reduce_window_max", "max", "stablehlo.maximum",
                                               _REAL)
reduce_window_min_p = _reduce_window_primitive("reduce_window_min", "min", "stablehlo.minimum",
                                               _REAL)


def padtype_to_pads(in_shape, window_shape, window_strides, padding):
    """Explicit ``(low, high)`` padding for a padding name.

    ``'VALID'``: no padding. ``'SAME'``: pad so the output has ``ceil(in / stride)``
    elements, the odd element of padding going at the end; ``'SAME_LOWER'``: the same with the
    odd element at the start.

    Args:
      in_shape: the (dilated) input shape.
      window_shape: the (dilated) window shape.
      window_strides: the strides.
      padding: ``'VALID'``, ``'SAME'`` or ``'SAME_LOWER'`` (any case).

    Returns:
      A list of ``(low, high)`` pairs, one per dimension.

    Example::

        >>> lax.padtype_to_pads((5,), (3,), (1,), "SAME")
        [(1, 1)]
    """
    name = getattr(padding, "name", padding)
    if not isinstance(name, str) or name.upper() not in ("VALID", "SAME", "SAME_LOWER"):
        raise RuntimeError(f"Unrecognized padding type: expected 'VALID', 'SAME', or "
                           f"'SAME_LOWER', got {padding!r}.")
    name = name.upper()
    if name == "VALID":
        return [(0, 0)] * len(in_shape)
    pads = []
    for d, w, s in zip(in_shape, window_shape, window_strides):
        out = -(-int(d) // int(s))  # ceil
        total = max((out - 1) * int(s) + int(w) - int(d), 0)
        small, large = total // 2, total - total // 2
        pads.append((small, large) if name == "SAME" else (large, small))
    return pads


def _computation_op(computation):
    """Which monoid (and primitive) a ``reduce_window`` computation is."""
    from jaxel.lax import elementwise as _ew
    table = {_ew.add: ("add", reduce_window_sum_p), _ew.max: ("max", reduce_window_max_p),
             _ew.min: ("min", reduce_window_min_p)}
    try:
        from jaxel.numpy import ufuncs as _uf
        table.update({_uf.add: table[_ew.add], _uf.maximum: table[_ew.max],
                      _uf.minimum: table[_ew.min]})
    except ImportError:  # the numpy layer is optional for lax users
        pass
    entry = table.get(computation)
    if entry is None:
        name = getattr(computation, "__name__", repr(computation))
        raise NotImplementedError(
            f"lax.reduce_window: jaxel supports the computations lax.add, lax.max and lax.min "
            f"(or jaxel.numpy.add/maximum/minimum), got {name!r}. Express other window "
            "reductions with these, e.g. a product as exp of a window sum of logs.")
    return entry


def _ints(name, values, n, default):
    if values is None:
        return (default,) * n
    values = tuple(int(v) for v in values)
    if len(values) != n:
        raise TypeError(f"lax.reduce_window: {name} has {len(values)} entries, but the operand "
                        f"has rank {n}.")
    return values


def reduce_window(operand, init_value, computation, window_dimensions, window_strides=None,
                  padding="VALID", base_dilation=None, window_dilation=None):
    """Reduce each window of ``operand`` with ``computation`` (sum, max or min pooling).

    Every output element is ``computation`` applied to ``init_value`` and the operand elements
    inside one window; padding and dilation holes contribute nothing.

    Args:
      operand: the array.
      init_value: scalar start value of each window (e.g. 0 for sum, -inf for max).
      computation: ``lax.add``, ``lax.max`` or ``lax.min`` (or the ``jaxel.numpy`` ufuncs
        ``add``, ``maximum``, ``minimum``).
      window_dimensions: window size per dimension.
      window_strides: step per dimension (default 1).
      padding: ``'VALID'``, ``'SAME'``, ``'SAME_LOWER'`` or ``(low, high)`` pairs.
      base_dilation: operand dilation per dimension (default 1).
      window_dilation: window dilation per dimension (default 1).

    Returns:
      The array of window results, of ``operand``'s dtype.

    Example::

        >>> lax.reduce_window(jnp.arange(4.0), -jnp.inf, lax.max, (2,), (2,), "VALID")
        Array([1., 3.], dtype=float32)
    """
    if isinstance(operand, (list, tuple)) or isinstance(init_value, (list, tuple)):
        raise NotImplementedError("lax.reduce_window: jaxel supports a single operand, not "
                                  "a sequence of operands.")
    op, prim = _computation_op(computation)
    aval = aval_of(operand)
    n = aval.ndim
    dims = _ints("window_dimensions", window_dimensions, n, 1)
    strides = _ints("window_strides", window_strides, n, 1)
    bdil = _ints("base_dilation", base_dilation, n, 1)
    wdil = _ints("window_dilation", window_dilation, n, 1)
    if isinstance(padding, str) or hasattr(padding, "name"):
        pads = padtype_to_pads([_dilated(d, b) for d, b in zip(aval.shape, bdil)],
                               [_dilated(w, b) for w, b in zip(dims, wdil)], strides, padding)
    else:
        pads = list(padding)
        if len(pads) != n:
            raise TypeError(f"lax.reduce_window: padding has {len(pads)} entries, but the "
                            f"operand has rank {n}.")
    pads = tuple((int(lo), int(hi)) for lo, hi in pads)
    out = prim.bind(operand, window_dimensions=dims, window_strides=strides, padding=pads,
                    base_dilation=bdil, window_dilation=wdil)
    # A scalar operand is returned as it is, init_value unused (as JAX and XLA do).
    if n and not _is_identity(init_value, op, aval.dtype):
        out = _combine_init(op, out, init_value)
    return out


__all__ = ["reduce_window", "padtype_to_pads", "reduce_window_shape_tuple",
           "reduce_window_sum_p", "reduce_window_max_p", "reduce_window_min_p"]
