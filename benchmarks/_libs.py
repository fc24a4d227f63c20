"""Loading the libraries under comparison; a missing one becomes ``NotAvailable``, not a crash.

Run options (``--no-torch``) are applied by ``__main__`` through ``disable``.
"""
from __future__ import annotations

import importlib

from benchmarks._timing import NotAvailable

_disabled: dict = {}


def disable(name: str, reason: str) -> None:
    """Treat library ``name`` as unavailable for this run (e.g. ``--no-torch``)."""
    _disabled[name] = reason


def disabled_reason(name: str):
    """Why ``name`` is switched off for this run, or None."""
    return _disabled.get(name)


def load(name: str):
    """Import ``name`` (``jaxel``, ``jax`` or ``torch``) or raise NotAvailable with the reason."""
    if name in _disabled:
        raise NotAvailable(_disabled[name])
    try:
        return importlib.import_module(name)
    except ImportError as e:
        hint = " (pip install torch to compare)" if name == "torch" else ""
        raise NotAvailable(f"{name} not installed{hint}: {e}") from None


def version(name: str) -> str:
    """``name``'s version string, or a short reason it is unavailable."""
    try:
        from importlib.metadata import version as v
        return v(name)
    except Exception:
        return "not installed"
