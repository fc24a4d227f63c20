"""Joining and cutting primitives: ``split``, ``stack``, ``unstack`` and ``tile``.

They are primitives (as in JAX) rather than compositions of slices and concatenations, so a
jaxpr shows one equation per call. All four are linear: their transposes are each other
(``split`` <-> ``concatenate``, ``stack`` <-> ``unstack``) or a sum over the tiled copies.
"""
from __future__ import annotations

import operator

from jaxel.lax._rules import aval_of
from jaxel.lowering.emitter import i64_array, tensor_type
from jaxel.tracing.avals import ShapedArray
from jaxel.tracing.core import Primitive
from jaxel.transforms import ad_util as _ad
from jaxel.transforms import batching as _batching

split_p = Primitive("split", multiple_results=True)
stack_p = Primitive("stack")
unstack_p = Primitive("unstack", multiple_results=True)
tile_p = Primitive("tile")


def _axis(axis, ndim, fun):
    a = operator.index(axis)
    if not -ndim <= a < ndim:
        raise ValueError(f"lax.{fun}: axis {a} is out of bounds for array of dimension {ndim}")
    return a % ndim


# ---- split -------------------------------------------------------------------------------------
def _split_abstract_eval(x, *, sizes, axis):
    if any(s < 0 for s in sizes):
        raise ValueError(f"Sizes passed to split must be nonnegative, got {list(sizes)}")
    if x.ndim and sum(sizes) != x.shape[axis]:
        raise ValueError(f"Sum of sizes {sum(sizes)} must be equal to dimension {axis} of the "
                         f"operand shape {list(x.shape)}")
    return [x.update(shape=x.shape[:axis] + (s,) + x.shape[axis + 1:]) for s in sizes]


def _split_lowering(ctx, x, *, sizes, axis):
    a = ctx.avals_in[0]
    outs, start = [], 0
    for s, out in zip(sizes, ctx.avals_out):
        lo = [0] * a.ndim
        hi = list(a.shape)
        lo[axis], hi[axis] = start, start + s
        outs.append(ctx.e.op1("stablehlo.slice", [x], tensor_type(out),
                              f"start_indices = {i64_array(lo)}, limit_indices = {i64_array(hi)}, "
                              f"strides = {i64_array([1] * a.ndim)}"))
        start += s
    return outs


def _split_transpose(cts, x, *, sizes, axis):
    from jaxel.lax.shape_ops import concatenate_p
    cts = [_ad.instantiate(c) for c in cts]
    return [cts[0] if len(cts) == 1 else concatenate_p.bind(*cts, dimension=axis)]


def _split_batch(args, dims, *, sizes, axis):
    (x,), (d,) = args, dims
    new_axis = axis if axis < d else axis + 1
    return split_p.bind(x, sizes=sizes, axis=new_axis), [d] * len(sizes)


split_p.abstract_eval = _split_abstract_eval
split_p.lowering = _split_lowering
split_p.batch = _split_batch
_ad.deflinear(split_p, _split_transpose)


def split(operand, sizes, axis=0):
    """Split ``operand`` along ``axis`` into pieces of the given ``sizes`` (which must add up
    to the length of that axis).

    Args:
      operand: the array to cut.
      sizes: the length of each piece, non-negative.
      axis: the axis to cut along (negative counts from the end).

    Returns:
      A list of ``len(sizes)`` arrays.

    Example::

        >>> lax.split(jnp.arange(5), [2, 3])
        [Array([0, 1], dtype=int32), Array([2, 3, 4], dtype=int32)]
    """
    nd = aval_of(operand).ndim
    sizes = tuple(operator.index(s) for s in sizes)
    return list(split_p.bind(operand, sizes=sizes, axis=_axis(axis, nd, "split")))


# ---- stack / unstack ---------------------------------------------------------------------------
def _stack_abstract_eval(*xs, axis):
    x0 = xs[0]
    for x in xs:
        if x.shape != x0.shape:
            raise ValueError("All input arrays must have the same shape. Got "
                             f"{', '.join(str(a.shape) for a in xs)}.")
        if x.dtype != x0.dtype:
            raise TypeError("lax.stack requires arguments to have the same dtypes, got "
                            f"{', '.join(a.dtype.name for a in xs)}. (Tip: jaxel.numpy.stack "
                            "promotes types automatically.)")
    shape = x0.shape[:axis] + (len(xs),) + x0.shape[axis:]
    return ShapedArray(shape, x0.dtype, all(x.weak_type for x in xs))


def _stack_lowering(ctx, *xs, axis):
    out = ctx.avals_out[0]
    one = tensor_type(out.update(shape=out.shape[:axis] + (1,) + out.shape[axis + 1:]))
    parts = [ctx.e.op1("stablehlo.reshape", [x], one) for x in xs]
    if len(parts) == 1:
        return parts[0]
    return ctx.e.op1("stablehlo.concatenate", parts, tensor_type(out),
                     f"dimension = {axis} : i64")


def _stack_transpose(ct, *xs, axis):
    parts = unstack_p.bind(ct, axis=axis)
    return [p if _ad.is_undefined(x) else None for p, x in zip(parts, xs)]


def _stack_batch(args, dims, *, axis):
    size = _batching.batch_size_of(args, dims)
    d = next(d for d in dims if d is not None)
    xs = [_batching.matchaxis(x, dx, d, size) for x, dx in zip(args, dims)]
    # The new axis goes before the batch dimension when it lands at or before it.
    if axis <= d:
        return stack_p.bind(*xs, axis=axis), d + 1
    return stack_p.bind(*xs, axis=axis + 1), d


