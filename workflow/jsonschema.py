"""JSON Schemas (draft 2020-12) of the scheme and organisation files, generated from the
pydantic models, for editors (`# yaml-language-server: $schema=./shema.schema.json`) and
other tools. The loader, not these schemas, is the authority on what a file means.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from workflow.org import Organisation
from workflow.scheme import IDENTIFIER, Scheme

DIALECT = "https://json-schema.org/draft/2020-12/schema"

_NAME = {"type": "string", "pattern": IDENTIFIER, "maxLength": 63}


def _schema(model: type[BaseModel], title: str, description: str) -> dict[str, Any]:
    body = model.model_json_schema(by_alias=True, mode="validation")
    _strict_keys(body)
    return {
        "$schema": DIALECT,
        "title": title,
        "description": description,
        **{k: v for k, v in body.items() if k not in ("title", "description")},
    }


def _strict_keys(node: Any) -> None:
    """Make name-keyed maps reject names that do not match the pattern.

    Pydantic writes `dict[Identifier, X]` as `patternProperties` alone, which lets any
    other key through; the loader rejects them, so the schema does too.
    """
    if isinstance(node, dict):
        patterns = node.get("patternProperties")
        if isinstance(patterns, dict) and len(patterns) == 1 and "additionalProperties" not in node:
            ((pattern, value),) = patterns.items()
            del node["patternProperties"]
            node["propertyNames"] = {**node.get("propertyNames", {}), "pattern": pattern}
            node["additionalProperties"] = value
        for child in node.values():
            _strict_keys(child)
    elif isinstance(node, list):
        for child in node:
            _strict_keys(child)


def scheme_json_schema() -> dict[str, Any]:
    """The JSON Schema of a scheme file; `from` is spelled as in the file."""
    schema = _schema(
        Scheme,
        "Shēma scheme",
        "Stages, roles, actions and deadlines of a project organisation scheme.",
    )
    defs = schema["$defs"]
    # Shorthands the models accept through `mode="before"` validators, which pydantic
    # cannot see: `from: idea` for `from: [idea]`, and `checklist: [a, b]`.
    source = defs["Action"]["properties"]["from"]
    defs["Action"]["properties"]["from"] = {
        "title": source.pop("title", "From"),
        "anyOf": [dict(_NAME), source],
    }
    checklist = defs["Stage"]["properties"]["checklist"]
    title = checklist.pop("title", "Checklist")
    defs["Stage"]["properties"]["checklist"] = {
        "title": title,
        "anyOf": [checklist, {"type": "array", "items": dict(_NAME)}],
    }
    return schema


def org_json_schema() -> dict[str, Any]:
    """The JSON Schema of an organisation file."""
    return _schema(
        Organisation,
        "Shēma organisation",
        "A municipality's units, people, their roles and its calendar overrides.",
    )


def dump(schema: dict[str, Any]) -> str:
    """`schema` as stable, readable JSON text ending with a newline."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":  # python -m workflow.jsonschema [scheme|org] > FILE
    import sys

    kind = sys.argv[1] if len(sys.argv) > 1 else "scheme"
    sys.stdout.write(dump(org_json_schema() if kind == "org" else scheme_json_schema()))
