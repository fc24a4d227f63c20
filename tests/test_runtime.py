"""The runtime seam: lazy clients, devices, transfers, the compilation cache."""
import subprocess
import sys

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel.runtime import compile_cache


def _run(code):
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return out


def test_import_is_lazy_about_jaxlib():
    out = _run("import sys, jaxel, jaxel.numpy; print('jaxlib' in sys.modules)")
    assert out.stdout.strip() == "False"


def test_client_logging_is_quiet():
    out = _run("import jaxel, jaxel.numpy as jnp; jnp.ones(3).block_until_ready()")
    assert "pjrt_client" not in out.stderr


def test_devices_and_default_backend():
    assert jaxel.default_backend() == "cpu"
    assert jaxel.device_count() >= 1
    x = jnp.ones(3)
    assert x.devices() == {jaxel.devices()[0]}


def test_device_put_get_and_block():
    x = jaxel.device_put(np.arange(3, dtype=np.float32))
    assert isinstance(x, jaxel.Array)
    tree = jaxel.device_get({"x": x, "n": 1})
    assert isinstance(tree["x"], np.ndarray) and tree["n"] == 1
    assert jaxel.block_until_ready({"x": x})["x"] is x


def test_device_put_to_another_device_runs_there():
    out = _run(
        "import jaxel, numpy as np, jaxel.numpy as jnp\n"
        "jaxel.config.update('jax_num_cpu_devices', 2)\n"
        "d1 = jaxel.devices()[1]\n"
        "x = jaxel.device_put(np.arange(3.0, dtype=np.float32), d1)\n"
        "y = jnp.sin(x) + 1\n"
        "z = jaxel.jit(lambda a: a * 2)(x)\n"
        "print(y.device == d1, z.device == d1, x.committed)\n")
    assert out.stdout.split() == ["True", "True", "True"]


def test_compile_cache_is_bounded(monkeypatch):
    jaxel.config.update("jax_compilation_cache_max_size", 2)
    try:
        for k in range(4):
            jaxel.jit(lambda x, k=k: x * (k + 100))(jnp.ones(3))
        s = compile_cache.stats()
        assert s["entries"] <= 2 and s["evictions"] >= 2
    finally:
        jaxel.config.update("jax_compilation_cache_max_size", 4096)


def test_unknown_config_option_is_named():
    with pytest.raises(AttributeError, match="jax_enable_x46"):
        jaxel.config.update("jax_enable_x46", True)


def test_gpu_plugin_absent_gives_none():
    from jaxel.runtime import gpu_plugin
    if gpu_plugin._find_plugin_library() is None:
        assert gpu_plugin.make_gpu_backend() is None
        with pytest.raises(RuntimeError, match="plugin"):
            gpu_plugin.make_gpu_backend(required=True)


def test_x64_canonicalisation_and_warning():
    with pytest.warns(UserWarning, match="jax_enable_x64"):
        x = jnp.asarray(np.ones(3), dtype=np.float64)
    assert x.dtype == np.float32
    assert jnp.asarray(np.ones(3)).dtype == np.float32
    with jaxel.config._override("jax_enable_x64", True):
        assert jnp.asarray(np.ones(3)).dtype == np.float64
        assert jnp.asarray(1.0).dtype == np.float64


def test_device_put_accepts_an_arrays_sharding():
    x = jnp.arange(3.0)
    y = jaxel.device_put(x, x.sharding)
    np.testing.assert_array_equal(np.asarray(y), np.arange(3.0))
    assert y.device == x.device
    tree = jaxel.device_put({"a": np.ones(2), "b": 1.0}, x.sharding)
    assert tree["a"].device == x.device and tree["b"].weak_type
    with pytest.raises(TypeError, match="expected a Device, a Sharding or a PartitionSpec"):
        jaxel.device_put(x, "cpu:0")


def test_device_queries_take_jax_keywords():
    cpu = jaxel.devices(backend="cpu")
    assert jaxel.local_devices(backend="cpu") == cpu
    assert jaxel.local_devices(process_index=0, backend="cpu") == cpu
    assert jaxel.local_devices(host_id=0) == jaxel.local_devices()
    assert jaxel.device_count(backend="cpu") == len(cpu) == jaxel.local_device_count(backend="cpu")
    with pytest.raises(ValueError, match="process"):
        jaxel.local_devices(process_index=3)


def test_copy_to_host_async_then_read():
    x = jnp.arange(4) * 2
    assert x.copy_to_host_async() is None
    np.testing.assert_array_equal(np.asarray(x), [0, 2, 4, 6])
    x.delete()
    with pytest.raises(Exception, match="deleted"):
        x.copy_to_host_async()


def test_host_copies_survive_delete_and_donation():
    """Reading back copies the data: deleting or donating the array later is safe and the host
    value stays (a zero-copy DLPack view would make PJRT abort on delete)."""
    x = jnp.arange(5.0)
    host = np.asarray(x)
    x.delete()
    np.testing.assert_array_equal(host, np.arange(5.0))
    y = jnp.ones(3)
    host = np.asarray(y)
    out = jaxel.jit(lambda a: a * 2, donate_argnums=0)(y)
    np.testing.assert_array_equal(np.asarray(out), 2 * host)
    np.testing.assert_array_equal(host, np.ones(3))


def test_sub_byte_read_back_while_tracing():
    """Reading a concrete int4 constant inside a jitted function (printing it) widens it on the
    device eagerly, not in the trace."""
    c = jnp.array([1, -2, 7], dtype=jnp.int4)
    seen = []

    def f(x):
        seen.append(np.asarray(c))
        return x + 1

    assert float(jaxel.jit(f)(1.0)) == 2.0
    np.testing.assert_array_equal(seen[0].astype(np.int8), [1, -2, 7])
    assert seen[0].dtype == np.dtype(jnp.int4)
