"""Profiling (JAX's ``jax.profiler``) on jaxlib's profiler runtime.

A trace records Python calls, jaxel's compiles and XLA's execution on every device, and is
written where TensorBoard's profile plugin (XProf) finds it: ``log_dir/plugins/profile/<run>/``
(``*.xplane.pb`` and ``*.trace.json.gz``); ``create_perfetto_trace=True`` also writes
``perfetto_trace.json.gz`` for https://ui.perfetto.dev.

Example::

    with jaxel.profiler.trace("/tmp/tb"):
        with jaxel.profiler.TraceAnnotation("step"):
            f(x).block_until_ready()
"""
from jaxel.profiler.session import (  # noqa: F401
    ProfileData, ProfileEvent, ProfileLine, ProfileOptions, ProfilePlane, ProfileSession,
    export_profile_data, start_trace, stop_trace, trace,
)
from jaxel.profiler.annotations import (  # noqa: F401
    StepTraceAnnotation, TraceAnnotation, annotate_function,
)
from jaxel.profiler.server import (  # noqa: F401
    device_memory_profile, register_subprocess, save_device_memory_profile, start_server,
    stop_server,
)
