"""Dtypes, weak types and JAX's type-promotion lattice.

All dtypes are NumPy ``np.dtype`` objects (bfloat16 from ``ml_dtypes``). With ``jax_enable_x64``
off (the default), 64-bit types are *canonicalised* to their 32-bit kin. Python scalars are
*weakly typed*: they adopt the dtype of the array they meet (``bf16 + 1.0 -> bf16``).

Promotion follows the lattice in ../shared/design/compat.md; least upper bounds are computed once
from the lattice edges at import, so ``result_type`` is a couple of dict lookups.
"""
from __future__ import annotations

import warnings

import ml_dtypes
import numpy as np

from jaxel.config import config

# ---- dtype objects --------------------------------------------------------------------------
bool_ = np.bool_
int8, int16, int32, int64 = np.int8, np.int16, np.int32, np.int64
uint8, uint16, uint32, uint64 = np.uint8, np.uint16, np.uint32, np.uint64
float16, float32, float64 = np.float16, np.float32, np.float64
bfloat16 = ml_dtypes.bfloat16
complex64, complex128 = np.complex64, np.complex128

#: Tangent dtype of integer and boolean values (zero-sized, as in JAX).
float0 = np.dtype([("float0", np.void, 0)])

_BF16 = np.dtype(bfloat16)
_ALL = [np.dtype(t) for t in (bool_, int8, int16, int32, int64, uint8, uint16, uint32, uint64,
                              float16, bfloat16, float32, float64, complex64, complex128)]

python_scalar_dtypes = {bool: np.dtype(bool), int: np.dtype(np.int64),
                        float: np.dtype(np.float64), complex: np.dtype(np.complex128)}

_TO_32 = {np.dtype(np.int64): np.dtype(np.int32), np.dtype(np.uint64): np.dtype(np.uint32),
          np.dtype(np.float64): np.dtype(np.float32),
          np.dtype(np.complex128): np.dtype(np.complex64)}
_canon_cache: dict = {}


def canonicalize_dtype(dtype) -> np.dtype:
    """The dtype jaxel actually uses for ``dtype``: 64-bit types narrow when x64 is off."""
    key = (dtype, config.jax_enable_x64)
    try:
        return _canon_cache[key]
    except (KeyError, TypeError):
        pass
    dt = np.dtype(dtype)
    out = dt if config.jax_enable_x64 else _TO_32.get(dt, dt)
    try:
        _canon_cache[key] = out
    except TypeError:
        pass
    return out


def default_float_dtype() -> np.dtype:
    """float64 with x64, else float32."""
    return canonicalize_dtype(np.float64)


def default_int_dtype() -> np.dtype:
    """int64 with x64, else int32."""
    return canonicalize_dtype(np.int64)


def default_uint_dtype() -> np.dtype:
    return canonicalize_dtype(np.uint64)


def default_complex_dtype() -> np.dtype:
    """complex128 with x64, else complex64."""
    return canonicalize_dtype(np.complex128)


# ---- predicates -----------------------------------------------------------------------------
_FLOATS = frozenset(np.dtype(t) for t in (float16, bfloat16, float32, float64))
_COMPLEX = frozenset(np.dtype(t) for t in (complex64, complex128))
_SIGNED = frozenset(np.dtype(t) for t in (int8, int16, int32, int64))
_UNSIGNED = frozenset(np.dtype(t) for t in (uint8, uint16, uint32, uint64))


def is_float(dtype) -> bool:
    """Real floating dtype (incl. bfloat16 and float16)."""
    return np.dtype(dtype) in _FLOATS


def is_complex(dtype) -> bool:
    return np.dtype(dtype) in _COMPLEX


def is_inexact(dtype) -> bool:
    """Floating or complex."""
    dt = np.dtype(dtype)
    return dt in _FLOATS or dt in _COMPLEX


def is_integer(dtype) -> bool:
    """Signed or unsigned integer (not bool)."""
    dt = np.dtype(dtype)
    return dt in _SIGNED or dt in _UNSIGNED


def is_unsigned(dtype) -> bool:
    return np.dtype(dtype) in _UNSIGNED


