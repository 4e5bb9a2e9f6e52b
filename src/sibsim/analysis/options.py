"""Checks of the analyses' arguments, written once.

Every analysis checks its options before it simulates anything, and words a problem as the
rest of sibsim does: ``"<option>: got <value>, expected <what>"`` (see
:func:`sibsim.scenario.keypath.problem`). The values an analysis puts at a key path (a
number, a numpy number or a distribution) are made plain Python values here, and labelled
for the ``value`` coordinate of a sweep.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from sibsim.scenario import Scenario
from sibsim.scenario.distributions import Distribution, as_real
from sibsim.scenario.keypath import format_path, problem, show

__all__ = ["check_name", "check_param_path", "check_real_param", "check_values",
           "is_whole_number", "real_pair", "value_labels"]


def check_name(option: str, value: Any, known: Sequence[str]) -> str:
    """``value`` when it is one of ``known``; a ValueError naming ``option`` otherwise.

    Parameters
    ----------
    option : str
        The argument's name, for the message.
    value : object
        What was given.
    known : sequence of str
        The valid names.

    Returns
    -------
    str
        ``value``.

    Examples
    --------
    >>> check_name("party", "bank", ["municipality", "provider"])
    Traceback (most recent call last):
    ...
    ValueError: party: got 'bank', expected one of ['municipality', 'provider']
    """
    if not isinstance(value, str) or value not in known:
        raise ValueError(f"{option}: got {show(value)}, expected one of {list(known)}")
    return value


def is_whole_number(value: Any) -> bool:
    """True for a Python or numpy integer (not a bool).

    Parameters
    ----------
    value : object
        Anything.

    Returns
    -------
    bool
    """
    return not isinstance(value, (bool, np.bool_)) and isinstance(value, (int, np.integer))


def real_pair(value: Any) -> tuple[float, float] | None:
    """Two real numbers from a pair such as ``(lo, hi)``; None when it is not one.

    Parameters
    ----------
    value : object
        A sequence of two numbers, presumably.

    Returns
    -------
    (float, float) or None
    """
    try:
        first, second = (as_real(item) for item in value)
    except (TypeError, ValueError):
        return None
    if first is None or second is None:
        return None
    return first, second


def check_param_path(scenario: Scenario, param: Any) -> str:
    """A key path that exists in the scenario (a ScenarioError names it otherwise).

    Parameters
    ----------
    scenario : Scenario
        The scenario.
    param : object
        The key path given.

    Returns
    -------
    str
        ``param``.
    """
    if not isinstance(param, str):
        raise ValueError(f"param: got {show(param)}, expected a key path such as "
                         "'contracts[1].outcomes[0].price'")
    scenario.get(param)
    return param


def check_real_param(scenario: Scenario, param: Any) -> str:
    """A key path of a real-valued per-draw parameter (a number or a distribution).

    Parameters
    ----------
    scenario : Scenario
        The scenario.
    param : object
        The key path given.

    Returns
    -------
    str
        ``param``.
    """
    check_param_path(scenario, param)
    if param not in scenario.parameters():
        raise ValueError(
            f"param: got {param!r}, expected the key path of a real-valued parameter "
            f"(a number or a distribution; see Scenario.parameters())")
    return param


def _plain_value(value: Any, where: str) -> Any:
    """One value to put at a key path: a Python number, or a mapping (distribution, table)."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, Distribution):
        return value.to_spec()
    if isinstance(value, Mapping):
        return json.loads(json.dumps(_jsonable(value)))
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(problem(where, value, "a number or a distribution"))
    if isinstance(value, (int, np.integer)):
        return int(value)
    number = as_real(value)
    if number is None:
        raise ValueError(problem(where, value, "a number or a distribution"))
    if not math.isfinite(number):
        raise ValueError(problem(where, value, "a finite number"))
    return number


def _jsonable(value: Any) -> Any:
    if isinstance(value, Distribution):
        return value.to_spec()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    return value


def check_values(values: Any) -> list[Any]:
    """The values of a sweep as plain Python numbers or mappings, at least one, no repeats.

    Parameters
    ----------
    values : object
        A number, a distribution, or a sequence (or 1-d numpy array) of them.

    Returns
    -------
    list
        Python ints and floats, and dicts for distributions and tables.

    Raises
    ------
    ValueError
        Naming the value (``values[i]``) that is not a finite number or a distribution,
        or when there is none or a repeat.
    """
    if isinstance(values, np.ndarray):
        if values.ndim > 1:
            raise ValueError(f"values: got an array of shape {values.shape}, expected a "
                             "1-d sequence of numbers or distributions")
        values = [values[()]] if values.ndim == 0 else list(values)
    elif isinstance(values, (Mapping, Distribution)) or as_real(values) is not None:
        values = [values]
    elif isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise ValueError(f"values: got {show(values)}, expected a sequence of numbers or "
                         "distributions")
    out = [_plain_value(v, format_path(["values", i])) for i, v in enumerate(values)]
    if not out:
        raise ValueError("values: got an empty sequence, expected at least one value")
    labels = value_labels(out)
    if len(set(labels.tolist())) != len(out):
        raise ValueError(f"values: got {show(values)}, expected distinct values")
    return out


def value_labels(values: list[Any]) -> np.ndarray:
    """The ``value`` coordinate of a sweep: float64 when every value is a number, else JSON.

    Parameters
    ----------
    values : list
        Values from :func:`check_values`.

    Returns
    -------
    numpy.ndarray
        float64 numbers, or the JSON text of each value.

    Examples
    --------
    >>> value_labels([1.5, {"lognormal": {"median": 2.0, "sigma": 0.3}}]).tolist()
    ['1.5', '{"lognormal": {"median": 2.0, "sigma": 0.3}}']
    """
    if all(not isinstance(v, Mapping) for v in values):
        return np.asarray(values, dtype=np.float64)
    return np.asarray([json.dumps(v, sort_keys=False) for v in values], dtype=object).astype(str)
