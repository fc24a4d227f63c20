"""Reductions, arg-reductions, cumulative reductions, sorting and top-k.

Each primitive is declared once here with its abstract evaluation and lowering; the public
wrappers keep ``jax.lax``'s names and signatures (``reduce_sum_p`` is the primitive,
``reduce_sum`` the function).

Lowering notes:

* Monoid reductions lower to ``stablehlo.reduce`` whose body applies the binary op; the init
  value is the op's identity, so reducing an empty axis gives it (sum of nothing is 0).
* ``argmax``/``argmin`` are one variadic ``stablehlo.reduce`` over (values, indices). The body
  is a total order on (value, index) pairs, which makes it associative and commutative, as
  XLA may combine elements in any order: larger (smaller) value wins, NaN beats every number,
  and ties go to the smaller index, so the first occurrence (or the first NaN) is returned.
* Cumulative reductions are one ``stablehlo.reduce_window`` per call: a window spanning the
  whole axis with ``n - 1`` elements of padding in front, so output ``i`` reduces inputs
  ``0..i`` (the padding holds the identity). This is O(n^2) work, but it is a single op with
  no intermediate shapes, XLA's CPU and GPU emitters handle it well for the sizes jaxel
  targets, and each output is reduced independently, so no rounding error accumulates
  across outputs the way it does in a blocked associative scan.
* ``sort`` lowers to ``stablehlo.sort`` with a comparator that orders floats as NumPy does:
  NaNs (of either sign) after every number and equal to each other, and -0.0 equal to +0.0.
* ``top_k`` is a stable descending ``stablehlo.sort`` of (values, iota) followed by a slice.
  Its comparator is IEEE total order (``compare_type TOTALORDER``), which is what JAX's
  ``top_k`` does: +NaN ranks above +inf and -NaN below -inf; equal values keep index order.
"""
from __future__ import annotations

import numpy as np

from jaxel import dtypes as _dtypes
from jaxel.config import config
from jaxel.lax._rules import (ANY, BOOL, COMPLEX, FLOAT, INT, INTEGRAL, NUMBER, SINT, UINT,
                              aval_of, check_kinds, dtype_kind)
from jaxel.lowering.emitter import (i64_array, i64_dense, narrow_two_bit, tensor_type,
                                    widen_two_bit)
from jaxel.tracing.avals import ShapedArray
from jaxel.tracing.core import Primitive, literal

_REAL = (BOOL, SINT, UINT, FLOAT)  # dtypes with a natural order


# ---- shared lowering helpers --------------------------------------------------------------------
def scalar_type(dt) -> str:
    """MLIR type of a rank-0 tensor of ``dt`` (the element type of reduction bodies)."""
    return tensor_type(ShapedArray((), np.dtype(dt)))


_BOOL_T = scalar_type(np.bool_)


def compare(e, a: str, b: str, direction: str, dt, compare_type: str | None = None) -> str:
    """Emit ``stablehlo.compare`` of two rank-0 values of dtype ``dt``; returns an i1 name."""
    if compare_type is None:
        kind = dtype_kind(np.dtype(dt))
        compare_type = {SINT: "SIGNED", UINT: "UNSIGNED", BOOL: "UNSIGNED"}.get(kind, "FLOAT")
    return e.op1("stablehlo.compare", [a, b], _BOOL_T,
                 f"comparison_direction = #stablehlo<comparison_direction {direction}>, "
                 f"compare_type = #stablehlo<comparison_type {compare_type}>")


def _and(e, a, b):
    return e.op1("stablehlo.and", [a, b], _BOOL_T)


def _or(e, a, b):
    return e.op1("stablehlo.or", [a, b], _BOOL_T)


def _not(e, a):
    return e.op1("stablehlo.not", [a], _BOOL_T)


def _isnan(e, a, dt):
    return compare(e, a, a, "NE", dt)


def identity_value(op: str, dt):
    """The identity element of the monoid ``op`` (add/mul/max/min/and/or/xor) for ``dt``:
    what a reduction over no elements returns, and the padding of windowed reductions."""
    dt = np.dtype(dt)
    kind = dtype_kind(dt)
    if op in ("add", "or", "xor"):
        return np.zeros((), dt)
    if op == "mul":
        return np.ones((), dt)
    if op == "and":
        return np.ones((), dt) if kind == BOOL else np.full((), -1, dt) if kind == SINT else \
            np.full((), _dtypes.iinfo(dt).max, dt)
    if op in ("max", "min"):
        low = op == "max"  # max starts from the lowest value, min from the highest
        if kind == BOOL:
            return np.asarray(not low)
        if kind in (SINT, UINT):
            info = _dtypes.iinfo(dt)
            return np.asarray(info.min if low else info.max, dt)
        inf = -np.inf if low else np.inf
        if kind == COMPLEX:  # complex numbers are ordered lexicographically on (real, imag)
            return np.asarray(complex(inf, inf), dt)
        out = np.asarray(inf).astype(dt)
        if not np.isinf(out.astype(np.float32)):
            # A format without infinities (float8_e4m3fn, float4_e2m1fn...): its extreme value.
            info = _dtypes.finfo(dt)
            out = np.asarray(info.min if low else info.max, dt)
        return out
    raise ValueError(f"No identity for the reduction {op!r}.")


def _reduce_region(e, hlo_op: str, dt) -> str:
    t = scalar_type(dt)
    if dtype_kind(np.dtype(dt)) == COMPLEX and hlo_op in ("stablehlo.maximum",
                                                          "stablehlo.minimum"):
        direction = "GT" if hlo_op == "stablehlo.maximum" else "LT"
        return e.region([t, t], lambda a, b: _complex_extreme(e, a, b, t, dt, direction))
    return e.region([t, t], lambda a, b: e.op1(hlo_op, [a, b], t))


def _complex_extreme(e, a, b, t, dt, direction):
    """The larger (GT) or smaller (LT) of two complex scalars in lexicographic (real, imag)
    order; a NaN in either part propagates (so the body stays associative)."""
    rdt = np.dtype(np.float64 if np.dtype(dt) == np.complex128 else np.float32)
    rt = scalar_type(rdt)
    ar, br = e.op1("stablehlo.real", [a], rt), e.op1("stablehlo.real", [b], rt)
    ai, bi = e.op1("stablehlo.imag", [a], rt), e.op1("stablehlo.imag", [b], rt)
    better = _or(e, compare(e, ar, br, direction, rdt),
                 _and(e, compare(e, ar, br, "EQ", rdt), compare(e, ai, bi, direction, rdt)))
    a_nan = _or(e, _isnan(e, ar, rdt), _isnan(e, ai, rdt))
    b_nan = _or(e, _isnan(e, br, rdt), _isnan(e, bi, rdt))
    pick_a = _or(e, a_nan, _and(e, _not(e, b_nan), better))
    return e.op1("stablehlo.select", [pick_a, a, b], t)


