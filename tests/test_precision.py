"""How the figures settle as draws grow (sibsim.convergence) and the draws a target needs
(sibsim.draws_needed)."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import sibsim  # noqa: E402
from sibsim.analysis import statistics as S  # noqa: E402
from sibsim.analysis.precision import draw_counts  # noqa: E402

DOC = {
    "months": 24, "discount_rate": 0.03, "states": ["benefits", "employed"],
    "cohort": {"initial_state": "benefits", "intake_months": 4, "sites": {"A": {"size": 25}}},
    "programme": {"months": 3, "cost_per_participant": 9000.0},
    "transitions": [{"from": "benefits", "to": "employed", "probability": 0.08,
                     "effect": {"ratio": {"lognormal": {"median": 1.5, "sigma": 0.3}},
                                "from_month": 0, "to_month": 12}},
                    {"from": "employed", "to": "benefits", "probability": 0.03}],
    "flows": [{"name": "benefit", "state": "benefits", "category": "benefits",
               "monthly": 1500.0, "split": {"municipality": 1.0}}],
    "contracts": [{"name": "card", "type": "rate_card", "payer": "municipality",
                   "outcomes": [{"name": "job", "state": "employed", "sustained_months": 2,
                                 "price": 4000.0}]},
                  {"name": "gift", "type": "grant", "funder": "foundation"}],
}


@pytest.fixture(scope="module")
def result():
    return sibsim.simulate(DOC, draws=400, seed=4)


def test_draw_counts_grow_to_all_draws():
    assert draw_counts(400, steps=4) == [50, 100, 200, 400]
    assert draw_counts(30, steps=5) == [30]
    counts = draw_counts(2000)
    assert counts[0] == 50 and counts[-1] == 2000 and counts == sorted(set(counts))


def test_the_last_row_is_the_summary_and_each_row_a_shorter_run(result):
    table = sibsim.convergence(result, steps=4)
    assert list(table.columns) == ["contract", "party", "statistic", "draws", "value", "mcse"]
    assert set(table.statistic) == {"mean", "prob_loss", "p05", "p95"}
    summary = sibsim.summarize(result).set_index(["contract", "party"])
    last = table[table.draws == 400].set_index(["contract", "party", "statistic"])
    for (contract, party), row in summary.iterrows():
        for statistic, error in [("mean", "mean_mcse"), ("prob_loss", "prob_loss_mcse"),
                                 ("p05", "p05_mcse"), ("p95", "p95_mcse")]:
            got = last.loc[(contract, party, statistic)]
            assert got.value == row[statistic], (contract, party, statistic)
            assert got.mcse == row[error], (contract, party, statistic)
    # The first 100 draws of a run are a 100-draw run with the same seed.
    short = sibsim.summarize(sibsim.simulate(DOC, draws=100, seed=4)).set_index(
        ["contract", "party"])
    at_100 = table[table.draws == 100].set_index(["contract", "party", "statistic"])
    assert at_100.loc[("card", "municipality", "mean")].value == \
        short.loc[("card", "municipality"), "mean"]
    assert at_100.loc[("card", "provider", "p05")].mcse == \
        short.loc[("card", "provider"), "p05_mcse"]


def test_the_standard_error_falls_as_one_over_root_draws(result):
    table = sibsim.convergence(result, contract="card", party="municipality",
                               statistics=["mean"], steps=4)
    mcse = table.mcse.to_numpy()
    ratio = mcse[:-1] / mcse[1:]  # each count doubles: the error falls by about sqrt(2)
    np.testing.assert_allclose(ratio, math.sqrt(2.0), rtol=0.35)
    assert table.attrs == {"draws": 400, "currency": "DKK"}


def test_convergence_options_are_checked(result):
    with pytest.raises(ValueError, match="statistics: got 'median'"):
        sibsim.convergence(result, statistics=["median"])
    with pytest.raises(ValueError, match="contract: got 'nope'"):
        sibsim.convergence(result, contract="nope")
    with pytest.raises(ValueError, match="steps"):
        sibsim.convergence(result, steps=0)
    table = sibsim.convergence(result, contract="gift", statistics="prob_nominal_loss",
                               steps=2)
    assert set(table.statistic) == {"prob_nominal_loss"} and set(table.contract) == {"gift"}


def test_draws_needed_from_the_observed_spread(result):
    npv = result["npv"].sel(contract="card", party="municipality").values
    target = 2.0 * S.mean_mcse(npv) / 3.0
    expected = math.ceil(400 * (S.mean_mcse(npv) / target) ** 2)  # 400 x 9 / 4 = 900
    assert expected in (900, 901)
    assert sibsim.draws_needed(result, contract="card", party="municipality",
                               statistic="mean", mcse=target) == expected
    losses = int((result["npv"].sel(contract="card", party="provider").values < 0).sum())
    p = (losses + 2) / 404
    assert sibsim.draws_needed(result, contract="card", party="provider",
                               mcse=0.01) == math.ceil(p * (1 - p) / 1e-4)
    # Nothing is ever lost by the municipality under the grant: the shrunk share still asks
    # for enough draws to see a rare loss.
    assert sibsim.draws_needed(result, contract="gift", party="municipality", mcse=0.01) > 1
    # Every draw equal (the foundation's gift has a fixed cost): one draw tells it.
    assert sibsim.draws_needed(result, contract="gift", party="foundation",
                               statistic="mean", mcse=1.0) == 1


def test_the_draws_needed_reach_the_target():
    small = sibsim.simulate(DOC, draws=200, seed=1)
    target = 0.5 * S.mean_mcse(small["npv"].sel(contract="card", party="provider").values)
    needed = sibsim.draws_needed(small, contract="card", party="provider", statistic="mean",
                                 mcse=target)
    big = sibsim.simulate(DOC, draws=needed, seed=1)
    reached = S.mean_mcse(big["npv"].sel(contract="card", party="provider").values)
    assert reached == pytest.approx(target, rel=0.25)


@pytest.mark.parametrize("mcse", [0, -1.0, float("nan"), "small", True])
def test_draws_needed_rejects_a_target_that_is_no_positive_number(result, mcse):
    with pytest.raises(ValueError, match="mcse"):
        sibsim.draws_needed(result, contract="card", party="provider", mcse=mcse)


def test_convergence_plot_one_panel_per_statistic(result):
    table = sibsim.convergence(result, contract="card", party="provider", steps=3)
    fig = sibsim.plot.convergence(table)
    assert len(fig.axes) == 4
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0] == "mean of provider under 'card'"
    assert "thousand DKK" in fig.axes[0].get_ylabel() or "DKK" in fig.axes[0].get_ylabel()
    assert fig.axes[1].yaxis.get_major_formatter().__class__.__name__ == "PercentFormatter"
    everything = sibsim.convergence(result, steps=2)
    with pytest.raises(ValueError, match="contract: the table has several"):
        sibsim.plot.convergence(everything)
    from matplotlib.figure import Figure

    ax = Figure().add_subplot()
    with pytest.raises(ValueError, match="statistic: with ax"):
        sibsim.plot.convergence(table, ax=ax)
    assert sibsim.plot.convergence(table, statistic="prob_loss", ax=ax) is ax.figure
