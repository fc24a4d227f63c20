"""Command line: ``python -m benchmarks [--quick] [--only NAME] [--no-torch] [--verbose]``.

Prints one table row per measurement as soon as it is measured: jaxel's time, JAX's time
(same run), jaxel/JAX (< 1 means jaxel is faster), the issue target and whether it is met,
then PyTorch's time and jaxel/PyTorch where PyTorch has a comparable operation.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import platform
import sys
import time

from benchmarks import BENCHMARK_MODULES, _libs
from benchmarks._timing import NotAvailable, Row, Timing

# column: (header, width)
_COLS = [("benchmark", 21), ("what", 36), ("jaxel", 10), ("JAX", 10), ("jaxel/JAX", 9),
         ("target", 13), ("PyTorch", 10), ("jaxel/torch", 11)]
_UNIT_TEXT = {"us": "µs", "ms": "ms", "s": "s"}


class Options:
    """Parsed options, with ``wants(row_name)`` for ``--only`` filtering."""

    def __init__(self, args):
        self.quick = args.quick
        self.verbose = args.verbose
        self.only = {n.strip() for group in (args.only or []) for n in group.split(",")
                     if n.strip()}

    def wants(self, name: str) -> bool:
        """True if row (or benchmark) ``name`` is selected: ``--only trace`` selects every
        ``trace.*`` row, ``--only trace.lower`` just that one."""
        if not self.only:
            return True
        return name in self.only or name.split(".")[0] in self.only

    def wants_module(self, module_name: str) -> bool:
        return not self.only or any(n.split(".")[0] == module_name for n in self.only)


def _fmt_time(v) -> str:
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def _cell(row: Row, label: str) -> str:
    r = row.results.get(label)
    if r is None or _libs.disabled_reason(label):
        return "—"
    if isinstance(r, NotAvailable):
        return "n/a"
    v = row.value(label)
    return "n/a" if v is None else f"{_fmt_time(v)} {_UNIT_TEXT[row.unit]}"


def _ratio(row: Row, label: str) -> str:
    r = row.ratio(label)
    return "" if r is None else f"{r:.2f}"


def _target(row: Row):
    if row.target is None:
        return "(info)", None
    text, ok = row.target.check(row)
    return f"{text} {'ok' if ok else 'MISS' if ok is False else 'n/a'}", ok


def _line(cells) -> str:
    """One table line: the two name columns left-aligned, the numbers right-aligned."""
    out = []
    for i, ((_, width), text) in enumerate(zip(_COLS, cells)):
        text = str(text)
        out.append(text.ljust(width) if i < 2 else text.rjust(width))
    return "  ".join(out).rstrip()


def print_row(row: Row, verbose: bool) -> bool | None:
    target_text, ok = _target(row)
    print(_line([row.name, row.what, _cell(row, "jaxel"), _cell(row, "jax"),
                 _ratio(row, "jax"), target_text, _cell(row, "torch"), _ratio(row, "torch")]))
    indent = " " * 4
    for label, name in (("jaxel", "jaxel"), ("jax", "JAX"), ("torch", "PyTorch")):
        r = row.results.get(label)
        if isinstance(r, NotAvailable) and not _libs.disabled_reason(label):
            print(f"{indent}n/a ({name}): {r}")
    if verbose:  # how noisy the repeats were: the fastest repeat and (max - min) / median
        scale = Row._SCALE[row.unit]
        spreads = [f"{name} min {_fmt_time(min(r.samples) * scale)} {_UNIT_TEXT[row.unit]}, "
                   f"spread {r.spread * 100:.0f}% of {len(r.samples)}"
                   for label, name in (("jaxel", "jaxel"), ("jax", "JAX"), ("torch", "PyTorch"))
                   if isinstance(r := row.results.get(label), Timing) and r.samples]
        if spreads:
            print(f"{indent}{'; '.join(spreads)}")
    for note in row.notes:
        print(f"{indent}{note}")
    sys.stdout.flush()
    return ok


def _header(opts):
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    print(f"jaxel benchmarks  ({'quick' if opts.quick else 'full'} run)")
    print(f"python {platform.python_version()} on {platform.machine()}, "
          f"{os.cpu_count()} CPUs, load average {', '.join(f'{x:.2f}' for x in load)}"
          if load else f"python {platform.python_version()}")
    print(f"jaxlib {_libs.version('jaxlib')}, jax {_libs.version('jax')}, "
          f"numpy {_libs.version('numpy')}, torch "
          f"{_libs.disabled_reason('torch') or _libs.version('torch')}")
    print("times: median per call of interleaved repeats; jaxel/X < 1 means jaxel is faster; "
          "— = no comparable operation (or library skipped)")
    print()
    print(_line([h for h, _ in _COLS]))
    print(_line(["-" * w for _, w in _COLS]))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer calls and repeats")
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="run only benchmark NAME (jit, eager, trace, import) or row NAME "
                             "(e.g. trace.lower); repeatable or comma-separated")
    parser.add_argument("--no-torch", action="store_true",
                        help="skip the PyTorch columns (torch.compile's first compile is slow)")
    parser.add_argument("--verbose", "-v", action="store_true",
                        help="also print the spread of repeats and what each PyTorch cell is")
    args = parser.parse_args(argv)
    opts = Options(args)
    # The parallel benchmarks need 4 CPU devices in both libraries, fixed before either starts
    # its runtime; one-device programs are unaffected (they run on device 0 either way).
    if opts.wants_module("parallel"):
        os.environ.setdefault("JAX_NUM_CPU_DEVICES", "4")
    if args.no_torch:
        _libs.disable("torch", "skipped (--no-torch)")
    elif importlib.util.find_spec("torch") is None:
        _libs.disable("torch", "not installed (optional: pip install torch)")
    modules = [importlib.import_module(f"benchmarks.{m}") for m in BENCHMARK_MODULES]
    known = {m.NAME for m in modules}
    unknown = {n.split(".")[0] for n in opts.only} - known
    if unknown:
        parser.error(f"unknown benchmark {', '.join(sorted(unknown))}; choose from "
                     f"{', '.join(sorted(known))}")
    _header(opts)
    t0 = time.perf_counter()
    verdicts = []
    for module in modules:
        if not opts.wants_module(module.NAME):
            continue
        try:
            rows = module.run(opts)
        except Exception as e:  # one broken benchmark must not hide the others
            print(f"{module.NAME}: failed: {type(e).__name__}: {e}")
            continue
        for row in rows:
            if row.target is not None:
                verdicts.append(print_row(row, opts.verbose))
            else:
                print_row(row, opts.verbose)
    met = sum(v is True for v in verdicts)
    missed = sum(v is False for v in verdicts)
    unknown_n = sum(v is None for v in verdicts)
    print()
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    print(f"targets: {met} met, {missed} missed" + (f", {unknown_n} not measured"
                                                     if unknown_n else "")
          + f"  ({time.perf_counter() - t0:.0f} s"
          + (f", load average now {load[0]:.2f})" if load else ")"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
