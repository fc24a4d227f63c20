"""Shared pieces of automatic differentiation: symbolic zeros, undefined primals, tangent
avals, and the rule-makers the primitive families use to declare JVP and transpose rules.

Rule signatures (attributes of ``Primitive``):

* ``prim.jvp(primals, tangents, **params) -> (primal_out, tangent_out)``. ``tangents`` holds a
  ``Zero`` for every operand whose tangent is known to be zero. The rule runs with the JVP
  trace's *parent* current, so it computes with ordinary lax functions. For
  ``multiple_results`` primitives both outputs are lists. A ``Zero`` output tangent is allowed.
* ``prim.transpose(ct, *args, **params) -> list`` (linear primitives only). Operands in which
  the primitive is linear arrive as ``UndefinedPrimal(aval)``; the others are values. Returns
  one cotangent per operand (``None`` for operands that are not ``UndefinedPrimal`` or whose
  cotangent is zero). ``ct`` is never a ``Zero`` for single-result primitives; for
  ``multiple_results`` it is a list that may contain ``Zero``.
"""
from __future__ import annotations

import numpy as np

from jaxel import dtypes as _dtypes
from jaxel.tracing.avals import ShapedArray
from jaxel.tracing.core import abstractify, literal

float0 = _dtypes.float0


class Zero:
    """A symbolic zero tangent (or cotangent) of abstract value ``aval``."""

    __slots__ = ("aval",)

    def __init__(self, aval: ShapedArray):
        self.aval = aval

    def __repr__(self):
        return f"Zero({self.aval.str_short()})"


class SymbolicZero:
    """A zero tangent or cotangent as custom rules with ``symbolic_zeros=True`` see it
    (``jax.custom_derivatives.SymbolicZero``): it has the zero's ``aval`` and forwards
    ``shape``, ``dtype`` and the other aval attributes to it. Rules may also return one.

    Example::

        >>> z = SymbolicZero.from_primal_value(jnp.ones(3))
        >>> z.shape, z.dtype
        ((3,), dtype('float32'))
    """

    def __init__(self, aval: ShapedArray):
        self.aval = aval

    def __repr__(self):
        return "SymbolicZero"

    def __getattr__(self, name):
        if name == "aval":  # not set yet (e.g. during unpickling): no recursion
            raise AttributeError(name)
        try:
            return getattr(self.aval, name)
        except AttributeError:
            raise AttributeError(f"SymbolicZero has no attribute {name}") from None

    @staticmethod
    def from_primal_value(val) -> "SymbolicZero":
        """The symbolic zero tangent of the primal value ``val``."""
        return SymbolicZero(tangent_aval(aval_of(val)))


def zero_from_primal(val, symbolic_zeros=False):
    """Zero tangents for the pytree of primal values ``val``: ``SymbolicZero`` leaves with
    ``symbolic_zeros``, else zero arrays (float0 ones for integer primals)."""
    from jaxel import tree_util

    def zero(x):
        t = tangent_aval(aval_of(x))
        return SymbolicZero(t) if symbolic_zeros else zeros_like_aval(t)

    return tree_util.tree_map(zero, val)


class UndefinedPrimal:
    """An operand of a linear primitive in which the transpose rule is asked to be linear."""

    __slots__ = ("aval",)

    def __init__(self, aval: ShapedArray):
        self.aval = aval

    def __repr__(self):
        return f"UndefinedPrimal({self.aval.str_short()})"


def is_undefined(x) -> bool:
    """True for an ``UndefinedPrimal`` (the linear operand of a transpose rule)."""
    return type(x) is UndefinedPrimal


def aval_of(x) -> ShapedArray:
    """The aval of a value, tracer, ``Zero`` or ``UndefinedPrimal``."""
    a = getattr(x, "aval", None)
    return a if a is not None else abstractify(x)


def is_differentiable_dtype(dt) -> bool:
    """Floating and complex dtypes carry tangents; integers and bools get ``float0``."""
    dt = np.dtype(dt)
    return dt.kind in "fc" or (dt.kind == "V" and _dtypes.is_float(dt))


def tangent_aval(aval: ShapedArray) -> ShapedArray:
    """The aval of tangents of values of ``aval`` (``float0`` for integer/bool values)."""
    if is_differentiable_dtype(aval.dtype):
        return aval
    return ShapedArray(aval.shape, float0, False)


def zero_like(x) -> Zero:
    """The symbolic zero tangent of primal value ``x``."""
    return Zero(tangent_aval(aval_of(x)))


