"""Nested control flow (scan inside cond inside while, and the other orders) against Python
references, under jit, forward and reverse differentiation (while through max_steps for
reverse mode), and vmap against a loop."""
from __future__ import annotations

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel import lax
from jaxel.test_util import check_grads

RNG = np.random.default_rng(21)
XS = RNG.uniform(-0.5, 0.5, (4, 3))


def _scan_part(c, xs):
    def step(carry, x):
        new = jnp.sin(carry) * 0.5 + x * carry
        return new, jnp.sum(new)
    c, ys = lax.scan(step, c, xs)
    return c + 0.1 * jnp.sum(ys)


def _nested(x, xs, max_steps=None):
    def body(state):
        i, c = state
        c = lax.cond(jnp.sum(c) > 0, lambda c: _scan_part(c, xs), lambda c: c * 1.5 + 0.1, c)
        return i + 1, c
    _, out = lax.while_loop(lambda s: s[0] < 3, body, (0, x), max_steps=max_steps)
    return out


def _reference(x, xs):
    c = np.asarray(x, np.float64)
    for _ in range(3):
        if c.sum() > 0:
            ys = []
            for row in xs:
                c = np.sin(c) * 0.5 + row * c
                ys.append(c.sum())
            c = c + 0.1 * np.sum(ys)
        else:
            c = c * 1.5 + 0.1
    return c


@pytest.mark.parametrize("x0", [[0.3, 0.2, 0.1], [-0.9, 0.1, 0.2]])
@pytest.mark.parametrize("jit", [False, True])
def test_nested_matches_python(x0, jit):
    f = jaxel.jit(_nested) if jit else _nested
    with jaxel.config._override("jax_enable_x64", True):
        got = f(jnp.asarray(np.array(x0)), jnp.asarray(XS))
        np.testing.assert_allclose(np.asarray(got), _reference(np.array(x0), XS), rtol=1e-10)


def test_nested_forward_and_reverse_derivatives():
    with jaxel.config._override("jax_enable_x64", True):
        x = jnp.asarray(np.array([0.3, 0.2, 0.1]))
        xs = jnp.asarray(XS)
        check_grads(lambda x: _nested(x, xs), (x,), order=1, modes=("fwd",))
        check_grads(lambda x, xs: _nested(x, xs, max_steps=5), (x, xs), order=1,
                    modes=("fwd", "rev"))


def test_nested_vmap_matches_loop():
    x = RNG.uniform(-1, 1, (5, 3))
    with jaxel.config._override("jax_enable_x64", True):
        got = jaxel.vmap(_nested, in_axes=(0, None))(jnp.asarray(x), jnp.asarray(XS))
        want = np.stack([_reference(r, XS) for r in x])
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-10)
        g = jaxel.vmap(jaxel.grad(lambda x: jnp.sum(_nested(x, jnp.asarray(XS), max_steps=4))))(
            jnp.asarray(x))
        for i in range(5):
            gi = jaxel.grad(lambda x: jnp.sum(_nested(x, jnp.asarray(XS), max_steps=4)))(
                jnp.asarray(x[i]))
            np.testing.assert_allclose(np.asarray(g[i]), np.asarray(gi), rtol=1e-10)


def test_while_inside_scan_inside_cond():
    def f(x):
        def step(c, _):
            c = lax.while_loop(lambda v: jnp.sum(v) < 4.0, lambda v: v * 1.5 + 0.1, c)
            return c * 0.5, jnp.max(c)
        return lax.cond(x[0] > 0, lambda v: lax.scan(step, v, None, length=3)[1],
                        lambda v: jnp.zeros(3), x)
    x = np.array([0.4, 0.3])

    def ref(x):
        if x[0] <= 0:
            return np.zeros(3)
        out, c = [], x.copy()
        for _ in range(3):
            while c.sum() < 4.0:
                c = c * 1.5 + 0.1
            out.append(c.max())
            c = c * 0.5
        return np.array(out)
    with jaxel.config._override("jax_enable_x64", True):
        np.testing.assert_allclose(np.asarray(jaxel.jit(f)(jnp.asarray(x))), ref(x), rtol=1e-12)
        xb = np.array([[0.4, 0.3], [-1.0, 2.0], [1.0, 1.0]])
        got = jaxel.vmap(f)(jnp.asarray(xb))
        np.testing.assert_allclose(np.asarray(got), np.stack([ref(r) for r in xb]), rtol=1e-12)
