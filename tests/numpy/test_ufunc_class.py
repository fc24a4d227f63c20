"""jnp.ufunc objects and frompyfunc against NumPy's ufunc methods, and the host I/O names."""
import io

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp

X = np.arange(1, 13).reshape(3, 4).astype(np.float32)
I = np.array([[5, 3, 12, 6], [1, 7, 2, 9]], np.int32)
BINARY = ["add", "multiply", "subtract", "maximum", "minimum", "logaddexp", "logaddexp2"]
BITS = ["bitwise_and", "bitwise_or", "bitwise_xor", "logical_and", "logical_or", "logical_xor"]


def _close(a, b):
    a = np.asarray(a)
    assert a.dtype == np.asarray(b).dtype or a.dtype.kind == np.asarray(b).dtype.kind
    np.testing.assert_allclose(a, b, rtol=2e-6)


@pytest.mark.parametrize("name", BINARY + BITS)
def test_standard_ufunc_methods_match_numpy(name):
    ours, theirs = getattr(jnp, name), getattr(np, name)
    assert isinstance(ours, jnp.ufunc) and repr(ours) == f"<jnp.ufunc '{name}'>"
    assert (ours.nin, ours.nout, ours.nargs) == (2, 1, 2)
    x = I if name in BITS else X
    if name.startswith("logaddexp"):
        x = X / 4
    _close(ours.reduce(x, axis=1), theirs.reduce(x, axis=1))
    # axis=None reduces the flattened array (NumPy refuses it for non-reorderable subtract)
    _close(ours.reduce(x, axis=None), theirs.reduce(x.ravel()))
    _close(ours.reduce(x, axis=0, keepdims=True), theirs.reduce(x, axis=0, keepdims=True))
    _close(ours.accumulate(x, axis=1), theirs.accumulate(x, axis=1))
    _close(ours.outer(x[0], x[1, :3]), theirs.outer(x[0], x[1, :3]))
    idx = np.array([0, 2, 2, 1])
    _close(ours.reduceat(x, idx, axis=1), theirs.reduceat(x, idx, axis=1))
    want = x.copy()
    theirs.at(want, (np.array([0, 0, 1]), np.array([1, 1, 3])), x[1, :3])
    _close(ours.at(x, (np.array([0, 0, 1]), np.array([1, 1, 3])), x[1, :3], inplace=False),
           want)


def test_identity_initial_where_and_generic_scan():
    assert jnp.add.identity == 0 and jnp.multiply.identity == 1
    assert jnp.maximum.identity is None and jnp.bitwise_and.identity == -1
    _close(jnp.add.reduce(X, axis=0, initial=10.0, where=X > 3),
           np.add.reduce(X, axis=0, initial=10.0, where=X > 3))
    _close(jnp.bitwise_or.reduce(I, axis=1, where=np.array([True, False, True, True])),
           np.bitwise_or.reduce(I, axis=1, where=np.array([True, False, True, True])))
    hyp = jnp.frompyfunc(lambda x, y: jnp.sqrt(x * x + y * y), 2, 1, identity=0.0)
    _close(hyp.accumulate(jnp.array([3.0, 4.0, 12.0])), [3.0, 5.0, 13.0])
    _close(hyp.reduce(jnp.zeros((0,))), 0.0)
    _close(jaxel.jit(lambda x: hyp.reduce(x, axis=1))(X), np.sqrt((X ** 2).sum(1)))
    # a non-associative function applies left to right, as NumPy's
    sub = jnp.frompyfunc(lambda x, y: x - 2 * y, 2, 1)
    _close(sub.reduce(X, axis=1), X[:, 0] - 2 * X[:, 1:].sum(1))
    neg = jnp.negative
    want = np.arange(4.0)
    np.negative.at(want, [0, 0, 1])
    _close(neg.at(jnp.arange(4.0), jnp.array([0, 0, 1]), inplace=False), want)
    g = jaxel.grad(lambda x: jnp.multiply.reduce(x, axis=None))(X[0])
    _close(g, np.prod(X[0]) / X[0])


def test_errors():
    with pytest.raises(NotImplementedError, match="inplace=False"):
        jnp.add.at(X, 0, 1.0)
    with pytest.raises(NotImplementedError, match="out argument"):
        jnp.add(X, X, out=X)
    with pytest.raises(ValueError, match="binary ufuncs"):
        jnp.negative.reduce(X)
    with pytest.raises(ValueError, match="no identity"):
        jnp.maximum.reduce(np.zeros((0,), np.float32)) if False else \
            jnp.frompyfunc(jnp.maximum, 2, 1).reduce(np.zeros((0,), np.float32))
    with pytest.raises(ValueError, match="axis 5 is out of bounds"):
        jnp.subtract.reduce(X, axis=5)
    with pytest.raises(TypeError, match="takes 2 positional"):
        jnp.add(X)


def test_host_io_round_trip(tmp_path):
    buf = np.arange(6, dtype=np.int32).tobytes()
    _close(jnp.frombuffer(buf, dtype=np.int32), np.arange(6, dtype=np.int32))
    _close(jnp.fromiter(range(4), dtype=np.float32), np.arange(4, dtype=np.float32))
    _close(jnp.fromstring("1 2 3", dtype=np.int32, sep=" "), [1, 2, 3])
    f = io.BytesIO()
    jnp.save(f, jnp.arange(3.0))
    f.seek(0)
    out = jnp.load(f)
    assert isinstance(out, jaxel.Array)
    _close(out, np.arange(3.0, dtype=np.float32))
    path = tmp_path / "a.npz"
    jnp.savez(path, a=jnp.ones(2))
    _close(np.load(path)["a"], np.ones(2, np.float32))
    assert jnp.array_str(jnp.arange(3)) == "[0 1 2]"
    assert "array(" in jnp.array_repr(jnp.arange(3))
    with jnp.printoptions(precision=2):
        assert jnp.get_printoptions()["precision"] == 2