def is_signed(dtype) -> bool:
    return np.dtype(dtype) in _SIGNED


def is_bool(dtype) -> bool:
    return np.dtype(dtype) == np.bool_


# ---- names ------------------------------------------------------------------------------------
_SHORT = {np.dtype(bool): "bool", _BF16: "bf16", float0: "float0"}
_MLIR = {np.dtype(bool): "i1", _BF16: "bf16"}
for _b in (8, 16, 32, 64):
    _SHORT[np.dtype(f"int{_b}")] = f"i{_b}"
    _SHORT[np.dtype(f"uint{_b}")] = f"u{_b}"
    _MLIR[np.dtype(f"int{_b}")] = f"i{_b}"
    _MLIR[np.dtype(f"uint{_b}")] = f"ui{_b}"
for _b in (16, 32, 64):
    _SHORT[np.dtype(f"float{_b}")] = f"f{_b}"
    _MLIR[np.dtype(f"float{_b}")] = f"f{_b}"
_SHORT[np.dtype(np.complex64)] = "c64"
_SHORT[np.dtype(np.complex128)] = "c128"
_MLIR[np.dtype(np.complex64)] = "complex<f32>"
_MLIR[np.dtype(np.complex128)] = "complex<f64>"


def short_name(dtype) -> str:
    """JAX's jaxpr spelling: ``f32``, ``i32``, ``bf16``, ``bool``, ``c64``..."""
    return _SHORT[np.dtype(dtype)]


def to_mlir_type(dtype) -> str:
    """MLIR element type: ``f32``, ``i1``, ``ui8``, ``complex<f32>``..."""
    return _MLIR[np.dtype(dtype)]


# ---- dtype of values ----------------------------------------------------------------------------
def _is_supported(dt: np.dtype) -> bool:
    return dt in _SHORT


def dtype(x, *, canonicalize: bool = False) -> np.dtype:
    """The dtype of a value or dtype-like: Python scalars give their default dtype, arrays their
    dtype, dtype-likes (``'float32'``, ``jnp.int8``, ``np.dtype``) themselves."""
    t = type(x)
    if t in python_scalar_dtypes:
        dt = python_scalar_dtypes[t]
    elif isinstance(x, type) and issubclass(x, (bool, int, float, complex)) and \
            not issubclass(x, np.generic):
        dt = python_scalar_dtypes[x if x in python_scalar_dtypes else
                                   next(b for b in (bool, int, float, complex) if issubclass(x, b))]
    elif isinstance(x, (np.dtype, str)) or isinstance(x, type):
        dt = np.dtype(x)
    elif hasattr(x, "dtype"):
        dt = np.dtype(x.dtype)
    else:
        dt = np.result_type(x)
    if not _is_supported(dt):
        raise TypeError(f"jaxel arrays cannot have dtype {dt} (from {x!r:.60}): supported are "
                        "bool, int8-64, uint8-64, float16, bfloat16, float32, float64, "
                        "complex64 and complex128.")
    return canonicalize_dtype(dt) if canonicalize else dt


def is_weakly_typed(x) -> bool:
    """True for Python int/float/complex (not bool) and for weakly typed arrays."""
    t = type(x)
    if t is int or t is float or t is complex:
        return True
    return bool(getattr(x, "weak_type", False))


def check_user_dtype_supported(dtype, fun_name: str | None = None) -> None:
    """Warn (as JAX does) when a 64-bit dtype is requested while x64 is off; TypeError for
    dtypes jaxel cannot hold."""
    if dtype is None:
        return
    dt = np.dtype(dtype) if not (isinstance(dtype, type) and issubclass(
        dtype, (bool, int, float, complex)) and not issubclass(dtype, np.generic)) else None
    if dt is None:  # Python type objects (float, int) are fine: they mean the default dtype
        return
    if not _is_supported(dt):
        raise TypeError(f"dtype {dt} is not supported by jaxel"
                        f"{f' (requested in {fun_name})' if fun_name else ''}.")
    if not config.jax_enable_x64 and dt in _TO_32:
        where = f" in {fun_name}" if fun_name else ""
        warnings.warn(f"Explicitly requested dtype {dt.name}{where} is not available and will "
                      f"be narrowed to {_TO_32[dt].name}: 64-bit types are off. Turn them on "
                      "with jaxel.config.update('jax_enable_x64', True) or the environment "
                      "variable JAX_ENABLE_X64=1.", UserWarning, stacklevel=3)


