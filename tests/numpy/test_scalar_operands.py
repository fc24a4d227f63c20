"""Python scalars meeting arrays in operators and jnp functions: values, dtypes and weak types
against jax 0.12.1 (and NumPy for the wrap-around values).

A weakly typed Python scalar takes the array's dtype the way XLA converts: an int out of an
integer dtype's range wraps around C-style (``int8 + 300`` adds 44), a float out of a float
dtype's range becomes inf. A Python int outside the default int dtype raises OverflowError.
Booleans add as logical or, multiply as logical and, and divide, shift and power as the default
int.
"""
import operator

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel import lax

jax = pytest.importorskip("jax")
jjnp = jax.numpy

OPS = {n: getattr(operator, n) for n in [
    "add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "and_", "or_", "xor", "lshift",
    "rshift", "lt", "le", "eq", "ne", "gt", "ge"]}
OPS["divmod"] = divmod
VALUES = {"bool": [True, False], "int8": [3, -2], "uint8": [3, 250], "float16": [1.5, -2.0],
          "complex64": [1 + 1j, -2]}
SCALARS = [True, -1, 300, 2.5, 1e10, 1 + 2j]
_DIVISIONS = {"truediv", "floordiv", "mod", "divmod"}


def _skip(dt, s, name):
    # Division by a zero scalar is XLA's business (JAX folds some constants), and jaxel's float
    # floor division is floor(x1 / x2) at infinities (README: how jaxel differs).
    return name in _DIVISIONS and (s is False or (dt == "float16" and s == 1e10))


def _run(lib, mod, dt, s):
    """name -> (values, dtype, weak) or the exception's class name, for ``x op s``/``s op x``
    computed in one jit (one compile per dtype and scalar)."""
    out_err = {}

    def f(x):
        out = {}
        for name, op in OPS.items():
            for side, args in (("l", (x, s)), ("r", (s, x))):
                if _skip(dt, s, name):
                    continue
                try:
                    out[name + side] = op(*args)
                except Exception as e:  # noqa: BLE001 - the class is what is compared
                    out_err[name + side] = type(e).__name__
        return out
    res = lib.jit(f)(mod.asarray(np.array(VALUES[dt], dtype=dt)))
    for k, v in res.items():
        vs = v if isinstance(v, tuple) else (v,)
        out_err[k] = tuple((np.asarray(a), str(a.dtype), bool(a.weak_type)) for a in vs)
    return out_err


def _same(a, b):
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return all(da == db and wa == wb and va.shape == vb.shape
               and np.array_equal(va, vb, equal_nan=va.dtype.kind in "fc")
               for (va, da, wa), (vb, db, wb) in zip(a, b))


@pytest.mark.parametrize("dt", sorted(VALUES))
def test_operators_with_python_scalars_match_jax(dt):
    bad = []
    for s in SCALARS:
        want = _run(jax, jjnp, dt, s)
        got = _run(jaxel, jnp, dt, s)
        assert set(want) == set(got)
        bad += [(s, k, want[k], got[k]) for k in want if not _same(want[k], got[k])]
    assert not bad, f"{len(bad)} mismatches, e.g. {bad[:4]}"


def _wrap(v, dt):
    return np.array(v).astype(np.int64).astype(dt)  # C-style wrap-around, as XLA converts


@pytest.mark.parametrize("dt", [np.int8, np.uint8, np.int16, np.uint32])
def test_out_of_range_python_ints_wrap(dt):
    a = np.array([1, 2, 100], dtype=dt)
    x = jnp.asarray(a)
    for s in (300, -1, -129, 70000):
        w = _wrap(s, dt)
        np.testing.assert_array_equal(x + s, a + w)
        np.testing.assert_array_equal(s - x, w - a)
        np.testing.assert_array_equal(x * s, a * w)
        np.testing.assert_array_equal(x == s, a == w)
        np.testing.assert_array_equal(jnp.maximum(x, s), np.maximum(a, w))
        np.testing.assert_array_equal(jnp.where(x > 1, s, x), np.where(a > 1, w, a))
        np.testing.assert_array_equal(jaxel.jit(lambda v: v & s)(x), a & w)
        assert (x + s).dtype == dt


def test_out_of_range_scalars_in_functions_match_jax():
    x8 = np.array([1, 2, 3], np.int8)
    f16 = np.array([1.0, 2.0], np.float16)
    cases = {
        "clip": lambda m, x, f: m.clip(x, -300, 300),
        "where": lambda m, x, f: m.where(x > 1, x, 300),
        "full": lambda m, x, f: m.full(2, 300, m.int8),
        "full_like": lambda m, x, f: m.full_like(x, -129),
        "at_set": lambda m, x, f: x.at[0].set(300),
        "at_add": lambda m, x, f: x.at[1].add(300),
        "pad": lambda m, x, f: m.pad(x, 1, constant_values=300),
        "max_initial": lambda m, x, f: m.max(x, initial=300),
        "float16_inf": lambda m, x, f: f * 1e10,
        "float16_int": lambda m, x, f: f + 100000,
        "full_f16": lambda m, x, f: m.full(2, 1e10, m.float16),
    }
    for name, fn in cases.items():
        want = fn(jjnp, jjnp.asarray(x8), jjnp.asarray(f16))
        got = fn(jnp, jnp.asarray(x8), jnp.asarray(f16))
        assert got.dtype == want.dtype, name
        np.testing.assert_array_equal(got, want, err_msg=name)


def test_python_int_outside_the_default_int_raises_overflow():
    x = jnp.asarray(np.array([1, 2], np.uint32))
    for v in (2**31, 2**40, -2**31 - 1):
        with pytest.raises(OverflowError, match=str(v)):
            x + v
        with pytest.raises(OverflowError):
            jnp.where(x > 1, x, v)
        with pytest.raises(OverflowError):
            jjnp.asarray(np.array([1, 2], np.uint32)) + v  # the oracle agrees
    np.testing.assert_array_equal(x + (2**31 - 1), np.array([2**31, 2**31 + 1], np.uint32))


def test_lax_wrappers_wrap_weak_scalars():
    x = jnp.asarray(np.array([1, 2], np.int8))
    np.testing.assert_array_equal(lax.add(x, 300), np.array([45, 46], np.int8))
    f = jnp.asarray(np.array([1.0], np.float32))
    np.testing.assert_array_equal(lax.add(f, 1e300), np.array([np.inf], np.float32))


def test_eager_bool_and_power_paths():
    b = jnp.asarray(np.array([True, False]))
    jb = jjnp.asarray(np.array([True, False]))
    x8 = np.array([3, -2], np.int8)
    for fn in (lambda v, w: v + 1, lambda v, w: v * 1.0, lambda v, w: v + True,
               lambda v, w: v * v, lambda v, w: v ** 2, lambda v, w: 2 ** w,
               lambda v, w: v ** True, lambda v, w: w ** 3, lambda v, w: 2.5 ** w,
               lambda v, w: v < 1 + 0j, lambda v, w: v // True, lambda v, w: v << 1):
        want = fn(jb, jjnp.asarray(x8))
        got = fn(b, jnp.asarray(x8))
        assert (got.dtype, got.weak_type) == (want.dtype, want.weak_type)
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(2 ** jnp.asarray(x8[:1]), np.array([8], np.int8))
    with pytest.raises(TypeError, match="negative"):
        jnp.asarray(x8) ** -1
