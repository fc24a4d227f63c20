"""Key arrays under transformations, their array-like surface, and bad-input errors."""
import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel import random as xr


def data(k):
    return np.asarray(xr.key_data(k))


def test_typed_key_surface():
    k = xr.key(0)
    assert k.shape == () and k.ndim == 0 and str(k.dtype) == "key<fry>"
    assert repr(k) == "Array((), dtype=key<fry>) overlaying:\n[0 0]"
    ks = xr.split(k, (2, 3))
    assert ks.shape == (2, 3) and len(ks) == 2 and ks.T.shape == (3, 2)
    assert ks.reshape(6).shape == (6,) and ks.reshape(-1, 2).shape == (3, 2)
    assert ks[1, 2].shape == () and ks[..., 0].shape == (2,) and ks[:, None].shape == (2, 1, 3)
    assert [x.shape for x in ks] == [(3,), (3,)]
    assert str(xr.key_impl(k)) == "threefry2x32" and xr.key_impl(xr.PRNGKey(0)) == "threefry2x32"
    np.testing.assert_array_equal(data(xr.wrap_key_data(xr.key_data(ks))), data(ks))
    assert xr.PRNGKey(3).dtype == np.uint32 and xr.PRNGKey(3).shape == (2,)
    assert bool(xr.clone(k) == k)
    with pytest.raises(TypeError):
        np.asarray(k)


def test_both_key_styles_agree():
    for f in [lambda k: xr.normal(k, (3,)), lambda k: xr.randint(k, (3,), 0, 9),
              lambda k: xr.key_data(xr.split(k)[1]) if isinstance(k, xr.PRNGKeyArray) else xr.split(k)[1]]:
        np.testing.assert_array_equal(np.asarray(f(xr.key(5))), np.asarray(f(xr.PRNGKey(5))))


def test_keys_under_jit():
    k = xr.key(1)
    f = jaxel.jit(lambda k: (xr.split(k), xr.normal(k, (4,))))
    ks, x = f(k)
    assert isinstance(ks, xr.PRNGKeyArray) and ks.shape == (2,)
    np.testing.assert_array_equal(data(ks), data(xr.split(k)))
    np.testing.assert_array_equal(np.asarray(x), np.asarray(xr.normal(k, (4,))))
    seeded = jaxel.jit(lambda s: xr.key_data(xr.key(s)))(jnp.asarray(7))
    assert np.asarray(seeded).tolist() == [0, 7]


def test_vmap_over_keys_matches_loop():
    ks = xr.split(xr.key(2), 5)
    out = jaxel.vmap(lambda k: xr.normal(k, (3,)))(ks)
    loop = np.stack([np.asarray(xr.normal(k, (3,))) for k in ks])
    np.testing.assert_array_equal(np.asarray(out), loop)
    sub = jaxel.vmap(lambda k: xr.split(k, 3))(ks)
    assert sub.shape == (5, 3)
    np.testing.assert_array_equal(data(sub[4]), data(xr.split(ks[4], 3)))
    raw = jaxel.vmap(lambda k: xr.uniform(k, (2,)))(xr.key_data(ks))
    np.testing.assert_array_equal(np.asarray(raw), np.stack([np.asarray(xr.uniform(k, (2,))) for k in ks]))
    fold = jaxel.vmap(lambda i: xr.key_data(xr.fold_in(xr.key(0), i)))(jnp.arange(4))
    np.testing.assert_array_equal(np.asarray(fold)[3], data(xr.fold_in(xr.key(0), 3)))
    seeds = jaxel.vmap(lambda s: xr.key_data(xr.key(s)))(jnp.arange(3))
    assert np.asarray(seeds).tolist() == [[0, 0], [0, 1], [0, 2]]


def test_vmap_samplers_match_loop():
    ks = xr.split(xr.key(3), 3)
    for f in [lambda k: xr.randint(k, (4,), 0, 100), lambda k: xr.permutation(k, 6),
              lambda k: xr.gamma(k, 2.0, (2,)), lambda k: xr.bernoulli(k, 0.3, (4,))]:
        out = np.asarray(jaxel.vmap(f)(ks))
        np.testing.assert_allclose(out, np.stack([np.asarray(f(k)) for k in ks]), rtol=1e-6)


def test_keys_under_grad():
    k = xr.key(0)
    g = jaxel.grad(lambda x, k: jnp.sum(x * xr.normal(k, (3,))))(jnp.ones(3), k)
    np.testing.assert_allclose(np.asarray(g), np.asarray(xr.normal(k, (3,))))
    g2 = jaxel.grad(lambda mu: jnp.sum(mu + xr.normal(xr.fold_in(k, 1), (3,))))(1.0)
    assert float(g2) == 3.0


def test_eval_shape_of_keys():
    out = jaxel.eval_shape(lambda k: xr.split(k, 4), xr.key(0))
    assert out.shape == (4,)


# ---- bad input --------------------------------------------------------------------------------
def test_bad_seeds():
    for bad in [1.5, np.float32(2), True, "3", jnp.ones(())]:
        with pytest.raises(TypeError, match="integer"):
            xr.key(bad)
    with pytest.raises(TypeError, match="scalar seed"):
        xr.PRNGKey(np.arange(2))
    with pytest.raises(TypeError, match="PRNG key"):
        xr.key(xr.key(0))


def test_bad_keys():
    with pytest.raises(TypeError, match=r"uint32 array whose last axis has size 2"):
        xr.normal(jnp.zeros(3, jnp.uint32))
    with pytest.raises(TypeError, match="uint32"):
        xr.normal(jnp.zeros(2, jnp.float32))
    with pytest.raises(TypeError, match="expected a PRNG key"):
        xr.uniform(0)
    with pytest.raises(ValueError, match="single key"):
        xr.normal(xr.split(xr.key(0), 3))


def test_bad_shapes_and_params():
    k = xr.key(0)
    with pytest.raises(ValueError, match="negative"):
        xr.normal(k, (-1,))
    with pytest.raises(TypeError, match="shape"):
        xr.normal(k, (2.5,))
    with pytest.raises(ValueError, match="broadcast"):
        xr.uniform(k, (3,), minval=np.zeros(4))
    with pytest.raises(ValueError, match="larger sample"):
        xr.choice(k, 3, (5,), replace=False)
    with pytest.raises(ValueError, match="p must be"):
        xr.choice(k, 3, (2,), p=np.ones(4) / 4)
    with pytest.raises(ValueError, match="float dtype"):
        xr.uniform(k, (2,), jnp.int32)
    with pytest.raises(TypeError, match="integer"):
        xr.randint(k, (2,), 0, 3, jnp.float32)
    with pytest.raises(ValueError, match="cannot exceed"):
        xr.categorical(k, jnp.zeros(3), shape=(4,), replace=False)


def test_keys_as_scan_carry_match_jax():
    from jaxel import lax
    jax = pytest.importorskip("jax")

    def step(lib):
        def f(k, _):
            k, sub = lib.random.split(k)
            return k, lib.random.normal(sub, (2,))
        return f
    _, ours = lax.scan(step(jaxel), jaxel.random.key(0), None, length=3)
    _, theirs = jax.lax.scan(step(jax), jax.random.key(0), None, length=3)
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))
