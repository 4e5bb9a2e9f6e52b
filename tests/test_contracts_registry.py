"""Tests of the contract-type registry: lookup, listing, what each type asks of the engine,
the docs' list of types, and that the registry can be imported without the engine."""

from __future__ import annotations

import dataclasses
import inspect
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import sibsim
from sibsim import contracts
from sibsim.contracts import (
    BASELINES,
    CONTRACT_TYPES,
    OUTCOME_TYPES,
    ContractTerms,
    comparison_size,
    contract_type,
    describe_baselines,
    describe_types,
    is_outcome_contract,
    named_parties,
    needs_historical_baseline,
    needs_outcome_detection,
)
from sibsim.engine import run_model

ROOT = Path(__file__).resolve().parents[1]
SOURCE = Path(contracts.__file__).parent


def test_every_type_is_listed_once_in_order_with_its_own_module():
    assert list(CONTRACT_TYPES) == ["grant", "fee_for_service", "rate_card", "gain_share",
                                    "effect_tiers"]
    assert OUTCOME_TYPES == ("rate_card", "gain_share", "effect_tiers")
    for name, kind in CONTRACT_TYPES.items():
        assert kind.name == name and contract_type(name) is kind
        assert (SOURCE / "types" / f"{name}.py").is_file()
        assert kind.summary and kind.docs and kind.pays_programme
        # An outcome contract settles through its payments due, any other through who
        # pays the programme.
        assert (kind.due is not None) == kind.outcome == (kind.programme_shares is None)
    # Every module of the types package is a registered type.
    modules = sorted(p.stem for p in (SOURCE / "types").glob("*.py") if p.stem != "__init__")
    assert modules == sorted(CONTRACT_TYPES)
    assert [name for name, kind in CONTRACT_TYPES.items() if kind.detects_outcomes] == [
        "rate_card"]
    assert [name for name, kind in CONTRACT_TYPES.items() if kind.measures_baseline] == [
        "gain_share", "effect_tiers"]
    assert list(BASELINES) == ["counterfactual", "comparison_group", "historical"]


def test_a_declaration_must_say_how_it_settles():
    kind = CONTRACT_TYPES["gain_share"]
    with pytest.raises(TypeError, match="gain_share"):
        dataclasses.replace(kind, due=None)
    with pytest.raises(TypeError, match="grant"):
        dataclasses.replace(CONTRACT_TYPES["grant"], due=kind.due)


def test_unknown_type_and_baseline_are_errors_naming_the_key_path():
    with pytest.raises(ValueError, match=re.escape(
            "contracts[0].type: got 'loan', expected one of ['grant', 'fee_for_service'")):
        contract_type("loan", path="contracts[0].type")
    with pytest.raises(ValueError, match=re.escape(
            "contracts[2].baseline: got 'average', expected 'counterfactual', "
            "'comparison_group' or 'historical'")):
        contracts.baseline("average", path="contracts[2]")


def test_settle_reports_an_unknown_type_with_its_key_path():
    from test_contracts import make_ledger, run

    with pytest.raises(ValueError, match=re.escape("contracts[1].type: got 'loan'")):
        run([{"name": "a", "type": "grant", "funder": "foundation"},
             {"name": "b", "type": "loan"}], make_ledger())


def test_settlement_and_its_shared_pieces_never_compare_type_names():
    # Dispatch goes through the registry: the modules shared by every type name none.
    for module in ("settle", "positions", "limits", "financing", "declaration"):
        text = (SOURCE / f"{module}.py").read_text(encoding="utf-8")
        for name in [*CONTRACT_TYPES, *BASELINES]:
            assert f'"{name}"' not in text and f"'{name}'" not in text, (module, name)


def test_describe_types_lists_every_type_and_the_docs_show_the_registry():
    text = describe_types()
    assert [line.split()[0] for line in text.splitlines()] == list(CONTRACT_TYPES)
    assert [line.split()[0] for line in describe_baselines().splitlines()] == list(BASELINES)
    docs = (ROOT / "docs" / "contracts.rst").read_text(encoding="utf-8")
    # docs/contracts.rst carries the registry's own words (regenerate them from
    # describe_types(style="rst") and describe_baselines(style="rst") after a change).
    assert describe_types(style="rst") in docs
    assert describe_baselines(style="rst") in docs
    with pytest.raises(ValueError, match="style: got 'html'"):
        describe_types(style="html")


