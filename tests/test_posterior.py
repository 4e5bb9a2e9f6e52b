"""``sibsim.posterior``: a binomial likelihood on exact expected shares, importance-sampled.

Oracles: the conjugate beta-binomial posterior (one transition benefits -> employed with a
beta prior, no frailty, nothing back: the share employed one month after entry is the
probability itself), a brute-force grid posterior for two parameters with shares in closed
form, and the scenario's own sampler for the fitted scenario. Tolerances are Monte Carlo
errors: a few standard errors of the estimate, with the effective sample size of the draws.
"""

from __future__ import annotations

import importlib
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import sibsim
from sibsim.analysis import posterior_sampler as sampler
from sibsim.analysis.posterior import COLUMNS, PosteriorWarning, _Model, posterior
from sibsim.engine.params import sample_parameters
from sibsim.errors import ScenarioError
from sibsim.scenario import Distribution, Scenario, load_scenario

PRIOR = {"beta": {"mean": 0.3, "sd": 0.1}}
RATIO = {"lognormal": {"median": 1.5, "sigma": 0.4}}


def conjugate_scenario(prior=PRIOR, *, effect=None, months=6) -> Scenario:
    transition = {"from": "benefits", "to": "employed", "probability": prior}
    if effect is not None:
        transition["effect"] = {"ratio": effect, "from_month": 0}
    return Scenario({
        "months": months, "states": ["benefits", "employed"],
        "cohort": {"initial_state": "benefits", "sites": {"A": {"size": 10}}},
        "programme": {"months": 1},
        "transitions": [transition],
        "flows": [{"name": "benefit", "state": "benefits", "category": "benefits",
                   "monthly": {"normal": {"mean": 1e4, "sd": 1e3}},
                   "split": {"municipality": 1.0}}],
    })


def datum(count, n, *, arm="counterfactual", m=1, state="employed"):
    return {"state": state, "arm": arm, "months_since_entry": m, "count": count, "n": n}


def beta_parameters(mean, sd):
    nu = mean * (1 - mean) / sd**2 - 1
    return mean * nu, (1 - mean) * nu


def quiet_posterior(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error", PosteriorWarning)
        return posterior(*args, **kwargs)


def param_row(report, path):
    return report[(report["kind"] == "param") & (report["param"] == path)].iloc[0]


def assert_matches(row, exact, ess):
    """Mean, sd and the 5% and 95% quantiles within four Monte Carlo standard errors."""
    mean, sd = exact.mean(), exact.std()
    assert abs(row["posterior_mean"] - mean) < 4 * sd / math.sqrt(ess)
    assert abs(row["posterior_sd"] - sd) < 4 * sd / math.sqrt(2 * ess)
    for q, column in ((0.05, "posterior_p05"), (0.95, "posterior_p95")):
        error = math.sqrt(q * (1 - q) / ess) / exact.pdf(exact.ppf(q))
        assert abs(row[column] - exact.ppf(q)) < 4 * error, (column, row[column], exact.ppf(q))


# ---------------------------------------------------------------------------------------
# Against closed forms
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("count", "n"), [(7, 20), (0, 5), (6000, 20000)],
                         ids=["small", "zero", "informative"])
def test_conjugate_beta_binomial(count, n):
    a, b = beta_parameters(0.3, 0.1)
    exact = stats.beta(a + count, b + n - count)
    fitted, report = quiet_posterior(conjugate_scenario(), data=[datum(count, n)],
                                     params=["transitions[0].probability"], draws=4000, seed=3)
    row = param_row(report, "transitions[0].probability")
    assert report.attrs["trusted"] and report.attrs["pareto_k"] < 0.5
    assert row["ess"] > 2000
    assert_matches(row, exact, row["ess"])
    assert row["prior_mean"] == pytest.approx(0.3) and row["prior_sd"] == pytest.approx(0.1)
    assert row["fit_ks"] < 2.5 / math.sqrt(row["ess"])
    fit = fitted.uncertain()["transitions[0].probability"]
    assert fit.family == "beta"
    assert fit.params["mean"] == pytest.approx(row["posterior_mean"], rel=1e-12)
    assert fit.params["sd"] == pytest.approx(row["posterior_sd"], rel=1e-12)
    if n > 1000:  # informative: the posterior is far narrower than the prior
        assert row["posterior_sd"] < 0.05 * row["prior_sd"]


