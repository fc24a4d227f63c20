"""Gradients through shape manipulation and indexing at the jaxel.numpy level: the JVP and
transpose rules of the shape primitives (reshape, transpose, pad, concatenate, slice, rev...)
and of the slicing primitives (dynamic_slice, gather, scatter...), checked against hand-derived
answers and finite differences."""
from __future__ import annotations

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel import lax
from jaxel.test_util import check_grads

X = np.arange(12.0, dtype=np.float32).reshape(3, 4) / 7 - 0.5
V = np.array([0.5, -1.0, 2.0, 0.25], np.float32)


def _fd_grad(f, x, eps=1e-3):
    """Central finite-difference gradient of a scalar function of one float array (float64)."""
    x = np.asarray(x, np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(*x.shape):
        d = np.zeros_like(x)
        d[i] = eps
        g[i] = (float(f((x + d).astype(np.float32))) - float(f((x - d).astype(np.float32)))) \
            / (2 * eps)
    return g


def _close(got, want, tol=1e-5):
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=tol, atol=tol)


# ---- indexing ----------------------------------------------------------------------------------
def test_grad_of_integer_array_indexing_counts_duplicates():
    idx = jnp.array([0, 2, 2, -1])
    g = jaxel.grad(lambda x: x[idx].sum())(X)
    want = np.zeros((3, 4), np.float32)
    want[0] = 1
    want[2] = 3  # 2, 2 and -1 all read row 2
    _close(g, want)


def test_grad_of_basic_slicing():
    g = jaxel.grad(lambda x: (x[1:, ::2] * jnp.array([1.0, 3.0])).sum())(X)
    want = np.zeros((3, 4), np.float32)
    want[1:, 0] = 1
    want[1:, 2] = 3
    _close(g, want)


def test_grad_of_scalar_and_negative_index():
    g = jaxel.grad(lambda x: x[-1, 1] * 2.0 + x[0].sum())(X)
    want = np.zeros((3, 4), np.float32)
    want[0] = 1
    want[2, 1] = 2
    _close(g, want)


def test_grad_of_traced_index_under_jit():
    f = jaxel.jit(jaxel.grad(lambda x, i: (x[i] * x[i]).sum()))
    for i in (0, 2, -2):
        want = np.zeros((3, 4), np.float32)
        want[i] = 2 * X[i]
        _close(f(X, i), want)


def test_grad_of_indexing_matches_finite_differences():
    idx = (jnp.array([[0, 2], [1, 1]]), jnp.array([3, 0]))

    def f(x):
        y = x[idx]
        return (y * y * jnp.arange(1.0, 5.0).reshape(2, 2)).sum()

    _close(jaxel.grad(f)(X), _fd_grad(f, X), tol=2e-2)
    check_grads(f, (X,), order=1)


# ---- .at[] updates -----------------------------------------------------------------------------
def test_at_set_gradients():
    def f(x, v):
        return (x.at[1].set(v) * x).sum()

    gx, gv = jaxel.grad(f, argnums=(0, 1))(X, V)
    want_x = 2 * X.copy()
    want_x[1] = V  # row 1 of the product is v * x[1]
    _close(gx, want_x)
    _close(gv, X[1])


def test_at_set_with_array_index_gradients():
    idx = jnp.array([2, 0])
    u = np.array([[1.0, 2.0, 3.0, 4.0], [-1.0, 0.5, 0.0, 2.0]], np.float32)
    w = np.arange(12.0, dtype=np.float32).reshape(3, 4)

    def f(x, u):
        return (x.at[idx].set(u) * w).sum()

    gx, gu = jaxel.grad(f, argnums=(0, 1))(X, u)
    want_x = w.copy()
    want_x[[0, 2]] = 0  # overwritten rows
    _close(gx, want_x)
    _close(gu, w[[2, 0]])


def test_at_set_duplicate_indices_gives_one_winner_the_gradient():
    # Which duplicate lands is up to XLA; the gradient must be consistent with the value.
    idx = jnp.array([1, 1])
    u = np.array([3.0, 5.0], np.float32)

    def f(x, u):
        return (x.at[idx].set(u) * jnp.array([1.0, 10.0, 100.0])).sum()

    x = jnp.zeros(3)
    val = float(f(x, u))
    gx, gu = jaxel.grad(f, argnums=(0, 1))(x, u)
    _close(gx, [1.0, 0.0, 100.0])
    assert val in (30.0, 50.0)
    winner = 0 if val == 30.0 else 1
    want = np.zeros(2, np.float32)
    want[winner] = 10.0
    _close(gu, want)


def test_at_add_gradients_with_duplicates():
    idx = jnp.array([0, 0, 2])
    u = np.array([1.0, 2.0, 3.0], np.float32)

    def f(x, u):
        y = x.at[idx].add(u)
        return (y * y).sum()

    gx, gu = jaxel.grad(f, argnums=(0, 1))(np.arange(4.0, dtype=np.float32), u)
    y = np.array([3.0, 1.0, 5.0, 3.0])
    _close(gx, 2 * y)
    _close(gu, [2 * y[0], 2 * y[0], 2 * y[2]])


