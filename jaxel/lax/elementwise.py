"""Elementwise primitives: arithmetic, exp/log, trig, special functions, bitwise, comparisons.

Each primitive is declared once here with its abstract evaluation and lowering (JVP, transpose
and batching rules are added beside them by the autodiff and vmap issues). The public wrappers
keep ``jax.lax``'s names: ``sin_p`` is the primitive, ``sin`` the function.
"""
from __future__ import annotations

import numpy as np

from jaxel import dtypes as _dtypes
from jaxel.lax.accuracy import check_accuracy as _check_accuracy
from jaxel.lax._rules import (ANY, BOOL, COMPLEX, FLOAT, INEXACT, INT, INTEGRAL, NUMBER, SINT,
                              UINT, as_operands, broadcast_scalar_operands, check_kinds, check_same_shapes_dtypes,
                              dtype_kind, standard_naryop, standard_unary, weak_of)
from jaxel.lowering.emitter import tensor_type
from jaxel.tracing.avals import ShapedArray
from jaxel.tracing.core import Primitive

_SIGNED_NUMBER = (SINT, FLOAT, COMPLEX)


def _real_dtype(dt):
    return np.dtype(np.float32) if dt == np.complex64 else (
        np.dtype(np.float64) if dt == np.complex128 else dt)


# ---- unary arithmetic and transcendental ------------------------------------------------
neg_p = standard_unary("neg", "stablehlo.negate", NUMBER)
sign_p = standard_unary("sign", "stablehlo.sign", NUMBER)
floor_p = standard_unary("floor", "stablehlo.floor", FLOAT)
ceil_p = standard_unary("ceil", "stablehlo.ceil", FLOAT)
is_finite_p = standard_unary("is_finite", "stablehlo.is_finite", FLOAT,
                             out_dtype=lambda dt: np.dtype(bool))
exp_p = standard_unary("exp", "stablehlo.exponential", INEXACT)
exp2_p = Primitive("exp2")
log_p = standard_unary("log", "stablehlo.log", INEXACT)
expm1_p = standard_unary("expm1", "stablehlo.exponential_minus_one", INEXACT)
log1p_p = standard_unary("log1p", "stablehlo.log_plus_one", INEXACT)
tanh_p = standard_unary("tanh", "stablehlo.tanh", INEXACT)
logistic_p = standard_unary("logistic", "stablehlo.logistic", INEXACT)
sin_p = standard_unary("sin", "stablehlo.sine", INEXACT)
cos_p = standard_unary("cos", "stablehlo.cosine", INEXACT)
tan_p = standard_unary("tan", "stablehlo.tan", INEXACT)
asin_p = standard_unary("asin", "chlo.asin", INEXACT)
acos_p = standard_unary("acos", "chlo.acos", INEXACT)
atan_p = standard_unary("atan", "chlo.atan", INEXACT)
sinh_p = standard_unary("sinh", "chlo.sinh", INEXACT)
cosh_p = standard_unary("cosh", "chlo.cosh", INEXACT)
asinh_p = standard_unary("asinh", "chlo.asinh", INEXACT)
acosh_p = standard_unary("acosh", "chlo.acosh", INEXACT)
atanh_p = standard_unary("atanh", "chlo.atanh", INEXACT)
sqrt_p = standard_unary("sqrt", "stablehlo.sqrt", INEXACT)
rsqrt_p = standard_unary("rsqrt", "stablehlo.rsqrt", INEXACT)
cbrt_p = standard_unary("cbrt", "stablehlo.cbrt", FLOAT)
lgamma_p = standard_unary("lgamma", "chlo.lgamma", FLOAT)
digamma_p = standard_unary("digamma", "chlo.digamma", FLOAT)
erf_p = standard_unary("erf", "chlo.erf", FLOAT)
erfc_p = standard_unary("erfc", "chlo.erfc", FLOAT)
erf_inv_p = standard_unary("erf_inv", "chlo.erf_inv", FLOAT)
# JAX 0.12.1 expands erf_inv itself, and random.normal depends on its last bit.
from jaxel.lax import expansions as _expansions  # noqa: E402
erf_inv_p.lowering = _expansions.erf_inv_lowering
logistic_p.lowering = _expansions.logistic_lowering
erfc_p.lowering = _expansions.erfc_lowering
# ... and lowers lgamma/digamma to jaxlib's CPU kernels (same values as JAX's).
from jaxel.lax.cpu_math import lgamma_lowering as _lgl, digamma_lowering as _dgl  # noqa: E402
lgamma_p.lowering = _lgl
digamma_p.lowering = _dgl
not_p = standard_unary("not", "stablehlo.not", INTEGRAL)
population_count_p = standard_unary("population_count", "stablehlo.popcnt", INT)
clz_p = standard_unary("clz", "stablehlo.count_leading_zeros", INT)
conj_p = standard_unary("conj", "chlo.conj", COMPLEX)
real_p = standard_unary("real", "stablehlo.real", COMPLEX, out_dtype=_real_dtype)
imag_p = standard_unary("imag", "stablehlo.imag", COMPLEX, out_dtype=_real_dtype)
abs_p = standard_unary("abs", "stablehlo.abs", _SIGNED_NUMBER + (UINT,), out_dtype=_real_dtype)


def _exp2_lowering(ctx, x):
    # jaxlib 0.12.1's StableHLO has exp2 (JAX lowers to it; exp(x ln 2) differs in the last bit)
    return ctx.e.op1("stablehlo.exp2", [x], tensor_type(ctx.avals_out[0]))


exp2_p.abstract_eval = lambda x: (check_kinds("exp2", x, INEXACT), x)[1]
exp2_p.lowering = _exp2_lowering

