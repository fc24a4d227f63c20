"""Regenerate ``vmap_op_counts.json``: the StableHLO op counts of JAX's lowering of each
program in ``tests/transforms/vmap_programs.py`` (the golden counts jaxel must not exceed).

Run from the repository root with real jax installed::

    .venv/bin/python tests/transforms/golden/make_vmap_op_counts.py
"""
from __future__ import annotations

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(HERE))))

import jax  # noqa: E402

from tests.transforms.vmap_programs import lowered_counts, programs  # noqa: E402


def main():
    jax.config.update("jax_platforms", "cpu")
    counts = {name: lowered_counts(jax, fn, args) for name, (fn, args) in programs(jax).items()}
    path = os.path.join(HERE, "vmap_op_counts.json")
    with open(path, "w") as f:
        json.dump({"jax_version": jax.__version__, "programs": counts}, f, indent=1,
                  sort_keys=True)
        f.write("\n")
    print(f"wrote {len(counts)} programs to {path}")


if __name__ == "__main__":
    main()
