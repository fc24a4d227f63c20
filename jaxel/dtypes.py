"""Dtypes, weak types and JAX's type-promotion lattice.

Every dtype jaxel handles is a NumPy ``np.dtype`` (bfloat16 and the narrow types ``float8_*``,
``float6_*``, ``float4_e2m1fn``, ``int1``/``int2``/``int4``, ``uint1``/``uint2``/``uint4``
come from ``ml_dtypes``).  Two ideas shape this module:

* **Canonicalisation.**  With ``jax_enable_x64`` off (the default) the 64-bit types are not
  available: int64, uint64, float64 and complex128 narrow to their 32-bit kin.  The flag is read
  at call time, never cached at import, so ``config.update("jax_enable_x64", ...)`` takes effect
  at once.
* **Weak types.**  A Python ``int``/``float``/``complex`` (and a value computed only from such
  scalars) is *weakly typed*: it has a kind but no width of its own, and adopts the dtype of the
  array it meets (``bf16 + 1.0 -> bf16``, ``int8 + 1 -> int8``).  Python ``bool`` is not weak.

Promotion is the least upper bound in the lattice of ``shared/design/compat.md``, whose nodes are
the 15 standard dtypes plus the weak kinds ``i*``, ``f*`` and ``c*``.  Each narrow type hangs
just above its weak kind with nothing above it, so it meets only bool, weak scalars and (for
narrow floats) the integers; any other pair raises :class:`TypePromotionError`, as in JAX.  The
least upper bound of every pair is worked out once at import, so ``result_type`` is a tuple
build and a dict lookup on the hot path; results are cached per tuple of (dtype, weak) inputs.

Example::

    >>> import numpy as np
    >>> from jaxel import dtypes
    >>> dtypes.result_type(dtypes.bfloat16, 1.0)
    dtype(bfloat16)
    >>> dtypes.result_type(1, 2.0, return_weak_type_flag=True)
    (dtype('float32'), True)
"""
from __future__ import annotations

import warnings

import ml_dtypes
import numpy as np

from jaxel.config import config

__all__ = [
    "bool_", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "bfloat16", "float32", "float64", "complex64", "complex128", "float0",
    "python_scalar_dtypes", "canonicalize_dtype", "dtype", "is_weakly_typed",
    "promote_types", "result_type", "can_cast", "issubdtype", "isdtype", "finfo", "iinfo",
    "check_user_dtype_supported", "check_and_canonicalize_user_dtype", "to_mlir_type",
    "short_name", "default_float_dtype", "default_int_dtype", "default_uint_dtype",
    "default_complex_dtype", "is_float", "is_complex", "is_integer", "is_signed",
    "is_unsigned", "is_bool", "is_inexact", "TypePromotionError",
    "float4_e2m1fn", "float6_e2m3fn", "float6_e3m2fn", "float8_e3m4", "float8_e4m3",
    "float8_e4m3b11fnuz", "float8_e4m3fn", "float8_e4m3fnuz", "float8_e5m2", "float8_e5m2fnuz",
    "float8_e8m0fnu", "float8_e5m3fnu", "complex32", "bcomplex32", "int1", "int2", "int4",
    "uint1", "uint2", "uint4", "extended", "prng_key", "itemsize_bits", "scalar_type_of",
]

# ---- scalar-type objects ------------------------------------------------------------------------
# The NumPy scalar types themselves: they work wherever a dtype is expected (np.dtype(int8),
# hashing, issubclass(float32, np.floating)).  JAX's versions also build arrays when called
# (jnp.float32(3) is a jax Array): jaxel.numpy wraps these in such classes (scalar_types.py).
bool_ = np.bool_
int8, int16, int32, int64 = np.int8, np.int16, np.int32, np.int64
uint8, uint16, uint32, uint64 = np.uint8, np.uint16, np.uint32, np.uint64
float16, float32, float64 = np.float16, np.float32, np.float64
bfloat16 = ml_dtypes.bfloat16
complex64, complex128 = np.complex64, np.complex128
# The narrow types of ml_dtypes (8-, 6- and 4-bit floats, 1-, 2- and 4-bit integers).  NumPy
# sees them as structured-void children of np.generic; ``issubdtype`` below places them under
# np.floating / np.signedinteger / np.unsignedinteger, as JAX does.  Sub-byte values take one
# byte each in NumPy and in the program text; the runtime packs them on the device.
float4_e2m1fn = ml_dtypes.float4_e2m1fn
float6_e2m3fn, float6_e3m2fn = ml_dtypes.float6_e2m3fn, ml_dtypes.float6_e3m2fn
float8_e3m4, float8_e4m3 = ml_dtypes.float8_e3m4, ml_dtypes.float8_e4m3
float8_e4m3b11fnuz = ml_dtypes.float8_e4m3b11fnuz
float8_e4m3fn, float8_e4m3fnuz = ml_dtypes.float8_e4m3fn, ml_dtypes.float8_e4m3fnuz
float8_e5m2, float8_e5m2fnuz = ml_dtypes.float8_e5m2, ml_dtypes.float8_e5m2fnuz
float8_e8m0fnu = ml_dtypes.float8_e8m0fnu
float8_e5m3fnu = ml_dtypes.float8_e5m3fnu
# 32-bit complex numbers: float16 (complex32) or bfloat16 (bcomplex32) real and imaginary parts.
complex32, bcomplex32 = ml_dtypes.complex32, ml_dtypes.bcomplex32
int1, int2, int4 = ml_dtypes.int1, ml_dtypes.int2, ml_dtypes.int4
uint1, uint2, uint4 = ml_dtypes.uint1, ml_dtypes.uint2, ml_dtypes.uint4

#: Dtype of the tangent (and cotangent) of integer and boolean values: zero bytes per element,
#: so such tangents cost nothing and cannot be mistaken for numbers.
float0 = np.dtype([("float0", np.void, 0)])



class extended(np.generic):
    """Scalar type above every *extended* dtype: dtypes that are not NumPy's, such as the
    ``key<fry>`` dtype of typed PRNG keys. ``issubdtype(key.dtype, extended)`` is True."""


class prng_key(extended):
    """Scalar type of typed PRNG key arrays: ``issubdtype(key.dtype, prng_key)`` is True."""


