"""Small top-level API names: ``typeof``, ``copy_to_host_async``, ``fwd_and_bwd``, and the
``Inline`` / ``CompilerEffortLevel`` enumerations."""
from __future__ import annotations

import enum

from jaxel import tree_util
from jaxel.tracing.core import abstractify


class Inline(enum.Enum):
    """How a nested jitted function is inlined into its caller (JAX's ``jax.Inline``).

    ``JAX_EARLY``: while tracing, into the enclosing jaxpr; ``JAX_LATE``: when lowering;
    ``XLA_EARLY`` / ``XLA_LATE``: kept as a call and inlined by XLA; ``AUTO``: let the library
    and XLA decide. jaxel inlines every nested jit when lowering, so all values behave alike.
    """

    JAX_EARLY = "jax_early"
    JAX_LATE = "jax_late"
    XLA_EARLY = "xla_early"
    XLA_LATE = "xla_late"
    AUTO = "auto"


class CompilerEffortLevel(enum.Enum):
    """How hard XLA should work at optimising (``O0`` least ... ``O3`` most); JAX's values."""

    UNKNOWN = 0
    O0 = 9
    O1 = 19
    O2 = 29
    O3 = 39


def typeof(x):
    """The abstract value (aval) of ``x``: ``ShapedArray`` for arrays, tracers and scalars.

    Python scalars give weakly typed avals (``typeof(1.0)`` is ``~float32[]``), as in JAX; a
    typed PRNG key gives a key aval of dtype ``key<fry>``.

    Example::

        >>> jaxel.typeof(jnp.ones((2, 3)))
        ShapedArray(float32[2,3])
    """
    from jaxel.random.keys import PRNGKeyArray, key_aval
    if type(x) is PRNGKeyArray:
        return key_aval(x)
    try:
        return abstractify(x)
    except TypeError:
        raise TypeError(f"Argument {x!r} of type {type(x)} is not a valid jaxel type: expected "
                        "an array, a NumPy array or a Python scalar.") from None


def copy_to_host_async(x):
    """Start copying every array leaf of the pytree ``x`` to the host; returns ``x``.

    Leaves without a ``copy_to_host_async`` method (Python scalars, NumPy arrays, ...) are left
    alone. A later ``np.asarray(leaf)`` then finds its host copy ready or under way.
    """
    for leaf in tree_util.tree_leaves(x):
        start = getattr(leaf, "copy_to_host_async", None)
        if start is not None:
            start()
    return x


class _BwdStatic:
    """The static half of ``fwd_and_bwd``'s residuals: the linear (tangent) program and the
    pytree structures. Compared by identity, so a jitted ``bwd`` compiles once per ``fwd``
    trace."""

    __slots__ = ("lin", "in_tree", "out_tree", "n_out")

    def __init__(self, lin, in_tree, out_tree, n_out):
        self.lin, self.in_tree, self.out_tree, self.n_out = lin, in_tree, out_tree, n_out

    def __repr__(self):
        return f"<fwd_and_bwd residual program for outputs {self.out_tree}>"


class Residuals:
    """What ``fwd`` hands to ``bwd``: the arrays the backward pass needs (the pytree children)
    and the program that uses them (static). Treat it as opaque."""

    __slots__ = ("static", "arrays")

    def __init__(self, static, arrays):
        self.static, self.arrays = static, list(arrays)

    def __repr__(self):
        return f"Residuals({len(self.arrays)} arrays)"


tree_util.register_pytree_node(
    Residuals, lambda r: (r.arrays, r.static), lambda static, arrays: Residuals(static, arrays))


