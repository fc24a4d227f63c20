"""jaxlib's CPU kernels (LAPACK for linear algebra; lgamma/digamma), registered with XLA's
custom-call registry on first use. Part of the runtime seam: lowering rules name the targets; only this module
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


_math_ready = False


def ensure_cpu_math_registered():
    """Register jaxlib's CPU special-function kernels (``cpu_lgamma_ffi``, ``cpu_digamma_ffi``):
    JAX 0.12.1 lowers lgamma and digamma to them on CPU, so using them gives JAX's values."""
    global _math_ready
    if _math_ready:
        return
    with _lock:
        if _math_ready:
            return
        from jaxlib.cpu import _math
        from jaxel.runtime.xla import xc
        for name, capsule in _math.registrations().items():
            try:
                xc.register_custom_call_target(name, capsule, platform="cpu", api_version=1)
            except Exception:  # already registered (e.g. by JAX in the same process)
                pass
        _math_ready = True