def _check_axes(name: str, x: ShapedArray, axes):
    for a in axes:
        if not 0 <= a < x.ndim:
            raise ValueError(f"lax.{name}: axis {a} is out of bounds for an operand of shape "
                             f"{x.shape} (axes are non-negative and less than its rank "
                             f"{x.ndim}).")
    if len(set(axes)) != len(axes):
        raise ValueError(f"lax.{name}: duplicate axes in {tuple(axes)}.")


def _normalize_axes(name: str, operand, axes) -> tuple:
    """Wrapper-side axes: ints, negatives counted from the end, checked against the rank."""
    ndim = aval_of(operand).ndim
    if isinstance(axes, (int, np.integer)):
        axes = (axes,)
    out = []
    for a in axes:
        a = int(a)
        if not -ndim <= a < ndim:
            raise ValueError(f"lax.{name}: axis {a} is out of bounds for an operand of rank "
                             f"{ndim}.")
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"lax.{name}: duplicate axes in {tuple(axes)}.")
    return tuple(out)


_HALF_FLOATS = (np.dtype(np.float16), np.dtype(_dtypes.bfloat16))


# ---- monoid reductions --------------------------------------------------------------------------
def _reduce_primitive(name: str, op: str, hlo_op: str, kinds, extra_params=()) -> Primitive:
    """A reduction over ``axes`` with the binary ``hlo_op`` and its identity as init value."""
    p = Primitive(name)

    def abstract_eval(x, *, axes, **params):
        check_kinds(name, x, kinds)
        _check_axes(name, x, axes)
        if (name == "reduce_sum" and not config.jax_allow_f16_reductions
                and x.dtype in _HALF_FLOATS and any(x.shape[a] != 1 for a in axes)):
            raise ValueError(f"reduce_sum on operand {x.str_short()} is not allowed when "
                             "jax_allow_f16_reductions=False.")
        shape = tuple(d for i, d in enumerate(x.shape) if i not in axes)
        return ShapedArray(shape, x.dtype, x.weak_type)

    def lowering(ctx, x, *, axes, **params):
        e = ctx.e
        dt = ctx.avals_in[0].dtype
        init = e.constant(identity_value(op, dt), ShapedArray((), dt))
        return e.op1("stablehlo.reduce", [x, init], tensor_type(ctx.avals_out[0]),
                     f"dimensions = {i64_array(axes)}", regions=[_reduce_region(e, hlo_op, dt)])

    p.abstract_eval = abstract_eval
    p.lowering = lowering
    return p


reduce_sum_p = _reduce_primitive("reduce_sum", "add", "stablehlo.add", NUMBER)
reduce_prod_p = _reduce_primitive("reduce_prod", "mul", "stablehlo.multiply", NUMBER)
reduce_max_p = _reduce_primitive("reduce_max", "max", "stablehlo.maximum", ANY)
reduce_min_p = _reduce_primitive("reduce_min", "min", "stablehlo.minimum", ANY)
reduce_and_p = _reduce_primitive("reduce_and", "and", "stablehlo.and", INTEGRAL)
reduce_or_p = _reduce_primitive("reduce_or", "or", "stablehlo.or", INTEGRAL)
reduce_xor_p = _reduce_primitive("reduce_xor", "xor", "stablehlo.xor", INTEGRAL)


def _reducer(p, what: str, example: str):
    def f(operand, axes):
        return p.bind(operand, axes=_normalize_axes(p.name, operand, axes))
    f.__name__ = f.__qualname__ = p.name
    f.__doc__ = f"""{what} of ``operand`` over ``axes``, which are removed from the shape.

    Args:
      operand: the array to reduce.
      axes: a sequence of distinct dimensions (negative values count from the end).

    Returns:
      An array of ``operand``'s dtype without the reduced dimensions. Reducing an empty axis
      gives the operation's identity.

    Example::

        >>> {example}
    """
    return f


def reduce_sum(operand, axes, *, out_sharding=None):
    """Sum of ``operand`` over ``axes``, which are removed from the shape.

    Args:
      operand: a numeric array.
      axes: a sequence of distinct dimensions (negative values count from the end).
      out_sharding: accepted for compatibility; must be None.

    Returns:
      An array of ``operand``'s dtype without the reduced dimensions (0 over empty axes).

    Example::

        >>> lax.reduce_sum(jnp.ones((2, 3)), (1,))
        Array([3., 3.], dtype=float32)
    """
    if out_sharding is not None:
        raise NotImplementedError("lax.reduce_sum: jaxel does not support out_sharding.")
    return reduce_sum_p.bind(operand, axes=_normalize_axes("reduce_sum", operand, axes),
                             out_sharding=None)


reduce_prod = _reducer(reduce_prod_p, "Product",
                       "lax.reduce_prod(jnp.arange(1.0, 5.0), (0,))  # 24.0")
reduce_max = _reducer(reduce_max_p,
                      "Maximum (NaN propagates; complex numbers compare by (real, imag))",
                      "lax.reduce_max(jnp.array([1, 5, 2]), (0,))  # 5")
reduce_min = _reducer(reduce_min_p,
                      "Minimum (NaN propagates; complex numbers compare by (real, imag))",
                      "lax.reduce_min(jnp.array([1, 5, 2]), (0,))  # 1")
reduce_and = _reducer(reduce_and_p, "Logical AND (bool) or bitwise AND (integers)",
                      "lax.reduce_and(jnp.array([True, False]), (0,))  # False")
reduce_or = _reducer(reduce_or_p, "Logical OR (bool) or bitwise OR (integers)",
                     "lax.reduce_or(jnp.array([True, False]), (0,))  # True")
reduce_xor = _reducer(reduce_xor_p, "Logical XOR (bool) or bitwise XOR (integers)",
                      "lax.reduce_xor(jnp.array([3, 5]), (0,))  # 6")

# Which monoid primitive ``lax.reduce`` uses for a given computation (matched by identity).
_MONOID_REDUCERS = None


