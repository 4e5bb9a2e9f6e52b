"""Build helpers for sibsim's documentation (a local Sphinx extension).

- The quickstart page shows what ``sibsim demo`` prints and one of the plots it writes: the
  demo runs once per build, so the page always shows the current output.
- The review chapter's generated tables are made once per build by the scripts that the
  tests run: the validation table (``scripts/validation_table.py``, included by
  ``validation.rst``), the measured directions of the assumptions register
  (``scripts/assumptions_register.py``, included by ``assumptions.rst``) and the headline
  numbers of the README and the demo (``scripts/headline_numbers.py``, included by
  ``reviewers_guide.rst``). They are always
  recomputed from the shipped scenarios, so they cannot go stale.
- The API reference (``reference/index.rst``) is the one home of every API entry: it must
  list every public name of ``sibsim`` and ``sibsim.plot``, and no other page may document
  an object with an autodoc directive (either is a build warning, an error under ``-W``).
  A link to an object under another of its names (``sibsim.scenario.Scenario`` for the
  reference's ``sibsim.Scenario``) reaches that entry (:func:`link_other_names`), and
  ``.. sibsim-result-variables::`` writes the table of result variables from
  :data:`sibsim.results.schema.VARIABLES`.
- The example gallery (sphinx-gallery) runs each script in ``examples/``. The scripts write
  their plots into ``$SIBSIM_OUT`` with matplotlib figures that never touch pyplot, so the
  standard matplotlib scraper cannot see them: :func:`reset_example_output` gives each
  example its own output folder under the build folder (and the ``__file__`` the scripts
  use), and :func:`written_images` puts the images written there into the example's page.
- Every page works offline: after the build, :func:`check_offline` warns about any script,
  style sheet or image that a page would fetch from the network or that is missing.

sphinx-gallery takes the gallery functions by their qualified names (``"sibsim_docs.name"``)
so that the configuration stays picklable.
"""

from __future__ import annotations

import builtins
import importlib
import os
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path
from types import MappingProxyType

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

DOCS = Path(__file__).resolve().parent.parent
#: Files made by the build inside the source tree (ignored by git, see docs/.gitignore).
GENERATED = DOCS / "_generated"
EXAMPLES = DOCS.parent / "examples"
#: Where the gallery's examples write their plots: under the build folder, never the sources.
GALLERY_OUTPUT = DOCS / "_build" / "gallery-output"

#: The order of the gallery: the built-in scenario's questions first, then the published cases.
EXAMPLE_ORDER = ("quickstart.py", "narrow_vs_broad.py", "investor_view.py",
                 "site_differences.py", "stepping_stone.py", "koto_sib.py", "dwp_rate_card.py")

#: Directives that document an object (and so give it a place in the index).
_AUTO_DIRECTIVE = re.compile(
    r"^\.\. auto(function|class|exception|method|attribute|data|module)::\s*(\S+)\s*$")


# -- quickstart: the demo's output ---------------------------------------------------------------

def run_demo(app: Sphinx) -> None:
    """Run ``sibsim demo`` as a user would and keep what it prints and its plots.

    It runs in ``_generated/demo`` with the default ``--out sibsim-demo``, so the printed
    paths are those a user sees. A failing demo fails the build.
    """
    folder = GENERATED / "demo"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    env = dict(os.environ, MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, "-m", "sibsim", "demo"], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise ExtensionError(f"`sibsim demo` failed (exit {proc.returncode}):\n"
                             f"{proc.stderr[-3000:]}")
    (folder / "output.txt").write_text(proc.stdout, encoding="utf-8")
    # The page shows the municipality's net position: the plot of that name, or of that name
    # for the municipality where the demo writes one per party.
    plots = sorted((folder / "sibsim-demo").glob("net_position*.png"))
    plots.sort(key=lambda path: (path.stem != "net_position", "municipality" not in path.stem))
    if not plots:
        raise ExtensionError("`sibsim demo` wrote no net_position plot for the quickstart page")
    shutil.copyfile(plots[0], folder / "net_position.png")
    logger.info("ran `sibsim demo` for the quickstart page")


# -- the review chapter: generated tables ----------------------------------------------------------

#: Scripts that write an include of the review chapter: (script, arguments, include file).
REVIEW_TABLES = (
    ("validation_table.py", ("--rst",), "validation.rst"),
    ("headline_numbers.py", ("--rst",), "headline_numbers.rst"),
    ("assumptions_register.py", ("--rst",), "assumption_directions.rst"),
)


def run_review_tables(app: Sphinx) -> None:
    """Run the scripts that write the review chapter's tables into ``_generated/``.

    Each runs as ``python scripts/NAME.py --rst _generated/FILE`` would from the repository
    root; a failing script fails the build.
    """
    GENERATED.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, MPLBACKEND="Agg")
    for script, arguments, include in REVIEW_TABLES:
        target = GENERATED / include
        target.unlink(missing_ok=True)
        proc = subprocess.run([sys.executable, str(DOCS.parent / "scripts" / script),
                               *arguments, str(target)], cwd=DOCS.parent, env=env,
                              capture_output=True, text=True, timeout=900)
        if proc.returncode != 0 or not target.is_file():
            raise ExtensionError(f"scripts/{script} failed (exit {proc.returncode}):\n"
                                 f"{proc.stderr[-3000:]}")
        logger.info("wrote _generated/%s with scripts/%s", include, script)


# -- API reference: every public name has an entry ------------------------------------------------

def public_names() -> list[str]:
    """The fully qualified public names the reference must list."""
    import sibsim
    import sibsim.plot

    # Submodules (``sibsim.plot``) have a section of their own, listed name by name below.
    names = [f"sibsim.{name}" for name in sibsim.__all__
             if not name.startswith("_") and not isinstance(getattr(sibsim, name), types.ModuleType)]
    names += [f"sibsim.plot.{name}" for name in sibsim.plot.__all__]
    return names


def listed_in_reference(text: str) -> set[str]:
    """Fully qualified names in the autosummary tables of a reference page."""
    listed: set[str] = set()
    module = ""
    in_table = False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith((".. currentmodule::", ".. module::", ".. automodule::")):
            module = stripped.split("::", 1)[1].strip()
            in_table = False
        elif stripped.startswith(".. autosummary::"):
            in_table = True
        elif in_table and line.startswith("   ") and stripped and not stripped.startswith(":"):
            name = stripped.lstrip("~")
            listed.add(name if name.startswith(module + ".") else f"{module}.{name}")
        elif in_table and stripped and not line.startswith(" "):
            in_table = False
    return listed


def check_reference(app: Sphinx) -> None:
    """Warn about any public name that the API reference does not list.

    A name counts as listed when the reference lists it or the same object under another
    name: a constant is listed under the module that defines it, whose ``#:`` comment
    autodoc reads (``sibsim.plot.result_plots.PLOT_FILES`` for ``sibsim.plot.PLOT_FILES``).
    """
    page = Path(app.srcdir) / "reference" / "index.rst"
    listed = listed_in_reference(page.read_text(encoding="utf-8"))
    listed_objects = set()
    for name in listed:
        try:
            listed_objects.add(id(_resolve(name)))
        except (ImportError, AttributeError):
            continue  # autosummary reports a name that does not import
    for name in public_names():
        if name not in listed and id(_resolve(name)) not in listed_objects:
            logger.warning("public name %s is missing from the API reference "
                           "(docs/reference/index.rst)", name, location="reference/index")


def _resolve(name: str):
    """The Python object with a dotted name (a module, or an attribute of one)."""
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            target = getattr(target, attribute)
        return target
    raise ImportError(name)


