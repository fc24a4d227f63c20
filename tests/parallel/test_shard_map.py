"""shard_map and the collectives' device lowerings, against JAX 0.12.1 (same programs on the
same 4 or 8 CPU devices, conftest) and NumPy: values, gradients, compositions, errors."""
import numpy as np
import pytest

import jax
import jax.numpy as jjnp
from jax.sharding import PartitionSpec as JP

import jaxel
from jaxel import lax
from jaxel import numpy as jnp
from jaxel.sharding import AxisType
from jaxel.sharding import PartitionSpec as P


def _meshes(shape, names):
    ours = jaxel.make_mesh(shape, names, axis_types=(AxisType.Auto,) * len(names))
    theirs = jax.make_mesh(shape, names, axis_types=(jax.sharding.AxisType.Auto,) * len(names))
    return ours, theirs


def _jp(spec):
    if isinstance(spec, P):
        return JP(*spec)
    return tuple(_jp(s) for s in spec)


def _pair(body, in_specs, out_specs, shape=(4,), names=("x",), check_vma=True):
    """The same body as a jaxel and a JAX shard_map (``body(lax, numpy)`` builds it)."""
    m1, m2 = _meshes(shape, names)
    f1 = jaxel.shard_map(body(lax, jnp), mesh=m1, in_specs=in_specs, out_specs=out_specs,
                         check_vma=check_vma)
    f2 = jax.shard_map(body(jax.lax, jjnp), mesh=m2, in_specs=_jp(in_specs),
                       out_specs=_jp(out_specs), check_vma=check_vma)
    return f1, f2


