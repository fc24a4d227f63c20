"""Reference cases for the shape primitives (jaxel/lax/shape_ops.py)."""
from __future__ import annotations

import numpy as np

from jaxel import lax
from tests.lax.case import Arg, Case, bf16

F32, I32, U8, B = np.dtype(np.float32), np.dtype(np.int32), np.dtype(np.uint8), np.dtype(bool)
DTYPES = [F32, I32, bf16, B, np.dtype(np.complex64)]


def _np_pad(x, pv, config):
    # Reference for lax.pad: interior padding, then edge padding (negative edges crop).
    out = x
    for axis, (lo, hi, interior) in enumerate(config):
        n = out.shape[axis]
        if interior and n > 1:
            shape = list(out.shape)
            shape[axis] = n + (n - 1) * interior
            grown = np.full(shape, pv, out.dtype)
            idx = [slice(None)] * out.ndim
            idx[axis] = slice(None, None, interior + 1)
            grown[tuple(idx)] = out
            out = grown
        pads = [(0, 0)] * out.ndim
        pads[axis] = (max(lo, 0), max(hi, 0))
        out = np.pad(out, pads, constant_values=pv)
        idx = [slice(None)] * out.ndim
        idx[axis] = slice(-min(lo, 0), out.shape[axis] + min(hi, 0))
        out = out[tuple(idx)]
    return out


CASES = {
    "broadcast_in_dim": [
        Case(f"broadcast_in_dim-{dt.name}-{shape}-{out}",
             lambda x, out=out, dims=dims: lax.broadcast_in_dim(x, out, dims),
             lambda x, out=out, dims=dims: np.broadcast_to(
                 x.reshape([x.shape[dims.index(i)] if i in dims else 1
                            for i in range(len(out))]), out),
             [Arg(shape, dt)])
        for dt in DTYPES[:3]
        for shape, out, dims in [((), (2, 3), ()), ((3,), (2, 3), (1,)), ((2, 1), (2, 4), (0, 1)),
                                 ((0,), (2, 0), (1,))]],
    "reshape": [
        Case(f"reshape-{dt.name}-{shape}-{new}", lambda x, new=new: lax.reshape(x, new),
             lambda x, new=new: x.reshape(new), [Arg(shape, dt)])
        for dt in DTYPES for shape, new in [((2, 3), (3, 2)), ((6,), (1, 2, 3)), ((), (1, 1)),
                                            ((0, 3), (3, 0))]] +
        [Case("reshape-dimensions", lambda x: lax.reshape(x, (6,), (1, 0)),
              lambda x: x.T.reshape(6), [Arg((2, 3), F32)])],
    "transpose": [
        Case(f"transpose-{dt.name}-{perm}", lambda x, perm=perm: lax.transpose(x, perm),
             lambda x, perm=perm: np.transpose(x, perm), [Arg(shape, dt)])
        for dt in DTYPES for shape, perm in [((2, 3), (1, 0)), ((2, 3, 4), (2, 0, 1)),
                                             ((0, 2), (1, 0))]],
    "squeeze": [
        Case(f"squeeze-{dt.name}-{shape}-{dims}", lambda x, dims=dims: lax.squeeze(x, dims),
             lambda x, dims=dims: np.squeeze(x, dims), [Arg(shape, dt)])
        for dt in DTYPES[:2] for shape, dims in [((1, 3, 1), (0, 2)), ((1,), (0,)),
                                                 ((2, 1), (-1,))]],
    "rev": [
        Case(f"rev-{dt.name}-{dims}", lambda x, dims=dims: lax.rev(x, dims),
             lambda x, dims=dims: np.flip(x, dims), [Arg((2, 3), dt)])
        for dt in DTYPES for dims in [(0,), (1,), (0, 1)]] +
        [Case("rev-empty", lambda x: lax.rev(x, (0,)), lambda x: x[::-1], [Arg((0,), F32)])],
    "pad": [
        Case(f"pad-{dt.name}-{cfg}", lambda x, cfg=cfg: lax.pad(x, np.array(0, x.dtype), cfg),
             lambda x, cfg=cfg: _np_pad(x, 0, cfg), [Arg((2, 3), dt)])
        for dt in [F32, I32, bf16]
        for cfg in [((1, 2, 0), (0, 1, 0)), ((0, 0, 1), (2, 0, 2)), ((-1, 1, 0), (1, -2, 0))]] +
        [Case("pad-0d", lambda x: lax.pad(x, np.array(1.5, x.dtype), ()), lambda x: x,
              [Arg((), F32)])],
    "concatenate": [
        Case(f"concatenate-{dt.name}-{dim}", lambda a, b, dim=dim: lax.concatenate([a, b], dim),
             lambda a, b, dim=dim: np.concatenate([a, b], dim),
             [Arg((2, 3), dt), Arg((2, 3), dt)])
        for dt in DTYPES for dim in (0, 1)] +
        [Case("concatenate-empty", lambda a, b: lax.concatenate([a, b], 0),
              lambda a, b: np.concatenate([a, b]), [Arg((0, 2), F32), Arg((3, 2), F32)])],
    "slice": [
        Case(f"slice-{dt.name}-{s}-{l}-{st}",
             lambda x, s=s, l=l, st=st: lax.slice(x, s, l, st),
             lambda x, s=s, l=l, st=st: x[tuple(slice(a, b, c) for a, b, c in
                                               zip(s, l, st or (1,) * len(s)))],
             [Arg((4, 5), dt)])
        for dt in DTYPES for s, l, st in [((0, 1), (2, 4), None), ((1, 0), (4, 5), (2, 3)),
                                          ((2, 2), (2, 5), None)]],
    "iota": [
        Case(f"iota-{dt.name}-{shape}-{d}", lambda d=d, shape=shape, dt=dt: lax.broadcasted_iota(dt, shape, d),
             lambda d=d, shape=shape, dt=dt: np.broadcast_to(
                 np.arange(shape[d], dtype=dt).reshape([-1 if i == d else 1
                                                        for i in range(len(shape))]), shape),
             [])
        for dt in [F32, I32, U8, bf16] for shape, d in [((5,), 0), ((2, 3), 1), ((0, 3), 0)]],
}
