"""``minimize``: SciPy's interface over the BFGS solver in ``_bfgs``."""
from __future__ import annotations

from typing import Any, NamedTuple

from jaxel import numpy as jnp
from jaxel.scipy.optimize._bfgs import minimize_bfgs


class OptimizeResults(NamedTuple):
    """The result of ``minimize``.

    Attributes:
      x: the solution found.
      success: True when the solver converged.
      status: solver end state: 0 converged, 1 maximum iterations reached, 3 line-search zoom
        failed, 4 saddle point (search direction not a descent direction), 5 line search ran
        out of iterations, -1 otherwise.
      fun: objective value at ``x``; jac: its gradient.
      hess_inv: the final inverse-Hessian estimate.
      nfev, njev: objective and gradient evaluations; nit: solver iterations.
    """
    x: Any
    success: Any
    status: Any
    fun: Any
    jac: Any
    hess_inv: Any
    nfev: Any
    njev: Any
    nit: Any


_BFGS_OPTIONS = ("maxiter", "norm", "gtol", "line_search_maxiter")


def minimize(fun, x0, args=(), *, method, tol=None, options=None):
    """Minimise the scalar function ``fun(x, *args)`` of a 1-D ``x``, starting at ``x0``.

    Gradients come from ``jaxel.grad``; the whole solve is one ``lax.while_loop``, so it
    works under ``jit`` and ``vmap`` (e.g. batched over ``x0``).

    Args:
      fun: the objective, ``fun(x, *args) -> scalar``, differentiable in ``x``.
      x0: the start, a 1-D real array of shape ``(n,)``.
      args: a tuple of extra arguments to ``fun``.
      method: ``"BFGS"`` (case-insensitive) is the only method (JAX's experimental
        ``"l-bfgs-experimental-do-not-rely-on-this"`` raises ``NotImplementedError``).
      tol: if given, the default for the ``gtol`` option (as in SciPy; JAX ignores it).
      options: a dict of BFGS options: ``maxiter`` (default ``200 * n``), ``norm`` (order of
        the gradient norm, default ``inf``), ``gtol`` (stop when that norm is below it,
        default ``1e-5``) and ``line_search_maxiter`` (default 10).

    Returns:
      An ``OptimizeResults``.

    Example::

        >>> r = minimize(lambda x: jnp.sum((x - 3.0) ** 2), jnp.zeros(2), method="BFGS")
        >>> bool(r.success), jnp.round(r.x, 4)
        (True, Array([3., 3.], dtype=float32))
    """
    if options is None:
        options = {}
    if not isinstance(args, tuple):
        raise TypeError("args argument to minimize must be a tuple, got "
                        f"{type(args).__name__}")
    if not isinstance(method, str):
        raise TypeError(f"method must be a string; got {method!r}")
    x0 = jnp.asarray(x0)
    if x0.ndim != 1:
        raise ValueError(f"x0 must be a one-dimensional array; got shape {x0.shape}")
    if jnp.issubdtype(x0.dtype, jnp.complexfloating):
        raise TypeError("minimize: complex x0 is not supported")
    if not jnp.issubdtype(x0.dtype, jnp.floating):
        x0 = x0.astype(float)

    def fun_with_args(x):
        return fun(x, *args)

    if method.lower() == "bfgs":
        unknown = sorted(set(options) - set(_BFGS_OPTIONS))
        if unknown:
            raise TypeError(f"options {unknown} are not supported by method='BFGS'; the "
                            f"supported options are {list(_BFGS_OPTIONS)}")
        options = dict(options)
        if tol is not None:
            options.setdefault("gtol", tol)
        r = minimize_bfgs(fun_with_args, x0, **options)
        return OptimizeResults(x=r.x_k, success=r.converged & ~r.failed, status=r.status,
                               fun=r.f_k, jac=r.g_k, hess_inv=r.H_k, nfev=r.nfev,
                               njev=r.ngev, nit=r.k)
    if method.lower() == "l-bfgs-experimental-do-not-rely-on-this":
        raise NotImplementedError("minimize: JAX's experimental L-BFGS method is not "
                                  "supported; use method='BFGS'")
    raise ValueError(f"Method {method} not recognized; minimize supports only 'BFGS'")
