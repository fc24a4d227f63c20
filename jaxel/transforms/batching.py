"""Vectorisation: the batching interpreter behind ``vmap``.

A ``BatchTracer`` holds a value of the enclosing trace (``val``) that carries one extra
dimension, the *batch dimension* ``bdim``, at any position. Its aval is ``val``'s with that
dimension removed: what the user's function sees. Values of other traces are unbatched
constants here (``bdim`` ``None``); rules receive them as they are.

Rule signatures (attributes of ``Primitive``):

* ``prim.batch(args, dims, **params) -> (out, out_dim)``: ``dims[i]`` is the batch dimension of
  ``args[i]`` or ``None``; at least one operand is batched. The rule runs with the batch trace's
  *parent* current (ordinary lax code). For ``multiple_results`` primitives ``out`` and
  ``out_dim`` are lists. Rules move a batch dimension only when the operation needs it elsewhere.
* ``prim.batch_axis(axis, args, dims, **params)``: the same, for rules that need the mapped axis
  itself (its size and name): higher-order primitives and collectives. It takes precedence, and
  it also runs when no operand is batched but ``prim.named_axes(params)`` names this axis (a
  collective such as ``axis_index``, or a jitted function containing one).

Named axes: ``vmap(..., axis_name=n)`` pushes ``n`` onto a per-thread *axis environment* while
the function runs. Collectives look names up there (an unknown name is a ``NameError`` listing
the names in scope), and ``jit`` includes the environment in its cache key when it is not empty.
"""
from __future__ import annotations

import contextlib
import threading
import weakref

from jaxel.tracing.avals import ShapedArray
from jaxel.tracing.core import Trace, Tracer, _state
from jaxel.transforms.ad_util import aval_of

class AxisData:
    """The axis a batch trace maps over: its ``name`` (or None), ``size`` and
    ``spmd_name`` (vmap's ``spmd_axis_name``, kept for the multi-device issue)."""

    __slots__ = ("name", "size", "spmd_name")

    def __init__(self, name, size: int, spmd_name=None):
        self.name = name
        self.size = size
        self.spmd_name = spmd_name

    def __repr__(self):
        return f"AxisData(name={self.name!r}, size={self.size})"


# ---- the axis environment --------------------------------------------------------------------
class _AxisEnv(threading.local):
    """The named axes in scope on this thread, innermost last: a list of ``AxisData``."""

    def __init__(self):
        self.stack = []


_axis_env = _AxisEnv()


@contextlib.contextmanager
def extend_axis_env(axis: AxisData):
    """Make ``axis`` (if named) visible to collectives inside the block."""
    if axis.name is None:
        yield
        return
    _axis_env.stack.append(axis)
    try:
        yield
    finally:
        _axis_env.stack.pop()


def axis_env_key():
    """A hashable summary of the named axes in scope (``()`` when none): part of jit's cache
    key, because a traced collective depends on the axes around it."""
    stack = _axis_env.stack
    if not stack:
        return ()
    return tuple((a.name, a.size) for a in stack)


def names_in_scope():
    """The axis names in scope, outermost first."""
    return [a.name for a in _axis_env.stack]


def lookup_axis(name, api: str) -> AxisData:
    """The innermost axis called ``name``, or a NameError naming the axes in scope."""
    for a in reversed(_axis_env.stack):
        if a.name == name:
            return a
    scope = names_in_scope()
    where = (f"the names in scope are {', '.join(repr(n) for n in scope)}" if scope else
             "no named axis is in scope")
    raise NameError(f"{api}: unbound axis name {name!r} ({where}). Collectives act along an axis "
                    "named by an enclosing `vmap(..., axis_name=...)` (or pmap/shard_map); "
                    "check the spelling, or pass axis_name= to the transformation.")


# ---- tracer and trace ------------------------------------------------------------------------
class BatchTracer(Tracer):
    """A per-example view of ``val``, whose dimension ``bdim`` runs over the examples."""

    __slots__ = ("val", "bdim")

    def __init__(self, trace, val, bdim: int):
        self._trace = trace
        self.val = val
        self.bdim = bdim

    @property
    def aval(self):
        a = aval_of(self.val)
        d = self.bdim
        return ShapedArray(a.shape[:d] + a.shape[d + 1:], a.dtype, a.weak_type)

    def _short_repr(self):
        return f"VmapTracer(aval={self.aval}, batched={aval_of(self.val)})"


