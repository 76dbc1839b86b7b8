"""Several schemes in one database beside one organisation: a LEADER small-project
scheme that uses a subset of the organisation's roles (and one role of its own) next to
the unified scheme. Each may use some of the roles; a role means one level in all of
them; a new project or a promoted idea names its scheme when there is a choice; lists,
the report and `org validate` say which scheme they speak of.

Storage-backed tests run on SQLite and PostgreSQL; time is a parameter."""

from __future__ import annotations

import datetime as dt
import gc
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from conftest import COORDINATOR, T0, shipped_text
from sqlalchemy import func, select

import cli
from engine.ideas import create_idea, get_idea, promote_idea
from engine.loading import load_org, load_scheme
from engine.report import portfolio
from engine.service import Engine
from storage.tables import projects
from workflow.errors import SchemeError, UsageError

LIGA = "liga.ozolina"  # parish_specialist, Krapes pagasts
EVALUATOR = "biruta.leader"  # the LEADER scheme's own role
UNIT = "krapes_pagasts"

LEADER = """\
scheme: leader
title: {lv: LEADER mazie projekti, en: LEADER small projects}
roles:
  parish_specialist: {level: parish, title: {lv: Pagasta speciālists, en: Parish specialist}}
  project_manager: {level: central, title: {lv: Projektu vadītājs, en: Project manager}}
  leader_evaluator: {level: central, title: {lv: LEADER vērtētājs, en: LEADER evaluator}}
stages:
  idea:
    title: {lv: LEADER ideja, en: LEADER idea}
    owner: parish_specialist
    deadline: {working_days: 10}
  evaluation:
    title: {lv: Biedrības vērtējums, en: Local action group evaluation}
    owner: leader_evaluator
  done: {title: {lv: Pabeigts, en: Done}, terminal: true}
actions:
  submit: {from: idea, to: evaluation, by: [parish_specialist]}
  approve: {from: evaluation, to: done, by: [leader_evaluator]}
"""

WITH_EVALUATOR = shipped_text("ogre.yaml").replace(
    "people:\n",
    "people:\n"
    f"  {EVALUATOR}:\n"
    "    name: Biruta Leadere\n"
    "    roles:\n"
    "      - {role: leader_evaluator, unit: attistibas_nodala}\n",
    1,
)


@pytest.fixture
def two(engine: Engine) -> Engine:
    """The unified scheme, then the LEADER one, then the organisation with the LEADER
    evaluator (a role only the LEADER scheme defines)."""
    load_scheme(engine, LEADER, "leader.yaml", actor=COORDINATOR, now=T0)
    load_org(engine, WITH_EVALUATOR, "ogre.yaml", actor=COORDINATOR, now=T0)
    return engine


def project_count(engine: Engine) -> int:
    with engine.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(projects)).scalar_one())


# -- roles ------------------------------------------------------------------------------


def test_a_new_version_of_one_scheme_loads_though_only_the_other_defines_a_role(
    two: Engine,
) -> None:
    changed = shipped_text("unified.yaml").replace(
        "en: Unified project organisation scheme", "en: Unified project scheme", 1
    )
    loaded = load_scheme(two, changed, "unified.yaml", actor=COORDINATOR, now=T0)
    assert (loaded.name, loaded.version, loaded.created) == ("unified", 2, True)


def test_an_organisation_role_that_no_loaded_scheme_defines_is_refused(two: Engine) -> None:
    unknown = WITH_EVALUATOR.replace("role: leader_evaluator", "role: leader_auditor")
    with pytest.raises(Exception, match="leader_auditor"):
        load_org(two, unknown, "ogre.yaml", actor=COORDINATOR, now=T0)


def test_a_role_that_means_another_level_in_another_scheme_is_refused(two: Engine) -> None:
    clash = LEADER.replace("scheme: leader", "scheme: leader_b").replace(
        "project_manager: {level: central", "project_manager: {level: parish"
    )
    with pytest.raises(SchemeError) as info:
        load_scheme(two, clash, "leader_b.yaml", actor=COORDINATOR, now=T0)
    [problem] = info.value.problems
    assert problem.path == "roles.project_manager.level"
    assert "central in another loaded scheme" in problem.message


