"""lax.scan, fori_loop, map and associative_scan: results against Python reference loops
(eagerly and under jit, with pytrees), derivatives against finite differences, residuals of
grad (stacked per iteration; a checkpoint in the body still decides what is saved), vmap
against a loop, bad-input errors, and agreement with jax where it is installed."""
from __future__ import annotations

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel import lax
from jaxel.test_util import check_grads

RNG = np.random.default_rng(0)


def _rand(*shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


def _ref_scan(f, init, xs, length=None, reverse=False):
    """The Python loop scan stands for (on NumPy values, via jaxel ops one step at a time)."""
    leaves, tree = jaxel.tree_util.tree_flatten(xs)
    n = length if not leaves else leaves[0].shape[0]
    order = range(n - 1, -1, -1) if reverse else range(n)
    carry, ys = init, [None] * n
    for i in order:
        x = jaxel.tree_util.tree_unflatten(tree, [leaf[i] for leaf in leaves])
        carry, ys[i] = f(carry, x)
    stacked = jaxel.tree_util.tree_map(lambda *y: np.stack([np.asarray(v) for v in y]), *ys) \
        if n else None
    return carry, stacked


def _close(a, b, rtol=1e-5, atol=1e-5):
    la, ta = jaxel.tree_util.tree_flatten(a)
    lb, tb = jaxel.tree_util.tree_flatten(b)
    assert ta == tb, (ta, tb)
    for x, y in zip(la, lb):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=rtol, atol=atol)


# ---- forward results -------------------------------------------------------------------------
def _rnn_step(c, x):
    h, count = c["h"], c["n"]
    h = jnp.tanh(h * 0.5 + x["a"] @ jnp.ones((3, 2), np.float32) + x["b"])
    return {"h": h, "n": count + 1}, (h.sum(), h * 2.0)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("unroll", [1, 2, 3, True])
@pytest.mark.parametrize("use_jit", [False, True])
def test_scan_pytrees_against_a_python_loop(reverse, unroll, use_jit):
    xs = {"a": _rand(7, 3), "b": _rand(7, 2)}
    init = {"h": np.zeros(2, np.float32), "n": np.int32(0)}
    run = lambda init, xs: lax.scan(_rnn_step, init, xs, reverse=reverse, unroll=unroll)
    if use_jit:
        run = jaxel.jit(run)
    got = run(init, xs)
    want = _ref_scan(_rnn_step, init, xs, reverse=reverse)
    _close(got, want)
    assert got[0]["n"].dtype == np.int32 and int(got[0]["n"]) == 7


def test_scan_without_xs_and_with_closures():
    w = jnp.asarray(_rand(4, 4) * 0.3)

    def step(c, _):
        c = jnp.sin(w @ c)
        return c, c[0]
    c0 = jnp.asarray(_rand(4))
    got = lax.scan(step, c0, None, length=5)
    want = _ref_scan(step, c0, None, length=5)
    _close(got, want)
    _close(jaxel.jit(lambda c: lax.scan(step, c, None, length=5))(c0), want)
    # length 0: the init comes back, ys are empty
    c, ys = lax.scan(step, c0, None, length=0)
    _close(c, c0)
    assert ys.shape == (0,)


def test_scan_y_none_and_empty_carry():
    c, ys = lax.scan(lambda c, x: (c + x, None), 0.0, jnp.arange(4.0))
    assert float(c) == 6.0 and ys is None
    c, ys = lax.scan(lambda c, x: (c, x * 2), (), jnp.arange(3.0))
    assert c == () and np.allclose(ys, [0, 2, 4])


def test_weakly_typed_init_is_promoted():
    c, _ = lax.scan(lambda c, x: (c + x, None), 0.0, jnp.arange(3.0, dtype=np.float32))
    assert c.dtype == np.float32 and float(c) == 3.0


def test_scan_eager_is_one_compiled_program():
    from jaxel.runtime import compile_cache
    xs = jnp.asarray(_rand(6, 3))
    c0 = jnp.ones(3)
    step = lambda c, x: (c * x, c)
    first = lax.scan(step, c0, xs)
    before = compile_cache.stats()
    for _ in range(3):
        again = lax.scan(step, c0, xs)
    after = compile_cache.stats()
    # traced once, compiled once: later calls touch neither the tracer nor the compiler
    assert after["misses"] == before["misses"] and after["hits"] == before["hits"]
    _close(again, first)
    _close(first, jaxel.jit(lambda c, x: lax.scan(step, c, x))(c0, xs))


