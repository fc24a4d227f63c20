"""More ``jax.lax.linalg`` primitives: ``cholesky_update``, ``lu_pivots_to_permutation``,
``ormqr`` and ``symmetric_product``, each declared once with its abstract evaluation,
lowering, JVP, transpose (``ormqr``, linear in ``c``) and batching rules. They are re-exported
by ``jaxel.lax.linalg`` (whose helpers they share).

Lowering (CPU), as JAX does it there:

* ``ormqr``: LAPACK ``?ormqr``/``?unmqr`` through the typed FFI:
  ``(a, taus, c) -> c_out`` with boolean attributes ``left`` and ``transpose`` (``'T'``, or
  ``'C'`` for complex); ``c`` is aliased to the result.
* ``cholesky_update``, ``lu_pivots_to_permutation`` and ``symmetric_product``: compositions of
  lax operations inlined into the lowering (Givens rotations, a loop of row swaps, and
  ``alpha a aᵀ + beta c``).

Differentiation:

* ``cholesky_update`` ``R' = chol(Rᵀ R + w wᵀ)`` (upper): with ``L = R'ᵀ`` and
  ``dA = dRᵀ R + Rᵀ dR + dw wᵀ + w dwᵀ``, ``dR' = (L Φ(L⁻¹ dA L⁻ᵀ))ᵀ`` (``Φ``: lower
  triangle, diagonal halved), the Cholesky rule.
* ``ormqr`` ``y = op(Q) c``: ``dy = op(Q) dc`` plus, for tangents of the reflectors
  ``a``/``taus``, forward-mode through the reflector sequence ``c <- c - τ v (vᴴ c)``
  (``c <- c - τ (c v) vᴴ`` on the right). The transpose in ``c`` applies ``op(Q)ᵀ``:
  ``conj(ormqr(a, taus, conj(ct), transpose=not transpose))``.
* ``symmetric_product`` ``alpha a aᵀ + beta c``: ``alpha (da aᵀ + a daᵀ) + beta dc``.
* ``lu_pivots_to_permutation``: integer valued (zero tangent).
"""
from __future__ import annotations

import numpy as np

from jaxel.lax import elementwise as _ew
from jaxel.lax import shape_ops as _shape
from jaxel.lax._rules import aval_of
from jaxel.lax.linalg import (_I32, _T, _H, _check_matrix, _conj, _custom_call, _emit, _eye,
                              _full, _is_complex, _mm, _pivots_to_permutation, _target, _tril,
                              _triu, _batch_front, triangular_solve)
from jaxel.tracing.avals import ShapedArray
from jaxel.tracing.core import Primitive
from jaxel.transforms import ad_util as _ad

_REAL = (np.dtype(np.float32), np.dtype(np.float64))


def _scale(x, c):
    a = aval_of(x)
    return _ew.mul(x, _full(a.shape, c, a.dtype))


def _front_rule(prim):
    """Operands batch over leading dimensions: move (or broadcast) the batch dimension
    first."""
    def rule(args, dims, **params):
        out = prim.bind(*_batch_front(args, dims), **params)
        if prim.multiple_results:
            return list(out), [0] * len(out)
        return out, 0
    return rule


# ---- lu_pivots_to_permutation --------------------------------------------------------------------
lu_pivots_to_permutation_p = Primitive("lu_pivots_to_permutation")


def _lu_pivots_to_permutation_abstract_eval(pivots, *, permutation_size):
    if pivots.dtype != _I32:
        raise TypeError("lax.linalg.lu_pivots_to_permutation needs int32 pivots, got "
                        f"{pivots.dtype.name}.")
    if pivots.ndim < 1:
        raise ValueError("lax.linalg.lu_pivots_to_permutation needs pivots of rank at least 1 "
                         f"([..., k]), got shape {pivots.shape}.")
    if not permutation_size >= pivots.shape[-1]:
        raise ValueError(f"Output permutation size {permutation_size} has to exceed the "
                         f"trailing dimension of the pivots. Got pivots size "
                         f"{pivots.shape[-1]}.")
    return ShapedArray(pivots.shape[:-1] + (permutation_size,), _I32)


