"""NumPy contractions (``matmul``, ``dot``, ``vdot``, ``inner``, ``outer``, ``tensordot``,
``vecdot``, ``matvec``, ``vecmat``, ``einsum``) against NumPy, plus the lax-level rules of
``dot_general`` and ``conv_general_dilated`` that the registry cases do not reach (dtype rules,
errors, parameters, printing).

float32 results are compared with float64 NumPy results at a tolerance scaled by the number of
summed terms.
"""
from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import jaxel
import jaxel.numpy as jnp
from jaxel import lax

SETTINGS = settings(max_examples=25, deadline=None)
BF16 = np.dtype(ml_dtypes.bfloat16)


def _rand(shape, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed + 7 * len(shape) + sum(shape))
    if np.dtype(dtype).kind in "iu":
        return rng.integers(-5, 6, shape).astype(dtype)
    if np.dtype(dtype) == np.bool_:
        return rng.integers(0, 2, shape).astype(bool)
    if np.dtype(dtype).kind == "c":
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def _close(got, want, terms=8):
    """Compare with a float64 reference; float32 error grows with the summed terms."""
    got = np.asarray(got)
    want = np.asarray(want)
    assert got.shape == want.shape, f"shape {got.shape} != {want.shape}"
    if got.dtype.kind in "iub":
        np.testing.assert_array_equal(got, want)
    else:
        tol = 1e-6 * max(terms, 1) * 4
        np.testing.assert_allclose(got.astype(np.complex128), want.astype(np.complex128),
                                   rtol=tol, atol=tol)


def _primitives(fun, *args):
    return [e.primitive.name for e in jaxel.make_jaxpr(fun)(*args).jaxpr.eqns]


# ---- matmul ----------------------------------------------------------------------------------
@st.composite
def matmul_shapes(draw):
    """Two shapes matmul accepts: 1-d or matrices with broadcastable batch dimensions."""
    n, m, k = (draw(st.integers(0, 4)) for _ in range(3))
    nbatch = draw(st.integers(0, 3))
    batch = [draw(st.integers(1, 3)) for _ in range(nbatch)]
    ba, bb = list(batch), list(batch)
    for i in range(nbatch):  # knock some sizes down to 1, in either operand
        r = draw(st.integers(0, 3))
        if r == 1:
            ba[i] = 1
        elif r == 2:
            bb[i] = 1
    ba = ba[draw(st.integers(0, nbatch)):]  # and drop some leading batch dims
    bb = bb[draw(st.integers(0, nbatch)):]
    a = (k,) if draw(st.integers(0, 4)) == 0 else tuple(ba) + (n, k)
    b = (k,) if draw(st.integers(0, 4)) == 0 else tuple(bb) + (k, m)
    return a, b


@SETTINGS
@given(matmul_shapes(), st.sampled_from([np.float32, np.int32]))
def test_matmul_broadcasting(shapes, dtype):
    sa, sb = shapes
    a, b = _rand(sa, dtype), _rand(sb, dtype, 1)
    want = np.matmul(a.astype(np.float64), b.astype(np.float64)).astype(dtype)
    got = jnp.matmul(a, b)
    assert got.dtype == np.dtype(dtype)
    _close(got, want, sa[-1])
    _close(jnp.asarray(a) @ jnp.asarray(b), want, sa[-1])


def test_matmul_jit_and_jaxpr():
    a, b = _rand((5, 1, 2, 3)), _rand((4, 3, 2))
    _close(jaxel.jit(jnp.matmul)(a, b), np.matmul(a, b), 3)
    # Size-1 batch dims are squeezed, not broadcast: one dot_general and one transpose.
    assert _primitives(jnp.matmul, a, b) == ["squeeze", "dot_general", "transpose"]
    assert _primitives(jnp.matmul, _rand((2, 3)), _rand((3, 4))) == ["dot_general"]


def test_matmul_errors():
    with pytest.raises(ValueError, match="operand 0 must have ndim at least 1"):
        jnp.matmul(jnp.asarray(1.0), jnp.ones(3))
    with pytest.raises(TypeError, match=r"\(2, 3\) and \(4, 5\)"):
        jnp.matmul(jnp.ones((2, 3)), jnp.ones((4, 5)))
    with pytest.raises(ValueError, match="do not broadcast"):
        jnp.matmul(jnp.ones((2, 2, 3)), jnp.ones((3, 3, 5)))
    with pytest.raises(TypeError, match="array-like"):
        jnp.matmul([1.0, 2.0], jnp.ones(2))


