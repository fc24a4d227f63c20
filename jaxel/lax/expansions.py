"""Lowerings that spell out JAX 0.12.1's own expansions, so values match JAX's bit for bit.

Where JAX lowers a primitive to its own sequence of StableHLO ops instead of one XLA op, the
results can differ in the last bit; these rules emit the same IEEE operations.

erf_inv
-------

XLA's ``chlo.erf_inv`` and JAX 0.12.1 differ in the last bit for some inputs, and
``random.normal`` is ``sqrt(2) * erf_inv(u)``: to give JAX's random streams, ``erf_inv`` must be
the same sequence of IEEE operations as JAX's. The method (Giles-style, with a more careful tail):

- ``w = -log((1 - |x|)(1 + |x|))``;
- in the central region ``erf_inv(x) = x * p(w - w0)``;
- in the tails ``erf_inv(x) = sign(x) * (sqrt(w) + p(sqrt(w) - s0))``, where ``sqrt(w)`` is
  carried as a head (``sqrt(w)`` with its low mantissa bits cleared, so the head squares exactly)
  plus a tail ``(w - head**2) / (sqrt(w) + head)``;
- ``p`` is evaluated by Horner's rule with fused multiply-adds; coefficients per region below.

float32 has two regions (split at w = 3.5), float64 three (w = 4.5 and 16); float16 and bfloat16
are computed in float32. |x| = 1 gives ±inf, |x| > 1 and NaN give NaN.
"""
from __future__ import annotations

import numpy as np

from jaxel.lowering.emitter import tensor_type
from jaxel.tracing.avals import ShapedArray

# Region tables: (w threshold starting the region, offset subtracted from w (central) or from
# sqrt(w) (tails), Horner coefficients from degree 0 up). Values are the float32/float64 numbers
# JAX 0.12.1 uses (facts needed for bit-equal results, printed at shortest round-trip precision).
_F32 = dict(
    head_mask=-4096,  # clears the 12 low mantissa bits of sqrt(w)
    regions=[
        (0.0, 1.75, [1.31467748, 0.250421584, -6.19600236e-4, -0.00190193101, 2.01806368e-4,
                     1.5402964e-5, -5.30976786e-6, 8.1217145e-8, 9.39520248e-8]),
        (3.5, 3.0, [-0.167197958, 0.00266256672, 0.00684198458, -0.0034470004, 0.00115094346,
                    -2.16608154e-4, -5.21765432e-5, 5.37958113e-5, -1.19642737e-5]),
    ])

_F64 = dict(
    head_mask=-134217728,  # clears the 27 low mantissa bits of sqrt(w)
    regions=[
        (0.0, 2.25, [
            1.4395086296840072, 0.24848033548175635, -0.0031553722009434347,
            -0.0014729485403536322, 2.2103552907583272e-4, 7.3988292998115989e-7,
            -4.2159708046843903e-6, 4.2593129933100634e-7, 4.0036983201296097e-8,
            -1.2609969564136998e-8, 4.4833568548276999e-10, 2.1393493315215217e-10,
            -3.0517391705258592e-11, -1.4229689144321153e-12, 7.8031871623882417e-13,
            -4.6176008664088856e-14, -1.2191315347692667e-14, 1.9786403241295394e-15,
            9.3750394169259231e-17, -3.2958388123854411e-17]),
        (4.5, 3.0, [
            -0.16719801522119088, 0.0026623825719210904, 0.0068436886617200248,
            -0.0034450300408697958, 0.0011424362720367713, -2.2121693317660041e-4,
            -3.6573267595371856e-5, 5.5857154777209221e-5, -2.4087912147963262e-5,
            2.5515833826646188e-6, 3.1478035674481432e-6, -2.0132188277879277e-6,
            3.8045955312120806e-7, 1.9243590435731999e-7, -1.6014147633988103e-7,
            3.554992157537282e-8, 1.4896226781919658e-8, -1.0559971743923652e-8,
            6.2353010426123886e-10, 6.3889301187926183e-10]),
        (16.0, 5.0, [
            -0.15009359862509328, 0.010300465194305499, -1.3872089842666973e-4,
            -2.1502518740684727e-4, 7.5984011909029762e-5, -1.9661727002516741e-5,
            4.4971864381559541e-6, -9.5851394949587882e-7, 1.9420940404545504e-7,
            -3.7534881562941356e-8, 6.7669992380555385e-9, -1.0165434504316348e-9,
            4.6913984136038209e-11, 6.0713660719478177e-11, -3.982834535096339e-11,
            1.8038314599061192e-11, -7.1151824272896107e-12, 1.8655477891505709e-12,
            9.899923413818573e-15, -1.0558237952745931e-13]),
    ])


