"""``qr_multiply``, ``solve_sylvester``, ``expm_frechet``, ``eigh_tridiagonal`` and
``rsf2csf`` and ``funm`` of ``jax.scipy.linalg``, re-exported by ``jaxel.scipy.linalg``.

* ``qr_multiply``: the reduced QR factorisation (``lax.linalg.qr``) and a product with ``Q``,
  so it is differentiable wherever ``qr`` is (JAX applies LAPACK ``ormqr`` to the raw
  reflectors, which has no derivative there).
* ``solve_sylvester`` (``A X + X B = C``): Bartels-Stewart on complex Schur forms
  ``A = U R Uᴴ``, ``B = V T Vᴴ`` (``R``, ``T`` upper triangular): ``R Y + Y T = F`` with
  ``F = Uᴴ C V`` is solved a column at a time, ``(R + T[j, j] I) y_j = f_j - Σ_{k<j} T[k, j] y_k``
  (a triangular solve each), and ``X = U Y Vᴴ``. ``method='eigen'`` diagonalises instead:
  ``X = P_A ((P_A⁻¹ C P_B) / (λ_i + μ_j)) P_B⁻¹``. Where some ``λ_i + μ_j`` (eigenvalues of
  ``A`` and ``B``) is smaller than ``tol`` in modulus the result is NaN, as in JAX.
  Derivatives come from the implicit function (a ``custom_jvp``):
  ``A dX + dX B = dC - dA X - X dB``, solved with the same factorisations, so both methods
  are differentiable in ``A``, ``B`` and ``C`` (JAX's are not: Schur has no derivative).
* ``expm_frechet``: the JVP of ``expm`` (as JAX computes it).
* ``eigh_tridiagonal``: ``eigh`` of the dense tridiagonal matrix (JAX bisects for the
  eigenvalues and inverse-iterates for the vectors); same values, differentiable.
"""
from __future__ import annotations

import numpy as np

from jaxel import lax
from jaxel import numpy as jnp
from jaxel.lax import linalg as _la
from jaxel.numpy._util import promote_dtypes_inexact


def _mm(a, b):
    return jnp.matmul(a, b, precision=lax.Precision.HIGHEST)


def _H(x):
    return jnp.conj(jnp.swapaxes(x, -1, -2))


def qr_multiply(a, c, mode: str = "right", pivoting: bool = False, conjugate: bool = False,
                overwrite_a: bool = False, overwrite_c: bool = False):
    """QR-factorise ``a`` ``(..., M, N)`` and multiply ``c`` by its ``Q``
    (``jax.scipy.linalg.qr_multiply``): ``mode='left'`` returns ``(Q @ c, R)`` with ``c``
    ``(..., K, P)``, ``K = min(M, N)``; ``mode='right'`` (default) returns ``(c @ Q, R)`` with
    ``c`` ``(..., P, M)``, the product ``(..., P, K)``. ``conjugate`` uses ``conj(Q)``. A 1-D
    ``c`` is a column (left) or row (right) and the product is raveled. ``R`` is
    ``(..., K, N)``. With ``pivoting`` (column-pivoted QR, ``a[..., :, p] = Q R``) the int32
    permutation ``p`` ``(..., N)`` is appended: ``(product, R, p)``.

    Example::

        qtb, r = qr_multiply(a, b, mode="right")
    """
    del overwrite_a, overwrite_c
    if mode not in ("right", "left"):
        raise ValueError(f"mode must be 'right' or 'left', got {mode!r}")
    a, c = promote_dtypes_inexact(jnp.asarray(a), jnp.asarray(c))
    if a.ndim < 2:
        raise ValueError(f"qr_multiply: a must be at least 2-dimensional, got shape "
                         f"{a.shape}.")
    onedim = c.ndim == 1
    if onedim:
        c = c[:, None] if mode == "left" else c[None, :]
    m, n = a.shape[-2:]
    k = min(m, n)
    if mode == "left" and c.shape[-2] != k:
        raise ValueError(f"Array shapes are not compatible for Q @ c operation: a has shape "
                         f"{tuple(a.shape)} so Q has {k} columns, but c has {c.shape[-2]} rows "
                         f"(expected {k}).")
    if mode == "right" and c.shape[-1] != m:
        raise ValueError(f"Array shapes are not compatible for c @ Q operation: a has shape "
                         f"{tuple(a.shape)} so Q has {m} rows, but c has {c.shape[-1]} columns "
                         f"(expected {m}).")
    batch = np.broadcast_shapes(a.shape[:-2], c.shape[:-2])
    a = jnp.broadcast_to(a, batch + a.shape[-2:])
    c = jnp.broadcast_to(c, batch + c.shape[-2:])
    # q (..., M, K): all that either product needs
    q, r, *p = _la.qr(a, full_matrices=False, pivoting=bool(pivoting))
    if conjugate:
        q = jnp.conj(q)
    out = _mm(q, c) if mode == "left" else _mm(c, q)
    if onedim:
        out = out.ravel()
    return (out, r, p[0]) if pivoting else (out, r)


def _complex_of(dt):
    return np.dtype(np.complex64 if np.dtype(dt) in (np.float32, np.complex64)
                    else np.complex128)


def _schur_factors(A, B):
    """Complex Schur forms ``A = U R Uᴴ``, ``B = V T Vᴴ`` and the eigenvalues."""
    R, U = _la.schur(A)
    T, V = _la.schur(B)
    return (R, U, T, V), jnp.diagonal(R, axis1=-2, axis2=-1), jnp.diagonal(T, axis1=-2,
                                                                            axis2=-1)


def _schur_solve(factors, C):
    """``X`` with ``A X + X B = C`` from the Schur factors (linear in ``C``)."""
    R, U, T, V = factors
    n = C.shape[-1]
    F = _mm(_mm(_H(U), C), V)
    cols = []
    for j in range(n):
        rhs = F[..., :, j]
        for kk, yk in enumerate(cols):
            rhs = rhs - T[..., kk, j][..., None] * yk
        shifted = R + T[..., j, j][..., None, None] * jnp.eye(R.shape[-1], dtype=R.dtype)
        cols.append(_la.triangular_solve(shifted, rhs[..., :, None], left_side=True,
                                         lower=False)[..., 0])
    Y = jnp.stack(cols, axis=-1)
    return _mm(_mm(U, Y), _H(V))


def _eigen_factors(A, B):
    wa, pa = jnp.linalg.eig(A)
    wb, pb = jnp.linalg.eig(B)
    return (wa, pa, wb, pb, jnp.linalg.inv(pa), jnp.linalg.inv(pb)), wa, wb


def _eigen_solve(factors, C):
    wa, pa, wb, pb, pa_inv, pb_inv = factors
    F = _mm(_mm(pa_inv, C), pb)
    Y = F / (wa[..., :, None] + wb[..., None, :])
    return _mm(_mm(pa, Y), pb_inv)


_METHODS = {"schur": (_schur_factors, _schur_solve), "eigen": (_eigen_factors, _eigen_solve)}


def _sylvester(A, B, C, method, tol):
    factor, solve = _METHODS[method]
    cdt = _complex_of(C.dtype)

    def apply(factors, rhs, singular):
        x = solve(factors, rhs.astype(cdt))
        if not jnp.iscomplexobj(C):
            x = jnp.real(x)
        x = x.astype(C.dtype)
        return jnp.where(singular[..., None, None], jnp.asarray(np.nan, C.dtype), x)

    def run(A, B, C):  # evaluated at primal values only (inside the custom JVP rule)
        factors, wa, wb = factor(A.astype(cdt), B.astype(cdt))
        gaps = jnp.abs(wa[..., :, None] + wb[..., None, :])
        singular = jnp.any(gaps < tol, axis=(-2, -1))
        return apply(factors, C, singular), (factors, singular)

    from jaxel import custom_jvp

    @custom_jvp
    def sylvester(A, B, C):
        return run(A, B, C)[0]

    @sylvester.defjvp
    def _jvp(primals, tangents):
        A, B, C = primals
        dA, dB, dC = tangents
        X, (factors, singular) = run(A, B, C)
        # A dX + dX B = dC - dA X - X dB: the same solve, linear in the right-hand side.
        rhs = dC - _mm(dA, X) - _mm(X, dB)
        return X, apply(factors, rhs, singular)

    return sylvester(A, B, C)


