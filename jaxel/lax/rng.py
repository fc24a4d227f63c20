"""XLA's own random number generators: ``rng_bit_generator`` (a stateless, counter-based
generator: the same key and algorithm give the same bits as JAX) and ``rng_uniform`` (XLA's
stateful ``rng`` op, whose stream is implementation-defined).

``jaxel.random`` does not use them (its threefry is built from lax arithmetic, as JAX's is);
they exist for programs that ask for XLA's generators directly.
"""
from __future__ import annotations

import enum

import numpy as np

from jaxel import dtypes as _dtypes
from jaxel.lax._rules import as_operands, dtype_kind, FLOAT, SINT, UINT
from jaxel.lowering.emitter import i64_dense, tensor_type
from jaxel.tracing.avals import ShapedArray
from jaxel.tracing.core import Primitive
from jaxel.transforms import ad_util as _ad
from jaxel.transforms import batching as _batching


class RandomAlgorithm(enum.IntEnum):
    """The bit-generation algorithm of ``lax.rng_bit_generator``: XLA's default for the
    backend (Philox on CPU), Threefry, or Philox."""
    RNG_DEFAULT = 0
    RNG_THREE_FRY = 1
    RNG_PHILOX = 2

    def __str__(self):
        return self.name


_HLO_ALGORITHM = {RandomAlgorithm.RNG_DEFAULT: "DEFAULT",
                  RandomAlgorithm.RNG_THREE_FRY: "THREE_FRY",
                  RandomAlgorithm.RNG_PHILOX: "PHILOX"}

rng_bit_generator_p = Primitive("rng_bit_generator", multiple_results=True)
rng_uniform_p = Primitive("rng_uniform")


# ---- rng_bit_generator -------------------------------------------------------------------------
def _rbg_abstract_eval(key, *, shape, dtype, algorithm, out_sharding=None):
    if key.dtype != np.dtype(np.uint32) or key.shape != (4,):
        raise TypeError("lax.rng_bit_generator: the key must be a uint32 array of shape (4,), "
                        f"got {key.str_short()}.")
    return [key.update(weak_type=False), ShapedArray(shape, dtype, False)]


def _rbg_lowering(ctx, key, *, shape, dtype, algorithm, out_sharding=None):
    # XLA's state is two 64-bit words; the uint32[4] key is their bit pattern (as in JAX).
    e = ctx.e
    k32 = ctx.avals_in[0]
    pairs = e.op1("stablehlo.reshape", [key], tensor_type(k32.update(shape=(2, 2))))
    s64 = "tensor<2xui64>"
    state = e.op1("stablehlo.bitcast_convert", [pairs], s64)
    new, bits = e.op("stablehlo.rng_bit_generator", [state],
                     [s64, tensor_type(ctx.avals_out[1])],
                     f"rng_algorithm = #stablehlo<rng_algorithm {_HLO_ALGORITHM[algorithm]}>")
    back = e.op1("stablehlo.bitcast_convert", [new], tensor_type(k32.update(shape=(2, 2))))
    return [e.op1("stablehlo.reshape", [back], tensor_type(ctx.avals_out[0])), bits]


def _rbg_batch(args, dims, **params):
    # Each example has its own key: generate per example and stack (vmap means a loop; JAX
    # instead draws every example's bits from the first key).
    from jaxel.lax.split_stack import stack, unstack
    (keys,), (d,) = args, dims
    outs = [rng_bit_generator_p.bind(k, **params) for k in unstack(keys, d)]
    return [stack([o[0] for o in outs]), stack([o[1] for o in outs])], [0, 0]


rng_bit_generator_p.abstract_eval = _rbg_abstract_eval
rng_bit_generator_p.lowering = _rbg_lowering
rng_bit_generator_p.batch = _rbg_batch
_ad.defjvp_zero(rng_bit_generator_p)


