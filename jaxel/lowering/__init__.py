"""Lowering: jaxprs to StableHLO MLIR text (the one seam to the XLA runtime)."""
from jaxel.lowering.emitter import Emitter, tensor_type  # noqa: F401
from jaxel.lowering.lower import lower_jaxpr_to_module, LoweringContext  # noqa: F401
