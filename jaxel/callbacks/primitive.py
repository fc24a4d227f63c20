"""The host-callback primitives: ``pure_callback``, ``io_callback`` and ``debug_callback``.

All three share one set of rules; they differ in their effect:

* ``pure_callback``: no effect; DCE may drop it, vmap follows ``vmap_method``, no JVP.
* ``io_callback``: effectful (kept by DCE); ``ordered=True`` chains it after the previous ordered
  callback of the same region through a token (see ``_lowering_for``); no JVP; vmap calls it
  once per example unless ordered (then an error, as in JAX).
* ``debug_callback``: effectful, no results; JVP calls it on the primal values (so prints happen
  in the forward pass of ``grad``); vmap calls it once per example.

Params: ``callback`` (a ``HostFunction``), ``result_avals`` (tuple), ``vmap_method`` (pure only)
and ``ordered``. Eagerly the callback runs in Python on the arguments; compiled, the program calls
it through ``jaxel/runtime/host_callbacks.py`` with NumPy arrays.
"""
from __future__ import annotations

import numpy as np

from jaxel.jaxpr.dce import effectful_primitives
from jaxel.tracing.avals import ShapedArray
from jaxel.tracing.core import Primitive
from jaxel.transforms import batching as _batching

pure_callback_p = Primitive("pure_callback", multiple_results=True)
io_callback_p = Primitive("io_callback", multiple_results=True)
debug_callback_p = Primitive("debug_callback", multiple_results=True)
effectful_primitives.add(io_callback_p)
effectful_primitives.add(debug_callback_p)

_VMAP_METHODS = ("sequential", "sequential_unrolled", "expand_dims", "broadcast_all",
                 "legacy_vectorized")


class HostFunction:
    """A user function called with flat arrays: unflattens them to the user's argument
    structure, calls, and returns the flat results checked against ``result_avals``.

    Hashes by identity: each traced call site gets its own (the compile cache keys programs by
    the callback ids written into them).
    """

    def __init__(self, fn, in_tree, result_avals, result_tree, api: str):
        self.fn = fn
        self.in_tree = in_tree
        self.result_avals = tuple(result_avals)
        self.result_tree = result_tree
        self.api = api
        self.name = getattr(fn, "__qualname__", None) or repr(fn)
        self._hosts: dict = {}

    def __repr__(self):
        return f"{self.api}({self.name})"

    def call(self, flat_args, result_avals):
        """Call the user function; returns the flat NumPy results, checked against
        ``result_avals`` (those of the equation: batched ones under vmap)."""
        from jaxel import tree_util
        args, kwargs = tree_util.tree_unflatten(self.in_tree, list(flat_args))
        out = self.fn(*args, **kwargs)
        if self.result_tree is None:  # debug callbacks: results ignored
            return ()
        leaves = tree_util.tree_leaves(out)
        if len(leaves) != len(result_avals):
            raise RuntimeError(
                f"{self.api} callback {self.name} returned {len(leaves)} values where "
                f"result_shape_dtypes describes {len(result_avals)}.")
        res = []
        for i, (v, a) in enumerate(zip(leaves, result_avals)):
            v = np.asarray(v)
            if v.shape != a.shape:
                raise RuntimeError(
                    f"{self.api} callback {self.name}: incorrect output shape for return value "
                    f"#{i}: expected {a.shape}, got {v.shape}.")
            if v.dtype != a.dtype:
                raise RuntimeError(
                    f"{self.api} callback {self.name}: incorrect output dtype for return value "
                    f"#{i}: expected {a.dtype}, got {v.dtype}.")
            res.append(v)
        return tuple(res)

    def host(self, ordered: bool, result_avals):
        """The function XLA calls (NumPy arrays in and out; a leading token when ordered).

        One per (callback, ordered), so re-lowering a program yields the same text (and hits
        the compile cache)."""
        key = (ordered, result_avals)
        run = self._hosts.get(key)
        if run is None:
            run = self._hosts[key] = self._make_host(ordered, result_avals)
        return run

    def _make_host(self, ordered: bool, result_avals):
        from jaxel.runtime import host_callbacks

        def run(*args):
            try:
                if ordered:
                    return (args[0], *self.call(args[1:], result_avals))
                return self.call(args, result_avals)
            except BaseException as exc:
                host_callbacks.record_error(exc, repr(self))
                raise

        return run


def _abstract_eval(*avals, callback, result_avals, **_):
    return list(result_avals)


def _impl(*args, callback, result_avals, **_):
    from jaxel.tracing.eval_trace import to_device_array
    # The callback sees Arrays eagerly, as in JAX (Python scalars included).
    try:
        outs = callback.call([to_device_array(a) for a in args], result_avals)
    except Exception as exc:
        exc.add_note(f"(raised by the host callback {callback!r})")
        raise
    return [to_device_array(np.asarray(o, a.dtype)) for o, a in zip(outs, result_avals)]


def _mlir_type(aval):
    from jaxel.lowering.emitter import tensor_type
    return tensor_type(aval)


