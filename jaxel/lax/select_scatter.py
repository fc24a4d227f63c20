"""XLA's window selection primitives, the pieces of max/min-pooling derivatives:

* ``select_and_scatter_add_p(source, operand)``: for every window of ``operand`` pick one
  element with ``select_prim`` (``ge_p``: the maximum, ``le_p``: the minimum) and add the
  window's ``source`` value at that element (zero elsewhere).
* ``select_and_gather_add_p(tangents, operand)``: for every window, the ``tangents`` value at
  the element ``select_prim`` picks in ``operand`` (the transpose of the former).
* ``select_and_scatter_p(operand, source, init_value)``: the general form, with user
  ``select`` and ``scatter`` computations (jaxpr parameters).
"""
from __future__ import annotations

import numpy as np

from jaxel.lax._rules import aval_of, dtype_kind, FLOAT, SINT, UINT
from jaxel.lax.reductions import compare, scalar_type
from jaxel.lowering.emitter import i64_array, i64_dense, tensor_type
from jaxel.tracing.avals import ShapedArray
from jaxel.tracing.core import Primitive
from jaxel.transforms import ad_util as _ad
from jaxel.transforms import batching as _batching

select_and_scatter_add_p = Primitive("select_and_scatter_add")
select_and_gather_add_p = Primitive("select_and_gather_add")
select_and_scatter_p = Primitive("select_and_scatter")


def _direction(select_prim):
    name = getattr(select_prim, "name", select_prim)
    if name not in ("ge", "le"):
        raise ValueError(f"select_prim must be lax.ge_p or lax.le_p, got {select_prim}.")
    return "GE" if name == "ge" else "LE"


def _window_shape(shape, window_dimensions, window_strides, padding, base_dilation=None,
                  window_dilation=None):
    from jaxel.lax.windowed import reduce_window_shape_tuple
    nd = len(shape)
    for key, v in (("window_dimensions", window_dimensions), ("window_strides", window_strides),
                   ("padding", padding)):
        if len(v) != nd:
            raise TypeError(f"{key} has {len(v)} entries, but the operand has rank {nd}.")
    return reduce_window_shape_tuple(shape, window_dimensions, window_strides, padding,
                                     base_dilation or (1,) * nd, window_dilation or (1,) * nd)


def _pads(padding):
    nd = len(padding)
    return i64_dense(np.asarray(padding, np.int64).reshape(nd, 2), (nd, 2))


def _select_attrs(window_dimensions, window_strides, padding):
    return (f"window_dimensions = {i64_array(window_dimensions)}, "
            f"window_strides = {i64_array(window_strides)}, padding = {_pads(padding)}")


# ---- select_and_scatter_add --------------------------------------------------------------------
def _sas_add_abstract_eval(source, operand, *, select_prim, window_dimensions, window_strides,
                           padding):
    _direction(select_prim)
    want = _window_shape(operand.shape, window_dimensions, window_strides, padding)
    if source.shape != want:
        raise TypeError(f"select_and_scatter_add: source shape {source.shape} must be the "
                        f"window-reduced operand shape {want}.")
    return ShapedArray(operand.shape, source.dtype, source.weak_type)


def _sas_add_lowering(ctx, source, operand, *, select_prim, window_dimensions, window_strides,
                      padding):
    e = ctx.e
    sa, oa = ctx.avals_in
    ot, st = scalar_type(oa.dtype), scalar_type(sa.dtype)
    init = e.constant(np.zeros((), sa.dtype), ShapedArray((), sa.dtype))
    direction = _direction(select_prim)
    select = e.region([ot, ot], lambda a, b: compare(e, a, b, direction, oa.dtype))
    scatter = e.region([st, st], lambda a, b: e.op1("stablehlo.add", [a, b], st))
    return e.op1("stablehlo.select_and_scatter", [operand, source, init],
                 tensor_type(ctx.avals_out[0]),
                 _select_attrs(window_dimensions, window_strides, padding),
                 regions=[select, scatter])


def _sas_add_jvp(primals, tangents, **params):
    source, operand = primals
    out = select_and_scatter_add_p.bind(source, operand, **params)
    ts = tangents[0]
    if type(ts) is _ad.Zero:
        return out, _ad.zero_like(out)
    return out, select_and_scatter_add_p.bind(ts, operand, **params)


def _sas_add_transpose(ct, source, operand, *, select_prim, window_dimensions, window_strides,
                       padding):
    nd = len(window_dimensions)
    cs = select_and_gather_add_p.bind(ct, operand, select_prim=select_prim,
                                      window_dimensions=window_dimensions,
                                      window_strides=window_strides, padding=padding,
                                      base_dilation=(1,) * nd, window_dilation=(1,) * nd)
    return [cs, None]


def _front(args, dims):
    size = _batching.batch_size_of(args, dims)
    return [_batching.bdim_at_front(x, d, size) for x, d in zip(args, dims)]


