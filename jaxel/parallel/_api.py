"""The public ``shard_map`` and ``smap``: specs read as pytree prefixes, arguments checked and
split into block avals, the body traced into one ``shard_map_p`` equation."""
from __future__ import annotations

from jaxel import tree_util
from jaxel.parallel import axes as _axes
from jaxel.parallel import primitive as _sm
from jaxel.sharding.mesh import AbstractMesh, Mesh, get_mesh
from jaxel.sharding.spec import PartitionSpec
from jaxel.transforms.ad_util import aval_of


def _resolve_mesh(mesh, leaves=()):
    if mesh is None:
        mesh = get_mesh() or _enclosing_mesh()
        if mesh is None:
            raise ValueError("shard_map: no mesh given and no current mesh is set; pass "
                             "mesh=... or call inside `with jaxel.set_mesh(mesh):`.")
    if isinstance(mesh, AbstractMesh):
        # As JAX: the concrete mesh comes from the arguments' NamedShardings.
        from jaxel.sharding.shardings import NamedSharding
        for x in leaves:
            s = getattr(x, "sharding", None)
            if isinstance(s, NamedSharding) and isinstance(s.mesh, Mesh) and \
                    s.mesh.shape_tuple == mesh.shape_tuple:
                return s.mesh
        raise ValueError("shard_map: with an AbstractMesh, pass Arrays with a NamedSharding "
                         f"over a mesh of shape {dict(mesh.shape)} as arguments (or pass the "
                         "Mesh itself).")
    if not isinstance(mesh, Mesh):
        raise TypeError(f"shard_map: mesh must be a jaxel.sharding.Mesh, got "
                        f"{type(mesh).__name__}.")
    return mesh


def _enclosing_mesh():
    """The mesh of the innermost enclosing shard_map body (nested shard_maps default to it)."""
    from jaxel.transforms.batching import _axis_env
    for a in reversed(_axis_env.stack):
        if isinstance(a, _axes.ManualAxis):
            return a.mesh
    return None


def _check_nesting(mesh, manual):
    """A shard_map inside another's body runs on the same devices: same mesh, other axes."""
    from jaxel.transforms.batching import _axis_env
    outer = [a for a in _axis_env.stack if isinstance(a, _axes.ManualAxis)]
    if not outer:
        return
    if outer[-1].mesh != mesh:
        raise ValueError(f"shard_map: nested inside a shard_map (or pmap) over {outer[-1].mesh}, "
                         f"it must use the same mesh (or mesh=None), got {mesh}. Nested pmaps "
                         "are not supported either (as in JAX 0.12.1): use one shard_map over "
                         "a 2-d mesh.")
    bound = sorted(a.name for a in outer if a.name in manual)
    if bound:
        raise ValueError(f"shard_map: the mesh axes {bound} are already manual in the enclosing "
                         "shard_map; pass axis_names= with the other axes only.")


def _manual_axes(mesh, axis_names):
    names = set(axis_names)
    unknown = names - set(mesh.axis_names)
    if unknown:
        raise ValueError(f"shard_map: axis_names {sorted(unknown)} are not axes of the mesh, "
                         f"whose axes are {mesh.axis_names}.")
    return tuple(n for n in mesh.axis_names if not names or n in names)


def _inferred_specs(leaves, names):
    from jaxel.sharding.shardings import NamedSharding
    specs = []
    for x, n in zip(leaves, names):
        s = getattr(x, "sharding", None)
        if not isinstance(s, NamedSharding):
            raise ValueError(f"shard_map: in_specs were not given and cannot be inferred for "
                             f"{n}, which is not an Array with a NamedSharding; pass "
                             "in_specs=... .")
        specs.append(s.spec)
    return specs


def _as_operand(x):
    if hasattr(x, "aval") and not isinstance(x, type):
        return x
    from jaxel.numpy import asarray
    return asarray(x)


