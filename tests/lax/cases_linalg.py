"""Reference cases for the linear-algebra primitives (jaxel/lax/linalg.py).

Inputs are made well conditioned inside each case function (``a aᴴ + n I`` for Cholesky, a
dominant diagonal for triangular solves), so the same functions serve the finite-difference,
transpose and vmap checks. Decompositions whose factors are unique only up to signs/phases
(QR, eigh, SVD) are normalised in the case function *and* the reference (a differentiable map
that fixes the phase), so both sides compare the same quantity and finite differences see a
smooth function. References are NumPy in float64/complex128.
"""
from __future__ import annotations

import numpy as np

import jaxel.numpy as jnp
from jaxel.lax import linalg as L
from tests.lax.case import Arg, Case

F32, C64 = np.dtype(np.float32), np.dtype(np.complex64)
TOL = dict(rtol=1e-4, atol=1e-4)


def _wide(x):
    return x.astype(np.complex128 if x.dtype.kind == "c" else np.float64)


def _npH(x):
    return np.conj(np.swapaxes(x, -1, -2))


def _jH(x):
    return jnp.conj(jnp.swapaxes(x, -1, -2))


# ---- cholesky -----------------------------------------------------------------------------------
def _spd_j(a):
    n = a.shape[-1]
    return a @ _jH(a) + n * jnp.eye(n, dtype=a.dtype)


def _spd_np(a):
    a = _wide(a)
    n = a.shape[-1]
    return a @ _npH(a) + n * np.eye(n)


def _cholesky_case(shape, dt):
    return Case(f"cholesky-{dt.name}-{shape}", lambda a: L.cholesky(_spd_j(a)),
                lambda a: np.linalg.cholesky(_spd_np(a)).astype(dt), [Arg(shape, dt)], **TOL,
                exact_jit=False)


CHOLESKY_CASES = [_cholesky_case(s, d) for d in (F32, C64) for s in ((3, 3), (2, 4, 4))]


# ---- triangular_solve ---------------------------------------------------------------------------
def _tri_j(a):
    n = a.shape[-1]
    return a + 4 * jnp.eye(n, dtype=a.dtype)


def _tri_np(a):
    n = a.shape[-1]
    return _wide(a) + 4 * np.eye(n)


def _ts_ref(left_side, lower, transpose_a, conjugate_a, unit_diagonal, dt):
    def ref(a, b):
        t = _tri_np(a)
        t = np.tril(t) if lower else np.triu(t)
        if unit_diagonal:
            eye = np.eye(t.shape[-1])
            t = t * (1 - eye) + eye
        if transpose_a:
            t = np.swapaxes(t, -1, -2)
        if conjugate_a:
            t = np.conj(t)
        b = _wide(b)
        if left_side:
            return np.linalg.solve(t, b).astype(dt)
        return np.swapaxes(np.linalg.solve(np.swapaxes(t, -1, -2), np.swapaxes(b, -1, -2)),
                           -1, -2).astype(dt)
    return ref


def _ts_case(a_shape, b_shape, dt, **kw):
    flags = "".join(k[0] for k, v in sorted(kw.items()) if v)
    p = dict(left_side=False, lower=False, transpose_a=False, conjugate_a=False,
             unit_diagonal=False)
    p.update(kw)
    return Case(f"triangular_solve-{dt.name}-{a_shape}-{b_shape}-{flags}",
                lambda a, b: L.triangular_solve(_tri_j(a), b, **p),
                _ts_ref(p["left_side"], p["lower"], p["transpose_a"], p["conjugate_a"],
                        p["unit_diagonal"], dt),
                [Arg(a_shape, dt, "positive" if dt.kind == "f" else "normal"), Arg(b_shape, dt)],
                **TOL, exact_jit=False)


