"""Reference cases for the elementwise primitives (jaxel/lax/elementwise.py)."""
from __future__ import annotations

import numpy as np
import scipy.special as sp

from jaxel import lax
from tests.lax.case import Arg, Case, COMPLEX, FLOATS, INTS, SHAPES

F32 = np.dtype(np.float32)


def _f(ref, dt):
    """Compute the reference in float64/complex128 then cast to ``dt`` (as XLA's result)."""
    def r(*xs):
        wide = [x.astype(np.complex128 if np.dtype(x.dtype).kind == "c" else np.float64)
                if np.dtype(x.dtype).kind in "fcV" or x.dtype.name == "bfloat16" else x
                for x in xs]
        out = np.asarray(ref(*wide))
        if out.dtype == np.bool_:
            return out
        in_dt = np.dtype(dt)
        if out.dtype.kind == "c" and in_dt.kind != "c":  # real -> complex: same precision
            return out.astype(np.complex128 if in_dt == np.float64 else np.complex64)
        if out.dtype.kind != "c" and in_dt.kind == "c":  # complex -> real parts
            return out.astype(np.float64 if in_dt == np.complex128 else np.float32)
        return out.astype(in_dt)
    return r


def unary(name, fn, ref, dtypes, domain="normal", shapes=SHAPES, **kw):
    return [Case(f"{name}-{np.dtype(dt).name}-{shape}", fn, _f(ref, dt),
                 [Arg(shape, dt, domain)], **kw)
            for dt in dtypes for shape in shapes]


def binary(name, fn, ref, dtypes, domain=("normal", "normal"), shapes=SHAPES, **kw):
    return [Case(f"{name}-{np.dtype(dt).name}-{shape}", fn, _f(ref, dt),
                 [Arg(shape, dt, domain[0]), Arg(shape, dt, domain[1])], **kw)
            for dt in dtypes for shape in shapes]


def _cast(ref, dt):
    return lambda *xs: np.asarray(ref(*xs)).astype(dt)


C = COMPLEX
FC = FLOATS + C
F = FLOATS
I = INTS
S_INTS = [np.dtype(np.int32), np.dtype(np.int8)]
I32 = [np.dtype(np.int32)]
SMALL = [(), (0,), (2, 3)]

