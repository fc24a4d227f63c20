"""``jaxel.scipy.sparse.linalg`` (JAX's ``jax.scipy.sparse.linalg``): Krylov solvers for
``A x = b`` where ``A`` is a matrix or any linear function (a matrix-free operator), and
``b``/``x`` may be pytrees.

Each solver is one ``lax.while_loop`` (so it runs under jit and vmap) wrapped in
``lax.custom_linear_solve``: derivatives are those of the exact solution (``x' = A^-1 (b' -
A' x)``), computed by running the same solver again, never by differentiating the loop.
As in JAX, the returned ``info`` is None (convergence is not reported).
"""
from __future__ import annotations

import numpy as np

from jaxel import lax
from jaxel import numpy as jnp
from jaxel import tree_util
from jaxel.flatten_util import ravel_pytree

__all__ = ["cg", "bicgstab", "gmres"]


# ---- pytree vector algebra ------------------------------------------------------------------------
def _vdot(a, b):
    """Sum over leaves of ``conj(a) . b`` at full precision."""
    parts = [jnp.vdot(x, y, precision=lax.Precision.HIGHEST)
             for x, y in zip(tree_util.tree_leaves(a), tree_util.tree_leaves(b))]
    return sum(parts[1:], parts[0])


def _norm2(a):
    """Squared 2-norm of a pytree (a real scalar)."""
    return jnp.real(_vdot(a, a))


def _axpy(alpha, x, y):
    """``alpha * x + y`` leaf by leaf."""
    return tree_util.tree_map(lambda u, v: alpha * u + v, x, y)


def _sub(x, y):
    return tree_util.tree_map(lambda u, v: u - v, x, y)


def _as_operator(A, what):
    """A callable applying ``A``: a function is used as is, an array is a matrix product."""
    if callable(A):
        return A
    A = jnp.asarray(A)
    if A.ndim != 2:
        raise ValueError(f"{what} must be a 2-D matrix or a linear function, got an array of "
                         f"shape {A.shape}.")
    return lambda x: jnp.matmul(A, x, precision=lax.Precision.HIGHEST)


def _prepare(name, A, b, x0, M, maxiter):
    """Shared argument handling: operators, an initial guess shaped like ``b`` and the
    iteration limit (10 n by default, as SciPy and JAX)."""
    b = tree_util.tree_map(jnp.asarray, b)
    if x0 is None:
        x0 = tree_util.tree_map(jnp.zeros_like, b)
    else:
        x0 = tree_util.tree_map(jnp.asarray, x0)
        if tree_util.tree_structure(x0) != tree_util.tree_structure(b):
            raise ValueError(f"{name}: x0 and b must have the same tree structure, got "
                             f"{tree_util.tree_structure(x0)} and "
                             f"{tree_util.tree_structure(b)}.")
        for u, v in zip(tree_util.tree_leaves(x0), tree_util.tree_leaves(b)):
            if u.shape != v.shape:
                raise ValueError(f"{name}: x0 and b leaves must have equal shapes, got "
                                 f"{u.shape} and {v.shape}.")
    size = sum(int(np.prod(x.shape)) for x in tree_util.tree_leaves(b))
    if maxiter is None:
        maxiter = 10 * size
    matvec = _as_operator(A, f"{name}: A")
    precond = (lambda x: x) if M is None else _as_operator(M, f"{name}: M")
    return matvec, precond, b, x0, maxiter, size


def _threshold(rhs, tol, atol):
    """Stop when ``|r| <= max(tol |rhs|, atol)``, compared in squares. Computed from the
    right-hand side each solve receives, so the derivative solves get their own scale."""
    return jnp.maximum(jnp.square(tol) * _norm2(rhs), jnp.square(atol))


# ---- conjugate gradients ----------------------------------------------------------------------------
def _cg_loop(matvec, b, x0, precond, maxiter, threshold):
    r0 = _sub(b, matvec(x0))
    z0 = precond(r0)
    p0 = z0
    gamma0 = _vdot(r0, z0)

    def cond(state):
        _, r, _, _, k = state
        return (_norm2(r) > threshold) & (k < maxiter)

    def body(state):
        x, r, p, gamma, k = state
        q = matvec(p)
        alpha = gamma / _vdot(p, q)
        x = _axpy(alpha, p, x)
        r = _axpy(-alpha, q, r)
        z = precond(r)
        gamma_new = _vdot(r, z)
        p = _axpy(gamma_new / gamma, p, z)
        return x, r, p, gamma_new, k + 1

    return lax.while_loop(cond, body, (x0, r0, p0, gamma0, 0))[0]


