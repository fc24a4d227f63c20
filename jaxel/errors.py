"""Error classes with JAX's names (and bases), raised with messages that name the user's value.

Where JAX raises a different builtin class than NumPy users might expect (incompatible shapes in
an elementwise op: TypeError; ``bool()`` of a multi-element array: ValueError), jaxel raises a
private class deriving from both, so ``except`` clauses written for either keep working.
"""
from __future__ import annotations


class JAXTypeError(TypeError):
    """Base of JAX's type errors about traced values (JAX's ``jax.errors.JAXTypeError``)."""


class JAXIndexError(IndexError):
    """Base of JAX's index errors (JAX's ``jax.errors.JAXIndexError``)."""


class ConcretizationTypeError(JAXTypeError):
    """A traced (abstract) value was used where Python needs a concrete one.

    Raised for ``if x:``, ``bool(x)``, ``int(x)`` and similar on a value that is being traced by
    ``jit`` or another transformation. Fixes: mark the argument static (``static_argnames``),
    use ``lax.cond``/``jnp.where`` for data-dependent choices.
    """


class TracerBoolConversionError(ConcretizationTypeError):
    """``bool()`` (an ``if`` or ``while`` test) applied to a traced value."""


class TracerIntegerConversionError(ConcretizationTypeError):
    """``int()``/``__index__`` applied to a traced value."""


class TracerArrayConversionError(JAXTypeError):
    """A traced value was converted to a NumPy array (``np.asarray(tracer)``)."""


class UnexpectedTracerError(JAXTypeError):
    """A tracer escaped the transformation that made it and was used after it ended."""


class KeyReuseError(JAXTypeError, RuntimeError):
    """A PRNG key was consumed twice (raised only with ``jax_debug_key_reuse`` on). A
    TypeError as JAX's, and a RuntimeError as jaxel's was before."""


class NonConcreteBooleanIndexError(JAXIndexError):
    """A boolean mask index whose value is not known at trace time (use ``jnp.where`` or
    ``nonzero(size=...)``)."""


class JaxprTypeError(TypeError):
    """A jaxpr failed its type check (an equation's inputs or outputs do not match the avals
    its primitive gives)."""


class InconclusiveDimensionOperation(Exception):
    """A comparison or arithmetic of symbolic dimensions whose answer depends on the values
    the symbols take."""


class _IncompatibleShapesError(TypeError, ValueError):
    """Shapes that do not broadcast in an elementwise operation (JAX: TypeError; NumPy:
    ValueError)."""


class _AmbiguousTruthValueError(ValueError, TypeError):
    """``bool()`` of an array with more or fewer than one element (JAX: ValueError)."""


class _TangentShapeError(ValueError, TypeError):
    """A jvp tangent whose shape is not its primal's (JAX: ValueError)."""


def __getattr__(name):
    # XLA's runtime errors are jaxlib's JaxRuntimeError (JAX's jax.errors.JaxRuntimeError is the
    # same class); looked up lazily so importing jaxel.errors does not load jaxlib.
    if name == "JaxRuntimeError":
        from jaxel.runtime.xla import _jax
        return _jax.JaxRuntimeError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
