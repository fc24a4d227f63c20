"""where / nonzero / select / clip, closeness tests, and the smaller elementwise functions
(fmod, hypot, logaddexp, sinc, copysign, nan_to_num, logical_*, ...), composed from lax.

Dtype and weak-type results follow JAX (checked against it in the tests), including its
quirks: ``rint`` of integers and ``log2``/``log10``/``nan_to_num`` give strongly typed floats.
"""
from __future__ import annotations

import math
import operator

import numpy as np

from jaxel import dtypes as _dtypes
from jaxel import lax
from jaxel.errors import ConcretizationTypeError
from jaxel.numpy._util import (_to_dtype, aval_of, broadcast_shapes, broadcast_to_shape,
                               check_arraylike, promote_and_broadcast, promote_dtypes,
                               promote_dtypes_inexact)
from jaxel.runtime.array import Array
from jaxel.tracing.core import Tracer, literal


def _asarray(x):
    from jaxel.numpy.creation import asarray
    return asarray(x)


def _full(value, like, dtype=None, weak=None):
    """``value`` as an array of ``like``'s shape (and dtype / weak type unless given)."""
    aval = aval_of(like)
    lit = literal(value, aval.dtype if dtype is None else dtype,
                  aval.weak_type if weak is None else weak)
    if not aval.shape:
        return lit
    return lax.broadcast_in_dim_p.bind(lit, shape=aval.shape, broadcast_dimensions=(),
                                       sharding=None)


def _to_bool(x):
    """``x != 0`` as a bool array (bools pass through)."""
    if not hasattr(x, "aval"):
        x = _asarray(x)
    return x if aval_of(x).dtype == np.bool_ else lax.ne(_strong(x), _full(0, x, weak=False))


def _select(pred, on_true, on_false):
    """``select_n`` for operands already of one shape (the common case needs no broadcast)."""
    return lax.select_n(pred, on_false, on_true)


def _strong(x):
    """``x`` without its weak type (JAX's result for some functions of Python scalars)."""
    aval = aval_of(x)
    if not aval.weak_type:
        return x
    return lax.convert_element_type_p.bind(x, new_dtype=aval.dtype, weak_type=False,
                                           sharding=None)


# ---- where / nonzero / select ------------------------------------------------------------------
def where(condition, x=None, y=None, /, *, size=None, fill_value=None):
    """``x`` where ``condition`` is true, else ``y`` (broadcast together, dtypes promoted).

    With only ``condition``, this is ``nonzero(condition, size=..., fill_value=...)``.

    Args:
      condition: array-like; non-bool values are tested against zero.
      x, y: the values to choose from (both or neither).
      size, fill_value: for the one-argument form only (see ``nonzero``).

    Returns:
      An array of the broadcast shape and promoted dtype, or the nonzero index arrays.

    Example::

        >>> jnp.where(jnp.array([True, False]), 1.0, jnp.array([5.0, 6.0]))
        Array([1., 6.], dtype=float32)
    """
    if x is None and y is None:
        return nonzero(condition, size=size, fill_value=fill_value)
    if x is None or y is None:
        raise TypeError("jaxel.numpy.where: pass both x and y, or neither (the one-argument "
                        "form is nonzero).")
    if size is not None or fill_value is not None:
        raise ValueError("jaxel.numpy.where: size and fill_value apply only to the "
                         "one-argument form where(condition).")
    check_arraylike("where", condition, x, y)
    condition = _to_bool(condition)
    x, y = promote_dtypes(x, y)
    cs, xs, ys = aval_of(condition).shape, aval_of(x).shape, aval_of(y).shape
    if not (cs == xs == ys):
        try:
            shape = broadcast_shapes(cs, xs, ys)
        except ValueError as e:
            raise ValueError(f"jaxel.numpy.where: {e} (condition, x, y)") from None
        condition, x, y = (broadcast_to_shape(v, shape) for v in (condition, x, y))
    return lax.select_n(condition, y, x)


