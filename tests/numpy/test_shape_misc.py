"""The first shape-manipulation and misc functions against NumPy."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import jaxel
import jaxel.numpy as jnp


def test_shape_functions_match_numpy():
    a = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    x = jnp.asarray(a)
    np.testing.assert_array_equal(jnp.reshape(x, (4, -1)), a.reshape(4, -1))
    np.testing.assert_array_equal(x.reshape(6, 4), a.reshape(6, 4))
    np.testing.assert_array_equal(jnp.ravel(x), a.ravel())
    np.testing.assert_array_equal(x.T, a.T)
    np.testing.assert_array_equal(x.mT, np.swapaxes(a, -1, -2))
    np.testing.assert_array_equal(jnp.transpose(x, (1, 0, 2)), a.transpose(1, 0, 2))
    np.testing.assert_array_equal(jnp.moveaxis(x, 0, -1), np.moveaxis(a, 0, -1))
    np.testing.assert_array_equal(jnp.swapaxes(x, 0, 2), np.swapaxes(a, 0, 2))
    np.testing.assert_array_equal(jnp.expand_dims(x, 1), np.expand_dims(a, 1))
    np.testing.assert_array_equal(jnp.squeeze(jnp.expand_dims(x, 0)), a)
    np.testing.assert_array_equal(jnp.stack([x, x], axis=1), np.stack([a, a], axis=1))
    np.testing.assert_array_equal(jnp.concatenate([x, x], axis=-1), np.concatenate([a, a], -1))
    np.testing.assert_array_equal(jnp.concatenate([x, x], axis=None),
                                  np.concatenate([a, a], axis=None))
    np.testing.assert_array_equal(jnp.flip(x, 1), np.flip(a, 1))
    np.testing.assert_array_equal(jnp.broadcast_to(jnp.asarray(a[0, 0]), (3, 4)),
                                  np.broadcast_to(a[0, 0], (3, 4)))
    assert x.astype(jnp.int32).dtype == np.int32
    with pytest.raises(TypeError, match="cannot reshape"):  # JAX raises TypeError here
        jnp.reshape(x, (5, -1))


@settings(max_examples=25, deadline=None)
@given(st.integers(-5, 5), st.integers(0, 12), st.sampled_from([1, 2, 3]),
       st.sampled_from([None, np.int32, np.float32]))
def test_arange_matches_numpy(start, stop, step, dtype):
    want = np.arange(start, stop, step, dtype=dtype)
    got = jnp.arange(start, stop, step, dtype=dtype)
    np.testing.assert_array_equal(got, want.astype(got.dtype))
    if dtype is None:
        assert got.dtype == np.int32


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 3), min_size=0, max_size=3),
       st.lists(st.integers(1, 3), min_size=0, max_size=3))
def test_where_broadcasts_like_numpy(s1, s2):
    rng = np.random.default_rng(0)
    c = rng.random(s1) > 0.5
    y = rng.random(s2).astype(np.float32)
    try:
        want = np.where(c, 1.0, y)
    except ValueError:
        with pytest.raises(ValueError, match="Incompatible shapes"):
            jnp.where(c, 1.0, jnp.asarray(y))
        return
    got = jnp.where(c, 1.0, jnp.asarray(y))
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, want.astype(np.float32))


def test_clip_isclose_under_jit():
    x = jnp.asarray(np.linspace(-2, 2, 9, dtype=np.float32))
    f = jaxel.jit(lambda v: jnp.clip(v, -1, 1))
    np.testing.assert_array_equal(f(x), np.clip(np.linspace(-2, 2, 9), -1, 1))
    assert bool(jnp.allclose(x, x * (1 + 1e-7))) == np.allclose(np.asarray(x), np.asarray(x) * (1 + 1e-7))
    assert not bool(jnp.allclose(x, x + 1))
