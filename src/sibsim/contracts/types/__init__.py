"""The contract types, one module each; :mod:`sibsim.contracts.registry` lists them.

Each module declares one :class:`~sibsim.contracts.declaration.ContractType` as
``CONTRACT_TYPE``: its name, its summary and docs paragraph, whether it is an outcome
contract, who pays the programme, its keys in a scenario (``schema``, a
:class:`~sibsim.contracts.schema_parts.ContractSchema`), its settlement and what it asks of
the engine.
"""
