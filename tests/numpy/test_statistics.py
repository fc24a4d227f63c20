"""statistics.py: searchsorted, digitize, bincount, histograms, quantiles, cov/corrcoef."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import jaxel
import jaxel.numpy as jnp
from jaxel.errors import ConcretizationTypeError
from tests.numpy._oracle import A, R, check

SORTED = np.array([1., 2., 2., 3., 5., np.nan], np.float32)
QUERY = np.array([[0, 2, 2.5], [5, 6, np.nan]], np.float32)


@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("method", ["scan", "scan_unrolled", "sort", "compare_all"])
def test_searchsorted(side, method):
    want = R.searchsorted(SORTED, QUERY, side=side, method=method) if R is not np else \
        np.searchsorted(SORTED, QUERY, side=side)
    check(jnp.searchsorted(A(SORTED), A(QUERY), side=side, method=method), want)
    f = jaxel.jit(lambda a, v: jnp.searchsorted(a, v, side=side, method=method))
    check(f(A(SORTED), A(QUERY)), want)
    ints = np.array([0, 3, 3, 7, 9], np.int32)
    check(jnp.searchsorted(A(ints), A(np.arange(11)), side=side, method=method),
          np.searchsorted(ints, np.arange(11), side=side).astype(np.int32))


def test_searchsorted_sorter_and_errors():
    check(jnp.searchsorted(A(np.array([3, 1, 2])), A(np.array([2])),
                           sorter=A(np.array([1, 2, 0]))),
          np.searchsorted(np.array([3, 1, 2]), np.array([2]),
                          sorter=np.array([1, 2, 0])).astype(np.int32))
    with pytest.raises(ValueError, match="1-dimensional"):
        jnp.searchsorted(A(np.ones((2, 2))), A(1.0))
    with pytest.raises(ValueError, match="method"):
        jnp.searchsorted(A(SORTED), A(1.0), method="bogus")


@pytest.mark.parametrize("right", [False, True])
def test_digitize(right):
    x = np.array([0.5, 1, 1.5, 3, 4], np.float32)
    bins = np.array([1., 2., 3.], np.float32)
    check(jnp.digitize(A(x), A(bins), right), np.digitize(x, bins, right).astype(np.int32))
    check(jnp.digitize(A(x), A(bins[::-1].copy()), right),
          np.digitize(x, bins[::-1], right).astype(np.int32))


def test_bincount():
    x = np.array([0, 1, 1, 3], np.int32)
    check(jnp.bincount(A(x)), np.bincount(x).astype(np.int32))
    check(jnp.bincount(A(x), minlength=7), np.bincount(x, minlength=7).astype(np.int32))
    w = np.arange(6, dtype=np.float32)
    xw = np.array([0, 1, 1, 3, -1, 7], np.int32)
    if R is not np:
        check(jnp.bincount(A(xw), A(w), length=5), R.bincount(xw, w, length=5))
    f = jaxel.jit(lambda v: jnp.bincount(v, length=4))
    check(f(A(x)), np.bincount(x).astype(np.int32))
    with pytest.raises(ConcretizationTypeError, match="length"):
        jaxel.jit(jnp.bincount)(A(x))
    with pytest.raises(TypeError, match="integer"):
        jnp.bincount(A(w))


DATA = np.random.RandomState(0).randn(50).astype(np.float32)


@pytest.mark.parametrize("kw", [dict(), dict(bins=5), dict(bins=4, range=(-1, 1)),
                                dict(bins=np.array([-2, -1, 0, 0.5, 3.], np.float32)),
                                dict(bins=6, density=True),
                                dict(bins=3, weights=np.abs(DATA))])
def test_histogram(kw):
    kj = {k: (A(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
    check(jnp.histogram(A(DATA), **kj), R.histogram(DATA, **kw), dtype=R is not np)


def test_histogram_jit_and_bin_edges():
    f = jaxel.jit(lambda d: jnp.histogram(d, bins=5, range=(-2, 2)))
    check(f(A(DATA)), R.histogram(DATA, bins=5, range=(-2, 2)), dtype=R is not np)
    check(jaxel.jit(lambda d: jnp.histogram(d, bins=5))(A(DATA)), R.histogram(DATA, bins=5),
          dtype=R is not np)
    check(jnp.histogram_bin_edges(A(DATA), 7), R.histogram_bin_edges(DATA, 7))
    check(jnp.histogram_bin_edges(A(np.ones(3, np.float32)), 2),
          np.histogram_bin_edges(np.ones(3, np.float32), 2))


def test_histogram2d_dd():
    x, y = DATA[:25], DATA[25:]
    if R is np:
        pytest.skip("dtype conventions checked against JAX")
    check(jnp.histogram2d(A(x), A(y), bins=(3, 4)), R.histogram2d(x, y, bins=(3, 4)))
    check(jnp.histogram2d(A(x), A(y), bins=3, density=True),
          R.histogram2d(x, y, bins=3, density=True))
    s = np.random.RandomState(1).randn(30, 3).astype(np.float32)
    rng = [(-1, 1), None, (-2, 2)]
    check(jnp.histogramdd(A(s), bins=[2, 3, 4], range=rng)[0],
          R.histogramdd(s, bins=[2, 3, 4], range=rng)[0])


X3 = np.random.RandomState(2).randn(4, 5, 6).astype(np.float32)


@pytest.mark.parametrize("method", ["linear", "lower", "higher", "midpoint", "nearest"])
@pytest.mark.parametrize("axis", [None, 1, (0, 2)])
def test_quantile_methods(method, axis):
    if R is np:
        pytest.skip("JAX's tie rule for 'nearest' differs from NumPy's")
    for q in [0.3, np.array([0., 0.25, 0.5, 1.0], np.float32)]:
        qq = A(q) if np.ndim(q) else q
        check(jnp.quantile(A(X3), qq, axis=axis, method=method, keepdims=axis == 1),
              R.quantile(X3, q, axis=axis, method=method, keepdims=axis == 1))
    f = jaxel.jit(lambda a: jnp.quantile(a, 0.7, axis=axis, method=method))
    check(f(A(X3)), R.quantile(X3, 0.7, axis=axis, method=method))


def test_nan_quantiles_percentiles_median():
    xn = X3.copy()
    xn[0, 0, :3] = np.nan
    xn[1, 1, :] = np.nan
    q2 = np.array([0.1, 0.9], np.float32)
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning) if R is np else \
            _nullcontext():
        check(jnp.nanquantile(A(xn), A(q2), axis=2), R.nanquantile(xn, q2, axis=2))
        check(jnp.nanpercentile(A(xn), 30, axis=-1), R.nanpercentile(xn, 30, axis=-1))
        check(jnp.nanmedian(A(xn), axis=-1), R.nanmedian(xn, axis=-1))
    check(jnp.quantile(A(xn), 0.5, axis=2), R.quantile(xn, 0.5, axis=2))
    check(jnp.percentile(A(X3), 30, axis=0), R.percentile(X3, 30, axis=0))
    check(jnp.quantile(A(np.arange(10)), 0.33), R.quantile(np.arange(10), 0.33))


def _nullcontext():
    import contextlib
    return contextlib.nullcontext()


def test_quantile_gradient():
    x = X3[0, 0]
    q = np.array([0.3, 0.5], np.float32)
    g = jaxel.grad(lambda v: jnp.sum(jnp.quantile(v, A(q))))(A(x))
    # d quantile / d x: the interpolation weights on the two neighbouring order statistics
    order = np.argsort(x)
    want = np.zeros(6)
    for qq in q:
        pos = qq * 5
        lo, hi = int(np.floor(pos)), int(np.ceil(pos))
        want[order[lo]] += 1 - (pos - lo)
        want[order[hi]] += pos - lo if hi != lo else 0
    np.testing.assert_allclose(np.asarray(g), want, rtol=1e-5, atol=1e-6)


@settings(max_examples=15, deadline=None)
@given(st.sampled_from([(7,), (3, 4), (2, 3, 4)]), st.floats(0, 1), st.booleans())
def test_quantile_matches_numpy_linear(shape, q, keepdims):
    x = np.random.RandomState(len(shape)).randn(*shape).astype(np.float32)
    axis = len(shape) - 1
    check(jnp.quantile(A(x), np.float32(q), axis=axis, keepdims=keepdims),
          np.quantile(x, np.float32(q), axis=axis, keepdims=keepdims).astype(np.float32),
          rtol=1e-4, dtype=False)


def test_cov_corrcoef():
    m = np.random.RandomState(3).randn(3, 8).astype(np.float32)
    fw = np.array([1, 2, 1, 3, 1, 1, 2, 1])
    aw = np.random.RandomState(4).rand(8).astype(np.float32)
    check(jnp.cov(A(m)), R.cov(m))
    check(jnp.cov(A(m[0]), A(m[1])), R.cov(m[0], m[1]))
    check(jnp.cov(A(m.T), rowvar=False, bias=True), R.cov(m.T, rowvar=False, bias=True))
    check(jnp.cov(A(m), fweights=A(fw), aweights=A(aw)), R.cov(m, fweights=fw, aweights=aw),
          rtol=1e-4)
    check(jnp.cov(A(m), aweights=A(aw), ddof=0), R.cov(m, aweights=aw, ddof=0), rtol=1e-4)
    check(jnp.cov(A(m[0])), R.cov(m[0]))
    check(jnp.corrcoef(A(m)), R.corrcoef(m))
    check(jnp.corrcoef(A(m[0]), A(m[1])), R.corrcoef(m[0], m[1]))
    check(jaxel.jit(jnp.cov)(A(m)), R.cov(m))
    g = jaxel.grad(lambda v: jnp.cov(v)[0, 1])(A(m[:2]))
    d = m[:2] - m[:2].mean(1, keepdims=True)
    np.testing.assert_allclose(np.asarray(g), d[::-1] / 7, rtol=1e-5, atol=1e-6)
