"""Setting the persistent compilation cache's directory from code (JAX's
``jax.experimental.compilation_cache.compilation_cache``).

The cache is trusted: loading an entry runs the code it holds, so never point it at a
directory that people you do not trust can write to.
"""
from __future__ import annotations

from jaxel.config import config


def set_cache_dir(path) -> None:
    """Keep compiled programs in ``path`` (the ``jax_compilation_cache_dir`` option) and look
    there before compiling."""
    config.update("jax_compilation_cache_dir", path)


def reset_cache() -> None:
    """Return the cache to its state before first use. jaxel reads the cache options at every
    compile and keeps no cache object, so this only forgets the process's cached umask."""
    from jaxel.runtime import persistent_cache
    persistent_cache._UMASK.clear()
