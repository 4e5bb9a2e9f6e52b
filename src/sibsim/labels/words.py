"""The words of the labels, in English and Danish: parties, states, categories, contract
types, statistics and the phrases a parameter's label is built from.

Everything a label says in one language is written here once, so that a translation is one
table to read. Names a scenario chooses (flows, sites, contracts, outcomes, parties, states)
are shown as the scenario writes them, except the common ones listed below, which get their
word in each language. An underscore in a flow or category name reads as a space.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

__all__ = ["LANGUAGES", "MCSE", "PARTIES", "PHRASES", "STATES", "STATISTICS", "WORDS", "Noun",
           "capitalize", "check_language", "humanize", "party_in_text", "phrase",
           "state_in_text", "word"]

#: The languages a label can be written in.
LANGUAGES = ("en", "da")


def check_language(lang: str) -> str:
    """The language code, checked.

    Parameters
    ----------
    lang : str
        ``"en"`` (English) or ``"da"`` (Danish).

    Returns
    -------
    str
        ``lang`` itself.

    Raises
    ------
    ValueError
        For any other value.

    Examples
    --------
    >>> check_language("da")
    'da'
    """
    if lang not in LANGUAGES:
        raise ValueError(f"lang: got {lang!r}, expected one of {list(LANGUAGES)}")
    return lang


class Noun(NamedTuple):
    """A word as it stands alone and as it reads in a sentence, in both languages."""

    en: str
    da: str
    #: English in a sentence ("the municipality").
    en_text: str
    #: Danish in a sentence: the definite form ("kommunen").
    da_text: str


#: The parties sibsim's scenarios name most often.
PARTIES: Mapping[str, Noun] = {
    "municipality": Noun("municipality", "kommune", "the municipality", "kommunen"),
    "state": Noun("state", "stat", "the state", "staten"),
    "region": Noun("region", "region", "the region", "regionen"),
    "foundation": Noun("foundation", "fond", "the foundation", "fonden"),
    "fund": Noun("fund", "fond", "the fund", "fonden"),
    "investor": Noun("investor", "investor", "the investor", "investoren"),
    "bank": Noun("bank", "bank", "the bank", "banken"),
    "provider": Noun("provider", "leverandør", "the provider", "leverandøren"),
    "guarantor": Noun("guarantor", "garant", "the guarantor", "garanten"),
    "government": Noun("government", "regering", "the government", "regeringen"),
    "insurer": Noun("insurer", "forsikringsselskab", "the insurer", "forsikringsselskabet"),
}

#: Common state names: the state alone, and "in the state" in a sentence.
STATES: Mapping[str, Noun] = {
    "benefits": Noun("benefits", "ydelse", "on benefits", "på ydelse"),
    "employed": Noun("employed", "beskæftiget", "employed", "i beskæftigelse"),
    "employment": Noun("employment", "beskæftigelse", "in employment", "i beskæftigelse"),
    "education": Noun("education", "uddannelse", "in education", "i uddannelse"),
    "exited": Noun("exited", "udtrådt", "exited", "udtrådt"),
    "unemployed": Noun("unemployed", "ledig", "unemployed", "ledig"),
    "sick": Noun("sick", "syg", "sick", "syg"),
    "dead": Noun("dead", "død", "dead", "død"),
}

#: Common flow categories and words of flow names.
WORDS: Mapping[str, tuple[str, str]] = {
    "benefits": ("benefits", "ydelser"),
    "tax": ("tax", "skat"),
    "health": ("health", "sundhed"),
    "psychiatry": ("psychiatry", "psykiatri"),
    "crime": ("crime", "kriminalitet"),
    "children_family": ("children and family", "børn og familie"),
    "cash_benefit": ("cash benefit", "kontanthjælp"),
    "education_grant": ("education grant", "uddannelsesstøtte"),
    "wage": ("wage", "løn"),
    "municipal_tax_on_benefit": ("municipal tax on benefit", "kommuneskat af ydelse"),
    "state_tax_on_benefit": ("state tax on benefit", "statsskat af ydelse"),
    "municipal_tax_on_wage": ("municipal tax on wage", "kommuneskat af løn"),
    "state_tax_on_wage": ("state tax on wage", "statsskat af løn"),
    "health_extra_on_benefit": ("extra health cost on benefit",
                                "ekstra sundhedsudgift på ydelse"),
    "psychiatry_extra_on_benefit": ("extra psychiatry cost on benefit",
                                    "ekstra psykiatriudgift på ydelse"),
    "crime_extra_on_benefit": ("extra crime cost on benefit",
                               "ekstra kriminalitetsudgift på ydelse"),
    "children_family_extra_on_benefit": ("extra children and family cost on benefit",
                                         "ekstra udgift til børn og familie på ydelse"),
    "grant": ("grant", "tilskud"),
    "fee_for_service": ("fee for service", "betaling pr. ydelse"),
    "rate_card": ("rate card", "takstkort"),
    "gain_share": ("gain share", "deling af gevinst"),
    "effect_tiers": ("effect tiers", "effekttrin"),
}

#: The columns of :func:`sibsim.summarize` and the analyses' statistics.
STATISTICS: Mapping[str, tuple[str, str]] = {
    "mean": ("Mean npv", "Gennemsnitlig nutidsværdi"),
    "sd": ("Standard deviation of the npv", "Standardafvigelse af nutidsværdien"),
    "median": ("Median npv", "Median af nutidsværdien"),
    "p05": ("5% quantile of the npv", "5%-fraktil af nutidsværdien"),
    "p50": ("Median npv", "Median af nutidsværdien"),
    "p95": ("95% quantile of the npv", "95%-fraktil af nutidsværdien"),
    "prob_loss": ("Probability of loss (npv < 0)", "Sandsynlighed for tab (nutidsværdi < 0)"),
    "prob_nominal_loss": ("Probability of a nominal loss (undiscounted net < 0)",
                          "Sandsynlighed for nominelt tab (udiskonteret netto < 0)"),
    "expected_shortfall_05": ("Expected shortfall 5% (mean npv of the worst 5% of draws)",
                              "Forventet underskud 5% (gennemsnitlig nutidsværdi i de 5% "
                              "værste træk)"),
    "irr_p05": ("Investor IRR, 5% quantile", "Investorernes interne rente, 5%-fraktil"),
    "irr_p50": ("Investor IRR, median", "Investorernes interne rente, median"),
    "irr_p95": ("Investor IRR, 95% quantile", "Investorernes interne rente, 95%-fraktil"),
    "swing": ("Swing of the mean npv", "Udsving i gennemsnitlig nutidsværdi"),
    "index": ("Share of the npv variance explained", "Andel af nutidsværdiens varians, "
              "der forklares"),
    "evppi": ("Value of perfect information about the parameter",
              "Værdi af fuld information om parameteren"),
}

#: "Monte Carlo standard error of ..." for a statistic's ``*_mcse`` column.
MCSE = ("Monte Carlo standard error: {statistic}", "Monte Carlo-standardfejl: {statistic}")

#: The phrases a parameter's label is built from, by rule, as (English, Danish).
PHRASES: Mapping[str, tuple[str, str]] = {
    "months": ("Horizon (months)", "Tidshorisont (måneder)"),
    "discount_rate": ("Discount rate (a year)", "Diskonteringsrente (pr. år)"),
    "party_discount_rate": ("Discount rate of {party} (a year)",
                            "Diskonteringsrente for {party} (pr. år)"),
    "frailty_variance": ("Frailty variance (spread between participants)",
                         "Skrøbelighedsvarians (forskel mellem deltagere)"),
    "prior_months": ("Months {state} before entry", "Måneder {state} før start"),
    "intake_months": ("Intake period (months)", "Optagelsesperiode (måneder)"),
    "initial_state": ("State at entry", "Tilstand ved start"),
    "site_multiplier": ("{site} site multiplier", "Multiplikator for {site}"),
    "site_size": ("{site} site size (participants)", "Deltagere i {site}"),
    "cost_per_participant": ("Programme cost per participant ({currency})",
                             "Programomkostning pr. deltager ({currency})"),
    "fixed_cost": ("Programme fixed cost ({currency})", "Faste programomkostninger ({currency})"),
    "programme_months": ("Programme length (months)", "Programmets længde (måneder)"),
    "shock_sd": ("Economy shock size (sd of the monthly log-multiplier)",
                 "Konjunkturstødets størrelse (sd af den månedlige log-multiplikator)"),
    "shock_persistence": ("Economy shock persistence (month to month)",
                          "Konjunkturstødets vedvarenhed (fra måned til måned)"),
    "probability": ("Monthly chance {transition}", "Månedlig sandsynlighed for {transition}"),
    "hazard_scale": ("Baseline level of {transition} (hazard multiplier)",
                     "Basisniveau for {transition} (hazard-multiplikator)"),
    "frailty": ("Frailty acts on {transition}", "Skrøbelighed virker på {transition}"),
    "effect_ratio": ("Effect on {transition} (ratio)", "Effekt på {transition} (forhold)"),
    "half_life_months": ("Half-life of the effect on {transition} (months)",
                         "Halveringstid for effekten på {transition} (måneder)"),
    "fade_from_month": ("Effect on {transition}: fading starts (month since entry)",
                        "Effekt på {transition}: aftager fra (måned efter start)"),
    "from_month": ("Effect on {transition}: first month (since entry)",
                   "Effekt på {transition}: første måned (efter start)"),
    "to_month": ("Effect on {transition}: ends (month since entry)",
                 "Effekt på {transition}: slutter (måned efter start)"),
    "monthly": ("{flow} per month {state} ({currency})",
                "{flow} pr. måned {state} ({currency})"),
    "split": ("Share of {flow} paid by {party}", "Andel af {flow} betalt af {party}"),
    "price": ("{contract}: price of outcome {outcome} ({currency})",
              "{contract}: pris for resultatet {outcome} ({currency})"),
    "outcome_months": ("{contract}: months {state} for outcome {outcome}",
                       "{contract}: måneder {state} for resultatet {outcome}"),
    "cap_per_participant": ("{contract}: cap per participant ({currency})",
                            "{contract}: loft pr. deltager ({currency})"),
    "cap_total": ("{contract}: total cap ({currency})", "{contract}: samlet loft ({currency})"),
    "share": ("{contract}: share of the savings paid", "{contract}: andel af besparelsen, "
              "der udbetales"),
    "threshold": ("{contract}: threshold (smallest relative saving that pays)",
                  "{contract}: tærskel (mindste relative besparelse, der udløser betaling)"),
    "settle_every_months": ("{contract}: settlement period (months)",
                            "{contract}: afregningsperiode (måneder)"),
    "payment_lag_months": ("{contract}: payment lag (months)",
                           "{contract}: betalingsforsinkelse (måneder)"),
    "window_months": ("{contract}: outcome window (months after entry)",
                      "{contract}: resultatvindue (måneder efter start)"),
    "comparison_size": ("{contract}: comparison group size", "{contract}: "
                        "sammenligningsgruppens størrelse"),
    "measure_at_month": ("{contract}: measured at month", "{contract}: måles i måned"),
    "tier_reduction": ("{contract}: tier {tier}, smallest reduction",
                       "{contract}: trin {tier}, mindste reduktion"),
    "tier_payment": ("{contract}: tier {tier}, payment ({currency})",
                     "{contract}: trin {tier}, betaling ({currency})"),
    "tranche_amount": ("{contract}: tranche of {party} ({currency})",
                       "{contract}: tranche fra {party} ({currency})"),
    "return_cap_multiple": ("{contract}: return cap of the tranche of {party} (multiple)",
                            "{contract}: afkastloft for tranchen fra {party} (multipel)"),
    "guarantee_amount": ("{contract}: guarantee by {party} of {covers} ({currency})",
                         "{contract}: garanti fra {party} til {covers} ({currency})"),
    "contract_key": ("{contract}: {key}", "{contract}: {key}"),
    "rho": ("Correlation of {params}", "Korrelation mellem {params}"),
    "transition": ("{origin} -> {destination}", "{origin} -> {destination}"),
    "months_in_state": ("months {months} in state", "måned {months} i tilstanden"),
    "step": ("step {step}", "trin {step}"),
    "step_start": ("start of step {step} (months in state)",
                   "start af trin {step} (måneder i tilstanden)"),
    "and": ("{first} and {last}", "{first} og {last}"),
    "contract_type": ("{contract} ({type})", "{contract} ({type})"),
    "sustained": ("{outcome} ({months} consecutive months {state})",
                  "{outcome} ({months} måneder i træk {state})"),
    "cumulative": ("{outcome} ({months} months {state} in all)",
                   "{outcome} ({months} måneder {state} i alt)"),
    "in_state": ("in {state}", "i {state}"),
}


def phrase(name: str, lang: str, **fields: object) -> str:
    """One phrase of :data:`PHRASES` in a language, its fields filled in.

    Parameters
    ----------
    name : str
        The phrase's key.
    lang : {"en", "da"}
        The language.
    **fields
        The values of its ``{fields}``.

    Returns
    -------
    str

    Examples
    --------
    >>> phrase("site_multiplier", "en", site="Herning")
    'Herning site multiplier'
    """
    english, danish = PHRASES[name]
    return (english if lang == "en" else danish).format(**fields)


def humanize(name: object) -> str:
    """A name as a reader reads it: underscores as spaces, surrounding blanks removed.

    Parameters
    ----------
    name : object
        A name from a scenario (any text), or a key.

    Returns
    -------
    str
        Never empty: ``"?"`` for a blank name.

    Examples
    --------
    >>> humanize("cash_benefit"), humanize("Nørre Snede")
    ('cash benefit', 'Nørre Snede')
    """
    text = " ".join(str(name).replace("_", " ").split())
    return text or "?"


def capitalize(text: str) -> str:
    """The text with its first letter in capitals (the rest as it is).

    Parameters
    ----------
    text : str

    Returns
    -------
    str

    Examples
    --------
    >>> capitalize("cash benefit per month")
    'Cash benefit per month'
    """
    return text[:1].upper() + text[1:]


def word(name: str, lang: str) -> str:
    """A flow name, category or contract type in a language (:data:`WORDS`), else humanized.

    Parameters
    ----------
    name : str
        The name as the scenario writes it.
    lang : {"en", "da"}

    Returns
    -------
    str

    Examples
    --------
    >>> word("cash_benefit", "da"), word("job_bonus", "da")
    ('kontanthjælp', 'job bonus')
    """
    known = WORDS.get(name)
    if known is None:
        return humanize(name)
    return known[0] if lang == "en" else known[1]


def party_in_text(party: str, lang: str) -> str:
    """A party as it reads in a sentence: "the municipality", "kommunen", or its name.

    Parameters
    ----------
    party : str
    lang : {"en", "da"}

    Returns
    -------
    str

    Examples
    --------
    >>> party_in_text("foundation", "da"), party_in_text("Region Midtjylland", "en")
    ('fonden', 'Region Midtjylland')
    """
    known = PARTIES.get(party)
    if known is None:
        return humanize(party)
    return known.en_text if lang == "en" else known.da_text


def state_in_text(state: str, lang: str, *, alone: bool = False) -> str:
    """A state alone ("benefits", "ydelse") or in a sentence ("on benefits", "på ydelse").

    Parameters
    ----------
    state : str
        The state's name in the scenario.
    lang : {"en", "da"}
    alone : bool, keyword-only, default False
        The word alone, as in "benefits -> employed", instead of "on benefits".

    Returns
    -------
    str

    Examples
    --------
    >>> state_in_text("education", "en"), state_in_text("education", "da", alone=True)
    ('in education', 'uddannelse')
    >>> state_in_text("waiting list", "en")
    'in waiting list'
    """
    known = STATES.get(state)
    if known is None:
        name = humanize(state)
        return name if alone else phrase("in_state", lang, state=name)
    if alone:
        return known.en if lang == "en" else known.da
    return known.en_text if lang == "en" else known.da_text
