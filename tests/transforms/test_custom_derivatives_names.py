"""jax.custom_derivatives names beyond custom_jvp/custom_vjp: custom_gradient, symbolic zeros
(SymbolicZero, CustomVJPPrimal, custom_vjp_primal_tree_values, zero_from_primal), linear_call,
and remat_opt_p (which jaxel refuses to run); against JAX 0.12.1 and hand derivatives."""
from __future__ import annotations

from functools import partial

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel import custom_derivatives as cd

jax = pytest.importorskip("jax")
jcd = jax.custom_derivatives


def close(got, want):
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-6)


def gradient_cases(lib, m):
    @lib.custom_gradient
    def f(x, y):
        return x * y, lambda g: (g * y * 10, g * x)  # deliberately not the true derivative

    @lib.custom_gradient
    def clip(x):
        return x, lambda g: (m.clip(g, -1, 1),)

    return [f(3.0, 4.0), lib.grad(f)(3.0, 4.0), *lib.grad(f, argnums=(0, 1))(3.0, 4.0),
            lib.jit(lib.grad(f))(3.0, 4.0), lib.vmap(lib.grad(f))(m.ones(2), m.ones(2)),
            lib.grad(lambda x: 5 * clip(x))(2.0)]


def test_custom_gradient_matches_jax():
    got, want = gradient_cases(jaxel, jnp), gradient_cases(jax, jax.numpy)
    for g, w in zip(got, want):
        close(g, w)
    close(got[1], 40.0)  # the custom rule, not d(xy)/dx
    assert jaxel.custom_gradient is cd.custom_gradient
    with pytest.raises(NotImplementedError, match="with_logs"):
        cd.custom_gradient(with_logs=True)(lambda x: (x, lambda g: (g,)))


def symbolic_cases(lib, m, cdm, log):
    SZ = cdm.SymbolicZero

    @lib.custom_vjp
    def f(x, y):
        return x * y

    def fwd(x, y):
        log.append(("fwd", type(x).__name__, x.perturbed, y.perturbed))
        return x.value * y.value, (x.value, y.value)

    def bwd(r, ct):
        log.append(("bwd", type(ct).__name__ == "SymbolicZero"))
        return ct * r[1], SZ.from_primal_value(r[1])

    f.defvjp(fwd, bwd, symbolic_zeros=True)

    @lib.custom_vjp
    def two(x):
        return x, x * 2

    two.defvjp(lambda x: ((x.value, x.value * 2), None),
               lambda r, ct: (log.append(("bwd2", [type(c) is SZ for c in ct])) or
                              (ct[0] if type(ct[0]) is not SZ else 0.0,)),
               symbolic_zeros=True)

    @lib.custom_jvp
    def g(x, y):
        return x * y

    def g_jvp(p, t):
        log.append(("jvp", [type(a) is SZ for a in t]))
        (x, y), (tx, _) = p, t
        return x * y, (tx * y if type(tx) is not SZ else SZ.from_primal_value(x))

    g.defjvp(g_jvp, symbolic_zeros=True)
    return [lib.grad(f)(2.0, 3.0), lib.grad(lambda x: two(x)[0])(2.0),
            lib.jvp(lambda x: g(x, 3.0), (2.0,), (1.0,))[1], lib.grad(lambda y: g(2.0, y))(3.0),
            lib.jit(lib.grad(f))(2.0, 3.0), lib.vmap(lib.grad(f))(m.ones(2), m.ones(2)),
            *lib.grad(lib.jit(f), argnums=(0, 1))(2.0, 3.0), lib.grad(lib.jit(g))(2.0, 3.0),
            lib.jit(lib.grad(g, argnums=1))(2.0, 3.0), lib.vmap(lib.grad(g))(m.ones(2), m.ones(2))]


def test_symbolic_zeros_match_jax():
    log_l, log_j = [], []
    got = symbolic_cases(jaxel, jnp, cd, log_l)
    want = symbolic_cases(jax, jax.numpy, jcd, log_j)
    for g, w in zip(got, want):
        close(g, w)
    assert log_l == log_j
    assert ("fwd", "CustomVJPPrimal", True, False) in log_l


def test_symbolic_zero_helpers():
    z = cd.SymbolicZero.from_primal_value(jnp.ones((2, 3)))
    assert (z.shape, z.dtype, z.ndim, repr(z)) == ((2, 3), np.dtype(np.float32), 2, "SymbolicZero")
    zs = cd.zero_from_primal((1.0, jnp.arange(2)))
    want = jcd.zero_from_primal((1.0, jax.numpy.arange(2)))
    assert zs[0].dtype == want[0].dtype and zs[0].weak_type == want[0].weak_type
    assert zs[1].dtype == want[1].dtype  # float0 for an integer primal
    assert type(cd.zero_from_primal([1.0], symbolic_zeros=True)[0]) is cd.SymbolicZero
    p = cd.CustomVJPPrimal(1.0, True)
    assert repr(p) == repr(jcd.CustomVJPPrimal(1.0, True))
    tree = (p, [cd.CustomVJPPrimal(2.0, False)])
    assert cd.custom_vjp_primal_tree_values(tree) == (1.0, [2.0])
    with pytest.raises(TypeError, match="unexpected leaf"):
        cd.custom_vjp_primal_tree_values((1.0,))


def linear_cases(lib, lc):
    def f(r, x):
        return x / r

    def t(r, ct):
        return ct / r

    def div_add(x, denom):
        return x + lc(f, t, denom, x)

    def transpose(fn, x_example):
        return lambda y: lib.linear_transpose(fn, x_example)(y)[0]

    def custom_id(x):
        return lc(lambda _, x: x, lambda _, ct: 7.0, (), x)

    return [div_add(9.0, 3.0), transpose(partial(div_add, denom=3.0), 1.0)(18.0),
            custom_id(1.0), transpose(custom_id, 1.0)(1.0),
            transpose(transpose(custom_id, 1.0), 1.0)(1.0),
            lib.grad(lambda x: custom_id(x) * 2)(1.0), lib.jit(custom_id)(2.0),
            lib.jvp(custom_id, (1.0,), (3.0,))[1],
            lib.grad(lambda x: lib.jit(custom_id)(x) * 2)(1.0)], (div_add, custom_id)


def test_linear_call_matches_jax():
    got, (div_add, custom_id) = linear_cases(jaxel, cd.linear_call)
    want, _ = linear_cases(jax, jcd.linear_call)
    for g, w in zip(got, want):
        close(g, w)
    close(got[1], 24.0)  # 18 + 18 / 3 through the custom transpose
    close(got[3], 7.0)
    # vmap (which JAX 0.12.1 refuses for linear_call) vectorises the function and transpose.
    x = jnp.arange(3.0)
    close(jaxel.vmap(lambda x: div_add(x, 2.0))(x), np.arange(3.0) * 1.5)
    close(jaxel.vmap(jaxel.grad(custom_id))(x), [7.0] * 3)
    close(jaxel.vmap(lambda r, x: cd.linear_call(lambda r, x: x / r, lambda r, t: t / r, r, x))(
        x + 1, x), np.arange(3.0) / (np.arange(3.0) + 1))


def test_remat_opt_is_refused():
    assert cd.remat_opt_p.name == "remat_opt"
    with pytest.raises(NotImplementedError, match="remat_opt"):
        cd.remat_opt_p.bind(jnp.ones(2))
