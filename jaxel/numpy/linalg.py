"""``jaxel.numpy.linalg``: NumPy's linear algebra on jaxel arrays (``jax.numpy.linalg``).

Every function works on stacks of matrices (leading axes are batch axes) and is composed from
the ``jaxel.lax.linalg`` primitives (LU, Cholesky, QR, eigh, SVD, triangular solves) and
ordinary lax operations, so ``jit``, ``grad`` and ``vmap`` apply to all of them. Integer and
boolean inputs are promoted to the default float dtype; float16/bfloat16 are rejected with a
clear error (the LAPACK kernels have no half-precision versions), as are non-square matrices
where square ones are needed.
"""
from __future__ import annotations

import operator
from typing import NamedTuple

import numpy as np

from jaxel import dtypes as _dtypes
from jaxel import lax
from jaxel import numpy as jnp
from jaxel.lax import linalg as _la
from jaxel.numpy._util import aval_of, check_arraylike, promote_dtypes_inexact


class EighResult(NamedTuple):
    eigenvalues: object
    eigenvectors: object


class QRResult(NamedTuple):
    Q: object
    R: object


class SlogdetResult(NamedTuple):
    sign: object
    logabsdet: object


class SVDResult(NamedTuple):
    U: object
    S: object
    Vh: object


class EigResult(NamedTuple):
    eigenvalues: object
    eigenvectors: object


_LAPACK_DTYPES = (np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.complex64),
                  np.dtype(np.complex128))


# ---- helpers -------------------------------------------------------------------------------------
def _prep(name, *args, min_ndim=2, square=False):
    """Array-check, promote to a common inexact dtype, validate dtype and matrix shapes."""
    check_arraylike(f"linalg.{name}", *args)
    args = promote_dtypes_inexact(*[jnp.asarray(a) for a in args])
    for x in args:
        dt = np.dtype(x.dtype)
        if dt not in _LAPACK_DTYPES:
            raise TypeError(f"jaxel.numpy.linalg.{name} does not support dtype {dt.name}; "
                            "supported dtypes are float32, float64, complex64 and complex128 "
                            "(convert the input with .astype(jnp.float32) first).")
    for x in args[:1]:
        if x.ndim < min_ndim:
            raise ValueError(f"jaxel.numpy.linalg.{name}: argument must have at least "
                             f"{min_ndim} dimensions, got shape {x.shape}.")
        if square and x.shape[-1] != x.shape[-2]:
            raise ValueError(f"jaxel.numpy.linalg.{name}: argument must be a square matrix or "
                             f"a stack of square matrices of shape [..., n, n], got shape "
                             f"{x.shape}.")
    return args if len(args) > 1 else args[0]


def _H(x):
    return jnp.conj(jnp.swapaxes(x, -1, -2)) if jnp.iscomplexobj(x) else \
        jnp.swapaxes(x, -1, -2)


def _real_dtype(dt):
    return np.dtype(dt).type(0).real.dtype


def _diag(x):
    return jnp.diagonal(x, axis1=-2, axis2=-1)


def _mm(a, b):
    return jnp.matmul(a, b, precision=lax.Precision.HIGHEST)


def _broadcast_batch(a, b, a_core, b_core):
    """Broadcast the batch (leading) dims of ``a`` and ``b``; the last ``*_core`` dims stay."""
    batch = np.broadcast_shapes(a.shape[:a.ndim - a_core], b.shape[:b.ndim - b_core])
    return (jnp.broadcast_to(a, batch + a.shape[a.ndim - a_core:]),
            jnp.broadcast_to(b, batch + b.shape[b.ndim - b_core:]))


def _lu_solve(lu, perm, b):
    """Solve ``a x = b`` (b: [..., n, k]) given ``lax.linalg.lu(a)``."""
    bp = jnp.take_along_axis(b, jnp.broadcast_to(perm[..., None], perm.shape + (b.shape[-1],)),
                             axis=-2)
    y = _la.triangular_solve(lu, bp, left_side=True, lower=True, unit_diagonal=True)
    return _la.triangular_solve(lu, y, left_side=True, lower=False)


