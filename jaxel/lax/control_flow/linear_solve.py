"""``lax.custom_linear_solve``: a linear solve whose derivatives never look inside the solver.

``linear_solve_p`` takes ``(*matvec consts, *vecmat consts, *solve consts, *transpose_solve
consts, *b)`` and four ClosedJaxprs without array constants:

* ``matvec``  (consts, x) -> A x          the operator, the only thing differentiated;
* ``vecmat``  (consts, y) -> A^T y        its linear transpose (None without transpose_solve);
* ``solve``   (consts, b) -> (x, *aux)    any algorithm that solves A x = b;
* ``transpose_solve`` (consts, b) -> (x, *aux)   the same for A^T (or None).

It computes ``solve(b)``. The rules use only the algebra of the system, which is why iterative
solvers (a ``while_loop`` cannot be transposed) and factorisations (LU need not be
differentiated) get cheap exact derivatives:

* JVP: from ``A x = b``, ``A x' = b' - A' x``: one more solve with the same operator, where
  ``A' x`` is the JVP of ``matvec`` in its constants at the solution.
* transpose (linear in ``b``): the cotangent of ``b`` is ``A^-T ct_x``: the same primitive with
  ``matvec``/``vecmat`` and ``solve``/``transpose_solve`` swapped.
* batching: every jaxpr is batched with ``b`` and the solution at axis 0.
"""
from __future__ import annotations

from jaxel import tree_util
from jaxel.jaxpr.eval import eval_jaxpr
from jaxel.lax.control_flow.common import avals_of, show_types, trace_fun, type_mismatch
from jaxel.lowering.lower import lower_jaxpr_body
from jaxel.tracing.core import Primitive
from jaxel.transforms import ad_util as _ad

linear_solve_p = Primitive("custom_linear_solve", multiple_results=True)

_ROLES = ("matvec", "vecmat", "solve", "transpose_solve")


def _groups(args, const_counts):
    """Split operands into the four constant groups and ``b``."""
    out, i = [], 0
    for n in const_counts:
        out.append(list(args[i:i + n]))
        i += n
    return out, list(args[i:])


def _bind(jaxprs, consts, b, n_aux):
    """Bind ``linear_solve_p``; ``jaxprs``/``consts`` are 4-lists in ``_ROLES`` order (a jaxpr
    may be None with no consts). Array constants of derived jaxprs become operands."""
    from jaxel.jit_primitive import closure_convert
    hoisted, all_consts, counts = [], [], []
    for closed, cs in zip(jaxprs, consts):
        if closed is None:
            hoisted.append(None)
            counts.append(0)
            continue
        closed, lifted = closure_convert(closed)
        hoisted.append(closed)
        all_consts += list(lifted) + list(cs)
        counts.append(len(lifted) + len(cs))
    return linear_solve_p.bind(*all_consts, *b, **dict(zip(_ROLES, hoisted)),
                               const_counts=tuple(counts), n_aux=n_aux)


# ---- abstract eval, lowering, eager ------------------------------------------------------------
def _abstract_eval(*avals, matvec, vecmat, solve, transpose_solve, const_counts, n_aux):
    return list(solve.out_avals)


def _lowering(ctx, *args, matvec, vecmat, solve, transpose_solve, const_counts, n_aux):
    groups, b = _groups(args, const_counts)
    e = ctx.e
    consts = [e.constant(c, v.aval) for v, c in zip(solve.jaxpr.constvars, solve.consts)]
    return lower_jaxpr_body(e, solve.jaxpr, consts, groups[2] + b, ctx.module)


def _impl(*args, matvec, vecmat, solve, transpose_solve, const_counts, n_aux):
    from jaxel.jit_primitive import jit_p
    groups, b = _groups(args, const_counts)
    return jit_p.impl(*groups[2], *b, jaxpr=solve, name="custom_linear_solve")


def _named_axes(params):
    from jaxel.transforms.batching import jaxpr_axis_names
    names = set()
    for role in _ROLES:
        if params[role] is not None:
            names |= jaxpr_axis_names(params[role])
    return tuple(names)


def _pp_params(params):
    return {"solve": params["solve"], "n_aux": params["n_aux"]}


