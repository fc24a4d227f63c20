"""vmap of reductions, arg-reductions, cumulative reductions, sorting, top-k and window pooling,
with the batch axis first, in the middle and last, checked against NumPy on the stacked data
(each example is computed by NumPy on its own). Also checks that the rules keep the batch
dimension in place instead of transposing it."""
from __future__ import annotations

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel import lax

B = 4
EX_SHAPE = (5, 6)  # per-example shape
IN_AXES = [0, 1, -1]


def _stacked(in_axis, dtype=np.float32, seed=0, ties=False):
    """B examples of EX_SHAPE stacked along ``in_axis``; returns (stacked, examples)."""
    rng = np.random.default_rng(seed)
    if ties:
        exs = rng.integers(0, 3, size=(B,) + EX_SHAPE).astype(dtype)
    else:
        exs = rng.standard_normal((B,) + EX_SHAPE).astype(dtype)
    return np.stack(list(exs), axis=in_axis % (len(EX_SHAPE) + 1)), exs


def _per_example(f, exs):
    return np.stack([f(e) for e in exs])


@pytest.mark.parametrize("in_axis", IN_AXES)
@pytest.mark.parametrize("axis", [0, 1, None, -1])
def test_sum_and_max(in_axis, axis):
    x, exs = _stacked(in_axis)
    got = jaxel.vmap(lambda a: jnp.sum(a, axis=axis), in_axes=in_axis)(x)
    np.testing.assert_allclose(got, _per_example(lambda e: np.sum(e, axis=axis), exs),
                               rtol=1e-5, atol=1e-5)
    got = jaxel.vmap(lambda a: jnp.max(a, axis=axis), in_axes=in_axis)(x)
    np.testing.assert_array_equal(got, _per_example(lambda e: np.max(e, axis=axis), exs))