def _fill_values(fill_value, ndim, idt):
    if fill_value is None:
        return [0] * ndim
    if isinstance(fill_value, (tuple, list)):
        if len(fill_value) != ndim:
            raise ValueError(f"jaxel.numpy.nonzero: fill_value must be a scalar or a tuple of "
                             f"length {ndim} (the number of dimensions), got "
                             f"{len(fill_value)} values.")
        return list(fill_value)
    if np.ndim(fill_value) != 0 and not (hasattr(fill_value, "aval")
                                         and fill_value.ndim == 0):
        raise ValueError(f"jaxel.numpy.nonzero: fill_value must be a scalar or a tuple, got "
                         f"shape {np.shape(fill_value)}.")
    return [fill_value] * ndim


def _fill_array(value, size, idt):
    if hasattr(value, "aval"):
        v = lax.convert_element_type(value, idt)
        return lax.broadcast_in_dim(v, (size,), ())
    return lax.broadcast_in_dim(literal(np.asarray(value).item(), idt, False), (size,), ())


def nonzero(a, *, size=None, fill_value=None):
    """The indices of the non-zero elements of ``a``: one index array per dimension.

    Without ``size`` the number of non-zeros must be known, so ``a`` must be concrete (under
    ``jit`` pass ``size``). With ``size`` the result has exactly that length: extra entries are
    ``fill_value`` (default 0; a scalar or one value per dimension), surplus ones are dropped.
    The indices are computed on the device (a cumulative sum places each non-zero, a scatter
    writes its flat index, division and remainder unravel it).

    Example::

        >>> jnp.nonzero(jnp.array([[0, 1], [2, 0]]))
        (Array([0, 1], dtype=int32), Array([1, 0], dtype=int32))
    """
    check_arraylike("nonzero", a)
    a = _asarray(a)
    if a.ndim == 0:
        raise ValueError("Calling nonzero on 0d arrays is not allowed. Use "
                         "jnp.atleast_1d(scalar).nonzero() instead.")
    idt = _dtypes.default_int_dtype()
    mask = lax.reshape(_to_bool(a), (a.size,))
    m = lax.convert_element_type(mask, idt)
    if size is None:
        if isinstance(a, Tracer):
            raise ConcretizationTypeError(
                "jaxel.numpy.nonzero (also where(condition), argwhere, flatnonzero): the "
                f"argument is traced ({a.aval.str_short()}), so the number of non-zeros is "
                "unknown and the result shape cannot be computed. Pass size=<static int> "
                "(and optionally fill_value=...) to get a fixed-length result.")
        # The count is the result's length: static metadata, read back like a shape.
        size = int(lax.reduce_sum(m, (0,))) if a.size else 0
    else:
        try:
            size = operator.index(size)
        except TypeError:
            raise TypeError(f"jaxel.numpy.nonzero: size must be a static integer, got "
                            f"{size!r}.") from None
        if size < 0:
            raise ValueError(f"jaxel.numpy.nonzero: size must be non-negative, got {size}.")
    fills = _fill_values(fill_value, a.ndim, idt)
    if size == 0 or a.size == 0:
        return tuple(_fill_array(f, size, idt) for f in fills)
    n = a.size
    pos = lax.sub(lax.cumsum(m, 0), literal(1, idt, False))
    # Zeros are sent to position ``size``, which the scatter drops (FILL_OR_DROP).
    target = _select(mask, pos, _full(size, pos))
    dn = lax.ScatterDimensionNumbers(update_window_dims=(), inserted_window_dims=(0,),
                                     scatter_dims_to_operand_dims=(0,))
    base = lax.broadcast_in_dim(literal(0, idt, False), (size,), ())
    flat = lax.scatter(base, lax.reshape(target, (n, 1)), lax.iota(idt, n), dn)
    count = lax.reduce_sum(m, (0,))
    valid = lax.lt(lax.iota(idt, size), lax.broadcast_in_dim(count, (size,), ()))
    out = []
    stride = n
    for dim, f in zip(a.shape, fills):
        stride //= dim
        c = flat if stride == 1 else lax.div(flat, literal(stride, idt, False))
        if len(out) > 0:
            c = lax.rem(c, literal(dim, idt, False))
        out.append(_select(valid, c, _fill_array(f, size, idt)))
    return tuple(out)


def flatnonzero(a, *, size=None, fill_value=None):
    """Indices of the non-zero elements of the flattened ``a``.

    Example::

        >>> jnp.flatnonzero(jnp.array([[0, 1], [2, 0]]))
        Array([1, 2], dtype=int32)
    """
    check_arraylike("flatnonzero", a)
    a = _asarray(a)
    return nonzero(lax.reshape(a, (a.size,)), size=size, fill_value=fill_value)[0]


