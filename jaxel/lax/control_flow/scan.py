"""``lax.scan`` and what is built on it: ``fori_loop`` (static bounds), ``map``, plus
``associative_scan`` (a parallel prefix made of slices, no primitive).

``scan_p`` takes ``(*consts, *init_carry, *xs)`` and the body ``jaxpr`` (a ClosedJaxpr without
array constants) of type ``(consts, carry, x) -> (carry, y)``. Its results are the final carry
and the ``ys`` stacked along a new leading axis of size ``length``. Parameters: ``num_consts``,
``num_carry``, ``length``, ``reverse`` (visit positions ``length-1 .. 0``), ``unroll`` (body copies
per loop iteration) and ``linear`` (per operand, informational: which operands the scan is
linear in, as JAX prints it).

Rules, all in this module:

* **Lowering**: ``stablehlo.while`` over an i32 counter (i64 for huge lengths) carrying the
  carry and the ``ys`` buffers; each iteration slices ``xs`` with ``dynamic_slice`` and writes
  ``ys`` with ``dynamic_update_slice``. ``unroll=k`` is honoured: each loop iteration runs ``k``
  copies of the body, and the ``length % k`` leftover steps are emitted straight-line after the
  loop; a loop of at most one iteration (``unroll >= length``) is emitted with no ``while``.
  Constants and ``xs`` are read by the loop body from the enclosing function (StableHLO regions
  may capture values), so only the carry and ``ys`` travel through the loop state.
* **Eager**: no ``impl``: the eval trace compiles the one-equation program, so a scan outside
  ``jit`` is one cached XLA computation.
* **JVP**: a scan of the JVP'd body; which carry tangents are nonzero is found by a fixpoint.
* **Partial evaluation** (``partial_eval`` for traces, ``partial_eval_jaxpr_eqn`` for jaxprs):
  the body is split with ``partial_eval_jaxpr`` (so a ``checkpoint`` inside still decides what
  is saved), with a fixpoint on which carries are unknown. Residuals computed per iteration
  become extra stacked ``ys`` of the known scan and extra ``xs`` of the unknown one; residuals
  that are body inputs are forwarded instead (a known const stays a const, a known ``x`` is
  passed as the same ``xs`` operand), so loop-invariant values are never stacked.
* **Transpose** (a scan linear in some consts, the carry and some xs): a scan in the opposite
  direction of the transposed body; const cotangents accumulate in the carry.
* **Batching**: the body is batched with a fixpoint on which carries are batched; batched carry
  and consts keep their dims (the carry's at 0), ``xs``/``ys`` are batched at dimension 1 (the
  scan axis stays 0). ``named_axes`` lets collectives in the body see an enclosing vmap axis.
"""
from __future__ import annotations

import builtins
import operator
import weakref

import numpy as np

from jaxel import tree_util
from jaxel.jaxpr.eval import eval_jaxpr
from jaxel.jaxpr.ir import ClosedJaxpr, Jaxpr, JaxprEqn, Var
from jaxel.jaxpr.staging import JaxprTrace, trace_to_jaxpr
from jaxel.lax.control_flow.common import (avals_of, cached, promote_weak_carry, show_types,
                                           trace_fun, type_mismatch)
from jaxel.lowering.emitter import i64_array, tensor_type
from jaxel.lowering.lower import lower_jaxpr_body
from jaxel.tracing.avals import ShapedArray
from jaxel.tracing.core import Primitive, Tracer, _state
from jaxel.transforms import ad_util as _ad

scan_p = Primitive("scan", multiple_results=True)


def _split3(seq, a: int, b: int):
    seq = list(seq)
    return seq[:a], seq[a:a + b], seq[a + b:]


def _stacked(aval: ShapedArray, length: int) -> ShapedArray:
    return ShapedArray((length,) + aval.shape, aval.dtype, aval.weak_type)


def _unstacked(aval: ShapedArray) -> ShapedArray:
    return ShapedArray(aval.shape[1:], aval.dtype, aval.weak_type)


def _bind_scan(consts, init, xs, *, jaxpr, length, reverse, unroll, linear=None):
    """Bind ``scan_p`` on a body that takes ``(consts, carry, xs)``. The body may still hold
    array constants: they become extra leading consts."""
    from jaxel.jit_primitive import closure_convert
    jaxpr, hoisted = closure_convert(jaxpr)
    consts = list(hoisted) + list(consts)
    ops = consts + list(init) + list(xs)
    if linear is None:
        linear = (False,) * len(ops)
    else:
        linear = (False,) * len(hoisted) + tuple(linear)
    return scan_p.bind(*ops, jaxpr=jaxpr, num_consts=len(consts), num_carry=len(init),
                       length=int(length), reverse=bool(reverse), unroll=int(unroll),
                       linear=tuple(linear))


def _reorder(closed: ClosedJaxpr, in_perm, out_perm) -> ClosedJaxpr:
    """``closed`` with its inputs and outputs permuted (``new[i] = old[perm[i]]``)."""
    j = closed.jaxpr
    new = Jaxpr(j.constvars, [j.invars[i] for i in in_perm], [j.outvars[i] for i in out_perm],
                j.eqns, j.debug_info)
    return ClosedJaxpr(new, closed.consts)


# ---- abstract evaluation ---------------------------------------------------------------------
def _abstract_eval(*avals, jaxpr, num_consts, num_carry, length, reverse, unroll, linear):
    body_in = jaxpr.in_avals
    if len(avals) != len(body_in):
        raise TypeError(f"scan: the body takes {len(body_in)} operands, got {len(avals)}.")
    n_fixed = num_consts + num_carry
    for i, (a, b) in enumerate(zip(avals, body_in)):
        want = b if i < n_fixed else _stacked(b, length)
        if a.shape != want.shape or a.dtype != want.dtype:
            what = ("const" if i < num_consts else "carry" if i < n_fixed else "xs")
            raise TypeError(f"scan: operand {i} ({what}) is {a.str_short()} but the body "
                            f"expects {want.str_short()}.")
    carry = body_in[num_consts:n_fixed]
    return list(carry) + [_stacked(y, length) for y in jaxpr.out_avals[num_carry:]]


scan_p.abstract_eval = _abstract_eval


