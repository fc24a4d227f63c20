"""Config options as context managers (JAX's ``jax.enable_x64``, ``jax.numpy_rank_promotion``,
...): each sets the option ``jaxel.config.update`` sets, and the options change behaviour as in
JAX 0.12.1 (or are refused with NotImplementedError where jaxel cannot honour them)."""
import warnings

import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel import config

jax = pytest.importorskip("jax")

STATES = {
    "enable_x64": ("jax_enable_x64", True), "debug_key_reuse": ("jax_debug_key_reuse", True),
    "explain_cache_misses": ("jax_explain_cache_misses", True),
    "enable_checks": ("jax_enable_checks", True),
    "numpy_rank_promotion": ("jax_numpy_rank_promotion", "warn"),
    "numpy_dtype_promotion": ("jax_numpy_dtype_promotion", "strict"),
    "default_matmul_precision": ("jax_default_matmul_precision", "highest"),
    "legacy_prng_key": ("jax_legacy_prng_key", "warn"),
    "softmax_custom_jvp": ("jax_softmax_custom_jvp", False),
    "threefry_partitionable": ("jax_threefry_partitionable", True),
    "default_prng_impl": ("jax_default_prng_impl", "threefry2x32"),
    "enable_custom_prng": ("jax_enable_custom_prng", False),
    "allow_f16_reductions": ("jax_allow_f16_reductions", True),
    "jax2tf_associative_scan_reductions": ("jax2tf_associative_scan_reductions", False),
}


@pytest.mark.parametrize("name", sorted(STATES))
def test_state_sets_the_config_option_in_its_block(name):
    option, value = STATES[name]
    state = getattr(jaxel, name)
    assert state.value == getattr(config, option) == getattr(jax, name).value  # same default
    before = state.value
    with state(value):
        assert getattr(config, option) == value and state.value == value
    assert state.value == before

    @state(value)
    def read():
        return getattr(config, option)

    assert read() == value and state.value == before


def test_enable_x64_block_and_decorator():
    with jaxel.enable_x64():
        assert jnp.ones(1).dtype == np.float64
    assert jnp.ones(1).dtype == np.float32
    with pytest.raises(TypeError, match="bool"):
        bool(jaxel.enable_x64)


def test_bad_values_raise_like_jax():
    with pytest.raises(ValueError, match="allow"):
        jaxel.numpy_rank_promotion("bogus")
    with pytest.raises(ValueError):
        jax.numpy_rank_promotion("bogus")
    with pytest.raises(TypeError, match="argument"):
        jaxel.numpy_rank_promotion()
    with pytest.raises(ValueError):
        config.update("jax_numpy_dtype_promotion", "loose")


@pytest.mark.parametrize("name, value", [
    ("default_prng_impl", "rbg"),
    ("default_matmul_precision", "BF16_BF16_F32"),
])
def test_values_jaxel_cannot_honour_are_refused(name, value):
    with pytest.raises(NotImplementedError, match="not supported"):
        getattr(jaxel, name)(value)
    with pytest.raises(NotImplementedError):
        config.update(STATES[name][0], value)
    assert getattr(jaxel, name).value == STATES[name][1] or name == "default_matmul_precision"


def _outcome(fn):
    try:
        out = fn()
    except ValueError as e:  # TypePromotionError is a ValueError
        return type(e).__name__ if type(e).__name__ == "TypePromotionError" else "ValueError"
    return (str(out.dtype), tuple(out.shape), bool(getattr(out, "weak_type", False)))


def _binary_cases(np_):
    return [
        (np_.ones(3), np_.ones((2, 3))), (np_.ones(3), 1.0), (np_.ones(3), np_.ones(())),
        (np_.ones((1, 3)), np_.ones((2, 3))), (np_.ones((2, 1, 3)), np_.ones((4, 3))),
    ]


@pytest.mark.parametrize("mode", ["allow", "raise"])
def test_rank_promotion_matches_jax(mode):
    with jaxel.numpy_rank_promotion(mode), jax.numpy_rank_promotion(mode):
        for (a, b), (ja, jb) in zip(_binary_cases(jnp), _binary_cases(jax.numpy)):
            assert _outcome(lambda: jnp.add(a, b)) == _outcome(lambda: jax.numpy.add(ja, jb))
            assert (_outcome(lambda: jaxel.jit(jnp.multiply)(a, b))
                    == _outcome(lambda: jax.jit(jax.numpy.multiply)(ja, jb)))


