"""Reference cases for the slicing primitives (jaxel/lax/slicing.py).

The references are loop implementations of XLA's gather/scatter semantics written from the
StableHLO specification, so each dimension-number configuration is checked against an
independent reading of the spec. Index operands are passed as arguments, so under ``jit``
they are traced.
"""
from __future__ import annotations

import dataclasses
import itertools

import numpy as np

from jaxel import lax
from tests.lax.case import Arg, Case, bf16

F32, I32, U8, B = np.dtype(np.float32), np.dtype(np.int32), np.dtype(np.uint8), np.dtype(bool)
C64 = np.dtype(np.complex64)
GDN = lax.GatherDimensionNumbers
SDN = lax.ScatterDimensionNumbers
CLIP, FILL = lax.GatherScatterMode.CLIP, lax.GatherScatterMode.FILL_OR_DROP


def _i32(v):
    return np.asarray(v, np.int32)


@dataclasses.dataclass
class _Idx(Arg):
    """Integer indices drawn uniformly from ``[lo, hi]`` (fresh per example under vmap, so
    batched indices differ between examples and some fall out of bounds)."""
    lo: int = 0
    hi: int = 0

    def make(self, rng):
        return rng.integers(self.lo, self.hi + 1, self.shape).astype(self.dtype)


@dataclasses.dataclass
class _Perm(Arg):
    """Distinct indices into ``range(n)`` (of ``shape``), for ``unique_indices`` scatters."""
    n: int = 1

    def make(self, rng):
        k = int(np.prod(self.shape))
        return rng.permutation(self.n)[:k].reshape(self.shape).astype(self.dtype)


# ---- NumPy references ------------------------------------------------------------------------
def _np_dynamic_starts(shape, starts, sizes):
    out = []
    for d, s, z in zip(shape, starts, sizes):
        s = int(s)
        s = s + d if s < 0 else s
        out.append(min(max(s, 0), d - z))
    return out


def _np_dynamic_slice(x, starts, sizes):
    st = _np_dynamic_starts(x.shape, starts, sizes)
    return x[tuple(slice(s, s + z) for s, z in zip(st, sizes))]


def _np_dynamic_update_slice(x, u, starts):
    st = _np_dynamic_starts(x.shape, starts, u.shape)
    out = x.copy()
    out[tuple(slice(s, s + z) for s, z in zip(st, u.shape))] = u
    return out


def _default_fill(dt):
    if dt.kind in "fcV":
        return np.nan
    if dt.kind == "i":
        return np.iinfo(dt).min
    if dt.kind == "u":
        return np.iinfo(dt).max
    return True


def _np_gather(x, idx, dn, sizes, mode=None, fill=None):
    """XLA gather, one index vector at a time (index vectors along the last axis)."""
    batch_shape = idx.shape[:-1]
    kept = [d for d in range(x.ndim)
            if d not in dn.collapsed_slice_dims and d not in dn.operand_batching_dims]
    out_rank = len(batch_shape) + len(kept)
    batch_pos = [i for i in range(out_rank) if i not in dn.offset_dims]
    out_shape = [0] * out_rank
    for p, n in zip(batch_pos, batch_shape):
        out_shape[p] = n
    for p, d in zip(dn.offset_dims, kept):
        out_shape[p] = sizes[d]
    out = np.zeros(out_shape, x.dtype)
    for b in np.ndindex(*batch_shape):
        start = [0] * x.ndim
        for k, d in enumerate(dn.start_index_map):
            start[d] = int(idx[b + (k,)])
        for od, ib in zip(dn.operand_batching_dims, dn.start_indices_batching_dims):
            start[od] = b[ib]
        oob = any(not 0 <= start[d] <= x.shape[d] - sizes[d] for d in dn.start_index_map)
        start = [min(max(s, 0), n - z) for s, n, z in zip(start, x.shape, sizes)]
        window = x[tuple(slice(s, s + z) for s, z in zip(start, sizes))]
        window = window.reshape([sizes[d] for d in kept])
        if mode == FILL and oob:
            window = np.full(window.shape, _default_fill(x.dtype) if fill is None else fill,
                             x.dtype)
        where = [slice(None)] * out_rank
        for p, i in zip(batch_pos, b):
            where[p] = i
        out[tuple(where)] = window
    return out


