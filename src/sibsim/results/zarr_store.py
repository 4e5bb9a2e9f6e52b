"""The zarr store of a streamed run: created from its first chunk, written chunk by chunk.

A store holds the result Dataset (zarr format 2, one zarr chunk per chunk of draws, so that
every chunk is written on its own) and, in its group ``sibsim_run`` (which
``xarray.open_zarr`` does not read), the run's settings, which chunks are done and each done
chunk's counts towards the variables that summarise over all draws. A chunk is marked done
only after its data are written, so a run stopped at any point (Ctrl-C, SIGTERM, SIGKILL, a
lost worker) resumes with the chunks that are not marked; draws not yet written read as NaN.
A store made with other settings is never mixed with: :class:`RunStore` refuses it.

zarr and dask come with the optional extra ``sibsim[distributed]``.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from sibsim._optional import require
from sibsim._signals import deferred_signals

__all__ = ["PROGRESS", "RunStore", "StoreMismatch"]

#: The group of a store that records the run (settings, chunks done, counts).
PROGRESS = "sibsim_run"
_PURPOSE = "simulate_to_zarr (a zarr output)"


class StoreMismatch(ValueError):
    """A store holds (part of) another run, or something that is not a sibsim run."""


def _zarr():
    require("dask", purpose=_PURPOSE)
    return require("zarr", purpose=_PURPOSE)


def _differences(stored: dict, wanted: dict) -> list[str]:
    out = []
    for key, value in wanted.items():
        if stored.get(key) != value:
            shown = "(another scenario)" if key == "scenario" else f"{stored.get(key)!r}"
            out.append(f"{key} {shown} where this run has "
                       f"{'its own' if key == 'scenario' else repr(value)}")
    return out


class RunStore:
    """The store of one streamed run.

    Parameters
    ----------
    path : str or Path
        The store (a folder).
    settings : dict
        What identifies the run: scenario text, seed, draws, chunk_draws, resolution,
        variables, sibsim version (plain JSON values).
    plan : sequence of (int, int)
        The run's chunks.

    Raises
    ------
    StoreMismatch
        When ``path`` holds a run with other settings, or anything that is not a sibsim run.
    """

    def __init__(self, path, settings: dict, plan: Sequence[tuple[int, int]]):
        self.zarr = _zarr()
        self.path = Path(path)
        self.settings = dict(settings)
        self.plan = list(plan)
        self.group = None
        self._open_existing()

    # -- opening ---------------------------------------------------------------------------

    def _progress(self, mode: str = "r+"):
        return self.zarr.open_group(str(self.path), path=PROGRESS, mode=mode, zarr_format=2,
                                    use_consolidated=False)

    def _open_existing(self) -> None:
        if not self.path.exists():
            return
        if not self.path.is_dir():
            raise StoreMismatch(f"{self.path}: expected a zarr store (a folder); it is a file")
        if not any(self.path.iterdir()):
            return
        try:
            group = self._progress()
            stored = json.loads(group.attrs["settings"])
            state = group.attrs["state"]
        except Exception:  # noqa: BLE001 - whatever zarr raises for a foreign folder
            raise StoreMismatch(
                f"{self.path}: the folder exists and is not the store of a sibsim run; give "
                "another path, or remove it") from None
        if state == "initialising":  # stopped before its first chunk was written
            shutil.rmtree(self.path)
            return
        found = _differences(stored, self.settings)
        if found:
            raise StoreMismatch(
                f"{self.path}: the store holds a run with other settings ({'; '.join(found)}); "
                "a run resumes only with the same scenario, seed, draws, chunk_draws, "
                "resolution and variables: give another path to start a new run")
        self.group = group

    @property
    def exists(self) -> bool:
        """Whether the store has been created (its first chunk arrived)."""
        return self.group is not None

    def done(self) -> set[int]:
        """Indices (in the plan) of the chunks already written.

        Returns
        -------
        set of int
        """
        if self.group is None:
            return set()
        try:
            marks = np.asarray(self.group["done"][:])
        except Exception:  # noqa: BLE001 - a mark cut short by SIGKILL: read one by one
            marks = np.zeros(len(self.plan), dtype=np.uint8)
            for i in range(len(self.plan)):
                try:
                    marks[i] = self.group["done"][i]
                except Exception:  # noqa: BLE001
                    marks[i] = 0
        return {int(i) for i in np.flatnonzero(marks)}

    @property
    def order(self) -> list[str]:
        """The result variables in the order of the Dataset of :func:`sibsim.simulate`."""
        return json.loads(self.group.attrs["order"]) if self.group is not None else []

    @property
    def complete(self) -> bool:
        """Whether every chunk is written and the summaries are final."""
        return self.group is not None and self.group.attrs.get("state") == "complete"

    # -- writing ---------------------------------------------------------------------------

    def create(self, first: xr.Dataset, counts: dict) -> None:
        """Create the store from the run's first finished chunk (metadata and fixed parts).

        Parameters
        ----------
        first : xarray.Dataset
            A chunk's Dataset: its variables, coordinates and attributes shape the store.
        counts : dict
            The chunk's counts towards the summaries (their shapes shape the store).

        Returns
        -------
        None
        """
        import dask.array as da

        from sibsim.engine.chunks import SUMMARIES

        draws = self.settings["draws"]
        chunk = self.settings["chunk_draws"]
        group = self.zarr.open_group(str(self.path), mode="w", zarr_format=2)
        progress = group.create_group(PROGRESS)
        progress.attrs.update({"settings": json.dumps(self.settings), "state": "initialising",
                               "order": json.dumps(list(first.data_vars))})
        progress.create_array("done", shape=(len(self.plan),), chunks=(1,), dtype="uint8",
                              fill_value=0)
        for name, parts in counts.items():
            for key, value in parts.items():
                value = np.asarray(value)
                progress.create_array(f"counts_{name}_{key}", shape=(len(self.plan),
                                      *value.shape), chunks=(1, *value.shape),
                                      dtype=value.dtype, fill_value=0)
        template, encoding = xr.Dataset(attrs=dict(first.attrs, draws=int(draws))), {}
        for name, coord in first.coords.items():
            values = np.arange(draws) if name == "draw" else coord.values
            template.coords[name] = (coord.dims, values, dict(coord.attrs))
        for name, variable in first.data_vars.items():
            if "draw" in variable.dims:
                shape = (draws, *variable.shape[1:])
                lazy = da.zeros(shape, dtype=variable.dtype, chunks=(chunk, *variable.shape[1:]))
                template[name] = (variable.dims, lazy, dict(variable.attrs))
                encoding[name] = {"chunks": (chunk, *variable.shape[1:])}
            elif name in SUMMARIES:  # final once every chunk is in
                template[name] = (variable.dims, np.full(variable.shape, np.nan),
                                  dict(variable.attrs))
            else:
                template[name] = variable
        template.to_zarr(str(self.path), mode="a", compute=False, encoding=encoding,
                         zarr_format=2, consolidated=True)
        progress.attrs["state"] = "ready"
        self.group = self._progress()

    def write(self, index: int, dataset: xr.Dataset, counts: dict) -> None:
        """Write chunk ``index`` of the plan and mark it done.

        Parameters
        ----------
        index : int
        dataset : xarray.Dataset
            The chunk's Dataset (draws ``plan[index]``).
        counts : dict
            Its counts towards the summaries.

        Returns
        -------
        None
        """
        start, stop = self.plan[index]
        fixed = [name for name in dataset.variables if "draw" not in dataset[name].dims]
        region = dataset.drop_vars(fixed)
        region.attrs = {}
        region.to_zarr(str(self.path), region={"draw": slice(start, stop)}, mode="r+",
                       zarr_format=2, consolidated=False)
        with deferred_signals():
            for name, parts in counts.items():
                for key, value in parts.items():
                    self.group[f"counts_{name}_{key}"][index] = np.asarray(value)
            self.group["done"][index] = 1

    def finish(self) -> None:
        """Write the summaries over all draws from every chunk's counts; mark the run complete.

        Returns
        -------
        None
        """
        from sibsim.engine.chunks import SUMMARIES

        root = self.zarr.open_group(str(self.path), mode="r+", zarr_format=2,
                                    use_consolidated=False)
        for name, summary in SUMMARIES.items():
            prefix = f"counts_{name}_"
            keys = [key for key in self.group.array_keys() if key.startswith(prefix)]
            if not keys or name not in root.array_keys():
                continue
            counts = {key[len(prefix):]: np.asarray(self.group[key][:]).sum(axis=0)
                      for key in keys}
            root[name][...] = summary.finish(counts).astype(root[name].dtype)
        self.group.attrs["state"] = "complete"
