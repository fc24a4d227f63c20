"""``jaxel.image``: image resampling (``resize``, ``scale_and_translate``, ``ResizeMethod``),
as in ``jax.image``."""
from jaxel.image.scale import ResizeMethod, resize, scale_and_translate  # noqa: F401

__all__ = ["ResizeMethod", "resize", "scale_and_translate"]
