"""``jax.lax.linalg.qdwh``: the polar decomposition ``x = u h`` by the QR-based dynamically
weighted Halley iteration (Nakatsukasa, Bai & Gygi 2010), a composition of lax operations (as
in JAX), re-exported by ``jaxel.lax.linalg``.

The iteration ``u <- u (a I + b uᴴu)(I + c uᴴu)⁻¹`` drives every singular value of the scaled
``u_0 = x / α`` (``α = sqrt(‖x‖₁ ‖x‖∞) >= ‖x‖₂``) to 1. The weights ``(a, b, c)`` depend only
on a lower bound ``l`` of the smallest singular value, which starts at ``eps`` and is updated
in closed form, so they are computed in Python beforehand. Early steps (``c > 100``) use the
backward-stable QR form ``u <- (b/c) u + (a - b/c)/sqrt(c) Q₁ Q₂ᴴ`` with
``[sqrt(c) u; I] = [Q₁; Q₂] R``; later ones the cheaper Cholesky form
``u <- (b/c) u + (a - b/c) u (I + c uᴴu)⁻¹``. Once ``l`` has converged, plain Halley steps
(``a, b, c = 3, 1, 3``) run in a ``while_loop`` until ``‖u_k - u_{k-1}‖_F < cbrt(5 eps)`` or
``max_iterations`` (a bounded ``while_loop``: reverse-mode differentiable, unlike JAX's). A
Newton-Schulz step ``u <- 1.5 u - 0.5 u uᴴ u`` polishes the result, and
``h = (uᴴ x + (uᴴ x)ᴴ) / 2``.
"""
from __future__ import annotations

import numpy as np

from jaxel.lax.dot_conv import Precision

_CHOLESKY_CUTOFF = 100


def _weights(eps, max_iterations):
    """The (a, b, c) of each weighted step while the lower bound ``l`` < 1."""
    l = eps
    tol_l = 5.0 * eps
    out = []
    while l + tol_l < 1 and len(out) < max_iterations:
        l2 = l * l
        dd = (4 * (1 / l2 - 1) / l2) ** (1 / 3)
        sqd = (1.0 + dd) ** 0.5
        a = sqd + (2 - dd + 2 * (2 - l2) / (l2 * sqd)) ** 0.5
        b = (a - 1) ** 2 / 4
        c = a + b - 1
        l = l * (a + b * l2) / (1 + c * l2)
        out.append((a, b, c))
    return out


def qdwh(x, *, is_hermitian: bool = False, max_iterations=None, eps=None,
         dynamic_shape=None):
    """Polar decomposition ``x = u h`` of a full-rank matrix ``M x N`` (``M >= N``) by the
    QR-based dynamically weighted Halley iteration (``jax.lax.linalg.qdwh``).

    Returns ``(u, h, num_iters, is_converged)``: ``u`` with orthonormal columns, ``h``
    Hermitian positive semi-definite, the number of iterations taken (the default integer dtype) and whether
    ``‖u_k - u_{k-1}‖_F < cbrt(5 eps)`` was reached within ``max_iterations`` (default 10).
    ``eps`` defaults to the dtype's machine epsilon. ``dynamic_shape=(m, n)`` decomposes the
    leading ``m x n`` block of a zero-padded ``x`` (results padded with zeros).
    ``is_hermitian`` is accepted and unused, as in JAX.

    Example::

        u, h, iters, ok = lax.linalg.qdwh(a)
    """
    from jaxel import numpy as jnp
    from jaxel.lax import linalg as _la
    from jaxel.lax.control_flow.while_loop import while_loop

    del is_hermitian
    x = jnp.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"lax.linalg.qdwh needs a matrix M x N, got shape {x.shape}.")
    M, N = x.shape
    if M < N:
        raise ValueError("The input matrix of shape M x N must have M >= N.")
    max_iterations = 10 if max_iterations is None else int(max_iterations)
    if dynamic_shape is not None:
        m, n = (int(v) for v in dynamic_shape)
        if (m, n) != (M, N):
            u, h, k, ok = qdwh(x[:m, :n], max_iterations=max_iterations, eps=eps)
            return (jnp.pad(u, ((0, M - m), (0, N - n))),
                    jnp.pad(h, ((0, N - n), (0, N - n))), k, ok)
    dt = x.dtype
    eps = float(jnp.finfo(dt).eps) if eps is None else float(eps)
    tol_norm = (5.0 * eps) ** (1 / 3)

    def mm(a, b):
        return jnp.matmul(a, b, precision=Precision.HIGHEST)

    def H(a):
        return jnp.conj(a.T)

    eye = jnp.eye(N, dtype=dt)
    one_norm = jnp.linalg.norm(x, ord=1)
    inf_norm = jnp.linalg.norm(x, ord=np.inf)
    scale = jnp.where(one_norm == 0, 1, 1 / jnp.sqrt(one_norm * inf_norm))
    u = x * scale.astype(dt)

    def qr_step(u, a, b, c):
        sc = c ** 0.5
        q, _ = _la.qr(jnp.concatenate([sc * u, eye], axis=0), full_matrices=False)
        return (b / c) * u + ((a - b / c) / sc) * mm(q[:M], H(q[M:]))

    def cholesky_step(u, a, b, c):
        low = _la.cholesky(c * mm(H(u), u) + eye, symmetrize_input=False)
        z = _la.triangular_solve(low, u, left_side=False, lower=True, transpose_a=True,
                                 conjugate_a=True)  # u L⁻ᴴ
        z = _la.triangular_solve(low, z, left_side=False, lower=True)  # u (L Lᴴ)⁻¹
        return (b / c) * u + (a - b / c) * z

    not_converged = jnp.asarray(True)
    weights = _weights(eps, max_iterations)
    for a, b, c in weights:
        if c > _CHOLESKY_CUTOFF:
            u = qr_step(u, a, b, c)
        else:
            prev, u = u, cholesky_step(u, a, b, c)
            not_converged = jnp.linalg.norm(u - prev) > tol_norm

    def cond(state):
        k, _, nc = state
        return jnp.logical_and(nc, k < max_iterations)

    def body(state):
        k, u, _ = state
        new = cholesky_step(u, 3.0, 1.0, 3.0)
        return k + 1, new, jnp.linalg.norm(new - u) > tol_norm

    k = jnp.asarray(len(weights))
    remaining = max_iterations - len(weights)
    if remaining > 0:
        # bounded (max_steps), so the loop is reverse-differentiable too
        k, u, not_converged = while_loop(cond, body, (k, u, not_converged),
                                         max_steps=remaining)
    u = 1.5 * u - 0.5 * mm(u, mm(H(u), u))
    h = mm(H(u), x)
    h = (h + H(h)) / 2
    return u, h, k, jnp.logical_not(not_converged)
