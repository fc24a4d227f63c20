"""Running a jaxpr as one program partitioned over devices (SPMD).

``run_partitioned`` is where shardings meet execution: it settles one sharding per argument
(the user's ``in_shardings``, else the argument's own, else replicated), picks the program's
devices (the mesh of the first multi-device sharding), lowers with those shardings written as
Shardy attributes, lets XLA partition, reads back the shardings XLA chose for the outputs and
wraps them as Arrays reporting NamedShardings over the program's mesh.
"""
from __future__ import annotations

from jaxel.runtime import host_callbacks as _host_callbacks

import weakref

from jaxel.runtime.array import Array
from jaxel.sharding.shardings import (NamedSharding, Sharding, XlaSharding, as_named,
                                      from_tile_assignment)
from jaxel.sharding.spec import PartitionSpec


class SpmdProgram:
    """A closed jaxpr compiled for fixed argument shardings over ``devices``."""

    __slots__ = ("exe", "devices", "mesh", "in_shardings", "out_shardings", "out_avals",
                 "in_avals", "handlers", "const_args", "in_runtime", "const_bufs")

    def __init__(self, closed, name, in_shardings, out_shardings, mesh, donated=()):
        from jaxel.runtime import compile_cache
        from jaxel.runtime.sharded import runtime_sharding
        from jaxel.runtime.xla import (output_op_shardings, sharded_result_handler,
                                       tile_assignment_of)
        text, consts, all_ins, closed = lower_partitioned(closed, name, in_shardings,
                                                          out_shardings, mesh, donated)
        self.const_args = consts
        self.mesh = mesh
        self.devices = devices = mesh._flat_devices
        self.in_shardings = all_ins
        self.in_avals = closed.in_avals
        self.out_avals = closed.out_avals
        self.exe = compile_cache.compile_module(text, devices, name=f"jit_{name}", spmd=True)
        chosen = output_op_shardings(self.exe)
        outs = []
        for i, aval in enumerate(self.out_avals):
            s = out_shardings[i] if out_shardings is not None else None
            if s is None and chosen is None:  # a one-device mesh: XLA reports no shardings
                s = NamedSharding(mesh, PartitionSpec())
            if s is None:
                ta = tile_assignment_of(chosen[i], aval.ndim, len(devices))
                if ta is None or ta[0] == "maximal":
                    raise NotImplementedError(
                        f"XLA chose a sharding jaxel cannot represent for output {i} of {name} "
                        f"({chosen[i]}); pass out_shardings to jit.")
                s = from_tile_assignment(devices, *ta, mesh=mesh)
            outs.append(s)
        self.out_shardings = outs
        self.handlers = [sharded_result_handler(a, runtime_sharding(s, a.ndim, devices))
                         for a, s in zip(self.out_avals, outs)]
        # The runtime sharding each argument's buffer must carry to be passed as it is.
        self.in_runtime = [runtime_sharding(s, a.ndim, devices)
                           for s, a in zip(all_ins, self.in_avals)][len(consts):]
        self.const_bufs = None

    def _prepare(self, a, s):
        """``a``'s runtime buffer laid out as ``s`` in the program's device order."""
        from jaxel.runtime.sharded import in_device_order
        if a._device is not s and a._device != s:
            from jaxel.sharding.placement import reshard
            a = reshard(a, s)
        return in_device_order(a, s, self.devices)

    def run(self, arrays):
        """Execute on Arrays (placed anywhere); returns the output Arrays."""
        from jaxel.jit_primitive import deleted_argument_error
        bufs = self.const_bufs
        if bufs is None:
            from jaxel import guards
            from jaxel.tracing.eval_trace import to_device_array
            with guards.quiet():  # the program's constants, placed once (not guarded, as JAX)
                bufs = self.const_bufs = [self._prepare(to_device_array(c), s) for c, s in
                                          zip(self.const_args, self.in_shardings)]
        bufs = list(bufs)
        n = len(bufs)
        for i, (a, rt) in enumerate(zip(arrays, self.in_runtime)):
            b = a._buf
            # Fast when the argument already is what the program takes (a previous output).
            bufs.append(b if b._sharding is rt else self._prepare(a, self.in_shardings[n + i]))
        try:
            outs = self.exe.execute_sharded(bufs).consume_with_handlers(self.handlers)
        except RuntimeError as e:
            _host_callbacks.reraise(e)  # a callback's own exception, if one failed
            err = deleted_argument_error(bufs[len(self.const_args):], self.in_avals)
            if err is None:
                raise
            raise err from None
        return [Array(o, a, s) for o, a, s in zip(outs, self.out_avals, self.out_shardings)]


def lower_partitioned(closed, name, in_shardings, out_shardings, mesh, donated=()):
    """The module text of ``closed`` partitioned over ``mesh``'s devices.

    Returns ``(text, consts, in_shardings, closed)``: array constants become leading inputs
    (replicated; ``consts`` are their values), ``in_shardings`` covers them too, and ``closed``
    is the jaxpr as lowered.
    """
    from jaxel.jit_primitive import closure_convert
    from jaxel.lowering.lower import lower_jaxpr_to_module
    closed, consts = closure_convert(closed)
    replicated = NamedSharding(mesh, PartitionSpec())
    ins = [replicated] * len(consts) + list(in_shardings)
    donated = tuple(i + len(consts) for i in donated)
    text, _ = lower_jaxpr_to_module(closed, name=f"jit_{name}", donated=donated,
                                    arg_shardings=ins, result_shardings=out_shardings,
                                    devices=mesh._flat_devices)
    return text, consts, ins, closed


