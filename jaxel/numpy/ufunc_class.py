"""``jnp.ufunc`` and ``jnp.frompyfunc``: NumPy's universal-function objects.

A ufunc wraps an elementwise function and adds the NumPy methods ``reduce``, ``accumulate``,
``at``, ``outer`` and ``reduceat``. The standard ones (``jnp.add``, ``jnp.maximum``, ...) route
these to the matching reductions and scatters (``add.reduce`` is ``sum``, ``add.at`` is
``x.at[i].add``); any other function (``frompyfunc``) gets generic versions built on
``lax.scan``, which apply the function one element at a time in NumPy's order, so a
non-associative function gives NumPy's answer.
"""
from __future__ import annotations

import operator

import numpy as np

__all__ = ["ufunc", "frompyfunc"]


def _jnp():
    from jaxel import numpy as jnp
    return jnp


def _no_out(name, out):
    if out is not None:
        raise NotImplementedError(f"jnp.{name}: the out argument is not supported (jaxel arrays "
                                  "are immutable); use the returned array.")


class ufunc:
    """A universal function: call it elementwise, or use its ``reduce``, ``accumulate``,
    ``at``, ``outer`` and ``reduceat`` methods (``jax.numpy.ufunc``).

    ``func`` takes ``nin`` arrays and returns ``nout``. ``identity`` is the value ``reduce``
    starts from on empty input. ``call``/``reduce``/``accumulate``/``at``/``reduceat`` override
    the generic implementations with faster equivalents.

    Example::

        >>> add_abs = jnp.frompyfunc(lambda x, y: jnp.abs(x) + jnp.abs(y), 2, 1, identity=0)
        >>> add_abs.reduce(jnp.array([-1, 2, -3]))
        Array(6, dtype=int32)
    """

    def __init__(self, func, /, nin, nout, *, name=None, nargs=None, identity=None, call=None,
                 reduce=None, accumulate=None, at=None, reduceat=None):
        if not callable(func):
            raise TypeError(f"jnp.ufunc: func must be callable, got {type(func).__name__}.")
        self._func = func
        self.nin = operator.index(nin)
        self.nout = operator.index(nout)
        self.nargs = self.nin if nargs is None else operator.index(nargs)
        self.identity = identity
        self.__name__ = name or getattr(func, "__name__", "ufunc")
        self.__doc__ = getattr(func, "__doc__", None) or ufunc.__doc__
        self._call, self._reduce, self._accumulate = call, reduce, accumulate
        self._at, self._reduceat = at, reduceat

    def __repr__(self):
        return f"<jnp.ufunc '{self.__name__}'>"

    def __hash__(self):
        return hash((self._func, self.__name__, self.nin, self.nout))

    def __eq__(self, other):
        return (isinstance(other, ufunc) and self._func is other._func
                and self.__name__ == other.__name__)

    # ---- calling -----------------------------------------------------------------------------
    def __call__(self, *args, out=None, where=None):
        """Apply the function elementwise (``out``/``where`` are not supported, as in JAX)."""
        _no_out(self.__name__, out)
        if where is not None:
            raise NotImplementedError(f"jnp.{self.__name__}: the where argument is not "
                                      "supported; use jnp.where on the result.")
        if len(args) != self.nin:
            raise TypeError(f"jnp.{self.__name__} takes {self.nin} positional argument(s), "
                            f"got {len(args)}.")
        return (self._call or self._func)(*args)

    def _binary(self, method):
        if self.nin != 2 or self.nout != 1:
            raise ValueError(f"jnp.{self.__name__}.{method} is only supported for binary "
                             f"ufuncs with one output; {self.__name__} has nin={self.nin}, "
                             f"nout={self.nout}.")

    # ---- reduce ------------------------------------------------------------------------------
    def reduce(self, a, axis=0, dtype=None, out=None, keepdims=False, initial=None, where=None):
        """Reduce ``a`` along ``axis`` (an int, a tuple, or None for all axes) by applying the
        function repeatedly: ``add.reduce`` is ``sum``. ``initial`` starts the reduction
        (required for empty input or ``where`` without an identity)."""
        self._binary("reduce")
        _no_out(f"{self.__name__}.reduce", out)
        if self._reduce is not None:
            return self._reduce(a, axis=axis, dtype=dtype, keepdims=keepdims, initial=initial,
                                where=where)
        return _reduce_via_scan(self, a, axis, dtype, keepdims, initial, where)

    def accumulate(self, a, axis=0, dtype=None, out=None):
        """Running reduction along ``axis``: ``out[i] = f(out[i-1], a[i])`` (``add.accumulate``
        is ``cumsum``)."""
        self._binary("accumulate")
        _no_out(f"{self.__name__}.accumulate", out)
        if self._accumulate is not None:
            return self._accumulate(a, axis=axis, dtype=dtype)
        return _accumulate_via_scan(self, a, axis, dtype)

    def at(self, a, indices, b=None, /, *, inplace=True):
        """``a`` with the function applied at ``indices`` (with ``b`` as second operand for
        binary ufuncs); repeated indices apply repeatedly, as in NumPy. Only
        ``inplace=False`` is supported: arrays are immutable."""
        if inplace:
            raise NotImplementedError(
                f"jnp.{self.__name__}.at: jaxel arrays are immutable; pass inplace=False to get "
                "the updated array (or use a.at[indices] updates).")
        if self.nout != 1:
            raise ValueError(f"jnp.{self.__name__}.at needs a ufunc with one output.")
        if self.nin == 2 and b is None:
            raise ValueError(f"jnp.{self.__name__}.at: a second operand b is required.")
        if self.nin == 1 and b is not None:
            raise ValueError(f"jnp.{self.__name__}.at: unary ufuncs take no second operand.")
        if self._at is not None:
            return self._at(a, indices, b)
        return _at_via_scan(self, a, indices, b)

    def outer(self, A, B, /):
        """``f(A[i, j, ...], B[k, l, ...])`` for every pair: shape ``A.shape + B.shape``."""
        self._binary("outer")
        jnp = _jnp()
        A, B = jnp.asarray(A), jnp.asarray(B)
        return self(A.reshape(A.shape + (1,) * B.ndim), B)

    def reduceat(self, a, indices, axis=0, dtype=None, out=None):
        """Reductions over the slices ``a[indices[i]:indices[i+1]]`` along ``axis`` (the last
        running to the end); where ``indices[i] >= indices[i+1]`` the result is
        ``a[indices[i]]``, as in NumPy."""
        self._binary("reduceat")
        _no_out(f"{self.__name__}.reduceat", out)
        if self._reduceat is not None:
            return self._reduceat(a, indices, axis=axis, dtype=dtype)
        return _reduceat_via_scan(self, a, indices, axis, dtype)


