"""Public automatic differentiation API: ``grad``, ``value_and_grad``, ``jvp``, ``vjp``,
``linearize``, ``linear_transpose``, ``jacfwd``, ``jacrev``, ``jacobian``, ``hessian``.

Thin pytree wrappers over the flat machinery in ``jaxel/transforms``: forward mode is the JVP
interpreter; reverse mode is linearize (JVP + partial evaluation) followed by transposition.
"""
from __future__ import annotations

import numpy as np

from jaxel import dtypes as _dtypes
from jaxel import tree_util
from jaxel.transforms.ad_util import (Zero, aval_of, float0, instantiate, is_differentiable_dtype,
                                      tangent_aval, UndefinedPrimal)
from jaxel.transforms.jvp import check_tangent_matches, jvp_flat
from jaxel.tracing.core import _state
from jaxel.transforms.linearize import linearize_flat
from jaxel.transforms.transpose import backward_pass


# ---- helpers ---------------------------------------------------------------------------------
def _wraps(fun):
    """Copy ``fun``'s name and docstring onto a transformed function. (Not functools.wraps:
    it would also copy ``fun.__dict__``, e.g. a jitted function's caches.)"""
    def decorate(wrapper):
        for attr in ("__name__", "__qualname__", "__doc__", "__module__"):
            try:
                setattr(wrapper, attr, getattr(fun, attr))
            except (AttributeError, TypeError):
                pass
        wrapper.__wrapped__ = fun
        return wrapper
    return decorate


def _fun_name(fun):
    return getattr(fun, "__name__", None) or type(fun).__name__


def _normalize_argnums(fun, argnums, nargs, api):
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)
    for a in nums:
        if not isinstance(a, int):
            raise TypeError(f"{api}: argnums must be an int or a tuple of ints, got {argnums!r}.")
        if not -nargs <= a < nargs:
            raise TypeError(
                f"{api}({_fun_name(fun)}): argnums={argnums!r} refers to positional argument "
                f"{a}, but the function was called with {nargs} positional argument(s). "
                "(Keyword arguments cannot be differentiated; pass them positionally.)")
    return single, tuple(a % nargs for a in nums)


def _as_array(x):
    """Python scalars returned by user code (e.g. a custom rule) become arrays, as in JAX;
    float0 NumPy arrays stay NumPy arrays."""
    if isinstance(x, (bool, int, float, complex)):
        from jaxel.numpy import asarray
        return asarray(x)
    return x


def _check_input_dtypes(leaves, api, allow_int, holomorphic):
    for x in leaves:
        aval = aval_of(x)
        dt = aval.dtype
        if holomorphic:
            if dt.kind != "c":
                raise TypeError(f"{api} with holomorphic=True requires inputs with complex dtype, "
                                f"but got {dt.name}.")
        elif not is_differentiable_dtype(dt) and not allow_int:
            raise TypeError(
                f"{api} requires real- or complex-valued inputs (input dtype that is a "
                f"sub-dtype of np.inexact), but got {dt.name}. If you want to use Boolean- or "
                "integer-valued inputs, use vjp or set allow_int to True.")


def _check_scalar_output(out, api, holomorphic):
    aval = aval_of(out)
    if aval.shape != ():
        raise TypeError(f"Gradient only defined for scalar-output functions. Output had shape: "
                        f"{aval.shape}. ({api}: reduce the output, e.g. with .sum() or .mean(), "
                        "or use jaxel.vjp / jaxel.jacrev for non-scalar outputs.)")
    dt = aval.dtype
    if holomorphic:
        if dt.kind != "c":
            raise TypeError(f"{api} with holomorphic=True requires outputs with complex dtype, "
                            f"but got {dt.name}.")
    elif dt.kind == "c":
        raise TypeError(f"{api} requires real-valued outputs (output dtype that is a sub-dtype "
                        f"of np.floating), but got {dt.name}. For holomorphic differentiation, "
                        "pass holomorphic=True. For differentiating non-holomorphic functions "
                        "involving complex outputs, use jaxel.vjp directly.")
    elif not is_differentiable_dtype(dt):
        raise TypeError(f"{api} requires real-valued outputs (output dtype that is a sub-dtype "
                        f"of np.floating), but got {dt.name}.")


