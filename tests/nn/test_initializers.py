"""jaxel.nn.initializers: the same numbers as jax.nn.initializers for the same key (where jax
is installed), fans and variances as documented, shapes and dtypes."""
from __future__ import annotations

import numpy as np
import pytest

import jaxel
import jaxel.nn.initializers as I

FACTORIES = [("glorot_uniform", {}), ("glorot_normal", {}), ("lecun_uniform", {}),
             ("lecun_normal", {}), ("he_uniform", {}), ("he_normal", {}),
             ("xavier_uniform", {}), ("kaiming_normal", {}), ("normal", {"stddev": 0.5}),
             ("uniform", {"scale": 2.0}), ("truncated_normal", {"stddev": 0.3}),
             ("orthogonal", {}), ("orthogonal", {"column_axis": 0}),
             ("variance_scaling", {"scale": 2.0, "mode": "fan_geo_avg",
                                   "distribution": "normal"}),
             ("variance_scaling", {"scale": 0.5, "mode": "fan_out", "distribution": "uniform",
                                   "in_axis": 0, "out_axis": 2})]
SHAPES = [(5, 7), (3, 3, 4, 6), (9, 2)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name,kw", FACTORIES, ids=[f"{n}-{i}" for i, (n, _) in
                                                    enumerate(FACTORIES)])
def test_same_numbers_as_jax(name, kw, shape):
    jax = pytest.importorskip("jax")
    if kw.get("out_axis", -1) >= len(shape):
        pytest.skip("axis beyond this shape's rank")
    ours = getattr(I, name)(**kw)(jaxel.random.key(7), shape)
    theirs = getattr(jax.nn.initializers, name)(**kw)(jax.random.key(7), shape)
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=2e-5, atol=2e-6)


def test_simple_initializers_and_dtypes():
    k = jaxel.random.key(0)
    assert np.asarray(I.zeros(k, (2, 3))).sum() == 0
    assert np.asarray(I.ones(k, (2, 3), jaxel.numpy.bfloat16)).dtype == jaxel.numpy.bfloat16
    np.testing.assert_array_equal(np.asarray(I.constant(3.5)(k, (2,))), [3.5, 3.5])
    w = I.he_normal()(k, (400, 300))
    assert abs(float(np.asarray(w).std()) - np.sqrt(2 / 400)) < 0.01


def test_orthogonal_is_orthogonal_and_delta_orthogonal():
    q = np.asarray(I.orthogonal()(jaxel.random.key(1), (6, 4)))
    np.testing.assert_allclose(q.T @ q, np.eye(4), atol=1e-5)
    w = np.asarray(I.delta_orthogonal()(jaxel.random.key(2), (3, 3, 4, 4)))
    np.testing.assert_allclose(w[1, 1].T @ w[1, 1], np.eye(4), atol=1e-5)
    assert np.abs(w).sum() == pytest.approx(np.abs(w[1, 1]).sum())


def test_bad_input():
    with pytest.raises(ValueError, match="mode"):
        I.variance_scaling(1.0, "fan_bogus", "normal")
    with pytest.raises(ValueError, match="2D"):
        I.orthogonal()(jaxel.random.key(0), (4,))
