"""Loading schemes: the shipped files are valid, and every kind of broken file is reported
with its file, line, column, path and a clear message — all problems at once."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from workflow.errors import Problem, SchemeError
from workflow.loader import load_org, load_scheme, load_scheme_text
from workflow.yamlsource import read

SCHEMES = Path(__file__).resolve().parent.parent / "schemes"
SHIPPED = sorted(SCHEMES.glob("*.yaml"))


def kind_of(path: Path) -> str:
    """'scheme' or 'org', by the file's top-level keys."""
    data = read(path.read_text(encoding="utf-8"), path.name).data
    return "org" if isinstance(data, dict) and "municipality" in data else "scheme"


def shipped(kind: str) -> list[Path]:
    return [p for p in SHIPPED if kind_of(p) == kind]


def problems_of(text: str, file: str = "broken.yaml") -> list[Problem]:
    with pytest.raises(SchemeError) as info:
        load_scheme_text(textwrap.dedent(text).lstrip("\n"), file)
    return info.value.problems


def assert_reported(
    problems: list[Problem], line: int, column: int, path: str, *words: str
) -> None:
    """One problem sits exactly at line:column with `path` and all `words` in its message."""
    here = [p for p in problems if (p.line, p.column, p.path) == (line, column, path)]
    assert here, f"nothing at {line}:{column} {path}; got:\n" + "\n".join(map(str, problems))
    assert any(all(w in p.message for w in words) for p in here), "\n".join(map(str, here))
    assert all(p.file == "broken.yaml" for p in problems)
    assert all(str(p).startswith(f"broken.yaml:{p.line}:{p.column}: ") for p in problems)


# A small valid scheme that the broken cases below vary; line numbers are file lines.
VALID = """
scheme: small
title: {lv: Maza shēma, en: Small scheme}
roles:
  clerk: {level: parish, title: {lv: Lietvedis, en: Clerk}}
  manager: {level: central}
stages:
  draft:
    owner: clerk
    deadline: {working_days: 5}
    escalation:
      - {after: {working_days: 1}, to: manager}
    checklist: [summary]
  review: {owner: manager}
  done: {terminal: true}
actions:
  submit: {from: draft, to: review, by: [clerk], requires: [summary]}
  send_back: {from: review, to: draft, by: [manager], comment: required}
  finish: {from: review, to: done, by: [manager]}
"""


def test_the_small_valid_scheme_loads() -> None:
    scheme = load_scheme_text(textwrap.dedent(VALID), "small.yaml")
    assert scheme.initial_stage == "draft"
    assert scheme.is_handoff("submit")
    assert not scheme.is_handoff("finish")


def test_folded_text_reads_as_written_without_the_composers_fold_marks() -> None:
    source = read("a: >-\n  one\n  two\nb: |-\n  three\n  four\n", "x.yaml")
    assert source.data == {"a": "one two", "b": "three\nfour"}


def test_every_stage_description_of_the_shipped_scheme_is_printable_text() -> None:
    scheme = load_scheme(next(p for p in SHIPPED if p.name == "unified.yaml"))
    texts = [str(s.description) for s in scheme.stages.values() if s.description]
    assert texts and all(t.isprintable() for t in texts)


def test_the_unified_scheme_is_shipped() -> None:
    assert "unified.yaml" in {p.name for p in SHIPPED}


@pytest.mark.parametrize("path", shipped("scheme"), ids=lambda p: p.name)
def test_every_shipped_scheme_validates(path: Path) -> None:
    scheme = load_scheme(path)
    assert scheme.stages and scheme.actions


@pytest.mark.parametrize("path", shipped("org"), ids=lambda p: p.name)
def test_every_shipped_organisation_validates_against_the_unified_scheme(path: Path) -> None:
    organisation = load_org(path, load_scheme(SCHEMES / "unified.yaml"))
    assert organisation.units


def test_a_value_of_the_wrong_type_is_located_at_the_value() -> None:
    problems = problems_of(VALID.replace("{working_days: 5}", "{working_days: five}"))
    assert [str(p) for p in problems] == [
        "broken.yaml:9:30: stages.draft.deadline.working_days: input should be a valid "
        "integer, unable to parse string as an integer (got 'five')"
    ]