def _ones_like(x):
    from jaxel.lax.shape_ops import broadcast_in_dim_p
    from jaxel.tracing.core import literal
    a = aval_of(x)
    one = literal(1, a.dtype, a.weak_type)
    return broadcast_in_dim_p.bind(one, shape=a.shape, broadcast_dimensions=(), sharding=None)


def _materialize(ct):
    return instantiate(ct) if type(ct) is Zero else ct


# ---- vjp / grad --------------------------------------------------------------------------------
def _vjp_flat(flat_fun, primals):
    """``(primals_out, pullback)`` where ``pullback(cts_out) -> cts_in`` (materialised)."""
    primals_out, lin = linearize_flat(flat_fun, primals)

    def pullback(cts_out):
        cts = [ct for ct, z in zip(cts_out, lin.out_zero) if not z]
        args = [UndefinedPrimal(a) for a in lin.in_avals]
        cts_in = backward_pass(lin.jaxpr.jaxpr, lin.jaxpr.consts, args, cts)
        out = [_materialize(c) for c in cts_in]
        # Inside a shard_map body (check_vma) a cotangent varies over no more devices than its
        # primal: the trace sums the surplus (JAX's pvary transposes), see jaxel/parallel/vma.py.
        match = getattr(_state.trace, "match_cotangents", None)
        return out if match is None else match(primals, out)

    return primals_out, pullback, lin


def vjp(fun, *primals, has_aux=False, reduce_axes=()):
    """Evaluate ``fun(*primals)`` and return its vector-Jacobian product function.

    Returns ``(primals_out, vjp_fn)`` (plus ``aux`` with ``has_aux``); ``vjp_fn(ct)`` takes a
    cotangent with the structure of ``primals_out`` and returns a tuple with one cotangent per
    primal.

    Example::

        >>> y, f_vjp = jaxel.vjp(jnp.sin, 0.5)
        >>> f_vjp(1.0)
        (Array(0.87758255, dtype=float32, weak_type=True),)
    """
    del reduce_axes
    leaves, in_tree = tree_util.tree_flatten(primals)
    out_store = {}

    def flat_fun(*xs):
        out = fun(*tree_util.tree_unflatten(in_tree, list(xs)))
        if has_aux:
            if not (isinstance(out, (tuple, list)) and len(out) == 2):
                raise TypeError(f"vjp with has_aux=True requires {_fun_name(fun)} to return a "
                                f"pair (output, aux), got {type(out).__name__}.")
            out, aux = out
            aux_leaves, out_store["aux_tree"] = tree_util.tree_flatten(aux)
        else:
            aux_leaves = []
        out_leaves, out_store["tree"] = tree_util.tree_flatten(out)
        out_store["n"] = len(out_leaves)
        return list(out_leaves) + list(aux_leaves)

    outs, _, lin = _vjp_flat(flat_fun, leaves)
    n = out_store["n"]
    out_tree = out_store["tree"]
    primals_out = tree_util.tree_unflatten(out_tree, outs[:n])
    pullback = _VjpFunction(_fun_name(fun), lin, in_tree, out_tree,
                            [aval_of(o) for o in outs])
    vjp_fn = VJP(pullback, list(lin.jaxpr.consts))
    if has_aux:
        aux = tree_util.tree_unflatten(out_store["aux_tree"], outs[n:])
        return primals_out, vjp_fn, aux
    return primals_out, vjp_fn


