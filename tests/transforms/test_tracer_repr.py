"""``print(x)`` inside transformations shows JAX 0.12.1's tracer forms (JitTracer, JVPTracer,
GradTracer, VmapTracer), nested ones included."""
from __future__ import annotations

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel import lax

jax = pytest.importorskip("jax")


def reprs(lib, m, l):
    seen = []

    class Show:  # a fresh function per use: no trace cache (JAX's or jaxel's) is hit
        def __call__(self, x):
            seen.append((repr(x), str(x)))
            return x * 2.0

    class ShowSum:
        def __call__(self, x):
            return Show()(x).sum()

    lib.jit(Show())(1.0)
    lib.jit(Show())(m.ones((2, 3)))
    lib.jit(Show())(m.arange(3))
    lib.grad(Show())(1.0)
    lib.grad(ShowSum())(m.ones(3))
    lib.jvp(Show(), (1.0,), (1.0,))
    lib.vjp(Show(), 1.0)
    lib.linearize(Show(), 1.0)
    lib.vmap(Show())(m.ones((3, 2)))
    lib.vmap(Show(), in_axes=1)(m.ones((2, 3), m.int8))
    lib.jit(lib.grad(Show()))(1.0)
    lib.grad(lib.jit(Show()))(1.0)
    lib.vmap(lib.grad(Show()))(m.ones(3))
    lib.jit(lib.vmap(Show()))(m.ones(3))
    lib.vmap(lib.jit(Show()))(m.ones(3))
    lib.jacfwd(Show())(1.0)
    lib.grad(lib.grad(Show()))(1.0)
    lib.jvp(lib.grad(Show()), (1.0,), (1.0,))
    lib.make_jaxpr(Show())(1.0)
    l.scan(lambda c, x: (Show()(c), None), 1.0, None, length=2)
    return seen


def test_tracer_reprs_match_jax():
    got = reprs(jaxel, jnp, lax)
    want = reprs(jax, jax.numpy, jax.lax)
    assert got == want
    assert got[0] == ("JitTracer(~float32[])",) * 2
    assert got[3][0] == "GradTracer(primal=1.0, typeof(tangent)=f32[])"
    assert got[5][0] == "JVPTracer(primal=1.0, tangent=1.0)"


def test_integer_results_under_grad_are_plain_values():
    # A value with a zero tangent is a constant of the trace: it prints like an array.
    seen = []
    jaxel.grad(lambda x: (seen.append(repr(x.astype(jnp.int32))), x)[1])(1.0)
    # So are integer inputs (float0 tangents), under jvp and grad alike.
    float0_zeros = np.zeros(2, jaxel.dtypes.float0)
    jaxel.jvp(lambda x: (seen.append(repr(x)), x)[1], (jnp.arange(2),), (float0_zeros,))
    jaxel.grad(lambda x, n: (seen.append(repr(n)), x * n)[1], allow_int=True,
               argnums=(0, 1))(1.0, jnp.asarray(2, jnp.int32))
    assert seen == ["Array(1, dtype=int32)", "Array([0, 1], dtype=int32)",
                    "Array(2, dtype=int32)"]