TRIANGULAR_SOLVE_CASES = [
    _ts_case((3, 3), (3, 2), F32, left_side=True, lower=True),
    _ts_case((3, 3), (2, 3), F32),
    _ts_case((3, 3), (3, 2), F32, left_side=True, transpose_a=True),
    _ts_case((2, 3, 3), (2, 2, 3), F32, lower=True, transpose_a=True, unit_diagonal=True),
    _ts_case((3, 3), (3, 2), C64, left_side=True, lower=True, transpose_a=True,
             conjugate_a=True),
    _ts_case((3, 3), (2, 3), C64, conjugate_a=True),
    _ts_case((2, 3, 3), (2, 3, 4), C64, left_side=True),
]


# ---- lu ----------------------------------------------------------------------------------------
def _np_lu(a):
    """Partial-pivoting LU of one matrix, choosing pivots as LAPACK's i?amax does (|re|+|im|
    for complex)."""
    a = a.copy()
    m, n = a.shape
    k = min(m, n)
    piv = np.zeros(k, np.int32)
    perm = np.arange(m, dtype=np.int32)
    for j in range(k):
        p = j + int(np.argmax(np.abs(a[j:, j].real) + np.abs(a[j:, j].imag)))
        piv[j] = p
        a[[j, p]] = a[[p, j]]
        perm[[j, p]] = perm[[p, j]]
        if a[j, j] != 0:
            a[j + 1:, j] /= a[j, j]
            a[j + 1:, j + 1:] -= np.outer(a[j + 1:, j], a[j, j + 1:])
    return a, piv, perm


def _lu_ref(dt):
    def ref(a):
        w = _wide(a)
        flat = w.reshape((-1,) + w.shape[-2:])
        outs = [_np_lu(x) for x in flat]
        lu = np.stack([o[0] for o in outs]).reshape(w.shape).astype(dt)
        piv = np.stack([o[1] for o in outs]).reshape(w.shape[:-2] + (-1,))
        perm = np.stack([o[2] for o in outs]).reshape(w.shape[:-2] + (-1,))
        return [lu, piv, perm]
    return ref


LU_CASES = [Case(f"lu-{d.name}-{s}", lambda a: list(L.lu(a)), _lu_ref(d), [Arg(s, d)], **TOL,
                 exact_jit=False)
            for d in (F32, C64) for s in ((4, 4), (2, 3, 3))] + [
    Case(f"lu-float32-{s}", lambda a: list(L.lu(a)), _lu_ref(F32), [Arg(s, F32)], **TOL,
         exact_jit=False) for s in ((4, 3), (3, 5))]


# ---- qr ----------------------------------------------------------------------------------------
def _phase_j(d):
    return d / jnp.abs(d) if d.dtype.kind != "c" else d / jnp.abs(d).astype(d.dtype)


def _phase_np(d):
    return d / np.abs(d)


def _qr_fn(full):
    def fn(a):
        q, r = L.qr(a, full_matrices=full)
        k = min(q.shape[-1], r.shape[-2])
        ph = _phase_j(jnp.diagonal(r[..., :k, :k], axis1=-2, axis2=-1))  # make diag(r) > 0
        q = q.at[..., :, :k].set(q[..., :, :k] * jnp.conj(ph)[..., None, :])
        r = r.at[..., :k, :].set(r[..., :k, :] * ph[..., :, None])
        return [q, r]
    return fn


def _qr_ref(full, dt):
    def ref(a):
        q, r = np.linalg.qr(_wide(a), mode="complete" if full else "reduced")
        k = min(q.shape[-1], r.shape[-2])
        ph = _phase_np(np.diagonal(r[..., :k, :k], axis1=-2, axis2=-1))
        q[..., :, :k] = q[..., :, :k] * np.conj(ph)[..., None, :]
        r[..., :k, :] = r[..., :k, :] * ph[..., :, None]
        return [q.astype(dt), r.astype(dt)]
    return ref


