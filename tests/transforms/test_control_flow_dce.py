"""Dead-code elimination inside higher-order primitives: unused outputs of cond, scan,
while_loop and jit drop the inner work (and the carries, consts and operands) only they
needed, and the pruned program computes the same values."""
from __future__ import annotations

import numpy as np

import jaxel
import jaxel.numpy as jnp
from jaxel import lax
from jaxel.jaxpr.dce import dce_jaxpr
from jaxel.jaxpr.eval import eval_jaxpr


def _program(x, y):
    a = lax.cond(x[0] > 0, lambda x, y: (jnp.sin(x), jnp.cos(y) * 2),
                 lambda x, y: (x, y * 3), x, y)

    def step(c, xs):
        c1, c2 = c
        return (c1 + xs, c2 * jnp.exp(xs)), (jnp.sum(c1), jnp.tanh(xs))
    (c1, _), (_, y2) = lax.scan(step, (x, y), jnp.ones((4, 3)))
    w = lax.while_loop(lambda s: s[0] < 3, lambda s: (s[0] + 1, s[1] * 2, jnp.sin(s[2])),
                       (0, x, y))
    j = jaxel.jit(lambda x, y: (x * 2, jnp.log(y)))(x, y)
    return a[0] + c1 + jnp.sum(y2) + w[1] + j[0]


def _eqn(jaxpr, name):
    return next(e for e in jaxpr.eqns if e.primitive.name == name)


def test_dce_prunes_inside_control_flow_and_keeps_values():
    x, y = jnp.asarray([0.5, 1.0, 2.0]), jnp.asarray([1.5, 2.0, 0.5])
    closed = jaxel.make_jaxpr(_program)(x, y)
    new, used = dce_jaxpr(closed.jaxpr)
    assert used == [True, False]  # y fed only outputs nobody uses
    cond = _eqn(new, "cond")
    assert len(cond.outvars) == 1 and all(len(b.jaxpr.invars) == 1
                                          for b in cond.params["branches"])
    scan = _eqn(new, "scan")
    assert scan.params["num_carry"] == 1 and len(scan.outvars) == 2
    assert "exp" not in str(scan.params["jaxpr"])
    loop = _eqn(new, "while")
    assert len(loop.outvars) == 2 and "sin" not in str(loop.params["body_jaxpr"])
    jit = _eqn(new, "jit")
    assert len(jit.outvars) == 1 and "log" not in str(jit.params["jaxpr"])
    got = eval_jaxpr(new, closed.consts, x, y)[0]
    np.testing.assert_allclose(np.asarray(got), np.asarray(_program(x, y)), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(jaxel.jit(_program)(x, y)),
                               np.asarray(_program(x, y)), rtol=1e-6)


def test_while_keeps_carries_the_condition_reads():
    def f(x):
        _, _, out = lax.while_loop(lambda s: s[1] < 10.0,
                                   lambda s: (s[0] + 1, s[1] * 2.0, s[2] + s[0]),
                                   (0, x, 0))
        return out
    closed = jaxel.make_jaxpr(f)(1.0)
    new, _ = dce_jaxpr(closed.jaxpr)
    assert len(_eqn(new, "while").outvars) == 3  # the counter feeds out, x feeds the cond
    assert int(eval_jaxpr(new, closed.consts, 1.0)[0]) == int(f(1.0)) == 6