# -- choosing the scheme ------------------------------------------------------------------


def test_a_new_project_without_a_scheme_is_refused_when_several_are_loaded(two: Engine) -> None:
    with pytest.raises(UsageError, match=r"several schemes are loaded \(leader, unified\)"):
        two.create_project(title="Jumts", unit=UNIT, actor=LIGA, now=T0)
    assert project_count(two) == 0


def test_a_new_project_follows_the_scheme_it_names(two: Engine) -> None:
    made = two.create_project(title="Jumts", unit=UNIT, actor=LIGA, now=T0, scheme="leader")
    view = two.project(made.code, actor=LIGA, lang="en")
    assert (view.scheme, view.stage, view.stage_title) == ("leader", "idea", "LEADER idea")


def test_the_one_loaded_scheme_needs_no_naming(engine: Engine) -> None:
    made = engine.create_project(title="Jumts", unit=UNIT, actor=LIGA, now=T0)
    assert engine.project(made.code, actor=LIGA).scheme == "unified"


def new_idea(engine: Engine) -> int:
    return create_idea(engine, title="Velomaršruts", unit=UNIT, actor=LIGA, now=T0).id


def test_promoting_an_idea_without_a_scheme_is_refused_and_leaves_the_idea_as_it_was(
    two: Engine,
) -> None:
    idea = new_idea(two)
    before = get_idea(two, idea, actor=LIGA)
    with pytest.raises(UsageError, match="several schemes are loaded"):
        promote_idea(two, idea, actor=LIGA, now=T0)
    after = get_idea(two, idea, actor=LIGA)
    assert (after.status, after.version) == (before.status, before.version)
    assert project_count(two) == 0


def test_promoting_an_idea_into_the_named_scheme(two: Engine) -> None:
    done = promote_idea(two, new_idea(two), actor=LIGA, now=T0, scheme="leader")
    assert two.project(done.project, actor=LIGA).scheme == "leader"


# -- lists and the report -----------------------------------------------------------------


def test_the_report_keeps_the_idea_stages_of_the_two_schemes_apart(two: Engine) -> None:
    two.create_project(title="A", unit=UNIT, actor=LIGA, now=T0, scheme="leader")
    two.create_project(title="B", unit=UNIT, actor=LIGA, now=T0, scheme="unified")
    two.create_project(title="C", unit=UNIT, actor=LIGA, now=T0, scheme="unified")
    report = portfolio(two, actor=COORDINATOR, now=T0 + dt.timedelta(days=1), lang="en")
    rows = {(s.scheme, s.key): (s.name, s.projects, s.deadline) for s in report.by_stage}
    assert rows[("leader", "idea")] == ("LEADER idea", 1, "10 WD")
    assert rows[("unified", "idea")][1:] == (2, "5 WD")
    assert rows[("unified", "idea")][0] != "LEADER idea"


@pytest.fixture
def shema(two: Engine) -> Iterator[Any]:
    def run(*args: str, who: str | None = COORDINATOR) -> Result:
        argv = (["--as", who] if who else []) + list(args)
        env = {"SHEMA_DB": two.db.url, "SHEMA_USER": None, "SHEMA_LANG": None}
        return CliRunner().invoke(cli.main, argv, env=env)

    yield run
    gc.collect()


def test_project_list_names_each_project_s_scheme(shema: Any, two: Engine) -> None:
    two.create_project(title="A", unit=UNIT, actor=LIGA, now=T0, scheme="leader")
    two.create_project(title="B", unit=UNIT, actor=LIGA, now=T0, scheme="unified")
    out = shema("--lang", "en", "project", "list")
    assert out.exit_code == 0, out.output
    header, _, *lines = out.output.splitlines()
    assert "scheme" in header.split()
    assert "shēma" in shema("project", "list").output.splitlines()[0].split()  # Latvian
    assert sorted(line.split()[2] for line in lines) == ["leader", "unified"]
    data = json.loads(shema("project", "list", "--json").output)
    assert sorted(p["scheme"] for p in data) == ["leader", "unified"]


