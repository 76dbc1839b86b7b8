"""The `shema` command as scripts and municipal IT call it: the unified-scheme walk from
the brief on SQLite and PostgreSQL, tamper detection, exit codes, JSON shapes and the
demo. Most tests drive `cli.main` in process (fast); a few start a real process."""

from __future__ import annotations

import datetime as dt
import gc
import json
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, pool, select, text

import cli
from storage.database import Database
from storage.migrate import HEAD
from storage.tables import history, projects

REPO = Path(__file__).resolve().parent.parent
ORG_FILE = REPO / "schemes" / "ogre.yaml"
SCHEME_FILE = REPO / "schemes" / "unified.yaml"
COORDINATOR = "ilze.kalnina"
SPECIALIST = "liga.ozolina"  # parish_specialist in krapes_pagasts
OTHER_SPECIALIST = "zane.roze"  # parish_specialist in suntazu_pagasts
MANAGER = "janis.ozols"  # project_manager, central
TITLE = "Krapes tautas nama jumta atjaunošana — 2. kārta"
UNREACHABLE_PG = "postgresql+psycopg://postgres@127.0.0.1:1/shema"

Shema = Callable[..., Result]


def offline(folder: Path) -> str:
    """A database URL for commands that must not need one (it is never initialised)."""
    return f"sqlite:///{folder / 'unused.db'}"


def invoke(url: str, *args: str, who: str | None = None) -> Result:
    """Run `shema [--as WHO] ARGS` in process against `url`, with a clean environment."""
    argv = (["--as", who] if who else []) + list(args)
    env = {"SHEMA_DB": url, "SHEMA_USER": None, "SHEMA_LANG": None, "SHEMA_DEBUG": None}
    result = CliRunner().invoke(cli.main, argv, env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(
            f"shema {' '.join(argv)} raised {result.exception!r}\n{result.stderr}"
        ) from result.exception
    assert "Traceback" not in result.output
    return result


def run_process(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `shema ARGS` as a real process (the console script beside this interpreter)."""
    script = Path(sys.executable).with_name("shema")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "cli"]
    env = {
        k: v for k, v in os.environ.items() if k not in ("SHEMA_USER", "SHEMA_DEBUG", "SHEMA_LANG")
    }
    env["SHEMA_DB"] = url
    return subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=60,
        check=False,
    )


def data(result: Result) -> Any:
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def new_project(shema: Shema, title: str = "Jumts", unit: str = "krapes_pagasts") -> str:
    """Create a project as the Krapes parish specialist; its code."""
    result = shema("project", "new", "--title", title, "--unit", unit, "--json", who=SPECIALIST)
    code: str = data(result)["code"]
    return code


@pytest.fixture
def shema(database_url: str) -> Iterator[Shema]:
    """`shema` bound to the test's (empty) database."""

    def run(*args: str, who: str | None = None) -> Result:
        return invoke(database_url, *args, who=who)

    yield run
    # Each in-process call leaves its engine to the garbage collector (a real process
    # exits instead); collect now so PostgreSQL connections do not pile up.
    gc.collect()


@pytest.fixture
def loaded(shema: Shema) -> Shema:
    """`shema` on a database initialised with the shipped organisation and scheme."""
    for args in (("init",), ("org", "load", str(ORG_FILE)), ("scheme", "load", str(SCHEME_FILE))):
        result = shema(*args, who=COORDINATOR)
        assert result.exit_code == 0, result.stderr
    return shema


@pytest.fixture
def submitted(loaded: Shema) -> str:
    """The code of a Krapes project whose idea the parish specialist has submitted
    (events: created, checked, checked, advanced — version 4)."""
    code = new_project(loaded, TITLE)
    for item in ("problem_statement", "estimated_cost"):
        assert loaded("project", "check", code, item, who=SPECIALIST).exit_code == 0
    result = loaded("project", "advance", code, "submit_idea", who=SPECIALIST)
    assert result.exit_code == 0, result.stderr
    return code


def show(shema: Shema, code: str, who: str = COORDINATOR) -> dict[str, Any]:
    found: dict[str, Any] = data(shema("project", "show", code, "--json", who=who))
    return found


def events(shema: Shema, code: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = data(shema("project", "history", code, "--json", who=COORDINATOR))
    return found


# -- the walk through the unified scheme ---------------------------------------------------


def test_init_and_loading_the_shipped_files_report_version_1(shema: Shema) -> None:
    init = shema("init")
    org = shema("org", "load", str(ORG_FILE), who=COORDINATOR)
    scheme = shema("scheme", "load", str(SCHEME_FILE), who=COORDINATOR)

    assert (init.exit_code, org.exit_code, scheme.exit_code) == (0, 0, 0)
    assert f"(empty) -> {HEAD}" in init.stdout
    assert "loaded as version 1" in org.stdout
    assert "scheme unified loaded as version 1" in scheme.stdout


def test_init_on_an_initialised_database_changes_nothing(loaded: Shema) -> None:
    result = loaded("init")

    assert result.exit_code == 0
    assert f"already at revision {HEAD}" in result.stdout


def test_a_new_project_prints_its_code_as_json(loaded: Shema) -> None:
    result = loaded(
        "project", "new", "--title", "Jumts", "--unit", "krapes_pagasts", "--json", who=SPECIALIST
    )

    created = data(result)
    assert set(created) >= {"code", "version", "stage"}
    assert re.fullmatch(r"OGR-\d{4}-0001", created["code"])
    assert created["stage"] == "idea"
    assert created["version"] == 1


def test_a_parish_specialist_submits_the_idea_to_pre_assessment(
    loaded: Shema, submitted: str
) -> None:
    project = show(loaded, submitted, who=SPECIALIST)

    assert project["stage"] == "pre_assessment"
    assert project["unit"] == "krapes_pagasts"
    assert project["version"] == 4
    assert [e["kind"] for e in events(loaded, submitted)] == [
        "created",
        "checked",
        "checked",
        "advanced",
    ]


def test_project_show_json_has_the_contract_fields(loaded: Shema, submitted: str) -> None:
    project = show(loaded, submitted)

    assert {"code", "title", "unit", "stage", "version", "scheme_version"} <= set(project)
    assert project["code"] == submitted
    assert project["title"] == TITLE
    assert project["scheme_version"] == 1


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("advance", "{code}", "return_idea", "--comment", "nē"), id="advance"),
        pytest.param(("show", "{code}"), id="show"),
        pytest.param(("comment", "{code}", "sveiki"), id="comment"),
    ],
)
def test_a_specialist_of_another_parish_is_refused_and_nothing_changes(
    loaded: Shema, submitted: str, args: tuple[str, ...]
) -> None:
    before, history_before = show(loaded, submitted), events(loaded, submitted)

    result = loaded("project", *(a.format(code=submitted) for a in args), who=OTHER_SPECIALIST)

    assert result.exit_code == 1
    assert OTHER_SPECIALIST in result.stderr and submitted in result.stderr
    assert result.stdout == ""
    assert show(loaded, submitted) == before
    assert len(events(loaded, submitted)) == len(history_before)


