"""Forward mode: the JVP interpreter.

A ``JVPTracer`` carries a primal value and its tangent (possibly a symbolic ``Zero``). The
trace applies each primitive's ``jvp`` rule with its parent trace current, so primal and
tangent computations are ordinary operations of the enclosing interpreter (eager execution,
staging, partial evaluation, another JVP). Values of other traces are constants here: their
tangent is zero, which is what makes nested differentiation correct.
"""
from __future__ import annotations

from jaxel.tracing.avals import ShapedArray
from jaxel.tracing.core import Literal, Trace, Tracer, _state
from jaxel.transforms.ad_util import (Zero, aval_of, instantiate, is_differentiable_dtype,
                                      tangent_aval, zero_like)


class JVPTracer(Tracer):
    """A primal value together with its tangent."""

    __slots__ = ("primal", "tangent")

    def __init__(self, trace, primal, tangent):
        self._trace = trace
        self.primal = primal
        self.tangent = tangent

    @property
    def aval(self):
        return aval_of(self.primal)

    def to_concrete_value(self):
        """The primal's concrete value, if it has one: differentiating Python control flow
        (``if x > 0``, ``int(n)``) works when the primal is known, as in JAX."""
        p = self.primal
        if isinstance(p, Tracer):
            return p.to_concrete_value()
        return p.val if type(p) is Literal else p

    def _short_repr(self):
        primal = _pp(self.primal)
        if self._trace.linearizing:  # grad, vjp, linearize: the tangent is not known yet
            return f"GradTracer(primal={primal}, typeof(tangent)={aval_of(self.tangent).str_short()})"
        return f"JVPTracer(primal={primal}, tangent={_pp(self.tangent)})"


def _pp(x):
    if isinstance(x, Tracer):
        return x._short_repr()
    if type(x) is Zero:
        return f"Zero({x.aval})"
    return str(x)


class JVPTrace(Trace):
    """The forward-mode interpreter. ``linearizing``: its tangents are staged (linearize, and
    so grad and vjp), which only changes how its tracers print."""

    __slots__ = ("linearizing",)

    def __init__(self, parent, linearizing=False):
        super().__init__(parent)
        self.linearizing = linearizing

    def unpack(self, x):
        """``(primal, tangent)`` of any value: a constant has a zero tangent."""
        if type(x) is JVPTracer and x._trace is self:
            return x.primal, x.tangent
        return x, zero_like(x)

    def process_primitive(self, prim, args, params):
        primals, tangents = [], []
        any_nonzero = False
        for x in args:
            if type(x) is JVPTracer and x._trace is self:
                primals.append(x.primal)
                t = x.tangent
                tangents.append(t)
                if type(t) is not Zero:
                    any_nonzero = True
            else:
                primals.append(x)
                tangents.append(None)
        parent = self.parent
        prev = _state.trace
        _state.trace = parent
        try:
            if not any_nonzero:  # nothing to differentiate: the parent computes the primal
                return parent.process_primitive(prim, primals, params)
            rule = prim.jvp
            if rule is None:
                raise NotImplementedError(
                    f"Differentiation rule for '{prim.name}' not implemented: jaxel cannot "
                    f"compute forward- or reverse-mode derivatives through `{prim.name}`. Wrap "
                    "the computation in `jaxel.lax.stop_gradient` if no derivative is needed, or "
                    "define one with `jaxel.custom_jvp`.")
            tangents = [zero_like(p) if t is None else t for p, t in zip(primals, tangents)]
            out, t_out = rule(primals, tangents, **params)
        finally:
            _state.trace = prev
        if prim.multiple_results:
            return [self._tracer(o, t) for o, t in zip(out, t_out)]
        return self._tracer(out, t_out)

    def _tracer(self, primal, t):
        """A tracer for ``primal`` with tangent ``t``; a value whose tangent is a symbolic zero
        is a constant of this trace, so it is returned as the primal itself (as in JAX: it
        prints, converts and flows like the primal)."""
        t = _nondiff_to_zero(primal, t)
        if type(t) is Zero:
            return primal
        return JVPTracer(self, primal, t)

    def describe(self):
        return "JVPTrace"


def _nondiff_to_zero(primal, t):
    """Integer and boolean values carry symbolic zero tangents only (never float0 arrays in
    a program: XLA has no float0)."""
    if type(t) is not Zero and not is_differentiable_dtype(aval_of(primal).dtype):
        return zero_like(primal)
    return t


def jvp_jaxpr(closed, nonzeros, instantiate_out=False):
    """The JVP of a closed jaxpr as a closed jaxpr.

    The new jaxpr takes ``(*primals, *tangents of the inputs marked in nonzeros)`` and returns
    ``(*primal outputs, *nonzero output tangents)``. Returns ``(jvp_closed, nonzeros_out)``.
    """
    from jaxel.jaxpr.eval import eval_jaxpr
    from jaxel.jaxpr.staging import trace_to_jaxpr
    in_avals = list(closed.in_avals)
    tan_avals = [tangent_aval(a) for a, nz in zip(in_avals, nonzeros) if nz]
    store = {}

    def fun(*args):
        n = len(in_avals)
        it = iter(args[n:])
        tangents = [next(it) if nz else Zero(tangent_aval(a)) for a, nz in zip(in_avals, nonzeros)]
        outs, t_outs = jvp_flat(lambda *xs: eval_jaxpr(closed.jaxpr, closed.consts, *xs),
                                list(args[:n]), tangents, instantiate_zeros=False)
        if instantiate_out:
            t_outs = [instantiate(t) if is_differentiable_dtype(aval_of(o).dtype) else t
                      for o, t in zip(outs, t_outs)]
        store["nz"] = [type(t) is not Zero for t in t_outs]
        return list(outs) + [t for t in t_outs if type(t) is not Zero]

    jvp_closed = trace_to_jaxpr(fun, in_avals + tan_avals)
    return jvp_closed, store["nz"]


def jvp_flat(fun, primals, tangents, instantiate_zeros=True):
    """Run ``fun(*args) -> list`` under forward mode.

    ``tangents`` may contain ``Zero``. Returns ``(primals_out, tangents_out)``; output tangents
    that are symbolic zeros are materialised when ``instantiate_zeros`` (float0 ones as NumPy
    arrays).
    """
    parent = _state.trace
    trace = JVPTrace(parent)
    # An input with a symbolic zero tangent is a constant of the trace (as in JAX).
    ins = [p if type(t) is Zero else JVPTracer(trace, p, t) for p, t in zip(primals, tangents)]
    _state.trace = trace
    try:
        outs = fun(*ins)
    finally:
        _state.trace = parent
        trace.alive = False
    primals_out, tangents_out = [], []
    for o in outs:
        p, t = trace.unpack(o)
        primals_out.append(p)
        tangents_out.append(instantiate(t) if instantiate_zeros else t)
    return primals_out, tangents_out


def check_tangent_matches(primal, tangent, where: str):
    """A clear error when a user-supplied tangent does not fit its primal (a value or its aval):
    ValueError for a shape (as JAX; also a TypeError, as jaxel's was), TypeError for a dtype."""
    p_aval = primal if isinstance(primal, ShapedArray) else aval_of(primal)
    want = tangent_aval(p_aval)
    got = aval_of(tangent)
    if got.shape != want.shape or got.dtype != want.dtype:
        from jaxel.errors import _TangentShapeError
        raise (_TangentShapeError if got.shape != want.shape else TypeError)(
            f"{where}: the tangent {got.str_short()} does not match its primal "
            f"{p_aval.str_short()}; a tangent must have the primal's shape and dtype "
            "(float0 for an integer or boolean primal).")

