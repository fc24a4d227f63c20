"""Shardings and meshes (``jax.sharding``): how arrays are laid out over devices.

``Mesh`` names the axes of a grid of devices; ``NamedSharding(mesh, P(...))`` splits an array's
dimensions over mesh axes; ``SingleDeviceSharding`` puts it whole on one device. Arrays, ``jit``
and ``shard_map`` take and report these; lowering turns them into Shardy attributes of the
StableHLO program and XLA's SPMD partitioner does the rest (see docs/design.md, "Shardings").
"""
from jaxel.sharding.mesh import (  # noqa: F401
    AbstractMesh, AxisType, Mesh, get_abstract_mesh, get_mesh, make_mesh, set_mesh, use_mesh,
    use_abstract_mesh,
)
from jaxel.sharding.spec import PartitionSpec, P, UNCONSTRAINED  # noqa: F401
from jaxel.sharding.axes import (  # noqa: F401
    AbstractDevice, ManualAxisType, UnreducedKind, auto_axes, explicit_axes, no_collectives,
)
from jaxel.sharding.api import reshard  # noqa: F401
from jaxel.sharding.shardings import (  # noqa: F401
    NamedSharding, Sharding, SingleDeviceSharding, XlaSharding as GSPMDSharding,
)


def make_single_device_sharding(device, *, memory_kind=None):
    """A sharding that puts a whole array on ``device``."""
    return SingleDeviceSharding(device, memory_kind=memory_kind)


def is_single_device_sharding(sharding) -> bool:
    """True when ``sharding`` places arrays on exactly one device."""
    return isinstance(sharding, Sharding) and len(sharding._device_assignment) == 1
