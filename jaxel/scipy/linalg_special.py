"""Special matrices of ``jax.scipy.linalg`` (SciPy's ``scipy.linalg`` constructors):
``toeplitz``, ``hankel``, ``circulant``, ``leslie``, ``companion``, ``fiedler``,
``fiedler_companion``, ``convolution_matrix``, ``hilbert``, ``invhilbert``, ``pascal``,
``invpascal``, ``helmert``, ``hadamard`` and ``dft``; re-exported by ``jaxel.scipy.linalg``.

The constructors built from arrays take stacks (leading dimensions are batch dimensions) and
are gathers/selects of their inputs, so they are differentiable in them and traceable. The
dtype rules are JAX's: the index-pattern matrices keep their input's dtype (integers stay
integers), ``companion``/``fiedler_companion`` promote to inexact, the ``n``-only matrices use
the default float dtype (``pascal``: float32, as JAX computes it), ``hadamard`` the requested
dtype (default int) and ``dft`` the default complex dtype.
"""
from __future__ import annotations

import math
import operator

import numpy as np

from jaxel import numpy as jnp
from jaxel.dtypes import canonicalize_dtype, default_complex_dtype, default_float_dtype
from jaxel.numpy._util import check_arraylike, promote_dtypes, promote_dtypes_inexact


def _batch_pair(a, b):
    """Broadcast the leading (batch) dimensions of two stacks of vectors."""
    batch = np.broadcast_shapes(a.shape[:-1], b.shape[:-1])
    return (jnp.broadcast_to(a, batch + a.shape[-1:]),
            jnp.broadcast_to(b, batch + b.shape[-1:]))


def toeplitz(c, r=None):
    """Toeplitz matrix with first column ``c`` and first row ``r`` (``r[0]`` ignored;
    default ``conj(c)``): ``A[i, j] = c[i - j]`` for ``i >= j``, else ``r[j - i]``
    (``jax.scipy.linalg.toeplitz``). ``c`` ``(..., m)`` and ``r`` ``(..., n)`` give
    ``(..., m, n)`` with broadcast leading dimensions; the dtype is their promoted dtype.

    Example::

        toeplitz(jnp.array([1, 2, 3]))  # [[1, 2, 3], [2, 1, 2], [3, 2, 1]]
    """
    if r is None:
        check_arraylike("toeplitz", c)
        r = jnp.conjugate(jnp.asarray(c))
    else:
        check_arraylike("toeplitz", c, r)
    c, r = promote_dtypes(jnp.atleast_1d(jnp.asarray(c)), jnp.atleast_1d(jnp.asarray(r)))
    c, r = _batch_pair(c, r)
    m, n = c.shape[-1], r.shape[-1]
    if m == 0 or n == 0:
        return jnp.zeros(c.shape[:-1] + (m, n), c.dtype)
    # elems = [c[m-1], ..., c[0], r[1], ..., r[n-1]]; A[i, j] = elems[m - 1 - i + j].
    elems = jnp.concatenate([jnp.flip(c, -1), r[..., 1:]], axis=-1)
    idx = m - 1 - np.arange(m)[:, None] + np.arange(n)[None, :]
    return elems[..., idx]


def hankel(c, r=None):
    """Hankel matrix with first column ``c`` and last row ``r`` (``r[0]`` ignored; default
    zeros): ``A[i, j] = c[i + j]`` for ``i + j < m``, else ``r[i + j - m + 1]``
    (``jax.scipy.linalg.hankel``). Batched over leading dimensions like ``toeplitz``.

    Example::

        hankel(jnp.array([1, 2, 3]))  # [[1, 2, 3], [2, 3, 0], [3, 0, 0]]
    """
    if r is None:
        check_arraylike("hankel", c)
        c = jnp.asarray(c)
        r = jnp.zeros_like(c)
    else:
        check_arraylike("hankel", c, r)
        c, r = jnp.asarray(c), jnp.asarray(r)
    if c.ndim == 0:
        raise ValueError("hankel: c must be at least 1-dimensional, got a scalar.")
    if r.ndim == 0:
        raise ValueError("hankel: r must be at least 1-dimensional, got a scalar.")
    c, r = promote_dtypes(c, r)
    c, r = _batch_pair(c, r)
    m, n = c.shape[-1], r.shape[-1]
    if m == 0 or n == 0:
        return jnp.zeros(c.shape[:-1] + (m, n), c.dtype)
    v = jnp.concatenate([c, r[..., 1:]], axis=-1)
    return v[..., np.arange(m)[:, None] + np.arange(n)[None, :]]


