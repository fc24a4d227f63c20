"""``jaxel.scipy.cluster`` (JAX's ``jax.scipy.cluster``): the ``vq`` submodule (vector
quantisation)."""
from jaxel.scipy.cluster import vq  # noqa: F401

__all__ = ["vq"]