# ---- solve / inv / det ---------------------------------------------------------------------------
def solve(a, b):
    """Solve ``a @ x = b`` for ``x`` (``jax.numpy.linalg.solve``).

    ``a`` is ``[..., n, n]``; ``b`` is a vector ``[n]`` or a stack of matrices ``[..., n, k]``
    (batch axes broadcast). Uses an LU factorisation with partial pivoting.

    Example::

        x = jnp.linalg.solve(a, b)
    """
    a, b = _prep("solve", a, b, square=True)
    n = a.shape[-1]
    if b.ndim == 1:
        if b.shape[0] != n:
            raise ValueError(f"jaxel.numpy.linalg.solve: b of shape {b.shape} does not match a "
                             f"of shape {a.shape}.")
        a2, b2 = _broadcast_batch(a, b[:, None], 2, 2)
        return _solve2(a2, b2)[..., 0]
    if b.ndim < 2 or b.shape[-2] != n:
        raise ValueError(f"jaxel.numpy.linalg.solve: invalid shapes a {a.shape}, b {b.shape}: "
                         "b must be a vector [n] or a stack of matrices [..., n, k] (for a "
                         "batch of vectors use solve(a, b[..., None])[..., 0]).")
    a2, b2 = _broadcast_batch(a, b, 2, 2)
    return _solve2(a2, b2)


def _lu_solve_transposed(lu, perm, b):
    """Solve ``a^T y = b`` given ``lax.linalg.lu(a)``: with ``a[perm] = L U``,
    ``a^T = U^T L^T P``, so solve ``U^T w = b``, ``L^T z = w`` and un-permute ``y[perm] = z``."""
    w = _la.triangular_solve(lu, b, left_side=True, lower=False, transpose_a=True)
    z = _la.triangular_solve(lu, w, left_side=True, lower=True, transpose_a=True,
                             unit_diagonal=True)
    inverse = jnp.argsort(perm, axis=-1)
    return jnp.take_along_axis(
        z, jnp.broadcast_to(inverse[..., None], inverse.shape + (b.shape[-1],)), axis=-2)


def _solve2(a, b):
    """Solve stacks of systems ``[..., n, n] @ x = [..., n, k]`` (batch dims equal) through one
    LU factorisation that derivatives reuse: ``lax.custom_linear_solve`` differentiates only
    the product ``a @ x`` (``x' = a^-1 (b' - a' x)``, ``ct_b = a^-T ct_x``), never the LU."""
    lu, _, perm = _la.lu(lax.stop_gradient(a))
    return lax.custom_linear_solve(lambda x: _mm(a, x), b,
                                   solve=lambda _, r: _lu_solve(lu, perm, r),
                                   transpose_solve=lambda _, r: _lu_solve_transposed(lu, perm, r))


def inv(a):
    """Inverse of square matrices ``[..., n, n]`` (``jax.numpy.linalg.inv``).

    Example::

        ainv = jnp.linalg.inv(a)
    """
    check_arraylike("linalg.inv", a)
    a = jnp.asarray(a)
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"jaxel.numpy.linalg.inv: argument must have shape [..., n, n], got "
                         f"{a.shape}.")
    a = _prep("inv", a, square=True)
    eye = jnp.broadcast_to(jnp.eye(a.shape[-1], dtype=a.dtype), a.shape)
    return _solve2(a, eye)


def _lu_det_parts(a):
    lu, piv, _ = _la.lu(a)
    d = _diag(lu)
    swaps = jnp.sum(piv != jnp.arange(piv.shape[-1], dtype=piv.dtype), axis=-1)
    parity = jnp.where(swaps % 2 == 1, -1, 1).astype(a.dtype)
    return d, parity


def det(a):
    """Determinant of square matrices ``[..., n, n]`` (``jax.numpy.linalg.det``).

    Example::

        jnp.linalg.det(jnp.eye(3))  # 1.0
    """
    check_arraylike("linalg.det", a)
    a0 = jnp.asarray(a)
    if a0.ndim < 2 or a0.shape[-1] != a0.shape[-2]:
        raise ValueError(f"jaxel.numpy.linalg.det: argument must have shape [..., n, n], got "
                         f"{a0.shape}.")
    a = _prep("det", a0, square=True)
    d, parity = _lu_det_parts(a)
    return parity * jnp.prod(d, axis=-1)


