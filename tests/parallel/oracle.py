"""Helpers to compare jaxel's sharded values with JAX's (the oracle) on the same devices."""
import numpy as np


def index_map(sharding, shape):
    """``{device id: ((start, stop) per dim)}``: comparable between jaxel and JAX."""
    out = {}
    for d, idx in sharding.devices_indices_map(tuple(shape)).items():
        out[d.id] = tuple(s.indices(n)[:2] for s, n in zip(idx, shape))
    return out


def shards_summary(arr):
    """``[(device id, index, replica id, value)]`` sorted by device id."""
    rows = []
    for s in arr.addressable_shards:
        idx = tuple(sl.indices(n)[:2] for sl, n in zip(s.index, arr.shape))
        rows.append((s.device.id, idx, s.replica_id, np.asarray(s.data).tolist()))
    return sorted(rows)


def same_layout(ours, theirs):
    """jaxel and JAX arrays: equal values, equal block layout, equal spec when both named."""
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=1e-6, atol=1e-6)
    assert index_map(ours.sharding, ours.shape) == index_map(theirs.sharding, theirs.shape)
    assert shards_summary(ours) == shards_summary(theirs) or _close_shards(ours, theirs)
    spec = getattr(theirs.sharding, "spec", None)
    if spec is not None and hasattr(ours.sharding, "spec"):
        assert _norm(ours.sharding.spec) == _norm(spec), (ours.sharding.spec, spec)


def _close_shards(ours, theirs):
    a, b = shards_summary(ours), shards_summary(theirs)
    assert [r[:3] for r in a] == [r[:3] for r in b]
    for x, y in zip(a, b):
        np.testing.assert_allclose(np.asarray(x[3]), np.asarray(y[3]), rtol=1e-6, atol=1e-6)
    return True


def _norm(spec):
    out = [e if isinstance(e, tuple) or e is None else (e,) for e in spec]
    out = [None if e in (None, ()) else tuple(e) for e in out]
    while out and out[-1] is None:
        out.pop()
    return tuple(out)
