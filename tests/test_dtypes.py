"""jaxel.dtypes: canonicalisation, weak types, the promotion lattice and the NumPy-style queries.

Direct asserts carry the behaviour measured on JAX 0.10.2 (compat.md); where JAX is installed it
is also used as an oracle over whole tables, with x64 both off and on.
"""
import itertools
import types
import warnings

import ml_dtypes
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import jaxel
from jaxel import dtypes
from jaxel.config import config
from jaxel.tracing.avals import ShapedArray

ALL = [np.dtype(t) for t in (np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8,
                             np.uint16, np.uint32, np.uint64, np.float16, ml_dtypes.bfloat16,
                             np.float32, np.float64, np.complex64, np.complex128)]
BF16 = np.dtype(ml_dtypes.bfloat16)
NARROW_NAMES = ["float4_e2m1fn", "float6_e2m3fn", "float6_e3m2fn", "float8_e3m4", "float8_e4m3",
                "float8_e4m3b11fnuz", "float8_e4m3fn", "float8_e4m3fnuz", "float8_e5m2",
                "float8_e5m2fnuz", "float8_e8m0fnu", "int1", "int2", "int4", "uint1", "uint2",
                "uint4"]
#: The narrow ml_dtypes types: they promote only with bool, integers (floats) and weak scalars.
NARROW_ALL = [np.dtype(getattr(ml_dtypes, n)) for n in NARROW_NAMES]
#: Those XLA's runtime holds (not float6_*, int1, uint1: JAX cannot make arrays of them either).
NARROW_RT = [dt for dt in NARROW_ALL if dt.name not in (
    "float6_e2m3fn", "float6_e3m2fn", "int1", "uint1")]
NARROW = {np.dtype("int64"): np.dtype("int32"), np.dtype("uint64"): np.dtype("uint32"),
          np.dtype("float64"): np.dtype("float32"), np.dtype("complex128"): np.dtype("complex64")}


def _fake_array(shape, dt, weak_type):
    # What jaxel arrays and tracers expose: an aval, plus dtype and weak_type read from it.
    aval = ShapedArray(shape, np.dtype(dt), weak_type)
    return types.SimpleNamespace(aval=aval, dtype=aval.dtype, weak_type=aval.weak_type)


def weak(dt):
    """A stand-in for a weakly typed jaxel array of dtype ``dt``."""
    return _fake_array((), dt, True)


def strong(dt):
    """A stand-in for a strongly typed jaxel array of dtype ``dt``."""
    return _fake_array((3,), dt, False)


@pytest.fixture(params=[False, True], ids=["x32", "x64"])
def x64(request):
    """Run the test with jaxel's (and, when installed, JAX's) x64 flag set to the param."""
    old = config.jax_enable_x64
    jax = _maybe_jax()
    old_jax = jax.config.jax_enable_x64 if jax else None
    config.update("jax_enable_x64", request.param)
    if jax:
        jax.config.update("jax_enable_x64", request.param)
    try:
        yield request.param
    finally:
        config.update("jax_enable_x64", old)
        if jax:
            jax.config.update("jax_enable_x64", old_jax)


def _maybe_jax():
    try:
        import jax
    except ImportError:
        return None
    return jax


@pytest.fixture
def x32():
    old = config.jax_enable_x64
    config.update("jax_enable_x64", False)
    yield
    config.update("jax_enable_x64", old)


@pytest.fixture
def on64():
    old = config.jax_enable_x64
    config.update("jax_enable_x64", True)
    yield
    config.update("jax_enable_x64", old)


def rt(*args):
    return dtypes.result_type(*args, return_weak_type_flag=True)