# ---- lowering ----------------------------------------------------------------------------------
def _lowering(ctx, *args, jaxpr, num_consts, num_carry, length, reverse, unroll, linear):
    from jaxel.lax.reductions import compare
    e = ctx.e
    consts, init, xs = _split3(args, num_consts, num_carry)
    x_avals = [_unstacked(a) for a in ctx.avals_in[num_consts + num_carry:]]
    carry_types = [tensor_type(a) for a in ctx.avals_out[:num_carry]]
    ys_avals = ctx.avals_out[num_carry:]
    ys_types = [tensor_type(a) for a in ys_avals]
    idx_dt = np.dtype(np.int32 if length < 2 ** 31 - 1 else np.int64)
    i_aval = ShapedArray((), idx_dt, False)
    i_t = tensor_type(i_aval)
    body = jaxpr.jaxpr

    def position(t):
        """The index of logical step ``t`` (an SSA name) into xs/ys."""
        if not reverse:
            return t
        return e.op1("stablehlo.subtract", [e.constant(length - 1, i_aval), t], i_t)

    def step(t, carry, ys):
        """Emit one application of the body at logical step ``t``."""
        pos = position(t)
        zero = e.constant(0, i_aval)
        x_vals = []
        for x, a in zip(xs, x_avals):
            starts = [pos] + [zero] * a.ndim
            sl = e.op1("stablehlo.dynamic_slice", [x, *starts],
                       tensor_type(_stacked(a, 1)), f"slice_sizes = {i64_array((1,) + a.shape)}")
            x_vals.append(e.op1("stablehlo.reshape", [sl], tensor_type(a)))
        const_names = [e.constant(c, v.aval) for v, c in zip(body.constvars, jaxpr.consts)]
        outs = lower_jaxpr_body(e, body, const_names, list(consts) + list(carry) + x_vals,
                                ctx.module)
        new_carry, y_vals = outs[:num_carry], outs[num_carry:]
        new_ys = []
        for buf, y, ya in zip(ys, y_vals, ys_avals):
            one = _unstacked(ya)
            y1 = e.op1("stablehlo.reshape", [y], tensor_type(_stacked(one, 1)))
            starts = [pos] + [zero] * one.ndim
            new_ys.append(e.op1("stablehlo.dynamic_update_slice", [buf, y1, *starts],
                                tensor_type(ya)))
        return list(new_carry), new_ys

    k = builtins.max(1, builtins.min(int(unroll), length)) if length else 1
    n_loop = length // k
    carry = list(init)
    ys = [e.constant(np.zeros((), a.dtype), a) for a in ys_avals]
    if n_loop > 1:
        def cond_region(i, *rest):
            return compare(e, i, e.constant(n_loop * k, i_aval), "LT", idx_dt)

        def body_region(i, *rest):
            c, y = list(rest[:num_carry]), list(rest[num_carry:])
            for j in range(k):
                t = i if j == 0 else e.op1("stablehlo.add", [i, e.constant(j, i_aval)], i_t)
                c, y = step(t, c, y)
            return [e.op1("stablehlo.add", [i, e.constant(k, i_aval)], i_t)] + c + y

        types = [i_t] + carry_types + ys_types
        regions = [e.region(types, cond_region), e.region(types, body_region)]
        outs = e.op("stablehlo.while", [e.constant(0, i_aval)] + carry + ys, types,
                    regions=regions)
        carry, ys = outs[1:1 + num_carry], outs[1 + num_carry:]
        done = n_loop * k
    else:
        done = 0
    for t in range(done, length):  # straight-line steps (leftovers, or a fully unrolled scan)
        carry, ys = step(e.constant(t, i_aval), carry, ys)
    return list(carry) + list(ys)


scan_p.lowering = _lowering
# No ``impl``: eagerly, the one-equation program is compiled (and cached) like any primitive.


# ---- JVP -----------------------------------------------------------------------------------------
def _jvp_body(closed: ClosedJaxpr, nonzeros, inst):
    """The JVP of ``closed`` taking ``(*primals, *nonzero tangents)`` and returning
    ``(*primal outs, *nonzero tangent outs)``; output tangents marked in ``inst`` are
    materialised (float ones). Returns ``(closed, nonzeros_out)``."""
    from jaxel.transforms.jvp import jvp_flat
    in_avals = list(closed.in_avals)
    tan_avals = [_ad.tangent_aval(a) for a, nz in zip(in_avals, nonzeros) if nz]
    store = {}

    def fun(*args):
        n = len(in_avals)
        it = iter(args[n:])
        tangents = [next(it) if nz else _ad.Zero(_ad.tangent_aval(a))
                    for a, nz in zip(in_avals, nonzeros)]
        outs, t_outs = jvp_flat(lambda *xs: eval_jaxpr(closed.jaxpr, closed.consts, *xs),
                                list(args[:n]), tangents, instantiate_zeros=False)
        t_outs = [_ad.instantiate(t) if i and type(t) is _ad.Zero
                  and _ad.is_differentiable_dtype(_ad.aval_of(o).dtype) else t
                  for o, t, i in zip(outs, t_outs, inst)]
        store["nz"] = [type(t) is not _ad.Zero for t in t_outs]
        return list(outs) + [t for t in t_outs if type(t) is not _ad.Zero]

    new = trace_to_jaxpr(fun, in_avals + tan_avals)
    return new, store["nz"]


def _jvp_plan(jaxpr, num_consts, num_carry, nonzeros):
    """Fixpoint on nonzero carry tangents, then the reordered JVP body:
    ``(consts, const tangents, carry, carry tangents, xs, xs tangents) ->
    (carry, carry tangents, ys, ys tangents)``."""
    const_nz, carry_nz, xs_nz = _split3(nonzeros, num_consts, num_carry)
    diff = [_ad.is_differentiable_dtype(a.dtype)
            for a in jaxpr.in_avals[num_consts:num_consts + num_carry]]
    ny = len(jaxpr.out_avals) - num_carry
    while True:
        _, nz_out = _jvp_body(jaxpr, const_nz + carry_nz + xs_nz, [False] * len(jaxpr.out_avals))
        new = [(a or b) and d for a, b, d in zip(carry_nz, nz_out[:num_carry], diff)]
        if new == carry_nz:
            break
        carry_nz = new
    body, nz_out = _jvp_body(jaxpr, const_nz + carry_nz + xs_nz, carry_nz + [False] * ny)
    assert nz_out[:num_carry] == carry_nz
    ys_nz = nz_out[num_carry:]
    n_in = len(nonzeros)
    nc, nk = num_consts, num_carry
    n_ct, n_kt = sum(const_nz), sum(carry_nz)
    n_xt = sum(xs_nz)
    base = n_in
    in_perm = (list(range(nc)) + list(range(base, base + n_ct)) +
               list(range(nc, nc + nk)) + list(range(base + n_ct, base + n_ct + n_kt)) +
               list(range(nc + nk, n_in)) + list(range(base + n_ct + n_kt,
                                                      base + n_ct + n_kt + n_xt)))
    n_out = len(jaxpr.out_avals)
    n_yt = sum(ys_nz)
    out_perm = (list(range(nk)) + list(range(n_out, n_out + n_kt)) + list(range(nk, n_out)) +
                list(range(n_out + n_kt, n_out + n_kt + n_yt)))
    return _reorder(body, in_perm, out_perm), carry_nz, ys_nz