def _lowering_for(prim):
    side_effect = prim is not pure_callback_p

    def lowering(ctx, *args, callback, result_avals, ordered=False, **_):
        from jaxel.runtime import host_callbacks
        e = ctx.e
        # The host function's id, written where XLA wants the index into the executable's
        # host_callbacks (the runtime renumbers them; see runtime/host_callbacks.py).
        cid = host_callbacks.register(callback.host(ordered, tuple(result_avals)))
        out_types = [_mlir_type(a) for a in result_avals]
        attrs = (f'call_target_name = "{host_callbacks.TARGET}", api_version = 4 : i32, '
                 f'backend_config = {{index = {cid} : ui64}}')
        if side_effect:
            attrs += ", has_side_effect = true"
        if not ordered:
            return e.op("stablehlo.custom_call", list(args), out_types, attrs)
        # Ordered: this region's token threads through its ordered callbacks in program order.
        tokens = getattr(e, "_callback_tokens", None)
        if tokens is None:
            tokens = e._callback_tokens = {}
        held = tokens.get(id(e.lines))
        if held is None or held[0] is not e.lines:
            tok = e.op1("stablehlo.create_token", [], "!stablehlo.token")
        else:
            tok = held[1]
        outs = e.op("stablehlo.custom_call", [tok, *args], ["!stablehlo.token", *out_types],
                    attrs)
        tokens[id(e.lines)] = (e.lines, outs[0])  # holding the list keeps its id unique
        return outs[1:]

    return lowering


# ---- vmap --------------------------------------------------------------------------------------
class PerExample(HostFunction):
    """``inner`` called once per example of a batch, in order, on the host: the batching rule
    of sequential callbacks. One custom call runs the whole loop, so the program stays small
    whatever the batch size; results are stacked along a new leading axis."""

    def __init__(self, inner, dims, size):
        self.inner, self.dims, self.size = inner, tuple(dims), size
        self.fn, self.in_tree = inner.fn, inner.in_tree
        self.result_tree, self.api, self.name = inner.result_tree, inner.api, inner.name
        self._hosts = {}

    def __repr__(self):
        return repr(self.inner)

    def call(self, flat_args, result_avals):
        inner_avals = tuple(ShapedArray(a.shape[1:], a.dtype, a.weak_type)
                            for a in result_avals)
        outs = []
        for i in range(self.size):
            ex = [x if d is None else _example(x, d, i) for x, d in zip(flat_args, self.dims)]
            outs.append(self.inner.call(ex, inner_avals))
        return tuple(np.stack([o[j] for o in outs]) for j in range(len(result_avals)))


def _example(x, d, i):
    v = x[(slice(None),) * d + (i,)]
    # NumPy indexing yields a scalar for 0-d results; unbatched callbacks get 0-d arrays.
    return np.asarray(v) if isinstance(v, np.generic) else v


def _per_example(prim, args, dims, params, size):
    """The callback once per example, in order (the loop runs on the host)."""
    avals = tuple(ShapedArray((size, *a.shape), a.dtype, a.weak_type)
                  for a in params["result_avals"])
    fn = PerExample(params["callback"], dims, size)
    out = prim.bind(*args, **dict(params, callback=fn, result_avals=avals))
    return out, [0] * len(out)


def _vectorized(args, dims, params, size, method):
    """One call on the whole batch, for the vectorising ``vmap_method``s."""
    from jaxel.lax.shape_ops import expand_dims
    new = []
    for x, d in zip(args, dims):
        if d is not None:
            new.append(_batching.move_axis(x, d, 0))
        elif method == "expand_dims":
            new.append(expand_dims(x, (0,)))
        elif method == "broadcast_all":
            new.append(_batching.broadcast_batched(x, size, 0))
        else:  # legacy_vectorized: unbatched operands stay as they are
            new.append(x)
    avals = tuple(ShapedArray((size, *a.shape), a.dtype, a.weak_type)
                  for a in params["result_avals"])
    out = pure_callback_p.bind(*new, **dict(params, result_avals=avals))
    return out, [0] * len(out)


def _pure_batch(args, dims, *, vmap_method=None, **params):
    params = dict(params, vmap_method=vmap_method)
    size = _batching.batch_size_of(args, dims)
    if vmap_method in ("sequential", "sequential_unrolled"):
        return _per_example(pure_callback_p, args, dims, params, size)
    if vmap_method in ("expand_dims", "broadcast_all", "legacy_vectorized"):
        return _vectorized(args, dims, params, size, vmap_method)
    raise NotImplementedError(
        "vmap is only supported for the pure_callback primitive when vmap_method is one of "
        "'sequential', 'sequential_unrolled', 'expand_dims', 'broadcast_all', or "
        f"'legacy_vectorized'. Got vmap_method={vmap_method!r}.")


def _io_batch(args, dims, **params):
    if params.get("ordered"):
        raise ValueError("Cannot `vmap` ordered IO callback.")
    return _per_example(io_callback_p, args, dims, params, _batching.batch_size_of(args, dims))


def _debug_batch(args, dims, **params):
    return _per_example(debug_callback_p, args, dims, params,
                        _batching.batch_size_of(args, dims))


# ---- differentiation ---------------------------------------------------------------------------
def _no_jvp(message):
    def jvp(primals, tangents, **params):
        raise ValueError(message)
    return jvp


def _debug_jvp(primals, tangents, **params):
    # The callback sees the primal values; it has no outputs, so no tangents.
    return debug_callback_p.bind(*primals, **params), []


for _p in (pure_callback_p, io_callback_p, debug_callback_p):
    _p.abstract_eval = _abstract_eval
    _p.impl = _impl
    _p.lowering = _lowering_for(_p)
pure_callback_p.batch = _pure_batch
io_callback_p.batch = _io_batch
debug_callback_p.batch = _debug_batch
pure_callback_p.jvp = _no_jvp("Pure callbacks do not support JVP. Please use `jax.custom_jvp` to "
                              "use callbacks while taking gradients.")
io_callback_p.jvp = _no_jvp("IO callbacks do not support JVP.")
debug_callback_p.jvp = _debug_jvp
