"""``jaxel.checkpoint`` (alias ``remat``): recompute intermediate values in the backward pass
instead of saving them, with JAX's policies and ``checkpoint_name``.

A checkpointed call becomes the higher-order primitive ``checkpoint`` carrying the function's
jaxpr and a *policy*. Evaluation, lowering and JVP treat it as a plain call. Its partial
evaluation (the step of reverse mode that decides what the backward pass keeps) saves only the
values the policy allows and recomputes the rest inside the backward pass; there the body is
lowered behind an ``optimization_barrier`` so XLA cannot merge the recomputation back into the
forward pass (``prevent_cse``).

A policy is ``policy(prim, *avals, **params)``: may the outputs of this equation be saved? It
answers a bool or ``Saveable`` / ``Recompute`` / ``Offloadable(src, dst)`` (saved too: jaxel has
no separate host memory to offload to). ``None`` means nothing is saved but the checkpoint's
inputs. ``print_saved_residuals`` shows what a function's VJP ends up saving.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from jaxel import tree_util
from jaxel.jaxpr.eval import eval_jaxpr
from jaxel.jaxpr.ir import JaxprEqn, Var
from jaxel.lowering.emitter import tensor_type
from jaxel.lowering.lower import lower_jaxpr_body
from jaxel.tracing.core import Primitive, _state
from jaxel.jaxpr.ir import DerivedJaxprs

# ---- checkpoint_name -------------------------------------------------------------------------
name_p = Primitive("name")
name_p.abstract_eval = lambda x, *, name: x
name_p.lowering = lambda ctx, x, *, name: x
name_p.impl = lambda x, *, name: x


def _name_jvp(primals, tangents, *, name):
    # As JAX: only the primal value carries the name; the tangent passes through untagged, so
    # name policies never save tangent values (of an inner differentiation) by accident.
    (x,), (t,) = primals, tangents
    return name_p.bind(x, name=name), t


name_p.jvp = _name_jvp
name_p.transpose = lambda ct, x, *, name: [ct]


def checkpoint_name(x, name: str):
    """Tag ``x`` (a pytree of arrays) with ``name`` so that the ``save_only_these_names`` and
    ``save_any_names_but_these`` policies can refer to it. The value is unchanged."""
    return tree_util.tree_map(lambda leaf: name_p.bind(leaf, name=str(name)), x)


def checkpoint_name_fwd(x, name: str):
    """Tag the forward (primal) value of ``x`` with ``name`` (``jax.ad_checkpoint``'s
    ``checkpoint_name_fwd``). Tangents are never tagged, so this is ``checkpoint_name``."""
    return checkpoint_name(x, name)


# ---- what a policy may answer -----------------------------------------------------------------
class RecomputeType:
    """The type of ``Recompute``: a policy's answer "recompute this value in the backward
    pass" (same as ``False``)."""

    __slots__ = ()

    def __repr__(self):
        return "Recompute"

    def __reduce__(self):
        return "Recompute"


class SaveableType:
    """The type of ``Saveable``: a policy's answer "save this value for the backward pass"
    (same as ``True``)."""

    __slots__ = ()

    def __repr__(self):
        return "Saveable"

    def __reduce__(self):
        return "Saveable"


Recompute = RecomputeType()
Saveable = SaveableType()


class Offloadable(NamedTuple):
    """A policy's answer "save this value, moved from memory kind ``src`` to ``dst``" (e.g.
    ``Offloadable("device", "pinned_host")``).

    jaxel saves such values like ``Saveable`` ones and leaves them where they are: it has no
    separate host memory space to move them to.
    """
    src: str
    dst: str


def _policy_saves(answer, policy) -> bool:
    """Whether a policy's answer (bool, Recompute, Saveable or Offloadable) saves the value."""
    if answer is True or answer is False:
        return answer
    if isinstance(answer, (SaveableType, Offloadable)):
        return True
    if isinstance(answer, RecomputeType):
        return False
    if isinstance(answer, (bool, np.bool_)):
        return bool(answer)
    hint = (" Did you return the class Offloadable instead of an instance "
            "Offloadable(src, dst)?" if answer is Offloadable else "")
    raise TypeError(f"The checkpoint policy {getattr(policy, '__name__', policy)!r} returned "
                    f"{answer!r} of type {type(answer).__name__}; a policy must return a bool, "
                    "jaxel.ad_checkpoint.Recompute, Saveable or Offloadable(src, dst)." + hint)


# ---- policies --------------------------------------------------------------------------------
def everything_saveable(prim, *avals, **params):
    """Save every intermediate (checkpointing then changes nothing)."""
    return True


def nothing_saveable(prim, *avals, **params):
    """Save nothing but the checkpoint's inputs; recompute everything (the default)."""
    return False


