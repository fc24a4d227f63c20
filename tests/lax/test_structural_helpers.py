"""The lax compositions and enums without primitives of their own: filled arrays, broadcasting
helpers, collapse, index_take, platform_dependent, scatter_apply, conv shape helpers, patches
and local convolutions, dot algorithms, ragged and scaled dots. Values are checked against
NumPy and, where JAX is installed, against jax 0.12.1."""
from __future__ import annotations

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel import lax

jax = pytest.importorskip("jax")
JL = jax.lax
rng = np.random.default_rng(0)


def _same(got, want, rtol=1e-6, atol=1e-6):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, (got, want)
    np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=rtol,
                               atol=atol)


# ---- filled arrays and broadcasting -------------------------------------------------------
@pytest.mark.parametrize("call", [
    lambda L, np_: L.full((2, 3), 1.5), lambda L, np_: L.full((), 2),
    lambda L, np_: L.full((2,), np_.int8(3)), lambda L, np_: L.full(3, 1, "float32"),
    lambda L, np_: L.full_like(np_.ones(2, np_.int32), 7),
    lambda L, np_: L.full_like(np_.ones(2), 2, dtype=np_.int32, shape=(1, 2)),
    lambda L, np_: L.full_like(1.0, 2),
    lambda L, np_: L.empty((2, 2), np_.float32),
    lambda L, np_: L.broadcast_to_rank(np_.ones(3), 3),
    lambda L, np_: L.broadcast_like(np_.arange(3), np_.zeros((2, 3))),
    lambda L, np_: L.broadcast_like(np_.ones((1, 3)), np_.zeros((4, 2, 3))),
    lambda L, np_: L.collapse(np_.arange(24.0).reshape(2, 3, 4), 0, 2),
    lambda L, np_: L.collapse(np_.arange(24.0).reshape(2, 3, 4), -2),
    lambda L, np_: L.index_take(np_.arange(6.0).reshape(2, 3),
                                (np_.array([1, 0, 3]), np_.array([2, -1, 0])), (0, 1)),
    lambda L, np_: L.shape_as_value((2, 3)),
    lambda L, np_: L.shape_as_value(()),
])
def test_compositions_match_jax(call):
    got = call(lax, jnp)
    want = call(JL, jax.numpy)
    _same(got, want)
    assert getattr(got, "weak_type", False) == getattr(want, "weak_type", False)


def test_full_and_friends_errors():
    with pytest.raises(TypeError, match="scalar fill_value"):
        lax.full((2,), jnp.ones(2))
    with pytest.raises(ValueError, match="fewer dimensions"):
        lax.broadcast_like(jnp.ones((2, 3)), jnp.ones(3))
    with pytest.raises(ValueError, match="Incompatible"):
        lax.broadcast_shapes((2,), (3,))
    with pytest.raises(ValueError, match="Invalid dimension range"):
        lax.collapse(jnp.ones((2, 3)), 1, 0)
    assert lax.broadcast_shapes((2, 1), (3,)) == (2, 3)


def test_full_under_jit_keeps_weak_type():
    out = jaxel.jit(lambda a: lax.full((2,), a))(3.0)
    assert out.weak_type and out.dtype == np.float32


def test_dtype():
    assert lax.dtype(1.0) == JL.dtype(1.0) == np.float32
    assert lax.dtype(np.float64) == np.float64
    assert lax.dtype(jnp.ones(2, jnp.bfloat16)) == JL.dtype(jax.numpy.ones(2, jax.numpy.bfloat16))


def test_platform_dependent():
    assert float(lax.platform_dependent(2.0, cpu=lambda x: x + 1, default=lambda x: x)) == 3.0
    assert float(lax.platform_dependent(2.0, tpu=lambda x: x + 1, default=lambda x: x)) == 2.0
    f = jaxel.jit(lambda x: lax.platform_dependent(x, cpu=lambda x: x * 2, cuda=jnp.sin))
    assert float(f(3.0)) == 6.0
    with pytest.raises(NotImplementedError):
        lax.platform_dependent(1.0, tpu=lambda x: x)
    with pytest.raises(ValueError, match="cuda"):
        lax.platform_dependent(1.0, gpu=lambda x: x)


