"""``lax.cond`` and ``lax.switch``: the ``cond`` primitive and all its rules.

``cond_p`` takes ``(index, *operands)`` and a tuple of ``branches`` (ClosedJaxprs without array
constants, each taking every operand); it runs ``branches[index]``. Branch constants are hoisted
into operands and shared: each branch ignores the ones that belong to the others. Lowered to
``stablehlo.case``. Eagerly only the chosen branch runs (compiled once per branch).
"""
from __future__ import annotations

import numpy as np

from jaxel import tree_util
from jaxel.jaxpr.eval import eval_jaxpr
from jaxel.jaxpr.ir import ClosedJaxpr, Jaxpr, JaxprEqn, Var
from jaxel.jaxpr.staging import JaxprTrace, trace_to_jaxpr
from jaxel.lax.control_flow.common import (avals_of, cached, show_types, trace_fun,
                                           type_mismatch)
from jaxel.lowering.emitter import tensor_type
from jaxel.lowering.lower import lower_jaxpr_body
from jaxel.tracing.core import Primitive, _state
from jaxel.transforms import ad_util as _ad

cond_p = Primitive("cond", multiple_results=True)


# ---- building a cond from branch jaxprs --------------------------------------------------------
def _share_consts(pairs):
    """Branches that take ``(*their own consts, *rest)`` -> branches that all take
    ``(*every branch's consts, *rest)``, ignoring the others'. ``pairs``: (closed, consts)."""
    const_avals = [_ad.aval_of(c) for _, cs in pairs for c in cs]
    branches, offset = [], 0
    for closed, cs in pairs:
        n = len(cs)
        j = closed.jaxpr
        before = [Var(a) for a in const_avals[:offset]]
        after = [Var(a) for a in const_avals[offset + n:]]
        new = Jaxpr(j.constvars, before + list(j.invars[:n]) + after + list(j.invars[n:]),
                    j.outvars, j.eqns, j.debug_info)
        branches.append(ClosedJaxpr(new, closed.consts))
        offset += n
    return tuple(branches), [c for _, cs in pairs for c in cs]


def _join(closed_list):
    """Hoist every branch's array constants to shared leading operands.

    Returns ``(branches, consts)``: each branch takes ``(*consts, *its original inputs)``."""
    from jaxel.jit_primitive import closure_convert
    return _share_consts([closure_convert(c) for c in closed_list])


def bind_cond(index, branch_jaxprs, operands):
    """Bind ``cond_p`` for closed branch jaxprs that may still hold array constants."""
    branches, consts = _join(list(branch_jaxprs))
    return cond_p.bind(index, *consts, *operands, branches=branches)


# ---- abstract eval, lowering, eager ------------------------------------------------------------
def _abstract_eval(index, *avals, branches):
    if index.shape != () or index.dtype != np.int32:
        raise TypeError(f"cond index must be an int32 scalar, got {index.str_short()}.")
    outs = list(branches[0].out_avals)
    for b in branches[1:]:  # weakly typed only if every branch is
        outs = [a if a.weak_type <= o.weak_type else o for a, o in zip(outs, b.out_avals)]
    return outs


def _lowering(ctx, index, *args, branches):
    e = ctx.e
    out_types = [tensor_type(a) for a in ctx.avals_out]

    def region_for(branch):
        def body():
            consts = [e.constant(c, v.aval)
                      for v, c in zip(branch.jaxpr.constvars, branch.consts)]
            return lower_jaxpr_body(e, branch.jaxpr, consts, list(args), ctx.module)
        return e.region([], body)

    regions = [region_for(b) for b in branches]
    return e.op("stablehlo.case", [index], out_types, regions=regions)


def _impl(index, *args, branches):
    from jaxel.jit_primitive import jit_p
    i = int(np.clip(int(np.asarray(index)), 0, len(branches) - 1))
    return jit_p.impl(*args, jaxpr=branches[i], name="cond_branch")


def _named_axes(params):
    from jaxel.transforms.batching import jaxpr_axis_names
    names = set()
    for b in params["branches"]:
        names |= jaxpr_axis_names(b)
    return tuple(names)


def _pp_params(params):
    return {"branches": params["branches"]}


cond_p.abstract_eval = _abstract_eval
cond_p.lowering = _lowering
cond_p.impl = _impl
cond_p.named_axes = _named_axes
cond_p.pp_params = _pp_params


