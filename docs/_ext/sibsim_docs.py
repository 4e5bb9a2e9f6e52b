"""Build helpers for sibsim's documentation (a local Sphinx extension).

- The quickstart page shows what ``sibsim demo`` prints and one of the plots it writes: the
  demo runs once per build, so the page always shows the current output.
- The API reference (``reference/index.rst``) must list every public name of ``sibsim`` and
  ``sibsim.plot``; a missing one is a build warning (an error under ``-W``).
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
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

DOCS = Path(__file__).resolve().parent.parent
#: Files made by the build inside the source tree (ignored by git, see docs/.gitignore).
GENERATED = DOCS / "_generated"
EXAMPLES = DOCS.parent / "examples"
#: Where the gallery's examples write their plots: under the build folder, never the sources.
GALLERY_OUTPUT = DOCS / "_build" / "gallery-output"

#: The order of the gallery: the built-in scenario's questions first, then the published cases.
EXAMPLE_ORDER = ("quickstart.py", "narrow_vs_broad.py", "investor_view.py",
                 "site_differences.py", "koto_sib.py", "dwp_rate_card.py")

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


# -- API reference: every public name has an entry ------------------------------------------------

def public_names() -> list[str]:
    """The fully qualified public names the reference must list."""
    import sibsim
    import sibsim.plot

    import types

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
        if stripped.startswith(".. currentmodule::"):
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
    """Warn about any public name that the API reference does not list."""
    page = Path(app.srcdir) / "reference" / "index.rst"
    listed = listed_in_reference(page.read_text(encoding="utf-8"))
    for name in public_names():
        if name not in listed:
            logger.warning("public name %s is missing from the API reference "
                           "(docs/reference/index.rst)", name, location=str(page))


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


def documented_on_topic_pages(srcdir: Path) -> list[str]:
    """Names that a page outside ``reference/`` documents with an autodoc directive.

    ``automodule`` with a bare ``:members:`` covers the module's ``__all__``.
    """
    names: set[str] = set()
    for path in sorted(srcdir.rglob("*.rst")):
        if path.relative_to(srcdir).parts[0] in ("reference", "_build", "gallery"):
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines):
            found = _AUTO_DIRECTIVE.match(line.strip())
            if not found:
                continue
            kind, name = found.groups()
            if kind != "module":
                names.add(name)
                continue
            for option in lines[number + 1:]:
                if not option.startswith("   "):
                    break
                option = option.strip()
                if option.startswith(":members:"):
                    members = [m.strip() for m in option[len(":members:"):].split(",")]
                    members = [m for m in members if m]
                    if not members:
                        members = list(getattr(_resolve(name), "__all__", []))
                    names.update(f"{name}.{member}" for member in members)
    return sorted(names)


def documented_elsewhere(srcdir: Path) -> list[str]:
    """Public names that a topic page already puts into the index.

    The reference's generated page for such a name carries ``:no-index:``, so that each
    object has one place in the index (a second one is a "duplicate object" warning, and
    makes cross-references ambiguous): a name documented under that same name, and a class
    documented under any name (autodoc indexes a class under its defining module's name as
    well, so two names of one class collide there).
    """
    topic_names = documented_on_topic_pages(srcdir)
    classes = []
    for name in topic_names:
        try:
            target = _resolve(name)
        except (ImportError, AttributeError):
            continue  # autodoc reports a name that does not import, on its own page
        if isinstance(target, type):
            classes.append(target)
    return [name for name in public_names()
            if name in topic_names or any(_resolve(name) is other for other in classes)]


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
    app.connect("builder-inited", check_reference)
    app.connect("build-finished", check_offline, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
