"""The README's headline numbers (scripts/headline_numbers.py).

Every figure the README quotes from a run stands between markers; the script recomputes it
with the command that makes it. A result depends only on the scenario, the draws and the
seed, so the README must match the recomputed text exactly. When a scenario changes, this
test fails until ``python scripts/headline_numbers.py --write`` is run.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "headline_numbers.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("headline_numbers", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


hn = _load_script()


def _run(*arguments: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, str(SCRIPT), *arguments], capture_output=True,
                          text=True, env=env, timeout=900, cwd=ROOT)


def test_the_readme_quotes_every_figure_as_recomputed():
    """The full check: the demo's table (2000 draws, seed 1) and every inline figure."""
    proc = _run("--check")
    assert proc.returncode == 0, (
        "README.md's headline numbers are stale; run `python scripts/headline_numbers.py "
        f"--write`:\n{proc.stderr[-4000:]}")
    assert f"{len(hn.FIGURES)} of {len(hn.FIGURES)} figures" in proc.stdout


def test_every_figure_has_markers_in_the_readme():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for figure in hn.FIGURES:
        assert len(hn.quoted(text, figure)) == 1, figure.name
        assert figure.command and figure.what


def test_markers_are_found_replaced_and_checked():
    inline = hn.Figure("x", "an x", "cmd", lambda: "2")
    block = hn.Figure("b", "a block", "cmd", lambda: "new\nlines", block=True)
    text = ("a <!-- headline:x -->1<!-- /headline --> b\n"
            "<!-- headline:b -->\nold\n<!-- /headline:b -->\n")
    assert hn.quoted(text, inline) == ["1"] and hn.quoted(text, block) == ["old"]
    values = {"x": "2", "b": "new\nlines"}
    assert len(hn.check(text, [inline, block], values)) == 2
    written = hn.replaced(hn.replaced(text, inline, "2"), block, "new\nlines")
    assert hn.check(written, [inline, block], values) == []
    assert written == ("a <!-- headline:x -->2<!-- /headline --> b\n"
                       "<!-- headline:b -->\nnew\nlines\n<!-- /headline:b -->\n")
    assert hn.check("no markers", [inline], values) == ["x: no markers in README.md"]


def test_write_then_check_on_a_copy(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("rate <!-- headline:discount-rate -->9%<!-- /headline -->, "
                      "<!-- headline:herning-size -->0<!-- /headline --> people\n",
                      encoding="utf-8")
    only = ("--only", "discount-rate", "herning-size", "--readme", str(readme))
    assert _run("--check", *only).returncode == 1
    assert _run("--write", *only).returncode == 0
    assert _run("--check", *only).returncode == 0
    assert "9%" not in readme.read_text(encoding="utf-8")


def test_the_guide_table_is_written(tmp_path):
    target = tmp_path / "headline.rst"
    proc = _run("--rst", str(target), "--only", "discount-rate", "herning-size")
    assert proc.returncode == 0, proc.stderr
    text = target.read_text(encoding="utf-8")
    assert ".. list-table::" in text and "``herning-size``" in text