# ---- dot, vdot, inner, outer, tensordot, vecdot, matvec, vecmat -------------------------------
DOT_SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((), (3, 4)),
              ((2,), ()), ((2, 3), (4, 3, 5)), ((2, 0), (0, 3))]


@pytest.mark.parametrize("sa,sb", DOT_SHAPES)
def test_dot(sa, sb):
    a, b = _rand(sa), _rand(sb, seed=1)
    _close(jnp.dot(a, b), np.dot(a, b), 3)


@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((2, 3), (4, 3)), ((), (2, 3)),
                                   ((2, 1, 3), (3,))])
def test_inner(sa, sb):
    a, b = _rand(sa), _rand(sb, seed=1)
    _close(jnp.inner(a, b), np.inner(a, b), 3)


@pytest.mark.parametrize("sa,sb", [((3,), (4,)), ((2, 2), (3,)), ((), (2,)), ((0,), (2,))])
def test_outer(sa, sb):
    a, b = _rand(sa, np.int32), _rand(sb, np.int32, 1)
    _close(jnp.outer(a, b), np.outer(a, b))
    m = np.array([True, False])
    _close(jnp.outer(m, m), np.outer(m, m))


def test_vdot():
    a, b = _rand((2, 3), np.complex64), _rand((3, 2), np.complex64, 1)
    _close(jnp.vdot(a, b), np.vdot(a, b), 6)
    _close(jnp.vdot(_rand((4,)), _rand((2, 2))), np.vdot(_rand((4,)), _rand((2, 2))), 4)
    with pytest.raises(TypeError, match="different sizes"):
        jnp.vdot(jnp.ones(3), jnp.ones(4))


@pytest.mark.parametrize("sa,sb,axes", [
    ((2, 3, 4), (3, 4, 5), 2), ((2, 3), (3, 4), 1), ((2, 3), (4,), 0),
    ((2, 3, 4), (4, 3, 5), ((1, 2), (1, 0))), ((2, 3), (3, 2), (0, 1)),
    ((2, 3, 4), (4, 3), ([-1, 1], [0, -1])),
])
def test_tensordot(sa, sb, axes):
    a, b = _rand(sa), _rand(sb, seed=1)
    _close(jnp.tensordot(a, b, axes), np.tensordot(a, b, axes), 12)


def test_tensordot_errors():
    with pytest.raises(ValueError, match="axes=3"):
        jnp.tensordot(jnp.ones((2, 3)), jnp.ones((3, 2)), 3)
    with pytest.raises(TypeError, match="differ in size"):
        jnp.tensordot(jnp.ones((2, 3)), jnp.ones((4, 5)), 1)
    with pytest.raises(TypeError, match="name 2 axes of a but 1 of b"):
        jnp.tensordot(jnp.ones((2, 3)), jnp.ones((3, 2)), ((0, 1), (0,)))


@pytest.mark.skipif(not hasattr(np, "vecdot"), reason="NumPy < 2.0 has no vecdot")
def test_vecdot_matvec_vecmat():
    x = _rand((2, 3, 4), np.complex64)
    _close(jnp.vecdot(x, x[0], axis=-2), np.vecdot(x, x[0], axis=-2), 3)
    _close(jnp.vecdot(x, x), np.vecdot(x, x), 4)
    if hasattr(np, "matvec"):
        _close(jnp.matvec(x, x[0, 0]), np.matvec(x, x[0, 0]), 4)
        _close(jnp.vecmat(x[0, :, 0], x), np.vecmat(x[0, :, 0], x), 3)


# ---- promotion, preferred_element_type, precision --------------------------------------------
PROMO = [(np.float32, BF16), (np.int8, np.uint8), (np.int32, np.float32), (np.bool_, np.int8),
         (BF16, np.float16), (np.complex64, np.float32), (np.bool_, np.bool_)]


