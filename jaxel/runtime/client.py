"""PJRT clients and devices, created lazily on first use so ``import jaxel`` stays fast.

CPU always; a GPU client when the CUDA PJRT plugin is installed and ``jax_platforms`` allows
it (see ``gpu_plugin.py``). ``jax_num_cpu_devices`` sets how many CPU devices one process has.
"""
from __future__ import annotations

import threading

from jaxel.config import config

_lock = threading.Lock()
_backends: dict = {}
_default_platform: str | None = None


class Backend:
    """A PJRT client with its devices and the sharding objects the runtime needs per device."""

    def __init__(self, client):
        self.client = client
        self.platform = client.platform
        self.devices = list(client.devices())
        self.local_devices = list(client.local_devices())
        self._shardings = {}
        self._handlers = {}

    def sharding(self, device):
        """The single-device sharding object the C++ runtime wants for ``device``."""
        s = self._shardings.get(device)
        if s is None:
            from jaxel.runtime.xla import single_device_sharding
            s = self._shardings[device] = single_device_sharding(device)
        return s


    def result_handler(self, aval, device):
        """The cached C++ result handler for outputs of type ``aval`` on ``device``."""
        key = (aval, device)
        h = self._handlers.get(key)
        if h is None:
            from jaxel.runtime.xla import result_handler
            h = self._handlers[key] = result_handler(aval, self.sharding(device))
        return h


def _make_cpu():
    from jaxel.runtime.xla import xc
    from jaxel.runtime import distributed
    n = config.jax_num_cpu_devices
    if n < 1:
        raise ValueError(f"jax_num_cpu_devices must be at least 1, got {n}.")
    # After jaxel.distributed.initialize the client sees every process's devices (global ids,
    # ``device.process_index``) and runs cross-process collectives over Gloo TCP.
    return Backend(xc.make_cpu_client(asynchronous=True, num_devices=n,
                                      **distributed.cpu_client_kwargs()))


def _platforms_wanted() -> list[str]:
    p = config.jax_platforms.strip()
    return [s.strip() for s in p.split(",") if s.strip()] if p else []


def _initialize():
    global _default_platform
    wanted = _platforms_wanted()
    if not wanted or "cuda" in wanted or "gpu" in wanted:
        from jaxel.runtime import gpu_plugin
        gpu = gpu_plugin.make_gpu_backend(required=bool(wanted) and "cpu" not in wanted)
        if gpu is not None:
            _backends["gpu"] = Backend(gpu)
    if not wanted or "cpu" in wanted:
        _backends["cpu"] = _make_cpu()
    if not _backends:
        raise RuntimeError(f"No backend could be initialised for jax_platforms={wanted}.")
    order = wanted or ["gpu", "cpu"]
    for p in order:
        p = "gpu" if p == "cuda" else p
        if p in _backends:
            _default_platform = p
            break


def initialized() -> bool:
    """Whether the backends exist (``jaxel.distributed.initialize`` must come before)."""
    return bool(_backends)


def backend(platform: str | None = None) -> Backend:
    """The backend for ``platform`` (default: the preferred one), creating clients on first use."""
    if not _backends:
        with _lock:
            if not _backends:
                _initialize()
    if platform is None:
        return _backends[_default_platform]
    platform = "gpu" if platform == "cuda" else platform
    try:
        return _backends[platform]
    except KeyError:
        raise RuntimeError(f"Unknown or unavailable backend {platform!r}; available: "
                           f"{sorted(_backends)}") from None


def devices(backend: str | None = None):
    """All devices of the default (or named) backend, like ``jax.devices()``."""
    return list(_named_backend(backend).devices)


def local_devices(process_index: int | None = None, backend: str | None = None,
                  host_id: int | None = None):
    """Devices of process ``process_index`` (default: this process's own, addressable ones)."""
    index = process_index if process_index is not None else host_id
    be = _named_backend(backend)
    if index is None or index == be.client.process_index():
        return list(be.local_devices)
    count = process_count(backend)
    if not 0 <= index < count:
        raise ValueError(f"local_devices: unknown process_index {index}; this run has "
                         f"{count} process(es).")
    return [d for d in be.devices if d.process_index == index]


def process_count(backend: str | None = None) -> int:
    """Number of processes whose devices the backend knows (1 unless distributed)."""
    return max((d.process_index for d in _named_backend(backend).devices), default=0) + 1


def device_count(backend: str | None = None) -> int:
    """Number of devices, like ``jax.device_count()``."""
    return len(_named_backend(backend).devices)


def default_device():
    """The device un-placed computations run on."""
    return backend().local_devices[0]


def backend_of_device(device) -> Backend:
    """The backend that owns ``device``."""
    for b in _backends.values():
        if device.client is b.client:
            return b
    raise ValueError(f"{device} does not belong to any jaxel backend.")


_named_backend = backend  # the parameter named `backend` (JAX's spelling) shadows the function


def result_handlers(avals, device=None):
    """C++ result handlers for outputs ``avals`` on ``device`` (default device if None)."""
    be = backend() if device is None else backend_of_device(device)
    dev = be.local_devices[0] if device is None else device
    return [be.result_handler(a, dev) for a in avals]


def _reset_backends(_value=None):
    # Changing the CPU device count after the client exists needs a new client; arrays made on
    # the old client stay valid (they keep their client alive).
    global _default_platform
    if _backends:
        from jaxel.runtime import compile_cache
        compile_cache.clear_all()
    _backends.clear()
    _default_platform = None


config.add_hook("jax_num_cpu_devices", _reset_backends)
config.add_hook("jax_platforms", _reset_backends)
