"""Optional dependencies, imported on first use with a message naming the extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["EXTRA", "MissingExtra", "require"]

#: The extra that brings dask, distributed and zarr.
EXTRA = "distributed"


class MissingExtra(ImportError):
    """An optional dependency is not installed; the message says how to install it."""


def require(module: str, *, purpose: str) -> ModuleType:
    """Import an optional module, or raise ImportError saying how to install it.

    Parameters
    ----------
    module : str
        ``"dask"``, ``"distributed"``, ``"zarr"``, ...
    purpose : str
        What it is needed for, e.g. ``"simulate(client=...)"``.

    Returns
    -------
    module

    Raises
    ------
    MissingExtra
        An ImportError: ``"<purpose> needs <module>: pip install 'sibsim[distributed]'"``.
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise MissingExtra(f"{purpose} needs the package {module.split('.')[0]!r}, which is "
                          f"not installed: pip install \"sibsim[{EXTRA}]\" (it brings dask, "
                          f"distributed and zarr)") from error
