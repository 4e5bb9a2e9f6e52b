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
"""

from __future__ import annotations

import zlib

import numpy as np

from sibsim._numba import jit

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


@jit
def mix(z):
    """SplitMix64 finaliser of a uint64 (bijective, full avalanche)."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@jit
def participant_key(seed, draw, participant):
    """Hash of (seed, draw, participant): the state every number of a participant starts from."""
    h = mix(np.uint64(seed) ^ _GOLDEN)
    h = mix(h + np.uint64(draw))
    return mix(h + np.uint64(participant))


@jit
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
