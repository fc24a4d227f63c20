"""Shared machinery of the NumPy layer: promotion and broadcasting, composed from lax.

Every ``jaxel.numpy`` function is a composition of lax primitives; these helpers give them
NumPy's (JAX's) promotion and broadcasting semantics with clear errors.
"""
from __future__ import annotations

import warnings

import numpy as np

from jaxel import dtypes as _dtypes
from jaxel.config import config
from jaxel import lax
from jaxel.errors import _IncompatibleShapesError
from jaxel.runtime.array import Array
from jaxel.tracing.core import Literal, Tracer, abstractify, check_python_int, literal

_python_scalars = (bool, int, float, complex)


def is_eager(x) -> bool:
    """True for an uncommitted concrete array used outside any trace: there, a static
    parameter that varies per call (an index, a shift) would compile a new program per value,
    so callers pass such values as device scalars instead (see ``index_scalar``)."""
    from jaxel.tracing.core import _state
    from jaxel.tracing.eval_trace import eval_trace
    return type(x) is Array and x._device is None and _state.trace is eval_trace


def index_scalar(i: int, bound: int):
    """``i`` as an uncommitted device scalar operand (int32 when ``bound`` fits it)."""
    from jaxel.runtime.transfer import scalar_to_array
    from jaxel.tracing.avals import ShapedArray
    dt = np.dtype(np.int32 if bound < 2 ** 31 else np.int64)
    return scalar_to_array(np.asarray(i, dt), ShapedArray((), dt), None)


def aval_of(x):
    a = getattr(x, "aval", None)
    return a if a is not None else abstractify(x)


def check_arraylike(fun_name: str, *args):
    """TypeError naming the argument position when an argument is not array-like."""
    for i, x in enumerate(args):
        if not (isinstance(x, (Tracer, Array, np.ndarray, np.generic, Literal))
                or type(x) in _python_scalars or isinstance(x, _python_scalars)):
            if isinstance(x, (list, tuple)):
                msg = (f"jaxel.numpy.{fun_name} requires array-like arguments, but argument {i} "
                       f"is a {type(x).__name__}. Convert it with jnp.asarray(...) first "
                       "(jaxel does not convert lists implicitly, as JAX).")
            else:
                msg = (f"jaxel.numpy.{fun_name} requires array-like arguments, but argument {i} "
                       f"is {type(x).__name__}: {x!r:.80}.")
            raise TypeError(msg)


def promote_dtypes(*args):
    """Convert args to their common (JAX-promoted) dtype; Python scalars become Literals."""
    if len(args) < 2:
        return args
    dt, weak = _dtypes.result_type(*args, return_weak_type_flag=True)
    return tuple(_to_dtype(x, dt, weak) for x in args)


_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)


def to_inexact_dtype(dt):
    """The floating dtype JAX 0.12.1 computes a non-floating ``dt`` in: float64 for 64-bit
    integers (so only with x64), float32 for booleans and narrower integers even with x64."""
    if _dtypes.is_inexact(dt):
        return dt
    return _F64 if dt.itemsize == 8 else _F32


def promote_dtypes_inexact(*args):
    """Like ``promote_dtypes`` but the result is floating (ints and bools become floats: see
    ``to_inexact_dtype``)."""
    dt, weak = _dtypes.result_type(*args, return_weak_type_flag=True)
    dt = to_inexact_dtype(dt)
    return tuple(_to_dtype(x, dt, weak) for x in args)


def promote_dtypes_numeric(*args):
    """Like ``promote_dtypes`` but a boolean result becomes the default integer dtype (the
    arithmetic that has no boolean form: floor division, remainder, shifts, powers). Works for
    one argument too (which then becomes an array-like of that dtype)."""
    dt, weak = _dtypes.result_type(*args, return_weak_type_flag=True)
    if dt == np.bool_:
        dt = _dtypes.default_int_dtype()
    return tuple(_to_dtype(x, dt, weak) for x in args)


def _to_dtype(x, dt, weak):
    t = type(x)
    if t in _python_scalars:
        if t is int:
            check_python_int(x)
        return literal(x, dt, weak)
    aval = aval_of(x)
    if aval.dtype == dt and aval.weak_type == weak:
        return x
    if isinstance(x, (np.ndarray, np.generic)) and np.ndim(x) == 0:
        return literal(x, dt, weak)
    if aval.dtype == dt:
        return lax.convert_element_type_p.bind(x, new_dtype=dt, weak_type=weak, sharding=None) \
            if aval.weak_type != weak and not isinstance(x, np.ndarray) else x
    return lax.convert_element_type_p.bind(x, new_dtype=dt, weak_type=weak, sharding=None)


