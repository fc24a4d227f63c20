"""Every sampler: agreement with jax (float tolerance) and statistics (moments, KS tests)."""
import numpy as np
import pytest

import jaxel
from jaxel import random as xr
from tests.random._oracle import jax, x64_both

stats = pytest.importorskip("scipy.stats")
jr = jax.random
N = 20000


def close(a, b, rtol=1e-4):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, a.dtype, b.shape, b.dtype)
    np.testing.assert_allclose(a.astype(np.float64), b.astype(np.float64), rtol=rtol, atol=1e-5)


CASES = [
    ("bernoulli", (0.3, (7,)), {}),
    ("bernoulli", (np.array([0.1, 0.9], np.float32),), {"mode": "high"}),
    ("gumbel", ((6,),), {}),
    ("gumbel", ((6,),), {"mode": "high"}),
    ("categorical", (np.log(np.array([[.1, .2, .7], [.5, .25, .25]], np.float32)),), {}),
    ("categorical", (np.log(np.array([[.1, .2, .7], [.5, .25, .25]], np.float32)),), {"shape": (4, 2)}),
    ("categorical", (np.zeros((2, 5), np.float32),), {"shape": (3, 2), "replace": False}),
    ("choice", (10, (4,)), {}),
    ("choice", (np.arange(20.0).reshape(4, 5), (3,)), {"replace": False, "axis": 1}),
    ("choice", (4, (6,)), {"p": np.array([.1, .2, .3, .4], np.float32)}),
    ("choice", (4, (3,)), {"p": np.array([.1, .2, .3, .4], np.float32), "replace": False}),
    ("truncated_normal", (-1.0, 2.0, (9,)), {}),
    ("exponential", ((9,),), {}), ("laplace", ((9,),), {}), ("logistic", ((9,),), {}),
    ("cauchy", ((9,),), {}), ("rademacher", ((9,),), {}), ("geometric", (0.3, (9,)), {}),
    ("gamma", (np.array([0.3, 1.0, 4.5], np.float32),), {}),
    ("loggamma", (0.01, (4,)), {}),
    ("beta", (2.0, 3.0, (5,)), {}),
    ("dirichlet", (np.array([1.0, 2.0, 3.0]), (2,)), {}),
    ("chisquare", (3.0, (5,)), {}), ("t", (3.0, (5,)), {}),
    ("poisson", (np.array([0.0, 0.5, 3.0, 12.0, 100.0]),), {}),
    ("binomial", (np.array([5.0, 20.0, 100.0, 1000.0]), np.array([.3, .7, .5, .2])), {}),
    ("multivariate_normal", (np.zeros(2, np.float32), np.array([[2, .5], [.5, 1]], np.float32), (3,)), {}),
    ("orthogonal", (3,), {}), ("orthogonal", (2,), {"m": 4}),
    ("ball", (3,), {"shape": (2,)}),
]


@pytest.mark.parametrize("name,args,kwargs", CASES, ids=[c[0] for c in CASES])
def test_agrees_with_jax(name, args, kwargs):
    a = getattr(xr, name)(xr.key(11), *args, **kwargs)
    b = getattr(jr, name)(jr.key(11), *args, **kwargs)
    close(a, b)


def test_low_precision_and_x64_dtypes():
    for dt in ["float16", "bfloat16"]:
        for name in ["exponential", "laplace", "logistic", "gumbel", "cauchy"]:
            close(getattr(xr, name)(xr.key(1), (50,), dt), getattr(jr, name)(jr.key(1), (50,), dt), 1e-2)
        close(xr.truncated_normal(xr.key(1), -1, 1, (20,), dt), jr.truncated_normal(jr.key(1), -1, 1, (20,), dt), 1e-2)
    with x64_both():
        for name in ["exponential", "gumbel", "logistic"]:
            close(getattr(xr, name)(xr.key(2), (20,)), getattr(jr, name)(jr.key(2), (20,)), 1e-12)
        close(xr.gamma(xr.key(2), 2.5, (4,)), jr.gamma(jr.key(2), 2.5, (4,)), 1e-10)
        close(xr.choice(xr.key(2), 9, (4,)), jr.choice(jr.key(2), 9, (4,)))


def ks(sample, cdf, *args):
    assert stats.kstest(np.asarray(sample, np.float64).ravel(), cdf, args=args).pvalue > 1e-3


def test_continuous_distributions_ks():
    k = xr.key(123)
    ks(xr.uniform(k, (N,)), "uniform")
    ks(xr.normal(k, (N,)), "norm")
    ks(xr.exponential(k, (N,)), "expon")
    ks(xr.laplace(k, (N,)), "laplace")
    ks(xr.logistic(k, (N,)), "logistic")
    ks(xr.cauchy(k, (N,)), "cauchy")
    ks(xr.gumbel(k, (N,)), "gumbel_r")
    ks(xr.truncated_normal(k, -0.5, 1.5, (N,)), "truncnorm", -0.5, 1.5)
    ks(xr.gamma(k, 0.7, (N,)), "gamma", 0.7)
    ks(xr.gamma(k, 3.0, (N,)), "gamma", 3.0)
    ks(np.exp(np.asarray(xr.loggamma(k, 2.0, (N,)))), "gamma", 2.0)
    ks(xr.beta(k, 2.0, 5.0, (N,)), "beta", 2.0, 5.0)
    ks(xr.chisquare(k, 4.0, (N,)), "chi2", 4.0)
    ks(xr.t(k, 5.0, (N,)), "t", 5.0)


