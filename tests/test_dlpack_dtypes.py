"""jaxel.dlpack.is_supported_dtype against jax.dlpack's answers for every dtype jaxel knows."""
import numpy as np
import pytest

import jaxel.numpy as jnp
from jaxel import dlpack, dtypes

NAMES = ["bool_", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
         "float16", "bfloat16", "float32", "float64", "complex64", "complex128",
         "float8_e4m3fn", "float8_e5m2", "int4", "uint4", "float4_e2m1fn", "int2"]


def test_standard_dtypes_are_supported_and_narrow_ones_are_not():
    assert dlpack.is_supported_dtype(jnp.bfloat16) and dlpack.is_supported_dtype("complex64")
    assert dlpack.is_supported_dtype(float) and dlpack.is_supported_dtype(np.dtype("uint16"))
    assert not dlpack.is_supported_dtype(jnp.int4)
    assert not dlpack.is_supported_dtype(dtypes.float0)
    assert not dlpack.is_supported_dtype(np.str_)
    with pytest.raises(TypeError, match="None"):
        dlpack.is_supported_dtype(None)


def test_matches_jax():
    jax = pytest.importorskip("jax")
    import jax.dlpack  # noqa: F401
    for name in NAMES:
        assert dlpack.is_supported_dtype(getattr(jnp, name)) == \
            jax.dlpack.is_supported_dtype(getattr(jax.numpy, name)), name
    for spec in [float, int, bool, complex, "float32", np.object_]:
        assert dlpack.is_supported_dtype(spec) == jax.dlpack.is_supported_dtype(spec), spec
