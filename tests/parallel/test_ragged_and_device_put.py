"""``lax.ragged_all_to_all``, ``lax.psum_scatter_start`` and ``device_put_p``.

XLA's CPU backend cannot run JAX's ``ragged_all_to_all`` (its custom call is unimplemented
there), so values and gradients of the ragged exchange are checked against a NumPy model of
JAX's documented semantics (the docstring example and random ragged layouts); JAX 0.12.1 gives
the result types and the errors. ``psum_scatter_start`` and ``device_put`` run against JAX."""
import numpy as np
import pytest

import jax
import jax.numpy as jjnp
from jax.sharding import PartitionSpec as JP

import jaxel
from jaxel import lax
from jaxel import numpy as jnp
from jaxel.sharding import AxisType, NamedSharding
from jaxel.sharding import PartitionSpec as P


# ---- a NumPy model of ragged_all_to_all ---------------------------------------------------------
def _ref(operand, output, io, ss, oo, rs):
    """All participants at once (leading dimension = participant), as JAX's docstring says:
    sender p's slot i goes to participant i // (K // n), at its output_offsets[i]."""
    n, k = io.shape
    per = k // n
    result = output.copy()
    for p in range(n):
        for i in range(k):
            q = i // per
            rows = operand[p, io[p, i]:io[p, i] + ss[p, i]]
            result[q, oo[p, i]:oo[p, i] + len(rows)] = rows
    return result


def _layout(rng, n, per, rows=2):
    """A random ragged exchange of n participants, ``per`` slots per destination, with padding
    between slices (non-overlapping writes)."""
    k = n * per
    ss = rng.integers(0, 3, size=(n, k)).astype(np.int32)
    io = np.zeros((n, k), np.int32)
    for p in range(n):
        pos = 0
        for i in rng.permutation(k):  # slices in any order in the operand, gaps allowed
            pos += int(rng.integers(0, 2))
            io[p, i] = pos
            pos += ss[p, i]
    oo = np.zeros((n, k), np.int32)
    rs = np.zeros((n, k), np.int32)
    for q in range(n):
        pos = int(rng.integers(0, 2))
        for p in range(n):
            for t in range(per):
                oo[p, q * per + t] = pos
                rs[q, p * per + t] = ss[p, q * per + t]
                pos += ss[p, q * per + t]
    n_rows = int((io + ss).max()) + 1
    m_rows = int(rs.sum(1).max()) + 2
    operand = rng.normal(size=(n, n_rows, rows)).astype(np.float32)
    output = rng.normal(size=(n, m_rows, rows)).astype(np.float32)
    return operand, output, io, ss, oo, rs


# The example of JAX's docstring (axis of size 2).
DOC = (np.array([[1, 2, 2], [3, 4, 0]], np.float32), np.zeros((2, 4), np.float32),
       np.array([[0, 1], [0, 1]], np.int32), np.array([[1, 2], [1, 1]], np.int32),
       np.array([[0, 0], [1, 2]], np.int32), np.array([[1, 1], [2, 1]], np.int32))
DOC_RESULT = np.array([[1, 3, 0, 0], [2, 2, 4, 0]], np.float32)


def _body(*xs):
    return lax.ragged_all_to_all(*xs, axis_name="x")


def _shard_map(n, body=_body):
    mesh = jaxel.make_mesh((n,), ("x",), axis_types=(AxisType.Auto,))
    per = lambda *xs: body(*[x[0] for x in xs])[None]
    return jaxel.jit(jaxel.shard_map(per, mesh=mesh, in_specs=P("x"), out_specs=P("x")))


def test_docstring_example():
    np.testing.assert_array_equal(np.asarray(_shard_map(2)(*DOC)), DOC_RESULT)
    np.testing.assert_array_equal(np.asarray(jaxel.pmap(_body, "x")(*DOC)), DOC_RESULT)
    # vmap: the batch examples are the participants.
    np.testing.assert_array_equal(np.asarray(jaxel.vmap(_body, axis_name="x")(*DOC)), DOC_RESULT)
    assert _ref(*DOC).tolist() == DOC_RESULT.tolist()


