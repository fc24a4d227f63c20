"""Eager (op-by-op) dispatch of elementwise operations on a 1000-element float32 array.

Each operation runs as its own small compiled program in jaxel and JAX, so this measures the
per-operation overhead of eager code: promotion checks, the op-cache lookup, launch, result
wrapping. PyTorch's eager kernels are the natural comparison.

``eager.index_distinct`` reads ``x[i]`` with a new Python int ``i`` on every call: a library
that compiles a program per static index pays a compile per call there (issue 18).
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


INDEX_SIZE = 100_000  # more elements than calls, so every timed call indexes a new position


def _index_case(label):
    _libs.load(label)
    jnp = _libs.load(f"{label}.numpy")
    x = jnp.asarray(np.arange(INDEX_SIZE, dtype=np.float32))
    return _distinct_index_case(x)


def _torch_index_case():
    torch = _libs.load("torch")
    return _distinct_index_case(torch.arange(INDEX_SIZE, dtype=torch.float32))


def _distinct_index_case(x):
    counter = iter(range(INDEX_SIZE))
    return Case(lambda: x[next(counter)])


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
    name = "eager.index_distinct"
    if opts.wants(name):
        # fewer calls than elements in all: warmup + number * repeat < INDEX_SIZE
        cases = {"jaxel": prepare(_index_case, "jaxel"), "jax": prepare(_index_case, "jax"),
                 "torch": prepare(_torch_index_case)}
        results = measure(cases, number=number // 10, repeat=repeat, warmup=20)
        rows.append(Row(name, f"x[i], a new int i per call, f32[{INDEX_SIZE}]", "us", results,
                        TARGET))
    return rows
