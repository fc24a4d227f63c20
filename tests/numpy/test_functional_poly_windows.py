"""functional.py (vectorize, apply_along_axis, ...), polynomial.py and windows.py."""
import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from tests.numpy._oracle import A, R, check

X = np.arange(12, dtype=np.int32).reshape(3, 4)
X3 = np.arange(24.).reshape(2, 3, 4).astype(np.float32)


def test_apply_along_and_over_axes():
    check(jnp.apply_along_axis(lambda v: v[::-1] * 2, 1, A(X)),
          np.apply_along_axis(lambda v: v[::-1] * 2, 1, X).astype(np.int32))
    check(jnp.apply_along_axis(lambda v: jnp.stack([v.sum(), v.max()]), 0, A(X)),
          np.apply_along_axis(lambda v: np.stack([v.sum(), v.max()]), 0, X).astype(np.int32))
    check(jnp.apply_along_axis(lambda v: jnp.outer(v, v), 1, A(X3)),
          np.apply_along_axis(lambda v: np.outer(v, v), 1, X3))
    check(jaxel.jit(lambda a: jnp.apply_along_axis(jnp.sum, 2, a))(A(X3)), X3.sum(2))
    check(jnp.apply_over_axes(jnp.sum, A(X3), [0, 2]), np.apply_over_axes(np.sum, X3, [0, 2]))


def test_vectorize():
    f = jnp.vectorize(lambda a, b: a * 2 + b)
    check(f(A(X), 1), (X * 2 + 1).astype(np.int32))
    g = jnp.vectorize(jnp.dot, signature="(n),(n)->()")
    ones = np.ones(4, np.float32)
    check(g(A(X3), A(ones)), X3 @ ones)
    check(jaxel.jit(g)(A(X3), A(ones)), X3 @ ones)
    h = jnp.vectorize(lambda m: (m.sum(0), m.max(1)), signature="(m,n)->(n),(m)")
    check(h(A(X3)), (X3.sum(1), X3.max(2)))
    e = jnp.vectorize(lambda a, s: a * s, excluded={1})
    check(e(A(X), 3), (X * 3).astype(np.int32))
    k = jnp.vectorize(lambda a, *, scale: a * scale)
    check(k(A(X), scale=A(np.array([1, 2, 3, 4], np.int32))), (X * np.arange(1, 5)).astype(np.int32))
    with pytest.raises(ValueError, match="inconsistent size"):
        g(A(X3), A(np.ones(3, np.float32)))
    with pytest.raises(ValueError, match="signature"):
        jnp.vectorize(jnp.dot, signature="(n)(n)->()")(A(ones), A(ones))
    gr = jaxel.grad(lambda v: jnp.sum(jnp.vectorize(jnp.sin)(v)))(A(X3))
    np.testing.assert_allclose(np.asarray(gr), np.cos(X3), rtol=1e-6)


def test_iterable_einsum_path():
    assert jnp.iterable([1]) and not jnp.iterable(3)
    path, report = jnp.einsum_path("ij,jk,kl->il", jnp.ones((2, 3)), jnp.ones((3, 4)),
                                   jnp.ones((4, 5)))
    assert len(path) == 2 and all(isinstance(p, tuple) for p in path)
    assert isinstance(report, str)


@pytest.mark.parametrize("name", ["bartlett", "blackman", "hamming", "hanning"])
@pytest.mark.parametrize("M", [0, 1, 2, 7])
def test_windows(name, M):
    check(getattr(jnp, name)(M), getattr(np, name)(M).astype(np.float32), atol=1e-6)


def test_kaiser():
    check(jnp.kaiser(8, 3.5), np.kaiser(8, 3.5).astype(np.float32))
    check(jnp.kaiser(1, 3.5), np.kaiser(1, 3.5).astype(np.float32))
    check(jaxel.jit(lambda b: jnp.kaiser(6, b))(3.0), np.kaiser(6, 3.0).astype(np.float32))


PA = np.array([1., -3., 2.], np.float32)
PB = np.array([2., 1.], np.float32)


@pytest.mark.parametrize("fn", ["polyadd", "polysub", "polymul"])
def test_poly_arithmetic(fn):
    check(getattr(jnp, fn)(A(PA), A(PB)), getattr(R, fn)(PA, PB))
    ia, ib = np.array([0, 1, 2], np.int32), np.array([1, 1], np.int32)
    check(getattr(jnp, fn)(A(ia), A(ib)), getattr(R, fn)(ia, ib))


def test_polydiv_der_int_val():
    u = np.array([1., 3, 5, 2], np.float32)
    q, r = jnp.polydiv(A(u), A(PB))
    nq, nr = np.polydiv(u, PB)
    check(q, nq.astype(np.float32))
    check(r[-len(nr):], nr.astype(np.float32))
    check(jnp.polymul(A(np.array([0, 1, 2])), A(np.array([1, 1])), trim_leading_zeros=True),
          np.polymul(np.array([1, 2]), np.array([1, 1])).astype(np.float32))
    check(jnp.polyder(A(np.array([1, 2, 3, 4])), 2),
          np.polyder(np.array([1, 2, 3, 4]), 2).astype(np.float32))
    check(jnp.polyint(A(PA), 2, k=A(np.array([1., 2.], np.float32))),
          np.polyint(PA, 2, k=[1., 2.]).astype(np.float32))
    check(jnp.polyint(A(np.array([3, 2, 1]))),
          np.polyint(np.array([3, 2, 1])).astype(np.float32))
    xs = np.linspace(-1, 1, 5).astype(np.float32)
    check(jnp.polyval(A(PA), A(xs)), np.polyval(PA, xs))
    check(jnp.polyval(A(np.array([1, 2, 3])), A(np.array([0, 1, 2]))),
          np.polyval([1, 2, 3], [0, 1, 2]).astype(np.int32))
    gp = jaxel.grad(lambda p: jnp.polyval(p, 2.0))(A(PA))
    np.testing.assert_allclose(np.asarray(gp), [4., 2., 1.])
    gx = jaxel.grad(lambda x: jnp.polyval(A(PA), x))(2.0)
    assert float(gx) == pytest.approx(1.0)


def test_polyfit_poly_roots():
    xf = np.linspace(0, 1, 10).astype(np.float32)
    yf = (3 * xf ** 2 - xf + 0.5).astype(np.float32)
    check(jnp.polyfit(A(xf), A(yf), 2), np.polyfit(xf, yf, 2).astype(np.float32), rtol=1e-3,
          atol=1e-3)
    check(jnp.polyfit(A(xf), A(yf), 1, w=A(xf + 1)),
          np.polyfit(xf, yf, 1, w=xf + 1).astype(np.float32), rtol=1e-3, atol=1e-3)
    check(jnp.poly(A(np.array([1., 2., 3.], np.float32))),
          np.poly([1., 2., 3.]).astype(np.float32))
    r = jnp.roots(A(np.array([0., 1., -6., 11., -6., 0.], np.float32)))
    check(jnp.sort_complex(r), np.sort_complex(np.roots([1., -6., 11., -6., 0.])).astype(
        np.complex64), rtol=1e-4, atol=1e-4)
