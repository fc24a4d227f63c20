"""Spectral analysis for ``jaxel.scipy.signal``: ``stft``, ``istft``, ``welch`` and ``csd``.

All four cut the signal into overlapping segments of ``nperseg`` samples, ``nperseg -
noverlap`` apart (one gather with a ``(segments, nperseg)`` index grid), optionally detrend each
segment, multiply it by a window and Fourier-transform it.  ``stft`` returns those transforms;
``csd`` multiplies the conjugated transform of ``x`` by that of ``y``, scales it to a density
or a spectrum and averages over segments (mean, or bias-corrected median); ``welch`` is
``csd`` of ``x`` with itself.  ``istft`` inverts ``stft`` by windowed overlap-add (one
scatter-add) divided by the summed squared window.

Windows are named as in ``scipy.signal.get_window`` (always the periodic, "fftbins" form) or
given as arrays: ``boxcar``, ``hann``, ``hamming``, ``blackman``, ``bartlett``, ``triang``,
``cosine``, and with a parameter ``("tukey", alpha)``, ``("kaiser", beta)``,
``("general_hamming", alpha)``.
"""
from __future__ import annotations

import math
import operator

from jaxel import numpy as jnp

__all__ = ["stft", "istft", "welch", "csd"]

_ALIASES = {
    "boxcar": "boxcar", "box": "boxcar", "ones": "boxcar", "rect": "boxcar",
    "rectangular": "boxcar",
    "hann": "hann", "hanning": "hann", "han": "hann",
    "hamming": "hamming", "hamm": "hamming", "ham": "hamming",
    "blackman": "blackman", "black": "blackman", "blk": "blackman",
    "bartlett": "bartlett", "bart": "bartlett", "brt": "bartlett",
    "triang": "triang", "triangle": "triang", "tri": "triang",
    "cosine": "cosine", "halfcosine": "cosine",
    "tukey": "tukey", "tuk": "tukey",
    "kaiser": "kaiser", "ksr": "kaiser",
    "general_hamming": "general_hamming",
}
_NEEDS_PARAM = {"kaiser", "general_hamming"}


def _cosine_sum(m, coefficients, dtype):
    """Symmetric ``sum_k (-1)^k a_k cos(2 pi k n / (m - 1))`` window of length ``m``."""
    phase = jnp.arange(m, dtype=dtype) * (2 * math.pi / (m - 1))
    w = jnp.zeros((m,), dtype)
    for k, a in enumerate(coefficients):
        w = w + ((-1) ** k) * a * jnp.cos(k * phase)
    return w


def _symmetric_window(name, params, m, dtype):
    """The symmetric window ``name`` of length ``m >= 2``."""
    n = jnp.arange(m, dtype=dtype)
    if name == "boxcar":
        return jnp.ones((m,), dtype)
    if name == "hann":
        return _cosine_sum(m, (0.5, 0.5), dtype)
    if name == "hamming":
        return _cosine_sum(m, (0.54, 0.46), dtype)
    if name == "general_hamming":
        alpha = float(params[0])
        return _cosine_sum(m, (alpha, 1.0 - alpha), dtype)
    if name == "blackman":
        return _cosine_sum(m, (0.42, 0.50, 0.08), dtype)
    if name == "bartlett":
        return jnp.where(n <= (m - 1) / 2, 2 * n / (m - 1), 2 - 2 * n / (m - 1))
    if name == "triang":
        # rises in steps of 2/m (m even) or 2/(m + 1) (m odd) and falls symmetrically
        half = jnp.minimum(n, m - 1 - n) + 1
        return (2 * half - 1) / m if m % 2 == 0 else 2 * half / (m + 1)
    if name == "cosine":
        return jnp.sin(math.pi / m * (n + 0.5))
    if name == "tukey":
        alpha = float(params[0]) if params else 0.5
        if alpha <= 0:
            return jnp.ones((m,), dtype)
        if alpha >= 1:
            return _cosine_sum(m, (0.5, 0.5), dtype)
        width = int(math.floor(alpha * (m - 1) / 2.0))
        rise = 0.5 * (1 + jnp.cos(math.pi * (-1 + 2.0 * n / alpha / (m - 1))))
        fall = 0.5 * (1 + jnp.cos(math.pi * (-2.0 / alpha + 1 + 2.0 * n / alpha / (m - 1))))
        return jnp.where(n <= width, rise, jnp.where(n >= m - width - 1, fall, 1.0))
    if name == "kaiser":
        beta = float(params[0])
        r = 2 * n / (m - 1) - 1
        return jnp.i0(beta * jnp.sqrt(jnp.maximum(1 - r * r, 0))) / jnp.i0(
            jnp.asarray(beta, dtype))
    raise AssertionError(name)


