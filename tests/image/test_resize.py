"""jaxel.image against jax.image (values, dtypes, gradients in the image, scale and
translation) and against NumPy formulas (nearest indexing, linear interpolation, block means)."""
from __future__ import annotations

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel import image

RNG = np.random.default_rng(3)
X = RNG.standard_normal((2, 5, 7, 3)).astype(np.float32)
METHODS = ["nearest", "linear", "cubic", "lanczos3", "lanczos5", "cubic-pytorch", "area"]
# Contractions may sum in another order than JAX's einsum: a few ulps of O(1) values.
TOL = dict(rtol=1e-5, atol=3e-6)


@pytest.mark.parametrize("method", METHODS)
def test_resize_matches_jax(method):
    jax = pytest.importorskip("jax")
    for shape in [(2, 9, 4, 3)]:  # one axis up, one down
        for antialias in [True, False]:
            ours = image.resize(jnp.asarray(X), shape, method, antialias)
            theirs = jax.image.resize(X, shape, method, antialias)
            assert ours.shape == shape and ours.dtype == theirs.dtype
            np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), **TOL,
                                       err_msg=f"{shape} antialias={antialias}")


@pytest.mark.parametrize("method", ["linear", "lanczos3", "cubic-pytorch", "area"])
def test_resize_gradient_matches_jax(method):
    jax = pytest.importorskip("jax")
    w = RNG.standard_normal((2, 3, 11, 3)).astype(np.float32)
    ours = jaxel.grad(lambda x: (image.resize(x, w.shape, method) * w).sum())(jnp.asarray(X))
    theirs = jax.grad(lambda x: (jax.image.resize(x, w.shape, method) * w).sum())(X)
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("method", ["linear", "lanczos5", "cubic-pytorch", "area"])
def test_scale_and_translate_values_and_parameter_gradients_match_jax(method):
    jax = pytest.importorskip("jax")
    img = X[0, :, :, 0]
    scale = np.array([1.7, 0.6], np.float32)
    shift = np.array([0.3, -1.2], np.float32)

    def f(mod, s, t, antialias):
        return mod.image.scale_and_translate(img, (8, 5), (0, 1), s, t, method, antialias)
    for antialias in [True, False]:
        np.testing.assert_allclose(np.asarray(f(jaxel, scale, shift, antialias)),
                                   np.asarray(f(jax, scale, shift, antialias)), **TOL)
    w = RNG.standard_normal((8, 5)).astype(np.float32)
    ours = jaxel.grad(lambda s, t: (f(jaxel, s, t, True) * w).sum(), argnums=(0, 1))(
        jnp.asarray(scale), jnp.asarray(shift))
    theirs = jax.grad(lambda s, t: (f(jax, s, t, True) * w).sum(), argnums=(0, 1))(scale, shift)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-5)


def test_nearest_is_numpy_indexing_and_keeps_the_dtype():
    x = np.arange(12, dtype=np.int32).reshape(3, 4)
    out = image.resize(x, (5, 2), "nearest")
    assert out.dtype == np.int32
    rows = np.floor((np.arange(5) + 0.5) * 3 / 5).astype(int)
    cols = np.floor((np.arange(2) + 0.5) * 4 / 2).astype(int)
    np.testing.assert_array_equal(np.asarray(out), x[rows][:, cols])


def test_linear_upsampling_is_interpolation_between_centres():
    x = np.array([0.0, 1.0, 4.0, 2.0], np.float32)
    out = np.asarray(image.resize(x, (8,), "bilinear"))
    # Output centre k + 1/2 maps to input coordinate (k + 1/2) / 2 - 1/2, clamped at the edges.
    pos = np.clip((np.arange(8) + 0.5) / 2 - 0.5, 0, 3)
    np.testing.assert_allclose(out, np.interp(pos, np.arange(4), x), rtol=1e-6)


def test_area_and_antialiased_linear_downsampling_average_blocks():
    x = RNG.standard_normal((6, 4)).astype(np.float32)
    block = x.reshape(3, 2, 2, 2).mean(axis=(1, 3))
    np.testing.assert_allclose(np.asarray(image.resize(x, (3, 2), "area")), block, rtol=1e-5)
    assert image.resize(x.astype(np.int32), (3, 2), "linear").dtype == np.float32


def test_scale_and_translate_identity_and_torch_align_corners():
    img = X[0, :, :, 0]
    same = image.scale_and_translate(img, img.shape, (0, 1), jnp.ones(2), jnp.zeros(2),
                                     "lanczos3")
    np.testing.assert_allclose(np.asarray(same), img, rtol=1e-6, atol=1e-6)
    # align_corners=True: scale (n - 1) / (m - 1) puts the corner samples on the corners.
    m, n = 4, 7
    s = (n - 1) / (m - 1)
    x = np.array([1.0, 3.0, 2.0, 5.0], np.float32)
    out = np.asarray(image.scale_and_translate(x, (n,), (0,), jnp.array([s]),
                                               jnp.array([0.5 * (1 - s)]), "linear", False))
    np.testing.assert_allclose(out, np.interp(np.linspace(0, m - 1, n), np.arange(m), x),
                               rtol=1e-5)


def test_jit_and_vmap():
    f = jaxel.jit(lambda x, s: image.scale_and_translate(x, (6, 6), (0, 1), s, jnp.zeros(2),
                                                         "cubic"))
    img = X[0, :, :5, 0]
    eager = image.scale_and_translate(img, (6, 6), (0, 1), jnp.array([1.2, 1.2]),
                                      jnp.zeros(2), "cubic")
    np.testing.assert_allclose(np.asarray(f(img, jnp.array([1.2, 1.2]))), np.asarray(eager),
                               rtol=1e-6, atol=1e-6)
    shifts = np.array([[0.0, 0.0], [0.5, -1.0], [1.5, 2.0]], np.float32)
    per_shift = jaxel.vmap(lambda t: image.scale_and_translate(
        img, (6, 6), (0, 1), jnp.array([1.3, 0.8]), t, "lanczos3"))(shifts)
    for t, out in zip(shifts, np.asarray(per_shift)):
        np.testing.assert_allclose(out, np.asarray(image.scale_and_translate(
            img, (6, 6), (0, 1), jnp.array([1.3, 0.8]), t, "lanczos3")), rtol=1e-5, atol=1e-6)
    batched = jaxel.vmap(lambda x: image.resize(x, (4, 9, 3), "linear"))(X)
    np.testing.assert_allclose(np.asarray(batched),
                               np.asarray(image.resize(X, (2, 4, 9, 3), "linear")), **TOL)


def test_method_names_and_errors():
    assert image.ResizeMethod.from_string("tricubic") is image.ResizeMethod.CUBIC
    assert image.ResizeMethod.from_string("bicubic-pytorch") is image.ResizeMethod.CUBIC_PYTORCH
    assert [m.name for m in image.ResizeMethod] == [
        "NEAREST", "LINEAR", "LANCZOS3", "LANCZOS5", "CUBIC", "CUBIC_PYTORCH", "AREA"]
    with pytest.raises(ValueError, match="Unknown resize method"):
        image.resize(X, X.shape, "bogus")
    with pytest.raises(ValueError, match="number of dimensions"):
        image.resize(X, (2, 3), "linear")
    with pytest.raises(ValueError, match="[Nn]earest"):
        image.scale_and_translate(X, X.shape, (1,), jnp.ones(1), jnp.zeros(1), "nearest")
    with pytest.raises(ValueError, match="empty dimension"):
        image.resize(np.ones((0, 3)), (2, 3), "nearest")
