"""Linear algebra: ``jit(jnp.linalg.solve)`` (LU factorisation plus two triangular solves, all
LAPACK kernels through XLA custom calls).

* ``linalg.solve_512``: one system ``a x = b`` with ``a`` 512x512 and ``b`` 512x16.
* ``linalg.solve_batched``: 64 independent 64x64 systems (``b`` 64x64x16), one batched call.

PyTorch column: ``torch.linalg.solve`` on the same arrays (eager).
"""
from __future__ import annotations

import numpy as np

from benchmarks import _libs
from benchmarks._timing import Case, Row, Target, measure, prepare

NAME = "linalg"
RHS = 16


def _host(batch, n):
    rng = np.random.default_rng(0)
    shape = (batch, n, n) if batch else (n, n)
    a = rng.standard_normal(shape).astype(np.float32) + n ** 0.5 * np.eye(n, dtype=np.float32)
    b = rng.standard_normal(shape[:-1] + (RHS,)).astype(np.float32)
    return a, b


def _case(label, batch, n):
    lib = _libs.load(label)
    jnp = _libs.load(f"{label}.numpy")
    a, b = (jnp.asarray(v) for v in _host(batch, n))
    f = lib.jit(jnp.linalg.solve)
    return Case(lambda: f(a, b))


def _torch_case(batch, n):
    torch = _libs.load("torch")
    a, b = (torch.from_numpy(v) for v in _host(batch, n))
    return Case(lambda: torch.linalg.solve(a, b))


def run(opts) -> list:
    rows = []
    for name, what, batch, n, unit in (
            ("linalg.solve_512", "jit solve, 512x512 a, 512x16 b", 0, 512, "ms"),
            ("linalg.solve_batched", "jit solve, 64 x (64x64 a, 64x16 b)", 64, 64, "us")):
        if not opts.wants(name):
            continue
        cases = {"jaxel": prepare(_case, "jaxel", batch, n),
                 "jax": prepare(_case, "jax", batch, n),
                 "torch": prepare(_torch_case, batch, n)}
        results = measure(cases, number=5 if opts.quick else 20,
                          repeat=5 if opts.quick else 15, warmup=2)
        rows.append(Row(name, what, unit, results, Target(ratio=1.0)))
    return rows
