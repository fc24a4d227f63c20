"""``jaxel.numpy.linalg`` against NumPy (float32, float64, complex64; batch shapes), gradients
against finite differences (``check_grads`` in float64), ``vmap``, jit, clear errors, and
agreement with JAX where it is installed.

Matrices are made well conditioned (a multiple of the identity is added), Hermitian inputs for
eigh are symmetrised, and decompositions unique only up to phases are compared through
phase-free quantities (reconstructions, projections, |entries|).
"""
from __future__ import annotations

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel.test_util import check_grads

F32, F64, C64 = np.float32, np.float64, np.complex64
DTYPES = [F32, F64, C64]
BATCHES = [(), (3,), (2, 2)]


def _x64(dt):
    return jaxel.config._override("jax_enable_x64", True) if np.dtype(dt) == F64 else _Null()


class _Null:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def _rand(shape, dt, seed=0):
    rng = np.random.default_rng(seed + sum(shape) * 7 + len(shape))
    x = rng.standard_normal(shape)
    if np.dtype(dt).kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dt)


def _well(shape, dt, seed=0):
    """A well-conditioned square (or rectangular) matrix stack."""
    a = _rand(shape, dt, seed)
    n = min(shape[-2:])
    eye = np.zeros(shape[-2:])
    eye[np.arange(n), np.arange(n)] = 1
    return (a + 2 * np.sqrt(n) * eye).astype(dt)


def _herm(shape, dt, seed=0):
    a = _rand(shape, dt, seed)
    return ((a + np.conj(np.swapaxes(a, -1, -2))) / 2).astype(dt)


def _spd(shape, dt, seed=0):
    a = _rand(shape, dt, seed)
    n = shape[-1]
    return (a @ np.conj(np.swapaxes(a, -1, -2)) + n * np.eye(n)).astype(dt)


def _tol(dt):
    return (1e-9, 1e-9) if np.dtype(dt) == F64 else (2e-4, 2e-4)


def _close(got, want, dt, scale=1.0):
    rtol, atol = _tol(dt)
    got = np.asarray(got)
    assert got.shape == np.shape(want), f"shape {got.shape} != {np.shape(want)}"
    np.testing.assert_allclose(got, want, rtol=rtol * scale, atol=atol * scale)


def _H(x):
    return np.conj(np.swapaxes(x, -1, -2))


# ---- values against NumPy ------------------------------------------------------------------------
@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("batch", BATCHES)
def test_solve_inv_det_slogdet(dt, batch):
    with _x64(dt):
        a = _well(batch + (4, 4), dt)
        b = _rand(batch + (4, 2), dt, 1)
        x = jnp.linalg.solve(a, b)
        assert x.dtype == dt
        _close(x, np.linalg.solve(a, b), dt, 10)
        _close(jnp.linalg.inv(a), np.linalg.inv(a), dt, 10)
        _close(jnp.linalg.det(a), np.linalg.det(a), dt, 10)
        sign, logdet = jnp.linalg.slogdet(a)
        s2, l2 = np.linalg.slogdet(a)
        _close(sign, s2, dt, 10)
        _close(logdet, l2, dt, 10)
        v = _rand((4,), dt, 2)
        _close(jnp.linalg.solve(a, v), np.linalg.solve(a, v[..., None])[..., 0] if batch
               else np.linalg.solve(a, v), dt, 10)


def test_solve_broadcasts_batch_axes():
    a = _well((3, 1, 4, 4), F32)
    b = _rand((2, 4, 5), F32)
    _close(jnp.linalg.solve(a, b), np.linalg.solve(a, b), F32, 10)


