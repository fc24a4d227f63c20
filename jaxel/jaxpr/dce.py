"""Dead-code elimination for jaxprs."""
from __future__ import annotations

from jaxel.jaxpr.ir import Jaxpr, Var

#: Primitives with side effects that DCE must keep even when their outputs are unused.
effectful_primitives: set = set()


def dce_jaxpr(jaxpr: Jaxpr, used_outputs=None, prune_invars: bool = False):
    """Drop equations whose outputs are not needed.

    ``used_outputs`` (list of bools, default all True) selects which outputs to keep. Returns
    ``(new_jaxpr, used_inputs)`` where ``used_inputs[i]`` says whether invar ``i`` is read.
    With ``prune_invars`` the unused invars are also removed from the new jaxpr.
    """
    if used_outputs is None:
        used_outputs = [True] * len(jaxpr.outvars)
    outvars = [v for v, u in zip(jaxpr.outvars, used_outputs) if u]
    live = {id(v) for v in outvars if isinstance(v, Var)}
    kept = []
    for eqn in reversed(jaxpr.eqns):
        if eqn.primitive in effectful_primitives or any(id(v) in live for v in eqn.outvars):
            kept.append(eqn)
            live.update(id(a) for a in eqn.invars if isinstance(a, Var))
    kept.reverse()
    used_inputs = [id(v) in live for v in jaxpr.invars]
    invars = [v for v, u in zip(jaxpr.invars, used_inputs) if u] if prune_invars else jaxpr.invars
    used_consts = [id(v) in live for v in jaxpr.constvars]
    constvars = [v for v, u in zip(jaxpr.constvars, used_consts) if u]
    new = Jaxpr(constvars, invars, outvars, kept, jaxpr.debug_info)
    return new, used_inputs


def dce_closed_jaxpr(closed, used_outputs=None, prune_invars=False):
    """``dce_jaxpr`` on a ClosedJaxpr, dropping the consts of removed constvars."""
    from jaxel.jaxpr.ir import ClosedJaxpr
    jaxpr = closed.jaxpr
    new, used_inputs = dce_jaxpr(jaxpr, used_outputs, prune_invars)
    kept_ids = {id(v) for v in new.constvars}
    consts = [c for v, c in zip(jaxpr.constvars, closed.consts) if id(v) in kept_ids]
    return ClosedJaxpr(new, consts), used_inputs
