"""``jaxel.nn``: JAX's neural-network functions (activations, softmax family, one_hot,
dot_product_attention). Layers live in the ecosystem packages, not here."""
from jaxel.nn.functions import *  # noqa: F401,F403
from jaxel.nn import initializers  # noqa: F401,E402
