"""Experimental APIs (``jax.experimental``): ``multihost_utils`` and ``io_callback``.

Submodules load on import (``import jaxel.experimental.multihost_utils``), as in JAX.
"""
from jaxel.callbacks import io_callback  # noqa: F401
