"""Behaviour of the special-function, pi-trig and extra arithmetic primitives beyond the
registry cases (tests/lax/cases_special.py): agreement with JAX 0.12.1 (values, special values,
jaxprs, errors) and SciPy, derivatives against JAX and finite differences, the ``accuracy=``
argument, and ``random_gamma_p``."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.special as sp

import jaxel
import jaxel.numpy as jnp
from jaxel import lax

jax = pytest.importorskip("jax")
jlax = jax.lax
F32 = np.float32


def _x64():
    return jaxel.config._override("jax_enable_x64", True)


def _close(a, b, rtol=1e-6, atol=0.0):
    np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64), rtol=rtol,
                               atol=atol, equal_nan=True)


# ---- values against JAX and SciPy -------------------------------------------------------------
A = np.array([0.05, 0.5, 1.0, 3.0, 10.0, 150.0], F32)
X = np.array([0.01, 0.7, 2.0, 2.5, 12.0, 140.0], F32)


@pytest.mark.parametrize("name,ref", [("igamma", sp.gammainc), ("igammac", sp.gammaincc)])
def test_incomplete_gamma_matches_jax_and_scipy(name, ref):
    ours = getattr(lax, name)(A, X)
    _close(ours, getattr(jlax, name)(A, X), rtol=2e-5, atol=1e-7)
    _close(ours, ref(A.astype(float), X.astype(float)), rtol=2e-5, atol=1e-7)
    with _x64():
        a, x = A.astype(np.float64), X.astype(np.float64)
        _close(getattr(lax, name)(a, x), ref(a, x), rtol=1e-12, atol=1e-300)


def test_incomplete_gamma_edge_cases_match_jax():
    a = np.array([0.0, 1.0, -1.0, 2.0, np.nan, 2.0, 2.0], F32)
    x = np.array([1.0, 0.0, 1.0, -1.0, 1.0, np.inf, np.nan], F32)
    for name in ("igamma", "igammac"):
        _close(getattr(lax, name)(a, x), getattr(jlax, name)(a, x))


def test_igamma_grad_a_and_random_gamma_grad_match_jax():
    _close(lax.igamma_grad_a(A, X), jlax.igamma_grad_a(A, X), rtol=1e-4, atol=1e-7)
    a = np.array([0.3, 1.0, 2.5, 10.0, 50.0], F32)
    x = np.array([0.1, 0.9, 2.0, 12.0, 45.0], F32)
    _close(lax.random_gamma_grad(a, x), jlax.random_gamma_grad(a, x), rtol=1e-4)


def test_betainc_polygamma_zeta_bessel_match_jax():
    a, b = np.array([0.5, 2.0, 7.0], F32), np.array([1.5, 3.0, 0.8], F32)
    x = np.array([0.2, 0.6, 0.95], F32)
    _close(lax.betainc(a, b, x), jlax.betainc(a, b, x), rtol=2e-5)
    m, z = np.array([0.0, 1.0, 3.0], F32), np.array([0.3, 2.0, 9.0], F32)
    _close(lax.polygamma(m, z), jlax.polygamma(m, z), rtol=1e-6)
    _close(lax.zeta(z + 1.5, a), jlax.zeta(z + 1.5, a), rtol=1e-6)
    v = np.array([-40.0, -3.0, -0.5, 0.0, 1e-3, 2.0, 29.0, 31.0, 500.0], F32)
    _close(lax.bessel_i0e(v), jlax.bessel_i0e(v), rtol=2e-6)
    _close(lax.bessel_i1e(v), jlax.bessel_i1e(v), rtol=2e-6)


def test_pi_trig_special_values_match_jax():
    v = np.array([0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 1.5, 2.0, 0.25, 1e7 + 1, 2.0 ** 30 + 0.5,
                  np.inf, -np.inf, np.nan], F32)
    for name in ("sinpi", "cospi", "tanpi"):
        ours, theirs = np.asarray(getattr(lax, name)(v)), np.asarray(getattr(jlax, name)(v))
        np.testing.assert_array_equal(ours, theirs, err_msg=name)
        real = ~np.isnan(theirs)  # a NaN's sign bit means nothing
        np.testing.assert_array_equal(np.signbit(ours[real]), np.signbit(theirs[real]),
                                      err_msg=name)
    u = np.array([-1.0, -0.5, 0.0, -0.0, 0.3, 1.0, 1.5], F32)
    for name in ("asinpi", "acospi", "atanpi"):
        _close(getattr(lax, name)(u), getattr(jlax, name)(u), rtol=2e-7)
    _close(lax.atan2pi(u, u[::-1]), jlax.atan2pi(u, u[::-1]), rtol=2e-7)


def test_pi_trig_exact_where_sin_of_pi_x_is_not():
    n = np.array([3.0, 1e6, 2.0 ** 40], np.float64)
    with _x64():
        np.testing.assert_array_equal(np.asarray(lax.sinpi(n)), 0.0)
        np.testing.assert_array_equal(np.asarray(lax.cospi(n + 0.5)), 0.0)
        _close(lax.sinpi(np.float64(1 / 6)), 0.5, rtol=2e-16)


def test_base_two_functions_match_jax():
    v = np.array([-3.0, -1e-8, 0.0, 1e-8, 0.75, 10.0], F32)
    _close(lax.exp2m1(v), jlax.exp2m1(v), rtol=2e-7)
    p = np.abs(v) + 1e-9
    _close(lax.log2(p), jlax.log2(p), rtol=2e-7)
    _close(lax.log2p1(p), jlax.log2p1(p), rtol=2e-7)
    assert float(lax.exp2m1(F32(1e-8))) != 0.0  # no cancellation near 0


def test_mulhi_matches_jax():
    for dt in (np.int32, np.uint32, np.int8, np.uint16):
        info = np.iinfo(dt)
        x = np.array([info.min, info.max, -3 if info.min else 3, 7, 0], dt)
        y = np.array([info.max, info.max, 5, info.min, 9], dt)
        np.testing.assert_array_equal(lax.mulhi(x, y), jlax.mulhi(x, y))


def test_fma_rounds_once():
    # a*b + c with a*b = 1 + 2^-11 + 2^-22 exactly: one rounding keeps the 2^-22 (float32).
    a = F32(1 + 2.0 ** -11)
    c = F32(-1.0)
    assert float(lax.fma(a, a, c)) == 2.0 ** -10 + 2.0 ** -22
    _close(lax.fma(a, a, c), jlax.fma(a, a, c))
    h = np.float16(1 + 2.0 ** -6)  # 16-bit floats: also a single rounding (XLA CPU has none)
    assert float(lax.fma(h, h, np.float16(-1.0))) == float(np.float16(2.0 ** -5 + 2.0 ** -12))


def test_square_and_polynomial_jaxprs_match_jax():
    x = np.float32(1.5)
    assert str(jaxel.make_jaxpr(lax.square)(x)) == str(jax.make_jaxpr(jlax.square)(x))
    assert str(jaxel.make_jaxpr(lax.one_minus_square)(x)) == \
        str(jax.make_jaxpr(jlax.one_minus_square)(x))
    ours = jaxel.make_jaxpr(lambda x: lax.polynomial(x, [x, 2.0, 3.0]))(x)
    theirs = jax.make_jaxpr(lambda x: jlax.polynomial(x, [x, 2.0, 3.0]))(x)
    assert str(ours) == str(theirs)
    for name in ("igamma", "zeta", "sinpi", "bessel_i0e"):
        f = getattr(lax, name)
        args = (x,) if name in ("sinpi", "bessel_i0e") else (x, x)
        assert f"= {name} " in str(jaxel.make_jaxpr(f)(*args))


def test_total_order_comparisons_match_jax():
    x = np.array([0.0, -0.0, np.nan, -np.nan, 1.0, -np.inf], F32)
    y = np.array([-0.0, 0.0, np.nan, np.nan, np.nan, -np.inf], F32)
    for name in ("eq_to_p", "le_to_p", "lt_to_p"):
        np.testing.assert_array_equal(getattr(lax, name).bind(x, y),
                                      getattr(jlax, name).bind(x, y), err_msg=name)


# ---- derivatives ---------------------------------------------------------------------------------
def test_incomplete_gamma_gradients_match_jax():
    for name in ("igamma", "igammac"):
        ours = jaxel.grad(getattr(lax, name), argnums=(0, 1))(F32(2.5), F32(1.7))
        theirs = jax.grad(getattr(jlax, name), argnums=(0, 1))(F32(2.5), F32(1.7))
        _close(ours, theirs, rtol=1e-4)


def test_second_derivatives_through_loops_in_reverse_mode():
    # d2 P / da2 (igamma_grad_a's own derivative in a) and d2 I / da db, which JAX lacks,
    # against central differences of SciPy in float64.
    with _x64():
        h = 1e-4
        got = jaxel.grad(jaxel.grad(lax.igamma))(2.5, 1.7)
        want = (sp.gammainc(2.5 + h, 1.7) - 2 * sp.gammainc(2.5, 1.7)
                + sp.gammainc(2.5 - h, 1.7)) / h ** 2
        _close(got, want, rtol=1e-5)
        got = jaxel.grad(lambda b: jaxel.grad(lax.betainc)(2.0, b, 0.3))(3.0)
        want = (sp.betainc(2 + h, 3 + h, .3) - sp.betainc(2 + h, 3 - h, .3)
                - sp.betainc(2 - h, 3 + h, .3) + sp.betainc(2 - h, 3 - h, .3)) / (4 * h * h)
        _close(got, want, rtol=1e-5)


def test_zeta_gradient_in_x_and_q():
    with _x64():
        h = 1e-6
        gx, gq = jaxel.grad(lax.zeta, argnums=(0, 1))(3.5, 1.7)
        _close(gx, (sp.zeta(3.5 + h, 1.7) - sp.zeta(3.5 - h, 1.7)) / (2 * h), rtol=1e-7)
        _close(gq, -3.5 * sp.zeta(4.5, 1.7), rtol=1e-12)


def test_polygamma_gradient_in_m_is_an_error_like_jax():
    with pytest.raises(ValueError, match="polygamma"):
        jaxel.grad(lax.polygamma)(1.0, 2.0)
    _close(jaxel.grad(lax.polygamma, argnums=1)(1.0, 2.0), sp.polygamma(2, 2.0), rtol=1e-5)


def test_pi_trig_and_one_minus_square_gradients_match_jax():
    for name in ("sinpi", "cospi", "tanpi", "asinpi", "acospi", "atanpi", "exp2m1", "log2p1"):
        _close(jaxel.grad(getattr(lax, name))(F32(0.3)), jax.grad(getattr(jlax, name))(F32(0.3)),
               rtol=1e-6, atol=1e-7)
    # -2x, not (1 - x) - (1 + x), which would round to 0 for tiny x
    with _x64():
        assert float(jaxel.grad(lax.one_minus_square)(1e-300)) == -2e-300


# ---- accuracy= ---------------------------------------------------------------------------------
def test_accuracy_argument_is_accepted_and_validated():
    x = F32(0.7)
    for name in ("exp", "exp2", "log", "log2", "expm1", "log1p", "tanh", "logistic", "sin",
                 "cos", "tan", "sqrt", "rsqrt", "cbrt"):
        f = getattr(lax, name)
        for acc in (None, lax.AccuracyMode.HIGHEST, lax.Tolerance(atol=1e-3, rtol=1e-3)):
            assert float(f(x, accuracy=acc)) == float(f(x)), name
        with pytest.raises(NotImplementedError, match="Accuracy"):
            f(x, accuracy="high")
    with pytest.raises(ValueError, match="non-negative"):
        lax.Tolerance(atol=-1.0)
    with pytest.raises(ValueError, match="At least one"):
        lax.Tolerance()
    assert [m.name for m in lax.AccuracyMode] == [m.name for m in jlax.AccuracyMode]


# ---- random_gamma_p -----------------------------------------------------------------------------
def test_random_gamma_p_binds_and_matches_jax_stream():
    from jaxel.random import random_gamma_p
    a = np.array([[0.3, 2.0], [5.0, 1.0]], F32)
    keys = jaxel.random.key_data(jaxel.random.split(jaxel.random.key(1), 4)).reshape(2, 2, 2)
    ours = random_gamma_p.bind(jnp.asarray(keys), jnp.asarray(a), log_space=False)
    jkeys = jax.random.wrap_key_data(np.asarray(keys))
    theirs = jax.random.random_gamma_p.bind(jkeys, a, log_space=False, out_sharding=None)
    _close(ours, theirs, rtol=1e-6)
    one = jaxel.random.key_data(jaxel.random.key(4))  # one key split over every draw
    _close(random_gamma_p.bind(one, jnp.asarray(a), log_space=True),
           jax.random.random_gamma_p.bind(jax.random.key(4), a, log_space=True,
                                          out_sharding=None), rtol=1e-6)
    _close(random_gamma_p.bind(one, jnp.asarray(a), log_space=False),
           jaxel.random.gamma(jaxel.random.key(4), a), rtol=0)
    with pytest.raises(TypeError, match="uint32 key data"):
        random_gamma_p.bind(jnp.asarray(keys[..., :1]), jnp.asarray(a), log_space=False)


def test_gamma_samples_are_differentiable_like_jax():
    a = np.array([0.2, 1.0, 3.5], F32)
    for name in ("gamma", "loggamma"):
        ours = jaxel.grad(lambda a: getattr(jaxel.random, name)(jaxel.random.key(3), a).sum())(a)
        theirs = jax.grad(lambda a: getattr(jax.random, name)(jax.random.key(3), a).sum())(a)
        _close(ours, theirs, rtol=1e-4)
    grad = jaxel.grad(lambda k, a: jaxel.random.gamma(k, a), argnums=1)
    ours = jaxel.vmap(grad, (0, 0))(jaxel.random.split(jaxel.random.key(2), 3), a)
    loop = [grad(k, ai)
            for k, ai in zip(jaxel.random.split(jaxel.random.key(2), 3), a)]
    _close(ours, np.array(loop), rtol=1e-6)
