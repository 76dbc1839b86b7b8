"""Load scheme and organisation files: YAML → raw data → pydantic model, reporting every
problem at once as ``FILE:LINE:COL: path: message``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
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


def _unencodable(
    node: Any, path: tuple[str | int, ...]
) -> Iterator[tuple[tuple[str | int, ...], str, bool]]:
    """Text no file or database can hold: a lone surrogate such as a YAML "\\ud800"
    escape, or a NUL character."""

    def bad(text: str) -> bool:
        return "\x00" in text or any("\ud800" <= c <= "\udfff" for c in text)

    message = "the text holds a character that cannot be stored (a lone surrogate or NUL)"
    if isinstance(node, str) and bad(node):
        yield path, message, False
    elif isinstance(node, dict):
        for key, value in node.items():
            if isinstance(key, str) and bad(key):
                yield (*path, key), message, True
            else:
                yield from _unencodable(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _unencodable(value, (*path, i))


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
        broken = list(_unencodable(src.data, ()))
        problems.extend(src.problem(path, message, key=key) for path, message, key in broken)
        if not broken:
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
    if not str(path):
        raise error([Problem("<no name>", 1, 1, "", "the file name is empty")])
    try:
        with Path(path).open("rb") as f:
            data = f.read(limits.FILE_BYTES + 1)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise error([Problem(str(path), 1, 1, "", f"cannot read the file: {reason}")]) from exc
    if len(data) > limits.FILE_BYTES:
        message = f"the file is larger than {limits.FILE_BYTES:,} bytes, the limit"
        raise error([Problem(str(path), 1, 1, "", message)])
    try:
        return decode(data)
    except UnicodeError as exc:
        line, column = _position(data, exc)
        raise error([Problem(str(path), line, column, "", str(exc))]) from None


def decode(data: bytes) -> str:
    """Text from a file that should be UTF-8 (a UTF-8 byte-order mark is allowed); a
    UnicodeError that says what the file seems to be instead, so it can be saved again."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _NotUtf8("the file is UTF-16 text; save it as UTF-8", 0)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        found = "Windows-1257 (Baltic)" if _looks_baltic(data) else "not UTF-8"
        raise _NotUtf8(
            f"the file is expected in UTF-8 but seems to be {found}: byte "
            f"0x{data[exc.start]:02x} cannot start a character; save it as UTF-8",
            exc.start,
        ) from None


class _NotUtf8(UnicodeError):
    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


def _looks_baltic(data: bytes) -> bool:
    """Whether the bytes read as Latvian text in Windows-1257 (ā č ē ģ ī ķ ļ ņ š ū ž)."""
    try:
        text = data.decode("cp1257")
    except UnicodeDecodeError:
        return False
    return any(c in text for c in "āčēģīķļņšūžĀČĒĢĪĶĻŅŠŪŽ")


def _position(data: bytes, exc: UnicodeError) -> tuple[int, int]:
    """Line and column (1-based, in bytes) of the offending byte."""
    offset = exc.offset if isinstance(exc, _NotUtf8) else 0
    before = data[:offset]
    return before.count(b"\n") + 1, offset - (before.rfind(b"\n") + 1) + 1


def read_small_text(path: str | Path, what: str) -> str:
    """A small text file a person names (a CSV of yearly flows …): UTF-8, at most
    `limits.FILE_BYTES`; a UsageError that says what is wrong otherwise."""
    from workflow.errors import UsageError

    try:
        with Path(path).open("rb") as f:
            data = f.read(limits.FILE_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"cannot read the {what} {path}: {exc.strerror or exc}") from None
    if len(data) > limits.FILE_BYTES:
        raise UsageError(f"the {what} {path} is larger than {limits.FILE_BYTES:,} bytes")
    try:
        return decode(data)
    except UnicodeError as exc:
        line, column = _position(data, exc)
        raise UsageError(f"{path}:{line}:{column}: {exc}") from None