def _jvp(primals, tangents, *, jaxpr, num_consts, num_carry, length, reverse, unroll, linear):
    nonzeros = tuple(type(t) is not _ad.Zero for t in tangents)
    body, carry_nz, ys_nz = cached(
        jaxpr, ("jvp", num_consts, num_carry, nonzeros),
        lambda: _jvp_plan(jaxpr, num_consts, num_carry, list(nonzeros)))
    consts, init, xs = _split3(primals, num_consts, num_carry)
    c_t, k_t, x_t = _split3(tangents, num_consts, num_carry)
    c_t = [t for t in c_t if type(t) is not _ad.Zero]
    k_t = [_ad.instantiate(t) for t, nz in zip(k_t, carry_nz) if nz]
    x_t = [t for t in x_t if type(t) is not _ad.Zero]
    l_c, l_k, l_x = _split3(linear, num_consts, num_carry)
    lin = (tuple(l_c) + (True,) * len(c_t) + tuple(l_k) + (True,) * len(k_t) + tuple(l_x) +
           (True,) * len(x_t))
    outs = _bind_scan(list(consts) + c_t, list(init) + k_t, list(xs) + x_t, jaxpr=body,
                      length=length, reverse=reverse, unroll=unroll, linear=lin)
    nk = len(init)
    carry_out, carry_t = outs[:nk], outs[nk:nk + len(k_t)]
    rest = outs[nk + len(k_t):]
    ny = len(ys_nz)
    ys, ys_t = rest[:ny], rest[ny:]
    out_avals = _abstract_eval(*[_ad.aval_of(p) for p in primals], jaxpr=jaxpr,
                               num_consts=num_consts, num_carry=num_carry, length=length,
                               reverse=reverse, unroll=unroll, linear=linear)
    it_k, it_y = iter(carry_t), iter(ys_t)
    t_out = [next(it_k) if nz else _ad.Zero(_ad.tangent_aval(a))
             for nz, a in zip(carry_nz, out_avals[:nk])]
    t_out += [next(it_y) if nz else _ad.Zero(_ad.tangent_aval(a))
              for nz, a in zip(ys_nz, out_avals[nk:])]
    return list(carry_out) + list(ys), t_out


scan_p.jvp = _jvp


# ---- partial evaluation ------------------------------------------------------------------------
class _SplitPlan:
    """How a scan splits into a known and an unknown scan (see ``_split``)."""

    __slots__ = ("known", "unknown", "const_uk", "carry_uk", "xs_uk", "out_uk", "res_const",
                 "res_xs", "stack_avals", "hoist")

    def __init__(self, **kw):
        for k, v in kw.items():
            setattr(self, k, v)


def _loop_invariant(kj, n_consts):
    """The variables of the known body ``kj`` computed from its consts alone."""
    from jaxel.jaxpr.dce import effectful_primitives
    inv = set(kj.constvars) | set(kj.invars[:n_consts])
    for eqn in kj.eqns:
        if eqn.primitive not in effectful_primitives and all(
                not isinstance(a, Var) or a in inv for a in eqn.invars):
            inv.update(eqn.outvars)
    return inv


def _forwarded(kj):
    """``{outvar: the variable it equals}`` for outputs of ``checkpoint``/``jit`` equations of
    ``kj`` that only forward one of their operands (a checkpoint's known half returns its inputs
    as residuals): so a forwarded const is still recognised as loop-invariant."""
    fwd = {}
    for eqn in kj.eqns:
        if eqn.primitive.name not in ("checkpoint", "jit"):
            continue
        inner = eqn.params.get("jaxpr")
        if not isinstance(inner, ClosedJaxpr):
            continue
        pos = {v: i for i, v in enumerate(inner.jaxpr.invars)}
        for ov, iv in zip(eqn.outvars, inner.jaxpr.outvars):
            j = pos.get(iv) if isinstance(iv, Var) else None
            if j is not None and isinstance(eqn.invars[j], Var):
                src = eqn.invars[j]
                fwd[ov] = fwd.get(src, src)
    return fwd


def _split(jaxpr, num_consts, num_carry, unknowns, hoist):
    """Split the body for known/unknown operands. With ``hoist``, residuals computed from the
    known consts alone are computed once, outside the loop (``plan.hoist``: known consts ->
    those residuals), and passed to the unknown scan as consts."""
    from jaxel.jaxpr.dce import dce_jaxpr
    from jaxel.transforms.partial_eval import partial_eval_jaxpr
    const_uk, carry_uk, xs_uk = _split3(unknowns, num_consts, num_carry)
    ny = len(jaxpr.out_avals) - num_carry
    while True:
        known, unknown, out_uk, num_res = partial_eval_jaxpr(
            jaxpr, const_uk + carry_uk + xs_uk, instantiate=carry_uk + [False] * ny)
        new = [a or b for a, b in zip(carry_uk, out_uk[:num_carry])]
        if new == carry_uk:
            break
        carry_uk = new
    body_in = jaxpr.jaxpr.invars
    where = {v: i for i, v in enumerate(body_in)}
    kj = known.jaxpr
    n_known_out = len(kj.outvars) - num_res
    res_vars = kj.outvars[n_known_out:]
    n_kc = num_consts - sum(const_uk)
    invariant = _loop_invariant(kj, n_kc) if hoist else set()
    fwd = _forwarded(kj)
    kinds, hoisted = [], []  # per residual: "const" | "hoist" | "xs" | "stack"
    for r in res_vars:
        r = fwd.get(r, r)
        i = where.get(r)
        if i is not None and i < num_consts:
            kinds.append(("const", i))
        elif i is not None and i >= num_consts + num_carry:
            kinds.append(("xs", i - num_consts - num_carry))
        elif r in invariant:
            kinds.append(("hoist",))
            hoisted.append(r)
        else:
            kinds.append(("stack",))
    stacked = [r for r, k in zip(res_vars, kinds) if k[0] == "stack"]
    hoist_closed = None
    if hoisted:
        hj, _ = dce_jaxpr(Jaxpr(kj.constvars, kj.invars[:n_kc], hoisted, kj.eqns,
                                kj.debug_info))
        hoist_closed = ClosedJaxpr(hj, known.consts)
    kj_new, _ = dce_jaxpr(Jaxpr(kj.constvars, kj.invars, kj.outvars[:n_known_out] + stacked,
                                kj.eqns, kj.debug_info))
    known = ClosedJaxpr(kj_new, [c for v, c in zip(kj.constvars, known.consts)
                                 if v in set(kj_new.constvars)])
    # Unknown body: (res consts, hoisted res, uk consts, uk carry, stacked res, forwarded xs
    # res, uk xs).
    uj = unknown.jaxpr
    res_in, rest = uj.invars[:num_res], uj.invars[num_res:]
    n_uc, n_uk = sum(const_uk), sum(carry_uk)
    uc, uk, ux = rest[:n_uc], rest[n_uc:n_uc + n_uk], rest[n_uc + n_uk:]

    def of(kind):
        return [v for v, k in zip(res_in, kinds) if k[0] == kind]
    invars = (of("const") + of("hoist") + list(uc) + list(uk) + of("stack") + of("xs") +
              list(ux))
    unknown = ClosedJaxpr(Jaxpr(uj.constvars, invars, uj.outvars, uj.eqns, uj.debug_info),
                          unknown.consts)
    return _SplitPlan(known=known, unknown=unknown, const_uk=const_uk, carry_uk=carry_uk,
                      xs_uk=xs_uk, out_uk=list(out_uk),
                      res_const=[k[1] for k in kinds if k[0] == "const"],
                      res_xs=[k[1] for k in kinds if k[0] == "xs"],
                      stack_avals=[r.aval for r in stacked], hoist=hoist_closed)


