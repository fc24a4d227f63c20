"""jaxel.debug.print / debug.callback against JAX 0.12.1: the printed lines eagerly, under jit,
vmap (one line per example), grad (forward pass; custom_vjp backward), scan/cond/while."""
import numpy as np
import pytest

import jaxel
from jaxel import numpy as jnp
from tests.callbacks.oracle import printed


def _f(a):
    def f(x):
        a["debug"].print("x={x} y={}", x * 2, x=x)
        return x + 1
    return f


@pytest.mark.parametrize("how", ["eager", "jit"])
def test_print_fields(capsys, how):
    def run(a):
        f = _f(a)
        return (a["jit"](f) if how == "jit" else f)(a["np"].float32(1.5))
    ours, theirs, r1, r2 = printed(capsys, run)
    assert ours == theirs == ["x=1.5 y=3.0"]
    assert float(r1) == float(r2) == 2.5


@pytest.mark.parametrize("how", ["eager", "jit"])
def test_print_under_vmap_one_line_per_example(capsys, how):
    def run(a):
        f = a["vmap"](_f(a))
        return (a["jit"](f) if how == "jit" else f)(a["np"].arange(3.0))
    ours, theirs, _, _ = printed(capsys, run)
    assert sorted(ours) == sorted(theirs) == ["x=0.0 y=0.0", "x=1.0 y=2.0", "x=2.0 y=4.0"]
    if how == "eager":
        assert ours == theirs  # eagerly the examples print in order


def test_print_in_grad_forward_pass(capsys):
    def run(a):
        def g(x):
            a["debug"].print("g {}", x)
            return a["np"].sin(x)
        return a["jit"](a["grad"](g))(0.5)
    ours, theirs, r1, r2 = printed(capsys, run)
    assert ours == theirs == ["g 0.5"]
    np.testing.assert_allclose(r1, np.cos(0.5), rtol=1e-6)


def test_print_in_custom_vjp_backward(capsys):
    def run(a):
        @a["custom_vjp"]
        def h(x):
            return a["np"].sin(x)

        def bwd(res, g):
            a["debug"].print("bwd res={} g={}", res, g)
            return (g * a["np"].cos(res),)
        h.defvjp(lambda x: (h(x), x), bwd)
        return a["jit"](a["grad"](h))(0.5)
    ours, theirs, r1, r2 = printed(capsys, run)
    assert ours == theirs == ["bwd res=0.5 g=1.0"]
    np.testing.assert_allclose(r1, r2, rtol=1e-6)


def test_print_in_scan_cond_while(capsys):
    def run(a):
        lax = a["lax"]

        def f(x):
            lax.cond(x > 0, lambda: a["debug"].print("pos {}", x),
                     lambda: a["debug"].print("neg {}", x))

            def body(c, _):
                a["debug"].print("scan {}", c, ordered=True)
                return c + 1, None
            c = lax.scan(body, 0, None, length=3)[0]

            def wbody(i):
                a["debug"].print("while {}", i, ordered=True)
                return i + 1
            return lax.while_loop(lambda i: i < 2, wbody, c)
        return a["jit"](f)(-1.0)
    ours, theirs, r1, r2 = printed(capsys, run)
    assert ours == theirs == ["neg -1.0", "scan 0", "scan 1", "scan 2"]
    assert int(r1) == int(r2) == 3


def test_callback_receives_numpy_in_jit_and_arrays_eagerly():
    seen = []
    jaxel.debug.callback(lambda x: seen.append(type(x)), jnp.ones(2))
    jaxel.jit(lambda x: jaxel.debug.callback(lambda v: seen.append(type(v)), x))(jnp.ones(2))
    assert seen == [jaxel.Array, np.ndarray]


def test_callback_kwargs_and_pytrees():
    seen = []
    f = lambda x: jaxel.debug.callback(lambda t, k: seen.append((t["a"].tolist(), k.tolist())),
                                       {"a": x}, k=x * 2)
    jaxel.jit(f)(jnp.arange(2))
    assert seen == [([0, 1], [0, 2])]


def test_unused_debug_callback_survives_dce():
    seen = []
    jaxel.jit(lambda x: (jaxel.debug.callback(seen.append, x), x)[1])(1.0)
    assert len(seen) == 1


def test_print_requires_format_string():
    with pytest.raises(TypeError):
        jaxel.debug.print(1.0)
