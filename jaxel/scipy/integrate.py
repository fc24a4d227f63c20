"""``jaxel.scipy.integrate`` (JAX's ``jax.scipy.integrate``)."""
from __future__ import annotations

from jaxel import numpy as jnp

__all__ = ["trapezoid"]


def trapezoid(y, x=None, dx=1.0, axis=-1):
    """Integral of ``y`` along ``axis`` by the trapezoidal rule, with sample points ``x`` or
    uniform spacing ``dx``."""
    return jnp.trapezoid(y, x=x, dx=dx, axis=axis)
