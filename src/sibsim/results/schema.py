"""The result variables, declared once, and the one check of a result on input.

Every variable of the Dataset that :func:`sibsim.simulate` returns is declared here with its
dimensions, units and meaning (:data:`VARIABLES`). The assembly of results
(:mod:`sibsim.results.dataset`) writes them from these declarations, and every consumer of
results (summaries, analyses, plots) checks its input against them with :func:`require`,
:func:`require_label` and :func:`require_labels`, so that a malformed Dataset fails with a
message naming the function and what is missing, not with an ``xarray`` error deep inside.

The rules of a result: the sample dimension ``draw`` comes first, every dimension has
coordinates, no variable is named like a dimension, and monthly variables have ``year`` in
place of ``month`` in a result with ``resolution="year"``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from sibsim.scenario.keypath import show
from sibsim.scenario.schema import DEFAULT_CURRENCY

__all__ = ["DEFAULT_CURRENCY", "TIME_DIMS", "VARIABLES", "Variable", "currency",
           "labels", "require", "require_label", "require_labels", "to_numpy"]

#: The time dimension of monthly results and its yearly form (``resolution="year"``).
TIME_DIMS = ("month", "year")


@dataclass(frozen=True)
class Variable:
    """One result variable: its name, dimensions (in order), units and meaning.

    Parameters
    ----------
    name : str
        The variable's name in the Dataset.
    dims : tuple of str
        Its dimensions, in the order the Dataset stores them (``month`` stands for the
        time dimension, ``year`` in a yearly result).
    units : str
        The ``units`` attribute ("1", "1/year", "participants"); for an amount of money the
        default currency, "DKK": a result's money is in the scenario's currency.
    long_name : str
        The ``long_name`` attribute: what the variable means.
    money : bool, default False
        True for an amount of money, whose units are the result's currency
        (:meth:`attrs_in`).
    """

    name: str
    dims: tuple[str, ...]
    units: str
    long_name: str
    money: bool = False

    def dims_for(self, time: str = "month") -> tuple[str, ...]:
        """The dimensions with ``month`` replaced by ``time`` ("month" or "year").

        Parameters
        ----------
        time : {"month", "year"}
            The time dimension of the result.

        Returns
        -------
        tuple of str
            The dimensions in storage order.

        Examples
        --------
        >>> VARIABLES["payment"].dims_for("year")
        ('draw', 'contract', 'year')
        """
        return tuple(time if dim == "month" else dim for dim in self.dims)

    @property
    def attrs(self) -> dict[str, str]:
        """The variable's attributes in a Dataset of the default currency."""
        return self.attrs_in(DEFAULT_CURRENCY)

    def attrs_in(self, currency: str) -> dict[str, str]:
        """The variable's attributes in a Dataset: ``units`` and ``long_name``.

        Parameters
        ----------
        currency : str
            The result's currency, the units of an amount of money.

        Returns
        -------
        dict of str to str

        Examples
        --------
        >>> VARIABLES["net"].attrs_in("EUR")["units"]
        'EUR'
        """
        return {"units": currency if self.money else self.units, "long_name": self.long_name}


