"""jaxel.scipy.stats.gaussian_kde against scipy.stats.gaussian_kde."""
from __future__ import annotations

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel.scipy.stats import gaussian_kde

ss = pytest.importorskip("scipy.stats")
RNG = np.random.default_rng(7)


def _all_results(kde, pts, other, mean, cov):
    """Every method at once (the estimate travels as a pytree)."""
    return dict(evaluate=kde.evaluate(pts), call=kde(pts), pdf=kde.pdf(pts),
                logpdf=kde.logpdf(pts), gauss=kde.integrate_gaussian(mean, cov),
                kde=kde.integrate_kde(other), cov=kde.covariance, inv=kde.inv_cov,
                neff=kde.neff)


CASES = [(None, False), ("scott", True), ("silverman", True), (0.35, False),
         (lambda k: 0.5 * k.neff ** (-1.0 / (k.d + 4)), True)]


def test_against_scipy():
    x = RNG.standard_normal((2, 25)) * np.array([[1.0], [2.0]])
    w = RNG.uniform(0.1, 1.0, 25)
    pts = RNG.standard_normal((2, 6)) * 2
    y = RNG.standard_normal((2, 9)) + 1
    mean, cov = np.array([0.3, -0.2]), np.array([[1.0, 0.3], [0.3, 0.5]])
    x1, pt = x[0], pts[:, 0]

    def everything(x, w, pts, y, mean, cov):  # one compile for all the cases
        kdes = [gaussian_kde(x, bw, w if weighted else None) for bw, weighted in CASES]
        # every method for one weighted estimate; the bandwidth's effect for the others
        out = [_all_results(kdes[1], pts, gaussian_kde(y), mean, cov)]
        out += [dict(cov=k.covariance, neff=k.neff) for k in kdes[:1] + kdes[2:]]
        k1 = gaussian_kde(x[0], weights=w)
        extra = dict(box=k1.integrate_box_1d(-0.5, 1.2), flat=k1(x[0, :4]),
                     d1=jnp.array([k1.d, k1.n]), row=kdes[0](pts[:, 0]))
        return out, extra

    with jaxel.config._override("jax_enable_x64", True):
        results, extra = jaxel.jit(everything)(x, w, pts, y, mean, cov)
    for (bw, weighted), ours in zip(CASES[1:2] + CASES[:1] + CASES[2:], results):
        ref = ss.gaussian_kde(x, bw, w if weighted else None)
        expected = dict(evaluate=ref.evaluate(pts), call=ref(pts), pdf=ref.pdf(pts),
                        logpdf=ref.logpdf(pts), gauss=ref.integrate_gaussian(mean, cov),
                        kde=ref.integrate_kde(ss.gaussian_kde(y)), cov=ref.covariance,
                        inv=ref.inv_cov, neff=ref.neff)
        for name, value in expected.items():
            if name not in ours:
                continue
            np.testing.assert_allclose(np.asarray(ours[name]), value, rtol=1e-10,
                                       atol=1e-14, err_msg=f"{name} for bw={bw}")
    # one dimension: flat data, integrate_box_1d; a single point given as a (d,) vector
    r1 = ss.gaussian_kde(x1, weights=w)
    np.testing.assert_array_equal(np.asarray(extra["d1"]), [1, 25])
    np.testing.assert_allclose(float(extra["box"]), r1.integrate_box_1d(-0.5, 1.2),
                               rtol=1e-12)
    np.testing.assert_allclose(np.asarray(extra["flat"]), r1(x1[:4]), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(extra["row"]), ss.gaussian_kde(x)(pt), rtol=1e-12)


def test_resample_pytree_and_jax_api():
    x = jnp.asarray(RNG.standard_normal((2, 40)).astype(np.float32))
    batch = jnp.stack([x[0], x[0] * 2])

    def run(x, key):
        kde = gaussian_kde(x, weights=jnp.linspace(0.5, 1.5, 40))
        # vmap over a batch of datasets
        dens = jaxel.vmap(lambda d: gaussian_kde(d).pdf(jnp.array([0.0, 1.0])))(batch)
        return kde, kde.resample(key, (4000,)), dens

    kde, samples, dens = jaxel.jit(run)(x, jaxel.random.key(1))
    s35, s0 = jaxel.eval_shape(lambda k, key: (k.resample(key, (3, 5)), k.resample(key)), kde,
                               jaxel.random.key(2))
    leaves, treedef = jaxel.tree_util.tree_flatten(kde)
    assert [np.shape(leaf) for leaf in leaves] == [(), (2, 40), (40,), (2, 2), (2, 2)]
    back = jaxel.tree_util.tree_unflatten(treedef, leaves)
    assert (back.d, back.n) == (2, 40)
    assert samples.shape == (2, 4000) and samples.dtype == jnp.float32
    assert s35.shape == (2, 3, 5) and s0.shape == (2,)
    s = np.asarray(samples)
    w = np.asarray(kde.weights)
    np.testing.assert_allclose(s.mean(axis=1), np.asarray(x) @ w, atol=0.08)
    expected_cov = np.cov(np.asarray(x), aweights=w) + np.asarray(kde.covariance)
    np.testing.assert_allclose(np.cov(s), expected_cov, atol=0.12)
    np.testing.assert_allclose(np.asarray(dens),
                               [ss.gaussian_kde(np.asarray(b))([0.0, 1.0]) for b in batch],
                               rtol=1e-4)
    with pytest.raises(NotImplementedError, match="bandwidth"):
        kde.set_bandwidth("silverman")
    with pytest.raises(NotImplementedError, match="integrate_box_1d"):
        kde.integrate_box(jnp.zeros(2), jnp.ones(2))
    with pytest.raises(ValueError, match="1D"):
        kde.integrate_box_1d(0.0, 1.0)
    with pytest.raises(ValueError, match="bw_method"):
        gaussian_kde(x, bw_method="nope")
    with pytest.raises(ValueError, match="multiple elements"):
        gaussian_kde(jnp.ones((1, 1)))
    with pytest.raises(ValueError, match="dimension"):
        kde.evaluate(jnp.zeros((3, 4)))
    jst = pytest.importorskip("jax.scipy.stats")
    theirs = {n for n in dir(jst.gaussian_kde) if not n.startswith("_")}
    theirs -= {"tree_flatten", "tree_unflatten"}
    assert not [n for n in theirs if not hasattr(kde, n)]
