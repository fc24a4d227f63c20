"""``jaxel.scipy.linalg`` (JAX's ``jax.scipy.linalg``): SciPy's dense linear algebra on top of
the ``jaxel.lax.linalg`` primitives and ``jaxel.numpy.linalg``.

Every function takes stacks of matrices ``[..., m, n]`` (leading dimensions are batch
dimensions), is traceable (``jit``/``vmap``) and differentiable wherever the primitives it is
built from are. The SciPy-only arguments ``overwrite_*``, ``check_finite``, ``lwork``,
``debug`` and ``turbo`` are accepted and ignored, as in JAX.

Implementation notes:

* ``expm``: Padé scaling and squaring (Higham 2005): degree 7 (float32/complex64) or 13
  (float64/complex128) after scaling ``A / 2^s`` so that ``‖A‖₁ / 2^s <= θ``, then ``s``
  squarings (at most ``max_squarings``; the loop is unrolled with a per-matrix mask, so it is
  differentiable and batched).
* ``sqrtm``: from the eigendecomposition ``A = V diag(w) V⁻¹`` (``sqrt`` of the principal
  branch), which equals SciPy's Schur-based result for diagonalisable matrices. Defective
  (non-diagonalisable) matrices lose accuracy. The result is complex, as JAX's.
* ``polar``: from the SVD (for both ``method='qdwh'`` and ``'svd'``).
* ``schur``/``hessenberg``: the ``lax.linalg.schur``/``hessenberg``/``householder_product``
  primitives (LAPACK ``gees``, ``gehrd``, ``orgqr``); not differentiable (as in JAX).
* ``eigh(a, b)``: the generalised problem through ``b = L Lᴴ``: ``L⁻¹ a L⁻ᴴ y = w y``,
  ``v = L⁻ᴴ y`` (so ``vᴴ b v = I``).

``qr_multiply``, ``solve_sylvester``, ``expm_frechet``, ``eigh_tridiagonal``, ``rsf2csf``
and ``funm`` live in ``linalg_extra.py``, the special-matrix constructors in
``linalg_special.py``.
"""
from __future__ import annotations

import numpy as np

from jaxel import lax
from jaxel import numpy as jnp
from jaxel.lax import linalg as _la
from jaxel.numpy import linalg as _nla
from jaxel.numpy._util import check_arraylike, promote_dtypes_inexact

_LAPACK = (np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.complex64),
           np.dtype(np.complex128))


def _prep(name, *args):
    check_arraylike(f"scipy.linalg.{name}", *args)
    args = promote_dtypes_inexact(*[jnp.asarray(a) for a in args])
    for x in args:
        if np.dtype(x.dtype) not in _LAPACK:
            raise TypeError(f"jaxel.scipy.linalg.{name} does not support dtype "
                            f"{np.dtype(x.dtype).name}; supported dtypes are float32, float64, "
                            "complex64 and complex128.")
    return args if len(args) > 1 else args[0]


def _square(name, a):
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"jaxel.scipy.linalg.{name}: expected a square matrix or a stack of "
                         f"square matrices [..., n, n], got shape {a.shape}.")


def _H(x):
    return jnp.conj(jnp.swapaxes(x, -1, -2)) if jnp.iscomplexobj(x) else \
        jnp.swapaxes(x, -1, -2)


def _mm(a, b):
    return jnp.matmul(a, b, precision=lax.Precision.HIGHEST)


def _with_rhs(a, b, name):
    """Broadcast batch dims of ``a`` [..., n, n] and ``b`` ([..., n, k] or a vector [n]);
    returns ``(a, b2, was_vector)`` with ``b2`` a stack of matrices."""
    vector = b.ndim == 1
    if vector:
        b = b[:, None]
    if b.shape[-2] != a.shape[-1]:
        raise ValueError(f"jaxel.scipy.linalg.{name}: incompatible shapes {a.shape} and "
                         f"{b.shape if not vector else b.shape[:-1]}.")
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = jnp.broadcast_to(a, batch + a.shape[-2:])
    b = jnp.broadcast_to(b, batch + b.shape[-2:])
    return a, b, vector


