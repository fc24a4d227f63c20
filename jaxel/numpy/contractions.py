"""Contractions: ``matmul``, ``dot``, ``vdot``, ``vecdot``, ``matvec``, ``vecmat``, ``inner``,
``outer``, ``tensordot`` and ``einsum``, composed from ``lax.dot_general``.

Operands are promoted to their common (JAX) dtype; the contraction accumulates in
``preferred_element_type`` when given, else in that dtype.
"""
from __future__ import annotations

import math
import operator

import numpy as np

from jaxel import dtypes as _dtypes
from jaxel import lax
from jaxel.runtime.array import Array
from jaxel.tracing.core import Tracer
from jaxel.numpy._util import aval_of, check_arraylike, promote_dtypes


def _promote(fun_name, *args):
    """Check and promote operands; returns (operands, common dtype)."""
    check_arraylike(fun_name, *args)
    args = promote_dtypes(*args)
    return args, aval_of(args[0]).dtype


def _pet(preferred_element_type, dt, fun_name):
    """The dtype the contraction accumulates in: the user's choice, else the operands'."""
    if preferred_element_type is None:
        return dt
    return _dtypes.check_and_canonicalize_user_dtype(preferred_element_type,
                                                     f"jaxel.numpy.{fun_name}")


def _no_sharding(out_sharding, fun_name):
    if out_sharding is not None:
        raise NotImplementedError(f"jaxel.numpy.{fun_name}: out_sharding is not supported "
                                  "(single-device arrays only); pass None.")


def _is_complex(x):
    return aval_of(x).dtype.kind == "c"


def _ravel(x):
    a = aval_of(x)
    return x if a.ndim == 1 else lax.reshape(x, (a.size,))


# ---- matmul ----------------------------------------------------------------------------------
def _matmul(a, b, precision, pet, fun_name="matmul"):
    """``a @ b`` of promoted operands: NumPy's 1-d promotion and batch broadcasting, computed
    by one dot_general without materialising broadcast batch dimensions."""
    sa, sb = aval_of(a).shape, aval_of(b).shape
    a_mat, b_mat = len(sa) >= 2, len(sb) >= 2
    ba, bb = sa[:-2] if a_mat else (), sb[:-2] if b_mat else ()
    nbatch = max(len(ba), len(bb))
    off_a, off_b = nbatch - len(ba), nbatch - len(bb)
    squeeze_a, squeeze_b = [], []
    # For each output batch position: ("batch", i) shared by both, or ("a", i) / ("b", i): a
    # free dimension of one operand (the other broadcasts along it).
    roles = []
    for p in range(nbatch):
        da = ba[p - off_a] if p >= off_a else None
        db = bb[p - off_b] if p >= off_b else None
        if da is not None and db is not None and da != db:
            if da == 1:
                squeeze_a.append(p - off_a)
                da = None
            elif db == 1:
                squeeze_b.append(p - off_b)
                db = None
            else:
                raise ValueError(
                    f"jaxel.numpy.{fun_name}: the batch dimensions of shapes {sa} and {sb} "
                    f"do not broadcast (sizes {da} and {db} at batch position {p}).")
        roles.append("batch" if da is not None and db is not None else ("a" if da is not None
                                                                          else "b"))
    if squeeze_a:
        a = lax.squeeze(a, squeeze_a)
    if squeeze_b:
        b = lax.squeeze(b, squeeze_b)
    nda, ndb = aval_of(a).ndim, aval_of(b).ndim
    if sa[-1] != sb[-2 if b_mat else 0]:
        raise TypeError(f"jaxel.numpy.{fun_name}: the contracted dimensions of shapes {sa} and "
                        f"{sb} differ ({sa[-1]} vs {sb[-2 if b_mat else 0]}).")
    # Operand axis of each batch position after squeezing (batch axes keep their order).
    ia = ib = 0
    lb, rb, a_free, b_free = [], [], [], []
    for p, role in enumerate(roles):
        if role == "batch":
            lb.append(ia)
            rb.append(ib)
            ia, ib = ia + 1, ib + 1
        elif role == "a":
            a_free.append(p)
            ia += 1
        else:
            b_free.append(p)
            ib += 1
    dn = (((nda - 1,), (ndb - 2 if b_mat else 0,)), (tuple(lb), tuple(rb)))
    out = lax.dot_general(a, b, dn, precision=precision, preferred_element_type=pet)
    # dot_general's order: shared batch, a's free batch dims (+ row), b's free batch dims
    # (+ column). NumPy's: batch positions in order, then row, then column.
    got = [p for p, r in enumerate(roles) if r == "batch"] + a_free + (["row"] if a_mat else [])
    got += b_free + (["col"] if b_mat else [])
    want = list(range(nbatch)) + (["row"] if a_mat else []) + (["col"] if b_mat else [])
    perm = [got.index(w) for w in want]
    return lax.transpose(out, perm)


