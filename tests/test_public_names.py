"""Every public name of JAX 0.12.1's user-facing modules exists in jaxel's module of the same role.

The list comes from the installed ``jax`` (the test extra pins 0.12.1), so a newer JAX adds names
here by itself. A name jaxel does not provide yet must be listed below with the open issue that
owns it; ``test_exclusions_are_still_needed`` keeps the lists honest once a name lands.
"""
import importlib

import pytest

pytest.importorskip("jax")

# jax module (relative to ``jax``) -> jaxel module (relative to ``jaxel``) of the same role.
MODULES = [
    "", "numpy", "numpy.linalg", "numpy.fft", "lax", "lax.linalg", "random", "nn",
    "nn.initializers", "scipy", "scipy.cluster", "scipy.cluster.vq", "scipy.fft",
    "scipy.integrate", "scipy.interpolate", "scipy.linalg", "scipy.ndimage", "scipy.optimize",
    "scipy.signal", "scipy.sparse", "scipy.sparse.linalg", "scipy.spatial.transform",
    "scipy.special", "scipy.stats", "scipy.stats.norm", "scipy.stats.t", "tree_util", "tree",
    "dtypes", "errors", "custom_derivatives", "custom_batching", "flatten_util", "image", "ops",
    "typing", "ad_checkpoint", "dlpack", "test_util", "sharding", "debug",
]

_DEBUGGING = "issue 15 (debugging, callbacks, stages, profiling, export, guards)"
_ECOSYSTEM = "issue 16 (extension API, array refs, jax internals for the ecosystem)"

# (module, name) -> the open issue that owns it. Nothing else may be missing.
EXCLUDED: dict = {
    **{("", n): _DEBUGGING for n in [
        "debug_nans", "debug_infs", "stages", "export",
        "effects_barrier", "named_scope", "named_call",
        "checking_leaks", "check_tracer_leaks",
        "no_tracing", "no_execution", "thread_guard", "array_garbage_collection_guard",
        "make_user_context"]},
    # jaxel.debug has the sharding pictures of issue 14; issue 15 adds the rest.
    **{("debug", n): _DEBUGGING for n in [
        "DebugEffect", "OrderedDebugEffect", "log"]},
    **{("", n): _ECOSYSTEM for n in [
        "Ref", "new_ref", "empty_ref", "free_ref", "freeze", "ref", "core", "extend",
        "interpreters", "lib", "api_util", "ffi"]},
}


def _public(module):
    return {n for n in dir(module) if not n.startswith("_")}


def _has(module, name):
    """``module.name`` exists, counting submodules that JAX only loads on import (jax.extend)."""
    if hasattr(module, name):
        return True
    try:
        importlib.import_module(f"{module.__name__}.{name}")
    except ImportError:
        return False
    return True


def _modules(name):
    jax_mod = importlib.import_module("jax" + ("." + name if name else ""))
    try:
        ours = importlib.import_module("jaxel" + ("." + name if name else ""))
    except ImportError:
        ours = None
    return jax_mod, ours


@pytest.mark.parametrize("name", MODULES, ids=lambda m: "jax" + ("." + m if m else ""))
def test_every_public_name_exists(name):
    jax_mod, ours = _modules(name)
    wanted = {n for n in _public(jax_mod) if (name, n) not in EXCLUDED}
    assert ours is not None, f"jaxel has no module for jax.{name} ({len(wanted)} names)"
    missing = sorted(n for n in wanted if not hasattr(ours, n))
    assert not missing, f"jaxel.{name or ''} lacks {len(missing)} names of jax: {missing}"


def test_exclusions_are_still_needed():
    """An excluded name that jaxel now has, or that left JAX, must be dropped from EXCLUDED."""
    stale = []
    for mod, n in EXCLUDED:
        jax_mod, ours = _modules(mod)
        if not _has(jax_mod, n) or (ours is not None and hasattr(ours, n)):
            stale.append((mod, n))
    assert not stale, f"drop these from EXCLUDED: {stale}"