def _np_scatter(x, idx, upd, dn, combine, mode=None):
    """XLA scatter, one update window at a time (in index order)."""
    out = x.copy()
    windowed = [d for d in range(x.ndim)
                if d not in dn.inserted_window_dims and d not in dn.operand_batching_dims]
    sizes = [1] * x.ndim
    for d, u in zip(windowed, dn.update_window_dims):
        sizes[d] = upd.shape[u]
    scatter_pos = [i for i in range(upd.ndim) if i not in dn.update_window_dims]
    for b in np.ndindex(*idx.shape[:-1]):
        start = [0] * x.ndim
        for k, d in enumerate(dn.scatter_dims_to_operand_dims):
            start[d] = int(idx[b + (k,)])
        for od, ib in zip(dn.operand_batching_dims, dn.scatter_indices_batching_dims):
            start[od] = b[ib]
        if mode == CLIP:
            start = [min(max(s, 0), n - z) for s, n, z in zip(start, x.shape, sizes)]
        elif any(not 0 <= s <= n - z for s, n, z in zip(start, x.shape, sizes)):
            continue  # XLA skips a window that is not fully in bounds
        where = [slice(None)] * upd.ndim
        for p, i in zip(scatter_pos, b):
            where[p] = i
        window = upd[tuple(where)].reshape(sizes)
        region = tuple(slice(s, s + z) for s, z in zip(start, sizes))
        out[region] = combine(out[region], window)
    return out


_COMBINE = {
    "scatter": (lax.scatter, lambda old, new: new),
    "scatter-add": (lax.scatter_add, lambda old, new: old + new),
    "scatter-mul": (lax.scatter_mul, lambda old, new: old * new),
    "scatter-min": (lax.scatter_min, np.minimum),
    "scatter-max": (lax.scatter_max, np.maximum),
}


# ---- dimension-number configurations -----------------------------------------------------------
# (label, operand shape, indices, dimension numbers, slice sizes)
_GATHERS = [
    ("rows", (5, 3), _i32([[0], [4], [2], [6], [-1]]), GDN((1,), (0,), (0,)), (1, 3)),
    ("points", (4, 5), _i32([[[0, 1], [3, 4]], [[2, 2], [5, -3]]]), GDN((), (0, 1), (0, 1)),
     (1, 1)),
    ("swapped-map", (4, 5), _i32([[1, 3], [4, 0], [0, 9]]), GDN((), (0, 1), (1, 0)), (1, 1)),
    ("windows", (6,), _i32([[4], [1], [-2]]), GDN((1,), (), (0,)), (3,)),
    ("window-2d", (4, 5), _i32([[1], [3]]), GDN((0, 2), (), (1,)), (2, 3)),
    ("batching", (2, 5), _i32([[[1], [4], [7]], [[0], [2], [3]]]),
     GDN((), (1,), (1,), operand_batching_dims=(0,), start_indices_batching_dims=(0,)), (1, 1)),
    ("empty-batch", (3, 4), np.zeros((0, 1), np.int32), GDN((1,), (0,), (0,)), (1, 4)),
]

_SCATTERS = [
    ("rows", (5, 3), _i32([[0], [4], [2]]), (3, 3), SDN((1,), (0,), (0,))),
    ("points-dup", (4, 4), _i32([[0, 1], [3, 3], [0, 1], [2, 0], [3, 3], [1, 2]]), (6,),
     SDN((), (0, 1), (0, 1))),
    ("windows-oob", (6,), _i32([[4], [1], [-1]]), (3, 3), SDN((1,), (), (0,))),
    ("oob-rows", (4, 2), _i32([[1], [7], [-3], [3]]), (4, 2), SDN((1,), (0,), (0,))),
    ("batching", (2, 5), _i32([[[1], [4], [3]], [[0], [2], [1]]]), (2, 3),
     SDN((), (1,), (1,), operand_batching_dims=(0,), scatter_indices_batching_dims=(0,))),
]