def matmul(a, b, *, precision=None, preferred_element_type=None, out_sharding=None):
    """Matrix product with NumPy's rules (``a @ b``).

    1-d operands are promoted to matrices (a row for ``a``, a column for ``b``) and the added
    dimension removed from the result; leading (batch) dimensions broadcast.

    Args:
      a, b: arrays of rank >= 1.
      precision: ``None``, a ``lax.Precision`` (or its name), or a pair of them.
      preferred_element_type: accumulate in and return this dtype.

    Returns:
      The product, of the operands' promoted dtype (or ``preferred_element_type``).

    Example::

        jnp.matmul(jnp.ones((5, 2, 3)), jnp.ones((3, 4))).shape  # (5, 2, 4)
    """
    _no_sharding(out_sharding, "matmul")
    check_arraylike("matmul", a, b)
    for i, x in enumerate((a, b)):
        if aval_of(x).ndim == 0:
            raise ValueError(f"jaxel.numpy.matmul: input operand {i} must have ndim at least 1, "
                             "but it is a scalar (ndim 0); use jnp.multiply for scalars.")
    (a, b), dt = _promote("matmul", a, b)
    return _matmul(a, b, precision, _pet(preferred_element_type, dt, "matmul"))


def dot(a, b, *, precision=None, preferred_element_type=None, out_sharding=None):
    """NumPy's ``dot``: scalar product for 0-d operands, else a sum over the last axis of ``a``
    and the second-to-last axis of ``b`` (the only axis if ``b`` is 1-d).

    Returns:
      An array of shape ``a.shape[:-1] + b.shape[:-2] + b.shape[-1:]`` (for N-d ``b``).

    Example::

        jnp.dot(jnp.ones((2, 3)), jnp.ones(3))  # [3., 3.]
    """
    _no_sharding(out_sharding, "dot")
    (a, b), dt = _promote("dot", a, b)
    na, nb = aval_of(a).ndim, aval_of(b).ndim
    if na == 0 or nb == 0:
        contract = ((), ())
    else:
        contract = ((na - 1,), (max(nb - 2, 0),))
        sa, sb = aval_of(a).shape, aval_of(b).shape
        if sa[contract[0][0]] != sb[contract[1][0]]:
            raise TypeError(f"jaxel.numpy.dot: shapes {sa} and {sb} are not aligned: the last "
                            f"axis of a (size {sa[-1]}) must match axis {contract[1][0]} of b "
                            f"(size {sb[contract[1][0]]}).")
    return lax.dot_general(a, b, (contract, ((), ())), precision=precision,
                           preferred_element_type=_pet(preferred_element_type, dt, "dot"))


def vdot(a, b, *, precision=None, preferred_element_type=None):
    """Dot product of the flattened arrays, conjugating ``a`` if complex.

    Example::

        jnp.vdot(jnp.array([1j, 2]), jnp.array([1j, 1]))  # (3+0j)
    """
    (a, b), dt = _promote("vdot", a, b)
    sa, sb = aval_of(a).shape, aval_of(b).shape
    if math.prod(sa) != math.prod(sb):
        raise TypeError(f"jaxel.numpy.vdot: arrays of shapes {sa} and {sb} have different sizes "
                        f"({math.prod(sa)} and {math.prod(sb)}).")
    a, b = _ravel(a), _ravel(b)
    if _is_complex(a):
        a = lax.conj(a)
    return lax.dot_general(a, b, (((0,), (0,)), ((), ())), precision=precision,
                           preferred_element_type=_pet(preferred_element_type, dt, "vdot"))


def _move_to_end(x, axis, fun_name, which):
    nd = aval_of(x).ndim
    if not -nd <= axis < nd:
        raise ValueError(f"jaxel.numpy.{fun_name}: axis {axis} is out of bounds for {which} of "
                         f"rank {nd}.")
    axis %= nd
    return lax.transpose(x, [i for i in range(nd) if i != axis] + [axis])


