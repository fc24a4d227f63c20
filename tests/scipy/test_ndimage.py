"""jaxel.scipy.ndimage.map_coordinates against scipy.ndimage and jax.scipy.ndimage."""
from __future__ import annotations

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel.scipy.ndimage import map_coordinates

snd = pytest.importorskip("scipy.ndimage")
RNG = np.random.default_rng(11)
MODES = ["constant", "nearest", "wrap", "mirror", "reflect"]


def _coords(shape, n=120):
    c = RNG.uniform(-6, 9, (len(shape), n))
    c[:, : n // 3] = np.round(c[:, : n // 3] * 2) / 2  # exact grid points and half-way ties
    return c


def _all_modes(order, cval):
    """One jitted call giving map_coordinates in every mode."""
    return jaxel.jit(lambda x, c: [map_coordinates(x, list(c), order, mode=m, cval=cval)
                                   for m in MODES])


@pytest.mark.parametrize("order", [0, 1])
def test_against_scipy_and_jax(order):
    x = RNG.standard_normal((4, 5))
    c = _coords(x.shape)
    inside = np.all((c >= 0) & (c <= np.array(x.shape)[:, None] - 1), axis=0)
    ties = np.any(np.abs(c - np.trunc(c)) == 0.5, axis=0)
    with jaxel.config._override("jax_enable_x64", True):
        outs = _all_modes(order, -2.5)(x, c)
    for mode, ours in zip(MODES, outs):
        ours = np.asarray(ours)
        # scipy's "wrap" is jax's "grid-wrap"; its "constant" stops at the edge points;
        # its order-0 rounding of ties differs from jax's (half away from zero)
        smode = {"wrap": "grid-wrap"}.get(mode, mode)
        ref = snd.map_coordinates(x, c, order=order, mode=smode, cval=-2.5)
        keep = inside if mode == "constant" else np.ones_like(inside)
        if order == 0:
            keep = keep & ~ties
        np.testing.assert_allclose(ours[keep], ref[keep], rtol=1e-12, atol=1e-12)
        if order == 0 and mode == "nearest":  # ties away from zero, within range
            sel = ties & inside
            idx = tuple(np.where(c - np.trunc(c) == 0.5, np.ceil(c), np.floor(c))[:, sel]
                        .astype(int))
            np.testing.assert_array_equal(ours[sel], x[idx])
    jnd = pytest.importorskip("jax.scipy.ndimage")
    x32, c32 = x.astype(np.float32), c.astype(np.float32)
    xi = np.arange(-10, 10, dtype=np.int32).reshape(4, 5)
    f = _all_modes(order, 1.5)
    for arr in (x32, xi):
        for mode, ours in zip(MODES, f(jnp.asarray(arr), jnp.asarray(c32))):
            theirs = np.asarray(jnd.map_coordinates(arr, list(c32), order, mode=mode, cval=1.5))
            assert ours.dtype == theirs.dtype
            np.testing.assert_allclose(np.asarray(ours), theirs, rtol=1e-5, atol=1e-5)


def test_gradients_jit_vmap():
    x = jnp.asarray(RNG.standard_normal((3, 4)).astype(np.float32))
    # away from grid lines so the piecewise-linear interpolant is smooth there
    c = jnp.asarray((np.floor(_coords((3, 4), 8)) + RNG.uniform(0.2, 0.8, (2, 8)))
                    .astype(np.float32))
    w = jnp.asarray(RNG.standard_normal(8).astype(np.float32))
    modes = ["constant", "reflect"]

    def losses(x, c):  # one loss per mode
        return jnp.stack([jnp.sum(w * map_coordinates(x, [c[0], c[1]], 1, mode=m, cval=0.7))
                          for m in modes])

    grads = jaxel.jit(lambda x, c: [jaxel.grad(lambda x, c: losses(x, c)[k], argnums=(0, 1))(x, c)
                                    for k in range(len(modes))])(x, c)
    gx, gc = zip(*grads)
    # the loss is affine in x: loss(x) - loss(0) = <grad_x, x>; finite differences for c
    eps = 1e-2
    ec = eps * jnp.eye(c.size, dtype=c.dtype).reshape((c.size,) + c.shape)
    affine, fd_c = jaxel.jit(lambda: (
        losses(x, c) - losses(jnp.zeros_like(x), c),
        jaxel.vmap(lambda e: (losses(x, c + e) - losses(x, c - e)) / (2 * eps))(ec)))()
    for k in range(len(modes)):
        np.testing.assert_allclose(float(jnp.sum(gx[k] * x)), float(affine[k]), rtol=1e-5,
                                   atol=1e-5)
        np.testing.assert_allclose(np.asarray(gc[k]).ravel(), np.asarray(fd_c)[:, k],
                                   rtol=1e-2, atol=1e-2)
        assert np.abs(np.asarray(gc[k])).max() > 0.1
    # order 0: zero gradient with respect to the coordinates, one-hot with respect to x
    g0x, g0c = jaxel.jit(jaxel.grad(lambda x, c: jnp.sum(map_coordinates(x, c, 0, mode="wrap")),
                                    argnums=(0, 1)))(x, c)
    assert float(jnp.sum(g0x)) == c.shape[1] and not np.any(np.asarray(g0c))

    batched, direct = jaxel.jit(lambda c: (
        jaxel.vmap(lambda c: map_coordinates(x, c, 0, mode="wrap"), in_axes=2)(
            jnp.stack([c, c + 1.0], axis=2)),
        map_coordinates(x, c + 1.0, 0, mode="wrap")))(c)
    np.testing.assert_array_equal(np.asarray(batched[1]), np.asarray(direct))


def test_errors_and_edge_cases():
    x = jnp.zeros((2, 3))
    with pytest.raises(NotImplementedError, match="order"):
        map_coordinates(x, [jnp.zeros(2), jnp.zeros(2)], 3)
    with pytest.raises(NotImplementedError, match="mode"):
        map_coordinates(x, [jnp.zeros(2), jnp.zeros(2)], 1, mode="grid-wrap")
    with pytest.raises(ValueError, match="length input.ndim"):
        map_coordinates(x, [jnp.zeros(2)], 1)
    # an array of coordinates works like a sequence; size-1 axes in every mode
    out = jaxel.jit(lambda x, c: map_coordinates(x, c, 1))(jnp.arange(6.0).reshape(2, 3),
                                                           jnp.full((2, 4, 5), 0.5))
    assert out.shape == (4, 5)
    np.testing.assert_allclose(np.asarray(out), 2.0)
    ones = _all_modes(1, 0.0)(jnp.ones(1), jnp.array([[-1.3, 0.5, 3.2]]))
    np.testing.assert_allclose(np.asarray(jnp.stack(ones[1:])), 1.0)
