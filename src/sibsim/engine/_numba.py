"""One place for numba options, so caching and fastmath are set consistently.

Every kernel is compiled with ``cache=True`` (the compiled code is stored next to the
source and reused by later processes) and without ``fastmath``: the model's results must
not depend on how the compiler reorders floating-point sums.

:func:`jit_borrowing` compiles a kernel without numba's reference counting of arrays. The
kernels take named records (tuples of arrays, :mod:`sibsim.engine.records`), and numba
counts every array of a record in and out each time an inlined helper binds the record to
a parameter: in a hot loop those atomic operations cost about ten times the arithmetic.
A function that allocates nothing and only uses arrays its caller holds needs no counting;
numba refuses to compile an allocation there, so the rule cannot be broken by accident.
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


def jit_borrowing(func=None, **kwargs):
    """``numba.njit`` without reference counting, for allocation-free kernels on borrowed arrays."""
    return jit(func, _nrt=False, **kwargs)


prange = numba.prange