def vecdot(x1, x2, /, *, axis=-1, precision=None, preferred_element_type=None):
    """Vector dot product along ``axis`` (conjugating ``x1``), broadcasting other axes.

    Example::

        jnp.vecdot(jnp.ones((4, 3)), jnp.ones(3))  # [3., 3., 3., 3.]
    """
    (x1, x2), dt = _promote("vecdot", x1, x2)
    for i, x in enumerate((x1, x2)):
        if aval_of(x).ndim == 0:
            raise ValueError(f"jaxel.numpy.vecdot: operand {i} must have ndim at least 1.")
    axis = operator.index(axis)
    x1 = _move_to_end(x1, axis, "vecdot", "x1")
    x2 = _move_to_end(x2, axis, "vecdot", "x2")
    if aval_of(x1).shape[-1] != aval_of(x2).shape[-1]:
        raise ValueError(f"jaxel.numpy.vecdot: the contracted axes differ in size: shapes "
                         f"{aval_of(x1).shape} and {aval_of(x2).shape} along axis {axis}.")
    if _is_complex(x1):
        x1 = lax.conj(x1)
    x1 = lax.expand_dims(x1, (aval_of(x1).ndim - 1,))
    x2 = lax.expand_dims(x2, (aval_of(x2).ndim,))
    out = _matmul(x1, x2, precision, _pet(preferred_element_type, dt, "vecdot"), "vecdot")
    nd = aval_of(out).ndim
    return lax.squeeze(out, (nd - 2, nd - 1))


def matvec(x1, x2, /):
    """Matrix-vector product over the last axes, broadcasting the rest.

    Example::

        jnp.matvec(jnp.ones((5, 2, 3)), jnp.ones(3)).shape  # (5, 2)
    """
    (x1, x2), dt = _promote("matvec", x1, x2)
    if aval_of(x1).ndim < 2 or aval_of(x2).ndim < 1:
        raise ValueError(f"jaxel.numpy.matvec needs a matrix and a vector, got shapes "
                         f"{aval_of(x1).shape} and {aval_of(x2).shape}.")
    x2 = lax.expand_dims(x2, (aval_of(x2).ndim,))
    out = _matmul(x1, x2, None, dt, "matvec")
    return lax.squeeze(out, (aval_of(out).ndim - 1,))


def vecmat(x1, x2, /):
    """Vector-matrix product over the last axes (conjugating the vector), broadcasting the rest.

    Example::

        jnp.vecmat(jnp.ones(3), jnp.ones((5, 3, 2))).shape  # (5, 2)
    """
    (x1, x2), dt = _promote("vecmat", x1, x2)
    if aval_of(x1).ndim < 1 or aval_of(x2).ndim < 2:
        raise ValueError(f"jaxel.numpy.vecmat needs a vector and a matrix, got shapes "
                         f"{aval_of(x1).shape} and {aval_of(x2).shape}.")
    if _is_complex(x1):
        x1 = lax.conj(x1)
    x1 = lax.expand_dims(x1, (aval_of(x1).ndim - 1,))
    out = _matmul(x1, x2, None, dt, "vecmat")
    return lax.squeeze(out, (aval_of(out).ndim - 2,))


def inner(a, b, *, precision=None, preferred_element_type=None):
    """Sum over the last axes of ``a`` and ``b`` (a product for 0-d operands).

    Returns:
      An array of shape ``a.shape[:-1] + b.shape[:-1]``.

    Example::

        jnp.inner(jnp.ones((2, 3)), jnp.ones((4, 3))).shape  # (2, 4)
    """
    (a, b), dt = _promote("inner", a, b)
    na, nb = aval_of(a).ndim, aval_of(b).ndim
    contract = ((), ()) if na == 0 or nb == 0 else ((na - 1,), (nb - 1,))
    if contract[0] and aval_of(a).shape[-1] != aval_of(b).shape[-1]:
        raise TypeError(f"jaxel.numpy.inner: the last axes of shapes {aval_of(a).shape} and "
                        f"{aval_of(b).shape} differ in size.")
    return lax.dot_general(a, b, (contract, ((), ())), precision=precision,
                           preferred_element_type=_pet(preferred_element_type, dt, "inner"))


