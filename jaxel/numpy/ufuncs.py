"""Elementwise NumPy functions, composed from lax primitives with NumPy's promotion and
broadcasting.

Complex inputs of the elementary functions get the C99 Annex G special values the Array API
spec lists (infinities, NaNs, signed zeros, the sides of branch cuts); see the section below.
A float remainder of zero takes the divisor's sign, and ``sign(-0.0)`` is +0.0, as in NumPy.
"""
from __future__ import annotations

import numpy as np

from jaxel import dtypes as _dtypes
from jaxel import lax
from jaxel.lax import elementwise as _ew
from jaxel.tracing.core import Literal, check_python_int, literal
from jaxel.runtime.array import Array
from jaxel.tracing.core import _state
from jaxel.tracing.eval_trace import UnaryFastPath, eval_trace
from jaxel.numpy._util import (aval_of, check_arraylike, promote_and_broadcast, promote_dtypes,
                               promote_dtypes_inexact, promote_dtypes_numeric,
                               broadcast_shapes, broadcast_to_shape)


_INT_OR_INEXACT = frozenset(np.dtype(d) for d in (
    np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
    np.float16, np.float32, np.float64, np.complex64, np.complex128, _dtypes.bfloat16))
_REAL_INEXACT = frozenset(np.dtype(d) for d in (np.float16, np.float32, np.float64,
                                                np.complex64, np.complex128, _dtypes.bfloat16))
# Python scalar type -> array dtypes it joins without changing them (the weak-type rule).
_SCALAR_KEEPS_DTYPE = {int: _INT_OR_INEXACT, float: _REAL_INEXACT}


def _binary(name, prim, doc, inexact=False, bool_prim=None, complex_fn=None):
    """A NumPy binary function running ``prim`` after promotion and broadcasting. Two boolean
    operands run ``bool_prim`` instead (add is logical or, multiply logical and, as in JAX);
    complex operands run ``complex_fn(x1, x2)`` when given (lexicographic ordering)."""
    special = bool_prim is not None or complex_fn is not None

    def f(x1, x2, /):
        ax = getattr(x1, "aval", None)
        ay = getattr(x2, "aval", None)
        if special and ((ax is not None and ax.dtype.kind in "bc")
                        or (ay is not None and ay.dtype.kind in "bc")):
            pass  # booleans and complex numbers may need bool_prim or complex_fn: no fast path
        elif not inexact:
            if ax is not None:
                if ax is ay:
                    return prim.bind(x1, x2)  # fast path: same shape, dtype and weak type
                if ay is None:  # array op Python scalar: the scalar adopts the array's dtype
                    keeps = _SCALAR_KEEPS_DTYPE.get(type(x2))
                    if keeps is not None and ax.dtype in keeps:
                        if type(x2) is int:
                            check_python_int(x2)
                        return prim.bind(x1, literal(x2, ax.dtype, ax.weak_type))
            elif ay is not None:
                keeps = _SCALAR_KEEPS_DTYPE.get(type(x1))
                if keeps is not None and ay.dtype in keeps:
                    if type(x1) is int:
                        check_python_int(x1)
                    return prim.bind(literal(x1, ay.dtype, ay.weak_type), x2)
        check_arraylike(name, x1, x2)
        if inexact:
            x1, x2 = promote_dtypes_inexact(x1, x2)
        x1, x2 = promote_and_broadcast(name, x1, x2)
        if special:
            kind = aval_of(x1).dtype.kind
            if kind == "b" and bool_prim is not None:
                return bool_prim.bind(x1, x2)
            if kind == "c" and complex_fn is not None:
                return complex_fn(x1, x2)
        return prim.bind(x1, x2)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = doc
    return f


_INEXACT_DTYPES = frozenset(np.dtype(d) for d in (
    np.float16, np.float32, np.float64, np.complex64, np.complex128, _dtypes.bfloat16))


# ---- complex special values (C99 Annex G, as the Array API spec lists them) -------------------
# XLA's complex kernels are accurate at ordinary points but not at infinities, NaNs and signed
# zeros (nor on the far side of branch cuts, where they ignore the sign of a zero imaginary
# part). Each complex function below therefore
#   1. folds its input into the closed upper half plane (and, for odd/even functions, the right
#      half plane), using f(conj z) = conj f(z) and f(-z) = -f(z) / f(z), which the spec
#      requires of all of them;
#   2. runs the XLA kernel there, and replaces its result wherever the folded input has an
#      infinite or NaN part by the value the spec's table gives;
#   3. unfolds by flipping the signs of the result's parts.
# Folding flips signs with selects, so it is exact and differentiable; the replacement values are
# built from stop_gradient'ed parts, so no inf * 0 ever reaches a cotangent. Real dtypes never
# come here: their ops are the bare primitive, as before.

_COMPLEX_DTYPES = frozenset((np.dtype(np.complex64), np.dtype(np.complex128)))
_PI = float(np.pi)


