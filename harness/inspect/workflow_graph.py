"""A state machine's graph, laid out by Graphviz from its ASL definition, with one execution drawn on it:
the states it went through, the transitions it took, the retries and the error that failed it.

Each node and edge carries SVG classes besides its colours, so a reader (or a test) can find them:
``visited``, ``retried``, ``caught`` and ``failed`` on states, ``taken`` and ``catch`` on transitions,
``retry`` on the loop drawn on a state for its retries.
Only the top level of the definition is drawn (the order workflow has no Parallel or Map state).
"""

from __future__ import annotations

import shutil

import graphviz

from harness.errors import HarnessError
from harness.inspect.executions import Timeline

START, END = "__start__", "__end__"
# (outline, fill) by the most telling class a state has, in this order.
_COLOURS = {
    "failed": ("#c62828", "#ffebee"),
    "retried": ("#ef6c00", "#fff3e0"),
    "visited": ("#2e7d32", "#e8f5e9"),
    "idle": ("#9e9e9e", "#ffffff"),
}


class GraphvizMissing(HarnessError):
    """The ``dot`` program is not installed."""


def transitions(state: dict) -> list[tuple[str, str, bool]]:
    """(target, label, is_catch) for every transition a state definition names."""
    found: list[tuple[str, str, bool]] = []
    if "Next" in state:
        found.append((state["Next"], "", False))
    for rule in state.get("Choices", []):
        found.append((rule["Next"], _choice_label(rule), False))
    if "Default" in state:
        found.append((state["Default"], "default", False))
    for catcher in state.get("Catch", []):
        found.append((catcher["Next"], "catch " + ", ".join(catcher["ErrorEquals"]), True))
    if state.get("End") or state.get("Type") in ("Succeed", "Fail"):
        found.append((END, "", False))
    return found


def draw(definition: dict, line: Timeline) -> graphviz.Digraph:
    """The graph of ``definition`` with the execution ``line`` highlighted."""
    visits = {visit.name: visit for visit in line.visits}
    taken = {
        (visit.name, visit.next_state or END)
        for visit in line.visits
        if visit.exited is not None and (visit.next_state or line.status == "SUCCEEDED")
    }
    if line.visits:
        taken.add((START, line.visits[0].name))
    graph = graphviz.Digraph("workflow", graph_attr={"rankdir": "TB", "fontname": "Helvetica"})
    graph.attr("node", fontname="Helvetica", fontsize="11", shape="box", style="rounded,filled")
    graph.attr("edge", fontname="Helvetica", fontsize="9")
    graph.node(START, "start", shape="circle", style="filled", fillcolor="#424242", fontcolor="white")
    graph.node(END, "end", shape="doublecircle", style="filled", fillcolor="#424242", fontcolor="white")
    for name, state in definition["States"].items():
        classes, label = _state_look(name, state, visits, line)
        colour, fill = _COLOURS[next(look for look in _COLOURS if look in classes)]
        graph.node(
            name,
            label,
            **{"class": " ".join(classes), "color": colour, "fillcolor": fill},
            penwidth="2.5" if classes != ["idle"] else "1",
        )
    graph.edge(START, definition["StartAt"], **_edge_look((START, definition["StartAt"]) in taken, False))
    for visit in line.visits:
        if visit.retries:  # a loop back into the state for its retries
            colour = _COLOURS["retried"][0]
            count = len(visit.retries)
            graph.edge(
                visit.name,
                visit.name,
                label=f"retried {count}x",
                **{
                    "class": "retry",
                    "color": colour,
                    "fontcolor": colour,
                    "penwidth": "2",
                    "style": "dotted",
                },
            )
    for name, state in definition["States"].items():
        for target, label, is_catch in transitions(state):
            graph.edge(name, target, label=label, **_edge_look((name, target) in taken, is_catch))
    return graph


# What --picture may be: SVG (its classes let a reader find the path) or PNG (for an image viewer or a
# chat); Graphviz renders both from the same graph.
FORMATS = ("svg", "png")


def picture(definition: dict, line: Timeline, picture_format: str) -> bytes:
    """The graph with the execution's path, rendered by Graphviz in ``picture_format`` (one of FORMATS)."""
    if shutil.which("dot") is None:
        raise GraphvizMissing(
            "drawing the workflow needs Graphviz's `dot` program: apt-get install graphviz "
            "(.ci/run installs it on CI machines)"
        )
    return draw(definition, line).pipe(format=picture_format)


def _state_look(name: str, state: dict, visits: dict, line: Timeline) -> tuple[list[str], str]:
    """The SVG classes of a state (most telling last) and its label."""
    visit = visits.get(name)
    label = f"{name}\n{state['Type']}"
    if visit is None:
        return ["idle"], label
    classes = ["visited"]
    if visit.exited is not None:
        label += f"  {(visit.exited - visit.entered).total_seconds():.3f}s"
    retries = visit.retries
    if retries:
        classes.append("retried")
        errors = sorted({retry.error for retry in retries})
        label += f"\n{len(retries)} retr{'y' if len(retries) == 1 else 'ies'}: {', '.join(errors)}"
    if visit.caught and visit.final_error is not None:
        classes.append("caught")
        label += f"\ncaught {visit.final_error.error}"
    if line.failed_state == name:
        classes.append("failed")
        label += f"\nfailed: {line.error}"
    return classes, label


def _edge_look(taken: bool, is_catch: bool) -> dict[str, str]:
    classes = " ".join(part for part, on in (("taken", taken), ("catch", is_catch)) if on) or "idle"
    colour = ("#c62828" if is_catch else "#2e7d32") if taken else "#bdbdbd"
    return {
        "class": classes,
        "color": colour,
        "fontcolor": colour,
        "penwidth": "2.5" if taken else "1",
        "style": "dashed" if is_catch else "solid",
    }


def _choice_label(rule: dict) -> str:
    variable = rule.get("Variable", "")
    operator = next((key for key in rule if key not in ("Variable", "Next")), "")
    return f"{variable} {operator} {rule.get(operator, '')}".strip()
