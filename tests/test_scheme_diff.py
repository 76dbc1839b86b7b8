"""Comparing two schemes: the pure diff of two versions of the shipped one (a stage renamed,
one removed, one retitled, a required checklist item added, a deadline lengthened), its
words in Latvian and English, `shema scheme diff` on files and on stored versions (SQLite
and PostgreSQL), and the coordinator page's comparison form."""

from __future__ import annotations

import gc
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from conftest import COORDINATOR, T0, shipped_text
from ruamel.yaml import YAML
from test_web import Site, signed_in_client, site  # noqa: F401  (the web fixture)

import cli
from engine.listing import schemes
from engine.loading import load_scheme
from engine.service import Engine
from render.catalogue import words
from render.diff import KIND_KEYS, lines
from workflow.diff import FIELDS, KINDS, SchemeDiff, diff
from workflow.loader import load_scheme_text
from workflow.scheme import Scheme

SHIPPED = shipped_text("unified.yaml")


def second_version(text: str = SHIPPED) -> str:
    """The shipped scheme changed as a coordinator might: `payment_request` renamed
    `payment_claim`, `withdrawn` removed (withdrawing now rejects), the idea retitled, a
    required item `site_photos` on the idea's checklist, pre-assessment 10 → 15 working
    days. JSON is YAML, so the text loads as a scheme file."""
    data: dict[str, Any] = YAML(typ="safe").load(text)
    renamed = {"payment_request": "payment_claim"}
    data["stages"] = {
        renamed.get(name, name): stage
        for name, stage in data["stages"].items()
        if name != "withdrawn"
    }
    for action in data["actions"].values():
        sources = [action["from"]] if isinstance(action["from"], str) else action["from"]
        action["from"] = [renamed.get(s, s) for s in sources]
        action["to"] = renamed.get(action["to"], action["to"])
    data["actions"]["withdraw"]["to"] = "rejected"
    idea = data["stages"]["idea"]
    idea["title"] = {"lv": "Iecere", "en": "Idea"}
    idea["checklist"]["site_photos"] = {"lv": "Objekta fotogrāfijas", "en": "Photos of the site"}
    data["actions"]["submit_idea"]["requires"].append("site_photos")
    data["stages"]["pre_assessment"]["deadline"] = {"working_days": 15}
    return json.dumps(data, ensure_ascii=False, indent=1)


def schemes_compared() -> tuple[Scheme, Scheme]:
    return load_scheme_text(SHIPPED, "unified.yaml"), load_scheme_text(second_version(), "b")


PAYMENT = {"lv": "Maksājuma pieprasījums", "en": "Payment request"}
WITHDRAWN = {"lv": "Atsaukts", "en": "Withdrawn"}


def _changed(kind: str, key: str, title: Any, *changes: tuple[str, Any, Any]) -> dict[str, Any]:
    path = f"{kind}.{key}"
    return {
        "kind": kind,
        "op": "changed",
        "key": key,
        "path": path,
        "title": title,
        "changes": [
            {"path": f"{path}.{f}", "field": f, "old": old, "new": new} for f, old, new in changes
        ],
    }


def _moved(action: str, title: dict[str, str], field: str, old: Any, new: Any) -> dict[str, Any]:
    return _changed("actions", action, title, (field, old, new))


