"""Scenario loading, validation, normalisation, key paths and TOML round trips."""

from __future__ import annotations

import copy
import math
import pathlib
import pickle
import re
import tomllib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import distinct_names, odd_names

from sibsim.errors import ScenarioError
from sibsim.rules import apportion, entry_month
from sibsim.scenario import (
    Distribution,
    Scenario,
    builtin_scenarios,
    contract_schema,
    format_path,
    get_in,
    kinds,
    load_scenario,
    parse_path,
    schema,
    validate,
)

# The full example scenario: every section, a grant and three outcome-based contracts.
EXAMPLE_TOML = """
name = "Example"
months = 120
discount_rate = 0.035           # annual; month t is discounted by (1 + r) ** (-t / 12)
states = ["benefits", "employed", "education", "exited"]

[cohort]
initial_state = "benefits"
prior_months = { uniform = { low = 12, high = 60 } }
intake_months = 12
frailty_variance = 0.3
[cohort.sites.Herning]
size = 60
multiplier = 0.8
[cohort.sites.Viborg]
size = 60

[programme]
months = 12                     # per participant, from entry
cost_per_participant = 45000    # paid evenly over the participant's programme months
fixed_cost = 500000             # paid at month 0

[economy]                       # optional: a shock common to all participants and arms
shock_sd = 0.15                 # sd of the monthly log-multiplier (stationary AR(1))
shock_persistence = 0.9
transitions = [["benefits", "employed"]]

[[transitions]]
from = "benefits"
to = "employed"
probability = { by_months_in_state = [[0, 0.025], [12, 0.015], [36, 0.008]] }
frailty = true
effect = { ratio = { lognormal = { median = 1.8, sigma = 0.3 } }, from_month = 0, to_month = 24 }

[[flows]]                       # public cost per participant-month in `state`
name = "cash_benefit"
state = "benefits"
category = "benefits"
monthly = 12500
split = { municipality = { by_months_in_state = [[0, 0.2], [1, 0.6], [6, 0.7], [12, 0.8]] }, state = "rest" }

[[contracts]]
name = "donation"
type = "grant"                  # `funder` pays the programme; nothing is repaid
funder = "foundation"

[[contracts]]
name = "narrow"
type = "rate_card"              # a price per participant outcome, on the treatment arm (gross)
payer = "municipality"          # or shares: { municipality = 0.7, state = 0.3 }
outcomes = [ { name = "job_6m", state = "employed", sustained_months = 6, price = 60000 },
             { name = "job_12m", state = "employed", cumulative_months = 12, price = 40000 } ]
window_months = 36              # outcomes reached later than this after entry are not paid
cap_per_participant = 100000
cap_total = 5000000
payment_lag_months = 0

[[contracts]]
name = "broad"
type = "gain_share"             # a share of measured savings
payer = "municipality"
share = 0.5
savings_of = ["municipality"]   # whose savings are measured (default: every payer)
categories = ["benefits"]       # default: every category
baseline = "comparison_group"   # or "counterfactual" (the paired arm), "historical"
comparison_size = 200
settle_every_months = 12        # the default
threshold = 0.0                 # minimum measured relative saving of a period before it pays
cap_total = 6000000
[[contracts.financing.tranches]]   # optional: investors fund the programme of this contract
party = "investor"
amount = 6000000
return_cap_multiple = 1.5
[[contracts.financing.guarantees]]
party = "foundation"
covers = "investor"
amount = 2000000

[[contracts]]
name = "tiers"
type = "effect_tiers"           # a payment schedule on a measured relative reduction
payer = "state"
state = "benefits"              # months spent in this state per enrolled participant
baseline = "comparison_group"   # as for gain_share
comparison_size = 300
measure_at_month = 36           # measured over months 0..35, paid in month 35 plus the lag
tiers = [[0.05, 0], [0.10, 2000000], [0.25, 5000000]]   # [minimum reduction, payment]
"""

MINIMAL = {
    "months": 24,
    "states": ["out", "in"],
    "cohort": {"initial_state": "out", "sites": {"A": {"size": 10}}},
    "programme": {"months": 6},
}


def example() -> dict:
    """A fresh dict of the full example."""
    return tomllib.loads(EXAMPLE_TOML)


def everything_uncertain() -> dict:
    """The example with distributions and tables wherever they are allowed, odd site names."""
    doc = example()
    doc["discount_rate"] = {"triangular": {"low": 0.0, "mode": 0.035, "high": 0.06}}
    cohort = doc["cohort"]
    cohort["prior_months"] = {"normal": {"mean": 24, "sd": 12}}
    cohort["frailty_variance"] = {"gamma": {"mean": 0.3, "sd": 0.1}}
    cohort["sites"] = {
        "Herning": {"size": 60, "multiplier": {"lognormal": {"median": 0.8, "sigma": 0.1}}},
        "St. Heddinge": {"size": 7},
        "Nørre \"Snede\"": {"size": 13, "multiplier": 1.2},
    }
    doc["programme"]["cost_per_participant"] = {"pert": {"low": 30000, "mode": 45000,
                                                         "high": 70000}}
    doc["economy"]["shock_sd"] = {"uniform": {"low": 0.05, "high": 0.25}}
    doc["economy"]["shock_persistence"] = {"beta": {"mean": 0.8, "sd": 0.1}}
    doc["transitions"].append({
        "from": "employed", "to": "benefits",
        "probability": {"by_months_in_state": [[0, {"beta": {"mean": 0.03, "sd": 0.01}}],
                                               [6, 0.01]]},
    })
    doc["transitions"].append({"from": "benefits", "to": "exited",
                               "probability": {"uniform": {"low": 0.0, "high": 0.004}}})
    doc["flows"].append({
        "name": "health", "state": "benefits", "category": "health", "monthly": -250.5,
        "split": {"region": {"uniform": {"low": 0.4, "high": 0.7}}, "municipality": "rest",
                  "state": {"by_months_in_state": [[0, 0.0], [3, {"uniform": {"low": 0,
                                                                            "high": 0.2}}]]}},
    })
    doc["flows"].append({"name": "fixed", "state": "employed", "category": "tax",
                         "monthly": {"normal": {"mean": -3000, "sd": 500}},
                         "split": {"state": 0.75, "municipality": 0.25}})
    doc["contracts"][1]["payer"] = {"municipality": 0.7, "state": 0.3}
    doc["contracts"][1]["outcomes"][0]["price"] = {"gamma": {"mean": 60000, "sd": 5000}}
    doc["contracts"][2]["share"] = {"uniform": {"low": 0.4, "high": 0.6}}
    doc["contracts"][2]["financing"]["tranches"].append(
        {"party": "bank", "amount": {"gamma": {"mean": 1e6, "sd": 2e5}}})
    doc["contracts"][3]["tiers"][1] = [{"uniform": {"low": 0.08, "high": 0.12}}, 2e6]
    return doc


def error_of(document) -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(document)
    return caught.value


# ---------------------------------------------------------------------------------------------
# The full example
# ---------------------------------------------------------------------------------------------


