"""``jax.debug.callback``, ``jax.debug.print`` and ``jax.debug.breakpoint``.

All three bind ``debug_callback`` (``jaxel/callbacks/primitive.py``): an effectful primitive with
no results, called once per example under ``vmap`` and on the primal values under ``grad``.
"""
from __future__ import annotations

import builtins
import string
import sys

import numpy as np

from jaxel.callbacks.primitive import HostFunction, debug_callback_p


def callback(callback, *args, ordered=False, partitioned=False, **kwargs):
    """Call ``callback(*args, **kwargs)`` on the host for its side effects; returns None.

    Works eagerly and in traced code (jit, vmap: once per example, grad: on the forward values,
    scan/cond/while). The callback receives NumPy arrays in compiled code. ``ordered=True``
    keeps ordered debug callbacks in program order.

    Example::

        >>> jit(lambda x: callback(print, x))(jnp.arange(2))
        [0 1]
    """
    from jaxel import tree_util
    del partitioned  # every device's part runs the callback: there is nothing to choose
    flat, in_tree = tree_util.tree_flatten((args, kwargs))
    fn = HostFunction(callback, in_tree, (), None, "debug.callback")
    debug_callback_p.bind(*flat, callback=fn, result_avals=(), ordered=bool(ordered))


def _fields(fmt: str):
    """The field names ``fmt`` refers to (to tell positional from keyword placeholders)."""
    return [f for _, f, _, _ in string.Formatter().parse(fmt) if f is not None]


def print(fmt: str, *args, ordered: bool = False, **kwargs):  # noqa: A001 -- JAX's name
    """Print ``fmt.format(*args, **kwargs)`` on the host with the values' concrete contents.

    Under ``vmap`` one line per example; under ``jit`` when the program runs; under ``grad``
    in the forward pass. NumPy's print options at the call are used to show arrays.

    Example::

        >>> jit(lambda x: print("x = {x}", x=x))(1.0)
        x = 1.0
    """
    if not isinstance(fmt, str):
        raise TypeError(f"jaxel.debug.print takes a format string first, got {fmt!r}.")
    opts = np.get_printoptions()

    def show(*a, **kw):
        with np.printoptions(**opts):
            a = [np.asarray(v) for v in a]
            kw = {k: np.asarray(v) for k, v in kw.items()}
            builtins.print(fmt.format(*a, **kw), flush=True)

    show.__qualname__ = f"debug.print({fmt!r})"
    callback(show, *args, ordered=ordered, **kwargs)


def _is_array(v) -> bool:
    from jaxel.runtime.array import Array
    from jaxel.tracing.core import Tracer
    return isinstance(v, (Array, Tracer, np.ndarray, np.generic))


def breakpoint(*, backend=None, filter_frames=True, num_frames=None, ordered=None, token=None,
               **kwargs):  # noqa: A001 -- JAX's name
    """Enter Python's debugger (pdb) on the host with the caller's local variables, arrays
    holding their concrete values (also inside jit, vmap: once per example, and loops).

    The debugger reads ``sys.stdin`` and writes ``sys.stdout`` as they are when it starts. Use
    ``p x`` to look at a value and ``c`` to continue the program.

    Example::

        >>> def f(x):
        ...     y = x * 2
        ...     breakpoint()   # (Pdb) p y  -> Array(2., dtype=float32)
        ...     return y
    """
    del backend, filter_frames, num_frames, kwargs
    frame = sys._getframe(1)
    where = f"{frame.f_code.co_filename}:{frame.f_lineno} ({frame.f_code.co_name})"
    names, values, static = [], [], {}
    for k, v in frame.f_locals.items():
        if _is_array(v):
            names.append(k)
            values.append(v)
        else:
            static[k] = v
    glob = frame.f_globals
    del frame

    def enter(*concrete):
        import pdb
        ns = dict(static)
        ns.update(zip(names, concrete))
        dbg = pdb.Pdb(stdin=sys.stdin, stdout=sys.stdout)
        dbg.prompt = "(jaxel pdb) "
        dbg.message(f"Breakpoint at {where}")
        dbg.run(compile("pass", f"<breakpoint at {where}>", "exec"), dict(glob), ns)

    enter.__qualname__ = f"debug.breakpoint at {where}"
    callback(enter, *values, ordered=bool(ordered))
    return token


__all__ = ["callback", "print", "breakpoint"]
