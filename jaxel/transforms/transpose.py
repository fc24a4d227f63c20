"""Transposition of linear jaxprs (the backward pass of reverse mode).

``backward_pass`` walks a jaxpr that is linear in some inputs: equations that read no linear
variable are evaluated forward (they compute constants of the linear map), then the linear
equations are visited in reverse, each primitive's ``transpose`` rule turning output
cotangents into operand cotangents, accumulated per variable.
"""
from __future__ import annotations

from jaxel.jaxpr.ir import ClosedJaxpr, Var
from jaxel.jaxpr.staging import trace_to_jaxpr
from jaxel.tracing.core import Literal
from jaxel.transforms.ad_util import (UndefinedPrimal, Zero, add_tangents, aval_of,
                                      instantiate as instantiate_zero)


def backward_pass(jaxpr, consts, args, cts_out):
    """Cotangents of the linear inputs of ``jaxpr``.

    ``args[i]`` is ``UndefinedPrimal(aval)`` for a linear input and a value otherwise;
    ``cts_out`` has one cotangent (or ``Zero``) per output. Returns one cotangent per input:
    ``Zero`` for a linear input that received none, ``None`` for non-linear inputs.
    """
    env = {}
    for v, c in zip(jaxpr.constvars, consts):
        env[v] = c
    linear = set()
    for v, a in zip(jaxpr.invars, args):
        if type(a) is UndefinedPrimal:
            linear.add(v)
        else:
            env[v] = a
    linear_eqns = []
    for eqn in jaxpr.eqns:
        if any(isinstance(a, Var) and a in linear for a in eqn.invars):
            linear.update(eqn.outvars)
            linear_eqns.append(eqn)
            continue
        # Literals go in as Literals (not their NumPy values), keeping their weak type.
        ins = [a if type(a) is Literal else env[a] for a in eqn.invars]
        out = eqn.primitive.bind(*ins, **eqn.params)
        if eqn.primitive.multiple_results:
            env.update(zip(eqn.outvars, out))
        else:
            env[eqn.outvars[0]] = out

    cts = {}

    def write(v, ct):
        if type(v) is Literal or v not in linear or type(ct) is Zero or ct is None:
            return
        prev = cts.get(v)
        cts[v] = ct if prev is None else add_tangents(prev, ct)

    for v, ct in zip(jaxpr.outvars, cts_out):
        write(v, ct)
    for eqn in reversed(linear_eqns):
        outs_ct = [cts.pop(v, None) for v in eqn.outvars]
        if all(c is None for c in outs_ct):
            continue
        prim = eqn.primitive
        if prim.transpose is None:
            raise NotImplementedError(
                f"Transpose rule (for reverse-mode differentiation) for '{prim.name}' not "
                f"implemented: `{prim.name}` appeared in the linear part of a computation. "
                "If it is not linear, its JVP rule should not apply it to tangents.")
        ins = [UndefinedPrimal(a.aval) if isinstance(a, Var) and a in linear else
               (a if type(a) is Literal else env[a]) for a in eqn.invars]
        if prim.multiple_results:
            ct_arg = [Zero(v.aval) if c is None else c for v, c in zip(eqn.outvars, outs_ct)]
        else:
            ct_arg = outs_ct[0]
        ct_ins = prim.transpose(ct_arg, *ins, **eqn.params)
        for a, ct in zip(eqn.invars, ct_ins):
            write(a, ct)
    return [(cts.get(v, Zero(v.aval)) if type(a) is UndefinedPrimal else None)
            for v, a in zip(jaxpr.invars, args)]


def transpose_jaxpr(closed: ClosedJaxpr, linear, ct_zero):
    """A ClosedJaxpr computing the transpose of ``closed`` with respect to its ``linear``
    inputs. It takes (non-linear inputs, the output cotangents not marked in ``ct_zero``) and
    returns one materialised cotangent per linear input."""
    from jaxel.transforms.ad_util import tangent_aval
    jaxpr = closed.jaxpr
    nonlin_avals = [v.aval for v, l in zip(jaxpr.invars, linear) if not l]
    out_avals = [tangent_aval(a) for a in closed.out_avals]
    ct_avals = [a for a, z in zip(out_avals, ct_zero) if not z]

    def fun(*xs):
        it = iter(xs[:len(nonlin_avals)])
        args = [UndefinedPrimal(v.aval) if l else next(it) for v, l in zip(jaxpr.invars, linear)]
        ct_it = iter(xs[len(nonlin_avals):])
        cts = [Zero(a) if z else next(ct_it) for a, z in zip(out_avals, ct_zero)]
        out = backward_pass(jaxpr, closed.consts, args, cts)
        return [instantiate_zero(c) for c, l in zip(out, linear) if l]

    return trace_to_jaxpr(fun, nonlin_avals + ct_avals)


__all__ = ["backward_pass", "transpose_jaxpr", "aval_of"]
