"""vmap of the slicing primitives (dynamic_slice, dynamic_update_slice, gather, scatter family)
through jaxel.numpy indexing and lax, against Python loops over the examples: every pattern of
batched/unbatched operand, indices and updates, indices that differ per example (some out of
bounds, per ``mode``), nested vmap, and the shape of the staged program."""
from __future__ import annotations

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel import lax

B = 4
RNG = np.random.default_rng(0)
X = RNG.standard_normal((B, 5, 3)).astype(np.float32)  # B operands of shape (5, 3)
IDX = np.array([[0, 4, 2], [1, 1, 3], [-1, 0, 2], [3, 3, 3]], np.int32)  # B index vectors
V = RNG.standard_normal((B, 3, 3)).astype(np.float32)  # B update blocks


def _stack_at(a, axis):
    """The batched argument for ``in_axes`` entry ``axis`` (example 0 when unmapped)."""
    return jnp.asarray(a[0] if axis is None else np.moveaxis(a, 0, axis))


def _loop(f, args, in_axes):
    """Stack f over examples (unmapped arguments are example 0 for every example)."""
    outs = []
    for k in range(B):
        ex = [jnp.asarray(a[0] if ax is None else a[k]) for a, ax in zip(args, in_axes)]
        outs.append(np.asarray(f(*ex)))
    return np.stack(outs)


def _check(f, args, in_axes, **kw):
    batched = [_stack_at(a, ax) for a, ax in zip(args, in_axes)]
    got = np.asarray(jaxel.vmap(f, in_axes=in_axes)(*batched))
    want = _loop(f, args, in_axes)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6, **kw)
    got_jit = np.asarray(jaxel.jit(jaxel.vmap(f, in_axes=in_axes))(*batched))
    np.testing.assert_allclose(got_jit, want, rtol=1e-6, atol=1e-6, **kw)


AXES2 = [(0, 0), (None, 0), (0, None), (1, 0), (2, 0), (1, None)]
AXES3 = [(0, 0, 0), (None, 0, 0), (None, 0, None), (0, None, 0), (0, None, None),
         (None, None, 0), (1, 0, 2), (2, None, 1), (None, 0, 1), (0, 0, None)]


@pytest.mark.parametrize("in_axes", AXES2)
def test_integer_array_indexing(in_axes):
    _check(lambda x, i: x[i], [X, IDX], in_axes)


@pytest.mark.parametrize("in_axes", AXES2)
def test_indexing_second_axis_and_slices(in_axes):
    idx = np.array([[0, 2], [1, 1], [2, 0], [-1, 1]], np.int32)
    _check(lambda x, i: x[1:, i], [X, idx], in_axes)


@pytest.mark.parametrize("mode", ["fill", "clip"])
@pytest.mark.parametrize("in_axes", AXES2)
def test_out_of_bounds_get_per_example(in_axes, mode):
    idx = np.array([[0, 7, 2], [-9, 1, 5], [4, 0, 6], [3, -2, 100]], np.int32)
    _check(lambda x, i: x.at[i].get(mode=mode, fill_value=-3.0), [X, idx], in_axes)


@pytest.mark.parametrize("in_axes", AXES3)
def test_at_add_duplicates(in_axes):
    _check(lambda x, i, v: x.at[i].add(v), [X, IDX, V], in_axes)


@pytest.mark.parametrize("in_axes", AXES3)
def test_at_set_unique(in_axes):
    idx = np.array([[0, 4, 2], [1, 3, 0], [2, 0, 4], [4, 3, 1]], np.int32)
    _check(lambda x, i, v: x.at[i].set(v, unique_indices=True), [X, idx, V], in_axes)


@pytest.mark.parametrize("mode", ["drop", "clip"])
@pytest.mark.parametrize("in_axes", [(0, 0, 0), (None, 0, 0), (None, 0, None), (1, 0, 2)])
def test_at_max_out_of_bounds(in_axes, mode):
    idx = np.array([[0, 7, 2], [-9, 1, 5], [4, 0, 6], [3, -2, 100]], np.int32)
    _check(lambda x, i, v: x.at[i].max(v, mode=mode), [X, idx, V], in_axes)


@pytest.mark.parametrize("in_axes", [(0, 0, 0), (None, 0, 0), (0, None, 0), (1, 0, None)])
def test_at_add_scalar_entries(in_axes):
    # Points (two index arrays): the scatter has no window dimensions.
    rows = np.array([[0, 4], [1, 1], [2, 0], [3, 3]], np.int32)
    vals = RNG.standard_normal((B, 2)).astype(np.float32)
    cols = np.array([2, 0], np.int32)
    _check(lambda x, r, v: x.at[r, cols].add(v), [X, rows, vals], in_axes)


STARTS = np.array([[0, 0], [4, 2], [-1, 1], [9, -7]], np.int32)  # some clamped


@pytest.mark.parametrize("in_axes", [(0, 0, 0), (None, 0, 0), (None, 0, None), (0, None, 0),
                                     (1, 0, None), (2, None, 0), (0, None, None)])
def test_dynamic_slice(in_axes):
    f = lambda x, i, j: lax.dynamic_slice(x, (i, j), (2, 2))  # noqa: E731
    _check(f, [X, STARTS[:, 0], STARTS[:, 1]], in_axes)


