"""Transfer guards: log or refuse transfers between host and devices (JAX's
``jax.transfer_guard``).

Levels, per direction (host_to_device, device_to_host, device_to_device):

* ``"allow"`` (the default): every transfer happens silently;
* ``"log"``: implicit transfers are logged (a warning on the ``jaxel`` logger);
* ``"disallow"``: implicit transfers raise ``JaxRuntimeError``;
* ``"log_explicit"`` / ``"disallow_explicit"``: the same for explicit transfers too.

Explicit transfers are those asked for by name: ``jaxel.device_put`` (host to device, device to
device) and ``jaxel.device_get`` (device to host). Everything else is implicit: a NumPy array or
Python scalar passed to a jitted function or an operation, ``np.asarray(x)``, ``float(x)``,
``x.item()``, printing an array... A value already on the device (a cached constant, an array
whose host copy was already made) moves nothing and is not guarded. Unlike JAX on CPU, where
reading an array back is never guarded, jaxel guards device-to-host reads on every platform.

The guards cost nothing while everything is allowed: transfer points test one module flag.
As with jaxel's other config context managers, the setting is process-wide (not per thread).

Example::

    with jaxel.transfer_guard("disallow"):
        y = f(x_on_device)            # fine
        f(np.ones(3))                 # JaxRuntimeError: Disallowed host-to-device transfer
        jaxel.device_put(np.ones(3))  # fine: explicit
"""
from __future__ import annotations

import contextlib
import logging
import threading

from jaxel.config import State, config

logger = logging.getLogger("jaxel")

_DIRECTIONS = ("host_to_device", "device_to_host", "device_to_device")

#: True while some direction is not "allow": the one flag the transfer points test.
active = False
_levels = {d: "allow" for d in _DIRECTIONS}
_local = threading.local()  # .explicit / .quiet: nesting depths, per thread


def _refresh(_value=None):
    global active
    for d in _DIRECTIONS:
        _levels[d] = getattr(config, f"jax_transfer_guard_{d}") or "allow"
    active = any(level != "allow" for level in _levels.values())


def _set_all(value):
    # ``jax_transfer_guard`` is set-only: it sets the three per-direction options.
    for d in _DIRECTIONS:
        config.update(f"jax_transfer_guard_{d}", value)


def check(direction: str, what) -> None:
    """Apply ``direction``'s guard to a transfer described by ``what()`` (called only when the
    transfer is logged or refused). Call only when :data:`active`."""
    if getattr(_local, "quiet", 0):
        return
    level = _levels[direction]
    explicit = getattr(_local, "explicit", 0) > 0
    if level == "allow" or (explicit and not level.endswith("_explicit")):
        return
    kind = "explicit" if explicit else "implicit"
    text = f"{direction.replace('_', '-')} transfer: {what()}"
    if level.startswith("log"):
        logger.warning("%s (%s)", text, kind)
        return
    from jaxel.errors import JaxRuntimeError
    hint = ("; use jaxel.device_put / jaxel.device_get to transfer explicitly"
            if not explicit else "")
    raise JaxRuntimeError(f"INVALID_ARGUMENT: Disallowed {text} (an {kind} transfer, refused "
                          f"by jax_transfer_guard_{direction}={level!r}{hint}).")


@contextlib.contextmanager
def explicit():
    """Marks the transfers inside as explicit (``device_put``, ``device_get``)."""
    _local.explicit = getattr(_local, "explicit", 0) + 1
    try:
        yield
    finally:
        _local.explicit -= 1


@contextlib.contextmanager
def quiet():
    """Checks nothing inside: for a transfer already checked as a whole (a device-to-device
    copy made through host memory, a sharded value read block by block)."""
    _local.quiet = getattr(_local, "quiet", 0) + 1
    try:
        yield
    finally:
        _local.quiet -= 1


def device_to_device(arr, device):
    """Guard a copy of ``arr`` to ``device``; returns a context in which the copy's own host
    round trip is not checked again."""
    if active:
        check("device_to_device", lambda: f"aval={arr.aval.str_short()}, src={arr.device}, "
                                          f"dst={device}")
    return quiet()


transfer_guard_host_to_device = State(
    "jax_transfer_guard_host_to_device",
    "The guard level of host-to-device transfers: 'allow', 'log', 'disallow', 'log_explicit' "
    "or 'disallow_explicit'.")
transfer_guard_device_to_host = State(
    "jax_transfer_guard_device_to_host",
    "The guard level of device-to-host transfers (levels as for host-to-device).")
transfer_guard_device_to_device = State(
    "jax_transfer_guard_device_to_device",
    "The guard level of device-to-device transfers (levels as for host-to-device).")


@contextlib.contextmanager
def transfer_guard(new_val: str):
    """Within the block, set the guard level of all three transfer directions to ``new_val``
    ('allow', 'log', 'disallow', 'log_explicit' or 'disallow_explicit')."""
    with contextlib.ExitStack() as stack:
        for state in (transfer_guard_host_to_device, transfer_guard_device_to_host,
                      transfer_guard_device_to_device):
            stack.enter_context(state(new_val))
        yield


for _d in _DIRECTIONS:
    config.add_hook(f"jax_transfer_guard_{_d}", _refresh)
config.add_hook("jax_transfer_guard", _set_all)
if config.jax_transfer_guard is not None:  # JAX_TRANSFER_GUARD in the environment
    for _d in _DIRECTIONS:
        if getattr(config, f"jax_transfer_guard_{_d}") is None:
            config.update(f"jax_transfer_guard_{_d}", config.jax_transfer_guard)
del _d
_refresh()
