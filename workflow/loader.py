"""Load scheme and organisation files: YAML → raw data → pydantic model, reporting every
problem at once as ``FILE:LINE:COL: path: message``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from workflow import limits
from workflow.checks import Finding, check_org, check_scheme
from workflow.errors import InputError, OrgError, Problem, SchemeError
from workflow.org import Organisation
from workflow.scheme import Scheme
from workflow.yamlsource import Source, read

M = TypeVar("M", bound=BaseModel)


def _pydantic_problems(src: Source, exc: ValidationError) -> list[Problem]:
    out: dict[tuple[str, str], Problem] = {}
    for err in exc.errors():
        path: list[str | int] = []
        node: Any = src.data
        # Keep only the parts of pydantic's location that exist in the data (it adds
        # union member names and validator tags), so the path reads like the file.
        for part in err["loc"]:
            if (isinstance(node, dict) and part in node) or (
                isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
            ):
                node = node[part]  # type: ignore[index]
                path.append(part)
            elif part == "[key]":
                break
        key = err["type"] == "extra_forbidden" or err["loc"][-1:] == ("[key]",)
        message = _message(err)
        problem = src.problem(path, message, key=key)
        # A union reports one error per member; keep the first for each place.
        out.setdefault((problem.path, err["type"] if key else ""), problem)
    return list(out.values())


def _message(err: Any) -> str:
    kind, msg = err["type"], err["msg"]
    if kind == "extra_forbidden":
        return f"unknown key {err['loc'][-1]!r}"
    if kind == "missing":
        return f"missing required key {err['loc'][-1]!r}"
    if kind == "string_pattern_mismatch" or (err["loc"][-1:] == ("[key]",)):
        got = err.get("input")
        return (
            f"{got!r} is not a valid name (lower-case letters, digits and _, "
            "starting with a letter)"
        )
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    return (
        f"{msg[:1].lower()}{msg[1:]} (got {err.get('input')!r})"
        if "input" in err and not isinstance(err.get("input"), dict | list)
        else msg[:1].lower() + msg[1:]
    )


def _located(src: Source, findings: list[Finding]) -> list[Problem]:
    return [src.problem(path, message) for path, message in findings]


def _load(
    text: str,
    file: str,
    model: type[M],
    checks: Callable[[Any], list[Finding]],
    error: type[InputError],
) -> M:
    src = read(text, file)
    problems = list(src.problems)
    result: M | None = None
    if not isinstance(src.data, dict):
        # None after a syntax error is already reported; a file of just `~` is not.
        if src.data is not None or not problems:
            problems.append(Problem(file, 1, 1, "", "the file must be a mapping of keys to values"))
    else:
        try:
            result = model.model_validate(src.data)
        except ValidationError as exc:
            problems.extend(_pydantic_problems(src, exc))
        problems.extend(_located(src, checks(src.data)))
    if problems or result is None:
        problems.sort(key=lambda p: (p.line, p.column))
        raise error(problems)
    return result


def load_scheme_text(text: str, file: str = "<scheme>") -> Scheme:
    """A validated scheme from YAML text; raises SchemeError listing every problem."""
    return _load(text, file, Scheme, check_scheme, SchemeError)


def load_scheme(path: str | Path) -> Scheme:
    """A validated scheme from a YAML file."""
    return load_scheme_text(_read_text(path, SchemeError), str(path))


def load_org_text(
    text: str,
    file: str = "<organisation>",
    scheme: Scheme | None = None,
    *,
    roles: dict[str, str] | None = None,
) -> Organisation:
    """A validated organisation from YAML text; role names are checked against `scheme`
    (or against `roles`, role name → level, when several schemes are in use)."""
    if scheme is not None:
        roles = {name: role.level.value for name, role in scheme.roles.items()}
    return _load(text, file, Organisation, lambda d: check_org(d, roles), OrgError)


def load_org(path: str | Path, scheme: Scheme | None = None) -> Organisation:
    """A validated organisation from a YAML file."""
    return load_org_text(_read_text(path, OrgError), str(path), scheme)


def read_text(path: str | Path, kind: str = "scheme") -> str:
    """A file's text, or an InputError naming the file and why it cannot be read."""
    return _read_text(path, SchemeError if kind == "scheme" else OrgError)


def _read_text(path: str | Path, error: type[InputError]) -> str:
    try:
        with Path(path).open("rb") as f:
            data = f.read(limits.FILE_BYTES + 1)
        if len(data) > limits.FILE_BYTES:
            message = f"the file is larger than {limits.FILE_BYTES:,} bytes, the limit"
            raise error([Problem(str(path), 1, 1, "", message)])
        return data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise error([Problem(str(path), 1, 1, "", f"cannot read the file: {reason}")]) from exc
