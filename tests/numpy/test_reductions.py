"""NumPy reductions, statistics, cumulative sums and sorting (jaxel/numpy/reductions.py).

Values are checked against NumPy over Hypothesis-drawn shapes, axes and ``keepdims``; result
dtypes are checked against ``jax.numpy`` (the oracle: JAX's dtype rules differ from NumPy's,
e.g. ``sum`` of int32 stays int32). Inputs are small integers stored as floats, so sums are
exact and comparisons can be tight.
"""
from __future__ import annotations

import warnings

import ml_dtypes
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import jaxel
import jaxel.numpy as jnp

SETTINGS = settings(max_examples=25, deadline=None)
NAN = np.nan
BF16 = np.dtype(ml_dtypes.bfloat16)


def _x(shape, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(-5, 6, shape).astype(dtype)


def _close(got, want, rtol=1e-5, atol=1e-5):
    got = np.asarray(got)
    want = np.asarray(want)
    assert got.shape == want.shape, f"shape {got.shape} != {want.shape}"
    if want.dtype.kind in "fc":
        np.testing.assert_allclose(got, want.astype(got.dtype), rtol=rtol, atol=atol,
                                   equal_nan=True)
    else:
        np.testing.assert_array_equal(got, want.astype(got.dtype))


# ---- strategies ---------------------------------------------------------------------------------
shapes = st.lists(st.integers(0, 4), min_size=0, max_size=3).map(tuple)
nonempty_shapes = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)


@st.composite
def shape_axis(draw, shape_strategy=shapes):
    """A shape and a NumPy ``axis``: None, an int (maybe negative) or a tuple of distinct
    axes."""
    shape = draw(shape_strategy)
    n = len(shape)
    kind = draw(st.sampled_from(["none", "int", "tuple"] if n else ["none", "tuple"]))
    if kind == "none":
        return shape, None
    if kind == "int":
        return shape, draw(st.integers(-n, n - 1))
    axes = draw(st.lists(st.integers(0, n - 1), unique=True, max_size=n)) if n else []
    return shape, tuple(a - n if draw(st.booleans()) else a for a in axes)


def _reduces_empty(shape, axis):
    axes = range(len(shape)) if axis is None else (axis if isinstance(axis, tuple) else (axis,))
    return any(shape[a] == 0 for a in axes)


# ---- values against NumPy -----------------------------------------------------------------------
@given(shape_axis(), st.booleans())
@SETTINGS
def test_monoid_reductions_match_numpy(sa, keepdims):
    shape, axis = sa
    x = _x(shape)
    a = jnp.asarray(x)
    b = x > 0
    _close(jnp.sum(a, axis, keepdims=keepdims), np.sum(x, axis, keepdims=keepdims))
    _close(jnp.prod(a, axis, keepdims=keepdims), np.prod(x, axis, keepdims=keepdims))
    _close(jnp.all(jnp.asarray(b), axis, keepdims=keepdims), np.all(b, axis, keepdims=keepdims))
    _close(jnp.any(a, axis, keepdims=keepdims), np.any(x, axis, keepdims=keepdims))
    _close(jnp.count_nonzero(a, axis, keepdims=keepdims),
           np.count_nonzero(x, axis, keepdims=keepdims))
    if _reduces_empty(shape, axis):
        with pytest.raises(ValueError, match="zero-size array"):
            jnp.max(a, axis)
        _close(jnp.max(a, axis, keepdims=keepdims, initial=-100.0),
               np.max(x, axis, keepdims=keepdims, initial=-100.0))
    else:
        _close(jnp.max(a, axis, keepdims=keepdims), np.max(x, axis, keepdims=keepdims))
        _close(jnp.min(a, axis, keepdims=keepdims), np.min(x, axis, keepdims=keepdims))
        _close(jnp.ptp(a, axis, keepdims=keepdims), np.ptp(x, axis, keepdims=keepdims))