@pytest.mark.parametrize("da,db", PROMO)
@pytest.mark.parametrize("fun", ["matmul", "dot", "inner", "tensordot", "einsum"])
def test_result_dtype_is_promoted(fun, da, db):
    a, b = _rand((2, 2), da), _rand((2, 2), db, 1)
    f = {"tensordot": lambda x, y: jnp.tensordot(x, y, 1),
         "einsum": lambda x, y: jnp.einsum("ij,jk->ik", x, y)}.get(fun, getattr(jnp, fun))
    got = f(jnp.asarray(a), jnp.asarray(b))
    assert got.dtype == jnp.result_type(a, b)
    bw = b.T if fun == "inner" else b  # inner contracts the last axes of both
    want = np.matmul(a.astype(np.complex128), bw.astype(np.complex128))
    if got.dtype == np.bool_:
        want = want != 0
    np.testing.assert_allclose(np.asarray(got).astype(np.complex128), want, rtol=2e-2, atol=2e-2)


def test_weak_types_are_kept():
    assert jnp.dot(2.0, 3.0).weak_type
    assert not jnp.dot(jnp.ones(3, jnp.float32), jnp.ones(3, jnp.float32)).weak_type
    assert jnp.dot(jnp.asarray(2.0), jnp.ones(3, jnp.int32)).dtype == np.float32


def test_preferred_element_type_and_precision_reach_dot_general():
    a = jnp.asarray(_rand((2, 3), np.int8))
    b = jnp.asarray(_rand((3, 4), np.int8, 1))
    for f in (lambda x, y: jnp.matmul(x, y, preferred_element_type=jnp.int32),
              lambda x, y: jnp.einsum("ij,jk->ik", x, y, preferred_element_type=jnp.int32),
              lambda x, y: jnp.tensordot(x, y, 1, preferred_element_type=jnp.int32),
              lambda x, y: jnp.dot(x, y, preferred_element_type=jnp.int32)):
        out = f(a, b)
        assert out.dtype == np.int32
        _close(out, np.asarray(a, np.int32) @ np.asarray(b, np.int32))
    jaxpr = jaxel.make_jaxpr(lambda x, y: jnp.matmul(x, y, precision="highest"))(
        _rand((2, 3)), _rand((3, 4)))
    params = jaxpr.jaxpr.eqns[0].params
    assert params["precision"] == (lax.Precision.HIGHEST, lax.Precision.HIGHEST)
    assert params["preferred_element_type"] == np.float32


