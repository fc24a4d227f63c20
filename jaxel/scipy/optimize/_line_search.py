"""An inexact line search meeting the strong Wolfe conditions (Nocedal & Wright, *Numerical
Optimization*, algorithms 3.5 and 3.6), written as one ``lax.while_loop`` so that it can be traced
under ``jit`` and batched by ``vmap``.

Along the ray ``phi(a) = f(x + a p)`` the loop first grows the step until it brackets an
acceptable one (or finds one), then ("zoom") shrinks the bracket ``[lo, hi]`` by
safeguarded cubic interpolation until a step meets

* sufficient decrease: ``phi(a) <= phi(0) + c1 a phi'(0)``, and
* curvature: ``|phi'(a)| <= c2 |phi'(0)|``.

Bracketing and zooming share one iteration budget, ``maxiter``.
"""
from __future__ import annotations

from typing import NamedTuple

import jaxel
from jaxel import lax
from jaxel import numpy as jnp

# end states (``status``); BFGS reports ``2 + status`` when the search fails
_OK, _ZOOM_FAILED, _NOT_DESCENT, _MAXITER = 0, 1, 2, 3


class _LineSearchResults(NamedTuple):
    """Outcome of ``line_search``.

    Attributes:
      failed: True when no step meeting the strong Wolfe conditions was found.
      nit: iterations used (bracketing and zoom together).
      nfev: evaluations of the objective; ngev: of its gradient (the same number).
      a_k: the step; f_k, g_k: objective value and gradient at ``x + a_k p``.
      status: 0 success, 1 zoom failed, 2 ``p`` is not a descent direction, 3 the
        iterations ran out while bracketing.
    """
    failed: jnp.ndarray
    nit: jnp.ndarray
    nfev: jnp.ndarray
    ngev: jnp.ndarray
    a_k: jnp.ndarray
    f_k: jnp.ndarray
    g_k: jnp.ndarray
    status: jnp.ndarray


def _cubic_step(a, fa, da, b, fb, db):
    """Minimiser of the cubic through ``(a, fa, da)`` and ``(b, fb, db)``, or the midpoint
    when that is undefined or falls within a tenth of the interval's width from its ends."""
    d1 = da + db - 3 * (fa - fb) / (a - b)
    disc = d1 * d1 - da * db
    d2 = jnp.sign(b - a) * jnp.sqrt(jnp.maximum(disc, 0))
    step = b - (b - a) * (db + d2 - d1) / (db - da + 2 * d2)
    lo, hi = jnp.minimum(a, b), jnp.maximum(a, b)
    margin = 0.1 * (hi - lo)
    ok = (disc >= 0) & jnp.isfinite(step) & (step > lo + margin) & (step < hi - margin)
    return jnp.where(ok, step, 0.5 * (a + b))


