"""Compiled training steps: ``jit`` of a full SGD step built on ``value_and_grad``.

* ``train.mlp``: MLP 784-512-512-10 (tanh), batch 128, softmax cross-entropy; the step computes
  loss and gradients and applies SGD, all in one jitted function (parameters in a dict).
* ``train.mlp_grad_eager``: the same gradient *without* jit (information: eager autodiff cost).

PyTorch column: the same model as ``torch.nn.functional`` code, forward + backward + in-place
SGD per step (its eager mode; no torch.compile).
"""
from __future__ import annotations

import numpy as np

from benchmarks import _libs
from benchmarks._timing import Case, Row, Target, measure, prepare

NAME = "train"
SIZES = (784, 512, 512, 10)
BATCH = 128
LR = 0.01


def _host():
    rng = np.random.default_rng(0)
    params = {}
    for i, (m, n) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        params[f"w{i}"] = (rng.standard_normal((m, n)) / np.sqrt(m)).astype(np.float32)
        params[f"b{i}"] = np.zeros(n, np.float32)
    x = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    labels = rng.integers(0, SIZES[-1], BATCH)
    y = np.eye(SIZES[-1], dtype=np.float32)[labels]
    return params, x, y


def _model(jnp):
    def loss(params, x, y):
        h = x
        n = len(SIZES) - 1
        for i in range(n):
            h = jnp.dot(h, params[f"w{i}"]) + params[f"b{i}"]
            if i < n - 1:
                h = jnp.tanh(h)
        h = h - jnp.max(h, axis=1, keepdims=True)
        logp = h - jnp.log(jnp.sum(jnp.exp(h), axis=1, keepdims=True))
        return -jnp.mean(jnp.sum(logp * y, axis=1))
    return loss


def _step_case(label):
    lib = _libs.load(label)
    jnp = _libs.load(f"{label}.numpy")
    loss = _model(jnp)
    params, x, y = _host()
    params = {k: jnp.asarray(v) for k, v in params.items()}
    x, y = jnp.asarray(x), jnp.asarray(y)

    @lib.jit
    def step(params, x, y):
        value, grads = lib.value_and_grad(loss)(params, x, y)
        new = {k: params[k] - LR * grads[k] for k in params}
        return new, value

    box = {"p": params}

    def run():
        box["p"], v = step(box["p"], x, y)
        return v
    return Case(run)


def _eager_grad_case(label):
    lib = _libs.load(label)
    jnp = _libs.load(f"{label}.numpy")
    loss = _model(jnp)
    params, x, y = _host()
    params = {k: jnp.asarray(v) for k, v in params.items()}
    x, y = jnp.asarray(x), jnp.asarray(y)
    g = lib.grad(loss)
    return Case(lambda: g(params, x, y))


def _torch_step_case():
    torch = _libs.load("torch")
    params, x, y = _host()
    ps = {k: torch.from_numpy(v.copy()).requires_grad_(True) for k, v in params.items()}
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    n = len(SIZES) - 1

    def run():
        h = x
        for i in range(n):
            h = h @ ps[f"w{i}"] + ps[f"b{i}"]
            if i < n - 1:
                h = torch.tanh(h)
        logp = torch.log_softmax(h, dim=1)
        loss = -(logp * y).sum(dim=1).mean()
        grads = torch.autograd.grad(loss, list(ps.values()))
        with torch.no_grad():
            for p, g in zip(ps.values(), grads):
                p -= LR * g
        return loss
    return Case(run)


def run(opts) -> list:
    rep = 5 if opts.quick else 15
    number = 5 if opts.quick else 20
    rows = []
    specs = [
        ("train.mlp", "jit(SGD step(value_and_grad)), MLP", Target(ratio=1.0), _step_case,
         _torch_step_case),
        ("train.mlp_grad_eager", "grad(loss) eagerly, same MLP", None, _eager_grad_case, None),
    ]
    for name, what, target, make, make_torch in specs:
        if not opts.wants(name):
            continue
        cases = {"jaxel": prepare(make, "jaxel"), "jax": prepare(make, "jax")}
        if make_torch is not None:
            cases["torch"] = prepare(make_torch)
        results = measure(cases, number=number if target else 2, repeat=rep, warmup=2)
        results.setdefault("torch", None)
        rows.append(Row(name, what, "ms", results, target))
    return rows
