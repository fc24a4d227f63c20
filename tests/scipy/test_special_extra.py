"""jaxel.scipy.special's Faddeeva/Fresnel/Dawson, sine-cosine, Spence, Owen's T, hypergeometric,
Bessel J_n and spherical-harmonic functions against scipy.special (float64 and float32, edge
values), under jit and vmap, with derivatives against finite differences.

Every comparison evaluates many points in one jitted call, so the file compiles each function
only a few times."""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel.scipy import special as js

ss = pytest.importorskip("scipy.special")
RNG = np.random.default_rng(11)


def _x64():
    return jaxel.config._override("jax_enable_x64", True)


def _close(ours, ref, rtol, atol=0.0):
    np.testing.assert_allclose(np.asarray(ours), ref, rtol=rtol, atol=atol, equal_nan=True)


def _run(f, *args, dtype=np.float64):
    """``jit(f)`` on ``args`` cast to ``dtype`` (x64 enabled for float64)."""
    if np.dtype(dtype) in (np.dtype(np.float64), np.dtype(np.complex128)):
        with _x64():
            return jaxel.tree_util.tree_map(np.asarray, jaxel.jit(f)(*[
                jnp.asarray(np.asarray(a, dtype)) for a in args]))
    return jaxel.tree_util.tree_map(np.asarray, jaxel.jit(f)(*[
        jnp.asarray(np.asarray(a, dtype)) for a in args]))


def _f32(a):
    """float32-rounded values (subnormals flushed, as XLA does), back in float64 for scipy."""
    a = np.asarray(a, np.float32)
    return np.where(np.abs(a) < np.finfo(np.float32).tiny, np.float32(0), a).astype(np.float64)


EDGE = np.array([0.0, -0.0, 1e-300, 1e-12, -1e-6, 0.5, 1.0, 2.0, -3.0, np.nan, np.inf, -np.inf])
REAL_X = np.concatenate([EDGE, RNG.uniform(-12, 12, 300), np.exp(RNG.uniform(-15, 7, 100)),
                         -np.exp(RNG.uniform(-15, 7, 60)), [4.0, 4.0001, 6.0, 6.0001, 1.8, 1.81]])


# ---- dawsn, fresnel, sici, spence ----------------------------------------------------------------
def _real_family(x):
    s, c = js.fresnel(x)
    si, ci = js.sici(x)
    return js.dawsn(x), s, c, si, ci, js.spence(x)


FRESNEL_BIG = np.array([1234.567, 1e4 + 0.3, 1e6 + 0.1, 1e7 + 0.3, 3e9 + 0.7, 1e20])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_real_integrals_against_scipy(dtype):
    x = REAL_X if dtype == np.float64 else _f32(REAL_X)
    d, s, c, si, ci, sp = _run(_real_family, np.concatenate([x, FRESNEL_BIG]), dtype=dtype)
    if dtype == np.float64:
        _check_fresnel_large(s[-6:], c[-6:])
    d, s, c, si, ci, sp = (v[:-6] for v in (d, s, c, si, ci, sp))
    assert d.dtype == dtype and sp.dtype == dtype
    tight = dtype == np.float64
    rt = 1e-13 if tight else 2e-6
    _close(d, ss.dawsn(x), rtol=rt, atol=0 if tight else 1e-30)
    rs, rc = ss.fresnel(x)
    moderate = np.abs(x) < 1e3  # beyond, SciPy's phase pi x^2 / 2 loses digits (see below)
    _close(s[moderate], rs[moderate], rtol=1e-12 if tight else 5e-6, atol=1e-300)
    _close(c[moderate], rc[moderate], rtol=1e-12 if tight else 5e-6, atol=1e-300)
    rsi, rci = ss.sici(x)
    _close(si, rsi, rtol=1e-13 if tight else 2e-6, atol=1e-300)
    _close(ci, rci, rtol=1e-12 if tight else 1e-5, atol=1e-15 if tight else 3e-6)
    with np.errstate(invalid="ignore"):
        ref = ss.spence(x)
    _close(sp, ref, rtol=1e-13 if tight else 2e-6, atol=1e-300)


