"""Experimental APIs (``jax.experimental``): for now ``multihost_utils``.

Submodules load on import (``import jaxel.experimental.multihost_utils``), as in JAX.
"""
