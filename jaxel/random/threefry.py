"""Threefry-2x32 (20 rounds) written as uint32 lax operations, and the raw key operations built
on it: seeding, counters, ``split``, ``fold_in`` and ``random_bits``.

Everything here works on *raw key data*: uint32 arrays whose last axis (size 2) holds the two
key words. The typed key layer (``keys.py``) and the samplers call these. The hash is a plain
composition of ``add``/``xor``/shifts, so a million-element draw is one fused XLA computation,
and JVP (integers: symbolic zeros) and batching rules come from the lax primitives for free.

Stream layout: JAX's *partitionable* Threefry (its default since 0.5.0; the original layout is
used with ``jax_threefry_partitionable=False``), see
``shared/design/compat.md`` section "Random numbers".
"""
from __future__ import annotations

import math

import numpy as np

from jaxel import lax
from jaxel import numpy as jnp
from jaxel.api import jit
from jaxel.config import config

_U32 = np.dtype(np.uint32)
_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
_PARITY = 0x1BD11BDA


def _rotl(x, r: int):
    return lax.bitwise_or(lax.shift_left(x, r), lax.shift_right_logical(x, 32 - r))


def threefry2x32(k0, k1, x0, x1):
    """Threefry-2x32 of the counter pair ``(x0, x1)`` under key ``(k0, k1)``.

    All four are uint32; ``k0``/``k1`` may be rank 0 next to arrays ``x0``/``x1`` of one shape.
    Returns the pair of uint32 arrays.
    """
    ks = (k0, k1, lax.bitwise_xor(lax.bitwise_xor(k0, k1), _PARITY))
    x0 = lax.add(x0, ks[0])
    x1 = lax.add(x1, ks[1])
    for g in range(1, 6):
        for r in _ROTATIONS[(g - 1) % 2]:
            x0 = lax.add(x0, x1)
            x1 = lax.bitwise_xor(_rotl(x1, r), x0)
        x0 = lax.add(x0, ks[g % 3])
        x1 = lax.add(x1, lax.add(ks[(g + 1) % 3], g))
    return x0, x1


def threefry2x32_rolled(k0, k1, x0, x1):
    """``threefry2x32`` with its five groups of four rounds as a ``fori_loop`` (the key schedule
    and the rotation table rotate through the carry), which is how JAX lowers the hash on CPU.

    Same values as ``threefry2x32``; the loop is a fusion boundary for XLA, so float code fed by
    these bits compiles like JAX's (this matters for reductions, whose accumulation order XLA
    picks per fusion).
    """
    ks = (k0, k1, lax.bitwise_xor(lax.bitwise_xor(k0, k1), _PARITY))
    x0 = lax.add(x0, ks[0])
    x1 = lax.add(x1, ks[1])
    rot = np.array(_ROTATIONS, _U32)

    def group(g, carry):
        x0, x1, ka, kb, kc, r_now, r_next = carry
        for j in range(4):
            r = r_now[j]
            x0 = lax.add(x0, x1)
            x1 = lax.bitwise_xor(lax.bitwise_or(lax.shift_left(x1, r),
                                                lax.shift_right_logical(x1, 32 - r)), x0)
        x0 = lax.add(x0, kb)
        x1 = lax.add(x1, lax.add(kc, lax.convert_element_type(g + 1, _U32)))
        return x0, x1, kb, kc, ka, r_next, r_now

    out = lax.fori_loop(0, 5, group, (x0, x1, *ks, jnp.asarray(rot[0]), jnp.asarray(rot[1])))
    return out[0], out[1]


def counters(shape):
    """``(hi, lo)``: the high and low 32-bit words of each element's flat (row-major) index,
    as two uint32 arrays of ``shape``."""
    shape = tuple(shape)
    n = math.prod(shape)
    if n == 0 or not shape:
        z = jnp.zeros(shape, _U32)
        return z, z
    if n <= 2 ** 32:
        lo = lax.iota(_U32, n)
        if len(shape) > 1:
            lo = lax.reshape(lo, shape)
        return jnp.zeros(shape, _U32), lo
    return _wide_counters(shape)


def _wide_counters(shape):
    # More than 2**32 elements: flat index = outer * inner + j, with the row-major split chosen
    # so both factors fit in 32 bits; the 64-bit product and sum are done in 16-bit limbs.
    inner, cut = 1, len(shape)
    while cut > 0 and inner * shape[cut - 1] < 2 ** 32:
        cut -= 1
        inner *= shape[cut]
    outer_n = math.prod(shape[:cut])
    if outer_n >= 2 ** 32 or cut == len(shape):
        raise NotImplementedError(f"random bits for shape {shape}: no axis split fits 32-bit counters")
    o = lax.broadcasted_iota(_U32, (outer_n, inner), 0)
    j = lax.broadcasted_iota(_U32, (outer_n, inner), 1)
    c_lo, c_hi = inner & 0xFFFF, inner >> 16
    o_lo = lax.bitwise_and(o, 0xFFFF)
    o_hi = lax.shift_right_logical(o, 16)
    # o * c = o_hi*c_hi*2^32 + (o_hi*c_lo + o_lo*c_hi)*2^16 + o_lo*c_lo  (each partial < 2^32)
    p0 = lax.mul(o_lo, c_lo)
    m1 = lax.mul(o_hi, c_lo)
    m2 = lax.mul(o_lo, c_hi)
    hi = lax.mul(o_hi, c_hi)

    def add64(hi, lo, v):
        s = lax.add(lo, v)
        carry = lax.convert_element_type(lax.lt(s, lo), _U32)
        return lax.add(hi, carry), s

    for m in (m1, m2):
        hi = lax.add(hi, lax.shift_right_logical(m, 16))
        hi, p0 = add64(hi, p0, lax.shift_left(m, 16))
    hi, lo = add64(hi, p0, j)
    return lax.reshape(hi, shape), lax.reshape(lo, shape)