_d = np.dtype
_BOOL = _d(np.bool_)
_I8, _I16, _I32, _I64 = _d(np.int8), _d(np.int16), _d(np.int32), _d(np.int64)
_U8, _U16, _U32, _U64 = _d(np.uint8), _d(np.uint16), _d(np.uint32), _d(np.uint64)
_F16, _BF16, _F32, _F64 = _d(np.float16), _d(bfloat16), _d(np.float32), _d(np.float64)
_C64, _C128 = _d(np.complex64), _d(np.complex128)

_NARROW_FLOATS = tuple(_d(t) for t in (
    float8_e4m3fn, float8_e5m2, float8_e4m3b11fnuz, float8_e4m3fnuz, float8_e5m2fnuz,
    float8_e3m4, float8_e4m3, float8_e8m0fnu, float4_e2m1fn, float6_e2m3fn, float6_e3m2fn,
    float8_e5m3fnu))
_NARROW_COMPLEX = (_d(complex32), _d(bcomplex32))
_NARROW_SIGNED = tuple(_d(t) for t in (int1, int2, int4))
_NARROW_UNSIGNED = tuple(_d(t) for t in (uint1, uint2, uint4))
#: The narrow dtypes, in a fixed order (tests iterate over it).
_NARROW = _NARROW_FLOATS + _NARROW_SIGNED + _NARROW_UNSIGNED + _NARROW_COMPLEX
#: Narrow dtypes that promote and have avals like any other, but that jaxlib 0.10.2's runtime
#: cannot hold (JAX fails on them too): the reason, for the errors that creating one raises.
_NO_RUNTIME = {
    **{_d(t): "XLA's runtime has no 6-bit float arrays (jaxlib 0.10.2 rejects them: 'Invalid "
              "XLA PrimitiveType')" for t in (float6_e2m3fn, float6_e3m2fn)},
    **{_d(t): "StableHLO has no 1-bit integers apart from bool (i1), so XLA cannot tell them "
              "from bool and rejects the buffers" for t in (int1, uint1)},
    # Types, promotion and avals exist (as in JAX 0.12.1), but XLA has no element type for
    # them: JAX fails with 'Invalid element type' when it makes such an array.
    _d(float8_e5m3fnu): "XLA has no float8_e5m3fnu element type (jaxlib rejects it as an "
                        "'Invalid element type', as JAX does)",
    **{_d(t): f"XLA has no {_d(t).name} element type (jaxlib rejects it as an 'Invalid "
              "element type', as JAX does); use complex64" for t in (complex32, bcomplex32)},
}

_SIGNED = frozenset((_I8, _I16, _I32, _I64) + _NARROW_SIGNED)
_UNSIGNED = frozenset((_U8, _U16, _U32, _U64) + _NARROW_UNSIGNED)
_INTEGER = _SIGNED | _UNSIGNED
_FLOATS = frozenset((_F16, _BF16, _F32, _F64) + _NARROW_FLOATS)
_COMPLEX = frozenset((_C64, _C128) + _NARROW_COMPLEX)
_INEXACT = _FLOATS | _COMPLEX
#: The 15 standard dtypes a jaxel array can hold, in a fixed order (tests iterate over it).
_ALL = (_BOOL, _I8, _I16, _I32, _I64, _U8, _U16, _U32, _U64, _F16, _BF16, _F32, _F64, _C64, _C128)
#: Every dtype with an aval and a place in the promotion lattice.
_EVERY = _ALL + _NARROW
_ARRAY_DTYPES = frozenset(_EVERY)
# float0 is not a number, but arrays of it exist (integer tangents), so dtype() accepts it.
_SUPPORTED = _ARRAY_DTYPES | {float0}

#: Dtype of each Python scalar type before canonicalisation (JAX's ``python_scalar_dtypes``).
python_scalar_dtypes = {bool: _BOOL, int: _I64, float: _F64, complex: _C128}

_TO_32 = {_I64: _I32, _U64: _U32, _F64: _F32, _C128: _C64}

# ---- canonicalisation ------------------------------------------------------------------------
# One cache per value of the x64 flag, indexed by the flag itself (False -> 0, True -> 1), so the
# hot path is one attribute read, one index and one dict lookup, with no tuple to build.
_canon_caches: tuple[dict, dict] = ({}, {})


def _canonicalize_slow(dtype) -> np.dtype:
    x64 = config.jax_enable_x64
    dt = np.dtype(dtype)
    out = dt if x64 else _TO_32.get(dt, dt)
    try:
        _canon_caches[x64][dtype] = out
    except TypeError:  # unhashable dtype spec (a list of fields): fine, just not cached
        pass
    return out


def canonicalize_dtype(dtype) -> np.dtype:
    """Return the dtype jaxel actually uses for ``dtype``.

    With ``jax_enable_x64`` off, int64/uint64/float64/complex128 become int32/uint32/float32/
    complex64; everything else (and everything with x64 on) is returned as an ``np.dtype``.
    Accepts anything ``np.dtype`` accepts, including Python types (``float`` -> float32 when
    x64 is off).
    """
    try:
        return _canon_caches[config.jax_enable_x64][dtype]
    except (KeyError, TypeError):
        return _canonicalize_slow(dtype)


def default_float_dtype() -> np.dtype:
    """Dtype of a Python float: float64 with x64, else float32."""
    return _F64 if config.jax_enable_x64 else _F32


def default_int_dtype() -> np.dtype:
    """Dtype of a Python int: int64 with x64, else int32."""
    return _I64 if config.jax_enable_x64 else _I32


def default_uint_dtype() -> np.dtype:
    """Default unsigned dtype: uint64 with x64, else uint32."""
    return _U64 if config.jax_enable_x64 else _U32


def default_complex_dtype() -> np.dtype:
    """Dtype of a Python complex: complex128 with x64, else complex64."""
    return _C128 if config.jax_enable_x64 else _C64


# ---- predicates ------------------------------------------------------------------------------
# Callers nearly always pass np.dtype objects; the isinstance test lets those skip np.dtype().
def _as_np_dtype(dtype) -> np.dtype:
    return dtype if isinstance(dtype, np.dtype) else np.dtype(dtype)


