"""Reference cases for the ``fft`` primitive (jaxel/lax/fft.py): every transform type over 1-3
trailing axes, against NumPy's FFTs in double precision."""
from __future__ import annotations

import numpy as np

from jaxel import lax
from tests.lax.case import Arg, Case

F32, C64 = np.dtype(np.float32), np.dtype(np.complex64)
TOL = dict(rtol=1e-4, atol=1e-4)


def _np_fft(kind, lengths):
    axes = tuple(range(-len(lengths), 0))

    def ref(x):
        x = x.astype(np.complex128 if x.dtype.kind == "c" else np.float64)
        if kind == "FFT":
            out = np.fft.fftn(x, axes=axes)
        elif kind == "IFFT":
            out = np.fft.ifftn(x, axes=axes)
        elif kind == "RFFT":
            out = np.fft.rfftn(x, axes=axes)
        else:
            out = np.fft.irfftn(x, s=lengths, axes=axes)
        return out.astype(np.complex64 if kind != "IRFFT" else np.float32)
    return ref


def _case(kind, shape, lengths):
    dt = F32 if kind == "RFFT" else C64
    return Case(f"fft-{kind.lower()}-{'x'.join(map(str, shape))}",
                lambda x: lax.fft(x, kind, lengths), _np_fft(kind, lengths),
                [Arg(shape, dt)], exact_jit=False, **TOL)


CASES = {"fft": [
    _case("FFT", (3, 8), (8,)), _case("IFFT", (2, 4, 6), (4, 6)), _case("FFT", (2, 3, 4), (2, 3, 4)),
    _case("RFFT", (3, 8), (8,)), _case("RFFT", (2, 5, 6), (5, 6)), _case("RFFT", (3, 7), (7,)),
    _case("IRFFT", (3, 5), (8,)), _case("IRFFT", (2, 4, 4), (4, 7)), _case("IRFFT", (3, 4), (6,)),
]}
