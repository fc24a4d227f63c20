"""``jaxel.custom_batching``: functions with a user-defined vmap rule.

``custom_vmap(fun)`` behaves as ``fun`` except under ``vmap``, where the rule registered with
``def_vmap`` computes the batched result:
``rule(axis_size, in_batched, *args) -> (out, out_batched)``. ``in_batched`` is a list with one
pytree of bools per argument (True: that leaf has the batch axis at position 0);
``out_batched`` is a pytree of bools for ``out``, saying which outputs carry the batch axis.

Under a transformation the call is the higher-order primitive ``custom_vmap_call``, which
carries ``fun``'s jaxpr and the rule: the batching interpreter calls the rule, every other
interpreter uses the jaxpr (so jit, eval_shape and nested vmaps work, and a jitted
``custom_vmap`` function keeps its rule under an outer vmap). Forward mode keeps the rule too
(``vmap(jvp(f))`` calls ``jvp`` of the rule, as in JAX); reverse mode, which JAX refuses for a
``custom_vmap`` function, differentiates ``fun``'s own definition. ``sequential_vmap(f)`` is the
``custom_vmap`` whose rule maps ``f`` over the batch with ``lax.map`` (one call per example).
"""
from __future__ import annotations

import functools
import inspect

from jaxel import tree_util
from jaxel.custom_derivatives import _call_impl, _call_lowering, _stage, _tracing_now
from jaxel.jaxpr.eval import eval_jaxpr
from jaxel.tracing.core import Primitive
from jaxel.transforms.ad_util import Zero, aval_of, instantiate

__all__ = ["custom_vmap", "sequential_vmap"]

custom_vmap_call_p = Primitive("custom_vmap_call", multiple_results=True)
custom_vmap_call_p.abstract_eval = lambda *avals, call_jaxpr, **_: call_jaxpr.out_avals
custom_vmap_call_p.lowering = _call_lowering
custom_vmap_call_p.impl = _call_impl
custom_vmap_call_p.pp_params = lambda p: {"call_jaxpr": p["call_jaxpr"],
                                          "num_consts": p["num_consts"]}


def _plain_jvp(primals, tangents, call_jaxpr):
    from jaxel.transforms.jvp import jvp_flat
    return jvp_flat(lambda *xs: eval_jaxpr(call_jaxpr.jaxpr, call_jaxpr.consts, *xs),
                    list(primals), list(tangents), instantiate_zeros=False)


