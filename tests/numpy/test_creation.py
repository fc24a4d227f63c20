"""Array creation (jaxel.numpy.creation) against NumPy, with JAX's dtype rules."""
import warnings

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel.errors import ConcretizationTypeError


def check(got, want, dtype=None, rtol=0.0):
    """``got`` equals ``want`` (to ``rtol``) and has ``dtype`` (default: ``want``'s)."""
    got_np = np.asarray(got)
    assert got.dtype == np.dtype(dtype or want.dtype), (got.dtype, dtype or want.dtype)
    assert got_np.shape == np.shape(want)
    if rtol:
        np.testing.assert_allclose(got_np, want, rtol=rtol, atol=1e-6)
    else:
        np.testing.assert_array_equal(got_np, np.asarray(want).astype(got_np.dtype))


# ---- arange ------------------------------------------------------------------------------------
@pytest.mark.parametrize("args, dtype, expected", [
    ((5,), None, np.int32), ((2, 9, 3), None, np.int32), ((5, 0, -2), None, np.int32),
    ((3, 3), None, np.int32), ((0, 5, 1.5), int, np.int32), ((4,), np.float32, np.float32),
    ((1, 4), np.uint8, np.uint8),
    # NumPy scalars keep their dtype (JAX's rule; NumPy would widen to int64 / float64).
    ((np.int16(5),), None, np.int16), ((np.float16(3),), None, np.float16),
])
def test_arange_integer_valued(args, dtype, expected):
    check(jnp.arange(*args, dtype=dtype), np.arange(*args, dtype=dtype), expected)


def test_arange_float_steps_and_default_dtypes():
    check(jnp.arange(1.0, 2, 0.3), np.arange(1.0, 2, 0.3), np.float32, rtol=1e-6)
    check(jnp.arange(0.1, 0.5, 0.1), np.arange(0.1, 0.5, 0.1), np.float32, rtol=1e-6)
    assert jnp.arange(5).dtype == np.int32 and not jnp.arange(5).weak_type
    assert jnp.arange(jnp.asarray(4)).shape == (4,)  # concrete array bounds are fine


def test_arange_errors():
    with pytest.raises(ZeroDivisionError):
        jnp.arange(0, 5, 0)
    with pytest.raises(TypeError, match="bool"):
        jnp.arange(True)
    with pytest.raises(ConcretizationTypeError, match="'stop'"):
        jaxel.jit(lambda n: jnp.arange(n))(3)


# ---- linspace family ---------------------------------------------------------------------------
@pytest.mark.parametrize("num, endpoint", [(5, True), (5, False), (1, True), (1, False), (0, True)])
def test_linspace_matches_numpy(num, endpoint):
    got, step = jnp.linspace(-1.0, 3.0, num, endpoint=endpoint, retstep=True)
    want, wstep = np.linspace(-1.0, 3.0, num, endpoint=endpoint, retstep=True)
    check(got, want, np.float32, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(step), wstep, rtol=1e-6)


def test_linspace_array_bounds_axis_and_dtypes():
    start, stop = np.array([0.0, 1.0]), np.array([[2.0, 5.0], [4.0, -1.0]])
    for axis in (0, 1, -1):
        check(jnp.linspace(jnp.asarray(start), jnp.asarray(stop), 4, axis=axis),
              np.linspace(start, stop, 4, axis=axis), np.float32, rtol=1e-6)
    # Integer results round down, as JAX (NumPy truncates towards zero).
    check(jnp.linspace(-10, 0, 4, dtype=int), np.array([-10, -7, -4, 0]), np.int32)
    assert jnp.linspace(np.float16(0), 1, 3).dtype == np.float16
    assert jnp.linspace(np.int16(0), 1, 3).dtype == np.float32
    with pytest.raises(ValueError, match="non-negative"):
        jnp.linspace(0, 1, -1)


def test_logspace_geomspace():
    check(jnp.logspace(0, 2, 3), np.logspace(0, 2, 3), np.float32, rtol=1e-6)
    check(jnp.logspace(0, 3, 4, base=2.0, endpoint=False),
          np.logspace(0, 3, 4, base=2.0, endpoint=False), np.float32, rtol=1e-6)
    check(jnp.logspace(0, 2, 3, dtype=int), np.array([1, 10, 100]), np.int32)
    for a, b, endpoint in ((1, 1000, True), (-1, -1000, True), (2.0, 64.0, False)):
        got = jnp.geomspace(a, b, 5, endpoint=endpoint)
        check(got, np.geomspace(a, b, 5, endpoint=endpoint), np.float32, rtol=2e-6)
        assert float(got[0]) == a  # exact end points
    assert float(jnp.geomspace(1, 1000, 4)[-1]) == 1000.0
    check(jnp.geomspace(jnp.asarray([1.0, 2.0]), 16.0, 3, axis=1),
          np.geomspace([1.0, 2.0], 16.0, 3, axis=1), np.float32, rtol=2e-6)


# ---- matrices ----------------------------------------------------------------------------------
@pytest.mark.parametrize("n, m, k", [(3, None, 0), (2, 4, 1), (4, 2, -1), (3, 3, 5), (0, 2, 0)])
def test_eye_tri(n, m, k):
    check(jnp.eye(n, m, k), np.eye(n, m, k, dtype=np.float32))
    check(jnp.tri(n, m, k), np.tri(n, m, k, dtype=np.float32))
    check(jnp.eye(n, m, k, dtype=jnp.int8), np.eye(n, m, k, dtype=np.int8))


