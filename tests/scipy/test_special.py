"""jaxel.scipy.special against scipy.special (float64 accuracy over wide ranges, float32
tolerance) and jax.scipy.special (edge conventions, gradients); derivatives by check_grads in
x64; jit and vmap of the loop-based functions; and the public namespace against JAX's."""
from __future__ import annotations

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel.scipy import special as js
from jaxel.test_util import check_grads

ss = pytest.importorskip("scipy.special")
RNG = np.random.default_rng(7)


def _x64():
    return jaxel.config._override("jax_enable_x64", True)


def _close(ours, ref, rtol, atol=0.0):
    np.testing.assert_allclose(np.asarray(ours), ref, rtol=rtol, atol=atol, equal_nan=True)


def _u(lo, hi, n=64):
    return RNG.uniform(lo, hi, n)


# name -> (scipy function, argument arrays, float64 relative tolerance)
ACCURACY = {
    "erf": (ss.erf, (np.linspace(-6, 6, 61),), 1e-14),
    "erfc": (ss.erfc, (np.linspace(-6, 25, 61),), 1e-13),
    "erfinv": (ss.erfinv, (np.linspace(-0.999, 0.999, 61),), 1e-13),
    "ndtr": (ss.ndtr, (np.linspace(-30, 12, 85),), 1e-12),
    "log_ndtr": (ss.log_ndtr, (np.linspace(-80, 40, 241),), 1e-12),
    "ndtri": (ss.ndtri, (np.concatenate([np.logspace(-300, -1, 40), np.linspace(0.01, 0.99, 40),
                                          1 - np.logspace(-15, -1, 20)]),), 1e-11),
    "gammaln": (ss.gammaln, (_u(0.01, 100),), 1e-13),
    "gamma": (ss.gamma, (np.linspace(-5.5, 20, 52),), 1e-12),
    "gammasgn": (ss.gammasgn, (np.linspace(-5.5, 20, 52),), 0),
    "digamma": (ss.digamma, (_u(0.1, 50),), 1e-13),
    "polygamma": (ss.polygamma, (RNG.integers(0, 6, 64).astype(float), _u(0.1, 20)), 1e-12),
    "zeta": (ss.zeta, (_u(1.1, 30), _u(0.05, 40)), 1e-12),
    "betaln": (ss.betaln, (_u(0.1, 30), _u(0.1, 30)), 1e-11),
    "beta": (ss.beta, (_u(0.1, 10), _u(0.1, 10)), 1e-12),
    "gammainc": (ss.gammainc, (np.concatenate([_u(0.01, 60), [1e3, 1e4, 0.1, 5.0]]),
                               np.concatenate([_u(0, 120), [1.01e3, 0.99e4, 50.0, 1e-3]])), 1e-10),
    "gammaincc": (ss.gammaincc, (_u(0.01, 60), _u(0, 120)), 1e-9),
    "betainc": (ss.betainc, (_u(0.1, 30), _u(0.1, 30), _u(0, 1)), 1e-10),
    "i0": (ss.i0, (np.linspace(-60, 60, 241),), 1e-13),
    "i1": (ss.i1, (np.linspace(-60, 60, 241),), 1e-13),
    "i0e": (ss.i0e, (np.linspace(-300, 300, 241),), 1e-13),
    "i1e": (ss.i1e, (np.linspace(-300, 300, 241),), 1e-13),
    "expit": (ss.expit, (np.linspace(-40, 40, 81),), 1e-14),
    "logit": (ss.logit, (np.linspace(0, 1, 41),), 1e-13),
    "xlogy": (ss.xlogy, (np.array([0.0, 0.0, 1.0, 2.0, -1.0]), np.array([0.0, -1.0, 3.0, 0.5, 2.0])), 1e-15),
    "xlog1py": (ss.xlog1py, (np.array([0.0, 0.0, 1.0, 2.0]), np.array([-1.0, -2.0, 3.0, -0.5])), 1e-15),
    "entr": (ss.entr, (np.array([-1.0, 0.0, 0.5, 3.0]),), 1e-15),
    "rel_entr": (ss.rel_entr, (np.array([0.0, 0.0, 1.0, -1.0, 2.0, 0.0]), np.array([0.0, -1.0, 0.0, 1.0, 3.0, 2.0])), 1e-15),
    "kl_div": (ss.kl_div, (np.array([0.0, 0.0, 1.0, -1.0, 2.0, 0.0]), np.array([0.0, -1.0, 0.0, 1.0, 3.0, 2.0])), 1e-14),
    "factorial": (ss.factorial, (np.array([-1.0, 0.0, 5.0, 3.5, 20.0]),), 1e-13),
    "comb": (ss.comb, (np.array([5.0, 10.0, 3.0, 30.0]), np.array([2.0, 11.0, 3.0, 12.0])), 1e-12),
    "poch": (ss.poch, (np.array([2.0, 3.5, -1.5]), np.array([3.0, 0.5, 2.0])), 1e-13),
    "boxcox": (ss.boxcox, (_u(0.1, 5, 8), np.array([0.0, 0.5, -1, 2, 0, 1e-3, 3, -2])), 1e-13),
    "boxcox1p": (ss.boxcox1p, (_u(-0.5, 5, 8), np.array([0.0, 0.5, -1, 2, 0, 1e-3, 3, -2])), 1e-13),
    "expi": (ss.expi, (np.linspace(-80, 80, 321),), 1e-10),
    "exp1": (ss.exp1, (np.linspace(0, 80, 161),), 1e-11),
    "erfcx": (ss.erfcx, (np.linspace(-20, 80, 201),), 1e-13),
    "expn": (ss.expn, (RNG.integers(0, 8, 64).astype(float), _u(0, 10)), 1e-8),
}


