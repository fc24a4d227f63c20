"""Special values: complex elementary functions at infinities, NaNs and signed zeros (C99
Annex G, which the Array API spec adopts), the sign of a zero remainder, sign(-0.0), and the
tuple results of meshgrid / broadcast_arrays / devices().

NumPy's complex functions follow C99, so they are the oracle on a grid of special inputs; where
the spec leaves a sign unspecified, or where NumPy itself departs from the spec (complex expm1,
tanh(+inf + yj)), the spec's value is checked literally instead. All functions of one dtype run
in a single jit (the complex implementations inline), to keep compiles few.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp

INF, NAN, PI = math.inf, math.nan, math.pi
_PARTS = [-INF, -2.0, -1.0, -0.5, -0.0, 0.0, 0.5, 1.0, 2.0, 1e30, INF, NAN]
_GRID = np.array([complex(a, b) for a in _PARTS for b in _PARTS])

# jnp name -> NumPy oracle (None: checked against the spec only, below).
FUNCS = {"arccos": np.arccos, "arccosh": np.arccosh, "arcsin": np.arcsin,
         "arcsinh": np.arcsinh, "arctan": np.arctan, "arctanh": np.arctanh, "cos": np.cos,
         "cosh": np.cosh, "sin": np.sin, "sinh": np.sinh, "tan": np.tan, "tanh": np.tanh,
         "exp": np.exp, "expm1": None, "log": np.log, "log1p": np.log1p, "sqrt": np.sqrt,
         "sign": None}

# Where the spec leaves a sign unspecified and NumPy picked the other one: only |component|
# is compared there. (function, repr(a), repr(b)) -> the free component(s).
_FREE_SIGN = {}


def _free(name, part, *inputs):
    for a, b in inputs:
        _FREE_SIGN[name, repr(float(a)), repr(float(b))] = part


# cosh(+-0 +- inf j), cosh(+-0 + NaN j), cosh(NaN +- 0j): NaN +- 0j; cos z = cosh(iz).
_free("cosh", "im", *[(a, b) for a in (0.0, -0.0) for b in (INF, -INF, NAN)],
      (NAN, 0.0), (NAN, -0.0))
_free("cos", "im", *[(b, a) for a in (0.0, -0.0) for b in (INF, -INF, NAN)],
      (0.0, NAN), (-0.0, NAN))
# sinh(+-inf + inf j) and sinh(+-inf + NaN j): +-inf + NaN j; sin z = -i sinh(iz).
_free("sinh", "re", *[(a, b) for a in (INF, -INF) for b in (INF, -INF, NAN)])
_free("sin", "im", *[(b, a) for a in (INF, -INF) for b in (INF, -INF, NAN)])


# complex64 runs a subset covering every kind of table (folded conj / odd / even, the
# circular functions built on the hyperbolic ones, acos from acosh's table).
_FUNCS64 = ["arccos", "arcsinh", "cosh", "exp", "sqrt", "tan", "log1p"]


def _run_all(dtype, names):
    # One jit for all the functions: their complex implementations inline into it.
    outs = jaxel.jit(lambda z: [getattr(jnp, n)(z) for n in names])(
        jnp.asarray(_GRID.astype(dtype)))
    return {n: np.asarray(o) for n, o in zip(names, outs)}


@pytest.fixture(scope="module")
def results128():
    with jaxel.config._override("jax_enable_x64", True):
        return _run_all(np.complex128, list(FUNCS))


@pytest.fixture(scope="module")
def results64():
    return _run_all(np.complex64, _FUNCS64)


def _same(x, y, free_sign=False):
    """Component equality: NaN matches NaN, zeros and infinities match with their signs
    (unless ``free_sign``), other values to a few ulps."""
    if math.isnan(y):
        return math.isnan(x)
    if free_sign:
        x, y = abs(x), abs(y)
    if y == 0 or math.isinf(y):
        return x == y and math.copysign(1, x) == math.copysign(1, y)
    return math.isclose(x, y, rel_tol=1e-5)


def _mismatches(name, got, want, keep):
    bad = []
    for z, g, w in zip(_GRID[keep], got[keep], want[keep]):
        free = _FREE_SIGN.get((name, repr(float(z.real)), repr(float(z.imag))), "")
        if not (_same(g.real, w.real, "re" in free) and _same(g.imag, w.imag, "im" in free)):
            bad.append((z, complex(g), complex(w)))
    return bad


@pytest.mark.parametrize("name", [n for n, f in FUNCS.items() if f is not None])
def test_complex_special_values_match_numpy(name, results128, results64):
    keep = np.ones(len(_GRID), bool)
    if name in ("tanh", "tan"):
        # tanh(+-inf + yj) for finite nonzero y: C99 (and NumPy) give 1 + 0j * sin(2y), the
        # spec 1 + 0j (+0 for y > 0): checked in test_spec_values. tan z = -i tanh(iz).
        re, im = (_GRID.real, _GRID.imag) if name == "tanh" else (_GRID.imag, _GRID.real)
        keep = ~(np.isinf(re) & np.isfinite(im) & (im != 0))
    runs = [(results128[name], np.complex128)]
    if name in results64:
        runs.append((results64[name], np.complex64))
    for got, dt in runs:
        assert got.dtype == dt
        with np.errstate(all="ignore"):
            want = FUNCS[name](_GRID.astype(dt))
        bad = _mismatches(name, got, want, keep)
        assert not bad, f"{name} {dt.__name__}: (input, got, want) {bad[:6]}"


# The spec's values, literally, where NumPy differs from it or is not C99 (expm1, sign, tanh),
# and a few more the suite checks. Keyed (function, a, b) with b >= +0, valued (re, im) or
# (re, im, free) where ``free`` names a component whose sign the spec leaves unspecified; the
# conjugate input is checked too (conj of the value; sign's 0 + 0j stays +0 + 0j).
SPEC = {
    ("expm1", 0.0, 0.0): (0.0, 0.0), ("expm1", -0.0, 0.0): (0.0, 0.0),
    ("expm1", 1.0, INF): (NAN, NAN), ("expm1", 1.0, NAN): (NAN, NAN),
    ("expm1", INF, 0.0): (INF, 0.0), ("expm1", -INF, 0.5): (-1.0, 0.0),
    ("expm1", -INF, 2.0): (-1.0, 0.0), ("expm1", INF, 0.5): (INF, INF),
    ("expm1", INF, 2.0): (-INF, INF), ("expm1", -INF, INF): (-1.0, 0.0, "im"),
    ("expm1", INF, INF): (INF, NAN, "re"), ("expm1", -INF, NAN): (-1.0, 0.0, "im"),
    ("expm1", INF, NAN): (INF, NAN, "re"), ("expm1", NAN, 0.0): (NAN, 0.0),
    ("expm1", NAN, 1.0): (NAN, NAN), ("expm1", NAN, NAN): (NAN, NAN),
    ("tanh", INF, 0.5): (1.0, 0.0), ("tanh", INF, 2.0): (1.0, 0.0),
    ("tanh", 0.0, INF): (0.0, NAN), ("tanh", 0.0, NAN): (0.0, NAN),
    ("tanh", NAN, 0.0): (NAN, 0.0), ("tanh", NAN, 2.0): (NAN, NAN),
    ("sign", 0.0, 0.0): (0.0, 0.0), ("sign", -0.0, 0.0): (0.0, 0.0),
    ("sign", NAN, 1.0): (NAN, NAN), ("sign", 1.0, NAN): (NAN, NAN),
    ("sign", 2.0, 2.0): (0.5 ** 0.5, 0.5 ** 0.5), ("sign", -2.0, 0.0): (-1.0, 0.0),
    ("sign", INF, 0.0): (NAN, NAN), ("sign", 1.0, INF): (NAN, NAN),  # inf / inf
    ("arccos", 0.0, NAN): (PI / 2, NAN), ("arccos", NAN, INF): (NAN, -INF),
    ("arccosh", 0.0, NAN): (NAN, PI / 2, "im"), ("arcsinh", NAN, 0.0): (NAN, 0.0),
    ("arctanh", 0.0, NAN): (0.0, NAN), ("arctanh", INF, NAN): (0.0, NAN),
    ("arctanh", 1.0, 0.0): (INF, 0.0), ("cosh", 0.0, INF): (NAN, 0.0, "im"),
    ("cosh", INF, INF): (INF, NAN, "re"), ("exp", -INF, INF): (0.0, 0.0, "re im"),
    ("exp", INF, NAN): (INF, NAN, "re"), ("log", NAN, INF): (INF, NAN),
    ("log", -0.0, 0.0): (-INF, PI), ("log1p", -1.0, 0.0): (-INF, 0.0),
    ("sinh", 0.0, INF): (0.0, NAN, "re"), ("sinh", INF, NAN): (INF, NAN, "re"),
    ("sqrt", -INF, NAN): (NAN, INF, "im"), ("sqrt", NAN, INF): (INF, INF),
}


def test_spec_values(results128):
    index = {(repr(z.real), repr(z.imag)): i for i, z in enumerate(_GRID.tolist())}
    for key, value in SPEC.items():
        n, a, b = key
        re, im, free = (value + ("",))[:3]
        for s in (1.0, -1.0):  # the case and its conjugate
            g = results128[n][index[repr(a), repr(s * b)]]
            w_im = 0.0 if n == "sign" and (a, b) == (0.0, 0.0) else s * im
            ok = _same(g.real, re, "re" in free) and _same(g.imag, w_im, "im" in free)
            assert ok, f"{n}{complex(a, s * b)} = {complex(g)}, want {(re, w_im)}"


def test_eager_and_weak_types(results128):
    # The eager path (compiled once per input type) agrees with the jitted one and keeps weak
    # types and dtypes.
    with jaxel.config._override("jax_enable_x64", True):
        got = np.asarray(jnp.exp(jnp.asarray(_GRID)))
    np.testing.assert_array_equal(got, results128["exp"])
    np.testing.assert_array_equal(np.signbit(got.imag), np.signbit(results128["exp"].imag))
    assert jnp.exp(1j).weak_type and not jnp.exp(jnp.complex64(1j)).weak_type
    assert jnp.sqrt(jnp.asarray(-4.0 + 0j, jnp.complex64)).dtype == np.complex64


def test_complex_gradients_unchanged():
    # A real -> real composition g(a, b) = 0.7 Re f(a + bj) + 1.3 Im f(a + bj) through each
    # complex function, differentiated by jaxel, against f' from central differences of NumPy's
    # f (holomorphic: dg/da = 0.7 Re f' + 1.3 Im f', dg/db = 1.3 Re f' - 0.7 Im f'). The points
    # include the axes, where the implementations fix zero signs with selects.
    names = ["sin", "cos", "arctan", "arctanh", "expm1", "log", "sqrt", "arccos"]
    pts = np.array([[0.3, 0.4], [-0.7, 0.2], [0.5, -0.6], [-0.4, -0.3], [0.6, 0.0],
                    [0.0, 0.8], [0.0, -0.5], [1.3, 0.7]])
    with jaxel.config._override("jax_enable_x64", True):
        def g(name, a, b):
            w = getattr(jnp, name)(jaxel.lax.complex(a, b))
            return jnp.real(w) * 0.7 + jnp.imag(w) * 1.3

        grads = jaxel.jit(lambda a, b: {
            n: jaxel.vmap(jaxel.grad(lambda x, y: g(n, x, y), argnums=(0, 1)))(a, b)
            for n in names})(jnp.asarray(pts[:, 0]), jnp.asarray(pts[:, 1]))
    z, h = pts[:, 0] + 1j * pts[:, 1], 1e-7
    for n in names:
        f = getattr(np, n)
        d = (f(z + h) - f(z - h)) / (2 * h)
        np.testing.assert_allclose(np.asarray(grads[n][0]), 0.7 * d.real + 1.3 * d.imag,
                                   atol=1e-6, err_msg=n)
        np.testing.assert_allclose(np.asarray(grads[n][1]), 1.3 * d.real - 0.7 * d.imag,
                                   atol=1e-6, err_msg=n)


def test_real_path_is_the_bare_primitive():
    # Real dtypes emit exactly the primitive (no special-value ops).
    jaxpr = jaxel.make_jaxpr(jnp.exp)(jnp.ones(3))
    assert [e.primitive.name for e in jaxpr.jaxpr.eqns] == ["exp"]


def test_remainder_zero_sign():
    # A zero result takes the divisor's sign (NumPy, the spec); nonzero ones are NumPy's too.
    a = np.array([-0.0, 0.0, -0.0, 0.0, 4.0, -4.0, 3.5, -3.5, 1.0, -1.0, 0.0])
    b = np.array([5.0, -5.0, -5.0, 5.0, -2.0, 2.0, 2.0, -2.0, INF, INF, NAN])
    for dt in (np.float32, np.float64):
        with jaxel.config._override("jax_enable_x64", dt == np.float64):
            x, y = jnp.asarray(a.astype(dt)), jnp.asarray(b.astype(dt))
            outs = jaxel.jit(lambda x, y: (jnp.remainder(x, y), x % y))(x, y)
            with np.errstate(invalid="ignore"):
                want = np.remainder(a.astype(dt), b.astype(dt))
            for got in map(np.asarray, outs):
                assert got.dtype == dt
                np.testing.assert_array_equal(got, want)
                np.testing.assert_array_equal(np.signbit(got), np.signbit(want))
    # The zero-sign fix keeps the derivative 1 in x1 (and -floor(x1 / x2) in x2).
    d1, d2 = jaxel.jit(jaxel.vmap(jaxel.grad(jnp.remainder, argnums=(0, 1))))(
        jnp.asarray([-4.0, 4.0, 3.0]), jnp.asarray([2.0, -2.0, 2.0]))
    np.testing.assert_array_equal(np.asarray(d1), [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(np.asarray(d2), [2.0, 2.0, -1.0])
    with pytest.raises(TypeError, match="complex"):  # as NumPy (XLA has no complex remainder)
        jnp.remainder(jnp.asarray(1 + 1j), 2.0)


def test_sign_of_zero():
    got = np.asarray(jnp.sign(jnp.asarray([-0.0, 0.0, -2.0, NAN])))
    np.testing.assert_array_equal(got, [0.0, 0.0, -1.0, NAN])
    assert not np.signbit(got[0])


def test_tuples():
    # NumPy 2 and the Array API (2025.12) return tuples here; JAX returns lists.
    xs = jnp.meshgrid(jnp.arange(2), jnp.arange(3))
    assert type(xs) is tuple and [x.shape for x in xs] == [(3, 2), (3, 2)]
    assert type(jnp.meshgrid(jnp.arange(2), sparse=True)) is tuple
    bs = jnp.broadcast_arrays(jnp.ones(3), jnp.ones((2, 1)))
    assert type(bs) is tuple and [b.shape for b in bs] == [(2, 3), (2, 3)]
    assert type(jnp.__array_namespace_info__().devices()) is tuple
