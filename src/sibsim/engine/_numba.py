"""One place for numba options, so caching and fastmath are set consistently.

Every kernel is compiled with ``cache=True`` (the compiled code is stored next to the
source and reused by later processes) and without ``fastmath``: the model's results must
not depend on how the compiler reorders floating-point sums.
"""

from __future__ import annotations

import numba

_OPTIONS = {"cache": True, "nogil": True, "error_model": "numpy"}


def jit(func=None, **kwargs):
    """``numba.njit`` with the project's options (serial kernels and helpers)."""
    options = {**_OPTIONS, **kwargs}
    if func is None:
        return lambda f: numba.njit(**options)(f)
    return numba.njit(**options)(func)


def jit_parallel(func=None, **kwargs):
    """``numba.njit(parallel=True)`` with the project's options (kernels over draws)."""
    return jit(func, parallel=True, **kwargs)


prange = numba.prange
