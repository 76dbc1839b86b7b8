"""Safe YAML reading that remembers where every value came from.

ruamel's constructor stops at the first duplicate key, so the node tree is composed
first, duplicates are collected from it, and plain Python data is built from the nodes
(YAML 1.2 core types: `yes`, `no`, `on`, `off` stay strings), with a map from each data
path to its line and column.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

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
    return value  # str, timestamp (parsed later by pydantic), anything else


def read(text: str, file: str) -> Source:
    """Parse `text`; syntax errors and duplicate keys become located problems."""
    src = Source(file, None)
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
    return src


def _mark(node: Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def _build(node: Node, path: Path, src: Source, active: set[int]) -> Any:
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