class _Parts:
    """The folded real and imaginary parts of a complex array, with the predicates and constants
    the special-value tables are written in."""

    def __init__(self, a, b):
        aval = aval_of(a)
        self.dt, self.weak, self.shape = aval.dtype, aval.weak_type, aval.shape
        self.a_live, self.b_live = a, b
        # The tables never differentiate: see the module comment above.
        self.a, self.b = lax.stop_gradient(a), lax.stop_gradient(b)
        inf = self.const(float("inf"))
        self.a_nan, self.b_nan = lax.ne(self.a, self.a), lax.ne(self.b, self.b)
        self.a_inf = lax.eq(lax.abs(self.a), inf)
        self.b_inf = lax.eq(self.b, inf)  # b is folded to +0 <= b or NaN
        self.a_posinf, self.a_neginf = lax.eq(self.a, inf), lax.eq(self.a, lax.neg(inf))
        self.b_fin = lax.bitwise_not(lax.bitwise_or(self.b_nan, self.b_inf))
        self.a_zero = lax.eq(self.a, self.const(0.0))
        self.b_zero = lax.eq(self.b, self.const(0.0))
        self.special = lax.bitwise_not(lax.bitwise_and(
            self.b_fin, lax.bitwise_not(lax.bitwise_or(self.a_nan, self.a_inf))))

    def const(self, v):
        return lax.broadcast_in_dim(literal(v, self.dt, self.weak), self.shape, ())

    def pick(self, *pairs_and_default):
        """``pick(c1, v1, c2, v2, ..., default)``: the value of the first true condition (values
        may be Python floats)."""
        *pairs, out = pairs_and_default
        out = self._arr(out)
        for c, v in reversed(list(zip(pairs[::2], pairs[1::2]))):
            out = lax.select(c, self._arr(v), out)
        return out

    def _arr(self, v):
        return self.const(v) if isinstance(v, float) else v

    def inf_cis(self, scale):
        """``scale * cis(b)`` for finite b (``scale`` +inf or +0), with a zero b giving exactly
        ``scale + 0j`` instead of the ``inf * 0`` NaN."""
        s = self.const(scale)
        re = lax.mul(s, lax.cos(self.b))
        im = lax.select(self.b_zero, self.b, lax.mul(s, lax.sin(self.b)))
        return re, im

    def log_like(self):
        """The non-finite-input table shared by log, log1p, acosh and asinh (the real part is
        log|z| = +inf when either part is infinite; the imaginary part is arg z)."""
        nan = float("nan")
        re = lax.select(lax.bitwise_or(self.a_inf, self.b_inf), self.const(float("inf")),
                        self.const(nan))
        im = self.pick(lax.bitwise_or(self.a_nan, self.b_nan), nan,
                       lax.bitwise_and(self.b_inf, self.a_posinf), _PI / 4,
                       lax.bitwise_and(self.b_inf, self.a_neginf), 3 * _PI / 4,
                       self.b_inf, _PI / 2,
                       self.a_posinf, 0.0,
                       _PI)
        return re, im


def _signbit(x):
    # The sign bit itself (so -0.0 and -NaN count as negative), read through an integer view.
    int_dt = {4: np.int32, 8: np.int64}[aval_of(x).dtype.itemsize]
    bits = lax.bitcast_convert_type(x, int_dt)
    return lax.lt(bits, _ew._filled(bits, 0))


def _flip(x, neg):
    return lax.select(neg, lax.neg(x), x)


def _c99(kernel, table, symmetry="conj"):
    """A complex function: ``kernel`` (complex -> complex, accurate at ordinary points) run on the
    folded input, with ``table(p, re, im) -> (re, im)`` substituting special values on the
    folded domain (``p`` a ``_Parts``). ``symmetry``: "conj" (f(conj z) = conj f(z): fold b >= 0),
    "odd" (also f(-z) = -f(z): fold a >= 0 too) or "even" (also f(-z) = f(z))."""
    def impl(z):
        a, b = lax.real(z), lax.imag(z)
        neg_b = _signbit(b)
        b = _flip(b, neg_b)
        if symmetry != "conj":
            neg_a = _signbit(a)
            a = _flip(a, neg_a)
        w = kernel(lax.complex(a, b))
        re, im = table(_Parts(a, b), lax.real(w), lax.imag(w))
        if symmetry == "odd":
            re, im = _flip(re, neg_a), _flip(im, neg_b)
        elif symmetry == "even":
            im = _flip(im, lax.ne(neg_a, neg_b))
        else:
            im = _flip(im, neg_b)
        return lax.complex(re, im)
    return impl


def _override(p, re, im, re_s, im_s):
    return lax.select(p.special, re_s, re), lax.select(p.special, im_s, im)


def _acosh_table(p, re, im):
    re_s, im_s = p.log_like()
    # acosh(+-0 + NaN j) keeps its imaginary part pi/2 (NaN +- pi j/2 in the spec).
    im_s = lax.select(lax.bitwise_and(p.b_nan, p.a_zero), p.const(_PI / 2), im_s)
    return _override(p, re, im, re_s, im_s)


