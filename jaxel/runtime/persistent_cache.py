"""The persistent compilation cache: compiled executables kept in a directory across processes.

Enabled by ``jax_compilation_cache_dir`` (JAX's option and ``JAX_COMPILATION_CACHE_DIR``). An
entry is keyed by a SHA-256 of everything that decides the executable: the program text, the
compile options (device ids, replicas, whether XLA partitions it), the platform and its
version, and the jaxlib and jaxel versions. Only compiles that took at least
``jax_persistent_cache_min_compile_time_secs`` and whose executable has at least
``jax_persistent_cache_min_entry_size_bytes`` bytes are written.

Safety, for several processes sharing one directory:

* writes go to a temporary file in the same directory, renamed into place (``os.replace`` is
  atomic), so a reader sees a whole entry or none;
* each entry carries its payload's length and SHA-256: a truncated or corrupt file is ignored
  (the program is compiled again and the entry rewritten);
* reading marks an entry used (its modification time); when the directory grows past
  ``jaxel_persistent_cache_max_size_bytes`` the least recently used entries are deleted. A file
  that vanishes under a reader (evicted by another process) is just a miss.

The directory is trusted, as JAX's is: loading an entry runs the machine code it holds, so it
must not be writable by anyone you would not let run code as you.
"""
from __future__ import annotations

import hashlib
import logging
import os
import struct
import tempfile
import time

from jaxel.config import config

logger = logging.getLogger("jaxel")

_MAGIC = b"JAXELXC1"
# magic, payload length, compile time (seconds), payload SHA-256
_HEADER = struct.Struct("<8sQd32s")
_SUFFIX = "-cache"


# Custom-call targets of host callbacks: their programs point at Python objects of the process
# that compiled them, so a cached copy would be wrong in another process (JAX skips them too).
_HOST_CALLBACK_TARGETS = ("python_cpu_callback", "python_gpu_callback")


def enabled() -> bool:
    """Whether compiles go through the persistent cache now."""
    return bool(config.jax_compilation_cache_dir) and config.jax_enable_compilation_cache and \
        config.jaxel_persistent_cache_max_size_bytes != 0


def cacheable(text: str) -> bool:
    """Whether a program may be cached across processes (not if it calls back into Python)."""
    from jaxel.runtime import host_callbacks
    return not (host_callbacks.has_callbacks(text) or
                any(target in text for target in _HOST_CALLBACK_TARGETS))


def cache_key(text: str, devices, num_replicas: int, spmd: bool, backend) -> str:
    """The entry name for a program: a hash of all that decides its executable."""
    from jaxel import version as jaxel_version
    from jaxel.runtime.xla import jaxlib_version
    h = hashlib.sha256()
    client = backend.client
    for part in (text, repr([d.id for d in devices]), str(num_replicas), str(spmd),
                 client.platform, getattr(client, "platform_version", ""),
                 jaxlib_version(), jaxel_version.__version__):
        h.update(part.encode())
        h.update(b"\0")  # keeps ("ab", "c") and ("a", "bc") apart
    return h.hexdigest()


def _path(key: str) -> str:
    return os.path.join(config.jax_compilation_cache_dir, key + _SUFFIX)


def get(key: str):
    """``(payload bytes, compile seconds)`` of a valid entry, else None."""
    path = _path(key)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:  # absent, or evicted by another process meanwhile
        return None
    if len(data) < _HEADER.size:
        logger.warning("Ignoring truncated compilation cache entry %s", path)
        return None
    magic, length, seconds, digest = _HEADER.unpack_from(data)
    payload = data[_HEADER.size:]
    if magic != _MAGIC or len(payload) != length or hashlib.sha256(payload).digest() != digest:
        logger.warning("Ignoring corrupt compilation cache entry %s", path)
        return None
    try:
        os.utime(path)  # most recently used, for eviction
    except OSError:
        pass
    return payload, seconds


