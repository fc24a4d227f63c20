"""Linear-algebra primitives (``jax.lax.linalg``): ``cholesky``, ``triangular_solve``, ``lu``,
``qr``, ``eigh``, ``svd``, ``eig``, ``schur``, ``hessenberg`` and ``householder_product``
(the last three not differentiable, as in JAX), each declared once with its abstract evaluation, lowering, JVP,
transpose (``triangular_solve``, linear in ``b``) and batching rules; the algorithm enums
``EigImplementation``, ``EighImplementation`` and ``SvdAlgorithm``. Declared beside this
module, sharing its helpers, and re-exported here: ``cholesky_update``,
``lu_pivots_to_permutation``, ``ormqr`` and ``symmetric_product`` (``linalg_extra.py``),
``tridiagonal`` and ``tridiagonal_solve`` (``linalg_tridiagonal.py``) and ``qdwh``
(``linalg_qdwh.py``, a composition).

Every operand is a stack of matrices ``[..., m, n]``: the leading dimensions are batch
dimensions, and the kernels run over them natively.

Lowering (CPU): LAPACK kernels shipped with jaxlib's runtime, reached through
``stablehlo.custom_call`` with the typed FFI (``api_version = 4``). Their operands are in
column-major order inside each matrix, which the ``operand_layouts``/``result_layouts``
attributes state (minor-to-major ``[r-2, r-1, r-3, ..., 0]``), so XLA does the relayout. The
targets are registered with XLA on first use (``_ensure_lapack``). Kernel ABI (read from the
FFI signatures):

* ``?potrf``: ``a -> (a, info)``, attribute ``uplo``.
* ``?trsm``: ``(a, b) -> x``, attributes ``side``, ``uplo``, ``trans_x``, ``diag``.
* ``?getrf``: ``a -> (lu, ipiv (1-based, [..., min(m, n)]), info)``.
* ``?geqrf``: ``a -> (a, taus [..., min(m, n)])``; ``?orgqr``/``?ungqr``: ``(a, taus) -> q``.
* ``?geqp3`` (pivoted QR): ``(a, jpvt) -> (a, jpvt (1-based), taus)``; ``jpvt = 0`` frees
  every column.
* ``?syevd``/``?heevd``: ``a -> (v, w, info)``, attributes ``mode`` ('V'/'N'), ``uplo``.
* ``?gesdd`` (and ``?gesvd`` for ``SvdAlgorithm.QR``): ``a -> (a, s, u, vt, info)``,
  attribute ``mode`` ('A', 'S' or 'N').
* ``?geev`` (general eigenproblem): real ``a -> (wr, wi, vl, vr, info)``, complex
  ``a -> (w, vl, vr, info)``, attributes ``compute_left``/``compute_right`` ('V'/'N'); the
  eigenvectors come back complex (the kernel unpacks LAPACK's real conjugate-pair storage),
  each of unit 2-norm with its largest component real. No operand is aliased.
* ``?gees`` (Schur): real ``a -> (t, z, wr, wi, sdim, info)``, complex
  ``a -> (t, z, w, sdim, info)``, attributes ``mode`` ('V'/'N'), ``sort`` ('N').
* ``?gehrd`` (Hessenberg): ``a -> (a, taus [..., n-1], info)``, attributes ``low = 1``,
  ``high = n`` (i32); ``householder_product`` is ``?orgqr``/``?ungqr`` on its own.

A failed factorisation (``info != 0``, e.g. a matrix that is not positive definite) fills that
matrix's results with NaN, as JAX does; ``lu`` of a singular matrix is returned as LAPACK
computes it (a zero on U's diagonal).

Differentiation (derived from the factorisation identities; ``H`` is the conjugate transpose):

* Cholesky ``A = L Lᴴ``: ``dL = L Φ(L⁻¹ dA L⁻ᴴ)`` with ``Φ`` the lower triangle, diagonal halved.
* triangular_solve ``op(A) X = B``: ``dX = op(A)⁻¹ (dB - op(dA) X)`` (right side alike).
* LU ``P A = L U``: ``X = L⁻¹ P dA U⁻¹``, ``dL = L tril(X, -1)``, ``dU = triu(X) U`` (L and U
  padded to square with identity blocks for rectangular A).
* QR ``A = Q R`` (``m >= n``, or the leading square block when ``m < n``): ``C = Qᴴ dA R⁻¹``,
  ``Ω = tril(C, -1) - tril(C, -1)ᴴ + i Im diag(C)``, ``dQ = Q (Ω - C) + dA R⁻¹``,
  ``dR = (C - Ω) R``.
* eigh ``A = V diag(w) Vᴴ``: ``dw = Re diag(Vᴴ dA V)``, ``dV = V (F ∘ Vᴴ dA V)``,
  ``F_ij = 1 / (w_j - w_i)`` off the diagonal.
* eig ``A V = V diag(w)``, ``Uᴴ A = diag(w) Uᴴ``: ``dw_i = u_iᴴ dA v_i / u_iᴴ v_i`` (i.e.
  ``diag(V⁻¹ dA V)``); eigenvalues only, as in JAX (eigenvector derivatives raise).
* SVD ``A = U S Vᴴ``: ``dP = Uᴴ dA V``, ``ds = Re diag(dP)``,
  ``dU = U (F ∘ (dP S + S dPᴴ) + i Im diag(dP) / s) + (I - U Uᴴ) dA V S⁻¹``,
  ``dV = V (F ∘ (S dP + dPᴴ S)) + (I - V Vᴴ) dAᴴ U S⁻¹``, ``F_ij = 1 / (s_j² - s_i²)``.

Batching moves the batch dimension to the front: the operations are batched over leading
dimensions already.
"""
from __future__ import annotations

import enum

import numpy as np

from jaxel.lax import elementwise as _ew
from jaxel.lax import reductions as _red
from jaxel.lax import shape_ops as _shape
from jaxel.lax._rules import aval_of
from jaxel.lax.dot_conv import Precision, dot_general
from jaxel.lowering.emitter import tensor_type
from jaxel.tracing.avals import ShapedArray
from jaxel.tracing.core import Primitive, literal

_SUPPORTED = {np.dtype(np.float32): "s", np.dtype(np.float64): "d",
              np.dtype(np.complex64): "c", np.dtype(np.complex128): "z"}
_I32 = np.dtype(np.int32)


def _real_dtype(dt):
    dt = np.dtype(dt)
    return np.dtype(np.float32 if dt == np.complex64 else np.float64 if dt == np.complex128
                    else dt)


def _check_matrix(name, x, square=False):
    if x.dtype not in _SUPPORTED:
        raise TypeError(f"lax.linalg.{name} supports float32, float64, complex64 and complex128 "
                        f"operands, got dtype {x.dtype.name}.")
    if x.ndim < 2:
        raise ValueError(f"lax.linalg.{name} needs an operand of rank at least 2 (a stack of "
                         f"matrices [..., m, n]), got shape {x.shape}.")
    if square and x.shape[-1] != x.shape[-2]:
        raise ValueError(f"lax.linalg.{name} needs square matrices [..., n, n], got shape "
                         f"{x.shape}.")


# ---- LAPACK custom calls ------------------------------------------------------------------------
def _ensure_lapack():
    """Register jaxlib's LAPACK FFI kernels with XLA (once; done by the runtime seam)."""
    from jaxel.runtime.lapack import ensure_lapack_registered
    ensure_lapack_registered()


def _layout(ndim, matrix):
    """Minor-to-major layout: column-major inside each matrix, row-major elsewhere."""
    if matrix:
        dims = [ndim - 2, ndim - 1] + list(range(ndim - 3, -1, -1))
    else:
        dims = list(range(ndim - 1, -1, -1))
    if not dims:
        return "dense<> : tensor<0xindex>"
    return f"dense<[{', '.join(map(str, dims))}]> : tensor<{len(dims)}xindex>"


def _attr_text(key, value):
    """One FFI attribute: bool (``.Attr<bool>``), i32, or a LAPACK character code (ui8)."""
    if isinstance(value, bool):  # before int: bool is an int subclass
        return f"{key} = {'true' if value else 'false'}"
    if isinstance(value, int):
        return f"{key} = {value} : i32"
    return f"{key} = {ord(value)} : ui8"


