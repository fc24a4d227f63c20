"""Data parallelism over 4 CPU devices (the process is started with JAX_NUM_CPU_DEVICES=4).

* ``parallel.mlp_jit``: one SGD step of the train.mlp model (784-512-512-10, global batch 128)
  with the batch split over a 4-device ``'data'`` mesh axis and the parameters replicated:
  ``jit`` with NamedSharding inputs; XLA's partitioner inserts the gradient all-reduce.
* ``parallel.mlp_pmap``: the same step written with ``pmap`` (per-device batch of 32,
  gradients averaged with ``lax.pmean``), parameters replicated by the caller.
* ``parallel.psum``: latency of a jitted ``shard_map`` whose body is one ``lax.psum`` of a
  small block (4 floats per device) over the 4 devices: the cost of one collective round.

No PyTorch column (its multi-device CPU path is a different programming model).
"""
from __future__ import annotations

import numpy as np

from benchmarks import _libs
from benchmarks._timing import Case, NotAvailable, Row, Target, measure, prepare
from benchmarks.bench_train import LR, _host, _model

NAME = "parallel"
DEVICES = 4


def _mesh(lib):
    if len(lib.devices()) < DEVICES:
        raise NotAvailable(f"needs {DEVICES} devices; run with JAX_NUM_CPU_DEVICES={DEVICES}")
    return lib.sharding.Mesh(np.array(lib.devices()[:DEVICES]), ("data",))


def _jit_case(label):
    lib = _libs.load(label)
    jnp = _libs.load(f"{label}.numpy")
    mesh = _mesh(lib)
    P = lib.sharding.PartitionSpec
    batch = lib.sharding.NamedSharding(mesh, P("data"))
    repl = lib.sharding.NamedSharding(mesh, P())
    loss = _model(jnp)
    params, x, y = _host()
    params = lib.device_put(params, repl)
    x, y = lib.device_put(x, batch), lib.device_put(y, batch)

    @lib.jit
    def step(params, x, y):
        value, grads = lib.value_and_grad(loss)(params, x, y)
        return {k: params[k] - LR * grads[k] for k in params}, value

    box = {"p": params}

    def run():
        box["p"], v = step(box["p"], x, y)
        return v
    return Case(run)


def _pmap_case(label):
    lib = _libs.load(label)
    jnp = _libs.load(f"{label}.numpy")
    _mesh(lib)
    loss = _model(jnp)
    params, x, y = _host()
    per = x.shape[0] // DEVICES

    def step(params, x, y):
        value, grads = lib.value_and_grad(loss)(params, x, y)
        grads = lib.lax.pmean(grads, "data")
        return {k: params[k] - LR * grads[k] for k in params}, lib.lax.pmean(value, "data")

    devices = lib.devices()[:DEVICES]
    pstep = lib.pmap(step, axis_name="data", devices=devices)
    # Inputs placed on the devices once, as pmap lays them out (an identity pmap).
    place = lib.pmap(lambda a: a, devices=devices)
    xs, ys = place(x.reshape(DEVICES, per, -1)), place(y.reshape(DEVICES, per, -1))
    params = place({k: np.broadcast_to(v, (DEVICES,) + v.shape) for k, v in params.items()})
    box = {"p": params}

    def run():
        box["p"], v = pstep(box["p"], xs, ys)
        return v
    return Case(run)


def _psum_case(label):
    lib = _libs.load(label)
    mesh = _mesh(lib)
    P = lib.sharding.PartitionSpec
    f = lib.jit(lib.shard_map(lambda b: lib.lax.psum(b, "data"), mesh=mesh,
                              in_specs=P("data"), out_specs=P()))
    x = lib.device_put(np.arange(4 * DEVICES, dtype=np.float32),
                       lib.sharding.NamedSharding(mesh, P("data")))
    f(x).block_until_ready()
    return Case(lambda: f(x))


def run(opts) -> list:
    rep = 5 if opts.quick else 15
    rows = []
    specs = [
        ("parallel.mlp_jit", "jit+NamedSharding SGD step, 4 devices", "ms", _jit_case, 5, 20),
        ("parallel.mlp_pmap", "pmap SGD step (pmean grads), 4 dev", "ms", _pmap_case, 5, 20),
        ("parallel.psum", "jit(shard_map(psum)), 4 devices", "us", _psum_case, 200, 1000),
    ]
    for name, what, unit, make, quick_n, full_n in specs:
        if not opts.wants(name):
            continue
        cases = {"jaxel": prepare(make, "jaxel"), "jax": prepare(make, "jax")}
        results = measure(cases, number=quick_n if opts.quick else full_n, repeat=rep,
                          warmup=2)
        results["torch"] = None
        rows.append(Row(name, what, unit, results, Target(ratio=1.0)))
    return rows