class VJP:
    """The function ``vjp`` returns: ``vjp_fn(ct)`` is the vector-Jacobian product.

    A pytree whose leaves are the residuals (as JAX's ``VJP``), so it can be returned from
    and passed to ``jit``-compiled functions, vmapped over, or tree-mapped.
    """

    __slots__ = ("fun", "residuals")

    def __init__(self, fun, residuals):
        self.fun = fun
        self.residuals = residuals

    def __call__(self, ct, *extra_args):
        if extra_args:
            raise TypeError(
                f"The function returned by `vjp` applied to {self.fun.name} was called with "
                f"{len(extra_args) + 1} arguments, but it takes a single argument: the "
                "cotangent of the single value the differentiated function returned (a tuple "
                "or other container if it returned several).")
        return self.fun(self.residuals, ct)


tree_util.register_pytree_node(VJP, lambda v: ((v.residuals,), v.fun),
                               lambda fun, children: VJP(fun, *children))


class _VjpFunction:
    """The static part of a vjp function: the linear jaxpr (without its residuals, which the
    ``Partial`` around it holds) and the structures of the inputs and outputs.
    ``self(residuals, ct)`` is the vector-Jacobian product."""

    __slots__ = ("name", "jaxpr", "in_avals", "out_zero", "in_tree", "out_tree", "out_avals",
                 "n_out", "__weakref__")

    def __init__(self, name, lin, in_tree, out_tree, out_avals):
        self.name = name
        self.jaxpr = lin.jaxpr.jaxpr
        self.in_avals = lin.in_avals
        self.out_zero = lin.out_zero
        self.in_tree = in_tree
        self.out_tree = out_tree
        self.n_out = out_tree.num_leaves
        self.out_avals = out_avals  # primal outputs, then aux outputs

    def __call__(self, residuals, ct):
        ct_leaves, ct_tree = tree_util.tree_flatten(ct)
        if ct_tree != self.out_tree:
            raise TypeError(
                f"The cotangent passed to the vjp function of {self.name} has structure "
                f"{ct_tree}, but the function's output has structure {self.out_tree}; they "
                "must match.")
        for i, (c, oa) in enumerate(zip(ct_leaves, self.out_avals)):
            ca, oa = aval_of(c), tangent_aval(oa)
            if ca.shape != oa.shape:
                raise ValueError(
                    f"The cotangent for output leaf {i} of {self.name} has shape "
                    f"{ca.shape}, but the output has shape {oa.shape}; they must match.")
        cts = [c if aval_of(c).dtype != float0 else Zero(aval_of(c)) for c in ct_leaves]
        cts = cts + [Zero(tangent_aval(a)) for a in self.out_avals[self.n_out:]]
        cts = [c for c, z in zip(cts, self.out_zero) if not z]
        args = [UndefinedPrimal(a) for a in self.in_avals]
        cts_in = backward_pass(self.jaxpr, list(residuals), args, cts)
        return tuple(tree_util.tree_unflatten(self.in_tree, [_materialize(c) for c in cts_in]))


