"""jaxel.scipy.fft (DCT), jaxel.scipy.interpolate.RegularGridInterpolator and
jaxel.scipy.cluster.vq against SciPy (and jax.scipy's signatures).

Compiles are the cost here, so each test batches its cases into one jitted call per dtype.
"""
from __future__ import annotations

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel.scipy import fft as jfft
from jaxel.scipy.cluster.vq import vq
from jaxel.scipy.interpolate import RegularGridInterpolator

sfft = pytest.importorskip("scipy.fft")
sinterp = pytest.importorskip("scipy.interpolate")
svq = pytest.importorskip("scipy.cluster.vq")
RNG = np.random.default_rng(23)
TOL = {np.float32: 2e-5, np.float64: 1e-12}

# (input shape, function name, keyword arguments)
DCT_CASES = [
    ((1,), "dct", {}), ((2,), "idct", {"norm": "ortho"}),
    ((3, 7), "dct", {"norm": "ortho"}), ((4, 5), "idct", {"axis": -2, "n": 6}),
    ((3, 8), "dct", {"axis": 0, "n": 5, "norm": "backward"}),
    ((3, 4, 5), "dctn", {"axes": (0, 2), "norm": "ortho"}),
    ((3, 4, 5), "idctn", {"s": (6, 2)}),
    ((3, 4, 5), "dctn", {"s": (2, 7), "axes": (2, 0)}), ((4, 5), "idctn", {"norm": "ortho"}),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dct_against_scipy(dtype):
    cases = DCT_CASES if dtype == np.float64 else DCT_CASES[::2]  # fewer compiled ops
    xs = [RNG.standard_normal(shape).astype(dtype) for shape, _, _ in cases]
    xs.append((RNG.standard_normal(6) + 1j * RNG.standard_normal(6)).astype(
        np.complex64 if dtype == np.float32 else np.complex128))

    def run(xs):
        outs = [getattr(jfft, name)(x, **kw) for x, (_, name, kw) in zip(xs, cases)]
        outs.append(jfft.idct(jfft.dct(xs[-1], norm="ortho"), norm="ortho"))  # complex
        outs.append(jfft.dct(xs[-1]))
        return outs

    with jaxel.config._override("jax_enable_x64", dtype == np.float64):
        outs = jaxel.jit(run)(xs)
    for x, out, (_, name, kw) in zip(xs, outs, cases):
        ref = getattr(sfft, name)(x.astype(np.float64), **kw)
        assert out.dtype == dtype, (name, kw)
        assert out.shape == ref.shape, (name, kw)
        scale = max(1.0, np.abs(ref).max())
        np.testing.assert_allclose(np.asarray(out), ref, atol=TOL[dtype] * scale,
                                   err_msg=f"{name} {kw}")
    np.testing.assert_allclose(np.asarray(outs[-2]), xs[-1], atol=TOL[dtype] * 10)
    np.testing.assert_allclose(np.asarray(outs[-1]), sfft.dct(xs[-1].astype(np.complex128)),
                               atol=TOL[dtype] * 20)


def test_dct_dtypes_and_errors():
    # integers become the default float
    assert jaxel.eval_shape(jfft.dct, np.arange(4, dtype=np.int32)).dtype == jnp.float32
    x = jnp.ones((3, 4))
    for kw in ({"type": 1}, {"type": 3}, {"type": 4}):
        for fn in (jfft.dct, jfft.idct, jfft.dctn, jfft.idctn):
            with pytest.raises(NotImplementedError, match="type 2"):
                fn(x, **kw)
    with pytest.raises(ValueError, match="forward"):
        jfft.dct(x, norm="forward")
    with pytest.raises(ValueError, match="norm"):
        jfft.idctn(x, norm="bogus")
    with pytest.raises(ValueError, match="n=0"):
        jfft.dct(x, n=0)
    with pytest.raises(ValueError, match="same length"):
        jfft.dctn(x, s=(3, 4), axes=(0,))
    with pytest.raises(ValueError, match="unique"):
        jfft.idctn(x, axes=(1, -1))
    with pytest.raises(ValueError, match="out of bounds"):
        jfft.dct(x, axis=2)
    with pytest.raises(ValueError, match="at least one dimension"):
        jfft.dct(jnp.float32(1.0))
    with pytest.raises(TypeError):
        jfft.dct([1.0, 2.0])


def test_dct_gradients():
    x = RNG.standard_normal((3, 5))
    with jaxel.config._override("jax_enable_x64", True):
        f = jaxel.jit(lambda x: jnp.sin(jfft.dctn(x, norm="ortho", s=(4, 5)))
                      + jfft.idct(x[:, :4], n=4, axis=0)[:1, :].sum())
        jaxel.test_util.check_grads(f, (x,), order=1, atol=1e-6, rtol=1e-6)


def _rgi_setup(dtype):
    x = np.sort(RNG.uniform(0, 1, 4)).astype(dtype)
    y = np.linspace(2, -1, 5).astype(dtype)  # descending, as SciPy allows
    z = np.array([0.5], dtype)  # a dimension with a single point
    values = RNG.standard_normal((4, 5, 1, 2)).astype(dtype)
    xi = RNG.uniform(-0.3, 2.3, (40, 3)).astype(dtype)
    xi[:30, 2] = 0.5
    xi[30:33] = [x[1], y[2], 0.5]  # a grid point
    xi[33:36, :2] = [(x[0] + x[1]) / 2, (y[1] + y[2]) / 2]  # ties for "nearest"
    xi[36, 0], xi[37, 1] = np.nan, np.nan
    xi[38] = [x[-1], y[-1], 0.5]  # the far corner
    return (x, y, z), values, xi


CONFIGS = [("linear", np.nan), ("linear", None), ("nearest", -7.0), ("nearest", None)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_regular_grid_against_scipy(dtype):
    configs = CONFIGS if dtype == np.float64 else CONFIGS[:1]  # fewer compiled ops
    points, values, xi = _rgi_setup(dtype)
    x1 = np.linspace(-1, 3, 70).astype(dtype)  # large enough for the binary search
    v1 = RNG.standard_normal(70).astype(dtype)
    q1 = RNG.uniform(-2, 4, 9).astype(dtype)
    vc = (RNG.standard_normal((4, 5)) + 1j * RNG.standard_normal((4, 5))).astype(
        np.complex64 if dtype == np.float32 else np.complex128)

    def run(points, values, xi, x1, v1, q1, vc):
        outs = [RegularGridInterpolator(points, values, method=m, fill_value=fv)(xi)
                for m, fv in configs]
        lin = RegularGridInterpolator(points, values)
        outs.append(lin(xi[:20], method="nearest"))
        outs.append(lin((xi[:6, 0], xi[:6, 1][:, None], xi[0, 2])))  # broadcast tuple
        outs.append(RegularGridInterpolator((x1,), v1, fill_value=None)(q1))
        outs.append(RegularGridInterpolator(points[:2], vc)(xi[:, :2]))
        return outs

    with jaxel.config._override("jax_enable_x64", dtype == np.float64):
        outs = jaxel.jit(run)(points, values, xi, x1, v1, q1, vc)
    p64, v64, xi64 = [p.astype(np.float64) for p in points], values.astype(np.float64), \
        xi.astype(np.float64)
    refs = [sinterp.RegularGridInterpolator(p64, v64, method=m, fill_value=fv,
                                            bounds_error=False)(xi64) for m, fv in configs]
    lin = sinterp.RegularGridInterpolator(p64, v64, bounds_error=False)
    refs.append(lin(xi64[:20], method="nearest"))
    refs.append(lin((xi64[:6, 0], xi64[:6, 1][:, None], xi64[0, 2])))
    refs.append(sinterp.RegularGridInterpolator((x1,), v1, bounds_error=False,
                                                fill_value=None)(q1))
    refs.append(sinterp.RegularGridInterpolator(p64[:2], vc, bounds_error=False)(xi64[:, :2]))
    for i, (out, ref) in enumerate(zip(outs, refs)):
        assert out.shape == ref.shape, i
        assert out.dtype == (vc.dtype if i == len(refs) - 1 else dtype), i
        np.testing.assert_allclose(np.asarray(out), ref, atol=TOL[dtype] * 10,
                                   rtol=TOL[dtype] * 10, err_msg=str(i))


def test_regular_grid_pytree_and_errors():
    points, values, xi = _rgi_setup(np.float32)
    interp = RegularGridInterpolator(points, values, method="nearest", fill_value=None)
    leaves, tree = jaxel.tree_util.tree_flatten(interp)
    assert len(leaves) == 4  # three grids and the values (fill_value=None has no leaf)
    # into and out of jit: the static method survives, the arrays are traced
    made = jaxel.jit(lambda v: RegularGridInterpolator(points, v, method="nearest",
                                                       fill_value=None))(values)
    assert isinstance(made, RegularGridInterpolator) and made.method == "nearest"
    assert jaxel.tree_util.tree_structure(made) == tree
    f = jaxel.jit(lambda it, p: it(p))
    np.testing.assert_array_equal(np.asarray(f(interp, xi)), np.asarray(f(made, xi)))
    ref = sinterp.RegularGridInterpolator(points, values, method="nearest", fill_value=None,
                                          bounds_error=False)(xi)
    np.testing.assert_allclose(np.asarray(f(interp, xi)), ref, rtol=1e-6)
    with pytest.raises(NotImplementedError, match="bounds_error"):
        RegularGridInterpolator(points, values, bounds_error=True)
    with pytest.raises(ValueError, match="method"):
        RegularGridInterpolator(points, values, method="cubic")
    with pytest.raises(ValueError, match="method"):
        interp(xi, method="spline")
    with pytest.raises(ValueError, match="dimension"):
        interp(jnp.ones((2, 2)))
    with pytest.raises(ValueError, match="5 values"):
        RegularGridInterpolator((points[0], points[1][:3], points[2]), values)
    with pytest.raises(ValueError, match="strictly"):
        RegularGridInterpolator((points[0], jnp.asarray([0.0, 1, 1, 2, 3]), points[2]),
                                values)
    with pytest.raises(ValueError, match="point arrays"):
        RegularGridInterpolator(points + points[:2], values)
    with pytest.raises(ValueError, match="compatible"):
        RegularGridInterpolator(points, values, fill_value=1j)


def test_regular_grid_gradients():
    x, y = np.linspace(0, 1, 4), np.array([0.0, 0.3, 1.0])
    values = RNG.standard_normal((4, 3))
    xi = np.array([[0.1, 0.2], [0.55, 0.7], [0.9, 0.05], [1.2, 0.5]])  # off the grid lines
    with jaxel.config._override("jax_enable_x64", True):
        f = jaxel.jit(lambda v, p: RegularGridInterpolator((x, y), v, fill_value=None)(p))
        jaxel.test_util.check_grads(f, (values, xi), order=1, atol=1e-6, rtol=1e-6)


def test_vq_against_scipy():
    obs = RNG.standard_normal((30, 3))
    book = RNG.standard_normal((5, 3))
    obs[:5] = book[[4, 0, 2, 2, 1]]  # exact hits
    ints = RNG.integers(-5, 5, (12, 2)), RNG.integers(-5, 5, (4, 2))
    fn = jaxel.jit(lambda *a: [vq(a[0], a[1]), vq(a[2], a[3]), vq(a[4], a[5])])
    for dtype in (np.float32, np.float64):
        with jaxel.config._override("jax_enable_x64", dtype == np.float64):
            args = (obs.astype(dtype), book.astype(dtype), obs[:, 0].astype(dtype),
                    book[:, 1].astype(dtype)) + ints
            outs = fn(*args)
        for k, (code, dist) in enumerate(outs):
            ref_code, ref_dist = svq.vq(args[2 * k], args[2 * k + 1])
            assert code.dtype == jnp.int32 and dist.dtype == dtype  # integers: the default float
            np.testing.assert_array_equal(np.asarray(code), ref_code)
            np.testing.assert_allclose(np.asarray(dist), ref_dist, atol=TOL[dtype] * 10)
    with pytest.raises(ValueError, match="same rank"):
        vq(jnp.ones((3, 2)), jnp.ones(3))
    with pytest.raises(ValueError, match="features"):
        vq(jnp.ones((3, 2)), jnp.ones((2, 3)))
    with pytest.raises(ValueError, match="1- or 2-dimensional"):
        vq(jnp.ones((3, 2, 1)), jnp.ones((2, 2, 1)))
