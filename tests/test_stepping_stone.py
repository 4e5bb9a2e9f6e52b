"""``sibsim.stepping_stone`` and ``sibsim.evsi_curve``: the value of a pilot's results.

A small model where the decision turns on the effect: a municipality pays a rate card per
job, or does not contract ("none"); whether the card pays off depends on the effect ratio,
which the pilot's counts inform. Tolerances are Monte Carlo errors (the estimators' own
``evsi_mcse``), a few of them.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import sibsim
from sibsim.analysis import preposterior as pp
from sibsim.analysis.stepping_stone import SteppingStoneWarning
from sibsim.errors import ScenarioError
from sibsim.scenario import Scenario

EFFECT = "transitions[0].effect.ratio"
PILOT = {"state": "employed", "months_since_entry": 6}


def small(price: float = 40000.0) -> Scenario:
    return Scenario({
        "months": 24, "states": ["benefits", "employed"],
        "cohort": {"initial_state": "benefits", "sites": {"A": {"size": 40}}},
        "programme": {"months": 6, "cost_per_participant": 20000},
        "transitions": [
            {"from": "benefits", "to": "employed", "probability": 0.04,
             "effect": {"ratio": {"lognormal": {"median": 1.6, "sigma": 0.5}},
                        "from_month": 0}},
            {"from": "employed", "to": "benefits", "probability": 0.03}],
        "flows": [{"name": "benefit", "state": "benefits", "category": "benefits",
                   "monthly": {"normal": {"mean": 10000, "sd": 1000}},
                   "split": {"municipality": 1.0}}],
        "contracts": [{"name": "card", "type": "rate_card", "payer": "municipality",
                       "outcomes": [{"name": "job", "state": "employed",
                                     "sustained_months": 3, "price": price}],
                       "window_months": 18}],
    })


KW = {"party": "municipality", "contracts": ["card", "none"], "params": [EFFECT]}


@pytest.fixture(scope="module")
def scenario():
    return small()


@pytest.fixture(scope="module")
def curve(scenario):
    return sibsim.evsi_curve(scenario, pilot=PILOT, sizes=[0, 5, 20, 80, 400], outer=200,
                             draws=600, **KW)


def test_a_pilot_of_size_zero_is_worth_exactly_zero(curve, scenario):
    row = curve.set_index("size").loc[0]
    assert row["evsi"] == 0.0 and row["evsi_mcse"] == 0.0
    value, runs = sibsim.stepping_stone(scenario, pilot={**PILOT, "size": 0}, outer=20,
                                        draws=100, **KW)
    assert value["evsi"] == 0.0
    assert (runs["choice"] == value["prior_choice"]).all()
    assert (runs["count[treatment]"] == 0).all()


def test_evsi_is_between_zero_and_evppi_within_its_error(curve):
    for _, row in curve.iterrows():
        assert row["evsi"] >= -3 * row["evsi_mcse"]
        assert row["evsi"] <= row["evppi"] + 1e-9  # paired: holds draw by draw
    assert curve["evppi"].nunique() == 1  # the same truths at every size
    assert curve["evppi"].iloc[0] > 0


def test_evsi_grows_with_the_pilot_size(curve):
    evsi, mcse = curve["evsi"].to_numpy(), curve["evsi_mcse"].to_numpy()
    assert np.all(np.diff(evsi) >= -2 * np.hypot(mcse[1:], mcse[:-1]))
    assert evsi[-1] > evsi[1] + 2 * math.hypot(mcse[-1], mcse[1])
    # a large pilot learns most of what perfect information would
    assert evsi[-1] > 0.6 * curve["evppi"].iloc[-1]


def test_the_curve_has_its_columns_and_cost(curve, scenario):
    assert list(curve.columns[:8]) == ["size", "evsi", "evsi_mcse", "evppi", "evppi_mcse",
                                       "pilot_cost", "net_value", "net_value_mcse"]
    assert curve.attrs["cost_per_participant"] == 20000.0
    assert np.allclose(curve["pilot_cost"], curve["size"] * 20000.0)
    assert np.allclose(curve["net_value"], curve["evsi"] - curve["pilot_cost"])
    choose = curve[["prob_choose[card]", "prob_choose[none]"]].sum(axis=1)
    assert np.allclose(choose, 1.0)
    assert curve.attrs["currency"] == "DKK"


def test_the_curve_point_equals_stepping_stone_at_that_size(curve, scenario):
    value, runs = sibsim.stepping_stone(scenario, pilot={**PILOT, "size": 20}, outer=200,
                                        draws=600, **KW)
    row = curve.set_index("size").loc[20]
    assert value["evsi"] == pytest.approx(row["evsi"], rel=1e-12, abs=1e-6)
    assert len(runs) == 200
    for column in [f"true[{EFFECT}]", "count[treatment]", "count[counterfactual]",
                   f"posterior_mean[{EFFECT}]", "expected_npv[card]", "true_npv[none]",
                   "choice", "gain", "ess"]:
        assert column in runs.columns
    assert (runs["true_npv[none]"] == 0).all()
    assert runs["gain"].mean() == pytest.approx(value["evsi"])
    assert value["prob_choose[card]"] == pytest.approx((runs["choice"] == "card").mean())


def test_two_parameters_that_the_count_depends_on():
    data = small().data
    scale = "transitions[0].hazard_scale"
    data = {**data, "transitions": [
        {**data["transitions"][0], "hazard_scale": {"lognormal": {"median": 1.0, "sigma": 0.3}}},
        data["transitions"][1]]}
    value, runs = sibsim.stepping_stone(Scenario(data), pilot={**PILOT, "size": 60},
                                        outer=100, draws=400,
                                        **{**KW, "params": [EFFECT, scale]})
    assert -3 * value["evsi_mcse"] <= value["evsi"] <= value["evppi"]
    assert value["evsi"] > 0
    assert {f"true[{scale}]", f"posterior_mean[{scale}]"} <= set(runs.columns)
    # the counterfactual arm's count depends on the hazard scale alone
    assert np.corrcoef(runs[f"true[{scale}]"], runs["count[counterfactual]"])[0, 1] > 0.5


def test_counts_are_binomial_and_nested_in_the_size():
    shares = np.tile([[0.3, 0.1]], (4000, 1))
    counts = pp.counts_at(3, shares, [10, 40])
    assert np.all(counts[1] >= counts[0])
    assert counts[1, :, 0].mean() == pytest.approx(12.0, abs=0.2)
    assert counts[1, :, 0].var() == pytest.approx(40 * 0.3 * 0.7, rel=0.1)


def test_the_regression_and_the_nested_estimator_agree():
    scenario = small()
    kw = dict(pilot={**PILOT, "size": 50}, outer=30, **KW)
    reg, runs_reg = sibsim.stepping_stone(scenario, draws=600, **kw)
    nested, runs_nested = sibsim.stepping_stone(scenario, draws=600, **kw, estimator={
        "method": "nested", "inner": 100, "posterior_draws": 100})
    assert reg["evsi"] > 0 and nested["evsi"] > 0
    error = math.hypot(reg["evsi_mcse"], nested["evsi_mcse"])
    assert abs(reg["evsi"] - nested["evsi"]) <= 3 * error
    assert (runs_reg["choice"] == runs_nested["choice"]).mean() >= 0.85
    ratio = (runs_reg[f"posterior_mean[{EFFECT}]"]
             / runs_nested[f"posterior_mean[{EFFECT}]"]).to_numpy()
    assert np.mean(np.abs(ratio - 1)) < 0.05 and np.max(np.abs(ratio - 1)) < 0.25


PRICE = "contracts[0].outcomes[0].price"
NESTED = {"method": "nested", "inner": 50, "posterior_draws": 100}


def test_terms_set_after_the_pilot_are_reported_and_scored():
    scenario = small()
    kw = dict(pilot={**PILOT, "size": 40}, outer=20, draws=200, **KW)
    plain, _ = sibsim.stepping_stone(scenario, estimator=NESTED, **kw)
    same, runs_same = sibsim.stepping_stone(
        scenario, estimator={**NESTED, "terms": lambda s: {PRICE: 40000.0}}, **kw)
    # terms that change nothing leave the value as it was
    assert same["evsi"] == pytest.approx(plain["evsi"], rel=1e-9, abs=1e-6)
    assert (runs_same[f"terms[{PRICE}]"] == 40000.0).all()

    def price_by_effect(s):  # a lower price where the posterior expects a smaller effect
        return {PRICE: round(25000.0 * s.uncertain()[EFFECT].median(), -2)}

    value, runs = sibsim.stepping_stone(scenario, estimator={**NESTED, "terms": price_by_effect},
                                        **kw)
    prices = runs[f"terms[{PRICE}]"]
    assert prices.nunique() > 5
    assert value[f"prior_terms[{PRICE}]"] == 40000.0
    assert value[f"terms_p05[{PRICE}]"] <= value[f"terms_p50[{PRICE}]"] <= \
        value[f"terms_p95[{PRICE}]"]
    assert np.corrcoef(prices, runs[f"posterior_mean[{EFFECT}]"])[0, 1] > 0.9
    assert runs["gain"].mean() == pytest.approx(value["evsi"])


def test_designed_terms_follow_the_pilot_and_stay_in_bounds():
    bounds = (0.0, 100000.0)
    terms = sibsim.design_terms(contract="card", params={PRICE: bounds},
                         maximize={"party": "municipality", "statistic": "mean"},
                         constraints=[{"party": "provider", "statistic": "prob_loss",
                                       "max": 0.3}], draws=100, grid=9)
    value, runs = sibsim.stepping_stone(small(), pilot={**PILOT, "size": 40}, outer=10,
                                        draws=200, estimator={**NESTED, "terms": terms}, **KW)
    prices = runs[f"terms[{PRICE}]"]
    assert prices.between(*bounds).all() and prices.nunique() > 3
    # the more jobs the pilot shows, the lower the price the provider still accepts
    assert prices.corr(runs["count[treatment]"], method="spearman") < -0.5
    assert prices.corr(runs[f"posterior_mean[{EFFECT}]"], method="spearman") < -0.8
    assert bounds[0] <= value[f"prior_terms[{PRICE}]"] <= bounds[1]
    assert value[f"terms_p05[{PRICE}]"] < value[f"terms_p95[{PRICE}]"]


def test_designed_terms_fall_back_to_the_closest_and_check_their_options():
    never = sibsim.design_terms(contract="card", params={PRICE: (0.0, 50000.0)},
                         maximize={"party": "municipality", "statistic": "mean"},
                         constraints=[{"party": "provider", "statistic": "mean", "min": 1e9}],
                         draws=40, grid=5)
    assert never(small()) == {PRICE: 50000.0}   # the closest: the provider's best offer
    with pytest.raises(ValueError, match="params: got"):
        sibsim.design_terms(contract="card", params={}, maximize={})
    with pytest.raises(ValueError, match="contract: got"):
        sibsim.design_terms(contract="", params={PRICE: (0, 1)}, maximize={})


def test_the_docs_example_of_terms_after_the_pilot_runs(capsys):
    """The code block of "After the pilot" in docs/stepping_stone.rst, as it stands."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "stepping_stone.rst").read_text(
        encoding="utf-8")
    section = text.split("After the pilot: choosing terms", 1)[1]
    body = section.split(".. code-block:: python\n\n", 1)[1]
    lines = []
    for line in body.splitlines():
        if line and not line.startswith("    "):
            break
        lines.append(line[4:])
    code = "\n".join(lines)
    assert "sibsim.design_terms(" in code and "estimator=" in code
    space: dict = {}
    exec(compile(code, "docs/stepping_stone.rst", "exec"), space)  # noqa: S102
    price = space["price"]
    prices = space["runs"][f"terms[{price}]"]
    assert prices.between(50000, 400000).all() and prices.nunique() > 3
    assert prices.corr(space["runs"]["count[treatment]"], method="spearman") < 0
    assert "terms_p50" in capsys.readouterr().out


