"""Primitives whose last bits follow JAX 0.12.1's own lowerings (jaxel/lax/expansions.py,
jaxel/lax/cpu_math.py, StableHLO's log2/exp2): bit-equal with JAX where it is installed, and accurate against SciPy."""
import numpy as np
import pytest
import scipy.special as sp

import jaxel
import jaxel.numpy as jnp
from jaxel import lax

RNG = np.random.default_rng(0)
EDGES = [0.0, -0.0, 1.0, -1.0, np.nan, np.inf, -np.inf]
CASES = {  # name -> (inputs, scipy reference)
    "erf_inv": (np.concatenate([RNG.uniform(-1, 1, 3000), 1 - np.logspace(-15, -1, 300),
                                -1 + np.logspace(-15, -1, 300), [1.5, -2.0], EDGES]),
                sp.erfinv),
    "erfc": (np.concatenate([RNG.uniform(-6, 30, 3000), RNG.uniform(-1, 1, 500), EDGES]),
             sp.erfc),
    "log2": (np.concatenate([RNG.uniform(0, 100, 3000), [1e-30, 2.0, 0.5], EDGES]), np.log2),
    "exp2": (np.concatenate([RNG.uniform(-100, 100, 3000), [0.5, 3.0], EDGES]), np.exp2),
    "logistic": (np.concatenate([RNG.uniform(-40, 40, 3000), [-100.0, 100.0], EDGES]),
                 sp.expit),
    "lgamma": (np.concatenate([RNG.uniform(-20, 60, 3000), RNG.uniform(0, 3, 1000), EDGES]),
               sp.gammaln),
    "digamma": (np.concatenate([RNG.uniform(-20, 60, 3000), RNG.uniform(0, 3, 1000), EDGES]),
                sp.digamma),
}
DTYPES = ["float32", "float64", "float16", "bfloat16"]


@pytest.fixture
def x64():
    jaxel.config.update("jax_enable_x64", True)
    yield
    jaxel.config.update("jax_enable_x64", False)


@pytest.mark.parametrize("name", sorted(CASES))
def test_accurate_against_scipy(name, x64):
    xs, ref = CASES[name]
    for dtype, rtol, atol in [("float64", 1e-13, 1e-300), ("float32", 2e-6, 1e-37)]:
        got = np.asarray(getattr(lax, name)(jnp.asarray(xs.astype(dtype)))).astype(np.float64)
        with np.errstate(all="ignore"):
            want_d = ref(xs.astype(dtype).astype(np.float64))
        finite = np.isfinite(want_d) & (np.abs(want_d) < 1e30)
        # lgamma/digamma lose relative accuracy next to their zeros and poles
        scale = np.maximum(np.abs(want_d), 1.0 if name in ("lgamma", "digamma") else 0.0)
        bound = 8 * (rtol * scale + atol)  # atol: float32's subnormal range
        np.testing.assert_array_less(np.abs(got - want_d)[finite], bound[finite])
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want_d))


@pytest.mark.parametrize("name", sorted(CASES))
def test_bit_equal_with_jax(name, x64):
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    try:
        xs = CASES[name][0]
        for dtype in DTYPES:
            v = xs.astype(dtype)
            ours = np.asarray(getattr(lax, name)(jnp.asarray(v)))
            theirs = np.asarray(getattr(jax.lax, name)(jax.numpy.asarray(v)))
            np.testing.assert_array_equal(ours.view(np.uint8), theirs.view(np.uint8),
                                          err_msg=f"{name} {dtype}")
        jitted = np.asarray(jaxel.jit(getattr(lax, name))(jnp.asarray(xs.astype("float32"))))
        np.testing.assert_array_equal(jitted, np.asarray(getattr(jax.lax, name)(
            jax.numpy.asarray(xs.astype("float32")))))
    finally:
        jax.config.update("jax_enable_x64", False)
