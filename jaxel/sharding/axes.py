"""Axis-type switches and small types of ``jax.sharding`` (``auto_axes``, ``explicit_axes``,
``AbstractDevice``, ``ManualAxisType``, ``UnreducedKind``, ``no_collectives``).

jaxel lets XLA propagate shardings for Auto and Explicit axes alike, so switching an axis's
type changes no layout rule; what the switches promise about layouts is kept: ``auto_axes``
lays its results out as ``out_sharding``, ``explicit_axes`` its arguments as ``in_sharding``.
"""
from __future__ import annotations

import contextlib
import dataclasses
import enum
import functools


@dataclasses.dataclass(frozen=True)
class AbstractDevice:
    """A device described without being one (kind, cores, platform)."""

    device_kind: str
    num_cores: int | None
    platform: str


class UnreducedKind(enum.Enum):
    """How an unreduced value will be reduced (partial sums, maxima, ...)."""

    Sum = enum.auto()
    Max = enum.auto()
    Min = enum.auto()


@dataclasses.dataclass(frozen=True)
class ManualAxisType:
    """How values vary over manual mesh axes inside ``shard_map``."""

    varying: frozenset = frozenset()
    unreduced: frozenset = frozenset()
    reduced: frozenset = frozenset()
    unreduced_kind: UnreducedKind | None = None


def auto_axes(f=None, /, *, axes=None, out_sharding=None):
    """Run ``f`` with mesh ``axes`` treated as Auto; its results are laid out as
    ``out_sharding`` (required, as in JAX)."""
    if f is None:
        return functools.partial(auto_axes, axes=axes, out_sharding=out_sharding)
    if out_sharding is None:
        raise TypeError("auto_axes: out_sharding is required.")

    @functools.wraps(f)
    def wrapped(*args, **kwargs):
        from jaxel.sharding.api import reshard
        return reshard(f(*args, **kwargs), out_sharding)
    return wrapped


def explicit_axes(f=None, /, *, axes=None, in_sharding=None):
    """Run ``f`` with mesh ``axes`` treated as Explicit, its arguments laid out as
    ``in_sharding`` first."""
    if f is None:
        return functools.partial(explicit_axes, axes=axes, in_sharding=in_sharding)

    @functools.wraps(f)
    def wrapped(*args, **kwargs):
        if in_sharding is not None:
            from jaxel.sharding.api import reshard
            args = reshard(args, in_sharding if not isinstance(in_sharding, list)
                           else tuple(in_sharding))
        return f(*args, **kwargs)
    return wrapped


@contextlib.contextmanager
def no_collectives(new_val=True):
    """Forbid collectives over the given Explicit mesh axes (JAX's ``jax_no_collectives``);
    jaxel has no Explicit-mode collectives to forbid, so this only scopes the setting."""
    yield