def solve_sylvester(A, B, C, *, method: str = "schur", tol: float = 1e-8):
    """Solve the Sylvester equation ``A X + X B = C`` (``jax.scipy.linalg.solve_sylvester``):
    ``A`` ``(..., m, m)``, ``B`` ``(..., n, n)``, ``C`` ``(..., m, n)``; ``method`` ``'schur'``
    (Bartels-Stewart, the default) or ``'eigen'`` (diagonalisation). Returns NaNs when ``A``
    and ``-B`` have eigenvalues closer than ``tol`` (no unique solution). Real inputs give a
    real result. Differentiable in all three operands (implicit differentiation).

    Example::

        x = solve_sylvester(a, b, c)
    """
    A, B, C = promote_dtypes_inexact(jnp.asarray(A), jnp.asarray(B), jnp.asarray(C))
    if C.ndim < 2 or A.ndim < 2 or B.ndim < 2:
        raise ValueError(f"Incompatible shapes for Sylvester equation:\nA: {A.shape}\n"
                         f"B: {B.shape}\nC: {C.shape}")
    m, n = C.shape[-2:]
    if A.shape[-2:] != (m, m) or B.shape[-2:] != (n, n):
        raise ValueError(f"Incompatible shapes for Sylvester equation:\nA: {A.shape}\n"
                         f"B: {B.shape}\nC: {C.shape}")
    if method not in _METHODS:
        raise ValueError(f"Unrecognized method {method}. The two valid methods are either "
                         "\"schur\" or \"eigen\".")
    batch = np.broadcast_shapes(A.shape[:-2], B.shape[:-2], C.shape[:-2])
    A = jnp.broadcast_to(A, batch + A.shape[-2:])
    B = jnp.broadcast_to(B, batch + B.shape[-2:])
    C = jnp.broadcast_to(C, batch + C.shape[-2:])
    return _sylvester(A, B, C, method, float(tol))


def expm_frechet(A, E, *, method=None, compute_expm: bool = True):
    """Fréchet derivative of the matrix exponential at ``A`` in the direction ``E``
    (``jax.scipy.linalg.expm_frechet``): the JVP of ``expm``. Returns
    ``(expm(A), L(A, E))``, or ``L(A, E)`` alone without ``compute_expm``; ``A`` and ``E``
    are ``(..., N, N)`` of the same shape. ``method`` is ignored, as in JAX.

    Example::

        expm_a, frechet = expm_frechet(a, e)
    """
    del method
    from jaxel import jvp
    from jaxel.scipy.linalg import expm
    A, E = jnp.asarray(A), jnp.asarray(E)
    if A.ndim < 2 or A.shape[-2] != A.shape[-1]:
        raise ValueError(f"expected A to be a (batched) square matrix, got A.shape={A.shape}")
    if E.ndim < 2 or E.shape[-2] != E.shape[-1]:
        raise ValueError(f"expected E to be a (batched) square matrix, got E.shape={E.shape}")
    if A.shape != E.shape:
        raise ValueError(f"expected A and E to be the same shape, got A.shape={A.shape} "
                         f"E.shape={E.shape}")
    A, E = promote_dtypes_inexact(A, E)
    expm_a, frechet = jvp(expm, (A,), (E,))
    return (expm_a, frechet) if compute_expm else frechet


