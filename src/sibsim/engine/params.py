"""Per-draw parameter values: every real-valued number of the scenario, one value per draw.

A number given as a distribution is sampled once per draw by its inverse CDF, from the
uniform at (seed, draw, crc32(key path), 0, STREAM_PARAMETER). Keying by the path (not by a
position) means that replacing one parameter by a number, as ``tornado`` and ``sweep`` do,
never moves the random numbers of another: every variant shares its random numbers.

Parameters named in ``[[correlations]]`` are sampled through a Gaussian copula: in each block
of correlated parameters (:mod:`sibsim.scenario.correlations`, names in document order) the
uniforms u_i above become normal scores z_i = Phi^-1(u_i), are mixed by the lower Cholesky
factor L of the block's correlation matrix, z' = L z, and go back to uniforms
u'_i = Phi(z'_i) before the inverse CDF. The first name of a block keeps its own uniform
(L's first row is (1, 0, ...)), and a parameter in no correlation keeps exactly the draws it
has without the table. Each draw's values depend only on the scenario, the seed and the draw.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri

from sibsim.engine.rng import STREAM_PARAMETER, path_id, uniform_np
from sibsim.scenario.correlations import blocks, cholesky
from sibsim.scenario.distributions import Distribution
from sibsim.scenario.keypath import Part, format_path

#: The range of the correlated uniforms: that of the generator's, so that every quantile is
#: finite (Phi(z') rounds to 0 or 1 beyond |z'| of about 8.3).
_U_LOW, _U_HIGH = 2.0**-54, 1.0 - 2.0**-53


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
    parameters = scenario.parameters()
    uniforms = {path: uniform_np(seed, draws, path_id(path), 0, STREAM_PARAMETER)
                for path, number in parameters.items() if isinstance(number, Distribution)}
    for block in blocks(scenario.get("correlations"), list(parameters)):
        mixed = correlated_uniforms([uniforms[name] for name in block.names],
                                    cholesky(block.matrix))
        uniforms.update(zip(block.names, mixed))
    values = {}
    for path, number in parameters.items():
        if isinstance(number, Distribution):
            values[path] = np.asarray(number.ppf(uniforms[path]), dtype=np.float64)
        else:
            values[path] = np.full(draws.shape, float(number))
    return ParamValues(draws=draws, values=values, uncertain=tuple(uniforms))


def correlated_uniforms(uniforms: list[np.ndarray], factor: np.ndarray) -> list[np.ndarray]:
    """Independent uniforms made dependent through a Gaussian copula.

    u'_i = Phi(sum_{j <= i} L_ij Phi^-1(u_j)) for i >= 1 and u'_0 = u_0, the sum formed term by term in j order for
    each draw on its own (never by a matrix product, whose order of summation may depend on
    the number of draws), and kept within the generator's range (2**-54, 1 - 2**-53).

    Parameters
    ----------
    uniforms : list of ndarray, each shape (D,)
        Independent uniforms, one array per parameter of the block, in the block's order.
    factor : ndarray, shape (k, k)
        The lower Cholesky factor L of the block's correlation matrix.

    Returns
    -------
    list of ndarray, each shape (D,)
        The correlated uniforms, in the same order.

    Examples
    --------
    >>> u = [np.array([0.5, 0.9]), np.array([0.5, 0.1])]
    >>> [x.round(6).tolist() for x in correlated_uniforms(u, np.eye(2))]
    [[0.5, 0.9], [0.5, 0.1]]
    """
    scores = [ndtri(u) for u in uniforms]
    out = [uniforms[0]]  # L's first row is (1, 0, ...): the first name keeps its uniform
    for i, row in enumerate(factor[1:], start=1):
        mixed = row[0] * scores[0]
        for j in range(1, i + 1):
            mixed = mixed + row[j] * scores[j]
        out.append(np.clip(ndtr(mixed), _U_LOW, _U_HIGH))
    return out
