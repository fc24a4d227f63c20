"""The interpreter machinery: primitives, traces (interpreters) and tracers.

One *current trace* lives in a thread-local. ``prim.bind(*args, **params)`` hands the primitive
to the current trace. A trace that interprets a primitive runs its rule with its *parent* trace
made current, so values of outer transformations are processed by the outer trace and never
confused with this one's (no perturbation confusion). Every tracer records the trace that made
it; a tracer whose trace has finished is an escaped tracer and raises ``UnexpectedTracerError``.

The eval trace (eager execution) is the root; it lives in ``jaxel.tracing.eval_trace``.
"""
from __future__ import annotations

import contextlib
import math
import operator
import threading

import numpy as np

from jaxel import _operators
from jaxel import dtypes as _dtypes
from jaxel.errors import (TracerArrayConversionError, TracerBoolConversionError,
                          TracerIntegerConversionError, ConcretizationTypeError,
                          UnexpectedTracerError)
from jaxel.tracing.avals import ShapedArray

#: Every primitive by name; tests iterate over it so no primitive can skip its checks.
primitives: dict[str, "Primitive"] = {}


class Primitive:
    """An operation the interpreters understand, with its rules as attributes.

    Rules (``None`` until defined; the family modules in ``jaxel/lax`` fill them in one place):
      * ``abstract_eval(*avals, **params)`` -> aval (or list of avals if ``multiple_results``)
      * ``lowering(ctx, *operand_names, **params)`` -> SSA name (or list of names)
      * ``jvp(primals, tangents, **params)``, ``transpose(ct, *args, **params)``: see
        ``jaxel/transforms/ad_util.py``
      * ``batch(args, dims, **params)``, ``batch_axis(axis, args, dims, **params)`` and
        ``named_axes(params)``: see ``jaxel/transforms/batching.py``
      * ``impl(*args, **params)``: optional custom eager implementation (higher-order prims)

    Example::

        sin_p = Primitive("sin")
        sin_p.bind(x)
    """

    def __init__(self, name: str, multiple_results: bool = False):
        if name in primitives:
            raise ValueError(f"Primitive {name!r} is already defined.")
        self.name = name
        self.multiple_results = multiple_results
        self.abstract_eval = None
        self.lowering = None
        self.impl = None
        self.jvp = None
        self.transpose = None
        self.batch = None
        self.batch_axis = None  # batching rule that needs the mapped axis (collectives, ...)
        self.named_axes = None  # params -> axis names this primitive acts along
        # Higher-order primitives: ``dce(eqn, used_outputs) -> (new_eqn | None, used_inputs)``
        # prunes the inner jaxprs to what the used outputs need (jaxel/jaxpr/dce.py).
        self.dce = None
        # Higher-order primitives only: ``partial_eval(trace, args, params)`` splits known from
        # unknown work under a PartialEvalTrace; ``partial_eval_jaxpr_eqn(eqn, ins_unknown)``
        # does the same for an equation of a jaxpr (see jaxel/transforms/partial_eval.py).
        self.partial_eval = None
        self.partial_eval_jaxpr_eqn = None
        # Optional ``params -> params`` filter for printing (hide parameters at their defaults,
        # as JAX's printer does for some primitives).
        self.pp_params = None
        primitives[name] = self

    def bind(self, *args, **params):
        """Apply the primitive to ``args`` in the current trace."""
        return _state.trace.process_primitive(self, args, params)

    def __repr__(self):
        return self.name


class Literal:
    """A constant scalar operand: in a jaxpr it prints inline (``2.0:f32[]``).

    Lax wrappers pass ``Literal`` objects to ``bind`` to give a Python scalar the dtype and weak
    type the operation needs without staging a conversion.
    """

    __slots__ = ("val", "aval", "device_array")

    def __init__(self, val, aval: ShapedArray):
        self.val = val
        self.aval = aval
        self.device_array = None  # its Array on the default device, made on first eager use

    # Array-like views, so rules that receive a Literal operand can inspect it like a value.
    shape = property(lambda self: self.aval.shape)
    dtype = property(lambda self: self.aval.dtype)
    ndim = property(lambda self: 0)
    weak_type = property(lambda self: self.aval.weak_type)

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.val, dtype)

    def __repr__(self):
        v = self.val
        if isinstance(v, np.ndarray):
            v = v.item() if v.ndim == 0 else v
        elif isinstance(v, np.generic):
            v = v.item()
        return f"{v!r}:{self.aval.str_short()}"


_literal_cache: dict = {}
_LITERAL_CACHE_SIZE = 4096


