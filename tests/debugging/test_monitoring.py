"""jaxel.monitoring: the listener API and the events jaxel emits, by JAX 0.12.1's names."""
import numpy as np
import pytest

import jaxel
import jaxel.numpy as jnp
from jaxel import monitoring

jax = pytest.importorskip("jax")


def test_public_names_match_jax():
    theirs = {n for n in dir(jax.monitoring) if not n.startswith("_")}
    assert theirs <= set(dir(monitoring))


@pytest.fixture
def listeners():
    events, durations, spans, scalars = [], [], [], []
    cbs = [lambda e, **kw: events.append((e, kw)),
           lambda e, d, **kw: durations.append((e, d, kw)),
           lambda e, s, t, **kw: spans.append((e, s, t, kw)),
           lambda e, v, **kw: scalars.append((e, v, kw))]
    regs = [monitoring.register_event_listener, monitoring.register_event_duration_secs_listener,
            monitoring.register_event_time_span_listener, monitoring.register_scalar_listener]
    unregs = [monitoring.unregister_event_listener,
              monitoring.unregister_event_duration_listener,
              monitoring.unregister_event_time_span_listener,
              monitoring.unregister_scalar_listener]
    for reg, cb in zip(regs, cbs):
        reg(cb)
    yield events, durations, spans, scalars
    for unreg, cb in zip(unregs, cbs):
        unreg(cb)


def test_record_functions_reach_listeners(listeners):
    events, durations, spans, scalars = listeners
    monitoring.record_event("/my/event", tag="a")
    monitoring.record_event_duration_secs("/my/duration", 0.5, tag="b")
    monitoring.record_event_time_span("/my/span", 1.0, 2.0)
    monitoring.record_scalar("/my/scalar", 7)
    assert events == [("/my/event", {"tag": "a"})]
    assert durations == [("/my/duration", 0.5, {"tag": "b"})]
    assert spans == [("/my/span", 1.0, 2.0, {})]
    assert scalars == [("/my/scalar", 7, {})]


def test_unregister_unknown_listener_raises():
    with pytest.raises(AssertionError):
        monitoring.unregister_event_listener(lambda e: None)




def test_jit_emits_jax_compile_events():
    durations = []
    cb = lambda e, d, **kw: durations.append((e, d, kw.get("fun_name")))  # noqa: E731
    monitoring.register_event_duration_secs_listener(cb)
    try:
        def my_fun(x):
            return x * 3.0 + 1.5
        f = jaxel.jit(my_fun)
        np.testing.assert_allclose(f(jnp.arange(4.0)), np.arange(4.0) * 3 + 1.5)
        ours = [(e, n) for e, _, n in durations if n in ("my_fun", "jit(my_fun)")]
        assert all(d >= 0 for _, d, _ in durations)
        count = len(durations)
        f(jnp.arange(4.0))  # a cache hit reports nothing
        assert len(durations) == count
    finally:
        monitoring.unregister_event_duration_listener(cb)
    seen = []
    jcb = lambda e, d, **kw: seen.append((e, kw.get("fun_name")))  # noqa: E731
    jax.monitoring.register_event_duration_secs_listener(jcb)
    try:
        def my_fun(x):  # noqa: F811
            return x * 3.0 + 1.5
        jax.jit(my_fun)(jax.numpy.arange(4.0))
    finally:
        jax.monitoring.unregister_event_duration_listener(jcb)
    theirs = [(e, n) for e, n in seen if n in ("my_fun", "jit(my_fun)")]
    assert ours == theirs
    assert [e for e, _ in ours] == [monitoring.JAXPR_TRACE_EVENT,
                                    monitoring.JAXPR_TO_MLIR_MODULE_EVENT,
                                    monitoring.BACKEND_COMPILE_EVENT]


def test_log_compiles_names_steps_and_cause(caplog):
    import logging

    def my_logged_fun(a):
        return a * 4.0

    f = jaxel.jit(my_logged_fun)
    with caplog.at_level(logging.WARNING, logger="jaxel"):
        with jaxel.log_compiles():
            f(jnp.ones(3))
            f(jnp.ones(3))  # cached: nothing logged
            n = len(caplog.records)
            f(jnp.ones(4))
    text = caplog.text
    assert "Finished tracing my_logged_fun for jit in" in text
    assert "Finished jaxpr to MLIR module conversion jit(my_logged_fun) in" in text
    assert "Compiling jit_my_logged_fun" in text
    assert "shape (3,) -> (4,)" in "".join(r.getMessage() for r in caplog.records[n:])
    assert not jaxel.config.jax_log_compiles
