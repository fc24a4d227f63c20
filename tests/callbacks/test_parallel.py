"""Callbacks in pmap and shard_map programs (8 CPU devices, conftest): each device's part runs
the callback on its own block; compared with JAX 0.12.1."""
import numpy as np

from tests.callbacks.oracle import JAX, JAXEL, printed

import jax
import jaxel


def test_pmap_debug_print_each_device(capsys):
    def run(a):
        pm = jaxel.pmap if a is JAXEL else jax.pmap
        return pm(lambda x: (a["debug"].print("dev {}", x), x * 2)[1])(a["np"].arange(4.0))
    ours, theirs, r1, r2 = printed(capsys, run)
    assert sorted(ours) == sorted(theirs) == ["dev 0.0", "dev 1.0", "dev 2.0", "dev 3.0"]
    np.testing.assert_array_equal(r1, r2)


def test_shard_map_print_and_pure_callback(capsys):
    def run(a):
        lib = jaxel if a is JAXEL else jax
        mesh = lib.sharding.Mesh(np.array(lib.devices()[:4]), ("i",))
        P = lib.sharding.PartitionSpec

        def body(x):
            a["debug"].print("block {}", x)
            return a["pure_callback"](lambda v: v * 10, a["S"](x.shape, x.dtype), x)
        f = lib.shard_map(body, mesh=mesh, in_specs=P("i"), out_specs=P("i"))
        return a["jit"](f)(a["np"].arange(8.0))
    ours, theirs, r1, r2 = printed(capsys, run)
    assert sorted(ours) == sorted(theirs)
    assert len(ours) == 4
    np.testing.assert_array_equal(r1, np.arange(8.0) * 10)
    np.testing.assert_array_equal(r1, r2)
