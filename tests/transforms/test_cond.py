"""lax.cond and lax.switch: against Python branching, eagerly and under jit, with pytrees;
derivatives against finite differences; vmap against a loop (batched and unbatched
predicates); partial evaluation under jit; bad input."""
from __future__ import annotations

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel import lax
from jaxel.test_util import check_grads

RNG = np.random.default_rng(5)


def _close(a, b, tol=1e-5):
    for x, y in zip(jaxel.tree_util.tree_leaves(a), jaxel.tree_util.tree_leaves(b)):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=tol, atol=tol)


def _pytree_cond(p, tree):
    return lax.cond(p, lambda t: {"s": jnp.sin(t["a"]) * t["b"], "n": t["b"] + 1},
                    lambda t: {"s": t["a"] * 2.0, "n": t["b"] - 1}, tree)


def _reference(p, tree):
    a, b = np.asarray(tree["a"]), np.asarray(tree["b"])
    return {"s": np.sin(a) * b, "n": b + 1} if p else {"s": a * 2, "n": b - 1}


@pytest.mark.parametrize("jit", [False, True])
@pytest.mark.parametrize("p", [True, False])
def test_cond_pytrees_match_python(p, jit):
    tree = {"a": RNG.standard_normal(3).astype(np.float32), "b": np.float32(2.0)}
    f = jaxel.jit(_pytree_cond) if jit else _pytree_cond
    _close(f(p, tree), _reference(p, tree))


def test_cond_numeric_pred_and_operand_keyword():
    assert float(lax.cond(3, lambda x: x + 1, lambda x: x - 1, 1.0)) == 2.0
    assert float(lax.cond(0.0, lambda x: x + 1, lambda x: x - 1, operand=1.0)) == 0.0


@pytest.mark.parametrize("jit", [False, True])
def test_switch_clamps_index(jit):
    branches = [lambda x: x * 10, lambda x: x + 100, lambda x: -x]
    f = lambda i, x: lax.switch(i, branches, x)
    f = jaxel.jit(f) if jit else f
    x = np.arange(3, dtype=np.float32)
    for i, want in ((-5, x * 10), (0, x * 10), (1, x + 100), (2, -x), (9, -x)):
        _close(f(i, x), want)


def test_only_the_chosen_branch_runs_eagerly():
    calls = []
    lax.cond(True, lambda x: x + 1, lambda x: x / 0, jnp.ones(2))  # no error from x / 0
    del calls


def test_closures_over_arrays_and_outer_tracers():
    w = jnp.asarray(RNG.standard_normal(3).astype(np.float32))
    f = lambda s, p: lax.cond(p, lambda v: v * w * s, lambda v: v + s, jnp.ones(3)).sum()
    _close(jaxel.grad(f)(2.0, True), np.sum(np.asarray(w)))
    _close(jaxel.grad(f)(2.0, False), 3.0)


def _loss(x, p):
    y = x * 3
    return jnp.sum(lax.cond(p > 0, lambda v: jnp.sin(v * y), lambda v: jnp.log(v) * y, x))


@pytest.mark.parametrize("p", [1.0, -1.0])
def test_cond_gradients_match_finite_differences(p):
    with jaxel.config._override("jax_enable_x64", True):
        x = jnp.asarray(RNG.uniform(0.5, 2.0, 3))
        check_grads(lambda x: _loss(x, p), (x,), order=2, modes=("fwd", "rev"))
        check_grads(jaxel.jit(lambda x: _loss(x, p)), (x,), order=1, modes=("fwd", "rev"))


def test_switch_gradients_match_finite_differences():
    branches = [jnp.sin, lambda v: v ** 3, lambda v: jnp.exp(v) * v]
    with jaxel.config._override("jax_enable_x64", True):
        x = jnp.asarray(RNG.uniform(0.5, 2.0, 4))
        for i in range(3):
            check_grads(lambda x: lax.switch(i, branches, x), (x,), order=2,
                        modes=("fwd", "rev"))


def test_grad_of_jit_splits_cond_known_from_unknown():
    # grad(jit(f)): the cond is split so the backward program holds only the linear half.
    x = jnp.asarray(RNG.uniform(0.5, 2.0, 3).astype(np.float32))
    g1 = jaxel.grad(jaxel.jit(lambda x: _loss(x, 1.0)))(x)
    g2 = jaxel.grad(lambda x: _loss(x, 1.0))(x)
    _close(g1, g2)
    jaxpr = jaxel.make_jaxpr(jaxel.grad(lambda x: _loss(x, 1.0)))(x)
    assert str(jaxpr).count("cond[") == 2  # known (forward) and transposed (backward) halves