def value_and_grad(fun, argnums=0, has_aux=False, holomorphic=False, allow_int=False,
                   reduce_axes=()):
    """A function computing ``fun``'s value and its gradient with respect to ``argnums``.

    ``fun`` must return a scalar (real, or complex with ``holomorphic=True``); with
    ``has_aux`` it returns ``(scalar, aux)`` and the result is ``((value, aux), grad)``.

    Example::

        >>> jaxel.value_and_grad(lambda x: x ** 2)(3.0)
        (Array(9., dtype=float32, weak_type=True), Array(6., dtype=float32, weak_type=True))
    """
    del reduce_axes
    api = "grad" if getattr(fun, "_jaxel_grad_api", False) else "value_and_grad"

    @_wraps(fun)
    def value_and_grad_f(*args, **kwargs):
        single, nums = _normalize_argnums(fun, argnums, len(args), api)
        dyn = tuple(args[i] for i in nums)
        leaves, in_tree = tree_util.tree_flatten(dyn)
        _check_input_dtypes(leaves, api, allow_int, holomorphic)
        store = {}

        def flat_fun(*xs):
            new_dyn = tree_util.tree_unflatten(in_tree, list(xs))
            full = list(args)
            for i, v in zip(nums, new_dyn):
                full[i] = v
            out = fun(*full, **kwargs)
            if has_aux:
                if not (isinstance(out, (tuple, list)) and len(out) == 2):
                    raise TypeError(f"{api} with has_aux=True requires {_fun_name(fun)} to "
                                    f"return a pair (output, aux), got {type(out).__name__}.")
                out, aux = out
                aux_leaves, store["aux_tree"] = tree_util.tree_flatten(aux)
            else:
                aux_leaves = []
            if not hasattr(out, "shape") and not isinstance(out, (int, float, complex)):
                raise TypeError(f"Gradient only defined for scalar-output functions; "
                                f"{_fun_name(fun)} returned {type(out).__name__}.")
            _check_scalar_output(out, api, holomorphic)
            return [out] + list(aux_leaves)

        outs, pullback, lin = _vjp_flat(flat_fun, leaves)
        value = outs[0]
        ct = _ones_like(value)
        cts = [ct] + [Zero(a) for a in lin.out_avals[1:]]
        grads = pullback(cts)
        g = tree_util.tree_unflatten(in_tree, grads)
        g = g[0] if single else g
        if has_aux:
            aux = tree_util.tree_unflatten(store["aux_tree"], outs[1:])
            return (value, aux), g
        return value, g

    return value_and_grad_f


def grad(fun, argnums=0, has_aux=False, holomorphic=False, allow_int=False, reduce_axes=()):
    """The gradient of scalar-valued ``fun`` with respect to positional argument(s) ``argnums``.

    Returns a function with ``fun``'s signature returning the gradient (with the structure of
    the selected arguments; a tuple when ``argnums`` is a tuple), or ``(grad, aux)`` with
    ``has_aux``.

    Example::

        >>> jaxel.grad(jnp.sin)(0.0)
        Array(1., dtype=float32, weak_type=True)
    """
    vg = value_and_grad(_GradApi(fun), argnums, has_aux, holomorphic, allow_int, reduce_axes)

    @_wraps(fun)
    def grad_f(*args, **kwargs):
        out, g = vg(*args, **kwargs)
        if has_aux:
            return g, out[1]
        return g

    return grad_f


class _GradApi:
    """Marks a function differentiated through ``grad`` (for error messages naming ``grad``)."""

    _jaxel_grad_api = True

    def __init__(self, fun):
        self.fun = fun
        self.__name__ = _fun_name(fun)

    def __call__(self, *args, **kwargs):
        return self.fun(*args, **kwargs)


# ---- jvp / linearize -------------------------------------------------------------------------
def _check_jvp_trees(primals, tangents, api):
    if not isinstance(primals, (tuple, list)):
        raise TypeError(f"{api}: primal arguments must be a tuple or list, got "
                        f"{type(primals).__name__}.")
    if not isinstance(tangents, (tuple, list)):
        raise TypeError(f"{api}: tangent arguments must be a tuple or list, got "
                        f"{type(tangents).__name__}.")
    if len(primals) != len(tangents):
        raise TypeError(f"{api}: primal and tangent arguments must be sequences of the same "
                        f"length, got {len(primals)} primals and {len(tangents)} tangents.")
    p_leaves, p_tree = tree_util.tree_flatten(tuple(primals))
    t_leaves, t_tree = tree_util.tree_flatten(tuple(tangents))
    if p_tree != t_tree:
        raise TypeError(f"{api}: primal and tangent arguments must have the same tree "
                        f"structure; got primal structure {p_tree} and tangent structure "
                        f"{t_tree}.")
    for i, (p, t) in enumerate(zip(p_leaves, t_leaves)):
        check_tangent_matches(p, t, f"{api} (leaf {i} of the arguments)")
    return p_leaves, t_leaves, p_tree