def argwhere(a, *, size=None, fill_value=None):
    """The indices of the non-zero elements as rows: shape ``(count, a.ndim)``.

    Example::

        >>> jnp.argwhere(jnp.array([[0, 1], [2, 0]]))
        Array([[0, 1],
               [1, 0]], dtype=int32)
    """
    check_arraylike("argwhere", a)
    a = _asarray(a)
    flat = a if a.ndim else lax.reshape(a, (1,))
    cols = nonzero(flat, size=size, fill_value=fill_value)
    rows = lax.concatenate([lax.reshape(c, (c.shape[0], 1)) for c in cols], 1)
    if a.ndim == 0:  # NumPy's shape (count, 0) for a scalar
        return lax.slice(rows, (0, 0), (rows.shape[0], 0))
    return rows


def select(condlist, choicelist, default=0):
    """Elementwise: the choice of the first true condition, else ``default``.

    Example::

        >>> x = jnp.arange(4)
        >>> jnp.select([x < 1, x > 2], [x, x * 10], default=-1)
        Array([ 0, -1, -1, 30], dtype=int32)
    """
    condlist, choicelist = list(condlist), list(choicelist)
    if len(condlist) != len(choicelist):
        raise ValueError(f"condlist must have length equal to choicelist ({len(condlist)} vs "
                         f"{len(choicelist)}).")
    if not condlist:
        raise ValueError("condlist must be non-empty.")
    check_arraylike("select", default, *condlist, *choicelist)
    conds = [_to_bool(c) for c in condlist]
    values = promote_dtypes(default, *choicelist)
    shape = broadcast_shapes(*[aval_of(v).shape for v in (*conds, *values)])
    out = broadcast_to_shape(values[0], shape)
    for c, v in zip(reversed(conds), reversed(values[1:])):
        out = lax.select_n(broadcast_to_shape(c, shape), out, broadcast_to_shape(v, shape))
    return out


def clip(arr, /, min=None, max=None):  # noqa: A002
    """Limit values to ``[min, max]`` (either may be None; dtypes promote as in ``maximum``).

    Example::

        >>> jnp.clip(jnp.array([1, 5, 9]), 2, 7)
        Array([2, 5, 7], dtype=int32)
    """
    from jaxel.numpy.ufuncs import maximum, minimum
    check_arraylike("clip", arr)
    if min is not None:
        arr = maximum(arr, min)
    if max is not None:
        arr = minimum(arr, max)
    return _asarray(arr) if not hasattr(arr, "aval") else arr


# ---- comparisons of whole arrays ---------------------------------------------------------------
def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise ``|a - b| <= atol + rtol * |b|`` for finite values; infinities are close
    only to themselves; NaNs only when ``equal_nan``. Integers compare exactly.

    Example::

        >>> jnp.isclose(jnp.array([1.0, jnp.inf]), jnp.array([1.0 + 1e-7, 1.0]))
        Array([ True, False], dtype=bool)
    """
    from jaxel.numpy import ufuncs as uf
    check_arraylike("isclose", a, b)
    a, b = promote_and_broadcast("isclose", _asarray(a), _asarray(b))
    dt = aval_of(a).dtype
    if not _dtypes.is_inexact(dt):
        return _strong(uf.equal(a, b))  # strong, as JAX's (even for weak operands)
    real_dt = np.dtype(np.float32 if dt == np.complex64 else np.float64) \
        if _dtypes.is_complex(dt) else dt
    tol = lax.add(literal(atol, real_dt, False),
                  lax.mul(literal(rtol, real_dt, False), lax.abs(b)))
    close = uf.less_equal(lax.abs(lax.sub(a, b)), tol)
    finite = uf.isfinite(a) & uf.isfinite(b)
    out = where(finite, close, uf.equal(a, b))
    if equal_nan:
        out = out | (uf.isnan(a) & uf.isnan(b))
    return out


def _all(x):
    x = _asarray(x) if not hasattr(x, "aval") else x
    return lax.reduce_and(x, tuple(range(x.ndim))) if x.ndim else x


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True (a 0-d bool array) if every pair of elements is ``isclose``.

    Example::

        >>> bool(jnp.allclose(jnp.ones(3), jnp.ones(3) + 1e-9))
        True
    """
    return _all(isclose(a, b, rtol, atol, equal_nan))