# ---- differentiation ----------------------------------------------------------------------------
def _jvp(primals, tangents, *, branches):
    from jaxel.transforms.jvp import jvp_jaxpr
    index, ops = primals[0], primals[1:]
    t_ops = tangents[1:]
    nonzeros = tuple(type(t) is not _ad.Zero for t in t_ops)
    derived = [cached(b, ("jvp", nonzeros), lambda b=b: jvp_jaxpr(b, nonzeros, True))
               for b in branches]
    nz_out = derived[0][1]
    outs = bind_cond(index, [d[0] for d in derived],
                     list(ops) + [t for t in t_ops if type(t) is not _ad.Zero])
    n = len(branches[0].out_avals)
    it = iter(outs[n:])
    t_outs = [next(it) if nz else _ad.Zero(_ad.tangent_aval(a))
              for a, nz in zip(branches[0].out_avals, nz_out)]
    return outs[:n], t_outs


def _split_branches(branches, unknowns):
    """Split every branch into known and unknown halves that agree on which outputs are
    unknown. Returns ``(knowns, unknowns_, out_unknowns, res_avals_per_branch)``."""
    from jaxel.transforms.partial_eval import partial_eval_jaxpr
    out_uk = [False] * len(branches[0].out_avals)
    for _ in range(2):  # one pass to find the union, one to instantiate it everywhere
        splits = [partial_eval_jaxpr(b, list(unknowns), instantiate=list(out_uk))
                  for b in branches]
        union = [any(s[2][i] for s in splits) for i in range(len(out_uk))]
        if union == out_uk:
            break
        out_uk = union
    return splits, out_uk


def _partial_eval_plan(branches, unknowns):
    """Known and unknown cond branches with one shared residual list (each known branch fills
    the other branches' residual slots with zeros)."""
    splits, out_uk = _split_branches(branches, unknowns)
    res_avals = []
    for known, _, _, nres in splits:
        res_avals.append(list(known.out_avals[len(known.out_avals) - nres:]))
    all_res = [a for ra in res_avals for a in ra]
    n_known_out = sum(1 for u in out_uk if not u)
    known_branches, unknown_branches = [], []
    offset = 0
    for (known, unknown, _, nres), ra in zip(splits, res_avals):
        def known_fun(*xs, known=known, nres=nres, offset=offset):
            outs = eval_jaxpr(known.jaxpr, known.consts, *xs)
            res = outs[len(outs) - nres:]
            filled = [_ad.zeros_like_aval(a) for a in all_res]
            filled[offset:offset + nres] = res
            return list(outs[:n_known_out]) + filled
        k_avals = [a for a, u in zip(branches[0].in_avals, unknowns) if not u]
        known_branches.append(trace_to_jaxpr(known_fun, k_avals))
        before, after = all_res[:offset], all_res[offset + nres:]
        # unknown takes (own residuals, unknown ops): widen to (all residuals, unknown ops)
        j = unknown.jaxpr
        own, rest = j.invars[:nres], j.invars[nres:]
        new = Jaxpr(j.constvars, [Var(a) for a in before] + list(own) +
                    [Var(a) for a in after] + list(rest), j.outvars, j.eqns, j.debug_info)
        unknown_branches.append(ClosedJaxpr(new, unknown.consts))
        offset += nres
    return known_branches, unknown_branches, out_uk, all_res


def _partial_eval(trace, args, params):
    branches = params["branches"]
    if trace.is_unknown(args[0]):  # the choice itself is unknown: everything is
        return JaxprTrace.process_primitive(trace, cond_p, args, params)
    unknowns = tuple(trace.is_unknown(x) for x in args[1:])
    known_b, unknown_b, out_uk, all_res = cached(
        branches[0], ("pe", branches, unknowns), lambda: _partial_eval_plan(branches, unknowns))
    index, ops = args[0], args[1:]
    prev = _state.trace
    _state.trace = trace.parent
    try:
        k_outs = bind_cond(index, known_b, [x for x, u in zip(ops, unknowns) if not u])
    finally:
        _state.trace = prev
    n_res = len(all_res)
    known_outs, residuals = k_outs[:len(k_outs) - n_res], k_outs[len(k_outs) - n_res:]
    u_branches, u_consts = _join(unknown_b)
    u_args = [index, *u_consts, *residuals, *[x for x, u in zip(ops, unknowns) if u]]
    u_outs = JaxprTrace.process_primitive(trace, cond_p, u_args, {"branches": u_branches})
    k_it, u_it = iter(known_outs), iter(u_outs)
    return [next(u_it) if u else next(k_it) for u in out_uk]