def get_window(window, nperseg, dtype=None):
    """The periodic window ``window`` (a name, or a ``(name, parameter)`` tuple) of length
    ``nperseg``, as ``scipy.signal.get_window(window, nperseg)`` gives it."""
    dtype = jnp.result_type(float) if dtype is None else dtype
    if isinstance(window, tuple):
        if not window or not isinstance(window[0], str):
            raise ValueError(f"window tuple must start with a window name; got {window!r}")
        name, params = window[0], window[1:]
    elif isinstance(window, str):
        name, params = window, ()
    else:
        raise TypeError(f"window must be a string, a tuple or an array; got {window!r}")
    key = _ALIASES.get(name.lower())
    if key is None:
        raise ValueError(f"Unknown window type {name!r}; the supported windows are "
                         f"{sorted(set(_ALIASES.values()))}")
    if key in _NEEDS_PARAM and not params:
        raise ValueError(f"The {key!r} window needs a parameter, e.g. ({key!r}, value)")
    if nperseg < 1:
        raise ValueError(f"window length must be positive; got {nperseg}")
    if nperseg == 1:
        return jnp.ones((1,), dtype)
    # periodic window: the symmetric one of length nperseg + 1 without its last point
    return _symmetric_window(key, params, nperseg + 1, dtype)[:nperseg]


def _positive_int(value, name):
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer; got {value!r}") from None
    if value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value}")
    return value


def _triage_window(window, nperseg, input_length, real_dtype):
    """Window array and ``nperseg``: a named window defaults to 256 points, shortened to the
    signal's length; an array window fixes ``nperseg`` to its length."""
    if isinstance(window, (str, tuple)):
        nperseg = 256 if nperseg is None else _positive_int(nperseg, "nperseg")
        nperseg = min(nperseg, input_length)
        return get_window(window, nperseg, real_dtype), nperseg
    win = jnp.asarray(window)
    if win.ndim != 1:
        raise ValueError(f"window must be 1-D; got shape {win.shape}")
    if jnp.issubdtype(win.dtype, jnp.complexfloating):
        raise TypeError("complex windows are not supported")
    if input_length < win.shape[0]:
        raise ValueError("window is longer than input signal")
    if nperseg is None:
        nperseg = win.shape[0]
    elif _positive_int(nperseg, "nperseg") != win.shape[0]:
        raise ValueError(f"value specified for nperseg ({nperseg}) is different from length "
                         f"of window ({win.shape[0]})")
    return win.astype(real_dtype), nperseg


def _detrend_last(d, kind):
    """Remove the mean (``"constant"``) or the least-squares line (``"linear"``) along the
    last axis."""
    if kind == "constant":
        return d - jnp.mean(d, axis=-1, keepdims=True)
    n = d.shape[-1]
    if n < 2:
        return jnp.zeros_like(d)
    t = jnp.arange(n, dtype=d.real.dtype)
    t = t - jnp.mean(t)
    slope = jnp.sum(d * t, axis=-1, keepdims=True) / jnp.sum(t * t)
    return d - jnp.mean(d, axis=-1, keepdims=True) - slope * t


def _detrend_function(detrend, axis):
    if detrend is False or detrend is None:
        return None
    if isinstance(detrend, str):
        if detrend not in ("constant", "linear"):
            raise ValueError(f"Unsupported detrend type: {detrend!r}; use False, "
                             "'constant', 'linear' or a callable")
        return lambda d: _detrend_last(d, detrend)
    if callable(detrend):
        if axis == -1:
            return detrend

        def moved(d):  # the callable sees the signal's own axis layout
            return jnp.moveaxis(detrend(jnp.moveaxis(d, -1, axis)), axis, -1)

        return moved
    raise ValueError(f"Unsupported detrend type: {detrend!r}; use False, 'constant', "
                     "'linear' or a callable")