def test_project_new_without_a_scheme_names_the_choice_in_one_line(shema: Any) -> None:
    out = shema("project", "new", "--title", "Jumts", "--unit", UNIT, who=LIGA)
    assert out.exit_code == 2
    assert out.output.strip().splitlines() == [
        "shema: several schemes are loaded (leader, unified): say which one the project follows"
    ]


def test_org_validate_checks_against_every_loaded_scheme_and_says_so(
    shema: Any, tmp_path: Path
) -> None:
    file = tmp_path / "ogre.yaml"
    file.write_text(WITH_EVALUATOR, encoding="utf-8")
    out = shema("org", "validate", str(file), who=None)
    assert out.exit_code == 0, out.output
    assert "checked against leader v1, unified v1, loaded in" in out.output


def test_org_validate_without_a_database_says_it_used_the_shipped_scheme(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    file = tmp_path / "ogre.yaml"
    file.write_text(shipped_text("ogre.yaml"), encoding="utf-8")
    env = {"SHEMA_DB": f"sqlite:///{tmp_path / 'none.db'}"}
    out = CliRunner().invoke(cli.main, ["org", "validate", str(file)], env=env)
    assert out.exit_code == 0, out.output
    assert "checked against the shipped unified.yaml" in out.output


def test_org_validate_against_two_scheme_files(tmp_path: Path) -> None:
    from schemes import shipped

    (tmp_path / "leader.yaml").write_text(LEADER, encoding="utf-8")
    (tmp_path / "ogre.yaml").write_text(WITH_EVALUATOR, encoding="utf-8")
    argv = ["org", "validate", str(tmp_path / "ogre.yaml")]
    alone = CliRunner().invoke(cli.main, [*argv, "--scheme", str(shipped("unified.yaml"))])
    assert alone.exit_code != 0 and "leader_evaluator" in alone.output
    unified, leader = str(shipped("unified.yaml")), str(tmp_path / "leader.yaml")
    both = [*argv, "--scheme", unified, "--scheme", leader]
    out = CliRunner().invoke(cli.main, both)
    assert out.exit_code == 0, out.output
    assert "leader.yaml" in out.output.splitlines()[-1]


def test_the_organisation_summarises_its_unstaffed_units_in_one_line(tmp_path: Path) -> None:
    from schemes import shipped

    argv = ["org", "validate", str(shipped("ogre.yaml")), "--scheme", str(shipped("unified.yaml"))]
    out = CliRunner().invoke(cli.main, argv)
    assert out.exit_code == 0
    warnings = [line for line in out.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "--verbose" in warnings[0]
    verbose = CliRunner().invoke(cli.main, [*argv, "--verbose"])
    assert len([line for line in verbose.stderr.splitlines() if "warning" in line]) > 1


def test_the_web_form_for_a_new_project_asks_for_the_scheme_when_there_is_a_choice(
    two: Engine,
) -> None:
    import re

    from starlette.testclient import TestClient

    from engine import accounts
    from web.app import create_app

    accounts.store_hash(two, [LIGA], accounts.hash_password("pareiza-parole"))
    client = TestClient(create_app(two.db.url, clock=lambda: T0), follow_redirects=False)

    def token(path: str) -> str:
        found = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
        assert found
        return found.group(1)

    login = {"person": LIGA, "password": "pareiza-parole", "csrf": token("/login")}
    assert client.post("/login", data=login).status_code == 303
    page = client.get("/projects").text
    assert 'name="scheme"' in page and "LEADER mazie projekti" in page
    form = {"title": "Jumts", "unit": UNIT, "scheme": "leader", "csrf": token("/projects")}
    made = client.post("/projects", data=form)
    assert made.status_code == 303
    code = made.headers["location"].rsplit("/", 1)[1]
    assert two.project(code, actor=LIGA).scheme == "leader"
