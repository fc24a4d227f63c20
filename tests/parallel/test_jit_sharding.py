"""``jit`` over meshes: in/out_shardings, sharded arguments, sharding constraints, donation,
the lowered text, and gradients; compared with JAX 0.12.1 and NumPy."""
import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel.sharding import Mesh, NamedSharding, P
from tests.parallel.oracle import index_map, same_layout

jax = pytest.importorskip("jax")
jP = jax.sharding.PartitionSpec


@pytest.fixture(scope="module")
def meshes():
    ours = Mesh(np.array(jaxel.devices()[:4]).reshape(2, 2), ("x", "y"))
    theirs = jax.sharding.Mesh(np.array(jax.devices()[:4]).reshape(2, 2), ("x", "y"))
    return ours, theirs


def ns(m, *spec):
    return NamedSharding(m, P(*spec))


def jns(m, *spec):
    return jax.sharding.NamedSharding(m, jP(*spec))


def data(shape=(8, 4)):
    return (np.arange(np.prod(shape)).reshape(shape) / 5).astype(np.float32)


def test_in_and_out_shardings_match_jax(meshes):
    m, jm = meshes

    def f(a, b):
        return jnp.tanh(a) @ b, a.sum()

    def jf(a, b):
        return jax.numpy.tanh(a) @ b, a.sum()

    a, b = data(), data((4, 6))
    ours = jaxel.jit(f, in_shardings=(ns(m, "x"), ns(m, None, "y")),
                     out_shardings=(ns(m, "x", "y"), ns(m)))(a, b)
    theirs = jax.jit(jf, in_shardings=(jns(jm, "x"), jns(jm, None, "y")),
                     out_shardings=(jns(jm, "x", "y"), jns(jm)))(a, b)
    for o, t in zip(ours, theirs):
        same_layout(o, t)
    np.testing.assert_allclose(np.asarray(ours[0]), np.tanh(a) @ b, rtol=1e-5)


def test_sharded_arguments_decide_the_layout(meshes):
    m, jm = meshes
    a = data()
    x = jaxel.device_put(a, ns(m, "x", "y"))
    y = jax.device_put(a, jns(jm, "x", "y"))
    for f, jf in [(lambda v: v * 2, lambda v: v * 2),
                  (lambda v: (v @ v.T).sum(1), lambda v: (v @ v.T).sum(1)),
                  (lambda v: jnp.concatenate([v, v]), lambda v: jax.numpy.concatenate([v, v]))]:
        got, want = jaxel.jit(f)(x), jax.jit(jf)(y)
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5)
        assert index_map(got.sharding, got.shape) == index_map(want.sharding, want.shape)
    # an uncommitted second argument joins the mesh (replicated)
    out = jaxel.jit(lambda u, v: u + v)(x, jnp.ones(4))
    np.testing.assert_allclose(np.asarray(out), a + 1)
    assert out.sharding.device_set == set(m.devices.flat)


def test_sharding_constraint_inside_jit(meshes):
    m, jm = meshes

    def f(v):
        return jaxel.lax.with_sharding_constraint(v * 2, ns(m, None, "x")) + 1

    def jf(v):
        return jax.lax.with_sharding_constraint(v * 2, jns(jm, None, "x")) + 1

    a = data()
    got, want = jaxel.jit(f)(a), jax.jit(jf)(a)
    same_layout(got, want)
    text = jaxel.jit(f).lower(a).as_text()
    assert "sdy.sharding_constraint" in text and "mhlo.num_partitions = 4" in text
    # eagerly: lays the value out
    e = jaxel.lax.with_sharding_constraint(jnp.asarray(a), ns(m, "y"))
    assert e.sharding == ns(m, "y")
    # under vmap: the batch dimension stays whole
    v = jaxel.jit(jaxel.vmap(f))(np.stack([a, a]))
    np.testing.assert_allclose(np.asarray(v), np.stack([a * 2 + 1] * 2))