def eigh_tridiagonal(d, e, *, eigvals_only: bool = False, select: str = "a",
                     select_range=None, tol=None, key=None):
    """Eigenvalues (ascending) and, unless ``eigvals_only``, eigenvectors of the real
    symmetric tridiagonal matrix with diagonal ``d`` ``(N,)`` and off-diagonal ``e``
    ``(N-1,)`` (``jax.scipy.linalg.eigh_tridiagonal``). ``select='i'`` keeps the eigenpairs
    ``select_range[0] <= i <= select_range[1]``; ``'v'`` is not implemented (as in JAX).

    jaxel solves the dense tridiagonal matrix with ``eigh`` (LAPACK ``syevd``), which is
    exact to rounding and differentiable; ``tol`` and ``key`` (JAX's bisection tolerance and
    inverse-iteration seed) are accepted and unused. Eigenvectors are unique up to sign.

    Example::

        w = eigh_tridiagonal(d, e, eigvals_only=True)
    """
    del tol, key
    d, e = promote_dtypes_inexact(jnp.asarray(d), jnp.asarray(e))
    if d.ndim != 1 or e.ndim != 1 or e.shape[0] != max(d.shape[0] - 1, 0):
        raise ValueError("eigh_tridiagonal needs d of shape (N,) and e of shape (N-1,), got "
                         f"{d.shape} and {e.shape}.")
    if jnp.iscomplexobj(d):
        raise ValueError("eigh_tridiagonal: the diagonal d must be real.")
    if select not in ("a", "i", "v"):
        raise ValueError(f"'select' must have a value in {{'a', 'i', 'v'}}, got {select!r}.")
    if select == "v":
        raise NotImplementedError("eigh_tridiagonal(select='v') is not implemented (as in "
                                  "JAX); use select='i' or 'a'.")
    n = d.shape[0]
    lo, hi = (0, n - 1) if select == "a" else (int(select_range[0]), int(select_range[1]))
    if not 0 <= lo <= hi < n:
        raise ValueError(f"eigh_tridiagonal: select_range {select_range} is not a valid index "
                         f"range for N = {n}.")
    t = jnp.diag(d).astype(e.dtype)
    if n > 1:
        t = t + jnp.diag(e, -1) + jnp.diag(jnp.conj(e), 1)
    v, w = _la.eigh(t, symmetrize_input=False)
    w, v = w[lo:hi + 1], v[:, lo:hi + 1]
    return w if eigvals_only else (w, v)


def rsf2csf(T, Z, check_finite: bool = True):
    """Convert a real Schur form ``(T, Z)`` (``A = Z T Zᵀ``, ``T`` quasi-upper-triangular)
    to the complex Schur form (``T`` upper triangular, ``Z`` unitary;
    ``jax.scipy.linalg.rsf2csf``). ``T`` and ``Z`` are ``(..., N, N)``, batch dimensions
    broadcast; results are complex.

    From the bottom up, each non-negligible sub-diagonal entry ``T[m, m-1]``
    (``> eps (|T[m-1, m-1]| + |T[m, m]|)``) is removed by the unitary rotation
    ``G = [[c̄, s], [-s, c]]``, ``(c, s) = (μ, T[m, m-1]) / ‖(μ, T[m, m-1])‖`` with ``μ`` the
    first eigenvalue of the 2 x 2 block minus ``T[m, m]``, applied to rows ``m-1, m`` and
    columns ``m-1, m`` of ``T`` and columns of ``Z`` (SciPy's algorithm).

    Example::

        t, z = rsf2csf(*schur(a))
    """
    del check_finite
    T, Z = jnp.asarray(T), jnp.asarray(Z)
    if T.ndim < 2 or T.shape[-1] != T.shape[-2]:
        raise ValueError("Input 'T' must be square.")
    if Z.ndim < 2 or Z.shape[-1] != Z.shape[-2]:
        raise ValueError("Input 'Z' must be square.")
    if T.shape[-1] != Z.shape[-1]:
        raise ValueError(f"Input array shapes must match: Z: {Z.shape} vs. T: {T.shape}")
    T, Z = promote_dtypes_inexact(T, Z)
    cdt = _complex_of(T.dtype)
    T, Z = T.astype(cdt), Z.astype(cdt)
    batch = np.broadcast_shapes(T.shape[:-2], Z.shape[:-2])
    n = T.shape[-1]
    T = jnp.broadcast_to(T, batch + (n, n))
    Z = jnp.broadcast_to(Z, batch + (n, n))
    eps = float(jnp.finfo(cdt).eps)
    for m in range(n - 1, 0, -1):
        sub, tmm, tm1 = T[..., m, m - 1], T[..., m, m], T[..., m - 1, m - 1]
        rotate = jnp.abs(sub) > eps * (jnp.abs(tm1) + jnp.abs(tmm))
        mu = jnp.linalg.eigvals(T[..., m - 1:m + 1, m - 1:m + 1])[..., 0] - tmm
        r = jnp.sqrt(jnp.abs(mu) ** 2 + jnp.abs(sub) ** 2)
        r = jnp.where(rotate & (r > 0), r, 1).astype(cdt)
        c, s = mu / r, sub / r
        G = jnp.stack([jnp.stack([jnp.conj(c), s], -1), jnp.stack([-s, c], -1)], -2)
        Gh = _H(G)
        eye = jnp.eye(2, dtype=cdt)
        G = jnp.where(rotate[..., None, None], G, eye)
        Gh = jnp.where(rotate[..., None, None], Gh, eye)
        T = T.at[..., m - 1:m + 1, m - 1:].set(_mm(G, T[..., m - 1:m + 1, m - 1:]))
        T = T.at[..., :m + 1, m - 1:m + 1].set(_mm(T[..., :m + 1, m - 1:m + 1], Gh))
        Z = Z.at[..., :, m - 1:m + 1].set(_mm(Z[..., :, m - 1:m + 1], Gh))
        T = T.at[..., m, m - 1].set(0)
    return T, Z


