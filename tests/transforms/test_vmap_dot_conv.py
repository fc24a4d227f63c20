"""vmap of contractions: matmul, einsum and convolutions (layouts, groups, strides, dilations)
with every combination of lhs/rhs batch axes against a Python loop; per-example gradients of a
small conv net (``vmap(grad(f))``); and the op counts of the lowered programs against JAX's
golden counts (``golden/vmap_op_counts.json``, written by ``golden/make_vmap_op_counts.py``):
batching adds no transposes or reshapes that JAX does not add.
"""
from __future__ import annotations

import itertools
import json
import os

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel import lax
from tests.transforms import vmap_programs

B = 3
HIGHEST = lax.Precision.HIGHEST
AXES = (None, 0, 1, -1)
# Every (lhs axis, rhs axis) pair with at least one side batched.
PAIRS = [(a, b) for a, b in itertools.product(AXES, AXES) if (a, b) != (None, None)]


def _pair_id(p):
    return f"lhs{p[0]}-rhs{p[1]}"


def _rand(rng, shape):
    return rng.standard_normal(shape).astype(np.float32)


def _batched_inputs(shapes, axes, seed=0):
    """Per-example inputs (a list of B lists; unbatched inputs repeat) and the stacked ones."""
    rng = np.random.default_rng(seed)
    examples = [[None] * len(shapes) for _ in range(B)]
    stacked = []
    for i, (shape, ax) in enumerate(zip(shapes, axes)):
        if ax is None:
            x = _rand(rng, shape)
            for ex in examples:
                ex[i] = x
            stacked.append(x)
        else:
            xs = [_rand(rng, shape) for _ in range(B)]
            for ex, x in zip(examples, xs):
                ex[i] = x
            stacked.append(np.stack(xs, axis=ax % (len(shape) + 1)))
    return examples, stacked


def _check_vmap(fn, shapes, axes, out_axes=0, rtol=1e-5, atol=1e-5):
    examples, stacked = _batched_inputs(shapes, axes)
    want = np.stack([np.asarray(fn(*[jnp.asarray(x) for x in ex])) for ex in examples],
                    axis=out_axes)
    got = jaxel.vmap(fn, in_axes=tuple(axes), out_axes=out_axes)(*map(jnp.asarray, stacked))
    got = np.asarray(got)
    assert got.shape == want.shape, (got.shape, want.shape)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)
    # The same under jit (the rule's reshapes and transposes lowered).
    got_jit = jaxel.jit(jaxel.vmap(fn, in_axes=tuple(axes), out_axes=out_axes))(*stacked)
    np.testing.assert_allclose(np.asarray(got_jit), want, rtol=rtol, atol=atol)


# ---- matmul and einsum -----------------------------------------------------------------------
def _matmul(x, y):
    return jnp.matmul(x, y, precision=HIGHEST)


@pytest.mark.parametrize("axes", PAIRS, ids=_pair_id)
def test_vmap_matmul(axes):
    _check_vmap(_matmul, [(4, 5), (5, 6)], axes)


@pytest.mark.parametrize("axes", PAIRS, ids=_pair_id)
def test_vmap_matvec(axes):
    # A per-example vector has no axis 1 once unbatched only: batched it has rank 2.
    _check_vmap(_matmul, [(4, 5), (5,)], axes)


@pytest.mark.parametrize("axes", PAIRS, ids=_pair_id)
def test_vmap_einsum(axes):
    def f(x, y):  # batch dim j, contracting k and l, free i and m, scrambled positions
        return jnp.einsum("kjil,ljmk->jim", x, y, precision=HIGHEST)
    _check_vmap(f, [(2, 3, 4, 5), (5, 3, 6, 2)], axes)


@pytest.mark.parametrize("axes", PAIRS, ids=_pair_id)
def test_vmap_dot_general_batch_dims(axes):
    def f(x, y):
        return lax.dot_general(x, y, (((3, 0), (1, 2)), ((2,), (0,))), precision=HIGHEST)
    _check_vmap(f, [(2, 4, 3, 5), (3, 5, 2, 6)], axes)


@pytest.mark.parametrize("out_axes", [0, 1, -1])
def test_vmap_matmul_out_axes(out_axes):
    _check_vmap(_matmul, [(4, 5), (5, 6)], (1, -1), out_axes=out_axes)


def test_nested_vmap_matmul():
    rng = np.random.default_rng(1)
    x, y = _rand(rng, (2, 3, 4, 5)), _rand(rng, (3, 5, 6))
    f = jaxel.vmap(jaxel.vmap(_matmul, in_axes=(0, 0)), in_axes=(0, None))
    want = np.einsum("abij,bjk->abik", x, y)
    np.testing.assert_allclose(np.asarray(f(x, y)), want, rtol=1e-5, atol=1e-5)


