"""PRNG keys: typed key arrays (``key``), raw uint32 keys (``PRNGKey``), and the key operations
``split``, ``fold_in``, ``clone``, ``key_data``, ``wrap_key_data``, ``key_impl``.

A typed key array is a :class:`PRNGKeyArray`: a pytree node whose only child is the raw uint32
data of shape ``(*shape, 2)``. jit, vmap, grad, eval_shape and tree utilities therefore handle
keys with no special case (``docs/design.md``, "Random keys are pytree nodes"). Every random
function accepts both styles; ``split``/``fold_in`` return the style they were given.
"""
from __future__ import annotations

import operator
import typing

import numpy as np

from jaxel import lax
from jaxel import numpy as jnp
from jaxel import tree_util
from jaxel.config import config
from jaxel.dtypes import prng_key
from jaxel.random import key_reuse
from jaxel.random import threefry
from jaxel.runtime.array import Array, register_virtual_array
from jaxel.tracing.core import Tracer

_U32 = np.dtype(np.uint32)
IMPL_NAME = "threefry2x32"


class KeyDType:
    """The dtype of typed key arrays; prints as ``key<fry>`` like JAX's."""

    __slots__ = ()
    name = "key<fry>"
    kind = "V"
    itemsize = 8
    #: The scalar type, as for NumPy dtypes: ``issubdtype(key.dtype, dtypes.prng_key)`` and
    #: ``issubdtype(key.dtype, dtypes.extended)`` are True through it.
    type = prng_key

    def __repr__(self):
        return "key<fry>"

    __str__ = __repr__

    def __eq__(self, other):
        return isinstance(other, KeyDType) or other == "key<fry>"

    def __hash__(self):
        return hash("key<fry>")


KEY_DTYPE = KeyDType()


def key_dtype(impl_spec=None):
    """The dtype of typed key arrays (``key<fry>``) for the PRNG implementation ``impl_spec``.

    ``impl_spec`` is None (the default implementation) or the implementation's name,
    ``'threefry2x32'`` (also what ``key_impl`` returns): the only implementation in jaxel.
    """
    if impl_spec is not None and not isinstance(impl_spec, str):
        raise TypeError(f"key_dtype: impl_spec must be None or a PRNG implementation name "
                        f"(a string); got {type(impl_spec).__name__}.")
    if impl_spec is not None and impl_spec != IMPL_NAME:
        raise ValueError(f"key_dtype: jaxel.random supports only the {IMPL_NAME!r} PRNG "
                         f"implementation; got impl_spec={impl_spec!r}.")
    return KEY_DTYPE


def _check_impl(impl):
    if impl is not None and str(impl) != IMPL_NAME:
        raise ValueError(f"jaxel.random supports only the {IMPL_NAME!r} PRNG implementation; "
                         f"got impl={impl!r}.")


