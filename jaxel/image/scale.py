"""Resampling an image by a scale and a translation per spatial dimension.

Every method but nearest-neighbour is separable: for each resampled dimension a weight matrix
``W[input pixel, output pixel]`` is built from a kernel evaluated at the distance between the
output pixel's sample point (mapped back into the input) and each input pixel centre, each
column normalised to sum to 1, and the image is contracted with it. Pixel centres are at
``i + 1/2``. When downsampling with ``antialias`` the kernel is stretched by ``1 / scale`` so it
averages over the input pixels an output pixel covers.
"""
from __future__ import annotations

import enum
import operator

import numpy as np

from jaxel import dtypes as _dtypes
from jaxel import lax
from jaxel import numpy as jnp
from jaxel.image import kernels as _k
from jaxel.numpy._util import canonicalize_axis, promote_dtypes_inexact


class ResizeMethod(enum.Enum):
    """How ``resize`` and ``scale_and_translate`` resample.

    * ``NEAREST``: the input pixel whose cell holds the sample point (``resize`` only).
    * ``LINEAR``: linear interpolation (a triangle kernel of radius 1).
    * ``LANCZOS3``, ``LANCZOS5``: Lanczos windowed sinc of radius 3 or 5.
    * ``CUBIC``: Keys' cubic convolution (a = -1/2).
    * ``CUBIC_PYTORCH``: PyTorch's bicubic (a = -3/4, edge pixels repeated); the same as
      ``CUBIC`` when antialiasing.
    * ``AREA``: each output pixel averages the input area it covers (a box filter).
    """

    NEAREST = 0
    LINEAR = 1
    LANCZOS3 = 2
    LANCZOS5 = 3
    CUBIC = 4
    CUBIC_PYTORCH = 5
    AREA = 6

    @staticmethod
    def from_string(s: str) -> "ResizeMethod":
        """The method named ``s``: ``'nearest'``, ``'linear'`` (or ``'bilinear'``,
        ``'trilinear'``, ``'triangle'``), ``'lanczos3'``, ``'lanczos5'``, ``'cubic'`` (or
        ``'bicubic'``, ``'tricubic'``), ``'cubic-pytorch'`` (or ``'bicubic-pytorch'``),
        ``'area'``.

        Example::

            >>> ResizeMethod.from_string("bilinear")
            <ResizeMethod.LINEAR: 1>
        """
        method = _NAMES.get(s)
        if method is None:
            raise ValueError(f'Unknown resize method "{s}"; expected one of '
                             f"{sorted(_NAMES)}.")
        return method


_NAMES = {
    "nearest": ResizeMethod.NEAREST,
    **dict.fromkeys(["linear", "bilinear", "trilinear", "triangle"], ResizeMethod.LINEAR),
    "lanczos3": ResizeMethod.LANCZOS3, "lanczos5": ResizeMethod.LANCZOS5,
    **dict.fromkeys(["cubic", "bicubic", "tricubic"], ResizeMethod.CUBIC),
    **dict.fromkeys(["cubic-pytorch", "bicubic-pytorch"], ResizeMethod.CUBIC_PYTORCH),
    "area": ResizeMethod.AREA,
}

_AREA = "area"  # marker: the box filter integrates overlaps instead of evaluating a kernel
# method -> (kernel radius in input pixels, kernel)
_KERNELS = {
    ResizeMethod.LINEAR: (1, _k.triangle),
    ResizeMethod.LANCZOS3: (3, _k.lanczos(3.0)),
    ResizeMethod.LANCZOS5: (5, _k.lanczos(5.0)),
    ResizeMethod.CUBIC: (2, _k.keys_cubic),
    ResizeMethod.CUBIC_PYTORCH: (2, _k.opencv_cubic),
    ResizeMethod.AREA: (1, _AREA),
}
# Columns whose weights sum to less than this are treated as empty (all zeros).
_MIN_TOTAL = 1000.0 * float(np.finfo(np.float32).eps)


def _method(method, fun):
    if isinstance(method, str):
        return ResizeMethod.from_string(method)
    if not isinstance(method, ResizeMethod):
        raise TypeError(f"jaxel.image.{fun}: method must be a ResizeMethod or its name, got "
                        f"{method!r}.")
    return method


def _normalise(w):
    """Columns of ``w`` scaled to sum to 1; columns with (almost) no weight become 0."""
    total = jnp.sum(w, axis=0, keepdims=True)
    return jnp.where(jnp.abs(total) > _MIN_TOTAL, w / jnp.where(total != 0, total, 1), 0)


