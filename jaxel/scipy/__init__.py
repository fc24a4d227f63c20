"""``jaxel.scipy`` (JAX's ``jax.scipy``): special functions, statistical distributions,
integration and signal processing, all compositions of ``jaxel.lax``/``jaxel.numpy``."""
from jaxel.scipy import special  # noqa: F401
from jaxel.scipy import stats  # noqa: F401
from jaxel.scipy import integrate  # noqa: F401
from jaxel.scipy import signal  # noqa: F401

try:
    from jaxel.scipy import linalg  # noqa: F401
except ImportError:
    pass
