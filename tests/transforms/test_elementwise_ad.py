"""Gradients through jnp's elementwise functions: the edge cases JAX users meet (ties of max,
0**0, abs at 0, where, dtype casts), second order, and agreement with real jax where installed."""
from __future__ import annotations

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel.test_util import check_grads


def test_maximum_ties_share_the_gradient():
    g = jaxel.grad(lambda x, y: jnp.maximum(x, y), argnums=(0, 1))(1.0, 1.0)
    assert [float(v) for v in g] == [0.5, 0.5]
    g = jaxel.grad(lambda x, y: jnp.minimum(x, y), argnums=(0, 1))(2.0, 1.0)
    assert [float(v) for v in g] == [0.0, 1.0]


def test_relu_gradient_is_zero_at_zero_half_at_tie():
    x = jnp.array([-1.0, 0.0, 2.0])
    g = jaxel.grad(lambda x: jnp.maximum(x, 0.0).sum())(x)
    np.testing.assert_array_equal(g, [0.0, 0.5, 1.0])


def test_power_edge_cases():
    # d/dx x**0 at 0 is 0 (not NaN); d/dy 0**y is 0 for y > 0.
    assert float(jaxel.grad(lambda x: x ** jnp.float32(0.0))(0.0)) == 0.0
    assert float(jaxel.grad(lambda y: jnp.power(0.0, y))(2.0)) == 0.0
    assert float(jaxel.grad(lambda x: x ** 3)(2.0)) == 12.0
    assert float(jaxel.grad(lambda x: x ** -1)(2.0)) == -0.25


def test_abs_and_sqrt_edge_cases():
    assert float(jaxel.grad(jnp.abs)(0.0)) == 1.0  # JAX's subgradient choice
    assert float(jaxel.grad(jnp.abs)(-0.0)) == 1.0
    assert float(jaxel.grad(jnp.abs)(-3.0)) == -1.0
    z = jnp.asarray(3.0 + 4.0j)
    # d|z| pairs with Re: grad of a real function of a complex input (JAX convention).
    np.testing.assert_allclose(jaxel.grad(jnp.abs)(z), 0.6 - 0.8j, rtol=1e-6)
    assert float(jaxel.grad(jnp.abs)(jnp.asarray(0j)).real) == 0.0


def test_where_routes_gradients():
    x = jnp.array([-1.0, 2.0, 3.0])
    g = jaxel.grad(lambda x: jnp.where(x > 0, x * x, -x).sum())(x)
    np.testing.assert_array_equal(g, [-1.0, 4.0, 6.0])


def test_casts_carry_gradients_and_integers_cut_them():
    g = jaxel.grad(lambda x: x.astype(jnp.float16).astype(jnp.float32) * 2.0)(1.5)
    assert float(g) == 2.0
    g = jaxel.grad(lambda x: x.astype(jnp.int32).astype(jnp.float32) + x)(1.5)
    assert float(g) == 1.0


@pytest.mark.parametrize("fn", [jnp.exp, jnp.log1p, jnp.tanh, jnp.arctan, jnp.sinh, jnp.cbrt,
                                jnp.arcsinh, jaxel.lax.logistic, jaxel.lax.erf,
                                jaxel.lax.lgamma, jaxel.lax.digamma])
def test_second_order_against_finite_differences(fn):
    x = jnp.array([0.3, 0.7, 1.9])
    check_grads(lambda x: fn(x).sum(), (x,), order=2, modes=("fwd", "rev"))


def test_composite_elementwise_program_second_order():
    def f(x, y):
        return jnp.sum(jnp.sqrt(x * x + y * y) * jnp.arctan2(y, x) / (1.0 + jnp.exp(-x)))
    check_grads(f, (jnp.array([0.5, 1.5, -2.0]), jnp.array([1.0, -0.5, 0.3])), order=2,
                modes=("fwd", "rev"))


def test_matches_jax_on_elementwise_programs():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", False)
    x = np.array([-1.5, 0.0, 0.5, 2.0], np.float32)
    programs = [
        lambda np_, x: np_.sum(np_.maximum(x, 0.0) ** 2),
        lambda np_, x: np_.sum(np_.clip(x, -1.0, 1.0) * x),
        lambda np_, x: np_.sum(np_.abs(x) + np_.sign(x) * x),
        lambda np_, x: np_.sum(np_.where(x > 0.2, np_.sin(x), np_.cos(x))),
        lambda np_, x: np_.sum(np_.exp2(x) - np_.expm1(x) + np_.log1p(x * x)),
        lambda np_, x: np_.sum(np_.fmod(x, 0.7) + np_.round(x) * x),
    ]
    for prog in programs:
        ours = jaxel.grad(lambda x: prog(jnp, x))(jnp.asarray(x))
        ref = jax.grad(lambda x: prog(jax.numpy, x))(x)
        np.testing.assert_allclose(np.asarray(ours), np.asarray(ref), rtol=1e-6, atol=1e-7)


BINARY = ["add", "sub", "mul", "div", "pow", "max", "min", "atan2", "rem", "complex"]


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("shapes", [((3,), ()), ((), (3,))])
def test_binary_rules_with_a_rank0_operand(name, shapes):
    """lax broadcasts rank-0 operands of elementwise ops; every rule must too."""
    rng = np.random.default_rng(0)
    x, y = (jnp.asarray(rng.uniform(0.5, 2.0, s).astype(np.float32)) for s in shapes)
    op = getattr(jaxel.lax, name)
    f = lambda x, y: jnp.abs(op(x, y)).sum()
    check_grads(f, (x, y), order=1, modes=("fwd", "rev"), atol=2e-2, rtol=2e-2)
    for p, args in [("clamp", (jnp.float32(0.7), x if x.ndim else y, jnp.float32(1.5)))]:
        check_grads(lambda *a: jaxel.lax.clamp(*a).sum(), args, order=1, modes=("fwd", "rev"),
                    atol=2e-2, rtol=2e-2)
