"""The closed-form and gamma/binomial-based samplers of ``more_distributions`` (and
``key_dtype``): bit-equality with jax (where installed), statistics against scipy (always), errors,
and the namespace check against ``jax.random``.

Kept cheap (few compiles): each closed-form draw serves both the scipy check and the jax
comparison; the gamma/binomial-based ones are compiled once and checked against recorded digests
of jax's output.
"""
import hashlib

import numpy as np
import pytest

import jaxel
from jaxel import random as xr

stats = pytest.importorskip("scipy.stats")
N = 10000

try:  # the oracle is optional here: the statistical checks run without it
    import jax as _jax
    jr = _jax.random
except ImportError:  # pragma: no cover - jax is installed in CI
    _jax = jr = None


def need_jax():
    if jr is None:
        pytest.skip("jax is not installed")
    return _jax


def same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, a.dtype, b.shape, b.dtype)
    assert a.tobytes() == b.tobytes(), np.abs(a.astype(np.float64) - b.astype(np.float64)).max()


def ks(sample, cdf, *args):
    x = np.asarray(sample, np.float64).ravel()
    assert np.isfinite(x).all()
    assert stats.kstest(x, cdf, args=args).pvalue > 1e-3


# ---- closed-form samplers: scipy check on N draws, and the same draws against jax -----------
CLOSED_FORM = [  # (sampler, args after the key, scipy distribution, its parameters)
    ("rayleigh", (2.0, (N,)), "rayleigh", (0, 2.0)),
    ("weibull_min", (2.0, 1.5, (N,)), "weibull_min", (1.5, 0, 2.0)),
    ("triangular", (-1.0, 0.5, 3.0, (N,)), "triang", (0.375, -1.0, 4.0)),
    ("pareto", (3.0, (N,)), "pareto", (3.0,)),
    ("lognormal", (0.5, (N,)), "lognorm", (0.5,)),
    ("maxwell", ((N,),), "maxwell", ()),
    ("wald", (1.5, (N,)), "invgauss", (1.5,)),
]


@pytest.mark.parametrize("name,args,dist,params", CLOSED_FORM, ids=[c[0] for c in CLOSED_FORM])
def test_closed_form_ks_and_bits(name, args, dist, params):
    x = getattr(xr, name)(xr.key(123), *args)
    ks(x, dist, *params)
    if jr is not None:
        same_bits(x, getattr(jr, name)(jr.key(123), *args))


def test_double_sided_maxwell_ks_and_bits():
    d = xr.double_sided_maxwell(xr.key(123), 1.0, 2.0, (N,))
    ks(np.abs(np.asarray(d) - 1.0), "maxwell", 0, 2.0)
    assert abs(np.mean(np.asarray(d) > 1.0) - 0.5) < 0.02
    if jr is not None:
        same_bits(d, jr.double_sided_maxwell(jr.key(123), 1.0, 2.0, (N,)))


# ---- bit-equality: parameter broadcasts and other dtypes --------------------------------------
F32 = np.float32
VARIANTS = [
    ("rayleigh", (np.array([0.5, 1.0, 2.0], F32),), {}),
    ("weibull_min", (1.0, np.array([0.5, 3.0], F32)), {"dtype": "float16"}),   # promotes to f32
    ("lognormal", (np.array([0.5, 1.0, 2.0], F32), (2, 3)), {}),
    ("pareto", (2.0, (40,)), {"dtype": "float16"}),
    ("triangular", (0.0, np.array([0.1, 0.5, 0.9], F32), 1.0), {}),
    ("wald", (3.0, (40,)), {"dtype": "bfloat16"}),
]


@pytest.mark.parametrize("name,args,kwargs", VARIANTS, ids=[c[0] for c in VARIANTS])
def test_bit_equal_with_jax(name, args, kwargs):
    need_jax()
    same_bits(getattr(xr, name)(xr.key(7), *args, **kwargs),
              getattr(jr, name)(jr.key(7), *args, **kwargs))


