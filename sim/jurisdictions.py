"""Jurisdictions (seed 5.3, 7.5, 9.8): who lives where, who is licensed where, whose rules.

A scenario may declare jurisdictions (``scenario.jurisdictions``). Each has its own
regulator (a :class:`sim.agents.Regulator` with its own policy), a share of the users,
who live there for the whole run, and a share of the initial platforms, licensed there.
A platform is supervised by the regulator of its licence and follows that regulator's
rules (disclosure floor, custody, compliance cost, penalties); ``cross_border.service``
says whom it may serve, a platform may move its licence where the rules cost it less
(:func:`relocate`), and regulators may pass on what their early warning sees of foreign
licensees serving their residents (:class:`FlagSharing`) and join the licensing regulator
to inspect them (:func:`joint_inspections`). With no jurisdictions declared
there is one, whose regulator is the run's ``regulator``: every array here is then zeros
and every rule a number, so the model runs exactly as it did before jurisdictions existed.
"""

import dataclasses

import numpy as np

from sim.config import LEVER_INDEX, WEEKS_PER_YEAR, Config, RegulatorConfig
from sim.deterrence import violation_surplus
from sim.market import Market, largest_remainder


def policies(cfg: Config) -> list[RegulatorConfig]:
    """Each jurisdiction's starting policy, in order (one, the run's, if none declared).

    A jurisdiction with a ``regime`` starts from the schema's defaults (its regime's values
    were put in ``regulator`` when the scenario file was read); one without starts from the
    run's ``regulator``. Its ``regulator`` keys then apply.
    """
    if not cfg.scenario.jurisdictions:
        return [cfg.regulator]
    found = []
    for j in cfg.scenario.jurisdictions:
        base = RegulatorConfig(regime=j.regime) if j.regime is not None else cfg.regulator
        found.append(dataclasses.replace(base, **dict(j.regulator)))
    return found


def names(cfg: Config) -> list[str]:
    """The jurisdictions' names (``["home"]`` when none is declared)."""
    return [j.name for j in cfg.scenario.jurisdictions] or ["home"]


def assign(shares: list[float], n: int, rng: np.random.Generator) -> np.ndarray:
    """Jurisdiction of each of ``n`` items: counts by largest remainder, places at random.

    The counts are the whole numbers nearest ``shares x n`` that add up to ``n`` (Hamilton's
    method), so a share is met to within one item whatever the seed.
    """
    counts = largest_remainder(np.asarray(shares, dtype=float) * n)
    labels = np.repeat(np.arange(len(shares), dtype=np.int64), counts)
    return labels[rng.permutation(n)]


def serves(
    licence: np.ndarray,
    n_jurisdictions: int,
    rule: str,
    sandboxed: np.ndarray | None = None,
    recognition: bool = False,
) -> np.ndarray:
    """``(J, P)``: may platform ``p`` take deposits from users of jurisdiction ``j``.

    ``passport``: a licence anywhere serves everywhere; ``home_only``: only at home. A
    sandbox admission (``sandboxed``) is a test under one regulator's terms, not a licence:
    it serves only at home, unless the jurisdictions recognise each other's sandbox
    (``recognition``), when the test may take in every jurisdiction's residents whatever
    the rule for licences (GFIN's cross-border testing; seed 5.3, 9.8).
    """
    home = licence[None, :] == np.arange(n_jurisdictions)[:, None]
    if rule == "passport":
        allowed = np.ones((n_jurisdictions, licence.size), dtype=bool)
    else:
        allowed = home.copy()
    if sandboxed is not None:
        tested = np.ones_like(home) if recognition else home
        allowed[:, sandboxed] = tested[:, sandboxed]
    return allowed