def slogdet(a, *, method=None):
    """Sign and natural log of the absolute determinant (``jax.numpy.linalg.slogdet``).

    Returns ``SlogdetResult(sign, logabsdet)``; for a singular matrix ``sign`` is 0 and
    ``logabsdet`` is ``-inf``. ``method`` may be ``None`` or ``'lu'``.

    Example::

        sign, logdet = jnp.linalg.slogdet(a)
    """
    if method not in (None, "lu"):
        raise ValueError(f"jaxel.numpy.linalg.slogdet: unsupported method {method!r}; "
                         "use None or 'lu'.")
    a = _prep("slogdet", a, square=True)
    d, parity = _lu_det_parts(a)
    absd = jnp.abs(d)
    logabsdet = jnp.sum(jnp.log(absd), axis=-1)
    if jnp.iscomplexobj(a):
        unit = d / jnp.where(absd == 0, 1, absd).astype(a.dtype)
        sign = parity * jnp.prod(unit, axis=-1)
    else:
        sign = parity * jnp.prod(jnp.sign(d), axis=-1)
    singular = jnp.any(absd == 0, axis=-1)
    sign = jnp.where(singular, jnp.zeros_like(sign), sign)
    logabsdet = jnp.where(singular, jnp.full_like(logabsdet, -np.inf), logabsdet)
    return SlogdetResult(sign, logabsdet)


# ---- factorisations ------------------------------------------------------------------------------
def cholesky(a, *, upper: bool = False, symmetrize_input: bool = True):
    """Cholesky factor of Hermitian positive-definite matrices (``jax.numpy.linalg.cholesky``).

    Returns lower-triangular ``L`` with ``a = L @ Lᴴ`` (``upper``: ``U = Lᴴ``). A matrix that
    is not positive definite gives NaNs.

    Example::

        L = jnp.linalg.cholesky(a @ a.T + jnp.eye(3))
    """
    a = _prep("cholesky", a, square=True)
    L = _la.cholesky(a, symmetrize_input=symmetrize_input)
    return _H(L) if upper else L


def qr(a, mode: str = "reduced"):
    """QR decomposition (``jax.numpy.linalg.qr``).

    ``mode``: ``'reduced'`` (``Q`` ``[..., m, k]``, ``R`` ``[..., k, n]``, ``k = min(m, n)``),
    ``'complete'`` (``Q`` ``[..., m, m]``), or ``'r'`` (``R`` only). Returns ``QRResult(Q, R)``
    or ``R``.

    Example::

        q, r = jnp.linalg.qr(a)
    """
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"jaxel.numpy.linalg.qr: unsupported mode {mode!r}; use 'reduced', "
                         "'complete' or 'r' ('raw' is not supported).")
    a = _prep("qr", a)
    q, r = _la.qr(a, full_matrices=(mode == "complete"))
    if mode == "r":
        return r
    return QRResult(q, r)


def eigh(a, UPLO=None, symmetrize_input: bool = True):
    """Eigenvalues (ascending) and eigenvectors of Hermitian matrices
    (``jax.numpy.linalg.eigh``). Returns ``EighResult(eigenvalues, eigenvectors)``.

    ``UPLO`` (``'L'``, default, or ``'U'``) names the triangle read when ``symmetrize_input``
    is False.

    Example::

        w, v = jnp.linalg.eigh(a + a.T)
    """
    if UPLO is None:
        UPLO = "L"
    if UPLO not in ("L", "U"):
        raise ValueError(f"jaxel.numpy.linalg.eigh: UPLO must be 'L' or 'U', got {UPLO!r}.")
    a = _prep("eigh", a, square=True)
    v, w = _la.eigh(a, lower=(UPLO == "L"), symmetrize_input=symmetrize_input)
    return EighResult(w, v)


def eigvalsh(a, UPLO="L", *, symmetrize_input: bool = True):
    """Eigenvalues (ascending) of Hermitian matrices (``jax.numpy.linalg.eigvalsh``).

    Example::

        jnp.linalg.eigvalsh(a + a.T)
    """
    return eigh(a, UPLO, symmetrize_input).eigenvalues


def svd(a, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False,
        subset_by_index=None):
    """Singular value decomposition ``a = U @ diag(S) @ Vh`` (``jax.numpy.linalg.svd``).

    Returns ``SVDResult(U, S, Vh)`` (``S`` descending, real) or ``S`` alone when not
    ``compute_uv``. ``hermitian`` computes it from ``eigh``.

    Example::

        u, s, vh = jnp.linalg.svd(a, full_matrices=False)
    """
    a = _prep("svd", a)
    if hermitian:
        w, v = eigh(a)
        s = jnp.abs(w)
        order = jnp.argsort(-s, axis=-1)
        s = jnp.take_along_axis(s, order, axis=-1)
        if not compute_uv:
            return s
        sign = jnp.sign(w).astype(a.dtype)
        vo = jnp.take_along_axis(v, jnp.broadcast_to(order[..., None, :], v.shape), axis=-1)
        so = jnp.take_along_axis(sign, order, axis=-1)
        return SVDResult(vo * so[..., None, :], s, _H(vo))
    if not compute_uv:
        return _la.svd(a, compute_uv=False, subset_by_index=subset_by_index)
    u, s, vh = _la.svd(a, full_matrices=full_matrices, subset_by_index=subset_by_index)
    return SVDResult(u, s, vh)


