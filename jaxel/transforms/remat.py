"""Partial evaluation that chooses its residuals by a policy (rematerialisation).

Plain partial evaluation saves every known value that the unknown side reads. Under
``jaxel.checkpoint`` a *policy* decides, per equation, whether its outputs may be saved; values
that may not be are recomputed on the unknown side from values that may (ultimately from the
checkpointed function's inputs). The reverse pass then recomputes them instead of keeping them
alive from the forward pass: memory traded for compute.
"""
from __future__ import annotations

from jaxel.jaxpr.dce import dce_closed_jaxpr
from jaxel.jaxpr.ir import ClosedJaxpr, Jaxpr, JaxprEqn, Var


def _split_eqns(jaxpr, unknowns):
    """Classify equations as known or unknown, splitting mixed higher-order ones with their
    ``partial_eval_jaxpr_eqn`` rule. Returns (known_eqns, unknown_eqns, unknown_vars)."""
    unknown_vars = {v for v, u in zip(jaxpr.invars, unknowns) if u}
    known_eqns, unknown_eqns = [], []
    for eqn in jaxpr.eqns:
        ins_unknown = [isinstance(a, Var) and a in unknown_vars for a in eqn.invars]
        if not any(ins_unknown):
            known_eqns.append(eqn)
            continue
        rule = getattr(eqn.primitive, "partial_eval_jaxpr_eqn", None)
        if rule is None:
            unknown_eqns.append(eqn)
            unknown_vars.update(eqn.outvars)
            continue
        k_eqn, u_eqn, outs_unknown = rule(eqn, ins_unknown)
        if k_eqn is not None:
            known_eqns.append(k_eqn)
        if u_eqn is not None:
            unknown_eqns.append(u_eqn)
        unknown_vars.update(v for v, u in zip(eqn.outvars, outs_unknown) if u)
    return known_eqns, unknown_eqns, unknown_vars


def _choose_residuals(needed, producer, saveable, order):
    """Walk back from the known values the unknown side needs: a value produced by an equation
    the policy lets us save (or an input/constant) is saved; any other value's producing
    equation is recomputed, and its operands are needed in turn.

    Returns (saved vars in program order, set of ids of equations to recompute)."""
    saved, recompute, seen = [], set(), set()
    stack = list(needed)
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        eqn = producer.get(id(v))
        if eqn is None or saveable(eqn):
            saved.append(v)
            continue
        recompute.add(id(eqn))
        stack.extend(a for a in eqn.invars if isinstance(a, Var))
    saved.sort(key=lambda v: order[id(v)])
    return saved, recompute


def partial_eval_jaxpr_remat(closed: ClosedJaxpr, unknowns, saveable):
    """Split ``closed`` like ``partial_eval_jaxpr``, saving only what ``saveable(eqn)`` allows.

    Returns ``(known, unknown, out_unknowns, num_res)`` with the same meaning as
    ``partial_eval_jaxpr``; the unknown jaxpr begins with the recomputed known equations.
    """
    jaxpr = closed.jaxpr
    known_eqns, unknown_eqns, unknown_vars = _split_eqns(jaxpr, unknowns)
    order = {id(v): i for i, v in enumerate(list(jaxpr.constvars) + list(jaxpr.invars))}
    producer = {}
    for eqn in known_eqns:
        for v in eqn.outvars:
            producer[id(v)] = eqn
            order[id(v)] = len(order)
    out_unknowns = [isinstance(v, Var) and v in unknown_vars for v in jaxpr.outvars]
    needed = [a for e in unknown_eqns for a in e.invars
              if isinstance(a, Var) and a not in unknown_vars]
    saved, recompute = _choose_residuals(needed, producer, saveable, order)

    known_ins = [v for v, u in zip(jaxpr.invars, unknowns) if not u]
    known_outs = [v for v, u in zip(jaxpr.outvars, out_unknowns) if not u]
    known, _ = dce_closed_jaxpr(ClosedJaxpr(
        Jaxpr(jaxpr.constvars, known_ins, known_outs + saved, known_eqns, jaxpr.debug_info),
        closed.consts))

    res_vars = [Var(v.aval) for v in saved]
    rename = {id(v): r for v, r in zip(saved, res_vars)}

    def ren(a):
        return rename.get(id(a), a) if isinstance(a, Var) else a

    body = [e for e in known_eqns if id(e) in recompute] + unknown_eqns
    u_eqns = [JaxprEqn(e.primitive, [ren(a) for a in e.invars], e.outvars, e.params)
              for e in body]
    u_ins = res_vars + [v for v, u in zip(jaxpr.invars, unknowns) if u]
    u_outs = [ren(v) for v, u in zip(jaxpr.outvars, out_unknowns) if u]
    unknown = ClosedJaxpr(Jaxpr([], u_ins, u_outs, u_eqns, jaxpr.debug_info), [])
    return known, unknown, out_unknowns, len(saved)


__all__ = ["partial_eval_jaxpr_remat"]
