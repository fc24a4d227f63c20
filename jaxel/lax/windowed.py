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


def _computation_op(computation, strict=True):
    """Which monoid (and primitive) a ``reduce_window`` computation is (None if it is none
    of them and not ``strict``)."""
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
    if entry is None and not strict:
        return None
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
      operand: the array, or a tuple/list of same-shape arrays reduced together.
      init_value: scalar start value of each window (e.g. 0 for sum, -inf for max), in the
        structure of ``operand``.
      computation: the binary reduction. ``lax.add``, ``lax.max`` and ``lax.min`` (or the
        ``jaxel.numpy`` ufuncs ``add``, ``maximum``, ``minimum``) on one operand use the
        dedicated primitives; anything else (taking and returning tuples for several
        operands) uses XLA's general ``reduce_window_p``.
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
    general = (isinstance(operand, (list, tuple)) or isinstance(init_value, (list, tuple))
               or _computation_op(computation, strict=False) is None)
    first = operand[0] if isinstance(operand, (list, tuple)) else operand
    if general:
        op, prim = None, None
    else:
        op, prim = _computation_op(computation)
    aval = aval_of(first)
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
    if general:
        # Several operands or a computation that is not a known monoid: reduce_window_p.
        from jaxel.lax.generic_reduce import general_reduce_window
        return general_reduce_window(operand, init_value, computation, dims, strides, pads,
                                     bdil, wdil)
    out = prim.bind(operand, window_dimensions=dims, window_strides=strides, padding=pads,
                    base_dilation=bdil, window_dilation=wdil)
    # A scalar operand is returned as it is, init_value unused (as JAX and XLA do).
    if n and not _is_identity(init_value, op, aval.dtype):
        out = _combine_init(op, out, init_value)
    return out


__all__ = ["reduce_window", "padtype_to_pads", "reduce_window_shape_tuple",
           "reduce_window_sum_p", "reduce_window_max_p", "reduce_window_min_p"]


# ---- differentiation rules -------------------------------------------------------------------
# Windows are handled as "patches": for each offset inside the window, one strided slice of the
# padded and base-dilated operand holds that window element for every output position. All
# the pieces (pad, slice, mul, add) have their own JVP and transpose rules.
import itertools as _itertools  # noqa: E402

from jaxel.lax import elementwise as _ew  # noqa: E402
from jaxel.lax import shape_ops as _shape  # noqa: E402
from jaxel.lax.reductions import _as_dtype, _full, _no_tangent, _same  # noqa: E402
from jaxel.tracing.core import literal  # noqa: E402
from jaxel.transforms import ad_util as _ad  # noqa: E402


def _window_patches(x, fill, out_shape, *, window_dimensions, window_strides, padding,
                    base_dilation, window_dilation):
    """One array of ``out_shape`` per window offset: the operand element (or ``fill``, in
    padding and dilation holes) at that offset of every window."""
    dt = _ad.aval_of(x).dtype
    cfg = tuple((lo, hi, bd - 1) for (lo, hi), bd in zip(padding, base_dilation))
    xp = _shape.pad_p.bind(x, literal(fill, dt, False), padding_config=cfg)
    for offset in _itertools.product(*[range(w) for w in window_dimensions]):
        start = tuple(k * wd for k, wd in zip(offset, window_dilation))
        limit = tuple(s + (o - 1) * st + 1 for s, o, st in zip(start, out_shape, window_strides))
        yield _shape.slice_p.bind(xp, start_indices=start, limit_indices=limit,
                                  strides=tuple(window_strides))


