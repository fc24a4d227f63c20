"""Staging: tracing a Python function into a jaxpr.

``JaxprTrace`` records each primitive applied to its tracers as an equation. Values that are
not its own tracers become constants: Python and NumPy scalars are inlined as ``Literal`` atoms,
arrays (and tracers of enclosing transformations) become constvars, deduplicated by identity.
"""
from __future__ import annotations

import numpy as np

from jaxel import dtypes as _dtypes
from jaxel.config import config
from jaxel.jaxpr.ir import ClosedJaxpr, Jaxpr, JaxprEqn, Var, check_jaxpr
from jaxel.tracing.avals import ShapedArray
from jaxel.tracing.core import (Literal, Trace, Tracer, _state, abstractify,
                                escaped_tracer_error)

_python_scalars = (bool, int, float, complex)


class DebugInfo:
    """What a trace was tracing, for error messages: the function and its argument names.

    ``arg_names`` is a thunk (computed only when an error needs it, never on the hot path).
    """

    __slots__ = ("what", "fun", "arg_names_thunk", "location")

    def __init__(self, what: str, fun, arg_names_thunk=None):
        self.what = what
        self.fun = fun
        self.arg_names_thunk = arg_names_thunk
        self.location = None

    def detached(self) -> "DebugInfo":
        """A copy that refers neither to the function nor to the traced call's arguments,
        for the jaxpr a trace produces: caches keep jaxprs, and must not keep the function
        (jit's cache is weak in it) or the first call's arrays alive."""
        d = DebugInfo(self.what, None)
        d.location = self.fun_location()
        return d

    def fun_location(self) -> str:
        fun = self.fun
        if fun is None:
            return self.location or "an unknown function"
        name = getattr(fun, "__qualname__", None) or getattr(fun, "__name__", repr(fun))
        code = getattr(fun, "__code__", None)
        if code is not None:
            return f"{name} at {code.co_filename}:{code.co_firstlineno}"
        return name

    def arg_names(self):
        return self.arg_names_thunk() if self.arg_names_thunk is not None else None


class JaxprTracer(Tracer):
    """A value being staged into a jaxpr: its aval and the variable that names it."""

    __slots__ = ("aval", "jvar")  # not "var": that would hide the .var() method

    def __init__(self, trace, aval, var):
        self._trace = trace
        self.aval = aval
        self.jvar = var

    def _short_repr(self):
        return f"JitTracer({self.aval})"


class JaxprTrace(Trace):
    """The staging interpreter: builds a jaxpr from the primitives applied to its tracers."""

    __slots__ = ("eqns", "invars", "constvars", "consts", "_const_ids", "debug_info")

    def __init__(self, parent, debug_info: DebugInfo | None = None):
        super().__init__(parent)
        self.eqns = []
        self.invars = []
        self.constvars = []
        self.consts = []
        self._const_ids = {}
        self.debug_info = debug_info

    def new_arg(self, aval: ShapedArray) -> JaxprTracer:
        """A tracer for a new input of the jaxpr."""
        var = Var(aval)
        self.invars.append(var)
        return JaxprTracer(self, aval, var)

    def to_atom(self, x):
        """The jaxpr atom (Var or Literal) standing for ``x`` in this trace."""
        if isinstance(x, Tracer):
            if x._trace is self:
                return x.jvar
            if not x._trace.alive or not x._trace.is_ancestor_of(self):
                raise escaped_tracer_error(x)
            return self._constvar(x)
        t = type(x)
        if t is Literal:
            return x
        if t in _python_scalars:
            return Literal(x, abstractify(x))
        if isinstance(x, (np.ndarray, np.generic)) and np.ndim(x) == 0:
            aval = abstractify(x)
            return Literal(np.asarray(x, aval.dtype)[()], aval)
        return self._constvar(x)

    def _constvar(self, x) -> Var:
        var = self._const_ids.get(id(x))
        if var is None:
            aval = abstractify(x)
            if isinstance(x, np.ndarray) and x.dtype != aval.dtype:
                x = x.astype(aval.dtype)
            var = Var(aval)
            self._const_ids[id(x)] = var
            self.constvars.append(var)
            self.consts.append(x)
        return var

    def process_primitive(self, prim, args, params):
        atoms = [x.jvar if type(x) is JaxprTracer and x._trace is self else self.to_atom(x)
                 for x in args]
        out = prim.abstract_eval(*[a.aval for a in atoms], **params)
        if prim.multiple_results:
            outvars = [Var(a) for a in out]
            self.eqns.append(JaxprEqn(prim, atoms, outvars, params))
            return [JaxprTracer(self, v.aval, v) for v in outvars]
        var = Var(out)
        self.eqns.append(JaxprEqn(prim, atoms, [var], params))
        return JaxprTracer(self, out, var)

    def describe(self):
        what = self.debug_info.what if self.debug_info else "a transformation"
        return f"JaxprTrace({what})"

    # ---- error messages (not on the hot path) ------------------------------------------
    def provenance(self, tracer) -> str:
        """Where ``tracer`` came from: the traced function and the primitive that made it."""
        info = self.debug_info
        lines = []
        if info is not None:
            lines.append(f"The value was created while tracing {info.fun_location()} for "
                         f"{info.what}.")
        var = getattr(tracer, "jvar", None)
        for eqn in self.eqns:
            if any(v is var for v in eqn.outvars):
                lines.append(f"It was produced by the primitive `{eqn.primitive.name}` "
                             f"({eqn.primitive.name} of {', '.join(str(a.aval.str_short()) for a in eqn.invars)}).")
                break
        names = self._dependent_arg_names(tracer)
        if names:
            lines.append(f"It depends on the argument(s) {', '.join(names)}.")
        return "\n".join(lines)

    def _dependent_arg_names(self, tracer):
        var = getattr(tracer, "jvar", None)
        if var is None or self.debug_info is None:
            return []
        arg_names = self.debug_info.arg_names()
        if not arg_names:
            return []
        needed = {id(var)}
        for eqn in reversed(self.eqns):
            if any(id(v) in needed for v in eqn.outvars):
                needed.update(id(a) for a in eqn.invars if isinstance(a, Var))
        return [n for v, n in zip(self.invars, arg_names) if id(v) in needed]

    def concretization_message(self, tracer, what: str) -> str:
        names = self._dependent_arg_names(tracer)
        dep = (f"because it depends on the value of the argument {', '.join(repr(n) for n in names)}"
               if names else "because it is a traced (abstract) value")
        info = self.debug_info
        ctx = (f" while tracing {info.fun_location()} for {info.what}" if info else "")
        fixes = {
            "bool": "use `jnp.where(pred, x, y)` or `lax.cond(pred, f, g, ...)` for a "
                    "data-dependent choice, or `lax.while_loop` for a data-dependent loop",
            "int": "use array operations instead of Python int(), or",
            "index": "use `lax.dynamic_slice`/`jnp.take` for data-dependent indexing, or",
        }
        fix = fixes.get(what, "keep the computation in jaxel.numpy operations, or")
        static_hint = (f"mark {', '.join(repr(n) for n in names)} static with "
                       "`jit(..., static_argnames=...)` if it is a configuration value"
                       if names else "mark the argument static with `static_argnames=`")
        return (f"Abstract tracer value encountered where a concrete value is expected{ctx}: "
                f"the `{what}` conversion of a traced array {tracer.aval.str_short()}.\n"
                f"The concrete value is not available in Python {dep}.\n"
                f"To fix this, {fix} {static_hint}.")