def outer(a, b, out=None):
    """Outer product of the flattened arrays: ``result[i, j] = a.ravel()[i] * b.ravel()[j]``.

    Example::

        jnp.outer(jnp.arange(2), jnp.arange(3)).shape  # (2, 3)
    """
    if out is not None:
        raise NotImplementedError("jaxel.numpy.outer does not support the `out` argument "
                                  "(arrays are immutable).")
    (a, b), dt = _promote("outer", a, b)
    a, b = _ravel(a), _ravel(b)
    shape = (aval_of(a).shape[0], aval_of(b).shape[0])
    a = lax.broadcast_in_dim(a, shape, (0,))
    b = lax.broadcast_in_dim(b, shape, (1,))
    # An elementwise product, exact on every backend (a dot could run at reduced precision).
    return lax.bitwise_and(a, b) if dt == np.bool_ else lax.mul(a, b)


def tensordot(a, b, axes=2, *, precision=None, preferred_element_type=None, out_sharding=None):
    """Sum products over the given axes (NumPy's ``tensordot``).

    Args:
      axes: an int ``n`` (the last ``n`` axes of ``a`` with the first ``n`` of ``b``) or a pair
        ``(axes_a, axes_b)`` of ints or equal-length sequences.

    Returns:
      An array of shape ``a``'s free axes + ``b``'s free axes.

    Example::

        jnp.tensordot(jnp.ones((2, 3, 4)), jnp.ones((3, 4, 5))).shape  # (2, 5)
    """
    _no_sharding(out_sharding, "tensordot")
    (a, b), dt = _promote("tensordot", a, b)
    sa, sb = aval_of(a).shape, aval_of(b).shape
    na, nb = len(sa), len(sb)
    if isinstance(axes, (int, np.integer)):
        n = operator.index(axes)
        if n < 0 or n > min(na, nb):
            raise ValueError(f"jaxel.numpy.tensordot: axes={n} must be between 0 and the "
                             f"smaller rank of shapes {sa} and {sb}.")
        ax_a, ax_b = tuple(range(na - n, na)), tuple(range(n))
    else:
        try:
            ax_a, ax_b = axes
        except (TypeError, ValueError):
            raise TypeError("jaxel.numpy.tensordot: axes must be an int or a pair of axis "
                            f"sequences, got {axes!r}.") from None
        ax_a = (ax_a,) if isinstance(ax_a, (int, np.integer)) else tuple(ax_a)
        ax_b = (ax_b,) if isinstance(ax_b, (int, np.integer)) else tuple(ax_b)
        if len(ax_a) != len(ax_b):
            raise TypeError(f"jaxel.numpy.tensordot: axes {axes!r} name {len(ax_a)} axes of a "
                            f"but {len(ax_b)} of b.")
        ax_a = _canonical_axes(ax_a, na, "a", sa)
        ax_b = _canonical_axes(ax_b, nb, "b", sb)
    for i, j in zip(ax_a, ax_b):
        if sa[i] != sb[j]:
            raise TypeError(f"jaxel.numpy.tensordot: axis {i} of a (shape {sa}) and axis {j} of "
                            f"b (shape {sb}) differ in size.")
    return lax.dot_general(a, b, ((ax_a, ax_b), ((), ())), precision=precision,
                           preferred_element_type=_pet(preferred_element_type, dt, "tensordot"))


def _canonical_axes(axes, nd, which, shape):
    out = []
    for ax in axes:
        ax = operator.index(ax)
        if not -nd <= ax < nd:
            raise ValueError(f"jaxel.numpy.tensordot: axis {ax} is out of bounds for {which} of "
                             f"shape {shape}.")
        out.append(ax % nd)
    if len(set(out)) != len(out):
        raise ValueError(f"jaxel.numpy.tensordot: repeated axis in {tuple(axes)} for {which}.")
    return tuple(out)


# ---- einsum ----------------------------------------------------------------------------------
_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_GREEDY = {True, "auto", "greedy", "optimal", "dp", "branch-all", "branch-2", "branch-1",
           "random-greedy", "random-greedy-128", "auto-hq"}


def _sublist_to_str(sub):
    parts = []
    for s in sub:
        if s is Ellipsis:
            parts.append("...")
        else:
            s = operator.index(s)
            if not 0 <= s < len(_LETTERS):
                raise ValueError(f"einsum: subscript {s} in the sublist format must be between "
                                 f"0 and {len(_LETTERS) - 1}.")
            parts.append(_LETTERS[s])
    return "".join(parts)