# ---- measured examples (compat.md) -----------------------------------------------------------
def test_compat_examples_without_x64(x32):
    assert dtypes.result_type(dtypes.bfloat16, 1.0) == BF16
    assert dtypes.result_type(np.int8, 1) == np.int8
    assert dtypes.result_type(dtypes.bfloat16, np.float16) == np.float32
    assert dtypes.result_type(np.uint8, np.int8) == np.int16
    assert rt(np.bool_, 1) == (np.int32, True)  # bool meets i* at i*: the result is weak
    assert rt(True, 1) == (np.int32, True)
    assert dtypes.result_type(np.int32, 1.0) == np.float32
    assert dtypes.result_type(np.uint32, np.int32) == np.int32
    assert rt(1, 2.0) == (np.float32, True)
    assert rt(np.uint64, np.int64) == (np.int32, False)  # narrowed before promotion


def test_compat_examples_with_x64(on64):
    assert dtypes.result_type(dtypes.bfloat16, 1.0) == BF16
    assert dtypes.result_type(np.uint32, np.int32) == np.int64
    assert rt(np.uint64, np.int64) == (np.float64, True)
    assert rt(np.bool_, 1) == (np.int64, True)
    assert rt(1, 2.0) == (np.float64, True)
    assert rt(1j) == (np.complex128, True)


def test_weak_types_have_no_width(x32):
    # A weak array promotes like the Python scalar of its kind, whatever its stored width.
    assert rt(weak(np.float16)) == (np.float32, True)
    assert rt(weak(np.float16), weak(np.float16)) == (np.float32, True)
    assert rt(weak(np.int8), weak(np.uint8)) == (np.int32, True)
    assert rt(weak(np.int16), np.uint8) == (np.uint8, False)
    assert rt(weak(np.complex64), np.float16) == (np.complex64, False)
    assert rt(weak(np.bool_), 1) == (np.int32, True)  # a weak bool is just bool
    assert rt(weak(np.bool_)) == (np.bool_, False)
    assert rt(strong(np.float16), 1.0) == (np.float16, False)
    assert rt(weak(np.float32), strong(np.float32)) == (np.float32, False)


def test_duck_typed_arrays_with_dtype_and_weak_type(x32):
    class Duck:
        def __init__(self, dt, w):
            self.dtype, self.weak_type = np.dtype(dt), w
    assert rt(Duck(np.float16, True), np.int8) == (np.float32, True)
    assert rt(Duck(np.float16, False), 1.0) == (np.float16, False)
    assert dtypes.is_weakly_typed(Duck(np.float32, True))
    assert dtypes.dtype(Duck(np.int16, False)) == np.int16


def test_real_jaxel_arrays(x32):
    import jaxel.numpy as jnp
    w = jnp.asarray(1.0)
    assert rt(w) == (np.float32, True)
    assert rt(w, np.zeros(2, np.float16)) == (np.float16, False)
    assert dtypes.is_weakly_typed(w)
    assert dtypes.dtype(w) == np.float32


def test_python_types_promote_as_weak(x32):
    assert rt(float) == (np.float32, True)
    assert rt(int, np.int8) == (np.int8, False)
    assert rt(bool, 1) == (np.int32, True)
    assert rt(complex, np.float16) == (np.complex64, False)
    assert rt(bool) == (np.bool_, False)


def test_numpy_values_are_strong(x32):
    assert rt(np.float64(1), np.float32(1)) == (np.float32, False)
    assert rt(np.int64(1), 1.0) == (np.float32, True)
    assert rt(np.int8(3), 1) == (np.int8, False)
    assert rt(np.array(3.0), 1j) == (np.complex64, False)


def test_result_type_edge_cases(x32):
    with pytest.raises(ValueError, match="at least one"):
        dtypes.result_type()
    assert rt(dtypes.float0) == (dtypes.float0, False)
    with pytest.raises(ValueError, match="float0"):
        dtypes.result_type(dtypes.float0, np.int8)
    with pytest.raises(TypeError, match="strings"):
        dtypes.result_type("U3")
    with pytest.raises(TypeError, match="Python objects"):
        dtypes.result_type(np.array([None], dtype=object), 1)
    with pytest.raises(TypeError, match="Cannot determine"):
        dtypes.result_type([1, 2])
    assert dtypes.result_type(None) == np.float32  # np.dtype(None) is float64, as in JAX
    assert dtypes.result_type(np.dtype(">f4"), np.int8) == np.float32


