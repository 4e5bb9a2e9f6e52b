"""The words of the result plots (axes, titles, legends) in English and Danish.

The names of parties, states, categories and contracts come from :mod:`sibsim.labels`; the
phrases around them are here, once per language, so that a translation is one table to
read. The English phrases are the plots' words as they were before Danish was added.
"""

from __future__ import annotations

from collections.abc import Mapping

from sibsim.labels import check_language

__all__ = ["ARMS", "PLOT_PHRASES", "arm_name", "number", "plot_phrase", "unit_words"]

#: Each phrase of the plots, (English, Danish), with ``{placeholders}``.
PLOT_PHRASES: Mapping[str, tuple[str, str]] = {
    "month_axis": ("Month from programme start", "Måned fra programmets start"),
    "year_axis": ("Year from programme start", "År fra programmets start"),
    "share_axis": ("Share of enrolled participants in '{state}'",
                   "Andel af deltagerne i »{state}«"),
    "share_title": ("Participants in '{state}' by arm: median and 5-95% over draws",
                    "Deltagere i »{state}« pr. gruppe: median og 5-95% over trækkene"),
    "median_band": ("{arm} (median)", "{arm} (median)"),
    "range_band": ("{arm} (5-95%)", "{arm} (5-95%)"),
    "irr_axis": ("Annualised investor IRR", "Investorernes interne rente (årlig)"),
    "draw_share": ("Share of draws", "Andel af trækkene"),
    "irr_none_title": (("Investor IRR: no contract has investor tranches (IRR is NaN in "
                        "every draw)"),
                       ("Investorernes interne rente: ingen kontrakt har investorer (renten "
                        "er ikke defineret i noget træk)")),
    "irr_none": ("no investor tranches", "ingen investorer"),
    "irr_median": ("{contract}: median {value}", "{contract}: median {value}"),
    "irr_multiple": (", median multiple {value}", ", median afkastmultipel {value}"),
    "irr_skipped": (" ({count} NaN draws skipped)", " ({count} træk uden rente udeladt)"),
    "irr_zero": (("{contract}: exactly 0% in {share} of draws (the money drawn came back "
                  "exactly)"),
                 ("{contract}: præcis 0% i {share} af trækkene (de hævede penge kom præcis "
                  "tilbage)")),
    "irr_title": ("Investor IRR per financed contract (annualised)",
                  "Investorernes interne rente pr. finansieret kontrakt (årlig)"),
    "all_contracts": ("all contracts", "alle kontrakter"),
    "gift": ("{contract} (gift)", "{contract} (gave)"),
    "loss_axis": ("Probability of loss (share of draws with npv < 0; npv {discounting})",
                  "Sandsynlighed for tab (andel af trækkene med tab; {discounting})"),
    "npv_axis": ("Expected net present value ({unit})",
                 "Forventet nettonutidsværdi ({unit})"),
    "risk_title": ("Risk and return of each party under each contract",
                   "Risiko og afkast for hver part under hver kontrakt"),
    "party": ("party", "part"),
    "net_total": ("net total", "netto i alt"),
    "payer": ("Payer", "Betaler"),
    "savings_axis": ("Mean savings, {discounting} ({unit})",
                     "Gennemsnitlig besparelse ({unit})\n{discounting}"),
    "savings_axis_plain": ("Mean discounted savings ({unit})",
                           "Gennemsnitlig diskonteret besparelse ({unit})"),
    "savings_title": ("Who saves what: mean discounted savings of the cohort by payer",
                      "Hvem sparer hvad: gennemsnitlig besparelse pr. betaler"),
    "category": ("category", "kategori"),
    "net_axis": ("Net position ({unit})\nundiscounted",
                 "Nettoposition ({unit})\nudiskonteret"),
    "position_npv_axis": ("Net present value ({unit})\n{discounting}",
                          "Nettonutidsværdi ({unit})\n{discounting}"),
    "contract": ("Contract", "Kontrakt"),
    "position_title": (
        "Net position of the {party}\nbox 25-75%, whiskers 5-95%, diamond = mean",
        "Nettoposition for {party}\nboks 25-75%, knurhår 5-95%, rombe = gennemsnit"),
    "p_loss": ("P(loss)", "P(tab)"),
    "p_nominal_loss": ("P(nominal loss)", "P(nominelt tab)"),
    "tick_gift": ("{contract}\ngift", "{contract}\ngave"),
    "tick_no_part": ("{contract}\nno part", "{contract}\ningen rolle"),
    "discounted": ("discounted", "diskonteret"),
    "discounted_at": ("discounted at {rate} a year", "diskonteret med {rate} om året"),
    "discounted_own": ("discounted at each party's own rate",
                       "diskonteret med hver parts egen rente"),
    "discounted_drawn": ("discounted at a rate drawn per draw (mean {rate})",
                         "diskonteret, rente trukket pr. træk (gns. {rate})"),
}

#: The arms of a result in Danish (English keeps the result's names).
ARMS: Mapping[str, str] = {
    "treatment": "Indsats",
    "counterfactual": "Uden indsats",
    "comparison": "Sammenligningsgruppe",
}


def plot_phrase(key: str, lang: str, **values: object) -> str:
    """One phrase of :data:`PLOT_PHRASES` in a language, its placeholders filled in.

    Parameters
    ----------
    key : str
        The phrase's key.
    lang : {"en", "da"}
        The language.
    **values
        The values of the phrase's placeholders.

    Returns
    -------
    str

    Examples
    --------
    >>> plot_phrase("npv_axis", "da", unit="tusind kr.")
    'Forventet nettonutidsværdi (tusind kr.)'
    """
    en, da = PLOT_PHRASES[key]
    return (en if check_language(lang) == "en" else da).format(**values)


def arm_name(arm: str, lang: str) -> str:
    """An arm as the plots name it: the result's name in English, a word in Danish.

    Parameters
    ----------
    arm : str
        The arm (``treatment``, ``counterfactual``, ``comparison``).
    lang : {"en", "da"}
        The language.

    Returns
    -------
    str

    Examples
    --------
    >>> arm_name("treatment", "en"), arm_name("treatment", "da")
    ('treatment', 'Indsats')
    """
    return arm if check_language(lang) == "en" else ARMS.get(arm, arm)


def number(text: str, lang: str) -> str:
    """A formatted number in a language: Danish writes a decimal comma.

    Parameters
    ----------
    text : str
        The number as Python formats it ("5.2%").
    lang : {"en", "da"}
        The language.

    Returns
    -------
    str

    Examples
    --------
    >>> number("5.2%", "da")
    '5,2%'
    """
    return text if check_language(lang) == "en" else text.replace(".", ",")


def unit_words(unit: str, lang: str) -> str:
    """An amount's unit (:func:`sibsim.plot.figure.money_scale`) in a language.

    Parameters
    ----------
    unit : str
        The English unit: "thousand DKK", "million EUR", "DKK".
    lang : {"en", "da"}
        The language.

    Returns
    -------
    str
        The unit itself in English; in Danish "tusind kr.", "mio. EUR", "kr.".

    Examples
    --------
    >>> unit_words("thousand DKK", "da"), unit_words("million EUR", "da")
    ('tusind kr.', 'mio. EUR')
    """
    if check_language(lang) == "en":
        return unit
    names = {"thousand": "tusind", "million": "mio.", "billion": "mia.", "DKK": "kr."}
    return " ".join(names.get(part, part) for part in unit.split())