def _interleaved(args):
    """``einsum(op0, sub0, op1, sub1, ..., [sub_out])`` -> (subscripts string, operands)."""
    ops, subs = list(args[0::2]), list(args[1::2])
    out = None
    if len(ops) > len(subs):  # an odd count: the last entry is the output sublist
        out = ops.pop()
    text = ",".join(_sublist_to_str(s) for s in subs)
    if out is not None:
        text += "->" + _sublist_to_str(out)
    return text, ops


def _split_term(term, ndim, pos):
    """Labels of one input term for an operand of rank ``ndim``; '...' becomes labels
    ``('...', k)`` counted from the right, so broadcast dimensions line up across operands."""
    if term.count("...") > 1 or "." in term.replace("...", ""):
        raise ValueError(f"einsum: invalid subscripts {term!r} for operand {pos} (at most one "
                         "'...' and no other dots).")
    for c in term.replace("...", ""):
        if c not in _LETTERS:
            raise ValueError(f"einsum: invalid subscript {c!r} in {term!r}: labels must be "
                             "letters a-z, A-Z.")
    if "..." in term:
        head, tail = term.split("...")
        n_ell = ndim - len(head) - len(tail)
        if n_ell < 0:
            raise ValueError(f"einsum: operand {pos} has rank {ndim}, fewer than the "
                             f"{len(head) + len(tail)} labels of {term!r}.")
        return list(head) + [("...", n_ell - 1 - k) for k in range(n_ell)] + list(tail)
    if len(term) != ndim:
        raise ValueError(f"einsum: operand {pos} has rank {ndim} but its subscripts {term!r} "
                         f"name {len(term)} dimensions.")
    return list(term)


def _parse(subscripts, shapes):
    text = subscripts.replace(" ", "")
    if "->" in text:
        ins, out = text.split("->", 1)
        if "->" in out:
            raise ValueError(f"einsum: subscripts {subscripts!r} contain '->' more than once.")
    else:
        ins, out = text, None
    terms = ins.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: subscripts {subscripts!r} name {len(terms)} operands but "
                         f"{len(shapes)} were given.")
    labels = [_split_term(t, len(s), i) for i, (t, s) in enumerate(zip(terms, shapes))]
    n_ell = max((sum(isinstance(l, tuple) for l in ls) for ls in labels), default=0)
    ell = [("...", n_ell - 1 - k) for k in range(n_ell)]
    if out is None:  # implicit mode: broadcast dims, then labels seen once, alphabetically
        counts = {}
        for ls in labels:
            for l in ls:
                if not isinstance(l, tuple):
                    counts[l] = counts.get(l, 0) + 1
        out_labels = ell + sorted(l for l, c in counts.items() if c == 1)
    else:
        if out.count("...") > 1 or "." in out.replace("...", ""):
            raise ValueError(f"einsum: invalid output subscripts {out!r}.")
        head, _, tail = out.partition("...")
        out_labels = list(head) + (ell if "..." in out else []) + list(tail)
        seen = set()
        present = {l for ls in labels for l in ls}
        for l in out_labels:
            if l in seen:
                raise ValueError(f"einsum: output subscript {l!r} appears more than once in "
                                 f"{out!r}.")
            seen.add(l)
            if l not in present:
                raise ValueError(f"einsum: output subscript {l!r} does not appear in the input "
                                 f"subscripts of {subscripts!r}.")
    return labels, out_labels


def _label_name(l):
    return "..." if isinstance(l, tuple) else repr(l)


def _label_sizes(labels, shapes):
    """Each label's size; size-1 dimensions broadcast against other sizes (as in NumPy)."""
    sizes = {}
    for pos, (ls, shape) in enumerate(zip(labels, shapes)):
        for l, d in zip(ls, shape):
            prev = sizes.get(l)
            if prev is None or prev == 1:
                sizes[l] = d
            elif d != prev and d != 1:
                raise ValueError(f"einsum: size of label {_label_name(l)} for operand {pos} "
                                 f"({d}) does not match previous terms ({prev}).")
    return sizes


def _sum_labels(x, labels, drop):
    """Sum ``x`` over the axes labelled in ``drop`` (bool sums are logical ORs, as in NumPy's
    einsum)."""
    axes = tuple(i for i, l in enumerate(labels) if l in drop)
    if not axes:
        return x, labels
    reduce = lax.reduce_or if aval_of(x).dtype == np.bool_ else lax.reduce_sum
    return reduce(x, axes), [l for l in labels if l not in drop]