def test_det_of_singular_and_permuted_matrices():
    p = np.eye(3, dtype=F32)[[1, 0, 2]]
    assert float(jnp.linalg.det(p)) == pytest.approx(-1.0)
    s = np.array([[1, 2], [2, 4]], F32)
    assert float(jnp.linalg.det(s)) == pytest.approx(0.0, abs=1e-6)
    sign, logdet = jnp.linalg.slogdet(np.zeros((2, 2), F32))
    assert float(sign) == 0 and float(logdet) == -np.inf
    assert jnp.linalg.det(np.eye(3, dtype=np.int32)).dtype == np.float32


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("batch", BATCHES)
def test_cholesky(dt, batch):
    with _x64(dt):
        a = _spd(batch + (4, 4), dt)
        L = jnp.linalg.cholesky(a)
        _close(L, np.linalg.cholesky(a), dt, 10)
        U = jnp.linalg.cholesky(a, upper=True)
        _close(U, _H(np.linalg.cholesky(a)), dt, 10)


def test_cholesky_not_positive_definite_is_nan():
    L = np.asarray(jnp.linalg.cholesky(-np.eye(3, dtype=F32)))
    assert np.isnan(np.tril(L)[np.tril_indices(3)]).all()  # as JAX: NaN, upper part zero


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4), (2, 5, 3)])
@pytest.mark.parametrize("mode", ["reduced", "complete", "r"])
def test_qr(dt, shape, mode):
    with _x64(dt):
        a = _rand(shape, dt)
        out = jnp.linalg.qr(a, mode=mode)
        r_np = np.linalg.qr(a, mode=mode if mode != "r" else "r")
        if mode == "r":
            assert out.shape == r_np.shape
            _close(np.abs(out), np.abs(r_np), dt, 10)
            return
        q, r = out
        qn, rn = r_np
        assert q.shape == qn.shape and r.shape == rn.shape
        _close(q @ r, a, dt, 10)
        k = q.shape[-1]
        _close(_H(np.asarray(q)) @ np.asarray(q), np.broadcast_to(np.eye(k), q.shape[:-2] + (k, k)),
               dt, 10)
        _close(np.asarray(r), np.triu(np.asarray(r)), dt)
        _close(np.abs(r), np.abs(rn), dt, 10)


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("batch", BATCHES)
def test_eigh_eigvalsh(dt, batch):
    with _x64(dt):
        a = _herm(batch + (5, 5), dt)
        w, v = jnp.linalg.eigh(a)
        wn, vn = np.linalg.eigh(a)
        assert w.dtype == np.dtype(dt).type(0).real.dtype
        _close(w, wn, dt, 10)
        _close(np.abs(_H(np.asarray(v)) @ vn), np.abs(_H(vn) @ vn), dt, 100)
        _close((np.asarray(v) * np.asarray(w)[..., None, :]) @ _H(np.asarray(v)), a, dt, 10)
        _close(jnp.linalg.eigvalsh(a), wn, dt, 10)
        wu, _ = jnp.linalg.eigh(np.triu(a), UPLO="U", symmetrize_input=False)
        _close(wu, wn, dt, 10)


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4), (2, 3, 4, 3)])
@pytest.mark.parametrize("full", [True, False])
def test_svd(dt, shape, full):
    with _x64(dt):
        a = _rand(shape, dt)
        u, s, vh = jnp.linalg.svd(a, full_matrices=full)
        un, sn, vhn = np.linalg.svd(a, full_matrices=full)
        assert (u.shape, s.shape, vh.shape) == (un.shape, sn.shape, vhn.shape)
        _close(s, sn, dt, 10)
        k = s.shape[-1]
        recon = (np.asarray(u)[..., :, :k] * np.asarray(s)[..., None, :]) @ np.asarray(vh)[..., :k, :]
        _close(recon, a, dt, 10)
        _close(jnp.linalg.svd(a, compute_uv=False), sn, dt, 10)
        _close(jnp.linalg.svdvals(a), sn, dt, 10)


