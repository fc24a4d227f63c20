"""XLA's general reductions: ``reduce_p`` and ``reduce_window_p``, whose combining computation
is any user function of scalars (a jaxpr parameter), over one or several operands at once.

``lax.reduce`` and ``lax.reduce_window`` use the dedicated monoid primitives (``reduce_sum``,
``reduce_window_max``, ...) when the computation is a known monoid and fall back to these.

Differentiation: the tangent of a reduction is computed by a reduction over (primal, tangent)
pairs whose computation is the JVP of the user's computation, so it follows the same
combination order as the primal (exact for associative computations). Batching moves the
batch dimension to the front of every operand and leaves it out of the reduced dimensions.
"""
from __future__ import annotations

import numpy as np

from jaxel import tree_util
from jaxel.jaxpr.ir import ClosedJaxpr, Jaxpr
from jaxel.lax._rules import aval_of
from jaxel.lax.control_flow.common import cached, trace_fun
from jaxel.lax.reductions import scalar_type
from jaxel.lowering.emitter import i64_array, i64_dense, tensor_type
from jaxel.lowering.lower import lower_jaxpr_body
from jaxel.tracing.avals import ShapedArray
from jaxel.tracing.core import Primitive
from jaxel.transforms import ad_util as _ad
from jaxel.transforms import batching as _batching

reduce_p = Primitive("reduce", multiple_results=True)
reduce_window_p = Primitive("reduce_window", multiple_results=True)


# ---- tracing the computation --------------------------------------------------------------------
def _closed_over_consts(closed, consts, what):
    """A ClosedJaxpr of the scalar computation with its constants inside (they must be
    concrete: a reduction region cannot take operands from outside)."""
    if any(hasattr(c, "_trace") for c in consts):
        raise TypeError(f"lax.{what}: the reduction computation can't close over values of an "
                        "enclosing transformation (tracers); pass them as operands instead.")
    if not consts:
        return closed

    def make():
        j = closed.jaxpr
        k = len(consts)
        inner = Jaxpr(list(j.constvars) + list(j.invars[:k]), list(j.invars[k:]), j.outvars,
                      j.eqns, j.debug_info)
        return ClosedJaxpr(inner, list(closed.consts) + [np.asarray(c) for c in consts])
    return cached(closed, ("closed-consts", len(consts)), make)


def _trace_computation(computation, tree, dtypes, what):
    """Trace ``computation(a, b)`` (``a``, ``b`` in the operands' structure ``tree``, each leaf
    a scalar of the operand's dtype) to a ClosedJaxpr taking ``(*a_leaves, *b_leaves)``."""
    avals = [ShapedArray((), np.dtype(dt), False) for dt in dtypes]
    pair_tree = tree_util.tree_structure((tree_util.tree_unflatten(tree, list(dtypes)),) * 2)
    closed, consts, out_tree = trace_fun(computation, pair_tree, avals * 2, what)
    closed = _closed_over_consts(closed, consts, what)
    outs = closed.jaxpr.out_avals
    if out_tree != tree or [a.dtype for a in outs] != [np.dtype(d) for d in dtypes] or \
            any(a.shape for a in outs):
        raise TypeError(f"lax.{what}: the computation must return scalars in the structure and "
                        f"dtypes of the operands ({[np.dtype(d).name for d in dtypes]}), got "
                        f"{[a.str_short() for a in outs]}.")
    return closed


def _region(e, jaxpr, arg_types, module=None):
    def body(*args):
        consts = [e.constant(c, v.aval) for v, c in zip(jaxpr.jaxpr.constvars, jaxpr.consts)]
        return lower_jaxpr_body(e, jaxpr.jaxpr, consts, list(args), module)
    return e.region(arg_types, body)


def _pair_jvp_jaxpr(jaxpr, diff):
    """The computation on (primal, tangent) pairs: arguments ``(acc_primals, acc_tangents,
    x_primals, x_tangents)``, tangents only for the operands flagged in ``diff``."""
    def make():
        from jaxel.jaxpr.eval import eval_jaxpr
        from jaxel.jaxpr.staging import trace_to_jaxpr
        from jaxel.transforms.jvp import jvp_flat
        avals = list(jaxpr.in_avals[:len(diff)])
        tavals = [a for a, d in zip(avals, diff) if d]
        n, m = len(avals), len(tavals)

        def fun(*args):
            ap, at = list(args[:n]), list(args[n:n + m])
            xp, xt = list(args[n + m:2 * n + m]), list(args[2 * n + m:])

            def tangents(ts):
                it = iter(ts)
                return [next(it) if d else _ad.Zero(_ad.tangent_aval(a))
                        for a, d in zip(avals, diff)]
            outs, touts = jvp_flat(lambda *z: eval_jaxpr(jaxpr.jaxpr, jaxpr.consts, *z),
                                   ap + xp, tangents(at) + tangents(xt), instantiate_zeros=False)
            touts = [_ad.instantiate(t) for t, d in zip(touts, diff) if d]
            return list(outs) + touts
        return trace_to_jaxpr(fun, avals + tavals + avals + tavals)
    return cached(jaxpr, ("pair-jvp", tuple(diff)), make)


