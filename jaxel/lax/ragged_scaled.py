"""Grouped and block-scaled contractions as compositions of ``dot_general``: ``ragged_dot``,
``ragged_dot_general`` (rows of the left operand split into consecutive groups, each group
multiplied by its own right-hand matrix) and ``scaled_dot`` (operands multiplied by per-block
scales before the product).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from jaxel.lax._rules import aval_of
from jaxel.lax.dot_conv import dot_general


@dataclasses.dataclass(frozen=True, init=False)
class RaggedDotDimensionNumbers:
    """Dimension numbers of ``ragged_dot_general``: the ``dot_general`` dimension numbers
    ``((lhs_contracting, rhs_contracting), (lhs_batch, rhs_batch))``, the lhs dimension that
    is split into groups, and the rhs dimension that indexes the groups."""
    dot_dimension_numbers: tuple
    lhs_ragged_dimensions: tuple
    rhs_group_dimensions: tuple

    def __init__(self, dot_dimension_numbers, lhs_ragged_dimensions, rhs_group_dimensions):
        object.__setattr__(self, "dot_dimension_numbers",
                           tuple(tuple(tuple(d) for d in t) for t in dot_dimension_numbers))
        object.__setattr__(self, "lhs_ragged_dimensions", tuple(lhs_ragged_dimensions))
        object.__setattr__(self, "rhs_group_dimensions", tuple(rhs_group_dimensions))


def _group_mask(group_sizes, rows, dtype):
    """``mask[r, g]``: row ``r`` belongs to group ``g`` (groups are consecutive row ranges;
    rows past the last group belong to none)."""
    from jaxel.lax.elementwise import convert_element_type, ge, lt
    from jaxel.lax.reductions import cumsum
    from jaxel.lax.shape_ops import broadcast_in_dim, broadcasted_iota
    sizes = aval_of(group_sizes)
    g = sizes.shape[0]
    ends = cumsum(group_sizes, 0)
    starts = ends - group_sizes
    r = broadcasted_iota(sizes.dtype, (rows, g), 0)
    inside = ge(r, broadcast_in_dim(starts, (rows, g), (1,))) & \
        lt(r, broadcast_in_dim(ends, (rows, g), (1,)))
    return convert_element_type(inside, dtype)


def ragged_dot(lhs, rhs, group_sizes, precision=None, preferred_element_type=None,
               group_offset=None, out_sharding=None, *, reduction_order=None):
    """Grouped matrix product: ``lhs`` is ``[m, k]``, ``rhs`` is ``[g, k, n]`` and
    ``group_sizes`` (``[g]`` integers) splits the ``m`` rows into consecutive groups; row ``r``
    of group ``i`` is multiplied by ``rhs[i]``. Rows beyond ``sum(group_sizes)`` give zeros.

    Example::

        >>> lhs = jnp.ones((3, 2)); rhs = jnp.stack([jnp.eye(2), 2 * jnp.eye(2)])
        >>> lax.ragged_dot(lhs, rhs, jnp.array([1, 2]))
        Array([[1., 1.],
               [2., 2.],
               [2., 2.]], dtype=float32)
    """
    dn = RaggedDotDimensionNumbers((((1,), (1,)), ((), ())), (0,), (0,))
    return ragged_dot_general(lhs, rhs, group_sizes, dn, precision, preferred_element_type,
                              group_offset)


def ragged_dot_general(lhs, rhs, group_sizes, ragged_dot_dimension_numbers, precision=None,
                       preferred_element_type=None, group_offset=None, out_sharding=None, *,
                       reduction_order=None):
    """``ragged_dot`` with explicit dimension numbers.

    jaxel supports the layout where the ragged lhs dimension is its one non-contracting,
    non-batch dimension and the rhs has one group dimension (``ragged_dot``'s case, with any
    dimension order); other layouts raise NotImplementedError.
    """
    from jaxel.lax.elementwise import mul
    from jaxel.lax.reductions import reduce_sum
    from jaxel.lax.shape_ops import broadcast_in_dim, transpose
    if group_offset is not None:
        raise NotImplementedError("ragged_dot: group_offset is not supported by jaxel.")
    dn = ragged_dot_dimension_numbers
    (lc, rc), (lb, rb) = dn.dot_dimension_numbers
    la, ra = aval_of(lhs), aval_of(rhs)
    if (lb or rb or len(dn.lhs_ragged_dimensions) != 1 or len(dn.rhs_group_dimensions) != 1
            or la.ndim != len(lc) + 1 or dn.lhs_ragged_dimensions[0] in lc):
        raise NotImplementedError(
            "lax.ragged_dot_general: jaxel supports a ragged lhs dimension that is the lhs's "
            "only free dimension, one rhs group dimension and no batch dimensions; got "
            f"{dn} for shapes {la.shape} and {ra.shape}.")
    m_dim, g_dim = dn.lhs_ragged_dimensions[0], dn.rhs_group_dimensions[0]
    # Every row times every group's matrix: (m, g, n...), then keep each row's own group.
    prod = dot_general(lhs, rhs, ((lc, rc), ((), ())), precision, preferred_element_type)
    pa = aval_of(prod)
    rhs_free = [d for d in range(ra.ndim) if d not in rc]
    g_pos = 1 + rhs_free.index(g_dim)
    perm = (0, g_pos) + tuple(d for d in range(1, pa.ndim) if d != g_pos)
    prod = transpose(prod, perm)
    mask = _group_mask(group_sizes, la.shape[m_dim], aval_of(prod).dtype)
    mask = broadcast_in_dim(mask, aval_of(prod).shape, (0, 1))
    return reduce_sum(mul(prod, mask), (1,))


def _expand_scale(scale, operand_shape, contracting):
    """A block scale repeated to the operand's shape along the contracting dimensions."""
    from jaxel.lax.shape_ops import broadcast_in_dim, reshape
    sa = aval_of(scale)
    shape, dims, final = [], [], []
    for d, (n, s) in enumerate(zip(operand_shape, sa.shape)):
        if d in contracting and s != n:
            if n % s:
                raise TypeError(f"lax.scaled_dot: scale dimension {d} of size {s} does not "
                                f"divide the operand's size {n}.")
            dims.append(len(shape))
            shape += [s, n // s]
        else:
            dims.append(len(shape))
            shape.append(n)
        final.append(n)
    return reshape(broadcast_in_dim(scale, tuple(shape), tuple(dims)), tuple(final))


def scaled_dot(lhs, rhs, *, lhs_scale=None, rhs_scale=None, dimension_numbers=None,
               preferred_element_type=None):
    """A block-scaled dot: ``dot_general(lhs * lhs_scale, rhs * rhs_scale)`` where each scale
    has its operand's shape except along the contracting dimensions, which it divides into
    equal blocks (one scale per block). The result is bfloat16 unless
    ``preferred_element_type`` says otherwise.

    Example::

        >>> lax.scaled_dot(jnp.ones((2, 4)), jnp.ones((4, 3))).dtype
        dtype(bfloat16)
    """
    import ml_dtypes
    from jaxel import dtypes as _dtypes
    from jaxel.lax.elementwise import convert_element_type, mul
    la, ra = aval_of(lhs), aval_of(rhs)
    if dimension_numbers is None:
        dimension_numbers = (((la.ndim - 1,), (0,)), ((), ()))
    (lc, rc), (lb, rb) = dimension_numbers
    pet = (np.dtype(ml_dtypes.bfloat16) if preferred_element_type is None
           else _dtypes.check_and_canonicalize_user_dtype(preferred_element_type, "scaled_dot"))
    f32 = np.dtype(np.float32)
    lhs, rhs = convert_element_type(lhs, f32), convert_element_type(rhs, f32)
    if lhs_scale is not None:
        lhs = mul(lhs, convert_element_type(_expand_scale(lhs_scale, la.shape, lc), f32))
    if rhs_scale is not None:
        rhs = mul(rhs, convert_element_type(_expand_scale(rhs_scale, ra.shape, rc), f32))
    out = dot_general(lhs, rhs, ((tuple(lc), tuple(rc)), (tuple(lb), tuple(rb))),
                      preferred_element_type=f32)
    return convert_element_type(out, pet)


__all__ = ["RaggedDotDimensionNumbers", "ragged_dot", "ragged_dot_general", "scaled_dot"]