_DECLARED = (
    Variable("occupancy", ("draw", "arm", "month", "state"), "1",
             "share of enrolled participants in each state"),
    Variable("cost", ("draw", "arm", "month", "payer", "category"), DEFAULT_CURRENCY,
             "public cost in the month, undiscounted (comparison arm per treated-cohort "
             "size)", money=True),
    Variable("savings_npv", ("draw", "payer", "category"), DEFAULT_CURRENCY,
             "discounted counterfactual cost minus treatment cost", money=True),
    Variable("programme_cost", ("draw", "month"), DEFAULT_CURRENCY,
             "cost of the programme in the month, undiscounted", money=True),
    Variable("payment", ("draw", "contract", "month"), DEFAULT_CURRENCY,
             "outcome payments made in the month, undiscounted", money=True),
    Variable("npv", ("draw", "contract", "party"), DEFAULT_CURRENCY,
             "discounted net position of each party under each contract", money=True),
    Variable("net", ("draw", "contract", "party"), DEFAULT_CURRENCY,
             "undiscounted net position of each party under each contract", money=True),
    Variable("investor_irr", ("draw", "contract"), "1/year",
             "annualised IRR of all tranches together; NaN where none"),
    Variable("investor_multiple", ("draw", "contract"), "1",
             "money returned to tranches / money drawn from them"),
    Variable("params", ("draw", "param"), "1", "sampled value of each uncertain parameter"),
    Variable("enrolled", ("month",), "participants", "treated-cohort participants enrolled"),
    Variable("tranche_party", ("contract", "party"), "1",
             "whether the party funds a tranche of the contract"),
    Variable("investor_irr_no_root", ("contract",), "1",
             "share of draws with money drawn whose IRR has no root"),
    Variable("discount_rate", ("draw", "party"), "1/year",
             "annual rate at which each party's npv is discounted"),
    Variable("role", ("contract", "party"), "1",
             "part each party plays under each contract (investor, guarantor, payer, donor, "
             "provider, saver or none)"),
)

#: The result variables by name, in the order of the Dataset.
VARIABLES: dict[str, Variable] = {variable.name: variable for variable in _DECLARED}


def _time_dim(result: xr.Dataset) -> str:
    return "year" if "year" in result.dims and "month" not in result.dims else "month"


def _check_dims(result: xr.Dataset, name: str, function: str) -> None:
    expected = VARIABLES[name].dims_for(_time_dim(result))
    found = tuple(str(dim) for dim in result[name].dims)
    if "value" in found and "value" not in expected:
        raise ValueError(f"{function}: result is a sweep (it has a 'value' dimension); "
                         f"{function} takes one result: select one value first, e.g. "
                         "result.isel(value=0)")
    if sorted(found) != sorted(expected):
        raise ValueError(f"{function}: result variable {name!r} has dims {found}, expected "
                         f"{expected} (in any order)")


def require(result: Any, variables: Iterable[str], *, function: str,
            optional: Iterable[str] = ()) -> xr.Dataset:
    """Check that a result has the variables a function reads, with their declared dims.

    Parameters
    ----------
    result : object
        What the function was given; it must be an :class:`xarray.Dataset`.
    variables : iterable of str
        Names of :data:`VARIABLES` the function needs.
    function : str
        The public function that checks its input, named in every message.
    optional : iterable of str, keyword-only
        Names the function reads when present; checked only then.

    Returns
    -------
    xarray.Dataset
        ``result`` itself.

    Raises
    ------
    TypeError
        When ``result`` is not a Dataset.
    ValueError
        Naming ``function``, when a needed variable is missing, or a variable's dims are not
        its declared ones in some order (a sweep, with its extra ``value`` dimension, is
        named as such).

    Examples
    --------
    >>> require(xr.Dataset(), ["npv"], function="summarize")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: summarize: result has no variable 'npv' (variables: []); summarize takes ...
    """
    if not isinstance(result, xr.Dataset):
        raise TypeError(f"{function}: result: expected the xarray.Dataset returned by "
                        f"sibsim.simulate, got {type(result).__name__}")
    for name in variables:
        if name not in result.data_vars:
            raise ValueError(f"{function}: result has no variable {name!r} (variables: "
                             f"{sorted(map(str, result.data_vars))}); {function} takes the "
                             "Dataset returned by sibsim.simulate")
        _check_dims(result, name, function)
    for name in optional:
        if name in result.data_vars:
            _check_dims(result, name, function)
    return result