linear_solve_p.abstract_eval = _abstract_eval
linear_solve_p.lowering = _lowering
linear_solve_p.impl = _impl
linear_solve_p.named_axes = _named_axes
linear_solve_p.pp_params = _pp_params


# ---- differentiation ----------------------------------------------------------------------------
def _jvp(primals, tangents, *, matvec, vecmat, solve, transpose_solve, const_counts, n_aux):
    from jaxel.transforms.jvp import jvp_flat
    jaxprs = [matvec, vecmat, solve, transpose_solve]
    groups, b = _groups(primals, const_counts)
    t_groups, t_b = _groups(tangents, const_counts)
    outs = _bind(jaxprs, groups, b, n_aux)
    n_x = len(outs) - n_aux
    x = outs[:n_x]
    # b' - A' x: the operator's derivative through matvec's constants, at the solution.
    rhs = list(t_b)
    if any(type(t) is not _ad.Zero for t in t_groups[0]):
        _, a_dot_x = jvp_flat(lambda *xs: eval_jaxpr(matvec.jaxpr, matvec.consts, *xs),
                              groups[0] + x, t_groups[0] + [_ad.zero_like(v) for v in x],
                              instantiate_zeros=False)
        rhs = [_ad.add_tangents(r, _neg(t)) for r, t in zip(rhs, a_dot_x)]
    aux_t = [_ad.zero_like(a) for a in outs[n_x:]]
    if all(type(r) is _ad.Zero for r in rhs):
        return outs, [_ad.zero_like(v) for v in x] + aux_t
    rhs = [_ad.instantiate(r) for r in rhs]
    x_dot = _bind(jaxprs, groups, rhs, n_aux)[:n_x]
    return outs, list(x_dot) + aux_t


def _neg(t):
    if type(t) is _ad.Zero:
        return t
    from jaxel.lax.elementwise import neg
    return neg(t)


def _transpose(cts, *args, matvec, vecmat, solve, transpose_solve, const_counts, n_aux):
    groups, b = _groups(args, const_counts)
    if any(_ad.is_undefined(c) for g in groups for c in g):
        raise NotImplementedError(
            "custom_linear_solve is linear only in b; its operator's constants cannot be "
            "transposed.")
    if transpose_solve is None:
        raise TypeError(
            "reverse-mode differentiation (grad/vjp/linear_transpose) of lax.custom_linear_solve "
            "needs transpose_solve (or symmetric=True); pass transpose_solve=lambda vecmat, b: "
            "... solving A^T x = b.")
    n_x = len(cts) - n_aux
    ct_x = [_ad.instantiate(c) for c in cts[:n_x]]
    swapped = [vecmat, matvec, transpose_solve, solve]
    ct_b = _bind(swapped, [groups[1], groups[0], groups[3], groups[2]], ct_x, n_aux)[:n_x]
    return [None] * sum(const_counts) + list(ct_b)


linear_solve_p.jvp = _jvp
linear_solve_p.transpose = _transpose


# ---- batching -----------------------------------------------------------------------------------
def _batch_axis(axis, args, dims, *, matvec, vecmat, solve, transpose_solve, const_counts,
                n_aux):
    from jaxel.transforms.batching import batch_jaxpr, bdim_at_front
    groups, b = _groups(args, const_counts)
    g_dims, b_dims = _groups(dims, const_counts)
    # The solution is batched as soon as anything is: put b and every output at axis 0.
    b = [bdim_at_front(x, d, axis.size) for x, d in zip(b, b_dims)]
    zeros = [0] * len(b)
    new = []
    for closed, cdims in zip([matvec, vecmat, solve, transpose_solve], g_dims):
        if closed is None:
            new.append(None)
            continue
        n_out = len(closed.out_avals)
        new.append(batch_jaxpr(closed, axis, list(cdims) + zeros, [0] * n_out)[0])
    outs = _bind(new, groups, b, n_aux)
    return outs, [0] * len(outs)


linear_solve_p.batch_axis = _batch_axis


