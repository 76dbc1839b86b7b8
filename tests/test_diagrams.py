"""Diagrams drawn from a scheme's model: every stage and action shown, levels, handoffs,
the initial and terminal stages and a highlighted stage marked, labels escaped."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from workflow.diagram import HANDOFF, dot, mermaid
from workflow.errors import NotFound
from workflow.loader import load_scheme, load_scheme_text
from workflow.scheme import Scheme

UNIFIED = Path(__file__).resolve().parent.parent / "schemes" / "unified.yaml"

SMALL = textwrap.dedent("""\
    scheme: small
    title: {lv: Maza shēma, en: Small scheme}
    roles:
      clerk: {level: parish, title: {lv: Lietvedis, en: Clerk}}
      manager: {level: central, title: {lv: Vadītājs, en: Manager}}
    stages:
      draft: {owner: clerk, title: {lv: Melnraksts, en: Draft}}
      review: {owner: manager, title: {lv: Pārbaude, en: Review}}
      approval: {owner: manager, title: {lv: Apstiprināšana, en: Approval}}
      done: {terminal: true, title: {lv: Pabeigts, en: Done}}
      dropped: {terminal: true, title: {lv: Atmests, en: Dropped}}
    actions:
      submit: {from: draft, to: review, by: [clerk], title: {lv: Iesniegt, en: Submit}}
      approve: {from: review, to: approval, by: [manager], title: {lv: Virzīt, en: Forward}}
      note: {from: approval, to: approval, by: [manager], title: {lv: Piezīme, en: Note}}
      finish: {from: approval, to: done, by: [manager], title: {lv: Pabeigt, en: Finish}}
      drop: {from: [draft, review], to: dropped, by: [manager]}
""")


@pytest.fixture(scope="module")
def small() -> Scheme:
    return load_scheme_text(SMALL, "small.yaml")


@pytest.fixture(scope="module")
def unified() -> Scheme:
    return load_scheme(UNIFIED)


def mermaid_edges(text: str) -> list[tuple[str, str, str]]:
    """(source id, target id, label) of every `a --> b: label` line."""
    return re.findall(r"^\s+(\w+) --> (\w+): (.*)$", text, flags=re.M)


def mermaid_ids(text: str) -> dict[str, str]:
    """State id → description of every `state "…" as id` line."""
    return {m[1]: m[0] for m in re.findall(r'^\s+state "(.*)" as (\w+)$', text, flags=re.M)}


def dot_edges(text: str) -> list[tuple[str, str, str]]:
    return re.findall(r'^\s+"(\w+)" -> "(\w+)" \[(.*)\];$', text, flags=re.M)


def assert_mermaid_shows_everything(scheme: Scheme, text: str) -> None:
    ids = mermaid_ids(text)
    assert set(ids) == set(scheme.stages)
    for name in scheme.stages:
        assert ids[name].startswith(scheme.stage_title(name))
    edges = mermaid_edges(text)
    expected = [
        (src, a.to, scheme.action_title(name))
        for name, a in scheme.actions.items()
        for src in a.source
    ]
    assert [(s, d, label.removeprefix(f"{HANDOFF} ")) for s, d, label in edges] == expected


@pytest.mark.parametrize("lang", ["lv", "en"])
def test_mermaid_shows_every_stage_and_action_of_the_small_scheme(small: Scheme, lang: str) -> None:
    text = mermaid(small, lang)
    assert text.startswith("---\ntitle: ") and "\nstateDiagram-v2\n" in text
    ids = mermaid_ids(text)
    for name in small.stages:
        assert ids[name].startswith(small.stage_title(name, lang))
    labels = [label.removeprefix(f"{HANDOFF} ") for _, _, label in mermaid_edges(text)]
    assert sorted(labels) == sorted(
        small.action_title(a, lang) for a, act in small.actions.items() for _ in act.source
    )


def test_mermaid_shows_every_stage_and_action_of_the_unified_scheme(unified: Scheme) -> None:
    assert_mermaid_shows_everything(unified, mermaid(unified))


def test_mermaid_marks_a_handoff_and_not_a_same_level_action(small: Scheme) -> None:
    edges = {(s, d): label for s, d, label in mermaid_edges(mermaid(small))}
    assert edges[("draft", "review")] == f"{HANDOFF} Iesniegt"
    assert edges[("review", "approval")] == "Virzīt"


def test_mermaid_marks_a_handoff_only_from_the_sources_on_another_level(small: Scheme) -> None:
    edges = {(s, d): label for s, d, label in mermaid_edges(mermaid(small))}
    assert edges[("draft", "dropped")] == "drop"  # a terminal stage has no level
    assert edges[("review", "dropped")] == "drop"


def test_mermaid_marks_the_initial_and_the_terminal_stages(small: Scheme) -> None:
    text = mermaid(small)
    assert re.findall(r"\[\*\] --> (\w+)", text) == ["draft"]
    assert sorted(re.findall(r"(\w+) --> \[\*\]", text)) == ["done", "dropped"]
    assert "class done terminal" in text and "class dropped terminal" in text


def test_mermaid_colours_parish_and_central_stages_differently(small: Scheme) -> None:
    text = mermaid(small)
    fills = dict(re.findall(r"classDef (\w+) fill:(#\w+)", text))
    assert fills["parish"] != fills["central"]
    assert "class draft parish" in text
    assert "class review central" in text and "class approval central" in text


def test_mermaid_emphasises_the_highlighted_stage(small: Scheme) -> None:
    assert "class review current" not in mermaid(small)
    assert mermaid(small, highlight="review").rstrip().endswith("class review current")


def test_highlighting_an_unknown_stage_is_not_found(small: Scheme) -> None:
    with pytest.raises(NotFound):
        mermaid(small, highlight="nowhere")
    with pytest.raises(NotFound):
        dot(small, highlight="nowhere")


def test_mermaid_renames_a_stage_named_after_a_mermaid_keyword() -> None:
    text = SMALL.replace("approval", "end").replace("  note:", "  remark:")
    diagram = mermaid(load_scheme_text(text))
    assert "as end_\n" in diagram
    assert " end --> " not in diagram and not re.search(r"\bend\b -->", diagram)
    assert "end_ --> done: Pabeigt" in diagram


def test_dot_shows_every_stage_and_action(unified: Scheme) -> None:
    text = dot(unified, "en")
    for name in unified.stages:
        assert re.search(rf'^\s+"{name}" \[label=<<B>', text, flags=re.M), name
    pairs = [(s, d) for s, d, _ in dot_edges(text) if not s.startswith("__")]
    assert pairs == [(src, a.to) for a in unified.actions.values() for src in a.source]
    for action in unified.actions:
        assert unified.action_title(action, "en") in text


def test_dot_draws_a_handoff_dashed_and_bold_and_a_same_level_action_plain(small: Scheme) -> None:
    edges = {(s, d): attrs for s, d, attrs in dot_edges(dot(small))}
    assert f'label="{HANDOFF} Iesniegt"' in edges[("draft", "review")]
    assert 'style="dashed,bold"' in edges[("draft", "review")]
    assert edges[("review", "approval")] == 'label="Virzīt"'


def test_dot_marks_terminal_initial_and_highlighted_stages(small: Scheme) -> None:
    text = dot(small, highlight="review")
    nodes = dict(re.findall(r'^\s+"(\w+)" \[(label=.*)\];$', text, flags=re.M))
    assert "peripheries=2" in nodes["done"] and "peripheries=2" in nodes["dropped"]
    assert "peripheries=2" not in nodes["draft"]
    assert '"__start" -> "draft";' in text
    assert "penwidth=4" in nodes["review"] and "penwidth" not in nodes["approval"]
    assert nodes["draft"].count("fillcolor") == 1
    fill = {n: re.findall(r'fillcolor="(#\w+)"', a) for n, a in nodes.items()}
    assert fill["draft"] != fill["review"] == fill["approval"]


TRICKY = textwrap.dedent("""\
    scheme: tricky
    title: 'Shēma "pēdiņās" <b>'
    roles:
      clerk: {level: parish, title: 'Ķērājs & <co>'}
      boss: {level: central}
    stages:
      draft: {owner: clerk, title: 'Melnraksts "ā, ē, ķ" <x> a:b; #1; \\ %% {c}'}
      done: {terminal: true}
    actions:
      go: {from: draft, to: done, by: [boss], title: 'Iet "uz" <augšu>: 1; #2'}
