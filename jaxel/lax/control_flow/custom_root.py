"""``lax.custom_root``: a root finder differentiated by the implicit function theorem.

``custom_root(f, guess, solve, tangent_solve)`` returns ``x`` with ``f(x) = 0`` as found by
``solve``. Parameters that ``f`` closes over are what the root depends on; with
``f(x*(t), t) = 0``, ``x*' = -(df/dx)^-1 (df/dt t')``. The linear system is solved by the
user's ``tangent_solve`` inside ``custom_linear_solve``, so reverse mode works too and the solver
itself (often a loop) is never differentiated. No new primitive: this is a ``custom_jvp``.
"""
from __future__ import annotations

from jaxel import tree_util
from jaxel.jaxpr.eval import eval_jaxpr
from jaxel.lax.control_flow.common import (_as_value, avals_of, show_types, trace_fun,
                                           type_mismatch)
from jaxel.lax.control_flow.linear_solve import custom_linear_solve


def _closed_call(closed, tree):
    """A Python function running ``closed`` on (consts, pytree x) -> pytree like ``tree``."""
    def call(consts, x):
        out = eval_jaxpr(closed.jaxpr, closed.consts, *consts, *tree_util.tree_leaves(x))
        return tree_util.tree_unflatten(tree, out)
    return call


def custom_root(f, initial_guess, solve, tangent_solve, has_aux=False):
    """Find a root of ``f`` with ``solve(f, initial_guess)``, differentiable in whatever ``f``
    closes over by implicit differentiation (``jax.lax.custom_root``).

    ``f`` maps a pytree like ``initial_guess`` to one of the same structure. ``solve(f, x0)``
    returns the root (and ``aux`` when ``has_aux``). ``tangent_solve(g, y)`` solves the
    linear system ``g(x) = y`` for the linear map ``g`` (``f``'s derivative at the root), e.g.
    ``lambda g, y: y / g(1.0)`` for scalars. Derivatives never look inside ``solve``.

    Example::

        >>> def sqrt(a):
        ...     return lax.custom_root(lambda x: x * x - a, 1.0, newton,
        ...                            lambda g, y: y / g(1.0))
    """
    from jaxel.custom_derivatives import custom_jvp
    from jaxel.ad import jvp as jvp_pytree
    for name, fn in (("f", f), ("solve", solve), ("tangent_solve", tangent_solve)):
        if not callable(fn):
            raise TypeError(f"lax.custom_root: {name} must be callable, got "
                            f"{type(fn).__name__}.")
    leaves, x_tree = tree_util.tree_flatten(initial_guess)
    leaves = [_as_value(x) for x in leaves]
    guess = tree_util.tree_unflatten(x_tree, leaves)
    x_avals = avals_of(leaves)
    args_tree = tree_util.tree_structure((guess,))
    f_closed, f_consts, f_tree = trace_fun(f, args_tree, x_avals, "custom_root f")
    diff = type_mismatch("f(x)", f_tree, f_closed.out_avals, "initial_guess", x_tree, x_avals)
    if diff is not None:
        raise TypeError(f"lax.custom_root: f must return a value shaped like initial_guess; "
                        f"{diff}.")
    f_call = _closed_call(f_closed, x_tree)
    s_closed, s_consts, s_tree = trace_fun(lambda x: solve(lambda v: f_call(f_consts, v), x),
                                           args_tree, x_avals, "custom_root solve")
    n_x = len(leaves)
    if has_aux:
        if len(s_tree.children()) != 2:
            raise TypeError("lax.custom_root: with has_aux=True, solve must return a pair "
                            f"(root, aux); got {show_types(s_tree, s_closed.out_avals)}.")
        root_tree = s_tree.children()[0]
    else:
        root_tree = s_tree
    diff = type_mismatch("solve's root", root_tree, s_closed.out_avals[:n_x], "initial_guess",
                         x_tree, x_avals)
    if diff is not None:
        raise TypeError(f"lax.custom_root: solve must return a root shaped like "
                        f"initial_guess; {diff}.")

    @custom_jvp
    def root(params, solver_consts, x0):
        outs = eval_jaxpr(s_closed.jaxpr, s_closed.consts, *solver_consts,
                          *tree_util.tree_leaves(x0))
        return list(outs)

    @root.defjvp
    def root_jvp(primals, tangents):
        params, solver_consts, x0 = primals
        params_dot = tangents[0]
        outs = root(params, solver_consts, x0)
        x = tree_util.tree_unflatten(x_tree, outs[:n_x])
        # df/dt t' at the root, then x' = -(df/dx)^-1 of it.
        _, rhs = jvp_pytree(lambda p: f_call(p, x), (params,), (params_dot,))

        def df_dx(v):
            return jvp_pytree(lambda y: f_call(params, y), (x,), (v,))[1]

        x_dot = custom_linear_solve(df_dx, rhs, solve=lambda g, y: tangent_solve(g, y),
                                    transpose_solve=lambda g, y: tangent_solve(g, y))
        x_dot = tree_util.tree_map(lambda t: -t, x_dot)
        aux_dot = [tree_util.tree_map(_zeros_like, a) for a in outs[n_x:]]
        return outs, tree_util.tree_leaves(x_dot) + aux_dot

    outs = root(list(f_consts), list(s_consts), guess)
    return tree_util.tree_unflatten(s_tree, outs)


def _zeros_like(x):
    from jaxel.numpy import zeros_like
    return zeros_like(x)


__all__ = ["custom_root"]