def test_rounding_method():
    x = jnp.array([0.5, 1.5, -0.5, 2.5])
    assert [m.value for m in lax.RoundingMethod] == [m.value for m in JL.RoundingMethod]
    for m in lax.RoundingMethod:
        _same(lax.round(x, m), JL.round(jax.numpy.asarray(np.asarray(x)), JL.RoundingMethod(m)))


# ---- scatter_apply -----------------------------------------------------------------------------
def test_scatter_apply_matches_jax_for_unique_indices():
    dn = lax.ScatterDimensionNumbers(update_window_dims=(1,), inserted_window_dims=(0,),
                                     scatter_dims_to_operand_dims=(0,))
    jdn = JL.ScatterDimensionNumbers(update_window_dims=(1,), inserted_window_dims=(0,),
                                     scatter_dims_to_operand_dims=(0,))
    x = rng.standard_normal((4, 3)).astype(np.float32)
    idx = np.array([[2], [0], [7]], np.int32)
    got = lax.scatter_apply(jnp.asarray(x), idx, lax.exp, dn, update_shape=(3, 3))
    want = JL.scatter_apply(x, idx, JL.exp, jdn, update_shape=(3, 3))
    _same(got, want)
    ref = x.copy()
    ref[[2, 0]] = np.exp(ref[[2, 0]])
    _same(got, ref)
    # differentiable with unique indices (JAX is not): d/dx of sum(exp at rows 0 and 2)
    g = jaxel.grad(lambda x: lax.scatter_apply(x, idx, lax.exp, dn, update_shape=(3, 3),
                                               unique_indices=True).sum())(jnp.asarray(x))
    want_g = np.ones_like(x)
    want_g[[2, 0]] = np.exp(x[[2, 0]])
    _same(g, want_g, rtol=1e-6)


@pytest.mark.parametrize("mode", [None, "clip"])
def test_scatter_apply_repeats_func_for_duplicates_as_jax(mode):
    dn = lax.ScatterDimensionNumbers(update_window_dims=(), inserted_window_dims=(0,),
                                     scatter_dims_to_operand_dims=(0,))
    jdn = JL.ScatterDimensionNumbers(update_window_dims=(), inserted_window_dims=(0,),
                                     scatter_dims_to_operand_dims=(0,))
    x = np.arange(4.0, dtype=np.float32)
    idx = np.array([[2], [2], [0], [7], [2]], np.int32)
    got = lax.scatter_apply(x, idx, lambda v: v * 2 + 1, dn, update_shape=(5,), mode=mode)
    want = JL.scatter_apply(x, idx, lambda v: v * 2 + 1, jdn, update_shape=(5,), mode=mode)
    _same(got, want)
    # forward mode through the repetitions: d/dx of f(f(f(x))) with f(v) = 2v + 1 is 8
    def f(x):
        return lax.scatter_apply(x, idx, lambda v: v * 2 + 1, dn, update_shape=(5,))
    _, t = jaxel.jvp(f, (x,), (np.ones(4, np.float32),))
    _same(t, np.array([2, 1, 8, 1], np.float32))


# ---- convolutions ------------------------------------------------------------------------------
_DNS = [None, ("NHWC", "HWIO", "NHWC"), ("NCHW", "IOWH", "NHWC")]


def _lhs(dn):
    sizes = {"N": 2, "C": 3, "H": 5, "W": 6}
    return rng.standard_normal([sizes[c] for c in (dn[0] if dn else "NCHW")]).astype(np.float32)


@pytest.mark.parametrize("dn", _DNS)
@pytest.mark.parametrize("pad", ["SAME", [(1, 0), (0, 2)]])
def test_patches_and_local_conv_match_jax(dn, pad):
    x = _lhs(dn)
    got = lax.conv_general_dilated_patches(x, (2, 3), (1, 2), pad, dimension_numbers=dn)
    want = JL.conv_general_dilated_patches(x, (2, 3), (1, 2), pad, dimension_numbers=dn)
    _same(got, want)
    out_spec = lax.conv_dimension_numbers(x.shape, (1, 1, 2, 3), dn).out_spec
    spec = dn[1] if dn else "OIHW"
    sizes = {"O": 4, "I": 3 * 6}
    for c, d in zip([c for c in spec if c not in "OI"], out_spec[2:]):
        sizes[c] = got.shape[d]
    w = rng.standard_normal([sizes[c] for c in spec]).astype(np.float32)
    got = lax.conv_general_dilated_local(x, w, (1, 2), pad, (2, 3), dimension_numbers=dn)
    want = JL.conv_general_dilated_local(x, w, (1, 2), pad, (2, 3), dimension_numbers=dn)
    _same(got, want, rtol=1e-4, atol=1e-5)