QR_CASES = [Case(f"qr-{d.name}-{s}-{'full' if f else 'reduced'}", _qr_fn(f), _qr_ref(f, d),
                 [Arg(s, d)], **TOL, exact_jit=False)
            for d, s, f in ((F32, (4, 3), False), (F32, (3, 3), True), (F32, (3, 5), False),
                            (F32, (3, 5), True), (F32, (2, 4, 3), False), (C64, (4, 3), False),
                            (C64, (3, 4), True))]


def _qr_pivoted_ref(full, dt):
    import scipy.linalg as sl

    def ref(a):
        a = _wide(a)
        outs = [sl.qr(x, mode="full" if full else "economic", pivoting=True)
                for x in a.reshape((-1,) + a.shape[-2:])]
        q, r, p = (np.stack([o[i] for o in outs]) for i in range(3))
        return [q.reshape(a.shape[:-2] + q.shape[1:]).astype(dt),
                r.reshape(a.shape[:-2] + r.shape[1:]).astype(dt),
                p.reshape(a.shape[:-2] + p.shape[1:]).astype(np.int32)]
    return ref


# Column-pivoted QR (geqp3): SciPy runs the same LAPACK routine, so Q, R and the permutation
# agree directly.
QR_CASES += [Case(f"qr-pivoted-{d.name}-{s}-{'full' if f else 'reduced'}",
                  lambda a, f=f: list(L.qr(a, full_matrices=f, pivoting=True)),
                  _qr_pivoted_ref(f, d), [Arg(s, d)], **TOL, exact_jit=False)
             for d, s, f in ((F32, (4, 3), False), (F32, (3, 5), True), (F32, (2, 4, 4), False),
                             (C64, (3, 4), True))]


# ---- eigh --------------------------------------------------------------------------------------
def _eigh_fn(a):
    v, w = L.eigh(a + _jH(a))
    ph = _phase_j(v[..., 0, :])  # first row real and positive
    return [v * jnp.conj(ph)[..., None, :], w]


def _eigh_ref(dt):
    def ref(a):
        a = _wide(a)
        w, v = np.linalg.eigh(a + _npH(a))
        ph = _phase_np(v[..., 0, :])
        return [(v * np.conj(ph)[..., None, :]).astype(dt), w.astype(np.dtype(dt).type(0).real.dtype)]
    return ref


EIGH_CASES = [Case(f"eigh-{d.name}-{s}", _eigh_fn, _eigh_ref(d), [Arg(s, d)], **TOL,
                   exact_jit=False)
              for d, s in ((F32, (3, 3)), (F32, (2, 4, 4)), (C64, (3, 3)))]


# ---- svd ---------------------------------------------------------------------------------------
def _svd_fn(full):
    def fn(a):
        u, s, vh = L.svd(a, full_matrices=full)
        k = s.shape[-1]
        ph = _phase_j(u[..., 0, :k])
        u = u.at[..., :, :k].set(u[..., :, :k] * jnp.conj(ph)[..., None, :])
        vh = vh.at[..., :k, :].set(vh[..., :k, :] * ph[..., :, None])
        return [u, s, vh]
    return fn


def _svd_ref(full, dt):
    def ref(a):
        u, s, vh = np.linalg.svd(_wide(a), full_matrices=full)
        k = s.shape[-1]
        ph = _phase_np(u[..., 0, :k])
        u[..., :, :k] = u[..., :, :k] * np.conj(ph)[..., None, :]
        vh[..., :k, :] = vh[..., :k, :] * ph[..., :, None]
        real = np.dtype(dt).type(0).real.dtype
        return [u.astype(dt), s.astype(real), vh.astype(dt)]
    return ref


SVD_CASES = [Case(f"svd-{d.name}-{s}-{'full' if f else 'reduced'}", _svd_fn(f), _svd_ref(f, d),
                  [Arg(s, d)], **TOL, exact_jit=False)
             for d, s, f in ((F32, (4, 3), False), (F32, (3, 4), False), (F32, (3, 3), True),
                             (F32, (2, 3, 3), False), (C64, (4, 3), False),
                             (C64, (3, 3), True))] + [
    Case(f"svd-{d.name}-(3, 4)-values", lambda a: L.svd(a, compute_uv=False),
         lambda a, d=d: np.linalg.svd(_wide(a), compute_uv=False).astype(
             np.dtype(d).type(0).real.dtype), [Arg((3, 4), d)], **TOL, exact_jit=False)
    for d in (F32, C64)]


