"""Event listeners for metrics (JAX's ``jax.monitoring``).

jaxel reports the events JAX reports, under JAX's names, so that metric collectors written for
JAX work unchanged:

* ``/jax/core/compile/jaxpr_trace_duration``: tracing a jitted function to a jaxpr,
* ``/jax/core/compile/jaxpr_to_mlir_module_duration``: lowering it to StableHLO,
* ``/jax/core/compile/backend_compile_duration``: XLA compiling it,

each as a duration (seconds), a time span (start and end, ``time.time()``) and a scalar (the
start time), with the keyword ``fun_name``; and ``/jax/compilation_cache/...`` events of the
persistent compilation cache. All of these happen on cache misses only, never per call.

Example::

    durations = []
    jaxel.monitoring.register_event_duration_secs_listener(
        lambda event, secs, **kw: durations.append((event, secs)))
"""
from __future__ import annotations

import time

JAXPR_TRACE_EVENT = "/jax/core/compile/jaxpr_trace_duration"
JAXPR_TO_MLIR_MODULE_EVENT = "/jax/core/compile/jaxpr_to_mlir_module_duration"
BACKEND_COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"

_event_listeners: list = []
_duration_listeners: list = []
_time_span_listeners: list = []
_scalar_listeners: list = []


def record_event(event: str, **kwargs) -> None:
    """Tell every event listener that ``event`` happened (with metadata ``kwargs``)."""
    for listener in list(_event_listeners):
        listener(event, **kwargs)


def record_event_duration_secs(event: str, duration: float, **kwargs) -> None:
    """Tell every duration listener that ``event`` took ``duration`` seconds."""
    for listener in list(_duration_listeners):
        listener(event, duration, **kwargs)


def record_event_time_span(event: str, start_time: float, end_time: float, **kwargs) -> None:
    """Tell every time-span listener that ``event`` ran from ``start_time`` to ``end_time``."""
    for listener in list(_time_span_listeners):
        listener(event, start_time, end_time, **kwargs)


def record_scalar(event: str, value, **kwargs) -> None:
    """Tell every scalar listener the value ``value`` of metric ``event``."""
    for listener in list(_scalar_listeners):
        listener(event, value, **kwargs)


def register_event_listener(callback) -> None:
    """Call ``callback(event, **kwargs)`` on every :func:`record_event`."""
    _event_listeners.append(callback)


def register_event_duration_secs_listener(callback) -> None:
    """Call ``callback(event, duration_secs, **kwargs)`` on every
    :func:`record_event_duration_secs`."""
    _duration_listeners.append(callback)


def register_event_time_span_listener(callback) -> None:
    """Call ``callback(event, start_time, end_time, **kwargs)`` on every
    :func:`record_event_time_span`."""
    _time_span_listeners.append(callback)


def register_scalar_listener(callback) -> None:
    """Call ``callback(event, value, **kwargs)`` on every :func:`record_scalar`."""
    _scalar_listeners.append(callback)


def _unregister(listeners: list, callback, kind: str) -> None:
    if callback not in listeners:
        # JAX asserts; a named error says which registry the callback was missing from.
        raise AssertionError(f"{callback!r} is not a registered {kind} listener.")
    listeners.remove(callback)


def unregister_event_listener(callback) -> None:
    """Stop calling ``callback`` on events (it must be registered)."""
    _unregister(_event_listeners, callback, "event")


def unregister_event_duration_listener(callback) -> None:
    """Stop calling ``callback`` on durations (it must be registered)."""
    _unregister(_duration_listeners, callback, "event duration")


def unregister_event_time_span_listener(callback) -> None:
    """Stop calling ``callback`` on time spans (it must be registered)."""
    _unregister(_time_span_listeners, callback, "event time span")


def unregister_scalar_listener(callback) -> None:
    """Stop calling ``callback`` on scalars (it must be registered)."""
    _unregister(_scalar_listeners, callback, "scalar")


def clear_event_listeners() -> None:
    """Unregister every listener of every kind."""
    for listeners in (_event_listeners, _duration_listeners, _time_span_listeners,
                      _scalar_listeners):
        listeners.clear()


def get_event_listeners() -> list:
    """The registered event listeners (a copy)."""
    return list(_event_listeners)


def get_event_duration_listeners() -> list:
    """The registered duration listeners (a copy)."""
    return list(_duration_listeners)


def get_event_time_span_listeners() -> list:
    """The registered time-span listeners (a copy)."""
    return list(_time_span_listeners)


def get_scalar_listeners() -> list:
    """The registered scalar listeners (a copy)."""
    return list(_scalar_listeners)


# With jax_log_compiles, the steps are also logged in JAX's words (XLA's compile is logged by
# the compilation cache, with its devices).
_LOG_FORMATS = {
    JAXPR_TRACE_EVENT: "Finished tracing {fun_name} for jit in {elapsed:.9f} sec",
    JAXPR_TO_MLIR_MODULE_EVENT: "Finished jaxpr to MLIR module conversion {fun_name} in "
                                "{elapsed:.9f} sec",
}


class timed:
    """Times a slow-path step (tracing, lowering, compiling) and reports it as JAX does: a
    scalar (the start time) on entry, a duration and a time span on exit (and a log line with
    ``jax_log_compiles``). Costs two clock reads when nobody listens."""

    __slots__ = ("event", "fun_name", "start")

    def __init__(self, event: str, fun_name: str):
        self.event = event
        self.fun_name = fun_name

    def __enter__(self):
        self.start = time.time()
        if _scalar_listeners:
            record_scalar(self.event, self.start, fun_name=self.fun_name)
        return self

    def __exit__(self, *exc):
        if exc[0] is not None:
            return
        from jaxel.config import config
        if config.jax_log_compiles and self.event in _LOG_FORMATS:
            import logging
            logging.getLogger("jaxel").warning(_LOG_FORMATS[self.event].format(
                fun_name=self.fun_name, elapsed=time.time() - self.start))
        if not (_duration_listeners or _time_span_listeners):
            return
        end = time.time()
        record_event_duration_secs(self.event, end - self.start, fun_name=self.fun_name)
        record_event_time_span(self.event, self.start, end, fun_name=self.fun_name)
