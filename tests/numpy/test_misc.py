"""where / nonzero / select / clip / closeness / small elementwise functions (misc.py), against
NumPy for values and JAX (when installed) for dtypes and weak types."""
import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel.errors import ConcretizationTypeError

F = np.array([-2.5, -0.0, 0.0, 0.5, 1.5, 3.0, np.nan, np.inf, -np.inf], np.float32)
I = np.array([-7, -1, 0, 3, 8], np.int32)


def check(got, want, dtype=None, rtol=1e-6):
    dtype = np.dtype(dtype) if dtype is not None else \
        jaxel.dtypes.canonicalize_dtype(np.asarray(want).dtype)
    assert got.dtype == dtype, (got.dtype, dtype)
    assert got.shape == np.shape(want), (got.shape, np.shape(want))
    np.testing.assert_allclose(np.asarray(got), np.asarray(want).astype(dtype), rtol=rtol,
                               atol=1e-6, equal_nan=True)


# ---- where / nonzero ---------------------------------------------------------------------------
def test_where_three_arguments():
    c = np.array([[True], [False]])
    check(jnp.where(jnp.asarray(c), jnp.asarray(I), 1.5), np.where(c, I, 1.5), np.float32)
    check(jnp.where(jnp.asarray(I), 1, 0), np.where(I, 1, 0), np.int32)  # non-bool condition
    out = jnp.where(True, 1, 2.0)
    assert out.dtype == np.float32 and out.weak_type and float(out) == 1.0
    assert jnp.where(jnp.asarray([True]), jnp.ones(1, jnp.int8), 2).dtype == np.int8
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4,\)"):
        jnp.where(jnp.ones((2, 3)) > 0, jnp.ones(4), 1)
    with pytest.raises(TypeError, match="both"):
        jnp.where(jnp.asarray([True]), 1)
    with pytest.raises(TypeError, match="list"):
        jnp.where([True], 1, 2)
    with pytest.raises(ValueError, match="one-argument"):
        jnp.where(jnp.asarray([True]), 1, 2, size=3)


@pytest.mark.parametrize("value", [np.array([[0, 1], [2, 0]]), np.array([0.0, np.nan, -0.0, 2]),
                                   np.zeros((2, 0, 3)), np.array([[[1, 0, 1]], [[0, 0, 1]]]),
                                   np.array([False, False])])
def test_nonzero_family_matches_numpy(value):
    x = jnp.asarray(value)
    for got, want in zip(jnp.nonzero(x), np.nonzero(value)):
        check(got, want, np.int32)
    for got, want in zip(jnp.where(x), np.where(value)):
        check(got, want, np.int32)
    check(jnp.argwhere(x), np.argwhere(value), np.int32)
    check(jnp.flatnonzero(x), np.flatnonzero(value), np.int32)
    for got, want in zip(x.nonzero(), np.nonzero(value)):
        check(got, want, np.int32)


def test_nonzero_with_size_and_fill():
    x = jnp.asarray(np.array([[0, 1], [2, 0]]))
    got = jnp.nonzero(x, size=3, fill_value=-1)
    check(got[0], [0, 1, -1], np.int32)
    check(got[1], [1, 0, -1], np.int32)
    got = jnp.nonzero(x, size=3, fill_value=(-1, -2))
    check(got[1], [1, 0, -2], np.int32)
    check(jnp.nonzero(x, size=1)[0], [0], np.int32)
    check(jnp.argwhere(x, size=3, fill_value=9), [[0, 1], [1, 0], [9, 9]], np.int32)
    check(jnp.argwhere(jnp.asarray(3)), np.argwhere(3), np.int32)
    check(jnp.argwhere(jnp.asarray(0)), np.argwhere(0), np.int32)
    with pytest.raises(ValueError, match="0d"):
        jnp.nonzero(jnp.asarray(1))
    with pytest.raises(ValueError, match="tuple of length 2"):
        jnp.nonzero(x, size=2, fill_value=(1, 2, 3))


def test_nonzero_under_jit_needs_size():
    f = jaxel.jit(lambda v: jnp.nonzero(v, size=4, fill_value=-1))
    check(f(jnp.asarray(np.array([0, 3, 0, 5, 6, 0])))[0], [1, 3, 4, -1], np.int32)
    g = jaxel.jit(lambda v: jnp.where(v > 1, size=2))
    check(g(jnp.asarray(np.array([0, 3, 0, 5, 6])))[0], [1, 3], np.int32)
    with pytest.raises(ConcretizationTypeError, match="size="):
        jaxel.jit(jnp.nonzero)(jnp.asarray(np.array([0, 1])))