def rng_bit_generator(key, shape, dtype=np.uint32, algorithm=RandomAlgorithm.RNG_DEFAULT, *,
                      out_sharding=None):
    """Random bits from XLA's counter-based generator.

    Args:
      key: a ``uint32[4]`` state.
      shape: the shape of the bits to produce.
      dtype: an unsigned integer dtype (uint64 needs x64; otherwise uint32 is used, with a
        warning).
      algorithm: a ``RandomAlgorithm``.

    Returns:
      ``(new_key, bits)``: the advanced state and the random bits. The same key and
      algorithm always give the same bits (the same as JAX's).

    Example::

        >>> key = jnp.array([1, 2, 3, 4], jnp.uint32)
        >>> lax.rng_bit_generator(key, (2,))[1].shape
        (2,)
    """
    dt = _dtypes.check_and_canonicalize_user_dtype(dtype, "rng_bit_generator")
    if dtype_kind(dt) != UINT:
        raise TypeError(f"rng_bit_generator: unsupported dtype {dt.name}; it produces "
                        "unsigned integer bits (uint8, uint16, uint32 or uint64).")
    shape = tuple(int(d) for d in shape)
    out = rng_bit_generator_p.bind(key, shape=shape, dtype=dt,
                                   algorithm=RandomAlgorithm(algorithm), out_sharding=None)
    return tuple(out)


# ---- rng_uniform -------------------------------------------------------------------------------
def _rng_uniform_abstract_eval(a, b, *, shape):
    for x in (a, b):
        if x.shape != ():
            raise TypeError(f"lax.rng_uniform: a and b must be scalars, got {x.str_short()}.")
        if dtype_kind(x.dtype) not in (FLOAT, SINT, UINT):
            raise TypeError(f"lax.rng_uniform does not accept dtype {x.dtype.name}.")
    if a.dtype != b.dtype:
        raise TypeError("lax.rng_uniform requires a and b of one dtype, got "
                        f"{a.dtype.name} and {b.dtype.name}.")
    return ShapedArray(shape, a.dtype, a.weak_type and b.weak_type)


def _rng_uniform_lowering(ctx, a, b, *, shape):
    e = ctx.e
    dims = e.op1("stablehlo.constant", [], f"tensor<{len(shape)}xi64>",
                 f"value = {i64_dense(shape)}")
    return e.op1("stablehlo.rng", [a, b, dims], tensor_type(ctx.avals_out[0]),
                 "rng_distribution = #stablehlo<rng_distribution UNIFORM>")


def _rng_uniform_batch(args, dims, *, shape):
    size = _batching.batch_size_of(args, dims)
    # Bounds that differ per example: draw in [0, 1) and rescale. Unbatched bounds: one draw.
    a, b = args
    if dims == (None, None):
        return rng_uniform_p.bind(a, b, shape=shape), None
    from jaxel.lax.split_stack import stack, unstack
    av = unstack(a, dims[0]) if dims[0] is not None else [a] * size
    bv = unstack(b, dims[1]) if dims[1] is not None else [b] * size
    return stack([rng_uniform_p.bind(x, y, shape=shape) for x, y in zip(av, bv)]), 0


rng_uniform_p.abstract_eval = _rng_uniform_abstract_eval
rng_uniform_p.lowering = _rng_uniform_lowering
rng_uniform_p.batch = _rng_uniform_batch
_ad.defjvp_zero(rng_uniform_p)


def rng_uniform(a, b, shape):
    """Values drawn uniformly from ``[a, b)`` by XLA's stateful generator (not reproducible
    across backends or versions; prefer ``jaxel.random``).

    Example::

        >>> lax.rng_uniform(0.0, 1.0, (3,)).shape
        (3,)
    """
    a, b = as_operands(a, b)
    return rng_uniform_p.bind(a, b, shape=tuple(int(d) for d in shape))


__all__ = ["RandomAlgorithm", "rng_bit_generator", "rng_bit_generator_p", "rng_uniform",
           "rng_uniform_p"]