def test_eye_traced_k_and_identity():
    f = jaxel.jit(lambda k: jnp.eye(3, k=k))
    check(f(1), np.eye(3, k=1, dtype=np.float32))
    check(jnp.identity(2, dtype=bool), np.identity(2, dtype=bool))


@pytest.mark.parametrize("k", [-1, 0, 2])
def test_tril_triu(k):
    a = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    check(jnp.tril(jnp.asarray(a), k), np.tril(a, k))
    check(jnp.triu(jnp.asarray(a), k), np.triu(a, k))
    with pytest.raises(ValueError, match="2-D"):
        jnp.tril(jnp.ones(3))


@pytest.mark.parametrize("k", [-2, 0, 1])
def test_diag(k):
    v = np.array([1, 2, 3], np.int32)
    check(jnp.diag(jnp.asarray(v), k), np.diag(v, k))
    m = np.arange(12, dtype=np.float32).reshape(3, 4)
    check(jnp.diag(jnp.asarray(m), k), np.diag(m, k))
    with pytest.raises(ValueError, match="1-D or 2-D"):
        jnp.diag(jnp.ones((2, 2, 2)))


@pytest.mark.parametrize("offset, axis1, axis2", [(0, 0, 1), (1, 0, 1), (-2, 0, 1), (5, 0, 1),
                                                  (0, 2, 0), (1, -1, 1)])
def test_diagonal(offset, axis1, axis2):
    a = np.arange(3 * 4 * 5, dtype=np.float32).reshape(3, 4, 5)
    check(jnp.diagonal(jnp.asarray(a), offset, axis1, axis2),
          np.diagonal(a, offset, axis1, axis2))


def test_diagonal_method_and_errors():
    a = np.arange(6).reshape(2, 3)
    check(jnp.asarray(a).diagonal(1), a.diagonal(1), np.int32)
    with pytest.raises(ValueError, match="at least two"):
        jnp.diagonal(jnp.ones(3))


# ---- grids -------------------------------------------------------------------------------------
@pytest.mark.parametrize("indexing", ["xy", "ij"])
@pytest.mark.parametrize("sparse", [False, True])
def test_meshgrid(indexing, sparse):
    xs = [np.arange(2), np.arange(3.0), np.arange(4)]
    got = jnp.meshgrid(*map(jnp.asarray, xs), indexing=indexing, sparse=sparse)
    want = np.meshgrid(*xs, indexing=indexing, sparse=sparse)
    for g, w in zip(got, want):
        check(g, w, jaxel.dtypes.canonicalize_dtype(w.dtype))
    with pytest.raises(ValueError, match="1-D"):
        jnp.meshgrid(jnp.ones((2, 2)), jnp.ones(3))


def test_indices():
    check(jnp.indices((2, 3)), np.indices((2, 3)), np.int32)
    for g, w in zip(jnp.indices((2, 3), sparse=True), np.indices((2, 3), sparse=True)):
        check(g, w, np.int32)
    check(jnp.indices((2,), dtype=np.float32), np.indices((2,), dtype=np.float32))


# ---- asarray / array / copy --------------------------------------------------------------------
def test_array_from_lists_takes_jax_dtypes():
    check(jnp.array([1, 2.5]), np.array([1, 2.5]), np.float32)
    check(jnp.array([[1, 2], [3, 4]]), np.array([[1, 2], [3, 4]]), np.int32)
    check(jnp.array([True, 2]), np.array([1, 2]), np.int32)
    check(jnp.array([np.float16(1), 2]), np.array([1, 2]), np.float16)  # lattice, not NumPy
    check(jnp.array([]), np.array([]), np.float32)
    x = jnp.array([jnp.asarray(1.0), 2])  # weak element: the default float
    check(x, np.array([1.0, 2.0]), np.float32)
    assert not x.weak_type
    check(jnp.array([jnp.ones(2, jnp.int16), np.array([3, 4], np.int16)]),
          np.array([[1, 1], [3, 4]]), np.int16)
    check(jnp.array((1, 2), dtype=jnp.float16), np.array([1, 2]), np.float16)
    check(jnp.array(np.arange(3), dtype=np.float32), np.arange(3.0), np.float32)
    assert jnp.array([[1]], ndmin=4).shape == (1, 1, 1, 1)
    with pytest.raises(OverflowError):
        jnp.array([np.int8(1), 300])
    with pytest.raises(ValueError):
        jnp.array([[1], [1, 2]])  # ragged


def test_array_rejects_non_numeric():
    for bad in (["a"], "abc", [object()], np.array(["x"]), np.array([None], dtype=object)):
        with pytest.raises(TypeError, match="dtype"):
            jnp.asarray(bad)
    with pytest.raises(ValueError, match="None"):
        jnp.array(None)


def test_64bit_request_warns_without_x64():
    if jaxel.config.jax_enable_x64:
        pytest.skip("x64 is on")
    with pytest.warns(UserWarning, match="float64"):
        x = jnp.array([1.0], dtype=np.float64)
    assert x.dtype == np.float32
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert jnp.array([1.0], dtype=float).dtype == np.float32  # Python types never warn


def test_array_copies_asarray_does_not():
    x = jnp.ones(2)
    assert jnp.asarray(x) is x
    y, z = jnp.array(x), jnp.copy(x)
    assert y is not x and z is not x
    x.delete()
    np.testing.assert_array_equal(y, [1.0, 1.0])
    np.testing.assert_array_equal(z, [1.0, 1.0])


def test_asarray_of_traced_list_under_jit():
    f = jaxel.jit(lambda a, b: jnp.asarray([a, b, 3]))
    got = f(jnp.float32(1.0), jnp.float32(2.0))
    check(got, np.array([1.0, 2.0, 3.0]), np.float32)
