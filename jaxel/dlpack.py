"""DLPack interchange (``jax.dlpack``): share device buffers with other array libraries."""
import ml_dtypes
import numpy as np

from jaxel.runtime.transfer import from_dlpack  # noqa: F401

# The dtypes DLPack can describe and jaxel exchanges: bool, the standard integers, floats
# (bfloat16 included) and complex. The narrow ml_dtypes (float8, int4...) have no DLPack code.
_SUPPORTED = frozenset(np.dtype(t) for t in (
    np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
    np.float16, ml_dtypes.bfloat16, np.float32, np.float64, np.complex64, np.complex128))


def to_dlpack(x, stream=None):
    """A DLPack capsule for the jaxel array ``x`` (prefer ``x.__dlpack__()``)."""
    return x.__dlpack__(stream=stream)


def is_supported_dtype(dtype) -> bool:
    """Whether arrays of ``dtype`` can be exchanged through DLPack.

    True for bool, the 8- to 64-bit integers, float16, bfloat16, float32, float64, complex64
    and complex128 (Python's ``bool``/``int``/``float``/``complex`` name their NumPy dtypes);
    False for the narrow ml_dtypes types, float0 and non-numeric dtypes.

    Example::

        >>> dlpack.is_supported_dtype(jnp.bfloat16), dlpack.is_supported_dtype(jnp.int4)
        (True, False)
    """
    if dtype is None:
        # np.dtype(None) would quietly mean float64.
        raise TypeError("jaxel.dlpack.is_supported_dtype: expected a dtype or a dtype name, "
                        "got None.")
    return np.dtype(dtype) in _SUPPORTED


__all__ = ["from_dlpack", "to_dlpack", "is_supported_dtype"]
