"""vmap results agree with jax 0.10.2 on small programs (where jax is installed): in_axes and
out_axes forms, nested maps with collectives, per-example gradients, Jacobians."""
from __future__ import annotations

import numpy as np
import pytest

import jaxel

jax = pytest.importorskip("jax")

RNG = np.random.default_rng(3)


def _attention(lib):
    jnp = lib.numpy

    def attend(q, k, v):  # one query against a sequence
        s = jnp.dot(k, q) / np.sqrt(q.shape[-1])
        p = jnp.exp(s - jnp.max(s))
        return jnp.dot(p / jnp.sum(p), v)
    return lib.vmap(lib.vmap(attend, in_axes=(0, None, None)), in_axes=(0, 0, 0))


def _norm_by_psum(lib):
    lax = lib.lax
    inner = lib.vmap(lambda x: x / lax.psum(x, ("a", "b")) + lax.axis_index("b"), axis_name="b")
    return lib.vmap(inner, axis_name="a", in_axes=1, out_axes=-1)


def _per_example_grads(lib):
    jnp = lib.numpy
    loss = lambda w, x: jnp.sum(jnp.tanh(x @ w) ** 2)
    return lib.vmap(lib.grad(loss), in_axes=(None, 0))


def _jacobians(lib):
    jnp = lib.numpy
    f = lambda x: jnp.sin(x) * jnp.sum(x ** 2)
    return lambda x: (lib.jacfwd(f)(x), lib.jacrev(f)(x), lib.hessian(lambda y: jnp.sum(f(y)))(x))


def _gather_and_scatter(lib):
    jnp = lib.numpy
    f = lambda x, i: x.at[i].add(x[::-1][i] * 2)
    return lib.vmap(f, in_axes=(1, 0), out_axes=1)


PROGRAMS = {
    "attention": (_attention, lambda: [RNG.standard_normal(s).astype(np.float32)
                                       for s in ((2, 5, 4), (2, 7, 4), (2, 7, 3))]),
    "norm_by_psum": (_norm_by_psum, lambda: [RNG.uniform(1, 2, (3, 4, 2)).astype(np.float32)]),
    "per_example_grads": (_per_example_grads,
                          lambda: [RNG.standard_normal((4, 3)).astype(np.float32),
                                   RNG.standard_normal((6, 5, 4)).astype(np.float32)]),
    "jacobians": (_jacobians, lambda: [RNG.standard_normal(3).astype(np.float32)]),
    "gather_and_scatter": (_gather_and_scatter,
                           lambda: [RNG.standard_normal((5, 3)).astype(np.float32),
                                    np.array([[0, 4], [1, 1], [3, 2]], np.int32)]),
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_vmap_agrees_with_jax(name):
    make, inputs = PROGRAMS[name]
    args = inputs()
    ours = make(jaxel)(*[jaxel.numpy.asarray(a) for a in args])
    theirs = make(jax)(*[jax.numpy.asarray(a) for a in args])
    ours_l, theirs_l = jaxel.tree_util.tree_leaves(ours), jax.tree_util.tree_leaves(theirs)
    assert len(ours_l) == len(theirs_l)
    for a, b in zip(ours_l, theirs_l):
        assert np.shape(a) == np.shape(b)
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-5)
