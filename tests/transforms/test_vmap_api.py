"""The public ``vmap`` API: in_axes/out_axes forms, keyword arguments, axis_size, nesting,
composition with jit and autodiff, closures over outer tracers, and the errors for bad input.
Every result is checked against a Python loop over examples (or NumPy)."""
from __future__ import annotations

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel import lax

RNG = np.random.default_rng(0)


def _arr(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def _loop(f, args, in_axes, out_axis=0):
    """Reference: apply ``f`` per example and stack (in_axes is a tuple of int/None)."""
    n = next(np.shape(a)[ax] for a, ax in zip(args, in_axes) if ax is not None)
    outs = []
    for i in range(n):
        ex = [a if ax is None else np.take(a, i, axis=ax) for a, ax in zip(args, in_axes)]
        outs.append(np.asarray(f(*[jnp.asarray(e) for e in ex])))
    return np.stack(outs, axis=out_axis)


def _close(a, b, tol=1e-5):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


# ---- in_axes / out_axes --------------------------------------------------------------------------
@pytest.mark.parametrize("in_axes", [(0, 0), (1, None), (-1, 0), (None, 1), (0, -2)])
def test_in_axes_forms_match_loop(in_axes):
    shapes = {0: (4, 3), 1: (3, 4), -1: (3, 4), -2: (4, 3), None: (3,)}
    f = lambda x, y: jnp.tanh(x) * y + x
    x = _arr(*shapes[in_axes[0]])
    y = _arr(*shapes[in_axes[1]])
    if in_axes[0] is None:
        x = _arr(3)
    got = jaxel.vmap(f, in_axes=in_axes)(x, y)
    _close(got, _loop(f, (x, y), in_axes))


def test_in_axes_list_is_read_as_tuple_and_dict_prefix():
    params = {"w": _arr(5, 3), "b": _arr(3)}
    xs = _arr(7, 5)
    f = lambda p, x: x @ p["w"] + p["b"]
    got = jaxel.vmap(f, in_axes=[{"w": None, "b": None}, 0])(params, xs)
    _close(got, xs @ params["w"] + params["b"])
    got = jaxel.vmap(f, in_axes=({"w": 1, "b": 0}, None))(
        {"w": _arr(5, 2, 3), "b": _arr(2, 3)}, xs[0])
    assert got.shape == (2, 3)


def test_keyword_arguments_are_mapped_along_axis_0():
    f = lambda x, *, scale: x * scale
    x, s = _arr(4, 3), _arr(4, 3)
    got = jaxel.vmap(f, in_axes=(None,))(x[0], scale=s)
    _close(got, x[0] * s)


@pytest.mark.parametrize("out_axes", [0, 1, -1])
def test_out_axes(out_axes):
    x = _arr(4, 3, 2)
    f = lambda v: jnp.sin(v) * 2
    got = jaxel.vmap(f, out_axes=out_axes)(x)
    _close(got, _loop(f, (x,), (0,), out_axis=out_axes))


def test_out_axes_pytree_prefix_and_none():
    x = _arr(4, 3)
    w = _arr(3)
    f = lambda v: {"y": v * 2, "w": w}
    got = jaxel.vmap(f, out_axes={"y": 1, "w": None})(x)
    _close(got["y"], (x * 2).T)
    _close(got["w"], w)


def test_unbatched_output_is_broadcast():
    got = jaxel.vmap(lambda v: jnp.ones(2), in_axes=0)(_arr(5, 3))
    assert got.shape == (5, 2)


def test_axis_size_without_mapped_inputs():
    got = jaxel.vmap(lambda: jnp.arange(3), in_axes=(), axis_size=4)()
    np.testing.assert_array_equal(np.asarray(got), np.tile(np.arange(3), (4, 1)))
    got = jaxel.vmap(lambda x: x + 1, in_axes=None, axis_size=2)(_arr(3))
    assert got.shape == (2, 3)


def test_nested_vmap_is_an_outer_product():
    x, y = _arr(4), _arr(5)
    got = jaxel.vmap(jaxel.vmap(lambda a, b: a * b, (None, 0)), (0, None))(x, y)
    _close(got, np.outer(x, y))


def test_python_scalars_and_numpy_inputs():
    got = jaxel.vmap(lambda a, b: a * b, in_axes=(0, None))(np.arange(3.0), 2.0)
    _close(got, np.arange(3.0) * 2)


# ---- composition ---------------------------------------------------------------------------------
def _mlp_loss(params, x, y):
    h = jnp.tanh(x @ params["w1"] + params["b1"])
    return jnp.sum((h @ params["w2"] - y) ** 2)


def _params():
    return {"w1": _arr(6, 8), "b1": _arr(8), "w2": _arr(8, 2)}


def test_per_example_gradients_match_loop():
    params, xs, ys = _params(), _arr(5, 6), _arr(5, 2)
    per_ex = jaxel.vmap(jaxel.grad(_mlp_loss), in_axes=(None, 0, 0))(params, xs, ys)
    for i in range(5):
        g = jaxel.grad(_mlp_loss)(params, xs[i], ys[i])
        for k in params:
            _close(per_ex[k][i], g[k], 1e-4)
    jitted = jaxel.jit(jaxel.vmap(jaxel.grad(_mlp_loss), in_axes=(None, 0, 0)))(params, xs, ys)
    for k in params:
        _close(jitted[k], per_ex[k], 1e-4)


def test_grad_of_vmap_equals_grad_of_sum():
    params, xs, ys = _params(), _arr(5, 6), _arr(5, 2)
    batched = lambda p: jnp.sum(jaxel.vmap(_mlp_loss, in_axes=(None, 0, 0))(p, xs, ys))
    looped = lambda p: sum(_mlp_loss(p, xs[i], ys[i]) for i in range(5))
    g1, g2 = jaxel.grad(batched)(params), jaxel.grad(looped)(params)
    for k in params:
        _close(g1[k], g2[k], 1e-4)


def test_vmap_of_jit_and_jit_of_vmap():
    f = jaxel.jit(lambda x, y: jnp.dot(x, y))
    x, y = _arr(4, 3), _arr(3, 2)
    _close(jaxel.vmap(f, in_axes=(0, None))(x, y), x @ y)
    _close(jaxel.jit(jaxel.vmap(f, in_axes=(0, None)))(x, y), x @ y)
    _close(jaxel.vmap(jaxel.vmap(f, in_axes=(None, 1)), in_axes=(0, None))(x, y), x @ y)


def test_vmap_of_jvp_and_hessian_vector_products():
    f = lambda x: jnp.sum(jnp.sin(x) ** 2)
    x = _arr(3)
    vs = _arr(4, 3)
    hvp = lambda v: jaxel.jvp(jaxel.grad(f), (jnp.asarray(x),), (v,))[1]
    got = jaxel.vmap(hvp)(vs)
    _close(got, _loop(hvp, (vs,), (0,)), 1e-4)


def test_vmap_closing_over_outer_tracers():
    # vmap inside grad, closing over the differentiated value (no perturbation confusion).
    def f(w):
        return jnp.sum(jaxel.vmap(lambda x: jnp.sin(w * x))(jnp.arange(3.0)))
    g = jaxel.grad(f)(0.5)
    _close(g, np.sum(np.arange(3.0) * np.cos(0.5 * np.arange(3.0))))
    # inner vmap closing over the outer vmap's per-example value
    x, y = _arr(4), _arr(5)
    got = jaxel.vmap(lambda a: jaxel.vmap(lambda b: a - b)(y))(x)
    _close(got, x[:, None] - y[None, :])


def test_vmap_of_grad_of_vmap():
    xs = _arr(3, 4, 2)
    inner = lambda w: jnp.sum(jaxel.vmap(lambda r: jnp.sum(r * w) ** 2)(xs[0]))
    f = lambda x: jaxel.grad(lambda w: jnp.sum(jaxel.vmap(lambda r: jnp.sum(r * w) ** 2)(x)))(
        jnp.ones(2))
    got = jaxel.vmap(f)(xs)
    _close(got[0], jaxel.grad(inner)(jnp.ones(2)), 1e-4)


def test_vmap_records_no_transpose_for_matching_axes():
    jaxpr = jaxel.make_jaxpr(jaxel.vmap(lambda x, y: jnp.sin(x) + y, in_axes=(1, 1), out_axes=1))(
        _arr(3, 4), _arr(3, 4))
    assert "transpose" not in str(jaxpr)


# ---- bad input -----------------------------------------------------------------------------------
def test_inconsistent_sizes_name_each_argument():
    def f(x, y):
        return x + y
    with pytest.raises(ValueError) as e:
        jaxel.vmap(f)(_arr(3, 2), _arr(4, 2))
    msg = str(e.value)
    assert "x has shape (3, 2)" in msg and "y has shape (4, 2)" in msg and "size 4" in msg


def test_in_axes_structure_mismatch_shows_both():
    with pytest.raises(ValueError) as e:
        jaxel.vmap(lambda p: p["a"], in_axes=({"a": 0, "b": 0},))({"a": _arr(3)})
    msg = str(e.value)
    assert "in_axes" in msg and "PyTreeDef" in msg


def test_in_axes_tuple_length_mismatch():
    with pytest.raises(ValueError, match="one entry per positional argument"):
        jaxel.vmap(lambda x, y: x, in_axes=(0,))(_arr(3), _arr(3))


def test_out_of_range_axis():
    with pytest.raises(ValueError, match="along axis 2.*rank 2"):
        jaxel.vmap(lambda x: x, in_axes=2)(_arr(3, 4))
    with pytest.raises(ValueError, match="out_axes=3 is out of range"):
        jaxel.vmap(lambda x: x, out_axes=3)(_arr(3, 4))


def test_bad_in_axes_type():
    with pytest.raises(TypeError, match="in_axes must be an int, None"):
        jaxel.vmap(lambda x: x, in_axes=0.5)(_arr(3))


def test_out_axes_not_matching_outputs():
    with pytest.raises(ValueError, match="out_axes"):
        jaxel.vmap(lambda x: (x, x), out_axes=(0, 0, 0))(_arr(3))


def test_out_axes_none_for_batched_output():
    with pytest.raises(ValueError, match="out_axes=None"):
        jaxel.vmap(lambda x: x * 2, out_axes=None)(_arr(3))


def test_no_mapped_input_without_axis_size():
    with pytest.raises(ValueError, match="at least one mapped input"):
        jaxel.vmap(lambda x: x, in_axes=None)(_arr(3))


def test_unknown_axis_name():
    with pytest.raises(NameError) as e:
        jaxel.vmap(lambda x: lax.psum(x, "batch"), axis_name="i")(_arr(3))
    assert "'batch'" in str(e.value) and "'i'" in str(e.value)
    with pytest.raises(NameError, match="no named axis is in scope"):
        lax.psum(jnp.ones(3), "i")


def test_python_control_flow_on_batched_values_is_a_clear_error():
    with pytest.raises(jaxel.errors.TracerBoolConversionError, match="BatchTrace"):
        jaxel.vmap(lambda x: 1.0 if x > 0 else 0.0)(_arr(3))
    with pytest.raises(jaxel.errors.TracerArrayConversionError):
        jaxel.grad(lambda x: np.asarray(x).sum())(1.0)