def is_float(dtype) -> bool:
    """True for real floating dtypes: float16, bfloat16, float32, float64 and the narrow
    floats of ml_dtypes (float8_*, float6_*, float4_e2m1fn)."""
    return _as_np_dtype(dtype) in _FLOATS


def is_complex(dtype) -> bool:
    """True for complex64, complex128 and the 32-bit complex32/bcomplex32."""
    return _as_np_dtype(dtype) in _COMPLEX


def is_inexact(dtype) -> bool:
    """True for floating or complex dtypes."""
    return _as_np_dtype(dtype) in _INEXACT


def is_integer(dtype) -> bool:
    """True for signed or unsigned integer dtypes, sub-byte ones included (bool is not an
    integer here)."""
    return _as_np_dtype(dtype) in _INTEGER


def is_signed(dtype) -> bool:
    """True for int8, int16, int32, int64 and the sub-byte int1, int2, int4."""
    return _as_np_dtype(dtype) in _SIGNED


def is_unsigned(dtype) -> bool:
    """True for uint8, uint16, uint32, uint64 and the sub-byte uint1, uint2, uint4."""
    return _as_np_dtype(dtype) in _UNSIGNED


def is_bool(dtype) -> bool:
    """True for the bool dtype."""
    return _as_np_dtype(dtype) == _BOOL


# ---- names -----------------------------------------------------------------------------------
_SHORT = {_BOOL: "bool", _BF16: "bf16", float0: "float0", _C64: "c64", _C128: "c128"}
_MLIR = {_BOOL: "i1", _BF16: "bf16", _C64: "complex<f32>", _C128: "complex<f64>"}
for _bits in (8, 16, 32, 64):
    _SHORT[_d(f"int{_bits}")] = f"i{_bits}"
    _SHORT[_d(f"uint{_bits}")] = f"u{_bits}"
    _MLIR[_d(f"int{_bits}")] = f"i{_bits}"
    _MLIR[_d(f"uint{_bits}")] = f"ui{_bits}"  # StableHLO spells unsigned types with a 'u'
for _bits in (16, 32, 64):
    _SHORT[_d(f"float{_bits}")] = f"f{_bits}"
    _MLIR[_d(f"float{_bits}")] = f"f{_bits}"
del _bits
for _dt in _NARROW_FLOATS:  # float8_e4m3fn: f8_e4m3fn in jaxprs, f8E4M3FN in MLIR
    _fmt = _dt.name[len("float"):].split("_", 1)
    _SHORT[_dt] = f"f{_fmt[0]}_{_fmt[1]}"
    _MLIR[_dt] = f"f{_fmt[0]}{_fmt[1].upper()}"
for _dt in _NARROW_SIGNED:  # int4: i4 in jaxprs and in MLIR
    _SHORT[_dt] = _MLIR[_dt] = f"i{_dt.name[len('int'):]}"
for _dt in _NARROW_UNSIGNED:  # uint4: u4 in jaxprs, ui4 in MLIR
    _SHORT[_dt] = f"u{_dt.name[len('uint'):]}"
    _MLIR[_dt] = f"ui{_dt.name[len('uint'):]}"
# 1-bit integers have no MLIR spelling XLA runs: i1 is bool.  (6-bit floats keep theirs: XLA
# compiles conversions to and from them, though its CPU backend has no arithmetic on them.)
del _MLIR[_d(int1)], _MLIR[_d(uint1)]
# The 32-bit complex types print as JAX prints them; they have no MLIR spelling XLA runs.
_SHORT[_d(complex32)], _SHORT[_d(bcomplex32)] = "c32", "bc32"
del _dt, _fmt


def _name_lookup(table: dict, dtype, what: str) -> str:
    try:
        return table[dtype]
    except (KeyError, TypeError):
        pass
    dt = np.dtype(dtype)
    if dt not in table:
        why = _NO_RUNTIME.get(dt)
        raise TypeError(f"jaxel has no {what} for dtype {dt}" + (f": {why}." if why else "."))
    table[dtype] = table[dt]  # remember the spelling the caller used (np.float32, 'f4', ...)
    return table[dt]


def short_name(dtype) -> str:
    """The dtype as jaxprs print it: ``bool``, ``i8``..``i64``, ``u8``..``u64``, ``f16``,
    ``bf16``, ``f32``, ``f64``, ``c64``, ``c128``, ``float0``."""
    return _name_lookup(_SHORT, dtype, "short name")


def to_mlir_type(dtype) -> str:
    """The MLIR element type of ``dtype`` in StableHLO text: ``i1``, ``i32``, ``ui8``, ``f16``,
    ``bf16``, ``f32``, ``complex<f32>``..."""
    return _name_lookup(_MLIR, dtype, "MLIR element type")


# ---- dtype of a value ------------------------------------------------------------------------
_SUPPORTED_TEXT = ("bool, int8-int64, uint8-uint64, float16, bfloat16, float32, float64, "
                   "complex64, complex128 and the narrow types float8_*, float4_e2m1fn, "
                   "int2, int4, uint2 and uint4")


def _unsupported(dt: np.dtype, x) -> TypeError:
    what = "strings" if dt.kind in "SU" else "Python objects" if dt.kind == "O" else \
        f"values of dtype {dt}"
    return TypeError(f"jaxel arrays cannot hold {what}: got dtype {dt} for argument "
                     f"{x!r:.80}. Supported dtypes are {_SUPPORTED_TEXT}.")


def _native(dt: np.dtype) -> np.dtype:
    # Big-endian NumPy data has the same meaning; jaxel always works in native byte order.
    return dt if dt.isnative else dt.newbyteorder("=")


