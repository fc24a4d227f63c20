"""``jaxel.scipy.stats`` (JAX's ``jax.scipy.stats``): one module per distribution, each with
the functions JAX provides for it (``pdf``/``logpdf``/``cdf``/... with ``loc``/``scale``), and
the sample summaries ``sem``, ``rankdata`` and ``mode``."""
from jaxel.scipy.stats import (  # noqa: F401
    bernoulli, beta, betabinom, binom, cauchy, chi2, dirichlet, expon, gamma, geom, gennorm,
    gumbel_l, gumbel_r, laplace, logistic, multinomial, multivariate_normal, nbinom, norm,
    pareto, poisson, t, truncnorm, uniform, vonmises, wrapcauchy,
)
from jaxel.scipy.stats._summaries import sem, rankdata, mode, ModeResult  # noqa: F401
from jaxel.scipy.stats.gaussian_kde import gaussian_kde  # noqa: F401