def _asinh_table(p, re, im):
    re_s, im_s = p.log_like()
    im_s = lax.select(lax.bitwise_and(p.a_nan, p.b_zero), p.const(0.0), im_s)  # NaN + 0j
    return _override(p, re, im, re_s, im_s)


def _log_table(p, re, im):
    return _override(p, re, im, *p.log_like())


def _atanh_table(p, re, im):
    nan = float("nan")
    re_s = p.pick(lax.bitwise_or(p.a_inf, p.b_inf), 0.0,
                  lax.bitwise_and(p.b_nan, p.a_zero), 0.0, nan)
    im_s = p.pick(p.b_nan, nan, lax.bitwise_and(p.a_nan, lax.bitwise_not(p.b_inf)), nan,
                  _PI / 2)
    return _override(p, re, im, re_s, im_s)


def _sinh_table(p, re, im):
    nan = float("nan")
    # On the imaginary axis sinh(+0 + bj) = (+0 * cos b) + (sin b) j: the zero's sign follows
    # cos b, which XLA's kernel does not keep (and sin z = -i sinh(iz) needs it on the real
    # axis). Computed from the live parts, so the derivative there stays cos b.
    re = lax.select(p.a_zero, lax.mul(p.a_live, lax.cos(p.b_live)), re)
    cre, cim = p.inf_cis(float("inf"))
    a_inf_b_fin = lax.bitwise_and(p.a_inf, p.b_fin)
    re_s = p.pick(a_inf_b_fin, cre, p.a_inf, float("inf"), p.a_nan, nan, p.a_zero, 0.0, nan)
    im_s = p.pick(a_inf_b_fin, cim, lax.bitwise_and(p.a_nan, p.b_zero), 0.0, nan)
    return _override(p, re, im, re_s, im_s)


def _cosh_table(p, re, im):
    nan = float("nan")
    # cosh(+0 + bj) = cos b + (+0 * sin b) j, the zero's sign following sin b (as for sinh).
    im = lax.select(p.a_zero, lax.mul(p.a_live, lax.sin(p.b_live)), im)
    cre, cim = p.inf_cis(float("inf"))
    a_inf_b_fin = lax.bitwise_and(p.a_inf, p.b_fin)
    re_s = p.pick(a_inf_b_fin, cre, p.a_inf, float("inf"), nan)
    # cosh(+0 + inf j), cosh(+0 + NaN j) and cosh(NaN + 0j) are NaN + 0j.
    zero_im = lax.bitwise_or(lax.bitwise_and(p.a_zero, lax.bitwise_not(p.b_fin)),
                             lax.bitwise_and(p.a_nan, p.b_zero))
    im_s = p.pick(a_inf_b_fin, cim, zero_im, 0.0, nan)
    return _override(p, re, im, re_s, im_s)


def _tanh_table(p, re, im):
    nan = float("nan")
    # tanh(+inf + b j) is 1 + 0j for every b (the spec fixes the zero's sign to +0 for b > 0).
    re_s = p.pick(p.a_inf, 1.0, p.a_nan, nan, p.a_zero, 0.0, nan)
    im_s = p.pick(p.a_inf, 0.0, lax.bitwise_and(p.a_nan, p.b_zero), 0.0, nan)
    return _override(p, re, im, re_s, im_s)


def _exp_tables(minus_one):
    def table(p, re, im):
        nan = float("nan")
        ire, iim = p.inf_cis(float("inf"))
        zre, zim = p.inf_cis(0.0)
        re_s = p.pick(lax.bitwise_and(p.a_posinf, p.b_fin), ire, p.a_posinf, float("inf"),
                      lax.bitwise_and(p.a_neginf, p.b_fin), zre, p.a_neginf, 0.0, nan)
        if minus_one:  # expm1: +inf - 1 and NaN - 1 stay; the -inf row becomes -1
            re_s = lax.sub(re_s, p.const(1.0))
        im_s = p.pick(lax.bitwise_and(p.a_posinf, p.b_fin), iim,
                      lax.bitwise_and(p.a_neginf, p.b_fin), zim, p.a_neginf, 0.0,
                      lax.bitwise_and(p.a_nan, p.b_zero), 0.0, nan)
        return _override(p, re, im, re_s, im_s)
    return table


def _sqrt_table(p, re, im):
    nan, inf = float("nan"), float("inf")
    re_s = p.pick(p.b_inf, inf, p.a_posinf, inf,
                  lax.bitwise_and(p.a_neginf, p.b_fin), 0.0, nan)
    im_s = p.pick(p.b_inf, inf, p.a_neginf, inf,
                  lax.bitwise_and(p.a_posinf, p.b_fin), 0.0, nan)
    return _override(p, re, im, re_s, im_s)


def _times_i(z):
    # i * z by swapping parts (a complex multiply would turn inf * 0 into NaN).
    return lax.complex(lax.neg(lax.imag(z)), lax.real(z))


def _times_minus_i(z):
    return lax.complex(lax.imag(z), lax.neg(lax.real(z)))