def _plan_for(params, unknowns, hoist):
    jaxpr = params["jaxpr"]
    nc, nk = params["num_consts"], params["num_carry"]
    return cached(jaxpr, ("pe", nc, nk, tuple(unknowns), hoist),
                  lambda: _split(jaxpr, nc, nk, list(unknowns), hoist))


def _known_and_unknown_operands(plan, params, args, hoisted=()):
    """``(known operands, known params, (unknown consts, unknown carry, unknown xs after the
    stacked residuals), unknown params)``; ``hoisted`` are the values of ``plan.hoist``."""
    nc, nk = params["num_consts"], params["num_carry"]
    consts, init, xs = _split3(args, nc, nk)
    lin_c, lin_k, lin_x = _split3(params["linear"], nc, nk)
    kc = [c for c, u in zip(consts, plan.const_uk) if not u]
    kk = [c for c, u in zip(init, plan.carry_uk) if not u]
    kx = [x for x, u in zip(xs, plan.xs_uk) if not u]
    k_lin = tuple(l for l, u in zip(list(lin_c) + list(lin_k) + list(lin_x),
                                    plan.const_uk + plan.carry_uk + plan.xs_uk) if not u)
    k_params = dict(params, jaxpr=plan.known, num_consts=len(kc), num_carry=len(kk),
                    linear=k_lin)
    u_consts = ([consts[j] for j in plan.res_const] + list(hoisted) +
                [c for c, u in zip(consts, plan.const_uk) if u])
    u_carry = [c for c, u in zip(init, plan.carry_uk) if u]
    u_xs_tail = [xs[j] for j in plan.res_xs] + [x for x, u in zip(xs, plan.xs_uk) if u]
    u_lin = ((False,) * (len(plan.res_const) + len(hoisted)) +
             tuple(l for l, u in zip(lin_c, plan.const_uk) if u) +
             tuple(l for l, u in zip(lin_k, plan.carry_uk) if u) +
             (False,) * (len(plan.stack_avals) + len(plan.res_xs)) +
             tuple(l for l, u in zip(lin_x, plan.xs_uk) if u))
    u_params = dict(params, jaxpr=plan.unknown, num_consts=len(u_consts),
                    num_carry=len(u_carry), linear=u_lin)
    return kc + kk + kx, k_params, (u_consts, u_carry, u_xs_tail), u_params


def _partial_eval(trace, args, params):
    """Run the known scan now (in the parent trace) and stage the unknown one, which reads
    the residuals saved per iteration."""
    unknowns = tuple(trace.is_unknown(x) for x in args)
    plan = _plan_for(params, unknowns, True)
    prev = _state.trace
    _state.trace = trace.parent
    try:
        hoisted = []
        if plan.hoist is not None:
            n_kc = len(plan.hoist.jaxpr.invars)
            known_consts = [c for c, u in zip(args[:params["num_consts"]], plan.const_uk)
                            if not u]
            assert len(known_consts) == n_kc
            hoisted = eval_jaxpr(plan.hoist.jaxpr, plan.hoist.consts, *known_consts)
        k_args, k_params, (u_consts, u_carry, u_xs_tail), u_params = \
            _known_and_unknown_operands(plan, params, args, hoisted)
        k_outs = scan_p.bind(*k_args, **k_params) if plan.known.out_avals else []
    finally:
        _state.trace = prev
    n_res = len(plan.stack_avals)
    n_known = len(k_outs) - n_res
    known_outs, stacked = k_outs[:n_known], k_outs[n_known:]
    u_args = u_consts + u_carry + list(stacked) + u_xs_tail
    u_outs = JaxprTrace.process_primitive(trace, scan_p, u_args, u_params)
    k_it, u_it = iter(known_outs), iter(u_outs)
    return [next(u_it) if u else next(k_it) for u in plan.out_uk]


def _partial_eval_jaxpr_eqn(eqn, ins_unknown):
    """The known and unknown scans as equations. Loop-invariant residuals are computed by the
    known side too: it is then one inlined ``jit`` equation holding the invariant computation
    and the known scan."""
    from jaxel.jit_primitive import jit_p
    params = eqn.params
    plan = _plan_for(params, ins_unknown, True)
    hoist_vars = [] if plan.hoist is None else [Var(a) for a in plan.hoist.out_avals]
    k_args, k_params, (u_consts, u_carry, u_xs_tail), u_params = \
        _known_and_unknown_operands(plan, params, eqn.invars, hoist_vars)
    length = params["length"]
    res_vars = [Var(_stacked(a, length)) for a in plan.stack_avals]
    k_out = [v for v, u in zip(eqn.outvars, plan.out_uk) if not u] + res_vars
    u_out = [v for v, u in zip(eqn.outvars, plan.out_uk) if u]
    u_eqn = JaxprEqn(scan_p, u_consts + u_carry + res_vars + u_xs_tail, u_out, u_params)
    if plan.hoist is None:
        k_eqn = JaxprEqn(scan_p, list(k_args), k_out, k_params) if k_out else None
        return k_eqn, u_eqn, plan.out_uk
    ins = [Var(a.aval) for a in k_args]
    n_kc = k_params["num_consts"]
    inner_h = [Var(a) for a in plan.hoist.out_avals]
    inner_s = [Var(v.aval) for v in k_out]
    eqns = [JaxprEqn(jit_p, ins[:n_kc], inner_h,
                     dict(jaxpr=plan.hoist, name="scan_invariants",
                          donated_invars=(False,) * n_kc, keep_unused=False, inline=True))]
    if k_out:
        eqns.append(JaxprEqn(scan_p, ins, inner_s, k_params))
    inner = ClosedJaxpr(Jaxpr([], ins, inner_s + inner_h, eqns), [])
    k_eqn = JaxprEqn(jit_p, list(k_args), k_out + hoist_vars,
                     dict(jaxpr=inner, name="scan_known", donated_invars=(False,) * len(ins),
                          keep_unused=False, inline=True))
    return k_eqn, u_eqn, plan.out_uk


scan_p.partial_eval = _partial_eval
scan_p.partial_eval_jaxpr_eqn = _partial_eval_jaxpr_eqn


