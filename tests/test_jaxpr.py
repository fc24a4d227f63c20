"""make_jaxpr, the jaxpr printer, typechecker, eval_jaxpr, DCE, eval_shape."""
import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel.jaxpr import check_jaxpr, dce_jaxpr, eval_jaxpr
from jaxel.jaxpr.ir import JaxprTypeError


def test_print_matches_jax_text():
    jaxpr = jaxel.make_jaxpr(jnp.sin)(jnp.asarray(np.ones(3, np.float32)))
    assert str(jaxpr) == "{ lambda ; a:f32[3]. let b:f32[3] = sin a in (b,) }"


def test_print_literals_and_line_breaking():
    x = jnp.asarray(np.ones(3, np.float32))
    jaxpr = jaxel.make_jaxpr(lambda x: jnp.sin(x) * 2.0)(x)
    assert str(jaxpr) == "{ lambda ; a:f32[3]. let b:f32[3] = sin a; c:f32[3] = mul b 2.0:f32[] in (c,) }"
    long = jaxel.make_jaxpr(lambda x: jnp.cos(jnp.sin(x) * 2.0) + 1.0)(x)
    assert str(long) == ("{ lambda ; a:f32[3]. let\n    b:f32[3] = sin a\n"
                         "    c:f32[3] = mul b 2.0:f32[]\n    d:f32[3] = cos c\n"
                         "    e:f32[3] = add d 1.0:f32[]\n  in (e,) }")


def test_print_consts_and_params():
    c = jnp.asarray(np.ones(3, np.float32))
    jaxpr = jaxel.make_jaxpr(lambda x: jaxel.lax.reshape(x + c, (3, 1)))(c)
    text = str(jaxpr)
    assert text.startswith("{ lambda a:f32[3]; b:f32[3]. let")
    assert "reshape[dimensions=None new_sizes=(3, 1)" in text or "new_sizes=(3, 1)" in text


@pytest.mark.parametrize("ref", [True, False])
def test_against_jax_text(ref):
    jax = pytest.importorskip("jax")
    import jax.numpy as jjnp
    f = (lambda x: jnp.cos(x) + 1.0) if ref else (lambda x: jnp.exp(jnp.tanh(x)))
    g = (lambda x: jjnp.cos(x) + 1.0) if ref else (lambda x: jjnp.exp(jjnp.tanh(x)))
    x = np.ones((2, 3), np.float32)
    assert str(jaxel.make_jaxpr(f)(x)) == str(jax.make_jaxpr(g)(x))


def test_static_argnums_and_return_shape():
    jaxpr, shape = jaxel.make_jaxpr(lambda x, n: x * n, static_argnums=1,
                                    return_shape=True)(1.0, 3)
    assert "mul a 3.0:f32[]" in str(jaxpr)  # the static int meets a weak float, as in JAX
    assert shape.shape == () and shape.dtype == np.float32


def test_eval_jaxpr_and_typecheck():
    closed = jaxel.make_jaxpr(lambda x, y: jnp.sin(x) * y)(np.float32(1), np.float32(2))
    check_jaxpr(closed.jaxpr)
    out = eval_jaxpr(closed.jaxpr, closed.consts, np.float32(1.0), np.float32(2.0))
    np.testing.assert_allclose(float(out[0]), np.sin(1.0) * 2, rtol=1e-6)


def test_typechecker_catches_bad_jaxpr():
    closed = jaxel.make_jaxpr(lambda x: jnp.sin(x) + x)(np.float32(1))
    jaxpr = closed.jaxpr
    jaxpr.eqns.reverse()  # use before definition
    with pytest.raises(JaxprTypeError, match="before it is defined"):
        check_jaxpr(jaxpr)


def test_dce_removes_unused_equations():
    closed = jaxel.make_jaxpr(lambda x, y: (jnp.sin(x), jnp.cos(y)))(np.float32(1),
                                                                      np.float32(2))
    new, used = dce_jaxpr(closed.jaxpr, [True, False])
    assert len(new.eqns) == 1 and new.eqns[0].primitive.name == "sin"
    assert used == [True, False]


def test_eval_shape_and_shape_dtype_struct():
    s = jaxel.ShapeDtypeStruct((2, 3), jnp.float32)
    out = jaxel.eval_shape(lambda x: {"y": jnp.sin(x)}, s)
    assert out["y"].shape == (2, 3) and out["y"].dtype == np.float32
    assert repr(s) == "ShapeDtypeStruct(shape=(2, 3), dtype=float32)"


