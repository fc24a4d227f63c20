"""``ravel_pytree``: a pytree of arrays as one flat vector, and the function that undoes it."""
import math
import warnings

from jaxel.tree_util import tree_flatten, tree_unflatten


class _Unravel:
    """Splits a flat vector back into the pytree it was raveled from (see ``ravel_pytree``).

    A plain object rather than a closure, so it can be compared, hashed (by identity) and
    shown in a readable way.
    """
    __slots__ = ("treedef", "shapes", "dtypes", "flat_dtype", "size")

    def __init__(self, treedef, shapes, dtypes, flat_dtype):
        self.treedef = treedef
        self.shapes = shapes
        self.dtypes = dtypes
        self.flat_dtype = flat_dtype
        self.size = sum(math.prod(s) for s in shapes)

    def __call__(self, flat):
        import jaxel.numpy as jnp  # imported here: jaxel.numpy itself uses the tree utilities

        flat = jnp.asarray(flat)
        if flat.dtype != self.flat_dtype:
            raise TypeError(f"unravel: the flat vector has dtype {flat.dtype}, but this pytree "
                            f"was raveled to dtype {self.flat_dtype}")
        if tuple(flat.shape) != (self.size,):
            raise ValueError(f"unravel: expected a flat vector of shape ({self.size},), got "
                             f"shape {tuple(flat.shape)}")
        pieces = []
        start = 0
        with warnings.catch_warnings():
            # Casting a complex vector back to a real leaf drops the (zero) imaginary part.
            warnings.simplefilter("ignore")
            for shape, dtype in zip(self.shapes, self.dtypes):
                stop = start + math.prod(shape)
                piece = jnp.reshape(flat[start:stop], shape)
                pieces.append(piece if piece.dtype == dtype else piece.astype(dtype))
                start = stop
        return tree_unflatten(self.treedef, pieces)

    def __repr__(self):
        return f"<unravel to {self.treedef}>"


def ravel_pytree(pytree):
    """Concatenate every leaf of ``pytree``, raveled, into one 1-D array.

    Leaves of different dtypes are promoted to their common dtype (``jnp.result_type``).

    Args:
      pytree: a pytree of arrays or scalars.

    Returns:
      ``(flat, unravel)``: the 1-D array, and a function taking such a vector (same size and
      dtype) back to a pytree like ``pytree``, each leaf with its original shape and dtype.
      A tree with no leaves gives an empty float32 vector.

    Example::

        >>> flat, unravel = ravel_pytree({"w": jnp.ones((2, 2)), "b": jnp.zeros(3)})
        >>> flat.shape
        (7,)
        >>> unravel(flat)["w"].shape
        (2, 2)
    """
    import jaxel.numpy as jnp  # imported here: jaxel.numpy itself uses the tree utilities

    leaves, treedef = tree_flatten(pytree)
    arrays = [jnp.asarray(x) for x in leaves]
    shapes = [tuple(a.shape) for a in arrays]
    dtypes = [a.dtype for a in arrays]
    if not arrays:
        flat = jnp.asarray([], dtype="float32")
        return flat, _Unravel(treedef, shapes, dtypes, flat.dtype)
    flat_dtype = jnp.result_type(*dtypes)
    parts = [jnp.ravel(a if a.dtype == flat_dtype else a.astype(flat_dtype)) for a in arrays]
    flat = jnp.concatenate(parts)
    return flat, _Unravel(treedef, shapes, dtypes, flat_dtype)
