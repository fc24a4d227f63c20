"""``jit_p``: the higher-order primitive that a jitted call becomes under any trace.

Its one parameter of substance is ``jaxpr`` (a ClosedJaxpr). Because evaluating a jaxpr goes
through ``bind``, transformations of jitted functions compose with no special cases: eagerly
the primitive compiles and runs the whole jaxpr; while staging it becomes one equation; when
lowering, the inner jaxpr is emitted inline (XLA would inline a call anyway).
"""
from __future__ import annotations

from jaxel.runtime import host_callbacks as _host_callbacks

import weakref

from jaxel.lowering.lower import lower_jaxpr_body, lower_jaxpr_to_module
from jaxel.runtime import client as _client
from jaxel.runtime import compile_cache
from jaxel.runtime.array import Array
from jaxel.tracing.core import Primitive
from jaxel.jaxpr.ir import DerivedJaxprs

jit_p = Primitive("jit", multiple_results=True)


def _abstract_eval(*avals, jaxpr, name, donated_invars=(), keep_unused=False, inline=False):
    return jaxpr.out_avals


def _lowering(ctx, *args, jaxpr, name, donated_invars=(), keep_unused=False, inline=False):
    # Bound jaxprs carry no array constants: ``closure_convert`` turned them into operands,
    # so the enclosing trace passes them (large arrays never land in the program text).
    e = ctx.e
    const_names = [e.constant(c, v.aval) for v, c in zip(jaxpr.jaxpr.constvars, jaxpr.consts)]
    return lower_jaxpr_body(e, jaxpr.jaxpr, const_names, list(args), ctx.module)


def closure_convert(closed):
    """Turn every non-scalar constant of ``closed`` into a leading input.

    Returns ``(closed_without_array_consts, consts)``; bind the primitive with ``consts`` as the
    first operands.
    """
    from jaxel.jaxpr.ir import ClosedJaxpr, Jaxpr
    from jaxel.lowering.lower import is_inlinable_const
    jaxpr = closed.jaxpr
    keep_v, keep_c, lift_v, lift_c = [], [], [], []
    for v, c in zip(jaxpr.constvars, closed.consts):
        if is_inlinable_const(c):
            keep_v.append(v)
            keep_c.append(c)
        else:
            lift_v.append(v)
            lift_c.append(c)
    if not lift_v:
        return closed, []
    new = Jaxpr(keep_v, lift_v + jaxpr.invars, jaxpr.outvars, jaxpr.eqns, jaxpr.debug_info)
    return ClosedJaxpr(new, keep_c), lift_c


def deleted_argument_error(bufs, avals):
    """The error for running an executable on a deleted (or donated) buffer, or None when no
    buffer among ``bufs`` (arguments of types ``avals``) is deleted.

    XLA's own error names only a flat argument index; this names the array as JAX does.
    """
    for i, (b, aval) in enumerate(zip(bufs, avals)):
        if b.is_deleted():
            return RuntimeError(
                f"Array has been deleted with shape={aval.str_short()} (argument {i} of the "
                "call): it was deleted with .delete() or its buffer was donated to an earlier "
                "jitted call (donate_argnums / donate_argnames). Use a fresh array.")
    return None


class CompiledJaxpr:
    """An executable for a closed jaxpr, plus what it needs at call time."""

    __slots__ = ("exe", "in_avals", "out_avals", "const_bufs", "device", "text", "handlers")

    def __init__(self, closed, name, device=None, donated=()):
        from jaxel.tracing.eval_trace import to_device_array
        text, const_args = lower_jaxpr_to_module(closed, name=f"jit_{name}", donated=donated)
        dev = device if device is not None else _client.default_device()
        self.exe = compile_cache.compile_module(text, (dev,), name=f"jit_{name}")
        self.in_avals = closed.in_avals
        self.out_avals = closed.out_avals
        from jaxel import guards
        with guards.quiet():  # the program's constants, placed once when it is compiled (as JAX)
            self.const_bufs = [to_device_array(c, device)._buf for c in const_args]
        self.device = device
        self.text = text
        self.handlers = _client.result_handlers(self.out_avals, device)

    def run(self, bufs):
        """Execute on runtime buffers; returns the list of output Arrays."""
        args = bufs
        if self.const_bufs:
            bufs = bufs + self.const_bufs
        try:
            outs = self.exe.execute_sharded(bufs).consume_with_handlers(self.handlers)
        except RuntimeError as e:
            _host_callbacks.reraise(e)  # a callback's own exception, if one failed
            err = deleted_argument_error(args, self.in_avals)
            if err is None:
                raise
            raise err from None
        device = self.device
        return [Array(o, a, device) for o, a in zip(outs, self.out_avals)]