def _lu_pivots_to_permutation_lowering(ctx, pivots, *, permutation_size):
    return _emit(ctx, lambda p: [_pivots_to_permutation(p, permutation_size)],
                 ctx.avals_in, [pivots])[0]


lu_pivots_to_permutation_p.abstract_eval = _lu_pivots_to_permutation_abstract_eval
lu_pivots_to_permutation_p.lowering = _lu_pivots_to_permutation_lowering
_ad.defjvp_zero(lu_pivots_to_permutation_p)
lu_pivots_to_permutation_p.batch = _front_rule(lu_pivots_to_permutation_p)


def lu_pivots_to_permutation(pivots, permutation_size: int):
    """The row permutation that LU's row swaps make (``jax.lax.linalg.lu_pivots_to_permutation``):
    starting from ``0..permutation_size-1``, entry ``i`` is swapped with entry ``pivots[i]``
    for ``i = 0, 1, ...``. ``pivots`` is int32 ``[..., k]`` (0-based, as ``lax.linalg.lu``
    returns them), ``permutation_size >= k``; returns int32 ``[..., permutation_size]``.

    Example::

        perm = lax.linalg.lu_pivots_to_permutation(pivots, a.shape[0])
    """
    return lu_pivots_to_permutation_p.bind(pivots, permutation_size=int(permutation_size))


# ---- symmetric_product ---------------------------------------------------------------------------
symmetric_product_p = Primitive("symmetric_product")


def _symmetric_product_abstract_eval(a, c, *, alpha, beta):
    for x in (a, c):
        if x.dtype not in _REAL:
            raise TypeError("lax.linalg.symmetric_product supports float32 and float64 "
                            f"operands, got dtype {x.dtype.name}.")
    if a.dtype != c.dtype:
        raise TypeError("lax.linalg.symmetric_product needs a and c of the same dtype, got "
                        f"{a.dtype.name} and {c.dtype.name}.")
    _check_matrix("symmetric_product", a)
    _check_matrix("symmetric_product", c, square=True)
    if a.shape[:-2] != c.shape[:-2] or a.shape[-2] != c.shape[-1]:
        raise ValueError("symmetric_product expects a rectangular matrix of shape (..., m, n) "
                         "and a square matrix of shape (..., m, m) with the same batch "
                         f"dimensions. Got shapes {a.shape} and {c.shape}.")
    return ShapedArray(c.shape, c.dtype)


def _symmetric_product_fn(a, c, alpha, beta):
    return _ew.add(_scale(_mm(a, _T(a)), alpha), _scale(c, beta))


def _symmetric_product_lowering(ctx, a, c, *, alpha, beta):
    return _emit(ctx, lambda a, c: [_symmetric_product_fn(a, c, alpha, beta)], ctx.avals_in,
                 [a, c])[0]


def _symmetric_product_jvp(primals, tangents, *, alpha, beta):
    (a, c), (ta, tc) = primals, tangents
    out = symmetric_product_p.bind(a, c, alpha=alpha, beta=beta)
    t = _ad.Zero(_ad.tangent_aval(aval_of(out)))
    if type(ta) is not _ad.Zero:
        da_at = _mm(ta, _T(a))
        t = _scale(_ew.add(da_at, _T(da_at)), alpha)
    if type(tc) is not _ad.Zero:
        t = _ad.add_tangents(t, _scale(tc, beta))
    return out, t


symmetric_product_p.abstract_eval = _symmetric_product_abstract_eval
symmetric_product_p.lowering = _symmetric_product_lowering
symmetric_product_p.jvp = _symmetric_product_jvp
symmetric_product_p.batch = _front_rule(symmetric_product_p)


def symmetric_product(a_matrix, c_matrix, *, alpha: float = 1., beta: float = 0.,
                      symmetrize_output: bool = False):
    """``alpha a aᵀ + beta c`` for real ``a`` ``[..., m, n]`` and symmetric ``c``
    ``[..., m, m]`` (``jax.lax.linalg.symmetric_product``). JAX guarantees only the lower
    triangle on every platform; with ``symmetrize_output`` the upper triangle is replaced by
    the transpose of the lower one.

    Example::

        s = lax.linalg.symmetric_product(a, c, alpha=2.0, beta=0.5)
    """
    out = symmetric_product_p.bind(a_matrix, c_matrix, alpha=float(alpha), beta=float(beta))
    if symmetrize_output:
        out = _ew.add(_tril(out), _T(_tril(out, -1)))
    return out


