"""``erfcinv``, ``ndtri_exp``, ``gammaincinv``, ``gammainccinv`` and the integer-order Bessel
functions ``jn``, ``yn``, ``iv``, ``kn`` of ``jaxel.scipy.special``: values against SciPy in
float32 and float64 (including tails and special values), derivatives against SciPy's
derivative functions / finite differences / JAX, and vmap against a loop."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.special as ss

import jaxel
import jaxel.numpy as jnp
import jaxel.scipy.special as js


def _x64():
    return jaxel.config._override("jax_enable_x64", True)


def _rel(got, want):
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    both_inf = np.isinf(got) & np.isinf(want) & (np.sign(got) == np.sign(want))
    both_nan = np.isnan(got) & np.isnan(want)
    err = np.abs(got - want) / np.maximum(np.abs(want), 1e-300)
    return np.where(both_inf | both_nan, 0.0, err)


def test_erfcinv():
    y = np.array([0.0, 1e-30, 1e-5, 0.3, 1.0, 1.7, 2 - 1e-6, 2.0, 2.5, -0.1])
    with _x64():
        assert _rel(js.erfcinv(y), ss.erfcinv(y)).max() < 1e-13
    y32 = y[:7].astype(np.float32)
    assert _rel(js.erfcinv(y32), ss.erfcinv(y32.astype(float))).max() < 1e-5
    with pytest.raises(ValueError, match="complex"):
        js.erfcinv(jnp.complex64(0.5))


def test_ndtri_exp_tails_and_special_values():
    y = np.array([-1e4, -700.0, -100.0, -20.0, -3.0, -0.7, -0.69, -0.1, -1e-6, -1e-20, 0.0,
                  -np.inf, 0.5])
    with _x64():
        assert _rel(js.ndtri_exp(y), ss.ndtri_exp(y)).max() < 1e-12
        g = jaxel.grad(js.ndtri_exp)(-3.0)
        x = ss.ndtri_exp(-3.0)
        np.testing.assert_allclose(g, np.exp(-3.0) / ss.ndtr(x) * ss.ndtr(x) / (
            np.exp(-x * x / 2) / np.sqrt(2 * np.pi)), rtol=1e-10)
    assert _rel(js.ndtri_exp(y[:10].astype(np.float32)), ss.ndtri_exp(y[:10])).max() < 2e-5


@pytest.mark.parametrize("name", ["gammaincinv", "gammainccinv"])
def test_gammaincinv(name):
    a = np.array([0.01, 0.1, 0.5, 1.0, 2.5, 10.0, 100.0, 1e4, 3.0, 3.0, 2.0, -1.0])
    p = np.array([0.3, 1e-10, 0.5, 0.99, 1e-5, 0.5, 0.9, 0.1, 0.0, 1.0, 1.5, 0.5])
    ref = getattr(ss, name)(a, p)
    with _x64():
        assert _rel(getattr(js, name)(a, p), ref).max() < 1e-9
    got32 = np.asarray(getattr(js, name)(a.astype(np.float32), p.astype(np.float32)))
    ok = (np.abs(ref) > 1e-30) | (ref == 0) | ~np.isfinite(ref)  # float32 underflows below
    assert _rel(got32[ok], ref[ok]).max() < 5e-4


def test_gammaincinv_gradients():
    with _x64():
        for name, fwd in [("gammaincinv", ss.gammainc), ("gammainccinv", ss.gammaincc)]:
            f = getattr(js, name)
            ga, gy = jaxel.grad(f, argnums=(0, 1))(2.5, 0.3)
            x, h = f(2.5, 0.3), 1e-6
            # implicit differentiation checked by central differences of SciPy's inverse
            inv = getattr(ss, name)
            np.testing.assert_allclose(gy, (inv(2.5, 0.3 + h) - inv(2.5, 0.3 - h)) / (2 * h),
                                       rtol=1e-6)
            np.testing.assert_allclose(ga, (inv(2.5 + h, 0.3) - inv(2.5 - h, 0.3)) / (2 * h),
                                       rtol=1e-6)
            assert abs(fwd(2.5, float(x)) - 0.3) < 1e-13


X = np.array([1e-3, 0.1, 0.5, 1.0, 2.5, 7.0, 13.0, 24.9, 25.1, 40.0, 49.0, 51.0, 80.0, 150.0,
              700.0])


@pytest.mark.parametrize("name", ["jn", "yn", "iv", "kn"])
def test_integer_order_bessel_float64(name):
    ours, ref = getattr(js, name), getattr(ss, name)
    with _x64():
        for n in (0, 1, 2, 5, 12, -3):
            got, want = np.asarray(ours(n, X)), ref(n, X)
            fin = np.isfinite(want) & (np.abs(want) > 1e-300) & (np.abs(want) < 1e300)
            err = _rel(got[fin], want[fin])
            if name in ("jn", "yn"):  # oscillating: relative error near zeros is meaningless
                err = np.minimum(err, np.abs(got[fin] - want[fin]))
            assert err.max() < 1e-12, (name, n, err.max())


@pytest.mark.parametrize("name", ["jn", "yn", "iv", "kn"])
def test_integer_order_bessel_float32_and_special_values(name):
    ours, ref = getattr(js, name), getattr(ss, name)
    x = X[:12].astype(np.float32)
    for n in (0, 3):
        got, want = np.asarray(ours(n, x)), ref(n, x.astype(np.float64))
        assert got.dtype == np.float32
        err = _rel(got, want)
        if name in ("jn", "yn"):
            err = np.minimum(err, np.abs(got - want))
        assert err.max() < 1e-5, (name, n, err.max())
    # JAX's conventions at 0, negative and infinite arguments (jn, iv: the limits at inf)
    special = np.array([0.0, -1.0, np.inf, np.nan, -np.inf])
    want = {"jn": [0.0, ss.jn(2, -1.0), 0.0, np.nan, 0.0],
            "yn": [-np.inf, np.nan, 0.0, np.nan, np.nan],
            "iv": [0.0, ss.iv(2, -1.0), np.inf, np.nan, np.inf],
            "kn": [np.inf, np.nan, 0.0, np.nan, np.nan]}[name]
    with _x64():
        np.testing.assert_allclose(ours(2, special), want, rtol=1e-14)


@pytest.mark.parametrize("name,deriv", [("jn", ss.jvp), ("yn", ss.yvp), ("iv", ss.ivp),
                                        ("kn", ss.kvp)])
def test_integer_order_bessel_derivatives(name, deriv):
    f = getattr(js, name)
    g = jaxel.grad(lambda z: f(2, z))(np.float32(3.0))
    np.testing.assert_allclose(g, deriv(2, 3.0), rtol=2e-5)
    with _x64():
        for n in (0, 2):
            np.testing.assert_allclose(jaxel.grad(lambda z: f(n, z))(3.0), deriv(n, 3.0),
                                       rtol=1e-11)
        g2 = jaxel.grad(jaxel.grad(lambda z: f(1, z)))(3.0)
        np.testing.assert_allclose(g2, deriv(1, 3.0, 2), rtol=1e-10)


def test_integer_order_bessel_vmap_jit_and_errors():
    x = np.array([0.5, 3.0, 30.0], np.float32)
    for name in ("jn", "yn", "iv", "kn"):
        f = getattr(js, name)
        np.testing.assert_allclose(jaxel.vmap(lambda z: f(1, z))(x),
                                   np.array([f(1, v) for v in x]), rtol=1e-6)
        np.testing.assert_allclose(jaxel.jit(lambda z: f(1, z))(x), f(1, x), rtol=1e-6)
        with pytest.raises(ValueError, match="real arguments"):
            f(1, jnp.complex64(1.0))
        with pytest.raises(TypeError, match="static"):
            jaxel.jit(lambda n: f(n, 1.0))(1)
    assert js.jn(2, np.float16(1.5)).dtype == np.float16
