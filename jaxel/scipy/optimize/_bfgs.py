"""BFGS (Nocedal & Wright, *Numerical Optimization*, algorithm 6.1) as one ``lax.while_loop``:
a dense inverse-Hessian estimate, strong-Wolfe line searches, and the usual rank-two update."""
from __future__ import annotations

from typing import NamedTuple

import jaxel
from jaxel import lax
from jaxel import numpy as jnp
from jaxel.scipy.optimize._line_search import line_search


class _BFGSResults(NamedTuple):
    """State and outcome of ``minimize_bfgs``.

    Attributes:
      converged: the gradient norm fell below ``gtol``.
      failed: a line search failed.
      k: BFGS iterations done; nfev, ngev: objective and gradient evaluations.
      x_k, f_k, g_k: the last point, its value and gradient; H_k: inverse-Hessian estimate.
      old_old_fval: the objective at the iterate before ``x_k``.
      status: 0 converged, 1 ``maxiter`` reached, 3 zoom failed, 4 not a descent direction
        (saddle point), 5 line search ran out of iterations, -1 otherwise.
      line_search_status: the last line search's status.
    """
    converged: jnp.ndarray
    failed: jnp.ndarray
    k: jnp.ndarray
    nfev: jnp.ndarray
    ngev: jnp.ndarray
    x_k: jnp.ndarray
    f_k: jnp.ndarray
    g_k: jnp.ndarray
    H_k: jnp.ndarray
    old_old_fval: jnp.ndarray
    status: jnp.ndarray
    line_search_status: jnp.ndarray


def _norm(g, ord):
    return jnp.linalg.norm(g, ord=ord)


def minimize_bfgs(fun, x0, maxiter=None, norm=jnp.inf, gtol=1e-5, line_search_maxiter=10):
    """Minimise ``fun`` (``f(x) -> scalar`` of a 1-D ``x``) from ``x0`` by BFGS.

    Args:
      fun: the objective, differentiable by ``jaxel.grad``.
      x0: the start, a 1-D array.
      maxiter: BFGS iterations allowed (default ``200 * x0.size``).
      norm: ``ord`` of the gradient norm tested against ``gtol`` (default ``inf``).
      gtol: stop when ``norm(grad) < gtol``.
      line_search_maxiter: iterations allowed to each line search.

    Returns:
      A ``_BFGSResults``.
    """
    x0 = jnp.asarray(x0)
    if maxiter is None:
        maxiter = 200 * x0.size
    dtype = x0.dtype
    n = x0.shape[0]
    identity = jnp.eye(n, dtype=dtype)
    f0, g0 = jaxel.value_and_grad(fun)(x0)
    f0 = jnp.asarray(f0)
    zero = jnp.zeros((), jnp.int32)
    state = _BFGSResults(
        converged=_norm(g0, norm) < gtol, failed=jnp.zeros((), bool), k=zero,
        nfev=zero + 1, ngev=zero + 1, x_k=x0, f_k=f0, g_k=g0, H_k=identity,
        # SciPy's choice: makes the first trial step about 1 / |g0|
        old_old_fval=f0 + jnp.linalg.norm(g0) / 2,
        status=zero, line_search_status=zero)

    def cond(s):
        return (~s.converged) & (~s.failed) & (s.k < maxiter)

    def body(s):
        p = -s.H_k @ s.g_k
        ls = line_search(fun, s.x_k, p, old_fval=s.f_k, old_old_fval=s.old_old_fval,
                         gfk=s.g_k, maxiter=line_search_maxiter)
        step = ls.a_k * p
        x_new = s.x_k + step
        y = ls.g_k - s.g_k
        rho_inv = jnp.dot(y, step)
        rho = jnp.where(rho_inv == 0, jnp.asarray(1000.0, dtype), 1 / rho_inv)
        left = identity - rho * jnp.outer(step, y)
        H_new = left @ s.H_k @ left.T + rho * jnp.outer(step, step)
        ok = ~ls.failed

        def pick(new, old):
            return jnp.where(ok, new, old)

        return _BFGSResults(
            converged=ok & (_norm(ls.g_k, norm) < gtol), failed=ls.failed, k=s.k + 1,
            nfev=s.nfev + ls.nfev, ngev=s.ngev + ls.ngev,
            x_k=pick(x_new, s.x_k), f_k=pick(ls.f_k, s.f_k), g_k=pick(ls.g_k, s.g_k),
            H_k=pick(H_new, s.H_k), old_old_fval=pick(s.f_k, s.old_old_fval),
            status=s.status, line_search_status=ls.status)

    state = lax.while_loop(cond, body, state)
    status = jnp.where(state.converged, 0,
                       jnp.where(state.k >= maxiter, 1,
                                 jnp.where(state.failed, 2 + state.line_search_status, -1)))
    return state._replace(status=status.astype(jnp.int32))
