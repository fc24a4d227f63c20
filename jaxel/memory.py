"""Memory spaces (``jax.memory``): where an array's buffers live on its devices.

jaxel places arrays in device memory only; ``Space`` names the spaces JAX knows so that code
written against them reads the same.
"""
import enum


class Space(enum.Enum):
    """A memory space: ``Device`` (the default), ``Host`` (pinned host memory), ``Any``."""

    Device = enum.auto()
    Host = enum.auto()
    Any = enum.auto()

    def __repr__(self):
        return f"MemorySpace.{self.name}"
