"""Tridiagonal primitives of ``jax.lax.linalg``: ``tridiagonal`` (reduction of a Hermitian
matrix to tridiagonal form) and ``tridiagonal_solve``, each declared once with its abstract
evaluation, lowering, JVP, transpose (``tridiagonal_solve``, linear in ``b``) and batching
rules. Re-exported by ``jaxel.lax.linalg``.

Lowering (CPU): LAPACK kernels through the typed FFI, as JAX does there:

* ``?sytrd``/``?hetrd``: ``a -> (a, d, e, taus, info)``, attribute ``uplo``; ``d`` and ``e``
  real (``[..., n]``, ``[..., n-1]``), ``taus`` ``[..., n-1]``.
* ``?gtsv``: ``(dl, d, du, b) -> (dl, d, du, b, info)``, all aliased; the kernel hands LAPACK
  ``dl + 1``, so ``dl[..., 0]`` (and ``du[..., m-1]``) are ignored, as JAX documents.
* ``tridiagonal_solve_perturbed_ffi`` (``perturb_singular=True``): ``(dl, d, du, b) -> x``,
  pivoted elimination with tiny pivots perturbed (finite results for singular systems).

A failed factorisation (``info != 0``, e.g. a singular system) gives NaNs, as in JAX.

Differentiation: ``tridiagonal`` is not differentiable (as in JAX). ``tridiagonal_solve``
``A x = b``: ``dx = A⁻¹ (db - dA x)``; its transpose in ``b`` solves with ``Aᵀ``, whose
diagonals are ``dlᵀ = [0, du[:-1]]``, ``duᵀ = [dl[1:], 0]``.
"""
from __future__ import annotations

from jaxel.lax import elementwise as _ew
from jaxel.lax import shape_ops as _shape
from jaxel.lax._rules import aval_of
from jaxel.lax.linalg import (_I32, _SUPPORTED, _check_matrix, _custom_call, _emit, _full,
                              _nan_where_failed, _real_dtype, _target)
from jaxel.lax.linalg_extra import _front_rule
from jaxel.tracing.avals import ShapedArray
from jaxel.tracing.core import Primitive, literal
from jaxel.transforms import ad_util as _ad


# ---- tridiagonal -----------------------------------------------------------------------------------
tridiagonal_p = Primitive("tridiagonal", multiple_results=True)


def _tridiagonal_abstract_eval(a, *, lower):
    _check_matrix("tridiagonal", a, square=True)
    n = a.shape[-1]
    if n == 0:
        raise ValueError(f"The input to tridiagonal must be a square matrix. Got shape "
                         f"{a.shape}.")
    batch = a.shape[:-2]
    real = _real_dtype(a.dtype)
    return [ShapedArray(a.shape, a.dtype), ShapedArray(batch + (n,), real),
            ShapedArray(batch + (n - 1,), real), ShapedArray(batch + (n - 1,), a.dtype)]


def _tridiagonal_lowering(ctx, a, *, lower):
    aa = ctx.avals_in[0]
    outs = list(ctx.avals_out)
    info_a = ShapedArray(aa.shape[:-2], _I32)
    base = "hetrd" if aa.dtype.kind == "c" else "sytrd"
    res = _custom_call(ctx, _target(aa.dtype, base), [a], [aa], [True], outs + [info_a],
                       [True, False, False, False, False], {"uplo": "L" if lower else "U"},
                       aliases=[(0, 0)])

    def post(*args):
        ok = _ew.eq(args[-1], _full(info_a.shape, 0, _I32))
        return [_nan_where_failed(ok, x) for x in args[:-1]]
    return _emit(ctx, post, outs + [info_a], list(res))


def _tridiagonal_jvp(primals, tangents, *, lower):
    outs = tridiagonal_p.bind(*primals, lower=lower)
    if all(type(t) is _ad.Zero for t in tangents):
        return outs, [_ad.Zero(_ad.tangent_aval(aval_of(o))) for o in outs]
    raise NotImplementedError("lax.linalg.tridiagonal is not differentiable (as in JAX); "
                              "eigh gives differentiable eigenvalues.")


tridiagonal_p.abstract_eval = _tridiagonal_abstract_eval
tridiagonal_p.lowering = _tridiagonal_lowering
tridiagonal_p.jvp = _tridiagonal_jvp
tridiagonal_p.batch = _front_rule(tridiagonal_p)


