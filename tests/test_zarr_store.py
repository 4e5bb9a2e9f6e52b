"""Streamed runs: a zarr store written chunk by chunk, resumed after a kill, never mixed.

The finished store opens with ``xarray.open_zarr`` as the Dataset of ``simulate`` (values,
coordinates, attributes); a run killed with SIGKILL resumes with only the missing chunks and
gives the same numbers; a store of other settings, or a folder that is not a store, is
refused without being touched.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import sibsim
from sibsim.engine import chunks, stream
from sibsim.results.zarr_store import PROGRESS, RunStore, StoreMismatch

zarr = pytest.importorskip("zarr")
pytest.importorskip("dask")

ROOT = Path(__file__).resolve().parent.parent


def same_result(got: xr.Dataset, expected: xr.Dataset) -> None:
    got = got.load()
    assert list(got.data_vars) == list(expected.data_vars)
    got.attrs = dict(got.attrs, created=expected.attrs["created"])
    xr.testing.assert_identical(got, expected)
    for name in expected.variables:
        assert np.array_equal(got[name].values, expected[name].values,
                              equal_nan=got[name].dtype.kind == "f"), name


def done_marks(store: Path) -> np.ndarray:
    group = zarr.open_group(str(store), path=PROGRESS, mode="r", zarr_format=2,
                            use_consolidated=False)
    return np.asarray(group["done"][:])


@pytest.mark.parametrize("resolution", ["month", "year"])
def test_the_store_opens_as_the_result_of_simulate(tmp_path, resolution):
    store = tmp_path / "run.zarr"
    returned = sibsim.simulate_to_zarr("danish-pilot", store, draws=23, seed=4, chunk_draws=5,
                                       resolution=resolution)
    expected = sibsim.simulate("danish-pilot", draws=23, seed=4, resolution=resolution)
    same_result(returned, expected)
    with xr.open_zarr(store) as opened:
        assert set(opened.data_vars) == set(expected.data_vars)
        assert opened["cost"].encoding["chunks"][0] == 5
        same_result(opened[list(expected.data_vars)], expected)
    assert done_marks(store).tolist() == [1] * 5


def test_variables_keep_only_the_named_ones(tmp_path):
    store = tmp_path / "npv.zarr"
    kept = sibsim.simulate_to_zarr("danish-pilot", store, draws=12, seed=1, chunk_draws=5,
                                   variables=["npv", "investor_irr_no_root"])
    expected = sibsim.simulate("danish-pilot", draws=12, seed=1,
                               variables=["npv", "investor_irr_no_root"])
    same_result(kept, expected)
    assert not (store / "cost").exists()


def test_a_finished_run_is_not_computed_again(tmp_path, monkeypatch):
    store = tmp_path / "run.zarr"
    sibsim.simulate_to_zarr("danish-pilot", store, draws=8, seed=1, chunk_draws=4)
    expected = sibsim.simulate("danish-pilot", draws=8, seed=1)
    monkeypatch.setattr(chunks, "simulate_chunk", lambda *a, **k: pytest.fail("recomputed"))
    again = sibsim.simulate_to_zarr("danish-pilot", store, draws=8, seed=1, chunk_draws=4)
    same_result(again, expected)


KILLED_RUN = """
import sys, sibsim
sibsim.simulate_to_zarr("danish-pilot", sys.argv[1], draws=60, seed=7, chunk_draws=3,
                        progress=False)
