"""jaxel demo: jit, make_jaxpr and the StableHLO a function lowers to.

Run with `make demo`. Later issues grow this into a small training run.
"""
import time

import jaxel as jax
import jaxel.numpy as jnp


def predict(w, b, x):
    """A tiny affine layer with a tanh."""
    return jnp.tanh(x * w + b)


def main():
    x = jnp.arange(6.0).reshape(2, 3)
    w, b = jnp.ones((2, 3)) * 0.5, 0.1

    print("== make_jaxpr: the traced program ==")
    print(jax.make_jaxpr(predict)(w, b, x))

    print("\n== jit(...).lower(...).as_text(): the StableHLO module XLA compiles ==")
    print(jax.jit(predict).lower(w, b, x).as_text())

    fast = jax.jit(predict)
    t0 = time.perf_counter()
    out = fast(w, b, x).block_until_ready()
    t1 = time.perf_counter()
    for _ in range(1000):
        fast(w, b, x)
    t2 = time.perf_counter()
    print("== jit: first call traces and compiles, later calls reuse the executable ==")
    print(out)
    print(f"first call {1e3 * (t1 - t0):.1f} ms, cached call {1e6 * (t2 - t1) / 1000:.1f} us")
    print(f"eager result matches: {bool(jnp.allclose(predict(w, b, x), out, atol=1e-6))}")


if __name__ == "__main__":
    main()