# ---- transposition ---------------------------------------------------------------------------------
def _transpose_body(jaxpr, num_consts, num_carry, const_lin, xs_lin, ys_ct_zero):
    """The body of the transposed scan:
    ``(res consts, const ct accumulators, carry cts, res xs, nonzero ys cts) ->
    (const ct accumulators, carry cts, linear xs cts)``."""
    from jaxel.transforms.transpose import backward_pass
    in_avals = jaxpr.in_avals
    c_av, k_av, x_av = _split3(in_avals, num_consts, num_carry)
    y_av = jaxpr.out_avals[num_carry:]
    res_c_av = [a for a, l in zip(c_av, const_lin) if not l]
    acc_av = [_ad.tangent_aval(a) for a, l in zip(c_av, const_lin) if l]
    k_ct_av = [_ad.tangent_aval(a) for a in k_av]
    res_x_av = [a for a, l in zip(x_av, xs_lin) if not l]
    y_ct_av = [_ad.tangent_aval(a) for a, z in zip(y_av, ys_ct_zero) if not z]
    sizes = [len(res_c_av), len(acc_av), len(k_ct_av), len(res_x_av), len(y_ct_av)]

    def fun(*args):
        parts, o = [], 0
        for s in sizes:
            parts.append(list(args[o:o + s]))
            o += s
        res_c, acc, k_ct, res_x, y_ct = parts
        it_c, it_x = iter(res_c), iter(res_x)
        body_args = [_ad.UndefinedPrimal(a) if l else next(it_c) for a, l in zip(c_av, const_lin)]
        body_args += [_ad.UndefinedPrimal(a) for a in k_av]
        body_args += [_ad.UndefinedPrimal(a) if l else next(it_x) for a, l in zip(x_av, xs_lin)]
        it_y = iter(y_ct)
        cts_out = list(k_ct) + [_ad.Zero(_ad.tangent_aval(a)) if z else next(it_y)
                                for a, z in zip(y_av, ys_ct_zero)]
        cts_in = backward_pass(jaxpr.jaxpr, jaxpr.consts, body_args, cts_out)
        c_cts, k_cts, x_cts = _split3(cts_in, num_consts, num_carry)
        lin_c_cts = [ct for ct, l in zip(c_cts, const_lin) if l]
        new_acc = [a if type(ct) is _ad.Zero else _ad.add_tangents(a, ct)
                   for a, ct in zip(acc, lin_c_cts)]
        new_k = [_ad.instantiate(ct) for ct in k_cts]
        new_x = [_ad.instantiate(ct) for ct, l in zip(x_cts, xs_lin) if l]
        return new_acc + new_k + new_x

    # Cotangents keep their weak types (as JAX's do) when the body keeps the carried ones
    # unchanged; otherwise the carries are traced strongly typed, which is always consistent.
    avals = res_c_av + acc_av + k_ct_av + res_x_av + y_ct_av
    closed = trace_to_jaxpr(fun, avals)
    n_res, n_k = len(res_c_av), len(acc_av) + len(k_ct_av)
    if all(a.weak_type == b.weak_type
           for a, b in zip(avals[n_res:n_res + n_k], closed.out_avals[:n_k])):
        return closed
    return trace_to_jaxpr(fun, [a.update(weak_type=False) if a.weak_type else a for a in avals])


def _transpose(cts, *args, jaxpr, num_consts, num_carry, length, reverse, unroll, linear):
    consts, init, xs = _split3(args, num_consts, num_carry)
    const_lin = tuple(_ad.is_undefined(c) for c in consts)
    xs_lin = tuple(_ad.is_undefined(x) for x in xs)
    ct_carry, ct_ys = cts[:num_carry], cts[num_carry:]
    ys_ct_zero = tuple(type(c) is _ad.Zero for c in ct_ys)
    body = cached(jaxpr, ("transpose", num_consts, num_carry, const_lin, xs_lin, ys_ct_zero),
                  lambda: _transpose_body(jaxpr, num_consts, num_carry, const_lin, xs_lin,
                                          ys_ct_zero))
    res_c = [c for c, l in zip(consts, const_lin) if not l]
    n_acc = sum(const_lin)
    carry_av = body.in_avals[len(res_c):len(res_c) + n_acc + num_carry]
    acc0 = [_ad.zeros_like_aval(a) for a in carry_av[:n_acc]]
    k_ct = [_ad.zeros_like_aval(a) if type(c) is _ad.Zero else _with_weak_type(c, a.weak_type)
            for c, a in zip(ct_carry, carry_av[n_acc:])]
    res_x = [x for x, l in zip(xs, xs_lin) if not l]
    y_ct = [c for c in ct_ys if type(c) is not _ad.Zero]
    lin = ((False,) * len(res_c) + (True,) * (n_acc + len(k_ct)) + (False,) * len(res_x) +
           (True,) * len(y_ct))
    outs = _bind_scan(res_c, acc0 + k_ct, res_x + y_ct, jaxpr=body, length=length,
                      reverse=not reverse, unroll=unroll, linear=lin)
    acc, k_out, x_out = outs[:n_acc], outs[n_acc:n_acc + num_carry], outs[n_acc + num_carry:]
    it_a, it_x = iter(acc), iter(x_out)
    result = [next(it_a) if l else None for l in const_lin]
    # Every carry is transposed as linear; a carry operand that is a known value (a zero
    # tangent instantiated by the JVP rule) simply gets no cotangent.
    result += [ct if _ad.is_undefined(a) else None for ct, a in zip(k_out, init)]
    result += [next(it_x) if l else None for l in xs_lin]
    return result


scan_p.transpose = _transpose


def _with_weak_type(x, weak):
    """``x`` with the given weak type (a loop carry must keep one type)."""
    a = _ad.aval_of(x)
    if a.weak_type == weak:
        return x
    from jaxel.lax.elementwise import convert_element_type_p
    return convert_element_type_p.bind(x, new_dtype=a.dtype, weak_type=weak, sharding=None)


# ---- batching ----------------------------------------------------------------------------------
def _batch_axis(axis, args, dims, *, jaxpr, num_consts, num_carry, length, reverse, unroll,
                linear):
    from jaxel.transforms.batching import batch_jaxpr, matchaxis, move_axis
    c_dims, k_dims, x_dims = _split3(dims, num_consts, num_carry)
    consts, init, xs = _split3(args, num_consts, num_carry)
    x_body_dims = [None if d is None else builtins.max(d - 1, 0) for d in x_dims]
    carry_b = [d is not None for d in k_dims]
    while True:
        in_dims = list(c_dims) + [0 if b else None for b in carry_b] + x_body_dims
        _, out_dims = batch_jaxpr(jaxpr, axis, in_dims)
        new = [b or d is not None for b, d in zip(carry_b, out_dims[:num_carry])]
        if new == carry_b:
            break
        carry_b = new
    ys_b = [d is not None for d in out_dims[num_carry:]]
    wanted = [0 if b else None for b in carry_b] + [0 if b else None for b in ys_b]
    body, _ = batch_jaxpr(jaxpr, axis, in_dims, wanted)
    new_init = [matchaxis(x, d, 0, axis.size) if b else x
                for x, d, b in zip(init, k_dims, carry_b)]
    new_xs = [move_axis(x, 0, 1) if d == 0 else x for x, d in zip(xs, x_dims)]
    outs = _bind_scan(consts, new_init, new_xs, jaxpr=body, length=length, reverse=reverse,
                      unroll=unroll, linear=linear)
    return outs, [0 if b else None for b in carry_b] + [1 if b else None for b in ys_b]


