"""``jaxel.nn.initializers``: parameter initialisers with JAX's signatures and streams.

Every initialiser is ``init(key, shape, dtype=...) -> array``, drawing from ``jaxel.random``
with an explicit key, so a model initialised with the same key gives the same numbers as JAX.
The factories (``glorot_uniform()``, ``variance_scaling(...)``...) return such functions.
"""
from __future__ import annotations

import math
from typing import Protocol, runtime_checkable

import numpy as np

from jaxel import dtypes as _dtypes
from jaxel import numpy as jnp
from jaxel import random


@runtime_checkable
class Initializer(Protocol):
    """What every initialiser here is: a callable ``init(key, shape, dtype=None,
    out_sharding=None) -> Array`` (for type hints and ``isinstance`` checks).

    Example::

        >>> isinstance(initializers.glorot_uniform(), initializers.Initializer)
        True
    """

    def __call__(self, key, shape, dtype=None, out_sharding=None):
        """Draw an array of ``shape`` and ``dtype`` from ``key``."""
        raise NotImplementedError


def _default_dtype():
    return _dtypes.default_float_dtype()


def _check_sharding(out_sharding):
    # JAX's initialisers take out_sharding; jaxel arrays live on one device.
    if out_sharding is not None:
        raise NotImplementedError("nn.initializers: out_sharding is not supported (single-"
                                  "device arrays only); pass None.")


def _shape(shape, what):
    try:
        return tuple(int(d) for d in shape)
    except TypeError:
        raise TypeError(f"nn.initializers.{what}: shape must be a sequence of ints, got "
                        f"{shape!r}.") from None


def zeros(key, shape, dtype=None, out_sharding=None):
    """All zeros (``key`` is ignored)."""
    _check_sharding(out_sharding)
    return jnp.zeros(_shape(shape, "zeros"), dtype or _default_dtype())


def ones(key, shape, dtype=None, out_sharding=None):
    """All ones (``key`` is ignored)."""
    _check_sharding(out_sharding)
    return jnp.ones(_shape(shape, "ones"), dtype or _default_dtype())


def constant(value, dtype=None):
    """An initialiser filling with ``value``."""
    def init(key, shape, dtype=dtype, out_sharding=None):
        _check_sharding(out_sharding)
        return jnp.full(_shape(shape, "constant"), value, dtype or _default_dtype())
    return init


def normal(stddev=1e-2, dtype=None):
    """Normal draws with standard deviation ``stddev``."""
    def init(key, shape, dtype=dtype, out_sharding=None):
        _check_sharding(out_sharding)
        dtype = dtype or _default_dtype()
        return random.normal(key, _shape(shape, "normal"), dtype) * jnp.asarray(stddev, dtype)
    return init


def uniform(scale=1e-2, dtype=None):
    """Uniform draws in ``[0, scale)``."""
    def init(key, shape, dtype=dtype, out_sharding=None):
        _check_sharding(out_sharding)
        dtype = dtype or _default_dtype()
        return random.uniform(key, _shape(shape, "uniform"), dtype) * jnp.asarray(scale, dtype)
    return init


def truncated_normal(stddev=1e-2, dtype=None, lower=-2.0, upper=2.0):
    """Normal draws truncated to ``[lower, upper]`` standard deviations, scaled by ``stddev``."""
    def init(key, shape, dtype=dtype, out_sharding=None):
        _check_sharding(out_sharding)
        dtype = dtype or _default_dtype()
        draws = random.truncated_normal(key, lower, upper, _shape(shape, "truncated_normal"),
                                        dtype)
        return draws * jnp.asarray(stddev, dtype)
    return init


def _fans(shape, in_axis, out_axis, batch_axis):
    if len(shape) < 1:
        raise ValueError("variance_scaling needs a shape of rank >= 1 to compute fans.")
    if len(shape) == 1:  # a bias-like vector: fan_in = fan_out = its length
        return shape[0], shape[0]
    nd = len(shape)
    in_axes = {a % nd for a in (in_axis if isinstance(in_axis, (tuple, list)) else (in_axis,))}
    out_axes = {a % nd for a in (out_axis if isinstance(out_axis, (tuple, list)) else (out_axis,))}
    b_axes = {a % nd for a in (batch_axis if isinstance(batch_axis, (tuple, list))
                               else (batch_axis,))}
    receptive = math.prod(shape[i] for i in range(nd) if i not in in_axes | out_axes | b_axes)
    fan_in = math.prod(shape[i] for i in in_axes) * receptive
    fan_out = math.prod(shape[i] for i in out_axes) * receptive
    return fan_in, fan_out


