"""Registry-driven checks of every primitive's differentiation rules.

For each reference case (the tables in ``cases_*.py``) with float32/float64/complex64 inputs:
  * JVP vs central finite differences (computed in float64 where the case allows);
  * reverse mode vs forward mode by the dot-product identity ``<ct, J t> == <J^T ct, t>``,
    which checks each transpose rule against its JVP rule.
Primitives without a JVP rule fail ``test_every_primitive_has_a_jvp_rule``.
"""
from __future__ import annotations

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel.tracing.core import primitives
from tests.lax.test_primitives import FLAT, CHECKED_ELSEWHERE, _null

DIFF_DTYPES = {np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.complex64),
               np.dtype(np.complex128)}
# Primitives whose JVP is zero almost everywhere, or that are not differentiable: only the
# "tangent is zero / float0" property is checked for them (by the dot-product test).
PIECEWISE_CONSTANT = {"floor", "ceil", "round", "sign", "eq", "ne", "lt", "le", "gt", "ge",
                      "is_finite", "argmax", "argmin", "iota", "nextafter", "reduce_precision",
                      "stop_gradient"}  # zero derivative by definition


# Cases built around NaN/inf or ties that test primal semantics; their derivative is undefined
# at the inputs (only the transpose test runs on them).
NOT_DIFFERENTIABLE_AT_INPUTS = {"cumlogsumexp-inf", "cummin-nan-rev", "sort-nan-signed-zero",
                                "top_k-nan-ties"}
# Forward mode only (as in JAX): a general reduce_window's tangent is a reduce_window of
# (primal, tangent) pairs, which has no transpose.
FORWARD_ONLY = {"reduce_window"}
# Precision-specific by nature: rounding the tangent to bf16 is only approximately linear.
NOT_WIDENED = {"reduce_precision"}


def _diff_positions(inputs):
    return [i for i, x in enumerate(inputs) if np.asarray(x).dtype in DIFF_DTYPES]


_WIDEN = {np.dtype(np.float32): np.dtype(np.float64), np.dtype(np.complex64): np.dtype(np.complex128)}


class _Widened:
    """A float32/complex64 case re-run in float64/complex128 under x64, so every rule is checked
    in double precision too (where finite differences are sharp)."""

    def __init__(self, case):
        self.case = case
        self.name = case.name + "-as-f64"
        self.fn = case.fn
        self.x64 = True

    def inputs(self):
        return [np.asarray(x).astype(_WIDEN[np.asarray(x).dtype])
                if np.asarray(x).dtype in _WIDEN else x for x in self.case.inputs()]


def _cases():
    out = []
    for name, case in FLAT:
        if name in CHECKED_ELSEWHERE:
            continue
        inputs = case.inputs()
        if not _diff_positions(inputs) or any(0 in np.shape(x) for x in inputs):
            continue
        out.append((name, case))
        if not case.x64 and name not in NOT_WIDENED and any(np.asarray(x).dtype in _WIDEN for x in inputs):
            out.append((name, _Widened(case)))
    return out


AD_CASES = _cases()


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _skip_without_rules(case, inputs, need_transpose=False):
    """Skip while a primitive the case uses has no rule yet (the coverage test below is what
    fails for a missing rule)."""
    jaxpr = jaxel.make_jaxpr(case.fn)(*[jnp.asarray(x) for x in inputs])
    missing = sorted({e.primitive.name for e in jaxpr.jaxpr.eqns if e.primitive.jvp is None})
    if missing:
        pytest.skip(f"no JVP rule yet for {missing}")


def _partial(case, inputs, pos):
    def f(*dyn):
        args = [jnp.asarray(x) for x in inputs]
        for p, d in zip(pos, dyn):
            args[p] = d
        return _as_list(case.fn(*args))
    return f


def _random_like(x, rng):
    x = np.asarray(x)
    v = rng.standard_normal(x.shape)
    if x.dtype.kind == "c":
        v = v + 1j * rng.standard_normal(x.shape)
    return v.astype(x.dtype)


def _inner(a, b):
    a = np.asarray(a)
    b = np.asarray(b)
    if a.dtype == jaxel.dtypes.float0 or b.dtype == jaxel.dtypes.float0:
        return 0.0
    # Re(sum(a * b)): JAX's VJPs transpose without conjugating, and a real-valued function of a
    # complex input pairs its cotangent with the real part (real/imag/complex/abs transposes).
    return np.real(np.sum(a.astype(np.complex128) * b.astype(np.complex128)))