def test_bit_equal_x64():
    jax = need_jax()
    from tests.random._oracle import x64_both
    with x64_both():
        same_bits(xr.rayleigh(xr.key(3), np.array([1.0, 2.0]), (5, 2)),
                  jr.rayleigh(jr.key(3), np.array([1.0, 2.0]), (5, 2)))
        # the random sign of double_sided_maxwell / generalized_normal / ball: a fair Bernoulli
        # draw at the default float precision, float64 under x64
        same_bits(xr.rademacher(xr.key(3), (50,)), jr.rademacher(jr.key(3), (50,)))
    assert not jax.config.jax_enable_x64


def test_bit_equal_under_jit_and_vmap():
    jax = need_jax()
    keys_x, keys_j = xr.split(xr.key(4), 3), jr.split(jr.key(4), 3)
    ps = np.array([0.7, 1.5, 2.5], F32)
    # one sampler per program: arithmetic *between* draws is fused (and may be contracted to
    # FMAs) differently from JAX's program, which is not a property of the samplers
    for fn in [lambda r, k, p: r.triangular(k, 0.0, p / 4, p, (5,)),
               lambda r, k, p: r.lognormal(k, p, (5,))]:
        same_bits(jaxel.jit(jaxel.vmap(lambda k, p: fn(xr, k, p)))(keys_x, ps),
                  jax.jit(jax.vmap(lambda k, p: fn(jr, k, p)))(keys_j, ps))


# ---- gamma / binomial based: one compile each ------------------------------------------------
# Compiling JAX's gamma/binomial samplers costs seconds each, so these draws are compared with
# digests of jax 0.12.1's output for the same calls (recorded with
# ``sha256(np.asarray(jax.random.<name>(jax.random.key(seed), ...)).tobytes())``); the
# comparison thus also runs without jax. The same draw feeds the scipy check.
def digest(x):
    return hashlib.sha256(np.asarray(x).tobytes()).hexdigest()[:32]


def test_generalized_normal():
    x = xr.generalized_normal(xr.key(5), 1.5, (N,))
    ks(x, "gennorm", 1.5)
    assert digest(x) == "b1815bdc3af93b3eee71e262e36946ee"
    x2 = xr.generalized_normal(xr.key(6), 0.7, (N,))      # same program, traced p
    ks(x2, "gennorm", 0.7)
    assert digest(x2) == "bf9d756d46a931ff641b27d3ff7776b1"


def test_f():
    dfnum = np.full((N,), 3.0, F32)
    x = xr.f(xr.key(8), dfnum, 7.0, (N,))
    ks(x, "f", 3.0, 7.0)
    assert digest(x) == "516c4e0666cb77a57f579f1f2741569d"


def test_multinomial():
    n = np.array([20.0, 50.0], F32)[np.arange(N) % 2]
    p = np.array([0.2, 0.0, 0.3, 0.5], F32)
    x = np.asarray(xr.multinomial(xr.key(9), n, p, shape=(N, 4)))
    assert x.shape == (N, 4) and x.dtype == np.float32
    assert digest(x) == "26eaec46ed2d89e4e7ffc7c0f65ef2b7"
    np.testing.assert_array_equal(x.sum(-1), n)
    assert (x[:, 1] == 0).all() and (x == np.round(x)).all() and (x >= 0).all()
    for m in (20, 50):
        sel = x[n == m]
        assert (np.abs(sel.mean(0) - m * p) <= 5 * np.sqrt(m * p * (1 - p) / len(sel))).all()
        np.testing.assert_allclose(sel.var(0), m * p * (1 - p), rtol=0.1, atol=1e-6)


# ---- shapes, dtypes, errors -----------------------------------------------------------------
def test_shapes_and_dtypes():
    def shape_of(fn):
        out = jaxel.eval_shape(fn, xr.key(0))
        return out.shape, np.dtype(out.dtype)

    f32 = np.dtype(np.float32)
    assert shape_of(lambda k: xr.rayleigh(k, np.ones((2, 3)))) == ((2, 3), f32)
    assert shape_of(lambda k: xr.lognormal(k, np.ones(3), (2, 3))) == ((2, 3), f32)
    assert shape_of(lambda k: xr.lognormal(k)) == ((), f32)
    assert shape_of(lambda k: xr.weibull_min(k, np.ones(3), 2.0, (2, 3))) == ((2, 3), f32)
    assert shape_of(lambda k: xr.double_sided_maxwell(k, np.zeros(3), 1.0)) == ((3, 3), f32)
    assert shape_of(lambda k: xr.double_sided_maxwell(k, np.zeros(3), 1.0, (2,))) == ((2, 3), f32)
    assert shape_of(lambda k: xr.maxwell(k, (0,))) == ((0,), f32)
    assert shape_of(lambda k: xr.pareto(k, 2.0, (3,), "bfloat16"))[1] == jaxel.numpy.bfloat16
    assert shape_of(lambda k: xr.f(k, np.ones(4), 2.0)) == ((4,), f32)
    assert shape_of(lambda k: xr.multinomial(k, 5.0, np.ones((2, 3)) / 3)) == ((2, 3), f32)
    assert shape_of(lambda k: xr.multinomial(k, 5.0, np.ones(3) / 3, shape=(4, 3),
                                             dtype=np.int32)) == ((4, 3), np.dtype(np.int32))


