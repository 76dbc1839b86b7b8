"""Diagrams of a scheme, drawn from its model: Mermaid `stateDiagram-v2` and Graphviz DOT.

Both show every stage and every action; parish and central stages in different colours,
handoffs (an edge whose ends are owned on different levels) as a dashed bold edge
marked ⇄, the initial and the terminal stages, and optionally one highlighted stage
(a project's current stage).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator

from workflow.errors import NotFound
from workflow.labels import text
from workflow.scheme import Level, Scheme

HANDOFF = "⇄"

# Fill / border colours, shared by both formats so the two drawings read alike.
_PARISH = ("#e8f5e9", "#2e7d32")
_CENTRAL = ("#e3f2fd", "#1565c0")
_TERMINAL = ("#eeeeee", "#616161")
_CURRENT = "#c62828"
_HANDOFF_EDGE = "#6a1b9a"

_LEVEL_NAMES = {
    Level.parish: {"lv": "Pagasts / pilsēta", "en": "Parish / town"},
    Level.central: {"lv": "Centrālā administrācija", "en": "Central administration"},
}

# Words of the stateDiagram grammar that must not stand alone as a state id.
_MERMAID_WORDS = {
    "as", "class", "classdef", "click", "default", "direction", "end", "note", "state",
    "style", "left", "right", "of", "over", "hide", "scale", "accTitle", "accDescr",
}


def _edges(scheme: Scheme) -> Iterator[tuple[str, str, str, bool]]:
    """(source, target, action, is_handoff) for every edge, in file order."""
    for name, action in scheme.actions.items():
        for src in action.source:
            yield src, action.to, name, scheme.handoff_source_level(name, src) is not None


def scheme_title(scheme: Scheme, lang: str = "lv") -> str:
    """The scheme's title in `lang`, or its name."""
    return text(scheme.title, lang, scheme.scheme)


def _check_highlight(scheme: Scheme, highlight: str | None) -> None:
    if highlight is not None and highlight not in scheme.stages:
        raise NotFound(f"unknown stage {highlight!r}", stage=highlight)


# --- Mermaid -------------------------------------------------------------------------

def _mermaid_text(value: str) -> str:
    """Text safe inside a quoted state description or after `-->  a: `.

    Mermaid turns `#name;` / `#123;` entity codes into characters after parsing, so
    every character its grammar treats specially is written as one.
    """
    value = " ".join(value.split())
    return re.sub(r'[#"<>:;%{}\\]', lambda m: f"#{ord(m.group())};", value)


def _mermaid_ids(names: list[str]) -> dict[str, str]:
    used: set[str] = set(names)
    out: dict[str, str] = {}
    for name in names:
        new = name
        if name.lower() in {w.lower() for w in _MERMAID_WORDS}:
            new = f"{name}_"
            while new in used:
                new += "_"
            used.add(new)
        out[name] = new
    return out


def mermaid(scheme: Scheme, lang: str = "lv", highlight: str | None = None) -> str:
    """A Mermaid `stateDiagram-v2` of `scheme` in `lang`, ending with a newline.

    Every stage is declared as `state "Title" as id` and every action source gives one
    `a --> b: title` line; raises NotFound if `highlight` is not a stage.
    """
    _check_highlight(scheme, highlight)
    ids = _mermaid_ids(list(scheme.stages))
    lines: list[str] = []
    if scheme.title is not None:
        lines += ["---", f"title: {json.dumps(scheme_title(scheme, lang), ensure_ascii=False)}",
                  "---"]
    lines += [
        "stateDiagram-v2",
        f"    classDef parish fill:{_PARISH[0]},stroke:{_PARISH[1]},color:#1b5e20",
        f"    classDef central fill:{_CENTRAL[0]},stroke:{_CENTRAL[1]},color:#0d47a1",
        f"    classDef terminal fill:{_TERMINAL[0]},stroke:{_TERMINAL[1]},color:#212121",
        f"    classDef current stroke:{_CURRENT},stroke-width:4px,font-weight:bold",
    ]
    for name in scheme.stages:
        lines.append(f'    state "{_mermaid_text(scheme.stage_title(name, lang))}" as {ids[name]}')
    lines.append(f"    [*] --> {ids[scheme.initial_stage]}")
    for src, dst, action, handoff in _edges(scheme):
        label = _mermaid_text(scheme.action_title(action, lang))
        lines.append(f"    {ids[src]} --> {ids[dst]}: {HANDOFF + ' ' if handoff else ''}{label}")
    for name, stage in scheme.stages.items():
        if stage.terminal:
            lines.append(f"    {ids[name]} --> [*]")
    for name, stage in scheme.stages.items():
        level = scheme.level_of_stage(name)
        if stage.terminal:
            lines.append(f"    class {ids[name]} terminal")
        elif level is not None:
            lines.append(f"    class {ids[name]} {level.value}")
    if highlight is not None:
        lines.append(f"    class {ids[highlight]} current")
    return "\n".join(lines) + "\n"


