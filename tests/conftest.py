"""Hypothesis profiles for the whole suite.

``sibsim`` (loaded by default): no deadline. The first call of a jitted function compiles
it (or loads it from numba's cache), which takes seconds, and a loaded machine runs any
example slowly now and then; a deadline would fail such examples, or report the test as
flaky, for reasons that say nothing about the code. The number of examples is each
test's own (``@settings(max_examples=...)``).

``thorough`` (``python -m pytest --hypothesis-profile=thorough``): what a fresh clone sees,
ten times over. No example database (a fresh clone has none to replay, so a failure found
there must not hide behind a stored example), and every property test runs
:data:`THOROUGH_FACTOR` times its own number of examples. Combine it with
``--hypothesis-seed=N`` to look for inputs that fail only now and then.

A profile is loaded here, once, before any test module is imported: a test module that
loads a profile of its own would change the settings of every module imported after it.
"""

from __future__ import annotations

import pytest
from hypothesis import is_hypothesis_test, settings

#: How many times its own number of examples each property test runs under ``thorough``.
THOROUGH_FACTOR = 10

settings.register_profile("sibsim", deadline=None)
settings.register_profile("thorough", deadline=None, database=None, print_blob=True)
settings.load_profile("sibsim")  # --hypothesis-profile, read after this file, overrides it


def pytest_collection_modifyitems(config, items):
    """Under ``thorough``, give every property test THOROUGH_FACTOR times its examples."""
    if settings.get_current_profile_name() != "thorough":
        return
    scaled = set()  # a parametrized test is one function behind several items
    for item in items:
        test = getattr(item, "obj", None)
        if test is None or not is_hypothesis_test(test) or id(test) in scaled:
            continue
        scaled.add(id(test))
        # The settings a test runs with are read from this attribute when it runs; hypothesis
        # has no public way to change them after @settings (applying it twice is an error).
        current = getattr(test, "_hypothesis_internal_use_settings", None)
        if current is None:
            raise pytest.UsageError(
                f"{item.nodeid}: cannot scale its examples under the thorough profile "
                "(hypothesis no longer keeps a test's settings where this conftest looks)")
        test._hypothesis_internal_use_settings = settings(
            current, max_examples=THOROUGH_FACTOR * current.max_examples)
