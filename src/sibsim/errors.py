"""Errors raised by sibsim."""

from __future__ import annotations

from collections.abc import Sequence


class ScenarioError(ValueError):
    """A scenario (or an option given with it) is invalid.

    Parameters
    ----------
    problems : sequence of str
        One message per problem found. Each names the key path, the value and what was
        expected, e.g. ``"transitions[1].probability: got 1.5, expected a number in [0, 1]"``.

    Attributes
    ----------
    problems : list of str
        Every problem found, in the order found.
    """

    def __init__(self, problems: str | Sequence[str]):
        if isinstance(problems, str):
            problems = [problems]
        self.problems = list(problems)
        if len(self.problems) == 1:
            message = self.problems[0]
        else:
            message = f"{len(self.problems)} problems:\n" + "\n".join(
                f"  - {p}" for p in self.problems
            )
        super().__init__(message)


class DesignInfeasible(ValueError):
    """No candidate of :func:`sibsim.design` meets every constraint.

    Parameters
    ----------
    message : str
        What fails, in words.
    constraint : str
        The constraint that fails (in every candidate where one fails in all, else the
        first that the closest candidate misses), e.g. ``"provider.prob_loss <= 0.2"``.
    closest : dict
        The parameter values of the candidate with the smallest constraint violation.
    table : pandas.DataFrame, optional
        Every candidate evaluated, as :func:`sibsim.design` would have returned it.

    Attributes
    ----------
    constraint : str
        As above.
    closest : dict
        As above.
    table : pandas.DataFrame or None
        As above.
    """

    def __init__(self, message: str, *, constraint: str, closest: dict, table=None):
        super().__init__(message)
        self.constraint = constraint
        self.closest = dict(closest)
        self.table = table
