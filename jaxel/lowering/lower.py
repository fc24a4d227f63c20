"""Jaxpr -> StableHLO module text.

Each primitive's ``lowering(ctx, *operands, **params)`` rule emits ops through the context's
emitter and returns its result name(s). Constants of a closed jaxpr that are arrays become extra
*arguments* of the module (their values are passed at call time), so large closed-over arrays
are never baked into the program text; scalars are inlined as ``stablehlo.constant``.
"""
from __future__ import annotations

import re

import numpy as np

from jaxel.lowering.emitter import Emitter, tensor_type
from jaxel.tracing.core import Literal


class LoweringContext:
    """What a lowering rule sees: the emitter and the avals of its operands and results."""

    __slots__ = ("e", "avals_in", "avals_out", "module")

    def __init__(self, e: Emitter, avals_in, avals_out, module=None):
        self.e = e
        self.avals_in = avals_in
        self.avals_out = avals_out
        self.module = module


class ModuleContext:
    """Module-wide lowering state: replica count and program devices (for collectives), a
    channel-id counter, the Shardy meshes the program uses, private functions."""

    def __init__(self, num_replicas: int = 1, devices=None):
        self.num_replicas = num_replicas
        # The program's device assignment when it is partitioned over several devices (a
        # device's partition id is its position here); None for one-device programs.
        self.devices = tuple(devices) if devices is not None else None
        self._meshes: dict = {}  # Mesh -> (symbol, declaration text)
        self._channel = 0
        # Private functions emitted after ``main`` (``lax.composite`` decompositions).
        self.functions: list[str] = []
        self._symbols: set = {"main"}

    def add_function(self, name: str, text_for) -> str:
        """Add a private function named ``name`` (made unique); ``text_for(symbol)`` returns
        its text. Returns the symbol."""
        sym, k = name, 0
        while sym in self._symbols:
            k += 1
            sym = f"{name}_{k}"
        self._symbols.add(sym)
        self.functions.append(text_for(sym))
        return sym

    def next_channel(self) -> int:
        self._channel += 1
        return self._channel

    def mesh_symbol(self, mesh) -> str:
        """The symbol of ``mesh``'s ``sdy.mesh`` declaration (declared on first use)."""
        entry = self._meshes.get(mesh)
        if entry is not None:
            return entry[0]
        sym = "mesh" if not self._meshes else f"mesh_{len(self._meshes)}"
        axes = ", ".join(f'"{n}"={s}' for n, s in zip(mesh.axis_names, mesh.axis_sizes))
        ids = ""
        devices = getattr(mesh, "_flat_devices", None)
        if devices is not None and self.devices is not None:
            if set(devices) != set(self.devices):
                raise ValueError(
                    f"One program uses shardings over different sets of devices: a mesh over "
                    f"{sorted(d.id for d in devices)} and the program's devices "
                    f"{sorted(d.id for d in self.devices)}. Put every argument on the same "
                    "devices (jaxel.device_put) before calling.")
            where = {d: i for i, d in enumerate(self.devices)}
            positions = [where[d] for d in devices]
            if positions != list(range(len(positions))):
                ids = f", device_ids=[{', '.join(map(str, positions))}]"
        self._meshes[mesh] = (sym, f"  sdy.mesh @{sym} = <[{axes}]{ids}>\n")
        return sym

    def sdy_sharding(self, sharding, ndim: int) -> str:
        """The ``#sdy.sharding<...>`` attribute of ``sharding`` for an ``ndim``-d value."""
        from jaxel.sharding.shardings import as_named
        named = as_named(sharding, ndim)
        return named._sdy(ndim, self.mesh_symbol(named.mesh))

    def mesh_declarations(self) -> str:
        return "".join(decl for _, decl in self._meshes.values())


class LoweringError(NotImplementedError):
    """A primitive has no lowering rule."""


def lower_jaxpr_body(e: Emitter, jaxpr, const_names, arg_names, module=None) -> list[str]:
    """Emit the equations of ``jaxpr`` given SSA names for its constvars and invars; returns the
    SSA names of its outputs. Used for whole modules and to inline nested jaxprs."""
    env = {}
    for v, n in zip(jaxpr.constvars, const_names):
        env[id(v)] = n
    for v, n in zip(jaxpr.invars, arg_names):
        env[id(v)] = n

    def read(a):
        if type(a) is Literal:
            return e.constant(a.val, a.aval)
        return env[id(a)]

    for eqn in jaxpr.eqns:
        prim = eqn.primitive
        rule = prim.lowering
        if rule is None:
            raise LoweringError(f"The primitive `{prim.name}` has no lowering rule, so it cannot "
                                "be compiled.")
        operands = [read(a) for a in eqn.invars]
        ctx = LoweringContext(e, [a.aval for a in eqn.invars], [v.aval for v in eqn.outvars],
                              module)
        out = rule(ctx, *operands, **eqn.params)
        if prim.multiple_results:
            for v, n in zip(eqn.outvars, out):
                env[id(v)] = n
        else:
            env[id(eqn.outvars[0])] = out
    return [read(a) for a in jaxpr.outvars]


