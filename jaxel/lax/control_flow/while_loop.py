"""``lax.while_loop``: the ``while`` primitive and its rules.

``while_p`` takes the operands ``(*cond_consts, *body_consts, *init)`` and the parameters
``cond_jaxpr`` (``(*cond_consts, *carry) -> pred``), ``body_jaxpr``
(``(*body_consts, *carry) -> carry``), ``cond_nconsts`` and ``body_nconsts``. It lowers to one
``stablehlo.while``; eagerly the single-equation program is compiled once per jaxpr and operand
types (the default eager path), so an eager loop is one XLA computation.

Rules:
* JVP: a while loop over primal and tangent carries. Which carry tangents are nonzero is a
  fixpoint (a zero tangent can become nonzero after one iteration).
* Partial evaluation: the carries whose values do not depend on unknown operands (a fixpoint
  again) are computed now by a smaller loop; every other output comes from the *whole* loop,
  staged with its known operands as residuals. Reverse mode then meets that loop in the linear
  part and its transpose rule raises a clear error: a while loop of unknown trip count cannot be
  reversed without storing every iteration. ``fori_loop`` with static bounds, ``scan``, or
  ``while_loop(..., max_steps=N)`` can be.
* Batching: batched carries are a fixpoint over the body. A batched predicate makes every carry
  batched; the loop then runs while *any* example's predicate holds (``reduce_or``), and the body
  keeps each example's carry unchanged once its own predicate is false (``select``).
"""
from __future__ import annotations

import operator

import numpy as np

from jaxel import tree_util
from jaxel.jaxpr.ir import JaxprEqn, Var
from jaxel.lax.control_flow.common import (_as_value, avals_of, cached, promote_weak_carry,
                                           show_types, trace_fun, type_mismatch)
from jaxel.lowering.emitter import tensor_type
from jaxel.lowering.lower import lower_jaxpr_body
from jaxel.tracing.core import Primitive, _state

__all__ = ["while_loop", "while_p"]

while_p = Primitive("while", multiple_results=True)

_REVERSE_MODE_ERROR = (
    "Reverse-mode differentiation (grad, vjp, jacrev, linear_transpose) of lax.while_loop is "
    "not supported: its number of iterations is only known at run time, so the values of every "
    "iteration cannot be stored for the backward pass. Use lax.fori_loop with static (Python "
    "int) bounds or lax.scan instead, or give the loop an upper bound with "
    "lax.while_loop(cond_fun, body_fun, init_val, max_steps=N), which is reverse-"
    "differentiable. Forward mode (jvp, jacfwd) works on while_loop as it is.")


def _split(seq, cond_nconsts, body_nconsts):
    seq = list(seq)
    nb = cond_nconsts + body_nconsts
    return seq[:cond_nconsts], seq[cond_nconsts:nb], seq[nb:]