def svdvals(x, /):
    """Singular values, descending (``jax.numpy.linalg.svdvals``).

    Example::

        jnp.linalg.svdvals(a)
    """
    return svd(x, compute_uv=False)


def eig(a):
    """Eigenvalues and right eigenvectors of general square matrices
    (``jax.numpy.linalg.eig``; CPU only, LAPACK ``geev``). Returns
    ``EigResult(eigenvalues, eigenvectors)``, both complex, with ``a @ v = v * w`` column by
    column; the eigenvalues are unsorted and each eigenvector has unit 2-norm. Only the
    eigenvalues are differentiable (as in JAX).

    Example::

        w, v = jnp.linalg.eig(jnp.array([[0., 1.], [-2., -3.]]))   # w = [-1.+0.j, -2.+0.j]
    """
    a = _prep("eig", a, square=True)
    w, v = _la.eig(a, compute_left_eigenvectors=False)
    return EigResult(w, v)


def eigvals(a):
    """Eigenvalues of general square matrices (``jax.numpy.linalg.eigvals``; CPU only), complex
    and unsorted; differentiable.

    Example::

        jnp.linalg.eigvals(jnp.array([[0., 1.], [-2., -3.]]))   # [-1.+0.j, -2.+0.j]
    """
    a = _prep("eigvals", a, square=True)
    return _la.eig(a, compute_left_eigenvectors=False, compute_right_eigenvectors=False)[0]


# ---- derived -------------------------------------------------------------------------------------
def _default_rtol(a):
    return max(a.shape[-2:]) * float(_dtypes.finfo(a.dtype).eps)


def pinv(a, rtol=None, hermitian: bool = False, *, rcond=None):
    """Moore-Penrose pseudo-inverse via the SVD (``jax.numpy.linalg.pinv``).

    Singular values below ``rtol * max(s)`` (default ``rtol = 10 * max(m, n) * eps``) are
    treated as zero. ``rcond`` is the older name of ``rtol``.

    Example::

        jnp.linalg.pinv(a)
    """
    if rcond is not None:
        if rtol is not None:
            raise ValueError("jaxel.numpy.linalg.pinv: pass only one of rtol and rcond.")
        rtol = rcond
    a = _prep("pinv", a)
    m, n = a.shape[-2:]
    if m == 0 or n == 0:
        return jnp.zeros(a.shape[:-2] + (n, m), a.dtype)
    if rtol is None:
        rtol = 10 * _default_rtol(a)
    u, s, vh = svd(a, full_matrices=False, hermitian=hermitian)
    rtol = jnp.asarray(rtol, s.dtype)
    cutoff = jnp.expand_dims(rtol, -1) * jnp.max(s, axis=-1, keepdims=True)
    keep = s > cutoff
    s_inv = jnp.where(keep, 1 / jnp.where(keep, s, 1), 0).astype(a.dtype)
    return _mm(_H(vh) * s_inv[..., None, :], _H(u))


def lstsq(a, b, rcond=None, *, numpy_resid: bool = False):
    """Least-squares solution of ``a @ x = b`` via the SVD (``jax.numpy.linalg.lstsq``).

    Returns ``(x, resid, rank, s)``. ``resid`` is the squared residual norm per column (empty
    unless ``numpy_resid``, rank ``n`` and ``m > n``, as NumPy; without ``numpy_resid`` it is
    always computed, as JAX does).

    Example::

        x, resid, rank, s = jnp.linalg.lstsq(a, b)
    """
    a, b = _prep("lstsq", a, b)
    if a.ndim != 2:
        raise TypeError(f"jaxel.numpy.linalg.lstsq: a must be 2-D, got shape {a.shape}.")
    b_vec = b.ndim == 1
    if b_vec:
        b = b[:, None]
    if b.ndim != 2 or b.shape[0] != a.shape[0]:
        raise TypeError(f"jaxel.numpy.linalg.lstsq: incompatible shapes a {a.shape} and b "
                        f"{b.shape}.")
    m, n = a.shape
    dt = a.dtype
    if rcond is None:
        rcond = float(_dtypes.finfo(dt).eps) * max(m, n)
    u, s, vh = svd(a, full_matrices=False)
    mask = s >= jnp.asarray(rcond, s.dtype) * (s[0] if s.shape[0] else 0)
    rank = jnp.sum(mask).astype(jnp.int32)
    safe = jnp.where(mask, s, 1)
    s_inv = jnp.where(mask, 1 / safe, 0).astype(dt)
    uTb = _mm(_H(u), b)
    x = _mm(_H(vh), s_inv[:, None] * uTb)
    r = b - _mm(a, x)
    resid = jnp.sum(jnp.real(r * jnp.conj(r)), axis=0)
    if numpy_resid and not (int(np.asarray(rank)) == n and m > n):
        resid = jnp.zeros((0,), _real_dtype(dt))  # NumPy returns no residuals then
    if b_vec:
        x = x[:, 0]
    return x, resid, rank, s