# ---- eig ---------------------------------------------------------------------------------------
# Eigenvalues come back in LAPACK's order and only they are differentiable, so the cases
# return order-free quantities of the eigenvalues: the power sums sum_i w_i^k (k = 1..n), which
# determine the spectrum, and, for matrices with well-separated real eigenvalues (a small
# perturbation of diag(0, 3, 6, ...)), the eigenvalues sorted by real part. The eigenvectors
# (not differentiable, defined up to a phase) are checked in tests/numpy/test_linalg_eig.py.
def _eig_power_sums_j(a):
    (w,) = L.eig(a, compute_left_eigenvectors=False, compute_right_eigenvectors=False)
    n = a.shape[-1]
    return jnp.stack([jnp.sum(w ** k, axis=-1) for k in range(1, n + 1)], axis=-1)


def _eig_power_sums_ref(dt):
    cdt = np.dtype(np.complex64 if np.dtype(dt) in (F32, C64) else np.complex128)

    def ref(a):
        w = np.linalg.eigvals(_wide(a))
        n = a.shape[-1]
        return np.stack([np.sum(w ** k, axis=-1) for k in range(1, n + 1)], axis=-1).astype(cdt)
    return ref


def _separated_j(a):
    n = a.shape[-1]
    return 0.3 * a + jnp.diag(3.0 * jnp.arange(n)).astype(a.dtype)


def _eig_sorted_j(a):
    (w,) = L.eig(_separated_j(a), compute_left_eigenvectors=False,
                 compute_right_eigenvectors=False)
    return jnp.take_along_axis(w, jnp.argsort(jnp.real(w), axis=-1), axis=-1)


def _eig_sorted_ref(dt):
    cdt = np.dtype(np.complex64 if np.dtype(dt) in (F32, C64) else np.complex128)

    def ref(a):
        n = a.shape[-1]
        w = np.linalg.eigvals(0.3 * _wide(a) + np.diag(3.0 * np.arange(n)))
        return np.take_along_axis(w, np.argsort(w.real, axis=-1), axis=-1).astype(cdt)
    return ref


EIG_CASES = [Case(f"eig-power-sums-{d.name}-{s}", _eig_power_sums_j, _eig_power_sums_ref(d),
                  [Arg(s, d)], **TOL, exact_jit=False)
             for d, s in ((F32, (3, 3)), (F32, (2, 4, 4)), (C64, (3, 3)))] + [
    Case(f"eig-sorted-{d.name}-{s}", _eig_sorted_j, _eig_sorted_ref(d), [Arg(s, d)], **TOL,
         exact_jit=False) for d, s in ((F32, (4, 4)), (C64, (2, 3, 3)))]


# ---- schur / hessenberg ---------------------------------------------------------------------------
# Not differentiable (as in JAX): the cases take integer matrices (converted inside), so the
# registry checks values and batching but no derivatives. Schur factors are compared through
# invariants (z t zᴴ = a, zᴴ z = I, t's strictly lower part beyond the 2 x 2 blocks is zero,
# power sums of diag(t) for the complex form); the packed Hessenberg form directly against
# SciPy's LAPACK gehrd, householder_product against the Q of scipy.linalg.hessenberg.
def _schur_fn(dt):
    def fn(a):
        x = a.astype(dt)
        t, z = L.schur(x)
        out = [z @ t @ _jH(z), _jH(z) @ z, jnp.tril(t, -1 if dt.kind == "c" else -2)]
        if dt.kind == "c":
            d = jnp.diagonal(t, axis1=-2, axis2=-1)
            out.append(jnp.stack([jnp.sum(d ** k, axis=-1) for k in (1, 2, 3)], axis=-1))
        return out
    return fn


