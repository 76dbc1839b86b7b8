"""The ideas notebook: creating, editing, searching, exporting (Markdown, CSV with BOM)
and promoting ideas into projects that link back to them. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import gc
import io
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from conftest import COORDINATOR, T0
from sqlalchemy import select

import cli
from engine import audit
from engine.ideas import (
    create_idea,
    edit_idea,
    get_idea,
    list_ideas,
    promote_idea,
)
from engine.service import Engine
from render.ideas import csv_rows, export_markdown
from render.tables import spreadsheet_csv
from storage.tables import ideas, projects
from workflow import instruments
from workflow.errors import Conflict, NotAllowed, NotFound, UsageError
from workflow.ideas import fold, matches
from workflow.loader import load_org_text

LIGA = "liga.ozolina"  # parish_specialist, Krapes pagasts
ZANE = "zane.roze"  # parish_specialist, Suntažu pagasts
ELINA = "elina.mezule"  # parish_coordinator, Suntažu pagasts: may not start projects
JANIS = "janis.ozols"  # project_manager (central)
LATER = T0 + dt.timedelta(hours=1)


def cycle_route(engine: Engine, **extra: Any) -> Any:
    """Līga's idea with two partner municipalities and two candidate instruments."""
    values: dict[str, Any] = {
        "title": "Velomaršruts Krape–Madliena–Sigulda",
        "unit": "krapes_pagasts",
        "description": "Kopīgs marķēts maršruts.\n# ne virsraksts",
        "municipalities": ["Siguldas novads", "Madonas novads"],
        "organisations": ["Biedrība “Krapes attīstībai”"],
        "instruments": ["eafrd_leader", "interreg"],
        "cost": Decimal("180000"),
        "priority": "high",
        "tags": ["Tūrisms", "velo"],
        **extra,
    }
    return create_idea(engine, actor=LIGA, now=T0, **values)


# -- creating and reading ---------------------------------------------------------------------


def test_an_idea_keeps_its_partners_instruments_cost_and_tags(engine: Engine) -> None:
    made = cycle_route(engine)

    shown = get_idea(engine, made.id, actor=LIGA, lang="en")
    assert (shown.status, shown.version, shown.proposer, shown.unit) == (
        "draft", 1, LIGA, "krapes_pagasts")  # fmt: skip
    assert shown.municipalities == ["Siguldas novads", "Madonas novads"]
    assert shown.organisations == ["Biedrība “Krapes attīstībai”"]
    assert shown.instruments == ["eafrd_leader", "interreg"]
    assert shown.instrument_titles[1] == "Interreg (European territorial cooperation)"
    assert (shown.cost, shown.currency, shown.cost_eur) == (
        Decimal("180000.00"), "EUR", Decimal("180000.00"))  # fmt: skip
    assert shown.tags == ["tūrisms", "velo"]
    assert shown.priority == "high"


def test_a_cost_in_lats_converts_to_euro_at_the_fixed_rate(engine: Engine) -> None:
    made = cycle_route(engine, cost=Decimal("21828"), currency="LVL")

    assert (made.cost, made.currency, made.cost_eur) == (
        Decimal("21828"), "LVL", Decimal("31058.45"))  # fmt: skip


def test_everyone_in_the_organisation_may_read_the_notebook(engine: Engine) -> None:
    made = cycle_route(engine)

    assert get_idea(engine, made.id, actor=ZANE).title == made.title
    with pytest.raises(NotFound, match="no idea #99"):
        get_idea(engine, 99, actor=ZANE)


def test_a_parish_specialist_may_not_add_ideas_for_another_parish(engine: Engine) -> None:
    with pytest.raises(NotAllowed, match=f"{ZANE} may not add an idea for krapes_pagasts"):
        create_idea(engine, title="X", unit="krapes_pagasts", actor=ZANE, now=T0)


