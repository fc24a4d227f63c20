"""The jaxpr IR: typed equations over variables, staged out of traced Python functions."""
from jaxel.jaxpr.ir import Var, JaxprEqn, Jaxpr, ClosedJaxpr, check_jaxpr  # noqa: F401
from jaxel.jaxpr.staging import trace_to_jaxpr, JaxprTrace  # noqa: F401
from jaxel.jaxpr.eval import eval_jaxpr  # noqa: F401
from jaxel.jaxpr.dce import dce_jaxpr  # noqa: F401
