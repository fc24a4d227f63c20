"""jaxel.debug.breakpoint: pdb on the host with the caller's locals concrete, driven by a
scripted stdin (eagerly, under jit and once per example under vmap)."""
import io
import sys

import numpy as np

import jaxel
from jaxel import numpy as jnp


def _run(monkeypatch, commands, fn, *args):
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdin", io.StringIO(commands))
    monkeypatch.setattr(sys, "stdout", out)
    result = fn(*args)
    monkeypatch.undo()
    return out.getvalue(), result


def _g(x):
    y = x * 2
    label = "static"
    jaxel.debug.breakpoint()
    return y + 1


def test_breakpoint_under_jit_shows_concrete_values(monkeypatch):
    text, result = _run(monkeypatch, "p y\np y + 1\np label\nc\n", jaxel.jit(_g), 3.0)
    assert "Breakpoint at" in text and "test_breakpoint.py" in text and "(_g)" in text
    assert "array(6., dtype=float32)" in text and "7.0" in text and "'static'" in text
    assert float(result) == 7.0


def test_breakpoint_eager(monkeypatch):
    text, result = _run(monkeypatch, "p float(y)\nc\n", _g, jnp.float32(1.0))
    assert "2.0" in text and float(result) == 3.0


def test_breakpoint_under_vmap_once_per_example(monkeypatch):
    text, result = _run(monkeypatch, "p y\nc\np y\nc\n", jaxel.jit(jaxel.vmap(_g)),
                        jnp.arange(2.0))
    assert text.count("Breakpoint at") == 2
    assert "array(0., dtype=float32)" in text and "array(2., dtype=float32)" in text
    np.testing.assert_array_equal(result, [1.0, 3.0])
