"""Host callbacks: Python functions an executable calls while it runs.

A callback lowers to ``custom_call @xla_ffi_python_cpu_callback`` whose ``backend_config``
names an ``index`` into the ``host_callbacks`` list the executable is compiled with. Lowering
writes a process-wide *callback id* there (``register``); ``compile_with_callbacks`` renumbers the
ids in order of appearance to the 0-based indices XLA wants and passes the matching callables.
So the module text that keys the compile cache names the callbacks it calls: two programs
with different callbacks never share an executable, and equal programs with the same callbacks
do.

jaxlib accepts ``host_callbacks`` only with a parsed MLIR module (not text), so the text is
parsed with jaxlib's MLIR bindings here.

An exception raised in a callback is kept (``_pending``) and XLA aborts the run with a generic
runtime error; ``reraise`` turns that error back into the callback's own exception, with a note
naming the callback.
"""
from __future__ import annotations

import re
import threading

TARGET = "xla_ffi_python_cpu_callback"

_lock = threading.Lock()
_ids: dict = {}        # callable -> id
_by_id: list = []      # id -> callable
# The last callback failure: XLA runs callbacks on its own threads, so not thread-local.
_pending: list = [None]

_INDEX = re.compile(r"(backend_config = \{index = )(\d+)( : ui64\})")


def register(fn) -> int:
    """The process-wide id of host function ``fn`` (``fn(*numpy_arrays) -> tuple``)."""
    with _lock:
        i = _ids.get(fn)
        if i is None:
            i = _ids[fn] = len(_by_id)
            _by_id.append(fn)
        return i


def has_callbacks(text: str) -> bool:
    """Whether module ``text`` calls host callbacks."""
    return TARGET in text


def localize(text: str):
    """``(text with 0-based callback indices, host_callbacks tuple)`` for compiling ``text``."""
    local: dict = {}

    def sub(m):
        g = int(m.group(2))
        k = local.setdefault(g, len(local))
        return f"{m.group(1)}{k}{m.group(3)}"

    new = _INDEX.sub(sub, text)
    fns = [None] * len(local)
    for g, k in local.items():
        fns[k] = _by_id[g]
    return new, tuple(fns)


_ctx = None


def _mlir_module(text: str):
    """``text`` parsed into a jaxlib MLIR module (the context is made once per process)."""
    global _ctx
    from jaxlib.mlir import ir
    if _ctx is None:
        from jaxlib.mlir._mlir_libs import _jax_mlir_ext
        from jaxlib.mlir.dialects import chlo, mhlo, sdy, stablehlo
        reg = ir.DialectRegistry()
        _jax_mlir_ext.register_dialects(reg)
        ctx = ir.Context()
        ctx.append_dialect_registry(reg)
        ctx.load_all_available_dialects()
        sdy.register_dialect(ctx)
        stablehlo.register_dialect(ctx)
        chlo.register_dialect(ctx)
        mhlo.register_mhlo_dialect(ctx)
        _ctx = ctx
    with _ctx:
        return ir.Module.parse(text)


def compile_with_callbacks(client, text: str, devices, opts):
    """Compile ``text`` (which calls host callbacks) with its callbacks attached."""
    from jaxel.runtime.xla import xc
    text, fns = localize(text)
    if client.platform != "cpu":
        # GPU clients register the same handler under their own name (not exercised by the
        # test suite, which runs on CPU).
        text = text.replace(TARGET, TARGET.replace("_cpu_", "_gpu_"))
    return client.compile_and_load(_mlir_module(text), xc.DeviceList(tuple(devices)), opts,
                                   host_callbacks=fns)


def record_error(exc: BaseException, name: str):
    """Remember ``exc`` raised by callback ``name`` (the run that called it is failing)."""
    _pending[0] = (exc, name)


def reraise(err: BaseException):
    """If ``err`` (from running an executable) was caused by a failing callback, raise that
    callback's exception instead (with a note naming the callback); else return."""
    p = _pending[0]
    if p is None:
        return
    _pending[0] = None
    if "callback" not in str(err).lower():
        return
    exc, name = p
    try:
        exc.add_note(f"(raised by the host callback {name} while running a compiled program)")
    except Exception:  # noqa: BLE001 -- an exception object that refuses notes keeps its text
        pass
    raise exc from err
