"""Collectives under ``vmap(axis_name=...)``: each against a NumPy reference over the stacked
examples, nested axes, collectives inside jit, their derivatives (finite differences) and the
jit cache keyed by the axes in scope."""
from __future__ import annotations

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel import lax
from jaxel.test_util import check_grads

RNG = np.random.default_rng(1)
X = RNG.standard_normal((4, 3)).astype(np.float32)


def _vm(f, **kw):
    return jaxel.vmap(f, axis_name="i", **kw)


def _close(a, b, tol=1e-5):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


def test_psum_pmean_pmax_pmin():
    _close(_vm(lambda v: lax.psum(v, "i"))(X), np.broadcast_to(X.sum(0), X.shape))
    _close(_vm(lambda v: lax.pmean(v, "i"))(X), np.broadcast_to(X.mean(0), X.shape))
    _close(_vm(lambda v: lax.pmax(v, "i"))(X), np.broadcast_to(X.max(0), X.shape))
    _close(_vm(lambda v: lax.pmin(v, "i"))(X), np.broadcast_to(X.min(0), X.shape))


def test_psum_of_unbatched_value_and_out_axes_none():
    _close(_vm(lambda v: lax.psum(2.0, "i"), out_axes=None)(X), 8.0)
    _close(_vm(lambda v: lax.psum(v, "i"), out_axes=None)(X), X.sum(0))


def test_psum_pytree_and_positional_axes():
    out = _vm(lambda v: lax.psum({"a": v, "b": (v * 2,)}, "i"))(X)
    _close(out["a"][0], X.sum(0))
    _close(out["b"][0][0], 2 * X.sum(0))
    _close(_vm(lambda v: lax.psum(v, ("i", 0)))(X), np.full(4, X.sum()))


def test_axis_index_and_axis_size():
    np.testing.assert_array_equal(np.asarray(_vm(lambda v: lax.axis_index("i"))(X)),
                                  np.arange(4))
    assert float(_vm(lambda v: v * lax.axis_size("i"))(X)[0, 0]) == pytest.approx(4 * X[0, 0])


@pytest.mark.parametrize("axis,tiled", [(0, False), (1, False), (0, True), (1, True)])
def test_all_gather(axis, tiled):
    x = RNG.standard_normal((4, 3, 2)).astype(np.float32)
    got = _vm(lambda v: lax.all_gather(v, "i", axis=axis, tiled=tiled))(x)
    want = np.concatenate(list(x), axis=axis) if tiled else np.stack(list(x), axis=axis)
    for k in range(4):
        _close(got[k], want)


@pytest.mark.parametrize("dim,tiled", [(0, False), (1, False), (1, True)])
def test_psum_scatter(dim, tiled):
    shape = {(0, False): (4, 4, 2), (1, False): (4, 3, 4), (1, True): (4, 3, 8)}[(dim, tiled)]
    x = RNG.standard_normal(shape).astype(np.float32)
    got = _vm(lambda v: lax.psum_scatter(v, "i", scatter_dimension=dim, tiled=tiled))(x)
    total = x.sum(0)
    for k in range(4):
        if tiled:
            want = np.split(total, 4, axis=dim)[k]
        else:
            want = np.take(total, k, axis=dim)
        _close(got[k], want, 1e-4)


def test_ppermute():
    perm = [(0, 1), (1, 2), (2, 3)]  # 3 -> nobody: participant 0 receives zeros
    got = _vm(lambda v: lax.ppermute(v, "i", perm))(X)
    want = np.zeros_like(X)
    for s, d in perm:
        want[d] = X[s]
    _close(got, want)


@pytest.mark.parametrize("split,concat,tiled", [(0, 0, False), (0, 1, False), (1, 0, False),
                                                (0, 1, True), (1, 0, True)])
def test_all_to_all(split, concat, tiled):
    shape = (4, 4, 3) if split == 0 else (4, 2, 4)
    if tiled:
        shape = (4, 8, 3) if split == 0 else (4, 2, 8)
    x = RNG.standard_normal(shape).astype(np.float32)
    got = _vm(lambda v: lax.all_to_all(v, "i", split, concat, tiled=tiled))(x)
    for j in range(4):
        chunks = [np.split(x[i], 4, axis=split)[j] for i in range(4)]
        if tiled:
            want = np.concatenate(chunks, axis=concat)
        else:
            want = np.stack([np.squeeze(c, axis=split) for c in chunks], axis=concat)
        _close(got[j], want)


def test_nested_axes():
    x = RNG.standard_normal((2, 3, 4)).astype(np.float32)
    f = lambda v: lax.psum(v, "inner") - lax.psum(v, ("outer", "inner"))
    got = jaxel.vmap(jaxel.vmap(f, axis_name="inner"), axis_name="outer")(x)
    want = x.sum(1, keepdims=True) - x.sum((0, 1), keepdims=True)
    _close(got, np.broadcast_to(want, x.shape), 1e-4)
    # collective of the outer axis on a value batched by the inner one
    g = lambda v: lax.psum(v, "outer")
    got = jaxel.vmap(jaxel.vmap(g, axis_name="inner"), axis_name="outer")(x)
    _close(got, np.broadcast_to(x.sum(0, keepdims=True), x.shape), 1e-4)


def test_collectives_inside_jit_and_cache_by_axis():
    f = jaxel.jit(lambda v: v / lax.psum(v, "i"))
    _close(_vm(f)(X), X / X.sum(0))
    _close(_vm(f)(X[:2]), X[:2] / X[:2].sum(0))  # other axis size: retraced, not reused
    idx = jaxel.jit(lambda: lax.axis_index("i"))
    np.testing.assert_array_equal(np.asarray(_vm(lambda v: idx())(X)), np.arange(4))


def test_gradients_through_collectives():
    def loss(x):
        normed = _vm(lambda v: v / lax.psum(v * v, "i"))(x)
        gathered = _vm(lambda v: lax.all_gather(v, "i"))(x)
        permuted = _vm(lambda v: lax.ppermute(v, "i", [(0, 1), (1, 0), (2, 3), (3, 2)]))(x)
        scattered = _vm(lambda v: lax.psum_scatter(v, "i", scatter_dimension=0, tiled=True))(
            jnp.tile(x, (1, 4)).reshape(4, 12))
        swapped = _vm(lambda v: lax.all_to_all(v, "i", 0, 0))(
            jnp.tile(x[:, :1], (1, 4)))
        maxed = _vm(lambda v: lax.pmax(v, "i"))(x)
        return (jnp.sum(jnp.sin(normed)) + jnp.sum(gathered ** 2) + jnp.sum(permuted * x)
                + jnp.sum(jnp.cos(scattered)) + jnp.sum(swapped ** 3) + jnp.sum(maxed ** 2))
    x = jnp.asarray(RNG.uniform(0.5, 1.5, (4, 3)).astype(np.float32))
    with jaxel.config._override("jax_enable_x64", True):
        check_grads(loss, (jnp.asarray(np.asarray(x, np.float64)),), order=1,
                    modes=("fwd", "rev"))


def test_collective_outside_mapped_axis_in_jit_is_name_error():
    with pytest.raises(NameError):
        jaxel.jit(lambda v: lax.psum(v, "i"))(X)


def test_make_jaxpr_with_axis_env():
    jaxpr = jaxel.make_jaxpr(lambda v: lax.all_gather(v, "i"), axis_env=[("i", 4)])(1.0)
    assert "all_gather" in str(jaxpr) and jaxpr.out_avals[0].shape == (4,)