@given(shape_axis(nonempty_shapes), st.booleans(), st.integers(0, 1))
@SETTINGS
def test_statistics_match_numpy(sa, keepdims, ddof):
    shape, axis = sa
    x = _x(shape)
    a = jnp.asarray(x)
    _close(jnp.mean(a, axis, keepdims=keepdims), np.mean(x, axis, keepdims=keepdims))
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # "Degrees of freedom <= 0"
        want_var = np.var(x.astype(np.float64), axis, ddof=ddof, keepdims=keepdims)
        want_std = np.std(x.astype(np.float64), axis, ddof=ddof, keepdims=keepdims)
    # JAX (and jaxel) give NaN where N - ddof <= 0; NumPy gives inf or NaN there.
    want_var = np.where(np.isinf(want_var), NAN, want_var)
    want_std = np.where(np.isinf(want_std), NAN, want_std)
    _close(jnp.var(a, axis, ddof=ddof, keepdims=keepdims), want_var)
    _close(jnp.std(a, axis, ddof=ddof, keepdims=keepdims), want_std)
    _close(jnp.median(a, axis, keepdims=keepdims), np.median(x, axis, keepdims=keepdims))
    w = np.abs(_x(shape, seed=1)) + 1
    _close(jnp.average(a, axis, jnp.asarray(w), keepdims=keepdims),
           np.average(x, axis, w, keepdims=keepdims))


@given(shapes, st.data())
@SETTINGS
def test_arg_and_cumulative_match_numpy(shape, data):
    x = _x(shape)
    a = jnp.asarray(x)
    axis = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1))
                     if shape else st.none())
    keepdims = data.draw(st.booleans())
    _close(jnp.cumsum(a, axis), np.cumsum(x, axis))
    _close(jnp.cumprod(a, axis), np.cumprod(x, axis))
    empty = x.size == 0 if axis is None else shape[axis] == 0
    if empty:
        with pytest.raises(ValueError, match="empty sequence"):
            jnp.argmax(a, axis)
    else:
        _close(jnp.argmax(a, axis, keepdims=keepdims), np.argmax(x, axis, keepdims=keepdims))
        _close(jnp.argmin(a, axis, keepdims=keepdims), np.argmin(x, axis, keepdims=keepdims))


@given(shape_axis(nonempty_shapes), st.booleans())
@SETTINGS
def test_nan_variants_match_numpy(sa, keepdims):
    shape, axis = sa
    x = _x(shape)
    x[x == 0] = NAN
    a = jnp.asarray(x)
    with warnings.catch_warnings():  # NumPy warns about all-NaN slices; values matter here
        warnings.simplefilter("ignore", RuntimeWarning)
        _close(jnp.nansum(a, axis, keepdims=keepdims), np.nansum(x, axis, keepdims=keepdims))
        _close(jnp.nanmean(a, axis, keepdims=keepdims), np.nanmean(x, axis, keepdims=keepdims))
        _close(jnp.nanmax(a, axis, keepdims=keepdims), np.nanmax(x, axis, keepdims=keepdims))
        _close(jnp.nanmin(a, axis, keepdims=keepdims), np.nanmin(x, axis, keepdims=keepdims))
        _close(jnp.nanvar(a, axis, keepdims=keepdims), np.nanvar(x, axis, keepdims=keepdims))


@given(nonempty_shapes, st.data())
@SETTINGS
def test_sort_and_argsort_match_numpy(shape, data):
    x = _x(shape)  # many ties: stability matters
    a = jnp.asarray(x)
    axis = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    descending = data.draw(st.booleans())
    want = np.sort(x, axis, kind="stable")
    idx = np.argsort(x, axis, kind="stable")
    if descending:
        ax = -1 if axis is None else axis
        want = np.flip(want, ax)
        idx = np.flip(np.argsort(-x, axis, kind="stable"), ax)
        # Reversing NumPy's order flips ties; a stable descending sort keeps them in order.
        idx = np.flip(idx, ax)
    _close(jnp.sort(a, axis, descending=descending), want)
    _close(jnp.argsort(a, axis, descending=descending), idx)


# ---- dtypes against the jax.numpy oracle --------------------------------------------------------
DTYPES = [np.bool_, np.int8, np.uint8, np.int16, np.int32, np.uint32, np.float16, BF16,
          np.float32, np.complex64]
