"""jaxlib's distributed runtime: the coordination service, its clients, Gloo collectives.

The only module (with ``client.py``, which builds the CPU client from the state kept here) that
touches jaxlib's multi-process machinery. ``jaxel.distributed`` is the public face.

Failure behaviour, as measured on jaxlib 0.12.1:
  - ``DistributedRuntimeClient.connect()`` that cannot reach the coordinator does not raise: the
    C++ agent terminates the process (an absl FATAL log) when the timeout expires. So before
    connecting, a non-coordinator process checks that something listens at the address, and
    raises a Python ``RuntimeError`` naming it when nothing answers within the timeout.
  - A process that dies stops sending heartbeats; after ``heartbeat_timeout`` seconds the service
    reports it to every other process, whose agent terminates that process with the message
    "Terminating process because the JAX distributed service detected fatal errors ... another
    task died" (a Python callback for this exists in the bindings but cannot receive the status
    in 0.12.1: it crashes with ``std::bad_cast``). Barriers and key-value waits fail earlier with
    a ``JaxRuntimeError`` naming the dead task.
"""
from __future__ import annotations

import atexit
import socket
import sys
import threading
import time

from jaxel.runtime.xla import _jax


class State:
    """This process's place in a multi-process run (one process unless initialised)."""

    def __init__(self):
        self.process_id = 0
        self.num_processes = 1
        self.coordinator_address = None
        self.service = None   # the coordination service, on process 0 only
        self.client = None    # this process's connection to the service
        self.preemption = None  # agrees on a checkpoint step after a SIGTERM (JAX's default)


state = State()


def _split_address(address: str):
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"jaxel.distributed.initialize: coordinator_address must be "
                         f"'host:port', got {address!r}.")
    return host.strip("[]"), int(port)


def _wait_for_listener(address: str, timeout: float):
    """Return once a TCP connection to ``address`` succeeds; RuntimeError after ``timeout`` s."""
    host, port = _split_address(address)
    deadline = time.monotonic() + timeout
    last = None
    while True:
        left = deadline - time.monotonic()
        try:
            with socket.create_connection((host, port), timeout=max(0.1, min(left, 2.0))):
                return
        except OSError as e:
            last = e
        if time.monotonic() + 0.2 >= deadline:
            raise RuntimeError(
                f"jaxel.distributed.initialize: no coordinator answered at {address} within "
                f"{timeout:g} s (last error: {last}). Start process 0 with the same "
                f"coordinator_address, or check the host, port and firewall.")
        time.sleep(0.2)


def _check_port_free(bind_address: str, coordinator_address: str):
    """RuntimeError naming the address when the service's port is taken.

    Checked here because jaxlib 0.12.1, asked to serve on a port in use, crashes the process
    (a segmentation fault in about one try of four) instead of always raising.
    """
    host, port = _split_address(bind_address)
    wildcard = host in ("", "::", "0.0.0.0")
    family = socket.AF_INET6 if ":" in host or (wildcard and socket.has_ipv6) else \
        socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is no obstacle
            s.bind(("::" if wildcard and family == socket.AF_INET6 else host or "0.0.0.0", port))
    except OSError as e:
        raise RuntimeError(
            f"jaxel.distributed.initialize: process 0 could not start the coordination service "
            f"on {bind_address} (is the port of {coordinator_address} already in use?): "
            f"{e}") from None


def _warn_not_joined(address, num_processes, process_id, timeout):
    sys.stderr.write(
        f"jaxel.distributed.initialize: process {process_id}: not all {num_processes} "
        f"processes joined the coordinator at {address} within {timeout} s "
        f"(initialization_timeout); XLA's runtime now ends this process.\n")
    sys.stderr.flush()