def test_patches_values_vs_numpy():
    x = np.arange(2 * 4 * 4, dtype=np.float32).reshape(1, 2, 4, 4)
    p = np.asarray(lax.conv_general_dilated_patches(x, (2, 2), (2, 2), "VALID"))
    # feature c * 4 + (i * 2 + j) at output (a, b) is x[0, c, 2a + i, 2b + j]
    for c in range(2):
        for i in range(2):
            for j in range(2):
                np.testing.assert_array_equal(p[0, c * 4 + i * 2 + j], x[0, c, i::2, j::2])


@pytest.mark.parametrize("dn", _DNS[1:] + [("NWHC", "WHIO", "CNHW")])
@pytest.mark.parametrize("pad", ["VALID", "SAME", [(1, 0), (0, 2)]])
def test_conv_shape_helpers_match_jax(dn, pad):
    assert lax.conv_general_permutations(dn) == JL.conv_general_permutations(dn)
    ls, rs = (2, 7, 9, 3), (3, 2, 3, 4)
    for name in ("conv_general_shape_tuple", "conv_transpose_shape_tuple"):
        want = tuple(int(d) for d in getattr(JL, name)(ls, rs, (2, 1), pad, dn))
        assert getattr(lax, name)(ls, rs, (2, 1), pad, dn) == want


def test_conv_shape_tuple_and_errors():
    assert lax.conv_shape_tuple((1, 3, 8, 8), (16, 3, 3, 3), (2, 2), "SAME") == (1, 16, 4, 4)
    assert lax.conv_shape_tuple((4, 3, 2, 8), (16, 3, 3, 3), (2, 2), [(0, 0), (1, 1)], 2) == \
        (2, 16, 0, 4)
    with pytest.raises(TypeError, match="exactly once"):
        lax.conv_general_permutations(("NHW", "HWIO", "NHWC"))
    with pytest.raises(TypeError, match="Wrong number"):
        lax.conv_shape_tuple((1, 3, 8, 8), (16, 3, 3, 3), (1, 1), [(0, 0)])


# ---- dot algorithms ----------------------------------------------------------------------------
_PRESETS = ["DEFAULT", "F16_F16_F16", "F16_F16_F32", "BF16_BF16_F32", "BF16_BF16_F32_X3",
            "F32_F32_F32", "F64_F64_F64"]


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_dot_algorithm_presets_match_jax(dtype):
    a = rng.standard_normal((4, 50)).astype(dtype)
    b = rng.standard_normal((50, 3)).astype(dtype)
    for name in _PRESETS:
        want = JL.dot(a, b, precision=name)
        _same(lax.dot(a, b, precision=name), want)
        _same(lax.dot(a, b, precision=lax.DotAlgorithmPreset[name]), want)
    f16 = lax.dot(a, b, precision="F16_F16_F32", preferred_element_type=np.float32)
    assert f16.dtype == np.float32


def test_dot_algorithm_errors_and_classes():
    with pytest.raises(ValueError, match="not supported by dot_general on CPU"):
        lax.dot(jnp.ones((2, 2)), jnp.ones((2, 2)), precision=lax.DotAlgorithmPreset.TF32_TF32_F32)
    assert [p.name for p in lax.DotAlgorithmPreset] == [p.name for p in JL.DotAlgorithmPreset]
    for p in lax.DotAlgorithmPreset:
        q = JL.DotAlgorithmPreset[p.name]
        assert p.accumulation_type == q.accumulation_type
        assert p.supported_lhs_types == q.supported_lhs_types
    alg = lax.DotAlgorithm(np.float16, np.float16, np.float32)
    assert alg == tuple(JL.DotAlgorithm(np.float16, np.float16, np.float32))
    out = lax.dot(jnp.ones(4, jnp.float16), jnp.ones(4, jnp.float16), precision=alg)
    assert out.dtype == np.float16 and float(out) == 4.0


