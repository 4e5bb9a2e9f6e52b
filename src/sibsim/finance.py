"""Investor return measures: internal rate of return and money multiple.

Both work on all draws at once. The IRR solver is bracketed and vectorised: it scans the
net present value over a fixed grid of rates for a change of sign and then bisects inside
the bracket it chose, so it never diverges and never reports a rate that is not a root.

Rates are handled through the continuously compounded monthly rate g = ln(1 + r), which maps
r in (-1, inf) onto the whole real line. The sign of the net present value
``sum_t c_t (1 + r) ** (-t)`` is evaluated as a polynomial in a number in (0, 1] with the
dominant power factored out (see ``_AlignedFlows``), so that neither rates near -1 nor long
horizons overflow.
"""

from __future__ import annotations

import numpy as np

__all__ = ["irr", "multiple", "RATE_GRID"]

#: Grid of continuously compounded per-period rates g = ln(1 + r) scanned for a sign change.
#: It runs from g = -200 (r = -1 + 1e-87) to g = 20 (r = 4.9e8 per period), log-spaced on
#: each side of 0 and containing 0 itself. Roots outside it are reported as no root.
RATE_GRID = np.concatenate(
    [-np.geomspace(200.0, 1e-6, 40), [0.0], np.geomspace(1e-6, 20.0, 40)]
)

_BISECTION_STEPS = 64  # halves the widest grid cell (about 80) to below 1e-16


class _AlignedFlows:
    """Cash flows arranged for sign-safe evaluation of the NPV at any rate.

    With x = exp(-g), the NPV is P(x) = sum_t c_t x^t. For g >= 0 (x <= 1) it is evaluated
    as x^-f P(x), with f the row's first period with a non-zero flow; for g < 0 it is
    evaluated as x^-l P(x) = sum_t c_t y^(l - t), y = exp(g) < 1, with l the row's last
    such period. Both differ from the NPV by a positive factor, so they have its sign, and
    both are polynomials in a number in (0, 1] whose leading coefficient is non-zero:
    neither overflows nor underflows to a false zero.
    """

    def __init__(self, flows: np.ndarray):
        n_rows, n_periods = flows.shape
        nonzero = flows != 0.0
        first = nonzero.argmax(axis=1)
        last = n_periods - 1 - nonzero[:, ::-1].argmax(axis=1)
        k = np.arange(n_periods)
        rows = np.arange(n_rows)[:, None]
        forward = first[:, None] + k[None, :]
        backward = last[:, None] - k[None, :]
        self.forward = np.where(
            forward < n_periods, flows[rows, np.minimum(forward, n_periods - 1)], 0.0
        )
        self.backward = np.where(backward >= 0, flows[rows, np.maximum(backward, 0)], 0.0)
        # Drop trailing all-zero powers.
        self.forward = self.forward[:, : int((last - first).max()) + 1]
        self.backward = self.backward[:, : self.forward.shape[1]]

    @staticmethod
    def _horner(coefficients: np.ndarray, z: np.ndarray) -> np.ndarray:
        """sum_k coefficients[:, k] z^k, for z of shape (rows,) or (rows, grid)."""
        extra = (slice(None),) + (None,) * (z.ndim - 1)
        acc = np.zeros(z.shape)
        for k in range(coefficients.shape[1] - 1, -1, -1):
            acc = acc * z + coefficients[extra + (k,)]
        return acc

    def sign(self, g: np.ndarray) -> np.ndarray:
        """Sign of the NPV at continuously compounded rate g, shape (rows,) or (rows, grid)."""
        positive = g >= 0.0
        at_positive = self._horner(self.forward, np.exp(-np.where(positive, g, 0.0)))
        at_negative = self._horner(self.backward, np.exp(np.where(positive, 0.0, g)))
        return np.sign(np.where(positive, at_positive, at_negative))