def test_an_unknown_key_is_located_at_the_key() -> None:
    problems = problems_of(VALID.replace("comment: required}", "comment: required, colour: red}"))
    assert len(problems) == 1
    assert_reported(problems, 17, 74, "actions.send_back.colour", "unknown key 'colour'")


def test_a_duplicate_key_names_the_first_definition() -> None:
    text = VALID.replace(
        "  finish: {from: review, to: done, by: [manager]}\n",
        "  finish: {from: review, to: done, by: [manager]}\n"
        "  finish: {from: draft, to: done, by: [clerk]}\n",
    )
    problems = problems_of(text)
    assert len(problems) == 1
    assert_reported(
        problems, 19, 3, "actions.finish", "duplicate key 'finish'", "first defined at line 18"
    )


def test_an_unknown_role_is_located_in_its_list() -> None:
    problems = problems_of(VALID.replace("by: [clerk], requires", "by: [clerk, mayor], requires"))
    assert len(problems) == 1
    assert_reported(problems, 16, 49, "actions.submit.by[1]", "unknown role 'mayor'")


def test_an_unknown_owner_is_reported() -> None:
    problems = problems_of(VALID.replace("review: {owner: manager}", "review: {owner: boss}"))
    assert len(problems) == 1
    assert_reported(problems, 13, 19, "stages.review.owner", "unknown role 'boss'")


def test_an_unreachable_stage_is_reported() -> None:
    text = VALID.replace(
        "  done: {terminal: true}\n",
        "  archive: {owner: manager}\n  done: {terminal: true}\n",
    ).replace(
        "  finish: {from: review, to: done, by: [manager]}\n",
        "  finish: {from: [review, archive], to: done, by: [manager]}\n",
    )
    problems = problems_of(text)
    assert len(problems) == 1
    assert_reported(problems, 14, 12, "stages.archive", "'archive' cannot be reached from 'draft'")


def test_a_trap_stage_is_reported() -> None:
    text = VALID.replace(
        "  done: {terminal: true}\n",
        "  limbo: {owner: manager}\n  done: {terminal: true}\n",
    ).replace(
        "  finish: {from: review, to: done, by: [manager]}\n",
        "  finish: {from: review, to: done, by: [manager]}\n"
        "  park: {from: review, to: limbo, by: [manager]}\n",
    )
    problems = problems_of(text)
    assert len(problems) == 1
    assert_reported(
        problems, 14, 10, "stages.limbo", "'limbo' is a trap", "no action leads out of it"
    )


def test_an_escalation_step_without_a_target_is_reported() -> None:
    problems = problems_of(VALID.replace(", to: manager}", "}"))
    assert len(problems) == 1
    assert_reported(problems, 11, 9, "stages.draft.escalation[0]", "missing required key 'to'")


def test_an_escalation_to_an_unknown_role_is_reported() -> None:
    problems = problems_of(VALID.replace("to: manager}", "to: mayor}"))
    assert len(problems) == 1
    assert_reported(problems, 11, 40, "stages.draft.escalation[0].to", "unknown role 'mayor'")


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("state", ("'state' is reserved by the state machine",)),
        ("to_x", ("'to_x' starts with a prefix reserved", "to_")),
        ("is_x", ("'is_x' starts with a prefix reserved", "is_")),
        ("may_x", ("'may_x' starts with a prefix reserved", "may_")),
        ("class", ("'class' is a Python keyword",)),
        ("trigger", ("'trigger' is reserved",)),
    ],
)
def test_a_reserved_stage_name_is_refused(name: str, words: tuple[str, ...]) -> None:
    problems = problems_of(VALID.replace("review", name))
    assert len(problems) == 1
    assert_reported(problems, 13, 5 + len(name), f"stages.{name}", "reserved name", *words)


def test_a_reserved_action_name_is_refused() -> None:
    problems = problems_of(VALID.replace("send_back:", "to_draft:"))
    assert len(problems) == 1
    assert_reported(problems, 17, 13, "actions.to_draft", "reserved name", "to_")


def test_defining_the_coordinator_role_is_refused() -> None:
    problems = problems_of(
        VALID.replace(
            "  manager: {level: central}\n",
            "  manager: {level: central}\n  coordinator: {level: central}\n",
        )
    )
    assert len(problems) == 1
    assert_reported(problems, 6, 16, "roles.coordinator", "'coordinator' is built in")