# ---- ragged and scaled dots ------------------------------------------------------------------
def test_ragged_dot_matches_jax_and_numpy():
    a = rng.standard_normal((7, 4)).astype(np.float32)
    b = rng.standard_normal((3, 4, 5)).astype(np.float32)
    gs = np.array([2, 0, 4], np.int32)  # the last row belongs to no group
    got = lax.ragged_dot(a, b, gs)
    ref = np.zeros((7, 5), np.float32)
    ref[:2], ref[2:6] = a[:2] @ b[0], a[2:6] @ b[2]
    _same(got, ref, rtol=1e-5, atol=1e-5)
    _same(got, JL.ragged_dot(a, b, gs), rtol=1e-5, atol=1e-5)
    g = jaxel.grad(lambda a: lax.ragged_dot(a, b, gs).sum())(a)
    _same(g, jax.grad(lambda a: JL.ragged_dot(a, b, gs).sum())(a), rtol=1e-5, atol=1e-5)
    v = jaxel.vmap(lambda a: lax.ragged_dot(a, b, gs))(np.stack([a, 2 * a]))
    _same(v[1], 2 * np.asarray(got), rtol=1e-5, atol=1e-5)


def test_ragged_dot_general_permuted_layout():
    a = rng.standard_normal((4, 7)).astype(np.float32)
    b = rng.standard_normal((5, 3, 4)).astype(np.float32)
    gs = np.array([3, 3, 1], np.int32)
    dn = lax.RaggedDotDimensionNumbers((((0,), (2,)), ((), ())), (1,), (1,))
    jdn = JL.RaggedDotDimensionNumbers((((0,), (2,)), ((), ())), (1,), (1,))
    assert dn.dot_dimension_numbers == jdn.dot_dimension_numbers
    _same(lax.ragged_dot_general(a, b, gs, dn), JL.ragged_dot_general(a, b, gs, jdn),
          rtol=1e-5, atol=1e-5)


def test_scaled_dot_matches_block_scaling():
    a = rng.standard_normal((2, 64)).astype(np.float32)
    b = rng.standard_normal((64, 3)).astype(np.float32)
    sa = rng.uniform(1, 2, (2, 2)).astype(np.float32)
    sb = rng.uniform(1, 2, (2, 3)).astype(np.float32)
    got = lax.scaled_dot(a, b, lhs_scale=sa, rhs_scale=sb)
    ref = (a * np.repeat(sa, 32, 1)) @ (b * np.repeat(sb, 32, 0))
    want = JL.scaled_dot(a, b, lhs_scale=sa, rhs_scale=sb)
    assert got.dtype == want.dtype
    np.testing.assert_allclose(np.asarray(got, np.float32), ref, rtol=1e-2, atol=0.2)
    np.testing.assert_allclose(np.asarray(got, np.float32), np.asarray(want, np.float32),
                               rtol=1e-2, atol=0.2)


# ---- primitives: behaviours beyond the registry cases ---------------------------------------
def test_optimization_barrier_survives_to_stablehlo():
    text = jaxel.jit(lambda x: lax.optimization_barrier(lax.sin(x)) + lax.sin(x)).lower(
        1.0).as_text()
    assert "stablehlo.optimization_barrier" in text
    tree = lax.optimization_barrier({"a": jnp.ones(2), "b": (1.0, 2)})
    assert set(tree) == {"a", "b"} and isinstance(tree["b"], tuple)


def test_stage_and_split_stack_errors():
    assert lax.stage(1.0).weak_type
    with pytest.raises(ValueError, match="Sum of sizes"):
        lax.split(jnp.ones((2, 3)), [1, 1], 1)
    with pytest.raises(ValueError, match="nonnegative"):
        lax.split(jnp.ones(3), [4, -1])
    with pytest.raises(TypeError, match="reps length"):
        lax.tile(jnp.ones((2, 3)), (2,))
    with pytest.raises(ValueError, match="same shape"):
        lax.stack([jnp.ones(2), jnp.ones(3)])
    with pytest.raises(TypeError, match="same dtypes"):
        lax.stack([jnp.ones(2), jnp.ones(2, jnp.int32)])
    with pytest.raises(ValueError, match="out of bounds"):
        lax.unstack(jnp.ones((2, 3)), 5)
    jaxpr = str(jaxel.make_jaxpr(lambda x: lax.split(x, [1, 2], 1))(jnp.ones((2, 3))))
    assert "split[axis=1 sizes=(1, 2)]" in jaxpr


