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


# erfc
# ----
# erfc(|x|) = exp(-x**2) * r * p(r), r = 1 / (|x| + k), with exp(-x**2) computed as
# exp(-hi**2) * (1 + expm1(-lo * (|x| + hi))) from a split |x| = hi + lo (hi keeps the upper half
# of the mantissa, so hi**2 is exact); erfc(x) = 2 - erfc(|x|) for x < 0. float16/bfloat16 use a
# shorter polynomial each, without the split, in float32. Values are JAX 0.12.1's.
_ERFC_F32 = dict(clamp=10.5, split=49152.0, expm1=[0.50005281, 0.166673735], k=2.0, shift=None,
                 poly=[0.564175904, 1.12936091, 1.94741154, 3.21784306, -0.709048152,
                       17.3069077, -61.3700523, 71.7574615, -29.7377338])
_ERFC_F64 = dict(clamp=27.5, split=3221225472.0, expm1=[0.5, 0.16666666666666666], k=4.0,
                 shift=0.140625,
                 poly=[1.2312883822661311, 9.584122681402345, 64.687497604633549,
                       377.18442231124402, 1881.7766344126214, 7884.73724944896,
                       26777.907602907952, 68197.900381503146, 101528.07682640621,
                       -58763.335742080686, -741302.13178706367, -1344487.5543793645,
                       2203823.5566122746, 13126642.36599588, 2754780.2173677855,
                       -96562370.036583349, -113571582.60808662, 665991060.07917035,
                       1262398429.547416, -3489516529.4090862, -8326578548.8538713])
_ERFC_LOW = {"bfloat16": [0.564396203, 1.11837018, 2.15969706, 1.12711143, 10.9175777,
                          -20.557188, 9.96231651],
             "float16": [0.554323196, 1.32666957, 0.430059046, 8.51543521, -6.2333622]}


def _horner(b, coefficients, z):
    p = b.const(coefficients[-1])
    for coef in reversed(coefficients[:-1]):
        p = b.op("fma", p, z, b.const(coef))
    return p


def erfc_lowering(ctx, x, **params):
    """Lowering of ``erfc_p``: JAX 0.12.1's expansion (see above)."""
    aval = ctx.avals_in[0]
    dtype = np.dtype(aval.dtype)
    if dtype in (np.float16, np.dtype("bfloat16")):
        b = _Builder(ctx.e, aval.shape, np.dtype(np.float32))
        xw = b.op("convert", x)
        a = b.op("abs", xw)
        e = b.op("exponential", b.op("negate", b.op("multiply", a, a)))
        r = b.op("divide", b.const(1.0), b.op("add", a, b.const(2.0)))
        res = b.op("multiply", e, b.op("multiply", r, _horner(b, _ERFC_LOW[dtype.name], r)))
        out = b.select(b.compare("LT", xw, b.const(0.0)), b.op("subtract", b.const(2.0), res),
                       res)
        return ctx.e.op1("stablehlo.convert", [out], tensor_type(aval))
    t = _ERFC_F64 if dtype == np.float64 else _ERFC_F32
    b = _Builder(ctx.e, aval.shape, dtype)
    a = b.op("minimum", b.op("abs", x), b.const(t["clamp"]))
    split = b.const(t["split"])
    hi = b.op("subtract", b.op("add", a, split), split)
    lo = b.op("subtract", a, hi)
    e = b.op("exponential", b.op("negate", b.op("multiply", hi, hi)))
    u = b.op("negate", b.op("multiply", lo, b.op("add", a, hi)))
    c1, c2 = t["expm1"]
    em1 = b.op("multiply", u, b.op("fma", b.op("fma", b.const(c2), u, b.const(c1)), u,
                                   b.const(1.0)))
    r = b.op("divide", b.const(1.0), b.op("add", a, b.const(t["k"])))
    z = r if t["shift"] is None else b.op("subtract", r, b.const(t["shift"]))
    q = b.op("multiply", r, _horner(b, t["poly"], z))
    res = b.op("multiply", e, b.op("add", q, b.op("multiply", q, em1)))
    return b.select(b.compare("LT", x, b.const(0.0)), b.op("subtract", b.const(2.0), res), res)
