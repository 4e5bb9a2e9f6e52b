"""The counter-based random number generator.

A random number is a pure function of five integers: (seed, draw, participant, month,
stream). Nothing is carried from one number to the next, so results do not depend on the
order in which draws or participants are simulated, on the number of threads, or on how the
draws are split into chunks.

The function is a chain of SplitMix64 finalisers (Steele, Lea & Flood 2014; the output
function of ``java.util.SplittableRandom``): each integer of the key is added to the running
64-bit state, which is then mixed. The top 53 bits give a float in (0, 1) (the ``+ 0.5``
keeps it away from 0 and 1, so ``-log(u)`` is always finite).

The same arithmetic is written twice: for numba kernels (scalars) and for numpy (arrays).
The tests check that both give identical bits.

The scalar functions are inlined into their callers by numba (``inline="always"``): each is
a few instructions, and compiling each on its own costs a tenth of a second or more of the
first run (the rare rejection path of the exponential stays a function of its own).
"""

from __future__ import annotations

import math
import zlib

import numpy as np

from sibsim.engine._numba import jit

# Streams: one per kind of random event. A comparison group of size n adds
# ``GROUP_STREAM_STRIDE * n`` to the streams of its participants.
STREAM_SPELL = 1  # exit threshold of a spell, keyed by the spell's first month
STREAM_DESTINATION = 2  # destination of an exit, keyed by the exit month
STREAM_FRAILTY = 3  # participant frailty (month = attempt counter)
STREAM_PRIOR = 4  # participant prior months (month = attempt counter)
STREAM_PARAMETER = 5  # per-draw parameters (participant = crc32 of the key path)
STREAM_ECONOMY = 6  # economy shock innovations (participant 0, month t)
GROUP_STREAM_STRIDE = 16

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S24 = np.uint64(24)
_S11 = np.uint64(11)
_TO_UNIT = 2.0**-53


