"""Tests of sibsim.design: the edge of the price corridor for one price, no worse than a grid
search in two dimensions, infeasibility named, inputs checked, notes on inert terms, the
frontier, payer shares from savings and the ``design`` command.

The scenario is tiny (20 participants, 36 months, few draws): every candidate takes
milliseconds.
"""

from __future__ import annotations

import copy
import itertools

import numpy as np
import pytest

import sibsim
from sibsim.analysis.design_search import DESIGN_STATISTICS

PRICE = "contracts[0].outcomes[0].price"
MONTHS = "contracts[0].outcomes[0].sustained_months"

TINY = {
    "name": "tiny",
    "months": 48,
    "discount_rate": 0.0,
    "states": ["benefits", "employed"],
    "cohort": {"initial_state": "benefits", "intake_months": 4, "sites": {"A": {"size": 20}}},
    "programme": {"months": 6, "cost_per_participant": 20000, "fixed_cost": 0},
    "transitions": [
        {"from": "benefits", "to": "employed", "probability": 0.03,
         "effect": {"ratio": {"lognormal": {"median": 3.0, "sigma": 0.3}},
                    "from_month": 0, "to_month": 24}},
        {"from": "employed", "to": "benefits", "probability": 0.05},
    ],
    "flows": [{"name": "benefit", "state": "benefits", "category": "benefits",
               "monthly": {"uniform": {"low": 9000, "high": 11000}},
               "split": {"municipality": 0.7, "state": "rest"}}],
    "contracts": [
        {"name": "card", "type": "rate_card", "payer": "municipality",
         "outcomes": [{"name": "job", "state": "employed", "sustained_months": 3,
                       "price": 30000}]},
        {"name": "fee", "type": "fee_for_service", "payer": "municipality"},
    ],
}

DRAWS = 120
PROVIDER_SAFE = {"party": "provider", "statistic": "prob_loss", "max": 0.2}
KEEP = {"party": "municipality", "statistic": "mean"}


@pytest.fixture(scope="module")
def scenario() -> sibsim.Scenario:
    return sibsim.load_scenario(copy.deepcopy(TINY))


def statistic(scenario, values, party, name, draws=DRAWS, seed=1):
    variant = scenario
    for key, value in values.items():
        variant = variant.replace(key, value)
    result = sibsim.simulate(variant, draws=draws, seed=seed, progress=False)
    data = result["net" if name == "prob_nominal_loss" else "npv"].sel(contract="card",
                                                                       party=party)
    return DESIGN_STATISTICS[name](np.asarray(data.values))


def test_one_price_lands_on_the_corridor_edge(scenario):
    limit = 0.2
    chosen, table = sibsim.design(
        scenario, contract="card", params={PRICE: (0, 100000)}, maximize=KEEP,
        constraints=[{"party": "provider", "statistic": "prob_loss", "max": limit},
                     {"party": "municipality", "statistic": "prob_loss", "max": limit}],
        draws=DRAWS, seed=1)
    price = chosen.get(PRICE)
    tolerance = table.attrs["tolerance"][PRICE]
    assert tolerance <= 100 + 1e-9  # 1/1000 of the range
    values = np.linspace(0, 100000, 51)
    corridor = sibsim.price_corridor(scenario, PRICE, values, "card", payer="municipality",
                                     counterparty="provider", max_prob_loss=limit,
                                     draws=DRAWS, seed=1)
    ok = corridor.acceptable.to_numpy()
    first = int(np.argmax(ok))
    assert ok.any() and first > 0  # the lower edge of the acceptable range
    spacing = values[1] - values[0]
    assert values[first - 1] - tolerance <= price <= values[first] + tolerance
    # and it is the edge to the tolerance reported: feasible there, not just below
    row = table[table.chosen].iloc[0]
    assert row.feasible and row["provider_prob_loss"] <= limit
    below = table[(table[PRICE] < price) & (table[PRICE] >= price - tolerance - 1e-9)]
    assert len(below) and not below.feasible.any()
    assert spacing > tolerance