def irr(cashflows: np.ndarray, *, annualise: bool = True) -> np.ndarray:
    """Internal rate of return of many cash-flow streams at once.

    The per-period IRR m solves ``sum_t c_t (1 + m) ** (-t) = 0`` over m in (-1, 4.9e8].
    The solver evaluates the sign of the NPV on :data:`RATE_GRID`, picks the bracket whose
    root lies closest to a rate of 0 (the convention of ``numpy_financial.irr`` when there
    are several roots), and bisects it to machine precision.

    Parameters
    ----------
    cashflows : array_like, shape (..., periods)
        Cash flows per period (negative = money paid in, positive = money returned); the
        last axis is time, period 0 first.
    annualise : bool, keyword-only, default True
        Return the annual rate ``(1 + m) ** 12 - 1`` (periods are months). With False,
        return the per-period rate m.

    Returns
    -------
    ndarray, shape (...)
        The IRR of each stream:

        - ``-1`` when money is paid in and nothing is ever returned (no positive flow);
        - ``NaN`` when nothing is paid in (no negative flow), when every flow is 0, and when
          the NPV has no change of sign over the grid (no root, or an even number of roots
          inside one grid cell);
        - otherwise the root closest to 0.

    Examples
    --------
    >>> import numpy as np
    >>> irr(np.array([[-100.0, 0.0, 121.0]]), annualise=False).round(12)
    array([0.1])
    >>> irr(np.array([[-100.0, 0.0, 0.0], [100.0, 0.0, 0.0]]))
    array([-1., nan])
    """
    flows = np.asarray(cashflows, dtype=np.float64)
    if flows.ndim == 0:
        raise ValueError("cashflows: expected an array with time on the last axis")
    shape = flows.shape[:-1]
    flows = flows.reshape(-1, flows.shape[-1])

    paid_in = (flows < 0.0).any(axis=1)
    returned = (flows > 0.0).any(axis=1)
    g_root = np.full(flows.shape[0], np.nan)
    g_root[paid_in & ~returned] = -np.inf  # nothing returned: a rate of -1

    rows = np.flatnonzero(paid_in & returned)
    if rows.size:
        g_root[rows] = _solve_rows(flows[rows])

    if annualise:
        rate = np.expm1(12.0 * g_root)
    else:
        rate = np.expm1(g_root)
    return rate.reshape(shape)


def _solve_rows(flows: np.ndarray) -> np.ndarray:
    """Root g = ln(1 + m) of each row (each row has flows of both signs); NaN where none."""
    aligned = _AlignedFlows(flows)
    n_rows = flows.shape[0]

    # Sign of the NPV at every grid rate.
    sign = aligned.sign(np.broadcast_to(RATE_GRID, (n_rows, RATE_GRID.size)))

    # Candidates: cells with a strict change of sign, and grid points with an exact zero.
    lo_grid, hi_grid = RATE_GRID[:-1], RATE_GRID[1:]
    cell_distance = np.where(
        (lo_grid <= 0.0) & (hi_grid >= 0.0), 0.0, np.minimum(abs(lo_grid), abs(hi_grid))
    )
    cell_cost = np.where(sign[:, :-1] * sign[:, 1:] < 0.0, cell_distance, np.inf)
    point_cost = np.where(sign == 0.0, abs(RATE_GRID), np.inf)
    best_cell = cell_cost.argmin(axis=1)
    best_point = point_cost.argmin(axis=1)
    cell_best_cost = cell_cost[np.arange(n_rows), best_cell]
    point_best_cost = point_cost[np.arange(n_rows), best_point]

    root = np.full(n_rows, np.nan)
    use_point = np.isfinite(point_best_cost) & (point_best_cost <= cell_best_cost)
    root[use_point] = RATE_GRID[best_point[use_point]]

    bisect = np.isfinite(cell_best_cost) & ~use_point
    if bisect.any():
        sub = _AlignedFlows(flows[bisect])
        lo = lo_grid[best_cell[bisect]].copy()
        hi = hi_grid[best_cell[bisect]].copy()
        sign_lo = sign[bisect, best_cell[bisect]]
        for _ in range(_BISECTION_STEPS):
            mid = 0.5 * (lo + hi)
            sign_mid = sub.sign(mid)
            exact = sign_mid == 0.0
            same = sign_mid == sign_lo
            lo = np.where(same | exact, mid, lo)
            hi = np.where(~same | exact, mid, hi)
        root[bisect] = 0.5 * (lo + hi)
    return root


def multiple(drawn: np.ndarray, returned: np.ndarray) -> np.ndarray:
    """Money multiple: money returned per unit of money drawn.

    Parameters
    ----------
    drawn : array_like
        Total money drawn from the investors (undiscounted, >= 0).
    returned : array_like
        Total money returned to them (undiscounted; payments and guarantee payouts).

    Returns
    -------
    ndarray
        ``returned / drawn`` elementwise, NaN where nothing was drawn.

    Examples
    --------
    >>> multiple(np.array([100.0, 0.0]), np.array([150.0, 10.0]))
    array([1.5, nan])
    """
    drawn = np.asarray(drawn, dtype=np.float64)
    returned = np.asarray(returned, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(drawn > 0.0, returned / np.where(drawn > 0.0, drawn, 1.0), np.nan)
