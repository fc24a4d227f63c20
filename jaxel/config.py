"""Global configuration, with JAX's option names and environment variables.

Options are plain attributes of the ``config`` object so that hot paths can read them with
one attribute lookup (``config.jax_enable_x64``).  Change them with ``config.update(name,
value)``, which validates the name and runs the hooks that keep derived caches in step.

Example::

    import jaxel
    jaxel.config.update("jax_enable_x64", True)
"""
from __future__ import annotations

import contextlib
import os

_TRUE = ("1", "true", "yes", "on")


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name.upper())
    if value is None:
        return default
    return value.strip().lower() in _TRUE


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name.upper())
    return default if value is None else int(value)


class Config:
    """Holds jaxel's options; read them as attributes, change them with :meth:`update`."""

    # name -> (default from the environment, converter)
    _OPTIONS = {
        "jax_enable_x64": (lambda: _env_bool("jax_enable_x64", False), bool),
        "jax_disable_jit": (lambda: _env_bool("jax_disable_jit", False), bool),
        "jax_log_compiles": (lambda: _env_bool("jax_log_compiles", False), bool),
        "jax_explain_cache_misses": (lambda: _env_bool("jax_explain_cache_misses", False), bool),
        "jax_num_cpu_devices": (lambda: _env_int("jax_num_cpu_devices", 1), int),
        "jax_platforms": (lambda: os.environ.get("JAX_PLATFORMS", ""), str),
        "jax_compilation_cache_max_size": (lambda: _env_int("jax_compilation_cache_max_size", 4096), int),
        "jax_debug_nans": (lambda: _env_bool("jax_debug_nans", False), bool),
        "jax_safe_where_grad": (lambda: _env_bool("jax_safe_where_grad", False), bool),
        "jax_debug_key_reuse": (lambda: _env_bool("jax_debug_key_reuse", False), bool),
    }

    def __init__(self):
        self._hooks: dict[str, list] = {}
        for name, (default, _) in self._OPTIONS.items():
            object.__setattr__(self, name, default())

    def update(self, name: str, value) -> None:
        """Set option ``name`` to ``value`` (JAX's ``jax.config.update``)."""
        if name not in self._OPTIONS:
            known = ", ".join(sorted(self._OPTIONS))
            raise AttributeError(f"Unknown jaxel config option {name!r}. Known options: {known}.")
        value = self._OPTIONS[name][1](value)
        object.__setattr__(self, name, value)
        for hook in self._hooks.get(name, ()):
            hook(value)

    def read(self, name: str):
        """Return the current value of option ``name``."""
        return getattr(self, name)

    def add_hook(self, name: str, hook) -> None:
        """Call ``hook(new_value)`` whenever option ``name`` changes (internal)."""
        self._hooks.setdefault(name, []).append(hook)

    def __setattr__(self, name, value):
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        else:
            raise AttributeError(f"Use config.update({name!r}, value) to change an option.")

    @contextlib.contextmanager
    def _override(self, name: str, value):
        old = getattr(self, name)
        self.update(name, value)
        try:
            yield
        finally:
            self.update(name, old)


config = Config()


def disable_jit(disable: bool = True):
    """Context manager that runs jitted functions op by op (JAX's ``jax.disable_jit``)."""
    return config._override("jax_disable_jit", disable)


def enable_x64(enable: bool = True):
    """Context manager that turns 64-bit types on (or off) inside its block."""
    return config._override("jax_enable_x64", enable)
