"""Random numbers: JAX's Threefry streams, drawn eagerly and under jit.

* ``random.normal_jit``: ``jit(lambda k: normal(k, (1_000_000,)))``: the fused Threefry +
  uniform + erf_inv program (throughput of the generated code).
* ``random.normal_eager``: ``normal(key, (1_000_000,))`` called directly (argument checks plus
  one cached compiled program per call).
* ``random.split``: ``split(key, 1000)`` eagerly (per-call overhead of the key layer).

PyTorch column (normal rows): ``torch.randn(1_000_000)`` (a different generator, Philox on GPU /
MT on CPU; for scale only).
"""
from __future__ import annotations

from benchmarks import _libs
from benchmarks._timing import Case, Row, Target, measure, prepare

NAME = "random"
N = 1_000_000


def _normal_jit_case(label):
    lib = _libs.load(label)
    random = _libs.load(f"{label}.random")
    k = random.key(0)
    f = lib.jit(lambda k: random.normal(k, (N,)))
    return Case(lambda: f(k))


def _normal_eager_case(label):
    random = _libs.load(f"{label}.random")
    k = random.key(0)
    return Case(lambda: random.normal(k, (N,)))


def _split_case(label):
    random = _libs.load(f"{label}.random")
    k = random.key(0)
    return Case(lambda: random.split(k, 1000))


def _torch_normal_case():
    torch = _libs.load("torch")
    g = torch.Generator().manual_seed(0)
    return Case(lambda: torch.randn(N, generator=g))


def run(opts) -> list:
    rows = []
    number, repeat = (5, 5) if opts.quick else (20, 15)
    name = "random.normal_jit"
    if opts.wants(name):
        cases = {"jaxel": prepare(_normal_jit_case, "jaxel"),
                 "jax": prepare(_normal_jit_case, "jax"), "torch": prepare(_torch_normal_case)}
        rows.append(Row(name, "jit normal(key, (1e6,)) f32", "ms",
                        measure(cases, number=number, repeat=repeat, warmup=2), Target(ratio=1.0)))
    name = "random.normal_eager"
    if opts.wants(name):
        cases = {"jaxel": prepare(_normal_eager_case, "jaxel"),
                 "jax": prepare(_normal_eager_case, "jax"), "torch": prepare(_torch_normal_case)}
        rows.append(Row(name, "normal(key, (1e6,)) f32, eager", "ms",
                        measure(cases, number=number, repeat=repeat, warmup=2), Target(ratio=1.0)))
    name = "random.split"
    if opts.wants(name):
        cases = {"jaxel": prepare(_split_case, "jaxel"), "jax": prepare(_split_case, "jax")}
        results = measure(cases, number=20 if opts.quick else 200, repeat=repeat, warmup=2)
        results.setdefault("torch", None)
        rows.append(Row(name, "split(key, 1000), eager", "us", results, Target(ratio=1.0)))
    return rows


if __name__ == "__main__":
    # Run this module alone (it need not be listed in benchmarks/__init__.py for that).
    import argparse
    import importlib.util

    from benchmarks.__main__ import Options, _header, print_row
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_random")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", action="append")
    ap.add_argument("--verbose", "-v", action="store_true")
    ap.add_argument("--no-torch", action="store_true")
    a = ap.parse_args()
    if a.no_torch or importlib.util.find_spec("torch") is None:
        _libs.disable("torch", "skipped")
    o = Options(a)
    _header(o)
    for row in run(o):
        print_row(row, o.verbose)