def _trans_code(trans):
    codes = {0: 0, 1: 1, 2: 2, "N": 0, "T": 1, "C": 2}
    if trans not in codes:
        raise ValueError(f"jaxel.scipy.linalg: trans must be 0, 1, 2, 'N', 'T' or 'C', got "
                         f"{trans!r}.")
    return codes[trans]


# ---- triangular / Cholesky / LU solves -----------------------------------------------------------
def solve_triangular(a, b, trans=0, lower: bool = False, unit_diagonal: bool = False,
                     overwrite_b: bool = False, debug=None, check_finite: bool = True):
    """Solve ``op(a) x = b`` for triangular ``a`` (``jax.scipy.linalg.solve_triangular``).

    ``trans`` is 0/'N' (``a``), 1/'T' (``aᵀ``) or 2/'C' (``aᴴ``); only the triangle named by
    ``lower`` is read; ``b`` is ``[..., n, k]`` or a vector ``[n]``.

    Example::

        x = solve_triangular(jnp.array([[2., 0.], [1., 1.]]), jnp.array([2., 3.]), lower=True)
        # [1., 2.]
    """
    a, b = _prep("solve_triangular", a, b)
    _square("solve_triangular", a)
    t = _trans_code(trans)
    a, b2, vector = _with_rhs(a, b, "solve_triangular")
    x = _la.triangular_solve(a, b2, left_side=True, lower=lower, transpose_a=t > 0,
                             conjugate_a=t == 2, unit_diagonal=unit_diagonal)
    return x[..., 0] if vector else x


def cholesky(a, lower: bool = False, overwrite_a: bool = False, check_finite: bool = True):
    """Cholesky factor of Hermitian positive-definite matrices (``jax.scipy.linalg.cholesky``):
    upper ``U`` (``a = Uᴴ U``) by default, lower ``L`` (``a = L Lᴴ``) with ``lower=True``.

    Example::

        cholesky(jnp.array([[4., 2.], [2., 5.]]))   # [[2., 1.], [0., 2.]]
    """
    a = _prep("cholesky", a)
    _square("cholesky", a)
    l = _la.cholesky(a)
    return l if lower else _H(l)


def cho_factor(a, lower: bool = False, overwrite_a: bool = False, check_finite: bool = True):
    """``(c, lower)`` for ``cho_solve`` (``jax.scipy.linalg.cho_factor``); ``c`` is the
    triangular Cholesky factor (zeros in the other triangle).

    Example::

        c = cho_factor(a); x = cho_solve(c, b)
    """
    return cholesky(a, lower=lower), lower


def cho_solve(c_and_lower, b, overwrite_b: bool = False, check_finite: bool = True):
    """Solve ``a x = b`` given ``cho_factor(a)`` (``jax.scipy.linalg.cho_solve``).

    Example::

        x = cho_solve(cho_factor(a), b)
    """
    c, lower = c_and_lower
    c, b = _prep("cho_solve", c, b)
    _square("cho_solve", c)
    c, b2, vector = _with_rhs(c, b, "cho_solve")
    if lower:  # L Lᴴ x = b
        y = _la.triangular_solve(c, b2, left_side=True, lower=True)
        x = _la.triangular_solve(c, y, left_side=True, lower=True, transpose_a=True,
                                 conjugate_a=True)
    else:  # Uᴴ U x = b
        y = _la.triangular_solve(c, b2, left_side=True, lower=False, transpose_a=True,
                                 conjugate_a=True)
        x = _la.triangular_solve(c, y, left_side=True, lower=False)
    return x[..., 0] if vector else x