def _custom_call(ctx, target, operands, in_avals, in_matrix, out_avals, out_matrix, config=None,
                 aliases=()):
    """Emit a typed-FFI custom call to ``target``; returns its result names."""
    _ensure_lapack()
    e = ctx.e
    ops_in = list(operands)
    in_layouts = [_layout(a.ndim, m) for a, m in zip(in_avals, in_matrix)]
    out_layouts = [_layout(a.ndim, m) for a, m in zip(out_avals, out_matrix)]
    cfg = ", ".join(_attr_text(k, v) for k, v in (config or {}).items())
    alias_text = ", ".join(
        f"#stablehlo.output_operand_alias<output_tuple_indices = "
        f"[{o if len(out_avals) > 1 else ''}], operand_index = {i}, "
        f"operand_tuple_indices = []>" for o, i in aliases)
    attrs = (f'api_version = 4 : i32, call_target_name = "{target}", backend_config = {{{cfg}}}, '
             f"operand_layouts = [{', '.join(in_layouts)}], "
             f"result_layouts = [{', '.join(out_layouts)}]")
    if aliases:
        attrs += f", output_operand_aliases = [{alias_text}]"
    return e.op("stablehlo.custom_call", ops_in, [tensor_type(a) for a in out_avals], attrs)


def _emit(ctx, fn, avals, names):
    """Lower ``fn`` (lax code) on values ``names`` of types ``avals`` inline; returns names."""
    from jaxel.lax._composite import emit_composition
    return emit_composition(ctx, fn, avals, names)


def _target(dt, base):
    p = _SUPPORTED[np.dtype(dt)]
    if p in "cz":
        base = {"orgqr": "ungqr", "syevd": "heevd"}.get(base, base)
    return f"lapack_{p}{base}_ffi"


# ---- small lax helpers ----------------------------------------------------------------------------
def _ndim(x):
    return aval_of(x).ndim


def _T(x):
    n = _ndim(x)
    return _shape.transpose(x, tuple(range(n - 2)) + (n - 1, n - 2))


def _is_complex(x):
    return aval_of(x).dtype.kind == "c"


def _conj(x):
    return _ew.conj(x) if _is_complex(x) else x


def _H(x):
    return _conj(_T(x))


def _mm(a, b):
    """Batched matrix product over equal leading dimensions."""
    n = _ndim(a)
    batch = tuple(range(n - 2))
    return dot_general(a, b, (((n - 1,), (n - 2,)), (batch, batch)),
                       precision=(Precision.HIGHEST, Precision.HIGHEST))


def _full(shape, value, dtype):
    lit = literal(value, np.dtype(dtype), False)
    if not tuple(shape):
        return _ew.convert_element_type(lit, np.dtype(dtype))
    return _shape.broadcast_in_dim_p.bind(lit, shape=tuple(shape), broadcast_dimensions=(),
                                          sharding=None)


def _tri_mask(shape, k, lower):
    """Boolean mask of shape ``shape`` (last two dims a matrix): j <= i + k (lower) or
    j >= i + k (upper)."""
    nd = len(shape)
    i = _shape.broadcasted_iota(_I32, shape, nd - 2)
    j = _shape.broadcasted_iota(_I32, shape, nd - 1)
    if k:
        i = _ew.add(i, _full(shape, k, _I32))
    return _ew.le(j, i) if lower else _ew.ge(j, i)


def _tril(x, k=0):
    a = aval_of(x)
    return _ew.select(_tri_mask(a.shape, k, True), x, _full(a.shape, 0, a.dtype))


def _triu(x, k=0):
    a = aval_of(x)
    return _ew.select(_tri_mask(a.shape, k, False), x, _full(a.shape, 0, a.dtype))


def _eye_mask(shape):
    nd = len(shape)
    return _ew.eq(_shape.broadcasted_iota(_I32, shape, nd - 2),
                  _shape.broadcasted_iota(_I32, shape, nd - 1))


def _eye(shape, dtype):
    return _ew.convert_element_type(_eye_mask(shape), dtype)


def _diag(x):
    """The diagonal ``[..., n]`` of square matrices ``[..., n, n]``."""
    a = aval_of(x)
    z = _ew.select(_eye_mask(a.shape), x, _full(a.shape, 0, a.dtype))
    return _red.reduce_sum(z, (a.ndim - 1,))


def _diag_embed(v):
    """Square matrices with diagonal ``v`` ``[..., n]``."""
    a = aval_of(v)
    n = a.shape[-1]
    shape = a.shape + (n,)
    b = _shape.broadcast_in_dim(v, shape, tuple(range(a.ndim)))
    return _ew.select(_eye_mask(shape), b, _full(shape, 0, a.dtype))


def _col_bcast(v, shape):
    """``v`` ``[..., n]`` broadcast along rows: ``out[..., i, j] = v[..., j]``."""
    nd = len(shape)
    return _shape.broadcast_in_dim(v, tuple(shape), tuple(range(nd - 2)) + (nd - 1,))


def _row_bcast(v, shape):
    """``v`` ``[..., m]`` broadcast along columns: ``out[..., i, j] = v[..., i]``."""
    nd = len(shape)
    return _shape.broadcast_in_dim(v, tuple(shape), tuple(range(nd - 1)))


def _to(x, dtype):
    return x if aval_of(x).dtype == dtype else _ew.convert_element_type(x, dtype)


def _nan_where_failed(ok, x):
    """``x`` with the matrices/vectors of failed batch entries (``ok`` false) set to NaN."""
    a = aval_of(x)
    nb = aval_of(ok).ndim
    okb = _shape.broadcast_in_dim(ok, a.shape, tuple(range(nb)))
    return _ew.select(okb, x, _full(a.shape, np.nan, a.dtype))


def _slice_last2(x, rows, cols):
    a = aval_of(x)
    start = (0,) * a.ndim
    limit = a.shape[:-2] + (rows, cols)
    if limit == a.shape:
        return x
    return _shape.slice(x, start, limit)


def _pad_last2(x, rows, cols):
    """Zero-pad matrices to ``rows x cols``."""
    a = aval_of(x)
    cfg = [(0, 0, 0)] * (a.ndim - 2) + [(0, rows - a.shape[-2], 0), (0, cols - a.shape[-1], 0)]
    return _shape.pad(x, literal(0, a.dtype, False), cfg)


def _batch_front(args, dims):
    """Every operand with its batch dimension first (unbatched ones broadcast)."""
    from jaxel.transforms import batching as _batching
    size = _batching.batch_size_of(args, dims)
    return [_batching.bdim_at_front(x, d, size) for x, d in zip(args, dims)]


# ---- cholesky ----------------------------------------------------------------------------------
cholesky_p = Primitive("cholesky")


def _cholesky_abstract_eval(x):
    _check_matrix("cholesky", x, square=True)
    return ShapedArray(x.shape, x.dtype)


def _cholesky_lowering(ctx, x):
    xa = ctx.avals_in[0]
    batch = xa.shape[:-2]
    info_aval = ShapedArray(batch, _I32)
    out, info = _custom_call(ctx, _target(xa.dtype, "potrf"), [x], [xa], [True],
                             [xa, info_aval], [True, False], {"uplo": "L"}, aliases=[(0, 0)])

    def post(l, info):
        ok = _ew.eq(info, _full(batch, 0, _I32))
        return [_tril(_nan_where_failed(ok, l))]
    return _emit(ctx, post, [xa, info_aval], [out, info])[0]


cholesky_p.abstract_eval = _cholesky_abstract_eval
cholesky_p.lowering = _cholesky_lowering


def cholesky(x, *, symmetrize_input: bool = True):
    """Cholesky factor ``L`` (lower triangular, ``x = L Lᴴ``) of Hermitian positive-definite
    matrices ``[..., n, n]`` (``jax.lax.linalg.cholesky``).

    With ``symmetrize_input`` the input is first replaced by ``(x + xᴴ) / 2``; otherwise only
    its lower triangle is read. A matrix that is not positive definite gives NaNs.

    Example::

        L = lax.linalg.cholesky(a @ a.T + 3 * jnp.eye(3))
    """
    if symmetrize_input:
        x = symmetrize(x)
    return cholesky_p.bind(x)


def symmetrize(x):
    """``(x + xᴴ) / 2``: the Hermitian part of square matrices."""
    a = aval_of(x)
    return _ew.div(_ew.add(x, _H(x)), _full(a.shape, 2, a.dtype))


# ---- triangular_solve --------------------------------------------------------------------------
triangular_solve_p = Primitive("triangular_solve")