def _monoid_table():
    global _MONOID_REDUCERS
    if _MONOID_REDUCERS is None:
        from jaxel.lax import elementwise as _ew
        _MONOID_REDUCERS = {_ew.add: ("add", reduce_sum), _ew.mul: ("mul", reduce_prod),
                            _ew.max: ("max", reduce_max), _ew.min: ("min", reduce_min),
                            _ew.bitwise_and: ("and", reduce_and),
                            _ew.bitwise_or: ("or", reduce_or),
                            _ew.bitwise_xor: ("xor", reduce_xor)}
        try:
            from jaxel.numpy import ufuncs as _uf
            for f, g in ((_uf.add, _ew.add), (_uf.multiply, _ew.mul), (_uf.maximum, _ew.max),
                         (_uf.minimum, _ew.min), (_uf.bitwise_and, _ew.bitwise_and),
                         (_uf.bitwise_or, _ew.bitwise_or), (_uf.bitwise_xor, _ew.bitwise_xor)):
                _MONOID_REDUCERS[f] = _MONOID_REDUCERS[g]
        except ImportError:  # the numpy layer is optional for lax users
            pass
    return _MONOID_REDUCERS


def reduce(operands, init_values, computation, dimensions):
    """Reduce ``operands`` over ``dimensions`` with ``computation`` starting from
    ``init_values`` (XLA's reduce).

    The monoid computations ``lax.add``, ``lax.mul``, ``lax.max``, ``lax.min``,
    ``lax.bitwise_and/or/xor`` (and their ``jaxel.numpy`` twins) on a single operand use the
    dedicated primitives (``reduce_sum``, ...); any other computation, and several operands
    reduced together (``computation`` then takes and returns tuples), use ``reduce_p``.

    Args:
      operands: an array, or a tuple/list of same-shape arrays.
      init_values: the scalar start value (matching ``operands``' structure).
      computation: the binary reduction function.
      dimensions: the dimensions to reduce.

    Returns:
      The reduced array (in the structure of ``operands``).

    Example::

        >>> lax.reduce(jnp.arange(4.0), 0.0, lax.add, (0,))
        Array(6., dtype=float32)
    """
    single = not isinstance(operands, (tuple, list))
    ops = [operands] if single else list(operands)
    inits = [init_values] if single else list(init_values)
    entry = _monoid_table().get(computation) if len(ops) == 1 and len(inits) == 1 else None
    if entry is None:
        # Any other computation, or several operands: XLA's general reduce (reduce_p).
        from jaxel.lax.generic_reduce import general_reduce
        return general_reduce(operands, init_values, computation, dimensions)
    op, fn = entry
    x, init = ops[0], inits[0]
    out = fn(x, dimensions)
    if not _is_identity(init, op, aval_of(x).dtype):
        out = _combine_init(op, out, init)  # XLA applies a non-identity init once per result
    return out if single else (out,)


def _combine_init(op: str, out, init):
    """``op(out, init)`` for a scalar ``init`` (cast to ``out``'s dtype; lax's binary ops
    broadcast rank-0 operands)."""
    from jaxel.lax import elementwise as _ew
    f = {"add": _ew.add, "mul": _ew.mul, "max": _ew.max, "min": _ew.min,
         "and": _ew.bitwise_and, "or": _ew.bitwise_or, "xor": _ew.bitwise_xor}[op]
    dt = aval_of(out).dtype
    if type(init) in (bool, int, float, complex):
        if dtype_kind(dt) in INTEGRAL and not (isinstance(init, (bool, int)) or
                                               (type(init) is float and init.is_integer())):
            raise TypeError(f"The init value {init!r} cannot be represented in the operand's "
                            f"dtype {dt}.")
        init = literal(init, dt, False)
    else:
        ia = aval_of(init)
        if ia.shape != ():
            raise TypeError(f"The init value must be a scalar, got shape {ia.shape}.")
        if ia.dtype != dt or ia.weak_type:
            init = _ew.convert_element_type(init, dt)
    return f(out, init)


def _is_identity(init, op: str, dt) -> bool:
    """True when ``init`` is a concrete scalar equal to the identity of ``op`` on ``dt``."""
    if hasattr(init, "_trace"):
        return False
    try:
        v = np.asarray(init)
    except Exception:  # a tracer or something without a concrete value
        return False
    if v.shape != ():
        return False
    ident = identity_value(op, dt)
    try:
        with np.errstate(all="ignore"):  # e.g. -inf cast to an integer dtype
            same = v.astype(dt) == ident
    except (TypeError, ValueError, OverflowError):
        return False
    return bool(same) and (dtype_kind(np.dtype(dt)) != FLOAT or
                           np.signbit(v.astype(dt)) == np.signbit(ident))


# ---- argmax / argmin ----------------------------------------------------------------------------
def _arg_primitive(name: str, direction: str) -> Primitive:
    """argmax (direction GT) or argmin (LT): the first index of the extreme value along one
    axis; NaN counts as the extreme, so the first NaN wins."""
    p = Primitive(name)
    op = "max" if direction == "GT" else "min"

    def abstract_eval(x, *, axes, index_dtype):
        check_kinds(name, x, _REAL)
        if len(axes) != 1:
            raise ValueError(f"lax.{name} reduces exactly one axis, got axes={axes}.")
        _check_axes(name, x, axes)
        if x.shape[axes[0]] == 0:
            raise ValueError(f"lax.{name} requires a non-empty reduced dimension: operand shape "
                             f"{x.shape}, axis {axes[0]}.")
        if dtype_kind(np.dtype(index_dtype)) not in INT:
            raise TypeError(f"lax.{name}: index_dtype must be an integer dtype, got "
                            f"{np.dtype(index_dtype)}.")
        shape = tuple(d for i, d in enumerate(x.shape) if i != axes[0])
        return ShapedArray(shape, np.dtype(index_dtype), False)

    def lowering(ctx, x, *, axes, index_dtype):
        e = ctx.e
        # 2-bit operands are compared as 8-bit ones: XLA's CPU backend cannot compile this
        # reduction on them (widen_two_bit).
        x, xa = widen_two_bit(e, x, ctx.avals_in[0])
        dt, it = xa.dtype, np.dtype(index_dtype)
        idx = e.op1("stablehlo.iota", [], tensor_type(xa.update(dtype=it, weak_type=False)),
                    f"iota_dimension = {axes[0]} : i64")
        init_v = e.constant(identity_value(op, dt), ShapedArray((), dt))
        init_i = e.constant(np.zeros((), it), ShapedArray((), it))
        vt, itt = scalar_type(dt), scalar_type(it)
        floating = dtype_kind(dt) == FLOAT

        def body(av, ai, bv, bi):
            better = compare(e, av, bv, direction, dt)  # False when either is NaN
            same = compare(e, av, bv, "EQ", dt)
            if floating:
                a_nan, b_nan = _isnan(e, av, dt), _isnan(e, bv, dt)
                better = _or(e, better, _and(e, a_nan, _not(e, b_nan)))
                same = _or(e, same, _and(e, a_nan, b_nan))
            first = compare(e, ai, bi, "LT", it)
            pick_a = _or(e, better, _and(e, same, first))
            return [e.op1("stablehlo.select", [pick_a, av, bv], vt),
                    e.op1("stablehlo.select", [pick_a, ai, bi], itt)]

        region = e.region([vt, itt, vt, itt], body)
        aout = ctx.avals_out[0]
        outs = e.op("stablehlo.reduce", [x, idx, init_v, init_i],
                    [tensor_type(aout.update(dtype=dt)), tensor_type(aout)],
                    f"dimensions = {i64_array(axes)}", regions=[region])
        return outs[1]

    p.abstract_eval = abstract_eval
    p.lowering = lowering
    return p


