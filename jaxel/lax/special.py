"""Special-function primitives: incomplete gamma and beta, polygamma, Hurwitz zeta, the scaled
modified Bessel functions ``i0e``/``i1e``, and ``random_gamma_grad``.

``jax.lax`` has these as primitives (they appear by name in jaxprs). ``zeta`` and ``polygamma``
lower to XLA's ``chlo`` operations; the others have no XLA operation and lower by tracing a
composition of lax operations (``_composite.lower_via``): a series or continued fraction run as
one vectorised ``while_loop`` that stops when every element has converged. ``jaxel.scipy.special``
calls these after promoting its arguments.

Derivatives: in ``x`` they are closed forms (densities); in the shape parameters ``a``/``b``
they come from forward-mode differentiation of the composition itself (JAX supports only
``igamma``'s ``a``; jaxel also differentiates ``betainc`` in ``a``, ``b`` and ``igamma_grad_a``
in ``a``, in forward and reverse mode, since the loop is only ever differentiated forwards to
compute a primal-level partial derivative).
"""
from __future__ import annotations

import math

import numpy as np

from jaxel.lax._composite import lower_via
from jaxel.lax._rules import FLOAT, as_operands, standard_naryop, standard_unary
from jaxel.lax.elementwise import (_filled, abs, add, bitwise_and, bitwise_not, bitwise_or,
                                   convert_element_type, digamma, div, eq, exp, ge, gt, le,
                                   lgamma, log, log1p, lt, mul, ne, neg, pow, select, sign, sqrt,
                                   sub)
from jaxel.lax.reductions import reduce_or
from jaxel.transforms import ad_util as _ad
from jaxel.transforms import batching as _batching

__all__ = ["igamma", "igammac", "igamma_grad_a", "random_gamma_grad", "betainc", "polygamma",
           "zeta", "bessel_i0e", "bessel_i1e", "igamma_p", "igammac_p", "igamma_grad_a_p",
           "regularized_incomplete_beta_p", "polygamma_p", "zeta_p", "bessel_i0e_p",
           "bessel_i1e_p"]

_MAX_ITERS = 2000
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


# ---- small helpers over lax ops (operands here always share one shape and dtype) ---------------
def _where(c, a, b, like=None):
    """``select`` that also takes Python scalars for either branch (both: give ``like``)."""
    if like is None:
        like = b if isinstance(a, (int, float)) else a
    a = _filled(like, a) if isinstance(a, (int, float)) else a
    b = _filled(like, b) if isinstance(b, (int, float)) else b
    return select(c, a, b)


def _isnan(x):
    return ne(x, x)


def _any(p):
    return reduce_or(p, tuple(range(len(p.aval.shape))))


def _finfo(x):
    return np.finfo(np.dtype(x.aval.dtype))


def _or(*ps):
    out = ps[0]
    for p in ps[1:]:
        out = bitwise_or(out, p)
    return out


def _and(p, q):
    return bitwise_and(p, q)


def _not(p):
    return bitwise_not(p)


def _count(x):
    """A scalar int32 loop counter (the carry of the convergence loops)."""
    del x
    return np.asarray(0, np.int32)


def _while(cond, body, init):
    from jaxel.lax.control_flow import while_loop
    return while_loop(cond, body, init)


# ---- regularised incomplete gamma: series for x < a + 1, continued fraction above ---------------
def _igamma_prefactor_log(a, x):
    """``a log x - x - lgamma(a)``. For ``a >= 10`` Stirling's series for ``lgamma`` turns it
    into ``a log1p((x - a) / a) + (a - x) + log(a) / 2 - log(2 pi) / 2 - S(a)``, which avoids
    the cancellation of three large terms (float32 with ``a ~ 1e4``)."""
    direct = sub(sub(mul(a, log(x)), x), lgamma(a))
    big = ge(a, 10.0)
    ab = _where(big, a, 10.0)
    inv = div(1.0, ab)
    inv2 = mul(inv, inv)
    stirling = mul(inv, sub(1.0 / 12, mul(inv2, sub(1.0 / 360, mul(inv2, sub(
        1.0 / 1260, div(inv2, 1680.0)))))))
    stable = sub(sub(add(add(mul(ab, log1p(div(sub(x, ab), ab))), sub(ab, x)),
                         mul(log(ab), 0.5)), _HALF_LOG_2PI), stirling)
    return select(big, stable, direct)


