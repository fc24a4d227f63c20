"""Control flow: compiled loops (``lax.scan``, ``lax.fori_loop``) against Python unrolling.

* ``control.rk4_scan``: RK4 integration of a 64-body gravitational system (softened), 500 steps
  in one jitted ``scan`` (the kinetic energy of every step is a stacked ``y``): the run time of
  the compiled loop.
* ``control.fori_compile``: the first call of a fresh ``jit`` of ``fori_loop(0, 10_000, sin
  step)``: tracing the body once, lowering to a while loop, XLA compilation and the run. jaxel's
  compile cache (keyed by program text) is emptied before each repeat, as for
  ``trace.first_call``.
* ``control.unrolled_trace``: ``make_jaxpr`` of the same body unrolled by a Python loop, 1,000
  ``sin`` steps (a fresh function each repeat): the per-equation cost of tracing, which is what
  a ``scan`` avoids.
"""
from __future__ import annotations

import numpy as np

from benchmarks import _libs
from benchmarks._timing import Case, Row, Target, measure, no_sync, prepare

NAME = "control"
BODIES, STEPS, DT, SOFT = 64, 500, 1e-3, 1e-2
FORI_STEPS, UNROLLED_STEPS = 10_000, 1_000


def _host_state():
    rng = np.random.default_rng(0)
    pos = rng.standard_normal((BODIES, 3)).astype(np.float32)
    vel = (rng.standard_normal((BODIES, 3)) * 0.1).astype(np.float32)
    mass = rng.uniform(0.5, 1.5, BODIES).astype(np.float32)
    return pos, vel, mass


def _rk4(lib):
    jnp, lax = lib.numpy, lib.lax

    def accel(pos, mass):
        d = pos[None, :, :] - pos[:, None, :]              # d[i, j] = p_j - p_i
        r2 = jnp.sum(d * d, axis=-1) + SOFT
        w = mass[None, :] * r2 ** -1.5
        return jnp.sum(d * w[:, :, None], axis=1)

    def deriv(state, mass):
        pos, vel = state
        return vel, accel(pos, mass)

    def step(state, mass):
        def add(s, k, h):
            return (s[0] + h * k[0], s[1] + h * k[1])
        k1 = deriv(state, mass)
        k2 = deriv(add(state, k1, DT / 2), mass)
        k3 = deriv(add(state, k2, DT / 2), mass)
        k4 = deriv(add(state, k3, DT), mass)
        pos = state[0] + DT / 6 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0])
        vel = state[1] + DT / 6 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1])
        return pos, vel

    def integrate(pos, vel, mass):
        def body(state, _):
            new = step(state, mass)
            return new, 0.5 * jnp.sum(mass * jnp.sum(new[1] ** 2, axis=-1))
        return lax.scan(body, (pos, vel), None, length=STEPS)

    return lib.jit(integrate)


def _rk4_case(label):
    lib = _libs.load(label)
    jnp = _libs.load(f"{label}.numpy")
    pos, vel, mass = (jnp.asarray(a) for a in _host_state())
    f = _rk4(lib)
    return Case(lambda: f(pos, vel, mass))


def _clear_compile_cache(label):
    if label == "jaxel":
        from jaxel.runtime import compile_cache
        compile_cache.clear_all()


class _Fresh:
    """A new function object per repeat (kept alive so ids are never reused)."""

    def __init__(self, make):
        self.make = make
        self.current = None
        self._keep = []

    def renew(self):
        self.current = self.make()
        self._keep.append(self.current)
        return self.current


def _fori_compile_case(label):
    lib = _libs.load(label)
    jnp = _libs.load(f"{label}.numpy")
    lax = _libs.load(f"{label}.lax")
    x = jnp.asarray(np.linspace(0.1, 1.0, 16, dtype=np.float32))

    def make():
        def body(i, v):
            return jnp.sin(v)
        return lambda v: lax.fori_loop(0, FORI_STEPS, body, v)
    fresh = _Fresh(make)
    box = {}

    def before():
        box["f"] = lib.jit(fresh.renew())
        _clear_compile_cache(label)
    return Case(lambda: box["f"](x), before=before)


def _unrolled_trace_case(label):
    lib = _libs.load(label)
    jnp = _libs.load(f"{label}.numpy")
    x = jnp.asarray(np.linspace(0.1, 1.0, 16, dtype=np.float32))

    def make():
        def f(v):
            for _ in range(UNROLLED_STEPS):
                v = jnp.sin(v)
            return v
        return f
    fresh = _Fresh(make)
    return Case(lambda: lib.make_jaxpr(fresh.current)(x), sync=no_sync, before=fresh.renew)


def run(opts) -> list:
    rows = []
    name = "control.rk4_scan"
    if opts.wants(name):
        cases = {"jaxel": prepare(_rk4_case, "jaxel"), "jax": prepare(_rk4_case, "jax")}
        results = measure(cases, number=2 if opts.quick else 5, repeat=3 if opts.quick else 9,
                          warmup=1)
        results.setdefault("torch", None)
        rows.append(Row(name, f"jit scan, RK4 {BODIES}-body, {STEPS} steps", "ms", results,
                        Target(ratio=1.0)))
    name = "control.fori_compile"
    if opts.wants(name):
        cases = {"jaxel": prepare(_fori_compile_case, "jaxel"),
                 "jax": prepare(_fori_compile_case, "jax")}
        results = measure(cases, number=1, repeat=2 if opts.quick else 5, warmup=1)
        results.setdefault("torch", None)
        rows.append(Row(name, f"first call, jit(fori_loop) {FORI_STEPS} sin", "ms", results,
                        Target(ratio=1.0)))
    name = "control.unrolled_trace"
    if opts.wants(name):
        cases = {"jaxel": prepare(_unrolled_trace_case, "jaxel"),
                 "jax": prepare(_unrolled_trace_case, "jax")}
        results = measure(cases, number=1, repeat=3 if opts.quick else 9, warmup=1)
        results.setdefault("torch", None)
        rows.append(Row(name, f"make_jaxpr, {UNROLLED_STEPS} unrolled sin", "ms", results,
                        Target(ratio=0.5)))
    return rows
