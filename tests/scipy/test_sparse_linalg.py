"""jaxel.scipy.sparse.linalg (cg, bicgstab, gmres) against NumPy's direct solve and SciPy,
with matrices, linear functions and pytrees; derivatives (through custom_linear_solve) against
the closed form; jit and vmap."""
import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel.scipy.sparse import linalg as sla

RNG = np.random.default_rng(1)
N = 6
_Q = RNG.normal(size=(N, N))
SPD = _Q @ _Q.T + N * np.eye(N)
GEN = RNG.normal(size=(N, N)) + 3 * N ** 0.5 * np.eye(N)
B = RNG.normal(size=N)
SOLVERS = {"cg": (sla.cg, SPD), "bicgstab": (sla.bicgstab, GEN), "gmres": (sla.gmres, GEN)}


@pytest.fixture(autouse=True)
def _x64():
    with jaxel.config._override("jax_enable_x64", True):
        yield


@pytest.mark.parametrize("name", sorted(SOLVERS))
def test_solution_gradient_and_vmap(name):
    solver, a = SOLVERS[name]
    want = np.linalg.solve(a, B)

    def f(a, b):
        return solver(lambda v: a @ v, b, tol=1e-12)[0]
    jf = jaxel.jit(f)
    np.testing.assert_allclose(jf(a, B), want, rtol=1e-8)
    x, info = solver(a, B, tol=1e-12)  # a matrix works as well as a function
    assert info is None
    np.testing.assert_allclose(x, want, rtol=1e-8)
    # exact-solution derivatives: ct_b = A^-T 1, ct_A = -ct_b x^T
    ga, gb = jaxel.jit(jaxel.grad(lambda a, b: f(a, b).sum(), argnums=(0, 1)))(a, B)
    ct = np.linalg.solve(a.T, np.ones(N))
    np.testing.assert_allclose(gb, ct, rtol=1e-7)
    np.testing.assert_allclose(ga, -np.outer(ct, want), rtol=1e-6, atol=1e-9)
    bs = RNG.normal(size=(3, N))
    np.testing.assert_allclose(jaxel.vmap(jf, (None, 0))(a, bs), np.linalg.solve(a, bs.T).T,
                               rtol=1e-8)


@pytest.mark.parametrize("name", sorted(SOLVERS))
def test_pytrees_preconditioner_and_tolerance(name):
    solver, a = SOLVERS[name]
    d = np.diag(a)

    def op(t):  # a block-diagonal operator on {"u": R^N, "v": R^2}
        return {"u": jnp.asarray(a) @ t["u"], "v": 3.0 * t["v"]}
    b = {"u": B, "v": np.array([3.0, -6.0])}
    x, _ = solver(op, b, M=lambda t: {"u": t["u"] / d, "v": t["v"] / 3.0}, tol=1e-12)
    np.testing.assert_allclose(x["u"], np.linalg.solve(a, B), rtol=1e-8)
    np.testing.assert_allclose(x["v"], [1.0, -2.0], rtol=1e-10)
    # a loose tolerance stops early, within the tolerance asked for
    x, _ = solver(a, B, tol=1e-2, maxiter=None)
    assert np.linalg.norm(a @ np.asarray(x) - B) <= 1e-2 * np.linalg.norm(B) * 1.0001


def test_against_scipy_with_maxiter_and_x0():
    ss = pytest.importorskip("scipy.sparse.linalg")
    x0 = np.ones(N)
    for k in (1, 2, 3):
        ours = sla.cg(SPD, B, x0=x0, maxiter=k, tol=0.0)[0]
        theirs = ss.cg(SPD, B, x0=x0, maxiter=k, rtol=0.0)[0]
        np.testing.assert_allclose(ours, theirs, rtol=1e-10)


def test_gmres_restart_and_errors():
    x, _ = sla.gmres(GEN, B, restart=2, tol=1e-11)
    np.testing.assert_allclose(x, np.linalg.solve(GEN, B), rtol=1e-8)
    with pytest.raises(ValueError, match="solve_method"):
        sla.gmres(GEN, B, solve_method="qr")
    with pytest.raises(ValueError, match="x0 and b"):
        sla.cg(SPD, B, x0=np.ones(N + 1))
    with pytest.raises(ValueError, match="2-D matrix"):
        sla.cg(np.ones(N), B)


def test_namespace_matches_jax():
    jsla = pytest.importorskip("jax.scipy.sparse.linalg")
    missing = [n for n in dir(jsla) if not n.startswith("_") and not hasattr(sla, n)]
    assert not missing