def test_no_worse_than_a_grid_search_in_two_dimensions(scenario):
    params = {PRICE: (0, 100000), MONTHS: (1, 12)}
    rules = [PROVIDER_SAFE]
    chosen, table = sibsim.design(scenario, contract="card", params=params, maximize=KEEP,
                                  constraints=rules, draws=DRAWS, seed=1)
    assert chosen.get(MONTHS) == int(chosen.get(MONTHS))
    assert set(table[MONTHS]) <= set(range(1, 13))
    best = -np.inf
    for price, months in itertools.product(np.linspace(0, 100000, 11), range(1, 13, 2)):
        values = {PRICE: float(price), MONTHS: months}
        if statistic(scenario, values, "provider", "prob_loss") <= 0.2:
            best = max(best, statistic(scenario, values, "municipality", "mean"))
    found = table[table.chosen].iloc[0]["municipality_mean"]
    assert np.isfinite(best) and found >= best - 1e-6 * abs(best)
    again = statistic(scenario, {PRICE: chosen.get(PRICE), MONTHS: chosen.get(MONTHS)},
                      "municipality", "mean")
    assert again == pytest.approx(found, rel=1e-12)


def test_infeasible_names_the_constraint_and_the_closest_candidate(scenario):
    rule = {"party": "provider", "statistic": "mean", "min": 1e9}
    with pytest.raises(sibsim.DesignInfeasible) as caught:
        sibsim.design(scenario, contract="card", params={PRICE: (0, 50000)}, maximize=KEEP,
                      constraints=[PROVIDER_SAFE, rule], draws=40, seed=1)
    error = caught.value
    assert isinstance(error, ValueError)
    assert error.constraint == "provider.mean >= 1e+09"
    assert "provider.mean >= 1e+09" in str(error) and "fails in every one" in str(error)
    # the closest candidate: the highest price, where the provider's shortfall is least
    assert error.closest == {PRICE: 50000.0}
    assert not error.table.feasible.any() and len(error.table) >= 21


@pytest.mark.parametrize("change, message", [
    ({"contract": "nope"}, "contract: got 'nope'"),
    ({"maximize": {"party": "bank", "statistic": "mean"}}, "maximize.party: got 'bank'"),
    ({"maximize": {"party": "municipality", "statistic": "npv"}},
     "maximize.statistic: got 'npv'"),
    ({"constraints": [{"party": "provider", "statistic": "prob_loss"}]},
     "exactly one of max and min"),
    ({"constraints": [{"party": "provider", "statistic": "prob_loss", "max": "x"}]},
     "constraints[0].max"),
    ({"params": {PRICE: (5, 1)}}, "low 5 > high 1"),
    ({"params": {"contracts[0].outcomes[0].state": (0, 1)}}, "expected a number"),
    ({"params": {"discount_rate": (0, 0.1)}}, "is not a term of contract 'card'"),
    ({"params": {"contracts[1].payer.municipality": (0, 1)}}, "is not a term of"),
    ({"params": {MONTHS: (1.5, 4)}}, "whole numbers"),
    ({"params": {}}, "params: got {}"),
])
def test_bad_input_is_named(scenario, change, message):
    options = dict(contract="card", params={PRICE: (0, 1e5)}, maximize=KEEP,
                   constraints=[PROVIDER_SAFE], draws=10, seed=1)
    options.update(change)
    with pytest.raises(ValueError, match=None) as caught:
        sibsim.design(scenario, **options)
    assert message in str(caught.value)


def test_unknown_key_is_a_scenario_error(scenario):
    with pytest.raises(sibsim.ScenarioError, match="outcomes\\[3\\]"):
        sibsim.design(scenario, contract="card", params={"contracts[0].outcomes[3].price":
                                                         (0, 1)}, maximize=KEEP, draws=10)


def test_table_lists_every_candidate_with_every_statistic(scenario):
    _, table = sibsim.design(scenario, contract="card", params={PRICE: (0, 60000)},
                             maximize={"party": "municipality", "statistic": "median"},
                             constraints=[PROVIDER_SAFE], draws=40, seed=2)
    for party in scenario.parties():
        for name in DESIGN_STATISTICS:
            assert f"{party}_{name}" in table
        assert f"{party}_mean_mcse" in table and f"{party}_prob_loss_mcse" in table
    assert table.chosen.sum() == 1 and table[PRICE].is_unique
    assert set(table.stage) <= {"grid", "refine", "edge"}
    failing = table[~table.feasible]
    assert (failing.fails == "provider.prob_loss <= 0.2").all()
    assert "bisection" in table.attrs["method"] and table.attrs["currency"] == "DKK"


# ---------------------------------------------------------------------------------------------
# notes on terms that do not move the result
# ---------------------------------------------------------------------------------------------

def capped(cap: float) -> sibsim.Scenario:
    doc = copy.deepcopy(TINY)
    doc["contracts"][0]["cap_per_participant"] = cap
    return sibsim.load_scenario(doc)