def _placement_sharding(a):
    """The multi-device (or named) sharding an Array is placed with, else None."""
    d = getattr(a, "_device", None)
    if d is None and not hasattr(a, "_buf"):  # ShapeDtypeStruct(..., sharding=...)
        d = getattr(a, "sharding", None)
        if d is not None and len(d._device_assignment) == 1:
            return None
    return d if isinstance(d, Sharding) else None


def program_mesh(in_shardings, out_shardings, arrays, closed=None):
    """The mesh a call runs over: that of the first sharding given or carried by an argument,
    else the first one the program itself names (a sharding constraint, a shard_map); None
    when nothing in the call is laid out over devices (the one-device path applies)."""
    for group in (in_shardings or (), out_shardings or (), [_placement_sharding(a)
                                                           for a in arrays]):
        for s in group:
            mesh = _mesh_of(s)
            if mesh is not None:
                return mesh
    return jaxpr_mesh(closed) if closed is not None else None


_jaxpr_meshes: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def jaxpr_mesh(closed):
    """The first Mesh a (closed) jaxpr's equations name in their parameters, looking inside
    nested jaxprs; None if none. Cached per jaxpr."""
    try:
        return _jaxpr_meshes[closed]
    except (KeyError, TypeError):
        pass
    mesh = _find_mesh(getattr(closed, "jaxpr", closed))
    for c in getattr(closed, "consts", ()):  # a closed-over array laid out over devices
        if mesh is None:
            mesh = _mesh_of(_placement_sharding(c)) if hasattr(c, "_buf") else None
    try:
        _jaxpr_meshes[closed] = mesh
    except TypeError:
        pass
    return mesh


def _find_mesh(jaxpr):
    from jaxel.jaxpr.ir import ClosedJaxpr, Jaxpr
    from jaxel.sharding.mesh import Mesh

    def visit(v):
        if isinstance(v, Mesh):
            return v
        if isinstance(v, (NamedSharding, XlaSharding)):
            return _mesh_of(v)
        if isinstance(v, ClosedJaxpr):
            return _find_mesh(v.jaxpr)
        if isinstance(v, Jaxpr):
            return _find_mesh(v)
        if isinstance(v, (tuple, list)) and not isinstance(v, PartitionSpec):
            for x in v:
                m = visit(x)
                if m is not None:
                    return m
        return None

    for eqn in jaxpr.eqns:
        for v in eqn.params.values():
            m = visit(v)
            if m is not None:
                return m
    return None


def _mesh_of(s):
    """The mesh of a NamedSharding (or of the NamedSharding equivalent to an XlaSharding)."""
    if isinstance(s, NamedSharding):
        return s.mesh
    if isinstance(s, XlaSharding):
        return as_named(s, len(s._tiles)).mesh
    return None


def settle_in_shardings(in_user, arrays, mesh, names=None):
    """One sharding per argument: the user's, else the argument's own, else replicated."""
    replicated = NamedSharding(mesh, PartitionSpec())
    devices = set(mesh._flat_devices)
    out = []
    for i, a in enumerate(arrays):
        s = in_user[i] if in_user is not None else None
        if s is None:
            s = _placement_sharding(a)
            if s is None:
                dev = getattr(a, "_device", None)
                if dev is not None and dev not in devices:
                    where = f"argument {names[i]}" if names else f"argument {i}"
                    raise ValueError(
                        f"The {where} is committed to {dev}, which is not among the devices "
                        f"{sorted(d.id for d in devices)} of the other arguments' shardings. Put "
                        "it there with jaxel.device_put(x, sharding) first.")
                s = replicated
        elif set(s._device_assignment) != devices:
            raise ValueError(f"in_shardings: the sharding {s!r} is over other devices than the "
                             "call's mesh; use one set of devices per call.")
        out.append(s)
    return out


def plan(closed, arrays, in_user=None, out_user=None, names=None):
    """``(mesh, in shardings, out shardings)`` of a call, or None when nothing in it spans
    devices (the one-device path applies)."""
    mesh = program_mesh(in_user, out_user, arrays, closed)
    if mesh is None:
        return None
    ins = settle_in_shardings(in_user, arrays, mesh, names)
    return mesh, ins, tuple(out_user) if out_user is not None else None


def run_partitioned(cache: dict, closed, name, arrays, in_user=None, out_user=None, donated=(),
                    names=None):
    """Run ``closed`` on ``arrays`` as one partitioned program; None when no argument or
    requested sharding spans devices (the caller takes the one-device path).

    ``cache`` maps (in shardings, out shardings) to compiled SpmdPrograms; the caller keeps one
    per traced jaxpr.
    """
    prog = find_program(cache, closed, name, arrays, in_user, out_user, donated, names)
    return None if prog is None else prog.run(arrays)


def find_program(cache: dict, closed, name, arrays, in_user=None, out_user=None, donated=(),
                 names=None):
    """The SpmdProgram that runs ``closed`` on ``arrays`` (compiled on a miss), or None when
    nothing in the call spans devices."""
    placed = (tuple([a._device for a in arrays]),
              None if in_user is None else tuple(in_user),
              None if out_user is None else tuple(out_user))
    prog = cache.get(placed)  # the arguments' placements decide the plan: skip working it out
    if prog is not None:
        return prog
    p = plan(closed, arrays, in_user, out_user, names)
    if p is None:
        return None
    mesh, ins, outs = p
    key = (tuple(ins), outs)
    prog = cache.get(key)
    if prog is None:
        from jaxel.runtime.sharded import check_divisible
        for i, (s, aval) in enumerate(zip(ins, closed.in_avals)):
            check_divisible(s, aval.shape, f"jit of {name}: argument "
                            f"{names[i] if names else i}")
        prog = cache[key] = SpmdProgram(closed, name, ins, outs, mesh, donated)
    cache[placed] = prog
    return prog
