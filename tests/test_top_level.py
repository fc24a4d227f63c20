"""Top-level names: Device, float0, typeof, avals, version, typing, Inline, CompilerEffortLevel,
copy_to_host_async, fwd_and_bwd, ds and ensure_compile_time_eval (checked against JAX 0.12.1
and against NumPy / finite differences)."""
import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp

jax = pytest.importorskip("jax")


def test_device_type_and_float0():
    assert isinstance(jaxel.devices()[0], jaxel.Device)
    assert not isinstance(object(), jaxel.Device)
    assert jaxel.float0 == jax.float0 and jaxel.float0.itemsize == 0


def test_version_names():
    assert jaxel.jax_version == jax.__version__ == "0.12.1"
    assert jaxel.version.__version__ == jaxel.__version__
    assert jaxel.__version_info__ == tuple(int(p) for p in jaxel.__version__.split("."))


@pytest.mark.parametrize("value", [1.0, 2, True, np.float32(1), np.ones((2, 3), np.int8)])
def test_typeof_matches_jax(value):
    ours, theirs = jaxel.typeof(value), jax.typeof(value)
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    assert ours.weak_type == theirs.weak_type


def test_typeof_arrays_tracers_keys_and_errors():
    x = jnp.ones((2, 3))
    assert jaxel.typeof(x) is x.aval
    seen = []
    jaxel.jit(lambda v: seen.append(jaxel.typeof(v)) or v)(x)
    assert seen[0] is x.aval
    k = jaxel.random.split(jaxel.random.key(0), 3)
    assert str(jaxel.typeof(k)) == str(jax.typeof(jax.random.split(jax.random.key(0), 3)))
    with pytest.raises(TypeError, match="not a valid jaxel type"):
        jaxel.typeof("a")


def test_avals_constructors():
    a = jaxel.avals.f32[3, 4]
    assert a is jaxel.typeof(jnp.zeros((3, 4), jnp.float32))
    assert jaxel.avals.i4[2].dtype == jax.avals.i4[2].dtype
    assert jaxel.avals.bool[()].shape == () and jaxel.avals.bool_ is jaxel.avals.bool
    for name in ["bf16", "f16", "f64", "c64", "c128", "u8", "i64", "float0"]:
        assert getattr(jaxel.avals, name)[1].dtype == getattr(jax.avals, name)[1].dtype
    with pytest.raises(ValueError, match="Explicit"):
        jaxel.avals.f32[4 @ jaxel.avals.MeshAxis("x")]


def test_typing_annotations():
    from jaxel.typing import ArrayLike, DTypeLike
    for v in [jnp.ones(2), np.ones(2), np.float32(1), 1, 1.5, True, 1j]:
        assert isinstance(v, ArrayLike)
    assert not isinstance("a", ArrayLike) and not isinstance([1], ArrayLike)
    jaxel.jit(lambda v: isinstance(v, ArrayLike) or 1 / 0)(1.0)  # tracers are Arrays
    import typing
    assert {str, np.dtype} <= set(typing.get_args(DTypeLike))
    assert set(typing.get_args(ArrayLike)) >= {jaxel.Array, np.ndarray, bool, int, float, complex}


def test_enums_match_jax():
    assert {m.name: m.value for m in jaxel.Inline} == {m.name: m.value for m in jax.Inline}
    assert ({m.name: m.value for m in jaxel.CompilerEffortLevel}
            == {m.name: m.value for m in jax.CompilerEffortLevel})


def test_copy_to_host_async_calls_each_leaf():
    calls = []

    class Leaf:
        def copy_to_host_async(self):
            calls.append(self)

    tree = {"a": jnp.ones(2), "b": [Leaf(), 3, np.ones(1)]}
    assert jaxel.copy_to_host_async(tree) is tree
    assert len(calls) == 1
    np.testing.assert_array_equal(np.asarray(tree["a"]), np.ones(2))


