"""Functions returning several arrays use JAX 0.12.1's container (list, tuple or named tuple),
compared with jax for every such function of jnp, jnp.linalg and jax.scipy."""
import numpy as np
import pytest

import jaxel.numpy as jnp
import jaxel.scipy as jsp
import jaxel.scipy.linalg  # noqa: F401
import jaxel.scipy.signal  # noqa: F401
import jaxel.scipy.sparse.linalg  # noqa: F401
import jaxel.scipy.stats  # noqa: F401
import jaxel.scipy.cluster.vq  # noqa: F401

jax = pytest.importorskip("jax")
import jax.scipy.cluster.vq  # noqa: E402,F401
import jax.scipy.linalg  # noqa: E402,F401
import jax.scipy.signal  # noqa: E402,F401
import jax.scipy.sparse.linalg  # noqa: E402,F401
import jax.scipy.stats  # noqa: E402,F401

A = np.arange(12.0, dtype=np.float32).reshape(3, 4)
SQ = np.array([[4., 1, 0], [1, 3, 1], [0, 1, 2]], np.float32)
V = np.array([3., 1, 2, 1, 3], np.float32)
SIG = np.sin(np.arange(32, dtype=np.float32))
CASES = {
    "split": lambda m, s: m.split(m.asarray(V[:4]), 2),
    "array_split": lambda m, s: m.array_split(m.asarray(V), [1, 3]),
    "hsplit": lambda m, s: m.hsplit(m.asarray(A), 2),
    "vsplit": lambda m, s: m.vsplit(m.asarray(A), 3),
    "dsplit": lambda m, s: m.dsplit(m.asarray(A).reshape(3, 2, 2), 2),
    "unstack": lambda m, s: m.unstack(m.asarray(A)),
    "meshgrid": lambda m, s: m.meshgrid(m.asarray(V), m.asarray(V)),
    "broadcast_arrays": lambda m, s: m.broadcast_arrays(m.asarray(V), m.asarray(1.0)),
    "atleast_1d": lambda m, s: m.atleast_1d(m.asarray(1.0), m.asarray(V)),
    "atleast_2d": lambda m, s: m.atleast_2d(m.asarray(1.0), m.asarray(V)),
    "atleast_3d": lambda m, s: m.atleast_3d(m.asarray(1.0), m.asarray(V)),
    "nonzero": lambda m, s: m.nonzero(m.asarray(A)),
    "indices_sparse": lambda m, s: m.indices((2, 3), sparse=True),
    "ix_": lambda m, s: m.ix_(m.asarray([0, 1]), m.asarray([1, 2])),
    "ogrid": lambda m, s: m.ogrid[0:2, 0:3],
    "unravel_index": lambda m, s: m.unravel_index(m.asarray([3, 5]), (2, 3)),
    "tril_indices": lambda m, s: m.tril_indices(3),
    "diag_indices_from": lambda m, s: m.diag_indices_from(m.asarray(SQ)),
    "histogram2d": lambda m, s: m.histogram2d(m.asarray(V), m.asarray(V), 2),
    "histogramdd": lambda m, s: m.histogramdd(m.asarray(A[:, :2]), 2),
    "unique": lambda m, s: m.unique(m.asarray(V), return_index=True, return_counts=True),
    "unique_all": lambda m, s: m.unique_all(m.asarray(V)),
    "frexp": lambda m, s: m.frexp(m.asarray(V)),
    "divmod": lambda m, s: m.divmod(m.asarray(V), 2.0),
    "gradient": lambda m, s: m.gradient(m.asarray(A)),
    "polyfit": lambda m, s: m.polyfit(m.asarray(V), m.asarray(V), 1, full=True),
    "intersect1d": lambda m, s: m.intersect1d(m.asarray(V), m.asarray(V[:2]),
                                              return_indices=True),
    "vectorize": lambda m, s: m.vectorize(lambda a: (a, a))(m.asarray(V)),
    "linalg.eigh": lambda m, s: m.linalg.eigh(m.asarray(SQ)),
    "linalg.svd": lambda m, s: m.linalg.svd(m.asarray(SQ)),
    "linalg.qr": lambda m, s: m.linalg.qr(m.asarray(SQ)),
    "linalg.slogdet": lambda m, s: m.linalg.slogdet(m.asarray(SQ)),
    "linalg.lstsq": lambda m, s: m.linalg.lstsq(m.asarray(SQ), m.asarray(V[:3])),
    "scipy.linalg.lu": lambda m, s: s.linalg.lu(m.asarray(SQ)),
    "scipy.linalg.lu_factor": lambda m, s: s.linalg.lu_factor(m.asarray(SQ)),
    "scipy.linalg.schur": lambda m, s: s.linalg.schur(m.asarray(SQ)),
    "scipy.linalg.eigh": lambda m, s: s.linalg.eigh(m.asarray(SQ)),
    "scipy.linalg.qr": lambda m, s: s.linalg.qr(m.asarray(A), mode="economic"),
    "scipy.linalg.hessenberg": lambda m, s: s.linalg.hessenberg(m.asarray(SQ), calc_q=True),
    "scipy.linalg.polar": lambda m, s: s.linalg.polar(m.asarray(SQ)),
    "scipy.linalg.cho_factor": lambda m, s: s.linalg.cho_factor(m.asarray(SQ)),
    "scipy.stats.mode": lambda m, s: s.stats.mode(m.asarray(V)),
    "scipy.signal.stft": lambda m, s: s.signal.stft(m.asarray(SIG), nperseg=8),
    "scipy.signal.welch": lambda m, s: s.signal.welch(m.asarray(SIG), nperseg=8),
    "scipy.sparse.linalg.cg": lambda m, s: s.sparse.linalg.cg(m.asarray(SQ), m.asarray(V[:3])),
    "scipy.cluster.vq.vq": lambda m, s: s.cluster.vq.vq(m.asarray(A), m.asarray(A[:2])),
}


def _structure(r):
    if isinstance(r, (list, tuple)):
        return type(r).__name__, tuple(_structure(x) for x in r)
    return "array"


@pytest.mark.parametrize("name", sorted(CASES))
def test_container_matches_jax(name):
    want = _structure(CASES[name](jax.numpy, jax.scipy))
    got = _structure(CASES[name](jnp, jsp))
    assert got == want


def test_known_containers_against_numpy():
    # NumPy 2 agrees on these (JAX too): tuples from atleast_*d, meshgrid and broadcast_arrays;
    # lists from the split family.
    x, y = np.ones(2, np.float32), np.ones(3, np.float32)
    for fn in (lambda m: m.atleast_1d(x, y), lambda m: m.meshgrid(x, y),
               lambda m: m.broadcast_arrays(x, x), lambda m: m.split(y, 3)):
        assert type(fn(jnp)) is type(fn(np))
