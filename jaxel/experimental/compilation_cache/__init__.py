"""The persistent compilation cache's functions (JAX's
``jax.experimental.compilation_cache``); see ``compilation_cache``."""