@jit(inline="always")
def mix(z):
    """SplitMix64 finaliser of a uint64 (bijective, full avalanche)."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@jit(inline="always")
def participant_key(seed, draw, participant):
    """Hash of (seed, draw, participant): the state every number of a participant starts from."""
    h = mix(np.uint64(seed) ^ _GOLDEN)
    h = mix(h + np.uint64(draw))
    return mix(h + np.uint64(participant))


@jit(inline="always")
def uniform_at(key, month, stream):
    """Uniform in (0, 1) for (participant key, month, stream)."""
    h = mix(key + ((np.uint64(month) << _S24) | np.uint64(stream)))
    return (np.float64(h >> _S11) + 0.5) * _TO_UNIT


@jit
def uniform(seed, draw, participant, month, stream):
    """Uniform in (0, 1) for the full key (seed, draw, participant, month, stream)."""
    return uniform_at(participant_key(seed, draw, participant), month, stream)


def _mix_np(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


def uniform_np(seed, draw, participant, month, stream) -> np.ndarray:
    """Vectorised twin of :func:`uniform`; the arguments broadcast against each other.

    Parameters
    ----------
    seed, draw, participant, month, stream : int or array of int
        The key. All must be non-negative and below 2**63.

    Returns
    -------
    ndarray of float64
        Uniforms in (0, 1), identical bit for bit to the numba version.
    """
    seed, draw, participant, month, stream = (
        np.asarray(x, dtype=np.uint64) for x in (seed, draw, participant, month, stream)
    )
    with np.errstate(over="ignore"):
        h = _mix_np(seed ^ _GOLDEN)
        h = _mix_np(h + draw)
        h = _mix_np(h + participant)
        h = _mix_np(h + ((month << _S24) | stream))
    return ((h >> _S11).astype(np.float64) + 0.5) * _TO_UNIT


def participant_key_np(seed, draw, participant) -> np.ndarray:
    """Vectorised twin of :func:`participant_key`; the arguments broadcast.

    Parameters
    ----------
    seed, draw, participant : int or array of int
        Non-negative and below 2**63.

    Returns
    -------
    ndarray of uint64
        Identical bit for bit to the numba version.
    """
    seed, draw, participant = (np.asarray(x, dtype=np.uint64) for x in (seed, draw, participant))
    with np.errstate(over="ignore"):
        h = _mix_np(seed ^ _GOLDEN)
        h = _mix_np(h + draw)
        return _mix_np(h + participant)


def uniform_at_np(key, month, stream) -> np.ndarray:
    """Vectorised twin of :func:`uniform_at`: uniforms in (0, 1) for (key, month, stream).

    Parameters
    ----------
    key : array of uint64
        Participant keys (:func:`participant_key_np`).
    month, stream : int or array of int
        Non-negative; they broadcast against ``key``.

    Returns
    -------
    ndarray of float64
        Identical bit for bit to the numba version.
    """
    month, stream = (np.asarray(x, dtype=np.uint64) for x in (month, stream))
    with np.errstate(over="ignore"):
        h = _mix_np(np.asarray(key, dtype=np.uint64) + ((month << _S24) | stream))
    return ((h >> _S11).astype(np.float64) + 0.5) * _TO_UNIT


def path_id(path: str) -> int:
    """Stable integer for a key path, used as the participant field of its random numbers."""
    return zlib.crc32(path.encode("utf-8"))


def check_seed(seed) -> int:
    """Return ``seed`` as a Python int, or raise ValueError naming it."""
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed: got {seed!r}, expected a non-negative integer")
    if not 0 <= int(seed) < 2**63:
        raise ValueError(f"seed: got {seed!r}, expected an integer in [0, 2**63)")
    return int(seed)


# ---------------------------------------------------------------------------------------
# Standard exponential by the ziggurat method
# ---------------------------------------------------------------------------------------
# A spell's exit threshold is E ~ Exp(1). Its inverse CDF, -ln(U), costs a logarithm per
# spell, a large share of the kernel's time; the ziggurat of Marsaglia & Tsang (2000, J.
# Stat. Softw. 5(8), "REXP" with 256 layers) returns the same distribution exactly from one
# 64-bit hash in about 99% of calls, with a multiplication and a comparison. Here the layer
# index comes from the hash's low 8 bits and the 53-bit integer from its top bits, so the
# two are independent (the original took both from one 32-bit word). In the rare rejection
# path, further 64-bit words come from re-mixing the hash, so the result is still a pure
# function of (participant key, month, stream).

ZIG_R = 7.697117470131487  # x of the base layer's right edge: beyond it is the tail
_ZIG_V = 3.949659822581572e-3  # area of each of the 256 layers
_ZIG_SCALE = 2.0**53


def _ziggurat_tables():
    ke = np.zeros(256, dtype=np.uint64)
    we = np.zeros(256)
    fe = np.zeros(256)
    de = te = ZIG_R
    q = _ZIG_V / np.exp(-de)
    ke[0] = np.uint64((de / q) * _ZIG_SCALE)
    ke[1] = 0
    we[0] = q / _ZIG_SCALE
    we[255] = de / _ZIG_SCALE
    fe[0] = 1.0
    fe[255] = np.exp(-de)
    for i in range(254, 0, -1):
        de = -np.log(_ZIG_V / de + np.exp(-de))
        ke[i + 1] = np.uint64((de / te) * _ZIG_SCALE)
        te = de
        fe[i] = np.exp(-de)
        we[i] = de / _ZIG_SCALE
    return ke, we, fe


ZIG_KE, ZIG_WE, ZIG_FE = _ziggurat_tables()
_LOW8 = np.uint64(255)


@jit(inline="always")
def _next_word(h):
    return mix(h + _GOLDEN)


@jit
def _exponential_slow(h, jz, iz):
    """The rejection path of the ziggurat: tail and wedges (about 1% of calls)."""
    while True:
        if iz == 0:
            h = _next_word(h)
            return ZIG_R - math.log((np.float64(h >> _S11) + 0.5) * _TO_UNIT)
        x = np.float64(jz) * ZIG_WE[iz]
        h = _next_word(h)
        u = (np.float64(h >> _S11) + 0.5) * _TO_UNIT
        if ZIG_FE[iz] + u * (ZIG_FE[iz - 1] - ZIG_FE[iz]) < math.exp(-x):
            return x
        h = _next_word(h)
        jz = h >> _S11
        iz = np.int64(h & _LOW8)
        if jz < ZIG_KE[iz]:
            return np.float64(jz) * ZIG_WE[iz]


@jit(inline="always")
def exponential_at(key, month, stream):
    """Exp(1) for (participant key, month, stream), by the ziggurat method."""
    h = mix(key + ((np.uint64(month) << _S24) | np.uint64(stream)))
    jz = h >> _S11
    iz = np.int64(h & _LOW8)
    if jz < ZIG_KE[iz]:
        return np.float64(jz) * ZIG_WE[iz]
    return _exponential_slow(h, jz, iz)
