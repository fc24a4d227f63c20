"""jaxel.nn functions against jax.nn (values and gradients) where jax is installed, and against
NumPy formulas otherwise; derivative conventions at kinks; attention masks."""
from __future__ import annotations

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
import jaxel.nn as nn

RNG = np.random.default_rng(11)
X = (RNG.standard_normal((3, 8)) * 3).astype(np.float32)
X[0, :4] = [0.0, 6.0, -1.0, 1.0]  # kinks

UNARY = ["relu", "relu6", "sigmoid", "log_sigmoid", "softplus", "sparse_plus", "sparse_sigmoid",
         "soft_sign", "silu", "swish", "hard_sigmoid", "hard_silu", "hard_swish", "hard_tanh",
         "elu", "celu", "selu", "gelu", "leaky_relu", "mish", "squareplus", "tanh", "identity"]


def _close(a, b, tol=2e-5):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


@pytest.mark.parametrize("name", UNARY)
def test_activation_values_and_gradients_match_jax(name):
    jax = pytest.importorskip("jax")
    ours, theirs = getattr(nn, name), getattr(jax.nn, name)
    _close(ours(jnp.asarray(X)), theirs(X))
    g_ours = jaxel.grad(lambda x: jnp.sum(ours(x)))(jnp.asarray(X))
    g_theirs = jax.grad(lambda x: jax.numpy.sum(theirs(x)))(X)
    _close(g_ours, g_theirs)


def test_exact_gelu_and_log1mexp():
    jax = pytest.importorskip("jax")
    _close(nn.gelu(jnp.asarray(X), approximate=False), jax.nn.gelu(X, approximate=False))
    pos = np.abs(X) + 0.01
    _close(nn.log1mexp(jnp.asarray(pos)), jax.nn.log1mexp(pos), 1e-4)


def test_relu_derivative_is_zero_at_zero():
    assert float(jaxel.grad(nn.relu)(0.0)) == 0.0
    assert float(jaxel.grad(nn.relu6)(6.0)) == 0.0
    assert float(jaxel.grad(nn.relu6)(3.0)) == 1.0


@pytest.mark.parametrize("axis", [-1, 0, (0, 1)])
def test_softmax_family(axis):
    jax = pytest.importorskip("jax")
    x = jnp.asarray(X)
    _close(nn.softmax(x, axis=axis), jax.nn.softmax(X, axis=axis))
    _close(nn.log_softmax(x, axis=axis), jax.nn.log_softmax(X, axis=axis), 1e-4)
    _close(nn.logsumexp(x, axis=axis), jax.nn.logsumexp(X, axis=axis), 1e-4)
    _close(nn.logmeanexp(x, axis=axis), jax.nn.logmeanexp(X, axis=axis), 1e-4)
    _close(nn.standardize(x, axis=axis), jax.nn.standardize(X, axis=axis), 1e-4)
    g1 = jaxel.grad(lambda v: jnp.sum(nn.softmax(v, axis=axis) * jnp.arange(8.0)))(x)
    g2 = jax.grad(lambda v: jax.numpy.sum(jax.nn.softmax(v, axis=axis) * np.arange(8.0)))(X)
    _close(g1, g2)


def test_softmax_where_and_logsumexp_options():
    jax = pytest.importorskip("jax")
    where = X > 0
    _close(nn.softmax(jnp.asarray(X), where=jnp.asarray(where)),
           jax.nn.softmax(X, where=where))
    b = np.abs(X) + 0.5
    _close(nn.logsumexp(jnp.asarray(X), axis=1, b=jnp.asarray(b), keepdims=True),
           jax.nn.logsumexp(X, axis=1, b=b, keepdims=True), 1e-4)
    s1, sign1 = nn.logsumexp(jnp.asarray(X), axis=1, b=jnp.asarray(-b), return_sign=True)
    s2, sign2 = jax.nn.logsumexp(X, axis=1, b=-b, return_sign=True)
    _close(s1, s2, 1e-4)
    _close(sign1, sign2)


def test_glu_and_one_hot():
    x = jnp.asarray(X)
    a, b = np.split(X, 2, axis=-1)
    _close(nn.glu(x), a / (1 + np.exp(-b)))
    labels = jnp.asarray([0, 2, 5, -1])
    got = nn.one_hot(labels, 4)
    want = np.zeros((4, 4), np.float32)
    want[0, 0] = want[1, 2] = 1
    _close(got, want)
    assert nn.one_hot(labels, 4, axis=0).shape == (4, 4)
    assert nn.one_hot(labels, 4, dtype=jnp.int32).dtype == jnp.int32
    with pytest.raises(ValueError, match="odd size"):
        nn.glu(jnp.ones(3))


@pytest.mark.parametrize("kw", [{}, {"is_causal": True}, {"mask": True}, {"bias": True},
                                {"local_window_size": (1, 0)},
                                {"key_value_seq_lengths": True}])
