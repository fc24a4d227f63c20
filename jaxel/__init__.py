"""jaxel: the JAX programming model, implemented independently in Python.

``import jaxel as jax`` and use ``jax.jit``, ``jax.numpy``, ``jax.lax``, ``jax.tree_util``...
The XLA runtime (from jaxlib) compiles and runs programs; everything above it is jaxel's own.
"""
from jaxel.config import config, disable_jit  # noqa: F401
from jaxel import dtypes  # noqa: F401
from jaxel.errors import (  # noqa: F401
    ConcretizationTypeError, TracerBoolConversionError, TracerIntegerConversionError,
    TracerArrayConversionError, UnexpectedTracerError,
)
from jaxel.tracing.avals import ShapedArray  # noqa: F401
from jaxel.tracing import eval_trace as _eval_trace  # noqa: F401  (installs the root trace)
from jaxel.runtime.array import Array  # noqa: F401
from jaxel import tree_util  # noqa: F401
from jaxel import tree  # noqa: F401
from jaxel import lax  # noqa: F401
from jaxel import dlpack  # noqa: F401
from jaxel import numpy  # noqa: F401
from jaxel import nn  # noqa: F401
from jaxel import random  # noqa: F401
from jaxel.api import jit, make_jaxpr, eval_shape, ShapeDtypeStruct, clear_caches  # noqa: F401
from jaxel.ad import (  # noqa: F401
    grad, value_and_grad, jvp, vjp, linearize, linear_transpose, jacfwd, jacrev, jacobian,
    hessian,
)
from jaxel.batching import vmap  # noqa: F401
from jaxel import test_util  # noqa: F401
from jaxel.custom_derivatives import custom_jvp, custom_vjp, closure_convert  # noqa: F401
from jaxel.custom_derivatives import custom_gradient  # noqa: F401
from jaxel import ad_checkpoint  # noqa: F401
from jaxel.ad_checkpoint import checkpoint, remat, checkpoint_policies  # noqa: F401
from jaxel.runtime.client import devices, local_devices, device_count, default_device  # noqa: F401
from jaxel.device import (  # noqa: F401
    device_put, device_get, block_until_ready, local_device_count, process_index,
    process_count, default_backend,
)
from jaxel import scipy  # noqa: F401

__version__ = "0.1.0"
