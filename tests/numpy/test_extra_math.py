"""extra_math.py: elementwise extras, differences/integrals, products, convolution, interp,
piecewise, vander -- against JAX (or NumPy), under jit, and gradients."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import jaxel
import jaxel.numpy as jnp
from tests.numpy._oracle import A, R, check

X = np.array([-3.5, -0.0, 0.0, 1.25, 2.0, 5.25, np.inf, -np.inf, np.nan], np.float32)


def test_frexp_ldexp_modf():
    check(jnp.frexp(A(X)), R.frexp(X))
    check(jnp.frexp(A(np.arange(5))), R.frexp(np.arange(5)))
    k = np.array([3, -2, 1, 100, -130, 200, 1, 1, 1], np.int32)
    with np.errstate(over="ignore"):
        check(jnp.ldexp(A(X), A(k)), R.ldexp(X, k))
    check(jnp.ldexp(A(np.float32(1.5)), 3), R.ldexp(np.float32(1.5), 3))
    check(jnp.modf(A(X[:6])), R.modf(X[:6]))
    with pytest.raises(TypeError, match="integer"):
        jnp.ldexp(A(X), A(X))
    with pytest.raises(TypeError, match="complex"):
        jnp.frexp(A(np.array([1j])))


def test_gcd_lcm_jit_and_dtypes():
    a = np.array([12, -18, 0, 7, 0], np.int32)
    b = np.array([18, 12, 5, 0, 0], np.int32)
    check(jnp.gcd(A(a), A(b)), R.gcd(a, b))
    check(jnp.lcm(A(a), A(b)), R.lcm(a, b))
    check(jaxel.jit(jnp.gcd)(A(a), A(b)), R.gcd(a, b))
    check(jnp.gcd(A(a.astype(np.int8)), 6), R.gcd(a.astype(np.int8), 6))
    with pytest.raises(TypeError, match="integer"):
        jnp.gcd(A(X), 2)


def test_spacing_fabs_i0_bitcount():
    check(jnp.spacing(A(X[:6])), R.spacing(X[:6]))
    check(jnp.fabs(A(np.array([-2, 3]))), R.fabs(np.array([-2, 3])))
    x = np.array([0, 0.5, -1, 5, 20, 29.9, 30.1, 50, 80], np.float32)
    check(jnp.i0(A(x)), np.i0(x.astype(np.float64)).astype(np.float32), rtol=1e-5)
    check(jnp.i0(A(np.arange(3))), R.i0(np.arange(3)), rtol=2e-6)
    v = np.array([7, -3, 0, 255], np.int32)
    check(jnp.bitwise_count(A(v)), R.bitwise_count(v))
    check(jnp.bitwise_count(A(v.astype(np.uint8))), R.bitwise_count(v.astype(np.uint8)))


def test_i0_grad_is_i1():
    x = np.array([0.0, 1.0, 3.0, 40.0], np.float32)
    g = jaxel.vmap(jaxel.grad(jnp.i0))(A(x))
    # I0' = I1; reference values from the series sum_k (x/2)^(2k+1) / (k! (k+1)!)
    from math import factorial
    i1 = [sum((v / 2) ** (2 * k + 1) / (factorial(k) * factorial(k + 1)) for k in range(80))
          for v in x.astype(np.float64)]
    np.testing.assert_allclose(np.asarray(g), i1, rtol=1e-5)


def test_complex_predicates_and_sort_complex():
    z = np.array([1 + 1j, 2 + 0j, -1j, 3], np.complex64)
    check(jnp.iscomplex(A(z)), R.iscomplex(z))
    check(jnp.isreal(A(z)), R.isreal(z))
    check(jnp.iscomplex(A(np.arange(3))), R.iscomplex(np.arange(3)))
    check(jnp.isposinf(A(X)), R.isposinf(X))
    check(jnp.isneginf(A(X)), R.isneginf(X))
    check(jnp.isneginf(A(np.arange(3))), R.isneginf(np.arange(3)))
    w = np.array([3 + 1j, 1 - 1j, 3 - 2j, 1 + 0j], np.complex64)
    check(jnp.sort_complex(A(w)), R.sort_complex(w))
    check(jnp.sort_complex(A(np.array([3, 1, 2]))), R.sort_complex(np.array([3, 1, 2])))
    check(jnp.angle(A(z), deg=True), R.angle(z, deg=True))
    check(jnp.angle(A(np.array([-1.0, 2.0], np.float32))), R.angle(np.array([-1.0, 2.0],
                                                                            np.float32)))


@pytest.mark.parametrize("n,axis,prepend,append", [(1, -1, None, None), (2, 1, 0, None),
                                                   (1, 0, None, 5), (3, 1, None, None)])
def test_diff(n, axis, prepend, append):
    x = (np.arange(12).reshape(3, 4) ** 2).astype(np.int32)
    kw = {}
    if prepend is not None:
        kw["prepend"] = prepend
    if append is not None:
        kw["append"] = append
    check(jnp.diff(A(x), n=n, axis=axis, **{k: A(np.int32(v)) for k, v in kw.items()}),
          R.diff(x, n=n, axis=axis, **kw))
    check(jnp.diff(A(np.array([True, False, False]))), R.diff(np.array([True, False, False])))
    with pytest.raises(ValueError, match="one dimensional"):
        jnp.diff(A(np.float32(1)))


def test_ediff1d_gradient_unwrap_trapezoid():
    check(jnp.ediff1d(A(np.arange(5) ** 2), to_end=A(np.array([9, 9])), to_begin=A(-1)),
          R.ediff1d(np.arange(5) ** 2, to_end=np.array([9, 9]), to_begin=-1))
    y = np.random.RandomState(0).rand(4, 5).astype(np.float32)
    check(jnp.gradient(A(y)), R.gradient(y))
    check(jnp.gradient(A(y), 2.0, axis=0), R.gradient(y, 2.0, axis=0))
    xs = np.cumsum(np.random.RandomState(1).rand(5)).astype(np.float32) + 0.1
    check(jnp.gradient(A(y), A(xs), axis=1), R.gradient(y, xs, axis=1), rtol=1e-4)
    with pytest.raises(NotImplementedError):
        jnp.gradient(A(y), edge_order=2)
    p = np.array([0, 3, 7, 11, 2, -5], np.float32)
    check(jnp.unwrap(A(p)), R.unwrap(p))
    check(jnp.unwrap(A(p), period=4.0), R.unwrap(p, period=4.0))
    check(jnp.trapezoid(A(y)), R.trapezoid(y))
    check(jnp.trapezoid(A(y), A(xs)), R.trapezoid(y, xs), rtol=1e-4)
    check(jnp.trapezoid(A(y), dx=0.5, axis=0), R.trapezoid(y, dx=0.5, axis=0))


def test_trapezoid_and_interp_gradients():
    y = np.random.RandomState(2).rand(6).astype(np.float32)
    g = jaxel.grad(lambda v: jnp.trapezoid(v, dx=0.5))(A(y))
    np.testing.assert_allclose(np.asarray(g), [0.25, 0.5, 0.5, 0.5, 0.5, 0.25])
    xp = np.array([0., 1., 3., 4.], np.float32)
    fp = np.array([0., 2., 5., 0.], np.float32)
    gx = jaxel.grad(lambda x: jnp.interp(x, A(xp), A(fp)))(2.0)
    assert float(gx) == pytest.approx(1.5)
    gf = jaxel.grad(lambda f: jnp.interp(2.0, A(xp), f))(A(fp))
    np.testing.assert_allclose(np.asarray(gf), [0, 0.5, 0.5, 0])


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@settings(max_examples=25, deadline=None)
@given(st.sampled_from([(3,), (4, 3), (2, 1, 3)]), st.sampled_from([(3,), (1, 3), (5, 1, 1, 3)]),
       st.booleans())
def test_cross_broadcasting(sa, sb, jit):
    rng = np.random.RandomState(0)
    a, b = rng.randn(*sa).astype(np.float32), rng.randn(*sb).astype(np.float32)
    f = jaxel.jit(jnp.cross) if jit else jnp.cross
    with np.errstate(all="ignore"):
        want = np.cross(a, b)
    check(f(A(a), A(b)), want, dtype=False)


def test_cross_axes_and_grad():
    a = np.random.RandomState(3).randn(3, 4).astype(np.float32)
    b = np.random.RandomState(4).randn(3, 4).astype(np.float32)
    check(jnp.cross(A(a), A(b), axis=0), R.cross(a, b, axis=0))
    check(jnp.cross(A(a), A(b.T), axisa=0, axisb=1, axisc=0), R.cross(a, b.T, axisa=0,
                                                                      axisb=1, axisc=0))
    g = jaxel.grad(lambda u: jnp.sum(jnp.cross(u, A(b[:, 0]))))(A(a[:, 0]))
    np.testing.assert_allclose(np.asarray(g), np.cross(b[:, 0], np.ones(3)), rtol=1e-6)
    with pytest.raises(ValueError, match="must be 3"):
        jnp.cross(A(np.ones(4)), A(np.ones(3)))
    with pytest.raises(ValueError, match="must be 3"):  # 2-vectors: gone in NumPy 2.5 and JAX
        jnp.cross(A(np.ones(2)), A(np.ones(3)))


@settings(max_examples=20, deadline=None)
@given(st.sampled_from([(2,), (2, 3), (1, 2, 2)]), st.sampled_from([(3,), (2, 2), (2, 1, 3)]),
       st.sampled_from([np.int32, np.float32]))
def test_kron(sa, sb, dt):
    rng = np.random.RandomState(5)
    a, b = (rng.randn(*sa) * 3).astype(dt), (rng.randn(*sb) * 3).astype(dt)
    check(jnp.kron(A(a), A(b)), R.kron(a, b))


def test_kron_trace_grad():
    a = np.random.RandomState(6).randn(2, 2).astype(np.float32)
    b = np.random.RandomState(7).randn(3, 3).astype(np.float32)
    g = jaxel.grad(lambda u: jnp.sum(jnp.kron(u, A(b))))(A(a))
    np.testing.assert_allclose(np.asarray(g), np.full((2, 2), b.sum()), rtol=1e-5)
    x = np.arange(24).reshape(2, 3, 4)
    check(jnp.trace(A(x), 1, 1, 2), R.trace(x, 1, 1, 2))
    check(jnp.trace(A(x[0]), dtype=jnp.float32), R.trace(x[0], dtype=np.float32))
    g = jaxel.grad(jnp.trace)(A(np.ones((3, 3), np.float32)))
    np.testing.assert_allclose(np.asarray(g), np.eye(3))


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("n,m", [(5, 3), (3, 5), (4, 4), (6, 1)])
def test_convolve_correlate(mode, n, m):
    rng = np.random.RandomState(n * 10 + m)
    a, v = rng.rand(n).astype(np.float32), rng.rand(m).astype(np.float32)
    check(jnp.convolve(A(a), A(v), mode), R.convolve(a, v, mode))
    check(jnp.correlate(A(a), A(v), mode), R.correlate(a, v, mode))
    ac = (a + 1j * rng.rand(n)).astype(np.complex64)
    vc = (v - 2j * rng.rand(m)).astype(np.complex64)
    check(jnp.correlate(A(ac), A(vc), mode), R.correlate(ac, vc, mode))
    check(jaxel.jit(lambda x, y: jnp.convolve(x, y, mode))(A(a), A(v)), R.convolve(a, v, mode))
    check(jnp.convolve(A(np.arange(n)), A(np.arange(m)), mode),
          R.convolve(np.arange(n), np.arange(m), mode))


def test_interp():
    xp = np.array([0., 1., 1., 3., 4.], np.float32)
    fp = np.array([0., 2., 3., 5., 0.], np.float32)
    xq = np.array([-1, 0, 0.5, 1, 2, 4, 5], np.float32)
    check(jnp.interp(A(xq), A(xp), A(fp)), R.interp(xq, xp, fp))
    check(jnp.interp(A(xq), A(xp), A(fp), left=-1., right=9.),
          R.interp(xq, xp, fp, left=-1., right=9.))
    xp2, fp2 = np.array([0., 1., 2.5], np.float32), np.array([1., 2., 0.], np.float32)
    check(jnp.interp(A(xq), A(xp2), A(fp2), period=3), R.interp(xq, xp2, fp2, period=3))
    check(jaxel.jit(jnp.interp)(A(xq), A(xp), A(fp)), R.interp(xq, xp, fp))
    with pytest.raises(ValueError, match="same length"):
        jnp.interp(A(xq), A(xp), A(fp[:2]))


def test_piecewise_and_vander():
    x = np.linspace(-2, 3, 7).astype(np.float32)
    fl = [lambda v: -v, lambda v: v * 10, 0.5]
    check(jnp.piecewise(A(x), [A(x < 0), A(x > 1)], fl),
          R.piecewise(x, [x < 0, x > 1], fl))
    f = jaxel.jit(lambda v: jnp.piecewise(v, [v < 0, v > 1], fl))
    check(f(A(x)), R.piecewise(x, [x < 0, x > 1], fl))
    g = jaxel.grad(lambda v: jnp.sum(jnp.piecewise(v, [v < 0, v > 1], fl)))(A(x))
    np.testing.assert_allclose(np.asarray(g), np.where(x < 0, -1, np.where(x > 1, 10, 0)))
    check(jnp.vander(A(x), 4, increasing=True), R.vander(x, 4, increasing=True))
    check(jnp.vander(A(np.arange(4))), R.vander(np.arange(4)))
    check(jnp.vander(A(x), 0), R.vander(x, 0))
