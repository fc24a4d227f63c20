"""jaxel.distributed and multihost_utils: several processes on 127.0.0.1, two CPU devices each.

Each test launches the processes of one run (``_distributed_worker.py``) with a wall-clock limit,
so a hang fails the test instead of blocking the suite. Everything runs in subprocesses: the test
process already has its devices (initialize must come first), and importing
``jaxel.experimental`` here would change what test_public_names sees.
"""
import importlib.util
import json
import os
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_distributed_worker.py")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(scenario, n=2, timeout=60, port=None, devices=2, jax_env=False):
    """Run ``n`` worker processes with ``devices`` CPU devices each; returns a list of
    (returncode, result dict or None, stderr). ``jax_env``: also tell each process its place
    in the run through JAX's environment variables."""
    port = port or free_port()
    env = dict(os.environ, JAX_NUM_CPU_DEVICES=str(devices), PYTHONPATH=ROOT,
               TF_CPP_MIN_LOG_LEVEL="1")

    def env_of(p):
        if not jax_env:
            return env
        return dict(env, JAX_COORDINATOR_ADDRESS=f"127.0.0.1:{port}", JAX_NUM_PROCESSES=str(n),
                    JAX_PROCESS_ID=str(p))
    procs = [subprocess.Popen([sys.executable, WORKER, scenario, str(p), str(n), str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=env_of(p))
             for p in range(n)]
    deadline = time.monotonic() + timeout
    outs = []
    try:
        for p in procs:
            out, err = p.communicate(timeout=max(1, deadline - time.monotonic()))
            lines = [ln for ln in out.splitlines() if ln.startswith("RESULT ")]
            outs.append((p.returncode, json.loads(lines[-1][7:]) if lines else None, err))
    except subprocess.TimeoutExpired:
        for p in procs:
            p.kill()
        tails = [p.communicate()[1][-1500:] for p in procs]  # reap them; show what they said
        pytest.fail(f"{scenario}: the processes did not finish within {timeout} s; their "
                    f"stderr ends:\n" + "\n---\n".join(tails))
    return outs


def results(outs, jax_oracle=False):
    for rc, res, err in outs:
        assert rc == 0 and res is not None, err[-3000:]
        assert jax_oracle or not res["jax_loaded"]
    return [res for _, res, _ in outs]


def test_process_indices_and_global_devices():
    r0, r1 = results(launch("basics"))
    for pid, r in enumerate((r0, r1)):
        assert r["process_index"] == pid
        assert r["process_count"] == 2 and r["process_indices"] == [0, 1]
        assert r["aliases"] == [pid, 2, [0, 1]] and r["alias_warnings"] == 3
        assert r["device_count"] == 4 and r["local_count"] == 2
        # Global devices: both processes see all four, in the same order, with their owners.
        assert [p for _, p in r["devices"]] == [0, 0, 1, 1]
        assert r["local"] == [i for i, p in r["devices"] if p == pid]
        assert r["other"] == [i for i, p in r["devices"] if p != pid]
        assert r["default_is_local"]
        assert sorted(r["make_mesh"]) == [i for i, _ in r["devices"]]  # over global devices
        # A mesh over the global devices: this process's row of it is its local mesh.
        local = [i for i, p in r["devices"] if p == pid]
        assert r["mesh"]["multi"] and r["mesh"]["local"] == local
        assert r["mesh"]["local_mesh"] == [local] and not r["mesh"]["addressable"]
        assert r["mesh"]["indices"] == {str(d): [[2 * pid, 2 * pid + 2], [3 * j, 3 * j + 3]]
                                        for j, d in enumerate(local)}
        x = np.arange(4.0) * (pid + 1)
        assert r["jit_sum"] == pytest.approx(float((x * x).sum()))
        np.testing.assert_allclose(r["grad"], 3 * x ** 2)
    assert r0["devices"] == r1["devices"]


def test_multihost_utils_two_processes():
    r0, r1 = results(launch("multihost"))
    a = [np.arange(6, dtype=np.float32).reshape(2, 3) + 10 * p for p in range(2)]
    for r in (r0, r1):
        np.testing.assert_array_equal(r["stacked_a"], np.stack(a))
        assert r["stacked_a_dtype"] == "float32"
        assert r["stacked_b0"] == [0, 1] and r["stacked_b0_dtype"] == "int32"
        # A Python float becomes the float32 a jaxel array of it has (x64 off), as in JAX.
        assert r["stacked_b1"] == [2.5, 5.0] and r["stacked_b1_dtype"] == "float32"
        np.testing.assert_array_equal(r["tiled"], np.concatenate(a))
        np.testing.assert_array_equal(r["bcast_v"], a[0])
        assert r["bcast_i"] == 7 and r["bcast_types"] == ["ndarray", "int32"]
        np.testing.assert_array_equal(r["from_last"], a[1])
        assert r["mismatch"] is not None and "differ" in r["mismatch"]
        big = [np.arange(128 * 160, dtype=np.float32).reshape(128, 160) + 1000 * p
               for p in range(2)]
        for got, want in zip(r["big"], [np.stack(big), np.concatenate(big), big[0], big[1]]):
            assert got[:3] == [list(want.shape), "float32", float(want.sum())]
            assert got[3] == want.reshape(-1)[::997].tolist()
    r0.pop("mismatch"), r1.pop("mismatch")
    assert r0 == r1
    if importlib.util.find_spec("jax") is None:
        return
    # The same calls with JAX 0.12.1 on two processes give the same values, dtypes and types.
    j0, j1 = results(launch("multihost_jax"), True)
    for j in (j0, j1):
        j.pop("mismatch"), j.pop("jax_loaded")
    r0.pop("jax_loaded")
    assert j0 == j1 == r0


def test_multihost_utils_one_process_needs_no_initialize():
    pytest.importorskip("jax")
    (r,) = results(launch("multihost", n=1), True)
    assert r["oracle"] == {"stacked": True, "tiled": True, "bcast": True}
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(r["stacked_a"], a[None])
    np.testing.assert_array_equal(r["tiled"], a)
    np.testing.assert_array_equal(r["bcast_v"], a)
    np.testing.assert_array_equal(r["from_last"], a)
    assert r["mismatch"] is None


def test_host_local_arrays_become_global_and_back():
    r0, r1 = results(launch("hostlocal"))
    local = [np.arange(6, dtype=np.float32).reshape(2, 3) + 100 * p for p in range(2)]
    whole = np.concatenate(local)
    for pid, r in enumerate((r0, r1)):
        assert r["global_shape"] == [4, 3] and "data" in r["spec"]
        np.testing.assert_allclose(r["total"], (whole * whole).sum(axis=0))
        np.testing.assert_array_equal(r["back"], local[pid])
        np.testing.assert_array_equal(r["back_rep"], local[pid])
        # An array partly on the other process prints its type only and cannot be read;
        # a replicated one reads and prints as usual.
        assert r["printed"] == ["Array(shape=(4, 3), dtype=float32)"] * 3
        assert r["read_error"] == "RuntimeError"
        assert r["replicated"] == [whole.tolist(),
                                   "Array([[0., 1., 2.]], dtype=float32)"]
        assert r["resharded"] == [[2 * pid + i, whole[2 * pid + i:2 * pid + i + 1].tolist()]
                                  for i in range(2)]
        assert r["back_shape"] == [2, 3]
        np.testing.assert_array_equal(r["gathered"], whole)
        # make_array_from_process_local_data: rows split across processes...
        np.testing.assert_array_equal(r["rows"], whole)
        np.testing.assert_array_equal(r["rows2"], whole)
        # ...or columns across processes (rows split within each process).
        assert r["cols_shape"] == [2, 6]
        np.testing.assert_array_equal(r["cols"], np.concatenate(local, axis=1))
        assert "process data has 2 elements" in r["bad"]
    if importlib.util.find_spec("jax") is None:
        return
    # JAX 0.12.1 on two processes: the same arrays, shapes and specs.
    for ours, theirs in zip((r0, r1), results(launch("hostlocal_jax"), True)):
        assert "process data has 2 elements" in theirs["bad"]
        for r in (ours, theirs):
            r.pop("bad"), r.pop("jax_loaded")
        assert ours == theirs


def test_data_parallel_mlp_step_matches_one_process():
    """Two processes x two devices give the loss, gradients and updated parameters of the same
    step in one process with four devices (and of JAX on the whole batch)."""
    (one,) = results(launch("mlp_step", n=1, devices=4, timeout=90), True)
    r0, r1 = results(launch("mlp_step", timeout=90))
    assert one["loss"] == pytest.approx(one["jax_loss"], rel=1e-5)
    for k, g in one["jax_grads"].items():
        np.testing.assert_allclose(one["grads"][k], g, rtol=1e-5, atol=1e-6)
    for r in (r0, r1):
        assert r["loss"] == pytest.approx(one["loss"], rel=1e-6)
        assert r["named_loss"] == pytest.approx(one["loss"], rel=1e-6)
        assert r["loss_read"] == r["loss"]
        assert r["named_spec"] == one["named_spec"]
        for k in one["grads"]:
            np.testing.assert_allclose(r["grads"][k], one["grads"][k], rtol=1e-5, atol=1e-7)
            np.testing.assert_allclose(r["new"][k], one["new"][k], rtol=1e-5, atol=1e-7)
    assert r0["x_spec"] == one["x_spec"]


def test_preemption_sync_point_and_live_devices():
    r0, r1 = results(launch("preemption"))
    assert r0["alive"] == r1["alive"] == [0, 1, 2048, 2049]
    assert r0["agreed"] is not None and r0["agreed"] == r1["agreed"] >= 3


@pytest.fixture(scope="module")
def single():
    """One process, several checks (``single_process`` in the worker), and the port it was told
    to find no coordinator at."""
    port = free_port()  # nothing listens there
    (r,) = results(launch("single_process", n=1, timeout=60, port=port))
    return r, port


def test_multihost_utils_api_without_initialize(single):
    r = single[0]["no_distributed"]
    assert r["reached"] is False and "not initialized" in r["error"]
    assert r["missing"] == []  # JAX 0.12.1's multihost_utils API (its internals aside)


def test_shard_map_collectives_across_processes():
    """psum, all_gather, ppermute and axis_index over a mesh axis that crosses processes give
    NumPy's values and JAX 0.12.1's (two processes each)."""
    import jaxel
    if not hasattr(jaxel, "shard_map"):
        pytest.skip("jaxel.shard_map is not merged yet")
    r0, r1 = results(launch("collectives", timeout=90))
    x = np.concatenate([np.arange(8, dtype=np.float32).reshape(2, 4) + 10 * p for p in range(2)])
    blocks = [x[i:i + 2, j:j + 2] for i in (0, 2) for j in (0, 2)]
    where = np.repeat(np.repeat(np.array([[0, 1], [10, 11]], np.float32), 2, 0), 2, 1)
    want = [sum(blocks), x[:2] + x[2:], np.concatenate([x, x]),
            np.concatenate([x[2:], x[:2]]), where]
    for r in (r0, r1):
        for got, w in zip(r["outs"], want):
            np.testing.assert_array_equal(got, w)
    if importlib.util.find_spec("jax") is not None:
        j0, _ = results(launch("collectives_jax", timeout=90), True)
        assert j0["outs"] == r0["outs"]


def test_pmap_across_processes_matches_jax():
    """Each process maps over its own two devices; psum and axis_index span all four; results
    are this process's rows (as JAX's)."""
    import jaxel
    if not hasattr(jaxel, "pmap"):
        pytest.skip("jaxel.pmap is not merged yet")
    r0, r1 = results(launch("pmap_psum", timeout=90))
    for pid, r in enumerate((r0, r1)):
        assert r["shapes"] == [[2], [2]] and r["y"] == [22.0, 22.0]  # 0 + 1 + 10 + 11
        x = np.arange(2.0) + 10 * pid
        assert r["z"] == (x * 3 + np.arange(2) + 2 * pid).tolist()
    if importlib.util.find_spec("jax") is not None:
        theirs = results(launch("pmap_psum_jax", timeout=90), True)
        for ours, j in zip((r0, r1), theirs):
            j.pop("jax_loaded"), ours.pop("jax_loaded")
            assert ours == j


def test_replicated_scalar_over_devices():
    """A 0-d value put on several devices stays 0-d in every block (used by pmap's unmapped
    scalars over processes)."""
    import jaxel
    from jaxel.sharding import Mesh, NamedSharding, PartitionSpec as P
    mesh = Mesh(np.array(jaxel.devices()[:4]), ("x",))
    y = jaxel.device_put(np.float32(3), NamedSharding(mesh, P()))
    assert y.shape == () and float(y) == 3.0
    assert [s.data.shape for s in y.addressable_shards] == [()] * 4


def test_unreachable_coordinator_fails_within_timeout(single):
    r, port = single[0]["unreachable"], single[1]
    assert f"127.0.0.1:{port}" in r["error"] and "2 s" in r["error"]
    assert r["seconds"] < 6


def test_missing_process_ends_the_others_at_the_timeout():
    start = time.monotonic()
    (rc, r, err), = launch("alone", n=1, timeout=40)
    assert rc != 0 and r is None
    assert "not all 2 processes joined the coordinator at 127.0.0.1:" in err, err[-3000:]
    assert time.monotonic() - start < 30


def test_coordinator_port_in_use_is_named(single):
    r = single[0]["port_taken"]
    assert f"127.0.0.1:{r['port']}" in r["error"] and "coordination service" in r["error"]


def test_initialize_reads_jax_environment_variables():
    r0, r1 = results(launch("from_env", jax_env=True))
    assert (r0["index"], r0["count"], r1["index"], r1["count"]) == (0, 2, 1, 2)


def test_initialize_after_devices_exist_is_refused(single):
    assert "must be called before" in single[0]["late"]["error"]


def test_bad_arguments_raise_jax_error_classes():
    pytest.importorskip("jax")
    (rc, r, err), = launch("bad_args", n=1, timeout=60)
    assert rc == 0, err[-3000:]
    for ours, theirs in r["errors"]:
        assert ours == theirs and ours in ("ValueError", "TypeError")
    assert not r["initialized"]


def test_single_process_defaults_match_jax():
    jax = pytest.importorskip("jax")
    import jaxel
    assert jaxel.process_index() == jax.process_index() == 0
    assert jaxel.process_count() == jax.process_count() == 1
    assert jaxel.process_indices() == jax.process_indices() == [0]
    assert not jaxel.distributed.is_initialized()
    with pytest.warns(UserWarning, match="process_index"):
        assert jaxel.host_id() == 0
    with pytest.warns(UserWarning, match="process_count"):
        assert jaxel.host_count() == 1
    with pytest.warns(UserWarning, match="process_indices"):
        assert jaxel.host_ids() == [0]
    assert [d.id for d in jaxel.local_devices(process_index=0)] == \
        [d.id for d in jax.local_devices(process_index=0)]
    with pytest.raises(ValueError, match="process_index 3"):
        jaxel.local_devices(process_index=3)
    with pytest.raises(ValueError):
        jax.local_devices(process_index=3)


def test_distributed_module_names_and_signature_match_jax():
    jax = pytest.importorskip("jax")
    import inspect
    import jaxel
    ours = {n for n in dir(jaxel.distributed) if not n.startswith("_")}
    assert {n for n in dir(jax.distributed) if not n.startswith("_")} <= ours
    a = inspect.signature(jaxel.distributed.initialize).parameters
    b = inspect.signature(jax.distributed.initialize).parameters
    assert list(a) == list(b)
    assert [p.default for p in a.values()] == [p.default for p in b.values()]
    with pytest.raises(RuntimeError, match="before any jaxel call"):
        jaxel.numpy.zeros(1).block_until_ready()  # the devices exist in this process
        jaxel.distributed.initialize("127.0.0.1:1", 2, 1)


@pytest.mark.parametrize("scenario", ["dies", "dies_in_collective"])
def test_dead_process_fails_the_others(scenario):
    start = time.monotonic()
    (rc0, r0, err0), (rc1, _, _) = launch(scenario, timeout=45)
    assert rc1 == 7
    # Process 0 does not hang, at a barrier or inside an XLA collective: the coordination
    # service notices the missing heartbeats and terminates it with a message saying so.
    assert rc0 != 0 and r0 is None
    assert "heartbeat" in err0 or "task died" in err0, err0[-3000:]
    assert time.monotonic() - start < 40
