"""Global configuration, with JAX's option names and environment variables.

Options are plain attributes of the ``config`` object so that hot paths can read them with
one attribute lookup (``config.jax_enable_x64``).  Change them with ``config.update(name,
value)``, which validates the name and runs the hooks that keep derived caches in step.

Example::

    import jaxel
    jaxel.config.update("jax_enable_x64", True)

As in JAX, many options also have a context manager (usable as a decorator) that sets the
option within a block: ``with jaxel.numpy_rank_promotion("raise"): ...``. Unlike JAX's, these
set the process-wide option (jaxel's configuration is not per thread). Values that jaxel cannot
honour (another PRNG than ``threefry2x32``, dot algorithm presets) raise
``NotImplementedError``.
"""
from __future__ import annotations

import contextlib
import functools
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


def _enum(*values, optional=False):
    """A converter accepting only ``values`` (and None when ``optional``), as JAX's enum
    options do (same ``ValueError``)."""
    def convert(value):
        if value is None and optional:
            return None
        if isinstance(value, str) and value in values:
            return value
        what = "None or in" if optional else "in"
        raise ValueError(f"new enum value must be {what} {list(values)}, got {value!r} of type "
                         f"{type(value)}.")
    return convert


def _env_str(name: str, default):
    return os.environ.get(name.upper(), default)


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name.upper())
    return default if value is None else float(value)


def _optional_str(value):
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise ValueError(f"new string config value must be None or of type str, got {value!r} of "
                     f"type {type(value)}.")


#: The levels of the transfer guards (JAX's names).
_GUARD_LEVELS = ("allow", "log", "disallow", "log_explicit", "disallow_explicit")


# Values of the options that jaxel does not implement (it raises rather than ignore them).
_PRECISIONS = ("default", "high", "highest", "bfloat16", "tensorfloat32", "float32")
_MATMUL_ALGORITHMS = (
    "ANY_F8_ANY_F8_F32", "ANY_F8_ANY_F8_F32_FAST_ACCUM", "ANY_F8_ANY_F8_ANY",
    "ANY_F8_ANY_F8_ANY_FAST_ACCUM", "F16_F16_F16", "F16_F16_F32", "BF16_BF16_BF16",
    "BF16_BF16_F32", "BF16_BF16_F32_X3", "BF16_BF16_F32_X6", "BF16_BF16_F32_X9",
    "F8E4M3FN_F8E4M3FN_F32_X3", "F8E4M3FN_F8E4M3FN_F32_X4", "TF32_TF32_F32", "TF32_TF32_F32_X3",
    "F32_F32_F32", "F64_F64_F64")
_PRNG_IMPLS = ("threefry2x32", "threefry4x32", "rbg", "unsafe_rbg", "philox2x32", "philox4x32")