def jvp(fun, primals, tangents, has_aux=False):
    """Forward-mode Jacobian-vector product: ``(fun(*primals), J @ tangents)``.

    Example::

        >>> jaxel.jvp(jnp.sin, (0.0,), (2.0,))
        (Array(0., dtype=float32, weak_type=True), Array(2., dtype=float32, weak_type=True))
    """
    p_leaves, t_leaves, in_tree = _check_jvp_trees(primals, tangents, "jvp")
    store = {}

    def flat_fun(*xs):
        out = fun(*tree_util.tree_unflatten(in_tree, list(xs)))
        if has_aux:
            out, aux = out
            aux_leaves, store["aux_tree"] = tree_util.tree_flatten(aux)
        else:
            aux_leaves = []
        leaves, store["tree"] = tree_util.tree_flatten(out)
        store["n"] = len(leaves)
        return list(leaves) + list(aux_leaves)

    tangents_in = [Zero(aval_of(t)) if aval_of(t).dtype == float0 else t for t in t_leaves]
    outs, t_outs = jvp_flat(flat_fun, p_leaves, tangents_in)
    outs = [_as_array(o) for o in outs]
    t_outs = [_as_array(t) for t in t_outs]
    n = store["n"]
    primal_out = tree_util.tree_unflatten(store["tree"], outs[:n])
    tangent_out = tree_util.tree_unflatten(store["tree"], t_outs[:n])
    if has_aux:
        return primal_out, tangent_out, tree_util.tree_unflatten(store["aux_tree"], outs[n:])
    return primal_out, tangent_out


def linearize(fun, *primals, has_aux=False):
    """``(fun(*primals), f_jvp)`` where ``f_jvp(*tangents)`` evaluates the JVP at ``primals``
    using stored residuals (no recomputation of the primal).

    Example::

        >>> y, f_jvp = jaxel.linearize(jnp.sin, 0.0)
        >>> f_jvp(2.0)
        Array(2., dtype=float32, weak_type=True)
    """
    leaves, in_tree = tree_util.tree_flatten(primals)
    store = {}

    def flat_fun(*xs):
        out = fun(*tree_util.tree_unflatten(in_tree, list(xs)))
        if has_aux:
            out, aux = out
            aux_leaves, store["aux_tree"] = tree_util.tree_flatten(aux)
        else:
            aux_leaves = []
        out_leaves, store["tree"] = tree_util.tree_flatten(out)
        store["n"] = len(out_leaves)
        return list(out_leaves) + list(aux_leaves)

    outs, lin = linearize_flat(flat_fun, leaves)
    n = store["n"]
    out_tree = store["tree"]
    # A Partial (a pytree whose leaves are the residuals), as JAX's.
    f_jvp = tree_util.Partial(
        _LinearizedFunction(lin, in_tree, out_tree, n, [aval_of(x) for x in leaves]),
        list(lin.jaxpr.consts))
    primal_out = tree_util.tree_unflatten(out_tree, outs[:n])
    if has_aux:
        return primal_out, f_jvp, tree_util.tree_unflatten(store["aux_tree"], outs[n:])
    return primal_out, f_jvp


class _LinearizedFunction:
    """The static part of a linearized function: the linear jaxpr without its residuals
    (which the ``Partial`` around it holds). ``self(residuals, *tangents)`` is the JVP."""

    __slots__ = ("jaxpr", "out_avals", "out_zero", "in_tree", "out_tree", "n_out",
                 "primal_avals", "__weakref__")

    def __init__(self, lin, in_tree, out_tree, n_out, primal_avals):
        self.jaxpr = lin.jaxpr.jaxpr
        self.out_avals = lin.out_avals
        self.out_zero = lin.out_zero
        self.in_tree = in_tree
        self.out_tree = out_tree
        self.n_out = n_out
        self.primal_avals = primal_avals

    def __call__(self, residuals, *tangents):
        from jaxel.jaxpr.eval import eval_jaxpr
        t_leaves, t_tree = tree_util.tree_flatten(tangents)
        if t_tree != self.in_tree:
            raise TypeError(f"linearize: the tangents have structure {t_tree}, but the primals "
                            f"had structure {self.in_tree}; they must match.")
        for i, (p, t) in enumerate(zip(self.primal_avals, t_leaves)):
            check_tangent_matches(p, t, f"linearized function (leaf {i})")
        vals = eval_jaxpr(self.jaxpr, list(residuals), *t_leaves)
        it = iter(vals)
        out = [zeros_or(a) if z else next(it) for a, z in zip(self.out_avals, self.out_zero)]
        return tree_util.tree_unflatten(self.out_tree, out[:self.n_out])


