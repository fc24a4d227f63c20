"""Helpers for programs that run as many processes (``jax.experimental.multihost_utils``).

Every process calls these functions in the same order with pytrees of the same structure,
shapes and dtypes (SPMD style). Host values travel through the coordination service's
key-value store (``jaxel/runtime/distributed.py``): each process publishes its bytes under a
key numbered by a per-process call counter and reads the others'; the counter agrees across
processes because the calls happen in the same order everywhere. With one process every
function works on the local values and needs no ``jaxel.distributed.initialize``.
"""
from __future__ import annotations

import itertools
import json
import zlib

import numpy as np

from jaxel.tree_util import tree_map

# Each collective call gets the next number; keys and barriers are named after it.
_calls = itertools.count()

# How long to wait for another process's value. A process that dies is reported by the
# coordination service (heartbeats) well before this, failing the wait with an error.
_TIMEOUT_S = 3600.0


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
                "Gathering global non-fully-addressable arrays needs a sharded jit; "
                "pass this process's data (x.addressable_data(i)) instead.")
        return np.asarray(x)
    if type(x) in (int, float, complex, bool):
        from jaxel.numpy import asarray
        return np.asarray(asarray(x))
    return canonical_numpy(np.asarray(x))


def _fully_addressable(x) -> bool:
    return getattr(x, "is_fully_addressable", True)


def _exchange(values: list) -> list:
    """Every process's list of NumPy arrays, indexed by process (one round trip each)."""
    from jaxel.device import process_index
    from jaxel.runtime import distributed as _dist
    me, n = process_index(), _process_count()
    call = next(_calls)
    header = json.dumps([[list(v.shape), str(v.dtype)] for v in values]).encode()
    payload = b"".join([len(header).to_bytes(8, "little"), header,
                        *(np.ascontiguousarray(v).tobytes() for v in values)])
    _dist.key_value_set(f"jaxel/multihost/{call}/{me}", payload)
    out = []
    for p in range(n):
        blob = payload if p == me else _dist.key_value_get(f"jaxel/multihost/{call}/{p}",
                                                           _TIMEOUT_S)
        out.append(_decode(blob, values, p))
    # Every process has read every key once all pass the barrier; then each drops its own.
    _dist.barrier(f"jaxel/multihost/{call}", _TIMEOUT_S)
    _dist.key_value_delete(f"jaxel/multihost/{call}/{me}")
    return out


def _decode(blob: bytes, like: list, process: int) -> list:
    size = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8:8 + size])
    mine = [[list(v.shape), str(v.dtype)] for v in like]
    if header != mine:
        raise ValueError(
            f"multihost_utils: process {process} passed leaves with (shape, dtype) {header}, "
            f"this process {mine}; every process must pass the same shapes and dtypes.")
    out, offset = [], 8 + size
    for v in like:
        nbytes = v.dtype.itemsize * v.size
        out.append(np.frombuffer(blob[offset:offset + nbytes], v.dtype).reshape(v.shape))
        offset += nbytes
    return out


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
    for x in leaves:
        if not _fully_addressable(x) and not tiled:
            raise ValueError("Gathering global non-fully-addressable arrays only supports "
                             "tiled=True")
    values = [_host_array(x) for x in leaves]
    values = [v[None] if v.ndim == 0 or not tiled else v for v in values]
    per_process = _exchange(values)
    out = [np.concatenate([p[i] for p in per_process], axis=0) for i in range(len(values))]
    return tree_unflatten(treedef, out)


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
    flag = np.array([bool(is_source)])
    per_process = _exchange([flag, *values])
    out = []
    for i, v in enumerate(values, start=1):
        acc = np.zeros_like(v)
        for p in per_process:
            if p[0][0]:
                acc = np.sum(np.stack([acc, p[i]]), axis=0, dtype=v.dtype)
        out.append(acc)
    return tree_unflatten(treedef, out)


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