def matrix_power(a, n: int):
    """``a`` raised to the integer power ``n`` by repeated squaring (negative: of the inverse)
    (``jax.numpy.linalg.matrix_power``).

    Example::

        jnp.linalg.matrix_power(a, 3)  # a @ a @ a
    """
    check_arraylike("linalg.matrix_power", a)
    a = jnp.asarray(a)
    try:
        n = operator.index(n)
    except TypeError:
        raise TypeError(f"jaxel.numpy.linalg.matrix_power: exponent must be an integer, got "
                        f"{n!r}.") from None
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"jaxel.numpy.linalg.matrix_power: argument must have shape "
                         f"[..., n, n], got {a.shape}.")
    if n == 0:
        return jnp.broadcast_to(jnp.eye(a.shape[-1], dtype=a.dtype), a.shape)
    if n < 0:
        a = inv(a)
        n = -n
    result = None
    z = a
    while True:
        if n & 1:
            result = z if result is None else jnp.matmul(result, z)
        n >>= 1
        if not n:
            return result
        z = jnp.matmul(z, z)


def matrix_rank(M, rtol=None, *, hermitian: bool = False, tol=None):
    """Number of singular values above ``tol`` (default ``rtol * max(s)``, with ``rtol =
    max(m, n) * eps``) (``jax.numpy.linalg.matrix_rank``).

    Example::

        jnp.linalg.matrix_rank(jnp.eye(3))  # 3
    """
    check_arraylike("linalg.matrix_rank", M)
    M = jnp.asarray(M)
    if M.ndim < 2:
        return jnp.any(M != 0).astype(jnp.int32)
    M = _prep("matrix_rank", M)
    s = svd(M, compute_uv=False, hermitian=hermitian)
    if tol is None:
        if rtol is None:
            rtol = _default_rtol(M)
        tol = jnp.expand_dims(jnp.asarray(rtol, s.dtype), -1) * jnp.max(s, axis=-1,
                                                                         keepdims=True)
    else:
        tol = jnp.expand_dims(jnp.asarray(tol, s.dtype), -1)
    return jnp.sum(s > tol, axis=-1).astype(jnp.int32)


# ---- norms ---------------------------------------------------------------------------------------
def _norm_axes(x, axis):
    if axis is None:
        return tuple(range(x.ndim))
    if isinstance(axis, int) or np.ndim(axis) == 0:
        return (operator.index(axis),)
    return tuple(operator.index(a) for a in axis)


def vector_norm(x, /, *, axis=None, keepdims: bool = False, ord=2):
    """Vector p-norm over ``axis`` (all axes when None) (``jax.numpy.linalg.vector_norm``).

    ``ord``: any real ``p``, ``inf``, ``-inf`` or 0 (number of nonzeros).

    Example::

        jnp.linalg.vector_norm(x, ord=1)
    """
    check_arraylike("linalg.vector_norm", x)
    x = jnp.asarray(x)
    x = promote_dtypes_inexact(x)[0] if not jnp.issubdtype(x.dtype, jnp.inexact) else x
    if axis is None:
        out = _vector_norm(jnp.ravel(x), 0, ord)
        if keepdims:
            out = jnp.reshape(out, (1,) * x.ndim)
        return out
    axes = _norm_axes(x, axis)
    return _vector_norm(x, axes, ord, keepdims)