def test_dot_product_attention_matches_jax(kw):
    jax = pytest.importorskip("jax")
    q = RNG.standard_normal((2, 5, 4, 8)).astype(np.float32)
    k = RNG.standard_normal((2, 5, 2, 8)).astype(np.float32)
    v = RNG.standard_normal((2, 5, 2, 8)).astype(np.float32)
    args = dict(kw)
    if args.get("mask"):
        args["mask"] = RNG.integers(0, 2, (2, 4, 5, 5)).astype(bool) | np.eye(5, dtype=bool)
    if args.get("bias"):
        args["bias"] = RNG.standard_normal((2, 4, 5, 5)).astype(np.float32)
    if args.get("key_value_seq_lengths"):
        args["key_value_seq_lengths"] = np.array([3, 5], np.int32)
    ours = nn.dot_product_attention(jnp.asarray(q), jnp.asarray(k), jnp.asarray(v),
                                    **{a: (jnp.asarray(b) if isinstance(b, np.ndarray) else b)
                                       for a, b in args.items()})
    theirs = jax.nn.dot_product_attention(q, k, v, **args)
    _close(ours, theirs, 1e-4)


def test_public_names_match_jax_nn():
    jax = pytest.importorskip("jax")
    # Not provided: the scaled-matmul helpers (hardware FP8 block scaling).
    excluded = {"get_scaled_dot_general_config", "scaled_dot_general",
                "scaled_matmul"}
    theirs = {n for n in dir(jax.nn) if not n.startswith("_")} - excluded
    missing = sorted(n for n in theirs if not hasattr(nn, n))
    assert not missing, f"jaxel.nn lacks {missing}"


# ---- derivatives where entries are left out (b == 0, where=False) -------------------------------
def test_logsumexp_zero_weights_are_left_out_like_jax():
    jax = pytest.importorskip("jax")
    from jax.scipy.special import logsumexp as j_lse
    from jaxel.scipy.special import logsumexp as x_lse
    a = np.array([1.0, 2.0, 300.0], np.float32)  # the zero-weight entry is the largest
    w = np.array([1.0, 2.0, 0.0], np.float32)
    want_h = jax.hessian(lambda v: j_lse(v, b=w))(a)
    got_h = jaxel.hessian(lambda v: x_lse(v, b=jnp.asarray(w)))(jnp.asarray(a))
    assert np.all(np.isfinite(got_h))
    np.testing.assert_allclose(got_h, want_h, rtol=1e-5, atol=1e-6)
    # Against the closed form on the kept entries: diag(p) - p p^T, p = softmax(a + log w).
    p = w[:2] * np.exp(a[:2] - a[1]) / np.sum(w[:2] * np.exp(a[:2] - a[1]))
    np.testing.assert_allclose(np.asarray(got_h)[:2, :2], np.diag(p) - np.outer(p, p),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(x_lse(jnp.asarray(a), b=jnp.asarray(w)),
                               np.log(np.sum(w[:2] * np.exp(a[:2]))), rtol=1e-6)
    g = jaxel.grad(lambda v: nn.logsumexp(v, b=jnp.zeros(3)))(jnp.asarray(a))
    np.testing.assert_array_equal(g, np.zeros(3, np.float32))  # all left out: -inf, grads 0
    assert np.isnan(float(x_lse(jnp.asarray(a), b=-jnp.asarray(w))))  # negative sum, as JAX


@pytest.mark.parametrize("fn", ["log_softmax", "softmax"])
def test_masked_softmax_gradients_of_fully_masked_rows_are_zero(fn):
    jax = pytest.importorskip("jax")
    x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], np.float32)
    m = np.array([[True, False, True], [False, False, False]])

    def loss(lib_nn, lib_np):
        return lambda v: lib_np.sum(lib_np.where(m, getattr(lib_nn, fn)(v, where=m), 0.0) ** 2)
    got = jaxel.grad(loss(nn, jnp))(jnp.asarray(x))
    want = jax.grad(loss(jax.nn, jax.numpy))(x)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(np.asarray(got)[1], np.zeros(3, np.float32))
    out = getattr(nn, fn)(jnp.asarray(x), where=m)
    np.testing.assert_array_equal(np.asarray(out)[1], np.asarray(getattr(jax.nn, fn)(x, where=m))[1])
    # Finite differences on the unmasked entries of the first row.
    eps, f = 1e-2, loss(nn, jnp)
    for j in (0, 2):
        d = np.zeros_like(x)
        d[0, j] = eps
        fd = (float(f(jnp.asarray(x + d))) - float(f(jnp.asarray(x - d)))) / (2 * eps)
        np.testing.assert_allclose(np.asarray(got)[0, j], fd, rtol=2e-2, atol=1e-3)
