"""``jaxel.scipy.cluster.vq`` (JAX's ``jax.scipy.cluster.vq``): ``vq``, assignment of
observations to their nearest code-book entry.

All ``M x K`` squared Euclidean distances are formed from the differences (not the
``|a|^2 - 2ab + |b|^2`` expansion, which loses accuracy for nearby points), the nearest code
is their ``argmin`` (ties go to the first code, as SciPy) and its distance is returned.
"""
from __future__ import annotations

from jaxel import numpy as jnp
from jaxel.numpy._util import check_arraylike, promote_dtypes_inexact

__all__ = ["vq"]


def vq(obs, code_book, check_finite: bool = True):
    """Assign each observation to its nearest code, as ``scipy.cluster.vq.vq``.

    Args:
      obs: observations, shape ``(M, N)``; a 1-D array is ``M`` observations of length 1.
      code_book: codes, shape ``(K, N)`` (or 1-D, ``K`` codes of length 1).
      check_finite: accepted for compatibility and not used (as in JAX: the check would
        need the data on the host); non-finite observations give a NaN distance.

    Returns:
      ``(code, dist)``: int32 indices ``(M,)`` of the nearest codes and the Euclidean
      distances ``(M,)`` to them.
    """
    check_arraylike("scipy.cluster.vq.vq", obs, code_book)
    obs, code_book = promote_dtypes_inexact(jnp.asarray(obs), jnp.asarray(code_book))
    if obs.ndim not in (1, 2) or code_book.ndim not in (1, 2):
        raise ValueError("vq: obs and code_book must be 1- or 2-dimensional; got shapes "
                         f"{obs.shape} and {code_book.shape}.")
    if obs.ndim != code_book.ndim:
        raise ValueError("vq: observation and code_book should have the same rank; got shapes "
                         f"{obs.shape} and {code_book.shape}.")
    if obs.ndim == 1:
        obs, code_book = obs[:, None], code_book[:, None]
    if obs.shape[1] != code_book.shape[1]:
        raise ValueError("vq: obs and code_book must have the same number of features "
                         f"(columns); got shapes {obs.shape} and {code_book.shape}.")
    if code_book.shape[0] == 0:
        raise ValueError("vq: code_book must contain at least one code.")
    diff = obs[:, None, :] - code_book[None, :, :]
    sq = jnp.sum(jnp.real(diff * jnp.conj(diff)), axis=-1)
    code = jnp.argmin(sq, axis=1).astype(jnp.int32)
    best = jnp.take_along_axis(sq, code[:, None], axis=1)[:, 0]
    return code, jnp.sqrt(best)