def test_corridor_says_when_the_cap_binds():
    table = sibsim.price_corridor(capped(40000), PRICE, [1e4, 3e4, 5e4, 7e4, 9e4], "card",
                                  payer="municipality", draws=40, seed=1)
    assert table.attrs["notes"] == [
        f"{PRICE}: cap_per_participant (40,000 DKK) binds from 50,000 DKK: higher values "
        "change nothing"]
    moving = sibsim.price_corridor(capped(1e6), PRICE, [1e4, 3e4, 5e4], "card",
                                   payer="municipality", draws=40, seed=1)
    assert moving.attrs["notes"] == []


def test_design_notes_a_binding_cap_and_a_term_that_never_moves():
    _, table = sibsim.design(capped(40000), contract="card", params={PRICE: (0, 100000)},
                             maximize=KEEP, constraints=[PROVIDER_SAFE], draws=40, seed=1)
    assert any("cap_per_participant (40,000 DKK) binds from" in n for n in table.attrs["notes"])
    doc = copy.deepcopy(TINY)
    doc["contracts"].append({"name": "share", "type": "gain_share", "payer": "municipality",
                             "share": 0.5, "threshold": 1e12, "settle_every_months": 12})
    scenario = sibsim.load_scenario(doc)
    _, table = sibsim.design(scenario, contract="share", params={"contracts[2].share": (0, 1)},
                             maximize=KEEP, draws=40, seed=1)
    (note,) = table.attrs["notes"]
    assert "no statistic moves between 0 and 1" in note and "no payment is made" in note


# ---------------------------------------------------------------------------------------------
# frontier
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def frontier_table(scenario):
    return sibsim.design_frontier(
        scenario, contract="card", params={PRICE: (0, 100000)}, keep=KEEP,
        promise={"party": "provider", "statistic": "prob_loss"},
        levels=[0.0, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0], draws=DRAWS, seed=1)


def test_frontier_is_monotone_and_each_level_is_a_design(scenario, frontier_table):
    table = frontier_table
    assert table.feasible.all()
    kept = table["municipality_mean"].to_numpy()
    assert np.all(np.diff(kept) >= 0)  # a looser promise never keeps less
    assert (table["provider_prob_loss_reached"] <= table["level"] + 1e-12).all()
    assert (table["municipality_mean_mcse"] > 0).all()
    # one level against design itself: the same value or better (the pool is larger)
    _, alone = sibsim.design(scenario, contract="card", params={PRICE: (0, 100000)},
                             maximize=KEEP, constraints=[{"party": "provider",
                                                          "statistic": "prob_loss",
                                                          "max": 0.1}], draws=DRAWS, seed=1)
    best = alone[alone.chosen].iloc[0]["municipality_mean"]
    at = table[table.level == 0.1].iloc[0]["municipality_mean"]
    assert at >= best - 1e-9 * abs(best)


def test_frontier_with_a_mean_promise_falls_and_marks_infeasible_levels(scenario):
    table = sibsim.design_frontier(
        scenario, contract="card", params={PRICE: (0, 60000)}, keep=KEEP,
        promise={"party": "provider", "statistic": "mean"}, levels=[-1e5, 0.0, 2e5, 1e9],
        draws=40, seed=1)
    assert table.attrs["bound"] == "min"
    kept = table.loc[table.feasible, "municipality_mean"].to_numpy()
    assert np.all(np.diff(kept) <= 0)
    assert not table.feasible.iloc[-1] and np.isnan(table["municipality_mean"].iloc[-1])


def test_frontier_plot_labels(frontier_table):
    import matplotlib

    matplotlib.use("Agg")
    fig = sibsim.plot.frontier(frontier_table)
    ax = fig.axes[0]
    assert "provider's P(loss)" in ax.get_xlabel() and "at most" in ax.get_xlabel()
    assert "municipality's mean npv" in ax.get_ylabel() and "DKK" in ax.get_ylabel()
    assert "card" in ax.get_title()
    with pytest.raises(ValueError, match="design_frontier"):
        sibsim.plot.frontier(frontier_table.assign(level=1.0).drop(columns="feasible"))


# ---------------------------------------------------------------------------------------------
# payer shares from where the savings land
# ---------------------------------------------------------------------------------------------

