"""Helpers for programs that run as many processes (``jax.experimental.multihost_utils``).

Every process calls these functions in the same order with pytrees of the same structure,
shapes and dtypes (SPMD style). Small host values travel through the coordination service's
key-value store (``_host_exchange.py``); large ones as global Arrays, one row per process,
through one jitted XLA collective. With one process every function works on the local values
and needs no ``jaxel.distributed.initialize``.
"""
from __future__ import annotations

import contextlib
import zlib

import numpy as np

from jaxel.experimental._host_exchange import exchange, gather_sources
from jaxel.tree_util import tree_map

# Values this large go through the devices (one XLA collective over Gloo: ~10x faster from
# 1 MB on); smaller ones through the key-value store (no compile, a few ms). Shapes and dtypes
# agree across processes, so every process picks the same path.
_DEVICE_MIN_BYTES = 1 << 16


def _process_count():
    from jaxel.device import process_count
    return process_count()


def _host_array(x):
    """``x`` as a NumPy array of the dtype a jaxel Array of it would have."""
    from jaxel.runtime.array import Array
    from jaxel.runtime.transfer import canonical_numpy
    if isinstance(x, Array):
        if not _fully_addressable(x):
            raise ValueError(
                "multihost_utils: this array spans devices of other processes; pass this "
                "process's own data (for example x.addressable_shards[0].data), or gather it "
                "with process_allgather(x, tiled=True).")
        return np.asarray(x)
    if type(x) in (int, float, complex, bool):
        from jaxel.numpy import asarray
        return np.asarray(asarray(x))
    return canonical_numpy(np.asarray(x))


def _fully_addressable(x) -> bool:
    return getattr(x, "is_fully_addressable", True)


def process_allgather(in_tree, tiled: bool = False):
    """Gather every process's values: NumPy arrays stacked (or, with ``tiled``, concatenated)
    along a new (or the first) axis, in process order.

    Args:
      in_tree: a pytree of arrays; each leaf must have the same shape on every process.
      tiled: concatenate along axis 0 instead of stacking on a new axis 0 (scalars are always
        stacked).

    Returns:
      A pytree of NumPy arrays of the same structure.

    Example::

        >>> process_allgather(jnp.float32(jaxel.process_index()))  # on 2 processes
        array([0., 1.], dtype=float32)
    """
    from jaxel.tree_util import tree_flatten, tree_unflatten
    leaves, treedef = tree_flatten(in_tree)
    if _process_count() == 1:
        out = []
        for x in leaves:
            if not _fully_addressable(x) and not tiled:
                raise ValueError("Gathering global non-fully-addressable arrays only supports "
                                 "tiled=True")
            v = np.asarray(x)
            out.append(v if tiled else np.expand_dims(v, 0))
        return tree_unflatten(treedef, out)
    local = [i for i, x in enumerate(leaves) if _fully_addressable(x)]
    if len(local) < len(leaves) and not tiled:
        raise ValueError("Gathering global non-fully-addressable arrays only supports "
                         "tiled=True")
    out = [None if i in local else _replicated_value(x) for i, x in enumerate(leaves)]
    values = {i: _host_array(leaves[i]) for i in local}
    small = [i for i in local if values[i].nbytes < _DEVICE_MIN_BYTES]
    for i in local:
        if i not in small:  # stacked on the devices, then replicated by one XLA all-gather
            stacked = _replicated_value(_stacked_over_processes(values[i]))
            out[i] = stacked if not tiled or values[i].ndim == 0 else \
                stacked.reshape((-1,) + values[i].shape[1:])
    lifted = [values[i][None] if values[i].ndim == 0 or not tiled else values[i]
              for i in small]
    per_process = exchange(lifted) if lifted else []
    for j, i in enumerate(small):
        out[i] = np.concatenate([p[j] for p in per_process], axis=0)
    return tree_unflatten(treedef, out)


def _process_mesh():
    """A mesh with one row per process: ('processes', 'local_devices')."""
    from jaxel.device import local_device_count
    from jaxel.runtime.client import devices
    from jaxel.sharding import Mesh
    grid = np.array(devices(), dtype=object).reshape(_process_count(), local_device_count())
    return Mesh(grid, ("processes", "local_devices"))


