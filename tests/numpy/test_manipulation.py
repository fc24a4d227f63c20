"""manipulation.py and index_tricks.py against JAX (or NumPy)."""
import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel.errors import ConcretizationTypeError
from tests.numpy._oracle import A, R, check

X = np.arange(12, dtype=np.int32).reshape(3, 4)


def test_append_delete_insert():
    check(jnp.append(A(X), A(X[:1]), axis=0), R.append(X, X[:1], axis=0))
    check(jnp.append(A(X), A(np.int32(5))), R.append(X, np.int32(5)))
    for obj in [1, slice(0, 3, 2), np.array([0, 2]), -1]:
        o = A(obj) if isinstance(obj, np.ndarray) else obj
        check(jnp.delete(A(X), o, axis=1), R.delete(X, obj, axis=1))
    f = jaxel.jit(lambda a, o: jnp.delete(a, o, assume_unique_indices=True))
    check(f(A(X), A(np.array([0, 5]))), R.delete(X, np.array([0, 5])))
    with pytest.raises(ConcretizationTypeError, match="assume_unique_indices"):
        jaxel.jit(jnp.delete)(A(X), A(np.array([0])))
    cases = [(1, np.array([9, 8], np.int32)), (np.array([0, 2, 2]), np.array([7, 8, 9], np.int32)),
             (slice(1, 3), np.int32(5)), (-1, np.int32(4))]
    for obj, vals in cases:
        o = A(obj) if isinstance(obj, np.ndarray) else obj
        check(jnp.insert(A(X[0]), o, A(vals)), R.insert(X[0], obj, vals))
    check(jnp.insert(A(X), 1, A(np.array([5, 6, 7], np.int32)), axis=1),
          R.insert(X, 1, np.array([5, 6, 7], np.int32), axis=1))
    check(jnp.insert(A(X), A(np.array([1, 3])), A(np.int32(0)), axis=0),
          R.insert(X, np.array([1, 3]), np.int32(0), axis=0))
    g = jaxel.jit(lambda a, o: jnp.insert(a, o, 0))
    check(g(A(X[0]), A(np.array([3, 0]))), R.insert(X[0], np.array([3, 0]), 0))


def test_resize_rollaxis_block():
    check(jnp.resize(A(X), (5, 3)), R.resize(X, (5, 3)))
    y = np.zeros((2, 3, 4, 5))
    for ax, st in [(3, 1), (2, 0), (1, 4), (0, 2), (-1, -2)]:
        assert jnp.rollaxis(A(y), ax, st).shape == np.rollaxis(y, ax, st).shape
    b1, b2 = np.ones((2, 2), np.float32), np.zeros((2, 3), np.float32)
    b3 = np.full((1, 5), 2., np.float32)
    check(jnp.block([[A(b1), A(b2)], [A(b3)]]), R.block([[b1, b2], [b3]]))
    check(jnp.block([A(np.array([1, 2])), A(np.array([3]))]),
          R.block([np.array([1, 2]), np.array([3])]))
    with pytest.raises(ValueError, match="depth"):
        jnp.block([[A(b1)], A(b1)])


@pytest.mark.parametrize("mode", ["raise", "wrap", "clip"])
def test_choose(mode):
    ch = [X[0], X[1] * 10, X[2] * 100]
    idx = np.array([0, 2, 1, 0]) if mode == "raise" else np.array([0, 5, -1, 2])
    check(jnp.choose(A(idx), [A(v) for v in ch], mode=mode), R.choose(idx, ch, mode=mode))
    if mode != "raise":
        f = jaxel.jit(lambda i: jnp.choose(i, [A(v) for v in ch], mode=mode))
        check(f(A(idx)), R.choose(idx, ch, mode=mode))


