"""``jaxel.Array``: an immutable array living on a device, or laid out over several.

An Array wraps one runtime buffer and its interned aval. It is created on the dispatch path for
every result, so construction is two slot stores; everything else (the NumPy copy, devices) is
computed on demand.

``_device`` is the array's *placement*: ``None`` for an uncommitted array on the default device,
a Device for an array committed to one device, or a jaxel ``Sharding`` for an array laid out
over devices (its ``_buf`` is then one runtime array spanning them; see runtime/sharded.py).
Hot paths test ``_device is None`` only, so every placed array takes the general paths.
"""
from __future__ import annotations

import numpy as np

from jaxel import _operators
from jaxel import dtypes as _dtypes
from jaxel.tracing.avals import ShapedArray


class _ArrayMeta(type):
    """Makes ``isinstance(x, jaxel.Array)`` true for traced arrays and typed PRNG key arrays
    too, as JAX users expect. Internal hot paths test ``type(x) is Array`` (concrete arrays
    only)."""

    def __instancecheck__(cls, obj):
        return type.__instancecheck__(cls, obj) or (
            cls is Array and isinstance(obj, _virtual_classes or _tracer_class()))

    def __subclasscheck__(cls, sub):
        # typing.Union checks (jaxel.typing.ArrayLike) go through issubclass(type(x), Array).
        return type.__subclasscheck__(cls, sub) or (
            cls is Array and issubclass(sub, _virtual_classes or _tracer_class()))


_virtual_classes: tuple = ()  # tracers, and typed PRNG key arrays (random/keys.py registers)


def register_virtual_array(cls) -> None:
    """Make ``isinstance(x, Array)`` true for instances of ``cls`` (as JAX's key arrays are
    ``jax.Array`` instances) without making ``cls`` a subclass of Array."""
    global _virtual_classes
    _virtual_classes = (*_tracer_class(), cls)


def _tracer_class() -> tuple:
    global _virtual_classes
    if not _virtual_classes:  # imported lazily (import cycle), once
        from jaxel.tracing.core import Tracer
        _virtual_classes = (Tracer,)
    return _virtual_classes


def _rows(value, weak_type, device):
    from jaxel import guards
    from jaxel.runtime.transfer import device_put_value
    for row in value:
        with guards.quiet():
            arr = device_put_value(row, weak_type, device)
        yield arr