# Executables for jaxprs run through jit_p's eager rule, held as long as the jaxpr lives.
_compiled_by_jaxpr: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


# Partitioned programs for jaxprs run through jit_p's eager rule on arrays over several devices.
_partitioned_by_jaxpr: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _impl(*args, jaxpr, name, donated_invars=(), keep_unused=False, inline=False):
    from jaxel.tracing.eval_trace import to_device_array
    arrays = [to_device_array(x) for x in args]
    device = next((a._device for a in arrays if a._device is not None), None)
    from jaxel.sharding.program import jaxpr_mesh
    if (device is not None and not hasattr(device, "platform")) or jaxpr_mesh(jaxpr):
        from jaxel.sharding.program import run_partitioned
        donated = tuple(i for i, d in enumerate(donated_invars) if d)
        out = run_partitioned(_partitioned_by_jaxpr.setdefault(jaxpr, {}), jaxpr, name, arrays,
                              donated=donated)
        if out is not None:
            return out
    per_device = _compiled_by_jaxpr.setdefault(jaxpr, {})
    compiled = per_device.get(device)
    if compiled is None:
        donated = tuple(i for i, d in enumerate(donated_invars) if d)
        compiled = per_device[device] = CompiledJaxpr(jaxpr, name, device, donated)
    return compiled.run([a._buf for a in arrays])


def _pp_params(params):
    shown = {"name": params["name"], "jaxpr": params["jaxpr"]}
    if any(params.get("donated_invars", ())):
        shown["donated_invars"] = params["donated_invars"]
    for flag in ("keep_unused", "inline"):
        if params.get(flag):
            shown[flag] = True
    return shown


jit_p.pp_params = _pp_params
jit_p.abstract_eval = _abstract_eval
jit_p.lowering = _lowering
jit_p.impl = _impl


# ---- differentiation rules -------------------------------------------------------------------
# The derived jaxprs (JVP, known/unknown split, transpose) are cached per jaxpr object, so a
# jitted function differentiated in a Python loop traces and compiles each derived program once.
_derived = DerivedJaxprs()
_cached = _derived.get


def _bind_closed(closed, args, params, name):
    """Bind ``jit_p`` on ``closed`` (array constants become leading operands)."""
    closed, consts = closure_convert(closed)
    n = len(consts) + len(args)
    return jit_p.bind(*consts, *args, jaxpr=closed, name=name, donated_invars=(False,) * n,
                      keep_unused=params.get("keep_unused", False),
                      inline=params.get("inline", False))


def _jvp(primals, tangents, **params):
    from jaxel.transforms.ad_util import Zero, tangent_aval
    from jaxel.transforms.jvp import jvp_jaxpr
    jaxpr = params["jaxpr"]
    nonzeros = tuple(type(t) is not Zero for t in tangents)
    jvp_closed, nz_out = _cached(jaxpr, ("jvp", nonzeros), lambda: jvp_jaxpr(jaxpr, nonzeros))
    nz_tangents = [t for t in tangents if type(t) is not Zero]
    # Derived programs keep the function's name, as in JAX's jaxprs (``jit[name=f]``).
    outs = _bind_closed(jvp_closed, list(primals) + nz_tangents, params, params["name"])
    n = len(jaxpr.out_avals)
    it = iter(outs[n:])
    t_outs = [next(it) if nz else Zero(tangent_aval(a)) for a, nz in zip(jaxpr.out_avals, nz_out)]
    return outs[:n], t_outs


def _partial_eval(trace, args, params):
    """Run the known part of the jitted computation now and stage the unknown part."""
    from jaxel.jaxpr.staging import JaxprTrace
    from jaxel.tracing.core import _state
    from jaxel.transforms.partial_eval import partial_eval_jaxpr
    jaxpr = params["jaxpr"]
    unknowns = tuple(trace.is_unknown(x) for x in args)
    known, unknown, out_unknowns, num_res = _cached(
        jaxpr, ("pe", unknowns), lambda: partial_eval_jaxpr(jaxpr, unknowns))
    known_args = [x for x, u in zip(args, unknowns) if not u]
    prev = _state.trace
    _state.trace = trace.parent
    try:
        k_outs = _bind_closed(known, known_args, params, params["name"])
    finally:
        _state.trace = prev
    n_known = len(k_outs) - num_res
    known_outs, residuals = k_outs[:n_known], k_outs[n_known:]
    u_args = residuals + [x for x, u in zip(args, unknowns) if u]
    u_params = dict(params, jaxpr=unknown, donated_invars=(False,) * len(u_args))
    u_outs = JaxprTrace.process_primitive(trace, jit_p, u_args, u_params)
    k_it, u_it = iter(known_outs), iter(u_outs)
    return [next(u_it) if u else next(k_it) for u in out_unknowns]