class BatchTrace(Trace):
    """The vectorising interpreter for one mapped axis."""

    __slots__ = ("axis",)

    def __init__(self, parent, axis: AxisData):
        super().__init__(parent)
        self.axis = axis

    def unpack(self, x):
        """``(value, bdim)`` of any value: values of other traces are unbatched."""
        if type(x) is BatchTracer and x._trace is self:
            return x.val, x.bdim
        return x, None

    def process_primitive(self, prim, args, params):
        vals, dims = [], []
        batched = False
        for x in args:
            if type(x) is BatchTracer and x._trace is self:
                vals.append(x.val)
                dims.append(x.bdim)
                batched = True
            else:
                vals.append(x)
                dims.append(None)
        parent = self.parent
        axis_rule = prim.batch_axis
        if not batched:
            names = prim.named_axes
            if axis_rule is None or names is None or self.axis.name is None or \
                    self.axis.name not in names(params):
                return parent.process_primitive(prim, vals, params)
        prev = _state.trace
        _state.trace = parent
        try:
            if axis_rule is not None:
                out, out_dim = axis_rule(self.axis, vals, dims, **params)
            else:
                rule = prim.batch
                if rule is None:
                    raise NotImplementedError(
                        f"Batching rule for '{prim.name}' not implemented: jaxel cannot vmap "
                        f"`{prim.name}` over a batched operand. Map over the examples with a "
                        "Python loop (or lax.map) instead, or report it.")
                out, out_dim = rule(vals, dims, **params)
        finally:
            _state.trace = prev
        if prim.multiple_results:
            return [o if d is None else BatchTracer(self, o, d) for o, d in zip(out, out_dim)]
        return out if out_dim is None else BatchTracer(self, out, out_dim)

    def describe(self):
        name = "" if self.axis.name is None else f" axis_name={self.axis.name!r}"
        return f"BatchTrace(size={self.axis.size}{name})"


def batch_flat(fun, axis: AxisData, args, in_dims, out_dims_wanted=None):
    """Run ``fun(*args) -> list`` vectorised over ``axis``.

    ``in_dims[i]`` is the batch dimension of ``args[i]`` (or None). Returns ``(outs,
    out_dims)``; with ``out_dims_wanted`` (a list of int/None) the outputs are moved (or
    broadcast) there first and ``out_dims`` equals it. An output wanted unbatched
    (``None``) that is batched raises ValueError.
    """
    parent = _state.trace
    trace = BatchTrace(parent, axis)
    ins = [x if d is None else BatchTracer(trace, x, d) for x, d in zip(args, in_dims)]
    _state.trace = trace
    try:
        with extend_axis_env(axis):
            outs = fun(*ins)
    finally:
        _state.trace = parent
        trace.alive = False
    vals, dims = [], []
    for o in outs:
        v, d = trace.unpack(o)
        vals.append(v)
        dims.append(d)
    if out_dims_wanted is None:
        return vals, dims
    moved = []
    for i, (v, d, want) in enumerate(zip(vals, dims, out_dims_wanted)):
        if want is None:
            if d is not None:
                raise ValueError(
                    f"vmap has out_axes=None for output {i} ({aval_of(v).str_short()} per "
                    "example), but that output depends on the mapped inputs. out_axes=None is "
                    "only for outputs that are the same for every example.")
            moved.append(v)
        else:
            moved.append(matchaxis(v, d, want, axis.size))
    return moved, list(out_dims_wanted)


# ---- helpers for rules -----------------------------------------------------------------------
def move_axis(x, src: int, dst: int):
    """``x`` with its dimension ``src`` moved to position ``dst`` (no-op if equal)."""
    if src == dst:
        return x
    from jaxel.lax.shape_ops import transpose
    perm = [i for i in range(aval_of(x).ndim) if i != src]
    perm.insert(dst, src)
    return transpose(x, tuple(perm))


def broadcast_batched(x, size: int, dst: int = 0):
    """An unbatched ``x`` given a batch dimension of ``size`` at ``dst`` (copies of x)."""
    from jaxel.lax.shape_ops import broadcast_in_dim
    a = aval_of(x)
    shape = a.shape[:dst] + (size,) + a.shape[dst:]
    dims = tuple(i if i < dst else i + 1 for i in range(a.ndim))
    return broadcast_in_dim(x, shape, dims)


def matchaxis(x, src, dst: int, size: int):
    """``x`` with its batch dimension at ``dst``: moved from ``src``, or broadcast if None."""
    if src is None:
        return broadcast_batched(x, size, dst)
    return move_axis(x, src, dst)


def bdim_at_front(x, d, size: int):
    """``x`` with its batch dimension first (broadcast if ``d`` is None)."""
    return matchaxis(x, d, 0, size)


def batch_size_of(args, dims) -> int:
    """The batch size, read off the first batched operand."""
    for x, d in zip(args, dims):
        if d is not None:
            return aval_of(x).shape[d]
    raise ValueError("batch_size_of: no batched operand")