stack_p.abstract_eval = _stack_abstract_eval
stack_p.lowering = _stack_lowering
stack_p.batch = _stack_batch
_ad.deflinear(stack_p, _stack_transpose)


def stack(operands, axis=0):
    """Stack same-shape, same-dtype arrays along a new ``axis``.

    Unlike ``jaxel.numpy.stack``, dtypes are not promoted (Python scalars adopt the arrays'
    dtype, weakly typed).

    Example::

        >>> lax.stack([jnp.zeros(2), jnp.ones(2)], axis=1).shape
        (2, 2)
    """
    from jaxel.lax._rules import as_operands
    operands = as_operands(*operands)
    if not operands:
        raise ValueError("lax.stack needs at least one operand.")
    nd = aval_of(operands[0]).ndim
    return stack_p.bind(*operands, axis=_axis(axis, nd + 1, "stack"))


def _unstack_abstract_eval(x, *, axis):
    shape = x.shape[:axis] + x.shape[axis + 1:]
    return [x.update(shape=shape) for _ in range(x.shape[axis])]


def _unstack_lowering(ctx, x, *, axis):
    a = ctx.avals_in[0]
    one = tensor_type(a.update(shape=a.shape[:axis] + (1,) + a.shape[axis + 1:]))
    outs = []
    for i, out in enumerate(ctx.avals_out):
        lo = [0] * a.ndim
        hi = list(a.shape)
        lo[axis], hi[axis] = i, i + 1
        s = ctx.e.op1("stablehlo.slice", [x], one,
                      f"start_indices = {i64_array(lo)}, limit_indices = {i64_array(hi)}, "
                      f"strides = {i64_array([1] * a.ndim)}")
        outs.append(ctx.e.op1("stablehlo.reshape", [s], tensor_type(out)))
    return outs


def _unstack_transpose(cts, x, *, axis):
    return [stack_p.bind(*[_ad.instantiate(c) for c in cts], axis=axis)]


def _unstack_batch(args, dims, *, axis):
    (x,), (d,) = args, dims
    if axis < d:
        return unstack_p.bind(x, axis=axis), [d - 1] * aval_of(x).shape[axis]
    return unstack_p.bind(x, axis=axis + 1), [d] * aval_of(x).shape[axis + 1]


unstack_p.abstract_eval = _unstack_abstract_eval
unstack_p.lowering = _unstack_lowering
unstack_p.batch = _unstack_batch
_ad.deflinear(unstack_p, _unstack_transpose)


def unstack(x, axis=0):
    """The slices of ``x`` along ``axis``, as a tuple (the inverse of ``lax.stack``).

    Example::

        >>> [a.shape for a in lax.unstack(jnp.zeros((2, 3)), axis=1)]
        [(2,), (2,), (2,)]
    """
    nd = aval_of(x).ndim
    return tuple(unstack_p.bind(x, axis=_axis(axis, nd, "unstack")))


# ---- tile --------------------------------------------------------------------------------------
def _tile_abstract_eval(x, *, reps):
    if len(reps) != x.ndim:
        raise TypeError(f"reps length must be equal to the ndim of x, got len(reps)={len(reps)} "
                        f"and x.ndim={x.ndim}.")
    if any(r < 0 for r in reps):
        raise ValueError(f"lax.tile: reps must be non-negative, got {reps}.")
    return x.update(shape=tuple(r * d for r, d in zip(reps, x.shape)))


def _tile_lowering(ctx, x, *, reps):
    # Broadcast to (r0, d0, r1, d1, ...), then merge each (r, d) pair.
    a = ctx.avals_in[0]
    wide = tuple(v for r, d in zip(reps, a.shape) for v in (r, d))
    b = ctx.e.op1("stablehlo.broadcast_in_dim", [x], tensor_type(a.update(shape=wide)),
                  f"broadcast_dimensions = {i64_array(range(1, 2 * a.ndim, 2))}")
    return ctx.e.op1("stablehlo.reshape", [b], tensor_type(ctx.avals_out[0]))


def _tile_transpose(ct, x, *, reps):
    from jaxel.lax.reductions import reduce_sum_p
    from jaxel.lax.shape_ops import reshape_p
    shape = x.aval.shape
    wide = tuple(v for r, d in zip(reps, shape) for v in (r, d))
    t = reshape_p.bind(ct, new_sizes=wide, dimensions=None, sharding=None)
    return [reduce_sum_p.bind(t, axes=tuple(range(0, 2 * len(shape), 2)))]


def _tile_batch(args, dims, *, reps):
    (x,), (d,) = args, dims
    reps = tuple(reps[:d]) + (1,) + tuple(reps[d:])
    return tile_p.bind(x, reps=reps), d


tile_p.abstract_eval = _tile_abstract_eval
tile_p.lowering = _tile_lowering
tile_p.batch = _tile_batch
_ad.deflinear(tile_p, _tile_transpose)


def tile(operand, reps):
    """Repeat ``operand`` ``reps[i]`` times along each dimension i (``len(reps)`` must equal
    the operand's rank).

    Example::

        >>> lax.tile(jnp.array([1, 2]), (2,))
        Array([1, 2, 1, 2], dtype=int32)
    """
    return tile_p.bind(operand, reps=tuple(operator.index(r) for r in reps))


__all__ = ["split", "split_p", "stack", "stack_p", "unstack", "unstack_p", "tile", "tile_p"]