class PRNGKeyArray:
    """An array of PRNG keys. ``shape`` excludes the key data (a single key has shape ``()``);
    ``key_data(keys)`` gives the underlying uint32 array of shape ``(*shape, 2)``."""

    __slots__ = ("_data", "__weakref__")
    __array_priority__ = 100

    def __init__(self, data):
        self._data = data

    # -- array-like protocol --------------------------------------------------------------------
    @property
    def shape(self):
        return tuple(self._data.shape[:-1])

    @property
    def dtype(self):
        return KEY_DTYPE

    @property
    def ndim(self):
        return len(self._data.shape) - 1

    @property
    def size(self):
        n = 1
        for d in self.shape:
            n *= d
        return n

    def __len__(self):
        if not self.ndim:
            raise TypeError("len() of unsized object (a single PRNG key)")
        return self.shape[0]

    def __iter__(self):
        if not self.ndim:
            raise TypeError("iteration over a single PRNG key (shape ())")
        return (self[i] for i in range(self.shape[0]))

    def __getitem__(self, idx):
        if not isinstance(idx, tuple):
            idx = (idx,)
        if not self.ndim and idx not in ((), (Ellipsis,)):
            raise IndexError("a single PRNG key (shape ()) cannot be indexed")
        return PRNGKeyArray(self._data[idx + (slice(None),)])

    def reshape(self, *shape, order="C"):
        if len(shape) == 1 and not isinstance(shape[0], int):
            shape = tuple(shape[0])
        shape = tuple(operator.index(d) for d in shape)
        if -1 in shape:
            known = 1
            for d in shape:
                if d != -1:
                    known *= d
            shape = tuple(self.size // known if d == -1 else d for d in shape)
        return PRNGKeyArray(jnp.reshape(self._data, (*shape, 2)))

    def ravel(self):
        return self.reshape(-1)

    flatten = ravel

    def transpose(self, *axes):
        if len(axes) == 1 and not isinstance(axes[0], int):
            axes = tuple(axes[0])
        if not axes:
            axes = tuple(reversed(range(self.ndim)))
        axes = tuple(a % self.ndim for a in axes)
        return PRNGKeyArray(jnp.transpose(self._data, (*axes, self.ndim)))

    @property
    def T(self):
        return self.transpose()

    def squeeze(self, axis=None):
        if axis is None:
            axis = tuple(i for i, d in enumerate(self.shape) if d == 1)
        elif isinstance(axis, int):
            axis = (axis,)
        return PRNGKeyArray(lax.squeeze(self._data, tuple(a % self.ndim for a in axis)))

    def copy(self):
        return PRNGKeyArray(self._data)

    def block_until_ready(self):
        if hasattr(self._data, "block_until_ready"):
            self._data.block_until_ready()
        return self

    def __eq__(self, other):
        if not isinstance(other, PRNGKeyArray):
            return NotImplemented
        return jnp.all(self._data == other._data, axis=-1)

    def __ne__(self, other):
        if not isinstance(other, PRNGKeyArray):
            return NotImplemented
        return jnp.any(self._data != other._data, axis=-1)

    __hash__ = None

    def __array__(self, dtype=None, copy=None):
        raise TypeError("A PRNG key array cannot be converted to a NumPy array; use "
                        "jaxel.random.key_data(keys) for its uint32 data.")

    def astype(self, dtype):
        raise TypeError("PRNG key arrays cannot be cast; use jaxel.random.key_data(keys) for "
                        "their uint32 data.")

    def __repr__(self):
        if type(self._data) is Array:
            return (f"Array({self.shape}, dtype=key<fry>) overlaying:\n"
                    f"{np.asarray(self._data)}")
        return f"PRNGKeyArray(shape={self.shape}, dtype=key<fry>, data={self._data!r})"

    __str__ = __repr__


tree_util.register_pytree_node(
    PRNGKeyArray,
    lambda k: ((k._data,), None),
    lambda _, children: PRNGKeyArray(children[0]),
)
# Key arrays are jaxel Arrays to isinstance (as JAX's are jax.Arrays), also when made inside
# jit or vmap; the class stays apart so that ``type(x) is Array`` fast paths never see one.
register_virtual_array(PRNGKeyArray)

#: Type annotation for typed key arrays (JAX's ``jax.random.Key``): a key is an Array.
Key = typing.NewType("Key", Array)


class KeyAval:
    """The abstract value of a typed key array (``typeof(key)``): prints ``key<fry>[3]``."""

    __slots__ = ("shape",)
    dtype = KEY_DTYPE
    weak_type = False

    def __init__(self, shape):
        self.shape = tuple(shape)

    ndim = property(lambda self: len(self.shape))
    size = property(lambda self: int(np.prod(self.shape, dtype=np.int64)))

    def str_short(self) -> str:
        return f"key<fry>[{','.join(map(str, self.shape))}]"

    __str__ = str_short

    def __repr__(self):
        return f"ShapedArray({self.str_short()})"

    def __eq__(self, other):
        return type(other) is KeyAval and other.shape == self.shape

    def __hash__(self):
        return hash(("key<fry>", self.shape))


def key_aval(keys: PRNGKeyArray) -> KeyAval:
    """The aval of a typed key array (what ``jaxel.typeof`` returns for it)."""
    return KeyAval(keys.shape)


# ---- accepting keys ---------------------------------------------------------------------------
def _describe(x) -> str:
    shape, dt = getattr(x, "shape", None), getattr(x, "dtype", None)
    if shape is None or dt is None:
        return f"a value of type {type(x).__name__}"
    return f"an array of dtype {np.dtype(dt).name if not isinstance(dt, KeyDType) else dt} and shape {tuple(shape)}"


def raw_data(key, name: str, allow_batched: bool = False):
    """The uint32 ``(..., 2)`` data of a typed or raw key, with errors that say what a key is."""
    if type(key) is PRNGKeyArray:
        data = key._data
    else:
        if isinstance(key, (list, tuple)):
            key = np.asarray(key)
        shape, dt = getattr(key, "shape", None), getattr(key, "dtype", None)
        if (shape is None or dt is None or not isinstance(key, (Array, Tracer, np.ndarray))
                or isinstance(dt, KeyDType)):
            raise TypeError(
                f"jaxel.random.{name}: expected a PRNG key, got {_describe(key)}. A key is "
                "either a typed key array from jaxel.random.key(seed) or a raw uint32 array "
                "of shape (..., 2) from jaxel.random.PRNGKey(seed).")
        if np.dtype(dt) != _U32 or not shape or shape[-1] != 2:
            raise TypeError(
                f"jaxel.random.{name}: invalid PRNG key data: got {_describe(key)}, but a raw "
                "key is a uint32 array whose last axis has size 2 (as made by "
                "jaxel.random.PRNGKey(seed)); typed keys come from jaxel.random.key(seed).")
        data = key
        if isinstance(data, np.ndarray):
            data = jnp.asarray(data)
    if not allow_batched and len(data.shape) > 1:
        raise ValueError(
            f"jaxel.random.{name} accepts a single key, but was given a key array of shape "
            f"{tuple(data.shape[:-1])} != (). Use jaxel.vmap for batching.")
    return data


def _is_typed(key) -> bool:
    return type(key) is PRNGKeyArray


def _out(data, typed: bool):
    # With jax_enable_custom_prng, key-making functions return typed keys even for raw input.
    return PRNGKeyArray(data) if typed or config.jax_enable_custom_prng else data


# ---- seeding ----------------------------------------------------------------------------------
def _seed_words(seed, ctor: str):
    if isinstance(seed, PRNGKeyArray):
        raise TypeError(f"{ctor} accepts a scalar seed, but was given a PRNG key.")
    if isinstance(seed, (bool, np.bool_)):
        raise TypeError(f"{ctor}: PRNG key seed must be an integer; got {seed!r}.")
    x64 = config.jax_enable_x64
    if isinstance(seed, int):
        if x64 and not -2 ** 63 <= seed < 2 ** 63:
            raise OverflowError(f"{ctor}: seed {seed} does not fit in int64.")
        wide = x64
        hi = ((seed % 2 ** 64) >> 32) if wide else 0
        return jnp.asarray(np.array([hi, seed % 2 ** 32], _U32))
    if isinstance(seed, np.generic) and not isinstance(seed, np.ndarray):
        seed = np.asarray(seed)
    dt = getattr(seed, "dtype", None)
    if dt is None:
        raise TypeError(f"{ctor}: PRNG key seed must be an integer; got {seed!r} "
                        f"(type {type(seed).__name__}).")
    if np.ndim(seed) if not isinstance(seed, (Array, Tracer)) else len(seed.shape):
        raise TypeError(f"{ctor} accepts a scalar seed, but was given an array of shape "
                        f"{tuple(seed.shape)} != (). Use jaxel.vmap for batching.")
    dt = np.dtype(dt)
    if dt.kind not in "iu":
        raise TypeError(f"{ctor}: PRNG key seed must be an integer; got a value of dtype "
                        f"{dt.name}.")
    if isinstance(seed, np.ndarray):
        s = int(seed)
        hi = ((s % 2 ** 64) >> 32) if (x64 and dt.itemsize == 8) else 0
        return jnp.asarray(np.array([hi, s % 2 ** 32], _U32))
    return _seed_traced(seed)


def _seed_traced(seed):
    if seed.dtype.itemsize == 8:
        hi = lax.convert_element_type(lax.shift_right_logical(seed, 32), _U32)
    else:
        hi = jnp.zeros((), _U32)
    lo = lax.convert_element_type(seed, _U32)
    return lax.concatenate([lax.expand_dims(hi, (0,)), lax.expand_dims(lo, (0,))], 0)


def key(seed, *, impl=None):
    """A typed PRNG key (shape ``()``, dtype ``key<fry>``) from an integer seed.

    The key data is the 64-bit seed as two uint32 words ``(seed >> 32, seed & 0xffffffff)``
    (without x64, seeds are 32-bit and the high word is 0).
    """
    _check_impl(impl)
    data = _seed_words(seed, "key")
    key_reuse.fresh(data)
    return PRNGKeyArray(data)


def PRNGKey(seed, *, impl=None):
    """A raw (legacy) PRNG key: a ``uint32[2]`` array, accepted by every random function."""
    _check_impl(impl)
    data = _seed_words(seed, "PRNGKey")
    key_reuse.fresh(data)
    return PRNGKeyArray(data) if config.jax_enable_custom_prng else data


def key_data(keys):
    """The uint32 data of a key array, of shape ``(*keys.shape, 2)`` (raw keys pass through)."""
    if config.jax_legacy_prng_key != "allow" or config.jax_enable_custom_prng:
        key_reuse.check_legacy(keys, "key_data")
    return raw_data(keys, "key_data", allow_batched=True)


def wrap_key_data(key_bits_array, *, impl=None):
    """A typed key array over uint32 data of shape ``(..., 2)`` (the inverse of key_data)."""
    _check_impl(impl)
    if type(key_bits_array) is PRNGKeyArray:
        raise TypeError("wrap_key_data expects uint32 key data, but was given a typed key array.")
    data = raw_data(key_bits_array, "wrap_key_data", allow_batched=True)
    key_reuse.fresh(data)
    return PRNGKeyArray(data)


class PRNGImpl(str):
    """The name of a PRNG implementation (``key_impl``'s result); compares equal to its name."""


def key_impl(keys):
    """The PRNG implementation of ``keys``: always ``'threefry2x32'`` in jaxel."""
    if config.jax_legacy_prng_key != "allow" or config.jax_enable_custom_prng:
        key_reuse.check_legacy(keys, "key_impl")
    raw_data(keys, "key_impl", allow_batched=True)
    return PRNGImpl(IMPL_NAME)


def _shape_arg(num, name):
    try:
        shape = tuple(num) if isinstance(num, (tuple, list)) else (num,)
        shape = tuple(operator.index(d) for d in shape)
    except TypeError:
        raise TypeError(f"jaxel.random.{name}: num must be a non-negative integer or a tuple of "
                        f"them (a static shape); got {num!r}.") from None
    if any(d < 0 for d in shape):
        raise ValueError(f"jaxel.random.{name}: num must be non-negative; got {num!r}.")
    return shape


@key_reuse.consumes("split")
def split(key, num=2):
    """``num`` new keys (an int or a shape) from ``key``; the original should not be reused."""
    data = raw_data(key, "split")
    shape = _shape_arg(num, "split")
    return _out(threefry.split_data(data, shape), _is_typed(key))


def fold_in(key, data):
    """A new key that depends on ``key`` and the 32-bit integer ``data`` (does not consume)."""
    if config.jax_legacy_prng_key != "allow" or config.jax_enable_custom_prng:
        key_reuse.check_legacy(key, "fold_in")
    kd = raw_data(key, "fold_in")
    if isinstance(data, (bool, np.bool_)):
        raise TypeError("fold_in: data must be an integer.")
    if isinstance(data, int):
        if not -2 ** 31 <= data < 2 ** 32:
            raise OverflowError(f"fold_in: data {data} does not fit in 32 bits.")
        d = np.uint32(data % 2 ** 32)
    else:
        if np.ndim(data) if not isinstance(data, (Array, Tracer)) else len(data.shape):
            raise TypeError("fold_in accepts a scalar, but was given an array of shape "
                            f"{tuple(np.shape(data))} != (). Use jaxel.vmap for batching.")
        dt = np.dtype(data.dtype if hasattr(data, "dtype") else np.asarray(data).dtype)
        if dt.kind not in "iu":
            raise TypeError(f"fold_in: data must be an integer; got dtype {dt.name}.")
        d = data if dt == _U32 else lax.convert_element_type(jnp.asarray(data), _U32)
    return _out(threefry.fold_in_data(kd, d), _is_typed(key))


def clone(key):
    """A copy of ``key`` that may be consumed independently (matters only to the reuse check)."""
    data = raw_data(key, "clone", allow_batched=True)
    key_reuse.allow_one_more(data)
    return PRNGKeyArray(data) if _is_typed(key) else data  # raw stays raw, as in JAX
