"""What reverse mode saves: the residuals a function's VJP keeps for its backward pass.

``saved_residuals`` traces ``linearize`` of the function into a jaxpr whose outputs are the
residuals, then says where each comes from (an argument, a constant, a literal, a tagged value,
a jitted call's output or another operation), as ``jax.ad_checkpoint`` does. Passing values
(reduce_precision, a jitted call returning its input) are looked through, and checkpointed
calls are looked into: JAX inlines their saved part, so it names the operations inside.
"""
from __future__ import annotations

from jaxel import tree_util


def saved_residuals(f, *args, **kwargs):
    """The residuals that ``vjp(f, *args, **kwargs)`` keeps for its backward pass, as a list
    of ``(aval, description)``: each is an argument, a constant, a literal, or the output of an
    operation (``named '...'`` for values tagged with ``checkpoint_name``, ``output of jitted
    function '...'`` for a jitted call's).

    Listed as JAX lists them: literals, constants, arguments in order, then operation outputs
    in program order; each value once.
    """
    from jaxel.api import _Signature, make_jaxpr
    from jaxel.transforms.linearize import linearize_flat
    leaves, in_tree = tree_util.tree_flatten((args, kwargs))

    def residuals_of(*xs):
        def flat(*ys):
            a, kw = tree_util.tree_unflatten(in_tree, list(ys))
            return tree_util.tree_leaves(f(*a, **kw))
        _, lin = linearize_flat(flat, list(xs))
        return list(lin.jaxpr.consts)

    jaxpr = make_jaxpr(residuals_of)(*leaves).jaxpr
    names = _Signature(f, (), ()).arg_names(args, kwargs)
    found = {}
    for v in jaxpr.outvars:
        key, where = _residual_source(jaxpr, v, None, names, ())
        found.setdefault(key, (v.aval, where))
    return [found[k] for k in sorted(found, key=lambda k: k[:2])]


def _residual_source(jaxpr, v, outer, names, path):
    """Where the value ``v`` of ``jaxpr`` comes from: ``(sort key, description)``.

    ``outer(i)`` resolves the i-th input of a nested jaxpr in its caller (None at top level).
    Looks through what only passes a value on (reduce_precision, a jitted call returning its
    input) and into checkpointed calls (JAX inlines their saved part).
    """
    from jaxel.ad_checkpoint import checkpoint_p, name_p
    from jaxel.jaxpr.ir import Literal
    from jaxel.jit_primitive import jit_p
    from jaxel.lax.elementwise import reduce_precision_p
    if isinstance(v, Literal):
        return (0, 0, id(v)), "from a literal"
    for i, c in enumerate(jaxpr.constvars):
        if c is v:
            return (1, path + (i,), id(v)), "from a constant"
    for i, a in enumerate(jaxpr.invars):
        if a is v:
            if outer is not None:
                return outer(i)
            name = names[i] if i < len(names) else f"at flattened index {i}"
            return (2, (i,), id(v)), f"from the argument {name}"
    for n, eqn in enumerate(jaxpr.eqns):
        k = next((k for k, o in enumerate(eqn.outvars) if o is v), None)
        if k is None:
            continue
        prim = eqn.primitive
        here = path + (n,)

        def caller(i, eqn=eqn):
            return _residual_source(jaxpr, eqn.invars[i], outer, names, path)
        if prim is reduce_precision_p:
            return caller(0)
        if prim is name_p:
            return (3, here, id(v)), f"named {eqn.params['name']!r}"
        if prim is jit_p or prim is checkpoint_p:
            inner = eqn.params["jaxpr"].jaxpr
            o = inner.outvars[k]
            if prim is checkpoint_p or isinstance(o, Literal) or o in inner.invars:
                return _residual_source(inner, o, caller, names, here)
            return (3, here, id(v)), f"output of jitted function {eqn.params['name']!r}"
        return (3, here, id(v)), f"output of {prim.name}"
    raise ValueError(f"saved_residuals: no source for {v} in the traced program.")


def print_saved_residuals(f, *args, **kwargs):
    """Print the residuals ``vjp(f, *args, **kwargs)`` saves for the backward pass, one line
    each: its type and where it comes from (JAX's ``print_saved_residuals``; jaxel names the
    producing operation but not its source line).

    Example::

        >>> print_saved_residuals(lambda x: jnp.sin(x) * x, jnp.ones(3))
        f32[3] from the argument x
        f32[3] output of sin
        f32[3] output of cos
    """
    for aval, where in saved_residuals(f, *args, **kwargs):
        print(f"{aval.str_short()} {where}")


__all__ = ["saved_residuals", "print_saved_residuals"]
