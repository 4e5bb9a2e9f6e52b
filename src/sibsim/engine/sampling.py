"""Participant-level samplers in numpy: frailty and prior months, drawn before the kernel.

These are the vectorised twins of the numba samplers of
:mod:`sibsim.engine.kernels.sampling` (the same algorithms, the same uniforms of the
counter-based generator at the same attempt counters, the same floating-point operations
in the same order), so a participant's prior months do not depend on which of the two
computed them; the tests check that they agree. :func:`draw_members` draws a group's
frailty and prior months for a chunk of draws: the trajectory kernel then reads two arrays
(:class:`~sibsim.engine.records.Members`) instead of compiling every distribution family
into itself, which took about a sixth of the first run (the gamma sampler alone, compiled
on its own, still took 0.9 s; here the frailty costs about 90 ns per participant and
draw, against 55 ns in numba). The numba samplers serve the plain reference
implementation of the tests and the benchmarks.

Algorithms (exact, not approximations):

- normal: Box-Muller with two uniforms;
- gamma: Marsaglia & Tsang (2000), with the boost ``Gamma(k) = Gamma(k + 1) U**(1/k)`` for
  shape k < 1; every key takes its first attempt at once, the rejected ones repeat theirs;
- beta: X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b) on separate attempt counters;
- uniform, triangular: inverse CDF; PERT: a scaled beta.

numpy computes ``log``, ``cos``, ``exp`` and powers with the C library's functions on most
processors, as numba does; where it uses its own vectorised ones (some AVX-512 builds) a
value can differ in its last bit.
"""

from __future__ import annotations

import numpy as np

from sibsim.engine.kernels.sampling import (
    _BETA_SECOND_GAMMA,
    BETA,
    CONSTANT,
    GAMMA,
    LARGE_SHAPE,
    LOGNORMAL,
    NORMAL,
    TRIANGULAR,
    UNIFORM,
)
from sibsim.engine.records import DrawArrays, Group, Members
from sibsim.engine.rng import (
    STREAM_FRAILTY,
    STREAM_PRIOR,
    participant_key_np,
    uniform_at_np,
)
from sibsim.scenario import FAMILY_CODES

__all__ = ["MEMBERS_BLOCK", "draw_member_rows", "draw_members", "sample_np", "standard_gamma_np",
           "standard_normal_np"]


def standard_normal_np(key: np.ndarray, stream: int, counter) -> np.ndarray:
    """N(0, 1) from the uniforms at ``counter`` and ``counter + 1`` (Box-Muller)."""
    u1 = uniform_at_np(key, counter, stream)
    u2 = uniform_at_np(key, np.asarray(counter) + 1, stream)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


def standard_gamma_np(key: np.ndarray, stream: int, counter, shape) -> np.ndarray:
    """Gamma(shape, scale 1) by Marsaglia-Tsang for each key; counters from ``counter`` up.

    Above a shape of 1e8 the normal limit N(shape, shape), as in the numba sampler. Every
    key takes its first attempt at once (most are accepted); the rejected ones repeat theirs
    until accepted.
    """
    key, shape, counter = np.broadcast_arrays(np.asarray(key, dtype=np.uint64),
                                              np.asarray(shape, dtype=np.float64),
                                              np.asarray(counter, dtype=np.int64))
    large = shape > LARGE_SHAPE
    if large.any():
        out = np.empty(key.shape)
        x = standard_normal_np(key[large], stream, counter[large])
        out[large] = np.maximum(shape[large] + np.sqrt(shape[large]) * x, 0.0)
        small = ~large
        out[small] = standard_gamma_np(key[small], stream, counter[small], shape[small])
        return out
    counter = counter.copy()
    boost = 1.0
    below_one = shape < 1.0
    if below_one.any():
        # Gamma(k) = Gamma(k + 1) * U**(1/k); the boost uniform comes first.
        boost = np.where(below_one, uniform_at_np(key, counter, stream) ** (1.0 / shape), 1.0)
        counter += below_one
        shape = np.where(below_one, shape + 1.0, shape)
    d = shape - 1.0 / 3.0
    c = 1.0 / np.sqrt(9.0 * d)
    value = np.empty(key.shape)
    boost = np.broadcast_to(boost, key.shape)
    pending = None  # the first attempt: every key
    while pending is None or pending.size:
        at = slice(None) if pending is None else pending
        keys, counters, dp = key[at], counter[at], d[at]
        z = standard_normal_np(keys, stream, counters)
        u = uniform_at_np(keys, counters + 2, stream)
        counter[at] += 3
        v = 1.0 + c[at] * z
        with np.errstate(invalid="ignore", divide="ignore"):
            v = v * v * v
            accept = (v > 0.0) & (np.log(u) < 0.5 * z * z + dp - dp * v + dp * np.log(v))
        drawn = dp * v * boost[at]
        if pending is None:
            np.copyto(value, drawn, where=accept)
            pending = np.flatnonzero(~accept.ravel())
            key, counter, d, c, boost = (x.ravel() for x in (key, counter, d, c, boost))
            value = value.reshape(-1)
        else:
            value[pending[accept]] = drawn[accept]
            pending = pending[~accept]
    return value.reshape(shape.shape)


def _beta_np(key, stream, a, b):
    x = standard_gamma_np(key, stream, 0, a)
    y = standard_gamma_np(key, stream, _BETA_SECOND_GAMMA, b)
    return x / (x + y)


