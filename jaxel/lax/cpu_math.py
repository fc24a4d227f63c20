"""lgamma and digamma through jaxlib's CPU kernels, as JAX 0.12.1 lowers them on CPU.

JAX 0.12.1 computes these with typed-FFI custom calls (``cpu_lgamma_ffi``, ``cpu_digamma_ffi``)
rather than XLA's ``chlo.lgamma``/``chlo.digamma`` expansions; the two differ in the last bits,
and random samplers built on lgamma (poisson, gamma) depend on them. The kernel is elementwise:
every dimension is a batch dimension (``num_batch_dims``), row-major layout.
"""
from __future__ import annotations

from jaxel.lowering.emitter import tensor_type


def _kernel_lowering(target: str):
    def lowering(ctx, x, **params):
        from jaxel.runtime.lapack import ensure_cpu_math_registered
        ensure_cpu_math_registered()
        aval = ctx.avals_in[0]
        dims = list(range(aval.ndim - 1, -1, -1))
        layout = (f"dense<[{', '.join(map(str, dims))}]> : tensor<{len(dims)}xindex>" if dims
                  else "dense<> : tensor<0xindex>")
        attrs = (f'api_version = 4 : i32, call_target_name = "{target}", backend_config = {{}}, '
                 f'mhlo.frontend_attributes = {{num_batch_dims = "{aval.ndim}"}}, '
                 f"operand_layouts = [{layout}], result_layouts = [{layout}]")
        return ctx.e.op1("stablehlo.custom_call", [x], tensor_type(ctx.avals_out[0]), attrs)
    lowering.__doc__ = f"Lowering to jaxlib's ``{target}`` CPU kernel."
    return lowering


lgamma_lowering = _kernel_lowering("cpu_lgamma_ffi")
digamma_lowering = _kernel_lowering("cpu_digamma_ffi")
