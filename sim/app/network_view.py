"""The network view: a seeded sample of users at fixed positions, coloured by trust.

:func:`network_figure` draws it for any :class:`~sim.model.TrustModel` (notebooks, tests);
the page keeps one :class:`NetworkChart` per model and updates it in place each week
(see :mod:`sim.app.live`). Figures use matplotlib's object API, never ``pyplot``.
"""

import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
import networkx as nx
import numpy as np
import scipy.sparse as sp
from matplotlib.artist import Artist
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from sim.trust import beta_trust

if TYPE_CHECKING:
    from sim.model import TrustModel

SAMPLE_SIZE = 200  # users drawn in the network view when there are more
TRUST_CMAP = mpl.colormaps["RdYlBu"]  # red: distrust, yellow: unsure, blue: trust


@dataclass(frozen=True)
class NetworkSample:
    """Users shown in the network view, their links among themselves and fixed positions.

    Attributes:
        users: Indices of the sampled users in the population.
        edges: ``(m, 2)`` pairs of positions in ``users`` that are linked.
        positions: ``(len(users), 2)`` layout coordinates.
    """

    users: np.ndarray
    edges: np.ndarray
    positions: np.ndarray


def sample_network(adjacency: sp.csr_array, size: int, seed: int) -> NetworkSample:
    """A snowball sample of ``size`` users and a spring layout of it, both seeded.

    Starting from a random user, the sample grows through contacts in breadth-first
    order (neighbours taken in random order, a new random start if a component runs
    out), so it shows neighbourhoods with their links rather than scattered strangers.
    The layout is networkx's spring layout of the induced subgraph with the same seed.

    Example:
        >>> import scipy.sparse as sp
        >>> ring = sp.csr_array(sp.diags([1, 1], [1, -1], shape=(30, 30)))
        >>> sample_network(ring, 10, seed=1).users.size
        10
    """
    adjacency = sp.csr_array(adjacency)
    n = adjacency.shape[0]
    rng = np.random.default_rng(seed)
    if n <= size:
        users = np.arange(n)
    else:
        chosen: list[int] = []
        seen = np.zeros(n, dtype=bool)
        queue: list[int] = []
        while len(chosen) < size:
            if not queue:
                start = int(rng.choice(np.flatnonzero(~seen)))
                seen[start] = True
                queue.append(start)
            user = queue.pop(0)
            chosen.append(user)
            contacts = adjacency.indices[adjacency.indptr[user] : adjacency.indptr[user + 1]]
            fresh = contacts[~seen[contacts]]
            seen[fresh] = True
            queue.extend(int(c) for c in rng.permutation(fresh))
        users = np.sort(np.array(chosen))
    sub = sp.triu(adjacency[users][:, users], k=1).tocoo()
    edges = np.column_stack([sub.row, sub.col]).astype(np.int64)
    graph = nx.Graph()
    graph.add_nodes_from(range(users.size))
    graph.add_edges_from(edges.tolist())
    layout = nx.spring_layout(graph, seed=seed, iterations=60)
    positions = np.array([layout[i] for i in range(users.size)])
    return NetworkSample(users, edges, positions)


_SAMPLES: weakref.WeakKeyDictionary[Any, NetworkSample] = weakref.WeakKeyDictionary()


def network_sample(model: "TrustModel") -> NetworkSample:
    """The model's network sample, computed once per model (and kept by the page)."""
    sample = _SAMPLES.get(model)
    if sample is None:
        sample = _SAMPLES[model] = sample_network(
            model.network.adjacency, SAMPLE_SIZE, model.cfg.seed
        )
    return sample


