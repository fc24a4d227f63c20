"""Array API standard metadata for ``jaxel.numpy``: ``__array_api_version__`` and
``__array_namespace_info__`` (the inspection API: capabilities, devices, default dtypes and the
dtype kinds)."""
from __future__ import annotations

import numpy as np

from jaxel import dtypes as _dtypes

__array_api_version__ = "2025.12"

_KINDS = {
    "bool": ("bool",),
    "signed integer": ("int8", "int16", "int32", "int64"),
    "unsigned integer": ("uint8", "uint16", "uint32", "uint64"),
    "real floating": ("float32", "float64"),
    "complex floating": ("complex64", "complex128"),
}
_KINDS["integral"] = _KINDS["signed integer"] + _KINDS["unsigned integer"]
_KINDS["numeric"] = _KINDS["integral"] + _KINDS["real floating"] + _KINDS["complex floating"]


class ArrayNamespaceInfo:
    """What ``jaxel.numpy.__array_namespace_info__()`` returns."""

    def capabilities(self):
        """As JAX reports: no boolean indexing or data-dependent output shapes (they cannot
        be traced; the eager-only forms and ``size=`` are extensions), rank up to 64."""
        return {"boolean indexing": False, "data-dependent shapes": False,
                "max dimensions": 64}

    def default_device(self):
        """The default device."""
        from jaxel.runtime.client import default_device
        return default_device()

    def devices(self):
        """The devices arrays can live on, as a tuple (the 2025.12 spec's return type; earlier
        versions and JAX return a list)."""
        from jaxel.runtime.client import devices
        return tuple(devices())

    def default_dtypes(self, *, device=None):
        """Default dtypes for real floats, complex floats, integers and indices (32-bit unless
        x64 is enabled, as in JAX)."""
        f = _dtypes.default_float_dtype()
        i = _dtypes.canonicalize_dtype(np.int64)
        c = _dtypes.canonicalize_dtype(np.complex128)
        return {"real floating": f, "complex floating": c, "integral": i, "indexing": i}

    def dtypes(self, *, device=None, kind=None):
        """The dtypes of ``kind`` (a name, a tuple of names, or None for all) available now
        (64-bit types only with x64)."""
        if kind is None:
            names = ("bool",) + _KINDS["numeric"]
        elif isinstance(kind, tuple):
            names = tuple(n for k in kind for n in _KINDS[k])
        else:
            if kind not in _KINDS:
                raise ValueError(f"__array_namespace_info__().dtypes: unknown kind {kind!r}.")
            names = _KINDS[kind]
        out = {}
        for n in names:
            dt = np.dtype(n)
            if _dtypes.canonicalize_dtype(dt) == dt:
                out[n] = dt
        return out


def __array_namespace_info__():
    """The Array API inspection namespace."""
    return ArrayNamespaceInfo()


__all__ = ["__array_api_version__", "__array_namespace_info__"]