def _jvp(primals, tangents, *, call_jaxpr, rule, num_consts, name):
    """Forward mode keeps the rule, as in JAX: the result is a ``custom_vmap_call`` of
    ``jvp(fun)`` whose vmap rule is ``jvp(rule)``, so ``vmap(jvp(f))`` still calls the rule.

    Reverse mode (linearization) and tangents of closed-over values or of non-float inputs
    differentiate ``fun`` itself instead (JAX refuses ``grad`` of a custom_vmap function;
    jaxel differentiates the function's own definition there)."""
    from jaxel.tracing.core import _state
    from jaxel.transforms.partial_eval import PartialEvalTrace
    const_t, arg_t = tangents[:num_consts], tangents[num_consts:]
    if (isinstance(_state.trace, PartialEvalTrace) or any(type(t) is not Zero for t in const_t)
            or any(aval_of(p).dtype.kind not in "fc" for p in primals[num_consts:])):
        return _plain_jvp(primals, tangents, call_jaxpr)
    consts, args = list(primals[:num_consts]), list(primals[num_consts:])
    arg_t = [instantiate(t) for t in arg_t]
    n = len(args)

    def fun_jvp(*xs):
        outs, touts = _plain_jvp(consts + list(xs[:n]), [Zero(aval_of(c)) for c in consts]
                                 + list(xs[n:]), call_jaxpr)
        return list(outs) + [instantiate(t) for t in touts]

    def rule_jvp(axis_size, in_batched, xs):
        # As JAX: the rule sees as batched what is batched in both the primal and its tangent;
        # what is batched in only one of them is mapped over by an ordinary vmap of jvp(rule).
        from jaxel.transforms.batching import AxisData, batch_flat, move_axis
        from jaxel.transforms.jvp import jvp_flat
        pb, tb = in_batched[:n], in_batched[n:]
        mutual = [a and b for a, b in zip(pb, tb)]
        extra = [0 if a and not m else None for a, m in zip(pb + tb, mutual + mutual)]
        flags = {}

        def primal_rule(*ps):
            outs, flags["out"] = rule(axis_size, mutual, list(ps))
            return outs

        def jvp_of_rule(*pt):
            outs, touts = jvp_flat(primal_rule, list(pt[:n]), list(pt[n:]))
            return list(outs) + list(touts)

        if any(d is not None for d in extra):
            outs, dims = batch_flat(jvp_of_rule, AxisData(None, axis_size), list(xs), extra)
            outs = [o if d is None else move_axis(o, d, 0) for o, d in zip(outs, dims)]
        else:
            outs = jvp_of_rule(*xs)
            dims = [None] * len(outs)
        mutual_out = list(flags["out"]) * 2
        return outs, [m or d is not None for m, d in zip(mutual_out, dims)]

    closed, new_consts = _stage(fun_jvp, args + arg_t)
    outs = custom_vmap_call_p.bind(*new_consts, *args, *arg_t, call_jaxpr=closed, rule=rule_jvp,
                                   num_consts=len(new_consts), name=name)
    m = len(outs) // 2
    return outs[:m], outs[m:]


custom_vmap_call_p.jvp = _jvp


def _batch(axis, args, dims, *, call_jaxpr, rule, num_consts, name):
    from jaxel.transforms.batching import batch_jaxpr, move_axis
    args = [x if d is None else move_axis(x, d, 0) for x, d in zip(args, dims)]
    dims = [None if d is None else 0 for d in dims]
    if any(d is not None for d in dims[:num_consts]):
        # A closed-over value is batched: the rule cannot see it, so vectorise fun itself.
        new, out_dims = batch_jaxpr(call_jaxpr, axis, dims)
        return eval_jaxpr(new.jaxpr, new.consts, *args), out_dims
    outs, out_batched = rule(axis.size, [d is not None for d in dims[num_consts:]],
                             args[num_consts:])
    return outs, [0 if b else None for b in out_batched]


custom_vmap_call_p.batch_axis = _batch


def _check_out_batched(name, out_tree, out_batched):
    """``out_batched`` as a flat list of bools, one per output leaf (a bool may stand for a
    whole subtree, as a pytree prefix)."""
    try:
        return tree_util.tree_leaves(tree_util.tree_broadcast(out_batched, tree_util.tree_unflatten(
            out_tree, [object()] * out_tree.num_leaves)))
    except ValueError:
        raise ValueError(
            f"The vmap rule of custom_vmap function {name} returned out_batched with structure "
            f"{tree_util.tree_structure(out_batched)}, which is not a prefix of the output "
            f"structure {out_tree}.") from None


def _positional(fun, name, args, kwargs):
    """``args`` and ``kwargs`` as positional arguments of ``fun`` (defaults filled in), as JAX
    does before calling the rule; keyword-only arguments cannot be passed."""
    if isinstance(fun, functools.partial):
        fun = lambda *a, **k: None  # noqa: E731  (a partial's signature is opaque)
    try:
        bound = inspect.signature(fun).bind(*args, **kwargs)
    except (TypeError, ValueError) as e:
        if isinstance(e, ValueError):  # no signature (a builtin): take the arguments as given
            if kwargs:
                raise TypeError(f"custom_vmap function {name}: keyword arguments cannot be "
                                "resolved to positions (no signature).") from None
            return tuple(args)
        raise TypeError(f"The input arguments to the custom_vmap-decorated function {name} "
                        f"could not be resolved to positional-only arguments: {e}") from e
    bound.apply_defaults()
    passed = [k for k in bound.kwargs if k in kwargs]
    if passed:
        raise TypeError(f"The input arguments to the custom_vmap-decorated function {name} "
                        "could not be resolved to positional-only arguments: keyword-only "
                        f"arguments {', '.join(passed)}.")
    return bound.args


