"""Debugging helpers (``jax.debug``).

For now only the sharding helpers of issue 14: ``visualize_array_sharding``,
``visualize_sharding`` (a text picture of which device holds which block of an array) and
``inspect_array_sharding``; and from issue 15 the host callbacks ``callback``, ``print`` and
``breakpoint`` (``callbacks.py``).
"""
from jaxel.debug.sharding_viz import (  # noqa: F401
    inspect_array_sharding, visualize_array_sharding, visualize_sharding,
)
from jaxel.debug import inspect_sharding as _inspect_sharding  # noqa: F401  (its primitive)
from jaxel.debug.callbacks import breakpoint, callback, print  # noqa: F401,A004