@pytest.mark.parametrize("n,per,seed", [(2, 1, 0), (4, 2, 1)])
def test_random_layouts(n, per, seed):
    args = _layout(np.random.default_rng(seed), n, per)
    want = _ref(*args)
    np.testing.assert_allclose(np.asarray(_shard_map(n)(*args)), want)
    np.testing.assert_allclose(np.asarray(jaxel.pmap(_body, "x")(*args)), want)
    np.testing.assert_allclose(np.asarray(jaxel.vmap(_body, axis_name="x")(*args)), want)


def _ref_grads(args, w):
    """Gradients of sum(ref * w) in operand and output: the model is linear in both, so each
    entry of the gradient is the model applied to a unit input, dotted with w."""
    operand, output = args[:2]
    g_op, g_out = np.zeros_like(operand), np.zeros_like(output)
    for idx in np.ndindex(operand.shape):
        e = np.zeros_like(operand)
        e[idx] = 1
        g_op[idx] = (_ref(e, np.zeros_like(output), *args[2:]) * w).sum()
    for idx in np.ndindex(output.shape):
        e = np.zeros_like(output)
        e[idx] = 1
        g_out[idx] = (_ref(np.zeros_like(operand), e, *args[2:]) * w).sum()
    return g_op, g_out


@pytest.mark.parametrize("how", ["shard_map", "pmap", "vmap"])
def test_gradients(how):
    args = _layout(np.random.default_rng(3), 2, 2, rows=1)
    w = np.random.default_rng(4).normal(size=args[1].shape).astype(np.float32)
    f = {"shard_map": _shard_map(2), "pmap": jaxel.pmap(_body, "x"),
         "vmap": jaxel.vmap(_body, axis_name="x")}[how]
    g = jaxel.grad(lambda a, b: (f(a, b, *args[2:]) * w).sum(), argnums=(0, 1))(*args[:2])
    want = _ref_grads(args, w)
    np.testing.assert_allclose(np.asarray(g[0]), want[0], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(g[1]), want[1], rtol=1e-6)
    # forward mode: the tangent is the exchange of the tangents
    t = [np.ones_like(args[0]), np.zeros_like(args[1])]
    _, tan = jaxel.jvp(lambda a, b: f(a, b, *args[2:]), tuple(args[:2]), tuple(t))
    np.testing.assert_allclose(np.asarray(tan), _ref(t[0], t[1], *args[2:]))


def test_vmap_of_enclosing_axis():
    """vmap over an axis the exchange does not name: each batch element exchanges on its own
    (as JAX's rule, which merges them into one bigger exchange)."""
    lay = [_layout(np.random.default_rng(s), 2, 1) for s in (5, 6)]

    def pad(x, shape):
        out = np.zeros(shape, x.dtype)
        out[tuple(slice(0, s) for s in x.shape)] = x
        return out
    batched = []
    for i in range(6):
        shape = np.max([a[i].shape for a in lay], axis=0)
        batched.append(np.stack([pad(a[i], shape) for a in lay], 1))  # (participant, batch,..)
    inner = jaxel.vmap(_body, in_axes=0, out_axes=0)  # over the batch, inside the pmap
    got = np.asarray(jaxel.pmap(inner, "x")(*batched))
    for b in range(2):
        np.testing.assert_allclose(got[:, b], _ref(*[x[:, b] for x in batched]))


def test_types_and_jaxpr_against_jax():
    mesh = jax.make_mesh((2,), ("x",), axis_types=(jax.sharding.AxisType.Auto,))
    per = lambda *xs: jax.lax.ragged_all_to_all(*[x[0] for x in xs], axis_name="x")[None]
    theirs = jax.eval_shape(jax.shard_map(per, mesh=mesh, in_specs=JP("x"), out_specs=JP("x")),
                            *DOC)
    ours = jaxel.eval_shape(_shard_map(2), *DOC)
    assert (ours.shape, ours.dtype) == (theirs.shape, theirs.dtype)
    text = str(jaxel.make_jaxpr(_shard_map(2))(*DOC))
    assert "ragged_all_to_all" in text


