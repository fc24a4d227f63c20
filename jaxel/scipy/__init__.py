"""``jaxel.scipy`` (JAX's ``jax.scipy``): special functions, statistical distributions,
integration, signal processing, n-d interpolation (``ndimage``) and minimisation
(``optimize``), Krylov solvers (``sparse.linalg``), discrete cosine transforms (``fft``),
grid interpolation (``interpolate``), vector quantisation (``cluster.vq``) and 3-D rotations
(``spatial.transform``), all compositions of ``jaxel.lax``/``jaxel.numpy``."""
from jaxel.scipy import special  # noqa: F401
from jaxel.scipy import stats  # noqa: F401
from jaxel.scipy import integrate  # noqa: F401
from jaxel.scipy import signal  # noqa: F401
from jaxel.scipy import ndimage  # noqa: F401
from jaxel.scipy import optimize  # noqa: F401
from jaxel.scipy import fft  # noqa: F401
from jaxel.scipy import interpolate  # noqa: F401
from jaxel.scipy import cluster  # noqa: F401
from jaxel.scipy import spatial  # noqa: F401
from jaxel.scipy import sparse  # noqa: F401

try:
    from jaxel.scipy import linalg  # noqa: F401
except ImportError:
    pass
