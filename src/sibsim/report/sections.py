"""The sections of the report that read the finished result: parties, risk, assumptions,
provenance.

Each function takes the :class:`Context` of one report and returns plain data (dicts,
lists, strings) for the template; none re-simulates. The sentences of "what each party puts
in and gets back" are built from the result's ``net``, ``npv``, ``payment``,
``programme_cost``, ``cost``, ``investor_multiple`` and ``role``; the risk table from
:func:`sibsim.summarize`, with its Monte Carlo standard errors.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

import numpy as np

from sibsim.analysis import statistics
from sibsim.report.names import _parameter_label
from sibsim.report.words import WORDS, money, name, number, percent

__all__ = ["Context", "assumptions", "contracts", "provenance", "risk_tables", "short"]


@dataclass
class Context:
    """What every section of one report reads.

    Attributes
    ----------
    result : xarray.Dataset
        The result.
    scenario : Scenario
        The scenario stored in the result.
    lang : str
        The report's language.
    summary : pandas.DataFrame
        :func:`sibsim.summarize` of the result.
    currency : str
        The currency of the amounts.
    notes : dict
        The scenario file's notes, by key path.
    builtin : str or None
        The name of the built-in scenario the result was run on, if any.
    """

    result: object
    scenario: object
    lang: str
    summary: object
    currency: str
    notes: dict = field(default_factory=dict)
    builtin: str | None = None

    @property
    def words(self) -> dict:
        """The phrases of the language."""
        return WORDS[self.lang]

    def money(self, value: float) -> str:
        """An amount in words."""
        return money(value, self.currency, self.lang)

    def party(self, party: str) -> str:
        """A party's name."""
        return name(party, self.lang)


def short(value, lang: str) -> str:
    """A parameter value with three significant digits (whole numbers from 1000 up).

    Parameters
    ----------
    value : float
        The value.
    lang : str
        The language.

    Returns
    -------
    str

    Examples
    --------
    >>> short(0.03912, "da"), short(123456.7, "en")
    ('0,0391', '123,457')
    """
    value = float(value)
    if not np.isfinite(value):
        return "-"
    if abs(value) >= 1000:
        return number(value, lang, 0)
    return f"{value:.3g}".replace(".", WORDS[lang]["decimal"])


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _financing(contract: dict) -> dict:
    return contract.get("financing") or {}


def _amount_of(entries, party: str) -> float:
    return float(sum(entry.get("amount", 0.0) for entry in entries or ()
                     if entry.get("party") == party))


def _savings(ctx: Context) -> dict[str, float]:
    """The mean undiscounted public costs avoided of each payer of a flow."""
    result = ctx.result
    if "cost" not in result or not result.sizes.get("payer", 0):
        return {}
    cost = result["cost"]
    time = "month" if "month" in cost.dims else "year"
    saved = (cost.sel(arm="counterfactual") - cost.sel(arm="treatment")).sum(
        dim=[time, "category"])
    return {str(p): float(saved.sel(payer=p).mean()) for p in result["payer"].values}


def _party_facts(ctx: Context, c: int, p: int, saved: dict) -> dict:
    """The numbers a party's sentence is made of."""
    result = ctx.result
    contract = result["contract"].values[c]
    party = str(result["party"].values[p])
    net = np.asarray(result["net"].values[:, c, p] if "net" in result
                     else result["npv"].values[:, c, p], dtype=float)
    time = "month" if "month" in result["payment"].dims else "year"
    facts = {
        "party": ctx.party(party), "Party": _capital(ctx.party(party)),
        "net": net,
        "npv": float(np.mean(result["npv"].values[:, c, p])),
        "prob": float(statistics.prob_loss(np.asarray(result["npv"].values[:, c, p]))),
        "paid": float(result["payment"].sel(contract=contract).sum(time).mean()),
        "cost": float(result["programme_cost"].sum(time).mean())
        if "programme_cost" in result else float("nan"),
        "saved": saved.get(party, 0.0),
    }
    if "investor_multiple" in result:
        multiple = np.asarray(result["investor_multiple"].values[:, c], dtype=float)
        facts["multiple"] = multiple[np.isfinite(multiple)]
    return facts