def variance_scaling(scale, mode, distribution, in_axis=-2, out_axis=-1, batch_axis=(),
                     dtype=None):
    """Draws with variance ``scale / n`` where ``n`` is the fan chosen by ``mode``
    ("fan_in", "fan_out", "fan_avg", "fan_geo_avg") and ``distribution`` is
    "truncated_normal", "normal" or "uniform" (JAX's ``variance_scaling``)."""
    if mode not in ("fan_in", "fan_out", "fan_avg", "fan_geo_avg"):
        raise ValueError(f"variance_scaling: invalid mode {mode!r}.")
    if distribution not in ("truncated_normal", "normal", "uniform"):
        raise ValueError(f"variance_scaling: invalid distribution {distribution!r}.")

    def init(key, shape, dtype=dtype, out_sharding=None):
        _check_sharding(out_sharding)
        dtype = dtype or _default_dtype()
        shape = _shape(shape, "variance_scaling")
        fan_in, fan_out = _fans(shape, in_axis, out_axis, batch_axis)
        denominator = {"fan_in": fan_in, "fan_out": fan_out,
                       "fan_avg": (fan_in + fan_out) / 2,
                       "fan_geo_avg": math.sqrt(fan_in * fan_out)}[mode]
        variance = jnp.asarray(scale / denominator, dtype)
        if distribution == "truncated_normal":
            stddev = jnp.sqrt(variance) / jnp.asarray(.87962566103423978, dtype)
            return random.truncated_normal(key, -2, 2, shape, dtype) * stddev
        if distribution == "normal":
            return random.normal(key, shape, dtype) * jnp.sqrt(variance)
        return random.uniform(key, shape, dtype, -1) * jnp.sqrt(3 * variance)
    return init


def glorot_uniform(in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
    """Glorot/Xavier uniform: ``variance_scaling(1, "fan_avg", "uniform")``."""
    return variance_scaling(1.0, "fan_avg", "uniform", in_axis, out_axis, batch_axis, dtype)


def glorot_normal(in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
    """Glorot/Xavier normal: ``variance_scaling(1, "fan_avg", "truncated_normal")``."""
    return variance_scaling(1.0, "fan_avg", "truncated_normal", in_axis, out_axis, batch_axis,
                            dtype)


def lecun_uniform(in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
    """LeCun uniform: ``variance_scaling(1, "fan_in", "uniform")``."""
    return variance_scaling(1.0, "fan_in", "uniform", in_axis, out_axis, batch_axis, dtype)


def lecun_normal(in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
    """LeCun normal: ``variance_scaling(1, "fan_in", "truncated_normal")``."""
    return variance_scaling(1.0, "fan_in", "truncated_normal", in_axis, out_axis, batch_axis,
                            dtype)


def he_uniform(in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
    """He/Kaiming uniform: ``variance_scaling(2, "fan_in", "uniform")``."""
    return variance_scaling(2.0, "fan_in", "uniform", in_axis, out_axis, batch_axis, dtype)


def he_normal(in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
    """He/Kaiming normal: ``variance_scaling(2, "fan_in", "truncated_normal")``."""
    return variance_scaling(2.0, "fan_in", "truncated_normal", in_axis, out_axis, batch_axis,
                            dtype)


xavier_uniform, xavier_normal = glorot_uniform, glorot_normal
kaiming_uniform, kaiming_normal = he_uniform, he_normal


def orthogonal(scale=1.0, column_axis=-1, dtype=None):
    """Orthogonal matrices (rows or columns orthonormal), reshaped so that ``column_axis``
    holds the columns."""
    def init(key, shape, dtype=dtype, out_sharding=None):
        _check_sharding(out_sharding)
        dtype = dtype or _default_dtype()
        shape = _shape(shape, "orthogonal")
        if len(shape) < 2:
            raise ValueError("orthogonal initializer requires at least a 2D shape, got "
                             f"{shape}.")
        n_cols = shape[column_axis]
        n_rows = math.prod(shape) // n_cols
        matrix_shape = (n_cols, n_rows) if n_rows < n_cols else (n_rows, n_cols)
        a = random.normal(key, matrix_shape, dtype)
        q, r = jnp.linalg.qr(a)
        q = q * jnp.sign(jnp.diagonal(r))
        if n_rows < n_cols:
            q = q.T
        rest = tuple(np.delete(np.array(shape), column_axis % len(shape)))
        q = jnp.reshape(q, rest + (n_cols,))
        q = jnp.moveaxis(q, -1, column_axis)
        return jnp.asarray(scale, dtype) * q
    return init


def delta_orthogonal(scale=1.0, column_axis=-1, dtype=None):
    """Delta-orthogonal kernels for 3-5 dimensional convolutions: zero everywhere but the
    spatial centre, which holds an orthogonal matrix."""
    def init(key, shape, dtype=dtype, out_sharding=None):
        _check_sharding(out_sharding)
        dtype = dtype or _default_dtype()
        shape = _shape(shape, "delta_orthogonal")
        if len(shape) not in (3, 4, 5):
            raise ValueError("delta_orthogonal initializer requires a 3D, 4D or 5D shape, got "
                             f"{shape}.")
        if shape[-1] < shape[-2]:
            raise ValueError("delta_orthogonal initializer requires the output channels to be "
                             f"at least the input channels, got shape {shape}.")
        ortho = orthogonal(scale=scale, column_axis=column_axis, dtype=dtype)(key, shape[-2:])
        centre = tuple(k // 2 for k in shape[:-2])
        return jnp.zeros(shape, dtype).at[centre].set(ortho)
    return init


__all__ = ["Initializer", "zeros", "ones", "constant", "normal", "uniform", "truncated_normal",
           "variance_scaling", "glorot_uniform", "glorot_normal", "lecun_uniform",
           "lecun_normal", "he_uniform", "he_normal", "xavier_uniform", "xavier_normal",
           "kaiming_uniform", "kaiming_normal", "orthogonal", "delta_orthogonal"]
