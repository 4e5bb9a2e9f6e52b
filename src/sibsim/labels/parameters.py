"""Human labels for key paths: what a per-draw parameter is, in words, from the scenario.

A key path (``transitions[3].probability.by_months_in_state[1][1]``) names one value of the
scenario exactly, but a finance officer reads "Monthly chance employed -> benefits, months
6-11 in state". :func:`parameter_label` derives such a label from the scenario itself: the
from and to states of a transition, a flow's name and state, a site's name, a contract's and
an outcome's name, the months of a step-table entry and the scenario's currency.

Every key path gets a label, whether or not the rules below know it: a path whose last parts
are not known (a distribution's parameter, a key added to the format later) is labelled by
its longest known beginning and the rest of the path in words, and a path that is not a key
path at all is shown cleaned of its brackets and dots. A label never fails.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sibsim.errors import ScenarioError
from sibsim.labels.words import (
    PHRASES,
    capitalize,
    check_language,
    humanize,
    party_in_text,
    phrase,
    state_in_text,
    word,
)
from sibsim.rules import TABLE
from sibsim.scenario.keypath import Part, get_in, parse_path

__all__ = ["parameter_label", "parameter_labels", "scenario_document"]

#: Pattern parts: any list index, any table key.
INT = object()
ANY = object()


def scenario_document(scenario: Any) -> Mapping[str, Any]:
    """The normalised document of a scenario, of a result's scenario, or ``{}``.

    Parameters
    ----------
    scenario : Scenario, dict, str, path, xarray.Dataset or None
        Anything :func:`sibsim.load_scenario` accepts, or a result of
        :func:`sibsim.simulate` (its ``scenario`` attribute), or None (no scenario: labels
        then name transitions, flows and contracts by number).

    Returns
    -------
    mapping
        ``Scenario.data``; ``{}`` for None, and for a result without a scenario attribute
        or with one this version cannot read.

    Raises
    ------
    ScenarioError
        When ``scenario`` (not a result) is given but is not a valid scenario.
    """
    from sibsim.scenario import Scenario, load_scenario

    if scenario is None:
        return {}
    if isinstance(scenario, Scenario):
        return scenario.data
    if hasattr(scenario, "data_vars"):  # a result (an xarray.Dataset)
        text = scenario.attrs.get("scenario")
        try:
            return load_scenario(text).data if isinstance(text, str) else {}
        except ScenarioError:  # a result of another version: labels by number, never a failure
            return {}
    return load_scenario(scenario).data


class _Context:
    """What the rules read: the document, the language and the currency."""

    def __init__(self, data: Mapping[str, Any], lang: str):
        self.data = data
        self.lang = lang
        self.currency = data.get("currency") or "DKK"

    def get(self, *parts: Part) -> Any:
        try:
            return get_in(self.data, parts)
        except LookupError:
            return None

    def say(self, name: str, **fields: object) -> str:
        return phrase(name, self.lang, currency=self.currency, **fields)

    def party(self, party: Any) -> str:
        return party_in_text(party, self.lang) if isinstance(party, str) else "?"

    def transition(self, i: int) -> str:
        origin, destination = self.get("transitions", i, "from"), self.get("transitions", i, "to")
        if not isinstance(origin, str) or not isinstance(destination, str):
            return f"transition {i + 1}" if self.lang == "en" else f"overgang {i + 1}"
        return self.say("transition", origin=state_in_text(origin, self.lang, alone=True),
                        destination=state_in_text(destination, self.lang, alone=True))

    def flow(self, i: int) -> str:
        name = self.get("flows", i, "name")
        if not isinstance(name, str):
            return f"flow {i + 1}" if self.lang == "en" else f"strøm {i + 1}"
        return word(name, self.lang)

    def flow_state(self, i: int) -> str:
        state = self.get("flows", i, "state")
        return state_in_text(state, self.lang) if isinstance(state, str) else ""

    def contract(self, i: int) -> str:
        name = self.get("contracts", i, "name")
        return name if isinstance(name, str) else f"contract {i + 1}"

    def outcome(self, i: int, j: int) -> str:
        name = self.get("contracts", i, "outcomes", j, "name")
        return name if isinstance(name, str) else f"{j + 1}"


Handler = Callable[..., str]


def _contract_key(c: _Context, i: int, key: str) -> str:
    if key in PHRASES and "{contract}" in PHRASES[key][0]:
        return c.say(key, contract=c.contract(i))
    return c.say("contract_key", contract=c.contract(i), key=humanize(key))


def _outcome_key(c: _Context, i: int, j: int, key: str) -> str:
    if key == "price":
        return c.say("price", contract=c.contract(i), outcome=c.outcome(i, j))
    if key in ("sustained_months", "cumulative_months"):
        state = c.get("contracts", i, "outcomes", j, "state")
        return c.say("outcome_months", contract=c.contract(i), outcome=c.outcome(i, j),
                     state=state_in_text(state, c.lang) if isinstance(state, str) else "")
    return c.say("contract_key", contract=c.contract(i),
                 key=f"{c.outcome(i, j)}, {humanize(key)}")


def _tier(c: _Context, i: int, j: int, k: int) -> str:
    name = "tier_reduction" if k == 0 else "tier_payment"
    return c.say(name, contract=c.contract(i), tier=j + 1)


def _tranche(c: _Context, i: int, j: int, key: str) -> str:
    party = c.party(c.get("contracts", i, "financing", "tranches", j, "party"))
    if key in ("amount", "return_cap_multiple"):
        return c.say("tranche_amount" if key == "amount" else key, contract=c.contract(i),
                     party=party)
    text = c.say("tranche_amount", contract=c.contract(i), party=party)
    return f"{text}, {humanize(key)}"


def _guarantee(c: _Context, i: int, j: int, key: str) -> str:
    where = ("contracts", i, "financing", "guarantees", j)
    text = c.say("guarantee_amount", contract=c.contract(i), party=c.party(c.get(*where, "party")),
                 covers=c.party(c.get(*where, "covers")))
    return text if key == "amount" else f"{text}, {humanize(key)}"


def _correlation(c: _Context, i: int) -> str:
    params = c.get("correlations", i, "params")
    if not isinstance(params, list) or not params:
        return f"Correlation {i + 1}" if c.lang == "en" else f"Korrelation {i + 1}"
    names = [_label_text(c, str(p)) for p in params]
    joined = c.say("and", first=", ".join(names[:-1]), last=names[-1]) if len(names) > 1 \
        else names[0]
    return c.say("rho", params=joined)


def _prior_months(c: _Context) -> str:
    state = c.get("cohort", "initial_state")
    return c.say("prior_months", state=state_in_text(state, c.lang) if isinstance(state, str)
                 else "")


def _transition_key(name: str) -> Handler:
    return lambda c, i: c.say(name, transition=c.transition(i))


#: (pattern, handler): the handler gets the context and the parts the wildcards matched.
RULES: Sequence[tuple[tuple[Any, ...], Handler]] = (
    (("months",), lambda c: c.say("months")),
    (("discount_rate",), lambda c: c.say("discount_rate")),
    (("discount_rates", ANY), lambda c, p: c.say("party_discount_rate", party=c.party(p))),
    (("cohort", "frailty_variance"), lambda c: c.say("frailty_variance")),
    (("cohort", "prior_months"), _prior_months),
    (("cohort", "intake_months"), lambda c: c.say("intake_months")),
    (("cohort", "initial_state"), lambda c: c.say("initial_state")),
    (("cohort", "sites", ANY, "multiplier"), lambda c, s: c.say("site_multiplier", site=s)),
    (("cohort", "sites", ANY, "size"), lambda c, s: c.say("site_size", site=s)),
    (("programme", "cost_per_participant"), lambda c: c.say("cost_per_participant")),
    (("programme", "fixed_cost"), lambda c: c.say("fixed_cost")),
    (("programme", "months"), lambda c: c.say("programme_months")),
    (("economy", "shock_sd"), lambda c: c.say("shock_sd")),
    (("economy", "shock_persistence"), lambda c: c.say("shock_persistence")),
    (("transitions", INT, "probability"), _transition_key("probability")),
    (("transitions", INT, "hazard_scale"), _transition_key("hazard_scale")),
    (("transitions", INT, "frailty"), _transition_key("frailty")),
    (("transitions", INT, "effect", "ratio"), _transition_key("effect_ratio")),
    (("transitions", INT, "effect", "half_life_months"), _transition_key("half_life_months")),
    (("transitions", INT, "effect", "fade_from_month"), _transition_key("fade_from_month")),
    (("transitions", INT, "effect", "from_month"), _transition_key("from_month")),
    (("transitions", INT, "effect", "to_month"), _transition_key("to_month")),
    (("flows", INT, "monthly"), lambda c, i: capitalize(c.say(
        "monthly", flow=c.flow(i), state=c.flow_state(i)).replace("  ", " "))),
    (("flows", INT, "split", ANY), lambda c, i, p: c.say("split", flow=c.flow(i),
                                                         party=c.party(p))),
    (("contracts", INT, "outcomes", INT, ANY), _outcome_key),
    (("contracts", INT, "tiers", INT, INT), _tier),
    (("contracts", INT, "financing", "tranches", INT, ANY), _tranche),
    (("contracts", INT, "financing", "guarantees", INT, ANY), _guarantee),
    (("contracts", INT, ANY), _contract_key),
    (("correlations", INT, "rho"), _correlation),
)


def _match(pattern: tuple[Any, ...], parts: tuple[Part, ...]) -> list[Part] | None:
    if len(pattern) != len(parts):
        return None
    captured: list[Part] = []
    for want, part in zip(pattern, parts):
        if want is INT or want is ANY:
            if isinstance(part, int) != (want is INT):
                return None
            captured.append(part)
        elif want != part:
            return None
    return captured


def _known(c: _Context, parts: tuple[Part, ...]) -> str | None:
    """The label of a path the rules know (a step-table entry included), else None."""
    for k in range(len(parts) - 2):
        if parts[k] == TABLE and isinstance(parts[k + 1], int) and parts[k + 2] in (0, 1) \
                and k + 3 == len(parts):
            head = _known(c, parts[:k])
            if head is None:
                return None
            return f"{head}, {_step(c, parts[:k + 1], parts[k + 1], parts[k + 2])}"
    for pattern, handler in RULES:
        captured = _match(pattern, parts)
        if captured is not None:
            return handler(c, *captured)
    return None


def _step(c: _Context, table: tuple[Part, ...], j: int, column: int) -> str:
    """Which entry of a step table: "months 0-11 in state" (the value) or its start."""
    if column == 0:
        return c.say("step_start", step=j + 1)
    rows = c.get(*table)
    try:
        start = int(rows[j][0])
    except (TypeError, IndexError, KeyError, ValueError):
        return c.say("step", step=j + 1)
    try:
        end = int(rows[j + 1][0]) - 1
    except (TypeError, IndexError, KeyError, ValueError):
        end = None
    months = f"{start}+" if end is None else (f"{start}" if end <= start else f"{start}-{end}")
    return c.say("months_in_state", months=months)


def _words(parts: Iterable[Part]) -> str:
    """Parts of a path in words, without brackets: ``lognormal median``, ``item 2``."""
    return " ".join(f"#{part + 1}" if isinstance(part, int) else humanize(part)
                    for part in parts)


def _label_text(c: _Context, path: str) -> str:
    try:
        parts = parse_path(path)
    except ScenarioError:
        cleaned = path.replace("[", " ").replace("]", " ").replace(".", " ")
        return capitalize(humanize(cleaned)) if isinstance(path, str) else "?"
    for end in range(len(parts), 0, -1):
        head = _known(c, parts[:end])
        if head is not None:
            rest = parts[end:]
            return head if not rest else f"{head}, {_words(rest)}"
    return capitalize(_words(parts))


def parameter_label(scenario: Any, path: str, lang: str = "en") -> str:
    """A human label for a key path of a scenario, in English or Danish.

    Parameters
    ----------
    scenario : Scenario, dict, str, path, xarray.Dataset or None
        The scenario the path belongs to (anything :func:`sibsim.load_scenario` accepts,
        or a result of :func:`sibsim.simulate`); its names (states, flows, sites,
        contracts, outcomes, parties), step tables and currency go into the label. None
        gives a label from the path alone.
    path : str
        A key path, as in ``params`` and the analyses (``"transitions[0].effect.ratio"``).
    lang : {"en", "da"}, default "en"
        The language of the label.

    Returns
    -------
    str
        The label, never empty. Names from the scenario are kept as written (a flow's
        underscores read as spaces); a path the rules do not know ends in its remaining
        parts in words; a string that is no key path comes back without its brackets.

    Raises
    ------
    ValueError
        When ``lang`` is not one of ``"en"``, ``"da"``.
    ScenarioError
        When ``scenario`` is given but is not a valid scenario.

    Examples
    --------
    >>> scenario = {"months": 24, "states": ["benefits", "employed"],
    ...             "cohort": {"initial_state": "benefits", "sites": {"Herning": {"size": 9}}},
    ...             "programme": {"months": 6},
    ...             "transitions": [{"from": "benefits", "to": "employed", "effect": {"ratio": 1.8},
    ...                              "probability": {"by_months_in_state": [[0, 0.03],
    ...                                                                     [6, 0.02]]}}]}
    >>> parameter_label(scenario, "transitions[0].effect.ratio")
    'Effect on benefits -> employed (ratio)'
    >>> parameter_label(scenario, "transitions[0].probability.by_months_in_state[0][1]")
    'Monthly chance benefits -> employed, months 0-5 in state'
    >>> parameter_label(scenario, "transitions[0].probability.by_months_in_state[1][1]", "da")
    'Månedlig sandsynlighed for ydelse -> beskæftiget, måned 6+ i tilstanden'
    >>> parameter_label(scenario, "cohort.sites.Herning.multiplier", lang="da")
    'Multiplikator for Herning'
    >>> parameter_label(None, "programme.cost_per_participant")
    'Programme cost per participant (DKK)'
    """
    return parameter_labels(scenario, [path], lang)[0]


def parameter_labels(scenario: Any, paths: Iterable[str], lang: str = "en") -> list[str]:
    """The labels of several key paths of one scenario (:func:`parameter_label`).

    Parameters
    ----------
    scenario : Scenario, dict, str, path, xarray.Dataset or None
        As for :func:`parameter_label`; read once for all the paths.
    paths : iterable of str
        Key paths.
    lang : {"en", "da"}, default "en"
        The language of the labels.

    Returns
    -------
    list of str
        One label per path, in order.

    Examples
    --------
    >>> parameter_labels(None, ["discount_rate", "economy.shock_sd"], lang="da")
    ['Diskonteringsrente (pr. år)', 'Konjunkturstødets størrelse (sd af den månedlige log-multiplikator)']
    """
    context = _Context(scenario_document(scenario), check_language(lang))
    return [_label_text(context, str(path)) for path in paths]
