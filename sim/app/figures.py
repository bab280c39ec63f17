"""What the page draws, as plain functions of a model (matplotlib figures, a table).

Kept apart from Solara so that notebooks and tests can call them on any
:class:`~sim.model.TrustModel`. Figures use matplotlib's object API (``Figure``), never
``pyplot``, so that drawing from the page's threads is safe.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING

import matplotlib as mpl
import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import EngFormatter

from sim.config import LEVERS
from sim.trust import beta_trust

if TYPE_CHECKING:
    from sim.model import TrustModel

SAMPLE_SIZE = 200  # users drawn in the network view when there are more
TRUST_CMAP = mpl.colormaps["RdYlBu"]  # red: distrust, yellow: unsure, blue: trust

# (panel title, y-axis label, [(column, legend label, colour)], y-limits or None)
PANELS = (
    (
        "Trust",
        "trust (0-1)",
        [
            ("trust_mean", "in own platforms", "tab:blue"),
            ("institutional_trust_mean", "in the system", "tab:purple"),
        ],
        (0.0, 1.0),
    ),
    ("Platforms open", "platforms", [("platforms_active", "open", "tab:green")], None),
    ("Rumour reach", "share of users", [("rumour_reach", "heard a rumour", "tab:red")], (0, 1)),
    ("Money users lost", "cumulative", [("user_losses_cum", "lost", "tab:brown")], None),
)
EVENT_LABELS = {
    "policy_shift": "policy",
    "registration_deadline": "deadline",
    "platform_entry": "entry",
    "education_campaign": "education",
    "fraud_collapse": "fraud collapse",
    "self_regulation": "self-regulation",
    "strategy_change": "turnaround",
    "macro_shock": "downturn",
    "data_breach": "breach",
}


# --- the network ----------------------------------------------------------------------


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


def network_sample(model: "TrustModel") -> NetworkSample:
    """The model's network sample, computed once and kept on the model."""
    sample = getattr(model, "_page_network_sample", None)
    if sample is None:
        sample = sample_network(model.network, SAMPLE_SIZE, model.cfg.seed)
        model._page_network_sample = sample
    return sample


