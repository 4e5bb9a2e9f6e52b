"""Sphinx configuration for the sibsim documentation.

Build (from the repository root, with ``pip install ".[docs]"``)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The build runs ``sibsim demo`` once for the quickstart page and every script in
``examples/`` for the gallery, at ``SIBSIM_DOCS_DRAWS`` draws (default 100). Every page is
built offline: the theme, the search and MathJax are served from the build folder.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import sibsim

DOCS = Path(__file__).resolve().parent
# The local extension (docs/_ext/sibsim_docs.py), loaded by name in ``extensions`` below.
sys.path.insert(0, str(DOCS / "_ext"))

project = "sibsim"
author = "the sibsim developers"
copyright = "2026, the sibsim developers"
release = sibsim.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    # A copy of MathJax 3 that the build puts into _static/mathjax: equations render
    # without a network connection (sphinx.ext.mathjax alone loads MathJax from a CDN).
    "sphinx-mathjax-offline",
    "sphinx_gallery.gen_gallery",
    # Markdown pages: the parameter sheet (sources.md) and the published cases (cases.md),
    # which the scenario files cite by name and which read well on a code host too.
    "myst_parser",
    "sibsim_docs",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "_generated"]
templates_path = ["_templates"]
nitpicky = False

# -- API documentation ------------------------------------------------------------------------
napoleon_google_docstring = False
napoleon_numpy_docstring = True
autodoc_member_order = "bysource"
# Type hints go into the parameter descriptions, where the docstring names no type of its own,
# and into the return type; signatures stay short.
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented_params"
autodoc_typehints_format = "short"
autosummary_generate = True
# The reference (docs/reference/index.rst) is the one home of every API entry; topic pages
# link to it. Data whose value would fill a screen are shown without it (see
# docs/_templates/autosummary/base.rst).
autosummary_context = {"no_value": [
    "sibsim.results.schema.VARIABLES", "sibsim.contracts.registry.CONTRACT_TYPES",
    "sibsim.contracts.baselines.BASELINES", "sibsim.scenario.families.FAMILY",
    "sibsim.scenario.families.FAMILIES",
]}

# -- Example gallery --------------------------------------------------------------------------
# The examples read the number of draws from SIBSIM_DRAWS; a small number keeps the build
# short while every script still runs end to end (the numbers they print are then rough).
os.environ["SIBSIM_DRAWS"] = os.environ.get("SIBSIM_DOCS_DRAWS", "100")
os.environ.setdefault("MPLBACKEND", "Agg")

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "gallery",
    # Run every script (the default runs only files named plot_*.py).
    "filename_pattern": r"\.py$",
    "ignore_pattern": r"/_",
    "within_subsection_order": "sibsim_docs.ExampleOrder",
    # The examples write their plots to $SIBSIM_OUT without pyplot: a folder per example,
    # whose images the scraper puts on the example's page.
    "reset_modules": ("sibsim_docs.reset_example_output",),
    "image_scrapers": ("sibsim_docs.written_images",),
    "download_all_examples": False,
    # The run-time tables (sg_execution_times) load jQuery and DataTables from CDNs; the run
    # times are in the build log instead.
    "write_computation_times": False,
    "remove_config_comments": True,
    "min_reported_time": 1,
}

# -- HTML -------------------------------------------------------------------------------------
# pydata-sphinx-theme: the theme of numpy, scipy, pandas, xarray and matplotlib, whose
# documentation sibsim's readers already know (and link to from the API reference); it is
# maintained by that community, styles sphinx-gallery pages, and ships its fonts and icons.
html_theme = "pydata_sphinx_theme"
html_title = f"sibsim {release}"
html_static_path = ["_static"]
html_css_files = ["sibsim.css"]
html_show_sourcelink = False
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "navbar_align": "left",
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {"index": []}
