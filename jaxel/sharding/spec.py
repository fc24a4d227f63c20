"""``PartitionSpec``: for each array dimension, the mesh axis (or axes) it is split over."""
from __future__ import annotations


class _Unconstrained:
    """``P.UNCONSTRAINED``: let the compiler choose this dimension's sharding."""

    __slots__ = ()

    def __repr__(self):
        return "UNCONSTRAINED"

    def __reduce__(self):
        return (_unconstrained, ())


def _unconstrained():
    return UNCONSTRAINED


UNCONSTRAINED = _Unconstrained()


def _canonical_entry(e):
    """One dimension's entry: None, UNCONSTRAINED, an axis name, or a tuple of axis names."""
    if e is None or e is UNCONSTRAINED or isinstance(e, str):
        return e
    if isinstance(e, (tuple, list)):
        names = tuple(e)
        for n in names:
            if not isinstance(n, str):
                raise TypeError(f"PartitionSpec: a dimension's entry must be None, an axis name "
                                f"or a tuple of axis names; got {e!r}.")
        if len(names) == 0:
            return None
        return names[0] if len(names) == 1 else names
    raise TypeError(f"PartitionSpec: a dimension's entry must be None, an axis name or a tuple "
                    f"of axis names; got {e!r} of type {type(e).__name__}.")


class PartitionSpec(tuple):
    """How an array's dimensions map onto mesh axes (``jax.sharding.PartitionSpec``, also ``P``).

    Entry ``i`` says how dimension ``i`` is split: ``None`` (not split), a mesh axis name, or a
    tuple of names (split over their product, major axis first). Missing trailing entries mean
    ``None``; names not used by any dimension mean the array is replicated along that axis.

    Example::

        >>> P('data', None)      # rows split over the 'data' axis, columns whole
        P('data', None)
    """

    UNCONSTRAINED = UNCONSTRAINED

    def __new__(cls, *partitions, unreduced=frozenset(), reduced=frozenset()):
        if unreduced or reduced:
            raise NotImplementedError("PartitionSpec(unreduced=..., reduced=...) is not "
                                      "supported by jaxel yet.")
        return tuple.__new__(cls, tuple(_canonical_entry(p) for p in partitions))

    def __repr__(self):
        return "P(" + ", ".join(repr(e) for e in self) + ("," if len(self) == 1 else "") + ")"

    def __reduce__(self):
        return (PartitionSpec, tuple(self))

    def _normalized(self, ndim=None):
        """Entries as tuples of names (``()`` for None), padded to ``ndim``, trailing () cut
        when ``ndim`` is None."""
        out = [() if e is None else (e,) if isinstance(e, str) else e if e is not UNCONSTRAINED
               else e for e in self]
        if ndim is not None:
            out += [()] * (ndim - len(out))
        else:
            while out and out[-1] == ():
                out.pop()
        return tuple(out)

    def __eq__(self, other):
        # As JAX 0.12.1: entries compare as written (P('x') != P('x', None): a spec's length is
        # part of it), 'x' and ('x',) are one entry, and a PartitionSpec is not equal to a tuple.
        if not isinstance(other, PartitionSpec):
            return False
        return tuple.__eq__(self, other)

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        # Specs equal up to trailing Nones hash alike (as JAX's), which equality allows.
        return hash(("PartitionSpec", self._normalized()))

    def __add__(self, other):
        """``P('x') + ('y',)`` is ``P('x', 'y')``, as JAX's."""
        if not isinstance(other, tuple):
            return NotImplemented
        return PartitionSpec(*self, *other)

    def __radd__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return PartitionSpec(*other, *self)

    def _axis_names(self):
        """Every mesh axis name the spec uses, in order of appearance."""
        names = []
        for e in self._normalized():
            if e is UNCONSTRAINED:
                continue
            names.extend(e)
        return names

    @property
    def unreduced(self):
        return frozenset()

    @property
    def reduced(self):
        return frozenset()


P = PartitionSpec
