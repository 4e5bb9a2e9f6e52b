"""Readable names of the scenario's parameters in the report's language.

:func:`_parameter_label` is the one place where the report turns a key path
(``transitions[0].effect.ratio``) into words; it asks :func:`sibsim.labels.parameter_label`,
so the report names a parameter as the tables and plots do.
"""

from __future__ import annotations

from sibsim.labels import parameter_label

__all__ = ["_parameter_label"]


def _parameter_label(scenario, path: str, lang: str) -> str:
    """A parameter's key path in words, in the report's language.

    Parameters
    ----------
    scenario : Scenario
        The scenario the path lies in.
    path : str
        The key path, as in a result's ``param`` dimension.
    lang : str
        ``"en"`` or ``"da"``.

    Returns
    -------
    str
        The label of :func:`sibsim.labels.parameter_label`.

    Examples
    --------
    >>> import sibsim
    >>> scenario = sibsim.load_scenario("danish-pilot")
    >>> _parameter_label(scenario, "programme.cost_per_participant", "da")
    'Programomkostning pr. deltager (DKK)'
    """
    return parameter_label(scenario, path, lang=lang)
