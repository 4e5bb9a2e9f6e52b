"""The words of the report in English and Danish, and how numbers are written in each.

:data:`WORDS` maps each language to its phrases (the template and the sentences read them
by key; every language has every key, which the tests check). Parties, roles and contract
types that sibsim knows get a word in each language; any other name (a state, a flow, a
contract) is shown as the scenario spells it, with underscores as spaces.

Numbers follow the language: ``1,234,567`` and ``0.5`` in English, ``1.234.567`` and ``0,5``
in Danish; amounts of Danish kroner are written ``DKK 1.2 million`` in English and
``1,2 mio. kr.`` in Danish.
"""

from __future__ import annotations

import math

from sibsim.labels.words import LANGUAGES, check_language  # the languages sibsim writes

__all__ = ["LANGUAGES", "WORDS", "check_language", "money", "name", "number", "percent"]


_EN = {
    "html_lang": "en",
    "title": "Risk report",
    "subtitle": "Who puts in what, who gets what back, and how sure we can be",
    "made_with": "Made with sibsim {version} on {date} from {draws} simulated cases (seed {seed}).",
    "contents": "Contents",
    "s_parties": "What each party puts in and gets back",
    "s_risk": "Risk of each party",
    "s_plots": "The results in pictures",
    "s_corridor": "The price range both sides accept",
    "s_drivers": "What drives the risk",
    "s_assumptions": "Assumptions and sources",
    "s_provenance": "How this report was made",
    "parties_intro": (
        "Each contract below is a way of paying for the same programme. The amounts are "
        "averages over {draws} simulated cases, in {currency}, without discounting unless "
        "a sentence says otherwise; the chance of a loss is the share of cases in which the "
        "party's discounted net position is below zero."),
    "contract_heading": "Contract “{contract}”: {kind}",
    "risk_intro": (
        "Net position of each party, discounted (net present value), in thousand {currency}. "
        "“±” is the Monte Carlo error (one standard error from the finite number of "
        "simulated cases, not the uncertainty of the outcome itself). 5% and 95% are the "
        "values that 5% of cases fall below and above. A nominal loss is a loss without "
        "discounting."),
    "col_party": "Party", "col_role": "Role", "col_mean": "Mean",
    "col_p05": "5%", "col_p95": "95%", "col_prob_loss": "Chance of loss",
    "col_nominal": "Nominal loss", "gift": "gift by design",
    "irr_line": ("Investors' annual return (IRR) under “{contract}”: median {p50}, 90% of "
                 "cases between {p05} and {p95}."),
    "plots_intro": "Each figure has a text description for screen readers and for print.",
    "corridor_intro": (
        "For each contract that pays for outcomes, the price was varied with everything else "
        "unchanged (the same simulated cases for every price, {draws} cases each). A price "
        "is acceptable when neither side loses money in more than {limit} of cases."),
    "corridor_range": ("{param}: both the {payer} and the {counterparty} accept values from "
                       "{low} to {high} (current value {current})."),
    "corridor_none": ("{param}: no value tried ({low} to {high}) keeps both the {payer} and "
                      "the {counterparty} within that chance of loss."),
    "corridor_skipped": "The price range was not computed for this report.",
    "corridor_no_contract": "No contract pays for outcomes, so there is no price to agree on.",
    "col_value": "Value", "col_acceptable": "Acceptable", "yes": "yes", "no": "no",
    "design_heading": "Designed terms: “{contract}”",
    "design_intro": (
        "The terms below were chosen with sibsim's contract design: among the terms tried "
        "(each on the same simulated cases), those that do best for one party while every "
        "party's constraint holds. Each party's figures are those at the designed terms, "
        "with their Monte Carlo errors (“±”): the mean net position in thousand "
        "{currency} and the chance of a loss."),
    "design_goal": "Goal: the highest {statistic} for the {party}.",
    "design_rules": "Constraints: {rules}.",
    "design_at_most": "{owner} {statistic} at most {limit}",
    "design_at_least": "{owner} {statistic} at least {limit}",
    "design_genitive": "the {party}'s",
    "design_statistics": {"mean": "mean net position", "median": "median net position",
                          "prob_loss": "chance of a loss",
                          "prob_nominal_loss": "chance of a nominal loss",
                          "expected_shortfall_05": "mean of the worst 5% of cases"},
    "design_met": "These terms meet every constraint.",
    "design_unmet": ("No terms satisfy everyone; the closest are these (the smallest "
                     "shortfall), which miss: {missed}."),
    "design_figures": "Figures from {draws} simulated cases at these terms (seed {seed}).",
    "col_term": "Term", "col_term_value": "Designed value",
    "col_design_mean": "Mean (thousand {currency})",
    "drivers_intro": (
        "Which uncertain assumptions move the result most. The share of variance is "
        "estimated from the simulated cases already run (the first-order index: how much "
        "of the spread of the net position is explained by one assumption alone)."),
    "drivers_table": "Share of variance of the {party}'s net position under “{contract}”",
    "col_parameter": "Assumption", "col_index": "Share of variance",
    "tornado_intro": ("Tornado: the {party}'s mean net position under “{contract}” with each "
                      "assumption at its low and high value ({draws} cases per run)."),
    "drivers_none": "The scenario has no uncertain assumption: nothing varies between cases.",
    "assumptions_intro": (
        "The uncertain assumptions, as the scenario states them, with the range of the "
        "values drawn and the scenario file's note on each; all the file's notes follow. "
        "Codes such as B3, J1 or P2 name a row of the parameter sheet in sibsim's "
        "documentation (“Sources: the Danish parameter sheet”), which gives the source "
        "of each number; “assumption” marks a number without a published source. The "
        "documentation's assumptions register says which way each main assumption would "
        "bias each party's result."),
    "col_distribution": "Stated as", "col_range": "5% to 95% of draws",
    "settings": "Settings",
    "set_horizon": "Horizon", "months_n": "{n} months",
    "set_discount": "Discount rate (per year)", "set_cohort": "Participants",
    "set_programme": "Programme length", "set_currency": "Currency",
    "notes_heading": "Notes in the scenario file",
    "col_setting": "Setting", "col_note": "Note",
    "notes_none": ("The scenario text in the result carries no notes (pass the scenario "
                   "file's text to see its comments here)."),
    "prov_version": "sibsim version", "prov_seed": "Seed", "prov_draws": "Simulated cases",
    "prov_created": "Result created", "prov_report": "Report written",
    "prov_python": "Python", "prov_platform": "Platform", "prov_deps": "Libraries",
    "prov_scenario": "The full scenario",
    "prov_analyses": "Price range and tornado",
    "prov_analyses_text": ("{draws} cases per run, seed {seed}, {points} prices tried, "
                           "largest accepted chance of loss {limit}"),
    "figure": "Figure",
    "fig_employment": "Share of participants in work over time, with and without the programme",
    "fig_net_positions": "Spread of each party's net position under each contract",
    "fig_investor_irr": "Investors' annual return (IRR)",
    "fig_risk_return": "Mean net position against the chance of a loss",
    "fig_savings": "Public costs avoided, by budget",
    "fig_corridor": "Chance of loss for both sides at each price (“{contract}”)",
    "fig_tornado": "What moves the {party}'s result under “{contract}”",
    "desc_employment": "Median share in {state} at month {month}: {values}.",
    "desc_positions": "Mean discounted net position: {values}.",
    "desc_irr": "Median annual return: {values}.",
    "desc_savings": "Mean public costs avoided, discounted: {values}.",
    "desc_risk_return": "Mean net position and chance of loss: {values}.",
    "desc_corridor": "{sentence}",
    "desc_tornado": "Largest swings: {values}.",
    "sentence_total": ("All in all the {party} {direction} {amount} on average ({npv} "
                       "discounted); in 90% of cases between {low} and {high}. Chance of a "
                       "loss: {prob}."),
    "up": "gains", "down": "loses",
    "sentence_payer": ("The {party} pays {paid} in outcome payments and keeps {saved} of "
                       "public costs avoided."),
    "sentence_payer_nopay": "The {party} keeps {saved} of public costs avoided.",
    "sentence_saver": ("The {party} takes no part in the contract, but keeps {saved} of "
                       "public costs avoided."),
    "sentence_saver_again": ("The {party} takes no part in the contract; as under “{first}”, it "
                             "keeps {saved} of public costs avoided (chance of a loss: {prob})."),
    "sentence_donor": "The {party} gives {given} and expects nothing back.",
    "sentence_provider": ("The {party} runs the programme, which costs {cost}, and receives "
                          "{paid} in outcome payments."),
    "sentence_provider_funded": ("The {party} runs the programme, which costs {cost}; "
                                 "investors fund up to {funded} of it, and the {party} "
                                 "receives {paid} in outcome payments."),
    "sentence_investor": ("The {party} puts in up to {amount} and gets back {multiple} times "
                          "what it put in (median; 90% of cases between {low} and {high})."),
    "sentence_guarantor": ("The {party} stands behind the investors' money with up to "
                           "{amount}; it has to pay in {prob} of cases."),
    "role_names": {"investor": "investor", "guarantor": "guarantor", "payer": "payer",
                   "donor": "donor", "provider": "provider", "saver": "saves only",
                   "none": "no part"},
    "kinds": {"grant": "a donation pays for the programme",
              "rate_card": "a price for each outcome reached",
              "gain_share": "a share of the savings",
              "fee_for_service": "the programme's cost is paid as it is run",
              "effect_tiers": "a payment by the size of the measured effect"},
    "kind_financed": "financed by investors",
    "parties": {},
    "decimal": ".", "thousands": ",",
    "million": "million", "thousand": "thousand",
}