def test_result_type_follows_the_flag_after_caching():
    old = config.jax_enable_x64
    try:
        config.update("jax_enable_x64", False)
        assert rt(1.0, np.int32) == (np.float32, True)
        assert dtypes.result_type(np.float64, np.int8) == np.float32
        config.update("jax_enable_x64", True)
        assert rt(1.0, np.int32) == (np.float64, True)
        assert dtypes.result_type(np.float64, np.int8) == np.float64
        config.update("jax_enable_x64", False)
        assert rt(1.0, np.int32) == (np.float32, True)
    finally:
        config.update("jax_enable_x64", old)


def test_promote_types_measured(x64):
    p = dtypes.promote_types
    assert p(np.uint8, np.int8) == np.int16
    assert p(BF16, np.float16) == np.float32
    assert p(np.int32, np.float16) == np.float16
    assert p(np.int64, np.int8) == np.int64  # not canonicalised, even without x64
    assert p(np.uint64, np.int64) == np.float64
    assert p(np.uint32, np.int32) == (np.int64 if x64 else np.int32)
    assert p(float, np.int8) == np.float64  # a weak answer is the widest of its kind
    assert p(int, np.int8) == np.int8
    assert p(int, int) == np.int64
    assert p(bool, int) == np.int64
    assert p(complex, np.float16) == np.complex64
    assert p("float16", "bfloat16") == np.float32
    with pytest.raises(ValueError, match="promotion"):
        p("U3", np.int8)
    with pytest.raises(ValueError, match="promotion"):
        p(dtypes.float0, np.int8)


def test_lattice_is_a_join_semilattice():
    # The tables must be commutative, idempotent and associative, or result_type would depend
    # on the order of its arguments.
    for table in dtypes._LUB:
        nodes = sorted({a for a, _ in table}, key=str)
        # None means "no join" (narrow types do not promote); it absorbs further joins.
        def join(a, b):
            return None if a is None or b is None else table[a, b]
        for a, b in itertools.product(nodes, nodes):
            assert table[a, b] == table[b, a]
            assert table[a, a] == a
        for a, b, c in itertools.product(nodes, nodes, nodes):
            assert join(join(a, b), c) == join(a, join(b, c)), (a, b, c)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(ALL + [True, 1, 1.0, 1j, "w"]), min_size=1, max_size=5),
       st.booleans())
def test_result_type_order_does_not_matter(args, flag):
    old = config.jax_enable_x64
    config.update("jax_enable_x64", flag)
    try:
        vals = [weak(np.float16) if isinstance(a, str) else a for a in args]
        assert rt(*vals) == rt(*reversed(vals))
    finally:
        config.update("jax_enable_x64", old)


# ---- oracle: the whole promotion table against JAX -------------------------------------------
def _jax_weak(jax, dt):
    try:
        from jax._src.lax.lax import _convert_element_type
    except ImportError:  # private helper moved: fall back to Python scalars
        return {"i": 1, "u": 1, "f": 1.0, "c": 1j, "b": True, "V": 1.0}[np.dtype(dt).kind]
    # Build from a NumPy zero of the dtype JAX will use, so no cached 64-bit constant from an
    # earlier x64 setting is reused.
    dt = jax.dtypes.canonicalize_dtype(dt)
    return _convert_element_type(np.zeros((), dt), dt, weak_type=True)


def _inputs(jax, narrow=False):
    """Pairs (ours, JAX's) of promotion inputs: strong dtypes, Python scalars, weak arrays (and
    with ``narrow``, the narrow dtypes, strong and weak, too)."""
    out = [(dt, dt) for dt in ALL]
    out += [(v, v) for v in (True, 1, 1.0, 1j)]
    out += [(weak(dt), _jax_weak(jax, dt)) for dt in ALL]
    if narrow:
        out += [(dt, dt) for dt in NARROW_ALL]
        out += [(weak(dt), _jax_weak(jax, dt)) for dt in NARROW_RT]
    return out


