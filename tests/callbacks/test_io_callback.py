"""jaxel.experimental.io_callback against JAX 0.12.1: results, program order with ordered=True
(also inside scan and while_loop), kept when unused, vmap (per example; ordered refuses), grad
refuses, the callback's exception surfacing by name."""
import jax
import numpy as np
import pytest

import jaxel
from jaxel import lax
from jaxel import numpy as jnp
from jaxel.experimental import io_callback
from tests.callbacks.oracle import printed

S = jaxel.ShapeDtypeStruct


def test_result_eager_and_jit():
    log = []

    def cb(x):
        log.append(np.asarray(x).tolist())
        return np.asarray(x) * 2
    f = lambda x: io_callback(cb, S((2,), np.float32), x) + 1
    np.testing.assert_array_equal(f(jnp.ones(2)), [3.0, 3.0])
    np.testing.assert_array_equal(jaxel.jit(f)(jnp.ones(2)), [3.0, 3.0])
    assert log == [[1.0, 1.0], [1.0, 1.0]]


def test_ordered_program_order_in_scan_and_while(capsys):
    def run(a):
        lax = a["lax"]

        def say(tag):
            return lambda v: print(tag, int(v))

        def f(x):
            a["io_callback"](say("start"), None, x, ordered=True)

            def body(c, _):
                a["io_callback"](say("scan-a"), None, c, ordered=True)
                a["io_callback"](say("scan-b"), None, c * 10, ordered=True)
                return c + 1, None
            c = lax.scan(body, x, None, length=3)[0]

            def wbody(i):
                a["io_callback"](say("while"), None, i, ordered=True)
                return i + 1
            c = lax.while_loop(lambda i: i < 5, wbody, c)
            a["io_callback"](say("end"), None, c, ordered=True)
            return c
        return a["jit"](f)(0)
    ours, theirs, r1, r2 = printed(capsys, run)
    assert ours == theirs
    assert ours[:3] == ["start 0", "scan-a 0", "scan-b 0"] and ours[-1] == "end 5"
    assert int(r1) == int(r2) == 5


def test_unused_io_callback_is_kept():
    calls = []
    jaxel.jit(lambda x: (io_callback(lambda v: calls.append(1) or v, S((), np.float32), x),
                         x)[1])(1.0)
    assert calls == [1]


def test_vmap_per_example_and_ordered_refused():
    seen = []
    out = jaxel.vmap(lambda x: io_callback(lambda v: seen.append(float(v)) or v,
                                           S((), np.float32), x))(jnp.arange(3.0))
    np.testing.assert_array_equal(out, [0.0, 1.0, 2.0])
    assert seen == [0.0, 1.0, 2.0]
    with pytest.raises(ValueError, match="Cannot `vmap` ordered IO callback."):
        jaxel.vmap(lambda x: io_callback(lambda v: v, S((), np.float32), x,
                                         ordered=True))(jnp.arange(3.0))


def test_grad_refused_like_jax():
    with pytest.raises(ValueError) as ours:
        jaxel.grad(lambda x: io_callback(lambda v: v, S((), np.float32), x))(1.0)
    with pytest.raises(ValueError) as theirs:
        jax.grad(lambda x: jax.experimental.io_callback(
            lambda v: v, jax.ShapeDtypeStruct((), np.float32), x))(1.0)
    assert str(ours.value) == str(theirs.value)


def test_exception_in_ordered_loop_names_callback():
    def explode(v):
        if int(v) == 1:
            raise ZeroDivisionError("at one")

    def f(x):
        def body(c, _):
            io_callback(explode, None, c, ordered=True)
            return c + 1, None
        return lax.scan(body, x, None, length=3)[0]
    with pytest.raises(ZeroDivisionError, match="at one") as e:
        jaxel.jit(f)(0)
    assert "explode" in "".join(e.value.__notes__)


def test_reachable_as_attribute_of_experimental():
    assert jaxel.experimental.io_callback is io_callback
