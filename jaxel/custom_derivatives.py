"""``custom_jvp`` and ``custom_vjp``: user-defined differentiation rules.

Both become higher-order primitives once a transformation is involved (eagerly, with no
transformation active, the function is just called):

* ``custom_jvp_call`` carries the function's jaxpr and the user's JVP rule; the JVP interpreter
  calls the rule, every other interpreter uses the jaxpr.
* ``custom_vjp_call`` carries the function's jaxpr and the user's ``fwd``/``bwd``; its JVP runs
  ``fwd`` and emits a ``custom_lin`` application on the tangents. ``custom_lin`` is linear; its
  transpose calls ``bwd`` with the residuals. So reverse mode uses ``bwd`` and forward mode is
  refused, as in JAX.
"""
from __future__ import annotations

import numpy as np

from jaxel import tree_util
from jaxel.jaxpr.eval import eval_jaxpr
from jaxel.jaxpr.staging import trace_to_jaxpr
from jaxel.lowering.lower import lower_jaxpr_body
from jaxel.tracing.core import Primitive, _state, set_current_trace
from jaxel.transforms.ad_util import (SymbolicZero, Zero, aval_of, instantiate, tangent_aval,
                                      zero_from_primal)


def _tracing_now() -> bool:
    from jaxel.tracing.eval_trace import eval_trace
    return _state.trace is not eval_trace


def _split_nondiff(args, nondiff_argnums):
    nondiff = tuple(args[i] for i in nondiff_argnums)
    dyn = tuple(a for i, a in enumerate(args) if i not in nondiff_argnums)
    return nondiff, dyn


def _merge(nondiff, dyn, nondiff_argnums, n):
    it_n, it_d = iter(nondiff), iter(dyn)
    return [next(it_n) if i in nondiff_argnums else next(it_d) for i in range(n)]


def _stage(fun, dyn_leaves):
    """Trace ``fun(*leaves) -> list`` to a ClosedJaxpr with array constants as leading inputs."""
    from jaxel.jit_primitive import closure_convert
    closed = trace_to_jaxpr(fun, [aval_of(x) for x in dyn_leaves])
    return closure_convert(closed)


def _call_lowering(ctx, *args, call_jaxpr, num_consts, **_):
    e = ctx.e
    consts = [e.constant(c, v.aval) for v, c in zip(call_jaxpr.jaxpr.constvars, call_jaxpr.consts)]
    return lower_jaxpr_body(e, call_jaxpr.jaxpr, consts, list(args), ctx.module)


def _call_impl(*args, call_jaxpr, **_):
    return eval_jaxpr(call_jaxpr.jaxpr, call_jaxpr.consts, *args)


def _pp_call(params):
    return {"call_jaxpr": params["call_jaxpr"], "num_consts": params["num_consts"],
            "symbolic_zeros": params.get("symbolic_zeros", False)}


def _stage_user_fun(fun, args, nondiff_argnums):
    """Split ``args`` into static (nondiff) and differentiable parts and stage ``fun`` over the
    flattened differentiable leaves. Returns
    ``(nondiff, dyn, leaves, in_tree, closed_jaxpr, consts, out_tree)``."""
    n = len(args)
    nondiff, dyn = _split_nondiff(args, nondiff_argnums)
    leaves, in_tree = tree_util.tree_flatten(dyn)
    store = {}

    def flat_fun(*xs):
        full = _merge(nondiff, tree_util.tree_unflatten(in_tree, list(xs)), nondiff_argnums, n)
        out_leaves, store["tree"] = tree_util.tree_flatten(fun(*full))
        return out_leaves

    closed, consts = _stage(flat_fun, leaves)
    return nondiff, dyn, leaves, in_tree, closed, consts, store["tree"]


# ---- custom_jvp ------------------------------------------------------------------------------
custom_jvp_call_p = Primitive("custom_jvp_call", multiple_results=True)
custom_jvp_call_p.abstract_eval = lambda *avals, call_jaxpr, **_: call_jaxpr.out_avals
custom_jvp_call_p.lowering = _call_lowering
custom_jvp_call_p.impl = _call_impl
custom_jvp_call_p.pp_params = _pp_call


