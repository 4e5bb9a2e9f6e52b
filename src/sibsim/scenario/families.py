"""The distribution families of uncertain parameters, each declared once.

One :class:`Family` record per family holds everything any stage needs to know about it:

- its parameter names, in the order they are written (``{ lognormal = { median, sigma } }``);
- the check of its parameters (which values describe a valid distribution);
- its support, mean and median in closed form, and the matching frozen :mod:`scipy.stats`
  distribution (quantiles, for the per-draw parameters);
- its code and *natural parameters* for the kernel sampler
  (:func:`sibsim.engine.kernels.sampling.sample` takes a code and a float array of length 4);
- its *location*: the parameters that a calibration factor multiplies, so that scaling a
  distribution by a factor scales where it lies but keeps its relative spread.

:class:`~sibsim.scenario.distributions.Distribution`, the engine's sampler, the per-draw
parameters and the calibration read the families from here; a new family is one new record in
:data:`FAMILY` (and a branch in the numba sampler). ``docs/scenario.rst`` documents them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "CONSTANT_CODE",
    "FAMILIES",
    "FAMILY",
    "FAMILY_CODES",
    "LOCATION_PARAMETERS",
    "Family",
    "ParameterCheck",
    "natural_parameters",
]

Params = dict[str, float]


class ParameterCheck:
    """Collects the problems of one family's parameters (see :attr:`Family.check`).

    Parameters
    ----------
    report : callable
        ``report(name, expected)`` records that parameter ``name`` is invalid;
        ``report(None, expected)`` that the parameters are invalid together.
    """

    def __init__(self, report: Callable[[str | None, str], None]):
        self._report = report

    def require(self, ok: bool, name: str, expected: str) -> None:
        """Report parameter ``name`` unless ``ok``.

        Parameters
        ----------
        ok : bool
            Whether the parameter is valid.
        name : str
            The parameter's name.
        expected : str
            What would have been valid.

        Returns
        -------
        None
        """
        if not ok:
            self._report(name, expected)

    def together(self, expected: str) -> None:
        """Report the parameters as a whole (a relation between them fails).

        Parameters
        ----------
        expected : str
            What would have been valid.

        Returns
        -------
        None
        """
        self._report(None, expected)


@dataclass(frozen=True)
class Family:
    """One distribution family: its parameters and everything computed from them.

    Every callable takes the validated parameters as a dict of floats in the family's order.

    Attributes
    ----------
    name : str
        The family's key in a scenario (``"lognormal"``).
    parameters : tuple of str
        Its parameter names, in the order they are written.
    location : tuple of str
        The parameters a calibration factor multiplies.
    code : int
        The kernel sampler's code of the family.
    check : callable
        ``check(params, ParameterCheck)``: reports parameters that describe no valid
        distribution (each is already known to be a finite number).
    support : callable
        ``support(params) -> (low, high)``, the closed hull of the values it can take.
    mean : callable
        ``mean(params) -> float``.
    median : callable or None
        ``median(params) -> float`` in closed form; None where it is the 0.5 quantile.
    frozen : callable
        ``frozen(stats, params)``: the matching frozen distribution of the module
        ``scipy.stats`` (passed in, since it takes seconds to import).
    natural : callable
        ``natural(params) -> tuple of float``: the sampler's natural parameters (at most 4).
    """

    name: str
    parameters: tuple[str, ...]
    location: tuple[str, ...]
    code: int
    check: Callable[[Params, ParameterCheck], None]
    support: Callable[[Params], tuple[float, float]]
    mean: Callable[[Params], float]
    median: Callable[[Params], float] | None
    frozen: Callable[[Any, Params], Any]
    natural: Callable[[Params], tuple[float, ...]]


#: The sampler's code of a fixed number (no distribution); families count from 1.
CONSTANT_CODE = 0


# ---------------------------------------------------------------------------------------------
# The families. The expressions of ``frozen`` and ``natural`` are the computations that fix
# every sampled number: change them and the results of every scenario change.
# ---------------------------------------------------------------------------------------------


def _positive_sd(p: Params, check: ParameterCheck) -> None:
    check.require(p["sd"] > 0, "sd", "a number > 0")


def _check_lognormal(p: Params, check: ParameterCheck) -> None:
    check.require(p["median"] > 0, "median", "a number > 0")
    check.require(p["sigma"] > 0, "sigma", "a number > 0")


def _check_gamma(p: Params, check: ParameterCheck) -> None:
    _positive_sd(p, check)
    check.require(p["mean"] > 0, "mean", "a number > 0 (a gamma lies on (0, inf))")


def _check_beta(p: Params, check: ParameterCheck) -> None:
    _positive_sd(p, check)
    mean, sd = p["mean"], p["sd"]
    if not 0 < mean < 1:
        check.require(False, "mean", "a number in (0, 1) (a beta lies on [0, 1])")
    elif sd > 0 and not mean * (1 - mean) > sd * sd:
        check.together(f"mean * (1 - mean) > sd ** 2, i.e. sd < "
                       f"{math.sqrt(mean * (1 - mean)):.6g} for mean {mean:g}")


def _check_interval(p: Params, check: ParameterCheck) -> None:
    low, high = p["low"], p["high"]
    if not low < high:
        check.require(False, "high", f"a number > low ({low:g})")
    elif "mode" in p and not low <= p["mode"] <= high:
        check.require(False, "mode", f"a number in [low, high] = [{low:g}, {high:g}]")


def _lognormal_mean(p: Params) -> float:
    with np.errstate(over="ignore"):
        return float(p["median"] * np.exp(p["sigma"] ** 2 / 2))


def _gamma_natural(p: Params) -> tuple[float, ...]:
    # Shape and scale, and the mean and sd for the sampler's normal limit at huge shapes.
    mean, sd = p["mean"], p["sd"]
    return (mean / sd) ** 2, sd**2 / mean, mean, sd


def _beta_natural(p: Params) -> tuple[float, ...]:
    mean, sd = p["mean"], p["sd"]
    common = mean * (1.0 - mean) / sd**2 - 1.0
    return mean * common, (1.0 - mean) * common


def _beta_frozen(stats: Any, p: Params) -> Any:
    nu = p["mean"] * (1 - p["mean"]) / p["sd"] ** 2 - 1
    return stats.beta(a=p["mean"] * nu, b=(1 - p["mean"]) * nu)


def _triangular_frozen(stats: Any, p: Params) -> Any:
    width = p["high"] - p["low"]
    return stats.triang(c=(p["mode"] - p["low"]) / width, loc=p["low"], scale=width)


def _pert_frozen(stats: Any, p: Params) -> Any:
    width = p["high"] - p["low"]
    return stats.beta(
        a=1 + 4 * (p["mode"] - p["low"]) / width,
        b=1 + 4 * (p["high"] - p["mode"]) / width,
        loc=p["low"],
        scale=width,
    )


def _pert_natural(p: Params) -> tuple[float, ...]:
    low, mode, high = p["low"], p["mode"], p["high"]
    return (
        1.0 + 4.0 * (mode - low) / (high - low),
        1.0 + 4.0 * (high - mode) / (high - low),
        low,
        high,
    )


def _interval(p: Params) -> tuple[float, float]:
    return (p["low"], p["high"])


_NORMAL = Family(
    name="normal", parameters=("mean", "sd"), location=("mean",), code=1,
    check=_positive_sd,
    support=lambda p: (-math.inf, math.inf),
    mean=lambda p: p["mean"],
    median=lambda p: p["mean"],
    frozen=lambda stats, p: stats.norm(loc=p["mean"], scale=p["sd"]),
    natural=lambda p: (p["mean"], p["sd"]),
)

_LOGNORMAL = Family(
    name="lognormal", parameters=("median", "sigma"), location=("median",), code=2,
    check=_check_lognormal,
    support=lambda p: (0.0, math.inf),
    mean=_lognormal_mean,
    median=lambda p: p["median"],
    frozen=lambda stats, p: stats.lognorm(s=p["sigma"], scale=p["median"]),
    natural=lambda p: (math.log(p["median"]), p["sigma"]),
)

_GAMMA = Family(
    name="gamma", parameters=("mean", "sd"), location=("mean",), code=3,
    check=_check_gamma,
    support=lambda p: (0.0, math.inf),
    mean=lambda p: p["mean"],
    median=None,
    frozen=lambda stats, p: stats.gamma(a=(p["mean"] / p["sd"]) ** 2,
                                        scale=p["sd"] ** 2 / p["mean"]),
    natural=_gamma_natural,
)

_BETA = Family(
    name="beta", parameters=("mean", "sd"), location=("mean",), code=4,
    check=_check_beta,
    support=lambda p: (0.0, 1.0),
    mean=lambda p: p["mean"],
    median=None,
    frozen=_beta_frozen,
    natural=_beta_natural,
)

_UNIFORM = Family(
    name="uniform", parameters=("low", "high"), location=("low", "high"), code=5,
    check=_check_interval,
    support=_interval,
    mean=lambda p: (p["low"] + p["high"]) / 2,
    median=lambda p: (p["low"] + p["high"]) / 2,
    frozen=lambda stats, p: stats.uniform(loc=p["low"], scale=p["high"] - p["low"]),
    natural=lambda p: (p["low"], p["high"]),
)

_TRIANGULAR = Family(
    name="triangular", parameters=("low", "mode", "high"), location=("low", "mode", "high"),
    code=6,
    check=_check_interval,
    support=_interval,
    mean=lambda p: (p["low"] + p["mode"] + p["high"]) / 3,
    median=None,
    frozen=_triangular_frozen,
    natural=lambda p: (p["low"], p["mode"], p["high"]),
)

_PERT = Family(
    name="pert", parameters=("low", "mode", "high"), location=("low", "mode", "high"), code=7,
    check=_check_interval,
    support=_interval,
    mean=lambda p: (p["low"] + 4 * p["mode"] + p["high"]) / 6,
    median=None,
    frozen=_pert_frozen,
    natural=_pert_natural,
)

#: Every family by name, in the order they are documented and suggested.
FAMILY: dict[str, Family] = {
    family.name: family
    for family in (_NORMAL, _LOGNORMAL, _GAMMA, _BETA, _UNIFORM, _TRIANGULAR, _PERT)
}

#: The families and their parameter names, in the order they are written.
FAMILIES: dict[str, tuple[str, ...]] = {name: f.parameters for name, f in FAMILY.items()}

#: The kernel sampler's code of each family.
FAMILY_CODES: dict[str, int] = {name: f.code for name, f in FAMILY.items()}

#: The parameters of each family that a calibration factor multiplies.
LOCATION_PARAMETERS: dict[str, tuple[str, ...]] = {name: f.location for name, f in FAMILY.items()}


def natural_parameters(family: str, params: dict) -> np.ndarray:
    """A distribution's natural parameters, as the kernel sampler takes them.

    Parameters
    ----------
    family : str
        One of :data:`FAMILIES`.
    params : dict of str to float
        The family's (validated) parameters.

    Returns
    -------
    ndarray of float64, shape (4,)
        By family: normal (mean, sd), lognormal (log-median, sigma), gamma (shape, scale,
        mean, sd), beta (a, b), uniform (low, high), triangular (low, mode, high), pert (a, b,
        low, high); the unused entries are 0.

    Raises
    ------
    ValueError
        For an unknown family.

    Examples
    --------
    >>> natural_parameters("gamma", {"mean": 2.0, "sd": 1.0})
    array([4. , 0.5, 2. , 1. ])
    """
    if family not in FAMILY:  # pragma: no cover - validation rejects unknown families first
        raise ValueError(f"unknown distribution family {family!r}")
    values = FAMILY[family].natural(params)
    par = np.zeros(4)
    par[: len(values)] = values
    return par
