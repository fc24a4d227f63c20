"""Placing values on devices and reading them back: device_put, device_get, ..."""
from __future__ import annotations

import warnings

import numpy as np

from jaxel import guards as _guards
from jaxel.runtime import client as _client
from jaxel.runtime.array import Array
from jaxel.runtime.transfer import canonical_numpy, device_put_value
from jaxel.tracing.core import Tracer
from jaxel.tree_util import tree_map


def device_put(x, device=None, *, src=None, donate=False, may_alias=None):
    """Copy a pytree of values to ``device`` (default: the default device), as Arrays.

    ``device`` may be a Device, a Sharding (``NamedSharding(mesh, P('x'))`` lays the value out
    over the mesh's devices; an already placed Array is resharded), a PartitionSpec (over the
    current mesh), or a pytree prefix of ``x`` of those.

    Example::

        >>> jaxel.device_put(np.ones(3), jaxel.devices()[0])
        >>> jaxel.device_put(np.ones(8), NamedSharding(jaxel.make_mesh((4,), ('x',)), P('x')))
    """
    from jaxel.sharding.placement import as_target, is_target_leaf
    from jaxel.tree_util import broadcast_prefix_leaves, tree_flatten, tree_unflatten
    leaves, treedef = tree_flatten(x)
    one = device is None or is_target_leaf(device) or hasattr(device, "_device_assignment")
    if any(isinstance(v, Tracer) for v in leaves):
        # Under a transformation: one ``device_put`` equation for every leaf (as JAX).
        from jaxel.sharding.device_put import bind_device_put
        def per_leaf(v, what, is_leaf=None):
            if v is None or isinstance(v, bool) or (is_leaf is not None and is_leaf(v)):
                return [v] * len(leaves)
            return broadcast_prefix_leaves(v, x, "device_put", what, "x", is_leaf=is_leaf)
        targets = [device] * len(leaves) if one else per_leaf(device, "device", is_target_leaf)
        srcs = per_leaf(src, "src", is_target_leaf)
        outs = bind_device_put(leaves, [as_target(t) for t in targets],
                               [as_target(t) for t in srcs], per_leaf(donate, "donate"),
                               per_leaf(may_alias, "may_alias"))
        return tree_unflatten(treedef, outs)
    if one:
        with _guards.explicit():
            return _put_tree(x, as_target(device))
    targets = broadcast_prefix_leaves(device, x, "device_put", "device", "x",
                                      is_leaf=is_target_leaf)
    with _guards.explicit():
        return tree_unflatten(treedef, [_put_tree(v, as_target(t))
                                        for v, t in zip(leaves, targets)])


def _put_tree(x, device):
    """``device_put`` of a pytree of concrete values to one target (None, a Device, or a
    multi-device Sharding)."""
    if device is not None and not hasattr(device, "platform"):
        from jaxel.sharding.placement import put_leaf
        return tree_map(lambda v: put_leaf(v, device), x)

    def put(v):
        if isinstance(v, Array):
            if device is None and v._one_device() is None and v._device is not None:
                return v  # laid out over several devices: stays so
            if device is None or v._device is device or v.device == device:
                return v
            with _guards.device_to_device(v, device):
                return device_put_value(np.asarray(v._value()), v.aval.weak_type, device)
        if type(v) in (int, float, complex):
            from jaxel.numpy import asarray
            return asarray(v) if device is None else device_put_value(
                np.asarray(asarray(v)), True, device)
        return device_put_value(canonical_numpy(v), False, device)
    return tree_map(put, x)


def device_get(x):
    """Copy a pytree of Arrays to host NumPy arrays."""
    with _guards.explicit():
        return tree_map(lambda v: np.asarray(v) if isinstance(v, Array) else v, x)  # tracers raise


def block_until_ready(x):
    """Wait for every Array in the pytree ``x`` to be computed; returns ``x``."""
    tree_map(lambda v: v.block_until_ready() if type(v) is Array else v, x)
    return x


def local_device_count(backend=None) -> int:
    """Number of devices this process can address."""
    return len(_client.local_devices(backend=backend))


def process_index(backend=None) -> int:
    """Index of this process in a multi-process run (0 unless ``jaxel.distributed`` is used)."""
    return _client.backend(backend).client.process_index()


def process_count(backend=None) -> int:
    """Number of processes in the run (1 unless ``jaxel.distributed.initialize`` was called)."""
    return _client.process_count(backend)


def process_indices(backend=None) -> list:
    """Indices of every process in the run: ``list(range(process_count()))``."""
    return list(range(process_count(backend)))


def host_id(backend=None) -> int:
    """Deprecated alias of ``process_index`` (warns, as JAX does)."""
    warnings.warn("jaxel.host_id has been renamed to jaxel.process_index. This alias will "
                  "eventually be removed; please update your code.")
    return process_index(backend)


def host_count(backend=None) -> int:
    """Deprecated alias of ``process_count`` (warns, as JAX does)."""
    warnings.warn("jaxel.host_count has been renamed to jaxel.process_count. This alias will "
                  "eventually be removed; please update your code.")
    return process_count(backend)


def host_ids(backend=None) -> list:
    """Deprecated alias of ``process_indices`` (warns, as JAX does)."""
    warnings.warn("jaxel.host_ids has been renamed to jaxel.process_indices. This alias will "
                  "eventually be removed; please update your code.")
    return process_indices(backend)


def default_backend() -> str:
    """Name of the default backend: 'cpu' or 'gpu'."""
    return _client.backend().platform
