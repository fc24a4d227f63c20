"""Reference cases for the reduction, cumulative, sort and top-k primitives
(jaxel/lax/reductions.py).

References are NumPy reductions with the primitive's identity passed as ``initial`` (so empty
axes are checked too), NumPy's stable sort, and a per-row Python ranking for ``top_k``.
"""
from __future__ import annotations

import numpy as np

from jaxel import lax
from tests.lax.case import Arg, Case, bf16

F32, I32, I8, U8, B = (np.dtype(np.float32), np.dtype(np.int32), np.dtype(np.int8),
                       np.dtype(np.uint8), np.dtype(bool))
C64 = np.dtype(np.complex64)
NAN = np.nan
# Inputs with NaN and signed zeros, passed as-is (the Arg generator never makes them).
F_SPECIAL = np.array([[1.0, NAN, -0.0, 3.0, NAN], [0.0, -2.0, 5.0, 5.0, -np.inf]], np.float32)


def _wide(x):
    """float64/complex128 copy of an inexact input (references are computed wide)."""
    if x.dtype.kind == "c":
        return x.astype(np.complex128)
    if x.dtype.kind in "fV" or x.dtype == bf16:
        return x.astype(np.float64)
    return x


def _identity(op, dt):
    dt = np.dtype(dt)
    if op == "max":
        return False if dt == B else (np.iinfo(dt).min if dt.kind in "iu" else -np.inf)
    return True if dt == B else (np.iinfo(dt).max if dt.kind in "iu" else np.inf)


# ---- monoid reductions --------------------------------------------------------------------------
# (shape, axes) pairs: several axes, all axes, a scalar, an empty reduced axis, negative axis.
REDUCE_SHAPES = [((2, 3), (1,)), ((2, 3, 4), (0, 2)), ((), ()), ((0, 3), (0,)), ((2, 3), (-2,))]


def _np_reduce(ufunc, dt, axes, initial=None):
    def ref(x):
        axis = tuple(a % x.ndim for a in axes) if x.ndim else ()
        w = _wide(x)
        kw = {} if initial is None else {"initial": initial}
        out = ufunc.reduce(w, axis=axis, **kw) if axis else w
        return np.asarray(out).astype(dt)
    return ref


def _lean(shapes, i, keep):
    """Every shape for the first dtype; only the entries ``keep`` for the others (each case
    costs a compile, and shape handling does not depend on the dtype)."""
    return shapes if i == 0 else [shapes[k] for k in keep]


def reduce_cases(name, fn, ufunc, dtypes, initial=None, shapes=REDUCE_SHAPES, domain="normal"):
    return [Case(f"{name}-{np.dtype(dt).name}-{shape}-{axes}",
                 lambda x, axes=axes: fn(x, axes),
                 _np_reduce(ufunc, dt, axes, None if initial is None else initial(dt)),
                 [Arg(shape, dt, domain)])
            for i, dt in enumerate(dtypes) for shape, axes in _lean(shapes, i, (1, 3))]


def _np_complex_extreme(op, axes):
    """Lexicographic (real, imag) max/min of complex values, as lax.reduce_max/min order them."""
    def ref(x):
        x = np.moveaxis(x, axes, range(len(axes)))
        flat = x.reshape((-1,) + x.shape[len(axes):])
        pick = max if op == "max" else min
        out = [pick(col, key=lambda c: (c.real, c.imag)) for col in flat.reshape(len(flat), -1).T]
        return np.asarray(out, x.dtype).reshape(x.shape[len(axes):])
    return ref


def _nan_case(name, fn, ufunc, axes):
    return Case(f"{name}-nan-{axes}", lambda x: fn(x, axes),
                lambda x: ufunc.reduce(x, axis=axes), [F_SPECIAL])


