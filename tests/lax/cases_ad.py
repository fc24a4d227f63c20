"""Reference cases for the differentiation primitives (jaxel/lax/ad_ops.py)."""
from __future__ import annotations

import numpy as np

from jaxel import lax
from tests.lax.case import Arg, Case, FLOATS, SHAPES

CASES = {
    "stop_gradient": [Case(f"stop_gradient-{np.dtype(dt).name}-{shape}", lax.stop_gradient,
                           lambda x: x, [Arg(shape, dt)])
                      for dt in FLOATS for shape in SHAPES],
}