def _stacked_over_processes(value):
    """A global Array of shape ``(processes,) + value.shape``: row p is process p's value."""
    from jaxel.sharding import PartitionSpec
    from jaxel.sharding.multiprocess import host_local_to_global
    return host_local_to_global(value[None], _process_mesh(), PartitionSpec("processes"))


def _identity(x):
    return x


def _replicated_value(x):
    """The whole value of a global Array, which every process gets by one jitted program that
    replicates it over the array's devices (XLA's all-gather between processes)."""
    from jaxel.api import jit
    from jaxel.sharding import NamedSharding, PartitionSpec
    sharding = x.sharding
    if isinstance(sharding, NamedSharding):
        target = NamedSharding(sharding.mesh, PartitionSpec())
    else:
        from jaxel.sharding import Mesh
        devices = np.array(list(sharding._device_assignment), dtype=object)
        target = NamedSharding(Mesh(devices, ("_all",)), PartitionSpec())
    out = jit(_identity, out_shardings=target)(x)
    return np.asarray(out.addressable_shards[0].data)


def broadcast_one_to_all(in_tree, is_source: bool | None = None):
    """Every process gets the source process's values (process 0's by default).

    Args:
      in_tree: a pytree of arrays with the same shapes on every process.
      is_source: whether this process is the source; ``None``: process 0 is. Values of several
        sources are summed, as JAX's psum-based version does.

    Returns:
      A pytree of NumPy arrays.
    """
    if _process_count() == 1:
        return tree_map(np.asarray, in_tree)
    from jaxel.device import process_index
    from jaxel.tree_util import tree_flatten, tree_unflatten
    if is_source is None:
        is_source = process_index() == 0
    leaves, treedef = tree_flatten(in_tree)
    values = [_host_array(x) for x in leaves]
    if sum(v.nbytes for v in values) >= _DEVICE_MIN_BYTES:
        # As JAX: the sources' values (zeros elsewhere) summed over processes on the devices.
        return tree_unflatten(treedef, [_summed_over_processes(
            v if is_source else np.zeros_like(v)) for v in values])
    return tree_unflatten(treedef, gather_sources(values, bool(is_source), process_index(),
                                                  _process_count()))


def _sum_rows(a):
    from jaxel.numpy import sum as _sum
    return _sum(a, axis=0, dtype=a.dtype)


def _summed_over_processes(value):
    from jaxel.api import jit
    from jaxel.sharding import NamedSharding, PartitionSpec
    stacked = _stacked_over_processes(value)
    target = NamedSharding(stacked.sharding.mesh, PartitionSpec())
    return np.asarray(jit(_sum_rows, out_shardings=target)(stacked))


def sync_global_devices(name: str):
    """A barrier across all processes; raises if the processes passed different names."""
    assert_equal(np.uint32(zlib.crc32(name.encode())),
                 f"sync_global_devices name mismatch ('{name}')")


def assert_equal(in_tree, fail_message: str = ""):
    """Check that every process passed the same pytree of values; AssertionError if not."""
    gathered = process_allgather(in_tree, tiled=False)

    def check(x, g):
        x = np.asarray(x)
        if not all(np.array_equal(g[0], gi) for gi in g[1:]):
            raise AssertionError(f"{fail_message} Expected: {x}; got: {g}.")
    tree_map(check, in_tree, gathered)


# ---- preemption and failures ---------------------------------------------------------------
def reached_preemption_sync_point(step_id: int) -> bool:
    """Whether all processes reached the step at which to checkpoint after a preemption.

    When a process gets a preemption notice (SIGTERM), the processes agree in the background
    on a step (the largest step any of them has reached, plus one); this returns True on every
    process at that step. Call it at every step, starting from the same step everywhere.
    False when ``jaxel.distributed`` is not initialised.
    """
    from jaxel.runtime import distributed as _dist
    return _dist.reached_preemption_sync_point(step_id)


class ProcessFailureError(Exception):
    """Raised by ``live_devices`` when processes failed during its ``with`` block.

    Attributes:
      failed_devices: the devices of the failed processes.
    """

    def __init__(self, failed_devices):
        self.failed_devices = failed_devices
        super().__init__(f"Devices failed: {failed_devices}")


