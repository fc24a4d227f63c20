"""Window functions (bartlett, blackman, hamming, hanning, kaiser), as default-float arrays.

The length ``M`` is static; ``kaiser``'s ``beta`` may be traced (and differentiated).
"""
from __future__ import annotations

import operator

import numpy as np

import jaxel.numpy as jnp
from jaxel import dtypes as _dtypes


def _length(name, M):
    try:
        return operator.index(M)
    except TypeError:
        raise TypeError(f"jaxel.numpy.{name}: M must be a static integer, got {M!r:.60}.") \
            from None


def _window(name, M, body):
    M = _length(name, M)
    dt = _dtypes.default_float_dtype()
    if M < 1:
        return jnp.zeros((0,), dt)
    if M == 1:
        return jnp.ones((1,), dt)
    n = jnp.arange(1 - M, M, 2, dtype=dt)
    return body(n, M - 1).astype(dt)


def bartlett(M):
    """The Bartlett (triangular) window of length ``M``.

    Example::

        >>> jnp.bartlett(5)
        Array([0. , 0.5, 1. , 0.5, 0. ], dtype=float32)
    """
    return _window("bartlett", M, lambda n, d: jnp.where(n <= 0, 1 + n / d, 1 - n / d))


def blackman(M):
    """The Blackman window of length ``M``.

    Example::

        >>> jnp.blackman(3)
        Array([-1.4901161e-08,  9.9999994e-01, -1.4901161e-08], dtype=float32)
    """
    return _window("blackman", M, lambda n, d: 0.42 + 0.5 * jnp.cos(np.pi * n / d)
                   + 0.08 * jnp.cos(2 * np.pi * n / d))


def hamming(M):
    """The Hamming window of length ``M``.

    Example::

        >>> jnp.hamming(3)
        Array([0.08000001, 1.        , 0.08000001], dtype=float32)
    """
    return _window("hamming", M, lambda n, d: 0.54 + 0.46 * jnp.cos(np.pi * n / d))


def hanning(M):
    """The Hann window of length ``M``.

    Example::

        >>> jnp.hanning(3)
        Array([0., 1., 0.], dtype=float32)
    """
    return _window("hanning", M, lambda n, d: 0.5 + 0.5 * jnp.cos(np.pi * n / d))


def kaiser(M, beta):
    """The Kaiser window of length ``M`` and shape ``beta``.

    Example::

        >>> jnp.kaiser(3, 0.0)
        Array([1., 1., 1.], dtype=float32)
    """
    M = _length("kaiser", M)
    dt = _dtypes.default_float_dtype()
    if M < 1:
        return jnp.zeros((0,), dt)
    if M == 1:
        return jnp.ones((1,), dt)
    n = jnp.arange(0, M, dtype=dt)
    alpha = 0.5 * (M - 1)
    beta = jnp.asarray(beta, dtype=dt)
    r = (n - alpha) / alpha
    return (jnp.i0(beta * jnp.sqrt(jnp.clip(1 - r * r, 0))) / jnp.i0(beta)).astype(dt)


__all__ = ["bartlett", "blackman", "hamming", "hanning", "kaiser"]
