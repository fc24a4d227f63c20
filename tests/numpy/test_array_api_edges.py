"""Edge cases the Array API test suite found at ``--max-examples=100`` (issue 18), each as a
small fixed case: empty boolean masks, huge diagonal offsets, complex ``round``, ``asarray``'s
``copy=True``, and eager indexing that must not compile a program per index value."""
import numpy as np
import pytest

import jax.numpy as jnp_ref
import jaxel
import jaxel.numpy as jnp
from jaxel.runtime import compile_cache


@pytest.mark.parametrize("shape,mask_shape", [((1,), (0,)), ((3, 2), (0, 2)), ((3, 2), (3, 0)),
                                              ((3, 2), (0, 0))])
def test_empty_mask_selects_nothing(shape, mask_shape):
    x = np.arange(np.prod(shape)).reshape(shape)
    m = np.zeros(mask_shape, bool)
    want = x[m]
    got = jnp.asarray(x)[jnp.asarray(m)]
    assert got.shape == want.shape == jnp_ref.asarray(x)[jnp_ref.asarray(m)].shape
    # with an ellipsis in front, as the suite draws it
    assert jnp.asarray(x)[(Ellipsis, jnp.asarray(m))].shape == x[(Ellipsis, m)].shape


@pytest.mark.parametrize("shape,mask_shape", [((3,), (2,)), ((0,), (1,)), ((3, 2), (2, 0))])
def test_mismatched_mask_still_raises(shape, mask_shape):
    with pytest.raises(IndexError, match="boolean index did not match"):
        jnp.zeros(shape)[np.zeros(mask_shape, bool)]


@pytest.mark.parametrize("n,m,k", [(0, None, 2 ** 63), (3, None, 2 ** 63), (3, 4, -2 ** 70),
                                   (2, 3, 2 ** 31), (3, 3, 1)])
def test_eye_offset_beyond_int64(n, m, k):
    got = jnp.eye(n, m, k=k)
    np.testing.assert_array_equal(got, np.eye(n, m, k=k))
    assert got.dtype == np.float32


def test_tri_tril_huge_offset():
    np.testing.assert_array_equal(jnp.tri(3, k=2 ** 63), np.tri(3, k=2 ** 63))
    a = np.arange(9.0).reshape(3, 3)
    np.testing.assert_array_equal(jnp.tril(a, k=-2 ** 62), np.tril(a, k=-2 ** 62))
    np.testing.assert_array_equal(jnp.tril(a, k=-2 ** 64), np.zeros((3, 3)))  # NumPy overflows
    np.testing.assert_array_equal(jnp.triu(a, k=-2 ** 64), a)


@pytest.mark.parametrize("decimals", [0, 1])
def test_round_complex(decimals):
    z = np.array([1.5 + 2.5j, 0.25 - 1.75j, -0.55 + 2.45j], np.complex64)
    got = jnp.round(z, decimals)
    assert got.dtype == np.complex64
    np.testing.assert_allclose(got, np.round(z, decimals), rtol=1e-6)
    np.testing.assert_allclose(got, jnp_ref.round(z, decimals), rtol=1e-6)


def test_asarray_copy_true_is_a_new_buffer():
    x = jnp.arange(3.0)
    y = jnp.asarray(x, copy=True)
    assert y is not x
    assert jnp.asarray(x) is x  # no copy unless asked
    x.delete()
    np.testing.assert_array_equal(y, [0.0, 1.0, 2.0])


def _misses():
    return compile_cache.stats()["misses"]


def test_eager_static_indices_reuse_one_program():
    a = np.arange(60.0).reshape(6, 10)
    x = jnp.asarray(a)
    probes = [lambda i: x[i], lambda i: x[-i - 1, 2:7], lambda i: x[i:i + 3, ::-3],
              lambda i: x[None, i, 1], lambda i: jnp.roll(x, i, 1),
              lambda i: jaxel.lax.slice(x, (i, 1), (i + 2, 9), (1, 3))]
    wants = [lambda i: a[i], lambda i: a[-i - 1, 2:7], lambda i: a[i:i + 3, ::-3],
             lambda i: a[None, i, 1], lambda i: np.roll(a, i, 1), lambda i: a[i:i + 2, 1:9:3]]
    for f in probes:  # warm up: each structure compiles once
        f(1)
    before = _misses()
    for i in range(2, 4):
        for f, want in zip(probes, wants):
            np.testing.assert_array_equal(f(i), want(i))
    assert _misses() == before, "distinct static indices compiled new programs"