# ---- cholesky_update -------------------------------------------------------------------------------
cholesky_update_p = Primitive("cholesky_update")


def _cholesky_update_abstract_eval(r, w):
    for x in (r, w):
        if x.dtype not in _REAL:
            raise TypeError("lax.linalg.cholesky_update supports float32 and float64 operands, "
                            f"got dtype {x.dtype.name}.")
    if r.dtype != w.dtype:
        raise TypeError("lax.linalg.cholesky_update needs r and w of the same dtype, got "
                        f"{r.dtype.name} and {w.dtype.name}.")
    if r.ndim < 2 or r.shape[-1] != r.shape[-2] or w.shape != r.shape[:-1]:
        raise ValueError("Rank-1 update to Cholesky decomposition takes a square matrix and a "
                         "vector of the same size as input (with equal batch dimensions). Got "
                         f"shapes {r.shape} and {w.shape} instead.")
    return ShapedArray(r.shape, r.dtype)


def _givens(x, y):
    """``(c, s)`` with ``c x - s y = hypot(x, y)`` and ``s x + c y = 0``, scaled by
    ``max(|x|, |y|)`` against overflow; ``(1, 0)`` where ``y == 0``."""
    a = aval_of(x)
    one, zero = _full(a.shape, 1, a.dtype), _full(a.shape, 0, a.dtype)
    ax, ay = _ew.abs(x), _ew.abs(y)
    big = _ew.max(ax, ay)
    y0 = _ew.eq(y, zero)
    big = _ew.select(y0, one, big)  # keeps the unused branch finite
    xs, ys = _ew.div(x, big), _ew.div(y, big)
    rh = _ew.rsqrt(_ew.add(_ew.mul(xs, xs), _ew.mul(ys, ys)))
    return _ew.select(y0, one, _ew.mul(xs, rh)), _ew.select(y0, zero, _ew.neg(_ew.mul(ys, rh)))


def _cholesky_update_fn(r, z):
    """Givens rotations zeroing ``z`` against the rows of ``r`` (upper triangle), one row at a
    time (``n`` static)."""
    ra = aval_of(r)
    n = ra.shape[-1]
    nd = ra.ndim
    r = _triu(r)
    rows = _shape.broadcasted_iota(_I32, ra.shape, nd - 2)
    vec_shape = ra.shape[:-1]
    for k in range(n):
        row = _shape.squeeze(_shape.slice(r, (0,) * (nd - 2) + (k, 0),
                                          ra.shape[:-2] + (k + 1, n)), (nd - 2,))
        x = _shape.squeeze(_shape.slice(row, (0,) * (nd - 2) + (k,), vec_shape[:-1] + (k + 1,)),
                           (nd - 2,))
        y = _shape.squeeze(_shape.slice(z, (0,) * (nd - 2) + (k,), vec_shape[:-1] + (k + 1,)),
                           (nd - 2,))
        c, s = _givens(x, y)
        bd = tuple(range(nd - 2))
        cb = _shape.broadcast_in_dim(c, vec_shape, bd)
        sb = _shape.broadcast_in_dim(s, vec_shape, bd)
        new_row = _ew.sub(_ew.mul(cb, row), _ew.mul(sb, z))
        z = _ew.add(_ew.mul(cb, z), _ew.mul(sb, row))
        new_rows = _shape.broadcast_in_dim(new_row, ra.shape, bd + (nd - 1,))
        r = _ew.select(_ew.eq(rows, _full(ra.shape, k, _I32)), new_rows, r)
    return r


def _cholesky_update_lowering(ctx, r, w):
    return _emit(ctx, lambda r, w: [_cholesky_update_fn(r, w)], ctx.avals_in, [r, w])[0]


def _outer(u, v):
    """``u vᵀ`` for vectors ``[..., n]``."""
    a = aval_of(u)
    nd = a.ndim
    shape = a.shape + (a.shape[-1],)
    ub = _shape.broadcast_in_dim(u, shape, tuple(range(nd)))
    vb = _shape.broadcast_in_dim(v, shape, tuple(range(nd - 1)) + (nd,))
    return _ew.mul(ub, vb)


