"""``jaxel.ops``: segment reductions (``segment_sum``, ``segment_max``, ``segment_min``,
``segment_prod``), as in ``jax.ops``."""
from jaxel.ops.segment import segment_max, segment_min, segment_prod, segment_sum  # noqa: F401

__all__ = ["segment_sum", "segment_max", "segment_min", "segment_prod"]