def _custom_jvp_rule(primals, tangents, *, call_jaxpr, jvp, num_consts, symbolic_zeros):
    consts, primals = primals[:num_consts], primals[num_consts:]
    tangents = tangents[num_consts:]
    if not symbolic_zeros:
        tangents = [instantiate(t) for t in tangents]
    return jvp(consts, primals, tangents)


custom_jvp_call_p.jvp = _custom_jvp_rule


class custom_jvp:
    """A function with a user-defined JVP rule (``jax.custom_jvp``).

    Example::

        @jaxel.custom_jvp
        def f(x):
            return jnp.sin(x)

        @f.defjvp
        def f_jvp(primals, tangents):
            (x,), (t,) = primals, tangents
            return jnp.sin(x), jnp.cos(x) * t
    """

    def __init__(self, fun, nondiff_argnums=()):
        self.fun = fun
        self.nondiff_argnums = tuple(nondiff_argnums)
        self.jvp = None
        self.symbolic_zeros = False
        for attr in ("__name__", "__qualname__", "__doc__", "__module__"):
            if hasattr(fun, attr):
                setattr(self, attr, getattr(fun, attr))

    def defjvp(self, jvp, symbolic_zeros=False):
        """Set the rule ``jvp(primals, tangents) -> (primal_out, tangent_out)`` (with
        ``nondiff_argnums``: ``jvp(*nondiff_args, primals, tangents)``)."""
        self.jvp = jvp
        self.symbolic_zeros = symbolic_zeros
        return jvp

    def defjvps(self, *tangent_fns):
        """Set the rule from one function per argument: ``fn(t, primal_out, *primals)`` gives
        that argument's contribution to the output tangent (None: no contribution)."""
        def jvp(primals, tangents):
            out = self.fun(*primals)
            total = None
            for fn, t in zip(tangent_fns, tangents):
                if fn is None:
                    continue
                c = fn(t, out, *primals)
                total = c if total is None else tree_util.tree_map(lambda a, b: a + b, total, c)
            if total is None:
                total = tree_util.tree_map(lambda o: o * 0, out)
            return out, total
        self.defjvp(jvp)

    def __call__(self, *args, **kwargs):
        if kwargs:
            raise TypeError(f"custom_jvp function {self.__name__} must be called with "
                            "positional arguments (keyword arguments are not supported).")
        if self.jvp is None:
            raise AttributeError(f"No JVP defined for custom_jvp function {self.__name__} "
                                 "using defjvp.")
        n = len(args)
        nondiff, dyn = _split_nondiff(args, self.nondiff_argnums)
        leaves, in_tree = tree_util.tree_flatten(dyn)
        trace = _dispatch_trace(leaves)
        if trace is not _state.trace:
            with set_current_trace(trace):
                return self(*args)
        if not _tracing_now():
            return self.fun(*args)
        user_jvp, name = self.jvp, self.__name__
        store = {}

        def flat_jvp(consts_vals, primals, tangents):
            # consts are closure arrays of fun: the user's rule closes over them itself.
            p = tree_util.tree_unflatten(in_tree, list(primals))
            t = tree_util.tree_unflatten(in_tree, [_rule_tangent(tt, self.symbolic_zeros)
                                                   for tt in tangents])
            if self.nondiff_argnums:
                out, t_out = user_jvp(*nondiff, p, t)
            else:
                out, t_out = user_jvp(p, t)
            out_leaves, tree_o = tree_util.tree_flatten(out)
            t_leaves, tree_t = tree_util.tree_flatten(t_out)
            t_leaves = [Zero(t_.aval) if type(t_) is SymbolicZero else t_ for t_ in t_leaves]
            want = store.get("out_tree", tree_o)
            if tree_o != want or tree_t != want:
                raise TypeError(
                    f"Custom JVP rule of {name} must produce primal and tangent "
                    f"outputs with the function's output structure {want}; got primal "
                    f"{tree_o} and tangent {tree_t}.")
            store["out_tree"] = tree_o
            for o, t_ in zip(out_leaves, t_leaves):
                if type(t_) is not Zero and aval_of(o).shape != aval_of(t_).shape:
                    raise TypeError(
                        f"Custom JVP rule of {name} returned a tangent of shape "
                        f"{aval_of(t_).shape} for a primal output of shape {aval_of(o).shape}.")
            return out_leaves, t_leaves

        if _differentiating(trace, leaves):
            # Under the JVP interpreter only the rule runs: the function itself is not
            # traced (JAX calls it no more often), so its side effects happen as in JAX.
            outs = _apply_jvp_rule(trace, leaves, lambda p, t: flat_jvp((), p, t),
                                   self.symbolic_zeros)
            return tree_util.tree_unflatten(store["out_tree"], outs)
        _, _, leaves, in_tree, closed, consts, out_tree = _stage_user_fun(
            self.fun, args, self.nondiff_argnums)
        store["out_tree"] = out_tree
        outs = custom_jvp_call_p.bind(*consts, *leaves, call_jaxpr=closed, jvp=flat_jvp,
                                      num_consts=len(consts), symbolic_zeros=self.symbolic_zeros)
        return tree_util.tree_unflatten(out_tree, outs)


