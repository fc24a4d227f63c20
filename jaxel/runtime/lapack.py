"""jaxlib's LAPACK kernels (CPU linear algebra), registered with XLA's custom-call registry
on first use. Part of the runtime seam: lowering rules name the targets; only this module
touches jaxlib for them (see ../shared/design/xla-runtime.md)."""
from __future__ import annotations

import threading

_lock = threading.Lock()
_ready = False


def ensure_lapack_registered():
    """Register jaxlib's LAPACK FFI targets for the CPU platform (once per process)."""
    global _ready
    if _ready:
        return
    with _lock:
        if _ready:
            return
        from jaxlib import lapack
        from jaxel.runtime.xla import xc
        for name, capsule, api_version in lapack.registrations()["cpu"]:
            try:
                xc.register_custom_call_target(name, capsule, platform="cpu",
                                               api_version=api_version)
            except Exception:  # already registered (e.g. by JAX in the same process)
                pass
        lapack._lapack.initialize()
        _ready = True