# name -> (predicate on the new value, why jaxel cannot honour it)
_UNSUPPORTED = {
    "jax_default_matmul_precision": (
        lambda v: v in _MATMUL_ALGORITHMS,
        "dot algorithm presets are not supported by jaxel; use one of the precisions "
        "'default', 'high', 'highest' (or 'bfloat16', 'tensorfloat32', 'float32')"),
    "jax_default_prng_impl": (
        lambda v: v != "threefry2x32",
        "jaxel implements only the 'threefry2x32' PRNG"),
}


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
        "jax_default_matmul_precision": (
            lambda: _env_str("jax_default_matmul_precision", None),
            _enum(*_PRECISIONS, *_MATMUL_ALGORITHMS, optional=True)),
        "jax_numpy_rank_promotion": (lambda: _env_str("jax_numpy_rank_promotion", "allow"),
                                     _enum("allow", "warn", "raise")),
        "jax_numpy_dtype_promotion": (lambda: _env_str("jax_numpy_dtype_promotion", "standard"),
                                      _enum("standard", "strict")),
        "jax_threefry_partitionable": (lambda: _env_bool("jax_threefry_partitionable", True),
                                       bool),
        "jax_default_prng_impl": (lambda: _env_str("jax_default_prng_impl", "threefry2x32"),
                                  _enum(*_PRNG_IMPLS)),
        "jax_enable_checks": (lambda: _env_bool("jax_enable_checks", False), bool),
        "jax_enable_custom_prng": (lambda: _env_bool("jax_enable_custom_prng", False), bool),
        "jax_legacy_prng_key": (lambda: _env_str("jax_legacy_prng_key", "allow"),
                                _enum("allow", "warn", "error")),
        "jax_softmax_custom_jvp": (lambda: _env_bool("jax_softmax_custom_jvp", True), bool),
        "jax_allow_f16_reductions": (lambda: _env_bool("jax_allow_f16_reductions", True), bool),
        "jax2tf_associative_scan_reductions": (
            lambda: _env_bool("jax2tf_associative_scan_reductions", False), bool),
        "jax_remove_size_one_mesh_axis_from_type": (
            lambda: _env_bool("jax_remove_size_one_mesh_axis_from_type", False), bool),
        "jax_auto_pcast": (lambda: _env_bool("jax_auto_pcast", False), bool),
        # The persistent compilation cache (runtime/persistent_cache.py).
        "jax_compilation_cache_dir": (lambda: _env_str("jax_compilation_cache_dir", None),
                                      _optional_str),
        "jax_enable_compilation_cache": (
            lambda: _env_bool("jax_enable_compilation_cache", True), bool),
        "jax_persistent_cache_min_entry_size_bytes": (
            lambda: _env_int("jax_persistent_cache_min_entry_size_bytes", 0), int),
        "jax_persistent_cache_min_compile_time_secs": (
            lambda: _env_float("jax_persistent_cache_min_compile_time_secs", 1.0), float),
        # JAX bounds the cache directory with jax_compilation_cache_max_size, which jaxel
        # already uses for its in-memory cache (an entry count); the directory's byte bound has
        # its own name (-1: no bound, JAX's default).
        "jaxel_persistent_cache_max_size_bytes": (
            lambda: _env_int("jaxel_persistent_cache_max_size_bytes", -1), int),
        # Transfer guards (jaxel/guards.py).
        "jax_transfer_guard": (lambda: _env_str("jax_transfer_guard", None),
                               _enum(*_GUARD_LEVELS, optional=True)),
        "jax_transfer_guard_host_to_device": (
            lambda: _env_str("jax_transfer_guard_host_to_device", None),
            _enum(*_GUARD_LEVELS, optional=True)),
        "jax_transfer_guard_device_to_device": (
            lambda: _env_str("jax_transfer_guard_device_to_device", None),
            _enum(*_GUARD_LEVELS, optional=True)),
        "jax_transfer_guard_device_to_host": (
            lambda: _env_str("jax_transfer_guard_device_to_host", None),
            _enum(*_GUARD_LEVELS, optional=True)),
    }

    def __init__(self):
        self._hooks: dict[str, list] = {}
        for name, (default, _) in self._OPTIONS.items():
            value = default()  # from the environment: unsupported values are refused here too
            object.__setattr__(self, name, self._convert(name, value) if value is not None
                               else None)

    def _convert(self, name: str, value):
        """Validate ``value`` for option ``name``; raise for values jaxel cannot honour."""
        if name not in self._OPTIONS:
            known = ", ".join(sorted(self._OPTIONS))
            raise AttributeError(f"Unknown jaxel config option {name!r}. Known options: {known}.")
        value = self._OPTIONS[name][1](value)
        bad = _UNSUPPORTED.get(name)
        if bad is not None and bad[0](value):
            raise NotImplementedError(f"{name}={value!r} is not supported: {bad[1]}.")
        return value

    def update(self, name: str, value) -> None:
        """Set option ``name`` to ``value`` (JAX's ``jax.config.update``)."""
        value = self._convert(name, value)
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


_NO_VALUE = object()


class State:
    """One config option as a context manager factory, like JAX's ``jax.enable_x64``:
    ``with jaxel.numpy_rank_promotion("raise"): ...`` sets the option inside the block (and
    restores it after); ``state(value)`` also decorates a function. ``state.value`` is the
    current value. The option is the same one ``jaxel.config.update`` sets."""

    __slots__ = ("name", "_default_cm_value", "_doc")

    def __init__(self, name: str, doc: str, default_cm_value=_NO_VALUE):
        self.name = name
        self._doc = doc  # what the option does (``__doc__`` is the class's, shared)
        self._default_cm_value = default_cm_value

    @property
    def value(self):
        """The option's current value."""
        return getattr(config, self.name)

    def __call__(self, new_val=_NO_VALUE) -> "StateContextManager":
        return StateContextManager(self, new_val)

    def __bool__(self):
        raise TypeError(f"bool() of the config state {self.name!r} is ambiguous; did you mean "
                        f"'{self.name.removeprefix('jax_')}.value'?")

    def __repr__(self):
        return f"<config state {self.name}={self.value!r}>"


