"""Placing values: ``device_put`` to a sharding, and resharding an Array to another layout."""
from __future__ import annotations

import numpy as np

from jaxel.runtime.array import Array
from jaxel.sharding.mesh import get_mesh
from jaxel.sharding.shardings import NamedSharding, Sharding, SingleDeviceSharding
from jaxel.sharding.spec import PartitionSpec


def as_target(target, what="device_put"):
    """``target`` as None, a Device, or a Sharding over several devices (a bare PartitionSpec
    refers to the current mesh; a one-device sharding becomes its device)."""
    if target is None or hasattr(target, "platform"):
        return target
    if isinstance(target, PartitionSpec):
        mesh = get_mesh()
        if mesh is None:
            raise ValueError(f"{what}: a bare PartitionSpec {target!r} needs a mesh: use "
                             "NamedSharding(mesh, spec), or set one with jaxel.set_mesh(mesh) / "
                             "`with jaxel.sharding.use_mesh(mesh):`.")
        return NamedSharding(mesh, target)
    if isinstance(target, SingleDeviceSharding):
        return target._device
    if isinstance(target, Sharding):
        return target
    assignment = getattr(target, "_device_assignment", None)  # the runtime's own objects
    if assignment is not None and len(assignment) == 1:
        return assignment[0]
    raise TypeError(f"{what}: expected a Device, a Sharding or a PartitionSpec, got "
                    f"{target!r} of type {type(target).__name__}.")


def is_target_leaf(x) -> bool:
    """Leaves of a pytree of placements (a PartitionSpec is a tuple, but one placement)."""
    return isinstance(x, (Sharding, PartitionSpec)) or hasattr(x, "platform")


def reshard(arr: Array, sharding: Sharding) -> Array:
    """``arr`` laid out as ``sharding`` (a multi-device sharding).

    Same blocks on the same devices: relabelled, no copy. Same set of devices: one partitioned
    identity program (XLA moves the blocks). Otherwise through the host.
    """
    placement = arr._device
    ndim = arr.aval.ndim
    if isinstance(placement, Sharding):
        if placement == sharding or placement.is_equivalent_to(sharding, ndim):
            return Array(arr._buf, arr.aval, sharding)
        if placement.device_set == sharding.device_set:
            # Also across processes: each runs the same program on its own devices.
            return _reshard_on_devices(arr, sharding)
    from jaxel import guards
    from jaxel.runtime.sharded import put_global
    with guards.device_to_device(arr, sharding):
        return put_global(np.asarray(arr._value()), sharding, arr.aval.weak_type)


_identity_programs: dict = {}


def _reshard_on_devices(arr, sharding):
    from jaxel.jaxpr.ir import ClosedJaxpr, Jaxpr, Var
    from jaxel.sharding.program import run_partitioned
    aval = arr.aval
    cache = _identity_programs.setdefault(aval, {})
    if "jaxpr" not in cache:
        v = Var(aval)
        cache["jaxpr"] = ClosedJaxpr(Jaxpr([], [v], [v], []), [])
    return run_partitioned(cache, cache["jaxpr"], "reshard", [arr], in_user=[arr._device],
                           out_user=[sharding])[0]


def put_leaf(v, target):
    """One leaf of ``device_put``: ``target`` is None, a Device or a multi-device Sharding."""
    from jaxel.runtime.sharded import put_global
    from jaxel.runtime.transfer import canonical_numpy
    if type(v) is Array:
        return reshard(v, target)
    if type(v) in (int, float, complex, bool):
        from jaxel.numpy import asarray
        a = asarray(v)
        return put_global(np.asarray(a), target, a.aval.weak_type)
    return put_global(canonical_numpy(v), target, False)
