"""Limits that keep hostile or mistaken input from crashing, hanging or overflowing a run.

A scenario comes from a file, a string or a dict that anyone may have written. These limits
make sure that whatever it holds ends in a :class:`~sibsim.errors.ScenarioError` naming the
key, or in a run with finite numbers (``docs/scenario.rst``, "Limits"):

- :func:`check_document`: at most :data:`MAX_DEPTH` levels of tables and lists and
  :data:`MAX_VALUES` values, checked without recursion before anything walks the document;
- :class:`Problems`: the first :data:`MAX_PROBLEMS` problems listed, the rest counted;
- :data:`MAGNITUDE`: no real number of a scenario, and no value its distribution can draw
  (:func:`reach`), is larger in size, so money summed over participants and months stays
  finite; :func:`distribution_trouble` also refuses distributions whose parameters overflow
  or vanish in floating point;
- :data:`KEY_MAX`: the largest months_in_state key of a step table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from sibsim.errors import ScenarioError
from sibsim.scenario.distributions import Distribution
from sibsim.scenario.keypath import format_path

__all__ = ["KEY_MAX", "MAGNITUDE", "MAX_DEPTH", "MAX_PROBLEMS", "MAX_SUGGESTIONS", "MAX_VALUES",
           "Problems", "check_document", "distribution_trouble", "reach"]

#: The largest size of any real number of a scenario, and of any value its distribution can
#: take: money amounts up to this stay finite summed over 2**31 participants and months.
MAGNITUDE = 1e15
#: The largest months_in_state key of a step table (1,000 years): the tables are laid out
#: month by month up to their largest key.
KEY_MAX = 12_000
#: Problems listed at most (the rest are counted), and unknown keys that get a suggestion.
MAX_PROBLEMS = 100
MAX_SUGGESTIONS = 20
#: A document nested deeper than this, or with more values, is refused before validation.
MAX_DEPTH = 32
MAX_VALUES = 1_000_000
#: The largest |z| of a standard normal the samplers can draw (Box-Muller from a uniform of
#: at least 2**-54): sqrt(-2 ln 2**-54) = 8.65, rounded up.
_Z_MAX = 8.66


def fmt(number: float) -> str:
    return f"{number:g}"


class Problems(list):
    """The problems found: the first :data:`MAX_PROBLEMS` kept, the rest only counted.

    ``len()`` counts them all (kinds compare it before and after a check to see whether
    the check found something); iterating gives the kept ones and, when some were only
    counted, one closing line that says how many.
    """

    def __init__(self) -> None:
        super().__init__()
        self.omitted = 0
        self.first_omitted = ""

    @property
    def full(self) -> bool:
        return list.__len__(self) >= MAX_PROBLEMS

    def append(self, item: str) -> None:
        if self.full:
            if not self.omitted:
                self.first_omitted = item.split(": got ", 1)[0]
            self.omitted += 1
        else:
            super().append(item)

    def extend(self, items) -> None:
        for item in items:
            self.append(item)

    def __len__(self) -> int:
        return list.__len__(self) + self.omitted

    def __iter__(self):
        yield from list.__iter__(self)
        if self.omitted:
            yield (f"{self.first_omitted}: got {self.omitted} more problem(s), not listed, "
                   f"expected the {MAX_PROBLEMS} problems above fixed first")


def reach(distribution: Distribution) -> tuple[float, float]:
    """The smallest and largest value the samplers can draw from a distribution.

    For the bounded families their support. For the others the value at a standard normal
    of +-8.66, the most extreme the generator's uniforms (at least 2**-54 from 0 and 1) give
    by inverse CDF or by Box-Muller; for the gamma also the largest value of the
    Marsaglia-Tsang sampler of the kernels, ``scale d (1 + 8.66 c)**3``.

    Parameters
    ----------
    distribution : Distribution

    Returns
    -------
    (float, float)
        May be infinite where the numbers overflow.
    """
    family, p = distribution.family, distribution.params
    with np.errstate(over="ignore"):
        if family == "normal":
            return p["mean"] - _Z_MAX * p["sd"], p["mean"] + _Z_MAX * p["sd"]
        if family == "lognormal":
            exponent = math.log(p["median"]) + _Z_MAX * p["sigma"]
            return 0.0, math.inf if exponent > 709 else math.exp(exponent)
        if family == "gamma":
            return 0.0, _gamma_reach(p["mean"], p["sd"])
    return distribution.support()


def _gamma_reach(mean: float, sd: float) -> float:
    from scipy.special import gammainccinv

    shape, scale = (mean / sd) ** 2, sd**2 / mean
    if shape > 1e8:  # the samplers' normal limit
        return mean + _Z_MAX * sd
    k = shape + 1.0 if shape < 1.0 else shape
    d = k - 1.0 / 3.0
    marsaglia = scale * d * (1.0 + _Z_MAX / math.sqrt(9.0 * d)) ** 3
    by_quantile = scale * float(gammainccinv(shape, 2.0**-54))
    return max(marsaglia, by_quantile)


def distribution_trouble(distribution: Distribution) -> str:
    """What makes a valid-looking distribution unusable in floating point, or ``""``.

    Its natural parameters (what the samplers take) must be finite, and positive where a
    sampler divides by them; every value it can draw (:func:`reach`) must be at most
    :data:`MAGNITUDE` in size.

    Parameters
    ----------
    distribution : Distribution

    Returns
    -------
    str
        The reason, worded to follow "expected ...", or the empty string.
    """
    from sibsim.scenario.families import natural_parameters

    family = distribution.family
    try:
        natural = natural_parameters(family, distribution.params)
        low, high = reach(distribution)
    except (ArithmeticError, ValueError):
        natural, low, high = None, math.nan, math.nan
    positive = natural is None or (family in ("gamma", "beta", "pert")
                                   and not (natural[0] > 0 and natural[1] > 0))
    if natural is None or not np.isfinite(natural).all() or positive:
        return (f"with parameters that give a {family} in floating point (these overflow "
                "or vanish: make the spread less extreme)")
    if not (abs(low) <= MAGNITUDE and abs(high) <= MAGNITUDE):
        return (f"whose values stay within +-{fmt(MAGNITUDE)} (this {family} can draw "
                f"values up to {fmt(max(abs(low), abs(high)))} in size)")
    return ""


def check_document(document: Any) -> None:
    """Refuse a document nested too deeply or too large before anything walks it.

    The checks that follow (and the conversion to plain Python) recurse through the
    document, so a table nested thousands of levels deep would exhaust the stack, and a
    table of millions of keys would take minutes. The walk here uses no recursion.

    Parameters
    ----------
    document : object
        The input document (dicts, lists, tuples, numpy arrays, scalars).

    Returns
    -------
    None

    Raises
    ------
    ScenarioError
        Naming where the document is nested more than :data:`MAX_DEPTH` levels deep, or
        that it holds more than :data:`MAX_VALUES` values.

    Examples
    --------
    >>> deep = {}
    >>> inner = deep
    >>> for _ in range(40):
    ...     inner["a"] = {}
    ...     inner = inner["a"]
    >>> check_document(deep)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    sibsim.errors.ScenarioError: a.a.a.a.a.a.a.a....: got a table nested more than 32 ...
    """
    stack: list[tuple[Any, tuple]] = [(document, ())]
    count = 0
    while stack:
        value, path = stack.pop()
        count += value.size if isinstance(value, np.ndarray) else 1
        if count > MAX_VALUES:
            raise ScenarioError(f"(the scenario): got more than {MAX_VALUES:,} values, "
                                "expected a scenario of a readable size")
        if isinstance(value, Mapping):
            items = list(value.items())
        elif isinstance(value, (list, tuple)):
            items = list(enumerate(value))
        else:
            continue
        if len(path) >= MAX_DEPTH and items:
            shown = format_path(tuple(str(part) if not isinstance(part, int) else part
                                      for part in path[:8]))
            raise ScenarioError(f"{shown}....: got a table nested more than {MAX_DEPTH} "
                                f"levels deep, expected a scenario of at most {MAX_DEPTH} "
                                "levels of tables and lists")
        for key, item in items:
            stack.append((item, (*path, key)))