def test_an_unknown_instrument_is_refused_naming_the_catalogue(engine: Engine) -> None:
    with pytest.raises(UsageError, match="unknown funding instrument eu_moonshot") as refused:
        cycle_route(engine, instruments=["eu_moonshot"])

    assert "esf_plus" in str(refused.value)
    with engine.db.read() as conn:
        assert conn.execute(select(ideas)).first() is None


def test_the_organisation_file_extends_and_relabels_the_catalogue() -> None:
    org = load_org_text(
        "municipality: {name: X, code_prefix: XX, root: x}\n"
        "funding_instruments:\n"
        "  ogre_grants: {lv: Ogres novada grantu programma, en: Ogre grant programme}\n"
        "  erdf: ERAF 2021–2027\n"
        "units: {x: {name: X, kind: municipality}}\n",
        "org.yaml",
    )

    known = instruments.catalogue(org)
    assert set(known) == {
        *("esf_plus", "erdf", "cohesion_fund", "eafrd_leader", "interreg"),
        *("eea_norway_grants", "state_budget", "municipal_budget", "ogre_grants"),
    }
    assert instruments.title("ogre_grants", org, "en") == "Ogre grant programme"
    assert instruments.title("erdf", org, "lv") == "ERAF 2021–2027"
    assert instruments.unknown(["ogre_grants", "nope"], org) == ["nope"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"title": " "}, "title: string should have at least 1 character"),
        ({"cost": Decimal("-1")}, "cost: input should be greater than or equal to 0"),
        ({"priority": "urgent"}, "priority: input should be 'high', 'medium' or 'low'"),
        ({"tags": ["two words"]}, "tags.0: string should match pattern"),
        ({"status": "promoted"}, "becomes promoted only by `shema idea promote`"),
    ],
)
def test_invalid_ideas_are_usage_errors(
    engine: Engine, extra: dict[str, Any], message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        cycle_route(engine, **extra)


# -- editing ----------------------------------------------------------------------------------


def test_editing_replaces_the_fields_given_and_bumps_the_version(engine: Engine) -> None:
    made = cycle_route(engine)

    edited = edit_idea(
        engine, made.id,
        {"status": "open_for_partners", "municipalities": ["Ropažu novads"], "tags": []},
        actor=JANIS, now=LATER, expect_version=1,
    )  # fmt: skip

    assert (edited.status, edited.version, edited.updated_by) == ("open_for_partners", 2, JANIS)
    assert edited.municipalities == ["Ropažu novads"]
    assert edited.organisations == ["Biedrība “Krapes attīstībai”"]  # untouched
    assert edited.tags == []


def test_editing_with_a_stale_version_is_a_conflict(engine: Engine) -> None:
    made = cycle_route(engine)
    edit_idea(engine, made.id, {"priority": "low"}, actor=LIGA, now=LATER)

    with pytest.raises(Conflict, match="it is at version 2, you expected 1"):
        edit_idea(engine, made.id, {"priority": "high"}, actor=LIGA, now=LATER, expect_version=1)


def test_another_parish_may_not_edit_an_idea(engine: Engine) -> None:
    made = cycle_route(engine)

    with pytest.raises(NotAllowed, match=f"{ZANE} may not edit idea #{made.id}"):
        edit_idea(engine, made.id, {"priority": "low"}, actor=ZANE, now=LATER)
    assert get_idea(engine, made.id, actor=ZANE).version == 1


def test_an_edit_that_changes_nothing_is_refused(engine: Engine) -> None:
    made = cycle_route(engine)

    with pytest.raises(UsageError, match="nothing changed"):
        edit_idea(engine, made.id, {"priority": "high"}, actor=LIGA, now=LATER)


# -- search and filters -----------------------------------------------------------------------


def test_search_ignores_case_and_latvian_diacritics() -> None:
    assert fold("Lēdmanes ĶEGUMS") == "ledmanes kegums"
    assert matches("krapes ATTISTIBAI", "Velomaršruts", "Biedrība “Krapes attīstībai”")
    assert not matches("krapes skola", "Velomaršruts", "Biedrība “Krapes attīstībai”")


def test_the_notebook_filters_by_status_unit_instrument_tag_and_words(engine: Engine) -> None:
    route = cycle_route(engine)
    schools = create_idea(
        engine, title="Skolu energoefektivitāte", unit="suntazu_pagasts", actor=ZANE, now=T0,
        instruments=["erdf"], tags=["skolas"], status="agreed",
    )  # fmt: skip
    old = create_idea(
        engine, title="Vecs tornis", unit="suntazu_pagasts", actor=ZANE, now=T0,
        status="archived", priority="low",
    )  # fmt: skip

    def ids(**filters: Any) -> list[int]:
        return [v.id for v in list_ideas(engine, actor=JANIS, **filters)]

    assert ids() == [route.id, schools.id]  # archived ones are put away
    assert ids(include_archived=True) == [route.id, schools.id, old.id]
    assert ids(status=["archived"]) == [old.id]
    assert ids(unit="bij_ogres_novads") == [route.id, schools.id]
    assert ids(unit="suntazu_parvalde") == [schools.id]
    assert ids(instrument="interreg") == [route.id]
    assert ids(instrument="inter") == []  # whole instrument ids only
    assert ids(tag="#Skolas") == [schools.id]
    assert ids(search="madona") == [route.id]
    assert ids(search="energoefektivitate") == [schools.id]
    with pytest.raises(UsageError, match="no idea status 'lost'"):
        ids(status=["lost"])


# -- export -----------------------------------------------------------------------------------


def test_the_markdown_notebook_lists_each_idea_with_its_partners(engine: Engine) -> None:
    route = cycle_route(engine)

    text = export_markdown([route], title="Ogres novads", now=T0, lang="lv")

    assert text.startswith("# Ideju burtnīca — Ogres novads\n")
    assert "_Sagatavots 2026-02-02 · 1 idejas_" in text
    assert f"## {route.id}. Velomaršruts Krape–Madliena–Sigulda" in text
    assert "- **Partneru pašvaldības:** Siguldas novads; Madonas novads" in text
    assert "- **Iespējamie finansējuma avoti:** Eiropas Lauksaimniecības fonds" in text
    assert "\n\\# ne virsraksts" in text  # a description line is not a heading


def test_the_csv_notebook_starts_with_a_bom_and_keeps_latvian_letters(engine: Engine) -> None:
    route = cycle_route(engine)
    from render.ideas import CSV_HEADER

    data = spreadsheet_csv(CSV_HEADER, csv_rows([route]), ";").encode("utf-8")

    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0]["title"] == "Velomaršruts Krape–Madliena–Sigulda"
    assert rows[0]["partner_municipalities"] == "Siguldas novads; Madonas novads"
    assert rows[0]["partner_organisations"] == "Biedrība “Krapes attīstībai”"
    assert rows[0]["instruments"] == "eafrd_leader; interreg"
    assert rows[0]["cost"] == "180000.00"


