"""jaxel.debug.visualize_sharding / visualize_array_sharding / inspect_array_sharding.

The picture's grid (which block, which devices) is checked against the blocks that JAX 0.12.1's
own shardings report for the same mesh and spec; with rich installed the whole text is compared
with jax.debug.visualize_sharding's. Both drawing paths run: rich, and plain text with the
rich import blocked.
"""
import io
import sys

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel.debug import sharding_viz
from jaxel.sharding import Mesh, NamedSharding, PartitionSpec as P, SingleDeviceSharding
from jaxel.sharding.shardings import XlaSharding

jax = pytest.importorskip("jax")
from jax import sharding as jsh  # noqa: E402

# (mesh shape, axis names, array shape, spec): pictures that fit in 80 columns.
CASES = [
    ((2, 4), ("x", "y"), (8, 8), ("x", "y")),
    ((2, 4), ("x", "y"), (8, 8), ("y", "x")),
    ((2, 4), ("x", "y"), (8, 8), (None, "y")),
    ((2, 4), ("x", "y"), (8, 8), ()),
    ((2, 4), ("x", "y"), (16, 4), (("x", "y"),)),
    ((2, 4), ("x", "y"), (8,), ("x",)),
    ((2, 4), ("x", "y"), (16,), (("y", "x"),)),
    ((2, 2, 2), ("a", "b", "c"), (4, 4), ("a", "c")),
    ((4,), ("x",), (8, 2), ("x",)),
]


def _meshes(mesh_shape, names):
    n = int(np.prod(mesh_shape))
    ours = Mesh(np.array(jaxel.devices()[:n], dtype=object).reshape(mesh_shape), names)
    theirs = jsh.Mesh(np.array(jax.devices()[:n]).reshape(mesh_shape), names)
    return ours, theirs


def _draw(fn, *args, **kwargs):
    out = io.StringIO()
    real = sys.stdout
    sys.stdout = out
    try:
        fn(*args, **kwargs)
    finally:
        sys.stdout = real
    return out.getvalue()


@pytest.fixture
def plain_console(monkeypatch):
    """No colour forced by the environment: the pictures compared are the bordered ones."""
    for var in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def no_rich(monkeypatch):
    """Make ``import rich`` fail, as on a machine without it."""
    monkeypatch.setitem(sys.modules, "rich", None)


def _grid_from_picture(text):
    """The labels of a bordered picture, as rows of cells (one label line per row)."""
    rows, current = [], []
    for line in text.splitlines():
        if line.startswith(("├", "└")):
            rows.append(current)
            current = []
        elif line.startswith("│"):
            cells = [c.strip() for c in line.strip("│").split("│")]
            if any(cells):
                current.append(cells)
    assert all(len(r) == 1 for r in rows), text   # each row has exactly one label line
    return [r[0] for r in rows]


def _grid_from_jax(shape, sharding):
    """Labels per block computed from JAX's own devices_indices_map (independent of jaxel)."""
    blocks = {}
    for dev, index in sharding.devices_indices_map(shape).items():
        key = tuple(s.indices(n)[0] for s, n in zip(index, shape))
        blocks.setdefault(key, set()).add(dev.id)
    if len(shape) == 1:
        keys = sorted(blocks)
        return [["CPU " + ",".join(map(str, sorted(blocks[k]))) for k in keys]]
    starts0 = sorted({k[0] for k in blocks})
    starts1 = sorted({k[1] for k in blocks})
    return [["CPU " + ",".join(map(str, sorted(blocks[a, b]))) for b in starts1]
            for a in starts0]


@pytest.mark.parametrize("mesh_shape,names,shape,spec", CASES)
def test_plain_grid_matches_jax_blocks(no_rich, mesh_shape, names, shape, spec):
    mesh, jmesh = _meshes(mesh_shape, names)
    text = _draw(jaxel.debug.visualize_sharding, shape, NamedSharding(mesh, P(*spec)))
    want = _grid_from_jax(shape, jsh.NamedSharding(jmesh, jsh.PartitionSpec(*spec)))
    assert _grid_from_picture(text) == want
    assert all(len(line) <= 80 for line in text.splitlines())


def test_plain_picture_exact(no_rich):
    mesh, _ = _meshes((2, 2), ("x", "y"))
    # Same text as jax.debug.visualize_sharding((4, 8), ..., scale=0.4) prints with rich.
    text = _draw(jaxel.debug.visualize_sharding, (4, 8), NamedSharding(mesh, P("x")),
                 scale=0.4, use_color=False)
    assert text == ("┌──────────────────┐\n"
                    "│     CPU 0,1      │\n"
                    "├──────────────────┤\n"
                    "│     CPU 2,3      │\n"
                    "└──────────────────┘\n")