def _check_fresnel_large(s, c):
    # S = 1/2 - f cos(pi x^2/2) - g sin(...), C = 1/2 + f sin(...) - g cos(...), with the phase
    # from x^2 mod 4 in exact rational arithmetic and f, g the leading asymptotic terms (SciPy
    # itself rounds pi x^2 / 2 and is off by ~x^2 eps / x here).
    xs = FRESNEL_BIG
    ang = np.array([np.pi / 2 * float((Fraction(x) ** 2) % 4) for x in xs])
    f, g = 1 / (np.pi * xs), 1 / (np.pi ** 2 * xs ** 3)
    _close(s, 0.5 - f * np.cos(ang) - g * np.sin(ang), rtol=1e-14)
    _close(c, 0.5 + f * np.sin(ang) - g * np.cos(ang), rtol=1e-14)


# ---- wofz ------------------------------------------------------------------------------------------
def test_wofz_against_scipy():
    rng = np.random.default_rng(22)  # independent of test order
    re = np.concatenate([rng.uniform(-12, 12, 600), rng.uniform(-6, 6, 200), np.zeros(4)])
    im = np.concatenate([rng.uniform(0, 12, 600), rng.uniform(-4, 0, 200), [0, 1e-300, 3, -1]])
    z = np.concatenate([re + 1j * im, [30, -30, 1e10 + 1e10j, 1e5j, -1e3 + 1e-3j, 1e300 + 1e300j,
                                       np.inf, -np.inf, 2.5, -7.0]])
    w = _run(js.wofz, z, dtype=np.complex128)
    assert w.dtype == np.complex128
    _close(w[-4:-2], [0, 0], rtol=0)  # limits at infinity on the real axis
    w, z = np.delete(w, [-4, -3]), np.delete(z, [-4, -3])
    ref = ss.wofz(z)
    assert np.all(np.abs(w - ref) <= 5e-14 * np.abs(ref))
    # the real axis: exact real part, imaginary part 2/sqrt(pi) dawsn(x)
    _close(w[-2:].real, np.exp(-z[-2:].real ** 2), rtol=1e-15)
    _close(w[-2:].imag, ss.wofz(z[-2:]).imag, rtol=1e-14)
    z32 = z[:800].astype(np.complex64)
    w32 = _run(js.wofz, z32, dtype=np.complex64)
    assert w32.dtype == np.complex64
    ref32 = ss.wofz(z32.astype(np.complex128))
    assert np.all(np.abs(w32 - ref32) <= 1e-5 * np.abs(ref32))
    # real input gives a complex result
    with _x64():
        assert jaxel.eval_shape(js.wofz, jnp.asarray([1.0, 2.0])).dtype == jnp.complex128
    assert jaxel.eval_shape(js.wofz, jnp.asarray(np.float32(1.0))).dtype == jnp.complex64


# ---- owens_t ---------------------------------------------------------------------------------------
def test_owens_t_against_scipy():
    rng = np.random.default_rng(23)  # independent of test order
    h = np.concatenate([rng.uniform(-10, 10, 500), rng.uniform(0, 37, 100), np.zeros(5),
                        [np.nan, 1.0, np.inf, -np.inf, 2.0, 30.0]])
    a = np.concatenate([rng.uniform(-3, 3, 500), np.exp(rng.uniform(-8, 8, 100)),
                        [0.0, 1.0, -2.0, np.inf, -np.inf], [0.5, np.nan, 1.0, 1.0, np.inf, 0.5]])
    ref = ss.owens_t(h, a)
    out = _run(js.owens_t, h, a)
    normal = np.abs(ref) > 1e-300
    _close(out[normal], ref[normal], rtol=1e-11)
    _close(out[~normal], ref[~normal], rtol=0, atol=1e-290)
    h32, a32 = _f32(h[:600]), _f32(a[:600])
    ref32 = ss.owens_t(h32, a32)
    _close(_run(js.owens_t, h32, a32, dtype=np.float32), ref32, rtol=2e-5, atol=1e-10)


