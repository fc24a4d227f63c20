"""``jnp.float32`` and the other scalar types: classes whose call makes a jaxel Array.

As in JAX, ``jnp.int8(3)`` is an ``Array`` (so ``jnp.int8(3) + 1.0`` is a float32 computed by
jaxel, not a NumPy float64), while the type still stands for its dtype wherever one is expected:
``np.dtype(jnp.float32)``, ``dtype=jnp.float32``, ``x.dtype == jnp.float32``,
``isinstance(np.float32(1), jnp.float32)`` and dict lookups keyed by NumPy's type. jaxel's own
code keeps using NumPy's types (``jaxel.dtypes``); only the public ``jaxel.numpy`` names are
these wrappers.
"""
from __future__ import annotations

import numpy as np


class _ScalarType(type):
    """Metaclass of the scalar types: equality, hashing and isinstance follow the NumPy (or
    ml_dtypes) scalar type; calling converts to an Array of the dtype."""

    def __eq__(cls, other):
        return cls is other or cls._scalar_type == other

    def __ne__(cls, other):
        return not cls.__eq__(other)

    def __hash__(cls):
        return hash(cls._scalar_type)

    def __instancecheck__(cls, obj):
        return isinstance(obj, cls._scalar_type)

    def __call__(cls, x=0, /):
        from jaxel.numpy.creation import asarray
        return asarray(x, dtype=cls.dtype)

    def __repr__(cls):
        return f"<class 'jaxel.numpy.{cls.__name__}'>"


def scalar_type(name: str, np_type) -> type:
    """The ``jaxel.numpy`` scalar type called ``name`` for the NumPy scalar type ``np_type``."""
    return _ScalarType(name, (), {
        "dtype": np.dtype(np_type), "_scalar_type": np_type, "__module__": "jaxel.numpy",
        "__doc__": f"The scalar type of dtype {np.dtype(np_type).name}: a dtype wherever one "
                   f"is expected; calling it makes a jaxel Array of that dtype."})


def wrap_namespace(ns: dict, names) -> None:
    """Replace each NumPy scalar type named in ``names`` in the namespace ``ns`` by its
    wrapper (names that are not scalar types there are left alone)."""
    for name in names:
        t = ns.get(name)
        if isinstance(t, type) and issubclass(t, np.generic):
            ns[name] = scalar_type(name, t)
