"""Primitives that exist for differentiation: ``stop_gradient``.

``stop_gradient_p`` is the identity on values whose tangent is always zero. It stays visible
in jaxprs (as in JAX) so a reader of a staged program sees where gradients are cut.
"""
from __future__ import annotations

from jaxel import tree_util
from jaxel.tracing.core import Primitive
from jaxel.transforms import ad_util as _ad

stop_gradient_p = Primitive("stop_gradient")
stop_gradient_p.abstract_eval = lambda x: x
stop_gradient_p.lowering = lambda ctx, x: x


def _impl(x):
    from jaxel.tracing.eval_trace import to_device_array
    return to_device_array(x)


stop_gradient_p.impl = _impl
_ad.defjvp_zero(stop_gradient_p)


def stop_gradient(x):
    """The identity on every leaf of ``x``, with zero derivative: gradients do not flow
    through it.

    Example::

        >>> jaxel.grad(lambda x: x * lax.stop_gradient(x))(3.0)
        Array(3., dtype=float32, weak_type=True)
    """
    def stop(leaf):
        dt = _ad.aval_of(leaf).dtype
        if not _ad.is_differentiable_dtype(dt):
            return leaf  # integers have no tangent to stop (JAX returns them as they are)
        return stop_gradient_p.bind(leaf)
    return tree_util.tree_map(stop, x)


__all__ = ["stop_gradient", "stop_gradient_p"]

from jaxel.transforms import batching as _batching  # noqa: E402

_batching.defvectorized(stop_gradient_p)
