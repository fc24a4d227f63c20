"""dtypes.extended / prng_key / itemsize_bits / scalar_type_of, and typed PRNG keys as Arrays,
against JAX 0.12.1 and NumPy."""
import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel import dtypes

jax = pytest.importorskip("jax")

BITS_CASES = [np.float32, "bfloat16", "int4", np.bool_, "int8", "float4_e2m1fn", "int2",
              np.complex128, int, float, np.uint16, "float8_e4m3fn"]


@pytest.mark.parametrize("dt", BITS_CASES, ids=str)
def test_itemsize_bits_matches_jax(dt):
    ours = dtypes.itemsize_bits(getattr(jnp, dt) if isinstance(dt, str) else dt)
    assert ours == jax.dtypes.itemsize_bits(getattr(jax.numpy, dt) if isinstance(dt, str) else dt)
    if dt not in (int, float) and not isinstance(dt, str):
        assert ours == 8 * np.dtype(dt).itemsize  # NumPy agrees for whole-byte types


def test_itemsize_bits_errors():
    with pytest.raises(ValueError, match="None"):
        dtypes.itemsize_bits(None)
    with pytest.raises(ValueError):
        dtypes.itemsize_bits(jaxel.random.key(0).dtype)
    with pytest.raises(ValueError):
        dtypes.itemsize_bits(dtypes.float0)


def test_scalar_type_of_matches_jax():
    values = [1, 1.0, True, 1j, np.float32(1), np.int8(1), np.ones(2, np.uint8)]
    for v in values:
        assert dtypes.scalar_type_of(v) is jax.dtypes.scalar_type_of(v)
    pairs = [(jnp.ones(3), jax.numpy.ones(3)),
             (jnp.ones(3, jnp.bfloat16), jax.numpy.ones(3, jax.numpy.bfloat16)),
             (jnp.ones(2, int), jax.numpy.ones(2, int)),
             (jnp.ones(2, jnp.complex64), jax.numpy.ones(2, jax.numpy.complex64))]
    for ours, theirs in pairs:
        assert dtypes.scalar_type_of(ours) is jax.dtypes.scalar_type_of(theirs)
    with pytest.raises(TypeError):
        dtypes.scalar_type_of(np.zeros(1, dtypes.float0))


def test_extended_and_prng_key_classes():
    assert issubclass(dtypes.prng_key, dtypes.extended)
    assert issubclass(dtypes.extended, np.generic)
    k = jaxel.random.key(0)
    jk = jax.random.key(0)
    for sup in [dtypes.prng_key, dtypes.extended, np.generic, k.dtype]:
        jsup = {dtypes.prng_key: jax.dtypes.prng_key, dtypes.extended: jax.dtypes.extended,
                k.dtype: jk.dtype}.get(sup, sup)
        assert jnp.issubdtype(k.dtype, sup) and jax.numpy.issubdtype(jk.dtype, jsup)
    for sup in [np.floating, np.uint32, np.dtype("uint32"), "float32"]:
        assert not jnp.issubdtype(k.dtype, sup) and not jax.numpy.issubdtype(jk.dtype, sup)
    assert not jnp.issubdtype(np.float32, dtypes.extended)
    assert not jnp.issubdtype(np.uint32, k.dtype)
    assert jnp.issubdtype(np.float32, np.floating)  # ordinary queries unchanged


def test_typed_keys_are_arrays():
    k = jaxel.random.key(0)
    assert isinstance(k, jaxel.Array) and type(k) is not jaxel.Array
    assert isinstance(jaxel.random.split(k), jaxel.Array)
    assert isinstance(jaxel.jit(jaxel.random.split)(k), jaxel.Array)
    keys = jaxel.vmap(jaxel.random.key)(jnp.arange(3))
    assert isinstance(keys, jaxel.Array) and keys.shape == (3,)
    seen = []
    jaxel.jit(lambda kk: seen.append(isinstance(kk, jaxel.Array)))(k)
    jaxel.vmap(lambda kk: seen.append(isinstance(kk, jaxel.Array)))(keys)
    assert seen == [True, True]
    assert isinstance(jaxel.random.PRNGKey(0), jaxel.Array)  # raw keys are plain arrays
    assert not isinstance(np.ones(2), jaxel.Array) and not isinstance(1.0, jaxel.Array)
    with pytest.raises(TypeError):
        k + 1  # still not a numeric array


def test_random_key_annotation():
    assert jaxel.random.Key.__supertype__ is jaxel.Array
    assert jaxel.random.Key(jaxel.random.key(1)) is not None
