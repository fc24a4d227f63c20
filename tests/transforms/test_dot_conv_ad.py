"""Gradients through matmuls, einsum and convolutions: finite differences (via check_grads) and
real jax where installed, over strides, padding, dilations, groups and layouts."""
from __future__ import annotations

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel import lax
from jaxel.test_util import check_grads

RNG = np.random.default_rng(0)


def _arr(*shape):
    return jnp.asarray(RNG.standard_normal(shape).astype(np.float32))


CONVS = {
    "plain": dict(lhs=(2, 3, 7, 6), rhs=(4, 3, 3, 2), window_strides=(1, 1), padding="VALID"),
    "strided-same": dict(lhs=(2, 3, 9, 8), rhs=(4, 3, 3, 3), window_strides=(2, 3),
                         padding="SAME"),
    "dilated-padded": dict(lhs=(1, 2, 8, 7), rhs=(3, 2, 2, 3), window_strides=(2, 1),
                           padding=((2, 1), (0, -1)), lhs_dilation=(2, 1), rhs_dilation=(1, 2)),
    "grouped": dict(lhs=(2, 4, 6, 6), rhs=(6, 2, 3, 3), window_strides=(1, 2), padding="SAME",
                    feature_group_count=2),
    "depthwise": dict(lhs=(2, 3, 5, 5), rhs=(3, 1, 3, 3), window_strides=(1, 1), padding="SAME",
                      feature_group_count=3),
    "batch-groups": dict(lhs=(4, 3, 7), rhs=(4, 3, 3), window_strides=(2,), padding="VALID",
                         batch_group_count=2),
    "nhwc": dict(lhs=(2, 6, 5, 3), rhs=(3, 2, 3, 4), window_strides=(1, 1), padding="SAME",
                 dimension_numbers=("NHWC", "HWIO", "NHWC")),
    # Strides, uneven/negative padding, both dilations, groups and scrambled layouts at once.
    "all-feature-groups": dict(lhs=(6, 4, 2, 7), rhs=(2, 6, 3, 2), window_strides=(3, 2),
                               padding=((1, 2), (2, -1)), lhs_dilation=(1, 2),
                               rhs_dilation=(2, 1), feature_group_count=2,
                               dimension_numbers=("WCNH", "WOHI", "CHWN")),
    "all-batch-groups": dict(lhs=(3, 8, 4, 5), rhs=(2, 3, 4, 3), window_strides=(1, 3),
                             padding=((-1, 3), (1, 2)), lhs_dilation=(2, 1),
                             rhs_dilation=(1, 2), batch_group_count=2,
                             dimension_numbers=("CHNW", "HWOI", "WNCH")),
}


def _conv_fn(lib, cfg):
    cfg = dict(cfg)
    cfg.pop("lhs"), cfg.pop("rhs")
    return lambda x, w: lib.lax.conv_general_dilated(x, w, **cfg)


@pytest.mark.parametrize("name", sorted(CONVS))
def test_conv_gradients_second_order(name):
    cfg = CONVS[name]
    x, w = _arr(*cfg["lhs"]), _arr(*cfg["rhs"])
    conv = _conv_fn(jaxel, cfg)
    check_grads(lambda x, w: jnp.sum(jnp.tanh(conv(x, w))), (x, w), order=2,
                modes=("fwd", "rev"), atol=5e-2, rtol=5e-2)


@pytest.mark.parametrize("name", sorted(CONVS))
def test_conv_gradients_match_jax(name):
    jax = pytest.importorskip("jax")
    cfg = CONVS[name]
    x, w = _arr(*cfg["lhs"]), _arr(*cfg["rhs"])
    ours = jaxel.grad(lambda x, w: jnp.sum(_conv_fn(jaxel, cfg)(x, w) ** 2), (0, 1))(x, w)
    theirs = jax.grad(lambda x, w: jax.numpy.sum(_conv_fn(jax, cfg)(x, w) ** 2), (0, 1))(
        np.asarray(x), np.asarray(w))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-4)


def test_preferred_element_type_gradients_match_jax():
    """bf16 operands accumulated in f32: gradients come back in bf16 and agree with jax."""
    jax = pytest.importorskip("jax")
    cfg = dict(CONVS["all-feature-groups"], preferred_element_type=np.float32)
    x = np.asarray(_arr(*cfg["lhs"])).astype(jnp.bfloat16)
    w = np.asarray(_arr(*cfg["rhs"])).astype(jnp.bfloat16)
    loss = lambda lib: lambda x, w: lib.numpy.sum(lib.numpy.sin(_conv_fn(lib, cfg)(x, w)))
    ours = jaxel.grad(loss(jaxel), (0, 1))(jnp.asarray(x), jnp.asarray(w))
    theirs = jax.grad(loss(jax), (0, 1))(x, w)
    for a, b in zip(ours, theirs):
        assert np.asarray(a).dtype == np.asarray(b).dtype == jnp.bfloat16
        np.testing.assert_allclose(np.asarray(a, np.float32), np.asarray(b, np.float32),
                                   rtol=2e-2, atol=5e-2)


def test_matmul_and_einsum_gradients():
    a, b, c = _arr(3, 4), _arr(4, 5), _arr(2, 4, 5)
    check_grads(lambda a, b: jnp.sum(jnp.sin(a @ b)), (a, b), order=2, modes=("fwd", "rev"),
                atol=2e-2, rtol=2e-2)
    check_grads(lambda a, c: jnp.sum(jnp.einsum("ij,bjk->bik", a, c) ** 2), (a, c), order=1,
                modes=("fwd", "rev"), atol=2e-2, rtol=2e-2)
    # Matrix-vector and vector-vector products.
    v = _arr(4)
    check_grads(lambda a, v: jnp.sum(jnp.cos(a @ v)) + v @ v, (a, v), order=2,
                modes=("fwd", "rev"), atol=2e-2, rtol=2e-2)


def test_matmul_backward_emits_no_transposes():
    f = lambda w, x: jnp.sum(jnp.tanh(x @ w))
    jaxpr = jaxel.make_jaxpr(jaxel.grad(f, (0, 1)))(_arr(6, 5), _arr(3, 6))
    prims = [e.primitive.name for e in jaxpr.jaxpr.eqns]
    assert prims.count("dot_general") == 3 and "transpose" not in prims