def lu(a, permute_l: bool = False, overwrite_a: bool = False, check_finite: bool = True):
    """LU decomposition with partial pivoting (``jax.scipy.linalg.lu``): ``(p, l, u)`` with
    ``a = p @ l @ u`` (``p`` a permutation matrix, ``l`` ``[..., m, k]`` unit lower triangular,
    ``u`` ``[..., k, n]`` upper triangular, ``k = min(m, n)``), or ``(p @ l, u)`` with
    ``permute_l``.

    Example::

        p, l, u = lu(a)
    """
    a = _prep("lu", a)
    if a.ndim < 2:
        raise ValueError(f"jaxel.scipy.linalg.lu: expected a matrix, got shape {a.shape}.")
    m, n = a.shape[-2:]
    k = min(m, n)
    lu_, _, perm = _la.lu(a)
    l = jnp.tril(lu_[..., :, :k], -1) + jnp.eye(m, k, dtype=a.dtype)
    u = jnp.triu(lu_[..., :k, :])
    # a[perm] = l u, so a = p l u with p[perm[i], i] = 1.
    p = jnp.swapaxes((perm[..., :, None] == jnp.arange(m)).astype(a.dtype), -1, -2)
    if permute_l:
        return _mm(p, l), u
    return p, l, u


def lu_factor(a, overwrite_a: bool = False, check_finite: bool = True):
    """``(lu, piv)`` for ``lu_solve`` (``jax.scipy.linalg.lu_factor``): ``L`` (unit diagonal
    implied) and ``U`` packed in ``lu``; ``piv`` are LAPACK's 0-based row swaps (int32).

    Example::

        x = lu_solve(lu_factor(a), b)
    """
    a = _prep("lu_factor", a)
    lu_, piv, _ = _la.lu(a)
    return lu_, piv


def lu_solve(lu_and_piv, b, trans: int = 0, overwrite_b: bool = False,
             check_finite: bool = True):
    """Solve ``op(a) x = b`` given ``lu_factor(a)`` (``jax.scipy.linalg.lu_solve``); ``trans``
    is 0 (``a``), 1 (``aᵀ``) or 2 (``aᴴ``).

    Example::

        x = lu_solve(lu_factor(a), b, trans=1)   # aᵀ x = b
    """
    lu_, piv = lu_and_piv
    lu_, b = _prep("lu_solve", lu_, b)
    _square("lu_solve", lu_)
    piv = jnp.asarray(piv).astype(np.int32)
    t = _trans_code(trans)
    n = lu_.shape[-1]
    perm = _la._pivots_to_permutation(piv, n)
    lu_, b2, vector = _with_rhs(lu_, b, "lu_solve")
    perm = jnp.broadcast_to(perm, lu_.shape[:-2] + (n,))
    idx = jnp.broadcast_to(perm[..., :, None], perm.shape + (b2.shape[-1],))
    if t == 0:  # a = Pᵀ L U: x = U⁻¹ L⁻¹ b[perm]
        y = _la.triangular_solve(lu_, jnp.take_along_axis(b2, idx, axis=-2), left_side=True,
                                 lower=True, unit_diagonal=True)
        x = _la.triangular_solve(lu_, y, left_side=True, lower=False)
    else:  # op(a) = op(U) op(L) P: x = Pᵀ op(L)⁻¹ op(U)⁻¹ b
        conj = t == 2
        y = _la.triangular_solve(lu_, b2, left_side=True, lower=False, transpose_a=True,
                                 conjugate_a=conj)
        y = _la.triangular_solve(lu_, y, left_side=True, lower=True, transpose_a=True,
                                 conjugate_a=conj, unit_diagonal=True)
        inv_perm = jnp.argsort(perm, axis=-1)
        x = jnp.take_along_axis(y, jnp.broadcast_to(inv_perm[..., :, None], idx.shape), axis=-2)
    return x[..., 0] if vector else x


