"""``linear_call``: a linear function with a user-supplied transpose (``jax.custom_derivatives``).

``linear_call_p`` carries the function's jaxpr (``callee``) and a memoised thunk that traces
the transpose on first need. It evaluates and lowers as ``callee``; its JVP applies it to the
tangents (the function is linear in its linear arguments); its transpose is another
``linear_call`` of the transpose, whose own transpose is the original function; vmap
vectorises both. Residual arguments are not differentiated, as in JAX.

``remat_opt_p`` is JAX's custom-rematerialisation primitive; jaxel has no ``defremat`` and
never binds it (it exists under JAX's name, and refuses to run).
"""
from __future__ import annotations

from jaxel import tree_util
from jaxel.jaxpr.eval import eval_jaxpr
from jaxel.jaxpr.staging import trace_to_jaxpr
from jaxel.lowering.lower import lower_jaxpr_body
from jaxel.tracing.core import Primitive
from jaxel.transforms.ad_util import Zero, aval_of, instantiate, zeros_like_aval

linear_call_p = Primitive("linear_call", multiple_results=True)


def _stage(fun, res_tree, n_res, second_tree, avals):
    """Trace ``fun(residuals, second)`` over flat avals to a closed jaxpr with its array
    constants hoisted. Returns ``(closed, consts, out_tree)``."""
    from jaxel.jit_primitive import closure_convert
    store = {}

    def flat(*xs):
        res = tree_util.tree_unflatten(res_tree, list(xs[:n_res]))
        second = tree_util.tree_unflatten(second_tree, list(xs[n_res:]))
        leaves, store["tree"] = tree_util.tree_flatten(fun(res, second))
        return leaves

    closed, consts = closure_convert(trace_to_jaxpr(flat, avals))
    return closed, consts, store["tree"]


class _Thunk:
    """Computes ``make()`` once, on first call (hashable by identity: a parameter)."""

    __slots__ = ("make", "value")

    def __init__(self, make):
        self.make, self.value = make, None

    def __call__(self):
        if self.value is None:
            self.value = self.make()
        return self.value


def linear_call(fun, fun_transpose, residual_args, linear_args):
    """Call ``fun(residual_args, linear_args)``, a function linear in ``linear_args``, with
    ``fun_transpose(residual_args, ct)`` as its transpose (``jax.custom_derivatives.
    linear_call``): reverse mode and ``linear_transpose`` use ``fun_transpose``.

    Example::

        >>> f = lambda r, x: x / r
        >>> t = lambda r, ct: ct / r
        >>> jaxel.linear_transpose(lambda x: linear_call(f, t, 3.0, x), 1.0)(6.0)
        (Array(2., dtype=float32, weak_type=True),)
    """
    res_leaves, res_tree = tree_util.tree_flatten(residual_args)
    lin_leaves, lin_tree = tree_util.tree_flatten(linear_args)
    res_avals = [aval_of(x) for x in res_leaves]
    callee, f_consts, out_tree = _stage(fun, res_tree, len(res_leaves), lin_tree,
                                        res_avals + [aval_of(x) for x in lin_leaves])

    def make_transpose():
        t, t_consts, t_tree = _stage(fun_transpose, res_tree, len(res_leaves), out_tree,
                                     res_avals + list(callee.out_avals))
        if t_tree != lin_tree:
            raise TypeError("transpose output pytree structure must match that of linear "
                            f"inputs, got output structure {t_tree} and input structure "
                            f"{lin_tree}.")
        return t, t_consts

    outs = linear_call_p.bind(*f_consts, *res_leaves, *lin_leaves, callee=callee,
                              transpose_thunk=_Thunk(make_transpose),
                              num_callee_consts=len(f_consts), num_res=len(res_leaves))
    return tree_util.tree_unflatten(out_tree, outs)


def _impl(*args, callee, **_):
    return eval_jaxpr(callee.jaxpr, callee.consts, *args)