class custom_vmap:
    """A function with a custom batching (vmap) rule (``jax.custom_batching.custom_vmap``).

    Example::

        @jaxel.custom_batching.custom_vmap
        def f(x, y):
            return x + y

        @f.def_vmap
        def f_vmap_rule(axis_size, in_batched, xs, ys):
            x_batched, y_batched = in_batched
            return xs + ys, x_batched or y_batched
    """

    def __init__(self, fun):
        self.fun = fun
        self.vmap_rule = None
        functools.update_wrapper(self, fun, updated=())

    def def_vmap(self, vmap_rule):
        """Register ``vmap_rule(axis_size, in_batched, *args) -> (out, out_batched)``;
        returns the rule, so this works as a decorator."""
        self.vmap_rule = vmap_rule
        return vmap_rule

    def __get__(self, obj, objtype=None):
        return self if obj is None else functools.partial(self, obj)

    def __call__(self, *args, **kwargs):
        name = getattr(self.fun, "__name__", type(self.fun).__name__)
        args = _positional(self.fun, name, args, kwargs)
        if self.vmap_rule is None:
            raise AttributeError(f"No batching rule defined for custom_vmap function {name} "
                                 "using def_vmap.")
        if not _tracing_now():
            return self.fun(*args)
        leaves, in_tree = tree_util.tree_flatten(args)
        store = {}

        def flat_fun(*xs):
            out = self.fun(*tree_util.tree_unflatten(in_tree, list(xs)))
            out_leaves, store["tree"] = tree_util.tree_flatten(out)
            return out_leaves

        closed, consts = _stage(flat_fun, leaves)
        out_tree = store["tree"]
        user_rule = self.vmap_rule

        def flat_rule(axis_size, in_batched, xs):
            batched = tree_util.tree_unflatten(in_tree, in_batched)
            out, out_batched = user_rule(axis_size, list(batched),
                                         *tree_util.tree_unflatten(in_tree, list(xs)))
            out_leaves, tree = tree_util.tree_flatten(out)
            if tree != out_tree:
                raise ValueError(
                    f"The vmap rule of custom_vmap function {name} must return an output with "
                    f"the function's structure {out_tree}; got {tree}.")
            flags = _check_out_batched(name, out_tree, out_batched)
            return out_leaves, [bool(b) for b in flags]

        outs = custom_vmap_call_p.bind(*consts, *leaves, call_jaxpr=closed, rule=flat_rule,
                                       num_consts=len(consts), name=name)
        return tree_util.tree_unflatten(out_tree, outs)


def sequential_vmap(f):
    """``f`` as a :class:`custom_vmap` whose batching rule loops over the examples with
    ``lax.map`` instead of vectorising ``f`` (for functions that cannot be vectorised, or
    would use too much memory if they were). Unbatched arguments are shared by every step."""
    f = custom_vmap(f)

    @f.def_vmap
    def rule(axis_size, in_batched, *args):
        from jaxel import lax
        del axis_size
        leaves, tree = tree_util.tree_flatten(args)
        flags = tree_util.tree_leaves(in_batched)
        batched = [x for x, b in zip(leaves, flags) if b]

        def one(xs):
            it = iter(xs)
            full = [next(it) if b else x for x, b in zip(leaves, flags)]
            return f.fun(*tree_util.tree_unflatten(tree, full))

        out = lax.map(one, batched)
        return out, tree_util.tree_map(lambda _: True, out)

    return f