def _outcome(f, *args, **kwargs):
    """``f(*args)``, or the exception class it raises (TypePromotionError is a ValueError)."""
    try:
        return f(*args, **kwargs)
    except ValueError as e:
        return "TypePromotionError" if type(e).__name__ == "TypePromotionError" else ValueError
    except TypeError:
        return TypeError
    except KeyError:  # JAX 0.10.2 crashes joining only-weak sub-byte ints: no oracle there
        return KeyError


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_promote_types_table_matches_jax(x64):
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    args = ALL + NARROW_ALL + [int, float, complex, bool]
    for a, b in itertools.product(args, args):
        want = _outcome(jnp.promote_types, a, b)
        assert _outcome(dtypes.promote_types, a, b) == want, (a, b, x64)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_result_type_pairs_match_jax(x64):
    jax = pytest.importorskip("jax")
    from jax import dtypes as jdt
    inputs = _inputs(jax, narrow=True)
    for (oa, ja), (ob, jb) in itertools.product(inputs, inputs):
        want = _outcome(jdt.result_type, ja, jb, return_weak_type_flag=True)
        if want is not KeyError:
            assert _outcome(rt, oa, ob) == want, (oa, ob, x64)
    for ours, theirs in inputs:
        want = _outcome(jdt.result_type, theirs, return_weak_type_flag=True)
        if want is not KeyError:
            assert rt(ours) == want, (ours, x64)


def test_narrow_promotion_error_is_clear():
    with pytest.raises(dtypes.TypePromotionError, match="float8_e4m3fn.*float32.*astype"):
        dtypes.promote_types(ml_dtypes.float8_e4m3fn, np.float32)
    with pytest.raises(ValueError, match="int4.*int8"):
        dtypes.result_type(strong(ml_dtypes.int4), strong(np.int8))
    assert dtypes.result_type(strong(ml_dtypes.float8_e5m2), 2.0) == ml_dtypes.float8_e5m2
    assert rt(strong(ml_dtypes.int4), 3) == (np.dtype(ml_dtypes.int4), False)
    assert dtypes.promote_types(ml_dtypes.float8_e4m3fn, np.int32) == ml_dtypes.float8_e4m3fn


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_result_type_triples_match_jax(x64):
    jax = pytest.importorskip("jax")
    from jax import dtypes as jdt
    inputs = _inputs(jax)
    pick = [inputs[i] for i in (0, 1, 4, 5, 8, 9, 10, 12, 13, 15, 16, 17, 18, 19, 24, 28, 33)]
    for combo in itertools.product(pick, repeat=3):
        want = jdt.result_type(*(j for _, j in combo), return_weak_type_flag=True)
        assert rt(*(o for o, _ in combo)) == want, (combo, x64)


# ---- canonicalisation and defaults -----------------------------------------------------------
def test_canonicalize_dtype(x64):
    for dt in ALL:
        want = dt if x64 else NARROW.get(dt, dt)
        assert dtypes.canonicalize_dtype(dt) == want
        assert dtypes.canonicalize_dtype(dt.type) == want
        assert dtypes.canonicalize_dtype(dt.name) == want
        assert isinstance(dtypes.canonicalize_dtype(dt.name), np.dtype)
    assert dtypes.canonicalize_dtype(float) == (np.float64 if x64 else np.float32)
    assert dtypes.canonicalize_dtype(int) == (np.int64 if x64 else np.int32)
    assert dtypes.canonicalize_dtype(dtypes.float0) == dtypes.float0
    jax = _maybe_jax()
    if jax:
        for dt in ALL:
            assert dtypes.canonicalize_dtype(dt) == jax.dtypes.canonicalize_dtype(dt)