def dots_saveable(prim, *avals, **params):
    """Save the results of matrix products and convolutions; recompute the cheap rest."""
    return prim.name in ("dot_general", "conv_general_dilated")


def dots_with_no_batch_dims_saveable(prim, *avals, **params):
    """Save the results of matrix products without batch dimensions."""
    if prim.name != "dot_general":
        return False
    (_, _), (lhs_batch, rhs_batch) = params["dimension_numbers"]
    return not lhs_batch and not rhs_batch


def save_only_these_names(*names):
    """A policy saving only the values tagged by ``checkpoint_name`` with one of ``names``."""
    keep = frozenset(names)

    def policy(prim, *avals, **params):
        return prim is name_p and params["name"] in keep
    policy.__name__ = f"save_only_these_names{tuple(sorted(keep))}"
    return policy


def save_any_names_but_these(*names):
    """A policy saving every value tagged by ``checkpoint_name`` except those in ``names``."""
    drop = frozenset(names)

    def policy(prim, *avals, **params):
        return prim is name_p and params["name"] not in drop
    policy.__name__ = f"save_any_names_but_these{tuple(sorted(drop))}"
    return policy


def save_anything_except_these_names(*names):
    """A policy saving every value, named or not (as JAX's does: a value tagged with one of
    ``names`` is the same value as the untagged one it came from, which is saved anyway)."""
    del names

    def policy(prim, *avals, **params):
        return True
    return policy


def save_from_both_policies(policy_1, policy_2):
    """A policy saving what either policy saves (both must answer with bools)."""
    if policy_1 is everything_saveable or policy_2 is everything_saveable:
        return everything_saveable
    if policy_1 is nothing_saveable:
        return policy_2
    if policy_2 is nothing_saveable:
        return policy_1

    def policy(prim, *avals, **params):
        out1 = policy_1(prim, *avals, **params)
        out2 = policy_2(prim, *avals, **params)
        if not (isinstance(out1, bool) and isinstance(out2, bool)):
            raise ValueError(f"save_from_both_policies needs policies that return bools, got "
                             f"{out1!r} and {out2!r}; write a policy function directly to "
                             "combine Recompute/Saveable/Offloadable answers.")
        return out1 or out2
    return policy


def save_and_offload_only_these_names(*, names_which_can_be_saved, names_which_can_be_offloaded,
                                      offload_src, offload_dst):
    """A policy saving the values tagged with ``names_which_can_be_saved``, offloading (to
    memory kind ``offload_dst``) those tagged with ``names_which_can_be_offloaded`` and
    recomputing the rest. The two name sets must not overlap."""
    saved, offloaded = set(names_which_can_be_saved), set(names_which_can_be_offloaded)
    both = saved & offloaded
    if both:
        raise ValueError(f"save_and_offload_only_these_names: the names {sorted(both)} are "
                         "both in names_which_can_be_saved and in names_which_can_be_offloaded; "
                         "each name must be in one of them only.")

    def policy(prim, *avals, **params):
        if prim is name_p and params["name"] in saved:
            return Saveable
        if prim is name_p and params["name"] in offloaded:
            return Offloadable(src=offload_src, dst=offload_dst)
        return Recompute
    return policy


def offload_dot_with_no_batch_dims(offload_src, offload_dst):
    """Like ``dots_with_no_batch_dims_saveable`` but offloading those products (to memory kind
    ``offload_dst``) instead of keeping them in device memory."""
    def policy(prim, *avals, **params):
        if dots_with_no_batch_dims_saveable(prim, *avals, **params):
            return Offloadable(src=offload_src, dst=offload_dst)
        return Recompute
    return policy


class checkpoint_policies:  # noqa: N801  (JAX's name: jax.checkpoint_policies)
    """The built-in rematerialisation policies (``jax.checkpoint_policies``)."""
    everything_saveable = staticmethod(everything_saveable)
    nothing_saveable = staticmethod(nothing_saveable)
    dots_saveable = staticmethod(dots_saveable)
    checkpoint_dots = staticmethod(dots_saveable)
    dots_with_no_batch_dims_saveable = staticmethod(dots_with_no_batch_dims_saveable)
    checkpoint_dots_with_no_batch_dims = staticmethod(dots_with_no_batch_dims_saveable)
    save_only_these_names = staticmethod(save_only_these_names)
    save_any_names_but_these = staticmethod(save_any_names_but_these)
    save_anything_except_these_names = staticmethod(save_anything_except_these_names)
    save_from_both_policies = staticmethod(save_from_both_policies)
    save_and_offload_only_these_names = staticmethod(save_and_offload_only_these_names)
    offload_dot_with_no_batch_dims = staticmethod(offload_dot_with_no_batch_dims)


