"""Ordering tokens: ``create_token`` and ``after_all``.

XLA orders side-effecting operations (infeed, outfeed, ...) by threading tokens through them.
jaxel has no such operations, so a token carries no data: it is an empty ``bool[0]`` value in
traced programs, wrapped in a ``Token`` object for users. ``Token`` is a pytree node holding
that value, so tokens pass through ``jit`` and come back as tokens.
"""
from __future__ import annotations

import numpy as np

from jaxel import tree_util
from jaxel.tracing.avals import ShapedArray
from jaxel.tracing.core import Primitive
from jaxel.transforms import ad_util as _ad

_TOKEN_AVAL = ShapedArray((0,), np.dtype(bool), False)

create_token_p = Primitive("create_token")
after_all_p = Primitive("after_all")


class Token:
    """An ordering token (``jax.core.Token``): no data, only a place in an ordering."""

    __slots__ = ("_value",)

    def __init__(self, value):
        self._value = value

    def __repr__(self):
        return "Token()"


tree_util.register_pytree_node(Token, lambda t: ((t._value,), None),
                               lambda _, children: Token(children[0]))


def _token_value(ctx):
    return ctx.e.constant(np.zeros((0,), bool), _TOKEN_AVAL)


create_token_p.abstract_eval = lambda: _TOKEN_AVAL
create_token_p.lowering = lambda ctx: _token_value(ctx)
create_token_p.batch = lambda args, dims: (create_token_p.bind(), None)  # no operands to map
_ad.defjvp_zero(create_token_p)


def _after_all_abstract_eval(*tokens):
    for t in tokens:
        if t != _TOKEN_AVAL:
            raise TypeError("Arguments to after_all must be tokens")
    return _TOKEN_AVAL


after_all_p.abstract_eval = _after_all_abstract_eval
after_all_p.lowering = lambda ctx, *tokens: _token_value(ctx)
after_all_p.batch = lambda args, dims: (after_all_p.bind(), None)
_ad.defjvp_zero(after_all_p)


def create_token(_=None):
    """A new ordering token (the argument is ignored, as in JAX).

    Example::

        >>> lax.create_token()
        Token()
    """
    return Token(create_token_p.bind())


def after_all(*operands):
    """A token ordered after all the given tokens (TypeError for anything but tokens).

    Example::

        >>> lax.after_all(lax.create_token(), lax.create_token())
        Token()
    """
    for t in operands:
        if not isinstance(t, Token):
            raise TypeError("Arguments to after_all must be tokens")
    return Token(after_all_p.bind(*[t._value for t in operands]))


__all__ = ["create_token", "create_token_p", "after_all", "after_all_p"]