def test_jvp_carry_tangent_fixpoint():
    # the carry starts with a zero tangent but picks one up from xs
    f = lambda xs: lax.scan(lambda c, x: (c * 0.5 + x, c), 0.0, xs)
    xs, t = jnp.asarray(_rand(5)), jnp.asarray(_rand(5))
    (c, ys), (tc, tys) = jaxel.jvp(f, (xs,), (t,))
    def ref(xs):
        c, ys = 0.0, []
        for i in range(5):
            ys.append(c * jnp.ones(()))
            c = c * 0.5 + xs[i]
        return c, jnp.stack(ys)
    _, (rc, rys) = jaxel.jvp(ref, (xs,), (t,))
    np.testing.assert_allclose(tc, rc, rtol=1e-5)
    np.testing.assert_allclose(tys, rys, rtol=1e-5, atol=1e-6)


def test_lowering_is_a_while_loop_with_dynamic_slices():
    f = jaxel.jit(lambda xs: lax.scan(lambda c, x: (c + x, c * x), 0.0, xs))
    text = f.lower(jnp.arange(8.0)).as_text()
    assert "stablehlo.while" in text and "dynamic_slice" in text
    assert "dynamic_update_slice" in text
    unrolled = jaxel.jit(lambda xs: lax.scan(lambda c, x: (c + x, c * x), 0.0, xs,
                                             unroll=True)).lower(jnp.arange(8.0)).as_text()
    assert "stablehlo.while" not in unrolled


# ---- fori_loop, map, associative_scan --------------------------------------------------------
def test_fori_loop_static_and_traced_bounds():
    body = lambda i, x: x * 0.9 + jnp.sin(i * 1.0)
    want = 1.0
    for i in range(2, 9):
        want = want * 0.9 + np.sin(i)
    np.testing.assert_allclose(lax.fori_loop(2, 9, body, 1.0), want, rtol=1e-5)
    np.testing.assert_allclose(jaxel.jit(lambda x: lax.fori_loop(2, 9, body, x))(1.0), want,
                               rtol=1e-5)
    np.testing.assert_allclose(lax.fori_loop(2, 9, body, 1.0, unroll=3), want, rtol=1e-5)
    assert float(lax.fori_loop(5, 2, body, 1.0)) == 1.0  # empty range
    # pytree carry
    out = lax.fori_loop(0, 3, lambda i, c: (c[0] + i, c[1] * 2), (0, jnp.ones(2)))
    assert int(out[0]) == 3 and np.allclose(out[1], 8.0)
    import importlib
    if not hasattr(importlib.import_module("jaxel.lax.control_flow.while_loop"), "while_loop"):
        pytest.skip("while_loop not available yet")
    f = jaxel.jit(lambda lo, hi, x: lax.fori_loop(lo, hi, body, x))
    np.testing.assert_allclose(f(2, 9, 1.0), want, rtol=1e-5)
    assert "while" in str(jaxel.make_jaxpr(lambda lo, x: lax.fori_loop(lo, 9, body, x))(2, 1.0))
    # forward-mode through the while loop; unroll needs static bounds
    t = jaxel.jvp(lambda x: f(2, 9, x), (1.0,), (1.0,))[1]
    np.testing.assert_allclose(t, 0.9 ** 7, rtol=1e-5)
    with pytest.raises(ValueError, match="unroll"):
        jaxel.jit(lambda lo, x: lax.fori_loop(lo, 9, body, x, unroll=2))(2, 1.0)


def test_fori_loop_static_bounds_is_a_scan():
    jaxpr = jaxel.make_jaxpr(lambda x: lax.fori_loop(0, 5, lambda i, x: x * 2.0, x))(1.0)
    assert "scan" in str(jaxpr) and "length=5" in str(jaxpr)


@pytest.mark.parametrize("batch_size", [None, 1, 3, 4, 10, 20])
def test_map(batch_size):
    xs = {"u": _rand(10, 3), "v": _rand(10)}
    f = lambda d: (jnp.sin(d["u"]).sum() * d["v"], d["u"] * 2)
    got = lax.map(f, xs, batch_size=batch_size)
    want = (np.sin(xs["u"]).sum(1) * xs["v"], xs["u"] * 2)
    _close(got, want)
    _close(jaxel.jit(lambda x: lax.map(f, x, batch_size=batch_size))(xs), want)