def _lowering(ctx, *args, callee, **_):
    e = ctx.e
    consts = [e.constant(c, v.aval) for v, c in zip(callee.jaxpr.constvars, callee.consts)]
    return lower_jaxpr_body(e, callee.jaxpr, consts, list(args), ctx.module)


def _jvp(primals, tangents, *, callee, transpose_thunk, num_callee_consts, num_res):
    k = num_callee_consts + num_res
    if any(type(t) is not Zero for t in tangents[:k]):
        raise TypeError("linear_call: its residual arguments (and the values its function "
                        "closes over) cannot be differentiated; only the linear arguments can.")
    params = dict(callee=callee, transpose_thunk=transpose_thunk,
                  num_callee_consts=num_callee_consts, num_res=num_res)
    outs = linear_call_p.bind(*primals, **params)
    t_outs = linear_call_p.bind(*primals[:k], *[instantiate(t) for t in tangents[k:]], **params)
    return outs, t_outs


def _transpose(cts, *args, callee, transpose_thunk, num_callee_consts, num_res):
    transpose, t_consts = transpose_thunk()
    f_consts = args[:num_callee_consts]
    res = args[num_callee_consts:num_callee_consts + num_res]
    ct_avals = transpose.in_avals[len(t_consts) + num_res:]
    cts = [zeros_like_aval(a) if type(c) is Zero else c for c, a in zip(cts, ct_avals)]
    back = _Thunk(lambda: (callee, list(f_consts)))
    cts_in = linear_call_p.bind(*t_consts, *res, *cts, callee=transpose, transpose_thunk=back,
                                num_callee_consts=len(t_consts), num_res=num_res)
    return [None] * (num_callee_consts + num_res) + list(cts_in)


def _batch(axis, args, dims, *, callee, transpose_thunk, num_callee_consts, num_res):
    # Batched operands move to axis 0 and every output is batched at 0; the transpose is
    # vectorised the same way (its cotangents batched at 0) when first needed.
    from jaxel.transforms.batching import batch_jaxpr, move_axis
    args = [x if d is None else move_axis(x, d, 0) for x, d in zip(args, dims)]
    dims = [None if d is None else 0 for d in dims]
    n_out = len(callee.out_avals)
    new_callee, _ = batch_jaxpr(callee, axis, dims, [0] * n_out)
    res_dims = dims[num_callee_consts:num_callee_consts + num_res]

    def make_transpose():
        t, t_consts = transpose_thunk()
        t_dims = [None] * len(t_consts) + res_dims + [0] * n_out
        return batch_jaxpr(t, axis, t_dims, [0] * len(t.out_avals))[0], t_consts

    outs = linear_call_p.bind(*args, callee=new_callee, transpose_thunk=_Thunk(make_transpose),
                              num_callee_consts=num_callee_consts, num_res=num_res)
    return outs, [0] * n_out


linear_call_p.abstract_eval = lambda *avals, callee, **_: list(callee.out_avals)
linear_call_p.impl = _impl
linear_call_p.lowering = _lowering
linear_call_p.jvp = _jvp
linear_call_p.transpose = _transpose
linear_call_p.batch_axis = _batch
linear_call_p.pp_params = lambda params: {"callee": params["callee"],
                                          "num_callee_consts": params["num_callee_consts"],
                                          "num_res": params["num_res"]}


remat_opt_p = Primitive("remat_opt", multiple_results=True)


def _remat_opt_unsupported(*args, **params):
    raise NotImplementedError("remat_opt (custom rematerialisation, custom_vjp.defremat) is not "
                              "supported by jaxel.")


# Every rule refuses the same way (the registry tests require each rule to exist).
remat_opt_p.impl = _remat_opt_unsupported
remat_opt_p.abstract_eval = _remat_opt_unsupported
remat_opt_p.lowering = _remat_opt_unsupported
remat_opt_p.jvp = _remat_opt_unsupported
remat_opt_p.batch = _remat_opt_unsupported
