"""Contraction primitives: ``dot_general`` and ``conv_general_dilated``, with their wrappers
(``dot``, ``batch_matmul``, ``conv``, ``conv_with_general_padding``, ``conv_transpose``) and the
``Precision`` enum and ``ConvDimensionNumbers`` they take.

Each primitive is declared once with its abstract evaluation and lowering.
"""
from __future__ import annotations

import enum
import operator
from typing import NamedTuple

import numpy as np

from jaxel import dtypes as _dtypes
from jaxel.config import config
from jaxel.lax._rules import aval_of, dtype_kind
from jaxel.lax.windowed import padtype_to_pads
from jaxel.lowering.emitter import i64_array, i64_dense, tensor_type
from jaxel.tracing.avals import ShapedArray
from jaxel.tracing.core import Primitive


# ---- precision -------------------------------------------------------------------------------
class Precision(enum.Enum):
    """How precisely a contraction computes on accelerators (``jax.lax.Precision``).

    ``DEFAULT`` is the fastest (bfloat16 passes on TPU, TF32 on recent GPUs), ``HIGH`` trades
    some speed for accuracy, ``HIGHEST`` is full float32. CPUs always compute in full precision.
    Strings name them too: ``'default'``/``'fastest'``/``'bfloat16'``, ``'high'``/
    ``'bfloat16_3x'``/``'tensorfloat32'``, ``'highest'``/``'float32'``.

    Example::

        lax.dot(x, y, precision=lax.Precision.HIGHEST)
    """

    DEFAULT = 0
    HIGH = 1
    HIGHEST = 2

    @classmethod
    def _missing_(cls, value):
        if isinstance(value, str):
            member = _PRECISION_NAMES.get(value.lower())
            if member is not None:
                return cls[member]
        return None

    def __repr__(self):
        return f"Precision.{self.name}"

    def __str__(self):
        return self.name


_PRECISION_NAMES = {
    "default": "DEFAULT", "fastest": "DEFAULT", "bfloat16": "DEFAULT",
    "high": "HIGH", "bfloat16_3x": "HIGH", "tensorfloat32": "HIGH",
    "highest": "HIGHEST", "float32": "HIGHEST",
}


def _one_precision(p, precision):
    if isinstance(p, Precision):
        return p
    if isinstance(p, str) and p.lower() in _PRECISION_NAMES:
        return Precision(p)
    raise ValueError(
        f"precision must be None, a lax.Precision value, one of the strings "
        f"{sorted(_PRECISION_NAMES)}, or a pair of those (one for each operand); got "
        f"{precision!r}. (dot and dot_general also accept a DotAlgorithm or DotAlgorithmPreset.)")


def canonicalize_precision(precision):
    """``None`` or a pair ``(Precision, Precision)``: the form the primitives' params take.
    ``None`` means the ``jax_default_matmul_precision`` option's value (if set)."""
    if precision is None:
        precision = config.jax_default_matmul_precision
        if precision is None:
            return None
    if isinstance(precision, (tuple, list)):
        if len(precision) != 2:
            raise ValueError(f"A precision pair needs exactly two entries (lhs, rhs), got "
                             f"{precision!r}.")
        return (_one_precision(precision[0], precision), _one_precision(precision[1], precision))
    p = _one_precision(precision, precision)
    return (p, p)


def _precision_attr(precision) -> str:
    pair = precision if precision is not None else (Precision.DEFAULT, Precision.DEFAULT)
    return ("precision_config = [" + ", ".join(f"#stablehlo<precision {p.name}>" for p in pair)
            + "]")


def _canonical_pet(preferred_element_type, fun_name):
    if preferred_element_type is None:
        return None
    return _dtypes.check_and_canonicalize_user_dtype(preferred_element_type, fun_name)


def _bit_width(dt: np.dtype) -> int:
    return 1 if dt == np.bool_ else dt.itemsize * 8


def _is_real_float(dt: np.dtype) -> bool:
    return dtype_kind(dt) == "float"


def _higher_precision_dtype(a: np.dtype, b: np.dtype) -> np.dtype:
    """The dtype a mixed-dtype dot computes in (XLA's rule): complex beats real, then floats by
    exponent range then mantissa, then wider, then signed beats unsigned."""
    if a == b:
        return a

    def key(dt):
        is_c = dt.kind == "c"
        comp = np.dtype(np.float32 if dt == np.complex64 else np.float64) if is_c else dt
        if _is_real_float(comp):
            fi = _dtypes.finfo(comp)
            rng, mant = int(fi.maxexp), int(fi.nmant)
        else:
            rng = mant = -1
        return (is_c, rng, mant, _bit_width(comp), comp.kind == "i")

    return a if key(a) > key(b) else b


class _Shown:
    """A parameter value as the jaxpr printer should show it (JAX's spelling)."""

    def __init__(self, text: str):
        self.text = text

    def __str__(self):
        return self.text


# ---- dot_general -----------------------------------------------------------------------------
dot_general_p = Primitive("dot_general")


def _check_dims(side, dims, ndim, what, shape):
    for d in dims:
        if not 0 <= d < ndim:
            raise TypeError(f"lax.dot_general: {side} {what} dimension {d} is out of range for "
                            f"the {side} of shape {shape} (rank {ndim}); dimension numbers "
                            "must be non-negative and less than the rank.")
    if len(set(dims)) != len(dims):
        raise TypeError(f"lax.dot_general: {side} {what} dimensions must be distinct, got "
                        f"{dims}.")


def _dot_general_shape(lhs, rhs, dimension_numbers):
    (lc, rc), (lb, rb) = dimension_numbers
    for side, aval, c, b in (("lhs", lhs, lc, lb), ("rhs", rhs, rc, rb)):
        _check_dims(side, c, aval.ndim, "contracting", aval.shape)
        _check_dims(side, b, aval.ndim, "batch", aval.shape)
        if set(c) & set(b):
            raise TypeError(f"lax.dot_general: {side} batch dimensions {b} and contracting "
                            f"dimensions {c} must be disjoint.")
    if len(lc) != len(rc):
        raise TypeError(f"lax.dot_general: lhs and rhs need the same number of contracting "
                        f"dimensions, got lhs {lc} and rhs {rc}.")
    if len(lb) != len(rb):
        raise TypeError(f"lax.dot_general: lhs and rhs need the same number of batch "
                        f"dimensions, got lhs {lb} and rhs {rb}.")
    for what, ld, rd in (("contracting", lc, rc), ("batch", lb, rb)):
        ls = tuple(lhs.shape[d] for d in ld)
        rs = tuple(rhs.shape[d] for d in rd)
        if ls != rs:
            raise TypeError(
                f"lax.dot_general: {what} dimensions must have equal sizes, but lhs {what} "
                f"dimensions {ld} of lhs shape {lhs.shape} have sizes {ls} while rhs {what} "
                f"dimensions {rd} of rhs shape {rhs.shape} have sizes {rs}.")
    lfree = tuple(s for i, s in enumerate(lhs.shape) if i not in lc and i not in lb)
    rfree = tuple(s for i, s in enumerate(rhs.shape) if i not in rc and i not in rb)
    return tuple(lhs.shape[d] for d in lb) + lfree + rfree


