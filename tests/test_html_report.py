"""The HTML report (sibsim.write_report, ``sibsim report``): self-contained, accessible,
in English and Danish, with Monte Carlo errors; and, in a real headless Chromium, that it
renders, makes no request and prints to A4.

The browser tests need Debian's ``chromium``. Without it they are skipped, unless
``SIBSIM_REQUIRE_BROWSER=1`` (set by ``.ci/run``, which installs chromium), where a missing
browser is a failure.
"""

from __future__ import annotations

import html
import html.parser
import http.server
import importlib.resources
import os
import re
import shutil
import subprocess
import threading
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest

import sibsim
from sibsim.cli import main
from sibsim.report import CSP, words

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def result():
    return sibsim.simulate("danish-pilot", draws=100, seed=1, progress=False)


@pytest.fixture(scope="module")
def reports(result, tmp_path_factory):
    folder = tmp_path_factory.mktemp("reports")
    out = {}
    for lang in ("en", "da"):
        path = sibsim.write_report(result, folder / f"report-{lang}.html", lang=lang,
                                   analysis_draws=30, corridor_points=4)
        out[lang] = path
    return out


class _Page(html.parser.HTMLParser):
    """The parts of a page the checks read: attributes, style text, svg alternatives."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements = []          # (tag, attrs)
        self.styles = []
        self.text_by_id = {}
        self._stack = []            # open elements with an id: (tag, id, text parts)
        self._in_style = False
        self.text = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.elements.append((tag, attrs))
        if tag == "style":
            self._in_style = True
        if "style" in attrs:
            self.styles.append(attrs["style"] or "")
        if attrs.get("id"):
            self._stack.append((tag, attrs["id"], []))

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False
        if self._stack and self._stack[-1][0] == tag:
            _, key, parts = self._stack.pop()
            self.text_by_id[key] = "".join(parts)

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)
        for _, _, parts in self._stack:
            parts.append(data)
        self.text.append(data)


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


URL_ATTRIBUTES = ("src", "href", "xlink:href", "action", "poster", "srcset", "data",
                  "formaction", "background", "manifest", "ping")


@pytest.mark.parametrize("lang", ["en", "da"])
def test_no_external_reference(reports, lang):
    text = reports[lang].read_text(encoding="utf-8")
    page = _parse(reports[lang])
    for tag, attrs in page.elements:
        assert tag not in ("script", "link", "img", "iframe", "object", "embed", "base"), tag
        for name in URL_ATTRIBUTES:
            value = attrs.get(name)
            if value is not None:
                assert value.startswith("#") or value.startswith("data:"), (tag, name, value)
    for style in page.styles:
        for target in re.findall(r"url\(\s*['\"]?([^)'\"]*)", style):
            assert target.startswith("#") or target.startswith("data:"), target
        assert "@import" not in style and "@font-face" not in style
    # Every URL left in the text is an XML namespace name, never fetched.
    for url in re.findall(r"""(?:https?:)?//[^\s"'<>)]+""", text):
        assert url in ("http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"), url


@pytest.mark.parametrize("lang", ["en", "da"])
def test_page_declares_a_policy_that_forbids_requests(reports, lang):
    metas = [attrs for tag, attrs in _parse(reports[lang]).elements if tag == "meta"
             and (attrs.get("http-equiv") or "").lower() == "content-security-policy"]
    assert [meta["content"] for meta in metas] == [CSP]
    assert "default-src 'none'" in CSP and "script-src" not in CSP


@pytest.mark.parametrize("lang", ["en", "da"])
def test_every_svg_has_a_text_alternative(reports, lang):
    page = _parse(reports[lang])
    svgs = [attrs for tag, attrs in page.elements if tag == "svg"]
    assert len(svgs) >= 6  # the result's plots, three price ranges, a tornado
    ids = [attrs["id"] for _, attrs in page.elements if attrs.get("id")]
    assert len(ids) == len(set(ids)), "two elements share an id"
    for attrs in svgs:
        assert attrs.get("role") == "img"
        title, desc = attrs["aria-labelledby"].split()
        assert page.text_by_id[title].strip() and len(page.text_by_id[desc].strip()) > 20
        assert "viewbox" in attrs


