"""`shema` commands: Scheme and organisation files: validate, show, draw, load, compare."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from commands.base import (
    Settings,
    ShemaGroup,
    echo_json,
    json_option,
    now,
    os_account,
    pass_settings,
    table,
    write_file,
)
from workflow.errors import InputError, NotFound, ShemaError

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from engine.service import Engine
    from workflow.scheme import Scheme

# -- scheme ------------------------------------------------------------------------


@click.group(cls=ShemaGroup)
def scheme() -> None:
    """Validate, show, draw, load and compare schemes."""


@scheme.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def scheme_validate(files: tuple[str, ...]) -> None:
    """Check scheme files; print every problem as FILE:LINE:COL: path: message."""
    from workflow.loader import load_scheme

    problems = []
    for file in files:
        try:
            load_scheme(file)
            click.echo(f"{file}: ok")
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)


@scheme.command("show")
@click.argument("file", type=click.Path(dir_okay=False))
@json_option
@pass_settings
def scheme_show(s: Settings, file: str, as_json: bool) -> None:
    """Stages, roles, actions, handoffs and deadlines of a scheme file."""
    from workflow.loader import load_scheme
    from workflow.summary import summary

    data = summary(load_scheme(file), s.lang)
    if as_json:
        echo_json(data)
        return
    click.echo(f"{data['title']} ({data['scheme']})")
    click.echo("\nRoles")
    table([(r["role"], r["level"], r["title"]) for r in data["roles"]], ["role", "level", "title"])
    click.echo("\nStages")
    table(
        [
            (
                st["stage"],
                st["owner"] or "-",
                ", ".join(st["participants"]),
                st["deadline_text"] or "",
                "yes" if st["terminal"] else "",
                st["title"],
            )
            for st in data["stages"]
        ],
        ["stage", "owner", "participants", "deadline", "terminal", "title"],
    )
    click.echo("\nActions")
    table(
        [
            (
                a["action"],
                ", ".join(a["from"]),
                a["to"],
                ", ".join(a["by"]),
                "yes" if a["handoff"] else "",
                "required" if a["comment"] == "required" else "",
                ", ".join([*a["requires"], *(f"[{g}]" for g in a["gates"])]),
            )
            for a in data["actions"]
        ],
        ["action", "from", "to", "by", "handoff", "comment", "requires [gates]"],
    )


@scheme.command("diagram")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--format", "fmt", type=click.Choice(["mermaid", "dot"]), default="mermaid", show_default=True
)
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None)
@pass_settings
def scheme_diagram(s: Settings, file: str, fmt: str, output: str | None) -> None:
    """Draw a scheme as Mermaid or Graphviz DOT."""
    from workflow import diagram
    from workflow.loader import load_scheme

    loaded = load_scheme(file)
    out = diagram.mermaid(loaded, s.lang) if fmt == "mermaid" else diagram.dot(loaded, s.lang)
    if output:
        write_file(output, out.encode("utf-8"))
        click.echo(f"wrote {output}")
    else:
        click.echo(out, nl=False)


@scheme.command("json-schema")
@click.option("--org", is_flag=True, help="The organisation file's schema instead.")
def scheme_json_schema(org: bool) -> None:
    """Print the JSON Schema of the scheme format (for editors)."""
    from workflow import jsonschema

    click.echo(
        jsonschema.dump(jsonschema.org_json_schema() if org else jsonschema.scheme_json_schema()),
        nl=False,
    )


@scheme.command("load")
@click.argument("file", type=click.Path(dir_okay=False))
@json_option
@pass_settings
def scheme_load(s: Settings, file: str, as_json: bool) -> None:
    """Load a scheme as a new version (coordinators only)."""
    from engine.loading import load_scheme
    from workflow.loader import read_text

    source = read_text(file, "scheme")
    engine = s.engine()
    loaded = load_scheme(engine, source, file, actor=s.who(), now=now())
    if as_json:
        echo_json(loaded.to_json())
    elif loaded.created:
        click.echo(f"scheme {loaded.name} loaded as version {loaded.version}")
    else:
        click.echo(f"scheme {loaded.name} unchanged: still version {loaded.version}")


@scheme.command("diff")
@click.argument("first", metavar="A")
@click.argument("second", metavar="B")
@json_option
@pass_settings
def scheme_diff(s: Settings, first: str, second: str, as_json: bool) -> None:
    """What differs from scheme A to scheme B: each a file, or a stored version NAME@N
    (NAME alone: its newest version; stored versions need --db or SHEMA_DB)."""
    from render.diff import lines
    from workflow.diff import diff

    name_a, a = _scheme_of(s, first)
    name_b, b = _scheme_of(s, second)
    found = diff(a, b)
    if as_json:
        echo_json({"from": name_a, "to": name_b, **found.to_json()})
        return
    for line in lines(found, s.lang, name_a, name_b):
        click.echo(line)


STORED = re.compile(r"^(?P<name>[a-z][a-z0-9_]*)(?:@(?P<version>[0-9]{1,9}))?$")


def _scheme_of(s: Settings, ref: str) -> tuple[str, Scheme]:
    """The scheme `ref` names, and how to call it: a file (a bare name that is not a file
    means a stored scheme's newest version), or a stored version NAME@N."""
    from workflow.loader import load_scheme

    stored = STORED.match(ref)
    if stored is None or ("@" not in ref and Path(ref).exists()):
        return ref, load_scheme(ref)
    name, version = stored["name"], stored["version"]
    engine = s.engine()
    with engine.db.read() as conn:
        if version is None:
            newest = engine.latest_scheme(conn, name)
            return f"{name}@{newest.version}", newest.scheme
        return ref, _stored_version(engine, conn, name, int(version))


def _stored_version(engine: Engine, conn: Connection, name: str, version: int) -> Scheme:
    """Version `version` of stored scheme `name`; refused when there is no such one."""
    from engine.listing import schemes

    known = [cs for cs in schemes(engine.versions, conn) if cs.name == name]
    if not known:
        raise NotFound(f"no scheme named {name!r} is loaded", code="scheme.unknown", scheme=name)
    for cs in known:
        if cs.version == version:
            return cs.scheme
    raise NotFound(
        f"scheme {name} has no stored version {version} (it has "
        f"{', '.join(str(cs.version) for cs in known)})",
        code="diff.no_version",
        scheme=name,
        version=version,
    )


# -- organisation ------------------------------------------------------------------


@click.group(cls=ShemaGroup)
def org() -> None:
    """Validate, show and load organisation files."""


def _schemes_for_org(s: Settings, paths: tuple[str, ...]) -> tuple[list[Any], str]:
    """The schemes an organisation file is checked against, and how to say which: the
    files given, else every scheme loaded in the database, else the shipped unified one."""
    from schemes import shipped
    from workflow.loader import load_scheme, load_scheme_text

    if paths:
        return [load_scheme(p) for p in paths], ", ".join(paths)
    loaded = _loaded_schemes(s)
    if loaded:
        names = ", ".join(f"{cs.name} v{cs.version}" for cs in loaded)
        return [cs.scheme for cs in loaded], f"{names}, loaded in {s.engine().db.safe_url}"
    text = shipped("unified.yaml").read_text(encoding="utf-8")
    return [load_scheme_text(text, "unified.yaml")], "the shipped unified.yaml (no --scheme given)"


def _loaded_schemes(s: Settings) -> list[Any]:
    """The schemes loaded in the configured database; none when there is no usable one
    (validating a file needs no database)."""
    try:
        engine = s.engine()
        with engine.db.read() as conn:
            return engine.loaded_schemes(conn)
    except ShemaError:
        return []


@org.command("validate")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--scheme",
    "scheme_files",
    type=click.Path(dir_okay=False),
    multiple=True,
    help="Check role names against this scheme file (repeat for several; default: the "
    "schemes loaded in the database, else the shipped unified one).",
)
@click.option("--verbose", "-v", is_flag=True, help="List every unit a warning is about.")
@pass_settings
def org_validate(s: Settings, file: str, scheme_files: tuple[str, ...], verbose: bool) -> None:
    """Check an organisation file against the schemes it serves; warn where a unit has
    nobody to receive its work."""
    from engine.loading import org_warnings
    from workflow.loader import load_org_text, read_text

    schemes, against = _schemes_for_org(s, scheme_files)
    roles = {name: role.level.value for sch in schemes for name, role in sch.roles.items()}
    loaded = load_org_text(read_text(file, "organisation"), file, roles=roles)
    warnings = [w for sch in schemes for w in org_warnings(loaded, sch)]
    unique = {(w.path, w.message): w for w in warnings}.values()
    if verbose or len(unique) <= 3:
        for warning in unique:
            click.echo(f"{file}: {warning.path}: warning: {warning.message}", err=True)
    else:
        units = sorted({w.path.removeprefix("units.") for w in unique})
        click.echo(
            f"{file}: warning: {len(units)} units have nobody for one of their roles "
            f"({', '.join(units[:3])} …): their messages go to the coordinators "
            "(--verbose lists each)",
            err=True,
        )
    click.echo(
        f"{file}: ok ({len(loaded.units)} units, {len(loaded.people)} people); "
        f"checked against {against}"
    )