def broadcast_shapes(*shapes):
    """The broadcast of ``shapes`` (NumPy rules); ValueError naming all shapes if impossible."""
    ndim = max((len(s) for s in shapes), default=0)
    out = []
    for i in range(-ndim, 0):
        size = 1
        for s in shapes:
            if len(s) >= -i:
                d = s[i]
                if d != 1:
                    if size != 1 and size != d:
                        raise _IncompatibleShapesError(
                            "Incompatible shapes for broadcasting: shapes="
                            f"{[tuple(s) for s in shapes]}")
                    size = d
        out.append(size)
    return tuple(out)


def broadcast_to_shape(x, shape):
    """Broadcast ``x`` to ``shape`` with ``broadcast_in_dim`` (no-op when already there)."""
    aval = aval_of(x)
    if aval.shape == shape:
        return x
    nlead = len(shape) - aval.ndim
    if nlead < 0:
        raise ValueError(f"Cannot broadcast an array of shape {aval.shape} to {shape}.")
    for d, s in zip(aval.shape, shape[nlead:]):
        if d not in (1, s):
            raise _IncompatibleShapesError(f"Incompatible shapes for broadcasting: shapes="
                                           f"[{aval.shape}, {shape}]")
    if type(x) is Literal:  # a scalar literal broadcasts by becoming a full array
        return lax.broadcast_in_dim_p.bind(x, shape=tuple(shape), broadcast_dimensions=(),
                                           sharding=None)
    # Size-1 dims that must stretch: drop them with reshape, then broadcast.
    keep = [i for i, (d, s) in enumerate(zip(aval.shape, shape[nlead:])) if d == s]
    if len(keep) != aval.ndim:
        x = lax.reshape(x, tuple(aval.shape[i] for i in keep))
    return lax.broadcast_in_dim(x, shape, tuple(nlead + i for i in keep))


def check_rank_promotion(fun_name, shapes):
    """Enforce ``jax_numpy_rank_promotion``: warn or raise when non-scalar operands of
    different ranks would be broadcast together (scalars are always fine)."""
    mode = config.jax_numpy_rank_promotion
    if mode == "allow" or len({len(s) for s in shapes if s}) < 2:
        return
    shown = " ".join(str(tuple(s)) for s in shapes)
    if mode == "raise":
        raise ValueError(
            f"Operands could not be broadcast together for {fun_name} on shapes {shown} and "
            "with the config option jax_numpy_rank_promotion='raise'. Add the missing "
            "dimensions explicitly (e.g. x[None, :] or jnp.expand_dims), or set the option to "
            "'allow'.")
    warnings.warn(
        f"Following NumPy automatic rank promotion for {fun_name} on shapes {shown}. Set the "
        "jax_numpy_rank_promotion config option to 'allow' to disable this warning.",
        stacklevel=4)


def promote_and_broadcast(fun_name, *args):
    """Promote dtypes and broadcast shapes of ``args`` (the common prologue of ufuncs)."""
    args = promote_dtypes(*args)
    shapes = [aval_of(a).shape for a in args]
    first = None
    for s in shapes:  # rank-0 operands never need broadcasting (lax handles them)
        if s:
            if first is None:
                first = s
            elif s != first:
                break
    else:
        return args
    if config.jax_numpy_rank_promotion != "allow":
        check_rank_promotion(fun_name, shapes)
    try:
        shape = broadcast_shapes(*shapes)
    except ValueError as e:  # TypeError as JAX's, and ValueError as NumPy's
        raise _IncompatibleShapesError(f"jaxel.numpy.{fun_name}: {e}") from None
    # Rank-0 operands stay as they are: lax's elementwise ops broadcast them in the program.
    return tuple(a if aval_of(a).shape in (shape, ()) else broadcast_to_shape(a, shape)
                 for a in args)


def canonicalize_axis(axis: int, ndim: int) -> int:
    """Normalise a possibly negative axis; out of range raises NumPy's ``AxisError``, which is
    both the ValueError JAX raises and the IndexError the Array API standard asks for."""
    axis = int(axis)
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(axis, ndim)
    return axis % ndim if ndim else 0