def test_full_example_validates_and_is_normalised():
    s = load_scenario(EXAMPLE_TOML)
    data = s.data
    assert s.name == "Example"
    assert data["cohort"]["sites"]["Viborg"] == {"size": 60, "multiplier": 1.0}
    assert data["cohort"]["prior_months"] == {"uniform": {"low": 12.0, "high": 60.0}}
    assert data["programme"] == {"months": 12, "cost_per_participant": 45000.0,
                                 "fixed_cost": 500000.0}
    assert data["transitions"][0]["effect"]["to_month"] == 24
    narrow, broad, tiers = data["contracts"][1:]
    assert narrow["payer"] == {"municipality": 1.0}
    assert narrow["outcomes"][0]["cumulative_months"] is None
    assert narrow["financing"] is None
    assert broad["financing"]["tranches"][0]["return_cap_multiple"] == 1.5
    assert tiers["cap_total"] is None and tiers["payment_lag_months"] == 0
    assert tiers["tiers"] == [[0.05, 0.0], [0.1, 2e6], [0.25, 5e6]]
    assert isinstance(tiers["measure_at_month"], int)


def test_defaults_are_filled():
    data = load_scenario(MINIMAL).data
    assert data["name"] == "unnamed"
    assert data["discount_rate"] == 0.0
    assert data["cohort"] == {"initial_state": "out", "prior_months": 0.0, "intake_months": 0,
                              "frailty_variance": 0.0,
                              "sites": {"A": {"size": 10, "multiplier": 1.0}}}
    assert data["programme"] == {"months": 6, "cost_per_participant": 0.0, "fixed_cost": 0.0}
    assert data["economy"] is None
    assert data["transitions"] == data["flows"] == data["contracts"] == []


def test_contract_defaults():
    doc = example()
    doc["transitions"][0]["effect"] = {"ratio": 2}
    del doc["contracts"][2]["savings_of"], doc["contracts"][2]["categories"]
    del doc["contracts"][2]["settle_every_months"], doc["contracts"][2]["threshold"]
    doc["contracts"][2]["baseline"] = None  # None stands for an absent key
    del doc["contracts"][2]["comparison_size"]
    doc["flows"].append({"name": "tax", "state": "employed", "category": "tax",
                         "monthly": -2000, "split": {"state": 1}})
    doc["contracts"].append({"name": "ffs", "type": "fee_for_service", "payer": "region"})
    data = load_scenario(doc).data
    assert data["transitions"][0]["effect"] == {"ratio": 2.0, "from_month": 0, "to_month": 120,
                                                "fade_from_month": None,
                                                "half_life_months": None}
    assert data["transitions"][0]["hazard_scale"] is None
    broad = data["contracts"][2]
    assert broad["savings_of"] == ["municipality", "state"]
    assert broad["categories"] == ["benefits", "tax"]
    assert broad["baseline"] == "counterfactual" and broad["comparison_size"] is None
    assert broad["settle_every_months"] == 12 and broad["threshold"] == 0.0
    assert data["contracts"][4] == {"name": "ffs", "type": "fee_for_service",
                                    "payer": {"region": 1.0}}


def test_parameters_in_document_order():
    s = load_scenario(EXAMPLE_TOML)
    parameters = s.parameters()
    assert list(parameters) == [
        "discount_rate",
        "cohort.frailty_variance",
        "cohort.sites.Herning.multiplier",
        "cohort.sites.Viborg.multiplier",
        "programme.cost_per_participant",
        "programme.fixed_cost",
        "economy.shock_sd",
        "economy.shock_persistence",
        "transitions[0].probability.by_months_in_state[0][1]",
        "transitions[0].probability.by_months_in_state[1][1]",
        "transitions[0].probability.by_months_in_state[2][1]",
        "transitions[0].effect.ratio",
        "flows[0].monthly",
        "flows[0].split.municipality.by_months_in_state[0][1]",
        "flows[0].split.municipality.by_months_in_state[1][1]",
        "flows[0].split.municipality.by_months_in_state[2][1]",
        "flows[0].split.municipality.by_months_in_state[3][1]",
        "contracts[1].outcomes[0].price",
        "contracts[1].outcomes[1].price",
        "contracts[1].cap_per_participant",
        "contracts[1].cap_total",
        "contracts[2].share",
        "contracts[2].threshold",
        "contracts[2].cap_total",
        "contracts[2].financing.tranches[0].amount",
        "contracts[2].financing.tranches[0].return_cap_multiple",
        "contracts[2].financing.guarantees[0].amount",
        "contracts[3].tiers[0][0]",
        "contracts[3].tiers[0][1]",
        "contracts[3].tiers[1][0]",
        "contracts[3].tiers[1][1]",
        "contracts[3].tiers[2][0]",
        "contracts[3].tiers[2][1]",
    ]
    assert parameters["transitions[0].probability.by_months_in_state[1][1]"] == 0.015
    assert parameters["contracts[3].tiers[1][1]"] == 2e6
    assert all(type(v) is float for k, v in parameters.items()
               if k != "transitions[0].effect.ratio")
    assert s.uncertain() == {
        "transitions[0].effect.ratio": Distribution("lognormal", {"median": 1.8, "sigma": 0.3}),
    }
    # Every parameter path can be read back with get().
    for path, value in parameters.items():
        got = s.get(path)
        assert got == (value.to_spec() if isinstance(value, Distribution) else value)


def test_uncertain_lists_every_distribution_but_prior_months():
    s = load_scenario(everything_uncertain())
    uncertain = s.uncertain()
    assert "cohort.prior_months" not in s.parameters()
    assert list(uncertain) == [
        "discount_rate",
        "cohort.frailty_variance",
        "cohort.sites.Herning.multiplier",
        "programme.cost_per_participant",
        "economy.shock_sd",
        "economy.shock_persistence",
        "transitions[0].effect.ratio",
        "transitions[1].probability.by_months_in_state[0][1]",
        "transitions[2].probability",
        "flows[1].split.region",
        "flows[1].split.state.by_months_in_state[1][1]",
        "flows[2].monthly",
        "contracts[1].outcomes[0].price",
        "contracts[2].share",
        "contracts[2].financing.tranches[1].amount",
        "contracts[3].tiers[1][0]",
    ]
    assert "cohort.sites.\"St. Heddinge\".multiplier" in s.parameters()
    assert "contracts[1].payer.municipality" not in s.parameters()  # fixed payer shares


def test_names():
    s = load_scenario(everything_uncertain())
    assert s.states() == ["benefits", "employed", "education", "exited"]
    assert s.sites() == ["Herning", "St. Heddinge", "Nørre \"Snede\""]
    assert s.payers() == ["municipality", "state", "region"]
    assert s.categories() == ["benefits", "health", "tax"]
    assert s.contract_names() == ["donation", "narrow", "broad", "tiers"]
    assert s.parties() == ["municipality", "state", "region", "foundation", "investor", "bank",
                           "provider"]
    assert s.comparison_sizes() == [200, 300]
    assert s.comparison_site_sizes(200) == {"Herning": 150, "St. Heddinge": 18,
                                            "Nørre \"Snede\"": 32}


def test_parties_put_provider_last_once():
    doc = example()
    doc["contracts"][0]["funder"] = "provider"
    doc["contracts"].append({"name": "x", "type": "fee_for_service",
                             "payer": {"region": 0.5, "foundation": 0.5}})
    assert load_scenario(doc).parties() == ["municipality", "state", "investor", "foundation",
                                            "region", "provider"]


# ---------------------------------------------------------------------------------------------
# Round trips
# ---------------------------------------------------------------------------------------------