# ---- convolutions ----------------------------------------------------------------------------
CONVS = {
    "nchw": ((2, 3, 7, 6), (4, 3, 3, 2), dict(window_strides=(1, 1), padding="SAME")),
    "nhwc": ((2, 7, 6, 3), (3, 2, 3, 4),
             dict(window_strides=(2, 1), padding="VALID",
                  dimension_numbers=("NHWC", "HWIO", "NHWC"))),
    "strides-dilation": ((2, 2, 9, 8), (3, 2, 2, 3),
                         dict(window_strides=(2, 3), padding=((2, 1), (1, -1)),
                              lhs_dilation=(2, 1), rhs_dilation=(1, 2))),
    "fgc2": ((2, 4, 7, 6), (6, 2, 3, 2),
             dict(window_strides=(1, 2), padding=((1, 2), (0, 1)), rhs_dilation=(2, 1),
                  feature_group_count=2)),
    "fgc2-nhwc": ((2, 6, 5, 4), (3, 3, 2, 6),
                  dict(window_strides=(1, 1), padding="SAME", feature_group_count=2,
                       dimension_numbers=("NHWC", "HWIO", "NHWC"))),
    "bgc2": ((4, 3, 9), (4, 3, 3), dict(window_strides=(2,), padding="VALID",
                                        batch_group_count=2)),
    "bgc2-nhwc": ((4, 5, 6, 3), (2, 2, 3, 4),
                  dict(window_strides=(1, 2), padding="VALID", batch_group_count=2,
                       dimension_numbers=("NHWC", "HWIO", "NHWC"))),
    "scrambled-fgc3": ((6, 5, 2, 7), (2, 6, 2, 2),
                       dict(window_strides=(2, 3), padding=((2, -1), (1, 2)),
                            lhs_dilation=(2, 1), rhs_dilation=(1, 2), feature_group_count=3,
                            dimension_numbers=lax.ConvDimensionNumbers(
                                (2, 0, 3, 1), (1, 3, 0, 2), (3, 1, 0, 2)))),
}


def _conv_fn(kw):
    def f(x, w):
        return lax.conv_general_dilated(x, w, precision=HIGHEST, **kw)
    return f


