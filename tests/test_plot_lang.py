"""The result plots in Danish (lang="da"): Danish words on the axes, no English axis label."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from test_plot import make_result

from sibsim import plot
from sibsim.plot.words import PLOT_PHRASES, unit_words

ROLES = {"donation": {"foundation": "donor", "investor": "none"}}


@pytest.fixture(scope="module")
def result():
    ds = make_result()
    roles = np.full((ds.sizes["contract"], ds.sizes["party"]), "payer", dtype=object)
    for c, contract in enumerate(ds["contract"].values):
        for p, party in enumerate(ds["party"].values):
            roles[c, p] = ROLES.get(str(contract), {}).get(str(party), "payer")
    ds["role"] = (("contract", "party"), roles.astype(str))
    ds["discount_rate"] = (("draw", "party"), np.full((ds.sizes["draw"], ds.sizes["party"]),
                                                      0.035))
    return ds


def texts(fig) -> list[str]:
    """Every text a reader sees on a figure's axes."""
    out = []
    for ax in fig.axes:
        out += [ax.get_xlabel(), ax.get_ylabel(), ax.get_title()]
        out += [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
        out += [t.get_text() for t in ax.texts]
        legend = ax.get_legend()
        if legend is not None:
            out += [legend.get_title().get_text()] + [t.get_text() for t in legend.get_texts()]
    return [t for t in out if t]


def english_axis_labels(fig) -> set[str]:
    """The same figure's axis labels and title in English (what Danish must replace)."""
    return {t for ax in fig.axes for t in (ax.get_xlabel(), ax.get_ylabel(), ax.get_title())
            if t}


PLOTS = {
    "employment": (lambda r, **kw: plot.employment(r, **kw),
                   ["Måned fra programmets start", "Andel af deltagerne", "»beskæftiget«",
                    "Indsats (median)"]),
    "investor_irr": (lambda r, **kw: plot.investor_irr(r, **kw),
                     ["Investorernes interne rente", "Andel af trækkene"]),
    "risk_return": (lambda r, **kw: plot.risk_return(r, **kw),
                    ["Sandsynlighed for tab", "Forventet nettonutidsværdi", "Kommune",
                     "diskonteret med 3,5% om året", "(gave)"]),
    "savings_by_payer": (lambda r, **kw: plot.savings_by_payer(r, **kw),
                         ["Betaler", "besparelse", "Kommune",
                          "Børn og familie", "netto i alt", "kategori"]),
    "net_position": (lambda r, **kw: plot.net_position(r, party="foundation", **kw),
                     ["Nettonutidsværdi", "Kontrakt", "Nettoposition for fonden", "gave",
                      "P(tab)"]),
    "net_positions": (lambda r, **kw: plot.net_positions(r, **kw),
                      ["Nettonutidsværdi", "Kontrakt", "Nettoposition for kommunen",
                       "ingen rolle"]),
}


@pytest.mark.parametrize("name", sorted(PLOTS))
def test_danish_plot_has_danish_words_and_no_english_axis_label(result, name):
    make, danish = PLOTS[name]
    seen = "\n".join(texts(make(result, lang="da")))
    for word in danish:
        assert word in seen, (name, word, seen)
    english = english_axis_labels(make(result, lang="en"))
    da_fig = make(result, lang="da")
    da_labels = english_axis_labels(da_fig)
    assert not english & da_labels, (name, english & da_labels)
    for phrase in ("Share of", "Month from", "Probability of loss", "Net present value",
                   "Payer", "Contract", "Annualised", "Expected net", "discounted at"):
        assert phrase not in "\n".join(texts(da_fig)), (name, phrase)


@pytest.mark.parametrize("name", sorted(PLOTS))
def test_english_is_the_default(result, name):
    make, _ = PLOTS[name]
    assert texts(make(result)) == texts(make(result, lang="en"))


@pytest.mark.parametrize("name", sorted(PLOTS))
@pytest.mark.parametrize("bad", ["de", "DA", ""])
def test_bad_lang_raises_naming_the_value(result, name, bad):
    make, _ = PLOTS[name]
    with pytest.raises(ValueError, match=f"lang: got {bad!r}"):
        make(result, lang=bad)


def test_every_phrase_has_both_languages_and_the_same_placeholders():
    import string

    for key, (en, da) in PLOT_PHRASES.items():
        fields = [{f for _, f, _, _ in string.Formatter().parse(text) if f} for text in (en, da)]
        assert en and da and fields[0] == fields[1], key


def test_danish_units():
    assert unit_words("thousand DKK", "da") == "tusind kr."
    assert unit_words("DKK", "da") == "kr."
    assert unit_words("million EUR", "en") == "million EUR"