def test_lowered_text_and_compiled_shardings(meshes):
    m, _ = meshes
    f = jaxel.jit(lambda a: a * 3, in_shardings=ns(m, "x"), out_shardings=ns(m, None, "y"))
    lowered = f.lower(data())
    text = lowered.as_text()
    assert 'sdy.mesh @mesh = <["x"=2, "y"=2]>' in text
    assert '#sdy.sharding<@mesh, [{"x"}, {}]>' in text
    assert '#sdy.sharding<@mesh, [{}, {"y"}]>' in text
    compiled = lowered.compile()
    assert compiled.output_shardings == ns(m, None, "y")
    assert compiled.input_shardings[0][0] == ns(m, "x")
    out = compiled(data())
    np.testing.assert_allclose(np.asarray(out), data() * 3)
    assert out.sharding == ns(m, None, "y")


def test_grad_of_sharded_jit_matches_jax(meshes):
    m, jm = meshes
    w = data((4, 3))
    xs = data((8, 4))

    def loss(w, x):
        return jnp.mean((jnp.tanh(x @ w)) ** 2)

    def jloss(w, x):
        return jax.numpy.mean((jax.numpy.tanh(x @ w)) ** 2)

    x_s = jaxel.device_put(xs, ns(m, "x"))
    jx_s = jax.device_put(xs, jns(jm, "x"))
    g = jaxel.jit(jaxel.grad(loss))(w, x_s)
    jg = jax.jit(jax.grad(jloss))(w, jx_s)
    np.testing.assert_allclose(np.asarray(g), np.asarray(jg), rtol=1e-5, atol=1e-6)
    g2 = jaxel.grad(loss)(jaxel.device_put(w, ns(m)), x_s)  # eager, op by op over devices
    np.testing.assert_allclose(np.asarray(g2), np.asarray(jg), rtol=1e-5, atol=1e-6)


def test_donated_sharded_argument_is_consumed(meshes):
    m, _ = meshes
    x = jaxel.device_put(data(), ns(m, "x"))
    f = jaxel.jit(lambda v: v + 1, donate_argnums=0)
    y = f(x)
    assert x.is_deleted()
    np.testing.assert_allclose(np.asarray(y), data() + 1)
    with pytest.raises(RuntimeError, match="deleted"):
        f(x)


def test_one_trace_many_layouts(meshes):
    m, _ = meshes
    f = jaxel.jit(lambda v: v * 2)
    a = data()
    for spec in [("x",), ("y",), (None, "x"), ()]:
        out = f(jaxel.device_put(a, ns(m, *spec)))
        np.testing.assert_allclose(np.asarray(out), a * 2)
        assert index_map(out.sharding, out.shape) == index_map(ns(m, *spec), a.shape)
    assert f._cache_size() == 1


def test_pytree_prefix_shardings_and_current_mesh(meshes):
    m, _ = meshes
    f = jaxel.jit(lambda d: {"s": d["a"] + d["b"].sum(), "t": d["b"]},
                  in_shardings=({"a": ns(m, "x"), "b": ns(m)},),
                  out_shardings={"s": ns(m, "y"), "t": None})
    out = f({"a": data(), "b": data((2,))})
    assert out["s"].sharding == ns(m, "y")
    with jaxel.sharding.use_mesh(m):
        g = jaxel.jit(lambda v: v + 1, in_shardings=P("x"), out_shardings=P(None, "y"))
        out = g(data())
    assert out.sharding == ns(m, None, "y")


def test_errors(meshes):
    m, _ = meshes
    x = jaxel.device_put(data(), ns(m, "x"))
    other = jaxel.device_put(data(), jaxel.devices()[6])
    with pytest.raises(ValueError, match="committed to"):
        jaxel.jit(lambda a, b: a + b)(x, other)
    with pytest.raises(ValueError, match="divisible"):
        jaxel.jit(lambda a: a, in_shardings=ns(m, "x"))(np.ones((3, 2), np.float32))


def test_closing_over_a_sharded_array(meshes):
    m, _ = meshes
    c = jaxel.device_put(data(), ns(m, "x"))
    out = jaxel.jit(lambda v: v + c)(np.ones((8, 4), np.float32))
    np.testing.assert_allclose(np.asarray(out), data() + 1)
    assert out.sharding.device_set == set(m.devices.flat)