@pytest.mark.parametrize("axes", PAIRS, ids=_pair_id)
@pytest.mark.parametrize("name", list(CONVS))
def test_vmap_conv(name, axes):
    ls, rs, kw = CONVS[name]
    _check_vmap(_conv_fn(kw), [ls, rs], axes, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", ["nchw", "fgc2", "bgc2"])
def test_nested_vmap_conv(name):
    """Outer vmap over the input only; inner over both operands at axis 1."""
    ls, rs, kw = CONVS[name]
    rng = np.random.default_rng(2)
    xs = _rand(rng, (2, ls[0], B) + ls[1:])
    w = _rand(rng, (rs[0], B) + rs[1:])
    f = _conv_fn(kw)
    got = np.asarray(jaxel.vmap(jaxel.vmap(f, in_axes=(1, 1)), in_axes=(0, None))(xs, w))
    for i in range(2):
        for j in range(B):
            want = np.asarray(f(jnp.asarray(xs[i, :, j]), jnp.asarray(w[:, j])))
            np.testing.assert_allclose(got[i, j], want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("axes", [(0, 0), (0, None), (None, 0)])
def test_vmap_conv_empty_batch(axes):
    ls, rs, kw = CONVS["fgc2"]
    f = _conv_fn(kw)
    want = jaxel.eval_shape(f, jnp.zeros(ls), jnp.zeros(rs)).shape
    x = np.zeros(((0,) if axes[0] == 0 else ()) + ls, np.float32)
    w = np.zeros(((0,) if axes[1] == 0 else ()) + rs, np.float32)
    assert jaxel.vmap(f, in_axes=axes)(x, w).shape == (0,) + tuple(want)


# ---- per-example gradients -------------------------------------------------------------------
def _conv_net(params, x, y):
    """Loss of a tiny conv net on one example x: (C, H, W), label vector y."""
    w1, w2, w3 = params
    h = lax.conv_general_dilated(x[None], w1, (2, 1), "SAME", precision=HIGHEST)
    h = jnp.tanh(h)
    h = lax.conv_general_dilated(h, w2, (1, 1), ((1, 0), (0, 1)), rhs_dilation=(1, 2),
                                 feature_group_count=2, precision=HIGHEST)
    h = jnp.tanh(h).reshape(-1)
    logits = jnp.matmul(h, w3, precision=HIGHEST)
    return jnp.sum((logits - y) ** 2)


def _net_inputs(seed=3):
    rng = np.random.default_rng(seed)
    params = (0.3 * _rand(rng, (4, 3, 3, 3)), 0.3 * _rand(rng, (4, 2, 2, 2)), None)
    x = _rand(rng, (B, 3, 6, 5))
    out_shape = jaxel.eval_shape(
        lambda a: lax.conv_general_dilated(
            jnp.tanh(lax.conv_general_dilated(a[None], params[0], (2, 1), "SAME")),
            params[1], (1, 1), ((1, 0), (0, 1)), rhs_dilation=(1, 2), feature_group_count=2),
        jnp.zeros(x.shape[1:])).shape
    params = params[:2] + (0.3 * _rand(rng, (int(np.prod(out_shape)), 2)),)
    y = _rand(rng, (B, 2))
    return params, x, y


@pytest.mark.parametrize("argnums", [0, 1, (0, 1)])
def test_per_example_grads_conv_net(argnums):
    params, x, y = _net_inputs()
    g = jaxel.grad(_conv_net, argnums=argnums)
    got = jaxel.vmap(g, in_axes=(None, 0, 0))(params, x, y)
    got_jit = jaxel.jit(jaxel.vmap(g, in_axes=(None, 0, 0)))(params, x, y)
    loop = [g(params, jnp.asarray(x[i]), jnp.asarray(y[i])) for i in range(B)]
    for res in (got, got_jit):
        flat_got = jaxel.tree_util.tree_leaves(res)
        flat_loop = [jaxel.tree_util.tree_leaves(lp) for lp in loop]
        assert len(flat_got) == len(flat_loop[0])
        for k, leaf in enumerate(flat_got):
            want = np.stack([np.asarray(fl[k]) for fl in flat_loop])
            np.testing.assert_allclose(np.asarray(leaf), want, rtol=1e-4, atol=1e-5)


def test_per_example_grads_batched_params():
    """Every example with its own parameters too (both conv operands batched)."""
    params, x, y = _net_inputs()
    rng = np.random.default_rng(4)
    bparams = tuple(np.stack([p + 0.1 * _rand(rng, p.shape) for _ in range(B)]) for p in params)
    g = jaxel.grad(_conv_net)
    got = jaxel.vmap(g)(bparams, x, y)
    for i in range(B):
        want = g(tuple(jnp.asarray(p[i]) for p in bparams), jnp.asarray(x[i]),
                 jnp.asarray(y[i]))
        for a, b in zip(got, want):
            np.testing.assert_allclose(np.asarray(a)[i], np.asarray(b), rtol=1e-4, atol=1e-5)


# ---- golden op counts ------------------------------------------------------------------------
GOLDEN = os.path.join(os.path.dirname(__file__), "golden", "vmap_op_counts.json")
with open(GOLDEN) as _f:
    _GOLD = json.load(_f)["programs"]
SPECS = vmap_programs.program_specs(jaxel)
PROGRAMS = vmap_programs.programs(jaxel)


def test_golden_covers_every_program():
    assert sorted(_GOLD) == sorted(PROGRAMS), \
        "regenerate golden/vmap_op_counts.json with golden/make_vmap_op_counts.py"


def test_op_count_regex_reads_both_forms():
    generic = ('%0 = "stablehlo.transpose"(%arg0) <{permutation = array<i64: 1, 0>}> : '
               '(tensor<2x3xf32>) -> tensor<3x2xf32>\n'
               '%1 = "stablehlo.convolution"(%0, %0) <{dimension_numbers = '
               '#stablehlo.conv<[b, f]x[o, i]->[b, f]>, precision_config = '
               '[#stablehlo<precision HIGHEST>]}>')
    pretty = ('%0 = stablehlo.transpose %arg0, dims = [1, 0] : (tensor<2x3xf32>) -> '
              'tensor<3x2xf32>\n%1 = stablehlo.reshape %0 : (tensor<3x2xf32>) -> '
              'tensor<6xf32>\n%2 = stablehlo.dot_general %1, %1, contracting_dims = [0] x [0]')
    assert vmap_programs.op_counts(generic) == dict(transpose=1, reshape=0, dot_general=0,
                                                    convolution=1, broadcast_in_dim=0)
    assert vmap_programs.op_counts(pretty) == dict(transpose=1, reshape=1, dot_general=1,
                                                   convolution=0, broadcast_in_dim=0)


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_op_counts_within_jax(name):
    fn, args = PROGRAMS[name]
    got = vmap_programs.lowered_counts(jaxel, fn, args)
    want = _GOLD[name]
    for op in vmap_programs.AT_MOST:
        assert got[op] <= want[op], f"{name}: {got[op]} {op} ops, JAX has {want[op]} ({got})"
    for op in vmap_programs.EQUAL:
        assert got[op] == want[op], f"{name}: {got[op]} {op} ops, JAX has {want[op]} ({got})"


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_programs_match_loop(name):
    """The counted programs compute the right thing (vmap against a loop)."""
    fn, axes, args = SPECS[name]
    got = np.asarray(jaxel.jit(PROGRAMS[name][0])(*args))
    for i in range(vmap_programs.B):
        ex = [jaxel.tree_util.tree_map(lambda v, ax=ax: np.take(v, i, axis=ax), a)
              if ax is not None else a for a, ax in zip(args, axes)]
        np.testing.assert_allclose(got[i], np.asarray(fn(*ex)), rtol=1e-4, atol=1e-4)