def _igamma_series(a, x):
    """P(a, x) by its power series, and dP/da (the series' derivative carried alongside)."""
    eps = float(_finfo(a).eps)

    def cond(c):
        i, _, term, s, _, _ = c
        return _and(lt(i, _MAX_ITERS), _any(gt(abs(term), mul(abs(s), eps))))

    def body(c):
        i, ap, term, s, h, ds = c
        ap = add(ap, 1.0)
        term = div(mul(term, x), ap)
        h = add(h, div(1.0, ap))
        return add(i, 1), ap, term, add(s, term), h, sub(ds, mul(term, h))

    term0 = div(1.0, a)
    _, _, _, s, _, ds = _while(cond, body, (_count(a), a, term0, term0, term0,
                                            neg(mul(term0, term0))))
    pref = exp(_igamma_prefactor_log(a, x))
    p = mul(pref, s)
    dp = add(mul(p, sub(log(x), digamma(a))), mul(pref, ds))
    return p, dp


def _igammac_cf(a, x):
    """Q(a, x) by its continued fraction (modified Lentz), and dQ/da by carrying the
    derivative of every Lentz quantity."""
    fi = _finfo(a)
    eps, tiny = float(fi.eps), float(fi.tiny) * 1e3

    def clamp(v):
        return _where(lt(abs(v), tiny), tiny, v)

    def cond(c):
        i, *_, dl, ddl = c
        return _and(lt(i, _MAX_ITERS),
                    _any(_or(gt(abs(sub(dl, 1.0)), eps), gt(abs(ddl), eps))))

    def body(c):
        i, b, c_, d, h, dc, dd, dh, _, _ = c
        f = convert_element_type(add(i, 1), a.aval.dtype)
        an = mul(neg(f), sub(f, a))
        b = add(b, 2.0)  # db/da stays -1
        dpre = clamp(add(mul(an, d), b))
        ddpre = sub(add(mul(f, d), mul(an, dd)), 1.0)
        cpre = clamp(add(b, div(an, c_)))
        dcpre = add(-1.0, div(sub(mul(f, c_), mul(an, dc)), mul(c_, c_)))
        d = div(1.0, dpre)
        dd = neg(mul(mul(ddpre, d), d))
        dl = mul(d, cpre)
        ddl = add(mul(dd, cpre), mul(d, dcpre))
        dh = add(mul(dh, dl), mul(h, ddl))
        return add(i, 1), b, cpre, d, mul(h, dl), dcpre, dd, dh, dl, ddl

    b0 = sub(add(x, 1.0), a)
    d0 = div(1.0, b0)
    init = (_count(a), b0, _filled(x, 1.0 / tiny), d0, d0, _filled(x, 0), mul(d0, d0),
            mul(d0, d0), _filled(x, 0), _filled(x, 1))
    out = _while(cond, body, init)
    h, dh = out[4], out[7]
    pref = exp(_igamma_prefactor_log(a, x))
    q = mul(pref, h)
    dq = add(mul(q, sub(log(x), digamma(a))), mul(pref, dh))
    return q, dq


