"""Opt-in key-reuse check (``jax_debug_key_reuse``; beyond JAX's defaults).

With the option on, every random function that *consumes* a key (``split`` and the samplers;
not ``fold_in``, ``key_data`` or ``clone``) records where it did so, and a second consumption of
the same key raises :class:`KeyReuseError` naming both source lines.

What "the same key" means:

* A concrete key (eager code, or a key closed over by a traced function) is identified by its
  *value*: re-using ``k``, ``ks[0]`` twice, or a raw ``PRNGKey`` array are all caught. Creating
  a key explicitly (``key``, ``PRNGKey``, ``wrap_key_data``) re-arms that value, so seeding the
  same experiment twice is not an error; ``clone(k)`` allows one more use of ``k``'s value.
* A traced key (inside ``jit``/``vmap``/``grad``) is identified by its tracer: consuming one
  traced value twice within one traced function is caught. (Slices of a traced key array are new
  values; their reuse is not tracked.)

Random functions call one another; only the outermost (the user's call) consumes.
"""
from __future__ import annotations

import functools
import os
import sys
import threading
import warnings

import numpy as np

from jaxel.config import config
from jaxel.runtime.array import Array

_JAXEL_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


from jaxel.errors import KeyReuseError  # noqa: E402  (one class: jaxel.errors' and JAX's)


class _State(threading.local):
    def __init__(self):
        self.depth = 0          # > 0 while a random function runs (inner calls do not consume)
        self.uses = {}          # token -> list of source sites
        self.allowed = {}       # token -> number of uses allowed (1 + clones)
        self.refs = {}          # token -> tracer kept alive so its id is not reused


_state = _State()


def _user_site() -> str:
    f = sys._getframe(1)
    while f is not None:
        fn = os.path.abspath(f.f_code.co_filename)
        if not fn.startswith(_JAXEL_DIR + os.sep) and "contextlib" not in fn:
            return f"{f.f_code.co_filename}:{f.f_lineno} (in {f.f_code.co_name})"
        f = f.f_back
    return "<unknown>"


def _token(data):
    if type(data) is Array:
        return ("value", np.asarray(data).tobytes(), data.shape)
    if isinstance(data, np.ndarray):
        return ("value", data.astype(np.uint32).tobytes(), data.shape)
    tok = ("traced", id(data))
    if tok not in _state.refs:
        _purge()
        _state.refs[tok] = data
    return tok


def _purge():
    # Forget traced keys whose trace has ended (bounded memory in long debug sessions).
    if len(_state.refs) < 256:
        return
    for tok, t in list(_state.refs.items()):
        trace = getattr(t, "_trace", None)
        if trace is not None and not getattr(trace, "alive", True):
            del _state.refs[tok]
            _state.uses.pop(tok, None)
            _state.allowed.pop(tok, None)


def consume(data, what: str) -> None:
    """Record that ``what`` consumes the key with raw data ``data``; raise on reuse."""
    tok = _token(data)
    uses = _state.uses.setdefault(tok, [])
    site = _user_site()
    if len(uses) >= _state.allowed.get(tok, 1):
        first = "\n".join(f"  {u}" for u in uses)
        raise KeyReuseError(
            f"jaxel.random.{what}: this PRNG key was already consumed at\n{first}\n"
            f"and is consumed again at\n  {site}\n"
            "Each key should be used once: split it (k1, k2 = jaxel.random.split(k)) and use "
            "each part once, or clone it (jaxel.random.clone) where reuse is intended. "
            "(Check enabled by jax_debug_key_reuse.)")
    uses.append(f"{site}: {what}")


def fresh(data) -> None:
    """A key was created explicitly (seeded or wrapped): its value may be consumed anew."""
    if config.jax_debug_key_reuse:
        tok = _token(data)
        _state.uses.pop(tok, None)
        _state.allowed.pop(tok, None)


def allow_one_more(data) -> None:
    """``clone``: the key may be consumed once more."""
    if config.jax_debug_key_reuse:
        tok = _token(data)
        _state.allowed[tok] = _state.allowed.get(tok, 1) + 1


def reset() -> None:
    """Forget every recorded use (tests; also run when the option changes)."""
    _state.uses.clear()
    _state.allowed.clear()
    _state.refs.clear()


def _on_change(value):
    reset()
    from jaxel.api import clear_caches
    clear_caches()  # traced programs must be traced again to be checked


config.add_hook("jax_debug_key_reuse", _on_change)


def check_legacy(key, what: str) -> None:
    """Enforce ``jax_legacy_prng_key`` ('warn' / 'error'; with ``jax_enable_custom_prng``, a
    FutureWarning) for a raw uint32 key passed by the user to ``what`` (only the outermost
    random call checks: internals pass raw data)."""
    from jaxel.random.keys import PRNGKeyArray
    mode = config.jax_legacy_prng_key
    if _state.depth or type(key) is PRNGKeyArray:
        return
    if mode == "allow":
        if config.jax_enable_custom_prng:
            warnings.warn("Raw arrays as random keys to jaxel.random functions are deprecated "
                          "(jax_enable_custom_prng is on). Assuming a valid threefry2x32 key.",
                          FutureWarning, stacklevel=3)
        return
    msg = (f"Legacy uint32 key array passed as key to jaxel.random.{what}. Please create keys "
           "using jaxel.random.key(). If use of a raw key array was intended, set "
           "jax_legacy_prng_key='allow'.")
    if mode == "error":
        raise ValueError(msg)
    warnings.warn(msg, stacklevel=3)


def consumes(what: str, key_arg: int = 0):
    """Decorator for a public random function whose argument ``key_arg`` is a consumed key.
    Only the outermost random call checks; the function body runs with checks suspended."""
    def wrap(fun):
        @functools.wraps(fun)
        def wrapped(*args, **kwargs):
            st = _state
            if not st.depth and (config.jax_legacy_prng_key != "allow"
                                 or config.jax_enable_custom_prng):
                check_legacy(args[key_arg] if len(args) > key_arg else kwargs.get("key"), what)
            if st.depth or not config.jax_debug_key_reuse:
                st.depth += 1
                try:
                    return fun(*args, **kwargs)
                finally:
                    st.depth -= 1
            key = args[key_arg] if len(args) > key_arg else kwargs.get("key")
            from jaxel.random.keys import raw_data
            consume(raw_data(key, what, allow_batched=True), what)
            st.depth += 1
            try:
                return fun(*args, **kwargs)
            finally:
                st.depth -= 1
        return wrapped
    return wrap
