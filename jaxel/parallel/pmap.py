"""``pmap``: data parallelism over devices, built (as in JAX 0.12.1) on ``shard_map`` + ``jit``.

A one-axis mesh over the first ``n`` devices (or ``devices``) is named by ``axis_name``; every
mapped argument is split along its ``in_axes`` dimension into ``n`` blocks of size 1, which the
body sees with that dimension removed; results are put back along ``out_axes``. As JAX's pmap,
the shard_map runs with ``check_vma=False`` (``psum``'s transpose is a ``psum``).
"""
from __future__ import annotations

import numpy as np

from jaxel import tree_util
from jaxel.sharding.spec import PartitionSpec


def _spec(name, ax):
    return PartitionSpec() if ax is None else PartitionSpec(*([None] * ax), name)


def _check_axes(tree, what):
    for leaf in tree_util.tree_leaves(tree, is_leaf=lambda x: x is None):
        if leaf is not None and (type(leaf) is not int):
            raise TypeError(f"pmap {what} must be an int, None, or (nested) container with those "
                            f"types as leaves, but got {tree!r}.")


def _argnums(v):
    if v is None:
        return ()
    return (v,) if isinstance(v, int) else tuple(v)


def pmap(fun, axis_name=None, *, in_axes=0, out_axes=0, static_broadcasted_argnums=(),
         devices=None, backend=None, axis_size=None, donate_argnums=()):
    """Map ``fun`` over an array axis, one slice per device, in one SPMD program.

    Args:
      fun: the per-device function (sees each mapped argument with the mapped axis removed).
      axis_name: a name for the mapped axis, for collectives (``lax.psum(x, axis_name)``).
      in_axes: an int, None, or a pytree prefix of the positional arguments with int/None
        leaves: the mapped axis of each argument (None: broadcast to every device).
      out_axes: an int, None or a pytree prefix of the outputs: where the mapped axis goes.
      static_broadcasted_argnums: positional arguments passed as static (hashable) values.
      devices: the devices to run on (default: the first ``n`` devices).
      backend: accepted for compatibility (jaxel has one backend per platform).
      axis_size: the mapped size, checked against the arguments'.
      donate_argnums: arguments whose buffers the computation may reuse.

    Returns:
      The mapped function; results are Arrays sharded over the devices along ``out_axes``.

    Example::

        >>> jaxel.pmap(lambda x: lax.psum(x, 'i'), axis_name='i')(jnp.arange(4.0))
        Array([6., 6., 6., 6.], dtype=float32)
    """
    if not callable(fun):
        raise TypeError(f"pmap: fun must be callable, got {fun!r}.")
    if isinstance(in_axes, list):
        in_axes = tuple(in_axes)
    _check_axes(in_axes, "in_axes")
    _check_axes(out_axes, "out_axes")
    name = "_internal_pmap_axis_name" if axis_name is None else axis_name  # as JAX
    static = _argnums(static_broadcasted_argnums)
    donate = _argnums(donate_argnums)
    cache = {}
    from jaxel.ad import _wraps

    @_wraps(fun)
    def pmapped(*args, **kwargs):
        fname = getattr(fun, "__name__", "fun")
        if static and max(static) >= len(args):
            raise ValueError(f"pmapped function has static_broadcasted_argnums={static} but was "
                             f"called with only {len(args)} positional argument(s). All static "
                             "broadcasted arguments must be passed positionally.")
        dyn_idx = [i for i in range(len(args)) if i not in static]
        statics = tuple((i, args[i]) for i in static)
        for i, v in statics:
            try:
                hash(v)
            except TypeError:
                raise ValueError(f"pmap: static_broadcasted_argnums argument {i} must be "
                                 f"hashable, got {type(v).__name__}.") from None
        dyn_args = tuple(args[i] for i in dyn_idx)
        if isinstance(in_axes, tuple):
            if len(in_axes) != len(args):
                raise ValueError(f"pmap({fname}): in_axes has {len(in_axes)} entries but the "
                                 f"function was called with {len(args)} positional arguments.")
            dyn_axes = tuple(in_axes[i] for i in dyn_idx)
        else:
            dyn_axes = in_axes
        leaves, in_tree = tree_util.tree_flatten((dyn_args, kwargs))
        axes = tree_util.broadcast_prefix_leaves(dyn_axes, dyn_args, f"pmap({fname}) in_axes",
                                                 "in_axes", "arguments")
        axes += [0] * (len(leaves) - len(axes))  # keyword arguments: axis 0
        from jaxel.batching import _as_mappable, _leaf_names
        norm, sizes = [], []
        for i, (x, ax) in enumerate(zip(leaves, axes)):
            if ax is None:
                norm.append(None)
                continue
            nd = len(np.shape(x))
            if not -nd <= ax < nd:
                names = _leaf_names(fun, args, kwargs)
                raise ValueError(f"pmap({fname}) was asked to map argument "
                                 f"{_dyn_name(names, dyn_idx, i, len(leaves))} along axis {ax}, "
                                 f"but it has rank {nd} (shape {tuple(np.shape(x))}).")
            norm.append(ax % nd)
            sizes.append((i, np.shape(x)[ax % nd]))
        if not sizes:
            raise ValueError("pmap requires at least one argument with a mapped axis.")
        n = sizes[0][1]
        if any(s != n for _, s in sizes):
            names = _leaf_names(fun, tuple(dyn_args), kwargs)
            lines = "\n".join(f"  * {names[i]} has shape {tuple(np.shape(leaves[i]))} and axis "
                              f"{norm[i]} is mapped (size {s})" for i, s in sizes)
            raise ValueError(f"pmap({fname}) got inconsistent sizes for the mapped axes:\n"
                             f"{lines}\nEvery mapped axis must have the same size.")
        if axis_size is not None and axis_size != n:
            raise ValueError(f"Specified axis_size {axis_size} doesn't match received axis_size "
                             f"{n}.")
        multi = devices is None and _process_count() > 1
        if multi and any(_is_tracer(x) for x in leaves):
            raise NotImplementedError(
                f"pmap({fname}) inside a transformation (jit, grad, ...) over several "
                "processes: call it outside, or use shard_map over a mesh of jaxel.devices().")
        devs = _global_devices(n, fname) if multi else _devices(devices, n, fname)
        key = (in_tree, tuple(norm), statics, devs,
               tuple(tuple(np.shape(x)) for x in leaves))
        jitted = cache.get(key)
        if jitted is None:
            jitted = cache[key] = _build(fun, name, in_tree, tuple(norm), out_axes, statics,
                                         dyn_idx, devs, donate, len(args))
        leaves = [x if ax is None else _as_mappable(x) for x, ax in zip(leaves, norm)]
        if not multi:
            return jitted(*leaves)
        return _run_over_processes(jitted, leaves, norm, name, devs, out_axes)

    return pmapped


