"""The engine: compiled scenario, numba kernels, ledger and the exact expectations."""

from sibsim.engine.simulate import (
    CHUNK_DRAWS,
    check_draws,
    numba_threads,
    run_group,
    run_model,
    simulate,
)

__all__ = ["CHUNK_DRAWS", "check_draws", "numba_threads", "run_group", "run_model", "simulate"]
