"""The undiscounted net position, party-specific discount rates, the IRR of balanced flows,
roles, currency and provenance (docs/contracts.rst, "Net position and each party's rate").

The identities are checked over random scenarios of every contract type (financed ones
with guarantees included), and an investor's npv at its own rate against the present value
of its cash flows worked out here from the payments and the programme cost alone.
"""

from __future__ import annotations

import importlib.metadata

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sibsim
from sibsim.contracts.financing import TrancheFlows, finance_programme
from sibsim.contracts.positions import IRR_ZERO_TOLERANCE, Accounts, _investor_returns
from sibsim.contracts.roles import ROLES, contract_roles

try:  # the shared strategies move to tests/strategies.py
    from strategies import any_contracts, small_scenario
except ImportError:  # pragma: no cover - before that move
    from test_contracts_engine import any_contracts, small_scenario

#: The built-in scenario at one fixed discount rate (its own is drawn per draw), so that
#: what the tables and plots say about the rate can be checked.
PILOT = sibsim.load_scenario("danish-pilot").replace("discount_rate", 0.035)


def undiscounted_total(result) -> np.ndarray:
    """Undiscounted savings of every payer minus the undiscounted programme cost, per draw."""
    cost = result["cost"]
    saved = (cost.sel(arm="counterfactual") - cost.sel(arm="treatment")).sum(
        ("month", "payer", "category")).values
    return saved - result["programme_cost"].sum("month").values


def discounted_total(result, rate: float) -> np.ndarray:
    discount = (1.0 + rate) ** (-result["month"].values / 12.0)
    return result["savings_npv"].sum(("payer", "category")).values \
        - result["programme_cost"].values @ discount


def assert_adds_up(positions: np.ndarray, total: np.ndarray) -> None:
    """positions (draw, contract) add up to total (draw,) in every contract, to rounding."""
    scale = 1.0 + np.abs(positions).max() + np.abs(total).max()
    np.testing.assert_allclose(positions, np.broadcast_to(total[:, None], positions.shape),
                               rtol=0.0, atol=1e-9 * scale)


@st.composite
def scenario_with_rates(draw, *, equal: bool):
    """A random small scenario (every contract type) with some parties' own rates."""
    doc = draw(small_scenario(contracts=any_contracts))
    parties = sibsim.load_scenario(doc).parties()
    chosen = draw(st.lists(st.sampled_from(parties), unique=True, max_size=len(parties)))
    if equal:
        rates = {party: doc["discount_rate"] for party in parties}
    else:
        rates = {party: draw(st.one_of(st.sampled_from([0.0, 0.07, 0.25]),
                                       st.just({"uniform": {"low": 0.01, "high": 0.12}})))
                 for party in chosen}
    if rates:
        doc["discount_rates"] = rates
    return doc


@settings(deadline=None, max_examples=30, suppress_health_check=[HealthCheck.too_slow])
@given(scenario_with_rates(equal=False))
def test_net_adds_up_to_undiscounted_savings_minus_programme_cost(doc):
    result = sibsim.simulate(doc, draws=12, seed=3)
    assert_adds_up(result["net"].sum("party").values, undiscounted_total(result))
    # The party-specific rates change npv only: net is the npv at a rate of 0.
    plain = dict(doc, discount_rate=0.0)
    plain.pop("discount_rates", None)
    np.testing.assert_allclose(result["net"].values,
                               sibsim.simulate(plain, draws=12, seed=3)["npv"].values,
                               rtol=1e-12, atol=1e-9 * (1.0 + np.abs(result["net"]).max()))


@settings(deadline=None, max_examples=20, suppress_health_check=[HealthCheck.too_slow])
@given(scenario_with_rates(equal=True))
def test_one_rate_for_every_party_keeps_the_npv_identity(doc):
    result = sibsim.simulate(doc, draws=12, seed=4)
    rate = float(sibsim.load_scenario(doc).data["discount_rate"])
    assert_adds_up(result["npv"].sum("party").values, discounted_total(result, rate))
    assert (result["discount_rate"].values == rate).all()