_c_acosh = _c99(_ew.acosh_p.bind, _acosh_table)
_c_asinh = _c99(_ew.asinh_p.bind, _asinh_table, "odd")
_c_atanh = _c99(_ew.atanh_p.bind, _atanh_table, "odd")
_c_sinh = _c99(_ew.sinh_p.bind, _sinh_table, "odd")
_c_cosh = _c99(_ew.cosh_p.bind, _cosh_table, "even")
_c_tanh = _c99(_ew.tanh_p.bind, _tanh_table, "odd")
_c_exp = _c99(_ew.exp_p.bind, _exp_tables(False))
_c_expm1 = _c99(_ew.expm1_p.bind, _exp_tables(True))
_c_log = _c99(_ew.log_p.bind, _log_table)
_c_log1p = _c99(_ew.log1p_p.bind, _log_table)  # log1p's non-finite table is log's
_c_sqrt = _c99(_ew.sqrt_p.bind, _sqrt_table)


def _c_acos(z):
    # In the closed upper half plane acosh(z) = i acos(z), so acos's table is acosh's turned by
    # -i: fold with acos's own kernel and take the special values from acosh's table.
    def table(p, re, im):
        are, aim = _acosh_table(p, lax.neg(im), re)  # acosh = i * acos on this half plane
        return aim, lax.neg(are)
    return _c99(_ew.acos_p.bind, table)(z)


# The spec defines the circular functions' special values through the hyperbolic ones:
# sin z = -i sinh(iz), cos z = cosh(iz), tan z = -i tanh(iz), asin z = -i asinh(iz),
# atan z = -i atanh(iz) (C99's own definitions).
def _c_sin(z):
    return _times_minus_i(_c_sinh(_times_i(z)))


def _c_cos(z):
    return _c_cosh(_times_i(z))


def _c_tan(z):
    return _times_minus_i(_c_tanh(_times_i(z)))


def _c_asin(z):
    return _times_minus_i(_c_asinh(_times_i(z)))


def _c_atan(z):
    return _times_minus_i(_c_atanh(_times_i(z)))


def _sign(x):
    if aval_of(x).dtype in _COMPLEX_DTYPES:
        return _c_sign(x)
    # XLA's sign(-0.0) is -0.0; NumPy and the spec give +0.0 for both zeros.
    zero = _ew._filled(x, 0.0)
    return lax.select(lax.eq(x, zero), zero, _ew.sign_p.bind(x))


def _c_sign(z):
    # z / |z| from XLA, but 0 + 0j for either signed zero, and NaN + NaN j where a part is NaN
    # or infinite (the spec's "rules of complex division": inf / inf is NaN in both parts).
    a, b = lax.real(z), lax.imag(z)
    p = _Parts(a, b)
    w = _ew.sign_p.bind(z)
    zero = lax.bitwise_and(p.a_zero, p.b_zero)
    bad = lax.bitwise_not(lax.bitwise_and(_ew.is_finite_p.bind(a), _ew.is_finite_p.bind(b)))
    re = p.pick(zero, 0.0, bad, float("nan"), lax.real(w))
    im = p.pick(zero, 0.0, bad, float("nan"), lax.imag(w))
    return lax.complex(re, im)


def _jitted(fn):
    """``fn`` compiled once per input type for eager calls (a few dozen elementwise ops), and
    inlined into enclosing traces."""
    cell = []

    def call(x):
        if not cell:
            from jaxel.api import jit  # jaxel.api imports this package: bind on first use
            cell.append(jit(fn, inline=True))
        return cell[0](x)
    return call


def _unary(name, prim, doc, inexact=False, special_impl=None, special_dtypes=None):
    """A NumPy unary function running ``prim``; inputs whose dtype is in ``special_dtypes``
    (default: the complex ones) run ``special_impl`` instead (special-value handling)."""
    special_dtypes = _COMPLEX_DTYPES if special_dtypes is None else special_dtypes
    fast = UnaryFastPath(prim)
    ops = fast.ops

    def f(x, /):
        # UnaryFastPath.run, inlined (this is the whole cost of an eager jnp.sin beyond XLA's).
        # Only avals that ran the bare primitive are ever learned, so inputs that need
        # special-value handling never take it.
        if type(x) is Array and x._device is None:
            op = ops.get(x.aval)
            if op is not None and _state.trace is eval_trace:
                outs = op.exe.execute_sharded([x._buf]).consume_with_handlers(op.handlers)
                return Array(outs[0], op.aval0, None)
        aval = getattr(x, "aval", None)
        if aval is not None and (not inexact or aval.dtype in _INEXACT_DTYPES):
            if special_impl is not None and aval.dtype in special_dtypes:
                return special_impl(x)
            out = prim.bind(x)  # an array that needs no conversion
            fast.learn(x)
            return out
        check_arraylike(name, x)
        if inexact:
            (x,) = promote_dtypes_inexact(x)
        elif type(x) in (int, float, complex, bool) or isinstance(x, (np.ndarray, np.generic)):
            from jaxel.numpy.creation import asarray
            x = asarray(x)
        if special_impl is not None and aval_of(x).dtype in special_dtypes:
            return special_impl(x)
        return prim.bind(x)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = doc
    return f


