"""Human labels: every key path of a valid scenario gets a readable label in English and
Danish, the known parameters read as the examples below, and no label ever fails."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sibsim
from sibsim.labels import (
    add_labels,
    category_label,
    contract_label,
    flow_label,
    outcome_label,
    parameter_label,
    parameter_labels,
    party_label,
    state_label,
    statistic_label,
)
from sibsim.labels.words import PARTIES
from sibsim.scenario.keypath import format_path
from tests.strategies import any_contracts, odd_names, small_scenario

#: Keys the evidence issue adds (per-draw baseline levels, fading effects, uncertain
#: frailty, site multipliers and discount rate), labelled whether or not a scenario has them.
NEW_KEYS = ("hazard_scale", "effect.half_life_months", "effect.fade_from_month")


def _paths(scenario: sibsim.Scenario) -> list[str]:
    paths = list(scenario.parameters())
    paths += [f"transitions[{i}].{key}" for i in range(len(scenario.data["transitions"]))
              for key in NEW_KEYS]
    paths += ["discount_rate", "cohort.frailty_variance"]
    paths += [format_path(["cohort", "sites", site, "multiplier"]) for site in scenario.sites()]
    paths += [format_path(["discount_rates", party]) for party in scenario.parties()]
    return paths


@settings(max_examples=25)
@given(small_scenario(contracts=any_contracts, per_draw=True))
def test_every_key_path_of_a_valid_scenario_has_a_label_in_both_languages(doc):
    scenario = sibsim.load_scenario(doc)
    paths = _paths(scenario)
    english = parameter_labels(scenario, paths, "en")
    danish = parameter_labels(scenario, paths, "da")
    for path, en, da in zip(paths, english, danish):
        for label in (en, da):
            assert label.strip() and label == label.strip(), (path, label)
            assert "[" not in label and "]" not in label, (path, label)
            assert "by_months_in_state" not in label and "_" not in label.split(":")[-1], \
                (path, label)
        assert en != da, (path, en)


@settings(max_examples=40)
@given(odd_names(), st.sampled_from(["en", "da"]))
def test_a_site_is_named_as_the_scenario_writes_it(site, lang):
    doc = {"months": 12, "states": ["a", "b"],
           "cohort": {"initial_state": "a", "sites": {site: {"size": 3, "multiplier": 0.9}}},
           "programme": {"months": 1}}
    scenario = sibsim.load_scenario(doc)
    path = format_path(["cohort", "sites", site, "multiplier"])
    assert site in parameter_label(scenario, path, lang)


@given(st.text(max_size=30))
def test_any_text_gets_a_label_without_brackets(text):
    label = parameter_label(None, text)
    assert label and "[" not in label and "]" not in label


#: A scenario with the names of the Danish pilot, fixed here so that the examples do not
#: move when the built-in scenario is rebuilt.
PILOT = {
    "months": 48, "states": ["benefits", "employed"],
    "cohort": {"initial_state": "benefits",
               "sites": {"Herning": {"size": 20, "multiplier": 0.8}, "Viborg": {"size": 20}}},
    "programme": {"months": 12, "cost_per_participant": 45000},
    "transitions": [
        {"from": "benefits", "to": "employed",
         "probability": {"by_months_in_state": [[0, 0.03], [6, 0.02], [12, 0.01]]},
         "hazard_scale": {"lognormal": {"median": 1.0, "sigma": 0.3}},
         "effect": {"ratio": 1.8, "half_life_months": 24}},
        {"from": "employed", "to": "benefits", "probability": 0.02},
    ],
    "flows": [{"name": "cash_benefit", "state": "benefits", "category": "benefits",
               "monthly": 12500, "split": {"municipality": 0.8, "state": "rest"}}],
    "contracts": [
        {"name": "donation", "type": "grant", "funder": "foundation"},
        {"name": "narrow", "type": "rate_card", "payer": "municipality",
         "outcomes": [{"name": "job_6m", "state": "employed", "sustained_months": 6,
                       "price": 60000}],
         "financing": {"tranches": [{"party": "investor", "amount": 1e6}],
                       "guarantees": [{"party": "foundation", "covers": "investor",
                                       "amount": 5e5}]}},
    ],
}

PILOT_EXAMPLES = [
    ("transitions[0].probability.by_months_in_state[0][1]",
     "Monthly chance benefits -> employed, months 0-5 in state",
     "Månedlig sandsynlighed for ydelse -> beskæftiget, måned 0-5 i tilstanden"),
    ("transitions[0].probability.by_months_in_state[2][1]",
     "Monthly chance benefits -> employed, months 12+ in state",
     "Månedlig sandsynlighed for ydelse -> beskæftiget, måned 12+ i tilstanden"),
    ("transitions[1].probability", "Monthly chance employed -> benefits",
     "Månedlig sandsynlighed for beskæftiget -> ydelse"),
    ("transitions[0].effect.ratio", "Effect on benefits -> employed (ratio)",
     "Effekt på ydelse -> beskæftiget (forhold)"),
    ("transitions[0].hazard_scale",
     "Baseline level of benefits -> employed (hazard multiplier)",
     "Basisniveau for ydelse -> beskæftiget (hazard-multiplikator)"),
    ("transitions[0].effect.half_life_months",
     "Half-life of the effect on benefits -> employed (months)",
     "Halveringstid for effekten på ydelse -> beskæftiget (måneder)"),
    ("cohort.sites.Herning.multiplier", "Herning site multiplier", "Multiplikator for Herning"),
    ("cohort.frailty_variance", "Frailty variance (spread between participants)",
     "Skrøbelighedsvarians (forskel mellem deltagere)"),
    ("programme.cost_per_participant", "Programme cost per participant (DKK)",
     "Programomkostning pr. deltager (DKK)"),
    ("discount_rate", "Discount rate (a year)", "Diskonteringsrente (pr. år)"),
    ("discount_rates.investor", "Discount rate of the investor (a year)",
     "Diskonteringsrente for investoren (pr. år)"),
    ("flows[0].monthly", "Cash benefit per month on benefits (DKK)",
     "Kontanthjælp pr. måned på ydelse (DKK)"),
    ("flows[0].split.municipality", "Share of cash benefit paid by the municipality",
     "Andel af kontanthjælp betalt af kommunen"),
    ("contracts[1].outcomes[0].price", "narrow: price of outcome job_6m (DKK)",
     "narrow: pris for resultatet job_6m (DKK)"),
    ("contracts[1].financing.tranches[0].amount", "narrow: tranche of the investor (DKK)",
     "narrow: tranche fra investoren (DKK)"),
    ("contracts[1].financing.guarantees[0].amount",
     "narrow: guarantee by the foundation of the investor (DKK)",
     "narrow: garanti fra fonden til investoren (DKK)"),
]


@pytest.mark.parametrize(("path", "en", "da"), PILOT_EXAMPLES, ids=[p for p, _, _ in
                                                                   PILOT_EXAMPLES])
def test_known_labels(path, en, da):
    scenario = sibsim.load_scenario(PILOT)
    assert parameter_label(scenario, path) == en
    assert parameter_label(scenario, path, lang="da") == da


def test_every_parameter_of_the_built_in_scenarios_has_a_label():
    for name in sibsim.scenario.builtin_scenarios():
        scenario = sibsim.load_scenario(name)
        for path in scenario.parameters():
            en, da = parameter_label(scenario, path), parameter_label(scenario, path, "da")
            assert "[" not in en + da and en != da, path
            assert not any(part in en for part in path.split(".") if "_" in part), path


def test_a_result_and_no_scenario_give_labels_too():
    result = sibsim.simulate("danish-pilot", draws=4, seed=1, progress=False)
    path = "transitions[0].effect.ratio"
    assert parameter_label(result, path) == parameter_label("danish-pilot", path)
    assert parameter_label(None, path) == "Effect on transition 1 (ratio)"
    assert parameter_label(None, "contracts[2].share") == "contract 3: share of the savings paid"


def test_unknown_endings_keep_the_known_beginning():
    label = parameter_label("danish-pilot", "programme.cost_per_participant.lognormal.median")
    assert label == "Programme cost per participant (DKK), lognormal median"


def test_a_currency_other_than_dkk_is_named():
    doc = {"months": 12, "currency": "EUR", "states": ["a", "b"],
           "cohort": {"initial_state": "a", "sites": {"x": {"size": 3}}},
           "programme": {"months": 1, "fixed_cost": 10.0}}
    assert parameter_label(doc, "programme.fixed_cost") == "Programme fixed cost (EUR)"


def test_a_bad_language_is_a_clear_error():
    with pytest.raises(ValueError, match="lang: got 'fr'"):
        parameter_label(None, "discount_rate", lang="fr")
    with pytest.raises(ValueError, match="lang"):
        party_label("state", lang="de")


def test_parties_have_danish_words():
    danish = {party: party_label(party, "da") for party in PARTIES}
    assert danish["municipality"] == "Kommune" and danish["state"] == "Stat"
    assert danish["foundation"] == "Fond" and danish["provider"] == "Leverandør"
    assert danish["investor"] == "Investor"
    assert party_label("provider") == "Provider"
    assert party_label("municipality", "da", capital=False) == "kommune"
    assert party_label("Vejle's jobcenter", "da") == "Vejle's jobcenter"


def test_results_names():
    pilot = sibsim.load_scenario("danish-pilot")
    assert contract_label(pilot, "narrow") == "narrow (rate card)"
    assert contract_label(pilot, "narrow", "da") == "narrow (takstkort)"
    assert contract_label(pilot, "no such") == "no such"
    assert outcome_label(pilot, "narrow", "job_6m") == "job_6m (6 consecutive months employed)"
    assert flow_label("cash_benefit", "da") == "Kontanthjælp"
    assert category_label("tax", "da") == "Skat" and category_label("new_thing") == "New thing"
    assert state_label("employed", "da") == "Beskæftiget"
    for statistic in ("mean", "prob_loss", "expected_shortfall_05", "irr_p50", "p05_mcse"):
        assert statistic_label(statistic) != statistic_label(statistic, "da")


def test_add_labels_puts_the_label_beside_the_path():
    table = pd.DataFrame({"param": ["discount_rate", "economy.shock_sd"], "index": [0.2, 0.1]})
    table.attrs = {"note": 1}
    out = add_labels(table, None, lang="da")
    assert list(out.columns) == ["param", "label", "index"]
    assert out.attrs == {"note": 1}
    assert list(add_labels(out, None).columns) == ["param", "label", "index"]
