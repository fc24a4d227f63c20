"""``jaxel.typing``: static type annotations for code written against jaxel.

* ``ArrayLike``: anything that converts implicitly to a jaxel array: ``jaxel.Array`` (and
  tracers, which count as Arrays), NumPy arrays and scalars, and Python ``bool``, ``int``,
  ``float``, ``complex``.  It is a ``Union``, so ``isinstance(x, ArrayLike)`` works at run time.
* ``DTypeLike``: anything that names a dtype: a string (``'float32'``), a scalar type
  (``float``, ``np.float32``), a ``np.dtype``, or an object with a ``dtype`` attribute.

Example::

    from jaxel import Array
    from jaxel.typing import ArrayLike

    def f(x: ArrayLike) -> Array:
        ...
"""
from __future__ import annotations

from typing import Any, Protocol, Union, runtime_checkable

import numpy as np

from jaxel.runtime.array import Array


@runtime_checkable
class SupportsDType(Protocol):
    """An object with a ``dtype`` attribute (``jnp.float32``, an array...)."""

    @property
    def dtype(self) -> np.dtype: ...


# A Union (not a Protocol) so that isinstance checks and static checkers agree, as in JAX.
ArrayLike = Union[Array, np.ndarray, np.bool_, np.number, bool, int, float, complex]

DTypeLike = Union[str, type[Any], np.dtype, SupportsDType]

__all__ = ["ArrayLike", "DTypeLike"]