# abs of an unsigned integer is the identity (StableHLO's abs takes signed types only).
_abs_hlo = abs_p.lowering
abs_p.lowering = lambda ctx, x: x if dtype_kind(ctx.avals_in[0].dtype) == UINT else _abs_hlo(ctx, x)
_sign_hlo = sign_p.lowering


def _sign_lowering(ctx, x):
    """stablehlo.sign takes no unsigned integers: their sign is ``x != 0``."""
    a = ctx.avals_in[0]
    if dtype_kind(a.dtype) != UINT:
        return _sign_hlo(ctx, x)
    zero = ctx.e.constant(0, a.update(shape=()))
    zb = ctx.e.op1("stablehlo.broadcast_in_dim", [zero], tensor_type(a),
                   "broadcast_dimensions = array<i64>")
    ne = ctx.e.op1("stablehlo.compare", [x, zb], tensor_type(a.update(dtype=np.dtype(bool))),
                   "comparison_direction = #stablehlo<comparison_direction NE>, "
                   "compare_type = #stablehlo<comparison_type UNSIGNED>")
    return ctx.e.op1("stablehlo.convert", [ne], tensor_type(ctx.avals_out[0]))


sign_p.lowering = _sign_lowering

round_p = Primitive("round")


def _round_abstract_eval(x, *, rounding_method=0):
    check_kinds("round", x, FLOAT)
    return x


def _round_lowering(ctx, x, *, rounding_method=0):
    op = ("stablehlo.round_nearest_afz" if int(rounding_method) == 0
          else "stablehlo.round_nearest_even")
    return ctx.e.op1(op, [x], tensor_type(ctx.avals_out[0]))


round_p.abstract_eval = _round_abstract_eval
round_p.lowering = _round_lowering

integer_pow_p = Primitive("integer_pow")


def _integer_pow_abstract_eval(x, *, y):
    check_kinds("integer_pow", x, NUMBER)
    return x


def _integer_pow_lowering(ctx, x, *, y):
    # Square-and-multiply with the exponent known at trace time; negative powers divide into 1.
    e, aval = ctx.e, ctx.avals_in[0]
    t = tensor_type(aval)
    n = abs(int(y))
    acc = None
    base = x
    while n:
        if n & 1:
            acc = base if acc is None else e.op1("stablehlo.multiply", [acc, base], t)
        n >>= 1
        if n:
            base = e.op1("stablehlo.multiply", [base, base], t)
    if acc is None:
        acc = e.constant(np.ones(aval.shape, aval.dtype), aval.strip_weak_type())
    if y < 0:
        one = e.constant(np.ones(aval.shape, aval.dtype), aval.strip_weak_type())
        acc = e.op1("stablehlo.divide", [one, acc], t)
    return acc


integer_pow_p.abstract_eval = _integer_pow_abstract_eval
integer_pow_p.lowering = _integer_pow_lowering

# ---- binary ------------------------------------------------------------------------------
add_p = standard_naryop("add", "stablehlo.add", NUMBER)
sub_p = standard_naryop("sub", "stablehlo.subtract", NUMBER)
mul_p = standard_naryop("mul", "stablehlo.multiply", NUMBER)
div_p = standard_naryop("div", "stablehlo.divide", NUMBER)
rem_p = standard_naryop("rem", "stablehlo.remainder", (SINT, UINT, FLOAT))  # XLA CPU crashes on complex
pow_p = standard_naryop("pow", "stablehlo.power", INEXACT)
max_p = standard_naryop("max", "stablehlo.maximum", ANY)
min_p = standard_naryop("min", "stablehlo.minimum", ANY)
atan2_p = standard_naryop("atan2", "stablehlo.atan2", INEXACT)
nextafter_p = standard_naryop("nextafter", "chlo.next_after", FLOAT)
and_p = standard_naryop("and", "stablehlo.and", INTEGRAL)
or_p = standard_naryop("or", "stablehlo.or", INTEGRAL)
xor_p = standard_naryop("xor", "stablehlo.xor", INTEGRAL)
shift_left_p = standard_naryop("shift_left", "stablehlo.shift_left", INT)
shift_right_arithmetic_p = standard_naryop("shift_right_arithmetic",
                                           "stablehlo.shift_right_arithmetic", INT)
shift_right_logical_p = standard_naryop("shift_right_logical", "stablehlo.shift_right_logical",
                                        INT)
complex_p = standard_naryop("complex", "stablehlo.complex", FLOAT,
                            out_dtype=lambda dt: np.dtype(np.complex128 if dt == np.float64
                                                          else np.complex64))
clamp_p = Primitive("clamp")


def _clamp_abstract_eval(lo, x, hi):
    check_kinds("clamp", x, ANY)
    for name, a in (("min", lo), ("max", hi)):
        if a.dtype != x.dtype:
            raise TypeError(f"lax.clamp requires {name} to have the operand's dtype "
                            f"{x.dtype.name}, got {a.dtype.name}.")
        if a.shape not in ((), x.shape):
            raise TypeError(f"lax.clamp requires {name} to be a scalar or of the operand's shape "
                            f"{x.shape}, got {a.shape}.")
    return ShapedArray(x.shape, x.dtype, x.weak_type)


clamp_p.abstract_eval = _clamp_abstract_eval
clamp_p.lowering = lambda ctx, lo, x, hi: ctx.e.op1("stablehlo.clamp", [lo, x, hi],
                                                    tensor_type(ctx.avals_out[0]))


# ---- comparisons ---------------------------------------------------------------------------
def _compare_type(dt) -> str:
    k = dtype_kind(dt)
    return {SINT: "SIGNED", UINT: "UNSIGNED", BOOL: "UNSIGNED"}.get(k, "FLOAT")


