"""``with_sharding_constraint``: pin the layout of an intermediate value inside ``jit``.

``sharding_constraint_p`` is an identity on values. Lowered into a partitioned program it is a
``sdy.sharding_constraint`` that XLA's partitioner must honour; in a one-device program it is
nothing. Eagerly it reshards the array. It is linear (its tangent and cotangent carry the same
constraint) and batches by leaving the batch dimension unsplit.
"""
from __future__ import annotations

from jaxel import tree_util
from jaxel.sharding.placement import as_target, is_target_leaf
from jaxel.sharding.shardings import NamedSharding, Sharding
from jaxel.sharding.spec import PartitionSpec
from jaxel.tracing.core import Primitive
from jaxel.transforms import ad_util as _ad

sharding_constraint_p = Primitive("sharding_constraint")
sharding_constraint_p.abstract_eval = lambda x, *, sharding: x


def _impl(x, *, sharding):
    from jaxel.sharding.placement import put_leaf
    from jaxel.tracing.eval_trace import to_device_array
    return put_leaf(to_device_array(x), sharding)


def _lowering(ctx, x, *, sharding):
    module = ctx.module
    if module is None or module.devices is None:
        return x  # a one-device program: every layout is the same
    aval = ctx.avals_in[0]
    attr = module.sdy_sharding(sharding, aval.ndim)
    return ctx.e.op1("sdy.sharding_constraint", [x], ctx.e.types[x], f"sharding = {attr}")


def _batch(args, dims, *, sharding):
    (x,), (d,) = args, dims
    if isinstance(sharding, NamedSharding):
        ndim = _ad.aval_of(x).ndim - 1
        entries = list(sharding.spec) + [None] * (ndim - len(sharding.spec))
        entries.insert(d, None)
        sharding = NamedSharding(sharding.mesh, PartitionSpec(*entries))
        return sharding_constraint_p.bind(x, sharding=sharding), d
    return x, d  # other shardings name whole-array layouts: drop the constraint under vmap


sharding_constraint_p.impl = _impl
sharding_constraint_p.lowering = _lowering
sharding_constraint_p.batch = _batch
_ad.deflinear(sharding_constraint_p, lambda ct, x, *, sharding: [
    sharding_constraint_p.bind(_ad.instantiate(ct), sharding=sharding)])


def with_sharding_constraint(x, shardings):
    """Constrain the layout of ``x`` (a pytree) inside a jitted function to ``shardings`` (a
    Sharding, a PartitionSpec over the current mesh, or a pytree prefix of ``x`` of those).
    Outside ``jit`` it lays the arrays out as asked (like ``device_put``).

    Example::

        >>> @jaxel.jit
        ... def f(x):
        ...     y = x @ x.T
        ...     return jaxel.lax.with_sharding_constraint(y, NamedSharding(mesh, P('x')))
    """
    if is_target_leaf(shardings):
        targets = [shardings] * len(tree_util.tree_leaves(x))
    else:
        targets = tree_util.broadcast_prefix_leaves(
            shardings, x, "with_sharding_constraint", "shardings", "x", is_leaf=is_target_leaf)
    leaves, treedef = tree_util.tree_flatten(x)
    out = []
    for leaf, t in zip(leaves, targets):
        if t is None:
            out.append(leaf)
            continue
        t = as_target(t, "with_sharding_constraint")
        if not isinstance(t, Sharding):
            from jaxel.sharding.shardings import single_device_sharding
            t = single_device_sharding(t)
        from jaxel.numpy import asarray
        out.append(sharding_constraint_p.bind(asarray(leaf) if not hasattr(leaf, "aval")
                                              else leaf, sharding=t))
    return tree_util.tree_unflatten(treedef, out)
