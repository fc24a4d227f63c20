"""Reference cases for the windowed reductions (jaxel/lax/windowed.py).

The reference is a direct loop over window positions written from the definition: dilate the
operand (holes hold the identity), pad it with the identity, then reduce each (dilated)
window and combine with ``init_value`` once.
"""
from __future__ import annotations

import itertools

import numpy as np

from jaxel import lax
from jaxel.numpy import ufuncs as jnp_ufuncs
from tests.lax.case import Arg, Case, bf16

F32, I32, U8, B = np.dtype(np.float32), np.dtype(np.int32), np.dtype(np.uint8), np.dtype(bool)

_UFUNC = {"sum": np.add, "max": np.maximum, "min": np.minimum}
_LAX = {"sum": lax.add, "max": lax.max, "min": lax.min}


def _identity(op, dt):
    dt = np.dtype(dt)
    if op == "sum":
        return 0
    big = np.iinfo(dt) if dt.kind in "iu" else None
    if op == "max":
        return False if dt == B else (big.min if big else -np.inf)
    return True if dt == B else (big.max if big else np.inf)


def _np_pads(shape, dims, strides, padding, bdil, wdil):
    if not isinstance(padding, str):
        return list(padding)
    return lax.padtype_to_pads([0 if d == 0 else (d - 1) * b + 1 for d, b in zip(shape, bdil)],
                               [(w - 1) * v + 1 for w, v in zip(dims, wdil)], strides, padding)


