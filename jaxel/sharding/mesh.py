"""Device meshes: an n-d array of devices whose axes have names (``jax.sharding.Mesh``).

The current mesh (``set_mesh`` / ``use_mesh`` / ``with mesh:``) is what bare
``PartitionSpec``s in ``jit(in_shardings=...)``, ``with_sharding_constraint`` and ``shard_map``
refer to when no mesh is named.
"""
from __future__ import annotations

import collections
import contextlib
import enum
import math
import threading

import numpy as np


class AxisType(enum.Enum):
    """How a mesh axis is treated: ``Auto`` (the compiler propagates shardings), ``Explicit``
    (shardings are part of array types in JAX; jaxel propagates them as for Auto), ``Manual``
    (inside ``shard_map``: per-device code)."""

    Auto = enum.auto()
    Explicit = enum.auto()
    Manual = enum.auto()

    def __repr__(self):
        return self.name


def _axis_types(axis_types, n, default):
    if axis_types is None:
        return (default,) * n
    if isinstance(axis_types, AxisType):
        return (axis_types,) * n
    axis_types = tuple(axis_types)
    if len(axis_types) != n:
        raise ValueError(f"Mesh: {len(axis_types)} axis_types given for {n} axes.")
    for t in axis_types:
        if not isinstance(t, AxisType):
            raise TypeError(f"Mesh: axis_types must be jaxel.sharding.AxisType values, got {t!r}.")
    return axis_types


def _check_names(axis_names, ndim, what):
    if isinstance(axis_names, str):
        axis_names = (axis_names,)
    axis_names = tuple(axis_names)
    if len(axis_names) != ndim:
        raise ValueError(f"{what}: {len(axis_names)} axis names {axis_names} for a device array "
                         f"of rank {ndim}; give one name per mesh axis.")
    if len(set(axis_names)) != len(axis_names):
        raise ValueError(f"{what}: axis names must be distinct, got {axis_names}.")
    for n in axis_names:
        if not isinstance(n, str):
            raise TypeError(f"{what}: axis names must be strings, got {n!r}.")
    return axis_names


class _MeshBase:
    """What concrete and abstract meshes share: names, sizes, types."""

    axis_names: tuple
    axis_sizes: tuple
    axis_types: tuple

    @property
    def shape(self):
        """``OrderedDict`` axis name -> size."""
        return collections.OrderedDict(zip(self.axis_names, self.axis_sizes))

    @property
    def shape_tuple(self):
        return tuple(zip(self.axis_names, self.axis_sizes))

    @property
    def size(self) -> int:
        return math.prod(self.axis_sizes)

    @property
    def empty(self) -> bool:
        return not self.axis_names

    def _axis_types_dict(self):
        out = {}
        for n, t in zip(self.axis_names, self.axis_types):
            out.setdefault(t, []).append(n)
        return out

    @property
    def auto_axes(self):
        return tuple(n for n, t in zip(self.axis_names, self.axis_types) if t is AxisType.Auto)

    @property
    def explicit_axes(self):
        return tuple(n for n, t in zip(self.axis_names, self.axis_types)
                     if t is AxisType.Explicit)

    @property
    def manual_axes(self):
        return tuple(n for n, t in zip(self.axis_names, self.axis_types) if t is AxisType.Manual)

    def _types_str(self):
        return "(" + ", ".join(t.name for t in self.axis_types) + \
            ("," if len(self.axis_types) == 1 else "") + ")"