def _diagonal(x, labels, pos):
    """Keep only the diagonal of each label repeated within one operand ('ii->i').

    Gather-free: the repeated axes move to the end and merge into one axis of n**k elements,
    whose diagonal entries are exactly those at a stride of 1 + n + ... + n**(k-1).
    """
    while len(set(labels)) != len(labels):
        l = next(l for l in labels if labels.count(l) > 1)
        axes = [i for i, m in enumerate(labels) if m == l]
        others = [i for i in range(len(labels)) if i not in axes]
        shape = aval_of(x).shape
        n = shape[axes[0]]
        if any(shape[i] != n for i in axes):
            raise ValueError(f"einsum: label {_label_name(l)} is repeated in operand {pos} over "
                             f"dimensions of different sizes {[shape[i] for i in axes]}.")
        k = len(axes)
        rest = [shape[i] for i in others]
        x = lax.reshape(lax.transpose(x, others + axes), rest + [n ** k])
        stride = sum(n ** j for j in range(k))
        x = lax.slice(x, [0] * (len(rest) + 1), rest + [n ** k], [1] * len(rest) + [stride])
        labels = [labels[i] for i in others] + [l]
    return x, labels


def _contract_pair(x, lx, y, ly, keep, precision, pet):
    # Labels of one side that nothing else needs are summed first (dot_general keeps free dims).
    x, lx = _sum_labels(x, lx, {l for l in lx if l not in ly and l not in keep})
    y, ly = _sum_labels(y, ly, {l for l in ly if l not in lx and l not in keep})
    batch = [l for l in lx if l in ly and l in keep]
    contract = [l for l in lx if l in ly and l not in keep]
    dn = ((tuple(lx.index(l) for l in contract), tuple(ly.index(l) for l in contract)),
          (tuple(lx.index(l) for l in batch), tuple(ly.index(l) for l in batch)))
    out = lax.dot_general(x, y, dn, precision=precision, preferred_element_type=pet)
    return out, batch + [l for l in lx if l not in ly] + [l for l in ly if l not in lx]


def _pair_labels(lx, ly, keep):
    """The labels of ``_contract_pair(x, lx, y, ly, keep)``'s result, in order."""
    lx = [l for l in lx if l in ly or l in keep]
    ly = [l for l in ly if l in lx or l in keep]
    return ([l for l in lx if l in ly and l in keep] + [l for l in lx if l not in ly]
            + [l for l in ly if l not in lx])


def _greedy_pair(terms, out_labels, sizes):
    """The pair whose contraction shrinks the working set most, preferring pairs that share a
    label (a true contraction) over outer products."""
    best = None
    for i in range(len(terms)):
        for j in range(i + 1, len(terms)):
            keep = set(out_labels).union(*(t for k, t in enumerate(terms) if k not in (i, j)))
            res = [l for l in dict.fromkeys(terms[i] + terms[j]) if l in keep]
            size = math.prod(sizes[l] for l in res)
            cost = size - math.prod(sizes[l] for l in terms[i]) - math.prod(
                sizes[l] for l in terms[j])
            key = (not set(terms[i]) & set(terms[j]), cost, i, j)
            if best is None or key < best:
                best = key
    return best[2], best[3]


def _path_steps(optimize, n):
    """An explicit path (opt_einsum's format) as a list of index tuples, or None for greedy."""
    if optimize is False or optimize is None:
        return [(0, 1)] * (n - 1)
    if isinstance(optimize, str) or optimize is True:
        if optimize not in _GREEDY:
            raise ValueError(f"einsum: unknown optimize={optimize!r}; use 'auto', 'greedy', "
                             "'optimal', True, False or an explicit contraction path.")
        return None
    steps = list(optimize)
    if steps and steps[0] == "einsum_path":  # the format np.einsum_path returns
        steps = steps[1:]
    return [tuple(operator.index(i) for i in s) for s in steps]