""")


def test_mermaid_escapes_quotes_brackets_and_keeps_latvian_letters() -> None:
    text = mermaid(load_scheme_text(TRICKY))
    line = next(x for x in text.splitlines() if x.endswith(" as draft"))
    assert line == (
        '    state "Melnraksts #34;ā, ē, ķ#34; #60;x#62; a#58;b#59; #35;1#59; #92; #37;#37; '
        '#123;c#125;<br/><small>Ķērājs & #60;co#62;</small>" as draft'
    )
    assert "    draft --> done: Iet #34;uz#34; #60;augšu#62;#58; 1#59; #35;2\n" in text
    assert 'title: "Shēma \\"pēdiņās\\" ‹b›"' in text


def test_dot_escapes_quotes_brackets_and_keeps_latvian_letters() -> None:
    text = dot(load_scheme_text(TRICKY))
    assert (
        "<B>Melnraksts &quot;ā, ē, ķ&quot; &lt;x&gt; a:b; #1; \\ %% {c}</B>"
        '<BR/><FONT POINT-SIZE="9">Ķērājs &amp; &lt;co&gt;</FONT>'
    ) in text
    assert 'label="Iet \\"uz\\" <augšu>: 1; #2"' in text
    assert 'label="Shēma \\"pēdiņās\\" <b>"' in text


def graphviz() -> str:
    """The `dot` binary; missing fails in CI (which installs it) and skips elsewhere."""
    found = shutil.which("dot")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Graphviz `dot` is not installed (CI installs it)")
        pytest.skip("Graphviz `dot` is not installed")
    return found


@pytest.mark.parametrize("source", ["small", "tricky", "unified"])
@pytest.mark.parametrize("lang", ["lv", "en"])
def test_graphviz_renders_the_dot_output(source: str, lang: str, unified: Scheme) -> None:
    binary = graphviz()
    scheme = {
        "small": lambda: load_scheme_text(SMALL),
        "tricky": lambda: load_scheme_text(TRICKY),
        "unified": lambda: unified,
    }[source]()
    highlight = next(iter(scheme.stages))
    run = subprocess.run(
        [binary, "-Tsvg"],
        input=dot(scheme, lang, highlight).encode(),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr.decode(errors="replace")
    assert b"<svg" in run.stdout
    assert not run.stderr.strip(), run.stderr.decode(errors="replace")
