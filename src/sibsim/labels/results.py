"""Human labels for what a result holds: parties, states, flows, categories, contracts,
outcomes and the statistics of the summary, in English and Danish.

The coordinates of a result are the scenario's own names (``municipality``,
``cash_benefit``, ``narrow``); these functions give the words a reader sees in a table, a
plot or the report. A name the vocabulary of :mod:`sibsim.labels.words` does not know is
shown as the scenario writes it (a flow's or category's underscores read as spaces).
"""

from __future__ import annotations

from typing import Any

from sibsim.labels.parameters import scenario_document
from sibsim.labels.words import (
    MCSE,
    PARTIES,
    STATISTICS,
    capitalize,
    check_language,
    humanize,
    phrase,
    state_in_text,
    word,
)

__all__ = ["category_label", "contract_label", "flow_label", "outcome_label", "party_label",
           "state_label", "statistic_label"]


def party_label(party: str, lang: str = "en", *, capital: bool = True) -> str:
    """A party's name as a reader reads it: "Municipality", "Kommune", "Leverandør".

    Parameters
    ----------
    party : str
        The party as the result names it (``municipality``, ``provider``, ...).
    lang : {"en", "da"}, default "en"
        The language.
    capital : bool, keyword-only, default True
        Start with a capital letter (as in a table's row); False for the word inside a
        sentence. Names the vocabulary does not know are kept as written either way.

    Returns
    -------
    str

    Examples
    --------
    >>> party_label("municipality"), party_label("provider", "da"), party_label("fund", "da")
    ('Municipality', 'Leverandør', 'Fond')
    >>> party_label("Region Midtjylland", "da")
    'Region Midtjylland'
    """
    check_language(lang)
    known = PARTIES.get(party)
    if known is None:
        return humanize(party)
    text = known.en if lang == "en" else known.da
    return capitalize(text) if capital else text


def state_label(state: str, lang: str = "en") -> str:
    """A state's name: "Employed", "Beskæftiget" (the scenario's name where not known).

    Parameters
    ----------
    state : str
        The state as the scenario names it.
    lang : {"en", "da"}, default "en"

    Returns
    -------
    str

    Examples
    --------
    >>> state_label("benefits", "da"), state_label("waiting_list")
    ('Ydelse', 'Waiting list')
    """
    return capitalize(state_in_text(state, check_language(lang), alone=True))


def flow_label(flow: str, lang: str = "en") -> str:
    """A flow's name: "Cash benefit", "Kontanthjælp" (underscores read as spaces).

    Parameters
    ----------
    flow : str
        The flow's ``name`` in the scenario.
    lang : {"en", "da"}, default "en"

    Returns
    -------
    str

    Examples
    --------
    >>> flow_label("cash_benefit"), flow_label("cash_benefit", "da")
    ('Cash benefit', 'Kontanthjælp')
    """
    return capitalize(word(flow, check_language(lang)))


def category_label(category: str, lang: str = "en") -> str:
    """A flow category: "Children and family", "Børn og familie".

    Parameters
    ----------
    category : str
        The category as the scenario names it.
    lang : {"en", "da"}, default "en"

    Returns
    -------
    str

    Examples
    --------
    >>> category_label("children_family", "da")
    'Børn og familie'
    """
    return capitalize(word(category, check_language(lang)))


