"""``lax.while_loop``: against Python loops (eagerly, under jit, with pytrees), forward-mode
derivatives against finite differences, the reverse-mode error, vmap with batched and unbatched
predicates, nesting, input errors, agreement with jax, and ``max_steps`` (beyond JAX)."""
from __future__ import annotations

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel import lax
from jaxel.runtime import compile_cache
from jaxel.test_util import check_grads

RNG = np.random.default_rng(0)


def _close(a, b, tol=1e-5):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


def _tree_close(a, b, tol=1e-5):
    la, ta = jaxel.tree_util.tree_flatten(a)
    lb, tb = jaxel.tree_util.tree_flatten(b)
    assert ta == tb, (ta, tb)
    for x, y in zip(la, lb):
        _close(x, y, tol)


def _py_while(cond, body, val):
    while bool(cond(val)):
        val = body(val)
    return val


# ---- programs shared by several tests --------------------------------------------------------
def _newton_sqrt(a):
    """Newton iterations for sqrt(a) until converged (data-dependent trip count)."""
    def cond(c):
        x, i = c
        return (jnp.abs(x * x - a) > 1e-4 * a) & (i < 50)

    def body(c):
        x, i = c
        return (0.5 * (x + a / x), i + 1)

    return lax.while_loop(cond, body, (a, 0))


def _dict_loop(x):
    """A dict carry with an integer counter, an array and a nested tuple."""
    def cond(c):
        return c["n"] < 4

    def body(c):
        return {"n": c["n"] + 1, "v": jnp.sin(c["v"]) * 1.1 + c["w"][0],
                "w": (c["w"][0] * 0.9, c["w"][1])}

    return lax.while_loop(cond, body, {"n": 0, "v": x, "w": (x * 0.5, jnp.float32(2.0))})


# ---- evaluation ------------------------------------------------------------------------------
def test_scalar_loop_matches_python():
    out = lax.while_loop(lambda x: x < 10, lambda x: x * 2, 1)
    assert int(out) == 16
    assert out.dtype == np.int32


def test_pytree_carry_eager_and_jit():
    x = jnp.asarray(RNG.standard_normal(3).astype(np.float32))
    eager = _dict_loop(x)
    jitted = jaxel.jit(_dict_loop)(x)
    n, v, w = 0, np.asarray(x), (np.asarray(x) * 0.5, np.float32(2.0))
    while n < 4:
        n, v, w = n + 1, np.sin(v) * 1.1 + w[0], (w[0] * 0.9, w[1])
    want = {"n": n, "v": v, "w": w}
    _tree_close(eager, want)
    _tree_close(jitted, want)
    assert set(eager) == {"n", "v", "w"}


def test_data_dependent_trip_count():
    for a in (2.0, 9.0, 123.0):
        x, i = _newton_sqrt(jnp.float32(a))
        _close(x, np.sqrt(a), 1e-3)
        want = _py_while(lambda c: (abs(c[0] * c[0] - a) > 1e-4 * a) and c[1] < 50,
                         lambda c: (0.5 * (c[0] + a / c[0]), c[1] + 1), (np.float32(a), 0))
        assert int(i) == want[1]


def test_zero_iterations_and_closure_constants():
    big = jnp.arange(5.0)
    out = lax.while_loop(lambda c: c[0] < 0, lambda c: (c[0] + 1, c[1] + big), (3, big))
    _close(out[1], np.arange(5.0))
    assert int(out[0]) == 3
    # closed-over arrays in both functions
    lim = jnp.asarray(7.0)
    out = lax.while_loop(lambda v: v.sum() < lim, lambda v: v + big * 0.1, jnp.zeros(5))
    v = np.zeros(5, np.float32)
    while v.sum() < 7.0:
        v = v + np.arange(5.0, dtype=np.float32) * np.float32(0.1)
    _close(out, v)


def test_eager_loop_is_one_cached_computation():
    def cond(c):
        return c[0] < 100

    def body(c):
        return (c[0] + 1, c[1] * 1.01)

    init = (0, jnp.ones(3))
    lax.while_loop(cond, body, init)
    before = compile_cache.stats()["misses"]
    out = lax.while_loop(cond, body, init)
    assert compile_cache.stats()["misses"] == before
    _close(out[1], np.ones(3) * 1.01 ** 100, 1e-4)