def _saveable_eqn(policy):
    """``policy`` as a predicate on equations (None: nothing is saveable)."""
    if policy is None:
        return lambda eqn: False
    return lambda eqn: _policy_saves(
        policy(eqn.primitive, *[a.aval for a in eqn.invars], **eqn.params), policy)


# ---- the primitive ---------------------------------------------------------------------------
checkpoint_p = Primitive("checkpoint", multiple_results=True)
checkpoint_p.abstract_eval = lambda *avals, jaxpr, **_: jaxpr.out_avals
checkpoint_p.impl = lambda *args, jaxpr, **_: eval_jaxpr(jaxpr.jaxpr, jaxpr.consts, *args)


def _lowering(ctx, *args, jaxpr, prevent_cse, differentiated, policy):
    e = ctx.e
    args = list(args)
    if prevent_cse and differentiated and args:
        # The recomputation must not be merged with the forward pass's identical ops.
        args = e.op("stablehlo.optimization_barrier", args,
                    [tensor_type(a) for a in ctx.avals_in])
    consts = [e.constant(c, v.aval) for v, c in zip(jaxpr.jaxpr.constvars, jaxpr.consts)]
    return lower_jaxpr_body(e, jaxpr.jaxpr, consts, args, ctx.module)


def _pp_params(params):
    shown = {"jaxpr": params["jaxpr"], "prevent_cse": params["prevent_cse"],
             "differentiated": params["differentiated"]}
    pol = params["policy"]
    shown["policy"] = getattr(pol, "__name__", pol) if pol is not None else None
    return shown


checkpoint_p.lowering = _lowering
checkpoint_p.pp_params = _pp_params

# Derived jaxprs (JVP, split, transpose) cached per jaxpr object, as for jit.
_derived = DerivedJaxprs()
_cached = _derived.get


def _bind(closed, args, params, differentiated):
    from jaxel.jit_primitive import closure_convert
    closed, consts = closure_convert(closed)
    return checkpoint_p.bind(*consts, *args, jaxpr=closed, prevent_cse=params["prevent_cse"],
                             differentiated=differentiated, policy=params["policy"])


def _jvp(primals, tangents, **params):
    from jaxel.transforms.ad_util import Zero, tangent_aval
    from jaxel.transforms.jvp import jvp_jaxpr
    jaxpr = params["jaxpr"]
    nonzeros = tuple(type(t) is not Zero for t in tangents)
    jvp_closed, nz_out = _cached(jaxpr, ("jvp", nonzeros), lambda: jvp_jaxpr(jaxpr, nonzeros))
    outs = _bind(jvp_closed, list(primals) + [t for t in tangents if type(t) is not Zero],
                 params, params["differentiated"])
    n = len(jaxpr.out_avals)
    it = iter(outs[n:])
    return outs[:n], [next(it) if nz else Zero(tangent_aval(a))
                      for a, nz in zip(jaxpr.out_avals, nz_out)]


def _split(params, unknowns):
    from jaxel.transforms.remat import partial_eval_jaxpr_remat
    jaxpr = params["jaxpr"]
    return _cached(jaxpr, ("pe", unknowns), lambda: partial_eval_jaxpr_remat(
        jaxpr, list(unknowns), _saveable_eqn(params["policy"])))


def _partial_eval(trace, args, params):
    """Run the known half now (itself a checkpoint, so an outer differentiation remats too)
    and stage the unknown half, which recomputes what the policy did not save."""
    from jaxel.jaxpr.staging import JaxprTrace
    unknowns = tuple(trace.is_unknown(x) for x in args)
    known, unknown, out_unknowns, num_res = _split(params, unknowns)
    prev = _state.trace
    _state.trace = trace.parent
    try:
        k_outs = _bind(known, [x for x, u in zip(args, unknowns) if not u], params,
                       params["differentiated"])
    finally:
        _state.trace = prev
    n_known = len(k_outs) - num_res
    u_args = k_outs[n_known:] + [x for x, u in zip(args, unknowns) if u]
    u_params = dict(params, jaxpr=unknown, differentiated=True)
    u_outs = JaxprTrace.process_primitive(trace, checkpoint_p, u_args, u_params)
    k_it, u_it = iter(k_outs[:n_known]), iter(u_outs)
    return [next(u_it) if u else next(k_it) for u in out_unknowns]