@settings(max_examples=6, deadline=None)
@given(mean=st.floats(0.05, 0.8), spread=st.floats(0.1, 0.6), n=st.integers(1, 500),
       share=st.floats(0.0, 1.0), seed=st.integers(0, 1000))
def test_conjugate_beta_binomial_for_any_prior_and_counts(mean, spread, n, share, seed):
    sd = spread * math.sqrt(mean * (1 - mean))
    count = round(share * n)
    a, b = beta_parameters(mean, sd)
    exact = stats.beta(a + count, b + n - count)
    _, report = quiet_posterior(conjugate_scenario({"beta": {"mean": mean, "sd": sd}}),
                                data=[datum(count, n)], params=["transitions[0].probability"],
                                draws=1000, seed=seed)
    row = param_row(report, "transitions[0].probability")
    assert abs(row["posterior_mean"] - exact.mean()) < 4 * exact.std() / math.sqrt(row["ess"])
    assert abs(row["posterior_sd"] - exact.std()) < 5 * exact.std() / math.sqrt(2 * row["ess"])


def test_posterior_predictive_of_the_conjugate_case_is_beta_binomial():
    a, b = beta_parameters(0.3, 0.1)
    count, n = 12, 40
    _, report = quiet_posterior(conjugate_scenario(), data=[datum(count, n)],
                                params=["transitions[0].probability"], draws=4000, seed=5)
    row = report[report["kind"] == "datum"].iloc[0]
    predictive = stats.betabinom(n, a + count, b + n - count)
    ess = row["ess"]
    assert row["param"] == "employed counterfactual month 1"
    assert row["observed"] == count / n
    assert abs(row["posterior_mean"] - predictive.mean() / n) < 4 * predictive.std() / n / ess**0.5
    assert row["posterior_sd"] == pytest.approx(predictive.std() / n, rel=0.05)
    for q, column in ((0.05, "posterior_p05"), (0.95, "posterior_p95")):
        assert abs(row[column] - predictive.ppf(q) / n) <= 1.5 / n, column
    prior = stats.betabinom(n, a, b)
    assert row["prior_mean"] == pytest.approx(prior.mean() / n, abs=4 * prior.std() / n / 30)
    assert row["prior_sd"] == pytest.approx(prior.std() / n, rel=0.1)


def _grid_posterior(data, p_prior, r_prior, p_range, r_range):
    """Posterior moments on a fine grid: shares 1 - (1 - p)^m and 1 - (1 - p)^(r m)."""
    p = np.linspace(*p_range, 700)[:, None]
    r = np.linspace(*r_range, 900)[None, :]
    log_post = p_prior.logpdf(p) + r_prior.logpdf(r)
    for d in data:
        rate = r if d["arm"] == "treatment" else 1.0
        share = 1 - (1 - p) ** (rate * d["months_since_entry"])
        log_post = log_post + stats.binom.logpmf(d["count"], d["n"], share)
    weight = np.exp(log_post - log_post.max())
    weight /= weight.sum()
    moments = {}
    for name, grid in (("p", p), ("r", r)):
        mean = float(np.sum(weight * grid))
        moments[name] = (mean, float(np.sqrt(np.sum(weight * (grid - mean) ** 2))))
    covariance = np.sum(weight * (p - moments["p"][0]) * (r - moments["r"][0]))
    moments["correlation"] = covariance / moments["p"][1] / moments["r"][1]
    return moments