CASES = {
    "neg": unary("neg", lax.neg, np.negative, F + S_INTS + C),
    "sign": unary("sign", lax.sign, np.sign, F + S_INTS),
    "floor": unary("floor", lax.floor, np.floor, F),
    "ceil": unary("ceil", lax.ceil, np.ceil, F),
    "is_finite": unary("is_finite", lax.is_finite, np.isfinite, F),
    "exp": unary("exp", lax.exp, np.exp, FC),
    "exp2": unary("exp2", lax.exp2, np.exp2, F),
    "log": unary("log", lax.log, np.log, F, "positive") + unary("log", lax.log, np.log, C),
    "expm1": unary("expm1", lax.expm1, np.expm1, F),
    "log1p": unary("log1p", lax.log1p, np.log1p, F, "positive"),
    "tanh": unary("tanh", lax.tanh, np.tanh, FC),
    "logistic": unary("logistic", lax.logistic, sp.expit, F),
    "sin": unary("sin", lax.sin, np.sin, FC),
    "cos": unary("cos", lax.cos, np.cos, FC),
    "tan": unary("tan", lax.tan, np.tan, F, "unit"),
    "asin": unary("asin", lax.asin, np.arcsin, F, "unit"),
    "acos": unary("acos", lax.acos, np.arccos, F, "unit"),
    "atan": unary("atan", lax.atan, np.arctan, F),
    "sinh": unary("sinh", lax.sinh, np.sinh, F),
    "cosh": unary("cosh", lax.cosh, np.cosh, F),
    "asinh": unary("asinh", lax.asinh, np.arcsinh, F),
    "acosh": unary("acosh", lax.acosh, np.arccosh, F, "above_one"),
    "atanh": unary("atanh", lax.atanh, np.arctanh, F, "unit"),
    "sqrt": unary("sqrt", lax.sqrt, np.sqrt, F, "positive") + unary("sqrt", lax.sqrt, np.sqrt, C),
    "rsqrt": unary("rsqrt", lax.rsqrt, lambda x: 1 / np.sqrt(x), F, "positive"),
    "cbrt": unary("cbrt", lax.cbrt, np.cbrt, F),
    "lgamma": unary("lgamma", lax.lgamma, sp.gammaln, F, "positive", rtol=1e-3, atol=1e-3),
    "digamma": unary("digamma", lax.digamma, sp.digamma, F, "positive", rtol=1e-3, atol=1e-3),
    "erf": unary("erf", lax.erf, sp.erf, F),
    "erfc": unary("erfc", lax.erfc, sp.erfc, F),
    "erf_inv": unary("erf_inv", lax.erf_inv, sp.erfinv, F, "unit", rtol=1e-3, atol=1e-3),
    "not": unary("not", lax.bitwise_not, np.invert, I + [np.dtype(bool)]),
    "population_count": unary("population_count", lax.population_count,
                              lambda x: np.bitwise_count(x.view(np.dtype(f"u{x.dtype.itemsize}"))).astype(x.dtype), I, "any_int"),
    "clz": [Case(f"clz-{shape}", lax.clz,
                 lambda x: np.array([32 - int(v).bit_length() for v in x.ravel()],
                                    np.int32).reshape(x.shape),
                 [Arg(shape, np.uint32 if False else np.int32, "positive")]) for shape in SMALL],
    "conj": unary("conj", lax.conj, np.conj, C),
    "real": unary("real", lax.real, np.real, C),
    "imag": unary("imag", lax.imag, np.imag, C),
    "abs": unary("abs", lax.abs, np.abs, F + S_INTS) +
           [Case(f"abs-c64-{s}", lax.abs, lambda x: np.abs(x).astype(np.float32),
                 [Arg(s, np.complex64)]) for s in SMALL],
    "round": unary("round", lambda x: lax.round(x, 1), np.round, F) +
             unary("round_afz", lambda x: lax.round(x, 0),
                   lambda x: np.sign(x) * np.floor(np.abs(x) + 0.5), [F32]),
    "integer_pow": unary("integer_pow3", lambda x: lax.integer_pow(x, 3), lambda x: x ** 3,
                         F + S_INTS) +
                   unary("integer_pow-2", lambda x: lax.integer_pow(x, -2), lambda x: x ** -2.0,
                         [F32], "nonzero") +
                   unary("integer_pow0", lambda x: lax.integer_pow(x, 0), lambda x: x ** 0, [F32]),
    "add": binary("add", lax.add, np.add, F + I + C),
    "sub": binary("sub", lax.sub, np.subtract, F + I + C),
    "mul": binary("mul", lax.mul, np.multiply, F + I + C),
    "div": binary("div", lax.div, np.divide, F + C, ("normal", "nonzero")) +
           binary("div", lax.div, lambda x, y: np.trunc(x / y).astype(x.dtype), I,
                  ("normal", "nonzero")),
    "rem": binary("rem", lax.rem, np.fmod, F, ("normal", "nonzero")) +
           binary("rem", lax.rem, np.fmod, I, ("normal", "nonzero")),
    "pow": binary("pow", lax.pow, np.power, F, ("positive", "normal")),
    "max": binary("max", lax.max, np.maximum, F + I),
    "min": binary("min", lax.min, np.minimum, F + I),
    "atan2": binary("atan2", lax.atan2, np.arctan2, F),
    "nextafter": binary("nextafter", lax.nextafter, np.nextafter, [F32, np.dtype(np.float16)]),
    "and": binary("and", lax.bitwise_and, np.bitwise_and, I + [np.dtype(bool)]),
    "or": binary("or", lax.bitwise_or, np.bitwise_or, I + [np.dtype(bool)]),
    "xor": binary("xor", lax.bitwise_xor, np.bitwise_xor, I + [np.dtype(bool)]),
    "shift_left": binary("shift_left", lax.shift_left, np.left_shift, I, ("any_int", "shift")),
    "shift_right_arithmetic": binary("shift_right_arithmetic", lax.shift_right_arithmetic,
                                     np.right_shift, S_INTS, ("any_int", "shift")),
    "shift_right_logical": binary(
        "shift_right_logical", lax.shift_right_logical,
        lambda x, y: (x.view(np.dtype(f"u{x.dtype.itemsize}")) >> y.astype(
            np.dtype(f"u{x.dtype.itemsize}"))).view(x.dtype), I, ("any_int", "shift")),
    "complex": binary("complex", lax.complex, lambda x, y: (x + 1j * y).astype(np.complex64),
                      [F32]),
    "clamp": [Case(f"clamp-{np.dtype(dt).name}-{s}", lambda lo, x, hi: lax.clamp(lo, x, hi),
                   lambda lo, x, hi: np.minimum(np.maximum(x, lo), hi),
                   [np.array(-1, dt), Arg(s, dt), np.array(1, dt)])
              for dt in [F32, np.dtype(np.int32)] for s in SMALL],
    "eq": binary("eq", lax.eq, np.equal, F + I + C),
    "ne": binary("ne", lax.ne, np.not_equal, F + I),
    "lt": binary("lt", lax.lt, np.less, F + I),
    "le": binary("le", lax.le, np.less_equal, F + I),
    "gt": binary("gt", lax.gt, np.greater, F + I),
    "ge": binary("ge", lax.ge, np.greater_equal, F + I),
    "select_n": [Case(f"select_n-bool-{s}", lambda p, a, b: lax.select_n(p, a, b),
                      lambda p, a, b: np.where(p, b, a),
                      [Arg(s, bool), Arg(s, F32), Arg(s, F32)]) for s in SHAPES] +
                [Case(f"select_n-int-{s}", lambda w, a, b, c: lax.select_n(w, a, b, c),
                      lambda w, a, b, c: np.choose(w, [a, b, c]),
                      [np.random.default_rng(0).integers(0, 3, s).astype(np.int32),
                       Arg(s, F32), Arg(s, F32), Arg(s, F32)]) for s in SMALL],
    "convert_element_type": [
        Case(f"convert-{np.dtype(a).name}-{np.dtype(b).name}",
             lambda x, b=b: lax.convert_element_type(x, b),
             lambda x, b=b: (x != 0) if np.dtype(b) == np.bool_ else x.astype(b),
             [Arg((2, 3), a, "small_int" if np.dtype(a).kind in "iu" else "normal")])
        for a, b in [(np.float32, np.int32), (np.int32, np.float32), (np.float32, np.float16),
                     (np.float32, bool), (np.int32, bool), (np.uint8, np.int32),
                     (np.float32, np.complex64), (bool, np.float32)]],
    "bitcast_convert_type": [
        Case("bitcast-f32-i32", lambda x: lax.bitcast_convert_type(x, np.int32),
             lambda x: x.view(np.int32), [Arg((2, 3), F32)]),
        Case("bitcast-f32-u8", lambda x: lax.bitcast_convert_type(x, np.uint8),
             lambda x: x.view(np.uint8).reshape(x.shape + (4,)), [Arg((3,), F32)]),
        Case("bitcast-u8-f32", lambda x: lax.bitcast_convert_type(x, np.float32),
             lambda x: x.view(np.float32).reshape(x.shape[:-1]),
             [np.arange(12, dtype=np.uint8).reshape(3, 4)]),
    ],
    "reduce_precision": [
        Case("reduce_precision-bf16", lambda x: lax.reduce_precision(x, 8, 7),
             lambda x: x.astype(np.dtype("bfloat16") if False else
                                __import__("ml_dtypes").bfloat16).astype(np.float32),
             [Arg((2, 3), F32)]),
    ],
}