def einsum(subscripts, /, *operands, out=None, optimize="auto", precision=None,
           preferred_element_type=None, out_sharding=None):
    """Einstein summation (NumPy's ``einsum``), as pairwise ``dot_general`` contractions.

    Supports explicit (``'ij,jk->ik'``) and implicit (``'ij,jk'``) output, ``...`` broadcast
    dimensions, repeated labels within an operand (traces and diagonals, ``'ii->'``,
    ``'ii->i'``), size-1 broadcasting, and the interleaved form
    ``einsum(x, [0, 1], y, [1, 2], [0, 2])``.

    Args:
      subscripts: the subscripts string (or the first operand, in the interleaved form).
      operands: the arrays.
      optimize: the contraction order: ``'auto'``/``'greedy'``/``'optimal'``/``True``
        (a greedy order), ``False`` (left to right), or an explicit path such as
        ``[(0, 1), (0, 1)]`` (each step contracts the listed operands and appends the result).
      precision, preferred_element_type: as in ``lax.dot_general``.

    Returns:
      The result, of the operands' promoted dtype (or ``preferred_element_type``).

    Example::

        jnp.einsum('bij,bjk->bik', x, y)
        jnp.einsum('ii->', m)  # trace
    """
    if out is not None:
        raise NotImplementedError("jaxel.numpy.einsum does not support the `out` argument "
                                  "(arrays are immutable).")
    _no_sharding(out_sharding, "einsum")
    if not isinstance(subscripts, str):
        subscripts, operands = _interleaved((subscripts,) + operands)
    if not operands:
        raise ValueError("einsum needs at least one operand.")
    check_arraylike("einsum", *operands)
    operands = list(promote_dtypes(*operands))
    dt = aval_of(operands[0]).dtype
    pet = _pet(preferred_element_type, dt, "einsum")
    shapes = [aval_of(x).shape for x in operands]
    labels, out_labels = _parse(subscripts, shapes)
    sizes = _label_sizes(labels, shapes)

    # Per operand: drop size-1 axes that broadcast against other operands, then take
    # diagonals and sum labels used nowhere else.
    terms = []
    for pos, (x, ls) in enumerate(zip(operands, labels)):
        drop = [i for i, l in enumerate(ls) if aval_of(x).shape[i] == 1 and sizes[l] != 1]
        if drop:
            operands[pos] = lax.squeeze(x, drop)
            ls = [l for i, l in enumerate(ls) if i not in drop]
        terms.append(ls)
    for pos, x in enumerate(operands):
        x, ls = _diagonal(x, terms[pos], pos)
        elsewhere = set(out_labels).union(*(m for k, m in enumerate(terms) if k != pos))
        operands[pos], terms[pos] = _sum_labels(x, ls, {l for l in ls if l not in elsewhere})

    steps = _path_steps(optimize, len(operands))
    while len(operands) > 1:
        if steps is None:
            step = _greedy_pair(terms, out_labels, sizes)
        elif steps:
            step = steps.pop(0)
        else:
            raise ValueError("einsum: the explicit contraction path ends before every operand "
                             "is contracted.")
        if not step or any(not 0 <= i < len(operands) for i in step) or \
                len(set(step)) != len(step):
            raise ValueError(f"einsum: invalid contraction path step {step} for "
                             f"{len(operands)} operands.")
        xs = [operands[i] for i in step]
        ts = [terms[i] for i in step]
        for i in sorted(step, reverse=True):
            del operands[i], terms[i]
        if not operands and len(xs) == 2 and _pair_labels(ts[0], ts[1], set(out_labels)) != \
                out_labels and _pair_labels(ts[1], ts[0], set(out_labels)) == out_labels:
            xs, ts = xs[::-1], ts[::-1]  # the last contraction then needs no final transpose
        x, lx = xs[0], ts[0]
        for k in range(1, len(xs)):
            # Labels needed by the output, the other operands or this step's later members.
            keep = set(out_labels).union(*terms, *ts[k + 1:])
            x, lx = _contract_pair(x, lx, xs[k], ts[k], keep, precision, pet)
        operands.append(x)
        terms.append(lx)

    x, ls = operands[0], terms[0]
    x, ls = _sum_labels(x, ls, {l for l in ls if l not in out_labels})
    x = lax.transpose(x, [ls.index(l) for l in out_labels]) if ls != out_labels else x
    if aval_of(x).dtype != pet:
        return lax.convert_element_type(x, pet)
    if not isinstance(x, (Array, Tracer)):  # a NumPy array or scalar passed through unchanged
        from jaxel.numpy.creation import asarray
        return asarray(x)
    return x


__all__ = ["matmul", "dot", "vdot", "vecdot", "matvec", "vecmat", "inner", "outer", "tensordot",
           "einsum"]