def test_both_languages_speak_their_own_words(reports):
    english = reports["en"].read_text(encoding="utf-8")
    danish = reports["da"].read_text(encoding="utf-8")
    assert '<html lang="en">' in english and '<html lang="da">' in danish
    for phrase in ("Risk report", "What each party puts in and gets back", "Chance of loss",
                   "Monte Carlo error", "municipality", "provider", "gift by design"):
        assert phrase in english, phrase
    for phrase in ("Risikorapport", "Hvad hver part lægger ind og får tilbage", "kommunen",
                   "staten", "fonden", "investoren", "leverandøren", "nettonutidsværdi",
                   "Sandsynlighed for tab", "Monte Carlo-fejlen", "mio. kr."):
        assert phrase in danish, phrase
    for phrase in ("What each party", "Chance of loss", "How this report was made"):
        assert phrase not in danish, phrase


def test_every_language_has_every_phrase():
    english, danish = words.WORDS["en"], words.WORDS["da"]
    assert set(english) == set(danish)
    for key in ("role_names", "kinds"):
        assert set(english[key]) == set(danish[key])


def _risk_rows(path: Path) -> list[list[str]]:
    text = path.read_text(encoding="utf-8")
    rows = []
    for table in re.findall(r'<table class="risk">(.*?)</table>', text, re.S):
        for body in re.findall(r"<tbody>(.*?)</tbody>", table, re.S):
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
                rows.append(re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S))
    return rows


@pytest.mark.parametrize("lang", ["en", "da"])
def test_risk_tables_carry_monte_carlo_errors(reports, result, lang):
    rows = _risk_rows(reports[lang])
    summary = sibsim.summarize(result)
    assert len(rows) == int((summary.role != "none").sum())  # every party with a part
    gift = words.WORDS[lang]["gift"]
    for party, role, mean, p05, p95, loss, nominal in rows:
        assert all("±" in cell for cell in (mean, p05, p95)), (party, mean, p05, p95)
        if role == words.WORDS[lang]["role_names"]["donor"]:
            assert loss == gift and nominal == gift  # a donor gives by design
        else:
            assert "±" in loss and "%" in loss


def test_report_has_every_section_and_the_scenario(reports, result):
    text = reports["en"].read_text(encoding="utf-8")
    for key in ("s_parties", "s_risk", "s_plots", "s_corridor", "s_drivers", "s_assumptions",
                "s_provenance"):
        assert words.WORDS["en"][key] in text
    assert "accept values from" in text or "keeps both" in text
    from sibsim.labels import parameter_label

    label = parameter_label(result, "transitions[0].effect.ratio", lang="en")
    assert html.escape(label) in text and label != "transitions[0].effect.ratio"
    assert "What it models" in text                          # the built-in file's notes
    page = _parse(reports["en"])
    scenario = "".join(page.text).split(words.WORDS["en"]["prov_scenario"])[-1]
    assert sibsim.load_scenario(result.attrs["scenario"]) == sibsim.load_scenario(
        scenario.strip())


def test_analyses_can_be_left_out(result, tmp_path):
    path = sibsim.write_report(result, tmp_path / "r.html", corridor=False, tornado=False)
    text = path.read_text(encoding="utf-8")
    assert words.WORDS["en"]["corridor_skipped"] in text
    assert "fig-tornado" not in text and "fig-corridor" not in text


