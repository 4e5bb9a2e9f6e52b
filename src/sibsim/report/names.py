"""Readable names of the scenario's parameters in the report's language.

:func:`_parameter_label` is the one place where the report turns a key path
(``transitions[0].effect.ratio``) into words (``programme effect on benefits → employed``);
everything in the report that names a parameter goes through it.
"""

from __future__ import annotations

from sibsim.report.words import WORDS, name
from sibsim.scenario.keypath import parse_path

__all__ = ["_parameter_label"]


def _edge(scenario, index: int, lang: str) -> str:
    transition = scenario.data["transitions"][index]
    return f"{name(transition['from'], lang)} → {name(transition['to'], lang)}"


def _transition_label(scenario, parts: list, lang: str) -> str | None:
    words = WORDS[lang]
    edge = _edge(scenario, parts[1], lang)
    rest = parts[2:]
    if rest[:1] == ["probability"]:
        label = words["p_chance"].format(edge=edge)
        if rest[1:2] == ["by_months_in_state"] and len(rest) >= 3:
            table = scenario.data["transitions"][parts[1]]["probability"]["by_months_in_state"]
            label += " " + words["months_in_state"].format(m=table[rest[2]][0])
        return label
    if rest == ["hazard_scale"]:
        return words["p_level"].format(edge=edge)
    if rest == ["effect", "ratio"]:
        return words["p_effect"].format(edge=edge)
    if rest == ["effect", "half_life_months"]:
        return words["p_half_life"].format(edge=edge)
    return None


def _contract_label(scenario, parts: list, lang: str) -> str | None:
    words = WORDS[lang]
    contract = scenario.data["contracts"][parts[1]]
    rest = parts[2:]
    if len(rest) == 3 and rest[0] == "outcomes" and rest[2] == "price":
        outcome = contract["outcomes"][rest[1]]["name"]
        return words["p_price"].format(outcome=name(outcome, lang), contract=contract["name"])
    if rest == ["share"]:
        return words["p_share"].format(contract=contract["name"])
    return None


def _parameter_label(scenario, path: str, lang: str) -> str:
    """A parameter's key path in words, in the report's language.

    Parameters
    ----------
    scenario : Scenario
        The scenario the path lies in.
    path : str
        The key path, as in a result's ``param`` dimension.
    lang : str
        ``"en"`` or ``"da"``.

    Returns
    -------
    str
        The words; the key path itself for a path this function does not know.

    Examples
    --------
    >>> import sibsim
    >>> scenario = sibsim.load_scenario("danish-pilot")
    >>> _parameter_label(scenario, "transitions[0].effect.ratio", "en")
    'programme effect on benefits → employed'
    >>> _parameter_label(scenario, "contracts[1].outcomes[0].price", "da")
    'pris for job 6m (»narrow«)'
    """
    words = WORDS[lang]
    try:
        parts = list(parse_path(path))
        head = parts[0]
        found = None
        if head == "transitions":
            found = _transition_label(scenario, parts, lang)
        elif head == "contracts":
            found = _contract_label(scenario, parts, lang)
        elif head == "flows" and parts[2:] == ["monthly"]:
            flow = scenario.data["flows"][parts[1]]["name"]
            found = words["p_flow"].format(flow=name(flow, lang))
        elif parts == ["programme", "cost_per_participant"]:
            found = words["p_cost"]
        elif parts == ["programme", "fixed_cost"]:
            found = words["p_fixed_cost"]
        elif parts == ["cohort", "frailty_variance"]:
            found = words["p_frailty"]
        elif parts == ["discount_rate"]:
            found = words["p_discount"]
        elif parts[:2] == ["cohort", "sites"] and parts[3:] == ["multiplier"]:
            found = words["p_site"].format(site=parts[2])
    except (LookupError, TypeError, ValueError, KeyError):
        found = None
    return found if found is not None else path
