"""Error classes with JAX's names, raised with messages that name the user's value."""
from __future__ import annotations


class JaxelTypeError(TypeError):
    """Base of tracer-related type errors."""


class ConcretizationTypeError(JaxelTypeError):
    """A traced (abstract) value was used where Python needs a concrete one.

    Raised for ``if x:``, ``bool(x)``, ``int(x)`` and similar on a value that is being traced by
    ``jit`` or another transformation. Fixes: mark the argument static (``static_argnames``),
    use ``lax.cond``/``jnp.where`` for data-dependent choices.
    """


class TracerBoolConversionError(ConcretizationTypeError):
    """``bool()`` (an ``if`` or ``while`` test) applied to a traced value."""


class TracerIntegerConversionError(ConcretizationTypeError):
    """``int()``/``__index__`` applied to a traced value."""


class TracerArrayConversionError(JaxelTypeError):
    """A traced value was converted to a NumPy array (``np.asarray(tracer)``)."""


class UnexpectedTracerError(Exception):
    """A tracer escaped the transformation that made it and was used after it ended."""


class KeyReuseError(RuntimeError):
    """A PRNG key was used twice (reserved for the random issue)."""


class NonConcreteBooleanIndexError(IndexError):
    """A boolean mask index whose value is not known at trace time (use ``jnp.where`` or
    ``nonzero(size=...)``)."""