# ---- hyp1f1 ----------------------------------------------------------------------------------------
def _hyp1f1_points():
    rng = np.random.default_rng(24)  # independent of test order
    n = 400
    a, b, x = rng.uniform(0.05, 15, n), rng.uniform(0.05, 15, n), rng.uniform(-40, 40, n)
    x[:60] = rng.uniform(-700, 700, 60)  # large |x|: Kummer + asymptotic expansion
    a[:60] = rng.uniform(0.1, 3, 60)
    b[:60] = rng.uniform(0.1, 3, 60)
    a[60:120] = -np.round(rng.uniform(0, 8, 60))  # polynomials (a a non-positive integer)
    x[60:120] = rng.uniform(-10, 0, 60)
    a[120:180] = rng.uniform(-6, 0, 60)  # negative non-integer a, alternating start
    x[120:180] = rng.uniform(-10, 10, 60)
    # x < 0 with a > b is ill-conditioned for the series (Kummer's transform starts with
    # alternating terms): keep a <= b + 1 here, see test_hyp1f1_a_above_b_negative_x
    swap = (x < 0) & (a > b + 1) & (np.arange(n) >= 180)
    a, b = np.where(swap, b, a), np.where(swap, a, b)
    a = np.concatenate([a, [1.0, 2.0, 0.5, 0.5, 1.5]])
    b = np.concatenate([b, [1.0, 3.0, 1.5, 1.5, 2.5]])
    x = np.concatenate([x, [0.0, -1000.0, -800.0, 1e-300, -1e-8]])
    return a, b, x


HYP1F1_EDGE = (  # a = 0 is 1 (also a = b = 0, JAX's convention), b a pole is inf unless the
    # polynomial terminates before it, NaN propagates, infinite x is NaN
    np.array([0.0, 0.0, 1.0, -1.0, -3.0, 2.0, np.nan, 1.0, 2.0]),
    np.array([0.0, 2.0, 0.0, -2.0, -2.0, 3.0, 1.0, 2.0, 3.0]),
    np.array([1.0, 5.0, 1.0, 1.0, 1.0, np.nan, 1.0, np.inf, 1e-20]),
    [1.0, 1.0, np.inf, 1.5, np.inf, np.nan, np.nan, np.nan, 1.0 + 2e-20 / 3])


def test_hyp1f1_against_scipy():
    rng = np.random.default_rng(25)  # independent of test order
    a, b, x = _hyp1f1_points()
    n = a.size
    # x < 0 with a > b: Kummer's series starts with alternating terms (looser tolerance)
    a2, b2, x2 = rng.uniform(5, 15, 50), rng.uniform(0.5, 4, 50), rng.uniform(-20, -1, 50)
    ea, eb, ex, eref = HYP1F1_EDGE
    out = _run(js.hyp1f1, *(np.concatenate(v) for v in ((a, a2, ea), (b, b2, eb), (x, x2, ex))))
    ref = ss.hyp1f1(a, b, x)
    # polynomials (SciPy returns NaN for some): exact rational sums
    for i in range(60, 120):
        t, tot = Fraction(1), Fraction(1)
        for k in range(int(-a[i])):
            t = t * (Fraction(a[i]) + k) / (Fraction(b[i]) + k) * Fraction(x[i]) / (k + 1)
            tot += t
        ref[i] = float(tot)
    _close(out[:n], ref, rtol=2e-12, atol=1e-300)
    _close(out[n:n + 50], ss.hyp1f1(a2, b2, x2), rtol=1e-8, atol=1e-300)
    _close(out[n + 50:], eref, rtol=1e-15)
    a32, b32, x32 = (_f32(v[180:]) for v in (a, b, x))
    x32 = np.clip(x32, -40, 40)
    out32 = _run(js.hyp1f1, a32, b32, x32, dtype=np.float32)
    ref32 = ss.hyp1f1(a32, b32, x32)
    ref32 = np.where(np.abs(ref32) > 3e38, np.inf, ref32)
    _close(out32, ref32, rtol=5e-5, atol=1e-30)