def _partial_eval_jaxpr_eqn(eqn, ins_unknown):
    known, unknown, out_unknowns, num_res = _split(eqn.params, tuple(ins_unknown))
    res_vars = [Var(a) for a in known.out_avals[len(known.out_avals) - num_res:]]
    k_in = [a for a, u in zip(eqn.invars, ins_unknown) if not u]
    k_out = [v for v, u in zip(eqn.outvars, out_unknowns) if not u] + res_vars
    u_in = res_vars + [a for a, u in zip(eqn.invars, ins_unknown) if u]
    u_out = [v for v, u in zip(eqn.outvars, out_unknowns) if u]
    k_eqn = JaxprEqn(checkpoint_p, k_in, k_out, dict(eqn.params, jaxpr=known))
    u_eqn = JaxprEqn(checkpoint_p, u_in, u_out,
                     dict(eqn.params, jaxpr=unknown, differentiated=True))
    return k_eqn, u_eqn, out_unknowns


def _transpose(cts, *args, **params):
    from jaxel.transforms.ad_util import Zero, is_undefined
    from jaxel.transforms.transpose import transpose_jaxpr
    jaxpr = params["jaxpr"]
    linear = tuple(is_undefined(a) for a in args)
    ct_zero = tuple(type(c) is Zero for c in cts)
    t_closed = _cached(jaxpr, ("transpose", linear, ct_zero),
                       lambda: transpose_jaxpr(jaxpr, linear, ct_zero))
    operands = [a for a, lin in zip(args, linear) if not lin]
    operands += [c for c, z in zip(cts, ct_zero) if not z]
    outs = _bind(t_closed, operands, params, True)
    it = iter(outs)
    return [next(it) if lin else None for lin in linear]


checkpoint_p.jvp = _jvp
checkpoint_p.partial_eval = _partial_eval
checkpoint_p.partial_eval_jaxpr_eqn = _partial_eval_jaxpr_eqn
checkpoint_p.transpose = _transpose


# ---- public API ------------------------------------------------------------------------------
def checkpoint(fun=None, *, prevent_cse: bool = True, policy=None, static_argnums=()):
    """Make ``fun`` recompute its intermediate values during differentiation instead of saving
    them (``jax.checkpoint``; also ``jaxel.remat``).

    ``policy(prim, *avals, **params)`` says which intermediates may be saved (a bool or
    ``Saveable``/``Recompute``/``Offloadable``; see ``checkpoint_policies``; default: none but
    the inputs). ``static_argnums`` marks positional
    arguments that are Python values, not arrays. ``prevent_cse`` keeps XLA from merging the
    recomputation with the forward pass (leave it on except inside ``scan``-like loops).
    Usable as a decorator with or without arguments.
    """
    if fun is None:
        return lambda f: checkpoint(f, prevent_cse=prevent_cse, policy=policy,
                                    static_argnums=static_argnums)
    if isinstance(static_argnums, int):
        static_argnums = (static_argnums,)
    static_argnums = tuple(sorted(static_argnums))
    from jaxel.custom_derivatives import _stage_user_fun
    from jaxel.ad import _wraps

    @_wraps(fun)
    def checkpointed(*args, **kwargs):
        if kwargs:
            raise TypeError(f"jaxel.checkpoint-decorated function {fun.__name__!r} takes "
                            "positional arguments only; pass keyword arguments through "
                            "functools.partial.")
        for i in static_argnums:
            if i >= len(args):
                raise TypeError(f"checkpoint of {fun.__name__!r}: static_argnums={i} is out of "
                                f"range for {len(args)} positional arguments.")
        _, _, leaves, _, closed, consts, out_tree = _stage_user_fun(fun, args, static_argnums)
        outs = checkpoint_p.bind(*consts, *leaves, jaxpr=closed, prevent_cse=bool(prevent_cse),
                                 differentiated=False, policy=policy)
        return tree_util.tree_unflatten(out_tree, list(outs))

    return checkpointed


remat = checkpoint


# The residual inspection lives with the other transformation code; exported here as JAX does.
from jaxel.transforms.residuals import print_saved_residuals, saved_residuals  # noqa: E402


__all__ = ["checkpoint", "remat", "checkpoint_name", "checkpoint_name_fwd",
           "checkpoint_policies", "checkpoint_p", "name_p", "Recompute", "Saveable",
           "Offloadable", "print_saved_residuals", "saved_residuals"]


# ---- batching rules --------------------------------------------------------------------------
def _batch_axis(axis, args, dims, **params):
    """vmap of a checkpointed call: a checkpoint of the vectorised jaxpr."""
    from jaxel.transforms.batching import batch_jaxpr
    new, out_dims = batch_jaxpr(params["jaxpr"], axis, dims)
    return _bind(new, list(args), params, params["differentiated"]), out_dims


def _named_axes(params):
    from jaxel.transforms.batching import jaxpr_axis_names
    return jaxpr_axis_names(params["jaxpr"])


checkpoint_p.batch_axis = _batch_axis
checkpoint_p.named_axes = _named_axes
name_p.batch = lambda args, dims, *, name: (name_p.bind(args[0], name=name), dims[0])
