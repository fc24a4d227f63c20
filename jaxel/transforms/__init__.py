"""Transformations of functions and jaxprs: JVP, partial evaluation, linearize, transpose."""
