"""A small transformer's compiled training step: ``jit`` of SGD on ``value_and_grad``.

Decoder-only, pre-layernorm: vocabulary 256, 2 layers, model width 128, 4 heads, MLP width
512, sequence 64, batch 8, causal attention, next-token cross-entropy. Parameters are a dict
of arrays; the whole step (forward, backward, update) is one jitted function.

* ``transformer.step``: the step (target: at least as fast as JAX).
* ``transformer.forward``: the jitted loss alone (information: separates backward cost).

PyTorch column: the same model in ``torch.nn.functional`` code, eager forward + backward + SGD.
"""
from __future__ import annotations

import numpy as np

from benchmarks import _libs
from benchmarks._timing import Case, Row, Target, measure, prepare

NAME = "transformer"
VOCAB, LAYERS, D, HEADS, HIDDEN, SEQ, BATCH = 256, 2, 128, 4, 512, 64, 8
LR = 0.01


def _host():
    rng = np.random.default_rng(0)

    def w(*shape):
        return (rng.standard_normal(shape) / np.sqrt(shape[0])).astype(np.float32)

    p = {"embed": w(VOCAB, D), "pos": w(SEQ, D) * 0.1, "out": w(D, VOCAB),
         "lnf_g": np.ones(D, np.float32), "lnf_b": np.zeros(D, np.float32)}
    for i in range(LAYERS):
        p.update({f"qkv{i}": w(D, 3 * D), f"proj{i}": w(D, D), f"fc{i}": w(D, HIDDEN),
                  f"fc_b{i}": np.zeros(HIDDEN, np.float32), f"mlp_out{i}": w(HIDDEN, D),
                  f"ln1_g{i}": np.ones(D, np.float32), f"ln1_b{i}": np.zeros(D, np.float32),
                  f"ln2_g{i}": np.ones(D, np.float32), f"ln2_b{i}": np.zeros(D, np.float32)})
    tokens = rng.integers(0, VOCAB, (BATCH, SEQ + 1))
    return p, tokens[:, :-1].astype(np.int32), tokens[:, 1:].astype(np.int32)


