"""The shared timing helper and the result rows every benchmark returns.

Timing rules (the same for every library, so ratios compare like with like):

* Each candidate (jaxel, JAX, PyTorch) is a ``Case``: a zero-argument callable timed ``number``
  times in a loop, then ``sync`` applied once to the *last* result inside the timed region.
  For dispatch benchmarks this measures steady-state throughput of N calls followed by one
  ``block_until_ready`` at the end, identically for both libraries: async dispatch is neither
  undercounted (the wait for the last result is included) nor over-serialised (we do not block
  after every call, which no real program does). Blocking on the last result covers the
  earlier ones because one device runs its programs in order.
* Warmup calls (compilation, cache fills) run before any timing.
* Repeats of the candidates are *interleaved* (jaxel, JAX, torch, jaxel, JAX, ...; the order
  rotates every round) so a burst of load from another process on this shared machine hits
  all of them rather than one. We report the median of the repeats (per call).
* The garbage collector stays on (users pay for it too), but ``gc.collect()`` runs before
  every repeat so each starts from the same heap state.
"""
from __future__ import annotations

import gc
import itertools
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Callable


class NotAvailable(Exception):
    """Raised when a candidate cannot run (library missing, feature not landed yet)."""


def describe_error(exc: BaseException, limit: int = 90) -> str:
    """A one-line reason for an n/a cell, e.g. ``AttributeError: ... has no attribute 'dot'``."""
    if isinstance(exc, NotAvailable):
        text = str(exc)
    else:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        text = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return text if len(text) <= limit else text[:limit - 3] + "..."


def prepare(make, *args):
    """``make(*args)`` (which builds a Case), or NotAvailable with the reason it failed."""
    try:
        return make(*args)
    except NotAvailable as e:
        return e
    except Exception as e:  # a missing feature must not stop the suite
        return NotAvailable(describe_error(e))


def block(x):
    """Wait for every array in ``x`` (a value, list, tuple or dict) to be computed.

    jaxel and JAX arrays both have ``block_until_ready``; PyTorch CPU tensors and host values
    (jaxprs, lowered modules) are already complete, so they pass through.
    """
    if isinstance(x, (list, tuple)):
        for v in x:
            block(v)
    elif isinstance(x, dict):
        for v in x.values():
            block(v)
    else:
        wait = getattr(x, "block_until_ready", None)
        if wait is not None:
            wait()
    return x


def no_sync(x):
    """For results that are host objects (a jaxpr, a lowered module): nothing to wait for."""
    return x


@dataclass
class Case:
    """One candidate: ``fn()`` is timed; ``before()`` (untimed) runs before each repeat."""

    fn: Callable[[], Any]
    sync: Callable[[Any], Any] = block
    before: Callable[[], Any] | None = None


@dataclass
class Timing:
    """Per-call seconds of each repeat."""

    samples: list

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def spread(self) -> float:
        """(max - min) / median: how noisy the repeats were."""
        m = self.median
        return (max(self.samples) - min(self.samples)) / m if m else 0.0


def _time_once(case: Case, number: int) -> float:
    if case.before is not None:
        case.before()
    gc.collect()
    fn, sync = case.fn, case.sync
    t0 = time.perf_counter()
    for _ in itertools.repeat(None, number):
        out = fn()
    sync(out)
    return (time.perf_counter() - t0) / number


def measure(cases: dict, *, number: int, repeat: int, warmup: int = 1) -> dict:
    """Time each of ``cases`` ({label: Case or NotAvailable}); returns {label: Timing or
    NotAvailable}.

    A case that raises (during warmup or timing) becomes ``NotAvailable`` with the reason;
    the others still run.
    """
    results: dict = {}
    live = {}
    for label, case in cases.items():
        if isinstance(case, BaseException):
            results[label] = case
            continue
        try:
            if case.before is not None:
                case.before()
            out = None
            for _ in range(warmup):
                out = case.fn()
            case.sync(out)
        except Exception as e:  # a missing feature must not stop the suite
            results[label] = NotAvailable(describe_error(e))
            continue
        live[label] = case
        results[label] = Timing([])
    labels = list(live)
    for r in range(repeat):
        k = r % len(labels) if labels else 0
        for label in labels[k:] + labels[:k]:  # rotate who goes first each round
            if isinstance(results[label], NotAvailable):
                continue
            try:
                results[label].samples.append(_time_once(live[label], number))
            except Exception as e:
                results[label] = NotAvailable(describe_error(e))
    return results


# ---- rows and targets ---------------------------------------------------------------------

@dataclass
class Target:
    """A pass/fail bound: ``ratio`` (jaxel/JAX at most this) or ``absolute`` (jaxel's value,
    in the row's unit, below this)."""

    ratio: float | None = None
    absolute: float | None = None

    def check(self, row: "Row"):
        """``(text, ok)``; ok is None when the row lacks the numbers to decide."""
        if self.ratio is not None:
            text = f"<={self.ratio:.1f}x"
            r = row.ratio("jax")
            return text, (None if r is None else r <= self.ratio)
        text = f"<{self.absolute:g} {row.unit}"
        v = row.value("jaxel")
        return text, (None if v is None else v < self.absolute)


@dataclass
class Row:
    """One line of the table: per-library results (Timing, seconds as float, or
    NotAvailable), the unit to print them in, an optional target, and notes printed below."""

    name: str
    what: str
    unit: str  # "us" or "ms"
    results: dict  # label ("jaxel", "jax", "torch") -> Timing | float | NotAvailable | None
    target: Target | None = None
    notes: list = field(default_factory=list)

    _SCALE = {"us": 1e6, "ms": 1e3, "s": 1.0}

    def value(self, label: str):
        """The result for ``label`` in the row's unit, or None if it did not run."""
        r = self.results.get(label)
        if isinstance(r, Timing):
            r = r.median if r.samples else None
        if isinstance(r, (int, float)):
            return r * self._SCALE[self.unit]
        return None

    def ratio(self, other: str):
        a, b = self.value("jaxel"), self.value(other)
        if a is None or b is None or b == 0:
            return None
        return a / b
