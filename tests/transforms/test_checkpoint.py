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


# ---- policy answers, offload policies, checkpoint_name_fwd, print_saved_residuals ----------
from jaxel.ad_checkpoint import (Offloadable, Recompute, Saveable,  # noqa: E402
                                 checkpoint_name_fwd, print_saved_residuals, saved_residuals)


def test_policies_may_answer_recompute_saveable_or_offloadable():
    def as_enum(answer_for_dots):
        return lambda prim, *a, **p: answer_for_dots if policies.dots_saveable(prim) else Recompute

    dots = _saved_residuals(jaxel.checkpoint(_block, policy=policies.dots_saveable), W, X)
    for answer in (Saveable, Offloadable("device", "pinned_host")):
        got = _saved_residuals(jaxel.checkpoint(_block, policy=as_enum(answer)), W, X)
        assert got == dots
    nothing = _saved_residuals(jaxel.checkpoint(_block), W, X)
    assert _saved_residuals(jaxel.checkpoint(_block, policy=as_enum(Recompute)), W, X) == nothing
    for bad, match in [("yes", "must return a bool"), (Offloadable, "instance")]:
        with pytest.raises(TypeError, match=match):
            jaxel.grad(_loss(jaxel.checkpoint(_block, policy=as_enum(bad))))(W, X)


def test_offload_policies_and_save_from_both_policies():
    save = policies.save_and_offload_only_these_names(
        names_which_can_be_saved=["hidden"], names_which_can_be_offloaded=[],
        offload_src="device", offload_dst="pinned_host")
    named = policies.save_only_these_names("hidden")
    assert (_saved_residuals(jaxel.checkpoint(_block, policy=save), W, X)
            == _saved_residuals(jaxel.checkpoint(_block, policy=named), W, X))
    with pytest.raises(ValueError, match="hidden"):
        policies.save_and_offload_only_these_names(
            names_which_can_be_saved=["hidden"], names_which_can_be_offloaded=["hidden"],
            offload_src="device", offload_dst="pinned_host")
    offload = policies.offload_dot_with_no_batch_dims("device", "pinned_host")
    assert (_saved_residuals(jaxel.checkpoint(_block, policy=offload), W, X)
            == _saved_residuals(jaxel.checkpoint(_block, policy=policies.dots_saveable), W, X))
    assert policies.save_from_both_policies(policies.nothing_saveable, named) is named
    both = policies.save_from_both_policies(named, lambda *a, **p: Saveable)
    with pytest.raises(ValueError, match="bools"):
        jaxel.grad(_loss(jaxel.checkpoint(_block, policy=both)))(W, X)
    assert (_saved_residuals(jaxel.checkpoint(
        _block, policy=policies.save_anything_except_these_names("hidden")), W, X)
        == _saved_residuals(jaxel.checkpoint(_block, policy=policies.everything_saveable), W, X))


def test_checkpoint_name_tags_only_the_primal_value():
    """As JAX: the tangent is not tagged (one ``name`` equation under jvp, not two)."""
    jax = pytest.importorskip("jax")
    import jax.ad_checkpoint  # noqa: F401  (a submodule JAX loads on import only)
    for name_fn, jname_fn in [(checkpoint_name, jax.ad_checkpoint.checkpoint_name),
                              (checkpoint_name_fwd, jax.ad_checkpoint.checkpoint_name_fwd)]:
        ours = jaxel.make_jaxpr(lambda x, t: jaxel.jvp(
            lambda y: name_fn(jnp.sin(y), "s"), (x,), (t,)))(1.0, 1.0)
        theirs = jax.make_jaxpr(lambda x, t: jax.jvp(
            lambda y: jname_fn(jax.numpy.sin(y), "s"), (x,), (t,)))(1.0, 1.0)
        count = lambda j: [e.primitive.name for e in j.eqns].count("name")
        assert count(ours) == count(theirs) == 1


def _mlp(np_):
    def mlp(params, x):
        for w, b in params:
            x = np_.tanh(x @ w + b)
        return (x ** 2).sum()
    return mlp


def _jax_lines(jax_fn, *args):
    """JAX's printed residuals, without the source location it appends (jaxel has none)."""
    import contextlib
    import io
    import re
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        jax_fn(*args)
    return [re.sub(r" from \S+:\d+:\d+ \(.*\)$", "", line) for line in buf.getvalue().splitlines()]


def test_print_saved_residuals_of_an_mlp_lists_jax_residuals(capsys):
    jax = pytest.importorskip("jax")
    import jax.ad_checkpoint  # noqa: F401
    rng = np.random.default_rng(0)
    params = [(rng.standard_normal((4, 5)).astype(np.float32), np.ones(5, np.float32)),
              (rng.standard_normal((5, 3)).astype(np.float32), np.ones(3, np.float32))]
    x = rng.standard_normal((2, 4)).astype(np.float32)
    print_saved_residuals(_mlp(jnp), params, x)
    ours = capsys.readouterr().out.splitlines()
    theirs = _jax_lines(lambda *a: jax.ad_checkpoint.print_saved_residuals(_mlp(jax.numpy), *a),
                        params, x)
    assert [line.split()[0] for line in ours] == [line.split()[0] for line in theirs]
    args = [line for line in ours if "argument" in line]
    assert args == [line for line in theirs if "argument" in line] == [
        "f32[4,5] from the argument params[0][0]", "f32[5,3] from the argument params[1][0]",
        "f32[2,4] from the argument x"]
    assert ours[3] == theirs[3] == "f32[2,5] output of tanh"


def test_saved_residuals_names_tagged_jitted_and_checkpointed_values():
    jax = pytest.importorskip("jax")
    import jax.ad_checkpoint  # noqa: F401

    def make(np_, lib, name_fn):
        g = lib.jit(lambda x: np_.sin(x) * x)
        inner = lib.checkpoint(lambda x: np_.sin(np_.sin(x)),
                               policy=lib.checkpoint_policies.save_only_these_names("a"))
        c = np_.arange(3.0)
        return lambda x: (name_fn(np_.exp(x), "e") * g(x) + inner(name_fn(np_.cos(x), "a"))
                          + x * c)

    x = np.linspace(0.1, 0.3, 3).astype(np.float32)
    ours = [f"{a.str_short()} {w}" for a, w in saved_residuals(make(jnp, jaxel, checkpoint_name),
                                                                 x)]
    theirs = _jax_lines(lambda *a: jax.ad_checkpoint.print_saved_residuals(
        make(jax.numpy, jax, jax.ad_checkpoint.checkpoint_name), *a), x)
    assert sorted(ours) == sorted(theirs)
    assert "f32[3] named 'e'" in ours and "f32[3] output of jitted function '<lambda>'" in ours
