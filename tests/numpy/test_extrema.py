"""jnp.minmax and jnp.top_k against NumPy and jax.numpy: values, dtypes, NaN and signed-zero
ordering, masks and bounds, gradients, vmap and the errors."""
from __future__ import annotations

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp

X = np.array([[3.0, 1.0, 4.0], [1.0, 5.0, 9.0]], np.float32)


def _same(ours, theirs):
    for a, b in zip(ours, theirs):
        assert np.asarray(a).dtype == np.asarray(b).dtype
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.parametrize("kw", [{}, {"axis": 1, "keepdims": True}, {"axis": (0, 1)},
                                {"axis": 0, "initial": (2.0, 6.0)},
                                {"initial": 0.0, "where": X > 2}])
def test_minmax_matches_numpy_and_jax(kw):
    ours = jnp.minmax(X, **kw)
    np_kw = {k: v for k, v in kw.items() if k != "initial"}
    lo, hi = kw.get("initial", (None, None)) if isinstance(kw.get("initial"), tuple) else \
        (kw.get("initial"), kw.get("initial"))
    ref = (np.min(X, **np_kw, **({"initial": lo} if lo is not None else {})),
           np.max(X, **np_kw, **({"initial": hi} if hi is not None else {})))
    _same(ours, ref)
    jax = pytest.importorskip("jax")
    _same(ours, jax.numpy.minmax(X, **kw))


def test_minmax_dtypes_nan_and_gradient():
    _same(jnp.minmax(np.array([1, -2, 3], np.int8)), (np.int8(-2), np.int8(3)))
    assert np.isnan(np.asarray(jnp.minmax(np.array([1.0, np.nan], np.float32)))).all()
    g = jaxel.grad(lambda x: jnp.minmax(x)[0] + 2 * jnp.minmax(x)[1])(jnp.asarray(X))
    # The minimum 1.0 occurs twice: the cotangent is shared, as for jnp.min.
    np.testing.assert_array_equal(np.asarray(g), [[0, 0.5, 0], [0.5, 0, 2]])
    jax = pytest.importorskip("jax")
    ours, theirs = jnp.minmax(3.0), jax.numpy.minmax(3.0)
    assert ours[0].dtype == theirs[0].dtype
    assert ours[0].aval.weak_type == theirs[0].weak_type


def test_minmax_errors():
    with pytest.raises(ValueError, match="specify 'initial'"):
        jnp.minmax(X, where=X > 2)
    with pytest.raises(ValueError, match="zero-size array to reduction operation minmax"):
        jnp.minmax(np.zeros((0,), np.float32))
    with pytest.raises(NotImplementedError, match="out"):
        jnp.minmax(X, out=np.zeros(()))


@pytest.mark.parametrize("mode", ["largest", "smallest"])
def test_top_k_matches_numpy_and_jax(mode):
    a = np.array([[1, 2, 3, 4, 5], [5, 4, 3, 2, 1]], np.int32)
    order = np.argsort(-a if mode == "largest" else a, axis=0, kind="stable")[:2]
    vals, idx = jnp.top_k(a, 2, axis=0, mode=mode)
    np.testing.assert_array_equal(np.asarray(idx), order)
    np.testing.assert_array_equal(np.asarray(vals), np.take_along_axis(a, order, 0))
    jax = pytest.importorskip("jax")
    for x in [a, X, np.array([0.0, -0.0, np.nan, 1.0, -np.inf], np.float32),
              np.array([True, False, True]), np.array([3, 1, 200], np.uint8)]:
        k = min(x.shape[-1], 3)
        _same(jnp.top_k(x, k, mode=mode), jax.numpy.top_k(x, k, mode=mode))


def test_top_k_gradient_and_vmap():
    g = jaxel.grad(lambda x: jnp.top_k(x, 2, mode="smallest")[0].sum())(jnp.asarray(X))
    np.testing.assert_array_equal(np.asarray(g), [[1, 1, 0], [1, 1, 0]])
    vals, idx = jaxel.vmap(lambda x: jnp.top_k(x, 2, mode="smallest"))(X)
    np.testing.assert_array_equal(np.asarray(vals), np.sort(X, axis=1)[:, :2])
    np.testing.assert_array_equal(np.asarray(idx), [[1, 0], [0, 1]])


def test_top_k_errors():
    with pytest.raises(ValueError, match="complex"):
        jnp.top_k(np.array([1j, 2]), 1)
    with pytest.raises(ValueError, match="mode"):
        jnp.top_k(X, 1, mode="biggest")
