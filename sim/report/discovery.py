"""Scenario discovery on a sweep: under which inputs does an outcome of interest happen?

``trustsim-report SWEEP --discover 'user_losses_cum > 2e6'`` marks each complete run whose
final indicators satisfy the condition (a case of interest) and asks three questions of
the swept inputs, with EMA Workbench's analysis package (Kwakkel 2017) on the runs table:

* **PRIM** (Friedman and Fisher 1999; Bryant and Lempert 2010): peel the input space down
  to a box where cases of interest are dense. Each step of the peeling trajectory trades
  *coverage* (the share of all cases of interest inside the box) for *density* (the share
  of runs inside the box that are cases of interest). The report draws the trajectory and
  chooses the densest box that keeps at least ``min_coverage`` (half) of the cases, with
  the ranges of its restricted inputs and their quasi-p-values. Seed noise puts some cases
  outside any box, so a box that must keep most of them would be the whole space.
* **CART** (Breiman et al. 1984), a second view: a classification tree on the same data,
  whose leaves are boxes too.
* **Feature scoring**: how much each input explains the cases (extra trees, Jaxa-Rozen and
  Kwakkel 2018).

Inputs are the swept keys but the replicate ids (``seed``, ``sample``) and a policy's levers
(the policy stands for them); a categorical key (``regulator=...``) is a category.
Everything is seeded, so a report is reproducible.
"""

import ast
import contextlib
import operator
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.report.collect import (
    REPLICATE_KEYS,
    ReportError,
    final_column,
    final_names,
    swept_keys,
    without_levers,
)