def _weights(n_in: int, n_out: int, scale, translation, kernel, radius, antialias,
             edge_padding):
    """The ``(n_in, n_out)`` matrix mapping one dimension of the input to the output."""
    dtype = _dtypes.result_type(scale, translation)
    inv = 1.0 / scale
    if kernel is _AREA:
        # Overlap of output cell [lo, lo + 1/scale) (in input coordinates) with input cell j.
        lo = jnp.arange(n_out, dtype=dtype) * inv - translation * inv
        hi = lo + inv
        j = jnp.arange(n_in, dtype=dtype)[:, None]
        w = jnp.maximum(0.0, jnp.minimum(hi[None, :], j + 1.0) - jnp.maximum(lo[None, :], j))
        return _mask_outside(_normalise(w), n_in, n_out, dtype, inv, translation)
    stretch = jnp.maximum(inv, 1.0) if antialias else 1.0
    sample = (jnp.arange(n_out, dtype=dtype) + 0.5) * inv - translation * inv - 0.5
    # With edge padding the kernel also reaches `radius` pixels past each edge; those pixels
    # repeat the edge pixels, so their weights fold back onto them.
    pad = radius if edge_padding else 0
    centres = jnp.arange(-pad, n_in + pad, dtype=dtype)
    w = kernel(jnp.abs(sample[None, :] - centres[:, None]) / stretch)
    if not edge_padding:
        return _mask_outside(_normalise(w), n_in, n_out, dtype, inv, translation, sample)
    fold = np.zeros((n_in, n_in + 2 * pad), np.float32)
    fold[np.clip(np.arange(-pad, n_in + pad), 0, n_in - 1), np.arange(n_in + 2 * pad)] = 1
    w = jnp.matmul(jnp.asarray(fold, w.dtype), w, precision=lax.Precision.HIGHEST)
    return _normalise(w)


def _mask_outside(w, n_in, n_out, dtype, inv, translation, sample=None):
    """Zero the columns whose sample point lies outside the input (no extrapolation)."""
    if sample is None:
        sample = (jnp.arange(n_out, dtype=dtype) + 0.5) * inv - translation * inv - 0.5
    inside = (sample >= -0.5) & (sample <= n_in - 0.5)
    return jnp.where(inside[None, :], w, 0)


def _contract(x, dims, mats, precision):
    """``x`` with each axis ``dims[i]`` replaced by its product with ``mats[i]``."""
    for d, w in zip(dims, mats):
        # dot_general puts the new axis last; move it back to d.
        y = lax.dot_general(x, w.astype(x.dtype), (((d,), (0,)), ((), ())),
                            precision=precision)
        x = jnp.moveaxis(y, -1, d)
    return x


def _shape(shape, image, fun):
    try:
        shape = tuple(operator.index(d) for d in shape)
    except TypeError:
        raise TypeError(f"jaxel.image.{fun}: shape must be a sequence of integers, got "
                        f"{shape!r}.") from None
    if len(shape) != image.ndim:
        raise ValueError(f"jaxel.image.{fun}: shape must have length equal to the number of "
                         f"dimensions of the image; {shape} vs {image.shape}.")
    return shape


def _resample(image, shape, dims, scales, translations, method, antialias, precision):
    if method == ResizeMethod.CUBIC_PYTORCH and antialias:
        method = ResizeMethod.CUBIC
    radius, kernel = _KERNELS[method]
    edge_padding = method == ResizeMethod.CUBIC_PYTORCH  # (and not antialias, see above)
    mats = [_weights(image.shape[d], shape[d], s, t, kernel, radius, antialias, edge_padding)
            for d, s, t in zip(dims, scales, translations)]
    return _contract(image, dims, mats, precision)


