"""The opt-in key-reuse check (jax_debug_key_reuse)."""
import pytest

import jaxel
from jaxel import random as xr
from jaxel.random import key_reuse


@pytest.fixture
def check():
    with jaxel.config._override("jax_debug_key_reuse", True):
        key_reuse.reset()
        yield
    key_reuse.reset()


def test_off_by_default():
    k = xr.key(0)
    xr.normal(k)
    xr.normal(k)


def test_eager_reuse_names_both_lines(check):
    k = xr.key(0)
    xr.normal(k, (2,))
    with pytest.raises(xr.KeyReuseError) as e:
        xr.uniform(k, (2,))
    msg = str(e.value)
    assert msg.count("test_key_reuse.py:") == 2 and "normal" in msg and "uniform" in msg


def test_split_then_use_is_fine(check):
    k = xr.key(1)
    k1, k2 = xr.split(k)
    xr.normal(k1)
    xr.normal(k2)
    xr.fold_in(k, 3)          # fold_in does not consume
    with pytest.raises(xr.KeyReuseError):
        xr.split(k)           # k was consumed by the first split
    ks = xr.split(xr.key(10), 3)
    xr.normal(ks[0])
    with pytest.raises(xr.KeyReuseError):
        xr.normal(ks[0])      # same value, new object


def test_raw_keys_clone_and_reseed(check):
    k = xr.PRNGKey(2)
    xr.bits(k)
    with pytest.raises(xr.KeyReuseError):
        xr.bits(k)
    k = xr.PRNGKey(2)         # explicit re-seeding re-arms the key
    c = xr.clone(k)
    xr.bits(k)
    xr.bits(c)                # the clone allows one more use


def test_inner_calls_do_not_count(check):
    k = xr.key(3)
    xr.t(k, 3.0, (2,))        # t splits internally and calls normal/gamma
    xr.choice(xr.key(4), 5, (2,), replace=False)


def test_reuse_within_traced_function(check):
    def f(k):
        return xr.normal(k) + xr.normal(k)
    with pytest.raises(xr.KeyReuseError):
        jaxel.jit(f)(xr.key(5))
    with pytest.raises(xr.KeyReuseError):
        jaxel.vmap(f)(xr.split(xr.key(6), 2))

    def g(k):
        a, b = xr.split(k)
        return xr.normal(a) + xr.normal(b)
    jaxel.jit(g)(xr.key(7))