@pytest.mark.parametrize("lang", ["en", "da"])
def test_builtin_report_shows_the_designed_terms(reports, result, lang):
    from sibsim.analysis.design_tables import pilot_designs
    from sibsim.labels import parameter_label

    designs, current = pilot_designs("danish-pilot")
    assert current, "the design file is stale: run scripts/design_danish_pilot.py --write"
    text = reports[lang].read_text(encoding="utf-8")
    page = _parse(reports[lang])
    chapter = html.unescape(page.text_by_id["corridor"])
    said = words.WORDS[lang]
    for i, entry in enumerate(designs["designs"], start=1):
        block = html.unescape(page.text_by_id[f"design-{i}"])
        assert said["design_heading"].format(contract=entry["contract"]) in block
        assert block in chapter
        verdict = said["design_met"] if entry["feasible"] else said["design_unmet"].split(
            ";")[0]
        assert verdict in block
        for key, value in entry["terms"].items():
            label = parameter_label(result, key, lang=lang).split(": ", 1)[-1]
            assert label[:1].upper() + label[1:] in block
            if value >= 1000:   # an amount of money, written in full in the currency
                assert words.number(value, lang) in block
        for party, figures in entry["parties"].items():
            assert words.name(party, lang)[1:] in block
            assert f"± {words.number(100 * figures['prob_loss_mcse'], lang, 1)}" in block
        for failed in entry["fails"]:
            assert failed not in block       # named in words, not as a key path
    assert said["design_intro"][:40] in html.unescape(text)


def test_other_scenarios_show_no_designed_terms_unless_given(result, tmp_path):
    from sibsim.analysis.design_tables import pilot_designs

    scenario = sibsim.load_scenario("danish-pilot").replace(
        "programme.cost_per_participant", 99000)
    other = sibsim.simulate(scenario, draws=20, seed=1, progress=False)
    path = sibsim.write_report(other, tmp_path / "r.html", corridor=False, tornado=False)
    assert 'class="design"' not in path.read_text(encoding="utf-8")
    designs, _ = pilot_designs("danish-pilot")
    path = sibsim.write_report(other, tmp_path / "g.html", corridor=False, tornado=False,
                               designs=designs, lang="da")
    assert path.read_text(encoding="utf-8").count('class="design"') == len(designs["designs"])
    with pytest.raises(ValueError, match="designs: got a design of contract 'nope'"):
        sibsim.write_report(other, tmp_path / "x.html", corridor=False, tornado=False,
                            designs={"designs": [{**designs["designs"][0],
                                                  "contract": "nope"}]})
    with pytest.raises(ValueError, match="designs: got str"):
        sibsim.write_report(other, tmp_path / "x.html", corridor=False, tornado=False,
                            designs="narrow")
    assert not (tmp_path / "x.html").exists()


def test_a_design_outcome_can_be_passed(result, tmp_path):
    from sibsim.errors import DesignInfeasible

    price = "contracts[1].outcomes[0].price"
    options = dict(contract="narrow", params={price: (100000, 300000)},
                   maximize={"party": "municipality", "statistic": "mean"}, draws=30,
                   seed=1, grid=3, refine=0)
    chosen = sibsim.design("danish-pilot", **options)
    try:
        sibsim.design("danish-pilot", constraints=[
            {"party": "provider", "statistic": "mean", "min": 5e7}], **options)
    except DesignInfeasible as error:
        failed = error
    path = sibsim.write_report(result, tmp_path / "r.html", corridor=False, tornado=False,
                               designs=[chosen, failed])
    page = _parse(path)
    first, second = (html.unescape(page.text_by_id[f"design-{i}"]) for i in (1, 2))
    assert words.WORDS["en"]["design_met"] in first
    assert words.number(chosen[0].get(price), "en") in first
    assert "No terms satisfy everyone" in second
    assert "the provider's mean net position at least DKK 50.00 million" in second


def test_scenario_text_gives_the_notes(result, tmp_path):
    path = sibsim.write_report(result, tmp_path / "r.html", corridor=False, tornado=False,
                               scenario_text="# My notes\n[cohort]\nintake_months = 18  "
                                             "# assumption: P1\n")
    text = path.read_text(encoding="utf-8")
    assert "My notes" in text and "cohort.intake_months" in text and "assumption: P1" in text


@pytest.mark.parametrize("bad, expected", [
    ("report.pdf", "expected a path ending in .html or .htm"),
    ("missing/report.html", "expected a file in an existing folder"),
    ("", "expected a path ending in"),
])
def test_bad_paths_are_clear_errors(result, tmp_path, monkeypatch, bad, expected):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=re.escape(expected)):
        sibsim.write_report(result, bad)
    assert list(tmp_path.iterdir()) == []


