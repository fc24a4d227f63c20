"""``jaxel.numpy``: NumPy's API on jaxel arrays, composed from ``jaxel.lax`` primitives.

Promotion and broadcasting follow JAX exactly (see ``jaxel.dtypes``); arrays are immutable,
with ``x.at[idx].set(v)`` for updates.
"""
from jaxel import _operators
from jaxel.dtypes import (  # noqa: F401
    bool_, int8, int16, int32, int64, uint8, uint16, uint32, uint64, float16, bfloat16,
    float32, float64, complex64, complex128, float0, finfo, iinfo, result_type, promote_types,
    can_cast, issubdtype, isdtype,
)
from jaxel.dtypes import (  # noqa: F401  (the narrow ml_dtypes types)
    float4_e2m1fn, float6_e2m3fn, float6_e3m2fn, float8_e3m4, float8_e4m3, float8_e4m3b11fnuz,
    float8_e4m3fn, float8_e4m3fnuz, float8_e5m2, float8_e5m2fnuz, float8_e8m0fnu, float8_e5m3fnu,
    complex32, bcomplex32, int1, int2, int4, uint1, uint2, uint4)
from numpy import dtype  # noqa: F401  (jnp.dtype is NumPy's dtype class, as in JAX)
from jaxel.runtime.array import Array as ndarray  # noqa: F401
from jaxel.numpy.creation import *  # noqa: F401,F403
from jaxel.numpy.creation import asarray, array  # noqa: F401
from jaxel.numpy.ufuncs import *  # noqa: F401,F403
from jaxel.numpy.ufuncs import abs, round, divmod  # noqa: F401,A004
from jaxel.numpy.shape import *  # noqa: F401,F403
from jaxel.numpy.misc import *  # noqa: F401,F403
from jaxel.numpy.indexing import *  # noqa: F401,F403
from jaxel.numpy.reductions import *  # noqa: F401,F403
from jaxel.numpy.extrema import *  # noqa: F401,F403
from jaxel.numpy.contractions import *  # noqa: F401,F403
from jaxel.numpy.extra_math import *  # noqa: F401,F403
from jaxel.numpy.statistics import *  # noqa: F401,F403
from jaxel.numpy.index_tricks import *  # noqa: F401,F403
from jaxel.numpy.setops import *  # noqa: F401,F403
from jaxel.numpy.manipulation import *  # noqa: F401,F403
from jaxel.numpy.functional import *  # noqa: F401,F403
from jaxel.numpy.polynomial import *  # noqa: F401,F403
from jaxel.numpy.windows import *  # noqa: F401,F403
from jaxel.numpy.host_io import *  # noqa: F401,F403
from jaxel.numpy.ufunc_class import ufunc, frompyfunc  # noqa: F401
from jaxel.numpy import ufunc_class as _ufunc_class
from jaxel.numpy.view import view as _view  # noqa: F401  (Array.view)

# JAX's 14 ufunc objects (jnp.add.reduce, jnp.add.at, ...) wrap the plain functions.
globals().update(_ufunc_class.standard_ufuncs(__import__('sys').modules[__name__]))

import numpy as _np

pi = _np.pi
e = _np.e
inf = _np.inf
nan = _np.nan
newaxis = None
euler_gamma = _np.euler_gamma
# NumPy's abstract scalar types, for issubdtype (as JAX re-exports them).
generic, number, inexact, floating, complexfloating = (
    _np.generic, _np.number, _np.inexact, _np.floating, _np.complexfloating)
integer, signedinteger, unsignedinteger = _np.integer, _np.signedinteger, _np.unsignedinteger
flexible, character = _np.flexible, _np.character

_operators.jnp = __import__(__name__, fromlist=["_"])
from jaxel.numpy import linalg  # noqa: F401,E402
from jaxel.numpy import fft  # noqa: F401,E402
from jaxel.numpy.array_api import __array_api_version__, __array_namespace_info__  # noqa: F401,E402,E501
from jaxel.dlpack import from_dlpack  # noqa: F401,E402

# The public scalar types become classes whose call makes an Array, as JAX's (jnp.int8(3)).
from jaxel.numpy import scalar_types as _scalar_types  # noqa: E402
_scalar_types.wrap_namespace(globals(), [
    "bool", "bool_", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "bfloat16", "float32", "float64", "complex64", "complex128", "int_", "uint",
    "float_", "complex_", "double", "single", "cdouble", "csingle", "float4_e2m1fn",
    "float6_e2m3fn", "float6_e3m2fn", "float8_e3m4", "float8_e4m3", "float8_e4m3b11fnuz",
    "float8_e4m3fn", "float8_e4m3fnuz", "float8_e5m2", "float8_e5m2fnuz", "float8_e8m0fnu",
    "int1", "int2", "int4", "uint1", "uint2", "uint4"])
