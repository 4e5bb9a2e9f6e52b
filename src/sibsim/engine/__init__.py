"""The engine: compiled scenario, numba kernels, ledger and the exact expectations."""

from sibsim.engine.memory import RunTooLarge
from sibsim.engine.simulate import (
    CHUNK_DRAWS,
    check_draws,
    numba_threads,
    run_group,
    run_model,
    simulate,
)
from sibsim.engine.stream import simulate_to_zarr

__all__ = ["CHUNK_DRAWS", "RunTooLarge", "check_draws", "numba_threads", "run_group", "run_model",
           "simulate", "simulate_to_zarr"]
