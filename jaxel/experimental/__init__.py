"""``jax.experimental``: for now ``io_callback`` (issue 15)."""
from jaxel.callbacks import io_callback  # noqa: F401
