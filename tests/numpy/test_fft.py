"""jaxel.numpy.fft against numpy.fft over transforms, axes, lengths and norms; gradients
(finite differences, forward and reverse) through each transform type; vmap and jit."""
from __future__ import annotations

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel.test_util import check_grads

RNG = np.random.default_rng(8)
X = RNG.standard_normal((3, 4, 8)).astype(np.float32)
Z = (RNG.standard_normal((3, 4, 8)) + 1j * RNG.standard_normal((3, 4, 8))).astype(np.complex64)


def _close(a, b, tol=2e-4):
    np.testing.assert_allclose(np.asarray(a), b, rtol=tol, atol=tol)


@pytest.mark.parametrize("norm", [None, "backward", "ortho", "forward"])
@pytest.mark.parametrize("name,arg,kw", [
    ("fft", Z, {}), ("ifft", Z, {"axis": 1}), ("fft", Z, {"n": 5}), ("fft", Z, {"n": 11}),
    ("rfft", X, {}), ("rfft", X, {"n": 6, "axis": 0}), ("irfft", Z, {}), ("irfft", Z, {"n": 9}),
    ("hfft", Z, {}), ("ihfft", X, {}), ("fft2", Z, {}), ("ifft2", Z, {"axes": (0, 2)}),
    ("rfft2", X, {}), ("irfft2", Z, {}), ("fftn", Z, {}), ("ifftn", Z, {"s": (2, 5)}),
    ("rfftn", X, {"axes": (0, 2)}), ("irfftn", Z, {"s": (3, 4, 10)}),
])
def test_matches_numpy(name, arg, kw, norm):
    got = getattr(jnp.fft, name)(jnp.asarray(arg), norm=norm, **kw)
    want = getattr(np.fft, name)(arg.astype(np.complex128 if arg.dtype.kind == "c"
                                            else np.float64), norm=norm, **kw)
    _close(got, want, 2e-4 * max(1.0, np.abs(want).max() / 10))
    assert got.dtype == (np.float32 if want.dtype.kind == "f" else np.complex64)


def test_frequencies_and_shifts():
    _close(jnp.fft.fftfreq(7, 0.5), np.fft.fftfreq(7, 0.5))
    _close(jnp.fft.rfftfreq(8, 2.0), np.fft.rfftfreq(8, 2.0))
    a = np.arange(12).reshape(3, 4)
    np.testing.assert_array_equal(np.asarray(jnp.fft.fftshift(a)), np.fft.fftshift(a))
    np.testing.assert_array_equal(np.asarray(jnp.fft.ifftshift(a, axes=1)),
                                  np.fft.ifftshift(a, axes=1))


def test_gradients():
    with jaxel.config._override("jax_enable_x64", True):
        x = jnp.asarray(X[0].astype(np.float64))
        z = jnp.asarray(Z[0].astype(np.complex128))
        check_grads(lambda v: jnp.sum(jnp.abs(jnp.fft.rfft(v)) ** 2), (x,), 2, ("fwd", "rev"))
        check_grads(lambda v: jnp.fft.irfft(jnp.fft.rfft(v) * (1.5 + 0.3j)), (x,), 1,
                    ("fwd", "rev"))
        check_grads(lambda v: jnp.real(jnp.fft.fft2(v)) * jnp.imag(jnp.fft.ifft(v)), (z,), 1,
                    ("fwd", "rev"))
        check_grads(lambda v: jnp.fft.irfftn(v, (4, 8)), (z[:, :5],), 1, ("fwd", "rev"))


def test_jit_and_vmap():
    f = jaxel.jit(lambda v: jnp.fft.rfft(v, axis=1))
    _close(f(jnp.asarray(X)), np.fft.rfft(X, axis=1))
    _close(jaxel.vmap(jnp.fft.fft, in_axes=2, out_axes=2)(jnp.asarray(Z)), np.fft.fft(Z, axis=1))


def test_bad_input():
    with pytest.raises(ValueError, match="norm"):
        jnp.fft.fft(jnp.ones(4), norm="bogus")
    with pytest.raises(TypeError, match="real input"):
        jnp.fft.rfft(jnp.ones(4, jnp.complex64))
