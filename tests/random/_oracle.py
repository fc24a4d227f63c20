"""The installed jax as a test oracle (skipped where it is missing)."""
import contextlib

import pytest

jax = pytest.importorskip("jax")


@contextlib.contextmanager
def x64_both():
    """x64 on in both jaxel and jax for the block."""
    import jaxel
    old = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    try:
        with jaxel.config._override("jax_enable_x64", True):
            yield
    finally:
        jax.config.update("jax_enable_x64", old)