# ---- the promotion lattice ------------------------------------------------------------------------
# Nodes: numpy dtypes plus the weak kinds 'i*', 'f*', 'c*'.
_d = np.dtype
_EDGES = {
    _d(bool): ["i*"],
    "i*": [_d(np.uint8), _d(np.int8)],
    _d(np.uint8): [_d(np.uint16), _d(np.int16)],
    _d(np.uint16): [_d(np.uint32), _d(np.int32)],
    _d(np.uint32): [_d(np.uint64), _d(np.int64)],
    _d(np.uint64): ["f*"],
    _d(np.int8): [_d(np.int16)],
    _d(np.int16): [_d(np.int32)],
    _d(np.int32): [_d(np.int64)],
    _d(np.int64): ["f*"],
    "f*": ["c*", _d(np.float16), _BF16],
    _d(np.float16): [_d(np.float32)],
    _BF16: [_d(np.float32)],
    _d(np.float32): [_d(np.float64), _d(np.complex64)],
    _d(np.float64): [_d(np.complex128)],
    "c*": [_d(np.complex64)],
    _d(np.complex64): [_d(np.complex128)],
    _d(np.complex128): [],
}


def _upper_bounds():
    ub = {}

    def visit(n):
        if n in ub:
            return ub[n]
        s = {n}
        for m in _EDGES[n]:
            s |= visit(m)
        ub[n] = frozenset(s)
        return ub[n]

    for n in _EDGES:
        visit(n)
    return ub


_UB = _upper_bounds()
_NODES = list(_EDGES)


def _lub(a, b):
    common = _UB[a] & _UB[b]
    # The least upper bound: the common bound all other common bounds are above.
    for c in common:
        if all(c2 in _UB[c] for c2 in common):
            return c
    raise TypeError(f"no common type for {a} and {b}")


_LUB = {(a, b): _lub(a, b) for a in _NODES for b in _NODES}
_WEAK_DEFAULT = {"i*": np.dtype(np.int64), "f*": np.dtype(np.float64),
                 "c*": np.dtype(np.complex128)}
_KIND_OF_WEAK = {np.dtype("b").kind: None}


def _node(dt: np.dtype, weak: bool):
    if not weak:
        return dt
    if dt == np.bool_:
        return dt
    if dt in _COMPLEX:
        return "c*"
    if dt in _FLOATS:
        return "f*"
    return "i*"


def promote_types(a, b) -> np.dtype:
    """The promoted dtype of two (strong) dtypes, as ``jnp.promote_types``."""
    a, b = np.dtype(a), np.dtype(b)
    r = _LUB[(a, b)]
    r = _WEAK_DEFAULT[r] if isinstance(r, str) else r
    # Without x64, a 64-bit result that neither input asked for (u32 + i32 -> i64) narrows;
    # 64-bit inputs keep 64-bit results (measured on JAX 0.10.2).
    if not config.jax_enable_x64 and r in _TO_32 and a not in _TO_32 and b not in _TO_32:
        return _TO_32[r]
    return r


_result_cache: dict = {}


def _arg_node(x):
    t = type(x)
    if t is int or t is float or t is complex:
        return {int: "i*", float: "f*", complex: "c*"}[t]
    if t is bool:
        return np.dtype(bool)
    aval = getattr(x, "aval", None)
    if aval is not None:
        return _node(aval.dtype, aval.weak_type)
    if isinstance(x, (np.ndarray, np.generic)):
        return np.dtype(x.dtype)
    if hasattr(x, "dtype"):
        return _node(np.dtype(x.dtype), bool(getattr(x, "weak_type", False)))
    if isinstance(x, type) and issubclass(x, (bool, int, float, complex)) and \
            not issubclass(x, np.generic):
        return dtype(x)
    return dtype(x)