def _cholesky_update_jvp(primals, tangents):
    (r, w), (tr, tw) = primals, tangents
    out = cholesky_update_p.bind(r, w)
    if type(tr) is _ad.Zero and type(tw) is _ad.Zero:
        return out, _ad.Zero(_ad.tangent_aval(aval_of(out)))
    ru = _triu(r)
    dA = None
    if type(tr) is not _ad.Zero:
        rt_dr = _mm(_T(ru), _triu(tr))
        dA = _ew.add(rt_dr, _T(rt_dr))
    if type(tw) is not _ad.Zero:
        w_dw = _outer(w, tw)
        term = _ew.add(w_dw, _T(w_dw))
        dA = term if dA is None else _ew.add(dA, term)
    L = _T(out)
    tmp = triangular_solve(L, dA, left_side=False, lower=True, transpose_a=True)  # dA L⁻ᵀ
    X = triangular_solve(L, tmp, left_side=True, lower=True)  # L⁻¹ dA L⁻ᵀ
    a = aval_of(X)
    phi = _ew.mul(_tril(X), _ew.sub(_full(a.shape, 1, a.dtype),
                                    _scale(_eye(a.shape, a.dtype), 0.5)))
    return out, _T(_mm(L, phi))


cholesky_update_p.abstract_eval = _cholesky_update_abstract_eval
cholesky_update_p.lowering = _cholesky_update_lowering
cholesky_update_p.jvp = _cholesky_update_jvp
cholesky_update_p.batch = _front_rule(cholesky_update_p)


def cholesky_update(r_matrix, w_vector):
    """Rank-1 update of a Cholesky factor (``jax.lax.linalg.cholesky_update``): given upper
    triangular ``r`` with ``A = rᵀ r`` and a vector ``w``, the upper triangular factor of
    ``A + w wᵀ`` (positive diagonal), in ``O(n²)`` operations by Givens rotations. Real
    float32/float64; only the upper triangle of ``r`` is read; leading dimensions batch.

    Example::

        r2 = lax.linalg.cholesky_update(r, w)
    """
    return cholesky_update_p.bind(r_matrix, w_vector)


# ---- ormqr -----------------------------------------------------------------------------------------
ormqr_p = Primitive("ormqr")


def _ormqr_abstract_eval(a, taus, c, *, left, transpose):
    _check_matrix("ormqr", a)
    _check_matrix("ormqr", c)
    if not (a.dtype == taus.dtype == c.dtype):
        raise TypeError("lax.linalg.ormqr needs a, taus and c of the same dtype, got "
                        f"{a.dtype.name}, {taus.dtype.name} and {c.dtype.name}.")
    if taus.ndim != a.ndim - 1 or taus.shape[:-1] != a.shape[:-2] or \
            c.shape[:-2] != a.shape[:-2]:
        raise ValueError("lax.linalg.ormqr needs a [..., m, n], taus [..., k] and c with the "
                         f"same batch dimensions; got shapes {a.shape}, {taus.shape} and "
                         f"{c.shape}.")
    m = a.shape[-2]
    k = taus.shape[-1]
    if k > min(m, a.shape[-1]):
        raise ValueError(f"lax.linalg.ormqr: taus has {k} reflectors but a of shape {a.shape} "
                         f"holds at most {min(m, a.shape[-1])}.")
    if left and c.shape[-2] != m:
        raise ValueError("ormqr with left=True expects c to have the same number of rows as "
                         f"the Householder matrix a. Got a shape {a.shape} and c shape "
                         f"{c.shape}.")
    if not left and c.shape[-1] != m:
        raise ValueError("ormqr with left=False expects c to have the same number of columns "
                         f"as the Householder matrix a has rows. Got a shape {a.shape} and c "
                         f"shape {c.shape}.")
    return ShapedArray(c.shape, c.dtype)