def solve(a, b, lower: bool = False, overwrite_a: bool = False, overwrite_b: bool = False,
          debug: bool = False, check_finite: bool = True, assume_a: str = "gen"):
    """Solve ``a x = b`` (``jax.scipy.linalg.solve``). ``assume_a`` is 'gen' (LU), 'sym'
    (LU), 'her' (LU) or 'pos' (Cholesky of the triangle named by ``lower``); ``b`` is
    ``[..., n, k]`` or a vector ``[n]``.

    Example::

        x = solve(a @ a.T + jnp.eye(3), b, assume_a="pos")
    """
    if assume_a not in ("gen", "sym", "her", "pos"):
        raise ValueError(f"jaxel.scipy.linalg.solve: assume_a must be 'gen', 'sym', 'her' or "
                         f"'pos', got {assume_a!r}.")
    a, b = _prep("solve", a, b)
    _square("solve", a)
    if assume_a == "pos":
        tri = jnp.tril(a) if lower else jnp.triu(a)
        full = tri + _H(jnp.tril(a, -1) if lower else jnp.triu(a, 1))
        return cho_solve(cho_factor(full, lower=True), b)
    a2, b2, vector = _with_rhs(a, b, "solve")
    x = _nla.solve(a2, b2)
    return x[..., 0] if vector else x


# ---- thin wrappers of jnp.linalg ------------------------------------------------------------------
def det(a, overwrite_a: bool = False, check_finite: bool = True):
    """Determinant (``jax.scipy.linalg.det``).

    Example::

        det(jnp.array([[1., 2.], [3., 4.]]))   # ≈ -2.
    """
    return _nla.det(a)


def inv(a, overwrite_a: bool = False, check_finite: bool = True):
    """Matrix inverse (``jax.scipy.linalg.inv``).

    Example::

        inv(jnp.array([[2., 0.], [0., 4.]]))   # [[0.5, 0.], [0., 0.25]]
    """
    return _nla.inv(a)


def svd(a, full_matrices: bool = True, compute_uv: bool = True, overwrite_a: bool = False,
        check_finite: bool = True, lapack_driver: str = "gesdd"):
    """Singular value decomposition (``jax.scipy.linalg.svd``): ``(u, s, vh)`` or ``s``.

    Example::

        u, s, vh = svd(a, full_matrices=False)
    """
    if lapack_driver not in ("gesdd", "gesvd"):
        raise ValueError(f"jaxel.scipy.linalg.svd: lapack_driver must be 'gesdd' or 'gesvd', "
                         f"got {lapack_driver!r}.")
    a = _prep("svd", a)
    if not compute_uv:
        return _la.svd(a, compute_uv=False)
    return tuple(_nla.svd(a, full_matrices=full_matrices))


def qr(a, overwrite_a: bool = False, lwork=None, mode: str = "full", pivoting: bool = False,
       check_finite: bool = True):
    """QR decomposition (``jax.scipy.linalg.qr``): ``(q, r)`` for ``mode='full'`` or
    ``'economic'``, ``(r,)`` for ``'r'``. With ``pivoting`` (column pivoting, LAPACK
    ``geqp3``) the column permutation ``p`` (``a[:, p] = q @ r``) is appended: ``(q, r, p)``,
    or ``(r, p)`` for ``'r'``.

    Example::

        q, r = qr(a, mode="economic")
    """
    if mode not in ("full", "r", "economic"):
        raise ValueError(f"jaxel.scipy.linalg.qr: mode must be 'full', 'r' or 'economic', got "
                         f"{mode!r}.")
    a = _prep("qr", a)
    q, r, *p = _la.qr(a, full_matrices=(mode != "economic"), pivoting=bool(pivoting))
    if mode == "r":
        return (r, p[0]) if pivoting else (r,)
    return (q, r, p[0]) if pivoting else (q, r)


