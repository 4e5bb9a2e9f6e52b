"""Tests of sibsim.plot on a synthetic result Dataset (no simulation is run)."""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (only to check that no pyplot figure leaks)
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import xarray as xr  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import sibsim  # noqa: E402
from sibsim import plot  # noqa: E402

ARMS = ["treatment", "counterfactual", "comparison"]
STATES = ["benefits", "employed", "education", "exited"]
PAYERS = ["municipality", "state", "region"]
CATEGORIES = ["benefits", "tax", "health", "psychiatry", "crime", "children_family"]
CONTRACTS = ["donation", "narrow", "broad", "sib"]
PARTIES = ["municipality", "state", "region", "foundation", "investor", "provider"]


def make_result(draws: int = 40, months: int = 36, seed: int = 0) -> xr.Dataset:
    """A Dataset with the result variables' names and dims, filled with random numbers."""
    rng = np.random.default_rng(seed)
    occupancy = rng.dirichlet(np.ones(len(STATES)), size=(draws, len(ARMS), months))
    cost = rng.normal(5e4, 2e4, size=(draws, len(ARMS), months, len(PAYERS), len(CATEGORIES)))
    savings = rng.normal(2e5, 3e5, size=(draws, len(PAYERS), len(CATEGORIES)))
    savings[:, :, 1] = -np.abs(savings[:, :, 1])  # one category with negative savings
    payment = np.abs(rng.normal(1e5, 5e4, size=(draws, len(CONTRACTS), months)))
    payment[:, 0] = 0.0  # a grant pays nothing
    npv = rng.normal(-5e5, 2e6, size=(draws, len(CONTRACTS), len(PARTIES)))
    npv[:, 0, PARTIES.index("investor")] = 0.0  # the investor takes no part in the donation
    irr = np.full((draws, len(CONTRACTS)), np.nan)
    irr[:, 3] = rng.normal(0.02, 0.05, size=draws)
    irr[:3, 3] = np.nan  # a few draws with nothing drawn
    irr[3, 3] = -1.0  # nothing returned
    multiple = np.where(np.isfinite(irr), 1.0 + irr * 5, np.nan)
    params = rng.normal(size=(draws, 2))
    data_vars = {
        "occupancy": (("draw", "arm", "month", "state"), occupancy,
                      {"units": "1", "long_name": "share of enrolled participants"}),
        "cost": (("draw", "arm", "month", "payer", "category"), cost, {"units": "DKK"}),
        "savings_npv": (("draw", "payer", "category"), savings, {"units": "DKK"}),
        "payment": (("draw", "contract", "month"), payment, {"units": "DKK"}),
        "npv": (("draw", "contract", "party"), npv, {"units": "DKK"}),
        "investor_irr": (("draw", "contract"), irr, {"units": "1/year"}),
        "investor_multiple": (("draw", "contract"), multiple, {"units": "1"}),
        "params": (("draw", "param"), params, {"units": "1"}),
    }
    coords = {
        "draw": np.arange(draws),
        "arm": ARMS,
        "month": np.arange(months),
        "state": STATES,
        "payer": PAYERS,
        "category": CATEGORIES,
        "contract": CONTRACTS,
        "party": PARTIES,
        "param": ["transitions[0].effect.ratio", "programme.cost_per_participant"],
    }
    return xr.Dataset(data_vars, coords=coords, attrs={"seed": seed, "draws": draws})


def to_years(ds: xr.Dataset) -> xr.Dataset:
    """The yearly form: occupancy averaged, cost and payment summed over each year's months."""
    year = xr.DataArray(ds["month"].values // 12, dims="month", coords={"month": ds["month"]},
                        name="year")
    out = ds.drop_dims("month")
    out["occupancy"] = ds["occupancy"].groupby(year).mean("month").transpose(
        "draw", "arm", "year", "state")
    out["cost"] = ds["cost"].groupby(year).sum("month").transpose(
        "draw", "arm", "year", "payer", "category")
    out["payment"] = ds["payment"].groupby(year).sum("month").transpose("draw", "contract", "year")
    return out


@pytest.fixture(scope="module")
def result() -> xr.Dataset:
    return make_result()


@pytest.fixture(autouse=True)
def no_pyplot_leak():
    """No plot function may leave a figure in pyplot's registry."""
    before = plt.get_fignums()
    yield
    assert plt.get_fignums() == before


@pytest.fixture(autouse=True)
def no_runtime_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        yield


def new_ax():
    fig = Figure()
    return fig, fig.add_subplot()


# ---------------------------------------------------------------------------------------------
# employment
# ---------------------------------------------------------------------------------------------


