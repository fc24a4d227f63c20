"""Function transformations of the NumPy API, built on ``jaxel.vmap``: vectorize (with
generalized-ufunc ``signature``), apply_along_axis, apply_over_axes; plus ``iterable``,
``einsum_path`` and the scalar-type aliases JAX exports (``bool``, ``int_``, ``double``, ...).
"""
from __future__ import annotations

import builtins
import functools
import re

import numpy as np

import jaxel.numpy as jnp
from jaxel import dtypes as _dtypes
from jaxel.numpy._util import canonicalize_axis, check_arraylike

# ---- scalar-type aliases (as jax.numpy defines them; the 64-bit ones canonicalize to 32-bit
# when x64 is off, like every 64-bit dtype) -------------------------------------------------------
bool = np.bool_  # noqa: A001
int_ = np.int64
uint = np.uint64
float_ = np.float64
complex_ = np.complex128
double = np.float64
single = np.float32
cdouble = np.complex128
csingle = np.complex64
object_ = np.object_


def iterable(y):
    """True if ``iter(y)`` works.

    Example::

        >>> jnp.iterable([1, 2]), jnp.iterable(2)
        (True, False)
    """
    try:
        iter(y)
    except TypeError:
        return False
    return True


def _vmap():
    import jaxel
    return jaxel.vmap


# ---- apply_along_axis / apply_over_axes --------------------------------------------------------
def apply_along_axis(func1d, axis, arr, *args, **kwargs):
    """Apply ``func1d`` to every 1-D slice of ``arr`` along ``axis`` (vectorised with
    ``vmap``); the slice's axis is replaced by the dimensions of ``func1d``'s result.

    Example::

        >>> jnp.apply_along_axis(jnp.sum, 1, jnp.arange(6).reshape(2, 3))
        Array([ 3, 12], dtype=int32)
    """
    check_arraylike("apply_along_axis", arr)
    a = jnp.asarray(arr)
    nd = a.ndim
    axis = canonicalize_axis(axis, nd)
    vmap = _vmap()

    def func(x):
        return func1d(x, *args, **kwargs)
    # Dimensions after ``axis`` are mapped innermost (their results go last), the ones before
    # outermost (their results go first).
    for i in builtins.range(1, nd - axis):
        func = vmap(func, in_axes=i, out_axes=-1)
    for _ in builtins.range(axis):
        func = vmap(func, in_axes=0, out_axes=0)
    return func(a)


def apply_over_axes(func, a, axes):
    """Apply ``func(a, axis)`` repeatedly over ``axes``, keeping reduced axes as size 1.

    Example::

        >>> jnp.apply_over_axes(jnp.sum, jnp.ones((2, 3, 4)), [0, 2])
        Array([[[8.],
                [8.],
                [8.]]], dtype=float32)
    """
    check_arraylike("apply_over_axes", a)
    a = jnp.asarray(a)
    for axis in axes:
        b = func(a, axis)
        b = jnp.asarray(b)
        if b.ndim == a.ndim:
            a = b
        elif b.ndim == a.ndim - 1:
            a = jnp.expand_dims(b, canonicalize_axis(axis, a.ndim))
        else:
            raise ValueError("function is not returning an array of the correct shape")
    return a


# ---- vectorize ---------------------------------------------------------------------------------
_DIM = r"\w+"
_CORE = rf"(?:{_DIM}(?:,{_DIM})*)?"
_ARG = rf"\({_CORE}\)"
_ARGS = rf"{_ARG}(?:,{_ARG})*"
_SIGNATURE = rf"^{_ARGS}->{_ARGS}$"


def _parse_signature(signature):
    sig = re.sub(r"\s+", "", signature)
    if not re.match(_SIGNATURE, sig):
        raise ValueError(f"not a valid gufunc signature: {signature}")
    ins, outs = sig.split("->")

    def parse(part):
        return [tuple(re.findall(_DIM, arg)) for arg in re.findall(_ARG, part)]
    return parse(ins), parse(outs)


