"""``jaxel.scipy.optimize`` (JAX's ``jax.scipy.optimize``): ``minimize`` with BFGS, its
results as ``OptimizeResults``."""
from jaxel.scipy.optimize._minimize import OptimizeResults, minimize  # noqa: F401

__all__ = ["OptimizeResults", "minimize"]
