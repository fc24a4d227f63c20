"""jaxel's version, and the version of JAX whose API it implements.

``jaxel.version.__version__`` is jaxel's own release (as ``jax.version.__version__`` is JAX's);
``jax_version`` names the JAX release whose public API, dtypes and behaviour jaxel follows.
"""
from __future__ import annotations

_version = "0.1.0"
__version__ = _version

#: The JAX release whose API jaxel implements (names, signatures, dtype rules, errors).
jax_version = "0.12.1"


def _version_as_tuple(version: str) -> tuple:
    """``'0.1.0'`` -> ``(0, 1, 0)``; a suffix such as ``.dev1`` is dropped."""
    parts = []
    for piece in version.split("."):
        if not piece.isdigit():
            break
        parts.append(int(piece))
    return tuple(parts)


__version_info__ = _version_as_tuple(__version__)
