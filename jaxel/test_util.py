"""Testing helpers for users of jaxel: ``check_grads`` compares forward- and reverse-mode
derivatives of a function against finite differences, to any order."""
from __future__ import annotations

import numpy as np

from jaxel import tree_util
from jaxel.ad import jvp, vjp

_DEFAULT_EPS = {np.dtype(np.float16): 1e-1, np.dtype(np.float32): 1e-3,
                np.dtype(np.float64): 1e-5}
_DEFAULT_TOL = {np.dtype(np.float16): 1e-1, np.dtype(np.float32): 2e-2,
                np.dtype(np.float64): 1e-5}


def _dtype(x):
    dt = np.asarray(x).dtype
    return np.dtype(np.float32) if dt.kind == "c" and dt.itemsize == 8 else (
        np.dtype(np.float64) if dt.kind == "c" else dt)


def _random_like(x, rng):
    x = np.asarray(x)
    v = rng.standard_normal(x.shape)
    if x.dtype.kind == "c":
        v = v + 1j * rng.standard_normal(x.shape)
    return v.astype(x.dtype)


def _inner(a, b):
    return sum(np.sum(np.asarray(x, np.complex128) * np.asarray(y, np.complex128))
               for x, y in zip(tree_util.tree_leaves(a), tree_util.tree_leaves(b)))


def _assert_close(got, want, tol, what):
    for g, w in zip(tree_util.tree_leaves(got), tree_util.tree_leaves(want)):
        np.testing.assert_allclose(np.asarray(g, np.complex128), np.asarray(w, np.complex128),
                                   rtol=tol, atol=tol, err_msg=what)


def _tree_axpy(a, x, y):
    return tree_util.tree_map(lambda xi, yi: yi + a * np.asarray(xi), x, y)


def check_jvp(f, args, eps=None, atol=None, rtol=None, rng=None):
    """Check ``jvp(f)`` at ``args`` against a central finite difference along a random
    direction."""
    rng = rng or np.random.default_rng(0)
    tangents = tuple(_random_like(a, rng) for a in args)
    dt = _dtype(tree_util.tree_leaves(args)[0])
    eps = eps or _DEFAULT_EPS.get(dt, 1e-3)
    tol = atol or rtol or _DEFAULT_TOL.get(dt, 1e-2)
    _, t_out = jvp(f, args, tangents)
    plus = f(*[np.asarray(a) + eps * t for a, t in zip(args, tangents)])
    minus = f(*[np.asarray(a) - eps * t for a, t in zip(args, tangents)])
    fd = tree_util.tree_map(lambda p, m: (np.asarray(p, np.complex128) -
                                          np.asarray(m, np.complex128)) / (2 * eps), plus, minus)
    _assert_close(t_out, fd, tol, "JVP vs finite differences")


def check_vjp(f, args, atol=None, rtol=None, rng=None):
    """Check ``vjp(f)`` at ``args`` against ``jvp(f)`` with the identity
    ``<ct, J t> == <J^T ct, t>`` along random directions."""
    rng = rng or np.random.default_rng(1)
    tangents = tuple(_random_like(a, rng) for a in args)
    out, t_out = jvp(f, args, tangents)
    _, pullback = vjp(f, *args)
    ct = tree_util.tree_map(lambda o: _random_like(o, rng), out)
    ct_in = pullback(ct)
    # Real parts: a map of complex values is in general only R-linear (e.g. a real loss of
    # complex inputs), and for R-linear maps the pairing identity holds for Re(sum(a * b)).
    lhs, rhs = np.real(_inner(ct, t_out)), np.real(_inner(ct_in, tangents))
    dt = _dtype(tree_util.tree_leaves(args)[0])
    tol = atol or rtol or _DEFAULT_TOL.get(dt, 1e-2)
    scale = 1 + abs(lhs) + abs(rhs)
    if abs(lhs - rhs) > tol * scale:
        raise AssertionError(f"VJP is not the transpose of the JVP: <ct, J t> = {lhs}, "
                             f"<J^T ct, t> = {rhs}")


def check_grads(f, args, order, modes=("fwd", "rev"), atol=None, rtol=None, eps=None):
    """Check the derivatives of ``f`` at ``args`` up to ``order`` in the given ``modes``.

    ``modes`` holds ``"fwd"`` (JVP vs finite differences) and/or ``"rev"`` (VJP vs JVP). Higher
    orders check the derivatives of the derivative functions, as JAX's ``check_grads`` does.

    Example::

        >>> check_grads(jnp.sin, (1.0,), order=2)
    """
    from jaxel.numpy import asarray
    args = tuple(asarray(a) for a in args)  # canonical dtypes (float32 unless x64)
    rng = np.random.default_rng(0)

    def _check(fun, order_left):
        if "fwd" in modes:
            check_jvp(fun, args, eps=eps, atol=atol, rtol=rtol, rng=rng)
            if order_left > 1:
                tangents = tuple(_random_like(a, rng) for a in args)
                _check(lambda *xs: jvp(fun, xs, tangents)[1], order_left - 1)
        if "rev" in modes:
            check_vjp(fun, args, atol=atol, rtol=rtol, rng=rng)
            if order_left > 1:
                out = fun(*args)
                ct = tree_util.tree_map(lambda o: _random_like(o, rng), out)
                _check(lambda *xs: vjp(fun, *xs)[1](ct), order_left - 1)

    _check(f, order)


__all__ = ["check_grads", "check_jvp", "check_vjp"]