argmax_p = _arg_primitive("argmax", "GT")
argmin_p = _arg_primitive("argmin", "LT")


def _arg_wrapper(p, what):
    def f(operand, axis, index_dtype):
        axes = _normalize_axes(p.name, operand, (axis,))
        dt = _dtypes.canonicalize_dtype(_dtypes.dtype(index_dtype))
        return p.bind(operand, axes=axes, index_dtype=dt)
    f.__name__ = f.__qualname__ = p.name
    f.__doc__ = f"""Index of the {what} value of ``operand`` along ``axis``.

    Ties return the first occurrence; NaN counts as the {what} (the first NaN's index is
    returned), as in NumPy.

    Args:
      operand: a bool, integer or floating array with a non-empty ``axis``.
      axis: the dimension to reduce.
      index_dtype: the integer dtype of the result.

    Returns:
      An ``index_dtype`` array without ``axis``.

    Example::

        >>> lax.{p.name}(jnp.array([1.0, 3.0, 3.0]), 0, jnp.int32)
        Array({1 if what == 'largest' else 0}, dtype=int32)
    """
    return f


argmax = _arg_wrapper(argmax_p, "largest")
argmin = _arg_wrapper(argmin_p, "smallest")


# ---- cumulative reductions ----------------------------------------------------------------------
def _logaddexp_body(e, a, b, t, dt):
    """log(exp(a) + exp(b)) without overflow: max + log1p(exp(-|a - b|)). When a - b is NaN
    (both the same infinity, or a NaN operand) the answer is a + b: -inf, +inf or NaN."""
    mx = e.op1("stablehlo.maximum", [a, b], t)
    d = e.op1("stablehlo.subtract", [a, b], t)
    neg = e.op1("stablehlo.negate", [e.op1("stablehlo.abs", [d], t)], t)
    soft = e.op1("stablehlo.add", [mx, e.op1("stablehlo.log_plus_one",
                                             [e.op1("stablehlo.exponential", [neg], t)], t)], t)
    return e.op1("stablehlo.select", [_isnan(e, d, dt), e.op1("stablehlo.add", [a, b], t),
                                      soft], t)


def _cumulative_primitive(name: str, op: str, kinds, body) -> Primitive:
    """A cumulative reduction along ``axis`` lowered as a prefix-window reduce_window."""
    p = Primitive(name)

    def abstract_eval(x, *, axis, reverse):
        check_kinds(name, x, kinds)
        if not 0 <= axis < x.ndim:
            raise ValueError(f"lax.{name}: axis {axis} is out of bounds for an operand of shape "
                             f"{x.shape}.")
        return x

    def lowering(ctx, x, *, axis, reverse):
        e = ctx.e
        xa = ctx.avals_in[0]
        n = xa.shape[axis]
        if n == 0:  # nothing to accumulate (and XLA windows must be non-empty)
            return x
        dt = xa.dtype
        t = scalar_type(dt)
        window = [1] * xa.ndim
        window[axis] = n
        pads = [[0, 0] for _ in range(xa.ndim)]
        pads[axis] = [0, n - 1] if reverse else [n - 1, 0]
        init = e.constant(identity_value(op, dt), ShapedArray((), dt))
        region = e.region([t, t], lambda a, b: body(e, a, b, t, dt))
        attrs = (f"window_dimensions = {i64_array(window)}, "
                 f"window_strides = {i64_array([1] * xa.ndim)}, "
                 f"padding = {i64_dense(pads, (xa.ndim, 2))}")
        return e.op1("stablehlo.reduce_window", [x, init], tensor_type(ctx.avals_out[0]), attrs,
                     regions=[region])

    p.abstract_eval = abstract_eval
    p.lowering = lowering
    return p


def _hlo_body(hlo_op):
    return lambda e, a, b, t, dt: e.op1(hlo_op, [a, b], t)


cumsum_p = _cumulative_primitive("cumsum", "add", NUMBER, _hlo_body("stablehlo.add"))
cumprod_p = _cumulative_primitive("cumprod", "mul", NUMBER, _hlo_body("stablehlo.multiply"))
cummax_p = _cumulative_primitive("cummax", "max", (SINT, UINT, FLOAT),
                                 _hlo_body("stablehlo.maximum"))
cummin_p = _cumulative_primitive("cummin", "min", (SINT, UINT, FLOAT),
                                 _hlo_body("stablehlo.minimum"))
cumlogsumexp_p = _cumulative_primitive("cumlogsumexp", "max", FLOAT, _logaddexp_body)


def _cumulative(p, what: str, example: str):
    def f(operand, axis=0, reverse=False):
        (axis,) = _normalize_axes(p.name, operand, (axis,))
        return p.bind(operand, axis=axis, reverse=bool(reverse))
    f.__name__ = f.__qualname__ = p.name
    f.__doc__ = f"""Cumulative {what} of ``operand`` along ``axis``.

    Args:
      operand: the array.
      axis: the dimension to accumulate along (default 0).
      reverse: accumulate from the end of the axis towards its start.

    Returns:
      An array of ``operand``'s shape and dtype.

    Example::

        >>> {example}
    """
    return f


cumsum = _cumulative(cumsum_p, "sum", "lax.cumsum(jnp.array([1, 2, 3]))  # [1, 3, 6]")
cumprod = _cumulative(cumprod_p, "product", "lax.cumprod(jnp.array([1, 2, 3]))  # [1, 2, 6]")
cummax = _cumulative(cummax_p, "maximum", "lax.cummax(jnp.array([1, 3, 2]))  # [1, 3, 3]")
cummin = _cumulative(cummin_p, "minimum", "lax.cummin(jnp.array([3, 1, 2]))  # [3, 1, 1]")
cumlogsumexp = _cumulative(cumlogsumexp_p, "log-sum-exp (log of the cumulative sum of exp)",
                           "lax.cumlogsumexp(jnp.zeros(3))  # [0., log 2, log 3]")


