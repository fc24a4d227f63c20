"""Shape manipulation (jaxel.numpy.shape) against NumPy."""
import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel.errors import ConcretizationTypeError

A = np.arange(24, dtype=np.float32).reshape(2, 3, 4)


def check(got, want, dtype=None, rtol=0.0):
    """``got`` has ``dtype`` (default: NumPy's, canonicalised) and ``want``'s values."""
    dtype = np.dtype(dtype) if dtype is not None else \
        jaxel.dtypes.canonicalize_dtype(np.asarray(want).dtype)
    assert got.dtype == dtype, (got.dtype, dtype)
    assert got.shape == np.shape(want), (got.shape, np.shape(want))
    if rtol:
        np.testing.assert_allclose(np.asarray(got), want, rtol=rtol, atol=1e-6)
    else:
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want).astype(got.dtype))


def check_list(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        check(g, w)


# ---- reshape and axes --------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(4, -1), (-1,), 24, (2, 3, 4), (1, 24, 1), (3, 2, -1)])
@pytest.mark.parametrize("order", ["C", "F"])
def test_reshape(shape, order):
    check(jnp.reshape(jnp.asarray(A), shape, order=order), np.reshape(A, shape, order=order))


def test_reshape_errors_and_ravel():
    x = jnp.asarray(A)
    check(jnp.ravel(x, order="F"), np.ravel(A, order="F"))
    check(x.reshape(6, 4), A.reshape(6, 4))
    check(jnp.reshape(jnp.zeros((0, 3)), (-1, 3)), np.zeros((0, 3)).reshape(-1, 3))
    for bad in [(5, -1), (-1, -1), (5, 5)]:
        with pytest.raises(TypeError, match="reshape"):
            jnp.reshape(x, bad)


def test_axis_permutations():
    x = jnp.asarray(A)
    check(jnp.transpose(x), A.T)
    check(jnp.transpose(x, (1, -1, 0)), A.transpose(1, -1, 0))
    check(jnp.permute_dims(x, (2, 0, 1)), A.transpose(2, 0, 1))
    check(jnp.matrix_transpose(x), np.swapaxes(A, -1, -2))
    check(jnp.swapaxes(x, 0, -1), np.swapaxes(A, 0, -1))
    check(jnp.moveaxis(x, (0, 1), (2, 0)), np.moveaxis(A, (0, 1), (2, 0)))
    check(jnp.moveaxis(x, -1, 0), np.moveaxis(A, -1, 0))
    with pytest.raises(ValueError, match="same number"):
        jnp.moveaxis(x, (0, 1), (2,))
    with pytest.raises(ValueError, match="out of bounds"):
        jnp.transpose(x, (0, 1, 5))


def test_squeeze_expand_dims_unstack():
    b = A.reshape(1, 2, 1, 12)
    x = jnp.asarray(b)
    check(jnp.squeeze(x), np.squeeze(b))
    check(jnp.squeeze(x, (0, -2)), np.squeeze(b, (0, -2)))
    with pytest.raises(ValueError, match="size is 2"):
        jnp.squeeze(x, 1)
    check(jnp.expand_dims(jnp.asarray(A), (0, -1)), np.expand_dims(A, (0, -1)))
    check(jnp.expand_dims(jnp.asarray(A), 2), np.expand_dims(A, 2))
    with pytest.raises(ValueError, match="repeated"):
        jnp.expand_dims(jnp.asarray(A), (0, 0))
    parts = jnp.unstack(jnp.asarray(A), axis=1)
    check_list(parts, [A[:, i] for i in range(3)])


# ---- joining -----------------------------------------------------------------------------------
def test_concatenate_and_stack():
    x, y = A, A + 100
    check(jnp.concatenate([jnp.asarray(x), jnp.asarray(y)], axis=-1), np.concatenate([x, y], -1))
    check(jnp.concatenate([jnp.asarray(x), y], axis=None), np.concatenate([x, y], None))
    check(jnp.concatenate(jnp.asarray(A), axis=1), np.concatenate(A, axis=1))
    check(jnp.concat([jnp.ones(2), jnp.zeros(1)]), np.array([1.0, 1.0, 0.0], np.float32))
    check(jnp.stack([jnp.asarray(x), jnp.asarray(y)], axis=-2), np.stack([x, y], axis=-2))
    check(jnp.stack(jnp.asarray(A), axis=1), np.stack(A, axis=1))
    check(jnp.stack([jnp.ones(2), jnp.ones(2)], dtype=jnp.int8), np.ones((2, 2), np.int8))
    with pytest.raises(ValueError, match="same shape"):
        jnp.stack([jnp.ones(2), jnp.ones(3)])
    with pytest.raises(ValueError, match="Zero-dimensional"):
        jnp.concatenate([jnp.asarray(1.0), jnp.asarray(2.0)])


def test_concatenate_promotes_like_jax():
    out = jnp.concatenate([jnp.ones(2, jnp.int8), jnp.ones(2, jnp.float16)])
    assert out.dtype == np.float16 and not out.weak_type
    weak = jnp.concatenate([jnp.atleast_1d(1.0), jnp.atleast_1d(2.0)])
    assert weak.dtype == np.float32 and weak.weak_type
    assert jnp.concatenate([jnp.ones(1), jnp.ones(1)], dtype=jnp.int32).dtype == np.int32


def test_hstack_vstack_dstack_column_stack():
    a1, a2 = np.arange(3), np.arange(3, 6)
    m = np.arange(6).reshape(2, 3)
    for fn in ("hstack", "vstack", "dstack", "column_stack"):
        for args in ([a1, a2], [m, m]):
            check(getattr(jnp, fn)([jnp.asarray(v) for v in args]), getattr(np, fn)(args),
                  np.int32)
    check(jnp.hstack([1, 2]), np.hstack([1, 2]), np.int32)
    check(jnp.column_stack([jnp.arange(2), jnp.ones((2, 2))]),
          np.column_stack([np.arange(2), np.ones((2, 2))]), np.float32)


def test_atleast():
    for fn in ("atleast_1d", "atleast_2d", "atleast_3d"):
        for v in (np.float32(1), np.arange(3.0), np.ones((2, 3)), np.ones((1, 2, 3, 4))):
            check(getattr(jnp, fn)(jnp.asarray(v)), getattr(np, fn)(v),
                  jaxel.dtypes.canonicalize_dtype(np.asarray(v).dtype))
    got = jnp.atleast_2d(1.0, jnp.ones(2))
    assert isinstance(got, tuple) and [g.shape for g in got] == [(1, 1), (1, 2)]
    assert got[0].weak_type


# ---- splitting ---------------------------------------------------------------------------------
@pytest.mark.parametrize("spec", [2, [1, 3], [0, 2, 2], [-2], [1, 10], np.array([1])])
def test_split_and_array_split(spec):
    b = np.arange(20).reshape(4, 5)
    check_list(jnp.split(jnp.asarray(b), spec), np.split(b, spec))
    check_list(jnp.array_split(jnp.asarray(b), spec if not isinstance(spec, int) else 3, axis=1),
               np.array_split(b, spec if not isinstance(spec, int) else 3, axis=1))


def test_split_variants_and_errors():
    b = np.arange(16).reshape(2, 2, 4)
    check_list(jnp.hsplit(jnp.asarray(b), 2), np.hsplit(b, 2))
    check_list(jnp.vsplit(jnp.asarray(b), 2), np.vsplit(b, 2))
    check_list(jnp.dsplit(jnp.asarray(b), [1]), np.dsplit(b, [1]))
    check_list(jnp.hsplit(jnp.arange(4), 2), np.hsplit(np.arange(4), 2))
    with pytest.raises(ValueError, match="equal division"):
        jnp.split(jnp.arange(5), 2)
    with pytest.raises(ValueError, match="larger than 0"):
        jnp.array_split(jnp.arange(5), 0)
    with pytest.raises(ValueError, match="3 or more"):
        jnp.dsplit(jnp.ones((2, 2)), 2)


# ---- tile / repeat -----------------------------------------------------------------------------
@pytest.mark.parametrize("reps", [2, (2, 1), (1, 2, 2), (0, 1), (3,)])
def test_tile(reps):
    b = np.arange(6).reshape(2, 3)
    check(jnp.tile(jnp.asarray(b), reps), np.tile(b, reps), np.int32)


def test_tile_errors():
    with pytest.raises(ValueError, match="non-negative"):
        jnp.tile(jnp.arange(3), -1)


@pytest.mark.parametrize("repeats, axis", [(2, None), (3, 0), (0, 1), (np.array([1, 0, 2]), 1),
                                           (np.array([2]), 0), (np.array([3, 3, 3]), 1),
                                           (np.arange(6), None)])
def test_repeat(repeats, axis):
    b = np.arange(6).reshape(2, 3)
    got = jnp.repeat(jnp.asarray(b), jnp.asarray(repeats) if np.ndim(repeats) else repeats,
                     axis=axis)
    check(got, np.repeat(b, repeats, axis=axis), np.int32)


def test_repeat_total_length_and_tracing():
    x = jnp.arange(3)
    r = jnp.asarray(np.array([1, 0, 2]))
    check(jnp.repeat(x, r, total_repeat_length=5), np.array([0, 2, 2, 2, 2]), np.int32)
    check(jnp.repeat(x, r, total_repeat_length=2), np.array([0, 2]), np.int32)
    check(jnp.repeat(jnp.arange(2), jnp.asarray(np.array([2, 0])), total_repeat_length=3),
          np.array([0, 0, 1]), np.int32)
    check(jnp.repeat(x, 2, total_repeat_length=4), np.array([0, 0, 1, 1]), np.int32)
    f = jaxel.jit(lambda v, c: jnp.repeat(v, c, total_repeat_length=3))
    check(f(x, r), np.repeat(np.arange(3), [1, 0, 2]), np.int32)
    with pytest.raises(ConcretizationTypeError, match="total_repeat_length"):
        jaxel.jit(lambda v, c: jnp.repeat(v, c))(x, r)
    out = jnp.repeat(3, 2)
    assert out.weak_type and out.tolist() == [3, 3]
    with pytest.raises(ValueError, match="non-negative"):
        jnp.repeat(x, -1)
    with pytest.raises(ValueError, match="does not match"):
        jnp.repeat(x, jnp.asarray(np.array([1, 2])))
    with pytest.raises(TypeError, match="list"):
        jnp.repeat(x, [1, 2, 3])


# ---- flip / roll / rot90 -----------------------------------------------------------------------
def test_flips():
    x = jnp.asarray(A)
    for axis in (None, 0, -1, (0, 2)):
        check(jnp.flip(x, axis), np.flip(A, axis))
    check(jnp.fliplr(x), np.fliplr(A))
    check(jnp.flipud(x), np.flipud(A))
    with pytest.raises(ValueError, match="2-D"):
        jnp.fliplr(jnp.arange(2))


@pytest.mark.parametrize("shift, axis", [(1, None), (-7, None), (2, 1), ((1, -1), (0, 2)),
                                         ((1, 2), 1), (5, -1), (0, 0)])
def test_roll(shift, axis):
    check(jnp.roll(jnp.asarray(A), shift, axis), np.roll(A, shift, axis))


def test_roll_traced_shift():
    f = jaxel.jit(lambda v, s: jnp.roll(v, s, axis=1))
    for s in (-4, 0, 2, 7):
        check(f(jnp.asarray(A), s), np.roll(A, s, axis=1))
    check(jaxel.jit(lambda s: jnp.roll(jnp.arange(5), s))(7), np.roll(np.arange(5), 7), np.int32)


@pytest.mark.parametrize("k", [-1, 0, 1, 2, 3, 4])
@pytest.mark.parametrize("axes", [(0, 1), (2, 0)])
def test_rot90(k, axes):
    check(jnp.rot90(jnp.asarray(A), k, axes), np.rot90(A, k, axes))


def test_rot90_errors():
    with pytest.raises(ValueError, match="at least 2"):
        jnp.rot90(jnp.arange(3))
    with pytest.raises(ValueError, match="different"):
        jnp.rot90(jnp.asarray(A), axes=(1, 1))


# ---- broadcasting ------------------------------------------------------------------------------
def test_broadcasting_helpers():
    check(jnp.broadcast_to(jnp.arange(3), (2, 3)), np.broadcast_to(np.arange(3), (2, 3)),
          np.int32)
    check(jnp.broadcast_to(1.0, 3), np.ones(3, np.float32))
    assert jnp.broadcast_shapes((2, 1), (3,)) == (2, 3)
    assert jnp.broadcast_shapes(2, (3, 1)) == np.broadcast_shapes(2, (3, 1))
    assert jnp.broadcast_shapes() == ()
    xs = jnp.broadcast_arrays(jnp.ones(3), jnp.ones((2, 1)), 1)
    assert [x.shape for x in xs] == [(2, 3)] * 3
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        jnp.broadcast_shapes((2,), (3,))
    with pytest.raises(ValueError, match="Incompatible"):
        jnp.broadcast_to(jnp.ones(3), (2,))
    with pytest.raises(ValueError, match="fewer dimensions"):
        jnp.broadcast_to(jnp.ones((2, 3)), (3,))


# ---- pad ---------------------------------------------------------------------------------------
P = np.arange(1, 13, dtype=np.int32).reshape(3, 4)


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric", "wrap", "maximum",
                                  "minimum", "mean", "median", "linear_ramp"])
