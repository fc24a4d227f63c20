"""jaxel.scipy.linalg against scipy.linalg (values), check_grads (expm, solve_triangular,
cho_solve, lu_solve, generalised eigh), vmap/jit, and agreement with jax.scipy.linalg."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sl

import jaxel
import jaxel.numpy as jnp
from jaxel.scipy import linalg as L
from jaxel.test_util import check_grads


def _rand(shape, dt=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    if np.dtype(dt).kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dt)


def _spd(n, dt=np.float64, seed=0):
    a = _rand((n, n), dt, seed)
    return (a @ np.conj(a.T) + n * np.eye(n)).astype(dt)


def _close(got, want, tol=1e-10):
    np.testing.assert_allclose(np.asarray(got), want, rtol=tol, atol=tol)


@pytest.fixture(autouse=True)
def x64():
    with jaxel.config._override("jax_enable_x64", True):
        yield


DT = [np.float64, np.complex128]


@pytest.mark.parametrize("dt", DT)
@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.parametrize("trans", [0, 1, 2, "T"])
@pytest.mark.parametrize("unit", [False, True])
def test_solve_triangular(dt, lower, trans, unit):
    a = _rand((4, 4), dt) + 4 * np.eye(4)
    b = _rand((4, 3), dt, 1)
    _close(L.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit),
           sl.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit))
    _close(L.solve_triangular(a, b[:, 0], trans=trans, lower=lower, unit_diagonal=unit),
           sl.solve_triangular(a, b[:, 0], trans=trans, lower=lower, unit_diagonal=unit))


def test_solve_triangular_float32_and_batched():
    a = (_rand((2, 3, 3), np.float32) + 4 * np.eye(3)).astype(np.float32)
    b = _rand((2, 3, 2), np.float32, 1)
    x = L.solve_triangular(a, b, lower=True)
    assert x.dtype == np.float32
    want = np.stack([sl.solve_triangular(a[i], b[i], lower=True) for i in range(2)])
    np.testing.assert_allclose(np.asarray(x), want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dt", DT)
@pytest.mark.parametrize("lower", [True, False])
def test_cholesky_cho_factor_cho_solve(dt, lower):
    a = _spd(4, dt)
    b = _rand((4, 2), dt, 1)
    _close(L.cholesky(a, lower=lower), sl.cholesky(a, lower=lower))
    c, lw = L.cho_factor(a, lower=lower)
    assert lw == lower
    _close(L.cho_solve((c, lw), b), sl.cho_solve(sl.cho_factor(a, lower=lower), b))
    _close(L.cho_solve((c, lw), b[:, 0]), np.linalg.solve(a, b[:, 0]))


@pytest.mark.parametrize("shape", [(4, 4), (3, 5), (5, 3)])
@pytest.mark.parametrize("dt", DT)
def test_lu(shape, dt):
    a = _rand(shape, dt)
    for g, w in zip(L.lu(a), sl.lu(a)):
        _close(g, w)
    for g, w in zip(L.lu(a, permute_l=True), sl.lu(a, permute_l=True)):
        _close(g, w)


@pytest.mark.parametrize("dt", DT)
@pytest.mark.parametrize("trans", [0, 1, 2])
def test_lu_factor_lu_solve(dt, trans):
    a = _rand((5, 5), dt)
    b = _rand((5, 2), dt, 1)
    lu, piv = L.lu_factor(a)
    LU, PIV = sl.lu_factor(a)
    _close(lu, LU)
    np.testing.assert_array_equal(np.asarray(piv), PIV)
    _close(L.lu_solve((lu, piv), b, trans=trans), sl.lu_solve((LU, PIV), b, trans=trans))
    _close(L.lu_solve((lu, piv), b[:, 1], trans=trans),
           sl.lu_solve((LU, PIV), b[:, 1], trans=trans))


@pytest.mark.parametrize("assume_a", ["gen", "sym", "pos"])
def test_solve(assume_a):
    a = _spd(4)
    b = _rand((4, 3), seed=1)
    _close(L.solve(a, b, assume_a=assume_a), sl.solve(a, b, assume_a=assume_a))
    _close(L.solve(a, b[:, 0], assume_a=assume_a, lower=True),
           sl.solve(a, b[:, 0], assume_a=assume_a, lower=True))


def test_det_inv_svd_qr():
    a = _rand((4, 4))
    _close(L.det(a), sl.det(a))
    _close(L.inv(a), sl.inv(a))
    _close(L.svd(a, compute_uv=False), sl.svd(a, compute_uv=False))
    u, s, vh = L.svd(a)
    _close((np.asarray(u) * np.asarray(s)) @ np.asarray(vh), a)
    for mode in ("full", "economic"):
        q, r = L.qr(_rand((5, 3)), mode=mode)
        Q, R = sl.qr(_rand((5, 3)), mode=mode)
        assert q.shape == Q.shape and r.shape == R.shape
        _close(np.abs(np.asarray(r)), np.abs(R))
    (r,) = L.qr(a, mode="r")
    _close(np.abs(np.asarray(r)), np.abs(sl.qr(a, mode="r")[0]))


@pytest.mark.parametrize("dt", DT)
def test_eigh(dt):
    a = _rand((4, 4), dt)
    a = a + np.conj(a.T)
    b = _spd(4, dt, 2)
    _close(L.eigh(a, eigvals_only=True), sl.eigh(a, eigvals_only=True))
    w, v = L.eigh(a, b)
    W, V = sl.eigh(a, b)
    _close(w, W)
    v = np.asarray(v)
    _close(a @ v, (b @ v) * W)
    _close(np.conj(v.T) @ b @ v, np.eye(4))


@pytest.mark.parametrize("dt", DT + [np.float32])
@pytest.mark.parametrize("scale", [0.01, 1.0, 10.0, 60.0])
def test_expm(dt, scale):
    if dt == np.float32 and scale > 10:
        pytest.skip("the result overflows float32")
    a = _rand((5, 5), dt) * scale
    want = sl.expm(a.astype(np.complex128 if np.dtype(dt).kind == "c" else np.float64))
    got = np.asarray(L.expm(a))
    assert got.dtype == dt
    tol = 1e-5 if dt == np.float32 else 1e-12
    np.testing.assert_allclose(got, want, rtol=tol * 50, atol=tol * np.abs(want).max())


def test_expm_special():
    _close(L.expm(np.array([[0., 1.], [0., 0.]])), [[1., 1.], [0., 1.]])
    _close(L.expm(np.zeros((3, 3))), np.eye(3))
    r = L.expm(np.array([[0., -np.pi], [np.pi, 0.]]))
    _close(r, [[-1., 0.], [0., -1.]], 1e-12)
    assert np.isnan(np.asarray(L.expm(np.full((2, 2), np.inf)))).all()
    assert np.isnan(np.asarray(L.expm(1e8 * np.eye(2), max_squarings=4))).all()
    assert L.expm(np.zeros((0, 0))).shape == (0, 0)
    _close(L.expm(np.zeros((2, 3, 3))), np.broadcast_to(np.eye(3), (2, 3, 3)))


def test_sqrtm():
    a = _spd(4)
    got = L.sqrtm(a)
    assert got.dtype == np.complex128
    _close(got, sl.sqrtm(a))
    # a general real matrix whose spectrum avoids the negative real axis
    b = _rand((4, 4), seed=3) + 3 * np.eye(4)
    _close(L.sqrtm(b), sl.sqrtm(b.astype(np.complex128)), 1e-9)
    c = _rand((3, 3), np.complex128, 4) + 3 * np.eye(3)
    x = np.asarray(L.sqrtm(c))
    _close(x @ x, c, 1e-9)
    _close(x, sl.sqrtm(c), 1e-9)


@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("method", ["qdwh", "svd"])
def test_polar(side, method):
    a = _rand((4, 3) if side == "right" else (3, 4))
    u, p = L.polar(a, side, method=method)
    U, P = sl.polar(a, side)
    _close(u, U)
    _close(p, P)


def test_block_diag():
    args = (np.ones((2, 2)), 3.0, np.arange(3.0), np.zeros((1, 0)))
    _close(L.block_diag(*args), sl.block_diag(*args))
    assert L.block_diag(np.ones((1, 1), np.int32), np.ones((2, 1), np.int32)).dtype == np.int32


@pytest.mark.parametrize("dt", DT + [np.float32, np.complex64])
@pytest.mark.parametrize("output", ["real", "complex"])
def test_schur(dt, output):
    a = _rand((5, 5), dt)
    t, z = L.schur(a, output=output)
    T, Z = sl.schur(a, output=output)
    want_dt = np.dtype(dt) if output == "real" else np.result_type(dt, np.complex64)
    assert t.dtype == want_dt and z.dtype == want_dt
    tol = 1e-4 if dt in (np.float32, np.complex64) else 1e-10
    t, z = np.asarray(t), np.asarray(z)
    _close(z @ t @ np.conj(z.T), a, tol)
    _close(np.conj(z.T) @ z, np.eye(5), tol)
    _close(np.tril(t, -1 if np.iscomplexobj(t) else -2), np.zeros((5, 5)), tol)
    # the same LAPACK algorithm: equal up to rounding
    _close(t, T, tol * 10)


@pytest.mark.parametrize("dt", DT + [np.float32])
def test_hessenberg(dt):
    a = _rand((6, 6), dt)
    h, q = L.hessenberg(a, calc_q=True)
    H, Q = sl.hessenberg(a, calc_q=True)
    tol = 1e-4 if dt == np.float32 else 1e-10
    _close(h, H, tol)
    _close(q, Q, tol)
    _close(L.hessenberg(a), H, tol)
    hb = jaxel.vmap(L.hessenberg)(np.stack([a, 2 * a]))
    _close(hb[1], sl.hessenberg(2 * a), tol * 10)
    assert L.hessenberg(np.ones((1, 1)), calc_q=True)[1].shape == (1, 1)


# ---- derivatives ----------------------------------------------------------------------------------
def test_grads_expm():
    a = _rand((3, 3)) * 0.5
    check_grads(L.expm, (a,), order=2, modes=("fwd", "rev"))
    check_grads(L.expm, (a * 10,), order=1, modes=("fwd", "rev"), atol=1e-4, rtol=1e-4)
    check_grads(L.expm, (_rand((3, 3), np.complex128, 1),), order=1, modes=("fwd", "rev"))
    # d/dt expm(t A) = A expm(t A)
    g = jaxel.jvp(lambda t: L.expm(t * a), (1.0,), (1.0,))[1]
    _close(g, a @ sl.expm(a), 1e-10)


@pytest.mark.parametrize("trans", [0, 1])
@pytest.mark.parametrize("lower", [True, False])
def test_grads_solve_triangular(trans, lower):
    a = _rand((3, 3)) + 4 * np.eye(3)
    b = _rand((3, 2), seed=1)
    check_grads(lambda a, b: L.solve_triangular(a, b, trans=trans, lower=lower), (a, b),
                order=2, modes=("fwd", "rev"))


@pytest.mark.parametrize("lower", [True, False])
def test_grads_cho_solve(lower):
    c = np.linalg.cholesky(_spd(3))
    c = c if lower else c.T
    b = _rand((3, 2), seed=1)
    check_grads(lambda c, b: L.cho_solve((c, lower), b), (c, b), order=2, modes=("fwd", "rev"))
    check_grads(lambda a, b: L.cho_solve(L.cho_factor(a, lower=lower), b), (_spd(3), b),
                order=1, modes=("fwd", "rev"))


@pytest.mark.parametrize("trans", [0, 1, 2])
def test_grads_lu_solve(trans):
    a = _rand((4, 4))
    b = _rand((4, 2), seed=1)
    lu, piv = L.lu_factor(a)
    check_grads(lambda lu, b: L.lu_solve((lu, piv), b, trans=trans), (np.asarray(lu), b),
                order=2, modes=("fwd", "rev"))
    check_grads(lambda a, b: L.lu_solve(L.lu_factor(a), b, trans=trans), (a, b), order=1,
                modes=("fwd", "rev"))


def test_grads_generalized_eigh():
    a = _rand((3, 3))
    b = _spd(3, seed=2)
    check_grads(lambda a, b: L.eigh(a + a.T, b, eigvals_only=True), (a, b), order=1,
                modes=("fwd", "rev"))


# ---- transformations ------------------------------------------------------------------------------
def test_vmap_jit():
    a = _rand((3, 4, 4)) * 0.7
    b = _rand((3, 4, 2), seed=1)
    want = np.stack([sl.expm(x) for x in a])
    _close(jaxel.vmap(L.expm)(a), want, 1e-12)
    _close(jaxel.jit(L.expm)(a), want, 1e-12)
    _close(jaxel.vmap(L.expm, in_axes=2)(np.moveaxis(a, 0, 2)), want, 1e-12)
    lu_piv = jaxel.vmap(L.lu_factor)(a)
    x = jaxel.vmap(lambda f0, f1, b: L.lu_solve((f0, f1), b))(*lu_piv, b)
    _close(x, np.linalg.solve(a, b))
    t = np.tril(a) + 4 * np.eye(4)
    x = jaxel.jit(jaxel.vmap(lambda t, b: L.solve_triangular(t, b, lower=True)))(t, b)
    _close(x, np.linalg.solve(t, b))
    s = np.stack([_spd(4, seed=i) for i in range(3)])
    x = jaxel.vmap(lambda s, b: L.cho_solve(L.cho_factor(s), b))(s, b)
    _close(x, np.linalg.solve(s, b))
    _close(jaxel.vmap(L.sqrtm)(s), np.stack([sl.sqrtm(x) for x in s]), 1e-9)


def test_agrees_with_jax():
    jax = pytest.importorskip("jax")
    jsl = jax.scipy.linalg
    a32 = (_rand((4, 4)) * 2).astype(np.float32)
    b32 = _rand((4, 2), seed=1).astype(np.float32)
    np.testing.assert_allclose(np.asarray(L.expm(a32)), np.asarray(jsl.expm(a32)), rtol=1e-5,
                               atol=1e-5)
    f = L.lu_factor(a32)
    jf = jsl.lu_factor(a32)
    np.testing.assert_array_equal(np.asarray(f[1]), np.asarray(jf[1]))
    np.testing.assert_allclose(np.asarray(L.lu_solve(f, b32)), np.asarray(jsl.lu_solve(jf, b32)),
                               rtol=1e-5, atol=1e-5)
    for got, want in zip(L.lu(a32), jsl.lu(a32)):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-6, atol=1e-6)
    s = _spd(4).astype(np.float32)
    np.testing.assert_allclose(np.asarray(L.cho_solve(L.cho_factor(s), b32)),
                               np.asarray(jsl.cho_solve(jsl.cho_factor(s), b32)), rtol=1e-5,
                               atol=1e-5)
    np.testing.assert_allclose(np.asarray(L.sqrtm(s)), np.asarray(jsl.sqrtm(s)), rtol=1e-4,
                               atol=1e-4)
    assert L.sqrtm(s).dtype == jsl.sqrtm(s).dtype
    g = jaxel.grad(lambda x: jnp.sum(L.expm(x) ** 2))(a32)
    jg = jax.grad(lambda x: jax.numpy.sum(jsl.expm(x) ** 2))(a32)
    np.testing.assert_allclose(np.asarray(g), np.asarray(jg), rtol=1e-3, atol=1e-3)


def test_schur_hessenberg_agree_with_jax():
    jax = pytest.importorskip("jax")
    from jaxel.lax import linalg as LL
    a = _rand((2, 5, 5), np.float32, 7)
    for got, want in zip(LL.hessenberg(a), jax.lax.linalg.hessenberg(a)):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-6, atol=1e-6)
    p, t = LL.hessenberg(a)
    np.testing.assert_allclose(
        np.asarray(LL.householder_product(p[..., 1:, :-1], t)),
        np.asarray(jax.lax.linalg.householder_product(np.asarray(p)[..., 1:, :-1],
                                                      np.asarray(t))), rtol=1e-6, atol=1e-6)
    for out in ("real", "complex"):
        for got, want in zip(L.schur(a[0], output=out), jax.scipy.linalg.schur(a[0], output=out)):
            np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-5)
    with pytest.raises(NotImplementedError, match="not differentiable"):
        jaxel.grad(lambda x: jnp.sum(L.schur(x)[0]))(a[0])