FUNS = ["sum", "prod", "max", "min", "all", "any", "mean", "var", "std", "argmax", "argmin",
        "cumsum", "cumprod", "count_nonzero", "ptp", "median", "nansum", "nanmean", "nanmax",
        "nanmin", "average", "cumulative_sum", "sort", "argsort", "nanargmax", "nanvar"]


def _shape_dtype(fn, x):
    try:
        out = fn(x)
    except (TypeError, ValueError) as e:
        return type(e)
    return (tuple(out.shape), np.dtype(out.dtype))


@pytest.mark.parametrize("name", FUNS)
def test_result_dtypes_match_jax(name):
    jax = pytest.importorskip("jax")
    jax_np = pytest.importorskip("jax.numpy")
    for dt in DTYPES:
        x = np.ones((2, 3), dt)

        def ours(v):
            return jaxel.eval_shape(lambda v: getattr(jnp, name)(v, **_kw(name)), v)

        def theirs(v):
            return jax.eval_shape(lambda v: getattr(jax_np, name)(v, **_kw(name)), v)

        want = _shape_dtype(theirs, x)
        got = _shape_dtype(ours, x)
        if name in _COMPLEX_UNORDERED and np.dtype(dt).kind == "c":
            # JAX traces these but fails when compiling; jaxel refuses them while tracing.
            want = TypeError
        assert got == want, f"jnp.{name} on {np.dtype(dt).name}: jaxel {got}, jax {want}"


_COMPLEX_UNORDERED = {"argmax", "argmin", "nanargmax"}


def _kw(name):
    return {"axis": 1} if name == "cumulative_sum" else {}


@pytest.mark.parametrize("dtype_arg", [np.int8, np.float16, np.int32, bool, np.complex64])
def test_explicit_dtype_matches_jax(dtype_arg):
    jax_np = pytest.importorskip("jax.numpy")
    x = np.array([[1, 0, 3], [4, 5, 0]], np.int32)
    for name in ["sum", "prod", "cumsum", "cumprod", "mean"]:
        if name == "mean" and np.dtype(dtype_arg) == np.bool_:
            continue
        got = getattr(jnp, name)(jnp.asarray(x), dtype=dtype_arg)
        want = getattr(jax_np, name)(x, dtype=dtype_arg)
        assert got.dtype == want.dtype, (name, dtype_arg)
        _close(got, np.asarray(want))


def test_var_and_std_dtype_argument_like_jax():
    jax_np = pytest.importorskip("jax.numpy")
    x = np.arange(4, dtype=np.int8)
    for dt in [np.int32, np.float16, np.complex64]:
        got = jnp.var(jnp.asarray(x), dtype=dt)
        want = jax_np.var(x, dtype=dt)
        assert got.dtype == want.dtype, dt
        # Values as NumPy: JAX computes an integer-dtype variance in integers (1.0 here).
        _close(got, np.var(x))
    with pytest.raises(ValueError, match="must be inexact"):
        jnp.std(jnp.asarray(x), dtype=np.int8)


def test_python_scalar_inputs_are_not_weak():
    jax = pytest.importorskip("jax")
    jax_np = pytest.importorskip("jax.numpy")
    for name in ["sum", "max", "mean", "cumsum", "argmax"]:
        got = jaxel.eval_shape(lambda: getattr(jnp, name)(3.0))
        want = jax.eval_shape(lambda: getattr(jax_np, name)(3.0))
        assert (got.dtype, got.weak_type) == (want.dtype, want.weak_type), name


def test_low_precision_accumulates_in_float32():
    # 4096 ones: float16 accumulation would stall at 2048.
    x = jnp.asarray(np.ones(4096, np.float16))
    assert float(jnp.sum(x)) == 4096.0
    assert float(jnp.mean(x)) == 1.0
    assert jnp.sum(x).dtype == np.float16