def _close(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def _check(f1, f2, args, grad=True):
    out = f2(*args)
    _close(f1(*args), out)
    if not grad:
        return
    w = np.arange(np.size(out), dtype=np.float32).reshape(np.shape(out))
    argnums = tuple(range(len(args)))
    g1 = jaxel.grad(lambda *a: (f1(*a) * w).sum(), argnums=argnums)(*args)
    g2 = jax.grad(lambda *a: (f2(*a) * w).sum(), argnums=argnums)(*args)
    for a, b in zip(g1, g2):
        _close(a, b)


X8 = np.arange(8.0, dtype=np.float32)
X82 = np.arange(16.0, dtype=np.float32).reshape(8, 2)
X32 = np.arange(32.0, dtype=np.float32)
X84 = np.arange(32.0, dtype=np.float32).reshape(8, 4)

# name -> (body, in_specs, out_specs, args, differentiate)
ONE_AXIS = {
    "psum": (lambda l, n: lambda b: n.sin(l.psum(b * b, "x")), P("x"), P(), (X8,), True),
    "pmean": (lambda l, n: lambda b: l.pmean(b, "x"), P("x"), P(), (X8,), True),
    # JAX 0.12.1 cannot differentiate pmax/pmin under shard_map: values only.
    "pmax": (lambda l, n: lambda b: l.pmax(b, "x"), P("x"), P(), (X8,), False),
    "pmin": (lambda l, n: lambda b: l.pmin(-b, "x"), P("x"), P(), (X8,), False),
    "all_gather": (lambda l, n: lambda b: l.all_gather(b, "x"), P("x"), P("x"), (X8,), True),
    "all_gather_tiled_axis1": (lambda l, n: lambda b: l.all_gather(b, "x", axis=1, tiled=True),
                               P("x"), P("x"), (X82,), True),
    "psum_scatter_tiled": (lambda l, n: lambda b: l.psum_scatter(b, "x", tiled=True),
                           P(), P("x"), (X8,), True),
    "psum_scatter": (lambda l, n: lambda b: l.psum_scatter(b.reshape(4, 2), "x"),
                     P(), P("x"), (X8,), True),
    "ppermute_ring": (lambda l, n: lambda b: l.ppermute(b, "x", [(0, 1), (1, 2), (2, 3), (3, 0)]),
                      P("x"), P("x"), (X8,), True),
    "ppermute_partial": (lambda l, n: lambda b: l.ppermute(b, "x", [(0, 2), (1, 0)]),
                         P("x"), P("x"), (X8,), True),
    "pshuffle": (lambda l, n: lambda b: l.pshuffle(b, "x", [2, 0, 3, 1]), P("x"), P("x"), (X8,),
                 True),
    "all_to_all_tiled": (lambda l, n: lambda b: l.all_to_all(b, "x", 0, 0, tiled=True),
                         P("x"), P("x"), (X32,), True),
    # JAX 0.12.1 fails to differentiate untiled all_to_all (a cotangent shape error).
    "all_to_all": (lambda l, n: lambda b: l.all_to_all(b.reshape(4, 2), "x", 0, 1),
                   P("x"), P("x"), (X32,), False),
    "pswapaxes": (lambda l, n: lambda b: l.pswapaxes(b.reshape(4, 2), "x", 0), P("x"), P("x"),
                  (X32,), False),
    "axis_index": (lambda l, n: lambda b: b * l.axis_index("x"), P("x"), P("x"), (X8,), True),
    "all_gather_invariant": (lambda l, n: lambda b: n.sin(l.all_gather(b, "x", to="invarying")),
                             P("x"), P(), (X8,), True),
    "psum_of_constant": (lambda l, n: lambda b: b * l.psum(1, "x"), P("x"), P("x"), (X8,), True),
    "replicated_weight": (lambda l, n: lambda w, b: l.psum((w * b).sum(), "x"), (P(), P("x")),
                          P(), (np.float32(3.0), X8), True),
    "pcast_varying": (lambda l, n: lambda w, b: l.psum(l.pcast(w, "x", to="varying") * b, "x"),
                      (P(), P("x")), P(), (np.float32(2.0), X8), True),
}


@pytest.mark.parametrize("name", sorted(ONE_AXIS))
def test_collectives_one_axis(name):
    body, ins, outs, args, grad = ONE_AXIS[name]
    _check(*_pair(body, ins, outs), args, grad)


TWO_AXES = {
    "psum_x": (lambda l, n: lambda b: l.psum(b, "x"), P("x", "y"), P(None, "y"), (X84,), True),
    "psum_xy": (lambda l, n: lambda b: l.psum(b, ("x", "y")), P("x", "y"), P(), (X84,), True),
    "all_gather_yx": (lambda l, n: lambda b: l.all_gather(b, ("y", "x"), tiled=True),
                      P(("y", "x")), P(), (X84,), True),
    "axis_index": (lambda l, n: lambda b: b * l.axis_index("y") + 10 * l.axis_index("x"),
                   P("x", "y"), P("x", "y"), (X84,), True),
    "axis_index_tuple": (lambda l, n: lambda b: b * 0 + l.axis_index(("x", "y")),
                         P("x", "y"), P("x", "y"), (X84,), False),
    "ppermute_tuple": (lambda l, n: lambda b: l.ppermute(b, ("x", "y"), [(0, 3), (3, 1), (1, 2)]),
                       P("x", "y"), P("x", "y"), (X84,), True),
    "psum_scatter_y": (lambda l, n: lambda b: l.psum_scatter(b, "y", scatter_dimension=1,
                                                             tiled=True),
                       P("x"), P("x", "y"), (X84,), True),
    "all_to_all_y": (lambda l, n: lambda b: l.all_to_all(b, "y", 1, 0, tiled=True),
                     P("x", "y"), P(("x", "y")), (np.arange(64.0, dtype=np.float32)
                                                  .reshape(8, 8),), True),
    "pmax_y": (lambda l, n: lambda b: l.pmax(b, "y"), P("x", "y"), P("x"), (X84,), False),
    "all_gather_invariant_xy": (lambda l, n: lambda b: l.all_gather(b, ("x", "y"), tiled=True,
                                                                    to="invarying"),
                                P(("x", "y")), P(), (X84,), True),
    "all_gather_invariant_y": (lambda l, n: lambda b: l.all_gather(b, "y", axis=1, tiled=True,
                                                                   to="invarying"),
                               P("x", "y"), P("x"), (X84,), True),
    "replicated_over_x": (lambda l, n: lambda w, b: l.psum((w * b).sum(0), "x"),
                          (P("y"), P("x", "y")), P("y"), (np.arange(2.0, dtype=np.float32), X84),
                          True),
}


@pytest.mark.parametrize("name", sorted(TWO_AXES))
def test_collectives_two_axes(name):
    body, ins, outs, args, grad = TWO_AXES[name]
    # JAX types all_gather's result as varying: out_specs P() needs check_vma=False there.
    vma = "all_gather" not in name or "invariant" in name
    _check(*_pair(body, ins, outs, (2, 2), ("x", "y"), check_vma=vma), args, grad)


def test_values_against_numpy():
    mesh = jaxel.make_mesh((4,), ("x",))
    x = np.arange(12.0, dtype=np.float32)
    f = jaxel.shard_map(lambda b: (lax.psum(b, "x"), lax.all_gather(b, "x", tiled=True),
                                   lax.axis_index("x")[None]),
                        mesh=mesh, in_specs=P("x"), out_specs=(P(), P(), P("x")),
                        check_vma=False)
    s, g, i = f(x)
    np.testing.assert_allclose(np.asarray(s), x.reshape(4, 3).sum(0))
    np.testing.assert_allclose(np.asarray(g), x)
    np.testing.assert_array_equal(np.asarray(i), np.arange(4))
    # pbroadcast: every block becomes the source's (JAX lowers it on GPU only).
    h = jaxel.shard_map(lambda b: lax.pbroadcast(b, "x", 2), mesh=mesh, in_specs=P("x"),
                        out_specs=P("x"))
    np.testing.assert_allclose(np.asarray(h(x)), np.tile(x[6:9], 4))


def test_eight_devices_and_result_sharding():
    m1, m2 = _meshes((8,), ("x",))
    body = lambda l, n: lambda b: b - l.pmean(b, "x")  # noqa: E731
    x = np.arange(16.0, dtype=np.float32)
    f1 = jaxel.shard_map(body(lax, jnp), mesh=m1, in_specs=P("x"), out_specs=P("x"))
    f2 = jax.shard_map(body(jax.lax, jjnp), mesh=m2, in_specs=JP("x"), out_specs=JP("x"))
    r = f1(x)
    _close(r, f2(x))
    assert r.sharding == jaxel.NamedSharding(m1, P("x"))
    assert len(r.addressable_shards) == 8


def test_compositions():
    f1, f2 = _pair(lambda l, n: lambda b: n.sin(b) * l.psum(b * b, "x"), P("x"), P("x"))
    x = X8
    xs = np.arange(24.0, dtype=np.float32).reshape(3, 8)
    _close(jaxel.jit(f1)(x), jax.jit(f2)(x))
    _close(jaxel.vmap(f1)(xs), jax.vmap(f2)(xs))
    _close(jaxel.vmap(f1, in_axes=1, out_axes=1)(xs.T), jax.vmap(f2, in_axes=1, out_axes=1)(xs.T))
    _close(jaxel.jit(jaxel.grad(lambda v: f1(v).sum()))(x),
           jax.jit(jax.grad(lambda v: f2(v).sum()))(x))
    _close(jaxel.vmap(jaxel.grad(lambda v: f1(v).sum()))(xs),
           jax.vmap(jax.grad(lambda v: f2(v).sum()))(xs))
    _close(jaxel.jvp(f1, (x,), (x + 1,))[1], jax.jvp(f2, (x,), (x + 1,))[1])
    # shard_map inside a jitted scan
    s1 = jaxel.jit(lambda a: lax.scan(lambda c, v: (c + f1(v), c.sum()), jnp.zeros(8), a))
    s2 = jax.jit(lambda a: jax.lax.scan(lambda c, v: (c + f2(v), c.sum()), jjnp.zeros(8), a))
    for a, b in zip(s1(xs), s2(xs)):
        _close(a, b)
    # eagerly: the scan runs as one program over the mesh
    eager = lax.scan(lambda c, v: (c + f1(v), c.sum()), jnp.zeros(8), xs)
    for a, b in zip(eager, s2(xs)):
        _close(a, b)


def test_scan_and_jit_inside_the_body():
    g1, g2 = _pair(lambda l, n: lambda b: l.scan(lambda c, v: (c + l.psum(v, "x"), c),
                                                 0.0 * b[0], b)[1], P("x"), P("x"))
    _close(g1(X8), g2(X8))
    k1, k2 = _pair(lambda l, n: lambda w, b: (jaxel.jit if l is lax else jax.jit)(
        lambda u, v: l.psum(u * v, "x"))(w, b), (P(), P("x")), P())
    _check(k1, k2, (np.float32(2.0), X8))


def test_vma_through_nested_bodies():
    # psum of a varying value into a varying carry (JAX casts the psum result with pvary)
    g1, g2 = _pair(lambda l, n: lambda b: l.scan(lambda c, v: (c + l.psum(v, "x"), c),
                                                 0.0 * b[0], b)[1], P("x"), P("x"))
    _close(jaxel.grad(lambda v: (g1(v) * v).sum())(X8), jax.grad(lambda v: (g2(v) * v).sum())(X8))
    # an invariant carry: the result is the same on every device (out_specs P())
    h1, h2 = _pair(lambda l, n: lambda b: l.scan(lambda c, v: (c + l.psum(v, "x"), None), 0.0,
                                                 b)[0], P("x"), P())
    _check(h1, h2, (X8,))
    # a replicated weight read inside a loop body
    k1, k2 = _pair(lambda l, n: lambda w, b: l.psum(
        l.scan(lambda c, v: (c * w + v, None), b[0] * 0, b)[0], "x"), (P(), P("x")), P())
    _check(k1, k2, (np.float32(1.5), X8))
    f1, f2 = _pair(lambda l, n: lambda w, b: l.fori_loop(0, 3, lambda i, c: c * w + l.psum(b, "x"),
                                                         b), (P(), P("x")), P("x"))
    _close(f1(np.float32(1.5), X8), f2(np.float32(1.5), X8))


def test_training_step_with_grad_inside():
    """The data-parallel step of JAX's shard_map guide: grad of a replicated parameter inside
    the body is summed over the devices (JAX's vma typing), then averaged."""
    def step(l, g):
        def loss(p, b):
            return ((b * p["a"] + p["c"]) ** 2).mean()

        def f(p, b):
            return l.pmean(g(loss)(p, b), "x"), l.pmean(loss(p, b), "x")
        return f

    m1, m2 = _meshes((4,), ("x",))
    p = {"a": np.float32(2.0), "c": np.float32(0.5)}
    r1 = jaxel.shard_map(step(lax, jaxel.grad), mesh=m1, in_specs=(P(), P("x")),
                         out_specs=(P(), P()))(p, X8)
    r2 = jax.shard_map(step(jax.lax, jax.grad), mesh=m2, in_specs=(JP(), JP("x")),
                       out_specs=(JP(), JP()))(p, X8)
    for k in "ac":
        _close(r1[0][k], r2[0][k])
    _close(r1[1], r2[1])


def test_higher_order_derivatives_and_wrappers():
    w = np.float32(1.5)
    f1, f2 = _pair(lambda l, n: lambda w, b: l.psum(n.sin(w * b).sum(), "x"), (P(), P("x")), P())
    _close(jaxel.hessian(f1)(w, X8), jax.hessian(f2)(w, X8))
    _close(jaxel.jacfwd(f1, argnums=1)(w, X8), jax.jacfwd(f2, argnums=1)(w, X8))
    _close(jaxel.jacrev(f1, argnums=1)(w, X8), jax.jacrev(f2, argnums=1)(w, X8))
    _close(jaxel.grad(jaxel.grad(f1))(w, X8), jax.grad(jax.grad(f2))(w, X8))
    r1, r2 = _pair(lambda l, n: lambda w, b: l.psum(
        (jaxel.checkpoint if l is lax else jax.checkpoint)(lambda u: n.sin(u * b).sum())(w), "x"),
        (P(), P("x")), P())
    _close(jaxel.grad(r1)(w, X8), jax.grad(r2)(w, X8))

    def with_custom_vjp(l, n):
        api = jaxel if l is lax else jax

        @api.custom_vjp
        def f(u):
            return n.sin(u)
        f.defvjp(lambda u: (n.sin(u), n.cos(u)), lambda c, g: (2 * c * g,))
        return lambda w, b: l.psum((f(w) * b).sum(), "x")
    c1, c2 = _pair(with_custom_vjp, (P(), P("x")), P())
    _close(jaxel.grad(c1)(w, X8), jax.grad(c2)(w, X8))
    i1, i2 = _pair(lambda l, n: lambda b: (b > 3).astype(n.int32) + l.axis_index("x"),
                   P("x"), P("x"))
    r = i1(X8)
    assert r.dtype == np.int32
    _close(r, i2(X8))


def test_checkpoint_linearize_vjp():
    w = np.float32(1.5)
    f1, f2 = _pair(lambda l, n: lambda w, b: l.psum(n.sin(w * b).sum(), "x"), (P(), P("x")), P())
    _close(jaxel.grad(jaxel.checkpoint(lambda w: f1(w, X8) ** 2))(w),
           jax.grad(jax.checkpoint(lambda w: f2(w, X8) ** 2))(w))
    _close(jaxel.linearize(lambda w: f1(w, X8), w)[1](np.float32(1.0)),
           jax.linearize(lambda w: f2(w, X8), w)[1](np.float32(1.0)))
    _close(jaxel.vjp(lambda v: f1(w, v), X8)[1](np.float32(1.0))[0],
           jax.vjp(lambda v: f2(w, v), X8)[1](np.float32(1.0))[0])
    ws = np.arange(3, dtype=np.float32)
    _close(jaxel.jit(jaxel.vmap(jaxel.grad(f1), in_axes=(0, None)))(ws, X8),
           jax.jit(jax.vmap(jax.grad(f2), in_axes=(0, None)))(ws, X8))


def test_closed_over_tracer_gradient():
    m1, m2 = _meshes((4,), ("x",))

    def ours(w):
        return jaxel.shard_map(lambda b: lax.psum((w * b).sum(), "x"), mesh=m1,
                               in_specs=P("x"), out_specs=P())(X8)

    def theirs(w):
        return jax.shard_map(lambda b: jax.lax.psum((w * b).sum(), "x"), mesh=m2,
                             in_specs=JP("x"), out_specs=JP())(X8)

    _close(jaxel.grad(ours)(np.float32(3.0)), jax.grad(theirs)(np.float32(3.0)))


def test_nested_shard_map():
    def nest(sm, l, m, PP):
        def outer(b):
            return sm(lambda c: l.psum(c, "y") * l.axis_index("x"), mesh=None,
                      in_specs=PP(None, "y"), out_specs=PP(), axis_names={"y"})(b)
        return sm(outer, mesh=m, in_specs=PP("x"), out_specs=PP("x"), axis_names={"x"})

    m1, m2 = _meshes((2, 2), ("x", "y"))
    x = np.arange(32.0, dtype=np.float32).reshape(4, 8)
    _close(nest(jaxel.shard_map, lax, m1, P)(x), nest(jax.shard_map, jax.lax, m2, JP)(x))


def test_nested_shard_map_gradients():
    """A replicated weight used in an inner shard_map over 'y' inside one over 'x' (checked
    against NumPy: JAX 0.12.1 rejects this program)."""
    m1, _ = _meshes((2, 2), ("x", "y"))

    def outer(w, b):
        return jaxel.shard_map(lambda u, c: lax.psum((u * c).sum(0, keepdims=True), "y"),
                               mesh=None, in_specs=(P(), P("y")), out_specs=P(),
                               axis_names={"y"})(w, b)
    f = jaxel.shard_map(outer, mesh=m1, in_specs=(P(), P("x")), out_specs=P("x"),
                        axis_names={"x"})
    w = np.float32(1.5)
    np.testing.assert_allclose(np.asarray(f(w, X8)), [w * X8[:4].sum(), w * X8[4:].sum()])
    wt = jnp.arange(2.0)
    assert float(jaxel.grad(lambda w: (f(w, X8) * wt).sum())(w)) == X8[4:].sum()
    np.testing.assert_allclose(np.asarray(jaxel.grad(lambda v: (f(w, v) * wt).sum())(X8)),
                               np.repeat([0.0, w], 4))


def test_decorator_current_mesh_and_smap():
    mesh = jaxel.make_mesh((4,), ("x",))
    with jaxel.set_mesh(mesh):
        @jaxel.shard_map(in_specs=P("x"), out_specs=P())
        def total(b):
            return lax.psum(b.sum(), "x")

        assert float(total(X8)) == 28.0
        r = jaxel.smap(lambda b: b * lax.axis_index("x"), in_axes=0, out_axes=0,
                       axis_name="x")(X8)
    np.testing.assert_allclose(np.asarray(r), X8 * np.repeat(np.arange(4), 2))


def test_jaxpr_and_lowering_text():
    mesh = jaxel.make_mesh((4,), ("x",))
    f = jaxel.shard_map(lambda b: lax.psum(b, "x"), mesh=mesh, in_specs=P("x"), out_specs=P())
    text = str(jaxel.make_jaxpr(f)(X8))
    assert "shard_map[" in text and "psum_invariant[axes=('x',)]" in text
    hlo = jaxel.jit(f).lower(X8).as_text()
    assert "sdy.manual_computation" in hlo and "stablehlo.all_reduce" in hlo
    assert "replica_groups = dense<[[0, 1, 2, 3]]>" in hlo


def test_errors():
    mesh = jaxel.make_mesh((4,), ("x",))
    with pytest.raises(ValueError, match=r"argument x .*dimension 0 \(size 6\) is not divisible"):
        jaxel.shard_map(lambda x: x, mesh=mesh, in_specs=P("x"), out_specs=P("x"))(np.ones(6))
    with pytest.raises(NameError, match="unbound axis name 'y'"):
        jaxel.shard_map(lambda b: lax.psum(b, "y"), mesh=mesh, in_specs=P("x"),
                        out_specs=P())(X8)
    with pytest.raises(ValueError, match="names the axis 'z'"):
        jaxel.shard_map(lambda b: b, mesh=mesh, in_specs=P("z"), out_specs=P("x"))(X8)
    with pytest.raises(ValueError, match="varies along them"):
        jaxel.shard_map(lambda b: b, mesh=mesh, in_specs=P("x"), out_specs=P())(X8)
    with pytest.raises(ValueError, match="no mesh given"):
        jaxel.shard_map(lambda b: b, in_specs=P("x"), out_specs=P("x"))(X8)
    with pytest.raises(ValueError, match="it must use the same mesh"):
        other = jaxel.make_mesh((2,), ("y",))
        jaxel.shard_map(lambda b: jaxel.shard_map(lambda c: c, mesh=other, in_specs=P(),
                                                  out_specs=P())(b),
                        mesh=mesh, in_specs=P("x"), out_specs=P("x"))(X8)
    # Without check_vma the promise is not checked (as in JAX).
    jaxel.shard_map(lambda b: b, mesh=mesh, in_specs=P("x"), out_specs=P(), check_vma=False)(X8)


def test_program_devices_in_another_order_and_inferred_specs():
    """A shard_map over a mesh whose devices the program orders differently (the program runs
    on the argument's mesh): groups and axis_index follow the devices, not positions."""
    devs = jaxel.devices()[:4]
    m_arg = jaxel.sharding.Mesh(np.array(devs), ("a",))
    m_rev = jaxel.sharding.Mesh(np.array(devs[::-1]), ("x",))
    f = jaxel.shard_map(lambda b: (lax.axis_index("x")[None] + 0 * b[:1],
                                   lax.all_gather(b, "x", tiled=True),
                                   lax.ppermute(b, "x", [(0, 1), (1, 2), (2, 3), (3, 0)])),
                        mesh=m_rev, in_specs=P("x"), out_specs=(P("x"), P(), P("x")),
                        check_vma=False)
    xa = jaxel.device_put(X8, jaxel.NamedSharding(m_arg, P("a")))
    for a, b in zip(jaxel.jit(lambda v: f(v * 1.0))(xa), f(X8)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    idx, gathered, moved = f(X8)
    np.testing.assert_array_equal(np.asarray(idx), np.arange(4))
    np.testing.assert_array_equal(np.asarray(gathered), X8)
    np.testing.assert_array_equal(np.asarray(moved), np.roll(X8, 2))
    # in_specs left out: read off the arguments' NamedShardings
    g = jaxel.shard_map(lambda b: lax.psum(b, "a"), mesh=m_arg, out_specs=P())
    np.testing.assert_allclose(np.asarray(g(xa)), X8.reshape(4, 2).sum(0))
    # an AbstractMesh: the concrete mesh is the arguments'
    h = jaxel.shard_map(lambda b: lax.psum(b, "a"), mesh=m_arg.abstract_mesh, in_specs=P("a"),
                        out_specs=P())
    np.testing.assert_allclose(np.asarray(h(xa)), X8.reshape(4, 2).sum(0))
    with pytest.raises(ValueError, match="with an AbstractMesh, pass Arrays"):
        h(X8)


@pytest.mark.parametrize("name", ["psum_bool", "psum_int", "pmax_int", "pmin_bool",
                                  "pmean_int", "all_gather_bool"])
def test_collective_dtypes(name):
    """Integer and boolean operands: the result dtypes and values of JAX (booleans are counted
    by psum, pmean divides truly), under shard_map and under vmap."""
    body = {"psum_bool": lambda l: lambda b: l.psum(b > 3, "x"),
            "psum_int": lambda l: lambda b: l.psum(b, "x"),
            "pmax_int": lambda l: lambda b: l.pmax(b, "x"),
            "pmin_bool": lambda l: lambda b: l.pmin(b > 3, "x"),
            "pmean_int": lambda l: lambda b: l.pmean(b, "x"),
            "all_gather_bool": lambda l: lambda b: l.all_gather(b > 3, "x", tiled=True)}[name]
    xi = np.arange(8, dtype=np.int32)
    f1, f2 = _pair(lambda l, n: body(l), P("x"), P(), check_vma=False)
    a, b = np.asarray(f1(xi)), np.asarray(f2(xi))
    assert a.dtype == b.dtype and np.array_equal(a, b), (a, b)
    if name != "all_gather_bool":
        v1 = np.asarray(jaxel.vmap(body(lax), axis_name="x")(xi))
        v2 = np.asarray(jax.vmap(body(jax.lax), axis_name="x")(xi))
        assert v1.dtype == v2.dtype and np.array_equal(v1, v2), (v1, v2)


def test_size_one_axes():
    """Manual axes of size 1: no manual region is emitted (as JAX), collectives are trivial."""
    m = jaxel.make_mesh((1,), ("x",))
    x = np.arange(4.0, dtype=np.float32)
    f = jaxel.shard_map(lambda b: (lax.psum(b, "x"), lax.axis_index("x"), lax.all_gather(b, "x")),
                        mesh=m, in_specs=P("x"), out_specs=(P(), P(), P()), check_vma=False)
    s, i, g = f(x)
    np.testing.assert_array_equal(np.asarray(s), x)
    assert int(i) == 0
    np.testing.assert_array_equal(np.asarray(g), x[None])
    np.testing.assert_array_equal(np.asarray(jaxel.grad(lambda v: f(v)[0].sum())(x)), np.ones(4))
    m2 = jaxel.make_mesh((4, 1), ("x", "y"))
    h = jaxel.shard_map(lambda b: lax.psum(b, "y") + lax.axis_index("y"), mesh=m2,
                        in_specs=P("x"), out_specs=P("x"), check_vma=False)
    np.testing.assert_array_equal(np.asarray(h(X8)), X8)


def test_dead_code_elimination():
    from jaxel.jaxpr.dce import dce_jaxpr
    mesh = jaxel.make_mesh((4,), ("x",))
    f = jaxel.shard_map(lambda a, b: (lax.psum(a, "x"), b * 2), mesh=mesh,
                        in_specs=(P("x"), P("x")), out_specs=(P(), P("x")))
    closed = jaxel.make_jaxpr(lambda a, b: f(a, b)[1])(X8, X8)
    new, used = dce_jaxpr(closed.jaxpr, [True])
    assert used == [False, True]
    (eqn,) = new.eqns
    assert eqn.params["in_specs"] == (P("x"),) and eqn.params["out_specs"] == (P("x"),)
    assert "psum" not in str(eqn.params["jaxpr"])
    np.testing.assert_allclose(np.asarray(jaxel.jit(lambda a, b: f(a, b)[1])(X8, X8)), X8 * 2)


@pytest.mark.parametrize("name", ["all_to_all", "pswapaxes"])
def test_linear_collective_gradients_against_numpy(name):
    """Collectives JAX 0.12.1 cannot differentiate here: the gradient of ``<w, f(x)>`` must be
    ``J^T w``, with the Jacobian ``J`` of the linear map read off its values on a basis."""
    mesh = jaxel.make_mesh((4,), ("x",))
    body = {"all_to_all": lambda b: lax.all_to_all(b.reshape(4, 2), "x", 0, 1),
            "pswapaxes": lambda b: lax.pswapaxes(b.reshape(4, 2), "x", 0)}[name]
    f = jaxel.shard_map(body, mesh=mesh, in_specs=P("x"), out_specs=P("x"))
    n = 32
    jac = np.stack([np.asarray(f(np.eye(n, dtype=np.float32)[i])).ravel() for i in range(n)], 1)
    w = np.arange(jac.shape[0], dtype=np.float32).reshape(np.shape(f(X32)))
    g = jaxel.grad(lambda v: (f(v) * w).sum())(X32)
    np.testing.assert_allclose(np.asarray(g), jac.T @ w.ravel())


def test_pmax_pmin_gradients_against_numpy():
    """JAX 0.12.1 has no pmax/pmin derivative under shard_map; jaxel's gives the cotangent to
    the device(s) holding the extreme (shared among ties)."""
    mesh = jaxel.make_mesh((4,), ("x",))
    x = np.array([3, 9, 1, 4, 7, 2, 9, 0], np.float32)  # blocks (3,9) (1,4) (7,2) (9,0)
    w = np.array([1.0, 2.0], np.float32)
    for op, pick in ((lax.pmax, np.max), (lax.pmin, np.min)):
        f = jaxel.shard_map(lambda b: op(b, "x"), mesh=mesh, in_specs=P("x"), out_specs=P())
        blocks = x.reshape(4, 2)
        np.testing.assert_array_equal(np.asarray(f(x)), pick(blocks, 0))
        hit = (blocks == pick(blocks, 0)).astype(np.float32)
        want = hit * w / hit.sum(0)
        g = jaxel.grad(lambda v: (f(v) * w).sum())(x)
        np.testing.assert_allclose(np.asarray(g), want.ravel())