def _dispatch_trace(leaves):
    """The trace a custom-rule call belongs to: a partial-evaluation trace hands operations
    whose operands it all knows to its parent, so a call with only known operands skips it
    (reverse mode of a rule that calls the function again then runs it like JAX)."""
    from jaxel.transforms.partial_eval import PartialEvalTrace
    t = _state.trace
    while type(t) is PartialEvalTrace and not any(t.is_unknown(x) for x in leaves):
        t = t.parent
    return t


def _differentiating(trace, leaves) -> bool:
    """True when ``trace`` is a JVP interpreter and some operand carries a tangent in it."""
    from jaxel.transforms.jvp import JVPTrace, JVPTracer
    return type(trace) is JVPTrace and any(
        type(x) is JVPTracer and x._trace is trace and type(x.tangent) is not Zero
        for x in leaves)


def _apply_jvp_rule(trace, leaves, rule, symbolic_zeros):
    """Run ``rule(primals, tangents) -> (outs, tangent_outs)`` for the operands ``leaves`` of
    the JVP ``trace`` in its parent (as the trace runs primitive rules); returns its tracers."""
    unpacked = [trace.unpack(x) for x in leaves]
    primals = [p for p, _ in unpacked]
    with set_current_trace(trace.parent):
        tangents = [t if symbolic_zeros else instantiate(t) for _, t in unpacked]
        outs, t_outs = rule(primals, tangents)
    return [trace._tracer(o, t) for o, t in zip(outs, t_outs)]


def _rule_tangent(t, symbolic_zeros):
    """A tangent as a custom rule sees it: a zero is a ``SymbolicZero`` with
    ``symbolic_zeros``, else a zero array (float0 for integer primals, as in JAX)."""
    if type(t) is Zero:
        return SymbolicZero(t.aval) if symbolic_zeros else instantiate(t)
    return t


class CustomVJPPrimal:
    """A primal argument as a ``custom_vjp`` forward rule with ``symbolic_zeros=True`` sees
    it: its ``value`` and whether it is ``perturbed`` (has a nonzero tangent)."""

    __slots__ = ("value", "perturbed")

    def __init__(self, value, perturbed):
        self.value = value
        self.perturbed = perturbed

    def __repr__(self):
        return f"CustomVJPPrimal(value={self.value!r}, perturbed={self.perturbed!r})"

    def __eq__(self, other):
        return (type(other) is CustomVJPPrimal and self.value is other.value
                and self.perturbed == other.perturbed)

    __hash__ = None