def result_type(*args, return_weak_type_flag: bool = False):
    """The dtype jaxel.numpy gives an operation on ``args`` (arrays, scalars, dtypes), with
    weak types honoured and the result canonicalised (32-bit unless x64 is on).

    Example::

        >>> result_type(jnp.bfloat16, 1.0)
        dtype(bfloat16)
    """
    if not args:
        raise ValueError("at least one array or dtype is required")
    nodes = tuple(_arg_node(a) for a in args)
    key = (nodes, config.jax_enable_x64)
    r = _result_cache.get(key)
    if r is None:
        if not config.jax_enable_x64:  # inputs are narrowed before promotion, as in JAX
            nodes = tuple(n if isinstance(n, str) else _TO_32.get(n, n) for n in nodes)
        acc = nodes[0]
        for n in nodes[1:]:
            acc = _LUB[(acc, n)]
        # As in JAX: the result is weak exactly when the least upper bound is a weak node
        # (so `True * 1` is a weak int, and u64 + i64 -> a weak f64 with x64).
        weak = isinstance(acc, str)
        dt = _WEAK_DEFAULT[acc] if weak else acc
        r = _result_cache[key] = (canonicalize_dtype(dt), weak)
    return r if return_weak_type_flag else r[0]


# ---- NumPy-style queries ---------------------------------------------------------------------------
def issubdtype(arg1, arg2) -> bool:
    """``np.issubdtype`` that knows bfloat16 is a floating type."""
    if arg1 is not None and not isinstance(arg1, type) or isinstance(arg1, type) and \
            not issubclass(arg1, np.generic):
        try:
            dt1 = np.dtype(arg1)
        except TypeError:
            dt1 = None
    else:
        dt1 = np.dtype(arg1)
    if dt1 == _BF16:
        if isinstance(arg2, type) and issubclass(arg2, np.generic) and not arg2 is bfloat16:
            return issubclass(np.floating, arg2) if arg2 in (np.floating, np.inexact, np.number,
                                                              np.generic) else False
        return np.dtype(arg2) == _BF16
    return np.issubdtype(arg1, arg2)


def isdtype(dtype, kind) -> bool:
    """Array-API dtype kind test: ``'bool'``, ``'signed integer'``, ``'unsigned integer'``,
    ``'integral'``, ``'real floating'``, ``'complex floating'``, ``'numeric'``, a dtype, or a
    tuple of these."""
    dt = np.dtype(dtype)
    if isinstance(kind, tuple):
        return any(isdtype(dt, k) for k in kind)
    if isinstance(kind, str):
        table = {
            "bool": dt == np.bool_,
            "signed integer": dt in _SIGNED,
            "unsigned integer": dt in _UNSIGNED,
            "integral": dt in _SIGNED or dt in _UNSIGNED,
            "real floating": dt in _FLOATS,
            "complex floating": dt in _COMPLEX,
            "numeric": dt != np.bool_ and _is_supported(dt) and dt != float0,
        }
        if kind not in table:
            raise ValueError(f"Unknown dtype kind {kind!r}; expected one of {sorted(table)}.")
        return table[kind]
    return dt == np.dtype(kind)


def can_cast(from_, to, casting: str = "safe") -> bool:
    """NumPy's ``can_cast`` for dtypes (bfloat16 included via ml_dtypes' casting rules)."""
    a = from_.dtype if hasattr(from_, "dtype") else np.dtype(from_)
    return bool(np.can_cast(a, np.dtype(to), casting=casting))


def finfo(dtype):
    """Machine limits of a floating dtype (bfloat16 included)."""
    dt = np.dtype(dtype)
    if dt in _COMPLEX:
        dt = np.dtype(np.float32 if dt == np.complex64 else np.float64)
    return ml_dtypes.finfo(dt)


def iinfo(dtype):
    """Machine limits of an integer dtype."""
    return ml_dtypes.iinfo(np.dtype(dtype))


def _clear_caches(_value=None):
    _result_cache.clear()


config.add_hook("jax_enable_x64", _clear_caches)
