"""Put the report together: check the output path, gather the sections, render, write.

The page is rendered by Jinja2 (``templates/report.html.j2``, shipped with the package) with
autoescaping on; only the SVG markup of the figures is passed through unescaped. It declares
a Content-Security-Policy that allows inline styles and nothing else (no script, no font,
no image, no connection), so a browser that opens it makes no request, and it is written
atomically (a temporary file beside the output, renamed once complete).
"""

from __future__ import annotations

import os
from pathlib import Path

from sibsim.report.analyses import Options, corridors, describe, drivers, plots
from sibsim.report.designs import designed_terms
from sibsim.report.notes import scenario_notes
from sibsim.report.sections import Context, assumptions, contracts, provenance, risk_tables
from sibsim.report.words import WORDS, check_language, percent

__all__ = ["CSP", "check_report_path", "render", "write_report"]

#: The Content-Security-Policy the report declares: nothing may be loaded.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; " \
      "form-action 'none'"

_SUFFIXES = (".html", ".htm")


def check_report_path(path, option: str = "path") -> Path:
    """Check the report's output path: an ``.html`` file in an existing, writable folder.

    Parameters
    ----------
    path : str or Path
        The output.
    option : str, default "path"
        The name of the argument, in the messages (``--out`` on the command line).

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ValueError
        For an empty path, another suffix, a folder, or a folder that does not exist.

    Examples
    --------
    >>> check_report_path("report.pdf")
    Traceback (most recent call last):
    ...
    ValueError: path: got 'report.pdf', expected a path ending in .html or .htm
    """
    from sibsim.results.io import check_output

    text = os.fspath(path)
    if text.strip() and Path(text).is_dir():
        raise ValueError(f"{option}: got {text!r}, expected a file name; that is a folder")
    return check_output(text, option=option, suffixes=_SUFFIXES)


def builtin_name(scenario_toml: str) -> str | None:
    """The name of the built-in scenario a result was run on, if any.

    Parameters
    ----------
    scenario_toml : str
        The scenario text stored in the result (its ``scenario`` attribute).

    Returns
    -------
    str or None
        The built-in scenario whose normalised text is ``scenario_toml``, or None.
    """
    import sibsim
    from sibsim.scenario import builtin_scenarios

    for name in builtin_scenarios():
        try:
            if sibsim.load_scenario(name).to_toml() == scenario_toml:
                return name
        except (ValueError, OSError):  # pragma: no cover - the built-ins are valid
            continue
    return None


def _builtin_text(name: str | None) -> str | None:
    """The commented text of a built-in scenario's file (None for None)."""
    import importlib.resources

    if name is None:
        return None
    return (importlib.resources.files("sibsim") / "data" / f"{name}.toml").read_text(
        encoding="utf-8")


def _context(result, lang: str, scenario_text: str | None) -> Context:
    import sibsim
    from sibsim.results import currency, require

    result = require(result, ["npv", "occupancy", "payment", "savings_npv"],
                     function="write_report",
                     optional=["net", "cost", "programme_cost", "role", "params", "investor_irr",
                               "investor_multiple", "tranche_party", "discount_rate"])
    toml = result.attrs.get("scenario")
    if not toml:
        raise ValueError("result: got a Dataset without the 'scenario' attribute, expected a "
                         "result of sibsim.simulate (or one read back with xarray)")
    scenario = sibsim.load_scenario(str(toml))
    builtin = builtin_name(str(toml))
    text = scenario_text if scenario_text is not None else _builtin_text(builtin)
    return Context(result=result, scenario=scenario, lang=lang, summary=sibsim.summarize(result),
                   currency=currency(result), notes=scenario_notes(text), builtin=builtin)