def test_terms_need_the_nested_estimator():
    with pytest.raises(ValueError, match="estimator.terms"):
        sibsim.stepping_stone(small(), estimator={"terms": lambda s: {}},
                              pilot={**PILOT, "size": 5}, outer=20, draws=100, **KW)


def test_too_few_draws_for_a_large_pilot_warn():
    with pytest.warns(SteppingStoneWarning, match="raise draws to about"):
        sibsim.stepping_stone(small(), pilot={**PILOT, "size": 5000}, outer=20, draws=60,
                              estimator={"degree": 1}, **KW)


def test_the_same_seed_gives_the_same_value(scenario):
    kw = dict(pilot={**PILOT, "size": 20}, outer=20, draws=100, **KW)
    first, _ = sibsim.stepping_stone(scenario, **kw)
    again, _ = sibsim.stepping_stone(scenario, **kw)
    assert first.equals(again)


@pytest.mark.parametrize("change, words", [
    ({"party": "bank"}, "party: got 'bank'"),
    ({"contracts": ["card", "bond"]}, "contracts: got 'bond'"),
    ({"contracts": ["card"]}, "two or more distinct"),
    ({"contracts": "card"}, "contracts: got 'card'"),
    ({"pilot": {**PILOT, "size": -1}}, "pilot.size: got -1"),
    ({"pilot": {**PILOT, "size": 2.5}}, "pilot.size: got 2.5"),
    ({"pilot": {"size": 5, "state": "employd", "months_since_entry": 6}},
     "did you mean 'employed'"),
    ({"pilot": {"size": 5, "state": "employed", "months_since_entry": 99}},
     "pilot.months_since_entry: got 99"),
    ({"pilot": {"size": 5, "state": "employed"}}, "pilot.months_since_entry: got nothing"),
    ({"pilot": {**PILOT, "size": 5, "arm": "x"}}, "pilot.arm"),
    ({"estimator": "magic"}, "estimator.method: got 'magic'"),
    ({"estimator": {"method": "nested", "inner": 1}}, "estimator.inner: got 1"),
    ({"estimator": {"degre": 2}}, "did you mean 'degree'"),
    ({"outer": 3}, "outer: got 3"),
    ({"draws": 10}, "draws: got 10"),
    ({"estimator": {"degree": 9}}, "estimator.degree: got 9"),
])
def test_bad_options_are_named(scenario, change, words):
    kw = {**KW, "pilot": {**PILOT, "size": 5}, "outer": 20, "draws": 100, **change}
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(".", r"\.")):
        sibsim.stepping_stone(scenario, **kw)