def eigh(a, b=None, lower: bool = True, eigvals_only: bool = False, overwrite_a: bool = False,
         overwrite_b: bool = False, turbo: bool = True, eigvals=None, type: int = 1,
         check_finite: bool = True):
    """Eigenvalues (ascending) and eigenvectors of Hermitian ``a``, or of the generalised
    problem ``a v = w b v`` with Hermitian positive-definite ``b`` (``type=1`` only)
    (``jax.scipy.linalg.eigh``). Returns ``w`` or ``(w, v)``.

    Example::

        w, v = eigh(a + a.T)
    """
    if eigvals is not None:
        raise NotImplementedError("jaxel.scipy.linalg.eigh: eigvals (a subset) is not "
                                  "implemented.")
    if type != 1:
        raise NotImplementedError("jaxel.scipy.linalg.eigh: only type=1 (a v = w b v) is "
                                  "implemented.")
    a = _prep("eigh", a)
    _square("eigh", a)
    if b is None:
        v, w = _la.eigh(a, lower=lower)
    else:
        a, b = _prep("eigh", a, b)
        l = _la.cholesky(b)
        # C = L⁻¹ a L⁻ᴴ
        c = _la.triangular_solve(l, a, left_side=True, lower=True)
        c = _la.triangular_solve(l, c, left_side=False, lower=True, transpose_a=True,
                                 conjugate_a=True)
        y, w = _la.eigh(c, lower=lower)
        v = _la.triangular_solve(l, y, left_side=True, lower=True, transpose_a=True,
                                 conjugate_a=True)
    return w if eigvals_only else (w, v)


# ---- matrix functions -----------------------------------------------------------------------------
# Padé coefficients b_k of the [m/m] approximant of exp, and the 1-norm bounds θ_m (Higham 2005).
_PADE = {
    7: ([17297280., 8648640., 1995840., 277200., 25200., 1512., 56., 1.],
        3.925724783138660),
    13: ([64764752532480000., 32382376266240000., 7771770303897600., 1187353796428800.,
          129060195264000., 10559470521600., 670442572800., 33522128640., 1323241920.,
          40840800., 960960., 16380., 182., 1.], 5.371920351148152),
}


def _pade_uv(A, m):
    """``(U, V)`` with ``U`` the odd and ``V`` the even part of the degree-``m`` Padé
    numerator: ``exp(A) ≈ (V - U)⁻¹ (V + U)``."""
    b, _ = _PADE[m]
    n = A.shape[-1]
    eye = jnp.broadcast_to(jnp.eye(n, dtype=A.dtype), A.shape)
    A2 = _mm(A, A)
    if m == 7:
        A4 = _mm(A2, A2)
        A6 = _mm(A4, A2)
        U = _mm(A, b[7] * A6 + b[5] * A4 + b[3] * A2 + b[1] * eye)
        V = b[6] * A6 + b[4] * A4 + b[2] * A2 + b[0] * eye
        return U, V
    A4 = _mm(A2, A2)
    A6 = _mm(A4, A2)
    U = _mm(A, _mm(A6, b[13] * A6 + b[11] * A4 + b[9] * A2)
            + b[7] * A6 + b[5] * A4 + b[3] * A2 + b[1] * eye)
    V = _mm(A6, b[12] * A6 + b[10] * A4 + b[8] * A2) + b[6] * A6 + b[4] * A4 + b[2] * A2 \
        + b[0] * eye
    return U, V


