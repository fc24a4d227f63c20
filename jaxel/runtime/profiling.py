"""jaxlib's profiler runtime: trace sessions, trace annotations (``TraceMe``), the profiler
server, and the profile data types. Loaded only by ``jaxel.profiler``."""
from __future__ import annotations

from jaxlib import _profile_data  # registers ProfileData's type before a session returns one
from jaxlib import _profiler as lib  # noqa: F401

ProfileData = _profile_data.ProfileData
ProfileEvent = _profile_data.ProfileEvent
ProfileLine = _profile_data.ProfileLine
ProfilePlane = _profile_data.ProfilePlane


def jaxlib_version() -> str:
    """The installed jaxlib's version string."""
    from jaxel.runtime.xla import jaxlib_version as version
    return version()