def sample_np(code: int, par, key: np.ndarray, stream: int) -> np.ndarray:
    """One value of the distribution ``code`` for each key (the numba ``sample``'s twin).

    Parameters
    ----------
    code : int
        The family's code (:data:`sibsim.scenario.FAMILY_CODES`, or the constant's).
    par : sequence of 4 numbers or arrays
        The natural parameters, as for the numba sampler; arrays broadcast against ``key``
        (one frailty variance per draw, say).
    key : ndarray of uint64
        Participant keys (:func:`sibsim.engine.rng.participant_key_np`).
    stream : int
        The random stream (attempt counters start at 0).

    Returns
    -------
    ndarray of float64, the shape of ``key`` broadcast against ``par``
    """
    key = np.asarray(key, dtype=np.uint64)
    p = [np.asarray(x, dtype=np.float64) for x in par]
    shape = np.broadcast_shapes(key.shape, *(x.shape for x in p))
    key = np.broadcast_to(key, shape)
    p = [np.broadcast_to(x, shape) for x in p]
    if code == CONSTANT:
        return np.array(p[0], dtype=np.float64)
    if code == NORMAL:
        return p[0] + p[1] * standard_normal_np(key, stream, 0)
    if code == LOGNORMAL:
        return np.exp(p[0] + p[1] * standard_normal_np(key, stream, 0))
    if code == GAMMA:
        large = p[0] > LARGE_SHAPE
        if not large.any():
            return p[1] * standard_gamma_np(key, stream, 0, p[0])
        out = np.empty(shape)
        if large.any():
            # The normal limit, with the mean and sd (a shape that overflowed to inf).
            x = standard_normal_np(key[large], stream, 0)
            out[large] = np.maximum(p[2][large] + p[3][large] * x, 0.0)
        small = ~large
        if small.any():
            out[small] = p[1][small] * standard_gamma_np(key[small], stream, 0, p[0][small])
        return out
    if code == BETA:
        return _beta_np(key, stream, p[0], p[1])
    if code == UNIFORM:
        return p[0] + (p[1] - p[0]) * uniform_at_np(key, 0, stream)
    if code == TRIANGULAR:
        low, mode, high = p[0], p[1], p[2]
        u = uniform_at_np(key, 0, stream)
        cut = (mode - low) / (high - low)
        with np.errstate(invalid="ignore"):
            left = low + np.sqrt(u * (high - low) * (mode - low))
            right = high - np.sqrt((1.0 - u) * (high - low) * (high - mode))
        return np.where(u < cut, left, right)
    # PERT
    return p[2] + (p[3] - p[2]) * _beta_np(key, stream, p[0], p[1])


#: Participant-draws sampled together by :func:`draw_members`: its temporaries (about 20
#: arrays of this many numbers) stay small whatever the cohort.
MEMBERS_BLOCK = 16_384


def draw_members(group: Group, prior_months: tuple, draws: DrawArrays) -> Members:
    """Frailty and prior months of every participant of ``group`` in each draw of a chunk.

    Drawn in numpy from the participant's key of the
    counter-based generator, as the numba samplers would: frailty ~ Gamma(shape 1/v, scale
    v) on the group's frailty stream (1 where v = 0), and the prior months' distribution on
    its prior stream, rounded to whole months (0 where not positive). Drawn a few rows of
    draws at a time (:data:`MEMBERS_BLOCK`); each value depends only on its own key.

    Parameters
    ----------
    group : Group
    prior_months : tuple of (int, ndarray)
        The prior months' law (``CompiledScenario.prior_months`` of :mod:`sibsim.engine.compile`).
    draws : DrawArrays
        The chunk: its seed, first draw and frailty variances.

    Returns
    -------
    Members
    """
    n_draws, n = draws.frailty_variance.shape[0], group.site.shape[0]
    frailty = np.ones((n_draws, n))
    months = np.zeros((n_draws, n), dtype=np.int64)
    rows = max(1, MEMBERS_BLOCK // max(n, 1))
    for first in range(0, n_draws if n else 0, rows):
        stop = min(first + rows, n_draws)
        draw_member_rows(group, prior_months, draws, first, frailty[first:stop],
                         months[first:stop])
    return Members(frailty=frailty, prior_months=months)


def draw_member_rows(group: Group, prior_months: tuple, draws: DrawArrays, first: int,
                     frailty: np.ndarray, months: np.ndarray) -> None:
    """Rows ``first .. first + len(frailty) - 1`` of :func:`draw_members`, written into
    ``frailty`` and ``months`` (views of its arrays' rows; each row is its draw's alone, so
    blocks of rows may be drawn on several threads)."""
    rows = np.arange(first, first + frailty.shape[0])
    key = participant_key_np(draws.seed, draws.first_draw + rows[:, None],
                             np.arange(frailty.shape[1])[None, :])
    variance = draws.frailty_variance[rows]
    frail = variance > 0.0
    if frail.any():
        v = variance[frail][:, None]
        with np.errstate(over="ignore"):  # a subnormal variance: shape inf, frailty 1
            shape = 1.0 / v
        frailty[frail] = sample_np(FAMILY_CODES["gamma"], (shape, v, 1.0, np.sqrt(v)),
                                   key[frail], STREAM_FRAILTY + group.stream_offset)
    code, parameters = prior_months
    prior = sample_np(code, parameters, key, STREAM_PRIOR + group.stream_offset)
    positive = prior > 0.0
    months[positive] = np.rint(prior[positive])