@pytest.mark.parametrize("name,args", [
    ("rayleigh", (1.0,)), ("weibull_min", (1.0, 1.0)), ("triangular", (0.0, 0.5, 1.0)),
    ("pareto", (2.0,)), ("lognormal", (1.0,)), ("maxwell", ()), ("wald", (1.0,)),
    ("double_sided_maxwell", (0.0, 1.0)), ("generalized_normal", (2.0,)), ("f", (2.0, 3.0)),
])
def test_non_float_dtype_rejected(name, args):
    with pytest.raises(ValueError, match=f"dtype argument to `{name}`"):
        getattr(xr, name)(xr.key(0), *args, dtype=np.int32)


def test_argument_errors():
    k = xr.key(0)
    f32 = np.float32(1.0)
    for name, call in [("rayleigh", lambda: xr.rayleigh(k, f32, dtype="float16")),
                       ("wald", lambda: xr.wald(k, np.ones(2, F32), dtype="bfloat16")),
                       ("f", lambda: xr.f(k, 2.0, f32, dtype="float16")),
                       ("chisquare", lambda: xr.chisquare(k, f32, dtype="float16")),
                       ("beta", lambda: xr.beta(k, 1.0, f32, dtype="float16"))]:
        with pytest.raises(jaxel.dtypes.TypePromotionError, match=f"arguments to {name}"):
            call()
    with pytest.raises(ValueError, match="shape"):
        xr.rayleigh(k, np.ones(3), (2,))
    with pytest.raises(ValueError, match="weibull_min"):
        xr.weibull_min(k, np.ones(3), 1.0, (2,))
    with pytest.raises(ValueError, match="loc"):
        xr.double_sided_maxwell(k, np.zeros(2), np.ones(3))
    with pytest.raises(ValueError, match="generalized_normal parameter shapes"):
        xr.generalized_normal(k, np.ones(3), (2,))
    with pytest.raises(ValueError, match="p must have at least one dimension"):
        xr.multinomial(k, 10.0, 0.5)
    with pytest.raises(ValueError, match="p of shape"):
        xr.multinomial(k, 10.0, np.ones(3) / 3, shape=(4,))
    with pytest.raises(ValueError, match="n of shape"):
        xr.multinomial(k, np.ones(2), np.ones(3) / 3)
    with pytest.raises(TypeError, match="key"):
        xr.maxwell(0)


def test_key_dtype():
    assert xr.key_dtype() == xr.key(0).dtype
    assert xr.key_dtype("threefry2x32") is xr.key_dtype(xr.key_impl(xr.key(0)))
    assert str(xr.key_dtype()) == "key<fry>"
    with pytest.raises(ValueError, match="impl_spec"):
        xr.key_dtype("rbg")
    with pytest.raises(TypeError, match="impl_spec"):
        xr.key_dtype(3)


# ---- namespace ------------------------------------------------------------------------------
NAMESPACE_EXCLUDED: set = set()


def test_every_public_jax_random_name_exists():
    need_jax()
    public = {n for n in dir(jr) if not n.startswith("_")}
    missing = sorted(n for n in public - NAMESPACE_EXCLUDED if not hasattr(xr, n))
    assert not missing, missing
    for n in sorted(public - NAMESPACE_EXCLUDED):
        obj = getattr(xr, n)
        if callable(obj) and not isinstance(obj, type):
            assert obj.__doc__, n
