"""The public autodiff API: grad, value_and_grad, jvp, vjp, linearize, linear_transpose,
jacfwd, jacrev, hessian; composition with jit and with itself; errors."""
from __future__ import annotations

import collections

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel import lax
from jaxel.test_util import check_grads


def f_scalar(x):
    return jnp.sin(x) * x


def df_scalar(x):
    return np.cos(x) * x + np.sin(x)


def test_grad_matches_hand_derivative():
    for x in [0.0, 0.5, -2.0]:
        np.testing.assert_allclose(jaxel.grad(f_scalar)(x), df_scalar(x), rtol=1e-6)


def test_grad_of_grad_of_grad():
    # d3/dx3 sin(x) = -cos(x)
    g3 = jaxel.grad(jaxel.grad(jaxel.grad(jnp.sin)))
    np.testing.assert_allclose(g3(0.3), -np.cos(0.3), rtol=1e-6)


def test_check_grads_orders_and_modes():
    check_grads(f_scalar, (0.7,), order=3)
    check_grads(lambda x, y: (jnp.sin(x) * y).sum(), (jnp.arange(3.0), jnp.ones(3)), order=2)


def test_value_and_grad_and_argnums():
    f = lambda x, y: (jnp.sin(x) * y).sum()
    x, y = jnp.arange(3.0), jnp.full(3, 2.0)
    v, g = jaxel.value_and_grad(f)(x, y)
    np.testing.assert_allclose(v, (np.sin(np.arange(3.0)) * 2).sum(), rtol=1e-6)
    np.testing.assert_allclose(g, 2 * np.cos(np.arange(3.0)), rtol=1e-6)
    gx, gy = jaxel.grad(f, argnums=(0, 1))(x, y)
    np.testing.assert_allclose(gy, np.sin(np.arange(3.0)), rtol=1e-6)
    gy_only = jaxel.grad(f, argnums=1)(x, y)
    np.testing.assert_allclose(gy_only, gy)
    (g_neg,) = jaxel.grad(f, argnums=(-1,))(x, y)
    np.testing.assert_allclose(g_neg, gy)


def test_grad_has_aux_and_pytrees():
    Params = collections.namedtuple("Params", "w b")

    def loss(p, x):
        y = p.w * x + p.b
        return (y * y).sum(), {"pred": y}

    p = Params(jnp.full(3, 2.0), jnp.asarray(1.0))
    x = jnp.arange(3.0)
    g, aux = jaxel.grad(loss, has_aux=True)(p, x)
    assert isinstance(g, Params)
    y = 2 * np.arange(3.0) + 1
    np.testing.assert_allclose(g.w, 2 * y * np.arange(3.0), rtol=1e-6)
    np.testing.assert_allclose(g.b, 2 * y.sum(), rtol=1e-6)
    np.testing.assert_allclose(aux["pred"], y)
    (v, aux2), g2 = jaxel.value_and_grad(loss, has_aux=True)(p, x)
    np.testing.assert_allclose(v, (y * y).sum(), rtol=1e-6)
    np.testing.assert_allclose(g2.w, g.w)


def test_grad_keyword_arguments_pass_through():
    f = lambda x, *, scale: (x * scale).sum()
    np.testing.assert_allclose(jaxel.grad(f)(jnp.ones(2), scale=3.0), [3.0, 3.0])


def test_perturbation_confusion_classic():
    # d/dx [x * d/dy (x + y)]_{y=1} at x=1 is 1; confusing the perturbations gives 2.
    def inner(x):
        return jaxel.grad(lambda y: x + y)(1.0)
    assert float(jaxel.grad(lambda x: x * inner(x))(1.0)) == 1.0
    # and the closure-over-outer-tracer version
    f = lambda x: jaxel.grad(lambda y: x * y)(1.0)
    assert float(jaxel.grad(f)(3.0)) == 1.0


