"""Autodiff results agree with real ``jax`` 0.10.2 on small programs (skipped without jax).

Each program is written once against a NumPy-like module and run through the same
transformation in both libraries; the derivatives must agree to float32 rounding.
"""
from __future__ import annotations

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp

jax = pytest.importorskip("jax")

RNG = np.random.default_rng(0)
A = RNG.standard_normal((3, 4)).astype(np.float32)
B = RNG.standard_normal((4,)).astype(np.float32)
C = RNG.uniform(0.5, 2.0, (4, 2)).astype(np.float32)


def _mlp(np_, params, x):
    h = np_.tanh(x @ params["w"] + params["b"])
    return np_.sum(np_.log1p(h ** 2) * params["scale"])


def _softmax_xent(np_, logits, y):
    z = logits - np_.max(logits, axis=-1, keepdims=True)
    logp = z - np_.log(np_.sum(np_.exp(z), axis=-1, keepdims=True))
    return -np_.mean(np_.sum(logp * y, axis=-1))


def _indexing(np_, x):
    return np_.sum(x[1:, ::2] ** 2) + np_.prod(x[0, :3]) + np_.max(x[:, 1])


def _cumulative(np_, x):
    return np_.sum(np_.cumsum(x, axis=1) * np_.cumprod(x[:, :2] + 2.0, axis=1)[:, :1])


def _norms(np_, x):
    return np_.sqrt(np_.sum(x * x)) + np_.sum(np_.sqrt(np_.sum(x * x, axis=0) + 1e-3))


PROGRAMS = {
    "mlp": (_mlp, lambda: ({"w": A.T.copy(), "b": B[:3].copy(), "scale": np.float32(0.7)},
                           C.T.copy())),
    "softmax_xent": (_softmax_xent, lambda: (A, np.eye(4, dtype=np.float32)[[0, 3, 1]])),
    "indexing": (_indexing, lambda: (A,)),
    "cumulative": (_cumulative, lambda: (A,)),
    "norms": (_norms, lambda: (A,)),
}


def _both(name):
    fn, make_args = PROGRAMS[name]
    args = make_args()
    ours = lambda *a: fn(jnp, *a)
    theirs = lambda *a: fn(jax.numpy, *a)
    return ours, theirs, args


def _close(a, b):
    for x, y in zip(jaxel.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_grad_and_value_and_grad(name):
    ours, theirs, args = _both(name)
    _close(jaxel.value_and_grad(ours)(*args), jax.value_and_grad(theirs)(*args))
    _close(jaxel.jit(jaxel.grad(ours))(*args), jax.jit(jax.grad(theirs))(*args))


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_forward_mode_and_second_order(name):
    ours, theirs, args = _both(name)
    tangents = jax.tree_util.tree_map(lambda a: np.ones_like(a), args)
    _close(jaxel.jvp(ours, args, tangents), jax.jvp(theirs, args, tangents))
    # Hessian-vector product: forward over reverse.
    hvp_ours = jaxel.jvp(jaxel.grad(ours), args, tangents)[1]
    hvp_theirs = jax.jvp(jax.grad(theirs), args, tangents)[1]
    _close(hvp_ours, hvp_theirs)
