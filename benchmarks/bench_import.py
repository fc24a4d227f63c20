"""Import time of ``jaxel`` vs ``jax`` (and ``torch``), each in a fresh Python process.

Each process imports numpy first, then times ``import <lib>`` with ``time.perf_counter``
inside the process. That measures exactly "import cost beyond numpy's own import" (the issue's
target for jaxel: under 150 ms), without the noise of interpreter start-up and shutdown that a
wall-clock of the whole ``python -c`` would add. numpy's own import time is shown as a note.
One untimed run of each library first warms the OS file cache and the bytecode cache.

Bytecode: the child processes write and read ``.pyc`` files under a private
``PYTHONPYCACHEPREFIX`` (in the temp directory, never in the repository), with
``PYTHONDONTWRITEBYTECODE`` removed, so every library is measured as an installed package
runs: from cached bytecode. (Where the environment sets ``PYTHONDONTWRITEBYTECODE=1`` and jaxel
is an editable checkout, jaxel's sources are compiled at every import while jax's wheel ships
``.pyc`` files; that unfair number is printed as a note.)
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile

from benchmarks._timing import NotAvailable, Row, Target, Timing

NAME = "import"
TARGET = Target(absolute=150.0)  # ms beyond numpy's import

_TIMED = ("import time{pre}\nt = time.perf_counter()\nimport {mod}\n"
          "print(repr(time.perf_counter() - t))")
_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_PYCACHE = os.path.join(tempfile.gettempdir(), "jaxel-bench-pycache")


def _env(bytecode: bool = True) -> dict:
    env = dict(os.environ)
    if bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = _PYCACHE
    return env


def _one(mod: str, after_numpy: bool = True, bytecode: bool = True) -> float:
    code = _TIMED.format(pre=", numpy" if after_numpy else "", mod=mod)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=_REPO, timeout=300, env=_env(bytecode))
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["failed"])[-1]
        raise NotAvailable(f"import {mod} failed: {last}")
    return float(proc.stdout.strip().splitlines()[-1])


def _importtime_top(mod: str, n: int = 6) -> list:
    """The ``n`` modules with the largest self import time when importing ``mod`` after numpy
    (from ``python -X importtime``), as note lines."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import numpy; import {mod}"],
                          capture_output=True, text=True, cwd=_REPO, timeout=300, env=_env())
    entries, after_numpy = [], False
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        parts = [p.strip() for p in line[len("import time:"):].split("|")]
        if not parts[0].isdigit():
            continue  # the header line
        name = parts[2]
        if after_numpy:
            entries.append((int(parts[0]), int(parts[1]), name))
        elif name == "numpy":
            after_numpy = True
    entries.sort(reverse=True)
    return [f"  {self_us / 1e3:7.1f} ms self  {cum_us / 1e3:7.1f} ms cumulative  {name.strip()}"
            for self_us, cum_us, name in entries[:n]]


def run(opts) -> list:
    if not opts.wants("import"):
        return []
    runs = 3 if opts.quick else 7
    mods = {"jaxel": "jaxel", "jax": "jax", "torch": "torch"}
    from benchmarks import _libs
    results: dict = {}
    for label, mod in mods.items():
        try:
            if _libs.disabled_reason(label):
                raise NotAvailable(_libs.disabled_reason(label))
            _one(mod)  # warm the file cache and bytecode caches
            results[label] = Timing([])
        except NotAvailable as e:
            results[label] = e
        except Exception as e:
            results[label] = NotAvailable(f"{type(e).__name__}: {e}")
    _one("numpy", after_numpy=False)
    numpy_times = []
    for _ in range(runs):  # interleaved, like the other benchmarks
        numpy_times.append(_one("numpy", after_numpy=False))
        for label, mod in mods.items():
            if isinstance(results[label], Timing):
                try:
                    results[label].samples.append(_one(mod))
                except Exception as e:
                    results[label] = NotAvailable(str(e))
    row = Row("import", "import lib after numpy (fresh proc)", "ms", results, TARGET)
    row.notes.append(f"numpy's own import: {statistics.median(numpy_times) * 1e3:.0f} ms "
                     "(not included above)")
    if os.environ.get("PYTHONDONTWRITEBYTECODE") and isinstance(results["jaxel"], Timing):
        raw = statistics.median(_one("jaxel", bytecode=False) for _ in range(3 if opts.quick
                                                                              else 5))
        row.notes.append(f"this environment sets PYTHONDONTWRITEBYTECODE: without .pyc files "
                         f"import jaxel takes {raw * 1e3:.0f} ms (compiling its sources)")
    if opts.verbose and isinstance(results["jaxel"], Timing):
        row.notes.append("largest self times in `import jaxel` (python -X importtime):")
        row.notes.extend(_importtime_top("jaxel"))
    return [row]