@pytest.mark.parametrize("params, words", [
    (["transitions[0].effct.ratio"], "params[0]"),
    (["transitions[1].probability"], "give it a prior"),
    ([], "empty list"),
])
def test_bad_params_are_named(scenario, params, words):
    with pytest.raises(ScenarioError, match=words.replace("[", r"\[").replace("]", r"\]")):
        sibsim.stepping_stone(scenario, **{**KW, "params": params},
                              pilot={**PILOT, "size": 5}, outer=20, draws=100)


def test_bad_curve_options_are_named(scenario):
    with pytest.raises(ValueError, match=r"sizes\[1\]: got -4"):
        sibsim.evsi_curve(scenario, pilot=PILOT, sizes=[0, -4], **KW)
    with pytest.raises(ValueError, match="distinct pilot sizes"):
        sibsim.evsi_curve(scenario, pilot=PILOT, sizes=[5, 5], **KW)
    with pytest.raises(ValueError, match="cost_per_participant: got -1"):
        sibsim.evsi_curve(scenario, pilot=PILOT, sizes=[5], cost_per_participant=-1, **KW)
    with pytest.raises(ValueError, match="pilot.size"):
        sibsim.evsi_curve(scenario, pilot={**PILOT, "size": 5}, sizes=[5], **KW)


