"""The contracts' part of the scenario format, built from the contract-type registry.

A contract is a table whose keys depend on its ``type``. Every contract starts with ``name``
and ``type``; then come the keys its type declares (``ContractType.schema`` in its module of
:mod:`sibsim.contracts.types`), and an outcome contract also takes the keys every outcome
contract shares (``cap_total``, ``payment_lag_months`` and ``financing``). Nothing here
knows a type: :data:`CONTRACT` asks the registry (:data:`sibsim.contracts.CONTRACT_TYPES`)
for the types the first time it checks a contract, so that a new type needs nothing here.

The registry is imported lazily: the contracts package builds its schema parts from
:mod:`sibsim.scenario.kinds`, so it imports (submodules of) this package while loading.
``docs/scenario.rst`` documents every key and ``docs/contracts.rst`` how each type settles.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING

from sibsim.scenario.kinds import (
    INVALID,
    NAME,
    Choice,
    Field,
    Kind,
    Table,
    Text,
    quoted,
    suggest,
)

if TYPE_CHECKING:
    from sibsim.contracts import ContractType

__all__ = ["CONTRACT", "ContractKind", "contract_table"]


def contract_table(kind: ContractType) -> Table:
    """The table kind of one contract type: name, type, its own keys, then the outcome keys.

    Parameters
    ----------
    kind : ContractType
        The type's declaration in the registry.

    Returns
    -------
    Table

    Examples
    --------
    >>> from sibsim.contracts import CONTRACT_TYPES
    >>> first = next(iter(CONTRACT_TYPES.values()))  # the grant
    >>> list(contract_table(first).fields)
    ['name', 'type', 'funder']
    """
    from sibsim.contracts import OUTCOME_BASED_FIELDS

    head = [Field("name", NAME, required=True),
            Field("type", Choice([kind.name]), required=True)]
    tail = list(OUTCOME_BASED_FIELDS) if kind.outcome else []
    return Table(head + list(kind.schema.fields) + tail, what=f"a {kind.name} contract",
                 post=kind.schema.post)


class ContractKind(Kind):
    """One contract: a table whose keys depend on its ``type``, one per registered type."""

    @cached_property
    def tables(self) -> dict[str, Table]:
        """The table of each contract type, by type, in the registry's order."""
        from sibsim.contracts import CONTRACT_TYPES

        return {name: contract_table(kind) for name, kind in CONTRACT_TYPES.items()}

    @property
    def expected(self) -> str:  # type: ignore[override]
        return f"a table with a name and a type ({', '.join(self.tables)})"

    def check(self, value, path, ctx):
        if not isinstance(value, Mapping):
            return ctx.report(path, value, self.expected)
        kind = value.get("type")
        if kind is None:
            ctx.missing((*path, "type"), f"one of {quoted(list(self.tables))}")
        elif not isinstance(kind, str) or kind not in self.tables:
            ctx.report((*path, "type"), kind,
                       f"one of {quoted(list(self.tables))}{suggest(kind, list(self.tables))}")
        else:
            return self.tables[kind].check(value, path, ctx)
        if value.get("name") is not None:
            Text().check(value["name"], (*path, "name"), ctx)
        return INVALID

    def leaves(self, value, path):
        yield from self.tables[value["type"]].leaves(value, path)


#: The kind of one ``[[contracts]]`` entry.
CONTRACT = ContractKind()