def _triangular_solve_abstract_eval(a, b, *, left_side, lower, transpose_a, conjugate_a,
                                    unit_diagonal):
    _check_matrix("triangular_solve", a, square=True)
    _check_matrix("triangular_solve", b)
    if a.dtype != b.dtype:
        raise TypeError(f"lax.linalg.triangular_solve needs a and b of the same dtype, got "
                        f"{a.dtype.name} and {b.dtype.name}.")
    if a.shape[:-2] != b.shape[:-2]:
        raise ValueError(f"lax.linalg.triangular_solve needs equal batch dimensions, got a "
                         f"of shape {a.shape} and b of shape {b.shape}.")
    k = b.shape[-2] if left_side else b.shape[-1]
    if a.shape[-1] != k:
        side = "rows" if left_side else "columns"
        raise ValueError(f"lax.linalg.triangular_solve: a of shape {a.shape} does not match "
                         f"the {side} of b of shape {b.shape} (left_side={left_side}).")
    return ShapedArray(b.shape, b.dtype)


def _triangular_solve_lowering(ctx, a, b, *, left_side, lower, transpose_a, conjugate_a,
                               unit_diagonal):
    aa, ba = ctx.avals_in
    if conjugate_a and not transpose_a and aa.dtype.kind == "c":
        a = _emit(ctx, lambda x: [_ew.conj(x)], [aa], [a])[0]
    trans = ("C" if conjugate_a else "T") if transpose_a else "N"
    cfg = {"side": "L" if left_side else "R", "uplo": "L" if lower else "U",
           "trans_x": trans, "diag": "U" if unit_diagonal else "N"}
    return _custom_call(ctx, _target(aa.dtype, "trsm"), [a, b], [aa, ba], [True, True],
                        [ba], [True], cfg, aliases=[(0, 1)])[0]


triangular_solve_p.abstract_eval = _triangular_solve_abstract_eval
triangular_solve_p.lowering = _triangular_solve_lowering


def triangular_solve(a, b, *, left_side: bool = False, lower: bool = False,
                     transpose_a: bool = False, conjugate_a: bool = False,
                     unit_diagonal: bool = False):
    """Solve ``op(a) x = b`` (``left_side``) or ``x op(a) = b`` for triangular ``a``
    (``jax.lax.linalg.triangular_solve``).

    ``op(a)`` is ``a``, ``aᵀ`` (``transpose_a``), ``aᴴ`` (``transpose_a`` and ``conjugate_a``)
    or ``conj(a)`` (``conjugate_a``). Only the triangle named by ``lower`` is read;
    ``unit_diagonal`` assumes ones on the diagonal. ``a`` is ``[..., m, m]``, ``b``
    ``[..., m, n]`` (left side) or ``[..., n, m]``, with equal batch dimensions.

    Example::

        x = lax.linalg.triangular_solve(L, b, left_side=True, lower=True)
    """
    if aval_of(a).dtype.kind != "c":
        conjugate_a = False
    return triangular_solve_p.bind(a, b, left_side=bool(left_side), lower=bool(lower),
                                   transpose_a=bool(transpose_a),
                                   conjugate_a=bool(conjugate_a),
                                   unit_diagonal=bool(unit_diagonal))


# ---- lu ----------------------------------------------------------------------------------------
lu_p = Primitive("lu", multiple_results=True)


def _lu_abstract_eval(x):
    _check_matrix("lu", x)
    m, n = x.shape[-2:]
    batch = x.shape[:-2]
    return [ShapedArray(x.shape, x.dtype), ShapedArray(batch + (min(m, n),), _I32),
            ShapedArray(batch + (m,), _I32)]


def _pivots_to_permutation(pivots, m):
    """The row permutation ``perm`` (``[..., m]``) the row swaps ``i <-> pivots[i]`` make of
    ``0..m-1``: a loop over the swaps, each a masked exchange along the last axis."""
    from jaxel.lax.control_flow.while_loop import while_loop
    pa = aval_of(pivots)
    k = pa.shape[-1]
    batch = pa.shape[:-1]
    shape = batch + (m,)
    perm0 = _shape.broadcasted_iota(_I32, shape, len(shape) - 1)
    if k == 0 or m == 0:
        return perm0
    ax = len(shape) - 1
    col = _shape.broadcasted_iota(_I32, shape, ax)
    zeros = _full(shape, 0, _I32)

    def body(carry):
        i, perm = carry
        j = _slicing_dynamic_index(pivots, i)  # [...]
        oh_i = _ew.eq(col, _shape.broadcast_in_dim(i, shape, ()))
        oh_j = _ew.eq(col, _shape.broadcast_in_dim(j, shape, tuple(range(len(batch)))))
        vi = _red.reduce_sum(_ew.select(oh_i, perm, zeros), (ax,))
        vj = _red.reduce_sum(_ew.select(oh_j, perm, zeros), (ax,))
        bd = tuple(range(len(batch)))
        new = _ew.select(oh_i, _shape.broadcast_in_dim(vj, shape, bd),
                         _ew.select(oh_j, _shape.broadcast_in_dim(vi, shape, bd), perm))
        return _ew.add(i, literal(1, _I32, False)), new

    def cond(carry):
        return _ew.lt(carry[0], literal(k, _I32, False))

    return while_loop(cond, body, (literal(0, _I32, False), perm0))[1]


def _slicing_dynamic_index(x, i):
    from jaxel.lax.slicing import dynamic_index_in_dim
    a = aval_of(x)
    return dynamic_index_in_dim(x, i, axis=a.ndim - 1, keepdims=False)


def _lu_lowering(ctx, x):
    xa = ctx.avals_in[0]
    lu_a, piv_a, perm_a = ctx.avals_out
    batch = xa.shape[:-2]
    info_aval = ShapedArray(batch, _I32)
    lu, piv, info = _custom_call(ctx, _target(xa.dtype, "getrf"), [x], [xa], [True],
                                 [xa, piv_a, info_aval], [True, False, False],
                                 aliases=[(0, 0)])

    def post(lu, piv, info):
        ok = _ew.ge(info, _full(batch, 0, _I32))
        piv = _ew.sub(piv, _full(piv_a.shape, 1, _I32))
        return [_nan_where_failed(ok, lu), piv, _pivots_to_permutation(piv, xa.shape[-2])]
    return _emit(ctx, post, [xa, piv_a, info_aval], [lu, piv, info])


lu_p.abstract_eval = _lu_abstract_eval
lu_p.lowering = _lu_lowering


def lu(x):
    """LU decomposition with partial pivoting (``jax.lax.linalg.lu``).

    Returns ``(lu, pivots, permutation)``: ``lu`` holds ``L`` (unit lower triangular, below the
    diagonal) and ``U`` (upper triangle) with ``x[..., permutation, :] = L @ U``; ``pivots`` are
    LAPACK's row swaps (0-based, ``[..., min(m, n)]``), ``permutation`` the resulting row order
    (``[..., m]``), both int32.

    Example::

        lu, piv, perm = lax.linalg.lu(a)
    """
    return tuple(lu_p.bind(x))


# ---- qr ----------------------------------------------------------------------------------------
qr_p = Primitive("qr", multiple_results=True)


def _qr_shapes(shape, full_matrices):
    m, n = shape[-2:]
    k = m if full_matrices else min(m, n)
    return shape[:-2] + (m, k), shape[:-2] + (k, n)


def _qr_abstract_eval(x, *, full_matrices, pivoting=False):
    _check_matrix("qr", x)
    qs, rs = _qr_shapes(x.shape, full_matrices)
    out = [ShapedArray(qs, x.dtype), ShapedArray(rs, x.dtype)]
    if pivoting:
        out.append(ShapedArray(x.shape[:-2] + x.shape[-1:], _I32))
    return out


def _qr_lowering(ctx, x, *, full_matrices, pivoting=False):
    xa = ctx.avals_in[0]
    q_a, r_a = ctx.avals_out[:2]
    batch = xa.shape[:-2]
    m, n = xa.shape[-2:]
    k = min(m, n)
    tau_a = ShapedArray(batch + (k,), xa.dtype)
    if pivoting:  # geqp3 with every column free (jpvt = 0); it returns 1-based pivots
        p_a = ShapedArray(batch + (n,), _I32)
        jpvt = _emit(ctx, lambda: [_full(p_a.shape, 0, _I32)], [], [])[0]
        a, piv, taus = _custom_call(ctx, _target(xa.dtype, "geqp3"), [x, jpvt], [xa, p_a],
                                    [True, False], [xa, p_a, tau_a], [True, False, False],
                                    aliases=[(0, 0), (1, 1)])
    else:
        a, taus = _custom_call(ctx, _target(xa.dtype, "geqrf"), [x], [xa], [True],
                               [xa, tau_a], [True, False], aliases=[(0, 0)])
    qcols = q_a.shape[-1]
    # orgqr builds Q from the first qcols reflectors' columns: pad or slice a to [m, qcols]
    # (and taus to qcols, zero taus being identity reflectors).
    a_in_a = ShapedArray(batch + (m, qcols), xa.dtype)
    tau_in_a = ShapedArray(batch + (qcols,), xa.dtype)

    def prep(a, taus):
        a2 = _slice_last2(a, m, min(n, qcols))
        if qcols > n:
            a2 = _pad_last2(a2, m, qcols)
        t = taus
        if qcols > k:
            ta = aval_of(taus)
            t = _shape.pad(taus, literal(0, ta.dtype, False),
                           [(0, 0, 0)] * (ta.ndim - 1) + [(0, qcols - k, 0)])
        elif qcols < k:
            t = _shape.slice(taus, (0,) * len(tau_a.shape), batch + (qcols,))
        return [a2, t, _triu(_slice_last2_or_pad(a, r_a.shape[-2], n))]

    a_in, t_in, r = _emit(ctx, prep, [xa, tau_a], [a, taus])
    q = _custom_call(ctx, _target(xa.dtype, "orgqr"), [a_in, t_in], [a_in_a, tau_in_a],
                     [True, False], [a_in_a],
                     [True], aliases=[(0, 0)])[0]
    if pivoting:
        return [q, r, _emit(ctx, lambda p: [_ew.sub(p, _full(p_a.shape, 1, _I32))], [p_a],
                            [piv])[0]]
    return [q, r]


