"""The NumPy layer's heavy hitters, jitted: ``einsum``, ``fft`` and ``sort``.

* ``numpy.einsum``: ``einsum("bij,bjk,bkl->bil")`` over 32 batches of 128x128 matrices (path
  optimisation decides the contraction order).
* ``numpy.fft``: ``jnp.fft.fft`` of 2**20 complex64 values.
* ``numpy.sort``: ``jnp.sort`` of 10**6 float32 values.

PyTorch column: ``torch.einsum``, ``torch.fft.fft`` and ``torch.sort`` on the same arrays (eager).
"""
from __future__ import annotations

import numpy as np

from benchmarks import _libs
from benchmarks._timing import Case, Row, Target, measure, prepare

NAME = "numpy"


def _inputs(kind):
    rng = np.random.default_rng(0)
    if kind == "einsum":
        return [rng.standard_normal((32, 128, 128)).astype(np.float32) for _ in range(3)]
    if kind == "fft":
        n = 2 ** 20
        return [(rng.standard_normal(n) + 1j * rng.standard_normal(n)).astype(np.complex64)]
    return [rng.standard_normal(10 ** 6).astype(np.float32)]


def _case(label, kind):
    lib = _libs.load(label)
    jnp = _libs.load(f"{label}.numpy")
    args = [jnp.asarray(a) for a in _inputs(kind)]
    fn = {"einsum": lambda a, b, c: jnp.einsum("bij,bjk,bkl->bil", a, b, c),
          "fft": lambda a: jnp.fft.fft(a), "sort": lambda a: jnp.sort(a)}[kind]
    f = lib.jit(fn)
    return Case(lambda: f(*args))


def _torch_case(kind):
    torch = _libs.load("torch")
    args = [torch.from_numpy(a) for a in _inputs(kind)]
    fn = {"einsum": lambda a, b, c: torch.einsum("bij,bjk,bkl->bil", a, b, c),
          "fft": lambda a: torch.fft.fft(a), "sort": lambda a: torch.sort(a)}[kind]
    return Case(lambda: fn(*args))


def run(opts) -> list:
    rows = []
    for kind, what, unit in (("einsum", "jit einsum bij,bjk,bkl, 32x128x128", "ms"),
                             ("fft", "jit fft, 2**20 complex64", "ms"),
                             ("sort", "jit sort, 10**6 float32", "ms")):
        name = f"numpy.{kind}"
        if not opts.wants(name):
            continue
        cases = {"jaxel": prepare(_case, "jaxel", kind), "jax": prepare(_case, "jax", kind),
                 "torch": prepare(_torch_case, kind)}
        results = measure(cases, number=3 if opts.quick else 10,
                          repeat=5 if opts.quick else 11, warmup=2)
        rows.append(Row(name, what, unit, results, Target(ratio=1.0)))
    return rows