def expm(A, *, upper_triangular: bool = False, max_squarings: int = 16):
    """Matrix exponential by Padé scaling and squaring (``jax.scipy.linalg.expm``).

    ``upper_triangular`` is accepted and ignored (the general algorithm is exact for
    triangular input too). Matrices needing more than ``max_squarings`` squarings give NaN, as
    in JAX.

    Example::

        expm(jnp.array([[0., 1.], [0., 0.]]))   # [[1., 1.], [0., 1.]]
    """
    A = _prep("expm", A)
    _square("expm", A)
    if A.shape[-1] == 0:
        return A
    single = np.dtype(A.dtype) in (np.float32, np.complex64)
    m = 7 if single else 13
    theta = _PADE[m][1]
    norm = jnp.max(jnp.sum(jnp.abs(A), axis=-2), axis=-1)  # 1-norm, [...]
    rdt = norm.dtype
    s = jnp.ceil(jnp.log2(jnp.maximum(norm / theta, jnp.asarray(1.0, rdt))))
    s = jnp.where(jnp.isfinite(s), s, jnp.asarray(max_squarings + 1, rdt))
    too_many = s > max_squarings
    s = lax.stop_gradient(jnp.clip(s, 0, max_squarings))
    scale = jnp.exp2(-s).astype(A.dtype)[..., None, None]
    U, V = _pade_uv(A * scale, m)
    R = _nla.solve(V - U, V + U)
    for i in range(max_squarings):
        R = jnp.where((s > i)[..., None, None], _mm(R, R), R)
    return jnp.where(too_many[..., None, None], jnp.asarray(np.nan, A.dtype), R)


def sqrtm(A, blocksize: int = 1):
    """Principal matrix square root (``jax.scipy.linalg.sqrtm``), complex-valued.

    Computed from the eigendecomposition ``A = V diag(w) V⁻¹`` (CPU only), which agrees with
    SciPy's Schur method for diagonalisable matrices; defective matrices lose accuracy.

    Example::

        sqrtm(jnp.array([[4., 0.], [0., 9.]]))   # [[2.+0.j, 0.], [0., 3.+0.j]]
    """
    if blocksize > 1:
        raise NotImplementedError("jaxel.scipy.linalg.sqrtm: blocksize > 1 is not supported.")
    A = _prep("sqrtm", A)
    _square("sqrtm", A)
    w, v = _la.eig(A, compute_left_eigenvectors=False)
    vs = v * jnp.sqrt(w)[..., None, :]
    # X = V diag(√w) V⁻¹, i.e. Xᵀ solves Vᵀ Xᵀ = (V diag(√w))ᵀ.
    return jnp.swapaxes(_nla.solve(jnp.swapaxes(v, -1, -2), jnp.swapaxes(vs, -1, -2)), -1, -2)


def polar(a, side: str = "right", *, method: str = "qdwh", eps=None, max_iterations=None):
    """Polar decomposition (``jax.scipy.linalg.polar``): ``(u, p)`` with ``a = u p``
    (``side='right'``) or ``a = p u`` (``'left'``), ``u`` with orthonormal columns (rows) and
    ``p`` Hermitian positive semi-definite. Computed from the SVD for either ``method``.

    Example::

        u, p = polar(a)
    """
    if side not in ("right", "left"):
        raise ValueError(f"jaxel.scipy.linalg.polar: side must be 'right' or 'left', got "
                         f"{side!r}.")
    if method not in ("qdwh", "svd"):
        raise ValueError(f"jaxel.scipy.linalg.polar: method must be 'qdwh' or 'svd', got "
                         f"{method!r}.")
    a = _prep("polar", a)
    m, n = a.shape[-2:]
    if side == "right" and m < n or side == "left" and m > n:
        raise ValueError(f"jaxel.scipy.linalg.polar: side={side!r} needs "
                         f"{'m >= n' if side == 'right' else 'm <= n'}, got shape {a.shape}.")
    u_, s, vh = _la.svd(a, full_matrices=False)
    u = _mm(u_, vh)
    sc = s.astype(a.dtype)
    if side == "right":
        p = _mm(_H(vh) * sc[..., None, :], vh)
    else:
        p = _mm(u_ * sc[..., None, :], _H(u_))
    return u, p