def _lexicographic(prim):
    """Complex ordering as NumPy and JAX define it: by real part, then by imaginary part."""
    def compare(x1, x2):
        re1, re2 = _ew.real_p.bind(x1), _ew.real_p.bind(x2)
        return lax.select(_ew.eq_p.bind(re1, re2),
                          prim.bind(_ew.imag_p.bind(x1), _ew.imag_p.bind(x2)),
                          prim.bind(re1, re2))
    return compare


add = _binary("add", _ew.add_p, "Elementwise x1 + x2 with NumPy broadcasting and promotion "
              "(logical or for two booleans).", bool_prim=_ew.or_p)
subtract = _binary("subtract", _ew.sub_p, "Elementwise x1 - x2.")
multiply = _binary("multiply", _ew.mul_p, "Elementwise x1 * x2 (logical and for two booleans).",
                   bool_prim=_ew.and_p)
maximum = _binary("maximum", _ew.max_p, "Elementwise maximum (NaN propagates).")
minimum = _binary("minimum", _ew.min_p, "Elementwise minimum (NaN propagates).")
arctan2 = _binary("arctan2", _ew.atan2_p, "Elementwise arctan(x1 / x2), quadrant-aware.",
                  inexact=True)
nextafter = _binary("nextafter", _ew.nextafter_p, "Next float after x1 towards x2.", inexact=True)
equal = _binary("equal", _ew.eq_p, "Elementwise x1 == x2.")
not_equal = _binary("not_equal", _ew.ne_p, "Elementwise x1 != x2.")
less = _binary("less", _ew.lt_p, "Elementwise x1 < x2 (complex: lexicographic).",
              complex_fn=_lexicographic(_ew.lt_p))
less_equal = _binary("less_equal", _ew.le_p, "Elementwise x1 <= x2 (complex: lexicographic).",
                     complex_fn=_lexicographic(_ew.le_p))
greater = _binary("greater", _ew.gt_p, "Elementwise x1 > x2 (complex: lexicographic).",
                  complex_fn=_lexicographic(_ew.gt_p))
greater_equal = _binary("greater_equal", _ew.ge_p, "Elementwise x1 >= x2 (complex: "
                        "lexicographic).", complex_fn=_lexicographic(_ew.ge_p))
bitwise_and = _binary("bitwise_and", _ew.and_p, "Elementwise bitwise AND.")
bitwise_or = _binary("bitwise_or", _ew.or_p, "Elementwise bitwise OR.")
bitwise_xor = _binary("bitwise_xor", _ew.xor_p, "Elementwise bitwise XOR.")

sin = _unary("sin", _ew.sin_p, "Elementwise sine.", inexact=True,
             special_impl=_jitted(_c_sin))
cos = _unary("cos", _ew.cos_p, "Elementwise cosine.", inexact=True,
             special_impl=_jitted(_c_cos))
tan = _unary("tan", _ew.tan_p, "Elementwise tangent.", inexact=True,
             special_impl=_jitted(_c_tan))
arcsin = _unary("arcsin", _ew.asin_p, "Elementwise arcsine.", inexact=True,
                special_impl=_jitted(_c_asin))
arccos = _unary("arccos", _ew.acos_p, "Elementwise arccosine.", inexact=True,
                special_impl=_jitted(_c_acos))
arctan = _unary("arctan", _ew.atan_p, "Elementwise arctangent.", inexact=True,
                special_impl=_jitted(_c_atan))
sinh = _unary("sinh", _ew.sinh_p, "Elementwise hyperbolic sine.", inexact=True,
              special_impl=_jitted(_c_sinh))
cosh = _unary("cosh", _ew.cosh_p, "Elementwise hyperbolic cosine.", inexact=True,
              special_impl=_jitted(_c_cosh))
tanh = _unary("tanh", _ew.tanh_p, "Elementwise hyperbolic tangent.", inexact=True,
              special_impl=_jitted(_c_tanh))
arcsinh = _unary("arcsinh", _ew.asinh_p, "Elementwise inverse hyperbolic sine.", inexact=True,
                 special_impl=_jitted(_c_asinh))
arccosh = _unary("arccosh", _ew.acosh_p, "Elementwise inverse hyperbolic cosine.", inexact=True,
                 special_impl=_jitted(_c_acosh))
arctanh = _unary("arctanh", _ew.atanh_p, "Elementwise inverse hyperbolic tangent.", inexact=True,
                 special_impl=_jitted(_c_atanh))
exp = _unary("exp", _ew.exp_p, "Elementwise e**x.", inexact=True,
             special_impl=_jitted(_c_exp))
exp2 = _unary("exp2", _ew.exp2_p, "Elementwise 2**x.", inexact=True)
expm1 = _unary("expm1", _ew.expm1_p, "Elementwise e**x - 1.", inexact=True,
               special_impl=_jitted(_c_expm1))
