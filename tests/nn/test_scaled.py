"""jaxel.nn block-scaled products (scaled_matmul, scaled_dot_general and their configs) against
jax.nn's CPU reference path (bit-for-bit: same quantisation, same dequantised dot) and against a
NumPy dequantise-and-multiply; gradients; the Initializer protocol."""
from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel import nn

RNG = np.random.default_rng(7)
MODES = ["mxfp8", "mxfp4", "nvfp4"]


def test_configs():
    c = nn.get_scaled_dot_general_config("mxfp8")
    assert (c.mode, c.block_size, c.global_scale) == ("mxfp8", 32, None)
    assert c.data_type is jnp.float8_e4m3fn and c.scale_type is jnp.float8_e8m0fnu
    c = nn.get_scaled_dot_general_config("mxfp4")
    assert c.data_type is jnp.float4_e2m1fn and c.scale_type is jnp.float8_e8m0fnu
    c = nn.get_scaled_dot_general_config("nvfp4")
    assert (c.block_size, float(c.global_scale), c.global_scale.dtype) == (16, 1.0, np.float32)
    assert c.scale_type is jnp.float8_e4m3fn
    with pytest.raises(ValueError, match="global_scale"):
        nn.get_scaled_dot_general_config("mxfp4", jnp.ones(()))
    with pytest.raises(ValueError, match="Unsupported mode"):
        nn.get_scaled_dot_general_config("fp6")


def test_scaled_matmul_is_dequantise_then_matmul():
    a = RNG.standard_normal((2, 3, 64)).astype(ml_dtypes.float8_e4m3fn)
    b = RNG.standard_normal((2, 5, 64)).astype(ml_dtypes.float8_e4m3fn)
    sa = (2.0 ** RNG.integers(-3, 3, (2, 3, 2))).astype(ml_dtypes.float8_e8m0fnu)
    sb = (2.0 ** RNG.integers(-3, 3, (2, 5, 2))).astype(ml_dtypes.float8_e8m0fnu)
    out = nn.scaled_matmul(a, b, sa, sb)
    assert out.dtype == np.float32 and out.shape == (2, 3, 5)
    deq = lambda x, s: x.astype(np.float32) * np.repeat(s.astype(np.float32), 32, -1)  # noqa
    np.testing.assert_allclose(np.asarray(out), np.einsum("bmk,bnk->bmn", deq(a, sa),
                                                          deq(b, sb)), rtol=1e-6)
    assert nn.scaled_matmul(a, b, sa, sb, jnp.bfloat16).dtype == jnp.bfloat16
    jax = pytest.importorskip("jax")
    np.testing.assert_array_equal(np.asarray(out), np.asarray(jax.nn.scaled_matmul(a, b, sa, sb)))
    with pytest.raises(ValueError, match="3-dimensional"):
        nn.scaled_matmul(a[0], b[0], sa[0], sb[0])
    with pytest.raises(ValueError, match="matching batch"):
        nn.scaled_matmul(a, b[:1], sa, sb)


DNS = [((2, 32, 64), (2, 32, 64), (((2,), (2,)), ((0,), (0,)))),
       ((32, 64), (64, 32), (((1,), (0,)), ((), ()))),
       ((64, 3, 32), (2, 32, 3, 64), (((0,), (3,)), ((1,), (2,))))]


