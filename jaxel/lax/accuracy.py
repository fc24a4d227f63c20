"""``lax.Tolerance`` and ``lax.AccuracyMode``: the ``accuracy=`` argument of JAX's
transcendental functions (``exp``, ``log``, ``sin``, ``tanh``, ``sqrt``...).

In JAX the argument selects among several implementations of an operation where the compiler
has more than one (TPU). XLA's CPU backend has a single implementation of each, and jaxel runs
on it, so jaxel validates the argument (JAX's types and errors) and otherwise ignores it: the
results are those of the default implementation.
"""
from __future__ import annotations

import enum

__all__ = ["Tolerance", "AccuracyMode"]


class Tolerance:
    """Tolerances for the result of a unary function: at most two of ``atol``, ``rtol`` and
    ``ulps`` (atol and rtol, or atol and ulps), all non-negative, at least one non-zero."""

    def __init__(self, atol: float = 0.0, rtol: float = 0.0, ulps: int = 0):
        if atol < 0.0 or rtol < 0.0 or ulps < 0:
            raise ValueError("Tolerances must be non-negative.")
        if atol == 0.0 and rtol == 0.0 and ulps == 0:
            raise ValueError("At least one of atol, rtol, or ulps must be set.")
        self.atol = atol
        self.rtol = rtol
        self.ulps = ulps

    def __repr__(self):
        return f"Tolerance(atol={self.atol}, rtol={self.rtol}, ulps={self.ulps})"


class AccuracyMode(enum.Enum):
    """Ask for the most accurate implementation (``HIGHEST``) or the default one."""
    HIGHEST = 1
    DEFAULT = 2


def check_accuracy(name: str, accuracy):
    """NotImplementedError (JAX's class) unless ``accuracy`` is None, a ``Tolerance`` or an
    ``AccuracyMode``."""
    if accuracy is None or isinstance(accuracy, (Tolerance, AccuracyMode)):
        return
    raise NotImplementedError(f"Accuracy {accuracy!r} not supported by lax.{name}: pass None, "
                              "a lax.Tolerance or a lax.AccuracyMode.")
