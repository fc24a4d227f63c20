"""lax.custom_linear_solve: forward values, JVP/VJP against the closed forms and finite
differences, vmap against a loop, transposition, has_aux/symmetric, errors; and that
jnp.linalg.solve's derivatives go through it (no LU is differentiated)."""
import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel import lax
from jaxel.test_util import check_grads

RNG = np.random.default_rng(0)
A = (RNG.normal(size=(4, 4)) + 4 * np.eye(4)).astype(np.float64)
B = RNG.normal(size=4)


def _solve(a, b):
    """A custom_linear_solve whose solver is an (undifferentiable) fixed-count Jacobi-free
    direct solve: jnp.linalg.solve under stop_gradient."""
    a_fixed = lax.stop_gradient(a)
    return lax.custom_linear_solve(
        lambda x: a @ x, b,
        solve=lambda _, r: jnp.linalg.solve(a_fixed, r),
        transpose_solve=lambda _, r: jnp.linalg.solve(a_fixed.T, r))


@pytest.fixture(autouse=True)
def _x64():
    with jaxel.config._override("jax_enable_x64", True):
        yield


def test_values_and_jit():
    x = _solve(A, B)
    np.testing.assert_allclose(x, np.linalg.solve(A, B), rtol=1e-12)
    np.testing.assert_allclose(jaxel.jit(_solve)(A, B), x, rtol=1e-12)


def test_derivatives_against_closed_form_and_finite_differences():
    x = np.linalg.solve(A, B)
    ainv = np.linalg.inv(A)
    # jvp: x' = A^-1 (b' - A' x)
    da, db = RNG.normal(size=(4, 4)), RNG.normal(size=4)
    _, t = jaxel.jvp(_solve, (A, B), (da, db))
    np.testing.assert_allclose(t, ainv @ (db - da @ x), rtol=1e-10)
    # vjp: ct_b = A^-T ct, ct_A = -ct_b x^T
    ct = RNG.normal(size=4)
    _, pull = jaxel.vjp(_solve, A, B)
    ga, gb = pull(ct)
    np.testing.assert_allclose(gb, ainv.T @ ct, rtol=1e-10)
    np.testing.assert_allclose(ga, -np.outer(ainv.T @ ct, x), rtol=1e-10)
    check_grads(_solve, (A, B), order=2, modes=("fwd", "rev"))


def test_vmap_against_loop():
    As = A + RNG.normal(size=(3, 4, 4)) * 0.1
    Bs = RNG.normal(size=(3, 4))
    for in_axes in [(0, 0), (None, 0), (0, None)]:
        a_in = As if in_axes[0] == 0 else A
        b_in = Bs if in_axes[1] == 0 else B
        got = jaxel.vmap(_solve, in_axes)(a_in, b_in)
        want = [np.linalg.solve(As[i] if in_axes[0] == 0 else A, Bs[i] if in_axes[1] == 0 else B)
                for i in range(3)]
        np.testing.assert_allclose(got, np.stack(want), rtol=1e-10)
    g = jaxel.vmap(jaxel.grad(lambda a, b: _solve(a, b).sum(), argnums=(0, 1)))(As, Bs)
    for i in range(3):
        ref = jaxel.grad(lambda a, b: _solve(a, b).sum(), argnums=(0, 1))(As[i], Bs[i])
        np.testing.assert_allclose(g[0][i], ref[0], rtol=1e-10)
        np.testing.assert_allclose(g[1][i], ref[1], rtol=1e-10)


def test_linear_transpose_and_pytrees():
    def solve_tree(b):
        def mv(x):
            return {"u": 2.0 * x["u"], "v": A @ x["v"]}

        def sv(_, r):
            return {"u": r["u"] / 2.0, "v": jnp.linalg.solve(A, r["v"])}

        def tsv(_, r):
            return {"u": r["u"] / 2.0, "v": jnp.linalg.solve(A.T, r["v"])}
        return lax.custom_linear_solve(mv, b, sv, tsv)
    b = {"u": np.ones(2), "v": B}
    out = solve_tree(b)
    np.testing.assert_allclose(out["u"], 0.5)
    np.testing.assert_allclose(out["v"], np.linalg.solve(A, B), rtol=1e-12)
    (tb,) = jaxel.linear_transpose(solve_tree, b)({"u": np.ones(2), "v": B})
    np.testing.assert_allclose(tb["v"], np.linalg.solve(A.T, B), rtol=1e-12)


