"""Abstract values: what a traced array is known to be (shape, dtype, weak type).

``ShapedArray`` objects are *interned*: there is one object per distinct (shape, dtype,
weak_type). That makes equality an identity test and hashing C-level, which matters because
avals are part of every cache key on the dispatch path (jit and eager op caches).
"""
from __future__ import annotations

import numpy as np

from jaxel import dtypes as _dtypes

_interned: dict = {}


class ShapedArray:
    """The abstract value of an array: ``shape`` (tuple of ints), ``dtype`` (numpy dtype) and
    ``weak_type`` (True when it came from a Python scalar and adopts the dtype it meets).

    Example::

        >>> ShapedArray((3,), np.dtype('float32'))
        ShapedArray(float32[3])
    """

    __slots__ = ("shape", "dtype", "weak_type", "ndim", "size", "_str", "__weakref__")

    def __new__(cls, shape, dtype, weak_type=False):
        key = (shape, dtype, weak_type)
        try:
            return _interned[key]
        except KeyError:
            pass
        except TypeError:  # unhashable shape (a list): normalise and retry
            pass
        shape = tuple(int(d) for d in shape)
        dtype = np.dtype(dtype)
        weak_type = bool(weak_type)
        key2 = (shape, dtype, weak_type)
        self = _interned.get(key2)
        if self is None:
            self = object.__new__(cls)
            self.shape = shape
            self.dtype = dtype
            self.weak_type = weak_type
            self.ndim = len(shape)
            size = 1
            for d in shape:
                size *= d
            self.size = size
            self._str = None
            _interned[key2] = self
        try:
            _interned[key] = self
        except TypeError:
            pass
        return self

    def update(self, shape=None, dtype=None, weak_type=None) -> "ShapedArray":
        """Return the aval with some fields replaced."""
        return ShapedArray(self.shape if shape is None else shape,
                           self.dtype if dtype is None else dtype,
                           self.weak_type if weak_type is None else weak_type)

    def strip_weak_type(self) -> "ShapedArray":
        """The same aval, strongly typed."""
        return ShapedArray(self.shape, self.dtype, False) if self.weak_type else self

    def str_short(self) -> str:
        """JAX's short form, e.g. ``f32[3,4]``."""
        s = self._str
        if s is None:
            s = f"{_dtypes.short_name(self.dtype)}[{','.join(map(str, self.shape))}]"
            self._str = s
        return s

    def __repr__(self):
        weak = ", weak_type=True" if self.weak_type else ""
        return f"ShapedArray({self.dtype.name}[{','.join(map(str, self.shape))}]{weak})"

    def __str__(self):
        """JAX's form, with long dtype names and ``~`` marking a weak type: ``~float32[3]``."""
        name = self.dtype.name.replace("void", "float0")
        return f"{'~' if self.weak_type else ''}{name}[{','.join(map(str, self.shape))}]"

    def __reduce__(self):
        return (ShapedArray, (self.shape, self.dtype, self.weak_type))

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of unsized object")
        return self.shape[0]
