"""Registry-driven checks of every primitive's batching rule.

For each reference case (the tables in ``cases_*.py``), ``vmap`` of the case's function must
equal a Python loop over examples followed by stacking, for several ``in_axes`` patterns:
every input mapped along axis 0; along its last axis; the first input mapped along axis 1 (where
it has one) and the rest unmapped; and the last input mapped, the rest unmapped. Examples differ:
inputs generated from an ``Arg`` are drawn afresh per example; fixed inputs (index arrays and
the like, whose values carry meaning) are repeated. Primitives without a batching rule fail
``test_every_primitive_has_a_batching_rule``.
"""
from __future__ import annotations

import zlib

import numpy as np
import pytest

import jaxel
from jaxel.tracing.core import primitives
from tests.lax.case import Arg, tolerance
from tests.lax.test_primitives import CHECKED_ELSEWHERE, FLAT, _null

B = 3  # examples per batch

# Primitives whose checks live with their feature's tests (higher-order primitives).
BATCHING_CHECKED_ELSEWHERE = CHECKED_ELSEWHERE
# Primitives with no operands are never batched (vmap broadcasts their results).
NO_OPERANDS = {"iota"}


def test_every_primitive_has_a_batching_rule():
    missing = sorted(n for n, p in primitives.items()
                     if p.batch is None and p.batch_axis is None and n not in NO_OPERANDS)
    assert not missing, f"primitives without a batching rule: {missing}"


def _examples(case):
    """B input lists: fresh draws for generated inputs, repeats of fixed ones."""
    base = case.inputs()
    out = [base]
    for k in range(1, B):
        rng = np.random.default_rng(zlib.crc32(f"{case.name}#{k}".encode()))
        out.append([a.make(rng) if isinstance(a, Arg) else x for a, x in zip(case.args, base)])
    return out


def _patterns(inputs):
    """(label, in_axes) pairs for a case's inputs."""
    n = len(inputs)
    if n == 0:
        return [("axis_size", ())]
    ranks = [np.ndim(x) for x in inputs]
    pats = [("all0", (0,) * n), ("all-last", tuple(-1 for _ in range(n)))]
    if n > 1:
        pats.append(("first1", (min(1, ranks[0]),) + (None,) * (n - 1)))
        pats.append(("last-only", (None,) * (n - 1) + (-1,)))
    return pats


def _stack(xs, axis):
    """Stack examples so that the batch axis lands at ``axis`` (negative: from the end of the
    batched array)."""
    nd = np.ndim(xs[0]) + 1
    return np.stack(xs, axis=axis % nd)


def _cases():
    out = []
    for name, case in FLAT:
        if name in BATCHING_CHECKED_ELSEWHERE:
            continue
        for label, axes in _patterns(case.inputs()):
            out.append(pytest.param(name, case, axes, id=f"{case.name}-{label}"))
    return out


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _compare(got, want, dtype, case, what):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, \
        f"{case.name}: {what}: {got.dtype}{got.shape} vs looped {want.dtype}{want.shape}"
    dflt = tolerance(dtype)
    rtol = max(case.rtol if case.rtol is not None else 0, dflt[0])
    atol = max(case.atol if case.atol is not None else 0, dflt[1])
    if got.dtype.kind in "fcV" or got.dtype == jaxel.numpy.bfloat16:
        np.testing.assert_allclose(got.astype(np.complex128 if got.dtype.kind == "c" else
                                              np.float64),
                                   want.astype(np.complex128 if want.dtype.kind == "c" else
                                               np.float64),
                                   rtol=rtol, atol=atol, equal_nan=True,
                                   err_msg=f"{case.name}: {what}")
    else:
        np.testing.assert_array_equal(got, want, err_msg=f"{case.name}: {what}")


@pytest.mark.parametrize("name,case,in_axes", _cases())
def test_vmap_matches_loop(name, case, in_axes):
    ctx = jaxel.config._override("jax_enable_x64", True) if case.x64 else _null()
    with ctx:
        examples = _examples(case)
        axes = list(in_axes)
        # Unmapped inputs are the same in every example: the loop must see that too.
        for k in range(1, B):
            examples[k] = [examples[k][i] if a is not None else examples[0][i]
                           for i, a in enumerate(axes)]
        looped = [_as_list(case.fn(*[jaxel.numpy.asarray(x) for x in ex])) for ex in examples]
        batched_in = [jaxel.numpy.asarray(_stack([ex[i] for ex in examples], a)) if a is not None
                      else jaxel.numpy.asarray(examples[0][i]) for i, a in enumerate(axes)]
        got = _as_list(jaxel.vmap(case.fn, in_axes=tuple(axes),
                                  axis_size=None if axes else B)(*batched_in))
        assert len(got) == len(looped[0])
        for j, g in enumerate(got):
            want = np.stack([np.asarray(lp[j]) for lp in looped])
            _compare(g, want, want.dtype, case, f"vmap output {j} (in_axes={tuple(axes)})")