class _Builder:
    """Elementwise StableHLO ops on values of one shape, for the lowering below."""

    def __init__(self, e, shape, dtype):
        self.e, self.shape = e, shape
        self.ftype = tensor_type(ShapedArray(shape, dtype))
        self.dtype = dtype

    def type_of(self, dtype):
        return tensor_type(ShapedArray(self.shape, np.dtype(dtype)))

    def const(self, value, dtype=None):
        return self.e.constant(value, ShapedArray(self.shape, np.dtype(dtype or self.dtype)))

    def op(self, name, *xs, dtype=None):
        out = self.ftype if dtype is None else self.type_of(dtype)
        return self.e.op1(f"stablehlo.{name}", list(xs), out)

    def compare(self, direction, a, b, kind="FLOAT"):
        return self.e.op1("stablehlo.compare", [a, b], self.type_of(bool),
                          f"comparison_direction = #stablehlo<comparison_direction {direction}>, "
                          f"compare_type = #stablehlo<comparison_type {kind}>")

    def select(self, pred, a, b):
        return self.e.op1("stablehlo.select", [pred, a, b], self.e.types[a])


def erf_inv_lowering(ctx, x, **params):
    """Lowering of ``erf_inv_p``: JAX 0.12.1's expansion (see the module docstring)."""
    aval = ctx.avals_in[0]
    dtype = np.dtype(aval.dtype)
    if dtype in (np.float16, np.dtype("bfloat16")):
        wide = ShapedArray(aval.shape, np.dtype(np.float32))
        xw = ctx.e.op1("stablehlo.convert", [x], tensor_type(wide))
        out = _expand(ctx.e, xw, aval.shape, np.dtype(np.float32))
        return ctx.e.op1("stablehlo.convert", [out], tensor_type(aval))
    return _expand(ctx.e, x, aval.shape, dtype)


def _expand(e, x, shape, dtype):
    b = _Builder(e, shape, dtype)
    table = _F64 if dtype == np.float64 else _F32
    int_type = np.int64 if dtype == np.float64 else np.int32
    regions = table["regions"]

    one = b.const(1.0)
    ax = b.op("abs", x)
    invalid = b.op("or", b.compare("GT", ax, one), b.compare("NE", x, x), dtype=bool)
    at_one = b.compare("EQ", ax, one)
    x0 = b.select(b.op("or", invalid, at_one, dtype=bool), b.const(0.0), x)
    a0 = b.op("abs", x0)
    w = b.op("negate", b.op("log", b.op("multiply", b.op("subtract", one, a0),
                                        b.op("add", one, a0))))
    central = b.compare("LT", w, b.const(regions[1][0]))
    # Region index per element: 0 central, +1 for each further threshold passed.
    index = None
    for threshold, _, _ in regions[1:]:
        past = b.op("convert", b.op("not", b.compare("LT", w, b.const(threshold)), dtype=bool),
                    dtype=np.int32)
        index = past if index is None else b.op("add", index, past, dtype=np.int32)

    def by_region(values):
        """Per element, the value for its region (a select chain on the region index)."""
        out = b.const(values[-1])
        for i in range(len(values) - 2, -1, -1):
            below = b.compare("LT", index, b.const(i + 1, np.int32), kind="SIGNED")
            out = b.select(below, b.const(values[i]), out)
        return out

    w_tail = b.select(central, one, w)
    root = b.op("sqrt", w_tail)
    bits = b.op("bitcast_convert", root, dtype=int_type)
    head = b.op("bitcast_convert", b.op("and", bits, b.const(table["head_mask"], int_type),
                                        dtype=int_type))
    tail = b.op("divide", b.op("subtract", w_tail, b.op("multiply", head, head)),
                b.op("add", root, head))
    z = b.select(central, b.op("subtract", w, b.const(regions[0][1])),
                 b.op("subtract", root, by_region([0.0] + [r[1] for r in regions[1:]])))
    coefficients = [by_region([r[2][k] for r in regions]) for k in range(len(regions[0][2]))]
    p = coefficients[-1]
    for coef in reversed(coefficients[:-1]):
        p = b.op("fma", p, z, coef)  # Horner's rule, one rounding per step
    tail_value = b.op("add", head, b.op("add", tail, p))
    sign = b.select(b.compare("LT", x0, b.const(0.0)), b.const(-1.0), one)
    value = b.select(central, b.op("multiply", x0, p), b.op("multiply", sign, tail_value))
    value = b.select(at_one, b.op("multiply", x, b.const(np.inf)), value)
    return b.select(invalid, b.const(np.nan), value)


def logistic_lowering(ctx, x, **params):
    """Lowering of ``logistic_p`` as JAX 0.12.1: ``1 / (1 + exp(-x))``, and for float16 the
    overflow-safe ``select(x >= 0, 1, e) / (1 + e)`` with ``e = exp(-|x|)``."""
    aval = ctx.avals_in[0]
    b = _Builder(ctx.e, aval.shape, np.dtype(aval.dtype))
    one = b.const(1.0)
    if aval.dtype == np.float16:
        e = b.op("exponential", b.op("negate", b.op("abs", x)))
        numerator = b.select(b.compare("GE", x, b.const(0.0)), one, e)
        return b.op("divide", numerator, b.op("add", one, e))
    return b.op("divide", one, b.op("add", one, b.op("exponential", b.op("negate", x))))
