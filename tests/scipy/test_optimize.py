"""jaxel.scipy.optimize.minimize (BFGS) against scipy.optimize.minimize."""
from __future__ import annotations

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel.scipy.optimize import OptimizeResults, minimize

so = pytest.importorskip("scipy.optimize")
RNG = np.random.default_rng(3)


def rosen(x):
    return jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def quadratic(x, a, b):
    return 0.5 * x @ a @ x - b @ x + 0.1 * jnp.sum(x ** 4)


def test_rosenbrock_and_results_fields():
    assert OptimizeResults._fields == ("x", "success", "status", "fun", "jac", "hess_inv",
                                       "nfev", "njev", "nit")
    starts = np.array([[-1.2, 1.0, 0.5, -0.3], [2.0, 2.0, -1.0, 1.5], [0.0, 0.0, 0.0, 0.0]])
    with jaxel.config._override("jax_enable_x64", True):
        run = jaxel.jit(jaxel.vmap(lambda x0: minimize(rosen, x0, method="BFGS")))
        r = run(jnp.asarray(starts))
    np.testing.assert_allclose(np.asarray(r.x), 1.0, atol=1e-5)
    assert np.all(np.asarray(r.success)) and np.all(np.asarray(r.status) == 0)
    assert np.all(np.max(np.abs(np.asarray(r.jac)), axis=1) < 1e-5)
    np.testing.assert_allclose(np.asarray(r.fun), 0.0, atol=1e-10)
    for i, x0 in enumerate(starts):
        ref = so.minimize(so.rosen, x0, method="BFGS", jac=so.rosen_der)
        np.testing.assert_allclose(np.asarray(r.x[i]), ref.x, atol=1e-5)
        assert 10 < int(r.nit[i]) < 3 * ref.nit
        assert int(r.nfev[i]) >= int(r.nit[i]) and int(r.njev[i]) == int(r.nfev[i])
    # the inverse-Hessian estimate stays symmetric positive definite
    for hinv in np.asarray(r.hess_inv):
        np.testing.assert_allclose(hinv, hinv.T, rtol=1e-6, atol=1e-8)
        assert np.linalg.eigvalsh(hinv).min() > 0


def test_quadratics_vmapped_with_args():
    n, batch = 3, 6
    m = RNG.standard_normal((batch, n, n))
    a = m @ np.transpose(m, (0, 2, 1)) + n * np.eye(n)
    b = RNG.standard_normal((batch, n))
    x0 = RNG.standard_normal((batch, n))
    solve = jaxel.jit(jaxel.vmap(
        lambda x0, a, b: minimize(quadratic, x0, (a, b), method="BFGS",
                                  options=dict(gtol=1e-4, norm=2))))
    r = solve(*(jnp.asarray(v.astype(np.float32)) for v in (x0, a, b)))
    assert r.x.dtype == jnp.float32 and r.nit.shape == (batch,)
    for i in range(batch):
        ref = so.minimize(lambda x: 0.5 * x @ a[i] @ x - b[i] @ x + 0.1 * np.sum(x ** 4), x0[i],
                          jac=lambda x: a[i] @ x - b[i] + 0.4 * x ** 3, method="BFGS")
        np.testing.assert_allclose(np.asarray(r.x[i]), ref.x, rtol=1e-3, atol=1e-3)
        np.testing.assert_allclose(float(r.fun[i]), ref.fun, rtol=1e-4, atol=1e-5)
        assert np.linalg.norm(np.asarray(r.jac[i])) < 1e-3
    assert np.all(np.asarray(r.success))
    # tol is SciPy's default gtol; a loose one stops earlier; maxiter caps the iterations
    loose, few = jaxel.jit(lambda x0: (
        minimize(quadratic, x0, (a[0], b[0]), method="BFGS", tol=1e-1),
        minimize(quadratic, x0, (a[0], b[0]), method="bfgs", options=dict(maxiter=1))))(
        jnp.asarray(x0[0]))
    assert int(loose.nit) <= int(r.nit[0]) and bool(loose.success)
    assert int(few.nit) == 1 and int(few.status) == 1 and not bool(few.success)


def test_errors():
    f = lambda x: jnp.sum(x ** 2)  # noqa: E731
    with pytest.raises(ValueError, match="not recognized"):
        minimize(f, jnp.zeros(2), method="Nelder-Mead")
    with pytest.raises(NotImplementedError, match="L-BFGS"):
        minimize(f, jnp.zeros(2), method="l-bfgs-experimental-do-not-rely-on-this")
    with pytest.raises(TypeError, match="must be a tuple"):
        minimize(f, jnp.zeros(2), args=1, method="BFGS")
    with pytest.raises(ValueError, match="one-dimensional"):
        minimize(f, jnp.zeros((2, 2)), method="BFGS")
    with pytest.raises(TypeError, match="not supported"):
        minimize(f, jnp.zeros(2), method="BFGS", options=dict(maxfun=3))
