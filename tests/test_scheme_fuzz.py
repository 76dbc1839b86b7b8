"""Whatever text or data a scheme file holds, loading it either succeeds or raises
SchemeError — never another exception."""

from __future__ import annotations

import json
import textwrap
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from workflow.errors import SchemeError
from workflow.loader import load_scheme_text
from workflow.scheme import Scheme

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SMALL = textwrap.dedent("""\
    scheme: small
    title: {lv: Maza shēma, en: Small scheme}
    dates: {call_deadline: {title: Call closes}}
    roles:
      clerk: {level: parish, title: {lv: Lietvedis, en: Clerk}}
      manager: {level: central}
    stages:
      draft:
        owner: clerk
        deadline: {working_days: 5}
        reminders: [{before: {working_days: 1}}]
        escalation:
          - {after: {working_days: 1}, to: manager}
        checklist: [summary]
      review: {owner: manager, deadline: {before: call_deadline, calendar_days: 2}}
      done: {terminal: true}
    actions:
      submit: {from: draft, to: review, by: [clerk], requires: [summary]}
      send_back: {from: review, to: draft, by: [manager], comment: required}
      finish: {from: [review, draft], to: done, by: [manager]}
""")


def load_or_scheme_error(text: str) -> Scheme | None:
    """Load `text`; a SchemeError is a fine answer, and it must list located problems."""
    try:
        return load_scheme_text(text, "fuzz.yaml")
    except SchemeError as exc:
        assert exc.problems
        assert all(p.line >= 1 and p.column >= 1 for p in exc.problems)
        assert all(str(p).startswith("fuzz.yaml:") for p in exc.problems)
        return None


def test_the_seed_scheme_is_valid() -> None:
    assert load_or_scheme_error(SMALL) is not None


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """The seed scheme after a few random deletions, insertions and line swaps."""
    text = SMALL
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["delete", "insert", "swap", "duplicate"]))
        if kind == "delete" and text:
            i = draw(st.integers(0, len(text) - 1))
            n = draw(st.integers(1, 12))
            text = text[:i] + text[i + n:]
        elif kind == "insert":
            i = draw(st.integers(0, len(text)))
            piece = draw(st.one_of(
                st.sampled_from([":", "-", "[", "]", "{", "}", ",", " ", "\n", "\t", "'", '"',
                                 "&a", "*a", "!!int", "? ", "|", ">", "#", "%", "@", "null",
                                 "true", "yes", "0x1F", "1e9", "~", "<<: *a", "ā", "\x00"]),
                st.text(max_size=8),
            ))
            text = text[:i] + piece + text[i:]
        else:
            lines = text.split("\n")
            a = draw(st.integers(0, len(lines) - 1))
            b = draw(st.integers(0, len(lines) - 1))
            if kind == "swap":
                lines[a], lines[b] = lines[b], lines[a]
            else:
                lines.insert(b, lines[a])
            text = "\n".join(lines)
    return text


@FUZZ
@given(mutated())
def test_a_mutated_scheme_loads_or_raises_scheme_error(text: str) -> None:
    load_or_scheme_error(text)


YAMLISH = st.lists(
    st.one_of(
        st.sampled_from(list(" \n:-[]{},'\"&*!|>?#%@~\t") + ["  ", "- ", ": ", "a", "1"]),
        st.characters(codec="utf-8"),
    ),
    max_size=120,
).map("".join)


@FUZZ
@given(YAMLISH)
@example("scheme: [")
@example("&a [*a]")
@example("&a {x: *a}")
@example("? [a]\n: b")
@example("!!binary xyz: 1")
@example("%YAML 1.1\n---\nscheme: x")
@example("---\na: 1\n---\nb: 2")
def test_random_yamlish_text_loads_or_raises_scheme_error(text: str) -> None:
    load_or_scheme_error(text)


SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["draft", "review", "done", "clerk", "manager", "coordinator", "summary",
                     "call_deadline", "parish", "central", "required", "LV", "yes", "state"]),
    st.text(max_size=10),
)
KEYS = st.one_of(
    st.sampled_from(["scheme", "title", "roles", "stages", "actions", "dates", "initial",
                     "calendar", "owner", "level", "from", "to", "by", "requires",
                     "checklist", "deadline", "reminders", "escalation", "before", "after",
                     "working_days", "calendar_days", "terminal", "participants", "notify",
                     "comment", "lv", "en", "draft", "review", "done", "clerk"]),
    st.text(min_size=1, max_size=8),
)
DATA = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(KEYS, inner, max_size=5)),
    max_leaves=30,
)


def as_yaml(data: Any) -> str:
    # JSON is valid YAML 1.2 and keeps every value's type.
    return json.dumps(data, ensure_ascii=False)


@FUZZ
@given(st.dictionaries(KEYS, DATA, max_size=8))
def test_random_structured_data_loads_or_raises_scheme_error(data: dict[str, Any]) -> None:
    load_or_scheme_error(as_yaml(data))


@FUZZ
@given(
    section=st.sampled_from(["roles", "stages", "actions", "dates"]),
    name=st.sampled_from(["clerk", "draft", "review", "submit", "finish", "call_deadline"]),
    key=KEYS,
    value=DATA,
)
def test_a_valid_scheme_with_one_random_value_loads_or_raises_scheme_error(
    section: str, name: str, key: str, value: Any
) -> None:
    from workflow.yamlsource import read

    data = read(SMALL, "seed.yaml").data
    entry = data[section].setdefault(name, {})
    if isinstance(entry, dict):
        entry[key] = value
    else:
        data[section][name] = value
    load_or_scheme_error(as_yaml(data))


@FUZZ
@given(key=st.sampled_from(["initial", "scheme", "roles", "stages", "actions", "dates",
                            "calendar", "title"]),
       value=DATA)
def test_a_valid_scheme_with_one_random_top_level_value_loads_or_raises_scheme_error(
    key: str, value: Any
) -> None:
    from workflow.yamlsource import read

    data = read(SMALL, "seed.yaml").data
    data[key] = value
    load_or_scheme_error(as_yaml(data))