def _gather_cases():
    cases = []
    for (label, shape, idx, dn, sizes), dt in itertools.product(_GATHERS, [F32, I32, bf16]):
        for mode in (None, CLIP, FILL):
            if (dt != F32 and mode is CLIP) or (dt == bf16 and mode is not None):
                continue
            cases.append(Case(
                f"gather-{label}-{dt.name}-{getattr(mode, 'name', 'default')}",
                lambda x, i, dn=dn, sizes=sizes, mode=mode: lax.gather(x, i, dn, sizes,
                                                                       mode=mode),
                lambda x, i, dn=dn, sizes=sizes, mode=mode: _np_gather(x, i, dn, sizes, mode),
                [Arg(shape, dt), idx]))
    _, shape, idx, dn, sizes = _GATHERS[0]
    for dt, fill in [(B, None), (U8, None), (C64, None), (F32, -1.5), (I32, 7)]:
        cases.append(Case(
            f"gather-rows-fill-{dt.name}-{fill}",
            lambda x, i, fill=fill: lax.gather(x, i, dn, sizes, mode="fill", fill_value=fill),
            lambda x, i, fill=fill: _np_gather(x, i, dn, sizes, FILL, fill),
            [Arg(shape, dt), idx]))
    cases.append(Case("gather-0d-index-vector", lambda x, i: lax.gather(
        x, i, GDN((0,), (), ()), (2,)), lambda x, i: x[:2], [Arg((3,), F32),
                                                            np.zeros((0,), np.int32)]))
    return cases


def _scatter_cases(name):
    fn, combine = _COMBINE[name]
    cases = []
    dtypes = [F32, I32] if name != "scatter-add" else [F32, I32, bf16, B]
    for (label, shape, idx, ushape, dn), dt in itertools.product(_SCATTERS, dtypes):
        if name == "scatter" and label == "points-dup":
            continue  # which duplicate wins is unspecified
        modes = (None, CLIP) if dt == F32 else (None,)
        for mode in modes:
            cases.append(Case(
                f"{name}-{label}-{dt.name}-{getattr(mode, 'name', 'default')}",
                lambda x, i, u, dn=dn, mode=mode: fn(x, i, u, dn, mode=mode),
                lambda x, i, u, dn=dn, mode=mode: _np_scatter(x, i, u, dn, combine, mode),
                [Arg(shape, dt), idx, Arg(ushape, dt)]))
    return cases


_DS = [((5,), (2,), [3]), ((5,), (2,), [-1]), ((3, 4), (2, 2), [2, -1]), ((3, 4), (3, 0), [7, -9]),
       ((), (), [])]


def _dynamic_slice_cases():
    cases = []
    for (shape, sizes, starts), dt in itertools.product(_DS, [F32, I32, bf16, B]):
        cases.append(Case(
            f"dynamic_slice-{dt.name}-{shape}-{sizes}-{starts}",
            lambda x, *i, sizes=sizes: lax.dynamic_slice(x, i, sizes),
            lambda x, *i, sizes=sizes: _np_dynamic_slice(x, i, sizes),
            [Arg(shape, dt)] + [np.int32(s) for s in starts]))
    cases.append(Case("dynamic_slice-static-starts",
                      lambda x: lax.dynamic_slice(x, (1, -1), (2, 2)),
                      lambda x: _np_dynamic_slice(x, (1, -1), (2, 2)), [Arg((3, 4), F32)]))
    cases.append(Case("dynamic_slice-int8-index-wraps-wide",
                      lambda x, i: lax.dynamic_slice(x, (i,), (2,)),
                      lambda x, i: _np_dynamic_slice(x, (i,), (2,)),
                      [Arg((300,), F32), np.int8(-3)]))
    cases.append(Case("dynamic_slice_in_dim", lambda x, i: lax.dynamic_slice_in_dim(x, i, 2, 1),
                      lambda x, i: _np_dynamic_slice(x, (0, i), (3, 2)),
                      [Arg((3, 4), F32), np.int32(-2)]))
    cases.append(Case("dynamic_index_in_dim",
                      lambda x, i: lax.dynamic_index_in_dim(x, i, 0, keepdims=False),
                      lambda x, i: _np_dynamic_slice(x, (i, 0), (1, 4))[0],
                      [Arg((3, 4), I32), np.int32(2)]))
    return cases


