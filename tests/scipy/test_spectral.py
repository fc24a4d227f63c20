"""jaxel.scipy.signal's stft / istft / welch / csd against scipy.signal."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel.scipy import signal
from jaxel.scipy._spectral import get_window

sps = pytest.importorskip("scipy.signal")
RNG = np.random.default_rng(23)

PSD_CASES = [
    dict(),
    dict(nperseg=16, fs=3.0),
    dict(nperseg=16, noverlap=5, nfft=20, window="hamming", scaling="spectrum"),
    dict(nperseg=15, detrend="linear", window="blackman"),
    dict(nperseg=16, return_onesided=False, average="median"),
    dict(nperseg=12, window=("tukey", 0.3), nfft=17, average="median", axis=0),
    dict(nperseg=10, detrend=False, window="bartlett"),
]
STFT_CASES = [
    dict(nperseg=16),
    dict(nperseg=16, noverlap=5, nfft=20, window="hamming", boundary="even", fs=2.0),
    dict(nperseg=15, detrend="linear", boundary="odd", padded=False, window="boxcar"),
    dict(nperseg=16, return_onesided=False, boundary="constant", window=("kaiser", 3.0)),
    dict(nperseg=12, boundary=None, window="hann", axis=0),
]


def _scipy(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return getattr(sps, fn)(*args, **kw)


def test_windows():
    names = ["hann", "hamming", "blackman", "bartlett", "boxcar", "triang", "cosine",
             ("tukey", 0.3), ("tukey", 1.0), ("kaiser", 4.0), ("general_hamming", 0.6)]
    sizes = (1, 7, 8)
    with jaxel.config._override("jax_enable_x64", True):
        ours = jaxel.jit(lambda: [[get_window(w, n) for n in sizes] for w in names])()
    for name, row in zip(names, ours):
        for n, w in zip(sizes, row):
            np.testing.assert_allclose(np.asarray(w), sps.get_window(name, n), atol=1e-12,
                                       err_msg=str((name, n)))
    np.testing.assert_array_equal(np.asarray(get_window("hanning", 8)),
                                  np.asarray(get_window("hann", 8)))
    with pytest.raises(ValueError, match="Unknown window"):
        get_window("nope", 8)
    with pytest.raises(ValueError, match="parameter"):
        get_window("kaiser", 8)


def test_welch_csd_against_scipy():
    x = RNG.standard_normal((2, 50))
    y = RNG.standard_normal((2, 44))
    xc = x + 1j * y[:, :1]
    win = np.linspace(0.2, 1.0, 16)

    def ours(x, y, xc, win):  # every case in one compiled program
        out = []
        for kw in PSD_CASES:
            xs, ys = (x.T, y.T) if kw.get("axis") == 0 else (x, y)
            # csd for every other case
            out.append((signal.welch(xs, **kw),
                        signal.csd(xs, ys, **kw) if len(out) % 2 == 0 else (None, None)))
        extra = (signal.welch(xc, nperseg=16)[1], signal.csd(x, None, nperseg=16)[1],
                 signal.welch(x, window=win)[1])
        return out, extra

    with jaxel.config._override("jax_enable_x64", True):
        results, extra = jaxel.jit(ours)(x, y, xc, win)
    for kw, ((f, p), (_, pxy)) in zip(PSD_CASES, results):
        xs, ys = (x.T, y.T) if kw.get("axis") == 0 else (x, y)
        f_ref, p_ref = _scipy("welch", xs, **kw)
        assert p.shape == p_ref.shape, kw
        np.testing.assert_allclose(np.asarray(f), f_ref, rtol=1e-12, err_msg=str(kw))
        np.testing.assert_allclose(np.asarray(p), p_ref, rtol=1e-10, atol=1e-14,
                                   err_msg=str(kw))
        if pxy is not None:
            np.testing.assert_allclose(np.asarray(pxy), _scipy("csd", xs, ys, **kw)[1],
                                       rtol=1e-10, atol=1e-14, err_msg=str(kw))
    # complex signals are always two-sided; y=None is the cross-spectrum of x with itself
    np.testing.assert_allclose(np.asarray(extra[0]), _scipy("welch", xc, nperseg=16)[1],
                               rtol=1e-10)
    np.testing.assert_allclose(np.asarray(extra[1]), _scipy("csd", x, x, nperseg=16)[1].real,
                               rtol=1e-10)
    np.testing.assert_allclose(np.asarray(extra[2]), _scipy("welch", x, window=win)[1],
                               rtol=1e-10)


def _istft_kwargs(kw):
    ikw = {k: kw[k] for k in ("nperseg", "noverlap", "nfft", "window", "fs") if k in kw}
    ikw["input_onesided"] = kw.get("return_onesided", True)
    ikw["boundary"] = kw.get("boundary", "zeros") is not None
    if kw.get("axis") == 0:
        ikw.update(time_axis=-1, freq_axis=0)
    return ikw


def test_stft_istft_against_scipy():
    x = RNG.standard_normal((2, 45))
    refs = [_scipy("stft", x.T if kw.get("axis") == 0 else x, **kw) for kw in STFT_CASES]

    def ours(x, zs):
        out = []
        for kw, z_ref in zip(STFT_CASES, zs):
            out.append((signal.stft(x.T if kw.get("axis") == 0 else x, **kw),
                        signal.istft(z_ref, **_istft_kwargs(kw))))
        return out

    with jaxel.config._override("jax_enable_x64", True):
        results = jaxel.jit(ours)(x, [r[2] for r in refs])
    for kw, ref, ((f, t, z), (ti, xr)) in zip(STFT_CASES, refs, results):
        f_ref, t_ref, z_ref = ref
        assert z.shape == z_ref.shape, kw
        np.testing.assert_allclose(np.asarray(f), f_ref, rtol=1e-12)
        np.testing.assert_allclose(np.asarray(t), t_ref, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(np.asarray(z), z_ref, rtol=1e-10, atol=1e-13,
                                   err_msg=str(kw))
        ti_ref, xr_ref = _scipy("istft", z_ref, **_istft_kwargs(kw))
        assert xr.shape == xr_ref.shape, kw
        np.testing.assert_allclose(np.asarray(xr), xr_ref, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(np.asarray(ti), ti_ref, rtol=1e-12)


def test_jit_float32_and_errors():
    x = RNG.standard_normal((3, 40)).astype(np.float32)

    def run(x, fs):
        f, p = signal.welch(x, fs=fs, nperseg=16, average="median")
        _, _, z = signal.stft(x, fs=fs, nperseg=12)
        _, xr = signal.istft(z, fs=fs, nperseg=12)
        return f, p, z, xr

    f, p, z, xr = jaxel.jit(run)(jnp.asarray(x), 2.0)  # fs traced
    assert p.dtype == jnp.float32 and z.dtype == jnp.complex64
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(np.asarray(p),
                               _scipy("welch", x64, fs=2.0, nperseg=16, average="median")[1],
                               rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(np.asarray(z), _scipy("stft", x64, fs=2.0, nperseg=12)[2],
                               rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(np.asarray(xr)[:, :40], x, atol=1e-5)
    bad = [(signal.welch, dict(nperseg=8, noverlap=8), "noverlap"),
           (signal.welch, dict(nperseg=8, nfft=4), "nfft"),
           (signal.welch, dict(scaling="psd"), "scaling"),
           (signal.welch, dict(average="max"), "average"),
           (signal.stft, dict(detrend=True), "detrend"),
           (signal.stft, dict(boundary="wrap"), "boundary"),
           (signal.welch, dict(window=np.ones(8), nperseg=10), "nperseg")]
    for fn, kw, match in bad:  # traced only: nothing to compile
        with pytest.raises(ValueError, match=match):
            jaxel.eval_shape(lambda x: fn(x, **kw), x)
    with pytest.raises(ValueError, match="2d"):
        jaxel.eval_shape(signal.istft, jnp.zeros(5))
