"""Reference cases for split/stack/unstack/tile, the barriers, scatter-sub, XLA's random
generators and approx_top_k (jaxel/lax/{split_stack,barriers,rng,approx_top_k}.py)."""
from __future__ import annotations

import numpy as np

from jaxel import lax
from tests.lax.case import Arg, Case, bf16

F32, I32, B = np.dtype(np.float32), np.dtype(np.int32), np.dtype(bool)


def _jax_bits(key, shape, dtype, algorithm):
    import pytest
    jax = pytest.importorskip("jax")  # the oracle: XLA's bits as JAX gets them
    new, bits = jax.lax.rng_bit_generator(key, shape, dtype, jax.lax.RandomAlgorithm(algorithm))
    return [np.asarray(new), np.asarray(bits)]


def _np_top(x, k, axis, largest):
    order = np.argsort(-x if largest else x, axis=axis, kind="stable")
    idx = np.take(order, np.arange(k), axis=axis)
    return [np.take_along_axis(x, idx, axis), idx.astype(np.int32)]


_SDN = lax.ScatterDimensionNumbers(update_window_dims=(1,), inserted_window_dims=(0,),
                                   scatter_dims_to_operand_dims=(0,))


def _np_scatter_sub(x, idx, u):
    out = x.copy()
    for i, row in zip(idx[:, 0], u):
        if 0 <= i < x.shape[0]:
            out[i] -= row
    return out


CASES = {
    "split": [
        Case(f"split-{dt.name}-{sizes}-{axis}",
             lambda x, sizes=sizes, axis=axis: lax.split(x, sizes, axis),
             lambda x, sizes=sizes, axis=axis: np.split(x, np.cumsum(sizes)[:-1], axis),
             [Arg((2, 5), dt)])
        for dt in (F32, I32, bf16) for sizes, axis in [((1, 4), 1), ((2, 0, 3), -1), ((1, 1), 0)]],
    "stack": [
        Case(f"stack-{dt.name}-{axis}", lambda x, y, axis=axis: lax.stack([x, y, x], axis),
             lambda x, y, axis=axis: np.stack([x, y, x], axis), [Arg((2, 3), dt), Arg((2, 3), dt)])
        for dt in (F32, I32, B) for axis in (0, 2, -2)] +
        [Case("stack-scalars", lambda x: lax.stack([x, 2.0]), lambda x: np.stack([x, 2.0]).astype(
            np.float32), [Arg((), F32)])],
    "unstack": [
        Case(f"unstack-{dt.name}-{axis}", lambda x, axis=axis: lax.unstack(x, axis),
             lambda x, axis=axis: [np.take(x, i, axis) for i in range(x.shape[axis])],
             [Arg((2, 3), dt)])
        for dt in (F32, I32, bf16) for axis in (0, 1, -1)],
    "tile": [
        Case(f"tile-{dt.name}-{reps}", lambda x, reps=reps: lax.tile(x, reps),
             lambda x, reps=reps: np.tile(x, reps), [Arg(shape, dt)])
        for dt in (F32, I32, B) for shape, reps in [((2, 3), (2, 1)), ((3,), (3,)),
                                                     ((2, 1), (0, 2)), ((), ())]],
    "optimization_barrier": [
        Case("optimization_barrier-pair", lambda x, y: lax.optimization_barrier((x, y)),
             lambda x, y: [x, y], [Arg((2, 3), F32), Arg((3,), I32)]),
        Case("optimization_barrier-one", lambda x: lax.optimization_barrier(lax.sin(x)),
             np.sin, [Arg((4,), F32)]),
    ],
    "stage": [Case("stage", lambda x: lax.stage(x) * 2, lambda x: x * 2, [Arg((3,), F32)])],
    "dce_sink": [Case("dce_sink", lambda x: (lax.dce_sink(x), x + 1)[1], lambda x: x + 1,
                      [Arg((3,), F32)])],
    "scatter-sub": [
        Case(f"scatter-sub-{dt.name}",
             lambda x, i, u: lax.scatter_sub(x, i, u, _SDN),
             _np_scatter_sub,
             [Arg((4, 3), dt), np.array([[1], [3], [1], [9]], np.int32), Arg((4, 3), dt)])
        for dt in (F32, I32)],
    "rng_bit_generator": [
        Case(f"rng_bit_generator-{alg}-{np.dtype(dt).name}",
             lambda k, dt=dt, alg=alg: lax.rng_bit_generator(k, (2, 3), dt,
                                                             lax.RandomAlgorithm(alg)),
             lambda k, dt=dt, alg=alg: _jax_bits(k, (2, 3), dt, alg),
             [np.array([1, 2, 3, 4], np.uint32)])
        for alg in (0, 1, 2) for dt in (np.uint32, np.uint8)],
    "rng_uniform": [
        # XLA's stateful stream is unspecified: check the range only.
        Case("rng_uniform-range",
             lambda a, b: (lax.rng_uniform(a, b, (50,)) >= a) & (lax.rng_uniform(a, b, (50,)) < b),
             lambda a, b: np.ones(50, bool), [np.float32(-1.0), np.float32(2.0)]),
    ],
    "approx_top_k": [
        Case(f"approx_top_k-{'max' if mx else 'min'}-{axis}",
             lambda x, mx=mx, axis=axis: (lax.approx_max_k if mx else lax.approx_min_k)(
                 x, 2, reduction_dimension=axis),
             lambda x, mx=mx, axis=axis: _np_top(x, 2, axis, mx), [Arg((3, 5), F32)])
        for mx in (True, False) for axis in (-1, 0)] +
        [Case("approx_top_k-no-aggregate",
              lambda x: lax.approx_max_k(x, 2, aggregate_to_topk=False),
              lambda x: _np_top(x, 6, -1, True), [Arg((6,), F32)])],
}