def _vector_norm(x, axis, ord, keepdims=False):
    ax = jnp.abs(x)
    if ord is None or ord == 2:
        if jnp.iscomplexobj(x):
            return jnp.sqrt(jnp.sum(jnp.real(x * jnp.conj(x)), axis=axis, keepdims=keepdims))
        return jnp.sqrt(jnp.sum(x * x, axis=axis, keepdims=keepdims))
    if ord == np.inf:
        return jnp.max(ax, axis=axis, keepdims=keepdims)
    if ord == -np.inf:
        return jnp.min(ax, axis=axis, keepdims=keepdims)
    if ord == 0:
        return jnp.sum(x != 0, axis=axis, keepdims=keepdims).astype(ax.dtype)
    if ord == 1:
        return jnp.sum(ax, axis=axis, keepdims=keepdims)
    if isinstance(ord, str):
        raise ValueError(f"jaxel.numpy.linalg: invalid norm order {ord!r} for vectors.")
    p = float(ord)
    return jnp.sum(ax ** p, axis=axis, keepdims=keepdims) ** (1.0 / p)


def matrix_norm(x, /, *, keepdims: bool = False, ord="fro"):
    """Matrix norm over the last two axes (``jax.numpy.linalg.matrix_norm``).

    ``ord``: ``'fro'``, ``'nuc'``, 1, -1, 2, -2, ``inf``, ``-inf``.

    Example::

        jnp.linalg.matrix_norm(a, ord=2)
    """
    return norm(x, ord=ord, axis=(-2, -1), keepdims=keepdims)


def norm(x, ord=None, axis=None, keepdims: bool = False):
    """Vector or matrix norm (``jax.numpy.linalg.norm``), with NumPy's rules: ``axis`` None
    means the 2-norm of the flattened array when ``ord`` is None, else the vector (1-D) or
    matrix (2-D) norm of ``x``; an int ``axis`` is a vector norm, a pair a matrix norm.

    Example::

        jnp.linalg.norm(a, 'fro')
    """
    check_arraylike("linalg.norm", x)
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        x = promote_dtypes_inexact(x)[0]
    if axis is None:
        if ord is None:
            out = _vector_norm(jnp.ravel(x), 0, None)
            return jnp.reshape(out, (1,) * x.ndim) if keepdims else out
        axes = tuple(range(x.ndim))
    else:
        axes = _norm_axes(x, axis)
    if len(axes) == 1:
        return _vector_norm(x, axes, ord, keepdims)
    if len(axes) != 2:
        raise ValueError(f"jaxel.numpy.linalg.norm: axis must name 1 or 2 axes, got {axis!r} "
                         f"for an array of rank {x.ndim}.")
    r, c = (a % x.ndim for a in axes)
    if r == c:
        raise ValueError("jaxel.numpy.linalg.norm: duplicate axes given.")
    if ord is None or ord == "fro":
        out = jnp.sqrt(jnp.sum(jnp.real(x * jnp.conj(x)), axis=(r, c), keepdims=keepdims))
        return out
    ax = jnp.abs(x)
    if ord in (1, -1):
        colsum = jnp.sum(ax, axis=r, keepdims=True)
        red = jnp.max if ord == 1 else jnp.min
        out = red(colsum, axis=c, keepdims=True)
    elif ord in (np.inf, -np.inf):
        rowsum = jnp.sum(ax, axis=c, keepdims=True)
        red = jnp.max if ord == np.inf else jnp.min
        out = red(rowsum, axis=r, keepdims=True)
    elif ord in (2, -2, "nuc"):
        y = jnp.moveaxis(x, (r, c), (-2, -1))
        s = svd(y, compute_uv=False)
        if ord == 2:
            val = jnp.max(s, axis=-1)
        elif ord == -2:
            val = jnp.min(s, axis=-1)
        else:
            val = jnp.sum(s, axis=-1)
        if keepdims:
            return jnp.expand_dims(val, tuple(sorted((r, c))))
        return val
    else:
        raise ValueError(f"jaxel.numpy.linalg.norm: invalid norm order {ord!r} for matrices.")
    if keepdims:
        return out
    return jnp.squeeze(out, axis=(r, c))


def cond(x, p=None):
    """Condition number of square (or, for ``p`` None/2/-2, any) matrices
    (``jax.numpy.linalg.cond``): ``s_max / s_min`` for ``p`` None or 2, else
    ``norm(x, p) * norm(inv(x), p)``.

    Example::

        jnp.linalg.cond(a)
    """
    x = _prep("cond", x)
    if p is None or p == 2:
        s = svd(x, compute_uv=False)
        return s[..., 0] / s[..., -1]
    if p == -2:
        s = svd(x, compute_uv=False)
        return s[..., -1] / s[..., 0]
    if x.shape[-1] != x.shape[-2]:
        raise ValueError(f"jaxel.numpy.linalg.cond: p={p!r} needs square matrices, got shape "
                         f"{x.shape}.")
    r = norm(x, ord=p, axis=(-2, -1)) * norm(inv(x), ord=p, axis=(-2, -1))
    return jnp.where(jnp.isnan(r), np.inf, r)


