"""What the model is told before any step: the rules of the loop, the catalog of what the
tools hold (bundled series and fields with units and periods, dynamical systems, DA methods,
causal methods and benchmark systems), related findings from memory, worked examples from
learned skills, and its plan. Compact: about 900 tokens with the catalog."""

from __future__ import annotations

from functools import lru_cache

from climcopilot.tools.vocabulary import terms_of

RULES = """You are ClimCopilot, a careful climate-science research assistant. You work by \
calling the offered functions; they run in one persistent Jupyter kernel, and objects they \
create stay there under their handle names for later calls.
Rules:
- Every number in your answer must come from a function result; never estimate or recall one.
- Several independent calls may go in one message: they run in order.
- Never repeat a call with the same arguments: its result is already above.
- {lookup}use run_python only for what no tool does.
- Call functions only through tool calls; never write a call as text.
- You have at most {budget} steps. When done, reply without a tool call: the answer in \
markdown, each number with its unit."""


@lru_cache(maxsize=1)
def catalog() -> str:
    """The bundled data and the named systems and methods, one line each kind."""
    from climcopilot.tools.data.catalog import bundled_series_entries, eofs_example_entries

    series = []
    for e in bundled_series_entries():
        (units,) = e.variables.values()
        span = (f"{e.start[:4]}-{e.end[:4]}" if e.start else
                f"{e.age_span_ka[0]:.0f}-{max(e.age_span_ka[1], 0):.0f} ka BP"
                if e.age_span_ka else "")
        series.append(f"{e.key} ({e.title}; {units}; {e.frequency} {span})")
    fields = [f"{e.key} ({', '.join(f'{v} [{u}]' for v, u in e.variables.items())}; "
              f"{e.start[:4]}-{e.end[:4]}, {e.frequency})" for e in eofs_example_entries()]
    named = {kind: ", ".join(t.key for t in terms_of(kind)) for kind in (
        "dynamical_system", "da_method", "causal_method", "causal_system")}
    return "\n".join([
        "Bundled series (key: what; units; frequency and span): " + "; ".join(series) + ".",
        "Bundled fields: " + "; ".join(fields) + ".",
        f"Dynamical systems: {named['dynamical_system']}. DA methods: {named['da_method']}.",
        f"Causal methods: {named['causal_method']}; benchmark systems with known graphs: "
        f"{named['causal_system']}."])


def system_prompt(budget: int, memory: list[str], examples: list[str], plan: list[str],
                  lookup: bool = True) -> str:
    """The system message: rules, catalog, findings from memory, worked examples, plan
    (``lookup``: find_tools is offered)."""
    parts = [RULES.format(budget=budget, lookup="If a tool you need is not offered, call "
                          "find_tools; " if lookup else ""), catalog()]
    if memory:
        parts.append("Related findings from memory (verified before; reuse a number only by "
                     "recomputing it):\n" + "\n".join(memory))
    parts += examples
    if plan:
        parts.append("Your plan:\n" + "\n".join(plan))
    return "\n\n".join(parts)


PLAN_REQUEST = ("Before any tool call, reply with a short numbered plan (at most 6 lines), "
                "one step per line, each naming the function it calls, e.g. "
                "'1. data__open_series {\"name\": \"soi\"}: open the SOI'.")
REPLAN_REQUEST = ("Steps so far failed: {feedback}. Make a new plan that avoids what failed "
                  "(at most 6 lines, one function per line). {left} steps are left.")
