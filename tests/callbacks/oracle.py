"""Run the same program in jaxel and in JAX 0.12.1 (``api`` = the module pair) and capture what
each prints, so tests compare printed lines."""
import jax
import jax.numpy as jjnp
from jax.experimental import io_callback as jax_io_callback

import jaxel
from jaxel import numpy as jnp
from jaxel.experimental import io_callback

JAXEL = dict(jit=jaxel.jit, vmap=jaxel.vmap, grad=jaxel.grad, lax=jaxel.lax, np=jnp,
             debug=jaxel.debug, pure_callback=jaxel.pure_callback, io_callback=io_callback,
             S=jaxel.ShapeDtypeStruct, custom_vjp=jaxel.custom_vjp)
JAX = dict(jit=jax.jit, vmap=jax.vmap, grad=jax.grad, lax=jax.lax, np=jjnp, debug=jax.debug,
           pure_callback=jax.pure_callback, io_callback=jax_io_callback, S=jax.ShapeDtypeStruct,
           custom_vjp=jax.custom_vjp)


def printed(capsys, run):
    """``run(api)`` for jaxel then JAX: ``(jaxel lines, jax lines, jaxel result, jax result)``."""
    capsys.readouterr()
    ours = run(JAXEL)
    ours_out = capsys.readouterr().out.splitlines()
    theirs = run(JAX)
    theirs_out = capsys.readouterr().out.splitlines()
    return ours_out, theirs_out, ours, theirs