@pytest.mark.parametrize("pred_batched", [True, False])
def test_vmap_matches_loop(pred_batched):
    xs = RNG.uniform(0.5, 2.0, (4, 3)).astype(np.float32)
    ps = np.array([1.0, -1.0, -1.0, 1.0], np.float32)
    in_axes = (0, 0 if pred_batched else None)
    p_arg = ps if pred_batched else np.float32(-1.0)
    got = jaxel.vmap(_loss, in_axes=in_axes)(xs, p_arg)
    want = [_loss(jnp.asarray(xs[i]), ps[i] if pred_batched else -1.0) for i in range(4)]
    _close(got, np.stack([np.asarray(w) for w in want]))
    got_g = jaxel.vmap(jaxel.grad(_loss), in_axes=in_axes)(xs, p_arg)
    want_g = [jaxel.grad(_loss)(jnp.asarray(xs[i]), ps[i] if pred_batched else -1.0)
              for i in range(4)]
    _close(got_g, np.stack([np.asarray(w) for w in want_g]))


def test_vmap_switch_with_batched_index_and_grad_of_vmap():
    branches = [lambda v: v * 2, lambda v: jnp.sin(v), lambda v: v ** 2]
    idx = np.array([0, 2, 1, 5], np.int32)
    xs = RNG.standard_normal(4).astype(np.float32)
    got = jaxel.vmap(lambda i, x: lax.switch(i, branches, x))(idx, xs)
    want = [branches[min(i, 2)](jnp.asarray(x)) for i, x in zip(idx, xs)]
    _close(got, np.array([float(w) for w in want]))
    g = jaxel.grad(lambda xs: jnp.sum(jaxel.vmap(lambda i, x: lax.switch(i, branches, x))(
        idx, xs)))(xs)
    _close(g, np.array([2.0, 2 * xs[1], np.cos(xs[2]), 2 * xs[3]]), 1e-5)


def test_batched_predicate_gradient_has_no_nan_from_other_branch():
    f = lambda x: lax.cond(x > 0, lambda v: jnp.sqrt(v), lambda v: jnp.zeros_like(v), x)
    g = jaxel.vmap(jaxel.grad(f))(jnp.array([4.0, -1.0, 0.0]))
    _close(g, np.array([0.25, 0.0, 0.0]))


def test_nested_cond_under_jit_and_jvp():
    def f(x):
        return lax.cond(x.sum() > 0,
                        lambda v: lax.cond(v[0] > 0, jnp.sin, jnp.cos, v),
                        lambda v: v * 2, x)
    x = jnp.asarray([0.5, 1.0])
    _close(jaxel.jit(f)(x), np.sin([0.5, 1.0]))
    _, t = jaxel.jvp(f, (x,), (jnp.ones(2),))
    _close(t, np.cos([0.5, 1.0]))


def test_branch_output_mismatch_names_the_leaf():
    with pytest.raises(TypeError, match=r"at leaf \['a'\].*i32\[3\].*f32\[3\]"):
        lax.cond(True, lambda v: {"a": v}, lambda v: {"a": v.astype(jnp.int32)},
                 jnp.ones(3))
    with pytest.raises(TypeError, match="structure"):
        lax.cond(True, lambda v: v, lambda v: (v, v), jnp.ones(3))
    with pytest.raises(TypeError, match=r"branches\[0\].*branches\[2\]"):
        lax.switch(0, [lambda v: v, lambda v: v, lambda v: v[0]], jnp.ones(3))


def test_bad_predicates():
    with pytest.raises(TypeError, match="must be a scalar"):
        lax.cond(jnp.ones(2) > 0, lambda v: v, lambda v: v, 1.0)
    with pytest.raises(TypeError, match="must be an integer"):
        lax.switch(1.5, [lambda v: v, lambda v: v], 1.0)


def test_agrees_with_jax():
    jax = pytest.importorskip("jax")
    xs = RNG.uniform(0.5, 2.0, (4, 3)).astype(np.float32)
    ps = np.array([1.0, -1.0, -1.0, 1.0], np.float32)

    def prog(lib):
        def loss(x, p):
            y = x * 3
            return lib.numpy.sum(lib.lax.cond(p > 0, lambda v: lib.numpy.sin(v * y),
                                              lambda v: lib.numpy.log(v) * y, x))
        return lib.jit(lib.vmap(lib.value_and_grad(loss)))
    ours = prog(jaxel)(xs, ps)
    theirs = prog(jax)(xs, ps)
    _close(ours, theirs, 1e-5)