def zeros_or(aval):
    """A materialised zero of ``aval`` (NumPy float0 zeros for integer tangents)."""
    return instantiate(Zero(aval))


def linear_transpose(fun, *primals, reduce_axes=()):
    """The transpose of the linear function ``fun``, whose inputs look like ``primals``
    (arrays or ShapeDtypeStructs; only shapes and dtypes are used).

    Example::

        >>> f_t = jaxel.linear_transpose(lambda x: 2.0 * x, 1.0)
        >>> f_t(1.0)
        (Array(2., dtype=float32, weak_type=True),)
    """
    del reduce_axes
    from jaxel.jaxpr.staging import trace_to_jaxpr
    from jaxel.tracing.avals import ShapedArray
    leaves, in_tree = tree_util.tree_flatten(primals)
    in_avals = [ShapedArray(x.shape, x.dtype, getattr(x, "weak_type", False))
                if hasattr(x, "shape") and hasattr(x, "dtype") and not hasattr(x, "aval")
                else aval_of(x) for x in leaves]
    for a in in_avals:
        if not is_differentiable_dtype(a.dtype):
            raise TypeError(f"linear_transpose only supports [float or complex] -> [float or "
                            f"complex] functions, but got an input of dtype {a.dtype.name}.")
    store = {}

    def flat_fun(*xs):
        out = fun(*tree_util.tree_unflatten(in_tree, list(xs)))
        out_leaves, store["tree"] = tree_util.tree_flatten(out)
        return out_leaves

    closed = trace_to_jaxpr(flat_fun, in_avals)
    out_tree = store["tree"]
    out_avals = closed.out_avals

    def transposed(*cts):
        ct = cts[0] if len(cts) == 1 else cts
        ct_leaves, ct_tree = tree_util.tree_flatten(ct)
        if ct_tree != out_tree:
            raise TypeError(f"linear_transpose: the cotangent has structure {ct_tree}, but "
                            f"the function's output has structure {out_tree}.")
        for c, a in zip(ct_leaves, out_avals):
            if aval_of(c).shape != a.shape:
                raise TypeError(f"linear_transpose: a cotangent has shape {aval_of(c).shape}, "
                                f"expected {a.shape}.")
        args = [UndefinedPrimal(a) for a in in_avals]
        out = backward_pass(closed.jaxpr, closed.consts, args, ct_leaves)
        return tuple(tree_util.tree_unflatten(in_tree, [_materialize(c) for c in out]))

    return transposed


# ---- Jacobians -------------------------------------------------------------------------------
def _std_basis(leaves):
    """Rows of the identity over the flattened leaves: a list of per-leaf tangent tuples."""
    sizes = [int(np.prod(aval_of(x).shape)) for x in leaves]
    total = sum(sizes)
    basis = []
    for k in range(total):
        row = []
        offset = 0
        for x, s in zip(leaves, sizes):
            a = aval_of(x)
            v = np.zeros(s, a.dtype)
            if offset <= k < offset + s:
                v[k - offset] = 1
            row.append(v.reshape(a.shape))
            offset += s
        basis.append(row)
    return basis, sizes


