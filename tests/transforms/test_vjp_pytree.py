"""The functions ``vjp`` and ``linearize`` return are pytrees (residuals as leaves), so they can
be returned from and passed to ``jit``; and the weak types of complex cotangents and Jacobians
match JAX 0.12.1."""
from __future__ import annotations

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp

jax = pytest.importorskip("jax")


def f(m):
    return lambda x: m.sin(x) * x


def test_vjp_function_is_a_pytree_usable_with_jit():
    x = jnp.arange(3.0)
    want = jax.vjp(f(jax.numpy), np.arange(3.0, dtype=np.float32))[1](np.ones(3, np.float32))[0]
    _, f_vjp = jaxel.vjp(f(jnp), x)
    assert type(f_vjp).__name__ == type(jax.vjp(f(jax.numpy), 1.0)[1]).__name__ == "VJP"
    assert len(jaxel.tree_util.tree_leaves(f_vjp)) > 0
    np.testing.assert_allclose(jaxel.jit(lambda x: jaxel.vjp(f(jnp), x)[1])(x)(jnp.ones(3))[0],
                               want, rtol=1e-6)
    np.testing.assert_allclose(jaxel.jit(lambda g, c: g(c))(f_vjp, jnp.ones(3))[0], want,
                               rtol=1e-6)
    jaxel.make_jaxpr(lambda x: jaxel.vjp(f(jnp), x)[1])(x)
    rows = jaxel.vmap(f_vjp)(jnp.eye(3))[0]
    np.testing.assert_allclose(np.diag(np.asarray(rows)), want, rtol=1e-6)
    with pytest.raises(TypeError, match="single argument"):
        f_vjp(jnp.ones(3), jnp.ones(3))


def test_linearize_function_is_a_partial():
    x = jnp.arange(3.0)
    _, f_jvp = jaxel.linearize(f(jnp), x)
    assert isinstance(f_jvp, jaxel.tree_util.Partial)
    want = jax.linearize(f(jax.numpy), np.arange(3.0, dtype=np.float32))[1](np.ones(3, np.float32))
    np.testing.assert_allclose(jaxel.jit(lambda g, t: g(t))(f_jvp, jnp.ones(3)), want, rtol=1e-6)
    np.testing.assert_allclose(
        jaxel.jit(lambda x: jaxel.linearize(f(jnp), x)[1])(x)(jnp.ones(3)), want, rtol=1e-6)


def complex_cases(lib, m):
    z = 1.0 + 2.0j
    return [
        lib.grad(lambda x: x * x, holomorphic=True)(z),
        lib.grad(lambda x: x * x, holomorphic=True)(m.complex64(z)),
        lib.vjp(lambda x: x * x, z)[1](1.0 + 0j)[0],
        lib.vjp(lambda x: m.real(x * x), z)[1](1.0)[0],
        lib.vjp(m.abs, z)[1](1.0)[0],
        lib.grad(lambda x: m.abs(x) ** 2)(z),
        lib.grad(m.real)(z),
        lib.vjp(lambda x: x * (1 + 1j), 2.0)[1](1.0 + 0j)[0],
        lib.jacrev(lambda x: x * x, holomorphic=True)(z),
        lib.jacfwd(lambda x: x * x, holomorphic=True)(z),
        lib.jacfwd(lambda x: x * 2.0)(1.0),
        lib.jacrev(lambda x: x * 2.0)(1.0),
        lib.hessian(lambda x: x ** 3)(1.0),
    ]


def test_cotangent_and_jacobian_types_match_jax():
    for got, want in zip(complex_cases(jaxel, jnp), complex_cases(jax, jax.numpy)):
        np.testing.assert_allclose(got, want, rtol=1e-6)
        assert (got.dtype, got.weak_type) == (want.dtype, want.weak_type)