log = _unary("log", _ew.log_p, "Elementwise natural log.", inexact=True,
             special_impl=_jitted(_c_log))
log1p = _unary("log1p", _ew.log1p_p, "Elementwise log(1 + x).", inexact=True,
               special_impl=_jitted(_c_log1p))
sqrt = _unary("sqrt", _ew.sqrt_p, "Elementwise square root.", inexact=True,
              special_impl=_jitted(_c_sqrt))
cbrt = _unary("cbrt", _ew.cbrt_p, "Elementwise cube root.", inexact=True)
negative = _unary("negative", _ew.neg_p, "Elementwise -x.")
sign = _unary("sign", _ew.sign_p, "Elementwise sign (+0 for either zero, as NumPy).",
              special_impl=_jitted(_sign), special_dtypes=_INEXACT_DTYPES)
_floor = _unary("floor", _ew.floor_p, "Elementwise floor.", inexact=True)
_ceil = _unary("ceil", _ew.ceil_p, "Elementwise ceiling.", inexact=True)


def _integers_unchanged(float_fn, name):
    """Rounding functions return integer and boolean inputs unchanged (as JAX and the Array
    API do), and round floats."""
    def f(x, /):
        if type(x) in (int, bool):
            return _asarray_any(x)
        dt = getattr(x, "dtype", None)
        if dt is not None and (dt == np.bool_ or np.issubdtype(dt, np.integer)):
            return x if hasattr(x, "aval") else _asarray_any(x)
        return float_fn(x)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"Elementwise {name} (integers and booleans are returned unchanged)."
    return f


def _asarray_any(x):
    from jaxel.numpy.creation import asarray
    return asarray(x)


floor = _integers_unchanged(_floor, "floor")
ceil = _integers_unchanged(_ceil, "ceil")
invert = _unary("invert", _ew.not_p, "Elementwise bitwise NOT (logical NOT for bools).")
bitwise_not = invert


def positive(x, /):
    """Elementwise +x (a copy of x)."""
    check_arraylike("positive", x)
    from jaxel.numpy.creation import asarray
    return asarray(x)


def abs(x, /):  # noqa: A001
    """Elementwise absolute value."""
    check_arraylike("abs", x)
    from jaxel.numpy.creation import asarray
    x = asarray(x)
    if x.dtype == np.bool_ or np.issubdtype(x.dtype, np.unsignedinteger):
        return x
    return _ew.abs_p.bind(x)


absolute = abs


def true_divide(x1, x2, /):
    """Elementwise x1 / x2; integers divide as floats."""
    check_arraylike("true_divide", x1, x2)
    x1, x2 = promote_dtypes_inexact(x1, x2)
    x1, x2 = promote_and_broadcast("true_divide", x1, x2)
    return _ew.div_p.bind(x1, x2)


divide = true_divide


def floor_divide(x1, x2, /):
    """Elementwise floor(x1 / x2) (rounds toward minus infinity, as NumPy)."""
    check_arraylike("floor_divide", x1, x2)
    x1, x2 = promote_dtypes_numeric(x1, x2)  # booleans divide as the default int
    x1, x2 = promote_and_broadcast("floor_divide", x1, x2)
    dt = aval_of(x1).dtype
    if _dtypes.is_complex(dt):
        raise TypeError("jaxel.numpy.floor_divide does not support complex inputs.")
    if _dtypes.is_unsigned(dt):
        return _ew.div_p.bind(x1, x2)
    if _dtypes.is_integer(dt):
        # XLA's division truncates; step down where the signs differ and it was inexact. (A zero
        # divisor gives what JAX gives: XLA's -1 stepped down to -2 for a nonzero dividend.)
        q = _ew.div_p.bind(x1, x2)
        inexact = _ew.ne_p.bind(_ew.rem_p.bind(x1, x2), _ew._filled(x1, 0))
        differ = _ew.ne_p.bind(_ew.sign_p.bind(x1), _ew.sign_p.bind(x2))
        return lax.select(lax.bitwise_and(inexact, differ),
                          _ew.sub_p.bind(q, _ew._filled(q, 1)), q)
    return _ew.floor_p.bind(_ew.div_p.bind(x1, x2))


def remainder(x1, x2, /):
    """Elementwise remainder with the sign of x2 (NumPy's ``mod``); an integer remainder by
    zero is 0, as in JAX."""
    check_arraylike("remainder", x1, x2)
    x1, x2 = promote_dtypes_numeric(x1, x2)
    x1, x2 = promote_and_broadcast("remainder", x1, x2)
    dt = aval_of(x1).dtype
    if _dtypes.is_complex(dt):
        # As NumPy and JAX (XLA's remainder kernel has no complex form: it would crash).
        raise TypeError("jaxel.numpy.remainder does not support complex inputs.")
    if _dtypes.is_integer(dt):
        x2 = lax.select(_ew.eq_p.bind(x2, _ew._filled(x2, 0)), _ew._filled(x2, 1), x2)
    r = _ew.rem_p.bind(x1, x2)
    if _dtypes.is_unsigned(dt):
        return r
    if _dtypes.is_inexact(dt):
        return _float_remainder(r, x2)
    zero = _ew._filled(r, 0)
    adjust = lax.bitwise_and(_ew.ne_p.bind(r, zero),
                             _ew.ne_p.bind(_ew.lt_p.bind(r, zero), _ew.lt_p.bind(x2, zero)))
    return lax.select(adjust, _ew.add_p.bind(r, x2), r)