def dtype(x, *, canonicalize: bool = False) -> np.dtype:
    """Return the dtype of a value or dtype-like.

    * Python scalars: ``bool`` -> bool, ``int`` -> int64, ``float`` -> float64,
      ``complex`` -> complex128 (and the same for the Python types themselves);
    * NumPy arrays and scalars, jaxel arrays and tracers, anything with a ``.dtype``: that dtype;
    * dtype-likes (``'float32'``, ``np.int8``, ``jnp.bfloat16``, ``np.dtype``): the dtype.

    With ``canonicalize=True`` the result is canonicalised (float64 -> float32 without x64).
    Raises TypeError for dtypes a jaxel array cannot hold (strings, objects, datetimes...).
    """
    t = type(x)
    dt = python_scalar_dtypes.get(t)
    if dt is None:
        if isinstance(x, type):
            # A Python type means its scalar's dtype; np.float32, bfloat16... are dtype-likes.
            dt = python_scalar_dtypes.get(x)
            if dt is None:
                dt = np.dtype(x)
        elif isinstance(x, (np.dtype, str)):
            dt = np.dtype(x)
        elif x is None:
            raise ValueError("Invalid argument to dtype: None.")
        else:
            dt = getattr(x, "dtype", None)
            if dt is None:
                if isinstance(x, (bool, int, float, complex)):  # subclasses, e.g. an IntEnum
                    dt = next(v for k, v in python_scalar_dtypes.items() if isinstance(x, k))
                else:
                    raise TypeError(f"Cannot determine the dtype of {x!r:.80} (a "
                                    f"{t.__name__}); pass an array, a scalar or a dtype.")
            dt = np.dtype(dt)
        if dt not in _SUPPORTED:
            native = _native(dt)
            if native not in _SUPPORTED:
                raise _unsupported(dt, x)
            dt = native
    return canonicalize_dtype(dt) if canonicalize else dt


def is_weakly_typed(x) -> bool:
    """True when ``x`` is weakly typed: a Python int, float or complex (not bool, which is a
    strong type in JAX), or an array/tracer whose ``weak_type`` is set."""
    t = type(x)
    if t is int or t is float or t is complex:
        return True
    if t is bool:
        return False
    return bool(getattr(x, "weak_type", False))


def _user_dtype_to_np(dtype):
    """The np.dtype a user meant, or None when they named a Python type (which means 'the
    default dtype of that kind' and therefore deserves no 64-bit warning)."""
    if isinstance(dtype, type) and dtype in python_scalar_dtypes:
        return None
    try:
        return np.dtype(dtype)
    except TypeError as e:
        raise TypeError(f"{dtype!r} is not a valid dtype: {e}") from None


def check_user_dtype_supported(dtype, fun_name: str | None = None) -> None:
    """Check a dtype the user asked for explicitly (``jnp.zeros(3, dtype=...)``).

    Raises TypeError for dtypes jaxel arrays cannot hold (object, str, datetime, long double,
    void...).  Warns with a ``UserWarning`` when a 64-bit dtype is requested while
    ``jax_enable_x64`` is off, since it will silently become its 32-bit kin.  ``None`` and the
    Python types ``bool``/``int``/``float``/``complex`` are always accepted without a warning.
    """
    if dtype is None:
        return
    dt = _user_dtype_to_np(dtype)
    if dt is None:
        return
    where = f" in {fun_name}" if fun_name else ""
    if dt not in _SUPPORTED and _native(dt) not in _SUPPORTED:
        raise TypeError(f"jaxel does not support dtype {dtype!r}{where}: arrays can hold only "
                        f"{_SUPPORTED_TEXT}.")
    dt = _native(dt)
    if dt in _NO_RUNTIME:
        raise TypeError(f"jaxel cannot make arrays of dtype {dt}{where}: {_NO_RUNTIME[dt]}.")
    if not config.jax_enable_x64 and dt in _TO_32:
        warnings.warn(
            f"Explicitly requested dtype {dt.name}{where} is not available because 64-bit "
            f"types are disabled; it will be narrowed to {_TO_32[dt].name}. To use 64-bit "
            "types, set the jax_enable_x64 option (jaxel.config.update('jax_enable_x64', "
            "True)) or the JAX_ENABLE_X64=1 environment variable.",
            UserWarning, stacklevel=3)


def check_and_canonicalize_user_dtype(dtype, fun_name: str | None = None) -> np.dtype:
    """:func:`check_user_dtype_supported`, then the canonical dtype to use (``float`` -> the
    default float dtype, ``'float64'`` -> float32 without x64).  ``dtype`` must not be None."""
    if dtype is None:
        raise ValueError("dtype must be specified.")
    check_user_dtype_supported(dtype, fun_name)
    if isinstance(dtype, type) and dtype in python_scalar_dtypes:
        return canonicalize_dtype(python_scalar_dtypes[dtype])
    return canonicalize_dtype(_native(np.dtype(dtype)))


# ---- the promotion lattice -------------------------------------------------------------------
# Nodes are the 15 dtypes plus the weak kinds, spelled as strings so they can never be confused
# with a dtype.  Edges point from a type to the types just above it (compat.md).
_WEAK_INT, _WEAK_FLOAT, _WEAK_COMPLEX = "i*", "f*", "c*"

_EDGES_X64 = {
    _BOOL: [_WEAK_INT],
    _WEAK_INT: [_U8, _I8],
    _U8: [_U16, _I16],
    _U16: [_U32, _I32],
    _U32: [_U64, _I64],
    _U64: [_WEAK_FLOAT],
    _I8: [_I16],
    _I16: [_I32],
    _I32: [_I64],
    _I64: [_WEAK_FLOAT],
    _WEAK_FLOAT: [_WEAK_COMPLEX, _F16, _BF16],
    _F16: [_F32],
    _BF16: [_F32],
    _F32: [_F64, _C64],
    _F64: [_C128],
    _WEAK_COMPLEX: [_C64],
    _C64: [_C128],
    _C128: [],
}
# Narrow types sit just above their weak kind and below nothing: Python scalars (and bool)
# adopt them, but they never meet another type implicitly (JAX 0.10.2: float8 + float32 and
# int4 + int8 are errors, while int8 + float8 is float8, since integers lie below f*).
_EDGES_X64[_WEAK_INT] = _EDGES_X64[_WEAK_INT] + list(_NARROW_SIGNED + _NARROW_UNSIGNED)
_EDGES_X64[_WEAK_FLOAT] = _EDGES_X64[_WEAK_FLOAT] + list(_NARROW_FLOATS)
_EDGES_X64[_WEAK_COMPLEX] = _EDGES_X64[_WEAK_COMPLEX] + list(_NARROW_COMPLEX)
_EDGES_X64.update({dt: [] for dt in _NARROW})
# Without x64 there is no int64 to hold every uint32, and JAX then promotes uint32 with a
# signed type to int32 (jnp.promote_types(uint32, int32) is int32 when x64 is off, measured on
# JAX 0.10.2).  An extra edge u32 -> i32 says exactly that: pairs whose join was int64 with no
# 64-bit input (u32 with i8/i16/i32) now join at int32; all other pairs are unchanged.
_EDGES_X32 = dict(_EDGES_X64)
_EDGES_X32[_U32] = [_U64, _I32, _I64]


