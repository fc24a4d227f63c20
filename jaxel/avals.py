"""``jaxel.avals``: short constructors for abstract values (``ShapedArray``).

Each dtype object is indexed by a shape: ``avals.f32[3, 4]`` is the aval of a float32 array
of shape ``(3, 4)``, the same object as ``jaxel.typeof(jnp.zeros((3, 4), jnp.float32))``.
They are handy in ``jaxel.eval_shape`` and ``ShapeDtypeStruct``-style signatures.
"""
from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from jaxel import dtypes as _dtypes
from jaxel.tracing.avals import ShapedArray

__all__ = ["AvalDType", "MeshAxis", "bool_", "bool", "i2", "i4", "i8", "i16", "i32", "i64",
           "u2", "u4", "u8", "u16", "u32", "u64", "bf16", "f16", "f32", "f64", "c64", "c128",
           "float0"]


@dataclasses.dataclass(frozen=True)
class MeshAxis:
    """A named mesh axis. ``size @ MeshAxis('x')`` marks a dimension sharded along ``x``.

    jaxel runs on one device and has no meshes (sharding is planned separately), so a sharded
    dimension is accepted here but rejected when an aval is built from it, as JAX rejects it
    when the axis is not an Explicit axis of the current mesh.
    """

    name: Any

    def __rmatmul__(self, size):
        return _ShardedMeshAxis(size, (self.name,))


@dataclasses.dataclass(frozen=True)
class _ShardedMeshAxis:
    size: Any
    names: tuple

    def __matmul__(self, other):
        if not isinstance(other, MeshAxis):
            return NotImplemented
        return _ShardedMeshAxis(self.size, (*self.names, other.name))


@dataclasses.dataclass(frozen=True)
class AvalDType:
    """A dtype whose ``[...]`` builds a ``ShapedArray``: ``AvalDType(np.float32)[2, 3]``."""

    dtype: Any

    def __getitem__(self, elts) -> ShapedArray:
        elts = elts if isinstance(elts, tuple) else (elts,)
        for d in elts:
            if isinstance(d, _ShardedMeshAxis):
                raise ValueError(
                    f"Sharded axis {d.names[0]!r} is not an Explicit axis in the active context "
                    "mesh: jaxel has no device meshes, so avals cannot be sharded.")
        return ShapedArray(tuple(int(d) for d in elts), np.dtype(self.dtype))


bool_ = AvalDType(np.bool_)
bool = bool_  # noqa: A001  (JAX's module exports both spellings)
i2, i4 = AvalDType(_dtypes.int2), AvalDType(_dtypes.int4)
i8, i16, i32, i64 = (AvalDType(t) for t in (np.int8, np.int16, np.int32, np.int64))
u2, u4 = AvalDType(_dtypes.uint2), AvalDType(_dtypes.uint4)
u8, u16, u32, u64 = (AvalDType(t) for t in (np.uint8, np.uint16, np.uint32, np.uint64))
bf16 = AvalDType(_dtypes.bfloat16)
f16, f32, f64 = (AvalDType(t) for t in (np.float16, np.float32, np.float64))
c64, c128 = AvalDType(np.complex64), AvalDType(np.complex128)
float0 = AvalDType(_dtypes.float0)
