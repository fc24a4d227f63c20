"""``jaxel.nn``: JAX's neural-network functions (activations, softmax family, one_hot,
dot_product_attention). Layers live in the ecosystem packages, not here."""
from jaxel.nn.functions import *  # noqa: F401,F403
from jaxel.nn import initializers  # noqa: F401,E402
from jaxel.nn.scaled import (  # noqa: F401,E402
    get_scaled_dot_general_config, scaled_dot_general, scaled_matmul)