def custom_vjp_primal_tree_values(tree):
    """Replace each ``CustomVJPPrimal`` leaf of ``tree`` (the arguments a ``symbolic_zeros``
    forward rule receives) by its ``value``.

    Example::

        >>> custom_vjp_primal_tree_values((CustomVJPPrimal(1.0, True),))
        (1.0,)
    """
    def value(leaf):
        if type(leaf) is not CustomVJPPrimal:
            raise TypeError(f"unexpected leaf type {type(leaf)}")
        return leaf.value
    return tree_util.tree_map(value, tree)


# ---- custom_vjp ------------------------------------------------------------------------------
custom_vjp_call_p = Primitive("custom_vjp_call", multiple_results=True)
custom_vjp_call_p.abstract_eval = lambda *avals, call_jaxpr, **_: call_jaxpr.out_avals
custom_vjp_call_p.lowering = _call_lowering
custom_vjp_call_p.impl = _call_impl
custom_vjp_call_p.pp_params = _pp_call

custom_lin_p = Primitive("custom_lin", multiple_results=True)
custom_lin_p.abstract_eval = lambda *avals, out_avals, **_: list(out_avals)


def _custom_lin_impl(*args, name, **_):
    raise TypeError(f"can't apply forward-mode autodiff (jvp) to a custom_vjp function "
                    f"({name}). Use reverse mode (grad/vjp), or define the function with "
                    "custom_jvp instead.")


custom_lin_p.impl = _custom_lin_impl


def _custom_lin_lowering(ctx, *args, name, **_):
    raise TypeError(f"can't apply forward-mode autodiff (jvp) to a custom_vjp function ({name}) "
                    "inside jit.")


custom_lin_p.lowering = _custom_lin_lowering


def _custom_lin_transpose(cts, *args, num_res, bwd, out_avals, name):
    res = args[:num_res]
    cts_in = bwd(list(res), list(cts))  # bwd instantiates zeros (or keeps them symbolic)
    return [None] * num_res + list(cts_in)


custom_lin_p.transpose = _custom_lin_transpose


def _custom_lin_jvp(primals, tangents, *, name, **_):
    _custom_lin_impl(name=name)


custom_lin_p.jvp = _custom_lin_jvp


def _custom_vjp_rule(primals, tangents, *, call_jaxpr, fwd, bwd, num_consts, name, **_):
    primals = primals[num_consts:]
    tangents = tangents[num_consts:]
    outs, res = fwd(primals, [type(t) is not Zero for t in tangents])
    out_avals = [tangent_aval(aval_of(o)) for o in outs]
    lin_in = list(res) + [instantiate(t) for t in tangents]
    t_outs = custom_lin_p.bind(*lin_in, num_res=len(res), bwd=bwd, out_avals=tuple(out_avals),
                               name=name)
    return outs, t_outs


custom_vjp_call_p.jvp = _custom_vjp_rule