def circulant(c):
    """Circulant matrix with first column ``c``: ``A[i, j] = c[(i - j) mod n]``
    (``jax.scipy.linalg.circulant``); ``c`` ``(..., n)`` gives ``(..., n, n)``.

    Example::

        circulant(jnp.array([1, 2, 3]))  # [[1, 3, 2], [2, 1, 3], [3, 2, 1]]
    """
    check_arraylike("circulant", c)
    c = jnp.atleast_1d(jnp.asarray(c))
    n = c.shape[-1]
    return c[..., (np.arange(n)[:, None] - np.arange(n)[None, :]) % n]


def leslie(f, s):
    """Leslie matrix: fecundities ``f`` ``(..., n)`` in the first row and survival rates
    ``s`` ``(..., n-1)`` on the first sub-diagonal (``jax.scipy.linalg.leslie``).

    Example::

        leslie(jnp.array([0.1, 2., 1.]), jnp.array([0.2, 0.8]))
    """
    check_arraylike("leslie", f, s)
    f, s = jnp.atleast_1d(jnp.asarray(f)), jnp.atleast_1d(jnp.asarray(s))
    if f.shape[-1] < 2:
        raise ValueError("The length of f along the last axis must be at least 2; got shape "
                         f"{f.shape}.")
    if s.shape[-1] != f.shape[-1] - 1:
        raise ValueError("Incorrect lengths for f and s. The length of s along the last axis "
                         f"must be one less than the length of f; got f shape {f.shape} and "
                         f"s shape {s.shape}.")
    f, s = promote_dtypes(f, s)
    f, s = _batch_pair(f, s)
    n = f.shape[-1]
    i, j = np.arange(n)[:, None], np.arange(n)[None, :]
    s_full = jnp.concatenate([jnp.zeros(s.shape[:-1] + (1,), s.dtype), s], axis=-1)
    sub = jnp.where(i == j + 1, s_full[..., :, None], jnp.zeros((), s.dtype))
    return jnp.where(i == 0, f[..., None, :], sub)


def companion(a):
    """Companion matrix of the polynomial with coefficients ``a`` (highest degree first):
    first row ``-a[1:] / a[0]``, ones on the first sub-diagonal (``jax.scipy.linalg.companion``);
    ``a`` ``(..., n)`` gives ``(..., n-1, n-1)``, inexact dtype.

    Example::

        companion(jnp.array([1., -10., 31., -30.]))  # eigenvalues 2, 3, 5
    """
    check_arraylike("companion", a)
    (a,) = promote_dtypes_inexact(jnp.atleast_1d(jnp.asarray(a)))
    if a.shape[-1] < 2:
        raise ValueError("The length of `a` along the last axis must be at least 2; got shape "
                         f"{a.shape}.")
    first = -a[..., 1:] / a[..., :1]
    m = a.shape[-1] - 1
    i, j = np.arange(m)[:, None], np.arange(m)[None, :]
    base = jnp.asarray(i == j + 1, dtype=a.dtype)
    return jnp.where(i == 0, first[..., None, :], base)


def fiedler(a):
    """Fiedler matrix ``|a[i] - a[j]|`` (``jax.scipy.linalg.fiedler``); ``a`` ``(..., n)``
    gives ``(..., n, n)`` in ``abs``'s dtype for ``a``.

    Example::

        fiedler(jnp.array([1, 4, 12]))  # [[0, 3, 11], [3, 0, 8], [11, 8, 0]]
    """
    check_arraylike("fiedler", a)
    a = jnp.atleast_1d(jnp.asarray(a))
    return jnp.abs(a[..., :, None] - a[..., None, :])


def fiedler_companion(a):
    """Fiedler companion matrix of the polynomial with coefficients ``a`` (highest degree
    first): a pentadiagonal matrix with the same characteristic polynomial as
    ``companion(a)`` (``jax.scipy.linalg.fiedler_companion``); ``a`` ``(..., n)`` gives
    ``(..., n-1, n-1)``, inexact dtype.

    Example::

        fiedler_companion(jnp.array([1., -10., 31., -30.]))
    """
    check_arraylike("fiedler_companion", a)
    (a,) = promote_dtypes_inexact(jnp.atleast_1d(jnp.asarray(a)))
    if a.shape[-1] == 0:
        raise ValueError("fiedler_companion requires the last axis of 'a' to have nonzero "
                         f"length, but got an array of shape {a.shape}.")
    n = a.shape[-1] - 1
    batch = a.shape[:-1]
    if n == 0:
        return jnp.zeros(batch + (0, 0), a.dtype)
    a = a / a[..., :1]
    if n == 1:
        return -a[..., 1:, None]
    # Rows i even: -a[i+1] at (i, i-1) (i >= 2; (0, 0) for i = 0), -a[i+2] at (i, i+1) and
    # 1 at (i, i+2); rows i odd: 1 at (i, i-2) (i >= 3; (1, 0) for i = 1).
    i, j = np.arange(n)[:, None], np.arange(n)[None, :]
    even = i % 2 == 0
    na = -a
    sup = na[..., np.minimum(i + 2, n)]  # [..., n, 1]
    sub = na[..., np.minimum(i + 1, n)]
    zero = jnp.zeros((), a.dtype)
    one = jnp.ones((), a.dtype)
    out = jnp.where((j == i + 1) & even, sup, zero)
    out = jnp.where((j == i - 1) & even & (i >= 2), sub, out)
    out = jnp.where(((j == i + 2) & even) | ((j == i - 2) & ~even & (i >= 3)) |
                    ((i == 1) & (j == 0)), one, out)
    return jnp.where((i == 0) & (j == 0), na[..., 1:2, None], out)


