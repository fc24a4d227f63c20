"""Arrays laid out over several devices: placing, reading back, shards, eager ops, resharding.

Compared with JAX 0.12.1 on the same meshes (8 CPU devices in both, see tests/conftest.py) and
with NumPy.
"""
import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel.sharding import Mesh, NamedSharding, P, SingleDeviceSharding
from tests.parallel.oracle import index_map, same_layout, shards_summary

jax = pytest.importorskip("jax")
jjnp = jax.numpy
jP = jax.sharding.PartitionSpec

MESHES = [((4,), ("x",)), ((2, 2), ("x", "y")), ((2, 4), ("a", "b")), ((8,), ("d",))]
SPECS = {
    ("x",): [P("x"), P(None, "x"), P()],
    ("x", "y"): [P("x"), P("y", "x"), P(("x", "y")), P(None, ("y", "x")), P()],
    ("a", "b"): [P("a", "b"), P("b"), P(("b", "a"))],
    ("d",): [P("d"), P(None, "d")],
}
CASES = [(shape, names, spec) for shape, names in MESHES for spec in SPECS[names]]


def meshes(shape, names):
    ours = Mesh(np.array(jaxel.devices()[:int(np.prod(shape))]).reshape(shape), names)
    theirs = jax.sharding.Mesh(np.array(jax.devices()[:int(np.prod(shape))]).reshape(shape),
                               names)
    return ours, theirs


def value(shape=(8, 8), dtype=np.float32):
    v = np.arange(np.prod(shape)).reshape(shape)
    return (v if np.dtype(dtype).kind in "iu" else v / 7).astype(dtype)


@pytest.mark.parametrize("mesh_shape,names,spec", CASES, ids=str)
def test_device_put_layout_matches_jax(mesh_shape, names, spec):
    m, jm = meshes(mesh_shape, names)
    v = value()
    x = jaxel.device_put(v, NamedSharding(m, spec))
    y = jax.device_put(v, jax.sharding.NamedSharding(jm, jP(*spec)))
    same_layout(x, y)
    np.testing.assert_array_equal(np.asarray(x), v)
    assert x.sharding == NamedSharding(m, spec)
    assert x.is_fully_addressable
    assert x.is_fully_replicated == y.is_fully_replicated
    assert {d.id for d in x.devices()} == {d.id for d in y.devices()}
    assert len(x.global_shards) == len(y.global_shards)


@pytest.mark.parametrize("mesh_shape,names,spec", CASES[:8], ids=str)
def test_eager_ops_stay_laid_out_like_jax(mesh_shape, names, spec):
    m, jm = meshes(mesh_shape, names)
    v = value()
    x = jaxel.device_put(v, NamedSharding(m, spec))
    y = jax.device_put(v, jax.sharding.NamedSharding(jm, jP(*spec)))
    for f, jf in [(jnp.sin, jjnp.sin), (lambda a: a * 2 + 1, lambda a: a * 2 + 1),
                  (lambda a: a.sum(0), lambda a: a.sum(0)),
                  (lambda a: jnp.exp(a).T, lambda a: jjnp.exp(a).T)]:
        got, want = f(x), jf(y)
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-6)
        assert index_map(got.sharding, got.shape) == index_map(want.sharding, want.shape)


def test_eager_matmul_and_mixed_operands():
    m, jm = meshes((2, 2), ("x", "y"))
    v = value()
    x = jaxel.device_put(v, NamedSharding(m, P("x")))
    out = x @ jnp.ones((8, 3))  # uncommitted operand: replicated over the mesh
    np.testing.assert_allclose(np.asarray(out), v @ np.ones((8, 3)), rtol=1e-6)
    assert out.sharding.device_set == set(m.devices.flat)


def test_shards_and_read_back_match_jax():
    m, jm = meshes((2, 4), ("a", "b"))
    v = value((4, 8), np.int32)
    x = jaxel.device_put(v, NamedSharding(m, P("a", "b")))
    y = jax.device_put(v, jax.sharding.NamedSharding(jm, jP("a", "b")))
    assert shards_summary(x) == shards_summary(y)
    s = x.addressable_shards[5]
    assert s.data.device == s.device and s.data.shape == (2, 2)
    np.testing.assert_array_equal(np.asarray(s.data), v[s.index])
    assert x.addressable_data(0).shape == (2, 2)
    assert repr(x).startswith("Array(") and "int32" in repr(x)