def rules_cost(
    market: Market,
    rows: np.ndarray,
    policies: list[RegulatorConfig],
    fines: np.ndarray,
    cfg: Config,
) -> np.ndarray:
    """``(len(rows), J)``: a platform's expected yearly cost of each jurisdiction's rules.

    The fixed cost of compliance (``compliance_cost`` x its owners' capital), the cost of
    the disclosure floor above its own disclosure (``lever_costs.disclosure`` x the gap x
    its liabilities ``L``), less what its violations are worth there net of the fines it
    can expect, ``52 s_k L`` (:func:`sim.deterrence.violation_surplus` at the expected
    fine per violation ``fines[k]``; Becker 1968). Compliant platforms gain little from
    lax rules; the others much.
    """
    pcfg = cfg.platforms
    capital = market.capital_in[rows, None]
    liabilities = market.liabilities[rows, None]
    own_disclosure = market.levers[rows, LEVER_INDEX["disclosure"]][:, None]
    compliance = market.levers[rows, LEVER_INDEX["compliance"]][:, None]
    fixed = np.array([p.compliance_cost for p in policies])[None, :] * capital
    floor = np.array([p.disclosure_mandate for p in policies])[None, :]
    disclosure = pcfg.lever_costs.disclosure * np.maximum(floor - own_disclosure, 0.0)
    surplus = violation_surplus(
        compliance, fines[None, :], pcfg.violation_temptation, pcfg.deterrence_scale
    )
    return fixed + disclosure * liabilities - WEEKS_PER_YEAR * surplus * liabilities


def relocate(
    market: Market,
    policies: list[RegulatorConfig],
    fines: np.ndarray,
    cfg: Config,
    rng: np.random.Generator,
) -> None:
    """Regulatory arbitrage (seed 7.5): platforms move their licence where rules cost less.

    Each open platform outside a sandbox reviews its licence with chance
    ``cross_border.relocation_rate`` a tick (one uniform per platform, drawn for all). A
    reviewing platform moves to the jurisdiction whose rules cost it least
    (:func:`rules_cost`), among those whose blacklist it is not on, if the yearly saving
    over ``relocation_horizon`` years exceeds the move's one-off cost,
    ``relocation_cost`` x its owners' capital, which it pays from cash (booked as a
    compliance cost). Each move is logged (``relocation``). Without a shared blacklist, a
    platform listed at home can so escape to a jurisdiction that never listed it.
    """
    rules = cfg.scenario.cross_border
    if rules.relocation_rate <= 0.0:
        return
    draws = rng.random(len(market))
    able = market.is_open & ~market.in_sandbox
    rows = np.flatnonzero(able & (draws < rules.relocation_rate))
    if rows.size == 0:
        return
    cost = rules_cost(market, rows, policies, fines, cfg)
    home = market.jurisdiction[rows]
    barred = (market.listed[rows, None] >> np.arange(len(policies))[None, :]) & 1 == 1
    barred[np.arange(rows.size), home] = False  # staying is always possible
    cost = np.where(barred, np.inf, cost)
    best = cost.argmin(axis=1)
    saving = cost[np.arange(rows.size), home] - cost[np.arange(rows.size), best]
    price = rules.relocation_cost * market.capital_in[rows]
    moves = (best != home) & (saving * rules.relocation_horizon > price)
    flows = market.this_tick.flows
    for j, to, gain, fee in zip(rows[moves], best[moves], saving[moves], price[moves], strict=True):
        paid = min(float(market.cash[j]), float(fee))
        market.cash[j] -= paid
        flows.compliance_costs += paid
        start = int(market.jurisdiction[j])
        market.jurisdiction[j] = to
        market.log(
            "relocation", platform=int(j), origin=start, destination=int(to),
            saving=float(gain), cost=paid,
        )  # fmt: skip


def residents_served(pop_platform: np.ndarray, balance: np.ndarray, home: np.ndarray,
                     n_platforms: int, n_jurisdictions: int) -> np.ndarray:  # fmt: skip
    """``(J, P)``: does platform ``p`` hold money of residents of jurisdiction ``j``."""
    held = (pop_platform >= 0) & (balance > 0.0)
    rows, slots = np.nonzero(held)
    cells = home[rows].astype(np.int64) * n_platforms + pop_platform[rows, slots]
    counts = np.bincount(cells, minlength=n_jurisdictions * n_platforms)
    return counts.reshape(n_jurisdictions, n_platforms) > 0