def tridiagonal(a, *, lower: bool = True):
    """Reduce Hermitian (real symmetric) matrices ``[..., n, n]`` to tridiagonal form
    (``jax.lax.linalg.tridiagonal``; LAPACK ``sytrd``/``hetrd``), reading only the triangle
    named by ``lower``.

    Returns ``(a, d, e, taus)``: ``d`` the diagonal and ``e`` the first sub- (``lower``) or
    super-diagonal of the tridiagonal matrix (both real), and in ``a`` that tridiagonal band
    with the Householder vectors beyond it; ``taus`` ``[..., n-1]`` are the reflectors' scalar
    factors. Not differentiable (as in JAX).

    Example::

        a_packed, d, e, taus = lax.linalg.tridiagonal(a + a.T)
    """
    return tuple(tridiagonal_p.bind(a, lower=bool(lower)))


# ---- tridiagonal_solve -----------------------------------------------------------------------------
tridiagonal_solve_p = Primitive("tridiagonal_solve")


def _tridiagonal_solve_abstract_eval(dl, d, du, b, *, perturb_singular):
    for x in (dl, d, du, b):
        if x.dtype not in _SUPPORTED:
            raise TypeError("lax.linalg.tridiagonal_solve supports float32, float64, "
                            f"complex64 and complex128 operands, got dtype {x.dtype.name}.")
    if not (dl.dtype == d.dtype == du.dtype == b.dtype):
        raise TypeError("lax.linalg.tridiagonal_solve needs dl, d, du and b of one dtype, got "
                        f"{dl.dtype.name}, {d.dtype.name}, {du.dtype.name} and "
                        f"{b.dtype.name}.")
    if dl.shape != d.shape or dl.shape != du.shape:
        raise TypeError("tridiagonal_solve requires that all diagonal arguments have the same "
                        f"shape; got {dl.shape}, {d.shape} and {du.shape}.")
    if b.ndim < 2 or dl.shape != b.shape[:-1]:
        raise TypeError("tridiagonal_solve requires that the leading ndim-1 dimensions of b "
                        f"equal the dimensions of the diagonal arguments; got b of shape "
                        f"{b.shape} and diagonals of shape {dl.shape}.")
    return ShapedArray(b.shape, b.dtype)


def _tridiagonal_solve_lowering(ctx, dl, d, du, b, *, perturb_singular):
    da, ba = ctx.avals_in[0], ctx.avals_in[3]
    if 0 in ba.shape:
        return _emit(ctx, lambda b: [b], [ba], [b])[0]
    avals = list(ctx.avals_in)
    mat = [False, False, False, True]
    if perturb_singular:
        return _custom_call(ctx, "tridiagonal_solve_perturbed_ffi", [dl, d, du, b], avals,
                            mat, [ba], [True])[0]
    info_a = ShapedArray(ba.shape[:-2], _I32)
    *_, x, info = _custom_call(ctx, _target(ba.dtype, "gtsv"), [dl, d, du, b], avals, mat,
                               avals + [info_a], mat + [False],
                               aliases=[(0, 0), (1, 1), (2, 2), (3, 3)])
    return _emit(ctx, lambda x, info: [_nan_where_failed(
        _ew.eq(info, _full(info_a.shape, 0, _I32)), x)], [ba, info_a], [x, info])[0]


def _shift(v, up):
    """``v`` moved one place along its last axis (``up``: ``[v[1:], 0]``; else
    ``[0, v[:-1]]``)."""
    a = aval_of(v)
    m = a.shape[-1]
    zero = literal(0, a.dtype, False)
    cfg = [(0, 0, 0)] * (a.ndim - 1)
    if up:
        part = _shape.slice(v, (0,) * (a.ndim - 1) + (1,), a.shape)
        return _shape.pad(part, zero, cfg + [(0, 1, 0)])
    part = _shape.slice(v, (0,) * a.ndim, a.shape[:-1] + (m - 1,))
    return _shape.pad(part, zero, cfg + [(1, 0, 0)])