@pytest.mark.parametrize(("counts", "n", "p_range", "r_range"), [
    ((30, 60), 200, (0.005, 0.25), (0.05, 6.0)),
    ((1107, 1968), 5000, (0.06, 0.10), (1.6, 2.5)),
], ids=["small", "informative"])
def test_two_parameters_against_a_grid_posterior(counts, n, p_range, r_range):
    prior = {"beta": {"mean": 0.08, "sd": 0.04}}
    scenario = conjugate_scenario(prior, effect=RATIO)
    data = [datum(counts[0], n, m=3), datum(counts[1], n, arm="treatment", m=3)]
    paths = ["transitions[0].probability", "transitions[0].effect.ratio"]
    fitted, report = quiet_posterior(scenario, data=data, params=paths, draws=4000, seed=2)
    grid = _grid_posterior(data, Distribution.from_spec(prior).scipy(),
                           Distribution.from_spec(RATIO).scipy(), p_range, r_range)
    for path, name in zip(paths, ("p", "r")):
        row = param_row(report, path)
        mean, sd = grid[name]
        assert abs(row["posterior_mean"] - mean) < 4 * sd / math.sqrt(row["ess"]), path
        assert abs(row["posterior_sd"] - sd) < 4 * sd / math.sqrt(2 * row["ess"]), path
    x, w = report.attrs["posterior_draws"], report.attrs["weights"]
    centred = x - w @ x
    covariance = (centred * w[:, None]).T @ centred
    correlation = covariance[0, 1] / math.sqrt(covariance[0, 0] * covariance[1, 1])
    assert grid["correlation"] < -0.3  # the data tie the two parameters together
    for name, (low, high) in (("p", p_range), ("r", r_range)):
        mean, sd = grid[name]
        assert low < mean - 5 * sd and mean + 5 * sd < high  # the grid holds the posterior
    assert abs(correlation - grid["correlation"]) < 4 * (1 - grid["correlation"] ** 2) / math.sqrt(
        report.attrs["ess"])
    entry, = fitted.get("correlations")
    assert entry["params"] == paths and entry["rho"] < -0.3


# ---------------------------------------------------------------------------------------
# The fitted scenario
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pilot_fit():
    data = [datum(11, 65, arm="counterfactual", m=14), datum(23, 65, arm="treatment", m=14)]
    paths = ["transitions[0].effect.ratio", "transitions[0].probability.by_months_in_state[0][1]"]
    # The built-in priors without their correlations (one correlation comes out).
    document = load_scenario("danish-pilot-prior").raw
    del document["correlations"]
    scenario = load_scenario(document).replace(
        paths[1], {"pert": {"low": 0.01, "mode": 0.022, "high": 0.06}})
    fitted, report = quiet_posterior(scenario, data=data, params=paths, draws=3000, seed=4)
    return scenario, fitted, report, paths


def test_the_report_has_its_columns_and_rows(pilot_fit):
    _, _, report, paths = pilot_fit
    assert list(report.columns) == list(COLUMNS)
    assert list(report["kind"]) == ["param", "param", "datum", "datum"]
    assert list(report["param"][:2]) == paths
    assert report.attrs["trusted"] and report.attrs["frailty_nodes"] <= 128
    assert "Pareto-smoothed" in report.attrs["sampler"]
    assert report.attrs["posterior_draws"].shape == (3000, 2)
    assert report.attrs["weights"].sum() == pytest.approx(1.0)
    assert set(report.attrs["mode"]) == set(paths)


