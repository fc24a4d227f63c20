"""jaxel.scipy.stats against jax.scipy.stats (every function of every distribution, inside
and outside the support, with loc/scale), plus gradients, jit and vmap for a few."""
from __future__ import annotations

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel.scipy import stats
from jaxel.test_util import check_grads

RNG = np.random.default_rng(3)
N = 24


def _u(lo, hi, n=N):
    return RNG.uniform(lo, hi, n).astype(np.float32)


def _ints(lo, hi, n=N):
    return RNG.integers(lo, hi, n).astype(np.float32)


X_REAL = np.concatenate([_u(-6, 6, N - 4), np.float32([0.0, -0.5, 1.0, 2.5])])
X_POS = np.concatenate([_u(-0.5, 8, N - 3), np.float32([0.0, 1.0, -1.0])])
X_UNIT = np.concatenate([_u(-0.1, 1.1, N - 3), np.float32([0.0, 1.0, 0.5])])
Q = np.concatenate([_u(0.001, 0.999, N - 2), np.float32([0.0, 1.0])])
LOC = _u(-1, 1)
SCALE = _u(0.5, 2)

# (distribution, function, args). Functions of the same distribution share arguments.
CASES = []


def _add(dist, fns, args):
    for fn in fns:
        CASES.append((dist, fn, args))


LS = ["pdf", "logpdf", "cdf", "logcdf", "sf", "logsf"]
_add("norm", LS, (X_REAL, LOC, SCALE))
_add("norm", ["ppf", "isf"], (Q, LOC, SCALE))
_add("t", ["pdf", "logpdf"], (X_REAL, _u(0.5, 10), LOC, SCALE))
_add("beta", LS, (X_UNIT, _u(0.5, 5), _u(0.5, 5), np.zeros(N, np.float32), np.ones(N, np.float32)))
_add("beta", ["pdf", "logpdf", "cdf", "sf"], (X_UNIT * 2 - 1, _u(0.5, 5), _u(0.5, 5), LOC * 0 - 1, SCALE * 0 + 2))
_add("gamma", LS, (X_POS, _u(0.5, 6), LOC * 0, SCALE))
_add("chi2", LS, (X_POS, _u(0.5, 8), LOC * 0, SCALE))
_add("expon", LS, (X_POS, LOC, SCALE))
_add("expon", ["ppf"], (Q, LOC, SCALE))
_add("laplace", ["pdf", "logpdf", "cdf"], (X_REAL, LOC, SCALE))
_add("logistic", ["pdf", "logpdf", "cdf", "sf"], (X_REAL, LOC, SCALE))
_add("logistic", ["ppf", "isf"], (Q, LOC, SCALE))
_add("uniform", ["pdf", "logpdf", "cdf"], (X_REAL, LOC, SCALE))
_add("uniform", ["ppf"], (Q, LOC, SCALE))
_add("cauchy", LS, (X_REAL, LOC, SCALE))
_add("cauchy", ["ppf", "isf"], (Q[:-2], LOC[:-2], SCALE[:-2]))
_add("poisson", ["pmf", "logpmf", "cdf"], (_ints(-2, 12), _u(0.5, 8), _ints(0, 2)))
_add("poisson", ["entropy"], (np.concatenate([_u(0.1, 80, N - 1), np.float32([30.0])]),))
_add("bernoulli", ["pmf", "logpmf"], (_ints(-1, 3), _u(0.05, 0.95), _ints(0, 2)))
_add("bernoulli", ["cdf"], (_ints(-1, 3) * 0.7, _u(0.05, 0.95)))
_add("bernoulli", ["ppf"], (Q, _u(0.05, 0.95)))
_add("binom", ["pmf", "logpmf"], (_ints(-1, 12), _ints(1, 10), _u(0.05, 0.95), _ints(0, 2)))
_add("geom", ["pmf", "logpmf"], (_ints(-1, 8), _u(0.05, 0.95), _ints(0, 2)))
_add("nbinom", ["pmf", "logpmf"], (_ints(-1, 8), _u(0.5, 6), _u(0.05, 0.95), _ints(0, 2)))
_add("betabinom", ["pmf", "logpmf"], (_ints(-1, 12), _ints(1, 10), _u(0.5, 4), _u(0.5, 4), _ints(0, 2)))
_add("gumbel_r", LS + ["ppf"], (X_REAL, LOC, SCALE))
_add("gumbel_l", LS + ["ppf"], (X_REAL, LOC, SCALE))
_add("pareto", LS + ["ppf"], (X_POS + 1, _u(0.5, 4), LOC * 0, SCALE))
_add("vonmises", ["pdf", "logpdf"], (X_REAL, _u(0.1, 20)))
_add("wrapcauchy", ["pdf", "logpdf"], (X_POS, _u(0.05, 0.95)))
_add("gennorm", ["pdf", "logpdf", "cdf"], (X_REAL, _u(0.5, 4)))