def test_eager_index_clamps_and_traced_index_still_static():
    x = jnp.arange(5)
    assert int(x[7]) == 4 and int(x[-9]) == 0  # JAX clamps out-of-bounds retrieval
    jaxpr = jaxel.make_jaxpr(lambda v: v[3])(x)
    assert "dynamic_slice" not in str(jaxpr)  # under a trace the index stays static


@pytest.mark.parametrize("fn", [lambda x: jnp.expand_dims(x, 3), lambda x: jnp.sum(x, axis=-4),
                                lambda x: jnp.moveaxis(x, 5, 0)])
def test_axis_out_of_range_is_value_and_index_error(fn):
    # JAX raises ValueError, the Array API standard IndexError: NumPy's AxisError is both.
    x = jnp.zeros((2, 3))
    with pytest.raises(ValueError, match="out of bounds"):
        fn(x)
    with pytest.raises(IndexError):
        fn(x)


def test_complex_truth_counts_the_imaginary_part():
    z = np.array([0 + 1j, 0, 1 + 0j, -0.0 - 0.0j], np.complex64)
    assert int(jnp.count_nonzero(z)) == np.count_nonzero(z) == 2
    np.testing.assert_array_equal(jnp.count_nonzero(z.reshape(2, 2), axis=1), [1, 1])
    np.testing.assert_array_equal(jnp.asarray(z).astype(bool), z.astype(bool))
    np.testing.assert_array_equal(jnp.astype(z, bool), jnp_ref.astype(z, bool))


def test_astype_copy_true_is_a_new_buffer():
    x = jnp.arange(3.0)
    y = jnp.astype(x, x.dtype, copy=True)
    assert y is not x and jnp.astype(x, x.dtype) is x
    x.delete()
    np.testing.assert_array_equal(y, [0.0, 1.0, 2.0])


@pytest.mark.parametrize("x64", [False, True])
def test_searchsorted_returns_default_index_dtype(x64):
    from jaxel import config
    old = config.jax_enable_x64
    config.update("jax_enable_x64", x64)
    try:
        a = jnp.array([0, 3, 5], dtype=jnp.uint8)
        out = jnp.searchsorted(a, jnp.array([4, 9], dtype=jnp.uint8))
        assert out.dtype == jnp.__array_namespace_info__().default_dtypes()["indexing"]
        assert out.dtype == (np.int64 if x64 else np.int32)
        np.testing.assert_array_equal(out, [2, 3])
        assert jnp.digitize(jnp.array([0.5, 2.0]), jnp.array([1.0, 2.0])).dtype == np.int32
    finally:
        config.update("jax_enable_x64", old)


def test_cumulative_prod_widens_narrow_integers_as_prod():
    x = np.array([3, 100, 2], np.uint8)
    out = jnp.cumulative_prod(x, include_initial=True)
    assert out.dtype == jnp.prod(x).dtype == np.uint32  # x64 off: the default uint
    np.testing.assert_array_equal(out, [1, 3, 300, 600])  # no uint8 wrap-around
    assert jnp.cumulative_prod(np.zeros(0, np.int8), axis=0).dtype == np.int32


def test_isin_python_int_takes_the_array_dtype():
    from jaxel import config
    old = config.jax_enable_x64
    config.update("jax_enable_x64", True)
    try:
        x = jnp.array([2 ** 63, 5], dtype=jnp.uint64)
        np.testing.assert_array_equal(jnp.isin(x, 2 ** 63), [True, False])
        assert jnp.isin(jnp.zeros((0,), jnp.uint64), 2 ** 63).shape == (0,)
        assert bool(jnp.isin(2 ** 63, x))
    finally:
        config.update("jax_enable_x64", old)
    np.testing.assert_array_equal(jnp.isin(jnp.array([1, 2], jnp.int8), 2), [False, True])
    with pytest.raises(OverflowError, match="out of range"):
        jnp.isin(jnp.array([1, 2], jnp.int8), 300)
