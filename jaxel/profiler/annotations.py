"""Named spans on the profiler's timeline (free when no trace is being taken)."""
from __future__ import annotations

import functools

from jaxel.runtime.profiling import lib as _profiler


class TraceAnnotation(_profiler.TraceMe):
    """``with TraceAnnotation("name", **metadata):`` marks the enclosed code as one event named
    ``name`` in a profile being taken (and does nothing otherwise)."""


class StepTraceAnnotation(TraceAnnotation):
    """Marks one training step (``StepTraceAnnotation("train", step_num=i)``): the profiler's
    step analysis groups events by these."""

    def __init__(self, name: str, **kwargs):
        # `_r=1` tells the profiler this is a step marker (its "root" event convention).
        super().__init__(name, _r=1, **kwargs)


def annotate_function(func, name: str | None = None, **decorator_kwargs):
    """Decorator: each call of ``func`` is one profiler event (named ``name`` or the function's
    qualified name). Keyword arguments become the event's metadata; pass them with
    ``functools.partial(annotate_function, name=..., key=value)``."""
    label = name or getattr(func, "__qualname__", None) or func.__name__

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with TraceAnnotation(label, **decorator_kwargs):
            return func(*args, **kwargs)
    return wrapper
