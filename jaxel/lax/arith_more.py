"""More elementwise primitives of ``jax.lax``: base-2 exponentials and logarithms
(``exp2m1``, ``log2``, ``log2p1``), fused multiply-add (``fma``, ``fmuladd``), ``mulhi``,
``square``, ``one_minus_square``, ``polynomial``, the total-order comparisons (``eq_to_p``,
``le_to_p``, ``lt_to_p``) and ``copy_p``.
"""
from __future__ import annotations

import math

import numpy as np

from jaxel.lax._composite import lower_via
from jaxel.lax._rules import (ANY, BOOL, COMPLEX, FLOAT, INEXACT, INT, SINT, UINT, as_operands,
                              broadcast_scalar_operands, check_kinds, check_same_shapes_dtypes,
                              dtype_kind, standard_naryop, standard_unary, weak_of)
from jaxel.lax.accuracy import check_accuracy
from jaxel.lax.elementwise import _filled, add, div, exp2, expm1, log, log1p, mul, sub
from jaxel.lowering.emitter import tensor_type
from jaxel.tracing.avals import ShapedArray
from jaxel.tracing.core import Primitive
from jaxel.transforms import ad_util as _ad
from jaxel.transforms import batching as _batching

__all__ = ["exp2m1", "log2", "log2p1", "fma", "fmuladd", "mulhi", "square", "one_minus_square",
           "polynomial", "exp2m1_p", "log2_p", "log2p1_p", "fma_p", "fmuladd_p", "mulhi_p",
           "square_p", "one_minus_square_p", "polynomial_p", "eq_to_p", "le_to_p", "lt_to_p",
           "copy_p"]

_LN2 = math.log(2.0)
_NUMBER = (SINT, UINT, FLOAT, COMPLEX)


# ---- base-2 exponential and logarithms ----------------------------------------------------------
def _unary(name, kinds, impl, upcast=False):
    p = standard_unary(name, "unused", kinds)
    p.lowering = lower_via(impl, upcast_16bit=upcast)
    _batching.defvectorized(p)
    return p


# expm1(x ln 2) and log1p(x) / ln 2 keep the accuracy of expm1/log1p near 0.
exp2m1_p = _unary("exp2m1", FLOAT, lambda x: expm1(mul(x, _LN2)))
log2_p = standard_unary("log2", "stablehlo.log2", INEXACT)  # a StableHLO op, as JAX lowers it
_batching.defvectorized(log2_p)
log2p1_p = _unary("log2p1", FLOAT, lambda x: div(log1p(x), _LN2))
_ad.defjvp(exp2m1_p, lambda t, x: mul(t, mul(exp2(x), _LN2)))
_ad.defjvp(log2_p, lambda t, x: div(t, mul(x, _LN2)))
_ad.defjvp(log2p1_p, lambda t, x: div(t, mul(add(x, 1.0), _LN2)))


def exp2m1(x):
    """Elementwise ``2**x - 1``, accurate near 0."""
    return exp2m1_p.bind(x)


def log2(x, *, accuracy=None):
    """Elementwise base-2 logarithm. ``accuracy`` (a ``lax.Tolerance`` or
    ``lax.AccuracyMode``) is accepted for JAX compatibility and ignored on CPU."""
    if accuracy is not None:
        check_accuracy("log2", accuracy)
    return log2_p.bind(x)


def log2p1(x):
    """Elementwise ``log2(1 + x)``, accurate near 0."""
    return log2p1_p.bind(x)


# ---- fused multiply-add ---------------------------------------------------------------------------
fma_p = standard_naryop("fma", "stablehlo.fma", FLOAT, nargs=3)
fmuladd_p = standard_naryop("fmuladd", "stablehlo.fma", FLOAT, nargs=3)
_fma_hlo = fma_p.lowering


def _fma_via(wide_dtype):
    """Lowering of a fused multiply-add: float32/float64 natively; XLA CPU has no 16-bit
    ``fma``, so narrower floats are fused in ``wide_dtype`` and rounded back."""
    def rule(ctx, a, b, c):
        aval = ctx.avals_out[0]
        if aval.dtype in (np.dtype(np.float32), np.dtype(np.float64)):
            return _fma_hlo(ctx, a, b, c)
        e = ctx.e
        xs = broadcast_scalar_operands(ctx, (a, b, c))
        wide = tensor_type(aval.update(dtype=np.dtype(wide_dtype)))
        xs = [e.op1("stablehlo.convert", [x], wide) for x in xs]
        out = e.op1("stablehlo.fma", xs, wide)
        return e.op1("stablehlo.convert", [out], tensor_type(aval))
    return rule