@pytest.mark.parametrize("dt", DTYPES)
def test_pinv_lstsq_rank_cond(dt):
    with _x64(dt):
        a = _rand((6, 4), dt)
        b = _rand((6, 2), dt, 1)
        _close(jnp.linalg.pinv(a), np.linalg.pinv(a), dt, 10)
        _close(jnp.linalg.pinv(_rand((2, 3, 4), dt)), np.linalg.pinv(_rand((2, 3, 4), dt)), dt,
               10)
        x, resid, rank, s = jnp.linalg.lstsq(a, b)
        xn, rn, kn, sn = np.linalg.lstsq(a, b, rcond=None)
        _close(x, xn, dt, 10)
        _close(resid, rn, dt, 10)
        assert int(rank) == kn
        _close(s, sn, dt, 10)
        low = _rand((5, 2), dt) @ _rand((2, 5), dt, 3)
        assert int(jnp.linalg.matrix_rank(low)) == 2
        np.testing.assert_array_equal(jnp.linalg.matrix_rank(np.stack([low, np.eye(5, dtype=dt)])),
                                      [2, 5])
        sq = _well((4, 4), dt)
        for p in (None, 2, -2, 1, -1, np.inf, -np.inf, "fro", "nuc"):
            _close(jnp.linalg.cond(sq, p), np.linalg.cond(sq, p), dt, 100)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, -1, -3])
def test_matrix_power(n):
    a = _well((2, 3, 3), F32)
    _close(jnp.linalg.matrix_power(a, n), np.linalg.matrix_power(a, n), F32, 50)


@pytest.mark.parametrize("dt", DTYPES)
def test_norms(dt):
    with _x64(dt):
        x = _rand((2, 3, 4), dt)
        _close(jnp.linalg.norm(x), np.linalg.norm(x), dt)
        for ord_ in (None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf):
            _close(jnp.linalg.norm(x, ord_, axis=(1, 2)), np.linalg.norm(x, ord_, axis=(1, 2)),
                   dt, 10)
            _close(jnp.linalg.norm(x, ord_, axis=(2, 0), keepdims=True),
                   np.linalg.norm(x, ord_, axis=(2, 0), keepdims=True), dt, 10)
        for ord_ in (None, 0, 1, 2, 3, 0.5, np.inf, -np.inf):
            _close(jnp.linalg.norm(x, ord_, axis=1), np.linalg.norm(x, ord_, axis=1), dt, 10)
        _close(jnp.linalg.vector_norm(x), np.linalg.norm(x.ravel()), dt)
        _close(jnp.linalg.vector_norm(x, axis=(0, 2), ord=1),
               np.sum(np.abs(x), axis=(0, 2)), dt)
        _close(jnp.linalg.matrix_norm(x), np.linalg.norm(x, axis=(-2, -1)), dt)
        _close(jnp.linalg.matrix_norm(x, ord=2), np.linalg.norm(x, 2, axis=(-2, -1)), dt, 10)
        v = _rand((5,), dt)
        _close(jnp.linalg.norm(v, 3), np.linalg.norm(v, 3), dt)
        m = _rand((3, 4), dt)
        _close(jnp.linalg.norm(m, 1), np.linalg.norm(m, 1), dt)


def test_products_and_helpers():
    a, b, c, d = (_rand(s, F32, i) for i, s in enumerate([(3, 5), (5, 8), (8, 2), (2,)]))
    _close(jnp.linalg.multi_dot([a, b, c]), np.linalg.multi_dot([a, b, c]), F32, 10)
    _close(jnp.linalg.multi_dot([a[0], b, c, d]), np.linalg.multi_dot([a[0], b, c, d]), F32, 10)
    t = _well((6, 6), F32).reshape(6, 2, 3)
    _close(jnp.linalg.tensorinv(t, 1), np.linalg.tensorinv(t, 1), F32, 10)
    t2 = _well((6, 6), F32).reshape(2, 3, 6)
    rhs = _rand((2, 3), F32)
    _close(jnp.linalg.tensorsolve(t2, rhs), np.linalg.tensorsolve(t2, rhs), F32, 10)
    x, y = _rand((4,), F32), _rand((3,), F32)
    _close(jnp.linalg.outer(x, y), np.outer(x, y), F32)
    u, w = _rand((2, 3), F32), _rand((2, 3), F32, 1)
    _close(jnp.linalg.cross(u, w), np.cross(u, w), F32)
    _close(jnp.linalg.cross(u.T, w.T, axis=0), np.cross(u.T, w.T, axis=0), F32)
    m = _rand((2, 4, 4), F32)
    _close(jnp.linalg.trace(m), np.trace(m, axis1=-2, axis2=-1), F32)
    _close(jnp.linalg.trace(m, offset=1), np.trace(m, 1, axis1=-2, axis2=-1), F32)
    _close(jnp.linalg.diagonal(m, offset=-1), np.diagonal(m, -1, -2, -1), F32)
    _close(jnp.linalg.matmul(m, m), m @ m, F32, 10)
    _close(jnp.linalg.vecdot(u, w), np.sum(u * w, -1), F32)
    _close(jnp.linalg.matrix_transpose(m), np.swapaxes(m, -1, -2), F32)
    _close(jnp.linalg.tensordot(m, m[0], axes=2), np.tensordot(m, m[0], 2), F32, 10)


