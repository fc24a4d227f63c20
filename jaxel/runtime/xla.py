"""The jaxlib objects jaxel uses, imported in one place (and only when first needed)."""
from __future__ import annotations

import os
import sys

# XLA's C++ logging prints "I... pjrt_client.cc" lines when a client is created; its level is
# read when the library loads, so set it before importing jaxlib (unless the user chose one).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")

from jaxlib import _jax, xla_client as xc  # noqa: E402,F401


class _Sharding(_jax.SingleDeviceSharding):
    """A single-device sharding with the callbacks the C++ runtime makes into Python.

    JAX adds these attributes to jaxlib's own class; defining them on our subclass keeps the two
    libraries from colliding when both are imported (tests that use JAX as an oracle).
    """

    is_fully_replicated = True
    is_fully_addressable = True
    memory_kind = None

    def _to_xla_hlo_sharding(self, ndim):
        return xc.HloSharding.replicate()

    @property
    def _device_assignment(self):
        return (self._device,)

    def shard_shape(self, shape):
        return shape


def single_device_sharding(device):
    """A sharding that places a whole array on ``device``."""
    return _Sharding(device)  # jaxlib's class exposes the device as `_device`


def result_handler(aval, sharding):
    """A C++ handler that turns one raw executable output into a device array.

    ``execute_sharded(...).consume_with_handlers(handlers)`` with these is ~2 µs faster per call
    than disassembling results into Python lists (measured: 4.0 vs 6.2 µs for a scalar add).
    """
    return _jax.array_result_handler(aval, sharding, False)


def device_put_numpy(value, aval, device, sharding):
    """Copy a NumPy array to ``device``; returns the runtime buffer."""
    return _jax.batched_device_put(aval, sharding, [value], [device], True, False,
                                   enable_x64=True)


class _Capsule:
    """Hands an existing DLPack capsule to ``np.from_dlpack``, which asks an object for one."""

    __slots__ = ("capsule",)

    def __init__(self, capsule):
        self.capsule = capsule

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        return self.capsule

    def __dlpack_device__(self):
        return (1, 0)  # kDLCPU


#: dtypes XLA has no DLPack code for (sub-byte types) -> the wider dtype that holds every value,
#: to read them back through.
NO_DLPACK = {"int2": "int8", "int4": "int8", "uint2": "uint8", "uint4": "uint8",
             "float4_e2m1fn": "float32"}


def host_copy(buf, platform: str):
    """A host NumPy copy of a device buffer.

    Why not jaxlib's ``_single_device_array_to_np_array_did_copy``: in 0.12.1 it builds a helper
    array whose construction asks Python for ``jax.core.ShapedArray`` (once per process) and
    ``jax._src.sharding_impls.make_single_device_sharding`` (on every copy), so it imports JAX when
    JAX is installed (0.6 s, 215 modules) and pays for a failed import when it is not. DLPack export
    asks Python for nothing.
    """
    if platform == "cpu":
        import numpy as np
        # Copied out of the DLPack view at once: while a view holds its external reference, PJRT
        # aborts the process on `buf.delete()`.
        return np.array(np.from_dlpack(_Capsule(_jax.buffer_to_dlpack_managed_tensor(buf))))
    with _no_jax_import():
        return buf._single_device_array_to_np_array_did_copy()[0]


class _no_jax_import:
    """Makes jaxlib's imports of JAX modules fail fast, unless JAX is already loaded.

    Only for the GPU host copy, where no DLPack path to host memory exists. A failed import leaves
    jaxlib's cached ``jax.core.ShapedArray`` empty for the process; jaxel never reads the avals
    jaxlib makes, and a JAX imported later in the same process would see ``None`` for them.
    """

    _NAMES = ("jax.core", "jax._src.sharding_impls")

    def __enter__(self):
        self.added = [n for n in self._NAMES if "jax" not in sys.modules and n not in sys.modules]
        for n in self.added:
            sys.modules[n] = None  # `import n` now raises ImportError at once
        return self

    def __exit__(self, *exc):
        for n in self.added:
            if sys.modules.get(n, 0) is None:
                del sys.modules[n]


def copy_to_host_async(buf, platform: str):
    """Start a device-to-host copy (a no-op for CPU buffers, whose memory is the host's)."""
    if platform != "cpu":
        with _no_jax_import():
            buf._copy_single_device_array_to_host_async()


def compile_options(devices, num_replicas: int = 1, spmd: bool = False):
    """XLA's CompileOptions for a program on ``devices``: replicated over ``num_replicas`` of
    them, or (``spmd``) partitioned over all of them (one partition each, in order)."""
    import numpy as np
    opts = xc.CompileOptions()
    if spmd:
        eb = opts.executable_build_options
        eb.num_replicas = 1
        eb.num_partitions = len(devices)
        eb.use_spmd_partitioning = True
        eb.use_shardy_partitioner = True
        eb.device_assignment = xc.DeviceAssignment.create(
            np.array([d.id for d in devices]).reshape(1, len(devices)))
    elif num_replicas > 1:
        opts.num_replicas = num_replicas
        opts.device_assignment = xc.DeviceAssignment.create(
            np.array([d.id for d in devices]).reshape(num_replicas, 1))
    elif devices[0].id != 0:
        # The default assignment is device 0; name the device this program must run on.
        opts.device_assignment = xc.DeviceAssignment.create(np.array([[devices[0].id]]))
    return opts