# ---- sort ---------------------------------------------------------------------------------------
def _float_lt(e, a, b, dt):
    """a < b in NumPy's sort order: NaNs after all numbers and equal to each other; -0 == 0."""
    lt = compare(e, a, b, "LT", dt)
    return _or(e, lt, _and(e, _isnan(e, b, dt), _not(e, _isnan(e, a, dt))))


def _sort_lt(e, a, b, dt):
    """Strict "a sorts before b" for rank-0 values of ``dt``."""
    kind = dtype_kind(np.dtype(dt))
    if kind == FLOAT:
        return _float_lt(e, a, b, dt)
    if kind == COMPLEX:  # lexicographic on (real, imag), each with the float order
        rdt = np.dtype(np.float64 if np.dtype(dt) == np.complex128 else np.float32)
        rt = scalar_type(rdt)
        ar, br = e.op1("stablehlo.real", [a], rt), e.op1("stablehlo.real", [b], rt)
        ai, bi = e.op1("stablehlo.imag", [a], rt), e.op1("stablehlo.imag", [b], rt)
        re_lt, re_gt = _float_lt(e, ar, br, rdt), _float_lt(e, br, ar, rdt)
        tie = _not(e, _or(e, re_lt, re_gt))
        return _or(e, re_lt, _and(e, tie, _float_lt(e, ai, bi, rdt)))
    return compare(e, a, b, "LT", dt)


def _sort_comparator(e, dtypes, num_keys):
    """Region comparing operands lexicographically on the first ``num_keys`` of them."""
    types = []
    for dt in dtypes:
        types += [scalar_type(dt), scalar_type(dt)]

    def body(*args):
        result = None
        for k in reversed(range(num_keys)):  # build lt0 or (eq0 and (lt1 or (eq1 and ...)))
            a, b, dt = args[2 * k], args[2 * k + 1], dtypes[k]
            lt = _sort_lt(e, a, b, dt)
            if result is None:
                result = lt
            else:
                tie = _not(e, _or(e, lt, _sort_lt(e, b, a, dt)))
                result = _or(e, lt, _and(e, tie, result))
        return result

    return e.region(types, body)


sort_p = Primitive("sort", multiple_results=True)


def _sort_abstract_eval(*xs, dimension, is_stable, num_keys):
    if not xs:
        raise TypeError("lax.sort needs at least one operand.")
    shape = xs[0].shape
    for i, x in enumerate(xs):
        check_kinds("sort", x, ANY, f"operand {i}")
        if x.shape != shape:
            raise TypeError(f"lax.sort: all operands must have the same shape, got "
                            f"{[a.shape for a in xs]}.")
    if not 0 <= dimension < len(shape):
        raise ValueError(f"lax.sort: dimension {dimension} is out of bounds for operands of "
                         f"shape {shape}.")
    if not 1 <= num_keys <= len(xs):
        raise ValueError(f"lax.sort: num_keys={num_keys} must be between 1 and the number of "
                         f"operands ({len(xs)}).")
    return list(xs)


def _sort_lowering(ctx, *xs, dimension, is_stable, num_keys):
    e = ctx.e
    # 2-bit operands are sorted as 8-bit ones: XLA's CPU sort misorders them (widen_two_bit).
    wide = [widen_two_bit(e, x, a) for x, a in zip(xs, ctx.avals_in)]
    dtypes = [a.dtype for _, a in wide]
    region = _sort_comparator(e, dtypes, num_keys)
    outs = e.op("stablehlo.sort", [x for x, _ in wide], [tensor_type(a) for _, a in wide],
                f"dimension = {int(dimension)} : i64, is_stable = {str(bool(is_stable)).lower()}",
                regions=[region])
    return [narrow_two_bit(e, o, a) for o, a in zip(outs, ctx.avals_out)]


sort_p.abstract_eval = _sort_abstract_eval
sort_p.lowering = _sort_lowering


def _sort_dimension(operand, dimension):
    ndim = aval_of(operand).ndim
    d = int(dimension)
    if not -ndim <= d < ndim:
        raise ValueError(f"lax.sort: dimension {d} is out of bounds for an operand of rank "
                         f"{ndim}.")
    return d % ndim


def sort(operand, dimension=-1, is_stable=True, num_keys=1):
    """Sort ``operand`` along ``dimension``; or sort several same-shape arrays together.

    Floats sort as in NumPy: NaNs last, and -0.0 equal to +0.0. With a sequence of operands,
    the first ``num_keys`` are the keys (compared lexicographically) and the rest are carried
    along in the same permutation.

    Args:
      operand: an array, or a sequence of arrays of one shape.
      dimension: the dimension to sort along (default: the last).
      is_stable: keep equal elements in their original order.
      num_keys: how many leading operands are sort keys.

    Returns:
      The sorted array, or a tuple of arrays when ``operand`` is a sequence.

    Example::

        >>> lax.sort(jnp.array([3.0, jnp.nan, 1.0]))
        Array([ 1.,  3., nan], dtype=float32)
    """
    if isinstance(operand, (list, tuple)):
        ops = list(operand)
        if not ops:
            raise TypeError("lax.sort: the sequence of operands is empty.")
        dim = _sort_dimension(ops[0], dimension)
        return tuple(sort_p.bind(*ops, dimension=dim, is_stable=bool(is_stable),
                                 num_keys=int(num_keys)))
    if int(num_keys) != 1:
        raise ValueError(f"lax.sort: num_keys={num_keys} needs a sequence of operands.")
    dim = _sort_dimension(operand, dimension)
    return sort_p.bind(operand, dimension=dim, is_stable=bool(is_stable), num_keys=1)[0]


def sort_key_val(keys, values, dimension=-1, is_stable=True):
    """Sort ``keys`` along ``dimension`` and permute ``values`` the same way.

    Args:
      keys: the array that determines the order.
      values: an array of ``keys``' shape, carried along.
      dimension: the dimension to sort along.
      is_stable: keep equal keys in their original order.

    Returns:
      ``(sorted_keys, permuted_values)``.

    Example::

        >>> lax.sort_key_val(jnp.array([2, 1]), jnp.array([10, 20]))
        (Array([1, 2], dtype=int32), Array([20, 10], dtype=int32))
    """
    k, v = sort([keys, values], dimension, is_stable, 1)
    return k, v


# ---- top_k --------------------------------------------------------------------------------------
top_k_p = Primitive("top_k", multiple_results=True)