class Array(_operators.ArrayOperators, metaclass=_ArrayMeta):
    """A jaxel array: ``shape``, ``dtype``, ``weak_type``, NumPy conversion and all operators.

    Arrays are immutable; ``x.at[i].set(v)`` returns an updated copy.

    Example::

        >>> x = jaxel.numpy.arange(3.0)
        >>> x
        Array([0., 1., 2.], dtype=float32)
    """

    __slots__ = ("_buf", "aval", "_device", "_npy", "__weakref__")
    __array_priority__ = 100

    def __init__(self, buf, aval: ShapedArray, device=None):
        self._buf = buf
        self.aval = aval
        self._device = device
        self._npy = None

    # ---- metadata -------------------------------------------------------------------------
    shape = property(lambda self: self.aval.shape, doc="The array's shape (a tuple).")
    dtype = property(lambda self: self.aval.dtype, doc="The array's NumPy dtype.")
    ndim = property(lambda self: self.aval.ndim, doc="Number of dimensions.")
    size = property(lambda self: self.aval.size, doc="Number of elements.")
    weak_type = property(lambda self: self.aval.weak_type,
                         doc="True if the value came from a Python scalar (adopts other dtypes).")

    @property
    def itemsize(self) -> int:
        return self.aval.dtype.itemsize

    @property
    def nbytes(self) -> int:
        return self.aval.size * self.aval.dtype.itemsize

    # ---- host transfer --------------------------------------------------------------------
    def _value(self) -> np.ndarray:
        """The array's value as a read-only NumPy array (copied from the device once)."""
        v = self._npy
        if v is None:
            self._check_alive()
            from jaxel.runtime.transfer import host_value
            v = host_value(self)
            if v.flags.writeable:
                v.flags.writeable = False
            self._npy = v
        return v

    def _check_alive(self):
        if self._buf.is_deleted():
            raise RuntimeError(f"Array has been deleted with shape={self.aval.str_short()} "
                               "(explicitly, or its buffer was donated to a jitted computation "
                               "with donate_argnums).")

    def __array__(self, dtype=None, copy=None):
        v = self._value()
        if dtype is not None and np.dtype(dtype) != v.dtype:
            return v.astype(dtype)
        if copy:
            return v.copy()
        return v

    def block_until_ready(self) -> "Array":
        """Wait until the value is computed; returns ``self``."""
        self._check_alive()
        self._buf.block_until_ready()
        return self

    def copy_to_host_async(self):
        """Start copying the value to the host (the next NumPy conversion is then fast)."""
        from jaxel.runtime.xla import copy_to_host_async
        self._check_alive()
        if self._one_device() is None and self._device is not None:
            return  # an array over several devices: copied when read
        copy_to_host_async(self._buf, self.device.platform)

    def item(self, *args):
        """The value of a one-element array (or of element ``args``) as a Python scalar."""
        return self._value().item(*args)

    def tolist(self):
        """The value as nested Python lists."""
        return self._value().tolist()

    def __len__(self):
        if not self.aval.shape:
            raise TypeError("len() of unsized object")
        return self.aval.shape[0]

    def __iter__(self):
        if not self.aval.shape:
            raise TypeError("iteration over a 0-d array")
        # One transfer and device arrays per row (slicing on device would dispatch n ops).
        # JAX slices on the device, so iterating moves nothing: the guards stay quiet.
        from jaxel import guards
        with guards.quiet():
            value = self._value()
        return _rows(value, self.aval.weak_type, self._one_device())

    def _one_device(self):
        """The committed device of a single-device array; None if uncommitted or sharded."""
        d = self._device
        return d if d is None or hasattr(d, "platform") else None

    def _scalar(self, convert, what):
        if self.aval.size != 1:
            raise TypeError(f"Only length-1 arrays can be converted to Python scalars with "
                            f"{what}(); got an array of shape {self.aval.shape}.")
        return convert(self._value().reshape(()).item() if what != "complex" else
                       self._value().reshape(()))

    def __bool__(self):
        if self.aval.size != 1:
            from jaxel.errors import _AmbiguousTruthValueError
            what = "an empty array" if self.aval.size == 0 else \
                f"an array of shape {self.aval.shape} (more than one element)"
            raise _AmbiguousTruthValueError(
                f"The truth value of {what} is ambiguous: use a.any() or a.all() (or "
                "a.size > 0 to test for emptiness).")
        return self._scalar(bool, "bool")

    def __int__(self):
        return self._scalar(int, "int")

    def __float__(self):
        return self._scalar(float, "float")

    def __complex__(self):
        return self._scalar(complex, "complex")

    def __index__(self):
        if not _dtypes.is_integer(self.aval.dtype) and self.aval.dtype != np.bool_:
            raise TypeError(f"Only integer arrays can be used as an index; got dtype "
                            f"{self.aval.dtype}.")
        return self._scalar(int, "index")

    def _readable(self) -> bool:
        """False for an array whose blocks are partly on other processes' devices only."""
        placement = self._device
        if placement is None or hasattr(placement, "platform") or \
                placement.is_fully_addressable:
            return True
        from jaxel.runtime.sharded import has_every_block
        return has_every_block(placement, self.aval.shape)

    def __format__(self, spec):
        if not self._readable():
            return repr(self)
        if self.aval.ndim == 0:
            return format(self._value().item(), spec)
        return format(self._value(), spec)

    def __repr__(self):
        if self._buf.is_deleted():
            return f"Array(<deleted>, shape={self.aval.shape}, dtype={self.aval.dtype.name})"
        weak = ", weak_type=True" if self.aval.weak_type else ""
        dtype_name = self.aval.dtype.name
        if not self._readable():  # as JAX: other processes hold part of the value
            return f"Array(shape={self.aval.shape}, dtype={dtype_name}{weak})"
        value = self._value()
        if value.size == 0 and value.ndim > 0:
            return f"Array([], shape={value.shape}, dtype={dtype_name}{weak})"
        body = np.array2string(value, separator=", ", prefix="Array(")
        return f"Array({body}, dtype={dtype_name}{weak})"

    def __str__(self):
        return str(self._value()) if self._readable() else repr(self)

    # ---- devices and lifetime -------------------------------------------------------------
    def devices(self) -> set:
        """The set of devices the array lives on."""
        return self.sharding.device_set

    def to_device(self, device, /, *, stream=None):
        """The array on ``device`` (Array API): itself if it is already there, else a copy."""
        if stream is not None:
            raise NotImplementedError("Array.to_device: stream= is not supported.")
        from jaxel.device import device_put
        return device_put(self, device)

    @property
    def device(self):
        """The device holding the array (for an array over several devices: its sharding)."""
        d = self._device
        if d is None:
            return self._buf._sharding._device
        if hasattr(d, "platform"):
            return d
        da = d._device_assignment
        return da[0] if len(da) == 1 else d

    @property
    def sharding(self):
        """How the array is laid out: a SingleDeviceSharding, or the NamedSharding (or other
        jaxel Sharding) of an array over several devices."""
        d = self._device
        if d is None or hasattr(d, "platform"):
            from jaxel.sharding.shardings import single_device_sharding
            return single_device_sharding(self.device)
        return d

    @property
    def committed(self) -> bool:
        """True if the array was explicitly placed on a device (or laid out over several)."""
        return self._device is not None

    @property
    def is_fully_addressable(self) -> bool:
        """True when this process holds every block of the array."""
        return self.sharding.is_fully_addressable

    @property
    def is_fully_replicated(self) -> bool:
        """True when every device holds the whole array."""
        return self.sharding.is_fully_replicated_for(self.aval.ndim)

    @property
    def addressable_shards(self) -> list:
        """This process's blocks of the array: ``Shard`` objects with ``device``, ``index``,
        ``replica_id`` and ``data``."""
        from jaxel.runtime.sharded import shards
        return shards(self)

    @property
    def global_shards(self) -> list:
        """Every block of the array (those of other processes have no ``data``)."""
        from jaxel.runtime.sharded import Shard
        mine = {s.device: s for s in self.addressable_shards}
        sharding = self.sharding
        index = sharding.devices_indices_map(self.aval.shape)
        replica = sharding._replica_ids(self.aval.shape)
        return [mine.get(d) or Shard(d, index[d], replica[d], None)
                for d in sharding._device_assignment]

    def addressable_data(self, index: int) -> "Array":
        """The block held by this process's ``index``-th device."""
        return self.addressable_shards[index].data

    def delete(self):
        """Free the device memory now; the array can't be used afterwards."""
        self._buf.delete()
        self._npy = None

    def is_deleted(self) -> bool:
        """True after ``delete()`` or donation."""
        return self._buf.is_deleted()

    def on_device_size_in_bytes(self) -> int:
        return self._buf.on_device_size_in_bytes()

    def unsafe_buffer_pointer(self) -> int:
        return self._buf.unsafe_buffer_pointer()

    def copy(self) -> "Array":
        """A new array with the same value and placement (fresh device buffers)."""
        from jaxel import guards
        from jaxel.runtime.transfer import device_put_value
        with guards.quiet():  # a copy in place (made through host memory): moves nothing
            if self._device is not None and self._one_device() is None:
                from jaxel.runtime.sharded import put_global
                return put_global(np.array(self._value()), self._device, self.aval.weak_type)
            return device_put_value(np.array(self._value()), self.aval.weak_type,
                                    self._device)

    def __copy__(self):
        return self.copy()

    def __deepcopy__(self, memo):
        return self.copy()

    # ---- interop -------------------------------------------------------------------------
    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        """Export as a DLPack capsule (zero-copy where the runtime allows)."""
        from jaxel.runtime.transfer import to_dlpack
        return to_dlpack(self, stream=stream, max_version=max_version, copy=copy)

    def __dlpack_device__(self):
        from jaxel.runtime.transfer import dlpack_device
        return dlpack_device(self)

    def __reduce__(self):
        from jaxel.runtime.transfer import _unpickle_array
        return (_unpickle_array, (np.array(self._value()), self.aval.weak_type))

    def __hash__(self):
        raise TypeError("unhashable type: 'jaxel.Array' (arrays are mutable-looking values; "
                        "use a tuple of Python scalars, or x.item(), as a key)")