def _partial_eval_jaxpr_eqn(eqn, ins_unknown):
    """Split a ``jit`` equation of a jaxpr into its known and unknown halves."""
    from jaxel.jaxpr.ir import JaxprEqn, Var
    from jaxel.transforms.partial_eval import partial_eval_jaxpr
    jaxpr = eqn.params["jaxpr"]
    key = ("pe", tuple(ins_unknown))
    known, unknown, out_unknowns, num_res = _cached(
        jaxpr, key, lambda: partial_eval_jaxpr(jaxpr, list(ins_unknown)))
    res_vars = [Var(a) for a in known.out_avals[len(known.out_avals) - num_res:]]
    k_in = [a for a, u in zip(eqn.invars, ins_unknown) if not u]
    k_out = [v for v, u in zip(eqn.outvars, out_unknowns) if not u] + res_vars
    u_in = res_vars + [a for a, u in zip(eqn.invars, ins_unknown) if u]
    u_out = [v for v, u in zip(eqn.outvars, out_unknowns) if u]
    k_eqn = JaxprEqn(jit_p, k_in, k_out,
                     dict(eqn.params, jaxpr=known, donated_invars=(False,) * len(k_in)))
    u_eqn = JaxprEqn(jit_p, u_in, u_out,
                     dict(eqn.params, jaxpr=unknown, donated_invars=(False,) * len(u_in)))
    return k_eqn, u_eqn, out_unknowns


def _transpose(cts, *args, **params):
    from jaxel.transforms.ad_util import Zero, is_undefined
    from jaxel.transforms.transpose import transpose_jaxpr
    jaxpr = params["jaxpr"]
    linear = tuple(is_undefined(a) for a in args)
    ct_zero = tuple(type(c) is Zero for c in cts)
    t_closed = _cached(jaxpr, ("transpose", linear, ct_zero),
                       lambda: transpose_jaxpr(jaxpr, linear, ct_zero))
    operands = [a for a, lin in zip(args, linear) if not lin]
    operands += [c for c, z in zip(cts, ct_zero) if not z]
    outs = _bind_closed(t_closed, operands, params, params["name"])
    it = iter(outs)
    return [next(it) if lin else None for lin in linear]


jit_p.jvp = _jvp
jit_p.partial_eval = _partial_eval
jit_p.partial_eval_jaxpr_eqn = _partial_eval_jaxpr_eqn
jit_p.transpose = _transpose


# ---- batching rule ---------------------------------------------------------------------------
def _batch_axis(axis, args, dims, **params):
    """vmap of a jitted call: one jitted call of the vectorised jaxpr (cached per dims)."""
    from jaxel.transforms.batching import batch_jaxpr
    new, out_dims = batch_jaxpr(params["jaxpr"], axis, dims)
    return _bind_closed(new, list(args), params, params["name"]), out_dims


def _named_axes(params):
    from jaxel.transforms.batching import jaxpr_axis_names
    return jaxpr_axis_names(params["jaxpr"])


jit_p.batch_axis = _batch_axis
jit_p.named_axes = _named_axes


# ---- dead-code elimination ---------------------------------------------------------------------
def _dce(eqn, used_outs):
    from jaxel.jaxpr.dce import dce_closed_jaxpr
    from jaxel.jaxpr.ir import JaxprEqn
    jaxpr = eqn.params["jaxpr"]
    new, used_ins = _cached(jaxpr, ("dce", tuple(used_outs)),
                            lambda: dce_closed_jaxpr(jaxpr, list(used_outs), prune_invars=True))
    donated = tuple(d for d, u in zip(eqn.params.get("donated_invars", ()), used_ins) if u)
    params = dict(eqn.params, jaxpr=new,
                  donated_invars=donated or (False,) * sum(used_ins))
    return (JaxprEqn(jit_p, [a for a, u in zip(eqn.invars, used_ins) if u],
                     [v for v, u in zip(eqn.outvars, used_outs) if u], params), used_ins)


jit_p.dce = _dce