def engine_cases() -> dict:
    """A scenario with one contract of each type and each baseline."""
    tiers = [[0.05, 1000.0], [0.2, 5000.0]]
    return {
        "months": 24, "states": ["benefits", "employed"],
        "cohort": {"initial_state": "benefits", "intake_months": 4,
                   "sites": {"A": {"size": 12}, "B": {"size": 6}}},
        "programme": {"months": 3, "cost_per_participant": 900.0},
        "transitions": [
            {"from": "benefits", "to": "employed", "probability": 0.1,
             "effect": {"ratio": 1.5, "from_month": 0, "to_month": 12}},
            {"from": "employed", "to": "benefits", "probability": 0.05}],
        "flows": [{"name": "cash", "state": "benefits", "category": "benefits",
                   "monthly": 1000.0, "split": {"municipality": 1.0}}],
        "contracts": [
            {"name": "grant", "type": "grant", "funder": "foundation"},
            {"name": "fee", "type": "fee_for_service", "payer": "municipality"},
            {"name": "card", "type": "rate_card", "payer": "municipality",
             "outcomes": [{"name": "job", "state": "employed", "sustained_months": 2,
                           "price": 500.0}]},
            {"name": "gain", "type": "gain_share", "payer": "municipality", "share": 0.5},
            {"name": "gain_group", "type": "gain_share", "payer": "municipality",
             "share": 0.5, "baseline": "comparison_group", "comparison_size": 9},
            {"name": "tiers_group", "type": "effect_tiers", "payer": "municipality",
             "state": "benefits", "measure_at_month": 12, "tiers": tiers,
             "baseline": "comparison_group", "comparison_size": 30},
            {"name": "tiers_history", "type": "effect_tiers", "payer": "municipality",
             "state": "benefits", "measure_at_month": 12, "tiers": tiers,
             "baseline": "historical"},
            {"name": "card_again", "type": "rate_card", "payer": "state",
             "outcomes": [{"name": "job", "state": "employed", "cumulative_months": 3,
                           "price": 100.0}],
             "financing": {"tranches": [{"party": "Nørre Snede Sparekasse", "amount": 1e4}],
                           "guarantees": [{"party": "foundation",
                                           "covers": "Nørre Snede Sparekasse",
                                           "amount": 500.0}]}},
        ],
    }


def test_what_the_registry_says_the_engine_needs_is_what_the_ledger_holds():
    scenario = sibsim.load_scenario(engine_cases())
    normalised = scenario.data["contracts"]
    assert {c["type"] for c in normalised} == set(CONTRACT_TYPES)
    assert {c.get("baseline") for c in normalised} - {None} == set(BASELINES)
    ledger, _, _ = run_model(scenario, 3, 1)
    assert set(ledger.rate_card_due) == {
        i for i, c in enumerate(normalised) if needs_outcome_detection(c)} == {2, 7}
    sizes = {comparison_size(c) for c in normalised} - {None}
    assert set(ledger.comparison) == sizes == {9, 30}
    assert needs_historical_baseline(normalised[6])
    assert not any(needs_historical_baseline(c) for i, c in enumerate(normalised) if i != 6)
    assert ledger.historical is not None
    assert [is_outcome_contract(c) for c in normalised] == [False, False] + [True] * 6
    named = [p for c in normalised for p in named_parties(c)]
    assert scenario.parties() == [*dict.fromkeys([*scenario.payers(), *named]), "provider"]
    # Every type settles through the registry, and money only moves between parties.
    result = sibsim.simulate(scenario, draws=3, seed=1)
    total = result["savings_npv"].sum(("payer", "category")).values - (
        result["programme_cost"].values.sum(axis=1))  # discount_rate 0
    np.testing.assert_allclose(result["npv"].sum("party").values,
                               np.broadcast_to(total[:, None], (3, len(normalised))),
                               rtol=0.0, atol=1e-6)


def test_contract_terms_build_quoted_key_paths():
    terms = ContractTerms(contract={}, index=3, ledger=None, value=None)
    assert terms.path == "contracts[3]"
    assert terms.path_of("payer", "Nørre Snede") == 'contracts[3].payer."Nørre Snede"'
    assert terms.path_of("tiers", 1, 0) == "contracts[3].tiers[1][0]"