# ---- semantics ----------------------------------------------------------------------------------
def test_where_and_initial():
    x = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    m = np.array([[True, False, True], [False, False, True]])
    a, w = jnp.asarray(x), jnp.asarray(m)
    _close(jnp.sum(a, 1, where=w), np.sum(x, 1, where=m))
    _close(jnp.sum(a, 1, where=w, initial=10.0), np.sum(x, 1, where=m, initial=10.0))
    _close(jnp.prod(a + 1, 0, where=w), np.prod(x + 1, 0, where=m))
    _close(jnp.max(a, 1, where=w, initial=-1.0), np.max(x, 1, where=m, initial=-1.0))
    _close(jnp.min(a, 0, where=w, initial=100.0), np.min(x, 0, where=m, initial=100.0))
    _close(jnp.mean(a, 1, where=w), np.mean(x, 1, where=m))
    _close(jnp.var(a, 1, where=w), np.var(x, 1, where=m))
    _close(jnp.all(a > 0, 1, where=w), np.all(x > 0, 1, where=m))
    _close(jnp.any(a > 4, 1, where=w), np.any(x > 4, 1, where=m))
    # where broadcasts against the array
    _close(jnp.sum(a, 0, where=jnp.asarray(m[0])), np.sum(x, 0, where=m[0]))
    # an int array with a float initial keeps its dtype, as in JAX
    r = jnp.max(jnp.asarray(np.arange(3)), initial=2.5)
    assert r.dtype == np.int32 and int(r) == 2


def test_nan_semantics():
    x = jnp.asarray(np.array([1.0, NAN, 3.0, NAN], np.float32))
    assert int(jnp.argmax(x)) == 1 and int(jnp.argmin(x)) == 1  # first NaN wins
    assert np.isnan(float(jnp.max(x))) and np.isnan(float(jnp.median(x)))
    assert int(jnp.nanargmax(x)) == 2 and int(jnp.nanargmin(x)) == 0
    all_nan = jnp.asarray(np.array([NAN, NAN], np.float32))
    assert np.isnan(float(jnp.nanmax(all_nan)))
    assert float(jnp.nanmax(all_nan, initial=1.0)) == 1.0  # as JAX
    assert int(jnp.nanargmax(all_nan)) == -1
    s = jnp.sort(jnp.asarray(np.array([NAN, 1.0, -np.inf, 0.0], np.float32)))
    np.testing.assert_array_equal(np.asarray(s), [-np.inf, 0.0, 1.0, NAN])
    d = jnp.sort(jnp.asarray(np.array([1.0, NAN, 0.0], np.float32)), descending=True)
    np.testing.assert_array_equal(np.asarray(d), [NAN, 1.0, 0.0])


def test_descending_argsort_is_stable_like_jax():
    x = jnp.asarray(np.array([1, 1, 0, 1], np.int32))
    np.testing.assert_array_equal(np.asarray(jnp.argsort(x, descending=True)), [0, 1, 3, 2])


def test_empty_reductions():
    e = jnp.asarray(np.zeros((0,), np.float32))
    assert float(jnp.sum(e)) == 0.0 and float(jnp.prod(e)) == 1.0
    assert bool(jnp.all(e)) and not bool(jnp.any(e))
    assert np.isnan(float(jnp.mean(e))) and np.isnan(float(jnp.median(e)))
    assert jnp.cumsum(e).shape == (0,)
    assert jnp.sum(jnp.asarray(np.zeros((2, 0), np.int32)), 1).tolist() == [0, 0]


def test_average_variants():
    x = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    w = np.array([1.0, 2.0, 3.0], np.float32)
    avg, scl = jnp.average(jnp.asarray(x), 1, jnp.asarray(w), returned=True)
    wa, ws = np.average(x, 1, w, returned=True)
    _close(avg, wa)
    _close(scl, ws)
    avg, scl = jnp.average(jnp.asarray(x), returned=True)
    _close(avg, np.average(x))
    _close(scl, 6.0)
    w2 = np.arange(1.0, 7.0, dtype=np.float32).reshape(3, 2)  # shaped as a along (1, 0)
    _close(jnp.average(jnp.asarray(x), (1, 0), jnp.asarray(w2)), np.average(x, (1, 0), w2))