_DA = {
    "html_lang": "da",
    "title": "Risikorapport",
    "subtitle": "Hvem lægger hvad ind, hvem får hvad tilbage, og hvor sikre kan vi være",
    "made_with": ("Lavet med sibsim {version} den {date} ud fra {draws} simulerede forløb "
                  "(seed {seed})."),
    "contents": "Indhold",
    "s_parties": "Hvad hver part lægger ind og får tilbage",
    "s_risk": "Risikoen for hver part",
    "s_plots": "Resultaterne i figurer",
    "s_corridor": "Det prisspænd, begge parter kan acceptere",
    "s_drivers": "Hvad der driver risikoen",
    "s_assumptions": "Antagelser og kilder",
    "s_provenance": "Sådan er rapporten lavet",
    "parties_intro": (
        "Hver kontrakt nedenfor er en måde at betale for det samme program på. Beløbene er "
        "gennemsnit over {draws} simulerede forløb, i {currency}, uden diskontering, "
        "medmindre sætningen siger andet; sandsynligheden for tab er andelen af forløb, hvor "
        "partens nettonutidsværdi er under nul."),
    "contract_heading": "Kontrakten »{contract}«: {kind}",
    "risk_intro": (
        "Hver parts nettonutidsværdi (diskonteret nettoposition) i tusind {currency}. "
        "»±« er Monte Carlo-fejlen (én standardfejl, der skyldes det endelige antal "
        "simulerede forløb, ikke usikkerheden om selve udfaldet). 5 % og 95 % er de "
        "værdier, som 5 % af forløbene ligger under og over. Et nominelt tab er et tab "
        "uden diskontering."),
    "col_party": "Part", "col_role": "Rolle", "col_mean": "Gennemsnit",
    "col_p05": "5 %", "col_p95": "95 %", "col_prob_loss": "Sandsynlighed for tab",
    "col_nominal": "Nominelt tab", "gift": "gave (tilsigtet)",
    "irr_line": ("Investorernes årlige afkast (IRR) under »{contract}«: median {p50}, 90 % af "
                 "forløbene mellem {p05} og {p95}."),
    "plots_intro": "Hver figur har en tekstbeskrivelse til skærmlæsere og til udskrift.",
    "corridor_intro": (
        "For hver resultatkontrakt er prisen varieret, mens alt andet er uændret (de samme "
        "simulerede forløb for hver pris, {draws} forløb for hver). En pris kan accepteres, "
        "når ingen af parterne taber penge i mere end {limit} af forløbene."),
    "corridor_range": ("{param}: både {payer} og {counterparty} kan acceptere værdier fra "
                       "{low} til {high} (nuværende værdi {current})."),
    "corridor_none": ("{param}: ingen af de afprøvede værdier ({low} til {high}) holder både "
                      "{payer} og {counterparty} inden for den sandsynlighed for tab."),
    "corridor_skipped": "Prisspændet er ikke beregnet i denne rapport.",
    "corridor_no_contract": ("Ingen kontrakt betaler for resultater, så der er ingen pris at "
                             "blive enige om."),
    "col_value": "Værdi", "col_acceptable": "Acceptabel", "yes": "ja", "no": "nej",
    "design_heading": "Designede vilkår: »{contract}«",
    "design_intro": (
        "Vilkårene nedenfor er valgt med sibsims kontraktdesign: blandt de afprøvede vilkår "
        "(hver på de samme simulerede forløb) dem, der er bedst for én part, mens hver "
        "parts krav er opfyldt. Hver parts tal gælder ved de designede vilkår, med deres "
        "Monte Carlo-fejl (»±«): den gennemsnitlige nettoposition i tusind {currency} og "
        "sandsynligheden for tab."),
    "design_goal": "Mål: den højeste {statistic} for {party}.",
    "design_rules": "Krav: {rules}.",
    "design_at_most": "{owner} {statistic} højst {limit}",
    "design_at_least": "{owner} {statistic} mindst {limit}",
    "design_genitive": "{party}s",
    "design_statistics": {"mean": "gennemsnitlige nettoposition",
                          "median": "mediane nettoposition",
                          "prob_loss": "sandsynlighed for tab",
                          "prob_nominal_loss": "sandsynlighed for nominelt tab",
                          "expected_shortfall_05": "gennemsnit af de værste 5 % af forløbene"},
    "design_met": "Disse vilkår opfylder alle krav.",
    "design_unmet": ("Ingen vilkår tilfredsstiller alle; de nærmeste er disse (den mindste "
                     "overskridelse), som ikke opfylder: {missed}."),
    "design_figures": "Tal fra {draws} simulerede forløb ved disse vilkår (seed {seed}).",
    "col_term": "Vilkår", "col_term_value": "Designet værdi",
    "col_design_mean": "Gennemsnit (tusind {currency})",
    "drivers_intro": (
        "Hvilke usikre antagelser der flytter resultatet mest. Andelen af variansen er "
        "estimeret ud fra de forløb, der allerede er simuleret (førsteordensindekset: hvor "
        "meget af spredningen i nettopositionen én antagelse alene forklarer)."),
    "drivers_table": "Andel af variansen i {party}s nettoposition under »{contract}«",
    "col_parameter": "Antagelse", "col_index": "Andel af variansen",
    "tornado_intro": ("Tornado: {party}s gennemsnitlige nettoposition under »{contract}« med "
                      "hver antagelse på sin lave og høje værdi ({draws} forløb pr. kørsel)."),
    "drivers_none": "Scenariet har ingen usikre antagelser: intet varierer mellem forløbene.",
    "assumptions_intro": (
        "De usikre antagelser, som scenariet angiver dem, med spændet af de trukne værdier "
        "og scenariefilens note om hver; derefter følger alle filens noter. Koder som B3, "
        "J1 eller P2 henviser til en række i parameterarket i sibsims dokumentation "
        "(»Sources: the Danish parameter sheet«), som angiver kilden til hvert tal; "
        "»assumption« markerer et tal uden en offentliggjort kilde. Dokumentationens "
        "register over antagelser (»assumptions register«) angiver, hvilken vej hver "
        "vigtig antagelse ville skævvride hver parts resultat."),
    "col_distribution": "Angivet som", "col_range": "5 % til 95 % af trækningerne",
    "settings": "Indstillinger",
    "set_horizon": "Tidshorisont", "months_n": "{n} måneder",
    "set_discount": "Diskonteringsrente (pr. år)", "set_cohort": "Deltagere",
    "set_programme": "Programmets længde", "set_currency": "Valuta",
    "notes_heading": "Noter i scenariefilen",
    "col_setting": "Indstilling", "col_note": "Note",
    "notes_none": ("Scenarieteksten i resultatet har ingen noter (giv scenariefilens tekst "
                   "med for at se dens kommentarer her)."),
    "prov_version": "sibsim-version", "prov_seed": "Seed", "prov_draws": "Simulerede forløb",
    "prov_created": "Resultatet lavet", "prov_report": "Rapporten skrevet",
    "prov_python": "Python", "prov_platform": "Platform", "prov_deps": "Biblioteker",
    "prov_scenario": "Hele scenariet",
    "prov_analyses": "Prisspænd og tornado",
    "prov_analyses_text": ("{draws} forløb pr. kørsel, seed {seed}, {points} priser afprøvet, "
                           "højeste accepterede sandsynlighed for tab {limit}"),
    "figure": "Figur",
    "fig_employment": "Andel af deltagerne i arbejde over tid, med og uden programmet",
    "fig_net_positions": "Spredningen i hver parts nettoposition under hver kontrakt",
    "fig_investor_irr": "Investorernes årlige afkast (IRR)",
    "fig_risk_return": "Gennemsnitlig nettoposition over for sandsynligheden for tab",
    "fig_savings": "Sparede offentlige udgifter, fordelt på budget",
    "fig_corridor": "Sandsynlighed for tab for begge parter ved hver pris (»{contract}«)",
    "fig_tornado": "Hvad der flytter {party}s resultat under »{contract}«",
    "desc_employment": "Medianandel i {state} i måned {month}: {values}.",
    "desc_positions": "Gennemsnitlig nettonutidsværdi: {values}.",
    "desc_irr": "Medianafkast pr. år: {values}.",
    "desc_savings": "Gennemsnitlige sparede offentlige udgifter, diskonteret: {values}.",
    "desc_risk_return": "Gennemsnitlig nettoposition og sandsynlighed for tab: {values}.",
    "desc_corridor": "{sentence}",
    "desc_tornado": "Største udsving: {values}.",
    "sentence_total": ("Alt i alt {direction} {party} i gennemsnit {amount} ({npv} "
                       "diskonteret); i 90 % af forløbene mellem {low} og {high}. "
                       "Sandsynlighed for tab: {prob}."),
    "up": "vinder", "down": "taber",
    "sentence_payer": ("{Party} betaler {paid} i resultatbetalinger og beholder {saved} i "
                       "sparede offentlige udgifter."),
    "sentence_payer_nopay": "{Party} beholder {saved} i sparede offentlige udgifter.",
    "sentence_saver": ("{Party} er ikke part i kontrakten, men beholder {saved} i sparede "
                       "offentlige udgifter."),
    "sentence_saver_again": ("{Party} er ikke part i kontrakten; som under »{first}« beholder "
                             "{party} {saved} i sparede offentlige udgifter (sandsynlighed for "
                             "tab: {prob})."),
    "sentence_donor": "{Party} giver {given} og forventer intet tilbage.",
    "sentence_provider": ("{Party} driver programmet, som koster {cost}, og modtager {paid} "
                          "i resultatbetalinger."),
    "sentence_provider_funded": ("{Party} driver programmet, som koster {cost}; investorerne "
                                 "finansierer op til {funded} af det, og {party} modtager "
                                 "{paid} i resultatbetalinger."),
    "sentence_investor": ("{Party} lægger op til {amount} ind og får {multiple} gange "
                          "beløbet tilbage (median; 90 % af forløbene mellem {low} og "
                          "{high})."),
    "sentence_guarantor": ("{Party} garanterer for investorernes penge med op til {amount}; "
                           "garantien skal betales i {prob} af forløbene."),
    "role_names": {"investor": "investor", "guarantor": "garant", "payer": "betaler",
                   "donor": "donor", "provider": "leverandør", "saver": "kun besparelser",
                   "none": "ingen rolle"},
    "kinds": {"grant": "en donation betaler for programmet",
              "rate_card": "en pris for hvert opnået resultat",
              "gain_share": "en andel af besparelserne",
              "fee_for_service": "programmets udgifter betales løbende",
              "effect_tiers": "en betaling efter størrelsen af den målte effekt"},
    "kind_financed": "finansieret af investorer",
    "parties": {"municipality": "kommunen", "state": "staten", "region": "regionen",
                "foundation": "fonden", "investor": "investoren", "provider": "leverandøren",
                "payer": "betaleren", "counterparty": "modparten"},
    "decimal": ",", "thousands": ".",
    "million": "mio.", "thousand": "t.",
}

