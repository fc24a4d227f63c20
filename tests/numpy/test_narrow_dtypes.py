"""The narrow ml_dtypes types: 8-bit floats (``float8_*``), ``float4_e2m1fn``, the sub-byte
integers ``int2``/``int4``/``uint2``/``uint4``, and the ones XLA's runtime cannot hold
(``float6_*``, ``int1``, ``uint1``: they exist as types and promote, but make no arrays).

Values are checked bit for bit against ml_dtypes' own NumPy arithmetic (cast to float32, operate,
cast back), which XLA's CPU backend reproduces exactly; promotion and a few reductions against
JAX.  Compiles are few: one eager program per (operation, dtype).
"""
import ml_dtypes
import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel import dtypes

FLOAT8 = ["float8_e4m3fn", "float8_e5m2", "float8_e4m3b11fnuz", "float8_e4m3fnuz",
          "float8_e5m2fnuz", "float8_e3m4", "float8_e4m3", "float8_e8m0fnu"]
FLOATS = FLOAT8 + ["float4_e2m1fn"]
INTS = ["int2", "int4", "uint2", "uint4"]
NO_RUNTIME = ["float6_e2m3fn", "float6_e3m2fn", "int1", "uint1"]


def _all_values(name):
    """Every finite value of a narrow float type (each bit pattern once)."""
    dt = np.dtype(getattr(ml_dtypes, name))
    vals = np.arange(256 if name.startswith("float8") else 16, dtype=np.uint8).view(dt)
    return vals[np.isfinite(vals.astype(np.float32))]


def _same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a.view(np.uint8), b.view(np.uint8))


# ---- the types ---------------------------------------------------------------------------------
def test_names_are_ml_dtypes_scalar_types():
    for name in FLOATS + INTS + NO_RUNTIME:
        t = getattr(jnp, name)
        assert t == getattr(ml_dtypes, name) and getattr(dtypes, name) is getattr(ml_dtypes, name)
        assert np.dtype(t).name == name and hash(t) == hash(getattr(ml_dtypes, name))
    # As jnp.float32 (and in JAX), calling one makes an Array of the dtype.
    x = jnp.float8_e4m3fn(3.3)
    assert isinstance(x, jaxel.Array) and x.dtype == jnp.float8_e4m3fn and float(x) == 3.25
    assert int(jnp.int4(5)) == 5 and jnp.int4(5).dtype == np.dtype(ml_dtypes.int4)


@pytest.mark.parametrize("name", FLOATS)
def test_finfo_matches_ml_dtypes(name):
    ours, theirs = jnp.finfo(getattr(jnp, name)), ml_dtypes.finfo(getattr(ml_dtypes, name))
    for attr in ("bits", "eps", "max", "min", "tiny", "smallest_subnormal", "nmant", "dtype"):
        assert getattr(ours, attr) == getattr(theirs, attr), attr
    assert jnp.issubdtype(getattr(jnp, name), jnp.floating)
    assert not jnp.issubdtype(getattr(jnp, name), jnp.integer)
    assert jnp.isdtype(getattr(jnp, name), "real floating")


def test_iinfo_and_kinds_of_sub_byte_ints():
    assert (jnp.iinfo(jnp.int4).min, jnp.iinfo(jnp.int4).max, jnp.iinfo(jnp.int4).bits) == \
        (-8, 7, 4)
    assert (jnp.iinfo(jnp.uint2).min, jnp.iinfo(jnp.uint2).max) == (0, 3)
    for name in INTS + ["int1", "uint1"]:
        info, want = jnp.iinfo(getattr(jnp, name)), ml_dtypes.iinfo(getattr(ml_dtypes, name))
        assert (info.min, info.max, info.bits) == (want.min, want.max, want.bits)
        t = getattr(jnp, name)
        assert jnp.issubdtype(t, jnp.integer) and not jnp.issubdtype(t, jnp.floating)
        assert jnp.issubdtype(t, jnp.signedinteger) == name.startswith("int")
        assert jnp.issubdtype(t, jnp.unsignedinteger) == name.startswith("uint")