def test_defaults(x64):
    assert dtypes.default_float_dtype() == (np.float64 if x64 else np.float32)
    assert dtypes.default_int_dtype() == (np.int64 if x64 else np.int32)
    assert dtypes.default_uint_dtype() == (np.uint64 if x64 else np.uint32)
    assert dtypes.default_complex_dtype() == (np.complex128 if x64 else np.complex64)


def test_python_scalar_dtypes():
    assert dtypes.python_scalar_dtypes == {bool: np.dtype(bool), int: np.dtype(np.int64),
                                          float: np.dtype(np.float64),
                                          complex: np.dtype(np.complex128)}


# ---- dtype() and weak types ------------------------------------------------------------------
def test_dtype_of_values(x32):
    d = dtypes.dtype
    assert d(True) == np.bool_ and d(1) == np.int64 and d(1.0) == np.float64
    assert d(1j) == np.complex128
    assert d(1, canonicalize=True) == np.int32
    assert d(1.0, canonicalize=True) == np.float32
    assert d(1j, canonicalize=True) == np.complex64
    assert d(float) == np.float64 and d(int) == np.int64 and d(bool) == np.bool_
    assert d(np.float64(1)) == np.float64
    assert d(np.zeros(2, np.int16)) == np.int16
    assert d("bfloat16") == BF16 and d(dtypes.bfloat16) == BF16
    assert d(np.dtype("uint8")) == np.uint8 and d(dtypes.float32) == np.float32
    assert d(strong(np.uint16)) == np.uint16
    assert d(np.zeros(2, ">f4")) == np.float32
    assert d(dtypes.float0) == dtypes.float0
    assert d("float64", canonicalize=True) == np.float32


@pytest.mark.parametrize("bad", ["U3", object, np.array(["a"]), "M8[s]", "O",
                                 np.array([None], dtype=object)])
def test_dtype_rejects_non_numeric(bad):
    with pytest.raises(TypeError, match="jaxel arrays cannot hold"):
        dtypes.dtype(bad)


def test_dtype_messages_name_the_problem():
    with pytest.raises(TypeError, match="strings: got dtype <U3"):
        dtypes.dtype("U3")
    with pytest.raises(TypeError, match="Python objects"):
        dtypes.dtype(object)
    with pytest.raises(TypeError, match="Cannot determine the dtype"):
        dtypes.dtype([1, 2])
    with pytest.raises(ValueError):
        dtypes.dtype(None)


def test_is_weakly_typed():
    assert dtypes.is_weakly_typed(1) and dtypes.is_weakly_typed(1.0)
    assert dtypes.is_weakly_typed(1j)
    assert not dtypes.is_weakly_typed(True)  # Python bool is strong in JAX
    assert not dtypes.is_weakly_typed(np.float32(1))
    assert not dtypes.is_weakly_typed(np.zeros(2))
    assert not dtypes.is_weakly_typed(float)  # a type, not a value
    assert dtypes.is_weakly_typed(types.SimpleNamespace(weak_type=True))
    jax = _maybe_jax()
    if jax:
        from jax._src import dtypes as jsd
        for v in (1, 1.0, 1j, True, np.float32(1), float):
            assert dtypes.is_weakly_typed(v) == jsd.is_weakly_typed(v)


# ---- explicitly requested dtypes -------------------------------------------------------------
@pytest.mark.parametrize("dt", ["float64", np.int64, np.dtype("uint64"), np.complex128])
def test_64bit_request_warns_without_x64(x32, dt):
    with pytest.warns(UserWarning, match=r"Explicitly requested dtype \w+(64|128) in zeros .*"
                                         r"narrowed to \w+(32|64)\..*jax_enable_x64"):
        dtypes.check_user_dtype_supported(dt, "zeros")


def test_no_warning_when_fine(x64):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for dt in [None, float, int, complex, bool, np.float32, BF16, "int8", dtypes.float0]:
            dtypes.check_user_dtype_supported(dt, "ones")
        if x64:
            dtypes.check_user_dtype_supported(np.float64, "ones")