def test_weak_typed_carry_takes_body_type():
    out = lax.while_loop(lambda x: x < 5.0, lambda x: x + jnp.float32(1.5), 0)
    assert out.dtype == np.float32
    _close(out, 6.0)


def test_nested_while():
    def inner(x):
        return lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] * 2.0), (0, x))[1]

    def outer(x):
        return lax.while_loop(lambda c: c[1].sum() < 1000.0,
                              lambda c: (c[0] + 1, inner(c[1]) + 1.0), (0, x))

    x = jnp.asarray([1.0, 2.0])
    n, v = 0, np.array([1.0, 2.0], np.float32)
    while v.sum() < 1000.0:
        n, v = n + 1, v * 8.0 + 1.0
    for f in (outer, jaxel.jit(outer)):
        got = f(x)
        assert int(got[0]) == n
        _close(got[1], v)


def test_jaxpr_has_one_while_equation():
    jaxpr = jaxel.make_jaxpr(_newton_sqrt)(jnp.float32(2.0))
    names = [e.primitive.name for e in jaxpr.jaxpr.eqns]
    assert names == ["while"]
    assert "while[" in str(jaxpr)


# ---- forward mode ----------------------------------------------------------------------------
def test_jvp_matches_finite_differences():
    with jaxel.config._override("jax_enable_x64", True):
        x = RNG.standard_normal(3)
        check_grads(lambda v: _dict_loop(v)["v"], (x,), order=2, modes=("fwd",))
        check_grads(lambda a: _newton_sqrt(a)[0], (np.float64(3.0),), order=1, modes=("fwd",))

        def consts_and_carry(x, s):  # tangents through body constants too
            return lax.while_loop(lambda c: c[0] < 3,
                                  lambda c: (c[0] + 1, jnp.tanh(c[1] * s) + s), (0, x))[1]

        check_grads(consts_and_carry, (x, np.float64(0.7)), order=1, modes=("fwd",))


def test_tangent_becomes_nonzero_after_an_iteration():
    # init tangent of b is zero, but b picks up a's tangent in the body (needs the fixpoint)
    def f(x):
        return lax.while_loop(lambda c: c[0] < 3,
                              lambda c: (c[0] + 1, c[1] * 2.0, c[2] + c[1]),
                              (0, x, jnp.float32(0.0)))[2]

    _, t = jaxel.jvp(f, (jnp.float32(1.0),), (jnp.float32(1.0),))
    _close(t, 1.0 + 2.0 + 4.0)


def test_jacfwd():
    def f(x):
        return lax.while_loop(lambda c: c[0] < 3,
                              lambda c: (c[0] + 1, jnp.sin(c[1]) * c[1][::-1]), (0, x))[1]

    x = jnp.asarray([0.3, -0.2, 0.5])
    jac = np.asarray(jaxel.jacfwd(f)(x))
    eps = 1e-3
    num = np.stack([(np.asarray(f(x + eps * np.eye(3)[i])) - np.asarray(f(x - eps * np.eye(3)[i])))
                    / (2 * eps) for i in range(3)], axis=1)
    _close(jac, num, 1e-2)


def test_jvp_with_tangent_only_in_cond_is_zero():
    # the trip count depends on x, the carry does not: the derivative is zero
    def f(x):
        return lax.while_loop(lambda c: c[1] < x, lambda c: (c[0] * 2.0, c[1] + 1.0),
                              (jnp.float32(1.0), jnp.float32(0.0)))[0]

    _, t = jaxel.jvp(f, (jnp.float32(3.5),), (jnp.float32(1.0),))
    _close(t, 0.0)
    _close(jaxel.grad(f)(jnp.float32(3.5)), 0.0)


def test_linearize_runs_primal_now():
    f = lambda x: _dict_loop(x)["v"]  # noqa: E731
    x = jnp.asarray([0.1, 0.2, 0.3])
    y, f_jvp = jaxel.linearize(f, x)
    _close(y, f(x))
    _close(f_jvp(jnp.ones(3)), jaxel.jvp(f, (x,), (jnp.ones(3),))[1])


