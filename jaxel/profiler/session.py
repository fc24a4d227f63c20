"""Profiler sessions: start, stop, and write what they captured."""
from __future__ import annotations

import contextlib
import gzip
import json
import logging
import os
import pathlib
import threading

from jaxel.runtime import profiling as _runtime
from jaxel.runtime.profiling import lib as _profiler

logger = logging.getLogger("jaxel")

ProfileData = _runtime.ProfileData
ProfileEvent = _runtime.ProfileEvent
ProfileLine = _runtime.ProfileLine
ProfilePlane = _runtime.ProfilePlane


class ProfileOptions(_profiler.ProfileOptions):
    """What a trace collects (``host_tracer_level``, ``python_tracer_level``, ``duration_ms``,
    ``session_id``...): jaxlib's profiler options."""


_lock = threading.Lock()
_active: "ProfileSession | None" = None


class ProfileSession:
    """One profiler run; a context manager, or :meth:`start` / :meth:`stop`. After it stops,
    :attr:`profile_data` holds what was captured; with a ``log_dir`` it is also written
    there."""

    def __init__(self, log_dir=None, create_perfetto_link: bool = False,
                 create_perfetto_trace: bool = False, profiler_options=None):
        self.log_dir = None if log_dir is None else os.fspath(log_dir)
        self.create_perfetto_link = create_perfetto_link
        self.create_perfetto_trace = create_perfetto_trace or create_perfetto_link
        self.profiler_options = profiler_options
        self._raw = None
        self._data = None

    def start(self) -> "ProfileSession":
        """Begin collecting; RuntimeError if a trace is already running (one at a time)."""
        global _active
        with _lock:
            if _active is not None or self._raw is not None:
                raise RuntimeError("Profile has already been started. Only one profile may be "
                                   "run at a time.")
            from jaxel import version
            from jaxel.runtime import client
            client.backend()  # devices exist before the tracers look for them
            _profiler.clear_metadata()
            _profiler.set_metadata("jaxel_version", version.__version__)
            _profiler.set_metadata("jaxlib_version", _runtime.jaxlib_version())
            options = self.profiler_options or ProfileOptions()
            self._raw = _profiler.ProfilerSession(options)
            self._data = None
            _active = self
        return self

    def stop(self):
        """Stop collecting; returns the :class:`ProfileData` (also written to ``log_dir``)."""
        global _active
        with _lock:
            if self._raw is None:
                raise RuntimeError("No profile started")
            self._data = self._raw.stop_and_get_profile_data()
            self._raw = None
            _active = None
            _profiler.clear_metadata()
        if self.log_dir is not None:
            self.export_profile_data(self.log_dir, self.create_perfetto_link,
                                     self.create_perfetto_trace)
        return self._data

    def export_profile_data(self, log_dir, create_perfetto_link: bool = False,
                            create_perfetto_trace: bool = False, session_id=None) -> None:
        """Write the captured data under ``log_dir`` (see :func:`export_profile_data`)."""
        export_profile_data(self, log_dir, create_perfetto_link, create_perfetto_trace,
                            session_id)

    @property
    def is_running(self) -> bool:
        """Whether the session is collecting now."""
        return self._raw is not None

    @property
    def profile_data(self):
        """The captured :class:`ProfileData` once stopped (None before)."""
        return self._data

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        if self.is_running:  # stop() may have been called inside the block
            self.stop()


def export_profile_data(profile_data, log_dir, create_perfetto_link: bool = False,
                        create_perfetto_trace: bool = False, session_id=None) -> None:
    """Write a stopped session's (or a :class:`ProfileData`'s) trace under
    ``log_dir/plugins/profile/``, where TensorBoard and XProf look."""
    if isinstance(profile_data, ProfileSession):
        session = profile_data
        if session.is_running:
            raise RuntimeError("Cannot export a ProfileSession while it is running; call "
                               "stop() first.")
        if session.profile_data is None:
            raise RuntimeError("No profile data to export: the session never ran.")
        if session_id is None and session.profiler_options is not None:
            session_id = session.profiler_options.session_id
        profile_data = session.profile_data
    elif not isinstance(profile_data, ProfileData):
        raise TypeError(f"Expected ProfileData or ProfileSession, got "
                        f"{type(profile_data).__name__}")
    _profiler.export_to_xprof(profile_data, os.fspath(log_dir), session_id=session_id or "")
    if create_perfetto_trace or create_perfetto_link:
        path = _write_perfetto_trace(log_dir)
        if create_perfetto_link:
            _serve_to_perfetto(path)


def _write_perfetto_trace(log_dir) -> pathlib.Path:
    """``perfetto_trace.json.gz`` next to the newest run's Chrome trace, without the
    ``metadata`` field that Perfetto rejects."""
    runs = (pathlib.Path(log_dir).absolute() / "plugins" / "profile").iterdir()
    run = max(runs, key=os.path.getmtime)
    traces = list(run.glob("*.trace.json.gz"))
    if len(traces) != 1:
        raise ValueError(f"Expected one *.trace.json.gz in {run}, found {len(traces)}.")
    with gzip.open(traces[0], "rb") as f:
        trace_json = json.load(f)
    trace_json.pop("metadata", None)
    out = run / "perfetto_trace.json.gz"
    with gzip.open(out, "wb") as f:
        f.write(json.dumps(trace_json).encode())
    return out


def _serve_to_perfetto(path: pathlib.Path, port: int = 9001) -> None:
    """Serve ``path`` once on localhost for ui.perfetto.dev, printing the link; blocks until
    Perfetto has fetched it."""
    import http.server

    class Handler(http.server.SimpleHTTPRequestHandler):
        def end_headers(self):
            self.send_header("Access-Control-Allow-Origin", "https://ui.perfetto.dev")
            super().end_headers()

        def log_message(self, *args):
            pass

    os.chdir(path.parent)  # SimpleHTTPRequestHandler serves the working directory
    url = f"https://ui.perfetto.dev/#!/?url=http://127.0.0.1:{port}/{path.name}"
    print(f"Open URL in browser: {url}")
    with http.server.HTTPServer(("127.0.0.1", port), Handler) as server:
        server.handle_request()


def start_trace(log_dir, create_perfetto_link: bool = False,
                create_perfetto_trace: bool = False, profiler_options=None) -> ProfileSession:
    """Start a trace written to ``log_dir`` by :func:`stop_trace`; returns its session."""
    return ProfileSession(log_dir, create_perfetto_link, create_perfetto_trace,
                          profiler_options).start()


def stop_trace():
    """Stop the running trace (RuntimeError if none) and write it; returns its data."""
    with _lock:
        session = _active
    if session is None:
        raise RuntimeError("No profile started")
    return session.stop()


@contextlib.contextmanager
def trace(log_dir=None, create_perfetto_link: bool = False, create_perfetto_trace: bool = False,
          profiler_options=None):
    """``with jaxel.profiler.trace(log_dir) as session: ...`` profiles the block (also usable
    as a decorator); ``session.profile_data`` is set after it. Without ``log_dir`` the data stay
    in memory only."""
    with ProfileSession(log_dir, create_perfetto_link, create_perfetto_trace,
                        profiler_options) as session:
        yield session
