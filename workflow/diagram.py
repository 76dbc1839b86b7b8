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

# Words of the stateDiagram grammar that break the parse when used as a state id
# (checked against mermaid 11), plus a few neighbours kept out for safety.
# fmt: off
_MERMAID_WORDS = {
    "as", "class", "classdef", "click", "default", "direction", "end", "note", "state",
    "style", "scale", "hide", "left", "right", "of", "over", "acctitle", "accdescr",
}
# fmt: on


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
        if name.lower() in _MERMAID_WORDS:
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
        # The front matter is plain YAML (no entity codes) and Mermaid strips tags from it.
        title = " ".join(scheme_title(scheme, lang).split()).replace("<", "‹").replace(">", "›")
        lines += ["---", f"title: {json.dumps(title, ensure_ascii=False)}", "---"]
    lines += [
        "stateDiagram-v2",
        f"    classDef parish fill:{_PARISH[0]},stroke:{_PARISH[1]},color:#1b5e20",
        f"    classDef central fill:{_CENTRAL[0]},stroke:{_CENTRAL[1]},color:#0d47a1",
        f"    classDef terminal fill:{_TERMINAL[0]},stroke:{_TERMINAL[1]},color:#212121",
        f"    classDef current stroke:{_CURRENT},stroke-width:4px,font-weight:bold",
    ]
    for name, stage in scheme.stages.items():
        label = _mermaid_text(scheme.stage_title(name, lang))
        if stage.owner:
            label += f"<br/><small>{_mermaid_text(scheme.role_title(stage.owner, lang))}</small>"
        lines.append(f'    state "{label}" as {ids[name]}')
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


def _dot_look(level: Level | None, terminal: bool) -> str:
    """Node attributes for a level: colour, and rounded corners for parish stages so the
    two levels differ in grey-scale print too."""
    if terminal:
        fill, line = _TERMINAL
        return f'fillcolor="{fill}", color="{line}", style="filled", peripheries=2'
    fill, line = _PARISH if level is Level.parish else _CENTRAL
    style = "rounded,filled" if level is Level.parish else "filled"
    return f'fillcolor="{fill}", color="{line}", style="{style}"'


def _dot_node(scheme: Scheme, name: str, lang: str, highlight: str | None) -> str:
    stage = scheme.stages[name]
    label = f"<B>{_dot_html(scheme.stage_title(name, lang))}</B>"
    if stage.owner:
        role = _dot_html(scheme.role_title(stage.owner, lang))
        label += f'<BR/><FONT POINT-SIZE="9">{role}</FONT>'
    attrs = f"label=<{label}>, {_dot_look(scheme.level_of_stage(name), stage.terminal)}"
    if name == highlight:
        attrs += f', color="{_CURRENT}", penwidth=4'
    return f"{_dot_string(name)} [{attrs}];"


_HANDOFF_ATTRS = f'style="dashed,bold", color="{_HANDOFF_EDGE}", fontcolor="{_HANDOFF_EDGE}"'


def _dot_legend(lang: str) -> list[str]:
    key = "en" if lang == "en" else "lv"
    handoff = f"{HANDOFF} {'handoff' if key == 'en' else 'nodošana'}"
    return [
        "    subgraph cluster_legend {",
        f"        label={_dot_string('Legend' if key == 'en' else 'Apzīmējumi')};"
        ' fontsize=9; style=rounded; color="#9e9e9e";',
        f'        "__parish" [label={_dot_string(_LEVEL_NAMES[Level.parish][key])},'
        f" fontsize=9, {_dot_look(Level.parish, False)}];",
        f'        "__central" [label={_dot_string(_LEVEL_NAMES[Level.central][key])},'
        f" fontsize=9, {_dot_look(Level.central, False)}];",
        f'        "__parish" -> "__central" [label={_dot_string(handoff)}, {_HANDOFF_ATTRS}];',
        "    }",
    ]


def dot(scheme: Scheme, lang: str = "lv", highlight: str | None = None) -> str:
    """A Graphviz `digraph` of `scheme` in `lang`, ending with a newline.

    Node ids are the stage names (quoted); ids of the legend and the start point begin
    with `__`, so they never clash. Raises NotFound if `highlight` is not a stage.
    """
    _check_highlight(scheme, highlight)
    font = 'fontname="Helvetica"'
    lines = [
        f"digraph {_dot_string(scheme.scheme)} {{",
        f"    graph [{font}, label={_dot_string(scheme_title(scheme, lang))}, labelloc=t];",
        f"    node [{font}, shape=box, fontsize=11];",
        f"    edge [{font}, fontsize=9];",
        *_dot_legend(lang),
        '    "__start" [shape=point, width=0.2, label=""];',
        *(f"    {_dot_node(scheme, name, lang, highlight)}" for name in scheme.stages),
        f'    "__start" -> {_dot_string(scheme.initial_stage)};',
    ]
    for src, dst, action, handoff in _edges(scheme):
        title = scheme.action_title(action, lang)
        label = _dot_string(f"{HANDOFF} {title}" if handoff else title)
        extra = f", {_HANDOFF_ATTRS}" if handoff else ""
        lines.append(f"    {_dot_string(src)} -> {_dot_string(dst)} [label={label}{extra}];")
    lines.append("}")
    return "\n".join(lines) + "\n"