def _schur_ref(dt):
    def ref(a):
        x = a.astype(np.complex128 if dt.kind == "c" else np.float64)
        n = a.shape[-1]
        out = [x.astype(dt), np.broadcast_to(np.eye(n), x.shape).astype(dt),
               np.zeros(x.shape, dt)]
        if dt.kind == "c":
            w = np.linalg.eigvals(x)
            out.append(np.stack([np.sum(w ** k, axis=-1) for k in (1, 2, 3)],
                                axis=-1).astype(dt))
        return out
    return ref


def _hessenberg_ref(dt):
    from scipy.linalg import lapack

    def ref(a):
        x = a.astype(np.complex128 if dt.kind == "c" else np.float64)
        flat = x.reshape((-1,) + x.shape[-2:])
        gehrd = lapack.zgehrd if dt.kind == "c" else lapack.dgehrd
        outs = [gehrd(m)[:2] for m in flat]
        n = x.shape[-1]
        return [np.stack([o[0] for o in outs]).reshape(x.shape).astype(dt),
                np.stack([o[1][:n - 1] for o in outs]).reshape(x.shape[:-2] + (n - 1,)).astype(dt)]
    return ref


def _householder_fn(dt, k):
    def fn(x):
        a, taus = L.hessenberg(x.astype(dt))
        return L.householder_product(a[..., 1:, :k], taus[..., :k])
    return fn


def _householder_ref(dt, k):
    import scipy.linalg as sl

    def ref(x):
        x = x.astype(np.complex128 if dt.kind == "c" else np.float64)
        flat = x.reshape((-1,) + x.shape[-2:])
        qs = [sl.hessenberg(m, calc_q=True)[1][1:, 1:k + 1] for m in flat]
        return np.stack(qs).reshape(x.shape[:-2] + qs[0].shape).astype(dt)
    return ref


I32 = np.dtype(np.int32)
SCHUR_CASES = [Case(f"schur-{d.name}-{s}", _schur_fn(d), _schur_ref(d), [Arg(s, I32)], **TOL,
                    exact_jit=False)
               for d, s in ((F32, (4, 4)), (F32, (2, 3, 3)), (C64, (4, 4)))]
HESSENBERG_CASES = [Case(f"hessenberg-{d.name}-{s}",
                         lambda a, d=d: list(L.hessenberg(a.astype(d))), _hessenberg_ref(d),
                         [Arg(s, I32)], rtol=1e-3, atol=1e-3, exact_jit=False)
                    for d, s in ((F32, (4, 4)), (F32, (2, 5, 5)), (C64, (4, 4)), (F32, (2, 2)))]
HOUSEHOLDER_PRODUCT_CASES = [
    Case(f"householder_product-{d.name}-{s}-k{k}", _householder_fn(d, k), _householder_ref(d, k),
         [Arg(s, I32)], rtol=1e-3, atol=1e-3, exact_jit=False)
    for d, s, k in ((F32, (5, 5), 4), (F32, (2, 5, 5), 2), (C64, (4, 4), 3))]


# ---- cholesky_update / symmetric_product / lu_pivots_to_permutation -------------------------------

def _chol_update_ref(dt):
    def ref(r, w):
        r = np.triu(_wide(r))
        w = _wide(w)
        a = np.swapaxes(r, -1, -2) @ r + w[..., :, None] * w[..., None, :]
        return np.swapaxes(np.linalg.cholesky(a), -1, -2).astype(dt)
    return ref


CHOLESKY_UPDATE_CASES = [
    Case(f"cholesky_update-{d.name}-{s}", lambda r, w: L.cholesky_update(r, w),
         _chol_update_ref(d), [Arg(s, d, "positive"), Arg(s[:-1], d)], **TOL, exact_jit=False)
    for d, s in ((F32, (3, 3)), (F32, (2, 4, 4)))]


