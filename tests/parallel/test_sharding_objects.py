"""jaxel.sharding's objects against JAX 0.12.1's on 4 and 8 CPU devices.

Mesh / make_mesh / AbstractMesh, PartitionSpec, NamedSharding, SingleDeviceSharding and the
current-mesh functions: shapes, names, device order, printing, equality and hashing (they are
cache keys), index maps (Hypothesis draws meshes, specs and shapes) and errors.
"""
import pickle

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import jaxel
from jaxel import sharding as S

jax = pytest.importorskip("jax")
from jax import sharding as J  # noqa: E402

JD = jax.devices()
D = jaxel.devices()
pytestmark = pytest.mark.skipif(len(D) < 8 or len(JD) < 8, reason="needs 8 CPU devices")


def _meshes(shape, names, perm=None, types=None):
    """The same mesh in jaxel and in JAX (devices by id, in ``perm`` order)."""
    n = int(np.prod(shape))
    ids = list(range(n)) if perm is None else list(perm)
    ours = S.Mesh(np.array([D[i] for i in ids], dtype=object).reshape(shape), names,
                  None if types is None else tuple(getattr(S.AxisType, t) for t in types))
    theirs = J.Mesh(np.array([JD[i] for i in ids]).reshape(shape), names,
                    None if types is None else tuple(getattr(J.AxisType, t) for t in types))
    return ours, theirs


def _index_map(sharding, shape, addressable=False):
    """``{device id: ((start, stop), ...)}`` of either library's sharding."""
    m = (sharding.addressable_devices_indices_map(shape) if addressable
         else sharding.devices_indices_map(shape))
    return {d.id: tuple(s.indices(n)[:2] for s, n in zip(idx, shape)) for d, idx in m.items()}


# ---- Mesh, make_mesh ---------------------------------------------------------------------------
@pytest.mark.parametrize("shape,names", [((8,), ("x",)), ((2, 4), ("x", "y")),
                                         ((2, 2, 2), ("a", "b", "c")), ((4,), ("d",)),
                                         ((1, 4), ("p", "q"))])
def test_make_mesh_like_jax(shape, names):
    ours, theirs = jaxel.make_mesh(shape, names), jax.make_mesh(shape, names)
    assert ours.device_ids.tolist() == theirs.device_ids.tolist()
    assert ours.axis_names == theirs.axis_names and ours.axis_sizes == theirs.axis_sizes
    assert repr(ours.axis_types) == repr(theirs.axis_types)     # Explicit by default
    assert dict(ours.shape) == dict(theirs.shape) and ours.size == theirs.size
    assert ours.shape_tuple == theirs.shape_tuple
    assert repr(ours) == repr(theirs) and str(ours) == str(theirs)
    assert ours.devices.shape == theirs.devices.shape


def test_make_mesh_devices_and_types():
    ours = jaxel.make_mesh((2, 2), ("x", "y"), devices=D[4:])
    theirs = jax.make_mesh((2, 2), ("x", "y"), devices=JD[4:])
    assert ours.device_ids.tolist() == theirs.device_ids.tolist() == [[4, 5], [6, 7]]
    types = (S.AxisType.Auto, S.AxisType.Explicit)
    ours = jaxel.make_mesh((2, 4), ("x", "y"), types)
    theirs = jax.make_mesh((2, 4), ("x", "y"), (J.AxisType.Auto, J.AxisType.Explicit))
    assert repr(ours) == repr(theirs)
    assert ours.auto_axes == theirs.auto_axes == ("x",)
    assert ours.explicit_axes == theirs.explicit_axes == ("y",)
    assert ours.manual_axes == theirs.manual_axes == ()


def test_make_mesh_errors():
    for lib in (jax, jaxel):
        with pytest.raises(ValueError):
            lib.make_mesh((16,), ("x",))               # more devices than there are
        with pytest.raises(ValueError):
            lib.make_mesh((2, 4), ("x",))              # one name for two axes
    with pytest.raises(ValueError, match="needs 16 devices"):
        jaxel.make_mesh((16,), ("x",))


