"""Gradients through reductions, cumulative reductions, sorting, top-k and window pooling:
the cases JAX users meet (ties of max, zeros in products, max pooling), second order, and
agreement with real jax where it is installed."""
from __future__ import annotations

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel import lax
from jaxel.test_util import check_grads

X = np.array([[0.3, -1.2, 2.5, 0.7], [1.1, 0.4, -0.6, 1.9], [-0.8, 2.2, 0.9, -0.1]],
             np.float32)
WITH_ZEROS = np.array([[1.5, 0.0, 2.0, -3.0], [0.0, 0.0, 1.0, 2.0], [0.5, -1.0, 4.0, 1.2]],
                      np.float32)


def _max_pool(x):
    """2x2 max pooling with stride 2 over the last two dimensions."""
    return lax.reduce_window(x, -jnp.inf, lax.max, (2, 2), (2, 2), "VALID")


def test_max_ties_share_the_gradient():
    """Tied maxima split the gradient equally (JAX's rule), also over several axes."""
    g = jaxel.grad(lambda x: jnp.max(x))(jnp.array([1.0, 3.0, 3.0, 2.0]))
    np.testing.assert_array_equal(g, [0.0, 0.5, 0.5, 0.0])
    x = jnp.array([[2.0, 2.0, 2.0], [1.0, 0.0, 5.0]])
    g = jaxel.grad(lambda x: jnp.min(x, axis=1).sum())(x)
    np.testing.assert_allclose(g, [[1 / 3, 1 / 3, 1 / 3], [0.0, 1.0, 0.0]], rtol=1e-6)


def test_max_with_nan_sends_gradient_to_the_nans():
    """A NaN maximum's gradient goes to the NaN elements (finite, unlike 0/0)."""
    g = jaxel.grad(lambda x: jnp.max(x))(jnp.array([1.0, jnp.nan, 3.0]))
    np.testing.assert_array_equal(g, [0.0, 1.0, 0.0])


def test_prod_with_zeros_is_exact():
    """d prod / dx_j is the product of the others, without dividing by x_j."""
    g = jaxel.grad(lambda x: jnp.prod(x))(jnp.array([2.0, 0.0, 3.0]))
    np.testing.assert_array_equal(g, [0.0, 6.0, 0.0])
    g = jaxel.grad(lambda x: jnp.prod(x))(jnp.array([2.0, 0.0, 0.0]))
    np.testing.assert_array_equal(g, [0.0, 0.0, 0.0])
    check_grads(lambda x: jnp.prod(x, axis=1), (WITH_ZEROS,), order=2, modes=("fwd", "rev"))
    check_grads(lambda x: jnp.prod(x.reshape(2, 3, 2), axis=(0, 2)), (WITH_ZEROS + 0.5,),
                order=2, modes=("fwd", "rev"))


def test_cumprod_with_zeros():
    """cumprod's derivative is a scan, not ``y * cumsum(t / x)``: exact with zeros."""
    g = jaxel.grad(lambda x: jnp.cumprod(x).sum())(jnp.array([1.0, 0.0, 3.0, 2.0]))
    np.testing.assert_array_equal(g, [1.0, 10.0, 0.0, 0.0])
    check_grads(lambda x: jnp.cumprod(x, axis=1), (WITH_ZEROS,), order=2, modes=("fwd", "rev"))
    check_grads(lambda x: lax.cumprod(x, 0, reverse=True), (WITH_ZEROS,), order=2,
                modes=("fwd", "rev"))


@pytest.mark.parametrize("fn", [
    lambda x: jnp.cumsum(x, axis=1),
    lambda x: lax.cumsum(x, 0, reverse=True),
    lambda x: lax.cummax(x, 1),
    lambda x: lax.cummin(x, 0, reverse=True),
    lambda x: lax.cumlogsumexp(x, 1),
    lambda x: lax.cumlogsumexp(x, 0, reverse=True),
], ids=["cumsum", "cumsum-rev", "cummax", "cummin-rev", "cumlogsumexp", "cumlogsumexp-rev"])
def test_cumulative_second_order(fn):
    check_grads(fn, (X,), order=2, modes=("fwd", "rev"))


