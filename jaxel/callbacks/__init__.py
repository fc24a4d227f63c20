"""Host callbacks: ``pure_callback`` and ``io_callback`` (``jax.pure_callback``,
``jax.experimental.io_callback``). The primitives and their rules are in ``primitive.py``."""
from __future__ import annotations

import numpy as np

from jaxel.callbacks.primitive import (  # noqa: F401
    HostFunction, debug_callback_p, io_callback_p, pure_callback_p, _VMAP_METHODS,
)


def _result_avals(result_shape_dtypes):
    """Flat result avals (dtypes canonical for the x64 setting) and their tree."""
    from jaxel import dtypes, tree_util
    from jaxel.tracing.avals import ShapedArray
    leaves, tree = tree_util.tree_flatten(result_shape_dtypes)
    avals = []
    for leaf in leaves:
        try:
            shape, dtype = tuple(leaf.shape), leaf.dtype
        except AttributeError:
            raise TypeError("result_shape_dtypes must be a pytree of objects with .shape and "
                            f".dtype (e.g. jaxel.ShapeDtypeStruct), got {leaf!r}.") from None
        avals.append(ShapedArray(shape, dtypes.canonicalize_dtype(np.dtype(dtype)), False))
    return avals, tree


def _bind(prim, api, callback, result_shape_dtypes, args, kwargs, **params):
    from jaxel import tree_util
    flat, in_tree = tree_util.tree_flatten((args, kwargs))
    if result_shape_dtypes is None:
        avals, out_tree = [], None
    else:
        avals, out_tree = _result_avals(result_shape_dtypes)
    fn = HostFunction(callback, in_tree, avals, out_tree, api)
    outs = prim.bind(*flat, callback=fn, result_avals=tuple(avals), **params)
    return None if out_tree is None else tree_util.tree_unflatten(out_tree, list(outs))


def pure_callback(callback, result_shape_dtypes, *args, sharding=None, vmap_method=None,
                  **kwargs):
    """Call the Python function ``callback`` on the host from (possibly traced) code.

    ``callback(*args, **kwargs)`` receives NumPy arrays (jaxel Arrays when called eagerly) and
    must return arrays matching ``result_shape_dtypes`` (a pytree of ``ShapeDtypeStruct``).
    The function must be pure: the compiler may drop or repeat the call. Under ``vmap``,
    ``vmap_method`` chooses: "sequential" (one call per example), "expand_dims" (one call;
    unbatched arguments get a leading size-1 axis), "broadcast_all" (they are broadcast to the
    batch size), "legacy_vectorized" (they stay as they are). Not differentiable: wrap it in
    ``custom_jvp``/``custom_vjp``.

    Example::

        >>> f = lambda x: pure_callback(np.sin, ShapeDtypeStruct(x.shape, x.dtype), x)
        >>> jit(f)(jnp.zeros(2))
        Array([0., 0.], dtype=float32)
    """
    del sharding  # one-device programs only: the callback runs where the program runs
    if vmap_method is not None and vmap_method not in _VMAP_METHODS:
        raise ValueError(f"vmap_method must be one of {_VMAP_METHODS} or None; got "
                         f"{vmap_method!r}.")
    return _bind(pure_callback_p, "pure_callback", callback, result_shape_dtypes, args, kwargs,
                 vmap_method=vmap_method)


def io_callback(callback, result_shape_dtypes, *args, sharding=None, ordered=False, **kwargs):
    """Call the Python function ``callback`` on the host for its side effects (and results).

    Unlike ``pure_callback`` the call is never dropped; with ``ordered=True`` ordered calls
    happen in program order (also across loop iterations). Not differentiable; under ``vmap``
    it is called once per example (an error when ordered, as in JAX).

    Example::

        >>> seen = []
        >>> def log(x): seen.append(x); return x
        >>> jit(lambda x: io_callback(log, ShapeDtypeStruct((), jnp.float32), x))(1.0)
        Array(1., dtype=float32)
    """
    del sharding
    return _bind(io_callback_p, "io_callback", callback, result_shape_dtypes, args, kwargs,
                 ordered=bool(ordered))


__all__ = ["pure_callback", "io_callback"]