@pytest.mark.parametrize("jitted", [True, False])
def test_fwd_and_bwd_matches_vjp_and_jax(jitted):
    def f(x, w):
        return jnp.tanh(x @ w)

    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(2, 3)).astype(np.float32), rng.normal(size=(3, 2)).astype(np.float32)
    ct = rng.normal(size=(2, 2)).astype(np.float32)
    fwd, bwd = jaxel.fwd_and_bwd(f, argnums=(0, 1), jitted=jitted)
    for _ in range(2):  # residuals from a second forward pass reuse the compiled bwd
        y, res = fwd(x, w)
        dx, dw = bwd(res, ct)
    jfwd, jbwd = jax.fwd_and_bwd(lambda a, b: jax.numpy.tanh(a @ b), argnums=(0, 1))
    jy, jres = jfwd(x, w)
    jdx, jdw = jbwd(jres, ct)
    np.testing.assert_allclose(np.asarray(y), np.asarray(jy), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(dx), np.asarray(jdx), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(np.asarray(dw), np.asarray(jdw), rtol=1e-4, atol=1e-6)
    # Independent check: the analytic derivative of tanh.
    s = 1 - np.tanh(x @ w) ** 2
    np.testing.assert_allclose(np.asarray(dx), (ct * s) @ w.T, rtol=1e-4, atol=1e-6)


def test_fwd_and_bwd_single_argnum_and_aux():
    fwd, bwd = jaxel.fwd_and_bwd(lambda x, k: (jnp.sum(jnp.sin(x) * k), x * 2), argnums=0,
                                 has_aux=True)
    x = jnp.arange(3.0)
    y, res, aux = fwd(x, 2.0)
    g = bwd(res, 1.0)
    np.testing.assert_allclose(np.asarray(g), 2 * np.cos(np.arange(3.0)), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(aux), 2 * np.arange(3.0))
    with pytest.raises(TypeError, match="residuals"):
        bwd(x, 1.0)


def test_ds_matches_jax():
    x, jx = jnp.arange(10), jax.numpy.arange(10)
    m, jm = jnp.arange(24).reshape(2, 3, 4), jax.numpy.arange(24).reshape(2, 3, 4)
    for idx in [(4, 2), (1, 3, 2), (8, 3), (3,)]:
        np.testing.assert_array_equal(np.asarray(x[jaxel.ds(*idx)]), np.asarray(jx[jax.ds(*idx)]))
    np.testing.assert_array_equal(np.asarray(m[..., jaxel.ds(2, 2)]), np.asarray(m)[..., 2:4])
    np.testing.assert_array_equal(np.asarray(m[0, None, jaxel.ds(1, 2), 1]),
                                  np.asarray(jm[0, None, jax.ds(1, 2), 1]))
    assert jaxel.ds(None) == slice(None) and repr(jaxel.ds(1, 2)) == repr(jax.ds(1, 2))
    for start, size, stride in [(5, 3, 1), (8, 3, 1), (5, 4, 2)]:  # traced starts clamp
        ours = jaxel.jit(lambda v, i: v[jaxel.ds(i, size, stride)])(x, start)
        theirs = jax.jit(lambda v, i: v[jax.ds(i, size, stride)])(jx, start)
        np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))
    out = jaxel.vmap(lambda i: x[jaxel.ds(i, 2)])(jnp.arange(3))
    np.testing.assert_array_equal(np.asarray(out), [[0, 1], [1, 2], [2, 3]])


def test_ensure_compile_time_eval_under_jit():
    traced_kinds = []

    @jaxel.jit
    def f(x):
        with jaxel.ensure_compile_time_eval():
            n = int(jnp.sum(jnp.arange(4)))          # concrete: int() works while tracing
            y = jnp.ones(3) * 2
            traced_kinds.append((type(y) is jaxel.Array, type(x + y) is jaxel.Array))
            if y[0] > 1:                              # Python control flow on a value
                y = y + 1
        return (x + y) * n

    np.testing.assert_allclose(np.asarray(f(jnp.ones(3))), np.full(3, 24.0))
    assert traced_kinds == [(True, False)]  # ops on the traced x are still traced
    # Outside the block, concrete ops are staged again.
    with pytest.raises(jaxel.errors.ConcretizationTypeError if hasattr(jaxel, "errors")
                       else Exception):
        jaxel.jit(lambda x: float(jnp.sum(jnp.arange(3))) * x)(1.0)


def test_ensure_compile_time_eval_under_grad_and_vmap():
    def g(x):
        with jaxel.ensure_compile_time_eval():
            c = float(jnp.cos(0.5))
        return x * c

    np.testing.assert_allclose(float(jaxel.grad(g)(1.0)), np.cos(0.5), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(jaxel.jit(jaxel.vmap(g))(jnp.ones(2))),
                               np.full(2, np.cos(0.5)), rtol=1e-6)
