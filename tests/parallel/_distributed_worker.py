"""One process of a multi-process test run (launched by test_distributed.py).

    python _distributed_worker.py SCENARIO PROCESS_ID NUM_PROCESSES PORT

Joins the run on 127.0.0.1:PORT, runs SCENARIO and prints one line ``RESULT <json>`` that the
test compares across processes. Short heartbeat and shutdown timeouts so that a failing process
brings the others down in seconds instead of minutes.
"""
import json
import sys
import warnings

import numpy as np

import jaxel
import jaxel.numpy as jnp

HEARTBEAT_S = 3

try:  # some scenarios end by abort() (XLA's fatal errors): no core files, please
    import resource
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
except (ImportError, ValueError, OSError):
    pass


def join(pid, n, port, timeout=30):
    jaxel.distributed.initialize(f"127.0.0.1:{port}", n, pid, initialization_timeout=timeout,
                                 heartbeat_timeout_seconds=HEARTBEAT_S,
                                 shutdown_timeout_seconds=10)


def basics(pid, n, port):
    join(pid, n, port)
    assert jaxel.distributed.is_initialized()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        aliases = [jaxel.host_id(), jaxel.host_count(), jaxel.host_ids()]
    x = jnp.arange(4.0) * (pid + 1)
    from jaxel.sharding import Mesh, NamedSharding, PartitionSpec as P
    mesh = Mesh(np.array(jaxel.devices()).reshape(2, 2), ("proc", "local"))
    s = NamedSharding(mesh, P("proc", "local"))
    made = jaxel.make_mesh((2, 2), ("a", "b"))
    return dict(
        make_mesh=[d.id for d in made.devices.flat],
        mesh=dict(multi=mesh.is_multi_process, local=[d.id for d in mesh.local_devices],
                  local_mesh=mesh.local_mesh.device_ids.tolist(),
                  addressable=s.is_fully_addressable,
                  indices={d.id: [[sl.start, sl.stop] for sl in idx] for d, idx in
                           s.addressable_devices_indices_map((4, 6)).items()}),
        process_index=jaxel.process_index(), process_count=jaxel.process_count(),
        process_indices=jaxel.process_indices(), aliases=aliases, alias_warnings=len(w),
        devices=[[d.id, d.process_index] for d in jaxel.devices()],
        local=[d.id for d in jaxel.local_devices()],
        other=[d.id for d in jaxel.local_devices(process_index=1 - pid)],
        local_count=jaxel.local_device_count(), device_count=jaxel.device_count(),
        default_is_local=jaxel.numpy.ones(2).device in jaxel.local_devices(),
        jit_sum=float(jaxel.jit(lambda a: (a * a).sum())(x)),
        grad=np.asarray(jaxel.grad(lambda a: (a ** 3).sum())(x)).tolist())


