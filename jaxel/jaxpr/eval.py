"""Evaluating a jaxpr by binding each equation's primitive in the current trace."""
from __future__ import annotations

from jaxel.tracing.core import Literal


def eval_jaxpr(jaxpr, consts, *args):
    """Run ``jaxpr`` on ``args`` (and ``consts`` for its constvars); returns the list of outputs.

    Every equation goes through ``bind``, so evaluating under a transformation transforms it.
    """
    env = {}
    for v, x in zip(jaxpr.constvars, consts):
        env[v] = x
    if len(args) != len(jaxpr.invars):
        raise TypeError(f"The jaxpr takes {len(jaxpr.invars)} arguments, got {len(args)}.")
    for v, x in zip(jaxpr.invars, args):
        env[v] = x
    for eqn in jaxpr.eqns:
        ins = [a if type(a) is Literal else env[a] for a in eqn.invars]
        out = eqn.primitive.bind(*ins, **eqn.params)
        if eqn.primitive.multiple_results:
            for v, o in zip(eqn.outvars, out):
                env[v] = o
        else:
            env[eqn.outvars[0]] = out
    return [a.val if type(a) is Literal else env[a] for a in jaxpr.outvars]
