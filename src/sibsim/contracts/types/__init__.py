"""The contract types, one module each; :mod:`sibsim.contracts.registry` lists them.

Each module declares one :class:`~sibsim.contracts.declaration.ContractType` as
``CONTRACT_TYPE``: its name, its summary and docs paragraph, whether it is an outcome
contract, who pays the programme, its settlement and what it asks of the engine.
"""