def _upper_bounds(edges) -> dict:
    """Map each node to the set of nodes at or above it (reflexive-transitive closure)."""
    bounds: dict = {}

    def visit(node):
        if node not in bounds:
            above = {node}
            for succ in edges[node]:
                above |= visit(succ)
            bounds[node] = frozenset(above)
        return bounds[node]

    for node in edges:
        visit(node)
    return bounds


def _lub_table(edges) -> dict:
    """Least upper bound of every ordered pair of nodes (None where they have no common bound:
    narrow types do not promote implicitly)."""
    bounds = _upper_bounds(edges)
    table = {}
    for a in edges:
        for b in edges:
            common = bounds[a] & bounds[b]
            if not common:
                table[a, b] = None
                continue
            # The least common bound is the one every other common bound lies above.
            least = [c for c in common if common <= bounds[c]]
            if len(least) != 1:  # cannot happen for a lattice; guards edits to the edges
                raise AssertionError(f"promotion lattice has no unique join of {a} and {b}")
            table[a, b] = least[0]
    return table


# Indexed by the x64 flag, like the canonicalisation caches.
_LUB_STANDARD = (_lub_table(_EDGES_X32), _lub_table(_EDGES_X64))
# jax_numpy_dtype_promotion='strict': no two distinct dtypes meet; Python scalars (the weak
# kinds) still adopt any dtype of their kind or above (int -> any integer, float or complex).
_EDGES_STRICT = {node: [] for node in _EDGES_X64}
_EDGES_STRICT[_WEAK_INT] = [_WEAK_FLOAT] + sorted(_INTEGER, key=str)
_EDGES_STRICT[_WEAK_FLOAT] = [_WEAK_COMPLEX] + sorted(_FLOATS, key=str)
_EDGES_STRICT[_WEAK_COMPLEX] = sorted(_COMPLEX, key=str)
_LUB_STRICT = (_lub_table(_EDGES_STRICT),) * 2
_LUB = _LUB_STANDARD
_strict = False  # swapped with _LUB by the option's hook, so the hot paths never test it
del _d

# What promote_types answers when the join is a weak kind: the widest type of that kind.
_WEAK_DEFAULT_X64 = {_WEAK_INT: _I64, _WEAK_FLOAT: _F64, _WEAK_COMPLEX: _C128}

# Weak arrays are described in result_type's cache keys by a token (a prebuilt tuple, so making
# a key allocates nothing): their node in the lattice is their kind (a weak float16 promotes
# exactly like a Python float; a weak bool is just bool), but when *every* input is weak JAX
# joins their stored dtypes instead, so the token keeps the dtype too.
_WEAK_TOKEN = {dt: ("weak", dt) for dt in _EVERY}
_TOKEN_OF: tuple[dict, dict] = ({dt: dt for dt in _EVERY}, _WEAK_TOKEN)
_KIND_NODE = {dt: (_BOOL if dt == _BOOL else _WEAK_INT if dt in _INTEGER
                   else _WEAK_FLOAT if dt in _FLOATS else _WEAK_COMPLEX) for dt in _EVERY}
# Python scalars (as values) and the Python types used as dtype-likes promote alike: int, float
# and complex are weak, bool is the strong bool.
_PY_NODE = {bool: _BOOL, int: _WEAK_INT, float: _WEAK_FLOAT, complex: _WEAK_COMPLEX}


class TypePromotionError(ValueError):
    """Two dtypes have no implicit promotion (``float8_e4m3fn`` with ``float32``, ``int4`` with
    ``int8``): convert one explicitly with ``x.astype(...)``.  A ``ValueError``, as in JAX."""


def _no_promotion(dts) -> TypePromotionError:
    names = tuple(str(d) if isinstance(d, np.dtype) else f"weak {d}" for d in dts)
    if _strict:
        return TypePromotionError(
            f"Input dtypes {names} have no available implicit dtype promotion path when "
            "jax_numpy_dtype_promotion=strict. Try explicitly casting inputs to the desired "
            "output type, or set jax_numpy_dtype_promotion=standard.")
    narrow = [d for d in dts if isinstance(d, np.dtype) and d in _NARROW]
    why = ""
    if any(d in _NARROW_COMPLEX for d in narrow) and not any(
            d in _NARROW_FLOATS + _NARROW_SIGNED + _NARROW_UNSIGNED for d in narrow):
        why = (" To avoid unintended promotion, 32-bit complex floats do not promote "
               "implicitly.")
    elif any(d in _NARROW_FLOATS for d in narrow):
        why = (" To avoid unintended promotion, narrow floats (8 bits and fewer) do not "
               "promote implicitly.")
    elif narrow:
        why = " To avoid unintended promotion, sub-byte integers do not promote implicitly."
    return TypePromotionError(
        f"Input dtypes {names} have no implicit promotion path.{why} Convert explicitly, "
        f"e.g. x.astype('float32').")


def _promotion_error(dt) -> ValueError:
    return ValueError(f"dtype {dt} cannot take part in type promotion: jaxel promotes only "
                      f"{_SUPPORTED_TEXT}.")


def _promote_node(x):
    """Lattice node of a promote_types argument (a dtype-like or a Python type)."""
    if isinstance(x, type):
        node = _PY_NODE.get(x)
        if node is not None:
            return node
    dt = np.dtype(x)  # np.dtype(None) is float64, as in NumPy and JAX
    if dt not in _ARRAY_DTYPES:
        native = _native(dt)
        if native not in _ARRAY_DTYPES:
            raise _promotion_error(dt)
        dt = native
    return dt


_promote_caches: tuple[dict, dict] = ({}, {})