# fma promises one rounding: float16 products and sums are exact in float64, so rounding that
# to float16 is the single rounding (JAX's CPU build rejects 16-bit fma instead). fmuladd
# promises no rounding behaviour and, as in JAX, fuses 16-bit floats in float32.
fma_p.lowering = _fma_via(np.float64)
fmuladd_p.lowering = _fma_via(np.float32)


def _fma_transpose(ct, a, b, c):
    if _ad.is_undefined(a) and _ad.is_undefined(b):
        raise NotImplementedError("fma is not linear in both factors at once; this indicates a "
                                  "wrong JVP rule upstream.")
    ca = _ad.unbroadcast(mul(ct, b), a.aval) if _ad.is_undefined(a) else None
    cb = _ad.unbroadcast(mul(a, ct), b.aval) if _ad.is_undefined(b) else None
    cc = _ad.unbroadcast(ct, c.aval) if _ad.is_undefined(c) else None
    return [ca, cb, cc]


for _p in (fma_p, fmuladd_p):
    _ad.defjvp(_p, lambda t, a, b, c: mul(t, b), lambda t, a, b, c: mul(a, t),
               lambda t, a, b, c: t)
    _p.transpose = _fma_transpose
    _batching.defbroadcasting(_p)


def fma(a, b, c):
    """Elementwise fused multiply-add ``a * b + c`` with a single rounding (16-bit floats are
    fused in float64: exact for float16; for bfloat16 the rounding to float64 before bfloat16
    can differ from a single rounding in rare ties)."""
    a, b, c = as_operands(a, b, c)
    return fma_p.bind(a, b, c)


def fmuladd(a, b, c):
    """Elementwise ``a * b + c``, fused where the hardware allows (always on CPU for
    float32/float64; 16-bit floats are fused in float32)."""
    a, b, c = as_operands(a, b, c)
    return fmuladd_p.bind(a, b, c)


# ---- mulhi ------------------------------------------------------------------------------------------
mulhi_p = standard_naryop("mulhi", "chlo.mulhi", INT)
_ad.defjvp_zero(mulhi_p)
_batching.defbroadcasting(mulhi_p)


def mulhi(x, y, /):
    """Elementwise high half of the double-width integer product ``x * y`` (the upper N bits
    of the 2N-bit product of N-bit integers)."""
    x, y = as_operands(x, y)
    return mulhi_p.bind(x, y)


# ---- square, 1 - x^2 --------------------------------------------------------------------------------
square_p = standard_unary("square", "chlo.square", _NUMBER)
_square_hlo = square_p.lowering


def _square_lowering(ctx, x):
    if dtype_kind(ctx.avals_in[0].dtype) in (SINT, UINT):
        return ctx.e.op1("stablehlo.multiply", [x, x], tensor_type(ctx.avals_out[0]))
    return _square_hlo(ctx, x)


square_p.lowering = _square_lowering
_ad.defjvp(square_p, lambda t, x: mul(t, mul(x, 2.0)))
_batching.defvectorized(square_p)

# (1 + x)(1 - x), not 1 - x*x: no cancellation for |x| near 1. As a primitive, its derivative
# is -2x, not (1 - x) - (1 + x), which cancels to 0 for tiny x.
one_minus_square_p = _unary("one_minus_square", _NUMBER,
                            lambda x: mul(add(x, 1), sub(1, x)))
_ad.defjvp(one_minus_square_p, lambda t, x: mul(t, mul(x, -2.0)))


def square(x):
    """Elementwise ``x * x``."""
    return square_p.bind(x)


def one_minus_square(x):
    """Elementwise ``1 - x**2``, computed as ``(1 + x)(1 - x)`` (accurate for |x| near 1)."""
    return one_minus_square_p.bind(x)


# ---- polynomial -------------------------------------------------------------------------------------
polynomial_p = Primitive("polynomial")


def _polynomial_abstract_eval(x, *coeffs, unroll=None):
    avals = (x,) + coeffs
    for a in avals:
        check_kinds("polynomial", a, _NUMBER)
    return ShapedArray(check_same_shapes_dtypes("polynomial", avals), x.dtype, weak_of(avals))


def _horner(x, *coeffs, unroll=None):
    """Horner's rule from the highest coefficient down, fused multiply-adds for floats (the
    loop is always unrolled: ``unroll`` only matters for JAX's scan-based lowering)."""
    del unroll
    acc = coeffs[-1]
    fused = dtype_kind(x.aval.dtype) == FLOAT
    for c in reversed(coeffs[:-1]):
        acc = fmuladd(acc, x, c) if fused else add(mul(acc, x), c)
    return acc