# ---- hyp2f1 ----------------------------------------------------------------------------------------
def _hyp2f1_points():
    rng = np.random.default_rng(26)  # independent of test order
    n = 300
    a, b = rng.uniform(0.1, 8, n), rng.uniform(0.1, 8, n)
    c, x = rng.uniform(0.1, 12, n), rng.uniform(-1, 0.99, n)
    x[:40] = 1 - np.exp(rng.uniform(-11, -4.7, 40))        # z > 0.99: connection formula
    # integer c - a - b (the logarithmic case): dyadic a, b so that it is exact in floating
    # point (SciPy itself is unreliable when c - a - b is an integer only to rounding)
    a[40:80], b[40:80] = np.round(a[40:80] * 64) / 64, np.round(b[40:80] * 64) / 64
    c[40:80] = a[40:80] + b[40:80] + rng.integers(-3, 4, 40)
    x[40:80] = 1 - np.exp(rng.uniform(-11, -4.7, 40))
    c[40:80] = np.where(c[40:80] <= 0, c[40:80] + 4, c[40:80])
    a[80:120] = -np.round(a[80:120])                       # polynomials
    x[80:120] = rng.uniform(-5, 1, 40)
    x[120:160] = rng.uniform(-8, -1, 40)                     # Pfaff
    return a, b, c, x


HYP2F1_EDGE = (  # Gauss's sum, divergent Gauss sum, polynomial beyond x = 1, pole in c,
    # x > 1, x = 0, b = 0 (a constant polynomial), NaN
    [1.0, 1.0, -2.0, 1.0, 1.0, 1.0, 1.0, np.nan], [1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 0.0, 1.0],
    [3.0, 2.0, 3.0, -2.0, 2.0, 3.0, 1.0, 1.0], [1.0, 1.0, 5.0, 0.5, 1.5, 0.0, 2.0, 0.5],
    [2.0, np.inf, ss.hyp2f1(-2.0, 1.0, 3.0, 5.0), np.inf, np.nan, 1.0, 1.0, np.nan])
# closed forms: 2F1(1, 1; 2; x) = -log(1 - x) / x, 2F1(1, 1; 3; x) = 2 (x + (1-x) log(1-x)) / x^2
# (logarithmic cases m = 0, 1), 2F1(1/2, 1; 3/2; -t^2) = atan(t) / t
_LOG_X = np.array([-50.0, -0.9, 0.3, 0.95, 0.999, 1 - 1e-9])
_ATAN_T = np.array([0.1, 1.0, 3.0, 30.0])
HYP2F1_CLOSED = (
    np.r_[np.ones(12), 0.5 * np.ones(4)], np.ones(16),
    np.r_[2 * np.ones(6), 3 * np.ones(6), 1.5 * np.ones(4)], np.r_[_LOG_X, _LOG_X, -_ATAN_T ** 2],
    np.r_[-np.log1p(-_LOG_X) / _LOG_X, 2 * (_LOG_X + (1 - _LOG_X) * np.log1p(-_LOG_X)) / _LOG_X ** 2,
          np.arctan(_ATAN_T) / _ATAN_T])


def test_hyp2f1_against_scipy():
    a, b, c, x = _hyp2f1_points()
    n = a.size
    ea, eb, ec, ex, eref = HYP2F1_EDGE
    ca, cb, cc, cx, cref = HYP2F1_CLOSED
    out = _run(js.hyp2f1, *(np.concatenate(v) for v in ((a, ea, ca), (b, eb, cb), (c, ec, cc),
                                                       (x, ex, cx))))
    _close(out[:n], ss.hyp2f1(a, b, c, x), rtol=1e-10, atol=1e-300)
    _close(out[n:n + 8], eref, rtol=1e-14)
    _close(out[n + 8:], cref, rtol=1e-13)
    a32, b32, c32, x32 = (_f32(v[160:]) for v in (a, b, c, x))
    _close(_run(js.hyp2f1, a32, b32, c32, x32, dtype=np.float32), ss.hyp2f1(a32, b32, c32, x32),
           rtol=1e-4, atol=1e-30)