# ---- reverse mode: a clear error -------------------------------------------------------------
@pytest.mark.parametrize("how", ["grad", "grad_jit", "jit_grad", "vjp", "jacrev"])
def test_reverse_mode_raises_clear_error(how):
    def f(x):
        return lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] * c[1]),
                              (0, x))[1].sum()

    x = jnp.asarray([0.5, 0.7])
    call = {"grad": lambda: jaxel.grad(f)(x),
            "grad_jit": lambda: jaxel.grad(jaxel.jit(f))(x),
            "jit_grad": lambda: jaxel.jit(jaxel.grad(f))(x),
            "vjp": lambda: jaxel.vjp(f, x)[1](jnp.float32(1.0)),
            "jacrev": lambda: jaxel.jacrev(f)(x)}[how]
    with pytest.raises(ValueError, match="Reverse-mode differentiation .* while_loop") as info:
        call()
    msg = str(info.value)
    assert "fori_loop" in msg and "scan" in msg and "max_steps" in msg


def test_grad_through_unrelated_loop_is_fine():
    def f(x):
        n = lax.while_loop(lambda i: i < 4, lambda i: i + 1, 0)
        return x * n.astype(jnp.float32)

    _close(jaxel.grad(f)(jnp.float32(2.0)), 4.0)


# ---- vmap ------------------------------------------------------------------------------------
def _collatz_like(x, k):
    """Per-example trip counts: double x until it exceeds k."""
    return lax.while_loop(lambda c: c[1] < k, lambda c: (c[0] + 1, c[1] * 2.0 + 0.1),
                          (0, x))


def _collatz_ref(x, k):
    n = 0
    while x < k:
        n, x = n + 1, np.float32(x * np.float32(2.0) + np.float32(0.1))
    return n, x


def test_vmap_batched_predicate_examples_finish_at_different_iterations():
    xs = np.array([0.5, 3.0, 20.0, 0.01], np.float32)
    ks = np.array([10.0, 10.0, 10.0, 100.0], np.float32)
    for f in (jaxel.vmap(_collatz_like), jaxel.jit(jaxel.vmap(_collatz_like)),
              jaxel.vmap(jaxel.jit(_collatz_like))):
        n, x = f(jnp.asarray(xs), jnp.asarray(ks))
        want = [_collatz_ref(a, b) for a, b in zip(xs, ks)]
        assert [int(v) for v in np.asarray(n)] == [w[0] for w in want]
        _close(x, [w[1] for w in want])


def test_vmap_unbatched_predicate_batched_carry():
    def f(x):
        return lax.while_loop(lambda c: c[0] < 5, lambda c: (c[0] + 1, c[1] * 1.5 + c[0]),
                              (0, x))

    xs = jnp.asarray(RNG.standard_normal((4, 3)).astype(np.float32))
    n, v = jaxel.vmap(f)(xs)
    assert [int(a) for a in np.asarray(n)] == [5] * 4
    # the counter is the same for every example: unbatched, so out_axes=None works
    n1, _ = jaxel.vmap(f, out_axes=(None, 0))(xs)
    assert int(n1) == 5
    _close(v, np.stack([np.asarray(f(x)[1]) for x in xs]))
    # the predicate's jaxpr stays unbatched: no reduce_or in the loop
    assert "reduce_or" not in str(jaxel.make_jaxpr(jaxel.vmap(f))(xs))


def test_vmap_batched_body_constant_and_in_axes():
    def f(x, s):
        return lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] * s), (0, x))[1]

    x = jnp.asarray(RNG.standard_normal((3, 2)).astype(np.float32))
    s = jnp.asarray([1.0, 2.0])
    got = jaxel.vmap(f, in_axes=(1, 0))(x, s)
    want = np.stack([np.asarray(x)[:, i] * float(s[i]) ** 3 for i in range(2)])
    _close(got, want)
    # batched only through a body constant: the carry becomes batched after one iteration
    got = jaxel.vmap(f, in_axes=(None, 0))(x[:, 0], s)
    _close(got, np.stack([np.asarray(x)[:, 0] * float(si) ** 3 for si in s]))