def array_equal(a1, a2, equal_nan=False):
    """True (a 0-d bool array) if the arrays have one shape and equal elements.

    Example::

        >>> bool(jnp.array_equal(jnp.array([1, 2]), jnp.array([1.0, 2.0])))
        True
    """
    from jaxel.numpy import ufuncs as uf
    a1, a2 = _asarray(a1), _asarray(a2)
    if a1.shape != a2.shape:
        return _asarray(np.bool_(False))
    eq = uf.equal(a1, a2)
    if equal_nan:
        eq = eq | (uf.isnan(a1) & uf.isnan(a2))
    return _all(eq)


def array_equiv(a1, a2):
    """True (a 0-d bool array) if the arrays broadcast together and are equal everywhere.

    Example::

        >>> bool(jnp.array_equiv(jnp.array([1, 1]), jnp.array([[1], [1]])))
        True
    """
    from jaxel.numpy import ufuncs as uf
    a1, a2 = _asarray(a1), _asarray(a2)
    try:
        broadcast_shapes(a1.shape, a2.shape)
    except ValueError:
        return _asarray(np.bool_(False))
    return _all(uf.equal(a1, a2))


# ---- type queries ------------------------------------------------------------------------------
def isscalar(element):
    """True for Python and NumPy scalars and for 0-d arrays (as JAX).

    Example::

        >>> jnp.isscalar(1.0), jnp.isscalar(jnp.ones(2))
        (True, False)
    """
    if hasattr(element, "__jax_array__"):
        element = element.__jax_array__()
    if isinstance(element, (Array, Tracer, np.ndarray)):
        return element.ndim == 0
    return bool(np.isscalar(element))


def iscomplexobj(x):
    """True if ``x`` has a complex dtype (or is a complex scalar / list of them).

    Example::

        >>> jnp.iscomplexobj(1j), jnp.iscomplexobj(jnp.ones(2))
        (True, False)
    """
    if x is None:
        return False
    dt = getattr(x, "dtype", None)
    if dt is None:
        dt = _dtypes.python_scalar_dtypes.get(type(x))
    if dt is None:
        dt = np.asarray(x).dtype  # inspects the input's structure only
    return np.issubdtype(dt, np.complexfloating)


def isrealobj(x):
    """``not iscomplexobj(x)``."""
    return not iscomplexobj(x)


# ---- elementwise functions ---------------------------------------------------------------------
def _inexact2(name, x1, x2):
    check_arraylike(name, x1, x2)
    x1, x2 = promote_dtypes_inexact(x1, x2)
    return promote_and_broadcast(name, x1, x2)


def _inexact1(name, x):
    check_arraylike(name, x)
    aval = getattr(x, "aval", None)
    if aval is not None and _dtypes.is_inexact(aval.dtype):
        return x
    (x,) = promote_dtypes_inexact(x)
    return x


def _all_python_scalars(*xs):
    return all(type(x) in (bool, int, float, complex) for x in xs)


def _no_complex(name, *xs):
    if any(_dtypes.is_complex(aval_of(x).dtype) for x in xs):
        raise TypeError(f"jaxel.numpy.{name} does not support complex-valued inputs.")


def _numeric2(name, x1, x2):
    """Promote like JAX's numeric functions: bools become int32 (with or without x64)."""
    check_arraylike(name, x1, x2)
    dt, weak = _dtypes.result_type(x1, x2, return_weak_type_flag=True)
    if dt == np.bool_:
        dt, weak = np.dtype(np.int32), False
    x1, x2 = _to_dtype(x1, dt, weak), _to_dtype(x2, dt, weak)
    return promote_and_broadcast(name, x1, x2)


def _arrays(*xs):
    """Literals among ``xs`` as arrays broadcast to the others' shape (for select_n)."""
    shape = broadcast_shapes(*[aval_of(x).shape for x in xs])
    return [broadcast_to_shape(x, shape) if aval_of(x).shape != shape else x for x in xs]