def test_registry_imports_neither_the_engine_nor_the_scenario_core():
    # With `sibsim` and `sibsim.scenario` present but not run, importing the contracts must
    # load nothing of the engine (which imports the scenario) nor the scenario core (its
    # schema, model and loading): only the validation kinds their schema parts are built of.
    source = Path(sibsim.__file__).parent
    code = textwrap.dedent(f"""
        import sys, types
        for name, folder in [("sibsim", {str(source)!r}),
                             ("sibsim.scenario", {str(source / 'scenario')!r})]:
            package = types.ModuleType(name)
            package.__path__ = [folder]
            sys.modules[name] = package
        from sibsim.contracts import CONTRACT_TYPES, comparison_size, needs_outcome_detection
        assert needs_outcome_detection({{"type": "rate_card"}})
        loaded = sorted(m for m in sys.modules if m.startswith("sibsim."))
        print(" ".join(loaded))
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    loaded = done.stdout.split()
    assert "sibsim.contracts.registry" in loaded
    others = [m for m in loaded if not m.startswith("sibsim.contracts")]
    assert set(others) <= {"sibsim.scenario", "sibsim.scenario.keypath", "sibsim.errors",
                           "sibsim.rules", "sibsim.scenario.kinds", "sibsim.scenario.checks",
                           "sibsim.scenario.distributions", "sibsim.scenario.families",
                           "sibsim.scenario.limits"}, others


#: Validates a scenario with every contract type and checks the registry's names are
#: re-exported by the scenario package (run after the imports of each case).
_USE_BOTH = """
import sibsim.contracts, sibsim.scenario
from test_contracts_registry import engine_cases
scenario = sibsim.scenario.load_scenario(engine_cases())
assert list(dict.fromkeys(c["type"] for c in scenario.data["contracts"])) == list(
    sibsim.contracts.CONTRACT_TYPES)
assert scenario.comparison_sizes() == [9, 30]
assert sibsim.scenario.CONTRACT_TYPES is sibsim.contracts.CONTRACT_TYPES
assert sibsim.scenario.BASELINES is sibsim.contracts.BASELINES
print("ok")
"""


@pytest.mark.parametrize("first", [
    "import sibsim",
    "import sibsim.contracts",
    "import sibsim.scenario",
    "import sibsim.scenario.kinds",
    # With the top-level package bare (its __init__, which fixes an order, not run), the
    # contracts and the scenario package are imported first in turn.
    "BARE; import sibsim.contracts; import sibsim.scenario",
    "BARE; import sibsim.scenario; import sibsim.contracts",
    "BARE; import sibsim.contracts.types.gain_share",
    "BARE; import sibsim.engine",
])
def test_the_packages_import_in_any_order_in_a_fresh_process(first):
    bare = textwrap.dedent(f"""
        import sys, types
        package = types.ModuleType("sibsim")
        package.__path__ = [{str(Path(sibsim.__file__).parent)!r}]
        sys.modules["sibsim"] = package
    """)
    code = first.replace("BARE; ", bare).replace("; ", "\n") + _USE_BOTH
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False, cwd=Path(__file__).parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["ok"]


def test_each_type_declares_its_scenario_keys_and_the_scenario_builds_its_table_from_them():
    from sibsim.scenario import contract_schema

    tables = contract_schema.CONTRACT.tables
    assert list(tables) == list(CONTRACT_TYPES)
    outcome_keys = [field.name for field in contracts.OUTCOME_BASED_FIELDS]
    assert outcome_keys == ["cap_total", "payment_lag_months", "financing", "payer_shares"]
    for name, kind in CONTRACT_TYPES.items():
        assert isinstance(kind.schema, contracts.ContractSchema), name
        own = [field.name for field in kind.schema.fields]
        assert list(tables[name].fields) == ["name", "type", *own,
                                             *(outcome_keys if kind.outcome else [])]
        # Who pays is one of the type's own keys.
        assert kind.party_key in own, name
    # The baseline choices are the declared baselines, the paired arm by default.
    for name, kind in CONTRACT_TYPES.items():
        field = tables[name].fields.get("baseline")
        assert (field is not None) == kind.measures_baseline, name
        if field is not None:
            assert field.kind.options == tuple(BASELINES)
            assert field.default == "counterfactual"


def test_the_scenario_package_knows_no_contract_type_or_baseline_by_name():
    # Adding a type or a baseline touches the contracts package only.
    folder = Path(sibsim.__file__).parent
    for path in [*sorted((folder / "scenario").glob("*.py")),
                 *sorted((folder / "cli").glob("*.py"))]:
        text = path.read_text(encoding="utf-8")
        for name in [*CONTRACT_TYPES, *BASELINES]:
            assert f'"{name}"' not in text and f"'{name}'" not in text, (path.name, name)


def test_scenario_reference_page_has_one_section_per_registered_type():
    # docs/scenario.rst documents each type's keys under a heading of its name, in the
    # registry's order, and lists the baselines as the registry does.
    text = (ROOT / "docs" / "scenario.rst").read_text(encoding="utf-8")
    section = text[text.index("\n[[contracts]]\n"):text.index("\nFinancing\n")]
    headings = re.findall(r"^``(\w+)``\n~+$", section, flags=re.MULTILINE)
    assert headings == list(CONTRACT_TYPES)
    listed = re.search(r"^     - one of the baselines of :ref:`baselines`: (.*\n.*)$", section,
                       flags=re.MULTILINE)
    assert listed is not None
    assert re.findall(r'``"(\w+)"``', listed.group(1)) == list(BASELINES)
    assert "SPEC" not in text


def test_public_functions_of_the_package_document_parameters_and_returns():
    for name in contracts.__all__:
        member = getattr(contracts, name)
        if inspect.isfunction(member):
            doc = inspect.getdoc(member) or ""
            assert "Parameters\n----------" in doc and "Returns\n-------" in doc, name


@pytest.mark.parametrize("module", sorted(
    p.relative_to(SOURCE.parent.parent).with_suffix("").as_posix().replace("/", ".")
    for p in SOURCE.rglob("*.py")))
def test_doctests_of_the_package_run(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
