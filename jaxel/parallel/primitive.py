"""``shard_map``: per-device code over a mesh (``jax.shard_map``), as the primitive
``shard_map_p``.

The body is traced once on *block* avals (each argument split along the mesh axes its in_spec
names) with the mesh axes in the named-axis environment, so ``lax.psum(x, 'x')`` inside resolves
'x' as a device axis. The equation's params are the body (a ClosedJaxpr), the mesh, one
PartitionSpec per flat input and output, the manual axes (mesh order) and ``check_vma``.

Lowering emits ``sdy.manual_computation`` (Shardy), whose body is the per-device program;
collectives inside lower to XLA collectives over partition ids (jaxel/lax/parallel.py).
Differentiation and batching transform the body and bind a new shard_map: residuals of reverse
mode leave the body with a leading dimension of size 1 split over all manual axes, so every
device gets its own back.
"""
from __future__ import annotations

import contextlib
import math

from jaxel.parallel import axes as _axes
from jaxel.sharding.spec import UNCONSTRAINED, PartitionSpec
from jaxel.tracing.avals import ShapedArray
from jaxel.tracing.core import Primitive, _state
from jaxel.jaxpr.ir import DerivedJaxprs

shard_map_p = Primitive("shard_map", multiple_results=True)


# ---- specs and avals --------------------------------------------------------------------------
def _entries(spec, ndim):
    return spec._normalized(ndim)[:ndim]


def _factor(entry, sizes) -> int:
    return math.prod(sizes[n] for n in entry)