@pytest.mark.parametrize("mode", MODES)
def test_scaled_dot_general_values_and_gradients_match_jax(mode):
    jax = pytest.importorskip("jax")
    c = nn.get_scaled_dot_general_config(mode)
    jc = jax.nn.get_scaled_dot_general_config(mode)
    for sa, sb, dn in DNS:
        a = RNG.standard_normal(sa).astype(np.float32)
        b = RNG.standard_normal(sb).astype(np.float32)
        ja, jb = jax.numpy.asarray(a), jax.numpy.asarray(b)
        for pet in [np.float32, jnp.bfloat16] if dn == DNS[0][2] else [np.float32]:
            ours = nn.scaled_dot_general(a, b, dn, pet, configs=[c, c, c])
            theirs = jax.nn.scaled_dot_general(ja, jb, dn, pet, configs=[jc, jc, jc])
            assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
            np.testing.assert_array_equal(np.asarray(ours, np.float32),
                                          np.asarray(theirs, np.float32))
        exact = np.asarray(jaxel.lax.dot_general(a, b, dn))
        err = np.abs(np.asarray(ours, np.float32) - exact).max() / np.abs(exact).max()
        assert 0 < err < (0.1 if mode == "mxfp8" else 0.5)  # quantised, but close
    w = RNG.standard_normal(ours.shape).astype(np.float32)

    def loss(mod, cfg, a, b):
        return (mod.nn.scaled_dot_general(a, b, dn, configs=[cfg] * 3) * w).sum()
    g = jaxel.grad(lambda a, b: loss(jaxel, c, a, b), argnums=(0, 1))(a, b)
    jg = jax.grad(lambda a, b: loss(jax, jc, a, b), argnums=(0, 1))(ja, jb)
    for x, y in zip(g, jg):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def test_scaled_dot_general_without_configs_is_dot_general_and_jits():
    a = RNG.standard_normal((4, 32)).astype(np.float32)
    b = RNG.standard_normal((32, 3)).astype(np.float32)
    dn = (((1,), (0,)), ((), ()))
    np.testing.assert_allclose(np.asarray(nn.scaled_dot_general(a, b, dn)), a @ b, rtol=1e-5)
    x = RNG.standard_normal((4, 64)).astype(np.float32)
    for mode in MODES:
        # Under jit XLA must not fold the float -> narrow -> float round trips away.
        c = nn.get_scaled_dot_general_config(mode)
        f = lambda a, b: nn.scaled_dot_general(a, b, (((1,), (1,)), ((), ())),  # noqa: E731
                                               configs=[c, c, c])
        eager = np.asarray(f(x, x))
        np.testing.assert_array_equal(np.asarray(jaxel.jit(f)(x, x)), eager)
        assert np.abs(eager - x @ x.T).max() > 1e-3


def test_scaled_dot_general_errors():
    c = nn.get_scaled_dot_general_config("mxfp8")
    x = np.ones((4, 48), np.float32)
    with pytest.raises(ValueError, match="multiple of the block size 32"):
        nn.scaled_dot_general(x, x, (((1,), (1,)), ((), ())), configs=[c, c, c])
    with pytest.raises(TypeError, match="preferred_element_type"):
        nn.scaled_dot_general(x, x, (((1,), (1,)), ((), ())), np.float64, configs=[c, c, c])
    with pytest.warns(DeprecationWarning):
        nn.scaled_dot_general(x, x, (((1,), (1,)), ((), ())), implementation="cudnn")


def test_initializer_protocol():
    from jaxel.nn import initializers as init
    for f in [init.zeros, init.glorot_uniform(), init.normal(0.1)]:
        assert isinstance(f, init.Initializer)
    assert not isinstance(3, init.Initializer)


def test_scaled_dot_general_vmaps_like_a_loop():
    c = nn.get_scaled_dot_general_config("mxfp4")
    dn = (((1,), (1,)), ((), ()))
    a = RNG.standard_normal((3, 32, 64)).astype(np.float32)
    b = RNG.standard_normal((3, 32, 64)).astype(np.float32)
    out = jaxel.vmap(lambda a, b: nn.scaled_dot_general(a, b, dn, configs=[c] * 3))(a, b)
    for i in range(3):
        np.testing.assert_array_equal(
            np.asarray(out[i]), np.asarray(nn.scaled_dot_general(a[i], b[i], dn, configs=[c] * 3)))


def test_initializers_take_out_sharding_like_jax():
    import inspect

    from jaxel.nn import initializers as init
    made = [init.zeros, init.ones, init.constant(2.0), init.normal(), init.uniform(),
            init.truncated_normal(), init.glorot_uniform(), init.orthogonal(),
            init.delta_orthogonal()]
    for f in made:
        assert list(inspect.signature(f).parameters) == ["key", "shape", "dtype", "out_sharding"]
    key = jaxel.random.key(0)
    assert init.normal()(key, (2, 3), out_sharding=None).shape == (2, 3)
    with pytest.raises(NotImplementedError, match="out_sharding"):
        init.glorot_uniform()(key, (2, 3), out_sharding="x")
