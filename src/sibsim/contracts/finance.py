"""Investor return measures: internal rate of return and money multiple.

Both work on all draws at once. The IRR solver is bracketed and vectorised: it scans the
net present value over a fixed grid of rates for a change of sign and then narrows the
bracket it chose (false position with the Illinois modification, falling back to
bisection), so it never diverges and never reports a rate that is not a root.

Rates are handled through the continuously compounded monthly rate g = ln(1 + r), which maps
r in (-1, inf) onto the whole real line. The sign of the net present value
``sum_t c_t (1 + r) ** (-t)`` is evaluated as a polynomial in a number in (0, 1] with the
dominant power factored out (see ``_AlignedFlows``), so that neither rates near -1 nor long
horizons overflow.
"""

from __future__ import annotations

import numpy as np

__all__ = ["RATE_GRID", "irr", "multiple"]

#: Grid of continuously compounded per-period rates g = ln(1 + r) scanned for a sign change.
#: It runs from g = -200 (r = -1 + 1e-87) to g = 20 (r = 4.9e8 per period), log-spaced on
#: each side of 0 and containing 0 itself. Roots outside it are reported as no root.
RATE_GRID = np.concatenate(
    [-np.geomspace(200.0, 1e-6, 40), [0.0], np.geomspace(1e-6, 20.0, 40)]
)

#: The bracket is narrowed until it is 2**-64 of its grid cell (about 80 at the widest, so
#: below 1e-17 there), until its ends are adjacent floating-point numbers, or until the NPV
#: is exactly 0: at least as precise as 64 bisection steps.
_PRECISION_STEPS = 64

#: False-position (Illinois) steps before the narrowing falls back to bisection, which
#: then needs at most _PRECISION_STEPS more: no row takes more than _MAX_STEPS steps.
#: Smooth NPVs need 5 to 10.
_FALSE_POSITION_STEPS = 40
_MAX_STEPS = _FALSE_POSITION_STEPS + _PRECISION_STEPS + 2


def _horner_columns(columns: np.ndarray, z: np.ndarray) -> np.ndarray:
    """sum_k columns[k] z^k by Horner's rule, columns (powers, rows), z (rows,) or (rows, grid).

    Elementwise and in place, powers from the highest down: each row's value depends on
    its own coefficients and z only.
    """
    acc = np.zeros(z.shape)
    extra = (slice(None),) + (None,) * (z.ndim - 1)
    for k in range(columns.shape[0] - 1, -1, -1):
        acc *= z
        acc += columns[k][extra]
    return acc


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
        return _horner_columns(np.ascontiguousarray(coefficients.T), z)

    def on_grid(self, grid: np.ndarray) -> np.ndarray:
        """The NPV up to a positive factor per row, at every rate of ``grid``: (rows, grid).

        Each side of 0 is evaluated only in its own form (forward for g >= 0, backward for
        g < 0). The evaluation is elementwise (Horner), so a row's values depend on its own
        flows only, never on the other rows or on the machine's BLAS.
        """
        grid = np.asarray(grid, dtype=np.float64)
        positive = grid >= 0.0
        out = np.empty((self.forward.shape[0], grid.size))
        z_positive = np.broadcast_to(np.exp(-grid[positive]), (out.shape[0], positive.sum()))
        z_negative = np.broadcast_to(np.exp(grid[~positive]), (out.shape[0], (~positive).sum()))
        out[:, positive] = self._horner(self.forward, z_positive)
        out[:, ~positive] = self._horner(self.backward, z_negative)
        return out

    def at(self, g: np.ndarray, forward: np.ndarray | None = None) -> np.ndarray:
        """The NPV up to a positive factor, each row at its own rate g: shape (rows,).

        ``forward`` (rows,) says which form a row uses (default: g >= 0). A row keeps its
        form inside a bracket that does not cross 0, so its values are continuous there.
        """
        g = np.asarray(g, dtype=np.float64)
        if forward is None:
            forward = g >= 0.0
        coefficients = np.where(forward[:, None], self.forward, self.backward)
        return self._horner(coefficients, np.exp(-np.abs(g)))

    def sign(self, g: np.ndarray) -> np.ndarray:
        """Sign of the NPV at continuously compounded rate g, one per row, shape (rows,)."""
        return np.sign(self.at(g))


