"""``jax.experimental.shard_map`` (the import path older code uses): ``shard_map`` itself."""
from jaxel.parallel import shard_map  # noqa: F401