# ---- generic methods -------------------------------------------------------------------------------
def _axis(axis, ndim, name):
    """A normalised axis; out of range names the method, the axis and ndim."""
    from jaxel.numpy._util import canonicalize_axis
    try:
        return canonicalize_axis(axis, ndim)
    except ValueError as e:
        raise ValueError(f"jnp.{name}: {e}") from None


def _prepare_axis(name, a, axis):
    """``a`` with the reduced axes merged into one leading axis; returns (a, kept shape, axes)."""
    jnp = _jnp()
    if axis is None:
        axes = tuple(range(a.ndim))
    elif isinstance(axis, tuple):
        axes = tuple(_axis(ax, a.ndim, f"{name}") for ax in axis)
    else:
        axes = (_axis(axis, a.ndim, f"{name}"),)
    rest = [d for d in range(a.ndim) if d not in axes]
    moved = jnp.transpose(a, axes + tuple(rest))
    kept = tuple(a.shape[d] for d in rest)
    return moved.reshape((-1,) + kept), kept, axes


def _result_dtype(uf, x):
    """The dtype the function returns for two operands like ``x``."""
    from jaxel import eval_shape
    return eval_shape(uf._func, x, x).dtype


def _reduce_via_scan(uf, a, axis, dtype, keepdims, initial, where):
    jnp = _jnp()
    from jaxel import lax
    name = f"{uf.__name__}.reduce"
    a = jnp.asarray(a)
    if dtype is not None:
        a = a.astype(dtype)
    flat, kept, axes = _prepare_axis(name, a, axis)
    if where is not None:
        mask, _, _ = _prepare_axis(name, jnp.broadcast_to(jnp.asarray(where, bool), a.shape),
                                   axis)
    start = initial if initial is not None else uf.identity
    if start is None and (flat.shape[0] == 0 or where is not None):
        raise ValueError(f"jnp.{name}: {uf.__name__} has no identity; pass initial= for an "
                         "empty reduction or one with where=.")
    out_dtype = _result_dtype(uf, flat[0] if flat.shape[0] else jnp.zeros(kept, flat.dtype))
    if start is None:
        carry, xs = flat[0].astype(out_dtype), flat[1:]
        masks = None if where is None else mask[1:]
    else:
        carry, xs = jnp.full(kept, start, out_dtype), flat
        masks = None if where is None else mask

    def step(c, x_m):
        x, m = x_m
        new = uf._func(c, x).astype(out_dtype)
        return (new if m is None else jnp.where(m, new, c)), None

    result, _ = lax.scan(step, carry, (xs, masks))
    if keepdims:
        result = jnp.expand_dims(result, tuple(sorted(axes)))
    return result