@pytest.mark.parametrize("width", [0, 2, ((1, 0), (3, 7))])
def test_pad_modes_match_numpy(mode, width):
    got = jnp.pad(jnp.asarray(P), width, mode=mode)
    check(got, np.pad(P, width, mode=mode), np.int32)


def test_pad_options():
    x = jnp.asarray(P)
    check(jnp.pad(x, 1, constant_values=((7, 8), (9, 10))),
          np.pad(P, 1, constant_values=((7, 8), (9, 10))), np.int32)
    check(jnp.pad(x, (1, 2), constant_values=1.7), np.pad(P, (1, 2), constant_values=1),
          np.int32)
    check(jnp.pad(x, 2, mode="mean", stat_length=2), np.pad(P, 2, mode="mean", stat_length=2),
          np.int32)
    check(jnp.pad(x, 2, mode="median", stat_length=((1, 2), (3, 4))),
          np.pad(P, 2, mode="median", stat_length=((1, 2), (3, 4))), np.int32)
    f = P.astype(np.float32)
    check(jnp.pad(jnp.asarray(f), (2, 3), mode="linear_ramp", end_values=(-5, 5)),
          np.pad(f, (2, 3), mode="linear_ramp", end_values=(-5, 5)), rtol=1e-6)
    for mode in ("reflect", "symmetric"):
        check(jnp.pad(jnp.asarray(f), 2, mode=mode, reflect_type="odd"),
              np.pad(f, 2, mode=mode, reflect_type="odd"))
    check(jnp.pad(jnp.arange(1), 3, mode="reflect"), np.pad(np.arange(1), 3, mode="reflect"),
          np.int32)
    check(jnp.pad(jnp.arange(2.0), 5, mode="reflect"), np.pad(np.arange(2.0), 5, mode="reflect"),
          np.float32)
    assert jnp.pad(jnp.asarray(1.0)[None], 1).weak_type
    assert jnp.pad(jnp.zeros((0, 2)), 1).shape == (2, 4)