def multihost(pid, n, port, lib=jaxel):
    """The multihost_utils collectives, run with jaxel (or with JAX as the oracle: ``lib``)."""
    if n > 1:
        lib.distributed.initialize(f"127.0.0.1:{port}", n, pid, initialization_timeout=30,
                                   heartbeat_timeout_seconds=HEARTBEAT_S,
                                   shutdown_timeout_seconds=10)
    if lib is jaxel:
        from jaxel.experimental import multihost_utils as mh
    else:
        from jax.experimental import multihost_utils as mh
    jnp = lib.numpy
    mine = np.arange(6, dtype=np.float32).reshape(2, 3) + 10 * pid
    tree = {"a": mine, "b": [jnp.int32(pid), 2.5 * (pid + 1)]}
    stacked = mh.process_allgather(tree)
    tiled = mh.process_allgather(jnp.asarray(mine), tiled=True)
    bcast = mh.broadcast_one_to_all({"v": mine, "i": np.int32(7 + pid)})
    from_last = mh.broadcast_one_to_all(mine, is_source=pid == n - 1)
    # Large values go through the devices instead of the key-value store.
    big = np.arange(128 * 160, dtype=np.float32).reshape(128, 160) + 1000 * pid

    def digest(a):
        a = np.asarray(a)
        return [list(a.shape), str(a.dtype), float(a.sum()), a.reshape(-1)[::997].tolist()]
    big_out = [digest(mh.process_allgather(big)), digest(mh.process_allgather(big, tiled=True)),
               digest(mh.broadcast_one_to_all(big)),
               digest(mh.broadcast_one_to_all({"b": big}, is_source=pid == n - 1)["b"])]
    mh.sync_global_devices("step 1")
    mh.sync_global_devices("step 2")
    try:
        mh.assert_equal(np.float32(pid), "differ")
        mismatch = None
    except AssertionError as e:
        mismatch = str(e)
    oracle = {}
    if n == 1 and lib is jaxel:  # JAX's own multihost_utils on the same values (one process)
        from jax.experimental import multihost_utils as jmh
        jtree = {"a": mine, "b": [np.int32(pid), 2.5 * (pid + 1)]}
        for name, ours, theirs in [
                ("stacked", mh.process_allgather(jtree), jmh.process_allgather(jtree)),
                ("tiled", mh.process_allgather(mine, tiled=True),
                 jmh.process_allgather(mine, tiled=True)),
                ("bcast", mh.broadcast_one_to_all(jtree), jmh.broadcast_one_to_all(jtree))]:
            flat = [(np.shape(v), str(np.asarray(v).dtype), np.asarray(v).tolist())
                    for v in jaxel.tree.leaves(ours)]
            jflat = [(np.shape(v), str(np.asarray(v).dtype), np.asarray(v).tolist())
                     for v in jaxel.tree.leaves(theirs)]
            oracle[name] = flat == jflat or [flat, jflat]
    return dict(
        oracle=oracle,
        stacked_a=stacked["a"].tolist(), stacked_a_dtype=str(stacked["a"].dtype),
        stacked_b0=stacked["b"][0].tolist(), stacked_b0_dtype=str(stacked["b"][0].dtype),
        stacked_b1=stacked["b"][1].tolist(), stacked_b1_dtype=str(stacked["b"][1].dtype),
        tiled=tiled.tolist(), bcast_v=bcast["v"].tolist(), bcast_i=int(bcast["i"]),
        bcast_types=[type(bcast["v"]).__name__, str(bcast["i"].dtype)],
        from_last=from_last.tolist(), mismatch=mismatch, big=big_out)


def multihost_jax(pid, n, port):
    import jax
    out = multihost(pid, n, port, jax)
    jax.distributed.shutdown()
    return out


def _global_mesh():
    from jaxel.sharding import Mesh
    return Mesh(np.array(jaxel.devices()), ("data",))


def _local_value(a):
    """The value of an Array replicated over devices of several processes, read from a local
    shard."""
    return np.asarray(a.addressable_shards[0].data)


def _join_with(lib, pid, n, port):
    lib.distributed.initialize(f"127.0.0.1:{port}", n, pid, initialization_timeout=30,
                               heartbeat_timeout_seconds=HEARTBEAT_S,
                               shutdown_timeout_seconds=10)


