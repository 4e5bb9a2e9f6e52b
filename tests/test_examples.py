"""The example scripts run, print what they promise, and reproduce the published cases.

Each script in ``examples/`` runs as a subprocess with ``SIBSIM_DRAWS=100`` and a temporary
``SIBSIM_OUT`` (and a temporary working folder, so nothing lands in the repository). The
qualitative results of the published cases (see docs/examples.rst) are checked in
process on the scenario files with a modest number of draws.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import sibsim

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SCRIPTS = sorted(p for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))
SCENARIO_FILES = sorted(EXAMPLES.glob("*.toml"))

#: Lines (regular expressions) each script must print, and the plots it must write.
EXPECTED = {
    "quickstart.py": (
        [r"^contract\s+party\s+mean", r"^narrow\s+municipality", r"What the table says:",
         r"the municipality ends [+-]\d", r"SIB the investor's npv"],
        ["quickstart_net_position.png"],
    ),
    "narrow_vs_broad.py": (
        [r"1\. Net position", r"narrow\s+municipality\s+[+-]\d", r"broad\s+provider\s+[+-]\d",
         r"2\. Payment .* weak", r"3\. If the programme did nothing",
         r"narrow\s+still pays \d", r"broad\s+still pays \d", r"A threshold"],
        ["narrow_vs_broad_payments.png"],
    ),
    "investor_view.py": (
        [r"1\. As designed", r"multiple \(money back / money in\): mean \d",
         r"IRR: median -?\d", r"2\. One term changed", r"no guarantee\s+\d",
         r"no return cap", r"no effect \(ratio 1\)\s+\d"],
        ["investor_irr.png"],
    ),
    "site_differences.py": (
        [r"Herning\s+\d+\.\d\s+[+-]\d", r"Viborg\s+\d+\.\d\s+[+-]\d", r"2\. Chance alone",
         r"Herning\s+330 participants", r"Herning shows the larger saving in \d+%",
         r"3\. If 'harder to lift'"],
        ["site_differences.png"],
    ),
    "koto_sib.py": (
        [r"public saving\s+\+2,670\s+\+\d", r"investors' multiple: mean 0\.\d",
         r"3\. Why", r"4\. What would have to change", r"share of the saving paid",
         r"effect on job finding", r"effect lasts throughout"],
        ["koto_sib_multiple.png"],
    ),
    "national_rollout.py": (
        [r"National roll-out: 24 municipalities: 2,145 participants", r"1\. Memory",
         r"^\s+100,000\s+\d", r"2\. Streamed to national_rollout\.zarr",
         r"the same call again: \d", r"^sib\s+investor\s+[+-]?\d"],
        ["national_rollout_net_position.png"],
    ),
    "stepping_stone.py": (
        [r"1\. What a 65-person pilot is worth", r"EVSI of the 65-person pilot: [+-][\d,]+k DKK",
         r"EVPPI \(knowing those parameters exactly\)", r"chosen after the pilot: narrow \d+%",
         r"2\. What size would have been worth its cost", r"^\s+65\s+-?[\d,]+k"],
        ["stepping_stone_evsi.png"],
    ),
    "dwp_rate_card.py": (
        [r"1\. No effect", r"rate card pays\s+GBP \d", r"gain share pays\s+GBP \d",
         r"DWP net position \(npv\): rate card GBP -\d", r"2\. With an effect",
         r"would have been paid with no effect"],
        ["dwp_net_position.png"],
    ),
}


def test_every_example_has_expectations():
    assert {p.name for p in SCRIPTS} == set(EXPECTED)


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.name for p in SCRIPTS])
def test_example_runs(script, tmp_path):
    out = tmp_path / "out"
    env = dict(os.environ, SIBSIM_DRAWS="100", SIBSIM_OUT=str(out), MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "100 draws" in proc.stdout
    lines, plots = EXPECTED[script.name]
    for pattern in lines:
        assert re.search(pattern, proc.stdout, flags=re.MULTILINE), (pattern, proc.stdout)
    for name in plots:
        assert (out / name).stat().st_size > 0, name
    # Plots go to SIBSIM_OUT only, never to the working folder's default.
    assert not (tmp_path / "examples-out").exists()


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=[p.name for p in SCENARIO_FILES])
def test_example_scenario_is_valid(path):
    assert sibsim.scenario.validate(path) == []
    scenario = sibsim.load_scenario(path)
    assert sibsim.load_scenario(scenario.to_toml()) == scenario


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=[p.name for p in SCENARIO_FILES])
def test_every_number_in_a_case_file_names_its_source(path):
    """Each line that sets a number carries a comment naming cases.md or an assumption."""
    unmarked = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        code, _, comment = line.partition("#")
        value = code.partition("=")[2]
        if re.search(r"\d", value) and not re.search(r"cases\.md|assumption", comment):
            unmarked.append(f"{path.name}:{number}: {line.strip()}")
    assert not unmarked, "\n".join(unmarked)


# -- Koto-SIB (cases.md, case 2) --------------------------------------------------------------

@pytest.fixture(scope="module")
def koto():
    scenario = sibsim.load_scenario(EXAMPLES / "koto_sib.toml")
    return scenario, sibsim.simulate(scenario, draws=200, seed=3)


def test_koto_reproduces_the_reported_public_saving(koto):
    scenario, result = koto
    people = scenario.get("cohort.sites.Finland.size")
    cost = result["cost"].sum(["month", "payer"]).mean("draw")
    saving = float((cost.sel(arm="counterfactual") - cost.sel(arm="treatment")).sum()) / people
    assert saving == pytest.approx(2670, rel=0.1)      # cases.md: about EUR 2,670 per person


def test_koto_investors_multiple_is_below_one(koto):
    _, result = koto
    multiple = result["investor_multiple"].sel(contract="koto_sib").values
    assert multiple.mean() < 0.5                       # far below the capital committed
    assert np.mean(multiple < 1) > 0.95


def test_koto_even_a_full_share_does_not_repay(koto):
    scenario, _ = koto
    full = sibsim.simulate(scenario.replace("contracts[0].share", 1.0), draws=100, seed=3)
    assert float(full["investor_multiple"].sel(contract="koto_sib").mean()) < 1


def test_koto_a_much_larger_effect_would_repay(koto):
    scenario, _ = koto
    strong = sibsim.simulate(scenario.replace("transitions[0].effect.ratio", 3.5),
                             draws=100, seed=3)
    assert float(strong["investor_multiple"].sel(contract="koto_sib").mean()) > 1


# -- DWP Innovation Fund (cases.md, case 3) ----------------------------------------------------

@pytest.fixture(scope="module")
def dwp():
    scenario = sibsim.load_scenario(EXAMPLES / "dwp_rate_card.toml")
    return scenario, sibsim.simulate(scenario, draws=100, seed=3)


def test_dwp_has_no_effect_so_nothing_is_saved(dwp):
    _, result = dwp
    assert np.all(result["savings_npv"].values == 0.0)


def test_dwp_rate_card_leaves_the_payer_clearly_negative(dwp):
    scenario, result = dwp
    people = scenario.get("cohort.sites.NewHorizons.size")
    npv = result["npv"].sel(contract="rate_card", party="dwp").values
    paid = result["payment"].sel(contract="rate_card").sum("month").values
    assert npv.mean() < -0.5 * paid.mean() < 0
    assert np.all(npv < 0)
    # About what New Horizons was paid (GBP 1,067 per participant, cases.md).
    assert paid.mean() / people == pytest.approx(1067, rel=0.15)


def test_dwp_counterfactual_contract_pays_much_less(dwp):
    _, result = dwp
    paid = result["payment"].sum("month").mean("draw")
    assert float(paid.sel(contract="gain_share")) < 0.05 * float(paid.sel(contract="rate_card"))
    npv = result["npv"].sel(party="dwp").mean("draw")
    assert float(npv.sel(contract="gain_share")) > 0.05 * float(npv.sel(contract="rate_card"))
