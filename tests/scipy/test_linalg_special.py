"""jaxel.scipy.linalg's special-matrix constructors, qr_multiply and solve_sylvester: values
against scipy.linalg, dtypes and shapes against jax.scipy.linalg (x64 off and on), batching
(stacked inputs and vmap against a loop), and derivatives (check_grads: finite differences
and reverse vs forward mode)."""
from __future__ import annotations

import contextlib

import numpy as np
import pytest
import scipy.linalg as sl

import jaxel
import jaxel.numpy as jnp
from jaxel.scipy import linalg as L
from jaxel.test_util import check_grads

jax = pytest.importorskip("jax")
import jax.scipy.linalg as JL  # noqa: E402


@pytest.fixture(params=[False, True], ids=["x32", "x64"])
def x64(request):
    """x64 off or on in both jaxel and the JAX oracle (restored afterwards)."""
    old = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", request.param)
    try:
        with jaxel.config._override("jax_enable_x64", request.param):
            yield request.param
    finally:
        jax.config.update("jax_enable_x64", old)


@contextlib.contextmanager
def _both_x64():
    old = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    try:
        with jaxel.config._override("jax_enable_x64", True):
            yield
    finally:
        jax.config.update("jax_enable_x64", old)


def _same(ours, theirs, ref=None, tol=1e-6):
    """Same dtype and shape as JAX's result, values close to it and to SciPy's."""
    o, t = np.asarray(ours), np.asarray(theirs)
    assert o.dtype == t.dtype, (o.dtype, t.dtype)
    assert o.shape == t.shape, (o.shape, t.shape)
    np.testing.assert_allclose(o, t, rtol=tol, atol=tol)
    if ref is not None:
        np.testing.assert_allclose(o, np.asarray(ref), rtol=tol, atol=tol)


C = np.array([1, 2, 3])
R = np.array([4, 5, 6, 7])
F = np.array([0.1, 2.0, 1.0, 0.1])


@pytest.mark.parametrize("name,args,ref", [
    ("toeplitz", (C,), sl.toeplitz(C)),
    ("toeplitz", (C, R), sl.toeplitz(C, R)),
    ("toeplitz", (C + 1j,), sl.toeplitz(C + 1j)),
    ("hankel", (C,), sl.hankel(C)),
    ("hankel", (C, R), sl.hankel(C, R)),
    ("circulant", (F,), sl.circulant(F)),
    ("leslie", (F, F[1:]), sl.leslie(F, F[1:])),
    ("leslie", (C, C[1:]), sl.leslie(C, C[1:])),
    ("companion", (np.array([2., -10., 31., -30.]),), sl.companion([2., -10., 31., -30.])),
    ("companion", (C,), sl.companion(C)),
    ("fiedler", (np.array([1, 4, 12]),), sl.fiedler([1, 4, 12])),
])
def test_constructors_from_arrays(x64, name, args, ref):
    _same(getattr(L, name)(*args), getattr(JL, name)(*args), ref)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6])