def hostlocal(pid, n, port, lib=jaxel):
    """Each process's rows become one global array and back; a jit over it reduces across
    processes. ``lib``: jaxel, or JAX as the oracle."""
    if n > 1:
        _join_with(lib, pid, n, port)
    if lib is jaxel:
        from jaxel.experimental import multihost_utils as mh
    else:
        from jax.experimental import multihost_utils as mh
    P, Mesh, NamedSharding = (lib.sharding.PartitionSpec, lib.sharding.Mesh,
                              lib.sharding.NamedSharding)
    mesh = Mesh(np.array(lib.devices()), ("data",))
    local = np.arange(6, dtype=np.float32).reshape(2, 3) + 100 * pid
    g = mh.host_local_array_to_global_array({"x": local}, mesh, {"x": P("data")})["x"]
    total = lib.jit(lambda a: (a * a).sum(axis=0))(g)
    back = mh.global_array_to_host_local_array(g, mesh, P("data"))
    # A replicated global array is resharded to the spec before taking this process's part.
    whole = np.concatenate([np.arange(6, dtype=np.float32).reshape(2, 3) + 100 * p
                            for p in range(n)])
    rep = lib.make_array_from_callback(whole.shape, NamedSharding(mesh, P()),
                                       lambda idx: whole[idx])
    back_rep = mh.global_array_to_host_local_array(rep, mesh, P("data"))
    resharded = lib.device_put(rep, NamedSharding(mesh, P("data")))  # across processes
    try:  # part of g's value is on the other process only
        np.asarray(g)
        read_error = None
    except RuntimeError as e:
        read_error = type(e).__name__
    shards = sorted((s.index[0].start, np.asarray(s.data).tolist())
                    for s in resharded.addressable_shards)
    gathered = mh.process_allgather(g, tiled=True)
    rows = lib.make_array_from_process_local_data(NamedSharding(mesh, P("data")), local)
    rows2 = lib.make_array_from_process_local_data(NamedSharding(mesh, P("data")), local,
                                                   (4, 3))
    grid = Mesh(np.array(lib.devices()).reshape(2, 2), ("proc", "local"))
    cols = lib.make_array_from_process_local_data(NamedSharding(grid, P("local", "proc")),
                                                  local)
    try:
        lib.make_array_from_process_local_data(NamedSharding(mesh, P("data")), local, (8, 3))
        bad = None
    except ValueError as e:
        bad = str(e)
    return dict(rows=mh.process_allgather(rows, tiled=True).tolist(),
                rows2=mh.process_allgather(rows2, tiled=True).tolist(),
                cols=mh.process_allgather(cols, tiled=True).tolist(), bad=bad,
                cols_shape=list(cols.shape), global_shape=list(g.shape),
                spec=list(g.sharding.spec), back_spec=list(back.sharding.spec),
                back_devices=[d.id for d in back.sharding._device_assignment],
                total=_local_value(total).tolist(), back=np.asarray(back).tolist(),
                back_shape=list(back.shape), gathered=gathered.tolist(),
                back_rep=np.asarray(back_rep).tolist(), resharded=shards,
                printed=[repr(g), str(g), f"{g}"], read_error=read_error,
                replicated=[np.asarray(rep).tolist(), repr(rep[:1])])


def hostlocal_jax(pid, n, port):
    import jax
    out = hostlocal(pid, n, port, jax)
    jax.distributed.shutdown()
    return out


def collectives(pid, n, port, lib=jaxel):
    """shard_map collectives over a mesh whose axis 'p' crosses processes and 'l' does not:
    psum, all_gather, ppermute and axis_index lower to XLA collectives with replica groups of
    global partition ids."""
    if n > 1:
        _join_with(lib, pid, n, port)
    if lib is jaxel:
        from jaxel.experimental import multihost_utils as mh
    else:
        from jax.experimental import multihost_utils as mh
    P, Mesh = lib.sharding.PartitionSpec, lib.sharding.Mesh
    lax, jnp = lib.lax, lib.numpy
    mesh = Mesh(np.array(lib.devices()).reshape(2, 2), ("p", "l"))
    local = (np.arange(8, dtype=np.float32).reshape(2, 4) + 10 * pid)
    x = mh.host_local_array_to_global_array(local, mesh, P("p", "l"))  # global (4, 4)

    def body(b):
        total = lax.psum(b, ("p", "l"))
        over_p = lax.psum(b, "p")
        gathered = lax.all_gather(b, "p", tiled=True)
        shifted = lax.ppermute(b, "p", perm=[(0, 1), (1, 0)])
        where = (lax.axis_index("p") * 10 + lax.axis_index("l")) * jnp.ones_like(b)
        return total, over_p, gathered, shifted, where

    outs = lib.jit(lib.shard_map(body, mesh=mesh, in_specs=P("p", "l"),
                                 out_specs=(P(), P(None, "l"), P("p", "l"), P("p", "l"),
                                            P("p", "l"))))(x)
    return dict(outs=[mh.process_allgather(o, tiled=True).tolist() for o in outs])


def collectives_jax(pid, n, port):
    import jax
    out = collectives(pid, n, port, jax)
    jax.distributed.shutdown()
    return out


def pmap_psum(pid, n, port, lib=jaxel):
    """pmap over two processes: each maps over its own devices; psum spans all four."""
    if n > 1:
        _join_with(lib, pid, n, port)
    x = np.arange(2.0, dtype=np.float32) + 10 * pid
    y, z = lib.pmap(lambda a, b: (lib.lax.psum(a, "i"), a * b + lib.lax.axis_index("i")),
                    axis_name="i", in_axes=(0, None))(x, np.float32(3))
    return dict(shapes=[list(y.shape), list(z.shape)], y=np.asarray(y).tolist(),
                z=np.asarray(z).tolist())