ROUND_TRIP = {
    "spec example": example,
    "minimal": lambda: copy.deepcopy(MINIMAL),
    "everything uncertain": everything_uncertain,
}


@pytest.mark.parametrize("make", ROUND_TRIP.values(), ids=ROUND_TRIP.keys())
def test_to_toml_round_trips(make):
    s = load_scenario(make())
    text = s.to_toml()
    again = load_scenario(text)
    assert again == s
    assert hash(again) == hash(s)
    assert again.data == s.data
    assert list(again.parameters()) == list(s.parameters())
    assert again.payers() == s.payers() and again.sites() == s.sites()
    assert again.to_toml() == text
    # The normalised document is itself valid input.
    assert load_scenario(s.data) == s
    assert load_scenario(s.to_dict()) == s


@pytest.mark.parametrize("name", builtin_scenarios())
def test_builtin_scenarios_validate_and_round_trip(name):
    s = load_scenario(name)
    assert load_scenario(s.to_toml()) == s


def test_to_toml_writes_compact_values_inline():
    text = load_scenario(EXAMPLE_TOML).to_toml()
    assert 'probability = { by_months_in_state = [[0, 0.025], [12, 0.015], [36, 0.008]] }' in text
    assert 'state = "rest"' in text
    assert "cumulative_months" in text  # written where given ...
    assert text.count("cumulative_months") == 1  # ... and None is left out
    assert "[[contracts.financing.tranches]]" in text


@st.composite
def changed_example(draw):
    """The full example with some per-draw parameters replaced by uniforms around them."""
    s = load_scenario(EXAMPLE_TOML)
    doc = s.data
    for path, value in s.parameters().items():
        if isinstance(value, Distribution) or not draw(st.booleans()):
            continue
        factor = draw(st.floats(0.0, 1.0))
        if path.endswith("return_cap_multiple") or path.endswith("tranches[0].amount"):
            replacement = {"uniform": {"low": value * (0.5 + factor / 2), "high": value}}
        elif value > 0:
            replacement = {"uniform": {"low": value * factor * (1 - 1e-9), "high": value}}
        else:
            replacement = value * factor
        parts = parse_path(path)
        get_in(doc, parts[:-1])[parts[-1]] = replacement
    return doc


@settings(deadline=None, max_examples=30)
@given(changed_example())
def test_round_trip_with_random_distributions(doc):
    try:
        s = load_scenario(doc)
    except ScenarioError as error:  # e.g. a tier reduction moved below the previous one
        assert all(re.match(r"^\S+: got .+, expected .+", p, re.S) for p in error.problems)
        return
    assert load_scenario(s.to_toml()) == s


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


def test_sources(tmp_path):
    path = tmp_path / "example.toml"
    path.write_text(EXAMPLE_TOML, encoding="utf-8")
    s = load_scenario(path)
    assert load_scenario(str(path)) == s
    assert load_scenario(EXAMPLE_TOML) == s
    assert load_scenario(example()) == s
    assert load_scenario(s) is s
    assert s.raw["cohort"]["prior_months"] == {"uniform": {"low": 12, "high": 60}}


def test_missing_file_and_unknown_name(tmp_path):
    with pytest.raises(ScenarioError, match="expected an existing scenario file"):
        load_scenario(tmp_path / "missing.toml")
    with pytest.raises(ScenarioError, match="got 'no-such-scenario', expected a built-in"):
        load_scenario("no-such-scenario")
    with pytest.raises(ScenarioError, match="got 3, expected a Scenario, a dict"):
        load_scenario(3)


@pytest.mark.parametrize("text", ["months = 3\nstates = [\n  \"a\"\n  \"b\"]\n",
                                  "months = 3\n\n[cohort\n"])
def test_toml_syntax_error_names_the_line(text, tmp_path):
    message = str(error_of(text))
    assert message.startswith("<string>: invalid TOML at line ")
    line = int(re.search(r"line (\d+)", message).group(1))
    assert line == 3 if "[cohort" in text else line == 4
    path = tmp_path / "broken.toml"
    path.write_text(text, encoding="utf-8")
    message = str(error_of(path))
    assert message.startswith(f"{path}: invalid TOML at line {line}")


def test_toml_error_at_end_of_document_still_names_a_line():
    assert "at line 2" in str(error_of("months = 3\nstates = [\n"))


def test_validate_lists_every_problem():
    assert validate(EXAMPLE_TOML) == []
    problems = validate({"months": 0, "states": "a"})
    assert problems[:2] == ["months: got 0, expected a whole number >= 1",
                            "states: got 'a', expected a non-empty list of state names"]
    assert any(p.startswith("cohort: got nothing") for p in problems)
    assert validate("not-a-scenario")[0].startswith("source: got 'not-a-scenario'")


def test_not_a_table():
    assert str(error_of([1, 2])).startswith("source: got [1, 2]")
    with pytest.raises(ScenarioError, match="<scenario>: got 'x', expected a table"):
        Scenario("x")


# ---------------------------------------------------------------------------------------------
# Bad input: every kind of problem names the key path and the value
# ---------------------------------------------------------------------------------------------

DELETE = object()
UNIFORM = {"uniform": {"low": 0.1, "high": 0.2}}
NORMAL = {"normal": {"mean": 0.5, "sd": 0.1}}

