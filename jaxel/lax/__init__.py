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
from jaxel.lax.split_stack import *  # noqa: F401,F403
from jaxel.lax.helpers import *  # noqa: F401,F403
from jaxel.lax.barriers import *  # noqa: F401,F403
from jaxel.lax.rng import *  # noqa: F401,F403
from jaxel.lax.approx_top_k import *  # noqa: F401,F403
from jaxel.lax.conv_helpers import *  # noqa: F401,F403
from jaxel.lax.dot_algorithms import *  # noqa: F401,F403
from jaxel.lax.ragged_scaled import *  # noqa: F401,F403
from jaxel.lax.generic_reduce import *  # noqa: F401,F403
from jaxel.lax.select_scatter import *  # noqa: F401,F403
from jaxel.lax.composite import *  # noqa: F401,F403
from jaxel.lax.tokens import *  # noqa: F401,F403
from jaxel.lax.special import *  # noqa: F401,F403
from jaxel.lax.pi_trig import *  # noqa: F401,F403
from jaxel.lax.arith_more import *  # noqa: F401,F403
from jaxel.lax.accuracy import AccuracyMode, Tolerance  # noqa: F401
from jaxel.lax import linalg  # noqa: F401,E402
from jaxel.lax.fft import fft, fft_p, FftType  # noqa: F401,E402
from jaxel.sharding.constraint import (  # noqa: F401,E402
    with_sharding_constraint, sharding_constraint_p,
)
from jaxel.sharding.device_put import device_put_p  # noqa: F401,E402