@pytest.mark.parametrize("mesh_shape,names,shape,spec", CASES)
def test_rich_picture_equals_jax_and_plain(monkeypatch, plain_console, mesh_shape, names, shape,
                                           spec):
    pytest.importorskip("rich")
    mesh, jmesh = _meshes(mesh_shape, names)
    ours = _draw(jaxel.debug.visualize_sharding, shape, NamedSharding(mesh, P(*spec)))
    theirs = _draw(jax.debug.visualize_sharding, shape,
                   jsh.NamedSharding(jmesh, jsh.PartitionSpec(*spec)))
    assert ours == theirs
    monkeypatch.setitem(sys.modules, "rich", None)
    assert _draw(jaxel.debug.visualize_sharding, shape, NamedSharding(mesh, P(*spec))) == ours


def test_scale_and_widths_follow_jax(plain_console):
    pytest.importorskip("rich")
    mesh, jmesh = _meshes((2, 2), ("x", "y"))
    for kw in [dict(scale=0.5), dict(scale=1.5, min_width=4), dict(max_width=60)]:
        ours = _draw(jaxel.debug.visualize_sharding, (8, 8), NamedSharding(mesh, P("x", "y")),
                     **kw)
        theirs = _draw(jax.debug.visualize_sharding, (8, 8),
                       jsh.NamedSharding(jmesh, jsh.PartitionSpec("x", "y")), **kw)
        assert ours == theirs, kw


def test_wide_picture_keeps_labels(no_rich):
    # JAX lets rich squeeze this one until the labels vanish; jaxel narrows the padding.
    mesh, jmesh = _meshes((2, 4), ("x", "y"))
    text = _draw(jaxel.debug.visualize_sharding, (4, 32), NamedSharding(mesh, P("x", "y")))
    assert all(len(line) <= 80 for line in text.splitlines())
    assert _grid_from_picture(text) == _grid_from_jax(
        (4, 32), jsh.NamedSharding(jmesh, jsh.PartitionSpec("x", "y")))


def test_single_device_and_xla_shardings(no_rich):
    d = jaxel.devices()
    text = _draw(jaxel.debug.visualize_sharding, (3,), SingleDeviceSharding(d[3]))
    assert _grid_from_picture(text) == [["CPU 3"]]
    # A tile assignment no mesh names: 2 x 2 tiles over devices 5, 1, 6, 2 (no replicas).
    s = XlaSharding([d[5], d[1], d[6], d[2]], (2, 2), 1, np.arange(4).reshape(2, 2, 1))
    text = _draw(jaxel.debug.visualize_sharding, (4, 4), s)
    assert _grid_from_picture(text) == [["CPU 5", "CPU 1"], ["CPU 6", "CPU 2"]]


def test_errors_like_jax():
    mesh, jmesh = _meshes((2, 4), ("x", "y"))
    for shape in [(2, 2, 2), ()]:
        with pytest.raises(ValueError, match="rank 1 or 2"):
            jaxel.debug.visualize_sharding(shape, NamedSharding(mesh, P()))
    with pytest.raises(ValueError, match="not divisible"):
        jaxel.debug.visualize_sharding((6, 8), NamedSharding(mesh, P("y")))
    # JAX raises ValueError (its IndivisibleError) for the same sharding.
    with pytest.raises(ValueError):
        jsh.NamedSharding(jmesh, jsh.PartitionSpec("y")).shard_shape((6, 8))
    with pytest.raises(TypeError, match="Sharding"):
        jaxel.debug.visualize_sharding((4,), "x")


def test_rich_colors(monkeypatch):
    pytest.importorskip("rich")
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("COLORTERM", "truecolor")
    monkeypatch.delenv("NO_COLOR", raising=False)
    mesh, _ = _meshes((2, 2), ("x", "y"))
    seen = []

    def cmap(v):
        seen.append(v)
        return (v, 0.5, 1 - v, 1.0)
    text = _draw(jaxel.debug.visualize_sharding, (4, 4), NamedSharding(mesh, P("x", "y")),
                 color_map=cmap)
    assert "\x1b[" in text and "┌" not in text
    assert sorted(seen) == [0.0, 1 / 3, 2 / 3, 1.0]
    for k in range(4):
        assert f"CPU {k}" in text


