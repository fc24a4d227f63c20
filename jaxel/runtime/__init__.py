"""The XLA runtime seam: the only package that imports jaxlib.

Everything above this folder speaks in StableHLO text, numpy values and ``Array`` objects.
"""
from jaxel.runtime.client import devices, local_devices, default_device, device_count, backend  # noqa: F401
