"""The user agent: a light view onto one row of the population's arrays.

User state lives in :class:`sim.population.Population` (one array per attribute) so the
user phase of a tick is vectorised; a ``User`` gives each row an identity in Mesa
(``model.agents``) and readable properties for inspection, plots and DataCollector.
"""

import mesa


class User(mesa.Agent):
    """One user; every property reads the population arrays at ``index``.

    The arrays are the model's (``model.population``, ``model.network``); a view keeps
    only its index, so a million of them stay light.
    """

    def __init__(self, model: mesa.Model, index: int):
        super().__init__(model)
        self.index = index

    @property
    def literacy(self) -> float:
        """Financial literacy in [0, 1]."""
        return float(self.model.population.literacy[self.index])

    @property
    def institutional_trust(self) -> float:
        """Trust in the sector and its supervision, in [0, 1]."""
        return float(self.model.population.institutional_trust[self.index])

    @property
    def satisfaction(self) -> float:
        """Moving average of outcomes against what was promised."""
        return float(self.model.population.satisfaction[self.index])

    @property
    def cash(self) -> float:
        """Idle investable money."""
        return float(self.model.population.cash[self.index])

    @property
    def withdraw_threshold(self) -> float:
        """Trust below which the user pulls money out of a platform."""
        return float(self.model.population.withdraw_threshold[self.index])

    @property
    def accounts(self) -> list[dict[str, float]]:
        """Open accounts: platform index, balance and trust."""
        pop = self.model.population
        trust = pop.trust_of(self.index, self.model.cfg.trust.prior_weight)
        return [
            {"platform": int(p), "balance": float(pop.balance[self.index, s]), "trust": float(t)}
            for s, (p, t) in enumerate(zip(pop.platform[self.index], trust, strict=True))
            if p >= 0
        ]

    @property
    def trust(self) -> float:
        """Balance-weighted trust in the platforms the user holds (system trust if none)."""
        accounts = self.accounts
        total = sum(a["balance"] for a in accounts)
        if total <= 0:
            return self.institutional_trust
        return sum(a["balance"] * a["trust"] for a in accounts) / total

    @property
    def neighbours(self) -> list[int]:
        """Indices of the user's contacts on the social network."""
        adj = self.model.network.adjacency
        return adj.indices[adj.indptr[self.index] : adj.indptr[self.index + 1]].tolist()
