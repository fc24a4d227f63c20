"""Shared helpers of the distributions: dtype promotion and location-scale standardisation."""
from __future__ import annotations

from jaxel import numpy as jnp
from jaxel.scipy.special import _promote, _promote_bcast  # noqa: F401


def standardize(x, loc, scale):
    """``(x - loc) / scale`` and ``log(scale)`` in the common float dtype."""
    x, loc, scale = _promote(x, loc, scale)
    return (x - loc) / scale, jnp.log(scale)


def discrete(k, *params):
    """Promoted ``k`` and parameters (pmfs take integer or float ``k``)."""
    return _promote(k, *params)