def _igamma_all(a, x):
    """(P, Q, dP/da) with JAX's edge cases: NaN for a < 0 or x < 0 or NaN inputs; P(0, x>0) = 1;
    P(a, 0) = 0; P(a, inf) = 1."""
    use_series = lt(x, add(a, 1.0))
    bad = _or(lt(a, 0.0), lt(x, 0.0), _isnan(a), _isnan(x))
    trivial = _or(eq(x, 0.0), eq(a, 0.0), eq(x, float("inf")), bad)
    a_s = _where(trivial, 1.0, a)
    # Each branch gets inputs in its own domain, so the branch not taken cannot overflow.
    xs = select(_and(use_series, _not(trivial)), x, mul(a_s, 0.5))
    xc = select(_or(use_series, trivial), add(mul(a_s, 2.0), 10.0), x)
    p_ser, dp_ser = _igamma_series(a_s, xs)
    q_cf, dq_cf = _igammac_cf(a_s, xc)
    p = select(use_series, p_ser, sub(1.0, q_cf))
    q = select(use_series, sub(1.0, p_ser), q_cf)
    dp = select(use_series, dp_ser, neg(dq_cf))
    p_edge = _where(eq(x, 0.0), 0.0, 1.0, like=x)
    p = select(trivial, p_edge, p)
    q = select(trivial, sub(1.0, p_edge), q)
    dp = _where(trivial, 0.0, dp)
    nan = float("nan")
    return _where(bad, nan, p), _where(bad, nan, q), _where(bad, nan, dp)


def _igamma_dx(a, x):
    """d/dx P(a, x): the Gamma(a, 1) density."""
    return exp(sub(sub(mul(sub(a, 1.0), log(x)), x), lgamma(a)))


def _forward_partial(fun, i, args):
    """d fun / d args[i] by forward-mode differentiation of the composition ``fun``."""
    from jaxel.ad import jvp
    tangents = tuple(_filled(a, 1 if j == i else 0) for j, a in enumerate(args))
    return jvp(fun, tuple(args), tangents)[1]


_partials: dict = {}


def _partial(fun, i):
    """``d fun / d arg i`` as a function of the primal arguments, computed by forward-mode
    differentiation of ``fun`` and itself given a ``custom_jvp`` rule of the same kind (built
    on demand). So derivatives of any order work in forward and reverse mode although ``fun``
    contains ``while_loop``s, which reverse mode cannot differentiate: a loop is only ever
    differentiated forwards, at the primal level."""
    key = (fun, i)
    f = _partials.get(key)
    if f is not None:
        return f
    from jaxel.custom_derivatives import custom_jvp

    def d(*args):
        return _forward_partial(fun, i, args)

    f = custom_jvp(d)

    @f.defjvp
    def _rule(primals, tangents):
        tan = None
        for j, t in enumerate(tangents):
            term = mul(t, _partial(d, j)(*primals))
            tan = term if tan is None else add(tan, term)
        return f(*primals), tan

    _partials[key] = f
    return f


def _igamma_grad_a_impl(a, x):
    return _igamma_all(a, x)[2]


def _binary_prim(name, impl, upcast=True):
    p = standard_naryop(name, "unused", FLOAT, nargs=2)
    p.lowering = lower_via(impl, upcast_16bit=upcast)
    _batching.defbroadcasting(p)
    return p


igamma_p = _binary_prim("igamma", lambda a, x: _igamma_all(a, x)[0])
igammac_p = _binary_prim("igammac", lambda a, x: _igamma_all(a, x)[1])
igamma_grad_a_p = _binary_prim("igamma_grad_a", _igamma_grad_a_impl)

_ad.defjvp(igamma_p, lambda t, a, x: mul(t, igamma_grad_a(a, x)),
           lambda t, a, x: mul(t, _igamma_dx(a, x)))
_ad.defjvp(igammac_p, lambda t, a, x: neg(mul(t, igamma_grad_a(a, x))),
           lambda t, a, x: neg(mul(t, _igamma_dx(a, x))))
# d/dx dP/da = density * (log x - digamma(a)); d/da by forward differentiation of the loop.
_ad.defjvp(igamma_grad_a_p,
           lambda t, a, x: mul(t, _partial(_igamma_grad_a_impl, 0)(a, x)),
           lambda t, a, x: mul(t, mul(_igamma_dx(a, x), sub(log(x), digamma(a)))))