def test_employment_one_line_and_band_per_arm(result):
    fig = plot.employment(result)
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    assert len(ax.lines) == len(ARMS)
    assert len(ax.collections) == len(ARMS)  # the 5-95% bands
    labels = ax.get_legend_handles_labels()[1]
    assert "treatment (median)" in labels and "counterfactual (5-95%)" in labels
    assert "employed" in ax.get_ylabel()
    assert "Month" in ax.get_xlabel()
    x, y = ax.lines[0].get_data()
    np.testing.assert_array_equal(x, np.arange(result.sizes["month"]))
    expected = result["occupancy"].sel(arm="treatment", state="employed").median("draw").values
    np.testing.assert_allclose(y, expected)


def test_employment_selected_arms_and_state(result):
    fig = plot.employment(result, state="benefits", arms=["counterfactual"])
    (ax,) = fig.axes
    assert len(ax.lines) == 1
    assert ax.get_legend_handles_labels()[1][0] == "counterfactual (median)"
    assert "benefits" in ax.get_ylabel()


def test_employment_on_given_ax(result):
    fig, ax = new_ax()
    out = plot.employment(result, ax=ax)
    assert out is fig
    assert len(ax.lines) == len(ARMS)


def test_employment_yearly_resolution(result):
    yearly = to_years(result)
    fig = plot.employment(yearly)
    (ax,) = fig.axes
    assert "Year" in ax.get_xlabel()
    x, _ = ax.lines[0].get_data()
    np.testing.assert_array_equal(x, [0, 1, 2])


def test_employment_rejects_unknown_state_and_arm(result):
    with pytest.raises(ValueError, match="state"):
        plot.employment(result, state="retired")
    with pytest.raises(ValueError, match="arms"):
        plot.employment(result, arms=["placebo"])


def test_plot_rejects_non_dataset():
    with pytest.raises(TypeError, match="result"):
        plot.employment(np.zeros(3))
    with pytest.raises(ValueError, match="npv"):
        plot.net_position(xr.Dataset())


# ---------------------------------------------------------------------------------------------
# net_position
# ---------------------------------------------------------------------------------------------


def test_net_position_one_box_per_contract(result):
    fig = plot.net_position(result, party="municipality")
    (ax,) = fig.axes
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert len(ticks) == len(CONTRACTS)
    for tick, contract in zip(ticks, CONTRACTS):
        assert tick.startswith(contract) and "P(loss)" in tick
    loss = float((result["npv"].sel(contract="narrow", party="municipality") < 0).mean())
    assert f"P(loss) {loss:.0%}" in ticks[1]
    assert "million DKK" in ax.get_ylabel()
    assert "municipality" in ax.get_title()


def test_net_position_on_given_ax_and_other_party(result):
    fig, ax = new_ax()
    assert plot.net_position(result, party="investor", ax=ax) is fig
    assert "investor" in ax.get_title()


def test_net_position_thousands_label():
    small = make_result()
    small["npv"] = small["npv"] / 100.0  # amounts of about ten thousand DKK
    fig = plot.net_position(small)
    assert "thousand DKK" in fig.axes[0].get_ylabel()


def test_net_position_rejects_unknown_party(result):
    with pytest.raises(ValueError, match="party"):
        plot.net_position(result, party="bank")


# ---------------------------------------------------------------------------------------------
# investor_irr
# ---------------------------------------------------------------------------------------------


def test_investor_irr_only_financed_contracts(result):
    fig = plot.investor_irr(result)
    (ax,) = fig.axes
    labels = ax.get_legend_handles_labels()[1]
    assert len(labels) == 1
    assert labels[0].startswith("sib")
    assert "3 NaN draws skipped" in labels[0]
    assert "IRR" in ax.get_xlabel()
    # the histogram holds the finite draws, -100% included, as shares of all draws
    (patch,) = ax.patches
    assert patch.get_path().vertices[:, 0].min() == pytest.approx(-1.0)


def test_investor_irr_all_nan_says_so(result):
    none = result.copy()
    none["investor_irr"] = xr.full_like(result["investor_irr"], np.nan)
    none["investor_multiple"] = xr.full_like(result["investor_multiple"], np.nan)
    fig = plot.investor_irr(none)
    (ax,) = fig.axes
    assert "no contract has investor tranches" in ax.get_title()
    assert not ax.patches


def test_investor_irr_constant_value_and_given_ax(result):
    flat = result.copy()
    irr = np.full(flat["investor_irr"].shape, np.nan)
    irr[:, 3] = 0.05
    flat["investor_irr"] = (("draw", "contract"), irr)
    fig, ax = new_ax()
    assert plot.investor_irr(flat, ax=ax) is fig
    assert len(ax.patches) == 1


