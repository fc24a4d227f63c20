"""Dot algorithms (``DotAlgorithm``, ``DotAlgorithmPreset``) and the typing aliases of the
dot family (``DotDimensionNumbers``, ``PrecisionLike``).

An algorithm names the types a contraction rounds its operands to and accumulates in. XLA's
CPU backend implements a few of the presets; jaxel runs those as what they mean on CPU:
operands whose dtype the algorithm does not take are converted to its input type, the
product accumulates in its accumulation type, and the result is converted to the dtype the
call would otherwise return (as JAX on CPU does). Other presets raise ValueError.
"""
from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import NamedTuple, Union

import ml_dtypes
import numpy as np

from jaxel.lax.dot_conv import Precision

_BF16 = np.dtype(ml_dtypes.bfloat16)
_F16, _F32, _F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)

# ((lhs_contracting, rhs_contracting), (lhs_batch, rhs_batch))
DotDimensionNumbers = tuple[tuple[Sequence[int], Sequence[int]],
                            tuple[Sequence[int], Sequence[int]]]


class DotAlgorithm(NamedTuple):
    """A dot algorithm: operands are rounded to ``lhs_precision_type`` /
    ``rhs_precision_type`` and products accumulate in ``accumulation_type``; the component
    counts describe algorithms that split operands to emulate more precision.

    Pass one as ``precision=`` to ``dot``/``dot_general``. jaxel (on CPU) honours the types and
    ignores the component counts.

    Example::

        >>> alg = lax.DotAlgorithm(np.float16, np.float16, np.float32)
        >>> lax.dot(jnp.ones(4, jnp.float16), jnp.ones(4, jnp.float16), precision=alg)
        Array(4., dtype=float16)
    """
    lhs_precision_type: object
    rhs_precision_type: object
    accumulation_type: object
    lhs_component_count: int = 1
    rhs_component_count: int = 1
    num_primitive_operations: int = 1
    allow_imprecise_accumulation: bool = False


class DotAlgorithmPreset(enum.Enum):
    """Named dot algorithms (``jax.lax.DotAlgorithmPreset``). Names read
    ``LHS_RHS_ACCUMULATION[_Xn]``; ``DEFAULT`` lets the backend choose. Also accepted as
    strings (``precision="F16_F16_F32"``)."""
    DEFAULT = enum.auto()
    ANY_F8_ANY_F8_F32 = enum.auto()
    ANY_F8_ANY_F8_F32_FAST_ACCUM = enum.auto()
    ANY_F8_ANY_F8_ANY = enum.auto()
    ANY_F8_ANY_F8_ANY_FAST_ACCUM = enum.auto()
    F16_F16_F16 = enum.auto()
    F16_F16_F32 = enum.auto()
    BF16_BF16_BF16 = enum.auto()
    BF16_BF16_F32 = enum.auto()
    BF16_BF16_F32_X3 = enum.auto()
    BF16_BF16_F32_X6 = enum.auto()
    BF16_BF16_F32_X9 = enum.auto()
    F8E4M3FN_F8E4M3FN_F32_X3 = enum.auto()
    F8E4M3FN_F8E4M3FN_F32_X4 = enum.auto()
    TF32_TF32_F32 = enum.auto()
    TF32_TF32_F32_X3 = enum.auto()
    F32_F32_F32 = enum.auto()
    F64_F64_F64 = enum.auto()

    def __repr__(self):
        return f"{type(self).__name__}.{self.name}"

    def __str__(self):
        return self.name

    @property
    def supported_lhs_types(self):
        """The operand dtypes the algorithm takes as they are (None: any)."""
        return _INPUTS.get(self.name)

    @property
    def supported_rhs_types(self):
        """As ``supported_lhs_types``, for the right operand."""
        return _INPUTS.get(self.name)

    @property
    def accumulation_type(self):
        """The dtype products accumulate in (None: the operands')."""
        return _ACCUMULATION.get(self.name)

    def supported_output_types(self, lhs_dtype, rhs_dtype):
        """The result dtypes the algorithm can produce for these operand dtypes."""
        acc = self.accumulation_type
        if acc is None:
            return None
        return (np.dtype(acc),)