def scale_and_translate(image, shape, spatial_dims, scale, translation, method,
                        antialias=True, precision=lax.Precision.HIGHEST):
    """Resample ``image`` to ``shape`` under a scale and translation of its spatial dims.

    Along each dimension ``spatial_dims[i]`` an input coordinate ``u`` goes to the output
    coordinate ``u * scale[i] + translation[i]``; the output is sampled at the inverse images
    of its pixel centres (``k + 1/2``). Output pixels whose sample point falls outside the input
    are 0. ``torch.nn.functional.interpolate(align_corners=True)`` is
    ``scale = (n - 1) / (m - 1)``, ``translation = (1 - scale) / 2``.

    Args:
      image: the input array.
      shape: output shape, one entry per dimension of ``image`` (the non-spatial ones equal).
      spatial_dims: the K dimensions that are resampled.
      scale: K scales (may be traced: the result is differentiable in them).
      translation: K translations, in output pixels.
      method: a ``ResizeMethod`` or its name; every method except ``NEAREST``.
      antialias: widen the kernel when downsampling (default True).
      precision: precision of the contractions (``lax.Precision``).

    Returns:
      The resampled image, in ``image``'s dtype promoted to floating point.

    Example::

        >>> x = jnp.arange(4.0).reshape(1, 4)
        >>> image.scale_and_translate(x, (1, 8), (1,), jnp.array([2.0]), jnp.array([0.0]),
        ...                           "linear")
        Array([[0.  , 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3.  ]], dtype=float32)
    """
    image = jnp.asarray(image)
    shape = _shape(shape, image, "scale_and_translate")
    method = _method(method, "scale_and_translate")
    if method == ResizeMethod.NEAREST:
        raise ValueError("jaxel.image.scale_and_translate: nearest-neighbour resampling is not "
                         "supported here (as in JAX); use resize(..., 'nearest') or another "
                         "method.")
    dims = tuple(canonicalize_axis(d, image.ndim) for d in spatial_dims)
    (image,) = promote_dtypes_inexact(image)
    if not dims:
        return image
    scale, translation = promote_dtypes_inexact(jnp.asarray(scale), jnp.asarray(translation))
    if scale.shape != (len(dims),) or translation.shape != (len(dims),):
        raise ValueError(f"jaxel.image.scale_and_translate: scale and translation need one "
                         f"entry per spatial dimension ({len(dims)}), got shapes {scale.shape} "
                         f"and {translation.shape}.")
    return _resample(image, shape, dims, [scale[i] for i in range(len(dims))],
                     [translation[i] for i in range(len(dims))], method, antialias, precision)


def _resize_nearest(image, shape):
    for d, (m, n) in enumerate(zip(image.shape, shape)):
        if m == n:
            continue
        # Output pixel k samples input coordinate (k + 1/2) m / n; its cell is the floor.
        # float32 arithmetic, as JAX, so ties round the same way.
        f32 = np.float32
        pos = (np.arange(n, dtype=f32) + f32(0.5)) * f32(m) / f32(n)
        idx = np.floor(pos).astype(np.int32)
        image = jnp.take(image, idx, axis=d, mode="clip")
    return image


def resize(image, shape, method, antialias=True, precision=lax.Precision.HIGHEST):
    """Resize ``image`` to ``shape`` (every dimension whose size changes is resampled).

    Methods (``ResizeMethod`` or name): ``'nearest'`` (keeps the dtype; ``antialias`` and
    ``precision`` unused), ``'linear'``/``'bilinear'``/``'trilinear'``/``'triangle'``,
    ``'cubic'``/``'bicubic'``/``'tricubic'`` (Keys), ``'cubic-pytorch'``, ``'lanczos3'``,
    ``'lanczos5'``, ``'area'``. Pixel centres are at ``i + 1/2`` (no ``align_corners``; see
    ``scale_and_translate`` for that).

    Args:
      image: the input array.
      shape: output shape with one entry per dimension of ``image``; keep a batch or channel
        dimension's size to leave it alone.
      method: the resampling method.
      antialias: widen the kernel when downsampling (default True; no effect upsampling).
      precision: precision of the contractions (``lax.Precision``).

    Returns:
      The resized image: ``image``'s dtype for ``'nearest'``, promoted to floating point
      otherwise.

    Example::

        >>> image.resize(jnp.array([[0.0, 1.0]]), (1, 4), "linear")
        Array([[0.  , 0.25, 0.75, 1.  ]], dtype=float32)
    """
    image = jnp.asarray(image)
    shape = _shape(shape, image, "resize")
    method = _method(method, "resize")
    for m, n in zip(image.shape, shape):
        if m == 0 and n != 0:
            raise ValueError(f"jaxel.image.resize: cannot resize an empty dimension to size {n} "
                             f"(image shape {image.shape}, requested {shape}): there are no "
                             "pixels to sample.")
    if method == ResizeMethod.NEAREST:
        return _resize_nearest(image, shape)
    (image,) = promote_dtypes_inexact(image)
    dims = tuple(d for d in range(image.ndim) if image.shape[d] != shape[d])
    scales = [1.0 if shape[d] == 0 else shape[d] / image.shape[d] for d in dims]
    return _resample(image, shape, dims, scales, [0.0] * len(dims), method, antialias,
                     precision)


__all__ = ["ResizeMethod", "resize", "scale_and_translate"]
