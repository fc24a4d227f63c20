"""``jax_safe_where_grad``: NaN/inf from the branch ``where`` did not pick stays out of the
gradient (off by default, where jaxel matches JAX's NaN)."""
from __future__ import annotations

import numpy as np

import jaxel
import jaxel.numpy as jnp

X = jnp.array([0.0, 1.0, 4.0])


def _safe_log_sum(x):
    return jnp.where(x > 0, jnp.log(x), 0.0).sum()


def _safe_sqrt_sum(x):
    return jnp.where(x > 0, x ** 0.5, x).sum()


def test_default_matches_jax_and_poisons():
    g = jaxel.grad(_safe_log_sum)(X)
    assert np.isnan(g[0]) and np.allclose(g[1:], [1.0, 0.25])


def test_option_keeps_the_unselected_branch_out():
    jitted = jaxel.jit(jaxel.grad(_safe_log_sum))
    assert np.isnan(jitted(X)[0])
    with jaxel.config._override("jax_safe_where_grad", True):
        np.testing.assert_array_equal(jaxel.grad(_safe_log_sum)(X), [0.0, 1.0, 0.25])
        # The jitted gradient traced before the switch is retraced, not reused.
        np.testing.assert_array_equal(jitted(X), [0.0, 1.0, 0.25])
        np.testing.assert_allclose(jaxel.grad(_safe_sqrt_sum)(X), [1.0, 0.5, 0.25])
        h = jaxel.hessian(_safe_log_sum)(X)
        assert np.all(np.isfinite(h)) and np.allclose(np.diag(h), [0.0, -1.0, -1 / 16])
        # Forward mode never needed the option: the select drops the unselected tangent.
        _, t = jaxel.jvp(_safe_log_sum, (X,), (jnp.ones(3),))
        assert np.isfinite(t)
    assert np.isnan(jitted(X)[0])  # and back again when the option is switched off


def test_option_does_not_hide_nans_of_the_selected_branch():
    with jaxel.config._override("jax_safe_where_grad", True):
        g = jaxel.grad(lambda x: jnp.where(x >= 0, jnp.log(x), 0.0).sum())(X)
        assert np.isinf(g[0])  # log was selected at 0: its infinite slope is real
