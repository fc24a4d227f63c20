"""Rule-makers shared by primitive families, so a typical primitive is a few lines.

A primitive is declared once, in its family module, with every rule beside it. These helpers
build the common shapes of rules: elementwise abstract evaluation and lowering, and the
operand preparation lax wrappers share (Python scalars become weakly typed Literals).
"""
from __future__ import annotations

import numpy as np

from jaxel import dtypes as _dtypes
from jaxel.lowering.emitter import tensor_type
from jaxel.tracing.avals import ShapedArray
from jaxel.tracing.core import Literal, Primitive, abstractify, check_python_int, literal

_python_scalars = (bool, int, float, complex)

# Dtype kinds accepted by elementwise ops (checked in abstract eval, with clear errors).
BOOL = "bool"
SINT = "signed"
UINT = "unsigned"
INT = (SINT, UINT)
FLOAT = "float"
COMPLEX = "complex"
NUMBER = (SINT, UINT, FLOAT, COMPLEX)
INEXACT = (FLOAT, COMPLEX)
INTEGRAL = (BOOL, SINT, UINT)
ANY = (BOOL, SINT, UINT, FLOAT, COMPLEX)


def dtype_kind(dt: np.dtype) -> str:
    """Which of BOOL/SINT/UINT/FLOAT/COMPLEX ``dt`` belongs to."""
    k = dt.kind
    if k == "b":
        return BOOL
    if k == "i":
        return SINT
    if k == "u":
        return UINT
    if k == "c":
        return COMPLEX
    if k == "f":
        return FLOAT
    if k == "V":  # ml_dtypes types (bfloat16, float8_*, int4...) report kind 'V'
        if _dtypes.is_float(dt):
            return FLOAT
        if _dtypes.is_signed(dt):
            return SINT
        if _dtypes.is_unsigned(dt):
            return UINT
        if _dtypes.is_complex(dt):  # bcomplex32 (complex32 reports kind 'c')
            return COMPLEX
    return "other"


def _kinds_tuple(kinds):
    return kinds if isinstance(kinds, tuple) else (kinds,)


def check_kinds(name: str, aval: ShapedArray, kinds, position: str = "operand"):
    """TypeError unless ``aval``'s dtype is of one of ``kinds``."""
    kinds = _kinds_tuple(kinds)
    if dtype_kind(aval.dtype) not in kinds:
        raise TypeError(f"lax.{name} does not accept dtype {aval.dtype.name} for its {position}; "
                        f"it accepts {', '.join(kinds)} dtypes.")


def check_same_shapes_dtypes(name: str, avals):
    """lax's elementwise ops need equal shapes (rank-0 operands broadcast) and equal dtypes
    (jnp functions promote). Returns the result shape."""
    shape = ()
    for a in avals:
        if a.shape:
            shape = a.shape
            break
    dt = avals[0].dtype
    for a in avals:
        if a.shape != shape and a.shape:
            shapes = ", ".join(str(x.shape) for x in avals)
            raise TypeError(f"lax.{name} got incompatible shapes for broadcasting: {shapes}. "
                            "(lax broadcasts only rank-0 operands; jaxel.numpy functions "
                            "broadcast fully.)")
        if a.dtype != dt:
            dts = ", ".join(x.dtype.name for x in avals)
            raise TypeError(f"lax.{name} requires arguments to have the same dtypes, got {dts}. "
                            f"(Tip: jaxel.numpy.{name} promotes types automatically.)")
    return shape


def broadcast_scalar_operands(ctx, xs):
    """In a lowering, broadcast rank-0 operands to the result shape."""
    shape = ctx.avals_out[0].shape
    if not shape:
        return list(xs)
    out = []
    for x, a in zip(xs, ctx.avals_in):
        if a.shape != shape:
            x = ctx.e.op1("stablehlo.broadcast_in_dim", [x], tensor_type(a.update(shape=shape)),
                          "broadcast_dimensions = array<i64>")
        out.append(x)
    return out


def weak_of(avals) -> bool:
    """Results are weakly typed only when every operand is."""
    for a in avals:
        if not a.weak_type:
            return False
    return True


def standard_unary(name: str, hlo_op: str, kinds=ANY, out_dtype=None, attrs: str = "") -> Primitive:
    """An elementwise one-operand primitive lowering to ``hlo_op``."""
    p = Primitive(name)

    def abstract_eval(x, **params):
        check_kinds(name, x, kinds)
        if out_dtype is None:
            return x
        return ShapedArray(x.shape, out_dtype(x.dtype), x.weak_type)

    def lowering(ctx, x, **params):
        return ctx.e.op1(hlo_op, [x], tensor_type(ctx.avals_out[0]), attrs)

    p.abstract_eval = abstract_eval
    p.lowering = lowering
    return p


def standard_naryop(name: str, hlo_op: str, kinds=ANY, nargs: int = 2, out_dtype=None,
                    attrs: str = "") -> Primitive:
    """An elementwise primitive of ``nargs`` same-shape, same-dtype operands."""
    p = Primitive(name)

    def abstract_eval(*avals, **params):
        for a in avals:
            check_kinds(name, a, kinds)
        shape = check_same_shapes_dtypes(name, avals)
        a0 = avals[0]
        dt = a0.dtype if out_dtype is None else out_dtype(a0.dtype)
        return ShapedArray(shape, dt, weak_of(avals))

    def lowering(ctx, *xs, **params):
        xs = broadcast_scalar_operands(ctx, xs)
        return ctx.e.op1(hlo_op, xs, tensor_type(ctx.avals_out[0]), attrs)

    p.abstract_eval = abstract_eval
    p.lowering = lowering
    return p


def _dtype_of(x):
    """dtype of an operand, or None for a Python scalar (which adopts the other's dtype)."""
    if type(x) in _python_scalars:
        return None
    dt = getattr(x, "dtype", None)
    if dt is None:
        return abstractify(x).dtype
    return dt


def as_operands(*xs):
    """Prepare operands of an elementwise lax op: Python scalars take the dtype of the array
    operands (weakly typed), as JAX's lax functions allow. All-scalar calls keep defaults."""
    dt = None
    for x in xs:
        if type(x) not in _python_scalars:
            dt = _dtype_of(x)
            break
    if dt is None:
        return xs
    for x in xs:
        if type(x) is int:
            check_python_int(x)
    return tuple(literal(x, dt, True) if type(x) in _python_scalars else x for x in xs)


def aval_of(x) -> ShapedArray:
    """The aval of any operand (tracer, Array, Literal, scalar, NumPy value)."""
    a = getattr(x, "aval", None)
    return a if a is not None else abstractify(x)


def canonical_axes(axes, ndim: int, what: str = "axis"):
    """Normalise (possibly negative) axes to a sorted tuple, checking range and duplicates."""
    out = []
    for a in axes:
        a = int(a)
        if not -ndim <= a < ndim:
            raise ValueError(f"{what} {a} is out of bounds for an array of rank {ndim}.")
        out.append(a % ndim if ndim else a)
    if len(set(out)) != len(out):
        raise ValueError(f"Duplicate {what} in {tuple(axes)}.")
    return tuple(out)


__all__ = ["standard_unary", "standard_naryop", "as_operands", "aval_of", "check_kinds",
           "check_same_shapes_dtypes", "weak_of", "dtype_kind", "canonical_axes", "Literal"]