def test_cummax_tie_shares_the_gradient():
    """Output i of cummax is the max of the prefix: ties share its tangent, as for max."""
    g = jaxel.jacobian(lambda x: lax.cummax(x, 0))(jnp.array([1.0, 3.0, 3.0, 2.0]))
    want = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0.5, 0.5, 0], [0, 0.5, 0.5, 0]]
    np.testing.assert_array_equal(g, want)


def test_cumlogsumexp_is_stable():
    """Huge ranges and -inf entries give finite derivatives (softmax weights of prefixes)."""
    x = jnp.array([-1000.0, 0.0, 80.0, -jnp.inf, 81.0])
    g = jaxel.grad(lambda x: lax.cumlogsumexp(x)[-1])(x)
    w = np.exp(np.array([-1081.0, -81.0, -1.0, -np.inf, 0.0]))
    np.testing.assert_allclose(g, w / w.sum(), rtol=1e-5, atol=1e-30)
    assert np.all(np.isfinite(jaxel.grad(lambda x: lax.cumlogsumexp(x).sum())(x)))


def test_sort_and_multi_operand_sort():
    """Tangents follow the sorting permutation, for keys and carried operands alike."""
    g = jaxel.grad(lambda x: (jnp.sort(x) * jnp.arange(4.0)).sum())(
        jnp.array([3.0, 1.0, 2.0, 0.0]))
    np.testing.assert_array_equal(g, [3.0, 1.0, 2.0, 0.0])
    check_grads(lambda x: jnp.sort(x, axis=0), (X,), order=2, modes=("fwd", "rev"))

    k0 = jnp.array([[1, 0, 1, 0], [2, 1, 3, 1], [0, 0, 0, 0]])  # ties broken by the 2nd key

    def two_keys(b, c):
        return lax.sort((k0, b, c), 1, num_keys=2)[1:]
    check_grads(two_keys, (X, X * 2.0), order=2, modes=("fwd", "rev"))
    _, vjp = jaxel.vjp(lambda v: lax.sort_key_val(jnp.array([2, 0, 1]), v)[1],
                       jnp.array([10.0, 20.0, 30.0]))
    np.testing.assert_array_equal(vjp(jnp.array([1.0, 2.0, 3.0]))[0], [3.0, 1.0, 2.0])


def test_top_k():
    """The values' gradient lands at the returned indices; the indices have none."""
    g = jaxel.grad(lambda x: lax.top_k(x, 2)[0].sum())(jnp.array([0.5, 4.0, -1.0, 2.0]))
    np.testing.assert_array_equal(g, [0.0, 1.0, 0.0, 1.0])
    check_grads(lambda x: lax.top_k(x, 2)[0], (X,), order=2, modes=("fwd", "rev"))
    _, t = jaxel.jvp(lambda x: lax.top_k(x, 2), (jnp.asarray(X),), (jnp.ones_like(X),))
    assert np.asarray(t[1]).dtype == jaxel.dtypes.float0


def test_argmax_and_integer_reductions_have_no_gradient():
    g = jaxel.grad(lambda x: x[jnp.argmax(x)] * 2.0)(jnp.array([1.0, 5.0, 2.0]))
    np.testing.assert_array_equal(g, [0.0, 2.0, 0.0])
    _, t = jaxel.jvp(lambda x: lax.argmin(x, 0, np.int32), (jnp.asarray(X),),
                     (jnp.ones_like(X),))
    assert np.asarray(t).dtype == jaxel.dtypes.float0


def test_max_pooling():
    """Max pooling's gradient goes to each window's maximum; of tied maxima, to the first in
    the window (as JAX does, unlike ``jnp.max``, which shares it)."""
    x = jnp.array([[1.0, 2.0, 5.0, 5.0], [4.0, 0.0, 5.0, 3.0]])
    g = jaxel.grad(lambda x: _max_pool(x).sum())(x)
    np.testing.assert_array_equal(g, [[0.0, 0.0, 1.0, 0.0], [1.0, 0.0, 0.0, 0.0]])
    g = jaxel.grad(lambda x: lax.reduce_window(x, jnp.inf, lax.min, (2,), (1,), "VALID").sum())(
        jnp.array([1.0, 1.0, 1.0]))
    np.testing.assert_array_equal(g, [1.0, 1.0, 0.0])
    check_grads(_max_pool, (X,), order=2, modes=("fwd", "rev"))
    check_grads(lambda x: lax.reduce_window(x, jnp.inf, lax.min, (2, 3), (1, 2), "SAME",
                                            (1, 2), (2, 1)), (X,), order=2, modes=("fwd", "rev"))