def test_cumulative_sum_array_api():
    x = jnp.asarray(np.array([[1, 2], [3, 4]], np.int8))
    r = jnp.cumulative_sum(x, axis=0, include_initial=True)
    assert r.dtype == np.int32
    np.testing.assert_array_equal(np.asarray(r), [[0, 0], [1, 2], [4, 6]])
    r = jnp.cumulative_prod(jnp.asarray(np.array([1.0, 2.0, 3.0], np.float32)),
                            include_initial=True)
    np.testing.assert_array_equal(np.asarray(r), [1.0, 1.0, 2.0, 6.0])
    with pytest.raises(ValueError, match="axis"):
        jnp.cumulative_sum(x)
    with pytest.raises(ValueError, match="non-scalar"):
        jnp.cumulative_sum(jnp.asarray(np.float32(1)))


def test_bool_results_of_sum_and_prod():
    x = jnp.asarray(np.array([True, False]))
    assert jnp.sum(x, dtype=bool).dtype == np.bool_ and bool(jnp.sum(x, dtype=bool))
    assert not bool(jnp.prod(x, dtype=bool))
    np.testing.assert_array_equal(np.asarray(jnp.cumsum(x, dtype=bool)), [True, True])


def test_methods_and_jit_agree_with_functions():
    x = jnp.asarray(_x((3, 4)))
    for f in [lambda v: v.sum(1), lambda v: v.mean(0, keepdims=True), lambda v: v.max(),
              lambda v: v.argmax(1), lambda v: v.cumsum(0), lambda v: jnp.var(v, ddof=1),
              lambda v: v.sort(0), lambda v: v.argsort(), lambda v: jnp.median(v, 1),
              lambda v: jnp.nanmean(v), lambda v: jnp.average(v, 0, jnp.ones(3))]:
        _close(jaxel.jit(f)(x), f(x))


def test_errors():
    a = jnp.asarray(np.ones((2, 3), np.float32))
    with pytest.raises(NotImplementedError, match="'out' argument to jnp.sum"):
        jnp.sum(a, out=a)
    with pytest.raises(ValueError, match="does not have an identity"):
        jnp.max(a, where=a > 0)
    with pytest.raises(ValueError, match="out of bounds"):
        jnp.sum(a, axis=2)
    with pytest.raises(ValueError, match="duplicate"):
        jnp.sum(a, axis=(0, -2))
    with pytest.raises(TypeError):
        jnp.sum(a, axis=1.0)
    with pytest.raises(TypeError):
        jnp.argmax(a, axis=(0, 1))
    with pytest.raises(ValueError, match="where must be None or a boolean array"):
        jnp.sum(a, where=a)
    with pytest.raises(ValueError, match="initial value must be a scalar"):
        jnp.max(a, initial=jnp.ones(2))
    with pytest.raises(ValueError, match="ddof and correction"):
        jnp.var(a, ddof=1, correction=1)
    with pytest.raises(TypeError, match="bool"):
        jnp.ptp(a > 0)
    with pytest.raises(ValueError, match="complex"):
        jnp.median(jnp.asarray(np.ones(3, np.complex64)))
    with pytest.raises(TypeError, match="'kind' argument to sort"):
        jnp.sort(a, kind="quicksort")
    with pytest.raises(ValueError, match="weights"):
        jnp.average(a, weights=jnp.ones(3))
    with pytest.raises(TypeError, match="array-like"):
        jnp.sum([1, 2])


def test_var_correction_and_mean_arguments():
    x = _x((3, 4))
    a = jnp.asarray(x)
    _close(jnp.var(a, 1, correction=1), np.var(x, 1, ddof=1))
    m = jnp.mean(a, 1, keepdims=True)
    _close(jnp.var(a, 1, mean=m), np.var(x, 1))
    c = jnp.asarray((_x((4,)) + 1j * _x((4,), seed=3)).astype(np.complex64))
    v = jnp.var(c)
    assert v.dtype == np.float32
    _close(v, np.var(np.asarray(c)))