@org.command("show")
@click.argument("file", type=click.Path(dir_okay=False))
@json_option
@pass_settings
def org_show(s: Settings, file: str, as_json: bool) -> None:
    """Units and people of an organisation file."""
    from workflow.labels import text
    from workflow.loader import load_org

    o = load_org(file)
    units: list[dict[str, Any]] = [
        {"id": uid, "name": text(u.name, s.lang), "kind": u.kind.value, "parent": u.parent}
        for uid, u in o.units.items()
    ]
    people: list[dict[str, Any]] = [
        {
            "id": pid,
            "name": p.name,
            "email": p.email,
            "lang": p.lang,
            "roles": [{"role": a.role, "unit": a.unit} for a in p.roles],
        }
        for pid, p in o.people.items()
    ]
    if as_json:
        echo_json(
            {
                "municipality": text(o.municipality.name, s.lang),
                "code_prefix": o.municipality.code_prefix,
                "units": units,
                "people": people,
            }
        )
        return
    click.echo(f"{text(o.municipality.name, s.lang)} ({o.municipality.code_prefix})\n")
    depth = {uid: len(list(o.ancestors(uid))) - 1 for uid in o.units}
    table(
        [("  " * depth[u["id"]] + u["id"], u["kind"], u["name"]) for u in units],
        ["unit", "kind", "name"],
    )
    click.echo("")
    table(
        [
            (
                p["id"],
                p["name"],
                p["email"] or "",
                ", ".join(f"{r['role']}@{r['unit']}" for r in p["roles"]),
            )
            for p in people
        ],
        ["person", "name", "e-mail", "roles"],
    )


@org.command("load")
@click.argument("file", type=click.Path(dir_okay=False))
@json_option
@pass_settings
def org_load(s: Settings, file: str, as_json: bool) -> None:
    """Load the organisation (coordinators only; the first load by a coordinator it names)."""
    from engine.loading import load_org, who_loads_org
    from workflow.loader import read_text

    source = read_text(file, "organisation")
    engine = s.engine()
    actor = who_loads_org(engine, s.actor, os_account())
    loaded = load_org(engine, source, file, actor=actor, now=now())
    if as_json:
        echo_json(loaded.to_json())
    elif loaded.created:
        click.echo(f"organisation {loaded.name} loaded as version {loaded.version}")
    else:
        click.echo(f"organisation {loaded.name} unchanged: still version {loaded.version}")