# ---- creation, transfer, printing --------------------------------------------------------------
@pytest.mark.parametrize("name", FLOATS + INTS)
def test_round_trip_and_creation(name):
    t = getattr(jnp, name)
    if name in FLOATS:
        v = _all_values(name)
    else:
        info = ml_dtypes.iinfo(t)
        v = np.arange(info.min, info.max + 1).astype(t)
    x = jnp.asarray(v)
    assert x.dtype == np.dtype(t) and not x.weak_type
    _same_bits(np.asarray(x), v)  # to the device and back, bit for bit
    _same_bits(jnp.asarray(v.astype(np.float32), dtype=t), v)  # converted on the host
    # Values converted, not bytes zeroed: float8_e8m0fnu has no zero, so its "zeros" are NaN.
    _same_bits(jnp.zeros(3, t), np.zeros(3, np.float32).astype(t))
    _same_bits(jnp.ones((2, 2), t), np.ones((2, 2), t))
    _same_bits(jnp.arange(3, dtype=t), np.arange(3).astype(t))


def test_printing_and_astype():
    x = jnp.asarray([1.0, 2.5, -3.0], dtype=jnp.float8_e4m3fn)
    assert repr(x) == "Array([1, 2.5, -3], dtype=float8_e4m3fn)"
    assert str(x) == "[1 2.5 -3]"
    i = jnp.asarray([1, -2, 7], jnp.int4)
    assert repr(i) == "Array([1, -2, 7], dtype=int4)"
    y = jnp.asarray([0.3, 100.0, -1e-3], jnp.float32)
    want = np.asarray([0.3, 100.0, -1e-3], np.float32).astype(ml_dtypes.float8_e5m2)
    _same_bits(y.astype(jnp.float8_e5m2), want)  # XLA rounds like ml_dtypes
    _same_bits(x.astype(jnp.float32), np.asarray(x).astype(np.float32))
    _same_bits(x.astype(jnp.bfloat16), np.asarray(x).astype(ml_dtypes.bfloat16))
    _same_bits(i.astype(jnp.float8_e4m3fn), np.asarray([1, -2, 7]).astype(ml_dtypes.float8_e4m3fn))


@pytest.mark.parametrize("name", NO_RUNTIME)
def test_types_xla_cannot_hold_fail_clearly(name):
    t = getattr(jnp, name)
    assert jnp.promote_types(t, t) == np.dtype(t)  # the type itself is fine
    with pytest.raises(TypeError, match=f"{name}.*(6-bit|bool)"):
        jnp.zeros(2, t)
    with pytest.raises(TypeError, match=f"{name}.*(6-bit|bool)"):
        jnp.asarray(np.zeros(2, t))


# ---- arithmetic against ml_dtypes --------------------------------------------------------------
@pytest.mark.parametrize("name", FLOATS)
def test_add_mul_match_ml_dtypes_bit_for_bit(name):
    """Every pair of finite values.  XLA computes in float32 and rounds once, as ml_dtypes
    does; float8_e8m0fnu is compared only where float32 is normal, as XLA's CPU backend
    flushes float32 subnormals (its smallest values, 2**-127) to zero."""
    v = _all_values(name)
    a, b = np.repeat(v, len(v)), np.tile(v, len(v))
    x, y = jnp.asarray(a), jnp.asarray(b)
    fa, fb = a.astype(np.float32), b.astype(np.float32)
    with np.errstate(over="ignore"):
        for op in (np.add, np.multiply):
            want = op(fa, fb).astype(a.dtype)
            got = np.asarray(getattr(jnp, op.__name__)(x, y))
            keep = slice(None)
            if name == "float8_e8m0fnu":
                tiny = np.finfo(np.float32).tiny
                keep = (fa >= tiny) & (fb >= tiny) & (op(fa, fb) >= tiny)
            wf, gf = want[keep].astype(np.float32), got[keep].astype(np.float32)
            assert np.array_equal(wf, gf, equal_nan=True), (op.__name__, name)