def test_rank_promotion_warn_and_retrace():
    f = jaxel.jit(lambda a, b: a + b)
    f(jnp.ones(3), jnp.ones((2, 3)))  # traced while 'allow'
    with jaxel.numpy_rank_promotion("warn"):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            f(jnp.ones(3), jnp.ones((2, 3)))  # the option change forces a new trace
        assert [x.category for x in w] == [UserWarning]
        assert "rank promotion" in str(w[0].message)
    with jaxel.numpy_rank_promotion("raise"), pytest.raises(ValueError, match="raise"):
        f(jnp.ones(3), jnp.ones((2, 3)))


def _dtype_cases(np_):
    return [
        (np_.ones(2, np_.int32), np_.ones(2, np_.float32)), (np_.ones(2), 1.0), (np_.ones(2), 1),
        (np_.ones(2, np_.int32), 1.0), (np_.ones(2, np_.float16), np_.ones(2)),
        (np_.ones(2, np_.int8), np_.ones(2, np_.int32)), (1, 2.0),
        (np_.ones(2, np_.uint8), 3), (np_.ones(2, np_.complex64), 2.0), (np_.ones(2), 1j),
        (np_.ones(2, np_.bfloat16), 2),
    ]


def test_strict_dtype_promotion_matches_jax():
    with jaxel.numpy_dtype_promotion("strict"), jax.numpy_dtype_promotion("strict"):
        for (a, b), (ja, jb) in zip(_dtype_cases(jnp), _dtype_cases(jax.numpy)):
            assert _outcome(lambda: jnp.add(a, b)) == _outcome(lambda: jax.numpy.add(ja, jb))
        for a, b in [("int8", "int32"), ("float32", "float32"), (int, "int8"), (float, "int8")]:
            assert (_outcome(lambda: np.zeros(0, jnp.promote_types(a, b)))
                    == _outcome(lambda: np.zeros(0, jax.numpy.promote_types(a, b))))
        with pytest.raises(jaxel.dtypes.TypePromotionError, match="strict"):
            jnp.ones(2, jnp.int32) + jnp.ones(2)
    # Back to the standard lattice (the caches were reset).
    assert jnp.add(jnp.ones(2, jnp.int8), jnp.ones(2, jnp.int32)).dtype == np.int32
    assert jnp.promote_types("int8", "int32") == np.int32


def test_default_matmul_precision_reaches_the_program():
    f = lambda a: a @ a  # noqa: E731
    x = jnp.ones((2, 2))
    assert "HIGHEST" not in str(jaxel.make_jaxpr(f)(x))
    with jaxel.default_matmul_precision("float32"):
        assert "HIGHEST" in str(jaxel.make_jaxpr(f)(x))
        np.testing.assert_allclose(np.asarray(jaxel.jit(f)(x)), np.full((2, 2), 2.0))
    with jaxel.default_matmul_precision("tensorfloat32"):
        assert "HIGH," in str(jaxel.make_jaxpr(f)(x))
    assert "HIGHEST" not in str(jaxel.make_jaxpr(f)(x))


@pytest.mark.parametrize("call", [
    lambda r, k: r.normal(k), lambda r, k: r.split(k), lambda r, k: r.fold_in(k, 1),
    lambda r, k: r.key_data(k), lambda r, k: r.uniform(k, (2,)),
])
def test_legacy_prng_key(call):
    raw, typed = jaxel.random.PRNGKey(0), jaxel.random.key(0)
    with jaxel.legacy_prng_key("error"):
        with pytest.raises(ValueError, match="Legacy uint32 key"):
            call(jaxel.random, raw)
        call(jaxel.random, typed)  # typed keys are always fine (also internally)
        with jax.legacy_prng_key("error"), pytest.raises(ValueError):
            call(jax.random, jax.random.PRNGKey(0))
    with jaxel.legacy_prng_key("warn"):
        with pytest.warns(UserWarning, match="Legacy uint32 key"):
            call(jaxel.random, raw)
    call(jaxel.random, raw)  # 'allow' again


def _library_calls(lib):
    np_, x = lib.numpy, lib.numpy.arange(6.0).reshape(2, 3)
    return {
        "mean_int": lambda: np_.mean(np_.arange(6)), "var": lambda: np_.var(x),
        "softmax": lambda: lib.nn.softmax(x), "clip": lambda: np_.clip(x, 0, 3),
        "linspace": lambda: np_.linspace(0, 1, 5),
        "logsumexp": lambda: lib.scipy.special.logsumexp(x),
        "norm": lambda: np_.linalg.norm(x), "grad": lambda: lib.grad(lambda v: np_.sum(v ** 2))(x),
        "normal": lambda: lib.random.normal(lib.random.key(0), (2,)),
        "choice": lambda: lib.random.choice(lib.random.key(0), 5, (3,), p=np_.ones(5) / 5),
        "cov": lambda: np_.cov(x), "quantile": lambda: np_.quantile(x, np_.array([0.1, 0.5])),
    }


