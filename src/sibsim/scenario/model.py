"""The immutable :class:`Scenario`: a validated document and its key paths.

A :class:`Scenario` holds the normalised document (every default filled, see
``docs/internals.rst``) and answers questions about it: the value at a key path
(:meth:`~Scenario.get`), a changed copy (:meth:`~Scenario.replace`), the per-draw parameters
by key path (:meth:`~Scenario.parameters`, :meth:`~Scenario.uncertain`), its TOML text
(:meth:`~Scenario.to_toml`) and the names of its states, sites, payers, categories, contracts
and parties. Every key path it reads or writes goes through :mod:`sibsim.scenario.keypath`, so
a name with spaces, dots or quotes (``cohort.sites."St. Heddinge".size``) works everywhere.
"""

from __future__ import annotations

import copy
from collections.abc import Hashable, Iterator, Mapping
from typing import Any

import numpy as np

from sibsim.errors import ScenarioError
from sibsim.rules import PROVIDER, apportion
from sibsim.scenario.correlations import canonical_name
from sibsim.scenario.distributions import Distribution, is_distribution
from sibsim.scenario.keypath import format_path, get_in, parse_path, problem
from sibsim.scenario.kinds import Leaf, Path, suggest
from sibsim.scenario.limits import check_document
from sibsim.scenario.schema import SCENARIO, normalise
from sibsim.scenario.toml import toml_text, without_none

__all__ = ["Scenario"]


def _plain(value: Any) -> Any:
    """Convert an input document to plain Python: dicts, lists, str, int, float, bool.

    numpy scalars and arrays become Python numbers and lists, tuples become lists and a
    :class:`Distribution` becomes its written form. Anything else is kept as it is (and
    reported by validation).
    """
    if isinstance(value, Distribution):
        return value.to_spec()
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist()) if value.ndim else _plain(value[()])
    if isinstance(value, np.generic):
        return value.item()
    return value


