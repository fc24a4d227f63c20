"""jaxel's benchmark suite: jaxel against JAX (and PyTorch where comparable), same process,
same inputs, same timing rules. Run ``python -m benchmarks`` (``--help`` for options); see
``benchmarks/README.md`` for what each row measures and the targets.

Not part of the tests: nothing here asserts, it measures and prints.
"""

# Run order; each module has NAME and run(opts) -> list of Rows.
BENCHMARK_MODULES = ("bench_jit", "bench_eager", "bench_trace", "bench_train", "bench_transformer", "bench_vmap",
                     "bench_control_flow", "bench_random", "bench_linalg", "bench_numpy",
                     "bench_parallel", "bench_import", "bench_cold")