def _role_sentence(ctx: Context, role: str, contract: dict, party: str, facts: dict) -> str:
    """What the party puts in and gets back because of its role."""
    words, m = ctx.words, ctx.money
    base = {"party": facts["party"], "Party": facts["Party"]}
    tranches = _financing(contract).get("tranches")
    if role == "payer":
        key = "sentence_payer" if facts["paid"] > 0 else "sentence_payer_nopay"
        return words[key].format(**base, paid=m(facts["paid"]), saved=m(facts["saved"]))
    if role == "saver":
        return words["sentence_saver"].format(**base, saved=m(facts["saved"]))
    if role == "donor":
        return words["sentence_donor"].format(**base, given=m(-float(np.mean(facts["net"]))))
    if role == "provider":
        funded = sum(t.get("amount", 0.0) for t in tranches or ())
        key = "sentence_provider_funded" if funded else "sentence_provider"
        return words[key].format(**base, cost=m(facts["cost"]), paid=m(facts["paid"]),
                                 funded=m(funded))
    if role == "investor" and facts.get("multiple") is not None and facts["multiple"].size:
        low, mid, high = np.quantile(facts["multiple"], [0.05, 0.5, 0.95])
        return words["sentence_investor"].format(
            **base, amount=m(_amount_of(tranches, party)), multiple=number(mid, ctx.lang, 2),
            low=number(low, ctx.lang, 2), high=number(high, ctx.lang, 2))
    if role == "guarantor":
        pays = float(np.mean(facts["net"] < 0))
        return words["sentence_guarantor"].format(
            **base, amount=m(_amount_of(_financing(contract).get("guarantees"), party)),
            prob=percent(pays, ctx.lang))
    return ""


def _paragraph(ctx: Context, role: str, contract: dict, party: str, facts: dict) -> str:
    """What a party puts in and gets back, and where it ends."""
    words, net = ctx.words, facts["net"]
    if role == "donor":
        return _role_sentence(ctx, role, contract, party, facts)
    mean, npv = float(np.mean(net)), facts["npv"]
    low, high = np.quantile(net, [0.05, 0.95])
    same_sign = (npv >= 0) == (mean >= 0)  # "loses 4.4 million (4.3 million discounted)"
    total = words["sentence_total"].format(
        party=facts["party"], direction=words["up" if mean >= 0 else "down"],
        amount=ctx.money(abs(mean)), npv=ctx.money(abs(npv) if same_sign else npv),
        low=ctx.money(low),
        high=ctx.money(high), prob=percent(facts["prob"], ctx.lang))
    return " ".join(t for t in (_role_sentence(ctx, role, contract, party, facts), total) if t)


def contracts(ctx: Context) -> list[dict]:
    """Per contract, its kind and one paragraph per party that has a part in it.

    Parameters
    ----------
    ctx : Context
        The report.

    Returns
    -------
    list of dict
        Keys ``name``, ``heading`` and ``parties`` (a list of dicts with ``name``,
        ``role`` and ``text``). A party that only saves, with the same position as under
        an earlier contract, gets one short sentence that points there.
    """
    result, words = ctx.result, ctx.words
    saved = _savings(ctx)
    roles = result["role"].values if "role" in result else None
    out, first_saving = [], {}
    for c, contract in enumerate(ctx.scenario.data["contracts"]):
        kind = words["kinds"].get(contract["type"], contract["type"])
        if _financing(contract).get("tranches"):
            kind = f"{kind}, {words['kind_financed']}"
        parties = []
        for p, party in enumerate(str(x) for x in result["party"].values):
            role = str(roles[c, p]) if roles is not None else "payer"
            if role == "none":
                continue
            facts = _party_facts(ctx, c, p, saved)
            seen = first_saving.get(party)
            if role == "saver" and seen is not None and np.array_equal(facts["net"], seen[1]):
                text = words["sentence_saver_again"].format(
                    party=facts["party"], Party=facts["Party"], first=seen[0],
                    saved=ctx.money(facts["saved"]), prob=percent(facts["prob"], ctx.lang))
            else:
                text = _paragraph(ctx, role, contract, party, facts)
                if role == "saver":
                    first_saving[party] = (contract["name"], facts["net"])
            parties.append({"name": _capital(ctx.party(party)),
                            "role": words["role_names"].get(role, role),
                            "text": text.replace("kr..", "kr.")})
        out.append({"name": contract["name"],
                    "heading": words["contract_heading"].format(contract=contract["name"],
                                                                kind=kind),
                    "parties": parties})
    return out


def _estimate(value: float, error: float, lang: str) -> str:
    return f"{number(value / 1000, lang)} ± {number(error / 1000, lang)}"


def _chance(value: float, error: float, lang: str) -> str:
    return f"{percent(value, lang, 1)} ± {number(100 * error, lang, 1)}"


def risk_tables(ctx: Context) -> list[dict]:
    """The risk table of each contract: one row per party with a part in it.

    Parameters
    ----------
    ctx : Context
        The report.

    Returns
    -------
    list of dict
        Keys ``name``, ``rows`` (lists of cells: party, role, mean ± MCSE, 5% ± MCSE,
        95% ± MCSE, chance of loss ± MCSE, chance of a nominal loss) and ``irr`` (a
        sentence, or empty).
    """
    words, lang = ctx.words, ctx.lang
    out = []
    for contract in ctx.scenario.contract_names():
        rows, irr = [], ""
        table = ctx.summary[ctx.summary.contract == contract]
        for row in table.itertuples():
            if row.role == "none":
                continue
            gift = row.role == "donor"
            rows.append([
                _capital(ctx.party(row.party)), words["role_names"].get(row.role, row.role),
                _estimate(row.mean, row.mean_mcse, lang),
                _estimate(row.p05, row.p05_mcse, lang),
                _estimate(row.p95, row.p95_mcse, lang),
                words["gift"] if gift else _chance(row.prob_loss, row.prob_loss_mcse, lang),
                words["gift"] if gift else percent(row.prob_nominal_loss, lang, 1),
            ])
            if row.role == "investor" and np.isfinite(row.irr_p50):
                irr = words["irr_line"].format(
                    contract=contract, p05=percent(row.irr_p05, lang, 1),
                    p50=percent(row.irr_p50, lang, 1), p95=percent(row.irr_p95, lang, 1))
        out.append({"name": contract, "rows": rows, "irr": irr})
    return out