def promote_types(a, b) -> np.dtype:
    """The dtype two dtypes promote to under JAX's lattice, as ``jnp.promote_types``.

    Unlike NumPy, integers never promote to floats wider than needed (``u8, i8 -> i16``;
    ``i32, f16 -> f16``) and ``bf16, f16 -> f32``.  The result is not canonicalised
    (``promote_types(int64, int8)`` is int64 even with x64 off).  The Python types ``int``,
    ``float`` and ``complex`` count as weak types: ``promote_types(float, int8)`` is float64, and
    ``promote_types(int, int8)`` is int8.
    """
    x64 = config.jax_enable_x64
    cache = _promote_caches[x64]
    try:
        return cache[a, b]
    except (KeyError, TypeError):
        pass
    na, nb = _promote_node(a), _promote_node(b)
    out = _LUB[x64][na, nb]
    if out is None:
        raise _no_promotion((na, nb))
    if isinstance(out, str):
        # A weak answer (both weak, or an unsigned 64-bit meeting a signed type): the widest
        # type of its kind, as JAX returns whatever the x64 setting.
        out = _WEAK_DEFAULT_X64[out]
    try:
        cache[a, b] = out
    except TypeError:
        pass
    return out


def _arg_node(x):
    """Cache-key token of one ``result_type`` argument: a weak kind string for Python scalars,
    a ``("weak", dtype)`` token for weak arrays, else the (strong) dtype.  Dtypes are not
    canonicalised here, so a token serves both x64 settings (the caches are per setting)."""
    t = type(x)
    node = _PY_NODE.get(t)
    if node is not None:
        return node
    if t is np.ndarray:
        return x.dtype  # NumPy values are always strongly typed
    if t is type or t is str or t in _DTYPE_CLASSES:  # (isinstance(x, np.dtype) is slow)
        # Dtype-likes: memoised, since np.dtype() on a scalar type or a name is slow.  Tested
        # before the aval lookup because a failing getattr is slow too.
        node = _like_tokens.get(x)
        if node is None:
            node = _PY_NODE.get(x) if t is type else None
            if node is None:
                node = dtype(x)
            _like_tokens[x] = node
        return node
    aval = getattr(x, "aval", None)  # jaxel arrays, tracers and literals
    if aval is not None:
        node = _TOKEN_OF[aval.weak_type].get(aval.dtype)
        return node if node is not None else aval.dtype
    if isinstance(x, np.generic):
        return x.dtype
    if isinstance(x, np.dtype):
        return x
    if x is None:
        return _F64  # np.dtype(None), as jnp.result_type(None) does
    if not isinstance(x, type) and hasattr(x, "dtype"):
        if _extended_type(x.dtype) is not None:
            raise TypeError(f"Values of dtype {x.dtype} (typed PRNG keys) take no part in "
                            "numeric operations; use jaxel.random.key_data(keys) for their "
                            "uint32 data.")
        dt = np.dtype(x.dtype)
        node = _TOKEN_OF[bool(getattr(x, "weak_type", False))].get(dt)
        if node is not None:
            return node
    return dtype(x)  # other dtype-likes; raises the clear TypeError for objects, lists...


_result_caches: tuple[dict, dict] = ({}, {})
_RESULT_CACHE_LIMIT = 8192
_like_tokens: dict = {}
_DTYPE_CLASSES = frozenset(type(dt) for dt in _EVERY)


def _check_promotable(dt, n_args: int):
    """The native-order dtype ``dt`` if it can be promoted; float0 (alone) is returned as is."""
    if dt in _ARRAY_DTYPES:
        return dt
    if dt == float0:
        if n_args == 1:  # a lone float0 is its own result type
            return float0
        raise _promotion_error(dt)
    native = _native(dt)
    if native not in _ARRAY_DTYPES:
        raise _unsupported(dt, dt)
    return native


def _result_slow(tokens: tuple, x64: bool):
    defaults = {_WEAK_INT: default_int_dtype(), _WEAK_FLOAT: default_float_dtype(),
                _WEAK_COMPLEX: default_complex_dtype()}

    def canon(dt):
        # Without x64, explicit 64-bit inputs are narrowed *before* promotion (as JAX does), so
        # result_type(uint64, int64) is int32 there, not a float.
        return dt if x64 else _TO_32.get(dt, dt)

    # Each token as (its node in the lattice, its own dtype, whether it is weak).
    nodes, own, weak = [], [], []
    for tok in tokens:
        if isinstance(tok, str):  # a Python scalar: its dtype is the default of its kind
            nodes.append(tok), own.append(defaults[tok]), weak.append(True)
        elif isinstance(tok, tuple):  # a weak array
            dt = canon(tok[1])
            nodes.append(_KIND_NODE[dt]), own.append(dt), weak.append(True)
        else:
            dt = _check_promotable(tok, len(tokens))
            if dt is float0:
                return float0, False
            dt = canon(dt)
            nodes.append(dt), own.append(dt), weak.append(False)
    table = _LUB[x64]
    if all(weak) and _strict:
        # Strict mode joins weak inputs by kind: int with float is a weak float.
        acc = nodes[0]
        for n in nodes[1:]:
            acc = table[acc, n]
            if acc is None:
                raise _no_promotion(own)
        return (_BOOL, False) if acc == _BOOL else (defaults[acc], True)
    if all(weak):
        # Only weak inputs: join their own dtypes as if they were strong, then give the answer
        # the default dtype of the join's kind, weakly typed.  So a weak uint8 stays unsigned
        # (-> weak uint32), a weak bool with a weak int8 gives a weak int32, and weak bools
        # alone stay a (strong) bool.
        acc = own[0]
        for dt in own[1:]:
            acc = table[acc, dt]
            if acc is None:
                raise _no_promotion(own)
        if acc == _BOOL:
            return _BOOL, False
        if isinstance(acc, str):  # e.g. weak uint64 with weak int64 meet at f*
            return defaults[acc], True
        if acc in _UNSIGNED:
            return default_uint_dtype(), True
        return defaults[_KIND_NODE[acc]], True
    acc = nodes[0]
    for n in nodes[1:]:
        acc = table[acc, n]
        if acc is None:
            raise _no_promotion(own)
    if isinstance(acc, str):
        # The join is a weak kind (weak inputs met only bool, or u64 met a signed type): the
        # result is weak, with the default dtype of that kind.
        return defaults[acc], True
    return canon(acc), False