def line_search(f, xk, pk, old_fval=None, old_old_fval=None, gfk=None, c1=1e-4, c2=0.9,
                maxiter=20):
    """Find a step ``a_k`` along ``pk`` from ``xk`` meeting the strong Wolfe conditions.

    Args:
      f: objective ``f(x) -> scalar``, differentiable.
      xk: start point; pk: search direction (should be a descent direction).
      old_fval, gfk: ``f(xk)`` and its gradient, if already known (else computed).
      old_old_fval: the objective at the previous iterate; when given, the first trial step
        is ``min(1, 1.01 * 2 (old_fval - old_old_fval) / phi'(0))`` as in SciPy, else 1.
      c1, c2: the Wolfe constants (``0 < c1 < c2 < 1``).
      maxiter: iterations allowed, bracketing and zooming together.

    Returns:
      A ``_LineSearchResults``.
    """
    xk, pk = jnp.asarray(xk), jnp.asarray(pk)
    value_and_grad_f = jaxel.value_and_grad(f)

    def phi(a):
        v, g = value_and_grad_f(xk + a * pk)
        return v, jnp.real(jnp.vdot(g, pk)), g

    if old_fval is None or gfk is None:
        old_fval, gfk = value_and_grad_f(xk)
        extra = 1
    else:
        extra = 0
    phi0 = jnp.asarray(old_fval)
    dtype = phi0.dtype
    dphi0 = jnp.real(jnp.vdot(gfk, pk)).astype(dtype)
    one = jnp.ones((), dtype)
    if old_old_fval is None:
        a1 = one
    else:
        guess = 1.01 * 2 * (phi0 - old_old_fval) / dphi0
        a1 = jnp.where(jnp.isfinite(guess) & (guess > 0), jnp.minimum(one, guess), one)
    a1 = a1.astype(dtype)
    not_descent = ~(dphi0 < 0)

    def armijo_fails(a, fa):
        return fa > phi0 + c1 * a * dphi0

    def curvature_holds(da):
        return jnp.abs(da) <= -c2 * dphi0

    zero = jnp.zeros((), dtype)
    # One loop, one evaluation of ``phi`` per iteration: while bracketing (algorithm 3.5)
    # the trial step doubles; once a bracket [lo, hi] is known ("zoom", algorithm 3.6) the
    # trial step is the safeguarded cubic interpolant's minimiser inside it.
    init = dict(i=jnp.zeros((), jnp.int32), found=jnp.zeros((), bool),
                zoom=jnp.zeros((), bool), a=a1, a_k=zero, f_k=phi0, g_k=gfk,
                lo=zero, f_lo=phi0, d_lo=dphi0, hi=zero, f_hi=phi0, d_hi=dphi0)

    def cond(s):
        return (~s["found"]) & (s["i"] < maxiter) & ~not_descent

    def body(s):
        zooming = s["zoom"]
        lo, f_lo, d_lo, hi, f_hi, d_hi = (s[k] for k in ("lo", "f_lo", "d_lo", "hi", "f_hi",
                                                          "d_hi"))
        a = jnp.where(zooming, _cubic_step(lo, f_lo, d_lo, hi, f_hi, d_hi), s["a"])
        fa, da, ga = phi(a)
        # bracketing: ``lo`` holds the previous trial step
        high = armijo_fails(a, fa) | (((s["i"] > 0) | zooming) & (fa >= f_lo))
        good = (~high) & curvature_holds(da)
        rising = (~high) & (~good) & (da >= 0)
        # while bracketing: high -> zoom(prev, a); rising -> zoom(a, prev); else double a.
        # while zooming: high -> hi = a; else (if phi' points back towards hi: hi = lo),
        # then lo = a.
        flip = (~high) & (~good) & (da * (hi - lo) >= 0)
        set_hi_a = high
        set_hi_lo = jnp.where(zooming, flip, rising)
        new_hi = jnp.where(set_hi_a, a, jnp.where(set_hi_lo, lo, hi))
        new_f_hi = jnp.where(set_hi_a, fa, jnp.where(set_hi_lo, f_lo, f_hi))
        new_d_hi = jnp.where(set_hi_a, da, jnp.where(set_hi_lo, d_lo, d_hi))
        move_lo = ~high & ~good
        return dict(
            i=s["i"] + 1, found=good, zoom=zooming | high | rising,
            a=jnp.where(zooming | high | rising, a, 2 * a),
            a_k=jnp.where(good, a, s["a_k"]), f_k=jnp.where(good, fa, s["f_k"]),
            g_k=jnp.where(good, ga, s["g_k"]),
            lo=jnp.where(move_lo, a, lo), f_lo=jnp.where(move_lo, fa, f_lo),
            d_lo=jnp.where(move_lo, da, d_lo),
            hi=new_hi, f_hi=new_f_hi, d_hi=new_d_hi)

    s = lax.while_loop(cond, body, init)
    bracket_ran_out = ~s["zoom"]
    failed = ~s["found"]
    status = jnp.where(~failed, _OK,
                       jnp.where(not_descent, _NOT_DESCENT,
                                 jnp.where(bracket_ran_out, _MAXITER, _ZOOM_FAILED)))
    nfev = s["i"] + extra
    return _LineSearchResults(failed=failed, nit=s["i"], nfev=nfev, ngev=nfev,
                              a_k=s["a_k"], f_k=s["f_k"], g_k=s["g_k"],
                              status=status.astype(jnp.int32))