def _dot_general_dtype(lhs, rhs, pet):
    for side, a in (("lhs", lhs), ("rhs", rhs)):
        if dtype_kind(a.dtype) == "other":
            raise TypeError(f"lax.dot_general does not accept dtype {a.dtype} for its {side}.")
    dt = _higher_precision_dtype(lhs.dtype, rhs.dtype)
    if pet is None or pet == dt:
        return dt, lhs.weak_type and rhs.weak_type
    # Integer (and complex) accumulation may not be narrowed: it would silently wrap/drop.
    if not _is_real_float(dt) and _bit_width(pet) < _bit_width(dt):
        raise TypeError(f"lax.dot_general: preferred_element_type {pet} is narrower than the "
                        f"operands' dtype {dt}; it must be at least as wide.")
    return pet, False


def _dot_general_abstract_eval(lhs, rhs, *, dimension_numbers, precision=None,
                               preferred_element_type=None, out_sharding=None):
    shape = _dot_general_shape(lhs, rhs, dimension_numbers)
    dt, weak = _dot_general_dtype(lhs, rhs, preferred_element_type)
    return ShapedArray(shape, dt, weak)


def _dims_list(dims) -> str:
    return "[" + ", ".join(str(int(d)) for d in dims) + "]"


def _dot_general_lowering(ctx, lhs, rhs, *, dimension_numbers, precision=None,
                          preferred_element_type=None, out_sharding=None):
    e = ctx.e
    la, ra = ctx.avals_in
    out = ctx.avals_out[0]
    if la.dtype != ra.dtype:  # mixed dtypes: XLA wants both operands in the result's dtype
        lhs = e.op1("stablehlo.convert", [lhs], tensor_type(la.update(dtype=out.dtype)))
        rhs = e.op1("stablehlo.convert", [rhs], tensor_type(ra.update(dtype=out.dtype)))
    (lc, rc), (lb, rb) = dimension_numbers
    fields = []
    for name, dims in (("lhs_batching_dimensions", lb), ("rhs_batching_dimensions", rb),
                       ("lhs_contracting_dimensions", lc), ("rhs_contracting_dimensions", rc)):
        if dims:  # the attribute parser takes omitted fields as empty
            fields.append(f"{name} = {_dims_list(dims)}")
    attrs = (f"dot_dimension_numbers = #stablehlo.dot<{', '.join(fields)}>, "
             f"{_precision_attr(precision)}")
    return e.op1("stablehlo.dot_general", [lhs, rhs], tensor_type(out), attrs)


def _dot_general_pp(params):
    (lc, rc), (lb, rb) = params["dimension_numbers"]
    shown = {"dimension_numbers": _Shown(
        f"(({_dims_list(lc)}, {_dims_list(rc)}), ({_dims_list(lb)}, {_dims_list(rb)}))")}
    for k in ("precision", "preferred_element_type", "out_sharding"):
        if params.get(k) is not None:
            shown[k] = params[k]
    return shown


dot_general_p.abstract_eval = _dot_general_abstract_eval
dot_general_p.lowering = _dot_general_lowering
dot_general_p.pp_params = _dot_general_pp


def _int_tuple(xs, what):
    try:
        return tuple(operator.index(x) for x in xs)
    except TypeError:
        raise TypeError(f"{what} must be a sequence of integers, got {xs!r}.") from None


def _canonical_dot_dims(dimension_numbers):
    try:
        (lc, rc), (lb, rb) = dimension_numbers
    except (TypeError, ValueError):
        raise TypeError(
            "lax.dot_general: dimension_numbers must be ((lhs_contracting, rhs_contracting), "
            f"(lhs_batch, rhs_batch)), each a sequence of ints; got {dimension_numbers!r}."
        ) from None
    what = "lax.dot_general dimension_numbers entries"
    return ((_int_tuple(lc, what), _int_tuple(rc, what)),
            (_int_tuple(lb, what), _int_tuple(rb, what)))


def dot_general(lhs, rhs, dimension_numbers, precision=None, preferred_element_type=None, *,
                out_sharding=None):
    """General tensor contraction (``jax.lax.dot_general``).

    Args:
      lhs, rhs: arrays. Their dtypes may differ: the dot computes in the more precise one.
      dimension_numbers: ``((lhs_contracting, rhs_contracting), (lhs_batch, rhs_batch))``,
        sequences of non-negative dimension indices.
      precision: ``None``, a ``Precision`` (or its string name) or a pair of them.
      preferred_element_type: accumulate in and return this dtype.
      out_sharding: accepted for compatibility; must be ``None``.

    Returns:
      An array of shape ``batch dims + lhs free dims + rhs free dims``.

    Example::

        lax.dot_general(x, y, (((2,), (1,)), ((0,), (0,))))  # batched matmul
    """
    _no_sharding(out_sharding, "dot_general")
    from jaxel.lax.dot_algorithms import as_algorithm
    algorithm = as_algorithm(precision)
    if algorithm is not None:
        return _dot_with_algorithm(lhs, rhs, dimension_numbers, algorithm,
                                   preferred_element_type)
    return dot_general_p.bind(
        lhs, rhs, dimension_numbers=_canonical_dot_dims(dimension_numbers),
        precision=canonicalize_precision(precision),
        preferred_element_type=_canonical_pet(preferred_element_type, "lax.dot_general"),
        out_sharding=None)


def _dot_with_algorithm(lhs, rhs, dimension_numbers, algorithm, preferred_element_type):
    """A dot with a ``DotAlgorithm``/preset, as XLA runs it on CPU: operands of a dtype the
    algorithm does not take are converted to its input type, products accumulate in its
    accumulation type, and the result has the dtype the call would have without it."""
    from jaxel.lax.dot_algorithms import algorithm_types
    from jaxel.lax.elementwise import convert_element_type_p
    lhs_types, rhs_types, acc = algorithm_types(algorithm)
    pet = _canonical_pet(preferred_element_type, "lax.dot_general")
    dims = _canonical_dot_dims(dimension_numbers)
    want = _dot_general_dtype(aval_of(lhs), aval_of(rhs), pet)[0]

    def cast(x, types):
        a = aval_of(x)
        if types is None or a.dtype in types:
            return x
        return convert_element_type_p.bind(x, new_dtype=types[0], weak_type=False,
                                           sharding=None)

    out = dot_general_p.bind(cast(lhs, lhs_types), cast(rhs, rhs_types), dimension_numbers=dims,
                             precision=None, preferred_element_type=acc, out_sharding=None)
    if aval_of(out).dtype != want:
        out = convert_element_type_p.bind(out, new_dtype=want, weak_type=False, sharding=None)
    return out


