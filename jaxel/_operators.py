"""The one operator mixin shared by ``Array`` and every ``Tracer``.

Each operator calls into ``jaxel.numpy``; the module is bound into ``jnp`` here when
``jaxel.numpy`` finishes importing, so no operator pays for an import or a lookup function.
"""
from __future__ import annotations

jnp = None  # set by jaxel.numpy at import (avoids an import cycle with zero per-call cost)


class ArrayOperators:
    """Python operators and NumPy-style methods, all defined in terms of ``jaxel.numpy``."""

    __slots__ = ()
    __array_priority__ = 100

    def __add__(self, other): return jnp.add(self, other)
    def __radd__(self, other): return jnp.add(other, self)
    def __sub__(self, other): return jnp.subtract(self, other)
    def __rsub__(self, other): return jnp.subtract(other, self)
    def __mul__(self, other): return jnp.multiply(self, other)
    def __rmul__(self, other): return jnp.multiply(other, self)
    def __truediv__(self, other): return jnp.true_divide(self, other)
    def __rtruediv__(self, other): return jnp.true_divide(other, self)
    def __floordiv__(self, other): return jnp.floor_divide(self, other)
    def __rfloordiv__(self, other): return jnp.floor_divide(other, self)
    def __mod__(self, other): return jnp.remainder(self, other)
    def __rmod__(self, other): return jnp.remainder(other, self)
    def __divmod__(self, other): return jnp.divmod(self, other)
    def __rdivmod__(self, other): return jnp.divmod(other, self)
    def __pow__(self, other): return jnp.power(self, other)
    def __rpow__(self, other): return jnp.power(other, self)
    def __matmul__(self, other): return jnp.matmul(self, other)
    def __rmatmul__(self, other): return jnp.matmul(other, self)
    def __and__(self, other): return jnp.bitwise_and(self, other)
    def __rand__(self, other): return jnp.bitwise_and(other, self)
    def __or__(self, other): return jnp.bitwise_or(self, other)
    def __ror__(self, other): return jnp.bitwise_or(other, self)
    def __xor__(self, other): return jnp.bitwise_xor(self, other)
    def __rxor__(self, other): return jnp.bitwise_xor(other, self)
    def __lshift__(self, other): return jnp.left_shift(self, other)
    def __rlshift__(self, other): return jnp.left_shift(other, self)
    def __rshift__(self, other): return jnp.right_shift(self, other)
    def __rrshift__(self, other): return jnp.right_shift(other, self)
    def __lt__(self, other): return jnp.less(self, other)
    def __le__(self, other): return jnp.less_equal(self, other)
    def __gt__(self, other): return jnp.greater(self, other)
    def __ge__(self, other): return jnp.greater_equal(self, other)
    def __eq__(self, other): return jnp.equal(self, other)
    def __ne__(self, other): return jnp.not_equal(self, other)
    def __neg__(self): return jnp.negative(self)
    def __pos__(self): return jnp.positive(self)
    def __abs__(self): return jnp.abs(self)
    def __invert__(self): return jnp.invert(self)
    def __round__(self, ndigits=None): return jnp.round(self, ndigits or 0)

    def __getitem__(self, idx): return jnp._getitem(self, idx)

    def __setitem__(self, idx, value):
        raise TypeError(
            f"{type(self).__name__} objects are immutable: `x[idx] = y` is not supported. "
            "Use `x = x.at[idx].set(y)` instead (it returns an updated copy).")

    @property
    def at(self):
        """Functional indexed updates: ``x.at[idx].set(y)``, ``.add``, ``.mul``, ``.get``..."""
        return jnp._IndexUpdateHelper(self)

    @property
    def T(self): return jnp.transpose(self)

    @property
    def mT(self): return jnp.matrix_transpose(self)

    @property
    def real(self): return jnp.real(self)

    @property
    def imag(self): return jnp.imag(self)

    def astype(self, dtype, copy=False, device=None): return jnp.astype(self, dtype)
    def reshape(self, *shape, order="C"):
        if len(shape) == 1 and not isinstance(shape[0], int):
            shape = shape[0]
        return jnp.reshape(self, shape, order=order)
    def transpose(self, *axes):
        if len(axes) == 1 and (axes[0] is None or not isinstance(axes[0], int)):
            axes = axes[0]
        return jnp.transpose(self, axes or None)
    def swapaxes(self, a, b): return jnp.swapaxes(self, a, b)
    def squeeze(self, axis=None): return jnp.squeeze(self, axis)
    def flatten(self, order="C"): return jnp.ravel(self, order)
    def ravel(self, order="C"): return jnp.ravel(self, order)
    def sum(self, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
        return jnp.sum(self, axis, dtype, out, keepdims, initial, where)
    def prod(self, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
        return jnp.prod(self, axis, dtype, out, keepdims, initial, where)
    def mean(self, axis=None, dtype=None, out=None, keepdims=False, where=None):
        return jnp.mean(self, axis, dtype, out, keepdims, where=where)
    def var(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None):
        return jnp.var(self, axis, dtype, out, ddof, keepdims, where=where)
    def std(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None):
        return jnp.std(self, axis, dtype, out, ddof, keepdims, where=where)
    def max(self, axis=None, out=None, keepdims=False, initial=None, where=None):
        return jnp.max(self, axis, out, keepdims, initial, where)
    def min(self, axis=None, out=None, keepdims=False, initial=None, where=None):
        return jnp.min(self, axis, out, keepdims, initial, where)
    def argmax(self, axis=None, out=None, keepdims=None): return jnp.argmax(self, axis, out, keepdims)
    def argmin(self, axis=None, out=None, keepdims=None): return jnp.argmin(self, axis, out, keepdims)
    def all(self, axis=None, out=None, keepdims=False, where=None): return jnp.all(self, axis, out, keepdims, where=where)
    def any(self, axis=None, out=None, keepdims=False, where=None): return jnp.any(self, axis, out, keepdims, where=where)
    def cumsum(self, axis=None, dtype=None, out=None): return jnp.cumsum(self, axis, dtype)
    def cumprod(self, axis=None, dtype=None, out=None): return jnp.cumprod(self, axis, dtype)
    def clip(self, min=None, max=None): return jnp.clip(self, min, max)
    def round(self, decimals=0): return jnp.round(self, decimals)
    def conj(self): return jnp.conjugate(self)
    def conjugate(self): return jnp.conjugate(self)
    def dot(self, b): return jnp.dot(self, b)
    def sort(self, axis=-1): return jnp.sort(self, axis)
    def argsort(self, axis=-1): return jnp.argsort(self, axis)
    def take(self, indices, axis=None, out=None, mode=None, unique_indices=False,
             indices_are_sorted=False, fill_value=None):
        return jnp.take(self, indices, axis, out, mode, unique_indices, indices_are_sorted,
                        fill_value)
    def nonzero(self, size=None, fill_value=None): return jnp.nonzero(self, size=size, fill_value=fill_value)
    def repeat(self, repeats, axis=None): return jnp.repeat(self, repeats, axis)
    def trace(self, offset=0, axis1=0, axis2=1): return jnp.trace(self, offset, axis1, axis2)
    def diagonal(self, offset=0, axis1=0, axis2=1): return jnp.diagonal(self, offset, axis1, axis2)
    def view(self, dtype=None, type=None):
        """The same bytes read as ``dtype`` (a bitcast; the last axis scales with the width)."""
        if type is not None:
            raise NotImplementedError("view(type=...) is not supported (jaxel has one array "
                                      "type); pass only a dtype.")
        return jnp._view(self, dtype)

    def __array_namespace__(self, api_version=None):
        """The Array API namespace of this array: ``jaxel.numpy``."""
        return jnp
