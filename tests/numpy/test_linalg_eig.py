"""jnp.linalg.eig / eigvals and lax.linalg.eig: values against NumPy, eigenvector identities,
left eigenvectors, batching (vmap/jit), eigenvalue derivatives, and agreement with JAX."""
from __future__ import annotations

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel import lax
from jaxel.test_util import check_grads

DTYPES = [np.float32, np.float64, np.complex64, np.complex128]


def _rand(shape, dt, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    if np.dtype(dt).kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dt)


def _tol(dt):
    return 1e-4 if np.dtype(dt) in (np.float32, np.complex64) else 1e-10


def _assert_same_spectrum(got, want, tol):
    """Equal multisets of eigenvalues (per matrix), matched greedily by distance."""
    got = np.asarray(got).reshape(-1, np.shape(got)[-1])
    want = np.asarray(want).reshape(got.shape)
    for g, w in zip(got, want):
        g = list(g)
        for x in w:
            i = int(np.argmin(np.abs(np.asarray(g) - x)))
            assert abs(g[i] - x) <= tol * (1 + abs(x)), (g, w)
            g.pop(i)


def _cdt(dt):
    return np.complex64 if np.dtype(dt) in (np.float32, np.complex64) else np.complex128


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("shape", [(1, 1), (4, 4), (2, 3, 5, 5)])
def test_eig_values_and_vectors(dt, shape):
    with jaxel.config._override("jax_enable_x64", True):
        a = _rand(shape, dt)
        w, v = jnp.linalg.eig(a)
        assert w.dtype == _cdt(dt) and v.dtype == _cdt(dt)
        assert w.shape == shape[:-1] and v.shape == shape
        w, v = np.asarray(w), np.asarray(v)
        tol = _tol(dt)
        np.testing.assert_allclose(a @ v, v * w[..., None, :], rtol=tol, atol=tol * 10)
        np.testing.assert_allclose(np.linalg.norm(v, axis=-2), 1, rtol=tol)
        _assert_same_spectrum(w, np.linalg.eigvals(a.astype(np.complex128)), tol * 10)
        ev = np.asarray(jnp.linalg.eigvals(a))
        np.testing.assert_array_equal(ev, w)


@pytest.mark.parametrize("dt", [np.float32, np.complex128])
def test_lax_eig_left_right(dt):
    with jaxel.config._override("jax_enable_x64", True):
        a = _rand((3, 4, 4), dt, 1)
        w, vl, vr = lax.linalg.eig(a)
        w, vl, vr = map(np.asarray, (w, vl, vr))
        tol = _tol(dt) * 10
        vlh = np.conj(np.swapaxes(vl, -1, -2))
        np.testing.assert_allclose(vlh @ a, w[..., :, None] * vlh, atol=tol)
        np.testing.assert_allclose(a @ vr, vr * w[..., None, :], atol=tol)
        (w1,) = lax.linalg.eig(a, compute_left_eigenvectors=False,
                               compute_right_eigenvectors=False)
        np.testing.assert_array_equal(np.asarray(w1), w)
        w2, vl2 = lax.linalg.eig(a, compute_right_eigenvectors=False)
        np.testing.assert_array_equal(np.asarray(vl2), vl)


def test_eig_integer_input_and_errors():
    w = jnp.linalg.eigvals(jnp.array([[0, 1], [-2, -3]]))
    assert w.dtype == np.complex64
    np.testing.assert_allclose(np.sort_complex(np.asarray(w)), [-2, -1], atol=1e-6)
    with pytest.raises(ValueError):
        jnp.linalg.eig(jnp.ones((2, 3)))
    with pytest.raises(ValueError):
        jnp.linalg.eigvals(jnp.ones((3,)))