def _split_words(data):
    """The two key words of raw key data ``(..., 2)`` (rank 0 for a single key)."""
    k0 = lax.squeeze(lax.slice_in_dim(data, 0, 1, axis=data.ndim - 1), (data.ndim - 1,))
    k1 = lax.squeeze(lax.slice_in_dim(data, 1, 2, axis=data.ndim - 1), (data.ndim - 1,))
    return k0, k1


def _hash_counters(data, shape, rolled=False):
    k0, k1 = _split_words(data)
    hi, lo = counters(shape)
    return (threefry2x32_rolled if rolled else threefry2x32)(k0, k1, hi, lo)


# ---- JAX's original (non-partitionable) streams: jax_threefry_partitionable=False ----------
def _hash_iota(data, n: int):
    """JAX's ``threefry_2x32(key, iota(n))``: the counters' first half as the first words,
    the second half (zero-padded to even length) as the second; both outputs concatenated."""
    k0, k1 = _split_words(data)
    half = (n + 1) // 2
    x0 = lax.iota(_U32, half)
    x1 = lax.add(x0, np.uint32(half))
    if n % 2:  # the last counter of the second half is the padding zero
        x1 = lax.concatenate([lax.slice_in_dim(x1, 0, half - 1), jnp.zeros((1,), _U32)], 0)
    b0, b1 = threefry2x32(k0, k1, x0, x1)
    return lax.slice_in_dim(lax.concatenate([b0, b1], 0), 0, n)


def _split_original(data, shape):
    n = math.prod(shape)
    return lax.reshape(_hash_iota(data, 2 * n), (*shape, 2))


def _random_bits_original(data, bit_width: int, shape):
    size = math.prod(shape)
    max_count = -(-bit_width * size // 32)
    if max_count >= 2 ** 32 - 1:
        raise NotImplementedError("jax_threefry_partitionable=False draws of 2**32 words or more "
                                  "are not implemented in jaxel.")
    bits = _hash_iota(data, max_count)
    dt = _UINT[bit_width]
    if bit_width == 64:
        hi = lax.convert_element_type(lax.slice_in_dim(bits, 0, max_count // 2), dt)
        lo = lax.convert_element_type(lax.slice_in_dim(bits, max_count // 2, max_count), dt)
        bits = lax.bitwise_or(lax.shift_left(hi, np.uint64(32)), lo)
    elif bit_width in (8, 16):
        # Each 32-bit word gives 32 // bit_width values, lowest bits first.
        per = 32 // bit_width
        shifts = lax.mul(np.uint32(bit_width), lax.iota(_U32, per))
        parts = lax.shift_right_logical(lax.broadcast_in_dim(bits, (max_count, per), (0,)),
                                        lax.broadcast_in_dim(shifts, (max_count, per), (1,)))
        parts = lax.bitwise_and(parts, np.uint32(np.iinfo(dt).max))
        bits = lax.convert_element_type(lax.reshape(parts, (max_count * per,)), dt)
        bits = lax.slice_in_dim(bits, 0, size)
    return lax.reshape(bits, tuple(shape))


@jit(static_argnums=(1,))
def split_data(data, shape):
    """Raw data of ``split(key, shape)``: element i is the hash of counter i, both words kept."""
    if not config.jax_threefry_partitionable:
        return _split_original(data, shape)
    b0, b1 = _hash_counters(data, shape)
    n = len(shape)
    return lax.concatenate([lax.expand_dims(b0, (n,)), lax.expand_dims(b1, (n,))], n)


@jit
def fold_in_data(data, d):
    """Raw data of ``fold_in(key, d)`` for a uint32 scalar ``d``: the hash of ``(0, d)``."""
    k0, k1 = _split_words(data)
    b0, b1 = threefry2x32(k0, k1, jnp.zeros((), _U32), d)
    return lax.concatenate([lax.expand_dims(b0, (0,)), lax.expand_dims(b1, (0,))], 0)


_UINT = {8: np.dtype(np.uint8), 16: np.dtype(np.uint16), 32: _U32, 64: np.dtype(np.uint64)}


def random_bits(data, bit_width: int, shape, rolled: bool = False):
    """``bit_width``-bit unsigned random integers of ``shape`` from one raw key (traceable);
    ``rolled`` hashes with ``threefry2x32_rolled`` (same bits, JAX's fusion boundary)."""
    if not config.jax_threefry_partitionable:
        return _random_bits_original(data, bit_width, tuple(shape))
    b0, b1 = _hash_counters(data, shape, rolled)
    if bit_width == 64:
        u64 = _UINT[64]
        hi = lax.convert_element_type(b0, u64)
        return lax.bitwise_or(lax.shift_left(hi, 32), lax.convert_element_type(b1, u64))
    x = lax.bitwise_xor(b0, b1)
    return x if bit_width == 32 else lax.convert_element_type(x, _UINT[bit_width])


bits_data = jit(random_bits, static_argnums=(1, 2))