def test_jvp_and_float0_for_integers():
    p, t = jaxel.jvp(f_scalar, (0.5,), (2.0,))
    np.testing.assert_allclose(t, 2 * df_scalar(0.5), rtol=1e-6)
    out, t_int = jaxel.jvp(lambda n: n * 2, (jnp.arange(3),), (np.zeros(3, jaxel.dtypes.float0),))
    assert t_int.dtype == jaxel.dtypes.float0 and t_int.shape == (3,)
    with pytest.raises(TypeError, match="does not match its primal"):
        jaxel.jvp(f_scalar, (jnp.ones(3),), (jnp.ones(2),))
    with pytest.raises(TypeError, match="same tree structure"):
        jaxel.jvp(lambda a: a[0], ((1.0, 2.0),), ((1.0,),))


def test_vjp_structure_and_errors():
    y, pull = jaxel.vjp(lambda a, b: {"s": jnp.sin(a) * b}, 0.5, 2.0)
    ga, gb = pull({"s": 1.0})
    np.testing.assert_allclose(ga, 2 * np.cos(0.5), rtol=1e-6)
    np.testing.assert_allclose(gb, np.sin(0.5), rtol=1e-6)
    with pytest.raises(TypeError, match="structure"):
        pull(1.0)
    _, pull_i, aux = jaxel.vjp(lambda n, x: (x * 2.0, n), jnp.arange(2), 1.0, has_aux=True)
    g_int, g_x = pull_i(1.0)
    assert g_int.dtype == jaxel.dtypes.float0
    np.testing.assert_allclose(g_x, 2.0)


def test_grad_errors_are_clear():
    with pytest.raises(TypeError, match="scalar-output"):
        jaxel.grad(lambda x: x * 2.0)(jnp.ones(3))
    with pytest.raises(TypeError, match="allow_int"):
        jaxel.grad(lambda n: n * 2)(3)
    g = jaxel.grad(lambda n, x: x * 2.0, allow_int=True, argnums=(0, 1))(3, 1.0)
    assert g[0].dtype == jaxel.dtypes.float0
    with pytest.raises(TypeError, match="holomorphic"):
        jaxel.grad(lambda z: z * z)(jnp.asarray(1 + 1j))
    with pytest.raises(TypeError, match="argnums"):
        jaxel.grad(f_scalar, argnums=2)(1.0)


def test_holomorphic_grad():
    g = jaxel.grad(lambda z: jnp.sin(z), holomorphic=True)(jnp.asarray(1.0 + 0.5j))
    np.testing.assert_allclose(g, np.cos(1.0 + 0.5j), rtol=1e-6)


def test_grad_composes_with_jit():
    f = lambda x: (jnp.sin(x) * x).sum()
    x = jnp.linspace(-1.0, 1.0, 5)
    want = df_scalar(np.linspace(-1.0, 1.0, 5))
    np.testing.assert_allclose(jaxel.grad(jaxel.jit(f))(x), want, rtol=1e-6)
    np.testing.assert_allclose(jaxel.jit(jaxel.grad(f))(x), want, rtol=1e-6)
    nested = jaxel.jit(lambda x: jaxel.jit(lambda y: jnp.sin(y) * y)(x).sum())
    np.testing.assert_allclose(jaxel.grad(nested)(x), want, rtol=1e-6)
    np.testing.assert_allclose(jaxel.jit(jaxel.grad(jaxel.jit(f)))(x), want, rtol=1e-6)
    # second derivative through a jitted function
    np.testing.assert_allclose(jaxel.grad(jaxel.grad(jaxel.jit(jnp.sin)))(0.4), -np.sin(0.4),
                               rtol=1e-6)


def test_grad_of_jit_stages_known_and_transposed_programs():
    """The reverse pass of a jitted function is itself one jitted (transposed) program and
    the forward part runs once (not recomputed in the backward program)."""
    f = jaxel.jit(lambda x: (jnp.sin(x) * x).sum())
    jaxpr = jaxel.make_jaxpr(jaxel.grad(f))(jnp.ones(3))
    names = [e.params.get("name") for e in jaxpr.jaxpr.eqns if e.primitive.name == "jit"]
    assert names == ["<lambda>", "<lambda>"]  # as JAX: derived programs keep the name
    inner = [e for e in jaxpr.jaxpr.eqns if e.primitive.name == "jit"][1].params["jaxpr"]
    assert "sin" not in {e.primitive.name for e in inner.jaxpr.eqns}