def _cum(op, x, axis, reverse):
    x = np.flip(x, axis) if reverse else x
    out = op.accumulate(x, axis=axis)
    return np.flip(out, axis) if reverse else out


@pytest.mark.parametrize("n", [1, 2, 5, 8, 13])
@pytest.mark.parametrize("reverse", [False, True])
def test_associative_scan_cumsum_cummax(n, reverse):
    x = _rand(n, 3)
    np.testing.assert_allclose(lax.associative_scan(jnp.add, x, reverse=reverse),
                               _cum(np.add, x, 0, reverse), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(lax.associative_scan(jnp.maximum, x, reverse=reverse),
                                  _cum(np.maximum, x, 0, reverse))


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_associative_scan_axis_and_pytrees(axis):
    x = _rand(4, 7, 2)
    got = lax.associative_scan(jnp.add, x, axis=axis)
    np.testing.assert_allclose(got, np.cumsum(x, axis=axis), rtol=1e-5, atol=1e-5)
    # a pytree: (sum, max) together, one function
    tree = {"s": x, "m": x * 2}
    fn = lambda a, b: {"s": a["s"] + b["s"], "m": jnp.maximum(a["m"], b["m"])}
    got = jaxel.jit(lambda t: lax.associative_scan(fn, t, axis=axis, reverse=True))(tree)
    np.testing.assert_allclose(got["s"], _cum(np.add, x, axis % 3, True), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(got["m"], _cum(np.maximum, x * 2, axis % 3, True))


def test_associative_scan_non_commutative():
    # composition of affine maps y = a*x + b: (a1,b1) then (a2,b2) is (a2*a1, a2*b1 + b2)
    a, b = _rand(9), _rand(9)
    fn = lambda p, q: (q[0] * p[0], q[0] * p[1] + q[1])
    got_a, got_b = lax.associative_scan(fn, (a, b))
    ra, rb = [a[0]], [b[0]]
    for i in range(1, 9):
        ra.append(a[i] * ra[-1])
        rb.append(a[i] * rb[-1] + b[i])
    np.testing.assert_allclose(got_a, ra, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_b, rb, rtol=1e-5, atol=1e-6)


# ---- derivatives -----------------------------------------------------------------------------
def _x64(fn):
    import functools

    @functools.wraps(fn)
    def wrapped(*a, **k):
        with jaxel.config._override("jax_enable_x64", True):
            return fn(*a, **k)
    return wrapped


@pytest.mark.parametrize("reverse", [False, True])
@_x64
def test_scan_grads_against_finite_differences(reverse):
    w = jnp.asarray(RNG.standard_normal((3, 3)) * 0.4)
    xs = jnp.asarray(RNG.standard_normal((5, 3)))
    c0 = jnp.asarray(RNG.standard_normal(3))

    def f(w, c0, xs):
        def step(c, x):
            c = jnp.tanh(w @ c + x) * c[0]
            return c, jnp.sin(c) * x
        c, ys = lax.scan(step, c0, xs, reverse=reverse)
        return c, ys
    check_grads(f, (w, c0, xs), order=2, modes=("fwd", "rev"))
    check_grads(jaxel.jit(f), (w, c0, xs), order=1, modes=("fwd", "rev"))


@_x64
def test_scan_grads_with_pytrees_unroll_and_integer_carry():
    def f(p, xs):
        def step(c, x):
            h, k = c
            h = {"a": h["a"] * jnp.cos(x) + p, "b": h["b"] + jnp.sum(h["a"] * x)}
            return (h, k + 1), h["b"] * k
        (h, k), ys = lax.scan(step, ({"a": jnp.ones(2), "b": 0.0}, 0), xs, unroll=2)
        return h["a"].sum() + h["b"] + ys.sum()
    check_grads(f, (jnp.asarray([0.3, -0.2]), jnp.asarray(RNG.standard_normal((5, 2)))),
                order=2, modes=("fwd", "rev"))


@_x64
def test_fori_loop_static_bounds_grads():
    f = lambda x: lax.fori_loop(0, 4, lambda i, v: jnp.sin(v) * (i + 1.0), x)
    check_grads(f, (jnp.asarray([0.3, 1.2]),), order=2, modes=("fwd", "rev"))
    g = jaxel.grad(lambda x: f(x).sum())(jnp.asarray([0.3, 1.2]))
    gj = jaxel.jit(jaxel.grad(lambda x: f(x).sum()))(jnp.asarray([0.3, 1.2]))
    np.testing.assert_allclose(g, gj, rtol=1e-10)


@_x64
def test_grad_of_jit_and_jit_of_grad_agree():
    w = jnp.asarray(RNG.standard_normal((3, 3)) * 0.5)
    xs = jnp.asarray(RNG.standard_normal((6, 3)))

    def loss(w, xs):
        c, ys = lax.scan(lambda c, x: (jnp.tanh(w @ c + x), jnp.sum(c * x)), jnp.ones(3), xs)
        return jnp.sum(c) + jnp.sum(ys ** 2)
    ref = jaxel.grad(loss, argnums=(0, 1))(w, xs)
    for g in (jaxel.jit(jaxel.grad(loss, argnums=(0, 1))),
              jaxel.grad(jaxel.jit(loss), argnums=(0, 1))):
        _close(g(w, xs), ref, rtol=1e-10)


def _backward_scan_inputs(jaxpr):
    """The avals of the xs (per-iteration residuals) of the reverse scans in a jaxpr."""
    outs = []
    for e in jaxpr.eqns:
        if e.primitive.name == "scan" and e.params["reverse"]:
            nfix = e.params["num_consts"] + e.params["num_carry"]
            outs.append([a.aval.str_short() for a in e.invars[nfix:]])
    return outs


def test_grad_stores_residuals_per_iteration():
    w = jnp.asarray(_rand(4, 4))
    xs = jnp.asarray(_rand(6, 4))

    def loss(w, xs):
        return lax.scan(lambda c, x: (jnp.sin(w @ c + x), None), jnp.ones(4), xs)[0].sum()
    jaxpr = jaxel.make_jaxpr(jaxel.grad(loss))(w, xs).jaxpr
    scans = [e for e in jaxpr.eqns if e.primitive.name == "scan"]
    assert len(scans) == 2  # the forward (known) scan and the backward (transposed) scan
    back = _backward_scan_inputs(jaxpr)
    assert back and all(s.startswith("f32[6,") for s in back[0])  # stacked per iteration
    # w is loop-invariant: passed to the backward scan as a const, never stacked
    assert "f32[6,4,4]" not in str(jaxpr)
    # the same when the scan is split inside a jaxpr (grad of jit), and a value computed from
    # consts alone is hoisted out of the loop rather than stacked
    loss2 = lambda w, xs: lax.scan(lambda c, x: (jnp.sin((w.T * 2.0) @ c + x), None),
                                   jnp.ones(4), xs)[0].sum()
    for g in (jaxel.grad(jaxel.jit(loss2)), jaxel.jit(jaxel.grad(loss2)), jaxel.grad(loss2)):
        text = str(jaxel.make_jaxpr(g)(w, xs))
        assert "f32[6,4,4]" not in text, text
    np.testing.assert_allclose(jaxel.grad(jaxel.jit(loss2))(w, xs), jaxel.grad(loss2)(w, xs),
                               rtol=1e-5, atol=1e-6)


def test_checkpoint_in_the_body_changes_the_residuals():
    w = jnp.asarray(_rand(4, 4) * 0.5)
    xs = jnp.asarray(_rand(6, 4))

    def body(w, c, x):
        h = jnp.tanh(w @ c + x)
        h = jnp.sin(h) * jnp.cos(h)
        return jnp.exp(-h * h), None

    def loss(body):
        return lambda w, xs: lax.scan(lambda c, x: body(w, c, x), jnp.ones(4), xs)[0].sum()
    plain = jaxel.make_jaxpr(jaxel.grad(loss(body)))(w, xs)
    ck = jaxel.make_jaxpr(jaxel.grad(loss(jaxel.checkpoint(body))))(w, xs)
    n_plain = sum(len(s) for s in _backward_scan_inputs(plain.jaxpr))
    n_ck = sum(len(s) for s in _backward_scan_inputs(ck.jaxpr))
    assert n_ck < n_plain, (plain, ck)
    assert "checkpoint" in str(ck)
    assert "f32[6,4,4]" not in str(ck)  # w, forwarded through the checkpoint, is not stacked
    g0 = jaxel.grad(loss(body), argnums=(0, 1))(w, xs)
    for fn in (jaxel.grad(loss(jaxel.checkpoint(body)), argnums=(0, 1)),
               jaxel.jit(jaxel.grad(loss(jaxel.checkpoint(body)), argnums=(0, 1)))):
        _close(fn(w, xs), g0, rtol=1e-5, atol=1e-6)


def test_linear_transpose_of_scan():
    a = jnp.asarray(_rand(5))

    def f(xs):  # linear in xs: a running weighted sum
        return lax.scan(lambda c, x: (c * 0.5 + x, c + a[0] * x), 0.0, xs)
    xs = jnp.asarray(_rand(5))
    ct = (jnp.asarray(1.3), jnp.asarray(_rand(5)))
    (t,) = jaxel.linear_transpose(f, xs)(ct)
    _, vjp = jaxel.vjp(f, xs)
    np.testing.assert_allclose(t, vjp(ct)[0], rtol=1e-5)


# ---- vmap -------------------------------------------------------------------------------------
def _vmap_step(c, x, w):
    h = jnp.tanh(c @ w + x)
    return h, jnp.sum(h) * x


@pytest.mark.parametrize("c_axis", [None, 0])
@pytest.mark.parametrize("x_axis", [None, 0, 1])
@pytest.mark.parametrize("w_axis", [None, 0])
def test_vmap_of_scan_against_a_loop(c_axis, x_axis, w_axis):
    if c_axis is None and x_axis is None and w_axis is None:
        pytest.skip("nothing batched")
    B, T = 3, 5
    c = _rand(B, 2) if c_axis == 0 else _rand(2)
    x = {None: _rand(T, 2), 0: _rand(B, T, 2), 1: _rand(T, B, 2)}[x_axis]
    w = _rand(B, 2, 2) if w_axis == 0 else _rand(2, 2)

    def run(c, x, w):
        return lax.scan(lambda cc, xx: _vmap_step(cc, xx, w), c, x)
    got = jaxel.vmap(run, in_axes=(c_axis, x_axis, w_axis))(c, x, w)
    got_jit = jaxel.jit(jaxel.vmap(run, in_axes=(c_axis, x_axis, w_axis)))(c, x, w)
    for b in range(B):
        cb = c[b] if c_axis == 0 else c
        xb = x if x_axis is None else np.take(x, b, axis=x_axis)
        wb = w[b] if w_axis == 0 else w
        want = run(cb, xb, wb)
        _close(jaxel.tree_util.tree_map(lambda t: t[b], got), want)
        _close(jaxel.tree_util.tree_map(lambda t: t[b], got_jit), want)


def test_vmap_carry_becomes_batched_inside_the_body():
    # The carry starts unbatched but the body mixes in batched xs: fixpoint makes it batched.
    xs = _rand(4, 6)  # batch 4 of sequences of length 6
    f = lambda x: lax.scan(lambda c, xi: (c + xi, c), 0.0, x)
    c, ys = jaxel.vmap(f)(xs)
    np.testing.assert_allclose(c, xs.sum(1), rtol=1e-5)
    np.testing.assert_allclose(ys, np.cumsum(xs, 1) - xs, rtol=1e-5, atol=1e-6)
    # unbatched ys stay unbatched through out_axes=None
    g = lambda x: lax.scan(lambda c, xi: (c + xi, 1.0), 0.0, x)[1]
    assert jaxel.vmap(g, out_axes=None)(xs).shape == (6,)


@_x64
def test_grad_of_vmap_and_vmap_of_grad():
    w = jnp.asarray(RNG.standard_normal((3, 3)) * 0.5)
    xs = jnp.asarray(RNG.standard_normal((4, 5, 3)))  # 4 examples, 5 steps

    def loss1(w, x):
        c, ys = lax.scan(lambda c, xi: (jnp.tanh(w @ c + xi), c.sum()), jnp.ones(3), x)
        return jnp.sum(c ** 2) + jnp.sum(ys)
    per_ex = jaxel.vmap(jaxel.grad(loss1), in_axes=(None, 0))(w, xs)
    loop = np.stack([np.asarray(jaxel.grad(loss1)(w, xs[i])) for i in range(4)])
    np.testing.assert_allclose(per_ex, loop, rtol=1e-10)
    total = jaxel.grad(lambda w: jaxel.vmap(loss1, in_axes=(None, 0))(w, xs).sum())(w)
    np.testing.assert_allclose(total, loop.sum(0), rtol=1e-10)
    check_grads(lambda w: jaxel.vmap(loss1, in_axes=(None, 0))(w, xs), (w,), order=1,
                modes=("fwd", "rev"))


def test_collectives_in_a_scan_body_under_named_vmap():
    xs = _rand(4, 5)  # batch 4 (axis "i"), 5 steps

    def f(x):
        return lax.scan(lambda c, xi: (c + lax.psum(xi, "i") + lax.axis_index("i"), c), 0.0, x)
    c, ys = jaxel.vmap(f, axis_name="i")(xs)
    want = xs.sum(0).cumsum() + np.arange(4)[:, None] * np.arange(1, 6)
    np.testing.assert_allclose(c, want[:, -1], rtol=1e-5)


# ---- errors -----------------------------------------------------------------------------------
def test_error_carry_type_changes():
    with pytest.raises(TypeError, match=r"(?s)carry.*\['b'\].*f32\[2\].*f32\[3\]"):
        lax.scan(lambda c, x: ({"a": c["a"], "b": jnp.ones(3)}, None),
                 {"a": 0.0, "b": jnp.ones(2)}, jnp.arange(3.0))
    with pytest.raises(TypeError, match=r"int32.*float32|i32.*f32"):
        lax.scan(lambda c, x: (c + x, None), jnp.int32(0), jnp.arange(3.0))
    with pytest.raises(TypeError, match="structure"):
        lax.scan(lambda c, x: ((c, c), None), 0.0, jnp.arange(3.0))
    with pytest.raises(TypeError, match="pair"):
        lax.scan(lambda c, x: c, 0.0, jnp.arange(3.0))


def test_error_xs_lengths_differ_and_length_mismatch():
    with pytest.raises(ValueError, match=r"different leading axis sizes(.|\n)*\['a'\](.|\n)*"
                                         r"\['b'\]"):
        lax.scan(lambda c, x: (c, None), 0.0, {"a": jnp.ones(3), "b": jnp.ones(4)})
    with pytest.raises(ValueError, match="length"):
        lax.scan(lambda c, x: (c, None), 0.0, jnp.ones(3), length=4)
    with pytest.raises(ValueError, match="length"):
        lax.scan(lambda c, x: (c, None), 0.0, None)


def test_error_non_array_xs():
    with pytest.raises(ValueError, match="no leading axis"):
        lax.scan(lambda c, x: (c, None), 0.0, 1.0)
    with pytest.raises(TypeError, match=r"xs\['f'\].*not an array"):
        lax.scan(lambda c, x: (c, None), 0.0, {"f": "abc"})


def test_error_associative_scan_sizes():
    with pytest.raises(ValueError, match="same size"):
        lax.associative_scan(lambda a, b: a, (jnp.ones(3), jnp.ones(4)))


# ---- agreement with jax ------------------------------------------------------------------------
def _programs(lib):
    jnp_, lax_ = lib.numpy, lib.lax

    def rnn(w, xs):
        c, ys = lax_.scan(lambda c, x: (jnp_.tanh(w @ c + x), jnp_.sum(c * x)), jnp_.ones(3), xs,
                          reverse=True)
        return c, ys

    def grad_rnn(w, xs):
        return lib.grad(lambda w: jnp_.sum(rnn(w, xs)[0]) + jnp_.sum(rnn(w, xs)[1] ** 2))(w)

    def fori(w, xs):
        return lax_.fori_loop(0, 4, lambda i, c: jnp_.sin(c @ w) + xs[i], xs[0])

    def vmapped(w, xs):
        return lib.vmap(lambda x: lax_.scan(lambda c, xi: (c * xi + w[0], c), jnp_.zeros(3),
                                            x)[1], in_axes=1)(xs)

    def assoc(w, xs):
        return lax_.associative_scan(lambda a, b: (a[0] * b[0], a[1] * b[0] + b[1]),
                                     (xs, xs * 0.5), reverse=True, axis=1)

    def lmap(w, xs):
        return lax_.map(lambda x: jnp_.tanh(w @ x), xs, batch_size=4)
    return {"rnn": rnn, "grad_rnn": grad_rnn, "fori": fori, "vmap": vmapped, "assoc": assoc,
            "map": lmap}


@pytest.mark.parametrize("name", ["rnn", "grad_rnn", "fori", "vmap", "assoc", "map"])
def test_agrees_with_jax(name):
    jax = pytest.importorskip("jax")
    import jax.numpy  # noqa: F401
    w = _rand(3, 3) * 0.5
    xs = _rand(6, 3)
    got = jaxel.jit(_programs(jaxel)[name])(w, xs)
    want = jax.jit(_programs(jax)[name])(w, xs)
    _close(got, jax.tree_util.tree_map(np.asarray, want), rtol=2e-5, atol=2e-5)