def _no_sharding(out_sharding, name):
    if out_sharding is not None:
        raise NotImplementedError(f"lax.{name}: out_sharding is not supported by jaxel "
                                  "(single-device arrays only); pass None.")


def dot(lhs, rhs, *, dimension_numbers=None, precision=None, preferred_element_type=None,
        out_sharding=None):
    """Vector/matrix dot product (``jax.lax.dot``).

    Without ``dimension_numbers`` the operands must be vector-vector ``[n]·[n]``,
    matrix-vector ``[m, n]·[n]``, vector-matrix ``[n]·[n, k]`` or matrix-matrix
    ``[m, n]·[n, k]``; with them this is ``dot_general``.

    Returns:
      The contraction of the last axis of ``lhs`` with the first axis of ``rhs``.

    Example::

        lax.dot(a, b, precision=lax.Precision.HIGHEST)
    """
    if dimension_numbers is None:
        ls, rs = aval_of(lhs).shape, aval_of(rhs).shape
        if not (1 <= len(ls) <= 2 and 1 <= len(rs) <= 2 and ls[-1] == rs[0]):
            raise ValueError(
                "lax.dot: without dimension_numbers it computes only vector/matrix products "
                f"[n]·[n], [m, n]·[n], [n]·[n, k] or [m, n]·[n, k]; got lhs shape {ls} and rhs "
                f"shape {rs}. Pass dimension_numbers or use lax.dot_general.")
        dimension_numbers = (((len(ls) - 1,), (0,)), ((), ()))
    return dot_general(lhs, rhs, dimension_numbers, precision, preferred_element_type,
                       out_sharding=out_sharding)


def batch_matmul(lhs, rhs, precision=None):
    """Batched matrix product ``[..., m, n] @ [..., n, k]`` with equal batch shapes.

    Example::

        lax.batch_matmul(x, y)  # x: [b, m, n], y: [b, n, k] -> [b, m, k]
    """
    ls, rs = aval_of(lhs).shape, aval_of(rhs).shape
    if len(ls) != len(rs) or len(ls) < 2:
        raise ValueError(f"lax.batch_matmul: operands must have the same rank, at least 2; got "
                         f"shapes {ls} and {rs}.")
    n = len(ls)
    batch = tuple(range(n - 2))
    return dot_general(lhs, rhs, (((n - 1,), (n - 2,)), (batch, batch)), precision)


# ---- convolution -----------------------------------------------------------------------------
class ConvDimensionNumbers(NamedTuple):
    """Where each role sits in the convolution operands (``jax.lax.ConvDimensionNumbers``).

    ``lhs_spec`` = (batch dim, feature dim, spatial dims...), ``rhs_spec`` = (output feature
    dim, input feature dim, spatial dims...), ``out_spec`` = (batch dim, feature dim, spatial
    dims...), all as dimension indices.
    """

    lhs_spec: tuple
    rhs_spec: tuple
    out_spec: tuple


def _check_perm(spec, ndim, what):
    if sorted(spec) != list(range(ndim)):
        raise TypeError(f"lax.conv_general_dilated: {what} {spec} must be a permutation of the "
                        f"{ndim} operand dimensions.")


def _spec_from_string(spec: str, first: str, second: str, rhs_spatial: str, what: str):
    if len(set(spec)) != len(spec) or first not in spec or second not in spec:
        raise TypeError(f"lax.conv_dimension_numbers: the {what} spec {spec!r} must name each "
                        f"dimension once and contain {first!r} and {second!r}.")
    spatial = [c for c in spec if c not in (first, second)]
    if sorted(spatial) != sorted(rhs_spatial):
        raise TypeError(f"lax.conv_dimension_numbers: the {what} spec {spec!r} must have the "
                        f"same spatial letters as the rhs spec ({rhs_spatial!r}).")
    # Spatial dimension k is the k-th spatial letter of the rhs spec, in every operand.
    return (spec.index(first), spec.index(second)) + tuple(spec.index(c) for c in rhs_spatial)


def conv_dimension_numbers(lhs_shape, rhs_shape, dimension_numbers) -> ConvDimensionNumbers:
    """Normalise convolution ``dimension_numbers`` to a ``ConvDimensionNumbers``.

    Args:
      lhs_shape, rhs_shape: operand shapes (equal ranks).
      dimension_numbers: ``None`` (``NCHW``/``OIHW``/``NCHW``), a ``ConvDimensionNumbers``, or
        three strings such as ``('NHWC', 'HWIO', 'NHWC')`` (``N`` batch, ``C`` feature,
        ``O``/``I`` kernel output/input features, other letters spatial).

    Example::

        lax.conv_dimension_numbers((1, 8, 8, 3), (3, 3, 3, 16), ('NHWC', 'HWIO', 'NHWC'))
        # ConvDimensionNumbers(lhs_spec=(0, 3, 1, 2), rhs_spec=(3, 2, 0, 1), out_spec=(0, 3, 1, 2))
    """
    nd = len(lhs_shape)
    if len(rhs_shape) != nd:
        raise TypeError(f"convolution requires lhs and rhs of the same rank, got lhs shape "
                        f"{tuple(lhs_shape)} and rhs shape {tuple(rhs_shape)}.")
    if nd < 2:
        raise TypeError(f"convolution requires operands of rank at least 2 (batch and feature "
                        f"dimensions), got shape {tuple(lhs_shape)}.")
    if dimension_numbers is None:
        spec = tuple(range(nd))
        return ConvDimensionNumbers(spec, spec, spec)
    if isinstance(dimension_numbers, ConvDimensionNumbers):
        specs = dimension_numbers
    else:
        try:
            lhs_s, rhs_s, out_s = dimension_numbers
        except (TypeError, ValueError):
            raise TypeError("convolution dimension_numbers must be None, a ConvDimensionNumbers "
                            "or three strings like ('NHWC', 'HWIO', 'NHWC'); got "
                            f"{dimension_numbers!r}.") from None
        if all(isinstance(s, str) for s in (lhs_s, rhs_s, out_s)):
            for s, what in ((lhs_s, "lhs"), (rhs_s, "rhs"), (out_s, "out")):
                if len(s) != nd:
                    raise TypeError(f"convolution dimension_numbers: the {what} spec {s!r} has "
                                    f"{len(s)} letters but the operands have rank {nd}.")
            rhs_spatial = "".join(c for c in rhs_s if c not in "OI")
            specs = ConvDimensionNumbers(
                _spec_from_string(lhs_s, "N", "C", rhs_spatial, "lhs"),
                _spec_from_string(rhs_s, "O", "I", rhs_spatial, "rhs"),
                _spec_from_string(out_s, "N", "C", rhs_spatial, "out"))
        else:
            what = "convolution dimension_numbers specs"
            specs = ConvDimensionNumbers(_int_tuple(lhs_s, what), _int_tuple(rhs_s, what),
                                         _int_tuple(out_s, what))
    specs = ConvDimensionNumbers(*(tuple(int(d) for d in s) for s in specs))
    for s, what in zip(specs, ("lhs_spec", "rhs_spec", "out_spec")):
        _check_perm(s, nd, what)
    return specs