@pytest.mark.parametrize("name", sorted(ACCURACY))
def test_float64_accuracy_against_scipy(name):
    ref_fn, args, rtol = ACCURACY[name]
    with _x64():
        ours = getattr(js, name)(*[jnp.asarray(a) for a in args])
        assert ours.dtype == jnp.float64
        _close(ours, ref_fn(*args), rtol=max(rtol, 1e-15), atol=1e-300)


@pytest.mark.parametrize("name", sorted(ACCURACY))
def test_float32_against_scipy(name):
    ref_fn, args, rtol = ACCURACY[name]
    args32 = [np.asarray(a, np.float32) for a in args]
    # XLA flushes float32 subnormals to zero: give scipy the same zeros
    args32 = [np.where(np.abs(a) < np.finfo(np.float32).tiny, np.float32(0), a) for a in args32]
    ours = getattr(js, name)(*[jnp.asarray(a) for a in args32])
    assert ours.dtype == jnp.float32
    ref = ref_fn(*[a.astype(np.float64) for a in args32])
    if name in ("gamma", "i0", "i1", "expi", "beta", "factorial", "comb", "poch", "boxcox"):
        ref = np.where(np.abs(ref) > 3e38, np.copysign(np.inf, ref), ref)  # float32 overflow
    if name == "erfcx":
        ref = np.where(np.abs(ref) > 3e38, np.inf, ref)
    tol = 1e-4 if name in ("expn", "zeta", "polygamma", "gammainc", "gammaincc", "betainc",
                           "gamma", "beta", "poch", "expi", "log_ndtr", "ndtri") else 2e-5
    _close(ours, ref, rtol=tol, atol=1e-6 if name not in ("log_ndtr",) else 1e-30)


def test_bernoulli_numbers():
    with _x64():
        b = np.asarray(js.bernoulli(20))
        _close(b, ss.bernoulli(20), rtol=1e-11)  # scipy's recurrence is the less exact one
        _close(b[[0, 1, 2, 3, 4, 12, 20]],
               [1, -0.5, 1 / 6, 0, -1 / 30, -691 / 2730, -174611 / 330], rtol=1e-15)


def test_integer_arguments_promote():
    assert js.gammaln(3).dtype == jnp.float32
    assert js.xlogy(jnp.arange(3), 2).dtype == jnp.float32
    _close(js.factorial(jnp.arange(5)), [1, 1, 2, 6, 24], rtol=1e-6)


def test_edge_conventions_match_jax():
    jsp = pytest.importorskip("jax.scipy.special")
    cases = [
        ("gammainc", (np.float32([0.0, -1.0, 1.0, 2.0, 1.0]), np.float32([1.0, 1.0, 0.0, np.inf, -1.0]))),
        ("gammaincc", (np.float32([0.0, -1.0, 1.0, 2.0]), np.float32([1.0, 1.0, 0.0, np.inf]))),
        ("betainc", (np.float32([1.0, 1.0, 2.0, 2.0]), np.float32([1.0, 1.0, 3.0, 3.0]), np.float32([-0.1, 1.1, 0.0, 1.0]))),
        ("gamma", (np.float32([-1.0, -0.5, 0.0, -2.5]),)),
        ("ndtri", (np.float32([0.0, 1.0, -1.0, 0.5]),)),
        ("logit", (np.float32([0.0, 1.0, 0.5]),)),
        ("zeta", (np.float32([2.0, 1.0, 0.5]), np.float32([1.0, 1.0, 1.0]))),
        ("entr", (np.float32([-1.0, 0.0, 2.0]),)),
    ]
    for name, args in cases:
        _close(getattr(js, name)(*[jnp.asarray(a) for a in args]),
               np.asarray(getattr(jsp, name)(*args)), rtol=1e-5)
    # Riemann zeta when q is omitted
    _close(js.zeta(2.0), np.pi ** 2 / 6, rtol=1e-6)