def test_nested_refuses_correlated_listed_parameters():
    data = {**small().data,
            "correlations": [{"params": [EFFECT, "flows[0].monthly"], "rho": 0.5}]}
    with pytest.raises(ValueError, match="use estimator='regression'"):
        sibsim.stepping_stone(Scenario(data), estimator="nested", pilot={**PILOT, "size": 5},
                              outer=20, draws=100, **KW)


def test_the_plot_shows_the_curve_with_labels_and_currency(curve):
    figure = sibsim.plot.evsi_curve(curve)
    ax = figure.axes[0]
    assert "DKK" in ax.get_ylabel()
    assert "participants" in ax.get_xlabel()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("EVSI" in t for t in labels) and any("cost" in t for t in labels)
    assert "20 thousand DKK per treated participant" in " ".join(labels)


def test_the_plot_insets_an_evsi_the_cost_dwarfs():
    import pandas as pd

    table = pd.DataFrame({"size": [0, 100], "evsi": [0.0, 1e3], "evsi_mcse": [0.0, 1e2],
                          "evppi": [2e3, 2e3], "pilot_cost": [0.0, 1e7],
                          "net_value": [0.0, -1e7 + 1e3], "net_value_mcse": [0.0, 1e2]})
    figure = sibsim.plot.evsi_curve(table)
    (inset,) = figure.axes[0].child_axes
    assert "thousand DKK" in inset.get_title()