def _ormqr_lowering(ctx, a, taus, c, *, left, transpose):
    aa, ta, ca = ctx.avals_in
    if 0 in ca.shape or ta.shape[-1] == 0:  # nothing to apply (LAPACK wants k >= 1 here)
        return _emit(ctx, lambda c: [c], [ca], [c])[0]
    base = "unmqr" if aa.dtype.kind == "c" else "ormqr"
    return _custom_call(ctx, _target(aa.dtype, base), [a, taus, c], [aa, ta, ca],
                        [True, False, True], [ca], [True],
                        {"left": bool(left), "transpose": bool(transpose)},
                        aliases=[(0, 2)])[0]


def _reflectors(a, k):
    """The Householder vectors ``V`` ``[..., m, k]``: ``a``'s first ``k`` columns below the
    diagonal, with a unit diagonal."""
    aa = aval_of(a)
    m = aa.shape[-2]
    v = _shape.slice(a, (0,) * aa.ndim, aa.shape[:-1] + (k,))
    return _ew.add(_tril(v, -1), _eye(aa.shape[:-2] + (m, k), aa.dtype))


def _column(x, i):
    a = aval_of(x)
    return _shape.squeeze(_shape.slice(x, (0,) * (a.ndim - 1) + (i,), a.shape[:-1] + (i + 1,)),
                          (a.ndim - 1,))


def _apply_reflector(c, v, tau, left):
    """``c - τ v (vᴴ c)`` (left) or ``c - τ (c v) vᴴ`` (right), with ``v`` ``[..., m]`` and
    ``tau`` ``[...]``."""
    ca = aval_of(c)
    nd = ca.ndim
    bd = tuple(range(nd - 2))
    tb = _shape.broadcast_in_dim(tau, ca.shape, bd)
    if left:
        vh_c = _mm(_shape.broadcast_in_dim(_conj(v), ca.shape[:-2] + (1, ca.shape[-2]),
                                           bd + (nd - 1,)), c)  # [..., 1, cols]
        vcol = _shape.broadcast_in_dim(v, ca.shape[:-2] + (ca.shape[-2], 1), bd + (nd - 2,))
        upd = _mm(vcol, vh_c)
    else:
        vcol = _shape.broadcast_in_dim(v, ca.shape[:-2] + (ca.shape[-1], 1), bd + (nd - 2,))
        c_v = _mm(c, vcol)  # [..., rows, 1]
        vrow = _shape.broadcast_in_dim(_conj(v), ca.shape[:-2] + (1, ca.shape[-1]),
                                       bd + (nd - 1,))
        upd = _mm(c_v, vrow)
    return _ew.sub(c, _ew.mul(tb, upd))


def _ormqr_tangent(a, taus, c, ta, tt, *, left, transpose):
    """Forward mode through ``op(Q) c`` as the reflector sequence, for tangents ``ta``/``tt``
    of the reflectors (``c``'s own tangent is handled by linearity)."""
    k = aval_of(taus).shape[-1]
    V = _reflectors(a, k)
    dV = _tril(_shape.slice(ta, (0,) * aval_of(ta).ndim, aval_of(ta).shape[:-1] + (k,)), -1)
    if _is_complex(taus) and transpose:  # op(Q) = Qᴴ: its reflectors carry conj(τ)
        taus, tt = _ew.conj(taus), _ew.conj(tt)
    # Q c and c Qᴴ apply H_k first; Qᴴ c and c Q apply H_1 first.
    order = range(k - 1, -1, -1) if left != transpose else range(k)
    dc = _full(aval_of(c).shape, 0, aval_of(c).dtype)
    for i in order:
        v, dv, tau, dtau = _column(V, i), _column(dV, i), _column(taus, i), _column(tt, i)
        # c' = c - τ v vᴴ c:  dc' = R(dc) - dτ v vᴴ c - τ (dv vᴴ + v dvᴴ) c  (left side;
        # mirrored on the right), each term written as c minus a rank-1 update of c.
        dc = _ew.sub(_apply_reflector(dc, v, tau, left),
                     _ew.sub(c, _apply_reflector(c, v, dtau, left)))
        dc = _ew.sub(dc, _ew.sub(c, _apply_reflector2(c, dv, v, tau, left)))
        dc = _ew.sub(dc, _ew.sub(c, _apply_reflector2(c, v, dv, tau, left)))
        c = _apply_reflector(c, v, tau, left)
    return dc


