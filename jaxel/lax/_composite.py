"""Lowering a primitive by tracing a composition of other lax operations.

Special functions (incomplete gamma and beta, Bessel ``i0e``/``i1e``, ``sinpi``...) are
primitives in ``jax.lax`` (they show up by name in jaxprs, and have their own derivative
rules), but XLA has no single operation for them. Their lowering traces a Python function made
of lax calls on the operands' avals and inlines the resulting jaxpr into the module being
built. The traced jaxpr is cached per (avals, params), so a function is traced once per shape.
"""
from __future__ import annotations

import numpy as np

from jaxel import dtypes as _dtypes

_cache: dict = {}


def emit_closed(ctx, closed, names):
    """Emit the equations of ``closed`` (a ClosedJaxpr) inline at this point of the module being
    lowered, on the values ``names``; returns the names of its results."""
    from jaxel.lowering.lower import lower_jaxpr_body
    consts = [ctx.e.constant(np.asarray(c), v.aval)
              for v, c in zip(closed.jaxpr.constvars, closed.consts)]
    return lower_jaxpr_body(ctx.e, closed.jaxpr, consts, list(names), ctx.module)


def emit_composition(ctx, fn, avals, names):
    """Trace ``fn`` (lax code returning a sequence of results) on ``avals`` and emit it inline on
    the values ``names``; returns the names of its results (one trace per call: for lowering
    rules that compose lax code around custom calls)."""
    from jaxel.jaxpr.staging import trace_to_jaxpr
    return emit_closed(ctx, trace_to_jaxpr(lambda *xs: list(fn(*xs)), list(avals)), names)


def lower_via(fun, *, upcast_16bit: bool = False, upcast_32bit: bool = False,
              broadcast: bool = True):
    """A lowering rule that emits ``fun(*operands, **params)`` (a composition of lax ops).

    Rank-0 operands are broadcast to the result shape first, so ``fun`` sees equal shapes
    (``broadcast=False``: operands are passed as they are).
    ``upcast_16bit``: float16/bfloat16 operands are computed in float32 and the result rounded
    back (the series and continued fractions need the range and precision).
    ``upcast_32bit``: 16- and 32-bit floats are computed in float64 (whatever the x64 setting:
    it only governs the dtypes users see), for results correctly rounded in float32.
    """
    from jaxel.jaxpr.staging import trace_to_jaxpr

    def rule(ctx, *operands, **params):
        out_avals = ctx.avals_out
        key = (fun, tuple(ctx.avals_in), tuple(sorted(params.items())) if params else ())
        closed = _cache.get(key)
        if closed is None:
            closed = trace_to_jaxpr(lambda *xs: _as_list(_call(fun, xs, out_avals[0].shape,
                                                               upcast_16bit, upcast_32bit,
                                                               broadcast, params)),
                                    list(ctx.avals_in))
            if len(_cache) > 512:  # many shapes: keep the table bounded
                _cache.clear()
            _cache[key] = closed
        outs = emit_closed(ctx, closed, operands)
        return outs if len(out_avals) > 1 or isinstance(fun, _Multi) else outs[0]

    return rule


class _Multi:
    """Marks a composition with several results (a list)."""

    def __init__(self, fun):
        self.fun = fun

    def __call__(self, *args, **kw):
        return self.fun(*args, **kw)


def multiple_results(fun):
    """Wrap ``fun`` (returning a list) for ``lower_via`` of a multiple-results primitive."""
    return _Multi(fun)


def _as_list(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


def _convert(x, dt):
    # The primitive itself: lax.convert_element_type would canonicalise float64 away.
    from jaxel.lax.elementwise import convert_element_type_p
    return convert_element_type_p.bind(x, new_dtype=np.dtype(dt), weak_type=False, sharding=None)


def _call(fun, xs, shape, upcast_16bit, upcast_32bit, broadcast, params):
    from jaxel.lax.shape_ops import broadcast_in_dim
    if broadcast:
        xs = [broadcast_in_dim(x, shape, ()) if x.aval.shape != shape else x for x in xs]
    dt = xs[0].aval.dtype if xs else None
    wide = None
    if dt is not None and _dtypes.is_float(dt):
        if upcast_32bit and dt.itemsize <= 4:
            wide = np.float64
        elif upcast_16bit and dt.itemsize == 2:
            wide = np.float32
    if wide is not None:
        xs = [_convert(x, wide) for x in xs]
    out = fun(*xs, **params)
    if wide is not None:
        out = [_convert(o, dt) for o in out] if isinstance(out, (list, tuple)) \
            else _convert(out, dt)
    return out


__all__ = ["lower_via", "multiple_results"]
