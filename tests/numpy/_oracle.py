"""Reference implementation for the tests of the jax.numpy-compatibility modules: JAX when it
is installed (values, dtypes and weak types as JAX gives them), else NumPy (values only)."""
import numpy as np

try:
    import jax.numpy as R  # noqa: N812
    HAVE_JAX = True
except ImportError:  # pragma: no cover
    R = np
    HAVE_JAX = False

import jaxel.numpy as jnp


def A(x):  # noqa: N802
    """A jaxel array from host data (lists included)."""
    return jnp.asarray(np.asarray(x))


def check(got, want, rtol=1e-5, atol=1e-5, dtype=True):
    """``got`` (jaxel, possibly a tuple) equals ``want`` (reference): values, shapes and,
    against JAX, dtypes."""
    if isinstance(want, (tuple, list)):
        assert isinstance(got, (tuple, list)) and len(got) == len(want), (got, want)
        for g, w in zip(got, want):
            check(g, w, rtol, atol, dtype)
        return
    g, w = np.asarray(got), np.asarray(want)
    assert g.shape == w.shape, (g.shape, w.shape)
    if dtype and HAVE_JAX:
        assert g.dtype == w.dtype, (g.dtype, w.dtype)
    if g.dtype == np.bool_ or np.issubdtype(g.dtype, np.integer):
        np.testing.assert_array_equal(g, w.astype(g.dtype))
    else:
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, equal_nan=True)