EXPECTED = [
    {
        "kind": "stages",
        "op": "added",
        "key": "payment_claim",
        "path": "stages.payment_claim",
        "title": PAYMENT,
        "changes": [],
    },
    *(
        {"kind": "stages", "op": "removed", "key": k, "path": f"stages.{k}", "title": t}
        | {"changes": []}
        for k, t in [
            ("payment_request", PAYMENT),
            ("withdrawn", {"lv": "Atsaukts", "en": "Withdrawn"}),
        ]
    ),
    _changed(
        "stages",
        "idea",
        {"lv": "Iecere", "en": "Idea"},
        ("title", {"lv": "Ideja", "en": "Idea"}, {"lv": "Iecere", "en": "Idea"}),
    ),
    _changed(
        "stages",
        "pre_assessment",
        {"lv": "Priekšizvērtējums", "en": "Pre-assessment"},
        ("deadline", {"working_days": 10}, {"working_days": 15}),
    ),
    {
        "kind": "checklist",
        "op": "added",
        "key": "idea.site_photos",
        "path": "stages.idea.checklist.site_photos",
        "title": {"lv": "Objekta fotogrāfijas", "en": "Photos of the site"},
        "stage": "idea",
        "item": "site_photos",
        "changes": [],
    },
    _moved(
        "submit_idea",
        {"lv": "Iesniegt ideju", "en": "Submit the idea"},
        "requires",
        ["problem_statement", "estimated_cost"],
        ["problem_statement", "estimated_cost", "site_photos"],
    ),
    _moved(
        "request_payment",
        {"lv": "Sagatavot maksājuma pieprasījumu", "en": "Prepare a payment request"},
        "to",
        "payment_request",
        "payment_claim",
    ),
    *(
        _moved(action, title, "from", ["payment_request"], ["payment_claim"])
        for action, title in [
            (
                "submit_payment_request",
                {
                    "lv": "Starpposma maksājuma pieprasījums iesniegts",
                    "en": "Interim payment request submitted",
                },
            ),
            (
                "submit_final_payment_request",
                {
                    "lv": "Noslēguma maksājuma pieprasījums iesniegts",
                    "en": "Final payment request submitted",
                },
            ),
            (
                "return_implementation",
                {"lv": "Atlikt maksājuma pieprasījumu", "en": "Put the payment request back"},
            ),
        ]
    ),
    _moved(
        "withdraw",
        {"lv": "Atsaukt projektu", "en": "Withdraw the project"},
        "to",
        "withdrawn",
        "rejected",
    ),
]

LATVIAN = [
    "Posmi:",
    "  + payment_claim „Maksājuma pieprasījums”",
    "  − payment_request „Maksājuma pieprasījums”",
    "  − withdrawn „Atsaukts”",
    "  ~ idea: nosaukums „Ideja” → „Iecere”",
    "  ~ pre_assessment: termiņš 10 → 15 darba dienas",
    "Kontrolsaraksti:",
    "  + idea.site_photos „Objekta fotogrāfijas”",
    "Darbības:",
    "  ~ submit_idea: prasa atzīmēt + site_photos",
    "  ~ request_payment: uz posmu payment_request → payment_claim",
    "  ~ submit_payment_request: no posma + payment_claim, − payment_request",
    "  ~ submit_final_payment_request: no posma + payment_claim, − payment_request",
    "  ~ return_implementation: no posma + payment_claim, − payment_request",
    "  ~ withdraw: uz posmu withdrawn → rejected",
]


# -- the diff ------------------------------------------------------------------------


def test_the_diff_of_two_versions_lists_every_change_in_scheme_order() -> None:
    found = diff(*schemes_compared())
    assert found.to_json() == {"a": "unified", "b": "unified", "same": False, "entries": EXPECTED}
    assert found.added("stages") == ["payment_claim"]
    assert found.removed("stages") == ["payment_request", "withdrawn"]
    assert found.added("checklist") == ["idea.site_photos"]
    assert [c.path for c in found.changes("deadline")] == ["stages.pre_assessment.deadline"]
    pre = found.changed("stages")[1].change("deadline")
    assert pre is not None and (pre.old, pre.new) == ({"working_days": 10}, {"working_days": 15})
    json.dumps(found.to_json())  # plain data throughout


def test_a_scheme_compared_with_itself_has_no_differences() -> None:
    a, _ = schemes_compared()
    found = diff(a, a)
    assert found == SchemeDiff("unified", "unified", ()) and found.same and not found
    assert lines(found, "lv") == ["Atšķirību nav."]
    assert lines(found, "en") == ["No differences."]


def test_the_diff_runs_backwards_as_the_mirror_image() -> None:
    a, b = schemes_compared()
    back = diff(b, a)
    assert back.added("stages") == ["payment_request", "withdrawn"]
    assert back.removed("stages") == ["payment_claim"]
    assert back.removed("checklist") == ["idea.site_photos"]
    deadline = back.changes("deadline")[0]
    assert (deadline.old, deadline.new) == ({"working_days": 15}, {"working_days": 10})


