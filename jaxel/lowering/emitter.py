"""A tiny SSA emitter for StableHLO in MLIR's generic op syntax.

Every op is written as ``%5 = "stablehlo.add"(%1, %2) {attrs} : (types) -> type``: the generic
form parses for every op, so rules need no per-op pretty syntax. The emitter remembers each
value's type, so rules name operands only.
"""
from __future__ import annotations

import numpy as np

from jaxel import dtypes as _dtypes
from jaxel.tracing.avals import ShapedArray

_type_cache: dict = {}


def tensor_type(aval: ShapedArray) -> str:
    """MLIR tensor type of an aval, e.g. ``tensor<3x4xf32>``."""
    t = _type_cache.get(aval)
    if t is None:
        et = _dtypes.to_mlir_type(aval.dtype)
        dims = "".join(f"{d}x" for d in aval.shape)
        t = _type_cache[aval] = f"tensor<{dims}{et}>"
    return t


def dense_attr(value: np.ndarray) -> str:
    """A ``dense<...>`` elements attribute holding ``value`` exactly (raw bytes as hex)."""
    value = np.asarray(value)
    if value.dtype == np.bool_:
        flat = value.ravel()
        if not flat.size:  # "dense<[]>" only parses for rank 1; a splat fits every empty shape
            return "dense<false>"
        if (flat == flat[0]).all():
            return f"dense<{'true' if flat[0] else 'false'}>"
        return "dense<[" + ", ".join("true" if b else "false" for b in flat) + "]>"
    data = np.ascontiguousarray(value).astype(value.dtype.newbyteorder("<")).tobytes()
    item = value.dtype.itemsize
    if value.size > 1 and data == data[:item] * value.size:
        data = data[:item]  # a splat: MLIR reads one element's bytes as "all elements"
    return f'dense<"0x{data.hex().upper()}">'


# XLA's CPU kernels for concatenate, sort and argmax/argmin mishandle 2-bit integers (jaxlib
# 0.10.2: a CHECK failure that aborts the process, wrong orders, a compile error; JAX has the
# same faults).  Their lowerings work on 8-bit copies instead, through ``widen_two_bit``.
_TWO_BIT_WIDE = {np.dtype(_dtypes.int2): np.dtype(np.int8),
                 np.dtype(_dtypes.uint2): np.dtype(np.uint8)}


def widen_two_bit(e: "Emitter", x: str, aval: ShapedArray):
    """``(x, aval)`` converted to 8 bits when ``aval`` holds int2/uint2 (else unchanged), for
    lowerings whose XLA CPU kernels are wrong on 2-bit elements; see ``narrow_two_bit``."""
    wide = _TWO_BIT_WIDE.get(aval.dtype)
    if wide is None:
        return x, aval
    aval = aval.update(dtype=wide)
    return e.op1("stablehlo.convert", [x], tensor_type(aval)), aval


def narrow_two_bit(e: "Emitter", x: str, aval: ShapedArray) -> str:
    """Undo ``widen_two_bit``: ``x`` (8-bit) converted back to ``aval``'s 2-bit dtype."""
    if aval.dtype not in _TWO_BIT_WIDE:
        return x
    return e.op1("stablehlo.convert", [x], tensor_type(aval))


def i64_array(values) -> str:
    """``array<i64: 1, 2>`` (dense array attribute)."""
    values = list(values)
    return f"array<i64{': ' if values else ''}{', '.join(str(int(v)) for v in values)}>"


def i64_dense(values, shape=None) -> str:
    """``dense<[1, 2]> : tensor<2xi64>`` (elements attribute of i64)."""
    arr = np.asarray(values, np.int64)
    if shape is not None:
        arr = arr.reshape(shape)
    dims = "x".join(str(d) for d in arr.shape)
    body = np.array2string(arr, separator=", ", threshold=10**9).replace("\n", "")
    return f"dense<{body}> : tensor<{dims}{'x' if arr.ndim else ''}i64>"


class Emitter:
    """Accumulates ops of one function body; hands out fresh SSA names."""

    def __init__(self):
        self.lines: list[str] = []
        self.types: dict[str, str] = {}
        self._count = 0
        self.indent = "    "

    def fresh(self) -> str:
        self._count += 1
        return f"%{self._count - 1}"

    def add_value(self, name: str, type_: str):
        self.types[name] = type_

    def op(self, opname: str, operands, result_types, attrs: str = "", regions=()) -> list[str]:
        """Emit one op; returns the names of its results (``%n`` or ``%n#i``)."""
        result_types = list(result_types)
        in_types = ", ".join(self.types[o] for o in operands)
        out_types = ", ".join(result_types)
        if len(result_types) != 1:
            out_types = f"({out_types})"
        base = self.fresh()
        if len(result_types) == 1:
            names = [base]
            lhs = f"{base} = "
        elif result_types:
            names = [f"{base}#{i}" for i in range(len(result_types))]
            lhs = f"{base}:{len(result_types)} = "
        else:
            names, lhs = [], ""
        for n, t in zip(names, result_types):
            self.types[n] = t
        region_text = ""
        if regions:
            region_text = " (" + ", ".join(regions) + ")"
        attr_text = f" {{{attrs}}}" if attrs else ""
        self.lines.append(f'{self.indent}{lhs}"{opname}"({", ".join(operands)}){region_text}'
                          f"{attr_text} : ({in_types}) -> {out_types}")
        return names

    def op1(self, opname, operands, result_type, attrs="", regions=()) -> str:
        """``op`` for a single result; returns its name."""
        return self.op(opname, operands, [result_type], attrs, regions)[0]

    def constant(self, value, aval: ShapedArray) -> str:
        """A ``stablehlo.constant`` of ``value`` with type ``aval``."""
        value = np.asarray(value, aval.dtype)
        if value.shape != aval.shape:
            value = np.broadcast_to(value, aval.shape)
        t = tensor_type(aval)
        return self.op1("stablehlo.constant", [], t, f"value = {dense_attr(value)} : {t}")

    def region(self, arg_types, body) -> str:
        """Build a region: ``body(*arg_names)`` emits ops and returns the names to return."""
        saved_lines, saved_indent = self.lines, self.indent
        self.lines = []
        self.indent = saved_indent + "  "
        args = []
        for t in arg_types:
            n = self.fresh().replace("%", "%r")
            self.types[n] = t
            args.append(n)
        results = body(*args)
        if isinstance(results, str):
            results = [results]
        rtypes = ", ".join(self.types[r] for r in results)
        self.lines.append(f'{self.indent}"stablehlo.return"({", ".join(results)}) : ({rtypes}) -> ()')
        head = ", ".join(f"{a}: {t}" for a, t in zip(args, arg_types))
        text = "{\n" + f"{saved_indent}^bb0({head}):\n" + "\n".join(self.lines) + f"\n{saved_indent}}}"
        self.lines, self.indent = saved_lines, saved_indent
        return text