def test_softmax_family_and_logsumexp():
    jsp = pytest.importorskip("jax.scipy.special")
    x = RNG.standard_normal((3, 4)).astype(np.float32)
    _close(js.softmax(x), np.asarray(jsp.softmax(x)), rtol=1e-5)
    _close(js.softmax(x, axis=1), np.asarray(jsp.softmax(x, axis=1)), rtol=1e-5)
    _close(js.log_softmax(x, axis=0), np.asarray(jsp.log_softmax(x, axis=0)), rtol=1e-5)
    _close(js.logsumexp(x, axis=1, b=np.float32([1, -1, 2, 0.5])),
           np.asarray(jsp.logsumexp(x, axis=1, b=np.float32([1, -1, 2, 0.5]))), rtol=1e-5)
    out, sign = js.logsumexp(x, b=-1.0, return_sign=True)
    _close(sign, -1.0, rtol=0)


GRADS = [
    ("gammainc_series", js.gammainc, (2.5, 1.5)), ("gammainc_cf", js.gammainc, (2.5, 7.5)),
    ("gammaincc", js.gammaincc, (3.5, 1.5)), ("betainc", js.betainc, (2.5, 3.5, 0.3)),
    ("betainc_swapped", js.betainc, (2.5, 1.5, 0.8)),
    ("erf", js.erf, (0.3,)), ("erfinv", js.erfinv, (0.3,)), ("ndtr", js.ndtr, (0.7,)),
    ("log_ndtr", js.log_ndtr, (-3.0,)), ("log_ndtr_tail", js.log_ndtr, (-25.0,)),
    ("ndtri", js.ndtri, (0.3,)), ("gammaln", js.gammaln, (3.3,)), ("digamma", js.digamma, (3.3,)),
    ("betaln", js.betaln, (2.0, 3.0)), ("gamma", js.gamma, (2.7,)),
    ("polygamma", lambda x: js.polygamma(2, x), (1.7,)), ("zeta", js.zeta, (3.5, 1.7)),
    ("i0e", js.i0e, (1.3,)), ("i1e", js.i1e, (-2.3,)), ("i0", js.i0, (1.3,)), ("i1", js.i1, (35.0,)),
    ("i1_at_0", js.i1, (0.0,)), ("xlogy", js.xlogy, (2.0, 3.0)), ("xlog1py", js.xlog1py, (2.0, 0.5)),
    ("entr", js.entr, (0.4,)), ("logit", js.logit, (0.3,)), ("expit", js.expit, (0.3,)),
    ("expi", js.expi, (1.5,)), ("exp1", js.exp1, (2.5,)), ("rel_entr", js.rel_entr, (0.3, 0.6)),
    ("kl_div", js.kl_div, (0.3, 0.6)),
]


@pytest.mark.parametrize("name,f,args", GRADS, ids=[g[0] for g in GRADS])
def test_gradients_x64(name, f, args):
    with _x64():
        check_grads(f, args, order=1, modes=("fwd", "rev"))


def test_second_order_gradients_x64():
    with _x64():
        check_grads(lambda x: js.betainc(2.0, 3.0, x), (0.4,), order=2)
        check_grads(lambda x: js.gammainc(2.5, x), (1.5,), order=2)
        check_grads(js.i0e, (0.8,), order=2)
        check_grads(js.gammainc, (2.5, 1.5), order=2)
        check_grads(js.gammaincc, (2.5, 7.5), order=2)
        check_grads(js.betainc, (2.5, 3.5, 0.3), order=2)
        # third order: forward mode still works
        check_grads(lambda x: js.gammainc(2.5, x), (1.5,), order=3, modes=("fwd",))