def test_weak_types_in_jaxpr():
    jaxpr = jaxel.make_jaxpr(lambda x: x * 2)(1.0)
    assert jaxpr.jaxpr.invars[0].aval.weak_type
    assert jaxpr.out_avals[0].weak_type


def test_nested_jit_and_params_print_as_jax():
    x = np.ones((3, 2), np.float32)
    text = str(jaxel.make_jaxpr(lambda x: jaxel.jit(jnp.sin)(x))(x))
    assert text == ("{ lambda ; a:f32[3,2]. let\n    b:f32[3,2] = jit[\n      name=sin\n"
                    "      jaxpr={ lambda ; a:f32[3,2]. let b:f32[3,2] = sin a in (b,) }\n"
                    "    ] a\n  in (b,) }")
    jax = pytest.importorskip("jax")
    import jax.numpy as jjnp
    f = lambda x, b: jnp.tanh(x + b).reshape(3, 1) if hasattr(jnp, "reshape") else None
    if f(x[:, 0], 0.1) is not None:
        g = lambda x, b: jjnp.tanh(x + b).reshape(3, 1)
        assert str(jaxel.make_jaxpr(f)(x[:, 0], 0.1)) == str(jax.make_jaxpr(g)(x[:, 0], 0.1))


def test_closed_jaxpr_literals_and_fields_as_jax():
    jax = pytest.importorskip("jax")
    c = np.arange(3.0, dtype=np.float32)
    ours = jaxel.make_jaxpr(lambda x: x + c)(np.ones(3, np.float32))
    theirs = jax.make_jaxpr(lambda x: x + c)(np.ones(3, np.float32))
    assert ours.literals is ours.consts
    assert len(ours.literals) == len(theirs.literals) == 1
    np.testing.assert_array_equal(np.asarray(ours.literals[0]), np.asarray(theirs.literals[0]))
    assert ours.constvars == ours.jaxpr.constvars and ours.invars == ours.jaxpr.invars
    assert ours.outvars == ours.jaxpr.outvars and ours.effects == theirs.effects == set()
    doubled = ours.replace(consts=[2 * c])
    assert doubled.jaxpr is ours.jaxpr
    np.testing.assert_array_equal(eval_jaxpr(doubled.jaxpr, doubled.consts, np.ones(3))[0],
                                  1 + 2 * c)
    assert ours.map_jaxpr(lambda j: j).consts == ours.consts


@pytest.mark.parametrize("make", [
    lambda jnp_: jnp_.ones((2, 3)), lambda jnp_: np.ones((2, 3), np.int8),
    lambda jnp_: np.ones(3), lambda jnp_: jnp_.asarray(1.0) * 1, lambda jnp_: 1.0,
    lambda jnp_: 3, lambda jnp_: np.float32(1), lambda jnp_: True])
def test_shape_dtype_struct_like_matches_jax(make):
    jax = pytest.importorskip("jax")
    ours = jaxel.ShapeDtypeStruct.like(make(jnp))
    theirs = jax.ShapeDtypeStruct.like(make(jax.numpy))
    assert (ours.shape, ours.dtype, ours.weak_type) == (theirs.shape, theirs.dtype,
                                                        theirs.weak_type)
    assert repr(ours) == repr(theirs)
    assert ours.sharding is None
    assert jaxel.ShapeDtypeStruct.like(ours) == ours


class _Duck:
    """Not an array, but with a shape and a dtype."""
    shape = (2, 3)
    dtype = np.dtype(np.float64)


class _WeakDuck:
    shape = (2,)
    dtype = np.dtype(np.int16)
    weak_type = True


@pytest.mark.parametrize("duck", [_Duck, _WeakDuck])
def test_shape_dtype_struct_like_of_objects_with_shape_and_dtype(duck):
    jax = pytest.importorskip("jax")
    assert repr(jaxel.ShapeDtypeStruct.like(duck())) == repr(jax.ShapeDtypeStruct.like(duck()))


def test_shape_dtype_struct_like_is_a_classmethod_and_rejects_non_arrays():
    assert isinstance(vars(jaxel.ShapeDtypeStruct)["like"], classmethod)
    with pytest.raises(TypeError, match="list"):
        jaxel.ShapeDtypeStruct.like([1.0])
    seen = []
    jaxel.jit(lambda x: seen.append(jaxel.ShapeDtypeStruct.like(x)) or x)(jnp.ones(2))
    assert seen == [jaxel.ShapeDtypeStruct((2,), np.float32)]
    out = jaxel.eval_shape(jnp.sin, jaxel.ShapeDtypeStruct.like(jnp.ones((4,), jnp.int32)))
    assert out.shape == (4,) and out.dtype == np.float32