def _partial_eval_jaxpr_eqn(eqn, ins_unknown):
    branches = eqn.params["branches"]
    if ins_unknown[0]:
        return None, eqn, [True] * len(eqn.outvars)
    unknowns = tuple(ins_unknown[1:])
    known_b, unknown_b, out_uk, all_res = cached(
        branches[0], ("pe", branches, unknowns), lambda: _partial_eval_plan(branches, unknowns))
    index, ops = eqn.invars[0], eqn.invars[1:]
    res_vars = [Var(a) for a in all_res]
    kb, kconsts = _join(known_b)
    ub, uconsts = _join(unknown_b)
    if kconsts or uconsts:  # array constants in derived branches: stage instead of split
        return None, eqn, [True] * len(eqn.outvars)
    k_in = [index] + [a for a, u in zip(ops, unknowns) if not u]
    k_out = [v for v, u in zip(eqn.outvars, out_uk) if not u] + res_vars
    u_in = [index] + res_vars + [a for a, u in zip(ops, unknowns) if u]
    u_out = [v for v, u in zip(eqn.outvars, out_uk) if u]
    return (JaxprEqn(cond_p, k_in, k_out, {"branches": kb}),
            JaxprEqn(cond_p, u_in, u_out, {"branches": ub}), out_uk)


def _transpose(cts, index, *ops, branches):
    from jaxel.transforms.transpose import transpose_jaxpr
    if _ad.is_undefined(index):
        raise NotImplementedError("cond is not linear in its index.")
    linear = tuple(_ad.is_undefined(x) for x in ops)
    ct_zero = tuple(type(c) is _ad.Zero for c in cts)
    transposed = [cached(b, ("transpose", linear, ct_zero),
                         lambda b=b: transpose_jaxpr(b, linear, ct_zero)) for b in branches]
    operands = [x for x, lin in zip(ops, linear) if not lin]
    operands += [c for c, z in zip(cts, ct_zero) if not z]
    outs = bind_cond(index, transposed, operands)
    it = iter(outs)
    return [None] + [next(it) if lin else None for lin in linear]


cond_p.jvp = _jvp
cond_p.partial_eval = _partial_eval
cond_p.partial_eval_jaxpr_eqn = _partial_eval_jaxpr_eqn
cond_p.transpose = _transpose


# ---- batching -----------------------------------------------------------------------------------
def _batch_axis(axis, args, dims, *, branches):
    from jaxel.transforms.batching import batch_jaxpr, move_axis
    index, ops = args[0], args[1:]
    idim, op_dims = dims[0], list(dims[1:])
    n_out = len(branches[0].out_avals)
    if idim is None:
        # An output is batched if any branch makes it so (then every branch puts it at 0).
        natural = [batch_jaxpr(b, axis, op_dims)[1] for b in branches]
        want = [0 if any(d[i] is not None for d in natural) else None for i in range(n_out)]
        batched = [batch_jaxpr(b, axis, op_dims, want)[0] for b in branches]
        return bind_cond(index, batched, list(ops)), want
    # A per-example choice: run every branch on the whole batch and select per example (as
    # JAX does). Gradients stay clean: select sends zero cotangents to the unchosen branches.
    from jaxel.lax.elementwise import select_n
    from jaxel.lax.shape_ops import broadcast_in_dim
    index = move_axis(index, idim, 0)
    outs_per_branch = []
    for b in branches:
        bj, _ = batch_jaxpr(b, axis, op_dims, [0] * n_out)
        outs_per_branch.append(eval_jaxpr(bj.jaxpr, bj.consts, *ops))
    outs = []
    for i in range(n_out):
        cases = [o[i] for o in outs_per_branch]
        shape = _ad.aval_of(cases[0]).shape
        which = broadcast_in_dim(index, shape, (0,)) if len(shape) > 1 else index
        outs.append(select_n(which, *cases))
    return outs, [0] * n_out


cond_p.batch_axis = _batch_axis


# ---- public functions ---------------------------------------------------------------------------
class _NoOperand:
    pass


_NO_OPERAND = _NoOperand()


def _check_branch_outputs(api, branch_names, out_trees, out_avals_list):
    for k in range(1, len(out_trees)):
        diff = type_mismatch(f"{branch_names[0]} output", out_trees[0], out_avals_list[0],
                             f"{branch_names[k]} output", out_trees[k], out_avals_list[k])
        if diff is not None:
            raise TypeError(
                f"{api}: the branches must return the same structure, shapes and dtypes; "
                f"{diff}.\n  {branch_names[0]} returns {show_types(out_trees[0], out_avals_list[0])}"
                f"\n  {branch_names[k]} returns {show_types(out_trees[k], out_avals_list[k])}")