def connect(coordinator_address: str, num_processes: int, process_id: int, *,
            bind_address: str, initialization_timeout: float, heartbeat_timeout: int,
            shutdown_timeout: int):
    """Start the service (process 0), connect this process's client, record the state."""
    if state.client is not None:
        raise RuntimeError("jaxel.distributed.initialize should only be called once "
                           "(call jaxel.distributed.shutdown() first to start again).")
    _split_address(coordinator_address)
    service = None
    if process_id == 0:
        _check_port_free(bind_address, coordinator_address)
        try:
            service = _jax.get_distributed_runtime_service(
                bind_address, num_processes, heartbeat_timeout=heartbeat_timeout,
                shutdown_timeout=shutdown_timeout)
        except RuntimeError as e:  # jaxlib's message does not say where
            raise RuntimeError(
                f"jaxel.distributed.initialize: process 0 could not start the coordination "
                f"service on {bind_address} (is the port of {coordinator_address} already in "
                f"use?): {e}") from e
    start = time.monotonic()
    try:
        if process_id != 0:
            _wait_for_listener(coordinator_address, initialization_timeout)
        left = max(1, int(round(initialization_timeout - (time.monotonic() - start))))
        client = _jax.get_distributed_runtime_client(
            coordinator_address, process_id, init_timeout=left,
            heartbeat_timeout=heartbeat_timeout, shutdown_timeout=shutdown_timeout,
            use_compression=True)
        # When some process never joins, jaxlib ends this one at the timeout with a message
        # blaming "another task died"; say first what actually went wrong.
        warn = threading.Timer(max(0.0, left - 0.5), _warn_not_joined,
                               (coordinator_address, num_processes, process_id, left))
        warn.daemon = True
        warn.start()
        try:
            client.connect()
        finally:
            warn.cancel()
        # As JAX by default: a SIGTERM (a preemption notice) no longer ends the process; the
        # processes agree on a step to checkpoint at (reached_preemption_sync_point).
        preemption = _jax.create_preemption_sync_manager()
        preemption.initialize(client)
    except BaseException:
        if service is not None:
            service.shutdown()
        raise
    state.service, state.client, state.preemption = service, client, preemption
    state.process_id, state.num_processes = process_id, num_processes
    state.coordinator_address = coordinator_address


def shutdown():
    """Disconnect this process and stop the service if it runs here; a no-op when not connected."""
    client, service, preemption = state.client, state.service, state.preemption
    state.client = state.service = state.preemption = None
    state.process_id, state.num_processes = 0, 1
    state.coordinator_address = None
    if preemption is not None:
        preemption.shutdown()
    if client is not None:
        client.shutdown()
    if service is not None:
        service.shutdown()


# Leaving without a shutdown would make the other processes wait for this one's heartbeats.
atexit.register(shutdown)


def cpu_client_kwargs() -> dict:
    """Extra ``make_cpu_client`` arguments for this process (none when not distributed)."""
    if state.client is None:
        return {}
    return dict(distributed_client=state.client, node_id=state.process_id,
                num_nodes=state.num_processes,
                collectives=_jax.make_gloo_tcp_collectives(distributed_client=state.client))


def barrier(name: str, timeout_s: float):
    """Wait until every process reaches the barrier ``name``."""
    _require_client("a barrier").wait_at_barrier(name, int(timeout_s * 1000))


def key_value_set(key: str, value: bytes):
    """Publish ``value`` under ``key`` in the coordination service's store."""
    _require_client("the key-value store").key_value_set_bytes(key, value)


def key_value_get(key: str, timeout_s: float) -> bytes:
    """The value some process published under ``key`` (waits up to ``timeout_s``)."""
    return _require_client("the key-value store").blocking_key_value_get_bytes(
        key, int(timeout_s * 1000))


def key_value_delete(key: str):
    """Remove ``key`` from the coordination service's store."""
    _require_client("the key-value store").key_value_delete(key)


def reached_preemption_sync_point(step_id: int) -> bool:
    """Whether every process has reached the step agreed on after a preemption notice."""
    if state.preemption is None:
        return False
    return state.preemption.reached_sync_point(int(step_id))


def live_processes(process_ids) -> dict:
    """``{process id: incarnation}`` of the given processes that are alive."""
    return dict(_require_client("live_devices").get_live_nodes(list(process_ids)))


def _require_client(what):
    if state.client is None:
        raise RuntimeError(f"{what} needs jaxel.distributed.initialize() first.")
    return state.client