def test_pad_errors():
    x = jnp.asarray(P)
    with pytest.raises(ValueError, match="non-negative"):
        jnp.pad(x, -1)
    with pytest.raises(ValueError, match="keyword"):
        jnp.pad(x, 1, mode="edge", constant_values=3)
    with pytest.raises(NotImplementedError, match="foo"):
        jnp.pad(x, 1, mode="foo")
    with pytest.raises(ValueError, match="empty axis"):
        jnp.pad(jnp.zeros((0,)), 1, mode="edge")
    with pytest.raises(ValueError, match="broadcast"):
        jnp.pad(jnp.arange(4), (1, 2, 3))


def test_shape_functions_trace_under_jit():
    def f(v):
        v = jnp.pad(v, ((1, 1), (0, 2)), mode="reflect")
        v = jnp.tile(jnp.roll(v, 1, 0), (1, 2))
        return jnp.concatenate(jnp.split(v, 2, axis=1)[::-1], axis=0)
    want = np.pad(P, ((1, 1), (0, 2)), mode="reflect")
    want = np.tile(np.roll(want, 1, 0), (1, 2))
    want = np.concatenate(np.split(want, 2, axis=1)[::-1], axis=0)
    check(jaxel.jit(f)(jnp.asarray(P)), want, np.int32)


# ---- metadata ----------------------------------------------------------------------------------
def test_shape_ndim_size_astype():
    assert jnp.shape(jnp.asarray(A)) == (2, 3, 4) and jnp.shape(1.0) == ()
    assert jnp.shape([[1, 2]]) == (1, 2)
    assert jnp.ndim(A) == 3 and jnp.ndim(3) == 0
    assert jnp.size(A) == 24 and jnp.size(A, 1) == 3 and jnp.size(A, -1) == 4
    w = jnp.asarray(1.0)
    assert w.weak_type and not jnp.astype(w, jnp.float32).weak_type
    check(jnp.astype(jnp.asarray(np.array([1.7, -1.7])), jnp.int32), np.array([1, -1]),
          np.int32)