def put(key: str, payload: bytes, compile_seconds: float) -> bool:
    """Write an entry atomically if it passes the size and time thresholds; True if written."""
    if compile_seconds < config.jax_persistent_cache_min_compile_time_secs:
        return False
    min_size = config.jax_persistent_cache_min_entry_size_bytes
    if min_size > 0 and len(payload) < min_size:
        return False
    directory = config.jax_compilation_cache_dir
    header = _HEADER.pack(_MAGIC, len(payload), compile_seconds,
                          hashlib.sha256(payload).digest())
    try:  # a cache that cannot be written is no reason to fail the compile
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    except OSError as e:
        logger.warning("Could not write to the compilation cache directory %s: %s", directory, e)
        return False
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 would hide entries from other users
        with os.fdopen(fd, "wb") as f:
            f.write(header)
            f.write(payload)
        os.replace(tmp, _path(key))
    except OSError as e:
        logger.warning("Could not write compilation cache entry %s: %s", _path(key), e)
        try:
            os.unlink(tmp)
        except OSError:
            pass
        return False
    _evict(directory)
    return True


_UMASK: list = []


def _umask() -> int:
    # Reading the umask means setting it; do it once (not on every write, racing threads).
    if not _UMASK:
        mask = os.umask(0o22)
        os.umask(mask)
        _UMASK.append(mask)
    return _UMASK[0]


def _evict(directory: str) -> None:
    """Delete least recently used entries until the directory fits its bound."""
    bound = config.jaxel_persistent_cache_max_size_bytes
    if bound < 0:
        return
    entries = []
    try:
        listing = list(os.scandir(directory))
    except OSError:
        return
    for entry in listing:
        if not entry.name.endswith(_SUFFIX):
            continue
        try:
            st = entry.stat()
        except OSError:
            continue
        entries.append((st.st_mtime, st.st_size, entry.path))
    total = sum(size for _, size, _ in entries)
    for _, size, path in sorted(entries):
        if total <= bound:
            break
        try:
            os.unlink(path)
        except OSError:
            pass  # another process evicted it first
        total -= size


def lookup_or_compile(text, devices, num_replicas, spmd, backend, compile_fn, stats):
    """``(executable, loaded)`` for ``text``: deserialized from the cache directory
    (``loaded``), or compiled by ``compile_fn()`` and stored. Updates ``stats`` (persistent
    hits, misses and writes)."""
    from jaxel import monitoring
    from jaxel.runtime.xla import deserialize_executable, serialize_executable
    key = cache_key(text, devices, num_replicas, spmd, backend)
    monitoring.record_event("/jax/compilation_cache/compile_requests_use_cache")
    t0 = time.monotonic()
    found = get(key)
    if found is not None:
        try:
            exe = deserialize_executable(backend.client, found[0], devices, num_replicas, spmd)
        except Exception as e:  # an entry jaxlib rejects: compile again and overwrite it
            logger.warning("Ignoring unloadable compilation cache entry %s: %s", _path(key), e)
        else:
            retrieval = time.monotonic() - t0
            stats["persistent_hits"] += 1
            logger.debug("Persistent compilation cache hit for %s", key)
            monitoring.record_event("/jax/compilation_cache/cache_hits")
            monitoring.record_event_duration_secs(
                "/jax/compilation_cache/compile_time_saved_sec", found[1] - retrieval)
            monitoring.record_event_duration_secs(
                "/jax/compilation_cache/cache_retrieval_time_sec", retrieval)
            return exe, True
    stats["persistent_misses"] += 1
    monitoring.record_event("/jax/compilation_cache/cache_misses")
    t0 = time.perf_counter()
    exe = compile_fn()
    elapsed = time.perf_counter() - t0
    try:
        payload = serialize_executable(exe)
    except Exception as e:  # some executables (host callbacks) cannot be serialized
        logger.debug("Not caching an executable that cannot be serialized: %s", e)
        return exe, False
    if put(key, payload, elapsed):
        stats["persistent_writes"] += 1
    return exe, False