def fwd_and_bwd(fun, argnums, has_aux=False, jitted=True):
    """Split reverse-mode differentiation of ``fun`` into two reusable functions.

    ``fwd(*args, **kwargs)`` returns ``(fun(*args, **kwargs), residuals)`` (with ``has_aux``,
    ``(out, residuals, aux)``); ``bwd(residuals, cotangent)`` returns the vector-Jacobian
    product for the arguments ``argnums`` (one value for an int ``argnums``, a tuple for a
    sequence). Unlike calling the function ``jaxel.vjp`` returns, ``bwd`` is an ordinary
    (jitted, with ``jitted=True``) function of arrays, so it compiles once and is reused.

    Example::

        >>> fwd, bwd = jaxel.fwd_and_bwd(lambda x, w: x @ w, argnums=(0, 1))
        >>> y, res = fwd(x, w)
        >>> dx, dw = bwd(res, jnp.ones_like(y))
    """
    from jaxel.ad import _materialize, _normalize_argnums, _vjp_flat
    from jaxel.transforms.ad_util import UndefinedPrimal, Zero, aval_of, float0
    from jaxel.transforms.transpose import backward_pass
    if not callable(fun):
        raise TypeError(f"fwd_and_bwd: expected a callable, got {fun!r}.")
    if not isinstance(argnums, int):
        argnums = tuple(argnums)
    single = isinstance(argnums, int)

    def fwd(*args, **kwargs):
        _, nums = _normalize_argnums(fun, argnums, len(args), "fwd_and_bwd")
        leaves, in_tree = tree_util.tree_flatten(tuple(args[i] for i in nums))
        store = {}

        def flat_fun(*xs):
            full = list(args)
            for i, v in zip(nums, tree_util.tree_unflatten(in_tree, list(xs))):
                full[i] = v
            out = fun(*full, **kwargs)
            aux_leaves = []
            if has_aux:
                if not (isinstance(out, (tuple, list)) and len(out) == 2):
                    raise TypeError("fwd_and_bwd with has_aux=True requires the function to "
                                    f"return a pair (output, aux), got {type(out).__name__}.")
                out, aux = out
                aux_leaves, store["aux_tree"] = tree_util.tree_flatten(aux)
            out_leaves, store["tree"] = tree_util.tree_flatten(out)
            store["n"] = len(out_leaves)
            return list(out_leaves) + list(aux_leaves)

        outs, _, lin = _vjp_flat(flat_fun, leaves)
        n = store["n"]
        res = Residuals(_BwdStatic(lin, in_tree, store["tree"], n), lin.jaxpr.consts)
        out = tree_util.tree_unflatten(store["tree"], outs[:n])
        if has_aux:
            return out, res, tree_util.tree_unflatten(store["aux_tree"], outs[n:])
        return out, res

    def bwd(residuals, cotangent):
        if type(residuals) is not Residuals:
            raise TypeError("bwd: the first argument must be the residuals returned by fwd, "
                            f"got {type(residuals).__name__}.")
        st = residuals.static
        ct_leaves, ct_tree = tree_util.tree_flatten(cotangent)
        if ct_tree != st.out_tree:
            raise TypeError(f"bwd: the cotangent has structure {ct_tree}, but the function's "
                            f"output has structure {st.out_tree}; they must match.")
        lin = st.lin
        for i, (c, a) in enumerate(zip(ct_leaves, lin.out_avals)):
            if aval_of(c).shape != a.shape:
                raise ValueError(f"bwd: the cotangent for output leaf {i} has shape "
                                 f"{aval_of(c).shape}, but the output has shape {a.shape}.")
        cts = [c if aval_of(c).dtype != float0 else Zero(aval_of(c)) for c in ct_leaves]
        cts = cts + [Zero(a) for a in lin.out_avals[st.n_out:]]
        cts = [c for c, z in zip(cts, lin.out_zero) if not z]
        args = [UndefinedPrimal(a) for a in lin.in_avals]
        cts_in = backward_pass(lin.jaxpr.jaxpr, residuals.arrays, args, cts)
        grads = tree_util.tree_unflatten(st.in_tree, [_materialize(c) for c in cts_in])
        return grads[0] if single else grads

    if jitted:
        from jaxel.api import jit
        return jit(fwd), jit(bwd)
    return fwd, bwd
