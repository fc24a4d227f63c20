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