@pytest.mark.parametrize("name", INTS)
def test_sub_byte_int_arithmetic_wraps(name):
    t = getattr(jnp, name)
    info = ml_dtypes.iinfo(t)
    r = np.arange(info.min, info.max + 1)
    a, b = np.repeat(r, len(r)), np.tile(r, len(r))
    bits = info.bits
    mask, sign = (1 << bits) - 1, 1 << (bits - 1)

    def wrap(z):  # two's-complement (or unsigned) wrap-around to ``bits`` bits
        z = z & mask
        return (z ^ sign) - sign if info.min < 0 else z
    x, y = jnp.asarray(a.astype(t)), jnp.asarray(b.astype(t))
    np.testing.assert_array_equal(np.asarray(x + y).astype(int), wrap(a + b))
    np.testing.assert_array_equal(np.asarray(x * y).astype(int), wrap(a * b))
    np.testing.assert_array_equal(np.asarray(x < y), a < b)
    assert (x + 1).dtype == np.dtype(t)  # a Python int adopts the narrow type


@jaxel.jit
def _reduce_all(x):
    return (x < 1, jnp.max(x), jnp.min(x), jnp.argmax(x), jnp.argmin(x), jnp.sort(x),
            jnp.sum(x))


def test_comparisons_and_reductions():
    v = np.asarray([1.5, -2, 0.5, 3, -1, 2], np.float32)
    for name in ("float8_e4m3fn", "float4_e2m1fn"):  # one compile each
        t = getattr(jnp, name)
        a = v.astype(t)
        lt, mx, mn, amax, amin, srt, total = _reduce_all(jnp.asarray(a))
        np.testing.assert_array_equal(np.asarray(lt), v < 1)
        assert (float(mx), float(mn), int(amax), int(amin)) == (3, -2, 3, 1)
        _same_bits(srt, np.sort(v).astype(t))
        assert float(total) == 4.0 and total.dtype == np.dtype(t)
    # Formats without infinities still reduce (the identity of max is their lowest value).
    assert float(jnp.max(jnp.asarray([-400.0, -300.0], jnp.float8_e4m3fn))) == -288.0
    i = jnp.asarray(np.asarray([1, -2, 0, 1, -1]).astype(ml_dtypes.int4))
    assert (int(jnp.max(i)), int(jnp.min(i))) == (1, -2)


def test_two_bit_kernels_xla_mishandles():
    """concatenate aborts the process, sort misorders and argmax fails to compile on 2-bit
    elements in XLA's CPU backend (JAX included); jaxel lowers them on 8-bit copies."""
    for name in ("int2", "uint2"):
        t = getattr(jnp, name)
        r = np.arange(ml_dtypes.iinfo(t).min, ml_dtypes.iinfo(t).max + 1)
        a = np.concatenate([r[::-1], r, r[1:]]).astype(t)
        x = jnp.asarray(a)
        _same_bits(jnp.concatenate([x, x[:3]]), np.concatenate([a, a[:3]]))
        _same_bits(jnp.sort(x), np.sort(a.astype(int)).astype(t))
        assert int(jnp.argmax(x)) == int(np.argmax(a.astype(int)))


