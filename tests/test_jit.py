"""jit: caching, static and donated arguments, pytrees, closures, AOT API, nesting."""
import collections
import functools
import logging

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel import lax


def test_jit_matches_eager_and_caches():
    f = jaxel.jit(lambda x, y: jnp.sin(x) * y + 1.0)
    x = jnp.asarray(np.arange(4, dtype=np.float32))
    out = f(x, 2.0)
    np.testing.assert_allclose(np.asarray(out), np.sin(np.arange(4)) * 2 + 1, rtol=1e-6)
    assert f._cache_size() == 1
    f(x + 1, 3.0)  # same types: cache hit
    assert f._cache_size() == 1
    f(x, jnp.asarray(np.float32(2)))  # weak scalar -> strong array: new entry
    assert f._cache_size() == 2
    f(lax.convert_element_type(x, np.int32), 2.0)
    assert f._cache_size() == 3


def test_decorator_forms_and_static_args():
    @jaxel.jit
    def f(x):
        return x * 2

    @jaxel.jit(static_argnums=1)
    def g(x, n):
        for _ in range(n):
            x = x + 1
        return x

    @jaxel.jit(static_argnames="mode")
    def h(x, mode="add"):
        return x + 1 if mode == "add" else x - 1

    x = jnp.asarray(np.float32(1))
    assert float(f(x)) == 2.0
    assert float(g(x, 3)) == 4.0
    assert float(g(x, 5)) == 6.0
    assert g._cache_size() == 2
    assert float(h(x, mode="sub")) == 0.0
    assert float(h(x)) == 2.0


def test_unhashable_static_argument_is_a_clear_error():
    f = jaxel.jit(lambda x, opts: x, static_argnums=1)
    with pytest.raises(ValueError, match="Non-hashable static"):
        f(1.0, [1, 2])


def test_pytree_arguments_and_results():
    Point = collections.namedtuple("Point", "x y")

    @jaxel.jit
    def f(tree):
        return {"sum": tree["a"] + tree["b"][0], "none": None, "empty": (),
                "pt": Point(tree["a"], tree["b"][1])}

    a = jnp.asarray(np.ones(3, np.float32))
    out = f({"a": a, "b": (a, a * 2)})
    assert out["none"] is None and out["empty"] == ()
    assert isinstance(out["pt"], Point)
    np.testing.assert_allclose(np.asarray(out["sum"]), 2 * np.ones(3))
    np.testing.assert_allclose(np.asarray(out["pt"].y), 2 * np.ones(3))


def test_closed_over_large_array_is_an_argument_not_text():
    big = jnp.asarray(np.arange(10000, dtype=np.float32))
    f = jaxel.jit(lambda x: x + big)
    text = f.lower(jnp.zeros(10000)).as_text()
    assert "dense<" not in text or len(text) < 5000
    assert text.count("%arg") >= 2
    np.testing.assert_allclose(np.asarray(f(jnp.zeros(10000))), np.arange(10000))


def test_closed_over_scalar_is_inlined():
    c = jnp.asarray(np.float32(3))
    f = jaxel.jit(lambda x: x * c)
    assert float(f(jnp.asarray(np.float32(2)))) == 6.0


def test_wrong_number_of_arguments():
    f = jaxel.jit(lambda x, y: x + y)
    with pytest.raises(TypeError):
        f(1.0)


def test_nested_jit_and_jit_primitive_in_jaxpr():
    inner = jaxel.jit(lambda x: jnp.sin(x))
    outer = jaxel.jit(lambda x: inner(x) * 2)
    x = jnp.asarray(np.float32(0.5))
    np.testing.assert_allclose(float(outer(x)), 2 * np.sin(0.5), rtol=1e-6)
    jaxpr = jaxel.make_jaxpr(lambda x: inner(x) * 2)(x)
    assert "jit[" in str(jaxpr)


def test_inline_nested_jit():
    inner = jaxel.jit(lambda x: jnp.sin(x), inline=True)
    jaxpr = jaxel.make_jaxpr(lambda x: inner(x) * 2)(1.0)
    assert "jit[" not in str(jaxpr) and "sin" in str(jaxpr)