def _comparison(name: str, direction: str, kinds=ANY) -> Primitive:
    # The result is a weakly typed bool when both operands are weak (JAX's rule: ``1.0 < 2.0``
    # and ``int32_array < 2.5``, whose operands are weak float32s, give weak bools).
    p = standard_naryop(name, "stablehlo.compare", kinds, out_dtype=lambda dt: np.dtype(bool))

    def lowering(ctx, x, y):
        x, y = broadcast_scalar_operands(ctx, (x, y))
        ct = _compare_type(ctx.avals_in[0].dtype)
        attrs = (f"comparison_direction = #stablehlo<comparison_direction {direction}>, "
                 f"compare_type = #stablehlo<comparison_type {ct}>")
        return ctx.e.op1("stablehlo.compare", [x, y], tensor_type(ctx.avals_out[0]), attrs)

    p.lowering = lowering
    return p


eq_p = _comparison("eq", "EQ")
ne_p = _comparison("ne", "NE")
lt_p = _comparison("lt", "LT", (BOOL, SINT, UINT, FLOAT))
le_p = _comparison("le", "LE", (BOOL, SINT, UINT, FLOAT))
gt_p = _comparison("gt", "GT", (BOOL, SINT, UINT, FLOAT))
ge_p = _comparison("ge", "GE", (BOOL, SINT, UINT, FLOAT))

# ---- select ----------------------------------------------------------------------------------
select_n_p = Primitive("select_n")


def _select_n_abstract_eval(which, *cases):
    if not cases:
        raise TypeError("lax.select_n needs at least one case.")
    check_same_shapes_dtypes("select_n", cases)
    if any(c.shape != cases[0].shape for c in cases):
        raise TypeError("lax.select_n requires all cases to have the same shape, got "
                        f"{[c.shape for c in cases]}.")
    if which.dtype != np.bool_ and dtype_kind(which.dtype) not in (SINT, UINT):
        raise TypeError(f"lax.select_n's `which` must be boolean or integer, got {which.dtype}.")
    if which.dtype == np.bool_ and len(cases) > 2:
        raise TypeError("lax.select_n with a boolean `which` takes at most two cases.")
    if which.shape not in ((), cases[0].shape):
        raise TypeError(f"lax.select_n's `which` must be a scalar or have the cases' shape "
                        f"{cases[0].shape}, got {which.shape}.")
    return ShapedArray(cases[0].shape, cases[0].dtype, weak_of(cases))


def _select_n_lowering(ctx, which, *cases):
    e = ctx.e
    aval_out = ctx.avals_out[0]
    t = tensor_type(aval_out)
    wa = ctx.avals_in[0]
    if wa.shape != aval_out.shape:  # scalar predicate: broadcast it
        wt = tensor_type(wa.update(shape=aval_out.shape, weak_type=False))
        which = e.op1("stablehlo.broadcast_in_dim", [which], wt, "broadcast_dimensions = array<i64>")
        wa = wa.update(shape=aval_out.shape, weak_type=False)
    if len(cases) == 1:
        return cases[0]
    if wa.dtype == np.bool_:
        return e.op1("stablehlo.select", [which, cases[1], cases[0]], t)
    # Integer which: a balanced tree of selects on `which < mid`.
    bool_t = tensor_type(wa.update(dtype=np.dtype(bool)))

    def build(lo, hi):
        if hi - lo == 1:
            return cases[lo]
        mid = (lo + hi) // 2
        m = e.constant(np.full(wa.shape, mid, wa.dtype), wa.update(weak_type=False))
        pred = e.op1("stablehlo.compare", [which, m], bool_t,
                     f"comparison_direction = #stablehlo<comparison_direction LT>, "
                     f"compare_type = #stablehlo<comparison_type {_compare_type(wa.dtype)}>")
        return e.op1("stablehlo.select", [pred, build(lo, mid), build(mid, hi)], t)

    return build(0, len(cases))


select_n_p.abstract_eval = _select_n_abstract_eval
select_n_p.lowering = _select_n_lowering

# ---- dtype conversion ------------------------------------------------------------------------
convert_element_type_p = Primitive("convert_element_type")


def _convert_abstract_eval(x, *, new_dtype, weak_type=False, sharding=None):
    return ShapedArray(x.shape, new_dtype, weak_type)


def _convert_lowering(ctx, x, *, new_dtype, weak_type=False, sharding=None):
    ain, aout = ctx.avals_in[0], ctx.avals_out[0]
    e = ctx.e
    t = tensor_type(aout)
    if ain.dtype == aout.dtype:
        return x
    kin, kout = dtype_kind(ain.dtype), dtype_kind(aout.dtype)
    if kin == COMPLEX and kout != COMPLEX:  # complex -> real drops the imaginary part
        x = e.op1("stablehlo.real", [x], tensor_type(ain.update(dtype=_real_dtype(ain.dtype))))
        ain = ain.update(dtype=_real_dtype(ain.dtype))
        if ain.dtype == aout.dtype:
            return x
    if kout == BOOL:  # x != 0, as NumPy (convert would truncate)
        zero = e.constant(np.zeros(ain.shape, ain.dtype), ain.update(weak_type=False))
        return e.op1("stablehlo.compare", [x, zero], t,
                     f"comparison_direction = #stablehlo<comparison_direction NE>, "
                     f"compare_type = #stablehlo<comparison_type {_compare_type(ain.dtype)}>")
    return e.op1("stablehlo.convert", [x], t)


convert_element_type_p.pp_params = lambda p: {k: p[k] for k in sorted(p)
                                              if k != "sharding" or p[k] is not None}
convert_element_type_p.abstract_eval = _convert_abstract_eval
convert_element_type_p.lowering = _convert_lowering

bitcast_convert_type_p = Primitive("bitcast_convert_type")