# ---- bessel_jn ------------------------------------------------------------------------------------
def test_bessel_jn_against_scipy():
    rng = np.random.default_rng(27)  # independent of test order
    z = np.concatenate([EDGE, rng.uniform(-60, 60, 300), np.exp(rng.uniform(-9, 6.5, 80)),
                        [24.99, 25.01, 45.0, 80.0, 120.0, 1e4 + 0.5]])
    v = 70  # beyond 25 Miller's recurrence start follows v
    out = _run(lambda t: js.bessel_jn(t, v=v), z)
    assert out.shape == (v + 1, z.size) and out.dtype == np.float64
    ref = ss.jv(np.arange(v + 1)[:, None], z[None])
    ref[0, z == 0] = 1.0
    ref[:, ~np.isfinite(z)] = np.nan
    _close(out, ref, rtol=1e-11, atol=2e-14)
    z32 = _f32(z)
    out32 = _run(lambda t: js.bessel_jn(t, v=6), z32, dtype=np.float32)
    assert out32.dtype == np.float32
    ref32 = ss.jv(np.arange(7)[:, None], z32[None])
    ref32[0, z32 == 0] = 1.0
    ref32[:, ~np.isfinite(z32)] = np.nan
    _close(out32, ref32, rtol=1e-5, atol=5e-7)
    assert jaxel.eval_shape(lambda t: js.bessel_jn(t, v=3), jnp.float32(1.0)).shape == (4,)
    with pytest.raises(TypeError):
        js.bessel_jn(jnp.ones(2), v=1.0)


# ---- sph_harm_y ------------------------------------------------------------------------------------
def test_sph_harm_y_against_scipy():
    rng = np.random.default_rng(28)  # independent of test order
    k = 400
    n = rng.integers(0, 25, k)
    m = np.clip(rng.integers(-25, 26, k), -n, n)
    m[:20] = n[:20] + 1  # |m| > n: zero
    theta, phi = rng.uniform(0, np.pi, k), rng.uniform(0, 2 * np.pi, k)
    theta[20:30], theta[30:40] = 0.0, np.pi
    ref = ss.sph_harm_y(n, m, theta, phi)
    f = lambda n_, m_, t_, p_: js.sph_harm_y(n_, m_, t_, p_, n_max=24)  # noqa: E731
    with _x64():
        out = np.asarray(jaxel.jit(f)(jnp.asarray(n), jnp.asarray(m), jnp.asarray(theta),
                                      jnp.asarray(phi)))
    assert out.dtype == np.complex128
    _close(out, ref, rtol=1e-12, atol=1e-13)
    out32 = np.asarray(jaxel.jit(f)(jnp.asarray(n), jnp.asarray(m),
                                    jnp.asarray(theta.astype(np.float32)),
                                    jnp.asarray(phi.astype(np.float32))))
    assert out32.dtype == np.complex64
    ref32 = ss.sph_harm_y(n, m, _f32(theta), _f32(phi))
    _close(out32, ref32, rtol=1e-4, atol=2e-5)
    # n_max clips the degree (JAX's behaviour); n_max from a concrete n; diff_n unsupported
    with _x64():
        clipped = jaxel.jit(lambda t: js.sph_harm_y(jnp.asarray([1, 3, 2]), jnp.asarray([1, 1, -1]),
                                                    t, 0.2, n_max=2))(0.3)
        _close(clipped, ss.sph_harm_y(np.array([1, 2, 2]), np.array([1, 1, -1]), 0.3, 0.2),
               rtol=1e-13)
    assert jaxel.eval_shape(lambda t: js.sph_harm_y(np.array([1, 3]), 1, t, 0.2),
                            jnp.float32(0.3)).shape == (2,)
    with pytest.raises(NotImplementedError):
        js.sph_harm_y(1, 1, 0.3, 0.2, diff_n=1)