# ---- general reductions and window selections ------------------------------------------------
from jaxel.lax.select_scatter import (_select_and_gather_add, _select_and_scatter,  # noqa: E402
                                      _select_and_scatter_add)


def _windows(x, wd, ws):
    """NumPy view of the VALID windows: shape (out..., window...)."""
    v = np.lib.stride_tricks.sliding_window_view(x, wd)
    return v[tuple(slice(None, None, s) for s in ws)]


def _argmax_mask(x, wd, ws, largest=True):
    """For each VALID window (out position), the flat operand index its first max/min has."""
    out = {}
    win = _windows(x, wd, ws)
    for pos in np.ndindex(*win.shape[:x.ndim]):
        w = win[pos]
        k = np.argmax(w) if largest else np.argmin(w)
        off = np.unravel_index(k, w.shape)
        out[pos] = tuple(p * s + o for p, s, o in zip(pos, ws, off))
    return out


def _np_select_scatter_add(src, x, wd, ws, largest=True):
    out = np.zeros(x.shape, src.dtype)
    for pos, at in _argmax_mask(x, wd, ws, largest).items():
        out[at] += src[pos]
    return out


def _np_select_gather(t, x, wd, ws, largest=True):
    sel = _argmax_mask(x, wd, ws, largest)
    out = np.zeros(_windows(x, wd, ws).shape[:x.ndim], t.dtype)
    for pos, at in sel.items():
        out[pos] = t[at]
    return out


def _pick_larger(a, b):
    keep = lax.ge(a[0], b[0])
    return lax.select(keep, a[0], b[0]), lax.select(keep, a[1], b[1])


_WD, _WS, _VALID = (2, 2), (1, 2), ((0, 0), (0, 0))

