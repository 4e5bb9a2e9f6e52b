"""The assumptions register's measured directions (scripts/assumptions_register.py).

Runs the script at a few draws; checks that every assumption is either found in the
built-in scenario or reported as missing, and holds the measured changes to identities that
need no simulation to know: a flow paid by the state alone cannot move the municipality,
the programme's cost cannot move a public budget, and a guarantee moves money from the
foundation to the investor one for one.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "assumptions_register.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("assumptions_register", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


ar = _load_script()


@pytest.fixture(scope="module")
def register():
    return ar.register(draws=40, seed=2, only=("A16", "A19", "A23", "A2"))


def test_the_script_writes_the_include(tmp_path):
    target = tmp_path / "directions.rst"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, str(SCRIPT), "--draws", "20", "--rst", str(target)],
                          capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = target.read_text(encoding="utf-8")
    found = 0
    for assumption in ar.ASSUMPTIONS:
        assert f"* - {assumption.id}\n" in text, assumption.id
        found += f"{assumption.what}: not in this scenario" not in text
    # A rebuilt scenario may drop an assumption (it is then listed as missing); most remain.
    assert found >= 0.8 * len(ar.ASSUMPTIONS), "update ASSUMPTIONS in the script"


def _changes(register, ident):
    cols, rows, _ = register
    (assumption, path, changes), = [row for row in rows if row[0].id == ident]
    if changes is None:
        pytest.skip(f"{ident} is not in this scenario")
    return dict(zip(cols, changes))


def test_a_state_flow_cannot_move_the_municipality(register):
    for (contract, party), (mean, mcse, none) in _changes(register, "A16").items():
        if party != "state":
            assert none and mean == 0.0, (contract, party)
        else:
            assert mean < 0                      # a larger grant costs the state


def test_the_programme_cost_moves_no_public_budget(register):
    """... except through an investor's return cap (a multiple of the money drawn)."""
    import sibsim

    financed = {c["name"] for c in sibsim.load_scenario(ar.BUILT_IN).data["contracts"]
                if c.get("financing")}
    changes = _changes(register, "A19")
    for (contract, party), (mean, mcse, none) in changes.items():
        if party == "state" or (party == "municipality" and contract not in financed):
            assert mean == 0.0, (contract, party)
    assert changes[("donation", "foundation")][0] < 0


def test_a_guarantee_moves_money_from_the_foundation_to_the_investor(register):
    changes = _changes(register, "A23")
    investor, foundation = changes[("sib", "investor")], changes[("sib", "foundation")]
    assert investor[0] > 0
    assert investor[0] == pytest.approx(-foundation[0], rel=1e-9)


def test_a_larger_effect_raises_the_public_savings(register):
    """Under the donation (no payments) the municipality's and the state's npv are their
    savings, which a larger effect on job finding raises."""
    changes = _changes(register, "A2")
    for key in (("donation", "municipality"), ("donation", "state")):
        mean, mcse, _ = changes[key]
        assert mean > 2 * mcse, key


def test_cells():
    assert ar.cell((0.0, 0.0, True)) == "0"
    assert ar.cell((10.0, 20.0, False)) == "~0"
    assert ar.cell((-1_234_567.0, 1.0, False)) == "-1,235"
    # The truth lower (lean -1) and a change that rises with the value: overstated.
    assert ar.cell((5000.0, 1.0, False), lean=-1) == "+5 (over)"
    assert ar.cell((-5000.0, 1.0, False), lean=-1) == "-5 (under)"
    assert ar.cell((-5000.0, 1.0, False), lean=1) == "-5 (over)"
