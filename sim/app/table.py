"""The platform table: this week's platforms, their status, size, users' trust and levers."""

import html
from typing import TYPE_CHECKING

import pandas as pd

from sim.config import LEVERS
from sim.metrics import platform_columns

if TYPE_CHECKING:
    from sim.model import TrustModel

TABLE_STYLE = """
<style>
.trustsim-table {border-collapse: collapse; font-size: 13px; width: 100%;}
.trustsim-table th, .trustsim-table td {padding: 2px 8px; text-align: right;
  border-bottom: 1px solid #e0e0e0; white-space: nowrap;}
.trustsim-table th {position: sticky; top: 0; background: #f5f5f5; z-index: 1;
  white-space: normal;}
.trustsim-table td.text, .trustsim-table th.text {text-align: left;}
.trustsim-table tr.closed td {color: #9e9e9e;}
.trustsim-table tr td.collapsed {color: #c62828; font-weight: bold;}
.trustsim-table tr td.wound_down, .trustsim-table tr td.exited {color: #6d4c41;}
.trustsim-table tr td.suspended {color: #ef6c00; font-weight: bold;}
.trustsim-table tr td.sandbox {color: #1565c0; font-weight: bold;}
</style>
"""

TABLE_COLUMNS = {
    "platform": "#",
    "strategy": "strategy",
    "status": "status",
    "assets": "assets",
    "users": "users",
    "trust_mean": "mean trust",
    **{lever: lever.replace("_", " ") for lever in LEVERS},
}
TEXT_COLUMNS = ("strategy", "status", "licensed in")


def platform_frame(model: "TrustModel") -> pd.DataFrame:
    """This week's platforms: status, assets, users, their users' mean trust and levers.

    Open platforms come first, largest first; the levers are the effective ones (after
    the regulator's disclosure floor). With several jurisdictions, ``licensed in`` names
    each one's (after ``status``).
    """
    columns = platform_columns(model.recorder.state)
    labels = dict(TABLE_COLUMNS)
    if "jurisdiction" in columns:
        names = list(model.recorder.jurisdictions)
        columns["licensed_in"] = [names[k] for k in columns["jurisdiction"]]
        keys = list(labels)
        keys.insert(keys.index("status") + 1, "licensed_in")
        labels = {key: labels.get(key, "licensed in") for key in keys}
    frame = pd.DataFrame(columns, columns=list(labels))
    frame["open"] = frame["status"].isin(("active", "sandbox"))
    frame = frame.sort_values(["open", "assets"], ascending=[False, False], kind="stable")
    return frame[list(labels)].rename(columns=labels).reset_index(drop=True)


def _cell(column: str, value) -> str:
    if column in TEXT_COLUMNS:
        return f'<td class="text {value}">{html.escape(str(value).replace("_", " "))}</td>'
    if column == "assets":
        return f"<td>{value:,.0f}</td>"
    if column in ("#", "users"):
        return f"<td>{int(value)}</td>"
    return "<td>–</td>" if value != value else f"<td>{value:.2f}</td>"  # NaN: no users


def platform_table_html(model: "TrustModel") -> str:
    """This week's platforms as an HTML table, closed ones greyed."""
    frame = platform_frame(model)
    head = "".join(
        f'<th class="{"text" if c in TEXT_COLUMNS else ""}">{html.escape(c)}</th>'
        for c in frame.columns
    )
    body = []
    for row in frame.itertuples(index=False):
        cells = dict(zip(frame.columns, row, strict=True))
        closed = cells["status"] not in ("active", "sandbox")
        tds = "".join(_cell(c, v) for c, v in cells.items())
        body.append(f'<tr class="{"closed" if closed else "open"}">{tds}</tr>')
    return (
        f'{TABLE_STYLE}<div style="max-height: 420px; max-width: 100%; overflow: auto">'
        f'<table class="trustsim-table"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )
