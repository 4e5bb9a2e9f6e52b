"""Correlated per-draw parameters: the ``[[correlations]]`` tables as a Gaussian copula.

Each entry names two or more per-draw parameters given as distributions (by key path) and
one correlation ``rho`` for every pair of them. The normal scores z_i = Phi^-1(F_i(x_i))
of the named parameters are jointly normal with those correlations; pairs named in no
entry are uncorrelated, and every marginal distribution is kept. The parameters linked by
entries form *blocks* (the connected parts of the graph whose edges are the pairs named);
each block has its own correlation matrix, its names in document order, and is sampled
with that matrix's Cholesky factor (:mod:`sibsim.engine.params`). ``docs/scenario.rst``
documents the key, ``docs/methodology.rst`` the sampling equation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sibsim.errors import ScenarioError
from sibsim.scenario.keypath import format_path, parse_path

__all__ = ["Block", "blocks", "canonical_name", "cholesky", "named_pairs"]


@dataclass(frozen=True)
class Block:
    """Parameters whose normal scores are correlated with one another.

    Attributes
    ----------
    names : tuple of str
        Key paths, in document order.
    matrix : ndarray, shape (len(names), len(names))
        Their correlation matrix (1 on the diagonal, 0 for a pair named in no entry).
    entries : tuple of int
        The indices of the ``[[correlations]]`` entries that link them, ascending.
    """

    names: tuple[str, ...]
    matrix: np.ndarray
    entries: tuple[int, ...]


def canonical_name(name: Any) -> str | None:
    """The key path written the one way :func:`format_path` writes it; None if malformed.

    Parameters
    ----------
    name : object
        A key path such as ``'cohort.sites."Herning".multiplier'``.

    Returns
    -------
    str or None

    Examples
    --------
    >>> canonical_name('cohort.sites."Herning".multiplier')
    'cohort.sites.Herning.multiplier'
    """
    if not isinstance(name, str):
        return None
    try:
        return format_path(parse_path(name))
    except ScenarioError:
        return None


def named_pairs(entries: Sequence[Mapping]) -> dict[tuple[str, str], tuple[float, int]]:
    """Every pair of names in the entries, with its rho and the first entry that names it.

    Parameters
    ----------
    entries : sequence of dict
        Normalised ``[[correlations]]`` entries (``params`` and ``rho``).

    Returns
    -------
    dict
        ``(a, b) -> (rho, entry index)`` with ``a < b``; a pair named again keeps its first
        entry (the validation reports a second, different rho).
    """
    pairs: dict[tuple[str, str], tuple[float, int]] = {}
    for i, entry in enumerate(entries):
        names = entry["params"]
        for j, a in enumerate(names):
            for b in names[j + 1:]:
                key = (a, b) if a < b else (b, a)
                pairs.setdefault(key, (float(entry["rho"]), i))
    return pairs


def blocks(entries: Sequence[Mapping] | None, order: Sequence[str]) -> list[Block]:
    """The blocks of correlated parameters, in document order of their first name.

    Parameters
    ----------
    entries : sequence of dict or None
        Normalised ``[[correlations]]`` entries; None or empty for none.
    order : sequence of str
        Key paths in document order (:meth:`Scenario.parameters
        <sibsim.scenario.Scenario.parameters>`); every name of the entries is among them.

    Returns
    -------
    list of Block

    Examples
    --------
    >>> found = blocks([{"params": ["b", "a"], "rho": 0.5}], order=["a", "b", "c"])
    >>> found[0].names, found[0].matrix.tolist()
    (('a', 'b'), [[1.0, 0.5], [0.5, 1.0]])
    """
    if not entries:
        return []
    position = {name: i for i, name in enumerate(order)}
    parent: dict[str, str] = {}

    def root(name: str) -> str:
        while parent[name] != name:
            name = parent[name]
        return name

    for entry in entries:
        names = list(entry["params"])
        for name in names:
            parent.setdefault(name, name)
        for name in names[1:]:
            a, b = root(names[0]), root(name)
            if a != b:
                parent[max(a, b, key=position.__getitem__)] = min(a, b, key=position.__getitem__)
    members: dict[str, list[str]] = {}
    for name in sorted(parent, key=position.__getitem__):
        members.setdefault(root(name), []).append(name)
    pairs = named_pairs(entries)
    found = []
    for names in members.values():
        index = {name: i for i, name in enumerate(names)}
        matrix = np.eye(len(names))
        linked = set()
        for (a, b), (rho, entry) in pairs.items():
            if a in index:
                matrix[index[a], index[b]] = matrix[index[b], index[a]] = rho
        for i, entry in enumerate(entries):
            if entry["params"][0] in index:
                linked.add(i)
        found.append(Block(tuple(names), matrix, tuple(sorted(linked))))
    return found


def cholesky(matrix: np.ndarray) -> np.ndarray | None:
    """The lower Cholesky factor L (L L^T = matrix), or None if not positive definite.

    Parameters
    ----------
    matrix : ndarray, shape (k, k)
        A symmetric correlation matrix.

    Returns
    -------
    ndarray, shape (k, k), or None

    Examples
    --------
    >>> cholesky(np.array([[1.0, 0.6], [0.6, 1.0]])).round(3).tolist()
    [[1.0, 0.0], [0.6, 0.8]]
    >>> cholesky(np.array([[1.0, 1.0], [1.0, 1.0]])) is None
    True
    """
    try:
        factor = np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        return None
    # A factor with a vanishing pivot is singular in all but name.
    return factor if np.all(np.diag(factor) > 1e-10) else None