def test_stepping_stone_is_exported():
    assert "stepping_stone" in sibsim.__all__ and "evsi_curve" in sibsim.__all__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert callable(sibsim.stepping_stone)


def test_the_command_prints_the_value_and_writes_the_runs(tmp_path, capsys):
    import pandas as pd

    from sibsim.cli import main

    path = tmp_path / "small.toml"
    path.write_text(small().to_toml(), encoding="utf-8")
    out = tmp_path / "runs.csv"
    code = main(["stepping-stone", str(path), "--party", "municipality", "--contracts",
                 "card,none", "--size", "20", "--state", "employed", "--month", "6",
                 "--param", EFFECT, "--outer", "20", "--draws", "100", "--sizes", "0,20",
                 "--cost-per-participant", "1000", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    assert "EVSI (value of the pilot's results)" in printed and "DKK" in printed
    assert "EVSI curve" in printed
    runs = pd.read_csv(out)
    assert len(runs) == 20 and "choice" in runs.columns
    curve = pd.read_csv(tmp_path / "runs_curve.csv")
    assert list(curve["size"]) == [0, 20]


@pytest.mark.parametrize("change, words", [
    (["--party", "bank"], "party: got 'bank'"),
    (["--state", "employd"], "did you mean 'employed'"),
    (["--param", "transitions[0].effct.ratio"], "params[0]"),
])
def test_the_command_names_bad_options(tmp_path, capsys, change, words):
    from sibsim.cli import main

    path = tmp_path / "small.toml"
    path.write_text(small().to_toml(), encoding="utf-8")
    options = {"--party": "municipality", "--contracts": "card,none", "--size": "5",
               "--state": "employed", "--month": "6", "--param": EFFECT, "--outer": "20",
               "--draws": "100", "--out": str(tmp_path / "runs.csv")}
    options[change[0]] = change[1]
    argv = ["stepping-stone", str(path)] + [x for kv in options.items() for x in kv]
    assert main(argv) == 2
    assert words in capsys.readouterr().err
    assert not (tmp_path / "runs.csv").exists()


def test_a_dask_client_gives_the_same_value():
    distributed = pytest.importorskip("distributed")
    kw = dict(pilot={**PILOT, "size": 20}, outer=10, draws=100, **KW)
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2,
                            dashboard_address=None) as client:
        for estimator in ("regression", {"method": "nested", "inner": 20,
                                         "posterior_draws": 100}):
            alone, _ = sibsim.stepping_stone(small(), estimator=estimator, **kw)
            spread, _ = sibsim.stepping_stone(small(), estimator=estimator, client=client,
                                              **kw)
            assert spread["evsi"] == alone["evsi"]
            assert spread["evppi"] == alone["evppi"]