def _named_axes(params):
    from jaxel.transforms.batching import jaxpr_axis_names
    return jaxpr_axis_names(params["jaxpr"])


scan_p.batch_axis = _batch_axis
scan_p.named_axes = _named_axes


# ---- the public functions ------------------------------------------------------------------------
def _as_array(x):
    if isinstance(x, Tracer) or hasattr(x, "aval"):
        return x
    from jaxel.numpy import asarray
    return asarray(x)


def _normalize_unroll(unroll, length):
    if isinstance(unroll, (bool, np.bool_)):
        return builtins.max(length, 1) if unroll else 1
    try:
        k = operator.index(unroll)
    except TypeError:
        raise TypeError(f"scan: unroll must be an int or a bool, got {unroll!r}.") from None
    if k < 0:
        raise ValueError(f"scan: unroll must be positive, got {k}.")
    return builtins.max(k, 1)


def scan(f, init, xs=None, length=None, reverse=False, unroll=1, _split_transpose=False):
    """Loop ``f`` over the leading axis of ``xs`` while carrying state (``jax.lax.scan``).

    Semantically::

        def scan(f, init, xs, length=None):
            carry, ys = init, []
            for x in xs:
                carry, y = f(carry, x)
                ys.append(y)
            return carry, np.stack(ys)

    but ``f`` is traced once and the loop becomes one ``scan`` primitive (an XLA while loop).

    Args:
      f: ``f(carry, x) -> (carry, y)``; the carry must keep its pytree structure, shapes and
        dtypes.
      init: the initial carry (a pytree of arrays or scalars).
      xs: a pytree of arrays sharing their leading axis length (or None, with ``length``).
      length: the number of iterations; required when ``xs`` is None.
      reverse: iterate from the last position to the first (``ys`` still line up with ``xs``).
      unroll: body copies per loop iteration (an int, or True for a fully unrolled loop).
      _split_transpose: accepted for JAX compatibility; ignored.

    Returns:
      ``(final carry, ys)`` with ``ys`` the per-iteration ``y`` stacked on a new leading axis.

    Example::

        >>> lax.scan(lambda c, x: (c + x, c * x), 0.0, jnp.arange(4.0))
        (Array(6., dtype=float32), Array([0., 1., 3., 6.], dtype=float32))
    """
    if not callable(f):
        raise TypeError(f"scan: f must be callable, got {f!r}.")
    xs_leaves, xs_tree = tree_util.tree_flatten(xs)
    paths = None
    conv = []
    for i, x in enumerate(xs_leaves):
        try:
            a = _as_array(x)
        except Exception:
            paths = paths or _xs_paths(xs_tree)
            raise TypeError(f"scan: xs{paths[i]} is {type(x).__name__} {x!r}, not an array; "
                            "every leaf of xs must be an array with a leading axis to scan "
                            "over.") from None
        if _ad.aval_of(a).ndim == 0:
            paths = paths or _xs_paths(xs_tree)
            raise ValueError(f"scan got value with no leading axis to scan over: xs{paths[i]} "
                             f"is {_ad.aval_of(a).str_short()} ({x!r}). Every leaf of xs needs a "
                             "leading axis of the loop's length.")
        conv.append(a)
    xs_leaves = conv
    x_avals = avals_of(xs_leaves)
    lengths = [a.shape[0] for a in x_avals]
    if length is not None:
        try:
            length = operator.index(length)
        except TypeError:
            raise TypeError(f"scan: length must be a concrete int, got {length!r}.") from None
        if length < 0:
            raise ValueError(f"scan: length must be non-negative, got {length}.")
    if lengths and len(set(lengths)) > 1:
        paths = _xs_paths(xs_tree)
        desc = "\n".join(f"  xs{p}: {a.str_short()} (leading length {a.shape[0]})"
                         for p, a in zip(paths, x_avals))
        raise ValueError("scan got values with different leading axis sizes: "
                         f"{', '.join(str(n) for n in lengths)}. Every leaf of xs must have the "
                         f"same leading length:\n{desc}")
    if lengths:
        if length is not None and length != lengths[0]:
            raise ValueError(f"scan got `length` argument of {length} which disagrees with the "
                             f"leading axis sizes {lengths[0]} of xs.")
        length = lengths[0]
    elif length is None:
        raise ValueError("scan got no values to scan over and `length` not provided: pass "
                         "xs with a leading axis, or length=.")
    k = _normalize_unroll(unroll, length)

    init_leaves, init_tree = tree_util.tree_flatten(init)
    init_leaves = [_as_array(c) for c in init_leaves]
    carry_avals = avals_of(init_leaves)
    slice_avals = [_unstacked(a) for a in x_avals]
    in_tree = tree_util.tree_structure((init, xs))
    for attempt in range(2):
        closed, consts, out_tree = trace_fun(f, in_tree, carry_avals + slice_avals, "scan")
        carry_tree, y_tree = _split_body_output(out_tree)
        n_carry = len(init_leaves)
        out_avals = closed.out_avals
        out_carry = out_avals[:carry_tree.num_leaves]
        if attempt or carry_tree != init_tree:
            break
        # A weakly typed initial carry takes the type the body gives it, as in JAX.
        init_leaves, changed = promote_weak_carry(init_leaves, carry_avals, out_carry)
        if not changed:
            break
        carry_avals = avals_of(init_leaves)
    bad = type_mismatch("the initial carry", init_tree, carry_avals,
                        "the carry returned by the body", carry_tree, out_carry)
    if bad is not None:
        raise TypeError(
            "scan body function carry input and carry output must have equal types (the same "
            f"pytree structure, shapes and dtypes):\n  {bad}.\n"
            f"  initial carry: {show_types(init_tree, carry_avals)}\n"
            f"  body returns:  {show_types(carry_tree, out_carry)}")
    outs = scan_p.bind(*consts, *init_leaves, *xs_leaves, jaxpr=closed, num_consts=len(consts),
                       num_carry=n_carry, length=length, reverse=bool(reverse), unroll=k,
                       linear=(False,) * (len(consts) + n_carry + len(xs_leaves)))
    return (tree_util.tree_unflatten(init_tree, outs[:n_carry]),
            tree_util.tree_unflatten(y_tree, outs[n_carry:]))