# ---- errors --------------------------------------------------------------------------------------
def test_errors():
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        jnp.linalg.inv(np.ones((2, 3), F32))
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        jnp.linalg.det(np.ones((2, 3), F32))
    with pytest.raises(ValueError, match="square"):
        jnp.linalg.cholesky(np.ones((2, 3), F32))
    with pytest.raises(TypeError, match="float16"):
        jnp.linalg.inv(np.eye(3, dtype=np.float16))
    with pytest.raises(ValueError, match="solve"):
        jnp.linalg.solve(np.eye(3, dtype=F32), np.ones((2, 3), F32))
    with pytest.raises(ValueError, match="mode"):
        jnp.linalg.qr(np.eye(3, dtype=F32), mode="bogus")
    with pytest.raises(TypeError, match="integer"):
        jnp.linalg.matrix_power(np.eye(3, dtype=F32), 1.5)


# ---- transformations -----------------------------------------------------------------------------
def test_jit_and_vmap():
    a = _well((4, 3, 3), F32)
    b = _rand((4, 3, 2), F32)
    _close(jaxel.jit(jnp.linalg.solve)(a, b), np.linalg.solve(a, b), F32, 10)
    _close(jaxel.vmap(jnp.linalg.solve)(a, b), np.linalg.solve(a, b), F32, 10)
    _close(jaxel.vmap(jnp.linalg.solve, in_axes=(None, 0))(a[0], b),
           np.linalg.solve(a[0], b), F32, 10)
    _close(jaxel.vmap(jnp.linalg.det, in_axes=2)(np.moveaxis(a, 0, 2)), np.linalg.det(a), F32, 10)
    _close(jaxel.vmap(jnp.linalg.inv)(a), np.linalg.inv(a), F32, 10)
    h = _herm((4, 3, 3), F32)
    _close(jaxel.vmap(jnp.linalg.eigvalsh)(h), np.linalg.eigvalsh(h), F32, 10)
    _close(jaxel.vmap(jnp.linalg.svdvals, in_axes=1)(np.moveaxis(b, 0, 1)),
           np.linalg.svd(b, compute_uv=False), F32, 10)
    _close(jaxel.vmap(lambda x: jnp.linalg.cholesky(x @ x.T + 3 * jnp.eye(3)))(a),
           np.linalg.cholesky(a @ np.swapaxes(a, -1, -2) + 3 * np.eye(3)), F32, 10)


# ---- gradients -----------------------------------------------------------------------------------
def _grad_case(fn, *args, modes=("fwd", "rev")):
    with jaxel.config._override("jax_enable_x64", True):
        check_grads(fn, args, order=1, modes=modes, atol=1e-5, rtol=1e-5)


def _phase_free_vectors(v):
    """|entries| of unit vectors: invariant to each column's sign/phase."""
    return jnp.abs(v)


def test_grad_solve_inv_det_slogdet():
    a = _well((3, 3), F64)
    b = _rand((3, 2), F64, 1)
    _grad_case(jnp.linalg.solve, a, b)
    _grad_case(jnp.linalg.inv, a)
    _grad_case(jnp.linalg.det, a)
    _grad_case(lambda x: jnp.linalg.slogdet(x).logabsdet, a)
    _grad_case(jnp.linalg.det, _well((2, 3, 3), F64))