def _freeze(value: Any) -> Hashable:
    """A hashable, order-preserving image of a plain document."""
    if isinstance(value, dict):
        return ("{", tuple((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("[", tuple(_freeze(v) for v in value))
    return value


class Scenario:
    """A validated, immutable scenario.

    Build one with :func:`~sibsim.scenario.load_scenario`; ``Scenario(document)`` validates a
    plain dict.

    Parameters
    ----------
    document : mapping
        The scenario as a dict with the keys of ``docs/scenario.rst`` (numpy numbers, tuples and
        :class:`~sibsim.scenario.distributions.Distribution` objects are accepted and converted).

    Raises
    ------
    ScenarioError
        Listing every problem found.

    Notes
    -----
    :attr:`data` is the normalised document (``docs/internals.rst``), every default filled,
    and :attr:`raw` the document as given; both return fresh deep copies, so the scenario
    cannot be changed through them. Equality and hashing follow :attr:`data`.

    Examples
    --------
    >>> s = Scenario({"months": 24, "states": ["out", "in"],
    ...               "cohort": {"initial_state": "out",
    ...                          "sites": {"Nørre Snede": {"size": 10}}},
    ...               "programme": {"months": 6}})
    >>> s.get('cohort.sites."Nørre Snede".multiplier')
    1.0
    >>> [path for path in s.parameters() if "sites" in path]
    ['cohort.sites."Nørre Snede".multiplier']
    >>> s.replace("discount_rate", 0.03).get("discount_rate")
    0.03
    """

    def __init__(self, document: Mapping[str, Any]):
        check_document(document)  # no deeper than the stack allows, no larger than readable
        raw = _plain(document)
        data = normalise(raw)
        object.__setattr__(self, "_raw", raw)
        object.__setattr__(self, "_data", data)
        object.__setattr__(self, "_key", _freeze(data))
        object.__setattr__(self, "_parameters", None)

    # -- immutability, equality, pickling ---------------------------------------------------

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a Scenario is immutable; use replace() for a changed copy")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("a Scenario is immutable")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Scenario):
            return NotImplemented
        return self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __reduce__(self) -> tuple:
        return (Scenario, (self._raw,))

    def __copy__(self) -> Scenario:
        return self

    def __deepcopy__(self, memo: dict) -> Scenario:
        return self

    def __repr__(self) -> str:
        d = self._data
        return (f"Scenario(name={d['name']!r}, months={d['months']}, states={len(d['states'])}, "
                f"sites={len(d['cohort']['sites'])}, transitions={len(d['transitions'])}, "
                f"flows={len(d['flows'])}, contracts={len(d['contracts'])})")

    # -- views ------------------------------------------------------------------------------

    @property
    def data(self) -> dict[str, Any]:
        """The normalised document, every default filled (a fresh deep copy)."""
        return copy.deepcopy(self._data)

    @property
    def _document(self) -> dict[str, Any]:
        """The normalised document itself, not a copy: for sibsim's own code, which reads it
        (never changes it) in every chunk of a run, where a deep copy each time cost about
        4% of a run of the built-in scenario."""
        return self._data

    @property
    def raw(self) -> dict[str, Any]:
        """The document as given, as plain dicts and lists (a fresh deep copy)."""
        return copy.deepcopy(self._raw)

    @property
    def name(self) -> str:
        """The scenario's name (``"unnamed"`` when none was given)."""
        return self._data["name"]

    @property
    def months(self) -> int:
        """The horizon in months."""
        return self._data["months"]

    def to_dict(self) -> dict[str, Any]:
        """The normalised document as a plain dict (same as :attr:`data`).

        Returns
        -------
        dict
            Accepted by :func:`load_scenario` (None stands for an absent optional key).
        """
        return self.data

    def to_toml(self) -> str:
        """The normalised document as TOML text.

        Returns
        -------
        str
            Every default written out, so the text does not depend on this version's
            defaults; ``load_scenario(s.to_toml()) == s``.
        """
        return toml_text(without_none(self._data))

    def get(self, path: str) -> Any:
        """The value at a key path of the normalised document.

        Parameters
        ----------
        path : str
            E.g. ``"transitions[0].effect.ratio"`` or ``"cohort.sites.Herning.size"``.

        Returns
        -------
        object
            A copy of the value: a float, int, str, bool, None, a distribution written as
            ``{family: {param: value}}``, or a dict or list.

        Raises
        ------
        ScenarioError
            When the path is malformed or names nothing in this scenario.
        """
        return copy.deepcopy(self._lookup(path))

    def _lookup(self, path: str) -> Any:
        parts = parse_path(path)
        try:
            return get_in(self._data, parts)
        except LookupError:
            known = [format_path(p) for p in _all_paths(self._data, ())]
            raise ScenarioError(problem(
                "key path", path,
                f"a key path of this scenario{suggest(path, known)}")) from None

    def replace(self, path: str, value: Any) -> Scenario:
        """A new scenario with the value at a key path replaced, validated again.

        Parameters
        ----------
        path : str
            A key path that exists in :attr:`data` (e.g. ``"contracts[1].outcomes[0].price"``,
            ``"transitions[0].probability.by_months_in_state[1][1]"``).
        value : object
            The new value: a number (Python or numpy scalar, 0-d array), a distribution
            (``{"normal": {"mean": 1, "sd": 0.1}}`` or a ``Distribution``), a string, a table
            or a list, as the key path requires.

        Returns
        -------
        Scenario

        Raises
        ------
        ScenarioError
            When the path does not exist, or the changed scenario is not valid.

        Notes
        -----
        A parameter of ``[[correlations]]`` that the new value fixes (a number where a
        distribution stood, as ``tornado`` and ``sweep`` put) leaves its correlation
        entries, and an entry left with fewer than two names is dropped: the other
        parameters keep their correlations among themselves.
        """
        parts = parse_path(path)
        self._lookup(path)  # raises if the path does not exist
        new_value = _plain(value)
        document = copy.deepcopy(self._raw)
        if not _set_in(document, parts, new_value):
            # The path runs through a default or a shorthand (a payer given as a name): edit
            # the normalised document instead, which holds every key.
            document = without_none(copy.deepcopy(self._data))
            _set_in(document, parts, new_value)
        _drop_fixed_from_correlations(document, self.uncertain())
        return Scenario(document)

    # -- parameters -------------------------------------------------------------------------

    def parameters(self) -> dict[str, Leaf]:
        """Every real-valued per-draw parameter, by key path, in document order.

        Returns
        -------
        dict of str to float or Distribution
            Numbers and distributions: discount rate, frailty variance, site multipliers,
            programme costs, economy shock, transition probabilities (each entry of a step
            table as ``...by_months_in_state[i][1]``), effect ratios, flow amounts and split
            shares, and the contracts' prices, caps, shares, thresholds, tiers
            (``tiers[i][0]`` and ``tiers[i][1]``) and financing amounts. Excludes
            ``cohort.prior_months`` (drawn per participant), whole numbers and contract payer
            shares (fixed).
        """
        if self._parameters is None:
            found = {format_path(path): leaf for path, leaf in SCENARIO.leaves(self._data, ())}
            object.__setattr__(self, "_parameters", found)
        return dict(self._parameters)

    def uncertain(self) -> dict[str, Distribution]:
        """The per-draw parameters that are distributions, by key path, in document order.

        Returns
        -------
        dict of str to Distribution
        """
        return {path: leaf for path, leaf in self.parameters().items()
                if isinstance(leaf, Distribution)}

    # -- names ------------------------------------------------------------------------------

    def states(self) -> list[str]:
        """The states, in the order given."""
        return list(self._data["states"])

    def sites(self) -> list[str]:
        """The site names, in the order given."""
        return list(self._data["cohort"]["sites"])

    def payers(self) -> list[str]:
        """The payers of the flows, in order of first appearance in the flows' splits."""
        payers: list[str] = []
        for flow in self._data["flows"]:
            payers += [p for p in flow["split"] if p not in payers]
        return payers

    def categories(self) -> list[str]:
        """The flow categories, in order of first appearance."""
        return list(dict.fromkeys(flow["category"] for flow in self._data["flows"]))

    def contract_names(self) -> list[str]:
        """The contract names, in the order given."""
        return [c["name"] for c in self._data["contracts"]]

    def parties(self) -> list[str]:
        """Every party, without duplicates.

        Returns
        -------
        list of str
            The payers of the flows, then the parties named in the contracts (funder, payer,
            tranche and guarantee parties, in order of appearance), then ``"provider"``.
        """
        # Imported here: the contracts package imports this one's validation kinds.
        from sibsim.contracts import named_parties

        names = self.payers()
        for contract in self._data["contracts"]:
            names += named_parties(contract)
        parties = [p for p in dict.fromkeys(names) if p != PROVIDER]
        return [*parties, PROVIDER]

    def comparison_sizes(self) -> list[int]:
        """The distinct comparison-group sizes that contracts measure against, ascending."""
        from sibsim.contracts import comparison_size

        sizes = (comparison_size(contract) for contract in self._data["contracts"])
        return sorted({size for size in sizes if size is not None})

    def comparison_site_sizes(self, size: int) -> dict[str, int]:
        """How a comparison group of ``size`` participants is spread over the sites.

        Parameters
        ----------
        size : int
            The group's size.

        Returns
        -------
        dict of str to int
            Participants per site, in proportion to the site sizes (largest remainder, ties
            to the earlier site); they sum to ``size``.
        """
        sites = self._data["cohort"]["sites"]
        return dict(zip(sites, apportion(int(size), [s["size"] for s in sites.values()]),
                        strict=True))


def _all_paths(value: Any, path: Path) -> Iterator[Path]:
    """Every key path inside a document (for suggestions)."""
    if path:
        yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _all_paths(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _all_paths(item, (*path, i))


def _set_in(document: Any, parts: Path, value: Any) -> bool:
    """Set a value at a key path if every container on the way exists; report success."""
    try:
        parent = get_in(document, parts[:-1])
    except LookupError:
        return False
    last = parts[-1]
    if isinstance(last, int):
        if not isinstance(parent, list) or not 0 <= last < len(parent):
            return False
    elif not isinstance(parent, dict):
        return False
    parent[last] = value
    return True


def _fixed_now(document: Any, name: Any, uncertain_before: Mapping[str, Any]) -> bool:
    """Whether a correlated name was a distribution before and is not in ``document``."""
    path = canonical_name(name)
    if path is None or path not in uncertain_before:
        return False
    try:
        return not is_distribution(get_in(document, parse_path(path)))
    except LookupError:
        return True


def _drop_fixed_from_correlations(document: dict, uncertain_before: Mapping[str, Any]) -> None:
    """Take the parameters a replacement fixed out of ``[[correlations]]`` (in place)."""
    entries = document.get("correlations")
    if not isinstance(entries, list):
        return
    kept = []
    for entry in entries:
        names = entry.get("params") if isinstance(entry, dict) else None
        if not isinstance(names, list):
            kept.append(entry)
            continue
        left = [n for n in names if not _fixed_now(document, n, uncertain_before)]
        if len(left) == len(names):
            kept.append(entry)
        elif len(left) >= 2:
            kept.append({**entry, "params": left})
    if kept:
        document["correlations"] = kept
    else:
        del document["correlations"]
