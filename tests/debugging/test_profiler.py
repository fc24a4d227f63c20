"""jaxel.profiler: traces written where TensorBoard/Perfetto read them, annotations recorded,
memory profiles, one trace at a time."""
import gzip
import json

import pytest

import jaxel
import jaxel.numpy as jnp
import jaxel.profiler as profiler

jax = pytest.importorskip("jax")


def test_public_names_match_jax():
    theirs = {n for n in dir(jax.profiler) if not n.startswith("_")}
    assert theirs <= set(dir(profiler))
    assert "profiler" in dir(jaxel)


def _event_names(data):
    return {e.name for p in data.planes for line in p.lines for e in line.events}


def test_trace_writes_tensorboard_and_perfetto_files(tmp_path):
    f = jaxel.jit(lambda x: x @ x.T)
    with profiler.trace(tmp_path, create_perfetto_trace=True) as session:
        with profiler.TraceAnnotation("my_annotation", size=16):
            f(jnp.ones((16, 16))).block_until_ready()
        with profiler.StepTraceAnnotation("train", step_num=3):
            pass
    assert not session.is_running
    names = _event_names(session.profile_data)
    assert "my_annotation" in names
    runs = list((tmp_path / "plugins" / "profile").iterdir())
    assert len(runs) == 1
    files = {p.name for p in runs[0].iterdir()}
    assert any(n.endswith(".xplane.pb") for n in files)
    assert any(n.endswith(".trace.json.gz") for n in files)
    with gzip.open(runs[0] / "perfetto_trace.json.gz") as fh:
        perfetto = json.load(fh)
    assert "metadata" not in perfetto
    assert any(ev.get("name") == "my_annotation" for ev in perfetto["traceEvents"])


def test_start_stop_and_one_at_a_time(tmp_path):
    with pytest.raises(RuntimeError, match="No profile started"):
        profiler.stop_trace()
    session = profiler.start_trace(str(tmp_path))
    try:
        with pytest.raises(RuntimeError, match="already been started"):
            profiler.start_trace(str(tmp_path))
        annotated = profiler.annotate_function(lambda: 42, name="answer")
        assert annotated() == 42
    finally:
        data = profiler.stop_trace()
    assert data is session.profile_data and "answer" in _event_names(data)
    assert (tmp_path / "plugins" / "profile").is_dir()
    with pytest.raises(TypeError):
        profiler.export_profile_data(object(), tmp_path)


def test_annotation_outside_a_trace_is_free():
    @profiler.annotate_function
    def g(x):
        return x + 1
    assert g(1) == 2
    with profiler.TraceAnnotation("nobody listens"):
        pass


def test_device_memory_profile(tmp_path):
    keep = jnp.ones((128,)) * 2  # noqa: F841  (something live to profile)
    blob = profiler.device_memory_profile()
    assert isinstance(blob, bytes) and gzip.decompress(blob)
    profiler.save_device_memory_profile(tmp_path / "mem.prof")
    assert (tmp_path / "mem.prof").stat().st_size > 0


def test_start_and_stop_server():
    import socket
    with socket.socket() as s:  # a free port
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    profiler.start_server(port)
    try:
        with pytest.raises(ValueError, match="Only one"):
            profiler.start_server(port)
    finally:
        profiler.stop_server()
    with pytest.raises(ValueError):
        profiler.stop_server()


def test_trace_as_decorator_without_log_dir():
    @profiler.trace()
    def work():
        with profiler.TraceAnnotation("inside_decorated"):
            return jnp.ones(4).sum()
    assert float(work()) == 4.0
    with pytest.raises(RuntimeError):
        profiler.stop_trace()  # the decorator's trace has stopped
