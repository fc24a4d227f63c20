"""Structured control flow: ``cond``/``switch`` (cond.py), ``while_loop``/``fori_loop``
(while_loop.py), ``scan``/``map``/``associative_scan`` (scan.py), ``custom_linear_solve``
(linear_solve.py) and ``custom_root`` (custom_root.py, a custom_jvp over custom_linear_solve).

Each is a higher-order primitive carrying closed jaxprs, with every rule in its module:
abstract evaluation, lowering (``stablehlo.case``/``stablehlo.while``), JVP, partial evaluation,
transposition where linear, and batching. Shared tracing and type checks: common.py.
"""
from jaxel.lax.control_flow.cond import *  # noqa: F401,F403
from jaxel.lax.control_flow.while_loop import *  # noqa: F401,F403
from jaxel.lax.control_flow.scan import *  # noqa: F401,F403
from jaxel.lax.control_flow.linear_solve import *  # noqa: F401,F403
from jaxel.lax.control_flow.custom_root import *  # noqa: F401,F403