# ---- abstract evaluation and lowering ------------------------------------------------------
def _abstract_eval(*avals, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    _, _, carry = _split(avals, cond_nconsts, body_nconsts)
    return list(carry)


def _lowering(ctx, *args, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    e = ctx.e
    cconsts, bconsts, init = _split(args, cond_nconsts, body_nconsts)
    types = [tensor_type(a) for a in ctx.avals_out]

    def inline(closed, operands):
        # Regions of stablehlo.while may read values defined outside them (the consts).
        consts = [e.constant(c, v.aval) for v, c in zip(closed.jaxpr.constvars, closed.consts)]
        return lower_jaxpr_body(e, closed.jaxpr, consts, operands, ctx.module)

    cond_region = e.region(types, lambda *carry: inline(cond_jaxpr, cconsts + list(carry))[0])
    body_region = e.region(types, lambda *carry: inline(body_jaxpr, bconsts + list(carry)))
    return e.op("stablehlo.while", init, types, regions=[cond_region, body_region])


def _pp_params(params):
    return {"cond_nconsts": params["cond_nconsts"], "cond_jaxpr": params["cond_jaxpr"],
            "body_nconsts": params["body_nconsts"], "body_jaxpr": params["body_jaxpr"]}


while_p.abstract_eval = _abstract_eval
while_p.lowering = _lowering
while_p.pp_params = _pp_params
# No ``impl``: the eval trace compiles the one-equation program (cached per jaxpr and types).


def _bind_while(cond_closed, cond_consts, body_closed, body_consts, init):
    """Bind ``while_p``; array constants of derived jaxprs become leading const operands."""
    from jaxel.jit_primitive import closure_convert
    cond_closed, c_hoisted = closure_convert(cond_closed)
    body_closed, b_hoisted = closure_convert(body_closed)
    cconsts = list(c_hoisted) + list(cond_consts)
    bconsts = list(b_hoisted) + list(body_consts)
    return while_p.bind(*cconsts, *bconsts, *init, cond_jaxpr=cond_closed,
                        body_jaxpr=body_closed, cond_nconsts=len(cconsts),
                        body_nconsts=len(bconsts))


def _trace(fun, avals):
    from jaxel.jaxpr.staging import trace_to_jaxpr
    return trace_to_jaxpr(fun, list(avals))


def _eval(closed, *args):
    from jaxel.jaxpr.eval import eval_jaxpr
    return eval_jaxpr(closed.jaxpr, closed.consts, *args)


# ---- forward mode ------------------------------------------------------------------------------
def _nonzero(t, aval) -> bool:
    from jaxel.transforms.ad_util import Zero, is_differentiable_dtype
    return type(t) is not Zero and is_differentiable_dtype(aval.dtype)


def _jvp_jaxprs(cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts, bconst_nz, init_nz):
    """The JVP loop's cond and body, and which carry tangents are nonzero."""
    from jaxel.transforms.ad_util import Zero, instantiate, tangent_aval
    from jaxel.transforms.jvp import jvp_flat
    b_avals = list(body_jaxpr.in_avals)
    bconst_avals, carry_avals = b_avals[:body_nconsts], b_avals[body_nconsts:]
    carry_nz = list(init_nz)
    while True:  # fixpoint: a carry tangent is nonzero if it is initially or after an iteration
        _, nz_out = _jvp_body_nonzeros(body_jaxpr, tuple(bconst_nz) + tuple(carry_nz))
        new = [a or (b and _differentiable(av))
               for a, b, av in zip(carry_nz, nz_out, carry_avals)]
        if new == carry_nz:
            break
        carry_nz = new
    n = len(carry_avals)
    bt_avals = [tangent_aval(a) for a, nz in zip(bconst_avals, bconst_nz) if nz]
    ct_avals = [tangent_aval(a) for a, nz in zip(carry_avals, carry_nz) if nz]
    n_bt = len(bt_avals)

    def body(*args):
        bc = list(args[:body_nconsts])
        bt_it = iter(args[body_nconsts:body_nconsts + n_bt])
        rest = args[body_nconsts + n_bt:]
        carry, ct_it = list(rest[:n]), iter(rest[n:])
        b_tans = [next(bt_it) if nz else Zero(tangent_aval(a))
                  for a, nz in zip(bconst_avals, bconst_nz)]
        c_tans = [next(ct_it) if nz else Zero(tangent_aval(a))
                  for a, nz in zip(carry_avals, carry_nz)]
        outs, t_outs = jvp_flat(lambda *xs: _eval(body_jaxpr, *xs), bc + carry, b_tans + c_tans,
                                instantiate_zeros=False)
        return list(outs) + [instantiate(t) for t, nz in zip(t_outs, carry_nz) if nz]

    body_closed = _trace(body, bconst_avals + bt_avals + carry_avals + ct_avals)

    c_avals = list(cond_jaxpr.in_avals)

    def cond(*args):
        return _eval(cond_jaxpr, *args[:cond_nconsts + n])

    cond_closed = _trace(cond, c_avals + ct_avals)
    return cond_closed, body_closed, carry_nz


def _differentiable(aval) -> bool:
    from jaxel.transforms.ad_util import is_differentiable_dtype
    return is_differentiable_dtype(aval.dtype)


def _jvp_body_nonzeros(body_jaxpr, nonzeros):
    from jaxel.transforms.jvp import jvp_jaxpr
    return cached(body_jaxpr, ("jvp_nz", nonzeros), lambda: jvp_jaxpr(body_jaxpr, nonzeros))


def _jvp(primals, tangents, *, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    from jaxel.transforms.ad_util import Zero, aval_of, instantiate, tangent_aval
    nc, nb = cond_nconsts, body_nconsts
    avals = [aval_of(p) for p in primals]
    cconsts, bconsts, init = _split(primals, nc, nb)
    _, bconst_t, init_t = _split(tangents, nc, nb)
    _, bconst_av, init_av = _split(avals, nc, nb)
    bconst_nz = tuple(_nonzero(t, a) for t, a in zip(bconst_t, bconst_av))
    init_nz = tuple(_nonzero(t, a) for t, a in zip(init_t, init_av))
    cond_closed, body_closed, carry_nz = cached(
        body_jaxpr, ("jvp", cond_jaxpr, nc, nb, bconst_nz, init_nz),
        lambda: _jvp_jaxprs(cond_jaxpr, body_jaxpr, nc, nb, bconst_nz, init_nz))
    b_tans = [t for t, nz in zip(bconst_t, bconst_nz) if nz]
    c_tans = [instantiate(t) if type(t) is Zero else t
              for t, nz in zip(init_t, carry_nz) if nz]
    outs = _bind_while(cond_closed, cconsts, body_closed, list(bconsts) + b_tans,
                       list(init) + c_tans)
    n = len(init)
    it = iter(outs[n:])
    t_outs = [next(it) if nz else Zero(tangent_aval(a)) for a, nz in zip(init_av, carry_nz)]
    return outs[:n], t_outs


while_p.jvp = _jvp


# ---- partial evaluation ------------------------------------------------------------------------
def _known_split(cond_jaxpr, body_jaxpr, nc, nb, unknowns):
    """Which carries are unknown (a fixpoint), and the loop computing the known ones.

    Returns ``(carry_uk, known)``: ``known`` is None when every carry is unknown, else
    ``(cond_known, body_known)`` taking the known operands only (all cond consts, the known
    body consts, the known carries).
    """
    from jaxel.jaxpr.dce import dce_closed_jaxpr
    from jaxel.transforms.partial_eval import partial_eval_jaxpr
    cond_uk, bconst_uk, carry_uk = _split(unknowns, nc, nb)
    n = len(carry_uk)
    if any(cond_uk):
        return [True] * n, None
    while True:
        _, _, out_uk, _ = partial_eval_jaxpr(body_jaxpr, bconst_uk + carry_uk)
        new = [a or b for a, b in zip(carry_uk, out_uk)]
        if new == carry_uk:
            break
        carry_uk = new
    if all(carry_uk):
        return carry_uk, None
    c_known, _, c_out_uk, c_res = partial_eval_jaxpr(cond_jaxpr, cond_uk + carry_uk)
    if c_out_uk[0]:  # the predicate depends on an unknown carry: nothing can run now
        return [True] * n, None
    c_known, _ = dce_closed_jaxpr(c_known, [True] + [False] * c_res)
    b_known, _, _, b_res = partial_eval_jaxpr(body_jaxpr, bconst_uk + carry_uk,
                                              instantiate=list(carry_uk))
    n_known = len(b_known.out_avals) - b_res
    b_known, _ = dce_closed_jaxpr(b_known, [True] * n_known + [False] * b_res)
    return carry_uk, (c_known, b_known)


def _pe_split(params, unknowns):
    cond_jaxpr, body_jaxpr = params["cond_jaxpr"], params["body_jaxpr"]
    nc, nb = params["cond_nconsts"], params["body_nconsts"]
    return cached(body_jaxpr, ("pe", cond_jaxpr, nc, nb, tuple(unknowns)),
                  lambda: _known_split(cond_jaxpr, body_jaxpr, nc, nb, list(unknowns)))


def _partial_eval(trace, args, params):
    """Known carries (if the predicate is known) run now in a smaller loop; every unknown
    output comes from the whole loop, staged (it recomputes the known part)."""
    from jaxel.jaxpr.staging import JaxprTrace
    nc, nb = params["cond_nconsts"], params["body_nconsts"]
    unknowns = [trace.is_unknown(x) for x in args]
    carry_uk, known = _pe_split(params, unknowns)
    u_outs = JaxprTrace.process_primitive(trace, while_p, list(args), params)
    if known is None:
        return u_outs
    cconsts, bconsts, init = _split(args, nc, nb)
    _, bconst_uk, _ = _split(unknowns, nc, nb)
    prev = _state.trace
    _state.trace = trace.parent
    try:
        k_outs = _bind_while(known[0], cconsts, known[1],
                             [x for x, u in zip(bconsts, bconst_uk) if not u],
                             [x for x, u in zip(init, carry_uk) if not u])
    finally:
        _state.trace = prev
    k_it = iter(k_outs)
    return [u_out if u else next(k_it) for u_out, u in zip(u_outs, carry_uk)]


def _partial_eval_jaxpr_eqn(eqn, ins_unknown):
    nc, nb = eqn.params["cond_nconsts"], eqn.params["body_nconsts"]
    carry_uk, known = _pe_split(eqn.params, list(ins_unknown))
    if known is None:
        return None, eqn, carry_uk
    cconsts, bconsts, init = _split(eqn.invars, nc, nb)
    _, bconst_uk, _ = _split(ins_unknown, nc, nb)
    c_known, b_known = known
    k_in = (list(cconsts) + [a for a, u in zip(bconsts, bconst_uk) if not u]
            + [a for a, u in zip(init, carry_uk) if not u])
    k_out = [v for v, u in zip(eqn.outvars, carry_uk) if not u]
    k_eqn = JaxprEqn(while_p, k_in, k_out,
                     dict(eqn.params, cond_jaxpr=c_known, body_jaxpr=b_known,
                          body_nconsts=nb - sum(bconst_uk)))
    # The whole loop on the unknown side; its known outputs are dropped (fresh variables).
    u_out = [v if u else Var(v.aval) for v, u in zip(eqn.outvars, carry_uk)]
    u_eqn = JaxprEqn(while_p, list(eqn.invars), u_out, eqn.params)
    return k_eqn, u_eqn, carry_uk


def _transpose(cts, *args, **params):
    raise ValueError(_REVERSE_MODE_ERROR)


while_p.partial_eval = _partial_eval
while_p.partial_eval_jaxpr_eqn = _partial_eval_jaxpr_eqn
while_p.transpose = _transpose


# ---- batching ----------------------------------------------------------------------------------
def _batch_plan(axis, cond_jaxpr, body_jaxpr, cconst_dims, bconst_dims, init_dims):
    """Which carries are batched (a fixpoint) and whether the predicate is batched."""
    from jaxel.transforms.batching import batch_jaxpr
    carry_b = [d is not None for d in init_dims]
    while True:
        carry_dims = [0 if b else None for b in carry_b]
        _, (pred_dim,) = batch_jaxpr(cond_jaxpr, axis, list(cconst_dims) + carry_dims)
        if pred_dim is not None:
            return [True] * len(carry_b), True
        _, out_dims = batch_jaxpr(body_jaxpr, axis, list(bconst_dims) + carry_dims)
        new = [b or d is not None for b, d in zip(carry_b, out_dims)]
        if new == carry_b:
            return carry_b, False
        carry_b = new


def _batched_pred_jaxprs(axis, cond_jaxpr, body_jaxpr, cconst_avals, bconst_avals,
                         cconst_dims, bconst_dims, carry_avals):
    """Cond and body of a loop whose predicate differs per example (all carries batched at 0).

    The cond is ``reduce_or`` of the per-example predicates; the body takes
    ``(*cond_consts, *body_consts, *carry)`` and advances only the examples still running.
    """
    from jaxel.lax.elementwise import select_n_p
    from jaxel.lax.reductions import reduce_or_p
    from jaxel.lax.shape_ops import broadcast_in_dim
    from jaxel.transforms.batching import batch_jaxpr
    n = len(carry_avals)
    cond_b, _ = batch_jaxpr(cond_jaxpr, axis, list(cconst_dims) + [0] * n, [0])
    body_b, _ = batch_jaxpr(body_jaxpr, axis, list(bconst_dims) + [0] * n, [0] * n)
    nc = len(cconst_avals)

    def cond(*args):
        (pred,) = _eval(cond_b, *args)
        return [reduce_or_p.bind(pred, axes=(0,))]

    def body(*args):
        cc, bc, carry = list(args[:nc]), list(args[nc:nc + len(bconst_avals)]), \
            list(args[nc + len(bconst_avals):])
        (pred,) = _eval(cond_b, *cc, *carry)
        new = _eval(body_b, *bc, *carry)
        outs = []
        for old, nw, a in zip(carry, new, carry_avals):
            p = pred if a.ndim == 1 else broadcast_in_dim(pred, a.shape, (0,))
            outs.append(select_n_p.bind(p, old, nw))
        return outs

    cond_closed = _trace(cond, list(cconst_avals) + list(carry_avals))
    body_closed = _trace(body, list(cconst_avals) + list(bconst_avals) + list(carry_avals))
    return cond_closed, body_closed


def _batch_axis(axis, args, dims, *, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    from jaxel.transforms.ad_util import aval_of
    from jaxel.transforms.batching import axis_env_key, batch_jaxpr, matchaxis
    nc, nb = cond_nconsts, body_nconsts
    size = axis.size
    cconsts, bconsts, init = _split(args, nc, nb)
    cconst_dims, bconst_dims, init_dims = _split(dims, nc, nb)
    env = axis_env_key()
    carry_b, pred_b = cached(
        body_jaxpr, ("batch_plan", cond_jaxpr, axis.name, size, tuple(dims), env),
        lambda: _batch_plan(axis, cond_jaxpr, body_jaxpr, cconst_dims, bconst_dims, init_dims))
    carry_dims = [0 if b else None for b in carry_b]
    new_init = [matchaxis(x, d, 0, size) if b else x
                for x, d, b in zip(init, init_dims, carry_b)]
    if not pred_b:
        cond_b, _ = batch_jaxpr(cond_jaxpr, axis, list(cconst_dims) + carry_dims, [None])
        body_b, _ = batch_jaxpr(body_jaxpr, axis, list(bconst_dims) + carry_dims, carry_dims)
        return _bind_while(cond_b, cconsts, body_b, bconsts, new_init), carry_dims
    cconst_avals = [aval_of(x) for x in cconsts]
    bconst_avals = [aval_of(x) for x in bconsts]
    carry_avals = [aval_of(x) for x in new_init]
    cond_closed, body_closed = cached(
        body_jaxpr, ("batch_pred", cond_jaxpr, axis.name, size, tuple(dims), env),
        lambda: _batched_pred_jaxprs(axis, cond_jaxpr, body_jaxpr, cconst_avals, bconst_avals,
                                     cconst_dims, bconst_dims, carry_avals))
    outs = _bind_while(cond_closed, cconsts, body_closed, list(cconsts) + list(bconsts),
                       new_init)
    return outs, [0] * len(outs)


def _named_axes(params):
    from jaxel.transforms.batching import jaxpr_axis_names
    return jaxpr_axis_names(params["cond_jaxpr"]) | jaxpr_axis_names(params["body_jaxpr"])


while_p.batch_axis = _batch_axis
while_p.named_axes = _named_axes


# ---- public API --------------------------------------------------------------------------------
def _carry_leaves(init_val):
    leaves, tree = tree_util.tree_flatten(init_val)
    return [x if hasattr(x, "aval") or isinstance(x, (bool, int, float, complex)) else
            _as_value(x) for x in leaves], tree


def _check_cond(cond_tree, cond_avals, in_tree, in_avals):
    if cond_tree.num_leaves != 1 or tree_util.tree_structure(0) != cond_tree:
        raise TypeError(
            "lax.while_loop: cond_fun must return a boolean scalar, but it returned a value of "
            f"structure {show_types(cond_tree, cond_avals)} (for a carry of type "
            f"{show_types(in_tree, in_avals)}).")
    (a,) = cond_avals
    problems = []
    if a.shape != ():
        problems.append(f"not a scalar (shape {a.shape})")
    if np.dtype(a.dtype) != np.bool_:
        problems.append(f"not boolean (dtype {np.dtype(a.dtype).name})")
    if problems:
        raise TypeError(
            f"lax.while_loop: cond_fun must return a boolean scalar, but it returned "
            f"{a.str_short()}, which is {' and '.join(problems)}. Reduce it to one value "
            "(e.g. jnp.all / jnp.any) or compare it to produce a bool.")


def _prepare(cond_fun, body_fun, init_val):
    """Trace and check both functions; returns the (possibly promoted) carry leaves, their
    tree, and the traced ``(cond_closed, cond_consts, body_closed, body_consts)``."""
    if not callable(cond_fun) or not callable(body_fun):
        bad = "cond_fun" if not callable(cond_fun) else "body_fun"
        raise TypeError(f"lax.while_loop: {bad} must be callable, got "
                        f"{type(cond_fun if bad == 'cond_fun' else body_fun).__name__}.")
    leaves, in_tree = _carry_leaves(init_val)
    avals = avals_of(leaves)
    for attempt in range(2):
        args_tree = tree_util.tree_structure((tree_util.tree_unflatten(in_tree, leaves),))
        body_closed, body_consts, body_tree = trace_fun(body_fun, args_tree, avals,
                                                        "lax.while_loop body_fun")
        out_avals = body_closed.out_avals
        if body_tree != in_tree or attempt:
            break
        # A weakly typed carry (a Python scalar) takes the type the body gives it, as in JAX.
        leaves, changed = promote_weak_carry(leaves, avals, out_avals)
        if not changed:
            break
        avals = avals_of(leaves)
    msg = type_mismatch("body_fun output", body_tree, out_avals, "init_val (the loop carry)",
                        in_tree, avals)
    if msg is not None:
        raise TypeError(
            "lax.while_loop: body_fun must return a value of the same type as the loop carry "
            f"init_val ({show_types(in_tree, avals)}), but it returned "
            f"{show_types(body_tree, out_avals)}:\n  {msg}")
    args_tree = tree_util.tree_structure((tree_util.tree_unflatten(in_tree, leaves),))
    cond_closed, cond_consts, cond_tree = trace_fun(cond_fun, args_tree, avals,
                                                    "lax.while_loop cond_fun")
    _check_cond(cond_tree, cond_closed.out_avals, in_tree, avals)
    return leaves, in_tree, (cond_closed, cond_consts, body_closed, body_consts)


def while_loop(cond_fun, body_fun, init_val, *, max_steps=None):
    """Repeat ``val = body_fun(val)`` while ``cond_fun(val)`` is true; return the final ``val``.

    Semantically::

        def while_loop(cond_fun, body_fun, init_val):
            val = init_val
            while cond_fun(val):
                val = body_fun(val)
            return val

    but compiled into a single XLA while loop (eagerly too), so the number of iterations may
    depend on data.

    Args:
      cond_fun: ``carry -> bool[]``: keep iterating while it returns True.
      body_fun: ``carry -> carry``; must return the same pytree structure, shapes and dtypes
        as ``init_val`` (Python scalars in ``init_val`` take the dtype the body gives them).
      init_val: the initial carry, a pytree of arrays.
      max_steps: (beyond JAX) optional Python int ``N``: run at most ``N`` iterations (the loop
        may stop earlier when ``cond_fun`` becomes false). A loop with ``max_steps`` is a
        ``lax.scan`` over ``N`` steps whose body applies ``body_fun`` only while ``cond_fun``
        holds (``lax.cond``), wrapped in ``jaxel.checkpoint`` so that reverse mode stores only
        the carry of each step. It is therefore **reverse-differentiable** (``grad``,
        ``vjp``), unlike the plain loop, at the price of always stepping ``N`` times (steps
        after the loop finished skip the body).

    Returns:
      The final carry, with ``init_val``'s structure.

    Differentiation: forward mode (``jvp``, ``jacfwd``) works. Reverse mode of a loop without
    ``max_steps`` raises an error, because the trip count is unknown when the backward pass is
    planned; use ``max_steps``, ``fori_loop`` with static bounds, or ``scan``.

    Under ``vmap`` with a predicate that differs per example, the loop runs until every example
    is done; an example that finished keeps its carry unchanged.

    Example::

        >>> lax.while_loop(lambda x: x < 10, lambda x: x * 2, 1)
        Array(16, dtype=int32, weak_type=True)
    """
    if max_steps is not None:
        return _bounded_while(cond_fun, body_fun, init_val, max_steps)
    leaves, in_tree, (cond_closed, cond_consts, body_closed, body_consts) = _prepare(
        cond_fun, body_fun, init_val)
    outs = while_p.bind(*cond_consts, *body_consts, *leaves, cond_jaxpr=cond_closed,
                        body_jaxpr=body_closed, cond_nconsts=len(cond_consts),
                        body_nconsts=len(body_consts))
    return tree_util.tree_unflatten(in_tree, list(outs))


def _bounded_while(cond_fun, body_fun, init_val, max_steps):
    """``while_loop(..., max_steps=N)``: a checkpointed scan of N guarded steps."""
    try:
        n = operator.index(max_steps)
    except TypeError:
        raise TypeError(f"lax.while_loop: max_steps must be a Python int, got "
                        f"{type(max_steps).__name__} ({max_steps!r}); it fixes the number of "
                        "steps of the underlying scan, so it cannot be traced.") from None
    if n < 0:
        raise ValueError(f"lax.while_loop: max_steps must be non-negative, got {n}.")
    import importlib
    import jaxel.lax as lax
    # The sibling modules define the functions (``jaxel.lax.scan`` is the module until then).
    scan = getattr(importlib.import_module("jaxel.lax.control_flow.scan"), "scan", None)
    if not callable(scan):
        raise NotImplementedError("lax.while_loop(..., max_steps=N) needs lax.scan, which this "
                                  "build of jaxel does not provide yet.")
    leaves, in_tree, _ = _prepare(cond_fun, body_fun, init_val)  # type checks, promotion
    init = tree_util.tree_unflatten(in_tree, leaves)
    cond = getattr(importlib.import_module("jaxel.lax.control_flow.cond"), "cond", None)
    if not callable(cond):
        cond = None
    from jaxel.ad_checkpoint import checkpoint

    def guarded(carry):
        pred = cond_fun(carry)
        if cond is not None:
            return cond(pred, body_fun, lambda c: c, carry)
        new = body_fun(carry)
        return tree_util.tree_map(lambda a, b: lax.select(pred, a, b),
                                  new, carry)

    step = checkpoint(guarded, prevent_cse=False)

    def scan_body(carry, _):
        return step(carry), None

    out, _ = scan(scan_body, init, None, length=n)
    return out


# ---- dead-code elimination ---------------------------------------------------------------------
def _dce(eqn, used_outs):
    """Keep the carries that are used, read by the condition, or needed (transitively) by the
    body to compute those; drop the rest and the consts nothing reads any more."""
    from jaxel.jaxpr.dce import dce_closed_jaxpr, fixpoint_loop_carries, prune_invars
    p = eqn.params
    cj, bj, cn, bn = p["cond_jaxpr"], p["body_jaxpr"], p["cond_nconsts"], p["body_nconsts"]
    n = len(eqn.outvars)
    _, cond_used = dce_closed_jaxpr(cj, [True])
    used = fixpoint_loop_carries(bj, bn, n, used_outs, also_needed=list(cond_used[cn:]))
    new_body, body_used = dce_closed_jaxpr(bj, used)
    body_keep = list(body_used[:bn]) + used
    cond_keep = list(cond_used[:cn]) + used
    params = dict(p, cond_jaxpr=prune_invars(cj, cond_keep),
                  body_jaxpr=prune_invars(new_body, body_keep),
                  cond_nconsts=sum(cond_keep[:cn]), body_nconsts=sum(body_keep[:bn]))
    used_in = cond_keep[:cn] + body_keep[:bn] + used
    return (JaxprEqn(while_p, [a for a, u in zip(eqn.invars, used_in) if u],
                     [v for v, u in zip(eqn.outvars, used) if u], params), used_in)


while_p.dce = _dce
