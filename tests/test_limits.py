"""Bounded input: YAML bombs, deep nesting and oversized files stop with a located
one-line error; text fields longer than their bound are refused by the engine and
nothing is stored; web uploads above the limit answer 413 before parsing."""

from __future__ import annotations

import resource
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import COORDINATOR, T0

import cli
from engine.service import Engine
from workflow import limits
from workflow.errors import SchemeError
from workflow.limits import LimitExceeded
from workflow.loader import load_org_text, load_scheme, load_scheme_text


def alias_bomb(levels: int = 10, width: int = 9) -> str:
    lines = ["a0: &a0 [" + ", ".join(["x"] * width) + "]"]
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def only_problem(exc: pytest.ExceptionInfo[SchemeError]) -> str:
    assert len(exc.value.problems) == 1
    return str(exc.value.problems[0])


def test_an_alias_bomb_of_a_few_hundred_bytes_is_stopped_by_the_expansion_bound() -> None:
    text = alias_bomb()
    assert len(text) < 600
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(SchemeError) as exc:
        load_scheme_text(text, "bomb.yaml")
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert f"expand to more than {limits.YAML_VALUES:,} values" in only_problem(exc)
    assert only_problem(exc).startswith("bomb.yaml:")
    assert grown_mb < 500


def test_too_many_aliases_are_refused_at_the_first_one_past_the_limit() -> None:
    text = "a: &a x\nb: [" + ", ".join(["*a"] * (limits.YAML_ALIASES + 1)) + "]\n"
    with pytest.raises(SchemeError) as exc:
        load_scheme_text(text, "many.yaml")
    assert f"more than {limits.YAML_ALIASES} aliases" in only_problem(exc)
    assert only_problem(exc).startswith("many.yaml:2:")


def test_deep_nesting_is_refused_with_its_line_and_column() -> None:
    text = "a: " + "[" * 50_000 + "]" * 50_000 + "\n"
    with pytest.raises(SchemeError) as exc:
        load_scheme_text(text, "deep.yaml")
    assert f"nested more than {limits.YAML_DEPTH} levels deep" in only_problem(exc)
    assert only_problem(exc).startswith(f"deep.yaml:1:{3 + limits.YAML_DEPTH}:")


def test_a_file_above_the_size_limit_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("x: " + "a" * limits.FILE_BYTES + "\n", encoding="utf-8")
    with pytest.raises(SchemeError) as exc:
        load_scheme(big)
    assert "larger than 1,000,000 bytes" in only_problem(exc)
    with pytest.raises(Exception, match="bytes"):
        load_org_text(big.read_text(encoding="utf-8"), "big.yaml")


@pytest.mark.parametrize("command", ["scheme", "org"])
def test_the_cli_names_the_bomb_in_one_located_line(tmp_path: Path, command: str) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(alias_bomb(), encoding="utf-8")
    result = CliRunner().invoke(cli.main, [command, "validate", str(bomb)])
    assert result.exit_code == 2
    assert f"{bomb}:" in result.output and "expand to more than" in result.output
    assert "Traceback" not in result.output


def test_a_title_past_its_limit_is_refused_and_no_project_is_created(
    sqlite_engine: Engine,
) -> None:
    with pytest.raises(LimitExceeded) as exc:
        sqlite_engine.create_project(
            title="x" * 100_000, unit="krapes_pagasts", actor="liga.ozolina", now=T0
        )
    assert exc.value.code == "limit.length"
    assert exc.value.params == {"field": "title", "limit": 300, "size": 100_000}
    assert sqlite_engine.list_projects(actor=COORDINATOR) == []


def test_a_comment_past_its_limit_is_refused_and_the_version_stays(
    sqlite_engine: Engine,
) -> None:
    code = sqlite_engine.create_project(
        title="Jumts", unit="krapes_pagasts", actor="liga.ozolina", now=T0
    ).code
    with pytest.raises(LimitExceeded, match="comment is 3,000,000 characters"):
        sqlite_engine.comment(code, "x" * 3_000_000, actor="liga.ozolina", now=T0)
    with pytest.raises(LimitExceeded, match="reason"):
        sqlite_engine.hold(code, reason="x" * 5_000, actor="liga.ozolina", now=T0)
    assert sqlite_engine.project(code, actor=COORDINATOR).version == 1
