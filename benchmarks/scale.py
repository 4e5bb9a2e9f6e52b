"""Benchmark of runs at scale: strong scaling on a local cluster, and peak memory by output.

Prints three tables:

1. strong scaling: the same run (the built-in scenario, keeping ``npv`` and ``params`` as
   large runs do) in this process on one thread, and on a dask LocalCluster of 1 and 2
   worker processes (one thread each), with the speed-up over one worker;
2. peak memory against draws for both outputs, each run in a fresh process (the largest
   resident memory, sampled every 5 ms, above the process after imports and compilation): ``simulate`` (results in memory) and
   ``simulate_to_zarr`` (streamed), with the estimate of :mod:`sibsim.engine.memory`;
3. (full run only) a 100,000-draw run of the built-in scenario streamed to zarr: time and
   peak memory; and how fast Ctrl-C stops a run of a cohort of 100,000.

Run from the repository root (needs ``pip install ".[distributed]"``)::

    python benchmarks/scale.py            # full run (about 10 minutes on 2 cores)
    python benchmarks/scale.py --quick    # smaller sizes, for a smoke test

The machine is shared and noisy: compare ratios measured in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = "danish-pilot"
#: What a large run keeps (the per-month variables would measure data transfer instead).
KEPT = ["npv", "params"]

MEASURE = r"""
import json, sys, threading, time
import psutil
import sibsim
from sibsim.engine import memory
args = json.loads(sys.argv[1])
import dask.array, zarr  # noqa: F401 - imported before the measurement, for both outputs
sibsim.simulate(sibsim.load_scenario(args["scenario"]), draws=3, seed=1)  # imports, compile
process = psutil.Process()
base = process.memory_info().rss
peak = [base]
running = True

def sample():
    while running:
        peak[0] = max(peak[0], process.memory_info().rss)
        time.sleep(0.005)

sampler = threading.Thread(target=sample)
sampler.start()
scenario = sibsim.load_scenario(args["scenario"])
started = time.perf_counter()
if args["output"] == "zarr":
    sibsim.simulate_to_zarr(scenario, args["store"], draws=args["draws"], seed=1,
                            progress=False)
else:
    sibsim.simulate(scenario, draws=args["draws"], seed=1, progress=False)
seconds = time.perf_counter() - started
running = False
sampler.join()
chunk = memory.chunk_draws_for(scenario, args["draws"])
found = memory.estimate(scenario, args["draws"], chunk_draws=chunk,
                        streamed=args["output"] == "zarr", in_flight=2)
print(json.dumps({"peak": peak[0] - base, "estimate": found.total, "seconds": seconds,
                  "chunk": chunk}))
"""


def _env() -> dict:
    return dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]), SIBSIM_MEMORY_LIMIT="off")


def measure(draws: int, output: str, folder: Path) -> dict:
    """Peak memory and time of one run in a fresh process."""
    store = folder / f"run-{draws}.zarr"
    shutil.rmtree(store, ignore_errors=True)
    args = {"scenario": SCENARIO, "draws": draws, "output": output, "store": str(store)}
    proc = subprocess.run([sys.executable, "-c", MEASURE, json.dumps(args)], env=_env(),
                          capture_output=True, text=True, check=True)
    shutil.rmtree(store, ignore_errors=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def strong_scaling(draws: int) -> list[tuple[str, float]]:
    """Seconds of one run: in this process (1 thread), on 1 and on 2 worker processes."""
    import sibsim
    from distributed import Client, LocalCluster

    scenario = sibsim.load_scenario(SCENARIO)
    sibsim.simulate(scenario, draws=3, seed=1)
    started = time.perf_counter()
    reference = sibsim.simulate(scenario, draws=draws, seed=1, threads=1, progress=False,
                                variables=KEPT)
    rows = [("this process, 1 thread", time.perf_counter() - started)]
    for workers in (1, 2):
        with LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None,
                          silence_logs=40) as cluster, Client(cluster) as client:
            sibsim.simulate(scenario, draws=2 * workers, seed=1, client=client)  # warm up
            started = time.perf_counter()
            result = sibsim.simulate(scenario, draws=draws, seed=1, client=client,
                                     progress=False, variables=KEPT)
            rows.append((f"cluster, {workers} worker(s)", time.perf_counter() - started))
        assert (result["npv"].values == reference["npv"].values).all()
    return rows


def interrupt_latency(folder: Path) -> float:
    """Seconds from Ctrl-C to exit, during a run of a cohort of 100,000."""
    import sibsim

    scenario = sibsim.load_scenario(SCENARIO)
    sites = scenario.sites()
    for site in sites:
        scenario = scenario.replace(f"cohort.sites.{site}.size", 100_000 // len(sites))
    path = folder / "large.toml"
    path.write_text(scenario.to_toml())
    proc = subprocess.Popen([sys.executable, "-m", "sibsim", "run", str(path), "--draws",
                             "2000", "--variables", "npv", "--out", str(folder / "large.nc")],
                            env=_env(), stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(20)
    started = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=600)
    return time.perf_counter() - started


def _mib(n: float) -> str:
    return f"{n / 2**20:8.0f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (smoke test)")
    args = parser.parse_args(argv)
    quick = args.quick
    print(f"command: python benchmarks/scale.py{' --quick' if quick else ''}")
    print(f"machine: {os.cpu_count()} cores; scenario {SCENARIO}")

    draws = 400 if quick else 8000
    print(f"\n1. Strong scaling: {draws} draws, variables {KEPT}")
    rows = strong_scaling(draws)
    base = rows[1][1]
    print(f"{'run':<26}{'seconds':>9}{'speed-up':>10}")
    for name, seconds in rows:
        print(f"{name:<26}{seconds:9.1f}{base / seconds:10.2f}")

    sizes = (500, 2000) if quick else (1000, 4000, 16000)
    print("\n2. Peak memory (MiB above the process after imports) against draws")
    print(f"{'draws':>7}{'in memory':>11}{'estimate':>10}{'zarr':>9}{'estimate':>10}"
          f"{'chunk':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for n in sizes:
            mem, zarr = measure(n, "memory", folder), measure(n, "zarr", folder)
            print(f"{n:7d}{_mib(mem['peak']):>11}{_mib(mem['estimate']):>10}"
                  f"{_mib(zarr['peak']):>9}{_mib(zarr['estimate']):>10}{zarr['chunk']:7d}")
        if not quick:
            big = measure(100_000, "zarr", folder)
            print(f"\n3. 100,000 draws streamed to zarr: {big['seconds']:.0f} s, peak "
                  f"{big['peak'] / 2**20:.0f} MiB above the process "
                  f"(estimate {big['estimate'] / 2**20:.0f} MiB, chunks of {big['chunk']})")
            print(f"   Ctrl-C during a run of a cohort of 100,000: stopped after "
                  f"{interrupt_latency(folder):.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