# -- promotion --------------------------------------------------------------------------------


def test_promoting_an_idea_makes_a_project_that_links_back_to_it(engine: Engine) -> None:
    route = cycle_route(engine)

    done = promote_idea(engine, route.id, actor=LIGA, now=LATER)

    assert (done.idea.status, done.idea.project, done.idea.version) == (
        "promoted", done.project, 2)  # fmt: skip
    project = engine.project(done.project, actor=LIGA)
    assert (project.title, project.unit, project.stage) == (route.title, "krapes_pagasts", "idea")
    assert project.partners == [
        "Siguldas novads", "Madonas novads", "Biedrība “Krapes attīstībai”"]  # fmt: skip
    assert project.funding_instrument == "eafrd_leader"  # the first candidate
    assert (project.budget_amount, project.budget_currency) == (Decimal("180000.00"), "EUR")
    with engine.db.read() as conn:
        assert (
            conn.execute(
                select(projects.c.idea_id).where(projects.c.code == done.project)
            ).scalar_one()
            == route.id
        )
    events = engine.history(done.project, actor=LIGA)
    assert [e.kind for e in events] == ["created", "idea_linked"]
    assert events[1].data["idea"] == route.id
    assert events[1].data["partners"][0] == {"name": "Siguldas novads", "kind": "municipality"}
    assert (project.version, done.project_version) == (2, 2)
    assert audit.verify(engine.db).ok


