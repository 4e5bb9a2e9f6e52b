"""Distributions for uncertain parameters.

Any real-valued number of a scenario may be replaced by a distribution, written as a table
with exactly one key, the family::

    ratio = { lognormal = { median = 1.8, sigma = 0.3 } }

The seven families and their parameters:

============  =====================  ============================================  ===========
family        parameters             meaning                                       support
============  =====================  ============================================  ===========
normal        mean, sd               Normal(mean, sd**2)                           (-inf, inf)
lognormal     median, sigma          exp(Normal(ln median, sigma**2))              (0, inf)
gamma         mean, sd               Gamma(shape (mean/sd)**2, scale sd**2/mean)   (0, inf)
beta          mean, sd               Beta(mean nu, (1 - mean) nu),                 [0, 1]
                                     nu = mean (1 - mean) / sd**2 - 1
uniform       low, high              Uniform(low, high)                            [low, high]
triangular    low, mode, high        Triangular(low, mode, high)                   [low, high]
pert          low, mode, high        low + (high - low) Beta(1 + 4 (mode - low) /  [low, high]
                                     (high - low), 1 + 4 (high - mode) /
                                     (high - low))
============  =====================  ============================================  ===========

:class:`Distribution` holds one of them, validated, and computes its support, mean, median and
quantiles through the matching frozen :mod:`scipy.stats` distribution. Each family is declared
once, in :mod:`sibsim.scenario.families`; this module only reads those declarations.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from sibsim.errors import ScenarioError
from sibsim.scenario.families import FAMILIES, FAMILY, ParameterCheck
from sibsim.scenario.keypath import join, problem, show

__all__ = ["FAMILIES", "Distribution", "as_real", "is_distribution"]


def as_real(value: Any) -> float | None:
    """The value as a Python float, if it is a real number.

    Parameters
    ----------
    value : object
        A Python or numpy number, or a 0-d numpy array. Booleans are not numbers here.

    Returns
    -------
    float or None
        The number (possibly NaN or infinite), or None for anything that is not a real number
        (including integers too large for a float).
    """
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        return None
    if isinstance(value, (complex, np.complexfloating)):
        return None
    try:
        return float(value)
    except (OverflowError, TypeError, ValueError):
        return None


def is_distribution(obj: Any) -> bool:
    """Whether ``obj`` is, or is written like, a distribution.

    Parameters
    ----------
    obj : object
        A :class:`Distribution`, or a spec such as ``{"normal": {"mean": 0, "sd": 1}}``.

    Returns
    -------
    bool
        True for a :class:`Distribution` and for a mapping with exactly one key that is a
        known family and whose value is a mapping. The parameters are not validated (use
        :meth:`Distribution.from_spec` for that).

    Examples
    --------
    >>> is_distribution({"uniform": {"low": 0, "high": 1}})
    True
    >>> is_distribution(0.5)
    False
    """
    if isinstance(obj, Distribution):
        return True
    if not isinstance(obj, Mapping) or len(obj) != 1:
        return False
    (family, params), = obj.items()
    return family in FAMILIES and isinstance(params, Mapping)


def _check_params(family: str, params: Any, path: str) -> tuple[dict[str, float], list[str]]:
    """Validate the parameters of one family; return them as floats and the problems found."""
    where = join(path, family) if path else family
    names = FAMILIES[family]
    expected_keys = ", ".join(names)
    if not isinstance(params, Mapping):
        return {}, [problem(where, params, f"a table with keys {expected_keys}")]
    problems: list[str] = []
    values: dict[str, float] = {}
    for key in params:
        if key not in names:
            hint = difflib.get_close_matches(str(key), names, n=1)
            suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
            problems.append(
                problem(
                    join(where, str(key)),
                    params[key],
                    f"no such parameter of {family} (its parameters are {expected_keys})"
                    f"{suggestion}",
                )
            )
    for name in names:
        if name not in params:
            problems.append(f"{join(where, name)}: got nothing (the key is missing), "
                            f"expected a number ({family} needs {expected_keys})")
            continue
        number = as_real(params[name])
        if number is None or not math.isfinite(number):
            problems.append(problem(join(where, name), params[name], "a finite number"))
            continue
        values[name] = number
    if problems:
        return values, problems

    def report(name: str | None, expected: str) -> None:
        if name is None:  # a relation between the parameters fails
            problems.append(problem(where, dict(params), expected))
        else:
            problems.append(problem(join(where, name), params[name], expected))

    FAMILY[family].check(values, ParameterCheck(report))
    # Keep the canonical parameter order.
    return {name: values[name] for name in names}, problems


@dataclass(frozen=True)
class Distribution:
    """One validated distribution of an uncertain parameter.

    Parameters
    ----------
    family : str
        One of :data:`FAMILIES`: normal, lognormal, gamma, beta, uniform, triangular, pert.
    params : dict of str to float
        Exactly the family's parameters (see the module docstring). They are validated and
        stored as floats in the family's order; treat the dict as read-only.

    Raises
    ------
    ScenarioError
        When the family is unknown or the parameters are not valid for it.

    Examples
    --------
    >>> d = Distribution("pert", {"low": 0.0, "mode": 1.0, "high": 5.0})
    >>> d.support(), d.mean()
    ((0.0, 5.0), 1.5)
    >>> Distribution.from_spec({"lognormal": {"median": 1.8, "sigma": 0.3}}).median()
    1.8
    """

    family: str
    params: dict = field(hash=False)

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ScenarioError(
                problem("distribution", self.family, _family_expectation(self.family)))
        values, problems = _check_params(self.family, self.params, "")
        if problems:
            raise ScenarioError(problems)
        object.__setattr__(self, "params", values)

    def __hash__(self) -> int:
        return hash((self.family, tuple(self.params.items())))

    # -- construction and serialisation ----------------------------------------------------

    @classmethod
    def from_spec(cls, spec: Any, path: str = "") -> Distribution:
        """Read a distribution written as ``{family: {param: value}}``.

        Parameters
        ----------
        spec : mapping or Distribution
            The written form, e.g. ``{"beta": {"mean": 0.3, "sd": 0.05}}``. A
            :class:`Distribution` is returned as it is.
        path : str, optional
            The key path of the value, used in error messages.

        Returns
        -------
        Distribution

        Raises
        ------
        ScenarioError
            Listing every problem found, each naming the key path, the value and what was
            expected.
        """
        if isinstance(spec, Distribution):
            return spec
        if not isinstance(spec, Mapping) or len(spec) != 1:
            raise ScenarioError(
                problem(path, spec, "a distribution: a table with one key, the family "
                        f"({', '.join(FAMILIES)})")
            )
        (family, params), = spec.items()
        if family not in FAMILIES:
            raise ScenarioError(problem(path, spec, _family_expectation(family)))
        values, problems = _check_params(family, params, path)
        if problems:
            raise ScenarioError(problems)
        return cls(family, values)

    def to_spec(self) -> dict[str, dict[str, float]]:
        """The written form, ``{family: {param: value}}`` (a new dict).

        Returns
        -------
        dict
        """
        return {self.family: dict(self.params)}

    # -- properties ------------------------------------------------------------------------

    def scipy(self) -> Any:
        """The matching frozen :mod:`scipy.stats` distribution.

        Returns
        -------
        scipy.stats.rv_continuous frozen distribution
        """
        return self._frozen

    @cached_property
    def _frozen(self) -> Any:
        # scipy.stats takes seconds to import: load it only when a quantile is needed.
        from scipy import stats

        return FAMILY[self.family].frozen(stats, self.params)

    def support(self) -> tuple[float, float]:
        """The closed hull of the values the distribution can take.

        Returns
        -------
        (float, float)
            ``(-inf, inf)`` for normal, ``(0, inf)`` for lognormal and gamma, ``(0, 1)`` for
            beta, ``(low, high)`` for uniform, triangular and pert. The end points themselves
            have probability 0.
        """
        return FAMILY[self.family].support(self.params)

    def mean(self) -> float:
        """The expected value.

        Returns
        -------
        float
        """
        return FAMILY[self.family].mean(self.params)

    def median(self) -> float:
        """The median (the 0.5 quantile).

        Returns
        -------
        float
        """
        median = FAMILY[self.family].median
        return self.quantile(0.5) if median is None else median(self.params)

    def ppf(self, u: Any) -> np.ndarray:
        """The quantile function, vectorised.

        Parameters
        ----------
        u : array_like of float
            Probabilities in [0, 1].

        Returns
        -------
        ndarray of float64
            Same shape as ``u``: the value below which a share ``u`` of the distribution lies.
        """
        return np.asarray(self._frozen.ppf(np.asarray(u, dtype=np.float64)), dtype=np.float64)

    def quantile(self, q: float) -> float:
        """One quantile.

        Parameters
        ----------
        q : float
            A probability in [0, 1].

        Returns
        -------
        float
        """
        return float(self.ppf(q))


def _family_expectation(family: Any) -> str:
    hint = difflib.get_close_matches(str(family), list(FAMILIES), n=1)
    suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
    return f"a distribution family, one of {', '.join(FAMILIES)} (not {show(family)}){suggestion}"
