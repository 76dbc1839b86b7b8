"""Whatever text or data a scheme file holds, loading it either succeeds or raises
SchemeError — never another exception."""

from __future__ import annotations

import json
import textwrap
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from workflow.errors import OrgError, SchemeError
from workflow.loader import load_org_text, load_scheme_text
from workflow.scheme import Scheme
from workflow.yamlsource import read

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
            text = text[:i] + text[i + n :]
        elif kind == "insert":
            i = draw(st.integers(0, len(text)))
            piece = draw(
                st.one_of(
                    st.sampled_from(
                        [
                            ":",
                            "-",
                            "[",
                            "]",
                            "{",
                            "}",
                            ",",
                            " ",
                            "\n",
                            "\t",
                            "'",
                            '"',
                            "&a",
                            "*a",
                            "!!int",
                            "? ",
                            "|",
                            ">",
                            "#",
                            "%",
                            "@",
                            "null",
                            "true",
                            "yes",
                            "0x1F",
                            "1e9",
                            "~",
                            "<<: *a",
                            "ā",
                            "\x00",
                        ]
                    ),
                    st.text(max_size=8),
                )
            )
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
        st.sampled_from([*" \n:-[]{},'\"&*!|>?#%@~\t", "  ", "- ", ": ", "a", "1"]),
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
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(
        [
            "draft",
            "review",
            "done",
            "clerk",
            "manager",
            "coordinator",
            "summary",
            "call_deadline",
            "parish",
            "central",
            "required",
            "LV",
            "yes",
            "state",
        ]
    ),
    st.text(max_size=10),
)
KEYS = st.one_of(
    st.sampled_from(
        [
            "scheme",
            "title",
            "roles",
            "stages",
            "actions",
            "dates",
            "initial",
            "calendar",
            "owner",
            "level",
            "from",
            "to",
            "by",
            "requires",
            "checklist",
            "deadline",
            "reminders",
            "escalation",
            "before",
            "after",
            "working_days",
            "calendar_days",
            "terminal",
            "participants",
            "notify",
            "comment",
            "lv",
            "en",
            "draft",
            "review",
            "done",
            "clerk",
        ]
    ),
    st.text(min_size=1, max_size=8),
)
DATA = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=5)),
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
    data = read(SMALL, "seed.yaml").data
    entry = data[section].setdefault(name, {})
    if isinstance(entry, dict):
        entry[key] = value
    else:
        data[section][name] = value
    load_or_scheme_error(as_yaml(data))


@FUZZ
@given(
    key=st.sampled_from(
        ["initial", "scheme", "roles", "stages", "actions", "dates", "calendar", "title"]
    ),
    value=DATA,
)
def test_a_valid_scheme_with_one_random_top_level_value_loads_or_raises_scheme_error(
    key: str, value: Any
) -> None:
    data = read(SMALL, "seed.yaml").data
    data[key] = value
    load_or_scheme_error(as_yaml(data))


# Minimal cases the properties above found; each once escaped as TypeError or as a
# SchemeError listing no problem at all.


def test_a_file_holding_only_null_reports_a_problem() -> None:
    for text in ("~", "null", "!"):
        assert load_or_scheme_error(text) is None


def test_an_initial_stage_given_as_a_list_is_a_scheme_error() -> None:
    assert load_or_scheme_error(SMALL + "initial: []\n") is None


def test_an_escalation_given_as_a_number_is_a_scheme_error() -> None:
    text = SMALL.replace(
        "    escalation:\n      - {after: {working_days: 1}, to: manager}\n", "    escalation: 5\n"
    )
    assert "escalation: 5" in text
    assert load_or_scheme_error(text) is None


SMALL_ORG = textwrap.dedent("""\
    municipality: {name: Mazais novads, code_prefix: MAZ, root: novads}
    units:
      novads: {name: Mazais novads, kind: municipality}
      pagasts: {name: {lv: Mazais pagasts, en: Small parish}, kind: parish, parent: novads}
    people:
      anna:
        name: Anna Koordinatore
        email: anna@example.org
        roles: [{role: coordinator, unit: novads}]
      juris: {name: Juris, roles: [{role: clerk, unit: pagasts}], accounts: [juris]}
""")


def load_org_or_org_error(text: str) -> bool:
    """Load `text` as an organisation; an OrgError must list located problems."""
    try:
        load_org_text(text, "fuzz-org.yaml")
    except OrgError as exc:
        assert exc.problems
        assert all(str(p).startswith("fuzz-org.yaml:") for p in exc.problems)
        return False
    return True


def test_the_seed_organisation_is_valid() -> None:
    assert load_org_or_org_error(SMALL_ORG)


@pytest.mark.parametrize("key", ["roles", "accounts"])
def test_an_org_person_whose_list_is_a_number_is_an_org_error(key: str) -> None:
    data = read(SMALL_ORG, "seed.yaml").data
    data["people"]["juris"][key] = 5
    assert not load_org_or_org_error(as_yaml(data))


@FUZZ
@given(
    path=st.sampled_from(
        [
            ("municipality",),
            ("municipality", "root"),
            ("units",),
            ("units", "pagasts"),
            ("units", "pagasts", "parent"),
            ("people",),
            ("people", "juris"),
            ("people", "juris", "roles"),
            ("people", "juris", "accounts"),
            ("calendar",),
            ("calendar", "days_off"),
            ("funding_instruments",),
        ]
    ),
    value=DATA,
)
def test_an_organisation_with_one_random_value_loads_or_raises_org_error(
    path: tuple[str, ...], value: Any
) -> None:
    data = read(SMALL_ORG, "seed.yaml").data
    node = data
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value
    load_org_or_org_error(as_yaml(data))