def make_shard_map(f, *, out_specs, in_specs, mesh, axis_names, check_vma):
    """The function ``shard_map(f, ...)`` returns (see ``shard_map``)."""
    from jaxel.ad import _wraps

    @_wraps(f)
    def wrapped(*args, **kwargs):
        if kwargs:
            raise TypeError("shard_map: the mapped function takes positional arguments only "
                            f"(got keyword arguments {sorted(kwargs)}).")
        leaves, in_tree = tree_util.tree_flatten(args)
        m = _resolve_mesh(mesh, leaves)
        manual = _manual_axes(m, axis_names)
        _check_nesting(m, manual)
        from jaxel.batching import _leaf_names
        names = None
        if in_specs is Infer:
            names = _leaf_names(f, args, {})
            specs = _inferred_specs(leaves, names)
        else:
            specs = tree_util.broadcast_prefix_leaves(in_specs, args, "shard_map in_specs",
                                                      "in_specs", "arguments")
        leaves = [_as_operand(x) for x in leaves]
        blocks = []
        for i, (x, s) in enumerate(zip(leaves, specs)):
            _sm._check_spec(s, m, manual, "in_specs")
            try:
                blocks.append(_sm._block_aval(aval_of(x), s, m, "__ARG__"))
            except ValueError as err:  # name the argument (computed only on error)
                names = names or _leaf_names(f, args, {})
                raise ValueError(str(err).replace("__ARG__", f"argument {names[i]}")) from None
        out_box = []

        def body(*xs):
            a = tree_util.tree_unflatten(in_tree, list(xs))
            out = f(*a)
            out_leaves, out_tree = tree_util.tree_flatten(out)
            o_specs = tree_util.broadcast_prefix_leaves(out_specs, out, "shard_map out_specs",
                                                        "out_specs", "outputs")
            for o, s in zip(out_leaves, o_specs):
                _sm._check_spec(s, m, manual, "out_specs")
                nd = aval_of(_as_operand(o)).ndim
                if len(s) > nd:
                    raise ValueError(f"shard_map: out_specs {s!r} has {len(s)} entries for an "
                                     f"output of rank {nd}.")
            out_box.append((out_tree, tuple(o_specs)))
            return [_as_operand(o) for o in out_leaves], [_sm._spec_names(s) for s in o_specs]

        from jaxel.jaxpr.staging import DebugInfo, split_tracer_consts
        dbg = DebugInfo("shard_map", f)
        with _axes.manual_axes_env(m, manual, check_vma):
            if check_vma:
                from jaxel.parallel.vma import trace_body
                closed, out_vmas = trace_body(body, blocks, [_sm._spec_names(s) for s in specs],
                                              manual, m.axis_names, dbg)
            else:
                from jaxel.jaxpr.staging import trace_to_jaxpr
                closed = trace_to_jaxpr(lambda *xs: body(*xs)[0], blocks, dbg)
                out_vmas = None
        out_tree, o_specs = out_box[0]
        if out_vmas is not None:
            for j, (v, s) in enumerate(zip(out_vmas, o_specs)):
                extra = v - _sm._spec_names(s)
                if extra:
                    raise ValueError(
                        f"shard_map applied to {getattr(f, '__name__', 'the function')}: "
                        f"out_specs {s!r} for output {j} say it is the same on every device "
                        f"along {sorted(extra)}, but it varies along them (it depends on an "
                        "input split over them, or on axis_index, without a psum/all_gather "
                        "over them). Mention the axes in out_specs, reduce over them, or pass "
                        "check_vma=False to skip this check.")
        closed, tracer_consts = split_tracer_consts(closed)
        params = dict(mesh=m, in_specs=(PartitionSpec(),) * len(tracer_consts) + tuple(specs),
                      out_specs=o_specs, manual_axes=manual, check_vma=bool(check_vma))
        outs = _sm.bind_body(closed, list(tracer_consts) + leaves, params)
        return tree_util.tree_unflatten(out_tree, outs)

    return wrapped


# ---- the public function ------------------------------------------------------------------------
class _InferFromArgs:
    def __repr__(self):
        return "Infer"


Infer = _InferFromArgs()


def shard_map(f=None, /, *, out_specs, in_specs=Infer, mesh=None, axis_names=frozenset(),
              check_vma=True):
    """Map ``f`` over blocks of its arguments, one block per device of ``mesh``.

    Args:
      f: the per-device function; it sees blocks and returns blocks.
      out_specs: a pytree prefix of ``f``'s output with PartitionSpec leaves: how the output
        blocks are put together (an axis not mentioned promises the blocks are equal along it).
      in_specs: a pytree prefix of the argument tuple with PartitionSpec leaves: how each
        argument is split (an axis not mentioned: every device gets the whole dimension).
        By default, read off arguments that are Arrays with a NamedSharding.
      mesh: the Mesh (default: the current mesh, ``jaxel.sharding.get_mesh()``).
      axis_names: the mesh axes ``f`` is manual over (default: all).
      check_vma: track which values vary across devices (JAX's default; gradients of
        replicated inputs are then summed over the devices that used them).

    Without ``f``, returns a decorator.

    Example::

        >>> mesh = jaxel.make_mesh((4,), ('x',))
        >>> f = shard_map(lambda b: lax.psum(b.sum(), 'x'), mesh=mesh, in_specs=P('x'),
        ...               out_specs=P())
        >>> f(jnp.arange(8.0))
        Array(28., dtype=float32)
    """
    kwargs = dict(out_specs=out_specs, in_specs=in_specs, mesh=mesh, axis_names=axis_names,
                  check_vma=check_vma)
    if f is None:
        return lambda g: shard_map(g, **kwargs)
    if not callable(f):
        raise TypeError(f"shard_map: f must be callable, got {f!r}.")
    return make_shard_map(f, **kwargs)


def smap(f=None, /, *, in_axes=Infer, out_axes, axis_name):
    """``shard_map`` over the single mesh axis ``axis_name`` with vmap-style axes: argument
    dimension ``in_axes`` (an int, None, or a tuple per argument) is split over it, and each
    output's ``out_axes`` dimension is where the blocks are concatenated."""
    kwargs = dict(in_axes=in_axes, out_axes=out_axes, axis_name=axis_name)
    if f is None:
        return lambda g: smap(g, **kwargs)

    def spec(ax):
        if ax is None:
            return PartitionSpec()
        return PartitionSpec(*([None] * ax), axis_name)

    def wrapped(*args):
        if in_axes is Infer:
            ins = Infer
        elif isinstance(in_axes, (tuple, list)):
            ins = tuple(spec(a) if not isinstance(a, int) or a >= 0 else
                        _neg_spec(x, a, axis_name) for a, x in zip(in_axes, args))
        else:
            ins = tuple(spec(in_axes) if in_axes is None or in_axes >= 0 else
                        _neg_spec(x, in_axes, axis_name) for x in args)
        outs = tree_util.tree_map(spec, out_axes, is_leaf=lambda x: x is None)
        return shard_map(f, in_specs=ins, out_specs=outs, axis_names={axis_name})(*args)
    return wrapped


def _neg_spec(x, ax, name):
    nd = len(getattr(x, "shape", ()))
    return PartitionSpec(*([None] * (ax % nd)), name)


__all__ = ["shard_map", "smap", "Infer"]
