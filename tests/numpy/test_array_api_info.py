"""Array API metadata: version string and the inspection namespace (as JAX reports it)."""
from __future__ import annotations

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp


def test_version_and_info():
    assert jnp.__array_api_version__ == "2025.12"
    info = jnp.__array_namespace_info__()
    caps = info.capabilities()
    assert caps["boolean indexing"] is False and caps["max dimensions"] == 64
    assert info.default_device() in info.devices()
    assert info.default_dtypes()["real floating"] == np.float32
    assert set(info.dtypes(kind="unsigned integer")) == {"uint8", "uint16", "uint32"}
    with jaxel.config._override("jax_enable_x64", True):
        d = jnp.__array_namespace_info__().default_dtypes()
        assert d["real floating"] == np.float64 and d["indexing"] == np.int64
        assert "float64" in jnp.__array_namespace_info__().dtypes(kind=("real floating",))
    with pytest.raises(ValueError, match="unknown kind"):
        info.dtypes(kind="strings")


def test_matches_jax():
    jax = pytest.importorskip("jax")
    ours, theirs = jnp.__array_namespace_info__(), jax.numpy.__array_namespace_info__()
    assert ours.capabilities() == theirs.capabilities()
    assert {k: np.dtype(v) for k, v in ours.default_dtypes().items()} == \
        {k: np.dtype(v) for k, v in theirs.default_dtypes().items()}
    for kind in (None, "bool", "integral", "real floating", "complex floating", "numeric"):
        assert set(ours.dtypes(kind=kind)) == set(theirs.dtypes(kind=kind))


def test_array_api_fixes():
    # Found by the Array API suite: sign of unsigned integers crashed XLA; rounding functions
    # keep integer dtypes (as JAX); to_device and from_dlpack exist.
    u = jnp.asarray(np.array([0, 3, 255], np.uint8))
    np.testing.assert_array_equal(np.asarray(jnp.sign(u)), [0, 1, 1])
    np.testing.assert_array_equal(np.asarray(jaxel.jit(jnp.sign)(u)), [0, 1, 1])
    for f in (jnp.floor, jnp.ceil, jnp.trunc):
        assert f(u).dtype == np.uint8 and f(jnp.int32(3)).dtype == np.int32
    assert float(jnp.floor(2.5)) == 2.0
    x = jnp.ones(3)
    assert x.to_device(jaxel.devices()[0]).device == jaxel.devices()[0]
    np.testing.assert_array_equal(np.asarray(jnp.from_dlpack(np.arange(3))), np.arange(3))
