"""Host values between processes through the coordination service's key-value store.

Each process publishes its bytes under a key numbered by a per-process call counter and reads
the others'; the counter agrees across processes because every process makes the same calls in
the same order. After a barrier (everyone has read everything) each process deletes its keys.
Used by multihost_utils for small values, where it beats compiling a collective.
"""
from __future__ import annotations

import itertools
import json

import numpy as np

# Each collective call gets the next number; keys and barriers are named after it.
_calls = itertools.count()

# How long to wait for another process's value. A process that dies is reported by the
# coordination service (missed heartbeats) well before this, which ends the waiting processes.
TIMEOUT_S = 3600.0


def _encode(values: list) -> bytes:
    header = json.dumps([[list(v.shape), str(v.dtype)] for v in values]).encode()
    return b"".join([len(header).to_bytes(8, "little"), header,
                     *(np.ascontiguousarray(v).tobytes() for v in values)])


def _key(call, process, what="value"):
    return f"jaxel/multihost/{call}/{what}/{process}"


def _finish(call, me, whats):
    """After the barrier every process has read every key; each then drops its own."""
    from jaxel.runtime import distributed as _dist
    _dist.barrier(f"jaxel/multihost/{call}", TIMEOUT_S)
    for what in whats:
        _dist.key_value_delete(_key(call, me, what))


def exchange(values: list) -> list:
    """Every process's list of NumPy arrays, indexed by process (one round trip each)."""
    from jaxel.device import process_count, process_index
    from jaxel.runtime import distributed as _dist
    me, n = process_index(), process_count()
    call = next(_calls)
    payload = _encode(values)
    _dist.key_value_set(_key(call, me), payload)
    out = []
    for p in range(n):
        blob = payload if p == me else _dist.key_value_get(_key(call, p), TIMEOUT_S)
        out.append(_decode(blob, values, p))
    _finish(call, me, ["value"])
    return out


def _decode(blob: bytes, like: list, process: int) -> list:
    size = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8:8 + size])
    mine = [[list(v.shape), str(v.dtype)] for v in like]
    if header != mine:
        raise ValueError(
            f"multihost_utils: process {process} passed leaves with (shape, dtype) {header}, "
            f"this process {mine}; every process must pass the same shapes and dtypes.")
    out, offset = [], 8 + size
    for v in like:
        nbytes = v.dtype.itemsize * v.size
        out.append(np.frombuffer(blob[offset:offset + nbytes], v.dtype).reshape(v.shape))
        offset += nbytes
    return out


def gather_sources(values: list, is_source: bool, me: int, count: int) -> list:
    """The sum of the sources' ``values`` (zeros when no process is a source)."""
    from jaxel.runtime import distributed as _dist
    call = next(_calls)
    # Every process says whether it is a source; only sources upload their values, so the
    # data read is (number of sources) x (tree size), not (number of processes) x (tree size).
    _dist.key_value_set(_key(call, me, "source"), b"1" if is_source else b"0")
    if is_source:
        _dist.key_value_set(_key(call, me), _encode(values))
    out = [np.zeros_like(v) for v in values]
    for p in range(count):
        if _dist.key_value_get(_key(call, p, "source"), TIMEOUT_S) != b"1":
            continue
        theirs = _decode(_dist.key_value_get(_key(call, p), TIMEOUT_S), values, p)
        out = [np.sum(np.stack([a, t]), axis=0, dtype=v.dtype)
               for a, t, v in zip(out, theirs, values)]
    _finish(call, me, ["source", "value"] if is_source else ["source"])
    return out