def _possible_downcast(x, example):
    """``x`` (a Jacobian block) with the dtype and weak type of ``example``, as JAX gives its
    Jacobians (the real part when ``x`` is complex and ``example`` is not)."""
    if isinstance(x, np.ndarray):  # float0 blocks of integer inputs stay as they are
        return x
    from jaxel.lax.elementwise import convert_element_type_p, real
    want = aval_of(example)
    if aval_of(x).dtype.kind == "c" and want.dtype.kind != "c":
        x = real(x)
    a = aval_of(x)
    if a.dtype == want.dtype and a.weak_type == want.weak_type:
        return x
    return convert_element_type_p.bind(x, new_dtype=want.dtype, weak_type=want.weak_type,
                                       sharding=None)


def _stacked_basis(leaves, sizes):
    """The identity over the flattened leaves as one array per leaf, shape
    ``(total, *leaf.shape)``: row ``k`` is the ``k``-th basis vector."""
    from jaxel import numpy as jnp
    total = sum(sizes)
    out, offset = [], 0
    for x, s in zip(leaves, sizes):
        a = aval_of(x)
        block = np.zeros((total, s), a.dtype)
        block[offset:offset + s] = np.eye(s, dtype=a.dtype)
        out.append(_possible_downcast(jnp.asarray(block.reshape((total,) + a.shape)), x))
        offset += s
    return out


def _stack_rows(rows, shape_tail):
    from jaxel import numpy as jnp
    if not rows:
        return jnp.zeros((0,) + shape_tail)
    if isinstance(rows[0], np.ndarray) and rows[0].dtype == float0:
        return np.stack(rows)  # float0 cotangents stay NumPy arrays, as in JAX
    return jnp.stack(rows)


def jacfwd(fun, argnums=0, has_aux=False, holomorphic=False):
    """The Jacobian of ``fun`` by forward mode (a JVP per input element, vectorised).

    The result has, per output leaf, shape ``output.shape + input.shape``.

    Example::

        >>> jaxel.jacfwd(lambda x: x ** 2)(jnp.array([1.0, 2.0]))
        Array([[2., 0.],
               [0., 4.]], dtype=float32)
    """
    from jaxel import numpy as jnp

    @_wraps(fun)
    def jac_f(*args, **kwargs):
        single, nums = _normalize_argnums(fun, argnums, len(args), "jacfwd")
        dyn = tuple(args[i] for i in nums)
        leaves, in_tree = tree_util.tree_flatten(dyn)
        _check_input_dtypes(leaves, "jacfwd", False, holomorphic)
        leaves = [jnp.asarray(x) for x in leaves]

        def f_flat(*xs):
            full = list(args)
            for i, v in zip(nums, tree_util.tree_unflatten(in_tree, list(xs))):
                full[i] = v
            return fun(*full, **kwargs)

        sizes = [int(np.prod(aval_of(x).shape)) for x in leaves]
        aux = None
        if sum(sizes):
            # Push the whole basis through one vectorised JVP (the primal output and aux do
            # not depend on the tangent, so they come back unbatched).
            basis = _stacked_basis(leaves, sizes)

            def push(*row):
                return jvp(f_flat, tuple(leaves), tuple(row), has_aux=has_aux)
            from jaxel.batching import vmap
            res = vmap(push, out_axes=(None, 0, None) if has_aux else (None, 0))(*basis)
            out, tangents = res[0], res[1]
            if has_aux:
                aux = res[2]
            t_leaves = tree_util.tree_flatten(tangents)[0]
        else:
            out = f_flat(*leaves)
            if has_aux:
                out, aux = out
        out_leaves, out_tree = tree_util.tree_flatten(out)
        per_out = []
        for j, o in enumerate(out_leaves):
            oshape = aval_of(o).shape
            if sum(sizes):
                stacked = t_leaves[j]  # (total_in, *oshape)
            else:
                stacked = _stack_rows([], oshape)
            moved = jnp.moveaxis(stacked, 0, -1) if stacked.ndim > 1 else stacked
            pieces = []
            offset = 0
            for x, s in zip(leaves, sizes):
                piece = moved[..., offset:offset + s]
                pieces.append(_possible_downcast(jnp.reshape(piece, oshape + aval_of(x).shape), o))
                offset += s
            per_in = tree_util.tree_unflatten(in_tree, pieces)
            per_out.append(per_in[0] if single else per_in)
        jac = tree_util.tree_unflatten(out_tree, per_out)
        return (jac, aux) if has_aux else jac

    return jac_f