def check_single_home(app: Sphinx) -> None:
    """Warn about an autodoc directive on a page outside ``reference/``.

    The API reference is the one home of every API entry: a topic page explains a method in
    prose and links to the entry (``:func:`sibsim.sweep```), so that no object is documented
    twice (a duplicate is a "duplicate object" warning and makes links ambiguous).
    """
    srcdir = Path(app.srcdir)
    for path in sorted(srcdir.rglob("*.rst")):
        if path.relative_to(srcdir).parts[0] in ("reference", "_build", "gallery", "_templates"):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            found = _AUTO_DIRECTIVE.match(line.strip())
            if found:
                logger.warning("%s documents %s; document it in the API reference "
                               "(docs/reference/index.rst) and link to it instead",
                               path.relative_to(srcdir), found.group(2),
                               location=(path.relative_to(srcdir).with_suffix("").as_posix(),
                                         number))


#: Kinds of objects a link may reach under another of their names (numbers and strings are
#: left out: two equal constants are not one object).
_ALIASED = (type, types.FunctionType, types.ModuleType, property, dict, tuple,
            MappingProxyType)


def _documented_objects(env) -> dict[int, str]:
    """Each documented Python object by identity, with the name the reference gives it."""
    found: dict[int, str] = {}
    for name, entry in env.get_domain("py").objects.items():
        if getattr(entry, "aliased", False) or not name.startswith("sibsim"):
            continue
        try:
            target = _resolve(name)
        except (ImportError, AttributeError):
            continue
        target = getattr(target, "__func__", target)
        if isinstance(target, _ALIASED):
            found.setdefault(id(target), name)
    return found


def link_other_names(app: Sphinx, env, node, contnode):
    """Resolve a link to a sibsim object written under another of its names.

    The reference documents each object once, under the name users import it by
    (``sibsim.Scenario``, ``sibsim.summarize``); docstrings and topic pages may name the same
    object by another module that holds it (``sibsim.scenario.Scenario``,
    ``sibsim.analysis.summary.summarize``). Such a link reaches the one entry.
    """
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"].lstrip("~.")
    module, klass = node.get("py:module"), node.get("py:class")
    candidates = [target]
    if module:
        candidates += [f"{module}.{klass}.{target}" if klass else None, f"{module}.{target}"]
    # On a generated page (named after its object), a short name in a docstring is one of
    # the names of the module that defines the object.
    page = node.get("refdoc", "")
    if page.startswith("reference/generated/"):
        try:
            defining = getattr(_resolve(page.rsplit("/", 1)[1]), "__module__", None)
        except (ImportError, AttributeError):
            defining = None
        if defining:
            candidates.append(f"{defining}.{target}")
    if not hasattr(app, "_sibsim_documented"):
        app._sibsim_documented = _documented_objects(env)
    for candidate in filter(None, candidates):
        if not candidate.startswith("sibsim"):
            continue
        try:
            target_object = _resolve(candidate)
        except (ImportError, AttributeError):
            continue
        name = app._sibsim_documented.get(id(getattr(target_object, "__func__", target_object)))
        if name is not None and name != candidate:
            return env.get_domain("py").resolve_xref(env, node["refdoc"], app.builder,
                                                     node["reftype"], name, node, contnode)
    return None


class ResultVariables(SphinxDirective):
    """``.. sibsim-result-variables::``: the table of result variables, from the schema.

    One row per entry of :data:`sibsim.results.schema.VARIABLES` (name, dimensions, units,
    meaning), so that the page lists exactly the variables :func:`sibsim.simulate` writes.
    """

    has_content = False

    def run(self):
        from sibsim.results import VARIABLES

        lines = [".. list-table::", "   :header-rows: 1", "   :widths: 18 34 10 38", "",
                 "   * - variable", "     - dimensions", "     - units", "     - meaning"]
        for variable in VARIABLES.values():
            lines += [f"   * - ``{variable.name}``",
                      f"     - ({', '.join(variable.dims)})",
                      f"     - {variable.units}",
                      f"     - {variable.long_name}"]
        # nested_parse works on every Sphinx this project supports (parse_text_to_nodes
        # needs 7.4).
        holder = nodes.container()
        self.state.nested_parse(StringList(lines, source="sibsim.results.VARIABLES"),
                                self.content_offset, holder)
        return holder.children