def test_a_specialist_of_another_parish_does_not_see_the_project_in_lists(
    loaded: Shema, submitted: str
) -> None:
    theirs = data(loaded("project", "list", "--json", who=OTHER_SPECIALIST))
    ours = data(loaded("project", "list", "--json", who=SPECIALIST))

    assert submitted not in [p["code"] for p in theirs]
    assert submitted in [p["code"] for p in ours]


def test_the_handoff_waits_in_the_project_managers_mine_list(loaded: Shema, submitted: str) -> None:
    mine = data(loaded("project", "list", "--mine", "--json", who=MANAGER))
    specialists = data(loaded("project", "list", "--mine", "--json", who=SPECIALIST))

    assert [p["code"] for p in mine] == [submitted]
    assert mine[0]["handoff"] is not None
    assert submitted not in [p["code"] for p in specialists]


def test_the_project_manager_cannot_advance_before_acknowledging_the_handoff(
    loaded: Shema, submitted: str
) -> None:
    before = show(loaded, submitted)

    result = loaded("project", "advance", submitted, "propose_for_plan", who=MANAGER)

    assert result.exit_code == 1
    assert "handoff" in result.stderr
    assert "project ack" in result.stderr
    assert show(loaded, submitted) == before


def test_the_project_manager_acknowledges_the_handoff_and_advances_the_project(
    loaded: Shema, submitted: str
) -> None:
    ack = loaded("project", "ack", submitted, who=MANAGER)
    for item in ("programme_fit", "funding_instrument"):
        assert loaded("project", "check", submitted, item, who=MANAGER).exit_code == 0
    advance = loaded("project", "advance", submitted, "propose_for_plan", "--json", who=MANAGER)

    assert ack.exit_code == 0, ack.stderr
    moved = data(advance)
    assert moved["stage"] == "investment_plan"
    assert moved["version"] == 8
    project = show(loaded, submitted)
    assert (project["stage"], project["version"], project["handoff"]) == (
        "investment_plan",
        8,
        None,
    )
    assert [e["kind"] for e in events(loaded, submitted)][-4:] == [
        "acknowledged",
        "checked",
        "checked",
        "advanced",
    ]


