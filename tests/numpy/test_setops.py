"""setops.py: unique (+ array-API forms), isin, intersect1d, union1d, setdiff1d, setxor1d,
with size/fill_value under jit."""
import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel.errors import ConcretizationTypeError
from tests.numpy._oracle import A, R, check

pytestmark = pytest.mark.skipif(R is np, reason="size/fill_value semantics checked against JAX")

X = np.array([3, 1, 3, 2, 1], np.int32)
A1 = np.array([5, 3, 3, 1, 9], np.int32)
A2 = np.array([1, 3, 7, 7], np.int32)


@pytest.mark.parametrize("kw", [dict(), dict(return_index=True, return_inverse=True,
                                             return_counts=True),
                                dict(size=5, return_index=True, return_inverse=True,
                                     return_counts=True),
                                dict(size=2, return_counts=True, fill_value=9)])
def test_unique(kw):
    check(jnp.unique(A(X), **kw), R.unique(X, **kw))
    check(jnp.unique(A(X.reshape(1, 5)), **kw), R.unique(X.reshape(1, 5), **kw))


def test_unique_axis_nan_and_jit():
    m = np.array([[1, 2], [1, 2], [0, 5], [1, 1]], np.int32)
    kw = dict(return_index=True, return_inverse=True, return_counts=True)
    check(jnp.unique(A(m), axis=0, **kw), R.unique(m, axis=0, **kw))
    check(jnp.unique(A(m), axis=1, return_counts=True), R.unique(m, axis=1, return_counts=True))
    f = np.array([np.nan, 1, np.nan, 0.5], np.float32)
    check(jnp.unique(A(f)), R.unique(f))
    check(jnp.unique(A(f), equal_nan=False), R.unique(f, equal_nan=False))
    g = jaxel.jit(lambda v: jnp.unique(v, size=4, return_inverse=True, return_counts=True))
    check(g(A(X)), R.unique(X, size=4, return_inverse=True, return_counts=True))
    with pytest.raises(ConcretizationTypeError, match="size"):
        jaxel.jit(jnp.unique)(A(X))


@pytest.mark.parametrize("fn", ["unique_all", "unique_counts", "unique_inverse",
                                "unique_values"])
def test_unique_array_api(fn):
    check(tuple(getattr(jnp, fn)(A(X))) if fn != "unique_values" else getattr(jnp, fn)(A(X)),
          tuple(getattr(R, fn)(X)) if fn != "unique_values" else getattr(R, fn)(X))
    got = getattr(jnp, fn)(A(X), size=4)
    want = getattr(R, fn)(X, size=4)
    check(tuple(got) if fn != "unique_values" else got,
          tuple(want) if fn != "unique_values" else want)


@pytest.mark.parametrize("method", ["auto", "compare_all", "sort"])
def test_isin(method):
    check(jnp.isin(A(A1), A(A2), method=method), R.isin(A1, A2))
    check(jnp.isin(A(A1.reshape(5, 1)), A(A2), invert=True, method=method),
          R.isin(A1.reshape(5, 1), A2, invert=True))
    f = np.array([np.nan, 1.0], np.float32)
    check(jnp.isin(A(f), A(f), method=method), R.isin(f, f))


@pytest.mark.parametrize("fn", ["intersect1d", "union1d", "setdiff1d", "setxor1d"])
def test_set_functions(fn):
    check(getattr(jnp, fn)(A(A1), A(A2)), getattr(R, fn)(A1, A2))
    check(getattr(jnp, fn)(A(A1), A(A2), size=6), getattr(R, fn)(A1, A2, size=6))
    f = jaxel.jit(lambda a, b: getattr(jnp, fn)(a, b, size=3, fill_value=-1))
    check(f(A(A1), A(A2)), getattr(R, fn)(A1, A2, size=3, fill_value=-1))
    with pytest.raises(ConcretizationTypeError, match="size"):
        jaxel.jit(getattr(jnp, fn))(A(A1), A(A2))
    b = np.array([2.5, 1.0], np.float32)
    check(getattr(jnp, fn)(A(A1), A(b)), getattr(R, fn)(A1, b))


def test_intersect1d_indices_and_setdiff_assume_unique():
    check(jnp.intersect1d(A(A1), A(A2), return_indices=True),
          R.intersect1d(A1, A2, return_indices=True))
    check(jnp.intersect1d(A(A1), A(A2), return_indices=True, size=4),
          R.intersect1d(A1, A2, return_indices=True, size=4))
    u = np.array([5, 3, 1], np.int32)
    check(jnp.setdiff1d(A(u), A(A2), assume_unique=True), R.setdiff1d(u, A2, assume_unique=True))