def contract_label(scenario: Any, contract: str, lang: str = "en") -> str:
    """A contract's name with its type: "narrow (rate card)", "narrow (takstkort)".

    Parameters
    ----------
    scenario : Scenario, dict, str, path, xarray.Dataset or None
        The scenario (or a result) that holds the contract, as for
        :func:`sibsim.labels.parameter_label`.
    contract : str
        The contract's name.
    lang : {"en", "da"}, default "en"

    Returns
    -------
    str
        The name as written, its type in words after it; the name alone when the scenario
        has no such contract.

    Examples
    --------
    >>> scenario = {"months": 24, "states": ["benefits", "employed"],
    ...             "cohort": {"initial_state": "benefits", "sites": {"Herning": {"size": 9}}},
    ...             "programme": {"months": 6},
    ...             "contracts": [{"name": "donation", "type": "grant", "funder": "fund"}]}
    >>> contract_label(scenario, "donation", "da")
    'donation (tilskud)'
    """
    check_language(lang)
    for entry in scenario_document(scenario).get("contracts", []):
        if entry.get("name") == contract:
            return phrase("contract_type", lang, contract=contract,
                          type=word(str(entry.get("type")), lang))
    return str(contract)


def outcome_label(scenario: Any, contract: str, outcome: str, lang: str = "en") -> str:
    """A rate card's outcome with what it pays for: "job_6m (6 consecutive months employed)".

    Parameters
    ----------
    scenario : Scenario, dict, str, path, xarray.Dataset or None
        The scenario (or a result), as for :func:`sibsim.labels.parameter_label`.
    contract : str
        The contract's name.
    outcome : str
        The outcome's name.
    lang : {"en", "da"}, default "en"

    Returns
    -------
    str
        The outcome's name as written, what it counts after it; the name alone when the
        scenario has no such outcome.

    Examples
    --------
    >>> card = {"name": "narrow", "type": "rate_card", "payer": "municipality",
    ...         "outcomes": [{"name": "job_6m", "state": "employed", "sustained_months": 6,
    ...                       "price": 50000},
    ...                      {"name": "job_12m", "state": "employed", "cumulative_months": 12,
    ...                       "price": 30000}]}
    >>> scenario = {"months": 24, "states": ["benefits", "employed"],
    ...             "cohort": {"initial_state": "benefits", "sites": {"Herning": {"size": 9}}},
    ...             "programme": {"months": 6}, "contracts": [card]}
    >>> outcome_label(scenario, "narrow", "job_12m")
    'job_12m (12 months employed in all)'
    >>> outcome_label(scenario, "narrow", "job_6m", "da")
    'job_6m (6 måneder i træk i beskæftigelse)'
    """
    check_language(lang)
    for entry in scenario_document(scenario).get("contracts", []):
        if entry.get("name") != contract:
            continue
        for item in entry.get("outcomes") or []:
            if item.get("name") != outcome:
                continue
            state = state_in_text(str(item.get("state")), lang)
            if item.get("sustained_months") is not None:
                return phrase("sustained", lang, outcome=outcome, state=state,
                              months=item["sustained_months"])
            if item.get("cumulative_months") is not None:
                return phrase("cumulative", lang, outcome=outcome, state=state,
                              months=item["cumulative_months"])
    return str(outcome)


def statistic_label(statistic: str, lang: str = "en") -> str:
    """What a statistic (a column of :func:`sibsim.summarize`, an analysis's) says, in words.

    Parameters
    ----------
    statistic : str
        A column name: ``mean``, ``prob_loss``, ``expected_shortfall_05``, ``irr_p50``,
        ``mean_mcse`` (a Monte Carlo standard error), ``swing``, ``index``, ...
    lang : {"en", "da"}, default "en"

    Returns
    -------
    str
        The words; an unknown name in words (underscores as spaces).

    Examples
    --------
    >>> statistic_label("prob_loss")
    'Probability of loss (npv < 0)'
    >>> statistic_label("mean_mcse", "da")
    'Monte Carlo-standardfejl: gennemsnitlig nutidsværdi'
    """
    check_language(lang)
    known = STATISTICS.get(statistic)
    if known is not None:
        return known[0] if lang == "en" else known[1]
    if statistic.endswith("_mcse") and statistic[:-5] in STATISTICS:
        inner = statistic_label(statistic[:-5], lang)
        template = MCSE[0] if lang == "en" else MCSE[1]
        return template.format(statistic=inner[:1].lower() + inner[1:])
    return capitalize(humanize(statistic))