def test_mesh_like_jax():
    perm = [3, 1, 0, 2, 7, 5, 4, 6]
    ours, theirs = _meshes((2, 4), ("x", "y"), perm)
    assert ours.device_ids.tolist() == theirs.device_ids.tolist()
    assert repr(ours) == repr(theirs) and str(ours) == str(theirs)
    assert [d.id for d in ours.devices.flat] == perm
    assert ours.local_devices == [D[i] for i in perm]
    assert ours.is_multi_process is theirs.is_multi_process is False
    assert ours.empty is theirs.empty is False
    # A single name, and a list of devices, are accepted as by JAX.
    assert repr(S.Mesh(D, "x")) == repr(J.Mesh(JD, "x"))
    ours, theirs = _meshes((8,), ("x",), types=("Explicit",))
    assert repr(ours) == repr(theirs)


def test_mesh_equality_and_hash():
    a, ja = _meshes((2, 4), ("x", "y"))
    variants = [_meshes((2, 4), ("x", "y")), _meshes((2, 4), ("x", "z")),
                _meshes((2, 4), ("x", "y"), perm=range(7, -1, -1)),
                _meshes((4, 2), ("x", "y")),
                _meshes((2, 4), ("x", "y"), types=("Auto", "Explicit"))]
    for b, jb in variants:
        assert (a == b) == (ja == jb)
        if a == b:
            assert hash(a) == hash(b)
    assert {a: 1}[_meshes((2, 4), ("x", "y"))[0]] == 1        # usable as a cache key
    assert a != ja.abstract_mesh and a != "mesh"
    # Devices do not pickle (in JAX neither), so meshes do not.
    for mesh in (a, ja):
        with pytest.raises(TypeError):
            pickle.dumps(mesh)


def test_mesh_errors():
    devs = np.array(D, dtype=object).reshape(2, 4)
    with pytest.raises(ValueError):
        S.Mesh(devs, ("x",))
    with pytest.raises(ValueError):
        J.Mesh(np.array(JD).reshape(2, 4), ("x",))
    # Stricter than JAX (which accepts these and fails later): clear errors at once.
    with pytest.raises(ValueError, match="distinct"):
        S.Mesh(devs, ("x", "x"))
    with pytest.raises(ValueError, match="more than once"):
        S.Mesh(np.array([D[0], D[0]], dtype=object), ("x",))
    with pytest.raises(TypeError, match="devices"):
        S.Mesh(np.array([1, 2]), ("x",))
    with pytest.raises(ValueError, match="axis_types"):
        S.Mesh(devs, ("x", "y"), (S.AxisType.Auto,))


# ---- AbstractMesh and the current mesh -----------------------------------------------------------
def test_abstract_mesh_like_jax():
    ours, theirs = S.AbstractMesh((2, 4), ("x", "y")), J.AbstractMesh((2, 4), ("x", "y"))
    assert repr(ours) == repr(theirs)                        # Explicit axes by default
    assert repr(ours.axis_types) == repr(theirs.axis_types)
    assert ours.size == theirs.size and dict(ours.shape) == dict(theirs.shape)
    mixed = (S.AxisType.Explicit, S.AxisType.Auto)
    jmixed = (J.AxisType.Explicit, J.AxisType.Auto)
    assert repr(S.AbstractMesh((2, 4), ("x", "y"), mixed)) == repr(
        J.AbstractMesh((2, 4), ("x", "y"), jmixed))
    assert repr(S.AbstractMesh((), ())) == repr(J.AbstractMesh((), ()))
    assert S.AbstractMesh((), ()).empty and J.AbstractMesh((), ()).empty
    # A mesh's abstract mesh keeps its axis types, so it differs from the default one.
    m, jm = _meshes((2, 4), ("x", "y"))
    assert (m.abstract_mesh == ours) == (jm.abstract_mesh == theirs) == False  # noqa: E712
    assert m.abstract_mesh == S.AbstractMesh((2, 4), ("x", "y"), (S.AxisType.Auto,) * 2)
    assert hash(ours) == hash(S.AbstractMesh((2, 4), ("x", "y")))