class custom_vjp:
    """A function with user-defined reverse-mode rule (``jax.custom_vjp``): ``fwd(*args) ->
    (out, residuals)`` and ``bwd(residuals, ct_out) -> tuple of one cotangent per argument``.

    Example::

        @jaxel.custom_vjp
        def clip_grad(x):
            return x

        clip_grad.defvjp(lambda x: (x, None), lambda _, g: (jnp.clip(g, -1, 1),))
    """

    def __init__(self, fun, nondiff_argnums=()):
        self.fun = fun
        self.nondiff_argnums = tuple(nondiff_argnums)
        self.fwd = self.bwd = None
        self.symbolic_zeros = False
        for attr in ("__name__", "__qualname__", "__doc__", "__module__"):
            if hasattr(fun, attr):
                setattr(self, attr, getattr(fun, attr))

    def defvjp(self, fwd, bwd, symbolic_zeros=False):
        """Set the forward (``fwd(*args) -> (out, res)``) and backward
        (``bwd(res, ct) -> cotangents tuple``) functions.

        With ``symbolic_zeros``, ``fwd`` receives each array argument as a
        ``CustomVJPPrimal`` (its value and whether it is perturbed), ``bwd`` receives zero
        cotangents as ``SymbolicZero`` and may return ``SymbolicZero`` (or None) ones."""
        self.fwd, self.bwd = fwd, bwd
        self.symbolic_zeros = bool(symbolic_zeros)

    def __call__(self, *args, **kwargs):
        if kwargs:
            raise TypeError(f"custom_vjp function {self.__name__} must be called with "
                            "positional arguments (keyword arguments are not supported).")
        if self.fwd is None:
            raise AttributeError(f"No VJP defined for custom_vjp function {self.__name__} "
                                 "using defvjp.")
        n = len(args)
        nondiff, dyn = _split_nondiff(args, self.nondiff_argnums)
        leaves, in_tree = tree_util.tree_flatten(dyn)
        trace = _dispatch_trace(leaves)
        if trace is not _state.trace:
            with set_current_trace(trace):
                return self(*args)
        if not _tracing_now():
            return self.fun(*args)
        store = {}
        user_fwd, user_bwd, name = self.fwd, self.bwd, self.__name__
        symbolic = self.symbolic_zeros

        def flat_fwd(primals, perturbed):
            if symbolic:
                primals = [CustomVJPPrimal(p, z) for p, z in zip(primals, perturbed)]
            full = _merge(nondiff, tree_util.tree_unflatten(in_tree, list(primals)),
                          self.nondiff_argnums, n)
            got = user_fwd(*full)
            if not (isinstance(got, (tuple, list)) and len(got) == 2):
                raise TypeError(f"Custom VJP fwd rule of {name} must return a pair "
                                f"(output, residuals), got {type(got).__name__}.")
            out, res = got
            out_leaves, tree_o = tree_util.tree_flatten(out)
            want = store.setdefault("out_tree", tree_o)
            if tree_o != want:
                raise TypeError(f"Custom VJP fwd rule of {name} returned an output with "
                                f"structure {tree_o}; the function returns {want}.")
            res_leaves, store["res_tree"] = tree_util.tree_flatten(res)
            return out_leaves, res_leaves

        def flat_bwd(res_leaves, cts):
            cts = [_rule_tangent(c, symbolic) for c in cts]
            res = tree_util.tree_unflatten(store["res_tree"], res_leaves)
            ct = tree_util.tree_unflatten(store["out_tree"], cts)
            args_ct = (*nondiff, res, ct) if self.nondiff_argnums else (res, ct)
            got = user_bwd(*args_ct)
            if not isinstance(got, (tuple, list)):
                raise TypeError(f"Custom VJP bwd rule of {name} must return a tuple with one "
                                f"cotangent per differentiable argument, got {type(got).__name__}.")
            if len(got) != len(dyn):
                raise TypeError(f"Custom VJP bwd rule of {name} returned {len(got)} "
                                f"cotangents; the function has {len(dyn)} differentiable "
                                "argument(s).")
            ct_leaves = []
            for arg, c in zip(dyn, got):
                a_leaves = tree_util.tree_leaves(arg)
                if c is None:
                    ct_leaves += [Zero(tangent_aval(aval_of(x))) for x in a_leaves]
                else:
                    ct_leaves += [Zero(x.aval) if type(x) is SymbolicZero else x
                                  for x in tree_util.tree_leaves(c)]
            return ct_leaves

        if _differentiating(trace, leaves):
            # Under the JVP interpreter only fwd runs (the function itself is not traced, as
            # in JAX); the tangents go through custom_lin, whose transpose calls bwd.
            def rule(primals, tangents):
                return _custom_vjp_rule(primals, tangents, call_jaxpr=None, fwd=flat_fwd,
                                        bwd=flat_bwd, num_consts=0, name=name)
            outs = _apply_jvp_rule(trace, leaves, rule, True)  # the rule instantiates
            return tree_util.tree_unflatten(store["out_tree"], outs)
        _, _, leaves, in_tree, closed, consts, out_tree = _stage_user_fun(
            self.fun, args, self.nondiff_argnums)
        store["out_tree"] = out_tree
        outs = custom_vjp_call_p.bind(*consts, *leaves, call_jaxpr=closed, fwd=flat_fwd,
                                      bwd=flat_bwd, num_consts=len(consts), name=name)
        return tree_util.tree_unflatten(out_tree, outs)


