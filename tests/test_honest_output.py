"""What partners read: the printed risk table and the result plots say what the numbers are
(units, whose discount rate, nominal or discounted), show donors as donors, leave out what
carries nothing, and do not overlap."""

from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import sibsim  # noqa: E402
from sibsim import plot  # noqa: E402
from sibsim.analysis import format_summary  # noqa: E402

#: The built-in scenario at one fixed discount rate (its own is drawn per draw), so that
#: what the tables and plots say about the rate can be checked.
PILOT = sibsim.load_scenario("danish-pilot").replace("discount_rate", 0.035)


@pytest.fixture(scope="module")
def pilot():
    return sibsim.simulate(PILOT, draws=200, seed=1)


@pytest.fixture(scope="module")
def text(pilot):
    return format_summary(sibsim.summarize(pilot))


def rows_of(text: str) -> list[list[str]]:
    """The rows of the risk table, split into cells."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("contract"))
    rows = []
    for line in lines[start + 2:]:
        if line.startswith("Investors:"):
            break
        if line.strip():
            rows.append(line.split())
    return rows


def test_the_demo_table_fits_80_columns_and_says_what_its_numbers_are(text):
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "in thousand DKK" in text
    assert "discounted at 3.5% a year" in text
    assert "undiscounted" in text and "Monte Carlo standard error" in text


def test_rows_that_carry_nothing_are_left_out_and_named(pilot, text):
    shown = {(cells[0], cells[1]) for cells in rows_of(text)}
    roles = pilot["role"].transpose("contract", "party").values
    for c, contract in enumerate(PILOT.contract_names()):
        for p, party in enumerate(PILOT.parties()):
            assert ((contract, party) in shown) == (roles[c, p] != "none"), (contract, party)
    assert "investor and provider under donation" in text
    assert "foundation and investor under narrow and broad" in " ".join(text.split())
    full = format_summary(sibsim.summarize(pilot), keep_empty=True)
    assert len(rows_of(full)) == len(PILOT.contract_names()) * len(PILOT.parties())


def test_a_donor_is_shown_as_giving_not_as_losing(text):
    row = next(cells for cells in rows_of(text) if cells[:2] == ["donation", "foundation"])
    assert "gift" in row and "100.0%" not in row
    assert "foundation under donation gives money by design" in " ".join(text.split())
    # The guarantor of the sib takes a real risk: its probability of loss is shown.
    guarantor = next(cells for cells in rows_of(text) if cells[:2] == ["sib", "foundation"])
    assert guarantor[7].endswith("%")


def test_irr_columns_only_on_investor_rows(text):
    lines = text.splitlines()
    assert all("IRR" not in cells for cells in rows_of(text))
    start = next(i for i, line in enumerate(lines) if line.startswith("contract") and "IRR" in line)
    irr_rows = [line.split() for line in lines[start + 2:] if line.strip()][:1]
    assert irr_rows[0][:2] == ["sib", "investor"] and irr_rows[0][3] == "0.0%"


def test_the_mean_and_probability_of_loss_carry_their_errors(pilot, text):
    table = sibsim.summarize(pilot).set_index(["contract", "party"])
    row = next(cells for cells in rows_of(text) if cells[:2] == ["sib", "investor"])
    expected = table.loc[("sib", "investor")]
    assert row[3] == f"{round(expected.mean_mcse / 1000):,d}"
    assert row[8] == f"{100 * expected.prob_loss_mcse:.1f}"
    assert row[9] == f"{100 * expected.prob_nominal_loss:.1f}%"


def test_own_rates_are_said_in_the_header():
    result = sibsim.simulate(PILOT.raw | {"discount_rates": {"investor": 0.07}}, draws=20,
                             seed=1)
    text = " ".join(format_summary(sibsim.summarize(result)).split())
    assert "discounted at 3.5% a year (investor at 7.0%)" in text
    drawn = sibsim.simulate(PILOT.raw | {"discount_rate": {"uniform": {"low": 0.02,
                                                                        "high": 0.05}}},
                            draws=20, seed=1)
    assert "the rate is uncertain" in " ".join(format_summary(sibsim.summarize(drawn)).split())


def test_another_currency_is_named_in_the_table_and_the_plots():
    result = sibsim.simulate(PILOT.raw | {"currency": "EUR"}, draws=20, seed=1)
    assert "in thousand EUR" in format_summary(sibsim.summarize(result))
    assert "EUR" in plot.net_position(result).axes[0].get_ylabel()
    assert "EUR" in plot.risk_return(result).axes[0].get_ylabel()
    assert "EUR" in plot.savings_by_payer(result).axes[0].get_ylabel()


def test_net_position_shows_gifts_and_parties_without_a_part(pilot):
    ticks = [t.get_text() for t in plot.net_position(pilot, party="foundation")
             .axes[0].get_xticklabels()]
    assert ticks[0] == "donation\ngift" and ticks[1] == "narrow\nno part"
    assert ticks[3].startswith("sib\nP(loss) ")
    nominal = plot.net_position(pilot, party="investor", measure="net").axes[0]
    assert "undiscounted" in nominal.get_ylabel()
    share = float((pilot["net"].sel(contract="sib", party="investor") < 0).mean())
    assert f"P(nominal loss) {share:.0%}" in nominal.get_xticklabels()[3].get_text()
    assert "discounted at 3.5% a year" in plot.net_position(pilot).axes[0].get_ylabel()
    with pytest.raises(ValueError, match="measure"):
        plot.net_position(pilot, measure="irr")


def test_every_party_that_takes_risk_gets_a_net_position_panel(pilot):
    assert plot.risk_parties(pilot) == PILOT.parties()
    fig = plot.net_positions(pilot)
    assert [ax.get_title().split("\n")[0] for ax in fig.axes] == [
        f"Net position of the {party}" for party in PILOT.parties()]
    donation_only = sibsim.simulate(PILOT.raw | {"contracts": PILOT.raw["contracts"][:1]},
                                    draws=5, seed=1)
    # Under a donation alone the foundation only gives and the provider has no part.
    assert plot.risk_parties(donation_only) == ["municipality", "state", "region"]


def test_save_all_skips_the_irr_plot_without_investors(tmp_path, pilot):
    without = sibsim.simulate(PILOT.raw | {"contracts": PILOT.raw["contracts"][:3]},
                              draws=5, seed=1)
    saved = plot.save_all(without, tmp_path)
    assert [p.name for p in saved] == ["employment.png", "net_position.png",
                                       "risk_return.png", "savings.png"]
    assert saved.skipped == [("investor_irr.png",
                              "no contract has investor tranches (no IRR to show)")]
    assert not (tmp_path / "investor_irr.png").exists()


def test_demo_prints_the_skipped_plots(tmp_path, capsys, monkeypatch):
    from sibsim import cli
    from sibsim.cli import demo

    monkeypatch.setattr(demo, "DEFAULT_SCENARIO", sibsim.load_scenario(
        PILOT.raw | {"contracts": PILOT.raw["contracts"][:2]}))
    assert cli.main(["demo", "--draws", "5", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "skipped investor_irr.png: no contract has investor tranches" in out


def test_risk_return_labels_do_not_overlap(pilot):
    fig = plot.risk_return(pilot)
    ax = fig.axes[0]
    fig.draw_without_rendering()
    boxes = [t.get_window_extent() for t in ax.texts]
    assert len(boxes) == len(ax.texts) > 10
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b)
    frame = ax.get_window_extent()
    assert all(frame.x0 <= box.x0 and box.x1 <= frame.x1 for box in boxes)
    assert "donation (gift)" in [t.get_text() for t in ax.texts]
    assert "discounted at 3.5% a year" in ax.get_xlabel()


def test_risk_return_labels_of_crowded_points_do_not_overlap():
    import xarray as xr

    rng = np.random.default_rng(2)
    contracts, parties = [f"c{i}" for i in range(6)], [f"p{i}" for i in range(4)]
    npv = rng.normal(1.0, 1.0, size=(50, 6, 4)) + np.linspace(0, 0.2, 6)[None, :, None]
    result = xr.Dataset({"npv": (("draw", "contract", "party"), npv)},
                        coords={"draw": np.arange(50), "contract": contracts,
                                "party": parties})
    fig = plot.risk_return(result)
    fig.draw_without_rendering()
    boxes = [t.get_window_extent() for t in fig.axes[0].texts]
    overlapping = sum(a.overlaps(b) for a, b in itertools.combinations(boxes, 2))
    assert overlapping == 0


def test_irr_plot_shows_the_draws_repaid_exactly_at_zero(pilot):
    ax = plot.investor_irr(pilot).axes[0]
    exact = float((pilot["investor_irr"].sel(contract="sib") == 0.0).mean())
    assert exact > 0.3
    labels = ax.get_legend_handles_labels()[1]
    assert f"sib: exactly 0% in {exact:.0%} of draws (the money drawn came back exactly)" \
        in labels
    (bar,) = [line for line in ax.lines if line.get_linewidth() == 4]
    assert list(bar.get_xdata()) == [0.0, 0.0] and bar.get_ydata()[1] == pytest.approx(exact)
    # The histogram holds the other draws only: its bins add up to the rest.
    (patch,) = ax.patches
    heights = patch.get_path().vertices[:, 1]
    assert heights.max() < exact
