"""Resampling kernels of ``jaxel.image``, as functions of the distance ``x >= 0`` (in input
pixels, already divided by the antialiasing stretch) between a sample point and a pixel centre.

They are jnp compositions, so their weights are differentiable in ``scale`` and ``translation``.
"""
from __future__ import annotations

import numpy as np

from jaxel import numpy as jnp


def _sinpi(x):
    """sin(pi x), exactly 0 at integers: reduce to r = x - round(x) in [-1/2, 1/2] first."""
    n = jnp.round(x)
    r = x - n
    odd = jnp.remainder(n, 2) != 0  # sin(pi (n + r)) = (-1)^n sin(pi r)
    s = jnp.sin(np.pi * r)
    return jnp.where(odd, -s, s)


def triangle(x):
    """Linear interpolation: the tent ``max(0, 1 - x)``."""
    return jnp.maximum(0, 1 - jnp.abs(x))


def keys_cubic(x):
    """Keys' cubic convolution kernel with a = -1/2 (Catmull-Rom), support [0, 2)."""
    near = (1.5 * x - 2.5) * x * x + 1.0
    far = ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0
    return jnp.where(x >= 2.0, 0.0, jnp.where(x >= 1.0, far, near))


def opencv_cubic(x):
    """The cubic kernel with a = -3/4 that OpenCV and PyTorch use, support [0, 2)."""
    a = -0.75
    near = ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
    far = ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a
    return jnp.where(x >= 2.0, 0.0, jnp.where(x >= 1.0, far, near))


def lanczos(radius):
    """The Lanczos window of ``radius``: sinc(x) sinc(x / radius) on [0, radius]."""
    def kernel(x):
        num = radius * _sinpi(x) * _sinpi(x / radius)
        # sinc's 0/0 at the centre: the limit 1 below a small x (and no NaN in gradients).
        safe = jnp.where(x != 0, (np.pi ** 2) * x * x, 1)
        out = jnp.where(x > 1e-3, num / safe, 1)
        return jnp.where(x > radius, 0.0, out)
    return kernel