def test_grad_cholesky():
    _grad_case(lambda x: jnp.linalg.cholesky(x @ x.T + 3 * jnp.eye(3, dtype=x.dtype)),
               _rand((3, 3), F64))


@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (3, 4)])
def test_grad_qr(shape):
    def f(x):
        q, r = jnp.linalg.qr(x)
        d = jnp.sign(jnp.diagonal(r))[: q.shape[-1]]
        return q * d, r * d[:, None]
    _grad_case(f, _rand(shape, F64))


def test_grad_eigh():
    a = _herm((4, 4), F64) + np.diag([0.0, 3.0, 6.0, 9.0])  # distinct eigenvalues

    def f(x):
        w, v = jnp.linalg.eigh(x)
        return w, v * jnp.sign(v[0])
    _grad_case(f, a)
    _grad_case(jnp.linalg.eigvalsh, a)


@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (3, 4)])
def test_grad_svd(shape):
    a = _rand(shape, F64)

    def f(x):
        u, s, vh = jnp.linalg.svd(x, full_matrices=False)
        d = jnp.sign(u[0])
        return u * d, s, vh * d[:, None]
    _grad_case(f, a)
    _grad_case(jnp.linalg.svdvals, a)
    _grad_case(jnp.linalg.pinv, a)


def test_grad_complex_eigh_svd_phase_free():
    """Complex inputs: differentiate phase-invariant quantities. Forward mode only here:
    check_grads' reverse check compares complex inner products, which for a real function of
    complex inputs differ by an imaginary part by convention; the registry cases
    (tests/lax/cases_linalg.py) check the transposes of these rules with Re<.,.>."""
    a = (_rand((3, 3), F64) + 1j * _rand((3, 3), F64, 5)).astype(np.complex128)
    h = a + a.conj().T

    def fe(x):
        w, v = jnp.linalg.eigh(x)
        return w, jnp.abs(v) ** 2

    def fs(x):
        u, s, vh = jnp.linalg.svd(x, full_matrices=False)
        return s, jnp.abs(u) ** 2, jnp.abs(vh) ** 2
    _grad_case(fe, h, modes=("fwd",))
    _grad_case(fs, a, modes=("fwd",))


# ---- agreement with JAX --------------------------------------------------------------------------
def test_agrees_with_jax():
    jax = pytest.importorskip("jax")
    jjnp = jax.numpy
    a = _well((2, 4, 4), F32)
    b = _rand((2, 4, 3), F32)
    h = _herm((2, 4, 4), F32)
    r = _rand((2, 5, 3), F32)
    pairs = [
        (jnp.linalg.solve(a, b), jjnp.linalg.solve(a, b)),
        (jnp.linalg.inv(a), jjnp.linalg.inv(a)),
        (jnp.linalg.det(a), jjnp.linalg.det(a)),
        (jnp.linalg.slogdet(a).logabsdet, jjnp.linalg.slogdet(a).logabsdet),
        (jnp.linalg.eigvalsh(h), jjnp.linalg.eigvalsh(h)),
        (jnp.linalg.svdvals(r), jjnp.linalg.svdvals(r)),
        (jnp.linalg.pinv(r), jjnp.linalg.pinv(r)),
        (jnp.linalg.norm(r, 2, axis=(1, 2)), jjnp.linalg.norm(r, 2, axis=(1, 2))),
        (jnp.linalg.matrix_rank(r), jjnp.linalg.matrix_rank(r)),
    ]
    for got, want in pairs:
        assert np.asarray(got).dtype == np.asarray(want).dtype
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-4, atol=1e-4)
    from jaxel.lax import linalg as L
    for got, want in zip(L.lu(a), jax.lax.linalg.lu(a)):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-5)
    for got, want in zip(L.qr(r, full_matrices=False), jax.lax.linalg.qr(r, full_matrices=False)):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(np.asarray(jnp.linalg.cholesky(_spd((4, 4), F32))),
                               np.asarray(jjnp.linalg.cholesky(_spd((4, 4), F32))),
                               rtol=1e-5, atol=1e-5)