def _float_remainder(r, x2):
    """The floored remainder from the truncated one ``r = fmod(x1, x2)``: a nonzero r whose sign
    differs from x2's moves by x2, and a zero r takes x2's sign (NumPy's and the spec's
    ``-0.0 % 5.0 == +0.0``, ``0.0 % -5.0 == -0.0``)."""
    int_dt = {2: np.int16, 4: np.int32, 8: np.int64}[aval_of(r).dtype.itemsize]
    zero_i = _ew._filled(lax.bitcast_convert_type(r, int_dt), 0)
    # The sign bits differ (x2's own sign bit, so -0.0 and NaN divisors need no case: r is NaN).
    differ = lax.lt(lax.bitwise_xor(lax.bitcast_convert_type(r, int_dt),
                                    lax.bitcast_convert_type(x2, int_dt)), zero_i)
    is_zero = lax.eq(r, _ew._filled(r, 0.0))
    # -r in value (its zero's sign flipped) with derivative +1, not -1: the correction term is
    # exactly +0 and x - (+0) keeps x's sign, whatever XLA does with it.
    flipped = lax.sub(lax.neg(r), lax.mul(_ew._filled(r, 2.0), lax.sub(lax.stop_gradient(r), r)))
    out = lax.select(lax.bitwise_and(differ, is_zero), flipped, r)
    return lax.select(lax.bitwise_and(differ, lax.bitwise_not(is_zero)), lax.add(r, x2), out)


mod = remainder


def divmod(x1, x2, /):  # noqa: A001
    """``(floor_divide(x1, x2), remainder(x1, x2))``."""
    return floor_divide(x1, x2), remainder(x1, x2)


def _concrete_int(x):
    """The Python int a concrete integer (or boolean) scalar stands for, else None: such
    exponents take ``integer_pow`` (exact repeated multiplication), as in JAX."""
    t = type(x)
    if t is int or t is bool:
        return int(x)
    if isinstance(x, np.generic) or (type(x) is Array and x.ndim == 0) or (
            isinstance(x, np.ndarray) and x.ndim == 0):
        if x.dtype.kind in "biu":
            return int(x)
    return None


def power(x1, x2, /):
    """Elementwise x1 ** x2 (as JAX: a concrete integer exponent runs ``integer_pow``; booleans
    count as the default integer; integer powers are exact in the integer dtype)."""
    check_arraylike("power", x1, x2)
    n = _concrete_int(x2)
    if n is not None:
        (x1,) = promote_dtypes_numeric(x1)
        if _dtypes.is_integer(aval_of(x1).dtype) and n < 0:
            raise TypeError("Integers cannot be raised to negative powers (jaxel.numpy.power "
                            f"got the exponent {n}).")
        if type(x1) is not Literal:
            return _ew.integer_pow_p.bind(x1, y=n)
        from jaxel.numpy.creation import asarray
        return _ew.integer_pow_p.bind(asarray(x1), y=n)
    (dt1,), (dt2,) = ((aval_of(x).dtype,) for x in (x1, x2))
    y1, y2 = promote_dtypes_numeric(x1, x2)
    dt = aval_of(y1).dtype
    if _dtypes.is_integer(dt):
        y1, y2 = promote_and_broadcast("power", y1, y2)
        shape = broadcast_shapes(aval_of(y1).shape, aval_of(y2).shape)
        return _integer_power(broadcast_to_shape(y1, shape), broadcast_to_shape(y2, shape))
    if _dtypes.is_inexact(dt1) and _dtypes.is_integer(dt2):
        # An inexact base keeps its own dtype and weak type; the integer exponent only joins it
        # (JAX's lax.pow takes it unpromoted: ``2.5 ** int32_array`` is a strong float32).
        (y1,) = promote_dtypes(x1) if type(x1) not in (int, float, complex) else (y1,)
        y2 = _convert_strong_like(x2, aval_of(y1).dtype)
    y1, y2 = promote_and_broadcast("power", y1, y2)
    return _ew.pow_p.bind(y1, y2)


def _convert_strong_like(x, dt):
    weak = aval_of(x).weak_type
    return lax.convert_element_type_p.bind(x, new_dtype=dt, weak_type=weak, sharding=None) \
        if type(x) is not Literal else x


