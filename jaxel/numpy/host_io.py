"""Host-side constructors, file I/O and printing helpers of ``jax.numpy``.

These read or write host memory, so they go through NumPy by nature (JAX's do too): the data
is parsed on the host once and transferred with ``asarray``; arrays are saved via
``np.asarray``. Printing options are NumPy's own, since jaxel arrays print through NumPy.
"""
from __future__ import annotations

import numpy as np

__all__ = ["frombuffer", "fromfile", "fromiter", "fromstring", "load", "save", "savez",
           "array_repr", "array_str", "get_printoptions", "set_printoptions", "printoptions",
           "ComplexWarning"]

# Printing goes through NumPy's repr of the host copy, so its options are NumPy's.
get_printoptions = np.get_printoptions
set_printoptions = np.set_printoptions
printoptions = np.printoptions
ComplexWarning = np.exceptions.ComplexWarning


def _asarray(x, dtype=None):
    from jaxel.numpy import asarray
    return asarray(x, dtype=dtype)


def frombuffer(buffer, dtype=float, count=-1, offset=0):
    """An array from the bytes of ``buffer`` (``jax.numpy.frombuffer``), interpreted as
    ``dtype`` (default float, canonicalised like every jaxel dtype)."""
    return _asarray(np.frombuffer(buffer, dtype=dtype, count=count, offset=offset))


def fromstring(string, dtype=float, count=-1, *, sep):
    """An array parsed from text ``string`` with separator ``sep`` (``jax.numpy.fromstring``)."""
    return _asarray(np.fromstring(string, dtype=dtype, count=count, sep=sep))


def fromfile(*args, **kwargs):
    """An array read from a file by ``numpy.fromfile`` (``jax.numpy.fromfile``)."""
    return _asarray(np.fromfile(*args, **kwargs))


def fromiter(iterable, dtype, count=-1, *, like=None):
    """An array from the values of a Python iterable (``jax.numpy.fromiter``)."""
    if like is not None:
        raise NotImplementedError("jnp.fromiter: the like argument is not supported.")
    return _asarray(np.fromiter(iterable, dtype=dtype, count=count))


def load(file, *args, **kwargs):
    """``numpy.load``, with arrays returned as jaxel arrays (``.npz`` archives and object
    arrays come back as NumPy objects, as in JAX)."""
    out = np.load(file, *args, **kwargs)
    if isinstance(out, np.ndarray) and out.dtype != object:
        return _asarray(out)
    return out


def save(file, arr, allow_pickle=True):
    """``numpy.save`` of the host copy of ``arr``."""
    np.save(file, np.asarray(arr), allow_pickle=allow_pickle)


def savez(file, *args, **kwds):
    """``numpy.savez`` of the host copies of the arrays."""
    np.savez(file, *[np.asarray(a) for a in args], **{k: np.asarray(v) for k, v in kwds.items()})


def array_repr(arr, max_line_width=None, precision=None, suppress_small=None):
    """NumPy's ``array_repr`` of the host copy of ``arr``."""
    return np.array_repr(np.asarray(arr), max_line_width, precision, suppress_small)


def array_str(a, max_line_width=None, precision=None, suppress_small=None):
    """NumPy's ``array_str`` of the host copy of ``a``."""
    return np.array_str(np.asarray(a), max_line_width, precision, suppress_small)