@pytest.mark.parametrize("bad", [object, "U3", "M8[s]", "V4", "O", np.longdouble, str])
def test_unsupported_request_raises(bad):
    with pytest.raises(TypeError, match="in zeros"):
        dtypes.check_user_dtype_supported(bad, "zeros")


def test_check_and_canonicalize_user_dtype(x32):
    c = dtypes.check_and_canonicalize_user_dtype
    assert c(float) == np.float32 and c(int) == np.int32 and c(complex) == np.complex64
    with pytest.warns(UserWarning):
        assert c("float64", "full") == np.float32
    with pytest.raises(ValueError):
        c(None)


# ---- NumPy-style queries ----------------------------------------------------------------------
ABSTRACT = [np.generic, np.number, np.integer, np.signedinteger, np.unsignedinteger, np.inexact,
            np.floating, np.complexfloating, np.bool_]


def test_issubdtype_bfloat16():
    for parent in (np.floating, np.inexact, np.number, np.generic, dtypes.bfloat16, BF16,
                   "bfloat16"):
        assert dtypes.issubdtype(dtypes.bfloat16, parent)
        assert dtypes.issubdtype("bfloat16", parent)
        assert dtypes.issubdtype(BF16, parent)
    for other in (np.integer, np.complexfloating, np.float16, np.float32, np.bool_, float):
        assert not dtypes.issubdtype(dtypes.bfloat16, other)
    assert not dtypes.issubdtype(np.float32, dtypes.bfloat16)
    assert dtypes.issubdtype(dtypes.float0, np.void)
    assert not dtypes.issubdtype(dtypes.float0, np.floating)


def test_issubdtype_matches_jax():
    jax = pytest.importorskip("jax")
    for a in ALL + NARROW_ALL + [dtypes.float0]:
        for b in ABSTRACT + ALL + NARROW_ALL:
            assert dtypes.issubdtype(a, b) == jax.numpy.issubdtype(a, b), (a, b)
            assert dtypes.issubdtype(a.type, b) == jax.numpy.issubdtype(a, b), (a, b)


KINDS = ["bool", "signed integer", "unsigned integer", "integral", "real floating",
         "complex floating", "numeric"]


def test_isdtype():
    assert dtypes.isdtype(dtypes.bfloat16, "real floating")
    assert dtypes.isdtype(np.float16, "real floating")
    assert not dtypes.isdtype(np.bool_, "numeric")
    assert dtypes.isdtype(np.uint8, ("bool", "integral"))
    assert dtypes.isdtype(np.float32, (np.float64, np.float32))
    assert not dtypes.isdtype(np.float32, float)
    assert not dtypes.isdtype(dtypes.float0, "numeric")
    with pytest.raises(ValueError, match="Unknown dtype kind"):
        dtypes.isdtype(np.float32, "foo")
    with pytest.raises(TypeError, match="kind must be"):
        dtypes.isdtype(np.float32, np.floating)


def test_isdtype_matches_jax():
    jax = pytest.importorskip("jax")
    for dt in ALL + NARROW_ALL:
        for kind in KINDS + ALL + [tuple(KINDS[:2]), (np.float32, "bool")]:
            assert dtypes.isdtype(dt, kind) == jax.numpy.isdtype(dt, kind), (dt, kind)


CASTINGS = ["no", "equiv", "safe", "same_kind", "unsafe"]


def test_can_cast():
    assert dtypes.can_cast(dtypes.bfloat16, np.float32)
    assert not dtypes.can_cast(np.float32, dtypes.bfloat16)
    assert not dtypes.can_cast(np.float16, dtypes.bfloat16)
    assert not dtypes.can_cast(dtypes.bfloat16, np.float16)
    assert dtypes.can_cast(np.int8, dtypes.bfloat16)
    assert dtypes.can_cast(dtypes.bfloat16, np.complex64)
    assert dtypes.can_cast(np.float32, np.float16, "same_kind")
    assert not dtypes.can_cast(np.zeros(2, np.float32), np.int8)
    assert dtypes.can_cast(strong(np.int8), np.int16)
    with pytest.raises(TypeError, match="Python"):
        dtypes.can_cast(1, np.int8)