def np_reduce_window(x, op, init, dims, strides, padding, bdil=None, wdil=None):
    """Loop reference of XLA's reduce_window for the monoid ``op``."""
    n = x.ndim
    bdil = bdil or (1,) * n
    wdil = wdil or (1,) * n
    pads = _np_pads(x.shape, dims, strides, padding, bdil, wdil)
    out_dt = x.dtype
    wide = x.astype(np.float64) if x.dtype == bf16 or x.dtype.kind == "f" else x
    ident = _identity(op, x.dtype)
    dil_shape = [0 if d == 0 else (d - 1) * b + 1 for d, b in zip(x.shape, bdil)]
    base = np.full(dil_shape, ident, wide.dtype)
    base[tuple(slice(None, None, b) for b in bdil)] = wide
    padded = np.pad(base, np.asarray(pads, np.int64).reshape(n, 2), constant_values=ident) \
        if n else base
    out_shape = [max((p - ((w - 1) * v + 1)) // s + 1, 0)
                 for p, w, s, v in zip(padded.shape, dims, strides, wdil)]
    out = np.empty(out_shape, wide.dtype)
    for pos in itertools.product(*[range(o) for o in out_shape]):
        window = padded[tuple(slice(p * s, p * s + (w - 1) * v + 1, v)
                              for p, s, w, v in zip(pos, strides, dims, wdil))]
        out[pos] = _UFUNC[op].reduce(window.ravel(), initial=init)
    return out.astype(out_dt)


# (shape, window_dimensions, window_strides, padding, base_dilation, window_dilation)
CONFIGS = [
    ((6,), (2,), (1,), "VALID", None, None),
    ((4, 6), (2, 3), (1, 2), ((1, 0), (0, 2)), None, None),
    ((5, 5), (3, 3), (2, 2), "SAME", None, None),
    ((5,), (3,), (1,), "SAME", None, (2,)),      # window dilation
    ((4,), (2,), (1,), ((1, 1),), (2,), None),   # base dilation: holes hold the identity
    ((), (), (), (), None, None),                # a scalar is its only window
    ((0, 3), (1, 2), (1, 1), "VALID", None, None),
]


def window_cases(op, dtypes):
    prim = f"reduce_window_{op}"
    cases = []
    for i, dt in enumerate(dtypes):
        # Every configuration for the first dtype, a few for the others (each is a compile).
        configs = CONFIGS if i == 0 else [CONFIGS[k] for k in (1, 2, 4)]
        for shape, dims, strides, padding, bdil, wdil in configs:
            init = _identity(op, dt)

            def fn(x, dims=dims, strides=strides, padding=padding, bdil=bdil, wdil=wdil,
                   init=init):
                return lax.reduce_window(x, init, _LAX[op], dims, strides, padding, bdil, wdil)

            def ref(x, dims=dims, strides=strides, padding=padding, bdil=bdil, wdil=wdil,
                    init=init):
                return np_reduce_window(x, op, init, dims, strides, padding, bdil, wdil)

            cases.append(Case(f"{prim}-{np.dtype(dt).name}-{shape}-{dims}-{padding}-{bdil}-"
                              f"{wdil}", fn, ref,
                              [Arg(shape, dt, "small_int" if np.dtype(dt).kind in "iu"
                                   else "normal")]))
    return cases


def init_cases():
    """A non-identity init value is combined once per window (JAX's result), and the
    jaxel.numpy ufuncs are accepted as computations."""
    return [
        Case("reduce_window_sum-init-1", lambda x: lax.reduce_window(
            x, 1.0, lax.add, (3,), (1,), ((1, 1),)),
             lambda x: np_reduce_window(x, "sum", 1.0, (3,), (1,), ((1, 1),)),
             [Arg((5,), F32)]),
        Case("reduce_window_max-init-0-jnp", lambda x: lax.reduce_window(
            x, 0.0, jnp_ufuncs.maximum, (2, 2), (1, 1), "VALID"),
             lambda x: np_reduce_window(x, "max", 0.0, (2, 2), (1, 1), "VALID"),
             [Arg((3, 4), F32)]),
        Case("reduce_window_min-init-traced", lambda x, c: lax.reduce_window(
            x, c, lax.min, (2,), (2,), "VALID"),
             lambda x, c: np_reduce_window(x, "min", c, (2,), (2,), "VALID"),
             [Arg((6,), I32, "small_int"), np.int32(3)]),
    ]


def _both(name, op, x, dims, strides, padding, bdil=None, wdil=None):
    """``name`` in float32 and (under x64) float64, for the differentiation rules: strides,
    padding and both dilations together. (No ties: max/min pooling gives a tied window's
    tangent to its first maximum, as JAX does, where central differences see the mean; the
    tie rule is tested in tests/transforms/test_reduction_ad.py.)"""
    def fn(x):
        return lax.reduce_window(x, _identity(op, x.dtype), _LAX[op], dims, strides, padding,
                                 bdil, wdil)

    def ref(x):
        return np_reduce_window(x, op, _identity(op, x.dtype), dims, strides, padding, bdil,
                                wdil)
    x = np.asarray(x, np.float64)
    return [Case(f"{name}-float32", fn, ref, [x.astype(F32)]),
            Case(f"{name}-float64", fn, ref, [x], x64=True)]


_RNG = np.random.default_rng(7)
_X54 = _RNG.standard_normal((5, 4))
_X45 = _RNG.standard_normal((4, 5))
_AD = {
    "reduce_window_sum": _both("reduce_window_sum-all-params", "sum", _X54, (2, 3), (2, 1),
                               ((1, 2), (0, 1)), (2, 1), (1, 2)) +
    _both("reduce_window_sum-wide-pad", "sum", _X54[0], (2,), (3,), ((4, 3),), None, (2,)),
    "reduce_window_max": _both("reduce_window_max-pool", "max", _X45[:, :4], (2, 2), (2, 2),
                               "VALID") +
    _both("reduce_window_max-all-params", "max", _X45, (2, 2), (1, 2), ((1, 0), (1, 1)),
          (1, 2), (2, 1)),
    "reduce_window_min": _both("reduce_window_min-overlap-1d", "min", _X54[:, 0], (3,), (1,),
                               ((1, 1),)) +
    _both("reduce_window_min-strided-same", "min", _X54, (3, 2), (2, 2), "SAME"),
}

_INIT = init_cases()

CASES = {
    "reduce_window_sum": window_cases("sum", [F32, bf16, I32]) + _INIT[:1],
    "reduce_window_max": window_cases("max", [F32, I32, U8, B]) + _INIT[1:2],
    "reduce_window_min": window_cases("min", [F32, bf16]) + _INIT[2:],
}
for _name, _extra in _AD.items():
    CASES[_name] = CASES[_name] + _extra