def test_disable_jit_runs_python():
    calls = []

    @jaxel.jit
    def f(x):
        calls.append(type(x).__name__)
        return x + 1

    with jaxel.disable_jit():
        f(jnp.asarray(np.float32(1)))
        f(jnp.asarray(np.float32(1)))
    assert calls == ["Array", "Array"]


def test_keep_unused_and_dce():
    f = jaxel.jit(lambda x, y: x * 2)
    text = f.lower(1.0, 2.0).as_text()
    assert "%arg1" not in text
    g = jaxel.jit(lambda x, y: x * 2, keep_unused=True)
    assert "%arg1" in g.lower(1.0, 2.0).as_text()
    assert float(f(1.0, 2.0)) == 2.0


def test_aot_trace_lower_compile():
    f = jaxel.jit(lambda x: jnp.sin(x) + 1)
    x = jnp.asarray(np.ones(3, np.float32))
    traced = f.trace(x)
    assert "sin" in str(traced.jaxpr)
    lowered = f.lower(x)
    assert "stablehlo.sine" in lowered.as_text()
    compiled = lowered.compile()
    np.testing.assert_allclose(np.asarray(compiled(x)), np.sin(1) + 1, rtol=1e-6)
    cost = compiled.cost_analysis()
    assert isinstance(cost, dict)
    with pytest.raises(TypeError, match="compiled for"):
        compiled(jnp.asarray(np.ones(4, np.float32)))
    out = f.eval_shape(x)
    assert out.shape == (3,) and out.dtype == np.float32


def test_donation_consumes_buffer():
    f = jaxel.jit(lambda x: x + 1, donate_argnums=0)
    x = jnp.asarray(np.ones(1000, np.float32))
    y = f(x)
    np.testing.assert_allclose(np.asarray(y), 2)
    assert x.is_deleted()
    with pytest.raises(RuntimeError, match="deleted"):
        np.asarray(x)


@pytest.mark.parametrize("lib_name", ["jaxel", "jax"])
def test_reusing_a_donated_array_is_a_runtime_error_naming_it(lib_name):
    """JAX 0.12.1 raises RuntimeError("Array has been deleted with shape=...") wherever a
    donated array is used again: converted, waited on, or passed to a jitted function (its fast
    path, a new compilation, an AOT-compiled call)."""
    lib = pytest.importorskip(lib_name)
    lnp = pytest.importorskip(lib_name + ".numpy")
    donate = lib.jit(lambda x: x + 1, donate_argnums=0)
    other = lib.jit(lambda x: x * 2)
    x = lnp.ones(8)
    other(lnp.ones(8)), other(lnp.ones(8))  # warm the cached-call path for this type
    donate(x)
    uses = [lambda: np.asarray(x), lambda: x.block_until_ready(), lambda: donate(x),
            lambda: other(x), lambda: lib.jit(lambda x: x - 1)(x),
            lambda: other.lower(lnp.ones(8)).compile()(x)]
    for use in uses:
        with pytest.raises(RuntimeError, match="deleted") as err:
            use()
        if lib_name == "jaxel":
            assert "Array has been deleted with shape=f32[8]" in str(err.value)


def test_explain_cache_misses_names_the_argument(caplog):
    f = jaxel.jit(lambda x, y: (x, y))
    x = jnp.asarray(np.ones(3, np.float32))
    f(x, x)
    jaxel.config.update("jax_explain_cache_misses", True)
    try:
        with caplog.at_level(logging.WARNING, logger="jaxel"):
            f(x, jnp.asarray(np.ones(5, np.float32)))
    finally:
        jaxel.config.update("jax_explain_cache_misses", False)
    text = caplog.text
    assert "argument y" in text and "shape (3,) -> (5,)" in text


def test_explain_cache_misses_weak_type(caplog):
    f = jaxel.jit(lambda x: x * 2)
    f(1.0)
    jaxel.config.update("jax_explain_cache_misses", True)
    try:
        with caplog.at_level(logging.WARNING, logger="jaxel"):
            f(jnp.asarray(np.float32(1)))
    finally:
        jaxel.config.update("jax_explain_cache_misses", False)
    assert "weak_type True -> False" in caplog.text


def test_log_compiles(caplog):
    jaxel.config.update("jax_log_compiles", True)
    try:
        with caplog.at_level(logging.WARNING, logger="jaxel"):
            jaxel.jit(lambda x: x * 3 + 7)(jnp.asarray(np.arange(7, dtype=np.float32)))
    finally:
        jaxel.config.update("jax_log_compiles", False)
    assert "Compiling" in caplog.text


