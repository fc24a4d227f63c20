"""Shardings: how a global array's elements are laid out over devices.

Every sharding answers the same questions (``jax.sharding.Sharding``'s interface): which
devices hold the array, which block of it each device holds (``devices_indices_map``), the
block shape, whether every device holds all of it. Internally each reduces to one *tile
assignment*: the array is cut into a grid of tiles (``tiles[d]`` along dimension ``d``) and each
tile is held by ``replicas`` devices, named by their position in ``_device_assignment``. The
same tile assignment gives XLA's ``HloSharding`` (runtime objects) and, for NamedSharding, the
Shardy attribute written into the program text.
"""
from __future__ import annotations

import functools
import itertools
import math

import numpy as np

from jaxel.sharding.mesh import Mesh, AbstractMesh, get_mesh
from jaxel.sharding.spec import UNCONSTRAINED, PartitionSpec


class Sharding:
    """The interface every sharding implements (``jax.sharding.Sharding``)."""

    # ---- what subclasses define ------------------------------------------------------------
    @property
    def _device_assignment(self) -> tuple:
        """The devices, in the order tile-assignment positions refer to."""
        raise NotImplementedError

    def _tile_assignment(self, ndim: int):
        """``(tiles, replicas, positions)``: ``positions`` has shape ``tiles + (replicas,)``
        and holds indices into ``_device_assignment``."""
        raise NotImplementedError

    memory_kind = "device"

    # ---- derived ------------------------------------------------------------------------------
    @property
    def device_set(self) -> set:
        """The set of devices holding (part of) the array."""
        return set(self._device_assignment)

    @property
    def num_devices(self) -> int:
        return len(self._device_assignment)

    @property
    def addressable_devices(self) -> set:
        """The devices of ``device_set`` this process can address."""
        from jaxel.sharding.mesh import _is_local
        return {d for d in self._device_assignment if _is_local(d)}

    @property
    def is_fully_addressable(self) -> bool:
        """True when this process can address every device of the sharding."""
        from jaxel.sharding.mesh import _is_local
        return all(_is_local(d) for d in self._device_assignment)

    @property
    def _internal_device_list(self):
        return self._device_assignment

    def shard_shape(self, global_shape) -> tuple:
        """The shape of one device's block of an array of ``global_shape``."""
        global_shape = tuple(global_shape)
        tiles, _, _ = self._tile_assignment(len(global_shape))
        out = []
        for d, (n, t) in enumerate(zip(global_shape, tiles)):
            if n % t:
                raise ValueError(
                    f"{self!r} splits dimension {d} of an array of shape {global_shape} into {t} "
                    f"parts, but {n} is not divisible by {t}.")
            out.append(n // t)
        return tuple(out)

    def devices_indices_map(self, global_shape) -> dict:
        """``{device: index}``: the block (a tuple of slices) each device holds.

        Raises ValueError, as JAX, when a split dimension does not divide evenly."""
        self.shard_shape(global_shape)
        return dict(_indices(self, tuple(global_shape)))

    def addressable_devices_indices_map(self, global_shape) -> dict:
        """``devices_indices_map`` restricted to this process's devices."""
        self.shard_shape(global_shape)
        local = self.addressable_devices
        return {d: i for d, i in _indices(self, tuple(global_shape)) if d in local}

    def _replica_ids(self, global_shape) -> dict:
        """``{device: replica id}``: which copy of its block each device holds."""
        tiles, replicas, positions = self._tile_assignment(len(global_shape))
        da = self._device_assignment
        flat = positions.reshape(-1, replicas)
        return {da[p]: r for row in flat for r, p in enumerate(row)}

    def is_fully_replicated_for(self, ndim) -> bool:
        tiles, _, _ = self._tile_assignment(ndim)
        return all(t == 1 for t in tiles)

    def is_equivalent_to(self, other, ndim: int) -> bool:
        """True when both place the same blocks of an ``ndim``-d array on the same devices."""
        if not isinstance(other, Sharding):
            return False
        if self._device_assignment == other._device_assignment:
            a, b = self._tile_assignment(ndim), other._tile_assignment(ndim)
            return a[0] == b[0] and a[1] == b[1] and np.array_equal(a[2], b[2])
        return self._canonical_blocks(ndim) == other._canonical_blocks(ndim)

    def _canonical_blocks(self, ndim):
        tiles, replicas, positions = self._tile_assignment(ndim)
        da = self._device_assignment
        return tiles, {(idx, da[p]) for idx in np.ndindex(*tiles)
                       for p in positions[idx]}

    def _to_xla_hlo_sharding(self, ndim: int):
        """XLA's HloSharding for an ``ndim``-d array (positions index the device assignment)."""
        from jaxel.runtime.xla import hlo_sharding
        tiles, replicas, positions = self._tile_assignment(ndim)
        return hlo_sharding(tiles, replicas, positions)

    def with_memory_kind(self, kind):
        if kind not in (None, "device"):
            raise NotImplementedError(f"memory kind {kind!r} is not supported by jaxel "
                                      "(only 'device').")
        return self


def _indices(sharding, shape):
    tiles, replicas, positions = sharding._tile_assignment(len(shape))
    da = sharding._device_assignment
    for idx in np.ndindex(*tiles):
        index = []
        for d, (n, t, i) in enumerate(zip(shape, tiles, idx)):
            if t == 1:
                index.append(slice(None))
            else:
                size = -(-n // t)
                index.append(slice(min(i * size, n), min((i + 1) * size, n)))
        index = tuple(index)
        for p in positions[idx]:
            yield da[p], index


class SingleDeviceSharding(Sharding):
    """The whole array on one device (``jax.sharding.SingleDeviceSharding``)."""

    def __init__(self, device, *, memory_kind=None):
        self._device = device
        self.memory_kind = _memory_kind(memory_kind)

    @property
    def _device_assignment(self):
        return (self._device,)

    def _tile_assignment(self, ndim):
        return (1,) * ndim, 1, np.zeros((1,) * ndim + (1,), dtype=np.int64)

    @property
    def is_fully_replicated(self) -> bool:
        return True

    @property
    def device_set(self):
        return {self._device}

    def shard_shape(self, global_shape):
        return tuple(global_shape)

    def __eq__(self, other):
        return isinstance(other, SingleDeviceSharding) and other._device == self._device

    def __hash__(self):
        return hash(("SingleDeviceSharding", self._device))

    def __repr__(self):
        return f"SingleDeviceSharding(device={self._device!r}, memory_kind=device)"


class NamedSharding(Sharding):
    """Blocks of an array over a ``Mesh``, dimension ``i`` split over the axes ``spec[i]``
    (``jax.sharding.NamedSharding``).

    Example::

        >>> mesh = jaxel.make_mesh((4,), ('data',))
        >>> x = jaxel.device_put(jnp.arange(8.0), NamedSharding(mesh, P('data')))
        >>> x.sharding.shard_shape(x.shape)
        (2,)
    """

    def __init__(self, mesh, spec=PartitionSpec(), *, memory_kind=None):
        if not isinstance(mesh, (Mesh, AbstractMesh)):
            raise TypeError(f"NamedSharding: mesh must be a Mesh, got {type(mesh).__name__}.")
        if spec is None:
            spec = PartitionSpec()
        elif not isinstance(spec, PartitionSpec):
            if isinstance(spec, (tuple, list)):
                spec = PartitionSpec(*spec)
            else:
                raise TypeError(f"NamedSharding: spec must be a PartitionSpec, got {spec!r}.")
        _check_spec(spec, mesh)
        self.mesh = mesh
        self.spec = spec
        self.memory_kind = _memory_kind(memory_kind)
        self._hash = None

    @property
    def num_devices(self) -> int:
        return self.mesh.size     # also over an AbstractMesh, as JAX

    @property
    def _device_assignment(self):
        if isinstance(self.mesh, AbstractMesh):
            raise ValueError("A NamedSharding over an AbstractMesh has no devices.")
        return self.mesh._flat_devices

    def _tile_assignment(self, ndim):
        return _named_tiles(self.mesh.axis_names, self.mesh.axis_sizes, self.spec, ndim)

    @property
    def is_fully_replicated(self) -> bool:
        sizes = dict(zip(self.mesh.axis_names, self.mesh.axis_sizes))
        return all(sizes[n] == 1 for n in self.spec._axis_names())

    def __eq__(self, other):
        if not isinstance(other, NamedSharding):
            return False
        return other is self or (self.mesh == other.mesh and self.spec == other.spec)

    def __hash__(self):
        h = self._hash
        if h is None:
            h = self._hash = hash((self.mesh, self.spec))
        return h

    def __repr__(self):
        return f"NamedSharding(mesh={self.mesh}, spec={self.spec!r}, memory_kind=device)"

    def __reduce__(self):
        return (NamedSharding, (self.mesh, self.spec))

    def update(self, *, mesh=None, spec=None, memory_kind=None):
        return NamedSharding(mesh if mesh is not None else self.mesh,
                             spec if spec is not None else self.spec)

    def _sdy(self, ndim: int, mesh_symbol: str) -> str:
        """The Shardy attribute for an ``ndim``-d value: ``#sdy.sharding<@mesh, [...]>``."""
        dims = []
        for e in self.spec._normalized(ndim)[:ndim]:
            if e is UNCONSTRAINED:
                dims.append("{?}")
            else:
                dims.append("{" + ", ".join(f'"{n}"' for n in e) + "}")
        return f"#sdy.sharding<@{mesh_symbol}, [{', '.join(dims)}]>"


def _memory_kind(kind):
    """The memory kind a sharding reports: jaxel's arrays live in device memory."""
    if kind in ("pinned_host", "unpinned_host"):
        raise NotImplementedError(f"memory kind {kind!r} is not supported by jaxel yet (only "
                                  "'device').")
    if kind not in (None, "device"):
        raise ValueError(f"unknown memory kind {kind!r}; jaxel's devices have 'device' memory.")
    return "device"


def _check_spec(spec, mesh):
    seen = set()
    for n in spec._axis_names():
        if n not in mesh.axis_names:
            raise ValueError(f"PartitionSpec {spec!r} names the axis {n!r}, which the mesh does "
                             f"not have; its axes are {mesh.axis_names}.")
        if n in seen:
            raise ValueError(f"PartitionSpec {spec!r} uses the mesh axis {n!r} for more than one "
                             "dimension; each axis may split at most one dimension.")
        seen.add(n)


@functools.lru_cache(maxsize=4096)
def _named_tiles(axis_names, axis_sizes, spec, ndim):
    if len(spec) > ndim:
        raise ValueError(f"PartitionSpec {spec!r} has {len(spec)} entries, but the array has "
                         f"only {ndim} dimensions.")
    index = {n: i for i, n in enumerate(axis_names)}
    order, tiles = [], []
    for e in spec._normalized(ndim):
        e = () if e is UNCONSTRAINED else e
        order += [index[n] for n in e]
        tiles.append(math.prod(axis_sizes[index[n]] for n in e))
    unused = [i for i in range(len(axis_names)) if i not in order]
    replicas = math.prod(axis_sizes[i] for i in unused)
    positions = np.arange(math.prod(axis_sizes), dtype=np.int64).reshape(axis_sizes)
    positions = positions.transpose(order + unused).reshape(tuple(tiles) + (replicas,))
    positions.flags.writeable = False
    return tuple(tiles), replicas, positions


class XlaSharding(Sharding):
    """A sharding XLA chose that no known mesh expresses: a tile assignment over devices
    (JAX calls these GSPMDSharding)."""

    def __init__(self, devices, tiles, replicas, positions):
        self._devices = tuple(devices)
        self._tiles = tuple(tiles)
        self._replicas = replicas
        self._positions = np.asarray(positions).reshape(self._tiles + (replicas,))

    @property
    def _device_assignment(self):
        return self._devices

    def _tile_assignment(self, ndim):
        if len(self._tiles) != ndim:
            raise ValueError(f"{self!r} is for arrays of rank {len(self._tiles)}, not {ndim}.")
        return self._tiles, self._replicas, self._positions

    @property
    def is_fully_replicated(self):
        return all(t == 1 for t in self._tiles)

    def __eq__(self, other):
        return isinstance(other, XlaSharding) and self._devices == other._devices and \
            self._tiles == other._tiles and np.array_equal(self._positions, other._positions)

    def __hash__(self):
        return hash((self._devices, self._tiles, self._positions.tobytes()))

    def __repr__(self):
        return (f"GSPMDSharding(devices={len(self._devices)}, tiles={list(self._tiles)}, "
                f"replicas={self._replicas})")


def from_tile_assignment(devices, tiles, replicas, positions, mesh=None):
    """The jaxel sharding for a tile assignment XLA reports: a NamedSharding over ``mesh`` (or
    the current mesh) when one spec expresses it, else an ``XlaSharding``."""
    devices = tuple(devices)
    tiles = tuple(tiles)
    positions = np.asarray(positions).reshape(tiles + (replicas,))
    if len(devices) == 1:
        return SingleDeviceSharding(devices[0])
    for m in (mesh, get_mesh()):
        if isinstance(m, Mesh) and m._flat_devices == devices:
            spec = _find_spec(m.axis_names, m.axis_sizes, tiles, replicas,
                              positions.astype(np.int64).tobytes())
            if spec is not None:
                return NamedSharding(m, spec)
    if all(t == 1 for t in tiles):
        m = Mesh(np.array(devices, dtype=object), ("_all",))
        return NamedSharding(m, PartitionSpec())
    return XlaSharding(devices, tiles, replicas, positions)


@functools.lru_cache(maxsize=1024)
def _find_spec(axis_names, axis_sizes, tiles, replicas, positions_bytes):
    """The shortest PartitionSpec over the mesh whose tile assignment is the given one."""
    ndim = len(tiles)
    if replicas * math.prod(tiles) != math.prod(axis_sizes):
        return None
    # Replicas of a tile may come in any order: compare each tile's set of devices.
    want = np.sort(np.frombuffer(positions_bytes, dtype=np.int64).reshape(-1, replicas), axis=1)
    live = [n for n, s in zip(axis_names, axis_sizes) if s > 1]
    # Each live axis goes to one dimension or to none (-1); axes within a dimension in any
    # order. Meshes have few axes, and results are cached.
    for choice in itertools.product(range(-1, ndim), repeat=len(live)):
        per_dim = [[a for a, c in zip(live, choice) if c == d] for d in range(ndim)]
        sizes = dict(zip(axis_names, axis_sizes))
        if any(math.prod(sizes[a] for a in axes) != t for axes, t in zip(per_dim, tiles)):
            continue
        for orders in itertools.product(*[itertools.permutations(a) for a in per_dim]):
            entries = [None if not o else o[0] if len(o) == 1 else tuple(o) for o in orders]
            while entries and entries[-1] is None:
                entries.pop()
            spec = PartitionSpec(*entries)
            t, r, pos = _named_tiles(axis_names, axis_sizes, spec, ndim)
            if r == replicas and np.array_equal(np.sort(pos.reshape(-1, r), axis=1), want):
                return spec
    return None


_single: dict = {}


def single_device_sharding(device) -> SingleDeviceSharding:
    """The (cached) SingleDeviceSharding of ``device``: ``x.sharding`` of one-device arrays."""
    s = _single.get(device)
    if s is None:
        s = _single[device] = SingleDeviceSharding(device)
    return s


def as_named(sharding, ndim: int) -> NamedSharding:
    """``sharding`` as a NamedSharding (what the program text can name): itself, or for any
    other sharding a NamedSharding over a mesh made from its tile assignment (one axis per
    split dimension, one for the replicas), which places every block on the same devices."""
    if isinstance(sharding, NamedSharding):
        return sharding
    tiles, replicas, positions = sharding._tile_assignment(ndim)
    da = sharding._device_assignment
    names = tuple(f"_d{d}" for d in range(ndim)) + ("_r",)
    devices = np.array([da[p] for p in positions.reshape(-1)], dtype=object).reshape(
        tuple(tiles) + (replicas,))
    return NamedSharding(Mesh(devices, names), PartitionSpec(*names[:ndim]))