# ---- custom_gradient -------------------------------------------------------------------------
def custom_gradient(fun=None, *, with_logs=False, remat=False, with_accums=None):
    """Define a function and its gradient together (``jax.custom_gradient``, TensorFlow
    style): ``fun(*args)`` returns ``(value, vjp)`` where ``vjp(ct)`` returns one cotangent per
    argument. ``vjp`` may close over values computed in ``fun``; it is traced once per use,
    so it cannot branch in Python on their values.

    ``with_logs``, ``remat`` and ``with_accums`` are not supported (NotImplementedError).

    Example::

        @jaxel.custom_gradient
        def f(x):
            return x ** 2, lambda g: (g * x,)

        jaxel.grad(f)(3.0)  # 3.0
    """
    if fun is None:
        return lambda f: custom_gradient(f, with_logs=with_logs, remat=remat,
                                         with_accums=with_accums)
    for opt, val, default in (("with_logs", with_logs, False), ("remat", remat, False),
                              ("with_accums", with_accums, None)):
        if val is not default and val != default:
            raise NotImplementedError(f"custom_gradient({opt}=...) is not supported by jaxel.")

    def primal(*args):
        return fun(*args)[0]

    for attr in ("__name__", "__qualname__", "__doc__", "__module__"):
        if hasattr(fun, attr):
            setattr(primal, attr, getattr(fun, attr))
    wrapped = custom_vjp(primal)

    def fwd(*args):
        ans, rule = fun(*args)
        # The residuals are the arrays the traced rule closes over; the rule itself travels
        # as static data of their pytree.
        return ans, _traced_rule(rule, ans)

    def bwd(res, ct):
        return tuple(res(ct))

    wrapped.defvjp(fwd, bwd)
    return wrapped


def _traced_rule(rule, ans):
    from jaxel.jit_primitive import closure_convert as hoist
    ans_leaves, ans_tree = tree_util.tree_flatten(ans)
    store = {}

    def flat_rule(*cts):
        out = rule(tree_util.tree_unflatten(ans_tree, list(cts)))
        if not isinstance(out, (tuple, list)):
            raise TypeError("The vjp function of a custom_gradient function must return a "
                            f"tuple with one cotangent per argument, got {type(out).__name__}.")
        leaves, store["tree"] = tree_util.tree_flatten(tuple(out))
        return leaves

    closed = trace_to_jaxpr(flat_rule, [tangent_aval(aval_of(a)) for a in ans_leaves])
    closed, consts = hoist(closed)
    return tree_util.Partial(_TracedRule(closed, ans_tree, store["tree"]), list(consts))


class _TracedRule:
    """``self(consts, ct)``: a custom_gradient rule traced to a jaxpr, applied to ``ct``."""

    __slots__ = ("closed", "ct_tree", "out_tree", "__weakref__")

    def __init__(self, closed, ct_tree, out_tree):
        self.closed, self.ct_tree, self.out_tree = closed, ct_tree, out_tree

    def __call__(self, consts, ct):
        cts = tree_util.tree_leaves(ct)
        outs = eval_jaxpr(self.closed.jaxpr, self.closed.consts, *consts, *cts)
        return tree_util.tree_unflatten(self.out_tree, outs)