def funm(A, func, disp: bool = True):
    """Matrix function ``f(A)`` for a scalar function ``func`` (``jax.scipy.linalg.funm``):
    Schur-Parlett. With the complex Schur form ``A = Z T Zᴴ`` (``schur`` then ``rsf2csf``),
    ``F = f(T)`` has ``F_ii = f(T_ii)`` and, one super-diagonal at a time (Golub & Van Loan,
    Algorithm 11.1.1), ``F_ij = (T_ij (F_jj - F_ii) + Σ_{i<k<j} (T_ik F_kj - F_ik T_kj)) /
    (T_jj - T_ii)``; returns ``Z F Zᴴ`` (complex, as JAX). ``func`` is applied to the
    vector of eigenvalues, so it must work elementwise on arrays. Repeated or close
    eigenvalues make the recurrence inaccurate; with ``disp=False`` the pair ``(F, err)``
    carries SciPy's error estimate. ``A`` is ``(N, N)``.

    Example::

        f = funm(a, lambda x: jnp.sin(x) + 2 * jnp.cos(x))
    """
    from jaxel.scipy.linalg import schur
    A = jnp.asarray(A)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError("expected square array_like input")
    T, Z = rsf2csf(*schur(A))
    n = T.shape[-1]
    t_diag = jnp.diagonal(T)
    f_diag = jnp.asarray(func(t_diag)).astype(T.dtype)
    F = jnp.diag(f_diag)
    T_strict = jnp.triu(T, 1)
    F_off = jnp.zeros_like(T)
    rows, cols = np.arange(n)[:, None], np.arange(n)[None, :]
    minden = jnp.abs(T[0, 0]) if n else jnp.zeros((), jnp.real(T).dtype)
    for p in range(1, n):
        band = cols - rows == p
        s = (T * (f_diag[None, :] - f_diag[:, None])
             + _mm(T_strict, F_off) - _mm(F_off, T_strict))
        den = t_diag[None, :] - t_diag[:, None]
        val = jnp.where(den != 0, s / jnp.where(den != 0, den, 1), s)
        F_off = jnp.where(band, val, F_off)
        minden = jnp.minimum(minden, jnp.min(jnp.where(band, jnp.abs(den), jnp.inf)))
    F = _mm(_mm(Z, F + F_off), _H(Z))
    if disp:
        return F
    tol = float(jnp.finfo(F.dtype).eps)
    minden = jnp.where(minden == 0, tol, minden)
    err = jnp.where(jnp.any(jnp.isinf(F)), np.inf, jnp.minimum(1, jnp.maximum(
        tol, (tol / minden) * jnp.linalg.norm(jnp.triu(T, 1), 1))))
    return F, err


__all__ = ["qr_multiply", "solve_sylvester", "expm_frechet", "eigh_tridiagonal", "rsf2csf",
           "funm"]