# ---- jit, lowering, promotion, autodiff --------------------------------------------------------
def test_jit_and_lowered_text():
    f8 = jnp.float8_e4m3fn
    c = jnp.asarray([0.5, 1.5, -2.0], f8)  # an array constant (a module argument)

    def f(x):
        return x * c + 1.5  # 1.5 is inlined as an f8E4M3FN constant

    x = jnp.asarray([1.0, 2.0, 3.0], f8)
    text = jaxel.jit(f).lower(x).as_text()
    assert "tensor<3xf8E4M3FN>" in text
    assert 'dense<"0x3C"> : tensor<f8E4M3FN>' in text  # 1.5 == 0x3C in float8_e4m3fn
    _same_bits(jaxel.jit(f)(x), f(x))
    want = (np.asarray([1.0, 2.0, 3.0], np.float32) * np.asarray(c).astype(np.float32))
    _same_bits(f(x), (want.astype(f8).astype(np.float32) + 1.5).astype(f8))

    i4 = jnp.asarray([1, -2, 7], jnp.int4)
    text = jaxel.jit(lambda a: a * 2 + jnp.asarray([1, 2, 3], jnp.int4)).lower(i4).as_text()
    assert "tensor<3xi4>" in text
    _same_bits(jaxel.jit(lambda a: a * 2 + 1)(i4),
               np.asarray([3, -3, -1]).astype(ml_dtypes.int4))
    u4 = jnp.asarray([1, 2, 15], jnp.uint4)
    assert "tensor<3xui4>" in jaxel.jit(lambda a: a + 1).lower(u4).as_text()
    _same_bits(jaxel.jit(lambda a: a + 1)(u4), np.asarray([2, 3, 0]).astype(ml_dtypes.uint4))
    assert "f8_e4m3fn[3]" in str(jaxel.make_jaxpr(f)(x))


def test_no_implicit_promotion():
    x = jnp.asarray([1.0, 2.0], jnp.float8_e4m3fn)
    with pytest.raises(dtypes.TypePromotionError, match="float8_e4m3fn"):
        x + jnp.asarray([1.0, 2.0], jnp.float32)
    with pytest.raises(ValueError, match="implicit"):
        x + jnp.asarray([1.0, 2.0], jnp.float8_e5m2)
    with pytest.raises(ValueError, match="int4"):
        jnp.asarray([1], jnp.int4) + jnp.asarray([1], jnp.int8)
    assert (x + 1.0).dtype == x.dtype and (x * 2).dtype == x.dtype
    assert (x + jnp.asarray([1, 2], jnp.int8)).dtype == x.dtype  # ints sit below narrow floats
    assert (x + True).dtype == x.dtype


def test_promotion_matches_jax():
    jax = pytest.importorskip("jax")
    types = [getattr(jnp, n) for n in FLOATS + INTS + NO_RUNTIME] + [
        np.bool_, np.int8, np.uint32, np.float16, jnp.bfloat16, np.float32, np.complex64, int,
        float, complex]

    def outcome(f, a, b):
        try:
            return f(a, b)
        except ValueError as e:
            return type(e).__name__
    for a in types:
        for b in types:
            assert outcome(jnp.promote_types, a, b) == \
                outcome(jax.numpy.promote_types, a, b), (a, b)


def test_gradients_through_float8_casts():
    f8 = jnp.float8_e4m3fn
    x = jnp.asarray([1.1, 2.0, -3.3])
    g = jaxel.grad(lambda a: (a.astype(f8).astype(jnp.float32) * 2.0).sum())(x)
    np.testing.assert_array_equal(np.asarray(g), [2.0, 2.0, 2.0])
    assert g.dtype == np.float32
    y, t = jaxel.jvp(lambda a: a.astype(f8), (x,), (jnp.ones(3),))
    assert y.dtype == t.dtype == np.dtype(f8)
    np.testing.assert_array_equal(np.asarray(t).astype(np.float32), [1, 1, 1])
    # A float8 input is differentiable in its own right.
    g8 = jaxel.grad(lambda a: (a * a).astype(jnp.float32).sum())(jnp.asarray([1.0, 2.0], f8))
    assert g8.dtype == np.dtype(f8)
    np.testing.assert_array_equal(np.asarray(g8).astype(np.float32), [2.0, 4.0])
    with pytest.raises(TypeError, match="int4"):  # sub-byte ints are integers: no gradient
        jaxel.grad(lambda a: a.astype(jnp.float32).sum())(jnp.asarray([1, 2], jnp.int4))
