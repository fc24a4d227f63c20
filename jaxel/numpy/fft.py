"""``jaxel.numpy.fft``: NumPy's FFT functions on the ``fft`` primitive (jaxel/lax/fft.py).

Axes that are not trailing are moved to the end and back; ``n``/``s`` crop or zero-pad the
input along each transformed axis first; ``norm`` is "backward" (default: scale the inverse),
"ortho" or "forward". Differentiable (the transforms are linear).
"""
from __future__ import annotations

import math

import numpy as np

from jaxel import dtypes as _dtypes
from jaxel import numpy as jnp
from jaxel.lax.fft import FftType, fft as _lax_fft

_NORMS = (None, "backward", "ortho", "forward")


def _complex_dtype(dt):
    return np.dtype(np.complex128) if dt in (np.float64, np.complex128) else np.dtype(np.complex64)


def _real_dtype(dt):
    return np.dtype(np.float64) if dt in (np.float64, np.complex128) else np.dtype(np.float32)


def _prepare(a, kind):
    a = jnp.asarray(a)
    dt = a.dtype
    if not _dtypes.issubdtype(dt, np.inexact):
        dt = _dtypes.default_float_dtype()
    if kind == "real":
        if _dtypes.issubdtype(dt, np.complexfloating):
            raise TypeError(f"jnp.fft.rfft* needs a real input, got {a.dtype}.")
        return a.astype(_real_dtype(dt))
    return a.astype(_complex_dtype(dt))


def _resize(a, axis, n):
    """Crop or zero-pad ``a`` along ``axis`` to length ``n``."""
    have = a.shape[axis]
    if n == have:
        return a
    if n < have:
        return jnp.take(a, jnp.arange(n), axis=axis)
    widths = [(0, 0)] * a.ndim
    widths[axis] = (0, n - have)
    return jnp.pad(a, widths)


def _axes_and_sizes(a, s, axes, name):
    if axes is None:
        axes = tuple(range(a.ndim)) if s is None else tuple(range(a.ndim - len(s), a.ndim))
    axes = tuple(int(ax) % a.ndim if a.ndim else int(ax) for ax in axes)
    if len(set(axes)) != len(axes):
        raise ValueError(f"jnp.fft.{name}: repeated axes {axes}.")
    if s is not None and len(s) != len(axes):
        raise ValueError(f"jnp.fft.{name}: s and axes must have the same length, got s={s} "
                         f"and axes={axes}.")
    return axes, s


def _scale(out, norm, total, inverse, name):
    """Apply ``norm``. The lax inverse transforms already divide by the length (NumPy's
    "backward" convention); forward transforms are unscaled."""
    if norm not in _NORMS:
        raise ValueError(f"jnp.fft.{name}: norm must be one of 'backward', 'ortho', 'forward' "
                         f"or None, got {norm!r}.")
    if norm in (None, "backward"):
        return out
    if norm == "ortho":
        factor = math.sqrt(total) if inverse else 1.0 / math.sqrt(total)
    else:  # "forward": the forward transform divides by N, the inverse does not
        factor = float(total) if inverse else 1.0 / total
    return out * np.asarray(factor, _real_dtype(out.dtype))