def test_compress_extract_place_put():
    cond = np.array([True, False, True])
    check(jnp.compress(A(cond), A(X), axis=0), R.compress(cond, X, axis=0))
    check(jnp.compress(A(cond), A(X), axis=1, size=2, fill_value=-1),
          R.compress(cond, X, axis=1, size=2, fill_value=-1))
    check(jnp.extract(A(X % 3 == 0), A(X)), R.extract(X % 3 == 0, X))
    f = jaxel.jit(lambda m, v: jnp.extract(m, v, size=6))
    check(f(A(X % 3 == 0), A(X)), R.extract(X % 3 == 0, X, size=6))
    with pytest.raises(ConcretizationTypeError, match="size"):
        jaxel.jit(jnp.extract)(A(X % 3 == 0), A(X))
    vals = np.array([1, 2], np.int32)
    if R is not np:
        check(jnp.place(A(X), A(X > 6), A(vals), inplace=False),
              R.place(X, X > 6, vals, inplace=False))
        for mode in [None, "wrap", "clip"]:
            ind = np.array([0, 13, -1])
            check(jnp.put(A(X), A(ind), A(np.array([99, 98], np.int32)), mode=mode,
                          inplace=False),
                  R.put(X, ind, np.array([99, 98], np.int32), mode=mode, inplace=False))
        ii = np.argsort(X, axis=1)[:, :2]
        check(jnp.put_along_axis(A(X), A(ii), A(np.int32(-5)), axis=1, inplace=False),
              R.put_along_axis(X, ii, np.int32(-5), axis=1, inplace=False))
    with pytest.raises(ValueError, match="inplace=False"):
        jnp.put(A(X), A(np.array([0])), A(np.array([1])))


def test_partition_lexsort_diagflat_trim_zeros():
    r = np.random.RandomState(0).randn(3, 7).astype(np.float32)
    p = np.asarray(jnp.partition(A(r), 3))
    np.testing.assert_array_equal(p[:, 3], np.sort(r, 1)[:, 3])
    assert (p[:, :3] <= p[:, 3:4]).all() and (p[:, 4:] >= p[:, 3:4]).all()
    ap = np.asarray(jnp.argpartition(A(r), 2, axis=1))
    np.testing.assert_array_equal(np.take_along_axis(r, ap, 1)[:, 2], np.sort(r, 1)[:, 2])
    k1, k2 = np.array([1, 0, 1, 0, 2]), np.array([3, 3, 1, 1, 0])
    check(jnp.lexsort((A(k1), A(k2))), np.lexsort((k1, k2)).astype(np.int32))
    check(jnp.lexsort(A(np.stack([k1, k2]))), np.lexsort(np.stack([k1, k2])).astype(np.int32))
    check(jnp.diagflat(A(X[:2, :2]), -1), R.diagflat(X[:2, :2], -1))
    tz = np.array([[0, 0, 0, 0], [0, 1, 0, 0], [0, 0, 2, 0]], np.int32)
    for trim in ["fb", "f", "b"]:
        check(jnp.trim_zeros(A(tz[2]), trim), np.trim_zeros(tz[2], trim))
    with pytest.raises(ConcretizationTypeError):
        jaxel.jit(jnp.trim_zeros)(A(tz[2]))


@pytest.mark.parametrize("order", ["big", "little"])
def test_packbits_unpackbits(order):
    bits = np.random.RandomState(1).rand(3, 11) > 0.5
    for ax in [None, 1, 0]:
        check(jnp.packbits(A(bits), axis=ax, bitorder=order),
              np.packbits(bits, axis=ax, bitorder=order))
    pk = np.packbits(bits, axis=1)
    for cnt in [None, 5, -3, 20]:
        check(jnp.unpackbits(A(pk), axis=1, count=cnt, bitorder=order),
              np.unpackbits(pk, axis=1, count=cnt, bitorder=order))
    check(jaxel.jit(jnp.packbits)(A(bits)), np.packbits(bits))