def test_vmap_nested_while_and_jvp_under_vmap():
    def f(x):
        def inner(v):
            return lax.while_loop(lambda c: c[1] < 4.0, lambda c: (c[0] + 1, c[1] + v),
                                  (0, jnp.float32(0.0)))[0]
        return lax.while_loop(lambda c: c[0] < inner(x), lambda c: (c[0] + 1, c[1] * x),
                              (0, jnp.float32(1.0)))[1]

    xs = jnp.asarray([0.5, 1.0, 2.5, 5.0])
    got = jaxel.vmap(f)(xs)
    _close(got, [float(f(x)) for x in xs])
    t = jaxel.vmap(lambda x: jaxel.jvp(f, (x,), (jnp.float32(1.0),))[1])(xs)
    _close(t, [float(jaxel.jvp(f, (x,), (jnp.float32(1.0),))[1]) for x in xs], 1e-4)


def test_vmap_collective_in_body():
    def f(x):
        return lax.while_loop(lambda c: c[0] < 3,
                              lambda c: (c[0] + 1, c[1] - lax.pmean(c[1], "i") * 0.5), (0, x))[1]

    xs = RNG.standard_normal(4).astype(np.float32)
    got = jaxel.vmap(f, axis_name="i")(jnp.asarray(xs))
    v = xs.copy()
    for _ in range(3):
        v = v - v.mean() * np.float32(0.5)
    _close(got, v)


def test_vmap_axis_index_in_cond():
    def f(x):
        return lax.while_loop(lambda c: c[0] < lax.axis_index("i"),
                              lambda c: (c[0] + 1, c[1] + 1.0), (0, x))

    n, v = jaxel.vmap(f, axis_name="i")(jnp.zeros(4))
    assert [int(a) for a in np.asarray(n)] == [0, 1, 2, 3]
    _close(v, [0.0, 1.0, 2.0, 3.0])


# ---- errors ----------------------------------------------------------------------------------
def test_body_changing_carry_type_names_the_leaf():
    with pytest.raises(TypeError, match=r"at leaf \['b'\]: body_fun output is f32\[2\] but "
                                        r"init_val .*is f32\[3\]"):
        lax.while_loop(lambda c: c["a"] < 3, lambda c: {"a": c["a"] + 1, "b": c["b"][:2]},
                       {"a": 0, "b": jnp.zeros(3)})
    with pytest.raises(TypeError, match=r"int32.*float32|i32.*f32|f32.*i32"):
        lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1].astype(jnp.float32)),
                       (0, jnp.zeros(3, jnp.int32)))
    with pytest.raises(TypeError, match="structure"):
        lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1,), (0, jnp.zeros(3)))


def test_cond_must_return_boolean_scalar():
    with pytest.raises(TypeError, match="not a scalar"):
        lax.while_loop(lambda v: v < 3, lambda v: v + 1, jnp.zeros(3))
    with pytest.raises(TypeError, match="not boolean"):
        lax.while_loop(lambda v: v.sum(), lambda v: v + 1, jnp.zeros(3))
    with pytest.raises(TypeError, match="boolean scalar"):
        lax.while_loop(lambda v: (v.sum() < 1, v.sum() < 2), lambda v: v + 1, jnp.zeros(3))


def test_bad_max_steps():
    with pytest.raises(TypeError, match="max_steps must be a Python int"):
        lax.while_loop(lambda v: v < 3, lambda v: v + 1, 0, max_steps=jnp.int32(3) + 0.5)
    with pytest.raises(ValueError, match="non-negative"):
        lax.while_loop(lambda v: v < 3, lambda v: v + 1, 0, max_steps=-1)


# ---- agreement with jax ----------------------------------------------------------------------
def _programs(L, np_):
    def newton(a):
        return L.while_loop(lambda c: (abs(c[0] * c[0] - a) > 1e-4 * a) & (c[1] < 50),
                            lambda c: (0.5 * (c[0] + a / c[0]), c[1] + 1), (a, 0))

    def pytree(x):
        return L.while_loop(lambda c: c["n"] < 4,
                            lambda c: {"n": c["n"] + 1, "v": np_.sin(c["v"]) + c["n"]},
                            {"n": 0, "v": x})

    return {"newton": newton, "pytree": pytree}