# ---- einsum ----------------------------------------------------------------------------------
EINSUM = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),  # implicit output
    ("ba", [(2, 3)]),  # implicit transpose
    ("ij->ji", [(2, 3)]),
    ("ii->", [(3, 3)]),  # trace
    ("ii->i", [(3, 3)]),  # diagonal
    ("iij->ji", [(3, 3, 2)]),
    ("iii->i", [(2, 2, 2)]),
    ("ij->", [(2, 3)]),
    ("ij->j", [(2, 3)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("...ij,...jk->...ik", [(5, 1, 2, 3), (4, 3, 2)]),
    ("...,...->...", [(2, 3), (3,)]),
    ("ij...->...", [(2, 3, 4)]),
    ("i,j,k->ijk", [(2,), (3,), (4,)]),
    ("ab,bc,cd,de->ae", [(2, 3), (3, 4), (4, 5), (5, 6)]),
    ("abc,cd,bd->a", [(2, 3, 4), (4, 5), (3, 5)]),
    ("ii,ij->j", [(3, 3), (3, 4)]),
    ("i,i->", [(4,), (4,)]),
    (",i->i", [(), (3,)]),
    ("ij,ij->ij", [(2, 3), (2, 3)]),
    ("ijk,jil->kl", [(3, 2, 4), (2, 3, 5)]),
    ("Ab,bA->", [(2, 3), (3, 2)]),
    ("i->", [(0,)]),
    ("ij,jk->ik", [(2, 0), (0, 3)]),
    ("i,i->i", [(1,), (3,)]),  # size-1 broadcasting
]


@pytest.mark.parametrize("subscripts,shapes", EINSUM, ids=[s for s, _ in EINSUM])
def test_einsum(subscripts, shapes):
    ops = [_rand(s, seed=i) for i, s in enumerate(shapes)]
    want = np.einsum(subscripts, *[o.astype(np.float64) for o in ops])
    terms = int(np.prod([max(d, 1) for s in shapes for d in s]))
    got = jnp.einsum(subscripts, *ops)
    assert got.dtype == np.float32
    _close(got, want, min(terms, 64))
    _close(jnp.einsum(subscripts, *ops, optimize=False), want, min(terms, 64))


@pytest.mark.parametrize("subscripts,shapes", EINSUM[::4], ids=[s for s, _ in EINSUM[::4]])
def test_einsum_jit(subscripts, shapes):
    ops = [_rand(s, seed=i) for i, s in enumerate(shapes)]
    want = np.einsum(subscripts, *[o.astype(np.float64) for o in ops])
    _close(jaxel.jit(lambda *xs: jnp.einsum(subscripts, *xs))(*ops), want, 64)


def test_einsum_integer_and_bool():
    a, b = _rand((2, 3), np.int32), _rand((3, 4), np.int32, 1)
    _close(jnp.einsum("ij,jk->ik", a, b), np.einsum("ij,jk->ik", a, b))
    _close(jnp.einsum("ii->", _rand((3, 3), np.int32)), np.einsum("ii->", _rand((3, 3), np.int32)))
    m = np.array([[True, False, False], [False, False, False]])
    _close(jnp.einsum("ij->i", m), np.einsum("ij->i", m))


def test_einsum_forms_and_paths():
    x, y, z = _rand((2, 3)), _rand((3, 4), seed=1), _rand((4, 5), seed=2)
    want = x.astype(np.float64) @ y @ z
    _close(jnp.einsum(x, [0, 1], y, [1, 2], z, [2, 3], [0, 3]), want, 12)
    # Broadcast dims missing from an explicit output are summed (as JAX; NumPy refuses).
    _close(jnp.einsum("...i->i", _rand((2, 3, 4))), _rand((2, 3, 4)).sum((0, 1)), 6)
    _close(jnp.einsum("ij,jk,kl->il", x, y, z, optimize=[(1, 2), (0, 1)]), want, 12)
    path = np.einsum_path("ij,jk,kl->il", x, y, z, optimize="greedy")[0]
    _close(jnp.einsum("ij,jk,kl->il", x, y, z, optimize=path), want, 12)
    _close(jnp.einsum("ij,jk,kl->il", x, y, z, optimize=[(0, 1, 2)]), want, 12)
    # The greedy order avoids outer products; left to right (optimize=False) does not.
    a, b, m = _rand((3,)), _rand((4,), seed=1), _rand((3, 4), seed=2)
    _close(jnp.einsum("i,j,ij->", a, b, m), np.einsum("i,j,ij->", a, b, m), 12)

    def dot_shapes(optimize):
        f = lambda *o: jnp.einsum("i,j,ij->", *o, optimize=optimize)  # noqa: E731
        eqns = jaxel.make_jaxpr(f)(a, b, m).jaxpr.eqns
        return [e.outvars[0].aval.shape for e in eqns if e.primitive.name == "dot_general"]
    assert dot_shapes("greedy") == [(3,), ()]  # m with b first (the smaller result)
    assert dot_shapes(False) == [(3, 4), ()]


def test_einsum_errors():
    with pytest.raises(ValueError, match="Size of label 'j'|size of label 'j'"):
        jnp.einsum("ij,jk->ik", jnp.ones((2, 3)), jnp.ones((4, 5)))
    with pytest.raises(ValueError, match="name 2 operands but 1"):
        jnp.einsum("ij,jk->ik", jnp.ones((2, 3)))
    with pytest.raises(ValueError, match="rank 2 but its subscripts 'ijk'"):
        jnp.einsum("ijk->i", jnp.ones((2, 3)))
    with pytest.raises(ValueError, match="'k' does not appear"):
        jnp.einsum("ij->k", jnp.ones((2, 3)))
    with pytest.raises(ValueError, match="more than once"):
        jnp.einsum("ij->ii", jnp.ones((2, 3)))
    with pytest.raises(ValueError, match="size of label 'i'"):
        jnp.einsum("ii->i", jnp.ones((2, 3)))
    with pytest.raises(ValueError, match="invalid subscript"):
        jnp.einsum("i1->i", jnp.ones((2, 3)))
    with pytest.raises(ValueError, match="unknown optimize"):
        jnp.einsum("ij->i", jnp.ones((2, 3)), optimize="fastest-ever")


# ---- lax.dot_general rules -------------------------------------------------------------------
def test_precision_enum():
    P = lax.Precision
    assert P("highest") is P.HIGHEST and P("float32") is P.HIGHEST
    assert P("bfloat16") is P.DEFAULT and P("tensorfloat32") is P.HIGH
    assert repr(P.HIGH) == "Precision.HIGH" and str(P.HIGH) == "HIGH"
    assert hash(P.HIGH) == hash(P("high"))
    with pytest.raises(ValueError, match="precision must be"):
        lax.dot(jnp.ones(2), jnp.ones(2), precision="ultra")


@pytest.mark.parametrize("lt,rt,out", [
    (np.float32, BF16, np.float32), (np.int32, np.float32, np.float32),
    (BF16, np.float16, BF16), (np.uint8, np.int8, np.int8), (np.int32, np.uint32, np.int32),
    (np.complex64, np.float32, np.complex64), (np.int8, np.int32, np.int32),
])
def test_dot_general_mixed_dtypes(lt, rt, out):
    # Mixed operands compute in the more precise dtype (XLA's rule, as jax.lax).
    a, b = jnp.asarray(_rand((2, 3), lt)), jnp.asarray(_rand((3, 2), rt, 1))
    assert lax.dot(a, b).dtype == np.dtype(out)


def test_dot_general_preferred_element_type_rules():
    i32 = jnp.ones((2, 2), jnp.int32)
    f32 = jnp.ones((2, 2), jnp.float32)
    assert lax.dot(i32, i32, preferred_element_type=jnp.float32).dtype == np.float32
    assert lax.dot(f32, f32, preferred_element_type=jnp.bfloat16).dtype == BF16
    assert lax.dot(f32, f32, preferred_element_type=jnp.int32).dtype == np.int32
    with pytest.raises(TypeError, match="narrower"):
        lax.dot(i32, i32, preferred_element_type=jnp.int8)


def test_dot_general_errors_name_shapes():
    x, y = jnp.ones((2, 3)), jnp.ones((4, 5))
    with pytest.raises(TypeError, match=r"lhs shape \(2, 3\).*rhs shape \(4, 5\)"):
        lax.dot_general(x, y, (((1,), (0,)), ((), ())))
    with pytest.raises(TypeError, match="out of range"):
        lax.dot_general(x, y, (((2,), (0,)), ((), ())))
    with pytest.raises(TypeError, match="distinct"):
        lax.dot_general(x, x, (((1, 1), (1, 1)), ((), ())))
    with pytest.raises(TypeError, match="disjoint"):
        lax.dot_general(x, x, (((1,), (1,)), ((1,), (1,))))
    with pytest.raises(TypeError, match="batch dimensions must have equal sizes"):
        lax.dot_general(jnp.ones((2, 3, 4)), jnp.ones((5, 4, 3)), (((1,), (2,)), ((0,), (0,))))
    with pytest.raises(TypeError, match="dimension_numbers must be"):
        lax.dot_general(x, y, ((1,), (0,)))
    with pytest.raises(ValueError, match="vector/matrix products"):
        lax.dot(jnp.ones((2, 2, 3)), jnp.ones((3, 4)))
    with pytest.raises(ValueError, match="same rank"):
        lax.batch_matmul(jnp.ones((2, 3, 4)), jnp.ones((4, 5)))


def test_dot_general_printing_and_lowering():
    f = lambda x, y: lax.dot_general(x, y, (((2,), (1,)), ((0,), (0,))))  # noqa: E731
    x, y = _rand((2, 3, 4)), _rand((2, 4, 5))
    text = str(jaxel.make_jaxpr(f)(x, y))
    assert "dot_general[dimension_numbers=(([2], [1]), ([0], [0]))]" in text
    from jaxel.lowering.lower import lower_jaxpr_to_module
    module, _ = lower_jaxpr_to_module(jaxel.make_jaxpr(f)(x, y))
    assert "lhs_batching_dimensions = [0]" in module
    assert "precision_config = [#stablehlo<precision DEFAULT>" in module


# ---- lax.conv_general_dilated rules ----------------------------------------------------------
def test_conv_dimension_numbers():
    dn = lax.conv_dimension_numbers((1, 8, 8, 3), (3, 3, 3, 16), ("NHWC", "HWIO", "NHWC"))
    assert dn == lax.ConvDimensionNumbers((0, 3, 1, 2), (3, 2, 0, 1), (0, 3, 1, 2))
    assert lax.conv_dimension_numbers((1, 2, 3), (4, 2, 3), None) == ((0, 1, 2),) * 3
    hash(dn)
    with pytest.raises(TypeError, match="rank"):
        lax.conv_dimension_numbers((1, 2, 3), (4, 2, 3), ("NHWC", "HWIO", "NHWC"))
    with pytest.raises(TypeError, match="spatial letters"):
        lax.conv_dimension_numbers((1, 2, 3, 4), (1, 2, 3, 4), ("NHWC", "HXIO", "NHWC"))


def test_conv_errors():
    x, w = jnp.ones((1, 2, 5)), jnp.ones((4, 2, 3))
    with pytest.raises(TypeError, match="same dtypes"):
        lax.conv_general_dilated(x, lax.convert_element_type(w, jnp.bfloat16), (1,), "VALID")
    with pytest.raises(ValueError, match="feature_group_count"):
        lax.conv_general_dilated(x, w, (1,), "VALID", feature_group_count=2)
    with pytest.raises(ValueError, match="batch_group_count 2 must divide the lhs batch"):
        lax.conv_general_dilated(x, w, (1,), "VALID", batch_group_count=2)
    with pytest.raises(ValueError, match="lhs_dilation"):
        lax.conv_general_dilated(x, w, (1,), "SAME", lhs_dilation=(2,))
    with pytest.raises(TypeError, match="padding pairs"):
        lax.conv_general_dilated(x, w, (1,), [(0, 0), (1, 1)])
    with pytest.raises(ValueError, match="window_strides"):
        lax.conv_general_dilated(x, w, (1, 1), "VALID")
    with pytest.raises(TypeError, match="narrower"):
        lax.conv_general_dilated(x, w, (1,), "VALID", preferred_element_type=jnp.bfloat16)


def test_conv_jaxpr_params():
    f = lambda x, w: lax.conv_general_dilated(  # noqa: E731
        x, w, (1, 2), "SAME", rhs_dilation=(2, 1), dimension_numbers=("NHWC", "HWIO", "NHWC"))
    eqn = jaxel.make_jaxpr(f)(_rand((2, 5, 6, 3)), _rand((3, 3, 3, 4))).jaxpr.eqns[0]
    p = eqn.params
    assert p["padding"] == ((2, 2), (0, 1))
    assert p["dimension_numbers"] == lax.ConvDimensionNumbers((0, 3, 1, 2), (3, 2, 0, 1),
                                                              (0, 3, 1, 2))
    assert p["lhs_dilation"] == (1, 1) and p["precision"] is None
    assert eqn.outvars[0].aval.shape == (2, 5, 3, 4)


@pytest.mark.parametrize("spec", ["bij,bjk,bkl->bil", "ij,jk,kl->il", "ij,jk,kl->li",
                                  "bij,bkj->bik", "ij,jk->ki"])
def test_einsum_last_contraction_needs_no_transpose(spec):
    """The final pair is contracted in the operand order that yields the output's label order
    directly (as JAX 0.12.1 does), so no transpose follows; values stay NumPy's."""
    rng = np.random.RandomState(0)
    shapes = {"b": 2, "i": 3, "j": 4, "k": 5, "l": 6}
    ins = [rng.randn(*[shapes[c] for c in t]).astype(np.float32)
           for t in spec.split("->")[0].split(",")]
    f = jaxel.jit(lambda *xs: jnp.einsum(spec, *xs))
    np.testing.assert_allclose(np.asarray(f(*ins)), np.einsum(spec, *ins), rtol=2e-5, atol=1e-5)
    if spec in ("bij,bjk,bkl->bil", "ij,jk,kl->il"):
        assert "transpose" not in f.lower(*ins).as_text()