def zeros_like_aval(aval: ShapedArray):
    """A materialised zero array of ``aval`` (float0 zeros are NumPy arrays, as in JAX)."""
    if aval.dtype == float0:
        return np.zeros(aval.shape, float0)
    from jaxel.lax.shape_ops import broadcast_in_dim_p
    z = literal(0, aval.dtype, aval.weak_type)
    if not aval.shape:
        from jaxel.lax.elementwise import convert_element_type_p
        return convert_element_type_p.bind(z, new_dtype=aval.dtype, weak_type=aval.weak_type,
                                           sharding=None)
    return broadcast_in_dim_p.bind(z, shape=aval.shape, broadcast_dimensions=(), sharding=None)


def instantiate(t):
    """``t`` itself, or a zero array when ``t`` is a symbolic ``Zero``."""
    return zeros_like_aval(t.aval) if type(t) is Zero else t


def add_tangents(a, b):
    """The sum of two tangents of the same aval, keeping symbolic zeros symbolic."""
    if type(a) is Zero:
        return b
    if type(b) is Zero:
        return a
    if aval_of(a).dtype == float0:
        return a
    from jaxel.lax.elementwise import add_p
    return add_p.bind(a, b)


def broadcast_to_aval(t, aval: ShapedArray):
    """Broadcast a rank-0 tangent to ``aval``'s shape (lax elementwise ops broadcast rank-0
    operands, so their tangents must be broadcast too)."""
    if type(t) is Zero:
        return Zero(ShapedArray(aval.shape, t.aval.dtype, t.aval.weak_type))
    a = aval_of(t)
    if a.shape == aval.shape:
        return t
    from jaxel.lax.shape_ops import broadcast_in_dim_p
    return broadcast_in_dim_p.bind(t, shape=aval.shape, broadcast_dimensions=(), sharding=None)


def unbroadcast(ct, aval: ShapedArray):
    """The cotangent of a rank-0 operand that an elementwise op broadcast: sum ``ct`` down to
    ``aval``'s shape (a no-op when the shapes already agree)."""
    c = aval_of(ct)
    if c.shape == aval.shape:
        return ct
    from jaxel.lax.reductions import reduce_sum_p
    return reduce_sum_p.bind(ct, axes=tuple(range(len(c.shape))))


# ---- rule-makers ---------------------------------------------------------------------------
def defjvp(prim, *operand_rules):
    """JVP from one rule per operand: ``rule(t, *primals, **params)`` is that operand's
    contribution to the output tangent (``None``: the operand is not differentiable). The
    contributions are summed; rank-0 operands' contributions are broadcast."""
    def jvp(primals, tangents, **params):
        out = prim.bind(*primals, **params)
        out_aval = aval_of(out)
        total = Zero(tangent_aval(out_aval))
        for rule, t in zip(operand_rules, tangents):
            if rule is None or type(t) is Zero:
                continue
            total = add_tangents(total, broadcast_to_aval(rule(t, *primals, **params), out_aval))
        return out, total
    prim.jvp = jvp
    return jvp


def defjvp2(prim, *operand_rules):
    """As ``defjvp``, but each rule also receives the primal output:
    ``rule(t, ans, *primals, **params)`` (for ``exp``, ``sqrt``, ``tanh``...)."""
    def jvp(primals, tangents, **params):
        out = prim.bind(*primals, **params)
        out_aval = aval_of(out)
        total = Zero(tangent_aval(out_aval))
        for rule, t in zip(operand_rules, tangents):
            if rule is None or type(t) is Zero:
                continue
            total = add_tangents(total,
                                 broadcast_to_aval(rule(t, out, *primals, **params), out_aval))
        return out, total
    prim.jvp = jvp
    return jvp


def defjvp_zero(prim):
    """The output does not depend differentiably on the inputs (comparisons, integer ops,
    argmax, ...): its tangent is a symbolic zero (``float0`` for integer outputs)."""
    def jvp(primals, tangents, **params):
        out = prim.bind(*primals, **params)
        if prim.multiple_results:
            return out, [zero_like(o) for o in out]
        return out, zero_like(out)
    prim.jvp = jvp
    return jvp


def deflinear(prim, transpose_rule):
    """A primitive linear in all its operands: the tangent is the primitive applied to the
    tangents (zeros instantiated), and ``transpose_rule(ct, *args, **params)`` transposes it."""
    def jvp(primals, tangents, **params):
        out = prim.bind(*primals, **params)
        if all(type(t) is Zero for t in tangents):
            return out, (Zero(tangent_aval(aval_of(out))) if not prim.multiple_results
                         else [zero_like(o) for o in out])
        return out, prim.bind(*[instantiate(t) for t in tangents], **params)
    prim.jvp = jvp
    prim.transpose = transpose_rule
    return jvp


__all__ = ["Zero", "UndefinedPrimal", "is_undefined", "tangent_aval", "zero_like",
           "zeros_like_aval", "instantiate", "add_tangents", "broadcast_to_aval", "unbroadcast",
           "defjvp", "defjvp2", "defjvp_zero", "deflinear", "float0", "is_differentiable_dtype"]