def _bitcast_abstract_eval(x, *, new_dtype):
    new_dtype = np.dtype(new_dtype)
    a, b = x.dtype.itemsize, new_dtype.itemsize
    if a == b:
        shape = x.shape
    elif a > b:
        shape = x.shape + (a // b,)
    else:
        if not x.shape or x.shape[-1] != b // a:
            raise TypeError(f"lax.bitcast_convert_type from {x.dtype} to {new_dtype} needs a "
                            f"last dimension of size {b // a}, got shape {x.shape}.")
        shape = x.shape[:-1]
    return ShapedArray(shape, new_dtype, False)


bitcast_convert_type_p.abstract_eval = _bitcast_abstract_eval
bitcast_convert_type_p.lowering = lambda ctx, x, *, new_dtype: ctx.e.op1(
    "stablehlo.bitcast_convert", [x], tensor_type(ctx.avals_out[0]))

reduce_precision_p = Primitive("reduce_precision")
reduce_precision_p.abstract_eval = lambda x, *, exponent_bits, mantissa_bits: (
    check_kinds("reduce_precision", x, FLOAT), x)[1]
reduce_precision_p.lowering = lambda ctx, x, *, exponent_bits, mantissa_bits: ctx.e.op1(
    "stablehlo.reduce_precision", [x], tensor_type(ctx.avals_out[0]),
    f"exponent_bits = {int(exponent_bits)} : i32, mantissa_bits = {int(mantissa_bits)} : i32")


# ---- public wrappers (jax.lax names) -----------------------------------------------------------
def _unary(p, doc):
    def f(x):
        return p.bind(x)
    f.__name__ = p.name
    f.__doc__ = doc
    return f


def _unary_acc(p, doc):
    """A wrapper taking JAX's ``accuracy=`` argument (see jaxel/lax/accuracy.py: validated,
    then ignored, since XLA's CPU backend has one implementation of each function)."""
    name = p.name

    def f(x, *, accuracy=None):
        if accuracy is not None:
            _check_accuracy(name, accuracy)
        return p.bind(x)
    f.__name__ = name
    f.__doc__ = doc + (" ``accuracy``: a ``lax.Tolerance`` or ``lax.AccuracyMode``, accepted "
                       "for JAX compatibility and ignored on CPU.")
    return f


def _binary(p, doc):
    def f(x, y):
        x, y = as_operands(x, y)
        return p.bind(x, y)
    f.__name__ = p.name
    f.__doc__ = doc
    return f


neg = _unary(neg_p, "Elementwise negation: -x.")
sign = _unary(sign_p, "Elementwise sign (-1, 0, 1; NaN for NaN).")
floor = _unary(floor_p, "Elementwise floor.")
ceil = _unary(ceil_p, "Elementwise ceiling.")
is_finite = _unary(is_finite_p, "Elementwise test for finite values (not inf, not NaN).")
exp = _unary_acc(exp_p, "Elementwise e**x.")
exp2 = _unary_acc(exp2_p, "Elementwise 2**x.")
log = _unary_acc(log_p, "Elementwise natural logarithm.")
expm1 = _unary_acc(expm1_p, "Elementwise e**x - 1, accurate near 0.")
log1p = _unary_acc(log1p_p, "Elementwise log(1 + x), accurate near 0.")
tanh = _unary_acc(tanh_p, "Elementwise hyperbolic tangent.")
logistic = _unary_acc(logistic_p, "Elementwise logistic sigmoid 1 / (1 + e**-x).")
sin = _unary_acc(sin_p, "Elementwise sine.")
cos = _unary_acc(cos_p, "Elementwise cosine.")
tan = _unary_acc(tan_p, "Elementwise tangent.")
asin = _unary(asin_p, "Elementwise arcsine.")
acos = _unary(acos_p, "Elementwise arccosine.")
atan = _unary(atan_p, "Elementwise arctangent.")
sinh = _unary(sinh_p, "Elementwise hyperbolic sine.")
cosh = _unary(cosh_p, "Elementwise hyperbolic cosine.")
asinh = _unary(asinh_p, "Elementwise inverse hyperbolic sine.")
acosh = _unary(acosh_p, "Elementwise inverse hyperbolic cosine.")
atanh = _unary(atanh_p, "Elementwise inverse hyperbolic tangent.")
sqrt = _unary_acc(sqrt_p, "Elementwise square root.")
rsqrt = _unary_acc(rsqrt_p, "Elementwise 1 / sqrt(x).")
cbrt = _unary_acc(cbrt_p, "Elementwise cube root.")
lgamma = _unary(lgamma_p, "Elementwise log of the absolute value of the gamma function.")
digamma = _unary(digamma_p, "Elementwise digamma (derivative of lgamma).")
erf = _unary(erf_p, "Elementwise error function.")
erfc = _unary(erfc_p, "Elementwise complementary error function 1 - erf(x).")
erf_inv = _unary(erf_inv_p, "Elementwise inverse error function.")
bitwise_not = _unary(not_p, "Elementwise bitwise/logical NOT.")
population_count = _unary(population_count_p, "Elementwise count of set bits.")
clz = _unary(clz_p, "Elementwise count of leading zero bits.")
conj = _unary(conj_p, "Elementwise complex conjugate.")
real = _unary(real_p, "Real part of a complex array.")
imag = _unary(imag_p, "Imaginary part of a complex array.")
abs = _unary(abs_p, "Elementwise absolute value (magnitude for complex inputs).")  # noqa: A001
add = _binary(add_p, "Elementwise x + y (same shapes and dtypes; scalars adopt the dtype).")
sub = _binary(sub_p, "Elementwise x - y.")
mul = _binary(mul_p, "Elementwise x * y.")
div = _binary(div_p, "Elementwise x / y (integer division rounds toward zero).")
rem = _binary(rem_p, "Elementwise remainder with the sign of x (C fmod semantics).")
pow = _binary(pow_p, "Elementwise x ** y for inexact dtypes.")  # noqa: A001
max = _binary(max_p, "Elementwise maximum (NaN propagates).")  # noqa: A001
min = _binary(min_p, "Elementwise minimum (NaN propagates).")  # noqa: A001
atan2 = _binary(atan2_p, "Elementwise arctangent of x / y using the signs of both.")
nextafter = _binary(nextafter_p, "Next representable value after x in the direction of y.")
bitwise_and = _binary(and_p, "Elementwise bitwise/logical AND.")
bitwise_or = _binary(or_p, "Elementwise bitwise/logical OR.")
bitwise_xor = _binary(xor_p, "Elementwise bitwise/logical XOR.")
shift_left = _binary(shift_left_p, "Elementwise x << y.")
shift_right_arithmetic = _binary(shift_right_arithmetic_p, "Elementwise arithmetic x >> y.")
shift_right_logical = _binary(shift_right_logical_p, "Elementwise logical x >> y.")
complex = _binary(complex_p, "Elementwise x + 1j * y.")  # noqa: A001
eq = _binary(eq_p, "Elementwise x == y.")
ne = _binary(ne_p, "Elementwise x != y.")
lt = _binary(lt_p, "Elementwise x < y.")
le = _binary(le_p, "Elementwise x <= y.")
gt = _binary(gt_p, "Elementwise x > y.")
ge = _binary(ge_p, "Elementwise x >= y.")


def round(x, rounding_method=0):  # noqa: A001
    """Round to the nearest integer; ``rounding_method`` 0: away from zero, 1: to even."""
    return round_p.bind(x, rounding_method=int(rounding_method))


def integer_pow(x, y: int):
    """Elementwise ``x ** y`` for a Python int ``y`` (exact repeated multiplication)."""
    return integer_pow_p.bind(x, y=int(y))


def reciprocal(x):
    """Elementwise 1 / x."""
    return integer_pow_p.bind(x, y=-1)


def clamp(min, x, max):  # noqa: A002
    """Elementwise ``min(max(x, min), max)``; bounds may be scalars."""
    min, x, max = as_operands(min, x, max)
    return clamp_p.bind(min, x, max)


def select_n(which, *cases):
    """Choose elementwise among ``cases`` by ``which`` (bool: False->cases[0]; int: index)."""
    return select_n_p.bind(which, *cases)


def select(pred, on_true, on_false):
    """``on_true`` where ``pred`` else ``on_false`` (``jax.lax.select``)."""
    return select_n_p.bind(pred, on_false, on_true)


def convert_element_type(operand, new_dtype):
    """Cast ``operand`` to ``new_dtype`` (canonicalised: float64 -> float32 without x64)."""
    new_dtype = _dtypes.canonicalize_dtype(_dtypes.dtype(new_dtype))
    return convert_element_type_p.bind(operand, new_dtype=new_dtype, weak_type=False,
                                       sharding=None)


def bitcast_convert_type(operand, new_dtype):
    """Reinterpret the bits of ``operand`` as ``new_dtype`` (adds/removes a trailing dim when
    the widths differ)."""
    return bitcast_convert_type_p.bind(operand,
                                       new_dtype=_dtypes.canonicalize_dtype(np.dtype(new_dtype)))


def reduce_precision(operand, exponent_bits: int, mantissa_bits: int):
    """Round ``operand`` to a float format with the given exponent and mantissa widths."""
    return reduce_precision_p.bind(operand, exponent_bits=int(exponent_bits),
                                   mantissa_bits=int(mantissa_bits))


__all__ = [n for n in dir() if not n.startswith("_") and n not in (
    "np", "annotations", "Primitive", "ShapedArray", "tensor_type", "as_operands", "check_kinds",
    "check_same_shapes_dtypes", "dtype_kind", "standard_naryop", "standard_unary", "weak_of",
    "ANY", "BOOL", "COMPLEX", "FLOAT", "INEXACT", "INT", "INTEGRAL", "NUMBER", "SINT", "UINT")]


# ---- differentiation rules -------------------------------------------------------------------
# JVP rules run with the JVP trace's parent current, so they compute with the lax functions
# above; transpose rules exist for the primitives that are linear in some operand.
from jaxel.config import config as _config  # noqa: E402
from jaxel.tracing.core import literal  # noqa: E402
from jaxel.transforms import ad_util as _ad  # noqa: E402


def _linear_binary_transpose(sign_y):
    def transpose(ct, x, y):
        cx = _ad.unbroadcast(ct, x.aval) if _ad.is_undefined(x) else None
        cy = None
        if _ad.is_undefined(y):
            cy = _ad.unbroadcast(neg_p.bind(ct) if sign_y < 0 else ct, y.aval)
        return [cx, cy]
    return transpose


_ad.deflinear(add_p, _linear_binary_transpose(+1))
_ad.deflinear(sub_p, _linear_binary_transpose(-1))
_ad.deflinear(neg_p, lambda ct, x: [neg_p.bind(ct)])


def _strong_zero(ct, scaled):
    """Under ``jax_safe_where_grad``, a zero cotangent stays zero when scaled by inf or NaN.

    Masking ops (``where``, ``select``, ``maximum``...) send exact zeros back to the branch they
    did not pick; that branch's local derivative may be infinite there (``log`` at 0), and
    ``0 * inf`` would poison the gradient with NaN. Every elementwise JVP scales its tangent with
    ``mul`` or ``div``, so making their transposes treat a zero cotangent as a strong zero stops
    the poison at its source. Costs a compare and a select per scaling, only when enabled."""
    if not _config.jax_safe_where_grad:
        return scaled
    aval = _ad.aval_of(scaled)
    return select(eq(_ad.broadcast_to_aval(ct, aval), 0), _ad.zeros_like_aval(aval), scaled)


def _mul_transpose(ct, x, y):
    if _ad.is_undefined(x) and _ad.is_undefined(y):
        raise NotImplementedError("mul of two linear operands is not linear; this indicates a "
                                  "wrong JVP rule upstream.")
    if _ad.is_undefined(x):
        return [_ad.unbroadcast(_strong_zero(ct, mul_p.bind(ct, y)), x.aval), None]
    return [None, _ad.unbroadcast(_strong_zero(ct, mul_p.bind(x, ct)), y.aval)]


_ad.defjvp(mul_p, lambda t, x, y: mul_p.bind(t, y), lambda t, x, y: mul_p.bind(x, t))
mul_p.transpose = _mul_transpose
_ad.defjvp(sin_p, lambda t, x, **p: mul_p.bind(t, cos_p.bind(x, **p)))
_ad.defjvp(cos_p, lambda t, x, **p: neg_p.bind(mul_p.bind(t, sin_p.bind(x, **p))))


def _div_transpose(ct, x, y):
    if _ad.is_undefined(y):
        raise NotImplementedError("div is linear only in its numerator; this indicates a wrong "
                                  "JVP rule upstream.")
    return [_ad.unbroadcast(_strong_zero(ct, div(ct, y)), x.aval), None]


_ad.defjvp(div_p, lambda t, x, y: div(t, y),
           lambda t, x, y: mul(neg(t), div(x, integer_pow(y, 2))))
div_p.transpose = _div_transpose

# Piecewise constant or integer-valued: the derivative is zero wherever it exists.
for _p in (sign_p, floor_p, ceil_p, round_p, is_finite_p, nextafter_p, not_p, population_count_p,
           clz_p, and_p, or_p, xor_p, shift_left_p, shift_right_arithmetic_p,
           shift_right_logical_p, eq_p, ne_p, lt_p, le_p, gt_p, ge_p, bitcast_convert_type_p):
    _ad.defjvp_zero(_p)

# ---- exp / log family: d/dx written with the primal output where that is cheaper ----------
_ad.defjvp2(exp_p, lambda t, ans, x: mul(t, ans))
_ad.defjvp2(exp2_p, lambda t, ans, x: mul(t, mul(ans, float(np.log(2.0)))))
_ad.defjvp(log_p, lambda t, x: div(t, x))
_ad.defjvp2(expm1_p, lambda t, ans, x: mul(t, add(ans, 1.0)))
_ad.defjvp(log1p_p, lambda t, x: div(t, add(x, 1.0)))
_ad.defjvp2(tanh_p, lambda t, ans, x: mul(t, sub(1.0, mul(ans, ans))))
_ad.defjvp2(logistic_p, lambda t, ans, x: mul(t, mul(ans, sub(1.0, ans))))
_ad.defjvp2(sqrt_p, lambda t, ans, x: div(t, mul(ans, 2.0)))
_ad.defjvp2(rsqrt_p, lambda t, ans, x: mul(t, mul(div(ans, x), -0.5)))
_ad.defjvp2(cbrt_p, lambda t, ans, x: mul(t, mul(integer_pow(ans, -2), 1.0 / 3.0)))

# ---- trigonometric and hyperbolic ----------------------------------------------------------
_ad.defjvp2(tan_p, lambda t, ans, x: mul(t, add(1.0, mul(ans, ans))))
_ad.defjvp(asin_p, lambda t, x: mul(t, rsqrt(sub(1.0, mul(x, x)))))
_ad.defjvp(acos_p, lambda t, x: neg(mul(t, rsqrt(sub(1.0, mul(x, x))))))
_ad.defjvp(atan_p, lambda t, x: div(t, add(1.0, mul(x, x))))
_ad.defjvp(sinh_p, lambda t, x: mul(t, cosh(x)))
_ad.defjvp(cosh_p, lambda t, x: mul(t, sinh(x)))
_ad.defjvp(asinh_p, lambda t, x: mul(t, rsqrt(add(mul(x, x), 1.0))))
# (x - 1)(x + 1) rather than x*x - 1: no cancellation near x = 1.
_ad.defjvp(acosh_p, lambda t, x: mul(t, rsqrt(mul(sub(x, 1.0), add(x, 1.0)))))
_ad.defjvp(atanh_p, lambda t, x: div(t, mul(sub(1.0, x), add(1.0, x))))
_ad.defjvp(atan2_p,
           lambda t, x, y: mul(t, div(y, add(mul(x, x), mul(y, y)))),
           lambda t, x, y: mul(neg(t), div(x, add(mul(x, x), mul(y, y)))))

# ---- special functions ---------------------------------------------------------------------
_TWO_OVER_SQRT_PI = float(2.0 / np.sqrt(np.pi))


def _trigamma(x):
    """The trigamma function (derivative of digamma), composed of lax ops: reflection for
    x < 1/2, six recurrence steps, then the asymptotic series (relative error ~1e-13)."""
    reflect = lt(x, 0.5)
    z = select(reflect, sub(1.0, x), x)
    acc = None
    for k in range(6):
        term = integer_pow(add(z, float(k)), -2)
        acc = term if acc is None else add(acc, term)
    w = add(z, 6.0)
    inv = integer_pow(w, -1)
    inv2 = mul(inv, inv)
    # 1/w + 1/(2w^2) + sum_k B_2k / w^(2k+1), Bernoulli numbers B_2..B_14.
    s = add(mul(inv2, 0.0), 7.0 / 6.0)  # Horner from B_14 down to B_2
    for b in (-691.0 / 2730.0, 5.0 / 66.0, -1.0 / 30.0, 1.0 / 42.0, -1.0 / 30.0, 1.0 / 6.0):
        s = add(mul(s, inv2), b)
    tail = add(add(inv, mul(inv2, 0.5)), mul(mul(inv, inv2), s))
    direct = add(acc, tail)
    # psi1(1 - x) + psi1(x) = pi^2 / sin^2(pi x)
    pi = float(np.pi)
    reflected = sub(div(pi * pi, integer_pow(sin(mul(x, pi)), 2)), direct)
    return select(reflect, reflected, direct)


_ad.defjvp(lgamma_p, lambda t, x: mul(t, digamma(x)))
_ad.defjvp(digamma_p, lambda t, x: mul(t, _trigamma(x)))
_ad.defjvp(erf_p, lambda t, x: mul(t, mul(exp(neg(mul(x, x))), _TWO_OVER_SQRT_PI)))
_ad.defjvp(erfc_p, lambda t, x: mul(t, mul(exp(neg(mul(x, x))), -_TWO_OVER_SQRT_PI)))
_ad.defjvp2(erf_inv_p, lambda t, ans, x: mul(t, mul(exp(mul(ans, ans)),
                                                     float(np.sqrt(np.pi) / 2.0))))


# ---- powers ----------------------------------------------------------------------------------
def _integer_pow_jvp(t, x, *, y):
    if y == 0:
        return _filled(t, 0)
    if y == 1:
        return t
    return mul(t, mul(integer_pow(x, y - 1), float(y)))


def _filled(like, value, weak_type=None):
    """An array of ``like``'s shape and dtype (and weak type, unless given) filled with
    ``value``."""
    from jaxel.lax.shape_ops import broadcast_in_dim_p
    aval = _ad.aval_of(like)
    weak = aval.weak_type if weak_type is None else weak_type
    # Always bind (even for rank 0): a bare Literal is not a value a tracer can carry.
    return broadcast_in_dim_p.bind(literal(value, aval.dtype, weak), shape=aval.shape,
                                   broadcast_dimensions=(), sharding=None)


def _pow_jvp_base(t, x, y):
    # y * x**(y-1), defined as 0 where y == 0 (so 0**0 has a zero derivative, as in JAX).
    jac = mul(y, pow(x, sub(y, 1.0)))
    return mul(t, select(eq(y, 0.0), _filled(jac, 0), jac))


def _pow_jvp_exponent(t, ans, x, y):
    # log(x) * x**y, with log(0) replaced by log(1): the limit along x = 0 is 0 for y > 0.
    safe_x = select(eq(x, 0.0), _filled(x, 1), x)
    return mul(t, mul(log(safe_x), ans))


_ad.defjvp(integer_pow_p, lambda t, x, *, y: _integer_pow_jvp(t, x, y=y))


def _pow_jvp(primals, tangents):
    x, y = primals
    tx, ty = tangents
    out = pow_p.bind(x, y)
    aval = _ad.aval_of(out)
    total = _ad.Zero(_ad.tangent_aval(aval))
    if type(tx) is not _ad.Zero:
        total = _ad.add_tangents(total, _ad.broadcast_to_aval(_pow_jvp_base(tx, x, y), aval))
    if type(ty) is not _ad.Zero:
        total = _ad.add_tangents(total,
                                 _ad.broadcast_to_aval(_pow_jvp_exponent(ty, out, x, y), aval))
    return out, total


pow_p.jvp = _pow_jvp


# ---- max / min / clamp / rem -----------------------------------------------------------------
def _balanced_eq(x, z, y):
    """1 where x == z != y, 1/2 where x == z == y (ties share the tangent), else 0 (shaped
    like the output ``z``; ``x`` or ``y`` may be rank 0)."""
    return select(eq(x, z), select(eq(y, z), _filled(z, 0.5), _filled(z, 1)), _filled(z, 0))


_ad.defjvp2(max_p, lambda t, ans, x, y: mul(t, _balanced_eq(x, ans, y)),
            lambda t, ans, x, y: mul(t, _balanced_eq(y, ans, x)))
_ad.defjvp2(min_p, lambda t, ans, x, y: mul(t, _balanced_eq(x, ans, y)),
            lambda t, ans, x, y: mul(t, _balanced_eq(y, ans, x)))
_ad.defjvp(rem_p, lambda t, x, y: t,
           lambda t, x, y: mul(neg(t), mul(sign(div(x, y)), floor(abs(div(x, y))))))


def _clamp_jvp(primals, tangents):
    lo, x, hi = primals
    out = clamp_p.bind(lo, x, hi)
    aval = _ad.aval_of(out)
    total = _ad.Zero(_ad.tangent_aval(aval))
    # Which operand the output follows: lo where x < lo (and lo < hi), hi where hi < x.
    picks = (and_p.bind(gt(lo, x), lt(lo, hi)),
             and_p.bind(gt(x, lo), lt(x, hi)),
             lt(hi, x))
    for t, pick in zip(tangents, picks):
        if type(t) is _ad.Zero:
            continue
        t = _ad.broadcast_to_aval(t, aval)
        if _ad.aval_of(pick).shape != aval.shape:
            pick = _ad.broadcast_to_aval(pick, aval.update(dtype=np.dtype(bool)))
        total = _ad.add_tangents(total, select(pick, t, _filled(t, 0)))
    return out, total


clamp_p.jvp = _clamp_jvp


# ---- complex parts (linear; transposes pair cotangents by Re(sum(ct * t))) -----------------
def _abs_jvp(t, ans, x):
    if dtype_kind(_ad.aval_of(x).dtype) != COMPLEX:
        # +1 at x = 0 (and -0.0), as JAX: a subgradient, chosen so relu-like code keeps flowing.
        t = _ad.broadcast_to_aval(t, _ad.aval_of(ans))
        return select(ge(x, 0.0), t, neg(t))
    # d|z| = Re(conj(z) dz) / |z|, taken as 0 at z = 0.
    is_zero = eq(ans, 0.0)
    safe = select(is_zero, _filled(ans, 1), ans)
    d = div(real(mul(conj(x), t)), safe)
    return select(is_zero, _filled(d, 0), d)


_ad.defjvp2(abs_p, _abs_jvp)
_ad.deflinear(conj_p, lambda ct, x: [conj(ct)])
# The zero half is strongly typed (as JAX's), so a complex cotangent is never weak.
_ad.deflinear(real_p, lambda ct, x: [complex(ct, _filled(ct, 0, False))])
_ad.deflinear(imag_p, lambda ct, x: [complex(_filled(ct, 0, False), neg(ct))])


def _complex_transpose(ct, x, y):
    cx = _ad.unbroadcast(real(ct), x.aval) if _ad.is_undefined(x) else None
    cy = _ad.unbroadcast(neg(imag(ct)), y.aval) if _ad.is_undefined(y) else None
    return [cx, cy]


def _complex_jvp(primals, tangents):
    out = complex_p.bind(*primals)
    if all(type(t) is _ad.Zero for t in tangents):
        return out, _ad.Zero(_ad.aval_of(out))
    aval = _ad.aval_of(out)
    tx, ty = (_ad.broadcast_to_aval(_ad.instantiate(t), aval.update(dtype=_ad.aval_of(p).dtype))
              for t, p in zip(tangents, primals))
    return out, complex_p.bind(tx, ty)


complex_p.jvp = _complex_jvp
complex_p.transpose = _complex_transpose


# ---- select / dtype conversion / precision ------------------------------------------------------
def _select_n_jvp(primals, tangents):
    which, *cases = primals
    out = select_n_p.bind(which, *cases)
    case_ts = tangents[1:]
    if all(type(t) is _ad.Zero for t in case_ts):
        return out, _ad.zero_like(out)
    return out, select_n_p.bind(which, *[_ad.instantiate(t) for t in case_ts])


def _select_n_transpose(ct, which, *cases):
    if _ad.is_undefined(which):
        raise NotImplementedError("select_n is not linear in its predicate.")
    zeros = _ad.zeros_like_aval(_ad.aval_of(ct))
    outs = [None]
    for i, c in enumerate(cases):
        if not _ad.is_undefined(c):
            outs.append(None)
            continue
        branches = [zeros] * len(cases)
        branches[i] = ct
        outs.append(select_n_p.bind(which, *branches))
    return outs


select_n_p.jvp = _select_n_jvp
select_n_p.transpose = _select_n_transpose


def _convert_jvp(primals, tangents, *, new_dtype, weak_type=False, sharding=None):
    (x,), (t,) = primals, tangents
    out = convert_element_type_p.bind(x, new_dtype=new_dtype, weak_type=weak_type,
                                      sharding=sharding)
    if type(t) is _ad.Zero or not _ad.is_differentiable_dtype(new_dtype):
        return out, _ad.zero_like(out)
    return out, convert_element_type_p.bind(t, new_dtype=new_dtype, weak_type=weak_type,
                                            sharding=sharding)


def _convert_transpose(ct, x, *, new_dtype, weak_type=False, sharding=None):
    a = x.aval
    if not _ad.is_differentiable_dtype(a.dtype):
        return [None]  # an integer operand's cotangent is zero (float0 at the API boundary)
    return [convert_element_type_p.bind(ct, new_dtype=a.dtype, weak_type=a.weak_type,
                                        sharding=sharding)]


convert_element_type_p.jvp = _convert_jvp
convert_element_type_p.transpose = _convert_transpose
_ad.deflinear(reduce_precision_p, lambda ct, x, **p: [reduce_precision_p.bind(ct, **p)])


# ---- batching rules ----------------------------------------------------------------------------
# One-operand primitives keep the batch dimension where it is; n-ary ones apply as they are when
# every batched operand has it in the same place (see jaxel/transforms/batching.py).
from jaxel.transforms import batching as _batching  # noqa: E402

for _p in (add_p, sub_p, mul_p, div_p, rem_p, pow_p, max_p, min_p, atan2_p, nextafter_p, and_p,
           or_p, xor_p, shift_left_p, shift_right_arithmetic_p, shift_right_logical_p, complex_p,
           eq_p, ne_p, lt_p, le_p, gt_p, ge_p):
    _batching.defbroadcasting(_p)
_batching.defbroadcasting(select_n_p, scalar_ok=lambda i: i == 0)  # a scalar `which` only
_batching.defbroadcasting(clamp_p, scalar_ok=lambda i: i != 1)  # scalar bounds only
for _p in (neg_p, sign_p, floor_p, ceil_p, is_finite_p, exp_p, exp2_p, log_p, expm1_p, log1p_p,
           tanh_p, logistic_p, sin_p, cos_p, tan_p, asin_p, acos_p, atan_p, sinh_p, cosh_p,
           asinh_p, acosh_p, atanh_p, sqrt_p, rsqrt_p, cbrt_p, lgamma_p, digamma_p, erf_p, erfc_p,
           erf_inv_p, not_p, population_count_p, clz_p, conj_p, real_p, imag_p, abs_p, round_p,
           integer_pow_p, convert_element_type_p, reduce_precision_p):
    _batching.defvectorized(_p)


def _bitcast_batch(args, dims, *, new_dtype):
    # A change of width adds or removes a trailing dimension: keep the batch dimension off it.
    (x,), (d,) = args, dims
    if d == _ad.aval_of(x).ndim - 1:
        x, d = _batching.move_axis(x, d, 0), 0
    return bitcast_convert_type_p.bind(x, new_dtype=new_dtype), d


bitcast_convert_type_p.batch = _bitcast_batch