BAD = [
    # (key path to set, value or DELETE, start of the expected message)
    ("months", 0, "months: got 0, expected a whole number >= 1"),
    ("months", 1.5, "months: got 1.5, expected a whole number"),
    ("months", True, "months: got True, expected a whole number"),
    ("months", "120", "months: got '120'"),
    ("months", UNIFORM, "months: got {'uniform'"),
    ("months", DELETE, "months: got nothing (the key is missing), expected a whole number"),
    ("months", 2**31, "months: got 2147483648, expected a whole number in [1, 2147483647]"),
    ("cohort.intake_months", 500, "cohort.intake_months: got 500, expected an intake that lets"),
    ("name", "", "name: got '', expected a non-empty string"),
    ("discount_rate", -1, "discount_rate: got -1, expected a number > -1"),
    ("discount_rate", {"normal": {"mean": 0.03, "sd": 0.01}}, "discount_rate: got {'normal'"),
    ("discount_rate", math.nan, "discount_rate: got nan"),
    ("states", [], "states: got [], expected a non-empty list"),
    ("states", ["benefits", "employed", "education", "exited", "employed"],
     "states[4]: got 'employed', expected a state name not used before"),
    ("states", ["benefits", 3], "states[1]: got 3, expected a non-empty string"),
    ("cohort", DELETE, "cohort: got nothing"),
    ("cohort.initial_state", "benefit", "cohort.initial_state: got 'benefit', expected one of"),
    ("cohort.prior_months", -1, "cohort.prior_months: got -1, expected a number >= 0"),
    ("cohort.intake_months", -1, "cohort.intake_months: got -1, expected a whole number >= 0"),
    ("cohort.intake_months", 2.5, "cohort.intake_months: got 2.5"),
    ("cohort.frailty_variance", -0.1, "cohort.frailty_variance: got -0.1"),
    ("cohort.frailty_variance", NORMAL, "cohort.frailty_variance: got {'normal'"),
    ("cohort.sites", {}, "cohort.sites: got {}, expected a non-empty table of sites"),
    ("cohort.sites", [{"size": 3}], "cohort.sites: got [{'size': 3}]"),
    ("cohort.sites.Herning.size", 0, "cohort.sites.Herning.size: got 0"),
    ("cohort.sites.Herning.size", 60.5, "cohort.sites.Herning.size: got 60.5"),
    ("cohort.sites.Herning.size", DELETE, "cohort.sites.Herning.size: got nothing"),
    ("cohort.sites.Herning.multiplier", -1, "cohort.sites.Herning.multiplier: got -1"),
    ("cohort.sites.Herning.multiplier", NORMAL, "cohort.sites.Herning.multiplier: got {'normal'"),
    ("programme.months", 0, "programme.months: got 0"),
    ("programme.months", 115, "programme.months: got 115, expected a whole number <= 109"),
    ("programme.cost_per_participant", -1, "programme.cost_per_participant: got -1"),
    ("programme.fixed_cost", "lots", "programme.fixed_cost: got 'lots'"),
    ("economy.shock_sd", -0.1, "economy.shock_sd: got -0.1"),
    ("economy.shock_sd", DELETE, "economy.shock_sd: got nothing"),
    ("economy.shock_persistence", 1.5, "economy.shock_persistence: got 1.5, expected a number in"),
    ("economy.transitions", [["benefits", "exited"]],
     "economy.transitions[0]: got ['benefits', 'exited'], expected a [from, to] pair of a"),
    ("economy.transitions", [["benefits"]], "economy.transitions[0]: got ['benefits']"),
    ("economy.transitions", [["benefits", "employed"], ["benefits", "employed"]],
     "economy.transitions[1]: got ['benefits', 'employed'], expected a pair not used before"),
    ("transitions[0].from", "nowhere", "transitions[0].from: got 'nowhere', expected one of"),
    ("transitions[0].to", "benefits", "transitions[0].to: got 'benefits', expected a state other"),
    ("transitions[0].probability", 1.5, "transitions[0].probability: got 1.5, expected a number"),
    ("transitions[0].probability", -0.1, "transitions[0].probability: got -0.1"),
    ("transitions[0].probability", NORMAL, "transitions[0].probability: got {'normal'"),
    ("transitions[0].probability", {"lognormal": {"median": 0.1, "sigma": 0.1}},
     "transitions[0].probability: got {'lognormal'"),
    ("transitions[0].probability", {"by_month_in_state": [[0, 0.1]]},
     "transitions[0].probability: got {'by_month_in_state': [[0, 0.1]]}, expected a number"),
    ("transitions[0].probability", {"by_months_in_state": []},
     "transitions[0].probability.by_months_in_state: got [], expected a non-empty list"),
    ("transitions[0].probability", {"by_months_in_state": [[1, 0.1]]},
     "transitions[0].probability.by_months_in_state[0][0]: got 1, expected 0"),
    ("transitions[0].probability", {"by_months_in_state": [[0, 0.1], [6, 0.2], [6, 0.3]]},
     "transitions[0].probability.by_months_in_state[2][0]: got 6, expected a whole number > 6"),
    ("transitions[0].probability", {"by_months_in_state": [[0, 0.1], [3.5, 0.2]]},
     "transitions[0].probability.by_months_in_state[1][0]: got 3.5"),
    ("transitions[0].probability", {"by_months_in_state": [[0, 0.1], [6, 2.0]]},
     "transitions[0].probability.by_months_in_state[1][1]: got 2.0"),
    ("transitions[0].probability", {"by_months_in_state": [[0, 0.1], [6]]},
     "transitions[0].probability.by_months_in_state[1]: got [6], expected a pair"),
    ("transitions[0].probability", {"by_months_in_state": [[0, NORMAL]]},
     "transitions[0].probability.by_months_in_state[0][1]: got {'normal'"),
    ("transitions[0].probability", DELETE, "transitions[0].probability: got nothing"),
    ("transitions[0].frailty", "yes", "transitions[0].frailty: got 'yes', expected true or false"),
    ("transitions[0].effect.ratio", -1, "transitions[0].effect.ratio: got -1"),
    ("transitions[0].effect.ratio", NORMAL, "transitions[0].effect.ratio: got {'normal'"),
    ("transitions[0].effect.ratio", {"lognormal": {"median": 1.8, "sigma": -0.3}},
     "transitions[0].effect.ratio.lognormal.sigma: got -0.3, expected a number > 0"),
    ("transitions[0].effect.ratio", {"lognormal": {"median": 1.8}},
     "transitions[0].effect.ratio.lognormal.sigma: got nothing"),
    ("transitions[0].effect.ratio", DELETE, "transitions[0].effect.ratio: got nothing"),
    ("transitions[0].effect.from_month", -1, "transitions[0].effect.from_month: got -1"),
    ("transitions[0].effect.from_month", 30,
     "transitions[0].effect.to_month: got 24, expected a whole number > from_month (30)"),
    ("transitions[0].effect.to_month", 0, "transitions[0].effect.to_month: got 0"),
    ("transitions[0].effect", 1.8, "transitions[0].effect: got 1.8, expected a table"),
    ("flows[0].state", "nowhere", "flows[0].state: got 'nowhere'"),
    ("flows[0].name", 3, "flows[0].name: got 3"),
    ("flows[0].monthly", "12500", "flows[0].monthly: got '12500', expected a finite number"),
    ("flows[0].monthly", DELETE, "flows[0].monthly: got nothing"),
    ("flows[0].category", DELETE, "flows[0].category: got nothing"),
    ("flows[0].split", {}, "flows[0].split: got {}, expected a non-empty table"),
    ("flows[0].split", DELETE, "flows[0].split: got nothing"),
    ("flows[0].split", {"municipality": 0.5, "state": 0.4},
     "flows[0].split: got {'municipality': 0.5, 'state': 0.4}, expected shares summing to 1"),
    ("flows[0].split", {"municipality": "rest", "state": "rest"},
     "flows[0].split.state: got 'rest', expected at most one \"rest\" payer"),
    ("flows[0].split", {"municipality": "half", "state": "rest"},
     "flows[0].split.municipality: got 'half'"),
    ("flows[0].split", {"municipality": 1.2, "state": "rest"},
     "flows[0].split.municipality: got 1.2, expected a number in [0, 1]"),
    ("flows[0].split", {"municipality": {"by_months_in_state": [[0, 0.5], [3, 1.1]]},
                        "state": "rest"},
     "flows[0].split.municipality.by_months_in_state[1][1]: got 1.1"),
    ("flows[0].split", {"municipality": {"uniform": {"low": 0.5, "high": 0.9}}, "region": 0.2,
                        "state": "rest"},
     "flows[0].split: got {'municipality': {'uniform': {'low': 0.5, 'high': 0.9}}, 'region'"),
    ("flows[0].split", {"municipality": {"uniform": {"low": 0.5, "high": 0.9}}, "state": 0.3},
     "flows[0].split.municipality: got {'uniform': {'low': 0.5, 'high': 0.9}}, expected a fixed"),
    ("flows[0].split", {"municipality": {"by_months_in_state": [[0, 0.5], [6, 0.7]]},
                        "state": 0.5},
     "flows[0].split: got {'municipality': {'by_months_in_state': [[0, 0.5], [6, 0.7]]}, 'sta"),
    ("flows[0].split", {"municipality": {"by_months_in_state": [[0, 0.5], [6, 0.7]]},
                        "state": {"by_months_in_state": [[0, 0.5], [3, 0.4]]}, "region": "rest"},
     "flows[0].split: got"),
    ("contracts[0].type", DELETE, "contracts[0].type: got nothing"),
    ("contracts[0].type", "loan", "contracts[0].type: got 'loan', expected one of 'grant'"),
    ("contracts[0].type", ["grant"], "contracts[0].type: got ['grant']"),
    ("contracts[0].funder", DELETE, "contracts[0].funder: got nothing"),
    ("contracts[0].financing", {"tranches": []}, "contracts[0].financing: got unknown key"),
    ("contracts[1].payer", {"municipality": 0.7, "state": 0.2},
     "contracts[1].payer: got {'municipality': 0.7, 'state': 0.2}, expected shares summing to 1"),
    ("contracts[1].payer", {"municipality": UNIFORM},
     "contracts[1].payer.municipality: got {'uniform'"),
    ("contracts[1].payer", "", "contracts[1].payer: got ''"),
    ("contracts[1].payer", DELETE, "contracts[1].payer: got nothing"),
    ("contracts[1].outcomes", [], "contracts[1].outcomes: got [], expected a non-empty list"),
    ("contracts[1].outcomes[0].cumulative_months", 3,
     "contracts[1].outcomes[0]: got {'sustained_months': 6, 'cumulative_months': 3}, expected "
     "exactly one"),
    ("contracts[1].outcomes[0].sustained_months", DELETE,
     "contracts[1].outcomes[0]: got {'sustained_months': None, 'cumulative_months': None}"),
    ("contracts[1].outcomes[0].sustained_months", 0,
     "contracts[1].outcomes[0].sustained_months: got 0"),
    ("contracts[1].outcomes[0].sustained_months", 6.5,
     "contracts[1].outcomes[0].sustained_months: got 6.5"),
    ("contracts[1].outcomes[0].state", "employd",
     "contracts[1].outcomes[0].state: got 'employd', expected one of the states"),
    ("contracts[1].outcomes[0].price", -1, "contracts[1].outcomes[0].price: got -1"),
    ("contracts[1].outcomes[0].price", {"normal": {"mean": 60000, "sd": 1000}},
     "contracts[1].outcomes[0].price: got {'normal'"),
    ("contracts[1].outcomes[1].name", "job_6m",
     "contracts[1].outcomes[1].name: got 'job_6m', expected an outcome name not used before"),
    ("contracts[1].window_months", 0, "contracts[1].window_months: got 0"),
    ("contracts[1].cap_total", -1, "contracts[1].cap_total: got -1"),
    ("contracts[1].cap_per_participant", -5, "contracts[1].cap_per_participant: got -5"),
    ("contracts[1].payment_lag_months", -1, "contracts[1].payment_lag_months: got -1"),
    ("contracts[1].payment_lag_months", 1.5, "contracts[1].payment_lag_months: got 1.5"),
    ("contracts[1].share", 0.5, "contracts[1].share: got unknown key 'share'"),
    ("contracts[2].share", 1.5, "contracts[2].share: got 1.5, expected a number in [0, 1]"),
    ("contracts[2].share", DELETE, "contracts[2].share: got nothing"),
    ("contracts[2].savings_of", ["nobody"], "contracts[2].savings_of[0]: got 'nobody', expected a"),
    ("contracts[2].savings_of", [], "contracts[2].savings_of: got [], expected a non-empty list"),
    ("contracts[2].savings_of", ["state", "state"], "contracts[2].savings_of[1]: got 'state'"),
    ("contracts[2].categories", ["health"], "contracts[2].categories[0]: got 'health'"),
    ("contracts[2].baseline", "average", "contracts[2].baseline: got 'average', expected one of"),
    ("contracts[2].comparison_size", DELETE, "contracts[2].comparison_size: got nothing"),
    ("contracts[2].comparison_size", 0, "contracts[2].comparison_size: got 0"),
    ("contracts[2].settle_every_months", 0, "contracts[2].settle_every_months: got 0"),
    ("contracts[2].threshold", -0.1, "contracts[2].threshold: got -0.1"),
    ("contracts[2].financing.tranches", [], "contracts[2].financing.tranches: got []"),
    ("contracts[2].financing.tranches[0].amount", 0,
     "contracts[2].financing.tranches[0].amount: got 0, expected a number > 0"),
    ("contracts[2].financing.tranches[0].return_cap_multiple", 0,
     "contracts[2].financing.tranches[0].return_cap_multiple: got 0"),
    ("contracts[2].financing.tranches[0].party", DELETE,
     "contracts[2].financing.tranches[0].party: got nothing"),
    ("contracts[2].financing.tranches",
     [{"party": "investor", "amount": 1}, {"party": "investor", "amount": 2}],
     "contracts[2].financing.tranches[1].party: got 'investor', expected a party not used before"),
    ("contracts[2].financing.guarantees[0].covers", "investr",
     "contracts[2].financing.guarantees[0].covers: got 'investr', expected the party of a tranche"),
    ("contracts[2].financing.guarantees[0].amount", -1,
     "contracts[2].financing.guarantees[0].amount: got -1"),
    ("contracts[3].state", "nowhere", "contracts[3].state: got 'nowhere'"),
    ("contracts[3].measure_at_month", 0, "contracts[3].measure_at_month: got 0"),
    ("contracts[3].measure_at_month", 121,
     "contracts[3].measure_at_month: got 121, expected a whole number in [1, 120]"),
    ("contracts[3].tiers", [], "contracts[3].tiers: got [], expected a non-empty list"),
    ("contracts[3].tiers", [[0.1, 1], [0.05, 2]],
     "contracts[3].tiers[1][0]: got 0.05, expected a reduction above that of tiers[0] (0.1)"),
    ("contracts[3].tiers", [[0.1, 1], [0.1, 2]], "contracts[3].tiers[1][0]: got 0.1"),
    ("contracts[3].tiers", [[1.5, 1]], "contracts[3].tiers[0][0]: got 1.5"),
    ("contracts[3].tiers", [[0.1, -1]], "contracts[3].tiers[0][1]: got -1"),
    ("contracts[3].tiers", [[0.1]], "contracts[3].tiers[0]: got [0.1], expected a pair"),
    ("contracts[3].tiers", [[0.1, 1], [UNIFORM, 2]],
     "contracts[3].tiers[1][0]: got {'uniform': {'low': 0.1, 'high': 0.2}}, expected a reduction"),
    ("contracts[3].name", "broad",
     "contracts[3].name: got 'broad', expected a contract name not used before"),
    ("montsh", 3, "montsh: got unknown key 'montsh', expected one of the keys name, months"),
    ("cohort.sitez", 3, "cohort.sitez: got unknown key 'sitez'"),
    ("transitions[0].effect.ration", 2, "transitions[0].effect.ration: got unknown key"),
    ("contracts[1].outcomes[0].prize", 2, "contracts[1].outcomes[0].prize: got unknown key"),
    ("flows[0].split.municipality.by_months_in_state", 2,
     "flows[0].split.municipality.by_months_in_state: got 2, expected a non-empty list"),
]


