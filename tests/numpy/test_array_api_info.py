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
