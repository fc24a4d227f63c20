"""``jaxel.scipy.spatial`` (JAX's ``jax.scipy.spatial``): the ``transform`` submodule with
``Rotation`` and ``Slerp``."""
from jaxel.scipy.spatial import transform  # noqa: F401

__all__ = ["transform"]