def set_path(document: dict, path: str, value) -> None:
    parts = parse_path(path)
    parent = get_in(document, parts[:-1])
    if value is DELETE:
        del parent[parts[-1]]
    else:
        parent[parts[-1]] = copy.deepcopy(value)


@pytest.mark.parametrize(("path", "value", "message"), BAD,
                         ids=[f"{p}={v!r}"[:60] for p, v, _ in BAD])
def test_bad_input_names_path_and_value(path, value, message):
    doc = example()
    set_path(doc, path, value)
    problems = error_of(doc).problems
    assert any(p.startswith(message) for p in problems), problems
    if "by_month_in_state" in str(value):
        assert problems[0].endswith("did you mean 'by_months_in_state'?")
    for p in problems:
        assert re.match(r"^\S+: got .+, expected .+", p, re.S), p


def test_several_problems_are_all_reported():
    doc = example()
    for path, value in [("months", 0), ("cohort.sites.Herning.size", -3),
                        ("transitions[0].probability", 1.5), ("flows[0].split.state", 0.1),
                        ("contracts[2].share", 2), ("contracts[3].tiers[0][0]", -1),
                        ("cohort.sitez", 1)]:
        set_path(doc, path, value)
    error = error_of(doc)
    for start in ["months: got 0", "cohort.sites.Herning.size: got -3",
                  "transitions[0].probability: got 1.5", "flows[0].split: got",
                  "contracts[2].share: got 2", "contracts[3].tiers[0][0]: got -1",
                  "cohort.sitez: got unknown key"]:
        assert any(p.startswith(start) for p in error.problems), (start, error.problems)
    assert str(error).startswith(f"{len(error.problems)} problems:")