def _dyn_name(names, dyn_idx, i, n):
    return names[i] if i < len(names) else f"args[{i}]"


def _devices(devices, n, fname):
    from jaxel.runtime import client
    if devices is not None:
        devs = tuple(devices)
        if not devs:
            raise ValueError("'devices' argument to pmap must be non-empty, or None.")
    else:
        devs = tuple(client.devices())
    if n > len(devs):
        raise ValueError(
            f"pmap({fname}): the mapped axis has size {n}, which needs {n} devices, but only "
            f"{len(devs)} {'were given' if devices is not None else 'are available'}. Map over "
            "at most that many (or reshape the data so the leading axis fits; set "
            "jax_num_cpu_devices for more CPU devices).")
    return devs[:n]


def _is_tracer(x):
    from jaxel.tracing.core import Tracer
    return isinstance(x, Tracer)


def _process_count():
    from jaxel.runtime import client
    return client.process_count()


def _global_devices(n, fname):
    """Many processes (as JAX): each maps over its first ``n`` local devices, so the program
    spans n devices of every process, in process order."""
    from jaxel.runtime import client
    local = client.local_devices()
    if n > len(local):
        raise ValueError(
            f"pmap({fname}): the mapped axis has size {n}, but this process has only "
            f"{len(local)} local devices; with several processes each maps over its own.")
    by_process = {}
    for d in client.devices():
        by_process.setdefault(d.process_index, []).append(d)
    return tuple(d for p in sorted(by_process) for d in by_process[p][:n])


def _run_over_processes(jitted, leaves, in_axes, name, devs, out_axes):
    """Each process's arguments become the blocks of global arrays over ``devs``; the results
    come back as this process's blocks (host-local arrays, as JAX's)."""
    from jaxel.sharding.mesh import Mesh
    from jaxel.sharding.multiprocess import global_to_host_local, host_local_to_global
    mesh = Mesh(np.array(devs, dtype=object), (name,))
    ins = [host_local_to_global(x, mesh, _spec(name, ax)) for x, ax in zip(leaves, in_axes)]
    out = jitted(*ins)
    specs = tree_util.broadcast_prefix_leaves(out_axes, out, "pmap out_axes", "out_axes",
                                              "outputs")
    flat, tree = tree_util.tree_flatten(out)
    return tree_util.tree_unflatten(tree, [global_to_host_local(o, mesh, _spec(name, ax))
                                           for o, ax in zip(flat, specs)])


def _build(fun, name, in_tree, in_axes_flat, out_axes, statics, dyn_idx, devs, donate, nargs):
    """The jitted shard_map for one call signature."""
    from jaxel.api import jit
    from jaxel.lax.shape_ops import expand_dims, squeeze
    from jaxel.parallel._api import shard_map
    from jaxel.sharding.mesh import Mesh
    mesh = Mesh(np.array(devs, dtype=object), (name,))
    in_specs = tuple(_spec(name, ax) for ax in in_axes_flat)
    out_specs = tree_util.tree_map(lambda ax: _spec(name, ax), out_axes,
                                   is_leaf=lambda x: x is None)

    def body(*flat):
        flat = [x if ax is None else squeeze(x, (ax,)) for x, ax in zip(flat, in_axes_flat)]
        dyn_args, kwargs = tree_util.tree_unflatten(in_tree, flat)
        full = [None] * nargs
        for i, v in statics:
            full[i] = v
        for i, v in zip(dyn_idx, dyn_args):
            full[i] = v
        out = fun(*full, **kwargs)
        wanted = tree_util.broadcast_prefix_leaves(out_axes, out, "pmap out_axes", "out_axes",
                                                   "outputs")
        leaves, tree = tree_util.tree_flatten(out)
        leaves = [o if ax is None else expand_dims(o, (ax,)) for o, ax in zip(leaves, wanted)]
        return tree_util.tree_unflatten(tree, leaves)

    mapped = shard_map(body, mesh=mesh, in_specs=in_specs, out_specs=out_specs,
                       check_vma=False)
    # Donation refers to positional arguments; their leaves are the flat inputs here.
    donated = _donated_leaves(in_tree, dyn_idx, donate)
    return jit(mapped, donate_argnums=donated)


def _donated_leaves(in_tree, dyn_idx, donate):
    if not donate:
        return ()
    dummy_args, kwargs = tree_util.tree_unflatten(in_tree, list(range(in_tree.num_leaves)))
    out = []
    for pos, arg in zip(dyn_idx, dummy_args):
        if pos in donate:
            out.extend(tree_util.tree_leaves(arg))
    return tuple(out)


__all__ = ["pmap"]