def test_the_fitted_scenario_validates_round_trips_and_keeps_the_posterior(pilot_fit):
    scenario, fitted, report, paths = pilot_fit
    assert load_scenario(fitted.to_toml()) == fitted
    uncertain = fitted.uncertain()
    assert uncertain[paths[0]].family == "lognormal"
    assert uncertain[paths[1]].family == "beta"  # a pert prior on [0.02, 0.07]
    for path in paths:
        row = param_row(report, path)
        distribution = uncertain[path]
        tolerance = 0.02 if distribution.family == "lognormal" else 1e-9
        assert distribution.mean() == pytest.approx(row["posterior_mean"], rel=tolerance)
        assert float(distribution.scipy().std()) == pytest.approx(row["posterior_sd"],
                                                                  rel=5 * tolerance)
        assert row["fit_ks"] < 0.05
    # Everything else is the prior scenario's.
    others = {p: v for p, v in scenario.parameters().items() if p not in paths}
    assert {p: v for p, v in fitted.parameters().items() if p not in paths} == others


def test_simulating_the_fitted_scenario_draws_the_posterior(pilot_fit):
    _, fitted, report, paths = pilot_fit
    draws = 20_000
    values = sample_parameters(fitted, np.arange(draws), seed=11)
    x, w = report.attrs["posterior_draws"], report.attrs["weights"]
    for i, path in enumerate(paths):
        row = param_row(report, path)
        assert values.get(path).mean() == pytest.approx(row["posterior_mean"], rel=0.02)
        assert values.get(path).std() == pytest.approx(row["posterior_sd"], rel=0.05)
    entry, = fitted.get("correlations")
    z = [stats.norm.ppf(fitted.uncertain()[p].scipy().cdf(values.get(p))) for p in paths]
    assert np.corrcoef(z)[0, 1] == pytest.approx(entry["rho"], abs=4 / math.sqrt(draws))
    scores = [stats.norm.ppf(fitted.uncertain()[p].scipy().cdf(x[:, i]))
              for i, p in enumerate(paths)]
    centred = np.array(scores) - np.array(scores) @ w[:, None]
    weighted = (centred * w) @ centred.T
    assert entry["rho"] == pytest.approx(weighted[0, 1] / math.sqrt(
        weighted[0, 0] * weighted[1, 1]), abs=1e-9)


def test_a_prior_correlation_of_the_listed_parameters_is_replaced():
    scenario = conjugate_scenario(effect=RATIO)
    document = scenario.raw
    document["correlations"] = [{"params": ["transitions[0].probability",
                                            "transitions[0].effect.ratio", "flows[0].monthly"],
                                 "rho": 0.3}]
    scenario = Scenario(document)
    data = [datum(30, 100, m=2), datum(50, 100, arm="treatment", m=2)]
    paths = ["transitions[0].probability", "transitions[0].effect.ratio"]
    fitted, _ = quiet_posterior(scenario, data=data, params=paths, draws=1000, seed=1)
    entries = fitted.get("correlations")
    assert {"params": ["transitions[0].probability", "flows[0].monthly"], "rho": 0.3} in entries
    assert {"params": ["transitions[0].effect.ratio", "flows[0].monthly"], "rho": 0.3} in entries
    posterior_entry = [e for e in entries if e["params"] == paths]
    assert len(posterior_entry) == 1 and posterior_entry[0]["rho"] != 0.3


def test_the_prior_of_correlated_parameters_is_their_gaussian_copula():
    document = conjugate_scenario().raw
    document["flows"].append({**document["flows"][0], "name": "second",
                              "monthly": {"normal": {"mean": -2.0, "sd": 3.0}}})
    document["correlations"] = [{"params": ["flows[0].monthly", "flows[1].monthly"],
                                 "rho": 0.6}]
    scenario = Scenario(document)
    priors = [scenario.uncertain()[p] for p in ("flows[0].monthly", "flows[1].monthly")]
    model = _Model(scenario, ["flows[0].monthly", "flows[1].monthly"], priors, [datum(1, 2)])
    x = np.array([[1e4, -2.0], [9e3, 1.0], [1.2e4, -8.0]])
    covariance = [[1e6, 0.6 * 1e3 * 3], [0.6 * 1e3 * 3, 9.0]]
    expected = stats.multivariate_normal([1e4, -2.0], covariance).logpdf(x)
    np.testing.assert_allclose(model.log_prior(x), expected, rtol=1e-10)