def test_at_mul_min_max_gradients_match_finite_differences():
    idx = jnp.array([[0, 1], [2, 3], [0, 1]])
    u = np.array([1.5, -0.5, 2.5], np.float32)
    for method in ("multiply", "min", "max"):
        def f(x, u, method=method):
            return (getattr(jnp.asarray(x).at[idx[:, 0], idx[:, 1]], method)(u)
                    * jnp.arange(1.0, 13.0).reshape(3, 4)).sum()
        check_grads(f, (X, u), order=1)


def test_at_get_with_fill_mode_has_zero_gradient_out_of_bounds():
    g = jaxel.grad(lambda x: x.at[jnp.array([1, 5])].get(mode="fill", fill_value=0.0).sum())(
        np.ones(3, np.float32))
    _close(g, [0.0, 1.0, 0.0])


# ---- lax.dynamic_slice / dynamic_update_slice ---------------------------------------------------
def test_dynamic_slice_gradients_clamp_like_the_forward():
    f = jaxel.jit(jaxel.grad(lambda x, i: lax.dynamic_slice(x, (i, 1), (2, 2)).sum()))
    for i, rows in [(0, [0, 1]), (1, [1, 2]), (2, [1, 2])]:  # start 2 is clamped to 1
        want = np.zeros((3, 4), np.float32)
        want[rows, 1:3] = 1
        _close(f(X, i), want)


def test_dynamic_update_slice_gradients():
    u = np.array([[1.0, 2.0]], np.float32)
    w = np.arange(12.0, dtype=np.float32).reshape(3, 4)

    def f(x, u):
        return (lax.dynamic_update_slice(x, u, (2, 3)) * w).sum()  # clamped to (2, 2)

    gx, gu = jaxel.grad(f, argnums=(0, 1))(X, u)
    want_x = w.copy()
    want_x[2, 2:] = 0
    _close(gx, want_x)
    _close(gu, w[2:, 2:])


# ---- shape functions ----------------------------------------------------------------------------
def test_concatenate_gradients():
    a = np.ones((2, 3), np.float32)
    b = np.full((2, 1), 2.0, np.float32)
    w = np.arange(8.0, dtype=np.float32).reshape(2, 4)
    ga, gb = jaxel.grad(lambda a, b: (jnp.concatenate([a, b], axis=1) * w).sum(),
                        argnums=(0, 1))(a, b)
    _close(ga, w[:, :3])
    _close(gb, w[:, 3:])


def test_pad_gradients():
    w = np.arange(1.0, 36.0, dtype=np.float32).reshape(5, 7)
    g = jaxel.grad(lambda x: (jnp.pad(x, ((1, 1), (2, 1))) * w).sum())(X)
    _close(g, w[1:4, 2:6])


def test_lax_pad_gradients_with_negative_and_interior_padding():
    cfg = ((-1, 2, 1), (1, -2, 2))
    x = X

    def f(x, pv):
        y = lax.pad(x, pv, cfg)
        return (y * jnp.arange(float(np.prod(y.shape))).reshape(y.shape)).sum()

    check_grads(f, (x, np.float32(0.5)), order=1)
    gx, gpv = jaxel.grad(f, argnums=(0, 1))(x, np.float32(0.5))
    # d/dpv: the sum of the weights at the padding positions.
    y_ones = np.asarray(lax.pad(jnp.zeros_like(x), 1.0, cfg))
    weights = np.arange(float(y_ones.size)).reshape(y_ones.shape)
    _close(gpv, (weights * y_ones).sum(), tol=1e-3)
    _close(gx, _fd_grad(lambda x: f(x, np.float32(0.5)), x), tol=5e-2)


def test_reshape_transpose_flip_gradients():
    w = np.arange(12.0, dtype=np.float32).reshape(2, 6)

    def f(x):
        return (jnp.flip(x.T, axis=0).reshape(2, 6) * w).sum()

    g = jaxel.grad(f)(X)
    _close(g, np.flip(w.reshape(4, 3), axis=0).T)
    check_grads(f, (X,), order=2)


def test_squeeze_expand_dims_and_broadcast_gradients():
    def f(x):
        y = jnp.expand_dims(x, 0)[0] + jnp.squeeze(x[:, None, :], 1)
        return (y * jnp.broadcast_to(x[0], (3, 4))).sum()

    check_grads(f, (X,), order=1)


def test_linear_shape_pipeline_second_order():
    def f(x):
        y = jnp.concatenate([x[::-1], x[:2, 1:3].reshape(-1, 4)], axis=0)
        return (y * y).sum()

    check_grads(f, (X,), order=2)


@pytest.mark.parametrize("mode", ["clip", "fill", "promise_in_bounds"])
def test_gather_modes_transpose_consistently(mode):
    idx = jnp.array([0, 3, -1, 2])

    def f(x):
        return x.at[idx].get(mode=mode, fill_value=0.0) * jnp.arange(1.0, 5.0)

    check_grads(f, (np.arange(3.0, dtype=np.float32) + 1,), order=1, modes=("rev",))