def test_agrees_with_jax():
    jax = pytest.importorskip("jax")
    import jax.numpy as jjnp
    ours, theirs = _programs(lax, jnp), _programs(jax.lax, jjnp)
    a = np.float32(7.0)
    _tree_close(ours["newton"](jnp.asarray(a)), theirs["newton"](jjnp.asarray(a)))
    x = RNG.standard_normal(3).astype(np.float32)
    _tree_close(ours["pytree"](jnp.asarray(x)), theirs["pytree"](jjnp.asarray(x)))
    # vmap with a batched predicate, and jvp
    xs = np.array([2.0, 5.0, 50.0], np.float32)
    _tree_close(jaxel.vmap(ours["newton"])(jnp.asarray(xs)),
                jax.vmap(theirs["newton"])(jjnp.asarray(xs)), 1e-4)
    t_ours = jaxel.jvp(lambda v: ours["pytree"](v)["v"], (jnp.asarray(x),), (jnp.ones(3),))
    t_theirs = jax.jvp(lambda v: theirs["pytree"](v)["v"], (jjnp.asarray(x),), (jjnp.ones(3),))
    _tree_close(t_ours, t_theirs, 1e-4)
    # the weak-typed result of a Python-scalar carry
    o, t = lax.while_loop(lambda x: x < 10, lambda x: x * 2, 1), \
        jax.lax.while_loop(lambda x: x < 10, lambda x: x * 2, 1)
    assert int(o) == int(t) and o.dtype == t.dtype


# ---- max_steps (beyond JAX) ------------------------------------------------------------------
needs_scan = pytest.mark.skipif(not callable(getattr(lax, "scan", None)),
                                reason="lax.scan not available yet")


def _damped(x, limit, max_steps):
    return lax.while_loop(lambda c: c[1].sum() < limit,
                          lambda c: (c[0] + 1, c[1] * 1.3 + jnp.sin(c[1])),
                          (0, x), max_steps=max_steps)


@needs_scan
def test_max_steps_stops_early_and_caps():
    x = jnp.asarray([0.2, 0.4])
    full = lax.while_loop(lambda c: c[1].sum() < 5.0,
                          lambda c: (c[0] + 1, c[1] * 1.3 + jnp.sin(c[1])), (0, x))
    n_full = int(full[0])
    early = _damped(x, 5.0, n_full + 10)  # stops early: same as the plain loop
    assert int(early[0]) == n_full
    _close(early[1], full[1])
    capped = _damped(x, 5.0, n_full - 2)  # exactly max_steps iterations
    assert int(capped[0]) == n_full - 2
    v = np.asarray(x)
    for _ in range(n_full - 2):
        v = v * np.float32(1.3) + np.sin(v)
    _close(capped[1], v)
    zero = _damped(x, 5.0, 0)
    assert int(zero[0]) == 0
    _close(zero[1], x)
    _tree_close(jaxel.jit(lambda v: _damped(v, 5.0, 4))(x), _damped(x, 5.0, 4))


@needs_scan
def test_max_steps_grad_matches_finite_differences():
    with jaxel.config._override("jax_enable_x64", True):
        x = np.array([0.2, 0.4])
        # stops early (limit reached within the bound) and capped by the bound
        check_grads(lambda v: _damped(v, 5.0, 20)[1], (x,), order=1, modes=("fwd", "rev"))
        check_grads(lambda v: _damped(v, 5.0, 2)[1], (x,), order=1, modes=("fwd", "rev"))
        g = jaxel.grad(lambda v: _damped(v, 5.0, 20)[1].sum())(jnp.asarray(x))
        assert np.all(np.isfinite(np.asarray(g)))


@needs_scan
def test_max_steps_vmap():
    xs = jnp.asarray([[0.2, 0.4], [1.0, 2.0], [0.01, 0.02]])
    n, v = jaxel.vmap(lambda x: _damped(x, 5.0, 6))(xs)
    for i in range(3):
        ni, vi = _damped(xs[i], 5.0, 6)
        assert int(n[i]) == int(ni)
        _close(v[i], vi)