# ---------------------------------------------------------------------------------------
# Diagnostics
# ---------------------------------------------------------------------------------------


def test_a_proposal_far_too_wide_gives_the_effective_sample_size_warning(monkeypatch):
    moments = sampler._weighted_moments
    monkeypatch.setattr(sampler, "_weighted_moments",
                        lambda y, w: (moments(y, w)[0], 900 * moments(y, w)[1]))
    with pytest.warns(PosteriorWarning, match=r"worth only \d+ independent ones.*ask for "
                                              r"draws=\d+"):
        _, report = posterior(conjugate_scenario(), data=[datum(40, 100)],
                              params=["transitions[0].probability"], draws=1000, seed=1)
    assert report["ess"].min() < 250 and report.attrs["trusted"]


def test_a_proposal_far_too_narrow_is_not_trusted(monkeypatch):
    moments = sampler._weighted_moments
    monkeypatch.setattr(sampler, "_weighted_moments",
                        lambda y, w: (moments(y, w)[0], 0.002 * moments(y, w)[1]))
    with pytest.warns(PosteriorWarning, match=r"cannot be trusted \(Pareto k = .*More draws "
                                              r"will not help"):
        _, report = posterior(conjugate_scenario(), data=[datum(40, 100)],
                              params=["transitions[0].probability"], draws=1000, seed=1)
    assert not report.attrs["trusted"] and report.attrs["pareto_k"] > 0.7


def test_a_parameter_that_changes_no_share_keeps_its_prior():
    scenario = conjugate_scenario()
    with pytest.warns(PosteriorWarning, match=r"flows\[0\]\.monthly.*change no expected share"):
        fitted, report = posterior(scenario, data=[datum(7, 20)],
                                   params=["transitions[0].probability", "flows[0].monthly"],
                                   draws=1000, seed=1)
    assert fitted.get("flows[0].monthly") == scenario.get("flows[0].monthly")
    row = param_row(report, "flows[0].monthly")
    assert row["posterior_mean"] == pytest.approx(1e4, abs=4 * 1e3 / math.sqrt(row["ess"]))
    assert fitted.get("correlations") is None


def test_a_rough_fit_is_reported():
    scenario = conjugate_scenario({"uniform": {"low": 0.1, "high": 0.5}})
    with pytest.warns(PosteriorWarning, match=r"fitted to transitions\[0\]\.probability "
                                              r"describes its posterior only roughly"):
        fitted, report = posterior(scenario, data=[datum(1, 3)],
                                   params=["transitions[0].probability"], draws=1000, seed=1)
    assert param_row(report, "transitions[0].probability")["fit_ks"] > 0.05
    assert fitted.uncertain()["transitions[0].probability"].family == "beta"


def test_the_same_seed_gives_the_same_posterior():
    args = {"data": [datum(7, 20)], "params": ["transitions[0].probability"], "draws": 500}
    first = quiet_posterior(conjugate_scenario(), seed=9, **args)
    again = quiet_posterior(conjugate_scenario(), seed=9, **args)
    other = quiet_posterior(conjugate_scenario(), seed=10, **args)
    assert first[0] == again[0]
    assert first[1].equals(again[1])
    assert not first[1].equals(other[1])


def test_a_fast_path_that_disagrees_with_the_exact_module_is_not_used(monkeypatch):
    module = importlib.import_module("sibsim.analysis.posterior")
    real = module.expected_shares
    monkeypatch.setattr(module, "expected_shares",
                        lambda *args, **kwargs: real(*args, **kwargs) * 0.9)
    a, b = beta_parameters(0.3, 0.1)
    with pytest.warns(PosteriorWarning, match="disagree with sibsim.engine.exact"):
        _, report = posterior(conjugate_scenario(), data=[datum(7, 20)],
                              params=["transitions[0].probability"], draws=300, seed=1)
    row = param_row(report, "transitions[0].probability")
    exact = stats.beta(a + 7, b + 13)
    assert abs(row["posterior_mean"] - exact.mean()) < 4 * exact.std() / math.sqrt(row["ess"])