class Mesh(_MeshBase):
    """An n-d array of devices with named axes.

    Args:
      devices: an array (nested lists or NumPy object array) of devices.
      axis_names: one name per axis of ``devices``.
      axis_types: ``AxisType`` per axis (default Auto).

    Usable as a context manager: inside ``with mesh:``, bare PartitionSpecs refer to it.

    Example::

        >>> mesh = Mesh(np.array(jaxel.devices()[:4]).reshape(2, 2), ('x', 'y'))
        >>> NamedSharding(mesh, P('x'))
    """

    def __init__(self, devices, axis_names, axis_types=None):
        devs = np.array(devices, dtype=object) if not isinstance(devices, np.ndarray) \
            else devices
        if devs.ndim == 0:
            raise ValueError("Mesh: devices must be an array of devices, got a single value.")
        self.devices = devs
        self.axis_names = _check_names(axis_names, devs.ndim, "Mesh")
        self.axis_sizes = tuple(devs.shape)
        self.axis_types = _axis_types(axis_types, devs.ndim, AxisType.Auto)
        flat = tuple(devs.flat)
        for d in flat:
            if not hasattr(d, "platform") or not hasattr(d, "id"):
                raise TypeError(f"Mesh: devices must be jaxel devices (jaxel.devices()), got "
                                f"{d!r}.")
        if len({id(d) for d in flat}) != len(flat):
            raise ValueError("Mesh: a device appears more than once in the mesh.")
        self._flat_devices = flat
        self._key = (tuple(d.id for d in flat), self.axis_sizes, self.axis_names,
                     self.axis_types)
        self._hash = hash(self._key)
        self._context = []

    # ---- identity ------------------------------------------------------------------------
    def __eq__(self, other):
        return isinstance(other, Mesh) and (other is self or other._key == self._key)

    def __hash__(self):
        return self._hash

    def __repr__(self):
        return (f"Mesh(axis_sizes={self.axis_sizes}, axis_names={self.axis_names}, "
                f"axis_types={self._types_str()})")

    def __str__(self):
        inner = ", ".join(f"{n!r}: {s}" for n, s in zip(self.axis_names, self.axis_sizes))
        return f"Mesh({inner}, axis_types={self._types_str()})"

    def __reduce__(self):
        return (Mesh, (self.devices, self.axis_names, self.axis_types))

    # ---- devices -------------------------------------------------------------------------
    @property
    def device_ids(self):
        """The devices' ids, in the mesh's shape."""
        return np.vectorize(lambda d: d.id, otypes=[int])(self.devices)

    @property
    def local_devices(self):
        """The mesh's devices this process can address."""
        return [d for d in self._flat_devices if _is_local(d)]

    @property
    def is_multi_process(self) -> bool:
        return any(not _is_local(d) for d in self._flat_devices)

    @property
    def local_mesh(self) -> "Mesh":
        """The sub-mesh of this process's devices (the whole mesh in a one-process run)."""
        if not self.is_multi_process:
            return self
        local = np.vectorize(_is_local, otypes=[bool])(self.devices)
        # The smallest box holding every local device; it must hold nothing else.
        box = []
        for axis in range(local.ndim):
            hit = np.flatnonzero(local.any(axis=tuple(a for a in range(local.ndim) if a != axis)))
            if hit.size == 0:
                raise ValueError("Mesh.local_mesh: this process has no devices in the mesh.")
            box.append(slice(int(hit[0]), int(hit[-1]) + 1))
        if not local[tuple(box)].all():
            raise ValueError("Mesh.local_mesh: the devices of one process must form a "
                             "contiguous block of the mesh.")
        return Mesh(self.devices[tuple(box)], self.axis_names, self.axis_types)

    @property
    def abstract_mesh(self) -> "AbstractMesh":
        return AbstractMesh(self.axis_sizes, self.axis_names, self.axis_types)

    def update_axis_types(self, axis_types: dict) -> "Mesh":
        """A copy with the types of some axes changed (``{AxisType.Manual: ('x',)}`` or
        ``{'x': AxisType.Manual}``)."""
        types = dict(zip(self.axis_names, self.axis_types))
        for k, v in axis_types.items():
            if isinstance(k, AxisType):
                for n in (v,) if isinstance(v, str) else v:
                    types[n] = k
            else:
                types[k] = v
        return Mesh(self.devices, self.axis_names, tuple(types[n] for n in self.axis_names))

    # ---- context manager ---------------------------------------------------------------------
    def __enter__(self):
        cm = use_mesh(self)
        cm.__enter__()
        self._context.append(cm)
        return self

    def __exit__(self, *exc):
        self._context.pop().__exit__(*exc)
        return False