def test_hessian_vector_product_jvp_of_grad():
    f = lambda x: (jnp.sin(x) * x).sum()
    x = jnp.asarray([0.1, 0.2, 0.3])
    v = jnp.asarray([1.0, -1.0, 0.5])
    _, hvp = jaxel.jvp(jaxel.grad(f), (x,), (v,))
    xs = np.asarray(x)
    diag = 2 * np.cos(xs) - xs * np.sin(xs)
    np.testing.assert_allclose(hvp, diag * np.asarray(v), rtol=1e-5)


def test_linearize_and_linear_transpose():
    y, f_jvp = jaxel.linearize(f_scalar, 0.5)
    np.testing.assert_allclose(y, np.sin(0.5) * 0.5, rtol=1e-6)
    np.testing.assert_allclose(f_jvp(2.0), 2 * df_scalar(0.5), rtol=1e-6)
    np.testing.assert_allclose(f_jvp(1.0), df_scalar(0.5), rtol=1e-6)
    f_t = jaxel.linear_transpose(lambda x: (2.0 * x).sum(), jnp.ones(3))
    (ct,) = f_t(1.0)
    np.testing.assert_allclose(ct, [2.0, 2.0, 2.0])
    f_t2 = jaxel.linear_transpose(lambda x, y: x * 3.0 - y, 1.0, 1.0)
    np.testing.assert_allclose(f_t2(1.0), (3.0, -1.0))


def test_jacobians_and_hessian():
    f = lambda x: jnp.sin(x) * x[0]
    x = jnp.asarray([0.5, 1.0, 2.0])
    xs = np.asarray(x)
    want = np.diag(np.cos(xs) * xs[0])
    want[:, 0] += np.sin(xs)
    np.testing.assert_allclose(jaxel.jacfwd(f)(x), want, rtol=1e-6)
    np.testing.assert_allclose(jaxel.jacrev(f)(x), want, rtol=1e-6)
    np.testing.assert_allclose(jaxel.jacobian(f)(x), want, rtol=1e-6)
    h = jaxel.hessian(lambda x: (x * x * x).sum())(x)
    np.testing.assert_allclose(h, np.diag(6 * xs), rtol=1e-6)
    jx, jy = jaxel.jacrev(lambda a, b: a * b, argnums=(0, 1))(x, x)
    np.testing.assert_allclose(jx, np.diag(xs), rtol=1e-6)


def test_stop_gradient():
    assert float(jaxel.grad(lambda x: x * lax.stop_gradient(x))(3.0)) == 3.0
    tree = lax.stop_gradient({"a": 1.0, "n": 2})
    assert tree["n"] == 2


def test_closure_over_outer_jvp_tracer():
    # jvp of a function that closes over another jvp's tracer
    def outer(x):
        return jaxel.jvp(lambda y: x * jnp.sin(y), (0.3,), (1.0,))[1]
    np.testing.assert_allclose(jaxel.grad(outer)(2.0), np.cos(0.3), rtol=1e-6)


def test_jacrev_with_integer_input_gives_float0_block():
    jx, jn = jaxel.jacrev(lambda x, n: x * n, argnums=(0, 1), allow_int=True)(
        jnp.ones(2), jnp.arange(2))
    np.testing.assert_allclose(np.asarray(jx), np.diag([0.0, 1.0]))
    assert jn.dtype == jaxel.dtypes.float0 and jn.shape == (2, 2)


def test_jacobians_are_vectorised_not_looped():
    # One vectorised JVP/VJP: the traced program does not grow with the number of inputs.
    f = lambda x: jnp.sin(x) * x
    small = jaxel.make_jaxpr(jaxel.jacfwd(f))(jnp.ones(2))
    large = jaxel.make_jaxpr(jaxel.jacfwd(f))(jnp.ones(50))
    assert len(small.jaxpr.eqns) == len(large.jaxpr.eqns)
    small = jaxel.make_jaxpr(jaxel.jacrev(f))(jnp.ones(2))
    large = jaxel.make_jaxpr(jaxel.jacrev(f))(jnp.ones(50))
    assert len(small.jaxpr.eqns) == len(large.jaxpr.eqns)