# ---- products ------------------------------------------------------------------------------------
def multi_dot(arrays, *, precision=None):
    """Product of a chain of matrices in the cheapest association order
    (``jax.numpy.linalg.multi_dot``). The first/last may be 1-D (row/column vectors).

    Example::

        jnp.linalg.multi_dot([a, b, c])
    """
    arrays = [jnp.asarray(a) for a in arrays]
    if len(arrays) < 2:
        raise ValueError("jaxel.numpy.linalg.multi_dot needs at least two arrays.")
    first_vec = arrays[0].ndim == 1
    last_vec = arrays[-1].ndim == 1
    if first_vec:
        arrays[0] = arrays[0][None, :]
    if last_vec:
        arrays[-1] = arrays[-1][:, None]
    for i, a in enumerate(arrays):
        if a.ndim != 2:
            raise ValueError(f"jaxel.numpy.linalg.multi_dot: array {i} must be 2-D (only the "
                             f"first and last may be 1-D), got shape {a.shape}.")
    dims = [arrays[0].shape[0]] + [a.shape[1] for a in arrays]
    n = len(arrays)
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            best = None
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if best is None or c < best:
                    best, split[i][j] = c, k
            cost[i][j] = best

    def chain(i, j):
        if i == j:
            return arrays[i]
        k = split[i][j]
        return jnp.matmul(chain(i, k), chain(k + 1, j), precision=precision)

    out = chain(0, n - 1)
    if first_vec:
        out = out[0]
    if last_vec:
        out = out[..., 0]
    return out


def tensorinv(a, ind: int = 2):
    """Inverse of ``a`` viewed as a linear map from its last axes to its first ``ind`` axes
    (``jax.numpy.linalg.tensorinv``).

    Example::

        jnp.linalg.tensorinv(a.reshape(4, 6, 8, 3), ind=2)
    """
    check_arraylike("linalg.tensorinv", a)
    a = jnp.asarray(a)
    ind = operator.index(ind)
    if ind <= 0:
        raise ValueError(f"jaxel.numpy.linalg.tensorinv: ind must be positive, got {ind}.")
    out_shape = a.shape[ind:] + a.shape[:ind]
    rows = int(np.prod(a.shape[:ind]))
    cols = int(np.prod(a.shape[ind:]))
    if rows != cols:
        raise ValueError(f"jaxel.numpy.linalg.tensorinv: prod(a.shape[:ind]) = {rows} must "
                         f"equal prod(a.shape[ind:]) = {cols} (shape {a.shape}, ind={ind}).")
    return jnp.reshape(inv(jnp.reshape(a, (rows, cols))), out_shape)


def tensorsolve(a, b, axes=None):
    """Solve the tensor equation ``tensordot(a, x, x.ndim) = b`` for ``x``
    (``jax.numpy.linalg.tensorsolve``).

    Example::

        x = jnp.linalg.tensorsolve(a, b)
    """
    check_arraylike("linalg.tensorsolve", a, b)
    a, b = jnp.asarray(a), jnp.asarray(b)
    if axes is not None:
        axes = [operator.index(ax) % a.ndim for ax in axes]
        rest = [i for i in range(a.ndim) if i not in axes]
        a = jnp.transpose(a, rest + axes)
    x_shape = a.shape[b.ndim:]
    rows = int(np.prod(a.shape[:b.ndim]))
    cols = int(np.prod(x_shape))
    if rows != cols or a.shape[:b.ndim] != b.shape:
        raise ValueError(f"jaxel.numpy.linalg.tensorsolve: a of shape {a.shape} and b of "
                         f"shape {b.shape} do not describe a square system.")
    x = solve(jnp.reshape(a, (rows, cols)), jnp.reshape(b, (rows,)))
    return jnp.reshape(x, x_shape)


def outer(x1, x2, /):
    """Outer product of two 1-D arrays (``jax.numpy.linalg.outer``).

    Example::

        jnp.linalg.outer(jnp.arange(3), jnp.arange(2))
    """
    check_arraylike("linalg.outer", x1, x2)
    x1, x2 = jnp.asarray(x1), jnp.asarray(x2)
    if x1.ndim != 1 or x2.ndim != 1:
        raise ValueError(f"jaxel.numpy.linalg.outer requires 1-D arrays, got shapes "
                         f"{x1.shape} and {x2.shape}.")
    return jnp.outer(x1, x2)