def test_the_pilot_with_every_party_at_its_own_equal_rate_is_bit_identical():
    rates = {party: 0.035 for party in PILOT.parties()}
    own = sibsim.simulate(PILOT.raw | {"discount_rates": rates}, draws=30, seed=2)
    base = sibsim.simulate(PILOT, draws=30, seed=2)
    np.testing.assert_allclose(own["npv"].values, base["npv"].values, rtol=1e-13, atol=1e-6)
    np.testing.assert_array_equal(own["net"].values, base["net"].values)
    # The pilot's sib is financed with a guarantee: net adds up there too.
    assert_adds_up(base["net"].sum("party").values, undiscounted_total(base))
    assert_adds_up(base["npv"].sum("party").values, discounted_total(base, 0.035))


# ------------------------------------------------------------------------------------------
# An investor at its own rate: the present value of its cash flows, worked out here
# ------------------------------------------------------------------------------------------

def investor_flows(result, scenario) -> np.ndarray:
    """The investor's monthly cash flows in the pilot's sib, from payments and costs alone.

    The one tranche draws the programme cost as it is spent up to its amount, receives
    every payment made, and the guarantee pays its unrepaid principal (up to its amount)
    in the last month.
    """
    contract = scenario.data["contracts"][3]
    amount = contract["financing"]["tranches"][0]["amount"]
    guarantee = contract["financing"]["guarantees"][0]["amount"]
    cumulative = np.cumsum(result["programme_cost"].values, axis=1)
    drawn = np.diff(np.minimum(cumulative, amount), prepend=0.0, axis=1)
    received = result["payment"].sel(contract="sib").values
    flows = received - drawn
    unrepaid = drawn.sum(axis=1) - received.sum(axis=1)
    flows[:, -1] += np.clip(np.where(unrepaid > 1e-9 * drawn.sum(axis=1), unrepaid, 0.0),
                            0.0, guarantee)
    return flows


@pytest.mark.parametrize("rate", [0.07, {"uniform": {"low": 0.02, "high": 0.15}}])
def test_investor_npv_at_its_own_rate_is_the_present_value_of_its_cash_flows(rate):
    scenario = sibsim.load_scenario(PILOT.raw | {"discount_rates": {"investor": rate}})
    result = sibsim.simulate(scenario, draws=40, seed=5)
    own = result["discount_rate"].sel(party="investor").values
    if isinstance(rate, dict):
        np.testing.assert_array_equal(own, result["params"].sel(
            param="discount_rates.investor").values)
        assert len(set(own)) == 40
    else:
        assert (own == rate).all()
    assert (result["discount_rate"].sel(party="municipality").values == 0.035).all()
    flows = investor_flows(result, scenario)
    months = np.arange(scenario.months)
    expected = ((1.0 + own[:, None]) ** (-months[None, :] / 12.0) * flows).sum(axis=1)
    npv = result["npv"].sel(contract="sib", party="investor").values
    np.testing.assert_allclose(npv, expected, rtol=1e-10, atol=1e-4)
    np.testing.assert_allclose(result["net"].sel(contract="sib", party="investor").values,
                               flows.sum(axis=1), rtol=1e-10, atol=1e-4)
    # The other parties keep their npv: only the investor's rate changed.
    base = sibsim.simulate(PILOT, draws=40, seed=5)
    others = [p for p in PILOT.parties() if p != "investor"]
    np.testing.assert_array_equal(result["npv"].sel(party=others).values,
                                  base["npv"].sel(party=others).values)
    assert not np.allclose(npv, base["npv"].sel(contract="sib", party="investor").values)


def test_a_payer_at_its_own_rate_discounts_its_savings_at_it():
    scenario = sibsim.load_scenario(PILOT.raw | {"discount_rates": {"state": 0.0}})
    result = sibsim.simulate(scenario, draws=10, seed=1)
    # The state takes no part in the pilot's contracts: its npv is its undiscounted saving.
    cost = result["cost"].sel(payer="state")
    saved = (cost.sel(arm="counterfactual") - cost.sel(arm="treatment")).sum(
        ("month", "category")).values
    for contract in PILOT.contract_names():
        np.testing.assert_allclose(result["npv"].sel(contract=contract, party="state").values,
                                   saved, rtol=1e-12)


