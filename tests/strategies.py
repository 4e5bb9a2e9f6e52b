"""Hypothesis strategies shared by the test modules (and by ``scripts/result_digests.py``).

Each strategy draws only the inputs its invariants are about, and its docstring says which
and why. A property test that fails at random in a fresh clone (which has no example
database to replay) is worse than none, so a strategy is constrained to the inputs that the
rule under test is meant for, never widened to inputs where the rule does not hold and then
patched with a loose tolerance.

What lives here:

- names: :func:`odd_names`, :func:`distinct_names` (site, payer, category, flow, contract
  and party names with spaces, dots, quotes, brackets and Danish letters);
- money: :func:`money`, and :func:`rounding_allowance` for the limits it passes through;
- probabilities: :func:`probabilities` (every form a transition probability may take) and
  :func:`known_probabilities` (numbers and step tables, for exact oracles);
- distributions: :func:`distributions` (a distribution and its :func:`scipy_twin`);
- scenarios: :func:`small_scenario` (with :data:`hazard_scales`, fading :func:`effects`
  and, on request, :func:`per_draw_cohort`) with :func:`any_contracts` or
  :func:`capped_contracts`, and the contract parts they are built of (:func:`contract_payers`, :func:`cap_totals`,
  :func:`financings`).

Strategies that only one test module uses stay in that module.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import numpy as np
from hypothesis import strategies as st
from scipy import stats

from sibsim.contracts import ROUNDING_TOLERANCE
from sibsim.scenario.distributions import FAMILIES, Distribution

# ------------------------------------------------------------------------------------------
# Names
# ------------------------------------------------------------------------------------------

#: Names as Danish partners write them, and a few that merely look like key-path syntax.
DANISH_NAMES = (
    "Nørre Snede", "Region Midtjylland", "St. Heddinge", 'Ærø "Øst"', "Århus C",
    "Sønderborg Kommune", "Ærø Kommune", 'Fonden "Fremtid"', "Kommune.Vest", "Aarhus-Vest",
    "Vejle's jobcenter", "bank.dk", "Å", "a.b.c", "[0]", "a[0]", "x\\y", "# not a comment",
    "a = b",
)

#: Letters, Danish letters, and every character a key path or TOML must quote or escape.
NAME_CHARACTERS = "abzæøåÆØÅé .\"'-_\\[]#=0189"


def odd_names(*, exclude: Iterable[str] = ()) -> st.SearchStrategy[str]:
    """Names of sites, payers, categories, flows, contracts, outcomes and parties.

    A third each: a name from :data:`DANISH_NAMES`; text of 1-12 characters from
    :data:`NAME_CHARACTERS` (spaces, dots, quotes, brackets, backslashes, ``#`` and ``=``,
    which key paths and TOML must quote); any text of 1-8 characters (control characters,
    other scripts, emoji).

    Constrained because a name is valid only if it is not blank (whitespace only is a
    ScenarioError), and text never holds a lone surrogate (Python strings can, but UTF-8
    and so TOML cannot write one: such a "name" cannot exist in a scenario file).

    Parameters
    ----------
    exclude : iterable of str, keyword-only
        Names the test gives fixed roles to (``"provider"``, a fixed payer), which a drawn
        name must not take.

    Returns
    -------
    hypothesis strategy of str
    """
    excluded = frozenset(exclude)
    return st.one_of(
        st.sampled_from(DANISH_NAMES),
        st.text(NAME_CHARACTERS, min_size=1, max_size=12),
        st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=8),
    ).filter(lambda name: name.strip() != "" and name not in excluded)


def distinct_names(count: int, *, exclude: Iterable[str] = ()) -> st.SearchStrategy[list[str]]:
    """``count`` different :func:`odd_names` (names in one list of keys must differ).

    Parameters
    ----------
    count : int
        How many names.
    exclude : iterable of str, keyword-only
        Names none of them may take.

    Returns
    -------
    hypothesis strategy of list of str
    """
    return st.lists(odd_names(exclude=exclude), min_size=count, max_size=count, unique=True)


# ------------------------------------------------------------------------------------------
# Money
# ------------------------------------------------------------------------------------------

#: The smallest non-zero amount of money drawn: a hundredth (one øre).
SMALLEST_AMOUNT = 1e-2


def money(high: float, *, low: float = 0.0) -> st.SearchStrategy[float]:
    """Amounts in [low, high] that are 0 or at least :data:`SMALLEST_AMOUNT` in magnitude.

    Contract invariants (caps never exceeded, money only moves between parties) are about
    amounts of money: prices, costs, caps and tranche amounts of a hundredth of a krone or
    more, or exactly 0. Unbounded float strategies also draw subnormal numbers (5e-324), at
    which every product rounds to whole units of the smallest float: a return cap of 0.25
    on money drawn of 6 such units is 1.5 units and rounds to 2, a relative error of 33 %.
    Such amounts say nothing about a contract, so they are never drawn; 0 is, as an amount
    of its own (a cap of 0 binds at once).

    Parameters
    ----------
    high : float
        The largest amount.
    low : float, keyword-only
        The smallest amount (negative for a revenue, such as a tax).

    Returns
    -------
    hypothesis strategy of float
    """
    parts = []
    if low <= 0.0 <= high:
        parts.append(st.just(0.0))
    if high >= SMALLEST_AMOUNT:
        parts.append(st.floats(max(low, SMALLEST_AMOUNT), high))
    if low <= -SMALLEST_AMOUNT:
        parts.append(st.floats(low, min(high, -SMALLEST_AMOUNT)))
    return st.one_of(*parts)


def rounding_allowance(limit, money, *, limits: int = 1):
    """How far a sum of payments may pass a cumulative limit through rounding alone.

    A cumulative limit (``cap_total``, a return cap, the tranches' amount) lets a running
    sum pass it by ``ROUNDING_TOLERANCE`` of itself by design (see ``docs/contracts.rst``,
    "Rounding"); with ``limits`` such limits in a chain, each adds its share. The sums of
    monthly amounts that reach it are exact only to a few units in the last place of the
    money summed: 64 units of ``np.spacing(money)``, which for amounts near 0 is absolute
    (a subnormal amount rounds in steps of 5e-324, however small the limit).

    Parameters
    ----------
    limit : float or ndarray
        The limit.
    money : float or ndarray
        The money involved: the amounts summed (before the limit) and the limit.
    limits : int, keyword-only
        How many cumulative limits with their own rounding allowance stand in a chain.

    Returns
    -------
    float or ndarray
    """
    limit, money = np.abs(limit), np.abs(money)
    return limits * ROUNDING_TOLERANCE * limit + 64 * np.spacing(np.maximum(money, limit))


# ------------------------------------------------------------------------------------------
# Probabilities and step tables
# ------------------------------------------------------------------------------------------


@st.composite
def probabilities(draw):
    """A transition probability in each form a scenario allows: a number in [0, 0.3], a
    certain 0 or 1, a step table by months_in_state (two rows, the later one anywhere in
    [0, 1]) or a beta distribution with mean in [0.02, 0.2].

    Numbers stay at or below 0.3 (a realistic monthly hazard) so that random scenarios keep
    participants in every state for a while: with probabilities near 1 everywhere, contracts
    and flows would see only the first month or two of a spell. Certainty (0 and 1) is drawn
    on its own, as the kernel treats it apart (no hazard to compete).
    """
    kind = draw(st.sampled_from(["number", "certain", "table", "beta"]))
    if kind == "number":
        return draw(st.floats(0.0, 0.3))
    if kind == "certain":
        return draw(st.sampled_from([0.0, 1.0]))
    if kind == "table":
        return {"by_months_in_state": [[0, draw(st.floats(0.0, 0.3))],
                                       [draw(st.integers(1, 6)), draw(st.floats(0.0, 1.0))]]}
    return {"beta": {"mean": draw(st.floats(0.02, 0.2)), "sd": 0.01}}


#: A probability below certainty, for the oracles that enumerate paths.
uncertain_probability = st.floats(0.0, 0.95)

#: Later rows of a step table: up to three (months_in_state in 1..6, probability), sorted
#: by months_in_state, each months_in_state once.
step_table_rows = st.lists(st.tuples(st.integers(1, 6), uncertain_probability), max_size=3).map(
    lambda rows: dict(sorted(dict(rows).items())))


@st.composite
def known_probabilities(draw):
    """A transition probability as a number or a step table of numbers (no distribution).

    For the exact oracles, which enumerate every path by hand: the first value may be
    certain (1.0), later rows stay in [0, 0.95], and steps fall at months_in_state 1..6, so
    that a path enumeration over a horizon of 6 or 7 months passes every step.
    """
    first = draw(st.one_of(uncertain_probability, st.just(1.0)))
    if draw(st.booleans()):
        return first
    rows = draw(step_table_rows)
    return {"by_months_in_state": [[0, first], *([k, v] for k, v in rows.items())]}


# ------------------------------------------------------------------------------------------
# Distributions
# ------------------------------------------------------------------------------------------

#: Locations (normal means, uniform lows): wide, but far from where float64 spacing
#: would decide a comparison with scipy at 1e-9 relative.
finite_locations = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False,
                             allow_infinity=False)
#: Scales (sd, median, width): positive and at least 1e-2, so that quantiles differ from
#: the location by much more than the comparison's absolute tolerance of 1e-9.
positive_scales = st.floats(min_value=1e-2, max_value=1e3, allow_nan=False,
                            allow_infinity=False)


def scipy_twin(family: str, params: dict[str, float]):
    """The scipy distribution that ``Distribution(family, params)`` must equal, built from
    the family's definition here (not by sibsim).

    The shape of a triangular or PERT distribution is computed from the endpoints as given
    (``mode - low`` over ``high - low``), never from a width drawn before them: ``low +
    width`` rounds, and a mode at ``high`` would then give a shape of 1 + 2e-16, which scipy
    rejects (every moment NaN).

    Parameters
    ----------
    family : str
        A key of ``FAMILIES``.
    params : dict of str to float
        The family's parameters.

    Returns
    -------
    scipy.stats frozen distribution
    """
    if family == "normal":
        return stats.norm(params["mean"], params["sd"])
    if family == "lognormal":
        return stats.lognorm(params["sigma"], scale=params["median"])
    if family == "gamma":
        mean, sd = params["mean"], params["sd"]
        return stats.gamma((mean / sd) ** 2, scale=sd * sd / mean)
    if family == "beta":
        mean, sd = params["mean"], params["sd"]
        nu = mean * (1 - mean) / sd**2 - 1
        return stats.beta(mean * nu, (1 - mean) * nu)
    low, high = params["low"], params["high"]
    width = high - low
    if family == "uniform":
        return stats.uniform(low, width)
    mode = params["mode"]
    if family == "triangular":
        return stats.triang((mode - low) / width, low, width)
    a = 1 + 4 * (mode - low) / width
    b = 1 + 4 * (high - mode) / width
    return stats.beta(a, b, loc=low, scale=width)


@st.composite
def distributions(draw) -> tuple[Distribution, object]:
    """A valid Distribution of any family and its :func:`scipy_twin`.

    Parameters are drawn where the family is well defined and scipy is accurate to 1e-9: a
    lognormal sigma in [0.01, 2], a beta mean in [0.02, 0.98] with an sd below its largest
    possible value (sqrt(mean (1 - mean))), a range of width at least 1e-2 with a PERT or
    triangular mode inside it (at either end included).
    """
    family = draw(st.sampled_from(list(FAMILIES)))
    if family in ("normal", "gamma"):
        first = draw(finite_locations if family == "normal" else positive_scales)
        params = {"mean": first, "sd": draw(positive_scales)}
    elif family == "lognormal":
        params = {"median": draw(positive_scales), "sigma": draw(st.floats(0.01, 2.0))}
    elif family == "beta":
        mean = draw(st.floats(0.02, 0.98))
        params = {"mean": mean, "sd": draw(st.floats(0.01, 0.99)) * math.sqrt(mean * (1 - mean))}
    else:
        low = draw(finite_locations)
        width = draw(positive_scales)
        params = {"low": low, "high": low + width}
        if family != "uniform":
            mode = low + draw(st.floats(0.0, 1.0)) * width
            params = {"low": low, "mode": min(max(mode, low), low + width), "high": low + width}
    return Distribution(family, params), scipy_twin(family, params)


# ------------------------------------------------------------------------------------------
# Small random scenarios
# ------------------------------------------------------------------------------------------

#: Payers and states of :func:`small_scenario` (the first n of them).
PAYERS = ("municipality", "state", "region")
STATES = ("benefits", "employed", "education")

ContractsOf = Callable[[dict], st.SearchStrategy[list[dict]]]


#: A transition's hazard_scale: 0 (switched off), a number in [0.5, 2] or a lognormal
#: around 1 (the baseline level uncertain by about +-30%).
hazard_scales = st.one_of(st.just(0.0), st.floats(0.5, 2.0),
                          st.just({"lognormal": {"median": 1.0, "sigma": 0.3}}))


@st.composite
def effects(draw, months: int) -> dict:
    """A programme effect over a horizon of ``months``: a ratio in [0, 3] or a lognormal,
    from month 0 or 1, to a month in the horizon or (a third of the time) to the horizon
    (no ``to_month``), and half of the time a fading effect: ``fade_from_month`` at or
    after the start (or left to its default), a half-life of 1-24 months or uniform on
    [3, 12].

    Constrained to the months a scenario of that horizon accepts (from_month < to_month
    <= months, fade_from_month >= from_month); half-lives of a month or more, as a
    programme's effect fades over months, not days.
    """
    start = draw(st.integers(0, min(1, months - 1)))
    effect = {"ratio": draw(st.one_of(st.floats(0.0, 3.0),
                                      st.just({"lognormal": {"median": 1.5, "sigma": 0.3}}))),
              "from_month": start}
    if draw(st.integers(0, 2)):
        effect["to_month"] = draw(st.integers(start + 1, months))
    if draw(st.booleans()):
        effect["half_life_months"] = draw(st.one_of(
            st.floats(1.0, 24.0), st.just({"uniform": {"low": 3.0, "high": 12.0}})))
        if draw(st.booleans()):
            effect["fade_from_month"] = draw(st.integers(start, months))
    return effect


@st.composite
def per_draw_cohort(draw, doc: dict) -> dict:
    """``doc`` with its frailty variance, site B's multiplier and discount rate drawn per
    draw (each a distribution half of the time): a gamma variance around 0.3, a lognormal
    multiplier around 0.8, a uniform rate on [0.02, 0.05]."""
    if draw(st.booleans()):
        doc["cohort"]["frailty_variance"] = {"gamma": {"mean": 0.3, "sd": 0.15}}
    if draw(st.booleans()):
        doc["cohort"]["sites"]["B"]["multiplier"] = {"lognormal": {"median": 0.8,
                                                                   "sigma": 0.2}}
    if draw(st.booleans()):
        doc["discount_rate"] = {"uniform": {"low": 0.02, "high": 0.05}}
    return doc


@st.composite
def small_scenario(draw, *, contracts: ContractsOf, per_draw: bool = False):
    """A valid scenario small enough to simulate in milliseconds, with the contracts that
    ``contracts(doc)`` draws for it (it sees the scenario without contracts).

    6-30 months, 2-3 states, two sites (6-30 participants), any transitions between the
    states with :func:`probabilities`, frailty and effects (ratio in [0, 3] or a lognormal),
    1-3 flows with money amounts (:func:`money`, or a normal distribution) split between
    payers with a fixed share, "rest" or a step table, an economy shock now and then.

    Constrained to inputs on which simulate and settle are meant to run: the programme ends
    within the horizon (intake + programme months <= months), amounts are :func:`money`
    (never subnormal), site multipliers stay in [0.5, 1.5]. Transitions may carry a
    :data:`hazard_scales` entry and fading :func:`effects`; with ``per_draw`` the frailty
    variance, a site multiplier and the discount rate may be distributions
    (:func:`per_draw_cohort`; tests that read the discount rate as a number leave it off).
    """
    months = draw(st.integers(6, 30))
    n_states = draw(st.integers(2, 3))
    states = list(STATES[:n_states])
    programme_months = draw(st.integers(1, 3))
    intake = draw(st.integers(0, months - programme_months))
    transitions = []
    for origin in states:
        for destination in states:
            if origin == destination or not draw(st.booleans()):
                continue
            transition = {"from": origin, "to": destination, "probability": draw(probabilities()),
                          "frailty": draw(st.booleans())}
            if draw(st.booleans()):
                transition["hazard_scale"] = draw(hazard_scales)
            if draw(st.booleans()):
                transition["effect"] = draw(effects(months))
            transitions.append(transition)
    flows = []
    for f in range(draw(st.integers(1, 3))):
        payer, other = draw(st.permutations(PAYERS))[:2]
        split = draw(st.sampled_from([{payer: 1.0}, {payer: 0.3, other: "rest"},
                                      {payer: {"by_months_in_state": [[0, 0.8], [3, 0.2]]},
                                       other: "rest"}]))
        flows.append({"name": f"flow{f}", "state": draw(st.sampled_from(states)),
                      "category": draw(st.sampled_from(["benefits", "tax", "health"])),
                      "monthly": draw(st.one_of(money(2000.0, low=-500.0),
                                                st.just({"normal": {"mean": 800.0, "sd": 50.0}}))),
                      "split": split})
    doc = {
        "months": months,
        "discount_rate": draw(st.sampled_from([0.0, 0.035, 0.2])),
        "states": states,
        "cohort": {"initial_state": states[0], "intake_months": intake,
                   "prior_months": draw(st.sampled_from(
                       [0.0, 7.0, {"uniform": {"low": 0, "high": 12}}])),
                   "frailty_variance": draw(st.sampled_from([0.0, 0.4])),
                   "sites": {"A": {"size": draw(st.integers(5, 20))},
                             "B": {"size": draw(st.integers(1, 10)),
                                   "multiplier": draw(st.floats(0.5, 1.5))}}},
        "programme": {"months": programme_months,
                      "cost_per_participant": draw(money(5000.0)),
                      "fixed_cost": draw(money(5000.0))},
        "transitions": transitions,
        "flows": flows,
        "contracts": [],
    }
    if transitions and draw(st.booleans()):
        doc["economy"] = {"shock_sd": 0.2, "shock_persistence": 0.5,
                          "transitions": [[transitions[0]["from"], transitions[0]["to"]]]}
    if per_draw:
        doc = draw(per_draw_cohort(doc))
    doc["contracts"] = draw(contracts(doc))
    return doc


def contract_payers(flow_payers: list[str]) -> st.SearchStrategy[dict]:
    """Who pays a contract: one flow payer alone, two in shares, or a party that pays no
    flow (``foundation``: a payer need not carry any of the costs the contract measures).

    Parameters
    ----------
    flow_payers : list of str
        The payers of the scenario's flows (at least one).

    Returns
    -------
    hypothesis strategy of dict
        Payer name -> share (the shares sum to 1).
    """
    return st.sampled_from([{"municipality": 1.0}, {"municipality": 0.7, "state": 0.3},
                            {"foundation": 1.0}, {flow_payers[0]: 1.0}])


@st.composite
def cap_totals(draw, scale: float) -> dict:
    """``{}`` or ``{"cap_total": amount}``, the amount :func:`money` up to ``scale``
    (0 included: a cap of 0 must stop every payment)."""
    out = {}
    if draw(st.booleans()):
        out["cap_total"] = draw(money(scale))
    return out


@st.composite
def financings(draw) -> dict:
    """``{}`` or ``{"financing": ...}``: 1-3 tranches (investor, bank, fund) of 1-60000,
    some with a return cap multiple in [0.5, 2], and 0-2 guarantees of :func:`money` by the
    foundation or the state on a drawn tranche.

    Tranche amounts start at 1 (not 0): a tranche of 0 draws nothing and says nothing about
    drawing or repayment; guarantees may be 0 (a guarantee that never pays).
    """
    if not draw(st.booleans()):
        return {}
    names = draw(st.lists(st.sampled_from(["investor", "bank", "fund"]), min_size=1,
                          max_size=3, unique=True))
    tranches = []
    for name in names:
        tranche = {"party": name, "amount": draw(st.floats(1.0, 60000.0))}
        if draw(st.booleans()):
            tranche["return_cap_multiple"] = draw(st.floats(0.5, 2.0))
        tranches.append(tranche)
    guarantees = [{"party": draw(st.sampled_from(["foundation", "state"])),
                   "covers": draw(st.sampled_from(names)),
                   "amount": draw(money(20000.0))}
                  for _ in range(draw(st.integers(0, 2)))]
    return {"financing": {"tranches": tranches, "guarantees": guarantees}}


def _outcome_contract(draw, contract: dict, kind: str, doc: dict, payers: list[str]) -> dict:
    """The settings of a rate card, gain share or effect tiers contract (any_contracts)."""
    states = doc["states"]
    contract["payment_lag_months"] = draw(st.integers(0, 4))
    contract.update(draw(cap_totals(50000.0)))
    contract.update(draw(financings()))
    if kind == "rate_card":
        outcomes = []
        for o in range(draw(st.integers(1, 3))):
            counting = draw(st.sampled_from(["sustained_months", "cumulative_months"]))
            outcomes.append({"name": f"o{o}", "state": draw(st.sampled_from(states)),
                             counting: draw(st.integers(1, 8)),
                             "price": draw(money(5000.0))})
        contract["outcomes"] = outcomes
        if draw(st.booleans()):
            contract["window_months"] = draw(st.integers(1, 20))
        if draw(st.booleans()):
            contract["cap_per_participant"] = draw(money(8000.0))
        return contract
    baseline = draw(st.sampled_from(["counterfactual", "comparison_group", "historical"]))
    contract["baseline"] = baseline
    if baseline == "comparison_group":
        contract["comparison_size"] = draw(st.integers(3, 25))
    if kind == "gain_share":
        contract["share"] = draw(st.one_of(
            st.floats(0.0, 1.0), st.just({"beta": {"mean": 0.5, "sd": 0.1}})))
        contract["settle_every_months"] = draw(st.integers(1, 14))
        contract["threshold"] = draw(st.sampled_from([0.0, 0.05, 0.3]))
        contract["savings_of"] = draw(st.lists(st.sampled_from(payers), min_size=1,
                                               unique=True))
    else:
        contract["state"] = draw(st.sampled_from(states))
        contract["measure_at_month"] = draw(st.integers(1, doc["months"]))
        contract["tiers"] = [[0.0, draw(money(1000.0))],
                             [draw(st.floats(0.01, 0.5)), draw(money(9000.0))]]
    return contract


def any_contracts(doc: dict) -> st.SearchStrategy[list[dict]]:
    """1-4 contracts of any type for the scenario ``doc`` (for :func:`small_scenario`).

    Grants (foundation or state), fees for service, and rate cards, gain shares and effect
    tiers with a payment lag of 0-4 months, maybe a :func:`cap_totals` and
    :func:`financings`; rate cards with 1-3 outcomes in the scenario's states (prices
    :func:`money`), maybe a window and a cap per participant; gain shares and tiers on any
    baseline (comparison groups of 3-25), measuring savings of the flows' payers.

    Parameters
    ----------
    doc : dict
        The scenario (its states, months and flows' payers are used).

    Returns
    -------
    hypothesis strategy of list of dict
    """
    payers = list(dict.fromkeys(p for f in doc["flows"] for p in f["split"]))

    @st.composite
    def build(draw):
        contracts = []
        kinds = draw(st.lists(st.sampled_from(["grant", "fee_for_service", "rate_card",
                                               "gain_share", "effect_tiers"]),
                              min_size=1, max_size=4))
        for i, kind in enumerate(kinds):
            name = f"c{i}"
            if kind == "grant":
                contracts.append({"name": name, "type": kind,
                                  "funder": draw(st.sampled_from(["foundation", "state"]))})
                continue
            contract = {"name": name, "type": kind, "payer": draw(contract_payers(payers))}
            if kind != "fee_for_service":
                contract = _outcome_contract(draw, contract, kind, doc, payers)
            contracts.append(contract)
        return contracts

    return build()


def capped_contracts(doc: dict) -> st.SearchStrategy[list[dict]]:
    """Contracts that differ only in their caps, to compare capped with uncapped payments.

    The same rate card (1-3 outcomes in one state, prices :func:`money` up to 3000) without
    caps (``free``), with each cap alone (``per_participant``, ``total``) and with both
    (``both``); a financed rate card with one investor tranche of 1-40000 and a return cap
    multiple in [0.1, 2] and no guarantee (``financed``); a gain share with and without
    ``cap_total`` (``gain_free``, ``gain_total``). Caps are :func:`money`, so 0 (a cap that
    stops every payment) is drawn, a subnormal cap never.

    Parameters
    ----------
    doc : dict
        The scenario (its states are used).

    Returns
    -------
    hypothesis strategy of list of dict
    """

    @st.composite
    def build(draw):
        state = draw(st.sampled_from(doc["states"]))
        outcomes = [{"name": f"o{o}", "state": state,
                     draw(st.sampled_from(["sustained_months", "cumulative_months"])):
                         draw(st.integers(1, 6)),
                     "price": draw(money(3000.0))}
                    for o in range(draw(st.integers(1, 3)))]
        per_participant = draw(money(5000.0))
        total = draw(money(40000.0))
        multiple = draw(st.floats(0.1, 2.0))
        amount = draw(st.floats(1.0, 40000.0))

        def card(name, **settings):
            return {"name": name, "type": "rate_card", "payer": "municipality",
                    "outcomes": outcomes, **settings}

        gain = {"type": "gain_share", "payer": "municipality", "share": 0.5,
                "settle_every_months": draw(st.integers(1, 6))}
        return [
            card("free"),
            card("per_participant", cap_per_participant=per_participant),
            card("total", cap_total=total),
            card("both", cap_per_participant=per_participant, cap_total=total),
            card("financed", financing={"tranches": [
                {"party": "investor", "amount": amount, "return_cap_multiple": multiple}]}),
            {"name": "gain_free", **gain},
            {"name": "gain_total", "cap_total": total, **gain},
        ]

    return build()