@pytest.mark.parametrize("in_axis", IN_AXES)
def test_sum_over_both_axes_and_keepdims(in_axis):
    x, exs = _stacked(in_axis)
    got = jaxel.vmap(lambda a: jnp.sum(a, axis=(0, 1), keepdims=True), in_axes=in_axis)(x)
    np.testing.assert_allclose(got, _per_example(lambda e: e.sum((0, 1), keepdims=True), exs),
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("in_axis", IN_AXES)
@pytest.mark.parametrize("axis", [0, 1])
def test_argmax_argmin_first_occurrence(in_axis, axis):
    x, exs = _stacked(in_axis, ties=True)  # many ties: the first index must win
    got = jaxel.vmap(lambda a: jnp.argmax(a, axis=axis), in_axes=in_axis)(x)
    np.testing.assert_array_equal(got, _per_example(lambda e: np.argmax(e, axis=axis), exs))
    got = jaxel.vmap(lambda a: jnp.argmin(a, axis=axis), in_axes=in_axis)(x)
    np.testing.assert_array_equal(got, _per_example(lambda e: np.argmin(e, axis=axis), exs))


@pytest.mark.parametrize("in_axis", IN_AXES)
@pytest.mark.parametrize("axis", [0, 1])
def test_cumsum_and_reverse_cummax(in_axis, axis):
    x, exs = _stacked(in_axis)
    got = jaxel.vmap(lambda a: jnp.cumsum(a, axis=axis), in_axes=in_axis)(x)
    np.testing.assert_allclose(got, _per_example(lambda e: np.cumsum(e, axis=axis), exs),
                               rtol=1e-5, atol=1e-5)
    got = jaxel.vmap(lambda a: lax.cummax(a, axis=axis, reverse=True), in_axes=in_axis)(x)
    want = _per_example(
        lambda e: np.flip(np.maximum.accumulate(np.flip(e, axis), axis=axis), axis), exs)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("in_axis", IN_AXES)
@pytest.mark.parametrize("axis", [0, -1])
def test_sort_and_stable_argsort(in_axis, axis):
    x, exs = _stacked(in_axis)
    got = jaxel.vmap(lambda a: jnp.sort(a, axis=axis), in_axes=in_axis)(x)
    np.testing.assert_array_equal(got, _per_example(lambda e: np.sort(e, axis=axis), exs))
    xt, ext = _stacked(in_axis, ties=True)
    got = jaxel.vmap(lambda a: jnp.argsort(a, axis=axis, stable=True), in_axes=in_axis)(xt)
    np.testing.assert_array_equal(
        got, _per_example(lambda e: np.argsort(e, axis=axis, kind="stable"), ext))


@pytest.mark.parametrize("in_axis", IN_AXES)
def test_sort_key_val_with_unbatched_values(in_axis):
    """Several sort operands, one batched and one not: the unbatched one is broadcast."""
    k, exs = _stacked(in_axis, ties=True)
    vals = np.arange(np.prod(EX_SHAPE), dtype=np.int32).reshape(EX_SHAPE)
    got_k, got_v = jaxel.vmap(lambda a, v: lax.sort_key_val(a, v, dimension=0),
                              in_axes=(in_axis, None))(k, vals)
    order = [np.argsort(e, axis=0, kind="stable") for e in exs]
    np.testing.assert_array_equal(got_k, np.stack([np.take_along_axis(e, o, 0)
                                                   for e, o in zip(exs, order)]))
    np.testing.assert_array_equal(got_v, np.stack([np.take_along_axis(vals, o, 0)
                                                   for o in order]))
    # And the other way round: keys unbatched, values batched.
    keys = exs[0]
    got_k, got_v = jaxel.vmap(lambda a, v: lax.sort_key_val(a, v, dimension=1),
                              in_axes=(None, in_axis))(keys, k)
    o = np.argsort(keys, axis=1, kind="stable")
    np.testing.assert_array_equal(got_k, np.stack([np.take_along_axis(keys, o, 1)] * B))
    np.testing.assert_array_equal(got_v, np.stack([np.take_along_axis(e, o, 1) for e in exs]))


@pytest.mark.parametrize("in_axis", IN_AXES)
@pytest.mark.parametrize("k", [1, 3, 6])
def test_top_k(in_axis, k):
    x, exs = _stacked(in_axis, ties=True)
    vals, idx = jaxel.vmap(lambda a: lax.top_k(a, k), in_axes=in_axis)(x)
    order = np.stack([np.argsort(-e, axis=-1, kind="stable")[:, :k] for e in exs])
    np.testing.assert_array_equal(idx, order)
    np.testing.assert_array_equal(vals, np.take_along_axis(exs, order, -1))
    assert np.asarray(idx).dtype == np.int32


def _np_pool(e, reducer, window, stride):
    """Pooling of a 2-D array with VALID padding."""
    (wh, ww), (sh, sw) = window, stride
    oh, ow = (e.shape[0] - wh) // sh + 1, (e.shape[1] - ww) // sw + 1
    return np.array([[reducer(e[i * sh:i * sh + wh, j * sw:j * sw + ww]) for j in range(ow)]
                     for i in range(oh)], e.dtype)


@pytest.mark.parametrize("in_axis", IN_AXES)
def test_pooling(in_axis):
    x, exs = _stacked(in_axis)
    max_pool = jaxel.vmap(
        lambda a: lax.reduce_window(a, -jnp.inf, lax.max, (2, 2), (2, 2), "VALID"),
        in_axes=in_axis)
    np.testing.assert_array_equal(
        max_pool(x), _per_example(lambda e: _np_pool(e, np.max, (2, 2), (2, 2)), exs))
    min_pool = jaxel.vmap(
        lambda a: lax.reduce_window(a, jnp.inf, lax.min, (3, 2), (1, 2), "VALID"),
        in_axes=in_axis)
    np.testing.assert_array_equal(
        min_pool(x), _per_example(lambda e: _np_pool(e, np.min, (3, 2), (1, 2)), exs))
    avg_pool = jaxel.vmap(
        lambda a: lax.reduce_window(a, 0.0, lax.add, (2, 3), (1, 1), "VALID") / 6.0,
        in_axes=in_axis)
    np.testing.assert_allclose(
        avg_pool(x), _per_example(lambda e: _np_pool(e, np.mean, (2, 3), (1, 1)), exs),
        rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("in_axis", IN_AXES)
def test_pooling_same_padding_with_dilation_and_init(in_axis):
    """SAME padding, window dilation, and a non-identity init value (applied once a window)."""
    x, exs = _stacked(in_axis)
    f = jaxel.vmap(lambda a: lax.reduce_window(a, 1.0, lax.add, (2, 2), (1, 1), "SAME",
                                               window_dilation=(2, 1)), in_axes=in_axis)

    def ref(e):
        # window (2, 2) dilated to (3, 2): SAME pads rows (1, 1) and columns (0, 1)
        p = np.pad(e, ((1, 1), (0, 1)))
        return np.array([[p[i, j] + p[i + 2, j] + p[i, j + 1] + p[i + 2, j + 1] + 1.0
                          for j in range(e.shape[1])] for i in range(e.shape[0])], e.dtype)

    np.testing.assert_allclose(f(x), _per_example(ref, exs), rtol=1e-5, atol=1e-5)


def _primitive_names(closed):
    return [eqn.primitive.name for eqn in closed.jaxpr.eqns]


def test_sum_axis0_with_in_axes_1_needs_no_transpose():
    x = np.ones((5, B, 6), np.float32)
    closed = jaxel.make_jaxpr(jaxel.vmap(lambda a: jnp.sum(a, axis=0), in_axes=1))(x)
    names = _primitive_names(closed)
    assert "transpose" not in names, closed
    assert "reduce_sum" in names


@pytest.mark.parametrize("fn", [
    lambda a: jnp.cumsum(a, axis=0),
    lambda a: jnp.sort(a, axis=0),
    lambda a: lax.top_k(a, 2)[0],
    lambda a: jnp.argmax(a, axis=1),
    lambda a: lax.reduce_window(a, -jnp.inf, lax.max, (2, 2), (1, 1), "VALID"),
])
def test_batch_dim_kept_in_place(fn):
    """With the batch axis in the middle, no rule needs to move it (out_axes=1 keeps it)."""
    x = np.ones((5, B, 6), np.float32)
    closed = jaxel.make_jaxpr(jaxel.vmap(fn, in_axes=1, out_axes=1))(x)
    assert "transpose" not in _primitive_names(closed), closed