def _slice_last2_or_pad(x, rows, cols):
    a = aval_of(x)
    if rows <= a.shape[-2]:
        return _slice_last2(x, rows, cols)
    return _pad_last2(x, rows, cols)


qr_p.abstract_eval = _qr_abstract_eval
qr_p.lowering = _qr_lowering


def qr(x, *, pivoting: bool = False, full_matrices: bool = True, use_magma=None):
    """QR decomposition ``x = q @ r`` of matrices ``[..., m, n]`` (``jax.lax.linalg.qr``).

    With ``full_matrices`` ``q`` is ``[..., m, m]`` and ``r`` ``[..., m, n]``; otherwise
    ``k = min(m, n)`` gives ``q`` ``[..., m, k]`` and ``r`` ``[..., k, n]``. ``q`` has
    orthonormal columns, ``r`` is upper triangular. With ``pivoting`` (LAPACK ``geqp3``,
    column pivoting) it returns ``(q, r, p)``: ``x[..., :, p] = q @ r`` with ``p`` int32
    ``[..., n]`` and ``|diag(r)|`` non-increasing.

    Example::

        q, r = lax.linalg.qr(a, full_matrices=False)
    """
    return tuple(qr_p.bind(x, full_matrices=bool(full_matrices), pivoting=bool(pivoting)))


# ---- algorithm choices ---------------------------------------------------------------------------
class EigImplementation(enum.Enum):
    """Which kernel ``eig`` uses (``jax.lax.linalg.EigImplementation``); jaxel runs on the CPU,
    where only ``LAPACK`` (``geev``, also the default) exists."""
    CUSOLVER = "cusolver"
    MAGMA = "magma"
    LAPACK = "lapack"


class EighImplementation(enum.Enum):
    """Which algorithm ``eigh`` uses (``jax.lax.linalg.EighImplementation``); on the CPU only
    ``QR`` (LAPACK ``syevd``/``heevd``, also the default) exists."""
    QR = "qr"
    JACOBI = "jacobi"
    QDWH = "qdwh"


class SvdAlgorithm(enum.Enum):
    """Which algorithm ``svd`` uses (``jax.lax.linalg.SvdAlgorithm``). On the CPU ``DEFAULT``
    and ``DIVIDE_AND_CONQUER`` are LAPACK ``gesdd`` and ``QR`` is ``gesvd``; ``JACOBI`` and
    ``POLAR`` do not exist there."""
    DEFAULT = "default"
    QR = "QR"
    JACOBI = "Jacobi"
    POLAR = "polar"
    DIVIDE_AND_CONQUER = "divide_and_conquer"


# ---- eigh --------------------------------------------------------------------------------------
eigh_p = Primitive("eigh", multiple_results=True)


def _eigh_abstract_eval(x, *, lower, sort_eigenvalues):
    _check_matrix("eigh", x, square=True)
    return [ShapedArray(x.shape, x.dtype),
            ShapedArray(x.shape[:-1], _real_dtype(x.dtype))]


def _eigh_lowering(ctx, x, *, lower, sort_eigenvalues):
    xa = ctx.avals_in[0]
    v_a, w_a = ctx.avals_out
    batch = xa.shape[:-2]
    info_aval = ShapedArray(batch, _I32)
    v, w, info = _custom_call(ctx, _target(xa.dtype, "syevd"), [x], [xa], [True],
                              [v_a, w_a, info_aval], [True, False, False],
                              {"mode": "V", "uplo": "L" if lower else "U"}, aliases=[(0, 0)])

    def post(v, w, info):
        ok = _ew.eq(info, _full(batch, 0, _I32))
        return [_nan_where_failed(ok, v), _nan_where_failed(ok, w)]
    return _emit(ctx, post, [v_a, w_a, info_aval], [v, w, info])


eigh_p.abstract_eval = _eigh_abstract_eval
eigh_p.lowering = _eigh_lowering


def eigh(x, *, lower: bool = True, symmetrize_input: bool = True,
         sort_eigenvalues: bool = True, subset_by_index=None, implementation=None):
    """Eigendecomposition of Hermitian matrices ``[..., n, n]`` (``jax.lax.linalg.eigh``).

    Returns ``(v, w)``: eigenvectors as the columns of ``v`` and eigenvalues ``w`` (real,
    ascending), with ``x = v @ diag(w) @ vᴴ``. With ``symmetrize_input`` the input is first
    replaced by ``(x + xᴴ) / 2``; otherwise only the triangle named by ``lower`` is read.
    ``implementation`` is ``None`` or ``EighImplementation.QR`` (LAPACK, the only CPU kernel;
    ``JACOBI`` and ``QDWH`` raise ``NotImplementedError`` as in JAX on the CPU).

    Example::

        v, w = lax.linalg.eigh(a + a.T)
    """
    if implementation is not None and implementation != EighImplementation.QR:
        if not isinstance(implementation, EighImplementation):
            raise TypeError("lax.linalg.eigh: implementation must be None or a "
                            f"lax.linalg.EighImplementation, got {implementation!r}.")
        raise NotImplementedError(f"lax.linalg.eigh: {implementation} is not supported on CPU "
                                  "(only EighImplementation.QR, LAPACK syevd/heevd).")
    if subset_by_index is not None:
        n = aval_of(x).shape[-1]
        if tuple(subset_by_index) != (0, n):
            raise NotImplementedError("lax.linalg.eigh: subset_by_index is not implemented "
                                      "in jaxel (only the full range).")
    if symmetrize_input:
        x = symmetrize(x)
    v, w = eigh_p.bind(x, lower=bool(lower), sort_eigenvalues=bool(sort_eigenvalues))
    return v, w


# ---- svd ---------------------------------------------------------------------------------------
svd_p = Primitive("svd", multiple_results=True)


def _svd_shapes(shape, full_matrices):
    m, n = shape[-2:]
    k = min(m, n)
    b = shape[:-2]
    if full_matrices:
        return b + (k,), b + (m, m), b + (n, n)
    return b + (k,), b + (m, k), b + (k, n)


def _svd_abstract_eval(x, *, full_matrices, compute_uv, algorithm="gesdd"):
    _check_matrix("svd", x)
    s, u, vt = _svd_shapes(x.shape, full_matrices)
    out = [ShapedArray(s, _real_dtype(x.dtype))]
    if compute_uv:
        out += [ShapedArray(u, x.dtype), ShapedArray(vt, x.dtype)]
    return out


def _svd_lowering(ctx, x, *, full_matrices, compute_uv, algorithm="gesdd"):
    xa = ctx.avals_in[0]
    batch = xa.shape[:-2]
    m, n = xa.shape[-2:]
    if compute_uv:
        s_shape, u_shape, vt_shape = _svd_shapes(xa.shape, full_matrices)
        mode = "A" if full_matrices else "S"
    else:
        s_shape, u_shape, vt_shape = _svd_shapes(xa.shape, True)
        mode = "N"
    s_a = ShapedArray(s_shape, _real_dtype(xa.dtype))
    u_a, vt_a = ShapedArray(u_shape, xa.dtype), ShapedArray(vt_shape, xa.dtype)
    info_aval = ShapedArray(batch, _I32)
    _, s, u, vt, info = _custom_call(
        ctx, _target(xa.dtype, algorithm), [x], [xa], [True],
        [xa, s_a, u_a, vt_a, info_aval], [True, False, True, True, False], {"mode": mode},
        aliases=[(0, 0)])
    if not compute_uv:
        return _emit(ctx, lambda s, info: [_nan_where_failed(
            _ew.eq(info, _full(batch, 0, _I32)), s)], [s_a, info_aval], [s, info])

    def post(s, u, vt, info):
        ok = _ew.eq(info, _full(batch, 0, _I32))
        return [_nan_where_failed(ok, s), _nan_where_failed(ok, u), _nan_where_failed(ok, vt)]
    return _emit(ctx, post, [s_a, u_a, vt_a, info_aval], [s, u, vt, info])