# ---- argmax / argmin ----------------------------------------------------------------------------
def arg_cases(name, fn, np_fn):
    cases = [Case(f"{name}-{np.dtype(dt).name}-{shape}-{axis}",
                  lambda x, axis=axis: fn(x, axis, np.int32),
                  lambda x, axis=axis: np_fn(x, axis=axis).astype(np.int32),
                  [Arg(shape, dt, "small_int" if np.dtype(dt).kind in "iu" else "normal")])
             for dt in (F32, bf16, I8, U8, B) for shape, axis in (((2, 5), 1), ((4,), 0))]
    # NaN is the extreme (first NaN wins); ties go to the first index; uint8 index dtype.
    cases.append(Case(f"{name}-nan", lambda x: fn(x, 1, np.int32),
                      lambda x: np_fn(x, axis=1).astype(np.int32), [F_SPECIAL]))
    cases.append(Case(f"{name}-ties-uint8-index", lambda x: fn(x, 0, np.uint8),
                      lambda x: np_fn(x, axis=0).astype(np.uint8),
                      [np.array([[3, 1], [3, 1], [0, 1]], np.int32)]))
    cases.append(Case(f"{name}-empty-other-dim", lambda x: fn(x, 1, np.int32),
                      lambda x: np.zeros((0,), np.int32), [Arg((0, 3), F32)]))
    return cases


# ---- cumulative reductions ----------------------------------------------------------------------
def _np_cumulative(accumulate, axis, reverse, dt):
    def ref(x):
        w = _wide(x)
        if w.shape[axis] == 0:
            return x
        if reverse:
            w = np.flip(w, axis)
        out = accumulate(w, axis=axis)
        if reverse:
            out = np.flip(out, axis)
        return np.asarray(out).astype(dt)
    return ref


CUM_SHAPES = [((5,), 0, False), ((2, 4), 1, False), ((2, 4), 0, True), ((3, 0), 1, False),
              ((0,), 0, True)]


def cum_cases(name, fn, accumulate, dtypes, domain="normal", shapes=CUM_SHAPES, **kw):
    return [Case(f"{name}-{np.dtype(dt).name}-{shape}-{axis}-{'rev' if rev else 'fwd'}",
                 lambda x, axis=axis, rev=rev: fn(x, axis, rev),
                 _np_cumulative(accumulate, axis, rev, dt), [Arg(shape, dt, domain)], **kw)
            for i, dt in enumerate(dtypes) for shape, axis, rev in _lean(shapes, i, (1, 2))]


def _logaddexp_accumulate(x, axis):
    return np.logaddexp.accumulate(x, axis=axis)


# ---- sort and top_k -----------------------------------------------------------------------------
def _np_sort(axis):
    return lambda x: np.sort(x, axis=axis, kind="stable")


def sort_cases():
    cases = [Case(f"sort-{np.dtype(dt).name}-{shape}-{dim}",
                  lambda x, dim=dim: lax.sort(x, dim), _np_sort(dim), [Arg(shape, dt, dom)])
             for dt, dom in ((F32, "normal"), (bf16, "normal"), (I32, "small_int"),
                             (U8, "small_int"), (B, "bool"), (C64, "normal"))
             for shape, dim in (((6,), -1), ((3, 4), 0))]
    cases += [
        Case("sort-nan-signed-zero", lambda x: lax.sort(x, 1), _np_sort(1), [F_SPECIAL]),
        Case("sort-empty", lambda x: lax.sort(x, 0), _np_sort(0), [Arg((0, 2), F32)]),
        Case("sort-unstable-ints", lambda x: lax.sort(x, 0, is_stable=False), _np_sort(0),
             [Arg((7,), I32, "small_int")]),
        # Two keys, lexicographic, carrying a third operand along.
        Case("sort-multi-two-keys", lambda a, b, c: lax.sort((a, b, c), 0, num_keys=2),
             _np_lexsort_ref, [np.array([2, 1, 2, 1, 0], np.int32),
                               np.array([0.5, 3.0, -1.0, 2.0, 9.0], np.float32),
                               np.arange(5, dtype=np.int32)]),
        Case("sort-key-val", lambda k, v: lax.sort_key_val(k, v),
             lambda k, v: (np.sort(k, -1, kind="stable"),
                           np.take_along_axis(v, np.argsort(k, -1, kind="stable"), -1)),
             [Arg((2, 5), F32), Arg((2, 5), I32)]),
    ]
    return cases


