"""The committed JSON Schemas are up to date with the models, accept the shipped files and
reject broken ones."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from workflow.jsonschema import DIALECT, dump, org_json_schema, scheme_json_schema
from workflow.yamlsource import read

SCHEMES = Path(__file__).resolve().parent.parent / "schemes"
COMMITTED = {
    "shema.schema.json": (scheme_json_schema, "shema scheme json-schema"),
    "shema-org.schema.json": (org_json_schema, "shema scheme json-schema --org"),
}


def data_of(name: str) -> Any:
    src = read((SCHEMES / name).read_text(encoding="utf-8"), name)
    assert not src.problems
    return src.data


def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads((SCHEMES / name).read_text(encoding="utf-8")))


def errors(v: Draft202012Validator, data: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in v.iter_errors(data)]


@pytest.mark.parametrize("name", sorted(COMMITTED))
def test_the_committed_schema_equals_the_generated_one(name: str) -> None:
    generate, command = COMMITTED[name]
    committed = (SCHEMES / name).read_text(encoding="utf-8")
    assert committed == dump(generate()), (
        f"schemes/{name} is out of date with the models; regenerate it with "
        f"`{command} > schemes/{name}`"
    )


@pytest.mark.parametrize("generate", [scheme_json_schema, org_json_schema])
def test_the_schema_is_a_valid_draft_2020_12_schema_without_an_id(generate: Any) -> None:
    schema = generate()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == DIALECT == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"].startswith("Shēma")
    assert "$id" not in schema


def test_dump_is_indented_utf8_text_ending_with_a_newline() -> None:
    text = dump({"title": "Shēma", "n": [1]})
    assert text == '{\n  "title": "Shēma",\n  "n": [\n    1\n  ]\n}\n'


def test_the_scheme_schema_spells_the_source_of_an_action_from() -> None:
    action = scheme_json_schema()["$defs"]["Action"]
    assert "from" in action["properties"] and "from" in action["required"]
    assert "source" not in action["properties"]


def test_the_scheme_schema_accepts_the_unified_scheme() -> None:
    assert errors(validator("shema.schema.json"), data_of("unified.yaml")) == []


def test_the_org_schema_accepts_the_ogre_organisation() -> None:
    assert errors(validator("shema-org.schema.json"), data_of("ogre.yaml")) == []


def test_the_scheme_schema_accepts_the_one_stage_and_list_shorthands() -> None:
    data = {
        "scheme": "s",
        "roles": {"clerk": {"level": "parish"}},
        "stages": {"a": {"owner": "clerk", "checklist": ["x"]}, "b": {"terminal": True}},
        "actions": {"go": {"from": "a", "to": "b", "by": ["clerk"], "requires": ["x"]}},
    }
    assert errors(validator("shema.schema.json"), data) == []


def broken_variants() -> list[tuple[str, Any]]:
    data = data_of("unified.yaml")
    stage, action, role = next(iter(data["stages"])), next(iter(data["actions"])), "x"

    def changed(edit: Any) -> Any:
        copied = copy.deepcopy(data)
        edit(copied)
        return copied

    return [
        ("unknown top-level key", changed(lambda d: d.update(colour="red"))),
        ("missing scheme name", changed(lambda d: d.pop("scheme"))),
        ("unknown stage key", changed(lambda d: d["stages"][stage].update(colour="red"))),
        (
            "wrong deadline type",
            changed(lambda d: d["stages"][stage].update(deadline={"working_days": "five"})),
        ),
        ("bad level", changed(lambda d: d["roles"].update({role: {"level": "county"}}))),
        ("bad stage name", changed(lambda d: d["stages"].update({"Bad-Name": {"terminal": True}}))),
        ("action without by", changed(lambda d: d["actions"][action].pop("by"))),
        ("empty from", changed(lambda d: d["actions"][action].update({"from": []}))),
        (
            "source instead of from",
            changed(lambda d: d["actions"][action].update(source=d["actions"][action].pop("from"))),
        ),
        ("bad comment", changed(lambda d: d["actions"][action].update(comment="maybe"))),
    ]


@pytest.mark.parametrize(
    ("why", "data"), broken_variants(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_the_scheme_schema_rejects_a_broken_scheme(why: str, data: Any) -> None:
    assert errors(validator("shema.schema.json"), data), why


def test_the_org_schema_rejects_a_broken_organisation() -> None:
    data = data_of("ogre.yaml")
    person = next(iter(data["people"]))
    data["people"][person]["roles"].append({"role": "clerk"})  # no unit
    data["municipality"]["code_prefix"] = "ogr"
    found = errors(validator("shema-org.schema.json"), data)
    assert any("code_prefix" in e for e in found)
    assert any(e.startswith(f"people/{person}/roles/") and "'unit'" in e for e in found)
