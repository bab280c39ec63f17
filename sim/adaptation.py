"""Strategy adaptation (MODEL.md step 9): platforms imitate better performers.

Every ``adaptation.every`` ticks each open platform compares itself with one other open
platform drawn at random and copies that platform's levers and advertised yield with the
pairwise-comparison (Fermi) probability

    p = 1 / (1 + exp(-beta (pi_other - pi_self)))

(Szabo & Toke 1998; Traulsen et al. 2006), where ``pi`` is performance since the last
round: growth of market share (``growth``) or change in equity per unit of liabilities
(``profit``). Switching costs ``switch_cost`` of liabilities and is skipped when the
platform cannot pay it. Then each lever mutates with a small chance.
"""

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.model import TrustModel


def fermi_probability(own: np.ndarray, other: np.ndarray, intensity: float) -> np.ndarray:
    """Chance of imitating ``other``: ``1 / (1 + exp(-intensity (other - own)))``."""
    return 0.5 * (1.0 + np.tanh(0.5 * intensity * (np.asarray(other) - np.asarray(own))))


def performance(model: "TrustModel", kind: str) -> np.ndarray:
    """Each platform's performance since the last adaptation round (NaN if not open)."""
    liabilities = model.liabilities
    equity = np.array([p.assets for p in model.platforms]) - liabilities
    share = liabilities / max(float(liabilities.sum()), 1e-12)
    last = model.adaptation_snapshot
    n_old = last["share"].size
    prev_share = np.append(last["share"], share[n_old:])
    prev_liab = np.append(last["liabilities"], liabilities[n_old:])
    prev_equity = np.append(last["equity"], equity[n_old:])
    if kind == "growth":
        result = share / np.maximum(prev_share, 1e-12) - 1.0
    else:
        result = (equity - prev_equity) / np.maximum(prev_liab, 1e-12)
    model.adaptation_snapshot = {"share": share, "liabilities": liabilities, "equity": equity}
    result[~model.open_mask()] = np.nan
    return result


def fermi_imitation(model: "TrustModel", rng: np.random.Generator) -> None:
    """One round of pairwise imitation with mutation over the open platforms."""
    cfg = model.cfg.adaptation
    scores = performance(model, cfg.performance)
    players = [p for p in model.platforms if p.is_open]
    if len(players) < 2:
        return
    # Everyone decides on the strategies as they stood before this round.
    levers = {p.index: p.levers.copy() for p in players}
    yields = {p.index: (p.base_yield, p.strategy) for p in players}
    for p in players:
        other = players[int(rng.integers(len(players) - 1))]
        if other is p:
            other = players[-1]
        prob = fermi_probability(scores[p.index], scores[other.index], cfg.selection_intensity)
        cost = cfg.switch_cost * model.liabilities[p.index]
        if (
            rng.random() < prob
            and p.cash >= cost
            and not np.array_equal(p.levers, levers[other.index])
        ):
            p.levers = levers[other.index].copy()
            p.base_yield, p.strategy = yields[other.index]
            p.cash -= cost
            model.flows.lever_costs += cost
            model.log_event("imitation", platform=p.index, copied=other.index)
        mutate = rng.random(p.levers.size) < cfg.mutation_rate
        noise = rng.normal(0.0, cfg.mutation_sd, p.levers.size)
        p.levers = np.clip(p.levers + mutate * noise, 0.0, 1.0)