def test_a_stale_expect_version_is_refused_and_changes_nothing(
    loaded: Shema, submitted: str
) -> None:
    assert loaded("project", "ack", submitted, "--expect-version", "4", who=MANAGER).exit_code == 0
    before, history_before = show(loaded, submitted), events(loaded, submitted)

    result = loaded(
        "project", "check", submitted, "programme_fit", "--expect-version", "4", who=MANAGER
    )

    assert result.exit_code == 1
    assert "version 5" in result.stderr and "expected 4" in result.stderr
    assert show(loaded, submitted) == before
    assert events(loaded, submitted) == history_before


def test_a_changed_scheme_is_version_2_for_new_projects_and_running_ones_stay_on_1(
    loaded: Shema, submitted: str, tmp_path: Path
) -> None:
    changed = tmp_path / "unified.yaml"
    source = SCHEME_FILE.read_text(encoding="utf-8")
    assert "en: Unified project organisation scheme" in source
    changed.write_text(
        source.replace(
            "en: Unified project organisation scheme",
            "en: Unified project organisation scheme, 2nd edition",
        ),
        encoding="utf-8",
    )

    result = loaded("scheme", "load", str(changed), who=COORDINATOR)

    assert result.exit_code == 0, result.stderr
    assert "version 2" in result.stdout
    assert show(loaded, submitted)["scheme_version"] == 1
    assert show(loaded, new_project(loaded, "Jauns"))["scheme_version"] == 2


def test_loading_the_same_scheme_again_keeps_its_version(loaded: Shema) -> None:
    result = loaded("scheme", "load", str(SCHEME_FILE), who=COORDINATOR)

    assert result.exit_code == 0
    assert "unchanged: still version 1" in result.stdout


def test_audit_verify_passes_on_untouched_history(loaded: Shema, submitted: str) -> None:
    result = loaded("audit", "verify")

    assert result.exit_code == 0, result.stderr
    assert "1 projects, 4 events: ok" in result.stdout
    assert result.stderr == ""


# -- tampering -------------------------------------------------------------------------------


def tamper(url: str, sql: str, **params: Any) -> int:
    """Run `sql` behind Shēma's back (sqlite3 for SQLite, SQLAlchemy for PostgreSQL);
    returns the number of rows changed."""
    if url.startswith("sqlite:///"):
        raw = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            with raw:
                return raw.execute(sql, params).rowcount
        finally:
            raw.close()
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.begin() as conn:
            return conn.execute(text(sql), params).rowcount
    finally:
        engine.dispose()


def test_editing_a_history_row_makes_audit_verify_name_the_project_and_event(
    database_url: str, loaded: Shema, submitted: str
) -> None:
    changed = tamper(
        database_url,
        "UPDATE history SET comment = 'x' WHERE seq = 2 AND "
        "project_id = (SELECT id FROM projects WHERE code = :code)",
        code=submitted,
    )
    assert changed == 1

    result = loaded("audit", "verify")

    assert result.exit_code == 1
    assert f"{submitted} event #2" in result.stderr
    assert "changed" in result.stderr


def test_deleting_the_last_history_event_makes_audit_verify_name_the_missing_event(
    database_url: str, loaded: Shema, submitted: str
) -> None:
    changed = tamper(
        database_url,
        "DELETE FROM history WHERE seq = 4 AND "
        "project_id = (SELECT id FROM projects WHERE code = :code)",
        code=submitted,
    )
    assert changed == 1

    result = loaded("audit", "verify")

    assert result.exit_code == 1
    assert f"{submitted} event #4" in result.stderr
    assert "missing" in result.stderr


