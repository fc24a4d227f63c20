"""Convolution helpers built on ``conv_general_dilated``: shape arithmetic
(``conv_shape_tuple`` and friends), dimension-number permutations, image patches and unshared
("locally connected") convolutions.
"""
from __future__ import annotations

import math
from typing import Union

import numpy as np

from jaxel.lax._rules import aval_of
from jaxel.lax.dot_conv import (ConvDimensionNumbers, _transpose_pads, conv_dimension_numbers,
                                conv_general_dilated, dot_general)
from jaxel.lax.shape_ops import broadcast_in_dim, reshape, transpose

# What ``conv_general_dilated``'s ``dimension_numbers`` accepts.
ConvGeneralDilatedDimensionNumbers = Union[tuple[str, str, str], ConvDimensionNumbers, None]


def conv_general_permutations(dimension_numbers):
    """For three spec strings ``(lhs, rhs, out)``, the permutations that bring each operand to
    XLA's canonical order: (batch, feature, spatial...) for lhs/out and (out feature, in
    feature, spatial...) for rhs, spatial dimensions ordered as in the rhs spec.

    Example::

        >>> lax.conv_general_permutations(("NHWC", "HWIO", "NHWC"))
        ((0, 3, 1, 2), (3, 2, 0, 1), (0, 3, 1, 2))
    """
    specs = tuple(dimension_numbers)
    pairs = (("N", "C"), ("O", "I"), ("N", "C"))
    for i, (spec, (a, b)) in enumerate(zip(specs, pairs)):
        if spec.count(a) != 1 or spec.count(b) != 1:
            raise TypeError(f"convolution dimension_numbers[{i}] must contain the characters "
                            f"'{a}' and '{b}' exactly once, got {spec}.")
        if len(set(spec)) != len(spec):
            raise TypeError(f"convolution dimension_numbers[{i}] cannot have duplicate "
                            f"characters, got {spec}.")
    spatial = [set(s) - set(p) for s, p in zip(specs, pairs)]
    if not spatial[0] == spatial[1] == spatial[2]:
        raise TypeError("convolution dimension_numbers elements must each have the same set "
                        f"of spatial characters, got {specs}.")
    rhs = specs[1]
    out = []
    for spec, (a, b) in zip(specs, pairs):
        dims = [i for i, c in enumerate(spec) if c not in (a, b)]
        if spec is not rhs:
            dims.sort(key=lambda i: rhs.index(spec[i]))
        out.append((spec.index(a), spec.index(b)) + tuple(dims))
    return tuple(out)


def conv_shape_tuple(lhs_shape, rhs_shape, strides, pads, batch_group_count=1):
    """The output shape of a convolution of operands in canonical order (``NC...`` and
    ``OI...``); ``pads`` is a padding name or ``(low, high)`` pairs.

    Example::

        >>> lax.conv_shape_tuple((1, 3, 8, 8), (16, 3, 3, 3), (1, 1), "SAME")
        (1, 16, 8, 8)
    """
    from jaxel.lax.windowed import padtype_to_pads
    lhs_shape, rhs_shape = tuple(lhs_shape), tuple(rhs_shape)
    if isinstance(pads, str):
        pads = padtype_to_pads(lhs_shape[2:], rhs_shape[2:], strides, pads)
    if len(pads) != len(lhs_shape) - 2:
        raise TypeError("Wrong number of explicit pads for convolution: expected "
                        f"{len(lhs_shape) - 2}, got {len(pads)}.")
    padded = [int(n) + int(lo) + int(hi) for n, (lo, hi) in zip(lhs_shape[2:], pads)]
    if any(p < 0 for p in padded):
        raise ValueError("Negative padding is larger than the size of the corresponding "
                         f"dimension: got padding={pads} for lhs_shape[2:]={lhs_shape[2:]}")
    space = tuple(0 if p < k else (p - k) // s + 1
                  for p, k, s in zip(padded, rhs_shape[2:], strides))
    batch = lhs_shape[0] // batch_group_count if batch_group_count > 1 else lhs_shape[0]
    return (int(batch), int(rhs_shape[0])) + tuple(int(d) for d in space)


def _permuted(shape, perm):
    return tuple(int(shape[p]) for p in perm)


def _unpermute(shape, perm):
    out = [0] * len(perm)
    for i, p in enumerate(perm):
        out[p] = int(shape[i])
    return tuple(out)


def conv_general_shape_tuple(lhs_shape, rhs_shape, window_strides, padding, dimension_numbers):
    """The output shape of ``conv_general_dilated`` (no dilation) for spec-string
    ``dimension_numbers``.

    Example::

        >>> lax.conv_general_shape_tuple((1, 8, 8, 3), (3, 3, 3, 16), (1, 1), "VALID",
        ...                              ("NHWC", "HWIO", "NHWC"))
        (1, 6, 6, 16)
    """
    lp, rp, op = conv_general_permutations(dimension_numbers)
    out = conv_shape_tuple(_permuted(lhs_shape, lp), _permuted(rhs_shape, rp), window_strides,
                           padding)
    return _unpermute(out, op)


def conv_transpose_shape_tuple(lhs_shape, rhs_shape, window_strides, padding,
                               dimension_numbers):
    """The output shape of ``conv_transpose`` for spec-string ``dimension_numbers``.

    Example::

        >>> lax.conv_transpose_shape_tuple((1, 4, 4, 3), (3, 3, 3, 8), (2, 2), "SAME",
        ...                                ("NHWC", "HWIO", "NHWC"))
        (1, 8, 8, 8)
    """
    lp, rp, op = conv_general_permutations(dimension_numbers)
    lhs_t, rhs_t = _permuted(lhs_shape, lp), _permuted(rhs_shape, rp)
    if isinstance(padding, str):
        padding = [_transpose_pads(k, s, padding) for k, s in zip(rhs_t[2:], window_strides)]
    totals = [sum(int(v) for v in p) for p in padding]
    space = [(i - 1) * s - k + 2 + t
             for i, k, s, t in zip(lhs_t[2:], rhs_t[2:], window_strides, totals)]
    return _unpermute((lhs_t[0], rhs_t[0]) + tuple(space), op)