def _xs_paths(tree):
    from jaxel.lax.control_flow.common import leaf_paths
    return [("" if p == "(the root)" else p) for p in leaf_paths(tree)]


def _split_body_output(out_tree):
    """The structures of the carry and ``y`` halves of a scan body's output pair."""
    node = out_tree.node_data()
    kids = out_tree.children()
    if node is None or node[0] not in (tuple, list) or len(kids) != 2:
        raise TypeError("scan body function must return a pair (carry, y) as a tuple or list "
                        f"of two elements; it returned a value of structure {out_tree}.")
    return kids[0], kids[1]


# fori_loop / map bodies, cached per user function so the traced body is reused.
_fori_bodies: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_map_bodies: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _cached_wrapper(store, fun, make):
    try:
        w = store.get(fun)
    except TypeError:
        return make(fun)
    if w is None:
        w = make(fun)
        try:
            store[fun] = w
        except TypeError:
            pass
    return w


def _make_fori_body(body_fun):
    def fori_body(carry, _):
        i, x = carry
        return (i + 1, body_fun(i, x)), None
    fori_body.__name__ = getattr(body_fun, "__name__", "fori_body")
    return fori_body


def _concrete_bound(x):
    """``int(x)`` when ``x`` is known now (a Python or NumPy number, an array, or a tracer of a
    concrete value such as a differentiated one), else None: JAX's test for a static trip
    count."""
    if isinstance(x, Tracer):
        x = x.to_concrete_value()
        if x is None:
            return None
    try:
        return int(x)
    except (TypeError, ValueError):
        return None


def _bounds_dtype(lower, upper):
    """The loop index dtype of ``fori_loop``: the bounds' common dtype; bounds of different
    signed integer dtypes agree only when exactly one is weakly typed (a Python int)."""
    from jaxel import dtypes as _dtypes
    lo_dt = _dtypes.dtype(lower, canonicalize=True)
    hi_dt = _dtypes.dtype(upper, canonicalize=True)
    if lo_dt == hi_dt:
        return lo_dt
    if lo_dt.kind == "i" and hi_dt.kind == "i":
        lo_weak, hi_weak = _dtypes.is_weakly_typed(lower), _dtypes.is_weakly_typed(upper)
        if lo_weak and not hi_weak:
            return hi_dt
        if hi_weak and not lo_weak:
            return lo_dt
    raise TypeError("lower and upper arguments to fori_loop must have equal types, got "
                    f"{lo_dt.name} and {hi_dt.name}")


def fori_loop(lower, upper, body_fun, init_val, *, unroll=None):
    """``for i in range(lower, upper): val = body_fun(i, val)`` (``jax.lax.fori_loop``).

    With concrete bounds (Python ints, concrete arrays, or values being differentiated outside
    ``jit``) the loop is a ``scan`` of ``upper - lower`` steps whose index is a (weakly typed)
    Python int, so it is reverse-differentiable and ``unroll`` applies. With traced bounds it
    is a ``while_loop`` (forward-differentiable only) whose index has the bounds' dtype, and
    ``unroll`` must be None.

    Args:
      lower, upper: integer loop bounds (of one dtype, or one of them a Python int).
      body_fun: ``body_fun(i, val) -> val`` keeping ``val``'s types.
      init_val: the initial value (a pytree).
      unroll: body copies per iteration of the compiled loop (static bounds only).

    Returns:
      The final ``val``.

    Example::

        >>> lax.fori_loop(0, 4, lambda i, x: x + i, 0)
        Array(6, dtype=int32, weak_type=True)
    """
    if not callable(body_fun):
        raise TypeError(f"fori_loop: body_fun must be callable, got {body_fun!r}.")
    dt = _bounds_dtype(lower, upper)
    lo, hi = _concrete_bound(lower), _concrete_bound(upper)
    if lo is not None and hi is not None:
        length = builtins.max(hi - lo, 0)
        body = _cached_wrapper(_fori_bodies, body_fun, _make_fori_body)
        (_, out), _ = scan(body, (lo, init_val), None, length=length,
                           unroll=1 if unroll is None else unroll)
        return out
    if unroll is not None and unroll is not False and unroll != 1:
        raise ValueError("fori_loop: `unroll` can only be used when the loop bounds are static "
                         "(concrete integers); with traced bounds the loop is a while_loop.")
    try:
        from jaxel.lax.control_flow.while_loop import while_loop
    except ImportError:
        raise NotImplementedError("fori_loop with traced bounds needs lax.while_loop, which is "
                                  "not available in this build.") from None
    from jaxel import dtypes as _dtypes
    from jaxel.lax.elementwise import convert_element_type
    lower, upper = [convert_element_type(b, dt) if _dtypes.dtype(b, canonicalize=True) != dt
                    else b for b in (lower, upper)]

    def cond(c):
        return c[0] < c[1]

    def body(c):
        i, u, x = c
        return i + 1, u, body_fun(i, x)  # keeps the index's dtype and weak type

    return while_loop(cond, body, (lower, upper, init_val))[2]


def _make_map_body(f):
    def map_body(_, x):
        return (), f(x)
    map_body.__name__ = getattr(f, "__name__", "map_body")
    return map_body


def map(f, xs, *, batch_size=None):  # noqa: A001  (JAX's name)
    """Apply ``f`` to each slice of ``xs`` along the leading axis (``jax.lax.map``).

    A ``scan`` with no carry: ``f`` is traced once, and the results are stacked. With
    ``batch_size`` the slices are processed ``batch_size`` at a time (``vmap`` of ``f`` inside
    the loop); a remainder that does not fill a batch is vmapped separately.

    Example::

        >>> lax.map(lambda x: x * 2, jnp.arange(3))
        Array([0, 2, 4], dtype=int32)
    """
    if not callable(f):
        raise TypeError(f"map: f must be callable, got {f!r}.")
    if batch_size is None:
        _, ys = scan(_cached_wrapper(_map_bodies, f, _make_map_body), (), xs)
        return ys
    try:
        bs = operator.index(batch_size)
    except TypeError:
        raise TypeError(f"map: batch_size must be an int, got {batch_size!r}.") from None
    if bs <= 0:
        raise ValueError(f"map: batch_size must be positive, got {bs}.")
    from jaxel.batching import vmap
    from jaxel.lax.shape_ops import concatenate, reshape, slice_in_dim
    leaves, tree = tree_util.tree_flatten(xs)
    leaves = [_as_array(x) for x in leaves]
    if not leaves or builtins.any(_ad.aval_of(x).ndim == 0 for x in leaves):
        return map(f, xs)  # scan reports the error
    n = _ad.aval_of(leaves[0]).shape[0]
    if builtins.any(_ad.aval_of(x).shape[0] != n for x in leaves):
        return map(f, xs)
    nb, rem = divmod(n, bs)
    if nb == 0 and rem == 0:
        return map(f, xs)
    vf = vmap(f)
    parts = []
    if nb:
        main = [reshape(slice_in_dim(x, 0, nb * bs, axis=0) if rem else x,
                        (nb, bs) + tuple(_ad.aval_of(x).shape[1:])) for x in leaves]
        _, ys = scan(lambda _, x: ((), vf(x)), (), tree_util.tree_unflatten(tree, main))
        parts.append(tree_util.tree_map(
            lambda y: reshape(y, (nb * bs,) + tuple(_ad.aval_of(y).shape[2:])), ys))
    if rem:
        tail = [slice_in_dim(x, nb * bs, n, axis=0) for x in leaves]
        parts.append(vf(tree_util.tree_unflatten(tree, tail)))
    if len(parts) == 1:
        return parts[0]
    return tree_util.tree_map(lambda a, b: concatenate([a, b], 0), parts[0], parts[1])