def literal(value, dtype, weak_type=True) -> Literal:
    """A scalar Literal of ``dtype`` (numpy scalar value, exact for the dtype).

    Literals of Python scalars are cached, so eager ``x + 1.0`` in a loop reuses one Literal and
    its device copy. The key includes the float's sign bit (0.0 == -0.0 as dict keys); NaN never
    finds itself, so it just is not cached.
    """
    t = type(value)
    if t is float:
        key = (value, math.copysign(1.0, value), dtype, weak_type)
    elif t is int or t is bool:
        key = (t, value, dtype, weak_type)
    else:
        key = None
    if key is not None:
        lit = _literal_cache.get(key)
        if lit is not None:
            return lit
    dt = np.dtype(dtype)
    lit = Literal(_scalar_value(value, dt), ShapedArray((), dt, weak_type))
    if key is not None:
        if len(_literal_cache) >= _LITERAL_CACHE_SIZE:
            _literal_cache.clear()
        _literal_cache[key] = lit
    return lit


def _scalar_value(value, dt: np.dtype):
    """``value`` as a NumPy scalar of ``dt``, converted as XLA converts (JAX's rule for weakly
    typed Python scalars): a Python int wraps around C-style in a narrower integer dtype
    (``int8(1) + 300`` is 45), and a float too large for a float dtype becomes inf, silently."""
    if type(value) is int and dt.kind in "iu":
        bits = dt.itemsize * 8
        value &= (1 << bits) - 1
        if dt.kind == "i" and value >> (bits - 1):
            value -= 1 << bits
    elif type(value) is int and dt.kind == "b":
        value = value != 0
    with np.errstate(over="ignore", invalid="ignore"):
        return np.asarray(value, dt)[()]


def check_python_int(value: int):
    """OverflowError, as JAX raises it, for a Python int outside the default integer dtype
    (int32, or int64 with x64): JAX gives every Python int that dtype before it meets others."""
    dt = _dtypes.default_int_dtype()
    if not -(1 << (dt.itemsize * 8 - 1)) <= value < (1 << (dt.itemsize * 8 - 1)):
        raise OverflowError(f"Python int {value} too large to convert to {dt.name} (a Python "
                            f"int operand is an {dt.name} before it meets an array's dtype).")


_python_scalar_kinds = {bool: np.dtype(bool), int: None, float: None, complex: None}


def abstractify(x) -> ShapedArray:
    """The aval of a non-tracer value: Array, Literal, Python scalar or NumPy value."""
    aval = getattr(x, "aval", None)
    if aval is not None:
        return aval
    t = type(x)
    if t in _python_scalar_kinds:
        if t is bool:
            return ShapedArray((), np.dtype(bool), False)
        return ShapedArray((), _dtypes.canonicalize_dtype(_dtypes.python_scalar_dtypes[t]), True)
    if isinstance(x, (np.ndarray, np.generic)):
        dt = _check_array_dtype(x.dtype, x)
        return ShapedArray(x.shape, _dtypes.canonicalize_dtype(dt), False)
    if isinstance(x, (bool, int, float, complex)):  # subclasses such as IntEnum
        return abstractify(t.__mro__[[c in _python_scalar_kinds for c in t.__mro__].index(True)](x))
    raise TypeError(f"Value {x!r} of type {t.__name__} is not a valid jaxel type: expected an "
                    "array, a NumPy array or a Python scalar.")


def _check_array_dtype(dt, x):
    from jaxel.runtime.transfer import SUPPORTED_DTYPES
    if dt not in SUPPORTED_DTYPES:
        raise TypeError(f"jaxel arrays cannot hold values of dtype {dt} (got {type(x).__name__} "
                        f"with dtype {dt}); convert to a numeric dtype first.")
    return dt


class Trace:
    """An interpreter. Subclasses implement ``process_primitive``.

    ``parent`` is the trace that was current when this one started; rules of this trace run
    with the parent current.
    """

    __slots__ = ("parent", "alive", "__weakref__")

    def __init__(self, parent: "Trace | None"):
        self.parent = parent
        self.alive = True

    def process_primitive(self, prim: Primitive, args, params):
        raise NotImplementedError

    def is_ancestor_of(self, other: "Trace") -> bool:
        """True if ``self`` is ``other`` or one of its parents (an enclosing transformation)."""
        t = other
        while t is not None:
            if t is self:
                return True
            t = t.parent
        return False

    def describe(self) -> str:
        """A short description of this trace for error messages."""
        return type(self).__name__

    def provenance(self, tracer) -> str:
        """Where ``tracer`` came from, for error messages. Traces that do not record it ask
        the enclosing trace about the value the tracer wraps, if any."""
        return ""

    def concretization_message(self, tracer, what: str) -> str:
        """The message for a Python conversion (``bool``, ``int``...) of an abstract value."""
        return (f"Abstract tracer value encountered where a concrete value is expected: the "
                f"`{what}` conversion of a traced array {tracer.aval.str_short()} under "
                f"{self.describe()}. Under a transformation values are abstract; use "
                "jaxel.numpy/lax operations (e.g. jnp.where, lax.cond) instead of Python "
                "control flow on them, or mark the argument static.")


