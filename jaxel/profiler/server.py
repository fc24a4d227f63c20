"""The profiler server (for on-demand capture from TensorBoard) and device memory profiles."""
from __future__ import annotations

import gzip

from jaxel.runtime.profiling import lib as _profiler

_server = None


def start_server(port: int):
    """Start a profiler server on ``port``, from which TensorBoard/XProf can capture traces of
    this process on demand. One per process (ValueError if one is running)."""
    global _server
    if _server is not None:
        raise ValueError("Only one profiler server can be active at a time.")
    from jaxel.runtime import client
    client.backend()  # the device tracers need the devices to exist
    _server = _profiler.start_server(port)
    return _server


def stop_server() -> None:
    """Stop the server :func:`start_server` started (ValueError if none)."""
    global _server
    if _server is None:
        raise ValueError("No active profiler server.")
    _server = None  # dropping jaxlib's server object shuts it down


def register_subprocess(pid: int, port: int):
    """Include subprocess ``pid`` (running a profiler server on ``port``) in this process's
    traces; returns a function that unregisters it."""
    return _profiler.register_subprocess(pid, port)


def device_memory_profile(backend: str | None = None) -> bytes:
    """A snapshot of the live device buffers and executables of ``backend`` (default: the
    default one) as a gzipped ``pprof`` protocol buffer (``pprof -http : file`` shows it)."""
    from jaxel.runtime import client
    return gzip.compress(client.backend(backend).client.heap_profile())


def save_device_memory_profile(filename, backend: str | None = None) -> None:
    """Write :func:`device_memory_profile` to ``filename``."""
    with open(filename, "wb") as f:
        f.write(device_memory_profile(backend))
