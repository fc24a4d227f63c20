"""The chi-squared distribution (``jax.scipy.stats.chi2``): gamma with shape ``df / 2`` and
scale ``2 * scale``."""
from __future__ import annotations

from jaxel.scipy.stats import gamma as _gamma
from jaxel.scipy.stats._util import _promote


def _args(x, df, loc, scale):
    x, df, loc, scale = _promote(x, df, loc, scale)
    return x, 0.5 * df, loc, 2.0 * scale


def logpdf(x, df, loc=0, scale=1):
    return _gamma.logpdf(*_args(x, df, loc, scale))


def pdf(x, df, loc=0, scale=1):
    return _gamma.pdf(*_args(x, df, loc, scale))


def cdf(x, df, loc=0, scale=1):
    return _gamma.cdf(*_args(x, df, loc, scale))


def logcdf(x, df, loc=0, scale=1):
    return _gamma.logcdf(*_args(x, df, loc, scale))


def sf(x, df, loc=0, scale=1):
    return _gamma.sf(*_args(x, df, loc, scale))


def logsf(x, df, loc=0, scale=1):
    return _gamma.logsf(*_args(x, df, loc, scale))