def _fix_ppf_args(dist, fn, args):
    # ppf functions take a probability first
    if fn == "ppf" and dist in ("gumbel_r", "gumbel_l", "pareto"):
        return (Q,) + tuple(args[1:])
    return args


@pytest.mark.parametrize("dist,fn,args", CASES,
                         ids=[f"{d}.{f}-{i}" for i, (d, f, _) in enumerate(CASES)])
def test_matches_jax(dist, fn, args):
    jax = pytest.importorskip("jax")
    import jax.scipy.stats as jst
    args = _fix_ppf_args(dist, fn, args)
    ours = np.asarray(getattr(getattr(stats, dist), fn)(*[jnp.asarray(a) for a in args]))
    theirs = np.asarray(getattr(getattr(jst, dist), fn)(*args))
    assert ours.dtype == theirs.dtype
    np.testing.assert_allclose(ours, theirs, rtol=2e-4, atol=2e-5)


def test_values_against_scipy_x64():
    sps = pytest.importorskip("scipy.stats")
    with jaxel.config._override("jax_enable_x64", True):
        x = np.linspace(-4, 9, 53)
        np.testing.assert_allclose(stats.norm.logcdf(x, 1.0, 2.0), sps.norm.logcdf(x, 1.0, 2.0),
                                   rtol=1e-12)
        np.testing.assert_allclose(stats.gamma.cdf(np.abs(x), 2.5, 0.0, 1.5),
                                   sps.gamma.cdf(np.abs(x), 2.5, 0.0, 1.5), rtol=1e-12)
        np.testing.assert_allclose(stats.t.logpdf(x, 3.5, 0.5, 2.0),
                                   sps.t.logpdf(x, 3.5, 0.5, 2.0), rtol=1e-12)
        u = np.linspace(0.01, 0.99, 17)
        np.testing.assert_allclose(stats.beta.sf(u, 2.5, 0.7), sps.beta.sf(u, 2.5, 0.7),
                                   rtol=1e-11)
        np.testing.assert_allclose(stats.norm.ppf(u, 1.0, 3.0), sps.norm.ppf(u, 1.0, 3.0),
                                   rtol=1e-12)
        np.testing.assert_allclose(stats.poisson.entropy(np.float64([0.3, 4.0, 49.0, 51.0, 400.0])),
                                   sps.poisson.entropy([0.3, 4.0, 49.0, 51.0, 400.0]), rtol=1e-6)


def _spd(n, batch=()):
    a = RNG.standard_normal(batch + (n, n))
    return (a @ np.swapaxes(a, -1, -2) + n * np.eye(n)).astype(np.float32)


def test_multivariate_normal_diagonal_covariance_against_scipy():
    sps = pytest.importorskip("scipy.stats")
    x, mean, var = RNG.standard_normal((5, 3)), RNG.standard_normal(3), RNG.uniform(0.5, 2, 3)
    with jaxel.config._override("jax_enable_x64", True):
        np.testing.assert_allclose(stats.multivariate_normal.logpdf(x, mean, var),
                                   sps.multivariate_normal.logpdf(x, mean, np.diag(var)),
                                   rtol=1e-12)


@pytest.mark.parametrize("kind", ["full", "batched", "scalar", "1d"])
def test_multivariate_normal_matches_jax(kind):
    jax = pytest.importorskip("jax")
    import jax.scipy.stats as jst
    n = 3
    if kind == "full":
        x, mean, cov = RNG.standard_normal((5, n)), RNG.standard_normal(n), _spd(n)
    elif kind == "batched":
        x, mean, cov = RNG.standard_normal((4, n)), RNG.standard_normal((4, n)), _spd(n, (4,))
    elif kind == "scalar":
        x, mean, cov = RNG.standard_normal((5, n)), RNG.standard_normal(n), np.float32(1.7)
    else:
        x, mean, cov = RNG.standard_normal(5), np.float32(0.3), np.float32(1.7)
    x, mean = np.float32(x), np.float32(mean)
    for fn in ("logpdf", "pdf"):
        ours = getattr(stats.multivariate_normal, fn)(jnp.asarray(x), jnp.asarray(mean),
                                                       jnp.asarray(cov))
        theirs = getattr(jst.multivariate_normal, fn)(x, mean, cov)
        np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=2e-4, atol=1e-6)