def result_type(*args, return_weak_type_flag: bool = False):
    """The dtype of an operation on ``args`` under JAX's promotion rules, canonicalised.

    ``args`` may be arrays (jaxel or NumPy), tracers, NumPy scalars, Python scalars, dtypes or
    dtype-likes.  Python ``int``/``float``/``complex`` scalars and types, and arrays whose
    ``weak_type`` is set, are weak: they defer to the strong types they meet
    (``result_type(bfloat16, 1.0)`` is bfloat16).  When every input is weak the result is weak
    too and has the default dtype of its kind (``result_type(1, 2.0)`` is a weak float32, or
    float64 with x64); the kind is that of the inputs' own dtypes joined, so weak unsigned
    arrays alone give a weak uint32.  With ``return_weak_type_flag=True``, returns
    ``(dtype, weak)``.
    """
    if not args:
        raise ValueError("at least one array or dtype is required")
    x64 = config.jax_enable_x64
    cache = _result_caches[x64]
    key = tuple(map(_arg_node, args))
    out = cache.get(key)
    if out is None:
        out = _result_slow(key, x64)
        if len(cache) >= _RESULT_CACHE_LIMIT:  # keys are finite in practice; stay bounded anyway
            cache.clear()
        cache[key] = out
    return out if return_weak_type_flag else out[0]


def _set_promotion_mode(mode: str) -> None:
    """Hook of ``jax_numpy_dtype_promotion``: switch lattices and forget cached answers."""
    global _LUB, _strict
    _strict = mode == "strict"
    _LUB = _LUB_STRICT if _strict else _LUB_STANDARD
    for caches in (_result_caches, _promote_caches):
        for c in caches:
            c.clear()


config.add_hook("jax_numpy_dtype_promotion", _set_promotion_mode)
if config.jax_numpy_dtype_promotion != "standard":
    _set_promotion_mode(config.jax_numpy_dtype_promotion)


# ---- NumPy-style queries ----------------------------------------------------------------------
# NumPy places the ml_dtypes types (bfloat16, float8_*, int4...) directly under np.generic; JAX
# and jaxel place them under the abstract class of their kind.
_ML_PARENT = {**{dt: np.floating for dt in (_BF16,) + _NARROW_FLOATS},
              **{dt: np.signedinteger for dt in _NARROW_SIGNED},
              **{dt: np.unsignedinteger for dt in _NARROW_UNSIGNED},
              **{dt: np.complexfloating for dt in _NARROW_COMPLEX}}


def _ml_dtype(x):
    """The ml_dtypes dtype ``x`` names (a scalar type, dtype or name), else None."""
    if isinstance(x, type) and isinstance(getattr(x, "dtype", None), np.dtype):
        x = x.dtype  # a jaxel.numpy scalar type (jnp.bfloat16)
    if isinstance(x, (np.dtype, str)) or (isinstance(x, type) and x.__module__ == "ml_dtypes"):
        try:
            dt = np.dtype(x)
        except TypeError:
            return None
        return dt if dt in _ML_PARENT else None
    return None


_issubdtype_cache: dict = {}


def issubdtype(arg1, arg2) -> bool:
    """``np.issubdtype`` that knows where the ml_dtypes types belong.

    NumPy sees ``bfloat16``, the ``float8_*``/``float6_*``/``float4_e2m1fn`` floats and the
    sub-byte ``int1``/``int2``/``int4``/``uint*`` integers as direct children of ``np.generic``;
    here the floats count as children of ``np.floating`` (so also of ``np.inexact``,
    ``np.number`` and ``np.generic``) and the integers as children of ``np.signedinteger`` or
    ``np.unsignedinteger``.  A concrete type contains only itself:
    ``issubdtype(float32, bfloat16)`` and ``issubdtype(bfloat16, float16)`` are False.
    """
    # Library code asks the same few questions over and over, and np.issubdtype is slow.
    try:
        return _issubdtype_cache[arg1, arg2]
    except (KeyError, TypeError):
        pass
    out = _issubdtype_uncached(arg1, arg2)
    try:
        if len(_issubdtype_cache) < 4096:
            _issubdtype_cache[arg1, arg2] = out
    except TypeError:
        pass
    return out


def _extended_type(x):
    """The scalar type of an extended dtype (``key<fry>`` -> ``prng_key``), else None."""
    t = getattr(x, "type", None) if not isinstance(x, (np.dtype, type, str)) else None
    return t if isinstance(t, type) and issubclass(t, extended) else None


def _issubdtype_uncached(arg1, arg2) -> bool:
    ext1 = arg1 if isinstance(arg1, type) and issubclass(arg1, extended) else _extended_type(arg1)
    ext2 = _extended_type(arg2)
    if ext1 is not None or ext2 is not None:
        # Extended dtypes are not NumPy dtypes: compare their scalar types as classes.
        if ext1 is None or not isinstance(arg2, type) and ext2 is None:
            return False
        return issubclass(ext1, ext2 if ext2 is not None else arg2)
    ml = _ml_dtype(arg1)
    if ml is not None:
        if isinstance(arg2, type) and issubclass(arg2, np.generic) and _ml_dtype(arg2) is None:
            # An abstract class above the type's parent contains it; concrete NumPy types
            # (float32...) do not.
            return issubclass(_ML_PARENT[ml], arg2)
        try:
            return np.dtype(arg2) == ml
        except TypeError:
            return False
    return bool(np.issubdtype(arg1, arg2))


_KIND_TESTS = {
    "bool": lambda dt: dt == _BOOL,
    "signed integer": lambda dt: dt in _SIGNED,
    "unsigned integer": lambda dt: dt in _UNSIGNED,
    "integral": lambda dt: dt in _INTEGER,
    "real floating": lambda dt: dt in _FLOATS,
    "complex floating": lambda dt: dt in _COMPLEX,
    "numeric": lambda dt: dt in _INTEGER or dt in _INEXACT,
}