conv_general_dilated_p = Primitive("conv_general_dilated")


def _dilate(size, d):
    return 0 if size == 0 else (size - 1) * d + 1


def _conv_abstract_eval(lhs, rhs, *, window_strides, padding, lhs_dilation, rhs_dilation,
                        dimension_numbers, feature_group_count, batch_group_count, precision=None,
                        preferred_element_type=None, out_sharding=None):
    name = "lax.conv_general_dilated"
    if lhs.dtype != rhs.dtype:
        raise TypeError(f"{name} requires arguments to have the same dtypes, got "
                        f"{lhs.dtype.name}, {rhs.dtype.name}. (Tip: convert one with "
                        "lax.convert_element_type.)")
    if dtype_kind(lhs.dtype) == "other":
        raise TypeError(f"{name} does not accept dtype {lhs.dtype}.")
    if lhs.ndim != rhs.ndim or lhs.ndim < 2:
        raise TypeError(f"{name} needs lhs and rhs of the same rank >= 2, got shapes "
                        f"{lhs.shape} and {rhs.shape}.")
    lspec, rspec, ospec = dimension_numbers
    n = lhs.ndim - 2
    for what, v in (("window_strides", window_strides), ("padding", padding),
                    ("lhs_dilation", lhs_dilation), ("rhs_dilation", rhs_dilation)):
        if len(v) != n:
            raise ValueError(f"{name}: {what} {v} must have one entry per spatial dimension "
                             f"({n} for operands of shape {lhs.shape}).")
    for what, v in (("window_strides", window_strides), ("lhs_dilation", lhs_dilation),
                    ("rhs_dilation", rhs_dilation)):
        if any(x < 1 for x in v):
            raise ValueError(f"{name}: {what} must be positive, got {v}.")
    g, bg = feature_group_count, batch_group_count
    if g < 1 or bg < 1 or (g > 1 and bg > 1):
        raise ValueError(f"{name}: feature_group_count ({g}) and batch_group_count ({bg}) must "
                         "be positive, and at most one of them may exceed 1.")
    batch, feat = lhs.shape[lspec[0]], lhs.shape[lspec[1]]
    out_feat, in_feat = rhs.shape[rspec[0]], rhs.shape[rspec[1]]
    if feat % g or feat // g != in_feat:
        raise ValueError(f"{name}: the lhs feature size divided by feature_group_count must "
                         f"equal the rhs input feature size, but {feat} / {g} != {in_feat} "
                         f"(lhs shape {lhs.shape}, rhs shape {rhs.shape}).")
    if out_feat % g:
        raise ValueError(f"{name}: feature_group_count {g} must divide the rhs output feature "
                         f"size {out_feat} (rhs shape {rhs.shape}).")
    if batch % bg:
        raise ValueError(f"{name}: batch_group_count {bg} must divide the lhs batch size "
                         f"{batch} (lhs shape {lhs.shape}).")
    if out_feat % bg:
        raise ValueError(f"{name}: batch_group_count {bg} must divide the rhs output feature "
                         f"size {out_feat} (rhs shape {rhs.shape}).")
    spatial = []
    for i in range(n):
        size = _dilate(lhs.shape[lspec[2 + i]], lhs_dilation[i]) + padding[i][0] + padding[i][1]
        if size < 0:
            raise ValueError(f"{name}: padding {padding[i]} removes more than the whole of "
                             f"spatial dimension {i} (size {lhs.shape[lspec[2 + i]]}).")
        window = _dilate(rhs.shape[rspec[2 + i]], rhs_dilation[i])
        spatial.append(max(0, (size - window) // window_strides[i] + 1) if size >= window else 0)
    shape = [0] * lhs.ndim
    shape[ospec[0]] = batch // bg
    shape[ospec[1]] = out_feat
    for i, s in enumerate(spatial):
        shape[ospec[2 + i]] = s
    dt, weak = lhs.dtype, lhs.weak_type and rhs.weak_type
    pet = preferred_element_type
    if pet is not None and pet != dt:
        if _bit_width(pet) < _bit_width(dt):
            raise TypeError(f"{name}: preferred_element_type {pet} is narrower than the "
                            f"operands' dtype {dt}; it must be at least as wide.")
        dt, weak = pet, False
    return ShapedArray(tuple(shape), dt, weak)


def _conv_labels(spec, first, second):
    labels = [""] * len(spec)
    labels[spec[0]], labels[spec[1]] = first, second
    for i, d in enumerate(spec[2:]):
        labels[d] = str(i)
    return "[" + ", ".join(labels) + "]"


def _conv_lowering(ctx, lhs, rhs, *, window_strides, padding, lhs_dilation, rhs_dilation,
                   dimension_numbers, feature_group_count, batch_group_count, precision=None,
                   preferred_element_type=None, out_sharding=None):
    lspec, rspec, ospec = dimension_numbers
    n = len(window_strides)
    dn = (f"#stablehlo.conv<{_conv_labels(lspec, 'b', 'f')}x{_conv_labels(rspec, 'o', 'i')}->"
          f"{_conv_labels(ospec, 'b', 'f')}>")
    # An empty padding literal does not parse; without spatial dims there is none to give.
    pad = f"padding = {i64_dense(np.asarray(padding, np.int64).reshape(n, 2))}, " if n else ""
    attrs = (f"window_strides = {i64_array(window_strides)}, {pad}"
             f"lhs_dilation = {i64_array(lhs_dilation)}, "
             f"rhs_dilation = {i64_array(rhs_dilation)}, "
             f"dimension_numbers = {dn}, "
             f"feature_group_count = {int(feature_group_count)} : i64, "
             f"batch_group_count = {int(batch_group_count)} : i64, "
             f"{_precision_attr(precision)}")
    return ctx.e.op1("stablehlo.convolution", [lhs, rhs], tensor_type(ctx.avals_out[0]), attrs)


conv_general_dilated_p.abstract_eval = _conv_abstract_eval
conv_general_dilated_p.lowering = _conv_lowering


def _spatial_tuple(v, n, what, default=1):
    if v is None:
        return (default,) * n
    v = _int_tuple(v, f"lax.conv_general_dilated {what}")
    if len(v) != n:
        raise ValueError(f"lax.conv_general_dilated: {what} {v} must have one entry per spatial "
                         f"dimension ({n}).")
    return v


def conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation=None, rhs_dilation=None,
                         dimension_numbers=None, feature_group_count=1, batch_group_count=1,
                         precision=None, preferred_element_type=None, out_sharding=None):
    """General n-d convolution with strides, padding and dilations
    (``jax.lax.conv_general_dilated``; a cross-correlation, as in deep learning).

    Args:
      lhs: input, rank ``n + 2``. rhs: kernel, rank ``n + 2``.
      window_strides: ``n`` strides.
      padding: ``'SAME'``, ``'SAME_LOWER'``, ``'VALID'`` or ``n`` ``(low, high)`` pairs.
      lhs_dilation: ``n`` input dilations (transposed convolution), default 1.
      rhs_dilation: ``n`` kernel dilations (atrous convolution), default 1.
      dimension_numbers: see ``conv_dimension_numbers``; default ``NCHW``/``OIHW``/``NCHW``.
      feature_group_count, batch_group_count: grouped convolution.
      precision, preferred_element_type: as in ``dot_general``.

    Returns:
      The convolution, laid out by ``dimension_numbers``' output spec.

    Example::

        lax.conv_general_dilated(x, w, (1, 1), 'SAME',
                                 dimension_numbers=('NHWC', 'HWIO', 'NHWC'))
    """
    _no_sharding(out_sharding, "conv_general_dilated")
    la, ra = aval_of(lhs), aval_of(rhs)
    dnums = conv_dimension_numbers(la.shape, ra.shape, dimension_numbers)
    n = la.ndim - 2
    strides = _spatial_tuple(window_strides, n, "window_strides")
    lhs_dilation = _spatial_tuple(lhs_dilation, n, "lhs_dilation")
    rhs_dilation = _spatial_tuple(rhs_dilation, n, "rhs_dilation")
    if isinstance(padding, str):
        if any(d != 1 for d in lhs_dilation):
            raise ValueError("lax.conv_general_dilated: string padding is not supported with "
                             f"lhs_dilation {lhs_dilation}; pass explicit (low, high) pads, or "
                             "use lax.conv_transpose.")
        in_shape = [la.shape[d] for d in dnums.lhs_spec[2:]]
        window = [_dilate(ra.shape[d], r) for d, r in zip(dnums.rhs_spec[2:], rhs_dilation)]
        pads = tuple(padtype_to_pads(in_shape, window, strides, padding))
    else:
        try:
            pads = tuple((operator.index(lo), operator.index(hi)) for lo, hi in padding)
        except (TypeError, ValueError):
            raise TypeError("lax.conv_general_dilated: padding must be 'SAME', 'SAME_LOWER', "
                            f"'VALID' or a sequence of (low, high) int pairs; got {padding!r}."
                            ) from None
        if len(pads) != n:
            raise TypeError(f"lax.conv_general_dilated: expected {n} (low, high) padding pairs "
                            f"(one per spatial dimension), got {len(pads)}: {padding!r}.")
    return conv_general_dilated_p.bind(
        lhs, rhs, window_strides=strides, padding=pads, lhs_dilation=lhs_dilation,
        rhs_dilation=rhs_dilation, dimension_numbers=dnums,
        feature_group_count=operator.index(feature_group_count),
        batch_group_count=operator.index(batch_group_count),
        precision=canonicalize_precision(precision),
        preferred_element_type=_canonical_pet(preferred_element_type, "lax.conv_general_dilated"),
        out_sharding=None)


def conv(lhs, rhs, window_strides, padding, precision=None, preferred_element_type=None):
    """Convolution in ``NCHW``/``OIHW`` layout without dilation (``jax.lax.conv``).

    Example::

        lax.conv(x, w, (1, 1), 'SAME')  # x: [N, C, H, W], w: [O, C, kh, kw]
    """
    return conv_general_dilated(lhs, rhs, window_strides, padding, precision=precision,
                                preferred_element_type=preferred_element_type)


def conv_with_general_padding(lhs, rhs, window_strides, padding, lhs_dilation, rhs_dilation,
                              precision=None, preferred_element_type=None):
    """``NCHW``/``OIHW`` convolution with explicit padding and dilations
    (``jax.lax.conv_with_general_padding``).

    Example::

        lax.conv_with_general_padding(x, w, (1, 1), [(1, 1), (1, 1)], None, (2, 2))
    """
    return conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation=lhs_dilation,
                                rhs_dilation=rhs_dilation, precision=precision,
                                preferred_element_type=preferred_element_type)


