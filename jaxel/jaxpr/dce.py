"""Dead-code elimination for jaxprs."""
from __future__ import annotations

from jaxel.jaxpr.ir import Jaxpr, Var

#: Primitives with side effects that DCE must keep even when their outputs are unused.
effectful_primitives: set = set()

# id(jaxpr) -> (jaxpr, whether it holds an effectful equation); the jaxpr is held so its id
# stays unique. Only jaxprs that are seen as parameters of equations land here.
_effects_memo: dict = {}


def _jaxpr_has_effects(j) -> bool:
    hit = _effects_memo.get(id(j))
    if hit is not None and hit[0] is j:
        return hit[1]
    found = any(eqn_has_effects(e) for e in j.eqns)
    if len(_effects_memo) > 4096:
        _effects_memo.clear()
    _effects_memo[id(j)] = (j, found)
    return found


def eqn_has_effects(eqn) -> bool:
    """Whether ``eqn`` is effectful: its primitive is, or a jaxpr among its parameters (a
    cond branch, a loop body, ...) holds an effectful equation."""
    if eqn.primitive in effectful_primitives:
        return True
    if not effectful_primitives:
        return False
    for v in eqn.params.values():
        for j in (v if isinstance(v, (tuple, list)) else (v,)):
            inner = getattr(j, "jaxpr", j)  # ClosedJaxpr -> Jaxpr
            if hasattr(inner, "eqns") and _jaxpr_has_effects(inner):
                return True
    return False


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
        if eqn_has_effects(eqn):
            kept.append(eqn)
            live.update(id(a) for a in eqn.invars if isinstance(a, Var))
            continue
        used = [id(v) in live for v in eqn.outvars]
        if not any(used):
            continue
        rule = eqn.primitive.dce
        if rule is not None and not all(used):
            # A higher-order primitive drops the inner work only unused outputs need.
            new_eqn, used_ins = rule(eqn, used)
            live.update(id(a) for a, u in zip(eqn.invars, used_ins) if u and isinstance(a, Var))
            kept.append(new_eqn)
            continue
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


def prune_invars(closed, keep):
    """``closed`` without the inputs where ``keep`` is False (they must be unused)."""
    from jaxel.jaxpr.ir import ClosedJaxpr
    j = closed.jaxpr
    return ClosedJaxpr(Jaxpr(j.constvars, [v for v, k in zip(j.invars, keep) if k], j.outvars,
                             j.eqns, j.debug_info), closed.consts)


def fixpoint_loop_carries(body, n_before, n_carry, used_carry, extra_used_outs=(),
                          also_needed=None):
    """Which carries a loop needs: the used ones, those ``also_needed`` (e.g. by a loop
    condition) and, transitively, those the body needs to compute them. ``body`` takes
    ``(n_before inputs, n_carry carries, ...)`` and returns ``(carries, *extra outputs)``;
    ``extra_used_outs`` marks the used extra outputs. Returns the carry mask."""
    used = list(used_carry)
    if also_needed is not None:
        used = [a or b for a, b in zip(used, also_needed)]
    while True:
        _, used_in = dce_closed_jaxpr(body, used + list(extra_used_outs))
        new = [a or b for a, b in zip(used, used_in[n_before:n_before + n_carry])]
        if new == used:
            return used
        used = new
