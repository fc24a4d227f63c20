"""``inspect_sharding``: report a traced value's sharding once the compiler has chosen it.

Inside ``jit`` a value's sharding is not known while tracing: XLA's partitioner chooses it. The
primitive ``inspect_sharding`` (no outputs, kept by dead-code elimination) lowers, in a program
partitioned over several devices, to ``custom_call @InspectSharding`` carrying a key to a
Python function; XLA calls it while partitioning with the sharding it chose, which becomes a
jaxel Sharding (a NamedSharding over the program's mesh when one spec expresses it) passed to
the user's callback. So the callback runs when the program is compiled, not when it runs, and
not again for a cached program. In a one-device program every value is on that device, so the
callback runs at lowering time.
"""
from __future__ import annotations

from jaxel.jaxpr.dce import effectful_primitives
from jaxel.tracing.core import Primitive

inspect_sharding_p = Primitive("inspect_sharding", multiple_results=True)
effectful_primitives.add(inspect_sharding_p)


def _impl(x, *, callback):
    from jaxel.debug.sharding_viz import _as_sharding
    callback(_as_sharding(x.sharding))
    return []


def _program_mesh(module):
    """A mesh of the program whose devices are the program's, in its order (or None)."""
    for mesh in getattr(module, "_meshes", {}):
        if getattr(mesh, "_flat_devices", None) == module.devices:
            return mesh
    return None


def _to_sharding(layout, devices, mesh):
    from jaxel.sharding.shardings import NamedSharding, SingleDeviceSharding, \
        from_tile_assignment
    from jaxel.sharding.mesh import Mesh
    from jaxel.sharding.spec import PartitionSpec
    import numpy as np
    if layout is None:      # manual (inside shard_map): each device holds its own block
        m = mesh if mesh is not None else Mesh(np.array(devices, dtype=object), ("_all",))
        return NamedSharding(m, PartitionSpec())
    tiles, replicas, positions = layout
    if tiles == "maximal":
        return SingleDeviceSharding(devices[replicas])
    return from_tile_assignment(devices, tiles, replicas, positions, mesh=mesh)


def _lowering(ctx, x, *, callback):
    module = ctx.module
    if module is None or module.devices is None:
        from jaxel.runtime.client import default_device
        from jaxel.sharding.shardings import SingleDeviceSharding
        callback(SingleDeviceSharding(default_device()))
        return []
    from jaxel.runtime.inspect_sharding import encode_callback, mlir_string
    devices, mesh = module.devices, _program_mesh(module)

    def on_layout(layout):
        callback(_to_sharding(layout, devices, mesh))

    key = encode_callback(on_layout, ctx.avals_in[0].ndim, len(devices))
    t = ctx.e.types[x]
    # The result is unused: XLA removes the call once it has reported the sharding.
    ctx.e.op1("stablehlo.custom_call", [x], t,
              f'call_target_name = "InspectSharding", has_side_effect = true, '
              f'backend_config = "{mlir_string(key)}", api_version = 1 : i32')
    return []


def _batch(args, dims, *, callback):
    raise NotImplementedError("inspect_array_sharding under vmap is not supported: the "
                              "batched value's sharding is not the one of the unbatched value.")


inspect_sharding_p.abstract_eval = lambda x, *, callback: []
inspect_sharding_p.impl = _impl
inspect_sharding_p.lowering = _lowering
# Under differentiation the primal value is inspected; tangents have no sharding to report.
inspect_sharding_p.jvp = lambda primals, tangents, **params: (
    inspect_sharding_p.bind(*primals, **params), [])
inspect_sharding_p.batch = _batch
