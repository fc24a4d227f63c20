"""Jaxpr data structures, the pretty printer and the typechecker.

A ``Jaxpr`` is ``constvars; invars. let eqns in outvars``; each equation applies one primitive
to atoms (``Var`` or ``Literal``) and binds fresh ``Var`` outputs. ``ClosedJaxpr`` pairs a jaxpr
with the values of its constvars. Printing follows JAX's text::

    { lambda ; a:f32[3]. let b:f32[3] = sin a in (b,) }
"""
from __future__ import annotations

import numpy as np

from jaxel.tracing.core import Literal
from jaxel.tracing.avals import ShapedArray


class Var:
    """A jaxpr variable; its printed name is assigned by the printer, not stored."""

    __slots__ = ("aval",)

    def __init__(self, aval: ShapedArray):
        self.aval = aval

    def __repr__(self):
        return f"Var({self.aval.str_short()})"


class DropVar(Var):
    """An output nobody reads (printed as ``_``)."""

    __slots__ = ()


class JaxprEqn:
    """``outvars = primitive[params] invars``."""

    __slots__ = ("primitive", "invars", "outvars", "params")

    def __init__(self, primitive, invars, outvars, params):
        self.primitive = primitive
        self.invars = invars
        self.outvars = outvars
        self.params = params

    def replace(self, **kw) -> "JaxprEqn":
        """A copy with some fields replaced."""
        return JaxprEqn(kw.get("primitive", self.primitive), kw.get("invars", self.invars),
                        kw.get("outvars", self.outvars), kw.get("params", self.params))

    def __repr__(self):
        return pp_eqn(self, _Namer())


class Jaxpr:
    """A typed, first-order program: ``constvars``, ``invars``, ``eqns``, ``outvars``."""

    __slots__ = ("constvars", "invars", "outvars", "eqns", "debug_info", "__weakref__")

    def __init__(self, constvars, invars, outvars, eqns, debug_info=None):
        self.constvars = list(constvars)
        self.invars = list(invars)
        self.outvars = list(outvars)
        self.eqns = list(eqns)
        self.debug_info = debug_info

    @property
    def in_avals(self):
        return [v.aval for v in self.invars]

    @property
    def out_avals(self):
        return [v.aval for v in self.outvars]

    def __str__(self):
        return pp_jaxpr(self)

    __repr__ = __str__

    def pretty_print(self, **_):
        return pp_jaxpr(self)


class ClosedJaxpr:
    """A jaxpr with the values of its constvars (``consts``).

    Hashes by identity: closed jaxprs are parameters of higher-order primitives (``jit``) and
    are compared by object, as they are created once per trace.
    """

    __slots__ = ("jaxpr", "consts", "__weakref__")

    def __init__(self, jaxpr: Jaxpr, consts):
        self.jaxpr = jaxpr
        self.consts = list(consts)

    in_avals = property(lambda self: self.jaxpr.in_avals)
    out_avals = property(lambda self: self.jaxpr.out_avals)
    eqns = property(lambda self: self.jaxpr.eqns)
    constvars = property(lambda self: self.jaxpr.constvars)
    invars = property(lambda self: self.jaxpr.invars)
    outvars = property(lambda self: self.jaxpr.outvars)
    # JAX's other name for the constant values: the very same list as ``consts``.
    literals = property(lambda self: self.consts)
    # jaxel tracks no effects in jaxprs (effectful primitives order themselves by data).
    effects = property(lambda self: frozenset())

    def map_jaxpr(self, f) -> "ClosedJaxpr":
        """``f`` applied to the jaxpr, with the same constant values."""
        return ClosedJaxpr(f(self.jaxpr), self.consts)

    def replace(self, *, jaxpr=None, consts=None) -> "ClosedJaxpr":
        """A copy with the jaxpr and/or the constant values replaced."""
        return ClosedJaxpr(self.jaxpr if jaxpr is None else jaxpr,
                           self.consts if consts is None else consts)

    def __str__(self):
        return pp_jaxpr(self.jaxpr)

    __repr__ = __str__

    def pretty_print(self, **_):
        return pp_jaxpr(self.jaxpr)


# ---- pretty printing ------------------------------------------------------------------------

class _Namer:
    """Assigns JAX-style names a, b, ..., z, ba, bb, ... in order of first appearance."""

    def __init__(self):
        self.names: dict = {}

    def __call__(self, v) -> str:
        if isinstance(v, Literal):
            return repr(v)
        if isinstance(v, DropVar):
            return "_"
        name = self.names.get(id(v))
        if name is None:
            name = self.names[id(v)] = _encode(len(self.names))
        return name


def _encode(n: int) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    s = letters[n % 26]
    n //= 26
    while n:
        s = letters[n % 26] + s
        n //= 26
    return s


def _binder(v, name) -> str:
    return f"{name(v)}:{v.aval.str_short()}"


def _is_jaxpr(value) -> bool:
    return isinstance(value, (Jaxpr, ClosedJaxpr))


def _pp_param(value, indent) -> str:
    if isinstance(value, ClosedJaxpr):
        value = value.jaxpr
    if isinstance(value, Jaxpr):
        return pp_jaxpr(value, indent)  # a sub-jaxpr names its variables afresh, as JAX does
    if isinstance(value, np.dtype):
        return value.name  # JAX prints new_dtype=float32
    if isinstance(value, (tuple, list)) and value and all(_is_jaxpr(x) for x in value):
        return "(" + " ".join(_pp_param(x, indent) for x in value) + ")"
    return str(value)