def currency(result: xr.Dataset) -> str:
    """The currency of a result's amounts.

    Parameters
    ----------
    result : xarray.Dataset
        A result (or a Dataset with some of its variables).

    Returns
    -------
    str
        ``result.attrs["currency"]``, else the ``units`` of its ``npv`` (or ``net``) when
        they name a currency, else :data:`DEFAULT_CURRENCY`.

    Examples
    --------
    >>> currency(xr.Dataset(attrs={"currency": "EUR"}))
    'EUR'
    """
    named = result.attrs.get("currency")
    if isinstance(named, str) and named:
        return named
    for name in ("npv", "net"):
        units = result[name].attrs.get("units") if name in result else None
        if isinstance(units, str) and len(units) == 3 and units.isalpha() and units.isupper():
            return units
    return DEFAULT_CURRENCY


def labels(result: xr.Dataset, dim: str) -> list[str]:
    """The labels of a result's dimension, as text (``contract``, ``party``, ``param``, ...).

    Parameters
    ----------
    result : xarray.Dataset
        A result.
    dim : str
        One of its dimensions.

    Returns
    -------
    list of str
        The coordinate's values, in order.
    """
    return [str(label) for label in result[dim].values]


def _labels(result: xr.Dataset, dim: str, function: str) -> list[str]:
    if dim not in result.dims and dim not in result.coords:
        raise ValueError(f"{function}: result has no {dim!r} dimension")
    return labels(result, dim)


def require_label(result: xr.Dataset, dim: str, value: Any, *, function: str,
                  option: str | None = None) -> str:
    """Check that ``value`` is one of the labels of a result's dimension.

    Parameters
    ----------
    result : xarray.Dataset
        A result already checked with :func:`require`.
    dim : str
        The dimension (``contract``, ``party``, ``state``, ``arm``, ...).
    value : object
        The label asked for.
    function : str, keyword-only
        The public function that checks its input, named in the message.
    option : str, optional, keyword-only
        The name of the argument, in the message (default: ``dim``).

    Returns
    -------
    str
        ``value``.

    Raises
    ------
    ValueError
        ``"<function>: <option>: got <value>, expected one of [...]"``.
    """
    known = _labels(result, dim, function)
    if not isinstance(value, str) or value not in known:
        raise ValueError(f"{function}: {option or dim}: got {show(value)}, expected one of "
                         f"{known}")
    return value


def require_labels(result: xr.Dataset, dim: str, values: Any, *, function: str,
                   option: str | None = None, distinct: bool = False) -> list[str]:
    """Check a list of labels of a result's dimension (one label counts as a list of one).

    Parameters
    ----------
    result : xarray.Dataset
        A result already checked with :func:`require`.
    dim : str
        The dimension.
    values : str or sequence of str
        The labels asked for.
    function : str, keyword-only
        The public function that checks its input, named in the message.
    option : str, optional, keyword-only
        The name of the argument, in the message (default: ``dim``).
    distinct : bool, keyword-only, default False
        Also require at least one label and no repeats.

    Returns
    -------
    list of str
        The labels, in the order given.

    Raises
    ------
    ValueError
        Naming the function, the argument and the first unknown label (or the repeats).
    """
    option = option or dim
    chosen = [values] if isinstance(values, str) else list(values)
    for label in chosen:
        require_label(result, dim, label, function=function, option=option)
    if distinct and (not chosen or len(set(chosen)) != len(chosen)):
        raise ValueError(f"{function}: {option}: got {show(chosen)}, expected distinct "
                         f"{dim} names from {_labels(result, dim, function)}")
    return chosen


def to_numpy(result: xr.Dataset, name: str, *, dtype: Any = np.float64,
           dims: Sequence[str] | None = None) -> np.ndarray:
    """A variable's values as a numpy array, with its axes in declared order.

    Parameters
    ----------
    result : xarray.Dataset
        A result already checked with :func:`require`.
    name : str
        The variable.
    dtype : numpy dtype, keyword-only, default float64
        The dtype of the array returned.
    dims : sequence of str, optional, keyword-only
        Another order of the axes (default: the declared one).

    Returns
    -------
    numpy.ndarray
        The values, axis i along ``dims[i]``.
    """
    order = tuple(dims) if dims is not None else VARIABLES[name].dims_for(_time_dim(result))
    return np.asarray(result[name].transpose(*order).values, dtype=dtype)