def trace_to_jaxpr(fun, in_avals, debug_info: DebugInfo | None = None):
    """Trace ``fun(*tracers) -> list of outputs`` into a ClosedJaxpr.

    Returns ``(closed_jaxpr, out_values)``: ``out_values`` are the raw outputs (used by callers
    that need to know which outputs were not tracers). Constants that are tracers of enclosing
    transformations stay in ``closed_jaxpr.consts``; see ``split_tracer_consts``.
    """
    parent = _state.trace
    # A trace may stage nested bodies its own way (a shard_map body tracks which values vary
    # across devices: jaxel/parallel/vma.py).
    child = getattr(parent, "child_trace", None)
    trace = JaxprTrace(parent, debug_info) if child is None else child(debug_info)
    args = [trace.new_arg(a) for a in in_avals]
    _state.trace = trace
    try:
        outs = fun(*args)
        out_atoms = [trace.to_atom(o) for o in outs]
    finally:
        _state.trace = parent
        trace.alive = False
    return close_trace(trace, out_atoms, debug_info)


def close_trace(trace, out_atoms, debug_info=None) -> ClosedJaxpr:
    """The ClosedJaxpr a finished staging trace built, with ``out_atoms`` as its outputs
    (type-checked when ``jax_enable_checks`` is on, JAX's debugging option)."""
    jaxpr = Jaxpr(trace.constvars, trace.invars, out_atoms, trace.eqns,
                  debug_info.detached() if debug_info is not None else None)
    if config.jax_enable_checks:
        check_jaxpr(jaxpr)
    return ClosedJaxpr(jaxpr, trace.consts)


def split_tracer_consts(closed: ClosedJaxpr):
    """Move constants that are tracers of outer transformations into leading inputs.

    Returns ``(closed_jaxpr_without_tracer_consts, tracer_consts)``: the new jaxpr takes the
    tracer consts as its first inputs, so a higher-order primitive can pass them as operands.
    """
    jaxpr = closed.jaxpr
    if not any(isinstance(c, Tracer) for c in closed.consts):
        return closed, []
    keep_vars, keep_vals, lift_vars, lift_vals = [], [], [], []
    for v, c in zip(jaxpr.constvars, closed.consts):
        if isinstance(c, Tracer):
            lift_vars.append(v)
            lift_vals.append(c)
        else:
            keep_vars.append(v)
            keep_vals.append(c)
    new = Jaxpr(keep_vars, lift_vars + jaxpr.invars, jaxpr.outvars, jaxpr.eqns, jaxpr.debug_info)
    return ClosedJaxpr(new, keep_vals), lift_vals


def literal_aval(x) -> ShapedArray:
    """The aval of a Python scalar or NumPy scalar constant."""
    return abstractify(x)


__all__ = ["JaxprTrace", "JaxprTracer", "trace_to_jaxpr", "split_tracer_consts", "DebugInfo",
           "_dtypes"]
