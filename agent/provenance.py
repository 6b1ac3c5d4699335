"""The parts of an answer that say where it comes from: which step produced each number, the
data and figures behind it, whether it was verified, and how to reproduce it (markdown)."""

from __future__ import annotations

from typing import Any

from climcopilot.agent.state import AgentState, Evidence
from climcopilot.agent.steps import tool_results


def with_unit(unit: str) -> str:
    """`` unit`` to follow a number, or nothing for a dimensionless one (``""`` or ``"1"``)."""
    return f" {unit}" if unit not in ("", "1") else ""


def data_sources(state: AgentState) -> list[str]:
    """Source and license of every dataset the steps opened."""
    return list(dict.fromkeys(f"{r['handle']}: {r['source']} ({r['license']})"
                              for r in tool_results(state.get("steps", [])) if "source" in r))


def reused_finding(state: AgentState) -> dict[str, Any] | None:
    """The finding from memory this answer reuses, if any (as the brain noted it)."""
    return (state.get("memo") or {}).get("from_finding")


def provenance(state: AgentState) -> str:
    """Markdown: which step produced each number, the data behind them, and the figures."""
    evidence = state.get("evidence") or Evidence()
    lines = ["**Provenance**"]
    for step in state.get("steps", []):
        if not step.values:
            continue
        shown = [f"{name} = {value:.4g}" + with_unit(step.units.get(name, ""))
                 for name, value in step.values.items()]
        lines.append(f"- step {step.number} `{step.action.label()}`: {', '.join(shown)}")
    reused = reused_finding(state)
    if reused:
        origin = reused["provenance"]
        lines.append(f"- from memory: finding {reused['id']} (session "
                     f"{origin.get('session_id', '?')}, confirmed {reused['seen']} times): "
                     f"{'; '.join(origin.get('steps', []))}")
        lines += [f"- data: {s}" for s in origin.get("sources", [])]
    lines += [f"- data: {s}" for s in data_sources(state)]
    lines += [f"- figure: {f}" for f in evidence.figures]
    if evidence.not_applied:
        lines.append("- **partial**: the answer leaves out " + "; ".join(evidence.not_applied))
    if evidence.verified and not evidence.not_applied:
        lines.append("- checks: all passed")
    elif evidence.verified:
        lines.append("- checks: the numbers above passed their checks, for the question "
                     "without what it leaves out")
    elif evidence.problems:
        lines.append(f"- **unverified**: {'; '.join(evidence.problems)}")
    else:
        lines.append("- **unverified**: no tool step produced the numbers of this answer")
    return "\n".join(lines)


def reproduce_block(session_id: str) -> str:
    """Markdown: how to re-run this answer's steps as a notebook."""
    return (f"**How to reproduce**: `climcopilot export {session_id} --to {session_id}.ipynb` "
            "writes every step with its outputs as a notebook that re-runs top to bottom "
            "(`/export` in chat).")