CASES.update({
    "reduce": [
        Case("reduce-lambda-max", lambda x: lax.reduce(x, -np.inf, lambda a, b: lax.max(a, b),
                                                       (1,)),
             lambda x: x.max(1), [Arg((3, 4), F32)]),
        Case("reduce-pair-sum-prod",
             lambda x, y: lax.reduce((x, y), (0.0, 1), lambda a, b: (a[0] + b[0], a[1] * b[1]),
                                     (0,)),
             lambda x, y: (x.sum(0), y.prod(0).astype(np.int32)),
             [Arg((3, 2), F32), Arg((3, 2), I32)]),
        Case("reduce-argmax", lambda x, i: lax.reduce((x, i), (-np.inf, 0), _pick_larger, (0,)),
             lambda x, i: (x.max(0), x.argmax(0).astype(np.int32)),
             [Arg((5, 3), F32), np.broadcast_to(np.arange(5, dtype=np.int32)[:, None], (5, 3))]),
    ],
    "reduce_window": [
        Case("reduce_window-product",
             lambda x: lax.reduce_window(x, 1.0, lambda a, b: a * b, (1, 2), (1, 1), "VALID"),
             lambda x: _windows(x, (1, 2), (1, 1)).prod((-2, -1)), [Arg((2, 4), F32)]),
        Case("reduce_window-pair",
             lambda x, y: lax.reduce_window((x, y), (-np.inf, 0), lambda a, b: (
                 lax.max(a[0], b[0]), a[1] + b[1]), (2,), (1,), "VALID"),
             lambda x, y: (_windows(x, (2,), (1,)).max(-1),
                           _windows(y, (2,), (1,)).sum(-1).astype(np.int32)),
             [Arg((5,), F32), Arg((5,), I32)]),
    ],
    "select_and_scatter_add": [
        Case(f"select_and_scatter_add-{'ge' if big else 'le'}",
             lambda s, x, big=big: _select_and_scatter_add(s, x, lax.ge_p if big else lax.le_p,
                                                           _WD, _WS, _VALID),
             lambda s, x, big=big: _np_select_scatter_add(s, x, _WD, _WS, big),
             [Arg((3, 3), F32), Arg((4, 6), F32)])
        for big in (True, False)],
    "select_and_gather_add": [
        Case(f"select_and_gather_add-{'ge' if big else 'le'}",
             lambda t, x, big=big: _select_and_gather_add(t, x, lax.ge_p if big else lax.le_p,
                                                          _WD, _WS, _VALID),
             lambda t, x, big=big: _np_select_gather(t, x, _WD, _WS, big),
             [Arg((4, 6), F32), Arg((4, 6), F32)])
        for big in (True, False)],
    "select_and_scatter": [
        # Integers: the general form has no derivative (as in JAX).
        Case("select_and_scatter-max-add",
             lambda x, s: _select_and_scatter(x, lambda a, b: lax.ge(a, b), _WD, _WS, _VALID, s,
                                              0, lambda a, b: a + b),
             lambda x, s: _np_select_scatter_add(s, x, _WD, _WS, True),
             [np.random.default_rng(5).permutation(24).reshape(4, 6).astype(np.int32),
              Arg((3, 3), I32)]),
    ],
})


def _scaled_tanh(x, *, scale):
    return lax.tanh(x) * scale


_COMPOSITE = lax.composite(_scaled_tanh, name="jaxel.test.scaled_tanh")
_PAIR = lax.composite(lambda x, y: (x + y, x * y), name="jaxel.test.pair", version=2)

CASES["composite"] = [
    Case("composite-attributes", lambda x: _COMPOSITE(x, scale=2.0), lambda x: np.tanh(x) * 2,
         [Arg((2, 3), F32)]),
    Case("composite-pair", lambda x, y: _PAIR(x, y), lambda x, y: (x + y, x * y),
         [Arg((3,), F32), Arg((3,), F32)]),
]

# Tokens carry no data: the cases check the empty values and that programs with them compile.
CASES["create_token"] = [Case("create_token", lambda: lax.create_token()._value,
                              lambda: np.zeros((0,), bool), [])]
CASES["after_all"] = [Case("after_all", lambda x: (
    lax.after_all(lax.create_token(), lax.create_token())._value, x * 2),
    lambda x: (np.zeros((0,), bool), x * 2), [Arg((2,), F32)])]