def test_another_municipalitys_scheme_differs_in_name_calendar_roles_gates_and_reminders() -> None:
    data: dict[str, Any] = YAML(typ="safe").load(SHIPPED)
    data["scheme"] = "kegums"
    data["title"] = "Ķeguma novada shēma"
    data["calendar"]["timezone"] = "Europe/Vilnius"
    data["roles"]["lawyer"]["level"] = "parish"
    data["dates"]["grant_date"] = {"title": "Piešķiršanas datums"}
    data["stages"]["idea"]["reminders"] = [{"before": {"calendar_days": 2}}]
    data["stages"]["idea"]["escalation"] = [{"after": {"working_days": 1}, "to": "parish_head"}]
    data["actions"]["request_cofinancing"]["gates"] = ["cost_benefit"]
    data["actions"]["withdraw"]["comment"] = "optional"
    other = load_scheme_text(json.dumps(data, ensure_ascii=False), "kegums.yaml")
    found = diff(load_scheme_text(SHIPPED, "unified.yaml"), other)
    assert (found.a, found.b) == ("unified", "kegums")
    assert [(e.kind, e.op, e.key) for e in found.entries] == [
        ("scheme", "changed", ""),
        ("calendar", "changed", ""),
        ("dates", "added", "grant_date"),
        ("roles", "changed", "lawyer"),
        ("stages", "changed", "idea"),
        ("actions", "changed", "request_cofinancing"),
        ("actions", "changed", "withdraw"),
    ]
    assert [c.path for c in found.entries[0].changes] == ["scheme", "title"]
    assert [c.path for c in found.entries[4].changes] == [
        "stages.idea.reminders",
        "stages.idea.escalation",
    ]
    assert lines(found, "lv")[1:4] == [
        "  ~ shēmas identifikators unified → kegums; nosaukums „Vienotā projektu darba "
        "organizācijas shēma” → „Ķeguma novada shēma”",
        "Kalendārs:",
        "  ~ laika josla Europe/Riga → Europe/Vilnius",
    ]
    text = "\n".join(lines(found, "lv"))
    assert "  + grant_date „Piešķiršanas datums”" in text
    assert "  ~ lawyer: līmenis centrālā administrācija → pagasts vai pārvalde" in text
    assert (
        "  ~ idea: atgādinājumi 1 darba dienu pirms termiņa → 2 kalendāra dienas pirms "
        "termiņa; eskalācija pēc 1 darba dienas: parish_head, pēc 5 darba dienām: "
        "development_head → pēc 1 darba dienas: parish_head"
    ) in text
    assert "  ~ request_cofinancing: pārbaudes − risk_register" in text
    assert "  ~ withdraw: komentārs obligāts → pēc izvēles" in text


# -- words -----------------------------------------------------------------------------


def test_the_diff_reads_in_latvian_and_english() -> None:
    found = diff(*schemes_compared())
    assert lines(found, "lv") == LATVIAN
    english = lines(found, "en", "unified@1", "unified@2")
    assert english[0] == "Differences: unified@1 → unified@2"
    assert "  ~ pre_assessment: deadline 10 → 15 working days" in english
    assert "  + idea.site_photos “Photos of the site”" in english
    assert english[1] == "Stages:" and "Actions:" in english


@pytest.mark.parametrize("lang", ["lv", "en"])
def test_every_word_the_renderer_can_ask_for_is_in_the_catalogue(lang: str) -> None:
    w = words(lang)
    assert set(KIND_KEYS) == set(KINDS)
    wanted = {*KIND_KEYS.values(), *(f"diff_field_{f}" for f in FIELDS)}
    assert sorted(wanted - set(w)) == []
    for unit in ("working", "calendar"):
        for form in ("", "_before", "_after"):
            assert w.n(f"diff_{unit}_days{form}_n", 2, date="x")


# -- the command line ---------------------------------------------------------------------


