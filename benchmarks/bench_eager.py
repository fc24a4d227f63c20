"""Eager (op-by-op) dispatch of elementwise operations on a 1000-element float32 array.

Each operation runs as its own small compiled program in jaxel and JAX, so this measures the
per-operation overhead of eager code: promotion checks, the op-cache lookup, launch, result
wrapping. PyTorch's eager kernels are the natural comparison.
"""
from __future__ import annotations

import numpy as np

from benchmarks import _libs
from benchmarks._timing import Case, Row, Target, measure, prepare

NAME = "eager"
TARGET = Target(ratio=1.0)  # issue target: no slower than JAX
SIZE = 1000

# name, description, op(namespace, x, y)
OPS = [
    ("eager.add_scalar", "x + 1.0", lambda ns, x, y: x + 1.0),
    ("eager.sin", "sin(x)", lambda ns, x, y: ns.sin(x)),
    ("eager.mul", "x * y", lambda ns, x, y: x * y),
]


def _array_case(label, op):
    _libs.load(label)
    jnp = _libs.load(f"{label}.numpy")
    x = jnp.asarray(np.linspace(0.0, 1.0, SIZE, dtype=np.float32))
    y = jnp.asarray(np.linspace(1.0, 2.0, SIZE, dtype=np.float32))
    return Case(lambda: op(jnp, x, y))


def _torch_case(op):
    torch = _libs.load("torch")
    x = torch.linspace(0.0, 1.0, SIZE, dtype=torch.float32)
    y = torch.linspace(1.0, 2.0, SIZE, dtype=torch.float32)
    return Case(lambda: op(torch, x, y))


def run(opts) -> list:
    number, repeat = (500, 5) if opts.quick else (2000, 15)
    rows = []
    for name, what, op in OPS:
        if not opts.wants(name):
            continue
        cases = {"jaxel": prepare(_array_case, "jaxel", op), "jax": prepare(_array_case, "jax", op),
                 "torch": prepare(_torch_case, op)}
        results = measure(cases, number=number, repeat=repeat, warmup=200)
        rows.append(Row(name, f"{what}, f32[{SIZE}]", "us", results, TARGET))
    return rows
