"""Taking, writing, reading and checking anchors: an anchor is a digest over every
project's chain head and the version hashes, kept outside the database (`take_anchor`,
`dump_anchor`); read back from its file (`read_anchor`) or given as a bare digest
(`digest_anchor`), it names a project whose chain was truncated or rewritten since, and a
version that changed or vanished (`_anchor_project`, `_check_anchor`)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from engine.audit.findings import _broken, _other
from engine.audit.streams import _snapshot, _stream
from engine.audit.versions import _SchemeInfo
from storage.database import Database
from storage.tables import (
    org_versions,
    projects,
    scheme_versions,
)
from workflow.errors import UsageError

ANCHOR_FORMAT = "shema-audit-anchor/1"
DIGEST = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Anchor:
    """A taken anchor, read back from its file (or only its digest)."""

    digest: str
    taken_at: str | None = None
    projects: dict[int, tuple[str | None, int, str]] | None = None  # id → code, seq, hash
    org_versions: dict[int, str] = field(default_factory=dict)
    scheme_versions: dict[int, str] = field(default_factory=dict)
    intact: bool = True  # the entries hash to `digest`

    def summary(self) -> dict[str, Any]:
        return {
            "digest": self.digest,
            "taken_at": self.taken_at,
            "projects": None if self.projects is None else len(self.projects),
        }


def _digest_of(lines: Iterable[str]) -> str:
    h = hashlib.sha256()
    for line in lines:
        h.update(line.encode())
    return h.hexdigest()


def _project_line(pid: int, seq: int, head: str) -> str:
    return f"project {pid} {seq} {head}\n"


def take_anchor(db: Database, now: dt.datetime) -> dict[str, Any]:
    """The anchor document: every project's (id, head_seq, head_hash) and every org and
    scheme version's content hash, and their digest: SHA-256 over the lines
    `project ID SEQ HASH`, `org ID HASH`, `scheme ID HASH`, each ended by a newline,
    in that order and by id."""
    with db.read() as conn:
        _snapshot(db, conn)
        heads = [
            [r.id, r.code, r.head_seq, r.head_hash]
            for r in _stream(
                conn,
                select(
                    projects.c.id, projects.c.code, projects.c.head_seq, projects.c.head_hash
                ).order_by(projects.c.id),
            )
        ]
        orgs = [
            [r.id, r.content_hash]
            for r in conn.execute(
                select(org_versions.c.id, org_versions.c.content_hash).order_by(org_versions.c.id)
            )
        ]
        schemes = [
            [r.id, r.name, r.version, r.content_hash]
            for r in conn.execute(
                select(
                    scheme_versions.c.id,
                    scheme_versions.c.name,
                    scheme_versions.c.version,
                    scheme_versions.c.content_hash,
                ).order_by(scheme_versions.c.id)
            )
        ]
    lines = [_project_line(p[0], p[2], p[3]) for p in heads]
    lines += [f"org {o[0]} {o[1]}\n" for o in orgs]
    lines += [f"scheme {s[0]} {s[3]}\n" for s in schemes]
    return {
        "format": ANCHOR_FORMAT,
        "taken_at": now.astimezone(dt.UTC).isoformat(),
        "count": len(heads),
        "digest": _digest_of(lines),
        "projects": heads,  # [id, code, head_seq, head_hash]
        "org_versions": orgs,  # [id, content_hash]
        "scheme_versions": schemes,  # [id, name, version, content_hash]
    }


def dump_anchor(doc: dict[str, Any]) -> str:
    """The anchor file's text: JSON, one project per line (diffable, greppable)."""
    head = {
        k: v for k, v in doc.items() if k not in ("projects", "org_versions", "scheme_versions")
    }
    parts = [json.dumps(head, ensure_ascii=False)[:-1]]
    for key in ("projects", "org_versions", "scheme_versions"):
        rows = ",\n  ".join(json.dumps(r, ensure_ascii=False) for r in doc[key])
        parts.append(f', "{key}": [\n  {rows}\n]' if rows else f', "{key}": []')
    return "".join(parts) + "}\n"