def _top_k_abstract_eval(x, *, k, axis):
    check_kinds("top_k", x, _REAL)
    if x.ndim == 0:
        raise TypeError("lax.top_k needs an operand of rank at least 1, got a scalar.")
    if not 0 <= axis < x.ndim:
        raise ValueError(f"lax.top_k: axis {axis} is out of bounds for shape {x.shape}.")
    if not 0 <= k <= x.shape[axis]:
        raise ValueError(f"lax.top_k: k={k} must be between 0 and the size of axis {axis} "
                         f"({x.shape[axis]}) of the operand of shape {x.shape}.")
    shape = list(x.shape)
    shape[axis] = k
    shape = tuple(shape)
    return [ShapedArray(shape, x.dtype, x.weak_type), ShapedArray(shape, np.dtype(np.int32))]


def _top_k_lowering(ctx, x, *, k, axis):
    e = ctx.e
    xa = ctx.avals_in[0]
    dt, i32 = xa.dtype, np.dtype(np.int32)
    ia = xa.update(dtype=i32, weak_type=False)
    idx = e.op1("stablehlo.iota", [], tensor_type(ia), f"iota_dimension = {axis} : i64")
    ctype = "TOTALORDER" if dtype_kind(dt) == FLOAT else None
    types = [scalar_type(dt)] * 2 + [scalar_type(i32)] * 2
    region = e.region(types, lambda a, b, ia_, ib: compare(e, a, b, "GT", dt, ctype))
    vals, inds = e.op("stablehlo.sort", [x, idx], [tensor_type(xa), tensor_type(ia)],
                      f"dimension = {axis} : i64, is_stable = true", regions=[region])
    if k == xa.shape[axis]:
        return [vals, inds]
    limit = list(xa.shape)
    limit[axis] = k
    attrs = (f"start_indices = {i64_array([0] * xa.ndim)}, limit_indices = {i64_array(limit)}, "
             f"strides = {i64_array([1] * xa.ndim)}")
    return [e.op1("stablehlo.slice", [vals], tensor_type(ctx.avals_out[0]), attrs),
            e.op1("stablehlo.slice", [inds], tensor_type(ctx.avals_out[1]), attrs)]


top_k_p.abstract_eval = _top_k_abstract_eval
top_k_p.lowering = _top_k_lowering


def top_k(operand, k, *, axis=-1):
    """The ``k`` largest entries of ``operand`` along ``axis`` and their indices.

    Entries are in descending order; equal values keep index order. Floats are ranked by IEEE
    total order, as JAX does: NaN above +inf (a NaN with its sign bit set below -inf).

    Args:
      operand: a bool, integer or floating array of rank at least 1.
      k: how many entries to return (at most the size of ``axis``).
      axis: the dimension to search (default: the last).

    Returns:
      ``(values, indices)``: ``axis`` has size ``k``; indices are int32.

    Example::

        >>> lax.top_k(jnp.array([1.0, 4.0, 2.0]), 2)
        (Array([4., 2.], dtype=float32), Array([1, 2], dtype=int32))
    """
    (axis,) = _normalize_axes("top_k", operand, (axis,))
    k = int(k)
    if k < 0:
        raise ValueError(f"lax.top_k: k must be non-negative, got {k}.")
    vals, inds = top_k_p.bind(operand, k=k, axis=axis)
    return vals, inds


__all__ = ["reduce_sum", "reduce_prod", "reduce_max", "reduce_min", "reduce_and", "reduce_or",
           "reduce_xor", "reduce", "argmax", "argmin", "cumsum", "cumprod", "cummax", "cummin",
           "cumlogsumexp", "sort", "sort_key_val", "top_k",
           "reduce_sum_p", "reduce_prod_p", "reduce_max_p", "reduce_min_p", "reduce_and_p",
           "reduce_or_p", "reduce_xor_p", "argmax_p", "argmin_p", "cumsum_p", "cumprod_p",
           "cummax_p", "cummin_p", "cumlogsumexp_p", "sort_p", "top_k_p"]


# ---- differentiation rules -------------------------------------------------------------------
from jaxel.lax import elementwise as _ew  # noqa: E402
from jaxel.lax import shape_ops as _shape  # noqa: E402
from jaxel.lax.slicing import GatherDimensionNumbers, GatherScatterMode, gather_p  # noqa: E402
from jaxel.transforms import ad_util as _ad  # noqa: E402


def _reduce_sum_transpose(ct, x, *, axes, **_):
    from jaxel.lax.shape_ops import broadcast_in_dim_p
    shape = x.aval.shape
    kept = tuple(d for d in range(len(shape)) if d not in axes)
    return [broadcast_in_dim_p.bind(ct, shape=shape, broadcast_dimensions=kept, sharding=None)]


_ad.deflinear(reduce_sum_p, _reduce_sum_transpose)


# Helpers for the rules below. They build on lax primitives that already have JVP and
# transpose rules, so the tangent computations they produce are linear in the tangents (and
# can be transposed by reverse mode) and the rules differentiate again to higher order.
def _full(shape, value, dt):
    """An array of ``shape`` filled with the scalar ``value`` of dtype ``dt``."""
    v = literal(value, np.dtype(dt), False)
    if not shape:
        return _ew.convert_element_type_p.bind(v, new_dtype=np.dtype(dt), weak_type=False,
                                               sharding=None)
    return _shape.broadcast_in_dim_p.bind(v, shape=tuple(shape), broadcast_dimensions=(),
                                          sharding=None)


def _same(a, b):
    """``a == b``, also true where both are NaN (so a NaN result is "attained" by the NaN
    operands, and tangent weights stay finite)."""
    return _ew.bitwise_or(_ew.eq(a, b), _ew.bitwise_and(_ew.ne(a, a), _ew.ne(b, b)))


def _as_dtype(mask, dt):
    """A boolean mask as 0/1 values of the (tangent) dtype ``dt``."""
    return _ew.convert_element_type_p.bind(mask, new_dtype=np.dtype(dt), weak_type=False,
                                           sharding=None)


def _shift(x, d: int, axis: int, fill, reverse: bool):
    """``x`` moved ``d`` places along ``axis`` (towards the end, or the start if ``reverse``),
    the vacated places holding ``fill``: element ``i`` of the result is ``x[i - d]``
    (``x[i + d]`` with ``reverse``)."""
    a = aval_of(x)
    cfg = [(0, 0, 0)] * a.ndim
    cfg[axis] = (-d, d, 0) if reverse else (d, -d, 0)
    return _shape.pad_p.bind(x, literal(fill, a.dtype, False), padding_config=tuple(cfg))