# --- Graphviz DOT --------------------------------------------------------------------

def _dot_string(value: str) -> str:
    """A double-quoted DOT string showing `value` literally (no escape sequences)."""
    value = " ".join(value.split())
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _dot_html(value: str) -> str:
    return html.escape(" ".join(value.split()), quote=True)


def _dot_node(scheme: Scheme, name: str, lang: str, highlight: str | None) -> str:
    stage = scheme.stages[name]
    level = scheme.level_of_stage(name)
    fill, line = _TERMINAL if stage.terminal else _PARISH if level is Level.parish else _CENTRAL
    label = f"<B>{_dot_html(scheme.stage_title(name, lang))}</B>"
    if stage.owner:
        role = _dot_html(scheme.role_title(stage.owner, lang))
        label += f'<BR/><FONT POINT-SIZE="9">{role}</FONT>'
    attrs = [f"label=<{label}>", f'fillcolor="{fill}"']
    if name == highlight:
        attrs.append(f'color="{_CURRENT}", penwidth=4')
    else:
        attrs.append(f'color="{line}"')
    if stage.terminal:
        attrs.append('style="filled", peripheries=2')
    return f"{_dot_string(name)} [{', '.join(attrs)}];"


def dot(scheme: Scheme, lang: str = "lv", highlight: str | None = None) -> str:
    """A Graphviz `digraph` of `scheme` in `lang`, ending with a newline.

    Parish and central stages sit in two labelled clusters; raises NotFound if
    `highlight` is not a stage.
    """
    _check_highlight(scheme, highlight)
    font = 'fontname="Helvetica"'
    lines = [
        f"digraph {_dot_string(scheme.scheme)} {{",
        f"    graph [{font}, label={_dot_string(scheme_title(scheme, lang))}, labelloc=t,"
        " newrank=true, nodesep=0.4];",
        f'    node [{font}, shape=box, style="rounded,filled", fontsize=11];',
        f"    edge [{font}, fontsize=9];",
        '    "__start" [shape=point, width=0.2, label="", style=filled, fillcolor=black];',
    ]
    for level, (_, line) in ((Level.parish, _PARISH), (Level.central, _CENTRAL)):
        members = [s for s, st in scheme.stages.items()
                   if not st.terminal and scheme.level_of_stage(s) is level]
        if not members:
            continue
        title = _LEVEL_NAMES[level]["en" if lang == "en" else "lv"]
        lines.append(f"    subgraph cluster_{level.value} {{")
        lines.append(f'        label={_dot_string(title)}; style="rounded,dashed";'
                     f' color="{line}"; fontcolor="{line}";')
        lines += [f"        {_dot_node(scheme, s, lang, highlight)}" for s in members]
        lines.append("    }")
    lines += [
        f"    {_dot_node(scheme, s, lang, highlight)}"
        for s, st in scheme.stages.items()
        if st.terminal or scheme.level_of_stage(s) is None
    ]
    lines.append(f'    "__start" -> {_dot_string(scheme.initial_stage)};')
    for src, dst, action, handoff in _edges(scheme):
        title = scheme.action_title(action, lang)
        attrs = [f"label={_dot_string(f'{HANDOFF} {title}' if handoff else title)}"]
        if handoff:
            attrs.append(f'style="dashed,bold", color="{_HANDOFF_EDGE}",'
                         f' fontcolor="{_HANDOFF_EDGE}"')
        lines.append(f"    {_dot_string(src)} -> {_dot_string(dst)} [{', '.join(attrs)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"