def test_the_coordinator_may_be_used_without_defining_it() -> None:
    scheme = load_scheme_text(
        textwrap.dedent(VALID).replace("by: [manager]}", "by: [manager, coordinator]}")
    )
    assert scheme.actions["finish"].by == ["manager", "coordinator"]


def test_a_required_item_missing_from_the_checklist_is_reported() -> None:
    problems = problems_of(VALID.replace("requires: [summary]", "requires: [summary, budget]"))
    assert len(problems) == 1
    assert_reported(
        problems, 16, 70, "actions.submit.requires[1]", "checklist item 'budget'", "'draft'"
    )


def test_a_deadline_before_an_undeclared_date_is_reported() -> None:
    problems = problems_of(
        VALID.replace(
            "review: {owner: manager}",
            "review: {owner: manager, deadline: {before: call_deadline, working_days: 2}}",
        )
    )
    assert len(problems) == 1
    assert_reported(
        problems,
        13,
        47,
        "stages.review.deadline.before",
        "unknown project date 'call_deadline'",
        "dates",
    )


def test_a_deadline_before_a_declared_date_loads() -> None:
    text = (
        textwrap.dedent(VALID)
        .replace(
            "review: {owner: manager}",
            "review: {owner: manager, deadline: {before: call_deadline, working_days: 2}}",
        )
        .replace("roles:\n", "dates:\n  call_deadline: {title: Call closes}\nroles:\n")
    )
    scheme = load_scheme_text(text)
    deadline = scheme.stages["review"].deadline
    assert deadline is not None and deadline.before == "call_deadline"


DUTIES = """
  ask: {from: review, to: review, by: [manager]}
  answer: {from: review, to: review, by: [manager], deadline: {working_days: 5}, opened_by: ask}
"""


def with_duties(duties: str = DUTIES) -> str:
    return textwrap.dedent(VALID).rstrip("\n") + "\n" + duties.lstrip("\n")


def test_a_duty_opened_by_another_action_loads() -> None:
    scheme = load_scheme_text(with_duties())
    assert scheme.actions["answer"].opened_by == "ask"


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        ("{from: review, to: review, by: [manager], opened_by: ask}", ("needs a deadline",)),
        (
            "{from: review, to: review, by: [manager], deadline: {working_days: 5}, "
            "opened_by: nothing}",
            ("unknown action 'nothing'",),
        ),
        (
            "{from: draft, to: review, by: [manager], deadline: {working_days: 5}, opened_by: ask}",
            ("a duty inside a stage",),
        ),
    ],
)
def test_a_wrong_opened_by_is_located_and_explained(answer: str, words: tuple[str, ...]) -> None:
    text = with_duties(f"  ask: {{from: review, to: review, by: [manager]}}\n  answer: {answer}\n")
    with pytest.raises(SchemeError) as info:
        load_scheme_text(text, "broken.yaml")
    [problem] = info.value.problems
    assert problem.path == "actions.answer.opened_by"
    assert all(w in problem.message for w in words), problem.message


def test_an_opened_by_action_that_ends_elsewhere_is_refused() -> None:
    text = with_duties(
        "  ask: {from: review, to: draft, by: [manager]}\n"
        "  answer: {from: review, to: review, by: [manager], deadline: {working_days: 5}, "
        "opened_by: ask}\n"
    )
    with pytest.raises(SchemeError) as info:
        load_scheme_text(text, "broken.yaml")
    assert [p.message for p in info.value.problems] == [
        "action 'ask' does not end in stage 'review'"
    ]


def test_a_yaml_syntax_error_is_located() -> None:
    problems = problems_of(VALID.replace("review: {owner: manager}", "review: {owner: manager"))
    assert len(problems) == 1
    assert_reported(problems, 14, 7, "", "YAML syntax", "flow mapping")


def test_a_tab_indentation_is_a_located_syntax_error() -> None:
    problems = problems_of(VALID.replace("  review:", "\treview:"))
    assert len(problems) == 1
    assert problems[0].message.startswith("YAML syntax")
    assert (problems[0].line, problems[0].column) == (13, 1)