def _isdtype_kind(dt: np.dtype, kind) -> bool:
    if isinstance(kind, str):
        test = _KIND_TESTS.get(kind)
        if test is None:
            raise ValueError(f"Unknown dtype kind {kind!r}: expected one of "
                             f"{list(_KIND_TESTS)}, or a dtype.")
        return test(dt)
    if isinstance(kind, type) and kind in python_scalar_dtypes:
        return dt == python_scalar_dtypes[kind]
    try:
        return dt == np.dtype(kind)
    except TypeError:
        # np.floating & co. are not dtypes: the Array API asks for the kind strings instead.
        raise TypeError(f"isdtype: kind must be a dtype, one of the strings {list(_KIND_TESTS)},"
                        f" or a tuple of these; got {kind!r}.") from None


def isdtype(dtype, kind) -> bool:
    """Array API dtype test: does ``dtype`` belong to ``kind``?

    ``kind`` is a dtype (exact match), one of ``'bool'``, ``'signed integer'``,
    ``'unsigned integer'``, ``'integral'``, ``'real floating'`` (bfloat16 and float16 included),
    ``'complex floating'``, ``'numeric'`` (every integer, floating and complex dtype, not bool),
    or a tuple of these (any match).
    """
    dt = python_scalar_dtypes.get(dtype) if isinstance(dtype, type) else None
    if dt is None:
        dt = _native(np.dtype(dtype))
    if isinstance(kind, tuple):
        return any(_isdtype_kind(dt, k) for k in kind)
    return _isdtype_kind(dt, kind)


def can_cast(from_, to, casting: str = "safe") -> bool:
    """NumPy's ``can_cast`` on dtypes: can ``from_`` be cast to ``to`` under ``casting``
    (``'no'``, ``'equiv'``, ``'safe'``, ``'same_kind'``, ``'unsafe'``)?

    ``from_`` may be a dtype-like or an array (its dtype is used; its values never matter).
    bfloat16 follows ml_dtypes' casting table (bfloat16 -> float32 is safe, float16 <->
    bfloat16 is not).  Python scalars are rejected, as NumPy 2 does, because the answer would
    depend on the value.
    """
    if type(from_) in python_scalar_dtypes:
        raise TypeError("can_cast() does not accept Python int, float, complex or bool values: "
                        "the answer would depend on the value. Pass a dtype or an array.")
    if not isinstance(from_, (np.dtype, str, type)) and hasattr(from_, "dtype"):
        from_ = from_.dtype
    return bool(np.can_cast(from_, to, casting=casting))


def _info_dtype(x) -> np.dtype:
    if isinstance(x, type) and x in python_scalar_dtypes:
        return python_scalar_dtypes[x]
    if not isinstance(x, (np.dtype, str, type)) and hasattr(x, "dtype"):
        return np.dtype(x.dtype)  # an array or a NumPy scalar
    return np.dtype(x)


_NARROW_COMPLEX_PART = {np.dtype(complex32): np.dtype(np.float16),
                        np.dtype(bcomplex32): np.dtype(bfloat16)}


def itemsize_bits(dtype) -> int:
    """Bits per element of ``dtype``: 32 for float32, 4 for int4, 8 for bool (its storage).

    Unlike ``dtype.itemsize * 8`` this is right for the sub-byte types. Raises ``ValueError``
    for None and for dtypes that are not numbers (float0, key dtypes, strings).
    """
    if dtype is None:
        raise ValueError("dtype cannot be None.")
    if _extended_type(dtype) is not None:
        raise ValueError(f"unexpected input: dtype={dtype}: extended dtypes have no bit width.")
    dt = python_scalar_dtypes.get(dtype) if isinstance(dtype, type) else None
    if dt is None:
        dt = np.dtype(dtype)
    if dt == _BOOL:
        return 8
    if dt in _INTEGER:
        return int(ml_dtypes.iinfo(dt).bits)
    if dt in _FLOATS:
        return int(finfo(dt).bits)
    if dt in _COMPLEX:
        return 2 * int(finfo(dt).bits)
    raise ValueError(f"unexpected input: dtype={dt!r}: itemsize_bits takes a boolean, integer, "
                     "floating or complex dtype.")


_SCALAR_TYPE_OF_KIND = {"b": bool, "i": int, "u": int, "f": float, "c": complex}


def scalar_type_of(x) -> type:
    """The Python scalar type (``bool``, ``int``, ``float`` or ``complex``) matching the dtype
    of the value ``x``: ``float`` for a float32 or bfloat16 array, ``int`` for uint8..."""
    dt = dtype(x)
    if dt in _FLOATS:
        return float
    if dt in _INTEGER:
        return int
    kind = _SCALAR_TYPE_OF_KIND.get(dt.kind)
    if kind is None:
        raise TypeError(f"Invalid scalar value {x!r}: its dtype {dt} is not a boolean, "
                        "integer, floating or complex type.")
    return kind


def finfo(dtype):
    """Machine limits of a floating (or complex: of its component) dtype.

    NumPy's ``finfo``, except for bfloat16 and the narrow floats (``float8_e4m3fn``...), which
    NumPy does not know and ``ml_dtypes.finfo`` describes.  Accepts dtype-likes, Python
    ``float``/``complex`` and arrays.
    """
    dt = _info_dtype(dtype)
    dt = _NARROW_COMPLEX_PART.get(dt, dt)  # complex32: its float16 parts
    if dt == _BF16 or dt in _NARROW_FLOATS:
        return ml_dtypes.finfo(dt)
    return np.finfo(dt)


def iinfo(dtype):
    """Machine limits (``min``, ``max``, ``bits``) of an integer dtype (sub-byte ones too:
    ``iinfo(int4)`` is -8..7)."""
    return ml_dtypes.iinfo(_info_dtype(dtype))


# Pre-fill the canonicalisation caches with the spellings the hot paths use most, so the first
# call of each does not pay for np.dtype().
for _x64 in (False, True):
    for _dt in _EVERY:
        _out = _dt if _x64 else _TO_32.get(_dt, _dt)
        _canon_caches[_x64][_dt] = _out
        _canon_caches[_x64][_dt.type] = _out
        _canon_caches[_x64][_dt.name] = _out
del _x64, _dt, _out