svd_p.abstract_eval = _svd_abstract_eval
svd_p.lowering = _svd_lowering


def _svd_kernel(algorithm):
    """The LAPACK driver for an ``SvdAlgorithm`` (or ``None``), as JAX picks it on the CPU."""
    if algorithm is None:
        return "gesdd"
    if not isinstance(algorithm, SvdAlgorithm):
        raise TypeError(f"lax.linalg.svd: algorithm must be None or a "
                        f"lax.linalg.SvdAlgorithm, got {algorithm!r}.")
    if algorithm in (SvdAlgorithm.DEFAULT, SvdAlgorithm.DIVIDE_AND_CONQUER):
        return "gesdd"
    if algorithm == SvdAlgorithm.QR:
        return "gesvd"
    raise NotImplementedError("The SVD Jacobi and Polar algorithms are not implemented on CPU "
                              f"(got algorithm={algorithm}); use SvdAlgorithm.DEFAULT or QR.")


def svd(x, *, full_matrices: bool = True, compute_uv: bool = True, subset_by_index=None,
        algorithm=None):
    """Singular value decomposition ``x = u @ diag(s) @ vh`` (``jax.lax.linalg.svd``).

    Returns ``(u, s, vh)`` (``s`` real, descending) when ``compute_uv``, else ``s`` alone.
    With ``full_matrices`` ``u`` is ``[..., m, m]`` and ``vh`` ``[..., n, n]``; otherwise
    ``[..., m, k]`` and ``[..., k, n]`` with ``k = min(m, n)``.

    Example::

        u, s, vh = lax.linalg.svd(a, full_matrices=False)
    """
    if subset_by_index is not None:
        k = min(aval_of(x).shape[-2:])
        if tuple(subset_by_index) != (0, k):
            raise NotImplementedError("lax.linalg.svd: subset_by_index is not implemented in "
                                      "jaxel (only the full range).")
    kernel = _svd_kernel(algorithm)
    out = svd_p.bind(x, full_matrices=bool(full_matrices), compute_uv=bool(compute_uv),
                     algorithm=kernel)
    if compute_uv:
        s, u, vt = out
        return u, s, vt
    return out[0]


# ---- eig ---------------------------------------------------------------------------------------
eig_p = Primitive("eig", multiple_results=True)


def _complex_dtype(dt):
    dt = np.dtype(dt)
    return np.dtype(np.complex64 if dt in (np.float32, np.complex64) else np.complex128)


def _eig_abstract_eval(x, *, compute_left_eigenvectors, compute_right_eigenvectors,
                       enable_eigvec_derivs=False):
    _check_matrix("eig", x, square=True)
    cdt = _complex_dtype(x.dtype)
    out = [ShapedArray(x.shape[:-1], cdt)]
    if compute_left_eigenvectors:
        out.append(ShapedArray(x.shape, cdt))
    if compute_right_eigenvectors:
        out.append(ShapedArray(x.shape, cdt))
    return out


def _eig_lowering(ctx, x, *, compute_left_eigenvectors, compute_right_eigenvectors,
                  enable_eigvec_derivs=False):
    xa = ctx.avals_in[0]
    batch = xa.shape[:-2]
    cdt = _complex_dtype(xa.dtype)
    w_a = ShapedArray(xa.shape[:-1], cdt)
    v_a = ShapedArray(xa.shape, cdt)
    info_aval = ShapedArray(batch, _I32)
    cfg = {"compute_left": "V" if compute_left_eigenvectors else "N",
           "compute_right": "V" if compute_right_eigenvectors else "N"}
    target = _target(xa.dtype, "geev")
    if xa.dtype.kind == "c":
        w, vl, vr, info = _custom_call(ctx, target, [x], [xa], [True],
                                       [w_a, v_a, v_a, info_aval], [False, True, True, False],
                                       cfg)
        parts, part_avals = [w], [w_a]
    else:
        wr_a = ShapedArray(xa.shape[:-1], xa.dtype)
        wr, wi, vl, vr, info = _custom_call(ctx, target, [x], [xa], [True],
                                            [wr_a, wr_a, v_a, v_a, info_aval],
                                            [False, False, True, True, False], cfg)
        parts, part_avals = [wr, wi], [wr_a, wr_a]
    vecs, vec_avals = [], []
    if compute_left_eigenvectors:
        vecs.append(vl)
        vec_avals.append(v_a)
    if compute_right_eigenvectors:
        vecs.append(vr)
        vec_avals.append(v_a)
    nparts = len(parts)

    def post(*args):
        info = args[-1]
        ok = _ew.eq(info, _full(batch, 0, _I32))
        w = args[0] if nparts == 1 else _ew.complex(args[0], args[1])
        return [_nan_where_failed(ok, w)] + [_nan_where_failed(ok, v)
                                             for v in args[nparts:-1]]
    return _emit(ctx, post, part_avals + vec_avals + [info_aval], parts + vecs + [info])


eig_p.abstract_eval = _eig_abstract_eval
eig_p.lowering = _eig_lowering


def eig(x, *, compute_left_eigenvectors: bool = True, compute_right_eigenvectors: bool = True,
        enable_eigvec_derivs: bool = False, implementation=None, use_magma=None):
    """Eigendecomposition of general square matrices ``[..., n, n]`` (``jax.lax.linalg.eig``;
    CPU only, LAPACK ``geev``).

    Returns a list ``[w]``, followed by the left eigenvectors ``vl`` (``vlᴴ x = diag(w) vlᴴ``)
    when ``compute_left_eigenvectors`` and the right ones ``vr`` (``x vr = vr diag(w)``) when
    ``compute_right_eigenvectors``, as columns. All results are complex (complex64 for
    float32/complex64 input); the eigenvalues are in LAPACK's order (unsorted), each
    eigenvector has unit 2-norm and its largest component real. Only the eigenvalues are
    differentiable unless ``enable_eigvec_derivs``: the eigenvector derivatives then follow
    LAPACK's normalisation (unit 2-norm, largest component real) and are valid only for
    distinct eigenvalues and no ties for the largest component (as in JAX, which cannot check
    this). ``implementation`` is ``None`` or
    ``EigImplementation.LAPACK`` (others raise ``ValueError``, as JAX on the CPU).

    Example::

        w, vr = lax.linalg.eig(a, compute_left_eigenvectors=False)
    """
    if use_magma is not None:
        import warnings
        warnings.warn("use_magma is deprecated, please use "
                      "implementation=EigImplementation.MAGMA instead.", DeprecationWarning,
                      stacklevel=2)
        implementation = EigImplementation.MAGMA if use_magma else EigImplementation.LAPACK
    if implementation is not None and implementation != EigImplementation.LAPACK:
        raise ValueError("Only the lapack implementation is supported on CPU "
                         f"(lax.linalg.eig got implementation={implementation!r}).")
    return list(eig_p.bind(x, compute_left_eigenvectors=bool(compute_left_eigenvectors),
                           compute_right_eigenvectors=bool(compute_right_eigenvectors),
                           enable_eigvec_derivs=bool(enable_eigvec_derivs)))


# ---- schur --------------------------------------------------------------------------------------
schur_p = Primitive("schur", multiple_results=True)


def _schur_abstract_eval(x, *, compute_schur_vectors):
    _check_matrix("schur", x, square=True)
    out = [ShapedArray(x.shape, x.dtype)]
    if compute_schur_vectors:
        out.append(ShapedArray(x.shape, x.dtype))
    return out