def test_audit_verify_in_a_real_process_exits_1_on_a_tampered_chain(
    database_url: str, loaded: Shema, submitted: str
) -> None:
    tamper(
        database_url,
        "UPDATE history SET actor_id = 'janis.ozols' WHERE seq = 3 AND "
        "project_id = (SELECT id FROM projects WHERE code = :code)",
        code=submitted,
    )

    done = run_process(database_url, "audit", "verify")

    assert done.returncode == 1
    assert f"BROKEN {submitted} event #3" in done.stderr
    assert "Traceback" not in done.stderr


# -- exit codes ------------------------------------------------------------------------------


BROKEN_SCHEME = """\
scheme: broken
scheme: twice
title: Broken
colour: blue
roles:
  clerk: {level: everywhere}
stages:
  start: {owner: nobody}
actions: {}
"""


def test_an_invalid_scheme_file_exits_2_with_one_located_line_per_problem(
    tmp_path: Path,
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(BROKEN_SCHEME, encoding="utf-8")

    result = invoke(offline(tmp_path), "scheme", "validate", str(broken))

    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) >= 3
    assert all(re.match(rf"{re.escape(str(broken))}:\d+:\d+: ", line) for line in lines), lines
    assert any(":2:1: " in line and "duplicate" in line for line in lines)
    assert any("colour" in line for line in lines)


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("--no-such-option", "init"), id="unknown-option"),
        pytest.param(("project", "frobnicate"), id="unknown-command"),
        pytest.param(("project", "new", "--title", "Bez vienības"), id="missing-option"),
        pytest.param(
            ("project", "new", "--title", "X", "--unit", "krapes_pagasts", "--budget", "daudz"),
            id="bad-amount",
        ),
        pytest.param(("project", "advance", "OGR-2026-0001"), id="missing-argument"),
    ],
)
def test_bad_usage_exits_2(tmp_path: Path, args: tuple[str, ...]) -> None:
    result = invoke(offline(tmp_path), *args, who=SPECIALIST)

    assert result.exit_code == 2
    assert result.stderr.strip() != ""


def test_a_command_on_an_uninitialised_sqlite_database_exits_3_and_says_to_run_init(
    tmp_path: Path,
) -> None:
    result = invoke(f"sqlite:///{tmp_path / 'fresh.db'}", "project", "list", who=SPECIALIST)

    assert result.exit_code == 3
    assert "shema init" in result.stderr


def test_an_unreachable_postgresql_exits_3() -> None:
    result = invoke(UNREACHABLE_PG, "project", "list", who=SPECIALIST)

    assert result.exit_code == 3
    assert "127.0.0.1" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("not a database url", id="unparsable"),
        pytest.param("mysql://shema@127.0.0.1/shema", id="no-driver"),
    ],
)
def test_a_malformed_database_url_exits_3_with_a_clear_message(url: str) -> None:
    result = invoke(url, "project", "list", who=SPECIALIST)

    assert result.exit_code == 3
    assert "unexpected error" not in result.stderr


def test_an_unknown_project_exits_1(loaded: Shema) -> None:
    result = loaded("project", "show", "OGR-2026-9999", who=COORDINATOR)

    assert result.exit_code == 1
    assert "OGR-2026-9999" in result.stderr


