"""A self-contained HTML report of a finished run, in English or Danish, for the partners.

:func:`write_report` (also ``sibsim report`` on the command line) writes one HTML file that
opens offline and loads nothing: styles inline, plots as inline SVG with a text alternative,
a Content-Security-Policy that forbids every request. It shows what each party puts in and
gets back under each contract, the risk table with its Monte Carlo errors, the plots of the
result, the price range both sides accept for each outcome contract, what drives the risk,
the assumptions and the scenario's notes, and the provenance with the full scenario text;
it prints to A4. The page is a Jinja2 template (``templates/report.html.j2``); the words of
each language are in :mod:`sibsim.report.words`. See ``docs/report.rst``.
"""

from sibsim.report.build import CSP, check_report_path, render, write_report
from sibsim.report.words import LANGUAGES

__all__ = ["CSP", "LANGUAGES", "check_report_path", "render", "write_report"]