def test_discrete_moments():
    k = xr.key(7)
    b = np.asarray(xr.bernoulli(k, 0.3, (N,)))
    assert abs(b.mean() - 0.3) < 0.02
    r = np.asarray(xr.randint(k, (N,), 2, 12))
    assert r.min() == 2 and r.max() == 11 and abs(r.mean() - 6.5) < 0.1
    for lam in [3.0, 40.0]:
        p = np.asarray(xr.poisson(k, lam, (N,)))
        assert abs(p.mean() - lam) < 0.05 * lam and abs(p.var() - lam) < 0.1 * lam
    bn = np.asarray(xr.binomial(k, 50.0, 0.3, (N,)))
    assert abs(bn.mean() - 15) < 0.3 and abs(bn.var() - 10.5) < 1.0
    g = np.asarray(xr.geometric(k, 0.25, (N,)))
    assert g.min() >= 1 and abs(g.mean() - 4) < 0.15
    rd = np.asarray(xr.rademacher(k, (N,)))
    assert set(np.unique(rd)) == {-1, 1} and abs(rd.mean()) < 0.03
    c = np.asarray(xr.categorical(k, np.log(np.array([0.2, 0.3, 0.5], np.float32)), shape=(N,)))
    np.testing.assert_allclose(np.bincount(c) / N, [0.2, 0.3, 0.5], atol=0.02)
    ch = np.asarray(xr.choice(k, 3, (N,), p=np.array([0.6, 0.3, 0.1], np.float32)))
    np.testing.assert_allclose(np.bincount(ch) / N, [0.6, 0.3, 0.1], atol=0.02)
    perm = np.asarray(xr.permutation(k, 50))
    assert sorted(perm.tolist()) == list(range(50))
    nr = np.asarray(xr.choice(k, 10, (10,), replace=False))
    assert sorted(nr.tolist()) == list(range(10))


def test_multivariate_and_geometric_samplers():
    k = xr.key(9)
    cov = np.array([[2.0, 0.6], [0.6, 1.0]], np.float32)
    x = np.asarray(xr.multivariate_normal(k, np.array([1.0, -1.0], np.float32), cov, (N,)))
    np.testing.assert_allclose(x.mean(0), [1, -1], atol=0.05)
    np.testing.assert_allclose(np.cov(x.T), cov, atol=0.08)
    d = np.asarray(xr.dirichlet(k, np.array([1.0, 2.0, 3.0]), (N,)))
    np.testing.assert_allclose(d.sum(-1), 1, rtol=1e-5)
    np.testing.assert_allclose(d.mean(0), [1 / 6, 2 / 6, 3 / 6], atol=0.01)
    q = np.asarray(xr.orthogonal(k, 4, (3,)))
    np.testing.assert_allclose(q @ np.swapaxes(q, -1, -2), np.broadcast_to(np.eye(4), (3, 4, 4)), atol=1e-5)
    bl = np.asarray(xr.ball(k, 3, shape=(N,)))
    r = np.linalg.norm(bl, axis=-1)
    assert r.max() <= 1.0 and abs(np.mean(r ** 3) - 0.5) < 0.02   # radius^3 ~ Uniform(0, 1)


def test_normal_jit_is_one_program():
    jaxpr = jaxel.make_jaxpr(lambda k: xr.normal(k, (1000,)))(xr.key(0))
    assert "while" not in str(jaxpr)


@pytest.mark.parametrize("method", ["cholesky", "eigh", "svd"])
def test_multivariate_normal_methods_and_orthogonal_match_jax(method):
    jax = pytest.importorskip("jax")
    cov = np.array([[2.0, 0.5, 0.1], [0.5, 1.0, 0.2], [0.1, 0.2, 0.7]], np.float32)
    mean = np.arange(3, dtype=np.float32)
    ours = jaxel.random.multivariate_normal(jaxel.random.key(3), mean, cov, (5,), method=method)
    theirs = jax.random.multivariate_normal(jax.random.key(3), mean, cov, (5,), method=method)
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=1e-5, atol=1e-5)
    q1 = jaxel.random.orthogonal(jaxel.random.key(4), 5, shape=(2,))
    q2 = jax.random.orthogonal(jax.random.key(4), 5, shape=(2,))
    np.testing.assert_allclose(np.asarray(q1), np.asarray(q2), rtol=1e-5, atol=1e-5)