def test_unknown_key_suggests_the_closest():
    doc = example()
    doc["programme"]["cost_per_participnt"] = doc["programme"].pop("cost_per_participant")
    (message,) = error_of(doc).problems
    assert message.startswith("programme.cost_per_participnt: got unknown key")
    assert message.endswith("did you mean 'cost_per_participant'?")


VALID = [
    ("transitions[0].probability", {"beta": {"mean": 0.02, "sd": 0.01}}),
    ("transitions[0].probability", {"pert": {"low": 0, "mode": 0.01, "high": 1}}),
    ("transitions[0].probability", 1),
    ("cohort.prior_months", {"normal": {"mean": 10, "sd": 30}}),  # any family, clipped later
    ("cohort.intake_months", 12.0),  # a whole float is a whole number
    ("cohort.sites.Herning.multiplier", {"lognormal": {"median": 0.8, "sigma": 0.2}}),
    ("discount_rate", {"uniform": {"low": -1, "high": 0.1}}),  # end points have probability 0
    ("discount_rate", np.float64(0.02)),
    ("months", np.int64(120)),
    ("flows[0].monthly", -12500),
    ("flows[0].split", {"municipality": {"uniform": {"low": 0.2, "high": 0.8}}, "state": "rest"}),
    ("flows[0].split", {"municipality": 0.3, "state": 0.7}),
    ("flows[0].split", {"municipality": 1 / 3, "state": 1 / 3, "region": 1 / 3}),
    ("flows[0].split", {"municipality": "rest"}),
    ("contracts[1].payer", {"municipality": 0.7, "state": 0.3}),
    ("contracts[2].financing.tranches[0].return_cap_multiple", 0.9),
    ("contracts[3].measure_at_month", 120),
    ("contracts[0].funder", "provider"),
    ("transitions[0].effect", None),  # None stands for an absent optional key
    ("economy", None),
]


@pytest.mark.parametrize(("path", "value"), VALID, ids=[f"{p}={v!r}"[:60] for p, v in VALID])
def test_valid_variants(path, value):
    doc = example()
    set_path(doc, path, value)
    assert validate(doc) == []


def test_comparison_group_must_end_its_programme_within_the_horizon():
    doc = copy.deepcopy(MINIMAL)
    doc["months"], doc["programme"]["months"] = 12, 6
    doc["cohort"].update(intake_months=12, sites={"A": {"size": 2}})
    # The treated cohort: entries 0 and 6, last one ends at 6 + 6 = 12 <= 12.
    doc["flows"] = [{"name": "f", "state": "out", "category": "c", "monthly": 1,
                     "split": {"p": 1}}]
    doc["contracts"] = [{"name": "g", "type": "gain_share", "payer": "p", "share": 0.5,
                         "baseline": "comparison_group", "comparison_size": 2}]
    assert validate(doc) == []
    doc["contracts"][0]["comparison_size"] = 3  # entries 0, 4, 8: 8 + 6 > 12
    (message,) = validate(doc)
    assert message.startswith("contracts[0].comparison_size: got 3, expected a size whose")
    doc["programme"]["months"] = 7  # now the treated cohort fails too; reported once, there
    (message,) = validate(doc)
    assert message.startswith("programme.months: got 7, expected a whole number <= 6")


def test_intake_rule_uses_the_last_entry_month():
    doc = copy.deepcopy(MINIMAL)
    doc["cohort"]["intake_months"] = 30  # 10 participants: last enters at floor(9 * 30 / 10) = 27
    doc["months"], doc["programme"]["months"] = 33, 6
    assert validate(doc) == []
    doc["months"] = 32
    assert validate(doc)[0].startswith("programme.months: got 6, expected a whole number <= 5")


def test_entry_month_and_apportion():
    assert [entry_month(j, 3, 12) for j in range(3)] == [0, 4, 8]
    assert [entry_month(j, 5, 0) for j in range(5)] == [0] * 5
    assert apportion(10, [1, 1, 1]) == [4, 3, 3]
    assert apportion(200, [60, 60]) == [100, 100]
    assert apportion(7, [5, 3, 2]) == [4, 2, 1]  # 3.5, 2.1, 1.4 -> remainders .5, .1, .4
    assert apportion(0, [5, 3]) == [0, 0]


@settings(deadline=None, max_examples=100)
@given(st.integers(0, 1000), st.lists(st.integers(1, 500), min_size=1, max_size=6))
def test_apportion_is_a_largest_remainder_split(total, weights):
    shares = apportion(total, weights)
    assert sum(shares) == total
    for share, weight in zip(shares, weights, strict=True):
        quota = total * weight / sum(weights)
        assert math.floor(quota) <= share <= math.floor(quota) + 1


# ---------------------------------------------------------------------------------------------
# get, replace, immutability
# ---------------------------------------------------------------------------------------------


def test_get():
    s = load_scenario(EXAMPLE_TOML)
    assert s.get("cohort.sites.Herning.multiplier") == 0.8
    assert s.get("transitions[0].probability.by_months_in_state[1][1]") == 0.015
    assert s.get("transitions[0].effect.ratio") == {"lognormal": {"median": 1.8, "sigma": 0.3}}
    assert s.get("contracts[1].payer") == {"municipality": 1.0}
    assert s.get("flows[0].split.state") == "rest"
    with pytest.raises(ScenarioError, match=r"got 'contracts\[1\].outcomes\[0\].prise'.*did you "
                                            r"mean 'contracts\[1\].outcomes\[0\].price'"):
        s.get("contracts[1].outcomes[0].prise")