@pytest.mark.parametrize("k", [3, 2])
def test_dirichlet_matches_jax(k):
    jax = pytest.importorskip("jax")
    import jax.scipy.stats as jst
    alpha = _u(0.5, 3, 3)
    x = RNG.dirichlet(np.ones(3), size=4).T.astype(np.float32)[:k]
    for fn in ("logpdf", "pdf"):
        ours = getattr(stats.dirichlet, fn)(jnp.asarray(x), jnp.asarray(alpha))
        theirs = getattr(jst.dirichlet, fn)(x, alpha)
        np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=2e-4, atol=1e-6)
    off = np.float32([[0.5], [0.6], [0.2]])
    assert np.isneginf(np.asarray(stats.dirichlet.logpdf(off, alpha))).all()


def test_multinomial_matches_jax():
    jax = pytest.importorskip("jax")
    import jax.scipy.stats as jst
    p = np.float32([0.2, 0.3, 0.5])
    for x in ([1, 2, 3], [0, 0, 6], [1, 1, 1]):
        x = np.int32(x)
        for fn in ("logpmf", "pmf"):
            ours = getattr(stats.multinomial, fn)(jnp.asarray(x), 6, jnp.asarray(p))
            theirs = getattr(jst.multinomial, fn)(x, 6, p)
            np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=2e-5)


def test_multinomial_batched_against_scipy():
    # jax.scipy.stats.multinomial sums the counts over *all* axes; we sum over the last one
    sps = pytest.importorskip("scipy.stats")
    p = np.array([0.2, 0.3, 0.5])
    x = np.array([[1, 2, 3], [0, 0, 6], [1, 1, 1]])
    with jaxel.config._override("jax_enable_x64", True):
        np.testing.assert_allclose(stats.multinomial.logpmf(x, 6, p),
                                   sps.multinomial.logpmf(x, 6, p), rtol=1e-12)


GRAD_CASES = [
    (stats.norm.logpdf, (0.3, 0.1, 1.4)), (stats.norm.logcdf, (-2.0, 0.1, 1.4)),
    (stats.norm.ppf, (0.2, 0.1, 1.4)), (stats.t.logpdf, (0.3, 3.5, 0.1, 1.4)),
    (stats.gamma.logpdf, (1.3, 2.5, 0.0, 1.4)), (stats.gamma.cdf, (1.3, 2.5, 0.0, 1.4)),
    (stats.beta.logpdf, (0.3, 2.5, 1.5)), (stats.beta.cdf, (0.3, 2.5, 1.5)),
    (stats.chi2.logpdf, (2.3, 3.5)), (stats.cauchy.logcdf, (0.7, 0.1, 2.0)),
    (stats.logistic.logpdf, (0.7, 0.1, 2.0)), (stats.laplace.logpdf, (0.7, 0.1, 2.0)),
    (stats.expon.logsf, (0.7, 0.1, 2.0)), (stats.poisson.logpmf, (3.0, 2.5)),
    (stats.binom.logpmf, (3.0, 7.0, 0.3)), (stats.gumbel_r.logpdf, (0.3, 0.1, 1.2)),
]


@pytest.mark.parametrize("f,args", GRAD_CASES, ids=[f"{f.__module__.split('.')[-1]}.{f.__name__}"
                                                   for f, _ in GRAD_CASES])
def test_gradients(f, args):
    with jaxel.config._override("jax_enable_x64", True):
        # discrete pmfs are differentiated in their parameters only
        if f in (stats.poisson.logpmf, stats.binom.logpmf):
            k = args[0]
            check_grads(lambda *p: f(k, *p), args[1:], order=1)
        else:
            check_grads(f, args, order=1)


