"""Vmapped contraction programs shared by the golden op-count generator
(``golden/make_vmap_op_counts.py``, run with real ``jax``) and the test that compares jaxel's
lowering with those counts (``test_vmap_dot_conv.py``, no jax needed).

``programs(lib)`` builds every program with the library passed in (the ``jax`` module or
``jaxel``): a dict ``name -> (fn, args)`` where ``fn`` is a vmapped (not yet jitted) function
and ``args`` are NumPy arrays, the same for both libraries.
"""
from __future__ import annotations

import re
from collections import Counter

import numpy as np

B = 3  # examples per vmapped batch

# Ops whose counts the test checks: at most JAX's ("no data movement JAX would not add"), or
# exactly JAX's (the contractions themselves).
AT_MOST = ("transpose", "reshape")
EQUAL = ("dot_general", "convolution")
COUNTED = AT_MOST + EQUAL + ("broadcast_in_dim",)

# An op name in either MLIR form: generic ``"stablehlo.transpose"(%0)`` or pretty
# ``stablehlo.transpose %0``; attributes such as ``#stablehlo.conv<...>`` are not ops.
_OP = re.compile(r'(?<![#\w.])"?stablehlo\.([a-z_0-9]+)"?')


def op_counts(text: str) -> dict:
    """``{op name: count}`` of the ``COUNTED`` StableHLO ops in a lowered module's text."""
    found = Counter(_OP.findall(text))
    return {op: found.get(op, 0) for op in COUNTED}


def _arr(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


def _stacked(rng, shape, axis):
    """B examples of ``shape`` stacked along ``axis`` (None: one unbatched array)."""
    if axis is None:
        return _arr(rng, *shape)
    return np.stack([_arr(rng, *shape) for _ in range(B)], axis=axis % (len(shape) + 1))


def _mlp(lib):
    jnp = lib.numpy

    def f(x, ws):
        w1, w2, w3 = ws
        return jnp.tanh(jnp.tanh(x @ w1) @ w2) @ w3
    return f


MLP_SHAPES = ((4, 8), ((8, 16), (16, 16), (16, 5)))

# name -> (x axis, weights axis)
MLP_PATTERNS = {
    "x0": (0, None), "x1": (1, None), "x-1": (-1, None),
    "x0-w0": (0, 0), "x1-w1": (1, 1), "x0-w1": (0, 1), "x-1-w-1": (-1, -1),
}

# name -> (lhs shape, rhs shape, conv kwargs); per-example shapes.
CONVS = {
    "nchw": ((2, 3, 8, 7), (4, 3, 3, 3),
             dict(window_strides=(1, 1), padding="SAME")),
    "nhwc": ((2, 8, 7, 3), (3, 3, 3, 4),
             dict(window_strides=(2, 1), padding="VALID",
                  dimension_numbers=("NHWC", "HWIO", "NHWC"))),
    "fgc2": ((2, 4, 7, 6), (6, 2, 3, 2),
             dict(window_strides=(1, 2), padding=((1, 2), (0, 1)), rhs_dilation=(2, 1),
                  feature_group_count=2)),
    "bgc2": ((4, 3, 9), (4, 3, 3),
             dict(window_strides=(2,), padding="VALID", batch_group_count=2)),
}

# name -> (lhs axis, rhs axis)
CONV_PATTERNS = {
    "lhs0": (0, None), "lhs1": (1, None), "lhs-1": (-1, None),
    "rhs0": (None, 0), "rhs1": (None, 1), "rhs-1": (None, -1),
    "both0": (0, 0), "both1": (1, 1), "both-1": (-1, -1),
}


def _conv(lib, kw):
    def f(x, w):
        return lib.lax.conv_general_dilated(x, w, precision=lib.lax.Precision.HIGHEST, **kw)
    return f


def program_specs(lib) -> dict:
    """``name -> (per-example fn, in_axes, batched args)`` for ``lib``."""
    out = {}
    rng = np.random.default_rng(0)
    xs, wss = MLP_SHAPES
    for name, (xa, wa) in MLP_PATTERNS.items():
        args = (_stacked(rng, xs, xa), tuple(_stacked(rng, s, wa) for s in wss))
        out[f"mlp-{name}"] = (_mlp(lib), (xa, wa), args)
    for cname, (ls, rs, kw) in CONVS.items():
        for pname, (la, ra) in CONV_PATTERNS.items():
            args = (_stacked(rng, ls, la), _stacked(rng, rs, ra))
            out[f"conv-{cname}-{pname}"] = (_conv(lib, kw), (la, ra), args)
    return out


def programs(lib) -> dict:
    """``name -> (vmapped fn, args)`` for ``lib`` (``jax`` or ``jaxel``)."""
    return {name: (lib.vmap(fn, in_axes=axes), args)
            for name, (fn, axes, args) in program_specs(lib).items()}


def lowered_counts(lib, fn, args) -> dict:
    """The ``COUNTED`` op counts of ``lib.jit(fn)`` lowered for ``args``."""
    return op_counts(lib.jit(fn).lower(*args).as_text())