def test_rng_bit_generator_vmap_is_per_key_and_errors():
    keys = np.array([[1, 2, 3, 4], [5, 6, 7, 8]], np.uint32)
    new, bits = jaxel.vmap(lambda k: lax.rng_bit_generator(k, (3,)))(keys)
    for i in range(2):
        k, b = lax.rng_bit_generator(keys[i], (3,))
        np.testing.assert_array_equal(bits[i], b)
        np.testing.assert_array_equal(new[i], k)
    with pytest.raises(TypeError, match="unsupported dtype"):
        lax.rng_bit_generator(keys[0], (3,), np.float32)
    with pytest.raises(TypeError, match="uint32"):
        lax.rng_bit_generator(keys[0, :2], (3,))


def test_approx_top_k_nan_ties_and_sizes_match_jax():
    x = np.array([[3.0, 1.0, np.nan, 2.0], [0.0, -1.0, 5.0, 5.0]], np.float32)
    for f, g in ((lax.approx_max_k, JL.approx_max_k), (lax.approx_min_k, JL.approx_min_k)):
        for got, want in zip(f(x, 2), g(x, 2)):
            np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
    for n, k, rank in [(5000, 3, 1), (300, 2, 2), (70000, 10, 1)]:
        shape = (n,) if rank == 1 else (2, n)
        got = jaxel.eval_shape(lambda x: lax.approx_max_k(x, k, aggregate_to_topk=False),
                               jax.ShapeDtypeStruct(shape, np.float32))
        want = jax.eval_shape(lambda x: JL.approx_max_k(x, k, aggregate_to_topk=False),
                              jax.ShapeDtypeStruct(shape, np.float32))
        assert got[0].shape == want[0].shape
    with pytest.raises(ValueError, match="floating"):
        lax.approx_max_k(jnp.arange(4), 2)
    with pytest.raises(ValueError, match="positive"):
        lax.approx_max_k(jnp.ones(4), 0)


# ---- composite ---------------------------------------------------------------------------------
def test_composite_lowers_to_stablehlo_composite_with_decomposition():
    def my_tanh(x, *, scale, n, s):
        return jnp.tanh(x) * scale * n

    f = lax.composite(my_tanh, name="my.tanh", version=3)
    call = lambda x: f(x, scale=2.0, n=3, s="hi")  # noqa: E731
    x = np.linspace(-1, 1, 4).astype(np.float32)
    _same(call(x), np.tanh(x) * 6, rtol=1e-6)
    text = jaxel.jit(lambda x: (call(x), call(x + 1))).lower(x).as_text()
    assert '"stablehlo.composite"' in text and 'name = "my.tanh"' in text
    assert "version = 3 : i32" in text and 's = "hi"' in text and "n = 3 : i64" in text
    assert text.count("func.func private @my.tanh(") == 1  # both calls share the decomposition
    jf = JL.composite(lambda x, *, scale, n, s: jax.numpy.tanh(x) * scale * n, name="my.tanh")
    _same(call(x), jf(x, scale=2.0, n=3, s="hi"), rtol=1e-6)
    # derivatives and batching go through the decomposition
    _same(jaxel.grad(lambda x: call(x).sum())(x), 6 * (1 - np.tanh(x) ** 2), rtol=1e-5)
    _same(jaxel.vmap(call)(np.stack([x, -x])), np.stack([np.tanh(x), -np.tanh(x)]) * 6,
          rtol=1e-6)
    with pytest.raises(TypeError, match="attribute"):
        f(x, scale=[1, 2], n=1, s="a")


def test_composite_closing_over_a_tracer():
    f = jaxel.jit(lambda y: lax.composite(lambda x: x + y, name="in.jit")(jnp.ones(3)))
    _same(f(2.0), np.full(3, 3.0, np.float32))


def test_tokens():
    t = lax.create_token()
    assert repr(lax.after_all(t, lax.create_token())) == "Token()"
    assert isinstance(jaxel.jit(lambda t: lax.after_all(t))(t), type(t))
    with pytest.raises(TypeError, match="must be tokens"):
        lax.after_all(jnp.ones(2))
    with pytest.raises(TypeError, match="must be tokens"):
        JL.after_all(jax.numpy.ones(2))