def jacrev(fun, argnums=0, has_aux=False, holomorphic=False, allow_int=False):
    """The Jacobian of ``fun`` by reverse mode (a VJP per output element, vectorised).

    Example::

        >>> jaxel.jacrev(lambda x: x ** 2)(jnp.array([1.0, 2.0]))
        Array([[2., 0.],
               [0., 4.]], dtype=float32)
    """
    from jaxel import numpy as jnp

    @_wraps(fun)
    def jac_f(*args, **kwargs):
        single, nums = _normalize_argnums(fun, argnums, len(args), "jacrev")
        dyn = tuple(args[i] for i in nums)
        leaves, in_tree = tree_util.tree_flatten(dyn)
        _check_input_dtypes(leaves, "jacrev", allow_int, holomorphic)

        def f_dyn(*d):
            full = list(args)
            for i, v in zip(nums, d):
                full[i] = v
            return fun(*full, **kwargs)

        res = vjp(f_dyn, *dyn, has_aux=has_aux)
        out, pull = res[0], res[1]
        aux = res[2] if has_aux else None
        out_leaves, out_tree = tree_util.tree_flatten(out)
        sizes = [int(np.prod(aval_of(o).shape)) for o in out_leaves]
        vectorised = sum(sizes) > 0 and all(is_differentiable_dtype(aval_of(x).dtype)
                                            for x in leaves)
        if vectorised:
            # All cotangent rows at once through a vectorised VJP: (total_out, *x.shape).
            from jaxel.batching import vmap
            basis = _stacked_basis(out_leaves, sizes)
            all_rows = tree_util.tree_flatten(
                vmap(lambda *r: pull(tree_util.tree_unflatten(out_tree, list(r))))(*basis))[0]
        else:  # integer inputs (float0 cotangents) or nothing to differentiate: row by row
            basis, _ = _std_basis(out_leaves)
            rows = [pull(tree_util.tree_unflatten(out_tree, r)) for r in basis]
            in_leaves_list = [tree_util.tree_flatten(r)[0] for r in rows]
        per_out = []
        offset = 0
        for o, s in zip(out_leaves, sizes):
            oshape = aval_of(o).shape
            pieces = []
            for k, x in enumerate(leaves):
                xs = aval_of(x).shape
                if vectorised:
                    stacked = all_rows[k][offset:offset + s]
                else:
                    block = [in_leaves_list[r][k] for r in range(offset, offset + s)]
                    stacked = _stack_rows(block, xs)
                reshape = np.reshape if isinstance(stacked, np.ndarray) else jnp.reshape
                pieces.append(_possible_downcast(reshape(stacked, oshape + xs), x))
            per_in = tree_util.tree_unflatten(in_tree, pieces)
            per_out.append(per_in[0] if single else per_in)
            offset += s
        jac = tree_util.tree_unflatten(out_tree, per_out)
        return (jac, aux) if has_aux else jac

    return jac_f


jacobian = jacrev


def hessian(fun, argnums=0, has_aux=False, holomorphic=False):
    """The Hessian of scalar ``fun``: ``jacfwd(jacrev(fun))``.

    Example::

        >>> jaxel.hessian(lambda x: (x ** 3).sum())(jnp.array([1.0, 2.0]))
        Array([[ 6.,  0.],
               [ 0., 12.]], dtype=float32)
    """
    return jacfwd(jacrev(fun, argnums, has_aux=has_aux, holomorphic=holomorphic), argnums,
                  has_aux=has_aux, holomorphic=holomorphic)


__all__ = ["grad", "value_and_grad", "jvp", "vjp", "linearize", "linear_transpose", "jacfwd",
           "jacrev", "jacobian", "hessian", "_dtypes"]
