"""Participant-level samplers built on the counter-based generator.

Each sampler takes the participant's key, a stream and draws the uniforms it needs at
``month = 0, 1, 2, ...`` of that stream (the "month" field is used as an attempt counter
here), so a participant's frailty never shares a random number with anything else.

Algorithms (exact, not approximations):

- normal: Box-Muller with two uniforms;
- gamma: Marsaglia & Tsang (2000), with the boost ``Gamma(k) = Gamma(k + 1) U**(1/k)`` for
  shape k < 1;
- beta: X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b) on separate attempt counters;
- uniform, triangular: inverse CDF; PERT: a scaled beta.
"""

from __future__ import annotations

import math

import numpy as np

from sibsim.engine._numba import jit
from sibsim.engine.rng import uniform_at
from sibsim.scenario import CONSTANT_CODE, FAMILY_CODES

# The distribution codes are declared with the families in ``sibsim.scenario``.
CONSTANT = CONSTANT_CODE
NORMAL, LOGNORMAL, GAMMA, BETA, UNIFORM, TRIANGULAR, PERT = (
    FAMILY_CODES[name]
    for name in ("normal", "lognormal", "gamma", "beta", "uniform", "triangular", "pert")
)

LARGE_SHAPE = 1e8

# Attempt counters are spaced so that the samplers used inside beta and pert never overlap.
_BETA_SECOND_GAMMA = 1 << 20

#: The first attempt counter, typed: a literal 0 would make numba compile each sampler a
#: second time, for the literal argument.
_FIRST = np.int64(0)


@jit
def standard_normal(key, stream, counter):
    """N(0, 1) from the uniforms at ``counter`` and ``counter + 1`` (Box-Muller)."""
    u1 = uniform_at(key, counter, stream)
    u2 = uniform_at(key, counter + 1, stream)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@jit
def standard_gamma(key, stream, counter, shape):
    """Gamma(shape, scale 1) by Marsaglia-Tsang; uses counters from ``counter`` upwards.

    Above a shape of 1e8 (a frailty variance below 1e-8) the acceptance test loses its
    precision to cancellation, so the normal limit N(shape, shape) is used instead: its
    skewness, 2 / sqrt(shape), is below 2e-4 there.
    """
    if shape > LARGE_SHAPE:
        return max(shape + math.sqrt(shape) * standard_normal(key, stream, counter), 0.0)
    boost = 1.0
    k = shape
    if shape < 1.0:
        # Gamma(k) = Gamma(k + 1) * U**(1/k); the boost uniform comes first.
        boost = uniform_at(key, counter, stream) ** (1.0 / shape)
        counter += 1
        k = shape + 1.0
    d = k - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        z = standard_normal(key, stream, counter)
        u = uniform_at(key, counter + 2, stream)
        counter += 3
        v = 1.0 + c * z
        if v <= 0.0:
            continue
        v = v * v * v
        if math.log(u) < 0.5 * z * z + d - d * v + d * math.log(v):
            return d * v * boost


@jit
def standard_beta(key, stream, counter, a, b):
    """Beta(a, b) as X / (X + Y) with independent gammas."""
    x = standard_gamma(key, stream, counter, a)
    y = standard_gamma(key, stream, counter + _BETA_SECOND_GAMMA, b)
    return x / (x + y)


@jit
def sample(code, par, key, stream):
    """One value of the distribution ``code`` with natural parameters ``par`` (length 4).

    Parameters by code: CONSTANT (value), NORMAL (mean, sd), LOGNORMAL (log-median,
    sigma), GAMMA (shape, scale, mean, sd), BETA (a, b), UNIFORM (low, high), TRIANGULAR (low,
    mode, high), PERT (a, b, low, high).
    """
    if code == CONSTANT:
        return par[0]
    if code == NORMAL:
        return par[0] + par[1] * standard_normal(key, stream, _FIRST)
    if code == LOGNORMAL:
        return math.exp(par[0] + par[1] * standard_normal(key, stream, _FIRST))
    if code == GAMMA:
        if par[0] > LARGE_SHAPE:
            # The normal limit, written with the mean and sd so that a shape that overflowed
            # to infinity (a variance below 1e-308) still gives a finite value.
            return max(par[2] + par[3] * standard_normal(key, stream, _FIRST), 0.0)
        return par[1] * standard_gamma(key, stream, _FIRST, par[0])
    if code == BETA:
        return standard_beta(key, stream, _FIRST, par[0], par[1])
    if code == UNIFORM:
        return par[0] + (par[1] - par[0]) * uniform_at(key, _FIRST, stream)
    if code == TRIANGULAR:
        low, mode, high = par[0], par[1], par[2]
        u = uniform_at(key, _FIRST, stream)
        cut = (mode - low) / (high - low)
        if u < cut:
            return low + math.sqrt(u * (high - low) * (mode - low))
        return high - math.sqrt((1.0 - u) * (high - low) * (high - mode))
    # PERT
    return par[2] + (par[3] - par[2]) * standard_beta(key, stream, _FIRST, par[0], par[1])