@pytest.mark.parametrize("bad", ["float_offsets", "rank2_sizes", "empty"])
def test_errors_as_jax(bad):
    op, out, io, ss, oo, rs = [x[0] for x in DOC]
    if bad == "float_offsets":
        io = io.astype(np.float32)
    elif bad == "rank2_sizes":
        ss = ss[None]
    else:
        oo = oo[:0]
    args = (op, out, io, ss, oo, rs)
    specs = (P(),) * 6
    m1 = jaxel.make_mesh((2,), ("x",), axis_types=(AxisType.Auto,))
    m2 = jax.make_mesh((2,), ("x",), axis_types=(jax.sharding.AxisType.Auto,))
    with pytest.raises(ValueError) as theirs:
        jax.make_jaxpr(jax.shard_map(
            lambda *a: jax.lax.ragged_all_to_all(*a, axis_name="x"), mesh=m2,
            in_specs=(JP(),) * 6, out_specs=JP("x"), check_vma=False))(*args)
    with pytest.raises(ValueError) as ours:
        jaxel.make_jaxpr(jaxel.shard_map(
            lambda *a: lax.ragged_all_to_all(*a, axis_name="x"), mesh=m1,
            in_specs=specs, out_specs=P("x"), check_vma=False))(*args)
    assert str(ours.value).split(",")[0] == str(theirs.value).split(",")[0]


def test_unbound_axis_name():
    with pytest.raises(NameError):
        lax.ragged_all_to_all(*[x[0] for x in DOC], axis_name="x")


# ---- psum_scatter_start -------------------------------------------------------------------------
def test_psum_scatter_start():
    x = np.arange(32.0, dtype=np.float32).reshape(4, 8)

    def body(l):
        return lambda v: l.psum_scatter_start(v, "x", scatter_dimension=1, tiled=True).done()
    m1 = jaxel.make_mesh((4,), ("x",), axis_types=(AxisType.Auto,))
    m2 = jax.make_mesh((4,), ("x",), axis_types=(jax.sharding.AxisType.Auto,))
    ours = jaxel.jit(jaxel.shard_map(body(lax), mesh=m1, in_specs=P("x"), out_specs=P("x")))(x)
    theirs = jax.jit(jax.shard_map(body(jax.lax), mesh=m2, in_specs=JP("x"),
                                   out_specs=JP("x")))(x)
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs))
    np.testing.assert_allclose(np.asarray(ours), x.sum(0).reshape(4, 2))

    def untiled(v):
        return lax.psum_scatter_start(v, "x")
    with pytest.raises(NotImplementedError):
        jaxel.shard_map(untiled, mesh=m1, in_specs=P("x"), out_specs=P("x"))(x)


def test_psum_scatter_start_future_and_vmap():
    x = np.arange(8.0, dtype=np.float32).reshape(2, 4)
    seen = {}

    def f(v):
        fut = lax.psum_scatter_start(v, "i", tiled=True)
        seen["shape"], seen["repr"] = fut.shape, repr(fut)
        return fut.done()
    got = jaxel.vmap(f, axis_name="i")(x)
    want = jax.vmap(lambda v: jax.lax.psum_scatter(v, "i", tiled=True), axis_name="i")(x)
    np.testing.assert_allclose(np.asarray(got), np.asarray(want))
    assert seen["shape"] == (2,) and seen["repr"].startswith("AbstractFuture")
    # over an axis of size 1 the value comes back as it is (as JAX)
    one = jaxel.vmap(lambda v: lax.psum_scatter_start(v, "i", tiled=True), axis_name="i")
    np.testing.assert_allclose(np.asarray(one(x[:1])), x[:1])