def test_replace_numbers_and_distributions():
    s = load_scenario(EXAMPLE_TOML)
    cheaper = s.replace("contracts[1].outcomes[0].price", 50000)
    assert cheaper.get("contracts[1].outcomes[0].price") == 50000.0
    assert s.get("contracts[1].outcomes[0].price") == 60000.0  # the original is unchanged
    assert cheaper != s
    assert cheaper.replace("contracts[1].outcomes[0].price", 60000) == s
    assert s.replace("contracts[2].share", np.float64(0.4)).get("contracts[2].share") == 0.4
    assert s.replace("contracts[2].share", np.array(0.3)).get("contracts[2].share") == 0.3
    table = s.replace("transitions[0].probability.by_months_in_state[1][1]", np.float32(0.5))
    assert table.get("transitions[0].probability.by_months_in_state[1][1]") == 0.5
    spec = {"beta": {"mean": 0.5, "sd": 0.1}}
    uncertain = s.replace("contracts[2].share", spec)
    assert uncertain.uncertain()["contracts[2].share"] == Distribution.from_spec(spec)
    assert s.replace("contracts[2].share", Distribution.from_spec(spec)) == uncertain
    flat = s.replace("transitions[0].probability", 0.02)
    assert "transitions[0].probability" in flat.parameters()
    assert s.replace("transitions[0].effect.ratio.lognormal.median", 2).uncertain()[
        "transitions[0].effect.ratio"].median() == 2.0
    assert s.replace("months", np.int64(100)).months == 100


def test_replace_through_defaults_and_shorthands():
    s = load_scenario(MINIMAL)
    assert s.replace("discount_rate", 0.05).get("discount_rate") == 0.05
    assert s.replace("cohort.sites.A.multiplier", 2).get("cohort.sites.A.multiplier") == 2.0
    example_scenario = load_scenario(EXAMPLE_TOML)
    moved = example_scenario.replace("contracts[2].savings_of[0]", "state")
    assert moved.get("contracts[2].savings_of") == ["state"]
    shared = example_scenario.replace("contracts[1].payer.municipality", 1)
    assert shared == example_scenario
    assert example_scenario.replace("transitions[0].effect.to_month", 36).get(
        "transitions[0].effect.to_month") == 36


def test_replace_rejects_bad_paths_and_values():
    s = load_scenario(EXAMPLE_TOML)
    for path in ["contracts[9].price", "cohort.sites.Aarhus.size", "transitions[0].effect.x",
                 "contracts[1].outcomes[0].price.normal"]:
        with pytest.raises(ScenarioError, match="expected a key path of this scenario"):
            s.replace(path, 1.0)
    for path in ["contracts[.x", "", "a..b", "[0]x", "a[-1]"]:
        with pytest.raises(ScenarioError, match="key path: got"):
            s.replace(path, 1.0)
    with pytest.raises(ScenarioError, match=r"contracts\[1\].outcomes\[0\].price: got -1"):
        s.replace("contracts[1].outcomes[0].price", -1)
    with pytest.raises(ScenarioError, match=r"transitions\[0\].probability: got {'normal'"):
        s.replace("transitions[0].probability", {"normal": {"mean": 0.1, "sd": 0.01}})


def test_scenario_is_immutable_hashable_and_picklable():
    s = load_scenario(EXAMPLE_TOML)
    data = s.data
    data["months"] = 1
    data["cohort"]["sites"]["Herning"]["size"] = 1
    s.raw["months"] = 2
    s.get("contracts")[0]["name"] = "x"
    s.parameters()["discount_rate"] = 9.0
    assert s.months == 120 and s.get("cohort.sites.Herning.size") == 60
    assert s.raw["months"] == 120 and s.get("contracts[0].name") == "donation"
    assert s.parameters()["discount_rate"] == 0.035
    with pytest.raises(AttributeError):
        s.months = 3
    with pytest.raises(AttributeError):
        s._data = {}
    assert pickle.loads(pickle.dumps(s)) == s
    assert copy.deepcopy(s) is s
    assert len({s, load_scenario(s.to_toml()), load_scenario(MINIMAL)}) == 2
    assert s != "Example"
    assert "Example" in repr(s)


def test_raw_keeps_the_input_as_given():
    doc = example()
    doc["cohort"]["sites"]["Herning"]["size"] = np.int64(60)
    doc["states"] = tuple(doc["states"])
    raw = load_scenario(doc).raw
    assert type(raw["cohort"]["sites"]["Herning"]["size"]) is int
    assert raw["states"] == ["benefits", "employed", "education", "exited"]
    assert "multiplier" not in raw["cohort"]["sites"]["Viborg"]


# ---------------------------------------------------------------------------------------------
# Key paths
# ---------------------------------------------------------------------------------------------


def test_key_path_examples():
    for path, parts in [
        ("discount_rate", ("discount_rate",)),
        ("transitions[0].probability.by_months_in_state[1][1]",
         ("transitions", 0, "probability", "by_months_in_state", 1, 1)),
        ("cohort.sites.Herning.multiplier", ("cohort", "sites", "Herning", "multiplier")),
        ("cohort.sites.Nørre-Snede.size", ("cohort", "sites", "Nørre-Snede", "size")),
        ('cohort.sites."St. Heddinge".size', ("cohort", "sites", "St. Heddinge", "size")),
        ("contracts[1].outcomes[0].price", ("contracts", 1, "outcomes", 0, "price")),
        ("flows[0].split.municipality", ("flows", 0, "split", "municipality")),
    ]:
        assert parse_path(path) == parts
        assert format_path(parts) == path


@settings(deadline=None, max_examples=200)
@given(st.lists(st.one_of(st.text(min_size=1, max_size=8), st.integers(0, 10**6)),
                min_size=1, max_size=6).filter(lambda p: isinstance(p[0], str)))
def test_key_paths_round_trip(parts):
    assert parse_path(format_path(parts)) == tuple(parts)


# ---------------------------------------------------------------------------------------------
# Names with spaces, dots, quotes and Danish letters, everywhere a name is a key
# ---------------------------------------------------------------------------------------------

#: Names that key paths must quote (or that merely look odd): see tests/strategies.py.
names = odd_names()