def _dynamic_update_slice_cases():
    cases = []
    for (shape, ushape, starts), dt in itertools.product(
            [((5,), (2,), [4]), ((3, 4), (2, 2), [-1, 1]), ((3, 4), (3, 0), [1, 9]), ((), (), [])],
            [F32, I32, bf16, B]):
        cases.append(Case(
            f"dynamic_update_slice-{dt.name}-{shape}-{ushape}-{starts}",
            lambda x, u, *i: lax.dynamic_update_slice(x, u, i),
            lambda x, u, *i: _np_dynamic_update_slice(x, u, i),
            [Arg(shape, dt), Arg(ushape, dt)] + [np.int32(s) for s in starts]))
    cases.append(Case("dynamic_update_slice_in_dim",
                      lambda x, u, i: lax.dynamic_update_slice_in_dim(x, u, i, 1),
                      lambda x, u, i: _np_dynamic_update_slice(x, u, (0, i)),
                      [Arg((3, 4), F32), Arg((3, 2), F32), np.int32(3)]))
    cases.append(Case("dynamic_update_index_in_dim",
                      lambda x, u, i: lax.dynamic_update_index_in_dim(x, u, i, 0),
                      lambda x, u, i: _np_dynamic_update_slice(x, u[None], (i, 0)),
                      [Arg((3, 4), F32), Arg((4,), F32), np.int32(-1)]))
    return cases


def _ad_scatter_cases():
    """Float scatters aimed at the differentiation rules: unique indices (the plain scatter
    JVP), two-way ties for min/max (central differences average the two tangents, as the rule
    does) and zero updates for mul (the product rule without division by zero)."""
    pts = SDN((), (0, 1), (0, 1))
    idx = _i32([[0, 1], [3, 3], [0, 1], [2, 0]])
    x = np.array([[1.0, 2.0, 0.5, -1.0], [3.0, -2.0, 1.5, 0.0], [4.0, 1.0, -3.0, 2.5],
                  [0.7, -0.2, 1.1, 5.0]], np.float32)
    extra = {"scatter": [], "scatter-min": [], "scatter-max": [], "scatter-mul": []}
    rows = SDN((1,), (0,), (0,))
    extra["scatter"].append(Case(
        "scatter-rows-unique-float32",
        lambda x, i, u: lax.scatter(x, i, u, rows, unique_indices=True),
        lambda x, i, u: _np_scatter(x, i, u, rows, lambda o, n: n),
        [Arg((5, 3), F32), _i32([[3], [0], [1]]), Arg((3, 3), F32)]))
    # Two-way ties between the operand and one update: max at (0, 1) (2 vs updates 2, 0.25)
    # and (2, 0) (4 vs 4); min at (0, 1) (2 vs updates 3, 2), (3, 3) and (2, 0).
    for name, fn, comb, u in [
            ("scatter-max", lax.scatter_max, np.maximum, [2.0, 9.0, 0.25, 4.0]),
            ("scatter-min", lax.scatter_min, np.minimum, [3.0, 5.0, 2.0, 4.0])]:
        extra[name].append(Case(
            f"{name}-ties-float32",
            lambda x, i, u, fn=fn: fn(x, i, u, pts),
            lambda x, i, u, comb=comb: _np_scatter(x, i, u, pts, comb),
            [x, idx, np.array(u, np.float32)]))
    for label, u in [("one-zero", [0.0, 2.0, 3.0, -1.5]), ("two-zeros", [0.0, 2.0, 0.0, 0.5])]:
        extra["scatter-mul"].append(Case(
            f"scatter-mul-{label}-float32",
            lambda x, i, u: lax.scatter_mul(x, i, u, pts),
            lambda x, i, u: _np_scatter(x, i, u, pts, lambda o, n: o * n),
            [x, idx, np.array(u, np.float32)]))
    return extra


_AD_SCATTERS = _ad_scatter_cases()