def _schur_lowering(ctx, x, *, compute_schur_vectors):
    xa = ctx.avals_in[0]
    batch = xa.shape[:-2]
    n = xa.shape[-1]
    i_a = ShapedArray(batch, _I32)
    w_a = ShapedArray(batch + (n,), xa.dtype)
    cfg = {"mode": "V" if compute_schur_vectors else "N", "sort": "N"}
    target = _target(xa.dtype, "gees")
    if xa.dtype.kind == "c":
        t, z, _, _, info = _custom_call(ctx, target, [x], [xa], [True],
                                        [xa, xa, w_a, i_a, i_a],
                                        [True, True, False, False, False], cfg,
                                        aliases=[(0, 0)])
    else:
        t, z, _, _, _, info = _custom_call(ctx, target, [x], [xa], [True],
                                           [xa, xa, w_a, w_a, i_a, i_a],
                                           [True, True, False, False, False, False], cfg,
                                           aliases=[(0, 0)])
    outs = [t, z] if compute_schur_vectors else [t]

    def post(*args):
        ok = _ew.eq(args[-1], _full(batch, 0, _I32))
        return [_nan_where_failed(ok, v) for v in args[:-1]]
    return _emit(ctx, post, [xa] * len(outs) + [i_a], outs + [info])


schur_p.abstract_eval = _schur_abstract_eval
schur_p.lowering = _schur_lowering


def schur(x, *, compute_schur_vectors: bool = True, sort_eig_vals: bool = False,
          select_callable=None):
    """Schur decomposition ``x = z @ t @ zᴴ`` of square matrices (``jax.lax.linalg.schur``;
    CPU only, LAPACK ``gees``): ``t`` is upper (quasi-)triangular (real input: 2 x 2 diagonal
    blocks for complex-conjugate pairs), ``z`` unitary. Returns ``[t, z]`` or ``[t]``. Not
    differentiable (as in JAX).

    Example::

        t, z = lax.linalg.schur(a)
    """
    if sort_eig_vals or select_callable is not None:
        raise NotImplementedError("lax.linalg.schur: sorting the eigenvalues "
                                  "(sort_eig_vals/select_callable) is not implemented in jaxel.")
    return list(schur_p.bind(x, compute_schur_vectors=bool(compute_schur_vectors)))


# ---- hessenberg / householder_product --------------------------------------------------------
hessenberg_p = Primitive("hessenberg", multiple_results=True)


def _hessenberg_abstract_eval(x):
    _check_matrix("hessenberg", x, square=True)
    return [ShapedArray(x.shape, x.dtype),
            ShapedArray(x.shape[:-2] + (max(x.shape[-1] - 1, 0),), x.dtype)]


def _hessenberg_lowering(ctx, x):
    xa = ctx.avals_in[0]
    tau_a = ctx.avals_out[1]
    batch = xa.shape[:-2]
    n = xa.shape[-1]
    if n <= 1:  # nothing to reduce
        return _emit(ctx, lambda a: [a, _full(tau_a.shape, 0, xa.dtype)], [xa], [x])
    i_a = ShapedArray(batch, _I32)
    a, taus, info = _custom_call(ctx, _target(xa.dtype, "gehrd"), [x], [xa], [True],
                                 [xa, tau_a, i_a], [True, False, False],
                                 {"low": 1, "high": n}, aliases=[(0, 0)])

    def post(a, taus, info):
        ok = _ew.eq(info, _full(batch, 0, _I32))
        return [_nan_where_failed(ok, a), _nan_where_failed(ok, taus)]
    return _emit(ctx, post, [xa, tau_a, i_a], [a, taus, info])


hessenberg_p.abstract_eval = _hessenberg_abstract_eval
hessenberg_p.lowering = _hessenberg_lowering


def hessenberg(x):
    """Hessenberg reduction of square matrices in LAPACK's packed form
    (``jax.lax.linalg.hessenberg``; CPU only, ``gehrd``): returns ``(a, taus)`` with the
    Hessenberg matrix on and above the first subdiagonal of ``a`` and the Householder vectors of
    ``q`` below it (``taus`` ``[..., n-1]``); ``q`` is
    ``householder_product(a[..., 1:, :-1], taus)`` bordered by a leading 1.
    ``jaxel.scipy.linalg.hessenberg`` unpacks both. Not differentiable (as in JAX).

    Example::

        a_packed, taus = lax.linalg.hessenberg(a)
    """
    return tuple(hessenberg_p.bind(x))


householder_product_p = Primitive("householder_product")


def _householder_product_abstract_eval(a, taus):
    _check_matrix("householder_product", a)
    m, n = a.shape[-2:]
    if taus.dtype != a.dtype or taus.shape[:-1] != a.shape[:-2] or not \
            taus.shape[-1] <= n <= m:
        raise ValueError("lax.linalg.householder_product needs a [..., m, n] and taus "
                         "[..., k] of the same dtype and batch dimensions, with k <= n <= m; "
                         f"got {a.dtype.name}{a.shape} and {taus.dtype.name}{taus.shape}.")
    return ShapedArray(a.shape, a.dtype)


def _householder_product_lowering(ctx, a, taus):
    aa, ta = ctx.avals_in
    return _custom_call(ctx, _target(aa.dtype, "orgqr"), [a, taus], [aa, ta], [True, False],
                        [aa], [True], aliases=[(0, 0)])[0]


householder_product_p.abstract_eval = _householder_product_abstract_eval
householder_product_p.lowering = _householder_product_lowering


def householder_product(a, taus):
    """The product ``Q = H_1 ... H_k`` of Householder reflectors ``H_i = I - taus_i v_i v_iᴴ``
    (``jax.lax.linalg.householder_product``; LAPACK ``orgqr``/``ungqr``): ``v_i`` is column
    ``i`` of ``a`` below the diagonal with a unit leading entry. ``a`` is ``[..., m, n]``,
    ``taus`` ``[..., k]`` (``k <= n <= m``); returns the first ``n`` columns of ``Q``. Not
    differentiable.

    Example::

        q = lax.linalg.householder_product(a_packed[1:, :-1], taus)
    """
    return householder_product_p.bind(a, taus)


__all__ = ["cholesky", "triangular_solve", "lu", "qr", "eigh", "svd", "eig", "schur",
           "hessenberg", "householder_product", "symmetrize", "cholesky_p",
           "triangular_solve_p", "lu_p", "qr_p", "eigh_p", "svd_p", "eig_p", "schur_p",
           "hessenberg_p", "householder_product_p", "EigImplementation", "EighImplementation",
           "SvdAlgorithm", "cholesky_update", "cholesky_update_p", "lu_pivots_to_permutation",
           "lu_pivots_to_permutation_p", "ormqr", "ormqr_p", "qdwh", "symmetric_product",
           "symmetric_product_p", "tridiagonal", "tridiagonal_p", "tridiagonal_solve",
           "tridiagonal_solve_p"]


# ---- differentiation rules -----------------------------------------------------------------------
from jaxel.transforms import ad_util as _ad  # noqa: E402


def _scale(x, c):
    a = aval_of(x)
    return _ew.mul(x, _full(a.shape, c, a.dtype))


def _cholesky_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    L = cholesky_p.bind(x)
    if type(t) is _ad.Zero:
        return L, _ad.Zero(_ad.tangent_aval(aval_of(L)))
    t = _scale(_ew.add(t, _H(t)), 0.5)  # the primitive reads a Hermitian matrix
    # X = L⁻¹ dA L⁻ᴴ, Φ(X) = tril(X) with its diagonal halved; dL = L Φ(X).
    tmp = triangular_solve(L, t, left_side=False, lower=True, transpose_a=True,
                           conjugate_a=True)  # dA L⁻ᴴ
    X = triangular_solve(L, tmp, left_side=True, lower=True)  # L⁻¹ dA L⁻ᴴ
    a = aval_of(X)
    phi = _ew.mul(_tril(X), _ew.sub(_full(a.shape, 1, a.dtype),
                                    _scale(_eye(a.shape, a.dtype), 0.5)))
    return L, _mm(L, phi)


cholesky_p.jvp = _cholesky_jvp


def _op(a, transpose_a, conjugate_a):
    if transpose_a:
        a = _T(a)
    return _conj(a) if conjugate_a else a


def _triangular_solve_jvp(primals, tangents, *, left_side, lower, transpose_a, conjugate_a,
                          unit_diagonal):
    (a, b), (ta, tb) = primals, tangents
    params = dict(left_side=left_side, lower=lower, transpose_a=transpose_a,
                  conjugate_a=conjugate_a, unit_diagonal=unit_diagonal)
    x = triangular_solve_p.bind(a, b, **params)
    if type(ta) is _ad.Zero and type(tb) is _ad.Zero:
        return x, _ad.Zero(_ad.tangent_aval(aval_of(x)))
    rhs = None if type(tb) is _ad.Zero else tb
    if type(ta) is not _ad.Zero:
        da = _tril(ta, -1 if unit_diagonal else 0) if lower else _triu(ta, 1 if unit_diagonal
                                                                      else 0)
        opda = _op(da, transpose_a, conjugate_a)
        prod = _mm(opda, x) if left_side else _mm(x, opda)
        rhs = _ew.neg(prod) if rhs is None else _ew.sub(rhs, prod)
    return x, triangular_solve_p.bind(a, rhs, **params)


