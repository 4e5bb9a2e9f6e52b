"""Time the trajectory kernel against edited copies of it, in one process, in turns.

On a shared machine, run-to-run noise (30-50%) hides a change of 10%; this script loads
each copy of ``src/sibsim/engine/kernels/trajectories.py`` given on the command line as a
module of its own, calls every version's ``simulate_group`` on the same group, draws and
workspace, in turns, and prints CPU time (``time.thread_time``) per participant-month, best
and median, and whether each version's occupancy and cost are bit for bit those of the
installed kernel. Only the kernel is timed: not the members' sampling, not allocation.

Run from the repository root::

    cp src/sibsim/engine/kernels/trajectories.py /tmp/variant.py   # then edit the copy
    PYTHONPATH=src python benchmarks/kernel_variants.py /tmp/variant.py
    PYTHONPATH=src python benchmarks/kernel_variants.py --scenario danish-pilot \\
        --group 200 --draws 1000 /tmp/variant.py      # the built-in scenario's comparison group

A copy must take the arguments of the installed kernel (the workspace is the installed
engine's). ``--group N`` times the comparison group of size N instead of the cohort.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))


def load_variant(path: str, index: int):
    """The kernel module in ``path``, loaded under a name of its own."""
    name = f"sibsim.engine.kernels._variant{index}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def main() -> None:
    from engine import model

    import sibsim
    from sibsim.engine import compile as comp
    from sibsim.engine.kernels import trajectories
    from sibsim.engine.kernels.effects import change_points
    from sibsim.engine.params import sample_parameters
    from sibsim.engine.records import Outputs

    engine = importlib.import_module("sibsim.engine.simulate")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="*", help="edited copies of trajectories.py")
    parser.add_argument("--scenario", help="a built-in scenario (default: the benchmark model)")
    parser.add_argument("--group", type=int, help="a comparison group's size (default: cohort)")
    parser.add_argument("--draws", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=12)
    args = parser.parse_args()

    scenario = sibsim.load_scenario(args.scenario or model(2000))
    compiled = comp.compile_scenario(scenario)
    arrays = comp.draw_arrays(scenario, compiled,
                              sample_parameters(scenario, np.arange(args.draws), 1), 1)
    group = compiled.cohort if args.group is None else compiled.comparison[args.group]
    arms = 2 if group.both_arms else 1
    members = engine._members(group, compiled, arrays)
    pairs = arrays.cost_rate.shape[3]
    points = change_points(compiled.transitions)
    work = engine.new_workspace(group, compiled, pairs, points)
    months = int((compiled.months - group.entry_month).sum()) * args.draws

    def run(module):
        out = Outputs(occupancy=np.zeros((args.draws, arms, compiled.months,
                                          len(compiled.states))),
                      cost=np.zeros((args.draws, arms, compiled.months, pairs)),
                      due=np.zeros((args.draws, len(compiled.rate_card_contracts),
                                    compiled.months)))
        start = time.thread_time()
        module.simulate_group(group, members, compiled.transitions, compiled.buckets,
                              compiled.cells, compiled.rate_cards, arrays, out, work,
                              np.int64(0), np.int64(args.draws))
        return time.thread_time() - start, out

    versions = {"installed": trajectories}
    versions.update({path: load_variant(path, i) for i, path in enumerate(args.variants)})
    for module in versions.values():
        run(module)  # compile, or load from numba's cache
    times = {name: [] for name in versions}
    outputs = {}
    for _ in range(args.repeat):
        for name, module in versions.items():
            seconds, outputs[name] = run(module)
            times[name].append(seconds)
    base = outputs["installed"]
    print(f"{months:,} participant-months per call; CPU ns per participant-month, "
          f"{args.repeat} calls each in turns")
    for name in versions:
        same = (np.array_equal(outputs[name].occupancy, base.occupancy)
                and np.array_equal(outputs[name].cost, base.cost))
        print(f"{name:44} best {min(times[name]) * 1e9 / months:6.2f}  median "
              f"{np.median(times[name]) * 1e9 / months:6.2f}  same results: {same}")


if __name__ == "__main__":
    main()
