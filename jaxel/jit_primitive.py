"""``jit_p``: the higher-order primitive that a jitted call becomes under any trace.

Its one parameter of substance is ``jaxpr`` (a ClosedJaxpr). Because evaluating a jaxpr goes
through ``bind``, transformations of jitted functions compose with no special cases: eagerly
the primitive compiles and runs the whole jaxpr; while staging it becomes one equation; when
lowering, the inner jaxpr is emitted inline (XLA would inline a call anyway).
"""
from __future__ import annotations

import weakref

from jaxel.lowering.lower import lower_jaxpr_body, lower_jaxpr_to_module
from jaxel.runtime import client as _client
from jaxel.runtime import compile_cache
from jaxel.runtime.array import Array
from jaxel.tracing.core import Primitive

jit_p = Primitive("jit", multiple_results=True)


def _abstract_eval(*avals, jaxpr, name, donated_invars=(), keep_unused=False, inline=False):
    return jaxpr.out_avals


def _lowering(ctx, *args, jaxpr, name, donated_invars=(), keep_unused=False, inline=False):
    # Bound jaxprs carry no array constants: ``closure_convert`` turned them into operands,
    # so the enclosing trace passes them (large arrays never land in the program text).
    e = ctx.e
    const_names = [e.constant(c, v.aval) for v, c in zip(jaxpr.jaxpr.constvars, jaxpr.consts)]
    return lower_jaxpr_body(e, jaxpr.jaxpr, const_names, list(args), ctx.module)


def closure_convert(closed):
    """Turn every non-scalar constant of ``closed`` into a leading input.

    Returns ``(closed_without_array_consts, consts)``; bind the primitive with ``consts`` as the
    first operands.
    """
    from jaxel.jaxpr.ir import ClosedJaxpr, Jaxpr
    from jaxel.lowering.lower import is_inlinable_const
    jaxpr = closed.jaxpr
    keep_v, keep_c, lift_v, lift_c = [], [], [], []
    for v, c in zip(jaxpr.constvars, closed.consts):
        if is_inlinable_const(c):
            keep_v.append(v)
            keep_c.append(c)
        else:
            lift_v.append(v)
            lift_c.append(c)
    if not lift_v:
        return closed, []
    new = Jaxpr(keep_v, lift_v + jaxpr.invars, jaxpr.outvars, jaxpr.eqns, jaxpr.debug_info)
    return ClosedJaxpr(new, keep_c), lift_c


class CompiledJaxpr:
    """An executable for a closed jaxpr, plus what it needs at call time."""

    __slots__ = ("exe", "out_avals", "const_bufs", "device", "text", "handlers")

    def __init__(self, closed, name, device=None, donated=()):
        from jaxel.tracing.eval_trace import to_device_array
        text, const_args = lower_jaxpr_to_module(closed, name=f"jit_{name}", donated=donated)
        dev = device if device is not None else _client.default_device()
        self.exe = compile_cache.compile_module(text, (dev,), name=f"jit_{name}")
        self.out_avals = closed.out_avals
        self.const_bufs = [to_device_array(c, device)._buf for c in const_args]
        self.device = device
        self.text = text
        self.handlers = _client.result_handlers(self.out_avals, device)

    def run(self, bufs):
        """Execute on runtime buffers; returns the list of output Arrays."""
        if self.const_bufs:
            bufs = bufs + self.const_bufs
        outs = self.exe.execute_sharded(bufs).consume_with_handlers(self.handlers)
        device = self.device
        return [Array(o, a, device) for o, a in zip(outs, self.out_avals)]


# Executables for jaxprs run through jit_p's eager rule, held as long as the jaxpr lives.
_compiled_by_jaxpr: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _impl(*args, jaxpr, name, donated_invars=(), keep_unused=False, inline=False):
    from jaxel.tracing.eval_trace import to_device_array
    arrays = [to_device_array(x) for x in args]
    device = next((a._device for a in arrays if a._device is not None), None)
    per_device = _compiled_by_jaxpr.setdefault(jaxpr, {})
    compiled = per_device.get(device)
    if compiled is None:
        donated = tuple(i for i, d in enumerate(donated_invars) if d)
        compiled = per_device[device] = CompiledJaxpr(jaxpr, name, device, donated)
    return compiled.run([a._buf for a in arrays])


def _pp_params(params):
    shown = {"name": params["name"], "jaxpr": params["jaxpr"]}
    if any(params.get("donated_invars", ())):
        shown["donated_invars"] = params["donated_invars"]
    for flag in ("keep_unused", "inline"):
        if params.get(flag):
            shown[flag] = True
    return shown


jit_p.pp_params = _pp_params
jit_p.abstract_eval = _abstract_eval
jit_p.lowering = _lowering
jit_p.impl = _impl
