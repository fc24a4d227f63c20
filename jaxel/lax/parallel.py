"""Collectives over named axes: ``psum``, ``pmean``, ``pmax``, ``pmin``, ``all_gather``,
``psum_scatter``, ``ppermute``, ``all_to_all``, ``axis_index``, ``axis_size``.

Each collective is a primitive whose ``axes`` parameter names the mapped axes it acts along.
Under ``vmap(..., axis_name=n)`` the batch trace for ``n`` gives it its meaning through the
primitive's ``batch_axis`` rule: the examples of the batch are the participants, and the
collective becomes ordinary array work along the batch dimension (``psum`` is a sum over it).
The multi-device issue gives the same primitives a device meaning under ``pmap``/``shard_map``
(lowering to XLA collectives). Outside any mapped axis a name is unbound: the public functions
raise ``NameError`` naming it and the names in scope.

Integer entries in ``axis_name`` (positional axes) reduce over that array dimension locally,
as in JAX.
"""
from __future__ import annotations

import numpy as np

from jaxel import tree_util
from jaxel.tracing.avals import ShapedArray
from jaxel.tracing.core import Primitive, literal
from jaxel.transforms import ad_util as _ad
from jaxel.transforms import batching as _batching


def _names(axis_name):
    return tuple(axis_name) if isinstance(axis_name, (tuple, list)) else (axis_name,)


def _resolve(axis_name, api):
    """Split ``axis_name`` into positional (int) axes and named axes, checking each name is in
    scope. Returns ``(positional, names, total_size_of_names)``."""
    positional, names, size = [], [], 1
    for n in _names(axis_name):
        if isinstance(n, int) and not isinstance(n, bool):
            positional.append(n)
        else:
            size *= _batching.lookup_axis(n, api).size
            names.append(n)
    return tuple(positional), tuple(names), size


def _unbound_lowering(prim):
    def lowering(ctx, *args, axes, **params):
        raise NameError(f"lax.{prim}: axis name(s) {axes} are not bound by any mapped axis in "
                        "this program; collectives need an enclosing vmap/pmap/shard_map with "
                        "that axis_name.")
    return lowering


def _collective(name):
    p = Primitive(name)
    p.named_axes = lambda params: params["axes"]
    p.lowering = _unbound_lowering(name)
    return p


# ---- primitives --------------------------------------------------------------------------------
psum_p = _collective("psum")
pmax_p = _collective("pmax")
pmin_p = _collective("pmin")
for _p in (psum_p, pmax_p, pmin_p):
    _p.abstract_eval = lambda x, *, axes, axis_index_groups=None: x

ppermute_p = _collective("ppermute")
ppermute_p.abstract_eval = lambda x, *, axes, perm: x

all_gather_p = _collective("all_gather")


def _all_gather_abstract_eval(x, *, axes, axis, tiled, axis_size, axis_index_groups=None):
    if tiled:
        if not x.shape:
            raise TypeError("lax.all_gather(tiled=True) needs an operand of rank at least 1.")
        shape = x.shape[:axis] + (x.shape[axis] * axis_size,) + x.shape[axis + 1:]
    else:
        shape = x.shape[:axis] + (axis_size,) + x.shape[axis:]
    return ShapedArray(shape, x.dtype, x.weak_type)


all_gather_p.abstract_eval = _all_gather_abstract_eval
# all_gather typed invariant (``to='invarying'`` under check_vma): the same value as all_gather,
# a different transpose (see _all_gather_invariant_transpose).
all_gather_invariant_p = _collective("all_gather_invariant")
all_gather_invariant_p.abstract_eval = _all_gather_abstract_eval

psum_scatter_p = _collective("psum_scatter")