def _stated(value) -> str:
    """A distribution as the scenario states it: ``lognormal (median 2.92, sigma 0.26)``."""
    if isinstance(value, dict) and len(value) == 1:
        (family, settings), = value.items()
        if isinstance(settings, dict):
            inner = ", ".join(f"{k} {v:g}" if isinstance(v, (int, float)) else f"{k} {v}"
                              for k, v in settings.items())
            return f"{family} ({inner})"
    return str(value)


def _note_of(path: str, notes: list[list[str]]) -> str:
    """The note of the deepest part of the scenario file that holds ``path``."""
    best = ("", "")
    for key, note in notes:
        inside = path == key or path.startswith(key + ".") or path.startswith(key + "[")
        if inside and len(key) > len(best[0]):
            best = (key, note)
    return best[1]


def _uncertain_rows(ctx: Context) -> list[list[str]]:
    result, lang = ctx.result, ctx.lang
    notes = ctx.notes.get("rows", [])
    params = [str(p) for p in result["param"].values] if "param" in result.dims else []
    rows = []
    for path in ctx.scenario.uncertain():
        low = high = float("nan")
        if path in params:
            values = np.asarray(result["params"].sel(param=path).values, dtype=float)
            low, high = np.quantile(values, [0.05, 0.95])
        rows.append([_parameter_label(ctx.scenario, path, lang), path,
                     _stated(ctx.scenario.get(path)),
                     f"{short(low, lang)} – {short(high, lang)}", _note_of(path, notes)])
    return rows


def _settings_rows(ctx: Context) -> list[list[str]]:
    data, words, lang = ctx.scenario.data, ctx.words, ctx.lang
    rate = data.get("discount_rate")
    rate_text = percent(rate, lang, 1) if isinstance(rate, (int, float)) else _stated(rate)
    size = sum(site.get("size", 0) for site in (data["cohort"].get("sites") or {}).values()) \
        or data["cohort"].get("size", "-")
    return [
        [words["set_horizon"], words["months_n"].format(n=data["months"])],
        [words["set_discount"], rate_text],
        [words["set_cohort"], str(size)],
        [words["set_programme"], words["months_n"].format(n=data["programme"]["months"])],
        [words["set_currency"], ctx.currency],
    ]


def assumptions(ctx: Context) -> dict:
    """The uncertain parameters, the main settings and the scenario file's notes.

    Parameters
    ----------
    ctx : Context
        The report; ``ctx.notes`` holds :func:`sibsim.report.notes.scenario_notes`.

    Returns
    -------
    dict
        Keys ``uncertain`` (rows: label, key path, as stated, 5%-95% of draws, the note
        of the scenario file on it),
        ``settings`` (rows: name, value), ``header`` and ``notes`` (rows: setting, note).
    """
    return {"uncertain": _uncertain_rows(ctx), "settings": _settings_rows(ctx),
            "header": ctx.notes.get("header", ""), "notes": ctx.notes.get("rows", [])}


def provenance(ctx: Context, analyses: str) -> dict:
    """Where the numbers come from: versions, seed, draws, dates, and the scenario text.

    Parameters
    ----------
    ctx : Context
        The report.
    analyses : str
        The settings of the analyses that re-simulated (for the reader).

    Returns
    -------
    dict
        Keys ``rows`` (pairs of name and value) and ``scenario`` (the TOML text).
    """
    attrs, words = ctx.result.attrs, ctx.words
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    rows = [[words["prov_version"], str(attrs.get("sibsim_version", "-"))],
            [words["prov_seed"], str(attrs.get("seed", "-"))],
            [words["prov_draws"], str(ctx.result.sizes.get("draw", "-"))],
            [words["prov_created"], str(attrs.get("created", "-"))],
            [words["prov_report"], now],
            [words["prov_python"], str(attrs.get("python_version", "-"))],
            [words["prov_platform"], str(attrs.get("platform", "-"))],
            [words["prov_deps"], str(attrs.get("dependencies", "-"))]]
    if analyses:
        rows.append([words["prov_analyses"], analyses])
    return {"rows": rows, "scenario": str(attrs.get("scenario", "")), "date": now[:10]}