def fmod(x1, x2, /):
    """Elementwise C-style remainder (sign of ``x1``); integer division by zero gives 0.

    Example::

        >>> jnp.fmod(jnp.array([-5, 5]), 3)
        Array([-2,  2], dtype=int32)
    """
    x1, x2 = _numeric2("fmod", x1, x2)
    _no_complex("fmod", x1, x2)
    if _dtypes.is_integer(aval_of(x1).dtype):
        x1, x2 = _arrays(x1, x2)
        x2 = _select(lax.eq(x2, _full(0, x2)), _full(1, x2), x2)
    return lax.rem(x1, x2)


def hypot(x1, x2, /):
    """Elementwise ``sqrt(x1**2 + x2**2)`` without intermediate overflow.

    Example::

        >>> jnp.hypot(3.0, 4.0)
        Array(5., dtype=float32, weak_type=True)
    """
    x1, x2 = _arrays(*_inexact2("hypot", x1, x2))
    _no_complex("hypot", x1, x2)
    x1, x2 = lax.abs(x1), lax.abs(x2)
    big, small = lax.max(x1, x2), lax.min(x1, x2)
    zero = lax.eq(big, _full(0, big))
    ratio = lax.div(small, _select(zero, _full(1, big), big))
    r = lax.mul(big, lax.sqrt(lax.add(_full(1, big), lax.mul(ratio, ratio))))
    inf = lax.bitwise_or(_isinf(x1), _isinf(x2))  # hypot(inf, nan) is inf, as NumPy
    return _select(inf, _full(float("inf"), r), r)


def _isinf(x):
    return lax.eq(x, _full(float("inf"), x))  # callers pass absolute values


def logaddexp(x1, x2, /):
    """Elementwise ``log(exp(x1) + exp(x2))`` without overflow.

    Example::

        >>> jnp.logaddexp(0.0, 0.0)
        Array(0.6931472, dtype=float32, weak_type=True)
    """
    python_only = _all_python_scalars(x1, x2)
    x1, x2 = _arrays(*_inexact2("logaddexp", x1, x2))
    if _dtypes.is_complex(aval_of(x1).dtype):
        out = _logaddexp_complex(x1, x2)
        return out if python_only else _strong(out)  # JAX's complex result is strong
    return _logaddexp_real(x1, x2)


def _logaddexp_real_impl(x1, x2):
    amax = lax.max(x1, x2)
    delta = lax.sub(x1, x2)
    # inf - inf is NaN: then the answer is x1 + x2 (inf, -inf or NaN).
    return _select(lax.ne(delta, delta), lax.add(x1, x2),
                   lax.add(amax, lax.log1p(lax.exp(lax.neg(lax.abs(delta))))))


def _finite_or_zero(x):
    return _select(lax.is_finite(x), x, _full(0.0, x))


def _logaddexp_weights_jvp(base_exp):
    """JVP of log(base**x1 + base**x2): t1 * base**(x1 - out) + t2 * base**(x2 - out), with
    infinities replaced by 0 first (JAX's convention; at a tie each side gets 1/2)."""
    def jvp(primals, tangents):
        x1, x2 = primals
        t1, t2 = tangents
        out = _logaddexp_real(x1, x2) if base_exp is lax.exp else _logaddexp2_real(x1, x2)
        o = _finite_or_zero(out)
        w1 = base_exp(lax.sub(_finite_or_zero(x1), o))
        w2 = base_exp(lax.sub(_finite_or_zero(x2), o))
        return out, lax.add(lax.mul(t1, w1), lax.mul(t2, w2))
    return jvp


def _make_custom(fun, jvp):
    from jaxel.custom_derivatives import custom_jvp
    f = custom_jvp(fun)
    f.defjvp(jvp)
    return f


def _logaddexp_complex(x1, x2):
    first = lax.ge(lax.real(x1), lax.real(x2))
    big, small = _select(first, x1, x2), _select(first, x2, x1)
    return lax.add(big, lax.log1p(lax.exp(lax.sub(small, big))))