def user_trust(model: "TrustModel", users: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each user's trust and whether they hold an account.

    A holder's trust is the balance-weighted mean of their trust in the platforms they
    hold accounts with; a user with no account shows institutional trust (in the system).
    """
    pop = model.population
    g = pop.institutional_trust[users].astype(np.float64)
    trust = beta_trust(
        pop.a[users].astype(np.float64),
        pop.b[users].astype(np.float64),
        g[:, None],
        float(model.cfg.trust.prior_weight),
    )
    weights = np.where(pop.platform[users] >= 0, pop.balance[users], 0.0)
    total = weights.sum(axis=1)
    holds = total > 0
    weighted = (trust * weights).sum(axis=1) / np.where(holds, total, 1.0)
    return np.where(holds, weighted, g), holds


def rumour_heard(model: "TrustModel", users: np.ndarray) -> np.ndarray:
    """Which of ``users`` have heard any rumour so far."""
    heard = np.zeros(users.size, dtype=bool)
    for rumour in model.market.rumours:
        heard |= rumour.heard()[users]
    return heard


class NetworkChart:
    """The sampled users at fixed positions, coloured by trust; updated in place."""

    def __init__(self, model: "TrustModel", figsize=(4.8, 4.6)):
        self.sample = network_sample(model)
        pos = self.sample.positions
        # A fixed layout (no layout engine): a full redraw then matches a blitted frame.
        self.figure = fig = Figure(figsize=figsize, dpi=100)
        self.ax = ax = fig.add_axes((0.01, 0.19, 0.8, 0.67))
        ax.add_collection(
            LineCollection(pos[self.sample.edges], colors="0.8", linewidths=0.5, zorder=1)
        )
        norm = mpl.colors.Normalize(0.0, 1.0)
        empty = np.empty((0, 2))
        self.holders = ax.scatter(empty[:, 0], empty[:, 1], marker="o", s=64, zorder=3)
        self.others = ax.scatter(empty[:, 0], empty[:, 1], marker="s", s=40, zorder=2)
        for points in (self.holders, self.others):
            points.set_cmap(TRUST_CMAP)
            points.set_norm(norm)
        fig.colorbar(
            mpl.cm.ScalarMappable(norm=norm, cmap=TRUST_CMAP),
            cax=fig.add_axes((0.84, 0.25, 0.035, 0.6)),
        ).set_label("trust: 0 none, 1 full", fontsize=11)
        ax.set_axis_off()
        pad = 0.06 * np.ptp(pos, axis=0).max() if pos.size else 1.0
        ax.set_xlim(pos[:, 0].min() - pad, pos[:, 0].max() + pad)
        ax.set_ylim(pos[:, 1].min() - pad, pos[:, 1].max() + pad)
        ax.set_aspect("equal")
        self.title = fig.text(0.45, 0.98, "", ha="center", va="top", fontsize=12.5)
        self.legend = None
        self.legend_with_rumour: bool | None = None
        self.n_users = model.population.n

    def _legend(self, with_rumour: bool) -> None:
        if with_rumour == self.legend_with_rumour:
            return
        handles = [
            Line2D([], [], ls="", marker="o", color="0.5", label="has an account: trust in it"),
            Line2D([], [], ls="", marker="s", color="0.5", label="no account: trust in system"),
        ]
        if with_rumour:
            handles.append(
                Line2D([], [], ls="", marker="o", mfc="white", mec="black", mew=1.6,
                       label="has heard the rumour")
            )  # fmt: skip
        if self.legend is not None:
            self.legend.remove()
        self.legend = self.figure.legend(
            handles=handles,
            loc="lower center",
            bbox_to_anchor=(0.45, 0.0),
            frameon=False,
            fontsize=10.5,
        )
        self.legend_with_rumour = with_rumour

    def update(self, model: "TrustModel") -> None:
        """Colour the users by this week's trust; ring those who heard a rumour."""
        users, pos = self.sample.users, self.sample.positions
        trust, holds = user_trust(model, users)
        heard = rumour_heard(model, users)
        for points, mask in ((self.holders, holds), (self.others, ~holds)):
            points.set_offsets(pos[mask])
            points.set_array(trust[mask])
            points.set_edgecolors(np.where(heard[mask], "black", "white"))
            points.set_linewidths(np.where(heard[mask], 1.8, 0.4))
        self._legend(bool(model.market.rumours))
        shown = f"{users.size:,} of {self.n_users:,} users"
        self.title.set_text(f"Who trusts whom, week {model.tick}\n({shown} and their links)")

    def dynamic(self) -> list[Artist]:
        """Artists that change every week."""
        return [self.others, self.holders, self.title]

    def background_key(self) -> Any:
        """What, when it changes, needs the static part redrawn."""
        return self.legend_with_rumour


def network_figure(model: "TrustModel") -> Figure:
    """The network view of ``model`` this week, as a standalone figure."""
    chart = NetworkChart(model)
    chart.update(model)
    return chart.figure