def _tridiagonal_matmul(dl, d, du, x):
    """``A x`` for the tridiagonal ``A`` with diagonals ``dl``, ``d``, ``du`` (``dl[0]`` and
    ``du[-1]`` unused) and ``x`` ``[..., m, k]``."""
    xa = aval_of(x)
    nd = xa.ndim
    bd = tuple(range(nd - 1))

    def col(v):
        return _shape.broadcast_in_dim(v, xa.shape, bd)
    m = xa.shape[-2]
    zero = literal(0, xa.dtype, False)
    cfg = [(0, 0, 0)] * (nd - 2)
    # x shifted down (row i holds x[i-1]) and up (row i holds x[i+1]).
    down = _shape.pad(_shape.slice(x, (0,) * nd, xa.shape[:-2] + (m - 1, xa.shape[-1])), zero,
                      cfg + [(1, 0, 0), (0, 0, 0)])
    up = _shape.pad(_shape.slice(x, (0,) * (nd - 2) + (1, 0), xa.shape), zero,
                    cfg + [(0, 1, 0), (0, 0, 0)])
    dl0 = _shift(_shift(dl, True), False)  # dl with dl[0] zeroed
    du0 = _shift(_shift(du, False), True)  # du with du[-1] zeroed
    return _ew.add(_ew.mul(col(d), x), _ew.add(_ew.mul(col(dl0), down), _ew.mul(col(du0), up)))


def _tridiagonal_solve_jvp(primals, tangents, *, perturb_singular):
    dl, d, du, b = primals
    tdl, td, tdu, tb = tangents
    x = tridiagonal_solve_p.bind(dl, d, du, b, perturb_singular=perturb_singular)
    if all(type(t) is _ad.Zero for t in tangents):
        return x, _ad.Zero(_ad.tangent_aval(aval_of(x)))
    rhs = None if type(tb) is _ad.Zero else _ad.instantiate(tb)
    if any(type(t) is not _ad.Zero for t in (tdl, td, tdu)):
        z = _full(aval_of(d).shape, 0, aval_of(d).dtype)
        diags = [z if type(t) is _ad.Zero else t for t in (tdl, td, tdu)]
        dax = _tridiagonal_matmul(*diags, x)
        rhs = _ew.neg(dax) if rhs is None else _ew.sub(rhs, dax)
    return x, tridiagonal_solve_p.bind(dl, d, du, rhs, perturb_singular=perturb_singular)


def _tridiagonal_solve_transpose(ct, dl, d, du, b, *, perturb_singular):
    if any(_ad.is_undefined(v) for v in (dl, d, du)):
        raise NotImplementedError("tridiagonal_solve is not linear in its diagonals; this "
                                  "indicates a wrong JVP rule upstream.")
    if type(ct) is _ad.Zero:
        return [None, None, None, None]
    # Aᵀ has sub-diagonal du (shifted down one place) and super-diagonal dl (shifted up).
    ct_b = tridiagonal_solve_p.bind(_shift(du, False), d, _shift(dl, True), ct,
                                    perturb_singular=perturb_singular)
    return [None, None, None, ct_b]


tridiagonal_solve_p.abstract_eval = _tridiagonal_solve_abstract_eval
tridiagonal_solve_p.lowering = _tridiagonal_solve_lowering
tridiagonal_solve_p.jvp = _tridiagonal_solve_jvp
tridiagonal_solve_p.transpose = _tridiagonal_solve_transpose
tridiagonal_solve_p.batch = _front_rule(tridiagonal_solve_p)


def tridiagonal_solve(dl, d, du, b, *, perturb_singular: bool = False):
    """Solve the tridiagonal systems ``A x = b`` (``jax.lax.linalg.tridiagonal_solve``; LAPACK
    ``gtsv``).

    ``dl``, ``d`` and ``du`` (``[..., m]``) are the sub-, main and super-diagonals:
    ``dl[i] = A[i, i-1]`` (``dl[0]`` unused), ``d[i] = A[i, i]``, ``du[i] = A[i, i+1]``
    (``du[m-1]`` unused); ``b`` is ``[..., m, k]``. A singular system gives NaNs unless
    ``perturb_singular``, which perturbs tiny pivots (``eps * max|U|``) to return a finite
    result. Differentiable in all operands; linear in ``b``.

    Example::

        x = lax.linalg.tridiagonal_solve(dl, d, du, b)
    """
    return tridiagonal_solve_p.bind(dl, d, du, b, perturb_singular=bool(perturb_singular))


__all__ = ["tridiagonal", "tridiagonal_p", "tridiagonal_solve", "tridiagonal_solve_p"]
