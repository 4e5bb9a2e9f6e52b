"""The per-month reference kernels of the benchmarks walk the engine's model month by month.

It uses the same generator, keyed the same way, so on the benchmark model its occupancy
counts are those of the engine except where a month-by-month sum of hazards and the
engine's closed form round differently at an exit threshold; their shares must agree.
"""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import sibsim  # noqa: E402
from sibsim.engine import compile as comp  # noqa: E402
from sibsim.engine import run_group  # noqa: E402
from sibsim.engine.params import sample_parameters  # noqa: E402


@pytest.mark.parametrize("runner", ["run_per_month", "run_lean"])
def test_per_month_reference_agrees_with_engine(runner):
    import per_month_kernel
    from engine import model

    run_per_month = getattr(per_month_kernel, runner)

    scenario = sibsim.load_scenario(model(300, months=60))
    compiled = comp.compile_scenario(scenario)
    values = sample_parameters(scenario, np.arange(8), 3)
    arrays = comp.draw_arrays(scenario, compiled, values, 3)
    occupancy, cost = run_per_month(compiled, arrays)
    engine_occupancy, engine_cost = run_group(compiled.cohort, compiled, arrays)
    enrolled = engine_occupancy.sum(axis=3)
    np.testing.assert_array_equal(occupancy.sum(axis=3), enrolled)
    shares = occupancy.sum(axis=0) / enrolled.sum(axis=0)[..., None].clip(1)
    engine_shares = engine_occupancy.sum(axis=0) / enrolled.sum(axis=0)[..., None].clip(1)
    np.testing.assert_allclose(shares, engine_shares, atol=1e-3)
    # Exits at rounding ties are rare: almost every count is the same.
    assert (occupancy == engine_occupancy).mean() > 0.99
    np.testing.assert_allclose(cost.sum(axis=(0, 2)), engine_cost.sum(axis=(0, 2)), rtol=1e-3)