# ---- index_tricks ------------------------------------------------------------------------------
def test_index_expressions_and_grids():
    assert jnp.s_[1:2, ::3] == np.s_[1:2, ::3]
    assert jnp.index_exp[1] == (1,)
    check(jnp.r_[1:4, A(np.array([7, 8])), 0], np.r_[1:4, np.array([7, 8]), 0].astype(np.int32))
    check(jnp.r_["0,2", A(np.array([1, 2]))], np.r_["0,2", np.array([1, 2])].astype(np.int32))
    check(jnp.c_[A(np.array([1, 2])), A(np.array([3, 4]))],
          np.c_[np.array([1, 2]), np.array([3, 4])].astype(np.int32))
    check(jnp.mgrid[0:2, 0:3], np.mgrid[0:2, 0:3].astype(np.int32))
    check(jnp.ogrid[0:2, 0:3], [v.astype(np.int32) for v in np.ogrid[0:2, 0:3]])
    check(jnp.mgrid[0:1:5j], np.mgrid[0:1:5j].astype(np.float32))
    r, c = jnp.ix_(A(np.array([0, 2])), A(np.array([1, 3])))
    check(A(X)[r, c], X[np.ix_([0, 2], [1, 3])])


def test_index_sets():
    check(jnp.diag_indices(3, 3), [np.arange(3, dtype=np.int32)] * 3)
    check(jnp.diag_indices_from(A(np.zeros((2, 2)))), [np.arange(2, dtype=np.int32)] * 2)
    for k in [-1, 0, 2]:
        check(jnp.tril_indices(4, k, 3), [v.astype(np.int32) for v in np.tril_indices(4, k, 3)])
        check(jnp.triu_indices_from(A(np.zeros((3, 5))), k),
              [v.astype(np.int32) for v in np.triu_indices_from(np.zeros((3, 5)), k)])
    check(jnp.mask_indices(3, jnp.triu, 1), [v.astype(np.int32)
                                            for v in np.mask_indices(3, np.triu, 1)])


def test_ravel_unravel_fill_diagonal_fromfunction():
    mi = (np.array([1, 2, 0]), np.array([0, 3, 1]))
    check(jnp.ravel_multi_index(tuple(A(v) for v in mi), (3, 4)),
          np.ravel_multi_index(mi, (3, 4)).astype(np.int32))
    check(jnp.ravel_multi_index(tuple(A(v) for v in mi), (3, 4), order="F"),
          np.ravel_multi_index(mi, (3, 4), order="F").astype(np.int32))
    f = jaxel.jit(lambda a, b: jnp.ravel_multi_index((a, b), (2, 3), mode="wrap"))
    check(f(A(mi[0]), A(mi[1])), np.ravel_multi_index(mi, (2, 3), mode="wrap").astype(np.int32))
    with pytest.raises(ValueError):
        jnp.ravel_multi_index(tuple(A(v) for v in mi), (2, 3))
    if R is not np:
        idx = np.array([-1, 13, -13, 5])
        check(jnp.unravel_index(A(idx), (3, 4)), R.unravel_index(idx, (3, 4)))
    check(jaxel.jit(lambda i: jnp.unravel_index(i, (3, 4)))(A(np.array([5, 7]))),
          [v.astype(np.int32) for v in np.unravel_index([5, 7], (3, 4))])
    for shape, wrap in [((3, 3), False), ((5, 3), True), ((5, 3), False), ((2, 2, 2), False)]:
        want = np.zeros(shape, np.float32)
        np.fill_diagonal(want, [1, 2], wrap=wrap)
        check(jnp.fill_diagonal(A(np.zeros(shape, np.float32)), A(np.array([1., 2.],
                                                                           np.float32)),
                                wrap=wrap, inplace=False), want)
    with pytest.raises(NotImplementedError, match="inplace"):
        jnp.fill_diagonal(A(np.zeros((2, 2))), 1.0)
    check(jnp.fromfunction(lambda i, j: i * 10 + j, (2, 3)),
          np.fromfunction(lambda i, j: i * 10 + j, (2, 3)).astype(np.float32))
    check(jnp.fromfunction(lambda i, j, k=0: i + j + k, (2, 2), dtype=int, k=5),
          np.fromfunction(lambda i, j: i + j + 5, (2, 2), dtype=int).astype(np.int32))