@st.composite
def named_scenarios(draw) -> dict:
    """A valid scenario whose sites, payers, categories, flows, contracts, outcomes and parties
    have names that key paths must quote (or that merely look odd)."""
    sites = draw(st.lists(names, min_size=1, max_size=3, unique=True))
    payers = draw(st.lists(names, min_size=2, max_size=4, unique=True))
    categories = draw(st.lists(names, min_size=1, max_size=2, unique=True))
    flow_names = draw(st.lists(names, min_size=1, max_size=3, unique=True))
    contract_names = draw(distinct_names(5))
    outcome_names = draw(distinct_names(2))
    investor, guarantor = draw(distinct_names(2))
    flows = []
    for i, name in enumerate(flow_names):
        rest, *others = draw(st.lists(st.sampled_from(payers), min_size=1, unique=True))
        split = {rest: "rest"}
        for payer in others:
            share = draw(st.floats(0.0, 1.0 / len(others)))
            split[payer] = (share if draw(st.booleans()) else
                            {"uniform": {"low": 0.0, "high": max(share, 1e-3) / 2}})
        flows.append({"name": name, "state": ["benefits", "employed"][i % 2],
                      "category": draw(st.sampled_from(categories)),
                      "monthly": draw(st.floats(-2e4, 2e4)), "split": split})
    flow_payers = list(dict.fromkeys(p for flow in flows for p in flow["split"]))
    flow_categories = list(dict.fromkeys(flow["category"] for flow in flows))
    contracts = [
        {"name": contract_names[0], "type": "grant", "funder": guarantor},
        {"name": contract_names[1], "type": "fee_for_service", "payer": payers[0]},
        {"name": contract_names[2], "type": "rate_card",
         "payer": {payers[0]: 0.25, payers[1]: 0.75},
         "outcomes": [{"name": outcome_names[0], "state": "employed", "sustained_months": 6,
                       "price": {"gamma": {"mean": 5e4, "sd": 1e4}}},
                      {"name": outcome_names[1], "state": "employed", "cumulative_months": 3,
                       "price": 2e4}],
         "financing": {"tranches": [{"party": investor, "amount": 1e6,
                                     "return_cap_multiple": 1.5}],
                       "guarantees": [{"party": guarantor, "covers": investor,
                                       "amount": 2e5}]}},
        {"name": contract_names[3], "type": "gain_share", "payer": payers[1], "share": 0.5,
         "savings_of": draw(st.lists(st.sampled_from(flow_payers), min_size=1, unique=True)),
         "categories": draw(st.lists(st.sampled_from(flow_categories), min_size=1,
                                     unique=True))},
        {"name": contract_names[4], "type": "effect_tiers", "payer": {payers[1]: 1.0},
         "state": "benefits", "measure_at_month": 24, "tiers": [[0.05, 1e5], [0.1, 3e5]]},
    ]
    return {
        "name": draw(names), "months": 48, "states": ["benefits", "employed"],
        "cohort": {"initial_state": "benefits", "intake_months": 6, "sites": {
            site: {"size": 5 + i, "multiplier": [1.0, 0.9, {"lognormal": {
                "median": 1.1, "sigma": 0.1}}][i]} for i, site in enumerate(sites)}},
        "programme": {"months": 12, "cost_per_participant": 4e4},
        "transitions": [{"from": "benefits", "to": "employed", "probability": 0.03},
                        {"from": "employed", "to": "benefits", "probability": 0.02}],
        "flows": flows,
        "contracts": contracts,
    }


def _same_leaf(value, leaf) -> bool:
    return value == (leaf.to_spec() if isinstance(leaf, Distribution) else leaf)


@settings(deadline=None, max_examples=60)
@given(named_scenarios())
def test_odd_names_validate_and_every_parameter_path_parses_back(doc):
    s = load_scenario(doc)
    assert s.sites() == list(doc["cohort"]["sites"])
    assert set(s.payers()) <= {p for flow in doc["flows"] for p in flow["split"]}
    parameters = s.parameters()
    site_paths = {format_path(("cohort", "sites", site, "multiplier")) for site in s.sites()}
    assert site_paths <= set(parameters)
    for path, leaf in parameters.items():
        parts = parse_path(path)
        assert format_path(parts) == path
        assert _same_leaf(get_in(s.data, parts), leaf), path
        assert _same_leaf(s.get(path), leaf), path
    for path, distribution in s.uncertain().items():
        assert parameters[path] == distribution
    for flow_index, flow in enumerate(doc["flows"]):
        for payer in flow["split"]:
            assert s.get(format_path(("flows", flow_index, "split", payer))) is not None


@settings(deadline=None, max_examples=30)
@given(named_scenarios())
def test_odd_names_replace_at_every_parameter_path(doc):
    s = load_scenario(doc)
    for path in s.parameters():
        assert s.replace(path, s.get(path)) == s, path
    for site in s.sites():
        path = format_path(("cohort", "sites", site, "multiplier"))
        changed = s.replace(path, 1.25)
        assert changed.get(path) == 1.25
        assert changed.parameters()[path] == 1.25
        assert changed.sites() == s.sites()
        with pytest.raises(ScenarioError) as caught:
            s.replace(path, -1.0)
        assert caught.value.problems[0].startswith(f"{path}: got -1.0, expected")
        size = format_path(("cohort", "sites", site, "size"))
        assert s.replace(size, 3).get(size) == 3
    for path, leaf in s.parameters().items():
        parts = parse_path(path)
        if parts[0] == "flows" and parts[2] == "split" and not isinstance(leaf, Distribution):
            spec = {"uniform": {"low": 0.0, "high": max(leaf, 1e-3) / 2}}
            assert s.replace(path, spec).uncertain()[path] == Distribution.from_spec(spec)
    party = format_path(("contracts", 2, "payer", s.get("contracts[2].payer").popitem()[0]))
    assert s.replace(party, 0.75) == s.replace("contracts[2].payer", {
        name: 0.75 if format_path(("contracts", 2, "payer", name)) == party else 0.25
        for name in s.get("contracts[2].payer")})


@settings(deadline=None, max_examples=40)
@given(named_scenarios())
def test_odd_names_round_trip_through_toml(doc):
    s = load_scenario(doc)
    text = s.to_toml()
    again = load_scenario(text)
    assert again == s
    assert list(again.parameters()) == list(s.parameters())
    assert again.parties() == s.parties()
    assert tomllib.loads(text)["cohort"]["sites"].keys() == s.data["cohort"]["sites"].keys()


@settings(deadline=None, max_examples=40)
@given(named_scenarios(), st.sampled_from(["sise", "multiplyer"]))
def test_odd_names_are_quoted_in_problems(doc, key):
    site = next(iter(doc["cohort"]["sites"]))
    doc["cohort"]["sites"][site][key] = 1
    problems = validate(doc)
    where = format_path(("cohort", "sites", site, key))
    assert len(problems) == 1
    assert problems[0].startswith(f"{where}: got unknown key {key!r}")
    assert parse_path(where) == ("cohort", "sites", site, key)


# ---------------------------------------------------------------------------------------------
# The reference page documents every key
# ---------------------------------------------------------------------------------------------


def _schema_keys(kind, seen=None) -> set[str]:
    seen = set() if seen is None else seen
    if id(kind) in seen:
        return set()
    seen.add(id(kind))
    keys: set[str] = set()
    if isinstance(kind, kinds.Table):
        for name, field in kind.fields.items():
            keys.add(name)
            keys |= _schema_keys(field.kind, seen)
    for attribute in ("item", "first", "second", "real", "share"):
        if hasattr(kind, attribute):
            keys |= _schema_keys(getattr(kind, attribute), seen)
    if isinstance(kind, contract_schema.ContractKind):
        for table in kind.tables.values():
            keys |= _schema_keys(table, seen)
    return keys


def test_reference_page_documents_every_key():
    page = pathlib.Path(__file__).resolve().parents[1] / "docs" / "scenario.rst"
    text = page.read_text(encoding="utf-8")
    keys = _schema_keys(schema.SCENARIO)
    assert {"months", "tiers", "return_cap_multiple", "measure_at_month"} <= keys
    missing = sorted(key for key in keys if f"``{key}``" not in text)
    assert not missing
    for word in ["by_months_in_state", "rest", "normal", "lognormal", "gamma", "beta", "uniform",
                 "triangular", "pert", "grant", "fee_for_service", "rate_card", "gain_share",
                 "effect_tiers", "counterfactual", "comparison_group", "historical"]:
        assert f"``{word}``" in text or f'``"{word}"``' in text, word
