"""jaxel.custom_batching: custom_vmap (rule used by vmap, also through jit and nested vmaps)
and sequential_vmap, against JAX 0.12.1 and NumPy."""
import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp

jax = pytest.importorskip("jax")


def _make(lib, calls):
    cb, np_ = lib.custom_batching, lib.numpy

    @cb.custom_vmap
    def f(x, y):
        return np_.sin(x) * y

    @f.def_vmap
    def rule(axis_size, in_batched, x, y):
        calls.append((axis_size, in_batched))
        # Deliberately different from f (cos for sin) so that a test can tell who ran.
        return np_.cos(x) * y, in_batched[0] or in_batched[1]

    return f


X = np.arange(6.0, dtype=np.float32).reshape(2, 3)


@pytest.mark.parametrize("how", ["plain", "vmap", "nested", "jit_of_vmap", "vmap_of_jit",
                                 "unbatched", "both", "jvp", "vmap_of_jvp",
                                 "vmap_of_jvp_tangent_only", "jit_vmap_of_jvp"])
def test_custom_vmap_matches_jax(how):
    results = []
    for lib in (jaxel, jax):
        calls = []
        f = _make(lib, calls)
        run = {
            "plain": lambda: f(X[0, 1], 2.0),
            "vmap": lambda: lib.vmap(f, (0, None))(X[0], 2.0),
            "nested": lambda: lib.vmap(lib.vmap(f, (0, None)), (0, None))(X, 2.0),
            "jit_of_vmap": lambda: lib.jit(lib.vmap(f, (0, None)))(X[0], 2.0),
            "vmap_of_jit": lambda: lib.vmap(lib.jit(f), (0, None))(X[0], 2.0),
            "unbatched": lambda: lib.vmap(f, (None, None), axis_size=2)(1.0, 2.0),
            "both": lambda: lib.vmap(f)(X[0], X[1]),
            "jvp": lambda: lib.jvp(f, (1.0, 2.0), (1.0, 0.0))[1],
            # Forward mode keeps the rule: vmap of a jvp calls jvp(rule), as in JAX.
            "vmap_of_jvp": lambda: lib.vmap(lambda a, t: lib.jvp(f, (a, 2.0), (t, 0.0)))(
                X[0], X[1])[1],
            "vmap_of_jvp_tangent_only": lambda: lib.vmap(
                lambda t: lib.jvp(f, (0.5, 2.0), (t, 1.0)))(X[1])[1],
            "jit_vmap_of_jvp": lambda: lib.jit(lib.vmap(
                lambda a, t: lib.jvp(f, (a, 2.0), (t, 0.0))))(X[0], X[1])[0],
        }[how]
        results.append((np.asarray(run()), calls))
    (ours, our_calls), (theirs, their_calls) = results
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    assert our_calls == their_calls
    if how == "vmap":  # the rule ran (cos), not f (sin)
        np.testing.assert_allclose(ours, np.cos(X[0]) * 2.0, rtol=1e-6)


def test_pytree_arguments_and_out_batched_prefix():
    calls = []

    @jaxel.custom_batching.custom_vmap
    def g(d):
        return {"s": d["a"] + d["b"], "t": d["a"]}

    @g.def_vmap
    def rule(axis_size, in_batched, d):
        calls.append(in_batched)
        (ib,) = in_batched
        return {"s": d["a"] + d["b"], "t": d["a"]}, {"s": ib["a"] or ib["b"], "t": ib["a"]}

    out = jaxel.vmap(g, ({"a": 0, "b": None},))({"a": jnp.arange(3.0), "b": 1.0})
    assert calls == [[{"a": True, "b": False}]]
    np.testing.assert_allclose(np.asarray(out["s"]), np.arange(3.0) + 1)
    np.testing.assert_allclose(np.asarray(out["t"]), np.arange(3.0))


def test_grad_through_the_rule_and_jvp_of_f():
    calls = []
    f = _make(jaxel, calls)
    # grad of a vmapped custom_vmap function differentiates the rule's computation.
    g = jaxel.grad(lambda x: jaxel.vmap(f, (0, None))(x, 2.0).sum())(jnp.asarray(X[0]))
    np.testing.assert_allclose(np.asarray(g), -2.0 * np.sin(X[0]), rtol=1e-6)
    # jvp of the function itself differentiates f, as JAX does.
    _, t = jaxel.jvp(f, (1.0, 2.0), (1.0, 0.0))
    np.testing.assert_allclose(float(t), 2.0 * np.cos(1.0), rtol=1e-6)


def test_errors():
    @jaxel.custom_batching.custom_vmap
    def h(x):
        return x * 2

    with pytest.raises(AttributeError, match="def_vmap"):
        jaxel.vmap(h)(jnp.ones(2))

    @h.def_vmap
    def bad_rule(axis_size, in_batched, x):
        return (x, x), True

    with pytest.raises(ValueError, match="structure"):
        jaxel.vmap(h)(jnp.ones(2))


def test_sequential_vmap_matches_jax_and_numpy():
    ours = jaxel.custom_batching.sequential_vmap(lambda x, y: (x * y).sum())
    theirs = jax.custom_batching.sequential_vmap(lambda x, y: (x * y).sum())
    expected = (X * X).sum(axis=1)
    for run in (lambda lib, s: lib.vmap(s)(X, X), lambda lib, s: lib.jit(lib.vmap(s))(X, X)):
        np.testing.assert_allclose(np.asarray(run(jaxel, ours)), expected)
        np.testing.assert_allclose(np.asarray(run(jax, theirs)), expected)
    np.testing.assert_allclose(np.asarray(jaxel.vmap(ours, (0, None))(X, 3.0)),
                               np.asarray(jax.vmap(theirs, (0, None))(X, 3.0)))
    np.testing.assert_allclose(np.asarray(jaxel.vmap(jaxel.vmap(ours))(X, X)), X * X)
    assert float(ours(X[1], 2.0)) == float(theirs(X[1], 2.0))
    jaxpr = str(jaxel.make_jaxpr(jaxel.vmap(ours))(X, X))
    assert "while" in jaxpr or "scan" in jaxpr  # a loop, not a vectorised product


def test_keyword_arguments_are_resolved_to_positions_like_jax():
    results = []
    for lib in (jaxel, jax):
        calls = []

        @lib.custom_batching.custom_vmap
        def f(x, y=1.0):
            return x * y

        @f.def_vmap
        def rule(axis_size, in_batched, x, y=1.0):
            calls.append(in_batched)
            return x * y, True

        a = lib.vmap(lambda x: f(x, y=2.0))(np.ones(2, np.float32))
        b = lib.vmap(lambda x: f(x))(np.ones(2, np.float32))
        results.append((np.asarray(a).tolist(), np.asarray(b).tolist(), calls))

        @lib.custom_batching.custom_vmap
        def g(x, *, z):
            return x

        g.def_vmap(lambda n, b, x: (x, True))
        with pytest.raises(TypeError):
            lib.vmap(lambda x: g(x, z=1.0))(np.ones(2, np.float32))
    assert results[0] == results[1]