def _np_lexsort_ref(a, b, c):
    order = np.lexsort((np.arange(len(a)), b, a))  # last key is primary
    return a[order], b[order], c[order]


def _np_top_k(k):
    def ref(x):
        rows = x.reshape(-1, x.shape[-1])
        vals, inds = [], []
        for r in rows:
            w = _wide(r)
            # NaN (positive sign, as in these inputs) ranks first; ties keep index order.
            order = sorted(range(len(r)), key=lambda i: (not np.isnan(w[i]),
                                                         -float(w[i]) if not np.isnan(w[i])
                                                         else 0.0, i))[:k]
            vals.append(r[order])
            inds.append(order)
        shape = x.shape[:-1] + (k,)
        return (np.asarray(vals, x.dtype).reshape(shape),
                np.asarray(inds, np.int32).reshape(shape))
    return ref


def top_k_cases():
    cases = [Case(f"top_k-{np.dtype(dt).name}-{shape}-{k}", lambda x, k=k: lax.top_k(x, k),
                  _np_top_k(k), [Arg(shape, dt, dom)])
             for dt, dom in ((F32, "normal"), (bf16, "normal"), (I32, "small_int"),
                             (U8, "small_int"), (B, "bool"))
             for shape, k in (((6,), 3), ((2, 5), 5))]
    cases += [
        Case("top_k-nan-ties", lambda x: lax.top_k(x, 4),
             _np_top_k(4), [np.array([[1.0, NAN, 3.0, 3.0, -np.inf], [0, -1, 2, 2, 1]],
                                     np.float32)]),
        Case("top_k-k0", lambda x: lax.top_k(x, 0), _np_top_k(0), [Arg((2, 3), F32)]),
        Case("top_k-axis0", lambda x: lax.top_k(x, 2, axis=0),
             lambda x: tuple(np.swapaxes(o, 0, 1) for o in _np_top_k(2)(np.swapaxes(x, 0, 1))),
             [Arg((4, 3), F32)]),
    ]
    return cases


# ---- inputs at the edges of the differentiation rules --------------------------------------
# Ties (the tangent is shared by tied extremes), zeros (products without division), several
# sort keys and extreme log-space values; each in float32 and, under x64, float64. Ties are
# two-way only: central differences at a tie of two give the mean of their tangents, which is
# the rules' choice (for more, they give the mean of the largest and smallest tangent).
F64 = np.dtype(np.float64)
TIES = np.array([[1.0, 3.0, 3.0, -2.0], [2.0, 2.0, -1.0, 0.5], [0.5, -1.0, 4.0, -1.0]])
ZEROS = np.array([[1.5, 0.0, 2.0, -3.0], [0.0, 0.0, 1.0, 2.0], [0.5, -1.0, 4.0, 0.0]])


def _both(name, fn, ref, inputs):
    """The case in float32 and (x64) float64; ``inputs`` are float64 NumPy arrays."""
    return [Case(f"{name}-float32", fn, ref, [x.astype(F32) for x in inputs]),
            Case(f"{name}-float64", fn, ref, [x.astype(F64) for x in inputs], x64=True)]


def _np_cumulative_2d(accumulate, axis, reverse):
    """NumPy cumulative reduction computed in the input's own dtype."""
    def ref(x):
        w = np.flip(x, axis) if reverse else x
        out = accumulate(w, axis=axis)
        return np.flip(out, axis) if reverse else out
    return ref


def _np_multi_sort(num_keys):
    def ref(*ops):
        keys = [ops[k] for k in reversed(range(num_keys))]  # lexsort: last key is primary
        order = np.lexsort([np.arange(len(ops[0]))] + keys)
        return tuple(o[order] for o in ops)
    return ref


