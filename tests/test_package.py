"""The package as a user meets it: ``import sibsim`` gives ``sibsim.plot`` without loading
matplotlib up front, and the type marker ships with the package."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib import resources
from pathlib import Path

import sibsim

ROOT = Path(__file__).resolve().parent.parent


def test_sibsim_plot_is_imported_on_first_use():
    code = (
        "import sys, sibsim\n"
        "assert 'matplotlib' not in sys.modules, 'import sibsim loaded matplotlib'\n"
        "assert 'plot' in dir(sibsim) and 'plot' in sibsim.__all__\n"
        "figure = sibsim.plot.net_position\n"
        "assert 'matplotlib' in sys.modules and sibsim.plot is sys.modules['sibsim.plot']\n"
        "try:\n"
        "    sibsim.no_such_name\n"
        "except AttributeError as error:\n"
        "    assert 'no_such_name' in str(error)\n"
        "else:\n"
        "    raise AssertionError('sibsim.no_such_name did not raise')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_the_typed_marker_ships_with_the_package():
    assert resources.files(sibsim).joinpath("py.typed").is_file()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "py.typed" in project["tool"]["setuptools"]["package-data"]["sibsim"]