def test_current_mesh():
    m, jm = _meshes((2, 4), ("x", "y"))
    assert repr(S.get_abstract_mesh()) == repr(J.get_abstract_mesh())   # empty
    assert S.get_abstract_mesh().empty
    with jaxel.set_mesh(m) as got, jax.set_mesh(jm):
        assert got is m
        assert S.get_mesh() is m
        assert jaxel.get_mesh() is m
        assert S.get_abstract_mesh() == m.abstract_mesh
        assert S.get_abstract_mesh().shape_tuple == J.get_abstract_mesh().shape_tuple
        m2, _ = _meshes((4,), ("z",))
        with S.use_mesh(m2):
            assert S.get_mesh() is m2
        assert S.get_mesh() is m
    assert S.get_abstract_mesh().empty
    with m:
        assert S.get_mesh() is m
    with pytest.raises(TypeError):
        jaxel.set_mesh("mesh")


# ---- PartitionSpec ---------------------------------------------------------------------------
SPECS = [(), (None,), ("x",), ("x", None), (("x",),), (("x", "y"),), ("x", "y"), ("y", "x"),
         (None, "x"), (None, None), ((),), (("y", "x"),), (None, ("x", "y"), None)]


def test_partition_spec_like_jax():
    for args in SPECS:
        ours, theirs = S.P(*args), J.PartitionSpec(*args)
        assert repr(ours) == repr(theirs), args
        assert tuple(ours) == tuple(theirs) and len(ours) == len(theirs)
        assert pickle.loads(pickle.dumps(ours)) == ours
    for a in SPECS:
        for b in SPECS:
            same = S.P(*a) == S.P(*b)
            assert same == (J.PartitionSpec(*a) == J.PartitionSpec(*b)), (a, b)
            assert (S.P(*a) != S.P(*b)) == (not same)
            if same:
                assert hash(S.P(*a)) == hash(S.P(*b))
    assert S.P("x") != ("x",) and J.PartitionSpec("x") != ("x",)
    assert repr(S.P("x") + ("y",)) == repr(J.PartitionSpec("x") + ("y",))
    assert repr(("y",) + S.P("x")) == repr(("y",) + J.PartitionSpec("x"))
    assert repr(S.P("x", S.P.UNCONSTRAINED)) == repr(
        J.PartitionSpec("x", J.PartitionSpec.UNCONSTRAINED))
    assert S.P is S.PartitionSpec and jaxel.P is S.PartitionSpec


def test_partition_spec_errors():
    with pytest.raises(TypeError, match="axis name"):
        S.P(1)
    with pytest.raises(TypeError, match="axis name"):
        S.P(("x", 2.0))
    with pytest.raises(NotImplementedError):
        S.P("x", unreduced={"y"})


# ---- NamedSharding -----------------------------------------------------------------------------
def _both(mesh_shape, names, spec, perm=None):
    m, jm = _meshes(mesh_shape, names, perm)
    return S.NamedSharding(m, S.P(*spec)), J.NamedSharding(jm, J.PartitionSpec(*spec))


def _check_like_jax(ours, theirs, shape):
    assert _index_map(ours, shape) == _index_map(theirs, shape)
    assert _index_map(ours, shape, True) == _index_map(theirs, shape, True)
    assert ours.shard_shape(shape) == theirs.shard_shape(shape)
    assert ours.is_fully_replicated == theirs.is_fully_replicated
    assert ours.is_fully_addressable == theirs.is_fully_addressable
    assert ours.num_devices == theirs.num_devices
    assert {d.id for d in ours.device_set} == {d.id for d in theirs.device_set}
    assert {d.id for d in ours.addressable_devices} == {d.id for d in theirs.addressable_devices}
    assert ours.memory_kind == theirs.memory_kind == "device"
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("mesh_shape,names,spec,shape", [
    ((2, 4), ("x", "y"), ("x", "y"), (4, 8)),
    ((2, 4), ("x", "y"), ("y",), (8, 3)),
    ((2, 4), ("x", "y"), (None, ("y", "x")), (2, 16)),
    ((2, 4), ("x", "y"), (), (3, 5)),
    ((2, 2, 2), ("a", "b", "c"), (("c", "a"), None, "b"), (4, 1, 2)),
    ((4,), ("x",), ("x",), (8,)),
    ((1, 4), ("p", "q"), ("p", "q"), (3, 4)),
])
def test_named_sharding_like_jax(mesh_shape, names, spec, shape):
    perm = [2, 0, 3, 1, 6, 4, 7, 5] if np.prod(mesh_shape) == 8 else None
    ours, theirs = _both(mesh_shape, names, spec, perm)
    _check_like_jax(ours, theirs, shape)