_TF_LAYOUTS = {2: ("NC", "IO", "NC"), 3: ("NHC", "HIO", "NHC"), 4: ("NHWC", "HWIO", "NHWC"),
               5: ("NHWDC", "HWDIO", "NHWDC")}


def _transpose_pads(k, s, padding):
    """Pads of the fractionally strided conv equal to a Keras-style transposed conv with kernel
    extent ``k`` and stride ``s``: VALID gives ``(in - 1) * s + max(k, s)`` outputs, SAME
    gives ``in * s``."""
    if padding == "SAME":
        total = k + s - 2
        low = k - 1 if s > k - 1 else -(-total // 2)
    else:  # VALID
        total = k + s - 2 + max(k - s, 0)
        low = k - 1
    return (low, total - low)


def conv_transpose(lhs, rhs, strides, padding, rhs_dilation=None, dimension_numbers=None,
                   transpose_kernel=False, precision=None, preferred_element_type=None,
                   use_consistent_padding=False):
    """Transposed ("fractionally strided") convolution (``jax.lax.conv_transpose``).

    The input is dilated by ``strides`` and convolved with stride 1.

    Args:
      lhs, rhs: input and kernel of rank ``n + 2``.
      strides: ``n`` fractional strides.
      padding: ``'SAME'`` or ``'VALID'`` (Keras output sizes ``in * s`` and
        ``(in - 1) * s + max(k, s)``), or ``n`` ``(low, high)`` pairs: the padding of the
        dilated input, or, with ``use_consistent_padding=True``, the padding of the forward
        convolution this one is the gradient of (PyTorch's convention).
      rhs_dilation: kernel dilation.
      dimension_numbers: default TensorFlow layouts (``NHWC``, ``HWIO``, ``NHWC`` for 2-d).
      transpose_kernel: flip the kernel's spatial axes and swap its in/out feature axes, to
        match the gradient of a forward convolution (Keras' ``Conv2DTranspose``).

    Example::

        lax.conv_transpose(x, w, (2, 2), 'SAME')  # x: [N, H, W, C] -> [N, 2H, 2W, O]
    """
    la, ra = aval_of(lhs), aval_of(rhs)
    nd = la.ndim
    if dimension_numbers is None:
        if nd not in _TF_LAYOUTS:
            raise ValueError(f"lax.conv_transpose has default dimension_numbers for ranks 2 to 5 "
                             f"only; got lhs of rank {nd}: pass dimension_numbers.")
        dimension_numbers = _TF_LAYOUTS[nd]
    dn = conv_dimension_numbers(la.shape, ra.shape, dimension_numbers)
    n = nd - 2
    strides = _spatial_tuple(strides, n, "strides")
    rhs_dilation = _spatial_tuple(rhs_dilation, n, "rhs_dilation")
    k = [_dilate(ra.shape[d], r) for d, r in zip(dn.rhs_spec[2:], rhs_dilation)]
    if isinstance(padding, str):
        mode = padding.upper()
        if mode not in ("SAME", "VALID"):
            raise ValueError(f"lax.conv_transpose: padding must be 'SAME', 'VALID' or explicit "
                             f"pairs, got {padding!r}.")
        pads = tuple(_transpose_pads(kk, s, mode) for kk, s in zip(k, strides))
    else:
        pads = tuple((int(lo), int(hi)) for lo, hi in padding)
        if use_consistent_padding:  # forward-conv padding p becomes k - 1 - p here
            pads = tuple((kk - 1 - lo, kk - 1 - hi) for kk, (lo, hi) in zip(k, pads))
    if transpose_kernel:
        from jaxel.lax.shape_ops import rev
        rhs = rev(rhs, dn.rhs_spec[2:])
        dn = dn._replace(rhs_spec=(dn.rhs_spec[1], dn.rhs_spec[0]) + dn.rhs_spec[2:])
    return conv_general_dilated(lhs, rhs, (1,) * n, pads, lhs_dilation=strides,
                                rhs_dilation=rhs_dilation, dimension_numbers=dn,
                                precision=precision,
                                preferred_element_type=preferred_element_type)


__all__ = ["Precision", "ConvDimensionNumbers", "dot_general", "dot", "batch_matmul",
           "conv_general_dilated", "conv", "conv_with_general_padding", "conv_transpose",
           "conv_dimension_numbers", "dot_general_p",
           "conv_general_dilated_p"]


# ---- differentiation rules -------------------------------------------------------------------
from jaxel.transforms import ad_util as _ad  # noqa: E402


def _to_dtype(x, dtype):
    """``x`` converted to ``dtype`` (a no-op when it already has it)."""
    from jaxel.lax.elementwise import convert_element_type_p
    if aval_of(x).dtype == dtype:
        return x
    return convert_element_type_p.bind(x, new_dtype=dtype, weak_type=False, sharding=None)


def _dot_transpose_operand(ct, other, this_aval, this_dims, other_dims, *, this_is_lhs,
                           precision):
    """The cotangent of one dot_general operand ("this") given the output cotangent and the
    other operand. ``this_dims``/``other_dims`` are each side's (contracting, batch) dims.

    The output is [batch, lhs free, rhs free]. Contracting ``ct``'s dims that came from the
    other side against the other operand's free dims (batching over batch dims) gives this
    side's batch dims, then its free dims and its contracting dims, in an order that depends on
    which of ``ct`` and ``other`` goes first. Pick the order that already is this operand's
    layout when one is (plain matmuls: no transpose at all), else transpose back."""
    from jaxel.lax.shape_ops import transpose_p
    (tc, tb), (oc, ob) = this_dims, other_dims
    nb = len(tb)
    this_free = [d for d in range(this_aval.ndim) if d not in tc and d not in tb]
    other_nd = aval_of(other).ndim
    other_free = [d for d in range(other_nd) if d not in oc and d not in ob]
    start = nb + len(this_free) if this_is_lhs else nb
    ct_other_free = tuple(range(start, start + len(other_free)))
    # The other side's contracting dims that survive appear sorted by their index there; each
    # pairs with this side's contracting dim at the same position of the dimension numbers.
    remaining = [tc[k] for k in np.argsort(oc, kind="stable")]
    ct_first = list(tb) + this_free + remaining
    other_first = list(tb) + remaining + this_free
    identity = list(range(this_aval.ndim))
    if other_first == identity and ct_first != identity:
        dims = ((tuple(other_free), ct_other_free), (tuple(ob), tuple(range(nb))))
        res = dot_general_p.bind(other, ct, dimension_numbers=dims, precision=precision,
                                 preferred_element_type=None, out_sharding=None)
        layout = other_first
    else:
        dims = ((ct_other_free, tuple(other_free)), (tuple(range(nb)), tuple(ob)))
        res = dot_general_p.bind(ct, other, dimension_numbers=dims, precision=precision,
                                 preferred_element_type=None, out_sharding=None)
        layout = ct_first
    perm = tuple(int(i) for i in np.argsort(layout, kind="stable"))
    if perm != tuple(range(len(perm))):
        res = transpose_p.bind(res, permutation=perm)
    return _to_dtype(res, this_aval.dtype)


def _dot_general_transpose(ct, lhs, rhs, *, dimension_numbers, precision=None,
                           preferred_element_type=None, out_sharding=None):
    (lc, rc), (lb, rb) = dimension_numbers
    if _ad.is_undefined(lhs) and _ad.is_undefined(rhs):
        raise NotImplementedError("dot_general of two linear operands is not linear; this "
                                  "indicates a wrong JVP rule upstream.")
    if _ad.is_undefined(lhs):
        return [_dot_transpose_operand(ct, rhs, lhs.aval, (lc, lb), (rc, rb), this_is_lhs=True,
                                       precision=precision), None]
    return [None, _dot_transpose_operand(ct, lhs, rhs.aval, (rc, rb), (lc, lb),
                                         this_is_lhs=False, precision=precision)]


_ad.defjvp(dot_general_p,
           lambda t, x, y, **params: dot_general_p.bind(t, y, **params),
           lambda t, x, y, **params: dot_general_p.bind(x, t, **params))
dot_general_p.transpose = _dot_general_transpose


# Convolution transposes. Per spatial dim (input size n, lhs dilation a, padding (pl, ph),
# kernel size k with dilation d, so extent K = (k - 1) d + 1, stride s, output size m), the
# forward conv reads y[o] = sum_j xp[o s + j d] w[j] where xp is x dilated by a and padded.
# * lhs: ct_xp[p] = sum_j ct_y'[p - K + 1 + j d] w[k - 1 - j] with ct_y' = ct_y dilated by s:
#   a conv of ct_y (lhs dilation s) with the flipped kernel, read back at p = pl + i a, i.e.
#   window stride a and low padding K - 1 - pl; high padding makes exactly n outputs.
# * rhs: ct_w[j] = sum_o ct_y[o] xp[o s + j d]: a conv of x (lhs dilation a, padding pl) with
#   ct_y as the kernel (dilation s) at window stride d, batch and feature roles swapped, so the
#   batch is contracted; high padding makes exactly k outputs.
# Feature groups G and batch groups B trade places between the two (see each function).
def _conv_spatial(p, lhs_shape, rhs_shape, out_shape):
    """Per spatial dim: (n, a, pl, k, d, s, m) as in the comment above."""
    dn = p["dimension_numbers"]
    return [(lhs_shape[ld], a, pl, rhs_shape[rd], d, s, out_shape[od])
            for ld, rd, od, a, (pl, _), d, s in zip(
                dn.lhs_spec[2:], dn.rhs_spec[2:], dn.out_spec[2:], p["lhs_dilation"],
                p["padding"], p["rhs_dilation"], p["window_strides"])]


def _canonical_dn(nd):
    spec = tuple(range(nd))
    return ConvDimensionNumbers(spec, spec, spec)


def _conv_transpose_lhs(ct, rhs, lhs_aval, p):
    """Cotangent of the convolution's input. With G feature groups the transposed conv has G
    feature groups too, with the kernel regrouped: K[(g, i), o'] = w[(g, o'), i]. With B batch
    groups it is computed as a B-feature-group conv whose output features (b, i) are then moved
    back into the batch: ct_x[(b, n), i] = z[n, (b, i)]."""
    from jaxel.lax.shape_ops import reshape, rev, transpose
    dn = p["dimension_numbers"]
    nd = lhs_aval.ndim
    ra, ca = aval_of(rhs), aval_of(ct)
    spatial = _conv_spatial(p, lhs_aval.shape, ra.shape, ca.shape)
    groups = p["feature_group_count"] * p["batch_group_count"]  # at most one exceeds 1
    w = transpose(rhs, tuple(dn.rhs_spec))  # canonical (O, I, k...)
    out_f, in_f, ks = w.shape[0], w.shape[1], tuple(w.shape[2:])
    w = reshape(w, (groups, out_f // groups, in_f) + ks)
    w = transpose(w, (0, 2, 1) + tuple(range(3, nd + 1)))
    w = rev(reshape(w, (groups * in_f, out_f // groups) + ks), tuple(range(2, nd)))
    pads = []
    for n, a, pl, k, d, s, m in spatial:
        extent = (k - 1) * d + 1
        lo = extent - 1 - pl
        pads.append((lo, (n - 1) * a + extent - ((m - 1) * s + 1) - lo))
    bg = p["batch_group_count"]
    out_spec = dn.lhs_spec if bg == 1 else tuple(range(nd))
    z = conv_general_dilated_p.bind(
        ct, w, window_strides=tuple(a for _, a, *_ in spatial), padding=tuple(pads),
        lhs_dilation=tuple(s for *_, s, _ in spatial), rhs_dilation=tuple(d for *_, d, _, _ in
                                                                           spatial),
        dimension_numbers=ConvDimensionNumbers(dn.out_spec, tuple(range(nd)), out_spec),
        feature_group_count=groups, batch_group_count=1, precision=p["precision"],
        preferred_element_type=None, out_sharding=None)
    if bg > 1:  # z: canonical (n, (b, i), k...) -> ((b, n), i, k...) -> lhs layout
        nb, zs = z.shape[0], tuple(z.shape[2:])
        z = reshape(z, (nb, bg, in_f) + zs)
        z = transpose(z, (1, 0, 2) + tuple(range(3, nd + 1)))
        z = reshape(z, (bg * nb, in_f) + zs)
        z = transpose(z, tuple(int(i) for i in np.argsort(dn.lhs_spec)))
    return _to_dtype(z, lhs_aval.dtype)


def _conv_transpose_rhs(ct, lhs, rhs_aval, p):
    """Cotangent of the kernel: x convolved with ct_y, batch and feature roles swapped (the
    batch is contracted). Forward feature groups G become batch groups of this conv (x's
    features (g, i) are its batch), forward batch groups B become feature groups (x's batch
    (b, n) is its feature). Dimension numbers put the result straight into w's layout."""
    dn = p["dimension_numbers"]
    la, ca = aval_of(lhs), aval_of(ct)
    spatial = _conv_spatial(p, la.shape, rhs_aval.shape, ca.shape)
    pads = [(pl, (m - 1) * s + (k - 1) * d + 1 - ((n - 1) * a + 1) - pl)
            for n, a, pl, k, d, s, m in spatial]
    swap = lambda spec: (spec[1], spec[0]) + tuple(spec[2:])
    z = conv_general_dilated_p.bind(
        lhs, ct, window_strides=tuple(d for *_, d, _, _ in spatial), padding=tuple(pads),
        lhs_dilation=tuple(a for _, a, *_ in spatial),
        rhs_dilation=tuple(s for *_, s, _ in spatial),
        dimension_numbers=ConvDimensionNumbers(swap(dn.lhs_spec), swap(dn.out_spec),
                                               swap(dn.rhs_spec)),
        feature_group_count=p["batch_group_count"], batch_group_count=p["feature_group_count"],
        precision=p["precision"], preferred_element_type=None, out_sharding=None)
    return _to_dtype(z, rhs_aval.dtype)


def _conv_transpose(ct, lhs, rhs, **params):
    """Cotangent of whichever operand is linear. With ``preferred_element_type`` the
    cotangent's dtype differs from the operands' and conv needs equal dtypes: both go to the
    more precise of the two, and the result is converted back to the operand's dtype."""
    if _ad.is_undefined(lhs) and _ad.is_undefined(rhs):
        raise NotImplementedError("conv_general_dilated of two linear operands is not linear; "
                                  "this indicates a wrong JVP rule upstream.")
    if 0 in aval_of(ct).shape:
        target = lhs.aval if _ad.is_undefined(lhs) else rhs.aval
        zero = _ad.zeros_like_aval(target)
        return [zero, None] if _ad.is_undefined(lhs) else [None, zero]
    other = rhs if _ad.is_undefined(lhs) else lhs
    common = _higher_precision_dtype(aval_of(ct).dtype, aval_of(other).dtype)
    ct, other = _to_dtype(ct, common), _to_dtype(other, common)
    if _ad.is_undefined(lhs):
        return [_conv_transpose_lhs(ct, other, lhs.aval, params), None]
    return [None, _conv_transpose_rhs(ct, other, rhs.aval, params)]


_ad.defjvp(conv_general_dilated_p,
           lambda t, x, w, **params: conv_general_dilated_p.bind(t, w, **params),
           lambda t, x, w, **params: conv_general_dilated_p.bind(x, t, **params))
conv_general_dilated_p.transpose = _conv_transpose


# ---- batching rules ---------------------------------------------------------------------------
from jaxel.transforms import batching as _batching  # noqa: E402


# ``_bumped(dims, d)``: per-example dimension indices as positions in a value batched at ``d``.
def _bumped(dims, d):
    return tuple(j if j < d else j + 1 for j in dims)


def _dot_general_batch(args, dims, *, dimension_numbers, **params):
    """Both operands batched: the pair becomes a new leading dot batch dimension (the output
    has it first). One side batched: its batch dimension is one more free dimension of that
    side, and lands where dot_general puts that side's free dimensions. Never a transpose."""
    (lhs, rhs), (ld, rd) = args, dims
    (lc, rc), (lb, rb) = dimension_numbers
    if ld is not None and rd is not None:
        dn = ((_bumped(lc, ld), _bumped(rc, rd)),
              ((ld,) + _bumped(lb, ld), (rd,) + _bumped(rb, rd)))
        return dot_general_p.bind(lhs, rhs, dimension_numbers=dn, **params), 0
    if ld is not None:
        lc, lb = _bumped(lc, ld), _bumped(lb, ld)
        # Free dims keep their order: the batch dim follows the batch dims and the lhs free
        # dims that precede it.
        before = sum(1 for i in range(ld) if i not in lc and i not in lb)
        out_d = len(lb) + before
    else:
        lhs_free = aval_of(lhs).ndim - len(lc) - len(lb)
        rc, rb = _bumped(rc, rd), _bumped(rb, rd)
        before = sum(1 for i in range(rd) if i not in rc and i not in rb)
        out_d = len(lb) + lhs_free + before
    dn = ((lc, rc), (lb, rb))
    return dot_general_p.bind(lhs, rhs, dimension_numbers=dn, **params), out_d


def _merge_axis(x, d, t, major, groups=1):
    """``x`` (batched at ``d``) with its batch dimension merged into its dimension ``t`` (a
    position in ``x``): the batch index the outer (``major``) or inner part of the merged
    index. A plain reshape when the batch dimension already sits on that side of ``t``; else
    one transpose first. With ``groups`` > 1 and ``major``, ``t`` is read as (groups, rest)
    and the batch index goes between the two (keeping each group one contiguous block). The
    result's dimensions are the per-example ones, in order."""
    from jaxel.lax.shape_ops import reshape, transpose
    shape = aval_of(x).shape
    rest = [i for i in range(len(shape)) if i != d]
    k = rest.index(t)
    new = [shape[i] for i in rest]
    new[k] = shape[t] * shape[d]
    if groups > 1 and major:
        split = shape[:t] + (groups, shape[t] // groups) + shape[t + 1:]
        x = reshape(x, split)
        d, t = (d, t + 1) if d < t else (d + 1, t + 1)
        shape = split
        rest = [i for i in range(len(shape)) if i != d]
        k = rest.index(t)
    order = rest[:k] + ([d, t] if major else [t, d]) + rest[k + 1:]
    x = transpose(x, order)  # the identity permutation binds nothing
    return reshape(x, new)


def _split_axis(y, p, outer, inner):
    """``y`` with its dimension ``p`` split into ``(outer, inner)`` (a reshape)."""
    from jaxel.lax.shape_ops import reshape
    shape = aval_of(y).shape
    return reshape(y, shape[:p] + (outer, inner) + shape[p + 1:])


def _conv_batch(args, dims, **params):
    """Fold the vmapped dimension into the convolution's own dimensions and split it out of
    the result (reshapes; a transpose only where the vmapped dimension is not next to the one
    it joins, in the order the grouping needs).

    * lhs only: into the input batch N, outermost (or innermost when it sits just after N: no
      transpose). With G batch groups N is (G, n) group-major: the vmapped index goes inside
      each group, (G, vmapped, n) or (G, n, vmapped), so the groups stay whole. The output's N
      splits the same way.
    * rhs only: into the kernel's output features O, likewise; under feature or batch groups
      always innermost, so each group stays one contiguous block and the output features are
      (O, vmapped) with no transpose.
    * both: the vmapped index becomes the outermost group index: into lhs features and kernel O
      with ``feature_group_count`` times the batch size, or, with batch groups, into lhs N and
      kernel O with ``batch_group_count`` times it; the output features are (vmapped, O).
    """
    (lhs, rhs), (ld, rd) = args, dims
    lspec, rspec, ospec = params["dimension_numbers"]
    fgc, bgc = params["feature_group_count"], params["batch_group_count"]
    size = _batching.batch_size_of(args, dims)
    if size == 0:  # no examples: an empty result of the right shape
        la = aval_of(lhs) if ld is None else _unbatched_aval(aval_of(lhs), ld)
        ra = aval_of(rhs) if rd is None else _unbatched_aval(aval_of(rhs), rd)
        out = conv_general_dilated_p.abstract_eval(la, ra, **params)
        return _ad.zeros_like_aval(ShapedArray((0,) + out.shape, out.dtype, out.weak_type)), 0
    bind = conv_general_dilated_p.bind
    if ld is not None and rd is not None:
        rhs = _merge_axis(rhs, rd, _bumped((rspec[0],), rd)[0], major=True)
        if bgc > 1:
            lhs = _merge_axis(lhs, ld, _bumped((lspec[0],), ld)[0], major=True)
            out = bind(lhs, rhs, **dict(params, batch_group_count=bgc * size))
        else:
            lhs = _merge_axis(lhs, ld, _bumped((lspec[1],), ld)[0], major=True)
            out = bind(lhs, rhs, **dict(params, feature_group_count=fgc * size))
        o = ospec[1]
        return _split_axis(out, o, size, aval_of(out).shape[o] // size), o
    # One side batched: the batch index goes outermost (the result's batch dimension then
    # sits where the dimension it joined does) unless it is free to go innermost, or groups
    # need it innermost (kernel O under groups: then the output features are (O, batch)).
    if ld is not None:
        t = _bumped((lspec[0],), ld)[0]
        major = ld != t + 1
        out = bind(_merge_axis(lhs, ld, t, major, groups=bgc), rhs, **params)
        p = ospec[0]
    else:
        t = _bumped((rspec[0],), rd)[0]
        major = fgc == 1 and bgc == 1 and rd != t + 1
        out = bind(lhs, _merge_axis(rhs, rd, t, major), **params)
        p = ospec[1]
    rest = aval_of(out).shape[p] // size
    if major:
        return _split_axis(out, p, size, rest), p
    return _split_axis(out, p, rest, size), p + 1


def _unbatched_aval(a, d):
    return ShapedArray(a.shape[:d] + a.shape[d + 1:], a.dtype, a.weak_type)


dot_general_p.batch = _dot_general_batch
conv_general_dilated_p.batch = _conv_batch