class StateContextManager:
    """Sets a config option for the duration of a ``with`` block or of a decorated call."""

    __slots__ = ("state", "new_val", "_prev")

    def __init__(self, state: State, new_val):
        if new_val is _NO_VALUE:
            if state._default_cm_value is _NO_VALUE:
                raise TypeError(f"Context manager for the {state.name} config option requires "
                                "an argument representing the new value for the option.")
            new_val = state._default_cm_value
        self.state = state
        self.new_val = config._convert(state.name, new_val)  # fail here, not at __enter__
        self._prev = []

    def __enter__(self):
        self._prev.append(getattr(config, self.state.name))
        config.update(self.state.name, self.new_val)
        return self

    def __exit__(self, *exc):
        config.update(self.state.name, self._prev.pop())

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with StateContextManager(self.state, self.new_val):
                return func(*args, **kwargs)
        return wrapper


def _bool_state(name, doc):
    return State(name, doc, default_cm_value=True)


enable_x64 = _bool_state("jax_enable_x64", "Enable 64-bit types (``with enable_x64(): ...``).")
default_matmul_precision = State(
    "jax_default_matmul_precision",
    "Precision of matrix products that pass no ``precision`` (None: the backend default; "
    "'default'/'bfloat16', 'high'/'tensorfloat32', 'highest'/'float32').")
numpy_rank_promotion = State(
    "jax_numpy_rank_promotion",
    "Broadcasting of operands of different ranks in jaxel.numpy: 'allow', 'warn' or 'raise'.")
numpy_dtype_promotion = State(
    "jax_numpy_dtype_promotion",
    "Implicit dtype promotion: 'standard' (JAX's lattice) or 'strict' (only equal dtypes, and "
    "Python scalars of a compatible kind).")
debug_key_reuse = _bool_state("jax_debug_key_reuse",
                              "Raise KeyReuseError when a PRNG key is consumed twice.")
explain_cache_misses = _bool_state("jax_explain_cache_misses",
                                   "Log why a jitted function had to be traced again.")
log_compiles = _bool_state(
    "jax_log_compiles",
    "Log (as warnings on the 'jaxel' logger) each compile: why it happens, and how long "
    "tracing, lowering and XLA's compile took.")
threefry_partitionable = _bool_state(
    "jax_threefry_partitionable",
    "Threefry streams: partitionable (True, JAX's default) or JAX's original ones (False).")
default_prng_impl = State("jax_default_prng_impl",
                          "The PRNG of new keys: 'threefry2x32' (the only one in jaxel).")
enable_checks = _bool_state("jax_enable_checks",
                            "Type-check every traced program (slower; for debugging jaxel).")
enable_custom_prng = _bool_state(
    "jax_enable_custom_prng",
    "PRNGKey, split and fold_in return typed keys; raw keys passed in give a FutureWarning.")
legacy_prng_key = State(
    "jax_legacy_prng_key",
    "What raw uint32 keys passed to jaxel.random functions do: 'allow', 'warn' or 'error'.")
softmax_custom_jvp = _bool_state(
    "jax_softmax_custom_jvp",
    "JAX's choice of softmax derivative rule; jaxel differentiates its softmax composition, "
    "which gives the same derivatives either way, so both values are accepted.")
allow_f16_reductions = _bool_state(
    "jax_allow_f16_reductions",
    "With False, lax.reduce_sum of float16/bfloat16 operands raises ValueError.")
jax2tf_associative_scan_reductions = _bool_state(
    "jax2tf_associative_scan_reductions",
    "jax2tf's lowering of cumulative reductions; JAX 0.12.1 reads it nowhere else, so either "
    "value behaves alike (jaxel has no jax2tf).")

remove_size_one_mesh_axis_from_type = _bool_state(
    "jax_remove_size_one_mesh_axis_from_type",
    "JAX drops mesh axes of size 1 from shardings carried in types; jaxel carries no shardings "
    "in types (XLA propagates them), so either value behaves alike.")
auto_pcast = _bool_state(
    "jax_auto_pcast",
    "JAX inserts pvary to match varying manual axes on simple ops; jaxel's shard_map does not "
    "type values by the axes they vary over, so either value behaves alike.")


def _clear_traced_programs_hook(name):
    # These options change how functions trace (promotion, broadcasting checks, dot
    # precision), so programs traced under another value are stale. Only a real change
    # clears them: re-entering a block with the current value costs nothing.
    last = [getattr(config, name)]

    def hook(value):
        if value != last[0]:
            last[0] = value
            from jaxel.api import clear_caches
            clear_caches()
    return hook


for _name in ("jax_numpy_rank_promotion", "jax_numpy_dtype_promotion",
              "jax_default_matmul_precision", "jax_allow_f16_reductions",
              "jax_threefry_partitionable"):
    config.add_hook(_name, _clear_traced_programs_hook(_name))
del _name