def shared_bill(rule: str | None, extra_state_flow: bool = False) -> sibsim.Scenario:
    doc = copy.deepcopy(TINY)
    doc["contracts"][0]["payer"] = {"municipality": 0.5, "state": 0.5}
    if rule is not None:
        doc["contracts"][0]["payer_shares"] = rule
    if extra_state_flow:  # savings that land on the state alone, uncertain: shares vary
        doc["flows"].append({"name": "grant", "state": "employed", "category": "benefits",
                             "monthly": {"uniform": {"low": -3000, "high": 3000}},
                             "split": {"state": 1.0}})
    return sibsim.load_scenario(doc)


def test_bill_split_in_proportion_to_savings():
    result = sibsim.simulate(shared_bill("savings"), draws=60, seed=3, progress=False)
    card = result.sel(contract="card")
    paid = card["payment"].sum("month").values  # discount rate 0: npv = net
    saved = result["savings_npv"].sum("category")  # discount rate 0: undiscounted
    muni = card["net"].sel(party="municipality").values
    state = card["net"].sel(party="state").values
    own_muni = saved.sel(payer="municipality").values
    own_state = saved.sel(payer="state").values
    some = paid > 0
    # the benefit is split 70/30, so every saving and every bill is split 70/30
    np.testing.assert_allclose((own_muni - muni)[some], 0.7 * paid[some], rtol=1e-9)
    np.testing.assert_allclose((own_state - state)[some], 0.3 * paid[some], rtol=1e-9)


def test_savings_split_keeps_the_net_identity():
    scenario = shared_bill("savings", extra_state_flow=True)
    result = sibsim.simulate(scenario, draws=80, seed=4, progress=False)
    net = result["net"].sum("party")
    saved = result["savings_npv"].sum("category")  # discount rate 0: undiscounted
    total_saved = saved.sum("payer")
    cost = result["programme_cost"].sum("month")
    for contract in result.contract.values:
        np.testing.assert_allclose(net.sel(contract=contract), total_saved - cost, rtol=1e-9,
                                   atol=1e-6)
    # shares differ between draws (the state's savings are uncertain), each within [0, 1]
    card = result.sel(contract="card")
    paid = card["payment"].sum("month").values
    muni_share = (saved.sel(payer="municipality").values
                  - card["net"].sel(party="municipality").values)[paid > 0] / paid[paid > 0]
    assert np.all((muni_share >= -1e-9) & (muni_share <= 1 + 1e-9))
    assert np.ptp(muni_share) > 0.01


def test_fixed_shares_unchanged_by_the_new_key():
    fixed = sibsim.simulate(shared_bill("fixed"), draws=30, seed=1, progress=False)
    absent = sibsim.simulate(shared_bill(None), draws=30, seed=1, progress=False)
    np.testing.assert_array_equal(fixed["npv"].values, absent["npv"].values)


def test_savings_split_needs_payers_with_flows():
    doc = copy.deepcopy(TINY)
    doc["contracts"][0]["payer"] = {"municipality": 0.5, "foundation": 0.5}
    doc["contracts"][0]["payer_shares"] = "savings"
    with pytest.raises(ValueError, match=r"contracts\[0\]\.payer_shares: got 'foundation'"):
        sibsim.simulate(doc, draws=5, seed=1, progress=False)
    doc["contracts"][0]["payer_shares"] = "by_savings"
    with pytest.raises(sibsim.ScenarioError, match="payer_shares"):
        sibsim.load_scenario(doc)


def test_design_chooses_a_payer_share():
    scenario = shared_bill("fixed")
    key = "contracts[0].payer.municipality"
    chosen, table = sibsim.design(
        scenario, contract="card", params={key: (0, 1)},
        maximize={"party": "municipality", "statistic": "mean"},
        constraints=[{"party": "state", "statistic": "prob_loss", "max": 0.3}], draws=60,
        seed=1)
    payer = chosen.data["contracts"][0]["payer"]
    assert payer["municipality"] + payer["state"] == pytest.approx(1.0)
    assert 0 <= payer["municipality"] <= 1 and payer["municipality"] == chosen.get(key)
    assert table[key].between(0, 1).all()
    # the municipality keeps more the less it pays: its share goes as low as the state allows
    feasible = table[table.feasible]
    assert chosen.get(key) == feasible[key].min()


# ---------------------------------------------------------------------------------------------
# the design command
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("design") / "tiny.toml"
    path.write_text(sibsim.load_scenario(copy.deepcopy(TINY)).to_toml(), encoding="utf-8")
    return path