def _split_tangents(primals, tangents):
    diff = [_ad.is_differentiable_dtype(aval_of(x).dtype) for x in primals]
    ts = [_ad.instantiate(t) for t, d in zip(tangents, diff) if d]
    return diff, ts


def _init(value, dtype):
    """An init value as an operand of ``dtype``: Python scalars become Literals."""
    from jaxel.lax.elementwise import convert_element_type
    from jaxel.tracing.core import literal
    if type(value) in (bool, int, float, complex):
        return literal(value, dtype, False)
    a = aval_of(value)
    return value if a.dtype == dtype and not a.weak_type else convert_element_type(value, dtype)


# ---- reduce_p ----------------------------------------------------------------------------------
def _reduce_abstract_eval(*avals, computation, jaxpr, dimensions):
    n = len(avals) // 2
    ops, inits = avals[:n], avals[n:]
    shape = ops[0].shape
    for x, i in zip(ops, inits):
        if x.shape != shape:
            raise ValueError(f"lax.reduce: operands must have one shape, got "
                             f"{[a.shape for a in ops]}.")
        if i.shape != () or i.dtype != x.dtype:
            raise TypeError(f"lax.reduce: init values must be scalars of the operands' dtypes, "
                            f"got {i.str_short()} for an operand of dtype {x.dtype.name}.")
    if any(not 0 <= d < len(shape) for d in dimensions) or len(set(dimensions)) != len(dimensions):
        raise ValueError(f"lax.reduce: invalid dimensions {dimensions} for shape {shape}.")
    out = tuple(s for i, s in enumerate(shape) if i not in dimensions)
    return [ShapedArray(out, x.dtype, False) for x in ops]


def _reduce_lowering(ctx, *xs, computation, jaxpr, dimensions):
    e = ctx.e
    n = len(xs) // 2
    types = [scalar_type(a.dtype) for a in ctx.avals_in[:n]]
    region = _region(e, jaxpr, types * 2, ctx.module)
    return e.op("stablehlo.reduce", list(xs), [tensor_type(a) for a in ctx.avals_out],
                f"dimensions = {i64_array(dimensions)}", regions=[region])


def _reduce_jvp(primals, tangents, *, computation, jaxpr, dimensions):
    # The primal is XLA's reduce. The tangent comes from a pairwise tree of the computation's
    # JVP (halving the reduced axis each step, then folding in the init value): it is built
    # from the computation's own (linear-in-tangent) primitives, so reverse mode works, and it
    # matches XLA's order for associative computations (as JAX's rule does).
    import jaxel
    from jaxel.jaxpr.eval import eval_jaxpr
    from jaxel.lax.shape_ops import broadcast_in_dim, concatenate, reshape, slice_in_dim
    from jaxel.lax.shape_ops import transpose
    n_ops = len(primals) // 2
    ops, inits = list(primals[:n_ops]), list(primals[n_ops:])
    outs = reduce_p.bind(*primals, computation=computation, jaxpr=jaxpr, dimensions=dimensions)
    if all(type(t) is _ad.Zero for t in tangents):
        return outs, [_ad.zero_like(o) for o in outs]
    shape = aval_of(ops[0]).shape
    out_shape = aval_of(outs[0]).shape
    kept = [d for d in range(len(shape)) if d not in dimensions]
    n = int(np.prod([shape[d] for d in dimensions], dtype=np.int64))
    r = int(np.prod(out_shape, dtype=np.int64))
    tans = [_ad.instantiate(t) for t in tangents]

    def rows(x):  # reduced dimensions first, flattened: (n, r)
        return reshape(transpose(x, tuple(dimensions) + tuple(kept)), (n, r))

    def comb(a, b, ta, tb):  # the computation's JVP, elementwise over 1-D arrays
        f = jaxel.vmap(lambda *z: eval_jaxpr(jaxpr.jaxpr, jaxpr.consts, *z))
        res, tres = jaxel.jvp(f, tuple(a) + tuple(b), tuple(ta) + tuple(tb))
        return list(res), list(tres)

    xs = [rows(x) for x in ops]
    ts = [rows(t) if _ad.aval_of(t).dtype != _ad.float0 else np.zeros((n, r), _ad.float0)
          for t in tans[:n_ops]]
    while n > 1:
        h = n // 2

        def part(x, lo, hi):
            if isinstance(x, np.ndarray):
                return x[lo:hi].reshape(-1)
            return reshape(slice_in_dim(x, lo, hi, 1, 0), ((hi - lo) * r,))
        ys, yts = comb([part(x, 0, h) for x in xs], [part(x, h, 2 * h) for x in xs],
                       [part(t, 0, h) for t in ts], [part(t, h, 2 * h) for t in ts])
        ys = [reshape(y, (h, r)) for y in ys]
        yts = [np.zeros((h, r), _ad.float0) if isinstance(t, np.ndarray) or
               _ad.aval_of(t).dtype == _ad.float0 else reshape(t, (h, r)) for t in yts]
        if n % 2:
            ys = [concatenate([y, slice_in_dim(x, n - 1, n, 1, 0)], 0) for y, x in zip(ys, xs)]
            yts = [np.zeros((h + 1, r), _ad.float0) if isinstance(y, np.ndarray) else
                   concatenate([y, slice_in_dim(t, n - 1, n, 1, 0)], 0)
                   for y, t in zip(yts, ts)]
        xs, ts, n = ys, yts, (n + 1) // 2

    def flat(x):
        return x.reshape(-1) if isinstance(x, np.ndarray) else reshape(x, (r,))

    def wide(v):  # an init value (or its tangent) repeated for every result element
        if isinstance(v, np.ndarray) or _ad.aval_of(v).dtype == _ad.float0:
            return np.zeros((r,), _ad.float0)
        return broadcast_in_dim(v, (r,), ())
    if n == 0:  # nothing reduced: the result is the init value
        return outs, [_ad.zero_like(o) if not _ad.is_differentiable_dtype(aval_of(o).dtype)
                      else broadcast_in_dim(t, out_shape, ())
                      for o, t in zip(outs, tans[n_ops:])]
    _, fts = comb([wide(i) for i in inits], [flat(x) for x in xs],
                  [wide(t) for t in tans[n_ops:]], [flat(t) for t in ts])
    return outs, [reshape(t, out_shape) if _ad.is_differentiable_dtype(aval_of(o).dtype)
                  else _ad.zero_like(o) for o, t in zip(outs, fts)]


