"""Python control flow on a differentiated value: outside ``jit``, forward- and reverse-mode
tracers of a concrete primal convert to bool/int/index as JAX's do (``float``/``complex`` and
NumPy conversion still raise, as in JAX); under ``jit``/``vmap`` the concretization errors stay.
Checked against JAX 0.12.1 and against the hand-written derivative."""
from __future__ import annotations

import operator

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel import lax
from jaxel.errors import (ConcretizationTypeError, TracerArrayConversionError,
                          TracerBoolConversionError, TracerIntegerConversionError)

jax = pytest.importorskip("jax")
jjnp = jax.numpy


def piecewise(x):
    if x < 3:  # bool of a tracer
        return x ** 2
    return 3.0 * x


def with_int(x):
    n = int(x)  # int of a tracer
    return x * n + sum(x for _ in range(n))


def with_index(x):
    k = operator.index(jnp.int32(2) + 0 * x.astype(jnp.int32))
    return x * [1.0, 2.0, 3.0][k]


@pytest.mark.parametrize("api", ["grad", "jacfwd", "jacrev", "hessian"])
def test_python_control_flow_under_differentiation(api):
    for f, x in [(piecewise, 2.0), (piecewise, 4.0), (with_int, 2.5)]:
        got = getattr(jaxel, api)(f)(x)
        want = getattr(jax, api)(f)(x)
        np.testing.assert_allclose(got, want, rtol=1e-6)
        assert got.dtype == want.dtype and got.weak_type == want.weak_type
    np.testing.assert_allclose(jaxel.grad(piecewise)(2.0), 4.0)  # d/dx x^2 at 2
    np.testing.assert_allclose(jaxel.grad(with_int)(2.5), 4.0)        # n + n, n = 2
    np.testing.assert_allclose(jaxel.grad(with_index)(1.0), 3.0)


def test_jvp_vjp_linearize_and_nested_grad():
    f = piecewise
    p, t = jaxel.jvp(f, (2.0,), (1.0,))
    assert (float(p), float(t)) == (4.0, 4.0)
    y, f_vjp = jaxel.vjp(f, 4.0)
    assert float(y) == 12.0 and float(f_vjp(1.0)[0]) == 3.0
    y, f_jvp = jaxel.linearize(with_int, 2.5)
    np.testing.assert_allclose(f_jvp(1.0), jax.linearize(with_int, 2.5)[1](1.0))
    np.testing.assert_allclose(jaxel.grad(jaxel.grad(f))(2.0), 2.0)
    np.testing.assert_allclose(jaxel.grad(jaxel.grad(with_int))(2.5), 0.0)


def test_assert_under_grad_raises_assertion_error():
    def f(x):
        assert x < 0, "x must be negative"
        return x
    with pytest.raises(AssertionError, match="negative"):
        jaxel.grad(f)(2.0)
    assert float(jaxel.grad(f)(-2.0)) == 1.0


def test_conversions_jax_refuses_still_raise():
    # float(), complex(), tolist() and NumPy conversion raise under grad in JAX too.
    for conv, err in [(float, ConcretizationTypeError), (complex, ConcretizationTypeError),
                      (lambda x: x.tolist(), ConcretizationTypeError),
                      (np.asarray, TracerArrayConversionError)]:
        with pytest.raises(err):
            jaxel.grad(lambda x: x * conv(x))(2.0)
    # item() works on a concrete primal, as in JAX.
    assert float(jaxel.grad(lambda x: x * x.item())(2.0)) == 2.0


def test_transformations_without_a_concrete_value_still_refuse():
    f = piecewise
    for run in [lambda: jaxel.jit(f)(2.0), lambda: jaxel.grad(jaxel.jit(f))(2.0),
                lambda: jaxel.jit(jaxel.grad(f))(2.0), lambda: jaxel.vmap(f)(jnp.ones(2)),
                lambda: jaxel.vmap(jaxel.grad(f))(jnp.ones(2))]:
        with pytest.raises(TracerBoolConversionError):
            run()
    # JAX's classes: int() is a ConcretizationTypeError, an index a TracerIntegerConversionError.
    with pytest.raises(ConcretizationTypeError) as e:
        jaxel.jit(with_int)(2.5)
    assert not isinstance(e.value, TracerIntegerConversionError)
    with pytest.raises(TracerIntegerConversionError):
        jaxel.jit(lambda i: [1, 2][i])(0)
    # The shape check comes first, as in JAX: ValueError for a non-scalar truth value.
    with pytest.raises(ValueError, match="more than one element"):
        jaxel.jit(lambda x: 1 if x > 0 else 0)(jnp.ones(2))


def test_fori_loop_bounds_from_a_differentiated_value():
    # A concrete bound under grad makes a scan, so reverse mode works (as in JAX).
    def f(x):
        return lax.fori_loop(0, x.astype(jnp.int32), lambda i, c: c * x, 1.0)

    got = jaxel.grad(f)(3.0)
    want = jax.grad(lambda x: jax.lax.fori_loop(0, x.astype(jjnp.int32), lambda i, c: c * x,
                                                1.0))(3.0)
    np.testing.assert_allclose(got, 27.0)  # d/dx x^3
    np.testing.assert_allclose(got, want)
    assert got.weak_type == want.weak_type