def edge_cases():
    cases = {
        "reduce_prod": _both("reduce_prod-zeros-(1,)", lambda x: lax.reduce_prod(x, (1,)),
                             lambda x: np.prod(x, axis=1), [ZEROS]) +
        _both("reduce_prod-zeros-(0,1)", lambda x: lax.reduce_prod(x, (0, 1)),
              lambda x: np.prod(x), [np.array([[1.5, 0.0], [2.0, -3.0]])]) +
        _both("reduce_prod-3d-(0,2)", lambda x: lax.reduce_prod(x, (0, 2)),
              lambda x: np.prod(x, axis=(0, 2)), [ZEROS.reshape(2, 3, 2) + 0.25]),
        "reduce_max": _both("reduce_max-ties", lambda x: lax.reduce_max(x, (1,)),
                            lambda x: np.max(x, axis=1), [TIES]) +
        _both("reduce_max-ties-all", lambda x: lax.reduce_max(x, (0, 1)),
              lambda x: np.max(x), [TIES[:2]]),
        "reduce_min": _both("reduce_min-ties", lambda x: lax.reduce_min(x, (1,)),
                            lambda x: np.min(x, axis=1), [TIES]),
        "cumprod": _both("cumprod-zeros", lambda x: lax.cumprod(x, 1),
                         _np_cumulative_2d(np.cumprod, 1, False), [ZEROS]) +
        _both("cumprod-zeros-rev", lambda x: lax.cumprod(x, 1, True),
              _np_cumulative_2d(np.cumprod, 1, True), [ZEROS]) +
        _both("cumprod-long", lambda x: lax.cumprod(x, 0),
              _np_cumulative_2d(np.cumprod, 0, False),
              [np.array([1.1, -0.9, 1.2, 0.0, 0.8, 1.3, -1.1, 0.9, 1.05, 0.7, 1.2])]),
        "cummax": _both("cummax-ties", lambda x: lax.cummax(x, 1),
                        _np_cumulative_2d(np.maximum.accumulate, 1, False), [TIES]) +
        _both("cummax-ties-rev", lambda x: lax.cummax(x, 1, True),
              _np_cumulative_2d(np.maximum.accumulate, 1, True), [TIES]),
        "cummin": _both("cummin-ties", lambda x: lax.cummin(x, 1),
                        _np_cumulative_2d(np.minimum.accumulate, 1, False), [TIES]),
        "cumlogsumexp": _both("cumlogsumexp-wide-range", lambda x: lax.cumlogsumexp(x, 1),
                              _np_cumulative_2d(np.logaddexp.accumulate, 1, False),
                              [np.array([[-80.0, 0.0, 60.0, -3.0, 61.0],
                                         [5.0, -70.0, -75.0, 4.0, 90.0]])]) +
        _both("cumlogsumexp-neg-inf-rev", lambda x: lax.cumlogsumexp(x, 0, True),
              _np_cumulative_2d(np.logaddexp.accumulate, 0, True),
              [np.array([0.5, -1.0, 2.0, -np.inf])]),
        "sort": _both("sort-two-float-keys-carry",
                      lambda a, b, c: lax.sort((a, b, c), 0, num_keys=2), _np_multi_sort(2),
                      [np.array([0.3, -1.2, 2.5, 0.7, -0.4]),
                       np.array([1.0, -2.0, 0.5, 3.0, 2.0]),
                       np.array([10.0, 20.0, 30.0, 40.0, 50.0])]) +
        [Case("sort-int-key-ties-two-keys-float64",
              lambda a, b, c: lax.sort((a, b, c), 0, num_keys=2), _np_multi_sort(2),
              [np.array([2, 1, 2, 1, 0], np.int32), np.array([0.5, 3.0, -1.0, 2.0, 9.0]),
               np.array([1.5, -2.5, 0.25, 4.0, 7.0])], x64=True)] +
        _both("sort-2d-dim1", lambda x: lax.sort(x, 1), lambda x: np.sort(x, 1, kind="stable"),
              [ZEROS + np.arange(12).reshape(3, 4) * 0.1]),
        "top_k": _both("top_k-2d", lambda x: lax.top_k(x, 2),
                       _np_top_k(2), [ZEROS + np.arange(12).reshape(3, 4) * 0.1]),
    }
    return cases