def test_jit_and_vmap():
    x = jnp.asarray(X_POS)
    a = jnp.asarray(_u(0.5, 6))
    expected = np.asarray(stats.gamma.cdf(x, a))
    np.testing.assert_allclose(np.asarray(jaxel.jit(stats.gamma.cdf)(x, a)), expected, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(jaxel.vmap(stats.gamma.cdf)(x, a)), expected, rtol=1e-6)
    mvn = jaxel.vmap(stats.multivariate_normal.logpdf, in_axes=(0, None, None))
    xs = jnp.asarray(RNG.standard_normal((4, 3)).astype(np.float32))
    cov = jnp.asarray(_spd(3))
    np.testing.assert_allclose(np.asarray(mvn(xs, jnp.zeros(3), cov)),
                               np.asarray(stats.multivariate_normal.logpdf(xs, jnp.zeros(3), cov)),
                               rtol=1e-5)
    g = jaxel.jit(jaxel.grad(lambda m: jnp.sum(stats.norm.logpdf(x, m, 2.0))))(0.5)
    np.testing.assert_allclose(float(g), float(np.sum(X_POS - 0.5) / 4.0), rtol=1e-5)


@pytest.mark.parametrize("bounds", [(-1.0, 2.0), (3.0, 5.0), (-6.0, -4.0), (-np.inf, 1.0),
                                    (0.5, np.inf)])
def test_truncnorm_against_scipy(bounds):
    sps = pytest.importorskip("scipy.stats")
    a, b = bounds
    x = np.linspace(-4, 6, 41)
    with jaxel.config._override("jax_enable_x64", True):
        for fn in ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"):
            ours = np.asarray(getattr(stats.truncnorm, fn)(x, a, b, 0.3, 1.2))
            ref = getattr(sps.truncnorm, fn)(x, a, b, 0.3, 1.2)
            np.testing.assert_allclose(ours, ref, rtol=1e-9, atol=1e-300)


def test_truncnorm_matches_jax_float32():
    jax = pytest.importorskip("jax")
    import jax.scipy.stats as jst
    x = np.linspace(-3, 3, 13).astype(np.float32)
    for fn in ("logpdf", "pdf", "cdf", "sf"):
        np.testing.assert_allclose(np.asarray(getattr(stats.truncnorm, fn)(x, -1.0, 2.0)),
                                   np.asarray(getattr(jst.truncnorm, fn)(x, -1.0, 2.0)),
                                   rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("method", ["average", "min", "max", "dense", "ordinal"])
def test_rankdata_against_scipy(method):
    sps = pytest.importorskip("scipy.stats")
    d = np.array([[3.0, 1, 3, 2, 2, 5], [1, 1, 1, 0, 2, 2]])
    np.testing.assert_array_equal(np.asarray(stats.rankdata(d, method)), sps.rankdata(d, method))
    np.testing.assert_array_equal(np.asarray(stats.rankdata(d, method, axis=1)),
                                  sps.rankdata(d, method, axis=1))
    np.testing.assert_array_equal(np.asarray(stats.rankdata(d, method, axis=0)),
                                  sps.rankdata(d, method, axis=0))


def test_sem_against_scipy():
    sps = pytest.importorskip("scipy.stats")
    d = RNG.standard_normal((4, 7))
    with jaxel.config._override("jax_enable_x64", True):
        np.testing.assert_allclose(stats.sem(d), sps.sem(d), rtol=1e-12)
        np.testing.assert_allclose(stats.sem(d, axis=1, ddof=0), sps.sem(d, axis=1, ddof=0),
                                   rtol=1e-12)
        np.testing.assert_allclose(stats.sem(d, axis=None), sps.sem(d, axis=None), rtol=1e-12)
        d[0, 0] = np.nan
        np.testing.assert_allclose(stats.sem(d, axis=1, nan_policy="omit"),
                                   sps.sem(d, axis=1, nan_policy="omit"), rtol=1e-12)


def test_mode_matches_jax():
    jax = pytest.importorskip("jax")
    import jax.scipy.stats as jst
    d = RNG.integers(0, 4, (5, 9)).astype(np.float32)
    for axis in (0, 1, -1, None):
        for keepdims in (False, True):
            ours = stats.mode(jnp.asarray(d), axis=axis, keepdims=keepdims)
            theirs = jst.mode(d, axis=axis, keepdims=keepdims)
            for o, t in zip(ours, theirs):
                assert o.shape == t.shape
                np.testing.assert_array_equal(np.asarray(o), np.asarray(t))