def pp_eqn(eqn: JaxprEqn, name, indent: int = 0) -> str:
    """One equation, e.g. ``c:f32[3] = mul a b`` (params sorted by name, as JAX prints them)."""
    lhs = " ".join(_binder(v, name) for v in eqn.outvars) or "_"
    params = ""
    shown = eqn.params
    if shown and eqn.primitive.pp_params is not None:
        shown = eqn.primitive.pp_params(shown)
    if shown:
        # Sorted by name, as JAX prints; a primitive's own filter fixes its order instead.
        items = sorted(shown.items()) if eqn.primitive.pp_params is None else list(shown.items())
        if any(_is_jaxpr(v) or isinstance(v, (tuple, list)) and v and _is_jaxpr(v[0])
               for _, v in items):
            pad = " " * (indent + 6)
            params = "[\n" + "".join(f"{pad}{k}={_pp_param(v, indent + 6)}\n"
                                     for k, v in items) + " " * (indent + 4) + "]"
        else:
            params = "[" + " ".join(f"{k}={_pp_param(v, indent)}" for k, v in items) + "]"
    args = " ".join(name(a) for a in eqn.invars)
    return f"{lhs} = {eqn.primitive.name}{params} {args}".rstrip()


def pp_jaxpr(jaxpr: Jaxpr, indent: int = 0, name=None) -> str:
    """JAX's jaxpr text: one line when it fits in 80 columns, else one equation per line."""
    name = name or _Namer()
    consts = " ".join(_binder(v, name) for v in jaxpr.constvars)
    ins = " ".join(_binder(v, name) for v in jaxpr.invars)
    eqns = [pp_eqn(e, name, indent) for e in jaxpr.eqns]
    out_names = [name(v) for v in jaxpr.outvars]
    outs = "(" + ", ".join(out_names) + ("," if len(out_names) == 1 else "") + ")"
    head = f"{{ lambda {consts}; {ins}. let"
    one_line = f"{head} {'; '.join(eqns)} in {outs} }}" if eqns else f"{head}  in {outs} }}"
    if len(one_line) + indent <= 80 and "\n" not in one_line:
        return one_line
    pad = " " * indent
    body = "".join(f"\n{pad}    {e}" for e in eqns)
    return f"{head}{body}\n{pad}  in {outs} }}"


# ---- typechecking ---------------------------------------------------------------------------

class JaxprTypeError(TypeError):
    """A malformed jaxpr: a variable used before definition or an output type mismatch."""


def check_jaxpr(jaxpr: Jaxpr) -> None:
    """Check that every variable is defined before use and each equation's output types are
    what its primitive's abstract evaluation gives. Raises ``JaxprTypeError``."""
    defined = set()
    for v in jaxpr.constvars + jaxpr.invars:
        if id(v) in defined:
            raise JaxprTypeError(f"Variable {v} is bound twice.")
        defined.add(id(v))

    def read(a, where):
        if isinstance(a, Literal):
            return a.aval
        if id(a) not in defined:
            raise JaxprTypeError(f"Variable {a} is used before it is defined, in {where}.")
        return a.aval

    for eqn in jaxpr.eqns:
        in_avals = [read(a, eqn) for a in eqn.invars]
        prim = eqn.primitive
        if prim.abstract_eval is not None:
            out = prim.abstract_eval(*in_avals, **eqn.params)
            out = list(out) if prim.multiple_results else [out]
            got = [v.aval for v in eqn.outvars]
            if [o.strip_weak_type() for o in out] != [g.strip_weak_type() for g in got]:
                raise JaxprTypeError(f"Equation {eqn} has output types {got}, but "
                                     f"{prim.name} gives {out} for inputs {in_avals}.")
        for v in eqn.outvars:
            defined.add(id(v))
        for sub in _subjaxprs(eqn.params):
            check_jaxpr(sub)
    for v in jaxpr.outvars:
        read(v, "the outputs")


def _subjaxprs(params):
    for v in params.values():
        if isinstance(v, ClosedJaxpr):
            yield v.jaxpr
        elif isinstance(v, Jaxpr):
            yield v
        elif isinstance(v, (tuple, list)):
            for x in v:
                if isinstance(x, ClosedJaxpr):
                    yield x.jaxpr
                elif isinstance(x, Jaxpr):
                    yield x


class DerivedJaxprs:
    """Programs derived from a jaxpr (its JVP, known/unknown split, transpose, batched form...),
    cached per jaxpr object and keyed within it, so a function transformed in a Python loop
    derives each program once. Entries die with their jaxpr."""

    def __init__(self):
        import weakref
        self._by_jaxpr = weakref.WeakKeyDictionary()

    def get(self, jaxpr, key, make):
        """The program for ``key`` derived from ``jaxpr``, made with ``make()`` on a miss."""
        per = self._by_jaxpr.get(jaxpr)
        if per is None:
            per = self._by_jaxpr[jaxpr] = {}
        out = per.get(key)
        if out is None:
            out = per[key] = make()
        return out

    def clear(self):
        self._by_jaxpr.clear()
