"""The ``sibsim`` command line: validate, run, demo and ``python -m sibsim``.

Most checks call :func:`sibsim.cli.main` in process (it returns the exit code); the entry
points themselves (``python -m sibsim``, the ``sibsim`` script) run as subprocesses.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import xarray as xr

import sibsim
from sibsim.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

TINY = """\
name = "tiny"
months = 24
discount_rate = 0.03
states = ["benefits", "employed"]

[cohort]
initial_state = "benefits"
intake_months = 3
[cohort.sites.A]
size = 12

[programme]
months = 6
cost_per_participant = 20000

[[transitions]]
from = "benefits"
to = "employed"
probability = 0.05
effect = { ratio = { lognormal = { median = 1.5, sigma = 0.2 } }, to_month = 12 }

[[transitions]]
from = "employed"
to = "benefits"
probability = 0.04

[[flows]]
name = "benefit"
state = "benefits"
category = "benefits"
monthly = 10000
split = { municipality = 0.8, state = "rest" }

[[contracts]]
name = "card"
type = "rate_card"
payer = "municipality"
outcomes = [ { name = "job_3m", state = "employed", sustained_months = 3, price = 30000 } ]

[[contracts.financing.tranches]]
party = "investor"
amount = 240000
"""

# Four independent mistakes: a typo'd key, a probability above 1, an unknown state and a
# split that sums to more than 1.
BROKEN = (TINY
          .replace("intake_months = 3", "intake_month = 3")
          .replace("probability = 0.04", "probability = 1.4")
          .replace('state = "employed", sustained', 'state = "working", sustained')
          .replace('split = { municipality = 0.8, state = "rest" }',
                   "split = { municipality = 0.8, state = 0.5 }"))


@pytest.fixture
def tiny(tmp_path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY, encoding="utf-8")
    return path


@pytest.fixture
def broken(tmp_path) -> Path:
    path = tmp_path / "broken.toml"
    path.write_text(BROKEN, encoding="utf-8")
    return path


# -- validate ------------------------------------------------------------------------------------

@pytest.mark.parametrize("source", ["tiny", "danish-pilot", "koto", "dwp"])
def test_validate_accepts_a_valid_scenario(source, tiny, capsys):
    file = {"tiny": str(tiny), "danish-pilot": "danish-pilot",
            "koto": str(EXAMPLES / "koto_sib.toml"),
            "dwp": str(EXAMPLES / "dwp_rate_card.toml")}[source]
    assert main(["validate", file]) == 0
    assert "valid" in capsys.readouterr().out


def test_validate_lists_every_problem_and_exits_2(broken, capsys):
    assert main(["validate", str(broken)]) == 2
    err = capsys.readouterr().err
    assert "4 problem(s)" in err
    for path in ("cohort.intake_month", "transitions[1].probability",
                 "contracts[0].outcomes[0].state", "flows[0].split"):
        assert path in err, (path, err)
    assert "got 1.4" in err and "got 'working'" in err and "did you mean 'intake_months'" in err


def test_validate_names_the_file_and_line_of_a_toml_syntax_error(tmp_path, capsys):
    path = tmp_path / "syntax.toml"
    path.write_text(TINY.replace("months = 24", "months = = 24"), encoding="utf-8")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "syntax.toml" in err and "line 2" in err


def test_validate_exits_2_from_the_console(broken):
    proc = subprocess.run([sys.executable, "-m", "sibsim", "validate", str(broken)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.count("\n  - ") == 4


# -- run -----------------------------------------------------------------------------------------

def test_run_writes_a_netcdf_that_reads_back(tiny, tmp_path, capsys):
    out = tmp_path / "result.nc"
    assert main(["run", str(tiny), "--draws", "20", "--seed", "7", "--out", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    with xr.open_dataset(out) as ds:
        for name in ("occupancy", "cost", "savings_npv", "payment", "npv", "investor_irr",
                     "investor_multiple", "params"):
            assert name in ds.data_vars, name
            assert ds[name].attrs.get("units") is not None and ds[name].attrs.get("long_name")
        assert ds["npv"].dims == ("draw", "contract", "party")
        assert ds.sizes["draw"] == 20
        assert int(ds.attrs["seed"]) == 7 and int(ds.attrs["draws"]) == 20
        assert ds.attrs["sibsim_version"] == sibsim.__version__
        assert ds.attrs["created"]
        # The stored scenario is the one that was run, and the run is reproducible from it.
        scenario = sibsim.load_scenario(ds.attrs["scenario"])
        assert scenario == sibsim.load_scenario(tiny)
        again = sibsim.simulate(scenario, draws=20, seed=7)
        assert (again["npv"].values == ds["npv"].values).all()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_run_with_yearly_resolution(tiny, tmp_path):
    out = tmp_path / "yearly.nc"
    assert main(["run", str(tiny), "--draws", "5", "--out", str(out),
                 "--resolution", "year"]) == 0
    with xr.open_dataset(out) as ds:
        assert "year" in ds.dims and "month" not in ds.dims


def test_failed_run_on_a_bad_scenario_leaves_no_file(broken, tmp_path, capsys):
    out = tmp_path / "result.nc"
    assert main(["run", str(broken), "--draws", "5", "--out", str(out)]) == 2
    assert "invalid scenario" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == [broken]


def test_failed_run_into_a_missing_folder_exits_2(tiny, tmp_path, capsys):
    out = tmp_path / "missing" / "result.nc"
    assert main(["run", str(tiny), "--draws", "5", "--out", str(out)]) == 2
    assert "--out" in capsys.readouterr().err
    assert not out.parent.exists()


def test_failed_write_leaves_no_file(tiny, tmp_path, monkeypatch):
    out = tmp_path / "result.nc"

    def half_write(self, path, *args, **kwargs):
        Path(path).write_bytes(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", half_write)
    with pytest.raises(OSError, match="disk full"):
        main(["run", str(tiny), "--draws", "5", "--out", str(out)])
    assert list(tmp_path.iterdir()) == [tiny]


def test_an_existing_result_survives_a_failed_run(tiny, broken, tmp_path):
    out = tmp_path / "result.nc"
    assert main(["run", str(tiny), "--draws", "5", "--out", str(out)]) == 0
    before = out.read_bytes()
    assert main(["run", str(broken), "--draws", "5", "--out", str(out)]) == 2
    assert out.read_bytes() == before


# -- demo ----------------------------------------------------------------------------------------

def test_demo_prints_the_summary_and_writes_the_plots(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--draws", "50", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "50 draws, seed 1" in text
    assert "P(loss)" in text
    header = next(line for line in text.splitlines() if line.startswith("contract"))
    assert header.split()[:3] == ["contract", "party", "mean"]
    scenario = sibsim.load_scenario("danish-pilot")
    for contract in scenario.contract_names():
        assert any(line.startswith(f"{contract} ") and "municipality" in line
                   for line in text.splitlines()), contract
    for name in ("employment.png", "net_position.png", "investor_irr.png", "risk_return.png",
                 "savings.png"):
        assert (out / name).stat().st_size > 0, name
        assert f"wrote {out / name}" in text


# -- entry points --------------------------------------------------------------------------------

def test_python_m_sibsim_help():
    proc = subprocess.run([sys.executable, "-m", "sibsim", "--help"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    for command in ("demo", "run", "validate"):
        assert command in proc.stdout


@pytest.mark.skipif(shutil.which("sibsim") is None, reason="the sibsim script is not on PATH")
def test_console_script_help():
    proc = subprocess.run(["sibsim", "--help"], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr
    assert "demo" in proc.stdout


def test_no_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        main([])
    assert exit_.value.code == 2