def _extend(x, n, boundary):
    """Extend the last axis by ``n`` points at both ends (``stft``'s ``boundary``)."""
    if n == 0:
        return x
    if boundary == "zeros":
        pad = jnp.zeros(x.shape[:-1] + (n,), x.dtype)
        return jnp.concatenate([pad, x, pad], axis=-1)
    if boundary == "constant":
        first = jnp.broadcast_to(x[..., :1], x.shape[:-1] + (n,))
        last = jnp.broadcast_to(x[..., -1:], x.shape[:-1] + (n,))
        return jnp.concatenate([first, x, last], axis=-1)
    length = x.shape[-1]
    if n > length - 1:
        raise ValueError(f"The extension length n ({n}) is too big. It must not exceed "
                         f"x.shape[axis]-1 ({length - 1}).")
    left = jnp.flip(x[..., 1:n + 1], axis=-1)
    right = jnp.flip(x[..., length - n - 1:length - 1], axis=-1)
    if boundary == "odd":
        left = 2 * x[..., :1] - left
        right = 2 * x[..., -1:] - right
    return jnp.concatenate([left, x, right], axis=-1)


_BOUNDARIES = ("even", "odd", "constant", "zeros", None)


def _spectral_helper(x, y, fs, window, nperseg, noverlap, nfft, detrend, return_onesided,
                     scaling, axis, mode, boundary=None, padded=False):
    """Segment, detrend, window and transform ``x`` (and ``y``); returns ``(freqs, times,
    result)`` with frequencies at ``axis`` and segments last.  ``mode`` is ``"psd"`` (cross
    spectral density of ``x`` and ``y``; ``y is None`` means ``y = x``) or ``"stft"``."""
    if mode not in ("psd", "stft"):
        raise ValueError(f"Unknown value for mode {mode}, must be one of: ('psd', 'stft')")
    if boundary not in _BOUNDARIES:
        raise ValueError(f"Unknown boundary option '{boundary}', must be one of: "
                         f"{list(_BOUNDARIES)}")
    if not isinstance(axis, int):
        raise TypeError(f"axis must be an integer; got {axis!r}")
    same_data = y is None
    x = jnp.asarray(x)
    if same_data:
        y = x
    else:
        y = jnp.asarray(y)
        if mode == "stft":
            raise ValueError("x and y must be equal if mode is 'stft'")
    out_dtype = jnp.result_type(x, y, jnp.complex64)
    real_dtype = jnp.finfo(out_dtype).dtype
    if x.ndim == 0:
        raise ValueError("x must have at least one dimension")
    axis_pos = axis % x.ndim
    x = jnp.moveaxis(x, axis_pos, -1)
    if not same_data:
        if y.ndim == 0:
            raise ValueError("y must have at least one dimension")
        y = jnp.moveaxis(y, axis % y.ndim, -1)
        try:
            outer = jnp.broadcast_shapes(x.shape[:-1], y.shape[:-1])
        except ValueError:
            raise ValueError("x and y cannot be broadcast together") from None
        n = max(x.shape[-1], y.shape[-1])
        x = jnp.broadcast_to(x, outer + (x.shape[-1],))
        y = jnp.broadcast_to(y, outer + (y.shape[-1],))
        # the shorter signal is padded with zeros
        x = jnp.pad(x, [(0, 0)] * (x.ndim - 1) + [(0, n - x.shape[-1])])
        y = jnp.pad(y, [(0, 0)] * (y.ndim - 1) + [(0, n - y.shape[-1])])
    if x.shape[-1] == 0:
        raise ValueError("the signal along axis is empty")

    win, nperseg = _triage_window(window, nperseg, x.shape[-1], real_dtype)
    if nfft is None:
        nfft = nperseg
    else:
        nfft = _positive_int(nfft, "nfft")
        if nfft < nperseg:
            raise ValueError("nfft must be greater than or equal to nperseg.")
    if noverlap is None:
        noverlap = nperseg // 2
    else:
        noverlap = operator.index(noverlap)
        if noverlap < 0:
            raise ValueError(f"noverlap must be non-negative; got {noverlap}")
    if noverlap >= nperseg:
        raise ValueError("noverlap must be less than nperseg.")
    step = nperseg - noverlap

    if mode == "stft" and boundary is not None:
        x = _extend(x, nperseg // 2, boundary)
    if mode == "stft" and padded:
        extra = (-(x.shape[-1] - nperseg) % step) % nperseg
        x = jnp.pad(x, [(0, 0)] * (x.ndim - 1) + [(0, extra)])

    is_complex = jnp.issubdtype(jnp.result_type(x, y), jnp.complexfloating)
    onesided = bool(return_onesided) and not is_complex

    if scaling == "density":
        scale = 1.0 / (fs * jnp.sum(win * win))
    elif scaling == "spectrum":
        scale = 1.0 / jnp.sum(win) ** 2
    else:
        raise ValueError(f"Unknown scaling: {scaling!r}; use 'density' or 'spectrum'")
    if mode == "stft":
        scale = jnp.sqrt(scale)

    detrend_func = _detrend_function(detrend, axis)
    nseg = (x.shape[-1] - nperseg) // step + 1
    index = (jnp.arange(nseg) * step)[:, None] + jnp.arange(nperseg)[None, :]

    def transform(sig):
        segs = sig[..., index]  # (..., nseg, nperseg)
        if detrend_func is not None:
            segs = detrend_func(segs)
        segs = segs * win
        if onesided:
            return jnp.fft.rfft(jnp.real(segs), n=nfft, axis=-1)
        return jnp.fft.fft(segs, n=nfft, axis=-1)

    result = transform(x)
    if mode == "psd":
        other = result if same_data else transform(y)
        result = jnp.conj(result) * other * scale
        if onesided:  # fold the negative frequencies' power onto the positive ones
            nfreq = result.shape[-1]  # the Nyquist bin (even nfft) is not doubled
            last = nfreq if nfft % 2 else nfreq - 1
            doubling = jnp.ones((nfreq,), real_dtype).at[1:last].set(2)
            result = result * doubling
    else:
        result = result * scale
    result = result.astype(out_dtype)
    if same_data and mode == "psd":
        result = jnp.real(result)

    if onesided:
        freqs = jnp.fft.rfftfreq(nfft, 1.0 / fs)
    else:
        freqs = jnp.fft.fftfreq(nfft, 1.0 / fs)
    times = (jnp.arange(nseg) * step + nperseg / 2) / fs
    if mode == "stft" and boundary is not None:
        times = times - (nperseg / 2) / fs

    # frequencies go back to the signal's axis (counted in the output, which gained a
    # trailing segment axis), segments stay last
    out_axis = axis - 1 if axis < 0 else axis
    result = jnp.moveaxis(result, -1, out_axis)
    return freqs, times, result


def stft(x, fs=1.0, window="hann", nperseg=256, noverlap=None, nfft=None, detrend=False,
         return_onesided=True, boundary="zeros", padded=True, axis=-1):
    """Short-time Fourier transform, like ``scipy.signal.stft``.

    Args:
      x: the signal; fs: its sampling frequency.
      window: a window name (``"hann"``, ...), a ``(name, parameter)`` tuple or an array of
        length ``nperseg``.
      nperseg: samples per segment (default 256, at most the signal's length for named
        windows); noverlap: samples shared by consecutive segments (default
        ``nperseg // 2``); nfft: FFT length (default ``nperseg``).
      detrend: ``False``, ``"constant"``, ``"linear"`` or a callable applied to each segment.
      return_onesided: only the non-negative frequencies for real input (complex input is
        always two-sided).
      boundary: extend the signal by ``nperseg // 2`` points at both ends with ``"zeros"``,
        ``"even"`` or ``"odd"`` reflections, ``"constant"`` (edge values), or not (``None``).
      padded: zero-pad the end so the last segment is full.
      axis: the signal's axis.

    Returns:
      ``(f, t, Zxx)``: frequencies, segment times and the transform, with frequencies at
      ``axis`` and segments last, scaled by ``1 / sum(window)``.
    """
    freqs, times, result = _spectral_helper(x, None, fs, window, nperseg, noverlap, nfft,
                                            detrend, return_onesided, "spectrum", axis,
                                            "stft", boundary, padded)
    return freqs, times, result


def istft(Zxx, fs=1.0, window="hann", nperseg=None, noverlap=None, nfft=None,
          input_onesided=True, boundary=True, time_axis=-1, freq_axis=-2):
    """Inverse short-time Fourier transform, like ``scipy.signal.istft``: inverse FFT of each
    segment, then windowed overlap-add divided by the summed squared window.

    Args:
      Zxx: the transform (at least 2-D), frequencies on ``freq_axis``, segments on
        ``time_axis``.
      fs: sampling frequency.
      window: as for ``stft``.
      nperseg: samples per segment (default: from the number of frequencies).
      noverlap: default ``nperseg // 2``; nfft: default from the number of frequencies.
      input_onesided: ``Zxx`` holds only the non-negative frequencies of a real signal.
      boundary: ``stft`` extended the signal (its ``boundary`` was not ``None``): drop
        ``nperseg // 2`` points at both ends.
      time_axis, freq_axis: the axes of ``Zxx``.

    Returns:
      ``(t, x)``. As in SciPy and JAX, ``t`` is ``arange(x.shape[0]) / fs``.
    """
    Zxx = jnp.asarray(Zxx)
    if Zxx.ndim < 2:
        raise ValueError("Input stft must be at least 2d!")
    freq_axis, time_axis = freq_axis % Zxx.ndim, time_axis % Zxx.ndim
    if freq_axis == time_axis:
        raise ValueError("Must specify differing time and frequency axes!")
    nseg = Zxx.shape[time_axis]
    nfreq = Zxx.shape[freq_axis]
    n_default = 2 * (nfreq - 1) if input_onesided else nfreq
    nperseg = n_default if nperseg is None else _positive_int(nperseg, "nperseg")
    if nfft is None:
        nfft = nperseg if (input_onesided and nperseg == n_default + 1) else n_default
    else:
        nfft = _positive_int(nfft, "nfft")
        if nfft < nperseg:
            raise ValueError("nfft must be greater than or equal to nperseg.")
    noverlap = nperseg // 2 if noverlap is None else operator.index(noverlap)
    if noverlap >= nperseg:
        raise ValueError("noverlap must be less than nperseg.")
    step = nperseg - noverlap

    outer = [a for a in range(Zxx.ndim) if a not in (freq_axis, time_axis)]
    Zxx = jnp.transpose(Zxx, outer + [freq_axis, time_axis])
    if input_onesided:
        xsubs = jnp.fft.irfft(Zxx, n=nfft, axis=-2)
    else:
        xsubs = jnp.fft.ifft(Zxx, n=nfft, axis=-2)
    xsubs = xsubs[..., :nperseg, :]
    real_dtype = jnp.finfo(xsubs.dtype).dtype
    if isinstance(window, (str, tuple)):
        win = get_window(window, nperseg, real_dtype)
    else:
        win = jnp.asarray(window)
        if win.ndim != 1:
            raise ValueError(f"window must be 1-D; got shape {win.shape}")
        if win.shape[0] != nperseg:
            raise ValueError(f"window must have length of {nperseg}")
        if jnp.issubdtype(win.dtype, jnp.complexfloating):
            raise TypeError("complex windows are not supported")
        win = win.astype(real_dtype)
    xsubs = xsubs * jnp.sum(win)  # undo stft's 1 / sum(window)

    length = nperseg + (nseg - 1) * step
    index = ((jnp.arange(nseg) * step)[:, None] + jnp.arange(nperseg)[None, :]).reshape(-1)
    pieces = jnp.swapaxes(xsubs * win[:, None], -1, -2)  # (..., nseg, nperseg)
    out = jnp.zeros(pieces.shape[:-2] + (length,), pieces.dtype)
    out = out.at[..., index].add(pieces.reshape(pieces.shape[:-2] + (-1,)))
    norm = jnp.zeros((length,), real_dtype).at[index].add(
        jnp.broadcast_to(win * win, (nseg, nperseg)).reshape(-1))
    if boundary:
        half = nperseg // 2
        out = out[..., half:length - half]
        norm = norm[half:length - half]
    out = out / jnp.where(norm > 1e-10, norm, 1.0)
    if input_onesided:
        out = jnp.real(out)

    if out.ndim > 1 and time_axis != Zxx.ndim - 1:
        # the signal goes where the segments were (one axis fewer than Zxx)
        dest = time_axis - 1 if freq_axis < time_axis else time_axis
        out = jnp.moveaxis(out, -1, dest)
    times = jnp.arange(out.shape[0]) / fs
    return times, out


def _median_bias(n):
    """Ratio of the median to the mean of ``n`` independent chi-squared (2 dof) variables,
    ``1 - 1/2 + 1/3 - ... `` to ``(n - 1)//2`` terms."""
    total = 1.0
    for i in range(1, (n - 1) // 2 + 1):
        total += 1.0 / (2 * i + 1) - 1.0 / (2 * i)
    return total


def csd(x, y, fs=1.0, window="hann", nperseg=None, noverlap=None, nfft=None,
        detrend="constant", return_onesided=True, scaling="density", axis=-1,
        average="mean"):
    """Cross power spectral density of ``x`` and ``y`` by Welch's method, like
    ``scipy.signal.csd``; ``y=None`` means ``y = x`` (the result is then real).

    Args:
      x, y: the signals (``y`` may be ``None``); fs: sampling frequency.
      window, nperseg, noverlap, nfft: as for ``stft`` (``nperseg`` defaults to 256, at
        most the signal's length).
      detrend: ``"constant"`` (default), ``"linear"``, ``False`` or a callable.
      return_onesided: fold negative frequencies onto positive ones for real input.
      scaling: ``"density"`` (V**2/Hz) or ``"spectrum"`` (V**2).
      axis: the signals' axis.
      average: ``"mean"`` or ``"median"`` (bias-corrected, real and imaginary parts apart)
        over segments.

    Returns:
      ``(f, Pxy)``, frequencies at ``axis`` of ``Pxy``.
    """
    if average not in ("mean", "median"):
        raise ValueError(f'average must be "median" or "mean", got {average}')
    freqs, _, pxy = _spectral_helper(x, y, fs, window, nperseg, noverlap, nfft, detrend,
                                     return_onesided, scaling, axis, "psd")
    if pxy.ndim >= 2 and pxy.size > 0:
        if pxy.shape[-1] > 1:
            if average == "median":
                bias = _median_bias(pxy.shape[-1])
                if jnp.iscomplexobj(pxy):
                    pxy = (jnp.median(jnp.real(pxy), axis=-1)
                           + 1j * jnp.median(jnp.imag(pxy), axis=-1))
                else:
                    pxy = jnp.median(pxy, axis=-1)
                pxy = pxy / bias
            else:
                pxy = jnp.mean(pxy, axis=-1)
        else:
            pxy = pxy.reshape(pxy.shape[:-1])
    return freqs, pxy


def welch(x, fs=1.0, window="hann", nperseg=None, noverlap=None, nfft=None,
          detrend="constant", return_onesided=True, scaling="density", axis=-1,
          average="mean"):
    """Power spectral density of ``x`` by Welch's method (the average periodogram of
    overlapping windowed segments), like ``scipy.signal.welch``; the arguments are those of
    ``csd``.

    Returns:
      ``(f, Pxx)``, real, frequencies at ``axis`` of ``Pxx``.
    """
    freqs, pxx = csd(x, None, fs=fs, window=window, nperseg=nperseg, noverlap=noverlap,
                     nfft=nfft, detrend=detrend, return_onesided=return_onesided,
                     scaling=scaling, axis=axis, average=average)
    return freqs, jnp.real(pxx)