def compile_text(client, text: str, devices, num_replicas: int = 1):
    """Compile StableHLO ``text`` for ``devices``; returns a loaded executable."""
    return _compile(client, text, devices, compile_options(devices, num_replicas))


def _compile(client, text: str, devices, opts):
    from jaxel.runtime import host_callbacks
    if host_callbacks.has_callbacks(text):
        return host_callbacks.compile_with_callbacks(client, text, devices, opts)
    return client.compile_and_load(text, xc.DeviceList(tuple(devices)), opts)


def jaxlib_version() -> str:
    """The installed jaxlib's version string."""
    from jaxlib import version
    return version.__version__


def serialize_executable(exe) -> bytes:
    """The bytes of a compiled executable (for the persistent compilation cache)."""
    return exe.serialize()


def deserialize_executable(client, data: bytes, devices, num_replicas: int = 1,
                           spmd: bool = False):
    """A loaded executable from :func:`serialize_executable`'s bytes, for ``devices``."""
    return client.deserialize_executable(data, xc.DeviceList(tuple(devices)),
                                         compile_options(devices, num_replicas, spmd))


class _MultiDeviceSharding(_jax.GSPMDSharding):
    """A sharding over several devices, with the callbacks the C++ runtime makes into Python.

    Built from a jaxel Sharding's tile assignment (``runtime/sharded.py``); ``_shard_shape`` is
    set per instance.
    """

    memory_kind = None

    @property
    def is_fully_replicated(self):
        return self._hlo_sharding.is_replicated()

    @property
    def is_fully_addressable(self):
        return self._fully_addressable

    def _to_xla_hlo_sharding(self, ndim):
        return self._hlo_sharding

    @property
    def _device_assignment(self):
        return tuple(self._devices)

    def shard_shape(self, shape):
        return self._shard_shape(tuple(shape))


def hlo_sharding(tiles, replicas, positions):
    """XLA's HloSharding for a tile assignment (``positions`` index the device assignment)."""
    import numpy as np
    if all(t == 1 for t in tiles):
        return xc.HloSharding.replicate()
    op = xc.OpSharding()
    op.type = xc.OpSharding.Type.OTHER
    dims = list(tiles) + ([replicas] if replicas > 1 else [])
    op.tile_assignment_dimensions = dims
    op.tile_assignment_devices = [int(p) for p in np.asarray(positions).reshape(-1)]
    if replicas > 1:
        op.replicate_on_last_tile_dim = True
    return xc.HloSharding.from_proto(op)


def tile_assignment_of(op_sharding, ndim, num_devices):
    """``(tiles, replicas, positions)`` of an OpSharding XLA reports for an ``ndim``-d value;
    None for shardings jaxel does not model (manual, maximal on one device is position only)."""
    import numpy as np
    hs = xc.HloSharding.from_proto(op_sharding)
    if hs.is_replicated():
        return (1,) * ndim, num_devices, np.arange(num_devices)
    if hs.is_maximal():
        dev = hs.tile_assignment_devices()[0]
        return "maximal", dev, None
    if not hs.is_tiled() or hs.subgroup_types() and not hs.replicate_on_last_tile_dim():
        return None
    dims = list(hs.tile_assignment_dimensions())
    devices = np.asarray(hs.tile_assignment_devices(), dtype=np.int64)
    replicas = 1
    if hs.replicate_on_last_tile_dim():
        replicas = dims.pop()
    if len(dims) != ndim:
        return None
    return tuple(dims), replicas, devices.reshape(tuple(dims) + (replicas,))


def multi_device_sharding(devices, hlo, shard_shape, fully_addressable=True):
    """The runtime sharding object over ``devices`` (in program order) for ``hlo``."""
    s = _MultiDeviceSharding(xc.DeviceList(tuple(devices)), hlo)
    s._shard_shape = shard_shape
    s._fully_addressable = fully_addressable
    return s


def put_shards(aval, sharding, values, devices):
    """One multi-device runtime array from per-device NumPy blocks (in ``sharding``'s order)."""
    return _jax.batched_device_put(aval, sharding, values, list(devices), True, False,
                                   enable_x64=True)


def device_buffers(buf):
    """The per-device single-device buffers of a runtime array, in its sharding's device order.

    jaxlib builds these through Python hooks that import JAX; the guard refuses those imports
    (jaxel never reads the avals or shardings jaxlib attaches to them).
    """
    with _no_jax_import():
        return buf._arrays


def assemble(aval, sharding, bufs):
    """One multi-device runtime array from single-device buffers (in ``sharding``'s order)."""
    return _jax.ArrayImpl(aval, sharding, list(bufs), True, True)


def rewrap(buf, aval, sharding):
    """The same device buffer with another aval and (single-device) runtime sharding."""
    return buf._rewrap_with_aval_and_sharding(aval, sharding)


def compile_spmd(client, text: str, devices):
    """Compile a program partitioned over ``devices`` (one partition per device, in order) by
    XLA's Shardy partitioner."""
    return _compile(client, text, devices, compile_options(devices, spmd=True))


def sharded_result_handler(aval, sharding):
    """A C++ handler turning one output of a partitioned program into a multi-device array."""
    return _jax.array_result_handler(aval, sharding, True)


def output_op_shardings(exe):
    """The OpSharding XLA chose for each output of a partitioned executable."""
    return exe.get_output_shardings()