MESH_SHAPES = [(4,), (2, 2), (1, 4), (2, 2, 1), (8,), (2, 4), (4, 2), (2, 2, 2), (1, 8),
               (2, 1, 4)]


@st.composite
def _random_case(draw):
    mesh_shape = draw(st.sampled_from(MESH_SHAPES))
    n = int(np.prod(mesh_shape))
    names = ("a", "b", "c")[:len(mesh_shape)]
    perm = draw(st.permutations(range(n)))
    ndim = draw(st.integers(0, 3))
    # Each mesh axis splits one array dimension or none; axes within a dimension in any order.
    where = {a: draw(st.integers(-1, ndim - 1)) for a in names}
    order = draw(st.permutations(names))
    sizes = dict(zip(names, mesh_shape))
    entries, shape = [], []
    for d in range(ndim):
        axes = tuple(a for a in order if where[a] == d)
        single_as_name = draw(st.booleans())
        entries.append(None if not axes else axes[0] if len(axes) == 1 and single_as_name
                       else axes)
        shape.append(int(np.prod([sizes[a] for a in axes])) * draw(st.integers(1, 3)))
    if draw(st.booleans()):        # trailing Nones may be left out
        while entries and entries[-1] is None:
            entries.pop()
    return mesh_shape, names, tuple(entries), tuple(shape), perm


@settings(max_examples=60, deadline=None)
@given(_random_case())
def test_devices_indices_map_random_like_jax(case):
    mesh_shape, names, spec, shape, perm = case
    ours, theirs = _both(mesh_shape, names, spec, perm)
    _check_like_jax(ours, theirs, shape)


@settings(max_examples=60, deadline=None)
@given(_random_case())
def test_spec_recovered_from_tile_assignment_like_jax(case):
    # What results of partitioned programs report: the spec XLA's layout comes back as, for
    # jaxel the shortest spec over the mesh, for JAX its parse of the HloSharding.
    from jax._src.sharding_impls import parse_flatten_op_sharding
    from jaxel.sharding.shardings import from_tile_assignment
    mesh_shape, names, spec, shape, perm = case
    ours, theirs = _both(mesh_shape, names, spec, perm)
    tiles, replicas, positions = ours._tile_assignment(len(shape))
    got = from_tile_assignment(ours.mesh._flat_devices, tiles, replicas, positions,
                               mesh=ours.mesh)
    want = parse_flatten_op_sharding(theirs._to_xla_hlo_sharding(len(shape)), theirs.mesh)[0]
    assert isinstance(got, S.NamedSharding) and got.mesh == ours.mesh
    assert repr(got.spec) == repr(want)
    assert got.is_equivalent_to(ours, len(shape))


def test_named_sharding_equality_as_cache_keys():
    m, jm = _meshes((2, 4), ("x", "y"))
    m2, jm2 = _meshes((2, 4), ("x", "y"), perm=range(7, -1, -1))
    ours = [S.NamedSharding(mm, S.P(*s)) for mm in (m, m2) for s in SPECS]
    theirs = [J.NamedSharding(mm, J.PartitionSpec(*s)) for mm in (jm, jm2) for s in SPECS]
    for i in range(len(ours)):
        for k in range(len(ours)):
            assert (ours[i] == ours[k]) == (theirs[i] == theirs[k]), (i, k)
            if ours[i] == ours[k]:
                assert hash(ours[i]) == hash(ours[k])
    cache = {s: i for i, s in enumerate(ours)}
    assert cache[S.NamedSharding(_meshes((2, 4), ("x", "y"))[0], S.P("x", "y"))] == \
        SPECS.index(("x", "y"))
    s = S.NamedSharding(m, S.P("x"))
    assert s != S.SingleDeviceSharding(D[0]) and s.mesh is m and s.spec == S.P("x")