def read_anchor(text: str, source: str = "the anchor") -> Anchor:
    """An anchor from its file's text; UsageError if it is not one."""
    try:
        doc = json.loads(text)
        if not isinstance(doc, dict) or doc.get("format") != ANCHOR_FORMAT:
            raise ValueError(f"not a {ANCHOR_FORMAT} document")
        digest = str(doc["digest"])
        heads = {int(p[0]): (p[1], int(p[2]), str(p[3])) for p in doc["projects"]}
        orgs = {int(o[0]): str(o[1]) for o in doc["org_versions"]}
        schemes = {int(s[0]): str(s[3]) for s in doc["scheme_versions"]}
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise UsageError(
            f"{source} is not an audit anchor (`shema audit anchor -o FILE`): {exc}"
        ) from None
    lines = [_project_line(pid, seq, head) for pid, (_, seq, head) in sorted(heads.items())]
    lines += [f"org {i} {h}\n" for i, h in sorted(orgs.items())]
    lines += [f"scheme {i} {h}\n" for i, h in sorted(schemes.items())]
    intact = _digest_of(lines) == digest
    return Anchor(digest, doc.get("taken_at"), heads, orgs, schemes, intact)


def digest_anchor(digest: str) -> Anchor:
    """An anchor known only by its digest: the database must match it exactly."""
    digest = digest.strip().lower()
    if not DIGEST.match(digest):
        raise UsageError(f"{digest!r} is not an anchor digest (64 hexadecimal digits)")
    return Anchor(digest)


def _anchor_project(
    anchor: Anchor, head: tuple[str | None, int, str], chain: list[dict[str, Any]]
) -> tuple[int, str] | None:
    """Where and what is wrong with a (verified) chain against its anchored head."""
    _, seq, anchored = head
    when = f"the anchor of {anchor.taken_at}"
    if len(chain) < seq:
        first = len(chain) + 1
        return first, (
            f"the history has {len(chain)} events but {when} saw {seq}: events "
            f"#{first}..#{seq} were deleted"
        )
    if chain[seq - 1]["hash"] != anchored:
        return seq, f"event #{seq} is not the one {when} saw: the history was rewritten"
    return None


def _check_anchor(
    anchor: Anchor,
    left: dict[int, tuple[str | None, int, str]] | None,
    schemes: dict[int, _SchemeInfo],
    version_lines: list[str],
    now_digest: str,
) -> list[dict[str, Any]]:
    out = []
    when = f"the anchor of {anchor.taken_at}"
    if anchor.projects is None:  # a bare digest: only an unchanged database matches it
        if now_digest != anchor.digest:
            out.append(
                _other(
                    "anchor",
                    f"the database does not match the anchor digest {anchor.digest[:12]}…: it "
                    "changed since (perhaps only grew: verify against the anchor file to tell)",
                )
            )
        return out
    if not anchor.intact:
        out.append(
            _other(
                "anchor",
                f"the anchor's entries do not hash to its digest {anchor.digest[:12]}…: the file "
                "was edited, its heads prove nothing",
            )
        )
    for pid, (code, seq, _) in sorted((left or {}).items()):
        out.append(
            _broken(
                None,
                pid,
                seq,
                f"{when} saw project {code or pid} with {seq} events; it is gone (deleted)",
                code=code,
            )
        )
    now_versions: dict[tuple[str, int], str] = {}
    for line in version_lines:
        what, number, value = line.split()
        now_versions[(what, int(number))] = value
    for kind, name, anchored in (
        ("org", "organisation version", anchor.org_versions),
        ("scheme", "scheme version", anchor.scheme_versions),
    ):
        for vid, content in sorted(anchored.items()):
            current = now_versions.get((kind, vid))
            if current == content:
                continue
            label = f"{name} {vid}"
            if kind == "scheme" and vid in schemes:
                label = f"scheme {schemes[vid].name} v{schemes[vid].version}"
            state = "is gone" if current is None else "has another content hash"
            out.append(
                _other(label, f"{when} saw it with content hash {content[:12]}…; it {state}")
            )
    return out
