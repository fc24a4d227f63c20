"""jaxel.ops segment reductions against NumPy loops and jax.ops (values, dtypes, gradients),
under jit and vmap, with buckets, out-of-range ids and the errors."""
from __future__ import annotations

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel import ops

RNG = np.random.default_rng(5)
DATA = RNG.standard_normal((7, 2)).astype(np.float32)
IDS = np.array([3, 0, 3, 1, 0, 3, 1], np.int32)
NAMES = ["segment_sum", "segment_prod", "segment_max", "segment_min"]
_NP = {"segment_sum": (np.add, 0.0), "segment_prod": (np.multiply, 1.0),
       "segment_max": (np.maximum, -np.inf), "segment_min": (np.minimum, np.inf)}


def _reference(name, data, ids, n):
    op, init = _NP[name]
    out = np.full((n,) + data.shape[1:], init, np.float64)
    for row, s in zip(data, ids):
        if 0 <= s < n:
            out[s] = op(out[s], row)
    return out


@pytest.mark.parametrize("name", NAMES)
def test_values_match_numpy_loop_and_jax(name):
    ours = getattr(ops, name)(jnp.asarray(DATA), jnp.asarray(IDS), 5)
    assert ours.dtype == np.float32 and ours.shape == (5, 2)
    np.testing.assert_allclose(np.asarray(ours), _reference(name, DATA, IDS, 5), rtol=1e-6)
    jax = pytest.importorskip("jax")
    np.testing.assert_allclose(np.asarray(ours), getattr(jax.ops, name)(DATA, IDS, 5),
                               rtol=1e-6)


@pytest.mark.parametrize("name", ["segment_sum", "segment_max", "segment_min"])
def test_gradients_match_jax(name):
    jax = pytest.importorskip("jax")
    w = RNG.standard_normal((4, 2)).astype(np.float32)

    def loss(mod, d):
        return (getattr(mod.ops, name)(d, IDS, 4) * w).sum()
    ours = jaxel.grad(lambda d: loss(jaxel, d))(jnp.asarray(DATA))
    theirs = jax.grad(lambda d: loss(jax, d))(DATA)
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=1e-5, atol=1e-6)


def test_prod_gradient_is_product_of_the_others():
    # jax.ops.segment_prod has no gradient for repeated ids (JAX raises); jaxel's scatter_mul
    # has one: d prod / d x_i = prod / x_i for nonzero entries.
    w = RNG.standard_normal((4, 2)).astype(np.float32)
    g = jaxel.grad(lambda d: (ops.segment_prod(d, IDS, 4) * w).sum())(jnp.asarray(DATA))
    prods = _reference("segment_prod", DATA, IDS, 4)
    np.testing.assert_allclose(np.asarray(g), w[IDS] * prods[IDS] / DATA, rtol=1e-4)


def test_sum_gradient_is_gather_of_cotangent():
    g = jaxel.grad(lambda d: (ops.segment_sum(d, IDS, 4)[:, 0] * jnp.arange(4.0)).sum())(
        jnp.asarray(DATA))
    np.testing.assert_array_equal(np.asarray(g)[:, 0], IDS.astype(np.float32))


def test_jit_vmap_and_default_num_segments():
    f = jaxel.jit(lambda d, s: ops.segment_max(d, s, num_segments=4))
    np.testing.assert_allclose(np.asarray(f(DATA, IDS)), _reference("segment_max", DATA, IDS, 4))
    batched = jaxel.vmap(lambda d: ops.segment_sum(d, IDS, 4), in_axes=1, out_axes=1)(DATA)
    np.testing.assert_allclose(np.asarray(batched), _reference("segment_sum", DATA, IDS, 4),
                               rtol=1e-6)
    by_ids = jaxel.vmap(lambda s: ops.segment_sum(DATA, s, 4))(np.stack([IDS, IDS[::-1]]))
    np.testing.assert_allclose(np.asarray(by_ids[1]),
                               _reference("segment_sum", DATA, IDS[::-1], 4), rtol=1e-6)
    assert ops.segment_sum(DATA, IDS).shape == (4, 2)  # max(ids) + 1


def test_empty_segments_hold_the_identity_in_each_dtype():
    ids = np.array([0, 0, 2], np.int32)
    i32 = np.array([5, -2, 7], np.int32)
    assert np.asarray(ops.segment_max(i32, ids, 4)).tolist() == [5, -2**31, 7, -2**31]
    assert np.asarray(ops.segment_min(i32, ids, 4)).tolist() == [-2, 2**31 - 1, 7, 2**31 - 1]
    assert np.asarray(ops.segment_prod(i32, ids, 3)).tolist() == [-10, 1, 7]
    b = ops.segment_max(np.array([True, False, False]), ids, 3)
    assert b.dtype == np.bool_ and np.asarray(b).tolist() == [True, False, False]
    jax = pytest.importorskip("jax")
    for name in NAMES:
        ours = getattr(ops, name)(i32, ids, 4)
        theirs = getattr(jax.ops, name)(i32, ids, 4)
        assert ours.dtype == theirs.dtype
        np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))


@pytest.mark.parametrize("name", ["segment_sum", "segment_prod"])
def test_bucket_size_and_modes_match_jax(name):
    jax = pytest.importorskip("jax")
    ids = np.array([0, 1, 1, 5, 3, -1, 3], np.int32)  # 5 and -1 out of range for 4 segments
    for kw in [dict(bucket_size=3), dict(mode="clip"), dict(mode="drop"),
               dict(bucket_size=2, mode=jaxel.lax.GatherScatterMode.CLIP)]:
        jkw = dict(kw)
        if "mode" in kw and not isinstance(kw["mode"], str):
            jkw["mode"] = "clip"
        ours = getattr(ops, name)(DATA, ids, 4, **kw)
        theirs = getattr(jax.ops, name)(DATA, ids, 4, **jkw)
        np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=1e-6,
                                   err_msg=str(kw))
    # Sorted/unique hints do not change a result whose ids really are sorted and unique.
    s = np.arange(7, dtype=np.int32)
    np.testing.assert_allclose(
        np.asarray(getattr(ops, name)(DATA, s, 7, indices_are_sorted=True, unique_indices=True)),
        DATA)


def test_errors():
    with pytest.raises(TypeError, match="array-like"):
        ops.segment_sum([1.0, 2.0], [0, 1])
    with pytest.raises(ValueError, match="non-negative"):
        ops.segment_sum(DATA, IDS, -1)
    with pytest.raises(jaxel.errors.ConcretizationTypeError, match="num_segments"):
        jaxel.jit(lambda d, s: ops.segment_sum(d, s))(DATA, IDS)
    with pytest.raises(ValueError, match="one id per row"):
        ops.segment_sum(DATA, IDS[:3], 4)
    with pytest.raises(NotImplementedError, match="out_sharding"):
        ops.segment_max(DATA, IDS, 4, out_sharding="x")