REAL_ORDERED = [F32, bf16, I8, U8, B]

CASES = {
    "reduce_sum": reduce_cases("reduce_sum", lax.reduce_sum, np.add, [F32, bf16, I32, U8, C64]),
    "reduce_prod": reduce_cases("reduce_prod", lax.reduce_prod, np.multiply, [F32, I32, C64],
                                domain="small_int"),
    "reduce_max": reduce_cases("reduce_max", lax.reduce_max, np.maximum, REAL_ORDERED,
                               initial=lambda dt: _identity("max", dt)) +
    [_nan_case("reduce_max", lax.reduce_max, np.maximum, (1,)),
     Case("reduce_max-complex64", lambda x: lax.reduce_max(x, (0,)),
          _np_complex_extreme("max", (0,)),
          [np.array([[1 + 5j, 2 - 1j], [2 + 0j, 2 - 3j], [1 + 9j, -1 + 0j]], np.complex64)])],
    "reduce_min": reduce_cases("reduce_min", lax.reduce_min, np.minimum, REAL_ORDERED,
                               initial=lambda dt: _identity("min", dt)) +
    [_nan_case("reduce_min", lax.reduce_min, np.minimum, (0,)),
     Case("reduce_min-complex64", lambda x: lax.reduce_min(x, (0,)),
          _np_complex_extreme("min", (0,)),
          [np.array([[1 + 5j, 2 - 1j], [1 + 0j, 2 - 3j], [1 + 9j, -1 + 0j]], np.complex64)])],
    "reduce_and": reduce_cases("reduce_and", lax.reduce_and, np.bitwise_and, [B, I32, U8],
                               domain="any_int"),
    "reduce_or": reduce_cases("reduce_or", lax.reduce_or, np.bitwise_or, [B, I32, U8],
                              domain="any_int"),
    "reduce_xor": reduce_cases("reduce_xor", lax.reduce_xor, np.bitwise_xor, [B, I32, U8],
                               domain="any_int"),
    "argmax": arg_cases("argmax", lax.argmax, np.argmax),
    "argmin": arg_cases("argmin", lax.argmin, np.argmin),
    "cumsum": cum_cases("cumsum", lax.cumsum, np.cumsum, [F32, bf16, I32, U8, C64]),
    "cumprod": cum_cases("cumprod", lax.cumprod, np.cumprod, [F32, I32], domain="small_int"),
    "cummax": cum_cases("cummax", lax.cummax, np.maximum.accumulate, [F32, bf16, I8, U8]) +
    [Case("cummax-nan", lambda x: lax.cummax(x, 1), lambda x: np.maximum.accumulate(x, 1),
          [F_SPECIAL])],
    "cummin": cum_cases("cummin", lax.cummin, np.minimum.accumulate, [F32, I8, U8]) +
    [Case("cummin-nan-rev", lambda x: lax.cummin(x, 1, True),
          lambda x: np.flip(np.minimum.accumulate(np.flip(x, 1), 1), 1), [F_SPECIAL])],
    "cumlogsumexp": cum_cases("cumlogsumexp", lax.cumlogsumexp, _logaddexp_accumulate,
                              [F32, bf16], exact_jit=False) +
    [Case("cumlogsumexp-inf", lambda x: lax.cumlogsumexp(x, 0),
          lambda x: np.logaddexp.accumulate(x.astype(np.float64), 0).astype(np.float32),
          [np.array([-np.inf, -np.inf, 0.0, np.inf, np.inf, 1.0], np.float32)])],
    "sort": sort_cases(),
    "top_k": top_k_cases(),
}
for _name, _extra in edge_cases().items():
    CASES[_name] = CASES[_name] + _extra
