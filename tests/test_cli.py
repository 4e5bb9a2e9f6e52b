"""The ``sibsim`` command line: validate, run, demo and ``python -m sibsim``.

Most checks call :func:`sibsim.cli.main` in process (it returns the exit code); the entry
points themselves (``python -m sibsim``, the ``sibsim`` script) run as subprocesses.
"""

from __future__ import annotations

import os
import time
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
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
    # The table fits 80 columns, and leaves out (and names) the rows that carry nothing.
    printed = [line for line in text.splitlines() if not line.startswith("wrote ")]
    assert max(len(line) for line in printed) <= 80
    result = sibsim.simulate(scenario, draws=50, seed=1, progress=False)
    roles = result["role"].transpose("contract", "party")
    for contract in scenario.contract_names():
        for party in scenario.parties():
            shown = any(line.split()[:2] == [contract, party] for line in printed)
            assert shown == (str(roles.sel(contract=contract, party=party).values) != "none"), \
                (contract, party)
    assert "Not shown, as they neither pay, receive nor save anything" in text


def test_demo_skips_plots_that_would_be_empty_and_says_why(tmp_path, capsys, monkeypatch):
    from sibsim import plot

    real = plot.save_all

    def no_investors(result, out):
        return real(result.assign(investor_irr=result["investor_irr"] * np.nan), out)

    monkeypatch.setattr(plot, "save_all", no_investors)
    assert main(["demo", "--draws", "20", "--out", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert "skipped investor_irr.png: no contract has investor tranches" in text
    assert not (tmp_path / "investor_irr.png").exists()


@pytest.mark.parametrize("command", [
    ["demo"], ["tornado", "danish-pilot"],
    ["corridor", "danish-pilot", "--param", "contracts[1].outcomes[0].price", "--values", "1"],
])
def test_an_output_folder_that_is_a_file_is_a_clear_error(tmp_path, capsys, command):
    taken = tmp_path / "taken"
    taken.write_text("x")
    assert main([*command, "--draws", "2", "--out", str(taken)]) == 2
    err = capsys.readouterr().err
    assert "--out" in err and "a file of that name exists" in err and "Traceback" not in err


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


# -- help, version, list, init -------------------------------------------------------------------

def _subparsers():
    from sibsim.cli import build_parser

    parser = build_parser()
    action = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return parser, action.choices


def test_every_option_is_described_with_its_default():
    _, commands = _subparsers()
    assert {"demo", "run", "validate", "list", "init", "summarize", "tornado",
            "corridor"} <= set(commands)
    for name, sub in commands.items():
        formatter = sub._get_formatter()
        text = "".join(sub.format_help().split())  # the help as printed, without wrapping
        for action in sub._actions:
            if not action.option_strings or action.dest == "help":
                continue
            assert action.help, (name, action.dest)
            shown = formatter._get_help_string(action)
            assert "".join(shown.split()) in text, (name, action.dest)
            if not action.required:
                assert "default" in shown, (name, action.dest, shown)
            default = action.default
            if default not in (None, False) and not action.required:
                value = " ".join(map(str, default)) if isinstance(default, (list, tuple)) \
                    else str(default)
                assert value in shown, (name, action.dest, shown)


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"sibsim {sibsim.__version__}"


def test_list_names_the_built_in_scenarios(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in sibsim.scenario.builtin_scenarios():
        assert any(line.startswith(name) for line in out.splitlines()), name
    assert sibsim.load_scenario("danish-pilot").name in out


def test_init_writes_a_starting_point_and_keeps_an_existing_file(tmp_path, capsys):
    target = tmp_path / "mine.toml"
    assert main(["init", "danish-pilot", str(target)]) == 0
    assert "wrote" in capsys.readouterr().out
    assert sibsim.load_scenario(target) == sibsim.load_scenario("danish-pilot")
    assert "#" in target.read_text()  # the comments and sources come along
    target.write_text("mine")
    assert main(["init", "danish-pilot", str(target)]) == 2
    assert "--force" in capsys.readouterr().err
    assert target.read_text() == "mine"
    assert main(["init", "danish-pilot", str(target), "--force"]) == 0
    assert sibsim.load_scenario(target) == sibsim.load_scenario("danish-pilot")


@pytest.mark.parametrize("name, target, message", [
    ("danish-pilt", "x.toml", "did you mean 'danish-pilot'"),
    ("danish-pilot", "x.txt", "ending in .toml"),
    ("danish-pilot", "missing/x.toml", "existing folder"),
])
def test_init_refuses_bad_names_and_paths(tmp_path, capsys, name, target, message):
    assert main(["init", name, str(tmp_path / target)]) == 2
    assert message in capsys.readouterr().err


# -- summarize -----------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".nc", ".zarr"])
def test_summarize_prints_the_table_of_a_saved_result(tiny, tmp_path, capsys, suffix):
    if suffix == ".zarr":
        pytest.importorskip("zarr")
    out = tmp_path / f"result{suffix}"
    assert main(["run", str(tiny), "--draws", "15", "--seed", "3", "--out", str(out)]) == 0
    capsys.readouterr()
    csv = tmp_path / "summary.csv"
    assert main(["summarize", str(out), "--csv", str(csv)]) == 0
    text = capsys.readouterr().out
    assert "tiny: 15 draws, seed 3" in text and "P(loss)" in text
    table = sibsim.summarize(sibsim.simulate(tiny, draws=15, seed=3))
    import pandas as pd

    saved = pd.read_csv(csv)
    assert list(saved.columns) == list(table.columns)
    assert np.allclose(saved["mean"], table["mean"])


@pytest.mark.parametrize("given, message", [("missing.nc", "expected an existing result"),
                                            ("tiny.toml", "expected an existing result")])
def test_summarize_refuses_what_is_not_a_result(tiny, tmp_path, capsys, given, message):
    path = tmp_path / given if given != "tiny.toml" else tiny
    assert main(["summarize", str(path)]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("csv, message", [("summary.txt", "ending in .csv"),
                                          ("folder.csv", "ending in .csv"),
                                          ("missing/summary.csv", "existing folder")])
def test_summarize_checks_the_csv_path_before_reading(tmp_path, capsys, csv, message):
    (tmp_path / "folder.csv").mkdir()
    assert main(["summarize", str(tmp_path / "no.nc"), "--csv", str(tmp_path / csv)]) == 2
    err = capsys.readouterr().err
    assert "--csv" in err and message in err and "Traceback" not in err


# -- output paths, file modes --------------------------------------------------------------------

@pytest.mark.parametrize("out, message", [
    ("", "expected a path ending in .nc or .zarr"),
    ("result.csv", "expected a path ending in .nc or .zarr"),
    ("folder.nc", "that is a folder"),
    ("file.zarr", "a file of that name exists"),
    ("missing/result.nc", "existing folder"),
])
def test_output_paths_are_checked_before_any_simulation(tiny, tmp_path, capsys, monkeypatch,
                                                         out, message):
    (tmp_path / "folder.nc").mkdir()
    (tmp_path / "file.zarr").write_text("x")
    monkeypatch.setattr(sibsim, "simulate", lambda *a, **k: pytest.fail("simulated"))
    monkeypatch.setattr(sibsim, "simulate_to_zarr", lambda *a, **k: pytest.fail("simulated"))
    target = str(tmp_path / out) if out else ""
    assert main(["run", str(tiny), "--draws", "2", "--out", target]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_results_get_the_permissions_of_the_umask(tiny, tmp_path, umask):
    previous = os.umask(umask)
    try:
        out = tmp_path / "result.nc"
        assert main(["run", str(tiny), "--draws", "3", "--out", str(out)]) == 0
        init = tmp_path / "start.toml"
        assert main(["init", "danish-pilot", str(init)]) == 0
    finally:
        os.umask(previous)
    for path in (out, init):
        assert path.stat().st_mode & 0o777 == 0o666 & ~umask, oct(path.stat().st_mode)


def test_plots_and_tables_get_the_permissions_of_the_umask(tiny, tmp_path):
    previous = os.umask(0o027)
    try:
        assert main(["demo", "--draws", "10", "--out", str(tmp_path / "demo")]) == 0
        assert main(["tornado", str(tiny), "--draws", "4", "--out", str(tmp_path / "t")]) == 0
    finally:
        os.umask(previous)
    written = [*(tmp_path / "demo").iterdir(), *(tmp_path / "t").iterdir()]
    assert {p.name for p in written} >= {"net_position.png", "tornado.csv", "tornado.png"}
    for path in written:
        assert path.stat().st_mode & 0o777 == 0o640, (path.name, oct(path.stat().st_mode))


def test_a_temporary_file_left_by_a_killed_run_is_removed(tiny, tmp_path):
    import socket

    stale = tmp_path / f".result.nc.sibsim-{socket.gethostname()}-999999999-abc.tmp"
    stale.write_bytes(b"half a file")
    out = tmp_path / "result.nc"
    assert main(["run", str(tiny), "--draws", "3", "--out", str(out)]) == 0
    assert not stale.exists() and out.exists()


# -- pipes and signals ---------------------------------------------------------------------------

def _default_signals():
    """In the child: Ctrl-C as at a terminal, even where the tests run with SIGINT ignored
    (a background job)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _env():
    root = Path(__file__).resolve().parent.parent
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(root / "src"),
                                                         os.environ.get("PYTHONPATH", "")]))


def test_a_closed_pipe_ends_quietly(tmp_path):
    proc = subprocess.run(
        f"{sys.executable} -m sibsim demo --draws 20 --out {tmp_path / 'demo'} | head -n 1",
        shell=True, capture_output=True, text=True, timeout=300, env=_env())
    assert proc.returncode == 0
    assert proc.stdout.count("\n") == 1
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr
    assert (tmp_path / "demo" / "net_position.png").exists()  # the command still finished


@pytest.mark.parametrize("signum, code", [(2, 130), (15, 143)])
def test_a_signal_during_a_run_leaves_no_file_and_the_old_result(tiny, tmp_path, signum, code):
    out = tmp_path / "result.nc"
    assert main(["run", str(tiny), "--draws", "2", "--out", str(out)]) == 0
    before = out.read_bytes()
    proc = subprocess.Popen([sys.executable, "-m", "sibsim", "run", "danish-pilot", "--draws",
                             "100000", "--variables", "npv,params", "--out", str(out)],
                            env=dict(_env(), SIBSIM_MEMORY_LIMIT="off"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_default_signals)
    time.sleep(8)  # imports done, simulating
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode in (code, 130), err  # 130: stopped while still starting
    assert "Traceback" not in err and "no result written" in err
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.nc", "tiny.toml"]


def test_an_interrupted_zarr_run_resumes(tmp_path):
    pytest.importorskip("zarr")
    store = tmp_path / "run.zarr"
    command = [sys.executable, "-m", "sibsim", "run", "danish-pilot", "--draws", "400",
               "--seed", "2", "--chunk-draws", "10", "--out", str(store)]
    proc = subprocess.Popen(command, env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=_default_signals)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not (store / "npv").exists():
        time.sleep(0.1)
    time.sleep(1.0)
    proc.send_signal(2)
    _, err = proc.communicate(timeout=120)
    if proc.returncode == 0:
        pytest.skip("the run finished before it could be interrupted")
    assert proc.returncode == 130 and "resumes when run again" in err
    again = subprocess.run(command, env=_env(), capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "resuming:" in again.stdout
    with xr.open_zarr(store) as saved:
        expected = sibsim.simulate("danish-pilot", draws=400, seed=2)
        assert np.array_equal(saved["npv"].values, expected["npv"].values)
        assert np.array_equal(saved["cost"].values, expected["cost"].values)


def test_first_compile_note(monkeypatch, capsys):
    """A simulating command says on stderr that the engine compiles, when it is not cached."""
    import importlib

    import sibsim.cli as cli

    engine = importlib.import_module("sibsim.engine.simulate")

    monkeypatch.setattr(engine, "engine_compiled", lambda: False)
    cli._note_first_compile("validate")
    assert capsys.readouterr().err == ""
    cli._note_first_compile("demo")
    assert "compiling the simulation engine" in capsys.readouterr().err
    monkeypatch.undo()
    sibsim.simulate("danish-pilot", draws=2, seed=1)
    assert engine.engine_compiled()