"""


def test_a_killed_run_resumes_with_only_the_missing_chunks(tmp_path, monkeypatch):
    store = tmp_path / "run.zarr"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, "-c", KILLED_RUN, str(store)], env=env)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if (store / PROGRESS / "done").exists() and proc.poll() is None:
                try:
                    if done_marks(store).sum() >= 2:
                        break
                except Exception:  # noqa: BLE001 - the store is being created
                    pass
            if proc.poll() is not None:
                pytest.skip("the run finished before it could be killed")
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    before = done_marks(store)
    assert 2 <= before.sum() < len(before)
    computed = []
    original = chunks.simulate_chunk

    def counting(scenario, start, stop, *args, **kwargs):
        computed.append((start, stop))
        return original(scenario, start, stop, *args, **kwargs)

    expected = sibsim.simulate("danish-pilot", draws=60, seed=7)
    monkeypatch.setattr(chunks, "simulate_chunk", counting)
    resumed = sibsim.simulate_to_zarr("danish-pilot", store, draws=60, seed=7, chunk_draws=3)
    plan = chunks.plan_chunks(60, 3)
    assert sorted(computed) == [plan[i] for i in np.flatnonzero(before == 0)]
    same_result(resumed, expected)


@pytest.mark.parametrize("change, named", [
    ({"seed": 2}, "seed 1"),
    ({"draws": 11}, "draws 10"),
    ({"chunk_draws": 3}, "chunk_draws 4"),
    ({"resolution": "year"}, "resolution 'month'"),
    ({"variables": ["npv"]}, "variables 'all'"),
    ({"scenario": "koto"}, "another scenario"),
])
def test_a_store_of_other_settings_is_refused_untouched(tmp_path, change, named):
    store = tmp_path / "run.zarr"
    settings = {"draws": 10, "seed": 1, "chunk_draws": 4}
    sibsim.simulate_to_zarr("danish-pilot", store, **settings)
    before = {p: p.stat().st_mtime_ns for p in store.rglob("*")}
    scenario = change.pop("scenario", "danish-pilot")
    if scenario == "koto":
        scenario = ROOT / "examples" / "koto_sib.toml"
    with pytest.raises(StoreMismatch, match=named):
        sibsim.simulate_to_zarr(scenario, store, **{**settings, **change})
    assert {p: p.stat().st_mtime_ns for p in store.rglob("*")} == before


def test_a_folder_that_is_not_a_store_is_refused(tmp_path):
    folder = tmp_path / "mine.zarr"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    with pytest.raises(StoreMismatch, match="not the store of a sibsim run"):
        sibsim.simulate_to_zarr("danish-pilot", folder, draws=4, seed=1)
    assert (folder / "notes.txt").read_text() == "keep me"
    file = tmp_path / "file.zarr"
    file.write_text("x")
    with pytest.raises(StoreMismatch, match="it is a file"):
        sibsim.simulate_to_zarr("danish-pilot", file, draws=4, seed=1)


def test_an_empty_folder_becomes_the_store(tmp_path):
    folder = tmp_path / "empty.zarr"
    folder.mkdir()
    same_result(sibsim.simulate_to_zarr("danish-pilot", folder, draws=4, seed=1),
                sibsim.simulate("danish-pilot", draws=4, seed=1))


def test_a_store_stopped_while_being_created_starts_again(tmp_path):
    store = tmp_path / "run.zarr"
    scenario = sibsim.load_scenario("danish-pilot")
    plan = chunks.plan_chunks(6, 3)
    settings = stream._settings(scenario, 6, 1, 3, "month", None)
    group = zarr.open_group(str(store), mode="w", zarr_format=2)
    group.create_group(PROGRESS).attrs.update({"settings": json.dumps(settings),
                                               "state": "initialising"})
    assert RunStore(store, settings, plan).done() == set()
    same_result(sibsim.simulate_to_zarr(scenario, store, draws=6, seed=1, chunk_draws=3),
                sibsim.simulate(scenario, draws=6, seed=1))


def test_missing_extras_are_named(monkeypatch):
    import importlib

    real = importlib.import_module

    def no_zarr(name, *args):
        if name.split(".")[0] in ("zarr", "distributed"):
            raise ImportError(f"No module named {name!r}")
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", no_zarr)
    with pytest.raises(ImportError, match=r'pip install "sibsim\[distributed\]"'):
        sibsim.simulate_to_zarr("danish-pilot", "never.zarr", draws=2)
    assert not Path("never.zarr").exists()
