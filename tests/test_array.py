"""The jaxel.Array surface: repr, conversions, pickling, DLPack, immutability."""
import pickle

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp


@pytest.mark.parametrize("value", [np.array([1.0, 2.0], np.float32), np.arange(6).reshape(2, 3),
                                   np.array([True, False]), np.array(3.5, np.float32),
                                   np.zeros((0, 2), np.float32)])
def test_repr_matches_jax(value):
    jax = pytest.importorskip("jax")
    assert repr(jnp.asarray(value)) == repr(jax.numpy.asarray(value))


def test_weak_repr_and_metadata():
    x = jnp.asarray(1.0)
    assert x.weak_type and repr(x) == "Array(1., dtype=float32, weak_type=True)"
    y = jnp.asarray(np.ones((2, 3), np.float32))
    assert (y.shape, y.ndim, y.size, y.dtype) == ((2, 3), 2, 6, np.float32)
    assert len(y) == 2 and [r.shape for r in y] == [(3,), (3,)]


def test_scalar_conversions():
    x = jnp.asarray(np.float32(2.5))
    assert float(x) == 2.5 and int(x) == 2 and complex(x) == 2.5 and bool(x)
    assert x.item() == 2.5 and jnp.asarray(np.arange(3)).tolist() == [0, 1, 2]
    assert [10, 20, 30][jnp.asarray(np.int32(1))] == 20
    with pytest.raises(TypeError, match="length-1"):
        int(jnp.ones(3))
    # JAX raises ValueError for bool() of several or no elements (jaxel's class is both).
    for n in (3, 0):
        with pytest.raises(ValueError, match="ambiguous"):
            bool(jnp.ones(n))
        with pytest.raises(TypeError, match="ambiguous"):
            bool(jnp.ones(n))
    jax = pytest.importorskip("jax")
    with pytest.raises(ValueError):
        bool(jax.numpy.ones(3))


def test_pickle_round_trip_keeps_weak_type():
    for x in (jnp.asarray(np.arange(4, dtype=np.int32)), jnp.asarray(1.0)):
        y = pickle.loads(pickle.dumps(x))
        assert y.dtype == x.dtype and y.weak_type == x.weak_type
        np.testing.assert_array_equal(y, x)


def test_dlpack_round_trips():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    x = jaxel.dlpack.from_dlpack(a)
    np.testing.assert_array_equal(x, a)
    np.testing.assert_array_equal(np.from_dlpack(x), a)


def test_delete_and_copy():
    x = jnp.ones(3)
    y = x.copy()
    x.delete()
    assert x.is_deleted() and not y.is_deleted()
    with pytest.raises(RuntimeError, match="deleted"):
        np.asarray(x)


def test_array_namespace_and_methods():
    x = jnp.asarray(np.arange(6, dtype=np.float32).reshape(2, 3))
    assert x.__array_namespace__() is jnp
    np.testing.assert_allclose(x.mean(axis=1), [1, 4])
    np.testing.assert_allclose(x.sum(), 15)
    assert x.block_until_ready() is x
    with pytest.raises(TypeError, match="immutable"):
        x[0, 0] = 1.0


@pytest.mark.parametrize("op", ["__add__", "__sub__", "__mul__", "__truediv__", "__floordiv__",
                                "__mod__", "__pow__", "__lt__", "__ge__", "__eq__", "__ne__"])
def test_operators_match_numpy(op):
    a = np.array([1.5, -2.0, 3.0], np.float32)
    b = np.array([2.0, 3.0, -1.5], np.float32)
    got = getattr(jnp.asarray(a), op)(jnp.asarray(b))
    np.testing.assert_allclose(np.asarray(got), getattr(a, op)(b), rtol=1e-6)