def _sym_prod_ref(alpha, beta, dt):
    def ref(a, c):
        a, c = _wide(a), _wide(c)
        return (alpha * a @ np.swapaxes(a, -1, -2) + beta * c).astype(dt)
    return ref


SYMMETRIC_PRODUCT_CASES = [
    Case(f"symmetric_product-{d.name}-{sa}-{al}-{be}",
         lambda a, c, al=al, be=be: L.symmetric_product(a, c, alpha=al, beta=be),
         _sym_prod_ref(al, be, d), [Arg(sa, d), Arg(sa[:-1] + (sa[-2],), d)], **TOL,
         exact_jit=False)
    for d, sa, al, be in ((F32, (3, 2), 1.0, 0.0), (F32, (2, 3, 4), 2.0, -0.5))]


def _pivots_ref(size):
    def ref(piv):
        flat = piv.reshape((int(np.prod(piv.shape[:-1])), piv.shape[-1]))
        out = []
        for p in flat:
            perm = np.arange(size, dtype=np.int32)
            for i, j in enumerate(p):
                perm[[i, j]] = perm[[j, i]]
            out.append(perm)
        return np.stack(out).reshape(piv.shape[:-1] + (size,))
    return ref


LU_PIVOTS_TO_PERMUTATION_CASES = [
    Case(f"lu_pivots_to_permutation-{piv.shape}-{size}",
         lambda p, size=size: L.lu_pivots_to_permutation(p, size), _pivots_ref(size), [piv])
    for piv, size in ((np.array([2, 2, 3], np.int32), 5),
                      (np.array([[1, 1, 2, 3], [3, 2, 3, 3]], np.int32), 4),
                      (np.zeros((2, 0), np.int32), 3))]


# ---- ormqr -------------------------------------------------------------------------------------------
# The reflectors (a below its diagonal, taus) are free inputs: ormqr is defined (and smooth)
# for any of them, and the reference builds Q = H_1 ... H_k explicitly.
def _np_q(a, taus):
    m = a.shape[-2]
    k = taus.shape[-1]
    q = np.eye(m, dtype=a.dtype)
    for i in range(k):
        v = np.concatenate([np.zeros(i), [1.0], a[i + 1:, i]]).astype(a.dtype)
        q = q @ (np.eye(m) - taus[i] * np.outer(v, np.conj(v)))
    return q


def _ormqr_ref(left, transpose, dt):
    def ref(a, taus, c):
        a, taus, c = _wide(a), _wide(taus), _wide(c)
        fa = a.reshape((-1,) + a.shape[-2:])
        ft = taus.reshape((-1, taus.shape[-1]))
        fc = c.reshape((-1,) + c.shape[-2:])
        out = []
        for x, t, y in zip(fa, ft, fc):
            q = _np_q(x, t)
            if transpose:
                q = _npH(q)
            out.append(q @ y if left else y @ q)
        return np.stack(out).reshape(c.shape).astype(dt)
    return ref


def _ormqr_case(d, a_shape, k, c_shape, left, transpose):
    return Case(f"ormqr-{d.name}-{a_shape}-k{k}-{c_shape}-{'L' if left else 'R'}"
                f"{'T' if transpose else ''}",
                lambda a, t, c: L.ormqr(a, t, c, left=left, transpose=transpose),
                _ormqr_ref(left, transpose, d),
                [Arg(a_shape, d), Arg(a_shape[:-2] + (k,), d), Arg(c_shape, d)], **TOL,
                exact_jit=False)


ORMQR_CASES = [
    _ormqr_case(F32, (4, 3), 3, (4, 2), True, False),
    _ormqr_case(F32, (4, 3), 2, (4, 2), True, True),
    _ormqr_case(F32, (4, 4), 3, (2, 4), False, False),
    _ormqr_case(F32, (2, 4, 3), 3, (2, 3, 4), False, True),
    _ormqr_case(C64, (3, 3), 2, (3, 2), True, True),
    _ormqr_case(C64, (3, 2), 2, (2, 3), False, False),
]


