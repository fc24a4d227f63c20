"""Partial evaluation: run what is known now, stage what is not.

``PartialEvalTrace`` is a staging trace whose tracers are the *unknown* values; every other
value is *known*. A primitive whose operands are all known runs in the parent trace right away
(eagerly, or staged into an enclosing jaxpr); one with an unknown operand becomes an equation,
and the known operands it uses become the jaxpr's constants (the residuals). Linearize is JVP
over this trace with tangents unknown: the primal computation runs, the linear tangent
computation is recorded.

Higher-order primitives with both known and unknown operands split their inner jaxpr with
``partial_eval_jaxpr`` through their ``partial_eval`` rule.
"""
from __future__ import annotations

from jaxel.jaxpr.ir import ClosedJaxpr, Jaxpr, JaxprEqn, Var
from jaxel.jaxpr.staging import JaxprTrace, JaxprTracer
from jaxel.tracing.core import Literal, _state


class PartialEvalTrace(JaxprTrace):
    """A staging trace that forwards fully-known operations to its parent."""

    __slots__ = ()

    def process_primitive(self, prim, args, params):
        for x in args:
            if type(x) is JaxprTracer and x._trace is self:
                break
        else:  # all operands known: compute now, in the enclosing interpreter
            parent = self.parent
            prev = _state.trace
            _state.trace = parent
            try:
                return parent.process_primitive(prim, args, params)
            finally:
                _state.trace = prev
        rule = getattr(prim, "partial_eval", None)
        if rule is not None:
            return rule(self, args, params)
        return super().process_primitive(prim, args, params)

    def is_unknown(self, x) -> bool:
        return type(x) is JaxprTracer and x._trace is self

    def describe(self):
        return "PartialEvalTrace"


def partial_eval_jaxpr(closed: ClosedJaxpr, unknowns, instantiate=False):
    """Split ``closed`` into a known part and an unknown part.

    ``unknowns[i]`` says whether input ``i`` is unknown; ``instantiate`` (bool or per-output
    list) forces outputs to be unknown even when computable from known inputs.

    Returns ``(known, unknown, out_unknowns, num_res)``:
      * ``known``: ClosedJaxpr of the known inputs -> known outputs + ``num_res`` residuals;
      * ``unknown``: ClosedJaxpr of residuals + unknown inputs -> unknown outputs;
      * ``out_unknowns``: per output, whether it comes from ``unknown``.
    """
    jaxpr = closed.jaxpr
    if isinstance(instantiate, bool):
        instantiate = [instantiate] * len(jaxpr.outvars)
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

    out_unknowns = [isinstance(v, Var) and v in unknown_vars or inst
                    for v, inst in zip(jaxpr.outvars, instantiate)]
    # Residuals: known variables the unknown side reads (eqn operands and unknown outputs
    # that are known values forced unknown), in first-use order, each once.
    residuals, seen = [], set()

    def use(a):
        if isinstance(a, Var) and a not in unknown_vars and a not in seen:
            seen.add(a)
            residuals.append(a)

    for eqn in unknown_eqns:
        for a in eqn.invars:
            use(a)
    for v, u in zip(jaxpr.outvars, out_unknowns):
        if u:
            use(v)
    known_invars = [v for v, u in zip(jaxpr.invars, unknowns) if not u]
    known_outs = [v for v, u in zip(jaxpr.outvars, out_unknowns) if not u]
    known = Jaxpr(jaxpr.constvars, known_invars, known_outs + residuals, known_eqns,
                  jaxpr.debug_info)
    # The unknown side gets fresh variables for the residuals (a jaxpr binds each Var once).
    res_vars = [Var(r.aval) for r in residuals]
    rename = dict(zip(residuals, res_vars))

    def ren(a):
        return rename.get(a, a) if isinstance(a, Var) else a

    u_eqns = [JaxprEqn(e.primitive, [ren(a) for a in e.invars], e.outvars, e.params)
              for e in unknown_eqns]
    unknown_invars = res_vars + [v for v, u in zip(jaxpr.invars, unknowns) if u]
    unknown_outs = [ren(v) for v, u in zip(jaxpr.outvars, out_unknowns) if u]
    unknown = Jaxpr([], unknown_invars, unknown_outs, u_eqns, jaxpr.debug_info)
    return (ClosedJaxpr(known, closed.consts), ClosedJaxpr(unknown, []), out_unknowns,
            len(residuals))


__all__ = ["PartialEvalTrace", "partial_eval_jaxpr", "Literal"]