def _block_aval(aval, spec, mesh, what):
    """The per-device block of a global ``aval`` split as ``spec`` says (errors name ``what``)."""
    if len(spec) > aval.ndim:
        raise ValueError(f"shard_map: in_specs {spec!r} for {what} has {len(spec)} entries, "
                         f"but {what} has rank {aval.ndim} (shape {aval.shape}); a spec may "
                         "not be longer than the array's rank.")
    sizes = dict(zip(mesh.axis_names, mesh.axis_sizes))
    shape = []
    for i, (d, e) in enumerate(zip(aval.shape, _entries(spec, aval.ndim))):
        f = _factor(e, sizes)
        if d % f:
            axes = " * ".join(f"{n!r}={sizes[n]}" for n in e)
            raise ValueError(
                f"shard_map: {what} of shape {aval.shape} cannot be split as {spec!r}: its "
                f"dimension {i} (size {d}) is not divisible by the mesh axes {axes} "
                f"(product {f}).")
        shape.append(d // f)
    return ShapedArray(tuple(shape), aval.dtype, aval.weak_type)


def _global_aval(aval, spec, mesh):
    sizes = dict(zip(mesh.axis_names, mesh.axis_sizes))
    shape = tuple(d * _factor(e, sizes) for d, e in zip(aval.shape, _entries(spec, aval.ndim)))
    return ShapedArray(shape, aval.dtype, aval.weak_type)


def _check_spec(spec, mesh, manual, what):
    if not isinstance(spec, PartitionSpec):
        raise TypeError(f"shard_map: {what} must be PartitionSpecs (jaxel.P(...)), got "
                        f"{spec!r} of type {type(spec).__name__}.")
    seen = set()
    for e in spec:
        if e is UNCONSTRAINED:
            raise ValueError(f"shard_map: {what} {spec!r} uses P.UNCONSTRAINED, which shard_map "
                             "does not accept.")
    for n in spec._axis_names():
        if n not in mesh.axis_names:
            raise ValueError(f"shard_map: {what} {spec!r} names the axis {n!r}, which the mesh "
                             f"does not have; its axes are {mesh.axis_names}.")
        if n not in manual:
            raise ValueError(f"shard_map: {what} {spec!r} names the axis {n!r}, which is not "
                             f"one of the manual axes {manual} (axis_names).")
        if n in seen:
            raise ValueError(f"shard_map: {what} {spec!r} uses the mesh axis {n!r} twice.")
        seen.add(n)


def _spec_names(spec) -> frozenset:
    return frozenset(spec._axis_names())


def _all_axes_spec(manual, ndim):
    """The spec of a residual: its leading dimension split over every manual axis."""
    return PartitionSpec(tuple(manual) if len(manual) > 1 else manual[0]) if manual and ndim \
        else PartitionSpec()


# ---- the primitive's rules --------------------------------------------------------------------
def _abstract_eval(*avals, jaxpr, mesh, in_specs, out_specs, manual_axes, check_vma):
    return [_global_aval(a, s, mesh) for a, s in zip(jaxpr.out_avals, out_specs)]


def _sdy_value(spec, ndim, symbol):
    dims = ", ".join("{" + ", ".join(f'"{n}"' for n in e) + "}" for e in _entries(spec, ndim))
    return f"<@{symbol}, [{dims}]>"


def _lowering(ctx, *args, jaxpr, mesh, in_specs, out_specs, manual_axes, check_vma):
    from jaxel.lowering.emitter import tensor_type
    from jaxel.lowering.lower import lower_jaxpr_body
    e, module = ctx.e, ctx.module
    sizes = dict(zip(mesh.axis_names, mesh.axis_sizes))
    if math.prod(sizes[n] for n in manual_axes) == 1:
        # Blocks are the whole arrays: the body is the program (as JAX, no manual region).
        consts = [e.constant(c, v.aval) for v, c in zip(jaxpr.jaxpr.constvars, jaxpr.consts)]
        with _axes.lowering_mesh(mesh, manual_axes):
            return lower_jaxpr_body(e, jaxpr.jaxpr, consts, list(args), module)
    if module is None or not hasattr(module, "mesh_symbol"):
        raise NotImplementedError("shard_map: this program is lowered without a module context "
                                  "that can declare meshes.")
    sym = module.mesh_symbol(mesh)
    in_sh = ", ".join(_sdy_value(s, a.ndim, sym) for s, a in zip(in_specs, ctx.avals_in))
    out_sh = ", ".join(_sdy_value(s, a.ndim, sym) for s, a in zip(out_specs, ctx.avals_out))
    saved_lines, indent = e.lines, e.indent
    e.lines, e.indent = [], indent + "  "
    block_names = []
    for v in jaxpr.jaxpr.invars:
        n = e.fresh().replace("%", "%r")
        e.add_value(n, tensor_type(v.aval))
        block_names.append(n)
    try:
        consts = [e.constant(c, v.aval) for v, c in zip(jaxpr.jaxpr.constvars, jaxpr.consts)]
        with _axes.lowering_mesh(mesh, manual_axes):
            outs = lower_jaxpr_body(e, jaxpr.jaxpr, consts, block_names, module)
        ret_types = ", ".join(e.types[o] for o in outs)
        e.lines.append(f'{e.indent}"sdy.return"({", ".join(outs)}) : ({ret_types}) -> ()')
        body = e.lines
    finally:
        e.lines, e.indent = saved_lines, indent
    out_types = [tensor_type(a) for a in ctx.avals_out]
    base = e.fresh()
    if len(out_types) == 1:
        names, lhs = [base], f"{base} = "
    elif out_types:
        names, lhs = [f"{base}#{i}" for i in range(len(out_types))], f"{base}:{len(out_types)} = "
    else:
        names, lhs = [], ""
    for n, t in zip(names, out_types):
        e.add_value(n, t)
    manual = ", ".join(f'"{n}"' for n in manual_axes)
    blocks = ", ".join(f"{n}: {e.types[n]}" for n in block_names)
    in_types = ", ".join(e.types[a] for a in args)
    res = out_types[0] if len(out_types) == 1 else f"({', '.join(out_types)})"
    e.lines.append(f"{indent}{lhs}sdy.manual_computation({', '.join(args)}) "
                   f"in_shardings=[{in_sh}] out_shardings=[{out_sh}] manual_axes={{{manual}}} "
                   f"({blocks}) {{")
    e.lines.extend(body)
    e.lines.append(f"{indent}}} : ({in_types}) -> {res}")
    return names


def _pp_params(params):
    return {"mesh": params["mesh"], "in_specs": params["in_specs"],
            "out_specs": params["out_specs"], "manual_axes": params["manual_axes"],
            "check_vma": params["check_vma"], "jaxpr": params["jaxpr"]}


shard_map_p.abstract_eval = _abstract_eval
shard_map_p.lowering = _lowering
shard_map_p.pp_params = _pp_params


def _named_axes(params):
    from jaxel.transforms.batching import jaxpr_axis_names
    return jaxpr_axis_names(params["jaxpr"]) - frozenset(params["manual_axes"])


shard_map_p.named_axes = _named_axes


def bind_body(closed, args, params):
    """Bind ``shard_map_p`` on the body ``closed`` (array constants become leading operands,
    replicated), with ``params``' in_specs covering ``args``."""
    from jaxel.jit_primitive import closure_convert
    closed, consts = closure_convert(closed)
    in_specs = (PartitionSpec(),) * len(consts) + tuple(params["in_specs"])
    return shard_map_p.bind(*consts, *args, **dict(params, jaxpr=closed, in_specs=in_specs))


@contextlib.contextmanager
def _env(params):
    """The body's axis environment, for transforming it (its derived bodies keep its casts)."""
    from jaxel.parallel.vma import plain_staging
    with _axes.manual_axes_env(params["mesh"], params["manual_axes"], params["check_vma"]), \
            plain_staging():
        yield


# Derived bodies (JVP, known/unknown split, transpose, batched) cached per body jaxpr.
_derived = DerivedJaxprs()
_cached = _derived.get


# ---- eager: one SPMD program ------------------------------------------------------------------
def _impl(*args, **params):
    from jaxel.parallel import _spmd
    return _spmd.run_shard_map(args, params)


shard_map_p.impl = _impl


# ---- forward mode -----------------------------------------------------------------------------
def _jvp(primals, tangents, **params):
    from jaxel.transforms.ad_util import Zero, tangent_aval
    from jaxel.transforms.jvp import jvp_jaxpr
    jaxpr = params["jaxpr"]
    nonzeros = tuple(type(t) is not Zero for t in tangents)
    with _env(params):
        jvp_closed, nz_out = _cached(jaxpr, ("jvp", nonzeros),
                                     lambda: jvp_jaxpr(jaxpr, nonzeros))
    nz_t = [t for t in tangents if type(t) is not Zero]
    in_specs = tuple(params["in_specs"]) + tuple(
        s for s, nz in zip(params["in_specs"], nonzeros) if nz)
    out_specs = tuple(params["out_specs"]) + tuple(
        s for s, nz in zip(params["out_specs"], nz_out) if nz)
    outs = bind_body(jvp_closed, list(primals) + nz_t,
                     dict(params, in_specs=in_specs, out_specs=out_specs))
    n = len(jaxpr.out_avals)
    it = iter(outs[n:])
    g_out = _abstract_eval(**params)
    t_outs = [next(it) if nz else Zero(tangent_aval(a)) for a, nz in zip(g_out, nz_out)]
    return outs[:n], t_outs


shard_map_p.jvp = _jvp


# ---- reverse mode: known/unknown split and transpose -------------------------------------------
def _split(params, unknowns):
    """The body split into known and unknown halves, residuals given a leading 1-dimension.

    Returns ``(known, unknown, out_unknowns, num_res)`` as ``partial_eval_jaxpr`` does."""
    jaxpr = params["jaxpr"]

    def make():
        from jaxel.jaxpr.eval import eval_jaxpr
        from jaxel.jaxpr.staging import trace_to_jaxpr
        from jaxel.lax.shape_ops import reshape
        from jaxel.transforms.partial_eval import partial_eval_jaxpr
        with _env(params):
            known, unknown, out_unk, num_res = partial_eval_jaxpr(jaxpr, list(unknowns))
            n_known_out = len(known.out_avals) - num_res
            res_avals = known.out_avals[n_known_out:]

            def known_fun(*xs):
                outs = eval_jaxpr(known.jaxpr, known.consts, *xs)
                return list(outs[:n_known_out]) + [
                    reshape(r, (1,) + a.shape) for r, a in zip(outs[n_known_out:], res_avals)]

            def unknown_fun(*xs):
                res = [reshape(r, a.shape) for r, a in zip(xs[:num_res], res_avals)]
                return eval_jaxpr(unknown.jaxpr, unknown.consts, *res, *xs[num_res:])

            k2 = trace_to_jaxpr(known_fun, list(known.in_avals))
            u_in = [a.update(shape=(1,) + a.shape) for a in res_avals]
            u2 = trace_to_jaxpr(unknown_fun, u_in + list(unknown.in_avals[num_res:]))
        return k2, u2, out_unk, num_res

    return _cached(jaxpr, ("pe", tuple(unknowns)), make)


def _res_specs(params, num_res):
    spec = _all_axes_spec(tuple(params["manual_axes"]), 1)
    return (spec,) * num_res


def _partial_eval(trace, args, params):
    from jaxel.jaxpr.staging import JaxprTrace
    unknowns = tuple(trace.is_unknown(x) for x in args)
    known, unknown, out_unk, num_res = _split(params, unknowns)
    in_specs, out_specs = params["in_specs"], params["out_specs"]
    res_specs = _res_specs(params, num_res)
    k_params = dict(params, in_specs=tuple(s for s, u in zip(in_specs, unknowns) if not u),
                    out_specs=tuple(s for s, u in zip(out_specs, out_unk) if not u) + res_specs)
    prev = _state.trace
    _state.trace = trace.parent
    try:
        k_outs = bind_body(known, [x for x, u in zip(args, unknowns) if not u], k_params)
    finally:
        _state.trace = prev
    n_known = len(k_outs) - num_res
    known_outs, residuals = k_outs[:n_known], k_outs[n_known:]
    u_params = dict(params, jaxpr=unknown,
                    in_specs=res_specs + tuple(s for s, u in zip(in_specs, unknowns) if u),
                    out_specs=tuple(s for s, u in zip(out_specs, out_unk) if u))
    u_args = list(residuals) + [x for x, u in zip(args, unknowns) if u]
    u_outs = JaxprTrace.process_primitive(trace, shard_map_p, u_args, u_params)
    k_it, u_it = iter(known_outs), iter(u_outs)
    return [next(u_it) if u else next(k_it) for u in out_unk]


def _partial_eval_jaxpr_eqn(eqn, ins_unknown):
    """Split a shard_map equation of a jaxpr into known and unknown equations."""
    from jaxel.jaxpr.ir import JaxprEqn, Var
    params = eqn.params
    known, unknown, out_unk, num_res = _split(params, tuple(ins_unknown))
    mesh = params["mesh"]
    res_specs = _res_specs(params, num_res)
    n_known = len(known.out_avals) - num_res
    res_vars = [Var(_global_aval(a, s, mesh))
                for a, s in zip(known.out_avals[n_known:], res_specs)]
    in_specs, out_specs = params["in_specs"], params["out_specs"]
    k_in = [a for a, u in zip(eqn.invars, ins_unknown) if not u]
    k_out = [v for v, u in zip(eqn.outvars, out_unk) if not u] + res_vars
    u_in = res_vars + [a for a, u in zip(eqn.invars, ins_unknown) if u]
    u_out = [v for v, u in zip(eqn.outvars, out_unk) if u]
    k_params = dict(params, jaxpr=known,
                    in_specs=tuple(s for s, u in zip(in_specs, ins_unknown) if not u),
                    out_specs=tuple(s for s, u in zip(out_specs, out_unk) if not u) + res_specs)
    u_params = dict(params, jaxpr=unknown,
                    in_specs=res_specs + tuple(s for s, u in zip(in_specs, ins_unknown) if u),
                    out_specs=tuple(s for s, u in zip(out_specs, out_unk) if u))
    # The bodies keep their array constants (emitted inline when lowered).
    return (JaxprEqn(shard_map_p, k_in, k_out, k_params),
            JaxprEqn(shard_map_p, u_in, u_out, u_params), out_unk)


def _transpose(cts, *args, **params):
    from jaxel.transforms.ad_util import Zero, is_undefined
    jaxpr = params["jaxpr"]
    linear = tuple(is_undefined(a) for a in args)
    ct_zero = tuple(type(c) is Zero for c in cts)
    in_specs, out_specs = params["in_specs"], params["out_specs"]
    t_closed = _cached(jaxpr, ("transpose", linear, ct_zero),
                       lambda: _transposed_body(params, linear, ct_zero))
    operands = [a for a, lin in zip(args, linear) if not lin]
    operands += [c for c, z in zip(cts, ct_zero) if not z]
    t_params = dict(params,
                    in_specs=tuple(s for s, lin in zip(in_specs, linear) if not lin) +
                    tuple(s for s, z in zip(out_specs, ct_zero) if not z),
                    out_specs=tuple(s for s, lin in zip(in_specs, linear) if lin))
    outs = bind_body(t_closed, operands, t_params)
    it = iter(outs)
    return [next(it) if lin else None for lin in linear]


def _transposed_body(params, linear, ct_zero):
    """The body's transpose. Without check_vma (pmap's semantics, JAX's rule) a cotangent
    entering through an output replicated over some axes is divided among them, and one leaving
    through an input replicated over some axes is summed over them."""
    from jaxel.transforms.transpose import transpose_jaxpr
    jaxpr = params["jaxpr"]
    with _env(params):
        t = transpose_jaxpr(jaxpr, list(linear), list(ct_zero))
    if params["check_vma"]:
        return t
    from jaxel.jaxpr.eval import eval_jaxpr
    from jaxel.jaxpr.staging import trace_to_jaxpr
    from jaxel.lax import parallel as P
    from jaxel.lax.elementwise import div
    from jaxel.tracing.core import literal
    manual = tuple(params["manual_axes"])
    sizes = dict(zip(params["mesh"].axis_names, params["mesh"].axis_sizes))
    n_nonlin = sum(not lin for lin in linear)
    ct_specs = [s for s, z in zip(params["out_specs"], ct_zero) if not z]
    lin_specs = [s for s, lin in zip(params["in_specs"], linear) if lin]

    def fun(*xs):
        xs = list(xs)
        for i, spec in enumerate(ct_specs):
            un = [n for n in manual if n not in _spec_names(spec)]
            k = math.prod(sizes[n] for n in un)
            x = xs[n_nonlin + i]
            if k != 1 and x.aval.dtype.kind in "fc":
                xs[n_nonlin + i] = div(x, literal(k, x.aval.dtype, False))
        outs = eval_jaxpr(t.jaxpr, t.consts, *xs)
        res = []
        for o, spec in zip(outs, lin_specs):
            un = tuple(n for n in manual if n not in _spec_names(spec))
            res.append(P.psum_p.bind(o, axes=un) if un else o)
        return res

    with _env(params):
        return trace_to_jaxpr(fun, list(t.in_avals))


shard_map_p.partial_eval = _partial_eval
shard_map_p.partial_eval_jaxpr_eqn = _partial_eval_jaxpr_eqn
shard_map_p.transpose = _transpose


# ---- batching: vmap of a shard_map batches its body ---------------------------------------------
def _batch_axis(axis, args, dims, **params):
    from jaxel.transforms.batching import batch_jaxpr, move_axis
    args = [x if d is None else move_axis(x, d, 0) for x, d in zip(args, dims)]
    in_dims = [None if d is None else 0 for d in dims]
    with _env(params):
        # Outputs that do not depend on the batch stay unbatched (jacfwd relies on it).
        _, free = batch_jaxpr(params["jaxpr"], axis, in_dims)
        out_dims = [None if d is None else 0 for d in free]
        new, _ = batch_jaxpr(params["jaxpr"], axis, in_dims, out_dims)
    in_specs = tuple(s if d is None else PartitionSpec(None, *s)
                     for s, d in zip(params["in_specs"], in_dims))
    out_specs = tuple(s if d is None else PartitionSpec(None, *s)
                      for s, d in zip(params["out_specs"], out_dims))
    outs = bind_body(new, args, dict(params, in_specs=in_specs, out_specs=out_specs))
    return outs, out_dims


shard_map_p.batch_axis = _batch_axis


# ---- dead-code elimination ---------------------------------------------------------------------
def _dce(eqn, used_outs):
    from jaxel.jaxpr.dce import dce_closed_jaxpr
    from jaxel.jaxpr.ir import JaxprEqn
    p = eqn.params
    new, used_ins = _cached(p["jaxpr"], ("dce", tuple(used_outs)),
                            lambda: dce_closed_jaxpr(p["jaxpr"], list(used_outs),
                                                     prune_invars=True))
    params = dict(p, jaxpr=new,
                  in_specs=tuple(s for s, u in zip(p["in_specs"], used_ins) if u),
                  out_specs=tuple(s for s, u in zip(p["out_specs"], used_outs) if u))
    return (JaxprEqn(shard_map_p, [a for a, u in zip(eqn.invars, used_ins) if u],
                     [v for v, u in zip(eqn.outvars, used_outs) if u], params), used_ins)


shard_map_p.dce = _dce

__all__ = ["shard_map_p", "bind_body"]