# ---- closure_convert -------------------------------------------------------------------------
def closure_convert(fun, *example_args):
    """Hoist the values ``fun`` closes over out as explicit arguments (``jax.closure_convert``).

    Traces ``fun`` at ``example_args`` and returns ``(converted_fun, consts)``: calling
    ``converted_fun(*args, *consts)`` computes ``fun(*args)``. The hoisted ``consts`` are the
    closed-over values that can carry derivatives: tracers of enclosing transformations and
    floating-point arrays (integer constants stay inside). Use it to pass a closure to a
    ``custom_vjp``/``custom_jvp`` function, whose rules must see every differentiable input.
    """
    from jaxel import dtypes as _dt
    from jaxel.tracing.core import Tracer
    leaves, in_tree = tree_util.tree_flatten(example_args)
    store = {}

    def flat_fun(*xs):
        out = fun(*tree_util.tree_unflatten(in_tree, list(xs)))
        out_leaves, store["tree"] = tree_util.tree_flatten(out)
        return out_leaves

    closed = trace_to_jaxpr(flat_fun, [aval_of(x) for x in leaves])
    jaxpr = closed.jaxpr

    def hoisted(c):
        return isinstance(c, Tracer) or _dt.issubdtype(aval_of(c).dtype, np.inexact)

    flags = [hoisted(c) for c in closed.consts]
    kept_vars = [v for v, h in zip(jaxpr.constvars, flags) if not h]
    kept = [c for c, h in zip(closed.consts, flags) if not h]
    hoist_vars = [v for v, h in zip(jaxpr.constvars, flags) if h]
    consts = [c for c, h in zip(closed.consts, flags) if h]
    from jaxel.jaxpr.ir import Jaxpr
    converted_jaxpr = Jaxpr(kept_vars, list(jaxpr.invars) + hoist_vars, jaxpr.outvars,
                            jaxpr.eqns, jaxpr.debug_info)
    out_tree = store["tree"]
    n_args = len(leaves)

    def converted_fun(*args_and_consts):
        args, cs = args_and_consts[:len(example_args)], args_and_consts[len(example_args):]
        arg_leaves, tree = tree_util.tree_flatten(tuple(args))
        if tree != in_tree or len(arg_leaves) != n_args or len(cs) != len(consts):
            raise TypeError(
                f"closure_convert({getattr(fun, '__name__', 'fun')}): expected the arguments "
                f"structured as {in_tree} followed by {len(consts)} hoisted constants, got "
                f"{tree} and {len(cs)}.")
        outs = eval_jaxpr(converted_jaxpr, kept, *arg_leaves, *cs)
        return tree_util.tree_unflatten(out_tree, outs)

    converted_fun.__name__ = f"closure_converted_{getattr(fun, '__name__', 'fun')}"
    return converted_fun, consts


from jaxel._linear_call import linear_call, remat_opt_p  # noqa: E402  (uses custom_vjp's helpers)

__all__ = ["closure_convert", "custom_jvp", "custom_vjp", "custom_jvp_call_p", "custom_vjp_call_p",
           "custom_lin_p", "custom_gradient", "CustomVJPPrimal", "custom_vjp_primal_tree_values",
           "SymbolicZero", "zero_from_primal", "linear_call", "remat_opt_p"]


# ---- batching rules --------------------------------------------------------------------------
# vmap of a custom-rule function stays a custom-rule function: the primal jaxpr is vectorised and
# the user's rules are wrapped to run vectorised too (every batched value with its batch
# dimension first, every output batched at 0), so derivatives taken outside the vmap still use
# the user's rules.
def _fronted(axis, args, dims):
    from jaxel.transforms.batching import move_axis
    return ([x if d is None else move_axis(x, d, 0) for x, d in zip(args, dims)],
            [None if d is None else 0 for d in dims])


def _vectorized_rule(axis, rule):
    """``rule(*groups) -> tuple of lists``, vectorised: ``run(group_dims, *groups)`` takes
    groups of values batched where ``group_dims`` says and returns every result batched at 0."""

    def run(group_dims, *groups):
        flat = [x for g in groups for x in g]
        flat_dims = [d for gd in group_dims for d in gd]
        sizes = [len(g) for g in groups]
        store = {}

        def fun(*xs):
            it = iter(xs)
            gs = [[next(it) for _ in range(n)] for n in sizes]
            outs = rule(*gs)
            store["sizes"] = [len(o) for o in outs]
            return [o for grp in outs for o in grp]

        # Symbolic zeros cannot be batched values: pass them through as unbatched zeros.
        vals = [x if type(x) is not Zero else Zero(_unbatched_aval(x.aval, d))
                for x, d in zip(flat, flat_dims)]
        dims = [None if type(x) is Zero else d for x, d in zip(flat, flat_dims)]
        outs, _ = _batch_flat_zeros(fun, axis, vals, dims)
        it = iter(outs)
        return tuple([next(it) for _ in range(n)] for n in store["sizes"])

    return run