#: The phrases of each language, by key.
WORDS: dict[str, dict] = {"en": _EN, "da": _DA}


def name(text: str, lang: str) -> str:
    """A party's name in the language, or any other name with underscores as spaces.

    Parameters
    ----------
    text : str
        The name as the scenario spells it.
    lang : str
        The language.

    Returns
    -------
    str

    Examples
    --------
    >>> name("municipality", "da"), name("municipality", "en"), name("job_6m", "da")
    ('kommunen', 'municipality', 'job 6m')
    """
    known = WORDS[lang]["parties"].get(text)
    return known if known is not None else text.replace("_", " ")


def number(value: float, lang: str, digits: int = 0) -> str:
    """A number with the language's thousands separator and decimal mark.

    Parameters
    ----------
    value : float
        The number.
    lang : str
        The language.
    digits : int, default 0
        Digits after the decimal mark.

    Returns
    -------
    str
        ``"-"`` for a missing value.

    Examples
    --------
    >>> number(1234567.891, "en", 1), number(1234567.891, "da", 1), number(-0.001, "en")
    ('1,234,567.9', '1.234.567,9', '0')
    """
    if value is None or not math.isfinite(value):
        return "-"
    text = f"{round(value, digits) + 0.0:,.{digits}f}"
    words = WORDS[lang]
    return text.replace(",", "\0").replace(".", words["decimal"]).replace("\0",
                                                                        words["thousands"])


