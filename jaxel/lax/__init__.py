"""``jaxel.lax``: the primitive operations, with ``jax.lax``'s names and signatures.

Each family module declares its primitives with all their rules; this package re-exports the
public wrappers and the ``*_p`` primitive objects.
"""
from jaxel.lax.elementwise import *  # noqa: F401,F403
from jaxel.lax.shape_ops import *  # noqa: F401,F403
from jaxel.lax.slicing import *  # noqa: F401,F403
from jaxel.lax.reductions import *  # noqa: F401,F403
from jaxel.lax.windowed import *  # noqa: F401,F403
from jaxel.lax.dot_conv import *  # noqa: F401,F403
from jaxel.lax.ad_ops import *  # noqa: F401,F403
from jaxel.lax.parallel import *  # noqa: F401,F403
from jaxel.lax.control_flow import *  # noqa: F401,F403
from jaxel.lax.special import *  # noqa: F401,F403
from jaxel.lax.pi_trig import *  # noqa: F401,F403
from jaxel.lax.arith_more import *  # noqa: F401,F403
from jaxel.lax.accuracy import AccuracyMode, Tolerance  # noqa: F401
from jaxel.lax import linalg  # noqa: F401,E402
from jaxel.lax.fft import fft, fft_p, FftType  # noqa: F401,E402
