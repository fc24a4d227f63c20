"""custom_jvp / custom_vjp run the user's functions as often as JAX 0.12.1 does (visible
through side effects): under JVP only the rule runs, the primal function is not traced."""
from __future__ import annotations

import pytest

import jaxel
import jaxel.numpy as jnp

jax = pytest.importorskip("jax")


def make(lib, m, counts):
    def bump(k):
        counts[k] = counts.get(k, 0) + 1

    @lib.custom_jvp
    def f(x):  # its rule calls it again, as many rules do
        bump("f")
        return m.sin(x)

    @f.defjvp
    def f_jvp(p, t):
        bump("jvp")
        return f(p[0]), m.cos(p[0]) * t[0]

    @lib.custom_vjp
    def g(x):
        bump("g")
        return m.sin(x)

    def g_fwd(x):
        bump("fwd")
        return m.sin(x), x

    def g_bwd(r, ct):
        bump("bwd")
        return (m.cos(r) * ct,)

    g.defvjp(g_fwd, g_bwd)
    return {"custom_jvp": f, "custom_vjp": g}


def run_all(lib, m):
    x = m.float32(0.5)
    cases = {
        "call": lambda F: F(x),
        "jit": lambda F: lib.jit(F)(x),
        "jvp": lambda F: lib.jvp(F, (x,), (x,)),
        "grad": lambda F: lib.grad(F)(x),
        "vmap": lambda F: lib.vmap(F)(m.ones(3)),
        "jit_grad": lambda F: lib.jit(lib.grad(F))(x),
        "grad_jit": lambda F: lib.grad(lib.jit(F))(x),
        "vjp": lambda F: lib.vjp(F, x)[1](x),
        "vmap_grad": lambda F: lib.vmap(lib.grad(F))(m.ones(3)),
        "grad_grad": lambda F: lib.grad(lib.grad(F))(x),
    }
    out = {}
    for kind in ("custom_jvp", "custom_vjp"):
        for name, case in cases.items():
            if kind == "custom_vjp" and name in ("jvp", "grad_grad"):
                continue  # forward mode of custom_vjp is an error in both
            counts = {}
            case(make(lib, m, counts)[kind])  # fresh functions: no trace caches involved
            out[kind, name] = counts
    return out


def test_call_counts_match_jax():
    got = run_all(jaxel, jnp)
    want = run_all(jax, jax.numpy)
    assert got == want
    assert got["custom_jvp", "grad"] == {"f": 1, "jvp": 1}
    assert got["custom_vjp", "grad"] == {"fwd": 1, "bwd": 1}