def cross(x1, x2, /, *, axis=-1):
    """Cross product of 3-vectors along ``axis`` (``jax.numpy.linalg.cross``).

    Example::

        jnp.linalg.cross(jnp.array([1., 0, 0]), jnp.array([0., 1, 0]))  # [0, 0, 1]
    """
    check_arraylike("linalg.cross", x1, x2)
    x1, x2 = jnp.asarray(x1), jnp.asarray(x2)
    if x1.shape[axis] != 3 or x2.shape[axis] != 3:
        raise ValueError(f"jaxel.numpy.linalg.cross requires arrays of size 3 along axis "
                         f"{axis}, got shapes {x1.shape} and {x2.shape}.")
    x1, x2 = jnp.broadcast_arrays(*_promote(x1, x2))
    a = jnp.moveaxis(x1, axis, -1)
    b = jnp.moveaxis(x2, axis, -1)
    a0, a1, a2 = a[..., 0], a[..., 1], a[..., 2]
    b0, b1, b2 = b[..., 0], b[..., 1], b[..., 2]
    c = jnp.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=-1)
    return jnp.moveaxis(c, -1, axis)


def _promote(*xs):
    from jaxel.numpy._util import promote_dtypes
    return promote_dtypes(*xs)


def trace(x, /, *, offset: int = 0, dtype=None):
    """Sum of the ``offset`` diagonal of the last two axes (``jax.numpy.linalg.trace``).

    Example::

        jnp.linalg.trace(jnp.eye(3))  # 3.0
    """
    check_arraylike("linalg.trace", x)
    x = jnp.asarray(x)
    if x.ndim < 2:
        raise ValueError(f"jaxel.numpy.linalg.trace requires an array of rank at least 2, got "
                         f"shape {x.shape}.")
    return jnp.sum(jnp.diagonal(x, offset=offset, axis1=-2, axis2=-1), axis=-1, dtype=dtype)


def diagonal(x, /, *, offset: int = 0):
    """The ``offset`` diagonal of the last two axes (``jax.numpy.linalg.diagonal``).

    Example::

        jnp.linalg.diagonal(a)
    """
    check_arraylike("linalg.diagonal", x)
    return jnp.diagonal(jnp.asarray(x), offset=offset, axis1=-2, axis2=-1)


def matmul(x1, x2, /, *, precision=None, preferred_element_type=None):
    """Matrix product (``jax.numpy.linalg.matmul``; the array API's spelling of ``@``).

    Example::

        jnp.linalg.matmul(a, b)
    """
    return jnp.matmul(x1, x2, precision=precision, preferred_element_type=preferred_element_type)


def vecdot(x1, x2, /, *, axis: int = -1, precision=None, preferred_element_type=None):
    """Vector dot product along ``axis``, conjugating ``x1`` (``jax.numpy.linalg.vecdot``).

    Example::

        jnp.linalg.vecdot(x, y)
    """
    return jnp.vecdot(x1, x2, axis=axis, precision=precision,
                      preferred_element_type=preferred_element_type)


def matrix_transpose(x, /):
    """Swap the last two axes (``jax.numpy.linalg.matrix_transpose``).

    Example::

        jnp.linalg.matrix_transpose(a)
    """
    return jnp.matrix_transpose(x)


def tensordot(x1, x2, /, *, axes=2, precision=None, preferred_element_type=None):
    """``jnp.tensordot`` (``jax.numpy.linalg.tensordot``).

    Example::

        jnp.linalg.tensordot(a, b, axes=1)
    """
    return jnp.tensordot(x1, x2, axes, precision=precision,
                         preferred_element_type=preferred_element_type)


__all__ = ["solve", "inv", "det", "slogdet", "cholesky", "qr", "eigh", "eigvalsh", "svd",
           "svdvals", "eig", "eigvals", "lstsq", "pinv", "matrix_power", "matrix_rank", "norm",
           "vector_norm", "matrix_norm", "cond", "multi_dot", "tensorsolve", "tensorinv",
           "outer", "cross", "trace", "diagonal", "matmul", "vecdot", "matrix_transpose",
           "tensordot", "EighResult", "QRResult", "SlogdetResult", "SVDResult", "EigResult"]
