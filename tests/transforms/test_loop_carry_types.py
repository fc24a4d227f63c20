"""Loop carries with weak types and ``fori_loop`` bounds, against JAX 0.12.1: a weakly typed
initial carry takes ``result_type(init, body output)``; ``fori_loop`` bounds of one dtype (or
one a Python int) are accepted, concrete ones make a scan with a Python-int index."""
from __future__ import annotations

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel import lax

jax = pytest.importorskip("jax")
jjnp, jlax = jax.numpy, jax.lax


def same(got, want):
    np.testing.assert_allclose(np.asarray(got, np.float64), np.asarray(want, np.float64))
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    assert got.weak_type == want.weak_type, (got.weak_type, want.weak_type)


# (name, program(np_module, lax_module)) run in both libraries.
CARRY_CASES = [
    ("scan weak int -> f32", lambda m, l: l.scan(lambda c, _: (c + m.float32(1), None), 0, None,
                                                 length=3)[0]),
    ("scan weak int -> weak f32", lambda m, l: l.scan(lambda c, _: (c + 1.5, None), 0, None,
                                                      length=3)[0]),
    ("fori weak int -> i16", lambda m, l: l.fori_loop(0, 3, lambda i, c: c + m.int16(1), 0)),
    ("fori weak f32 -> bf16", lambda m, l: l.fori_loop(0, 3, lambda i, c: c + m.bfloat16(1),
                                                       0.0)),
    ("while weak -> f32", lambda m, l: l.while_loop(lambda c: c < 3, lambda c: c + m.float32(1),
                                                    0.0)),
    ("while weak int -> f16", lambda m, l: l.while_loop(lambda c: c < 3,
                                                        lambda c: c + m.float16(1), 0)),
    ("fori i16 bounds", lambda m, l: l.fori_loop(m.int16(0), m.int16(5), lambda i, c: c + i, 0)),
    ("fori i16 and int", lambda m, l: l.fori_loop(m.int16(0), 3, lambda i, c: c + i, 0)),
    ("fori array bound", lambda m, l: l.fori_loop(0, m.array(5), lambda i, c: c + i, 0)),
    ("fori float bounds", lambda m, l: l.fori_loop(0.0, 3.0, lambda i, c: c + i, 0)),
]


@pytest.mark.parametrize("name,prog", CARRY_CASES, ids=[c[0] for c in CARRY_CASES])
def test_carry_and_bound_types_match_jax(name, prog):
    same(prog(jnp, lax), prog(jjnp, jlax))


def test_traced_bounds_keep_their_dtype():
    def prog(m, l, jit):
        return jit(lambda a: l.fori_loop(a, m.int16(3), lambda i, c: i, 0))(m.int16(0))
    same(prog(jnp, lax, jaxel.jit), prog(jjnp, jlax, jax.jit))
    got = jaxel.jit(lambda n: lax.fori_loop(0, n, lambda i, c: c + i, 0))(5)
    assert int(got) == 10


def test_mismatched_carries_and_bounds_still_fail():
    with pytest.raises(TypeError, match="equal types"):
        lax.fori_loop(np.uint32(0), 3, lambda i, c: c + i, 0)
    with pytest.raises(TypeError, match="equal types"):
        lax.fori_loop(jnp.int16(0), jnp.int32(3), lambda i, c: c + i, 0)
    with pytest.raises(TypeError, match="carry"):  # weak scalar vs a vector: shape differs
        lax.scan(lambda c, _: (c + jnp.ones(3), None), 0.0, None, length=2)
    with pytest.raises(TypeError, match="carry"):  # strong types never promote
        lax.fori_loop(0, 3, lambda i, c: c + jnp.float32(1), jnp.float16(0))
    with pytest.raises(ValueError, match="unroll"):
        jaxel.jit(lambda n: lax.fori_loop(0, n, lambda i, c: c + i, 0, unroll=2))(3)


def test_grad_through_loops_keeps_weak_types():
    def f(l, m):
        return lambda y: l.fori_loop(0, m.array(3), lambda i, c: c * y, 1.0)
    got, want = jaxel.grad(f(lax, jnp))(2.0), jax.grad(f(jlax, jjnp))(2.0)
    same(got, want)
    np.testing.assert_allclose(got, 12.0)  # d/dy y^3