def test_eig_jit_vmap():
    a = _rand((4, 3, 3), np.float32, 2)
    w_loop = np.stack([np.asarray(jnp.linalg.eig(x)[0]) for x in a])
    v_loop = np.stack([np.asarray(jnp.linalg.eig(x)[1]) for x in a])
    w, v = jaxel.vmap(jnp.linalg.eig)(a)
    np.testing.assert_allclose(np.asarray(w), w_loop, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(v), v_loop, rtol=1e-5, atol=1e-6)
    # batch axis last
    wl = jaxel.vmap(jnp.linalg.eigvals, in_axes=2)(np.moveaxis(a, 0, 2))
    np.testing.assert_allclose(np.asarray(wl), w_loop, rtol=1e-5, atol=1e-6)
    wj = jaxel.jit(jnp.linalg.eigvals)(a)
    np.testing.assert_allclose(np.asarray(wj), w_loop, rtol=1e-5, atol=1e-6)


def _spectrum_fn(a):
    # order-free smooth functions of the eigenvalues
    w = jnp.linalg.eigvals(a)
    return jnp.stack([jnp.real(jnp.sum(w ** k)) for k in (1, 2, 3)]
                     + [jnp.imag(jnp.sum(w ** 3 * (1 + 2j)))])


@pytest.mark.parametrize("dt", [np.float64, np.complex128])
def test_eigvals_grads(dt):
    with jaxel.config._override("jax_enable_x64", True):
        a = _rand((4, 4), dt, 3)
        # first order only: the eigenvalue JVP uses eigenvectors, whose derivatives are not
        # implemented (as in JAX)
        check_grads(_spectrum_fn, (a,), order=1, modes=("fwd", "rev"))


def test_eigvals_derivative_formula():
    # d(sum w^2)/dA = 2 Aᵀ (since sum w^2 = tr(A^2))
    with jaxel.config._override("jax_enable_x64", True):
        a = _rand((5, 5), np.float64, 4)
        g = jaxel.grad(lambda x: jnp.real(jnp.sum(jnp.linalg.eigvals(x) ** 2)))(a)
        np.testing.assert_allclose(np.asarray(g), 2 * a.T, rtol=1e-8, atol=1e-8)
        # the largest real eigenvalue of a well-separated spectrum: dλ = u vᵀ / uᵀv
        b = 0.2 * a + np.diag(np.arange(5.0) * 3)
        g = jaxel.grad(lambda x: jnp.max(jnp.real(jnp.linalg.eigvals(x))))(b)
        w, vl, vr = (np.asarray(t) for t in lax.linalg.eig(b))
        i = int(np.argmax(w.real))
        want = np.real(np.outer(np.conj(vl[:, i]), vr[:, i]) / (np.conj(vl[:, i]) @ vr[:, i]))
        np.testing.assert_allclose(np.asarray(g), want, rtol=1e-8, atol=1e-8)


def test_eigvector_derivative_raises():
    with pytest.raises(NotImplementedError, match="eigenvectors"):
        jaxel.jvp(lambda x: jnp.linalg.eig(x)[1], (jnp.eye(2),), (jnp.eye(2),))


def test_poly_and_roots_of_matrices():
    a = _rand((4, 4), np.float32, 5)
    np.testing.assert_allclose(np.asarray(jnp.poly(a)), np.poly(a.astype(np.float64)),
                               rtol=1e-4, atol=1e-4)
    c = np.array([1.0, -3.0, 0.5, 2.0], np.float32)
    _assert_same_spectrum(jnp.roots(c), np.roots(c), 1e-4)


@pytest.mark.parametrize("dt", [np.float32, np.complex64])
def test_agrees_with_jax(dt):
    jax = pytest.importorskip("jax")
    a = _rand((2, 5, 5), dt, 6)
    w, v = jnp.linalg.eig(a)
    jw, jv = jax.numpy.linalg.eig(a)
    np.testing.assert_allclose(np.asarray(w), np.asarray(jw), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.asarray(v), np.asarray(jv), rtol=1e-5, atol=1e-5)
    g = jaxel.grad(lambda x: jnp.sum(jnp.abs(jnp.linalg.eigvals(x))))(a) if dt == np.float32 \
        else None
    if g is not None:
        jg = jax.grad(lambda x: jax.numpy.sum(jax.numpy.abs(jax.numpy.linalg.eigvals(x))))(a)
        np.testing.assert_allclose(np.asarray(g), np.asarray(jg), rtol=1e-3, atol=1e-4)
