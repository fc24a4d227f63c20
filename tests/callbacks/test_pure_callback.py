"""jaxel.pure_callback against JAX 0.12.1 and NumPy: values eagerly and under jit, every
vmap_method (the shapes the callback sees), its errors (JVP, vmap without a method, wrong
result shapes), custom_jvp around it, DCE, the compile cache, exceptions naming the callback."""
import jax
import jax.numpy as jjnp
import numpy as np
import pytest

import jaxel
from jaxel import numpy as jnp
from jaxel.runtime import compile_cache
from tests.callbacks.oracle import printed

S = jaxel.ShapeDtypeStruct


@pytest.mark.parametrize("how", ["eager", "jit"])
def test_values(how):
    f = lambda x: jaxel.pure_callback(np.sin, S(x.shape, x.dtype), x) * 2
    f = jaxel.jit(f) if how == "jit" else f
    x = np.linspace(0, 1, 5, dtype=np.float32)
    np.testing.assert_allclose(f(x), np.sin(x) * 2, rtol=1e-6)


def test_pytree_results_and_x64_canonical_dtype():
    def cb(x):
        return {"a": x.astype(np.float32), "b": np.int32(x.size)}
    out = jaxel.jit(lambda x: jaxel.pure_callback(
        cb, {"a": S((3,), np.float64), "b": S((), np.int32)}, x))(jnp.arange(3.0))
    assert out["a"].dtype == np.float32  # float64 is float32 without x64, as in JAX
    assert int(out["b"]) == 3


@pytest.mark.parametrize("method", ["sequential", "expand_dims", "broadcast_all",
                                    "legacy_vectorized"])
def test_vmap_methods_match_jax(capsys, method):
    def run(a):
        def pc(x, y):
            def cb(u, v):
                print(method, u.shape, v.shape)
                return (u + v).astype(np.float32)
            return a["pure_callback"](cb, a["S"]((), np.float32), x, y, vmap_method=method)
        return a["vmap"](pc, in_axes=(0, None))(a["np"].arange(3.0), 1.0)
    ours, theirs, r1, r2 = printed(capsys, run)
    assert ours == theirs
    np.testing.assert_array_equal(r1, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(r1, r2)


def test_vmap_without_method_raises_like_jax():
    f = lambda l: lambda x: l(lambda y: y, S((), np.float32), x)
    with pytest.raises(NotImplementedError) as ours:
        jaxel.vmap(f(jaxel.pure_callback))(jnp.arange(3.0))
    with pytest.raises(NotImplementedError) as theirs:
        jax.vmap(lambda x: jax.pure_callback(lambda y: y, jax.ShapeDtypeStruct((), np.float32),
                                             x))(jjnp.arange(3.0))
    assert str(ours.value) == str(theirs.value)


def test_bad_vmap_method():
    with pytest.raises(ValueError, match="vmap_method"):
        jaxel.pure_callback(lambda y: y, S((), np.float32), 1.0, vmap_method="nope")


def test_grad_raises_like_jax():
    f = lambda x: jaxel.pure_callback(lambda y: y, S((), np.float32), x)
    with pytest.raises(ValueError) as ours:
        jaxel.grad(f)(1.0)
    with pytest.raises(ValueError) as theirs:
        jax.grad(lambda x: jax.pure_callback(lambda y: y, jax.ShapeDtypeStruct((), np.float32),
                                             x))(1.0)
    assert str(ours.value) == str(theirs.value)


def test_differentiable_through_custom_jvp():
    @jaxel.custom_jvp
    def s(x):
        return jaxel.pure_callback(np.sin, S((), np.float32), x)
    s.defjvp(lambda p, t: (s(p[0]), jaxel.pure_callback(np.cos, S((), np.float32), p[0]) * t[0]))
    np.testing.assert_allclose(jaxel.grad(s)(0.5), np.cos(0.5), rtol=1e-6)
    np.testing.assert_allclose(jaxel.jit(jaxel.grad(s))(0.5), np.cos(0.5), rtol=1e-6)


def test_unused_pure_callback_is_dropped():
    calls = []
    jaxel.jit(lambda x: (jaxel.pure_callback(lambda v: calls.append(1) or v,
                                             S((), np.float32), x), x)[1])(1.0)
    assert calls == []


def test_programs_with_different_callbacks_do_not_share_executables():
    a = jaxel.jit(lambda x: jaxel.pure_callback(lambda v: v + 1, S((), np.float32), x))(1.0)
    b = jaxel.jit(lambda x: jaxel.pure_callback(lambda v: v + 2, S((), np.float32), x))(1.0)
    assert (float(a), float(b)) == (2.0, 3.0)


def test_same_program_retraced_hits_compile_cache():
    f = lambda x: jaxel.pure_callback(np.cos, S((), np.float32), x)
    g = jaxel.jit(f)
    g(1.0)
    misses = compile_cache.stats()["misses"]
    closed = jaxel.make_jaxpr(f)(1.0)
    from jaxel.lowering.lower import lower_jaxpr_to_module
    t1, _ = lower_jaxpr_to_module(closed)
    t2, _ = lower_jaxpr_to_module(closed)
    assert t1 == t2  # re-lowering one jaxpr gives the same text (one cache entry)
    g(2.0)
    assert compile_cache.stats()["misses"] == misses


def test_wrong_result_shape_names_callback():
    def cb(v):
        return np.zeros(2, np.float32)
    with pytest.raises(RuntimeError, match=r"cb.*shape.*\(\).*\(2,\)"):
        jaxel.jit(lambda x: jaxel.pure_callback(cb, S((), np.float32), x))(1.0)


def test_exception_surfaces_with_callback_name():
    def failing(v):
        raise KeyError("nope")
    with pytest.raises(KeyError, match="nope") as e:
        jaxel.jit(lambda x: jaxel.pure_callback(failing, S((), np.float32), x))(1.0)
    assert "failing" in "".join(e.value.__notes__)
    with pytest.raises(KeyError, match="nope") as e:  # eagerly: raised directly
        jaxel.pure_callback(failing, S((), np.float32), 1.0)
    assert "host callback pure_callback(" in "".join(e.value.__notes__)
    # the next run is not confused by the earlier failure
    assert float(jaxel.jit(lambda x: jaxel.pure_callback(np.cos, S((), np.float32), x))(0.0)) == 1


def test_make_jaxpr_shows_primitive():
    text = str(jaxel.make_jaxpr(lambda x: jaxel.pure_callback(
        np.sin, S((), np.float32), x, vmap_method="sequential"))(1.0))
    assert "pure_callback" in text and "vmap_method=sequential" in text


def test_sequential_vmap_is_one_host_call_in_example_order():
    from jaxel.lowering.lower import lower_jaxpr_to_module
    seen = []

    def cb(v):
        seen.append(float(v))
        return v * 2
    f = jaxel.vmap(lambda x: jaxel.pure_callback(cb, S((), np.float32), x,
                                                 vmap_method="sequential"))
    text, _ = lower_jaxpr_to_module(jaxel.make_jaxpr(f)(jnp.zeros(50)))
    assert text.count("xla_ffi_python_cpu_callback") == 1  # not one call per example
    out = jaxel.jit(f)(jnp.arange(5.0))
    np.testing.assert_array_equal(out, np.arange(5.0) * 2)
    assert seen == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_eval_shape():
    out = jaxel.eval_shape(lambda x: jaxel.pure_callback(np.sin, S((2, 3), np.float32), x),
                           jnp.zeros(4))
    assert out.shape == (2, 3) and out.dtype == np.float32