def _reduce_window_sum_transpose(ct, x, *, window_dimensions, window_strides, padding,
                                 base_dilation, window_dilation):
    """Each operand element receives the sum of the cotangents of the windows covering it.

    With the padded, base-dilated operand ``P`` (``P[lo + bd i] = x[i]``), output ``o`` sums
    ``P[o s + k wd]`` for ``k < w``. So ``ct_P[p]`` sums ``ct[o]`` over ``o s + k wd = p``: a
    window sum, with window dilation ``wd``, over ``ct`` dilated by ``s`` (base dilation)
    and padded by ``(w - 1) wd`` in front (the flipped window). Then ``ct_x`` reads ``ct_P`` at
    ``lo + bd i``: a crop of the padding (``lo``/``hi`` may be negative) and a strided slice.
    """
    aval = x.aval
    if not aval.shape:  # the only window of a scalar is the scalar
        return [ct]
    if 0 in aval.shape or 0 in _ad.aval_of(ct).shape:
        return [_full(aval.shape, 0, aval.dtype)]
    dil = [(d - 1) * bd + 1 for d, bd in zip(aval.shape, base_dilation)]
    padded = [n + lo + hi for n, (lo, hi) in zip(dil, padding)]
    ct_len = [(m - 1) * s + 1 for m, s in zip(_ad.aval_of(ct).shape, window_strides)]
    front = [(w - 1) * wd for w, wd in zip(window_dimensions, window_dilation)]
    ct_p = reduce_window_sum_p.bind(
        ct, window_dimensions=tuple(window_dimensions), window_strides=(1,) * aval.ndim,
        padding=tuple((f, p - c) for f, p, c in zip(front, padded, ct_len)),
        base_dilation=tuple(window_strides), window_dilation=tuple(window_dilation))
    ct_dil = _shape.pad_p.bind(ct_p, literal(0, aval.dtype, False),
                               padding_config=tuple((-lo, -hi, 0) for lo, hi in padding))
    return [_shape.slice_p.bind(ct_dil, start_indices=(0,) * aval.ndim,
                                limit_indices=tuple(dil), strides=tuple(base_dilation))]


_ad.deflinear(reduce_window_sum_p, _reduce_window_sum_transpose)


def _reduce_window_chooser_jvp(prim, op):
    """reduce_window_max/min: each window's tangent is the tangent of the element that
    attains its result. Among tied elements the first in the window (row-major order) is
    picked, which is what JAX's gradient of max pooling does (``reduce_max`` instead shares
    the tangent among ties, also as JAX does). Padding and dilation holes have zero tangent.
    Where a window's result is NaN, its first NaN element is picked."""
    def jvp(primals, tangents, **params):
        (x,), (t,) = primals, tangents
        out = prim.bind(x, **params)
        out_aval = _ad.aval_of(out)
        if _no_tangent(t, x):
            return out, _ad.zero_like(out)
        if 0 in out_aval.shape or not out_aval.shape:  # nothing to pick / scalar: out is x
            return out, t if not out_aval.shape else _full(out_aval.shape, 0, out_aval.dtype)
        dt = out_aval.dtype
        taken = None  # windows whose element has been picked at an earlier offset
        total = None
        for xp, tp in zip(_window_patches(x, identity_value(op, dt), out_aval.shape, **params),
                          _window_patches(t, 0, out_aval.shape, **params)):
            hit = _same(xp, out)
            pick = hit if taken is None else _ew.bitwise_and(hit, _ew.bitwise_not(taken))
            taken = hit if taken is None else _ew.bitwise_or(taken, hit)
            term = _ew.mul(tp, _as_dtype(pick, dt))
            total = term if total is None else _ew.add(total, term)
        return out, total
    return jvp


reduce_window_max_p.jvp = _reduce_window_chooser_jvp(reduce_window_max_p, "max")
reduce_window_min_p.jvp = _reduce_window_chooser_jvp(reduce_window_min_p, "min")


# ---- batching rules ---------------------------------------------------------------------------
def _reduce_window_batch_rule(prim):
    """The batch dimension gets a window of size 1, stride 1, no padding and no dilation, so
    every example is reduced on its own and the batch dimension stays in place. (These
    primitives take no init-value operand: ``lax.reduce_window`` applies a non-identity init
    afterwards with elementwise ops, which batch by their own rules.)"""
    def rule(args, dims, *, window_dimensions, window_strides, padding, base_dilation,
             window_dilation):
        (x,), (d,) = args, dims

        def ins(seq, v):
            seq = list(seq)
            seq.insert(d, v)
            return tuple(seq)

        out = prim.bind(x, window_dimensions=ins(window_dimensions, 1),
                        window_strides=ins(window_strides, 1), padding=ins(padding, (0, 0)),
                        base_dilation=ins(base_dilation, 1),
                        window_dilation=ins(window_dilation, 1))
        return out, d
    return rule


for _p in (reduce_window_sum_p, reduce_window_max_p, reduce_window_min_p):
    _p.batch = _reduce_window_batch_rule(_p)
del _p
