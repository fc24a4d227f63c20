"""Public vectorisation API: ``vmap``.

A pytree wrapper over the batching interpreter in ``jaxel/transforms/batching.py``: it reads
``in_axes``/``out_axes`` as pytree prefixes, checks the mapped sizes agree (naming each argument
when they do not), runs the function once on per-example views of its arguments, and moves each
output's batch dimension where ``out_axes`` asks.
"""
from __future__ import annotations

import inspect

from jaxel import tree_util
from jaxel.transforms.ad_util import aval_of
from jaxel.transforms.batching import AxisData, batch_flat


def _wraps(fun):
    from jaxel.ad import _wraps as wraps
    return wraps(fun)


def _fun_name(fun):
    return getattr(fun, "__name__", None) or type(fun).__name__


def _check_axes_spec(spec, what):
    """in_axes/out_axes leaves must be ints or None."""
    for leaf in tree_util.tree_leaves(spec, is_leaf=lambda x: x is None):
        if leaf is not None and (not isinstance(leaf, int) or isinstance(leaf, bool)):
            raise TypeError(
                f"vmap {what} must be an int, None, or a (pytree prefix) container of ints and "
                f"Nones matching the arguments, but got {spec!r} (leaf {leaf!r} of type "
                f"{type(leaf).__name__}).")


def _param_names(fun, nargs):
    """Names for the positional arguments in error messages (``args[i]`` when unknown)."""
    try:
        params = list(inspect.signature(fun).parameters.values())
    except (TypeError, ValueError):
        params = []
    names = []
    for i in range(nargs):
        if i < len(params) and params[i].kind in (params[i].POSITIONAL_ONLY,
                                                  params[i].POSITIONAL_OR_KEYWORD):
            names.append(params[i].name)
        else:
            names.append(f"args[{i}]")
    return names


def _leaf_names(fun, args, kwargs):
    """A readable name for every leaf of ``(args, kwargs)``, in flattening order."""
    pos = _param_names(fun, len(args))
    out = []
    for path, _ in tree_util.tree_flatten_with_path((args, kwargs))[0]:
        head, rest = path[0].idx, path[1:]
        if head == 0:
            out.append(pos[rest[0].idx] + tree_util.keystr(rest[1:]))
        else:  # a keyword argument: its name, then the path inside it
            out.append(str(rest[0].key) + tree_util.keystr(rest[1:]))
    return out


def _as_mappable(x):
    """A mapped leaf as an array operand (NumPy arrays and scalars become jaxel arrays)."""
    if hasattr(x, "aval") and not isinstance(x, type):
        return x
    from jaxel.numpy import asarray
    return asarray(x)