def _operand_leaves(operands):
    leaves, tree = tree_util.tree_flatten(operands)
    from jaxel.lax.control_flow.common import _as_value
    return [_as_value(x) for x in leaves], tree


def _run_branches(api, index, funs, names, operands):
    leaves, in_tree = _operand_leaves(operands)
    in_avals = avals_of(leaves)
    # in_tree is the operands tuple's structure, so the traced call is f(*operands).
    traced = [trace_fun(f, in_tree, in_avals, api) for f in funs]
    _check_branch_outputs(api, names, [t[2] for t in traced],
                          [t[0].out_avals for t in traced])
    branches, consts = _share_consts([(closed, cs) for closed, cs, _ in traced])
    outs = cond_p.bind(index, *consts, *leaves, branches=branches)
    return tree_util.tree_unflatten(traced[0][2], outs)


def _as_index(x, what):
    from jaxel.lax.control_flow.common import _as_value
    x = _as_value(x)
    a = _ad.aval_of(x)
    if a.shape != ():
        raise TypeError(f"{what} must be a scalar, got an array of shape {a.shape}.")
    return x, a


def cond(pred, true_fun, false_fun, *operands, operand=_NO_OPERAND):
    """Run ``true_fun(*operands)`` if ``pred`` else ``false_fun(*operands)``.

    Both branches are traced (their outputs must have the same structure, shapes and dtypes);
    under jit only the chosen one runs. ``pred`` is a scalar boolean (a number is compared with
    zero). Differentiable in the operands; under vmap a per-example ``pred`` evaluates both
    branches and selects.

    Example::

        >>> lax.cond(x > 0, jnp.sin, jnp.cos, x)
    """
    if operand is not _NO_OPERAND:
        if operands:
            raise TypeError("lax.cond: pass operands positionally or with operand=, not both.")
        operands = (operand,)
    if not callable(true_fun) or not callable(false_fun):
        raise TypeError("lax.cond: true_fun and false_fun must be callable.")
    pred, a = _as_index(pred, "lax.cond's pred")
    from jaxel.lax.elementwise import convert_element_type, ne
    if a.dtype != np.bool_:
        if a.dtype.kind not in "iuf":
            raise TypeError(f"lax.cond's pred must be boolean or a number, got {a.dtype}.")
        pred = ne(pred, np.zeros((), a.dtype).item())
    index = convert_element_type(pred, np.int32)
    return _run_branches("lax.cond", index, [false_fun, true_fun],
                         ["false_fun", "true_fun"], operands)


def switch(index, branches, *operands, operand=_NO_OPERAND):
    """Run ``branches[index](*operands)``; ``index`` is clamped into range, as in JAX.

    Example::

        >>> lax.switch(i, [jnp.sin, jnp.cos, jnp.tanh], x)
    """
    if operand is not _NO_OPERAND:
        operands = (operand,)
    branches = list(branches)
    if not branches:
        raise ValueError("lax.switch needs at least one branch.")
    for k, b in enumerate(branches):
        if not callable(b):
            raise TypeError(f"lax.switch: branches[{k}] is not callable.")
    index, a = _as_index(index, "lax.switch's index")
    if a.dtype.kind not in "iu":
        raise TypeError(f"lax.switch's index must be an integer, got {a.dtype}.")
    from jaxel.lax.elementwise import clamp, convert_element_type
    index = convert_element_type(index, np.int32)
    if len(branches) == 1:
        return branches[0](*operands)
    index = clamp(np.int32(0), index, np.int32(len(branches) - 1))
    return _run_branches("lax.switch", index, branches,
                         [f"branches[{k}]" for k in range(len(branches))], operands)


__all__ = ["cond", "switch", "cond_p"]


# ---- dead-code elimination ----------------------------------------------------------------------
def _dce(eqn, used_outs):
    """Keep the used outputs; every branch drops the work only unused outputs needed, and
    operands no branch reads are dropped."""
    from jaxel.jaxpr.dce import dce_closed_jaxpr, prune_invars
    branches = eqn.params["branches"]
    dced = [dce_closed_jaxpr(b, used_outs) for b in branches]
    n_ops = len(eqn.invars) - 1
    used_ops = [any(u[i] for _, u in dced) for i in range(n_ops)]
    new_branches = tuple(prune_invars(b, used_ops) for b, _ in dced)
    new = JaxprEqn(cond_p, [eqn.invars[0]] + [a for a, u in zip(eqn.invars[1:], used_ops) if u],
                   [v for v, u in zip(eqn.outvars, used_outs) if u],
                   dict(eqn.params, branches=new_branches))
    return new, [True] + used_ops


cond_p.dce = _dce