def _run(a, s, axes, norm, fft_type, name):
    kind = "real" if fft_type == FftType.RFFT else "complex"
    a = _prepare(a, kind)
    if a.ndim == 0:
        raise ValueError(f"jnp.fft.{name} needs an array of rank >= 1.")
    axes, s = _axes_and_sizes(a, s, axes, name)
    inverse = fft_type in (FftType.IFFT, FftType.IRFFT)
    if fft_type == FftType.IRFFT:
        last_n = s[-1] if s is not None else 2 * (a.shape[axes[-1]] - 1)
        if last_n < 1:
            raise ValueError(f"jnp.fft.{name}: invalid output length {last_n}.")
        sizes = list(s) if s is not None else [a.shape[ax] for ax in axes[:-1]] + [last_n]
        for ax, n in zip(axes[:-1], sizes[:-1]):
            a = _resize(a, ax, n)
        a = _resize(a, axes[-1], last_n // 2 + 1)
    else:
        sizes = list(s) if s is not None else [a.shape[ax] for ax in axes]
        for ax, n in zip(axes, sizes):
            if n < 1:
                raise ValueError(f"jnp.fft.{name}: invalid length {n} for axis {ax}.")
            a = _resize(a, ax, n)
    total = float(np.prod(sizes))
    # Transform at most 3 trailing axes per lax call; more axes go in complex stages first.
    dest = list(range(a.ndim - len(axes), a.ndim))
    moved = jnp.moveaxis(a, axes, dest)
    out = _apply(moved, fft_type, sizes)
    out = jnp.moveaxis(out, dest, axes)
    return _scale(out, norm, total, inverse, name)


def _apply(x, fft_type, sizes):
    """Apply the transform over the trailing ``len(sizes)`` axes, in stages of <= 3 axes."""
    k = len(sizes)
    if k <= 3:
        return _lax_fft(x, fft_type, sizes)
    lead, last3 = sizes[:k - 3], sizes[k - 3:]
    if fft_type in (FftType.FFT, FftType.IFFT):
        x = _lax_fft(x, fft_type, last3)
        x = jnp.moveaxis(x, list(range(x.ndim - 3, x.ndim)), list(range(x.ndim - k, x.ndim - k + 3)))
        x = _apply(x, fft_type, lead)
        return jnp.moveaxis(x, list(range(x.ndim - k, x.ndim - k + 3)), list(range(x.ndim - 3, x.ndim)))
    if fft_type == FftType.RFFT:
        x = _lax_fft(x, FftType.RFFT, last3)
        x = jnp.moveaxis(x, list(range(x.ndim - 3, x.ndim)), list(range(x.ndim - k, x.ndim - k + 3)))
        x = _apply(x, FftType.FFT, lead)
        return jnp.moveaxis(x, list(range(x.ndim - k, x.ndim - k + 3)), list(range(x.ndim - 3, x.ndim)))
    # IRFFT: inverse complex transforms on the leading axes first, the real one last
    x = jnp.moveaxis(x, list(range(x.ndim - 3, x.ndim)), list(range(x.ndim - k, x.ndim - k + 3)))
    x = _apply(x, FftType.IFFT, lead)
    x = jnp.moveaxis(x, list(range(x.ndim - k, x.ndim - k + 3)), list(range(x.ndim - 3, x.ndim)))
    return _lax_fft(x, FftType.IRFFT, last3)


def fft(a, n=None, axis=-1, norm=None):
    """One-dimensional discrete Fourier transform along ``axis``."""
    return _run(a, None if n is None else (n,), (axis,), norm, FftType.FFT, "fft")


def ifft(a, n=None, axis=-1, norm=None):
    """Inverse of ``fft``."""
    return _run(a, None if n is None else (n,), (axis,), norm, FftType.IFFT, "ifft")


def rfft(a, n=None, axis=-1, norm=None):
    """FFT of a real input: the ``n // 2 + 1`` non-negative frequency terms."""
    return _run(a, None if n is None else (n,), (axis,), norm, FftType.RFFT, "rfft")


def irfft(a, n=None, axis=-1, norm=None):
    """Inverse of ``rfft``: a real output of length ``n`` (default ``2 * (m - 1)``)."""
    return _run(a, None if n is None else (n,), (axis,), norm, FftType.IRFFT, "irfft")


def fftn(a, s=None, axes=None, norm=None):
    """N-dimensional FFT over ``axes`` (all by default)."""
    return _run(a, s, axes, norm, FftType.FFT, "fftn")


def ifftn(a, s=None, axes=None, norm=None):
    """Inverse of ``fftn``."""
    return _run(a, s, axes, norm, FftType.IFFT, "ifftn")


def rfftn(a, s=None, axes=None, norm=None):
    """N-dimensional FFT of a real input (the last axis halved)."""
    return _run(a, s, axes, norm, FftType.RFFT, "rfftn")


def irfftn(a, s=None, axes=None, norm=None):
    """Inverse of ``rfftn``."""
    return _run(a, s, axes, norm, FftType.IRFFT, "irfftn")


def fft2(a, s=None, axes=(-2, -1), norm=None):
    """Two-dimensional FFT."""
    return fftn(a, s, axes, norm)


def ifft2(a, s=None, axes=(-2, -1), norm=None):
    """Inverse of ``fft2``."""
    return ifftn(a, s, axes, norm)


def rfft2(a, s=None, axes=(-2, -1), norm=None):
    """Two-dimensional FFT of a real input."""
    return rfftn(a, s, axes, norm)


def irfft2(a, s=None, axes=(-2, -1), norm=None):
    """Inverse of ``rfft2``."""
    return irfftn(a, s, axes, norm)


def hfft(a, n=None, axis=-1, norm=None):
    """FFT of a Hermitian-symmetric signal given by its first half: a real spectrum."""
    a = jnp.asarray(a)
    m = n if n is not None else 2 * (a.shape[axis] - 1)
    flipped = {None: "forward", "backward": "forward", "forward": "backward", "ortho": "ortho"}
    return irfft(jnp.conj(a), m, axis, flipped[norm])


def ihfft(a, n=None, axis=-1, norm=None):
    """Inverse of ``hfft``."""
    flipped = {None: "forward", "backward": "forward", "forward": "backward", "ortho": "ortho"}
    return jnp.conj(rfft(a, n, axis, flipped[norm]))


def fftfreq(n, d=1.0, *, dtype=None, device=None):
    """Sample frequencies of an ``n``-point FFT with sample spacing ``d``."""
    dt = dtype or _dtypes.default_float_dtype()
    k = jnp.concatenate([jnp.arange(0, (n - 1) // 2 + 1), jnp.arange(-(n // 2), 0)])
    return (k / (n * d)).astype(dt)


def rfftfreq(n, d=1.0, *, dtype=None, device=None):
    """Sample frequencies of an ``n``-point ``rfft``."""
    dt = dtype or _dtypes.default_float_dtype()
    return (jnp.arange(0, n // 2 + 1) / (n * d)).astype(dt)


def fftshift(x, axes=None):
    """Move the zero frequency to the centre."""
    x = jnp.asarray(x)
    axes = tuple(range(x.ndim)) if axes is None else (axes if isinstance(axes, (tuple, list))
                                                      else (axes,))
    return jnp.roll(x, [x.shape[a] // 2 for a in axes], axes)


def ifftshift(x, axes=None):
    """Inverse of ``fftshift``."""
    x = jnp.asarray(x)
    axes = tuple(range(x.ndim)) if axes is None else (axes if isinstance(axes, (tuple, list))
                                                      else (axes,))
    return jnp.roll(x, [-(x.shape[a] // 2) for a in axes], axes)


__all__ = ["fft", "ifft", "rfft", "irfft", "fftn", "ifftn", "rfftn", "irfftn", "fft2", "ifft2",
           "rfft2", "irfft2", "hfft", "ihfft", "fftfreq", "rfftfreq", "fftshift", "ifftshift"]
