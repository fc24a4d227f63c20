"""``random_gamma_p``: Gamma(a, 1) sampling as a primitive, as in JAX.

``random_gamma_p.bind(key_data, a, log_space=False)`` draws one Gamma(``a``, 1) value per
element of ``a``. ``key_data`` is the raw ``uint32`` data (trailing dimension 2) of a key array
whose shape is a leading part of ``a``'s: as in JAX, each key is split into as many keys as it
has elements of ``a`` to draw (a single key for the whole array is the common case; JAX binds
typed keys, jaxel's typed keys carry this data). ``log_space=True`` returns the log of the draw, computed without underflow for small
``a``. The primitive lowers to the vectorised Marsaglia-Tsang sampler of
``jaxel.random.distributions`` (so draws are JAX's stream), and gives the samplers what a loop
cannot: a derivative in ``a``, by implicit differentiation of the CDF
(``lax.random_gamma_grad``). ``jaxel.random.gamma``, ``loggamma``, ``beta``, ``dirichlet``...
all draw through it.
"""
from __future__ import annotations

import functools
import math

import numpy as np

from jaxel import lax
from jaxel.lax._composite import lower_via
from jaxel.lax._rules import FLOAT, check_kinds
from jaxel.lax.elementwise import _filled
from jaxel.tracing.avals import ShapedArray
from jaxel.tracing.core import Primitive
from jaxel.transforms import ad_util as _ad
from jaxel.transforms import batching as _batching

__all__ = ["random_gamma_p"]

random_gamma_p = Primitive("random_gamma")


def _abstract_eval(keys, a, *, log_space):
    check_kinds("random_gamma", a, FLOAT, "shape parameter a")
    k = keys.shape[:-1]
    if (keys.dtype != np.dtype(np.uint32) or not keys.shape or keys.shape[-1] != 2
            or a.shape[:len(k)] != k):
        raise TypeError("random_gamma_p takes raw uint32 key data of shape S + (2,) where S "
                        f"is a leading part of a's shape {a.shape}, got "
                        f"{keys.dtype.name}{list(keys.shape)}.")
    return ShapedArray(a.shape, a.dtype, False)


def _sample(keys, a, *, log_space):
    from jaxel.batching import vmap
    from jaxel.random.distributions import _gamma_one
    from jaxel.random.threefry import split_data
    shape = a.aval.shape
    n = math.prod(shape)
    if n == 0:
        return a
    n_keys = math.prod(keys.aval.shape[:-1])
    count = n // n_keys  # draws per key
    subkeys = vmap(lambda d: split_data(d, (count,)))(lax.reshape(keys, (n_keys, 2)))
    flat = vmap(functools.partial(_gamma_one, log_space=log_space))(
        lax.reshape(subkeys, (n, 2)), lax.reshape(a, (n,)))
    return lax.reshape(flat, shape)


def _jvp(primals, tangents, *, log_space):
    keys, a = primals
    ta = tangents[1]
    out = random_gamma_p.bind(keys, a, log_space=log_space)
    if type(ta) is _ad.Zero:
        return out, _ad.zero_like(out)
    if log_space:
        # d log x = dx / x; exp(log x) can round to 0 for tiny a: use the smallest normal.
        x = lax.exp(out)
        tiny = _filled(x, float(np.finfo(np.dtype(x.dtype)).tiny))
        x = lax.select(lax.eq(x, _filled(x, 0)), tiny, x)
        grad = lax.div(lax.random_gamma_grad(a, x), x)
    else:
        grad = lax.random_gamma_grad(a, out)
    return out, lax.mul(_ad.instantiate(ta), grad)


def _batch(args, dims, *, log_space):
    size = _batching.batch_size_of(args, dims)
    keys, a = (_batching.bdim_at_front(x, d, size) for x, d in zip(args, dims))
    return random_gamma_p.bind(keys, a, log_space=log_space), 0


random_gamma_p.abstract_eval = _abstract_eval
random_gamma_p.lowering = lower_via(_sample, broadcast=False)
random_gamma_p.jvp = _jvp
random_gamma_p.batch = _batch