def test_a_promotion_can_choose_the_instrument_and_title_and_converts_lats(
    engine: Engine,
) -> None:
    route = cycle_route(engine, cost=Decimal("21828"), currency="LVL")

    done = promote_idea(
        engine, route.id, actor=JANIS, now=LATER, title="Velomaršruts", instrument="interreg"
    )

    project = engine.project(done.project, actor=JANIS)
    assert (project.title, project.funding_instrument) == ("Velomaršruts", "interreg")
    assert (project.budget_amount, project.budget_currency) == (Decimal("31058.45"), "EUR")


def test_an_idea_is_promoted_only_once(engine: Engine) -> None:
    route = cycle_route(engine)
    done = promote_idea(engine, route.id, actor=LIGA, now=LATER)

    with pytest.raises(NotAllowed, match=f"it is promoted into {done.project}"):
        promote_idea(engine, route.id, actor=JANIS, now=LATER)
    with pytest.raises(NotAllowed, match=f"it was promoted into {done.project}"):
        edit_idea(engine, route.id, {"priority": "low"}, actor=LIGA, now=LATER)
    with engine.db.read() as conn:
        assert len(conn.execute(select(projects)).all()) == 1


def test_a_refused_promotion_leaves_the_idea_as_it_was(engine: Engine) -> None:
    # Elīna works for Suntaži (so she may write its ideas) but may not start projects.
    idea = create_idea(engine, title="Skolas jumts", unit="suntazu_pagasts", actor=ZANE, now=T0)

    with pytest.raises(NotAllowed, match=f"{ELINA} may not create a project"):
        promote_idea(engine, idea.id, actor=ELINA, now=LATER)

    again = get_idea(engine, idea.id, actor=ZANE)
    assert (again.status, again.project, again.updated_by) == ("draft", None, ZANE)
    with engine.db.read() as conn:
        assert conn.execute(select(projects)).first() is None
    assert promote_idea(engine, idea.id, actor=ZANE, now=LATER).idea.status == "promoted"


def test_a_stale_version_refuses_the_promotion(engine: Engine) -> None:
    route = cycle_route(engine)
    edit_idea(engine, route.id, {"status": "agreed"}, actor=LIGA, now=LATER)

    with pytest.raises(Conflict, match="it is at version 2, you expected 1"):
        promote_idea(engine, route.id, actor=LIGA, now=LATER, expect_version=1)


def test_archived_ideas_are_not_promoted(engine: Engine) -> None:
    route = cycle_route(engine, status="archived")

    with pytest.raises(NotAllowed, match="it is archived"):
        promote_idea(engine, route.id, actor=LIGA, now=LATER)


# -- the whole "done when" through the CLI -----------------------------------------------------


@pytest.fixture
def shema(engine: Engine) -> Iterator[Any]:
    """`shema` bound to the engine's database."""

    def run(*args: str, who: str | None = None) -> Result:
        argv = (["--as", who] if who else []) + list(args)
        env = {"SHEMA_DB": engine.db.url, "SHEMA_USER": None, "SHEMA_LANG": None}
        result = CliRunner().invoke(cli.main, argv, env=env)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        assert "Traceback" not in result.output
        return result

    yield run
    gc.collect()


