"""NumPy indexing (``x[idx]``, ``x.at[idx]``, ``take``, ``take_along_axis``) against NumPy.

Shapes and indices come from Hypothesis; every result is checked eagerly and under ``jit``
(where index arrays are traced arguments). Out-of-bounds behaviour follows JAX: retrieval
clamps, updates are dropped, ``mode=`` chooses otherwise.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import jaxel
import jaxel.numpy as jnp

SETTINGS = settings(max_examples=30, deadline=None)


def _x(shape, dtype=np.float32):
    return (np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape) * 1.5 - 3
            ).astype(dtype)


def _check(got, want):
    got = np.asarray(got)
    assert got.shape == want.shape, f"shape {got.shape} != {want.shape}"
    assert got.dtype == want.dtype, f"dtype {got.dtype} != {want.dtype}"
    np.testing.assert_array_equal(got, want)


def _primitives(fun, *args):
    return [e.primitive.name for e in jaxel.make_jaxpr(fun)(*args).jaxpr.eqns]


# ---- strategies ----------------------------------------------------------------------------
shapes = st.lists(st.integers(0, 4), min_size=0, max_size=3).map(tuple)


def _basic_item(draw, n):
    if n > 0 and draw(st.booleans()):
        return draw(st.integers(-n, n - 1))
    bound = st.one_of(st.none(), st.integers(-n - 2, n + 2))
    return slice(draw(bound), draw(bound), draw(st.sampled_from([None, 1, 2, 3, -1, -2])))


@st.composite
def basic_index(draw, shape):
    """A NumPy basic index for ``shape``: in-bounds ints, slices with any step, None, and
    maybe an Ellipsis standing for the dimensions between the leading and trailing items."""
    head = draw(st.integers(0, len(shape)))
    items = [_basic_item(draw, n) for n in shape[:head]]
    if draw(st.booleans()):
        tail = draw(st.integers(0, len(shape) - head))
        items += [Ellipsis] + [_basic_item(draw, n) for n in shape[len(shape) - tail:]]
    for _ in range(draw(st.integers(0, 2))):
        items.insert(draw(st.integers(0, len(items))), None)
    return tuple(items)


@st.composite
def shape_and_basic_index(draw):
    shape = draw(shapes)
    return shape, draw(basic_index(shape))


@st.composite
def shape_and_advanced_index(draw):
    """An index mixing integer arrays (broadcastable shapes, negative values included) with
    ints, slices, None and Ellipsis."""
    shape = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple))
    bshape = draw(st.sampled_from([(2,), (3,), (2, 3), (1, 2), ()]))
    items = []
    has_array = False
    for n in shape:
        kind = draw(st.sampled_from(["array", "array", "int", "slice"]))
        if kind == "array":
            ashape = bshape[draw(st.integers(0, len(bshape))):]
            ashape = tuple(1 if draw(st.booleans()) and len(ashape) > 1 else d for d in ashape)
            vals = draw(st.lists(st.integers(-n, n - 1), min_size=int(np.prod(ashape)),
                                 max_size=int(np.prod(ashape))))
            items.append(np.array(vals, np.int32).reshape(ashape))
            has_array = True
        elif kind == "int":
            items.append(draw(st.integers(-n, n - 1)))
        else:
            items.append(slice(draw(st.sampled_from([None, 1])), None,
                               draw(st.sampled_from([None, 2, -1]))))
    if not has_array:
        items[0] = np.array([0, shape[0] - 1], np.int32)
    if draw(st.booleans()):
        items.insert(draw(st.integers(0, len(items))), None)
    if draw(st.booleans()):  # an Ellipsis standing for no dimension still separates indices
        items.insert(draw(st.integers(0, len(items))), Ellipsis)
    return shape, tuple(items)


def _split(idx):
    """The index with its arrays replaced by placeholders, and the arrays (to trace them)."""
    arrays = [i for i in idx if isinstance(i, np.ndarray)]
    return arrays, lambda arrs: tuple(arrs.pop(0) if isinstance(i, np.ndarray) else i
                                      for i in idx)


# ---- getitem ---------------------------------------------------------------------------------
@SETTINGS
@given(shape_and_basic_index())
def test_basic_indexing_matches_numpy(case):
    shape, idx = case
    xn = _x(shape)
    want = xn[idx]
    x = jnp.asarray(xn)
    _check(x[idx], want)
    _check(jaxel.jit(lambda x: x[idx])(x), want)
    assert "gather" not in _primitives(lambda x: x[idx], x)


@SETTINGS
@given(shape_and_advanced_index())
def test_advanced_indexing_matches_numpy(case):
    shape, idx = case
    xn = _x(shape)
    want = xn[idx]
    x = jnp.asarray(xn)
    _check(x[idx], want)  # static NumPy index arrays
    arrays, rebuild = _split(idx)
    dev = [jnp.asarray(a) for a in arrays]
    _check(x[rebuild(list(dev))], want)  # device index arrays
    _check(jaxel.jit(lambda x, arrs: x[rebuild(list(arrs))])(x, dev), want)  # traced


@SETTINGS
@given(st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple), st.data())
def test_boolean_mask_on_concrete_values(shape, data):
    xn = _x(shape)
    j = data.draw(st.integers(0, len(shape) - 1))  # dimensions before the mask: taken whole
    mshape = shape[j:j + data.draw(st.integers(1, len(shape) - j))]
    size = int(np.prod(mshape))
    mask = np.array(data.draw(st.lists(st.booleans(), min_size=size, max_size=size)),
                    bool).reshape(mshape)
    idx = (slice(None),) * j + (mask,)
    want = xn[idx]
    x = jnp.asarray(xn)
    _check(x[idx], want)
    _check(x[(slice(None),) * j + (jnp.asarray(mask),)], want)  # a concrete device mask
    _check(jaxel.jit(lambda x: x[idx])(x), want)  # a closed-over mask is concrete


@pytest.mark.parametrize("idx", [True, False, (0, slice(None), True), (slice(None), True, [0, 1]),
                                 (True, 0), (np.True_, None), (True, True)])
def test_scalar_booleans(idx):
    xn = _x((3, 4, 5))
    _check(jnp.asarray(xn)[idx], xn[idx])


def test_dynamic_scalar_index_uses_dynamic_slice():
    xn = _x((4, 5))
    x = jnp.asarray(xn)
    f = jaxel.jit(lambda x, i: x[i, 1:3])
    for i in (0, 3, -1, -4):
        _check(f(x, i), xn[i, 1:3])
    prims = _primitives(lambda x, i: x[i, 1:3], x, 1)
    assert "dynamic_slice" in prims and "gather" not in prims
    # Strided slices with a traced int: a static slice first, then the dynamic_slice.
    _check(jaxel.jit(lambda x, i: x[::-2, i])(x, 2), xn[::-2, 2])


def test_out_of_bounds_retrieval_clamps():
    xn = _x((5,))
    x = jnp.asarray(xn)
    _check(x[7], xn[4])
    _check(x[-9], xn[0])
    _check(jaxel.jit(lambda x, i: x[i])(x, 11), xn[4])
    idx = np.array([-7, 6, 2, -1])
    _check(x[idx], xn[np.clip(np.where(idx < 0, idx + 5, idx), 0, 4)])
    _check(jaxel.jit(lambda x, i: x[i])(x, jnp.asarray(idx)),
           xn[np.clip(np.where(idx < 0, idx + 5, idx), 0, 4)])


def test_get_modes():
    xn = _x((5,))
    x = jnp.asarray(xn)
    idx = jnp.asarray(np.array([-7, 6, 2, -1], np.int32))
    _check(x.at[idx].get(mode="fill", fill_value=-1.0), np.array([-1, -1, xn[2], xn[4]],
                                                                   np.float32))
    _check(x.at[idx].get(mode="clip"), xn[[0, 4, 2, 4]])
    _check(x.at[idx].get(mode="promise_in_bounds")[2:], xn[[2, 4]])
    assert np.isnan(np.asarray(x.at[7].get(mode="fill")))
    _check(jnp.asarray(np.arange(3, dtype=np.int32)).at[5].get(mode="fill"),
           np.array(np.iinfo(np.int32).min, np.int32))
    _check(jnp.asarray(np.arange(3, dtype=np.uint8)).at[-4].get(mode="drop"),
           np.array(255, np.uint8))
    _check(jnp.asarray(np.ones(3, bool)).at[jnp.asarray(np.array([0, 3]))].get(mode="fill"),
           np.array([True, True]))
    f = jaxel.jit(lambda x, i: x.at[i].get(mode="fill", fill_value=0.5))
    _check(f(x, idx), np.array([0.5, 0.5, xn[2], xn[4]], np.float32))


def test_index_errors():
    x = jnp.asarray(_x((3, 4)))
    with pytest.raises(TypeError, match="integer or boolean type.*1.5"):
        x[1.5]
    with pytest.raises(TypeError, match="integer dtype"):
        x[jnp.asarray(np.array([1.0, 2.0], np.float32))]
    with pytest.raises(TypeError, match="integer or boolean type"):
        x[np.array([0.0])]
    with pytest.raises(TypeError, match="non-tuple sequence"):
        x[[0, 1]]
    with pytest.raises(TypeError, match="string"):
        x["a"]
    with pytest.raises(IndexError, match="Too many indices"):
        x[0, 0, 0]
    with pytest.raises(IndexError, match="single ellipsis"):
        x[..., ...]
    with pytest.raises(IndexError, match="boolean index did not match"):
        x[np.array([True, False])]
    with pytest.raises(ValueError, match="broadcast"):
        x[np.array([0, 1]), np.array([0, 1, 2])]
    with pytest.raises(ValueError, match="step cannot be zero"):
        x[::0]
    with pytest.raises(TypeError, match="Slice stop"):
        x[1:2.5]
    with pytest.raises(IndexError, match="out of bounds for axis 0 with size 0"):
        jnp.zeros((0, 3))[0]
    _check(jnp.zeros((0, 3))[np.array([], np.int32)], np.zeros((0, 3), np.float32))


def test_traced_index_errors():
    x = jnp.asarray(_x((3, 4)))
    with pytest.raises(IndexError, match="jnp.where.*size="):
        jaxel.jit(lambda x: x[x > 3])(x)
    with pytest.raises(IndexError, match="traced"):
        jaxel.jit(lambda x, b: x[b])(x, True)
    assert issubclass(jnp.indexing.NonConcreteBooleanIndexError, IndexError)
    with pytest.raises(IndexError, match="lax.dynamic_slice"):
        jaxel.jit(lambda x, i: x[i:i + 2])(x, 1)


def test_setitem_points_to_at():
    x = jnp.asarray(_x((3,)))
    with pytest.raises(TypeError, match=r"\.at\[idx\]\.set"):
        x[0] = 1.0
    with pytest.raises(TypeError, match=r"\.at\[idx\]\.set"):
        jaxel.jit(lambda x: x.__setitem__(0, 1.0))(x)


# ---- .at updates -----------------------------------------------------------------------------
_NP_AT = {"add": np.add.at, "multiply": np.multiply.at, "min": np.minimum.at,
          "max": np.maximum.at}


@st.composite
def update_case(draw):
    """(shape, index, values): index arrays may repeat entries; values broadcast."""
    shape = draw(st.lists(st.integers(1, 4), min_size=1, max_size=2).map(tuple))
    kind = draw(st.sampled_from(["array", "int", "slice", "mixed", "strided"]))
    n = shape[0]
    if kind == "array":
        k = draw(st.integers(0, 5))
        idx = (np.array(draw(st.lists(st.integers(-n, n - 1), min_size=k, max_size=k)),
                        np.int32),)
    elif kind == "int":
        idx = (draw(st.integers(-n, n - 1)),)
    elif kind == "slice":
        idx = (slice(draw(st.integers(-n, n)), draw(st.none() | st.integers(-n, n))),)
    elif kind == "strided":
        idx = (slice(None, None, draw(st.sampled_from([2, -1, -2]))),)
    else:
        idx = (np.array(draw(st.lists(st.integers(-n, n - 1), min_size=2, max_size=2)),
                        np.int32), slice(None)) if len(shape) == 2 else \
            (np.array([0, n - 1, 0], np.int32),)
    idx = idx + (() if len(shape) == 1 or len(idx) == 2 else
                 (draw(st.sampled_from([slice(None), 0, slice(1, None)])),))
    want_shape = np.empty(shape)[idx].shape
    vshape = want_shape[draw(st.integers(0, len(want_shape))):]
    values = (np.arange(int(np.prod(vshape))).reshape(vshape) % 5 - 2).astype(np.float32)
    return shape, idx, values


@SETTINGS
@given(update_case(), st.sampled_from(["add", "multiply", "min", "max"]))
def test_at_accumulating_updates_match_numpy(case, method):
    shape, idx, values = case
    xn = _x(shape)
    want = xn.copy()
    _NP_AT[method](want, idx, values)
    x = jnp.asarray(xn)
    _check(getattr(x.at[idx], method)(values), want)
    arrays, rebuild = _split(idx)
    f = jaxel.jit(lambda x, arrs, v: getattr(x.at[rebuild(list(arrs))], method)(v))
    _check(f(x, [jnp.asarray(a) for a in arrays], jnp.asarray(values)), want)


@SETTINGS
@given(update_case())
def test_at_set_matches_numpy(case):
    shape, idx, values = case
    arrays, _ = _split(idx)
    if any(len(np.unique(np.where(a < 0, a + shape[0], a))) != a.size for a in arrays):
        values = np.float32(7.0)  # repeated indices: any winner is right only if values agree
    xn = _x(shape)
    want = xn.copy()
    want[idx] = values
    x = jnp.asarray(xn)
    _check(x.at[idx].set(values), want)
    _check(jaxel.jit(lambda x, v: x.at[idx].set(v))(x, jnp.asarray(values)), want)


def test_at_get_divide_power_and_dtypes():
    xn = _x((3, 4))
    x = jnp.asarray(xn)
    _check(x.at[1:, ::2].get(), xn[1:, ::2])
    want = xn.copy()
    want[1] /= 4.0
    _check(x.at[1].divide(4.0), want)
    want = xn.copy()
    want[:, 1] **= 2.0
    np.testing.assert_allclose(np.asarray(x.at[:, 1].power(2.0)), want, rtol=1e-6)
    xi = jnp.asarray(np.arange(5, dtype=np.int32))
    _check(xi.at[1].divide(2), np.array([0, 0.5, 2, 3, 4], np.float32))  # true division
    _check(xi.at[1].set(2.7), np.array([0, 2, 2, 3, 4], np.int32))  # cast to x's dtype
    _check(xi.at[np.array([1, 1])].mul(3), np.array([0, 9, 2, 3, 4], np.int32))
    xb = jnp.asarray(np.zeros(3, bool))
    _check(xb.at[np.array([0, 0])].add(True), np.array([True, False, False]))
    _check(x.at[None, 1].set(0.0), np.where(np.arange(3)[:, None] == 1, 0, xn).astype(np.float32))
    mask = xn > 0
    want = xn.copy()
    want[mask] = 0
    _check(x.at[mask].set(0.0), want)
    _check(x.at[True].add(1.0), xn + 1)
    _check(x.at[...].set(jnp.asarray(np.ones(4, np.float32))), np.ones((3, 4), np.float32))
    _check(x.at[jnp.asarray(np.int32(2))].set(0.0), np.where(np.arange(3)[:, None] == 2, 0, xn)
           .astype(np.float32))


def test_at_out_of_bounds_modes():
    xn = _x((5,))
    x = jnp.asarray(xn)
    idx = np.array([-7, 6, 2, -1], np.int32)
    want_drop = xn.copy()
    want_drop[[2, 4]] = 9
    _check(x.at[idx].set(9.0), want_drop)
    _check(x.at[idx].set(9.0, mode="drop"), want_drop)
    _check(x.at[idx].set(9.0, mode="fill"), want_drop)
    _check(x.at[7].add(1.0), xn)
    want_clip = xn.copy()
    want_clip[[0, 4, 2, 4]] = 9
    _check(x.at[idx].set(9.0, mode="clip"), want_clip)
    want = xn.copy()
    np.add.at(want, [0, 4, 2, 4], 1.0)
    _check(x.at[idx].add(1.0, mode="clip"), want)
    f = jaxel.jit(lambda x, i: x.at[i].add(1.0))
    want = xn.copy()
    np.add.at(want, [2, 4], 1.0)
    _check(f(x, jnp.asarray(idx)), want)
    _check(x.at[idx].divide(2.0), np.where(np.isin(np.arange(5), [2, 4]), xn / 2, xn)
           .astype(np.float32))
    with pytest.raises(ValueError, match="Unknown"):
        x.at[0].set(1.0, mode="bogus")


def test_at_value_shape_errors():
    x = jnp.asarray(_x((3, 4)))
    with pytest.raises(ValueError, match=r"shape \(3,\).*\(\)"):
        jnp.asarray(_x((3,))).at[1].set(jnp.asarray(np.ones(3, np.float32)))
    with pytest.raises(ValueError, match="broadcast"):
        x.at[1:3].set(jnp.asarray(np.ones((3, 4), np.float32)))
    with pytest.raises(TypeError, match="array-like"):
        x.at[0].set("a")


# ---- take, take_along_axis -------------------------------------------------------------------
@SETTINGS
@given(st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple), st.data())
def test_take_matches_numpy(shape, data):
    xn = _x(shape)
    axis = data.draw(st.sampled_from([None] + list(range(-len(shape), len(shape)))))
    n = xn.size if axis is None else shape[axis]
    ishape = data.draw(st.sampled_from([(), (3,), (2, 2)]))
    k = int(np.prod(ishape))
    idx = np.array(data.draw(st.lists(st.integers(-n, n - 1), min_size=k, max_size=k)),
                   np.int32).reshape(ishape)
    want = np.take(xn, idx, axis=axis)
    x = jnp.asarray(xn)
    _check(jnp.take(x, idx, axis=axis), want)
    _check(jaxel.jit(lambda x, i: jnp.take(x, i, axis=axis))(x, jnp.asarray(idx)), want)
    wide = idx * 3 + 1  # out of bounds too: clip and wrap as NumPy's modes
    _check(jnp.take(x, wide, axis=axis, mode="clip"), np.take(xn, wide, axis=axis, mode="clip"))
    _check(jnp.take(x, wide, axis=axis, mode="wrap"), np.take(xn, wide, axis=axis, mode="wrap"))


def test_take_fill_and_errors():
    x = jnp.asarray(np.arange(5, dtype=np.float32))
    got = np.asarray(jnp.take(x, np.array([1, 7, -1, -9])))
    np.testing.assert_array_equal(got, [1, np.nan, 4, np.nan])
    _check(jnp.take(x, np.array([7]), fill_value=-2.0), np.array([-2], np.float32))
    with pytest.raises(NotImplementedError, match="raise"):
        jnp.take(x, np.array([0]), mode="raise")
    with pytest.raises(TypeError, match="integer dtype"):
        jnp.take(x, np.array([0.5]))
    _check(x.take(np.array([2, 0])), np.array([2, 0], np.float32))


@SETTINGS
@given(st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple), st.data())
def test_take_along_axis_matches_numpy(shape, data):
    xn = _x(shape)
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    ishape = list(shape)
    ishape[axis] = data.draw(st.integers(0, 4))
    for d in range(len(shape)):  # broadcasting in the other dimensions
        if d != axis % len(shape) and shape[d] > 1 and data.draw(st.booleans()):
            ishape[d] = 1
    n = shape[axis]
    k = int(np.prod(ishape))
    idx = np.array(data.draw(st.lists(st.integers(-n, n - 1), min_size=k, max_size=k)),
                   np.int32).reshape(ishape)
    want = np.take_along_axis(xn, idx, axis=axis)
    x = jnp.asarray(xn)
    _check(jnp.take_along_axis(x, idx, axis=axis), want)
    _check(jaxel.jit(lambda x, i: jnp.take_along_axis(x, i, axis=axis))(x, jnp.asarray(idx)),
           want)


def test_take_along_axis_sorts_and_fills():
    a = np.array([[10, 30, 20], [60, 40, 50]], np.int32)
    order = np.argsort(a, axis=1)
    _check(jnp.take_along_axis(jnp.asarray(a), order, axis=1), np.sort(a, axis=1))
    xf = jnp.asarray(np.arange(4, dtype=np.float32))
    got = np.asarray(jnp.take_along_axis(xf, np.array([1, 9, -1]), axis=None))
    np.testing.assert_array_equal(got, [1, np.nan, 3])
    with pytest.raises(ValueError, match="same number of dimensions"):
        jnp.take_along_axis(jnp.asarray(a), np.array([0]), axis=1)


# ---- jaxpr shape of common indexing ----------------------------------------------------------
def test_jaxprs_stay_small():
    x = jnp.asarray(_x((3, 4)))
    assert _primitives(lambda x: x[1:3, ::-2], x) == ["slice", "rev"]
    assert _primitives(lambda x: x[1], x) == ["slice", "squeeze"]
    assert _primitives(lambda x: x[...], x) == []
    assert _primitives(lambda x, i: x[i], x, jnp.asarray(np.array([0, 2], np.int32))) == \
        ["lt", "add", "select_n", "broadcast_in_dim", "gather"]
    assert _primitives(lambda x: x[np.array([0, 2])], x) == ["gather"]
    assert _primitives(lambda x: x.at[0].add(1.0), x)[-1] == "scatter-add"


def test_at_apply_matches_numpy():
    a = np.arange(6.0).reshape(2, 3)
    x = jnp.asarray(a)
    want = a.copy()
    want[:, 1:] = np.sin(want[:, 1:])
    np.testing.assert_allclose(x.at[:, 1:].apply(jnp.sin), want, rtol=1e-6)
    want = a.copy()
    want[1, [0, 2]] += 10
    np.testing.assert_array_equal(x.at[1, jnp.array([0, 2])].apply(lambda v: v + 10), want)
    np.testing.assert_array_equal(x.at[5].apply(jnp.sin, mode="drop"), a)  # out of bounds
    got = jaxel.jit(lambda y: y.at[0].apply(jnp.exp))(x)
    np.testing.assert_allclose(got[0], np.exp(a[0]), rtol=1e-6)
