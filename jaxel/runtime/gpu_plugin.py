"""Loading the CUDA PJRT plugin through jaxlib's documented plugin API.

The plugin ships as a separate wheel (``jax-cuda12-pjrt`` / ``jax-cuda13-pjrt``, same version as
jaxlib) containing a shared library. We look for it, load it by path, and make a C-API client.
Untested on machines without a GPU: kept small and isolated on purpose.
"""
from __future__ import annotations

import glob
import importlib.util
import os


def _find_plugin_library() -> str | None:
    path = os.environ.get("JAXEL_CUDA_PLUGIN_PATH")
    if path:
        return path
    for pkg in ("jax_plugins.xla_cuda13", "jax_plugins.xla_cuda12"):
        try:
            spec = importlib.util.find_spec(pkg)
        except (ImportError, ValueError):
            spec = None
        if spec is not None and spec.submodule_search_locations:
            for loc in spec.submodule_search_locations:
                libs = glob.glob(os.path.join(loc, "xla_cuda_plugin.so"))
                if libs:
                    return libs[0]
    return None


def make_gpu_backend(required: bool = False):
    """Return a GPU PJRT client, or None when no plugin is installed (raise if ``required``)."""
    lib = _find_plugin_library()
    if lib is None:
        if required:
            raise RuntimeError("jax_platforms asks for a GPU but no CUDA PJRT plugin is "
                               "installed (pip install jax-cuda12-pjrt==0.10.2).")
        return None
    from jaxel.runtime.xla import xc
    try:
        xc.load_pjrt_plugin_dynamically("cuda", lib)
        xc.initialize_pjrt_plugin("cuda")
        options = xc.generate_pjrt_gpu_plugin_options()
        return xc.make_c_api_client("cuda", options)
    except Exception as e:  # a plugin that is present but unusable (no driver, no device)
        if required:
            raise RuntimeError(f"The CUDA PJRT plugin at {lib} failed to start: {e}") from e
        return None