def logaddexp2(x1, x2, /):
    """Elementwise ``log2(2**x1 + 2**x2)`` without overflow.

    Example::

        >>> jnp.logaddexp2(1.0, 1.0)
        Array(2., dtype=float32, weak_type=True)
    """
    x1, x2 = _arrays(*_inexact2("logaddexp2", x1, x2))
    ln2 = math.log(2.0)
    if _dtypes.is_complex(aval_of(x1).dtype):
        out = _logaddexp_complex(lax.mul(x1, _full(ln2, x1)), lax.mul(x2, _full(ln2, x2)))
        return lax.div(out, _full(ln2, out))
    return _logaddexp2_real(x1, x2)


def _logaddexp2_real_impl(x1, x2):
    ln2 = math.log(2.0)
    amax = lax.max(x1, x2)
    delta = lax.sub(x1, x2)
    tail = lax.div(lax.log1p(lax.exp2(lax.neg(lax.abs(delta)))), _full(ln2, delta))
    return _select(lax.ne(delta, delta), lax.add(x1, x2), lax.add(amax, tail))


_logaddexp_real = _make_custom(_logaddexp_real_impl, _logaddexp_weights_jvp(lax.exp))
_logaddexp2_real = _make_custom(_logaddexp2_real_impl, _logaddexp_weights_jvp(lax.exp2))


def deg2rad(x, /):
    """Degrees to radians.

    Example::

        >>> jnp.deg2rad(180.0)
        Array(3.1415927, dtype=float32, weak_type=True)
    """
    x = _inexact1("deg2rad", x)
    return lax.mul(x, literal(math.pi / 180, aval_of(x).dtype, True))


def rad2deg(x, /):
    """Radians to degrees.

    Example::

        >>> jnp.rad2deg(jnp.pi)
        Array(180., dtype=float32, weak_type=True)
    """
    x = _inexact1("rad2deg", x)
    return lax.mul(x, literal(180 / math.pi, aval_of(x).dtype, True))


radians = deg2rad
degrees = rad2deg


def sinc(x, /):
    """Normalised sinc: ``sin(pi x) / (pi x)``, and 1 at 0.

    Example::

        >>> jnp.sinc(jnp.array([0.0, 0.5]))
        Array([1.       , 0.6366198], dtype=float32)
    """
    x = _inexact1("sinc", x)
    zero = lax.eq(x, _full(0, x))
    pix = lax.mul(x, literal(math.pi, aval_of(x).dtype, True))
    safe = _select(zero, _full(1, pix), pix)
    return _select(zero, _full(1, pix), lax.div(lax.sin(safe), safe))


def heaviside(x1, x2, /):
    """Step function: 0 where ``x1 < 0``, ``x2`` where ``x1 == 0``, 1 where ``x1 > 0`` (NaN
    where ``x1`` is NaN).

    Example::

        >>> jnp.heaviside(jnp.array([-1.0, 0.0, 2.0]), 0.5)
        Array([0. , 0.5, 1. ], dtype=float32)
    """
    x1, x2 = _arrays(*_inexact2("heaviside", x1, x2))
    at_zero = _select(lax.eq(x1, _full(0, x1)), x2, x1)  # NaN in x1 stays NaN
    pos = _select(lax.gt(x1, _full(0, x1)), _full(1, x2), at_zero)
    return _select(lax.lt(x1, _full(0, x1)), _full(0, x2), pos)


def signbit(x, /):
    """True where the sign bit is set (so ``-0.0`` and ``-nan`` count as negative).

    Example::

        >>> jnp.signbit(jnp.array([-0.0, 1.0]))
        Array([ True, False], dtype=bool)
    """
    check_arraylike("signbit", x)
    x = _asarray(x)
    dt = x.dtype
    if _dtypes.is_complex(dt):
        raise TypeError("jaxel.numpy.signbit does not support complex inputs.")
    if dt == np.bool_ or _dtypes.is_unsigned(dt):
        return lax.broadcast_in_dim_p.bind(literal(False, np.dtype(bool), False), shape=x.shape,
                                           broadcast_dimensions=(), sharding=None)
    if _dtypes.is_integer(dt):
        return lax.lt(_strong(x), _full(0, x, weak=False))  # a strong bool, as JAX's
    int_dt = {2: np.int16, 4: np.int32, 8: np.int64}[dt.itemsize]
    bits = lax.bitcast_convert_type(x, int_dt)
    return lax.lt(bits, _full(0, bits))


