"""jaxel.numpy's aliases match jax.numpy's (every public name is checked in
tests/test_public_names.py)."""
import pytest

import jaxel.numpy as jnp

jax_numpy = pytest.importorskip("jax.numpy")

@pytest.mark.parametrize("name", ["bool", "int_", "uint", "float_", "complex_", "double",
                                  "single", "cdouble", "csingle", "object_"])
def test_type_aliases_match_jax(name):
    import numpy as np
    assert np.dtype(getattr(jnp, name)) == np.dtype(getattr(jax_numpy, name))


@pytest.mark.parametrize("alias,target", [("acos", "arccos"), ("acosh", "arccosh"),
                                          ("asin", "arcsin"), ("asinh", "arcsinh"),
                                          ("atan", "arctan"), ("atan2", "arctan2"),
                                          ("atanh", "arctanh"), ("pow", "power"),
                                          ("bitwise_invert", "invert"),
                                          ("bitwise_left_shift", "left_shift"),
                                          ("bitwise_right_shift", "right_shift")])
def test_array_api_aliases(alias, target):
    assert getattr(jnp, alias) is getattr(jnp, target)