# ---- tridiagonal / tridiagonal_solve --------------------------------------------------------------
def _tridiagonal_ref(dt, lower):
    from scipy.linalg import lapack

    def ref(a):
        x = a.astype(np.complex128 if dt.kind == "c" else np.float64)
        x = x + _npH(x)
        fn = lapack.zhetrd if dt.kind == "c" else lapack.dsytrd
        outs = [fn(m, lower=int(lower))[:4] for m in x.reshape((-1,) + x.shape[-2:])]
        real = np.dtype(dt).type(0).real.dtype
        n = x.shape[-1]
        return [np.stack([o[0] for o in outs]).reshape(x.shape).astype(dt),
                np.stack([o[1] for o in outs]).reshape(x.shape[:-1]).astype(real),
                np.stack([o[2] for o in outs]).reshape(x.shape[:-2] + (n - 1,)).astype(real),
                np.stack([o[3] for o in outs]).reshape(x.shape[:-2] + (n - 1,)).astype(dt)]
    return ref


TRIDIAGONAL_CASES = [
    Case(f"tridiagonal-{d.name}-{s}-{'lower' if lo else 'upper'}",
         lambda a, d=d, lo=lo: list(L.tridiagonal(a.astype(d) + _jH(a.astype(d)), lower=lo)),
         _tridiagonal_ref(d, lo), [Arg(s, I32)], rtol=1e-3, atol=1e-3, exact_jit=False)
    for d, s, lo in ((F32, (4, 4), True), (F32, (2, 3, 3), False), (C64, (4, 4), True))]


def _tds_ref(dt):
    def ref(dl, d, du, b):
        dl, d, du, b = (_wide(v) for v in (dl, d, du, b))
        d = d + 4
        out = []
        for l_, m_, u_, y in zip(dl.reshape(-1, dl.shape[-1]), d.reshape(-1, d.shape[-1]),
                                 du.reshape(-1, du.shape[-1]),
                                 b.reshape((-1,) + b.shape[-2:])):
            a = np.diag(m_) + np.diag(l_[1:], -1) + np.diag(u_[:-1], 1)
            out.append(np.linalg.solve(a, y))
        return np.stack(out).reshape(b.shape).astype(dt)
    return ref


def _tds_case(d, s, k, ps):
    return Case(f"tridiagonal_solve-{d.name}-{s}-k{k}{'-perturbed' if ps else ''}",
                lambda dl, dd, du, b: L.tridiagonal_solve(dl, dd + 4, du, b,
                                                          perturb_singular=ps),
                _tds_ref(d), [Arg(s, d), Arg(s, d, "positive" if d.kind == "f" else "normal"),
                              Arg(s, d), Arg(s + (k,), d)], **TOL, exact_jit=False)


TRIDIAGONAL_SOLVE_CASES = [_tds_case(F32, (4,), 2, False), _tds_case(F32, (2, 5), 1, False),
                           _tds_case(C64, (3,), 2, False), _tds_case(F32, (4,), 3, True)]

CASES = {
    "cholesky": CHOLESKY_CASES,
    "triangular_solve": TRIANGULAR_SOLVE_CASES,
    "lu": LU_CASES,
    "qr": QR_CASES,
    "eigh": EIGH_CASES,
    "svd": SVD_CASES,
    "eig": EIG_CASES,
    "schur": SCHUR_CASES,
    "hessenberg": HESSENBERG_CASES,
    "householder_product": HOUSEHOLDER_PRODUCT_CASES,
    "cholesky_update": CHOLESKY_UPDATE_CASES,
    "symmetric_product": SYMMETRIC_PRODUCT_CASES,
    "lu_pivots_to_permutation": LU_PIVOTS_TO_PERMUTATION_CASES,
    "ormqr": ORMQR_CASES,
    "tridiagonal": TRIDIAGONAL_CASES,
    "tridiagonal_solve": TRIDIAGONAL_SOLVE_CASES,
}