# ---- public function ------------------------------------------------------------------------------
def custom_linear_solve(matvec, b, solve, transpose_solve=None, symmetric=False, has_aux=False):
    """Solve ``matvec(x) == b`` with ``solve``, differentiating only through ``matvec``.

    ``matvec(x)`` is a linear function with outputs shaped like ``b`` (a pytree);
    ``solve(matvec, b)`` returns ``x`` (and ``aux`` when ``has_aux``) by any method — even a
    non-differentiable one, such as an iterative loop or a factorisation under stop_gradient.
    ``transpose_solve(vecmat, b)`` solves the transposed system; it is needed for reverse mode
    (``symmetric=True`` reuses ``solve``). Derivatives: ``x' = solve(b' - matvec'(x))`` and
    ``ct_b = transpose_solve(ct_x)``, so no solver internals are differentiated or stored.

    Example::

        >>> x = lax.custom_linear_solve(lambda x: a @ x, b,
        ...                             solve=lambda mv, b: jnp.linalg.solve(a, b),
        ...                             symmetric=True)
    """
    for name, f in (("matvec", matvec), ("solve", solve)):
        if not callable(f):
            raise TypeError(f"lax.custom_linear_solve: {name} must be callable, got "
                            f"{type(f).__name__}.")
    if transpose_solve is not None and not callable(transpose_solve):
        raise TypeError("lax.custom_linear_solve: transpose_solve must be callable or None.")
    if symmetric:
        transpose_solve = solve
    from jaxel.lax.control_flow.common import _as_value
    b_leaves, b_tree = tree_util.tree_flatten(b)
    b_leaves = [_as_value(x) for x in b_leaves]
    b_avals = avals_of(b_leaves)
    args_tree = tree_util.tree_structure((b,))

    mv, mv_consts, mv_tree = trace_fun(matvec, args_tree, b_avals, "custom_linear_solve matvec")
    _check_same("matvec(x)", mv_tree, mv.out_avals, b_tree, b_avals)

    def call_jaxpr(closed, consts):
        def f(v):
            out = eval_jaxpr(closed.jaxpr, closed.consts, *consts, *tree_util.tree_leaves(v))
            return tree_util.tree_unflatten(b_tree, out)
        return f

    def solver(fn, op, what):
        def run(v):
            return fn(op, v)
        closed, consts, tree = trace_fun(run, args_tree, b_avals, f"custom_linear_solve {what}")
        x_avals = closed.out_avals
        if has_aux:
            if len(tree.children()) != 2:
                raise TypeError(f"lax.custom_linear_solve: with has_aux=True, {what} must return "
                                f"a pair (x, aux); got {show_types(tree, x_avals)}.")
            x_tree = tree.children()[0]
            n_aux = len(x_avals) - x_tree.num_leaves
        else:
            x_tree, n_aux = tree, 0
        _check_same(f"{what}(matvec, b)", x_tree, x_avals[:len(x_avals) - n_aux], b_tree,
                    b_avals)
        return closed, consts, tree, n_aux

    s, s_consts, out_tree, n_aux = solver(solve, call_jaxpr(mv, mv_consts), "solve")
    vm = ts = None
    vm_consts, ts_consts = [], []
    if transpose_solve is not None:
        if symmetric:
            vm, vm_consts = mv, mv_consts
        else:
            from jaxel.transforms.transpose import transpose_jaxpr
            n_c = len(mv_consts)
            vm = transpose_jaxpr(mv, [False] * n_c + [True] * len(b_leaves),
                                 [False] * len(b_leaves))
            vm_consts = list(mv_consts)
        ts, ts_consts, _, ts_aux = solver(transpose_solve, call_jaxpr(vm, vm_consts),
                                          "transpose_solve")
        if ts_aux != n_aux:
            raise TypeError("lax.custom_linear_solve: solve and transpose_solve must return "
                            "the same auxiliary outputs.")
    outs = _bind([mv, vm, s, ts], [mv_consts, vm_consts, s_consts, ts_consts], b_leaves, n_aux)
    return tree_util.tree_unflatten(out_tree, outs)


def _check_same(what, tree, avals, b_tree, b_avals):
    diff = type_mismatch(what, tree, avals, "b", b_tree, b_avals)
    if diff is not None:
        raise TypeError(f"lax.custom_linear_solve: {what} must have the structure, shapes and "
                        f"dtypes of b; {diff}.")


__all__ = ["custom_linear_solve", "linear_solve_p"]