def igamma(a, x):
    """Elementwise regularized lower incomplete gamma function ``P(a, x)`` (same-dtype float
    operands; rank-0 operands broadcast)."""
    a, x = as_operands(a, x)
    return igamma_p.bind(a, x)


def igammac(a, x):
    """Elementwise regularized upper incomplete gamma function ``Q(a, x) = 1 - P(a, x)``."""
    a, x = as_operands(a, x)
    return igammac_p.bind(a, x)


def igamma_grad_a(a, x):
    """Elementwise derivative ``dP(a, x)/da`` of the regularized incomplete gamma function."""
    a, x = as_operands(a, x)
    return igamma_grad_a_p.bind(a, x)


def random_gamma_grad(a, x):
    """Elementwise derivative of a ``Gamma(a, 1)`` sample ``x`` with respect to ``a`` (implicit
    differentiation of ``P(a, x) = u`` at fixed ``u``: ``-(dP/da) / (dP/dx)``)."""
    a, x = as_operands(a, x)
    # The density underflows far in the tails; in log space the ratio stays finite.
    return neg(div(igamma_grad_a(a, x), _igamma_dx(a, x)))


# ---- regularised incomplete beta: continued fraction, with the symmetry I_x(a,b)=1-I_1-x(b,a) ----
def _betacf(a, b, x):
    """The continued fraction of I_x(a, b) (modified Lentz, two steps per iteration)."""
    fi = _finfo(a)
    eps, tiny = float(fi.eps), float(fi.tiny) * 1e3
    qab, qap, qam = add(a, b), add(a, 1.0), sub(a, 1.0)

    def clamp(v):
        return _where(lt(abs(v), tiny), tiny, v)

    def cond(c):
        m, _, _, _, dl = c
        return _and(lt(m, _MAX_ITERS + 1), _any(gt(abs(sub(dl, 1.0)), eps)))

    def body(c):
        m, c_, d, h, _ = c
        fm = convert_element_type(m, a.aval.dtype)
        m2 = mul(fm, 2.0)
        aa = div(mul(mul(fm, sub(b, fm)), x), mul(add(qam, m2), add(a, m2)))
        d = div(1.0, clamp(add(1.0, mul(aa, d))))
        c_ = clamp(add(1.0, div(aa, c_)))
        h = mul(mul(h, d), c_)
        aa = div(mul(mul(neg(add(a, fm)), add(qab, fm)), x), mul(add(a, m2), add(qap, m2)))
        d = div(1.0, clamp(add(1.0, mul(aa, d))))
        c_ = clamp(add(1.0, div(aa, c_)))
        dl = mul(d, c_)
        return add(m, 1), c_, d, mul(h, dl), dl

    d0 = div(1.0, clamp(sub(1.0, div(mul(qab, x), qap))))
    init = (np.asarray(1, np.int32), _filled(x, 1), d0, d0, _filled(x, 0))
    return _while(cond, body, init)[3]


def _betaln(a, b):
    return sub(add(lgamma(a), lgamma(b)), lgamma(add(a, b)))


def _betainc_impl(a, b, x):
    bad = _or(le(a, 0.0), le(b, 0.0), lt(x, 0.0), gt(x, 1.0), _isnan(a), _isnan(b), _isnan(x))
    edge = _or(eq(x, 0.0), eq(x, 1.0))
    swap = gt(x, div(add(a, 1.0), add(add(a, b), 2.0)))
    safe = _or(bad, edge)
    aa = _where(safe, 1.0, select(swap, b, a))
    bb = _where(safe, 1.0, select(swap, a, b))
    xx = _where(safe, 0.5, select(swap, sub(1.0, x), x))
    front = div(exp(sub(add(mul(aa, log(xx)), mul(bb, log1p(neg(xx)))), _betaln(aa, bb))), aa)
    r = mul(front, _betacf(aa, bb, xx))
    out = select(swap, sub(1.0, r), r)
    out = _where(eq(x, 0.0), 0.0, _where(eq(x, 1.0), 1.0, out))
    return _where(bad, float("nan"), out)