def pmap_psum_jax(pid, n, port):
    import jax
    out = pmap_psum(pid, n, port, jax)
    jax.distributed.shutdown()
    return out


def mlp_step(pid, n, port):
    """One data-parallel SGD step of a small MLP: batch split over the 'data' axis of the
    4 global devices, parameters replicated."""
    if n > 1:
        join(pid, n, port)
    from jaxel.sharding import NamedSharding, PartitionSpec as P
    rng = np.random.default_rng(0)
    params = {"w1": rng.normal(size=(3, 8)).astype(np.float32),
              "b1": rng.normal(size=(8,)).astype(np.float32),
              "w2": rng.normal(size=(8, 1)).astype(np.float32)}
    x = rng.normal(size=(16, 3)).astype(np.float32)
    y = rng.normal(size=(16, 1)).astype(np.float32)
    mesh = _global_mesh()
    rows, repl = NamedSharding(mesh, P("data")), NamedSharding(mesh, P())

    def put(v, sharding):  # every process builds only its own devices' blocks
        return jaxel.make_array_from_callback(v.shape, sharding, lambda idx: v[idx])

    def loss(p, xb, yb):
        h = jnp.tanh(xb @ p["w1"] + p["b1"])
        return jnp.mean((h @ p["w2"] - yb) ** 2)

    @jaxel.jit
    def step(p, xb, yb):
        value, grads = jaxel.value_and_grad(loss)(p, xb, yb)
        new = jaxel.tree.map(lambda a, g: a - 0.1 * g, p, grads)
        return value, grads, new

    gp = jaxel.tree.map(lambda v: put(v, repl), params)
    xg, yg = put(x, rows), put(y, rows)
    value, grads, new = step(gp, xg, yg)
    value, grads, new = jaxel.block_until_ready((value, grads, new))
    # The same loss with the layouts named on jit itself.
    named = jaxel.jit(loss, in_shardings=(repl, rows, rows), out_shardings=repl)(gp, xg, yg)
    out = dict(loss=float(_local_value(value)), named_loss=float(_local_value(named)),
               loss_read=float(value),  # replicated: every process holds the whole value
               named_spec=str(named.sharding.spec),
               grads={k: _local_value(v).tolist() for k, v in grads.items()},
               new={k: _local_value(v).tolist() for k, v in new.items()},
               x_spec=str(put(x, rows).sharding.spec))
    if n == 1:  # the oracle, on the whole batch in one process
        import jax
        import jax.numpy as jjnp

        def jloss(p, xb, yb):
            h = jjnp.tanh(xb @ p["w1"] + p["b1"])
            return jjnp.mean((h @ p["w2"] - yb) ** 2)
        jv, jg = jax.value_and_grad(jloss)(params, x, y)
        out["jax_loss"] = float(jv)
        out["jax_grads"] = {k: np.asarray(v).tolist() for k, v in jg.items()}
    return out


def dies(pid, n, port, mode="barrier"):
    """Process 1 vanishes after joining; the others wait for it at a barrier or in a
    collective."""
    join(pid, n, port)
    from jaxel.experimental import multihost_utils as mh
    mh.sync_global_devices("all here")
    if pid == 1:
        import os
        os._exit(7)  # no shutdown, no heartbeats: as a crash looks to the others
    if mode == "collective":  # wait inside a cross-process XLA collective (Gloo)
        from jaxel.sharding import PartitionSpec as P
        g = mh.host_local_array_to_global_array(np.ones((2, 3), np.float32), _global_mesh(),
                                                P("data"))
        np.asarray(jaxel.jit(lambda a: a.sum(0))(g).addressable_shards[0].data)
    else:
        mh.sync_global_devices("waits for the dead")
    return {}


def dies_in_collective(pid, n, port):
    return dies(pid, n, port, "collective")


def preemption(pid, n, port):
    """A SIGTERM to process 0 (a preemption notice) makes every process agree on one step; the
    process keeps running. live_devices lists the living processes' devices."""
    import os
    import signal
    import time
    join(pid, n, port)
    from jaxel.experimental import multihost_utils as mh
    with mh.live_devices(jaxel.devices()) as alive:
        alive = [d.id for d in alive]
    agreed = None
    for step in range(40):
        if step == 2 and pid == 0:
            os.kill(os.getpid(), signal.SIGTERM)
        if mh.reached_preemption_sync_point(step):
            agreed = step
            break
        time.sleep(0.4)  # room for the background agreement to finish before the step
    return dict(alive=alive, agreed=agreed)