# -- the example gallery ---------------------------------------------------------------------------

class ExampleOrder:
    """sphinx-gallery sort key: the examples in :data:`EXAMPLE_ORDER`, then any other by name."""

    def __init__(self, src_dir: str) -> None:
        self.src_dir = src_dir

    def __call__(self, filename: str) -> tuple[int, str]:
        name = Path(filename).name
        rank = EXAMPLE_ORDER.index(name) if name in EXAMPLE_ORDER else len(EXAMPLE_ORDER)
        return rank, name

    def __repr__(self) -> str:  # sphinx-gallery compares configurations by repr
        return f"{type(self).__name__}()"


def reset_example_output(gallery_conf: dict, fname: str | None, when: str) -> None:
    """Prepare each example's run as ``python examples/NAME.py`` would, and clean up after.

    Before: an empty output folder of its own, named in ``SIBSIM_OUT``, and ``__file__``.
    sphinx-gallery runs a script without a ``__file__`` global (by design), while the
    examples find their scenario files beside themselves with ``Path(__file__)``; a name
    missing from a module's globals is looked up in :mod:`builtins`, so the script's path
    is put there for the length of its run.
    """
    if fname is None:
        return
    if when == "before":
        folder = GALLERY_OUTPUT / Path(fname).stem
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        os.environ["SIBSIM_OUT"] = str(folder)
        builtins.__file__ = str(EXAMPLES / fname)
    else:
        builtins.__dict__.pop("__file__", None)


_shown: set[Path] = set()


def written_images(block, block_vars: dict, gallery_conf: dict) -> str:
    """sphinx-gallery image scraper: the PNG files the example wrote since the last block."""
    from sphinx_gallery.scrapers import figure_rst

    folder = Path(os.environ["SIBSIM_OUT"])
    images = []
    for path in sorted(folder.glob("*.png")):
        if path in _shown:
            continue
        _shown.add(path)
        target = next(block_vars["image_path_iterator"])
        shutil.copyfile(path, target)
        images.append(target)
    return figure_rst(images, gallery_conf["src_dir"])


# -- offline: nothing a page loads comes from the network ---------------------------------------

#: Tags whose URL the browser fetches to show the page (an <a href> is only followed on a click).
_FETCHED = re.compile(r"<(?:script|link|img|iframe|source|embed|object)\b[^>]*?"
                      r"\b(?:src|href|data)=[\"']([^\"']*)[\"']", re.I)


def check_offline(app: Sphinx, exception: Exception | None) -> None:
    """Warn about any script, style sheet or image of an HTML page that is not in the build.

    Runs after the build (and after sphinx-mathjax-offline has copied MathJax into
    ``_static``): every URL a page would fetch must be a file of the build folder.
    """
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    for page in sorted(outdir.rglob("*.html")):
        if page.relative_to(outdir).parts[0] in ("_static", "_sources", ".doctrees"):
            continue  # theme templates and copies of the sources, not pages
        for url in _FETCHED.findall(page.read_text(encoding="utf-8")):
            if url.startswith(("data:", "#")):
                continue  # inline data, or a link to the page itself
            if re.match(r"(?:[a-z]+:)?//", url, re.I):
                logger.warning("%s loads %s from the network", page.relative_to(outdir), url)
                continue
            local = (page.parent / url.split("#")[0].split("?")[0]).resolve()
            if not local.is_file():
                logger.warning("%s loads %s, which is not in the build",
                               page.relative_to(outdir), url)


def setup(app: Sphinx) -> dict:
    app.connect("builder-inited", run_demo)
    app.connect("builder-inited", run_review_tables)
    app.connect("builder-inited", check_reference)
    app.connect("builder-inited", check_single_home)
    app.connect("missing-reference", link_other_names)
    app.add_directive("sibsim-result-variables", ResultVariables)
    app.connect("build-finished", check_offline, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