# ---- select / clip -----------------------------------------------------------------------------
def test_select():
    x = np.arange(6)
    conds, choices = [x < 2, x > 3, x % 2 == 0], [x, x * 10, x * 100.0]
    check(jnp.select([jnp.asarray(c) for c in conds], [jnp.asarray(v) for v in choices], -1),
          np.select(conds, choices, -1), np.float32)
    check(jnp.select([jnp.asarray(np.array([1, 0]))], [jnp.asarray(np.array([1, 2]))]),
          np.array([1, 0]), np.int32)
    out = jnp.select([jnp.asarray([True])], [1])
    assert out.weak_type and out.dtype == np.int32
    check(jnp.select([jnp.asarray(np.array([[True], [False]]))], [jnp.asarray(np.array([1, 2]))],
                     jnp.zeros(2, jnp.int8)), np.array([[1, 2], [0, 0]]), np.int32)
    with pytest.raises(ValueError, match="non-empty"):
        jnp.select([], [])
    with pytest.raises(ValueError, match="length"):
        jnp.select([jnp.asarray([True])], [])


def test_clip():
    check(jnp.clip(jnp.asarray(I), -1, 3), np.clip(I, -1, 3), np.int32)
    check(jnp.clip(jnp.asarray(F), max=1.0), np.clip(F, None, 1.0), np.float32)
    check(jnp.clip(jnp.asarray(I)), I, np.int32)
    got = jnp.clip(jnp.asarray(I), 2.5, 7)
    assert got.dtype == np.float32 and got.weak_type  # int32 with a Python float: weak float
    check(jnp.asarray(F).clip(0, 1), np.clip(F, 0, 1), np.float32)


# ---- closeness ---------------------------------------------------------------------------------
def test_isclose_allclose():
    a = np.array([1.0, np.inf, -np.inf, np.nan, 1e10, 1.0, 0.0], np.float32)
    b = np.array([1.0 + 1e-7, np.inf, np.inf, np.nan, 1.00001e10, np.inf, 1e-9], np.float32)
    for equal_nan in (False, True):
        check(jnp.isclose(jnp.asarray(a), jnp.asarray(b), equal_nan=equal_nan),
              np.isclose(a, b, equal_nan=equal_nan), bool)
    check(jnp.isclose(jnp.asarray(I), jnp.asarray(I + 1)), np.isclose(I, I + 1), bool)
    check(jnp.isclose(1.0, np.inf), np.isclose(1.0, np.inf), bool)
    c = np.array([1 + 1j, 2 + 1j], np.complex64)
    check(jnp.isclose(jnp.asarray(c), jnp.asarray(c + 1e-7j)), np.isclose(c, c + 1e-7j), bool)
    check(jnp.isclose(jnp.asarray(F), 0.5, rtol=0.1, atol=0.2),
          np.isclose(F, 0.5, rtol=0.1, atol=0.2), bool)
    assert bool(jnp.allclose(jnp.ones(3), jnp.ones(3) + 1e-9))
    assert not bool(jnp.allclose(jnp.asarray(a), jnp.asarray(b)))
    assert jnp.allclose(jnp.asarray(F), jnp.asarray(F), equal_nan=True).shape == ()


def test_array_equal_equiv():
    assert bool(jnp.array_equal([1, 2], [1, 2]))
    assert bool(jnp.array_equal(jnp.asarray(I), jnp.asarray(I.astype(np.float32))))
    assert not bool(jnp.array_equal(jnp.ones(1), jnp.ones(2)))
    nan = jnp.asarray(np.array([1.0, np.nan]))
    assert not bool(jnp.array_equal(nan, nan)) and bool(jnp.array_equal(nan, nan, equal_nan=True))
    assert bool(jnp.array_equiv(jnp.ones(2), jnp.ones((3, 2))))
    assert not bool(jnp.array_equiv(jnp.ones(2), jnp.ones(3)))
    assert not bool(jnp.array_equiv(jnp.ones(2), jnp.zeros((3, 2))))