def cg(A, b, x0=None, *, tol=1e-5, atol=0.0, maxiter=None, M=None):
    """Solve ``A x = b`` by (preconditioned) conjugate gradients; ``A`` must be Hermitian
    positive definite (``jax.scipy.sparse.linalg.cg``).

    ``A`` and the preconditioner ``M`` (approximating ``A^-1``) are matrices or linear
    functions; ``b``/``x0`` are arrays or pytrees. Stops when ``|b - A x| <= max(tol |b|,
    atol)`` or after ``maxiter`` steps (default ``10 n``). Returns ``(x, None)``.

    Example::

        x, _ = jaxel.scipy.sparse.linalg.cg(lambda v: a @ v, b)
    """
    matvec, precond, b, x0, maxiter, _ = _prepare("cg", A, b, x0, M, maxiter)

    def solve(mv, rhs):
        return _cg_loop(mv, rhs, x0, precond, maxiter, _threshold(rhs, tol, atol))

    x = lax.custom_linear_solve(matvec, b, solve, symmetric=True)
    return x, None


# ---- BiCGSTAB ----------------------------------------------------------------------------------------
def _bicgstab_loop(matvec, b, x0, precond, maxiter, threshold):
    r0 = _sub(b, matvec(x0))
    one = jnp.ones((), jnp.result_type(*tree_util.tree_leaves(b)))
    zeros = tree_util.tree_map(jnp.zeros_like, r0)

    def cond(state):
        _, r, *_, k = state
        return (_norm2(r) > threshold) & (k < maxiter) & (k >= 0)

    def body(state):
        x, r, rhat, p, v, rho, alpha, omega, k = state
        rho_new = _vdot(rhat, r)
        beta = (rho_new / rho) * (alpha / omega)
        p = _axpy(beta, _axpy(-omega, v, p), r)
        phat = precond(p)
        v = matvec(phat)
        alpha = rho_new / _vdot(rhat, v)
        s = _axpy(-alpha, v, r)
        shat = precond(s)
        t = matvec(shat)
        tt = _vdot(t, t)
        # s already small: the half step is the answer (omega = 0 avoids dividing by |t| = 0)
        omega = jnp.where(tt == 0, jnp.zeros_like(tt), _vdot(t, s) / jnp.where(tt == 0, 1, tt))
        x = _axpy(omega, shat, _axpy(alpha, phat, x))
        r = _axpy(-omega, t, s)
        # breakdown (rho or omega vanish with r not yet small): stop rather than divide by 0
        broke = (rho_new == 0) | ((omega == 0) & (_norm2(s) > threshold))
        k = jnp.where(broke, -1, k + 1)
        return x, r, rhat, p, v, rho_new, alpha, omega, k

    state = (x0, r0, r0, zeros, zeros, one, one, one, 0)
    return lax.while_loop(cond, body, state)[0]


def bicgstab(A, b, x0=None, *, tol=1e-5, atol=0.0, maxiter=None, M=None):
    """Solve ``A x = b`` for a general square ``A`` by the stabilised bi-conjugate gradient
    method (``jax.scipy.sparse.linalg.bicgstab``).

    Arguments as :func:`cg`. The iteration stops early on a breakdown (an inner product that
    vanishes). Returns ``(x, None)``.

    Example::

        x, _ = jaxel.scipy.sparse.linalg.bicgstab(a, b, tol=1e-8)
    """
    matvec, precond, b, x0, maxiter, _ = _prepare("bicgstab", A, b, x0, M, maxiter)

    def solve(mv, rhs):
        return _bicgstab_loop(mv, rhs, x0, precond, maxiter, _threshold(rhs, tol, atol))

    x = lax.custom_linear_solve(matvec, b, solve, transpose_solve=solve)
    return x, None


