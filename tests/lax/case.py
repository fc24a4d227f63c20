"""The per-primitive reference table format used by the registry-driven checks.

A ``Case`` applies a public lax function to generated inputs and compares it with a NumPy (or
SciPy) reference. Each family of primitives lists its cases in a ``cases_<family>.py`` module;
``test_primitives.py`` gathers them and fails if any registered primitive has none.
"""
from __future__ import annotations

import dataclasses
import zlib
from typing import Any, Callable

import ml_dtypes
import numpy as np

bf16 = np.dtype(ml_dtypes.bfloat16)
SHAPES = [(), (0,), (3,), (2, 3)]
FLOATS = [np.dtype(np.float32), np.dtype(np.float16), bf16]
INTS = [np.dtype(np.int32), np.dtype(np.int8), np.dtype(np.uint32), np.dtype(np.uint8)]
COMPLEX = [np.dtype(np.complex64)]


@dataclasses.dataclass
class Arg:
    """An input to generate: shape, dtype and a value domain."""
    shape: tuple
    dtype: Any
    domain: str = "normal"  # normal | positive | unit | nonzero | small_int | any_int | bool

    def make(self, rng: np.random.Generator) -> np.ndarray:
        dt = np.dtype(self.dtype)
        shape = self.shape
        if dt == np.bool_:
            return rng.integers(0, 2, shape).astype(bool)
        if dt.kind in "iu":
            info = np.iinfo(dt)
            if self.domain == "any_int":
                lo, hi = max(info.min, -2**31), min(info.max, 2**31 - 1)
            elif self.domain == "positive":
                lo, hi = 1, min(info.max, 20)
            elif self.domain == "nonzero":
                lo, hi = max(info.min, -20), min(info.max, 20)
                v = rng.integers(lo, hi + 1, shape)
                return np.where(v == 0, 1, v).astype(dt)
            elif self.domain == "shift":
                lo, hi = 0, dt.itemsize * 8 - 1
            else:
                lo, hi = max(info.min, -20), min(info.max, 20)
            return rng.integers(lo, hi + 1, shape).astype(dt)
        if dt.kind == "c":
            re = rng.standard_normal(shape)
            im = rng.standard_normal(shape)
            return (re + 1j * im).astype(dt)
        if self.domain == "positive":
            v = rng.uniform(0.1, 3.0, shape)
        elif self.domain == "unit":
            v = rng.uniform(-0.9, 0.9, shape)
        elif self.domain == "above_one":
            v = rng.uniform(1.1, 3.0, shape)
        elif self.domain == "nonzero":
            v = rng.uniform(0.5, 2.0, shape) * rng.choice([-1, 1], shape)
        else:
            v = rng.standard_normal(shape) * 2
        return np.asarray(v).astype(dt)


@dataclasses.dataclass
class Case:
    """One check: ``fn(*inputs)`` (jaxel) against ``ref(*numpy_inputs)``."""
    name: str
    fn: Callable
    ref: Callable
    args: list
    rtol: float | None = None
    atol: float | None = None
    x64: bool = False
    exact_jit: bool = True  # jit and eager must agree bit for bit

    def inputs(self):
        # crc32, not hash(): the same inputs in every process, so a failure reproduces.
        rng = np.random.default_rng(zlib.crc32(self.name.encode()))
        return [a.make(rng) if isinstance(a, Arg) else a for a in self.args]


def tolerance(dtype):
    """Default (rtol, atol) by dtype: loose for 16-bit floats."""
    dt = np.dtype(dtype)
    if dt in (np.dtype(np.float16), bf16):
        return 2e-2, 2e-2
    if dt in (np.dtype(np.float64), np.dtype(np.complex128)):
        return 1e-10, 1e-12
    if dt.kind in "fc":
        return 2e-5, 2e-6
    return 0, 0