def test_type_queries():
    assert jnp.isscalar(1.0) and jnp.isscalar(np.float32(1)) and jnp.isscalar(jnp.asarray(1))
    assert not jnp.isscalar(jnp.ones(2)) and not jnp.isscalar([1])
    assert jnp.iscomplexobj(1j) and jnp.iscomplexobj([1j]) and jnp.iscomplexobj(jnp.ones(1, jnp.complex64))
    assert not jnp.iscomplexobj(None) and not jnp.iscomplexobj(jnp.ones(1))
    assert jnp.isrealobj(jnp.ones(1)) and not jnp.isrealobj(1j)


# ---- elementwise functions vs NumPy ------------------------------------------------------------
UNARY = {  # name: (NumPy function, inputs)
    "deg2rad": (np.deg2rad, [F, I]), "radians": (np.radians, [F]),
    "rad2deg": (np.rad2deg, [F, I]), "degrees": (np.degrees, [F]),
    "sinc": (np.sinc, [F, I]), "signbit": (np.signbit, [F, I]),
    "trunc": (np.trunc, [F, I]), "rint": (np.rint, [F, I, np.array([0.5, 1.5, 2.5, -0.5])]),
    "log2": (np.log2, [np.abs(F), np.array([1, 2, 1024])]),
    "log10": (np.log10, [np.abs(F), np.array([1, 10, 1000])]),
    "nan_to_num": (np.nan_to_num, [F, I]), "logical_not": (np.logical_not, [F, I]),
}
BINARY = {
    "fmod": (np.fmod, [(I, np.array([2, 3, 5, -2, 3], np.int32)), (F, np.float32(1.25))]),
    "hypot": (np.hypot, [(F, F[::-1].copy()), (I, np.int32(4))]),
    "logaddexp": (np.logaddexp, [(F, F[::-1].copy()), (I, np.float32(0.5))]),
    "logaddexp2": (np.logaddexp2, [(F, F[::-1].copy())]),
    "heaviside": (np.heaviside, [(F, np.float32(0.5))]),
    "copysign": (np.copysign, [(np.abs(F), F[::-1].copy()), (I, np.float32(-1.0))]),
    "fmax": (np.fmax, [(F, F[::-1].copy()), (I, I[::-1].copy())]),
    "fmin": (np.fmin, [(F, F[::-1].copy()), (I, I[::-1].copy())]),
    "float_power": (np.float_power, [(np.abs(F), np.float32(0.5)), (I, np.int32(2))]),
    "logical_and": (np.logical_and, [(F, I[:1]), (I, I[::-1].copy())]),
    "logical_or": (np.logical_or, [(F, F[::-1].copy()), (I, np.int32(0))]),
    "logical_xor": (np.logical_xor, [(F, F[::-1].copy()), (I, np.int32(3))]),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_values(name):
    ref, inputs = UNARY[name]
    for v in inputs:
        with np.errstate(all="ignore"):
            want = np.asarray(ref(v))
        got = getattr(jnp, name)(jnp.asarray(v))
        if want.dtype == np.float64:
            want = want.astype(np.float32)
        if name == "rint" and v.dtype.kind == "i":
            want = want.astype(np.float32)
        if name == "nan_to_num" and v.dtype.kind == "f":  # float32's extremes, not float64's
            want = np.nan_to_num(v)
        check(got, want, want.dtype if want.dtype != np.int64 else np.int32)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_values(name):
    ref, inputs = BINARY[name]
    for a, b in inputs:
        with np.errstate(all="ignore"):
            want = np.asarray(ref(a, b))
        got = getattr(jnp, name)(jnp.asarray(a), jnp.asarray(b))
        if want.dtype == np.float64:
            want = want.astype(np.float32)
        check(got, want, got.dtype, rtol=2e-6)


def test_special_values():
    check(jnp.sinc(jnp.asarray(np.array([0.0, 0.5]))), np.sinc([0.0, 0.5]), np.float32)
    check(jnp.hypot(jnp.asarray(np.array([3e30, np.inf])), jnp.asarray(np.array([4e30, np.nan]))),
          np.array([5e30, np.inf]), np.float32)
    check(jnp.logaddexp(jnp.asarray(np.array([np.inf, -np.inf, 100.0])),
                        jnp.asarray(np.array([np.inf, -np.inf, 100.0]))),
          np.logaddexp([np.inf, -np.inf, 100.0], [np.inf, -np.inf, 100.0]), np.float32)
    check(jnp.fmod(jnp.asarray(np.array([5, -5])), jnp.asarray(np.array([0, 3]))),
          np.array([0, -2]), np.int32)  # integer division by zero gives 0, as JAX
    check(jnp.nan_to_num(jnp.asarray(F), nan=1, posinf=2, neginf=3),
          np.nan_to_num(F, nan=1, posinf=2, neginf=3), np.float32)
    z = np.array([complex(np.nan, np.inf), 1 + 2j], np.complex64)
    check(jnp.nan_to_num(jnp.asarray(z)), np.nan_to_num(z), np.complex64)
    check(jnp.signbit(jnp.asarray(np.array([-0.0, 1.0], jnp.bfloat16))), [True, False], bool)
    check(jnp.signbit(jnp.asarray(np.array([1, 2], np.uint8))), [False, False], bool)
    check(jnp.rint(jnp.asarray(np.array([0.5 + 1.5j], np.complex64))), [0 + 2j], np.complex64)
    with pytest.raises(TypeError, match="complex"):
        jnp.copysign(jnp.ones(1, jnp.complex64), 1.0)


# ---- dtypes and weak types vs JAX --------------------------------------------------------------
ARGS = [1.5, 1, True, np.float16(1), np.int8(3)]
DTYPE_UNARY = ["deg2rad", "rad2deg", "sinc", "signbit", "trunc", "rint", "log2", "log10",
               "nan_to_num", "exp2"]
DTYPE_BINARY = ["fmod", "hypot", "logaddexp", "logaddexp2", "heaviside", "copysign", "fmax",
                "fmin", "float_power"]


def _same_type(name, *args):
    """jaxel and JAX give ``name(*args)`` one dtype and weak type (abstractly: no compiles)."""
    jax = pytest.importorskip("jax")
    got = jaxel.eval_shape(lambda: getattr(jnp, name)(*args))
    want = jax.eval_shape(lambda: getattr(jax.numpy, name)(*args))
    assert (got.dtype, got.weak_type) == (want.dtype, want.weak_type), (name, args)


@pytest.mark.parametrize("name", DTYPE_UNARY)
def test_unary_dtypes_match_jax(name):
    for x in ARGS + [np.ones(2, np.float32), np.ones(2, np.int16)]:
        _same_type(name, x)


@pytest.mark.parametrize("name", DTYPE_BINARY)
def test_binary_dtypes_match_jax(name):
    for x in ARGS:
        for y in (2, 2.5, np.float16(2), np.int8(2)):
            _same_type(name, x, y)


def test_logical_functions_on_non_bool_inputs():
    for name in ("logical_and", "logical_or", "logical_xor"):
        got = getattr(jnp, name)(jnp.asarray(np.array([2, 0, -1])), 0.5)
        check(got, getattr(np, name)(np.array([2, 0, -1]), 0.5), bool)
    check(jnp.logical_not(jnp.asarray(np.array([2.5, 0.0]))), [False, True], bool)
    check(jnp.logical_and(True, jnp.asarray(np.array([1, 0]))), [True, False], bool)


def test_misc_functions_trace_under_jit():
    def f(x, y):
        return (jnp.where(x > 0, jnp.hypot(x, y), jnp.logaddexp(x, y)) + jnp.sinc(x)
                + jnp.select([x < -1], [jnp.nan_to_num(y)]))
    x, y = F[:6], F[3:9]
    with np.errstate(all="ignore"):
        want = (np.where(x > 0, np.hypot(x, y), np.logaddexp(x, y)) + np.sinc(x)
                + np.select([x < -1], [np.nan_to_num(y).astype(np.float32)]))
    check(jaxel.jit(f)(jnp.asarray(x), jnp.asarray(y)), want.astype(np.float32), np.float32)


@pytest.mark.parametrize("value, dtype, weak", [
    (True, np.int32, False), (np.array([True, False]), np.int32, False), (2, np.int32, True),
    (2.5, np.float32, True), (np.int8(-3), np.int8, False), (np.uint8(200), np.uint8, False),
    (np.array([1 + 2j], np.complex64), np.complex64, False)])
def test_square_binds_square_and_promotes_bools(value, dtype, weak):
    """jnp.square is lax.square (a `square` equation, as JAX 0.12.1); booleans square as the
    default int (they used to raise), uint8 wraps, weak scalars stay weak."""
    out = jnp.square(value)
    want = np.square(np.asarray(value).astype(dtype))
    assert out.dtype == dtype and out.weak_type == weak
    np.testing.assert_array_equal(np.asarray(out), want)
    assert "square" in str(jaxel.make_jaxpr(jnp.square)(value))
    assert float(jaxel.grad(lambda x: jnp.square(x))(3.0)) == 6.0