class AbstractMesh(_MeshBase):
    """A mesh's axis names, sizes and types without devices (``jax.sharding.AbstractMesh``).

    Axes default to ``AxisType.Explicit``, as in JAX 0.12.1 (``Mesh.abstract_mesh`` keeps the
    mesh's own types)."""

    def __init__(self, axis_sizes, axis_names, axis_types=None):
        self.axis_sizes = tuple(int(s) for s in axis_sizes)
        self.axis_names = _check_names(axis_names, len(self.axis_sizes), "AbstractMesh")
        self.axis_types = _axis_types(axis_types, len(self.axis_sizes), AxisType.Explicit)

    def __eq__(self, other):
        return isinstance(other, AbstractMesh) and (
            self.axis_sizes, self.axis_names, self.axis_types) == (
            other.axis_sizes, other.axis_names, other.axis_types)

    def __hash__(self):
        return hash((self.axis_sizes, self.axis_names, self.axis_types))

    def __repr__(self):
        inner = ", ".join(f"{n!r}: {s}" for n, s in zip(self.axis_names, self.axis_sizes))
        return f"AbstractMesh({inner or '()'}, axis_types={self._types_str()})"

    @property
    def abstract_mesh(self):
        return self


def _is_local(device) -> bool:
    from jaxel.runtime import client as _client
    return device.process_index == _client.backend_of_device(device).client.process_index()


# ---- the current mesh -------------------------------------------------------------------------
class _MeshState(threading.local):
    stack: list

    def __init__(self):
        self.stack = []


_state = _MeshState()
_global_mesh = [None]


def get_mesh():
    """The mesh set by ``set_mesh`` / ``use_mesh`` / ``with mesh:`` (None if none)."""
    return _state.stack[-1] if _state.stack else _global_mesh[0]


def get_abstract_mesh():
    """The current mesh's AbstractMesh (an empty one if no mesh is set)."""
    m = get_mesh()
    return m.abstract_mesh if m is not None else AbstractMesh((), ())


@contextlib.contextmanager
def use_mesh(mesh):
    """Make ``mesh`` the current mesh inside a ``with`` block."""
    if not isinstance(mesh, (Mesh, AbstractMesh)):
        raise TypeError(f"use_mesh expects a Mesh, got {type(mesh).__name__}.")
    _state.stack.append(mesh)
    try:
        yield mesh
    finally:
        _state.stack.pop()


use_abstract_mesh = use_mesh


class _SetMesh:
    """``set_mesh(mesh)`` sets the mesh for the whole program; used in a ``with`` statement it
    restores the previous one afterwards."""

    def __init__(self, mesh):
        if mesh is not None and not isinstance(mesh, Mesh):
            raise TypeError(f"set_mesh expects a Mesh (or None), got {type(mesh).__name__}.")
        self.prev = _global_mesh[0]
        _global_mesh[0] = mesh

    def __enter__(self):
        return _global_mesh[0]

    def __exit__(self, *exc):
        _global_mesh[0] = self.prev
        return False


def set_mesh(mesh):
    """Set the current mesh globally (or, as a context manager, for a ``with`` block)."""
    return _SetMesh(mesh)


def make_mesh(axis_shapes, axis_names, axis_types=None, *, devices=None):
    """A Mesh of the given shape over the first ``prod(axis_shapes)`` devices (or ``devices``).

    As in JAX 0.12.1 the axes default to ``AxisType.Explicit``; jaxel lets XLA propagate
    shardings for Explicit axes as for Auto ones (results may report an equivalent spec).

    Example::

        >>> mesh = jaxel.make_mesh((2, 2), ('x', 'y'))
    """
    from jaxel.runtime import client as _client
    axis_shapes = tuple(int(s) for s in axis_shapes)
    n = math.prod(axis_shapes)
    if devices is None:
        devices = _client.devices()
    devices = list(devices)
    if len(devices) < n:
        raise ValueError(f"make_mesh: a mesh of shape {axis_shapes} needs {n} devices, but only "
                         f"{len(devices)} are available (set jax_num_cpu_devices for more CPU "
                         "devices).")
    if devices and len(devices) != n and devices is not None and len(devices) > n:
        devices = devices[:n]
    return Mesh(np.array(devices, dtype=object).reshape(axis_shapes), axis_names,
                _axis_types(axis_types, len(axis_shapes), AxisType.Explicit))