# ---- jit / vmap, promotion ------------------------------------------------------------------------
def test_vmap_matches_scipy():
    rng = np.random.default_rng(29)  # independent of test order
    x = rng.uniform(0.1, 8, 8).astype(np.float32)
    a = rng.uniform(-3, 3, 8).astype(np.float32)
    f = jaxel.jit(jaxel.vmap(lambda x, a: (js.dawsn(x), js.spence(x), js.owens_t(x, a),
                                           js.sici(x)[1])))
    d, sp, t, ci = f(jnp.asarray(x), jnp.asarray(a))
    x64, a64 = x.astype(np.float64), a.astype(np.float64)
    _close(d, ss.dawsn(x64), rtol=2e-6)
    _close(sp, ss.spence(x64), rtol=2e-6, atol=1e-7)
    _close(t, ss.owens_t(x64, a64), rtol=2e-5, atol=1e-10)
    _close(ci, ss.sici(x64)[1], rtol=1e-5, atol=3e-6)
    assert jaxel.eval_shape(js.dawsn, jnp.arange(3)).dtype == jnp.float32  # integers promote


# ---- derivatives against finite differences ---------------------------------------------------------
def _fd_check(fs, args, argnums, rtol=1e-6, atol=1e-9, h=1e-6):
    """Reverse-mode derivatives of the scalar functions ``fs`` (vmapped over the points
    ``args``) in the arguments ``argnums``, against central differences; one compile."""
    args = [np.asarray(a, np.float64) for a in args]
    k = args[0].size

    def run(*xs):
        outs = []
        for f, i in zip(fs, argnums):
            pm = [jnp.concatenate([x + h, x - h]) if j == i else jnp.concatenate([x, x])
                  for j, x in enumerate(xs)]
            vals = jaxel.vmap(f)(*pm)
            outs.append((jaxel.vmap(jaxel.grad(f, argnums=i))(*xs), (vals[:k] - vals[k:]) / (2 * h)))
        return outs

    with _x64():
        for g, fd in jaxel.jit(run)(*map(jnp.asarray, args)):
            _close(g, np.asarray(fd), rtol=rtol, atol=atol)


def test_gradients_match_finite_differences():
    x = np.array([-3.2, -0.7, 0.05, 0.9, 1.0, 2.5, 5.0, 8.0])
    h = np.array([-2.0, 0.3, 1.0, 2.5, 0.0, 4.0, 1.5, -0.5])
    a = np.array([0.4, -1.5, 3.0, 0.9, 2.0, 0.7, -0.2, 12.0])
    fs = [lambda t, u: js.dawsn(t), lambda t, u: js.fresnel(t)[0],
          lambda t, u: js.fresnel(t)[1], lambda t, u: js.sici(t)[0],
          lambda t, u: js.sici(t)[1], lambda t, u: js.spence(jnp.abs(t) + 0.05),
          js.owens_t, js.owens_t]
    _fd_check(fs, (x, a), [0] * 7 + [1])
    _fd_check([js.owens_t], (h, a), [0])
    pa, pb, px = np.array([0.5, 1.5, 3.0]), np.array([1.5, 2.5, 1.2]), np.array([-2.0, 0.7, 4.0])
    _fd_check([js.hyp1f1, js.hyp1f1], (pa, pb, px), [2, 0], rtol=1e-5)
    # (hyp2f1's derivatives work the same way; left out here for compile time)


def test_wofz_derivative_is_holomorphic():
    z = np.array([0.3 + 0.4j, -1.2 + 2.0j, 2.5 - 0.3j])
    h = 1e-6

    def run(z):
        fd = (js.wofz(z + h) - js.wofz(z - h)) / (2 * h)
        return jaxel.jvp(js.wofz, (z,), (jnp.ones_like(z),))[1], fd

    with _x64():
        t, fd = jaxel.jit(run)(jnp.asarray(z))
    _close(t, np.asarray(fd), rtol=1e-7)
