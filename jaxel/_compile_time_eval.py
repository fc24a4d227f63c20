"""``ensure_compile_time_eval``: compute on concrete values eagerly, even while tracing."""
from __future__ import annotations

import contextlib

from jaxel.tracing.core import Trace, Tracer, _state


class _CompileTimeEvalTrace(Trace):
    """Stands in front of the trace that was current when the block began: an operation with
    no tracer among its operands runs eagerly on the eval trace (so its result is a concrete
    Array), any other goes to that trace as before."""

    __slots__ = ("inner",)

    def __init__(self, inner: Trace):
        # Parent link to the inner trace, so traces started inside the block still see the
        # enclosing transformations as their ancestors.
        super().__init__(inner)
        self.inner = inner

    def process_primitive(self, prim, args, params):
        for x in args:
            if isinstance(x, Tracer):
                return self.inner.process_primitive(prim, args, params)
        from jaxel.tracing.eval_trace import eval_trace
        return eval_trace.process_primitive(prim, args, params)

    def is_ancestor_of(self, other) -> bool:
        return self.inner.is_ancestor_of(other) or super().is_ancestor_of(other)

    def describe(self) -> str:
        return self.inner.describe()

    def provenance(self, tracer) -> str:
        return self.inner.provenance(tracer)

    def concretization_message(self, tracer, what: str) -> str:
        return self.inner.concretization_message(tracer, what)


@contextlib.contextmanager
def ensure_compile_time_eval():
    """Inside this block, operations on concrete values run eagerly, also under ``jit``.

    While a function is traced (by ``jit``, ``vmap``, ``grad``...), every operation is normally
    staged, so even ``jnp.arange(3)`` is abstract and cannot be converted with ``int()`` or used
    in Python control flow. Within ``ensure_compile_time_eval()``, an operation whose operands
    are all concrete (Python/NumPy values, Arrays, results of such operations) is computed
    right away and gives a concrete Array; operations on traced values are traced as usual.

    Example::

        @jaxel.jit
        def f(x):
            with jaxel.ensure_compile_time_eval():
                n = int(jnp.sum(jnp.arange(4)))   # 6, computed while tracing
            return x * n
    """
    from jaxel.tracing.eval_trace import eval_trace
    current = _state.trace
    if current is eval_trace or type(current) is _CompileTimeEvalTrace:
        yield  # already eager, or already inside such a block
        return
    trace = _CompileTimeEvalTrace(current)
    _state.trace = trace
    try:
        yield
    finally:
        _state.trace = current
        trace.alive = False