@pytest.mark.parametrize("state, value", [("numpy_dtype_promotion", "strict"),
                                          ("numpy_rank_promotion", "raise")])
def test_library_functions_work_under_strict_options_as_in_jax(state, value):
    # jaxel's own compositions must not rely on implicit promotion where JAX's do not.
    ours, theirs = _library_calls(jaxel), _library_calls(jax)
    with getattr(jaxel, state)(value), getattr(jax, state)(value):
        for name in ours:
            got = _outcome(ours[name])
            want = _outcome(theirs[name])
            assert got[:2] == want[:2], name


def test_enable_checks_type_checks_traced_programs(monkeypatch):
    from jaxel.jaxpr import ir, staging
    checked = []
    monkeypatch.setattr(staging, "check_jaxpr", lambda j: checked.append(j) or ir.check_jaxpr(j))
    jaxel.jit(lambda x: jnp.sin(x) * 2)(jnp.ones(2))
    assert not checked
    with jaxel.enable_checks(True):
        np.testing.assert_allclose(np.asarray(jaxel.jit(lambda x: jnp.cos(x) + 1)(jnp.zeros(2))),
                                   [2.0, 2.0])
    assert len(checked) == 1 and "cos" in str(checked[0])


def test_allow_f16_reductions_false_matches_jax():
    def calls(lib):
        np_, lax = lib.numpy, lib.lax
        return [lambda: np_.sum(np_.ones(3, np_.float16)),  # jnp.sum accumulates in float32
                lambda: np_.sum(np_.ones((3, 1), np_.bfloat16), axis=1),
                lambda: lax.reduce_sum(np_.ones(3, np_.float16), (0,)),
                lambda: lib.jit(lambda v: lax.reduce_sum(v, (0,)))(np_.ones(3, np_.bfloat16)),
                lambda: lax.reduce_sum(np_.ones((3, 1), np_.float16), (1,)),
                lambda: lax.reduce_sum(np_.ones(3), (0,))]

    jaxel.lax.reduce_sum(jnp.ones(3, jnp.float16), (0,))  # cached before the option changes
    with jaxel.allow_f16_reductions(False), jax.allow_f16_reductions(False):
        got = [_outcome(f) for f in calls(jaxel)]
        assert got == [_outcome(f) for f in calls(jax)]
    assert got[2] == "ValueError" and got[0] != "ValueError"
    assert float(jaxel.lax.reduce_sum(jnp.ones(3, jnp.float16), (0,))) == 3.0


def test_enable_custom_prng_matches_jax():
    def run(lib):
        raw = lib.random.PRNGKey(0)
        with lib.enable_custom_prng(True), warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            made = [lib.random.PRNGKey(0), lib.random.split(raw), lib.random.fold_in(raw, 1),
                    lib.random.clone(raw), lib.random.normal(raw)]
            typed = lib.random.split(lib.random.key(0))  # typed keys: no warning
            lib.random.uniform(typed[0])
        return ([str(m.dtype) for m in made], [x.category for x in w],
                np.asarray(lib.random.key_data(made[1])).tolist())

    assert run(jaxel) == run(jax)
    assert jaxel.random.PRNGKey(0).dtype == np.uint32  # back to raw keys


def test_threefry_partitionable_false_streams_match_jax():
    def draws(lib, exact):
        r, np_ = lib.random, lib.numpy
        with lib.threefry_partitionable(False):
            k, raw = r.key(3), r.PRNGKey(5)
            if exact:
                return [r.key_data(r.split(k, 3)), r.split(raw, (2, 2)), r.bits(k, (5,)),
                        r.bits(k, (3,), np_.uint8), r.bits(k, (5,), np_.uint16),
                        r.uniform(k, (7,)), r.randint(k, (4,), 0, 100), r.permutation(k, 6),
                        r.key_data(r.fold_in(k, 7)),
                        lib.vmap(lambda kk: r.uniform(kk, (2,)))(r.split(k, 2))]
            return [r.normal(raw, (2, 3)), lib.jit(lambda kk: r.normal(kk, (3,)))(k)]

    for ours, theirs in zip(draws(jaxel, True), draws(jax, True)):
        np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))
    for ours, theirs in zip(draws(jaxel, False), draws(jax, False)):
        np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=1e-5, atol=1e-6)
    # The partitionable streams (the default) are back, and differ from the original ones.
    with jax.threefry_partitionable(False):
        original = np.asarray(jax.random.bits(jax.random.key(3), (5,)))
    now = np.asarray(jaxel.random.bits(jaxel.random.key(3), (5,)))
    np.testing.assert_array_equal(now, np.asarray(jax.random.bits(jax.random.key(3), (5,))))
    assert not np.array_equal(now, original)