# ---- device_put_p -------------------------------------------------------------------------------
def _eqns(jaxpr):
    return [e.primitive.name for e in jaxpr.jaxpr.eqns]


def test_device_put_equation_like_jax():
    d1, j1 = jaxel.devices()[1], jax.devices()[1]
    x = np.ones(3, np.float32)
    ours = jaxel.make_jaxpr(lambda a, b: jaxel.device_put((a, b), d1))(x, 1.0)
    theirs = jax.make_jaxpr(lambda a, b: jax.device_put((a, b), j1))(x, 1.0)
    assert _eqns(ours) == [e.primitive.name for e in theirs.jaxpr.eqns] == ["device_put"]
    eq = ours.jaxpr.eqns[0]
    assert eq.params["devices"] == (d1, d1) and eq.params["srcs"] == (None, None)
    assert [repr(c) for c in eq.params["copy_semantics"]] == \
        [repr(c) for c in theirs.jaxpr.eqns[0].params["copy_semantics"]]
    inner = jaxel.make_jaxpr(jaxel.jit(lambda a: jaxel.device_put(a, d1)))(x)
    assert "device_put[" in str(inner)
    # bound directly (eagerly): one result per operand, placed as asked
    from jaxel.sharding.device_put import ArrayCopySemantics
    (y,) = lax.device_put_p.bind(x, devices=(d1,), srcs=(None,),
                                 copy_semantics=(ArrayCopySemantics.REUSE_INPUT,))
    assert y.devices() == {d1}


def test_device_put_transforms():
    d1 = jaxel.devices()[1]
    x = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    f = lambda v: jnp.sin(jaxel.device_put(v, d1)).sum()
    np.testing.assert_allclose(np.asarray(jaxel.grad(f)(x)), np.cos(x), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(jaxel.jit(jaxel.grad(f))(x)), np.cos(x), rtol=1e-6)
    g = jaxel.make_jaxpr(jaxel.grad(f))(x)
    puts = [e for e in g.jaxpr.eqns if e.primitive.name == "device_put"]
    assert len(puts) == 2 and puts[1].params["srcs"] == (d1,)  # the transpose goes back
    assert repr(puts[1].params["copy_semantics"][0]) == "ArrayCopySemantics.ALWAYS_COPY"
    np.testing.assert_allclose(
        np.asarray(jaxel.vmap(lambda v: jaxel.device_put(v * 2, d1))(x)), x * 2)
    _, t = jaxel.jvp(lambda v: jaxel.device_put(v, d1), (x,), (np.ones_like(x),))
    np.testing.assert_allclose(np.asarray(t), np.ones_like(x))


def test_device_put_sharding_in_jit():
    mesh = jaxel.make_mesh((2,), ("x",))
    s = NamedSharding(mesh, P("x"))
    x = np.arange(8.0, dtype=np.float32).reshape(4, 2)
    f = jaxel.jit(lambda v: jaxel.device_put(v * 2, s))
    assert "sdy.sharding_constraint" in f.lower(x).as_text()
    y = f(x)
    np.testing.assert_allclose(np.asarray(y), x * 2)
    assert y.sharding.is_equivalent_to(s, 2)
    # batched: the batch dimension stays unsplit
    yb = jaxel.jit(jaxel.vmap(lambda v: jaxel.device_put(v, s), in_axes=1))(x)
    np.testing.assert_allclose(np.asarray(yb), x.T)
    # a one-device program: nothing is emitted for it
    one = jaxel.jit(lambda v: jaxel.device_put(v, jaxel.devices()[0])).lower(x).as_text()
    assert "sharding_constraint" not in one