# ---------------------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("params", "words"), [
    (["transitions[0].probabilty"], (r"params\[0\]: got 'transitions\[0\]\.probabilty'.*did "
                                     r"you mean 'transitions\[0\]\.probability'")),
    (["months"], r"params\[0\]: got 'months', expected the key path of a per-draw parameter"),
    (["programme.fixed_cost"], r"params\[0\].*it is the number 0\.0 here \(give it a prior\)"),
    (["transitions[0"], r"params\[0\]: got 'transitions\[0', expected a key path"),
    ([3], r"params\[0\]: got 3"),
    (["transitions[0].probability", '"transitions"[0].probability'],
     r"params\[1\].*not listed before"),
    ([], r"params: got an empty list"),
    (17, r"params: got 17"),
])
def test_bad_params_are_named(params, words):
    with pytest.raises(ScenarioError, match=words):
        posterior(conjugate_scenario(), data=[datum(1, 2)], params=params, draws=100)


@pytest.mark.parametrize(("change", "words"), [
    ({"state": "working"}, r"data\[0\]\.state: got 'working', expected one of the states"),
    ({"arm": "both"}, r"data\[0\]\.arm: got 'both'"),
    ({"months_since_entry": 6}, (r"data\[0\]\.months_since_entry: got 6, expected a whole "
                                 r"number from 0 to 5")),
    ({"months_since_entry": 1.5}, r"data\[0\]\.months_since_entry: got 1\.5"),
    ({"count": 3, "n": 2}, r"data\[0\]\.count: got 3, expected a whole number from 0 to n = 2"),
    ({"count": -1}, r"data\[0\]\.count: got -1"),
    ({"n": 0}, r"data\[0\]\.n: got 0, expected a whole number >= 1"),
    ({"n": True}, r"data\[0\]\.n: got True"),
    ({"share": 0.3}, r"data\[0\]\.share: got 0\.3, expected one of the keys"),
])
def test_bad_data_are_named(change, words):
    entry = {**datum(1, 2), **change}
    with pytest.raises(ValueError, match=words):
        posterior(conjugate_scenario(), data=[datum(1, 2), entry][1:],
                  params=["transitions[0].probability"], draws=100)


def test_missing_data_keys_and_other_arguments_are_named():
    params = ["transitions[0].probability"]
    missing = {k: v for k, v in datum(1, 2).items() if k != "n"}
    with pytest.raises(ValueError, match=r"data\[1\]\.n: got nothing"):
        posterior(conjugate_scenario(), data=[datum(1, 2), missing], params=params)
    with pytest.raises(ValueError, match=r"data: got an empty list"):
        posterior(conjugate_scenario(), data=[], params=params)
    with pytest.raises(ValueError, match=r"data\[0\]: got 5"):
        posterior(conjugate_scenario(), data=[5], params=params)
    with pytest.raises(ValueError, match=r"draws: got 50, expected a whole number >= 100"):
        posterior(conjugate_scenario(), data=[datum(1, 2)], params=params, draws=50)
    with pytest.raises(ValueError, match=r"seed"):
        posterior(conjugate_scenario(), data=[datum(1, 2)], params=params, seed=-1)


def test_a_count_the_model_cannot_produce_is_named():
    with pytest.raises(ValueError, match=r"data\[1\]\.count: got 2, expected 0: the scenario's "
                                         r"expected share in 'employed' is 0"):
        posterior(conjugate_scenario(), data=[datum(1, 2), datum(2, 5, m=0)],
                  params=["transitions[0].probability"], draws=100)


def test_posterior_is_exported():
    assert sibsim.posterior is posterior
    assert "posterior" in sibsim.__all__