def _reduce_batch(args, dims, *, computation, jaxpr, dimensions):
    n = len(args) // 2
    if any(d is not None for d in dims[n:]):
        raise NotImplementedError("lax.reduce: batching over the init values is not supported; "
                                  "only the operands may be mapped.")
    size = _batching.batch_size_of(args, dims)
    ops = [_batching.bdim_at_front(x, d, size) for x, d in zip(args[:n], dims[:n])]
    new_dims = tuple(d + 1 for d in dimensions)
    outs = reduce_p.bind(*ops, *args[n:], computation=computation, jaxpr=jaxpr,
                         dimensions=new_dims)
    return outs, [0] * n


reduce_p.abstract_eval = _reduce_abstract_eval
reduce_p.lowering = _reduce_lowering
reduce_p.jvp = _reduce_jvp
reduce_p.batch = _reduce_batch


def general_reduce(operands, init_values, computation, dimensions):
    """``lax.reduce`` for any computation: ``reduce_p`` over the flattened operands."""
    leaves, tree = tree_util.tree_flatten(operands)
    inits, itree = tree_util.tree_flatten(init_values)
    if tree != itree:
        raise TypeError("lax.reduce: operands and init_values must have the same structure, "
                        f"got {tree} and {itree}.")
    from jaxel.numpy import asarray
    leaves = [asarray(x) for x in leaves]
    inits = [_init(i, aval_of(x).dtype) for i, x in zip(inits, leaves)]
    ndim = aval_of(leaves[0]).ndim
    dims = tuple(sorted(int(d) % ndim if ndim else int(d) for d in dimensions))
    jaxpr = _trace_computation(computation, tree, [aval_of(x).dtype for x in leaves], "reduce")
    outs = reduce_p.bind(*leaves, *inits, computation=computation, jaxpr=jaxpr,
                         dimensions=dims)
    return tree_util.tree_unflatten(tree, outs)