def _unbatched_aval(aval, d):
    if d is None:
        return aval
    return aval.update(shape=aval.shape[:d] + aval.shape[d + 1:])


def _batch_flat_zeros(fun, axis, vals, dims):
    """``batch_flat`` with every output at dimension 0; ``Zero`` outputs are re-shaped to the
    batched aval (they stay symbolic)."""
    from jaxel.transforms.batching import BatchTrace, BatchTracer, extend_axis_env, matchaxis
    parent = _state.trace
    trace = BatchTrace(parent, axis)
    ins = [x if d is None or type(x) is Zero else BatchTracer(trace, x, d)
           for x, d in zip(vals, dims)]
    _state.trace = trace
    try:
        with extend_axis_env(axis):
            outs = fun(*ins)
    finally:
        _state.trace = parent
        trace.alive = False
    res = []
    for o in outs:
        if type(o) is Zero:
            a = o.aval
            res.append(Zero(a.update(shape=(axis.size,) + a.shape)))
            continue
        v, d = trace.unpack(o)
        res.append(matchaxis(v, d, 0, axis.size))
    return res, [0] * len(res)


def _custom_jvp_batch(axis, args, dims, *, call_jaxpr, jvp, num_consts, symbolic_zeros):
    from jaxel.transforms.batching import batch_jaxpr
    args, dims = _fronted(axis, args, dims)
    n_out = len(call_jaxpr.out_avals)
    new, _ = batch_jaxpr(call_jaxpr, axis, dims, [0] * n_out)
    c_dims, p_dims = dims[:num_consts], dims[num_consts:]
    run = _vectorized_rule(axis, lambda c, p, t: jvp(c, p, t))

    def batched_jvp(consts, primals, tangents):
        # Tangents are batched exactly where their primals are.
        return run([c_dims, p_dims, p_dims], list(consts), list(primals), list(tangents))

    outs = custom_jvp_call_p.bind(*args, call_jaxpr=new, jvp=batched_jvp, num_consts=num_consts,
                                  symbolic_zeros=symbolic_zeros)
    return outs, [0] * n_out


def _custom_vjp_batch(axis, args, dims, *, call_jaxpr, fwd, bwd, num_consts, name, **rest):
    from jaxel.transforms.batching import batch_jaxpr
    args, dims = _fronted(axis, args, dims)
    n_out = len(call_jaxpr.out_avals)
    new, _ = batch_jaxpr(call_jaxpr, axis, dims, [0] * n_out)
    p_dims = dims[num_consts:]
    run_bwd = _vectorized_rule(axis, lambda r, c: (bwd(r, c),))
    store = {}

    def batched_fwd(primals, perturbed):
        run_fwd = _vectorized_rule(axis, lambda p: fwd(p, perturbed))
        outs, res = run_fwd([p_dims], list(primals))
        store["n_res"] = len(res)
        return outs, res

    def batched_bwd(res, cts):
        (cts_in,) = run_bwd([[0] * len(res), [0] * len(cts)], list(res), list(cts))
        return cts_in

    outs = custom_vjp_call_p.bind(*args, call_jaxpr=new, fwd=batched_fwd, bwd=batched_bwd,
                                  num_consts=num_consts, name=name, **rest)
    return outs, [0] * n_out


def _custom_lin_batch(axis, args, dims, *, num_res, bwd, out_avals, name):
    # Only reached by evaluating a linearized custom_vjp function forwards, which is an error.
    _custom_lin_impl(name=name)


custom_jvp_call_p.batch_axis = _custom_jvp_batch
custom_vjp_call_p.batch_axis = _custom_vjp_batch
custom_lin_p.batch_axis = _custom_lin_batch
