"""Which manual axes a value in a ``shard_map`` body varies over (JAX's "vma"), tracked while the
body is traced, and the ``pvary`` casts JAX inserts automatically.

With ``check_vma=True`` (the default) JAX types every value in the body with the set of manual
mesh axes along which it may differ between devices. Inputs vary over the axes their in_spec
mentions; ``axis_index`` varies over its axis; ``psum``/``pmax``/``pmin`` results are invariant
over the reduced axes. Where an invariant value meets a varying one, a ``pvary`` (identity on
values) marks it varying. That cast is what makes reverse mode right: its transpose is a
``psum``, so the gradient of a replicated weight used by every device is summed over them.

jaxel's avals carry no vma, so a staging trace for the body keeps it per variable instead and
inserts the casts as JAX would. Values it does not own (constants, tracers of enclosing
transformations) are invariant.
"""
from __future__ import annotations

import contextlib
import threading

from jaxel.jaxpr.ir import ClosedJaxpr, Jaxpr
from jaxel.jaxpr.staging import JaxprTrace, JaxprTracer, close_trace
from jaxel.tracing.core import Tracer, _state

_EMPTY = frozenset()


class _Plain(threading.local):
    depth = 0


_plain = _Plain()


@contextlib.contextmanager
def plain_staging():
    """Stage nested bodies as they are (their casts kept, none added): for the derived bodies
    of a shard_map nested in another one, whose casts were inferred from its own specs."""
    _plain.depth += 1
    try:
        yield
    finally:
        _plain.depth -= 1


def _collective_kinds():
    from jaxel.lax import parallel as P
    # primitive -> True when its result is invariant over the axes it acts along
    return {P.psum_invariant_p: True, P.pmax_p: True, P.pmin_p: True, P.psum_p: True,
            P.all_gather_p: False, P.all_gather_invariant_p: True, P.psum_scatter_p: False, P.ppermute_p: False,
            P.all_to_all_p: False}


class VmaTrace(JaxprTrace):
    """The staging trace of a ``check_vma`` shard_map body (see the module docstring)."""

    __slots__ = ("vma", "manual", "order", "_kinds", "nested", "uncertain")

    def __init__(self, parent, debug_info, manual, order, nested=False):
        super().__init__(parent, debug_info)
        self.vma = {}
        self.manual = frozenset(manual)
        self.order = tuple(order)  # the mesh's axis order, for the casts' params
        self._kinds = _collective_kinds()
        # A nested body (scan, cond, while, jit... inside the shard_map body) is traced before
        # its operands are known: its inputs and the outer values it reads count as varying
        # over every manual axis, and the equation's operands are cast to match.
        self.nested = nested
        # Variables whose vma rests on that assumption (outputs of nested bodies).
        self.uncertain = set()

    def vma_of(self, x):
        if type(x) is JaxprTracer and x._trace is self:
            return self.vma.get(id(x.jvar), _EMPTY)
        if self.nested and isinstance(x, Tracer):
            return self.manual
        return _EMPTY

    def new_arg(self, aval):
        t = super().new_arg(aval)
        if self.nested:
            self.vma[id(t.jvar)] = self.manual
        return t

    def child_trace(self, debug_info):
        """The trace for a body traced inside this one (see ``nested``)."""
        if _plain.depth:
            return JaxprTrace(self, debug_info)
        return VmaTrace(self, debug_info, self.manual, self.order, nested=True)

    def is_uncertain(self, x) -> bool:
        return type(x) is JaxprTracer and x._trace is self and id(x.jvar) in self.uncertain

    def new_arg_varying(self, aval, vma):
        t = self.new_arg(aval)
        self.vma[id(t.jvar)] = frozenset(vma)
        return t

    def pvary(self, x, names):
        """``x`` cast to vary over ``names`` too (a no-op when it already does)."""
        from jaxel.lax.parallel import pvary_p
        have = self.vma_of(x)
        missing = tuple(n for n in self.order if n in names and n not in have)
        if not missing:
            return x
        out = JaxprTrace.process_primitive(self, pvary_p, [x], {"axes": missing})
        self.vma[id(out.jvar)] = have | frozenset(missing)
        return out

    def match_cotangents(self, primals, cts):
        """Cotangents of ``primals`` (from ``grad``/``vjp`` inside the body) summed over the
        devices along which they vary but their primals do not: where JAX casts an invariant
        value with ``pvary`` before it meets varying ones, the transpose is that sum."""
        from jaxel.lax.parallel import psum_invariant_p
        out = []
        for p, c in zip(primals, cts):
            extra = tuple(n for n in self.order if n in self.vma_of(c) - self.vma_of(p))
            if extra and isinstance(c, Tracer):
                c = self.process_primitive(psum_invariant_p, [c], {"axes": extra})
            out.append(c)
        return out

    def process_primitive(self, prim, args, params):
        from jaxel.lax import parallel as P
        args = list(args)
        vmas = [self.vma_of(x) for x in args]
        if prim is P.pvary_p:
            # A cast bound from outside this trace (``lax.pcast``, or one replayed from a body
            # inlined here) is left to this trace's own inference: it would otherwise turn an
            # invariant value varying that JAX's typing keeps invariant.
            return args[0]
        if prim is P.axis_index_p:
            out_vma = frozenset(params["axes"]) & self.manual
        elif prim in self._kinds:
            axes = frozenset(a for a in params["axes"] if a in self.manual)
            args[0] = self.pvary(args[0], axes)
            have = vmas[0] | axes
            out_vma = have - axes if self._kinds[prim] else have
        elif prim is P.ragged_all_to_all_p:
            # Every operand is cast to vary over the axes and over each other's axes (as JAX).
            out_vma = frozenset().union(*vmas) | (frozenset(params["axes"]) & self.manual)
            args = [self.pvary(x, out_vma) if _castable(x) else x for x in args]
        elif _has_body(params):
            # The body assumed its inputs vary over every manual axis: make it so.
            args = [self.pvary(x, self.manual) if _castable(x) else x for x in args]
            out_vma = None  # per output, below
        else:
            out_vma = frozenset().union(*vmas) if vmas else _EMPTY
            if out_vma:
                args = [self.pvary(x, out_vma) if _castable(x) else x for x in args]
        unsure = _has_body(params) or any(self.is_uncertain(x) for x in args)
        out = JaxprTrace.process_primitive(self, prim, args, params)
        outs = out if prim.multiple_results else [out]
        vmas_out = (_inner_out_vmas(params, len(outs), self.manual) if out_vma is None
                    else [out_vma] * len(outs))
        for o, v in zip(outs, vmas_out):
            self.vma[id(o.jvar)] = v
            if unsure:
                self.uncertain.add(id(o.jvar))
        return out


