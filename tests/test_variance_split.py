"""Parameter uncertainty against chance: sibsim.variance_split and its ANOVA estimator.

The estimator is checked exactly on a hand example and against known components of a
random-effects model drawn with plain numpy; the nested simulation on scenarios where one
part is known to be 0: no uncertain parameter (the parameter part is 0 up to its error), and
a deterministic cohort with uncertain prices (the chance part is exactly 0).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import sibsim
from sibsim.analysis.nested import anova_split, nested_npv


def test_anova_split_by_hand():
    # Group means 2 and 6, grand mean 4: MS_between = 2 (4 + 4) / 1 = 16; MS_within =
    # (1 + 1 + 1 + 1) / (2 x 1) = 2; parameter part (16 - 2) / 2 = 7.
    table = anova_split([[1.0, 3.0], [5.0, 7.0]])
    assert table["variance"].tolist() == [7.0, 2.0, 9.0]
    assert table["share"].tolist() == pytest.approx([7 / 9, 2 / 9, 1.0])
    assert list(table.index) == ["parameter", "chance", "total"]
    assert table.attrs["ms_between"] == 16.0 and table.attrs["ms_within"] == 2.0


@pytest.mark.parametrize("sd_parameter, sd_chance", [(2.0, 1.0), (0.5, 3.0), (1.0, 0.0)])
def test_anova_split_recovers_known_components(sd_parameter, sd_chance):
    rng = np.random.default_rng(7)
    outer, inner = 400, 10
    y = 5.0 + sd_parameter * rng.normal(size=(outer, 1)) \
        + sd_chance * rng.normal(size=(outer, inner))
    table = anova_split(y)
    for part, truth in [("parameter", sd_parameter**2), ("chance", sd_chance**2)]:
        estimate, se = table.loc[part, "variance"], table.loc[part, "variance_se"]
        assert abs(estimate - truth) <= 3.5 * se + 1e-12, part
    if sd_chance == 0.0:
        assert table.loc["chance", "variance"] == 0.0  # equal replicates: exactly 0


def test_jackknife_standard_error_matches_the_spread_over_replicates():
    rng = np.random.default_rng(8)
    estimates, errors = [], []
    for _ in range(300):
        y = rng.normal(size=(60, 1)) + 2.0 * rng.normal(size=(60, 5))
        table = anova_split(y)
        estimates.append(table.attrs["parameter_unclipped"])
        errors.append(table.loc["parameter", "variance_se"])
    assert np.mean(errors) == pytest.approx(np.std(estimates, ddof=1), rel=0.15)


def test_a_negative_estimate_is_clipped_at_zero_and_says_so():
    y = np.array([[0.0, 10.0], [10.0, 0.0], [5.0, 5.0]])  # equal group means
    table = anova_split(y)
    assert table.attrs["clipped"] and table.attrs["parameter_unclipped"] < 0
    assert table.loc["parameter", "variance"] == 0.0
    assert table.loc["chance", "share"] == 1.0


@pytest.mark.parametrize("values", [np.zeros((1, 5)), np.zeros((5, 1)), np.zeros(4),
                                    [[1.0, np.nan], [1.0, 2.0]]])
def test_anova_split_rejects_what_it_cannot_split(values):
    with pytest.raises(ValueError, match="values"):
        anova_split(values)


# ------------------------------------------------------------------------------------------
# The nested simulation
# ------------------------------------------------------------------------------------------

def small(*, effect, price, certain: bool) -> dict:
    """One site; benefits -> employed certain in month 3 (certain=True) or by chance."""
    probability = {"by_months_in_state": [[0, 0.0], [3, 1.0]]} if certain else 0.08
    return {
        "months": 24, "discount_rate": 0.03, "states": ["benefits", "employed"],
        "cohort": {"initial_state": "benefits", "intake_months": 4,
                   "sites": {"A": {"size": 30}}},
        "programme": {"months": 3, "cost_per_participant": 9000.0},
        "transitions": [{"from": "benefits", "to": "employed", "probability": probability,
                         "effect": {"ratio": effect, "from_month": 0, "to_month": 12}},
                        {"from": "employed", "to": "benefits", "probability":
                         0.0 if certain else 0.03}],
        "flows": [{"name": "benefit", "state": "benefits", "category": "benefits",
                   "monthly": 1500.0, "split": {"municipality": 1.0}}],
        "contracts": [{"name": "card", "type": "rate_card", "payer": "municipality",
                       "outcomes": [{"name": "job", "state": "employed",
                                     "sustained_months": 2, "price": price}]}],
    }


def test_without_uncertain_parameters_the_parameter_part_is_zero_up_to_its_error():
    doc = small(effect=1.6, price=4000.0, certain=False)
    assert not sibsim.load_scenario(doc).uncertain()
    table = sibsim.variance_split(doc, contract="card", party="municipality", outer=60,
                                  inner=8, seed=3)
    attrs = table.attrs
    # MS_between / MS_within is F(outer - 1, outer (inner - 1)) when the parameters do not
    # vary: its 99.9% quantile bounds it.
    assert attrs["f_statistic"] < stats.f.ppf(0.999, 59, 60 * 7)
    assert abs(attrs["parameter_unclipped"]) <= 3.5 * table.loc["parameter", "variance_se"]
    assert table.loc["parameter", "share"] < 0.1
    assert table.loc["chance", "variance"] > 0


def test_a_deterministic_cohort_with_uncertain_prices_has_no_chance_part():
    doc = small(effect=1.0, price={"uniform": {"low": 1000.0, "high": 9000.0}}, certain=True)
    table = sibsim.variance_split(doc, contract="card", party="provider", outer=30, inner=4,
                                  seed=5)
    assert table.loc["chance", "variance"] == 0.0
    assert table.loc["chance", "share"] == 0.0
    assert table.loc["parameter", "share"] == 1.0
    # Uniform price on [1000, 9000] for 30 participants paid once each, discounted: the
    # parameter variance is that of 30 x discount x price, about (30 x 0.98 x 2309)^2.
    expected = (30 * 2309.4) ** 2
    assert table.loc["parameter", "variance"] == pytest.approx(expected, rel=0.5)


def test_replicates_hold_the_parameters_of_their_outer_draw_and_keep_their_own_chance():
    doc = small(effect={"lognormal": {"median": 1.5, "sigma": 0.3}},
                price={"uniform": {"low": 1000.0, "high": 9000.0}}, certain=False)
    values = nested_npv(doc, contract="card", party="municipality", outer=5, inner=3, seed=9)
    plain = sibsim.simulate(doc, draws=15, seed=9)["npv"].sel(contract="card",
                                                             party="municipality").values
    assert values[0, 0] == plain[0]  # draw 0: its own parameters and its own chance
    assert len(set(values[1])) == 3  # chance differs between replicates
    # Replicate i of outer draw o is draw o x inner + i with the parameters of draw o: with
    # the parameters of every draw fixed at draw 0's, the first row is draws 0, 1, 2.
    fixed = sibsim.load_scenario(doc)
    params = sibsim.simulate(doc, draws=1, seed=9)["params"]
    for path in fixed.uncertain():
        fixed = fixed.replace(path, float(params.sel(param=path).values[0]))
    held = sibsim.simulate(fixed, draws=3, seed=9)["npv"].sel(contract="card",
                                                             party="municipality").values
    np.testing.assert_allclose(values[0], held, rtol=1e-12)


def test_the_parts_add_up_to_about_the_variance_of_a_plain_run():
    doc = small(effect={"lognormal": {"median": 1.5, "sigma": 0.4}}, price=4000.0,
                certain=False)
    table = sibsim.variance_split(doc, contract="card", party="municipality", outer=150,
                                  inner=6, seed=2)
    plain = sibsim.simulate(doc, draws=900, seed=2)["npv"].sel(contract="card",
                                                              party="municipality").values
    total = table.loc["total", "variance"]
    assert total == pytest.approx(plain.var(ddof=1), rel=0.2)
    assert table.loc["total", "variance_se"] < total


@pytest.mark.parametrize("options, message", [
    ({"outer": 1}, "outer: got 1"), ({"inner": 1.5}, "inner: got 1.5"),
    ({"contract": "nope"}, "contract: got 'nope'"), ({"party": "bank"}, "party: got 'bank'"),
    ({"seed": -1}, "seed"),
])
def test_variance_split_errors_name_the_option(options, message):
    doc = small(effect=1.5, price=4000.0, certain=False)
    arguments = {"contract": "card", "party": "municipality", "outer": 3, "inner": 2} | options
    with pytest.raises(ValueError, match=message):
        sibsim.variance_split(doc, **arguments)