@pytest.mark.parametrize("in_axes", [(0, 0, 0, 0), (None, None, 0, 0), (None, 0, 0, None),
                                     (0, None, None, 0), (1, 0, 0, 0), (2, 1, None, None),
                                     (None, 0, None, None), (1, None, 0, None)])
def test_dynamic_update_slice(in_axes):
    u = RNG.standard_normal((B, 2, 2)).astype(np.float32)
    f = lambda x, u, i, j: lax.dynamic_update_slice(x, u, (i, j))  # noqa: E731
    _check(f, [X, u, STARTS[:, 0], STARTS[:, 1]], in_axes)


def test_dynamic_index_with_array_start():
    # jnp indexing with a traced scalar: dynamic_slice + squeeze.
    _check(lambda x, i: x[i], [X, np.array([0, 4, -1, 2], np.int32)], (0, 0))
    _check(lambda x, i: x[:, i], [X, np.array([0, 2, -1, 1], np.int32)], (None, 0))


def _prims(jaxpr):
    return [e.primitive.name for e in jaxpr.jaxpr.eqns]


def test_unbatched_starts_stay_dynamic_slice():
    f = lambda x, i: lax.dynamic_slice(x, (i, 1), (2, 2))  # noqa: E731
    for ax in (0, 1, 2):
        # out_axes=ax: the output stays where the rule puts it (vmap moves nothing either).
        jaxpr = jaxel.make_jaxpr(jaxel.vmap(f, in_axes=(ax, None), out_axes=ax))(
            _stack_at(X, ax), jnp.int32(3))
        prims = _prims(jaxpr)
        assert "dynamic_slice" in prims and "gather" not in prims and "transpose" not in prims, \
            prims
    g = lambda x, u, i: lax.dynamic_update_slice(x, u, (i, 0))  # noqa: E731
    jaxpr = jaxel.make_jaxpr(jaxel.vmap(g, in_axes=(1, 1, None), out_axes=1))(
        _stack_at(X, 1), jnp.zeros((2, B, 3)), jnp.int32(3))
    prims = _prims(jaxpr)
    assert "dynamic_update_slice" in prims and "scatter" not in prims and \
        "transpose" not in prims, prims


def test_batched_starts_become_gather_with_batching_dims():
    f = lambda x, i: lax.dynamic_slice(x, (i, 1), (2, 2))  # noqa: E731
    jaxpr = jaxel.make_jaxpr(jaxel.vmap(f))(jnp.asarray(X), jnp.asarray(STARTS[:, 0]))
    (eqn,) = [e for e in jaxpr.jaxpr.eqns if e.primitive.name == "gather"]
    dn = eqn.params["dimension_numbers"]
    assert dn.operand_batching_dims == (0,) and dn.start_indices_batching_dims == (0,)
    assert eqn.params["mode"] == lax.GatherScatterMode.CLIP


def test_gather_operand_batched_needs_no_transpose():
    jaxpr = jaxel.make_jaxpr(jaxel.vmap(lambda x, i: x[i], in_axes=(1, None)))(
        _stack_at(X, 1), jnp.asarray(IDX[0]))
    assert "transpose" not in _prims(jaxpr)


def test_nested_vmap_gather_and_scatter():
    # The inner vmap's batching dimensions are already present when the outer one applies.
    xs = RNG.standard_normal((2, B, 5, 3)).astype(np.float32)
    idx = np.stack([IDX, IDX[::-1] % 5])
    vs = RNG.standard_normal((2, B, 3, 3)).astype(np.float32)
    get = jaxel.vmap(jaxel.vmap(lambda x, i: x[i]), in_axes=(0, 0))
    want = np.stack([np.stack([xs[a, b][idx[a, b]] for b in range(B)]) for a in range(2)])
    np.testing.assert_allclose(np.asarray(get(jnp.asarray(xs), jnp.asarray(idx))), want)
    add = jaxel.vmap(jaxel.vmap(lambda x, i, v: x.at[i].add(v), in_axes=(None, 0, 0)),
                     in_axes=(0, 0, 1))
    vs_t = np.swapaxes(vs, 0, 1)
    got = np.asarray(add(jnp.asarray(xs[:, 0]), jnp.asarray(idx), jnp.asarray(vs_t)))
    want = np.empty((2, B, 5, 3), np.float32)
    for a in range(2):
        for b in range(B):
            w = xs[a, 0].copy()
            np.add.at(w, idx[a, b], vs[a, b])
            want[a, b] = w
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def test_grad_through_vmapped_batched_starts():
    # vmap of grad and grad of vmap agree with the per-example gradient (the batched gather's
    # transpose is a scatter-add with batching dimensions).
    def f(x, i):
        return jnp.sum(lax.dynamic_slice(x, (i, 1), (2, 2)) ** 2)

    xs, starts = jnp.asarray(X), jnp.asarray(STARTS[:, 0])
    per = np.stack([np.asarray(jaxel.grad(f)(xs[k], starts[k])) for k in range(B)])
    np.testing.assert_allclose(np.asarray(jaxel.vmap(jaxel.grad(f))(xs, starts)), per,
                               rtol=1e-6)
    total = jaxel.grad(lambda x: jnp.sum(jaxel.vmap(f)(x, starts)))(xs)
    np.testing.assert_allclose(np.asarray(total), per, rtol=1e-6)
