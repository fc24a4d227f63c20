"""What the process holds and runs on: ``live_arrays`` and ``print_environment_info``."""
from __future__ import annotations

import gc


def live_arrays(platform: str | None = None) -> list:
    """The Arrays alive now (not deleted), optionally only those on ``platform``'s devices.

    A debugging tool for finding what holds device memory; it walks the garbage collector's
    objects, so it takes a moment in a large program. jaxel's cached device copies of small
    constants are not listed.
    """
    from jaxel.runtime.array import Array
    from jaxel.runtime.transfer import _scalar_cache
    internal = {id(a) for a in _scalar_cache.values()}
    if platform is not None:
        platform = "gpu" if platform == "cuda" else platform
    out = []
    for obj in gc.get_objects():
        if type(obj) is not Array or id(obj) in internal or obj.is_deleted():
            continue
        if platform is not None and \
                not any(d.platform == platform for d in obj.sharding.device_set):
            continue
        out.append(obj)
    return out


def print_environment_info(return_string: bool = False):
    """Print (or, with ``return_string=True``, return) the versions of jaxel, jaxlib, NumPy and
    Python, the platform, the devices, and ``nvidia-smi``'s report where there is one: what a
    bug report needs."""
    import platform as _platform
    import shutil
    import subprocess
    import sys

    import numpy as np

    from jaxel import version
    from jaxel.device import process_count
    from jaxel.runtime import client
    from jaxel.runtime.xla import jaxlib_version
    devices = client.devices()
    lines = [
        f"jaxel:    {version.__version__} (implements JAX {version.jax_version})",
        f"jaxlib:   {jaxlib_version()}",
        f"numpy:    {np.__version__}",
        f"python:   {sys.version.replace(chr(10), ' ')}",
        f"device info: {devices[0].device_kind}-{len(devices)}, {len(client.local_devices())} "
        f"local devices",
        f"process_count: {process_count()}",
        f"platform: {_platform.uname()}",
    ]
    if shutil.which("nvidia-smi"):
        try:
            smi = subprocess.run(["nvidia-smi"], capture_output=True, text=True, timeout=10)
            lines += ["", "$ nvidia-smi", smi.stdout.rstrip()]
        except (OSError, subprocess.SubprocessError):
            pass
    text = "\n".join(lines) + "\n"
    if return_string:
        return text
    print(text)