# ---- associative_scan ---------------------------------------------------------------------------
def associative_scan(fn, elems, reverse=False, axis=0):
    """Inclusive prefix scan of ``elems`` with an associative ``fn`` (``jax.lax
    .associative_scan``), in O(log n) depth.

    ``fn(a, b)`` combines two pytrees shaped like ``elems`` (``a`` from earlier positions)
    elementwise along ``axis``; it must be associative (not necessarily commutative). The result
    at position ``i`` is ``fn(...fn(fn(e[0], e[1]), e[2])..., e[i])``. With ``reverse`` the scan
    runs from the end: the result equals reversing, scanning and reversing back.

    Built from slices, concatenation and reshapes (a parallel prefix: combine pairs, scan the
    half-length sequence recursively, then fill in the even positions), so no primitive of its
    own and every transformation applies.

    Example::

        >>> lax.associative_scan(jnp.add, jnp.arange(5))
        Array([ 0,  1,  3,  6, 10], dtype=int32)
    """
    from jaxel.lax.shape_ops import concatenate, expand_dims, reshape, rev, slice_in_dim
    if not callable(fn):
        raise TypeError(f"associative_scan: fn must be callable, got {fn!r}.")
    leaves, tree = tree_util.tree_flatten(elems)
    if not leaves:
        return elems
    leaves = [_as_array(x) for x in leaves]
    ndims = [_ad.aval_of(x).ndim for x in leaves]
    if builtins.any(nd == 0 for nd in ndims):
        raise ValueError("associative_scan: every leaf of elems needs at least one dimension to "
                         "scan along.")
    try:
        ax = operator.index(axis)
    except TypeError:
        raise TypeError(f"associative_scan: axis must be an int, got {axis!r}.") from None
    axes = []
    for nd in ndims:
        if not -nd <= ax < nd:
            raise ValueError(f"associative_scan: axis {axis} is out of bounds for elems of rank "
                             f"{nd}.")
        axes.append(ax % nd)
    sizes = [_ad.aval_of(x).shape[a] for x, a in zip(leaves, axes)]
    if len(set(sizes)) > 1:
        paths = _xs_paths(tree)
        desc = ", ".join(f"elems{p}: {s}" for p, s in zip(paths, sizes))
        raise ValueError(f"associative_scan: every leaf of elems must have the same size along "
                         f"axis {axis}; got {desc}.")
    if reverse:
        leaves = [rev(x, (a,)) for x, a in zip(leaves, axes)]

    def combine(a, b):
        out = fn(tree_util.tree_unflatten(tree, a), tree_util.tree_unflatten(tree, b))
        out_leaves, out_tree = tree_util.tree_flatten(out)
        if out_tree != tree:
            raise TypeError("associative_scan: fn must return a pytree with the structure of "
                            f"elems ({tree}); it returned {out_tree}.")
        return [_as_array(o) for o in out_leaves]

    def sl(xs, start, stop, stride=1):
        return [slice_in_dim(x, start, stop, stride, a) for x, a in zip(xs, axes)]

    def interleave(even, odd, n):
        """``r[2j] = even[j]``, ``r[2j+1] = odd[j]`` along each leaf's axis (n elements)."""
        out = []
        for e, o, a in zip(even, odd, axes):
            m = n // 2
            e_main = slice_in_dim(e, 0, m, 1, a) if n % 2 else e
            pair = concatenate([expand_dims(e_main, (a + 1,)), expand_dims(o, (a + 1,))], a + 1)
            shape = list(_ad.aval_of(e).shape)
            shape[a] = 2 * m
            r = reshape(pair, tuple(shape))
            if n % 2:
                r = concatenate([r, slice_in_dim(e, m, m + 1, 1, a)], a)
            out.append(r)
        return out

    def prefix(xs):
        n = _ad.aval_of(xs[0]).shape[axes[0]]
        if n < 2:
            return xs
        m = n // 2
        pairs = combine(sl(xs, 0, 2 * m, 2), sl(xs, 1, 2 * m, 2))  # x[2j] . x[2j+1]
        odd = prefix(pairs)                                          # results at 2j+1
        k = (n - 1) // 2
        if k:
            even_rest = combine(sl(odd, 0, k), sl(xs, 2, n, 2))      # results at 2j, j >= 1
            even = [concatenate([x0, r], a)
                    for x0, r, a in zip(sl(xs, 0, 1), even_rest, axes)]
        else:
            even = sl(xs, 0, 1)
        return interleave(even, odd, n)

    out = prefix(leaves)
    if reverse:
        out = [rev(x, (a,)) for x, a in zip(out, axes)]
    return tree_util.tree_unflatten(tree, out)


__all__ = ["scan", "fori_loop", "map", "associative_scan", "scan_p"]


# ---- dead-code elimination ---------------------------------------------------------------------
def _dce(eqn, used_outs):
    """Keep the used ys and the carries they (or used carries) depend on, iteration after
    iteration; drop consts and xs the pruned body no longer reads."""
    from jaxel.jaxpr.dce import dce_closed_jaxpr, fixpoint_loop_carries, prune_invars
    p = eqn.params
    body, nc, ncarry = p["jaxpr"], p["num_consts"], p["num_carry"]
    used_ys = list(used_outs[ncarry:])
    used_carry = fixpoint_loop_carries(body, nc, ncarry, used_outs[:ncarry], used_ys)
    new_body, used_in = dce_closed_jaxpr(body, used_carry + used_ys)
    used_in = list(used_in)
    used_in[nc:nc + ncarry] = used_carry  # a kept carry stays an input even if unread
    new_body = prune_invars(new_body, used_in)
    linear = tuple(l for l, u in zip(p["linear"], used_in) if u)
    params = dict(p, jaxpr=new_body, num_consts=sum(used_in[:nc]), num_carry=sum(used_carry),
                  linear=linear)
    outvars = [v for v, u in zip(eqn.outvars, used_carry + used_ys) if u]
    return JaxprEqn(scan_p, [a for a, u in zip(eqn.invars, used_in) if u], outvars,
                    params), used_in


scan_p.dce = _dce
