"""Shared pieces of the control-flow primitives: tracing user functions to closed jaxprs (with
a cache, so a loop body is traced once per argument types), and type checks whose errors name
the leaf that differs.

Conventions every control-flow primitive follows:
* Inner jaxprs are ``ClosedJaxpr`` parameters without array constants: ``trace_fun`` hoists
  every non-scalar constant (including values of enclosing transformations) to leading inputs,
  and the primitive receives them as ordinary operands. Rules therefore never see tracers hidden
  inside a parameter.
* Rules that derive new inner jaxprs (JVP, partial evaluation, transposition, batching) cache
  them per jaxpr object with ``cached``, so a function differentiated or vmapped in a Python
  loop traces each derived program once.
"""
from __future__ import annotations

import weakref

from jaxel import tree_util
from jaxel.jaxpr.staging import DebugInfo, trace_to_jaxpr
from jaxel.tracing.avals import ShapedArray
from jaxel.transforms.ad_util import aval_of

# fun -> {(in_tree, in_avals, axis env, x64): (closed, consts, out_tree)}
_trace_cache: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_derived: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def cached(jaxpr, key, make):
    """``make()`` once per (jaxpr object, key): for jaxprs derived from an inner jaxpr."""
    per = _derived.setdefault(jaxpr, {})
    out = per.get(key)
    if out is None:
        out = per[key] = make()
    return out


def trace_fun(fun, in_tree, in_avals, what: str):
    """Trace ``fun`` (taking the pytree ``in_tree`` of values with ``in_avals``) to a jaxpr.

    Returns ``(closed, consts, out_tree)``: ``closed`` takes ``(*consts, *leaves)`` and has no
    array constants; ``consts`` are the hoisted constant values (arrays or tracers of enclosing
    transformations) to pass as leading operands. Cached per function object and argument
    types when no constant is a tracer.
    """
    from jaxel.config import config
    from jaxel.jit_primitive import closure_convert
    from jaxel.transforms.batching import axis_env_key
    key = (in_tree, tuple(in_avals), axis_env_key(), config.jax_enable_x64)
    try:
        per = _trace_cache.get(fun)
    except TypeError:  # not weak-referenceable (e.g. a builtin): no caching
        per = None
    if per is not None:
        hit = per.get(key)
        if hit is not None:
            return hit
    store = {}

    def flat(*xs):
        out = fun(*tree_util.tree_unflatten(in_tree, list(xs)))
        leaves, store["tree"] = tree_util.tree_flatten(out)
        return [_as_value(x) for x in leaves]

    closed = trace_to_jaxpr(flat, list(in_avals), DebugInfo(what, fun))
    closed, consts = closure_convert(closed)
    result = (closed, consts, store["tree"])
    if not any(hasattr(c, "_trace") for c in consts):
        try:
            _trace_cache.setdefault(fun, {})[key] = result
        except TypeError:
            pass
    return result


def _as_value(x):
    """Outputs of user functions: Python scalars and NumPy values become arrays."""
    if hasattr(x, "aval"):
        return x
    from jaxel.numpy import asarray
    return asarray(x)


def avals_of(leaves):
    """The avals of a list of values."""
    return [aval_of(x) for x in leaves]


def strip_weak(a: ShapedArray) -> ShapedArray:
    return a.update(weak_type=False) if a.weak_type else a


def _weak_arg(aval):
    """A stand-in for an aval in ``result_type``: a Python scalar of its kind when weakly typed
    (weak types defer to strong ones), else its dtype."""
    import numpy as np
    dt = np.dtype(aval.dtype)
    if aval.weak_type:
        return {"b": False, "i": 0, "u": 0, "f": 0.0, "c": 0j}.get(dt.kind, 0.0)
    return dt


def promote_weak_carry(leaves, in_avals, out_avals):
    """JAX's rule for a weakly typed initial loop carry (a Python scalar, say) whose body
    returns another type: the initial value is converted to ``result_type(init, body output)``
    (strongly typed) and the body is traced again.

    A weak carry whose body returns the same shape and dtype strongly typed is made strong too:
    JAX lets such a loop take a weak carry in and give a strong one out; jaxel's loop primitives
    keep one carry type, and the loop's result type is the same. Returns ``(leaves, changed)``.
    """
    from jaxel import dtypes as _dtypes
    from jaxel.lax.elementwise import convert_element_type
    out, changed = list(leaves), False
    for i, (a, b) in enumerate(zip(in_avals, out_avals)):
        if not a.weak_type or (a.shape == b.shape and a.dtype == b.dtype and b.weak_type):
            continue
        dt = _dtypes.result_type(_weak_arg(a), _weak_arg(b))
        out[i] = convert_element_type(leaves[i], dt)
        changed = True
    return out, changed


def leaf_paths(tree) -> list:
    """A readable key path for each leaf position of ``tree`` (a PyTreeDef)."""
    dummy = tree_util.tree_unflatten(tree, list(range(tree.num_leaves)))
    return [tree_util.keystr(p) or "(the root)"
            for p, _ in tree_util.tree_flatten_with_path(dummy)[0]]


def type_mismatch(label_a, tree_a, avals_a, label_b, tree_b, avals_b):
    """A description of how two (tree, avals) pairs differ (shape and dtype; weak types are
    ignored), or None when they agree."""
    if tree_a != tree_b:
        return (f"{label_a} has structure {tree_a}\n  but {label_b} has structure {tree_b}")
    for path, a, b in zip(leaf_paths(tree_a), avals_a, avals_b):
        if a.shape != b.shape or a.dtype != b.dtype:
            return (f"at leaf {path}: {label_a} is {a.str_short()} but {label_b} is "
                    f"{b.str_short()}")
    return None


def show_types(tree, avals) -> str:
    """``tree`` with each leaf replaced by its type, for error messages."""
    return str(tree_util.tree_unflatten(tree, [a.str_short() for a in avals])).replace("'", "")