def invoke(url: str, *args: str) -> Result:
    """`shema ARGS` in process against `url`, with a clean environment."""
    env = {"SHEMA_DB": url, "SHEMA_USER": None, "SHEMA_LANG": None, "SHEMA_DEBUG": None}
    result = CliRunner().invoke(cli.main, list(args), env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def test_the_command_compares_two_files_in_latvian_and_as_json(tmp_path: Path) -> None:
    new = tmp_path / "b.yaml"
    new.write_text(second_version(), encoding="utf-8")
    old = tmp_path / "unified.yaml"
    old.write_text(SHIPPED, encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'unused.db'}"
    said = invoke(url, "scheme", "diff", str(old), str(new))
    assert said.exit_code == 0, said.stderr
    assert said.stdout.splitlines() == [f"Atšķirības: {old} → {new}", *LATVIAN]
    answer = invoke(url, "scheme", "diff", str(old), str(new), "--json")
    assert answer.exit_code == 0, answer.stderr
    assert json.loads(answer.stdout)["entries"] == EXPECTED
    same = invoke(url, "--lang", "en", "scheme", "diff", str(old), str(old))
    assert (same.exit_code, same.stdout.splitlines()[-1]) == (0, "No differences.")
    assert not (tmp_path / "unused.db").exists()  # comparing files needs no database


def test_the_command_locates_a_broken_or_missing_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(SHIPPED.replace("owner: parish_specialist", "owner: 7", 1), "utf-8")
    url = f"sqlite:///{tmp_path / 'unused.db'}"
    result = invoke(url, "scheme", "diff", str(broken), str(tmp_path / "missing.yaml"))
    assert result.exit_code != 0 and result.stdout == ""
    assert re.search(rf"{re.escape(str(broken))}:\d+:\d+: ", result.stderr), result.stderr
    missing = invoke(url, "scheme", "diff", str(tmp_path / "missing.yaml"), str(broken))
    assert f"{tmp_path / 'missing.yaml'}:1:1: cannot read the file" in missing.stderr


def _load_second(engine: Engine) -> None:
    load_scheme(engine, second_version(), "unified.yaml", actor=COORDINATOR, now=T0)


def test_the_command_compares_stored_versions(engine: Engine, tmp_path: Path) -> None:
    _load_second(engine)
    url = engine.db.url
    try:
        answer = invoke(url, "scheme", "diff", "unified@1", "unified", "--json")
        assert answer.exit_code == 0, answer.stderr
        shown = json.loads(answer.stdout)
        assert (shown["from"], shown["to"], shown["entries"]) == (
            "unified@1",
            "unified@2",
            EXPECTED,
        )
        said = invoke(url, "scheme", "diff", "unified@2", "unified@1")
        assert said.stdout.splitlines()[:3] == [
            "Atšķirības: unified@2 → unified@1",
            "Posmi:",
            "  + payment_request „Maksājuma pieprasījums”",
        ]
        file = tmp_path / "b.yaml"
        file.write_text(second_version(), encoding="utf-8")
        same = invoke(url, "scheme", "diff", str(file), "unified@2")
        assert (same.exit_code, same.stdout.splitlines()[-1]) == (0, "Atšķirību nav.")
        absent = invoke(url, "scheme", "diff", "unified@7", "unified")
        assert absent.exit_code == 1 and "no stored version 7 (it has 1, 2)" in absent.stderr
        unknown = invoke(url, "scheme", "diff", "kegums@1", "unified")
        assert unknown.exit_code == 1 and "no scheme named 'kegums'" in unknown.stderr
    finally:
        gc.collect()  # the in-process engines' connections, before PostgreSQL resets


def test_a_stored_version_without_a_database_says_how_to_give_one(tmp_path: Path) -> None:
    result = invoke(f"sqlite:///{tmp_path / 'none.db'}", "scheme", "diff", "unified@1", "unified")
    assert result.exit_code != 0
    assert "SHEMA_DB" in result.stderr and not (tmp_path / "none.db").exists()


# -- the coordinator page -----------------------------------------------------------------


def test_the_coordinator_page_compares_two_stored_versions(site: Site) -> None:  # noqa: F811
    _load_second(site.engine)
    with site.engine.db.read() as conn:
        first, second = (cs.version_id for cs in schemes(site.engine.versions, conn))
    client = signed_in_client(site, COORDINATOR)
    page = client.get("/coordinator").text
    assert f'<option value="{first}">unified, 1. versija</option>' in page
    assert f'<option value="{second}" selected>unified, 2. versija</option>' in page
    assert 'href="/coordinator/migrate">Pārcelt projektus uz citu versiju</a>' in page
    assert "Posmi" not in page  # nothing compared until asked
    shown = client.get(f"/coordinator?a={first}&b={second}")
    assert shown.status_code == 200
    assert "Atšķirības: unified, 1. versija → unified, 2. versija" in shown.text
    for line in LATVIAN:
        assert f"<li>{line.strip()}</li>" in shown.text or f"<h4>{line[:-1]}</h4>" in shown.text
    english = client.get(f"/coordinator?a={second}&b={first}&lang=en").text
    assert "<li>~ pre_assessment: deadline 15 → 10 working days</li>" in english
    assert "Move projects to another version" in english
    same = client.get(f"/coordinator?a={first}&b={first}").text
    assert "No differences." in same
    assert client.get(f"/coordinator?a={first}&b=999").status_code == 404


def test_others_see_no_comparison(site: Site) -> None:  # noqa: F811
    client = signed_in_client(site, "liga.ozolina")
    assert client.get("/coordinator?a=1&b=1").status_code == 404