def convolution_matrix(a, n: int, mode: str = "full"):
    """The matrix ``A`` with ``A @ v == np.convolve(a, v, mode)`` for vectors ``v`` of length
    ``n`` (``jax.scipy.linalg.convolution_matrix``): ``(m + n - 1, n)`` for ``'full'``,
    ``(max(m, n), n)`` for ``'same'``, ``(max(m, n) - min(m, n) + 1, n)`` for ``'valid'``;
    ``a`` ``(..., m)`` batches.

    Example::

        convolution_matrix(jnp.array([1., 2.]), 3)
    """
    n = operator.index(n)
    if n <= 0:
        raise ValueError(f"n must be a positive integer; got {n}.")
    check_arraylike("convolution_matrix", a)
    a = jnp.asarray(a)
    if a.ndim == 0:
        raise ValueError("convolution_matrix: a must be at least 1-dimensional, got a scalar.")
    m = a.shape[-1]
    if m < 1:
        raise ValueError(f"len(a) must be at least 1; got shape {a.shape}.")
    if mode not in ("full", "valid", "same"):
        raise ValueError(f"mode must be one of 'full', 'valid', 'same'; got {mode!r}.")
    total = m + n - 1
    if mode == "same":
        trim = min(n, m) - 1
        lo, hi = trim // 2, trim - trim // 2
    elif mode == "valid":
        lo = hi = min(n, m) - 1
    else:
        lo = hi = 0
    # Row r of the full matrix holds a[r - j] in column j (zero outside 0..m-1); the modes keep
    # rows lo .. total - hi - 1.
    rows = np.arange(lo, total - hi)[:, None]
    k = rows - np.arange(n)[None, :]
    valid = (k >= 0) & (k < m)
    return jnp.where(valid, a[..., np.clip(k, 0, m - 1)], jnp.zeros((), a.dtype))


def hilbert(n: int):
    """Hilbert matrix ``1 / (i + j + 1)`` (``jax.scipy.linalg.hilbert``), default float
    dtype.

    Example::

        hilbert(3)
    """
    a = jnp.arange(n, dtype=default_float_dtype())
    return 1 / (a[:, None] + a[None, :] + 1)


def _comb(n, k):
    """``C(n, k)`` as an exact Python int, 0 outside ``0 <= k <= n``."""
    return math.comb(n, k) if 0 <= k <= n else 0


# n is static for these constructors: their entries are exact integers computed on the host
# (exactly rounded to the float dtype), as SciPy's exact=True results.
def invhilbert(n: int):
    """Inverse of the ``n x n`` Hilbert matrix, from its closed form
    ``(-1)^(i+j) (i+j+1) C(n+i, n-j-1) C(n+j, n-i-1) C(i+j, i)²``
    (``jax.scipy.linalg.invhilbert``), default float dtype.

    Example::

        invhilbert(3)  # [[9, -36, 30], [-36, 192, -180], [30, -180, 180]]
    """
    n = operator.index(n)
    vals = [[(-1) ** (i + j) * (i + j + 1) * _comb(n + i, n - j - 1) * _comb(n + j, n - i - 1)
             * _comb(i + j, i) ** 2 for j in range(n)] for i in range(n)]
    return jnp.asarray(np.array(vals, dtype=np.float64).reshape(n, n),
                       dtype=default_float_dtype())


def _check_kind(kind):
    kind = "symmetric" if kind is None else kind
    valid = ["symmetric", "lower", "upper"]
    if kind not in valid:
        raise ValueError(f"Expected kind to be one of: {valid}; got {kind}")
    return kind