def no_distributed(pid, n, port):
    """Without initialize: no preemption point is ever reached; live_devices refuses."""
    from jaxel.experimental import multihost_utils as mh
    try:
        with mh.live_devices(jaxel.devices()):
            pass
        error = None
    except RuntimeError as e:
        error = str(e)
    api = ["assert_equal", "broadcast_one_to_all", "global_array_to_host_local_array",
           "host_local_array_to_global_array", "live_devices", "process_allgather",
           "reached_preemption_sync_point", "sync_global_devices", "ProcessFailureError"]
    return dict(reached=mh.reached_preemption_sync_point(0), error=error,
                missing=[name for name in api if not hasattr(mh, name)])


def unreachable(pid, n, port):
    """Nothing listens at the coordinator's port; initialize (as process 1 of 2) must fail
    within its timeout."""
    import time
    start = time.monotonic()
    try:
        join(1, 2, port, timeout=2)
        return dict(error=None)
    except RuntimeError as e:
        return dict(error=str(e), seconds=time.monotonic() - start)


def bad_args(pid, n, port):
    """Invalid arguments raise JAX's error classes (checked before any connection)."""
    import os
    import jax
    os.environ.pop("JAX_COORDINATOR_ADDRESS", None)
    cases = [dict(num_processes=2, process_id=0),
             dict(coordinator_address=f"127.0.0.1:{port}", process_id=0),
             dict(coordinator_address=f"127.0.0.1:{port}", num_processes=2),
             dict(coordinator_address=f"127.0.0.1:{port}", num_processes=2, process_id=2),
             dict(coordinator_address=f"127.0.0.1:{port}", num_processes=2, process_id="0")]
    out = []
    for kw in cases:
        kw = dict(kw, cluster_detection_method="deactivate")
        errors = []
        for init in (jaxel.distributed.initialize, jax.distributed.initialize):
            try:
                init(**kw)
                errors.append(None)
            except Exception as e:  # noqa: BLE001 - the class is what is compared
                errors.append(type(e).__name__)
        out.append(errors)
    return dict(errors=out, initialized=jaxel.distributed.is_initialized())


def alone(pid, n, port):
    """Process 0 of 2, and process 1 never comes."""
    join(0, 2, port, timeout=3)
    return {}


def port_taken(pid, n, port):
    """Process 0's service cannot listen on a port that is in use."""
    import socket
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        s.listen()
        taken = s.getsockname()[1]
        try:
            join(0, 2, taken, timeout=5)
            return dict(error=None)
        except RuntimeError as e:
            return dict(error=str(e), port=taken)


def from_env(pid, n, port):
    """initialize() with no arguments reads JAX_COORDINATOR_ADDRESS, JAX_NUM_PROCESSES and
    JAX_PROCESS_ID."""
    jaxel.distributed.initialize(initialization_timeout=30,
                                 heartbeat_timeout_seconds=HEARTBEAT_S,
                                 shutdown_timeout_seconds=10)
    return dict(index=jaxel.process_index(), count=jaxel.process_count())


def single_process(pid, n, port):
    """The one-process checks in one interpreter, those that need no devices first."""
    return dict(unreachable=unreachable(pid, n, port), port_taken=port_taken(pid, n, port),
                no_distributed=no_distributed(pid, n, port), late=late(pid, n, port))


def late(pid, n, port):
    """initialize after the devices exist is refused."""
    jaxel.devices()
    try:
        join(pid, n, port)
        return dict(error=None)
    except RuntimeError as e:
        return dict(error=str(e))


if __name__ == "__main__":
    scenario, pid, n, port = sys.argv[1], *map(int, sys.argv[2:5])
    result = globals()[scenario](pid, n, port)
    # jaxel must not load JAX, not even through jaxlib's callbacks (multi-device read-back).
    result["jax_loaded"] = any(m == "jax" or m.startswith("jax.") for m in sys.modules)
    print("RESULT " + json.dumps(result), flush=True)
    if jaxel.distributed.is_initialized():
        jaxel.distributed.shutdown()