polynomial_p.abstract_eval = _polynomial_abstract_eval
polynomial_p.lowering = lower_via(_horner)
_batching.defbroadcasting(polynomial_p)


def _polynomial_jvp(primals, tangents, **params):
    x, *coeffs = primals
    tx, *tcs = tangents
    out = polynomial_p.bind(x, *coeffs, **params)
    aval = _ad.aval_of(out)
    total = _ad.Zero(_ad.tangent_aval(aval))
    if type(tx) is not _ad.Zero and len(coeffs) > 1:
        deriv = [mul(c, float(k)) for k, c in enumerate(coeffs[1:], 1)]
        dydx = polynomial_p.bind(x, *deriv, **params)
        total = _ad.add_tangents(total, _ad.broadcast_to_aval(mul(tx, dydx), aval))
    if any(type(t) is not _ad.Zero for t in tcs):
        # Linear in the coefficients: the same polynomial of their tangents.
        tcs = [_filled(c, 0) if type(t) is _ad.Zero else t for c, t in zip(coeffs, tcs)]
        total = _ad.add_tangents(total,
                                 _ad.broadcast_to_aval(polynomial_p.bind(x, *tcs, **params),
                                                       aval))
    return out, total


def _polynomial_transpose(ct, x, *coeffs, **params):
    if _ad.is_undefined(x):
        raise NotImplementedError("polynomial is not linear in x; this indicates a wrong JVP "
                                  "rule upstream.")
    outs = [None]
    xk_ct = ct  # ct * x**k for coefficient k
    for k, c in enumerate(coeffs):
        outs.append(_ad.unbroadcast(xk_ct, c.aval) if _ad.is_undefined(c) else None)
        if k + 1 < len(coeffs):
            xk_ct = mul(xk_ct, x)
    return outs


polynomial_p.jvp = _polynomial_jvp
polynomial_p.transpose = _polynomial_transpose


def polynomial(x, coeffs, *, unroll=None):
    """Elementwise ``sum_k coeffs[k] * x**k`` (ascending powers) by Horner's rule. The
    coefficients are arrays of ``x``'s dtype (or Python scalars) of ``x``'s shape or rank 0."""
    coeffs = list(coeffs)
    if not coeffs:
        raise ValueError("lax.polynomial needs at least one coefficient.")
    ops = as_operands(x, *coeffs)
    params = {} if unroll is None else {"unroll": int(unroll)}
    return polynomial_p.bind(*ops, **params)


# ---- total-order comparisons (sort's keys: -NaN < -inf < ... < -0 < +0 < ... < inf < NaN) ------
def _total_order_comparison(name, direction, kinds):
    p = standard_naryop(name, "stablehlo.compare", kinds, out_dtype=lambda dt: np.dtype(bool))
    base = p.abstract_eval
    p.abstract_eval = lambda *a: base(*a).update(weak_type=False)

    def lowering(ctx, x, y):
        x, y = broadcast_scalar_operands(ctx, (x, y))
        k = dtype_kind(ctx.avals_in[0].dtype)
        ct = {SINT: "SIGNED", UINT: "UNSIGNED", BOOL: "UNSIGNED"}.get(k, "TOTALORDER")
        attrs = (f"comparison_direction = #stablehlo<comparison_direction {direction}>, "
                 f"compare_type = #stablehlo<comparison_type {ct}>")
        return ctx.e.op1("stablehlo.compare", [x, y], tensor_type(ctx.avals_out[0]), attrs)

    p.lowering = lowering
    _ad.defjvp_zero(p)
    _batching.defbroadcasting(p)
    return p


eq_to_p = _total_order_comparison("eq_to", "EQ", ANY)
le_to_p = _total_order_comparison("le_to", "LE", (BOOL, SINT, UINT, FLOAT))
lt_to_p = _total_order_comparison("lt_to", "LT", (BOOL, SINT, UINT, FLOAT))

# ---- copy: an identity JAX uses to force a fresh buffer ----------------------------------------------
copy_p = Primitive("copy")
copy_p.abstract_eval = lambda x: x
copy_p.lowering = lambda ctx, x: x  # XLA gives every result its own buffer
_ad.deflinear(copy_p, lambda ct, x: [copy_p.bind(ct)])
_batching.defvectorized(copy_p)
