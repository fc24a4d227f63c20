"""Many processes, one program: ``jaxel.distributed.initialize`` / ``shutdown``.

Each process calls ``initialize`` before any other jaxel call that uses devices. Afterwards
``jaxel.devices()`` lists every process's devices, ``jaxel.local_devices()`` this process's, and
a jit over a mesh of global devices runs one SPMD program whose collectives cross processes
(Gloo over TCP between CPU processes). Built on jaxlib's distributed runtime (a coordination
service in process 0, one client per process); see ``jaxel/runtime/distributed.py``.
"""
from __future__ import annotations

import os
import sys


def initialize(coordinator_address: str | None = None, num_processes: int | None = None,
               process_id: int | None = None, local_device_ids=None,
               cluster_detection_method: str | None = None, initialization_timeout: int = 300,
               heartbeat_timeout_seconds: int = 100, shutdown_timeout_seconds: int = 300,
               coordinator_bind_address: str | None = None, slice_index: int | None = None,
               partition_index: int | None = None, mtls_cert_file: str | None = None,
               mtls_key_file: str | None = None, mtls_ca_file: str | None = None,
               mtls_peer_uri_prefix: str | None = None,
               verify_secure_credentials: bool | None = None):
    """Join a multi-process run: connect to the coordinator and learn the other processes.

    Args:
      coordinator_address: ``'host:port'`` of process 0, where it starts the coordination
        service (default: ``$JAX_COORDINATOR_ADDRESS``).
      num_processes: number of processes (default: ``$JAX_NUM_PROCESSES``).
      process_id: this process's index, ``0 <= process_id < num_processes`` (default:
        ``$JAX_PROCESS_ID``).
      local_device_ids: which accelerators this process uses; CPU processes have
        ``jax_num_cpu_devices`` devices each and ignore it, as JAX does.
      cluster_detection_method: ``None`` or ``'deactivate'``; jaxel detects no cluster
        managers (Slurm, MPI, TPU), so the three values above must be given or set in the
        environment.
      initialization_timeout: seconds to wait for the coordinator and every process to join;
        an unreachable coordinator raises ``RuntimeError`` naming the address.
      heartbeat_timeout_seconds: a process silent this long counts as dead; the others then
        terminate with an error instead of waiting for it forever.
      shutdown_timeout_seconds: how long ``shutdown`` waits for the other processes.
      coordinator_bind_address: where process 0's service listens (default: every interface,
        the port of ``coordinator_address``).
      slice_index, partition_index, mtls_*, verify_secure_credentials: accepted for JAX's
        signature; partitions and mutual TLS are not supported (a ``NotImplementedError``
        when set).

    Raises:
      RuntimeError: when called twice, or after jaxel already created its devices.

    Example (two processes, on two terminals)::

        >>> jaxel.distributed.initialize("10.0.0.1:1234", num_processes=2, process_id=0)
        >>> jaxel.distributed.initialize("10.0.0.1:1234", num_processes=2, process_id=1)
    """
    from jaxel.runtime import client as _client
    from jaxel.runtime import distributed as _dist
    if _client.initialized():
        raise RuntimeError(
            "jaxel.distributed.initialize() must be called before any jaxel call that creates "
            "the devices (a computation, jaxel.devices(), jaxel.device_put, ...).")
    if _dist.state.client is not None:
        raise RuntimeError("jaxel.distributed.initialize should only be called once.")
    unsupported = dict(slice_index=slice_index, partition_index=partition_index,
                       mtls_cert_file=mtls_cert_file, mtls_key_file=mtls_key_file,
                       mtls_ca_file=mtls_ca_file, mtls_peer_uri_prefix=mtls_peer_uri_prefix,
                       verify_secure_credentials=verify_secure_credentials)
    given = sorted(k for k, v in unsupported.items() if v not in (None, False))
    if given:
        raise NotImplementedError(f"jaxel.distributed.initialize: {', '.join(given)} "
                                  f"not supported.")
    if cluster_detection_method not in (None, "deactivate"):
        raise NotImplementedError(
            f"jaxel.distributed.initialize: cluster_detection_method="
            f"{cluster_detection_method!r}: jaxel detects no cluster environments; give "
            f"coordinator_address, num_processes and process_id.")
    coordinator_address = coordinator_address or os.environ.get("JAX_COORDINATOR_ADDRESS")
    num_processes = _env_int(num_processes, "JAX_NUM_PROCESSES")
    process_id = _env_int(process_id, "JAX_PROCESS_ID")
    if coordinator_address is None:
        raise ValueError("coordinator_address should be defined (or JAX_COORDINATOR_ADDRESS).")
    if num_processes is None:
        raise ValueError("Number of processes must be defined (num_processes or "
                         "JAX_NUM_PROCESSES).")
    if process_id is None:
        raise ValueError("The process id of the current process must be defined (process_id "
                         "or JAX_PROCESS_ID).")
    for name, v in (("process_id", process_id), ("num_processes", num_processes)):
        if not isinstance(v, int) or isinstance(v, bool):
            raise TypeError(f"{name} must be an int, got {name}={v!r} of type {type(v)}.")
    if not 0 <= process_id < num_processes:
        raise ValueError(f"process_id and num_processes must be nonnegative, with process_id < "
                         f"num_processes. Got process_id={process_id}, "
                         f"num_processes={num_processes}.")
    port = coordinator_address.rsplit(":", 1)[-1]
    bind = (coordinator_bind_address or os.environ.get("JAX_COORDINATOR_BIND_ADDRESS")
            or f"[::]:{port}")
    _dist.connect(coordinator_address, num_processes, process_id, bind_address=bind,
                  initialization_timeout=initialization_timeout,
                  heartbeat_timeout=heartbeat_timeout_seconds,
                  shutdown_timeout=shutdown_timeout_seconds)


def _env_int(value, var):
    if value is None and os.environ.get(var):
        return int(os.environ[var])
    return value


def shutdown():
    """Leave the multi-process run (waits for the other processes to leave too).

    Devices and Arrays made while connected stay those of the old run; a later ``initialize``
    starts a new one only if jaxel has not created its devices since.
    """
    from jaxel.runtime import distributed as _dist
    _dist.shutdown()


def is_initialized() -> bool:
    """Whether this process has joined a multi-process run with ``initialize``."""
    # Not imported here: before initialize, asking should not load jaxlib.
    runtime = sys.modules.get("jaxel.runtime.distributed")
    return runtime is not None and runtime.state.client is not None
