"""Eager ``shard_map``: the equation alone, run as one program partitioned over the mesh, its
arguments laid out as the in_specs say and its results as the out_specs say."""
from __future__ import annotations

import weakref

# (body jaxpr) -> {(in_specs, out_specs, in avals): (closed program, program cache)}
_programs: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def run_shard_map(args, params):
    """Run ``shard_map_p`` eagerly on ``args`` (Arrays or host values)."""
    from jaxel.jaxpr.staging import trace_to_jaxpr
    from jaxel.parallel.primitive import shard_map_p
    from jaxel.sharding.program import run_partitioned
    from jaxel.sharding.shardings import NamedSharding
    from jaxel.tracing.eval_trace import to_device_array
    arrays = [to_device_array(x) for x in args]
    avals = tuple(a.aval for a in arrays)
    per = _programs.setdefault(params["jaxpr"], {})
    key = (params["in_specs"], params["out_specs"], params["manual_axes"], avals)
    hit = per.get(key)
    if hit is None:
        closed = trace_to_jaxpr(lambda *xs: shard_map_p.bind(*xs, **params), list(avals))
        hit = per[key] = (closed, {})
    closed, cache = hit
    mesh = params["mesh"]
    ins = [NamedSharding(mesh, s) for s in params["in_specs"]]
    outs = [NamedSharding(mesh, s) for s in params["out_specs"]]
    return run_partitioned(cache, closed, "shard_map", arrays, ins, outs)