@pytest.mark.parametrize("rates, message", [
    ({"bank": 0.05}, "discount_rates.bank: got 0.05, expected a rate for a party"),
    ({"investr": 0.05}, "did you mean 'investor'"),
    ({"investor": -1.0}, "discount_rates.investor: got -1.0"),
    ({"investor": {"normal": {"mean": 0.05, "sd": 0.01}}}, "discount_rates.investor"),
    ({}, "discount_rates: got {}"),
])
def test_discount_rates_errors_name_the_key_path(rates, message):
    with pytest.raises(sibsim.ScenarioError, match=message.replace("(", r"\(").replace(
            ")", r"\)").replace(".", r"\.")):
        sibsim.load_scenario(PILOT.raw | {"discount_rates": rates})


def test_discount_rate_of_a_party_with_an_awkward_name_is_quoted():
    raw = PILOT.raw
    raw["contracts"][0]["funder"] = "Poul Due Jensen Foundation"
    scenario = sibsim.load_scenario(raw | {"discount_rates": {
        "Poul Due Jensen Foundation": {"uniform": {"low": 0.0, "high": 0.1}}}})
    assert 'discount_rates."Poul Due Jensen Foundation"' in scenario.uncertain()
    with pytest.raises(sibsim.ScenarioError, match='discount_rates."Poul Due Jensen"'):
        sibsim.load_scenario(raw | {"discount_rates": {"Poul Due Jensen": 0.0}})


# ------------------------------------------------------------------------------------------
# The investors' IRR is exactly 0 where their flows sum to 0
# ------------------------------------------------------------------------------------------

def test_pilot_irr_is_exactly_zero_where_the_guarantee_returns_the_principal():
    result = sibsim.simulate(PILOT, draws=300, seed=1)
    irr = result["investor_irr"].sel(contract="sib").values
    multiple = result["investor_multiple"].sel(contract="sib").values
    balanced = np.abs(multiple - 1.0) <= 1e-12
    assert balanced.mean() > 0.3  # the guarantee tops up the principal in many draws
    assert (irr[balanced] == 0.0).all()
    assert not np.any((irr != 0.0) & (np.abs(irr) < 1e-9))  # no rounding residue left
    assert (np.sign(irr[~balanced]) == np.sign(multiple[~balanced] - 1.0)).all()


def returns_of(drawn: np.ndarray, received: np.ndarray, payout: np.ndarray):
    """investor_irr of one contract from hand-made tranche flows (1 tranche, D draws)."""
    draws, months = drawn.shape
    flows = TrancheFlows(drawn=drawn[None], received=received[None],
                         guarantee_payout=payout[None], covered=[0],
                         made=received, unfunded=np.zeros_like(drawn))
    accounts = Accounts(parties=[], books=(None, None), payment=np.zeros((draws, 1, months)),
                        investor_irr=np.full((draws, 1), np.nan),
                        investor_multiple=np.full((draws, 1), np.nan),
                        irr_no_root_share=np.full(1, np.nan),
                        tranche_party=np.zeros((1, 0), dtype=bool))
    _investor_returns(accounts, 0, flows)
    return accounts.investor_irr[:, 0]


@settings(deadline=None, max_examples=60)
@given(st.floats(1e3, 1e8), st.integers(2, 40), st.floats(-0.9, 0.9),
       st.sampled_from([0.0, 0.3, 1e-14, -1e-14, 1e-10, -1e-10]))