def _integer_power(x, y):
    """``x ** y`` for integer arrays by square-and-multiply over the exponent's low 6 bits (any
    larger exponent overflows for |x| > 1, as JAX). ``0 ** y`` is 0 for y != 0."""
    # Strong constants: the result is strongly typed even for weak operands (as JAX's).
    aval = aval_of(x)
    one = broadcast_to_shape(literal(1, aval.dtype, False), aval.shape)
    zero = broadcast_to_shape(literal(0, aval.dtype, False), aval.shape)
    acc = lax.select(lax.bitwise_and(_ew.eq_p.bind(x, zero), _ew.ne_p.bind(y, zero)), zero, one)
    for _ in range(6):
        odd = _ew.ne_p.bind(_ew.and_p.bind(y, one), zero)
        acc = lax.select(odd, _ew.mul_p.bind(acc, x), acc)
        x = _ew.mul_p.bind(x, x)
        y = _ew.shift_right_logical_p.bind(y, one)
    return acc


def square(x, /):
    """Elementwise x * x (``lax.square``, as JAX 0.12.1; booleans square as the default int).

    Example::

        >>> jnp.square(jnp.array([1.5, -2.0]))
        Array([2.25, 4.  ], dtype=float32)
    """
    check_arraylike("square", x)
    from jaxel.numpy._util import promote_dtypes_numeric
    from jaxel.numpy.creation import asarray
    (x,) = promote_dtypes_numeric(asarray(x))
    return lax.square(x)


def reciprocal(x, /):
    """Elementwise 1 / x."""
    (x,) = promote_dtypes_inexact(x)
    return true_divide(1, x)


def left_shift(x1, x2, /):
    """Elementwise x1 << x2 (booleans shift as the default integer)."""
    check_arraylike("left_shift", x1, x2)
    x1, x2 = promote_and_broadcast("left_shift", *promote_dtypes_numeric(x1, x2))
    return _ew.shift_left_p.bind(x1, x2)


def right_shift(x1, x2, /):
    """Elementwise x1 >> x2 (arithmetic for signed, logical for unsigned)."""
    check_arraylike("right_shift", x1, x2)
    x1, x2 = promote_and_broadcast("right_shift", *promote_dtypes_numeric(x1, x2))
    if _dtypes.is_unsigned(aval_of(x1).dtype):
        return _ew.shift_right_logical_p.bind(x1, x2)
    return _ew.shift_right_arithmetic_p.bind(x1, x2)


def isfinite(x, /):
    """Elementwise test for finite values (always True for integers)."""
    check_arraylike("isfinite", x)
    from jaxel.numpy.creation import asarray, full_like
    x = asarray(x)
    if not _dtypes.is_inexact(x.dtype):
        return full_like(x, True, dtype=bool)
    if _dtypes.is_complex(x.dtype):
        return isfinite(_ew.real_p.bind(x)) & isfinite(_ew.imag_p.bind(x))
    return _ew.is_finite_p.bind(x)


def isinf(x, /):
    """Elementwise test for +inf or -inf."""
    from jaxel.numpy.creation import asarray, full_like
    x = asarray(x)
    if not _dtypes.is_inexact(x.dtype):
        return full_like(x, False, dtype=bool)
    if _dtypes.is_complex(x.dtype):
        return isinf(_ew.real_p.bind(x)) | isinf(_ew.imag_p.bind(x))
    return _ew.eq_p.bind(_ew.abs_p.bind(x), *promote_dtypes(x, float("inf"))[1:])


def isnan(x, /):
    """Elementwise test for NaN."""
    from jaxel.numpy.creation import asarray
    x = asarray(x)
    return _ew.ne_p.bind(x, x)


def real(x, /):
    """Real part (the array itself for real inputs)."""
    from jaxel.numpy.creation import asarray
    x = asarray(x)
    return _ew.real_p.bind(x) if _dtypes.is_complex(x.dtype) else x


def imag(x, /):
    """Imaginary part (zeros for real inputs)."""
    from jaxel.numpy.creation import asarray, zeros_like
    x = asarray(x)
    return _ew.imag_p.bind(x) if _dtypes.is_complex(x.dtype) else zeros_like(x)


def conjugate(x, /):
    """Complex conjugate (the array itself for real inputs)."""
    from jaxel.numpy.creation import asarray
    x = asarray(x)
    return _ew.conj_p.bind(x) if _dtypes.is_complex(x.dtype) else x


conj = conjugate


def round(a, decimals=0, out=None):  # noqa: A001
    """Round to ``decimals`` places, halves to even (as NumPy)."""
    from jaxel.numpy.creation import asarray
    a = asarray(a)
    if not _dtypes.is_inexact(a.dtype):
        return a
    if _dtypes.is_complex(a.dtype):
        # XLA's round takes real operands only: round each part, as NumPy does.
        return _ew.complex_p.bind(round(_ew.real_p.bind(a), decimals),
                                  round(_ew.imag_p.bind(a), decimals))
    if decimals == 0:
        return _ew.round_p.bind(a, rounding_method=1)
    factor = 10.0 ** decimals
    return true_divide(_ew.round_p.bind(multiply(a, factor), rounding_method=1), factor)


around = round