def _grow(params, keys_one, keys_pad=("padding",)):
    out = dict(params)
    for k in keys_one:
        if k in out:
            out[k] = (1,) + tuple(out[k])
    for k in keys_pad:
        out[k] = ((0, 0),) + tuple(out[k])
    return out


def _sas_add_batch(args, dims, **params):
    src, op = _front(args, dims)
    return select_and_scatter_add_p.bind(
        src, op, **_grow(params, ("window_dimensions", "window_strides"))), 0


select_and_scatter_add_p.abstract_eval = _sas_add_abstract_eval
select_and_scatter_add_p.lowering = _sas_add_lowering
select_and_scatter_add_p.jvp = _sas_add_jvp
select_and_scatter_add_p.transpose = _sas_add_transpose
select_and_scatter_add_p.batch = _sas_add_batch


def _select_and_scatter_add(source, operand, select_prim, window_dimensions, window_strides,
                            padding):
    """``select_and_scatter_add_p`` with normalised parameters (padding as pairs)."""
    return select_and_scatter_add_p.bind(
        source, operand, select_prim=select_prim,
        window_dimensions=tuple(int(d) for d in window_dimensions),
        window_strides=tuple(int(d) for d in window_strides),
        padding=tuple((int(lo), int(hi)) for lo, hi in padding))


# ---- select_and_gather_add ---------------------------------------------------------------------
def _sga_abstract_eval(tangents, operand, *, select_prim, window_dimensions, window_strides,
                       padding, base_dilation, window_dilation):
    _direction(select_prim)
    if tangents.shape != operand.shape:
        raise TypeError(f"select_and_gather_add: tangents shape {tangents.shape} must equal "
                        f"the operand shape {operand.shape}.")
    shape = _window_shape(operand.shape, window_dimensions, window_strides, padding,
                          base_dilation, window_dilation)
    return ShapedArray(shape, tangents.dtype, tangents.weak_type)


def _worst(dt, direction):
    """The value never selected over a real element: -inf for max (GE), +inf for min."""
    kind = dtype_kind(dt)
    if kind == FLOAT:
        return np.array(-np.inf if direction == "GE" else np.inf, dt)
    if kind in (SINT, UINT):
        info = np.iinfo(dt)
        return np.array(info.min if direction == "GE" else info.max, dt)
    return np.array(direction != "GE", dt)


def _sga_lowering(ctx, tangents, operand, *, select_prim, window_dimensions, window_strides,
                  padding, base_dilation, window_dilation):
    # A reduce_window over (operand, tangent) pairs keeping the pair whose operand wins.
    e = ctx.e
    ta, oa = ctx.avals_in
    ot, tt = scalar_type(oa.dtype), scalar_type(ta.dtype)
    direction = _direction(select_prim)
    init_o = e.constant(_worst(oa.dtype, direction), ShapedArray((), oa.dtype))
    init_t = e.constant(np.zeros((), ta.dtype), ShapedArray((), ta.dtype))

    def body(ao, at, bo, bt):
        keep = compare(e, ao, bo, direction, oa.dtype)
        return [e.op1("stablehlo.select", [keep, ao, bo], ot),
                e.op1("stablehlo.select", [keep, at, bt], tt)]
    region = e.region([ot, tt, ot, tt], body)
    out = ctx.avals_out[0]
    attrs = (f"window_dimensions = {i64_array(window_dimensions)}, "
             f"window_strides = {i64_array(window_strides)}, "
             f"base_dilations = {i64_array(base_dilation)}, "
             f"window_dilations = {i64_array(window_dilation)}, padding = {_pads(padding)}")
    _, picked = e.op("stablehlo.reduce_window", [operand, tangents, init_o, init_t],
                     [tensor_type(out.update(dtype=oa.dtype)), tensor_type(out)], attrs,
                     regions=[region])
    return picked


def _sga_jvp(primals, tangents, **params):
    t, operand = primals
    out = select_and_gather_add_p.bind(t, operand, **params)
    tt = tangents[0]
    if type(tt) is _ad.Zero:
        return out, _ad.zero_like(out)
    return out, select_and_gather_add_p.bind(tt, operand, **params)


def _sga_transpose(ct, t, operand, *, select_prim, window_dimensions, window_strides, padding,
                   base_dilation, window_dilation):
    if any(d != 1 for d in tuple(base_dilation) + tuple(window_dilation)):
        raise NotImplementedError("select_and_gather_add: transposing with dilation is not "
                                  "supported.")
    return [_select_and_scatter_add(ct, operand, select_prim, window_dimensions,
                                    window_strides, padding), None]


def _sga_batch(args, dims, **params):
    t, op = _front(args, dims)
    return select_and_gather_add_p.bind(t, op, **_grow(
        params, ("window_dimensions", "window_strides", "base_dilation",
                 "window_dilation"))), 0


