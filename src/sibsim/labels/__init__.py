"""Readable names for everything a person reads: parameters, parties, contracts, outcomes,
flows, states and statistics, in English (``lang="en"``) or Danish (``lang="da"``).

A parameter is named by its key path in the results and the analyses
(``transitions[3].probability.by_months_in_state[1][1]``); the tables, plots and report show
the label :func:`parameter_label` derives from the scenario instead ("Monthly chance
employed -> benefits, months 6-11 in state"). The words of each language are in
:mod:`sibsim.labels.words`.

Example
-------
>>> import sibsim
>>> from sibsim.labels import parameter_label, party_label
>>> parameter_label("danish-pilot", "programme.cost_per_participant", lang="da")
'Programomkostning pr. deltager (DKK)'
>>> party_label("municipality", lang="da")
'Kommune'
"""

from __future__ import annotations

from typing import Any

from sibsim.labels.parameters import parameter_label, parameter_labels, scenario_document
from sibsim.labels.results import (
    category_label,
    contract_label,
    flow_label,
    outcome_label,
    party_label,
    state_label,
    statistic_label,
)
from sibsim.labels.words import LANGUAGES, check_language

__all__ = [
    "LANGUAGES",
    "add_labels",
    "category_label",
    "check_language",
    "contract_label",
    "flow_label",
    "outcome_label",
    "parameter_label",
    "parameter_labels",
    "party_label",
    "scenario_document",
    "state_label",
    "statistic_label",
]


def add_labels(table: Any, scenario: Any, *, column: str = "param", lang: str = "en") -> Any:
    """A copy of a table with a ``label`` column beside its key paths.

    Parameters
    ----------
    table : pandas.DataFrame
        A table with a column of key paths (the tornado's, sensitivity's, evppi's).
    scenario : Scenario, dict, str, path, xarray.Dataset or None
        The scenario the paths belong to, as for :func:`parameter_label`.
    column : str, keyword-only, default "param"
        The column of key paths.
    lang : {"en", "da"}, keyword-only, default "en"
        The language of the labels.

    Returns
    -------
    pandas.DataFrame
        The same rows and columns (and ``attrs``), with ``label`` right after ``column``
        (replaced if the table has one already).

    Examples
    --------
    >>> import pandas as pd
    >>> table = add_labels(pd.DataFrame({"param": ["discount_rate"], "index": [0.5]}), None)
    >>> list(table.columns), table.label[0]
    (['param', 'label', 'index'], 'Discount rate (a year)')
    """
    out = table.drop(columns=["label"]) if "label" in table.columns else table.copy()
    out.insert(list(out.columns).index(column) + 1, "label",
               parameter_labels(scenario, [str(p) for p in out[column]], lang))
    out.attrs = dict(table.attrs)
    return out
