"""Cached ``jit`` dispatch: calling an already-compiled trivial function.

This is the per-call overhead of the jit fast path (argument checks, cache lookup, executable
launch, wrapping the result); the computation itself (a scalar add) costs nothing.
"""
from __future__ import annotations

import numpy as np

from benchmarks import _libs
from benchmarks._timing import Case, Row, Target, measure, prepare

NAME = "jit"
TARGET = Target(ratio=1.5)  # issue target: at most 1.5x JAX's time per call


def _array_case(label):
    lib = _libs.load(label)
    jnp = _libs.load(f"{label}.numpy")
    f = lib.jit(lambda x: x + 1.0)
    x = jnp.asarray(np.float32(1.0))
    return Case(lambda: f(x))


def _torch_case():
    """``torch.compile`` (inductor) of the same function: its cached-call path (guards, then
    the compiled kernel) is the closest PyTorch analogue. The first compile takes ~20 s."""
    torch = _libs.load("torch")
    f = torch.compile(lambda x: x + 1.0)
    x = torch.tensor(1.0, dtype=torch.float32)
    return Case(lambda: f(x))


def run(opts) -> list:
    if not opts.wants("jit.cached_call"):
        return []
    number, repeat = (500, 5) if opts.quick else (2000, 15)
    cases = {"jaxel": prepare(_array_case, "jaxel"), "jax": prepare(_array_case, "jax"),
             "torch": prepare(_torch_case)}
    results = measure(cases, number=number, repeat=repeat, warmup=200)
    return [Row("jit.cached_call", "jit(lambda x: x + 1.0)(f32[])", "us", results, TARGET,
                notes=["torch column: torch.compile (inductor), cached call"]
                if opts.verbose else [])]