def _alive(devices) -> dict:
    from jaxel.device import process_index
    from jaxel.runtime import distributed as _dist
    processes = {d.process_index for d in devices}
    if process_index() not in processes:
        raise ValueError("live_devices: the devices given include none of this process's.")
    live = _dist.live_processes(sorted(processes))
    return {d: live[d.process_index] for d in devices if d.process_index in live}


class _LiveDevices:
    """``with live_devices(devices) as alive:`` runs its block on the devices whose processes
    are alive (sorted by id); afterwards, if a process died or restarted meanwhile, raises
    ``ProcessFailureError`` naming its devices. Needs ``jaxel.distributed.initialize``."""

    def __init__(self):
        self.devices = None  # {device: incarnation} as last seen

    @contextlib.contextmanager
    def __call__(self, devices):
        from jaxel.runtime import distributed as _dist
        if _dist.state.client is None:
            raise RuntimeError("live_devices: jaxel.distributed is not initialized.")
        if not devices:
            raise ValueError("live_devices: no devices provided.")
        if self.devices is None:
            self.devices = _alive(devices)
        error = None
        try:
            yield sorted(self.devices, key=lambda d: d.id)
        except Exception as e:  # noqa: BLE001 - re-raised below, after the liveness check
            error = e
        finally:
            before, self.devices = self.devices, _alive(devices)
            failed = {d for d in before if self.devices.get(d) != before[d]}
            if failed:
                raise ProcessFailureError(failed) from error
            if error is not None:
                raise error


live_devices = _LiveDevices()


# ---- host-local <-> global arrays ------------------------------------------------------------
def _pspec_leaves(pspecs, tree, what):
    """One PartitionSpec per leaf of ``tree`` (``pspecs`` is a pytree prefix of it)."""
    from jaxel import tree_util
    from jaxel.sharding import PartitionSpec
    if pspecs is None or isinstance(pspecs, PartitionSpec):
        return [pspecs] * len(tree_util.tree_leaves(tree))
    return tree_util.broadcast_prefix_leaves(
        pspecs, tree, what, "pspecs", "inputs",
        is_leaf=lambda x: x is None or isinstance(x, PartitionSpec))


def host_local_array_to_global_array(local_inputs, global_mesh, pspecs):
    """Turn each process's local arrays into global Arrays over ``global_mesh``.

    Each leaf holds this process's part of a global array: dimensions split over mesh axes (by
    its PartitionSpec) are the local parts, so the global array is larger along them by the
    ratio of the mesh's axis size to the process's share of it. The result is laid out as
    ``NamedSharding(global_mesh, spec)`` without moving data between processes.

    Args:
      local_inputs: a pytree of arrays (NumPy or jaxel).
      global_mesh: a Mesh over every process's devices; each process's devices must form a
        contiguous block of it.
      pspecs: a PartitionSpec or a pytree prefix of ``local_inputs`` of them.

    Example::

        >>> # 2 processes, mesh ('data',) over 4 devices; each process has 2 rows
        >>> g = host_local_array_to_global_array(np.ones((2, 3)), mesh, P('data'))
        >>> g.shape
        (4, 3)
    """
    from jaxel.tree_util import tree_flatten, tree_unflatten
    leaves, treedef = tree_flatten(local_inputs)
    specs = _pspec_leaves(pspecs, local_inputs, "host_local_array_to_global_array")
    from jaxel.sharding.multiprocess import host_local_to_global
    return tree_unflatten(treedef, [host_local_to_global(x, global_mesh, s)
                                    for x, s in zip(leaves, specs)])


def global_array_to_host_local_array(global_inputs, global_mesh, pspecs):
    """The inverse of ``host_local_array_to_global_array``: each global Array becomes the
    Array of this process's part of it, laid out over the process's block of the mesh.

    Args:
      global_inputs: a pytree of global Arrays (resharded to ``pspecs`` first if laid out
        otherwise).
      global_mesh: the Mesh the arrays are laid out over.
      pspecs: a PartitionSpec or a pytree prefix of ``global_inputs`` of them.
    """
    from jaxel.tree_util import tree_flatten, tree_unflatten
    leaves, treedef = tree_flatten(global_inputs)
    specs = _pspec_leaves(pspecs, global_inputs, "global_array_to_host_local_array")
    from jaxel.sharding.multiprocess import global_to_host_local
    return tree_unflatten(treedef, [global_to_host_local(x, global_mesh, s)
                                    for x, s in zip(leaves, specs)])