def block_diag(*arrs):
    """Block-diagonal matrix of the given arrays (scalars and vectors count as ``1 x 1`` and
    ``1 x n``) (``jax.scipy.linalg.block_diag``).

    Example::

        block_diag(jnp.ones((2, 2)), 3.)   # 3 x 3
    """
    if not arrs:
        return jnp.zeros((1, 0))
    check_arraylike("scipy.linalg.block_diag", *arrs)
    arrs = [jnp.atleast_2d(jnp.asarray(x)) for x in arrs]
    for x in arrs:
        if x.ndim != 2:
            raise ValueError(f"jaxel.scipy.linalg.block_diag: arguments must have at most 2 "
                             f"dimensions, got shape {x.shape}.")
    dt = jnp.result_type(*arrs)
    total = sum(x.shape[1] for x in arrs)
    rows, acc = [], 0
    for x in arrs:
        c = x.shape[1]
        rows.append(jnp.pad(x.astype(dt), ((0, 0), (acc, total - acc - c))))
        acc += c
    return jnp.concatenate(rows, axis=0)


def schur(a, output: str = "real"):
    """Schur decomposition ``a = z @ t @ zᴴ`` (``jax.scipy.linalg.schur``; CPU only, LAPACK
    ``gees``): ``t`` upper quasi-triangular (``output='real'`` on real input: 2 x 2 blocks for
    complex-conjugate eigenvalue pairs) or triangular (``'complex'``, which converts real input
    to complex first), ``z`` unitary. Returns the list ``[t, z]`` (a list, as JAX's). Not
    differentiable.

    Example::

        t, z = schur(jnp.array([[1., 2.], [3., 4.]]))
    """
    if output not in ("real", "complex"):
        raise ValueError(f"jaxel.scipy.linalg.schur: output must be 'real' or 'complex', got "
                         f"{output!r}.")
    a = _prep("schur", a)
    _square("schur", a)
    if output == "complex" and not jnp.iscomplexobj(a):
        a = a.astype(np.complex64 if np.dtype(a.dtype) == np.float32 else np.complex128)
    t, z = _la.schur(a)
    return [t, z]


def hessenberg(a, *, calc_q: bool = False, overwrite_a: bool = False,
               check_finite: bool = True):
    """Hessenberg form ``a = q @ h @ qᴴ`` (``jax.scipy.linalg.hessenberg``; CPU only, LAPACK
    ``gehrd``): returns ``h``, or ``(h, q)`` with ``calc_q``. Not differentiable.

    Example::

        h, q = hessenberg(a, calc_q=True)
    """
    a = _prep("hessenberg", a)
    _square("hessenberg", a)
    packed, taus = _la.hessenberg(a)
    h = jnp.triu(packed, -1)
    if not calc_q:
        return h
    n = a.shape[-1]
    if n <= 1:
        return h, jnp.ones_like(a)
    q1 = _la.householder_product(packed[..., 1:, :-1], taus)
    pad = [(0, 0)] * (a.ndim - 2) + [(1, 0), (1, 0)]
    q = jnp.pad(q1, pad).at[..., 0, 0].set(1)
    return h, q



__all__ = ["solve_triangular", "cholesky", "cho_factor", "cho_solve", "lu", "lu_factor",
           "lu_solve", "solve", "det", "inv", "svd", "qr", "eigh", "expm", "sqrtm", "polar",
           "block_diag", "schur", "hessenberg", "rsf2csf", "funm", "expm_frechet",
           "eigh_tridiagonal"]


# ---- functions declared beside this module -------------------------------------------------------
from jaxel.scipy.linalg_special import (circulant, companion, convolution_matrix,  # noqa: E402
                                        dft, fiedler, fiedler_companion, hadamard, hankel,
                                        helmert, hilbert, invhilbert, invpascal, leslie,
                                        pascal, toeplitz)
from jaxel.scipy.linalg_extra import (eigh_tridiagonal, expm_frechet,  # noqa: E402
                                      funm, qr_multiply, rsf2csf, solve_sylvester)

__all__ += ["circulant", "companion", "convolution_matrix", "dft", "fiedler",
            "fiedler_companion", "hadamard", "hankel", "helmert", "hilbert", "invhilbert",
            "invpascal", "leslie", "pascal", "toeplitz", "qr_multiply", "solve_sylvester"]
