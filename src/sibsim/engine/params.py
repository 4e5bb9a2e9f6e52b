"""Per-draw parameter values: every real-valued number of the scenario, one value per draw.

A number given as a distribution is sampled once per draw by its inverse CDF, from the
uniform at (seed, draw, crc32(key path), 0, STREAM_PARAMETER). Keying by the path (not by a
position) means that replacing one parameter by a number, as ``tornado`` and ``sweep`` do,
never moves the random numbers of another: every variant shares its random numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sibsim.engine.rng import STREAM_PARAMETER, path_id, uniform_np
from sibsim.scenario.distributions import Distribution
from sibsim.scenario.keypath import Part, format_path


@dataclass(frozen=True)
class ParamValues:
    """Values of every per-draw number of a scenario for a set of draws.

    Attributes
    ----------
    draws : ndarray of int64, shape (D,)
        The run's draw indices these values belong to.
    values : dict of str to ndarray, shape (D,)
        Key path -> value in each draw (a constant is repeated).
    uncertain : tuple of str
        Key paths given as distributions, in document order (the ``param`` coordinate).
    """

    draws: np.ndarray
    values: dict
    uncertain: tuple

    def get(self, path: str) -> np.ndarray:
        """Values of the number at ``path``, shape (D,)."""
        try:
            return self.values[path]
        except KeyError:
            raise KeyError(f"no real-valued parameter at key path {path!r}") from None

    def at(self, *parts: Part) -> np.ndarray:
        """Values of the number at the key path made of ``parts``, shape (D,).

        The path is written by :func:`sibsim.scenario.keypath.format_path`, which quotes
        keys that need it (a site called "Region Midtjylland" or "St. Heddinge"), as the
        parameter table does.

        Examples
        --------
        >>> import numpy as np
        >>> values = ParamValues(draws=np.arange(1), uncertain=(),
        ...                      values={'cohort.sites."St. Heddinge".multiplier': np.ones(1)})
        >>> values.at("cohort", "sites", "St. Heddinge", "multiplier")
        array([1.])
        """
        return self.get(format_path(parts))

    def matrix(self) -> np.ndarray:
        """Sampled values of the uncertain parameters, shape (D, len(uncertain))."""
        if not self.uncertain:
            return np.zeros((len(self.draws), 0))
        return np.stack([self.values[p] for p in self.uncertain], axis=1)


def sample_parameters(scenario, draws: np.ndarray, seed: int) -> ParamValues:
    """Sample every per-draw number of ``scenario`` for the given draws.

    Parameters
    ----------
    scenario : Scenario
    draws : array of int
        Draw indices (draw d's values depend only on scenario, seed and d).
    seed : int

    Returns
    -------
    ParamValues
    """
    draws = np.asarray(draws, dtype=np.int64)
    values = {}
    uncertain = []
    for path, number in scenario.parameters().items():
        if isinstance(number, Distribution):
            u = uniform_np(seed, draws, path_id(path), 0, STREAM_PARAMETER)
            values[path] = np.asarray(number.ppf(u), dtype=np.float64)
            uncertain.append(path)
        else:
            values[path] = np.full(draws.shape, float(number))
    return ParamValues(draws=draws, values=values, uncertain=tuple(uncertain))