def _central_differences(f, primals, tangents, h):
    """(f(x + h t) - f(x - h t)) / 2h for every output, in complex128."""
    plus = f(*[p + h * t for p, t in zip(primals, tangents)])
    minus = f(*[p - h * t for p, t in zip(primals, tangents)])
    return [(np.asarray(a, np.complex128) - np.asarray(b, np.complex128)) / (2 * h)
            for a, b in zip(plus, minus)]


@pytest.mark.parametrize("name,case", AD_CASES, ids=[c.name for _, c in AD_CASES])
def test_jvp_matches_finite_differences(name, case):
    if name in PIECEWISE_CONSTANT:
        pytest.skip("piecewise constant: checked by the transpose test")
    if case.name.removesuffix("-as-f64") in NOT_DIFFERENTIABLE_AT_INPUTS:
        pytest.skip("special values: not differentiable at the inputs")
    ctx = jaxel.config._override("jax_enable_x64", True) if case.x64 else _null()
    with ctx:
        inputs = case.inputs()
        _skip_without_rules(case, inputs)
        pos = _diff_positions(inputs)
        rng = np.random.default_rng(0)
        primals = [jnp.asarray(inputs[p]) for p in pos]
        tangents = [jnp.asarray(_random_like(inputs[p], rng)) for p in pos]
        f = _partial(case, inputs, pos)
        outs, t_outs = jaxel.jvp(f, tuple(primals), tuple(tangents))
        double = all(np.asarray(inputs[p]).dtype in (np.float64, np.complex128) for p in pos)
        eps = 1e-6 if double else 1e-3
        fd_big, fd_small = (_central_differences(f, primals, tangents, h) for h in (eps, eps / 2))
        for i, (o, t) in enumerate(zip(outs, t_outs)):
            odt = np.asarray(o).dtype
            if odt.kind not in "fc" or odt.itemsize < 4 or (case.x64 and odt in _WIDEN):
                continue  # integer outputs, and outputs too coarse for these differences
            # Perturbing single-precision inputs rounds them, so their differences are only
            # as sharp as the inputs even where the output is double (preferred_element_type).
            tol = 1e-4 if double and odt in (np.float64, np.complex128) else 3e-2
            fd = fd_small[i]
            # Compare where the derivative exists: the output is finite and the differences at
            # two step sizes agree (they do not beside a discontinuity such as rem's, or a pole).
            finite = np.isfinite(np.asarray(o, np.complex128))  # e.g. NaN fill values
            smooth = finite & (np.abs(fd_big[i] - fd) <= tol * (1 + np.abs(fd)))
            assert smooth.sum() >= finite.sum() / 2, \
                f"{case.name}: output {i} is not smooth at most of the inputs"
            np.testing.assert_allclose(np.asarray(t, np.complex128)[smooth], fd[smooth],
                                       rtol=tol, atol=tol,
                                       err_msg=f"{case.name}: output {i} tangent vs finite "
                                               "differences")


@pytest.mark.parametrize("name,case", AD_CASES, ids=[c.name for _, c in AD_CASES])
def test_vjp_is_transpose_of_jvp(name, case):
    if name in FORWARD_ONLY:
        pytest.skip("forward-mode differentiation only")
    ctx = jaxel.config._override("jax_enable_x64", True) if case.x64 else _null()
    with ctx:
        inputs = case.inputs()
        _skip_without_rules(case, inputs)
        pos = _diff_positions(inputs)
        rng = np.random.default_rng(1)
        primals = [jnp.asarray(inputs[p]) for p in pos]
        tangents = [jnp.asarray(_random_like(inputs[p], rng)) for p in pos]
        f = _partial(case, inputs, pos)
        _, t_outs = jaxel.jvp(f, tuple(primals), tuple(tangents))
        outs, pullback = jaxel.vjp(f, *primals)
        cts = [np.zeros(np.shape(o), jaxel.dtypes.float0) if np.asarray(o).dtype.kind not in "fc"
               else jnp.asarray(_random_like(o, rng)) for o in outs]
        ct_ins = pullback(cts)
        lhs = sum(_inner(c, t) for c, t in zip(cts, t_outs))
        rhs = sum(_inner(t, c) for c, t in zip(ct_ins, tangents))
        scale = 1 + abs(lhs) + abs(rhs)
        tol = 1e-4 if case.x64 else 2e-3
        assert abs(lhs - rhs) <= tol * scale, f"{case.name}: <ct, Jt> = {lhs} != <J^T ct, t> = {rhs}"


def test_every_primitive_has_a_jvp_rule():
    missing = sorted(n for n, p in primitives.items() if p.jvp is None)
    assert not missing, f"primitives without a JVP rule: {missing}"
