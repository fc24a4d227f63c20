"""``lax.composite``: a function that lowers to one ``stablehlo.composite`` op whose
decomposition (the function's own program) is a private function of the module. Compilers that
know the composite's name may replace it; XLA on CPU inlines the decomposition.

Under ``jvp``/``grad`` and ``vmap`` a composite is replaced by its decomposition (JAX raises
instead), so derivatives and batching always work.
"""
from __future__ import annotations

import functools

import numpy as np

from jaxel import tree_util
from jaxel.lax._rules import aval_of
from jaxel.lowering.emitter import Emitter, dense_attr, tensor_type
from jaxel.tracing.core import Primitive

composite_p = Primitive("composite", multiple_results=True)


def _hashable_attr(key, value):
    """An attribute value in a hashable form (arrays become (dtype, shape, bytes))."""
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, (np.ndarray, np.generic)):
        v = np.asarray(value)
        return ("__array__", v.dtype.str, v.shape, v.tobytes())
    raise TypeError(f"lax.composite: attribute {key!r} must be a Python scalar, a string or a "
                    f"NumPy array, got {type(value).__name__}.")


def _attr_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value} : i64"
    if isinstance(value, float):
        return f"{value!r} : f64" if np.isfinite(value) else \
            f"0x{np.float64(value).view(np.uint64):016X} : f64"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if value is None:
        return "unit"
    _, dt, shape, data = value
    arr = np.frombuffer(data, np.dtype(dt)).reshape(shape)
    from jaxel.tracing.avals import ShapedArray
    return f"{dense_attr(arr)} : {tensor_type(ShapedArray(arr.shape, arr.dtype))}"


def _abstract_eval(*avals, name, attributes, version, call_jaxpr):
    return list(call_jaxpr.out_avals)


def _decomposition_text(ctx, sym, call_jaxpr):
    from jaxel.lowering.lower import lower_jaxpr_body
    e = Emitter()
    args = []
    for i, a in enumerate(ctx.avals_in):
        n = f"%arg{i}"
        e.add_value(n, tensor_type(a))
        args.append(n)
    consts = [e.constant(c, v.aval) for v, c in zip(call_jaxpr.jaxpr.constvars, call_jaxpr.consts)]
    outs = lower_jaxpr_body(e, call_jaxpr.jaxpr, consts, args, ctx.module)
    out_types = [e.types[o] for o in outs]
    decl = ", ".join(f"{n}: {e.types[n]}" for n in args)
    ret = f'    "func.return"({", ".join(outs)}) : ({", ".join(out_types)}) -> ()'
    return (f"  func.func private @{sym}({decl}) -> ({', '.join(out_types)}) {{\n"
            + "\n".join(e.lines) + f"\n{ret}\n  }}\n")


def _lowering(ctx, *xs, name, attributes, version, call_jaxpr):
    if ctx.module is None:  # no module to hold the decomposition: inline it
        from jaxel.lowering.lower import lower_jaxpr_body
        consts = [ctx.e.constant(c, v.aval)
                  for v, c in zip(call_jaxpr.jaxpr.constvars, call_jaxpr.consts)]
        return lower_jaxpr_body(ctx.e, call_jaxpr.jaxpr, consts, list(xs), ctx.module)
    # One private function per decomposition program and module (calls share it).
    known = ctx.module.__dict__.setdefault("_composite_symbols", {})
    sym = known.get((name, id(call_jaxpr)))
    if sym is None:
        sym = ctx.module.add_function(name, lambda s: _decomposition_text(ctx, s, call_jaxpr))
        known[(name, id(call_jaxpr))] = sym
    attrs = [f'name = "{name}"', f"decomposition = @{sym}"]
    if attributes:
        body = ", ".join(f"{k} = {_attr_text(v)}" for k, v in attributes)
        attrs.append(f"composite_attributes = {{{body}}}")
    if version:
        attrs.append(f"version = {int(version)} : i32")
    return ctx.e.op("stablehlo.composite", list(xs), [tensor_type(a) for a in ctx.avals_out],
                    ", ".join(attrs))


def _inline(call_jaxpr):
    from jaxel.jaxpr.eval import eval_jaxpr
    return lambda *xs: eval_jaxpr(call_jaxpr.jaxpr, call_jaxpr.consts, *xs)


def _jvp(primals, tangents, *, name, attributes, version, call_jaxpr):
    from jaxel.transforms.jvp import jvp_flat
    return jvp_flat(_inline(call_jaxpr), list(primals), list(tangents), instantiate_zeros=False)


def _batch(args, dims, *, name, attributes, version, call_jaxpr):
    import jaxel
    outs = jaxel.vmap(_inline(call_jaxpr), in_axes=tuple(dims), out_axes=0)(*args)
    return list(outs), [0] * len(outs)


composite_p.abstract_eval = _abstract_eval
composite_p.lowering = _lowering
composite_p.jvp = _jvp
composite_p.batch = _batch


def composite(decomposition, name, version=0):
    """Wrap ``decomposition`` so that calls lower to a ``stablehlo.composite`` op named
    ``name`` (with ``version``), whose body is ``decomposition``.

    Keyword arguments of a call are static: they become the composite's attributes (Python
    scalars, strings or NumPy arrays). Positional arguments are the op's operands (pytrees of
    arrays).

    Example::

        >>> def my_tanh(x, *, scale):
        ...     return jnp.tanh(x) * scale
        >>> f = lax.composite(my_tanh, name="my.tanh")
        >>> f(jnp.zeros(2), scale=2.0)
        Array([0., 0.], dtype=float32)
    """
    from jaxel.lax.control_flow.common import trace_fun
    from jaxel.lax.generic_reduce import _closed_over_consts

    partials = {}  # attributes -> one partial object, so tracing is cached per attributes

    @functools.wraps(decomposition)
    def call(*args, **kwargs):
        from jaxel.numpy import asarray
        attributes = tuple(sorted((k, _hashable_attr(k, v)) for k, v in kwargs.items()))
        leaves, tree = tree_util.tree_flatten(args)
        leaves = [x if hasattr(x, "aval") else asarray(x) for x in leaves]
        fun = decomposition
        if kwargs:
            fun = partials.get(attributes)
            if fun is None:
                fun = partials[attributes] = functools.partial(decomposition, **kwargs)
        closed, consts, out_tree = trace_fun(fun, tree, [aval_of(x) for x in leaves],
                                             "lax.composite")
        if any(hasattr(c, "_trace") for c in consts):
            # Values of enclosing transformations become leading operands.
            outs = composite_p.bind(*consts, *leaves, name=name, attributes=attributes,
                                    version=int(version), call_jaxpr=closed)
        else:
            closed = _closed_over_consts(closed, consts, "composite")
            outs = composite_p.bind(*leaves, name=name, attributes=attributes,
                                    version=int(version), call_jaxpr=closed)
        return tree_util.tree_unflatten(out_tree, outs)
    return call


__all__ = ["composite"]