select_and_gather_add_p.abstract_eval = _sga_abstract_eval
select_and_gather_add_p.lowering = _sga_lowering
select_and_gather_add_p.jvp = _sga_jvp
select_and_gather_add_p.transpose = _sga_transpose
select_and_gather_add_p.batch = _sga_batch


def _select_and_gather_add(tangents, operand, select_prim, window_dimensions, window_strides,
                           padding, base_dilation=None, window_dilation=None):
    """``select_and_gather_add_p`` with normalised parameters (padding as pairs)."""
    nd = len(window_dimensions)
    return select_and_gather_add_p.bind(
        tangents, operand, select_prim=select_prim,
        window_dimensions=tuple(int(d) for d in window_dimensions),
        window_strides=tuple(int(d) for d in window_strides),
        padding=tuple((int(lo), int(hi)) for lo, hi in padding),
        base_dilation=tuple(base_dilation or (1,) * nd),
        window_dilation=tuple(window_dilation or (1,) * nd))


# ---- select_and_scatter (general) ----------------------------------------------------------
def _sas_abstract_eval(operand, source, init_value, *, select_jaxpr, select_consts,
                       scatter_jaxpr, scatter_consts, window_dimensions, window_strides,
                       padding):
    want = _window_shape(operand.shape, window_dimensions, window_strides, padding)
    if source.shape != want:
        raise TypeError(f"select_and_scatter: source shape {source.shape} must be the "
                        f"window-reduced operand shape {want}.")
    if init_value.shape != () or init_value.dtype != source.dtype:
        raise TypeError("select_and_scatter: init_value must be a scalar of the source's "
                        f"dtype, got {init_value.str_short()}.")
    return ShapedArray(operand.shape, source.dtype, False)


def _sas_lowering(ctx, operand, source, init_value, *, select_jaxpr, select_consts,
                  scatter_jaxpr, scatter_consts, window_dimensions, window_strides, padding):
    from jaxel.lax.generic_reduce import _region
    e = ctx.e
    oa, sa, _ = ctx.avals_in
    ot, st = scalar_type(oa.dtype), scalar_type(sa.dtype)
    select = _region(e, select_jaxpr, [ot, ot], ctx.module)
    scatter = _region(e, scatter_jaxpr, [st, st], ctx.module)
    return e.op1("stablehlo.select_and_scatter", [operand, source, init_value],
                 tensor_type(ctx.avals_out[0]),
                 _select_attrs(window_dimensions, window_strides, padding),
                 regions=[select, scatter])


def _sas_jvp(primals, tangents, **params):
    if all(type(t) is _ad.Zero for t in tangents):
        out = select_and_scatter_p.bind(*primals, **params)
        return out, _ad.zero_like(out)
    raise NotImplementedError("select_and_scatter with general computations is not "
                              "differentiable (as in JAX); the max/min-pooling derivatives use "
                              "select_and_scatter_add.")


def _sas_batch(args, dims, **params):
    if dims[2] is not None:
        raise NotImplementedError("select_and_scatter: the init value cannot be batched.")
    op, src = _front(args[:2], dims[:2])
    return select_and_scatter_p.bind(op, src, args[2], **_grow(
        params, ("window_dimensions", "window_strides"))), 0


select_and_scatter_p.abstract_eval = _sas_abstract_eval
select_and_scatter_p.lowering = _sas_lowering
select_and_scatter_p.jvp = _sas_jvp
select_and_scatter_p.batch = _sas_batch


def _select_and_scatter(operand, select, window_dimensions, window_strides, padding, source,
                        init_value, scatter):
    """``select_and_scatter_p`` from Python computations: ``select(a, b)`` (True keeps the
    current element ``a``) and ``scatter(a, b)`` (combines values landing on one element)."""
    from jaxel import tree_util
    from jaxel.lax.generic_reduce import _closed_over_consts
    from jaxel.lax.control_flow.common import trace_fun
    oa, sa = aval_of(operand), aval_of(source)

    def trace(fn, dt, what):
        a = ShapedArray((), dt, False)
        tree = tree_util.tree_structure((0, 0))
        closed, consts, _ = trace_fun(fn, tree, [a, a], what)
        return _closed_over_consts(closed, consts, what)
    from jaxel.tracing.core import literal
    init = literal(init_value, sa.dtype, False) if type(init_value) in (int, float, bool) \
        else init_value
    return select_and_scatter_p.bind(
        operand, source, init, select_jaxpr=trace(select, oa.dtype, "select_and_scatter"),
        select_consts=(), scatter_jaxpr=trace(scatter, sa.dtype, "select_and_scatter"),
        scatter_consts=(), window_dimensions=tuple(int(d) for d in window_dimensions),
        window_strides=tuple(int(d) for d in window_strides),
        padding=tuple((int(lo), int(hi)) for lo, hi in padding))


__all__ = ["select_and_scatter_add_p", "select_and_gather_add_p", "select_and_scatter_p"]
