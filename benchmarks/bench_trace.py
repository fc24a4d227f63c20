"""Tracing and compiling a 100-layer unrolled MLP (width 64, batch 8).

``x = tanh(dot(x, w_i) + b_i)`` for 100 layers, with the weights passed as lists (so 201 array
arguments). Rows:

* ``make_jaxpr``: Python function -> jaxpr (the target: at most half of JAX's time).
* ``make_jaxpr_lax``: the same with ``lax.dot_general`` instead of ``jnp.dot`` (information:
  separates the NumPy layer's cost, and still runs before ``jnp.dot`` exists).
* ``jit_grad``: ``jit(grad(sum(mlp))).trace(...)``: tracing the reverse-mode program (target:
  at most half of JAX's time).
* ``lower``: ``jit(f).lower(...)``: trace + lower to StableHLO (information).
* ``compile``: ``lowered.compile()``: XLA compilation (information).
* ``first_call``: the first call of a fresh ``jit(f)``: trace, lower, compile, run.

Every repeat traces a *new* function object, so no per-function trace cache can answer; caches
of the library's own building blocks (e.g. JAX's jitted ``jnp`` functions) stay warm, as they
would in a real program. jaxel's compile cache is keyed by program text, so for the compile and
first-call rows it is emptied before each repeat (untimed); JAX has no such in-memory cache.
"""
from __future__ import annotations

import numpy as np

from benchmarks import _libs
from benchmarks._timing import Case, Row, Target, measure, no_sync, prepare

NAME = "trace"
LAYERS, WIDTH, BATCH = 100, 64, 8
TARGET = Target(ratio=0.5)  # issue target: make_jaxpr at most half of JAX's time


def _host_inputs():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, WIDTH), dtype=np.float32)
    ws = [rng.standard_normal((WIDTH, WIDTH), dtype=np.float32) * 0.1 for _ in range(LAYERS)]
    bs = [rng.standard_normal((WIDTH,), dtype=np.float32) * 0.1 for _ in range(LAYERS)]
    return x, ws, bs


def _mlp_factory(jnp, lax, use_lax):
    """Returns a function that makes a *fresh* MLP function object on every call."""
    dims = (((1,), (0,)), ((), ()))

    def make():
        if use_lax:
            def mlp(x, ws, bs):
                for w, b in zip(ws, bs):
                    x = jnp.tanh(lax.dot_general(x, w, dims) + b)
                return x
        else:
            def mlp(x, ws, bs):
                for w, b in zip(ws, bs):
                    x = jnp.tanh(jnp.dot(x, w) + b)
                return x
        return mlp
    return make


class _Fresh:
    """Holds the current fresh function (and keeps old ones alive so ids are never reused,
    which could let an identity-keyed cache hit by accident)."""

    def __init__(self, make):
        self.make = make
        self.current = None
        self._keep = []

    def renew(self):
        self.current = self.make()
        self._keep.append(self.current)
        return self.current


def _lib(label):
    lib = _libs.load(label)
    jnp = _libs.load(f"{label}.numpy")
    lax = _libs.load(f"{label}.lax")
    x, ws, bs = _host_inputs()
    args = (jnp.asarray(x), [jnp.asarray(w) for w in ws], [jnp.asarray(b) for b in bs])
    return lib, jnp, lax, args


def _clear_compile_cache(label):
    if label == "jaxel":
        from jaxel.runtime import compile_cache
        compile_cache.clear_all()


def _make_jaxpr_case(label, use_lax=False):
    lib, jnp, lax, args = _lib(label)
    fresh = _Fresh(_mlp_factory(jnp, lax, use_lax))
    return Case(lambda: lib.make_jaxpr(fresh.current)(*args), sync=no_sync, before=fresh.renew)


