"""jaxel.checkpoint / remat: same derivatives, and the residuals the backward pass keeps are
exactly what the policy says (read off the differentiated program's jaxpr)."""
from __future__ import annotations

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel.ad_checkpoint import checkpoint_name
from jaxel.test_util import check_grads

policies = jaxel.checkpoint_policies


def _block(w, x):
    h = jnp.tanh(x @ w)
    h = checkpoint_name(h, "hidden")
    return jnp.sin(h @ w)


def _loss(fn):
    return lambda w, x: fn(w, x).sum()


def _saved_residuals(fn, *args):
    """The avals the forward half of the checkpoint hands to the backward half."""
    jaxpr = jaxel.make_jaxpr(jaxel.grad(_loss(fn)))(*args).jaxpr
    fwd = [e for e in jaxpr.eqns if e.primitive.name == "checkpoint"
           and not e.params["differentiated"]]
    assert len(fwd) == 1, jaxpr
    n_out = 1  # _block has one output
    return [str(v.aval.str_short()) for v in fwd[0].outvars[n_out:]]


W = jnp.asarray(np.random.default_rng(0).standard_normal((4, 4)).astype(np.float32) * 0.5)
X = jnp.asarray(np.random.default_rng(1).standard_normal((2, 4)).astype(np.float32))


@pytest.mark.parametrize("policy", [None, policies.nothing_saveable, policies.everything_saveable,
                                    policies.dots_saveable,
                                    policies.save_only_these_names("hidden")])
def test_gradients_do_not_depend_on_the_policy(policy):
    ref = jaxel.grad(_loss(_block))(W, X)
    ck = jaxel.checkpoint(_block, policy=policy)
    np.testing.assert_allclose(jaxel.grad(_loss(ck))(W, X), ref, rtol=1e-6)
    np.testing.assert_allclose(jaxel.jit(jaxel.grad(_loss(ck)))(W, X), ref, rtol=1e-5)
    check_grads(lambda w: _loss(ck)(w, X), (W,), order=2, modes=("fwd", "rev"))


def test_residuals_follow_the_policy():
    # Nothing saveable: only the inputs cross to the backward pass.
    assert sorted(_saved_residuals(jaxel.checkpoint(_block), W, X)) == ["f32[2,4]", "f32[4,4]"]
    # Dots saveable: the two matmul results are saved, tanh/sin/cos are recomputed.
    dots = _saved_residuals(jaxel.checkpoint(_block, policy=policies.dots_saveable), W, X)
    assert dots.count("f32[2,4]") == 3 and len(dots) == 4  # x, x@w, h@w and w
    # Only the named value: inputs plus the tagged hidden activation.
    named = _saved_residuals(
        jaxel.checkpoint(_block, policy=policies.save_only_these_names("hidden")), W, X)
    assert len(named) == 3
    every = _saved_residuals(jaxel.checkpoint(_block, policy=policies.everything_saveable), W, X)
    plain = jaxel.make_jaxpr(jaxel.grad(_loss(_block)))(W, X)
    assert len(every) > len(dots) > len(named) - 1
    assert "checkpoint" not in str(plain)


def test_backward_recomputation_sits_behind_an_optimization_barrier():
    ck = jaxel.checkpoint(_block)
    text = jaxel.jit(jaxel.grad(_loss(ck))).lower(W, X).as_text()
    assert "optimization_barrier" in text
    text = jaxel.jit(jaxel.grad(_loss(jaxel.checkpoint(_block, prevent_cse=False)))).lower(
        W, X).as_text()
    assert "optimization_barrier" not in text


def test_static_argnums_and_decorator_forms():
    @jaxel.remat
    def f(x):
        return jnp.sin(x) ** 2

    @jaxel.checkpoint(static_argnums=(1,))
    def g(x, n):
        for _ in range(n):
            x = jnp.sin(x)
        return x

    assert np.allclose(jaxel.grad(f)(0.5), 2 * np.sin(0.5) * np.cos(0.5))
    expected = np.cos(np.sin(0.5)) * np.cos(0.5)
    assert np.allclose(jaxel.grad(g)(0.5, 2), expected)
    with pytest.raises(TypeError, match="static_argnums"):
        g(0.5)


def test_nested_checkpoints_and_higher_order():
    inner = jaxel.checkpoint(lambda x: jnp.exp(jnp.sin(x)))
    outer = jaxel.checkpoint(lambda x: inner(x) * jnp.cos(x))
    f = lambda x: outer(x)
    ref = lambda x: jnp.exp(jnp.sin(x)) * jnp.cos(x)
    for d in (jaxel.grad, lambda h: jaxel.grad(jaxel.grad(h))):
        np.testing.assert_allclose(d(f)(0.7), d(ref)(0.7), rtol=1e-6)
    hvp = jaxel.jvp(jaxel.grad(f), (0.7,), (1.0,))[1]
    np.testing.assert_allclose(hvp, jaxel.grad(jaxel.grad(ref))(0.7), rtol=1e-6)


def test_checkpoint_over_closed_tracer_and_pytrees():
    def outer(scale):
        ck = jaxel.checkpoint(lambda p: {"y": jnp.sin(p["a"]) * scale + p["b"]})
        return ck({"a": jnp.asarray(0.3), "b": jnp.asarray(1.0)})["y"]

    np.testing.assert_allclose(jaxel.grad(outer)(2.0), np.sin(0.3), rtol=1e-6)


def test_matches_jax():
    jax = pytest.importorskip("jax")

    def block(np_, w, x):
        return np_.sum(np_.sin(np_.tanh(x @ w) @ w))

    ours = jaxel.grad(lambda w: block(jnp, w, X), )
    theirs = jax.grad(lambda w: block(jax.numpy, w, np.asarray(X)))
    got = jaxel.grad(jaxel.checkpoint(lambda w: block(jnp, w, X),
                                      policy=policies.dots_saveable))(W)
    want = jax.grad(jax.checkpoint(lambda w: block(jax.numpy, w, np.asarray(X)),
                                   policy=jax.checkpoint_policies.dots_saveable))(np.asarray(W))
    np.testing.assert_allclose(got, want, rtol=1e-5)
    np.testing.assert_allclose(ours(W), theirs(np.asarray(W)), rtol=1e-5)