def test_weak_type_of_results():
    f = jaxel.jit(lambda x: x * 2)
    assert f(1.0).weak_type
    assert not f(jnp.asarray(np.float32(1))).weak_type


def test_multiple_devices_option_gives_n_cpu_devices():
    import subprocess
    import sys
    code = ("import jaxel; jaxel.config.update('jax_num_cpu_devices', 4); "
            "print(len(jaxel.devices()))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.stdout.strip() == "4", out.stderr


def test_compile_cache_statistics_and_sharing():
    from jaxel.runtime import compile_cache
    before = compile_cache.stats()
    f1 = jaxel.jit(lambda x: x * 5 - 3)
    f2 = jaxel.jit(lambda x: x * 5 - 3)
    x = jnp.asarray(np.arange(11, dtype=np.float32))
    f1(x)
    f2(x)  # same program text: shared executable
    after = compile_cache.stats()
    assert after["hits"] >= before["hits"] + 1
    assert {"hits", "misses", "evictions", "entries", "compile_seconds"} <= set(after)


def test_lax_ops_inside_jit_with_python_scalars():
    f = jaxel.jit(lambda x: lax.add(x, 2) * lax.max(x, 0.5))
    np.testing.assert_allclose(float(f(jnp.asarray(np.float32(1)))), 3.0)


def test_isinstance_array_holds_for_tracers():
    seen = []
    jaxel.jit(lambda x: seen.append(isinstance(x, jaxel.Array)) or x)(1.0)
    assert seen == [True]
    assert isinstance(jnp.ones(2), jaxel.Array)
    assert not isinstance(np.ones(2), jaxel.Array)


def test_var_method_on_traced_array():
    x = jnp.asarray(np.arange(4, dtype=np.float32))
    np.testing.assert_allclose(float(jaxel.jit(lambda v: v.var())(x)), np.var(np.arange(4)),
                               rtol=1e-6)


def test_eager_fast_path_does_not_run_inside_a_trace():
    """The unary ufunc fast path executes only under the eval trace: a concrete array closed over
    by a traced function must be staged (after warming the fast path with the same aval)."""
    c = jnp.arange(4.0)
    jnp.sin(c)
    jnp.sin(c)  # now cached for this aval
    jaxpr = jaxel.make_jaxpr(lambda: jnp.sin(c))()
    assert [e.primitive.name for e in jaxpr.jaxpr.eqns] == ["sin"]
    np.testing.assert_allclose(jaxel.jit(lambda: jnp.sin(c))(), np.sin(np.arange(4.0)), rtol=1e-6)


def test_jit_of_a_functools_wrapper_of_a_jitted_function():
    """functools.wraps copies __dict__; jit must not pick up the inner jitted function's
    caches from it."""
    import functools
    inner = jaxel.jit(lambda x: x + 1.0)

    @functools.wraps(inner)
    def outer(x):
        return inner(x) * 10.0

    np.testing.assert_allclose(jaxel.jit(outer)(1.0), 20.0)


def _statics_fn(x, n, y=1.0, *, mode="add"):
    return x * n + y if mode == "add" else x - y


@pytest.mark.parametrize("lib_name", ["jaxel", "jax"])
def test_compiled_takes_the_dynamic_arguments_only(lib_name):
    """Static arguments are fixed at lower time: the Compiled object is called without them
    (as JAX); anything else is a TypeError that says what the call should have been."""
    lib = pytest.importorskip(lib_name)
    x = np.ones(3, np.float32)
    c = lib.jit(_statics_fn, static_argnums=1, static_argnames="mode").lower(
        x, 2, mode="add").compile()
    np.testing.assert_allclose(np.asarray(c(x)), 3.0)
    bad_calls = [lambda: c(x, 2), lambda: c(x, mode="add"), lambda: c(x, y=2.0), lambda: c(),
                 lambda: c((x,)), lambda: c(np.ones(4, np.float32)),
                 lambda: c(np.ones(3, np.int32))]
    for call in bad_calls:
        with pytest.raises(TypeError):
            call()
    c2 = lib.jit(_statics_fn, static_argnums=1).lower(x, 2, 3.0).compile()
    np.testing.assert_allclose(np.asarray(c2(x, 3.0)), 5.0)
    with pytest.raises(TypeError):
        c2(x)


def test_compiled_call_errors_name_what_was_expected():
    x = np.ones(3, np.float32)
    c = jaxel.jit(_statics_fn, static_argnums=1, static_argnames="mode").lower(
        x, 2, mode="add").compile()
    with pytest.raises(TypeError, match=r"1 positional argument\(s\), got 2.*Static arguments "
                                        r"\(argument 1, 'mode'\) were fixed when lowering"):
        c(x, 2)
    with pytest.raises(TypeError, match=r"keyword argument\(s\) none, got \['mode'\]"):
        c(x, mode="add")
    with pytest.raises(TypeError, match=r"argument x was compiled for f32\[3\] and called "
                                        r"with f32\[4\]"):
        c(np.ones(4, np.float32))
    kw = jaxel.jit(lambda x, *, scale: x * scale["s"]).lower(x, scale={"s": 2.0}).compile()
    np.testing.assert_allclose(np.asarray(kw(x, scale={"s": 3.0})), 3.0)
    with pytest.raises(TypeError, match=r"scale\['s'\] was compiled for f32\[\]"):
        kw(x, scale={"s": np.ones(2, np.float32)})


class _Model:
    """A registered pytree whose aux data is a dict (unhashable), hashable itself by value."""

    def __init__(self, w, meta):
        self.w, self.meta = w, meta

    def __hash__(self):
        return hash(tuple(sorted(self.meta.items())))

    def __eq__(self, other):
        return isinstance(other, _Model) and other.meta == self.meta

    def apply(self, x):
        _Model.traces += 1
        return self.w * x * self.meta["s"]

    traces = 0
    japply = jaxel.jit(apply)
    sapply = jaxel.jit(apply, static_argnums=0)


jaxel.tree_util.register_pytree_node(_Model, lambda m: ((m.w,), m.meta),
                                     lambda meta, ch: _Model(ch[0], meta))


def test_pytrees_with_unhashable_aux_data_as_arguments():
    """Treedefs hash without aux data that cannot be hashed (equality still compares it), as
    JAX's: every cache keyed on argument structure accepts such pytrees."""
    x = jnp.ones(3)
    m = _Model(jnp.ones(3), {"s": 2.0})
    t1 = jaxel.tree_util.tree_structure(m)
    t2 = jaxel.tree_util.tree_structure(_Model(1.0, {"s": 2.0}))
    assert hash(t1) == hash(t2) and t1 == t2
    assert t1 != jaxel.tree_util.tree_structure(_Model(1.0, {"s": 3.0}))
    expect = np.full(3, 2.0)
    for out in [jaxel.jit(_Model.apply)(m, x), m.japply(x), m.sapply(x),
                jaxel.jit(functools.partial(_Model.apply, m))(x),
                jaxel.vmap(lambda c: c.apply(1.0))(m),
                jaxel.grad(lambda c: c.apply(x).sum())(m).w,
                lax.cond(True, lambda c: c.apply(x), lambda c: c.w, m),
                lax.scan(lambda c, _: (c, c.apply(x)), m, None, length=1)[1][0]]:
        np.testing.assert_allclose(np.asarray(out), expect)


def test_static_self_is_compared_by_its_hash_and_eq():
    x = jnp.ones(3)
    _Model.traces = 0
    for _ in range(3):  # equal (not identical) static values hit the same entry
        np.testing.assert_allclose(_Model(jnp.ones(3), {"s": 5.0}).sapply(x), 5.0)
    assert _Model.traces == 1
    np.testing.assert_allclose(_Model(jnp.ones(3), {"s": 7.0}).sapply(x), 7.0)
    assert _Model.traces == 2


# ---- one cache per function (and jit options), as JAX --------------------------------------
def _counting(calls):
    def f(x, n=2):
        calls.append(1)
        return x * n
    return f


@pytest.mark.parametrize("lib_name", ["jaxel", "jax"])
def test_jit_of_the_same_function_in_a_loop_traces_once(lib_name):
    lib = pytest.importorskip(lib_name)
    calls = []
    f = _counting(calls)
    x = np.ones(3, np.float32)
    for _ in range(4):
        np.testing.assert_allclose(np.asarray(lib.jit(f)(x)), 2.0)
    assert len(calls) == 1
    for _ in range(3):  # the same static value: one more trace, then hits
        np.testing.assert_allclose(np.asarray(lib.jit(f, static_argnums=1)(x, 3)), 3.0)
    assert len(calls) == 2
    for i in range(3):  # a new function object each time: a new entry each time (fine)
        np.testing.assert_allclose(np.asarray(lib.jit(lambda x: f(x, 4))(x)), 4.0)
    assert len(calls) == 5


def test_jit_options_do_not_share_entries():
    calls = []
    f = _counting(calls)
    x = jnp.ones(3)
    jaxel.jit(f)(x, 3)  # n traced
    assert jaxel.jit(f)._cache_size() == 1
    jaxel.jit(f, static_argnums=1)(x, 3)
    jaxel.jit(f, static_argnames="n")(x, n=3)
    assert jaxel.jit(f, static_argnums=1)._cache_size() == 1
    assert len(calls) == 3
    # Donation is per option set: the plain wrapper's entry must not donate.
    y = jnp.ones(3)
    jaxel.jit(f)(y)
    assert not y.is_deleted()
    jaxel.jit(f, donate_argnums=0)(y)
    assert y.is_deleted()
    z = jnp.ones(3)
    jaxel.jit(f)(z)
    assert not z.is_deleted()
    # keep_unused and inline change the program too.
    assert "%arg1" not in jaxel.jit(lambda a, b: a).lower(1.0, 2.0).as_text()
    g = lambda a, b: a * 2  # noqa: E731
    jaxel.jit(g).lower(1.0, 2.0)
    assert "%arg1" in jaxel.jit(g, keep_unused=True).lower(1.0, 2.0).as_text()
    assert "jit[" in str(jaxel.make_jaxpr(lambda v: jaxel.jit(jnp.sin)(v))(1.0))
    assert "jit[" not in str(jaxel.make_jaxpr(lambda v: jaxel.jit(jnp.sin, inline=True)(v))(1.0))
    assert len(calls) == 5  # + f(y) (a new call signature) + its donating variant
    # clear_cache on any wrapper clears the shared entries.
    jaxel.jit(f).clear_cache()
    jaxel.jit(f)(x, 3)
    assert len(calls) == 6


def test_jit_cache_does_not_keep_functions_or_arguments_alive():
    import gc
    import weakref
    from jaxel import api
    c = jnp.arange(3.0)

    def f(x):
        return x * c

    def total(v):
        return v.sum()

    big = jnp.ones(1000)
    jaxel.jit(f)(jnp.ones(3))
    jaxel.jit(f, donate_argnums=())(jnp.ones(3))
    kept = jaxel.jit(total)
    kept(big)
    assert f in api._shared_caches and total in api._shared_caches
    refs = [weakref.ref(f), weakref.ref(big)]
    n = len(api._shared_caches)
    del f, big  # `total` and its wrapper stay: its entry must not hold the first argument
    gc.collect()
    assert [r() for r in refs] == [None, None]
    # (other tests' functions may be collected by the same gc pass)
    assert len(api._shared_caches) <= n - 1 and total in api._shared_caches
    np.testing.assert_allclose(kept(jnp.ones(1000)), 1000.0)


def test_jit_cache_follows_the_x64_mode():
    jax = pytest.importorskip("jax")
    from jaxel.config import enable_x64
    fn = lambda x: x + jnp.arange(3)  # noqa: E731
    jfn = lambda x: x + jax.numpy.arange(3)  # noqa: E731
    kept, kept_jax = jaxel.jit(fn), jax.jit(jfn)  # one wrapper, and a new one per call
    ours, theirs = [], []
    for x64 in (False, True, False):
        with enable_x64(x64), jax.enable_x64(x64):
            ours += [kept(np.ones(3, np.int32)).dtype, jaxel.jit(fn)(np.ones(3, np.int32)).dtype]
            theirs += [kept_jax(np.ones(3, np.int32)).dtype,
                       jax.jit(jfn)(np.ones(3, np.int32)).dtype]
    assert ours == theirs == [np.int32] * 2 + [np.int64] * 2 + [np.int32] * 2
