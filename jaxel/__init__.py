"""jaxel: the JAX programming model, implemented independently in Python.

``import jaxel as jax`` and use ``jax.jit``, ``jax.numpy``, ``jax.lax``, ``jax.tree_util``...
The XLA runtime (from jaxlib) compiles and runs programs; everything above it is jaxel's own.
"""
from jaxel.config import (  # noqa: F401
    config, disable_jit, enable_x64, default_matmul_precision, numpy_rank_promotion,
    numpy_dtype_promotion, debug_key_reuse, explain_cache_misses, threefry_partitionable,
    default_prng_impl, enable_checks, enable_custom_prng, legacy_prng_key, softmax_custom_jvp,
    allow_f16_reductions, jax2tf_associative_scan_reductions,
)
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
    process_count, process_indices, host_id, host_count, host_ids, default_backend,
)
from jaxel import distributed  # noqa: F401
from jaxel import scipy  # noqa: F401
from jaxel import image, ops  # noqa: F401
from jaxel import debug  # noqa: F401
from jaxel.callbacks import pure_callback  # noqa: F401
from jaxel import avals, custom_batching, typing, version  # noqa: F401
from jaxel.dtypes import float0  # noqa: F401
from jaxel._toplevel import (  # noqa: F401
    typeof, copy_to_host_async, fwd_and_bwd, Inline, CompilerEffortLevel,
)
from jaxel._compile_time_eval import ensure_compile_time_eval  # noqa: F401
from jaxel._dslice import ds  # noqa: F401
from jaxel.version import __version_info__, jax_version  # noqa: F401
from jaxel import sharding  # noqa: F401
from jaxel.sharding import NamedSharding, P, make_mesh, set_mesh, get_mesh  # noqa: F401
from jaxel.sharding import get_abstract_mesh, use_abstract_mesh  # noqa: F401
from jaxel.sharding.api import (  # noqa: F401
    make_array_from_callback, make_array_from_single_device_arrays,
    make_array_from_process_local_data, reshard,
)
from jaxel.runtime.sharded import Shard  # noqa: F401
from jaxel.parallel import shard_map, smap, pmap  # noqa: F401
from jaxel import memory  # noqa: F401
from jaxel.config import remove_size_one_mesh_axis_from_type, auto_pcast  # noqa: F401
from jaxel import monitoring  # noqa: F401
from jaxel.guards import (  # noqa: F401
    transfer_guard, transfer_guard_host_to_device, transfer_guard_device_to_host,
    transfer_guard_device_to_device,
)
from jaxel.introspection import live_arrays, print_environment_info  # noqa: F401
from jaxel.config import log_compiles  # noqa: F401

__version__ = "0.1.0"


def __getattr__(name):
    # ``Device`` is jaxlib's device class; jaxlib loads only when first needed (import speed).
    if name == "Device":
        from jaxel.runtime.xla import _jax
        return _jax.Device
    if name == "experimental":  # loaded on first use, as in JAX (import speed)
        import importlib
        return importlib.import_module("jaxel.experimental")
    if name == "profiler":  # loads jaxlib's profiler runtime: only when asked for
        import importlib
        return importlib.import_module("jaxel.profiler")
    raise AttributeError(f"module 'jaxel' has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), "Device", "experimental", "profiler"})
