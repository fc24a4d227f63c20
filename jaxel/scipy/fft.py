"""``jaxel.scipy.fft`` (JAX's ``jax.scipy.fft``): the type-II discrete cosine transform and its
inverse, one- and n-dimensional, on top of ``jaxel.numpy.fft``.

The DCT-II of length ``N`` is computed with one complex FFT of the same length (Makhoul's
method): the input is reordered as ``v = [x0, x2, x4, ..., x5, x3, x1]`` (even-indexed samples,
then the odd-indexed ones backwards), and ``X[k] = 2 Re(exp(-i pi k / 2N) fft(v)[k])``.  The
inverse undoes each step: ``V[k] = exp(i pi k / 2N) (X[k] - i X[N - k]) / 2`` (``X[N] = 0``),
``v = ifft(V)``, then the reordering is reverted.  Everything is linear in the input, so the
transforms are differentiable (forward and reverse mode) and traceable.

As in JAX, only ``type=2`` is implemented (other types raise ``NotImplementedError``) and
``norm`` may be ``None``/``"backward"`` (unnormalised forward transform, ``idct`` scaled by
``1/(2N)``) or ``"ortho"``.  Complex inputs are transformed by linearity (real and imaginary
parts separately).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from jaxel import lax
from jaxel import numpy as jnp
from jaxel.numpy._util import check_arraylike, promote_dtypes_inexact

__all__ = ["dct", "dctn", "idct", "idctn"]

_NORMS = (None, "backward", "ortho")


def _check(name, type, norm):
    if type != 2:
        raise NotImplementedError(f"jaxel.scipy.fft.{name}: only DCT type 2 is implemented "
                                  f"(got type={type!r}).")
    if norm not in _NORMS:
        if norm == "forward":
            raise ValueError(f"jaxel.scipy.fft.{name}: norm='forward' is not implemented; use "
                             "None, 'backward' or 'ortho'.")
        raise ValueError(f"jaxel.scipy.fft.{name}: norm must be None, 'backward' or 'ortho'; "
                         f"got {norm!r}.")


def _prepare(name, x):
    check_arraylike(f"scipy.fft.{name}", x)
    (x,) = promote_dtypes_inexact(jnp.asarray(x))
    return x


def _resize(x, axis, n):
    """Crop or zero-pad ``x`` along ``axis`` to length ``n``."""
    have = x.shape[axis]
    if n == have:
        return x
    if n < have:
        return jnp.take(x, jnp.arange(n), axis=axis)
    widths = [(0, 0)] * x.ndim
    widths[axis] = (0, n - have)
    return jnp.pad(x, widths)


def _even_odd_order(x):
    """``x`` reordered along its last axis as ``[x0, x2, x4, ..., x5, x3, x1]``."""
    return jnp.concatenate([x[..., ::2], jnp.flip(x[..., 1::2], axis=-1)], axis=-1)


def _undo_even_odd_order(v):
    """Inverse of ``_even_odd_order``: interleave the first ``ceil(n/2)`` entries (even
    positions) with the remaining ones reversed (odd positions)."""
    n = v.shape[-1]
    half = (n + 1) // 2
    even, odd = v[..., :half], jnp.flip(v[..., half:], axis=-1)
    if n % 2:
        odd = jnp.concatenate([odd, jnp.zeros_like(even[..., :1])], axis=-1)
    pairs = jnp.stack([even, odd], axis=-1).reshape(v.shape[:-1] + (2 * half,))
    return pairs[..., :n]


def _twiddle(n, dtype, sign):
    """``exp(sign * i pi k / 2n)`` for ``k = 0..n-1``: a constant of the static length, in the
    complex dtype matching real ``dtype``."""
    cdtype = jnp.result_type(dtype, jnp.complex64)
    return jnp.asarray(np.exp(sign * 1j * np.pi * np.arange(n) / (2 * n)), cdtype)


def _ortho_scale(n, dtype):
    """Per-coefficient factors turning the unnormalised DCT-II into the orthonormal one."""
    scale = np.full(n, np.sqrt(1.0 / (2 * n)))
    scale[0] = np.sqrt(1.0 / (4 * n))
    return jnp.asarray(scale, dtype)


def _dct_last(x, norm):
    """Unnormalised (or orthonormal) DCT-II of real ``x`` along its last axis."""
    n = x.shape[-1]
    spectrum = jnp.fft.fft(_even_odd_order(x), axis=-1)
    scale = 2 * (_ortho_scale(n, x.dtype) if norm == "ortho" else 1)
    return jnp.real(_twiddle(n, x.dtype, -1) * spectrum).astype(x.dtype) * scale


def _idct_last(y, norm):
    """Inverse of ``_dct_last`` (a scaled DCT-III) along the last axis of real ``y``."""
    n = y.shape[-1]
    scale = 0.5 / (_ortho_scale(n, y.dtype) if norm == "ortho" else 1)
    # y[N - k] for k >= 1, and 0 for k = 0
    mirrored = jnp.concatenate([jnp.zeros_like(y[..., :1]), jnp.flip(y[..., 1:], axis=-1)],
                               axis=-1)
    spectrum = _twiddle(n, y.dtype, 1) * lax.complex(y * scale, -mirrored * scale)
    return _undo_even_odd_order(jnp.real(jnp.fft.ifft(spectrum, axis=-1)).astype(y.dtype))


def _along(transform, x, axis, n, norm, name):
    """Apply the last-axis ``transform`` along ``axis`` after resizing it to ``n``."""
    if x.ndim == 0:
        raise ValueError(f"jaxel.scipy.fft.{name}: the input must have at least one dimension.")
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"jaxel.scipy.fft.{name}: axis {axis} is out of bounds for an array "
                         f"of dimension {x.ndim}.")
    axis = axis % x.ndim
    if n is not None:
        if int(n) < 1:
            raise ValueError(f"jaxel.scipy.fft.{name}: invalid number of data points n={n}; "
                             "it must be at least 1.")
        x = _resize(x, axis, int(n))
    if x.shape[axis] < 1:
        raise ValueError(f"jaxel.scipy.fft.{name}: cannot transform an axis of length 0.")
    x = jnp.moveaxis(x, axis, -1)
    if jnp.iscomplexobj(x):
        out = transform(jnp.real(x), norm) + 1j * transform(jnp.imag(x), norm)
    else:
        out = transform(x, norm)
    return jnp.moveaxis(out, -1, axis)


def dct(x, type: int = 2, n: int | None = None, axis: int = -1, norm: str | None = None):
    """Discrete cosine transform (type II) of ``x`` along ``axis``, as ``scipy.fft.dct``.

    ``y[k] = 2 sum_n x[n] cos(pi k (2n + 1) / 2N)`` for ``norm=None``; ``norm="ortho"`` scales
    the result to an orthonormal transform.  ``n`` crops or zero-pads the input first.
    Integer inputs are converted to the default float dtype.
    """
    _check("dct", type, norm)
    return _along(_dct_last, _prepare("dct", x), axis, n, norm, "dct")


def idct(x, type: int = 2, n: int | None = None, axis: int = -1, norm: str | None = None):
    """Inverse of ``dct`` (type II) along ``axis``, as ``scipy.fft.idct``:
    ``idct(dct(x, norm=m), norm=m) == x``.  ``n`` crops or zero-pads the input first."""
    _check("idct", type, norm)
    return _along(_idct_last, _prepare("idct", x), axis, n, norm, "idct")


def _int_tuple(v):
    """A static int or sequence of ints as a tuple of Python ints."""
    return tuple(int(a) for a in v) if isinstance(v, (list, tuple)) else (int(v),)


def _axes_and_sizes(x, s, axes, name):
    """The normalised, checked ``axes`` and the matching sizes (``None`` to keep a size)."""
    s = None if s is None else _int_tuple(s)
    if axes is None:
        axes = tuple(range(x.ndim)) if s is None else tuple(range(x.ndim - len(s), x.ndim))
    else:
        axes = _int_tuple(axes)
    for a in axes:
        if not -x.ndim <= a < x.ndim:
            raise ValueError(f"jaxel.scipy.fft.{name}: axis {a} is out of bounds for an array "
                             f"of dimension {x.ndim}.")
    axes = tuple(a % x.ndim for a in axes)
    if len(set(axes)) != len(axes):
        raise ValueError(f"jaxel.scipy.fft.{name}: axes must be unique; got {axes}.")
    if s is not None and len(s) != len(axes):
        raise ValueError(f"jaxel.scipy.fft.{name}: s and axes must have the same length; got "
                         f"s={s} and axes={axes}.")
    return axes, (s if s is not None else (None,) * len(axes))


def dctn(x, type: int = 2, s: Sequence[int] | None = None, axes: Sequence[int] | None = None,
         norm: str | None = None):
    """Multidimensional DCT-II: ``dct`` applied along each of ``axes`` (all axes by default;
    the last ``len(s)`` axes when only ``s`` is given), each resized to ``s[i]`` first."""
    _check("dctn", type, norm)
    x = _prepare("dctn", x)
    axes, sizes = _axes_and_sizes(x, s, axes, "dctn")
    for axis, n in zip(axes, sizes):
        x = _along(_dct_last, x, axis, n, norm, "dctn")
    return x


def idctn(x, type: int = 2, s: Sequence[int] | None = None, axes: Sequence[int] | None = None,
          norm: str | None = None):
    """Multidimensional inverse DCT-II: ``idct`` applied along each of ``axes`` (see
    ``dctn`` for ``s`` and ``axes``)."""
    _check("idctn", type, norm)
    x = _prepare("idctn", x)
    axes, sizes = _axes_and_sizes(x, s, axes, "idctn")
    for axis, n in zip(axes, sizes):
        x = _along(_idct_last, x, axis, n, norm, "idctn")
    return x