def test_plain_colors_on_a_terminal(no_rich, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    out = io.StringIO()
    out.isatty = lambda: True
    monkeypatch.setattr(sys, "stdout", out)
    mesh, _ = _meshes((2, 2), ("x", "y"))
    jaxel.debug.visualize_sharding((4, 4), NamedSharding(mesh, P("x", "y")))
    text = out.getvalue()
    assert "\x1b[48;2;" in text and "┌" not in text
    plain = "".join(text.split("\x1b[0m"))
    assert all(f"CPU {k}" in plain for k in range(4))
    monkeypatch.setenv("NO_COLOR", "1")
    out.seek(0)
    out.truncate()
    jaxel.debug.visualize_sharding((4, 4), NamedSharding(mesh, P("x", "y")))
    assert "\x1b[" not in out.getvalue()


def test_visualize_array_sharding_single_device(no_rich):
    x = jaxel.device_put(jnp.arange(6.0).reshape(2, 3), jaxel.devices()[2])
    text = _draw(jaxel.debug.visualize_array_sharding, x)
    assert _grid_from_picture(text) == [["CPU 2"]]


def test_inspect_array_sharding_concrete():
    x = jaxel.device_put(jnp.arange(4.0), jaxel.devices()[1])
    y = jnp.ones((2, 2))
    got = []
    out = jaxel.debug.inspect_array_sharding({"a": x, "b": [y]}, callback=got.append)
    assert out is None
    assert got == [SingleDeviceSharding(jaxel.devices()[1]),
                   SingleDeviceSharding(y.device)]
    assert got[0].device_set == {jaxel.devices()[1]}


def test_inspect_array_sharding_rejects_non_arrays():
    with pytest.raises(TypeError, match="Array"):
        jaxel.debug.inspect_array_sharding(np.ones(3), callback=print)


def test_module_names():
    # jaxel.debug has JAX's three sharding helpers, with JAX's keyword-only options.
    import inspect
    for name in ["visualize_sharding", "visualize_array_sharding", "inspect_array_sharding"]:
        assert getattr(jaxel.debug, name).__doc__
    params = inspect.signature(jaxel.debug.visualize_sharding).parameters
    assert [p for p in params][2:] == ["use_color", "scale", "min_width", "max_width",
                                       "color_map"]
    assert sharding_viz._import_rich.__doc__


# ---- sharded Arrays and values inside jit ------------------------------------------------------
def _program(lib, np_, got):
    def f(a):
        b = np_.sin(a)
        lib.debug.inspect_array_sharding(b, callback=got.append)
        c = b.sum(0)
        lib.debug.inspect_array_sharding({"c": c}, callback=got.append)
        d = b @ b.T
        lib.debug.inspect_array_sharding(d, callback=got.append)
        return c * 2, d
    return f


@pytest.mark.parametrize("spec", [("x", "y"), (None, "x")])
def test_inspect_under_jit_reports_xla_choice_like_jax(spec):
    import jax.numpy as jjnp
    mesh, jmesh = _meshes((2, 4), ("x", "y"))
    value = np.arange(32.0).reshape(8, 4)
    x = jaxel.device_put(value, NamedSharding(mesh, P(*spec)))
    jx = jax.device_put(value, jsh.NamedSharding(jmesh, jsh.PartitionSpec(*spec)))
    ours, theirs = [], []
    f = jaxel.jit(_program(jaxel, jnp, ours))
    out = f(x)
    jax.jit(_program(jax, jjnp, theirs))(jx)
    assert len(ours) == len(theirs) == 3
    assert [repr(s.spec) for s in ours] == [repr(s.spec) for s in theirs]
    assert all(s.mesh == mesh for s in ours)
    np.testing.assert_allclose(np.asarray(out[0]), np.sin(value).sum(0) * 2, rtol=1e-5)
    # The callback runs when the program is compiled, not when a cached program runs.
    f(x)
    assert len(ours) == 3


def test_inspect_one_device_program_and_grad():
    got = []

    def loss(a):
        jaxel.debug.inspect_array_sharding(a * 2, callback=got.append)
        return (a ** 2).sum()
    g = jaxel.jit(jaxel.grad(loss))(jnp.arange(3.0))
    np.testing.assert_allclose(np.asarray(g), [0.0, 2.0, 4.0])
    assert got and all(isinstance(s, SingleDeviceSharding) for s in got)
    mesh, _ = _meshes((4,), ("x",))
    x = jaxel.device_put(np.arange(8.0), NamedSharding(mesh, P("x")))
    got.clear()
    g = jaxel.jit(jaxel.grad(loss))(x)
    np.testing.assert_allclose(np.asarray(g), 2 * np.arange(8.0))
    assert got and got[0] == NamedSharding(mesh, P("x"))


def test_inspect_errors():
    with pytest.raises(NotImplementedError, match="vmap"):
        jaxel.vmap(lambda a: jaxel.debug.inspect_array_sharding(a, callback=print))(
            jnp.ones((2, 3)))
    mesh, _ = _meshes((4,), ("x",))
    x = jaxel.device_put(np.arange(8.0), NamedSharding(mesh, P("x")))

    def bad(s):
        raise RuntimeError("boom from the callback")

    def f(a):
        jaxel.debug.inspect_array_sharding(a, callback=bad)
        return a * 2
    with pytest.raises(Exception, match="boom from the callback"):
        jaxel.jit(f)(x)


def test_visualize_sharded_array_like_jax(no_rich):
    mesh, jmesh = _meshes((2, 4), ("x", "y"))
    x = jaxel.device_put(np.zeros((8, 8)), NamedSharding(mesh, P("y", "x")))
    text = _draw(jaxel.debug.visualize_array_sharding, x)
    assert _grid_from_picture(text) == _grid_from_jax(
        (8, 8), jsh.NamedSharding(jmesh, jsh.PartitionSpec("y", "x")))
    # Inside jit the picture is drawn when the program is compiled, with XLA's sharding.

    def f(a):
        jaxel.debug.visualize_array_sharding(a.sum(0))
        return a
    inside = _draw(jaxel.jit(f), x)
    assert inside == _draw(jaxel.debug.visualize_sharding, (8,),
                           NamedSharding(mesh, P("x")))
