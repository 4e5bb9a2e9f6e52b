"""Runs on a dask cluster of processes give the numbers of one process, bit for bit.

One LocalCluster of two worker processes (one thread each) serves the whole module. It
checks: ``simulate(client=...)`` equals ``simulate`` whatever the chunking; ``variables``
keeps only the named variables; ``simulate_to_zarr(client=...)`` writes the same store; a run
survives a worker killed in the middle (the scheduler runs its chunks again); the analyses
that re-simulate accept the client and give the same tables; ``sibsim run --scheduler``.
"""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest
import xarray as xr

import sibsim
from sibsim.cli import main

distributed = pytest.importorskip("distributed")
pytest.importorskip("zarr")

PRICE = "contracts[1].outcomes[0].price"


@pytest.fixture(scope="module")
def client():
    sibsim.simulate("danish-pilot", draws=2, seed=1)  # the kernels compiled into the cache first
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=40)
    with distributed.Client(cluster) as client:
        client.wait_for_workers(2, timeout=120)
        yield client
    cluster.close()


def same_result(got: xr.Dataset, expected: xr.Dataset) -> None:
    got = got.load()
    assert list(got.data_vars) == list(expected.data_vars)
    got.attrs = dict(got.attrs, created=expected.attrs["created"])
    xr.testing.assert_identical(got, expected)
    for name in expected.variables:
        assert np.array_equal(got[name].values, expected[name].values,
                              equal_nan=got[name].dtype.kind == "f"), name


@pytest.mark.parametrize("chunk_draws", [None, 1, 7])
def test_a_run_on_the_cluster_is_the_run_of_one_process(client, chunk_draws):
    expected = sibsim.simulate("danish-pilot", draws=30, seed=3)
    got = sibsim.simulate("danish-pilot", draws=30, seed=3, client=client,
                          chunk_draws=chunk_draws)
    same_result(got, expected)


def test_yearly_results_and_variables_on_the_cluster(client):
    expected = sibsim.simulate("danish-pilot", draws=11, seed=8, resolution="year",
                               variables=["npv", "payment", "investor_irr_no_root"])
    got = sibsim.simulate("danish-pilot", draws=11, seed=8, resolution="year", client=client,
                          chunk_draws=3, variables=["investor_irr_no_root", "payment", "npv"])
    assert list(got.data_vars) == ["payment", "npv", "investor_irr_no_root"]
    same_result(got, expected)


def test_a_store_written_from_the_cluster(client, tmp_path):
    store = tmp_path / "run.zarr"
    got = sibsim.simulate_to_zarr("danish-pilot", store, draws=25, seed=2, client=client,
                                  chunk_draws=4)
    same_result(got, sibsim.simulate("danish-pilot", draws=25, seed=2))
    with pytest.raises(ValueError, match="other settings"):
        sibsim.simulate_to_zarr("danish-pilot", store, draws=25, seed=3, client=client,
                                chunk_draws=4)


def test_a_run_survives_a_lost_worker(client, tmp_path):
    """A worker killed mid-run: its chunks run again elsewhere, the numbers do not change."""
    scenario = sibsim.load_scenario("danish-pilot")
    expected = sibsim.simulate(scenario, draws=30, seed=5)
    store = tmp_path / "lost.zarr"
    pids = list(client.run(os.getpid).values())
    killed = threading.Event()

    def kill_one() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (store / "sibsim_run" / "done").exists():
            time.sleep(0.02)
        os.kill(pids[0], 9)
        killed.set()

    thread = threading.Thread(target=kill_one)
    thread.start()
    try:
        got = sibsim.simulate_to_zarr(scenario, store, draws=30, seed=5, client=client,
                                      chunk_draws=2)
    finally:
        thread.join()
    assert killed.is_set()
    same_result(got, expected)
    client.wait_for_workers(2, timeout=120)  # the nanny has restarted it


SMALL = {
    "months": 24, "states": ["out", "in"],
    "cohort": {"initial_state": "out", "sites": {"A": {"size": 20}}},
    "programme": {"months": 6, "cost_per_participant": {"uniform": {"low": 500, "high": 900}}},
    "transitions": [{"from": "out", "to": "in", "probability": 0.05,
                     "effect": {"ratio": {"lognormal": {"median": 1.5, "sigma": 0.2}}}}],
    "flows": [{"name": "b", "state": "out", "category": "benefits", "monthly": 100.0,
               "split": {"municipality": 1.0}}],
    "contracts": [{"name": "grant", "type": "grant", "funder": "foundation"},
                  {"name": "narrow", "type": "rate_card", "payer": "municipality",
                   "outcomes": [{"name": "o", "state": "in", "sustained_months": 2,
                                 "price": 300.0}]}],
}


def test_the_analyses_accept_the_client(client):
    scenario = sibsim.load_scenario(SMALL)
    options = {"draws": 12, "seed": 2}
    swept = sibsim.sweep(scenario, PRICE, [2e4, 6e4], variables=["npv"], client=client,
                         **options)
    xr.testing.assert_identical(swept.drop_attrs(),
                                sibsim.sweep(scenario, PRICE, [2e4, 6e4], variables=["npv"],
                                             **options).drop_attrs())
    for name, run in [
        ("tornado", lambda **kw: sibsim.tornado(scenario, "narrow", "municipality", **kw)),
        ("corridor", lambda **kw: sibsim.price_corridor(
            scenario, PRICE, [2e4, 6e4], "narrow", payer="municipality", **kw)),
    ]:
        left, right = run(client=client, **options), run(**options)
        assert left.equals(right), name
        assert left.attrs == right.attrs, name


def test_sibsim_run_on_a_scheduler(client, tmp_path, capsys):
    address = client.scheduler.address
    out = tmp_path / "run.nc"
    assert main(["run", "danish-pilot", "--draws", "9", "--seed", "4", "--out", str(out),
                 "--scheduler", address, "--chunk-draws", "2"]) == 0
    store = tmp_path / "run.zarr"
    assert main(["run", "danish-pilot", "--draws", "9", "--seed", "4", "--out", str(store),
                 "--scheduler", address, "--chunk-draws", "2", "--variables", "npv,params"]) == 0
    expected = sibsim.simulate("danish-pilot", draws=9, seed=4)
    with xr.open_dataset(out, engine="h5netcdf") as saved:
        same_result(saved, expected)
    with xr.open_zarr(store) as saved:
        assert sorted(saved.data_vars) == ["npv", "params"]
        assert np.array_equal(saved["npv"].values, expected["npv"].values)
    assert "wrote" in capsys.readouterr().out


def test_an_unreachable_scheduler_is_named(tmp_path, capsys):
    out = tmp_path / "run.nc"
    code = main(["run", "danish-pilot", "--draws", "2", "--out", str(out),
                 "--scheduler", "tcp://127.0.0.1:9"])
    assert code == 2
    assert "--scheduler: cannot connect to 'tcp://127.0.0.1:9'" in capsys.readouterr().err
    assert not out.exists()