def _triangular_solve_transpose(ct, a, b, *, left_side, lower, transpose_a, conjugate_a,
                                unit_diagonal):
    if _ad.is_undefined(a):
        raise NotImplementedError("triangular_solve is not linear in a; this indicates a wrong "
                                  "JVP rule upstream.")
    if type(ct) is _ad.Zero:
        return [None, None]
    # x = op(a)⁻¹ b (or b op(a)⁻¹): the cotangent goes through op(a)⁻ᵀ on the same side.
    ct_b = triangular_solve_p.bind(a, ct, left_side=left_side, lower=lower,
                                   transpose_a=not transpose_a, conjugate_a=conjugate_a,
                                   unit_diagonal=unit_diagonal)
    return [None, ct_b]


triangular_solve_p.jvp = _triangular_solve_jvp
triangular_solve_p.transpose = _triangular_solve_transpose


def _perm_matrix(perm, dtype):
    """One-hot rows: ``P[..., i, j] = (perm[..., i] == j)``, so ``P @ x = x[perm]``."""
    pa = aval_of(perm)
    m = pa.shape[-1]
    shape = pa.shape + (m,)
    p = _shape.broadcast_in_dim(perm, shape, tuple(range(pa.ndim)))
    return _ew.convert_element_type(
        _ew.eq(p, _shape.broadcasted_iota(_I32, shape, len(shape) - 1)), dtype)


def _lu_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    lu_, piv, perm = lu_p.bind(x)
    zeros = [_ad.zero_like(piv), _ad.zero_like(perm)]
    if type(t) is _ad.Zero:
        return [lu_, piv, perm], [_ad.Zero(_ad.tangent_aval(aval_of(lu_)))] + zeros
    a = aval_of(lu_)
    batch = a.shape[:-2]
    m, n = a.shape[-2:]
    k = min(m, n)
    dt = a.dtype
    # L (m x m, identity columns beyond k) and U (n x n, identity rows beyond k).
    l_sq = _slice_last2_or_pad(lu_, m, m) if m <= n else _pad_last2(lu_, m, m)
    L = _ew.add(_tril(l_sq, -1), _eye(batch + (m, m), dt))
    if m > k:  # keep only L's first k columns below the diagonal
        L = _ew.select(_ew.lt(_shape.broadcasted_iota(_I32, batch + (m, m), len(batch) + 1),
                              _full(batch + (m, m), k, _I32)),
                       L, _eye(batch + (m, m), dt))
    u_sq = _slice_last2_or_pad(lu_, n, n) if n <= m else _pad_last2(lu_, n, n)
    U = _triu(u_sq)
    if n > k:
        rows = _shape.broadcasted_iota(_I32, batch + (n, n), len(batch))
        U = _ew.select(_ew.lt(rows, _full(batch + (n, n), k, _I32)), U,
                       _eye(batch + (n, n), dt))
    pdA = _mm(_perm_matrix(perm, dt), t)
    y = triangular_solve(L, pdA, left_side=True, lower=True, unit_diagonal=True)
    X = triangular_solve(U, y, left_side=False, lower=False)
    dL = _mm(L, _slice_last2(_tril(X, -1), m, k))
    dU = _mm(_slice_last2(_triu(X), k, n), U)
    # lu packs L below the diagonal (its first k columns) and U on and above it.
    dL_p = _slice_last2_or_pad(dL, m, n) if n <= k else _pad_last2(dL, m, n)
    dU_p = _pad_last2(dU, m, n) if m > k else dU
    dlu = _ew.add(_tril(dL_p, -1), _triu(dU_p))
    return [lu_, piv, perm], [dlu] + zeros


lu_p.jvp = _lu_jvp


def _qr_jvp(primals, tangents, *, full_matrices, pivoting=False):
    (x,), (t,) = primals, tangents
    outs = qr_p.bind(x, full_matrices=full_matrices, pivoting=pivoting)
    q, r = outs[:2]
    zeros = [_ad.zero_like(outs[2])] if pivoting else []
    if type(t) is _ad.Zero:
        return outs, [_ad.Zero(_ad.tangent_aval(aval_of(q))),
                      _ad.Zero(_ad.tangent_aval(aval_of(r)))] + zeros
    if pivoting:  # Q R = X P, with the permutation P locally constant: permute dX's columns
        t = _mm(t, _T(_perm_matrix(outs[2], aval_of(t).dtype)))
    m, n = aval_of(x).shape[-2:]
    if full_matrices and m > n:
        raise NotImplementedError("The derivative of lax.linalg.qr with full_matrices=True is "
                                  f"not defined for m > n (shape {aval_of(x).shape}): Q's "
                                  "trailing columns are not unique; use "
                                  "full_matrices=False.")
    k = min(m, n)
    r1 = _slice_last2(r, k, k)
    t1 = _slice_last2(t, m, k)
    dx_rinv = triangular_solve(r1, t1, left_side=False, lower=False)  # dA R⁻¹
    C = _mm(_H(q), dx_rinv)
    low = _tril(C, -1)
    omega = _ew.sub(low, _H(low))
    if _is_complex(C):
        ca = aval_of(C)
        im_diag = _ew.select(_eye_mask(ca.shape), _ew.sub(C, _to(_ew.real(C), ca.dtype)),
                             _full(ca.shape, 0, ca.dtype))
        omega = _ew.add(omega, im_diag)
    dq = _ew.add(_mm(q, _ew.sub(omega, C)), dx_rinv)
    dr = _mm(_ew.sub(C, omega), r1)
    if n > m:  # A = Q [R1, R2]: dR2 = Qᴴ (dA2 - dQ R2)
        r2 = _slice_cols(r, k, n)
        t2 = _slice_cols(t, k, n)
        dr2 = _mm(_H(q), _ew.sub(t2, _mm(dq, r2)))
        dr = _shape.concatenate([dr, dr2], _ndim(dr) - 1)
    return outs, [dq, dr] + zeros


def _slice_cols(x, lo, hi):
    a = aval_of(x)
    return _shape.slice(x, (0,) * (a.ndim - 1) + (lo,), a.shape[:-1] + (hi,))


qr_p.jvp = _qr_jvp


def _offdiag_inverse_gaps(w, squared=False):
    """``F[..., i, j] = 1 / (w_j - w_i)`` off the diagonal, 0 on it (``w_j² - w_i²`` when
    ``squared``)."""
    wa = aval_of(w)
    n = wa.shape[-1]
    shape = wa.shape + (n,)
    if squared:
        w = _ew.mul(w, w)
    diff = _ew.sub(_col_bcast(w, shape), _row_bcast(w, shape))
    eye = _eye_mask(shape)
    safe = _ew.select(eye, _full(shape, 1, wa.dtype), diff)
    return _ew.select(eye, _full(shape, 0, wa.dtype),
                      _ew.div(_full(shape, 1, wa.dtype), safe))


def _eigh_jvp(primals, tangents, *, lower, sort_eigenvalues):
    (x,), (t,) = primals, tangents
    v, w = eigh_p.bind(x, lower=lower, sort_eigenvalues=sort_eigenvalues)
    if type(t) is _ad.Zero:
        return [v, w], [_ad.Zero(_ad.tangent_aval(aval_of(v))),
                        _ad.Zero(_ad.tangent_aval(aval_of(w)))]
    dt = aval_of(v).dtype
    t = _scale(_ew.add(t, _H(t)), 0.5)  # the primitive reads a Hermitian matrix
    vdv = _mm(_mm(_H(v), t), v)
    dw = _ew.real(_diag(vdv)) if _is_complex(vdv) else _diag(vdv)
    F = _to(_offdiag_inverse_gaps(w), dt)
    dv = _mm(v, _ew.mul(F, vdv))
    return [v, w], [dv, dw]


eigh_p.jvp = _eigh_jvp