_INPUTS = {
    "F16_F16_F16": (np.float16,), "F16_F16_F32": (np.float16,),
    "BF16_BF16_BF16": (ml_dtypes.bfloat16, np.float32),
    "BF16_BF16_F32": (ml_dtypes.bfloat16, np.float32),
    "BF16_BF16_F32_X3": (np.float32,), "BF16_BF16_F32_X6": (np.float32,),
    "BF16_BF16_F32_X9": (np.float32,),
    "F8E4M3FN_F8E4M3FN_F32_X3": (np.float32, ml_dtypes.bfloat16),
    "F8E4M3FN_F8E4M3FN_F32_X4": (np.float32, ml_dtypes.bfloat16),
    "TF32_TF32_F32": (np.float32,), "TF32_TF32_F32_X3": (np.float32,),
    "F32_F32_F32": (np.float32,), "F64_F64_F64": (np.float64,),
}
_ACCUMULATION = {
    "ANY_F8_ANY_F8_F32": np.float32, "ANY_F8_ANY_F8_F32_FAST_ACCUM": np.float32,
    "F16_F16_F16": np.float16, "F16_F16_F32": np.float32, "BF16_BF16_BF16": ml_dtypes.bfloat16,
    "BF16_BF16_F32": np.float32, "BF16_BF16_F32_X3": np.float32,
    "BF16_BF16_F32_X6": np.float32, "BF16_BF16_F32_X9": np.float32,
    "F8E4M3FN_F8E4M3FN_F32_X3": np.float32, "F8E4M3FN_F8E4M3FN_F32_X4": np.float32,
    "TF32_TF32_F32": np.float32, "TF32_TF32_F32_X3": np.float32, "F32_F32_F32": np.float32,
    "F64_F64_F64": np.float64,
}
# The presets XLA's CPU backend implements (the others fail to compile there).
_CPU_PRESETS = {"DEFAULT", "F16_F16_F16", "F16_F16_F32", "BF16_BF16_F32", "BF16_BF16_F32_X3",
                "BF16_BF16_F32_X6", "F32_F32_F32", "F64_F64_F64"}

# What ``precision=`` accepts across the dot family.
PrecisionLike = Union[None, str, Precision, tuple[str, str], tuple[Precision, Precision],
                      DotAlgorithm, DotAlgorithmPreset]


def as_algorithm(precision):
    """``precision`` as a ``DotAlgorithm``/``DotAlgorithmPreset`` if it names one (presets may
    be given by name), else None."""
    if isinstance(precision, (DotAlgorithm, DotAlgorithmPreset)):
        return precision
    if isinstance(precision, str) and precision in DotAlgorithmPreset.__members__:
        return DotAlgorithmPreset[precision]
    return None


def algorithm_types(algorithm):
    """``(lhs types, rhs types, accumulation type)`` of a supported algorithm on CPU, or
    ValueError. Types are tuples of dtypes accepted as they are (None: any)."""
    if isinstance(algorithm, DotAlgorithmPreset):
        if algorithm.name not in _CPU_PRESETS:
            raise ValueError(f"The precision '{algorithm.name}' is not supported by "
                             "dot_general on CPU")
        ins = algorithm.supported_lhs_types
        ins = None if ins is None else tuple(np.dtype(t) for t in ins)
        acc = algorithm.accumulation_type
        return ins, ins, None if acc is None else np.dtype(acc)
    return ((np.dtype(algorithm.lhs_precision_type),),
            (np.dtype(algorithm.rhs_precision_type),), np.dtype(algorithm.accumulation_type))


__all__ = ["DotAlgorithm", "DotAlgorithmPreset", "DotDimensionNumbers", "PrecisionLike"]