def render(result, *, lang: str = "en", options: Options | None = None,
           scenario_text: str | None = None, designs=None) -> str:
    """The report of a result as HTML text.

    Parameters
    ----------
    result : xarray.Dataset
        A result of :func:`sibsim.simulate`.
    lang : {"en", "da"}, keyword-only
        The language.
    options : Options, optional, keyword-only
        The settings of the analyses that re-simulate (default: :class:`Options` with the
        result's seed).
    scenario_text : str, optional, keyword-only
        The scenario file's text, for the notes in its comments (default: the built-in
        scenario's file when the result was run on one, else no notes).

    Returns
    -------
    str
    """
    import jinja2
    from markupsafe import Markup

    import sibsim

    lang = check_language(lang)
    if options is None:
        options = Options(seed=int(result.attrs.get("seed", 1)))
    ctx = _context(result, lang, scenario_text)
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("sibsim.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
        trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    template = environment.get_template("report.html.j2")
    outcome = corridors(ctx, options)
    words = WORDS[lang]
    page = {
        "w": words, "csp": CSP, "name": ctx.scenario.name, "version": sibsim.__version__,
        "draws": result.sizes.get("draw", 0), "seed": result.attrs.get("seed", "-"),
        "currency": "kroner" if lang == "da" and ctx.currency == "DKK" else ctx.currency,
        "contracts": contracts(ctx), "risk": risk_tables(ctx),
        "plots": [{**p, "svg": Markup(p["svg"])} for p in plots(ctx)],
        "corridors": [{**c, "svg": Markup(c["svg"])} for c in outcome],
        "corridor_on": options.corridor, "options": options,
        "designs": designed_terms(ctx, designs),
        "limit": percent(options.max_prob_loss, lang),
        "drivers": _markup_drivers(drivers(ctx, options)),
        "assumptions": assumptions(ctx),
        "provenance": provenance(ctx, describe(options, lang)),
    }
    return template.render(**page)


def _markup_drivers(items: list[dict]) -> list[dict]:
    from markupsafe import Markup

    for item in items:
        if "tornado" in item:
            item["tornado"] = {**item["tornado"], "svg": Markup(item["tornado"]["svg"])}
    return items


def write_report(result, path, *, lang: str = "en", corridor: bool = True,
                 tornado: bool = True, analysis_draws: int = 200, seed: int | None = None,
                 corridor_points: int = 9, max_prob_loss: float = 0.2,
                 scenario_text: str | None = None, designs=None) -> Path:
    """Write a self-contained HTML report of a result for the partners of a deal.

    One file that opens offline and loads nothing: what each party puts in and gets back
    under each contract, the risk table with its Monte Carlo errors, the plots (inline SVG,
    each with a text alternative), the price range both sides accept for each outcome
    contract and its designed terms, what drives the risk, the assumptions and the scenario's notes, and the
    provenance with the full scenario text. It prints to A4.

    Parameters
    ----------
    result : xarray.Dataset
        A result of :func:`sibsim.simulate` (it carries its scenario as an attribute).
    path : str or Path
        The file to write, ending in ``.html``, in an existing folder.
    lang : {"en", "da"}, keyword-only, default "en"
        The language: English or Danish.
    corridor : bool, keyword-only, default True
        Compute the price range of each outcome contract (re-simulates).
    tornado : bool, keyword-only, default True
        Run a tornado for the payer of the first outcome contract (re-simulates; the share
        of variance of each outcome contract's payer is shown in any case, from the
        result's own draws).
    analysis_draws : int, keyword-only, default 200
        Draws per simulation of the price range and the tornado.
    seed : int, optional, keyword-only
        Their seed (default: the result's).
    corridor_points : int, keyword-only, default 9
        Values tried per price range (from a quarter to twice the current price; shares
        from 0.1 to 1).
    max_prob_loss : float, keyword-only, default 0.2
        The largest chance of loss either side accepts.
    scenario_text : str, optional, keyword-only
        The scenario file's text, whose comments become the report's notes (default: the
        built-in scenario's file when the result was run on one).
    designs : optional, keyword-only
        The designed terms shown with the price range: the table of :func:`sibsim.design`
        (or its ``(scenario, table)`` pair, or the :class:`sibsim.DesignInfeasible` it
        raised), a list of them, or a design file's content. Default: for a built-in
        scenario, its design file when that is current; else none.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    ValueError
        For a path that is a folder, lies in no folder or does not end in ``.html``, for an
        unknown language, for a Dataset without its scenario or without the variables
        the report reads (``npv``, ``occupancy``, ``payment``, ``savings_npv``), or for
        designs that are not a design's outcome or belong to another contract.

    Examples
    --------
    >>> import sibsim
    >>> result = sibsim.simulate("danish-pilot", draws=20, seed=1, progress=False)
    >>> sibsim.write_report(result, "report.html", lang="da")    # doctest: +SKIP
    PosixPath('report.html')
    """
    out = check_report_path(path)
    check_language(lang)
    if not isinstance(analysis_draws, int) or analysis_draws < 1:
        raise ValueError(f"analysis_draws: got {analysis_draws!r}, expected a positive integer")
    if not isinstance(corridor_points, int) or corridor_points < 2:
        raise ValueError(f"corridor_points: got {corridor_points!r}, expected an integer >= 2")
    options = Options(corridor=bool(corridor), tornado=bool(tornado), draws=analysis_draws,
                      seed=int(result.attrs.get("seed", 1)) if seed is None else int(seed),
                      points=corridor_points, max_prob_loss=float(max_prob_loss))
    from sibsim.results.io import write_text

    write_text(out, render(result, lang=lang, options=options,
                                  scenario_text=scenario_text, designs=designs))
    return out
