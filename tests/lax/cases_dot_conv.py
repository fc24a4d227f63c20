"""Reference cases for the contraction primitives (jaxel/lax/dot_conv.py).

``dot_general`` is checked against ``np.einsum`` computed in float64/int64; convolutions against
a direct NumPy convolution (dilate, pad, then sum over kernel offsets) written below.
"""
from __future__ import annotations

import numpy as np

from jaxel import lax
from tests.lax.case import Arg, Case, bf16

F32, F16, I32, I8 = (np.dtype(np.float32), np.dtype(np.float16), np.dtype(np.int32),
                     np.dtype(np.int8))
B, C64, F64 = np.dtype(bool), np.dtype(np.complex64), np.dtype(np.float64)
HIGHEST = lax.Precision.HIGHEST


def _wide(x):
    """x in the widest dtype of its kind, so references do not round or wrap."""
    dt = np.dtype(x.dtype)
    if dt == B:
        return x
    if dt.kind in "iu":
        return x.astype(np.int64)
    if dt.kind == "c":
        return x.astype(np.complex128)
    return x.astype(np.float64)


# ---- dot_general -----------------------------------------------------------------------------
def _dot_ref(dimension_numbers, out_dtype):
    """np.einsum reference for dot_general: output = batch, lhs free, rhs free dims."""
    (lc, rc), (lb, rb) = dimension_numbers

    def ref(x, y):
        letters = iter("abcdefghijklmnopqrstuvwxyz")
        lhs = [next(letters) for _ in range(x.ndim)]
        rhs = [None] * y.ndim
        for i, j in zip(lc + lb, rc + rb):
            rhs[j] = lhs[i]
        rhs = [r or next(letters) for r in rhs]
        out = ([lhs[i] for i in lb] + [l for i, l in enumerate(lhs) if i not in lc + lb]
               + [r for j, r in enumerate(rhs) if j not in rc + rb])
        xw, yw = _wide(x), _wide(y)
        if xw.dtype != yw.dtype:  # mixed operands: compute in the wider kind
            common = np.result_type(xw, yw)
            xw, yw = xw.astype(common), yw.astype(common)
        r = np.einsum(f"{''.join(lhs)},{''.join(rhs)}->{''.join(out)}", xw, yw)
        return np.asarray(r).astype(out_dtype)
    return ref


def _dot_case(name, lshape, rshape, dn, dts, out_dtype=None, pet=None, precision=HIGHEST,
              fn=None, **kw):
    ldt, rdt = dts if isinstance(dts, tuple) else (dts, dts)
    out = np.dtype(out_dtype or pet or ldt)
    fn = fn or (lambda x, y: lax.dot_general(x, y, dn, precision=precision,
                                             preferred_element_type=pet))
    return Case(f"dot_general-{name}-{np.dtype(ldt).name}-{np.dtype(rdt).name}", fn,
                _dot_ref(dn, out), [Arg(lshape, ldt), Arg(rshape, rdt)], **kw)


MATMUL = (((1,), (0,)), ((), ()))
BF16_TOL = dict(rtol=3e-2, atol=1e-1)