def user_trust(model: "TrustModel", users: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each user's trust and whether they hold an account.

    A holder's trust is the balance-weighted mean of their trust in the platforms they
    hold accounts with; a user with no account shows institutional trust (in the system).
    """
    pop = model.population
    g = pop.institutional_trust[users]
    trust = beta_trust(
        pop.a[users].astype(np.float64),
        pop.b[users].astype(np.float64),
        g[:, None].astype(np.float64),
        float(model.cfg.trust.prior_weight),
    )
    weights = np.where(pop.platform[users] >= 0, pop.balance[users], 0.0)
    total = weights.sum(axis=1)
    holds = total > 0
    weighted = (trust * weights).sum(axis=1) / np.where(holds, total, 1.0)
    return np.where(holds, weighted, g), holds


def _rumour_heard(model: "TrustModel", users: np.ndarray) -> np.ndarray:
    heard = np.zeros(users.size, dtype=bool)
    for rumour in model.rumours:
        heard |= rumour.heard()[users]
    return heard


def network_figure(model: "TrustModel", figsize=(6.4, 5.6)) -> Figure:
    """The sampled users at their fixed positions, coloured by trust."""
    sample = network_sample(model)
    trust, holds = user_trust(model, sample.users)
    heard = _rumour_heard(model, sample.users)
    pos = sample.positions
    fig = Figure(figsize=figsize, dpi=100, layout="constrained")
    ax = fig.add_subplot()
    ax.add_collection(
        LineCollection(pos[sample.edges], colors="0.75", linewidths=0.5, zorder=1)
    )
    norm = mpl.colors.Normalize(0.0, 1.0)
    edge = np.where(heard, "black", "white")
    for mask, marker, size in ((holds, "o", 46), (~holds, "s", 30)):
        ax.scatter(
            pos[mask, 0],
            pos[mask, 1],
            c=trust[mask],
            cmap=TRUST_CMAP,
            norm=norm,
            marker=marker,
            s=size,
            edgecolors=edge[mask],
            linewidths=np.where(heard[mask], 1.6, 0.4),
            zorder=2,
        )
    fig.colorbar(
        mpl.cm.ScalarMappable(norm=norm, cmap=TRUST_CMAP), ax=ax, shrink=0.8, label="trust"
    )
    handles = [
        Line2D([], [], ls="", marker="o", color="0.5", label="holds an account: trust in it"),
        Line2D([], [], ls="", marker="s", color="0.5", label="no account: trust in the system"),
    ]
    if model.rumours:
        handles.append(
            Line2D([], [], ls="", marker="o", mfc="white", mec="black", mew=1.6,
                   label="heard the rumour")
        )  # fmt: skip
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.01), ncol=2,
              fontsize=8, frameon=False)  # fmt: skip
    shown = f"{sample.users.size:,} of {model.population.n:,} users"
    ax.set_title(f"Who trusts whom: {shown}, week {model.tick}", fontsize=11)
    ax.set_axis_off()
    ax.set_aspect("equal")
    ax.autoscale_view()
    return fig


# --- the indicators -------------------------------------------------------------------


def scheduled_events(model: "TrustModel") -> list[tuple[int, str]]:
    """``(tick, label)`` of the scenario's events, merged per tick, in time order."""
    by_tick: dict[int, list[str]] = {}
    for tick in sorted(model.event_schedule):
        for event in model.event_schedule[tick]:
            label = EVENT_LABELS.get(event.type_name, event.type_name.replace("_", " "))
            if label not in by_tick.setdefault(tick, []):
                by_tick[tick].append(label)
    return [(tick, " + ".join(labels)) for tick, labels in by_tick.items()]


def indicator_series(model: "TrustModel") -> pd.DataFrame:
    """The page's indicators per tick so far (from the DataCollector, read defensively).

    Reads the collector's lists directly and cuts them to a common length, so that a
    redraw while a step is being recorded does not fail.
    """
    data = model.datacollector.model_vars
    columns = ["tick"] + [col for _, _, lines, _ in PANELS for col, _, _ in lines]
    length = min(len(data[col]) for col in columns)
    return pd.DataFrame({col: list(data[col][:length]) for col in columns})


def indicator_figure(model: "TrustModel", figsize=(7.2, 5.6)) -> Figure:
    """The main indicators against weeks, with the scenario's events as vertical lines.

    The x-axis spans the whole run, so events to come show as dotted lines and the
    ones that have happened as solid ones, labelled on the top panels.
    """
    series = indicator_series(model)
    horizon = model.cfg.ticks
    events = scheduled_events(model)
    fig = Figure(figsize=figsize, dpi=100, layout="constrained")
    axes = fig.subplots(2, 2, sharex=True)
    for ax, (title, ylabel, lines, ylim) in zip(axes.flat, PANELS, strict=True):
        for column, label, colour in lines:
            ax.plot(series["tick"], series[column], color=colour, lw=1.8, label=label)
        for tick, _ in events:
            past = tick <= model.tick
            ax.axvline(tick, color="0.25" if past else "0.6", lw=1.0, ls="-" if past else ":")
        ax.set_title(title, fontsize=10, loc="left", fontweight="bold")
        ax.set_ylabel(ylabel, fontsize=9)
        ax.set_xlim(0, horizon)
        if ylim is not None:
            ax.set_ylim(*ylim)
        else:
            ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
        if len(lines) > 1:
            ax.legend(fontsize=8, loc="lower right")
    axes[1, 1].yaxis.set_major_formatter(EngFormatter())
    axes[0, 1].yaxis.get_major_locator().set_params(integer=True)
    for ax in axes[1]:
        ax.set_xlabel("week", fontsize=9)
    for ax in axes[0]:
        for tick, label in events:
            ax.text(
                tick, 1.0, f" {label}", transform=ax.get_xaxis_transform(), rotation=90,
                va="top", ha="right", fontsize=7, color="0.2" if tick <= model.tick else "0.5",
            )  # fmt: skip
    fig.suptitle(f"Week {model.tick} of {horizon}", fontsize=11)
    return fig


# --- the platforms --------------------------------------------------------------------

TABLE_COLUMNS = {
    "platform": "#",
    "strategy": "strategy",
    "status": "status",
    "assets": "assets",
    "users": "users",
    "trust_mean": "mean trust",
    **{lever: lever.replace("_", " ") for lever in LEVERS},
}


def platform_frame(model: "TrustModel") -> pd.DataFrame:
    """This week's platforms: status, assets, users, their users' mean trust and levers.

    Open platforms come first, largest first; the levers are the effective ones (after
    the regulator's disclosure floor).
    """
    rows = [row for row in model.platform_rows[-len(model.platforms) :] if row["tick"] == model.tick]
    frame = pd.DataFrame(rows, columns=[*TABLE_COLUMNS, "fraudulent"])
    frame["open"] = frame["status"].isin(("active", "sandbox"))
    frame = frame.sort_values(["open", "assets"], ascending=[False, False])
    return frame[list(TABLE_COLUMNS)].rename(columns=TABLE_COLUMNS).reset_index(drop=True)