# ---- reduce_window_p ---------------------------------------------------------------------------
def _reduce_window_abstract_eval(*avals, jaxpr, consts, window_dimensions, window_strides,
                                 padding, base_dilation, window_dilation):
    from jaxel.lax.windowed import reduce_window_shape_tuple
    n = len(avals) // 2
    ops, inits = avals[:n], avals[n:]
    for x, i in zip(ops, inits):
        if x.shape != ops[0].shape:
            raise ValueError("lax.reduce_window: operands must have one shape, got "
                             f"{[a.shape for a in ops]}.")
        if i.shape != () or i.dtype != x.dtype:
            raise TypeError("lax.reduce_window: init values must be scalars of the operands' "
                            f"dtypes, got {i.str_short()} for dtype {x.dtype.name}.")
    nd = ops[0].ndim
    for key, v in (("window_dimensions", window_dimensions), ("window_strides", window_strides),
                   ("padding", padding), ("base_dilation", base_dilation),
                   ("window_dilation", window_dilation)):
        if len(v) != nd:
            raise TypeError(f"lax.reduce_window: {key} has {len(v)} entries, but the operand "
                            f"has rank {nd}.")
    shape = reduce_window_shape_tuple(ops[0].shape, window_dimensions, window_strides, padding,
                                      base_dilation, window_dilation)
    return [ShapedArray(shape, x.dtype, False) for x in ops]


def _reduce_window_lowering(ctx, *xs, jaxpr, consts, window_dimensions, window_strides,
                            padding, base_dilation, window_dilation):
    e = ctx.e
    n = len(xs) // 2
    nd = ctx.avals_in[0].ndim
    types = [scalar_type(a.dtype) for a in ctx.avals_in[:n]]
    region = _region(e, jaxpr, types * 2, ctx.module)
    pads = i64_dense(np.asarray(padding, np.int64).reshape(nd, 2), (nd, 2))
    attrs = (f"window_dimensions = {i64_array(window_dimensions)}, "
             f"window_strides = {i64_array(window_strides)}, "
             f"base_dilations = {i64_array(base_dilation)}, "
             f"window_dilations = {i64_array(window_dilation)}, padding = {pads}")
    return e.op("stablehlo.reduce_window", list(xs), [tensor_type(a) for a in ctx.avals_out],
                attrs, regions=[region])


def _reduce_window_jvp(primals, tangents, **params):
    n = len(primals) // 2
    ops, inits = primals[:n], primals[n:]
    outs = reduce_window_p.bind(*primals, **params)
    diff, t_ops = _split_tangents(ops, tangents[:n])
    if not t_ops or all(type(t) is _ad.Zero for t, d in zip(tangents, diff * 2) if d):
        return outs, [_ad.zero_like(o) for o in outs]
    _, t_inits = _split_tangents(inits, tangents[n:])
    pair = _pair_jvp_jaxpr(params["jaxpr"], diff)
    res = reduce_window_p.bind(*ops, *t_ops, *inits, *t_inits, **dict(params, jaxpr=pair))
    it = iter(res[n:])
    return outs, [next(it) if d else _ad.zero_like(o) for o, d in zip(outs, diff)]


def _reduce_window_batch(args, dims, *, window_dimensions, window_strides, padding,
                         base_dilation, window_dilation, **params):
    n = len(args) // 2
    if any(d is not None for d in dims[n:]):
        raise NotImplementedError("lax.reduce_window: batching over the init values is not "
                                  "supported; only the operands may be mapped.")
    size = _batching.batch_size_of(args, dims)
    ops = [_batching.bdim_at_front(x, d, size) for x, d in zip(args[:n], dims[:n])]
    outs = reduce_window_p.bind(
        *ops, *args[n:], window_dimensions=(1,) + tuple(window_dimensions),
        window_strides=(1,) + tuple(window_strides), padding=((0, 0),) + tuple(padding),
        base_dilation=(1,) + tuple(base_dilation),
        window_dilation=(1,) + tuple(window_dilation), **params)
    return outs, [0] * n


reduce_window_p.abstract_eval = _reduce_window_abstract_eval
reduce_window_p.lowering = _reduce_window_lowering
reduce_window_p.jvp = _reduce_window_jvp
reduce_window_p.batch = _reduce_window_batch


def general_reduce_window(operands, init_values, computation, window_dimensions, window_strides,
                          padding, base_dilation, window_dilation):
    """``lax.reduce_window`` for any computation (``padding`` already as pairs)."""
    leaves, tree = tree_util.tree_flatten(operands)
    inits, itree = tree_util.tree_flatten(init_values)
    if tree != itree:
        raise TypeError("lax.reduce_window: operands and init_values must have the same "
                        f"structure, got {tree} and {itree}.")
    from jaxel.numpy import asarray
    leaves = [asarray(x) for x in leaves]
    inits = [_init(i, aval_of(x).dtype) for i, x in zip(inits, leaves)]
    jaxpr = _trace_computation(computation, tree, [aval_of(x).dtype for x in leaves],
                               "reduce_window")
    outs = reduce_window_p.bind(*leaves, *inits, jaxpr=jaxpr, consts=(),
                                window_dimensions=window_dimensions,
                                window_strides=window_strides, padding=padding,
                                base_dilation=base_dilation, window_dilation=window_dilation)
    return tree_util.tree_unflatten(tree, outs)


__all__ = ["reduce_p", "reduce_window_p"]
