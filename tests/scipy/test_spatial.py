"""jaxel.scipy.spatial.transform (Rotation, Slerp) against scipy.spatial.transform, and the
namespaces of the jaxel.scipy submodules fft / interpolate / cluster.vq /
spatial.transform against jax.scipy's.

Compiles are the cost here, so each test batches its cases into one jitted call.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel.scipy.spatial.transform import Rotation, Slerp

st = pytest.importorskip("scipy.spatial.transform")
RNG = np.random.default_rng(31)
TOL = {np.float32: 2e-5, np.float64: 1e-11}
SEQS = ["xyz", "ZYX", "zxz", "XZX"]  # extrinsic/intrinsic, Tait-Bryan/proper Euler


def _close(ours, ref, dtype, err_msg=""):
    ours = np.asarray(ours) if not isinstance(ours, jaxel.Array) else ours
    assert ours.dtype == dtype, err_msg
    assert ours.shape == np.shape(ref), err_msg
    np.testing.assert_allclose(np.asarray(ours), ref, atol=TOL[dtype] * 10,
                               rtol=TOL[dtype] * 10, err_msg=err_msg)


def test_rotation_against_scipy():
    dtype = np.float64
    quat = RNG.standard_normal((5, 4)).astype(dtype)
    vec = RNG.standard_normal((5, 3)).astype(dtype)
    vec[0] = [1e-5, -2e-5, 0]  # the small-angle series
    vec[1] = 0  # the identity
    weights = RNG.uniform(0.1, 1, 5).astype(dtype)
    matrix = st.Rotation.from_quat(quat[::-1]).as_matrix().astype(dtype)
    matrix[0] *= 3  # not orthogonal: scaled ...
    matrix[1] += RNG.standard_normal((3, 3)).astype(dtype) * 0.1  # ... and perturbed

    def run(quat, vec, weights, matrix):
        r = Rotation.from_quat(quat)
        return [r.as_quat(canonical=True), r.as_quat(scalar_first=True), r.as_matrix(),
                r.as_rotvec(), r.as_rotvec(degrees=True), r.as_mrp(), r.magnitude(),
                r[0].magnitude(), r.apply(vec), r.apply(vec[0], inverse=True),
                r[1].apply(vec), (r * r[::-1]).as_quat(), (r[2] * r).inv().as_quat(),
                r.mean(weights).as_matrix(), r.mean().as_matrix(),
                Rotation.from_matrix(matrix).as_quat(canonical=True),
                Rotation.from_rotvec(vec).as_quat(), Rotation.from_rotvec(vec).as_rotvec(),
                Rotation.from_rotvec(vec * 50, degrees=True).as_quat(),
                Rotation.from_mrp(vec).as_quat(), Rotation.from_mrp(vec * 3).as_mrp(),
                Rotation.from_quat(quat[0], scalar_first=True).as_quat()]

    with jaxel.config._override("jax_enable_x64", dtype == np.float64):
        outs = jaxel.jit(run)(quat, vec, weights, matrix)
    q, v, w, m = (a.astype(np.float64) for a in (quat, vec, weights, matrix))
    s = st.Rotation.from_quat(q)
    refs = [s.as_quat(canonical=True), s.as_quat(scalar_first=True), s.as_matrix(),
            s.as_rotvec(), s.as_rotvec(degrees=True), s.as_mrp(), s.magnitude(),
            s[0].magnitude(), s.apply(v), s.apply(v[0], inverse=True), s[1].apply(v),
            (s * s[::-1]).as_quat(), (s[2] * s).inv().as_quat(), s.mean(w).as_matrix(),
            s.mean().as_matrix(), st.Rotation.from_matrix(m).as_quat(canonical=True),
            st.Rotation.from_rotvec(v).as_quat(), st.Rotation.from_rotvec(v).as_rotvec(),
            st.Rotation.from_rotvec(v * 50, degrees=True).as_quat(),
            st.Rotation.from_mrp(v).as_quat(), st.Rotation.from_mrp(v * 3).as_mrp(),
            st.Rotation.from_quat(q[0], scalar_first=True).as_quat()]
    for i, (ours, ref) in enumerate(zip(outs, refs)):
        _close(ours, ref, dtype, str(i))


def test_rotation_float32():
    quat = RNG.standard_normal((4, 4)).astype(np.float32)
    vec = RNG.standard_normal((4, 3)).astype(np.float32)

    def run(quat, vec):
        r = Rotation.from_quat(quat)
        return [r.as_matrix(), r.as_rotvec(), r.as_euler("ZXZ"), r.apply(vec), r.magnitude(),
                Rotation.from_matrix(r.as_matrix()).as_quat(canonical=True),
                Rotation.from_rotvec(vec).as_quat()]

    outs = jaxel.jit(run)(quat, vec)
    s = st.Rotation.from_quat(quat.astype(np.float64))
    refs = [s.as_matrix(), s.as_rotvec(), s.as_euler("ZXZ"), s.apply(vec), s.magnitude(),
            s.as_quat(canonical=True), st.Rotation.from_rotvec(vec).as_quat()]
    for i, (ours, ref) in enumerate(zip(outs, refs)):
        _close(ours, ref, np.float32, str(i))


def test_euler_against_scipy():
    quat = RNG.standard_normal((6, 4))
    angles = np.concatenate([RNG.uniform(-3, 3, (6, 3)), [  # then gimbal lock:
        [0.3, 0.0, 0.5], [0.3, np.pi / 2, 0.5], [0.3, -np.pi / 2, 0.5], [0.3, np.pi, 0.5],
        [-2.0, 1e-9, 1.0]]])

    def run(quat, angles):
        outs = []
        for seq in SEQS:  # one from_euler and one as_euler per sequence
            from_angles = Rotation.from_euler(seq, angles).quat
            both = Rotation(jnp.concatenate([Rotation.from_quat(quat).quat, from_angles]))
            outs += [from_angles, both.as_euler(seq)]
        outs += [Rotation.from_euler("y", angles[0, 0]).as_quat(),
                 Rotation.from_euler("ZY", angles[:, :2]).as_quat(),
                 Rotation.from_quat(quat).as_euler("yzx", degrees=True),
                 Rotation.from_euler("YXY", angles * 40, degrees=True).as_quat()]
        return outs

    with jaxel.config._override("jax_enable_x64", True):
        outs = jaxel.jit(run)(quat, angles)
    s = st.Rotation.from_quat(quat)
    refs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy's gimbal-lock warning
        for seq in SEQS:
            from_angles = st.Rotation.from_euler(seq, angles)
            refs += [from_angles.as_quat(),
                     np.concatenate([s.as_euler(seq), from_angles.as_euler(seq)])]
    refs += [st.Rotation.from_euler("y", angles[0, 0]).as_quat(),
             st.Rotation.from_euler("ZY", angles[:, :2]).as_quat(),
             s.as_euler("yzx", degrees=True),
             st.Rotation.from_euler("YXY", angles * 40, degrees=True).as_quat()]
    for i, (ours, ref) in enumerate(zip(outs, refs)):
        _close(ours, ref, np.float64, f"{SEQS[min(i // 2, 3)]} case {i % 2}")


def test_slerp_against_scipy():
    quat = RNG.standard_normal((5, 4))
    times = np.array([0.0, 0.5, 2.0, 2.5, 4.0])
    at = np.concatenate([np.linspace(0, 4, 9), [0.7, 3.9]])

    def run(times, quat, at):
        slerp = Slerp.init(times, Rotation.from_quat(quat))
        return slerp(at).as_quat(), slerp.rotvecs, slerp

    with jaxel.config._override("jax_enable_x64", True):
        many, rotvecs, slerp = jaxel.jit(run)(times, quat, at)
    ref = st.Slerp(times, st.Rotation.from_quat(quat))
    _close(many, ref(at).as_quat(), np.float64)
    one = jaxel.eval_shape(lambda s, t: s(t).quat, slerp, 1.5)  # a scalar time: single
    assert one.shape == (4,)
    assert isinstance(slerp, Slerp) and isinstance(slerp.rotations, Rotation)
    assert rotvecs.shape == (4, 3) and slerp.timedelta.shape == (4,)
    rots = Rotation.from_quat(jnp.asarray(quat, jnp.float32))
    with pytest.raises(ValueError, match="strictly increasing"):
        Slerp.init(jnp.asarray([0.0, 2.0, 1.0, 3.0, 4.0]), rots)
    with pytest.raises(ValueError, match="number of rotations"):
        Slerp.init(jnp.asarray([0.0, 1.0]), rots)
    with pytest.raises(ValueError, match="at least 2"):
        Slerp.init(jnp.asarray([0.0, 1.0]), rots[0])
    with pytest.raises(TypeError, match="Rotation"):
        Slerp.init(jnp.asarray([0.0, 1.0]), quat)


def test_rotation_api_and_pytree():
    quat = jnp.asarray(RNG.standard_normal((3, 4)), jnp.float32)

    def run(quat, key):
        r = Rotation.from_quat(quat)
        both = Rotation.concatenate([r[0], r, Rotation.identity(2)])
        return (r, both, Rotation.identity(), Rotation.random(key, 4),
                Rotation.random(key).quat, Rotation.from_quat(quat[:, None, :]).as_matrix(),
                jaxel.vmap(lambda q: Rotation.from_quat(q).as_rotvec())(quat))

    r, both, ident, rand, single_rand, stacked, rotvecs = jaxel.jit(run)(
        quat, jaxel.random.key(0))
    assert isinstance(r, Rotation) and not r.single and len(r) == 3
    assert r[1].single and r[1:].quat.shape == (2, 4)
    assert both.quat.shape == (6, 4) and ident.single and ident.quat.dtype == jnp.float32
    np.testing.assert_array_equal(np.asarray(both.quat[4:]), [[0, 0, 0, 1]] * 2)
    assert rand.quat.shape == (4, 4) and single_rand.shape == (4,)
    np.testing.assert_allclose(np.linalg.norm(np.asarray(rand.quat), axis=-1), 1, rtol=1e-6)
    assert stacked.shape == (3, 1, 3, 3) and rotvecs.shape == (3, 3)
    assert jaxel.tree_util.tree_leaves(r)[0] is r.quat
    single = r[0]
    with pytest.raises(TypeError, match="len"):
        len(single)
    with pytest.raises(TypeError, match="subscriptable"):
        single[0]
    with pytest.raises(TypeError):
        single * quat
    with pytest.raises(ValueError, match="broadcast"):
        r * Rotation(jnp.ones((2, 4)))
    with pytest.raises(ValueError, match="consecutive"):
        Rotation.from_euler("xxy", jnp.ones(3))
    with pytest.raises(ValueError, match="'xyz'"):
        Rotation.from_euler("xYz", jnp.ones(3))
    with pytest.raises(ValueError, match="3 axes"):
        r.as_euler("xy")
    with pytest.raises(ValueError, match="last dimension"):
        Rotation.from_euler("xyz", jnp.ones((2, 2)))
    with pytest.raises(ValueError, match=r"\(\.\.\., 4\)"):
        Rotation.from_quat(jnp.ones(3))
    with pytest.raises(ValueError, match=r"\(\.\.\., 3, 3\)"):
        Rotation.from_matrix(jnp.ones((2, 3)))
    with pytest.raises(ValueError, match="weights"):
        r.mean(jnp.ones(2))
    with pytest.raises(ValueError, match="broadcast"):
        r.apply(jnp.ones((2, 3)))


def test_rotation_gradients():
    vec = RNG.standard_normal((3, 3))
    vec[0] *= 1e-4  # the small-angle series
    points = RNG.standard_normal((3, 3))
    with jaxel.config._override("jax_enable_x64", True):
        f = jaxel.jit(lambda v, p: Rotation.from_rotvec(v).apply(p))
        jaxel.test_util.check_grads(f, (vec, points), order=1, atol=1e-6, rtol=1e-6)


def test_namespaces_match_jax():
    pytest.importorskip("jax")
    import importlib

    for name in ("fft", "interpolate", "cluster.vq", "spatial.transform"):
        theirs = importlib.import_module(f"jax.scipy.{name}")
        ours = importlib.import_module(f"jaxel.scipy.{name}")
        public = [n for n in dir(theirs) if not n.startswith("_")]
        missing = [n for n in public if not hasattr(ours, n)]
        assert not missing, (name, missing)
    import jax.scipy.interpolate as jinterp
    import jax.scipy.spatial.transform as jst

    from jaxel.scipy.interpolate import RegularGridInterpolator

    for theirs, ours in ((jst.Rotation, Rotation), (jst.Slerp, Slerp),
                         (jinterp.RegularGridInterpolator, RegularGridInterpolator)):
        names = [n for n in dir(theirs) if not n.startswith("_")
                 or n in ("__call__", "__mul__", "__getitem__", "__len__")]
        missing = [n for n in names if not hasattr(ours, n)]
        assert not missing, (theirs.__name__, missing)
    assert Rotation._fields == jst.Rotation._fields and Slerp._fields == jst.Slerp._fields
    import jaxel.scipy

    for sub in ("fft", "interpolate", "cluster", "spatial"):
        assert hasattr(jaxel.scipy, sub)
    assert jaxel.scipy.cluster.vq.vq is importlib.import_module("jaxel.scipy.cluster.vq").vq