def test_replicated_output_under_check_vma():
    """An output buffer replicated over the axis (in_spec P()) is cast to varying (as JAX), so
    its gradient sums every participant's masked cotangent."""
    args = _layout(np.random.default_rng(7), 2, 1, rows=1)
    out0 = args[1][0]
    mesh = jaxel.make_mesh((2,), ("x",), axis_types=(AxisType.Auto,))
    body = lambda a, b, *m: _body(a[0], b, *[v[0] for v in m])[None]
    f = jaxel.shard_map(body, mesh=mesh, in_specs=(P("x"), P(), P("x"), P("x"), P("x"),
                                                   P("x")), out_specs=P("x"))
    full = (args[0], np.stack([out0, out0])) + args[2:]
    np.testing.assert_allclose(np.asarray(f(args[0], out0, *args[2:])), _ref(*full))
    w = np.random.default_rng(8).normal(size=full[1].shape).astype(np.float32)
    g = jaxel.grad(lambda b: (f(args[0], b, *args[2:]) * w).sum())(out0)
    np.testing.assert_allclose(np.asarray(g), _ref_grads(full, w)[1].sum(0), rtol=1e-6)


@pytest.mark.parametrize("kw", [{}, {"donate": True}, {"may_alias": False},
                                {"src": "dev0"}])
def test_device_put_params_like_jax(kw):
    x = np.ones(3, np.float32)
    k1 = dict(kw, src=jaxel.devices()[0]) if "src" in kw else kw
    k2 = dict(kw, src=jax.devices()[0]) if "src" in kw else kw
    ours = jaxel.make_jaxpr(lambda a: jaxel.device_put(a, jaxel.devices()[1], **k1))(x)
    theirs = jax.make_jaxpr(lambda a: jax.device_put(a, jax.devices()[1], **k2))(x)
    p1, p2 = ours.jaxpr.eqns[0].params, theirs.jaxpr.eqns[0].params
    assert repr(p1["copy_semantics"]) == repr(p2["copy_semantics"])
    assert [getattr(d, "id", d) for d in p1["srcs"]] == [getattr(d, "id", d) for d in p2["srcs"]]
    with pytest.raises(ValueError):
        jaxel.make_jaxpr(lambda a: jaxel.device_put(a, donate=True, may_alias=True))(x)


def test_axis_index_groups_under_pmap():
    """With groups, each group exchanges on its own (slots are per group member)."""
    a, b = _layout(np.random.default_rng(9), 2, 1), _layout(np.random.default_rng(10), 2, 1)

    def pad(x, shape):
        out = np.zeros(shape, x.dtype)
        out[tuple(slice(0, s) for s in x.shape)] = x
        return out
    both = [np.concatenate([pad(u, np.maximum(u.shape, v.shape)),
                            pad(v, np.maximum(u.shape, v.shape))]) for u, v in zip(a, b)]
    f = jaxel.pmap(lambda *xs: lax.ragged_all_to_all(*xs, axis_name="x",
                                                     axis_index_groups=[[0, 1], [2, 3]]), "x")
    got = np.asarray(f(*both))
    np.testing.assert_allclose(got[:2], _ref(*[x[:2] for x in both]))
    np.testing.assert_allclose(got[2:], _ref(*[x[2:] for x in both]))


@pytest.mark.parametrize("mapper", ["vmap", "pmap"])
def test_gradient_inside_the_map(mapper):
    """grad taken per participant: the transpose rule's reverse exchange runs on the axis."""
    args = _layout(np.random.default_rng(3), 2, 2, rows=1)
    w = np.random.default_rng(4).normal(size=args[1].shape).astype(np.float32)

    def per(a, b, wi, *m):
        return jaxel.grad(lambda a, b: (_body(a, b, *m) * wi).sum(), argnums=(0, 1))(a, b)
    mapped = jaxel.vmap(per, axis_name="x") if mapper == "vmap" else jaxel.pmap(per, "x")
    g = mapped(args[0], args[1], w, *args[2:])
    want = _ref_grads(args, w)
    np.testing.assert_allclose(np.asarray(g[0]), want[0], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(g[1]), want[1], rtol=1e-6)
