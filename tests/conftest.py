"""Test-run setup shared by every test module.

Eight CPU devices for the whole run (JAX_NUM_CPU_DEVICES is read by jaxel's config and by the
JAX used as an oracle), so sharding, shard_map and pmap tests need no subprocess. Un-placed
computations still run on device 0, as with one device.
"""
import os

os.environ.setdefault("JAX_NUM_CPU_DEVICES", "8")