def test_can_cast_matches_jax():
    jax = pytest.importorskip("jax")
    for a, b, casting in itertools.product(ALL + NARROW_RT, ALL + NARROW_RT, CASTINGS):
        assert dtypes.can_cast(a, b, casting) == jax.numpy.can_cast(a, b, casting), (a, b)


def test_finfo_iinfo():
    bf = dtypes.finfo(dtypes.bfloat16)
    assert bf.eps == 2.0 ** -7 and bf.bits == 16 and bf.dtype == BF16
    assert float(bf.max) == pytest.approx(3.38953e38, rel=1e-5)
    assert dtypes.finfo(np.float32).eps == np.finfo(np.float32).eps
    assert dtypes.finfo(np.complex64).dtype == np.float32
    assert dtypes.finfo(float).dtype == np.float64
    assert dtypes.finfo(np.zeros(2, np.float16)).dtype == np.float16
    assert dtypes.finfo("bfloat16").dtype == BF16
    assert dtypes.iinfo(np.int8).max == 127 and dtypes.iinfo(np.uint32).max == 2 ** 32 - 1
    assert dtypes.iinfo("int64").min == -2 ** 63
    with pytest.raises(ValueError):
        dtypes.iinfo(np.float32)


def test_finfo_iinfo_match_jax():
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    for dt in ALL + NARROW_ALL:
        if dtypes.is_inexact(dt):
            ours, theirs = dtypes.finfo(dt), jnp.finfo(dt)
            for attr in ("bits", "eps", "max", "min", "tiny", "resolution", "nmant", "dtype"):
                assert getattr(ours, attr) == getattr(theirs, attr), (dt, attr)
        elif dtypes.is_integer(dt):
            ours, theirs = dtypes.iinfo(dt), jnp.iinfo(dt)
            assert (ours.min, ours.max, ours.bits) == (theirs.min, theirs.max, theirs.bits)


# ---- names -----------------------------------------------------------------------------------
MLIR = {"bool": "i1", "int8": "i8", "int16": "i16", "int32": "i32", "int64": "i64",
        "uint8": "ui8", "uint16": "ui16", "uint32": "ui32", "uint64": "ui64", "float16": "f16",
        "bfloat16": "bf16", "float32": "f32", "float64": "f64", "complex64": "complex<f32>",
        "complex128": "complex<f64>"}
SHORT = {"bool": "bool", "int8": "i8", "int16": "i16", "int32": "i32", "int64": "i64",
         "uint8": "u8", "uint16": "u16", "uint32": "u32", "uint64": "u64", "float16": "f16",
         "bfloat16": "bf16", "float32": "f32", "float64": "f64", "complex64": "c64",
         "complex128": "c128"}


def test_mlir_and_short_names():
    for dt in ALL:
        assert dtypes.to_mlir_type(dt) == MLIR[dt.name]
        assert dtypes.to_mlir_type(dt.type) == MLIR[dt.name]
        assert dtypes.short_name(dt) == SHORT[dt.name]
        assert dtypes.short_name(dt.name) == SHORT[dt.name]
    assert dtypes.short_name(dtypes.float0) == "float0"
    with pytest.raises(TypeError):
        dtypes.short_name("U3")
    with pytest.raises(TypeError):
        dtypes.to_mlir_type(dtypes.float0)
    with pytest.raises(TypeError, match="int1.*bool"):  # i1 is bool to XLA
        dtypes.to_mlir_type(ml_dtypes.int1)


