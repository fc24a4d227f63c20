"""DLPack interchange (``jax.dlpack``): share device buffers with other array libraries."""
from jaxel.runtime.transfer import from_dlpack  # noqa: F401


def to_dlpack(x, stream=None):
    """A DLPack capsule for the jaxel array ``x`` (prefer ``x.__dlpack__()``)."""
    return x.__dlpack__(stream=stream)


__all__ = ["from_dlpack", "to_dlpack"]