def test_cli_design_prints_the_choice_and_writes_the_table(tiny_file, tmp_path, capsys):
    import pandas as pd

    from sibsim.cli import main

    out = tmp_path / "table.csv"
    code = main(["design", str(tiny_file), "--contract", "card", "--param", f"{PRICE}=0:100000",
                 "--maximize", "municipality.mean", "--constraint", "provider.prob_loss<=0.2",
                 "--draws", "60", "--out", str(out)])
    text = capsys.readouterr().out
    assert code == 0
    assert "Chosen terms:" in text and PRICE in text and "provider" in text
    assert "mean npv +- se" in text and "P(loss) +- se" in text
    table = pd.read_csv(out)
    assert table.chosen.sum() == 1 and "provider_prob_loss" in table


def test_cli_design_infeasible_says_so_and_shows_the_closest(tiny_file, tmp_path, capsys):
    from sibsim.cli import main

    out = tmp_path / "table.csv"
    code = main(["design", str(tiny_file), "--contract", "card", "--param", f"{PRICE}=0:1000",
                 "--constraint", "provider.prob_loss<=0", "--draws", "20", "--out", str(out)])
    text = capsys.readouterr().out
    assert code == 1 and out.exists()
    assert "No terms satisfy every constraint" in text and "closest candidate" in text


@pytest.mark.parametrize("argv, message", [
    (["--param", "nonsense"], "--param: got 'nonsense', expected KEY=LOW:HIGH"),
    (["--param", f"{PRICE}=5:1"], "low 5 > high 1"),
    (["--param", f"{PRICE}=0:1", "--constraint", "provider.prob_loss<0.2"],
     "--constraint: got 'provider.prob_loss<0.2'"),
    (["--param", f"{PRICE}=0:1", "--maximize", "bank.mean"], "maximize.party: got 'bank'"),
    (["--param", f"{PRICE}=0:1", "--contract", "nope"], "--contract: got 'nope'"),
])
def test_cli_design_errors_exit_2_without_traceback(tiny_file, tmp_path, capsys, argv,
                                                    message):
    from sibsim.cli import main

    base = ["design", str(tiny_file), "--contract", "card", "--draws", "5", "--out",
            str(tmp_path / "t.csv")]
    code = main(base + argv)
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "t.csv").exists()


def test_cli_design_help_states_the_defaults(capsys):
    from sibsim.cli import main

    with pytest.raises(SystemExit):
        main(["design", "--help"])
    text = capsys.readouterr().out
    for words in ("(default: 1000)", "(default: 1)", "(default: design.csv)",
                  "default: the mean of the contract's", "default: none", "default: 21 for one"):
        assert words in " ".join(text.split()), words


# ---------------------------------------------------------------------------------------------
# the built-in scenario's designed terms and the demo
# ---------------------------------------------------------------------------------------------

def test_shipped_design_file_matches_the_scenario():
    from sibsim.analysis.design_tables import pilot_designs

    designs, current = pilot_designs("danish-pilot")
    assert designs is not None, "run scripts/design_danish_pilot.py --write"
    assert current, ("src/sibsim/data/danish-pilot.toml changed since its terms were "
                     "designed: run scripts/design_danish_pilot.py --write")
    scenario = sibsim.load_scenario("danish-pilot")
    assert "shared" in scenario.contract_names()
    shared = scenario.data["contracts"][scenario.contract_names().index("shared")]
    assert shared["payer_shares"] == "savings" and set(shared["payer"]) == {"municipality",
                                                                            "state"}
    for entry in designs["designs"]:
        for key, value in entry["terms"].items():
            assert scenario.get(key) == value, key
        assert entry["constraints"] and isinstance(entry["feasible"], bool)


def test_demo_prints_each_outcome_contract_at_its_designed_terms(tmp_path, capsys):
    from sibsim.analysis.design_tables import pilot_designs
    from sibsim.cli import main

    designs, _ = pilot_designs("danish-pilot")
    assert main(["demo", "--draws", "30", "--out", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert "Designed terms" in text
    flat = " ".join(text.split())
    for entry in designs["designs"]:
        verdict = ("these terms meet every constraint" if entry["feasible"]
                   else "no terms satisfy everyone. The closest terms")
        assert f"{entry['contract']} (constraints: " in flat
        assert verdict in flat.split(f"{entry['contract']} (constraints: ", 1)[1][:300]
    assert "mean npv +- se" in text and "P(loss) +- se (points)" in text