def _drawn_index_cases():
    """Cases whose indices are drawn (``_Idx``/``_Perm``), so that vmap over them sees
    different, partly out-of-bounds indices per example: clip and fill/drop modes per example,
    batching dimensions already present in the unbatched op (with offset dimensions between
    the batch dimensions), unique-index scatters, and traced dynamic_slice starts."""
    out = {"gather": [], "scatter": [], "scatter-add": [], "scatter-max": [],
           "dynamic_slice": [], "dynamic_update_slice": []}
    gathers = [
        ("rows", (5, 3), _Idx((4, 1), I32, "normal", -3, 7), GDN((1,), (0,), (0,)), (1, 3)),
        ("points", (4, 5), _Idx((2, 3, 2), I32, "normal", -2, 6), GDN((), (0, 1), (0, 1)),
         (1, 1)),
        ("windows", (6,), _Idx((3, 1), I32, "normal", -2, 6), GDN((1,), (), (0,)), (3,)),
        ("batching-interleaved", (3, 4, 5), _Idx((5, 2, 1), I32, "normal", -1, 4),
         GDN((0, 2), (), (1,), operand_batching_dims=(2,), start_indices_batching_dims=(0,)),
         (2, 2, 1)),
    ]
    for (label, shape, idx, dn, sizes), mode in itertools.product(gathers, (None, CLIP, FILL)):
        out["gather"].append(Case(
            f"gather-drawn-{label}-{getattr(mode, 'name', 'default')}",
            lambda x, i, dn=dn, sizes=sizes, mode=mode: lax.gather(x, i, dn, sizes, mode=mode),
            lambda x, i, dn=dn, sizes=sizes, mode=mode: _np_gather(x, i, dn, sizes, mode),
            [Arg(shape, F32), idx]))
    scatters = [
        ("rows", (5, 3), _Idx((4, 1), I32, "normal", -3, 7), (4, 3), SDN((1,), (0,), (0,))),
        ("batching-window", (3, 5, 2), _Idx((2, 5, 1), I32, "normal", -1, 3), (2, 2, 5),
         SDN((1,), (0,), (0,), operand_batching_dims=(1,), scatter_indices_batching_dims=(1,))),
    ]
    for name in ("scatter-add", "scatter-max"):
        fn, combine = _COMBINE[name]
        for (label, shape, idx, ushape, dn), mode in itertools.product(scatters, (None, CLIP)):
            out[name].append(Case(
                f"{name}-drawn-{label}-{getattr(mode, 'name', 'default')}",
                lambda x, i, u, fn=fn, dn=dn, mode=mode: fn(x, i, u, dn, mode=mode),
                lambda x, i, u, dn=dn, mode=mode, combine=combine: _np_scatter(
                    x, i, u, dn, combine, mode),
                [Arg(shape, F32), idx, Arg(ushape, F32)]))
    rows = SDN((1,), (0,), (0,))
    out["scatter"].append(Case(
        "scatter-drawn-unique-rows",
        lambda x, i, u: lax.scatter(x, i, u, rows, unique_indices=True),
        lambda x, i, u: _np_scatter(x, i, u, rows, lambda o, n: n),
        [Arg((5, 3), F32), _Perm((3, 1), I32, "normal", 5), Arg((3, 3), F32)]))
    out["dynamic_slice"].append(Case(
        "dynamic_slice-drawn-starts",
        lambda x, i, j: lax.dynamic_slice(x, (i, j), (2, 3)),
        lambda x, i, j: _np_dynamic_slice(x, (i, j), (2, 3)),
        [Arg((5, 4), F32), _Idx((), I32, "normal", -7, 7), _Idx((), I32, "normal", -5, 5)]))
    out["dynamic_update_slice"].append(Case(
        "dynamic_update_slice-drawn-starts",
        lambda x, u, i, j: lax.dynamic_update_slice(x, u, (i, j)),
        lambda x, u, i, j: _np_dynamic_update_slice(x, u, (i, j)),
        [Arg((5, 4), F32), Arg((2, 3), F32), _Idx((), I32, "normal", -7, 7),
         _Idx((), I32, "normal", -5, 5)]))
    return out


_DRAWN = _drawn_index_cases()

CASES = {
    "dynamic_slice": _dynamic_slice_cases() + _DRAWN["dynamic_slice"],
    "dynamic_update_slice": _dynamic_update_slice_cases() + _DRAWN["dynamic_update_slice"],
    "gather": _gather_cases() + _DRAWN["gather"],
    **{name: _scatter_cases(name) + _AD_SCATTERS.get(name, []) + _DRAWN.get(name, [])
       for name in _COMBINE},
}
