"""Result files: netCDF written atomically, and output paths checked before a run.

:func:`write_netcdf` writes to a temporary file beside the output and puts it in place only
once it is complete, so a failed or interrupted write never leaves a half-written result and
never touches an existing one. The temporary file is removed on any error, on Ctrl-C and on
SIGTERM (see :mod:`sibsim._signals`); one left by a process that was killed outright
(SIGKILL) is removed by the next write of the same output. Files get the permissions the
user's umask gives (not the 0600 of a temporary file).

:func:`write_text` writes a text file (a table, a report, a scenario) the same way.

:func:`check_output` checks an output path before anything is simulated. The zarr stores of
streamed runs are written by :mod:`sibsim.results.zarr_store`.
"""

from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path

from sibsim._signals import deferred_signals

__all__ = ["OUTPUT_SUFFIXES", "check_output", "file_mode", "write_netcdf", "write_text"]

#: The result formats by file suffix.
OUTPUT_SUFFIXES = {".nc": "netCDF", ".zarr": "zarr"}


def write_text(path: Path, text: str) -> None:
    """Write a text file atomically, with the permissions of the umask.

    The text goes to a temporary file beside ``path``, which replaces ``path`` only once it
    is complete and only if no SIGTERM or Ctrl-C came meanwhile; the temporary file is
    removed in every case.

    Parameters
    ----------
    path : pathlib.Path
        The file to write (its folder must exist).
    text : str
        The text, written as UTF-8.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(tmp, file_mode())
        with deferred_signals() as stopped:
            if not stopped:
                os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def file_mode() -> int:
    """The permissions a new file gets under this process's umask (0o666 & ~umask).

    Returns
    -------
    int
    """
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def check_output(path, *, option: str = "--out", suffixes=tuple(OUTPUT_SUFFIXES)) -> Path:
    """Check an output path before a run: its suffix, its folder, what stands there now.

    Parameters
    ----------
    path : str or Path
        The output.
    option : str, keyword-only
        The name of the option, in the messages.
    suffixes : sequence of str, keyword-only
        The suffixes accepted (``.nc``, ``.zarr``).

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ValueError
        ``"--out: got 'x', expected ..."``: an empty path, another suffix, a folder that
        does not exist, a folder where a netCDF file should go, or a file where a zarr store
        should go.

    Examples
    --------
    >>> check_output("result.csv")
    Traceback (most recent call last):
    ...
    ValueError: --out: got 'result.csv', expected a path ending in .nc or .zarr
    """
    text = os.fspath(path)
    wanted = " or ".join(suffixes)
    if not text.strip():
        raise ValueError(f"{option}: got {text!r}, expected a path ending in {wanted}")
    out = Path(text)
    if out.suffix.lower() not in suffixes:
        raise ValueError(f"{option}: got {text!r}, expected a path ending in {wanted}")
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise ValueError(f"{option}: got {text!r}, expected a file in an existing folder "
                         f"({str(folder)!r} is not a folder)")
    if out.suffix.lower() == ".zarr":
        if out.exists() and not out.is_dir():
            raise ValueError(f"{option}: got {text!r}, expected a zarr store (a folder); a "
                             "file of that name exists")
    elif out.is_dir():
        raise ValueError(f"{option}: got {text!r}, expected a file name; that is a folder")
    elif out.exists() and not os.access(out, os.W_OK):
        raise ValueError(f"{option}: got {text!r}, expected a file that can be replaced "
                         "(it is not writable)")
    if not os.access(folder, os.W_OK):
        raise ValueError(f"{option}: got {text!r}, expected a path in a folder that can be "
                         f"written ({str(folder)!r} is not writable)")
    return out


def _temporary_prefix(path: Path) -> str:
    return f".{path.name}.sibsim-{socket.gethostname()}-"


def _remove_stale(path: Path, folder: Path) -> None:
    """Remove temporary files of ``path`` left by processes of this host that are gone."""
    prefix = _temporary_prefix(path)
    for candidate in folder.glob(f"{prefix}*.tmp"):
        pid_text = candidate.name[len(prefix):].split("-", 1)[0]
        if not pid_text.isdigit() or int(pid_text) == os.getpid():
            continue
        try:
            os.kill(int(pid_text), 0)
        except ProcessLookupError:
            candidate.unlink(missing_ok=True)
        except (PermissionError, OSError):
            continue


def write_netcdf(result, path) -> None:
    """Write ``result`` to a netCDF file atomically.

    The data go to a temporary file in the same folder, which replaces ``path`` only once
    it is complete: a failed or interrupted write (an error, Ctrl-C, SIGTERM) removes it and
    leaves an existing ``path`` untouched. The file gets the permissions of the umask.

    Parameters
    ----------
    result : xarray.Dataset
        The result to write.
    path : str or Path
        The file to write, in an existing folder.

    Returns
    -------
    None
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ValueError(f"--out: got {str(path)!r}, expected a file in an existing folder")
    if path.is_dir():
        raise ValueError(f"--out: got {str(path)!r}, expected a file name; that is a folder")
    _remove_stale(path, folder)
    handle, tmp = tempfile.mkstemp(prefix=f"{_temporary_prefix(path)}{os.getpid()}-",
                                   suffix=".tmp", dir=folder)
    os.close(handle)
    try:
        os.chmod(tmp, file_mode())
        with deferred_signals() as stopped:
            result.to_netcdf(tmp, engine="h5netcdf")
            if not stopped:
                os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
