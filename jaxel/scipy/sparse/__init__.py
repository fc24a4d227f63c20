"""``jaxel.scipy.sparse`` (JAX's ``jax.scipy.sparse``): matrix-free iterative solvers in
``linalg``."""
from jaxel.scipy.sparse import linalg  # noqa: F401