class Tracer(_operators.ArrayOperators):
    """A value under a transformation: it knows its trace and its aval.

    Operators come from the shared ``ArrayOperators`` mixin (the same as ``Array``'s).
    """

    __slots__ = ("_trace",)
    __array_priority__ = 1000

    @property
    def aval(self) -> ShapedArray:
        raise NotImplementedError

    shape = property(lambda self: self.aval.shape)
    dtype = property(lambda self: self.aval.dtype)
    ndim = property(lambda self: self.aval.ndim)
    size = property(lambda self: self.aval.size)
    weak_type = property(lambda self: self.aval.weak_type)

    def __len__(self):
        if not self.aval.shape:
            raise TypeError("len() of unsized object")
        return self.aval.shape[0]

    def __iter__(self):
        if not self.aval.shape:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self.aval.shape[0]))

    def to_concrete_value(self):
        """The concrete value this tracer stands for, or None when it is abstract.

        Forward- and reverse-mode tracers of a concrete primal have one (so Python control
        flow on a differentiated value works outside ``jit``, as in JAX); staging and
        batching tracers do not.
        """
        return None

    def _concretization_error(self, cls, what: str):
        raise cls(self._trace.concretization_message(self, what))

    def __bool__(self):
        if self.aval.size != 1:  # as NumPy and JAX do, concrete or not
            if self.aval.size == 0:
                raise ValueError("The truth value of an empty array is ambiguous. Use "
                                 "`array.size > 0` to check that an array is not empty.")
            raise ValueError("The truth value of an array with more than one element is "
                             "ambiguous. Use a.any() or a.all()")
        v = self.to_concrete_value()
        if v is not None:
            return bool(v)
        self._concretization_error(TracerBoolConversionError, "bool")

    def __int__(self):
        v = self.to_concrete_value()
        if v is not None:
            return int(v)
        self._check_scalar()
        self._concretization_error(ConcretizationTypeError, "int")

    def __index__(self):
        v = self.to_concrete_value()
        if v is not None:
            return operator.index(v)
        if self.aval.shape != () or self.aval.dtype.kind not in "iu":
            raise TypeError("Only integer scalar arrays can be converted to a scalar index.")
        self._concretization_error(TracerIntegerConversionError, "index")

    # JAX gives float() and complex() no concrete path (they raise under grad too): nor do we.
    def __float__(self):
        self._check_scalar()
        self._concretization_error(ConcretizationTypeError, "float")

    def __complex__(self):
        self._check_scalar()
        self._concretization_error(ConcretizationTypeError, "complex")

    def _check_scalar(self):
        if self.aval.ndim:
            raise TypeError("Only scalar arrays can be converted to Python scalars; got "
                            f"arr.ndim={self.aval.ndim}")

    def item(self, *args):
        v = self.to_concrete_value()
        if v is not None:
            return np.asarray(v).item(*args)
        self._concretization_error(ConcretizationTypeError, "item")

    def tolist(self):
        self._concretization_error(ConcretizationTypeError, "tolist")

    def __array__(self, dtype=None, copy=None):
        raise TracerArrayConversionError(
            f"A traced array {self.aval.str_short()} was converted to a NumPy array. Under a "
            "transformation (jit, grad, vmap, ...) values are abstract: use jaxel.numpy "
            "functions instead of numpy ones on them, or move the conversion outside the "
            "transformed function.\n" + self._trace.provenance(self))

    def __hash__(self):
        raise TypeError(f"unhashable type: traced array {self.aval.str_short()}")

    def _short_repr(self) -> str:
        """JAX's one-line form of a tracer, e.g. ``JitTracer(~float32[3])``."""
        return f"{type(self).__name__}<{self.aval}>"

    def __repr__(self):
        return self._short_repr()


class _State(threading.local):
    """Per-thread interpreter state: the current trace (the eval trace by default)."""

    trace: Trace = None  # set to the eval trace by jaxel.tracing.eval_trace


_state = _State()


def current_trace() -> Trace:
    """The trace that ``bind`` hands primitives to right now."""
    return _state.trace


@contextlib.contextmanager
def set_current_trace(trace: Trace):
    """Make ``trace`` current inside the block."""
    prev = _state.trace
    _state.trace = trace
    try:
        yield trace
    finally:
        _state.trace = prev


def bind_with_trace(trace: Trace, prim: Primitive, args, params):
    """Process ``prim`` in ``trace`` explicitly (used by rules that target their parent)."""
    return trace.process_primitive(prim, args, params)


def escaped_tracer_error(tracer: Tracer) -> UnexpectedTracerError:
    """The error for a tracer used after its transformation ended."""
    return UnexpectedTracerError(
        f"Encountered an unexpected tracer {tracer.aval.str_short()}: it was created by a "
        f"transformation that has already finished, and has escaped from it (for example by "
        f"being stored in a global, a list or an object attribute while the function was being "
        f"transformed, and used afterwards).\n{tracer._trace.provenance(tracer)}\n"
        "Return the value from the transformed function instead of storing it.")