def _linear_recurrence(a, b, axis: int, reverse: bool):
    """``h`` with ``h[i] = a[i] * h[i - 1] + b[i]`` along ``axis`` (``h[-1] = 0``; with
    ``reverse`` the recurrence runs from the end). A Hillis-Steele scan of the pairs ``(a, b)``
    under ``(a1, b1) . (a2, b2) = (a1 a2, a2 b1 + b2)``: ``ceil(log2 n)`` steps of shifts,
    multiplies and adds. It never divides, so zeros in ``a`` are exact, and it is linear in
    ``b`` for fixed ``a``."""
    n = aval_of(a).shape[axis]
    d = 1
    while d < n:
        b = _ew.add_p.bind(_ew.mul_p.bind(a, _shift(b, d, axis, 0, reverse)), b)
        if 2 * d < n:  # the last step's products are not needed
            a = _ew.mul_p.bind(a, _shift(a, d, axis, 1, reverse))
        d *= 2
    return b


def _take_along_axis(t, idx, axis: int):
    """``t`` gathered at the integer positions ``idx`` along ``axis`` (``idx`` has ``t``'s
    shape except possibly along ``axis``): NumPy's ``take_along_axis``, as one gather."""
    shape = aval_of(idx).shape
    nd = len(shape)
    it = aval_of(idx).dtype
    cols = [idx if d == axis else _shape.iota_p.bind(dtype=it, shape=shape, dimension=d,
                                                     sharding=None) for d in range(nd)]
    cols = [_shape.reshape_p.bind(c, new_sizes=shape + (1,), dimensions=None, sharding=None)
            for c in cols]
    indices = _shape.concatenate(cols, nd)
    dn = GatherDimensionNumbers(offset_dims=(), collapsed_slice_dims=tuple(range(nd)),
                                start_index_map=tuple(range(nd)))
    return gather_p.bind(t, indices, dimension_numbers=dn, slice_sizes=(1,) * nd,
                         indices_are_sorted=False, unique_indices=False,
                         mode=GatherScatterMode.PROMISE_IN_BOUNDS, fill_value=None)


def _no_tangent(t, x) -> bool:
    """True when the tangent ``t`` of ``x`` is zero (symbolic, or ``x`` is not inexact)."""
    return type(t) is _ad.Zero or not _ad.is_differentiable_dtype(aval_of(x).dtype)


# ---- monoid reductions -----------------------------------------------------------------------
for _p in (reduce_and_p, reduce_or_p, reduce_xor_p, argmax_p, argmin_p):
    _ad.defjvp_zero(_p)  # integer / bool results: float0 tangents
del _p


def _reduce_prod_jvp(primals, tangents, *, axes):
    """d prod(x) = sum_j t_j * prod_{k != j} x_k. The products of all the other elements are
    exclusive prefix times exclusive suffix products along the (flattened) reduced axes, so
    zeros in ``x`` are handled exactly (no division by ``x``)."""
    (x,), (t,) = primals, tangents
    out = reduce_prod_p.bind(x, axes=axes)
    if _no_tangent(t, x):
        return out, _ad.zero_like(out)
    shape = aval_of(x).shape
    n = int(np.prod([shape[a] for a in axes], dtype=np.int64))
    if not axes or n == 1:  # every element is alone in its product
        w = _full(shape, 1, aval_of(x).dtype)
    elif n == 0:
        return out, _ad.zero_like(out)
    else:
        kept = [d for d in range(len(shape)) if d not in axes]
        perm = tuple(kept) + tuple(axes)
        flat_shape = tuple(shape[d] for d in kept) + (n,)
        xf = _shape.reshape(_shape.transpose(x, perm), flat_shape)
        last = len(flat_shape) - 1
        before = _shift(cumprod_p.bind(xf, axis=last, reverse=False), 1, last, 1, False)
        after = _shift(cumprod_p.bind(xf, axis=last, reverse=True), 1, last, 1, True)
        w = _ew.mul(before, after)
        w = _shape.reshape(w, tuple(shape[d] for d in perm))
        w = _shape.transpose(w, tuple(int(i) for i in np.argsort(perm)))
    return out, reduce_sum(_ew.mul(t, w), axes)


reduce_prod_p.jvp = _reduce_prod_jvp


def _chooser_weights(x, out, axes):
    """Weights that share the tangent equally among the positions attaining ``out`` (the
    max or min over ``axes``): 1/count where ``x`` equals the result, else 0."""
    xa = aval_of(x)
    kept = tuple(d for d in range(xa.ndim) if d not in axes)
    out_b = _shape.broadcast_in_dim(out, xa.shape, kept)
    mask = _as_dtype(_same(x, out_b), xa.dtype)
    counts = _shape.broadcast_in_dim(reduce_sum(mask, axes), xa.shape, kept)
    return _ew.div(mask, counts)


def _reduce_chooser_jvp(prim):
    """reduce_max/reduce_min: the tangent at the extreme; tied extremes share it equally (as
    JAX does; where the result is NaN, the NaN operands share it)."""
    def jvp(primals, tangents, *, axes):
        (x,), (t,) = primals, tangents
        out = prim.bind(x, axes=axes)
        if _no_tangent(t, x):
            return out, _ad.zero_like(out)
        return out, reduce_sum(_ew.mul(t, _chooser_weights(x, out, axes)), axes)
    return jvp


reduce_max_p.jvp = _reduce_chooser_jvp(reduce_max_p)
reduce_min_p.jvp = _reduce_chooser_jvp(reduce_min_p)


# ---- cumulative reductions -------------------------------------------------------------------
_ad.deflinear(cumsum_p, lambda ct, x, *, axis, reverse:
              [cumsum_p.bind(ct, axis=axis, reverse=not reverse)])


def _cumprod_jvp(primals, tangents, *, axis, reverse):
    """With ``y = cumprod(x)``: ``dy[i] = x[i] * dy[i-1] + y[i-1] * t[i]``, a linear recurrence
    solved by a log-depth scan (exact with zeros in ``x``, unlike ``y * cumsum(t / x)``)."""
    (x,), (t,) = primals, tangents
    out = cumprod_p.bind(x, axis=axis, reverse=reverse)
    if _no_tangent(t, x):
        return out, _ad.zero_like(out)
    prev = _shift(out, 1, axis, 1, reverse)
    return out, _linear_recurrence(x, _ew.mul(t, prev), axis, reverse)


cumprod_p.jvp = _cumprod_jvp