# ---- rule makers -----------------------------------------------------------------------------
def broadcasting_rule(prim, scalar_ok=None):
    """The batching rule of an elementwise primitive whose operands share one shape.

    ``scalar_ok(i)`` says whether operand ``i`` may stay rank 0 next to full-rank operands
    (lax's elementwise ops broadcast rank-0 operands inside the program; default: every
    operand). When every batched operand has the full rank and the same batch dimension and the
    unbatched ones may stay scalars, the primitive applies as is: no data moves.
    """
    ok = scalar_ok or (lambda i: True)

    def rule(args, dims, **params):
        avals = [aval_of(x) for x in args]
        # The per-example rank of the result: the largest logical rank among operands.
        rank = max(a.ndim - (d is not None) for a, d in zip(avals, dims))
        out_d = None
        for a, d in zip(avals, dims):
            if d is not None and a.ndim - 1 == rank:
                out_d = d
                break
        fast = out_d is not None
        if fast:
            for i, (a, d) in enumerate(zip(avals, dims)):
                if d is None:
                    if a.ndim != 0 or not ok(i):
                        fast = False
                        break
                elif d != out_d or a.ndim - 1 != rank:
                    fast = False
                    break
        if fast:
            return prim.bind(*args, **params), out_d
        if out_d is None:
            out_d = 0
        size = batch_size_of(args, dims)
        logical = None
        for a, d in zip(avals, dims):
            if a.ndim - (d is not None) == rank:
                logical = a.shape if d is None else a.shape[:d] + a.shape[d + 1:]
                break
        full = logical[:out_d] + (size,) + logical[out_d:]
        from jaxel.lax.shape_ops import broadcast_in_dim
        new = []
        for i, (x, a, d) in enumerate(zip(args, avals, dims)):
            if d is None:
                if a.ndim == 0 and ok(i):
                    new.append(x)
                else:
                    keep = tuple(j if j < out_d else j + 1 for j in range(a.ndim))
                    new.append(broadcast_in_dim(x, full, keep))
            elif a.ndim - 1 == rank:
                new.append(move_axis(x, d, out_d))
            else:  # a batched per-example scalar next to full-rank operands
                x = move_axis(x, d, 0)
                new.append(broadcast_in_dim(x, full, (out_d,)))
        return prim.bind(*new, **params), out_d

    return rule


def defbroadcasting(prim, scalar_ok=None):
    """Give ``prim`` the elementwise batching rule (see ``broadcasting_rule``)."""
    prim.batch = broadcasting_rule(prim, scalar_ok)


def defvectorized(prim):
    """Batching rule of a one-operand primitive that acts on each element (or on the whole
    array in a way independent of dimension positions): apply it, keep the batch dimension."""
    def rule(args, dims, **params):
        (x,), (d,) = args, dims
        return prim.bind(x, **params), d
    prim.batch = rule


# ---- batching a closed jaxpr (for higher-order primitives) -----------------------------------
_batched_jaxprs: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def batch_jaxpr(closed, axis: AxisData, in_dims, out_dims_wanted=None):
    """The vectorised version of a closed jaxpr, as ``(closed, out_dims)``.

    The new jaxpr takes each input with its batch dimension at ``in_dims[i]`` (None: unbatched)
    and returns outputs with batch dimensions ``out_dims`` (those wanted, if given; otherwise
    wherever the rules left them). Cached per jaxpr object, axis and dims.
    """
    from jaxel.jaxpr.eval import eval_jaxpr
    from jaxel.jaxpr.staging import trace_to_jaxpr
    key = (axis.name, axis.size, tuple(in_dims),
           None if out_dims_wanted is None else tuple(out_dims_wanted), axis_env_key())
    per = _batched_jaxprs.setdefault(closed, {})
    hit = per.get(key)
    if hit is not None:
        return hit
    in_avals = []
    for a, d in zip(closed.in_avals, in_dims):
        if d is None:
            in_avals.append(a)
        else:
            in_avals.append(ShapedArray(a.shape[:d] + (axis.size,) + a.shape[d:], a.dtype,
                                        a.weak_type))
    store = {}

    def fun(*args):
        outs, dims = batch_flat(lambda *xs: eval_jaxpr(closed.jaxpr, closed.consts, *xs),
                                axis, list(args), list(in_dims), out_dims_wanted)
        store["dims"] = dims
        return outs

    new = trace_to_jaxpr(fun, in_avals)
    per[key] = out = (new, store["dims"])
    return out


def jaxpr_axis_names(closed) -> frozenset:
    """Every axis name a collective inside ``closed`` (at any depth) acts along."""
    hit = _axis_names_cache.get(closed)
    if hit is not None:
        return hit
    names = set()
    for eqn in closed.jaxpr.eqns:
        f = eqn.primitive.named_axes
        if f is not None:
            names.update(f(eqn.params))
    out = frozenset(names)
    _axis_names_cache[closed] = out
    return out


_axis_names_cache: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