def _svd_jvp(primals, tangents, *, full_matrices, compute_uv, algorithm="gesdd"):
    (x,), (t,) = primals, tangents
    outs = svd_p.bind(x, full_matrices=full_matrices, compute_uv=compute_uv,
                      algorithm=algorithm)
    if type(t) is _ad.Zero:
        return outs, [_ad.Zero(_ad.tangent_aval(aval_of(o))) for o in outs]
    xa = aval_of(x)
    m, n = xa.shape[-2:]
    if compute_uv and full_matrices and m != n:
        raise NotImplementedError("The derivative of lax.linalg.svd with full_matrices=True is "
                                  f"not defined for non-square matrices (shape {xa.shape}): "
                                  "the extra singular vectors are not unique; use "
                                  "full_matrices=False.")
    s, u, vt = svd_p.bind(x, full_matrices=False, compute_uv=True, algorithm=algorithm)
    dt = xa.dtype
    v = _H(vt)
    dP = _mm(_mm(_H(u), t), v)
    dPd = _diag(dP)
    ds = _ew.real(dPd) if _is_complex(dP) else dPd
    if not compute_uv:
        return outs, [ds]
    k = min(m, n)
    sq = aval_of(dP).shape
    S = _to(s, dt)
    F = _to(_offdiag_inverse_gaps(s, squared=True), dt)
    dP_S = _ew.mul(dP, _col_bcast(S, sq))      # dP S
    S_dP = _ew.mul(_row_bcast(S, sq), dP)      # S dP
    dPh = _H(dP)
    dPh_S = _ew.mul(dPh, _col_bcast(S, sq))
    S_dPh = _ew.mul(_row_bcast(S, sq), dPh)
    omega_u = _ew.mul(F, _ew.add(dP_S, S_dPh))
    omega_v = _ew.mul(F, _ew.add(S_dP, dPh_S))
    if _is_complex(dP):
        imag = _ew.sub(dPd, _to(_ew.real(dPd), dt))  # i Im diag(dP)
        omega_u = _ew.add(omega_u, _diag_embed(_ew.div(imag, S)))
    du = _mm(u, omega_u)
    dv = _mm(v, omega_v)
    s_inv = _ew.div(_full(aval_of(S).shape, 1, dt), S)
    if m > k:  # (I - U Uᴴ) dA V S⁻¹
        dAv = _mm(t, v)
        proj = _ew.sub(dAv, _mm(u, _mm(_H(u), dAv)))
        du = _ew.add(du, _ew.mul(proj, _col_bcast(s_inv, aval_of(proj).shape)))
    if n > k:  # (I - V Vᴴ) dAᴴ U S⁻¹
        dAu = _mm(_H(t), u)
        proj = _ew.sub(dAu, _mm(v, _mm(vt, dAu)))
        dv = _ew.add(dv, _ew.mul(proj, _col_bcast(s_inv, aval_of(proj).shape)))
    return outs, [ds, du, _H(dv)]


svd_p.jvp = _svd_jvp


def _solve_square(a, b):
    """``a⁻¹ b`` through ``lu`` (``P a = L U``)."""
    lu_, _, perm = lu_p.bind(a)
    y = _mm(_perm_matrix(perm, aval_of(a).dtype), b)
    y = triangular_solve(lu_, y, left_side=True, lower=True, unit_diagonal=True)
    return triangular_solve(lu_, y, left_side=True, lower=False)


def _eigvec_tangent(w, v, da):
    """``(dw, dv)`` for ``A V = V diag(w)`` under LAPACK's normalisation of ``V``.

    With ``P = V⁻¹ dA V``: ``dw = diag(P)`` and ``dv_j = u_j + c_j v_j``, ``U = V (F ∘ P)``,
    ``F_ij = 1 / (w_j - w_i)`` off the diagonal; ``c_j`` keeps ``‖v_j‖ = 1``
    (``Re c_j = -Re(v_jᴴ u_j)``) and the largest component ``v_kj`` real
    (``Im c_j = -Im(u_kj) / v_kj``)."""
    va = aval_of(v)
    dt = va.dtype
    P = _mm(_solve_square(v, da), v)
    dw = _diag(P)
    U = _mm(v, _ew.mul(_offdiag_inverse_gaps(w), P))
    nd = va.ndim
    k = _red.argmax(_ew.abs(v), nd - 2, _I32)  # [..., n]: row of each column's largest entry
    rows = _shape.broadcasted_iota(_I32, va.shape, nd - 2)
    mask = _ew.eq(rows, _shape.broadcast_in_dim(k, va.shape, tuple(range(nd - 2)) + (nd - 1,)))
    zero = _full(va.shape, 0, dt)
    u_k = _red.reduce_sum(_ew.select(mask, U, zero), (nd - 2,))
    v_k = _red.reduce_sum(_ew.select(mask, v, zero), (nd - 2,))
    re_c = _ew.neg(_ew.real(_red.reduce_sum(_ew.mul(_ew.conj(v), U), (nd - 2,))))
    im_c = _ew.neg(_ew.div(_ew.imag(u_k), _ew.real(v_k)))
    c = _ew.complex(re_c, im_c)
    return dw, _ew.add(U, _ew.mul(v, _col_bcast(c, va.shape)))


def _eig_jvp(primals, tangents, *, compute_left_eigenvectors, compute_right_eigenvectors,
             enable_eigvec_derivs=False):
    (x,), (t,) = primals, tangents
    params = dict(compute_left_eigenvectors=compute_left_eigenvectors,
                  compute_right_eigenvectors=compute_right_eigenvectors,
                  enable_eigvec_derivs=enable_eigvec_derivs)
    outs = eig_p.bind(x, **params)
    if type(t) is _ad.Zero:
        return outs, [_ad.Zero(_ad.tangent_aval(aval_of(o))) for o in outs]
    vectors = compute_left_eigenvectors or compute_right_eigenvectors
    if vectors and not enable_eigvec_derivs:
        raise NotImplementedError(
            "Derivatives of non-symmetric eigenvectors are only valid under assumptions on "
            "the input that cannot be checked (distinct eigenvalues, no tie for the largest "
            "component of an eigenvector): pass enable_eigvec_derivs=True to "
            "lax.linalg.eig to opt in, or differentiate only the eigenvalues "
            "(compute_left_eigenvectors=False, compute_right_eigenvectors=False, or "
            "jnp.linalg.eigvals).")
    _, vl, vr = eig_p.bind(x, compute_left_eigenvectors=True, compute_right_eigenvectors=True,
                           enable_eigvec_derivs=enable_eigvec_derivs)
    w = outs[0]
    cdt = aval_of(vr).dtype
    tc = _to(t, cdt)
    if not vectors:
        # dw_i = u_iᴴ dA v_i / (u_iᴴ v_i), u/v the left/right eigenvectors.
        uh = _H(vl)
        num = _diag(_mm(_mm(uh, tc), vr))
        den = _diag(_mm(uh, vr))
        return outs, [_ew.div(num, den)]
    dw, dvr = _eigvec_tangent(w, vr, tc)
    tangents_out = [dw]
    if compute_left_eigenvectors:  # vlᴴ A = W vlᴴ: vl are right eigenvectors of Aᴴ
        tangents_out.append(_eigvec_tangent(_ew.conj(w), vl, _H(tc))[1])
    if compute_right_eigenvectors:
        tangents_out.append(dvr)
    return outs, tangents_out


eig_p.jvp = _eig_jvp


def _not_differentiable(name):
    def rule(primals, tangents, **params):
        prim = {"schur": schur_p, "hessenberg": hessenberg_p,
                "householder_product": householder_product_p}[name]
        outs = prim.bind(*primals, **params)
        if all(type(t) is _ad.Zero for t in tangents):
            return outs, [_ad.Zero(_ad.tangent_aval(aval_of(o))) for o in outs]
        raise NotImplementedError(f"lax.linalg.{name} is not differentiable (as in JAX).")
    return rule


schur_p.jvp = _not_differentiable("schur")
hessenberg_p.jvp = _not_differentiable("hessenberg")
householder_product_p.jvp = _not_differentiable("householder_product")


# ---- batching rules ------------------------------------------------------------------------------
def _front_rule(prim):
    """The operations batch over leading dimensions: move the batch dimension first."""
    def rule(args, dims, **params):
        args = _batch_front(args, dims)
        out = prim.bind(*args, **params)
        if prim.multiple_results:
            return list(out), [0] * len(out)
        return out, 0
    return rule


for _p in (cholesky_p, triangular_solve_p, lu_p, qr_p, eigh_p, svd_p, eig_p, schur_p,
           hessenberg_p, householder_product_p):
    _p.batch = _front_rule(_p)
del _p


# ---- primitives declared beside this module (they use the helpers above) -------------------------
from jaxel.lax.linalg_extra import (cholesky_update, cholesky_update_p,  # noqa: E402
                                    lu_pivots_to_permutation, lu_pivots_to_permutation_p,
                                    ormqr, ormqr_p, symmetric_product, symmetric_product_p)
from jaxel.lax.linalg_tridiagonal import (tridiagonal, tridiagonal_p,  # noqa: E402
                                          tridiagonal_solve, tridiagonal_solve_p)
from jaxel.lax.linalg_qdwh import qdwh  # noqa: E402