def vmap(fun, in_axes=0, out_axes=0, axis_name=None, axis_size=None, spmd_axis_name=None):
    """Vectorise ``fun`` over an axis of its arguments.

    Args:
      fun: the function to map; its arguments and results are pytrees of arrays.
      in_axes: an int, None, or a pytree prefix of the positional-argument tuple whose leaves
        are ints (the mapped axis, negative counts from the end) or None (not mapped). A list is
        read as a tuple. Keyword arguments are always mapped along axis 0.
      out_axes: an int, None or a pytree prefix of the output: where each output's mapped axis
        goes. None is only for outputs that do not depend on the mapped inputs.
      axis_name: a name for the mapped axis, for collectives (``lax.psum`` ...) inside ``fun``.
      axis_size: the mapped size, required when no input is mapped.
      spmd_axis_name: accepted for compatibility (meaningful under multi-device sharding).

    Returns:
      The vectorised function.

    Example::

        >>> vmap(jnp.dot, in_axes=(0, None))(jnp.ones((5, 3)), jnp.ones(3)).shape
        (5,)
    """
    if not callable(fun):
        raise TypeError(f"vmap: fun must be callable, got {fun!r} of type {type(fun).__name__}.")
    if isinstance(in_axes, list):
        in_axes = tuple(in_axes)
    _check_axes_spec(in_axes, "in_axes")
    _check_axes_spec(out_axes, "out_axes")
    if axis_size is not None and (not isinstance(axis_size, int) or axis_size < 0):
        raise ValueError(f"vmap: axis_size must be a non-negative int, got {axis_size!r}.")
    @_wraps(fun)
    def vmapped(*args, **kwargs):
        name = _fun_name(fun)
        if isinstance(in_axes, tuple) and len(in_axes) != len(args):
            raise ValueError(
                f"vmap({name}): in_axes is a tuple of {len(in_axes)} entries, but the function "
                f"was called with {len(args)} positional argument(s); in_axes must have one "
                "entry per positional argument (or be a single int/None for all of them).")
        leaves, in_tree = tree_util.tree_flatten((args, kwargs))
        axes = tree_util.broadcast_prefix_leaves(in_axes, args, f"vmap({name}) in_axes",
                                                 "in_axes", "arguments")
        axes += [0] * (len(leaves) - len(axes))  # keyword arguments: axis 0
        names = None
        dims, sizes = [], []
        for i, (x, ax) in enumerate(zip(leaves, axes)):
            if ax is None:
                dims.append(None)
                continue
            nd = len(getattr(x, "shape", ()))
            if not -nd <= ax < nd:
                names = names or _leaf_names(fun, args, kwargs)
                shape = tuple(getattr(x, "shape", ()))
                raise ValueError(
                    f"vmap({name}) was asked to map argument {names[i]} along axis {ax}, but it "
                    f"has rank {nd} (shape {shape}); an in_axes entry must be within "
                    f"[-{nd}, {nd}) for it, or None to leave it unmapped.")
            d = ax % nd
            dims.append(d)
            sizes.append((i, x.shape[d]))
        distinct = {s for _, s in sizes}
        if axis_size is not None:
            distinct.add(axis_size)
        if not sizes and axis_size is None:
            raise ValueError(
                f"vmap({name}) must have at least one mapped input (an in_axes entry that is "
                "not None), or axis_size= to give the mapped size.")
        if len(distinct) > 1:
            names = names or _leaf_names(fun, args, kwargs)
            lines = [f"  * {names[i]} has shape {tuple(leaves[i].shape)} and axis "
                     f"{axes[i]} is mapped (size {s})" for i, s in sizes]
            if axis_size is not None:
                lines.append(f"  * axis_size={axis_size}")
            raise ValueError(f"vmap({name}) got inconsistent sizes for the mapped axes:\n"
                             + "\n".join(lines) + "\nEvery mapped axis must have the same size.")
        size = axis_size if axis_size is not None else sizes[0][1]
        ins = [x if d is None else _as_mappable(x) for x, d in zip(leaves, dims)]
        out_tree_box = []

        def flat_fun(*xs):
            a, kw = tree_util.tree_unflatten(in_tree, list(xs))
            out = fun(*a, **kw)
            out_leaves, out_tree = tree_util.tree_flatten(out)
            out_tree_box.append((out, out_tree))
            return out_leaves

        axis = AxisData(axis_name, size, spmd_axis_name)
        outs, out_dims = batch_flat(flat_fun, axis, ins, dims)
        out, out_tree = out_tree_box[0]
        wanted = tree_util.broadcast_prefix_leaves(out_axes, out, f"vmap({name}) out_axes",
                                                   "out_axes", "outputs")
        final = []
        from jaxel.transforms.batching import matchaxis
        for j, (o, d, want) in enumerate(zip(outs, out_dims, wanted)):
            if want is None:
                if d is not None:
                    raise ValueError(
                        f"vmap({name}) has out_axes=None for output {j} "
                        f"({_per_example(o, d)} per example), but it depends on the mapped "
                        "inputs; out_axes=None is only for outputs that are the same for every "
                        "example. Give it an int out_axes instead.")
                final.append(o)
                continue
            nd = aval_of(o).ndim + (d is None)
            if not -nd <= want < nd:
                raise ValueError(
                    f"vmap({name}) out_axes={want} is out of range for output {j}: it has rank "
                    f"{nd} with the mapped axis, so out_axes must be within [-{nd}, {nd}).")
            final.append(matchaxis(o, d, want % nd, size))
        return tree_util.tree_unflatten(out_tree, final)

    return vmapped


def _per_example(o, d):
    a = aval_of(o)
    shape = a.shape[:d] + a.shape[d + 1:]
    return f"{a.dtype.name}{list(shape)}"