def test_an_idea_is_created_exported_and_promoted_from_the_command_line(
    shema: Any, tmp_path: Path
) -> None:
    made = shema(
        "idea", "new", "--title", "Velomaršruts gar Ogri", "--unit", "krapes_pagasts",
        "--municipality", "Siguldas novads", "--municipality", "Madonas novads",
        "--organisation", "Biedrība “Krapes attīstībai”",
        "--instrument", "eafrd_leader", "--instrument", "interreg",
        "--cost", "21828 LVL", "--tag", "tūrisms", "--priority", "high", "--json", who=LIGA,
    )  # fmt: skip
    assert made.exit_code == 0, made.stderr
    idea = json.loads(made.stdout)
    assert (idea["cost"], idea["currency"], idea["cost_eur"]) == ("21828.00", "LVL", "31058.45")
    ref = str(idea["id"])

    md, sheet = tmp_path / "burtnica.md", tmp_path / "burtnica.csv"
    assert shema("idea", "export", "-o", str(md), who=COORDINATOR).exit_code == 0
    exported = shema(
        "idea", "export", "--format", "csv", "--delimiter", ";", "-o", str(sheet), who=ZANE
    )
    assert exported.exit_code == 0, exported.stderr
    assert "Siguldas novads; Madonas novads" in md.read_text(encoding="utf-8")
    assert sheet.read_bytes().startswith(b"\xef\xbb\xbf")
    with sheet.open(encoding="utf-8-sig", newline="") as handle:
        (row,) = list(csv.DictReader(handle, delimiter=";"))
    assert (row["id"], row["title"], row["instruments"]) == (
        ref, "Velomaršruts gar Ogri", "eafrd_leader; interreg")  # fmt: skip

    promoted = shema("idea", "promote", ref, "--json", who=LIGA)
    assert promoted.exit_code == 0, promoted.stderr
    code = json.loads(promoted.stdout)["code"]
    shown = json.loads(shema("idea", "show", ref, "--json", who=LIGA).stdout)
    assert (shown["status"], shown["project"]) == ("promoted", code)
    history = json.loads(shema("project", "history", code, "--json", who=LIGA).stdout)
    assert history[-1]["kind"] == "idea_linked"
    assert history[-1]["data"]["idea"] == int(ref)
    project = json.loads(shema("project", "show", code, "--json", who=LIGA).stdout)
    assert project["partners"][:2] == ["Siguldas novads", "Madonas novads"]

    listed = shema("idea", "list", "--status", "promoted", "--json", who=ZANE)
    assert [v["project"] for v in json.loads(listed.stdout)] == [code]
    again = shema("idea", "promote", ref, who=LIGA)
    assert again.exit_code == 1
    assert f"it is promoted into {code}" in again.stderr


def test_the_cli_edits_with_clear_and_lists_the_catalogue(shema: Any) -> None:
    made = shema(
        "idea", "new", "--title", "Taka", "--unit", "krapes_pagasts", "--tag", "daba",
        "--cost", "5000", who=LIGA,
    )  # fmt: skip
    ref = made.stdout.strip()

    edited = shema(
        "idea", "edit", ref, "--status", "open_for_partners", "--clear", "tags", "--clear",
        "cost", "--expect-version", "1", "--json", who=LIGA,
    )  # fmt: skip
    assert edited.exit_code == 0, edited.stderr
    assert {k: json.loads(edited.stdout)[k] for k in ("status", "tags", "cost", "version")} == {
        "status": "open_for_partners", "tags": [], "cost": None, "version": 2}  # fmt: skip
    stale = shema("idea", "edit", ref, "--priority", "low", "--expect-version", "1", who=LIGA)
    assert stale.exit_code == 1
    catalogue = json.loads(shema("idea", "instruments", "--json", who=LIGA).stdout)
    assert [c["id"] for c in catalogue][:2] == ["esf_plus", "erdf"]


def test_a_bad_cost_is_a_usage_error(shema: Any) -> None:
    result = shema(
        "idea", "new", "--title", "T", "--unit", "krapes_pagasts", "--cost", "daudz", who=LIGA
    )
    assert result.exit_code == 2
    assert "--cost 'daudz' is not an amount" in result.stderr
