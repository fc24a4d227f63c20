"""complex32, bcomplex32 and float8_e5m3fnu: scalar types, promotion, issubdtype, finfo and
avals as in JAX 0.12.1, and a clear TypeError where XLA has no element type for them (JAX fails
there too, at run time)."""
from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel import dtypes

NEW = ["complex32", "bcomplex32", "float8_e5m3fnu"]
OTHERS = [int, float, complex, bool, np.int8, np.bool_, np.uint32, np.float16, np.complex64,
          ml_dtypes.int4, ml_dtypes.float8_e4m3fn] + [getattr(ml_dtypes, n) for n in NEW]


def _promote(mod, a, b):
    try:
        return np.dtype(mod.numpy.promote_types(a, b))
    except ValueError:  # TypePromotionError is a ValueError in both
        return "error"


@pytest.mark.parametrize("name", NEW)
def test_type_objects_and_queries(name):
    t = getattr(jnp, name)
    assert np.dtype(t) == np.dtype(getattr(ml_dtypes, name))
    complex_ = name != "float8_e5m3fnu"
    assert dtypes.issubdtype(t, np.complexfloating) == complex_
    assert dtypes.issubdtype(t, np.floating) == (not complex_)
    assert dtypes.issubdtype(t, np.inexact) and not dtypes.issubdtype(t, np.float32)
    assert jnp.isdtype(t, "complex floating" if complex_ else "real floating")
    assert dtypes.is_complex(t) == complex_ and dtypes.is_inexact(t)
    part = {"complex32": np.float16, "bcomplex32": ml_dtypes.bfloat16}.get(name, t)
    assert jnp.finfo(t).eps == ml_dtypes.finfo(part).eps
    assert jnp.finfo(t).dtype == np.dtype(part)


@pytest.mark.parametrize("name", NEW)
def test_promotion_matches_jax(name):
    jax = pytest.importorskip("jax")
    t = getattr(jnp, name)
    for other in OTHERS:
        assert _promote(jaxel, t, other) == _promote(jax, t, other), other
    with pytest.raises(dtypes.TypePromotionError, match="implicit promotion"):
        jnp.promote_types(t, np.float32)


@pytest.mark.parametrize("name", NEW)
def test_avals_trace_but_arrays_cannot_be_made(name):
    t = getattr(jnp, name)
    spec = jaxel.ShapeDtypeStruct((2,), t)
    assert jaxel.eval_shape(lambda x: x, spec).dtype == np.dtype(t)
    assert jaxel.eval_shape(lambda x: x.astype(np.float32), spec).dtype == np.float32
    short = {"complex32": "c32", "bcomplex32": "bc32", "float8_e5m3fnu": "f8_e5m3fnu"}[name]
    assert f"{short}[2]" in str(jaxel.make_jaxpr(lambda x: x)(spec))
    with pytest.raises(TypeError, match=f"no {name} element type"):
        jnp.zeros(2, t)
    with pytest.raises(TypeError, match=f"no {name} element type"):
        jnp.asarray(np.zeros(2, getattr(ml_dtypes, name)))