def _has_body(params) -> bool:
    from jaxel.jaxpr.ir import Jaxpr
    for v in params.values():
        if isinstance(v, (ClosedJaxpr, Jaxpr)):
            return True
        if isinstance(v, (tuple, list)) and v and isinstance(v[0], (ClosedJaxpr, Jaxpr)):
            return True
    return False


def _promise_equal(trace, x, axes):
    """An output typed varying over ``axes`` only because a nested body's vma was assumed,
    whose out_spec promises it equal along them: ``psum(x / k)`` over them (the same value
    when the promise holds), so reverse mode divides its cotangent among the devices as
    JAX's typing would have made it pass unchanged."""
    from jaxel.lax.parallel import psum_invariant_p
    from jaxel.lax.elementwise import div
    from jaxel.tracing.core import literal
    from jaxel.transforms.batching import lookup_axis
    dt = x.aval.dtype
    if dt.kind not in "fc" and dt.name != "bfloat16":
        return x
    axes = tuple(n for n in trace.order if n in axes)
    k = 1
    for n in axes:
        k *= lookup_axis(n, "shard_map").size
    y = div(x, literal(k, dt, False))
    return psum_invariant_p.bind(y, axes=axes)


def _castable(x) -> bool:
    """Operands that get a ``pvary``: arrays and tracers, not Python or NumPy scalars (those
    become literals, which have no vma)."""
    if isinstance(x, Tracer):
        return True
    return getattr(x, "ndim", 0) > 0


def _inner_out_vmas(params, n_out, manual):
    """Per output of a higher-order equation, its vma: its body saw every input as varying
    over all manual axes, so an output is varying unless a ``psum``/``pmax``/``pmin`` of the
    (jit-style) body produced it, which makes it invariant over the reduced axes."""
    closed = params.get("jaxpr")
    if not isinstance(closed, ClosedJaxpr):
        return [manual] * n_out
    reduced = {}
    for e in closed.jaxpr.eqns:
        if e.primitive.name in ("psum_invariant", "psum", "pmax", "pmin"):
            for v in e.outvars:
                reduced[id(v)] = frozenset(e.params["axes"])
    return [manual - reduced.get(id(v), _EMPTY) for v in closed.jaxpr.outvars]


def trace_body(fun, in_avals, in_vmas, manual, order, debug_info=None):
    """Trace the body of a check_vma shard_map. ``fun(*tracers)`` returns ``(outputs, wanted)``
    where ``wanted[i]`` is the set of axes output ``i``'s out_spec mentions; inputs vary over
    ``in_vmas``. Returns ``(closed, out_vmas)``: the jaxpr (outputs cast to the axes their
    specs mention) and each output's vma (empty where it is promised equal)."""
    parent = _state.trace
    trace = VmaTrace(parent, debug_info, manual, order)
    args = [trace.new_arg_varying(a, v) for a, v in zip(in_avals, in_vmas)]
    _state.trace = trace
    try:
        outs, wanted = fun(*args)
        outs = list(outs)
        out_vmas = [trace.vma_of(o) for o in outs]
        # An output whose spec mentions an axis it does not vary over is cast (JAX's auto
        # pvary), so that reverse mode sums its cotangent over that axis.
        outs = [trace.pvary(o, w) if isinstance(o, Tracer) and w - v else o
                for o, v, w in zip(outs, out_vmas, wanted)]
        outs = [_promise_equal(trace, o, v - w) if trace.is_uncertain(o) and v - w else o
                for o, v, w in zip(outs, out_vmas, wanted)]
        out_vmas = [_EMPTY if trace.is_uncertain(o) else v for o, v in zip(outs, out_vmas)]
        out_atoms = [trace.to_atom(o) for o in outs]
    finally:
        _state.trace = parent
        trace.alive = False
    return close_trace(trace, out_atoms, debug_info), out_vmas