def _accumulate_via_scan(uf, a, axis, dtype):
    jnp = _jnp()
    from jaxel import lax
    a = jnp.asarray(a)
    if dtype is not None:
        a = a.astype(dtype)
    axis = _axis(axis, a.ndim, f"{uf.__name__}.accumulate")
    moved = jnp.moveaxis(a, axis, 0)
    if moved.shape[0] == 0:
        return a
    out_dtype = _result_dtype(uf, moved[0])

    def step(c, x):
        new = uf._func(c, x).astype(out_dtype)
        return new, new

    first = moved[0].astype(out_dtype)
    _, rest = lax.scan(step, first, moved[1:])
    return jnp.moveaxis(jnp.concatenate([first[None], rest]), 0, axis)


def _at_via_scan(uf, a, indices, b):
    jnp = _jnp()
    from jaxel import lax
    a = jnp.asarray(a)
    # Flat positions of the indexed elements, in NumPy's (row-major) order of application.
    positions = jnp.arange(a.size, dtype=np.int32).reshape(a.shape)[indices]
    flat_pos = positions.reshape(-1)
    if b is None:
        operands = flat_pos
    else:
        operands = (flat_pos, jnp.broadcast_to(jnp.asarray(b), positions.shape).reshape(-1))

    def step(flat, item):
        if b is None:
            p = item
            value = uf._func(flat[p])
        else:
            p, v = item
            value = uf._func(flat[p], v)
        return flat.at[p].set(value.astype(flat.dtype)), None

    out, _ = lax.scan(step, a.reshape(-1), operands)
    return out.reshape(a.shape)


def _reduceat_via_scan(uf, a, indices, axis, dtype):
    jnp = _jnp()
    from jaxel import lax, vmap
    a = jnp.asarray(a)
    if dtype is not None:
        a = a.astype(dtype)
    axis = _axis(axis, a.ndim, f"{uf.__name__}.reduceat")
    moved = jnp.moveaxis(a, axis, 0)
    n = moved.shape[0]
    indices = jnp.asarray(indices)
    if indices.ndim != 1 or not jnp.issubdtype(indices.dtype, jnp.integer):
        raise ValueError(f"jnp.{uf.__name__}.reduceat: indices must be a 1-D integer array, "
                         f"got {indices.dtype} of shape {indices.shape}.")
    ends = jnp.concatenate([indices[1:], jnp.array([n], indices.dtype)])
    out_dtype = _result_dtype(uf, moved[0])
    positions = jnp.arange(n)

    def segment(start, end):
        # a[start] combined, in order, with every later element before `end`.
        def step(c, j_x):
            j, x = j_x
            new = uf._func(c, x).astype(out_dtype)
            return jnp.where((j > start) & (j < end), new, c), None
        out, _ = lax.scan(step, moved[start].astype(out_dtype), (positions, moved))
        return out

    return jnp.moveaxis(vmap(segment)(indices, ends), 0, axis)


