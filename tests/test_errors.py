"""Bad input gets clear errors that name the user's argument."""
import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp


def test_python_if_on_traced_value_names_argument():
    @jaxel.jit
    def f(x, threshold):
        if x > threshold:
            return x
        return -x

    with pytest.raises(jaxel.ConcretizationTypeError) as info:
        f(jnp.asarray(np.float32(1)), 0.5)
    msg = str(info.value)
    assert isinstance(info.value, TypeError)
    assert "'x'" in msg and "'threshold'" in msg
    assert "static_argnames" in msg and "lax.cond" in msg and "jnp.where" in msg


def test_int_of_traced_value():
    with pytest.raises(jaxel.ConcretizationTypeError, match="'n'"):
        jaxel.jit(lambda n: jnp.zeros(int(n)))(3)


def test_numpy_conversion_of_tracer():
    with pytest.raises(jaxel.TracerArrayConversionError):
        jaxel.jit(lambda x: np.sin(np.asarray(x)))(1.0)


def test_escaped_tracer():
    leaked = []

    @jaxel.jit
    def f(x):
        leaked.append(x)
        return x

    f(1.0)
    with pytest.raises(jaxel.UnexpectedTracerError, match="escaped"):
        jnp.sin(leaked[0])
    with pytest.raises(jaxel.UnexpectedTracerError, match="while tracing"):
        jaxel.jit(lambda y: y + leaked[0])(1.0)


def test_incompatible_broadcasting_names_both_shapes():
    a = jnp.asarray(np.ones(3, np.float32))
    b = jnp.asarray(np.ones(4, np.float32))
    with pytest.raises(ValueError, match=r"\(3,\).*\(4,\)"):
        a + b


def test_item_assignment_points_to_at():
    a = jnp.asarray(np.ones(3, np.float32))
    with pytest.raises(TypeError, match=r"\.at\["):
        a[0] = 1.0


def test_string_and_object_arrays_rejected():
    with pytest.raises(TypeError, match="dtype"):
        jnp.asarray(np.array(["a", "b"]))
    with pytest.raises(TypeError, match="dtype"):
        jnp.asarray(np.array([object()], dtype=object))


def test_invalid_argument_type_to_jit_names_it():
    with pytest.raises(TypeError, match="not a valid jaxel type"):
        jaxel.jit(lambda x: x)("hello")


def test_lax_dtype_mismatch_points_to_jnp():
    with pytest.raises(TypeError, match="same dtypes"):
        jaxel.lax.add(jnp.asarray(np.float32(1)), jnp.asarray(np.int32(1)))


def test_lax_rem_rejects_complex_before_xla():
    """XLA CPU crashes the process on a complex remainder: the dtype check must stop it."""
    import numpy as np
    from jaxel import lax
    z = np.ones(2, np.complex64)
    with pytest.raises(TypeError, match="lax.rem does not accept dtype complex64"):
        lax.rem(z, z)


# ---- JAX's error classes -------------------------------------------------------------------
def test_jax_errors_classes_exist_with_jax_bases():
    jax = pytest.importorskip("jax")
    import jaxel.errors as ours
    builtin = (TypeError, ValueError, IndexError, RuntimeError, Exception)
    for name in [n for n in dir(jax.errors) if not n.startswith("_")]:
        theirs, mine = getattr(jax.errors, name), getattr(ours, name)
        for base in builtin:  # every builtin class JAX's derives from, jaxel's does too
            if issubclass(theirs, base):
                assert issubclass(mine, base), (name, base)
    assert issubclass(ours.ConcretizationTypeError, ours.JAXTypeError)
    assert issubclass(ours.NonConcreteBooleanIndexError, ours.JAXIndexError)
    # XLA's runtime errors are raised by jaxlib as its JaxRuntimeError, which is JAX's class.
    assert ours.JaxRuntimeError is jax.errors.JaxRuntimeError
    with pytest.raises(AttributeError):
        ours.NoSuchError


def test_error_classes_match_jax_where_numpy_differs():
    jax = pytest.importorskip("jax")
    jjnp = jax.numpy
    a, b = jnp.ones(2), jnp.ones(3)
    with pytest.raises(TypeError, match=r"\(2,\).*\(3,\)"):  # JAX: TypeError
        a + b
    with pytest.raises(TypeError):
        jjnp.ones(2) + jjnp.ones(3)
    with pytest.raises(ValueError):  # jaxel's class is also a ValueError (NumPy's class)
        jnp.multiply(a, b)
    with pytest.raises(ValueError):  # JAX: ValueError for broadcast_shapes/where
        jjnp.broadcast_shapes((2,), (3,))
    with pytest.raises(ValueError):
        jnp.broadcast_shapes((2,), (3,))
    with pytest.raises(ValueError, match="ambiguous"):
        bool(jnp.ones(2))
    with pytest.raises(ValueError):
        jax.jvp(lambda x: x, (jjnp.ones(2),), (jjnp.ones(3),))
    with pytest.raises(ValueError, match="does not match"):
        jaxel.jvp(lambda x: x, (jnp.ones(2),), (jnp.ones(3),))
    with pytest.raises(TypeError):  # a dtype mismatch is a TypeError in both
        jax.jvp(lambda x: x, (jjnp.ones(2),), (jjnp.ones(2, jjnp.float16),))
    with pytest.raises(TypeError, match="does not match"):
        jaxel.jvp(lambda x: x, (jnp.ones(2),), (jnp.ones(2, jnp.float16),))
    leaked = []
    jaxel.jit(lambda y: leaked.append(y) or y)(1.0)
    with pytest.raises(TypeError):  # UnexpectedTracerError is a JAXTypeError, as in JAX
        jaxel.jit(lambda y: y + leaked[0])(1.0)
