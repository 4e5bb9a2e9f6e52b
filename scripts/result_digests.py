"""Digests of simulation results, to show that a refactoring leaves every number unchanged.

A *case* is a scenario (as TOML text), a number of draws, a seed and a resolution. The
script simulates each case and records a SHA-256 digest of the bytes of every result
variable (and of every coordinate), plus digests of a few analyses of the built-in
scenario. ``--write`` stores them in a JSON file; ``--check`` recomputes and compares,
listing every variable whose bytes changed (a variable, attribute or column that the stored
file does not know is an addition: it is named, and does not fail the check).

The cases are the built-in scenarios, the example scenarios and a fixed set of random
small scenarios (stored as TOML in the JSON file, so the check runs on exactly the same
inputs even when the generator that made them is gone).

Run::

    python scripts/result_digests.py --write digests.json   # before a change
    python scripts/result_digests.py --check digests.json   # after it: exit 1 on any change

Digests are bit-level: compare on the same machine and library versions.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

import sibsim

ROOT = Path(__file__).resolve().parents[1]

#: Variables compared (whatever a result has of these).
SKIP_ATTRS = {"created", "sibsim_version", "python_version", "platform", "dependencies"}


def _digest_array(values: np.ndarray) -> str:
    values = np.ascontiguousarray(values)
    if values.dtype.kind in "OUS":
        payload = "\x1f".join(map(str, values.ravel())).encode()
    else:
        payload = values.tobytes()
    return hashlib.sha256(payload + str(values.shape).encode()).hexdigest()[:16]


def digest_dataset(result) -> dict[str, str]:
    """Digest of every data variable and coordinate of a Dataset (or DataFrame)."""
    import pandas as pd

    if isinstance(result, pd.DataFrame):
        return {str(c): _digest_array(result[c].to_numpy()) for c in result.columns}
    if isinstance(result, (float, int, np.floating)):
        return {"value": _digest_array(np.asarray(float(result)))}
    out = {}
    for name in sorted(result.variables):
        out[name] = _digest_array(result[name].values)
    for key in sorted(result.attrs):
        if key not in SKIP_ATTRS:
            out[f"attr:{key}"] = hashlib.sha256(str(result.attrs[key]).encode()).hexdigest()[:16]
    return out


def example_cases() -> list[dict]:
    """The built-in and example scenarios."""
    cases = []
    for name in sibsim.scenario.builtin_scenarios():
        text = sibsim.load_scenario(name).to_toml()
        cases.append({"name": f"builtin:{name}", "toml": text, "draws": 300, "seed": 1,
                      "resolution": "month"})
        cases.append({"name": f"builtin:{name}:year", "toml": text, "draws": 50, "seed": 9,
                      "resolution": "year"})
    for path in sorted((ROOT / "examples").glob("*.toml")):
        text = sibsim.load_scenario(path).to_toml()
        cases.append({"name": f"example:{path.name}", "toml": text, "draws": 100, "seed": 3,
                      "resolution": "month"})
    return cases


def random_cases(count: int) -> list[dict]:
    """Random small scenarios from the shared test strategies (tests/strategies.py), seed fixed."""
    sys.path.insert(0, str(ROOT / "tests"))
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hseed
    from strategies import any_contracts, small_scenario

    docs: list[dict] = []

    @hseed(20261201)
    @settings(max_examples=count, database=None, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(small_scenario(contracts=any_contracts))
    def collect(doc):
        docs.append(doc)

    collect()
    cases = []
    seen = set()
    for i, doc in enumerate(docs):
        text = sibsim.load_scenario(doc).to_toml()
        if text in seen:
            continue
        seen.add(text)
        cases.append({"name": f"random:{i}", "toml": text, "draws": 12, "seed": 5 + i,
                      "resolution": "month" if i % 4 else "year"})
    return cases


def analysis_digests() -> dict[str, dict[str, str]]:
    """Digests of analyses of the built-in scenario (re-simulation and exact methods)."""
    from sibsim.engine.exact import share_by_months_since_entry

    scenario = sibsim.load_scenario("danish-pilot")
    out = {}
    out["sweep"] = digest_dataset(sibsim.sweep(
        scenario, param="contracts[1].outcomes[0].price", values=[2e4, 6e4], draws=40, seed=2))
    out["tornado"] = digest_dataset(sibsim.tornado(
        scenario, contract="narrow", party="municipality", draws=40, seed=2))
    out["price_corridor"] = digest_dataset(sibsim.price_corridor(
        scenario, param="contracts[1].outcomes[0].price", values=[2e4, 6e4, 1e5],
        contract="narrow", payer="municipality", counterparty="provider",
        max_prob_loss=0.3, draws=40, seed=2))
    result = sibsim.simulate(scenario, draws=300, seed=1)
    out["summarize"] = digest_dataset(sibsim.summarize(result))
    out["sensitivity"] = digest_dataset(sibsim.sensitivity(result, contract="narrow",
                                                           party="municipality"))
    out["evpi"] = digest_dataset(sibsim.evpi(result, party="municipality"))
    out["evppi"] = digest_dataset(sibsim.evppi(result, party="municipality"))
    out["exact_share"] = digest_dataset(
        share_by_months_since_entry(scenario, arm="treatment").to_dataset(name="share"))
    return out


def compute(cases: list[dict]) -> dict[str, dict[str, str]]:
    out = {}
    for case in cases:
        result = sibsim.simulate(case["toml"], draws=case["draws"], seed=case["seed"],
                                 resolution=case["resolution"])
        out[case["name"]] = digest_dataset(result)
    out.update({f"analysis:{k}": v for k, v in analysis_digests().items()})
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", metavar="FILE", help="compute and store the digests")
    mode.add_argument("--check", metavar="FILE", help="recompute and compare (exit 1 on change)")
    parser.add_argument("--random", type=int, default=60, help="random scenarios (--write)")
    parser.add_argument("--show-new", action="store_true",
                        help="list every new digest (--check; new ones never fail the check)")
    args = parser.parse_args(argv)
    if args.write:
        cases = example_cases() + random_cases(args.random)
        digests = compute(cases)
        Path(args.write).write_text(json.dumps({"cases": cases, "digests": digests}, indent=1))
        print(f"{len(cases)} cases, {len(digests)} digests written to {args.write}")
        return 0
    stored = json.loads(Path(args.check).read_text())
    digests = compute(stored["cases"])
    changed, added = [], []
    for name, expected in stored["digests"].items():
        got = digests.get(name, {})
        for var, value in expected.items():
            if got.get(var) != value:
                changed.append(f"{name}: {var}")
        added += [f"{name}: {var}" for var in sorted(set(got) - set(expected))]
    if added:
        # New variables, attributes and columns are additions: listed, never a failure
        # (with --show-new one per line; without it only their names, once each).
        names = sorted({line.split(": ", 1)[1] for line in added})
        print(f"{len(added)} new digests (not in {args.check}), of: {', '.join(names)}")
        if args.show_new:
            print("\n".join(f"  {line}" for line in added))
    if changed:
        print(f"{len(changed)} digests differ:")
        print("\n".join(f"  {line}" for line in changed))
        return 1
    print(f"all {sum(len(v) for v in stored['digests'].values())} digests of "
          f"{len(stored['digests'])} cases identical")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