def test_is_equivalent_to_like_jax():
    m, jm = _meshes((2, 4), ("x", "y"))
    pairs = [(("x",), ("x", None)), (("x",), ("y",)), ((), (None, None)),
             ((("x", "y"),), (("y", "x"),))]
    for a, b in pairs:
        ours = S.NamedSharding(m, S.P(*a)).is_equivalent_to(S.NamedSharding(m, S.P(*b)), 2)
        theirs = J.NamedSharding(jm, J.PartitionSpec(*a)).is_equivalent_to(
            J.NamedSharding(jm, J.PartitionSpec(*b)), 2)
        assert ours == theirs, (a, b)
    one, jone = _meshes((1,), ("x",))
    assert S.NamedSharding(one, S.P("x")).is_equivalent_to(S.SingleDeviceSharding(D[0]), 2) \
        == J.NamedSharding(jone, J.PartitionSpec("x")).is_equivalent_to(
            J.make_single_device_sharding(JD[0]), 2)


def test_named_sharding_errors():
    m, jm = _meshes((2, 4), ("x", "y"))
    with pytest.raises(ValueError, match="'z'"):
        S.NamedSharding(m, S.P("z"))
    with pytest.raises(ValueError):
        J.NamedSharding(jm, J.PartitionSpec("z"))
    for spec in [("x", "x"), (("x", "y"), "x")]:
        with pytest.raises(ValueError, match="more than one dimension"):
            S.NamedSharding(m, S.P(*spec))
        with pytest.raises(Exception, match="duplicate"):       # JAX's DuplicateSpecError
            J.NamedSharding(jm, J.PartitionSpec(*spec))
    ours, theirs = S.NamedSharding(m, S.P("y")), J.NamedSharding(jm, J.PartitionSpec("y"))
    for fn in ["shard_shape", "devices_indices_map", "addressable_devices_indices_map"]:
        with pytest.raises(ValueError, match="divisible"):
            getattr(ours, fn)((6,))
        with pytest.raises(ValueError):
            getattr(theirs, fn)((6,))
    with pytest.raises(ValueError, match="2 entries"):
        S.NamedSharding(m, S.P("x", "y")).shard_shape((8,))
    with pytest.raises(TypeError, match="Mesh"):
        S.NamedSharding(3, S.P("x"))
    with pytest.raises(TypeError, match="PartitionSpec"):
        S.NamedSharding(m, "x")
    with pytest.raises(NotImplementedError):
        S.NamedSharding(m, S.P("x"), memory_kind="pinned_host")
    with pytest.raises(ValueError, match="memory kind"):
        S.NamedSharding(m, S.P("x"), memory_kind="bogus")


def test_named_sharding_over_abstract_mesh():
    m, jm = _meshes((2, 4), ("x", "y"))
    ours = S.NamedSharding(m.abstract_mesh, S.P("x"))
    theirs = J.NamedSharding(jm.abstract_mesh, J.PartitionSpec("x"))
    assert ours.num_devices == theirs.num_devices == 8
    assert ours.spec == S.P("x") and ours.mesh == m.abstract_mesh


# ---- SingleDeviceSharding ------------------------------------------------------------------------
def test_single_device_sharding_like_jax():
    ours, theirs = S.SingleDeviceSharding(D[3]), J.make_single_device_sharding(JD[3])
    for shape in [(), (4,), (2, 3)]:
        _check_like_jax(ours, theirs, shape)
    assert ours == S.SingleDeviceSharding(D[3]) and ours != S.SingleDeviceSharding(D[2])
    assert hash(ours) == hash(S.SingleDeviceSharding(D[3]))
    one, jone = _meshes((1,), ("x",), perm=[3])
    assert (ours == S.NamedSharding(one, S.P())) == (theirs == J.NamedSharding(jone,
                                                                                J.PartitionSpec()))
    assert repr(S.make_single_device_sharding(D[1])) == repr(J.make_single_device_sharding(JD[1]))
    assert S.is_single_device_sharding(ours) and J.is_single_device_sharding(theirs)
    m, jm = _meshes((2, 4), ("x", "y"))
    assert S.is_single_device_sharding(S.NamedSharding(m, S.P())) == \
        J.is_single_device_sharding(J.NamedSharding(jm, J.PartitionSpec()))
