"""``jaxel.ds`` (``dslice``): a slice given by its start and size, whose start may be traced."""
from __future__ import annotations

import dataclasses
import operator
from typing import Any

from jaxel import tree_util


@dataclasses.dataclass(frozen=True)
class Slice:
    """The slice ``start:start + size:stride`` whose ``start`` may be a traced value.

    A traced start is clamped as by ``lax.dynamic_slice`` (the ``size`` elements always fit in
    the dimension); a static start behaves exactly like the Python slice."""

    start: Any
    size: Any
    stride: int = 1

    def __post_init__(self):
        if self.stride < 0:
            raise ValueError("`stride` must be >= 0.")

    @property
    def is_dynamic_start(self) -> bool:
        """Whether ``start`` is not a Python/NumPy integer (a traced or device value)."""
        return not _is_int(self.start)

    @property
    def is_dynamic_size(self) -> bool:
        """Whether ``size`` is not a Python/NumPy integer."""
        return not _is_int(self.size)

    @classmethod
    def from_slice(cls, slc: slice, size: int) -> "Slice":
        """The ``Slice`` selecting what ``slc`` selects from a dimension of length ``size``."""
        start, stop, step = slc.indices(size)
        if step < 1:
            raise ValueError(f"slice must have a step >= 1 (found: {step})")
        return cls(start, max(0, (stop - start + step - 1) // step), step)


def _is_int(v) -> bool:
    try:
        operator.index(v)
    except TypeError:
        return False
    return not hasattr(v, "aval")


# A traced start is a child (it can cross jit boundaries); static parts are aux data.
tree_util.register_pytree_node(
    Slice,
    lambda s: ((None if _is_int(s.start) else s.start, None if _is_int(s.size) else s.size),
               (s.start if _is_int(s.start) else None, s.size if _is_int(s.size) else None,
                s.stride)),
    lambda aux, ch: Slice(ch[0] if ch[0] is not None else aux[0],
                          ch[1] if ch[1] is not None else aux[1], aux[2]),
)


class _NotSpecified:
    pass


def ds(start, size=_NotSpecified(), stride=None):
    """A :class:`Slice` from a start index and a size (``jax.ds``, also ``dslice``).

    Like the builtin ``slice``: ``ds(None)`` is ``:``, ``ds(j)`` is ``:j``, ``ds(i, n)`` is
    ``i:i+n`` and ``ds(i, n, s)`` is ``i:i+n:s``, except that ``i`` may be traced::

        x[jaxel.ds(i, 2)]   # two elements from position i, inside jit too
    """
    if start is None:
        if isinstance(size, _NotSpecified):
            return slice(None, None, stride)
        start = 0
    if stride is None:
        stride = 1
    if not isinstance(stride, int):
        raise ValueError("Non-static stride in `dslice`")
    if isinstance(size, _NotSpecified):
        start, size = 0, start
    return Slice(start, size, stride)


dslice = ds


def apply_slices(x, idx):
    """``(x', idx')``: every :class:`Slice` of the index ``idx`` with a traced start applied
    to ``x`` as a dynamic slice (its stride left in ``idx'``); static ones become slices."""
    import numpy as np
    from jaxel import lax
    items = list(idx) if isinstance(idx, tuple) else [idx]
    ndim = len(x.shape)

    def consumed(item):
        if item is None or item is Ellipsis:
            return 0
        if getattr(item, "dtype", None) is not None and np.dtype(item.dtype) == np.bool_:
            return max(1, len(np.shape(item)))
        return 1

    n_fill = ndim - sum(consumed(i) for i in items)
    dim = 0
    for k, item in enumerate(items):
        if item is Ellipsis:
            dim += n_fill
            continue
        if type(item) is Slice:
            size = operator.index(item.size)
            if _is_int(item.start):  # a static start is an ordinary slice, as in JAX
                start = operator.index(item.start)
                items[k] = slice(start, start + size, item.stride)
            elif item.stride == 1:  # a block: its start is clamped so that it fits
                if size > x.shape[dim]:
                    raise IndexError(f"ds(start, {size}) takes {size} elements, but dimension "
                                     f"{dim} has {x.shape[dim]}.")
                x = lax.dynamic_slice_in_dim(x, item.start, size, axis=dim)
                items[k] = slice(None)
            else:  # size elements start + k * stride, each index clamped (JAX's gather)
                from jaxel import numpy as jnp
                where = item.start + lax.iota(np.int32, size) * item.stride
                x = jnp.take(x, where, axis=dim, mode="clip")
                items[k] = slice(None)
        dim += consumed(item)
    return x, tuple(items) if isinstance(idx, tuple) else items[0]