def frompyfunc(func, /, nin, nout, *, identity=None):
    """A :class:`ufunc` from a function of arrays (``jax.numpy.frompyfunc``); its methods use
    generic scans. ``func`` must work on jaxel arrays (it is traced, not called per element).

    Example::

        >>> hypot = jnp.frompyfunc(lambda x, y: jnp.sqrt(x * x + y * y), 2, 1)
        >>> hypot.accumulate(jnp.array([3.0, 4.0, 12.0]))
        Array([ 3.,  5., 13.], dtype=float32)
    """
    return ufunc(func, nin, nout, identity=identity)


# ---- the standard ufuncs -----------------------------------------------------------------------
def _reduction(fn):
    """Adapt a jnp reduction (sum, max, ...) to the ufunc.reduce signature."""
    def reduce(a, *, axis, dtype, keepdims, initial, where):
        kwargs = {"axis": axis, "keepdims": keepdims}
        if dtype is not None:
            kwargs["dtype"] = dtype
        if initial is not None:
            kwargs["initial"] = initial
        if where is not None:
            kwargs["where"] = where
        return fn(a, **kwargs)
    return reduce


def _cumulative(fn):
    def accumulate(a, *, axis, dtype):
        return fn(a, axis=axis, dtype=dtype) if dtype is not None else fn(a, axis=axis)
    return accumulate


def _bool_reduction(fn):
    """all/any take no dtype/initial: reduce over booleans."""
    def reduce(a, *, axis, dtype, keepdims, initial, where):
        jnp = _jnp()
        out = fn(jnp.asarray(a, bool), axis=axis, keepdims=keepdims, where=where)
        if initial is not None:
            out = fn(jnp.stack([out, jnp.broadcast_to(jnp.asarray(initial, bool), out.shape)]),
                     axis=0)
        return out if dtype is None else out.astype(dtype)
    return reduce


def standard_ufuncs(ns):
    """The 14 NumPy ufuncs JAX exposes as ``jnp.ufunc`` objects, built from the plain
    functions in namespace ``ns``; returns ``{name: ufunc}``."""
    at = {
        "add": lambda a, i, b: _jnp().asarray(a).at[i].add(b),
        "multiply": lambda a, i, b: _jnp().asarray(a).at[i].multiply(b),
        "subtract": lambda a, i, b: _jnp().asarray(a).at[i].add(-_jnp().asarray(b)),
        "maximum": lambda a, i, b: _jnp().asarray(a).at[i].max(b),
        "minimum": lambda a, i, b: _jnp().asarray(a).at[i].min(b),
    }
    specs = {
        "add": dict(identity=0, reduce=_reduction(ns.sum), accumulate=_cumulative(ns.cumsum)),
        "multiply": dict(identity=1, reduce=_reduction(ns.prod),
                         accumulate=_cumulative(ns.cumprod)),
        "subtract": dict(),
        "maximum": dict(reduce=_reduction(ns.max)),
        "minimum": dict(reduce=_reduction(ns.min)),
        "logical_and": dict(identity=True, reduce=_bool_reduction(ns.all)),
        "logical_or": dict(identity=False, reduce=_bool_reduction(ns.any)),
        "logical_xor": dict(identity=False),
        "bitwise_and": dict(identity=-1),
        "bitwise_or": dict(identity=0),
        "bitwise_xor": dict(identity=0),
        "logaddexp": dict(identity=-np.inf),
        "logaddexp2": dict(identity=-np.inf),
    }
    out = {name: ufunc(getattr(ns, name), 2, 1, name=name, at=at.get(name), **spec)
           for name, spec in specs.items()}
    out["negative"] = ufunc(ns.negative, 1, 1, name="negative")
    return out
