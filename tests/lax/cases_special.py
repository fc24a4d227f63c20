"""Reference cases for the special-function primitives (jaxel/lax/special.py), the pi-scaled
trigonometric family (jaxel/lax/pi_trig.py) and the other added elementwise primitives
(jaxel/lax/arith_more.py). References are SciPy/NumPy in float64, rounded to the case dtype.

Loop-based primitives (incomplete gamma/beta) get few, small cases: each compiles a
``while_loop``. Inputs that must lie in a domain narrower than the ``Arg`` domains (a
probability, a tangent away from its poles) are fixed arrays.
"""
from __future__ import annotations

import zlib

import numpy as np
import scipy.special as sp

from jaxel import lax
from tests.lax.case import Arg, Case, bf16
from tests.lax.cases_elementwise import _f, binary, unary

F32, F64, F16 = np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.float16)
I32, U32, I8, U8 = (np.dtype(t) for t in (np.int32, np.uint32, np.int8, np.uint8))
SMALL = [(), (3,), (2, 3)]
LOOP_SHAPES = [(3,), (2, 3)]


def _fixed(name, lo, hi, shape, dt):
    """A fixed input uniform in [lo, hi] (deterministic per case name)."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    return rng.uniform(lo, hi, shape).astype(dt)


def _with_f64(cases_f32, name, fn, ref, args, **kw):
    """The float32 cases plus one float64 case under x64."""
    return cases_f32 + [Case(f"{name}-float64", fn, _f(ref, F64), args, x64=True, **kw)]


def _dgammainc_da(a, x):
    h = 1e-6 * np.maximum(a, 1.0)
    return (sp.gammainc(a + h, x) - sp.gammainc(a - h, x)) / (2 * h)


def _loop_binary(name, fn, ref, dom=("positive", "positive"), rtol=1e-4, atol=1e-5, f64_rtol=1e-9):
    return _with_f64(binary(name, fn, ref, [F32], dom, shapes=LOOP_SHAPES, rtol=rtol, atol=atol),
                     name, fn, ref, [Arg((3,), F64, dom[0]), Arg((3,), F64, dom[1])],
                     rtol=f64_rtol, atol=1e-12)


def _betainc_cases():
    out = []
    for dt, shape, tol in [(F32, (3,), 1e-4), (F32, (2, 3), 1e-4), (F64, (3,), 1e-9)]:
        name = f"betainc-{dt.name}-{shape}"
        out.append(Case(name, lax.betainc, _f(sp.betainc, dt),
                        [Arg(shape, dt, "positive"), Arg(shape, dt, "positive"),
                         _fixed(name, 0.05, 0.95, shape, dt)],
                        rtol=tol, atol=1e-6 if dt == F32 else 1e-12, x64=dt == F64))
    return out


def _polygamma_cases():
    out = []
    for m in (1, 2):
        fn = lambda x, m=m: lax.polygamma(float(m), x)  # noqa: E731
        ref = lambda x, m=m: sp.polygamma(m, x)  # noqa: E731
        out += unary(f"polygamma{m}", fn, ref, [F32], "positive", shapes=SMALL, rtol=1e-4)
        out.append(Case(f"polygamma{m}-float64", fn, _f(ref, F64), [Arg((3,), F64, "positive")],
                        x64=True, rtol=1e-9))
    return out


def _zeta_cases():
    fn = lambda x, q: lax.zeta(x, q)  # noqa: E731
    ref = lambda x, q: sp.zeta(x + 1.0, q)  # noqa: E731
    shifted = lambda x, q: fn(lax.add(x, 1.0), q)  # noqa: E731
    return _with_f64(binary("zeta", shifted, ref, [F32], ("above_one", "positive"), shapes=SMALL,
                            rtol=1e-4),
                     "zeta", shifted, ref, [Arg((3,), F64, "above_one"), Arg((3,), F64, "positive")],
                     rtol=1e-9)


def _pi_unary(name, fn, ref, domain="normal"):
    f32 = unary(name, fn, ref, [F32], domain, shapes=SMALL)
    f32 += unary(name, fn, ref, [F16, bf16], domain, shapes=[(3,)])
    return f32 + [Case(f"{name}-float64", fn, _f(ref, F64), [Arg((3,), F64, domain)], x64=True)]


def _tanpi_cases():
    out = []
    for dt, shape in [(F32, ()), (F32, (2, 3)), (F16, (3,)), (F64, (3,))]:
        name = f"tanpi-{dt.name}-{shape}"
        # |x| < 0.45 (poles at +-1/2) plus a shift by whole turns, where tanpi is periodic.
        x = _fixed(name, -0.45, 0.45, shape, dt) + np.asarray(3, dt)
        out.append(Case(name, lax.tanpi, _f(lambda v: np.tan(np.pi * (v - 3.0)), dt), [x],
                        x64=dt == F64, rtol=1e-3 if dt == F16 else None))
    return out


def _mulhi_ref(x, y):
    """The high half of the exact product (Python ints; ``>>`` floors, as an arithmetic shift
    of the two's-complement product does), wrapped back to the dtype's width."""
    bits = x.dtype.itemsize * 8
    hi = [((int(a) * int(b)) >> bits) % (1 << bits) for a, b in zip(x.ravel(), y.ravel())]
    return np.array(hi, np.dtype(f"u{x.dtype.itemsize}")).view(x.dtype).reshape(x.shape)


def _total_key(v):
    """Map floats to signed ints ordered as IEEE totalOrder (-NaN < -inf < -0 < +0 < NaN)."""
    v = np.asarray(v)
    if v.dtype.kind != "f":
        return v
    i = v.view(np.dtype(f"i{v.dtype.itemsize}")).astype(np.int64)
    mask = (1 << (v.dtype.itemsize * 8 - 1)) - 1
    return np.where(i < 0, i ^ mask, i)


_SPECIAL_X = np.array([0.0, -0.0, np.nan, 1.0, -np.inf, np.inf, 2.0], np.float32)
_SPECIAL_Y = np.array([-0.0, 0.0, np.nan, np.nan, -np.inf, 3.0, 2.0], np.float32)


def _total_order_cases(name, prim, op):
    fn = lambda x, y: prim.bind(x, y)  # noqa: E731
    ref = lambda x, y: op(_total_key(x), _total_key(y))  # noqa: E731
    return ([Case(f"{name}-special-f32", fn, ref, [_SPECIAL_X, _SPECIAL_Y]),
             Case(f"{name}-special-f64", fn, ref, [_SPECIAL_X.astype(F64), _SPECIAL_Y.astype(F64)],
                  x64=True)] +
            binary(name, fn, ref, [F32], shapes=SMALL) +
            binary(name, fn, ref, [F16, I32, U8], shapes=[(3,)]))


def _poly_ref(x, *cs):
    acc = cs[-1]
    for c in reversed(cs[:-1]):
        acc = acc * x + c
    return acc


def _polynomial_cases():
    fn = lambda x, c0, c1, c2: lax.polynomial(x, [c0, c1, c2])  # noqa: E731
    out = [Case(f"polynomial-{dt.name}-{s}", fn, _f(_poly_ref, dt), [Arg(s, dt)] * 4)
           for dt in [F32, F16] for s in SMALL]
    out += [Case(f"polynomial-int32-{s}", fn, _poly_ref, [Arg(s, I32, "small_int")] * 4)
            for s in SMALL]
    out.append(Case("polynomial-scalar-coeffs", lambda x: lax.polynomial(x, [1.0, -2.0, 0.5, 3.0]),
                    _f(lambda x: _poly_ref(x, 1.0, -2.0, 0.5, 3.0), F32), [Arg((2, 3), F32)]))
    out.append(Case("polynomial-float64", fn, _f(_poly_ref, F64), [Arg((3,), F64)] * 4,
                    x64=True))
    return out


def _ternary(name, fn, ref, dtypes, shapes=SMALL, **kw):
    return [Case(f"{name}-{np.dtype(dt).name}-{s}", fn, _f(ref, dt), [Arg(s, dt)] * 3, **kw)
            for dt in dtypes for s in shapes]


def _random_gamma_cases():
    """random_gamma_p against JAX's primitive (same keys, same draws). The shape parameter is
    given as integers and converted inside, so the derivative checks (finite differences of a
    rejection sampler at fixed keys are not its implicit-reparameterisation derivative) skip it;
    test_special_primitives.py checks the derivative against JAX."""
    from jaxel.random import random_gamma_p

    def fn(log_space):
        return lambda k, a: random_gamma_p.bind(k, lax.convert_element_type(a, F32),
                                                log_space=log_space)

    def ref(log_space):
        def r(k, a):
            import pytest
            jax = pytest.importorskip("jax")
            return np.asarray(jax.random.random_gamma_p.bind(
                jax.random.wrap_key_data(k), a.astype(F32), log_space=log_space,
                out_sharding=None))
        return r

    keys = np.array([[0, 1], [7, 42], [123456789, 3]], np.uint32)
    a = np.array([1, 3, 7], np.int32)
    return [Case("random_gamma-per-key", fn(False), ref(False), [keys, a], rtol=1e-5),
            Case("random_gamma-log-space", fn(True), ref(True), [keys, a], rtol=1e-5),
            Case("random_gamma-one-key", fn(False), ref(False),
                 [keys[1], np.array([[2, 5], [1, 9]], np.int32)], rtol=1e-5)]


_LN2 = np.log(2.0)

CASES = {
    # ---- special functions (jaxel/lax/special.py) ----
    "igamma": _loop_binary("igamma", lax.igamma, sp.gammainc),
    "igammac": _loop_binary("igammac", lax.igammac, sp.gammaincc),
    "igamma_grad_a": _loop_binary("igamma_grad_a", lax.igamma_grad_a, _dgammainc_da,
                                  rtol=1e-3, atol=1e-4, f64_rtol=1e-6),
    "regularized_incomplete_beta": _betainc_cases(),
    "polygamma": _polygamma_cases(),
    "zeta": _zeta_cases(),
    "bessel_i0e": _pi_unary("bessel_i0e", lax.bessel_i0e, sp.i0e),
    "bessel_i1e": _pi_unary("bessel_i1e", lax.bessel_i1e, sp.i1e),
    # ---- pi-scaled trigonometry (jaxel/lax/pi_trig.py) ----
    "sinpi": _pi_unary("sinpi", lax.sinpi, lambda x: np.sin(np.pi * x)),
    "cospi": _pi_unary("cospi", lax.cospi, lambda x: np.cos(np.pi * x)),
    "tanpi": _tanpi_cases(),
    "asinpi": _pi_unary("asinpi", lax.asinpi, lambda x: np.arcsin(x) / np.pi, "unit"),
    "acospi": _pi_unary("acospi", lax.acospi, lambda x: np.arccos(x) / np.pi, "unit"),
    "atanpi": _pi_unary("atanpi", lax.atanpi, lambda x: np.arctan(x) / np.pi),
    "atan2pi": binary("atan2pi", lax.atan2pi, lambda x, y: np.arctan2(x, y) / np.pi,
                      [F32, F16], shapes=SMALL) +
               [Case("atan2pi-float64", lax.atan2pi, _f(lambda x, y: np.arctan2(x, y) / np.pi, F64),
                     [Arg((3,), F64), Arg((3,), F64)], x64=True)],
    # ---- base-2 exponentials and logarithms, fma, mulhi, squares (jaxel/lax/arith_more.py) ----
    "exp2m1": unary("exp2m1", lax.exp2m1, lambda x: np.expm1(x * _LN2), [F32, F16, bf16],
                    shapes=SMALL),
    "log2": unary("log2", lax.log2, np.log2, [F32, F16], "positive", shapes=SMALL) +
            unary("log2", lax.log2, lambda z: np.log(z) / _LN2, [np.dtype(np.complex64)],
                  shapes=SMALL),
    "log2p1": unary("log2p1", lax.log2p1, lambda x: np.log1p(x) / _LN2, [F32, F16], "positive",
                    shapes=SMALL),
    "fma": _ternary("fma", lax.fma, lambda a, b, c: a * b + c, [F32]) +
           _ternary("fma", lax.fma, lambda a, b, c: a * b + c, [F16, bf16], shapes=[(3,)]) +
           [Case("fma-float64", lax.fma, _f(lambda a, b, c: a * b + c, F64), [Arg((3,), F64)] * 3,
                 x64=True)],
    "fmuladd": _ternary("fmuladd", lax.fmuladd, lambda a, b, c: a * b + c, [F32]) +
               _ternary("fmuladd", lax.fmuladd, lambda a, b, c: a * b + c, [F16, bf16],
                        shapes=[(3,)]),
    "mulhi": binary("mulhi", lax.mulhi, _mulhi_ref, [I32], ("any_int", "any_int"),
                    shapes=SMALL) +
             binary("mulhi", lax.mulhi, _mulhi_ref, [U32, I8, U8], ("any_int", "any_int"),
                    shapes=[(3,)]) +
             [Case(f"mulhi-{dt.name}-x64", lax.mulhi, _mulhi_ref,
                   [np.array([-7, 2**62 + 11, -(2**63), 5], dt) if dt.kind == "i" else
                    np.array([2**63 + 5, 2**64 - 1, 7, 0], dt),
                    np.array([2**62, 3, -(2**63), -1], dt) if dt.kind == "i" else
                    np.array([2**63 + 3, 2**64 - 1, 2**40, 9], dt)], x64=True)
              for dt in (np.dtype(np.int64), np.dtype(np.uint64))],
    "square": unary("square", lax.square, lambda x: x * x, [F32], shapes=SMALL) +
              unary("square", lax.square, lambda x: x * x, [F16, bf16, np.dtype(np.complex64)],
                    shapes=[(3,)]) +
              unary("square", lax.square, lambda x: x * x, [I32, U8], "small_int",
                    shapes=[(3,)]),
    "one_minus_square": unary("one_minus_square", lax.one_minus_square,
                              lambda x: (1 + x) * (1 - x), [F32, F16, np.dtype(np.complex64)],
                              shapes=SMALL) +
                        unary("one_minus_square", lax.one_minus_square,
                              lambda x: (1 + x) * (1 - x), [I32], "small_int", shapes=SMALL),
    "polynomial": _polynomial_cases(),
    "eq_to": _total_order_cases("eq_to", lax.eq_to_p, np.equal),
    "le_to": _total_order_cases("le_to", lax.le_to_p, np.less_equal),
    "lt_to": _total_order_cases("lt_to", lax.lt_to_p, np.less),
    "random_gamma": _random_gamma_cases(),
    "copy": unary("copy", lax.copy_p.bind, lambda x: x, [F32], shapes=SMALL) +
            unary("copy", lax.copy_p.bind, lambda x: x, [bf16, I32, np.dtype(bool)],
                  shapes=[(3,)]),
}