def irr(cashflows: np.ndarray, *, annualise: bool = True) -> np.ndarray:
    """Internal rate of return of many cash-flow streams at once.

    The per-period IRR m solves ``sum_t c_t (1 + m) ** (-t) = 0`` over m in (-1, 4.9e8].
    The solver evaluates the sign of the NPV on :data:`RATE_GRID`, picks the bracket whose
    root lies closest to a rate of 0 (the convention of ``numpy_financial.irr`` when there
    are several roots), and narrows it to machine precision (false position with the
    Illinois modification, falling back to bisection), to a rate where the NPV is 0 to
    rounding or a bracket at least as narrow as 64 bisection steps would leave.

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
    sign = np.sign(aligned.on_grid(RATE_GRID))

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

    narrow = np.isfinite(cell_best_cost) & ~use_point
    if narrow.any():
        cell = best_cell[narrow]
        root[narrow] = _narrow(aligned.forward[narrow], aligned.backward[narrow],
                               lo_grid[cell], hi_grid[cell])
    return root


def _narrow(
    forward_form: np.ndarray, backward_form: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> np.ndarray:
    """Root inside each bracket [lo, hi] whose ends have NPVs of opposite signs.

    ``forward_form`` and ``backward_form`` are the rows' coefficients of
    :class:`_AlignedFlows` (``forward`` and ``backward``).

    False position with the Illinois modification (the value kept at an end that stays
    put twice in a row is halved, so that both ends keep moving; a point that would not
    fall strictly inside the bracket is replaced by the midpoint), for at most
    ``_FALSE_POSITION_STEPS`` steps, then bisection. A grid cell never crosses 0, so each
    row keeps one form of the NPV (forward or backward) and its values are continuous in
    the bracket. A row stops at a point where the NPV is 0 to rounding (within
    ``4 eps sum_k |c_k| z^k`` of 0, the flows' own scale at the bracket), or once its
    bracket is 2**-64 of the cell or its ends are adjacent floating-point numbers (the
    root is then the bracket's midpoint). Rows that have stopped are no longer evaluated.
    """
    forward = lo >= 0.0
    # Coefficients by power (powers, rows), so that Horner's rule reads contiguous rows.
    columns = np.ascontiguousarray(np.where(forward[:, None], forward_form, backward_form).T)

    def npv(rows: np.ndarray, g: np.ndarray) -> np.ndarray:
        part = columns if rows.size == lo.size else columns[:, rows]
        return _horner_columns(part, np.exp(-np.abs(g)))

    every = np.arange(lo.size)
    a, b = lo.copy(), hi.copy()
    fa, fb = npv(every, a), npv(every, b)
    # Rounding noise of an NPV value: a few units in the last place of the flows' scale.
    magnitude = np.abs(columns)
    scale = np.maximum(_horner_columns(magnitude, np.exp(-np.abs(a))),
                       _horner_columns(magnitude, np.exp(-np.abs(b))))
    noise = 4.0 * np.finfo(np.float64).eps * scale
    resolution = (b - a) * 2.0**-_PRECISION_STEPS
    root = np.full(lo.size, np.nan)

    # The state of the rows still narrowing, compressed to those rows.
    rows = every
    last_side = np.zeros(lo.size, dtype=np.int8)  # -1: a moved last, +1: b moved last
    for step in range(_MAX_STEPS):
        mid = 0.5 * (a + b)
        done = ((b - a) <= resolution[rows]) | (mid <= a) | (mid >= b)
        root[rows[done]] = mid[done]
        keep = ~done
        if not keep.all():
            rows, a, b, fa, fb, mid = rows[keep], a[keep], b[keep], fa[keep], fb[keep], mid[keep]
            last_side = last_side[keep]
        if rows.size == 0:
            break
        with np.errstate(divide="ignore", invalid="ignore"):
            secant = (a * fb - b * fa) / (fb - fa)
        inside = (secant > a) & (secant < b)
        c = np.where((step >= _FALSE_POSITION_STEPS) | ~inside, mid, secant)
        fc = npv(rows, c)
        hit = np.abs(fc) <= noise[rows]
        root[rows[hit]] = c[hit]
        # Keep the end whose value has the opposite sign to fc (rows that hit are dropped
        # at the top of the next step: their bracket is set to [c, c]).
        move_a = np.sign(fc) == np.sign(fa)
        move_b = ~move_a
        fb = np.where(move_a & (last_side == -1), 0.5 * fb, fb)  # Illinois
        fa = np.where(move_b & (last_side == +1), 0.5 * fa, fa)
        a = np.where(move_a | hit, c, a)
        fa = np.where(move_a, fc, fa)
        b = np.where(move_b | hit, c, b)
        fb = np.where(move_b, fc, fb)
        last_side = np.where(move_a, -1, 1).astype(np.int8)
    # Rows that hit a root stopped at [c, c]: their midpoint is c itself.
    root[rows] = 0.5 * (a + b)
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
