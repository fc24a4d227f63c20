"""Cold first calls: the first eager op and the first jitted call of a fresh process, each
including the read-back to NumPy, after ``import <lib>`` (not timed).

What a user waits for when a script starts: the backend client is created, the first programs
are compiled, and the first device-to-host copy runs. (With jaxlib 0.12.1 that copy imported all
of JAX inside jaxel until jaxel stopped using jaxlib's copy path.) One untimed process per
library first warms the file and bytecode caches; then processes are interleaved.
"""
from __future__ import annotations

import subprocess
import sys

from benchmarks._timing import NotAvailable, Row, Timing
from benchmarks.bench_import import _REPO, _env

NAME = "cold"

_SNIPPETS = {
    "first_eager": (
        "x = jnp.arange(1000.0)\nnp.asarray(jnp.sin(x) + 1.0)",
        "x = torch.arange(1000.0)\n(torch.sin(x) + 1.0).numpy()"),
    "first_jit": (
        "f = lib.jit(lambda a: jnp.tanh(a @ a.T).sum())\nnp.asarray(f(jnp.ones((64, 64))))",
        None),
}
_PRELUDE = {"jaxel": "import jaxel as lib, jaxel.numpy as jnp",
            "jax": "import jax as lib, jax.numpy as jnp",
            "torch": "import torch"}


def _one(label: str, body: str) -> float:
    code = (f"import time, numpy as np\n{_PRELUDE[label]}\nt = time.perf_counter()\n{body}\n"
            "print(repr(time.perf_counter() - t))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=_REPO, timeout=300, env=_env())
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["failed"])[-1]
        raise NotAvailable(f"{label} failed: {last}")
    return float(proc.stdout.strip().splitlines()[-1])


def run(opts) -> list:
    from benchmarks import _libs
    runs = 3 if opts.quick else 7
    rows = []
    for name, (jax_like, torch_body) in _SNIPPETS.items():
        if not opts.wants(f"cold.{name}"):
            continue
        bodies = {"jaxel": jax_like, "jax": jax_like, "torch": torch_body}
        results: dict = {}
        for label, body in bodies.items():
            reason = _libs.disabled_reason(label) or (None if body else "no comparable call")
            try:
                if reason:
                    raise NotAvailable(reason)
                _one(label, body)  # warm caches
                results[label] = Timing([])
            except NotAvailable as e:
                results[label] = e
        for _ in range(runs):
            for label, body in bodies.items():
                if isinstance(results[label], Timing):
                    try:
                        results[label].samples.append(_one(label, body))
                    except NotAvailable as e:
                        results[label] = e
        what = ("1st eager sin+add, read back (fresh)" if name == "first_eager"
                else "1st jit call 64x64, read back (fresh)")
        rows.append(Row(f"cold.{name}", what, "ms", results, None))
    return rows
