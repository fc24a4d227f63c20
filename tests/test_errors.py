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