def test_fiedler_companion(x64, n):
    a = np.array([2., -1., 3., 0.5, -2., 1.5])[:n]
    _same(L.fiedler_companion(a), JL.fiedler_companion(a), sl.fiedler_companion(a) if n > 1
          else None)
    if n > 2:  # same characteristic polynomial as the companion matrix
        np.testing.assert_allclose(np.sort_complex(np.linalg.eigvals(L.fiedler_companion(a))),
                                   np.sort_complex(np.roots(a)), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("n", [2, 6])
def test_convolution_matrix(x64, mode, n):
    a = np.array([1., 2., 3., 4.])
    got = L.convolution_matrix(a, n, mode)
    _same(got, JL.convolution_matrix(jax.numpy.asarray(a), n, mode),
          sl.convolution_matrix(a, n, mode))
    v = np.arange(1., n + 1)
    np.testing.assert_allclose(np.asarray(got) @ v, np.convolve(a, v, mode), rtol=1e-6)


def test_convolution_matrix_int_and_errors():
    _same(L.convolution_matrix(C, 2), JL.convolution_matrix(jax.numpy.asarray(C), 2))
    with pytest.raises(ValueError, match="positive"):
        L.convolution_matrix(C, 0)
    with pytest.raises(ValueError, match="mode"):
        L.convolution_matrix(C, 2, "bad")


@pytest.mark.parametrize("name,args,kw,ref", [
    ("hilbert", (5,), {}, sl.hilbert(5)),
    ("invhilbert", (6,), {}, sl.invhilbert(6)),
    ("pascal", (5,), {}, sl.pascal(5)),
    ("pascal", (5,), {"kind": "lower"}, sl.pascal(5, "lower")),
    ("pascal", (5,), {"kind": "upper"}, sl.pascal(5, "upper")),
    ("invpascal", (5,), {}, sl.invpascal(5)),
    ("invpascal", (5,), {"kind": "lower"}, sl.invpascal(5, "lower")),
    ("invpascal", (4,), {"kind": "upper"}, sl.invpascal(4, "upper")),
    ("helmert", (4,), {}, sl.helmert(4)),
    ("helmert", (4,), {"full": True}, sl.helmert(4, full=True)),
    ("hadamard", (8,), {}, sl.hadamard(8)),
    ("dft", (5,), {}, sl.dft(5)),
    ("dft", (6,), {"scale": "sqrtn"}, sl.dft(6, "sqrtn")),
    ("dft", (4,), {"scale": "n"}, sl.dft(4, "n")),
])
def test_constructors_from_sizes(x64, name, args, kw, ref):
    _same(getattr(L, name)(*args, **kw), getattr(JL, name)(*args, **kw), ref, tol=1e-5)


def test_size_constructor_options_and_errors():
    _same(L.hadamard(4, jnp.float32), JL.hadamard(4, jax.numpy.float32))
    _same(L.dft(3, dtype=np.complex64), JL.dft(3, dtype=np.complex64))
    # exact integers where float32 rounding of lgamma would not be
    np.testing.assert_array_equal(L.invhilbert(8), sl.invhilbert(8).astype(np.float32))
    for bad in (lambda: L.hadamard(6), lambda: L.dft(3, scale="x"),
                lambda: L.dft(3, dtype=np.float32), lambda: L.pascal(3, "diag"),
                lambda: L.helmert(0)):
        with pytest.raises(ValueError):
            bad()


def test_constructor_errors():
    with pytest.raises(ValueError, match="at least 2"):
        L.leslie(np.array([1.]), np.array([]))
    with pytest.raises(ValueError, match="one less"):
        L.leslie(F, F)
    with pytest.raises(ValueError, match="at least 2"):
        L.companion(np.array([1.]))
    with pytest.raises(ValueError, match="nonzero"):
        L.fiedler_companion(np.zeros((0,)))
    with pytest.raises(ValueError, match="scalar"):
        L.hankel(np.float32(1))
    with pytest.raises(TypeError):
        L.toeplitz([1, 2])  # lists are not arrays, as in JAX


def test_batched_constructors_match_loops():
    rng = np.random.default_rng(0)
    c, r = rng.standard_normal((2, 3)), rng.standard_normal((2, 4))
    np.testing.assert_allclose(L.toeplitz(c, r), np.stack([sl.toeplitz(c[i], r[i])
                                                           for i in range(2)]), rtol=1e-6)
    np.testing.assert_allclose(L.hankel(c, r[0]), np.stack([sl.hankel(c[i], r[0])
                                                            for i in range(2)]), rtol=1e-6)
    np.testing.assert_allclose(L.circulant(c), np.stack([sl.circulant(x) for x in c]),
                               rtol=1e-6)
    np.testing.assert_allclose(L.companion(r), np.stack([sl.companion(x) for x in r]),
                               rtol=1e-5)
    np.testing.assert_allclose(L.fiedler_companion(r),
                               np.stack([sl.fiedler_companion(x) for x in r]), rtol=1e-5)
    np.testing.assert_allclose(L.leslie(r, c), np.stack([sl.leslie(r[i], c[i])
                                                         for i in range(2)]), rtol=1e-6)
    np.testing.assert_allclose(L.convolution_matrix(c, 3, "same"),
                               np.stack([sl.convolution_matrix(x, 3, "same") for x in c]),
                               rtol=1e-6)
    v = jaxel.vmap(L.toeplitz)(c, r)
    np.testing.assert_allclose(v, L.toeplitz(c, r), rtol=1e-6)
    v = jaxel.vmap(L.fiedler)(r)
    np.testing.assert_allclose(v, np.stack([sl.fiedler(x) for x in r]), rtol=1e-6)


def test_constructor_gradients():
    with jaxel.config._override("jax_enable_x64", True):
        c, r = np.array([1., 2., 3.]), np.array([4., 5., 6., 7.])
        for f, args in ((L.toeplitz, (c, r)), (L.hankel, (c, r)), (L.circulant, (c,)),
                        (L.companion, (r,)), (L.fiedler_companion, (r,)),
                        (L.leslie, (r, c)), (lambda a: L.convolution_matrix(a, 3), (c,))):
            check_grads(f, args, order=1, modes=("fwd", "rev"))


# ---- qr_multiply ---------------------------------------------------------------------------------
def _rand(shape, dt=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    if np.dtype(dt).kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dt)


@pytest.mark.parametrize("a_shape", [(5, 3), (3, 5), (4, 4)])
@pytest.mark.parametrize("mode", ["left", "right"])
@pytest.mark.parametrize("conjugate", [False, True])
def test_qr_multiply_vs_scipy(a_shape, mode, conjugate):
    with _both_x64():
        dt = np.complex128 if conjugate else np.float64
        a = _rand(a_shape, dt)
        k, m = min(a_shape), a_shape[0]
        c = _rand((k, 2) if mode == "left" else (2, m), dt, 1)
        got, r = L.qr_multiply(a, c, mode=mode, conjugate=conjugate)
        # All three use LAPACK's Householder QR (geqrf), so Q's signs agree too.
        want, r_want = sl.qr_multiply(a, c, mode=mode, conjugate=conjugate)
        np.testing.assert_allclose(r, r_want, atol=1e-10)
        np.testing.assert_allclose(got, want, atol=1e-10)
        jgot, jr = JL.qr_multiply(a, c, mode=mode, conjugate=conjugate)
        np.testing.assert_allclose(got, np.asarray(jgot), atol=1e-10)


def test_qr_multiply_vector_batch_and_jax():
    with _both_x64():
        a = _rand((4, 2))
        b = _rand((4,), seed=1)
        qtb, r = L.qr_multiply(a, b)
        jq, jr = JL.qr_multiply(a, b)
        assert qtb.shape == jq.shape == (2,)
        # least squares through qr_multiply, as JAX's docstring example
        x = L.solve_triangular(r, qtb)
        np.testing.assert_allclose(x, np.linalg.lstsq(a, b, rcond=None)[0], atol=1e-10)
        ab = _rand((3, 4, 2), seed=2)
        cb = _rand((3, 2, 5), seed=3)
        got, rb = L.qr_multiply(ab, cb, mode="left")
        for i in range(3):
            q, _ = np.linalg.qr(ab[i])
            np.testing.assert_allclose(got[i], q @ cb[i], atol=1e-10)
        with pytest.raises(ValueError, match="mode"):
            L.qr_multiply(a, b, mode="up")
        with pytest.raises(ValueError, match="compatible"):
            L.qr_multiply(a, _rand((3,)), mode="right")
        a3 = _rand((5, 3), seed=4)
        got, r, p = L.qr_multiply(a3, _rand((2, 5), seed=5), pivoting=True)
        want, r_want, p_want = sl.qr_multiply(a3, _rand((2, 5), seed=5), pivoting=True)
        np.testing.assert_array_equal(p, p_want)
        np.testing.assert_allclose(got, want, atol=1e-10)
        np.testing.assert_allclose(r, r_want, atol=1e-10)


@pytest.mark.parametrize("mode", ["full", "economic", "r"])
@pytest.mark.parametrize("shape", [(5, 3), (3, 5)])
def test_qr_pivoting_vs_scipy_and_jax(mode, shape):
    with _both_x64():
        a = _rand(shape, np.complex128)
        got = L.qr(a, mode=mode, pivoting=True)
        want = sl.qr(a, mode=mode, pivoting=True)
        jwant = JL.qr(a, mode=mode, pivoting=True)
        assert len(got) == len(want) == len(jwant)
        for g, w, j in zip(got, want, jwant):
            np.testing.assert_allclose(g, w, atol=1e-10)
            assert np.asarray(g).dtype == np.asarray(j).dtype
        if mode != "r":
            q, r, p = got
            np.testing.assert_allclose(np.asarray(q) @ np.asarray(r), a[:, np.asarray(p)],
                                       atol=1e-10)
            check_grads(lambda x: L.qr(x, mode="economic", pivoting=True)[:2], (a,), order=1,
                        modes=("fwd", "rev"))


def test_qr_multiply_gradients():
    with jaxel.config._override("jax_enable_x64", True):
        a, c = _rand((4, 3)), _rand((2, 4), seed=1)
        check_grads(lambda a, c: L.qr_multiply(a, c)[0], (a, c), order=1, modes=("fwd", "rev"))


# ---- solve_sylvester ------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["schur", "eigen"])
@pytest.mark.parametrize("dt", [np.float32, np.float64, np.complex128])
def test_solve_sylvester_vs_scipy(method, dt):
    with _both_x64():
        a, b, c = _rand((4, 4), dt), _rand((3, 3), dt, 1), _rand((4, 3), dt, 2)
        x = L.solve_sylvester(a, b, c, method=method)
        assert x.dtype == np.dtype(dt)
        tol = 1e-4 if dt == np.float32 else 1e-9
        np.testing.assert_allclose(x, sl.solve_sylvester(a, b, c), rtol=tol, atol=tol)
        np.testing.assert_allclose(np.asarray(x), np.asarray(
            JL.solve_sylvester(a, b, c, method=method)), rtol=tol, atol=tol)


def test_solve_sylvester_batched_singular_and_errors():
    with jaxel.config._override("jax_enable_x64", True):
        a, b, c = _rand((2, 3, 3)), _rand((2, 2, 2), seed=1), _rand((2, 3, 2), seed=2)
        x = L.solve_sylvester(a, b, c)
        for i in range(2):
            np.testing.assert_allclose(x[i], sl.solve_sylvester(a[i], b[i], c[i]), atol=1e-9)
        v = jaxel.vmap(L.solve_sylvester)(a, b, c)
        np.testing.assert_allclose(v, x, atol=1e-12)
        # A and -B share the eigenvalue 1: no unique solution, NaNs (as JAX)
        s = L.solve_sylvester(np.diag([1., 2.]), np.diag([-1., 5.]), np.ones((2, 2)))
        assert np.isnan(np.asarray(s)).all()
        with pytest.raises(ValueError, match="Incompatible"):
            L.solve_sylvester(a[0], b[0], c[0].T)
        with pytest.raises(ValueError, match="method"):
            L.solve_sylvester(a[0], b[0], c[0], method="qr")


@pytest.mark.parametrize("method", ["schur", "eigen"])
def test_solve_sylvester_gradients(method):
    with jaxel.config._override("jax_enable_x64", True):
        a, b, c = _rand((3, 3)), _rand((2, 2), seed=1), _rand((3, 2), seed=2)
        check_grads(lambda a, b, c: L.solve_sylvester(a, b, c, method=method), (a, b, c),
                    order=1, modes=("fwd", "rev"))


# ---- expm_frechet / eigh_tridiagonal --------------------------------------------------------------
def test_expm_frechet_vs_scipy_and_jax():
    with _both_x64():
        a, e = _rand((3, 3)) / 2, _rand((3, 3), seed=1)
        ea, la = L.expm_frechet(a, e)
        want_ea, want_la = sl.expm_frechet(a, e)
        np.testing.assert_allclose(ea, want_ea, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(la, want_la, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(L.expm_frechet(a, e, compute_expm=False),
                                   np.asarray(JL.expm_frechet(a, e, compute_expm=False)),
                                   rtol=1e-10, atol=1e-12)
        ab, eb = np.stack([a, 2 * a]), np.stack([e, -e])
        _, lb = L.expm_frechet(ab, eb)
        np.testing.assert_allclose(lb[1], sl.expm_frechet(2 * a, -e)[1], rtol=1e-10,
                                   atol=1e-12)
        with pytest.raises(ValueError, match="same shape"):
            L.expm_frechet(a, e[:2, :2])


@pytest.mark.parametrize("select,rng", [("a", None), ("i", (1, 2))])
def test_eigh_tridiagonal_vs_scipy(select, rng):
    with _both_x64():
        d, e = _rand((5,)), _rand((4,), seed=1)
        w = L.eigh_tridiagonal(d, e, eigvals_only=True, select=select, select_range=rng)
        want = sl.eigh_tridiagonal(d, e, eigvals_only=True, select=select, select_range=rng)
        np.testing.assert_allclose(w, want, atol=1e-10)
        np.testing.assert_allclose(w, np.asarray(JL.eigh_tridiagonal(
            d, e, eigvals_only=True, select=select, select_range=rng)), atol=1e-8)
        w, v = L.eigh_tridiagonal(d, e, select=select, select_range=rng)
        _, v_want = sl.eigh_tridiagonal(d, e, select=select, select_range=rng)
        signs = np.sign(np.sum(np.asarray(v) * v_want, axis=0))  # unique up to sign
        np.testing.assert_allclose(np.asarray(v) * signs, v_want, atol=1e-10)
        check_grads(lambda d, e: L.eigh_tridiagonal(d, e, eigvals_only=True), (d, e),
                    order=1, modes=("fwd", "rev"))
        with pytest.raises(NotImplementedError):
            L.eigh_tridiagonal(d, e, select="v", select_range=(0., 1.))
        with pytest.raises(ValueError):
            L.eigh_tridiagonal(d, e[:3])


@pytest.mark.parametrize("n", [1, 2, 5])
def test_rsf2csf_vs_scipy_and_jax(n):
    with _both_x64():
        a = _rand((n, n), seed=n)
        t, z = sl.schur(a)
        got_t, got_z = L.rsf2csf(t, z)
        want_t, want_z = sl.rsf2csf(t, z)
        np.testing.assert_allclose(got_t, want_t, atol=1e-10)
        np.testing.assert_allclose(got_z, want_z, atol=1e-10)
        jt, jz = JL.rsf2csf(t, z)
        assert got_t.dtype == jt.dtype == np.complex128
        np.testing.assert_allclose(got_t, np.asarray(jt), atol=1e-10)
        # a = z t zᴴ with t upper triangular
        np.testing.assert_allclose(np.asarray(got_z) @ np.asarray(got_t)
                                   @ np.conj(np.asarray(got_z).T), a, atol=1e-10)
        assert not np.tril(np.asarray(got_t), -1).any()


def test_rsf2csf_batched_float32_and_errors():
    a = _rand((2, 4, 4), np.float32)
    tz = [sl.schur(x) for x in a]
    t, z = L.rsf2csf(np.stack([x[0] for x in tz]), np.stack([x[1] for x in tz]))
    assert t.dtype == np.complex64
    for i in range(2):
        np.testing.assert_allclose(t[i], sl.rsf2csf(*tz[i])[0], atol=1e-4)
    with pytest.raises(ValueError, match="square"):
        L.rsf2csf(np.ones((2, 3)), np.eye(2))
    with pytest.raises(ValueError, match="match"):
        L.rsf2csf(np.eye(3), np.eye(2))


@pytest.mark.parametrize("dt", [np.float64, np.complex128, np.float32])
def test_funm_vs_scipy_and_jax(dt):
    with _both_x64():
        a = _rand((4, 4), dt, seed=3)
        f = L.funm(a, lambda x: jnp.sin(x) + 2 * jnp.cos(x))
        want = sl.funm(a.astype(np.complex128), lambda x: np.sin(x) + 2 * np.cos(x))
        tol = 1e-4 if dt == np.float32 else 1e-9
        np.testing.assert_allclose(f, want, rtol=tol, atol=tol)
        jf = JL.funm(a, lambda x: jax.numpy.sin(x) + 2 * jax.numpy.cos(x))
        assert f.dtype == jf.dtype
        np.testing.assert_allclose(f, np.asarray(jf), rtol=tol, atol=tol)
        np.testing.assert_allclose(L.funm(a, jnp.exp), sl.expm(a.astype(np.complex128)),
                                   rtol=tol, atol=tol)
        f2, err = L.funm(a, jnp.exp, disp=False)
        assert float(err) < 1e-3
        with pytest.raises(ValueError, match="square"):
            L.funm(a[:3], jnp.exp)