@pytest.mark.parametrize(
    ("target", "args", "code", "says"),
    [
        pytest.param("file", ("scheme", "validate", "{broken}"), 2, ":2:1: ", id="invalid-file"),
        pytest.param(
            "fresh", ("--as", SPECIALIST, "project", "list"), 3, "shema init", id="uninitialised"
        ),
        pytest.param(
            "unreachable", ("--as", SPECIALIST, "project", "list"), 3, "127.0.0.1", id="unreachable"
        ),
        pytest.param("fresh", ("project", "frobnicate"), 2, "No such command", id="usage"),
    ],
)
def test_a_real_process_exits_with_the_contract_code_and_no_traceback(
    tmp_path: Path, target: str, args: tuple[str, ...], code: int, says: str
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(BROKEN_SCHEME, encoding="utf-8")
    url = UNREACHABLE_PG if target == "unreachable" else f"sqlite:///{tmp_path / 'fresh.db'}"

    done = run_process(url, *(a.format(broken=broken) for a in args))

    assert done.returncode == code
    assert says in done.stderr
    assert "Traceback" not in done.stderr


# -- JSON shapes -----------------------------------------------------------------------------


def test_project_actions_json_is_a_list_of_actions_with_their_targets(loaded: Shema) -> None:
    code = new_project(loaded)

    actions = data(loaded("project", "actions", code, "--json", who=SPECIALIST))

    assert isinstance(actions, list) and actions
    assert all(isinstance(a, dict) and {"action", "to"} <= set(a) for a in actions)
    assert {"action": "submit_idea", "to": "pre_assessment"}.items() <= next(
        a for a in actions if a["action"] == "submit_idea"
    ).items()


def test_org_show_json_lists_units_and_people_with_their_roles(tmp_path: Path) -> None:
    shown = data(invoke(offline(tmp_path), "org", "show", str(ORG_FILE), "--json"))

    assert all(set(u) == {"id", "name", "kind", "parent"} for u in shown["units"])
    assert all(set(p) == {"id", "name", "email", "lang", "roles"} for p in shown["people"])
    assert all(set(r) == {"role", "unit"} for p in shown["people"] for r in p["roles"])
    units = {u["id"]: u for u in shown["units"]}
    assert units["krapes_pagasts"]["parent"] in units
    liga = next(p for p in shown["people"] if p["id"] == SPECIALIST)
    assert {"role": "parish_specialist", "unit": "krapes_pagasts"} in liga["roles"]
    assert liga["email"] == "liga.ozolina@ogresnovads.example"


# -- demo ------------------------------------------------------------------------------------


def _demo_url(result: Result) -> str:
    found = re.search(r"^\s*export SHEMA_DB=(\S+)$", result.stdout, re.MULTILINE)
    assert found, result.stdout
    return found.group(1)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Result, dt.datetime]:
    """One `shema demo` run shared by the tests that only read it: its folder, its result
    and the real time just after it finished."""
    folder = tmp_path_factory.mktemp("demo-run") / "demo"
    result = invoke(offline(folder.parent), "demo", "--dir", str(folder))
    return folder, result, dt.datetime.now(dt.UTC)


def test_demo_builds_a_database_and_prints_the_export_line(
    demo: tuple[Path, Result, dt.datetime],
) -> None:
    folder, result, _ = demo

    assert result.exit_code == 0, result.stderr
    assert _demo_url(result) == f"sqlite:///{(folder / 'shema.db').resolve()}"
    assert (folder / "mail").is_dir()


def test_the_demo_database_passes_audit_verify(demo: tuple[Path, Result, dt.datetime]) -> None:
    result = invoke(_demo_url(demo[1]), "audit", "verify")

    assert result.exit_code == 0, result.stderr
    assert re.search(r"[1-9]\d* projects, [1-9]\d* events: ok", result.stdout)


def test_the_demo_writes_no_history_dated_after_the_real_now(
    demo: tuple[Path, Result, dt.datetime],
) -> None:
    _, result, after = demo

    db = Database(_demo_url(result))
    try:
        with db.read() as conn:
            stamps = list(conn.execute(select(history.c.at)).scalars())
            created = list(conn.execute(select(projects.c.created_at)).scalars())
    finally:
        db.dispose()
    assert stamps and created
    assert max(stamps) <= after
    assert max(created) <= after


