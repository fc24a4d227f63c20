"""Identity-like primitives that exist for the compiler's sake: ``optimization_barrier``
(kept in the StableHLO program so XLA neither fuses, reorders nor deduplicates across it),
``stage`` (lifts a value into the current trace) and ``dce_sink`` (consumes values, producing
nothing).
"""
from __future__ import annotations

from jaxel import tree_util
from jaxel.tracing.core import Primitive
from jaxel.transforms import ad_util as _ad

optimization_barrier_p = Primitive("optimization_barrier", multiple_results=True)
stage_p = Primitive("stage")
dce_sink_p = Primitive("dce_sink", multiple_results=True)


# ---- optimization_barrier ----------------------------------------------------------------------
def _barrier_lowering(ctx, *xs):
    if not xs:
        return []
    return ctx.e.op("stablehlo.optimization_barrier", list(xs), [ctx.e.types[x] for x in xs])


def _barrier_jvp(primals, tangents):
    # Primals and tangents go through separate barriers, as in JAX: the tangent program keeps
    # its own barrier and symbolic zeros stay symbolic.
    out = optimization_barrier_p.bind(*primals)
    nz = [t for t in tangents if type(t) is not _ad.Zero]
    moved = iter(optimization_barrier_p.bind(*nz) if nz else [])
    return out, [t if type(t) is _ad.Zero else next(moved) for t in tangents]


def _barrier_transpose(cts, *xs):
    live = [i for i, (c, x) in enumerate(zip(cts, xs))
            if _ad.is_undefined(x) and type(c) is not _ad.Zero]
    outs = optimization_barrier_p.bind(*[cts[i] for i in live]) if live else []
    res = [None] * len(xs)
    for i, o in zip(live, outs):
        res[i] = o
    return res


optimization_barrier_p.abstract_eval = lambda *avals: list(avals)
optimization_barrier_p.lowering = _barrier_lowering
optimization_barrier_p.jvp = _barrier_jvp
optimization_barrier_p.transpose = _barrier_transpose
optimization_barrier_p.batch = lambda args, dims: (optimization_barrier_p.bind(*args),
                                                   list(dims))


def optimization_barrier(operand, /):
    """Return ``operand`` (a pytree of arrays) unchanged, through a barrier the compiler may not
    move computations across.

    Uses: forcing an evaluation order (everything feeding the barrier is computed before
    anything that uses its outputs), preventing common-subexpression elimination (as
    rematerialisation needs), and blocking fusion. Outside ``jit`` it has no effect.

    Example::

        >>> def f(x):
        ...     return lax.optimization_barrier(lax.sin(x)) + lax.sin(x)
        >>> jax.jit(f)(0.)
        Array(0., dtype=float32, weak_type=True)
    """
    leaves, tree = tree_util.tree_flatten(operand)
    return tree_util.tree_unflatten(tree, optimization_barrier_p.bind(*leaves))


# ---- stage -------------------------------------------------------------------------------------
def _stage_impl(x):
    from jaxel.numpy import asarray
    return asarray(x)


stage_p.abstract_eval = lambda x: x
stage_p.lowering = lambda ctx, x: x
stage_p.impl = _stage_impl
_ad.deflinear(stage_p, lambda ct, x: [ct])
stage_p.batch = lambda args, dims: (stage_p.bind(args[0]), dims[0])


def stage(x, /):
    """Lift ``x`` (an array, NumPy array or Python scalar) into the active trace: logically
    the identity; outside any trace it returns a jaxel Array.

    Example::

        >>> lax.stage(1.0)
        Array(1., dtype=float32, weak_type=True)
    """
    if hasattr(x, "_trace"):  # already a value of a trace: nothing to lift (no equation)
        return x
    return stage_p.bind(x)


# ---- dce_sink ----------------------------------------------------------------------------------
dce_sink_p.abstract_eval = lambda x, *, prevent_mlir_dce=False: []
dce_sink_p.lowering = lambda ctx, x, *, prevent_mlir_dce=False: []
dce_sink_p.impl = lambda x, *, prevent_mlir_dce=False: []
dce_sink_p.jvp = lambda primals, tangents, **params: (dce_sink_p.bind(*primals, **params), [])
dce_sink_p.batch = lambda args, dims, **params: (dce_sink_p.bind(*args, **params), [])


def dce_sink(val, *, prevent_mlir_dce=False):
    """Consume every leaf of the pytree ``val`` and return nothing: a use of a value that keeps
    it alive in a traced program without producing an output."""
    for leaf in tree_util.tree_leaves(val):
        dce_sink_p.bind(leaf, prevent_mlir_dce=bool(prevent_mlir_dce))


__all__ = ["optimization_barrier", "optimization_barrier_p", "stage", "stage_p", "dce_sink"]