def test_reshard_between_layouts_and_meshes():
    m, _ = meshes((2, 2), ("x", "y"))
    v = value()
    x = jaxel.device_put(v, NamedSharding(m, P("x")))
    for spec in [P("y"), P(None, ("x", "y")), P()]:
        y = jaxel.device_put(x, NamedSharding(m, spec))
        assert y.sharding.spec == spec
        np.testing.assert_array_equal(np.asarray(y), v)
    other = Mesh(np.array(jaxel.devices()[4:8]), ("z",))
    z = jaxel.device_put(x, NamedSharding(other, P("z")))
    assert {d.id for d in z.devices()} == {4, 5, 6, 7}
    np.testing.assert_array_equal(np.asarray(z), v)
    one = jaxel.device_put(x, jaxel.devices()[3])
    assert one.devices() == {jaxel.devices()[3]}
    np.testing.assert_array_equal(np.asarray(one), v)
    assert one.sharding == SingleDeviceSharding(jaxel.devices()[3])


def test_device_put_pytrees_and_prefixes():
    m, _ = meshes((4,), ("x",))
    tree = {"a": value((4, 2)), "b": (value((8,)), 1.0)}
    out = jaxel.device_put(tree, NamedSharding(m, P()))
    assert all(leaf.sharding.spec == P() for leaf in jaxel.tree_util.tree_leaves(out))
    assert out["b"][1].weak_type
    out = jaxel.device_put(tree, {"a": NamedSharding(m, P("x")), "b": NamedSharding(m, P())})
    assert out["a"].sharding.spec == P("x") and out["b"][0].sharding.spec == P()
    with jaxel.sharding.use_mesh(m):
        out = jaxel.device_put(value((4,)), P("x"))
    assert out.sharding == NamedSharding(m, P("x"))


def test_make_array_from_callback_and_single_device_arrays():
    m, jm = meshes((2, 2), ("x", "y"))
    v = value((4, 6))
    s = NamedSharding(m, P("x", "y"))
    x = jaxel.make_array_from_callback(v.shape, s, lambda idx: v[idx])
    y = jax.make_array_from_callback(v.shape, jax.sharding.NamedSharding(jm, jP("x", "y")),
                                     lambda idx: v[idx])
    same_layout(x, y)
    pieces = [jaxel.device_put(v[idx], d) for d, idx in s.addressable_devices_indices_map(
        v.shape).items()]
    z = jaxel.make_array_from_single_device_arrays(v.shape, s, pieces)
    np.testing.assert_array_equal(np.asarray(z), v)
    assert z.sharding == s
    w = jaxel.make_array_from_process_local_data(s, v)
    np.testing.assert_array_equal(np.asarray(w), v)


def test_errors_name_the_problem():
    m, _ = meshes((4,), ("x",))
    with pytest.raises(ValueError, match="divisible by 4"):
        jaxel.device_put(np.ones(6), NamedSharding(m, P("x")))
    with pytest.raises(ValueError, match="does not have"):
        NamedSharding(m, P("nope"))
    with pytest.raises(ValueError, match="more than one dimension"):
        NamedSharding(m, P("x", "x"))
    with pytest.raises(ValueError, match="needs a mesh"):
        jaxel.device_put(np.ones(4), P("x"))
    with pytest.raises(ValueError, match="has 2 entries"):
        jaxel.device_put(np.ones(4), NamedSharding(m, P(None, "x")))
    x = jaxel.device_put(np.ones(4), NamedSharding(m, P("x")))
    with pytest.raises(ValueError, match="make_array_from_callback"):
        jaxel.make_array_from_callback((4,), NamedSharding(m, P("x")), lambda i: np.ones(3))
    with pytest.raises(BufferError, match="one device"):
        x.__dlpack__()


def test_copy_pickle_and_iteration_keep_values():
    import pickle
    m, _ = meshes((4,), ("x",))
    v = value((4, 2))
    x = jaxel.device_put(v, NamedSharding(m, P("x")))
    c = x.copy()
    assert c.sharding == x.sharding
    np.testing.assert_array_equal(np.asarray(c), v)
    np.testing.assert_array_equal(np.asarray(pickle.loads(pickle.dumps(x))), v)
    np.testing.assert_array_equal(np.stack([np.asarray(r) for r in x]), v)
    assert float(x[1, 1]) == pytest.approx(v[1, 1])


def test_memory_spaces_and_type_options():
    assert [s.name for s in jaxel.memory.Space] == [s.name for s in jax.memory.Space]
    with jaxel.auto_pcast(True):
        assert jaxel.config.jax_auto_pcast is True
    assert jaxel.config.jax_auto_pcast is False
    with jaxel.remove_size_one_mesh_axis_from_type(True):
        assert jaxel.config.jax_remove_size_one_mesh_axis_from_type is True