DOT_CASES = (
    [_dot_case("matmul", (2, 3), (3, 4), MATMUL, dt) for dt in (F32, I32, I8, B, C64)]
    + [_dot_case("matmul", (2, 3), (3, 4), MATMUL, bf16, **BF16_TOL),
       _dot_case("batched", (2, 3, 4), (2, 4, 5), (((2,), (1,)), ((0,), (0,))), F32),
       # Several batch and contracting dims, in scrambled positions.
       _dot_case("scrambled", (5, 2, 3, 4), (4, 3, 2, 5, 6), (((3, 2), (0, 1)), ((1, 0), (2, 3))),
                 F32),
       _dot_case("outer", (3,), (2,), (((), ()), ((), ())), F32),
       _dot_case("scalars", (), (), (((), ()), ((), ())), F32),
       _dot_case("vector", (4,), (4,), (((0,), (0,)), ((), ())), I32),
       _dot_case("empty-contract", (2, 0), (0, 3), MATMUL, F32),
       _dot_case("empty-free", (0, 3), (3, 2), MATMUL, F32),
       _dot_case("contract-lhs-first", (3, 2), (4, 3), (((0,), (1,)), ((), ())), F32),
       # preferred_element_type widens the accumulation.
       _dot_case("pet", (2, 3), (3, 4), MATMUL, I8, pet=I32),
       _dot_case("pet", (2, 3), (3, 4), MATMUL, I32, pet=F32),
       _dot_case("pet", (2, 3), (3, 4), MATMUL, bf16, pet=F32, rtol=1e-5, atol=1e-5),
       _dot_case("pet-narrow-float", (2, 3), (3, 4), MATMUL, F32, pet=bf16, **BF16_TOL),
       # f32 operands accumulated in f64 (cotangents come back as f32), scrambled dims.
       _dot_case("scrambled-pet-f64", (5, 2, 3, 4), (4, 3, 2, 5, 6),
                 (((3, 2), (0, 1)), ((1, 0), (2, 3))), F32, pet=F64, x64=True),
       # Mixed operand dtypes compute in the more precise one.
       _dot_case("mixed", (2, 3), (3, 4), MATMUL, (F32, bf16), out_dtype=F32, rtol=1e-5,
                 atol=1e-5),
       _dot_case("mixed", (2, 3), (3, 4), MATMUL, (I8, I32), out_dtype=I32),
       _dot_case("mixed", (2, 3), (3, 4), MATMUL, (I32, F16), out_dtype=F16, **BF16_TOL),
       _dot_case("default-precision", (2, 3), (3, 4), MATMUL, F32, precision=None,
                 rtol=1e-2, atol=1e-2),
       _dot_case("precision-pair", (2, 3), (3, 4), MATMUL, F32,
                 precision=(lax.Precision.HIGH, "highest"), rtol=1e-2, atol=1e-2),
       # The wrappers.
       _dot_case("lax.dot-mv", (2, 3), (3,), MATMUL, F32,
                 fn=lambda x, y: lax.dot(x, y, precision=HIGHEST)),
       _dot_case("lax.batch_matmul", (2, 3, 4), (2, 4, 5), (((2,), (1,)), ((0,), (0,))), F32,
                 fn=lambda x, y: lax.batch_matmul(x, y, precision=HIGHEST))]
)


# ---- convolution -----------------------------------------------------------------------------
def _dilate(x, dilation):
    """Insert ``d - 1`` zeros between elements along each spatial axis (axes 2...)."""
    for i, d in enumerate(dilation):
        ax = 2 + i
        if d == 1 or x.shape[ax] == 0:
            continue
        shape = list(x.shape)
        shape[ax] = (shape[ax] - 1) * d + 1
        out = np.zeros(shape, x.dtype)
        idx = [slice(None)] * x.ndim
        idx[ax] = slice(None, None, d)
        out[tuple(idx)] = x
        x = out
    return x


def _pad(x, padding):
    """Pad spatial axes; negative amounts crop."""
    for i, (lo, hi) in enumerate(padding):
        ax = 2 + i
        cfg = [(0, 0)] * x.ndim
        cfg[ax] = (max(lo, 0), max(hi, 0))
        x = np.pad(x, cfg)
        idx = [slice(None)] * x.ndim
        idx[ax] = slice(max(-lo, 0), x.shape[ax] - max(-hi, 0))
        x = x[tuple(idx)]
    return x


