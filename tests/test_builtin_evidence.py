"""The built-in scenarios on the evidence: ``danish-pilot-prior`` (the priors) and
``danish-pilot`` (their posterior given the pilot's counts), both made by
``scripts/fit_danish_pilot.py``."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

import sibsim

ROOT = Path(__file__).resolve().parents[1]


def _script(name: str):
    path = ROOT / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def script():
    return _script("fit_danish_pilot")


@pytest.fixture(scope="module")
def fit(script):
    return script.run_fit()


def test_both_scenarios_are_built_in():
    assert {"danish-pilot", "danish-pilot-prior"} <= set(sibsim.scenario.builtin_scenarios())


def test_the_prior_file_holds_the_scripts_priors(script):
    assert script.prior_differences(script.prior_scenario()) == []


def test_the_design_adjustment_shrinks_and_widens_e1(script):
    adjusted = script.design_adjusted()["lognormal"]
    assert 1.0 < adjusted["median"] < script.E1_MEDIAN
    assert adjusted["sigma"] > script.E1_SIGMA


def test_the_shipped_posterior_is_a_fresh_fit(script, fit):
    fitted, report = fit
    assert report.attrs["trusted"]
    text = script.posterior_text(script.PRIOR_FILE.read_text(encoding="utf-8"),
                                 script.rounded_values(fitted),
                                 script.rounded_correlations(fitted))
    assert script.POSTERIOR_FILE.read_text(encoding="utf-8") == text
    shipped = sibsim.load_scenario("danish-pilot")
    for path, value in script.rounded_values(fitted).items():
        assert shipped.get(path) == value, path


def test_the_effects_lie_inside_what_the_evidence_supports(script, fit):
    fitted, report = fit
    assert all(script.effect_within_evidence(script.rounded_values(fitted)).values())
    prior = script.prior_scenario()
    shipped = sibsim.load_scenario("danish-pilot")
    for path in ("transitions[0].effect.ratio", "transitions[1].effect.ratio"):
        # the posterior moves from the design-adjusted prior towards the pilot, not past it:
        # its median stays below the prior's 99th percentile
        assert shipped.uncertain()[path].median() < prior.uncertain()[path].quantile(0.99)


def test_the_posterior_predicts_the_pilots_counts(fit):
    _, report = fit
    data = report[report["kind"] == "datum"]
    assert len(data) == 4
    for _, row in data.iterrows():
        assert row["posterior_p05"] <= row["observed"] <= row["posterior_p95"], row["param"]


def test_register_checks_of_the_prior(script):
    checks = script.register_checks(script.prior_scenario())
    assert 0.05 <= checks["job_entry_12"] <= 0.18   # J1: about 10%, 5-18%
    assert 0.60 <= checks["support_72"] <= 0.80     # J3: about 70%, 60-80%


def test_the_evidence_tables_of_the_docs_are_current(script):
    """The parameter and register tables of docs/evidence_table.inc (the simulated risk
    table is checked by ``python scripts/evidence_table.py --check``)."""
    tables = _script("evidence_table")
    text = tables.OUTPUT.read_text(encoding="utf-8")
    assert tables.parameter_table(script) in text
    assert tables.check_table(script) in text


def test_demo_runs_the_prior_scenario(tmp_path, capsys):
    from sibsim.cli import main

    assert main(["demo", "--scenario", "danish-pilot-prior", "--draws", "20",
                 "--out", str(tmp_path / "demo")]) == 0
    assert sibsim.load_scenario("danish-pilot-prior").name in capsys.readouterr().out
    assert main(["demo", "--scenario", "danish-pilot-prio", "--draws", "20",
                 "--out", str(tmp_path / "demo")]) == 2
    assert "did you mean 'danish-pilot-prior'" in capsys.readouterr().err


def test_what_the_evidence_chapter_says_of_the_fit(script, fit):
    """docs/evidence.rst describes the fit in words; these are the facts it states."""
    _, report = fit
    data = report[report["kind"] == "datum"].set_index("param")
    treated = data.loc["employed treatment month 14"]
    assert treated["posterior_mean"] < treated["observed"]
    shipped = sibsim.load_scenario("danish-pilot")
    assert shipped.uncertain()["transitions[0].hazard_scale"].quantile(0.05) > 1.0
    prior, posterior = (script.register_checks(s) for s in (script.prior_scenario(), shipped))
    assert posterior["job_entry_12"] > prior["job_entry_12"]
    assert posterior["support_72"] < 0.60
    tables = sibsim.summarize(sibsim.simulate("danish-pilot-prior", draws=200, seed=1))
    municipality = tables[tables["party"] == "municipality"]
    assert (municipality["prob_loss"] > 0.1).all()