# ---- GMRES ------------------------------------------------------------------------------------------
def _gmres_cycle(matvec, precond, b_flat, x, restart, unravel, ravel):
    """One restart cycle: an Arnoldi basis of the preconditioned Krylov space (Gram-Schmidt
    done twice for orthogonality), then the least-squares step minimising the residual."""
    n = b_flat.shape[0]
    dtype = b_flat.dtype
    r = precond_flat(precond, unravel, ravel, b_flat - ravel(matvec(unravel(x))))
    beta = jnp.sqrt(jnp.real(jnp.vdot(r, r)))
    safe_beta = jnp.where(beta == 0, jnp.ones_like(beta), beta)
    V = jnp.zeros((restart + 1, n), dtype).at[0].set(r / safe_beta.astype(dtype))
    H = jnp.zeros((restart + 1, restart), dtype)

    def arnoldi(j, carry):
        V, H = carry
        w = precond_flat(precond, unravel, ravel, ravel(matvec(unravel(V[j]))))
        mask = (jnp.arange(restart + 1) <= j).astype(dtype)
        h = jnp.zeros((restart + 1,), dtype)
        for _ in range(2):  # re-orthogonalise once: classical Gram-Schmidt is not enough
            c = jnp.matmul(jnp.conj(V), w, precision=lax.Precision.HIGHEST) * mask
            w = w - jnp.matmul(c, V, precision=lax.Precision.HIGHEST)
            h = h + c
        norm = jnp.sqrt(jnp.real(jnp.vdot(w, w)))
        h = h.at[j + 1].set(norm.astype(dtype))
        V = V.at[j + 1].set(w / jnp.where(norm == 0, 1, norm).astype(dtype))
        return V, H.at[:, j].set(h)

    V, H = lax.fori_loop(0, restart, arnoldi, (V, H))
    # min |beta e1 - H y| by QR. After a happy breakdown (the Krylov space became invariant)
    # the trailing columns of H are zero and beta e1 has no component along them: a unit
    # pivot there gives y = 0 for those columns instead of 0/0.
    q, r = jnp.linalg.qr(H)
    diag = jnp.diagonal(r)
    r = r + jnp.diag(jnp.where(jnp.abs(diag) <= _tiny(dtype) * beta, 1 - diag, 0))
    rhs = jnp.conj(q[0]) * beta.astype(dtype)
    y = lax.linalg.triangular_solve(r, rhs[:, None], left_side=True, lower=False)[:, 0]
    return x + jnp.matmul(y, V[:restart], precision=lax.Precision.HIGHEST)


def _tiny(dtype):
    """A relative size below which an Arnoldi pivot counts as zero."""
    return 100 * float(jnp.finfo(dtype).eps)


def precond_flat(precond, unravel, ravel, v):
    """Apply a pytree preconditioner to a flat vector."""
    return ravel(precond(unravel(v)))


def gmres(A, b, x0=None, *, tol=1e-5, atol=0.0, restart=20, maxiter=None, M=None,
          solve_method="batched"):
    """Solve ``A x = b`` for a general square ``A`` by restarted GMRES
    (``jax.scipy.sparse.linalg.gmres``).

    Each cycle builds a ``restart``-dimensional Krylov basis of the (left-)preconditioned
    operator and takes the step minimising the residual over it; at most ``maxiter`` cycles
    (default ``10 n``) run until ``|b - A x| <= max(tol |b|, atol)``. ``solve_method``
    ("batched" or "incremental") is accepted for JAX compatibility; both run the same
    Gram-Schmidt-twice Arnoldi process. Returns ``(x, None)``.

    Example::

        x, _ = jaxel.scipy.sparse.linalg.gmres(a, b, restart=10)
    """
    if solve_method not in ("batched", "incremental"):
        raise ValueError(f"gmres: solve_method must be 'batched' or 'incremental', got "
                         f"{solve_method!r}.")
    matvec, precond, b, x0, maxiter, size = _prepare("gmres", A, b, x0, M, maxiter)
    restart = int(min(restart, size))
    if restart < 1:
        raise ValueError(f"gmres: restart must be at least 1, got {restart}.")
    b_flat, unravel = ravel_pytree(b)
    x0_flat, _ = ravel_pytree(x0)

    def ravel(v):
        return ravel_pytree(v)[0]

    def solve(mv, rhs):
        rhs_flat = ravel(rhs)
        threshold = _threshold(rhs, tol, atol)

        def residual2(x):
            r = rhs_flat - ravel(mv(unravel(x)))
            return jnp.real(jnp.vdot(r, r))

        def cond(state):
            x, k = state
            return (residual2(x) > threshold) & (k < maxiter)

        def body(state):
            x, k = state
            return _gmres_cycle(mv, precond, rhs_flat, x, restart, unravel, ravel), k + 1

        x, _ = lax.while_loop(cond, body, (x0_flat, 0))
        return unravel(x)

    x = lax.custom_linear_solve(matvec, b, solve, transpose_solve=solve)
    return x, None
