"""Safe YAML reading that remembers where every value came from.

ruamel's constructor stops at the first duplicate key, so the node tree is composed
first, duplicates are collected from it, and plain Python data is built from the nodes
(YAML 1.2 core types: `yes`, `no`, `on`, `off` stay strings), with a map from each data
path to its line and column.

Before anything is composed, the event stream is scanned once (ruamel's parser is a
state machine, so this costs time linear in the text and no recursion): too deep a
nesting, too many aliases or too long a parse stop there with a located problem. While
data is built, aliases are expanded and counted, so a small file of nested aliases (an
expansion bomb) is stopped at `limits.YAML_VALUES` values.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
)
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from workflow import limits
from workflow.errors import Problem

Path = tuple[str | int, ...]


@dataclass
class Source:
    """Data read from a YAML file, with the position of every path in it."""

    file: str
    data: Any
    marks: dict[Path, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[Path, tuple[int, int]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    built: int = 0

    def locate(self, path: Sequence[str | int], *, key: bool = False) -> tuple[int, int]:
        """1-based line and column of the longest known prefix of `path`."""
        p = tuple(path)
        while p:
            if key and p in self.key_marks:
                return self.key_marks[p]
            if p in self.marks:
                return self.marks[p]
            p = p[:-1]
        return (1, 1)

    def problem(
        self, path: Sequence[str | int], message: str, *, key: bool = False, severity: str = "error"
    ) -> Problem:
        line, col = self.locate(path, key=key)
        return Problem(self.file, line, col, format_path(path), message, severity)


def format_path(path: Sequence[str | int]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _scalar(node: ScalarNode) -> Any:
    tag = str(node.tag).rsplit(":", 1)[-1]
    value = node.value
    if tag == "int":
        try:
            return int(value.replace("_", ""), 0)
        except ValueError:
            return value
    if tag == "float":
        try:
            return float(value)
        except ValueError:
            return value
    if tag == "bool":
        return value.lower() == "true"
    if tag == "null":
        return None
    if node.style == ">":
        # The round-trip composer marks where folded text was folded with a BEL (\a)
        # before the space; the text itself is without it.
        return value.replace("\a", "")
    return value  # str, timestamp (parsed later by pydantic), anything else


class _TooMany(Exception):
    """Raised inside `_build` when the expanded data passes `limits.YAML_VALUES`."""

    def __init__(self, node: Node) -> None:
        self.node = node


def _scan(text: str, file: str, *, clock: Callable[[], float] = time.monotonic) -> Problem | None:
    """The first bound the text passes (size, depth, aliases, parse time), else None.
    Syntax errors are left to the composer, which locates them better."""
    size = len(text.encode("utf-8"))
    if size > limits.FILE_BYTES:
        return Problem(
            file, 1, 1, "", f"the file is {size:,} bytes; at most {limits.FILE_BYTES:,} are read"
        )
    depth = aliases = 0
    started = clock()
    try:
        for n, event in enumerate(YAML(typ="rt", pure=True).parse(text)):
            mark = event.start_mark
            line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            if isinstance(event, CollectionStartEvent):
                depth += 1
                if depth > limits.YAML_DEPTH:
                    return Problem(
                        file, line, col, "", f"nested more than {limits.YAML_DEPTH} levels deep"
                    )
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
            elif isinstance(event, AliasEvent):
                aliases += 1
                if aliases > limits.YAML_ALIASES:
                    return Problem(
                        file, line, col, "", f"more than {limits.YAML_ALIASES} aliases (*name)"
                    )
            if n % 1024 == 0 and clock() - started > limits.PARSE_SECONDS:
                return Problem(
                    file,
                    line,
                    col,
                    "",
                    f"reading took longer than {limits.PARSE_SECONDS:g} seconds",
                )
    except YAMLError:
        return None
    return None


def read(text: str, file: str) -> Source:
    """Parse `text`; syntax errors, duplicate keys and passed bounds become located
    problems (see the module docstring for the bounds)."""
    src = Source(file, None)
    bound = _scan(text, file)
    if bound is not None:
        src.problems.append(bound)
        return src
    try:
        root = YAML(typ="rt", pure=True).compose(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        msg = " ".join(str(m) for m in (exc.context, exc.problem) if m) or "invalid YAML"
        src.problems.append(Problem(file, line, col, "", f"YAML syntax: {msg}"))
        return src
    except YAMLError as exc:  # pragma: no cover - unmarked errors are rare
        src.problems.append(Problem(file, 1, 1, "", f"YAML syntax: {exc}"))
        return src
    except RecursionError:
        src.problems.append(Problem(file, 1, 1, "", "YAML nested too deeply"))
        return src
    if root is None:
        src.data = {}
        return src
    try:
        src.data = _build(root, (), src, set())
    except RecursionError:
        src.problems.append(Problem(file, 1, 1, "", "YAML nested too deeply"))
    except _TooMany as exc:
        src.data = None
        message = f"aliases expand to more than {limits.YAML_VALUES:,} values"
        src.problems.append(Problem(file, *_mark(exc.node), "", message))
    return src


def _mark(node: Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def _build(node: Node, path: Path, src: Source, active: set[int]) -> Any:
    src.built += 1
    if src.built > limits.YAML_VALUES:
        raise _TooMany(node)
    if id(node) in active:  # a recursive alias
        src.problems.append(Problem(src.file, *_mark(node), format_path(path), "recursive alias"))
        return None
    if isinstance(node, ScalarNode):
        return _scalar(node)
    active = active | {id(node)}
    if isinstance(node, SequenceNode):
        out_list = []
        for i, item in enumerate(node.value):
            src.marks[(*path, i)] = _mark(item)
            out_list.append(_build(item, (*path, i), src, active))
        return out_list
    if isinstance(node, MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = (
                _build(key_node, path, src, active)
                if not isinstance(key_node, ScalarNode)
                else _scalar(key_node)
            )
            if not isinstance(key, str | int | bool) or key is None:
                src.problems.append(
                    Problem(src.file, *_mark(key_node), format_path(path), "keys must be plain")
                )
                continue
            key = str(key) if not isinstance(key, str) else key
            child = (*path, key)
            if key in out:
                line, _ = src.key_marks.get(child, (0, 0))
                src.problems.append(
                    Problem(
                        src.file,
                        *_mark(key_node),
                        format_path(child),
                        f"duplicate key {key!r} (first defined at line {line})",
                    )
                )
                continue
            src.key_marks[child] = _mark(key_node)
            # Point at the value when it sits on the key's line, else at the key.
            inline = isinstance(value_node, ScalarNode) or getattr(value_node, "flow_style", False)
            src.marks[child] = _mark(value_node) if inline else _mark(key_node)
            out[key] = _build(value_node, child, src, active)
        return out
    return None  # pragma: no cover
