"""Public transformations: ``jit``, ``make_jaxpr``, ``eval_shape`` (thin pytree wrappers).

``jit`` keeps a per-function cache keyed by (argument tree structure, leaf avals including weak
types, static argument values). A hit at top level goes straight to the executable: flatten,
one dict lookup, execute, wrap results. Under another transformation the call binds ``jit_p``
with the traced jaxpr, so transformations compose with jit.
"""
from __future__ import annotations

from jaxel.runtime import host_callbacks as _host_callbacks

import contextlib
import functools
import weakref
import inspect
import logging

import numpy as np

from jaxel import dtypes as _dtypes
from jaxel.config import config
from jaxel.jaxpr.dce import dce_closed_jaxpr
from jaxel.jaxpr.ir import ClosedJaxpr
from jaxel.jaxpr.staging import DebugInfo, split_tracer_consts, trace_to_jaxpr
from jaxel.jit_primitive import CompiledJaxpr, closure_convert, deleted_argument_error, jit_p
from jaxel.runtime.array import Array
from jaxel.tracing.avals import ShapedArray
from jaxel.tracing.core import Tracer, _state, abstractify
from jaxel.tracing.eval_trace import eval_trace, to_device_array
from jaxel.transforms.batching import AxisData, _axis_env, axis_env_key, extend_axis_env
from jaxel.tree_util import (tree_flatten, tree_flatten_with_path, tree_map, tree_unflatten,
                             keystr)

logger = logging.getLogger("jaxel")


class ShapeDtypeStruct:
    """A shape and dtype standing in for an array (``jax.ShapeDtypeStruct``).

    Example::

        >>> jaxel.eval_shape(jnp.sin, ShapeDtypeStruct((3,), jnp.float32))
        ShapeDtypeStruct(shape=(3,), dtype=float32)
    """

    __slots__ = ("shape", "dtype", "sharding", "weak_type")

    def __init__(self, shape, dtype, sharding=None, weak_type=False):
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.sharding = sharding
        self.weak_type = weak_type

    @classmethod
    def like(cls, x) -> "ShapeDtypeStruct":
        """The shape, dtype and weak type of ``x`` (an array, a tracer, a NumPy value, a Python
        scalar or another ShapeDtypeStruct); its sharding when ``x`` is committed to a device.

        Example::

            >>> ShapeDtypeStruct.like(jnp.ones((2, 3)))
            ShapeDtypeStruct(shape=(2, 3), dtype=float32)
        """
        if isinstance(x, ShapeDtypeStruct):
            return cls(x.shape, x.dtype, sharding=x.sharding, weak_type=x.weak_type)
        aval = getattr(x, "aval", None)
        if aval is None:
            try:
                aval = abstractify(x)
            except TypeError:
                if not (hasattr(x, "shape") and hasattr(x, "dtype")):
                    raise TypeError(f"ShapeDtypeStruct.like: cannot interpret a value of type "
                                    f"{type(x).__name__} as an array; it has no dtype.") from None
                # Anything with a shape and a dtype (as JAX: the dtype canonicalized).
                aval = ShapedArray(tuple(x.shape), _dtypes.canonicalize_dtype(x.dtype),
                                   bool(getattr(x, "weak_type", False)))
        # Like JAX: an uncommitted array (placed by default) gives no sharding.
        sharding = x.sharding if getattr(x, "committed", False) else None
        return cls(aval.shape, aval.dtype, sharding=sharding, weak_type=aval.weak_type)

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return int(np.prod(self.shape))

    @property
    def aval(self) -> ShapedArray:
        return ShapedArray(self.shape, _dtypes.canonicalize_dtype(self.dtype), self.weak_type)

    def __repr__(self):
        weak = ", weak_type=True" if self.weak_type else ""
        return f"ShapeDtypeStruct(shape={self.shape}, dtype={self.dtype.name}{weak})"

    def __eq__(self, other):
        return (isinstance(other, ShapeDtypeStruct) and self.shape == other.shape
                and self.dtype == other.dtype and self.weak_type == other.weak_type)

    def __hash__(self):
        return hash((self.shape, self.dtype, self.weak_type))


def _leaf_aval(x, path_name=None) -> ShapedArray:
    aval = getattr(x, "aval", None)
    if aval is not None:
        return aval
    try:
        return abstractify(x)
    except TypeError:
        where = f" for argument {path_name}" if path_name else ""
        raise TypeError(f"Argument{where} of type {type(x).__name__} is not a valid jaxel type: "
                        f"{x!r}. Pass arrays, NumPy arrays or Python scalars, or mark the "
                        "argument static (static_argnums / static_argnames).") from None


# ---- argument handling ------------------------------------------------------------------------