class FlagSharing:
    """Supervisory information sharing (seed 5.3, 9.8): early-warning flags across borders.

    A regulator cannot inspect a platform licensed abroad, but its RegTech watches the books
    of every platform that holds its residents' money. Each tick (step 5, before the
    regulators act), each regulator flags a stressed or insolvent foreign licensee serving
    its residents with its own chance ``early_warning x detection_accuracy``, as it does
    its own licensees; with chance ``cross_border.info_sharing`` the flag reaches the
    licensing regulator ``info_delay`` ticks later, and the platform is flagged there: its
    own regulator inspects it with its early-warning chance and winds it down in order if it
    is insolvent (:meth:`sim.agents.Regulator.act`). Each flag passed on is logged
    (``shared_flag``: platform, origin, destination) when it arrives.
    """

    def __init__(self, share: float, delay: int):
        self.share, self.delay = share, delay
        self.pending: list[tuple[int, int, int, int]] = []  # (due tick, platform, from, to)

    def exchange(
        self,
        market: Market,
        served: np.ndarray,
        policies: list[RegulatorConfig],
        liquidity_stress: float,
        rng: np.random.Generator,
    ) -> None:
        """Deliver the flags due, then let each regulator flag foreign licensees it watches.

        ``served``: :func:`residents_served`. Draws two uniforms per watched pair.
        """
        due = [item for item in self.pending if item[0] <= market.tick]
        self.pending = [item for item in self.pending if item[0] > market.tick]
        for _, j, origin, to in due:
            if market.is_open[j] and int(market.jurisdiction[j]) == to and not market.flagged[j]:
                market.flagged[j] = True
                market.log("shared_flag", platform=j, origin=origin, destination=to)
        if self.share <= 0.0:
            return
        owing = market.liabilities > 0
        stressed = market.cash < liquidity_stress * market.liabilities
        insolvent = owing & (market.cash + market.loans < market.liabilities)
        troubled = market.is_open & owing & ~market.flagged & (stressed | insolvent)
        for k, policy in enumerate(policies):
            watched = np.flatnonzero(served[k] & troubled & (market.jurisdiction != k))
            if watched.size == 0:
                continue
            u = rng.random((watched.size, 2))
            seen = u[:, 0] < policy.early_warning * policy.detection_accuracy
            passed = seen & (u[:, 1] < self.share)
            for j in watched[passed]:
                self.pending.append(
                    (market.tick + self.delay, int(j), k, int(market.jurisdiction[j]))
                )


def joint_inspections(
    market: Market,
    served: np.ndarray,
    regulators: list,
    rate: float,
    resolver: object,
    rng: np.random.Generator,
) -> None:
    """Joint inspections (seed 5.3, 9.8): regulators inspect foreign licensees together.

    After the regulators' own visits at step 5, each regulator joins the licensing one, with
    chance ``rate`` per tick, to inspect each open foreign licensee holding its residents'
    money (``served``: :func:`residents_served`). What they find is found with the better
    of their two detection accuracies and acted on by the licensing regulator
    (:meth:`sim.agents.Regulator.inspect_jointly`). Three uniforms per watched pair.
    """
    if rate <= 0.0:
        return
    for k, visitor in enumerate(regulators):
        watched = np.flatnonzero(served[k] & market.is_open & (market.jurisdiction != k))
        if watched.size == 0:
            continue
        u = rng.random((watched.size, 3))
        for row in np.flatnonzero(u[:, 0] < rate):
            j = int(watched[row])
            host = regulators[int(market.jurisdiction[j])]
            accuracy = max(visitor.policy.detection_accuracy, host.policy.detection_accuracy)
            host.inspect_jointly(market, j, resolver, (u[row, 1], u[row, 2]), accuracy)
