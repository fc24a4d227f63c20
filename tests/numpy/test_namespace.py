"""Every public name of ``jax.numpy`` exists in ``jaxel.numpy``, except the documented
exclusions below."""
import pytest

import jaxel.numpy as jnp

jax_numpy = pytest.importorskip("jax.numpy")

# name -> why jaxel.numpy does not (yet) provide it
EXCLUDED: dict = {
    # None left: the narrow dtypes (float8_*, float6_*, float4_e2m1fn, int1/2/4, uint1/2/4)
    # landed with tests/numpy/test_narrow_dtypes.py.
}


def test_every_public_jax_numpy_name_exists():
    public = {n for n in dir(jax_numpy) if not n.startswith("_")}
    missing = sorted(n for n in public - set(EXCLUDED) if not hasattr(jnp, n))
    assert not missing, f"jaxel.numpy lacks {len(missing)} jax.numpy names: {missing}"


def test_exclusions_are_still_needed():
    """An exclusion whose name now exists (or left jax.numpy) should be dropped from the list;
    fft/linalg are expected to land."""
    public = set(dir(jax_numpy))
    stale = sorted(n for n in EXCLUDED if n not in public)
    assert not stale, f"excluded names no longer in jax.numpy: {stale}"


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