def _resolve_argnums(fun, argnums, argnames):
    """Make static/donate argnums and argnames consistent using ``fun``'s signature."""
    argnums = (argnums,) if isinstance(argnums, int) else tuple(argnums or ())
    argnames = (argnames,) if isinstance(argnames, str) else tuple(argnames or ())
    try:
        sig = inspect.signature(fun)
    except (TypeError, ValueError):
        return argnums, argnames, None
    params = list(sig.parameters.values())
    positional = [p.name for p in params
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    nums, names = set(argnums), set(argnames)
    for n in argnums:
        if -len(positional) <= n < len(positional) and params[n % len(positional)].kind != \
                inspect.Parameter.POSITIONAL_ONLY:
            names.add(positional[n % len(positional)])
    for name in argnames:
        if name in positional:
            nums.add(positional.index(name))
    return tuple(sorted(nums)), tuple(sorted(names)), sig


class _Signature:
    """Splits a call into dynamic leaves and static values, once per distinct call shape."""

    def __init__(self, fun, static_argnums, static_argnames):
        self.static_argnums, self.static_argnames, self.sig = _resolve_argnums(
            fun, static_argnums, static_argnames)
        self.has_static = bool(self.static_argnums or self.static_argnames)

    def split(self, args, kwargs):
        """Return ``(dyn_args, dyn_kwargs, statics)``; statics is a hashable tuple."""
        if not self.has_static:
            return args, kwargs, ()
        nargs = len(args)
        snums = {i % nargs if -nargs <= i < nargs else i for i in self.static_argnums}
        dyn_args = tuple(a for i, a in enumerate(args) if i not in snums)
        statics = tuple((i, _check_static(args[i], f"argument {i}")) for i in sorted(snums)
                        if i < nargs)
        dyn_kwargs = {k: v for k, v in kwargs.items() if k not in self.static_argnames}
        statics += tuple((k, _check_static(kwargs[k], repr(k))) for k in sorted(kwargs)
                         if k in self.static_argnames)
        return dyn_args, dyn_kwargs, statics

    def merge(self, dyn_args, dyn_kwargs, statics):
        """Rebuild the full call from dynamic parts and statics."""
        args = list(dyn_args)
        kwargs = dict(dyn_kwargs)
        for k, v in statics:
            if isinstance(k, int):
                args.insert(k, v)
            else:
                kwargs[k] = v
        return args, kwargs

    def arg_names(self, dyn_args, dyn_kwargs):
        """Human names for each dynamic leaf, e.g. ``x``, ``params['w']``."""
        names = []
        pos_names = []
        if self.sig is not None:
            pos_names = [p.name for p in self.sig.parameters.values()
                         if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
            dyn_pos = [n for i, n in enumerate(pos_names) if i not in set(self.static_argnums)]
        else:
            dyn_pos = []
        for i, a in enumerate(dyn_args):
            base = dyn_pos[i] if i < len(dyn_pos) else f"args[{i}]"
            for path, _ in tree_flatten_with_path(a)[0]:
                names.append(base + keystr(path))
        for k in sorted(dyn_kwargs):
            for path, _ in tree_flatten_with_path(dyn_kwargs[k])[0]:
                names.append(k + keystr(path))
        return names


def _check_static(value, where):
    try:
        hash(value)
    except TypeError as e:
        raise ValueError(
            f"Non-hashable static arguments are not supported: the static {where} is a "
            f"{type(value).__name__} ({value!r:.100}), which cannot be hashed ({e}). Pass a "
            "hashable value (a tuple instead of a list, a frozen dataclass), or make the "
            "argument dynamic (not static).") from None
    return value


# ---- jit ---------------------------------------------------------------------------------------

class _JitEntry:
    """What one cache entry of a jitted function holds: the traced jaxpr and, once run at top
    level, its executable."""

    __slots__ = ("closed", "out_tree", "out_avals", "kept", "compiled", "bound", "bound_consts",
                 "donated", "partitioned", "programs", "user_shardings")

    def __init__(self, closed, out_tree, kept, donated):
        self.closed = closed
        self.out_tree = out_tree
        self.out_avals = closed.out_avals
        self.kept = kept
        self.compiled = None
        self.bound = None
        self.bound_consts = None
        self.donated = donated
        # Partitioned over devices even for one-device arguments: the program itself names a
        # mesh (a sharding constraint, a shard_map).
        from jaxel.sharding.program import jaxpr_mesh
        self.partitioned = jaxpr_mesh(closed) is not None
        self.programs = None  # (in shardings, out shardings) -> SpmdProgram
        self.user_shardings = None  # in/out_shardings flattened for this entry's structure


class _FastCall:
    """The call path for positional-Array calls whose avals were seen before.

    Returns None (fall back to the general path) when an argument is not a plain Array on the
    default device.
    """

    __slots__ = ("exe", "out_avals", "out_tree", "const_bufs", "kept", "single", "handlers",
                 "aval0", "in_avals")

    def __init__(self, entry):
        c = entry.compiled
        self.exe = c.exe
        self.handlers = c.handlers
        self.aval0 = c.out_avals[0] if c.out_avals else None
        self.out_avals = c.out_avals
        self.out_tree = entry.out_tree
        self.const_bufs = c.const_bufs
        self.in_avals = c.in_avals
        self.kept = entry.kept
        from jaxel.tree_util import treedef_is_leaf
        self.single = len(self.out_avals) == 1 and treedef_is_leaf(entry.out_tree)

    def __call__(self, args):
        bufs = []
        try:
            for i in self.kept:
                a = args[i]
                if a._device is not None:
                    return None
                bufs.append(a._buf)
        except AttributeError:  # not an Array (a tracer that escaped, a scalar...)
            return None
        if self.const_bufs:
            bufs += self.const_bufs
        try:
            outs = self.exe.execute_sharded(bufs).consume_with_handlers(self.handlers)
        except RuntimeError as e:  # no cost unless raised: name a deleted (donated) argument
            _host_callbacks.reraise(e)  # a callback's own exception, if one failed
            err = deleted_argument_error(bufs[:len(self.kept)], self.in_avals)
            if err is None:
                raise
            raise err from None
        if self.single:
            return Array(outs[0], self.aval0, None)
        return tree_unflatten(self.out_tree, [Array(o, a, None)
                                              for o, a in zip(outs, self.out_avals)])


class _PlacedCall:
    """The call path for positional Arrays laid out over devices, with placements and types
    seen before: straight to the partitioned program."""

    __slots__ = ("prog", "kept", "out_tree", "single")

    def __init__(self, prog, entry):
        from jaxel.tree_util import treedef_is_leaf
        self.prog = prog
        self.kept = entry.kept
        self.out_tree = entry.out_tree
        self.single = len(entry.out_avals) == 1 and treedef_is_leaf(entry.out_tree)

    def __call__(self, args):
        outs = self.prog.run([args[i] for i in self.kept])
        return outs[0] if self.single else tree_unflatten(self.out_tree, outs)


# Every live jit wrapper, so that options which change what tracing produces can drop the
# traced programs (``clear_caches``) or switch tables (x64) without a check on the call path.
_all_jitted: "weakref.WeakSet" = weakref.WeakSet()


class _SharedCache:
    """The traced programs of one function under one set of jit options, shared by every
    ``jit(fun, **options)`` wrapper of it, so that ``jit(f)(x)`` in a loop traces once (as in
    JAX). Also holds what is worked out once per function: the argument signature.

    One table pair (traced entries, cached-call entries) per x64 mode: tracing under 64-bit
    types gives other programs, and the wrappers swap tables when the mode changes.
    """

    __slots__ = ("sig", "donate_argnums", "donate_argnames", "tables")

    def __init__(self, fun, static_argnums, static_argnames, donate_argnums, donate_argnames):
        self.sig = _Signature(fun, static_argnums, static_argnames)
        self.donate_argnums, self.donate_argnames, _ = _resolve_argnums(
            fun, donate_argnums, donate_argnames)
        self.tables: dict = {}

    def table(self, x64: bool):
        """``(traced entries, cached-call entries)`` for x64 mode ``x64``."""
        t = self.tables.get(x64)
        if t is None:
            t = self.tables[x64] = ({}, {})
        return t

    def clear(self):
        # In place: live wrappers hold these very dicts.
        for cache, fast in self.tables.values():
            cache.clear()
            fast.clear()


# fun -> {jit options: _SharedCache}. Weak in the function: an entry dies with it (the cached
# programs hold no reference to the function; see DebugInfo.detached).
_shared_caches: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _as_tuple(v):
    if v is None:
        return ()
    if isinstance(v, (int, str)):
        return (v,)
    return tuple(v)


def _shared_cache(fun, options, make) -> _SharedCache:
    """The shared cache of ``fun`` under ``options``; a private one when the function cannot
    be weakly referenced or hashed, or an option cannot be hashed."""
    try:
        per_fun = _shared_caches.get(fun)
        if per_fun is None:
            per_fun = _shared_caches[fun] = {}
        shared = per_fun.get(options)
        if shared is None:
            shared = per_fun[options] = make()
        return shared
    except TypeError:
        return make()


def clear_caches():
    """Forget every traced program, derived derivative program and compiled executable
    (``jax.clear_caches``). The next call of each jitted function traces and compiles again."""
    from jaxel import ad_checkpoint, jit_primitive
    from jaxel.runtime import compile_cache
    for f in list(_all_jitted):
        f.clear_cache()
    for per_fun in list(_shared_caches.values()):
        for shared in per_fun.values():
            shared.clear()
    jit_primitive._derived.clear()
    jit_primitive._compiled_by_jaxpr.clear()
    jit_primitive._partitioned_by_jaxpr.clear()
    ad_checkpoint._derived.clear()
    from jaxel.parallel import primitive as shard_map_primitive
    shard_map_primitive._derived.clear()
    compile_cache.clear_all()


def _switch_x64_tables(x64):
    for f in list(_all_jitted):
        f._cache, f._fast = f._shared.table(bool(x64))


# Tracing depends on this option (it changes the backward pass), so traced programs go stale.
config.add_hook("jax_safe_where_grad", lambda value: clear_caches())
# Tracing depends on the x64 mode (default dtypes): each mode has its own tables.
config.add_hook("jax_enable_x64", _switch_x64_tables)


class JitWrapped:
    """A jitted function: call it like the original; also ``.trace``, ``.lower``,
    ``.eval_shape``, ``._cache_size()``, ``.clear_cache()``.

    Wrappers of the same function with the same options share their traced programs.
    """

    def __init__(self, fun, static_argnums=(), static_argnames=(), donate_argnums=(),
                 donate_argnames=(), keep_unused=False, inline=False, device=None,
                 other_options=(), in_shardings=None, out_shardings=None):
        if not callable(fun):
            raise TypeError(f"jit expects a callable, got {fun!r}.")
        self._fun = fun
        static_argnums, static_argnames = _as_tuple(static_argnums), _as_tuple(static_argnames)
        donate_argnums, donate_argnames = _as_tuple(donate_argnums), _as_tuple(donate_argnames)
        options = (static_argnums, static_argnames, donate_argnums, donate_argnames,
                   bool(keep_unused), bool(inline), device, other_options)
        self._shared = shared = _shared_cache(fun, options, lambda: _SharedCache(
            fun, static_argnums, static_argnames, donate_argnums, donate_argnames))
        self._sig = shared.sig
        self._donate_argnums, self._donate_argnames = shared.donate_argnums, shared.donate_argnames
        self._keep_unused = keep_unused
        self._inline = inline
        self._device = device
        self._in_shardings = in_shardings
        self._out_shardings = out_shardings
        self._sharded = in_shardings is not None or out_shardings is not None
        self._cache, self._fast = shared.table(config.jax_enable_x64)
        self._name = getattr(fun, "__name__", "fun")
        _all_jitted.add(self)
        # updated=(): copying fun.__dict__ would overwrite this object's own caches when fun
        # is itself a wrapper of a jitted function (functools.wraps copies __dict__).
        functools.update_wrapper(self, fun, updated=())

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        return functools.partial(self, obj)

    def __call__(self, *args, **kwargs):
        if not kwargs and _state.trace is eval_trace:
            # Fastest path: positional Arrays only, seen before. The avals tuple is the key.
            try:
                fast = self._fast[tuple([a.aval for a in args])]
            except (KeyError, AttributeError):
                pass
            else:
                out = fast(args)
                if out is not None:
                    return out
            # Arrays placed on devices (sharded, committed): a program found before.
            try:
                placed = self._fast[("placed", *[a._device for a in args],
                                     *[a.aval for a in args])]
            except (KeyError, AttributeError, TypeError):
                pass
            else:
                return placed(args)
        if config.jax_disable_jit:
            return self._fun(*args, **kwargs)
        if kwargs or self._sig.has_static:
            dyn_args, dyn_kwargs, statics = self._sig.split(args, kwargs)
            leaves, treedef = tree_flatten((dyn_args, dyn_kwargs))
        else:
            statics = ()
            leaves, treedef = tree_flatten(args)
        env = _axis_env.stack
        if env:  # traced collectives depend on the named axes around the call
            statics = (statics, axis_env_key())
        try:
            key = (treedef, statics, *[x.aval for x in leaves])
        except AttributeError:
            key = (treedef, statics, *[_leaf_aval(x) for x in leaves])
        entry = self._cache.get(key)
        if entry is None:
            entry = self._cache_miss(key, args, kwargs)
        if _state.trace is eval_trace:
            if self._sharded or entry.partitioned:
                return tree_unflatten(entry.out_tree,
                                      self._run_partitioned(entry, args, kwargs, leaves))
            compiled = entry.compiled
            if compiled is not None:
                bufs = []
                for i in entry.kept:
                    x = leaves[i]
                    if type(x) is not Array or x._device is not None:
                        break
                    bufs.append(x._buf)
                else:
                    if not kwargs and not self._sig.has_static and \
                            all(type(a) is Array for a in args):
                        self._fast[tuple([a.aval for a in args])] = _FastCall(entry)
                    return tree_unflatten(entry.out_tree, compiled.run(bufs))
            return tree_unflatten(entry.out_tree, self._run_eager(entry, leaves))
        return tree_unflatten(entry.out_tree, self._bind(entry, leaves))

    # ---- slow paths --------------------------------------------------------------------
    def _trace(self, args, kwargs):
        """Trace to a ClosedJaxpr; returns ``(closed, in_tree, out_tree, leaves, statics)``."""
        dyn_args, dyn_kwargs, statics = self._sig.split(args, kwargs)
        leaves, in_tree = tree_flatten((dyn_args, dyn_kwargs) if (kwargs or self._sig.has_static)
                                       else dyn_args)
        names = None

        def arg_names():
            nonlocal names
            if names is None:
                names = self._sig.arg_names(dyn_args, dyn_kwargs)
            return names

        in_avals = []
        for i, x in enumerate(leaves):
            if isinstance(x, ShapeDtypeStruct):
                in_avals.append(x.aval)
            else:
                in_avals.append(_leaf_aval(x, (arg_names() or [None] * len(leaves))[i]
                                           if not hasattr(x, "aval") and
                                           type(x) not in (bool, int, float, complex) else None))
        out_tree_box = []
        has_kw = bool(kwargs or self._sig.has_static)

        def flat_fun(*tracers):
            tree = tree_unflatten(in_tree, list(tracers))
            d_args, d_kwargs = tree if has_kw else (tree, {})
            full_args, full_kwargs = self._sig.merge(d_args, d_kwargs, statics)
            out = self._fun(*full_args, **full_kwargs)
            out_leaves, out_tree = tree_flatten(out)
            out_tree_box.append(out_tree)
            return out_leaves

        debug = DebugInfo("jit", self._fun, arg_names)
        from jaxel import monitoring
        with monitoring.timed(monitoring.JAXPR_TRACE_EVENT, self._name):
            closed = trace_to_jaxpr(flat_fun, in_avals, debug)
        return closed, in_tree, out_tree_box[0], leaves, statics

    def _donated_leaves(self, args, kwargs, num_leaves):
        if not (self._donate_argnums or self._donate_argnames):
            return ()
        dyn_args, dyn_kwargs, _ = self._sig.split(args, kwargs)
        flags = []
        static_nums = set(self._sig.static_argnums)
        pos = [i for i in range(len(args)) if i not in static_nums]
        for j, a in enumerate(dyn_args):
            n = len(tree_flatten(a)[0])
            flags += [pos[j] in self._donate_argnums] * n
        for k in sorted(dyn_kwargs):
            n = len(tree_flatten(dyn_kwargs[k])[0])
            flags += [k in self._donate_argnames] * n
        return tuple(flags) if len(flags) == num_leaves else ()

    def _cache_miss(self, key, args, kwargs):
        if config.jax_explain_cache_misses or config.jax_log_compiles:  # why it compiles
            self._explain_miss(key, args, kwargs)
        closed, _, out_tree, leaves, _ = self._trace(args, kwargs)
        closed, tracer_consts = split_tracer_consts(closed)
        if tracer_consts:
            # Closes over values of an enclosing transformation: valid for this trace only.
            entry = _JitEntry(closed, out_tree, tuple(range(len(leaves))), ())
            entry.bound_consts = tracer_consts
            return entry
        donated = self._donated_leaves(args, kwargs, len(leaves))
        if self._keep_unused:
            kept = tuple(range(len(leaves)))
        else:
            closed, used = dce_closed_jaxpr(closed, prune_invars=True)
            kept = tuple(i for i, u in enumerate(used) if u)
            donated = tuple(donated[i] for i in kept) if donated else ()
        entry = _JitEntry(closed, out_tree, kept, donated)
        self._cache[key] = entry
        return entry

    def _explain_miss(self, key, args, kwargs):
        if not self._cache:
            logger.warning("TRACING CACHE MISS at %s: first call (nothing cached yet).",
                           DebugInfo("jit", self._fun).fun_location())
            return
        treedef, statics, *avals = key
        reasons = []
        same_tree = [k for k in self._cache if k[0] == treedef]
        if not same_tree:
            reasons.append(f"the argument structure changed: now {treedef}, before "
                           f"{next(iter(self._cache))[0]}")
        else:
            dyn_args, dyn_kwargs, _ = self._sig.split(args, kwargs)
            names = self._sig.arg_names(dyn_args, dyn_kwargs)
            prev = same_tree[-1]
            if prev[1] != statics:
                reasons.append(f"static arguments changed: {dict(prev[1])} -> {dict(statics)}")
            for name, old, new in zip(names, prev[2:], avals):
                if old is new:
                    continue
                diffs = []
                if old.shape != new.shape:
                    diffs.append(f"shape {old.shape} -> {new.shape}")
                if old.dtype != new.dtype:
                    diffs.append(f"dtype {old.dtype.name} -> {new.dtype.name}")
                if old.weak_type != new.weak_type:
                    diffs.append(f"weak_type {old.weak_type} -> {new.weak_type} (a Python "
                                 "scalar vs an array)")
                reasons.append(f"argument {name}: {', '.join(diffs)}")
        logger.warning("TRACING CACHE MISS at %s because:\n  %s",
                       DebugInfo("jit", self._fun).fun_location(), "\n  ".join(reasons))

    def _compile(self, entry, device=None):
        donated = tuple(i for i, d in enumerate(entry.donated) if d)
        return CompiledJaxpr(entry.closed, self._name, device, donated)

    def _run_eager(self, entry, leaves):
        if entry.bound_consts is not None:  # closes over tracers (cannot be at top level)
            from jaxel.tracing.core import escaped_tracer_error
            raise escaped_tracer_error(entry.bound_consts[0])
        arrays = [to_device_array(leaves[i]) for i in entry.kept]
        device = next((a._device for a in arrays if a._device is not None), self._device)
        if device is not None and not hasattr(device, "platform"):  # laid out over devices
            return self._run_partitioned(entry, None, None, leaves)
        if device is None:
            if entry.compiled is None:
                entry.compiled = self._compile(entry)
            compiled = entry.compiled
        else:
            compiled = self._compile(entry, device)
            arrays = [to_device_array(a, device) if a._device is not device else a
                      for a in arrays]
        return compiled.run([a._buf for a in arrays])

    def _run_partitioned(self, entry, args, kwargs, leaves):
        """Run as one program partitioned over the devices of the shardings involved."""
        from jaxel.sharding.program import find_program
        if entry.bound_consts is not None:
            from jaxel.tracing.core import escaped_tracer_error
            raise escaped_tracer_error(entry.bound_consts[0])
        if entry.programs is None:
            entry.programs = {}
        ins, outs = None, None
        if self._sharded:
            if entry.user_shardings is None:
                entry.user_shardings = self._flat_user_shardings(entry, args, kwargs, leaves)
            ins, outs = entry.user_shardings
        arrays = [to_device_array(leaves[i]) for i in entry.kept]
        donated = tuple(i for i, d in enumerate(entry.donated) if d)
        prog = find_program(entry.programs, entry.closed, self._name, arrays, ins, outs,
                            donated)
        if prog is None:  # nothing spans devices after all (one-device shardings)
            return self._run_eager_on(entry, arrays, ins, outs)
        if args is not None and not kwargs and not self._sig.has_static and \
                all(type(a) is Array for a in args):
            # Next time these placements and types skip flattening and planning.
            key = ("placed", *[a._device for a in args], *[a.aval for a in args])
            self._fast[key] = _PlacedCall(prog, entry)
        return prog.run(arrays)

    def _run_eager_on(self, entry, arrays, ins, outs):
        from jaxel.sharding.placement import as_target
        device = next((as_target(s) for s in (ins or []) + (outs or []) if s is not None),
                      self._device)
        compiled = self._compile(entry, device)
        arrays = [to_device_array(a, device) if a._device is not device else a for a in arrays]
        return compiled.run([a._buf for a in arrays])

    def _flat_user_shardings(self, entry, args, kwargs, leaves):
        """``in_shardings`` / ``out_shardings`` as one Sharding (or None) per kept argument
        leaf and per output leaf."""
        from jaxel.sharding.placement import as_target, is_target_leaf
        from jaxel.sharding.shardings import Sharding, single_device_sharding
        from jaxel.tree_util import broadcast_prefix_leaves

        def settle(t):
            t = as_target(t, "jit") if t is not None else None
            if t is not None and not isinstance(t, Sharding):
                t = single_device_sharding(t)
            return t

        ins = None
        if self._in_shardings is not None:
            spec = self._in_shardings
            if args is None:
                raise ValueError("jit in_shardings: internal call without arguments")
            dyn_args, dyn_kwargs, _ = self._sig.split(args, kwargs)
            if is_target_leaf(spec):
                per_leaf = [spec] * len(leaves)
            else:
                if not isinstance(spec, (tuple, list)):
                    spec = (spec,)
                per_leaf = broadcast_prefix_leaves(tuple(spec), tuple(dyn_args), "jit",
                                                   "in_shardings", "the positional arguments",
                                                   is_leaf=is_target_leaf)
                per_leaf += [None] * (len(leaves) - len(per_leaf))  # keyword arguments
            ins = [settle(per_leaf[i]) for i in entry.kept]
        outs = None
        if self._out_shardings is not None:
            spec = self._out_shardings
            n = len(entry.out_avals)
            if is_target_leaf(spec):
                outs = [settle(spec)] * n
            else:
                dummy = tree_unflatten(entry.out_tree, [0] * n)
                outs = [settle(t) for t in broadcast_prefix_leaves(
                    spec, dummy, "jit", "out_shardings", "the outputs", is_leaf=is_target_leaf)]
        return ins, outs

    def _bind(self, entry, leaves):
        if entry.bound is None:
            entry.bound = closure_convert(entry.closed)
        closed, consts = entry.bound
        operands = list(entry.bound_consts or ()) + list(consts) + [leaves[i] for i in entry.kept]
        if self._inline:
            from jaxel.jaxpr.eval import eval_jaxpr
            return eval_jaxpr(closed.jaxpr, closed.consts, *operands)
        donated = (False,) * (len(operands) - len(entry.kept)) + (
            entry.donated or (False,) * len(entry.kept))
        return jit_p.bind(*operands, jaxpr=closed, name=self._name,
                          donated_invars=donated, keep_unused=self._keep_unused,
                          inline=self._inline)

    # ---- AOT API ---------------------------------------------------------------------
    def trace(self, *args, **kwargs) -> "Traced":
        """Trace without compiling; ``.jaxpr``, ``.lower()``, ``.out_info``."""
        closed, in_tree, out_tree, leaves, statics = self._trace(args, kwargs)
        dyn_args, dyn_kwargs, _ = self._sig.split(args, kwargs)
        call = _CallInfo(tree_flatten((dyn_args, dyn_kwargs))[1],
                         self._sig.arg_names(dyn_args, dyn_kwargs), closed.in_avals,
                         [k for k, _ in statics])
        traced = Traced(self, closed, out_tree, leaves, call)
        traced._args = (args, kwargs)
        return traced

    def lower(self, *args, **kwargs) -> "Lowered":
        """Trace and lower to StableHLO; ``.as_text()``, ``.compile()``."""
        return self.trace(*args, **kwargs).lower()

    def eval_shape(self, *args, **kwargs):
        """Output shapes and dtypes (ShapeDtypeStruct pytree) without computing anything."""
        return self.trace(*args, **kwargs).out_info

    def _cache_size(self) -> int:
        """Number of traced entries in this function's cache (shared by every jit wrapper of
        the function with the same options)."""
        return len(self._cache)

    def clear_cache(self):
        """Forget every traced and compiled entry of this function (for every jit wrapper of
        it with the same options)."""
        self._shared.clear()

    def __repr__(self):
        return f"<jitted function {self._name}>"


class _CallInfo:
    """What an ahead-of-time compiled call expects: the structure of its dynamic arguments
    ``(args, kwargs)``, their names and types, and which arguments were static."""

    __slots__ = ("tree", "names", "avals", "statics")

    def __init__(self, tree, names, avals, statics):
        self.tree = tree
        self.names = names
        self.avals = avals
        self.statics = statics

    def check(self, args, kwargs, name):
        """Flatten a call to the compiled function; TypeError naming what differs."""
        leaves, tree = tree_flatten((args, kwargs))
        if tree != self.tree:
            raise TypeError(f"The compiled function {name!r} was called with arguments of "
                            f"structure {tree}, but it was compiled for {self.tree}: "
                            f"{self._explain(args, kwargs)}")
        bad = []
        for i, (x, want) in enumerate(zip(leaves, self.avals)):
            got = _leaf_aval(x)
            if got.strip_weak_type() != want.strip_weak_type():
                where = self.names[i] if i < len(self.names) else f"at flat index {i}"
                bad.append(f"argument {where} was compiled for {want.str_short()} and called "
                           f"with {got.str_short()}")
        if bad:
            raise TypeError(f"The compiled function {name!r} was called with argument types "
                            "that differ from those it was compiled for (compile again with "
                            "jit(...).lower(...).compile() for new types): " + "; ".join(bad))
        return leaves

    def _explain(self, args, kwargs):
        want_args, want_kwargs = self.tree.children()
        n_want = len(want_args.children())
        want_keys = sorted(want_kwargs.node_data()[1]) if want_kwargs.node_data() else []
        static_names = [repr(k) if isinstance(k, str) else f"argument {k}" for k in self.statics]
        parts = []
        if len(args) != n_want:
            parts.append(f"it takes {n_want} positional argument(s), got {len(args)}")
        if sorted(kwargs) != want_keys:
            parts.append(f"it takes the keyword argument(s) {want_keys or 'none'}, got "
                         f"{sorted(kwargs) or 'none'}")
        if not parts:
            return "an argument's pytree structure differs."
        msg = "; ".join(parts) + "."
        if static_names:
            msg += (f" Static arguments ({', '.join(static_names)}) were fixed when lowering: "
                    "call the compiled function with the dynamic arguments only.")
        return msg


class Traced:
    """A traced jitted call (``jit(f).trace(*args)``)."""

    def __init__(self, wrapped, closed, out_tree, leaves, call=None):
        self._wrapped = wrapped
        self.jaxpr = closed
        self._out_tree = out_tree
        self._leaves = leaves
        self._call = call
        self._args = None

    @property
    def out_info(self):
        return tree_unflatten(self._out_tree, [ShapeDtypeStruct(a.shape, a.dtype,
                                                                weak_type=a.weak_type)
                                               for a in self.jaxpr.out_avals])

    def lower(self) -> "Lowered":
        closed, tracer_consts = split_tracer_consts(self.jaxpr)
        if tracer_consts:
            raise TypeError("Cannot lower a function that closes over values of an enclosing "
                            "transformation.")
        closed, used = dce_closed_jaxpr(closed, prune_invars=not self._wrapped._keep_unused)
        partition = self._partition(closed, used)
        return Lowered(self._wrapped, closed, self._out_tree, used, self._call, partition)

    def _partition(self, closed, used):
        """``(mesh, in shardings, out shardings)`` when the call spans devices, else None."""
        from jaxel.sharding.program import plan
        wrapped = self._wrapped
        kept = tuple(i for i, u in enumerate(used) if u)
        ins = outs = None
        if wrapped._sharded and self._args is not None:
            entry = _JitEntry(closed, self._out_tree, kept, ())
            ins, outs = wrapped._flat_user_shardings(entry, *self._args, self._leaves)
        return plan(closed, [self._leaves[i] for i in kept], ins, outs)


class Lowered:
    """A lowered jitted call: ``as_text()`` gives the StableHLO module, ``compile()`` an
    executable."""

    def __init__(self, wrapped, closed, out_tree, used, call=None, partition=None):
        from jaxel.lowering.lower import lower_jaxpr_to_module
        self._wrapped = wrapped
        self._closed = closed
        self._out_tree = out_tree
        self._used = used
        self._call = call
        self._partition = partition  # (mesh, in shardings, out shardings) or None
        if partition is None:
            self._text, _ = lower_jaxpr_to_module(closed, name=f"jit_{wrapped._name}")
        else:
            from jaxel.sharding.program import lower_partitioned
            mesh, ins, outs = partition
            self._text = lower_partitioned(closed, wrapped._name, ins, outs, mesh)[0]

    def as_text(self, dialect=None, debug_info=False) -> str:
        """The StableHLO module as MLIR text."""
        return self._text

    def compile(self) -> "Compiled":
        """Compile the lowered module; call the result with the dynamic arguments only."""
        return Compiled(self)

    def cost_analysis(self):
        return self.compile().cost_analysis()


class Compiled:
    """An ahead-of-time compiled call. Call it like the jitted function but with the dynamic
    arguments only (static ones were fixed when lowering), of the types it was lowered for."""

    def __init__(self, lowered: Lowered):
        self._lowered = lowered
        if lowered._partition is None:
            self._compiled = CompiledJaxpr(lowered._closed, lowered._wrapped._name)
        else:
            from jaxel.sharding.program import SpmdProgram
            mesh, ins, outs = lowered._partition
            self._compiled = SpmdProgram(lowered._closed, lowered._wrapped._name, ins, outs,
                                         mesh)
        self._kept = [i for i, u in enumerate(lowered._used) if u] \
            if not lowered._wrapped._keep_unused else None

    def as_text(self) -> str:
        """The optimised HLO text XLA produced."""
        return self._compiled.exe.get_hlo_text()

    def cost_analysis(self):
        """XLA's cost estimates (flops, bytes accessed, ...) as a dict."""
        ca = self._compiled.exe.cost_analysis()
        return ca[0] if isinstance(ca, list) and ca else ca

    def __call__(self, *args, **kwargs):
        leaves = self._lowered._call.check(args, kwargs, self._lowered._wrapped._name)
        if self._kept is not None:
            leaves = [leaves[i] for i in self._kept]
        if self._lowered._partition is not None:
            outs = self._compiled.run([to_device_array(x) for x in leaves])
        else:
            outs = self._compiled.run([to_device_array(x)._buf for x in leaves])
        return tree_unflatten(self._lowered._out_tree, outs)

    @property
    def input_shardings(self):
        """The shardings the compiled program takes its arguments in (``(args, kwargs)``)."""
        c = self._compiled
        if self._lowered._partition is None:
            from jaxel.runtime import client as _client
            from jaxel.sharding.shardings import single_device_sharding
            dev = c.device or _client.default_device()
            return tree_unflatten(self._lowered._call.tree,
                                  [single_device_sharding(dev)] * len(c.in_avals))
        ins = c.in_shardings[len(c.const_args):]
        return tree_unflatten(self._lowered._call.tree, list(ins)) \
            if len(ins) == self._lowered._call.tree.num_leaves else ins

    @property
    def output_shardings(self):
        """The shardings of the compiled program's outputs (XLA's choice where not given)."""
        c = self._compiled
        if self._lowered._partition is None:
            from jaxel.runtime import client as _client
            from jaxel.sharding.shardings import single_device_sharding
            dev = c.device or _client.default_device()
            shardings = [single_device_sharding(dev)] * len(c.out_avals)
        else:
            shardings = c.out_shardings
        return tree_unflatten(self._lowered._out_tree, list(shardings))


def jit(fun=None, *, static_argnums=(), static_argnames=(), donate_argnums=(),
        donate_argnames=(), keep_unused=False, inline=False, device=None, backend=None,
        in_shardings=None, out_shardings=None, abstracted_axes=None):
    """Compile ``fun`` with XLA; calls with new argument types trace and compile again.

    Args:
      fun: the function (pure; pytrees of arrays in and out).
      static_argnums / static_argnames: arguments treated as compile-time constants (must be
        hashable; each distinct value compiles once).
      donate_argnums / donate_argnames: arguments whose buffers XLA may reuse for outputs.
      keep_unused: keep unused arguments in the compiled program.
      inline: inline this function into enclosing jitted functions' jaxprs.

    Usable as ``@jit`` or ``@jit(static_argnums=...)``.

    Example::

        >>> f = jaxel.jit(lambda x: x * 2)
        >>> f(jnp.arange(3))
        Array([0, 2, 4], dtype=int32)
    """
    if fun is None:
        return functools.partial(jit, static_argnums=static_argnums,
                                 static_argnames=static_argnames, donate_argnums=donate_argnums,
                                 donate_argnames=donate_argnames, keep_unused=keep_unused,
                                 inline=inline, device=device, backend=backend,
                                 in_shardings=in_shardings, out_shardings=out_shardings,
                                 abstracted_axes=abstracted_axes)
    # Options that change the program tell cache entries apart, as in JAX.
    other = (backend, _hashable(in_shardings), _hashable(out_shardings), abstracted_axes)
    return JitWrapped(fun, static_argnums, static_argnames, donate_argnums, donate_argnames,
                      keep_unused, inline, device, () if other == (None,) * 4 else other,
                      in_shardings=in_shardings, out_shardings=out_shardings)


def _hashable(tree):
    """A hashable stand-in for a pytree of shardings (lists become tuples)."""
    if isinstance(tree, list):
        return tuple(_hashable(t) for t in tree)
    if isinstance(tree, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in tree.items()))
    if isinstance(tree, tuple) and type(tree) is tuple:
        return tuple(_hashable(t) for t in tree)
    return tree


def make_jaxpr(fun, static_argnums=(), axis_env=None, return_shape=False, abstracted_axes=None):
    """Return a function that traces ``fun`` and gives its ClosedJaxpr (printable as JAX's).

    Example::

        >>> print(jaxel.make_jaxpr(jnp.sin)(1.0))
        { lambda ; a:f32[]. let b:f32[] = sin a in (b,) }
    """
    sig = _Signature(fun, static_argnums, ())

    @functools.wraps(fun)
    def make(*args, **kwargs):
        dyn_args, dyn_kwargs, statics = sig.split(args, kwargs)
        leaves, in_tree = tree_flatten((dyn_args, dyn_kwargs))
        in_avals = [_leaf_aval(x) for x in leaves]
        out_tree_box = []

        def flat_fun(*tracers):
            d_args, d_kwargs = tree_unflatten(in_tree, list(tracers))
            full_args, full_kwargs = sig.merge(d_args, d_kwargs, statics)
            out_leaves, out_tree = tree_flatten(fun(*full_args, **full_kwargs))
            out_tree_box.append(out_tree)
            return out_leaves

        debug = DebugInfo("make_jaxpr", fun, lambda: sig.arg_names(dyn_args, dyn_kwargs))
        with contextlib.ExitStack() as stack:
            # axis_env=[(name, size), ...]: trace collectives as if under those mapped axes.
            for name, size in (axis_env or ()):
                stack.enter_context(extend_axis_env(AxisData(name, int(size))))
            closed = trace_to_jaxpr(flat_fun, in_avals, debug)
        if return_shape:
            shapes = tree_unflatten(out_tree_box[0], [
                ShapeDtypeStruct(a.shape, a.dtype, weak_type=a.weak_type)
                for a in closed.out_avals])
            return closed, shapes
        return closed

    return make


def eval_shape(fun, *args, **kwargs):
    """Shapes and dtypes of ``fun``'s outputs (a ShapeDtypeStruct pytree), computing nothing.

    Arguments may be arrays or anything with ``shape`` and ``dtype`` (e.g. ShapeDtypeStruct).
    """
    def to_struct(x):
        if isinstance(x, (Array, Tracer, ShapeDtypeStruct)):
            return x
        if hasattr(x, "shape") and hasattr(x, "dtype"):
            return ShapeDtypeStruct(x.shape, x.dtype)
        return x

    args, kwargs = tree_map(to_struct, (args, kwargs))
    closed, shapes = make_jaxpr(fun, return_shape=True)(*args, **kwargs)
    return shapes