def test_gammainc_gradient_in_a_matches_finite_differences_over_a_range():
    a, x = _u(0.1, 30, 200), _u(0.01, 60, 200)
    h = 1e-6
    fd = (ss.gammainc(a + h, x) - ss.gammainc(a - h, x)) / (2 * h)
    with _x64():
        g = jaxel.vmap(jaxel.grad(js.gammainc))(jnp.asarray(a), jnp.asarray(x))
    _close(g, fd, rtol=0, atol=1e-8)


def test_gradients_match_jax_conventions():
    jax = pytest.importorskip("jax")
    jsp = jax.scipy.special
    # xlogy at x == 0, y == 0: d/dx = log(0) = -inf, d/dy = 0/0 = nan, as JAX's custom_jvp
    ours = jaxel.grad(js.xlogy, argnums=(0, 1))(0.0, 0.0)
    theirs = jax.grad(jsp.xlogy, argnums=(0, 1))(0.0, 0.0)
    _close(np.array(ours), np.array(theirs), rtol=0)
    ours = jaxel.grad(js.gammainc, argnums=(0, 1))(2.0, 3.0)
    theirs = jax.grad(jsp.gammainc, argnums=(0, 1))(2.0, 3.0)
    _close(np.array(ours), np.array(theirs), rtol=2e-4)
    _close(jaxel.grad(js.betainc, argnums=2)(2.0, 3.0, 0.4),
           np.asarray(jax.grad(jsp.betainc, argnums=2)(2.0, 3.0, 0.4)), rtol=1e-5)


def test_jit_and_vmap():
    a = jnp.asarray(_u(0.5, 10, 16).astype(np.float32))
    x = jnp.asarray(_u(0.0, 20, 16).astype(np.float32))
    eager = np.asarray(js.gammainc(a, x))
    _close(jaxel.jit(js.gammainc)(a, x), eager, rtol=1e-6)
    _close(jaxel.vmap(js.gammainc)(a, x), eager, rtol=1e-6)
    _close(jaxel.vmap(js.gammainc, in_axes=(0, None))(a, 3.0), js.gammainc(a, 3.0), rtol=1e-6)
    u = jnp.asarray(_u(0, 1, 16).astype(np.float32))
    _close(jaxel.vmap(js.betainc, in_axes=(None, None, 0))(2.0, 3.0, u), js.betainc(2.0, 3.0, u),
           rtol=1e-6)
    _close(jaxel.jit(jaxel.vmap(jaxel.grad(js.gammainc, argnums=1)))(a, x),
           np.exp((np.asarray(a) - 1) * np.log(np.asarray(x)) - np.asarray(x)
                  - ss.gammaln(np.asarray(a))), rtol=1e-4)
    _close(jaxel.jit(js.zeta)(3.0, 2.0), ss.zeta(3.0, 2.0), rtol=1e-6)
    _close(jaxel.vmap(js.i0e)(jnp.linspace(-40, 40, 9)), ss.i0e(np.linspace(-40, 40, 9)), rtol=1e-5)


# Public names of jax.scipy.special / jax.scipy.stats that jaxel does not provide (yet).
SPECIAL_EXCLUDED: set = set()
STATS_EXCLUDED: set = set()


def test_namespace_matches_jax():
    pytest.importorskip("jax")
    import jax.scipy.special as jsp
    import jax.scipy.stats as jst
    from jaxel.scipy import stats
    missing = [n for n in dir(jsp) if not n.startswith("_") and not hasattr(js, n)
               and n not in SPECIAL_EXCLUDED]
    assert not missing, f"jaxel.scipy.special lacks {missing}"
    missing = [n for n in dir(jst) if not n.startswith("_") and not hasattr(stats, n)
               and n not in STATS_EXCLUDED]
    assert not missing, f"jaxel.scipy.stats lacks {missing}"
    # every function of every distribution we provide
    for dist in dir(jst):
        if dist.startswith("_") or dist in STATS_EXCLUDED or not hasattr(stats, dist):
            continue
        theirs = getattr(jst, dist)
        if not hasattr(theirs, "__dict__") or callable(theirs):
            continue
        fns = [f for f in dir(theirs) if not f.startswith("_") and callable(getattr(theirs, f))
               and getattr(getattr(theirs, f), "__module__", "").startswith("jax._src.scipy")]
        lacking = [f for f in fns if not hasattr(getattr(stats, dist), f)]
        assert not lacking, f"jaxel.scipy.stats.{dist} lacks {lacking}"
    # excluded names really are absent (keep the list honest)
    assert not [n for n in SPECIAL_EXCLUDED if hasattr(js, n)]
    assert not [n for n in STATS_EXCLUDED if hasattr(stats, n)]