def test_irr_is_zero_exactly_within_the_tolerance_and_signed_outside(principal, months, early,
                                                                     imbalance):
    drawn = np.zeros((1, months))
    drawn[0, 0] = principal
    received = np.zeros((1, months))
    received[0, months // 2] = principal * (0.5 + 0.5 * early)
    payout = np.array([principal - received.sum() + imbalance * principal])
    rate = returns_of(drawn, received, payout)[0]
    if abs(imbalance) <= IRR_ZERO_TOLERANCE:
        assert rate == 0.0
    else:
        assert np.sign(rate) == np.sign(imbalance)


def test_finance_programme_guarantee_of_exactly_the_principal_gives_irr_zero():
    flows = finance_programme(np.array([[60.0, 40.0, 0.0, 0.0]]),
                              np.array([[0.0, 30.0, 0.0, 0.1]]), amount=np.array([[100.0]]),
                              return_cap_multiple=np.array([[np.inf]]),
                              guarantee_amount=np.array([[1e9]]), covered=[0])
    net = flows.received[0] - flows.drawn[0]
    net[:, -1] += flows.guarantee_payout[0]
    assert net.sum() == pytest.approx(0.0, abs=1e-12)
    assert returns_of(flows.drawn[0], flows.received[0], flows.guarantee_payout[0])[0] == 0.0


# ------------------------------------------------------------------------------------------
# Roles
# ------------------------------------------------------------------------------------------

def test_pilot_roles():
    result = sibsim.simulate(PILOT, draws=2, seed=1)
    roles = {(str(c), str(p)): str(result["role"].sel(contract=c, party=p).values)
             for c in result.contract.values for p in result.party.values}
    assert roles["donation", "foundation"] == "donor"
    assert roles["donation", "provider"] == "none"
    assert roles["donation", "municipality"] == "saver"
    assert roles["narrow", "municipality"] == "payer"
    assert roles["narrow", "provider"] == "provider"
    assert roles["narrow", "investor"] == "none"
    assert roles["sib", "investor"] == "investor"
    assert roles["sib", "foundation"] == "guarantor"
    assert set(roles.values()) <= set(ROLES)


@pytest.mark.parametrize("contract, expected", [
    ({"type": "grant", "funder": "state"}, ["saver", "payer", "none", "none"]),
    ({"type": "fee_for_service", "payer": {"foundation": 1.0}},
     ["saver", "saver", "donor", "none"]),
    ({"type": "fee_for_service", "payer": {"municipality": 0.5, "foundation": 0.5}},
     ["payer", "saver", "donor", "none"]),
    ({"type": "rate_card", "payer": {"foundation": 1.0}, "financing": None},
     ["saver", "saver", "payer", "provider"]),
    ({"type": "gain_share", "payer": {"municipality": 1.0},
      "financing": {"tranches": [{"party": "state"}],
                    "guarantees": [{"party": "foundation", "covers": "state"}]}},
     ["payer", "investor", "guarantor", "provider"]),
])
def test_contract_roles(contract, expected):
    assert contract_roles(contract, ["municipality", "state"],
                          ["municipality", "state", "foundation", "provider"]) == expected


# ------------------------------------------------------------------------------------------
# Currency and provenance
# ------------------------------------------------------------------------------------------

def test_currency_labels_every_amount_of_a_result(tmp_path):
    result = sibsim.simulate(PILOT.raw | {"currency": "EUR"}, draws=3, seed=1,
                             resolution="year")
    assert result.attrs["currency"] == "EUR"
    for name, variable in sibsim.results.VARIABLES.items():
        assert result[name].attrs["units"] == ("EUR" if variable.money else variable.units)
    path = tmp_path / "eur.nc"
    sibsim.results.write_netcdf(result, path)
    import xarray as xr

    back = xr.load_dataset(path, engine="h5netcdf")
    assert back.attrs["currency"] == "EUR" and back["npv"].attrs["units"] == "EUR"
    assert back["role"].values.tolist() == result["role"].values.tolist()
    assert sibsim.results.currency(back) == "EUR"


def test_default_currency_is_dkk_and_is_not_written_into_the_scenario_text():
    assert PILOT.data["currency"] is None and "currency" not in PILOT.to_toml()
    assert sibsim.simulate(PILOT, draws=2, seed=1).attrs["currency"] == "DKK"
    eur = sibsim.load_scenario(PILOT.raw | {"currency": "EUR"})
    assert sibsim.load_scenario(eur.to_toml()) == eur and 'currency = "EUR"' in eur.to_toml()


@pytest.mark.parametrize("value", ["eur", "EURO", "", 978, "€UR"])
def test_currency_must_be_a_three_letter_code(value):
    with pytest.raises(sibsim.ScenarioError, match="currency: got .*three capital letters"):
        sibsim.load_scenario(PILOT.raw | {"currency": value})


def test_results_carry_their_provenance():
    import platform

    result = sibsim.simulate(PILOT, draws=2, seed=7)
    for key in ("scenario", "seed", "draws", "sibsim_version", "created", "python_version",
                "platform", "dependencies", "currency"):
        assert key in result.attrs, key
        assert isinstance(result.attrs[key], (str, int)), key
    assert result.attrs["python_version"] == platform.python_version()
    for library in ("numpy", "numba", "scipy", "xarray", "pandas"):
        assert f"{library} {importlib.metadata.version(library)}" in \
            result.attrs["dependencies"], library
