"""Registry-driven checks of every primitive.

For each reference case: the eager result matches the NumPy reference, the jitted result matches
the eager one, and abstract evaluation (``eval_shape``) predicts the actual shape and dtype.
A primitive registered in ``jaxel.tracing.core.primitives`` without cases fails the suite.
"""
from __future__ import annotations

import importlib
import pkgutil

import numpy as np
import pytest

import jaxel
from jaxel.tracing.core import primitives
from tests import lax as _cases_pkg
from tests.lax.case import tolerance

# Higher-order primitives are checked by the tests of the feature they implement.
CHECKED_ELSEWHERE = {"jit", "custom_jvp_call", "custom_vjp_call", "custom_lin",  # test_jit, test_custom_derivatives
                     "checkpoint", "name",  # tests/transforms/test_checkpoint.py
                     # collectives need a named axis: tests/transforms/test_vmap_collectives.py
                     "psum", "pmax", "pmin", "all_gather", "psum_scatter", "ppermute",
                     "all_to_all", "axis_index",
                     # device collectives and shard_map: tests/parallel/test_shard_map.py
                     "psum_invariant", "pvary", "shard_map", "all_gather_invariant",
                     # control flow: tests/transforms/test_{cond,while_loop,scan,linear_solve}.py
                     "cond", "while", "scan", "custom_linear_solve",
                     # tests/transforms/test_custom_derivatives_names.py (remat_opt: refuses)
                     "linear_call", "remat_opt",
                     "custom_vmap_call",  # tests/test_custom_batching.py
                     "inspect_sharding",  # tests/parallel/test_visualize.py
                     # host callbacks: tests/callbacks/
                     "pure_callback", "io_callback", "debug_callback",
                     "sharding_constraint",  # tests/parallel/test_jit_sharding.py
                     # tests/parallel/test_ragged_and_device_put.py
                     "ragged_all_to_all", "device_put"}


def _all_cases():
    cases = {}
    for mod in pkgutil.iter_modules(_cases_pkg.__path__):
        if mod.name.startswith("cases_"):
            m = importlib.import_module(f"tests.lax.{mod.name}")
            for name, lst in m.CASES.items():
                cases.setdefault(name, []).extend(lst)
    return cases


ALL_CASES = _all_cases()
FLAT = [(name, c) for name, lst in sorted(ALL_CASES.items()) for c in lst]


def test_every_primitive_has_reference_cases():
    missing = sorted(set(primitives) - set(ALL_CASES) - CHECKED_ELSEWHERE)
    assert not missing, f"primitives without reference cases: {missing}"
    unknown = sorted(set(ALL_CASES) - set(primitives))
    assert not unknown, f"cases for primitives that do not exist: {unknown}"


def _compare(got, want, rtol, atol, what):
    got = np.asarray(got)
    want = np.asarray(want)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    if got.dtype.kind in "fcV" or got.dtype.name == "bfloat16":
        np.testing.assert_allclose(got.astype(np.complex128 if got.dtype.kind == "c" else
                                              np.float64),
                                   want.astype(np.complex128 if want.dtype.kind == "c" else
                                               np.float64),
                                   rtol=rtol, atol=atol, err_msg=what, equal_nan=True)
    else:
        np.testing.assert_array_equal(got, want, err_msg=what)


@pytest.mark.parametrize("name,case", FLAT, ids=[c.name for _, c in FLAT])
def test_primitive_case(name, case):
    ctx = jaxel.config._override("jax_enable_x64", True) if case.x64 else _null()
    with ctx:
        inputs = case.inputs()
        args = [jaxel.numpy.asarray(x) for x in inputs]
        eager = case.fn(*args)
        want = case.ref(*[np.asarray(x) for x in inputs])
        eager_l = eager if isinstance(eager, (list, tuple)) else [eager]
        want_l = want if isinstance(want, (list, tuple)) else [want]
        for i, (g, w) in enumerate(zip(eager_l, want_l)):
            dflt = tolerance(np.asarray(g).dtype)
            rtol = case.rtol if case.rtol is not None else dflt[0]
            atol = case.atol if case.atol is not None else dflt[1]
            _compare(g, w, rtol, atol, f"{case.name}: eager output {i} vs reference")
        jitted = jaxel.jit(case.fn)(*args)
        jit_l = jitted if isinstance(jitted, (list, tuple)) else [jitted]
        shapes = jaxel.eval_shape(case.fn, *args)
        shapes_l = shapes if isinstance(shapes, (list, tuple)) else [shapes]
        for i, (e, j, s) in enumerate(zip(eager_l, jit_l, shapes_l)):
            assert e.dtype == j.dtype, f"{case.name}: jit dtype {j.dtype} != eager {e.dtype}"
            if case.exact_jit:
                _compare(j, e, 0, 0, f"{case.name}: jit output {i} vs eager") \
                    if np.asarray(e).dtype.kind not in "fc" else \
                    _compare(j, e, 1e-6, 1e-6, f"{case.name}: jit output {i} vs eager")
            else:
                dflt = tolerance(np.asarray(e).dtype)
                _compare(j, e, dflt[0], dflt[1], f"{case.name}: jit output {i} vs eager")
            assert (tuple(s.shape), np.dtype(s.dtype)) == (e.shape, e.dtype), \
                f"{case.name}: abstract eval {s} vs actual {e.shape} {e.dtype}"


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False
