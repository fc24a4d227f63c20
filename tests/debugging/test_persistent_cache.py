"""The persistent compilation cache: a fresh process loads what another compiled; corrupt or
truncated entries are survived and rewritten; the directory's size bound evicts LRU entries."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel.runtime import compile_cache, persistent_cache

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Prints the jitted result and the persistent-cache counters of this process.
_CHILD = textwrap.dedent("""
    import json, jaxel, jaxel.numpy as jnp
    from jaxel.runtime import compile_cache
    f = jaxel.jit(lambda x: jnp.sin(x) * 3.0 + 1.0)
    out = f(jnp.arange(4.0))
    s = compile_cache.stats()
    print(json.dumps({"out": out.tolist(), "hits": s["persistent_hits"],
                      "misses": s["persistent_misses"], "writes": s["persistent_writes"]}))
""")


def _child_env(cache_dir):
    return dict(os.environ, JAX_COMPILATION_CACHE_DIR=str(cache_dir),
               JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0", JAX_NUM_CPU_DEVICES="1",
               PYTHONPATH=_ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))


def _run_child(cache_dir):
    res = subprocess.run([sys.executable, "-c", _CHILD], env=_child_env(cache_dir),
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


def _entries(d):
    return sorted(p for p in os.listdir(d) if p.endswith("-cache"))


def test_fresh_process_loads_instead_of_compiling(tmp_path):
    expected = (np.sin(np.arange(4.0, dtype=np.float32)) * 3 + 1).tolist()
    first = _run_child(tmp_path)
    assert first["misses"] > 0 and first["writes"] == first["misses"] and first["hits"] == 0
    np.testing.assert_allclose(first["out"], expected, rtol=1e-6)
    second = _run_child(tmp_path)
    assert second["misses"] == 0 and second["hits"] == first["writes"]
    np.testing.assert_allclose(second["out"], expected, rtol=1e-6)
    # No temporary files are left behind by the atomic writes.
    assert all(p.endswith("-cache") for p in os.listdir(tmp_path))


def test_corrupt_and_truncated_entries_are_survived(tmp_path):
    first = _run_child(tmp_path)
    names = _entries(tmp_path)
    assert len(names) == first["writes"] >= 2
    with open(tmp_path / names[0], "r+b") as f:  # flip a payload byte
        f.seek(-10, os.SEEK_END)
        byte = f.read(1)
        f.seek(-10, os.SEEK_END)
        f.write(bytes([byte[0] ^ 0xFF]))
    with open(tmp_path / names[1], "r+b") as f:  # cut it short
        f.truncate(20)
    second = _run_child(tmp_path)
    assert second["misses"] == 2 and second["writes"] == 2
    third = _run_child(tmp_path)  # the rewritten entries are good again
    assert third["misses"] == 0 and third["hits"] == first["writes"]
    np.testing.assert_allclose(third["out"], first["out"])


def test_concurrent_processes_share_a_directory(tmp_path):
    procs = [subprocess.Popen([sys.executable, "-c", _CHILD], env=_child_env(tmp_path),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [e for _, e in outs]
    results = [json.loads(o.strip().splitlines()[-1]) for o, _ in outs]
    assert results[0]["out"] == results[1]["out"]
    after = _run_child(tmp_path)  # whichever process wrote last, the entries are whole
    assert after["misses"] == 0 and after["out"] == results[0]["out"]


@pytest.fixture
def cache_dir(tmp_path):
    saved = {n: jaxel.config.read(n) for n in (
        "jax_compilation_cache_dir", "jax_persistent_cache_min_compile_time_secs",
        "jaxel_persistent_cache_max_size_bytes", "jax_persistent_cache_min_entry_size_bytes")}
    jaxel.config.update("jax_compilation_cache_dir", str(tmp_path))
    jaxel.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    yield tmp_path
    for n, v in saved.items():
        jaxel.config.update(n, v)


def test_lru_eviction_keeps_directory_bounded(cache_dir):
    sizes = []
    for k in range(3):
        jaxel.jit(lambda x, k=k: x * (k + 2.5) - 7.0)(jnp.ones(5))
        sizes.append(sum(os.path.getsize(cache_dir / n) for n in _entries(cache_dir)))
    entry = max(os.path.getsize(cache_dir / n) for n in _entries(cache_dir))
    bound = 2 * entry + entry // 2  # room for two entries
    jaxel.config.update("jaxel_persistent_cache_max_size_bytes", bound)
    for k in range(3):
        jaxel.jit(lambda x, k=k: x * (k + 9.5) + 3.0)(jnp.ones(5))
    total = sum(os.path.getsize(cache_dir / n) for n in _entries(cache_dir))
    assert 0 < total <= bound


def test_thresholds_skip_small_or_fast_compiles(cache_dir):
    jaxel.config.update("jax_persistent_cache_min_entry_size_bytes", 10 ** 9)
    before = compile_cache.stats()["persistent_writes"]
    jaxel.jit(lambda x: x * 11.25)(jnp.ones(2))
    assert compile_cache.stats()["persistent_writes"] == before
    jaxel.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    jaxel.config.update("jax_persistent_cache_min_compile_time_secs", 10 ** 6)
    jaxel.jit(lambda x: x * 12.25)(jnp.ones(2))
    assert compile_cache.stats()["persistent_writes"] == before
    assert _entries(cache_dir) == []


def test_key_depends_on_devices_and_partitioning():
    be = jaxel.runtime.client.backend()
    d0, d1 = be.devices[0], be.devices[1]
    k = persistent_cache.cache_key("m", (d0,), 1, False, be)
    assert k != persistent_cache.cache_key("m", (d1,), 1, False, be)
    assert k != persistent_cache.cache_key("m", (d0,), 1, True, be)
    assert k != persistent_cache.cache_key("n", (d0,), 1, False, be)
    assert k == persistent_cache.cache_key("m", (d0,), 1, False, be)


def test_options_match_jax_defaults():
    jax = pytest.importorskip("jax")
    for name in ("jax_persistent_cache_min_entry_size_bytes",
                 "jax_persistent_cache_min_compile_time_secs", "jax_enable_compilation_cache"):
        assert jaxel.config.read(name) == getattr(jax.config, name), name


def test_programs_with_host_callbacks_are_not_cached():
    assert persistent_cache.cacheable("func.func @main() { stablehlo.add }")
    text = 'stablehlo.custom_call @xla_ffi_python_cpu_callback(%0) {backend_config = ""}'
    assert not persistent_cache.cacheable(text)


def test_experimental_set_cache_dir(tmp_path):
    from jaxel.experimental.compilation_cache import compilation_cache as cc
    jax = pytest.importorskip("jax")
    from jax.experimental.compilation_cache import compilation_cache as jcc
    assert {n for n in dir(jcc) if not n.startswith("_")} <= set(dir(cc))
    saved = jaxel.config.jax_compilation_cache_dir
    try:
        cc.set_cache_dir(str(tmp_path))
        assert jaxel.config.jax_compilation_cache_dir == str(tmp_path)
        cc.reset_cache()
    finally:
        jaxel.config.update("jax_compilation_cache_dir", saved)


def test_partitioned_and_placed_programs_load_back(cache_dir):
    from jaxel.sharding import NamedSharding, P
    mesh = jaxel.make_mesh((4,), ("x",))
    x = jaxel.device_put(np.arange(16.0, dtype=np.float32), NamedSharding(mesh, P("x")))
    y = jaxel.device_put(np.ones(3, np.float32), jaxel.devices()[3])
    runs = [lambda: jaxel.jit(lambda a: jnp.sin(a) * 2 + a.sum())(x),
            lambda: jaxel.jit(lambda a: a * 5.0 + 1.0)(y)]
    for run in runs:
        first = run()
        jaxel.clear_caches()  # forget the in-memory executables: the next call reads the disk
        hits = compile_cache.stats()["persistent_hits"]
        again = run()
        assert compile_cache.stats()["persistent_hits"] > hits
        np.testing.assert_allclose(again, first)
        assert again.sharding == first.sharding


def test_jit_with_a_host_callback_is_compiled_not_cached(cache_dir, monkeypatch):
    from jaxel.runtime import host_callbacks
    looked_up = []
    real = persistent_cache.lookup_or_compile

    def spy(text, *args):
        looked_up.append(text)
        return real(text, *args)
    monkeypatch.setattr(persistent_cache, "lookup_or_compile", spy)

    def host(x):
        return np.asarray(x) * 2

    def f(x):
        return jaxel.pure_callback(host, jaxel.ShapeDtypeStruct(x.shape, x.dtype), x) + 1.0

    for _ in range(2):
        np.testing.assert_allclose(jaxel.jit(f)(jnp.arange(3.0)), [1.0, 3.0, 5.0])
        jaxel.clear_caches()
    assert looked_up  # the eager ops around it did use the cache
    assert not any(host_callbacks.has_callbacks(t) for t in looked_up)


def test_unwritable_directory_does_not_fail_compiles(cache_dir):
    blocker = cache_dir / "a_file"
    blocker.write_text("not a directory")
    jaxel.config.update("jax_compilation_cache_dir", str(blocker / "sub"))
    np.testing.assert_allclose(jaxel.jit(lambda x: x * 13.5)(jnp.ones(2)), [13.5, 13.5])