def _psum_scatter_abstract_eval(x, *, axes, scatter_dimension, tiled, axis_size,
                                axis_index_groups=None):
    d = scatter_dimension
    n = x.shape[d]
    if tiled:
        if n % axis_size:
            raise ValueError(f"lax.psum_scatter(tiled=True): dimension {d} of the operand (size "
                             f"{n}) must be divisible by the axis size {axis_size}.")
        shape = x.shape[:d] + (n // axis_size,) + x.shape[d + 1:]
    else:
        if n != axis_size:
            raise ValueError(f"lax.psum_scatter: dimension {d} of the operand has size {n}, but "
                             f"it must equal the axis size {axis_size} (or pass tiled=True).")
        shape = x.shape[:d] + x.shape[d + 1:]
    return ShapedArray(shape, x.dtype, x.weak_type)


psum_scatter_p.abstract_eval = _psum_scatter_abstract_eval

all_to_all_p = _collective("all_to_all")


def _all_to_all_abstract_eval(x, *, axes, split_axis, concat_axis, tiled, axis_size,
                              axis_index_groups=None):
    n = x.shape[split_axis]
    if tiled:
        if n % axis_size:
            raise ValueError(f"lax.all_to_all: split_axis {split_axis} (size {n}) must be "
                             f"divisible by the axis size {axis_size}.")
        shape = list(x.shape)
        shape[split_axis] = n // axis_size
        shape[concat_axis] *= axis_size
    else:
        if n != axis_size:
            raise ValueError(f"lax.all_to_all: split_axis {split_axis} has size {n}, but it must "
                             f"equal the axis size {axis_size} (or pass tiled=True).")
        shape = list(x.shape[:split_axis] + x.shape[split_axis + 1:])
        shape.insert(concat_axis, axis_size)
    return ShapedArray(tuple(shape), x.dtype, x.weak_type)


all_to_all_p.abstract_eval = _all_to_all_abstract_eval

axis_index_p = _collective("axis_index")
axis_index_p.abstract_eval = lambda *, axes: ShapedArray((), np.dtype(np.int32), False)

# Under shard_map with check_vma (JAX's default) psum's result is the same on every device of
# the axes (invariant), and its transpose is ``pvary``: the identity on values that marks them
# as varying again, whose own transpose is this psum. ``pvary`` is inserted wherever an
# invariant value meets a varying one (jaxel/parallel/vma.py), so gradients of replicated
# inputs are summed over the devices that used them, as in JAX.
psum_invariant_p = _collective("psum_invariant")
psum_invariant_p.abstract_eval = lambda x, *, axes: x
pvary_p = _collective("pvary")
pvary_p.abstract_eval = lambda x, *, axes: x


# ---- public functions --------------------------------------------------------------------------
def _positional_reduce(x, positional, reducer):
    if not positional:
        return x
    nd = _ad.aval_of(x).ndim
    return reducer(x, tuple(sorted(a % nd for a in positional)))


def psum(x, axis_name, *, axis_index_groups=None):
    """Sum ``x`` (a pytree) over the mapped axis or axes ``axis_name``: every participant gets
    the total. Example: ``vmap(lambda v: v / lax.psum(v, 'i'), axis_name='i')`` normalises."""
    from jaxel.lax.reductions import reduce_sum
    positional, names, _ = _resolve(axis_name, "lax.psum")
    groups = _groups(axis_index_groups, names, positional, "psum")
    prim = _psum_prim(names) if groups is None else psum_p
    manual = _on_devices(names)

    def one(leaf):
        if manual and not _is_traced(leaf):
            # A constant is the same on every device: its sum is ``size * x`` (as JAX folds it;
            # ``psum(1, 'x')`` is the axis size as a Python-typed constant).
            leaf = _positional_reduce(_as_operand(leaf), positional, reduce_sum)
            from jaxel.lax.elementwise import mul
            a = _ad.aval_of(leaf)
            n = _size_of(names) if groups is None else len(groups[0])
            return mul(leaf, literal(n, a.dtype, a.weak_type))
        leaf = _as_operand(leaf)
        if _ad.aval_of(leaf).dtype == np.bool_:
            from jaxel.lax.elementwise import convert_element_type
            leaf = convert_element_type(leaf, np.int32)  # as JAX: booleans are counted
        leaf = _positional_reduce(leaf, positional, reduce_sum)
        if not names:
            return leaf
        if groups is not None:
            return prim.bind(leaf, axes=names, axis_index_groups=groups)
        return prim.bind(leaf, axes=names)
    return tree_util.tree_map(one, x)


def _on_devices(names) -> bool:
    """Whether ``names`` are mesh axes of an enclosing ``shard_map`` (device collectives)."""
    from jaxel.parallel.axes import manual_axis
    return bool(names) and all(manual_axis(n) is not None for n in names)


def _psum_prim(names):
    """``psum_invariant_p`` over manual axes of a ``check_vma`` shard_map, else ``psum_p``."""
    from jaxel.parallel.axes import vma_checked
    return psum_invariant_p if vma_checked(names) else psum_p


def _size_of(names) -> int:
    size = 1
    for n in names:
        size *= _batching.lookup_axis(n, "lax.psum").size
    return size


def _is_traced(x) -> bool:
    from jaxel.tracing.core import Tracer
    return isinstance(x, Tracer)


def pmean(x, axis_name, *, axis_index_groups=None):
    """Mean of ``x`` over the mapped axis or axes ``axis_name``."""
    positional, names, size = _resolve(axis_name, "lax.pmean")
    groups = _groups(axis_index_groups, names, positional, "pmean")

    def one(leaf):
        leaf = _as_operand(leaf)
        total = psum(leaf, axis_name, axis_index_groups=axis_index_groups)
        count = size if groups is None else len(groups[0])
        nd = _ad.aval_of(leaf).ndim
        for a in positional:
            count *= _ad.aval_of(leaf).shape[a % nd]
        # True division, as JAX's ``psum(x) / n``: integers and booleans average to floats.
        from jaxel.numpy import true_divide
        return true_divide(total, count)
    return tree_util.tree_map(one, x)


def pmax(x, axis_name, *, axis_index_groups=None):
    """Maximum of ``x`` over the mapped axis or axes ``axis_name``."""
    from jaxel.lax.reductions import reduce_max
    positional, names, _ = _resolve(axis_name, "lax.pmax")
    groups = _groups(axis_index_groups, names, positional, "pmax")
    extra = {} if groups is None else {"axis_index_groups": groups}

    def one(leaf):
        leaf = _positional_reduce(_as_operand(leaf), positional, reduce_max)
        return pmax_p.bind(leaf, axes=names, **extra) if names else leaf
    return tree_util.tree_map(one, x)


def pmin(x, axis_name, *, axis_index_groups=None):
    """Minimum of ``x`` over the mapped axis or axes ``axis_name``."""
    from jaxel.lax.reductions import reduce_min
    positional, names, _ = _resolve(axis_name, "lax.pmin")
    groups = _groups(axis_index_groups, names, positional, "pmin")
    extra = {} if groups is None else {"axis_index_groups": groups}

    def one(leaf):
        leaf = _positional_reduce(_as_operand(leaf), positional, reduce_min)
        return pmin_p.bind(leaf, axes=names, **extra) if names else leaf
    return tree_util.tree_map(one, x)


def _named_only(axis_name, api):
    positional, names, size = _resolve(axis_name, api)
    if positional:
        raise TypeError(f"{api} takes axis names only, got positional axes {positional}.")
    return names, size


def all_gather(x, axis_name, *, axis_index_groups=None, axis=0, tiled=False, to="varying"):
    """Every participant gets all participants' ``x`` stacked along a new dimension ``axis``
    (``tiled=True``: concatenated along the existing dimension ``axis``). Under a check_vma
    shard_map, ``to='invarying'`` types the result as the same on every device (so out_specs
    may leave the axes out); its transpose slices this device's block of the cotangent."""
    if to not in ("varying", "invarying", "reduced"):
        raise ValueError("Got unexpected `to` value for `jax.lax.all_gather`. Allowed `to` "
                         "values are: {'varying', 'reduced', 'invarying'}")
    if to == "reduced":
        raise NotImplementedError("lax.all_gather(to='reduced') is not supported by jaxel.")
    names, size = _named_only(axis_name, "lax.all_gather")
    from jaxel.parallel.axes import vma_checked
    prim = all_gather_invariant_p if to == "invarying" and vma_checked(names) else all_gather_p
    size, extra = _group_params(axis_index_groups, names, size, "all_gather")

    def one(leaf):
        leaf = _as_operand(leaf)
        nd = _ad.aval_of(leaf).ndim + (0 if tiled else 1)
        if not -nd <= axis < nd:
            raise ValueError(f"lax.all_gather: axis {axis} is out of range for a result of "
                             f"rank {nd}.")
        return prim.bind(leaf, axes=names, axis=axis % nd, tiled=bool(tiled), axis_size=size,
                         **extra)
    return tree_util.tree_map(one, x)


def psum_scatter(x, axis_name, *, scatter_dimension=0, axis_index_groups=None, tiled=False):
    """Sum over the axis, then participant ``i`` keeps the ``i``-th slice (or block, with
    ``tiled``) of dimension ``scatter_dimension``."""
    names, size = _named_only(axis_name, "lax.psum_scatter")
    size, extra = _group_params(axis_index_groups, names, size, "psum_scatter")

    def one(leaf):
        leaf = _as_operand(leaf)
        nd = _ad.aval_of(leaf).ndim
        if not -nd <= scatter_dimension < nd:
            raise ValueError(f"lax.psum_scatter: scatter_dimension {scatter_dimension} is out "
                             f"of range for an operand of rank {nd}.")
        return psum_scatter_p.bind(leaf, axes=names, scatter_dimension=scatter_dimension % nd,
                                   tiled=bool(tiled), axis_size=size, **extra)
    return tree_util.tree_map(one, x)


class _ScatterFuture:
    """What ``psum_scatter_start`` returns: the pending result of a ``psum_scatter``
    (JAX types it ``AbstractFuture``); ``.done()`` gives the value. jaxel's collective runs
    where ``done`` is called would be; XLA schedules it asynchronously either way."""

    def __init__(self, value):
        self._value = value

    def done(self):
        """The ``psum_scatter`` result."""
        return self._value

    shape = property(lambda self: _ad.aval_of(self._value).shape)
    dtype = property(lambda self: _ad.aval_of(self._value).dtype)
    ndim = property(lambda self: len(self.shape))

    def __repr__(self):
        a = _ad.aval_of(self._value)
        return f"AbstractFuture{{{a.dtype.name}{list(a.shape)}}}"


def psum_scatter_start(x, axis_name, *, scatter_dimension=0, axis_index_groups=None,
                       tiled=False):
    """Start a ``psum_scatter`` (only ``tiled=True``, as JAX): returns, per leaf of ``x``, a
    future whose ``.done()`` is ``psum_scatter(x, axis_name, tiled=True, ...)``. Over axes of
    size 1 only, ``x`` is returned as it is (as JAX)."""
    names, size = _named_only(axis_name, "lax.psum_scatter_start")
    if all(_batching.lookup_axis(n, "lax.psum_scatter_start").size == 1 for n in names):
        return x
    if not tiled:
        raise NotImplementedError("lax.psum_scatter_start supports tiled=True only (as JAX).")
    out = psum_scatter(x, axis_name, scatter_dimension=scatter_dimension,
                       axis_index_groups=axis_index_groups, tiled=True)
    return tree_util.tree_map(_ScatterFuture, out)


def ppermute(x, axis_name, perm):
    """Send each participant's ``x`` to another: ``perm`` is a list of ``(source, destination)``
    index pairs; a participant that is no pair's destination receives zeros."""
    names, size = _named_only(axis_name, "lax.ppermute")
    perm = tuple((int(s), int(d)) for s, d in perm)
    srcs, dsts = [s for s, _ in perm], [d for _, d in perm]
    if len(set(srcs)) != len(srcs) or len(set(dsts)) != len(dsts):
        raise ValueError(f"lax.ppermute: perm {list(perm)} sends from or to some index twice; "
                         "each source and each destination may appear once.")
    for i in srcs + dsts:
        if not 0 <= i < size:
            raise ValueError(f"lax.ppermute: index {i} in perm is out of range for axis size "
                             f"{size}.")
    return tree_util.tree_map(lambda leaf: ppermute_p.bind(_as_operand(leaf), axes=names,
                                                           perm=perm), x)


def all_to_all(x, axis_name, split_axis, concat_axis, *, axis_index_groups=None, tiled=False):
    """Split ``x`` along ``split_axis`` into one chunk per participant, send chunk ``j`` to
    participant ``j``, and concatenate what arrives along ``concat_axis`` (a new dimension when
    not ``tiled``, as in JAX)."""
    names, size = _named_only(axis_name, "lax.all_to_all")
    size, extra = _group_params(axis_index_groups, names, size, "all_to_all")

    def one(leaf):
        leaf = _as_operand(leaf)
        nd = _ad.aval_of(leaf).ndim
        for what, a in (("split_axis", split_axis), ("concat_axis", concat_axis)):
            if not -nd <= a < nd:
                raise ValueError(f"lax.all_to_all: {what} {a} is out of range for an operand "
                                 f"of rank {nd}.")
        return all_to_all_p.bind(leaf, axes=names, split_axis=split_axis % nd,
                                 concat_axis=concat_axis % nd, tiled=bool(tiled),
                                 axis_size=size, **extra)
    return tree_util.tree_map(one, x)


def pshuffle(x, axis_name, perm):
    """``ppermute`` with the permutation given as sources: participant ``i`` receives the
    value of participant ``perm[i]`` (``perm`` must be a permutation of ``range(n)``)."""
    perm = [int(p) for p in perm]
    if sorted(perm) != list(range(len(perm))):
        raise ValueError(f"lax.pshuffle: `perm` does not represent a permutation: {perm}")
    return ppermute(x, axis_name, list(zip(perm, range(len(perm)))))


def pswapaxes(x, axis_name, axis, *, axis_index_groups=None):
    """Swap the mapped axis ``axis_name`` with the array dimension ``axis`` (whose size must
    equal the axis size): ``all_to_all`` splitting and concatenating along ``axis``."""
    return all_to_all(x, axis_name, axis, axis, axis_index_groups=axis_index_groups)


def pcast(x, axis_name, *, to):
    """Change how ``x`` is typed across the devices of ``axis_name`` under shard_map. Only
    ``to='varying'`` (JAX's ``pvary``: the identity, whose transpose sums over the axes) is
    supported; outside a check_vma shard_map it changes nothing."""
    if to != "varying":
        raise NotImplementedError(f"lax.pcast(to={to!r}) is not supported by jaxel; only "
                                  "to='varying' is.")
    names, _ = _named_only(axis_name, "lax.pcast")
    from jaxel.parallel.axes import vma_checked
    if not vma_checked(names):
        return x
    return tree_util.tree_map(lambda leaf: pvary_p.bind(_as_operand(leaf), axes=names), x)


def pbroadcast(x, axis_name, source):
    """Every participant gets the value of participant ``source`` along ``axis_name``
    (composed as a sum of the source's value and zeros elsewhere)."""
    names, size = _named_only(axis_name, "lax.pbroadcast")
    if not 0 <= int(source) < size:
        raise ValueError(f"lax.pbroadcast: source {source} is out of range for axis size "
                         f"{size}.")
    from jaxel.lax.elementwise import eq, select
    from jaxel.lax.shape_ops import broadcast_in_dim

    def one(leaf):
        leaf = _as_operand(leaf)
        a = _ad.aval_of(leaf)
        idx = axis_index(names if len(names) > 1 else names[0])
        here = broadcast_in_dim(eq(idx, literal(int(source), np.dtype(np.int32), False)),
                                a.shape, ())
        zero = broadcast_in_dim(literal(0, a.dtype, False), a.shape, ())
        picked = select(here, leaf, zero)
        if a.dtype == np.bool_:
            return pmax(picked, names)
        return _psum_prim(names).bind(picked, axes=names)
    return tree_util.tree_map(one, x)


def axis_index(axis_name):
    """This participant's index along the mapped axis ``axis_name`` (int32); for a tuple of
    mesh axes under shard_map, the row-major index over them in the order given."""
    names, _ = _named_only(axis_name, "lax.axis_index")
    if len(names) != 1 and not _on_devices(names):
        raise NotImplementedError("lax.axis_index of several vmap axes at once is not "
                                  "supported; combine single-axis indices.")
    return axis_index_p.bind(axes=names)


def axis_size(axis_name):
    """The size of the mapped axis (or product of axes) ``axis_name``, as a Python int."""
    _, size = _named_only(axis_name, "lax.axis_size")
    return size


def _groups(groups, names, positional, api):
    """``axis_index_groups`` checked, as a tuple of tuples (None when not given). They split
    the participants of the named axes into equal groups reduced separately; jaxel supports
    them for device collectives without check_vma (pmap's mode), where JAX does."""
    if groups is None:
        return None
    if positional:
        raise ValueError("axis_index_groups only supported for sums over just named axes")
    from jaxel.parallel.axes import vma_checked
    if not _on_devices(names) or vma_checked(names):
        raise NotImplementedError(f"lax.{api}: axis_index_groups is supported under pmap (and "
                                  "shard_map with check_vma=False) only, as in JAX.")
    groups = tuple(tuple(int(i) for i in g) for g in groups)
    size = _size_of(names)
    flat = sorted(i for g in groups for i in g)
    if flat != list(range(size)) or len({len(g) for g in groups}) != 1:
        raise ValueError(f"lax.{api}: axis_index_groups {groups} must split range({size}) into "
                         "groups of equal size, each index once.")
    return groups


def _group_params(groups, names, size, api):
    """``(participants per group, extra params)`` for a gather/scatter-style collective."""
    groups = _groups(groups, names, (), api)
    if groups is None:
        return size, {}
    return len(groups[0]), {"axis_index_groups": groups}


def _as_operand(x):
    if isinstance(x, (bool, int, float, complex, np.ndarray, np.generic)):
        from jaxel.numpy import asarray
        return asarray(x)
    return x


# ---- batching: the mapped axis is the participants ----------------------------------------------
def _rest(params, name):
    """Params with ``name`` removed from the axes (for the enclosing axes to handle)."""
    return dict(params, axes=tuple(a for a in params["axes"] if a != name))


def _outer_only(prim, args, dims, params, shift_params=()):
    """The collective names only enclosing axes: apply it to the batched value. Positional
    params (``shift_params``) refer to per-example dimensions: with the batch dimension moved
    first they shift by one."""
    (x,), (d,) = args, dims
    if d is None:
        return prim.bind(x, **params), None
    if not shift_params:
        return prim.bind(x, **params), d
    x = _batching.move_axis(x, d, 0)
    new = dict(params)
    for k in shift_params:
        new[k] = params[k] + 1
    return prim.bind(x, **new), 0


def _then_outer(prim, out, params, name):
    rest = _rest(params, name)
    if rest["axes"]:
        return prim.bind(out, **rest)
    return out


def _reduction_batch(prim, reducer, scale_unbatched):
    def rule(mapped, args, dims, **params):
        if mapped.name not in params["axes"]:
            return _outer_only(prim, args, dims, params)
        if params.get("axis_index_groups") is not None:
            raise NotImplementedError(f"lax.{prim.name}: axis_index_groups over a vmap axis "
                                      "is not supported (as in JAX).")
        (x,), (d,) = args, dims
        if d is None:
            out = scale_unbatched(x, mapped.size)
        else:
            out = reducer(x, (d,))
        return _then_outer(prim, out, params, mapped.name), None
    return rule


def _no_vmap_groups(params, api):
    if params.get("axis_index_groups") is not None:
        raise NotImplementedError(f"lax.{api}: axis_index_groups over a vmap axis is not "
                                  "supported (as in JAX).")


def _psum_unbatched(x, n):
    from jaxel.lax.elementwise import mul
    a = _ad.aval_of(x)
    return mul(x, literal(n, a.dtype, False)) if a.dtype != np.bool_ else x


def _reduce(name):
    def f(x, axes):
        from jaxel.lax import reductions
        return getattr(reductions, name)(x, axes)
    return f


psum_p.batch_axis = _reduction_batch(psum_p, _reduce("reduce_sum"), _psum_unbatched)
pmax_p.batch_axis = _reduction_batch(pmax_p, _reduce("reduce_max"), lambda x, n: x)
pmin_p.batch_axis = _reduction_batch(pmin_p, _reduce("reduce_min"), lambda x, n: x)
psum_invariant_p.batch_axis = _reduction_batch(psum_invariant_p, _reduce("reduce_sum"),
                                               _psum_unbatched)


def _pvary_batch(mapped, args, dims, *, axes):
    if mapped.name not in axes:
        return _outer_only(pvary_p, args, dims, dict(axes=axes))
    (x,), (d,) = args, dims
    return _then_outer(pvary_p, x, dict(axes=axes), mapped.name), d


pvary_p.batch_axis = _pvary_batch


def _axis_index_batch(mapped, args, dims, *, axes):
    from jaxel.lax.shape_ops import iota
    return iota(np.int32, mapped.size), 0


axis_index_p.batch_axis = _axis_index_batch


def _all_gather_batch(mapped, args, dims, *, axes, axis_size, prim=None, **params):
    full = dict(params, axes=axes, axis_size=axis_size)
    if mapped.name not in axes:
        return _outer_only(prim or all_gather_p, args, dims, full, ("axis",))
    _no_vmap_groups(params, "all_gather")
    if len(axes) > 1:
        raise NotImplementedError("lax.all_gather over several axes at once is not supported "
                                  "under vmap yet.")
    (x,), (d,) = args, dims
    x = _batching.bdim_at_front(x, d, mapped.size)
    a = params["axis"]
    out = _batching.move_axis(x, 0, a)  # the participants' dimension, where asked
    if params["tiled"]:
        from jaxel.lax.shape_ops import reshape
        s = _ad.aval_of(out).shape
        out = reshape(out, s[:a] + (s[a] * s[a + 1],) + s[a + 2:])
    return out, None


all_gather_p.batch_axis = _all_gather_batch
all_gather_invariant_p.batch_axis = (
    lambda mapped, args, dims, **params: _all_gather_batch(mapped, args, dims,
                                                           prim=all_gather_invariant_p, **params))


def _psum_scatter_batch(mapped, args, dims, *, axes, axis_size, **params):
    full = dict(params, axes=axes, axis_size=axis_size)
    if mapped.name not in axes:
        return _outer_only(psum_scatter_p, args, dims, full, ("scatter_dimension",))
    _no_vmap_groups(params, "psum_scatter")
    if len(axes) > 1:
        raise NotImplementedError("lax.psum_scatter over several axes at once is not supported "
                                  "under vmap yet.")
    (x,), (d,) = args, dims
    from jaxel.lax.reductions import reduce_sum
    total = reduce_sum(x, (d,)) if d is not None else _psum_unbatched(x, mapped.size)
    s = params["scatter_dimension"]
    if params["tiled"]:
        from jaxel.lax.shape_ops import reshape
        shape = _ad.aval_of(total).shape
        total = reshape(total, shape[:s] + (mapped.size, shape[s] // mapped.size) + shape[s + 1:])
    return total, s  # participant i keeps slice i of dimension s


psum_scatter_p.batch_axis = _psum_scatter_batch


def _ppermute_batch(mapped, args, dims, *, axes, perm):
    if mapped.name not in axes:
        return _outer_only(ppermute_p, args, dims, dict(axes=axes, perm=perm))
    if len(axes) > 1:
        raise NotImplementedError("lax.ppermute over several axes at once is not supported "
                                  "under vmap yet.")
    from jaxel.lax.shape_ops import broadcast_in_dim, concatenate, index_in_dim
    (x,), (d,) = args, dims
    x = _batching.bdim_at_front(x, d, mapped.size)
    source = {dst: src for src, dst in perm}
    a = _ad.aval_of(x)
    zero = None
    parts = []
    for i in range(mapped.size):
        if i in source:
            parts.append(index_in_dim(x, source[i], 0, keepdims=True))
        else:
            if zero is None:
                zero = broadcast_in_dim(literal(0, a.dtype, False), (1,) + a.shape[1:], ())
            parts.append(zero)
    return concatenate(parts, 0), 0


ppermute_p.batch_axis = _ppermute_batch


def _all_to_all_batch(mapped, args, dims, *, axes, axis_size, **params):
    full = dict(params, axes=axes, axis_size=axis_size)
    if mapped.name not in axes:
        return _outer_only(all_to_all_p, args, dims, full, ("split_axis", "concat_axis"))
    _no_vmap_groups(params, "all_to_all")
    if len(axes) > 1:
        raise NotImplementedError("lax.all_to_all over several axes at once is not supported "
                                  "under vmap yet.")
    from jaxel.lax.shape_ops import reshape, transpose
    (x,), (d,) = args, dims
    n = mapped.size
    x = _batching.bdim_at_front(x, d, n)  # (sender i, *per-example shape)
    s, c = params["split_axis"], params["concat_axis"]
    shape = _ad.aval_of(x).shape
    # Split the split axis into (receiver j, chunk); receiver j becomes the batch dimension and
    # sender i lands at the concat axis (merged with it when tiled).
    chunk = shape[1 + s] // n
    x = reshape(x, shape[:1 + s] + (n, chunk) + shape[2 + s:])
    # Now dims: 0 = i, 1..: per-example dims with split axis s replaced by (j, chunk).
    nd = len(shape) + 1
    j_pos = 1 + s
    rest = [k for k in range(1, nd) if k != j_pos]  # per-example dims (chunk kept at s)
    if params["tiled"]:
        # Per example: dims are rest (chunk at position s); insert i before concat dim c, merge.
        order = [j_pos] + rest[:c] + [0] + rest[c:]
        y = transpose(x, tuple(order))
        ys = _ad.aval_of(y).shape
        y = reshape(y, ys[:1 + c] + (ys[1 + c] * ys[2 + c],) + ys[3 + c:])
    else:
        # chunk has size 1: drop it, then put i at the new concat axis c.
        rest_wo = [k for k in rest if k != j_pos + 1]
        order = [j_pos] + rest_wo[:c] + [0] + rest_wo[c:] + [j_pos + 1]
        y = transpose(x, tuple(order))
        ys = _ad.aval_of(y).shape
        y = reshape(y, ys[:-1])
    return y, 0


all_to_all_p.batch_axis = _all_to_all_batch


# ---- differentiation rules ----------------------------------------------------------------------
# Under vmap the collectives are linear maps across participants; their transposes are the
# collectives that move cotangents back: psum <-> psum, all_gather <-> psum_scatter,
# ppermute <-> inverse ppermute, all_to_all <-> all_to_all with the axes swapped.
_ad.deflinear(psum_p, lambda ct, x, *, axes, **groups: [psum_p.bind(ct, axes=axes, **groups)])
_ad.deflinear(ppermute_p, lambda ct, x, *, axes, perm: [
    ppermute_p.bind(ct, axes=axes, perm=tuple((d, s) for s, d in perm))])
_ad.deflinear(all_gather_p, lambda ct, x, *, axes, axis, tiled, axis_size, **g: [
    psum_scatter_p.bind(ct, axes=axes, scatter_dimension=axis, tiled=tiled,
                        axis_size=axis_size, **g)])
_ad.deflinear(psum_scatter_p, lambda ct, x, *, axes, scatter_dimension, tiled, axis_size, **g: [
    all_gather_p.bind(ct, axes=axes, axis=scatter_dimension, tiled=tiled, axis_size=axis_size,
                      **g)])
_ad.deflinear(all_to_all_p, lambda ct, x, *, axes, split_axis, concat_axis, tiled, axis_size,
              **g: [all_to_all_p.bind(ct, axes=axes, split_axis=concat_axis,
                                      concat_axis=split_axis, tiled=tiled, axis_size=axis_size,
                                      **g)])
_ad.deflinear(psum_invariant_p, lambda ct, x, *, axes: [pvary_p.bind(ct, axes=axes)])


def _all_gather_invariant_transpose(ct, x, *, axes, axis, tiled, axis_size):
    """Every device holds the whole cotangent: this device's input got block ``i`` of it."""
    from jaxel.lax.shape_ops import squeeze
    from jaxel.lax.slicing import dynamic_slice_in_dim
    from jaxel.lax.elementwise import mul
    ct = pvary_p.bind(ct, axes=axes)
    block = _ad.aval_of(ct).shape[axis] // axis_size
    idx = axis_index_p.bind(axes=axes)
    out = dynamic_slice_in_dim(ct, mul(idx, literal(block, np.dtype(np.int32), False)), block,
                               axis)
    return [out if tiled else squeeze(out, (axis,))]


_ad.deflinear(all_gather_invariant_p, _all_gather_invariant_transpose)
_ad.deflinear(pvary_p, lambda ct, x, *, axes: [psum_invariant_p.bind(ct, axes=axes)])
_ad.defjvp_zero(axis_index_p)


def _pextreme_jvp(prim):
    """d pmax: the tangent of the participant(s) holding the maximum, averaged over ties."""
    def jvp(primals, tangents, *, axes, **groups):
        from jaxel.lax.elementwise import convert_element_type, div, eq, mul
        (x,), (t,) = primals, tangents
        out = prim.bind(x, axes=axes, **groups)
        if type(t) is _ad.Zero:
            return out, _ad.zero_like(out)
        dt = _ad.aval_of(x).dtype
        hit = convert_element_type(eq(x, out), dt)
        ps = _psum_prim(axes) if not groups else psum_p
        num = ps.bind(mul(hit, t), axes=axes, **groups)
        return out, div(num, ps.bind(hit, axes=axes, **groups))
    return jvp


pmax_p.jvp = _pextreme_jvp(pmax_p)
pmin_p.jvp = _pextreme_jvp(pmin_p)



# ---- device lowerings (inside a shard_map body) -------------------------------------------------
# The body of a shard_map is one SPMD program over the mesh's devices; a collective over mesh
# axes becomes an XLA collective whose groups are partition ids (a device's position in
# ``mesh.devices.flat``), one group per coordinate of the other mesh axes.
def _device_mesh(prim_name, axes):
    from jaxel.parallel.axes import lowering_mesh_for
    mesh = lowering_mesh_for(axes)
    if mesh is None:
        _unbound_lowering(prim_name)(None, axes=axes)
    return mesh


def _program_devices(ctx):
    return getattr(ctx.module, "devices", None) if ctx.module is not None else None


def _groups_attr(ctx, mesh, axes, index_groups=None) -> str:
    from jaxel.lowering.emitter import i64_dense
    from jaxel.parallel.axes import replica_groups
    groups = replica_groups(mesh, axes, _program_devices(ctx))
    if index_groups is not None:  # each group of participants on its own
        groups = np.asarray([[g[i] for i in ig] for g in groups for ig in index_groups])
    return "replica_groups = " + i64_dense(groups)


def _channel(ctx) -> str:
    return (f"channel_handle = #stablehlo.channel_handle<handle = {ctx.module.next_channel()}, "
            "type = 1>")


_REDUCERS = {"psum": ("stablehlo.add", "stablehlo.or"), "psum_invariant": ("stablehlo.add",
             "stablehlo.or"), "pmax": ("stablehlo.maximum", "stablehlo.or"),
             "pmin": ("stablehlo.minimum", "stablehlo.and")}


def _scalar_region(ctx, name, dt):
    from jaxel.lax.reductions import _reduce_region
    op, bool_op = _REDUCERS[name]
    return _reduce_region(ctx.e, bool_op if dt == np.bool_ else op, dt)


def _all_reduce_lowering(name):
    def lowering(ctx, x, *, axes, axis_index_groups=None):
        from jaxel.lowering.emitter import tensor_type
        mesh = _device_mesh(name, axes)
        (aval,) = ctx.avals_in
        attrs = (f"{_channel(ctx)}, {_groups_attr(ctx, mesh, axes, axis_index_groups)}, "
                 "use_global_device_ids")
        return ctx.e.op1("stablehlo.all_reduce", [x], tensor_type(aval), attrs,
                         regions=[_scalar_region(ctx, name, aval.dtype)])
    return lowering


psum_p.lowering = _all_reduce_lowering("psum")
psum_invariant_p.lowering = _all_reduce_lowering("psum_invariant")
pmax_p.lowering = _all_reduce_lowering("pmax")
pmin_p.lowering = _all_reduce_lowering("pmin")
pvary_p.lowering = lambda ctx, x, *, axes: x  # only changes the value's type in JAX


def _reshape(ctx, x, aval):
    from jaxel.lowering.emitter import tensor_type
    return ctx.e.op1("stablehlo.reshape", [x], tensor_type(aval))


def _all_gather_lowering(ctx, x, *, axes, axis, tiled, axis_size, axis_index_groups=None):
    from jaxel.lowering.emitter import tensor_type
    mesh = _device_mesh("all_gather", axes)
    (aval,), (out,) = ctx.avals_in, ctx.avals_out
    if not tiled:  # gather blocks of size 1 along a new dimension
        aval = aval.update(shape=aval.shape[:axis] + (1,) + aval.shape[axis:])
        x = _reshape(ctx, x, aval)
    groups = _groups_attr(ctx, mesh, axes, axis_index_groups)
    attrs = f"all_gather_dim = {axis} : i64, {_channel(ctx)}, {groups}, use_global_device_ids"
    return ctx.e.op1("stablehlo.all_gather", [x], tensor_type(out), attrs)


all_gather_p.lowering = _all_gather_lowering
all_gather_invariant_p.lowering = _all_gather_lowering


def _psum_scatter_lowering(ctx, x, *, axes, scatter_dimension, tiled, axis_size,
                           axis_index_groups=None):
    from jaxel.lowering.emitter import tensor_type
    mesh = _device_mesh("psum_scatter", axes)
    (aval,), (out,) = ctx.avals_in, ctx.avals_out
    d = scatter_dimension
    block = aval.update(shape=aval.shape[:d] + (aval.shape[d] // axis_size,) + aval.shape[d + 1:])
    groups = _groups_attr(ctx, mesh, axes, axis_index_groups)
    attrs = f"{_channel(ctx)}, {groups}, scatter_dimension = {d} : i64, use_global_device_ids"
    y = ctx.e.op1("stablehlo.reduce_scatter", [x], tensor_type(block), attrs,
                  regions=[_scalar_region(ctx, "psum", aval.dtype)])
    return y if tiled else _reshape(ctx, y, out)


psum_scatter_p.lowering = _psum_scatter_lowering


def _all_to_all_lowering(ctx, x, *, axes, split_axis, concat_axis, tiled, axis_size,
                         axis_index_groups=None):
    from jaxel.lowering.emitter import i64_array, tensor_type
    mesh = _device_mesh("all_to_all", axes)
    (aval,), (out,) = ctx.avals_in, ctx.avals_out
    s, c = split_axis, concat_axis
    if tiled:
        mid, cd = out, c
    else:  # exchange size-1 chunks in place: dimension s then holds the senders' chunks
        mid, cd = aval, s
    groups = _groups_attr(ctx, mesh, axes, axis_index_groups)
    attrs = (f"{_channel(ctx)}, concat_dimension = {cd} : i64, {groups}, "
             f"split_count = {axis_size} : i64, split_dimension = {s} : i64")
    y = ctx.e.op1("stablehlo.all_to_all", [x], tensor_type(mid), attrs)
    if tiled:
        return y
    perm = [i for i in range(aval.ndim) if i != s]
    perm.insert(c, s)  # the senders' dimension moves to concat_axis
    return ctx.e.op1("stablehlo.transpose", [y], tensor_type(out),
                     f"permutation = {i64_array(perm)}")


all_to_all_p.lowering = _all_to_all_lowering


def _ppermute_lowering(ctx, x, *, axes, perm):
    from jaxel.lowering.emitter import i64_dense, tensor_type
    from jaxel.parallel.axes import replica_groups
    mesh = _device_mesh("ppermute", axes)
    (aval,) = ctx.avals_in
    groups = replica_groups(mesh, axes, _program_devices(ctx))
    pairs = [(int(g[src]), int(g[dst])) for g in groups for src, dst in perm]
    if not pairs:
        return ctx.e.constant(np.zeros(aval.shape, aval.dtype), aval)
    attrs = (f"{_channel(ctx)}, source_target_pairs = "
             f"{i64_dense(pairs, (len(pairs), 2))}")
    return ctx.e.op1("stablehlo.collective_permute", [x], tensor_type(aval), attrs)


ppermute_p.lowering = _ppermute_lowering


def _axis_index_lowering(ctx, *, axes):
    from jaxel.parallel.axes import axis_coords, group_index, partition_ids, strides
    mesh = _device_mesh("axis_index", axes)
    e = ctx.e
    i32 = ShapedArray((), np.dtype(np.int32), False)
    pid = e.op1("stablehlo.partition_id", [], "tensor<ui32>")
    pid = e.op1("stablehlo.convert", [pid], "tensor<i32>")
    pids = partition_ids(mesh, _program_devices(ctx))
    st, sizes = strides(mesh), dict(zip(mesh.axis_names, mesh.axis_sizes))
    if pids != list(range(len(pids))):
        # The program's devices are in another order than the mesh's: look the index up in a
        # table indexed by partition id.
        table = np.zeros(len(pids), np.int32)
        for k, c in enumerate(axis_coords(mesh)):
            table[pids[k]] = group_index(c, axes, sizes)
        t = e.constant(table, ShapedArray(table.shape, np.dtype(np.int32), False))
        one = e.op1("stablehlo.dynamic_slice", [t, pid], "tensor<1xi32>",
                    "slice_sizes = array<i64: 1>")
        return e.op1("stablehlo.reshape", [one], "tensor<i32>")
    total = None
    for n in axes:
        k = e.op1("stablehlo.divide", [pid, e.constant(st[n], i32)], "tensor<i32>")
        k = e.op1("stablehlo.remainder", [k, e.constant(sizes[n], i32)], "tensor<i32>")
        if total is not None:
            total = e.op1("stablehlo.multiply", [total, e.constant(sizes[n], i32)],
                          "tensor<i32>")
            k = e.op1("stablehlo.add", [total, k], "tensor<i32>")
        total = k
    return total


axis_index_p.lowering = _axis_index_lowering

# ---- ragged_all_to_all -------------------------------------------------------------------------
# Participants exchange leading-axis slices of ragged data. XLA's CPU backend has no
# ragged-all-to-all operation, so every meaning of the primitive (device lowering, and vmap
# over its own axis) is one composition of collectives: an all_to_all of the offsets tells
# each receiver where its incoming slices start in the senders' operands and in its output,
# an all_gather brings every sender's operand, and masked row updates write the slices.
ragged_all_to_all_p = _collective("ragged_all_to_all")


def _ragged_abstract_eval(operand, output, input_offsets, send_sizes, output_offsets,
                          recv_sizes, *, axes, axis_index_groups=None):
    for name, a in (("input_offsets", input_offsets), ("send_sizes", send_sizes),
                    ("output_offsets", output_offsets), ("recv_sizes", recv_sizes)):
        if not np.issubdtype(a.dtype, np.integer):
            raise ValueError(f"ragged_all_to_all {name} must be integer type.")
    for name, a in (("input_offsets", input_offsets), ("send_sizes", send_sizes),
                    ("output_offsets", output_offsets), ("recv_sizes", recv_sizes)):
        if a.ndim != 1 or a.shape[0] < 1:
            raise ValueError(f"ragged_all_to_all {name} must be rank 1 with positive "
                             f"dimension size, but got shape {a.shape}")
    if operand.ndim != output.ndim or operand.shape[1:] != output.shape[1:] or \
            operand.dtype != output.dtype:
        raise ValueError(f"ragged_all_to_all: operand {operand.dtype}{list(operand.shape)} and "
                         f"output {output.dtype}{list(output.shape)} must have the same dtype "
                         "and the same shape after the leading dimension.")
    return ShapedArray(output.shape, output.dtype, False)


ragged_all_to_all_p.abstract_eval = _ragged_abstract_eval


def _ragged_compose(operand, output, input_offsets, send_sizes, output_offsets, recv_sizes, *,
                    axes, size, axis_index_groups=None):
    """The value of ``ragged_all_to_all`` from dense collectives over ``axes`` (``size``
    participants per group). The last of several slices written to the same row wins (XLA
    leaves overlapping writes unspecified)."""
    from jaxel import numpy as jnp
    from jaxel.lax.elementwise import convert_element_type
    extra = {} if axis_index_groups is None else {"axis_index_groups": axis_index_groups}
    i32 = np.dtype(np.int32)

    def exchange(v):  # slot k of the result comes from sender k // per, its slot for us
        v = convert_element_type(v, i32)
        return all_to_all_p.bind(v, axes=axes, split_axis=0, concat_axis=0, tiled=True,
                                 axis_size=size, **extra)
    k_slots = _ad.aval_of(input_offsets).shape[0]
    if k_slots % size:
        raise ValueError(f"ragged_all_to_all: the offset and size arrays have length "
                         f"{k_slots}, which is not divisible by the number of participants "
                         f"{size}.")
    src_start = exchange(input_offsets)
    dst_start = exchange(output_offsets)
    sizes = convert_element_type(recv_sizes, i32)
    every = all_gather_p.bind(operand, axes=axes, axis=0, tiled=True, axis_size=size, **extra)
    n_rows = _ad.aval_of(operand).shape[0]
    m_rows = _ad.aval_of(output).shape[0]
    sender = np.arange(k_slots, dtype=np.int32) // (k_slots // size)
    r = jnp.arange(m_rows, dtype=np.int32)[None, :]
    lo = dst_start[:, None]
    hit = (r >= lo) & (r < lo + sizes[:, None])                       # (K, M)
    writer = jnp.max(jnp.where(hit, np.arange(k_slots, dtype=np.int32)[:, None], -1), axis=0)
    row = jnp.clip(src_start[:, None] + (r - lo), 0, max(n_rows - 1, 0))
    row = row + (sender * n_rows)[:, None]                             # row of ``every``
    pick = jnp.sum(jnp.where(np.arange(k_slots)[:, None] == writer[None, :], row, 0), axis=0)
    if n_rows == 0:
        return output
    data = jnp.take(every, pick, axis=0)
    written = jnp.reshape(writer >= 0, (m_rows,) + (1,) * (_ad.aval_of(output).ndim - 1))
    return jnp.where(written, data, output)


def _ragged_lowering(ctx, *args, axes, axis_index_groups=None):
    from jaxel.lax._composite import emit_composition
    mesh = _device_mesh("ragged_all_to_all", axes)
    sizes = dict(zip(mesh.axis_names, mesh.axis_sizes))
    size = len(axis_index_groups[0]) if axis_index_groups else \
        int(np.prod([sizes[n] for n in axes]))
    (out,) = emit_composition(
        ctx, lambda *xs: [_ragged_compose(*xs, axes=axes, size=size,
                                          axis_index_groups=axis_index_groups)],
        ctx.avals_in, args)
    return out


ragged_all_to_all_p.lowering = _ragged_lowering


def _ragged_batch(mapped, args, dims, *, axes, axis_index_groups=None):
    from jaxel.lax.shape_ops import broadcast_in_dim, iota, reshape
    from jaxel.lax.elementwise import add, mul
    params = dict(axes=axes, axis_index_groups=axis_index_groups)
    if mapped.name in axes:
        # The batch examples are the participants (JAX raises here; jaxel gives vmap the
        # meaning pmap has).
        _no_vmap_groups(params, "ragged_all_to_all")
        if len(axes) > 1:
            raise NotImplementedError("lax.ragged_all_to_all over several axes at once is not "
                                      "supported under vmap.")
        from jaxel.batching import vmap
        f = vmap(lambda *xs: _ragged_compose(*xs, axes=axes, size=mapped.size),
                 in_axes=tuple(dims), axis_name=mapped.name, axis_size=mapped.size)
        return f(*args), 0
    if all(d is None for d in dims):
        return ragged_all_to_all_p.bind(*args, **params), None
    # An enclosing axis: batch element b of slot i becomes slot i * B + b of one bigger
    # exchange (same destination), its rows moved past the other examples' rows.
    b = mapped.size
    operand, output = (_batching.bdim_at_front(x, d, b) for x, d in zip(args[:2], dims[:2]))
    n_rows, m_rows = _ad.aval_of(operand).shape[1], _ad.aval_of(output).shape[1]
    meta = []
    for i, (x, d) in enumerate(zip(args[2:], dims[2:])):
        x = _batching.move_axis(_batching.bdim_at_front(x, d, b), 0, 1)   # (K, B)
        if i in (0, 2):  # input_offsets, output_offsets
            dt = _ad.aval_of(x).dtype
            step = n_rows if i == 0 else m_rows
            shift = mul(iota(dt, b), literal(step, dt, False))
            x = add(x, broadcast_in_dim(shift, _ad.aval_of(x).shape, (1,)))
        meta.append(reshape(x, (_ad.aval_of(x).size,)))
    merge = lambda x: reshape(x, (b * _ad.aval_of(x).shape[1],) + _ad.aval_of(x).shape[2:])
    out = ragged_all_to_all_p.bind(merge(operand), merge(output), *meta, **params)
    return reshape(out, (b, m_rows) + _ad.aval_of(out).shape[1:]), 0


ragged_all_to_all_p.batch_axis = _ragged_batch


def _ragged_jvp(primals, tangents, *, axes, axis_index_groups=None):
    operand, output, *meta = primals
    d_op, d_out = tangents[:2]
    params = dict(axes=axes, axis_index_groups=axis_index_groups)
    out = ragged_all_to_all_p.bind(operand, output, *meta, **params)
    if type(d_op) is _ad.Zero and type(d_out) is _ad.Zero:
        return out, _ad.zero_like(out)
    return out, ragged_all_to_all_p.bind(_ad.instantiate(d_op), _ad.instantiate(d_out), *meta,
                                         **params)


def _ragged_transpose(ct, operand, output, input_offsets, send_sizes, output_offsets,
                      recv_sizes, *, axes, axis_index_groups=None):
    """Linear in ``operand`` and ``output``: the operand's cotangent is the reverse exchange
    (rows of the received slices sent back to where they came from), the output's is ``ct``
    with the rows that were overwritten zeroed."""
    from jaxel import numpy as jnp
    op_ct = out_ct = None
    und_op, und_out = _ad.is_undefined(operand), _ad.is_undefined(output)
    if type(ct) is _ad.Zero:
        return [ct if und_op else None, ct if und_out else None, None, None, None, None]
    ct = _ad.instantiate(ct)
    name = axes if len(axes) > 1 else axes[0]
    a2a = lambda v: all_to_all(v, name, 0, 0, tiled=True, axis_index_groups=axis_index_groups)
    dst_start = a2a(output_offsets)
    if und_op:
        a = operand.aval
        zeros = jnp.zeros(a.shape, a.dtype)
        op_ct = ragged_all_to_all_p.bind(ct, zeros, dst_start, recv_sizes, a2a(input_offsets),
                                         send_sizes, axes=axes,
                                         axis_index_groups=axis_index_groups)
    if und_out:
        m_rows = _ad.aval_of(ct).shape[0]
        r = jnp.arange(m_rows)[None, :]
        lo = dst_start[:, None]
        covered = jnp.any((r >= lo) & (r < lo + recv_sizes[:, None]), axis=0)
        covered = jnp.reshape(covered, (m_rows,) + (1,) * (_ad.aval_of(ct).ndim - 1))
        out_ct = jnp.where(covered, jnp.zeros((), _ad.aval_of(ct).dtype), ct)
    return [op_ct, out_ct, None, None, None, None]


ragged_all_to_all_p.jvp = _ragged_jvp
ragged_all_to_all_p.transpose = _ragged_transpose


def ragged_all_to_all(operand, output, input_offsets, send_sizes, output_offsets, recv_sizes,
                      *, axis_name, axis_index_groups=None):
    """Ragged ``all_to_all``: participant ``p`` sends ``operand[input_offsets[i]:
    input_offsets[i] + send_sizes[i]]`` to participant ``i // (K // n)`` (``K`` slots, ``n``
    participants), which writes it into its ``output`` at ``output_offsets[i]`` (an offset in
    the receiver's output); each receiver updates ``recv_sizes[j]`` rows for its slot ``j``.
    Returns the updated ``output``.

    Example (axis of size 2, as in JAX's documentation)::

        participant 0: operand=[1, 2, 2] input_offsets=[0, 1] send_sizes=[1, 2]
                       output_offsets=[0, 0] recv_sizes=[1, 1]
        participant 1: operand=[3, 4, 0] input_offsets=[0, 1] send_sizes=[1, 1]
                       output_offsets=[1, 2] recv_sizes=[2, 1]
        with output=[0, 0, 0, 0]: results [1, 3, 0, 0] and [2, 2, 4, 0].
    """
    names, size = _named_only(axis_name, "lax.ragged_all_to_all")
    size, extra = _group_params(axis_index_groups, names, size, "ragged_all_to_all")
    args = [_as_operand(v) for v in (operand, output, input_offsets, send_sizes,
                                     output_offsets, recv_sizes)]
    k = _ad.aval_of(args[2]).shape
    if len(k) == 1 and k[0] % size:
        raise ValueError(f"lax.ragged_all_to_all: the offset and size arrays have length "
                         f"{k[0]}, which must be divisible by the number of participants "
                         f"{size} along {names}.")
    return ragged_all_to_all_p.bind(*args, axes=names, **extra)


__all__ = ["psum", "pmean", "pmax", "pmin", "all_gather", "psum_scatter", "ppermute",
           "pshuffle", "pswapaxes", "pcast", "pbroadcast",
           "all_to_all", "axis_index", "axis_size", "psum_p", "pmax_p", "pmin_p", "ppermute_p",
           "all_gather_p", "psum_scatter_p", "all_to_all_p", "axis_index_p",
           "ragged_all_to_all", "ragged_all_to_all_p", "psum_scatter_start"]
