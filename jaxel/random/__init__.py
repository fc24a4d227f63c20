"""``jaxel.random``: JAX's counter-based PRNG API with JAX's exact Threefry streams.

Keys are explicit values: ``key(seed)`` (typed, ``dtype key<fry>``) or ``PRNGKey(seed)`` (raw
``uint32[2]``); ``split`` and ``fold_in`` derive new keys, and every sampler takes a key first.
Modules: ``threefry`` (the hash, counters, raw key ops), ``keys`` (key arrays), ``samplers``,
``distributions`` and ``more_distributions`` (the draws), ``key_reuse`` (the opt-in
``jax_debug_key_reuse`` check).
"""
from jaxel.random.keys import (  # noqa: F401
    PRNGKeyArray, key, PRNGKey, key_data, wrap_key_data, split, fold_in, clone, key_impl,
    key_dtype, Key,
)
from jaxel.random.key_reuse import KeyReuseError  # noqa: F401
from jaxel.random.gamma_primitive import random_gamma_p  # noqa: F401
from jaxel.random.samplers import (  # noqa: F401
    bits, uniform, normal, randint, permutation, choice, gumbel, categorical, bernoulli,
    truncated_normal, exponential, laplace, logistic, cauchy, rademacher, geometric,
)
from jaxel.random.distributions import (  # noqa: F401
    gamma, loggamma, beta, dirichlet, chisquare, t, poisson, binomial, multivariate_normal,
    orthogonal, ball,
)
from jaxel.random.more_distributions import (  # noqa: F401
    rayleigh, weibull_min, triangular, pareto, lognormal, maxwell, double_sided_maxwell, wald,
    generalized_normal, f, multinomial,
)