def _symbol(name: str) -> str:
    s = re.sub(r"[^A-Za-z0-9_]", "_", name or "main")
    return s if s and not s[0].isdigit() else "_" + s


def is_inlinable_const(value) -> bool:
    """Scalars are inlined into the program text; anything bigger is passed as an argument."""
    return np.ndim(value) == 0 and not hasattr(value, "_trace")


def lower_jaxpr_to_module(closed_jaxpr, name: str = "main", donated=(), num_replicas: int = 1,
                          arg_shardings=None, result_shardings=None, devices=None):
    """Lower a ClosedJaxpr to module text (reported to ``jaxel.monitoring`` as JAX's
    ``jaxpr_to_mlir_module_duration`` event); see ``_lower_jaxpr_to_module``."""
    from jaxel import monitoring
    fun = name[4:] if name.startswith("jit_") else name
    with monitoring.timed(monitoring.JAXPR_TO_MLIR_MODULE_EVENT, f"jit({fun})"):
        return _lower_jaxpr_to_module(closed_jaxpr, name, donated, num_replicas, arg_shardings,
                                      result_shardings, devices)


def _lower_jaxpr_to_module(closed_jaxpr, name, donated, num_replicas, arg_shardings,
                           result_shardings, devices):
    """Lower a ClosedJaxpr to module text.

    For a program partitioned over several ``devices``: ``arg_shardings`` (one per invar, then
    one per array constant) and ``result_shardings`` (one per output, None = the partitioner
    chooses) are jaxel Shardings written as Shardy attributes.

    Returns ``(text, const_args)``: ``const_args`` are the constant values the caller must pass
    after the regular arguments (in order).
    """
    jaxpr = closed_jaxpr.jaxpr
    e = Emitter()
    module = ModuleContext(num_replicas, devices)
    arg_decls = []
    arg_names = []
    donated = set(donated)

    def arg_attrs(i, aval):
        attrs = ["jax.buffer_donor = true"] if i in donated else []
        s = arg_shardings[i] if arg_shardings is not None and i < len(arg_shardings) else None
        if s is not None:
            attrs.append(f"sdy.sharding = {module.sdy_sharding(s, aval.ndim)}")
        return f" {{{', '.join(attrs)}}}" if attrs else ""

    for i, v in enumerate(jaxpr.invars):
        n = f"%arg{i}"
        t = tensor_type(v.aval)
        e.add_value(n, t)
        arg_decls.append(f"{n}: {t}{arg_attrs(i, v.aval)}")
        arg_names.append(n)
    const_names, const_args = [], []
    inline = []
    for v, c in zip(jaxpr.constvars, closed_jaxpr.consts):
        if is_inlinable_const(c):
            inline.append((v, c))
            const_names.append(None)
        else:
            n = f"%arg{len(arg_decls)}"
            t = tensor_type(v.aval)
            e.add_value(n, t)
            arg_decls.append(f"{n}: {t}{arg_attrs(len(arg_decls), v.aval)}")
            const_names.append(n)
            const_args.append(c)
    for idx, (v, c) in enumerate(zip(jaxpr.constvars, closed_jaxpr.consts)):
        if const_names[idx] is None:
            const_names[idx] = e.constant(np.asarray(c), v.aval)
    outs = lower_jaxpr_body(e, jaxpr, const_names, arg_names, module)
    out_types = [e.types[o] for o in outs]
    result_decls = list(out_types)
    if result_shardings is not None:
        for i, (s, v) in enumerate(zip(result_shardings, jaxpr.outvars)):
            if s is not None:
                result_decls[i] += f" {{sdy.sharding = {module.sdy_sharding(s, v.aval.ndim)}}}"
    partitions = len(devices) if devices is not None else 1
    attrs = f"mhlo.num_partitions = {partitions} : i32, mhlo.num_replicas = {num_replicas} : i32"
    body = "\n".join(e.lines)
    ret = f'    "func.return"({", ".join(outs)}) : ({", ".join(out_types)}) -> ()'
    text = (f"module @{_symbol(name)} attributes {{{attrs}}} {{\n"
            f"{module.mesh_declarations()}"
            f"  func.func public @main({', '.join(arg_decls)}) -> ({', '.join(result_decls)}) {{\n"
            f"{body}\n{ret}\n  }}\n{''.join(module.functions)}}}\n")
    return text, const_args