def _betainc_dx(a, b, x):
    """d/dx I_x(a, b): the Beta(a, b) density."""
    return exp(sub(add(mul(sub(a, 1.0), log(x)), mul(sub(b, 1.0), log1p(neg(x)))), _betaln(a, b)))


regularized_incomplete_beta_p = standard_naryop("regularized_incomplete_beta", "unused", FLOAT,
                                                nargs=3)
regularized_incomplete_beta_p.lowering = lower_via(_betainc_impl, upcast_16bit=True)
_batching.defbroadcasting(regularized_incomplete_beta_p)
_ad.defjvp(regularized_incomplete_beta_p,
           lambda t, a, b, x: mul(t, _partial(_betainc_impl, 0)(a, b, x)),
           lambda t, a, b, x: mul(t, _partial(_betainc_impl, 1)(a, b, x)),
           lambda t, a, b, x: mul(t, _betainc_dx(a, b, x)))


def betainc(a, b, x):
    """Elementwise regularized incomplete beta integral ``I_x(a, b)`` (differentiable in all
    three arguments)."""
    a, b, x = as_operands(a, b, x)
    return regularized_incomplete_beta_p.bind(a, b, x)


# ---- polygamma and Hurwitz zeta: XLA's chlo operations ------------------------------------------
polygamma_p = standard_naryop("polygamma", "chlo.polygamma", FLOAT)
zeta_p = standard_naryop("zeta", "chlo.zeta", FLOAT)
_batching.defbroadcasting(polygamma_p)
_batching.defbroadcasting(zeta_p)


def _polygamma_dm(t, m, x):
    raise ValueError("The derivative of polygamma with respect to m is not supported (it is "
                     "defined only at integer m); differentiate with respect to x only.")


_ad.defjvp(polygamma_p, _polygamma_dm, lambda t, m, x: mul(t, polygamma(add(m, 1.0), x)))

# B_2k / (2k)! for k = 1..12, for the Euler-Maclaurin form of zeta used for d/dx.
_BERN = [1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510, 43867 / 798,
         -174611 / 330, 854513 / 138, -236364091 / 2730]
_BERN_OVER_FACT = [bv / math.factorial(2 * (k + 1)) for k, bv in enumerate(_BERN)]
_ZETA_N = 9


def _zeta_euler_maclaurin(x, q):
    """zeta(x, q) as a differentiable composition: ``_ZETA_N`` direct terms, the integral of
    the rest and 12 Euler-Maclaurin corrections. Used for the derivative in ``x`` (XLA's
    ``chlo.zeta`` gives the value)."""
    direct = None
    for k in range(_ZETA_N):
        term = pow(add(q, float(k)), neg(x))
        direct = term if direct is None else add(direct, term)
    w = add(q, float(_ZETA_N))
    wx = pow(w, neg(x))
    tail = add(div(mul(w, wx), sub(x, 1.0)), mul(wx, 0.5))
    fact, wpow, inv_w2 = x, div(wx, w), div(1.0, mul(w, w))
    corr = _filled(x, 0)
    for j, cj in enumerate(_BERN_OVER_FACT):
        corr = add(corr, mul(mul(fact, wpow), cj))
        fact = mul(mul(fact, add(x, 2.0 * j + 1)), add(x, 2.0 * j + 2))
        wpow = mul(wpow, inv_w2)
    return add(add(direct, tail), corr)


# d/dq zeta(x, q) = -x zeta(x + 1, q); d/dx from the Euler-Maclaurin composition.
_ad.defjvp(zeta_p,
           lambda t, x, q: mul(t, _forward_partial(_zeta_euler_maclaurin, 0, (x, q))),
           lambda t, x, q: mul(t, neg(mul(x, zeta(add(x, 1.0), q)))))