def test_rerunning_the_demo_recreates_its_folder(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    first = _demo_url(invoke(offline(tmp_path), "demo", "--dir", str(folder)))
    projects_first = data(invoke(first, "project", "list", "--json", who=COORDINATOR))
    (folder / "leftover.txt").write_text("from the first run")

    again = invoke(offline(tmp_path), "demo", "--dir", str(folder))

    assert again.exit_code == 0, again.stderr
    assert not (folder / "leftover.txt").exists()
    projects_again = data(invoke(_demo_url(again), "project", "list", "--json", who=COORDINATOR))
    assert [p["code"] for p in projects_again] == [p["code"] for p in projects_first]


def test_the_demo_refuses_a_non_empty_folder_it_did_not_create(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me", encoding="utf-8")

    result = invoke(offline(tmp_path), "demo", "--dir", str(folder))

    assert result.exit_code == 2
    assert "not empty" in result.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
    assert (folder / "notes.txt").read_text(encoding="utf-8") == "keep me"


# -- output that shows what happened ------------------------------------------------------


def table_header(output: str) -> list[str]:
    """The column names of a plain-text table (the line above the dashes)."""
    lines = output.splitlines()
    rule = next(i for i, line in enumerate(lines) if set(line.replace(" ", "")) == {"-"})
    return lines[rule - 1].split()


def test_history_rows_name_the_checked_item_and_the_handoff_receivers(
    loaded: Shema, submitted: str
) -> None:
    out = loaded("--lang", "en", "project", "history", submitted, who=SPECIALIST)
    assert out.exit_code == 0, out.stderr
    assert table_header(out.output) == ["#", "when", "who", "what", "action", "details", "comment"]
    checked = [line for line in out.output.splitlines() if " ticked: " in line]
    titles = [line.split("„")[1].split("”")[0] for line in checked]
    assert titles == ["Problem and need described", "Estimated cost"]  # titles, not ids
    advanced = next(line for line in out.output.splitlines() if "submit_idea" in line)
    assert "handoff parish -> central: " in advanced and MANAGER in advanced

    latvian = loaded("project", "history", submitted, who=SPECIALIST).output
    assert table_header(latvian) == [
        "#",
        "laiks",
        "kas",
        "notikums",
        "darbība",
        "sīkāk",
        "komentārs",
    ]
    assert "atzīmēts: „Problēmas un vajadzības apraksts”" in latvian


def test_history_rows_name_an_escalation_s_recipients(loaded: Shema) -> None:
    code = new_project(loaded)
    assert loaded("jobs", "sweep", "--now", "2026-12-31T12:00").exit_code == 0
    out = loaded("--lang", "en", "project", "history", code, who=COORDINATOR)
    escalated = [line for line in out.output.splitlines() if " escalated " in line]
    assert len(escalated) == 1  # a catch-up sweep: only the step now due is sent
    assert "step 2 to development_head: dace.liepina (caught up: step 1)" in escalated[0]


def test_the_actions_table_names_every_column(loaded: Shema) -> None:
    code = new_project(loaded)
    out = loaded("--lang", "en", "project", "actions", code, who=SPECIALIST)
    assert table_header(out.output) == ["action", "to", "handoff", "comment", "state"]
    latvian = loaded("project", "actions", code, who=SPECIALIST)
    assert table_header(latvian.output) == [
        "darbība",
        "uz",
        "posmu",
        "nodošana",
        "komentārs",
        "stāvoklis",
    ]


def test_scheme_show_json_gives_deadlines_as_data() -> None:
    result = CliRunner().invoke(cli.main, ["scheme", "show", str(SCHEME_FILE), "--json"])
    shown = json.loads(result.output)
    stages = {s["stage"]: s for s in shown["stages"]}
    assert stages["evaluation"]["deadline"] is None  # CFLA's clock: waits_on, no deadline
    assert stages["submission"]["deadline"] == {"before": "call_deadline", "working_days": 2}
    assert stages["idea"]["escalation"][0] == {"after": {"working_days": 1}, "to": "parish_head"}
    actions = {a["action"]: a for a in shown["actions"]}
    assert actions["answer_clarifications"]["deadline"] == {"working_days": 5}
    assert actions["answer_clarifications"]["opened_by"] == "request_clarifications"


def test_jobs_run_prints_its_own_lines_and_not_the_scheduler_s(
    loaded: Shema, database_url: str, tmp_path: Path
) -> None:
    import selectors

    script = Path(sys.executable).with_name("shema")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHEMA_")}
    env["SHEMA_DB"] = database_url
    process = subprocess.Popen(
        [str(script), "jobs", "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert process.stdout is not None
    lines: list[str] = []
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    try:
        while not any("shema.jobs sweep:" in line for line in lines):
            assert selector.select(timeout=60), "no sweep line within a minute:\n" + "".join(lines)
            line = process.stdout.readline()
            assert line, "jobs run ended:\n" + "".join(lines)
            lines.append(line)
    finally:
        process.kill()
        process.wait()
    assert not [line for line in lines if "apscheduler" in line], "".join(lines)


# -- every input has a domain, every failure its exit code ---------------------------------


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (("jobs", "sweep", "--now", "0001-01-01"), 2, "outside the supported dates"),
        (("jobs", "sweep", "--now", "9999-12-31"), 2, "outside the supported dates"),
        (("idea", "show", "99999999999999999999"), 2, "is not an idea number"),
        (("report", "-o", "/dev/null/x.csv"), 3, "cannot write /dev/null/x.csv"),
        (("jobs", "run", "--sweep-every", "-1"), 2, "--sweep-every"),
        (("jobs", "run", "--dispatch-every", "-5"), 2, "--dispatch-every"),
        (("project", "new", "--title", "Jumts\udcff", "--unit", "krapes_pagasts"), 2, "UTF-8"),
        (
            ("project", "new", "--title", "J", "--unit", "krapes_pagasts", "--budget", "Infinity"),
            2,
            "the budget is not finite",
        ),
        (
            ("project", "new", "--title", "J", "--unit", "krapes_pagasts", "--budget", "NaN"),
            2,
            "the budget is not a number",
        ),
        (
            ("project", "new", "--title", "J", "--unit", "krapes_pagasts", "--budget", "1e999999"),
            2,
            "is larger than",
        ),
        (
            ("project", "new", "--title", "J", "--unit", "krapes_pagasts", "--budget", "-1"),
            2,
            "cannot be negative",
        ),
        (
            ("project", "new", "--title", "J", "--unit", "krapes_pagasts", "--instrument", "nope"),
            2,
            "unknown funding instrument",
        ),
        (
            (
                "project",
                "new",
                "--title",
                "J",
                "--unit",
                "krapes_pagasts",
                "--date",
                "call_deadline=9999-12-31",
            ),
            2,
            "outside the supported dates",
        ),
    ],
)
def test_bad_values_end_with_their_exit_code_and_say_why(
    loaded: Shema, args: tuple[str, ...], code: int, words: str
) -> None:
    out = loaded(*args, who=COORDINATOR)
    assert out.exit_code == code, out.output
    assert words in out.output and "unexpected error" not in out.output


def test_a_file_in_another_encoding_is_named_as_such(tmp_path: Path) -> None:
    text = SCHEME_FILE.read_text(encoding="utf-8")
    for encoding, words in (("cp1257", "Windows-1257 (Baltic)"), ("utf-16", "UTF-16")):
        path = tmp_path / f"{encoding}.yaml"
        path.write_bytes(text.encode(encoding, errors="replace"))
        out = invoke(offline(tmp_path), "scheme", "validate", str(path))
        assert out.exit_code == 2 and words in out.output and "save it as UTF-8" in out.output


def test_a_lone_surrogate_in_a_scheme_is_located_not_stored(tmp_path: Path) -> None:
    text = SCHEME_FILE.read_text(encoding="utf-8").replace(
        "lv: Vienotā projektu darba organizācijas shēma", 'lv: "Vienotā \\ud800 shēma"', 1
    )
    path = tmp_path / "surrogate.yaml"
    path.write_text(text, encoding="utf-8")
    out = invoke(offline(tmp_path), "scheme", "validate", str(path))
    assert out.exit_code == 2 and "title.lv: the text holds a character" in out.output


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (
            ("cba", "set", "{code}", "--discount-rate", "1e999", "--year", "2026", "1", "1"),
            "the discount rate must be from 0 % to 100 %",
        ),
        (("cba", "set", "{code}", "--year", "0", "1", "1"), "outside the supported years"),
        (
            ("risk", "update", "{code}", "R99999999999999999999", "--status", "closed"),
            "is not a risk number",
        ),
        (("risk", "update", "{code}", "R0", "--status", "closed"), "there is no risk 0"),
    ],
)
def test_planning_values_out_of_their_domain_are_refused_with_exit_2(
    loaded: Shema, submitted: str, args: tuple[str, ...], words: str
) -> None:
    out = loaded("project", *(a.format(code=submitted) for a in args), who=SPECIALIST)
    assert out.exit_code == 2, out.output
    assert words in out.output


def test_a_refused_budget_writes_nothing(loaded: Shema) -> None:
    before = data(loaded("project", "list", "--json", who=COORDINATOR))
    args = ("--title", "J", "--unit", "krapes_pagasts", "--budget", "Infinity")
    assert loaded("project", "new", *args, who=SPECIALIST).exit_code == 2
    assert data(loaded("project", "list", "--json", who=COORDINATOR)) == before