def test_window_sum_transpose_with_all_parameters():
    """Average pooling with strides, padding and both dilations: forward vs reverse mode."""
    def pool(x):
        return lax.reduce_window(x, 0.0, lax.add, (2, 3), (2, 1), ((1, 2), (0, 1)), (2, 1),
                                 (1, 2))
    check_grads(pool, (X,), order=2, modes=("fwd", "rev"))
    for op, init in ((lax.add, 0.0), (lax.max, -jnp.inf)):  # negative padding crops
        check_grads(lambda x: lax.reduce_window(x, init, op, (2,), (2,), ((-1, -2),)),
                    (X.reshape(-1),), order=2, modes=("fwd", "rev"))
    ones = jaxel.grad(lambda x: lax.reduce_window(x, 0.0, lax.add, (3,), (1,), "SAME").sum())(
        jnp.zeros(5))
    np.testing.assert_array_equal(ones, [2.0, 3.0, 3.0, 3.0, 2.0])  # windows covering each


# ---- agreement with real jax -------------------------------------------------------------------
def _jax_programs(np_, lax_):
    """The same programs written against (jax.numpy, jax.lax) or (jaxel.numpy, jaxel.lax)."""
    return {
        # x ties with its constant copy: the tie rule decides how much reaches x.
        "max-ties": lambda x: np_.sum(np_.max(np_.stack([x, lax_.stop_gradient(x)]),
                                              axis=0) ** 2),
        "min-ties": lambda x: np_.sum(np_.min(np_.concatenate(
            [x, lax_.stop_gradient(x)], axis=1), axis=1) * 3.0),
        "prod-zeros": lambda x: np_.sum(np_.prod(np_.where(x > 2.0, 0.0, x), axis=0)),
        "cumprod": lambda x: np_.sum(np_.cumprod(np_.where(x > 2.0, 0.0, x), axis=1)),
        "cumsum": lambda x: np_.sum(np_.sin(np_.cumsum(x, axis=0))),
        "sort": lambda x: np_.sum(np_.sort(x, axis=1) * np_.arange(4.0)),
        "sort-key-val": lambda x: np_.sum(lax_.sort_key_val(x[0], x[1] * x[2])[1] *
                                          np_.arange(4.0)),
        "top_k": lambda x: np_.sum(lax_.top_k(x, 3)[0] ** 2),
        "cummax": lambda x: np_.sum(lax_.cummax(x, 1) * x),
        "cumlogsumexp": lambda x: np_.sum(lax_.cumlogsumexp(x, 1, reverse=True)),
        "max-pool": lambda x: np_.sum(lax_.reduce_window(x, -np_.inf, lax_.max, (2, 2),
                                                         (1, 2), "SAME") ** 2),
        # round() makes ties (its own gradient is zero, so the sum carries x's).
        "max-pool-ties": lambda x: np_.sum(lax_.reduce_window(
            np_.round(x) + (x - lax_.stop_gradient(x)), -np_.inf, lax_.max, (2, 2), (1, 1),
            "VALID") * np_.arange(3.0)),
        "min-pool-ties": lambda x: np_.sum(lax_.reduce_window(
            np_.round(x) + (x - lax_.stop_gradient(x)), np_.inf, lax_.min, (3, 1), (1, 1),
            ((1, 1), (0, 0))) ** 2),
        "avg-pool": lambda x: np_.sum(np_.cos(lax_.reduce_window(
            x, 0.0, lax_.add, (2, 2), (2, 1), ((1, 0), (0, 1)), (1, 2), (1, 1)))),
    }


@pytest.mark.parametrize("name", sorted(_jax_programs(jnp, lax)))
def test_matches_jax(name):
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", False)
    x = X * 2.0
    want = jax.grad(_jax_programs(jax.numpy, jax.lax)[name])(x)
    got = jaxel.grad(_jax_programs(jnp, lax)[name])(x)
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-6)
