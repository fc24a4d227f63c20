"""pmap (on shard_map + jit) against JAX 0.12.1's pmap on the same 4 or 8 CPU devices (conftest)
and NumPy: values, result shardings, gradients, compositions, argument handling, errors."""
import numpy as np
import pytest

import jax
import jax.numpy as jjnp

import jaxel
from jaxel import lax
from jaxel import numpy as jnp
from tests.parallel.oracle import same_layout

X = np.arange(8.0, dtype=np.float32).reshape(4, 2)
XS = np.arange(24.0, dtype=np.float32).reshape(3, 4, 2)


def _close(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def _body(l, n):
    return lambda v: n.sin(v) * l.psum(v, "i")


def test_values_and_sharding():
    ours = jaxel.pmap(_body(lax, jnp), "i")(X)
    theirs = jax.pmap(_body(jax.lax, jjnp), "i")(X)
    same_layout(ours, theirs)
    np.testing.assert_allclose(np.asarray(ours), np.sin(X) * X.sum(0), rtol=1e-6)
    x8 = np.arange(16.0, dtype=np.float32).reshape(8, 2)
    same_layout(jaxel.pmap(_body(lax, jnp), "i")(x8), jax.pmap(_body(jax.lax, jjnp), "i")(x8))


def test_axes():
    _close(jaxel.pmap(_body(lax, jnp), "i", in_axes=1, out_axes=1)(X.T),
           jax.pmap(_body(jax.lax, jjnp), "i", in_axes=1, out_axes=1)(X.T))

    def g(l):
        return lambda w, v: {"a": w * v, "b": l.pmean(w * v, "i")}
    kw = dict(in_axes=(None, 0), out_axes={"a": 0, "b": None})
    r1 = jaxel.pmap(g(lax), "i", **kw)(np.float32(2.0), X)
    r2 = jax.pmap(g(jax.lax), "i", **kw)(np.float32(2.0), X)
    _close(r1["a"], r2["a"])
    _close(r1["b"], r2["b"])
    # pytree in_axes and keyword arguments (mapped along axis 0)
    r = jaxel.pmap(lambda d, k: d["u"] + d["v"] + k, in_axes=({"u": 0, "v": None},))(
        {"u": X, "v": np.float32(1.0)}, k=X)
    _close(r, 2 * X + 1)


def test_collectives():
    def h(l):
        return lambda v: (l.all_gather(v, "i") + l.axis_index("i")
                          + l.ppermute(v, "i", [(0, 1), (1, 2), (2, 3), (3, 0)])[None])
    _close(jaxel.pmap(h(lax), "i")(X), jax.pmap(h(jax.lax), "i")(X))

    def k(l):
        return lambda v: (l.pmax(v, "i"),
                          l.psum_scatter(v * np.ones((4, 2), np.float32), "i", tiled=True))
    x = np.arange(8.0, dtype=np.float32).reshape(4, 2)
    for a, b in zip(jaxel.pmap(k(lax), "i")(x), jax.pmap(k(jax.lax), "i")(x)):
        _close(a, b)


def _loss(l):
    return lambda w, v: l.pmean(((w * v) ** 2).sum(), "i")


def test_gradients():
    w = np.float32(2.0)
    kw = dict(in_axes=(None, 0))
    for a, b in zip(jaxel.pmap(jaxel.grad(_loss(lax), argnums=(0, 1)), "i", **kw)(w, X),
                    jax.pmap(jax.grad(_loss(jax.lax), argnums=(0, 1)), "i", **kw)(w, X)):
        _close(a, b)
    _close(jaxel.grad(lambda w: jaxel.pmap(_loss(lax), "i", **kw)(w, X).sum())(w),
           jax.grad(lambda w: jax.pmap(_loss(jax.lax), "i", **kw)(w, X).sum())(w))


def test_compositions():
    xt = np.swapaxes(XS, 0, 1)
    _close(jaxel.pmap(jaxel.vmap(_body(lax, jnp)), "i")(xt),
           jax.pmap(jax.vmap(_body(jax.lax, jjnp)), "i")(xt))
    _close(jaxel.vmap(jaxel.pmap(_body(lax, jnp), "i"))(XS),
           jax.vmap(jax.pmap(_body(jax.lax, jjnp), "i"))(XS))
    _close(jaxel.jit(jaxel.pmap(_body(lax, jnp), "i"))(X),
           jax.jit(jax.pmap(_body(jax.lax, jjnp), "i"))(X))
    # a collective over the pmap axis and a vmap axis at once
    _close(jaxel.pmap(jaxel.vmap(lambda v: lax.psum(v, ("i", "j")), axis_name="j"), "i")(xt),
           jax.pmap(jax.vmap(lambda v: jax.lax.psum(v, ("i", "j")), axis_name="j"), "i")(xt))


def test_static_devices_donation():
    r = jaxel.pmap(lambda v, k: v * k, "i", static_broadcasted_argnums=1)(X, 3)
    _close(r, X * 3)
    _close(jaxel.pmap(lambda v: v * 2, in_axes=-1)(X.T), X * 2)
    devs = jaxel.devices()[4:8]
    r = jaxel.pmap(lambda v: v + 1, devices=devs)(X)
    assert {s.device for s in r.addressable_shards} == set(devs)
    _close(r, X + 1)
    x = jaxel.pmap(lambda v: v)(X)
    y = jaxel.pmap(lambda v: v * 2, donate_argnums=0)(x)
    _close(y, 2 * X)


def test_errors():
    with pytest.raises(ValueError, match="needs 9 devices, but only 8"):
        jaxel.pmap(lambda v: v)(np.ones((9, 2)))
    with pytest.raises(ValueError, match=r"inconsistent sizes[\s\S]*a has shape \(2, 2\)"
                                         r"[\s\S]*b has shape \(3, 2\)"):
        jaxel.pmap(lambda a, b: a + b)(np.ones((2, 2)), np.ones((3, 2)))
    with pytest.raises(NameError, match="unbound axis name 'j'"):
        jaxel.pmap(lambda v: lax.psum(v, "j"), "i")(np.ones((2, 2)))
    with pytest.raises(ValueError, match="axis_size 3 doesn't match"):
        jaxel.pmap(lambda v: v, axis_size=3)(np.ones((2, 2)))
    with pytest.raises(TypeError, match="in_axes must be an int"):
        jaxel.pmap(lambda v: v, in_axes="x")
    with pytest.raises(ValueError, match="Nested pmaps are not supported"):
        jaxel.pmap(jaxel.pmap(lambda v: lax.psum(v, "j"), "j"), "i")(np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match="at least one argument with a mapped axis"):
        jaxel.pmap(lambda v: v, in_axes=None)(np.ones(2))


@pytest.mark.parametrize("name", ["psum", "pmean", "pmax", "pmin"])
def test_axis_index_groups(name):
    groups = [[0, 2], [1, 3]]
    ours = jaxel.pmap(lambda v: getattr(lax, name)(v, "i", axis_index_groups=groups), "i")(X)
    theirs = jax.pmap(lambda v: getattr(jax.lax, name)(v, "i", axis_index_groups=groups),
                      "i")(X)
    _close(ours, theirs)
    if name == "psum":
        g1 = jaxel.pmap(jaxel.grad(lambda v: lax.psum(v * v, "i", axis_index_groups=groups)
                                   .sum()), "i")(X)
        g2 = jax.pmap(jax.grad(lambda v: jax.lax.psum(v * v, "i", axis_index_groups=groups)
                               .sum()), "i")(X)
        _close(g1, g2)
        with pytest.raises(ValueError, match="groups of equal size"):
            jaxel.pmap(lambda v: lax.psum(v, "i", axis_index_groups=[[0, 1], [2]]), "i")(X)
        with pytest.raises(NotImplementedError, match="under pmap"):
            jaxel.vmap(lambda v: lax.psum(v, "i", axis_index_groups=groups), axis_name="i")(X)


GROUPED = {
    "all_gather": lambda l, g: lambda v: l.all_gather(v, "i", axis_index_groups=g),
    "all_gather_tiled": lambda l, g: lambda v: l.all_gather(v, "i", axis_index_groups=g,
                                                            tiled=True),
    "psum_scatter": lambda l, g: lambda v: l.psum_scatter(v, "i", axis_index_groups=g,
                                                          tiled=True),
    "all_to_all": lambda l, g: lambda v: l.all_to_all(v, "i", 0, 0, axis_index_groups=g,
                                                      tiled=True),
}


@pytest.mark.parametrize("name", sorted(GROUPED))
def test_axis_index_groups_gather_scatter(name):
    groups = [[0, 2], [1, 3]]
    x = np.arange(16.0, dtype=np.float32).reshape(4, 4)
    f1, f2 = GROUPED[name](lax, groups), GROUPED[name](jax.lax, groups)
    out = jax.pmap(f2, "i")(x)
    _close(jaxel.pmap(f1, "i")(x), out)
    w = np.arange(np.size(out) // 4, dtype=np.float32).reshape(np.shape(out)[1:])
    _close(jaxel.pmap(jaxel.grad(lambda v: (f1(v) * w).sum()), "i")(x),
           jax.pmap(jax.grad(lambda v: (f2(v) * w).sum()), "i")(x))
