"""Refusals are data: every error raised with a code has a Latvian and an English sentence
that uses only the parameters given where it is raised; rendering needs no database."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest

import engine.notify  # noqa: F401  (defines DeliveryError)
import workflow.domains
import workflow.limits  # noqa: F401  (defines LimitExceeded)
from render.refusals import CATALOGUE, fields, render
from workflow.errors import NotAllowed, ShemaError, UsageError

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ["engine", "storage", "web", "commands", "workflow", "render", "cli.py"]
# Errors whose constructor adds parameters of its own (workflow/limits.py, domains.py).
ADDED = {"LimitExceeded": {"field", "limit", "size"}, "OutOfDomain": {"field", "value"}}


def _subclasses(cls: type) -> set[str]:
    return {cls.__name__} | {n for sub in cls.__subclasses__() for n in _subclasses(sub)}


ERRORS = _subclasses(ShemaError)


def _raised() -> dict[str, set[str]]:
    """Every constant `code=` given to a call in the sources, with the keyword names the
    call passes (and what its error class adds); a code raised in several places keeps
    the parameters all of them give."""
    found: dict[str, set[str]] = {}
    files = [
        p for s in SOURCES for p in ([ROOT / s] if s.endswith(".py") else (ROOT / s).rglob("*.py"))
    ]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            kws = {k.arg: k.value for k in node.keywords if k.arg}
            code = kws.get("code")
            if code is None:
                continue
            values = [code.body, code.orelse] if isinstance(code, ast.IfExp) else [code]
            name = node.func.id if isinstance(node.func, ast.Name) else ""
            if name not in ERRORS:  # a helper passing a code on: its raise is checked
                continue
            given = set(kws) - {"code"} | ADDED.get(name, set())
            if any(k.arg is None for k in node.keywords):  # **params: cannot know
                given |= {"*"}
            for v in values:
                if isinstance(v, ast.Constant) and isinstance(v.value, str) and "." in v.value:
                    found[v.value] = found[v.value] & given if v.value in found else given
    return found


RAISED = _raised()


def test_the_sources_raise_coded_errors() -> None:
    assert len(RAISED) > 40


@pytest.mark.parametrize("code", sorted(RAISED))
def test_every_code_raised_has_a_sentence_in_both_languages(code: str) -> None:
    assert code in CATALOGUE, f"{code} has no entry in render/refusals"
    lv, en = CATALOGUE[code]
    assert lv and en and lv != en


# Codes raised with **params cannot be checked here; the render falls back for them.
@pytest.mark.parametrize("code", sorted(c for c, given in RAISED.items() if "*" not in given))
def test_a_sentence_uses_only_what_the_raise_gives(code: str) -> None:
    given = RAISED[code]
    for template in CATALOGUE[code]:
        assert fields(template) <= given, f"{code}: {fields(template) - given} not given"


def test_latvian_is_rendered_with_names_and_dates_in_latvian_form() -> None:
    exc = NotAllowed(
        "liga may not take 'submit' on OGRE-2026-0001: it is on hold since 2026-12-16",
        code="advance.on_hold",
        actor="liga",
        project="OGRE-2026-0001",
        action="submit",
        since=dt.date(2026, 12, 16),
        reason="Gaida VARAM",
    )

    said = render(exc, "lv", name_of={"liga": "Līga Ozoliņa"}.get)

    assert said == (
        "Projekts OGRE-2026-0001 ir apturēts kopš 16.12.2026. (Gaida VARAM); vispirms atsāciet to."
    )
    assert render(exc, "en").endswith("since 2026-12-16 (Gaida VARAM); resume it first.")


def test_lists_are_joined_and_people_named() -> None:
    exc = NotAllowed(
        "x", code="project.not_stage_worker", actor="liga", project="P-1", what="hold",
        stage="idea", needs=["parish_specialist"], roles=["project_manager", "viewer"],
    )  # fmt: skip

    said = render(exc, "lv", name_of=lambda pid: {"liga": "Līga"}.get(pid, pid))

    assert said.startswith("Līga nevar to darīt projektā P-1: posmā idea strādā parish_specialist")
    assert "project_manager, viewer" in said


def test_an_unknown_code_or_a_missing_parameter_falls_back_to_the_message() -> None:
    assert render(UsageError("plain words", code="no.such.code"), "lv") == "plain words"
    assert render(NotAllowed("plain words", code="advance.on_hold"), "lv") == "plain words"
    assert render(ShemaError("plain"), "en") == "plain"
