"""Linearize: JVP over partial evaluation.

Tangent inputs are the unknowns of a ``PartialEvalTrace``; the JVP rules run with it as their
parent, so every primal operation (all inputs known) runs now, and every tangent operation is
staged. The result is the primal outputs plus a linear jaxpr from input tangents to output
tangents, whose constants are the residuals it needs.
"""
from __future__ import annotations

from jaxel.jaxpr.dce import dce_closed_jaxpr
from jaxel.jaxpr.ir import ClosedJaxpr, Jaxpr
from jaxel.tracing.core import _state
from jaxel.transforms.ad_util import Zero, aval_of, is_differentiable_dtype, tangent_aval
from jaxel.transforms.jvp import JVPTrace, JVPTracer
from jaxel.transforms.partial_eval import PartialEvalTrace


class LinearFunction:
    """The linear part of a linearized function: a jaxpr from input tangents to output
    tangents, with the residuals as its constants.

    ``out_zero[i]`` marks outputs whose tangent is identically zero (not in the jaxpr's
    dependencies; transposition skips them).
    """

    __slots__ = ("jaxpr", "in_avals", "out_avals", "out_zero")

    def __init__(self, jaxpr: ClosedJaxpr, in_avals, out_avals, out_zero):
        self.jaxpr = jaxpr
        self.in_avals = in_avals
        self.out_avals = out_avals
        self.out_zero = out_zero


def linearize_flat(fun, primals):
    """Evaluate ``fun(*primals) -> list`` and linearize it at ``primals``.

    Returns ``(primals_out, LinearFunction)``.
    """
    parent = _state.trace
    pe = PartialEvalTrace(parent)
    jvp = JVPTrace(pe, linearizing=True)
    in_tangent_avals = [tangent_aval(aval_of(p)) for p in primals]
    # Integer and boolean inputs (float0 tangents) are constants of the JVP trace, as in JAX;
    # every input still gets a tangent input of the linear jaxpr.
    ins = [JVPTracer(jvp, p, t) if is_differentiable_dtype(aval_of(p).dtype) else p
           for p, t in zip(primals, [pe.new_arg(a) for a in in_tangent_avals])]
    _state.trace = jvp
    try:
        outs = fun(*ins)
        primals_out, tangents_out = [], []
        for o in outs:
            p, t = jvp.unpack(o)
            primals_out.append(p)
            tangents_out.append(t)
        for p in primals_out:
            if pe.is_unknown(p):
                raise TypeError(
                    "A primal output depends on an input tangent; this happens only with an "
                    "incorrect differentiation rule (a JVP rule must not mix tangents into its "
                    "primal output).")
        _state.trace = pe
        out_zero = [type(t) is Zero for t in tangents_out]
        out_avals = [tangent_aval(aval_of(p)) for p in primals_out]
        out_atoms = [pe.to_atom(t) for t, z in zip(tangents_out, out_zero) if not z]
    finally:
        _state.trace = parent
        jvp.alive = False
        pe.alive = False
    closed, _ = dce_closed_jaxpr(ClosedJaxpr(Jaxpr(pe.constvars, pe.invars, out_atoms, pe.eqns),
                                             pe.consts))
    return primals_out, LinearFunction(closed, in_tangent_avals, out_avals, out_zero)


__all__ = ["linearize_flat", "LinearFunction"]