def test_symmetric_has_aux_and_iterative_solver():
    s = A @ A.T + np.eye(4)

    def cg_like(mv, r):  # an iterative solve (a while_loop cannot be transposed)
        def body(c):
            x, k = c
            return x + 0.1 * (r - mv(x)) / 10.0, k + 1
        x, k = lax.while_loop(lambda c: c[1] < 3000, body, (jnp.zeros_like(r), 0))
        return x, k

    def f(b):
        x, k = lax.custom_linear_solve(lambda x: s @ x, b, cg_like, symmetric=True,
                                       has_aux=True)
        return x, k
    x, k = f(B)
    assert int(k) == 3000
    np.testing.assert_allclose(x, np.linalg.solve(s, B), rtol=1e-6)
    g = jaxel.grad(lambda b: f(b)[0].sum())(B)
    np.testing.assert_allclose(g, np.linalg.solve(s, np.ones(4)), rtol=1e-6)


def test_errors():
    with pytest.raises(TypeError, match="matvec\\(x\\) must have"):
        lax.custom_linear_solve(lambda x: x[:2], B, lambda mv, r: r)
    with pytest.raises(TypeError, match="needs transpose_solve"):
        jaxel.grad(lambda b: lax.custom_linear_solve(lambda x: 2 * x, b,
                                                     lambda mv, r: r / 2).sum())(B)
    with pytest.raises(TypeError, match="must be callable"):
        lax.custom_linear_solve(None, B, lambda mv, r: r)


def test_linalg_solve_gradient_reuses_one_lu():
    """grad of jnp.linalg.solve factorises once and never differentiates the LU."""
    text = str(jaxel.make_jaxpr(jaxel.grad(lambda a, b: jnp.linalg.solve(a, b).sum(),
                                           argnums=(0, 1)))(A, B))
    assert text.count("= lu ") == 1, text
    g = jaxel.grad(lambda a, b: jnp.linalg.solve(a, b).sum(), argnums=(0, 1))(A, B)
    ct = np.linalg.solve(A.T, np.ones(4))
    np.testing.assert_allclose(g[1], ct, rtol=1e-10)
    np.testing.assert_allclose(g[0], -np.outer(ct, np.linalg.solve(A, B)), rtol=1e-10)
    ab = A + RNG.normal(size=(2, 4, 4)) * 0.1
    bb = RNG.normal(size=(2, 4, 3))
    check_grads(jnp.linalg.solve, (ab, bb), order=1, modes=("fwd", "rev"))


# ---- lax.custom_root --------------------------------------------------------------------------------
def _newton(f, x0):
    def step(_, x):
        fx, dfx = jaxel.jvp(f, (x,), (jnp.ones_like(x),))
        return x - fx / dfx
    return lax.fori_loop(0, 40, step, x0)


def _sqrt(a):
    return lax.custom_root(lambda x: x * x - a, 1.0, _newton, lambda g, y: y / g(1.0))


def test_custom_root_implicit_derivatives():
    np.testing.assert_allclose(_sqrt(2.0), np.sqrt(2.0), rtol=1e-12)
    np.testing.assert_allclose(jaxel.grad(_sqrt)(2.0), 0.5 / np.sqrt(2.0), rtol=1e-12)
    np.testing.assert_allclose(jaxel.grad(jaxel.grad(_sqrt))(2.0), -0.25 * 2.0 ** -1.5,
                               rtol=1e-10)
    a = np.array([1.0, 4.0, 9.0])
    np.testing.assert_allclose(jaxel.jit(jaxel.vmap(jaxel.grad(_sqrt)))(a), 0.5 / np.sqrt(a),
                               rtol=1e-12)
    check_grads(_sqrt, (3.0,), order=2, modes=("fwd", "rev"))


def test_custom_root_vector_with_aux():
    def root(a, b):
        def solve(f, x0):
            return jnp.linalg.solve(a, b), jnp.int32(7)
        return lax.custom_root(lambda x: a @ x - b, jnp.zeros(4), solve,
                               lambda g, y: jnp.linalg.solve(jaxel.jacfwd(g)(y), y),
                               has_aux=True)
    x, aux = root(A, B)
    assert int(aux) == 7
    np.testing.assert_allclose(x, np.linalg.solve(A, B), rtol=1e-12)
    ga, gb = jaxel.grad(lambda a, b: root(a, b)[0].sum(), argnums=(0, 1))(A, B)
    ct = np.linalg.solve(A.T, np.ones(4))
    np.testing.assert_allclose(gb, ct, rtol=1e-10)
    np.testing.assert_allclose(ga, -np.outer(ct, x), rtol=1e-10)
    with pytest.raises(TypeError, match="shaped like initial_guess"):
        lax.custom_root(lambda x: x[:2], B, lambda f, x0: x0, lambda g, y: y)
