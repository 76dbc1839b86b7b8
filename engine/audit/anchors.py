"""Taking, writing, reading and checking anchors: an anchor is a digest over every
project's chain head, the version hashes and the last verify run's digest (which pins
the verified heads, engine/audit/heads.py), kept outside the database (`take_anchor`,
`dump_anchor`); read back from its file (`read_anchor`) or given as a bare digest
(`digest_anchor`), it names a project whose chain was truncated or rewritten since, and a
version that changed or vanished (`chain_against_anchor`, `check_anchor`)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from engine.audit.findings import broken_entry, other_entry
from engine.audit.versions import SchemeInfo
from storage.audit import (
    ChainEvent,
    org_hashes,
    scheme_hashes,
    snapshot,
    stream_heads,
)
from storage.audit_heads import latest_run
from storage.database import Database
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
    heads: tuple[int, str] | None = None  # the last verify run then: id, digest

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


def project_line(pid: int, seq: int, head: str) -> str:
    """A project's line of the anchor digest: `project ID SEQ HASH` and a newline."""
    return f"project {pid} {seq} {head}\n"


def heads_line(rid: int, digest: str) -> str:
    """The line that pins verify run `rid` (and so the heads it left): `heads ID DIGEST`."""
    return f"heads {rid} {digest}\n"


def take_anchor(db: Database, now: dt.datetime) -> dict[str, Any]:
    """The anchor document: every project's (id, head_seq, head_hash), every org and
    scheme version's content hash, the last verify run that wrote heads (id, digest; none
    before the first), and their digest: SHA-256 over the lines `project ID SEQ HASH`,
    `org ID HASH`, `scheme ID HASH`, `heads ID DIGEST`, each ended by a newline, in that
    order and by id."""
    with snapshot(db) as conn:
        heads = list(stream_heads(conn))
        orgs = org_hashes(conn)
        schemes = scheme_hashes(conn)
        run = latest_run(conn)
    lines = [project_line(p.id, p.head_seq, p.head_hash) for p in heads]
    lines += [f"org {o.id} {o.content_hash}\n" for o in orgs]
    lines += [f"scheme {s.id} {s.content_hash}\n" for s in schemes]
    lines += [] if run is None else [heads_line(run.id, run.digest)]
    return {
        "format": ANCHOR_FORMAT,
        "taken_at": now.astimezone(dt.UTC).isoformat(),
        "count": len(heads),
        "digest": _digest_of(lines),
        "projects": [[p.id, p.code, p.head_seq, p.head_hash] for p in heads],
        "org_versions": [[o.id, o.content_hash] for o in orgs],
        "scheme_versions": [[s.id, s.name, s.version, s.content_hash] for s in schemes],
        "heads": None if run is None else [run.id, run.digest],
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
        run = doc.get("heads")  # anchors taken before verified heads have none
        pinned = None if run is None else (int(run[0]), str(run[1]))
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise UsageError(
            f"{source} is not an audit anchor: {exc}",
            code="audit.not_an_anchor",
            source=source,
            problem=str(exc),
        ) from None
    lines = [project_line(pid, seq, head) for pid, (_, seq, head) in sorted(heads.items())]
    lines += [f"org {i} {h}\n" for i, h in sorted(orgs.items())]
    lines += [f"scheme {i} {h}\n" for i, h in sorted(schemes.items())]
    lines += [] if pinned is None else [heads_line(*pinned)]
    intact = _digest_of(lines) == digest
    return Anchor(digest, doc.get("taken_at"), heads, orgs, schemes, intact, pinned)


def digest_anchor(digest: str) -> Anchor:
    """An anchor known only by its digest: the database must match it exactly."""
    digest = digest.strip().lower()
    if not DIGEST.match(digest):
        raise UsageError(
            f"{digest!r} is not an anchor digest (64 hexadecimal digits)",
            code="audit.not_a_digest",
            digest=digest,
        )
    return Anchor(digest)


def chain_against_anchor(
    anchor: Anchor, head: tuple[str | None, int, str], chain: list[ChainEvent]
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
    if chain[seq - 1].hash != anchored:
        return seq, f"event #{seq} is not the one {when} saw: the history was rewritten"
    return None


def check_anchor(
    anchor: Anchor,
    left: dict[int, tuple[str | None, int, str]] | None,
    schemes: dict[int, SchemeInfo],
    version_lines: list[str],
    digests: set[str],
    runs: dict[int, str],
) -> list[dict[str, Any]]:
    """The problems the anchor shows besides the projects' chains: anchored projects
    that are gone (`left` unmatched), versions changed or gone, the anchored verify run
    gone or changed (`runs`: id → digest now), a digest that matches none of the
    database's (`digests`: with no run, or any run, as the last; for a bare digest) or
    an anchor file whose entries do not hash to its digest."""
    out = []
    when = f"the anchor of {anchor.taken_at}"
    if anchor.projects is None:  # a bare digest: only an unchanged database matches it
        if anchor.digest not in digests:
            out.append(
                other_entry(
                    "anchor",
                    f"the database does not match the anchor digest {anchor.digest[:12]}…: it "
                    "changed since (perhaps only grew: verify against the anchor file to tell)",
                )
            )
        return out
    if not anchor.intact:
        out.append(
            other_entry(
                "anchor",
                f"the anchor's entries do not hash to its digest {anchor.digest[:12]}…: the file "
                "was edited, its heads prove nothing",
            )
        )
    for pid, (code, seq, _) in sorted((left or {}).items()):
        out.append(
            broken_entry(
                None,
                pid,
                seq,
                f"{when} saw project {code or pid} with {seq} events; it is gone (deleted)",
                code=code,
            )
        )
    if anchor.heads is not None and runs.get(anchor.heads[0]) != anchor.heads[1]:
        rid, digest = anchor.heads
        state = "is gone" if rid not in runs else "has another digest"
        out.append(
            other_entry(
                "audit_runs",
                f"{when} saw verify run #{rid} with digest {digest[:12]}…; it {state} (the "
                "verified heads were rewritten)",
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
                other_entry(label, f"{when} saw it with content hash {content[:12]}…; it {state}")
            )
    return out