def polygamma(m, x):
    """Elementwise polygamma ``psi^(m)(x)``, the m-th derivative of digamma (``m`` a float
    array holding a non-negative integer; NaN otherwise)."""
    m, x = as_operands(m, x)
    return polygamma_p.bind(m, x)


def zeta(x, q):
    """Elementwise Hurwitz zeta function ``sum_k (k + q)^-x``."""
    x, q = as_operands(x, q)
    return zeta_p.bind(x, q)


# ---- exponentially scaled modified Bessel functions I0, I1 ----------------------------------------
_BESSEL_SWITCH = 30.0
_BESSEL_SERIES_TERMS = 60
_BESSEL_ASYMP_TERMS = 20


def _bessel_series_scaled(nu, ax):
    """``exp(-ax) * I_nu(ax)`` by the power series (0 <= ax <= switch)."""
    y = mul(mul(ax, ax), 0.25)
    term = _filled(ax, 1) if nu == 0 else mul(ax, 0.5)
    s = term
    for k in range(1, _BESSEL_SERIES_TERMS):
        term = div(mul(term, y), float(k * (k + nu)))
        s = add(s, term)
    return mul(s, exp(neg(ax)))


def _bessel_asymptotic_scaled(nu, ax):
    """``exp(-ax) * I_nu(ax)`` by Hankel's asymptotic expansion (large ax)."""
    mu = 4.0 * nu * nu
    inv = div(1.0, mul(ax, 8.0))
    term = _filled(ax, 1)
    s = term
    for k in range(1, _BESSEL_ASYMP_TERMS + 1):
        term = mul(neg(term), mul(inv, (mu - (2 * k - 1) ** 2) / k))
        s = add(s, term)
    return div(s, sqrt(mul(ax, 2.0 * math.pi)))


def _bessel_scaled(x, *, nu):
    ax = abs(x)
    small = le(ax, _BESSEL_SWITCH)
    series = _bessel_series_scaled(nu, _where(small, ax, 0.0))
    asym = _bessel_asymptotic_scaled(nu, _where(small, 2 * _BESSEL_SWITCH, ax))
    out = select(small, series, asym)
    if nu == 1:
        out = select(lt(x, 0.0), neg(out), out)
    return out


bessel_i0e_p = standard_unary("bessel_i0e", "unused", FLOAT)
bessel_i1e_p = standard_unary("bessel_i1e", "unused", FLOAT)
bessel_i0e_p.lowering = lower_via(lambda x: _bessel_scaled(x, nu=0), upcast_16bit=True)
bessel_i1e_p.lowering = lower_via(lambda x: _bessel_scaled(x, nu=1), upcast_16bit=True)
_batching.defvectorized(bessel_i0e_p)
_batching.defvectorized(bessel_i1e_p)


def _i1e_jvp(t, ans, x):
    # d/dx i1e(x) = i0e(x) - i1e(x) (sign(x) + 1/x), which tends to 1/2 at x = 0.
    zero = eq(x, 0.0)
    safe = _where(zero, 1.0, x)
    d = sub(bessel_i0e(x), mul(ans, add(sign(x), div(1.0, safe))))
    return mul(t, _where(zero, 0.5, d))


_ad.defjvp2(bessel_i0e_p, lambda t, ans, x: mul(t, sub(bessel_i1e(x), mul(sign(x), ans))))
_ad.defjvp2(bessel_i1e_p, _i1e_jvp)


def bessel_i0e(x):
    """Elementwise exponentially scaled modified Bessel function of order 0,
    ``exp(-|x|) I0(x)``."""
    return bessel_i0e_p.bind(x)


def bessel_i1e(x):
    """Elementwise exponentially scaled modified Bessel function of order 1,
    ``exp(-|x|) I1(x)``."""
    return bessel_i1e_p.bind(x)

