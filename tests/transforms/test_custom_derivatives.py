"""custom_jvp and custom_vjp: rules are used by every mode and under jit; errors are clear."""
from __future__ import annotations

import functools

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp


def _make_custom_jvp():
    @jaxel.custom_jvp
    def f(x, y):
        return jnp.sin(x) * y

    @f.defjvp
    def f_jvp(primals, tangents):
        (x, y), (tx, ty) = primals, tangents
        # A deliberately "wrong" derivative (factor 10 on x) so the test proves the rule is used.
        return f(x, y), 10.0 * jnp.cos(x) * y * tx + jnp.sin(x) * ty
    return f


def test_custom_jvp_rule_is_used_in_every_mode():
    f = _make_custom_jvp()
    x, y = 0.5, 2.0
    np.testing.assert_allclose(f(x, y), np.sin(x) * y, rtol=1e-6)
    want_x = 10 * np.cos(x) * y
    np.testing.assert_allclose(jaxel.grad(f)(x, y), want_x, rtol=1e-6)
    np.testing.assert_allclose(jaxel.grad(f, argnums=1)(x, y), np.sin(x), rtol=1e-6)
    np.testing.assert_allclose(jaxel.jit(jaxel.grad(f))(x, y), want_x, rtol=1e-6)
    np.testing.assert_allclose(jaxel.grad(jaxel.jit(f))(x, y), want_x, rtol=1e-6)
    _, t = jaxel.jvp(f, (x, y), (1.0, 0.0))
    np.testing.assert_allclose(t, want_x, rtol=1e-6)
    assert isinstance(t, jaxel.Array)
    jaxpr = jaxel.make_jaxpr(f)(x, y)
    assert jaxpr.jaxpr.eqns[0].primitive.name == "custom_jvp_call"
    np.testing.assert_allclose(jaxel.jit(f)(x, y), np.sin(x) * y, rtol=1e-6)


def test_custom_jvp_defjvps_and_nondiff_argnums():
    @jaxel.custom_jvp
    def g(x):
        return x * x
    g.defjvps(lambda t, ans, x: 3.0 * x * t)
    np.testing.assert_allclose(jaxel.grad(g)(2.0), 6.0)

    from functools import partial

    @partial(jaxel.custom_jvp, nondiff_argnums=(0,))
    def scaled(k, x):
        return k * jnp.sin(x)

    @scaled.defjvp
    def scaled_jvp(k, primals, tangents):
        (x,), (t,) = primals, tangents
        return scaled(k, x), k * jnp.cos(x) * t

    np.testing.assert_allclose(jaxel.grad(lambda x: scaled(3.0, x))(0.2), 3 * np.cos(0.2),
                               rtol=1e-6)


def test_custom_jvp_second_order_uses_rule_recursively():
    @jaxel.custom_jvp
    def s(x):
        return jnp.sin(x)

    @s.defjvp
    def s_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return s(x), jnp.cos(x) * t

    np.testing.assert_allclose(jaxel.grad(jaxel.grad(s))(0.3), -np.sin(0.3), rtol=1e-6)


def test_custom_vjp_bwd_is_used_and_forward_mode_refused():
    @jaxel.custom_vjp
    def clip_gradient(x):
        return x * 1.0

    def fwd(x):
        return x * 1.0, None

    def bwd(_, g):
        return (jnp.clip(g, -1.0, 1.0),)

    clip_gradient.defvjp(fwd, bwd)
    f = lambda x: (clip_gradient(x) * 5.0).sum()
    np.testing.assert_allclose(jaxel.grad(f)(jnp.ones(3)), [1.0, 1.0, 1.0])
    np.testing.assert_allclose(jaxel.jit(jaxel.grad(f))(jnp.ones(3)), [1.0, 1.0, 1.0])
    np.testing.assert_allclose(clip_gradient(jnp.ones(2)), [1.0, 1.0])
    with pytest.raises(TypeError, match="forward-mode"):
        jaxel.jvp(clip_gradient, (1.0,), (1.0,))


def test_custom_vjp_residuals_and_pytrees():
    @jaxel.custom_vjp
    def f(p):
        return jnp.sin(p["a"]) * p["b"]

    def fwd(p):
        return f(p), (jnp.cos(p["a"]), p["b"], jnp.sin(p["a"]))

    def bwd(res, g):
        cos_a, b, sin_a = res
        return ({"a": g * cos_a * b, "b": g * sin_a},)

    f.defvjp(fwd, bwd)
    g = jaxel.grad(f)({"a": 0.5, "b": 2.0})
    np.testing.assert_allclose(g["a"], np.cos(0.5) * 2.0, rtol=1e-6)
    np.testing.assert_allclose(g["b"], np.sin(0.5), rtol=1e-6)


def test_custom_rule_errors():
    @jaxel.custom_vjp
    def f(x):
        return x

    f.defvjp(lambda x: (x, None), lambda _, g: g)  # not a tuple
    with pytest.raises(TypeError, match="must return a tuple"):
        jaxel.grad(f)(1.0)

    @jaxel.custom_jvp
    def h(x):
        return x

    with pytest.raises(AttributeError, match="No JVP defined"):
        h(1.0)


def test_closure_convert_hoists_differentiable_closures_for_custom_vjp():
    """The pattern from JAX's docs: a custom_vjp higher-order function gets a closure; after
    closure_convert its bwd can return cotangents for the closed-over values."""
    @functools.partial(jaxel.custom_vjp, nondiff_argnums=(0,))
    def apply(f, x, *consts):
        return f(x, *consts)

    def apply_fwd(f, x, *consts):
        return f(x, *consts), (x, consts)

    def apply_bwd(f, res, ct):
        x, consts = res
        _, pullback = jaxel.vjp(f, x, *consts)
        return pullback(ct)

    apply.defvjp(apply_fwd, apply_bwd)

    def loss(scale, x):
        w = jnp.array([1.0, 2.0]) * scale
        f = lambda v: jnp.sin(v * w).sum()
        g, consts = jaxel.closure_convert(f, x)
        assert len(consts) == 1
        return apply(g, x, *consts)

    x = jnp.array([0.5, -1.0])
    ref = lambda s, x: jnp.sin(x * jnp.array([1.0, 2.0]) * s).sum()
    for argnums in (0, 1):
        np.testing.assert_allclose(jaxel.grad(loss, argnums)(1.5, x),
                                   jaxel.grad(ref, argnums)(1.5, x), rtol=1e-6)


def test_closure_convert_keeps_integer_constants_and_checks_arguments():
    idx = jnp.array([1, 0])
    g, consts = jaxel.closure_convert(lambda x: x[idx] * 2.0, jnp.ones(2))
    assert consts == []
    np.testing.assert_array_equal(g(jnp.array([1.0, 3.0])), [6.0, 2.0])
    with pytest.raises(TypeError, match="closure_convert"):
        g(jnp.ones(2), jnp.ones(2))