def _jit_grad_trace_case(label):
    """``jit(grad(loss)).trace``: tracing the differentiated program (JVP, partial evaluation
    and transposition of all 100 layers), with respect to every weight and bias."""
    lib, jnp, lax, args = _lib(label)
    make_mlp = _mlp_factory(jnp, lax, False)

    def make():
        mlp = make_mlp()
        return lambda x, ws, bs: jnp.sum(mlp(x, ws, bs))
    fresh = _Fresh(make)
    return Case(lambda: lib.jit(lib.grad(fresh.current, argnums=(1, 2))).trace(*args),
                sync=no_sync, before=fresh.renew)


def _lower_case(label):
    lib, jnp, lax, args = _lib(label)
    fresh = _Fresh(_mlp_factory(jnp, lax, False))
    return Case(lambda: lib.jit(fresh.current).lower(*args), sync=no_sync, before=fresh.renew)


def _compile_case(label):
    lib, jnp, lax, args = _lib(label)
    fresh = _Fresh(_mlp_factory(jnp, lax, False))
    box = {}

    def before():
        box["lowered"] = lib.jit(fresh.renew()).lower(*args)
        _clear_compile_cache(label)
    return Case(lambda: box["lowered"].compile(), sync=no_sync, before=before)


def _first_call_case(label):
    lib, jnp, lax, args = _lib(label)
    fresh = _Fresh(_mlp_factory(jnp, lax, False))
    box = {}

    def before():
        box["f"] = lib.jit(fresh.renew())
        _clear_compile_cache(label)
    return Case(lambda: box["f"](*args), before=before)


def _torch_make_fx_case():
    """``make_fx`` with fake tensors: PyTorch's shape-only tracing to an aten graph, the
    closest analogue of ``make_jaxpr``."""
    torch = _libs.load("torch")
    from torch.fx.experimental.proxy_tensor import make_fx
    x, ws, bs = _host_inputs()
    args = (torch.from_numpy(x), [torch.from_numpy(w) for w in ws],
            [torch.from_numpy(b) for b in bs])

    def make():
        def mlp(x, ws, bs):
            for w, b in zip(ws, bs):
                x = torch.tanh(torch.matmul(x, w) + b)
            return x
        return mlp
    fresh = _Fresh(make)
    return Case(lambda: make_fx(fresh.current, tracing_mode="fake")(*args), sync=no_sync,
                before=fresh.renew)


def run(opts) -> list:
    trace_rep = 3 if opts.quick else 9
    compile_rep = 2 if opts.quick else 5
    rows = []
    specs = [
        ("trace.make_jaxpr", "make_jaxpr, 100-layer MLP", trace_rep, TARGET,
         lambda label: _make_jaxpr_case(label), _torch_make_fx_case),
        ("trace.make_jaxpr_lax", "same, lax.dot_general", trace_rep, None,
         lambda label: _make_jaxpr_case(label, use_lax=True), None),
        ("trace.jit_grad", "jit(grad(loss)).trace, same MLP", trace_rep, TARGET,
         _jit_grad_trace_case, None),
        ("trace.lower", "jit(f).lower (trace+lower)", trace_rep, None, _lower_case, None),
        ("trace.compile", "lowered.compile() (XLA)", compile_rep, None, _compile_case, None),
        ("trace.first_call", "first call of fresh jit(f)", compile_rep, None, _first_call_case,
         None),
    ]
    for name, what, rep, target, make, make_torch in specs:
        if not opts.wants(name):
            continue
        cases = {"jaxel": prepare(make, "jaxel"), "jax": prepare(make, "jax"),
                 "torch": prepare(make_torch) if make_torch else None}
        if cases["torch"] is None:
            del cases["torch"]
        results = measure(cases, number=1, repeat=rep, warmup=1)
        results.setdefault("torch", None)
        row = Row(name, what, "ms", results, target)
        if make_torch and opts.verbose:
            row.notes.append("torch column: torch.fx make_fx(tracing_mode='fake')")
        rows.append(row)
    return rows