def percent(share: float, lang: str, digits: int = 0) -> str:
    """A share in percent, written as the language writes it.

    Parameters
    ----------
    share : float
        A share (0.25 for 25%).
    lang : str
        The language.
    digits : int, default 0
        Digits after the decimal mark.

    Returns
    -------
    str

    Examples
    --------
    >>> percent(0.254, "en"), percent(0.254, "da", 1)
    ('25%', '25,4 %')
    """
    if share is None or not math.isfinite(share):
        return "-"
    text = number(100 * share, lang, digits)
    return f"{text} %" if lang == "da" else f"{text}%"


def money(value: float, currency: str, lang: str) -> str:
    """An amount of money in words: millions with two decimals, else three significant digits.

    Parameters
    ----------
    value : float
        The amount.
    currency : str
        The currency code (``DKK`` is written ``kr.`` in Danish).
    lang : str
        The language.

    Returns
    -------
    str

    Examples
    --------
    >>> money(1_234_567, "DKK", "en"), money(1_234_567, "DKK", "da"), money(-212_016, "EUR", "da")
    ('DKK 1.23 million', '1,23 mio. kr.', '-212.000 EUR')
    """
    if value is None or not math.isfinite(value):
        return "-"
    big = abs(value) >= 1e6
    if big:
        amount = number(value / 1e6, lang, 2) + " " + WORDS[lang]["million"]
    else:  # three significant digits: 212,016 is written 212,000
        digits = 3 - int(math.floor(math.log10(abs(value)))) - 1 if value else 0
        amount = number(round(value, min(digits, 0)), lang, 0)
    if lang == "da":
        return f"{amount} {'kr.' if currency == 'DKK' else currency}"
    return f"{currency} {amount}"
