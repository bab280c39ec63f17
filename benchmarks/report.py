"""Render a suite run (the dict saved as ``results.json``) as Markdown."""

from __future__ import annotations

from typing import Any

from benchmarks._common import fmt_bytes


def table(columns: list[str], rows: list[list[str]]) -> str:
    """A GitHub-flavoured Markdown table."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _machine(m: dict[str, Any], code: dict[str, Any]) -> list[str]:
    cores = f"{m['logical_cpus']} logical CPUs"
    if m.get("physical_cores"):
        cores += f" ({m['physical_cores']} physical cores)"
    cores += f", {m['cpus_available']} available to the benchmark"
    modified = code.get("sim_modified_files") or []
    return [
        f"- CPU: {m['cpu_model']}",
        f"- Cores: {cores}",
        f"- RAM: {fmt_bytes(m['ram_bytes'])}",
        f"- OS: {m['os']}",
        f"- Python {m['python']}, numpy {m['numpy']}, scipy {m['scipy']}, mesa {m['mesa']}, "
        f"networkx {m['networkx']}",
        "- Load average (1/5/15 min) at start: "
        + " / ".join(f"{x:.2f}" for x in m["load_avg"])
        + "; at end: "
        + " / ".join(f"{x:.2f}" for x in m.get("load_avg_end", m["load_avg"])),
        *(
            [
                "- **Warning**: the 1-min load average was already "
                f"{m['load_avg'][0]:.2f} on {m['cpus_available']} CPUs when the suite "
                "started: other processes may have competed for the cores, making wall "
                "times noisy (see the CPU-time cross-checks)."
            ]
            if m["load_avg"][0] >= (m["cpus_available"] or 1)
            else []
        ),
        f"- Code measured: git commit {code.get('git_commit')}, "
        + (
            f"with uncommitted changes in {', '.join(modified)}"
            if modified
            else "no uncommitted changes in sim/"
        )
        + f"; sha256 of sim/*.py = {code.get('sim_sha256')}",
    ]


def render(run: dict[str, Any]) -> str:
    """The whole report."""
    out = [
        "# trustsim benchmark results",
        "",
        f"- Command: `{run['command']}`" + (" (quick sizes)" if run["quick"] else ""),
        f"- Date: {run['date']} (took {run['wall_s'] / 60:.1f} min)",
        "- Every figure is a ratio against a reference measured in the same run; absolute "
        "times are shown for context only. How to read them: `benchmarks/README.md`.",
        "",
        "## Summary",
        "",
    ]
    summary_rows = []
    for b in run["benchmarks"]:
        t = b.get("target")
        if b.get("error"):
            summary_rows.append([f"`{b['name']}`", "-", "ERROR", b["error"].splitlines()[-1]])
        elif t is None:
            summary_rows.append([f"`{b['name']}`", "informational", "-", "-"])
        else:
            goal = f"{t['direction']} {t['threshold']:g}{t.get('unit', '')} at {t['at']}"
            status = f"**{t['status']}**" + (" (indicative)" if t["indicative"] else "")
            if t.get("contended"):
                status += f" (CPU time: {t['cpu_status']}; contended run)"
            summary_rows.append([f"`{b['name']}`", goal, status, t["verdict"]])
    out += [table(["benchmark", "target", "status", "detail"], summary_rows), ""]
    out += ["## Machine", "", *_machine(run["machine"], run["code"]), ""]
    for i, b in enumerate(run["benchmarks"], start=1):
        out += [f"## {i}. `{b['name']}`: {b.get('title', '')}", ""]
        if b.get("error"):
            out += ["**ERROR**: the benchmark failed:", "", "```", b["error"], "```", ""]
            continue
        out += [f"- {line}" for line in b.get("setup", [])]
        out.append(f"- Wall time of this benchmark: {b['wall_s']:.0f} s")
        out.append("")
        for tb in b.get("tables", []):
            if tb.get("title"):
                out += [f"**{tb['title']}**", ""]
            out += [table(tb["columns"], tb["rows"]), ""]
        for note in b.get("notes", []):
            out += [f"Note: {note}", ""]
        if b.get("target"):
            out += [f"**Target** ({b['target']['at']}): {b['target']['verdict']}", ""]
    if run["code"].get("changed_during_run"):
        out += [
            "**Warning**: `sim/` changed while this suite ran (sha256 "
            f"{run['code']['sim_sha256']} -> {run['code_end']['sim_sha256']}); "
            "benchmarks may have measured different versions.",
            "",
        ]
    return "\n".join(out).rstrip() + "\n"
