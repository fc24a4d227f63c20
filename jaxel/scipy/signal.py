"""``jaxel.scipy.signal`` (JAX's ``jax.scipy.signal``): n-d convolution and correlation (one
``lax.conv_general_dilated``), FFT convolution and detrending."""
from __future__ import annotations

from jaxel import lax
from jaxel import numpy as jnp
from jaxel.scipy._spectral import csd, istft, stft, welch  # noqa: F401

__all__ = ["convolve", "correlate", "convolve2d", "correlate2d", "fftconvolve", "detrend",
           "stft", "istft", "welch", "csd"]

_MODES = ("full", "same", "valid")


def _check_mode(mode):
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}; got {mode!r}")


def _convolve_nd(in1, in2, mode, precision):
    """scipy.signal.convolve: flip the kernel and cross-correlate with lax's convolution,
    padding each dimension for the mode (``same`` is centred on the ``full`` result)."""
    _check_mode(mode)
    in1, in2 = jnp.asarray(in1), jnp.asarray(in2)
    if in1.ndim != in2.ndim:
        raise ValueError("in1 and in2 should have the same dimensionality; got "
                         f"{in1.ndim} and {in2.ndim}")
    if in1.ndim == 0:
        raise ValueError("convolve() only supports arrays with at least one dimension")
    dtype = jnp.result_type(in1, in2)
    in1, in2 = in1.astype(dtype), in2.astype(dtype)
    if in1.size == 0 or in2.size == 0:
        raise ValueError("in1 and in2 must be non-empty")
    if mode == "valid":
        if all(a <= b for a, b in zip(in1.shape, in2.shape)) and in1.shape != in2.shape:
            in1, in2 = in2, in1  # convolution is commutative; valid needs in1 the larger
        elif not all(a >= b for a, b in zip(in1.shape, in2.shape)):
            raise ValueError("For 'valid' mode, one must be at least as large as the other "
                             "in every dimension")
    nd = in1.ndim
    kernel = lax.rev(in2, tuple(range(nd)))
    padding = []
    for n, k in zip(in1.shape, in2.shape):
        if mode == "full":
            padding.append((k - 1, k - 1))
        elif mode == "same":
            start = (k - 1) // 2
            padding.append((k - 1 - start, start))
        else:
            padding.append((0, 0))
    is_bool = dtype == jnp.bool_
    if is_bool:
        in1, kernel = in1.astype(jnp.int32), kernel.astype(jnp.int32)
    out = lax.conv_general_dilated(in1[None, None], kernel[None, None], (1,) * nd, padding,
                                   precision=precision)[0, 0]
    return out.astype(dtype) if is_bool else out


def convolve(in1, in2, mode="full", method="auto", precision=None):
    """N-dimensional convolution of ``in1`` and ``in2`` (modes full / same / valid);
    ``method="fft"`` uses ``fftconvolve``."""
    if method not in ("auto", "direct", "fft"):
        raise ValueError(f"Got {method=}; expected 'auto', 'fft', or 'direct'.")
    if method == "fft":
        return fftconvolve(in1, in2, mode=mode)
    return _convolve_nd(in1, in2, mode, precision)


def correlate(in1, in2, mode="full", method="auto", precision=None):
    """N-dimensional cross-correlation: ``convolve(in1, conj(flip(in2)))``."""
    in2 = jnp.asarray(in2)
    flipped = jnp.conj(lax.rev(in2, tuple(range(in2.ndim)))) if in2.ndim else in2
    return convolve(in1, flipped, mode=mode, method=method, precision=precision)


def _check_2d(in1, in2, boundary, fillvalue):
    if boundary != "fill" or fillvalue != 0:
        raise NotImplementedError("only boundary='fill' with fillvalue=0 is supported")
    if jnp.ndim(in1) != 2 or jnp.ndim(in2) != 2:
        raise ValueError("convolve2d/correlate2d need two-dimensional inputs")


def convolve2d(in1, in2, mode="full", boundary="fill", fillvalue=0, precision=None):
    """Two-dimensional convolution (``boundary="fill"``, ``fillvalue=0`` only)."""
    _check_2d(in1, in2, boundary, fillvalue)
    return _convolve_nd(in1, in2, mode, precision)


def correlate2d(in1, in2, mode="full", boundary="fill", fillvalue=0, precision=None):
    """Two-dimensional cross-correlation (``boundary="fill"``, ``fillvalue=0`` only). As in
    scipy, ``same`` starts at ``k // 2`` of the full result (``correlate`` uses
    ``(k - 1) // 2``; they differ for even kernel sizes)."""
    _check_2d(in1, in2, boundary, fillvalue)
    if mode != "same":
        return correlate(in1, in2, mode=mode, precision=precision)
    full = correlate(in1, in2, mode="full", precision=precision)
    (n0, n1), (k0, k1) = jnp.shape(in1), jnp.shape(in2)
    return full[k0 // 2:k0 // 2 + n0, k1 // 2:k1 // 2 + n1]


def fftconvolve(in1, in2, mode="full", axes=None):
    """Convolution by FFT over ``axes`` (all by default; other axes broadcast)."""
    _check_mode(mode)
    in1, in2 = jnp.asarray(in1), jnp.asarray(in2)
    if in1.ndim != in2.ndim:
        raise ValueError("in1 and in2 should have the same dimensionality")
    dtype = jnp.result_type(in1, in2)
    if not jnp.issubdtype(dtype, jnp.inexact):
        dtype = jnp.result_type(dtype, float)
    in1, in2 = in1.astype(dtype), in2.astype(dtype)
    axes = tuple(range(in1.ndim)) if axes is None else tuple(a % in1.ndim for a in axes)
    if mode == "valid" and all(in1.shape[a] <= in2.shape[a] for a in axes) and \
            any(in1.shape[a] < in2.shape[a] for a in axes):
        in1, in2 = in2, in1
    full = [in1.shape[a] + in2.shape[a] - 1 for a in axes]
    if jnp.issubdtype(dtype, jnp.complexfloating):
        out = jnp.fft.ifftn(jnp.fft.fftn(in1, full, axes) * jnp.fft.fftn(in2, full, axes),
                            full, axes)
    else:
        out = jnp.fft.irfftn(jnp.fft.rfftn(in1, full, axes) * jnp.fft.rfftn(in2, full, axes),
                             full, axes)
    out = out.astype(dtype)
    if mode == "full":
        return out
    idx = [slice(None)] * out.ndim
    for a, n_full in zip(axes, full):
        n1, n2 = in1.shape[a], in2.shape[a]
        if mode == "same":
            start = (n_full - n1) // 2
            idx[a] = slice(start, start + n1)
        else:
            n = n1 - n2 + 1
            start = (n_full - n) // 2
            idx[a] = slice(start, start + n)
    return out[tuple(idx)]


def detrend(data, axis=-1, type="linear", bp=0, overwrite_data=None):
    """Remove the mean (``type="constant"``) or a least-squares line per segment between the
    breakpoints ``bp`` (``type="linear"``) along ``axis``."""
    if overwrite_data is not None:
        raise NotImplementedError("overwrite_data argument not implemented.")
    if type not in ("constant", "linear"):
        raise ValueError("Trend type must be 'linear' or 'constant'.")
    data = jnp.asarray(data)
    if not jnp.issubdtype(data.dtype, jnp.inexact):
        data = data.astype(jnp.result_type(float))
    if type == "constant":
        return data - jnp.mean(data, axis=axis, keepdims=True)
    x = jnp.moveaxis(data, axis, -1)
    n = x.shape[-1]
    bps = sorted(set([0] + [int(b) for b in jnp.atleast_1d(jnp.asarray(bp)).tolist()] + [n]))
    if bps[0] < 0 or bps[-1] > n:
        raise ValueError("Breakpoints must be non-negative and less than length of data "
                         "along given axis.")
    pieces = []
    for lo, hi in zip(bps[:-1], bps[1:]):
        if hi <= lo:
            continue
        seg = x[..., lo:hi]
        t = jnp.arange(hi - lo, dtype=seg.dtype)
        if hi - lo == 1:
            pieces.append(jnp.zeros_like(seg))
            continue
        tm = t - jnp.mean(t)
        slope = jnp.sum(seg * tm, axis=-1, keepdims=True) / jnp.sum(tm * tm)
        intercept = jnp.mean(seg, axis=-1, keepdims=True)
        pieces.append(seg - intercept - slope * tm)
    return jnp.moveaxis(jnp.concatenate(pieces, axis=-1), -1, axis)