MIN_COVERAGE = 0.5  # the chosen PRIM box keeps at least this share of the cases of interest
MASS_MIN = 0.05  # smallest share of runs in a box (PRIM) or a leaf (CART)
SEED = 0  # CART's and the extra trees' random state
_COMPARE = {
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
CONDITION_HELP = (
    "comparisons of final indicators or swept keys with numbers (<, <=, >, >=, ==, !=), "
    "joined by and, or, not; e.g. 'user_losses_cum > 2e6' or "
    "'trust_mean < 0.5 and platforms_active < 10'"
)


def _ema():
    """EMA Workbench's analysis modules (imported late: they are heavy, and warn on import)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "ipyparallel not installed": not used here
        from ema_workbench.analysis import cart, feature_scoring, prim
        from ema_workbench.analysis.scenario_discovery_util import RuleInductionType
    return prim, cart, feature_scoring, RuleInductionType


def condition(expression: str, runs: pd.DataFrame) -> np.ndarray:
    """Which runs satisfy ``expression`` (see :data:`CONDITION_HELP`).

    A name is a column of the runs table; ``trust_mean`` is short for ``final_trust_mean``.

    Raises:
        ReportError: Not such an expression, or a name the table does not have.
    """
    try:
        tree = ast.parse(expression.strip(), mode="eval").body
    except SyntaxError:
        raise ReportError(f"--discover {expression!r}: not {CONDITION_HELP}") from None

    def column(name: str) -> np.ndarray:
        found = final_column(runs, name)
        if found is None:
            raise ReportError(
                f"--discover {expression!r}: unknown name {name}; available: "
                + ", ".join(final_names(runs) + swept_keys(runs))
            )
        return pd.to_numeric(runs[found], errors="coerce").to_numpy(dtype=float)

    def dotted(node: ast.AST) -> str | None:
        """``regulator.penalty`` parses as an attribute of a name: the key it spells."""
        if isinstance(node, ast.Name):
            return node.id
        if isinstance(node, ast.Attribute) and (head := dotted(node.value)) is not None:
            return f"{head}.{node.attr}"
        return None

    def value(node: ast.AST) -> np.ndarray | float:
        if (name := dotted(node)) is not None:
            return column(name)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return float(node.value)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -value(node.operand)
        raise ReportError(f"--discover {expression!r}: not {CONDITION_HELP}")

    def truth(node: ast.AST) -> np.ndarray:
        if isinstance(node, ast.BoolOp):
            parts = [truth(v) for v in node.values]
            join = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
            return join.reduce(parts)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return ~truth(node.operand)
        if isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
            left, result = value(node.left), np.ones(len(runs), dtype=bool)
            for op, right_node in zip(node.ops, node.comparators, strict=True):
                right = value(right_node)
                result &= np.asarray(_COMPARE[type(op)](left, right), dtype=bool)
                left = right
            return np.broadcast_to(result, (len(runs),)).copy()
        raise ReportError(f"--discover {expression!r}: not {CONDITION_HELP}")

    return truth(tree)


def discovery_inputs(runs: pd.DataFrame) -> pd.DataFrame:
    """The swept inputs but replicate ids: numbers as floats, the rest as categories.

    In a deep-uncertainty design the policy stands for its levers, which it fixes.
    """
    keys = without_levers(runs, [k for k in swept_keys(runs) if k not in REPLICATE_KEYS])
    x = pd.DataFrame(index=runs.index)
    for key in keys:
        column = runs[key]
        if pd.api.types.is_bool_dtype(column) or not pd.api.types.is_numeric_dtype(column):
            x[key] = column.astype(str).astype("category")
        else:
            x[key] = column.astype(float)
    return x.reset_index(drop=True)


@dataclass
class Discovery:
    """What :func:`discover` found.

    Attributes:
        expression: The condition, as given.
        cases: How many complete runs satisfy it, of ``runs``.
        runs: Complete runs analysed.
        trajectory: PRIM's peeling trajectory (coverage, density, mass, res_dim, id).
        chosen: The row of ``trajectory`` chosen.
        box: The chosen box: for each restricted input, its range in the box and in the
            sweep (or the categories kept), and the quasi-p-values of its lower and upper
            limits (Bryant and Lempert 2010: how likely a limit this tight is by chance).
        cart: CART's leaves: their coverage, density and mass, and their box limits.
        scores: Feature scores of the inputs, highest first.
        figures: Name -> figure (the trade-off, the tree, the scores).
    """

    expression: str
    cases: int
    runs: int
    trajectory: pd.DataFrame = field(default_factory=pd.DataFrame)
    chosen: int | None = None
    box: pd.DataFrame = field(default_factory=pd.DataFrame)
    cart: pd.DataFrame = field(default_factory=pd.DataFrame)
    scores: pd.DataFrame = field(default_factory=pd.DataFrame)
    figures: dict[str, Figure] = field(default_factory=dict)
    note: str = ""


def choose_box(trajectory: pd.DataFrame, min_coverage: float = MIN_COVERAGE) -> int:
    """The densest box on the trajectory that keeps at least ``min_coverage`` of the cases.

    Ties go to the box with fewer restricted inputs (the simpler story), then the larger.
    """
    able = trajectory[trajectory["coverage"] >= min_coverage - 1e-12]
    if able.empty:  # even the first box misses some cases (it never does): the first
        return int(trajectory.index[0])
    best = able.sort_values(
        ["density", "res_dim", "coverage"], ascending=[False, True, False], kind="stable"
    )
    return int(best.index[0])


def _box_table(box, i: int, x: pd.DataFrame) -> pd.DataFrame:
    """The restricted inputs of box ``i``: their ranges (or categories) and quasi-p-values."""
    limits, first = box.box_lims[i], box.box_lims[0]
    qp = None
    with contextlib.suppress(Exception):  # a box with no restriction has no p-values
        qp = box.p_values[i]
    rows = []
    for key in x.columns:
        low, high = limits[key].iloc[0], limits[key].iloc[1]
        if isinstance(low, set):  # a category: the box keeps some of the sweep's values
            if low == first[key].iloc[0]:
                continue
            kept, every = sorted(map(str, low)), sorted(map(str, first[key].iloc[0]))
            row = {"input": key, "in the box": ", ".join(kept), "in the sweep": ", ".join(every)}
        else:
            if low == first[key].iloc[0] and high == first[key].iloc[1]:
                continue
            row = {
                "input": key,
                "in the box": f"[{low:.4g}, {high:.4g}]",
                "in the sweep": f"[{first[key].iloc[0]:.4g}, {first[key].iloc[1]:.4g}]",
            }
        p = qp.get(key) if isinstance(qp, dict) else None
        # The workbench writes -1 for a side the box does not restrict.
        low_p, high_p = (float(v) for v in p) if p is not None else (np.nan, np.nan)
        row["quasi-p lower"] = low_p if low_p >= 0 else np.nan
        row["quasi-p upper"] = high_p if high_p >= 0 else np.nan
        rows.append(row)
    columns = ["input", "in the box", "in the sweep", "quasi-p lower", "quasi-p upper"]
    return pd.DataFrame(rows, columns=columns)


def _tradeoff_figure(trajectory: pd.DataFrame, chosen: int, expression: str) -> Figure:
    fig = Figure(figsize=(6.4, 4.6), layout="constrained")
    ax = fig.subplots()
    points = ax.scatter(
        trajectory["coverage"],
        trajectory["density"],
        c=trajectory["res_dim"],
        cmap="viridis",
        s=28,
        zorder=3,
    )
    ax.plot(trajectory["coverage"], trajectory["density"], color="0.7", lw=1, zorder=2)
    row = trajectory.loc[chosen]
    ax.scatter([row["coverage"]], [row["density"]], s=160, facecolor="none", edgecolor="red",
               lw=2, zorder=4, label=f"chosen box {chosen}")  # fmt: skip
    ax.axvline(MIN_COVERAGE, color="red", ls=":", lw=1)
    ax.set_xlabel("coverage (share of the cases of interest in the box)")
    ax.set_ylabel("density (share of the box's runs that are cases)")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=9)
    dims = range(int(trajectory["res_dim"].max()) + 1)
    fig.colorbar(points, ax=ax, label="restricted inputs", ticks=list(dims))
    ax.set_title(f"PRIM peeling trajectory: {expression}", fontsize=10)
    return fig


def _tree_figure(model, names: list[str]) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from sklearn import tree

    leaves = int(model.get_n_leaves())
    fig = Figure(figsize=(min(4 + 1.6 * leaves, 16), 2.2 + 1.1 * model.get_depth()))
    FigureCanvasAgg(fig)  # plot_tree measures its text boxes with the canvas's renderer
    ax = fig.subplots()
    tree.plot_tree(model, feature_names=names, class_names=["other", "case"], filled=True,
                   impurity=False, proportion=True, rounded=True, fontsize=8, ax=ax)  # fmt: skip
    ax.set_title("CART: where the cases of interest are (value = [other, case] shares)")
    return fig


def _scores_figure(scores: pd.DataFrame) -> Figure:
    fig = Figure(figsize=(6.4, 0.6 + 0.35 * len(scores)), layout="constrained")
    ax = fig.subplots()
    ax.barh(scores["input"], scores["score"], color="tab:blue")
    ax.invert_yaxis()
    ax.set_xlabel("feature score (extra trees, sums to 1)")
    ax.grid(axis="x", alpha=0.3)
    return fig


def discover(
    runs: pd.DataFrame, expression: str, *, min_coverage: float = MIN_COVERAGE
) -> Discovery:
    """Scenario discovery on the complete runs of a sweep (see the module docstring).

    Raises:
        ReportError: A bad expression, or no swept input to explain the cases with.
    """
    prim, cart, feature_scoring, kinds = _ema()
    complete = runs[runs["status"] == "complete"].reset_index(drop=True)
    y = condition(expression, complete)
    found = Discovery(expression, int(y.sum()), len(complete))
    x = discovery_inputs(complete)
    if x.shape[1] == 0:
        raise ReportError(
            f"--discover {expression!r}: the sweep varies no input but the seed; sweep "
            "the keys whose effect you want to find (a grid, or hydra/sweeper=lhs)"
        )
    if found.cases == 0 or found.cases == found.runs:
        which = "none" if found.cases == 0 else "every one"
        found.note = (
            f"{which} of the {found.runs} complete runs satisfies {expression}: nothing to "
            "tell apart; choose another threshold"
        )
        return found
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the workbench's own chatter (logging, pandas)
        # The workbench's lenient objective (gain of mean per point peeled): the original
        # one (the box's mean) peels whole categories of a categorical input first.
        finder = prim.Prim(x, y, mass_min=MASS_MIN)
        box = finder.find_box()
        trajectory = box.peeling_trajectory.copy()
        found.trajectory = trajectory
        found.chosen = choose_box(trajectory, min_coverage)
        found.box = _box_table(box, found.chosen, x)
        found.figures["prim_tradeoff"] = _tradeoff_figure(trajectory, found.chosen, expression)

        tree = _seeded_cart(cart, x, y.astype(int))
        stats = pd.DataFrame(tree.stats)
        whole = _full_box(x)
        limits = ["; ".join(_limits(b, whole)) or "(everything)" for b in tree.boxes]
        found.cart = stats.assign(box=limits)
        found.figures["cart_tree"] = _tree_figure(tree.clf, tree.feature_names)

        scores, _ = feature_scoring.get_ex_feature_scores(
            x, y.astype(int), mode=kinds.CLASSIFICATION, random_state=SEED
        )
    scores = scores.reset_index()
    scores.columns = ["input", "score"]
    found.scores = scores
    found.figures["feature_scores"] = _scores_figure(scores)
    return found


def _seeded_cart(cart, x: pd.DataFrame, y: np.ndarray):
    """EMA Workbench's CART, its tree grown as ``build_tree`` does but seeded.

    scikit-learn permutes the inputs at each split, so equally good splits would otherwise
    be chosen differently from one report to the next.
    """
    from sklearn.tree import DecisionTreeClassifier

    found = cart.CART(x, y, mass_min=MASS_MIN)
    leaf = max(1, int(MASS_MIN * len(x)))
    dummies = pd.get_dummies(x, prefix_sep=cart.CART.sep)  # as CART encodes its inputs
    found.clf = DecisionTreeClassifier(min_samples_leaf=leaf, random_state=SEED)
    found.clf.fit(dummies.to_numpy(), y)
    return found


def _full_box(x: pd.DataFrame) -> pd.DataFrame:
    """The box of the whole sweep: each number's range, each category's values."""
    return pd.DataFrame(
        {
            key: [set(x[key].unique()), set(x[key].unique())]
            if isinstance(x[key].dtype, pd.CategoricalDtype)
            else [x[key].min(), x[key].max()]
            for key in x.columns
        }
    )


def _limits(box: pd.DataFrame, first: pd.DataFrame) -> list[str]:
    """A CART leaf's restrictions in words (inputs it does not restrict are left out)."""
    parts = []
    for key in box.columns:
        low, high = box[key].iloc[0], box[key].iloc[1]
        if isinstance(low, set):
            if low != first[key].iloc[0]:
                parts.append(f"{key} in {{{', '.join(sorted(map(str, low)))}}}")
        elif (low, high) != (first[key].iloc[0], first[key].iloc[1]):
            parts.append(f"{low:.4g} <= {key} <= {high:.4g}")
    return parts
