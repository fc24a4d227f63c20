"""jax.lax.linalg's algorithm enums, qdwh and the newer primitives (cholesky_update,
lu_pivots_to_permutation, ormqr, symmetric_product, tridiagonal, tridiagonal_solve) beyond the
registry cases in cases_linalg.py: agreement with jax.lax.linalg and NumPy/SciPy, the
enums' effect on eig/eigh/svd, gradients against JAX's, singular systems and error classes."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sl

import jaxel
import jaxel.numpy as jnp
from jaxel.lax import linalg as L
from jaxel.test_util import check_grads

jax = pytest.importorskip("jax")
import jax.lax.linalg as JL  # noqa: E402


@pytest.fixture(autouse=True)
def x64():
    old = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    try:
        with jaxel.config._override("jax_enable_x64", True):
            yield
    finally:
        jax.config.update("jax_enable_x64", old)


def _rand(shape, dt=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    if np.dtype(dt).kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dt)


def _close(a, b, tol=1e-10):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


# ---- enums --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["EigImplementation", "EighImplementation", "SvdAlgorithm"])
def test_enums_match_jax(name):
    ours, theirs = getattr(L, name), getattr(JL, name)
    assert [(m.name, m.value) for m in ours] == [(m.name, m.value) for m in theirs]


@pytest.mark.parametrize("alg", ["DEFAULT", "QR", "DIVIDE_AND_CONQUER"])
def test_svd_algorithms(alg):
    a = _rand((5, 3))
    u, s, vh = L.svd(a, full_matrices=False, algorithm=L.SvdAlgorithm[alg])
    _close(s, np.linalg.svd(a, compute_uv=False))
    _close((np.asarray(u) * np.asarray(s)) @ np.asarray(vh), a)
    _close(L.svd(a, compute_uv=False, algorithm=L.SvdAlgorithm[alg]), s)
    ju, js, jvh = JL.svd(a, full_matrices=False, algorithm=JL.SvdAlgorithm[alg])
    _close(np.abs(np.asarray(u)), np.abs(np.asarray(ju)))  # same LAPACK driver as JAX's


def test_svd_qr_algorithm_gradient():
    a = _rand((4, 3))

    def f(x, alg):
        return L.svd(x, compute_uv=False, algorithm=alg).sum()
    _close(jaxel.grad(f)(a, L.SvdAlgorithm.QR), jaxel.grad(f)(a, None))


def test_unsupported_implementations_raise():
    a = _rand((3, 3))
    with pytest.raises(NotImplementedError):
        L.svd(a, algorithm=L.SvdAlgorithm.JACOBI)
    with pytest.raises(TypeError):
        L.svd(a, algorithm="QR")
    with pytest.raises(NotImplementedError):
        L.eigh(a, implementation=L.EighImplementation.JACOBI)
    with pytest.raises(ValueError, match="lapack"):
        L.eig(a, implementation=L.EigImplementation.MAGMA)
    v, w = L.eigh(a + a.T, implementation=L.EighImplementation.QR)
    _close(w, np.linalg.eigvalsh(a + a.T))
    (w,) = L.eig(a, compute_left_eigenvectors=False, compute_right_eigenvectors=False,
                 implementation=L.EigImplementation.LAPACK, enable_eigvec_derivs=False)
    _close(np.sort_complex(np.asarray(w)), np.sort_complex(np.linalg.eigvals(a)))


# ---- qdwh ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape,dt", [((5, 3), np.float64), ((4, 4), np.float32),
                                      ((4, 3), np.complex128)])
def test_qdwh_polar(shape, dt):
    x = _rand(shape, dt)
    u, h, k, ok = L.qdwh(x)
    tol = 1e-4 if dt == np.float32 else 1e-10
    assert bool(ok) and u.dtype == x.dtype and h.dtype == x.dtype
    up, hp = sl.polar(x.astype(np.complex128 if np.dtype(dt).kind == "c" else np.float64))
    _close(u, up, tol)
    _close(h, hp, tol)
    ju, jh, jk, jok = JL.qdwh(jax.numpy.asarray(x))
    assert int(k) == int(jk) and k.dtype == jk.dtype
    _close(u, ju, tol)


def test_qdwh_jit_options_and_errors():
    x = _rand((4, 3))
    u, h, k, ok = jaxel.jit(lambda x: L.qdwh(x, max_iterations=2))(x)
    assert int(k) == 2 and not bool(ok)  # stopped before converging
    xp = np.zeros((6, 4))
    xp[:4, :3] = x
    u2, h2, _, _ = L.qdwh(xp, dynamic_shape=(4, 3))
    up, hp = sl.polar(x)
    _close(np.asarray(u2)[:4, :3], up)
    _close(np.asarray(h2)[:3, :3], hp)
    assert not np.asarray(u2)[4:].any() and not np.asarray(h2)[3:].any()
    with pytest.raises(ValueError, match="M >= N"):
        L.qdwh(x.T)


def test_qdwh_vmap_and_gradients():
    x = _rand((3, 4, 3))
    u, h, k, ok = jaxel.vmap(L.qdwh)(x)
    for i in range(3):
        _close(u[i], sl.polar(x[i])[0])
    assert np.asarray(ok).all()
    # forward mode against JAX's; reverse mode too (JAX's unbounded while_loop has none)
    t = _rand((4, 3), seed=1)
    _, tu = jaxel.jvp(lambda a: L.qdwh(a)[0], (x[0],), (t,))
    _, jtu = jax.jvp(lambda a: JL.qdwh(a)[0], (x[0],), (t,))
    _close(tu, jtu, 1e-8)
    check_grads(lambda a: L.qdwh(a)[:2], (x[0],), order=1, modes=("fwd", "rev"))


# ---- cholesky_update / symmetric_product / lu_pivots_to_permutation -----------------------------
def test_cholesky_update_vs_jax_and_grad():
    a = _rand((4, 4))
    r = np.linalg.cholesky(a @ a.T + 4 * np.eye(4)).T
    w = _rand((4,), seed=1)
    out = L.cholesky_update(r, w)
    _close(out, np.linalg.cholesky(r.T @ r + np.outer(w, w)).T)
    _close(out, JL.cholesky_update(r, w))

    # JAX's cholesky_update has no derivative: compare with JAX's Cholesky of the updated
    # matrix (the same function of the upper triangle of r), and with finite differences.
    wts = np.arange(16.).reshape(4, 4)
    g = jaxel.grad(lambda r, w: (L.cholesky_update(r, w) * wts).sum(), argnums=(0, 1))(r, w)

    def via_cholesky(r, w):
        r = jax.numpy.triu(r)
        return (jax.numpy.linalg.cholesky(r.T @ r + jax.numpy.outer(w, w)).T * wts).sum()
    jg = jax.grad(via_cholesky, argnums=(0, 1))(r, w)
    _close(g[0], jg[0], 1e-8)
    _close(g[1], jg[1], 1e-8)
    check_grads(L.cholesky_update, (r, w), order=1, modes=("fwd", "rev"))
    with pytest.raises(TypeError):
        L.cholesky_update(r.astype(np.complex128), w.astype(np.complex128))
    with pytest.raises(ValueError):
        L.cholesky_update(r, w[:3])


def test_symmetric_product_vs_jax():
    a, c = _rand((2, 3, 4)), _rand((2, 3, 3), seed=1)
    for sym in (False, True):
        _close(L.symmetric_product(a, c, alpha=1.5, beta=-2., symmetrize_output=sym),
               JL.symmetric_product(a, c, alpha=1.5, beta=-2., symmetrize_output=sym))
    with pytest.raises(ValueError):
        L.symmetric_product(a, c[..., :2, :2])
    with pytest.raises(TypeError):
        L.symmetric_product(a.astype(np.complex128), c.astype(np.complex128))


def test_lu_pivots_to_permutation_matches_lu():
    a = _rand((3, 5, 4))
    _, piv, perm = L.lu(a)
    _close(L.lu_pivots_to_permutation(piv, 5), perm, 0)
    _close(L.lu_pivots_to_permutation(piv, 7), JL.lu_pivots_to_permutation(
        jax.numpy.asarray(np.asarray(piv)), 7), 0)
    with pytest.raises(ValueError, match="exceed"):
        L.lu_pivots_to_permutation(piv, 3)
    with pytest.raises(TypeError):
        L.lu_pivots_to_permutation(np.asarray(piv).astype(np.int64), 5)


# ---- ormqr --------------------------------------------------------------------------------------
@pytest.mark.parametrize("dt", [np.float64, np.complex128])
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("transpose", [False, True])
def test_ormqr_with_geqrf_reflectors(dt, left, transpose):
    x = _rand((5, 3), dt)
    qr_raw, taus = sl.lapack.get_lapack_funcs("geqrf", (x,))(x)[:2]
    q_full = np.linalg.qr(x, mode="complete")[0]
    q = np.conj(q_full.T) if transpose else q_full
    c = _rand((5, 2) if left else (2, 5), dt, 1)
    got = L.ormqr(qr_raw, taus, c, left=left, transpose=transpose)
    # numpy's complete Q comes from the same geqrf reflectors
    _close(got, q @ c if left else c @ q)
    _close(got, JL.ormqr(qr_raw, taus, c, left=left, transpose=transpose))


def test_ormqr_transpose_is_adjoint_and_errors():
    x = _rand((4, 3), np.complex128)
    a, taus = sl.lapack.zgeqrf(x)[:2]
    c = _rand((4, 2), np.complex128, 1)
    ct = _rand((4, 2), np.complex128, 2)
    _, vjp = jaxel.vjp(lambda c: L.ormqr(a, taus, c), c)
    (g,) = vjp(ct)
    # JAX's VJPs transpose without conjugating: <ct, Q c> = <Qᵀ ct, c>
    np.testing.assert_allclose(np.sum(ct * np.asarray(L.ormqr(a, taus, c))),
                               np.sum(np.asarray(g) * c), rtol=1e-10)
    with pytest.raises(ValueError, match="rows"):
        L.ormqr(a, taus, c.T)
    with pytest.raises(ValueError, match="reflectors"):
        L.ormqr(a[:, :2], taus, c)


# ---- tridiagonal / tridiagonal_solve ------------------------------------------------------------
@pytest.mark.parametrize("dt", [np.float64, np.complex128])
@pytest.mark.parametrize("lower", [True, False])
def test_tridiagonal_vs_jax_and_spectrum(dt, lower):
    a = _rand((2, 5, 5), dt)
    a = a + np.conj(np.swapaxes(a, -1, -2))
    packed, d, e, taus = L.tridiagonal(a, lower=lower)
    for ours, theirs in zip((packed, d, e, taus), JL.tridiagonal(a, lower=lower)):
        _close(ours, theirs)
    assert d.dtype == e.dtype == np.float64
    for i in range(2):  # similar matrices: the same eigenvalues
        t = np.diag(d[i]) + np.diag(e[i], 1) + np.diag(e[i], -1)
        _close(np.linalg.eigvalsh(t), np.linalg.eigvalsh(a[i]), 1e-9)
    with pytest.raises(NotImplementedError):
        jaxel.grad(lambda x: L.tridiagonal(x)[1].sum())(a[0].real)


def _tri(m, dt=np.float64, seed=0):
    dl, d, du = _rand((m,), dt, seed), _rand((m,), dt, seed + 1) + 4, _rand((m,), dt, seed + 2)
    return dl, d, du


def _dense(dl, d, du):
    return np.diag(d) + np.diag(dl[1:], -1) + np.diag(du[:-1], 1)


@pytest.mark.parametrize("dt", [np.float64, np.complex128])
def test_tridiagonal_solve_vs_scipy_and_jax(dt):
    dl, d, du = _tri(6, dt)
    b = _rand((6, 3), dt, 5)
    x = L.tridiagonal_solve(dl, d, du, b)
    ab = np.stack([np.r_[0, du[:-1]], d, np.r_[dl[1:], 0]])
    _close(x, sl.solve_banded((1, 1), ab, b))
    _close(x, JL.tridiagonal_solve(dl, d, du, b))
    _close(L.tridiagonal_solve(dl, d, du, b, perturb_singular=True), x)


def test_tridiagonal_solve_grad_vs_jax():
    dl, d, du = _tri(5)
    b = _rand((5, 2), seed=7)

    def loss(mod):
        return lambda *args: (mod.tridiagonal_solve(*args) ** 2).sum()
    g = jaxel.grad(loss(L), argnums=(0, 1, 2, 3))(dl, d, du, b)
    jg = jax.grad(loss(JL), argnums=(0, 1, 2, 3))(dl, d, du, b)
    for ours, theirs in zip(g, jg):
        _close(ours, theirs, 1e-9)


def test_tridiagonal_solve_singular_and_vmap():
    dl, d, du = np.zeros(3), np.array([1., 0., 1.]), np.zeros(3)
    b = np.ones((3, 1))
    assert np.isnan(np.asarray(L.tridiagonal_solve(dl, d, du, b))).all()
    assert np.isfinite(np.asarray(L.tridiagonal_solve(dl, d, du, b,
                                                      perturb_singular=True))).all()
    dls, ds, dus = (np.stack(v) for v in zip(_tri(4, seed=0), _tri(4, seed=3)))
    bs = _rand((2, 4, 1), seed=9)
    got = jaxel.vmap(L.tridiagonal_solve, in_axes=(0, 0, 0, 0))(dls, ds, dus, bs)
    for i in range(2):
        _close(got[i], np.linalg.solve(_dense(dls[i], ds[i], dus[i]), bs[i]))
    with pytest.raises(TypeError, match="same shape"):
        L.tridiagonal_solve(dl[:2], d, du, b)
    with pytest.raises(TypeError, match="leading"):
        L.tridiagonal_solve(dl, d, du, np.ones((4, 1)))


# ---- eig: eigenvector derivatives (enable_eigvec_derivs) ------------------------------------------
@pytest.mark.parametrize("dt", [np.float64, np.complex128])
@pytest.mark.parametrize("left,right", [(False, True), (True, True)])
def test_eig_eigenvector_derivatives_vs_jax(dt, left, right):
    a, t = _rand((2, 4, 4), dt), _rand((2, 4, 4), dt, 1)

    def f(mod):
        return lambda x: mod.eig(x, compute_left_eigenvectors=left,
                                 compute_right_eigenvectors=right, enable_eigvec_derivs=True)
    _, tangents = jaxel.jvp(f(L), (a,), (t,))
    _, jtangents = jax.jvp(f(JL), (a,), (t,))
    for ours, theirs in zip(tangents, jtangents):
        _close(ours, theirs, 1e-8)
    # and central differences of the (normalised) eigenvectors, on a matrix with real,
    # well-separated eigenvalues (conjugate pairs of a real matrix make the differences
    # jump between LAPACK's choices)
    if dt == np.float64:
        a = 0.3 * a + np.diag(3.0 * np.arange(4))
    _, tangents = jaxel.jvp(f(L), (a,), (t,))
    h = 1e-6
    plus, minus = f(L)(a + h * t), f(L)(a - h * t)
    for p, m, ours in zip(plus, minus, tangents):
        _close((np.asarray(p) - np.asarray(m)) / (2 * h), ours, 1e-6)

    g = jaxel.grad(lambda x: sum(jnp.real(v[..., :2, :] ** 2).sum() for v in f(L)(x)[1:]))(a)
    jg = jax.grad(lambda x: sum(jax.numpy.real(v[..., :2, :] ** 2).sum()
                                for v in f(JL)(x)[1:]))(a)
    _close(g, jg, 1e-8)


def test_eig_eigenvector_derivatives_need_opt_in():
    a = _rand((3, 3))
    with pytest.raises(NotImplementedError, match="enable_eigvec_derivs"):
        jaxel.jvp(lambda x: L.eig(x)[2], (a,), (a,))