def vectorize(pyfunc, *, excluded=frozenset(), signature=None):
    """Vectorise ``pyfunc`` over leading (broadcast) dimensions with ``vmap``.

    Args:
      pyfunc: the function; by default it sees scalars.
      excluded: positions (ints) or keyword names (strs) of arguments passed through as they
        are.
      signature: a generalized-ufunc signature such as ``"(m,n),(n)->(m)"`` naming the core
        dimensions each argument and result keeps; the others are broadcast and mapped. Core
        sizes must agree between arguments and with the results.

    Returns:
      The vectorised function. Keyword arguments not in ``excluded`` are vectorised like
      positional ones (with scalar core).

    Example::

        >>> f = jnp.vectorize(jnp.dot, signature="(n),(n)->()")
        >>> f(jnp.ones((3, 2)), jnp.ones(2))
        Array([2., 2., 2.], dtype=float32)
    """
    if any(not isinstance(e, (int, str)) for e in excluded):
        raise TypeError(f"jnp.vectorize: excluded must contain only integers and strings, got "
                        f"{excluded!r}")
    if any(isinstance(e, int) and e < 0 for e in excluded):
        raise ValueError(f"jnp.vectorize: excluded may not contain negative integers, got "
                         f"{excluded!r}")

    @functools.wraps(pyfunc)
    def wrapped(*args, **kwargs):
        static_pos = {i: a for i, a in enumerate(args) if i in excluded or a is None}
        static_kw = {k: v for k, v in kwargs.items() if k in excluded}
        dyn_args = [a for i, a in enumerate(args) if i not in static_pos]
        dyn_keys = [k for k in kwargs if k not in excluded]
        dyn = dyn_args + [kwargs[k] for k in dyn_keys]
        npos = len(args)

        def call(*vals):
            pos_vals = list(vals[:len(dyn_args)])
            kw_vals = dict(zip(dyn_keys, vals[len(dyn_args):]))
            full = []
            it = iter(pos_vals)
            for i in builtins.range(npos):
                full.append(static_pos[i] if i in static_pos else next(it))
            return pyfunc(*full, **kw_vals, **static_kw)

        if signature is None:
            in_core = [()] * len(dyn)
            out_core = None
        else:
            in_core, out_core = _parse_signature(signature)
            if any(i in static_pos for i in builtins.range(npos)) and \
                    len(in_core) == npos:
                in_core = [c for i, c in enumerate(in_core) if i not in static_pos]
            in_core = in_core + [()] * len(dyn_keys)
            if len(in_core) != len(dyn):
                raise TypeError(f"wrong number of positional arguments: expected "
                                f"{len(in_core) - len(dyn_keys)}, got {len(dyn_args)} "
                                f"(signature {signature!r})")
        check_arraylike("vectorize", *dyn)
        dyn = [jnp.asarray(a) for a in dyn]
        sizes = {}
        loop_shapes = []
        for a, core in zip(dyn, in_core):
            nc = len(core)
            if a.ndim < nc:
                raise ValueError(f"input with shape {a.shape} does not have enough dimensions "
                                 f"for its core dimensions {core} (signature {signature!r})")
            for name, d in zip(core, a.shape[a.ndim - nc:]):
                if sizes.setdefault(name, d) != d:
                    raise ValueError(f"inconsistent size for core dimension {name!r}: {d} vs "
                                     f"{sizes[name]} (signature {signature!r})")
            loop_shapes.append(a.shape[:a.ndim - nc])
        loop = jnp.broadcast_shapes(*loop_shapes) if loop_shapes else ()
        dyn = [jnp.broadcast_to(a, loop + a.shape[a.ndim - len(core):])
               for a, core in zip(dyn, in_core)]

        def checked(*vals):
            out = call(*vals)
            if out_core is None:
                return out
            outs = out if isinstance(out, tuple) else (out,)
            if len(out_core) != len(outs) or (len(out_core) == 1 and isinstance(out, tuple)):
                raise ValueError(f"wrong number of outputs from the function: expected "
                                 f"{len(out_core)}, got {len(outs)} (signature {signature!r})")
            for o, core in zip(outs, out_core):
                shape = jnp.shape(o)
                if len(shape) != len(core):
                    raise ValueError(f"output shape {shape} does not match core dimensions "
                                     f"{core} (signature {signature!r})")
                for name, d in zip(core, shape):
                    if sizes.setdefault(name, d) != d:
                        raise ValueError(f"inconsistent size for core dimension {name!r}: {d} "
                                         f"vs {sizes[name]} (signature {signature!r})")
            return out

        f = checked
        vmap = _vmap()
        for _ in builtins.range(len(loop)):
            f = vmap(f, in_axes=0)
        return f(*dyn)

    return wrapped


# ---- einsum_path -------------------------------------------------------------------------------
def einsum_path(subscripts, /, *operands, optimize="auto"):
    """A contraction order for ``einsum`` (a list of operand-index tuples, as JAX returns)
    and NumPy's printable report, planned from the operands' shapes.

    Example::

        >>> path, _ = jnp.einsum_path("ij,jk,kl->il", jnp.ones((2, 3)), jnp.ones((3, 4)),
        ...                           jnp.ones((4, 5)))
        >>> len(path)  # two pairwise contractions
        2
    """
    # Only shapes matter: plan on zero-strided NumPy stand-ins (no data is read).
    shaped = [np.broadcast_to(np.zeros((), np.float32), jnp.shape(o)) if not isinstance(o, str)
              else o for o in operands]
    opt = "greedy" if optimize in ("auto", True) else optimize
    if isinstance(opt, list):
        opt = ["einsum_path", *opt]
    path, report = np.einsum_path(subscripts, *shaped, optimize=opt)
    return [tuple(p) for p in path[1:]], report


__all__ = ["bool", "int_", "uint", "float_", "complex_", "double", "single", "cdouble",
           "csingle", "object_", "iterable", "apply_along_axis", "apply_over_axes",
           "vectorize", "einsum_path"]
