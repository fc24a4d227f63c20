"""jaxel.scipy.signal and jaxel.scipy.integrate against scipy and jax.scipy."""
from __future__ import annotations

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel.scipy import integrate, signal

sps = pytest.importorskip("scipy.signal")
RNG = np.random.default_rng(5)

SHAPES = [((7,), (3,)), ((3,), (7,)), ((5,), (5,)), ((6, 5), (3, 2)), ((3, 4), (5, 6)),
          ((4, 4, 4), (2, 3, 1))]


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("shapes", SHAPES, ids=[f"{a}x{b}" for a, b in SHAPES])
@pytest.mark.parametrize("fn", ["convolve", "correlate", "fftconvolve"])
def test_against_scipy(fn, shapes, mode):
    a = RNG.standard_normal(shapes[0]).astype(np.float32)
    b = RNG.standard_normal(shapes[1]).astype(np.float32)
    try:
        ref = getattr(sps, fn)(a.astype(np.float64), b.astype(np.float64), mode=mode)
    except ValueError:
        pytest.skip("scipy rejects these shapes for this mode")
    ours = getattr(signal, fn)(jnp.asarray(a), jnp.asarray(b), mode=mode)
    assert ours.shape == ref.shape
    np.testing.assert_allclose(np.asarray(ours), ref, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("fn", ["convolve2d", "correlate2d"])
def test_2d_against_jax(fn, mode):
    jax = pytest.importorskip("jax")
    a = RNG.standard_normal((6, 7)).astype(np.float32)
    for kshape in [(3, 2), (2, 3), (3, 3), (4, 1)]:
        b = RNG.standard_normal(kshape).astype(np.float32)
        ours = getattr(signal, fn)(jnp.asarray(a), jnp.asarray(b), mode=mode)
        theirs = getattr(jax.scipy.signal, fn)(a, b, mode=mode)
        np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=1e-5, atol=1e-5)
        ref = getattr(sps, fn)(a.astype(np.float64), b.astype(np.float64), mode=mode)
        np.testing.assert_allclose(np.asarray(ours), ref, rtol=1e-4, atol=1e-4)


def test_integer_and_complex_inputs():
    np.testing.assert_array_equal(np.asarray(signal.convolve(jnp.asarray([1, 2, 3]),
                                                             jnp.asarray([0, 1, 1]))),
                                  sps.convolve([1, 2, 3], [0, 1, 1]))
    a = np.array([1 + 1j, 2, 3], np.complex64)
    b = np.array([0, 1j, 1], np.complex64)
    np.testing.assert_allclose(np.asarray(signal.correlate(jnp.asarray(a), jnp.asarray(b))),
                               sps.correlate(a, b), rtol=1e-6)


def test_detrend():
    x = RNG.standard_normal((3, 20))
    with jaxel.config._override("jax_enable_x64", True):
        np.testing.assert_allclose(signal.detrend(x, bp=[5, 12]), sps.detrend(x, bp=[5, 12]),
                                   atol=1e-12)
        np.testing.assert_allclose(signal.detrend(x, axis=0, type="constant"),
                                   sps.detrend(x, axis=0, type="constant"), atol=1e-12)


def test_convolve_grad_jit_vmap():
    a = jnp.asarray(RNG.standard_normal(8).astype(np.float32))
    b = jnp.asarray(RNG.standard_normal(3).astype(np.float32))
    full = np.asarray(signal.convolve(a, b))
    np.testing.assert_allclose(np.asarray(jaxel.jit(signal.convolve)(a, b)), full, rtol=1e-6)
    batched = jaxel.vmap(signal.convolve, in_axes=(0, None))(jnp.stack([a, 2 * a]), b)
    np.testing.assert_allclose(np.asarray(batched[1]), 2 * full, rtol=1e-5, atol=1e-6)
    g = jaxel.grad(lambda k: jnp.sum(signal.convolve(a, k)))(b)
    np.testing.assert_allclose(np.asarray(g), np.full(3, float(np.sum(np.asarray(a)))), rtol=1e-5)


def test_trapezoid():
    si = pytest.importorskip("scipy.integrate")
    y = RNG.standard_normal((4, 9))
    x = np.sort(RNG.uniform(0, 3, 9))
    with jaxel.config._override("jax_enable_x64", True):
        np.testing.assert_allclose(integrate.trapezoid(y, x), si.trapezoid(y, x), rtol=1e-12)
        np.testing.assert_allclose(integrate.trapezoid(y, dx=0.3, axis=0),
                                   si.trapezoid(y, dx=0.3, axis=0), rtol=1e-12)