# ---------------------------------------------------------------------------------------------
# risk_return
# ---------------------------------------------------------------------------------------------


def test_risk_return_points_and_labels(result):
    fig = plot.risk_return(result)
    (ax,) = fig.axes
    # every (party, contract) pair but the investor under the donation (npv exactly 0)
    assert len(ax.texts) == len(PARTIES) * len(CONTRACTS) - 1
    assert len(ax.collections) == len(PARTIES)
    assert ax.get_legend_handles_labels()[1] == PARTIES
    investor = ax.collections[PARTIES.index("investor")].get_offsets()
    assert len(investor) == len(CONTRACTS) - 1
    npv = result["npv"].sel(party="municipality", contract="broad")
    muni = ax.collections[0].get_offsets()
    assert muni[2, 0] == pytest.approx(float((npv < 0).mean()))
    assert muni[2, 1] == pytest.approx(float(npv.mean()) / 1e6)
    assert "Probability of loss" in ax.get_xlabel()
    assert "million DKK" in ax.get_ylabel()


def test_risk_return_merges_identical_positions(result):
    same = result.copy()
    npv = same["npv"].values.copy()
    region = PARTIES.index("region")
    npv[:, :, region] = npv[:, :1, region]  # the region's position is the same everywhere
    same["npv"] = (("draw", "contract", "party"), npv)
    fig = plot.risk_return(same)
    (ax,) = fig.axes
    texts = [t.get_text() for t in ax.texts]
    assert "all contracts" in texts
    assert len(ax.collections[region].get_offsets()) == 1
    assert len(texts) == (len(PARTIES) - 1) * len(CONTRACTS) - 1 + 1


def test_risk_return_labels_do_not_overlap():
    result = sibsim.simulate("danish-pilot", draws=100, seed=1, progress=False)
    fig = plot.risk_return(result)
    (ax,) = fig.axes
    fig.draw_without_rendering()
    boxes = [text.get_window_extent() for text in ax.texts]
    frame = ax.get_window_extent()
    assert len(boxes) > 5
    for i, box in enumerate(boxes):
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1, ax.texts[i].get_text()
        for j in range(i):
            assert not box.overlaps(boxes[j]), (ax.texts[i].get_text(), ax.texts[j].get_text())


def test_risk_return_on_given_ax(result):
    fig, ax = new_ax()
    assert plot.risk_return(result, ax=ax) is fig
    assert ax.texts


# ---------------------------------------------------------------------------------------------
# savings_by_payer
# ---------------------------------------------------------------------------------------------


def test_savings_by_payer_stacked_bars(result):
    fig = plot.savings_by_payer(result)
    (ax,) = fig.axes
    assert len(ax.containers) == len(CATEGORIES)
    assert all(len(c) == len(PAYERS) for c in ax.containers)
    assert [t.get_text() for t in ax.get_xticklabels()] == PAYERS
    mean = result["savings_npv"].mean("draw").transpose("payer", "category").values
    scale = 1e6 if "million" in ax.get_ylabel() else 1e3
    heights = np.array([[bar.get_height() for bar in c] for c in ax.containers]).T
    np.testing.assert_allclose(heights * scale, mean)
    (total,) = [line for line in ax.lines if line.get_label() == "net total"]
    np.testing.assert_allclose(total.get_ydata() * scale, mean.sum(axis=1))
    # negative parts hang below zero
    tax = ax.containers[CATEGORIES.index("tax")]
    assert all(bar.get_y() + bar.get_height() <= 0 for bar in tax)
    assert ax.get_legend().get_title().get_text() == "category"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert all("_" not in text for text in legend), legend  # categories in words


def test_savings_by_payer_on_given_ax(result):
    fig, ax = new_ax()
    assert plot.savings_by_payer(result, ax=ax) is fig


# ---------------------------------------------------------------------------------------------
# save_all
# ---------------------------------------------------------------------------------------------


def test_save_all_writes_png_files(result, tmp_path):
    out = tmp_path / "plots" / "nested"
    paths = plot.save_all(result, out)
    assert [p.name for p in paths] == [
        "employment.png", "net_position.png", "investor_irr.png", "risk_return.png", "savings.png"
    ]
    for path in paths:
        assert path.parent == out
        data = path.read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
        assert len(data) > 1000


def test_subfigure_axes_returns_top_figure(result):
    fig = Figure()
    sub = fig.subfigures(1, 2)[1]
    ax = sub.add_subplot()
    assert plot.employment(result, ax=ax) is fig
