"""Argument checks shared by the samplers (shapes, dtypes), with JAX's error messages."""
from __future__ import annotations

import operator

import numpy as np

from jaxel import dtypes
from jaxel import numpy as jnp


def canonical_shape(shape, name: str) -> tuple:
    """A static shape: a sequence of non-negative Python/NumPy integers."""
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        out = tuple(operator.index(d) for d in shape)
    except TypeError:
        raise TypeError(f"jaxel.random.{name}: shape must be a sequence of concrete integers "
                        f"(a static shape); got {shape!r}.") from None
    if any(d < 0 for d in out):
        raise ValueError(f"jaxel.random.{name}: shape {out} has a negative dimension.")
    return out


def check_shape(name: str, shape, *param_shapes) -> None:
    """Parameters must broadcast to exactly ``shape``."""
    if param_shapes:
        try:
            b = jnp.broadcast_shapes(shape, *[tuple(s) for s in param_shapes])
        except ValueError:
            b = None
        if b != tuple(shape):
            raise ValueError(
                f"{name} parameter shapes must be broadcast-compatible with shape argument, and "
                f"the result of broadcasting the shapes must equal the shape argument, but got "
                f"parameter shapes {[tuple(s) for s in param_shapes]} for shape argument "
                f"{tuple(shape)}.")


def broadcast_param_shapes(name: str, shape, *params):
    shapes = [np.shape(p) for p in params]
    if shape is None:
        return tuple(jnp.broadcast_shapes(*shapes)) if shapes else ()
    shape = canonical_shape(shape, name)
    check_shape(name, shape, *shapes)
    return shape


def float_dtype(dtype, name: str) -> np.dtype:
    dt = dtypes.check_and_canonicalize_user_dtype(float if dtype is None else dtype)
    if not dtypes.issubdtype(dt, np.floating):
        raise ValueError(f"dtype argument to `{name}` must be a float dtype, got {dt}")
    return dt


def int_dtype(dtype, name: str) -> np.dtype:
    dt = dtypes.check_and_canonicalize_user_dtype(int if dtype is None else dtype)
    if not dtypes.issubdtype(dt, np.integer):
        raise ValueError(f"dtype argument to `{name}` must be an int dtype, got {dt}")
    return dt


def finfo(dt):
    return dtypes.finfo(dt)


def check_safe_cast(name: str, dtype, *args) -> None:
    """Each parameter must convert to the sample ``dtype`` without losing precision (JAX's
    rule: the promotion of the argument with ``dtype`` is ``dtype``; Python scalars are weak)."""
    for arg in args:
        if dtypes.result_type(arg, dtype) != dtype:
            raise dtypes.TypePromotionError(
                f"In arguments to {name}, cannot safely cast argument of type "
                f"{dtypes.dtype(arg, canonicalize=True)} to {np.dtype(dtype).name}")