def _apply_reflector2(c, u, v, tau, left):
    """``c - τ u (vᴴ c)`` (left) or ``c - τ (c u) vᴴ`` (right): a rank-1 update with distinct
    vectors (the derivative of a reflector)."""
    ca = aval_of(c)
    nd = ca.ndim
    bd = tuple(range(nd - 2))
    tb = _shape.broadcast_in_dim(tau, ca.shape, bd)
    if left:
        vh_c = _mm(_shape.broadcast_in_dim(_conj(v), ca.shape[:-2] + (1, ca.shape[-2]),
                                           bd + (nd - 1,)), c)
        ucol = _shape.broadcast_in_dim(u, ca.shape[:-2] + (ca.shape[-2], 1), bd + (nd - 2,))
        upd = _mm(ucol, vh_c)
    else:
        ucol = _shape.broadcast_in_dim(u, ca.shape[:-2] + (ca.shape[-1], 1), bd + (nd - 2,))
        vrow = _shape.broadcast_in_dim(_conj(v), ca.shape[:-2] + (1, ca.shape[-1]),
                                       bd + (nd - 1,))
        upd = _mm(_mm(c, ucol), vrow)
    return _ew.sub(c, _ew.mul(tb, upd))


def _ormqr_jvp(primals, tangents, *, left, transpose):
    (a, taus, c), (ta, tt, tc) = primals, tangents
    params = dict(left=left, transpose=transpose)
    out = ormqr_p.bind(a, taus, c, **params)
    t = _ad.Zero(_ad.tangent_aval(aval_of(out)))
    if type(tc) is not _ad.Zero:
        t = ormqr_p.bind(a, taus, tc, **params)
    if type(ta) is not _ad.Zero or type(tt) is not _ad.Zero:
        t = _ad.add_tangents(t, _ormqr_tangent(a, taus, c, _ad.instantiate(ta)
                                               if type(ta) is not _ad.Zero else
                                               _full(aval_of(a).shape, 0, aval_of(a).dtype),
                                               _ad.instantiate(tt) if type(tt) is not _ad.Zero
                                               else _full(aval_of(taus).shape, 0,
                                                          aval_of(taus).dtype), **params))
    return out, t


def _ormqr_transpose(ct, a, taus, c, *, left, transpose):
    if _ad.is_undefined(a) or _ad.is_undefined(taus):
        raise NotImplementedError("ormqr is not linear in a or taus; this indicates a wrong "
                                  "JVP rule upstream.")
    if type(ct) is _ad.Zero:
        return [None, None, None]
    # y = op(Q) c is linear in c; its transpose applies op(Q)ᵀ = conj(op(Q)ᴴ).
    ct_c = _conj(ormqr_p.bind(a, taus, _conj(ct), left=left, transpose=not transpose))
    return [None, None, ct_c]


ormqr_p.abstract_eval = _ormqr_abstract_eval
ormqr_p.lowering = _ormqr_lowering
ormqr_p.jvp = _ormqr_jvp
ormqr_p.transpose = _ormqr_transpose
ormqr_p.batch = _front_rule(ormqr_p)


def ormqr(a, taus, c, *, left: bool = True, transpose: bool = False):
    """Multiply ``c`` by the ``Q`` of a QR factorisation without forming ``Q``
    (``jax.lax.linalg.ormqr``; LAPACK ``ormqr``/``unmqr``): ``Q @ c`` (``left``), ``Qᴴ @ c``
    (``left`` and ``transpose``), ``c @ Q`` or ``c @ Qᴴ``. ``a`` ``[..., m, n]`` holds the
    Householder vectors below its diagonal (LAPACK's ``geqrf`` layout, e.g. the transposed
    ``h`` of ``jnp.linalg.qr(x, mode="raw")``), ``taus`` ``[..., k]`` their scalar factors;
    ``Q = H_1 ... H_k`` is ``m x m``. Returns an array shaped like ``c``. Differentiable in
    all three operands.

    Example::

        qc = lax.linalg.ormqr(h, taus, c)
    """
    return ormqr_p.bind(a, taus, c, left=bool(left), transpose=bool(transpose))


__all__ = ["lu_pivots_to_permutation", "lu_pivots_to_permutation_p", "symmetric_product",
           "symmetric_product_p", "cholesky_update", "cholesky_update_p", "ormqr", "ormqr_p"]