def _pascal_host(n, kind, inverse):
    n = operator.index(n)
    if not inverse:
        low = [[_comb(i, j) for j in range(n)] for i in range(n)]
        sym = [[_comb(i + j, i) for j in range(n)] for i in range(n)]
    else:  # inv(lower)[i, j] = (-1)^(i-j) C(i, j); inv(symmetric) = inv(lower)ᵀ inv(lower)
        low = [[(-1) ** (i - j) * _comb(i, j) for j in range(n)] for i in range(n)]
        sym = [[sum(low[k][i] * low[k][j] for k in range(n)) for j in range(n)]
               for i in range(n)]
    out = {"lower": low, "symmetric": sym}.get(kind)
    if kind == "upper":
        out = [list(r) for r in zip(*low)] if n else []
    return np.array(out, dtype=np.float64).reshape(n, n)


def pascal(n: int, kind=None):
    """Pascal matrix: ``C(i + j, i)`` (``kind='symmetric'``, the default), or its lower
    (``C(i, j)``) / upper factor (``jax.scipy.linalg.pascal``). float32, as in JAX.

    Example::

        pascal(3)  # [[1, 1, 1], [1, 2, 3], [1, 3, 6]]
    """
    return jnp.asarray(_pascal_host(n, _check_kind(kind), False), dtype=np.float32)


def invpascal(n: int, kind=None):
    """Inverse of ``pascal(n, kind)``: the lower factor's inverse is
    ``(-1)^(i-j) C(i, j)`` (``jax.scipy.linalg.invpascal``), default float dtype.

    Example::

        invpascal(3)  # [[3, -3, 1], [-3, 5, -2], [1, -2, 1]]
    """
    return jnp.asarray(_pascal_host(n, _check_kind(kind), True), dtype=default_float_dtype())


def helmert(n: int, full: bool = False):
    """Helmert matrix: ``(n-1) x n`` rows orthonormal to ``ones(n)`` (row ``i``:
    ``1/sqrt(k(k+1))`` on the first ``k = i + 1`` entries, ``-k/sqrt(k(k+1))`` next), with the
    row ``1/sqrt(n)`` on top when ``full`` (``jax.scipy.linalg.helmert``); default float.

    Example::

        helmert(3, full=True)
    """
    if n < 1:
        raise ValueError(f"n must be a positive integer; got {n}.")
    dt = default_float_dtype()
    k = jnp.arange(1, n, dtype=dt)[:, None]
    j = jnp.arange(n, dtype=dt)[None, :]
    den = jnp.sqrt(k * (k + 1))
    h = jnp.where(j < k, 1 / den, jnp.where(j == k, -k / den, jnp.zeros((), dt)))
    if full:
        h = jnp.concatenate([jnp.full((1, n), 1 / math.sqrt(n), dtype=dt), h], axis=0)
    return h


def hadamard(n: int, dtype=int):
    """Sylvester's construction of the ``n x n`` Hadamard matrix (``n`` a power of 2):
    ``H[i, j] = (-1)^popcount(i & j)`` (``jax.scipy.linalg.hadamard``), in ``dtype`` (default
    the default integer dtype).

    Example::

        hadamard(4)
    """
    if n < 1 or not math.log2(n).is_integer():
        raise ValueError(f"n must be a positive power of 2; got {n}.")
    idx = np.arange(n)
    bits = np.bitwise_and(idx[:, None], idx[None, :])
    parity = np.zeros_like(bits)
    while bits.any():
        parity ^= bits & 1
        bits >>= 1
    return jnp.asarray(1 - 2 * parity, dtype=dtype)


def dft(n: int, scale=None, *, dtype=None):
    """Discrete Fourier transform matrix ``exp(-2πi jk / n)`` (``jax.scipy.linalg.dft``), so
    ``dft(n) @ x == fft(x)``; ``scale`` ``None``, ``'sqrtn'`` (divide by ``sqrt(n)``) or
    ``'n'``. ``dtype`` must be complex (default the default complex dtype).

    Example::

        dft(4)
    """
    if scale is not None and scale not in ("sqrtn", "n"):
        raise ValueError(f"scale must be None, 'sqrtn', or 'n'; got {scale!r}.")
    if dtype is None:
        dtype = default_complex_dtype()
    else:
        dtype = np.dtype(dtype)
        if dtype.kind != "c":
            raise ValueError(f"dtype must be a complex floating-point type; got {dtype}.")
        dtype = canonicalize_dtype(dtype)
    # Built on the host: the phase jk/n is reduced mod n in integers first, so large n keeps
    # full accuracy.
    jk = (np.arange(n)[:, None] * np.arange(n)[None, :]) % max(n, 1)
    w = np.exp(-2j * np.pi * jk / max(n, 1))
    if scale == "sqrtn":
        w = w / math.sqrt(n)
    elif scale == "n":
        w = w / n
    return jnp.asarray(w, dtype=dtype)


__all__ = ["toeplitz", "hankel", "circulant", "leslie", "companion", "fiedler",
           "fiedler_companion", "convolution_matrix", "hilbert", "invhilbert", "pascal",
           "invpascal", "helmert", "hadamard", "dft"]
