"""Tracing: abstract values, primitives, and the current-interpreter machinery."""
from jaxel.tracing.core import (  # noqa: F401
    ShapedArray, Primitive, Trace, Tracer, Literal, bind_with_trace, current_trace,
    set_current_trace, primitives, abstractify,
)
