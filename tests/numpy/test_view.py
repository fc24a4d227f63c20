"""``x.view(dtype)`` reinterprets bytes (NumPy's and JAX's semantics), eagerly, under jit and
vmap; compared with NumPy's view and jax 0.12.1."""
import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp

CASES = [
    (np.array([[1, 2], [3, -4]], np.int16), [np.uint8, np.int32, np.float16, np.int16]),
    (np.array([1.5, -2.0, np.inf, 0.0], np.float32), [np.int32, np.uint8, np.int64, np.complex64,
                                                     np.float16]),
    (np.array([True, False, True, True]), [np.uint8, np.int16]),
    (np.array([1, 0, 2, 255], np.uint8), [np.bool_, np.int8, np.int32]),
    (np.array([1 + 2j, 3 - 4j], np.complex64), [np.float32, np.uint8, np.int64]),
    (np.array(1.0, np.float32), [np.int32, np.uint32]),
]


@pytest.mark.parametrize("a, dtypes", CASES, ids=lambda v: str(getattr(v, "dtype", "")))
def test_view_matches_numpy(a, dtypes):
    old = jaxel.config.jax_enable_x64
    jaxel.config.update("jax_enable_x64", True)  # int64 targets
    try:
        x = jnp.asarray(a)
        for dt in dtypes:
            got, want = x.view(dt), a.view(dt)
            assert got.dtype == want.dtype and got.shape == want.shape, dt
            if dt is np.bool_:  # NumPy keeps the raw byte; jaxel's bool is byte != 0
                want = want.view(np.uint8) != 0
            np.testing.assert_array_equal(np.asarray(got).reshape(-1).view(np.uint8),
                                          want.reshape(-1).view(np.uint8))
            np.testing.assert_array_equal(jaxel.jit(lambda v: v.view(dt))(x), want)
    finally:
        jaxel.config.update("jax_enable_x64", old)


def test_view_under_vmap_and_errors_like_jax():
    jax = pytest.importorskip("jax")
    a = np.arange(4.0, dtype=np.float32).reshape(2, 2)
    got = jaxel.vmap(lambda v: v.view(jnp.int32))(jnp.asarray(a))
    np.testing.assert_array_equal(got, a.view(np.int32))
    assert jnp.asarray(a).view() is not None and jnp.asarray(a).view(None).dtype == np.float32
    for bad in (lambda m: m.asarray(np.array([1, 2, 3], np.int8)).view(m.int16),
                lambda m: m.asarray(np.array(1, np.int32)).view(m.int8)):
        with pytest.raises(ValueError):
            bad(jax.numpy)
        with pytest.raises(ValueError):
            bad(jnp)
