"""``device_put_p``: ``device_put`` of traced values, as one equation of the jaxpr (JAX's
``device_put`` primitive).

Its operands are the leaves put; its params are one target per leaf (``devices``: None, a
Device or a Sharding), where each came from (``srcs``) and how it may be copied
(``copy_semantics``). It is the identity on values, so it is linear, and it batches by putting
the batched value. Lowered into a one-device program it is nothing (the program's result
placement decides); into a partitioned program a Sharding target becomes an
``sdy.sharding_constraint``, as ``with_sharding_constraint``. Eagerly it is
``jaxel.device_put`` of each operand.
"""
from __future__ import annotations

import enum

from jaxel.sharding.shardings import NamedSharding, Sharding
from jaxel.sharding.spec import PartitionSpec
from jaxel.tracing.core import Primitive
from jaxel.transforms import ad_util as _ad


class ArrayCopySemantics(enum.Enum):
    """Whether ``device_put`` may return its input (``REUSE_INPUT``), must copy it
    (``ALWAYS_COPY``) or may take over its buffer (``DONATE_INPUT``)."""
    ALWAYS_COPY = 0
    REUSE_INPUT = 1
    DONATE_INPUT = 2

    def __repr__(self):  # as JAX prints it in a jaxpr
        return f"ArrayCopySemantics.{self.name}"


device_put_p = Primitive("device_put", multiple_results=True)
device_put_p.abstract_eval = lambda *xs, devices, srcs, copy_semantics: list(xs)


def _impl(*xs, devices, srcs, copy_semantics):
    from jaxel.device import device_put
    return [device_put(x, d) for x, d in zip(xs, devices)]


def _lowering(ctx, *xs, devices, srcs, copy_semantics):
    module = ctx.module
    if module is None or module.devices is None:
        return list(xs)  # a one-device program: every placement is the same
    outs = []
    for x, d, aval in zip(xs, devices, ctx.avals_in):
        if isinstance(d, Sharding) and len(d.device_set) > 1:
            attr = module.sdy_sharding(d, aval.ndim)
            x = ctx.e.op1("sdy.sharding_constraint", [x], ctx.e.types[x], f"sharding = {attr}")
        outs.append(x)
    return outs


def _batched_target(d, ndim, bdim):
    """A NamedSharding target of a per-example value, with the batch dimension left unsplit."""
    if not isinstance(d, NamedSharding):
        return d
    entries = list(d.spec) + [None] * (ndim - len(d.spec))
    entries.insert(bdim, None)
    return NamedSharding(d.mesh, PartitionSpec(*entries))


def _batch(args, dims, *, devices, srcs, copy_semantics):
    devices = tuple(d if b is None else _batched_target(d, _ad.aval_of(x).ndim - 1, b)
                    for x, b, d in zip(args, dims, devices))
    outs = device_put_p.bind(*args, devices=devices, srcs=srcs, copy_semantics=copy_semantics)
    return outs, list(dims)


def _transpose(cts, *xs, devices, srcs, copy_semantics):
    """Cotangents go back where the values came from (``srcs``), always copied (as JAX)."""
    out = [None] * len(xs)
    live = []
    for i, (ct, x) in enumerate(zip(cts, xs)):
        if not _ad.is_undefined(x):
            continue
        if type(ct) is _ad.Zero:
            out[i] = ct
        else:
            live.append(i)
    if any(copy_semantics[i] is ArrayCopySemantics.DONATE_INPUT for i in live):
        raise ValueError("device_put: donate=True is not allowed when transposing device_put.")
    if live:
        ys = device_put_p.bind(*[cts[i] for i in live], devices=tuple(srcs[i] for i in live),
                               srcs=tuple(devices[i] for i in live),
                               copy_semantics=(ArrayCopySemantics.ALWAYS_COPY,) * len(live))
        for i, y in zip(live, ys):
            out[i] = y
    return out


device_put_p.impl = _impl
device_put_p.lowering = _lowering
device_put_p.batch = _batch
_ad.deflinear(device_put_p, _transpose)


def _copy_semantics(donate, may_alias):
    """JAX's choice: alias unless donating or asked not to (``may_alias=None`` means
    ``not donate``)."""
    if may_alias and donate:
        raise ValueError("may_alias and donate cannot be True at the same time.")
    if may_alias is None:
        may_alias = not donate
    if may_alias:
        return ArrayCopySemantics.REUSE_INPUT
    return ArrayCopySemantics.DONATE_INPUT if donate else ArrayCopySemantics.ALWAYS_COPY


def bind_device_put(leaves, targets, srcs, donates, may_aliases):
    """``device_put_p`` applied to ``leaves`` (one target, source, donate and may_alias flag
    per leaf); returns the results."""
    from jaxel.numpy import asarray
    leaves = [x if hasattr(x, "aval") else asarray(x) for x in leaves]
    return device_put_p.bind(*leaves, devices=tuple(targets), srcs=tuple(srcs),
                             copy_semantics=tuple(_copy_semantics(d, m)
                                                  for d, m in zip(donates, may_aliases)))


__all__ = ["device_put_p", "ArrayCopySemantics", "bind_device_put"]