def _cumulative_chooser_jvp(prim):
    """cummax/cummin: output ``i`` is the extreme of the prefix ``0..i``, so (as for
    ``reduce_max``) its tangent is the mean of the tangents at the prefix positions attaining
    it. Those positions all lie in the current run of equal outputs and have ``x == y``, so the
    sums are segmented scans: ``h[i] = [y[i] == y[i-1]] h[i-1] + [x[i] == y[i]] t[i]``.
    (For a tie of two this is JAX's answer too; JAX, differentiating an associative scan,
    splits ties of three or more unevenly, depending on the scan's tree.)"""
    def jvp(primals, tangents, *, axis, reverse):
        (x,), (t,) = primals, tangents
        out = prim.bind(x, axis=axis, reverse=reverse)
        if _no_tangent(t, x):
            return out, _ad.zero_like(out)
        dt = aval_of(x).dtype
        a = _as_dtype(_same(out, _shift(out, 1, axis, 0, reverse)), dt)
        m = _as_dtype(_same(x, out), dt)
        counts = _linear_recurrence(a, m, axis, reverse)  # >= 1: the run's first x == y
        return out, _ew.div(_linear_recurrence(a, _ew.mul(t, m), axis, reverse), counts)
    return jvp


cummax_p.jvp = _cumulative_chooser_jvp(cummax_p)
cummin_p.jvp = _cumulative_chooser_jvp(cummin_p)


def _exp_diff(a, b):
    """``exp(a - b)`` for ``a <= b`` in log space, taken as 1 where ``a == b`` (equal
    infinities included), so no NaN arises from ``inf - inf``."""
    d = _ew.sub(a, b)
    return _ew.exp(_ew.select(_ew.eq(a, b), _full(aval_of(d).shape, 0, aval_of(d).dtype), d))


def _cumlogsumexp_jvp(primals, tangents, *, axis, reverse):
    """With ``y = cumlogsumexp(x)``: ``dy[i] = exp(y[i-1] - y[i]) dy[i-1] + exp(x[i] - y[i])
    t[i]``. Both factors lie in [0, 1] (no overflow, unlike ``cumsum(exp(x) t) / exp(y)``)."""
    (x,), (t,) = primals, tangents
    out = cumlogsumexp_p.bind(x, axis=axis, reverse=reverse)
    if _no_tangent(t, x):
        return out, _ad.zero_like(out)
    a = _exp_diff(_shift(out, 1, axis, -np.inf, reverse), out)
    return out, _linear_recurrence(a, _ew.mul(t, _exp_diff(x, out)), axis, reverse)


cumlogsumexp_p.jvp = _cumlogsumexp_jvp


# ---- sort and top_k --------------------------------------------------------------------------
def _sort_jvp(primals, tangents, *, dimension, is_stable, num_keys):
    """Every operand's tangent is permuted like the operands: the permutation comes from
    sorting an iota along with them (as a non-key operand), then gathers the tangents."""
    params = dict(dimension=dimension, is_stable=is_stable, num_keys=num_keys)
    if all(_no_tangent(t, x) for x, t in zip(primals, tangents)):
        outs = sort_p.bind(*primals, **params)
        return outs, [_ad.zero_like(o) for o in outs]
    shape = aval_of(primals[0]).shape
    it = np.dtype(np.int32) if shape[dimension] < 2**31 else np.dtype(np.int64)
    iota = _shape.iota_p.bind(dtype=it, shape=shape, dimension=dimension, sharding=None)
    *outs, perm = sort_p.bind(*primals, iota, **params)
    t_outs = [_ad.zero_like(o) if _no_tangent(t, x) else _take_along_axis(t, perm, dimension)
              for x, t, o in zip(primals, tangents, outs)]
    return outs, t_outs


sort_p.jvp = _sort_jvp


def _top_k_jvp(primals, tangents, *, k, axis):
    """The values' tangent is the operand's tangent at the returned indices; the indices'
    tangent is a float0 zero."""
    (x,), (t,) = primals, tangents
    vals, inds = top_k_p.bind(x, k=k, axis=axis)
    if _no_tangent(t, x):
        return [vals, inds], [_ad.zero_like(vals), _ad.zero_like(inds)]
    return [vals, inds], [_take_along_axis(t, inds, axis), _ad.zero_like(inds)]


top_k_p.jvp = _top_k_jvp


# ---- batching rules ---------------------------------------------------------------------------
# Rules keep the batch dimension where it is and remap the axis parameters past it.
from jaxel.transforms import batching as _batching  # noqa: E402


def _val_dim(j, d):
    """Where logical (per-example) dimension ``j`` sits in a value batched at ``d``."""
    return j if j < d else j + 1


def _reduce_batch_rule(prim):
    """Reductions over ``axes`` (monoid reductions and argmax/argmin): each reduced axis is
    remapped past the batch dimension, which moves left by the number of axes reduced before
    it."""
    def rule(args, dims, *, axes, **params):
        (x,), (d,) = args, dims
        new_axes = tuple(_val_dim(a, d) for a in axes)
        out = prim.bind(x, axes=new_axes, **params)
        return out, d - sum(1 for a in new_axes if a < d)
    return rule


for _p in (reduce_sum_p, reduce_prod_p, reduce_max_p, reduce_min_p, reduce_and_p, reduce_or_p,
           reduce_xor_p, argmax_p, argmin_p):
    _p.batch = _reduce_batch_rule(_p)
del _p


def _cumulative_batch_rule(prim):
    def rule(args, dims, *, axis, reverse):
        (x,), (d,) = args, dims
        return prim.bind(x, axis=_val_dim(axis, d), reverse=reverse), d
    return rule


for _p in (cumsum_p, cumprod_p, cummax_p, cummin_p, cumlogsumexp_p):
    _p.batch = _cumulative_batch_rule(_p)
del _p


def _sort_batch(args, dims, *, dimension, is_stable, num_keys):
    """All operands are brought to the first batched operand's layout (unbatched ones are
    broadcast); the sort dimension is remapped past the batch dimension."""
    size = _batching.batch_size_of(args, dims)
    out_d = next(d for d in dims if d is not None)
    xs = [_batching.matchaxis(x, d, out_d, size) for x, d in zip(args, dims)]
    outs = sort_p.bind(*xs, dimension=_val_dim(dimension, out_d), is_stable=is_stable,
                       num_keys=num_keys)
    return list(outs), [out_d] * len(outs)


sort_p.batch = _sort_batch


def _top_k_batch(args, dims, *, k, axis):
    # top_k takes its axis as a parameter, so the batch dimension stays where it is.
    (x,), (d,) = args, dims
    vals, inds = top_k_p.bind(x, k=k, axis=_val_dim(axis, d))
    return [vals, inds], [d, d]


top_k_p.batch = _top_k_batch