def _move_front_pair(x, dst0, dst1):
    """``x`` with its dimensions 0 and 1 moved to ``dst0`` and ``dst1`` (the others keep
    their order), like NumPy's ``moveaxis``."""
    nd = aval_of(x).ndim
    rest = iter(range(2, nd))
    perm = [0 if d == dst0 else 1 if d == dst1 else next(rest) for d in range(nd)]
    return transpose(x, tuple(perm))


def conv_general_dilated_patches(lhs, filter_shape, window_strides, padding, lhs_dilation=None,
                                 rhs_dilation=None, dimension_numbers=None, precision=None,
                                 preferred_element_type=None):
    """The patches that a convolution with a ``filter_shape`` window would see: every output
    position gets ``C * prod(filter_shape)`` features (input channel major, then the window
    positions in ``filter_shape`` order).

    Args and layout rules are those of ``conv_general_dilated`` (``filter_shape`` lists the
    window's spatial sizes in the rhs spec's order). Computed as a grouped convolution with a
    one-hot kernel, so it is exact and differentiable.

    Example::

        >>> lax.conv_general_dilated_patches(jnp.ones((1, 2, 4, 4)), (2, 2), (1, 1),
        ...                                  "VALID").shape
        (1, 8, 3, 3)
    """
    from jaxel.lax.dot_conv import Precision
    a = aval_of(lhs)
    filter_shape = tuple(int(d) for d in filter_shape)
    dn = conv_dimension_numbers(a.shape, (1, 1) + filter_shape, dimension_numbers)
    window = math.prod(filter_shape)
    channels = a.shape[dn.lhs_spec[1]]
    # Kernel (C * window, 1, *filter_shape): output feature c * window + p copies window
    # position p of input channel c.
    eye = np.eye(window, dtype=a.dtype)
    rhs = broadcast_in_dim(eye, (channels, window, window), (1, 2))
    rhs = reshape(rhs, (channels * window, 1) + filter_shape)
    rhs = _move_front_pair(rhs, dn.rhs_spec[0], dn.rhs_spec[1])
    return conv_general_dilated(
        lhs, rhs, window_strides, padding, lhs_dilation=lhs_dilation,
        rhs_dilation=rhs_dilation, dimension_numbers=dn,
        precision=None if precision is None else (precision, Precision.DEFAULT),
        feature_group_count=channels, preferred_element_type=preferred_element_type)


def conv_general_dilated_local(lhs, rhs, window_strides, padding, filter_shape,
                               lhs_dilation=None, rhs_dilation=None, dimension_numbers=None,
                               precision=None):
    """An unshared convolution: every output position has its own kernel.

    ``rhs`` has the rank of ``lhs``; its spatial dimensions index *output* positions and its
    ``I`` dimension fuses the input channel with the receptive window (channel major, then
    the window in rhs-spec order), i.e. the features of ``conv_general_dilated_patches``.

    Example::

        >>> x = jnp.ones((1, 2, 4, 4))                     # NCHW
        >>> w = jnp.ones((3, 2 * 2 * 2, 3, 3))             # O, I*window, out H, out W
        >>> lax.conv_general_dilated_local(x, w, (1, 1), "VALID", (2, 2)).shape
        (1, 3, 3, 3)
    """
    from jaxel.lax.dot_conv import canonicalize_precision
    p = canonicalize_precision(precision)
    if p is None:
        lhs_precision = None
    elif isinstance(p, tuple) and len(p) == 2:
        lhs_precision = p[0]
    else:
        raise ValueError(f"Unsupported precision for conv_general_dilated_local: {precision}")
    filter_shape = tuple(int(d) for d in filter_shape)
    patches = conv_general_dilated_patches(
        lhs, filter_shape, window_strides, padding, lhs_dilation=lhs_dilation,
        rhs_dilation=rhs_dilation, dimension_numbers=dimension_numbers, precision=lhs_precision)
    lspec, rspec, ospec = conv_dimension_numbers(aval_of(lhs).shape, (1, 1) + filter_shape,
                                                 dimension_numbers)
    # Contract the patch features with the kernel's I dimension; every output position
    # (spatial dimension) is a batch dimension of the product, paired in output order.
    out_sp = list(ospec[2:])
    rhs_sp = [rspec[2:][i] for i in sorted(range(len(out_sp)), key=lambda k: out_sp[k])]
    dn = (((ospec[1],), (rspec[1],)), (tuple(sorted(out_sp)), tuple(rhs_sp)))
    out = dot_general(patches, rhs, dn, precision=precision)
    # Result: (spatial..., batch, out feature); move the last two where out_spec wants them.
    nd = aval_of(out).ndim
    src = list(range(nd - 2))
    perm = [None] * nd
    perm[ospec[0]], perm[ospec[1]] = nd - 2, nd - 1
    it = iter(src)
    perm = [q if q is not None else next(it) for q in perm]
    return transpose(out, tuple(perm))


__all__ = ["ConvGeneralDilatedDimensionNumbers", "conv_general_permutations",
           "conv_shape_tuple", "conv_general_shape_tuple", "conv_transpose_shape_tuple",
           "conv_general_dilated_patches", "conv_general_dilated_local"]
