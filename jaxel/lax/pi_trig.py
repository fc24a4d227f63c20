"""Trigonometric functions of ``pi * x`` and their inverses divided by ``pi``: ``sinpi``,
``cospi``, ``tanpi``, ``asinpi``, ``acospi``, ``atanpi``, ``atan2pi`` (primitives in
``jax.lax``).

``sinpi``/``cospi`` reduce ``x`` modulo 2 exactly (``x - 2 round(x / 2)`` has no rounding
error), so ``sinpi(n) == 0`` and ``cospi(n + 1/2) == 0`` exactly for every integer ``n``, even
huge ones where ``sin(pi * x)`` is meaningless. The reduced argument is folded into
``[0, 1/4]`` where ``sin``/``cos`` of ``pi * r`` are accurate. Zeros follow JAX: ``sinpi(n)``
has the sign of ``n``; ``cospi`` zeros are ``+0``; ``tanpi = sinpi / cospi`` (so
``tanpi(1/2) = inf``). 16- and 32-bit floats are computed in float64, so their results are
rounded once.
"""
from __future__ import annotations

import math

from jaxel.lax._composite import lower_via
from jaxel.lax._rules import FLOAT, as_operands, standard_naryop, standard_unary
from jaxel.lax.elementwise import (abs, acos, add, asin, atan, atan2, cos, div, eq, le, lt, mul,
                                   neg, round, rsqrt, select, sin, sub)
from jaxel.transforms import ad_util as _ad
from jaxel.transforms import batching as _batching

__all__ = ["sinpi", "cospi", "tanpi", "asinpi", "acospi", "atanpi", "atan2pi", "sinpi_p",
           "cospi_p", "tanpi_p", "asinpi_p", "acospi_p", "atanpi_p", "atan2pi_p"]

_PI = math.pi


def _reduce(x):
    """``(r, |r|)`` with ``r = x - 2 round(x / 2)`` in [-1, 1], computed exactly."""
    r = sub(x, mul(round(mul(x, 0.5), 1), 2.0))
    return r, abs(r)


def _sin_pi_abs(a):
    """sin(pi a) for a in [0, 1], folded to arguments in [0, pi/4]."""
    return select(le(a, 0.25), sin(mul(a, _PI)),
                  select(le(a, 0.75), cos(mul(sub(0.5, a), _PI)), sin(mul(sub(1.0, a), _PI))))


def _cos_pi_abs(a):
    """cos(pi a) for a in [0, 1] (0.5 - a and 1 - a are exact where they are used)."""
    return select(le(a, 0.25), cos(mul(a, _PI)),
                  select(le(a, 0.75), sin(mul(sub(0.5, a), _PI)), neg(cos(mul(sub(1.0, a), _PI)))))


def _sinpi_impl(x):
    r, a = _reduce(x)
    s = _sin_pi_abs(a)
    s = select(lt(r, 0.0), neg(s), s)
    # Exact zeros carry the sign of x (x * 0 is +-0 for finite x; inf gives NaN above anyway).
    return select(eq(s, 0.0), mul(x, 0.0), s)


def _cospi_impl(x):
    _, a = _reduce(x)
    return _cos_pi_abs(a)


def _tanpi_impl(x):
    return div(_sinpi_impl(x), _cospi_impl(x))


def _unary(name, impl):
    p = standard_unary(name, "unused", FLOAT)
    p.lowering = lower_via(impl, upcast_32bit=True)
    _batching.defvectorized(p)
    return p


sinpi_p = _unary("sinpi", _sinpi_impl)
cospi_p = _unary("cospi", _cospi_impl)
tanpi_p = _unary("tanpi", _tanpi_impl)
asinpi_p = _unary("asinpi", lambda x: div(asin(x), _PI))
acospi_p = _unary("acospi", lambda x: div(acos(x), _PI))
atanpi_p = _unary("atanpi", lambda x: div(atan(x), _PI))
atan2pi_p = standard_naryop("atan2pi", "unused", FLOAT)
atan2pi_p.lowering = lower_via(lambda x, y: div(atan2(x, y), _PI), upcast_32bit=True)
_batching.defbroadcasting(atan2pi_p)


def _one_minus_square(x):
    from jaxel.lax.arith_more import one_minus_square
    return one_minus_square(x)


_ad.defjvp(sinpi_p, lambda t, x: mul(t, mul(cospi(x), _PI)))
_ad.defjvp(cospi_p, lambda t, x: neg(mul(t, mul(sinpi(x), _PI))))
_ad.defjvp2(tanpi_p, lambda t, ans, x: mul(t, mul(add(1.0, mul(ans, ans)), _PI)))
_ad.defjvp(asinpi_p, lambda t, x: mul(t, div(rsqrt(_one_minus_square(x)), _PI)))
_ad.defjvp(acospi_p, lambda t, x: neg(mul(t, div(rsqrt(_one_minus_square(x)), _PI))))
_ad.defjvp(atanpi_p, lambda t, x: div(t, mul(add(1.0, mul(x, x)), _PI)))
_ad.defjvp(atan2pi_p,
           lambda t, x, y: mul(t, div(y, mul(add(mul(x, x), mul(y, y)), _PI))),
           lambda t, x, y: mul(neg(t), div(x, mul(add(mul(x, x), mul(y, y)), _PI))))


def sinpi(x):
    """Elementwise ``sin(pi * x)``, exact at integers and half-integers."""
    return sinpi_p.bind(x)


def cospi(x):
    """Elementwise ``cos(pi * x)``, exact at integers and half-integers."""
    return cospi_p.bind(x)


def tanpi(x):
    """Elementwise ``tan(pi * x)`` (``inf`` with the sign of ``sinpi`` at half-integers)."""
    return tanpi_p.bind(x)


def asinpi(x):
    """Elementwise ``asin(x) / pi``, in [-1/2, 1/2]."""
    return asinpi_p.bind(x)


def acospi(x):
    """Elementwise ``acos(x) / pi``, in [0, 1]."""
    return acospi_p.bind(x)


def atanpi(x):
    """Elementwise ``atan(x) / pi``, in [-1/2, 1/2]."""
    return atanpi_p.bind(x)


def atan2pi(x, y):
    """Elementwise ``atan2(x, y) / pi``, in [-1, 1] (the angle of the point ``(y, x)`` in
    half-turns)."""
    x, y = as_operands(x, y)
    return atan2pi_p.bind(x, y)
