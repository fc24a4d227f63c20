"""Transfer guards (implicit vs explicit transfers, levels, config), live_arrays and
print_environment_info, against JAX 0.12.1 where JAX's CPU behaviour is comparable."""
import logging

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp

jax = pytest.importorskip("jax")


def _outcome(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001
        return type(e).__name__
    return "ok"


def _cases(lib, np_mod):
    """Host-to-device transfers that JAX guards on CPU too (its device-to-host reads are not
    guarded on CPU, so those are checked against JAX's documented rules below)."""
    return {
        "jit of a NumPy array": lambda: lib.jit(lambda a: a + 1)(np.ones(3, np.float32)),
        "jit of a Python scalar": lambda: lib.jit(lambda a: a + 1)(2.5),
        "numpy.array of NumPy": lambda: np_mod.array(np.ones(3, np.float32)),
        "operator with NumPy": lambda: np_mod.ones(3) + np.ones(3, np.float32),
        "explicit device_put": lambda: lib.device_put(np.ones(3, np.float32)),
    }


@pytest.mark.parametrize("level", ["allow", "log", "disallow", "disallow_explicit"])
def test_host_to_device_matches_jax(level):
    ours, theirs = _cases(jaxel, jnp), _cases(jax, jax.numpy)
    for name in ours:
        with jaxel.transfer_guard(level):
            got = _outcome(ours[name])
        with jax.transfer_guard(level):
            want = _outcome(theirs[name])
        assert got == want, (level, name)


def test_jitted_programs_on_device_values_pass_the_guards():
    const = np.arange(3.0, dtype=np.float32)
    fresh_scalar = 2.0 + float(np.random.default_rng().random())
    results = {}
    for lib in (jaxel, jax):
        x = lib.numpy.arange(3.0)
        f = lib.jit(lambda a: lib.numpy.where(a > 1, a * 2.0, 0.5) + const)
        f(x)
        with lib.transfer_guard("disallow"):
            results[lib.__name__] = [
                _outcome(lambda: f(x)),  # compiled already
                _outcome(lambda: lib.jit(lambda a: a.sum() * 3.0 + const)(x)),  # compiles now
                # an eager Python scalar operand is a transfer (a value no earlier test used:
                # jaxel keeps device copies of scalars it has seen)
                _outcome(lambda: x * fresh_scalar),
            ]
    assert results["jaxel"] == results["jax"] == ["ok", "ok", "JaxRuntimeError"]


def test_disallowed_error_class_and_message():
    with jaxel.transfer_guard_host_to_device("disallow"):
        with pytest.raises(jaxel.errors.JaxRuntimeError,
                           match="Disallowed host-to-device transfer: aval=f32\\[3\\]"):
            jaxel.jit(lambda a: a * 2)(np.ones(3, np.float32))
    jaxel.jit(lambda a: a * 2)(np.ones(3, np.float32))  # the level is restored after


def test_device_to_host_implicit_vs_explicit():
    x = jnp.arange(3.0) * 2
    with jaxel.transfer_guard_device_to_host("disallow"):
        with pytest.raises(jaxel.errors.JaxRuntimeError, match="device-to-host"):
            np.asarray(x)
        np.testing.assert_array_equal(jaxel.device_get(x), [0, 2, 4])  # explicit: allowed
        np.asarray(x)  # its host copy exists now: nothing moves, nothing is refused
    y = jnp.arange(3.0) + 1
    with jaxel.transfer_guard_device_to_host("disallow_explicit"):
        with pytest.raises(jaxel.errors.JaxRuntimeError, match="explicit transfer"):
            jaxel.device_get(y)
        with pytest.raises(jaxel.errors.JaxRuntimeError):
            float(y[0])


def test_log_levels(caplog):
    with caplog.at_level(logging.WARNING, logger="jaxel"):
        with jaxel.transfer_guard("log"):
            jaxel.device_put(np.ones(2, np.float32))  # explicit: not logged at "log"
            assert not caplog.records
            jaxel.jit(lambda a: a - 1)(np.ones(2, np.float32))
        assert "host-to-device transfer" in caplog.text and "(implicit)" in caplog.text
        caplog.clear()
        with jaxel.transfer_guard("log_explicit"):
            jaxel.device_put(np.ones(2, np.float32))
        assert "(explicit)" in caplog.text


def test_config_options_and_set_only_global_option():
    assert jaxel.config.jax_transfer_guard_host_to_device is None  # JAX's default too
    assert jax.config.jax_transfer_guard_host_to_device is None
    try:
        jaxel.config.update("jax_transfer_guard", "disallow")
        for d in ("host_to_device", "device_to_host", "device_to_device"):
            assert jaxel.config.read(f"jax_transfer_guard_{d}") == "disallow"
        with pytest.raises(jaxel.errors.JaxRuntimeError):
            jnp.array(np.ones(2, np.float32))
    finally:
        jaxel.config.update("jax_transfer_guard", None)
    assert not jaxel.guards.active
    with pytest.raises(ValueError):
        jaxel.transfer_guard_host_to_device("sometimes")
    with pytest.raises(ValueError):
        jax.transfer_guard_host_to_device("sometimes")


def test_device_to_device():
    src = jaxel.device_put(jnp.arange(4.0), jaxel.devices()[1])
    with jaxel.transfer_guard_device_to_device("disallow"):
        moved = jaxel.device_put(src, jaxel.devices()[2])  # explicit
        with jaxel.transfer_guard_device_to_host("disallow"):
            list(src)  # iteration moves nothing between host and device in JAX
    assert moved.device == jaxel.devices()[2]
    with jaxel.transfer_guard_device_to_device("disallow_explicit"):
        with pytest.raises(jaxel.errors.JaxRuntimeError, match="device-to-device"):
            jaxel.device_put(src, jaxel.devices()[3])


def test_live_arrays():
    x = jnp.arange(5.0) + 100
    ids = {id(a) for a in jaxel.live_arrays()}
    assert id(x) in ids
    assert id(x) in {id(a) for a in jaxel.live_arrays("cpu")}
    x.delete()
    assert id(x) not in {id(a) for a in jaxel.live_arrays()}


def test_print_environment_info(capsys):
    text = jaxel.print_environment_info(return_string=True)
    assert "jaxlib" in text and "numpy" in text and "python" in text
    assert jaxel.print_environment_info() is None
    assert capsys.readouterr().out.strip() == text.strip()


def test_environment_variable_sets_every_direction():
    import os
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    code = ("import jaxel; c = jaxel.config; print(c.jax_transfer_guard_host_to_device, "
            "c.jax_transfer_guard_device_to_host, c.jax_transfer_guard_device_to_device)")
    env = dict(os.environ, JAX_TRANSFER_GUARD="log", JAX_TRANSFER_GUARD_DEVICE_TO_HOST="disallow",
               PYTHONPATH=root)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.stdout.split() == ["log", "disallow", "log"], out.stderr


def test_sharded_transfers_match_jax():
    results = {}
    for lib in (jaxel, jax):
        mesh = lib.make_mesh((4,), ("x",))
        s = lib.sharding.NamedSharding(mesh, lib.sharding.PartitionSpec("x"))
        v = np.arange(8.0, dtype=np.float32)
        with lib.transfer_guard("disallow"):
            results[lib.__name__] = [
                _outcome(lambda: lib.device_put(v, s)),  # explicit
                _outcome(lambda: lib.jit(lambda a: a * 2, in_shardings=s)(v)),  # implicit
                _outcome(lambda: lib.jit(lambda a: a + 1)(lib.device_put(v, s))),
            ]
    assert results["jaxel"] == results["jax"] == ["ok", "JaxRuntimeError", "ok"]