def test_folder_and_options_are_clear_errors(result, tmp_path):
    (tmp_path / "a.html").mkdir()
    with pytest.raises(ValueError, match="that is a folder"):
        sibsim.write_report(result, tmp_path / "a.html")
    with pytest.raises(ValueError, match="lang: got 'de'"):
        sibsim.write_report(result, tmp_path / "b.html", lang="de")
    with pytest.raises(ValueError, match="analysis_draws"):
        sibsim.write_report(result, tmp_path / "b.html", analysis_draws=0)
    with pytest.raises(ValueError, match="'scenario' attribute"):
        sibsim.write_report(result.drop_attrs(), tmp_path / "b.html")
    with pytest.raises(ValueError, match="write_report: result has no variable 'occupancy'"):
        sibsim.write_report(result[["npv"]], tmp_path / "b.html")
    assert not (tmp_path / "b.html").exists()


def test_write_is_atomic(result, tmp_path, monkeypatch):
    path = tmp_path / "r.html"
    path.write_text("old")
    import sibsim.report.build as build

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(build, "render", broken)
    with pytest.raises(RuntimeError):
        sibsim.write_report(result, path)
    assert path.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["r.html"]


def test_cli_report(tmp_path, capsys):
    out = tmp_path / "r.html"
    code = main(["report", "danish-pilot", "--draws", "60", "--analysis-draws", "20",
                 "--no-tornado", "--lang", "da", "--out", str(out)])
    assert code == 0 and "Risikorapport" in out.read_text(encoding="utf-8")
    assert f"wrote {out}" in capsys.readouterr().out
    assert main(["report", "danish-pilot", "--out", str(tmp_path)]) == 2
    assert "that is a folder" in capsys.readouterr().err
    assert main(["report", "danish-pilot", "--out", str(tmp_path / "r.txt")]) == 2


def test_cli_report_of_a_saved_result(result, tmp_path):
    from sibsim.results.io import write_netcdf

    write_netcdf(result, tmp_path / "run.nc")
    out = tmp_path / "r.html"
    assert main(["report", str(tmp_path / "run.nc"), "--no-corridor", "--no-tornado",
                 "--out", str(out)]) == 0
    assert "Risk report" in out.read_text(encoding="utf-8")


def test_template_is_package_data():
    template = importlib.resources.files("sibsim.report") / "templates" / "report.html.j2"
    assert template.is_file()
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["sibsim"]
    shipped = ROOT / "src" / "sibsim"
    for path in (shipped / "report" / "templates").iterdir():
        relative = path.relative_to(shipped).as_posix()
        assert any(fnmatch(relative, pattern) for pattern in patterns), relative
    assert any(dep.startswith("jinja2") for dep in config["project"]["dependencies"])


# -- in a real browser ----------------------------------------------------------------------

def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("SIBSIM_REQUIRE_BROWSER") == "1":
            pytest.fail("SIBSIM_REQUIRE_BROWSER=1 but no chromium on PATH "
                        "(.ci/run installs Debian's chromium)")
        pytest.skip("no chromium on PATH (apt-get install chromium); the CI runs these")
    return found


def _browse(tmp_path: Path, *arguments: str, timeout: int = 120) -> subprocess.CompletedProcess:
    command = [_chromium(), "--headless", "--disable-gpu", "--no-sandbox",
               "--no-first-run", "--disable-extensions", "--disable-sync",
               "--disable-background-networking", "--disable-component-update",
               f"--user-data-dir={tmp_path / 'profile'}", *arguments]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                          check=False)