def test_narrow_names_match_jax():
    """Short names as JAX's jaxprs print them, MLIR names as JAX's lowering prints them."""
    jax = pytest.importorskip("jax")
    for dt in NARROW_ALL:
        s = jax.ShapeDtypeStruct((2,), dt)
        text = str(jax.make_jaxpr(lambda x: x)(s))
        assert f"a:{dtypes.short_name(dt)}[2]" in text, (dt, text)
        if dt.name not in ("int1", "uint1"):
            mlir = jax.jit(lambda x: x).lower(s).as_text()
            assert f"tensor<2x{dtypes.to_mlir_type(dt)}>" in mlir, (dt, mlir)


def test_short_names_match_jaxpr_printing(on64):
    jax = pytest.importorskip("jax")
    old = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    try:
        for dt in ALL + [dtypes.float0]:
            text = str(jax.make_jaxpr(lambda x: x)(np.zeros(2, dt)))
            assert f"a:{dtypes.short_name(dt)}[2]" in text, (dt, text)
    finally:
        jax.config.update("jax_enable_x64", old)


# ---- scalar types and predicates -------------------------------------------------------------
def test_scalar_type_objects():
    names = ["bool_", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
             "float16", "bfloat16", "float32", "float64", "complex64", "complex128"]
    for name, dt in zip(names, ALL):
        t = getattr(dtypes, name)
        assert np.dtype(t) == dt
        hash(t)
        assert dtypes.dtype(t) == dt
    assert issubclass(dtypes.float32, np.floating)
    assert issubclass(dtypes.uint8, np.unsignedinteger)
    assert dtypes.float0 == np.dtype([("float0", np.void, 0)])
    assert dtypes.float0.itemsize == 0
    for name in NARROW_NAMES:
        t = getattr(dtypes, name)
        assert t is getattr(ml_dtypes, name) and name in dtypes.__all__
        assert dtypes.dtype(t) == np.dtype(t) == dtypes.canonicalize_dtype(name)
    jax = _maybe_jax()
    if jax:
        assert dtypes.float0 == jax.dtypes.float0
        for name in names + NARROW_NAMES:
            assert np.dtype(getattr(dtypes, name)) == np.dtype(getattr(jax.numpy, name))


def test_predicates():
    kinds = {
        dtypes.is_bool: {"bool"},
        dtypes.is_signed: {"int8", "int16", "int32", "int64"},
        dtypes.is_unsigned: {"uint8", "uint16", "uint32", "uint64"},
        dtypes.is_float: {"float16", "bfloat16", "float32", "float64"},
        dtypes.is_complex: {"complex64", "complex128"},
    }
    kinds[dtypes.is_integer] = kinds[dtypes.is_signed] | kinds[dtypes.is_unsigned]
    kinds[dtypes.is_inexact] = kinds[dtypes.is_float] | kinds[dtypes.is_complex]
    kinds[dtypes.is_float] |= {n for n in NARROW_NAMES if n.startswith("float")}
    kinds[dtypes.is_signed] |= {"int1", "int2", "int4"}
    kinds[dtypes.is_unsigned] |= {"uint1", "uint2", "uint4"}
    kinds[dtypes.is_integer] = kinds[dtypes.is_signed] | kinds[dtypes.is_unsigned]
    kinds[dtypes.is_inexact] = kinds[dtypes.is_float] | kinds[dtypes.is_complex]
    for pred, members in kinds.items():
        for dt in ALL + NARROW_ALL:
            assert pred(dt) == (dt.name in members), (pred.__name__, dt)
            assert pred(dt.type) == (dt.name in members), (pred.__name__, dt)
    assert not dtypes.is_float(dtypes.float0) and not dtypes.is_integer(dtypes.float0)


def test_public_names_documented():
    for name in dtypes.__all__:
        obj = getattr(dtypes, name)
        if callable(obj) and not isinstance(obj, type) and not isinstance(obj, np.dtype):
            assert obj.__doc__, name
    assert jaxel.dtypes is dtypes
