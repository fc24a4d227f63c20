"""``x.view(dtype)``: the same bytes read as another dtype (NumPy's and JAX's ``ndarray.view``).

Equal widths bitcast elementwise; a different width changes the last axis by the ratio of the
widths (int16 (2, 2) viewed as uint8 is (2, 4)). XLA's bitcast knows neither booleans nor
complex numbers, so booleans travel as uint8 (a bool target is ``byte != 0``, as NumPy reads a
nonzero byte) and complex numbers as their (real, imag) float pairs.
"""
from __future__ import annotations

import numpy as np

from jaxel import dtypes as _dtypes
from jaxel import lax
from jaxel.numpy._util import aval_of

_UINT8 = np.dtype(np.uint8)


def _merge_last(x, shape):
    return lax.reshape(x, shape[:-2] + (shape[-2] * shape[-1],))


def _to_real_view(x):
    """Booleans as uint8, complex as float pairs along the last axis: a bitcastable array with
    the same bytes."""
    a = aval_of(x)
    if a.dtype == np.bool_:
        return lax.convert_element_type(x, _UINT8)
    if _dtypes.is_complex(a.dtype):
        re, im = lax.real(x), lax.imag(x)
        pair = lax.concatenate([lax.expand_dims(re, (a.ndim,)), lax.expand_dims(im, (a.ndim,))],
                               a.ndim)
        return _merge_last(pair, a.shape + (2,))
    return x


def _bitcast(x, dt):
    """Bitcast a real (non-bool, non-complex) array to the real dtype ``dt``, changing the last
    axis by the width ratio."""
    a = aval_of(x)
    src, dst = a.dtype.itemsize, dt.itemsize
    if src == dst:
        return lax.bitcast_convert_type(x, dt)
    if src > dst:  # each element becomes src // dst elements along a new last axis
        out = lax.bitcast_convert_type(x, dt)
        return _merge_last(out, a.shape + (src // dst,))
    k = dst // src
    last = a.shape[-1]
    if last % k:
        raise ValueError(f"view: cannot view an array whose last axis has {last} elements of "
                         f"{a.dtype} as {dt}: its {last * src} bytes are not a multiple of "
                         f"{dst}.")
    x = lax.reshape(x, a.shape[:-1] + (last // k, k))
    return lax.bitcast_convert_type(x, dt)


def view(x, dtype=None):
    """``x``'s bytes reinterpreted as ``dtype`` (``x`` itself when ``dtype`` is None).

    Example::

        >>> jnp.array([1.0], jnp.float32).view(jnp.int32)
        Array([1065353216], dtype=int32)
    """
    if dtype is None:
        return x
    a = aval_of(x)
    dt = _dtypes.check_and_canonicalize_user_dtype(dtype, "view")
    if dt == a.dtype:
        return x
    if a.ndim == 0 and dt.itemsize != a.dtype.itemsize:
        raise ValueError(f"view() of a 0-d array cannot change the itemsize ({a.dtype} has "
                         f"{a.dtype.itemsize} bytes, {dt} has {dt.itemsize}).")
    if a.ndim and dt.itemsize > a.dtype.itemsize and (
            a.shape[-1] * a.dtype.itemsize) % dt.itemsize:
        raise ValueError(f"view: when changing to a larger dtype, its size ({dt.itemsize} bytes "
                         f"of {dt}) must divide the last axis's size in bytes "
                         f"({a.shape[-1]} x {a.dtype.itemsize}).")
    x = _to_real_view(x)
    if dt == np.bool_:
        return _nonzero(_bitcast(x, _UINT8))
    if _dtypes.is_complex(dt):
        part = np.dtype(np.float32 if dt == np.complex64 else np.float64)
        y = _bitcast(x, part) if aval_of(x).dtype != part else x
        s = aval_of(y).shape
        y = lax.reshape(y, s[:-1] + (s[-1] // 2, 2))
        n = len(s)
        re = lax.squeeze(lax.slice_in_dim(y, 0, 1, axis=n), (n,))
        im = lax.squeeze(lax.slice_in_dim(y, 1, 2, axis=n), (n,))
        return lax.complex(re, im)
    return _bitcast(x, dt)


def _nonzero(x):
    from jaxel.numpy.creation import zeros_like
    return lax.ne(x, zeros_like(x))
