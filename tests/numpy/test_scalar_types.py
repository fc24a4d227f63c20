"""``jnp.float32`` & co.: calling one makes an Array (as JAX), while the type still works as a
dtype everywhere (np.dtype, dtype=, ==, hashing, isinstance of NumPy scalars)."""
import ml_dtypes
import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp

jax = pytest.importorskip("jax")
NAMES = ["bool_", "bool", "int8", "uint8", "int16", "int32", "uint32", "float16", "bfloat16",
         "float32", "complex64", "single", "csingle", "int4", "float8_e4m3fn"]


@pytest.mark.parametrize("name", NAMES)
def test_call_makes_an_array_like_jax(name):
    t, jt = getattr(jnp, name), getattr(jax.numpy, name)
    for v in (True, 3, 2.5, [1, 0]):
        if name.startswith(("bool", "int", "uint")) and isinstance(v, float):
            continue
        got, want = t(v), jt(v)
        assert isinstance(got, jaxel.Array)
        assert (got.dtype, got.weak_type, got.shape) == (want.dtype, want.weak_type, want.shape)
        np.testing.assert_array_equal(np.asarray(got).astype(np.complex128), np.asarray(want).astype(np.complex128))


@pytest.mark.parametrize("name", NAMES)
def test_still_a_dtype(name):
    t, jt = getattr(jnp, name), getattr(jax.numpy, name)
    np_t = np.dtype(jt).type
    assert np.dtype(t) == np.dtype(jt) and t.dtype == np.dtype(jt)
    assert t == np_t and hash(t) == hash(np_t) and {np_t: 1}[t] == 1
    assert isinstance(np_t(1), t) and not isinstance(1.5, t)
    assert jnp.zeros(2, t).dtype == np.dtype(jt) and np.zeros(2, t).dtype == np.dtype(jt)
    assert jnp.ones(2, np_t).astype(t).dtype == np.dtype(jt)
    assert jnp.dtype(t) == np.dtype(jt)
    assert jnp.issubdtype(t, jnp.number) == jax.numpy.issubdtype(jt, jax.numpy.number)


def test_scalar_results_follow_jax_promotion():
    a, b = jnp.int8(3) + 1.0, jax.numpy.int8(3) + 1.0
    assert (a.dtype, a.weak_type) == (b.dtype, b.weak_type) == (np.float32, True)
    c, d = jnp.float32(1.0) * 2, jax.numpy.float32(1.0) * 2
    assert isinstance(c, jaxel.Array) and (c.dtype, c.weak_type) == (d.dtype, d.weak_type)
    assert jnp.bfloat16 == ml_dtypes.bfloat16 and repr(jnp.float32) == \
        "<class 'jaxel.numpy.float32'>"
    with pytest.raises(OverflowError):
        jnp.int8(300)  # as jax.numpy.int8(300) (an explicit conversion, not a weak scalar)
    with pytest.raises(OverflowError):
        jax.numpy.int8(300)
