"""jaxel never imports the ``jax`` package, not even through jaxlib's C++ callbacks into Python.

jaxlib's device-to-host copy and DLPack import ask Python for ``jax.core`` and
``jax._src.sharding_impls``; with JAX installed (as in this test environment) that loads JAX's 200+
modules. The workload below runs in a fresh interpreter so nothing else imported JAX first.
"""
import os
import subprocess
import sys
import textwrap

import pytest

WORKLOAD = textwrap.dedent("""
    import pickle, sys
    import numpy as np
    import jaxel, jaxel.numpy as jnp
    from jaxel import lax, random

    x = jnp.arange(6.0).reshape(2, 3)
    y = jnp.sin(x) * 2 + 1                                  # eager ops
    f = jaxel.jit(lambda a: (a @ a.T).sum())
    g = jaxel.grad(f)(x)                                    # jit + grad
    v = jaxel.vmap(lambda r: jnp.dot(r, r))(x)              # vmap
    k = random.split(random.key(0))
    n = random.normal(random.PRNGKey(1), (4,))              # random
    s = lax.fori_loop(0, 3, lambda i, c: c + i, 0.0)
    for value in (y, g, v, n, s, random.key_data(k)):
        np.asarray(value)                                   # device-to-host copies
    print(y, repr(g), f"{s:.2f}", str(v))                   # printing
    z = pickle.loads(pickle.dumps(y))                       # pickling
    assert np.allclose(np.asarray(z), np.asarray(y))
    x.copy_to_host_async()
    jaxel.device_put(x, jaxel.devices()[0]).block_until_ready()
    np.asarray(jaxel.dlpack.from_dlpack(np.ones(3)))        # DLPack both ways
    np.from_dlpack(y)
    np.asarray(jnp.array([1, -2], dtype=jnp.int4))          # sub-byte read-back path
    from jaxel.sharding import NamedSharding, P             # arrays over several devices
    mesh = jaxel.make_mesh((2, 2), ("a", "b"))
    sx = jaxel.device_put(np.arange(8.0).reshape(4, 2), NamedSharding(mesh, P("a")))
    sy = jaxel.jit(lambda a: a * 2, out_shardings=NamedSharding(mesh, P(None, "b")))(sx)
    print(sy, [np.asarray(s.data) for s in (jnp.sin(sx) + 1).addressable_shards])
    jaxel.device_put(sy, NamedSharding(mesh, P("b")))
    loaded = sorted(m for m in sys.modules if m == "jax" or m.startswith("jax."))
    print("JAX MODULES:", loaded)
""")


def test_jaxel_never_imports_jax():
    pytest.importorskip("jax")  # the test only means something where jax could be imported
    out = subprocess.run([sys.executable, "-c", WORKLOAD], capture_output=True, text=True,
                         timeout=300, env={**os.environ, "JAX_NUM_CPU_DEVICES": "4"})
    assert out.returncode == 0, out.stderr[-3000:]
    assert "JAX MODULES: []" in out.stdout, out.stdout[-2000:]
