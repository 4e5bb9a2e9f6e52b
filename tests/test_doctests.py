"""Every ``>>>`` example in the package runs, so the documentation cannot rot.

The examples are collected from every module of the package (as sgkit does) and run with
the standard doctest runner; an example that needs a long simulation is marked
``# doctest: +SKIP`` where it stands.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import sibsim

MODULES = sorted(
    info.name for info in pkgutil.walk_packages(sibsim.__path__, prefix="sibsim.")
    if not info.name.endswith("__main__")
)
OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _tests(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    return [t for t in finder.find(module, name) if t.examples]


def test_the_package_has_examples():
    assert sum(len(_tests(name)) for name in MODULES) > 50


@pytest.mark.parametrize("name", MODULES)
def test_module_examples(name):
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    for test in _tests(name):
        test.globs = {**test.globs}
        runner.run(test, clear_globs=True)
    results = runner.summarize(verbose=False)
    assert results.failed == 0, f"{name}: {results.failed} of {results.attempted} examples failed"