def copysign(x1, x2, /):
    """``|x1|`` with the sign of ``x2`` (including the sign of ``-0.0``).

    Example::

        >>> jnp.copysign(2.0, -0.0)
        Array(-2., dtype=float32, weak_type=True)
    """
    x1, x2 = _arrays(*_inexact2("copysign", x1, x2))
    if _dtypes.is_complex(aval_of(x1).dtype):
        raise TypeError("jaxel.numpy.copysign does not support complex inputs.")
    mag = lax.abs(x1)
    return _select(signbit(x2), lax.neg(mag), mag)


def _fminmax(name, x1, x2, compare, fallback):
    check_arraylike(name, x1, x2)
    x1, x2 = promote_and_broadcast(name, x1, x2)
    dt = aval_of(x1).dtype
    if not _dtypes.is_inexact(dt) or _dtypes.is_complex(dt):
        return fallback(x1, x2)
    x1, x2 = _arrays(x1, x2)
    take1 = lax.bitwise_or(compare(x1, x2), lax.ne(x2, x2))  # NaN in x2: take x1
    return _select(take1, x1, x2)


def fmax(x1, x2, /):
    """Elementwise maximum ignoring NaNs (NaN only if both are NaN).

    Example::

        >>> jnp.fmax(jnp.array([1.0, jnp.nan]), jnp.array([jnp.nan, 2.0]))
        Array([1., 2.], dtype=float32)
    """
    from jaxel.numpy.ufuncs import maximum
    return _fminmax("fmax", x1, x2, lax.gt, maximum)


def fmin(x1, x2, /):
    """Elementwise minimum ignoring NaNs (NaN only if both are NaN).

    Example::

        >>> jnp.fmin(jnp.array([1.0, jnp.nan]), jnp.array([jnp.nan, 2.0]))
        Array([1., 2.], dtype=float32)
    """
    from jaxel.numpy.ufuncs import minimum
    return _fminmax("fmin", x1, x2, lax.lt, minimum)


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """Replace NaN by ``nan``, +inf by ``posinf`` and -inf by ``neginf`` (default: the largest
    and smallest finite values of the dtype). Integers and bools are returned unchanged.

    Example::

        >>> jnp.nan_to_num(jnp.array([jnp.nan, jnp.inf]))
        Array([0.0000000e+00, 3.4028235e+38], dtype=float32)
    """
    check_arraylike("nan_to_num", x)
    x = _asarray(x)
    dt = x.dtype
    if not _dtypes.is_inexact(dt):
        return x
    if _dtypes.is_complex(dt):
        re = nan_to_num(lax.real(x), nan=nan, posinf=posinf, neginf=neginf)
        im = nan_to_num(lax.imag(x), nan=nan, posinf=posinf, neginf=neginf)
        return lax.complex(re, im)
    x = _strong(x)  # JAX's result is strongly typed
    info = _dtypes.finfo(dt)
    posinf = float(info.max) if posinf is None else posinf
    neginf = float(info.min) if neginf is None else neginf
    out = _select(lax.ne(x, x), _replacement(nan, x), x)
    out = _select(lax.eq(x, _full(float("inf"), x)), _replacement(posinf, x), out)
    return _select(lax.eq(x, _full(float("-inf"), x)), _replacement(neginf, x), out)


def _replacement(value, like):
    if hasattr(value, "aval"):
        return broadcast_to_shape(lax.convert_element_type(value, like.dtype), like.shape)
    return _full(np.asarray(value).item(), like, weak=False)


def float_power(x1, x2, /):
    """Elementwise ``x1 ** x2`` computed in floating point.

    Example::

        >>> jnp.float_power(2, 3)
        Array(8., dtype=float32, weak_type=True)
    """
    x1, x2 = _inexact2("float_power", x1, x2)
    return lax.pow(x1, x2)


def trunc(x):
    """Round towards zero (integers and bools are returned unchanged).

    Example::

        >>> jnp.trunc(jnp.array([-1.7, 1.7]))
        Array([-1.,  1.], dtype=float32)
    """
    check_arraylike("trunc", x)
    x = _asarray(x)
    if not _dtypes.is_inexact(x.dtype):
        return x
    if _dtypes.is_complex(x.dtype):
        raise TypeError("jaxel.numpy.trunc does not support complex inputs.")
    return _select(lax.lt(x, _full(0, x)), lax.ceil(x), lax.floor(x))


