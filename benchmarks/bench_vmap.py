"""Vectorisation: per-example gradients with ``jit(vmap(grad(loss)))``.

* ``vmap.per_example_grads``: 256 examples x 512 features through an MLP 512-64-10 (tanh,
  softmax cross-entropy); one call returns every example's gradient for every parameter.
* ``vmap.eager``: ``vmap`` without jit of a small per-row function (matmul, tanh, sum) over 64
  rows: the batching interpreter's own overhead, op by op (information).

PyTorch column: ``torch.func.vmap(torch.func.grad(loss))`` over the same model (eager).
"""
from __future__ import annotations

import numpy as np

from benchmarks import _libs
from benchmarks._timing import Case, Row, Target, measure, prepare

NAME = "vmap"
EXAMPLES, FEATURES, HIDDEN, CLASSES = 256, 512, 64, 10


def _host():
    rng = np.random.default_rng(0)
    params = {"w0": (rng.standard_normal((FEATURES, HIDDEN)) / np.sqrt(FEATURES)).astype(np.float32),
              "b0": np.zeros(HIDDEN, np.float32),
              "w1": (rng.standard_normal((HIDDEN, CLASSES)) / np.sqrt(HIDDEN)).astype(np.float32),
              "b1": np.zeros(CLASSES, np.float32)}
    x = rng.standard_normal((EXAMPLES, FEATURES)).astype(np.float32)
    y = np.eye(CLASSES, dtype=np.float32)[rng.integers(0, CLASSES, EXAMPLES)]
    return params, x, y


def _loss(jnp):
    def loss(params, x, y):  # one example
        h = jnp.tanh(jnp.dot(x, params["w0"]) + params["b0"])
        logits = jnp.dot(h, params["w1"]) + params["b1"]
        logits = logits - jnp.max(logits)
        logp = logits - jnp.log(jnp.sum(jnp.exp(logits)))
        return -jnp.sum(logp * y)
    return loss


def _case(label):
    lib = _libs.load(label)
    jnp = _libs.load(f"{label}.numpy")
    params, x, y = _host()
    params = {k: jnp.asarray(v) for k, v in params.items()}
    x, y = jnp.asarray(x), jnp.asarray(y)
    per_example = lib.jit(lib.vmap(lib.grad(_loss(jnp)), in_axes=(None, 0, 0)))
    return Case(lambda: per_example(params, x, y))


def _torch_case():
    torch = _libs.load("torch")
    from torch.func import grad, vmap
    params, x, y = _host()
    ps = {k: torch.from_numpy(v.copy()) for k, v in params.items()}
    x, y = torch.from_numpy(x), torch.from_numpy(y)

    def loss(p, xi, yi):
        h = torch.tanh(xi @ p["w0"] + p["b0"])
        logp = torch.log_softmax(h @ p["w1"] + p["b1"], dim=-1)
        return -(logp * yi).sum()
    f = vmap(grad(loss), in_dims=(None, 0, 0))
    return Case(lambda: f(ps, x, y))


def _eager_case(label):
    lib = _libs.load(label)
    jnp = _libs.load(f"{label}.numpy")
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.standard_normal((64, 32)).astype(np.float32))
    w = jnp.asarray(rng.standard_normal((32, 16)).astype(np.float32))
    f = lib.vmap(lambda r, w: jnp.sum(jnp.tanh(jnp.dot(r, w))), in_axes=(0, None))
    return Case(lambda: f(x, w))


def run(opts) -> list:
    rows = []
    name = "vmap.per_example_grads"
    if opts.wants(name):
        cases = {"jaxel": prepare(_case, "jaxel"), "jax": prepare(_case, "jax"),
                 "torch": prepare(_torch_case)}
        results = measure(cases, number=5 if opts.quick else 20, repeat=5 if opts.quick else 15,
                          warmup=2)
        rows.append(Row(name, "jit(vmap(grad)), 256 ex x 512 feat", "ms", results,
                        Target(ratio=1.0)))
    name = "vmap.eager"
    if opts.wants(name):
        cases = {"jaxel": prepare(_eager_case, "jaxel"), "jax": prepare(_eager_case, "jax")}
        results = measure(cases, number=5 if opts.quick else 20, repeat=5 if opts.quick else 15,
                          warmup=2)
        results.setdefault("torch", None)
        rows.append(Row(name, "vmap (no jit) of matmul-tanh-sum, 64 rows", "us", results, None))
    return rows