def _correlate(x, w, strides):
    """Direct cross-correlation of NC... input with OI... kernel (one group)."""
    ks = w.shape[2:]
    outs = [max(0, (s - k) // st + 1) for s, k, st in zip(x.shape[2:], ks, strides)]
    out = np.zeros((x.shape[0], w.shape[0]) + tuple(outs), np.result_type(x, w))
    for kpos in np.ndindex(*ks):
        window = tuple(slice(k, k + (o - 1) * st + 1, st) if o else slice(0, 0)
                       for k, o, st in zip(kpos, outs, strides))
        out += np.einsum("nc...,oc->no...", x[(slice(None), slice(None)) + window],
                         w[(slice(None), slice(None)) + kpos])
    return out


def conv_reference(lhs, rhs, strides, padding, lhs_dilation, rhs_dilation, dnums,
                   feature_group_count=1, batch_group_count=1):
    """NumPy convolution with XLA's semantics. ``dnums`` is (lhs_spec, rhs_spec, out_spec)."""
    x = _pad(_dilate(_wide(lhs).transpose(dnums[0]), lhs_dilation), padding)
    w = _dilate(_wide(rhs).transpose(dnums[1]), rhs_dilation)
    n, o = x.shape[0], w.shape[0]
    parts = []
    if batch_group_count > 1:  # batch groups pair with output-feature groups
        g = batch_group_count
        for i in range(g):
            parts.append(_correlate(x[i * (n // g):(i + 1) * (n // g)],
                                    w[i * (o // g):(i + 1) * (o // g)], strides))
    else:  # feature groups: input features split, each with its share of output features
        g, cin = feature_group_count, w.shape[1]
        for i in range(g):
            parts.append(_correlate(x[:, i * cin:(i + 1) * cin],
                                    w[i * (o // g):(i + 1) * (o // g)], strides))
    out = np.concatenate(parts, axis=1)
    return out.transpose(np.argsort(dnums[2]))


def _same_pads(in_shape, window, strides, lower=False):
    pads = []
    for n, k, s in zip(in_shape, window, strides):
        total = max((-(-n // s) - 1) * s + k - n, 0)
        pads.append((total - total // 2, total // 2) if lower else (total // 2, total - total // 2))
    return pads


def _conv_case(name, lshape, rshape, dt, *, strides, padding, ref_padding, lhs_dilation=None,
               rhs_dilation=None, dn=None, ref_dn=None, fgc=1, bgc=1, pet=None, **kw):
    n = len(lshape) - 2
    ref_dn = ref_dn or (tuple(range(n + 2)),) * 3
    out_dt = np.dtype(pet or dt)

    def fn(x, w):
        return lax.conv_general_dilated(
            x, w, strides, padding, lhs_dilation, rhs_dilation, dn, fgc, bgc,
            precision=HIGHEST, preferred_element_type=pet)

    def ref(x, w):
        r = conv_reference(x, w, strides, ref_padding, lhs_dilation or (1,) * n,
                           rhs_dilation or (1,) * n, ref_dn, fgc, bgc)
        return r.astype(out_dt)
    tol = dict(rtol=1e-4, atol=1e-4) if out_dt.kind == "f" and out_dt.itemsize == 4 else {}
    tol.update(kw)
    return Case(f"conv-{name}-{np.dtype(dt).name}", fn, ref, [Arg(lshape, dt), Arg(rshape, dt)],
                **tol)


NHWC = ((0, 3, 1, 2), (3, 2, 0, 1), (0, 3, 1, 2))
SCRAMBLED_A = lax.ConvDimensionNumbers((2, 0, 3, 1), (1, 3, 0, 2), (3, 1, 0, 2))
SCRAMBLED_B = lax.ConvDimensionNumbers((1, 3, 0, 2), (3, 0, 2, 1), (2, 3, 1, 0))

CONV_CASES = [
    _conv_case("1d-same-stride", (2, 3, 7), (4, 3, 3), F32, strides=(2,), padding="SAME",
               ref_padding=_same_pads((7,), (3,), (2,))),
    _conv_case("1d-valid-rhs-dilation-crop", (2, 3, 9), (4, 3, 3), F32, strides=(1,),
               padding=[(-1, 2)], ref_padding=[(-1, 2)], rhs_dilation=(2,)),
    _conv_case("1d-lhs-dilation", (2, 3, 5), (4, 3, 3), F32, strides=(1,), padding=[(2, 1)],
               ref_padding=[(2, 1)], lhs_dilation=(2,)),
    _conv_case("2d-groups-dilation", (2, 4, 7, 6), (6, 2, 3, 2), F32, strides=(1, 2),
               padding=[(1, 2), (0, 1)], ref_padding=[(1, 2), (0, 1)], rhs_dilation=(2, 1),
               fgc=2),
    _conv_case("2d-depthwise", (1, 3, 5, 5), (3, 1, 3, 3), F32, strides=(1, 1), padding="VALID",
               ref_padding=[(0, 0), (0, 0)], fgc=3),
    _conv_case("2d-nhwc-same-lower", (2, 7, 6, 4), (3, 2, 4, 5), F32, strides=(2, 1),
               padding="SAME_LOWER", ref_padding=_same_pads((7, 6), (3, 2), (2, 1), True),
               dn=("NHWC", "HWIO", "NHWC"), ref_dn=NHWC),
    _conv_case("1d-batch-groups", (4, 3, 7), (4, 3, 3), F32, strides=(1,), padding="VALID",
               ref_padding=[(0, 0)], bgc=2),
    _conv_case("1d-empty-output", (1, 2, 2), (3, 2, 3), F32, strides=(1,), padding="VALID",
               ref_padding=[(0, 0)]),
    _conv_case("2d-int", (1, 2, 4, 4), (3, 2, 2, 2), I32, strides=(1, 1), padding="SAME",
               ref_padding=_same_pads((4, 4), (2, 2), (1, 1))),
    _conv_case("1d-bf16-pet-f32", (2, 3, 6), (2, 3, 3), bf16, strides=(1,), padding="VALID",
               ref_padding=[(0, 0)], pet=F32, rtol=1e-4, atol=1e-4),
    _conv_case("1d-bf16", (2, 3, 6), (2, 3, 3), bf16, strides=(1,), padding="VALID",
               ref_padding=[(0, 0)], rtol=3e-2, atol=1e-1),
    _conv_case("0d-spatial", (2, 3), (4, 3), F32, strides=(), padding=[], ref_padding=[]),
    # Everything at once, in scrambled layouts (logical N, C, H, W at the physical positions
    # each spec names), with feature or batch groups, and f32 operands accumulated in f64.
    *[_conv_case(f"2d-all-fgc2{'-pet-f64' if pet else ''}", (4, 6, 2, 7), (3, 6, 2, 2), F32,
                 strides=(2, 3), padding=[(2, -1), (1, 2)], ref_padding=[(2, -1), (1, 2)],
                 lhs_dilation=(2, 1), rhs_dilation=(1, 2), fgc=2, dn=SCRAMBLED_A,
                 ref_dn=SCRAMBLED_A, pet=pet, x64=bool(pet)) for pet in (None, F64)],
    *[_conv_case(f"2d-all-bgc2{'-pet-f64' if pet else ''}", (8, 4, 5, 3), (3, 3, 2, 4), F32,
                 strides=(3, 1), padding=[(1, 2), (-1, 3)], ref_padding=[(1, 2), (-1, 3)],
                 lhs_dilation=(1, 2), rhs_dilation=(2, 1), bgc=2, dn=SCRAMBLED_B,
                 ref_dn=SCRAMBLED_B, pet=pet, x64=bool(pet)) for pet in (None, F64)],
    Case("conv-lax.conv-f32", lambda x, w: lax.conv(x, w, (1, 2), "SAME", precision=HIGHEST),
         lambda x, w: conv_reference(x, w, (1, 2), _same_pads((5, 6), (3, 3), (1, 2)), (1, 1),
                                     (1, 1), ((0, 1, 2, 3),) * 3).astype(F32),
         [Arg((1, 2, 5, 6), F32), Arg((3, 2, 3, 3), F32)], rtol=1e-4, atol=1e-4),
    Case("conv-lax.conv_with_general_padding-f32",
         lambda x, w: lax.conv_with_general_padding(x, w, (1,), [(1, 0)], (2,), (1,),
                                                    precision=HIGHEST),
         lambda x, w: conv_reference(x, w, (1,), [(1, 0)], (2,), (1,),
                                     ((0, 1, 2),) * 3).astype(F32),
         [Arg((1, 2, 4), F32), Arg((3, 2, 2), F32)], rtol=1e-4, atol=1e-4),
]


# ---- conv_transpose (composed from conv_general_dilated) ---------------------------------------
def _transpose_ref(x, w, strides, crop, out_sizes):
    """Transposed convolution as scatter-add in NHWC/HWIO: every input element adds
    ``x * w`` into the output window it maps to; the full result is then cropped to
    ``out_sizes`` starting at ``crop`` (zeros beyond the full result)."""
    x, w = _wide(x), _wide(w)
    n = x.ndim - 2
    ks = w.shape[:n]
    full = [(i - 1) * s + k for i, s, k in zip(x.shape[1:-1], strides, ks)]
    out = np.zeros((x.shape[0],) + tuple(max(f, c + o) for f, c, o in
                                         zip(full, crop, out_sizes)) + (w.shape[-1],))
    for pos in np.ndindex(*x.shape[1:-1]):
        for kpos in np.ndindex(*ks):
            at = tuple(p * s + k for p, s, k in zip(pos, strides, kpos))
            out[(slice(None),) + at] += x[(slice(None),) + pos] @ w[kpos]
    return out[(slice(None),) + tuple(slice(c, c + o) for c, o in zip(crop, out_sizes))]


def _flip(w):
    # lax.conv_transpose does not flip the kernel by default (transpose_kernel=False): it
    # equals the scatter-add transposed convolution of the spatially reversed kernel.
    n = w.ndim - 2
    return w[(slice(None, None, -1),) * n]


def _keras_same(x, w, strides):
    # Keras/TF 'SAME': in * s outputs, cropped by floor(max(k - s, 0) / 2) at the start.
    ks = w.shape[:-2]
    crop = [max(k - s, 0) // 2 for k, s in zip(ks, strides)]
    return _transpose_ref(x, w, strides, crop, [i * s for i, s in zip(x.shape[1:-1], strides)])


CONV_TRANSPOSE_CASES = [
    Case(f"conv_transpose-same-k{k}-s{s}-f32",
         lambda x, w, s=s: lax.conv_transpose(x, w, (s, s), "SAME", precision=HIGHEST),
         lambda x, w, s=s: _keras_same(x, _flip(w), (s, s)).astype(F32),
         [Arg((1, 3, 4, 2), F32), Arg((k, k, 2, 3), F32)], rtol=1e-4, atol=1e-4)
    for k, s in [(3, 2), (4, 2), (2, 3)]
] + [
    Case("conv_transpose-valid-f32",
         lambda x, w: lax.conv_transpose(x, w, (2,), "VALID", precision=HIGHEST),
         # Keras 'VALID': (in - 1) * s + max(k, s) outputs, no crop.
         lambda x, w: _transpose_ref(x, _flip(w), (2,), [0], [(4 - 1) * 2 + 3]).astype(F32),
         [Arg((2, 4, 3), F32), Arg((3, 3, 2), F32)], rtol=1e-4, atol=1e-4),
    Case("conv_transpose-torch-padding-f32",
         # PyTorch's convention: padding p crops p from each end of the full result.
         lambda x, w: lax.conv_transpose(x, w, (2,), [(1, 1)], precision=HIGHEST,
                                         use_consistent_padding=True),
         lambda x, w: _transpose_ref(x, _flip(w), (2,), [1], [(4 - 1) * 2 + 3 - 2]
                                     ).astype(F32),
         [Arg((2, 4, 3), F32), Arg((3, 3, 2), F32)], rtol=1e-4, atol=1e-4),
    Case("conv_transpose-transpose_kernel-f32",
         # transpose_kernel: the kernel is the forward conv's (H, W, out=C_in_here, in=C_out),
         # used unflipped in the scatter-add with its feature axes swapped.
         lambda x, w: lax.conv_transpose(x, w, (2, 2), "SAME", transpose_kernel=True,
                                         precision=HIGHEST),
         lambda x, w: _keras_same(x, w.swapaxes(2, 3), (2, 2)).astype(F32),
         [Arg((1, 3, 3, 2), F32), Arg((3, 3, 4, 2), F32)], rtol=1e-4, atol=1e-4),
]

CASES = {
    "dot_general": DOT_CASES,
    "conv_general_dilated": CONV_CASES + CONV_TRANSPOSE_CASES,
}