def rint(x, /):
    """Round to the nearest integer, halves to even; integers become floats.

    Example::

        >>> jnp.rint(jnp.array([0.5, 1.5, 2.5]))
        Array([0., 2., 2.], dtype=float32)
    """
    check_arraylike("rint", x)
    was_inexact = _dtypes.is_inexact(_dtypes.dtype(x))
    x = _inexact1("rint", x)
    if not was_inexact:
        x = _strong(x)  # JAX: the float made from an integer is strongly typed
    if _dtypes.is_complex(aval_of(x).dtype):
        return lax.complex(lax.round(lax.real(x), 1), lax.round(lax.imag(x), 1))
    return lax.round(x, 1)


def _log_base(name, x, base):
    x = _inexact1(name, x)
    dt = aval_of(x).dtype
    # JAX 0.12.1's log2 keeps a weak operand's weak type; its log10 is never weakly typed.
    weak = aval_of(x).weak_type and base == 2.0
    return lax.div(lax.log(x), literal(math.log(base), dt, weak))


def log2(x, /):
    """Elementwise base-2 logarithm.

    Example::

        >>> jnp.log2(jnp.array([1.0, 8.0]))
        Array([0., 3.], dtype=float32)
    """
    return lax.log2(_inexact1("log2", x))  # a primitive in JAX 0.12.1: weak types are kept


def log10(x, /):
    """Elementwise base-10 logarithm.

    Example::

        >>> jnp.log10(jnp.array([1.0, 100.0]))
        Array([0., 2.], dtype=float32)
    """
    return _log_base("log10", x, 10.0)


# ---- logical operations (any dtype: non-zero is true) ------------------------------------------
def _logical(name, x1, x2, op):
    check_arraylike(name, x1, x2)
    # As JAX's: the result is strong, except between two Python scalars (a weak bool).
    both_python = _all_python_scalars(x1, x2) and not (type(x1) is bool and type(x2) is bool)
    a, b = promote_and_broadcast(name, *promote_dtypes(x1, x2))
    out = op(_to_bool(a), _to_bool(b))
    if both_python:
        return lax.convert_element_type_p.bind(out, new_dtype=np.dtype(bool), weak_type=True,
                                               sharding=None)
    return out


def logical_and(x1, x2, /):
    """Elementwise truth-value AND (non-zero is true); the result is bool.

    Example::

        >>> jnp.logical_and(jnp.array([2, 0]), 3)
        Array([ True, False], dtype=bool)
    """
    return _logical("logical_and", x1, x2, lax.bitwise_and)


def logical_or(x1, x2, /):
    """Elementwise truth-value OR (non-zero is true); the result is bool.

    Example::

        >>> jnp.logical_or(jnp.array([2, 0]), 0)
        Array([ True, False], dtype=bool)
    """
    return _logical("logical_or", x1, x2, lax.bitwise_or)


def logical_xor(x1, x2, /):
    """Elementwise truth-value XOR (non-zero is true); the result is bool.

    Example::

        >>> jnp.logical_xor(jnp.array([2, 0]), 1)
        Array([False,  True], dtype=bool)
    """
    return _logical("logical_xor", x1, x2, lax.bitwise_xor)


def logical_not(x, /):
    """Elementwise truth-value NOT (zero is true); the result is bool.

    Example::

        >>> jnp.logical_not(jnp.array([2, 0]))
        Array([False,  True], dtype=bool)
    """
    check_arraylike("logical_not", x)
    return lax.bitwise_not(_to_bool(x))


__all__ = ["where", "nonzero", "flatnonzero", "argwhere", "select", "clip", "isclose",
           "allclose", "array_equal", "array_equiv", "isscalar", "iscomplexobj", "isrealobj",
           "fmod", "hypot", "logaddexp", "logaddexp2", "deg2rad", "radians", "rad2deg",
           "degrees", "sinc", "heaviside", "signbit", "copysign", "fmax", "fmin", "nan_to_num",
           "float_power", "trunc", "rint", "log2", "log10", "logical_and", "logical_or",
           "logical_xor", "logical_not"]
