"""Mesh axes made manual by ``shard_map``: their entries in the named-axis environment, and the
device-level facts collectives lower from (replica groups, a device's index along an axis).

Inside a ``shard_map`` body the manual mesh axes are in the same axis environment that
``vmap(axis_name=...)`` uses, so ``lax.psum(x, 'x')`` resolves 'x' the same way. A
``ManualAxis`` entry says the axis is a device axis of ``mesh`` (collectives lower to XLA
collectives instead of being batched away).

Partition ids: the SPMD program of a mesh runs on ``mesh.devices.flat`` in that order, so a
device's partition id is its position there, and its coordinate along mesh axis ``a`` is
``(pid // stride(a)) % size(a)`` with row-major strides.
"""
from __future__ import annotations

import contextlib
import itertools
import math
import threading

import numpy as np

from jaxel.transforms import batching as _batching
from jaxel.transforms.batching import AxisData


class ManualAxis(AxisData):
    """A mesh axis in scope as a manual (per-device) axis of a ``shard_map`` body."""

    __slots__ = ("mesh", "check_vma")

    def __init__(self, name, size, mesh, check_vma):
        super().__init__(name, size)
        self.mesh = mesh
        self.check_vma = check_vma

    def __repr__(self):
        return f"ManualAxis(name={self.name!r}, size={self.size})"


@contextlib.contextmanager
def manual_axes_env(mesh, names, check_vma):
    """Put the mesh axes ``names`` in the axis environment as manual axes (in mesh order)."""
    with contextlib.ExitStack() as stack:
        for n, s in zip(mesh.axis_names, mesh.axis_sizes):
            if n in names:
                stack.enter_context(_batching.extend_axis_env(ManualAxis(n, s, mesh, check_vma)))
        yield


def manual_axis(name):
    """The innermost environment entry for ``name`` if it is a manual mesh axis, else None."""
    for a in reversed(_batching._axis_env.stack):
        if a.name == name:
            return a if isinstance(a, ManualAxis) else None
    return None


def vma_checked(names) -> bool:
    """Whether every name among ``names`` is a manual axis of a ``check_vma=True`` body (then
    ``psum`` is the invariant-result collective whose transpose is ``pvary``)."""
    found = False
    for n in names:
        a = manual_axis(n)
        if a is None or not a.check_vma:
            return False
        found = True
    return found


# ---- lowering-time state: which mesh the collectives being lowered run over ----------------------
class _LoweringState(threading.local):
    def __init__(self):
        self.stack = []  # (mesh, frozenset of manual axis names), innermost last


_lowering = _LoweringState()


@contextlib.contextmanager
def lowering_mesh(mesh, manual):
    """While lowering a ``shard_map`` body: collectives over ``manual`` axes use ``mesh``."""
    _lowering.stack.append((mesh, frozenset(manual)))
    try:
        yield
    finally:
        _lowering.stack.pop()


def lowering_mesh_for(names):
    """The mesh whose manual axes include all of ``names`` while lowering, or None."""
    for mesh, manual in reversed(_lowering.stack):
        if all(n in manual for n in names):
            return mesh
    return None


def axis_coords(mesh):
    """``coords[pid][axis_name]``: each partition's coordinate along every mesh axis."""
    names = mesh.axis_names
    return [dict(zip(names, idx)) for idx in itertools.product(*map(range, mesh.axis_sizes))]


def partition_ids(mesh, program_devices=None):
    """The partition id of each mesh position (``mesh.devices.flat`` order): its device's
    position among the program's devices (the identity when the program runs on the mesh)."""
    flat = mesh._flat_devices
    if program_devices is None or tuple(program_devices) == tuple(flat):
        return list(range(len(flat)))
    where = {d: i for i, d in enumerate(program_devices)}
    return [where[d] for d in flat]


def replica_groups(mesh, names, program_devices=None):
    """Partition-id groups for a collective over the mesh axes ``names``: one group per
    coordinate of the other axes, members ordered by their (row-major) index over ``names``
    in the order given, which is the participants' order (``axis_index`` of the tuple)."""
    sizes = dict(zip(mesh.axis_names, mesh.axis_sizes))
    pids = partition_ids(mesh, program_devices)
    groups = {}
    for k, c in enumerate(axis_coords(mesh)):
        key = tuple(c[n] for n in mesh.axis_names if n not in names)
        groups.setdefault(key, {})[group_index(c, names, sizes)] = pids[k]
    out = [[g[i] for i in range(math.prod(sizes[n] for n in names))] for g in groups.values()]
    return np.asarray(out, np.int64)


def group_index(coords, names, sizes) -> int:
    """A partition's participant index over the axes ``names`` (row-major in their order)."""
    idx = 0
    for n in names:
        idx = idx * sizes[n] + coords[n]
    return idx


def strides(mesh):
    """Row-major stride of every mesh axis over partition ids."""
    out, s = {}, 1
    for n, size in reversed(list(zip(mesh.axis_names, mesh.axis_sizes))):
        out[n] = s
        s *= size
    return out
