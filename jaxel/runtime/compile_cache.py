"""The compilation cache: StableHLO text + devices -> loaded executable, LRU-bounded.

Keying on the module text (which spells out the jaxpr's operations and the input types) lets
two functions that lower to the same program share one executable. The bound comes from
``jax_compilation_cache_max_size``; ``stats()`` reports hits, misses, evictions and the time
spent compiling.
"""
from __future__ import annotations

import collections
import logging
import time

from jaxel.config import config

logger = logging.getLogger("jaxel")

_cache: "collections.OrderedDict[tuple, object]" = collections.OrderedDict()
_stats = {"hits": 0, "misses": 0, "evictions": 0, "compile_seconds": 0.0,
          # the persistent (on-disk) cache, when jax_compilation_cache_dir is set
          "persistent_hits": 0, "persistent_misses": 0, "persistent_writes": 0}


class CompileError(RuntimeError):
    """XLA rejected a module jaxel produced: a jaxel bug; the message carries the module text."""


def compile_module(text: str, devices: tuple, num_replicas: int = 1, name: str = "module",
                   spmd: bool = False):
    """The loaded executable for ``text`` on ``devices``, compiling it on a cache miss.

    ``spmd``: the program is partitioned over ``devices`` (one partition each) by XLA.
    """
    key = (text, devices, num_replicas, spmd)
    exe = _cache.get(key)
    if exe is not None:
        _cache.move_to_end(key)
        _stats["hits"] += 1
        return exe
    _stats["misses"] += 1
    from jaxel import monitoring
    from jaxel.runtime import client as _client, persistent_cache
    from jaxel.runtime.xla import compile_spmd, compile_text
    be = _client.backend_of_device(devices[0])

    def compile_now():
        try:
            return compile_spmd(be.client, text, devices) if spmd else \
                compile_text(be.client, text, devices, num_replicas)
        except Exception as e:
            raise CompileError(f"XLA failed to compile {name} (this is a jaxel bug; please "
                               f"report it with this text):\n{e}\n--- module ---\n{text}") \
                from None

    fun = name[4:] if name.startswith("jit_") else name
    loaded = False
    t0 = time.perf_counter()
    with monitoring.timed(monitoring.BACKEND_COMPILE_EVENT, f"jit({fun})"):
        if persistent_cache.enabled() and persistent_cache.cacheable(text):
            exe, loaded = persistent_cache.lookup_or_compile(text, devices, num_replicas, spmd,
                                                             be, compile_now, _stats)
        else:
            exe = compile_now()
    elapsed = time.perf_counter() - t0
    _stats["compile_seconds"] += elapsed
    if config.jax_log_compiles:
        logger.warning("Compiling %s for devices %s took %.1f ms%s", name, list(devices),
                       elapsed * 1e3, " (loaded from the persistent compilation cache)"
                       if loaded else "")
    _cache[key] = exe
    while len(_cache) > config.jax_compilation_cache_max_size:
        _cache.popitem(last=False)
        _stats["evictions"] += 1
    return exe


def stats() -> dict:
    """Hits, misses, evictions, entries and total compile time of the cache, and the hits,
    misses and writes of the persistent cache."""
    return dict(_stats, entries=len(_cache))


def clear_all():
    """Drop every cached executable (and the eager-op cache that refers to them)."""
    _cache.clear()
    for hook in _clear_hooks:
        hook()


_clear_hooks: list = []