def test_an_unknown_role_a_wrong_type_and_a_duplicate_key_are_reported_together() -> None:
    text = (
        VALID.replace("{working_days: 5}", "{working_days: soon}")
        .replace("by: [clerk], requires", "by: [mayor], requires")
        .replace(
            "  review: {owner: manager}\n", "  review: {owner: manager}\n  review: {owner: clerk}\n"
        )
    )
    problems = problems_of(text)
    assert [(p.line, p.column, p.path) for p in problems] == [
        (9, 30, "stages.draft.deadline.working_days"),
        (14, 3, "stages.review"),
        (17, 42, "actions.submit.by[0]"),
    ]
    assert "valid integer" in problems[0].message
    assert "duplicate key 'review'" in problems[1].message
    assert "unknown role 'mayor'" in problems[2].message


def test_the_error_text_lists_one_problem_a_line() -> None:
    text = VALID.replace("by: [clerk], requires", "by: [mayor], requires").replace(
        "to: manager}", "to: nobody}"
    )
    with pytest.raises(SchemeError) as info:
        load_scheme_text(textwrap.dedent(text).lstrip("\n"), "broken.yaml")
    assert str(info.value).splitlines() == [
        "broken.yaml:11:40: stages.draft.escalation[0].to: unknown role 'nobody'",
        "broken.yaml:16:42: actions.submit.by[0]: unknown role 'mayor'",
    ]


def test_yes_no_on_off_stay_strings() -> None:
    text = (
        textwrap.dedent(VALID)
        .replace("title: {lv: Lietvedis, en: Clerk}", "title: {lv: yes, en: no}")
        .replace("checklist: [summary]", "checklist: [on, off, summary]")
        .replace("requires: [summary]", "requires: [on, off]")
        .replace("scheme: small", "scheme: small\ndescription: Off")
    )
    scheme = load_scheme_text(text)
    assert scheme.role_title("clerk", "lv") == "yes"
    assert scheme.role_title("clerk", "en") == "no"
    assert list(scheme.stages["draft"].checklist) == ["on", "off", "summary"]
    assert scheme.actions["submit"].requires == ["on", "off"]
    assert scheme.description == "Off"


def test_a_missing_file_is_a_scheme_error(tmp_path: Path) -> None:
    with pytest.raises(SchemeError) as info:
        load_scheme(tmp_path / "nope.yaml")
    assert "cannot read the file" in str(info.value)


def test_a_file_that_is_not_a_mapping_is_refused() -> None:
    problems = problems_of("- just\n- a list\n")
    assert [str(p) for p in problems] == [
        "broken.yaml:1:1: the file must be a mapping of keys to values"
    ]


# -- what mail headers carry --------------------------------------------------------------


def test_a_multi_line_stage_title_is_refused_where_it_is_written() -> None:
    text = textwrap.dedent(VALID).replace(
        "  review: {owner: manager}",
        "  review:\n    owner: manager\n    title: |\n      Two\n      lines\n",
    )
    with pytest.raises(SchemeError) as info:
        load_scheme_text(text, "broken.yaml")
    [problem] = info.value.problems
    assert problem.path == "stages.review.title"
    assert text.splitlines()[problem.line - 1].strip() == "title: |"
    assert "a title is one line" in problem.message


def org_with(person: str) -> str:
    from schemes import shipped

    source = shipped("ogre.yaml").read_text(encoding="utf-8")
    return source.replace("people:\n", f"people:\n{person}", 1)


@pytest.mark.parametrize(
    ("email", "words"),
    [
        ("jānis.ozols@ogresnovads.example", "before the @-sign"),
        ("janis ozols@ogresnovads.example", "SPACE"),
        ("janis.ozols", "@-sign"),
    ],
)
def test_an_address_mail_cannot_carry_is_refused_at_load(email: str, words: str) -> None:
    from workflow.errors import OrgError
    from workflow.loader import load_org_text

    person = f"  new.person:\n    name: Jauns\n    email: {email}\n"
    with pytest.raises(OrgError) as info:
        load_org_text(org_with(person), "ogre.yaml")
    [problem] = info.value.problems
    assert problem.path == "people.new.person.email"
    assert words in problem.message


def test_an_internationalised_domain_is_accepted_and_sent_as_ascii() -> None:
    from workflow.loader import load_org_text

    person = "  new.person:\n    name: Jauns\n    email: jauns@ķegums.lv\n"
    org = load_org_text(org_with(person), "ogre.yaml")
    assert org.people["new.person"].email == "jauns@xn--egums-n5a.lv"
