"""Sphinx configuration for the sibsim documentation."""

from __future__ import annotations

import sibsim

project = "sibsim"
author = "the sibsim developers"
copyright = "2026, the sibsim developers"
release = sibsim.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
]
napoleon_google_docstring = False
napoleon_numpy_docstring = True
autodoc_typehints = "none"
autodoc_member_order = "bysource"
nitpicky = False
exclude_patterns = ["_build"]
html_theme = "alabaster"
html_static_path = ["_static"]
suppress_warnings = ["autodoc.import_object"]
