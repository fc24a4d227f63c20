"""The ``fft`` primitive: discrete Fourier transforms over the trailing dimensions.

``fft_p`` has parameters ``fft_type`` (one of ``FftType``: FFT, IFFT, RFFT, IRFFT) and
``fft_lengths`` (the logical lengths of the transformed trailing dimensions); it lowers to
``stablehlo.fft``. All four are linear (over the reals for RFFT/IRFFT), so the JVP applies the
transform to the tangent. Transposes (bilinear pairing, as every transpose rule here):
* FFT and IFFT matrices are symmetric: each is its own transpose.
* RFFT: ``real(fftn(c padded with zeros to the full last length))``.
* IRFFT: ``w * conj(rfftn(c)) / N`` where ``w`` weighs the last axis' bins by how many times
  the inverse counts them (1 for DC and Nyquist, 2 for the rest) and ``N`` is the total length.
"""
from __future__ import annotations

import enum

import numpy as np

from jaxel.lowering.emitter import tensor_type
from jaxel.tracing.avals import ShapedArray
from jaxel.tracing.core import Primitive
from jaxel.transforms import ad_util as _ad


class FftType(enum.IntEnum):
    """Which transform ``lax.fft`` computes (JAX's ``lax.FftType``)."""
    FFT = 0
    IFFT = 1
    RFFT = 2
    IRFFT = 3


fft_p = Primitive("fft")

_COMPLEX_OF = {np.dtype(np.float32): np.dtype(np.complex64),
               np.dtype(np.float64): np.dtype(np.complex128)}
_REAL_OF = {v: k for k, v in _COMPLEX_OF.items()}


def _abstract_eval(x, *, fft_type, fft_lengths):
    n = len(fft_lengths)
    if not 1 <= n <= 3:
        raise ValueError(f"lax.fft transforms 1 to 3 trailing dimensions, got {n}.")
    if x.ndim < n:
        raise ValueError(f"lax.fft of {n} dimensions needs an operand of rank >= {n}, got "
                         f"shape {x.shape}.")
    lead, tail = x.shape[:x.ndim - n], x.shape[x.ndim - n:]
    fft_type = FftType(fft_type)
    if fft_type == FftType.RFFT:
        if x.dtype not in _COMPLEX_OF:
            raise TypeError(f"lax.fft RFFT needs a float32/float64 operand, got {x.dtype}.")
        if tuple(tail) != tuple(fft_lengths):
            raise ValueError(f"lax.fft RFFT: trailing shape {tail} must equal fft_lengths "
                             f"{tuple(fft_lengths)}.")
        return ShapedArray(lead + tuple(fft_lengths[:-1]) + (fft_lengths[-1] // 2 + 1,),
                           _COMPLEX_OF[x.dtype], False)
    if x.dtype not in _REAL_OF:
        raise TypeError(f"lax.fft {fft_type.name} needs a complex64/complex128 operand, got "
                        f"{x.dtype}.")
    if fft_type == FftType.IRFFT:
        want = tuple(fft_lengths[:-1]) + (fft_lengths[-1] // 2 + 1,)
        if tuple(tail) != want:
            raise ValueError(f"lax.fft IRFFT: trailing shape {tail} must be {want} for "
                             f"fft_lengths {tuple(fft_lengths)}.")
        return ShapedArray(lead + tuple(fft_lengths), _REAL_OF[x.dtype], False)
    if tuple(tail) != tuple(fft_lengths):
        raise ValueError(f"lax.fft {fft_type.name}: trailing shape {tail} must equal "
                         f"fft_lengths {tuple(fft_lengths)}.")
    return ShapedArray(x.shape, x.dtype, False)


def _lowering(ctx, x, *, fft_type, fft_lengths):
    name = FftType(fft_type).name
    lengths = ", ".join(str(int(n)) for n in fft_lengths)
    return ctx.e.op1("stablehlo.fft", [x], tensor_type(ctx.avals_out[0]),
                     f"fft_type = #stablehlo<fft_type {name}>, "
                     f"fft_length = array<i64: {lengths}>")


fft_p.abstract_eval = _abstract_eval
fft_p.lowering = _lowering


def fft(x, fft_type, fft_lengths):
    """``lax.fft``: the ``fft_type`` transform of the trailing ``len(fft_lengths)`` dimensions.

    Example::

        >>> lax.fft(jnp.ones(4, jnp.complex64), lax.FftType.FFT, (4,))
        Array([4.+0.j, 0.+0.j, 0.+0.j, 0.+0.j], dtype=complex64)
    """
    if isinstance(fft_type, str):
        fft_type = FftType[fft_type.upper()]
    return fft_p.bind(x, fft_type=FftType(fft_type), fft_lengths=tuple(int(n) for n in fft_lengths))


# ---- differentiation -----------------------------------------------------------------------------
def _transpose(ct, x, *, fft_type, fft_lengths):
    from jaxel.lax.elementwise import conj, mul, real
    from jaxel.lax.shape_ops import broadcast_in_dim, pad
    from jaxel.tracing.core import literal
    fft_type = FftType(fft_type)
    if fft_type in (FftType.FFT, FftType.IFFT):
        return [fft_p.bind(ct, fft_type=fft_type, fft_lengths=fft_lengths)]
    a = _ad.aval_of(ct)
    if fft_type == FftType.RFFT:
        n = fft_lengths[-1]
        have = a.shape[-1]
        cfg = [(0, 0, 0)] * (a.ndim - 1) + [(0, n - have, 0)]
        full = pad(ct, literal(0, a.dtype, False), cfg)
        return [real(fft_p.bind(full, fft_type=FftType.FFT, fft_lengths=fft_lengths))]
    # IRFFT
    n = fft_lengths[-1]
    m = n // 2 + 1
    w = np.full(m, 2.0)
    w[0] = 1.0
    if n % 2 == 0:
        w[-1] = 1.0
    total = float(np.prod(fft_lengths))
    spec = fft_p.bind(ct, fft_type=FftType.RFFT, fft_lengths=fft_lengths)
    sa = _ad.aval_of(spec)
    weights = broadcast_in_dim(np.asarray(w / total, _REAL_OF[sa.dtype]).astype(sa.dtype),
                               sa.shape, (sa.ndim - 1,))
    return [mul(conj(spec), weights)]


_ad.deflinear(fft_p, _transpose)


# ---- batching -------------------------------------------------------------------------------------
def _batch(args, dims, *, fft_type, fft_lengths):
    from jaxel.transforms.batching import move_axis
    (x,), (d,) = args, dims
    nd = _ad.aval_of(x).ndim
    if d >= nd - len(fft_lengths):  # the batch dimension sits among the transformed ones
        x, d = move_axis(x, d, 0), 0
    return fft_p.bind(x, fft_type=fft_type, fft_lengths=fft_lengths), d


fft_p.batch = _batch

__all__ = ["fft", "fft_p", "FftType"]