@pytest.mark.parametrize("lang", ["en", "da"])
def test_browser_renders_the_report(reports, tmp_path, lang):
    done = _browse(tmp_path, '--host-resolver-rules=MAP * ~NOTFOUND', "--dump-dom",
                   reports[lang].as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    title = words.WORDS[lang]["title"]
    assert f"<title>{title}: " in done.stdout
    assert words.WORDS[lang]["s_provenance"] in done.stdout
    assert done.stdout.count("<svg") >= 6


class _Recorder(http.server.ThreadingHTTPServer):
    """A server that records every request it gets: (host and path, referrer)."""

    daemon_threads = True

    def __init__(self, page: bytes):
        self.page = page
        self.requests: list[tuple[str, str]] = []
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the http.server protocol
        self.server.requests.append((f"{self.headers.get('Host')}{self.path}",
                                     self.headers.get("Referer") or ""))
        body = self.server.page if self.path == "/report.html" else b""
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _requests_made(tmp_path: Path, page: bytes) -> list[str]:
    """Every request Chromium makes to show ``page``, besides the page itself.

    Each host name resolves to a server that records what it is asked for, so a request
    for anything, anywhere, is seen. A request made for the page carries the page as its
    referrer; the browser's own requests (its clock, its updates) carry none and are not
    the page's doing, so they are left out.
    """
    server = _Recorder(page)
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        page_url = f"http://report.test:{port}/report.html"
        done = _browse(tmp_path, f"--host-resolver-rules=MAP * 127.0.0.1:{port}",
                       "--disable-features=NetworkTimeServiceQuerying",
                       "--virtual-time-budget=3000", "--dump-dom", page_url)
        assert done.returncode == 0, done.stderr[-2000:]
    finally:
        server.shutdown()
        server.server_close()
    assert (f"report.test:{port}/report.html", "") in server.requests  # the page was served
    return [target for target, referrer in server.requests if referrer.startswith(
        f"http://report.test:{port}/")]


def test_browser_makes_no_request(reports, tmp_path):
    page = reports["da"].read_bytes()
    assert _requests_made(tmp_path, page) == []


def test_request_recorder_sees_a_leaky_page(tmp_path):
    """The check above can fail: a page that loads an image from elsewhere is caught."""
    leaky = b'<!DOCTYPE html><html><body><img src="http://cdn.example/x.png"></body></html>'
    requests = _requests_made(tmp_path, leaky)
    assert any(r.startswith("cdn.example") for r in requests), requests


def test_browser_prints_to_a4(reports, tmp_path):
    pdf = tmp_path / "report.pdf"
    done = _browse(tmp_path, '--host-resolver-rules=MAP * ~NOTFOUND', "--no-pdf-header-footer",
                   f"--print-to-pdf={pdf}", reports["en"].as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    boxes = re.findall(rb"/MediaBox\s*\[\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*\]", data)
    assert len(boxes) >= 5  # many pages, each of them A4
    for box in boxes:
        width, height = float(box[2]) - float(box[0]), float(box[3]) - float(box[1])
        assert abs(width - 595.28) < 1.5 and abs(height - 841.89) < 1.5, (width, height)


def test_danish_report_figures_are_danish(result, tmp_path, monkeypatch):
    from sibsim.report import analyses

    seen: dict[str, str] = {}
    original = analyses.inline_svg

    def recording(figure, key, title, description):
        texts = []
        for ax in figure.axes:
            texts += [ax.get_xlabel(), ax.get_ylabel(), ax.get_title()]
            texts += [t.get_text() for t in ax.get_xticklabels()]
            if ax.get_legend() is not None:
                texts += [t.get_text() for t in ax.get_legend().get_texts()]
        seen[key] = "\n".join(texts)
        return original(figure, key, title, description)

    monkeypatch.setattr(analyses, "inline_svg", recording)
    sibsim.write_report(result, tmp_path / "da.html", lang="da", corridor=False, tornado=False,
                        analysis_draws=30)
    assert {"fig-employment", "fig-positions", "fig-risk-return", "fig-savings"} <= set(seen)
    assert "Måned fra programmets start" in seen["fig-employment"]
    assert "Nettonutidsværdi" in seen["fig-positions"]
    assert "Sandsynlighed for tab" in seen["fig-risk-return"]
    assert "Betaler" in seen["fig-savings"]
    everything = "\n".join(seen.values())
    for english in ("Month from programme start", "Share of enrolled", "Net present value",
                    "Probability of loss", "Payer", "Contract", "Annualised investor IRR"):
        assert english not in everything, english