def _model(lib, jnp):
    """The loss as NumPy-style code shared by jaxel and JAX (softmax and gelu written out, so
    both libraries run the same formulas)."""
    mask = np.tril(np.ones((SEQ, SEQ), bool))

    def layernorm(x, g, b):
        mu = jnp.mean(x, axis=-1, keepdims=True)
        var = jnp.mean((x - mu) ** 2, axis=-1, keepdims=True)
        return (x - mu) / jnp.sqrt(var + 1e-5) * g + b

    def softmax(s):
        s = s - jnp.max(s, axis=-1, keepdims=True)
        e = jnp.exp(s)
        return e / jnp.sum(e, axis=-1, keepdims=True)

    def log_softmax(s):
        s = s - jnp.max(s, axis=-1, keepdims=True)
        return s - jnp.log(jnp.sum(jnp.exp(s), axis=-1, keepdims=True))

    def gelu(x):  # tanh approximation, as jax.nn.gelu's default
        return 0.5 * x * (1 + jnp.tanh(0.7978845608 * (x + 0.044715 * x ** 3)))

    def attention(x, p, i):
        qkv = x @ p[f"qkv{i}"]
        q, k, v = jnp.split(qkv, 3, axis=-1)
        split = lambda t: t.reshape(BATCH, SEQ, HEADS, D // HEADS).transpose(0, 2, 1, 3)
        q, k, v = split(q), split(k), split(v)
        s = jnp.einsum("bhqd,bhkd->bhqk", q, k) / np.sqrt(D // HEADS)
        s = jnp.where(mask, s, -1e9)
        a = softmax(s)
        o = jnp.einsum("bhqk,bhkd->bhqd", a, v).transpose(0, 2, 1, 3).reshape(BATCH, SEQ, D)
        return o @ p[f"proj{i}"]

    def loss(p, inputs, targets):
        x = p["embed"][inputs] + p["pos"]
        for i in range(LAYERS):
            x = x + attention(layernorm(x, p[f"ln1_g{i}"], p[f"ln1_b{i}"]), p, i)
            h = layernorm(x, p[f"ln2_g{i}"], p[f"ln2_b{i}"])
            h = gelu(h @ p[f"fc{i}"] + p[f"fc_b{i}"])
            x = x + h @ p[f"mlp_out{i}"]
        logits = layernorm(x, p["lnf_g"], p["lnf_b"]) @ p["out"]
        logp = log_softmax(logits)
        picked = jnp.take_along_axis(logp, targets[..., None], axis=-1)
        return -jnp.mean(picked)
    return loss


def _setup(label):
    lib = _libs.load(label)
    jnp = _libs.load(f"{label}.numpy")
    p, inputs, targets = _host()
    p = {k: jnp.asarray(v) for k, v in p.items()}
    return lib, _model(lib, jnp), p, jnp.asarray(inputs), jnp.asarray(targets)


def _step_case(label):
    lib, loss, p, inputs, targets = _setup(label)

    @lib.jit
    def step(p, inputs, targets):
        value, grads = lib.value_and_grad(loss)(p, inputs, targets)
        return {k: p[k] - LR * grads[k] for k in p}, value

    box = {"p": p}

    def run():
        box["p"], v = step(box["p"], inputs, targets)
        return v
    return Case(run)


def _forward_case(label):
    lib, loss, p, inputs, targets = _setup(label)
    f = lib.jit(loss)
    return Case(lambda: f(p, inputs, targets))


def _torch_step_case():
    torch = _libs.load("torch")
    F = torch.nn.functional
    host, inputs, targets = _host()
    p = {k: torch.from_numpy(v.copy()).requires_grad_(True) for k, v in host.items()}
    inputs = torch.from_numpy(inputs).long()
    targets = torch.from_numpy(targets).long()
    mask = torch.tril(torch.ones(SEQ, SEQ, dtype=torch.bool))

    def loss():
        x = p["embed"][inputs] + p["pos"]
        for i in range(LAYERS):
            h = F.layer_norm(x, (D,), p[f"ln1_g{i}"], p[f"ln1_b{i}"])
            q, k, v = (h @ p[f"qkv{i}"]).split(D, dim=-1)
            split = lambda t: t.reshape(BATCH, SEQ, HEADS, D // HEADS).transpose(1, 2)
            s = split(q) @ split(k).transpose(-1, -2) / np.sqrt(D // HEADS)
            a = torch.softmax(s.masked_fill(~mask, -1e9), dim=-1)
            o = (a @ split(v)).transpose(1, 2).reshape(BATCH, SEQ, D)
            x = x + o @ p[f"proj{i}"]
            h = F.layer_norm(x, (D,), p[f"ln2_g{i}"], p[f"ln2_b{i}"])
            x = x + F.gelu(h @ p[f"fc{i}"] + p[f"fc_b{i}"], approximate="tanh") @ p[f"mlp_out{i}"]
        logits = F.layer_norm(x, (D,), p["lnf_g"], p["lnf_b"]) @ p["out"]
        return F.cross_entropy(logits.reshape(-1, VOCAB), targets.reshape(-1))

    def run():
        value = loss()
        grads = torch.autograd.grad(value, list(p.values()))
        with torch.no_grad():
            for t, g in zip(p.values(), grads):
                t -= LR * g
        return value
    return Case(run)


def run(opts) -> list:
    rep = 5 if opts.quick else 15
    number = 3 if opts.quick else 10
    rows = []
    specs = [
        ("transformer.step", "jit(SGD step(value_and_grad)), transformer", Target(ratio=1.0),
         _step_case, _torch_step_case),
        ("transformer.forward", "jit(loss), same transformer", None, _forward_case, None),
    ]
    for name, what, target, make, make_torch in specs:
        if not opts.wants(name):
            continue
        cases = {"jaxel": prepare(make, "jaxel"), "jax": prepare(make, "jax")}
        if make_torch is not None:
            cases["torch"] = prepare(make_torch)
        results = measure(cases, number=number, repeat=rep, warmup=2)
        results.setdefault("torch", None)
        rows.append(Row(name, what, "ms", results, target))
    return rows
